"""Name families with their transliteration variants, and the name errors agencies make.

A *family* is one name as its bearer would write it in Arabic, Dari, Tigrinya,
Kurdish or Cyrillic, together with the Latin spellings German offices produce for
it (Mohammed / Muhammad / Mohamad ...). A person carries a family and the spelling
of their documents; each agency may write another spelling of the same family.
Linkage has to recognise those spellings as one name, which is why they are
modelled as families rather than as unrelated strings.

Every spelling must be encodable in Windows-1252 (the immigration office's file
encoding), so Romanian and Turkish letters outside it are written the way German
offices type them (s for ş, t for ţ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# --- name families: canonical spelling first, then the variants offices produce ---
_FAMILIES: tuple[tuple[str, ...], ...] = (
    # Arabic given names (male)
    ("Mohammed", "Muhammad", "Mohamad", "Mohamed", "Mohammad", "Muhammed"),
    ("Ahmad", "Ahmed", "Achmed"),
    ("Hussein", "Husain", "Hussain", "Hüseyin"),
    ("Ali", "Aly"),
    ("Omar", "Umar", "Omer"),
    ("Khaled", "Khalid", "Chaled"),
    ("Mahmoud", "Mahmud", "Machmud"),
    ("Mustafa", "Mostafa", "Moustafa"),
    ("Yusuf", "Youssef", "Yousef", "Jussuf"),
    ("Abdullah", "Abdallah", "Abdulla"),
    ("Ibrahim", "Ebrahim", "Ibraheem"),
    ("Hassan", "Hasan"),
    ("Karim", "Kareem"),
    ("Samir", "Sameer"),
    ("Walid", "Waleed"),
    ("Tarek", "Tariq", "Tarik"),
    ("Jamal", "Gamal", "Djamal"),
    ("Bashar", "Bachar"),
    ("Rami", "Ramy"),
    ("Firas", "Feras"),
    ("Ammar", "Amar"),
    ("Abdulrahman", "Abdul Rahman", "Abdelrahman", "Abdalrahman"),
    ("Osama", "Usama", "Ussama"),
    ("Yasin", "Yassin", "Yaseen"),
    ("Bilal", "Belal"),
    ("Majid", "Majed", "Madschid"),
    ("Hamza", "Hamzah"),
    ("Mazen", "Mazin"),
    ("Fadi", "Fady"),
    ("Rashid", "Rachid", "Raschid"),
    ("Ayman", "Aiman", "Eiman"),
    ("Anas",),
    # Arabic given names (female)
    ("Fatima", "Fatma", "Fatemeh", "Fatime"),
    ("Aisha", "Aischa", "Aicha", "Ayesha"),
    ("Zainab", "Zeinab", "Zaynab"),
    ("Maryam", "Mariam", "Meryem"),
    ("Nour", "Noor", "Nur"),
    ("Hiba", "Heba"),
    ("Huda", "Hoda"),
    ("Rasha", "Rascha"),
    ("Yasmin", "Jasmin", "Yasmine"),
    ("Layla", "Leila", "Laila"),
    ("Samira", "Sameera"),
    ("Khadija", "Khadidja", "Chadija"),
    ("Asma", "Asmaa"),
    ("Ruqaya", "Rukaya", "Roukaya"),
    ("Shaima", "Schaima", "Shaimaa"),
    ("Alaa", "Ala"),
    ("Reem", "Rim"),
    ("Amal",),
    ("Rana",),
    # Arabic family names
    ("Al-Hassan", "Alhassan", "El Hasan", "Al Hassan"),
    ("Al-Ahmad", "Alahmad", "Al Ahmed", "El Ahmad"),
    ("Al-Ali", "Alali", "El Ali"),
    ("Al-Khalil", "Alkhalil", "El Khalil"),
    ("Al-Hussein", "Alhussein", "Al Husain"),
    ("Al-Mohammad", "Almohamad", "Al Mohammed"),
    ("Al-Jasim", "Aljasem", "Al Jassim"),
    ("Al-Rashid", "Alrashed", "Al Raschid"),
    ("Haddad", "Hadad"),
    ("Khoury", "Khouri", "Churi"),
    ("Hamdan",),
    ("Othman", "Osman", "Usman", "Uthman"),
    ("Saleh", "Salih"),
    ("Kassem", "Qasim", "Qassem", "Kasim"),
    ("Darwish", "Darwisch", "Derwisch"),
    ("Najjar", "Nadjar", "Al-Najjar"),
    ("Shaheen", "Shahin", "Schahin"),
    ("Mansour", "Mansur"),
    ("Nasser", "Nasir", "Naser"),
    ("Hamoud", "Hammoud", "Hamud"),
    ("Jaber", "Jabir", "Dschaber"),
    ("Suleiman", "Sulaiman", "Soliman", "Süleyman"),
    ("Khalaf", "Chalaf"),
    ("Abbas", "Abas"),
    ("Hamadeh", "Hamade", "Hamada"),
    # Arabic Christian names (a fifth of Syrian refugees are Christian)
    ("George", "Georges", "Jurj"),
    ("Elias", "Ilyas", "Elyas"),
    ("Boutros", "Butros"),
    ("Hanna", "Hanne"),
    ("Issa", "Isa"),
    ("Maria", "Mariya"),
    ("Rita",),
    ("Sarkis", "Sarkiss"),
    ("Saad", "Saed"),
    # Kurdish names
    ("Azad", "Asad"),
    ("Dilshad", "Dilschad"),
    ("Shivan", "Schiwan", "Sivan"),
    ("Baran",),
    ("Karwan", "Kerwan"),
    ("Rezan", "Resan"),
    ("Serhat", "Serhad"),
    ("Berivan", "Beriwan"),
    ("Rojin", "Roschin"),
    ("Nesrin", "Nisrin"),
    ("Zozan", "Sosan"),
    ("Jiyan", "Dschiyan"),
    ("Sheikh", "Scheich", "Sheik"),
    ("Haji", "Hadschi", "Hajji"),
    ("Xelil", "Khalil", "Chalil"),
    ("Ebdo", "Abdo"),
    ("Berzani", "Barzani"),
    ("Temo", "Tammo"),
    # Afghan and Iranian (Dari, Pashto, Farsi) names
    ("Reza", "Resa", "Riza"),
    ("Mehdi", "Mahdi"),
    ("Hamid", "Hameed"),
    ("Farid", "Fareed"),
    ("Javad", "Jawad", "Dschawad"),
    ("Hossein", "Hosein", "Hussein"),
    ("Morteza", "Murtaza", "Mortaza"),
    ("Sajjad", "Sajad", "Sadschad"),
    ("Masoud", "Masud", "Massoud"),
    ("Wahid", "Waheed"),
    ("Najib", "Najeeb", "Nadschib"),
    ("Zabihullah", "Zabiullah", "Sabiullah"),
    ("Rahmatullah", "Rahmatulla"),
    ("Gul", "Gol", "Gül"),
    ("Zahra", "Sahra", "Zehra"),
    ("Shabnam", "Schabnam"),
    ("Nargis", "Narges"),
    ("Farzana", "Farsana"),
    ("Roya", "Roja"),
    ("Masuma", "Masoumeh", "Massuma"),
    ("Sakina", "Sakineh"),
    ("Ahmadi", "Ahmady"),
    ("Mohammadi", "Mohamadi", "Muhammadi"),
    ("Hosseini", "Husseini", "Hosaini"),
    ("Rahimi", "Rahimy"),
    ("Karimi", "Karimy"),
    ("Sultani", "Soltani"),
    ("Noori", "Nouri", "Nuri"),
    ("Rezaei", "Rezai", "Resai"),
    ("Jafari", "Jafary", "Dschafari"),
    ("Azizi", "Asisi"),
    ("Haidari", "Heydari", "Haydari"),
    ("Amiri", "Amiry"),
    ("Wardak", "Wardag"),
    ("Stanikzai", "Stanekzai"),
    ("Popalzai", "Popalsai"),
    # Eritrean (Tigrinya) names; the family name is the father's given name
    ("Tesfay", "Tesfai", "Tesfaye"),
    ("Yonas", "Jonas", "Yonis"),
    ("Mehari", "Mihari"),
    ("Berhane", "Birhane", "Berhe"),
    ("Kidane", "Kidan"),
    ("Tekle", "Teklay", "Tekleh"),
    ("Haile", "Hayle"),
    ("Gebremedhin", "Gebre Medhin", "Ghebremedhin"),
    ("Habtom", "Habtu"),
    ("Filmon", "Filemon", "Philemon"),
    ("Amanuel", "Emanuel", "Amanual"),
    ("Dawit", "Dawid"),
    ("Ermias", "Ermiyas"),
    ("Goitom", "Goytom"),
    ("Helen", "Hellen"),
    ("Senait", "Senayt"),
    ("Selam", "Salam"),
    ("Luwam", "Liwam"),
    ("Yordanos", "Jordanos"),
    ("Mebrat", "Mibrat"),
    ("Rahel", "Rachel"),
    ("Saba",),
    # Somali names; the family name is the father's given name
    ("Abdirahman", "Abdirahmaan", "Abdurahman"),
    ("Abdi", "Abdy"),
    ("Mohamud", "Mahamud", "Mohamoud"),
    ("Farah", "Faarax"),
    ("Abdullahi", "Cabdullahi"),
    ("Liban", "Libaan"),
    ("Warsame", "Warsami"),
    ("Jama", "Jaamac"),
    ("Hodan", "Hodaan"),
    ("Hawa", "Xawa"),
    ("Amina", "Aminah", "Amiina"),
    ("Faduma", "Fadumo", "Fatuma"),
    # Nigerian names
    ("Chinedu",),
    ("Emeka",),
    ("Oluwaseun", "Oluseun"),
    ("Abubakar", "Abubakr", "Abu Bakar"),
    ("Musa", "Moussa"),
    ("Samuel",),
    ("Blessing",),
    ("Chioma",),
    ("Joy",),
    ("Okafor",),
    ("Adeyemi", "Adeyemy"),
    ("Okonkwo",),
    ("Bello", "Belo"),
    ("Eze",),
    ("Nwosu", "Nwosou"),
    # Pakistani names
    ("Imran", "Imraan"),
    ("Asif", "Aasif"),
    ("Zubair", "Zubayr", "Subair"),
    ("Kashif", "Kaschif"),
    ("Waqas", "Waqqas"),
    ("Sana", "Sanaa"),
    ("Nadia", "Nadja"),
    ("Khan", "Chan"),
    ("Malik", "Malick"),
    ("Iqbal", "Ikbal"),
    ("Qureshi", "Kureshi", "Quraishi"),
    ("Chaudhry", "Chaudhary", "Choudhry"),
    # Albanian names
    ("Arben",),
    ("Besnik",),
    ("Ervin", "Erwin"),
    ("Fatmir",),
    ("Gentian", "Genti"),
    ("Dritan",),
    ("Ardita",),
    ("Blerta",),
    ("Elona",),
    ("Jonida",),
    ("Hoxha", "Hodscha", "Hoxa"),
    ("Shehu", "Schehu"),
    ("Krasniqi", "Krasniqui", "Krasnici"),
    ("Gashi", "Gaschi"),
    ("Berisha", "Berischa"),
    # Romanian names (diacritics dropped as German offices do)
    ("Ion", "Ioan"),
    ("Gheorghe", "Gheorge", "Georghe"),
    ("Vasile", "Wasile"),
    ("Constantin", "Konstantin"),
    ("Mihai", "Mihail"),
    ("Nicolae", "Nicolai"),
    ("Florin",),
    ("Marian",),
    ("Adrian",),
    ("Ionut", "Ionuts"),
    ("Elena",),
    ("Ioana", "Joana"),
    ("Mihaela", "Michaela"),
    ("Florentina",),
    ("Andreea", "Andrea"),
    ("Daniela",),
    ("Popescu",),
    ("Ionescu",),
    ("Popa",),
    ("Stoica", "Stoika"),
    ("Dumitru", "Dumitriu"),
    ("Radu",),
    ("Munteanu", "Munteano"),
    ("Lacatus", "Lakatos"),
    ("Rostas", "Rostasch"),
    ("Dobre",),
    ("Barbu",),
    # Bulgarian names (German offices transliterate v as w); family names in male form
    ("Georgi", "Georgij"),
    ("Ivan", "Iwan"),
    ("Dimitar", "Dimitur", "Dimiter"),
    ("Nikolay", "Nikolai", "Nikolaj"),
    ("Stoyan", "Stojan"),
    ("Petar", "Peter", "Petur"),
    ("Hristo", "Christo"),
    ("Asen", "Assen"),
    ("Mehmed", "Mehmet"),
    ("Ivanka", "Iwanka"),
    ("Yordanka", "Jordanka"),
    ("Desislava", "Dessislava", "Desislawa"),
    ("Svetla", "Swetla"),
    ("Gergana",),
    ("Ivanov", "Iwanow"),
    ("Georgiev", "Georgiew"),
    ("Dimitrov", "Dimitrow"),
    ("Petrov", "Petrow"),
    ("Nikolov", "Nikolow"),
    ("Stoyanov", "Stojanow", "Stoianov"),
    ("Hristov", "Christow", "Hristow"),
    ("Angelov", "Angelow"),
    ("Todorov", "Todorow"),
    ("Mihaylov", "Michailow", "Mihailov"),
    ("Ahmedov", "Achmedow"),
    ("Mustafov", "Mustafow"),
)


def _w(spec: str) -> tuple[tuple[str, float], ...]:
    """Parse ``"Mohammed:12 Ahmad:5 Ali"`` (weight 1 when omitted) into (key, weight) pairs."""
    pairs = []
    for token in spec.split():
        key, _, weight = token.partition(":")
        pairs.append((key.replace("_", " "), float(weight) if weight else 1.0))
    return tuple(pairs)


# Name pools per naming tradition: (male given, female given, family) with frequency weights.
# Family keys are the canonical spelling above; one family may sit in several pools, as
# Arabic family names are often given names too (a cause of swapped names).
_POOLS: dict[str, dict[str, tuple[tuple[str, float], ...]]] = {
    "arabic": {
        "male": _w("Mohammed:14 Ahmad:6 Hussein:3 Ali:4 Omar:3 Khaled:3 Mahmoud:3 Mustafa:3 Yusuf:3 "
                   "Abdullah:3 Ibrahim:3 Hassan:3 Karim Samir Walid Tarek Jamal Bashar Rami Firas Ammar "
                   "Abdulrahman:2 Osama Yasin Bilal Majid Hamza Mazen Fadi Rashid Ayman Anas"),
        "female": _w("Fatima:5 Aisha:3 Zainab:2 Maryam:3 Nour:3 Hiba Huda Rasha Yasmin:2 Layla:2 Samira "
                     "Khadija:2 Asma Ruqaya Shaima Alaa Reem Amal Rana"),
        "family": _w("Al-Hassan:3 Al-Ahmad:3 Al-Ali:3 Al-Khalil:2 Al-Hussein:2 Al-Mohammad:2 Al-Jasim "
                     "Al-Rashid Haddad Hamdan Othman Saleh Kassem Abdullah Darwish Najjar Shaheen Mansour "
                     "Nasser Hamoud Jaber Suleiman Khalaf Abbas Hamadeh Ibrahim Mahmoud Yusuf Mustafa"),
    },
    "arabic_christian": {
        "male": _w("George:3 Elias:3 Boutros Issa Fadi:2 Rami:2 Samir Jamal"),
        "female": _w("Maria:3 Rita:2 Hanna:2 Nour Layla Rana"),
        "family": _w("Haddad:2 Khoury:3 Saad Sarkis Boutros Hanna Elias"),
    },
    "kurdish": {
        "male": _w("Azad:2 Dilshad Shivan:2 Baran Karwan Rezan Serhat Mohammed:4 Ahmad:2 Hussein Ali "
                   "Mustafa Ibrahim"),
        "female": _w("Berivan:2 Rojin:2 Nesrin:2 Zozan Jiyan Fatima:2 Zainab Layla"),
        "family": _w("Sheikh Haji:2 Xelil Ebdo Berzani Temo Othman Mustafa Hussein Ibrahim Suleiman"),
    },
    "persian": {
        "male": _w("Mohammed:6 Ahmad:4 Ali:4 Reza:3 Mehdi:2 Hamid:2 Farid Javad Hossein:3 Morteza Sajjad "
                   "Masoud Wahid Najib Zabihullah Rahmatullah Gul"),
        "female": _w("Fatima:3 Zahra:3 Maryam:2 Shabnam Nargis Farzana Roya Masuma Sakina Gul"),
        "family": _w("Ahmadi:3 Mohammadi:3 Hosseini:3 Rahimi:2 Karimi:2 Sultani Noori Rezaei Jafari Azizi "
                     "Haidari Amiri Wardak Stanikzai Popalzai"),
    },
    "eritrean": {
        "male": _w("Tesfay:2 Yonas:2 Mehari Berhane:2 Kidane Tekle Haile Gebremedhin Habtom Filmon "
                   "Amanuel:2 Dawit Ermias Goitom Samuel"),
        "female": _w("Helen:2 Senait:2 Selam:2 Luwam Yordanos Mebrat Rahel Saba"),
        "family": _w("Tesfay:2 Yonas Mehari Berhane:2 Kidane Tekle Haile:2 Gebremedhin Habtom Filmon "
                     "Amanuel Dawit Ermias Goitom"),
    },
    "somali": {
        "male": _w("Abdirahman:2 Abdi:2 Mohamud:3 Hassan:2 Farah Abdullahi:2 Liban Ali Warsame Jama"),
        "female": _w("Hodan:2 Hawa:2 Amina:3 Faduma:2 Zahra Fatima"),
        "family": _w("Abdi:2 Mohamud:2 Hassan:2 Farah:2 Ali Abdullahi Warsame Jama"),
    },
    "nigerian": {
        "male": _w("Chinedu:2 Emeka:2 Oluwaseun Ibrahim Abubakar Musa Samuel:2"),
        "female": _w("Blessing:3 Chioma:2 Joy:2 Aisha"),
        "family": _w("Okafor:2 Adeyemi:2 Okonkwo Bello Abubakar Eze Nwosu"),
    },
    "pakistani": {
        "male": _w("Mohammed:5 Imran:2 Asif:2 Bilal Othman Zubair Kashif Waqas Ali"),
        "female": _w("Aisha:2 Sana:2 Nadia Fatima Zainab"),
        "family": _w("Khan:5 Hussein:2 Malik:2 Iqbal Qureshi Chaudhry"),
    },
    "albanian": {
        "male": _w("Arben Besnik Ervin Fatmir Gentian Dritan"),
        "female": _w("Ardita Blerta Elona Jonida"),
        "family": _w("Hoxha:2 Shehu Krasniqi Gashi:2 Berisha:2"),
    },
    "romanian": {
        "male": _w("Ion:3 Gheorghe:2 Vasile:2 Constantin:2 Mihai:2 Nicolae Florin Marian Adrian Ionut"),
        "female": _w("Maria:3 Elena:3 Ioana:2 Mihaela Florentina Andreea Daniela"),
        "family": _w("Popescu:2 Ionescu Popa:2 Stoica Dumitru Radu Munteanu Lacatus Rostas:2 Dobre Barbu "
                     "Constantin Mihai"),
    },
    "bulgarian": {
        "male": _w("Georgi:2 Ivan:3 Dimitar:2 Nikolay Stoyan Petar Hristo Asen Mehmed:2"),
        "female": _w("Maria:3 Ivanka Elena:2 Yordanka Desislava Svetla Gergana"),
        "family": _w("Ivanov:3 Georgiev:2 Dimitrov:2 Petrov Nikolov Stoyanov Hristov Angelov Todorov "
                     "Mihaylov Ahmedov Mustafov"),
    },
}

GROUPS: tuple[str, ...] = tuple(_POOLS)
PATRONYMIC_GROUPS = frozenset({"eritrean", "somali"})
"""Traditions without inherited family names: the office records the father's given name instead."""
MIDDLE_NAME_SHARE: dict[str, float] = {
    "arabic": 0.4, "arabic_christian": 0.3, "kurdish": 0.3, "persian": 0.1, "eritrean": 0.3,
    "somali": 0.3, "nigerian": 0.2, "pakistani": 0.2, "albanian": 0.0, "romanian": 0.25, "bulgarian": 0.0,
}
"""Share of adults whose documents carry a middle name (often the father's name)."""
DOCUMENT_CANONICAL_SHARE = 0.55
"""Share of documents using the most common spelling; the rest use another variant."""


@dataclass(frozen=True)
class NameTable:
    """All spellings in one flat array so that spelling a column is one numpy take."""

    spellings: np.ndarray  # object array of str
    offset: np.ndarray  # first spelling of each family
    n_variants: np.ndarray
    family_index: dict[str, int]
    pools: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]  # (group, kind) -> (family ids, probabilities)

    def spell(self, families: np.ndarray, variants: np.ndarray) -> np.ndarray:
        """Spellings for family ids and variant numbers; family -1 (no name) gives ''."""
        families = np.asarray(families)
        safe = np.where(families >= 0, families, 0)
        out = self.spellings[self.offset[safe] + np.asarray(variants)]
        return np.where(families >= 0, out, "")


def _compile() -> NameTable:
    spellings: list[str] = []
    offset: list[int] = []
    n_variants: list[int] = []
    family_index: dict[str, int] = {}
    for family in _FAMILIES:
        if family[0] in family_index:
            raise ValueError(f"name family {family[0]!r} is defined twice in names.py")
        for spelling in family:
            try:
                spelling.encode("cp1252")
            except UnicodeEncodeError:
                raise ValueError(f"spelling {spelling!r} cannot be written in Windows-1252") from None
        family_index[family[0]] = len(offset)
        offset.append(len(spellings))
        n_variants.append(len(family))
        spellings.extend(family)
    pools: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
    for g, (group, kinds) in enumerate(_POOLS.items()):
        for kind, entries in kinds.items():
            missing = [key for key, _ in entries if key not in family_index]
            if missing:
                raise ValueError(f"pool {group}/{kind} names unknown families {missing}; add them to _FAMILIES")
            ids = np.array([family_index[key] for key, _ in entries], dtype=np.int64)
            weights = np.array([w for _, w in entries], dtype=float)
            pools[(g, kind)] = (ids, weights / weights.sum())
    return NameTable(
        spellings=np.array(spellings, dtype=object),
        offset=np.array(offset, dtype=np.int64),
        n_variants=np.array(n_variants, dtype=np.int64),
        family_index=family_index,
        pools=pools,
    )


NAMES = _compile()


def draw_families(rng: np.random.Generator, groups: np.ndarray, kind: str) -> np.ndarray:
    """A name family per element from the pool of its naming tradition (``kind``: male/female/family)."""
    groups = np.asarray(groups)
    out = np.full(len(groups), -1, dtype=np.int64)
    for g in range(len(GROUPS)):
        members = np.flatnonzero(groups == g)
        if len(members):
            ids, probs = NAMES.pools[(g, kind)]
            out[members] = ids[rng.choice(len(ids), size=len(members), p=probs)]
    return out


def draw_given_names(rng: np.random.Generator, groups: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Given-name families by tradition and sex."""
    female = np.asarray(female, dtype=bool)
    return np.where(female, draw_families(rng, groups, "female"), draw_families(rng, groups, "male"))


def draw_document_variants(rng: np.random.Generator, families: np.ndarray) -> np.ndarray:
    """The spelling in a person's documents: mostly the common one, else any other variant."""
    families = np.asarray(families)
    n = NAMES.n_variants[np.where(families >= 0, families, 0)]
    other = 1 + np.floor(rng.random(len(families)) * np.maximum(n - 1, 1)).astype(np.int64)
    canonical = (rng.random(len(families)) < DOCUMENT_CANONICAL_SHARE) | (n == 1)
    return np.where(canonical, 0, np.minimum(other, n - 1))


def respell(
    rng: np.random.Generator, families: np.ndarray, document_variants: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """An agency's spelling: with probability ``rate`` another variant of the same family.

    Returns the variant numbers and whether they differ from the documents.
    """
    families = np.asarray(families)
    n = NAMES.n_variants[np.where(families >= 0, families, 0)]
    change = (rng.random(len(families)) < rate) & (n > 1) & (families >= 0)
    step = 1 + np.floor(rng.random(len(families)) * np.maximum(n - 1, 1)).astype(np.int64)
    variants = np.where(change, (document_variants + step) % np.maximum(n, 1), document_variants)
    return variants, change


def feminine_surname(names: np.ndarray) -> np.ndarray:
    """Bulgarian women's form of a family name (Ivanov -> Ivanova, Iwanow -> Iwanowa)."""
    names = np.asarray(names, dtype=object)
    ends = np.array([n[-1:] in ("v", "w") for n in names], dtype=bool) if len(names) else np.zeros(0, bool)
    return np.where(ends, names + "a", names)


# QWERTZ neighbours: German offices type on German keyboards.
_NEIGHBOURS = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "rzg", "z": "tuh", "u": "zij", "i": "uok",
    "o": "ipl", "p": "o", "a": "qsy", "s": "awdx", "d": "sefc", "f": "drgv", "g": "fthb", "h": "gzjn",
    "j": "hukm", "k": "jil", "l": "ko", "y": "asx", "x": "ysc", "c": "xdv", "v": "cfb", "b": "vgn",
    "n": "bhm", "m": "nj",
}


def typo(name: str, operation: int, position: float, choice: float) -> str:
    """``name`` with one keystroke error; the random draws come in so that callers stay deterministic.

    ``operation``: 0 neighbouring key, 1 letter dropped, 2 letter doubled, 3 letters swapped.
    ``position`` and ``choice`` are uniform numbers in [0, 1). The first letter is kept,
    because clerks rarely mistype the letter they start with and the result stays readable.
    """
    if len(name) < 3:
        return name + name[-1:] if name else name
    letters = [i for i, ch in enumerate(name) if ch.isalpha() and i > 0]
    if not letters:
        return name
    i = letters[min(int(position * len(letters)), len(letters) - 1)]
    ch = name[i]
    if operation == 1 and len(name) > 3:
        result = name[:i] + name[i + 1:]
    elif operation == 2:
        result = name[:i] + ch + name[i:]
    elif operation == 3 and i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1] != ch:
        result = name[:i] + name[i + 1] + ch + name[i + 2:]
    else:
        options = _NEIGHBOURS.get(ch.lower(), "e")
        new = options[min(int(choice * len(options)), len(options) - 1)]
        result = name[:i] + (new.upper() if ch.isupper() else new) + name[i + 1:]
    return result if result != name else name[:i] + ch + name[i:]
