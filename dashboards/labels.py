"""German wording for the codes and column names of a release.

Releases carry codes (`muelheim`, `abh+jobcenter`, `SGB II`, `EP`); steering-group members read
words. Every text the dashboard derives from a code is here, so that a later English switch
replaces one module. A code that is not listed (for example a newly configured agency) is shown
as it is rather than hidden: new data must not disappear because a label is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

APP_TITLE = "Integrationsmonitor"

CITIES: dict[str, str] = {
    "wuppertal": "Wuppertal",
    "solingen": "Solingen",
    "muelheim": "Mülheim an der Ruhr",
}

AGENCIES: dict[str, str] = {
    "abh": "Ausländerbehörde",
    "jobcenter": "Jobcenter",
    "jugendamt": "Jugendamt",
    "sozialamt": "Sozialamt",
}

# Order of the legal circles along a typical journey: asylum, residence, basic income, youth, work.
LEGAL_CIRCLES: dict[str, str] = {
    "AsylbLG": "AsylbLG (Asylbewerberleistungen)",
    "AufenthG": "AufenthG (Ausländerbehörde)",
    "SGB II": "SGB II (Jobcenter)",
    "SGB VIII": "SGB VIII (Jugendhilfe)",
    "Arbeit": "Arbeit oder Ausbildung",
}

REFERENCES: dict[str, str] = {"arrival": "ab Ankunft", "recognition": "ab Anerkennung"}

MILESTONES: dict[str, str] = {
    "first_course": "erster Sprachkurs",
    "b1": "Sprachniveau B1",
    "work_or_training": "Arbeit oder Ausbildung",
}

# Profiles of the Federal Employment Agency's four-phase model, close to the labour market first.
PROFILES: dict[str, str] = {
    "MP": "Marktprofil",
    "AP": "Aktivierungsprofil",
    "FP": "Förderprofil",
    "EP": "Entwicklungsprofil",
    "SP": "Stabilisierungsprofil",
    "UP": "Unterstützungsprofil",
}

# As in the pipeline's seed `jobcenter_profiles`.
PROFILE_GROUPS: dict[str, str] = {"nah": "integrationsnah", "fern": "integrationsfern (komplexe Profillage)"}

FOLLOW_UPS: dict[str, str] = {
    "SGB2": "Grundsicherung (SGB II)",
    "AUSBILDUNG": "Ausbildung",
    "SCHULE": "Schule",
    "HJV": "Hilfe für junge Volljährige",
    "UNBEKANNT": "unbekannt",
}

SEVERITIES: dict[str, str] = {"ERROR": "blockierend", "WARN": "Warnung"}

LINK_METHODS: dict[str, str] = {
    "azr": "über die AZR-Nummer",
    "deterministic": "exakt (gleiche Merkmale)",
    "probabilistic": "probabilistisch (ähnliche Merkmale)",
}

# Keys of the manifest's `linkage` summary, as documented and as the publisher writes them.
LINKAGE: dict[str, str] = {
    "records": "Datensätze",
    "source_records": "Datensätze aus den Quellen",
    "identity_records": "Identitätsdatensätze",
    "persons": "Personen",
    "persons_in_journey": "Personen in den Verläufen",
    "new_persons": "neue Personen in diesem Lauf",
    "merges": "zusammengeführte Identitäten",
    "splits": "getrennte Identitäten",
    "singletons": "Personen mit nur einem Datensatz",
    "deterministic_links": "Verknüpfungen exakt",
    "probabilistic_links": "Verknüpfungen probabilistisch",
    "links_by_method": "Verknüpfungen je Verfahren",
    "model_version": "Modellversion",
    "run_id": "Lauf-ID",
    "finished_at": "abgeschlossen",
    "seconds": "Laufzeit (Sekunden)",
}

COLUMNS: dict[str, str] = {
    "city": "Stadt",
    "month": "Monat",
    "year": "Jahr",
    "agency_set": "Zuständige Behörden",
    "legal_circle": "Rechtskreis",
    "persons": "Personen",
    "entries": "Zugänge ins SGB II",
    "entries_with_asylblg_end": "davon mit bekanntem Ende AsylbLG",
    "gap_days_median": "Lücke in Tagen (Median)",
    "gap_days_p90": "Lücke in Tagen (90-%-Wert)",
    "gap_over_30_days": "Lücke über 30 Tage (Personen)",
    "cohort_year": "Kohorte (Jahr)",
    "reference": "Gemessen",
    "milestone": "Meilenstein",
    "reached": "Erreicht (Personen)",
    "reached_share": "Anteil erreicht",
    "days_median": "Tage bis dahin (Median)",
    "profile_code": "Profil",
    "profile_group": "Profilgruppe",
    "in_care": "Betreut vom Jugendamt",
    "unaccompanied_in_care": "davon unbegleitet",
    "turning_18": "Werden 18 im Monat",
    "follow_up": "Anschluss nach der Jugendhilfe",
    "agency": "Behörde",
    "file_name": "Datei",
    "rows_read": "Zeilen gelesen",
    "rows_loaded": "Zeilen geladen",
    "rows_quarantined": "Zeilen in Quarantäne",
    "sha256": "Prüfsumme (SHA-256)",
    "message": "Meldung",
}


def label(codes: Mapping[str, str], code: object) -> str:
    """The German word for a code; the code itself when it has none (case-insensitive lookup)."""
    text = "" if code is None else str(code)
    if text in codes:
        return codes[text]
    folded = {key.casefold(): value for key, value in codes.items()}
    return folded.get(text.casefold(), text)


def known_first(codes: Iterable[object], known: Mapping[str, str]) -> list[str]:
    """The distinct codes: those with a label in their listed order, then any others sorted."""
    present = {str(code) for code in codes}
    listed = [code for code in known if code in present]
    return listed + sorted(present - set(listed))


def agency_set(code: object) -> str:
    """`abh+jobcenter` -> `Ausländerbehörde + Jobcenter`."""
    return " + ".join(label(AGENCIES, part) for part in str(code).split("+"))


def legal_circle(code: object) -> str:
    return label(LEGAL_CIRCLES, code)


def reference(code: object) -> str:
    return label(REFERENCES, code)


def milestone(code: object) -> str:
    return label(MILESTONES, code)


def profile(code: object) -> str:
    """`EP` -> `EP Entwicklungsprofil`: the code stays visible because jobcenter staff use it."""
    text = label(PROFILES, code)
    return text if text == str(code) else f"{code} {text}"


def profile_group(code: object) -> str:
    return label(PROFILE_GROUPS, code)


def follow_up(code: object) -> str:
    return label(FOLLOW_UPS, code)


def agency(code: object) -> str:
    return label(AGENCIES, code)


def link_method(code: object) -> str:
    return label(LINK_METHODS, code)


def severity(code: object) -> str:
    return label(SEVERITIES, code)


def column(name: str) -> str:
    """The German header of a release column."""
    return COLUMNS.get(name, name)
