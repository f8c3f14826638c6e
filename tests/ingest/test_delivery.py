"""Ingest of single delivery files: good rows load, bad rows are quarantined with file, row and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from pipelines.ingest.contract import all_contracts
from pipelines.ingest.delivery import delivery_files, ingest_file
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey

ABH_HEADER = ("Vorgangsnr;AZR-Nr;Aktenzeichen;Familienname;Vornamen;Geburtsdatum;Geschlecht;Staatsangehoerigkeit;"
              "Strasse;PLZ;Ort;Einreisedatum;Aufenthaltsstatus;Gueltig_ab;Wohnsitzauflage")
GOOD_ROW = "V1;123456789012;ABH-W-1;Müller-Lüdenscheidt;Hans;00.00.1990;M;475;Hauptstr. 1;42103;Wuppertal;" \
           "01.10.2015;GEST;15.10.2015;J"
JC_HEADER = ("ereignis_id,kundennummer,bg_nummer,nachname,vorname,geburtsdatum,geschlecht,staatsangehoerigkeit,"
             "azr_nummer,plz,wohnort,ereignis,ereignis_datum,profillage,sprachniveau,asylblg_ende,abgangsgrund")


@pytest.fixture
def encoder() -> Encoder:
    return Encoder(PseudonymKey(b"k" * 40, source="test"))


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def write_abh(landing: Path, rows: list[str], month: str = "2016-03", encoding: str = "cp1252",
              header: str = ABH_HEADER, name: str | None = None) -> Path:
    folder = landing / "abh" / month
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"ABH_Wuppertal_{month.replace('-', '')}.csv")
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode(encoding))
    return path


def ingest_abh(path: Path, con, encoder: Encoder, month: str = "2016-03"):
    return ingest_file(path, "wuppertal", month, all_contracts()["abh"], encoder, con, "test-run")


def quarantine(con) -> list[tuple]:
    return con.execute("select source_row, field, reason from meta.quarantine order by source_row").fetchall()


def test_good_rows_load_and_bad_rows_are_quarantined_with_row_field_and_reason(tmp_path, con, encoder):
    rows = [
        GOOD_ROW,
        GOOD_ROW.replace("V1;", "V2;").replace("00.00.1990", "31.02.1990"),  # impossible date
        GOOD_ROW.replace("V1;", "V3;").replace(";GEST;", ";XYZ;"),  # unknown status code
        GOOD_ROW,  # duplicate record id
        "V5;;ABH-W-5;Kurz",  # truncated line
        GOOD_ROW.replace("V1;", "V6;").replace("15.10.2015", "15.10.2030"),  # after the delivery month
    ]
    outcome = ingest_abh(write_abh(tmp_path, rows), con, encoder)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (6, 1, 5)
    problems = quarantine(con)
    assert problems[0][:2] == (3, "Geburtsdatum") and "dd.mm.yyyy" in problems[0][2]
    assert problems[1][:2] == (4, "Aufenthaltsstatus") and "unknown code" in problems[1][2]
    assert problems[2][:2] == (5, "Vorgangsnr") and "first in row 2" in problems[2][2]
    assert problems[3][:2] == (6, "(line)") and "fields" in problems[3][2]
    assert problems[4][:2] == (7, "Gueltig_ab") and "after the delivery month" in problems[4][2]
    register = con.execute("select rows_read, rows_loaded, rows_quarantined, status from meta.deliveries").fetchall()
    assert register == [(6, 1, 5, "loaded")]


def test_placeholder_birth_dates_keep_the_year_but_no_full_date(tmp_path, con, encoder):
    rows = [GOOD_ROW, GOOD_ROW.replace("V1;", "V2;").replace("00.00.1990", "01.01.1991"),
            GOOD_ROW.replace("V1;", "V3;").replace("00.00.1990", "17.06.1992")]
    ingest_abh(write_abh(tmp_path, rows), con, encoder)
    got = con.execute("select birth_year, birth_date_precision, birth_date_hash is not null from "
                      "raw.abh__residence_status order by source_row").fetchall()
    assert got == [(1990, "year", False), (1991, "year", False), (1992, "day", True)]


def test_identifiers_never_reach_the_warehouse_file(tmp_path, con, encoder):
    ingest_abh(write_abh(tmp_path, [GOOD_ROW, GOOD_ROW.replace("V1;", "V2;").replace("31", "xx")]), con, encoder)
    con.close()
    stored = (tmp_path / "warehouse.duckdb").read_bytes()
    for secret in ["Müller", "Lüdenscheidt", "Hans", "123456789012", "ABH-W-1", "Hauptstr", "1990", "V1"]:
        assert secret.encode("utf-8") not in stored and secret.encode("cp1252") not in stored, secret


def test_reingesting_a_month_replaces_it_and_keeps_the_register_history(tmp_path, con, encoder):
    path = write_abh(tmp_path, [GOOD_ROW])
    ingest_abh(path, con, encoder)
    ingest_abh(path, con, encoder)
    assert con.execute("select count(*) from raw.abh__residence_status").fetchone()[0] == 1
    corrected = write_abh(tmp_path, [GOOD_ROW, GOOD_ROW.replace("V1;", "V2;")])
    ingest_abh(corrected, con, encoder)
    assert con.execute("select count(*) from raw.abh__residence_status").fetchone()[0] == 2
    history = con.execute("select rows_loaded, superseded from meta.deliveries order by ingested_at").fetchall()
    assert history == [(1, True), (1, True), (2, False)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda: (ABH_HEADER + "\r\n" + GOOD_ROW + "\r\n").encode("utf-8"), "UTF-8 but the contract expects"),
        (lambda: (ABH_HEADER.replace(";", ",") + "\r\n").encode("cp1252"), "wrong delimiter"),
        (lambda: (ABH_HEADER.replace(";Wohnsitzauflage", "") + "\r\n").encode("cp1252"),
         "missing from the header: Wohnsitzauflage"),
        (lambda: b"", "empty"),
    ],
    ids=["utf8-instead-of-cp1252", "wrong-delimiter", "missing-column", "empty-file"],
)
def test_unreadable_file_is_rejected_with_a_message_naming_the_file(tmp_path, con, encoder, content, message):
    folder = tmp_path / "abh" / "2016-03"
    folder.mkdir(parents=True)
    path = folder / "ABH_Wuppertal_201603.csv"
    path.write_bytes(content())
    outcome = ingest_abh(path, con, encoder)
    assert outcome.status == "rejected"
    assert message in outcome.message and "ABH_Wuppertal_201603.csv" in outcome.message
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined


def test_extra_and_reordered_columns_load_and_the_extra_column_is_not_stored(tmp_path, con, encoder):
    header = ABH_HEADER.split(";")
    values = GOOD_ROW.split(";")
    order = list(reversed(range(len(header))))
    path = write_abh(tmp_path, [";".join([values[i] for i in order] + ["geheim"])],
                     header=";".join([header[i] for i in order] + ["Religion"]))
    outcome = ingest_abh(path, con, encoder)
    assert outcome.rows_loaded == 1 and "Religion" in outcome.message
    columns = [r[0] for r in con.execute("describe raw.abh__residence_status").fetchall()]
    assert "Religion" not in columns


def test_invalid_utf8_line_is_quarantined_and_the_rest_loads(tmp_path, con, encoder):
    folder = tmp_path / "jobcenter" / "2016-03"
    folder.mkdir(parents=True)
    good = "E1,962D1,96201//1,Haddad,Rami,1990-05-01,1,SYR,,42103,Wuppertal,ZUGANG,2016-03-01,,,2016-02-28,"
    path = folder / "jc_ereignisse_wuppertal_2016-03.csv"
    path.write_bytes("\n".join([JC_HEADER, good]).encode() + b"\nE2,962D2,,Ha\xffdad" + b",x" * 12 + b"\n")
    outcome = ingest_file(path, "wuppertal", "2016-03", all_contracts()["jobcenter"], encoder, con, "t")
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (2, 1, 1)
    assert quarantine(con)[0][0] == 3 and "not valid utf-8" in quarantine(con)[0][2]


def test_youth_office_spreadsheet_with_date_cells_and_text_placeholders_loads(tmp_path, con, encoder):
    folder = tmp_path / "jugendamt" / "2016-03"
    folder.mkdir(parents=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Faelle"
    sheet.append(["Fall-Nr", "Lfd-Nr", "Name", "Vorname", "Geb.-Datum", "Geschl.", "Staatsang.", "AZR",
                  "Stadtteil", "Hilfeart", "Beginn", "Ende", "umF", "Anschluss"])
    sheet.append(["JA-W-1", 1, "Haidari", "Ali", dt.datetime(2000, 5, 1), "m", "Afghanistan", None, "Elberfeld",
                  "INOBHUTNAHME", dt.datetime(2016, 1, 3), None, "ja", None])
    sheet.append(["JA-W-2", 1, "Tesfay", "Selam", "00.00.2001", "w", "Eritrea", None, "Barmen",
                  "HZE", dt.datetime(2016, 2, 1), dt.datetime(2016, 3, 1), "ja", "SCHULE"])
    sheet.append(["JA-W-2", 1, "Tesfay", "Selam", "00.00.2001", "w", "Eritrea", None, "Barmen",
                  "HZE", dt.datetime(2016, 2, 1), None, "ja", None])
    path = folder / "JA_Faelle_Wuppertal_2016_03.xlsx"
    workbook.save(path)
    assert delivery_files(tmp_path, all_contracts()["jugendamt"], "2016-03") == [(path, "wuppertal")]
    outcome = ingest_file(path, "wuppertal", "2016-03", all_contracts()["jugendamt"], encoder, con, "t")
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (3, 2, 1)
    got = con.execute("select birth_year, birth_date_precision, help_type, unaccompanied, end_date "
                      "from raw.jugendamt__cases order by source_row").fetchall()
    assert got == [(2000, "day", "INOBHUTNAHME", True, None), (2001, "year", "HZE", True, dt.date(2016, 3, 1))]


def test_formula_error_cells_reach_the_row_checks_as_their_text_not_as_empty_cells(tmp_path, con, encoder):
    """calamine reads an error cell (#N/A) as empty; such a workbook is read with openpyxl instead, so that a
    row of errors is counted and checked, and an error in a coded field is quarantined as what it is."""
    folder = tmp_path / "jugendamt" / "2016-03"
    folder.mkdir(parents=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Faelle"
    columns = ["Fall-Nr", "Lfd-Nr", "Name", "Vorname", "Geb.-Datum", "Geschl.", "Staatsang.", "AZR", "Stadtteil",
               "Hilfeart", "Beginn", "Ende", "umF", "Anschluss"]
    sheet.append(columns)
    sheet.append(["JA-W-1", 1, "Haidari", "Ali", dt.datetime(2000, 5, 1), "m", "Afghanistan", None, "Elberfeld",
                  "#N/A", dt.datetime(2016, 1, 3), None, "ja", None])
    sheet.append(["#N/A"] * len(columns))
    assert sheet["J2"].data_type == "e"  # an error cell, as Excel writes one
    path = folder / "JA_Faelle_Wuppertal_2016_03.xlsx"
    workbook.save(path)
    outcome = ingest_file(path, "wuppertal", "2016-03", all_contracts()["jugendamt"], encoder, con, "t")
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (2, 0, 2)
    reasons = dict(con.execute("select field, reason from meta.quarantine where source_row = 2").fetchall())
    assert reasons == {"Hilfeart": "unknown code (allowed: INOBHUTNAHME, VORMUNDSCHAFT, HZE, HJV)"}
