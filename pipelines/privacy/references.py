"""Where source record references live outside ``raw.*``, and how to re-key or remove them there.

A source record reference (``record_ref``, the keyed HMAC of agency, city and the agency's record id)
is the link between a person key and an agency's record. Besides the raw layer it is kept in the
restricted ``registry`` schema (the person registry, the clerical review queue) and in the stewards'
review files under ``data/review/``. The convention that makes this findable: every column holding such
a reference is named ``record_ref`` or ``record_ref_<suffix>``. Key rotation maps them old -> new;
a deletion removes every row that mentions a deleted reference. (Derived dbt tables are dropped and
rebuilt instead, see ``database_file.py``.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import data_paths

REFERENCE_COLUMN = re.compile(r"^record_ref(_\w+)?$")
REFERENCE_SCHEMAS = ("registry",)


def reference_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> its reference columns, for the restricted schemas outside raw."""
    found: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
        """select c.table_schema, c.table_name, c.column_name from information_schema.columns c
           join information_schema.tables t using (table_schema, table_name)
           where list_contains(?, c.table_schema) and t.table_type = 'BASE TABLE'
             and c.data_type = 'VARCHAR'  -- an empty table may carry untyped (integer) columns
           order by all""",
        [list(REFERENCE_SCHEMAS)],
    ).fetchall():
        if REFERENCE_COLUMN.match(column):
            found.setdefault((schema, table), []).append(column)
    return found


def remap_references(con: duckdb.DuckDBPyConnection, mapping_table: str) -> dict[str, int]:
    """Replace every reference by its new value from ``mapping_table(old_ref, new_ref)``.

    A row with a reference that has no new value (its record is no longer in the raw layer) is deleted:
    it would otherwise keep a pseudonym of the old key. Returns rows deleted per table. Tables are
    rewritten (delete all, insert the mapped rows) because DuckDB cannot update an indexed key column.
    """
    deleted: dict[str, int] = {}
    for (schema, table), columns in reference_columns(con).items():
        name = f'"{schema}"."{table}"'
        joins = " ".join(f'left join {mapping_table} m{i} on t."{c}" = m{i}.old_ref' for i, c in enumerate(columns))
        replaced = ", ".join(f'm{i}.new_ref as "{c}"' for i, c in enumerate(columns))
        orphan = " or ".join(f'(t."{c}" is not null and m{i}.new_ref is null)' for i, c in enumerate(columns))
        con.execute(f"create or replace temp table remapped as select t.* replace ({replaced}), ({orphan}) as orphan "
                    f"from {name} t {joins}")
        deleted[f"{schema}.{table}"] = con.execute("select count(*) from remapped where orphan").fetchone()[0]
        con.execute(f"delete from {name}")
        con.execute(f"insert into {name} select * exclude (orphan) from remapped where not orphan")
        con.execute("drop table remapped")
    return deleted


def delete_references(con: duckdb.DuckDBPyConnection, refs_table: str) -> dict[str, int]:
    """Delete every row of the restricted schemas that mentions a reference in ``refs_table(ref)``."""
    deleted: dict[str, int] = {}
    for (schema, table), columns in reference_columns(con).items():
        condition = " or ".join(f'"{c}" in (select ref from {refs_table})' for c in columns)
        count = con.execute(f'select count(*) from "{schema}"."{table}" where {condition}').fetchone()[0]
        if count:
            con.execute(f'delete from "{schema}"."{table}" where {condition}')
        deleted[f"{schema}.{table}"] = count
    return deleted


# --- the stewards' review files -----------------------------------------------------------------------

def review_files() -> list[Path]:
    folder = data_paths().root / "review"
    return sorted(p for p in folder.glob("*") if p.suffix in (".jsonl", ".parquet") and p.is_file())


def rewrite_review_files(mapping: Mapping[str, str] | None = None, remove: set[str] | None = None) -> dict[str, int]:
    """Re-key (``mapping``) or drop the entries mentioning ``remove`` in every review file; rows dropped per file.

    With a mapping, an entry whose reference has no new value is dropped too (see remap_references).
    """
    dropped: dict[str, int] = {}
    for path in review_files():
        frame = _read(path)
        columns = [c for c in frame.columns if REFERENCE_COLUMN.match(str(c))]
        if not columns or frame.empty:
            continue
        keep = pd.Series(True, index=frame.index)
        for column in columns:
            values = frame[column].astype("string")
            if remove is not None:
                keep &= ~values.isin(remove).fillna(False)
            if mapping is not None:
                mapped = values.map(mapping)
                keep &= ~(values.notna() & mapped.isna())
                frame[column] = mapped
        dropped[path.name] = int((~keep).sum())
        _write(path, frame[keep].reset_index(drop=True))
    return dropped


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pandas()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pd.DataFrame(lines)


def _write(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    else:
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records),
                       encoding="utf-8")
    tmp.replace(path)
