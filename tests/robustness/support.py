"""Helpers shared by the robustness tests: the corpus, ingesting one file, scanning a warehouse."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import duckdb

from pipelines.ingest.contract import all_contracts
from pipelines.ingest.delivery import ingest_file
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.load import DeliveryOutcome

CORPUS = Path(__file__).resolve().parent.parent / "data" / "bad"
MONTH = "2016-03"
CITY = "wuppertal"


def corpus_builder() -> ModuleType:
    """``tests/data/bad/make_corpus.py``: the rows and writers the corpus was made with."""
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ingest(path: Path, agency: str, con: duckdb.DuckDBPyConnection, encoder: Encoder,
           month: str = MONTH) -> DeliveryOutcome:
    return ingest_file(path, CITY, month, all_contracts()[agency], encoder, con, "robustness-test")


def all_text_values(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every text value of every table: what a leak or a live formula would have to hide in."""
    values: list[str] = []
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
    ).fetchall():
        values += [v for (v,) in con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()
                   if v is not None]
    return values


def landing_copy(source: Path, landing: Path, name: str, month: str, agency: str = "abh") -> Path:
    """``source`` delivered as ``landing/<agency>/<month>/<name>``, as an agency would put it there."""
    folder = landing / agency / month
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, folder / name))
