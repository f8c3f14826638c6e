"""Turn clear-text identifiers into keyed pseudonyms and fuzzy-comparable encodings.

This is the only place where names, birth dates and ids exist in clear text; what
leaves it is keyed (HMAC-SHA256 with the secret key) so that nobody without the key
can recompute a pseudonym from a guessed name. Work is done once per distinct value,
not per row: a delivery of a million rows has far fewer distinct names.

Names are normalised before encoding so that spelling variants of the same name
from different agencies produce the same or similar encodings:
case, diacritics and ß, punctuation and hyphens, Arabic particles (al-, el-, ...),
and known transliteration families (Mohammed / Muhammad / Mohamad -> muhammad).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from pipelines.ingest.keys import PseudonymKey

HASH_HEX_CHARS = 32  # 128 bits: collisions are negligible at any city's or state's size
BLOOM_BITS = 256
BLOOM_HASHES = 4
_NO_BITS = b"0" * BLOOM_BITS
_ONE = ord("1")

# Particles that one agency writes and another drops ("Al-Hassan" / "Hassan").
NAME_PARTICLES = frozenset({"al", "el", "ul", "bin", "ben", "ibn", "bint", "von", "van", "de", "da"})

# Transliteration families: every spelling maps to one canonical form. Kept short and
# linguistic (Arabic, Persian, Tigrinya, Kurdish names in German registers), not tuned to data.
TRANSLITERATION_FAMILIES: dict[str, tuple[str, ...]] = {
    "muhammad": ("mohammed", "mohammad", "mohamad", "mohamed", "muhammed", "mohamed", "muhamed", "mohammet",
                 "mehmet", "mohamad", "mahomed"),
    "ahmad": ("ahmed", "achmed", "ahmet", "achmad"),
    "husain": ("hussein", "hussain", "husein", "hossein", "hosein", "hussin", "husayn"),
    "hasan": ("hassan", "hasan", "hasen", "hassen"),
    "abdullah": ("abdallah", "abdulla", "abdalla", "abdollah"),
    "yusuf": ("youssef", "yousef", "yousif", "yusef", "jusuf", "youssouf", "yussuf"),
    "umar": ("omar", "omer", "umer"),
    "khalid": ("khaled", "chalid", "haled", "khalet"),
    "mahmud": ("mahmoud", "machmud", "mahmood"),
    "mustafa": ("mostafa", "moustafa", "mustapha", "mostapha"),
    "fatima": ("fatma", "fatme", "fatimah", "fatemeh"),
    "aisha": ("aischa", "ayesha", "aysha", "aicha", "ayscha"),
    "zainab": ("zeinab", "zaynab", "zeynab", "sainab"),
    "ali": ("aly",),
    "ibrahim": ("ebrahim", "ibraheem", "ibrahem"),
    "yasin": ("yassin", "yaseen", "jassin", "jasin"),
    "karim": ("kareem", "carim"),
    "said": ("saeed", "saaid", "sayed", "sayyid"),
    "walid": ("waleed", "ualid"),
    "nur": ("noor", "nour"),
    "jusra": ("yusra", "yosra", "yousra"),
    "marjam": ("maryam", "mariam", "marjan"),
    "muhammadi": ("mohammadi", "mohamadi"),
    "rahman": ("rahmann", "rachman"),
    "sulaiman": ("suleiman", "soleiman", "sulejman", "suleyman"),
}
_CANONICAL = {variant: canon for canon, variants in TRANSLITERATION_FAMILIES.items() for variant in variants}

_GERMAN_FOLDS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NON_LETTERS = re.compile(r"[^a-z ]+")


def normalise_name(value: str) -> str:
    """Lower-case, ASCII, particles dropped, transliteration families merged; tokens kept in order."""
    text = value.strip().lower().translate(_GERMAN_FOLDS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _NON_LETTERS.sub(" ", text.replace("-", " ").replace("'", ""))
    tokens = [_strip_glued_particle(t) for t in text.split() if t not in NAME_PARTICLES]
    normalised = " ".join(_CANONICAL.get(t, t) for t in tokens)
    if normalised:
        return normalised
    # Nothing Latin is left (a name in Arabic script, or only particles): keep the name itself,
    # case-folded, so that it is still encoded rather than lost.
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


_KNOWN_NAMES = frozenset(_CANONICAL) | frozenset(TRANSLITERATION_FAMILIES)


def _strip_glued_particle(token: str) -> str:
    """'alhassan' -> 'hassan', but only when the rest is a known name ('alexander' stays)."""
    if token[:2] in ("al", "el") and token[2:] in _KNOWN_NAMES:
        return token[2:]
    return token


# Spelling equivalences of transliterating Arabic, Persian, Kurdish and Tigrinya names into
# German or English (Hadschi / Haji, Khaled / Chalid, Leila / Layla, Yousef / Yusuf). Applied, in
# this order, to the phonetic code and the Bloom filter, not to the exact hash.
_FOLDS: tuple[tuple[str, str], ...] = (
    ("dsch", "j"), ("tsch", "ch"), ("sch", "sh"), ("dj", "j"), ("zh", "j"),
    ("kh", "h"), ("ch", "h"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("ph", "f"), ("ck", "k"), ("q", "k"),
    ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ie", "i"), ("y", "i"), ("w", "v"), ("z", "s"),
    ("o", "u"), ("e", "a"),
)
_DOUBLED = re.compile(r"(.)\1+")


def fold_transliteration(normalised: str) -> str:
    """A coarser form of a normalised name in which transliteration variants coincide more often."""
    folded = []
    for token in normalised.split():
        # a glued article ("alrashed") is dropped when enough of the name remains
        if token[:2] in ("al", "el") and len(token) >= 6:
            token = token[2:]
        for old, new in _FOLDS:
            token = token.replace(old, new)
        folded.append(_DOUBLED.sub(r"\1", token))
    return " ".join(folded)


# Cologne phonetics (Kölner Phonetik), the phonetic code German registers use.
def cologne_phonetic(name: str) -> str:
    """Cologne phonetic code of an already-normalised (ASCII, lower-case) name."""
    word = name.replace(" ", "")
    codes: list[str] = []
    for i, ch in enumerate(word):
        prev = word[i - 1] if i > 0 else ""
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if ch in "aeijouy":
            code = "0"
        elif ch == "h":
            code = ""
        elif ch == "b":
            code = "1"
        elif ch == "p":
            code = "3" if nxt == "h" else "1"
        elif ch in "dt":
            code = "8" if nxt in "csz" else "2"
        elif ch in "fvw":
            code = "3"
        elif ch in "gkq":
            code = "4"
        elif ch == "c":
            if i == 0:
                code = "4" if nxt in "ahkloqrux" else "8"
            else:
                code = "8" if prev in "sz" or nxt not in "ahkoqux" else "4"
        elif ch == "x":
            code = "8" if prev in "ckq" else "48"
        elif ch == "l":
            code = "5"
        elif ch in "mn":
            code = "6"
        elif ch == "r":
            code = "7"
        elif ch in "sz":
            code = "8"
        else:
            code = ""
        codes.append(code)
    collapsed: list[str] = []
    for code in "".join(codes):
        if not collapsed or collapsed[-1] != code:
            collapsed.append(code)
    result = "".join(collapsed)
    return result[0] + result[1:].replace("0", "") if result else ""


class Encoder:
    """Keyed encodings of identifying values, computed once per distinct value.

    One encoder serves a whole ingest run: names, AZR numbers and record ids recur in every monthly
    delivery, so their encodings are remembered across files (in memory only, for the run's lifetime)
    instead of being computed again for each of a month's files.
    """

    def __init__(self, key: PseudonymKey) -> None:
        self._secret = key.secret
        self.key_id = key.key_id
        self._bloom_positions: dict[str, tuple[int, ...]] = {}
        self._memo: dict[str, dict[str, str | None]] = {}

    def hmac_hex(self, domain: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{domain}|{value}".encode(), hashlib.sha256).hexdigest()
        return digest[:HASH_HEX_CHARS]

    def _per_distinct(self, values: pd.Series, fn: Callable[[str], Any], memo: str | None = None) -> pd.Series:
        """Apply ``fn`` to each distinct non-empty value; empty or missing values stay null.

        ``memo`` names a cache of ``fn``'s results kept for the encoder's lifetime (for values that recur
        from file to file; one-off values such as event ids are not worth remembering).
        """
        text = values.astype("string")
        codes, distinct = pd.factorize(text.where(text.str.strip().fillna("") != ""))
        if memo is None:
            results = [fn(v) for v in distinct]
        else:
            known = self._memo.setdefault(memo, {})
            results = [known[v] if v in known else known.setdefault(v, fn(v)) for v in distinct]
        table = np.empty(len(results) + 1, dtype=object)  # the last slot (code -1) is the null
        table[: len(results)] = results
        table[-1] = None
        return pd.Series(table[codes], index=values.index, dtype=object)

    def pseudonym(self, values: pd.Series, domain: str, remember: bool = False) -> pd.Series:
        """Keyed HMAC of each value in a namespace (``domain``), null for empty values.

        ``remember``: keep the results for later files of the run (for ids that recur month by month).
        """
        return self._per_distinct(values, lambda v: self.hmac_hex(domain, v.strip()),
                                  memo=f"hmac|{domain}" if remember else None)

    def name_encodings(self, values: pd.Series, prefix: str, first_token_only: bool) -> pd.DataFrame:
        """Hash, phonetic hash and Bloom filter of a name column.

        ``first_token_only`` is used for given names: agencies drop middle names, so the
        exact and phonetic codes use the first given name, the Bloom filter all of them.
        """
        def encode(raw: str) -> tuple[str | None, str | None, str | None]:
            normalised = normalise_name(raw)
            if not normalised:
                return None, None, None
            keyed = normalised.split()[0] if first_token_only else normalised.replace(" ", "")
            # One hash namespace for family and given names, so that linkage can see a swap
            # (family name in one register = given name in another).
            return (self.hmac_hex("name", keyed), self._phonetic(fold_transliteration(keyed)),
                    self.bloom(fold_transliteration(normalised)))

        encoded = self._per_distinct(values, encode, memo=f"name-encodings|{first_token_only}")
        present = encoded.notna().to_numpy()
        columns = {}
        for position, suffix in enumerate(("hash", "phonetic", "bloom")):
            column = np.full(len(encoded), None, dtype=object)
            column[present] = [codes[position] for codes in encoded.to_numpy()[present]]
            columns[f"{prefix}_{suffix}"] = pd.Series(column, index=values.index, dtype=object)
        return pd.DataFrame(columns, index=values.index)

    def _phonetic(self, normalised: str) -> str | None:
        code = cologne_phonetic(normalised)
        # A name with no Latin letters has no code; an empty code must not make all such names agree.
        return self.hmac_hex("name-phonetic", code) if code else None

    def digits_bloom(self, values: pd.Series) -> pd.Series:
        """Keyed Bloom filter of a number's digits at their positions ("3:7" = digit 7 at position 3).

        A mistyped digit changes one token of twelve, so the filters of the true and the mistyped
        AZR number stay similar (Dice ~0.9) while unrelated numbers share about a tenth of tokens.
        """
        return self._per_distinct(values, lambda v: self._bloom_of(f"{i}:{d}" for i, d in enumerate(v)),
                                  memo="digits_bloom")

    def bloom(self, normalised: str) -> str:
        """Keyed Bloom filter of the name's bigrams, as a '0'/'1' string DuckDB casts to BIT.

        Dice similarity of two filters approximates the bigram similarity of the names
        without revealing them (Schnell et al. 2009, privacy-preserving record linkage).
        """
        return self._bloom_of(_bigrams(normalised))

    def _bloom_of(self, tokens: Iterable[str]) -> str:
        # Set bytes of a '0' string directly: building it bit by bit from an array cost 25 us a value,
        # and a million persons' deliveries have over a million distinct names and AZR numbers.
        bits = bytearray(_NO_BITS)
        for token in tokens:
            for position in self._positions(token):
                bits[position] = _ONE
        return bits.decode("ascii")

    def _positions(self, gram: str) -> tuple[int, ...]:
        cached = self._bloom_positions.get(gram)
        if cached is None:
            digest = hmac.new(self._secret, f"bloom|{gram}".encode(), hashlib.sha256).digest()
            cached = tuple(int.from_bytes(digest[2 * i : 2 * i + 2], "big") % BLOOM_BITS
                           for i in range(BLOOM_HASHES))
            self._bloom_positions[gram] = cached
        return cached


_UNKNOWN = object()


def _bigrams(normalised: str) -> Iterable[str]:
    padded = f"_{normalised.replace(' ', '_')}_"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}
