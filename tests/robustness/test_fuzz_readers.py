"""Property-based tests of every reader and of date parsing: any input ends in a load or a clear refusal.

For any bytes delivered under a contract (CSV in Windows-1252, CSV in UTF-8, XLSX), ingesting
ends either ``loaded`` with every data line accounted for (rows read = loaded + quarantined,
and rows read = the lines the file really has) or ``rejected`` with a message that names the
file. Never another exception, never a row that silently disappears. The generated files are
mostly near-misses of a real delivery (right header, odd values, broken quoting, wrong encoding,
random byte damage), because pure noise would only ever exercise the first check.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from pipelines.ingest.contract import Contract, all_contracts
from pipelines.ingest.delivery import ingest_file
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey
from pipelines.ingest.validate import check_rows, parse_dates

ENCODER = Encoder(PseudonymKey(b"fuzz-test-key-" * 3, source="test"))
# Modest in `make test` (one whole ingest costs ~0.1 s); INTEGRATION_FUZZ_SCALE=50 fuzzes fifty times longer
# (worth it after a change to a reader or to date parsing).
SCALE = int(os.environ.get("INTEGRATION_FUZZ_SCALE", "1"))
FUZZ = settings(max_examples=100 * SCALE, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))

# Values an agency's software really produces, and the ones that break parsers.
TYPICAL = ["", "V1", "ABH-W-1", "Müller", "Haddad", "محمد", "00.00.1990", "01.01.1990", "17.06.1992", "1990-05-01",
           "2016-03-01", "M", "W", "1", "2", "475", "SYR", "GEST", "AE", "J", "N", "ZUGANG", "EP", "A1", "42103",
           "Wuppertal", "Hauptstr. 1"]
TRICKY = ['"', '""', '"x', 'x"', '"a;b"', '"a,b"', ";", ",", "\t", "\n", "\r", "\r\n", "\x00", "\ufeff", "31.02.2016",
          "2016-13-01", "=HYPERLINK(\"x\")", "@SUM(1)", "+1", "-1", " ", "ÿ", "€", "\u0085", "\u2028", "x" * 300]
value = st.one_of(st.sampled_from(TYPICAL), st.sampled_from(TRICKY), st.text(max_size=12))


def _header(contract: Contract) -> st.SearchStrategy[list[str]]:
    names = contract.column_names
    return st.one_of(
        st.just(names),
        st.permutations(names),
        st.builds(lambda extra: [*names, extra], st.sampled_from(["Religion", "", "x", names[0]])),
        st.builds(lambda drop: [n for n in names if n != drop], st.sampled_from(names)),
    )


@st.composite
def csv_delivery(draw: st.DrawFn, contract: Contract) -> bytes:
    header = draw(_header(contract))
    width = len(header)
    rows = draw(st.lists(st.lists(value, min_size=max(width - 2, 0), max_size=width + 1), max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    delimiter = draw(st.sampled_from([contract.file.delimiter] * 4 + [";" if contract.file.delimiter == "," else ","]))
    text = newline.join(delimiter.join(row) for row in [header, *rows])
    text += draw(st.sampled_from([newline, ""]))
    encoding = draw(st.sampled_from([contract.file.encoding] * 3 + ["utf-8", "cp1252", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    for _ in range(draw(st.integers(0, 3))):  # byte damage: insert, overwrite, or cut
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["insert", "overwrite", "cut"]))
        noise = draw(st.binary(min_size=1, max_size=4))
        data = {"insert": data[:at] + noise + data[at:], "overwrite": data[:at] + noise + data[at + len(noise):],
                "cut": data[:at]}[kind]
    return data


def _expected_csv_rows(data: bytes) -> int:
    """Data lines of a text file as an editor counts them (any line ending), the header not counted."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return max(len(lines) - 1, 0)


_WAREHOUSE = duckdb.connect()  # one in-memory warehouse, emptied per example: connecting costs more than a delivery


def _empty_warehouse() -> duckdb.DuckDBPyConnection:
    for schema, table in _WAREHOUSE.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in ('raw', 'meta')"
    ).fetchall():
        _WAREHOUSE.execute(f'delete from "{schema}"."{table}"')
    return _WAREHOUSE


def _ingest_bytes(data: bytes, agency: str, suffix: str) -> tuple[str, int, int, int, str, duckdb.DuckDBPyConnection]:
    path = WORKDIR / f"delivery-{agency}{suffix}"
    path.write_bytes(data)
    con = _empty_warehouse()
    outcome = ingest_file(path, "wuppertal", "2016-03", all_contracts()[agency], ENCODER, con, "fuzz")
    assert outcome.status in ("loaded", "rejected")
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    register = con.execute("select status, rows_read, rows_loaded, rows_quarantined from meta.deliveries").fetchall()
    assert register == [(outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined)]
    table = all_contracts()[agency].table
    assert con.execute(f"select count(*) from raw.{table}").fetchone()[0] == outcome.rows_loaded
    if outcome.status == "rejected":
        assert outcome.message.startswith(path.name), outcome.message
    else:
        quarantined = con.execute("select count(distinct source_row) from meta.quarantine").fetchone()[0]
        assert quarantined == outcome.rows_quarantined
    return outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined, outcome.message, con


@FUZZ
@given(csv_delivery(all_contracts()["abh"]))
def test_any_cp1252_csv_delivery_is_loaded_row_by_row_or_rejected_with_a_message(data):
    status, rows_read, *_ = _ingest_bytes(data, "abh", ".csv")
    if status == "loaded":
        assert rows_read == _expected_csv_rows(data)


@FUZZ
@given(csv_delivery(all_contracts()["jobcenter"]))
def test_any_utf8_csv_delivery_is_loaded_row_by_row_or_rejected_with_a_message(data):
    status, rows_read, *_ = _ingest_bytes(data, "jobcenter", ".csv")
    if status == "loaded":
        assert rows_read == _expected_csv_rows(data)


@settings(FUZZ, max_examples=60 * SCALE)
@given(st.binary(max_size=300))
def test_any_bytes_at_all_are_loaded_or_rejected_by_every_reader(data):
    for agency, suffix in (("abh", ".csv"), ("jobcenter", ".csv"), ("jugendamt", ".xlsx")):
        _ingest_bytes(data, agency, suffix)


XML_SAFE = st.characters(blacklist_categories=("Cs",),
                         blacklist_characters=[chr(i) for i in range(32) if i not in (9, 10, 13)])
cell = st.one_of(
    st.none(),
    st.sampled_from(TYPICAL),
    st.text(XML_SAFE, max_size=12).filter(lambda t: not t.startswith("=")),  # '=' would make a formula cell
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.booleans(),
)


@st.composite
def xlsx_delivery(draw: st.DrawFn) -> tuple[bytes, int]:
    contract = all_contracts()["jugendamt"]
    header = draw(_header(contract))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 1), max_size=6))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = draw(st.sampled_from(["Faelle"] * 5 + ["Tabelle1"]))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.properties.created = workbook.properties.modified = dt.datetime(2016, 4, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if draw(st.integers(0, 4)) == 0:  # damage the zip now and then
        # A position independent of the file's length: the zip's timestamps may change its compressed size.
        at = draw(st.integers(0, 10**6)) % len(data)
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at + 8:]
    columns = [header.index(c) if c in header else None for c in contract.column_names]
    with_content = sum(
        any(i is not None and i < len(row) and row[i] is not None and str(row[i]).strip() != "" for i in columns)
        for row in rows
    )
    return data, with_content


@settings(FUZZ, max_examples=50 * SCALE)
@given(xlsx_delivery())
def test_any_xlsx_delivery_is_loaded_row_by_row_or_rejected_with_a_message(delivery):
    data, rows_with_content = delivery
    status, rows_read, *_ = _ingest_bytes(data, "jugendamt", ".xlsx")
    if status == "loaded":
        assert rows_read == rows_with_content


# --- dates ----------------------------------------------------------------------------------

def _calendar_date(text: str, fmt: str) -> dt.date | None:
    """The oracle: the contract's layout in ASCII digits (day and month 1-2 digits) and a real calendar day."""
    parts = {"%d.%m.%Y": r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})",
             "%Y-%m-%d": r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"}[fmt]
    match = re.fullmatch(parts, text)
    if not match:
        return None
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


date_like = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{3,5}\Z"),
    st.from_regex(r"\A[0-9]{3,5}-[0-9]{1,3}-[0-9]{1,3}\Z"),
    st.dates(min_value=dt.date(1, 1, 1)).map(lambda d: d.strftime("%d.%m.") + f"{d.year:04d}"),
    st.dates(min_value=dt.date(1, 1, 1)).map(lambda d: f"{d.year:04d}" + d.strftime("-%m-%d")),
    st.sampled_from(["31.02.2016", "29.02.2015", "29.02.2016", "00.00.1990", "01.13.2016", "١٢.٠٣.١٩٩٠", "1.2.2016"]),
)


@settings(FUZZ, max_examples=300 * SCALE)
@given(st.lists(date_like, min_size=1, max_size=20), st.sampled_from([("%d.%m.%Y",), ("%Y-%m-%d",),
                                                                      ("%Y-%m-%d", "%d.%m.%Y")]))
def test_date_parsing_returns_exactly_the_calendar_dates_written_in_the_contract_layout(texts, formats):
    parsed = parse_dates(pd.Series(texts, dtype="string"), formats)
    for text, got in zip(texts, parsed, strict=True):
        expected = next((d for f in formats if (d := _calendar_date(text, f)) is not None), None)
        if expected is None:
            assert pd.isna(got), (text, got)
        else:
            assert got.date() == expected, (text, got)


@settings(FUZZ, max_examples=60 * SCALE)
@given(st.lists(st.tuples(date_like, date_like), min_size=1, max_size=12))
def test_any_text_in_a_date_field_loads_as_that_date_or_is_quarantined_naming_the_field(pairs):
    """Arrival date (plain date) and birth date (with placeholders) of otherwise valid immigration-office rows."""
    contract = all_contracts()["abh"]
    good = dict(zip(contract.column_names, ["V", "", "ABH-W-1", "Haddad", "Rami", "17.06.1992", "M", "475", "",
                                            "42103", "Wuppertal", "01.10.2015", "GEST", "15.10.2015", "J"],
                    strict=True))
    frame = pd.DataFrame([{**good, "Vorgangsnr": f"V{i}", "Einreisedatum": arrival, "Geburtsdatum": birth}
                          for i, (arrival, birth) in enumerate(pairs)])
    frame["source_row"] = range(2, len(frame) + 2)
    checked = check_rows(frame, contract, dt.date(2016, 3, 31))

    problems = {(p.row, p.field) for p in checked.problems}
    loaded = set(checked.good["source_row"])
    assert loaded | {row for row, _ in problems} == set(frame["source_row"])
    assert not loaded & {row for row, _ in problems}
    for (arrival, _birth), row in zip(pairs, frame["source_row"], strict=True):
        arrival_date = _calendar_date(arrival.strip(), "%d.%m.%Y")
        arrival_ok = arrival.strip() == "" or (
            arrival_date is not None and dt.date(1900, 1, 1) <= arrival_date <= dt.date(2016, 3, 31))
        assert ((row, "Einreisedatum") not in problems) == arrival_ok, (arrival, problems)
        if row in loaded:
            stored = checked.parsed_dates["Einreisedatum"][checked.good["source_row"] == row].iloc[0]
            assert (pd.isna(stored) and arrival.strip() == "") or stored.date() == arrival_date
