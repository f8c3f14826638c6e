"""Ingest one delivery file end to end: find, fingerprint, read, check, pseudonymise, load.

Whatever a file holds, ingesting it ends in one of two outcomes, both written to the
delivery register: ``loaded`` (good rows in ``raw.*``, bad rows in ``meta.quarantine`` with
file, row, field and reason) or ``rejected`` (nothing loaded; the message says why and what
to do). A file whose bytes were already loaded under another name is rejected as a
duplicate: the same extract delivered twice would otherwise count its people twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.ingest.contract import Contract
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.load import Delivery, DeliveryOutcome, ensure_tables, write_delivery
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
    """Data lines of a refused CSV (its rows count as quarantined): lines after the header."""
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return max(lines - 1, 0)


def earlier_copy(con: duckdb.DuckDBPyConnection, delivery: Delivery) -> DeliveryError | None:
    """The refusal for a file whose exact bytes were loaded before under another name, else None.

    Re-delivering the same file under its own name is a re-run (it replaces its month, which
    changes nothing). The same bytes under a second name, e.g. March's extract sent again as
    April's, would load the same people into a second month. A header without rows is not
    compared: two empty months are legitimately identical.
    """
    earlier = con.execute(
        """select file_name, delivery_month, ingested_at from meta.deliveries
           where agency = ? and sha256 = ? and status = 'loaded' and rows_read > 0 and file_name <> ?
           order by ingested_at limit 1""",
        [delivery.agency, delivery.sha256, delivery.file_name],
    ).fetchone()
    if earlier is None:
        return None
    file_name, month, ingested_at = earlier
    return DeliveryError(
        delivery.file_name,
        f"identical (sha256 {delivery.sha256[:12]}...) to {file_name}, loaded for {month} on "
        f"{ingested_at:%Y-%m-%d %H:%M} UTC: the same file under a second name is refused and nothing of it "
        f"is loaded. Ask the agency for the right file for {delivery.month}",
    )


@dataclass(frozen=True, eq=False)  # holds a DataFrame: no field-wise equality
class PreparedDelivery:
    """A file read, checked and pseudonymised, not yet written: what a worker process hands back.

    ``error`` is the refusal of the whole file (message, row, field), else ``rows`` are the raw-layer rows
    and ``problems`` the rows for quarantine. Plain values only, so that it crosses process boundaries.
    """

    delivery: Delivery
    data_lines: int  # lines after the header, the count of a refused CSV
    rows: pd.DataFrame | None = None
    problems: tuple[RowProblem, ...] = ()
    rows_read: int = 0
    notes: tuple[str, ...] = ()
    error: tuple[str, int | None, str | None] | None = None


def prepare_file(path: Path, city: str, month: str, contract: Contract, encoder: Encoder) -> PreparedDelivery:
    """Read, check and pseudonymise one file; touches no database, so it can run in a worker process."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    delivery = Delivery(
        delivery_id=f"{contract.agency}-{city}-{month}-{sha256[:12]}",
        agency=contract.agency, city=city, month=month, file_name=path.name, sha256=sha256,
        size_bytes=len(data),
    )
    data_lines = _line_count(data) if contract.file.format == "csv" else 0
    try:
        read = read_delivery(path, contract)
        checked = check_rows(read.rows, contract, month_end(month))
        rows = raw_rows(checked, contract, encoder, city)
    except DeliveryError as error:
        return PreparedDelivery(delivery, data_lines, error=(str(error), error.row, error.field))
    return PreparedDelivery(delivery, data_lines, rows, tuple(read.problems + checked.problems), read.rows_read,
                            tuple(read.notes))


def load_prepared(prepared: PreparedDelivery, contract: Contract, con: duckdb.DuckDBPyConnection,
                  run_id: str) -> DeliveryOutcome:
    """Write a prepared file to the warehouse, unless its bytes were loaded before under another name."""
    ensure_tables(con, contract)
    duplicate = earlier_copy(con, prepared.delivery)
    error = (str(duplicate), None, None) if duplicate is not None else prepared.error
    if error is not None:
        message, row, field = error
        log.error("delivery rejected: %s", message)
        problem = RowProblem(row or 0, field or "(file)", message)
        return write_delivery(con, contract, prepared.delivery, pd.DataFrame(), [problem], prepared.data_lines,
                              "rejected", message, run_id)
    assert prepared.rows is not None
    problems = list(prepared.problems)
    name = prepared.delivery.file_name
    for problem in problems[:20]:
        log.warning("%s, row %s, field %r: %s", name, problem.row, problem.field, problem.reason)
    if len(problems) > 20:
        log.warning("%s: %d more problems, see meta.quarantine", name, len(problems) - 20)
    message = "; ".join(prepared.notes) or "ok"
    return write_delivery(con, contract, prepared.delivery, prepared.rows, problems, prepared.rows_read, "loaded",
                          message, run_id)


def ingest_file(
    path: Path,
    city: str,
    month: str,
    contract: Contract,
    encoder: Encoder,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
) -> DeliveryOutcome:
    """Ingest one file in this process: prepare it, then load it."""
    return load_prepared(prepare_file(path, city, month, contract, encoder), contract, con, run_id)
