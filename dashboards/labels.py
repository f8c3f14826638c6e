"""Words for the codes and column names of a release, in German and English.

Releases carry codes (`muelheim`, `abh+jobcenter`, `SGB II`, `EP`); steering-group members read
words. Every text the dashboard derives from a code is here, as a `(German, English)` pair. A code
that is not listed (for example a newly configured agency) is shown as it is rather than hidden: new
data must not disappear because a label is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dashboards.i18n import Language, current

Words = tuple[str, str]

APP_TITLE: Words = ("Integrationsmonitor", "Integration monitor")

# The value of a filter dimension that means "all of them" in the release's grouped tables.
ALL = "alle"

CITIES: dict[str, Words] = {
    "wuppertal": ("Wuppertal", "Wuppertal"),
    "solingen": ("Solingen", "Solingen"),
    "muelheim": ("Mülheim an der Ruhr", "Mülheim an der Ruhr"),
}

AGENCIES: dict[str, Words] = {
    "abh": ("Ausländerbehörde", "Immigration office"),
    "jobcenter": ("Jobcenter", "Jobcenter"),
    "jugendamt": ("Jugendamt", "Youth office"),
    "sozialamt": ("Sozialamt", "Social welfare office"),
}

# Order of the legal circles along a typical journey: asylum, residence, basic income, youth, work.
LEGAL_CIRCLES: dict[str, Words] = {
    "AsylbLG": ("AsylbLG (Asylverfahren, Duldung)", "AsylbLG (asylum procedure, toleration)"),
    "AufenthG": ("AufenthG (Aufenthaltserlaubnis)", "AufenthG (residence permit)"),
    "SGB II": ("SGB II (Jobcenter)", "SGB II (jobcenter)"),
    "SGB VIII": ("SGB VIII (Jugendhilfe)", "SGB VIII (youth welfare)"),
    "Arbeit": ("Arbeit oder Ausbildung", "Work or training"),
}

# Nodes of the journey (Sankey) chart: arrival, then the legal circles.
JOURNEY_STATIONS: dict[str, Words] = {
    "start": ("Ankunft", "Arrival"),
    "AsylbLG": ("Asylverfahren / AsylbLG", "Asylum procedure / AsylbLG"),
    "SGB II": ("SGB II (Jobcenter)", "SGB II (jobcenter)"),
    "SGB VIII": ("SGB VIII (Jugendhilfe)", "SGB VIII (youth welfare)"),
    "Arbeit": ("Arbeit oder Ausbildung", "Work or training"),
}

REFERENCES: dict[str, Words] = {
    "arrival": ("ab Ankunft", "from arrival"),
    "recognition": ("ab Anerkennung", "from recognition"),
}

MILESTONES: dict[str, Words] = {
    "first_course": ("erster Sprachkurs", "first language course"),
    "b1": ("Sprachniveau B1", "language level B1"),
    "work_or_training": ("Arbeit oder Ausbildung", "work or training"),
}

# Profiles of the Federal Employment Agency's four-phase model, close to the labour market first.
PROFILES: dict[str, Words] = {
    "MP": ("Marktprofil", "market profile"),
    "AP": ("Aktivierungsprofil", "activation profile"),
    "FP": ("Förderprofil", "support profile"),
    "EP": ("Entwicklungsprofil", "development profile"),
    "SP": ("Stabilisierungsprofil", "stabilisation profile"),
    "UP": ("Unterstützungsprofil", "assistance profile"),
}

# As in the pipeline's seed `jobcenter_profiles`.
PROFILE_GROUPS: dict[str, Words] = {
    "nah": ("integrationsnah", "close to the labour market"),
    "fern": ("integrationsfern (komplexe Profillage)", "far from the labour market (complex profile)"),
}

FOLLOW_UPS: dict[str, Words] = {
    "SGB2": ("Grundsicherung (SGB II)", "basic income support (SGB II)"),
    "AUSBILDUNG": ("Ausbildung", "vocational training"),
    "SCHULE": ("Schule", "school"),
    "HJV": ("Hilfe für junge Volljährige", "help for young adults"),
    "UNBEKANNT": ("unbekannt", "unknown"),
}

# As in the pipeline's seed `nationality_groups` (German names are the codes).
NATIONALITY_GROUPS: dict[str, Words] = {
    "Syrien": ("Syrien", "Syria"),
    "Irak": ("Irak", "Iraq"),
    "Afghanistan": ("Afghanistan", "Afghanistan"),
    "Iran": ("Iran", "Iran"),
    "Eritrea": ("Eritrea", "Eritrea"),
    "Somalia": ("Somalia", "Somalia"),
    "Westbalkan": ("Westbalkan", "Western Balkans"),
    "Südosteuropa (EU)": ("Südosteuropa (EU)", "South-East Europe (EU)"),
    "Sonstige": ("Sonstige", "Other"),
    "staatenlos/ungeklärt": ("staatenlos/ungeklärt", "stateless or unknown"),
}

AGE_BANDS: dict[str, Words] = {
    "0-17": ("0 bis 17 Jahre", "0 to 17 years"),
    "18-24": ("18 bis 24 Jahre", "18 to 24 years"),
    "25-34": ("25 bis 34 Jahre", "25 to 34 years"),
    "35-49": ("35 bis 49 Jahre", "35 to 49 years"),
    "50+": ("50 Jahre und älter", "50 years and older"),
    "unbekannt": ("Alter unbekannt", "age unknown"),
}

SEXES: dict[str, Words] = {
    "f": ("weiblich", "female"),
    "m": ("männlich", "male"),
    "x": ("divers", "diverse"),
    "unbekannt": ("Geschlecht unbekannt", "sex unknown"),
}

SEVERITIES: dict[str, Words] = {"ERROR": ("blockierend", "blocking"), "WARN": ("Warnung", "warning")}

LINK_METHODS: dict[str, Words] = {
    "azr": ("über die AZR-Nummer", "by AZR number"),
    "deterministic": ("exakt (gleiche Merkmale)", "exact (same attributes)"),
    "probabilistic": ("probabilistisch (ähnliche Merkmale)", "probabilistic (similar attributes)"),
}

# Clerical review: the fields the linkage model compares (the review queue's `<field>_level` columns)
# and the level each comparison reached, named as in pipelines/linkage/model.py (and Splink's own
# names for exact matches and the catch-all level); `fehlt` is the queue's word for a missing value.
COMPARISON_FIELDS: dict[str, Words] = {
    "name": ("Name", "Name"),
    "birth_date": ("Geburtsdatum", "Birth date"),
    "azr": ("AZR-Nummer", "AZR number"),
    "sex": ("Geschlecht", "Sex"),
    "nationality": ("Staatsangehörigkeit", "Nationality"),
    "location": ("Ort der Akte", "Where the record is kept"),
}

COMPARISON_LEVELS: dict[str, Words] = {
    "both names exact, rare family name": (
        "beide Namen gleich, seltener Familienname",
        "both names exact, rare family name",
    ),
    "both names exact": ("beide Namen gleich", "both names exact"),
    "names swapped, exact": ("Namen vertauscht, sonst gleich", "names swapped, exact"),
    "both names phonetic, rare family name": (
        "beide Namen klingen gleich, seltener Familienname",
        "both names sound alike, rare family name",
    ),
    "both names phonetic": ("beide Namen klingen gleich", "both names sound alike"),
    "names swapped, phonetic": ("Namen vertauscht, klingen gleich", "names swapped, sound alike"),
    "one name agrees, the other similar (straight or swapped)": (
        "ein Name stimmt, der andere ist ähnlich (auch vertauscht)",
        "one name agrees, the other is similar (straight or swapped)",
    ),
    "both names similar (Dice >= 0.7, straight or swapped)": (
        "beide Namen ähnlich (Dice ≥ 0,7, auch vertauscht)",
        "both names similar (Dice ≥ 0.7, straight or swapped)",
    ),
    "family name agrees, given name differs": (
        "Familienname stimmt, Vorname anders",
        "family name agrees, given name differs",
    ),
    "given name agrees, family name differs": (
        "Vorname stimmt, Familienname anders",
        "given name agrees, family name differs",
    ),
    "family name somewhat similar": ("Familienname etwas ähnlich", "family name somewhat similar"),
    "full date exact": ("Datum gleich", "same date"),
    "same year, day unknown on one side": (
        "gleiches Jahr, Tag auf einer Seite unbekannt",
        "same year, day unknown on one side",
    ),
    "same year, different day": ("gleiches Jahr, anderer Tag", "same year, different day"),
    "year differs by one": ("Jahr weicht um eins ab", "year differs by one"),
    "same AZR number": ("gleiche AZR-Nummer", "same AZR number"),
    "AZR numbers differ in a digit or two": (
        "AZR-Nummern weichen in ein, zwei Ziffern ab",
        "AZR numbers differ in a digit or two",
    ),
    "different AZR numbers, both from the register": (
        "verschiedene AZR-Nummern, beide aus dem Register",
        "different AZR numbers, both from the register",
    ),
    "Exact match on sex": ("gleich", "same"),
    "Exact match on nationality": ("gleich", "same"),
    "same district": ("gleicher Stadtteil", "same district"),
    "same city": ("gleiche Stadt, anderer Stadtteil", "same city, other district"),
    "fehlt": ("fehlt in mindestens einem Datensatz", "missing in at least one record"),
}

# Splink's catch-all level ("All other comparisons") means something else for each field.
NO_AGREEMENT_LEVEL = "All other comparisons"
NO_AGREEMENT: dict[str, Words] = {
    "name": ("Namen verschieden", "names differ"),
    "birth_date": ("Jahr weicht um mehr als eins ab", "year differs by more than one"),
    "azr": ("verschiedene AZR-Nummern", "different AZR numbers"),
    "sex": ("verschieden", "different"),
    "nationality": ("verschieden", "different"),
    "location": ("andere Stadt", "other city"),
}

REVIEW_DECISIONS: dict[str, Words] = {
    "accept": ("gleiche Person", "same person"),
    "reject": ("verschiedene Personen", "different persons"),
}

# Keys of the manifest's `linkage` summary, as documented and as the publisher writes them.
LINKAGE: dict[str, Words] = {
    "records": ("Datensätze", "records"),
    "source_records": ("Datensätze aus den Quellen", "source records"),
    "identity_records": ("Identitätsdatensätze", "identity records"),
    "persons": ("Personen", "persons"),
    "persons_in_journey": ("Personen in den Verläufen", "persons in the journeys"),
    "new_persons": ("neue Personen in diesem Lauf", "new persons in this run"),
    "merges": ("zusammengeführte Identitäten", "merged identities"),
    "splits": ("getrennte Identitäten", "split identities"),
    "singletons": ("Personen mit nur einem Datensatz", "persons with a single record"),
    "deterministic_links": ("Verknüpfungen exakt", "exact links"),
    "probabilistic_links": ("Verknüpfungen probabilistisch", "probabilistic links"),
    "links_by_method": ("Verknüpfungen je Verfahren", "links by method"),
    "model_version": ("Modellversion", "model version"),
    "run_id": ("Lauf-ID", "run id"),
    "finished_at": ("abgeschlossen", "finished"),
    "seconds": ("Laufzeit (Sekunden)", "run time (seconds)"),
}

COLUMNS: dict[str, Words] = {
    "city": ("Stadt", "City"),
    "month": ("Monat", "Month"),
    "year": ("Jahr", "Year"),
    "agency_set": ("Zuständige Behörden", "Responsible agencies"),
    "legal_circle": ("Rechtskreis", "Legal circle"),
    "persons": ("Personen", "Persons"),
    "entries": ("Zugänge ins SGB II", "Entries into SGB II"),
    "entries_with_asylblg_end": ("davon mit bekanntem Ende AsylbLG", "of which with known end of AsylbLG"),
    "gap_days_median": ("Lücke in Tagen (Median)", "Gap in days (median)"),
    "gap_days_p90": ("Lücke in Tagen (90-%-Wert)", "Gap in days (90th percentile)"),
    "gap_over_30_days": ("Lücke über 30 Tage (Personen)", "Gap over 30 days (persons)"),
    "cohort_year": ("Jahrgang", "Cohort"),
    "reference": ("Gemessen", "Measured"),
    "milestone": ("Meilenstein", "Milestone"),
    "reached": ("Erreicht (Personen)", "Reached (persons)"),
    "profile_code": ("Profil", "Profile"),
    "profile_group": ("Profilgruppe", "Profile group"),
    "in_care": ("Betreut vom Jugendamt", "In youth-office care"),
    "unaccompanied_in_care": ("davon unbegleitet", "of which unaccompanied"),
    "turning_18": ("Werden 18 im Jahr", "Turning 18 this year"),
    "follow_up": ("Anschluss nach der Jugendhilfe", "After youth welfare"),
    "agency": ("Behörde", "Agency"),
    "file_name": ("Datei", "File"),
    "rows_read": ("Zeilen gelesen", "Rows read"),
    "rows_loaded": ("Zeilen geladen", "Rows loaded"),
    "rows_quarantined": ("Zeilen in Quarantäne", "Rows quarantined"),
    "sha256": ("Prüfsumme (SHA-256)", "Checksum (SHA-256)"),
    "message": ("Meldung", "Message"),
    "nationality_group": ("Nationalität", "Nationality"),
    "age_band": ("Altersgruppe", "Age band"),
    "sex": ("Geschlecht", "Sex"),
    "from_circle": ("von", "from"),
    "to_circle": ("nach", "to"),
    "step": ("Schritt", "Step"),
    "population": ("Einwohner", "Inhabitants"),
}


def words(pair: Words, lang: Language | None = None) -> str:
    """One of a `(German, English)` pair."""
    return pair[1] if (lang or current()) == "en" else pair[0]


def label(codes: Mapping[str, Words], code: object, lang: Language | None = None) -> str:
    """The word for a code; the code itself when it has none (case-insensitive lookup)."""
    text = "" if code is None else str(code)
    if text in codes:
        return words(codes[text], lang)
    folded = {key.casefold(): value for key, value in codes.items()}
    pair = folded.get(text.casefold())
    return words(pair, lang) if pair else text


def known_first(codes: Iterable[object], known: Mapping[str, object]) -> list[str]:
    """The distinct codes: those with a label in their listed order, then any others sorted."""
    present = {str(code) for code in codes}
    listed = [code for code in known if code in present]
    return listed + sorted(present - set(listed))


def app_title(lang: Language | None = None) -> str:
    return words(APP_TITLE, lang)


def city(code: object, lang: Language | None = None) -> str:
    return label(CITIES, code, lang)


def agency(code: object, lang: Language | None = None) -> str:
    return label(AGENCIES, code, lang)


def agency_set(code: object, lang: Language | None = None) -> str:
    """`abh+jobcenter` -> `Ausländerbehörde + Jobcenter`."""
    return " + ".join(label(AGENCIES, part, lang) for part in str(code).split("+"))


def legal_circle(code: object, lang: Language | None = None) -> str:
    return label(LEGAL_CIRCLES, code, lang)


def station(code: object, lang: Language | None = None) -> str:
    return label(JOURNEY_STATIONS, code, lang)


def reference(code: object, lang: Language | None = None) -> str:
    return label(REFERENCES, code, lang)


def milestone(code: object, lang: Language | None = None) -> str:
    return label(MILESTONES, code, lang)


def profile(code: object, lang: Language | None = None) -> str:
    """`EP` -> `EP Entwicklungsprofil`: the code stays visible because jobcenter staff use it."""
    text = label(PROFILES, code, lang)
    return text if text == str(code) else f"{code} {text}"


def profile_group(code: object, lang: Language | None = None) -> str:
    return label(PROFILE_GROUPS, code, lang)


def follow_up(code: object, lang: Language | None = None) -> str:
    return label(FOLLOW_UPS, code, lang)


def nationality_group(code: object, lang: Language | None = None) -> str:
    return label(NATIONALITY_GROUPS, code, lang)


def age_band(code: object, lang: Language | None = None) -> str:
    return label(AGE_BANDS, code, lang)


def sex(code: object, lang: Language | None = None) -> str:
    return label(SEXES, code, lang)


def link_method(code: object, lang: Language | None = None) -> str:
    return label(LINK_METHODS, code, lang)


def severity(code: object, lang: Language | None = None) -> str:
    return label(SEVERITIES, code, lang)


def column(name: str, lang: Language | None = None) -> str:
    """The header of a release column."""
    pair = COLUMNS.get(name)
    return words(pair, lang) if pair else name


def comparison_field(code: object, lang: Language | None = None) -> str:
    return label(COMPARISON_FIELDS, code, lang)


def comparison_level(field: str, code: object, lang: Language | None = None) -> str:
    """The level a field's comparison reached, in words (`name`, `both names exact` -> `beide Namen gleich`)."""
    if code == NO_AGREEMENT_LEVEL:
        return words(NO_AGREEMENT.get(field, ("keine Übereinstimmung", "no agreement")), lang)
    return label(COMPARISON_LEVELS, code, lang)


def review_decision(code: object, lang: Language | None = None) -> str:
    return label(REVIEW_DECISIONS, code, lang)
