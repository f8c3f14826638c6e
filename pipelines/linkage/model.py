"""The probabilistic linkage model (Splink) over pseudonymised identity encodings.

Every comparison works on what ingestion stored: keyed hashes (exact agreement),
keyed phonetic codes, and keyed Bloom filters of name bigrams compared by Dice
similarity. No clear text is ever available here. Placeholder birth dates carry no
day, so two placeholder dates agree on the year only, never on the full date.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

from pipelines.ingest.encodings import BLOOM_BITS

MODEL_NAME = "identity-v1"
MATCH_THRESHOLD = 0.5  # posterior probability from which a pair is linked: more likely a match than not
# Pairs between these probabilities go to clerical review; pairs below REVIEW_FLOOR are not even kept.
REVIEW_BAND = (0.2, 0.9)
REVIEW_FLOOR = 0.01
# A family name is "frequent" when more than 1 in FREQUENT_NAME_SHARE records carry it.
FREQUENT_NAME_SHARE = 1 / 1000


# Blocking keys that stay small as the population grows. A key (base columns) whose block holds more than
# BLOCK_LIMIT identity records is refined by the next column of its refinements, and so on: the pairs of a
# small block are all compared; in a large block (a frequent name in a frequent birth year), only records
# that also agree on sex, nationality, city, district... Without this, the pairs of a block grow with the
# square of the population: at 1,000,000 persons the name-and-year blocks alone would hold billions.
# 25, not 100: at 1,000,000 persons the same F1 against the synthetic truth (0.9860 against 0.9855) in 56 % of
# Splink's time; measured with bench/block_limit.py (docs/linkage.md, "The limit, measured where blocks are large").
BLOCK_LIMIT = 25
_REFINE = ("sex", "nationality", "city", "district")
# The last refinement of each name key applies only where a district's block is still too large (a frequent
# name and birth year in one district: at 1,000,000 persons 337 records; same names, sex and district: 607).
# Such blocks held 71 % of the pairs at 1,000,000 persons (counted per rule). There a name-code key also needs
# the other name's code, the names key the birth year (a mistyped year in such a block is no longer a
# candidate by this rule), a crossed key the birth date. The birth-date key needs no more: its blocks stay
# small. Measured with bench/block_limit.py (docs/linkage.md, "The last refinement").
BLOCK_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "block_family": (("family_name_phonetic", "birth_year"), (*_REFINE, "given_name_phonetic")),
    "block_given": (("given_name_phonetic", "birth_year"), (*_REFINE, "family_name_phonetic")),
    "block_birth_date": (("birth_date_hash", "sex"), _REFINE[1:]),
    "block_names": (("family_name_hash", "given_name_hash", "sex"), (*_REFINE[1:], "birth_year")),
}


# Crossed name keys: a family name (phonetic code) that reappears as the other record's given name, in the
# same birth year. Swapped names often come with a transliteration that changes the other name's code, so a
# rule needing both codes crossed misses them. Family and given codes are keyed in one namespace, and a
# block counts both roles, so that both sides of a pair get the same refinement.
CROSSED_KEYS = ("block_token_family", "block_token_given")
_CROSSED = (("name_token", "birth_year"), (*_REFINE, "birth_date_hash"))


# The columns of an identity record the key SQL below reads (the crossed keys' name token is either name's
# phonetic code), derived from the keys so that a column added to a key is read too.
KEY_SOURCE_COLUMNS = tuple(dict.fromkeys([
    "identity_id", "family_name_phonetic", "given_name_phonetic",
    *(c for base, refinements in BLOCK_KEYS.values() for c in base + refinements),
    *(c for c in _CROSSED[0] + _CROSSED[1] if c != "name_token"),
]))


def block_keys_sql(limit: int = BLOCK_LIMIT) -> str:
    """SQL over table ``identities``: ``identity_id`` and the keys of BLOCK_KEYS."""
    return _adaptive_keys_sql("identities", ("identity_id",), BLOCK_KEYS, limit)


def crossed_keys_sql(limit: int = BLOCK_LIMIT) -> str:
    """SQL over table ``identities``: ``identity_id`` and the two CROSSED_KEYS."""
    others = ", ".join(_CROSSED[0][1:] + _CROSSED[1])  # every key column but the name token
    tokens = f"""(select identity_id, 'family' as role, family_name_phonetic as name_token, {others} from identities
        union all
        select identity_id, 'given' as role, given_name_phonetic as name_token, {others} from identities)"""
    crossed = _adaptive_keys_sql(tokens, ("identity_id", "role"), {"name_key": _CROSSED}, limit)
    return f"""select identity_id, max(name_key) filter (where role = 'family') as {CROSSED_KEYS[0]},
                      max(name_key) filter (where role = 'given') as {CROSSED_KEYS[1]}
               from ({crossed}) group by identity_id"""


def _adaptive_keys_sql(source: str, ids: tuple[str, ...], keys: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
                       limit: int) -> str:
    """SQL over ``source``: ``ids`` and one adaptive key per entry of ``keys`` (name: base, refinements).

    A key is null when a base column is; else '<level>|<values>' at the first level whose block holds at most
    ``limit`` rows, or at the last level. A block's size is counted by grouping on a 64-bit hash of its
    columns and joined back; the key's text is built once, for the level chosen. At 1,000,000 persons the
    keys took about 21 s as windows (``count(*) over (partition by ...)``, one per level), 11 s grouped on
    every level's text, 5.4 s grouped on hashes. Two blocks whose hashes collide are counted as one, which
    can only refine them further.
    """
    selects, counts, joins, cases = [], [], [], []
    for name, (base, refinements) in keys.items():
        levels = [base + refinements[:i] for i in range(len(refinements) + 1)]
        null_base = " or ".join(f"{c} is null" for c in base)
        selects.append(f"{null_base} as {name}_null")
        for i, columns in enumerate(levels[:-1]):
            selects.append(f"hash({', '.join(columns)}) as {name}_h{i}")
            counts.append(f"{name}_n{i} as (select {name}_h{i}, count(*) as {name}_size{i} from levels "
                          f"where not {name}_null group by all)")
            joins.append(f"left join {name}_n{i} using ({name}_h{i})")
        texts = [_key_text(i, columns) for i, columns in enumerate(levels)]
        whens = " ".join(f"when {name}_size{i} <= {limit} then {texts[i]}" for i in range(len(levels) - 1))
        cases.append(f"case when {name}_null then null {whens} else {texts[-1]} end as {name}")
    columns = dict.fromkeys(c for base, refinements in keys.values() for c in base + refinements)
    return (f"with levels as (select {', '.join(ids)}, {', '.join(columns)}, {', '.join(selects)} from {source}), "
            f"{', '.join(counts)} select {', '.join(ids)}, {', '.join(cases)} from levels {' '.join(joins)}")


def _key_text(level: int, columns: tuple[str, ...]) -> str:
    """A key's text at a level: '<level>|<value>|...', a null value as '~' (so that it still blocks)."""
    values = ", ".join(f"coalesce({c}::varchar, '~')" for c in columns)
    return f"concat_ws('|', '{level}', {values})"


# Bloom filters are compared as 64-bit words with their bit counts precomputed per record (``bloom_words_sql``):
# ``bit_count`` over BIT strings allocates a new string for every ``&``, and the name comparison computes up to
# ten Dice similarities for every pair it scores. On integer words the same similarity costs about a seventh.
BLOOM_COLUMNS = ("family_name_bloom", "given_name_bloom", "azr_bloom")
BLOOM_WORDS = BLOOM_BITS // 64


if BLOOM_BITS % 64:  # not an assert: it must hold also under python -O
    raise ValueError("bloom_words_sql slices the filters' bytes into whole 64-bit words")


def bloom_words_sql(column: str) -> str:
    """Select expressions over a Bloom filter (BIT): its 64-bit words and its number of set bits.

    A word is 8 bytes of the filter's BLOB, read as BIT and cast: the same value as parsing 64 characters of
    its '0101...' text, in under half the time (at 1,000,000 persons 1.5-1.7 s against 3.6-3.8 s for the
    three filters' words, measured on the month's identity records of the bench).
    """
    words = [f"({column}::blob)[{8 * i + 1}:{8 * i + 8}]::bit::ubigint as {column}_w{i}" for i in range(BLOOM_WORDS)]
    return ", ".join([*words, f"bit_count({column})::integer as {column}_ones"])


def dice(left: str, right: str | None = None) -> str:
    """Dice similarity of two Bloom filters in DuckDB SQL: ``left_l`` with ``right_r`` (default: the same column).

    2 |a & b| / (|a| + |b|), over the words and bit counts of ``bloom_words_sql``; the same value as
    ``2.0 * bit_count(a & b) / nullif(bit_count(a) + bit_count(b), 0)`` on the BIT columns, and null when
    either filter is.
    """
    right = right or left
    common = " + ".join(f"bit_count({left}_w{i}_l & {right}_w{i}_r)::integer" for i in range(BLOOM_WORDS))
    return f"(2.0 * ({common}) / nullif({left}_ones_l + {right}_ones_r, 0))"


def _name_comparison() -> cl.CustomComparison:
    fam_l, fam_r, giv_l, giv_r = ("family_name_hash_l", "family_name_hash_r", "given_name_hash_l",
                                  "given_name_hash_r")
    fam_agrees = f"({fam_l} = {fam_r} or family_name_phonetic_l = family_name_phonetic_r)"
    giv_agrees = f"({giv_l} = {giv_r} or given_name_phonetic_l = given_name_phonetic_r)"
    fam_giv_agrees = f"({fam_l} = {giv_r} or family_name_phonetic_l = given_name_phonetic_r)"
    giv_fam_agrees = f"({giv_l} = {fam_r} or given_name_phonetic_l = family_name_phonetic_r)"
    fam_sim, giv_sim = dice("family_name_bloom"), dice("given_name_bloom")
    fam_giv_sim, giv_fam_sim = dice("family_name_bloom", "given_name_bloom"), dice("given_name_bloom",
                                                                                   "family_name_bloom")
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="Family and given name: exact, swapped, phonetic, Bloom-filter similarity",
        comparison_levels=[
            cll.CustomLevel(f"{fam_l} is null or {fam_r} is null", "null").configure(is_null_level=True),
            # Frequent names (Mohammed Ahmad) agree by chance more often than rare ones, so agreement
            # on a rare family name is its own level and EM gives it its own, higher weight.
            cll.CustomLevel(f"{fam_l} = {fam_r} and {giv_l} = {giv_r} and not family_name_frequent_l",
                            "both names exact, rare family name"),
            cll.CustomLevel(f"{fam_l} = {fam_r} and {giv_l} = {giv_r}", "both names exact"),
            cll.CustomLevel(f"{fam_l} = {giv_r} and {giv_l} = {fam_r}", "names swapped, exact"),
            cll.CustomLevel(f"{fam_agrees} and {giv_agrees} and not family_name_frequent_l",
                            "both names phonetic, rare family name"),
            cll.CustomLevel(f"{fam_agrees} and {giv_agrees}", "both names phonetic"),
            cll.CustomLevel(f"{fam_giv_agrees} and {giv_fam_agrees}", "names swapped, phonetic"),
            cll.CustomLevel(f"({fam_agrees} and {giv_sim} >= 0.5) or ({giv_agrees} and {fam_sim} >= 0.5) or "
                            f"({fam_giv_agrees} and {giv_fam_sim} >= 0.5) or "
                            f"({giv_fam_agrees} and {fam_giv_sim} >= 0.5)",
                            "one name agrees, the other similar (straight or swapped)"),
            cll.CustomLevel(f"({fam_sim} >= 0.7 and {giv_sim} >= 0.7) or "
                            f"({fam_giv_sim} >= 0.7 and {giv_fam_sim} >= 0.7)",
                            "both names similar (Dice >= 0.7, straight or swapped)"),
            cll.CustomLevel(fam_agrees, "family name agrees, given name differs"),
            cll.CustomLevel(giv_agrees, "given name agrees, family name differs"),
            cll.CustomLevel(f"{fam_sim} >= 0.6 or {fam_giv_sim} >= 0.75", "family name somewhat similar"),
            cll.ElseLevel(),
        ],
    )


def _azr_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="azr",
        comparison_description="AZR number: same, nearly the same (a digit mistyped), different",
        comparison_levels=[
            cll.CustomLevel("azr_hash_l is null or azr_hash_r is null", "null").configure(is_null_level=True),
            cll.CustomLevel("azr_hash_l = azr_hash_r", "same AZR number"),
            cll.CustomLevel(f"{dice('azr_bloom')} >= 0.8", "AZR numbers differ in a digit or two"),
            cll.CustomLevel("azr_is_register_l and azr_is_register_r", "different AZR numbers, both from the register"),
            cll.ElseLevel(),
        ],
    )


def _birth_date_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="Birth date; a placeholder date (day unknown) agrees on the year only",
        comparison_levels=[
            cll.CustomLevel("birth_year_l is null or birth_year_r is null", "null").configure(is_null_level=True),
            cll.CustomLevel("birth_date_hash_l = birth_date_hash_r", "full date exact"),
            cll.CustomLevel("birth_year_l = birth_year_r and (birth_date_hash_l is null or birth_date_hash_r is null)",
                            "same year, day unknown on one side"),
            cll.CustomLevel("birth_year_l = birth_year_r", "same year, different day"),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", "year differs by one"),
            cll.ElseLevel(),
        ],
    )


def _location_comparison() -> cl.CustomComparison:
    # People move between neighbouring cities, so a different city lowers the weight, it does not veto.
    return cl.CustomComparison(
        output_column_name="location",
        comparison_description="Where the record was kept: same district, same city, other city",
        comparison_levels=[
            cll.CustomLevel("city_l is null or city_r is null", "null").configure(is_null_level=True),
            cll.CustomLevel("city_l = city_r and district_l = district_r", "same district"),
            cll.CustomLevel("city_l = city_r", "same city"),
            cll.ElseLevel(),
        ],
    )


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="identity_id",
        probability_two_random_records_match=1e-4,
        comparisons=[
            _name_comparison(),
            _birth_date_comparison(),
            _azr_comparison(),
            cl.ExactMatch("sex"),
            cl.ExactMatch("nationality"),
            _location_comparison(),
        ],
        # Each rule's key is refined where its block would be too large (see BLOCK_KEYS).
        blocking_rules_to_generate_predictions=[
            block_on("block_family"),
            block_on("block_given"),
            # swapped names, one of them possibly transliterated otherwise (both directions: Splink compares
            # each pair once, in one orientation)
            f"l.{CROSSED_KEYS[0]} = r.{CROSSED_KEYS[1]}",
            f"l.{CROSSED_KEYS[1]} = r.{CROSSED_KEYS[0]}",
            block_on("azr_hash"),
            block_on("block_birth_date"),
            # catches a mistyped birth year
            block_on("block_names"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["agency", "record_ref", "family_name_frequent", "azr_is_register"],
    )


# EM blocks: each estimates the comparisons it does not fix. Both are nearly pure in matches
# (same AZR number; same names and full birth date), so common-but-different name pairs, of
# which a large city has many, cannot pull the birth-date and name parameters towards them.
TRAINING_BLOCKS = [block_on("azr_hash"), block_on("family_name_hash", "given_name_hash", "birth_date_hash")]
DETERMINISTIC_RULES = [
    block_on("azr_hash"),
    block_on("family_name_hash", "given_name_hash", "birth_date_hash"),
]
