"""Read a delivery file into a table of strings, one row per data row, with its row number.

Problems that make the whole file unreadable (empty file, wrong encoding, wrong delimiter,
missing columns, a broken workbook) raise :class:`DeliveryError`; problems of single rows
(a line with too few fields, a quote left open, bytes that are not valid in the contract's
encoding) are returned as :class:`RowProblem` so that the good rows still load. Row numbers
count the header as row 1, as a spreadsheet or text editor shows them.

Every data line of a CSV file is accounted for: it becomes a row or a problem, never
nothing, so that ``rows_read = rows loaded + rows quarantined`` can be checked downstream.
A row is one line: the contracts do not allow line breaks inside values, so a quote that is
not closed on its own line is that line's problem and cannot swallow the lines after it.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines.ingest.contract import Contract

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}
# A text export has (almost) no NUL bytes; many of them mean UTF-16 without a BOM or a binary file.
NUL_SHARE_OF_BINARY = 0.1
_OTHER_DELIMITERS = (";", ",", "\t", "|")


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


# --- decoding -------------------------------------------------------------------------------

def _split_fields(line: str, delimiter: str) -> list[str]:
    """One line split as a CSV parser would; a line the csv module cannot parse is one field."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return [line]


def _field_name(line: str, header: list[str], delimiter: str, predicate: Callable[[str], bool]) -> str:
    """The header name of the first field of ``line`` for which ``predicate`` holds."""
    for index, value in enumerate(_split_fields(line, delimiter)):
        if predicate(value):
            return header[index] if index < len(header) and header[index] else f"(column {index + 1})"
    return "(line)"


def _header_guess(data: bytes, delimiter: str) -> list[str]:
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    return [h.strip() for h in _split_fields(first, delimiter)]


def _decode(data: bytes, name: str, contract: Contract) -> tuple[str, list[RowProblem], list[str]]:
    notes: list[str] = []
    encoding = contract.file.encoding.lower().replace("_", "-")
    delimiter = contract.file.delimiter
    if not data.strip():
        raise DeliveryError(name, "the file is empty (no header row); ask the agency to deliver it again")
    for bom, label in UTF16_BOMS.items():
        if data.startswith(bom):
            raise DeliveryError(name, f"the file is encoded as {label}; the contract expects "
                                f"{contract.file.encoding}. Ask the agency to export it again with the agreed "
                                "encoding", row=1)
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
        notes.append("a UTF-8 byte-order mark was removed")
    if data[:4096].count(0) > NUL_SHARE_OF_BINARY * min(len(data), 4096):
        raise DeliveryError(name, "the file is mostly NUL bytes: it is UTF-16 without a byte-order mark or not "
                            "a text file at all. Ask the agency to export it again as "
                            f"{contract.file.encoding} text", row=1)
    if encoding in ("cp1252", "windows-1252") and _looks_like_utf8(data):
        offset = re.search(rb"[\x80-\xff]", data).start()
        row = data.count(b"\n", 0, offset) + 1
        line = data.split(b"\n")[row - 1].rstrip(b"\r").decode("utf-8")
        field = _field_name(line, _header_guess(data, delimiter), delimiter, lambda v: not v.isascii())
        raise DeliveryError(
            name, "the file is encoded as UTF-8 but the contract expects Windows-1252 (cp1252), first seen here; "
            "ask the agency to export with the agreed encoding or change the contract", row=row, field=field)
    try:
        return data.decode(encoding), [], notes
    except UnicodeDecodeError:
        pass
    # Decode line by line so that one bad line does not cost the whole delivery.
    problems: list[RowProblem] = []
    lines = data.split(b"\n")
    header = _header_guess(data, delimiter)
    text_lines: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            text_lines.append(line.decode(encoding))
        except UnicodeDecodeError as exc:
            if number == 1:
                raise DeliveryError(name, f"the header is not valid {contract.file.encoding}", row=1) from exc
            problems.append(_undecodable_line(line, number, exc, header, contract))
            text_lines.append("")  # keeps row numbers; the blanked line is skipped when parsing
    notes.append(f"rows not valid {contract.file.encoding}, quarantined: {len(problems)}"
                 + (" (the file may be Windows-1252)" if encoding == "utf-8" else ""))
    return "\n".join(text_lines), problems, notes


def _undecodable_line(line: bytes, row: int, exc: UnicodeDecodeError, header: list[str],
                       contract: Contract) -> RowProblem:
    escaped = line.decode(contract.file.encoding, "surrogateescape")
    field = _field_name(escaped, header, contract.file.delimiter,
                        lambda v: any("\udc80" <= ch <= "\udcff" for ch in v))
    byte = line[exc.start]
    hint = ""
    if contract.file.encoding.lower() in ("utf-8", "utf8"):
        try:
            hint = f" ({bytes([byte]).decode('cp1252')!r} in Windows-1252: was the file exported as Windows-1252?)"
        except UnicodeDecodeError:
            hint = ""
    return RowProblem(row, field, f"not valid {contract.file.encoding}: byte 0x{byte:02x}{hint}")


def _looks_like_utf8(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- header ---------------------------------------------------------------------------------

def _check_header(name: str, header: list[str], contract: Contract) -> list[str]:
    """Refuse a header the contract cannot be applied to; return notes on what is ignored."""
    expected = contract.column_names
    if any("\x00" in h for h in header):
        raise DeliveryError(name, "the header contains NUL bytes (a damaged or binary file)", row=1)
    if len(header) == 1 and len(expected) > 1:
        others = [d for d in _OTHER_DELIMITERS if d != contract.file.delimiter and d in header[0]]
        guess = f"; it looks {others[0]!r}-separated" if others else ""
        raise DeliveryError(
            name, f"the header has a single column; the contract expects {len(expected)} columns separated by "
            f"{contract.file.delimiter!r} (wrong delimiter{guess})", row=1)
    missing = [c for c in expected if c not in header]
    unknown = [h for h in header if h and h not in expected]
    if missing:
        # Header cells are quoted only as near-namesakes of a contract column in an otherwise matching
        # header: a file without its header row would put a row of names and ids into the message.
        looks_like_header = len(missing) <= len(expected) // 2
        renames = [f"{c!r} -> {m[0]!r}" for c in missing
                   if looks_like_header and (m := difflib.get_close_matches(c, unknown, n=1))]
        hint = f" (renamed? {', '.join(renames)})" if renames else (
            f" ({len(unknown)} columns the contract does not know: is the header row missing?)" if unknown else "")
        raise DeliveryError(name, f"columns missing from the header: {', '.join(missing)}{hint}", row=1,
                            field=missing[0])
    duplicated = sorted({c for c in expected if header.count(c) > 1})
    if duplicated:
        raise DeliveryError(name, f"columns appear twice in the header: {', '.join(duplicated)}", row=1,
                            field=duplicated[0])
    notes = []
    if unknown:
        notes.append(f"extra columns ignored and not stored: {', '.join(unknown)}")
    if "" in header:
        notes.append("unnamed columns ignored (a delimiter at the end of the lines?)")
    return notes


# --- CSV ------------------------------------------------------------------------------------

def _unclosed_quote_pattern(delimiter: str) -> str:
    """RE2 pattern of a line whose quoted fields are all closed (as pyarrow and RFC 4180 quote).

    A quote only opens a quoted field at the start of a field; inside it, ``""`` is a quote.
    """
    d = re.escape(delimiter)
    field = f'(?:"(?:[^"]|"")*"[^{d}]*|[^"{d}][^{d}]*)?'
    return f"^{field}(?:{d}{field})*$"


def _open_quote_field(line: str, header: list[str], delimiter: str) -> str:
    """The header name of the field whose quote is not closed (for the message)."""
    index, at_field_start, in_quotes, i = 0, True, False, 0
    opened = 0
    while i < len(line):
        ch = line[i]
        if in_quotes:
            if ch == '"' and line[i + 1:i + 2] == '"':
                i += 1
            elif ch == '"':
                in_quotes = False
        elif ch == delimiter:
            index, at_field_start = index + 1, True
            i += 1
            continue
        elif ch == '"' and at_field_start:
            in_quotes, opened = True, index
        at_field_start = False
        i += 1
    column = opened if in_quotes else index
    return header[column] if column < len(header) and header[column] else "(line)"


def _read_csv(path: Path, contract: Contract) -> ReadResult:
    name = path.name
    delimiter = contract.file.delimiter
    data = path.read_bytes()
    ends_with_newline = data.endswith((b"\n", b"\r"))
    if not data.startswith(tuple(UTF16_BOMS)):
        # One row per line, whatever the line ending (CRLF, LF, or the old CR alone, which pyarrow
        # would otherwise treat as a line break that our row numbers do not see).
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    text, problems, notes = _decode(data, name, contract)
    lines = text.split("\n")
    if ends_with_newline:
        lines.pop()
    header = [h.strip() for h in _split_fields(lines[0], delimiter)]
    notes += _check_header(name, header, contract)
    data_lines = lines[1:]
    rows_read = len(data_lines)
    if rows_read == 0:
        notes.append("the file has a header but no data rows")
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in contract.column_names})
        empty["source_row"] = pd.Series(dtype="int64")
        return ReadResult(empty, [], 0, notes)

    flagged = {p.row for p in problems}
    line_array = pa.array(data_lines, pa.large_string())
    balanced = pc.match_substring_regex(line_array, _unclosed_quote_pattern(delimiter)).to_numpy(
        zero_copy_only=False)
    for index in (~balanced).nonzero()[0]:
        row = int(index) + 2
        if row not in flagged:
            field = _open_quote_field(data_lines[index], header, delimiter)
            problems.append(RowProblem(row, field, "a quote opened in this value is not closed on its line "
                                       "(values must not contain line breaks)"))
            flagged.add(row)
    for row in flagged:
        data_lines[row - 2] = ""  # parsed as an empty line and skipped; the problem already stands

    invalid: list[RowProblem] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        number = row.number if row.number is not None else -1
        if not row.text.strip():
            reason = "empty line"
        else:
            reason = (f"has {row.actual_columns} fields, the header has {row.expected_columns} "
                      "(a delimiter inside a value or a truncated line?)")
        invalid.append(RowProblem(number, "(line)", reason))
        return "skip"

    # Columns are named by position so that unnamed or repeated extra columns cannot clash.
    positions = [f"c{i}" for i in range(len(header))]
    payload = ("\n".join([lines[0], *data_lines]) + "\n").encode("utf-8")
    # pyarrow refuses a row longer than its block; a field of several MB must still parse (and be refused
    # by its length check), so the block grows with the longest line.
    longest = max(pc.max(pc.binary_length(line_array.cast(pa.large_binary()))).as_py() or 0,
                  len(lines[0].encode("utf-8"))) + 2
    try:
        table = pacsv.read_csv(
            io.BytesIO(payload),
            read_options=pacsv.ReadOptions(use_threads=False, column_names=positions, skip_rows=1,
                                           block_size=max(1 << 20, longest)),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                             newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={p: pa.string() for p in positions},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:  # a shape we did not foresee: refuse rather than guess
        # pyarrow's message quotes the row it failed on: it stays out of the register (it may hold a name).
        raise DeliveryError(name, f"the CSV cannot be parsed ({type(exc).__name__}); ask the agency to "
                            "export it again") from exc
    # pyarrow numbers invalid rows by their line in the file (header = 1), as we do. An empty line
    # (also one blanked above) parses as a row of empty values, so it keeps its number too.
    skipped = {p.row for p in invalid}
    parsed_rows = [r for r in range(2, rows_read + 2) if r not in skipped]
    frame = table.select([positions[header.index(c)] for c in contract.column_names]).to_pandas()
    frame.columns = contract.column_names
    if len(parsed_rows) != len(frame):  # cannot happen for one-line rows; refuse rather than misnumber
        raise DeliveryError(name, f"could not number the rows ({len(frame)} parsed, {len(parsed_rows)} "
                            "expected); check for line breaks inside quoted values")
    frame["source_row"] = parsed_rows
    known = frame["source_row"].isin(flagged)
    blank = (frame[contract.column_names] == "").all(axis=1) & ~known
    invalid += [RowProblem(int(r), "(line)", "empty line") for r in frame.loc[blank, "source_row"]]
    frame = frame[~blank & ~known].reset_index(drop=True)
    problems += invalid
    if not ends_with_newline:
        last = rows_read + 1
        problems = [dataclasses.replace(p, reason=p.reason + "; the file ends without a line break "
                                        "(truncated?)") if p.row == last else p for p in problems]
    return ReadResult(frame, sorted(problems, key=lambda p: p.row), rows_read=rows_read, notes=notes)


# --- XLSX -----------------------------------------------------------------------------------

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


def _workbook_problem(exc: Exception) -> str:
    """What went wrong, without the library's message: it may quote a cell, and a cell may hold a name."""
    from python_calamine import CalamineError, PasswordError, XmlError, ZipError

    if isinstance(exc, zipfile.BadZipFile | ZipError):
        return "not a zip archive: a renamed file of another type, or a transfer that broke off"
    if isinstance(exc, PasswordError):
        return "the workbook is password-protected"
    if isinstance(exc, XmlError):
        return "a part of the workbook is damaged"
    if isinstance(exc, KeyError | CalamineError):
        return "a part of the workbook is missing or damaged"
    return f"{type(exc).__name__} while reading the sheet"


_ERROR_CELL = re.compile(rb"""<c\b[^>]*\bt=["']e["']""")


def _has_error_cells(path: Path) -> bool:
    """Whether a worksheet holds an error cell (#N/A, #DIV/0!, ...), which calamine reads as empty.

    Such a workbook is read with openpyxl, which gives the error's text, so that the checks see what
    the agency's export holds. A workbook that cannot be opened as a zip is left to calamine to refuse.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return any(_ERROR_CELL.search(archive.read(info)) for info in archive.infolist()
                       if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"))
    except Exception:  # a damaged archive: the reader below reports it
        return False


def _calamine_cells(path: Path, sheet_name: str | None) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    name = path.name
    try:
        workbook = CalamineWorkbook.from_path(path)
    except Exception as exc:  # calamine raises its own errors and others for a broken zip or part
        raise DeliveryError(name, f"not a readable XLSX workbook ({_workbook_problem(exc)}); ask the agency to "
                            "send it again") from exc
    try:
        if sheet_name and sheet_name not in workbook.sheet_names:
            raise DeliveryError(name, f"sheet {sheet_name!r} not found (sheets: {', '.join(workbook.sheet_names)})")
        sheet = workbook.get_sheet_by_name(sheet_name) if sheet_name else workbook.get_sheet_by_index(0)
        # Keep empty leading rows and columns, so that a list index is the sheet's row and column
        return sheet.to_python(skip_empty_area=False)
    except DeliveryError:
        raise
    except Exception as exc:  # a damaged sheet part fails only when it is read
        raise DeliveryError(name, f"the workbook cannot be read ({_workbook_problem(exc)}); ask the agency to "
                            "send it again") from exc
    finally:
        workbook.close()


def _openpyxl_cells(path: Path, sheet_name: str | None) -> list[list[object]]:
    from openpyxl import load_workbook

    name = path.name
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or sheet
        raise DeliveryError(name, f"not a readable XLSX workbook ({_workbook_problem(exc)}); ask the agency to "
                            "send it again") from exc
    try:
        if sheet_name and sheet_name not in workbook.sheetnames:
            raise DeliveryError(name, f"sheet {sheet_name!r} not found (sheets: {', '.join(workbook.sheetnames)})")
        sheet = workbook[sheet_name] if sheet_name else workbook.active
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except DeliveryError:
        raise
    except Exception as exc:  # the sheet's XML is read lazily: a damaged part fails only here
        raise DeliveryError(name, f"the workbook cannot be read ({_workbook_problem(exc)}); ask the agency to "
                            "send it again") from exc
    finally:
        workbook.close()


def _read_xlsx(path: Path, contract: Contract) -> ReadResult:
    """Read the contract's sheet with calamine (Rust: a city's monthly workbook at a million persons in 19 ms
    instead of openpyxl's 247 ms), or with openpyxl when the sheet holds error cells (``_has_error_cells``).
    Cells come as Python values: dates as dates, numbers as int or float."""
    name = path.name
    cells = (_openpyxl_cells if _has_error_cells(path) else _calamine_cells)(path, contract.file.sheet)
    if not cells:
        raise DeliveryError(name, "the sheet is empty (no header row)")
    header = [_cell_text(h) for h in cells[0]]
    while header and header[-1] == "":
        header.pop()
    notes = _check_header(name, header, contract)
    positions = [header.index(c) for c in contract.column_names]
    records = [[_cell_text(row[i]) if i < len(row) else "" for i in positions] for row in cells[1:]]
    frame = pd.DataFrame(records, columns=contract.column_names, dtype="object")
    frame["source_row"] = range(2, len(records) + 2)
    # Spreadsheets often carry formatted but empty rows at the end: not data rows.
    empty = (frame[contract.column_names] == "").all(axis=1)
    frame = frame.loc[~empty].reset_index(drop=True)
    if frame.empty:
        notes.append("the sheet has a header but no data rows")
    return ReadResult(frame, [], rows_read=len(frame), notes=notes)
