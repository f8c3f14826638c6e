"""The landing files follow docs/data-contracts.md section 1 to the letter."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl

from pipelines.config import CITIES
from pipelines.synthetic import generate

ABH_HEADER = ("Vorgangsnr;AZR-Nr;Aktenzeichen;Familienname;Vornamen;Geburtsdatum;Geschlecht;"
              "Staatsangehoerigkeit;Strasse;PLZ;Ort;Einreisedatum;Aufenthaltsstatus;Gueltig_ab;Wohnsitzauflage")
JOBCENTER_HEADER = ("ereignis_id,kundennummer,bg_nummer,nachname,vorname,geburtsdatum,geschlecht,"
                    "staatsangehoerigkeit,azr_nummer,plz,wohnort,ereignis,ereignis_datum,profillage,"
                    "sprachniveau,asylblg_ende,abgangsgrund")
JUGENDAMT_HEADER = ("Fall-Nr", "Lfd-Nr", "Name", "Vorname", "Geb.-Datum", "Geschl.", "Staatsang.", "AZR",
                    "Stadtteil", "Hilfeart", "Beginn", "Ende", "umF", "Anschluss")
GERMAN_DATE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_every_agency_city_and_month_has_one_file_with_the_contract_name(small_city):
    landing = small_city.root / "landing"
    expected = set()
    for month in ("2016-01", "2016-02", "2016-03"):
        for city in CITIES:
            capital = city.capitalize()
            expected |= {
                f"abh/{month}/ABH_{capital}_{month.replace('-', '')}.csv",
                f"jobcenter/{month}/jc_ereignisse_{city}_{month}.csv",
                f"jugendamt/{month}/JA_Faelle_{capital}_{month[:4]}_{month[5:]}.xlsx",
            }
    found = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    assert found == expected
    assert small_city.summary.files_written == len(expected)


def test_abh_files_are_windows_1252_semicolon_crlf_with_the_contract_header(small_city):
    files = sorted((small_city.root / "landing" / "abh").glob("*/*.csv"))
    for path in files:
        raw = path.read_bytes()
        text = raw.decode("cp1252")
        assert text.split("\r\n")[0] == ABH_HEADER
        assert raw.count(b"\n") == raw.count(b"\r\n"), f"{path.name} has a bare LF"
    muelheim = (small_city.root / "landing" / "abh" / "2016-01" / "ABH_Muelheim_201601.csv").read_bytes()
    assert "Mülheim an der Ruhr".encode("cp1252") in muelheim  # umlaut as one cp1252 byte, not UTF-8


def test_abh_values_use_german_dates_and_contract_codes(small_city):
    abh = small_city.abh
    assert len(abh) > 0
    assert not abh.duplicated(["file", "Vorgangsnr"]).any()
    assert abh["Aktenzeichen"].str.fullmatch(r"ABH-[WSM]-\d{7}").all()
    assert abh["AZR-Nr"].str.fullmatch(r"\d{12}").all()
    for column in ("Gueltig_ab", "Einreisedatum", "Geburtsdatum"):
        assert abh[column].str.fullmatch(GERMAN_DATE).all(), column
    assert set(abh["Geschlecht"]) <= {"M", "W", "D"}
    assert abh["Staatsangehoerigkeit"].str.fullmatch(r"\d{3}").all()
    assert set(abh["Aufenthaltsstatus"]) <= {"GEST", "DULD", "AE", "AE_FAM", "NE", "FZG", "FORTZUG"}
    assert set(abh["Wohnsitzauflage"]) <= {"J", "N"}
    assert abh["PLZ"].str.fullmatch(r"\d{5}").all()


def test_jobcenter_files_are_utf8_comma_lf_with_the_contract_header(small_city):
    for path in sorted((small_city.root / "landing" / "jobcenter").glob("*/*.csv")):
        raw = path.read_bytes()
        assert b"\r" not in raw
        assert raw.decode("utf-8").split("\n")[0] == JOBCENTER_HEADER


def test_jobcenter_values_use_iso_dates_and_contract_codes(small_city):
    jc = small_city.jobcenter
    assert len(jc) > 0
    assert jc["kundennummer"].str.fullmatch(r"96[234]D\d{6}").all()
    assert jc["bg_nummer"].str.fullmatch(r"96[234]01//\d{7}").all()
    assert jc["ereignis_datum"].str.fullmatch(ISO_DATE).all()
    assert jc["geburtsdatum"].str.fullmatch(ISO_DATE).all()
    assert (jc["asylblg_ende"].eq("") | jc["asylblg_ende"].str.fullmatch(ISO_DATE)).all()
    assert set(jc["geschlecht"]) <= {"1", "2", "3"}
    assert jc["staatsangehoerigkeit"].str.fullmatch(r"[A-Z]{3}").all()
    assert (jc["azr_nummer"].eq("") | jc["azr_nummer"].str.fullmatch(r"\d{12}")).all()
    events = {"ZUGANG", "PROFILING", "KURS_BEGINN", "KURS_ENDE", "MASSNAHME", "ARBEIT", "AUSBILDUNG", "ABGANG"}
    assert set(jc["ereignis"]) <= events
    profiling = jc["ereignis"] == "PROFILING"
    assert set(jc.loc[profiling, "profillage"]) <= {"MP", "AP", "FP", "EP", "SP", "UP"}
    assert (jc.loc[~profiling, "profillage"] == "").all()
    courses = jc["ereignis"].isin(["KURS_BEGINN", "KURS_ENDE"])
    assert set(jc.loc[courses, "sprachniveau"]) <= {"A1", "A2", "B1", "B2"}
    assert (jc.loc[~courses, "sprachniveau"] == "").all()
    exits = jc["ereignis"] == "ABGANG"
    assert set(jc.loc[exits, "abgangsgrund"]) <= {"ARBEIT", "AUSBILDUNG", "UMZUG", "SONSTIGE"}
    assert (jc.loc[jc["ereignis"] != "ZUGANG", "asylblg_ende"] == "").all()


def test_youth_office_workbooks_have_sheet_faelle_with_the_contract_header_and_date_cells(small_city):
    files = sorted((small_city.root / "landing" / "jugendamt").glob("*/*.xlsx"))
    for path in files:
        workbook = openpyxl.load_workbook(path)
        assert workbook.sheetnames == ["Faelle"]
        rows = list(workbook["Faelle"].iter_rows(values_only=True))
        assert rows[0] == JUGENDAMT_HEADER
        for row in rows[1:]:
            record = dict(zip(JUGENDAMT_HEADER, row, strict=True))
            birth = record["Geb.-Datum"]
            assert isinstance(birth, dt.datetime) or re.fullmatch(r"00\.00\.\d{4}", birth), birth
            assert isinstance(record["Beginn"], dt.datetime)
            assert record["Ende"] is None or isinstance(record["Ende"], dt.datetime)
            assert record["Hilfeart"] in {"INOBHUTNAHME", "VORMUNDSCHAFT", "HZE", "HJV"}
            assert record["umF"] in {"ja", "nein"}
            assert record["Geschl."] in {"m", "w", "d"}
            assert record["Anschluss"] in {None, "SGB2", "AUSBILDUNG", "SCHULE", "HJV", "UNBEKANNT"}
            assert record["Anschluss"] is None or record["Ende"] is not None
            assert re.fullmatch(r"JA-[WSM]-\d{6}", record["Fall-Nr"])
            assert isinstance(record["Lfd-Nr"], int) and record["Lfd-Nr"] >= 1


def test_youth_office_writes_unknown_birth_dates_as_text(calibration_city):
    births = calibration_city.jugendamt["Geb.-Datum"]
    text = births[births.map(lambda value: isinstance(value, str))]
    assert len(text) > 0
    assert text.str.fullmatch(r"00\.00\.\d{4}").all()


def test_a_month_without_records_still_gets_a_file_with_the_header(tmp_path):
    generate(tmp_path, persons=1, months=1, seed=1)
    month = tmp_path / "landing" / "jobcenter" / "2016-01"
    assert (month / "jc_ereignisse_solingen_2016-01.csv").read_text() == JOBCENTER_HEADER + "\n"
    workbook = openpyxl.load_workbook(tmp_path / "landing/jugendamt/2016-01/JA_Faelle_Solingen_2016_01.xlsx")
    assert list(workbook["Faelle"].iter_rows(values_only=True)) == [JUGENDAMT_HEADER]
