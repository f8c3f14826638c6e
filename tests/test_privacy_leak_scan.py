"""Proof of no leak: after a full run, no clear-text identifier of the input appears anywhere.

The identifiers are taken from the delivered files themselves (names, AZR numbers, agency
case, customer and household numbers, record ids, streets, birth dates as delivered), and
every artefact outside the landing zone is searched: the DuckDB warehouse (byte scan and
every text column, since DuckDB may compress strings on disk), the Dagster instance
(event logs, run storage, compute logs), dbt's target and logs, and the releases (Parquet
read back, because Parquet pages are compressed).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import load_workbook

TOKEN = re.compile(r"[\w\-./]+")
# Columns of each layout that identify a person; dates only where they carry a day.
IDENTIFYING = {
    "abh": ["Vorgangsnr", "AZR-Nr", "Aktenzeichen", "Familienname", "Vornamen", "Strasse", "Geburtsdatum"],
    "jobcenter": ["ereignis_id", "kundennummer", "bg_nummer", "nachname", "vorname", "azr_nummer"],
    "jugendamt": ["Fall-Nr", "Name", "Vorname", "AZR"],
}
EXCLUDED_FOLDERS = {"landing", "truth", "keys"}


def _delivered_values(landing: Path) -> set[str]:
    values: set[str] = set()
    for path in landing.rglob("*"):
        agency = path.relative_to(landing).parts[0]
        if path.suffix == ".csv":
            encoding, sep = ("cp1252", ";") if agency == "abh" else ("utf-8", ",")
            frame = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)
        elif path.suffix == ".xlsx":
            sheet = load_workbook(path, read_only=True).active
            rows = list(sheet.iter_rows(values_only=True))
            frame = pd.DataFrame(rows[1:], columns=rows[0]).astype(str)
        else:
            continue
        for column in IDENTIFYING[agency]:
            values.update(frame[column].dropna().astype(str))
    return values


def identifier_tokens(landing: Path) -> set[str]:
    """Single tokens that identify: at least 5 characters, not a placeholder date."""
    tokens: set[str] = set()
    for value in _delivered_values(landing):
        for token in TOKEN.findall(value):
            if len(token) >= 5 and not re.fullmatch(r"0[01]\.0[01]\.\d{4}", token) and token not in ("None", "nan"):
                tokens.add(token)
    return tokens


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
    return [data.decode("utf-8", "ignore"), data.decode("cp1252", "ignore")]


def test_no_clear_text_identifier_appears_in_any_artefact(pipeline_city):
    identifiers = identifier_tokens(pipeline_city.data_dir / "landing")
    assert len(identifiers) > 500, "the scan must have identifiers to look for"
    scanned = 0
    leaks: dict[str, set[str]] = {}
    for path in pipeline_city.data_dir.rglob("*"):
        relative = path.relative_to(pipeline_city.data_dir)
        if not path.is_file() or relative.parts[0] in EXCLUDED_FOLDERS or path.suffix == ".wal":
            continue
        scanned += 1
        for text in _texts_of(path):
            found = identifiers & set(TOKEN.findall(text))
            if found:
                leaks.setdefault(str(relative), set()).update(found)
    assert scanned > 20
    assert not leaks, {k: sorted(v)[:5] for k, v in leaks.items()}


def test_the_scan_would_find_a_leak(pipeline_city, tmp_path):
    """The scanner itself is tested: a planted identifier is found."""
    identifiers = identifier_tokens(pipeline_city.data_dir / "landing")
    planted = sorted(identifiers)[0]
    leaky = tmp_path / "leak.parquet"
    pd.DataFrame({"x": [f"see {planted} here"]}).to_parquet(leaky)
    assert planted in set(TOKEN.findall(_texts_of(leaky)[0]))
