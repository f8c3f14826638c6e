"""Read a delivery file into a table of strings, one row per data row, with its row number.

Problems that make the whole file unreadable (wrong encoding, delimiter, missing
columns) raise :class:`DeliveryError`; problems of single rows (a line with too
few fields, bytes that are not valid in the contract's encoding) are returned as
:class:`RowProblem` so that the good rows still load. Row numbers count the
header as row 1, as a spreadsheet or text editor shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.ingest.contract import Contract


class DeliveryError(Exception):
    """The file as a whole cannot be read under its contract."""

    def __init__(self, file_name: str, message: str, row: int | None = None, field: str | None = None):
        self.file_name, self.row, self.field = file_name, row, field
        where = file_name + (f", row {row}" if row else "") + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    reason: str
    value: str | None = None


@dataclass
class ReadResult:
    rows: pd.DataFrame  # contract columns as strings ('' for empty) plus 'source_row'
    problems: list[RowProblem]
    rows_read: int
    notes: list[str]


def read_delivery(path: Path, contract: Contract) -> ReadResult:
    if contract.file.format == "csv":
        return _read_csv(path, contract)
    if contract.file.format == "xlsx":
        return _read_xlsx(path, contract)
    raise ValueError(f"unknown file format {contract.file.format!r}")


def _decode(path: Path, contract: Contract) -> tuple[str, list[RowProblem], list[str]]:
    data = path.read_bytes()
    name = path.name
    notes: list[str] = []
    if not data.strip():
        raise DeliveryError(name, "the file is empty (no header row); ask the agency to deliver it again")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        notes.append("a UTF-8 byte-order mark was removed")
    encoding = contract.file.encoding.lower().replace("_", "-")
    if encoding in ("cp1252", "windows-1252") and _looks_like_utf8(data):
        raise DeliveryError(
            name, "the file is encoded as UTF-8 but the contract expects Windows-1252 (cp1252); "
            "ask the agency to export with the agreed encoding or change the contract"
        )
    try:
        return data.decode(encoding), [], notes
    except UnicodeDecodeError:
        pass
    # Decode line by line so that one bad line does not cost the whole delivery.
    problems: list[RowProblem] = []
    lines = data.split(b"\n")
    text_lines: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            text_lines.append(line.decode(encoding))
        except UnicodeDecodeError as exc:
            if number == 1:
                raise DeliveryError(name, f"the header is not valid {contract.file.encoding}", row=1) from exc
            problems.append(RowProblem(number, "(line)", f"not valid {contract.file.encoding}: byte "
                                       f"0x{line[exc.start]:02x} at position {exc.start + 1}"))
            text_lines.append("")  # keeps row numbers; the empty line is skipped below
    return "\n".join(text_lines), problems, notes


def _looks_like_utf8(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_header(name: str, header: list[str], contract: Contract) -> list[str]:
    expected = contract.column_names
    if len(header) == 1 and len(expected) > 1:
        raise DeliveryError(
            name, f"the header has a single column; the contract expects {len(expected)} columns separated by "
            f"{contract.file.delimiter!r} (wrong delimiter?)", row=1)
    missing = [c for c in expected if c not in header]
    if missing:
        raise DeliveryError(name, f"columns missing from the header: {', '.join(missing)}", row=1,
                            field=missing[0])
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise DeliveryError(name, f"columns appear twice in the header: {', '.join(duplicated)}", row=1)
    extra = [c for c in header if c not in expected]
    return [f"extra columns ignored and not stored: {', '.join(extra)}"] if extra else []


def _read_csv(path: Path, contract: Contract) -> ReadResult:
    name = path.name
    text, problems, notes = _decode(path, contract)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first_line], delimiter=contract.file.delimiter))
    header = [h.strip() for h in header]
    notes += _check_header(name, header, contract)

    preflagged = {p.row for p in problems}
    invalid: list[RowProblem] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        number = row.number if row.number is not None else -1
        if number in preflagged:
            return "skip"
        if not row.text.strip():
            reason = "empty line"
        else:
            reason = (f"has {row.actual_columns} fields, the header has {row.expected_columns} "
                      "(delimiter inside a value, an open quote or a truncated line?)")
        invalid.append(RowProblem(number, "(line)", reason))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        read_options=pacsv.ReadOptions(use_threads=False, column_names=header, skip_rows=1),
        parse_options=pacsv.ParseOptions(delimiter=contract.file.delimiter, invalid_row_handler=on_invalid,
                                         newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    # pyarrow numbers invalid rows by their line in the file (header = 1), as we do.
    # The final empty "line" after a trailing newline is not a row. Empty lines parse as rows
    # of empty values (ignore_empty_lines=False keeps the numbering true).
    total_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    all_rows = range(2, total_lines + 1)
    skipped = {p.row for p in invalid}
    parsed_rows = [r for r in all_rows if r not in skipped]
    frame = table.select(contract.column_names).to_pandas()
    if len(parsed_rows) != len(frame):  # a shape we did not foresee: refuse rather than misnumber rows
        raise DeliveryError(name, f"could not number the rows ({len(frame)} parsed, {len(parsed_rows)} "
                            "expected); check for line breaks inside quoted values")
    frame["source_row"] = parsed_rows
    blank = (frame[contract.column_names] == "").all(axis=1) & ~frame["source_row"].isin(preflagged)
    invalid += [RowProblem(int(r), "(line)", "empty line") for r in frame.loc[blank, "source_row"]]
    frame = frame[~blank & ~frame["source_row"].isin(preflagged)].reset_index(drop=True)
    return ReadResult(frame, problems + invalid, rows_read=len(all_rows), notes=notes)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(path: Path, contract: Contract) -> ReadResult:
    from openpyxl import load_workbook

    name = path.name
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or sheet
        raise DeliveryError(name, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    try:
        sheet_name = contract.file.sheet
        if sheet_name and sheet_name not in workbook.sheetnames:
            raise DeliveryError(name, f"sheet {sheet_name!r} not found (sheets: {', '.join(workbook.sheetnames)})")
        sheet = workbook[sheet_name] if sheet_name else workbook.active
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise DeliveryError(name, "the sheet is empty (no header row)")
        header = [_cell_text(h) for h in header_row]
        while header and header[-1] == "":
            header.pop()
        notes = _check_header(name, header, contract)
        width = len(header)
        records = [[_cell_text(v) for v in row[:width]] + [""] * (width - len(row[:width])) for row in rows]
    finally:
        workbook.close()
    frame = pd.DataFrame(records, columns=header, dtype="object")
    frame["source_row"] = range(2, len(records) + 2)
    # Spreadsheets often carry formatted but empty rows at the end: not data rows.
    empty = (frame[contract.column_names] == "").all(axis=1)
    frame = frame.loc[~empty, contract.column_names + ["source_row"]].reset_index(drop=True)
    return ReadResult(frame, [], rows_read=len(frame), notes=notes)
