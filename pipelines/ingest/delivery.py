"""Ingest one delivery file end to end: find, fingerprint, read, check, pseudonymise, load."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.ingest.contract import Contract
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.load import Delivery, DeliveryOutcome, write_delivery
from pipelines.ingest.pseudonymise import raw_rows
from pipelines.ingest.readers import DeliveryError, RowProblem, read_delivery
from pipelines.ingest.validate import check_rows

log = logging.getLogger(__name__)


def delivery_files(landing: Path, contract: Contract, month: str) -> list[tuple[Path, str]]:
    """Files of an agency for a delivery month, with the city their name gives. Others are reported."""
    folder = landing / contract.agency / month
    found: list[tuple[Path, str]] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        match = contract.file.match(path.name)
        if match is None:
            log.warning("%s: file name does not match the %s contract (%s); not ingested",
                        path.name, contract.agency, contract.file.pattern)
            continue
        file_month = f"{match['year']}-{match['month']}"
        if file_month != month:
            log.warning("%s: the name says month %s but it lies in the folder of %s; not ingested",
                        path.name, file_month, month)
            continue
        found.append((path, match["city"].lower()))
    return found


def month_end(month: str) -> dt.date:
    year, mon = (int(x) for x in month.split("-"))
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def _line_count(data: bytes) -> int:
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return max(lines - 1, 0)


def ingest_file(
    path: Path,
    city: str,
    month: str,
    contract: Contract,
    encoder: Encoder,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
) -> DeliveryOutcome:
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    delivery = Delivery(
        delivery_id=f"{contract.agency}-{city}-{month}-{sha256[:12]}",
        agency=contract.agency, city=city, month=month, file_name=path.name, sha256=sha256,
        size_bytes=len(data),
    )
    try:
        read = read_delivery(path, contract)
        checked = check_rows(read.rows, contract, month_end(month))
        rows = raw_rows(checked, contract, encoder, city)
    except DeliveryError as error:
        log.error("delivery rejected: %s", error)
        problem = RowProblem(error.row or 0, error.field or "(file)", str(error))
        rows_read = _line_count(data) if contract.file.format == "csv" else 0
        return write_delivery(con, contract, delivery, pd.DataFrame(), [problem], rows_read, "rejected",
                              str(error), run_id)
    problems = read.problems + checked.problems
    for problem in problems[:20]:
        log.warning("%s, row %s, field %r: %s", path.name, problem.row, problem.field, problem.reason)
    if len(problems) > 20:
        log.warning("%s: %d more problems, see meta.quarantine", path.name, len(problems) - 20)
    message = "; ".join(read.notes) or "ok"
    return write_delivery(con, contract, delivery, rows, problems, read.rows_read, "loaded", message, run_id)
