"""Tables to take into a meeting: CSV and XLSX files of what a page shows, each download audited.

Both formats hold the table as the reader sees it (same rows, headers in words, `*` for suppressed
cells, never 0). A CSV file follows the spreadsheet conventions of the chosen language (German:
`;` and decimal comma, with a BOM so that Excel detects UTF-8). An XLSX file keeps numbers as
numbers and carries a second sheet with the release, the filters and the legend.

Spreadsheet formula injection: a cell whose text starts with `=`, `+`, `-`, `@` (or a tab or carriage
return) is executed as a formula by Excel and LibreOffice. Release tables carry texts from the
agencies' deliveries (file names, check messages), so every such text cell gets a leading apostrophe
in both formats; plain numbers (`-56`, `-1,5`) stay numbers.

Files are made when the reader clicks (Streamlit's deferred download), not on every page run,
which keeps pages fast; the same moment writes the audit entry.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from dashboards import audit
from dashboards.formatting import (
    INCOMPLETE_SUFFIX,
    SUPPRESSED,
    Column,
    display_table,
    lower_bound_legend,
    suppressed_mask,
    suppression_legend,
)
from dashboards.i18n import Language, t

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")
CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"


def neutralise(text: str) -> str:
    """A cell text that no spreadsheet will run as a formula (numbers are left alone)."""
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_bytes(frame: pd.DataFrame, columns: Sequence[Column], lang: Language = "de") -> bytes:
    """The displayed table as CSV for a spreadsheet in the reader's language."""
    table = display_table(frame, columns, for_csv=True, lang=lang).map(neutralise)
    separator = ";" if lang == "de" else ","
    return table.to_csv(sep=separator, index=False, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    title: str,
    notes: Mapping[str, str],
    threshold: int,
    lang: Language = "de",
) -> bytes:
    """The displayed table as an Excel workbook: sheet 1 the table, sheet 2 where it comes from."""
    shown = display_table(frame, columns, lang=lang)
    book = Workbook()
    sheet = book.active
    sheet.title = t("Tabelle", "Table", lang)
    sheet.append([neutralise(spec.label) for spec in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(len(frame)):
        sheet.append([_xlsx_cell(frame, shown, spec, index) for spec in columns])
    for number, spec in enumerate(columns, start=1):
        width = max([len(spec.label), *(len(str(v)) for v in shown[spec.label].head(200))]) + 2
        sheet.column_dimensions[get_column_letter(number)].width = min(width, 60)
        if spec.numeric:
            for cell in sheet[get_column_letter(number)][1:]:
                cell.alignment = Alignment(horizontal="right")
                if spec.kind == "percent":
                    cell.number_format = "0.0%"
                elif spec.kind == "rate":
                    cell.number_format = "0.0"
                else:
                    cell.number_format = "#,##0"
    sheet.freeze_panes = "A2"

    about = book.create_sheet(t("Hinweise", "Notes", lang))
    about.append([neutralise(title)])
    about["A1"].font = Font(bold=True)
    for key, value in notes.items():
        about.append([neutralise(str(key)), neutralise(str(value))])
    about.append([t("Legende", "Legend", lang), suppression_legend(threshold, lang)])
    about.append(["", lower_bound_legend(lang)])
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 90
    for row in about.iter_rows():
        for cell in row:
            cell.data_type = "s"  # never a formula, whatever the text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(frame: pd.DataFrame, shown: pd.DataFrame, spec: Column, index: int) -> Any:
    """A number stays a number; suppressed, bounded or missing values stay the text the reader sees."""
    text = str(shown[spec.label].iloc[index])
    if not spec.numeric:
        return neutralise(text)
    value = frame[spec.name].iloc[index]
    hidden = bool(suppressed_mask(frame.iloc[[index]], spec.name).iloc[0])
    bounded = spec.name + INCOMPLETE_SUFFIX in frame.columns and bool(frame[spec.name + INCOMPLETE_SUFFIX].iloc[index])
    if hidden:
        return SUPPRESSED
    if value is None or pd.isna(value):
        return None  # missing (not suppressed): an empty cell, as in the CSV file
    if bounded:
        return neutralise(text)
    number = float(value)
    return int(number) if number.is_integer() and spec.kind != "percent" else number


@dataclass(frozen=True)
class Export:
    """One downloadable file: how to make it, and what the audit log says about it."""

    key: str
    format: str  # csv, xlsx, pdf
    file_name: str
    mime: str
    make: Callable[[], bytes]
    audit_user: str | None
    audit_auth: str | None
    release_id: str
    page: str | None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self) -> bytes:
        """Make the file and log the export (Streamlit calls this when the reader clicks)."""
        data = self.make()
        audit.record(
            "export",
            user=self.audit_user,
            auth=self.audit_auth,
            release=self.release_id,
            page=self.page,
            details={
                "format": self.format,
                "table": self.key,
                "file": self.file_name,
                "bytes": len(data),
                **dict(self.details),
            },
        )
        return data


def export_notes(release_id: str, filters: Mapping[str, str], lang: Language) -> dict[str, str]:
    """What an exported table's notes sheet says about its origin."""
    return {
        t("Veröffentlichung", "Release", lang): release_id,
        t("Exportiert (UTC)", "Exported (UTC)", lang): datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        **filters,
    }
