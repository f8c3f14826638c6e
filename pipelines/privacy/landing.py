"""The agencies' files in the landing zone: find a record's rows and remove them.

The landing zone keeps every delivery as received (a key rotation recomputes the pseudonyms from it),
so a deletion request must reach it too: it is the one place where the person's name and birth date
are still in clear text. A row is removed from the file itself, and nothing else changes: a CSV keeps
its encoding, delimiter and line endings byte for byte (rows are lines, as the reader requires), a
workbook keeps its sheet and formatting. Row numbers are the reader's: the header is row 1.

Clear text exists here only in memory, as in the ingest step; nothing of it is logged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pipelines.ingest.contract import Contract


def record_id_column(contract: Contract) -> str:
    column = contract.by_role("record_id")
    if column is None:
        raise ValueError(f"the {contract.agency} contract names no record_id column; records cannot be found")
    return column.name


def rows_of_records(path: Path, contract: Contract, record_ids: Iterable[str]) -> list[int]:
    """Row numbers (header = 1) whose record id is one of ``record_ids``, including rows the ingest
    quarantined: a line is matched on its fields, not on what the contract check made of it."""
    wanted = {r.strip() for r in record_ids}
    if contract.file.format == "xlsx":
        return _xlsx_rows(path, contract, wanted)
    return _csv_rows(path, contract, wanted)


def _csv_rows(path: Path, contract: Contract, wanted: set[str]) -> list[int]:
    lines = path.read_bytes().splitlines()
    if not lines:
        return []
    delimiter = contract.file.delimiter
    encoding = contract.file.encoding
    header = [_unquote(f) for f in lines[0].decode(encoding, "replace").lstrip("\ufeff").split(delimiter)]
    position = header.index(record_id_column(contract)) if record_id_column(contract) in header else None
    found = []
    for number, line in enumerate(lines[1:], start=2):
        fields = [_unquote(f) for f in line.decode(encoding, "replace").split(delimiter)]
        if position is not None and len(fields) == len(header):
            hit = fields[position] in wanted
        else:  # a damaged line (quarantined): any field may hold the id
            hit = any(f in wanted for f in fields)
        if hit:
            found.append(number)
    return found


def _xlsx_rows(path: Path, contract: Contract, wanted: set[str]) -> list[int]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook[contract.file.sheet] if contract.file.sheet else workbook.active
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        name = record_id_column(contract)
        position = header.index(name) if name in header else None
        found = []
        for number, row in enumerate(rows, start=2):
            cells = ["" if v is None else str(v).strip() for v in row]
            hit = cells[position] in wanted if position is not None and position < len(cells) else \
                any(c in wanted for c in cells)
            if hit:
                found.append(number)
        return found
    finally:
        workbook.close()


def remove_rows(path: Path, contract: Contract, rows: Iterable[int]) -> int:
    """Rewrite the file without the given rows (atomically); returns how many were removed."""
    drop = set(rows) - {1}
    if not drop:
        return 0
    tmp = path.with_name(f".{path.name}.deleting")
    if contract.file.format == "xlsx":
        removed = _remove_xlsx_rows(path, tmp, contract, drop)
    else:
        removed = _remove_csv_rows(path, tmp, drop)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return removed


def _remove_csv_rows(path: Path, tmp: Path, drop: set[int]) -> int:
    lines = path.read_bytes().splitlines(keepends=True)
    kept = [line for number, line in enumerate(lines, start=1) if number not in drop]
    tmp.write_bytes(b"".join(kept))
    return len(lines) - len(kept)


def _remove_xlsx_rows(path: Path, tmp: Path, contract: Contract, drop: set[int]) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheet = workbook[contract.file.sheet] if contract.file.sheet else workbook.active
    present = [r for r in sorted(drop, reverse=True) if r <= sheet.max_row]
    for row in present:  # bottom up, so the numbers of the rows still to delete do not move
        sheet.delete_rows(row)
    workbook.save(tmp)
    return len(present)


def _unquote(field: str) -> str:
    text = field.strip().strip("\r\n")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text.strip()
