"""Proof of no leak: after a full run, no clear-text identifier of the input appears anywhere.

The identifiers are taken from the delivered files themselves (names as delivered and as the pipeline
normalises them, AZR numbers, agency case, customer and household numbers, record ids, streets, birth
dates), and every artefact the run wrote is searched:

- the data folder outside the landing zone: the DuckDB warehouse (byte scan, and every text column,
  since DuckDB may compress strings on disk), the Dagster instance (event logs, run storage, compute
  logs), dbt's target and logs (with every ``dbt build``'s own folder of compiled SQL, run results and
  log under ``dbt/target/runs/``), GX results and Data Docs (``quality/``), the linkage model, the
  review queue, and the releases (Parquet read back, because Parquet pages are compressed);
- every page of the dashboard, rendered with Streamlit's AppTest from the city's release: every text,
  metric, table cell, chart and widget the page shows.

Text is searched after undoing the escapes of HTML (Data Docs) and JSON (Dagster's event log), so that
``M\\u00fcller`` or ``M&uuml;ller`` is found as ``Müller``.

Birth dates need care, because ISO dates are legitimately everywhere (event dates, months). A birth
date is searched in the forms it was delivered in (``dd.mm.yyyy`` from the immigration office,
``yyyy-mm-dd`` from the jobcenter, an Excel date cell from the youth office, read as ``yyyy-mm-dd``),
each in both notations. Not searched: placeholders (``00.00.yyyy``, ``01.01.yyyy``: the year is stored
on purpose), and birth dates that are also a delivered event date or the first or last day of a month
(months are published as dates): such a date looks the same as a legitimate one wherever it appears.
The warehouse keeps only the birth year and a keyed hash of the date, which
``test_no_column_of_the_warehouse_stores_a_birth_date`` checks by column.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import load_workbook

from pipelines.config import REPO_ROOT
from pipelines.ingest.encodings import normalise_name

TOKEN = re.compile(r"[\w\-./]+")
ISO_DATE = re.compile(r"(?<![\d.-])(\d{4})-(\d{2})-(\d{2})(?![\d])")
GERMAN_DATE = re.compile(r"(?<![\d.])(\d{2})\.(\d{2})\.(\d{4})(?![\d])")
JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Columns of each layout that identify a person; dates only where they carry a day.
IDENTIFYING = {
    "abh": ["Vorgangsnr", "AZR-Nr", "Aktenzeichen", "Familienname", "Vornamen", "Strasse"],
    "jobcenter": ["ereignis_id", "kundennummer", "bg_nummer", "nachname", "vorname", "azr_nummer"],
    "jugendamt": ["Fall-Nr", "Name", "Vorname", "AZR"],
}
NAMES = {"abh": ["Familienname", "Vornamen"], "jobcenter": ["nachname", "vorname"], "jugendamt": ["Name", "Vorname"]}
BIRTH_DATE = {"abh": "Geburtsdatum", "jobcenter": "geburtsdatum", "jugendamt": "Geb.-Datum"}
EVENT_DATES = {"abh": ["Einreisedatum", "Gueltig_ab"], "jobcenter": ["ereignis_datum", "asylblg_ende"],
               "jugendamt": ["Beginn", "Ende"]}
EXCLUDED_FOLDERS = {"landing", "truth", "keys"}


# --- what was delivered ---------------------------------------------------------------------------

def _delivered_frames(landing: Path) -> list[tuple[str, pd.DataFrame]]:
    frames = []
    for path in sorted(landing.rglob("*")):
        agency = path.relative_to(landing).parts[0]
        if path.suffix == ".csv":
            encoding, sep = ("cp1252", ";") if agency == "abh" else ("utf-8", ",")
            frame = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)
        elif path.suffix == ".xlsx":
            rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
            frame = pd.DataFrame(rows[1:], columns=rows[0]).astype(object)
        else:
            continue
        frames.append((agency, frame))
    return frames


def identifier_tokens(landing: Path) -> set[str]:
    """Single tokens that identify (at least 5 characters), as delivered and as the pipeline normalises
    names; compared case-insensitively."""
    tokens: set[str] = set()
    for agency, frame in _delivered_frames(landing):
        for column in IDENTIFYING[agency]:
            for value in frame[column].dropna().astype(str):
                tokens.update(TOKEN.findall(value))
        for column in NAMES[agency]:
            for value in frame[column].dropna().astype(str):
                tokens.update(normalise_name(value).split())
    return {t.casefold() for t in tokens if len(t) >= 5 and t not in ("None", "nan")}


def _as_date(value: object) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern, order in ((GERMAN_DATE, (2, 1, 0)), (ISO_DATE, (0, 1, 2))):
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None  # 00.00.yyyy: day and month unknown
    return None


def delivered_birth_dates(landing: Path) -> set[dt.date]:
    """Birth dates with a known day (placeholders 1 January and 00.00. carry only the year)."""
    dates = set()
    for agency, frame in _delivered_frames(landing):
        for value in frame[BIRTH_DATE[agency]]:
            date = _as_date(value)
            if date is not None and (date.month, date.day) != (1, 1):
                dates.add(date)
    return dates


def legitimate_dates(landing: Path) -> set[dt.date]:
    """Dates that may legitimately appear with a day: delivered event dates, and the first and last day
    of every month they span (months are published as dates, month ends bound the stocks)."""
    dates = set()
    for agency, frame in _delivered_frames(landing):
        for column in EVENT_DATES[agency]:
            dates.update(d for d in map(_as_date, frame[column]) if d is not None)
    for year in range(min(dates).year, max(dates).year + 1):
        for month in range(1, 13):
            dates.add(dt.date(year, month, 1))
            dates.add(dt.date(year, month, calendar.monthrange(year, month)[1]))
    return dates


def dates_in(text: str) -> set[dt.date]:
    found = set()
    for pattern, order in ((ISO_DATE, (0, 1, 2)), (GERMAN_DATE, (2, 1, 0))):
        for match in pattern.finditer(text):
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                found.add(dt.date(year, month, day))
            except ValueError:
                continue
    return found


# --- what the run wrote ---------------------------------------------------------------------------

def unescape(text: str) -> str:
    """Undo HTML entities (Data Docs) and JSON \\u escapes (Dagster's event log, JSON results)."""
    return html.unescape(JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))


def _texts_of(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        return [pd.read_parquet(path).to_csv(index=False)]
    if path.suffix == ".duckdb":
        texts = [path.read_bytes().decode("utf-8", "ignore")]
        con = duckdb.connect(str(path), read_only=True)
        try:
            for schema, table, column in con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where data_type = 'VARCHAR'"
            ).fetchall():
                values = con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()
                texts.append("\n".join(str(v[0]) for v in values))
        finally:
            con.close()
        return texts
    data = path.read_bytes()
    return [unescape(data.decode("utf-8", "ignore")), unescape(data.decode("cp1252", "ignore"))]


def run_artefacts(data_dir: Path) -> list[Path]:
    """Every file the run wrote: the data folder outside the landing zone (dbt's per-invocation target
    folders included, ``pipelines/dbt/project.py``; ``tests/test_dbt_invocation.py`` pins that none
    is written into the code checkout)."""
    return [p for p in data_dir.rglob("*") if p.is_file() and p.suffix != ".wal"
            and p.relative_to(data_dir).parts[0] not in EXCLUDED_FOLDERS]


def find_leaks(texts: list[str], identifiers: set[str], birth_dates: set[dt.date]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        found |= identifiers & {t.casefold() for t in TOKEN.findall(text)}
        found |= {d.isoformat() for d in dates_in(text) & birth_dates}
    return found


def scan_targets(landing: Path) -> tuple[set[str], set[dt.date]]:
    identifiers = identifier_tokens(landing)
    births = delivered_birth_dates(landing)
    return identifiers, births - legitimate_dates(landing)


# --- the tests ------------------------------------------------------------------------------------

def test_no_clear_text_identifier_appears_in_any_artefact(pipeline_city):
    identifiers, birth_dates = scan_targets(pipeline_city.data_dir / "landing")
    all_births = delivered_birth_dates(pipeline_city.data_dir / "landing")
    assert len(identifiers) > 500, "the scan must have identifiers to look for"
    assert len(birth_dates) > 0.7 * len(all_births) > 100, "most birth dates are told apart from event dates"
    leaks: dict[str, set[str]] = {}
    scanned: dict[str, int] = {}
    for path in run_artefacts(pipeline_city.data_dir):
        parts = path.relative_to(pipeline_city.data_dir).parts
        area = "dbt build folders" if parts[:3] == ("dbt", "target", "runs") else parts[0]
        scanned[area] = scanned.get(area, 0) + 1
        found = find_leaks(_texts_of(path), identifiers, birth_dates)
        if found:
            leaks[str(path)] = found
    expected = {"warehouse", "dagster", "releases", "dbt", "dbt build folders"}
    expected |= {name for name in ("quality", "linkage", "review") if (pipeline_city.data_dir / name).is_dir()}
    assert expected <= set(scanned), f"areas not scanned: {expected - set(scanned)}"
    assert not leaks, {k: sorted(v)[:5] for k, v in leaks.items()}


def test_the_scan_would_find_a_leak(pipeline_city, tmp_path):
    """The scanner itself is tested: planted identifiers are found, in every form the scan promises."""
    identifiers, birth_dates = scan_targets(pipeline_city.data_dir / "landing")
    planted = sorted(identifiers)[0]
    leaky = tmp_path / "leak.parquet"
    pd.DataFrame({"x": [f"see {planted.upper()} here"]}).to_parquet(leaky)
    assert planted in find_leaks(_texts_of(leaky), identifiers, birth_dates)
    birth = sorted(birth_dates)[0]
    for form in (birth.isoformat(), birth.strftime("%d.%m.%Y")):
        assert birth.isoformat() in find_leaks([f"x {form} y"], identifiers, birth_dates)
    accented = next((t for t in identifiers if not t.isascii()), None)
    if accented is not None:  # a name with an umlaut, escaped as JSON or HTML, is still found
        escaped = json.dumps(accented)
        assert accented in find_leaks([unescape(escaped), unescape(html.escape(accented))], identifiers, set())


def test_no_column_of_the_warehouse_stores_a_birth_date(pipeline_city):
    """Only the birth year, a keyed hash of the date and its precision are kept (and linkage's comparison
    levels): no column named for the birth date holds a date, as a date type, a text or a number."""
    con = duckdb.connect(str(pipeline_city.warehouse), read_only=True)
    try:
        columns = con.execute("""select table_schema, table_name, column_name, data_type
                                 from information_schema.columns
                                 where lower(column_name) like '%birth%'
                                    or lower(column_name) like '%geburt%'""").fetchall()
        offending = []
        for schema, table, column, data_type in columns:
            if data_type in ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"):
                offending.append((table, column, data_type))
                continue
            values = [v for (v,) in con.execute(f'select distinct "{column}"::varchar from "{schema}"."{table}" '
                                                 f'where "{column}" is not null').fetchall()]
            if any(dates_in(v) for v in values) or any(v.isdigit() and len(v) > 4 for v in values):
                offending.append((table, column, data_type))
    finally:
        con.close()
    assert ("birth_year", "INTEGER") in {(c[2], c[3]) for c in columns}, "the check sees the columns it allows"
    assert not offending, offending


# --- the dashboard --------------------------------------------------------------------------------

APP = str(REPO_ROOT / "dashboards" / "app.py")
VIEWS = sorted(p.name for p in (REPO_ROOT / "dashboards" / "views").glob("*.py") if not p.name.startswith("_"))


def _signed_in_app(tmp_path: Path, monkeypatch):
    """The app after a login through its form (users file and audit log outside the city's data folder)."""
    from streamlit.testing.v1 import AppTest

    from dashboards import access

    monkeypatch.setenv(access.USERS_FILE_ENV, str(tmp_path / "users.toml"))
    monkeypatch.setenv("INTEGRATION_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    access.add_user("scan", [access.STEERING, access.STEWARD], password="scan-passwort")
    app = AppTest.from_file(APP, default_timeout=90).run()
    app.text_input(key="anmeldename").input("scan")
    app.text_input(key="passwort").input("scan-passwort")
    return app.button[0].click().run()


def rendered_texts(app) -> list[str]:
    """Everything a page shows: each element's message (labels, values, options, chart specs) and each
    table's cells as displayed."""
    from google.protobuf.json_format import MessageToDict

    texts = []
    for node in [*app.main, *app.sidebar]:
        proto = getattr(node, "proto", None)
        if proto is not None:
            texts.append(unescape(json.dumps(MessageToDict(proto), ensure_ascii=False)))
        value = getattr(node, "value", None) if getattr(node, "type", "") in ("dataframe", "table") else None
        if isinstance(value, pd.DataFrame):
            texts.append(value.to_csv(index=False))
    return texts


def test_no_clear_text_identifier_appears_on_any_dashboard_page(pipeline_city, monkeypatch, tmp_path):
    identifiers, birth_dates = scan_targets(pipeline_city.data_dir / "landing")
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(pipeline_city.data_dir))
    app = _signed_in_app(tmp_path, monkeypatch)
    leaks, shown = {}, 0
    for view in VIEWS:
        app.switch_page(f"views/{view}").run()
        assert not app.exception, (view, [e.message for e in app.exception])
        texts = rendered_texts(app)
        shown += sum(len(t) for t in texts)
        found = find_leaks(texts, identifiers, birth_dates)
        if found:
            leaks[view] = sorted(found)[:5]
    assert shown > 10_000, "the pages must have rendered something to scan"
    assert not leaks, leaks
