"""Downloads: every table as CSV and XLSX, the monthly PDF report, formula neutralisation, audit."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pandas as pd
import pytest
from dashboard_release_builder import RELEASE_ID, PublishedRelease
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from dashboards import audit, exports
from dashboards.formatting import Column

SHOWN = [
    Column("file", "Datei"),
    Column("persons", "Personen", "count"),
    Column("change", "Veränderung", "change"),
    Column("share", "Anteil", "percent"),
]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": ['=HYPERLINK("http://x")', "+49 202", "-1+1", "@SUM(A1)", "normal", "ABH_2016.csv"],
            "persons": pd.array([12345, None, 7, 0, 5, 8], dtype="Int64"),
            "persons_suppressed": [False, True, False, False, False, False],
            "change": pd.array([-56, None, 3, 0, -1, 2], dtype="Int64"),
            "share": pd.array([0.921, None, 0.5, 0.0, 0.25, 0.125], dtype="Float64"),
        }
    )


def test_a_download_writes_the_table_and_an_audit_entry(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app("zustaendigkeiten.py")
    export = app.session_state["_exporte"]["xlsx-tabelle-zustaendigkeiten"]

    data = export()  # what Streamlit calls when the reader clicks
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    shown = app.get_by_key("tabelle-zustaendigkeiten").dataframe[0].value
    assert list(rows[0]) == list(shown.columns)
    assert len(rows) - 1 == len(shown)
    assert "*" in [row[-1] for row in rows[1:]], "suppressed cells stay suppressed in the file"
    entry = audit.read_entries()[-1]
    assert entry["event"] == "export" and entry["format"] == "xlsx" and entry["table"] == "tabelle-zustaendigkeiten"
    assert entry["user"] == "beides" and entry["release"] == RELEASE_ID and entry["page"] == "zustaendigkeiten"
    assert entry["bytes"] == len(data)


def test_csv_neutralises_formulas_and_keeps_numbers_and_stars() -> None:
    text = exports.csv_bytes(frame(), SHOWN, "de").decode("utf-8-sig").splitlines()

    assert text[0] == "Datei;Personen;Veränderung;Anteil"
    assert text[1] == '"\'=HYPERLINK(""http://x"")";12345;-56;92,1'
    assert text[2] == "'+49 202;*;;"
    assert text[3].startswith("'-1+1;7;3;")
    assert text[4].startswith("'@SUM(A1);0;0;")
    assert text[6] == "ABH_2016.csv;8;2;12,5"


def test_english_csv_uses_commas_and_decimal_points() -> None:
    text = exports.csv_bytes(frame(), SHOWN, "en").decode("utf-8-sig").splitlines()
    assert text[1] == '"\'=HYPERLINK(""http://x"")",12345,-56,92.1'


def test_xlsx_keeps_numbers_as_numbers_and_never_writes_a_formula() -> None:
    data = exports.xlsx_bytes(frame(), SHOWN, title="=Titel", notes={"Filter": "@x"}, threshold=5, lang="de")
    book = load_workbook(io.BytesIO(data))
    table, notes = book.worksheets
    rows = list(table.iter_rows(values_only=True))

    assert rows[1] == ('\'=HYPERLINK("http://x")', 12345, -56, pytest.approx(0.921))
    assert rows[2] == ("'+49 202", "*", None, None)
    assert [cell.data_type for row in table.iter_rows() for cell in row if cell.value is not None].count("f") == 0
    texts = [cell.value for row in notes.iter_rows() for cell in row if cell.value]
    assert "'=Titel" in texts and "'@x" in texts
    assert any("gesperrt" in str(text) for text in texts)


def test_monthly_report_is_a_pdf_of_the_main_pages_and_is_audited(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app()
    report = app.session_state["_exporte"]["pdf-monatsbericht"]
    assert report.file_name == f"monatsbericht_2016-06_{RELEASE_ID}.pdf"
    assert any(b.label == "Monatsbericht (PDF)" for b in app.sidebar.get("download_button"))

    data = report()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 4
    assert b"DejaVu" in data, "a Unicode font is embedded (umlauts, dashes)"
    assert len(_images(data)) >= 2, "charts of the city comparison and the paths"
    entry = audit.read_entries()[-1]
    assert entry["event"] == "export" and entry["format"] == "pdf" and entry["table"] == "monatsbericht"


def test_monthly_report_follows_the_group_filter(published: PublishedRelease, open_app: Callable[..., AppTest]) -> None:
    app = open_app()
    app.selectbox(key="geschlecht").set_value("f").run()
    data = app.session_state["_exporte"]["pdf-monatsbericht"]()
    assert data.startswith(b"%PDF-")
    assert audit.read_entries()[-1]["filters"]["groups"] == {"sex": "f"}


def _images(pdf: bytes) -> list[bytes]:
    return re.findall(rb"/Subtype\s*/Image", pdf)
