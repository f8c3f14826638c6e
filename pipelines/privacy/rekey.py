"""Key rotation: every stored pseudonym re-made with a new key, every person keeping their person key.

HMAC pseudonyms are one-way, so they cannot be converted; they are made again from the clear text, which
exists only in the landing zone. For every delivery that has rows in the raw layer the rotation reads the
file as the ingest step does (same reader, checks and encodings), once with the old key and once with the
new one. The old-key result must equal what is stored, row by row: that proves the file is the one that
was loaded and the old key the one that made the pseudonyms, so the two results pair each stored value
with its new value. Then, in one transaction:

- the raw tables get their new-key columns (joined on delivery and row number),
- every source record reference in the restricted schemas (the person registry, the review queue) is
  mapped old -> new; person keys, merge/split history and linkage runs do not contain any and stay as
  they are,
- the dbt-built schemas (intermediate, marts) are dropped, to be rebuilt from the re-keyed data,
- the warehouse records the new key's id (``meta.pseudonym_key``), so that a run still configured with
  the old key stops instead of writing pseudonyms that match nothing.

The stewards' review files are re-keyed the same way, the DuckDB file is rewritten so that no old-key
pseudonym survives in freed blocks, and the models and a release are rebuilt without linking again
(``republish_job``): the person keys come from the registry as they were. The release manifest then
names the new key id.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.config import data_paths
from pipelines.ingest.contract import Contract, all_contracts
from pipelines.ingest.delivery import month_end
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    KeyMismatchError,
    PseudonymKey,
    record_rotation,
    warehouse_key_id,
)
from pipelines.ingest.pseudonymise import IDENTITY_COLUMNS, raw_rows
from pipelines.ingest.readers import read_delivery
from pipelines.ingest.validate import check_rows
from pipelines.privacy.database_file import drop_derived_tables, rewrite_database
from pipelines.privacy.references import remap_references, rewrite_review_files
from pipelines.runlock import run_lock
from pipelines.warehouse import table_exists

log = logging.getLogger(__name__)
NULL = "\u2205"  # stands for a missing value when stored and recomputed rows are compared as text


class RotationError(RuntimeError):
    """The rotation cannot be done safely; nothing was changed."""


@dataclass
class RotationReport:
    old_key_id: str
    new_key_id: str
    rows: dict[str, int] = field(default_factory=dict)  # raw table -> rows re-keyed
    references: int = 0  # source records mapped old -> new
    dropped_references: dict[str, int] = field(default_factory=dict)
    derived_tables_dropped: int = 0
    database_bytes: int = 0
    release_run_success: bool | None = None

    def lines(self) -> list[str]:
        out = [f"Key rotation {self.old_key_id} -> {self.new_key_id}"]
        out += [f"  raw.{table}: {n} rows re-keyed" for table, n in self.rows.items()]
        out.append(f"  {self.references} source record references mapped to their new pseudonyms")
        out += [f"  {place}: {n} rows of records no longer delivered removed"
                for place, n in self.dropped_references.items() if n]
        out.append(f"  {self.derived_tables_dropped} dbt tables dropped for the rebuild; "
                   f"warehouse file rewritten ({self.database_bytes:,} bytes)")
        if self.release_run_success is not None:
            out.append("  models and release rebuilt without relinking: "
                       + ("ok" if self.release_run_success else "FAILED (see the Dagster run)"))
        return out


def rotate_key(old: PseudonymKey, new: PseudonymKey, republish: bool = True) -> RotationReport:
    """Re-key the warehouse of this data folder from ``old`` to ``new`` (see the module docstring)."""
    if old.key_id == new.key_id:
        raise RotationError(f"the new key is the key in use ({old.key_id}); nothing to rotate")
    paths = data_paths()
    report = RotationReport(old.key_id, new.key_id)
    with run_lock("key rotation (python -m pipelines.privacy rotate-key)"):
        con = duckdb.connect(str(paths.warehouse))
        try:
            bound = warehouse_key_id(con)
            if bound is not None and bound != old.key_id:
                raise KeyMismatchError(f"the warehouse's pseudonyms were made with key {bound}, not with the "
                                       f"configured key {old.key_id}: configure the key in use as the old key")
            old_encoder, new_encoder = Encoder(old), Encoder(new)
            rekeyed: dict[str, pd.DataFrame] = {}
            for contract in all_contracts().values():
                if table_exists(con, "raw", contract.table):
                    rekeyed[contract.table] = _rekey_rows(con, contract, paths.landing, old_encoder, new_encoder)
            mapping = _reference_mapping(rekeyed)
            con.execute("begin transaction")
            try:
                for table, frame in rekeyed.items():
                    report.rows[table] = _replace_identity_columns(con, table, frame)
                con.register("reference_mapping", mapping)
                con.execute("create or replace temp table rotation_mapping as select * from reference_mapping")
                con.unregister("reference_mapping")
                report.dropped_references = remap_references(con, "rotation_mapping")
                report.references = len(mapping)
                report.derived_tables_dropped = len(drop_derived_tables(con))
                record_rotation(con, old, new)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        finally:
            con.close()
        review = rewrite_review_files(mapping=dict(zip(mapping["old_ref"], mapping["new_ref"], strict=True)))
        report.dropped_references.update({f"review/{name}": n for name, n in review.items()})
        report.database_bytes = rewrite_database(paths.warehouse)
        if republish:
            from pipelines.runner import run_job

            with using_key(new):
                report.release_run_success = run_job("republish_job", raise_on_error=False).success
    for line in report.lines():
        log.info(line)
    return report


@contextlib.contextmanager
def using_key(key: PseudonymKey) -> Iterator[None]:
    """Configure ``key`` as this process's pseudonymisation key for the block (the file if it has one)."""
    saved = {name: os.environ.get(name) for name in (KEY_ENV, KEY_FILE_ENV)}
    try:
        if key.source.startswith("$"):
            os.environ[KEY_ENV] = key.secret.decode("utf-8")
            os.environ.pop(KEY_FILE_ENV, None)
        else:
            os.environ[KEY_FILE_ENV] = key.source
            os.environ.pop(KEY_ENV, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _rekey_rows(con: duckdb.DuckDBPyConnection, contract: Contract, landing: Path, old: Encoder,
                new: Encoder) -> pd.DataFrame:
    """(delivery_id, source_row, old record_ref, new identity columns) for every stored row of the agency."""
    table = contract.table
    stored_columns = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? "
        "order by ordinal_position", [table]).fetchall()]
    identity = [c for c in IDENTITY_COLUMNS if c in stored_columns]
    deliveries = con.execute(
        f"""select d.delivery_id, d.city, d.delivery_month, d.file_name, d.sha256, count(*) as n
            from raw.{table} r left join meta.deliveries d
              on d.delivery_id = r.delivery_id and d.status = 'loaded' and not d.superseded
            group by all order by all""").fetchall()
    frames = []
    for delivery_id, city, month, file_name, sha256, n in deliveries:
        if file_name is None:
            raise RotationError(f"raw.{table} holds {n} rows of a delivery that is not registered as loaded; "
                                "re-ingest the month before rotating")
        path = landing / contract.agency / month / file_name
        if not path.is_file():
            raise RotationError(f"{path} is missing: its {n} rows in raw.{table} cannot be re-keyed without it. "
                                "Restore the file, or delete the delivery (python -m pipelines.privacy "
                                "delete-expired) before rotating")
        if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
            raise RotationError(f"{path} is not the file that was loaded (its checksum differs); restore it or "
                                "re-ingest the month before rotating")
        read = read_delivery(path, contract)
        checked = check_rows(read.rows, contract, month_end(month))
        with_old = raw_rows(checked, contract, old, city).set_index("source_row")
        with_new = raw_rows(checked, contract, new, city).set_index("source_row")
        stored = con.execute(
            f"select source_row, {', '.join(_as_text(c) for c in identity)} from raw.{table} "
            "where delivery_id = ? order by source_row", [delivery_id]).df().set_index("source_row")
        recomputed = with_old.reindex(stored.index)[identity]
        for column in identity:
            if not (_text(recomputed[column]) == stored[column].astype("string")).all():
                raise RotationError(
                    f"{file_name}: {column} recomputed with the configured key differs from the stored value; "
                    "either the configured key did not make these pseudonyms or the file changed since. "
                    "Nothing was changed")
        fresh = with_new.reindex(stored.index)[identity].reset_index()
        fresh.insert(0, "delivery_id", delivery_id)
        fresh["__old_record_ref"] = stored["record_ref"].to_numpy()
        frames.append(fresh)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _reference_mapping(rekeyed: dict[str, pd.DataFrame]) -> pd.DataFrame:
    pairs = pd.concat([f[["__old_record_ref", "record_ref"]] for f in rekeyed.values() if len(f)],
                      ignore_index=True).drop_duplicates()
    pairs.columns = ["old_ref", "new_ref"]
    if pairs["old_ref"].duplicated().any() or pairs["new_ref"].duplicated().any():
        raise RotationError("old and new record references do not pair one to one; nothing was changed")
    return pairs.reset_index(drop=True)


def _replace_identity_columns(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_schema = 'raw' and table_name = ?", [table]).fetchall())
    identity = [c for c in frame.columns if c not in ("delivery_id", "source_row", "__old_record_ref")]
    before = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
    con.register("rekeyed_rows", frame.drop(columns="__old_record_ref").astype(
        {c: "string" for c in identity if types[c] in ("VARCHAR", "BIT")}))
    replaced = ", ".join(f'n."{c}"::{types[c]} as "{c}"' for c in identity)
    con.execute(f"""create or replace table raw.{table} as
                    select r.* replace ({replaced}) from raw.{table} r
                    join rekeyed_rows n on r.delivery_id = n.delivery_id and r.source_row = n.source_row""")
    con.unregister("rekeyed_rows")
    after = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
    if after != before:
        raise RotationError(f"raw.{table}: {before} rows before the rotation, {after} after; rolled back")
    return after


def _as_text(column: str) -> str:
    return f"""coalesce("{column}"::varchar, '{NULL}') as "{column}\""""


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna(NULL)
