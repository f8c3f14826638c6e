"""The release's declared relations and its journey table, checked on the marts of a real pipeline run."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from pipelines.publish.release import latest_release
from pipelines.publish.suppression import MARKER, _Model, legend
from pipelines.publish.tables import RELATIONS, RELEASE_TABLES


@pytest.fixture(scope="module")
def marts(pipeline_city) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(pipeline_city.warehouse), read_only=True)
    try:
        return {t.name: con.execute(f"select * from marts.{t.name} order by all").df() for t in RELEASE_TABLES}
    finally:
        con.close()


def test_every_declared_relation_holds_in_the_marts_of_a_real_run(marts) -> None:
    """A relation that does not hold would make the suppression protect the wrong thing; building the
    model checks every group of every relation and raises RelationViolated otherwise."""
    model = _Model(marts, list(RELEASE_TABLES), 5)
    used = [r for r in RELATIONS if model.has_tables(r)]
    assert len(used) == len(RELATIONS), "every relation names tables of the release"
    for relation in used:
        model.add(relation)
    model.finish()
    assert model.n_eq > 1000 and model.n_implicit > 100


def test_every_key_and_count_declared_for_a_table_exists_in_its_mart(marts) -> None:
    for table in RELEASE_TABLES:
        columns = set(marts[table.name].columns)
        assert set(table.keys) | set(table.counts) | set(table.measures) <= columns, table.name
        assert not marts[table.name].duplicated(list(table.keys)).any() if table.keys else True, table.name


def test_the_published_release_shows_no_small_count_and_explains_the_marker(pipeline_city) -> None:
    release = latest_release(pipeline_city.releases)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    threshold = manifest["suppression"]["threshold"]
    assert manifest["suppression"]["marker"] == MARKER
    assert manifest["suppression"]["legend"] == legend(threshold)
    hidden = 0
    for table in RELEASE_TABLES:
        frame = pd.read_parquet(release / f"{table.name}.parquet")
        for column in table.counts:
            shown = frame[column].dropna()
            assert not ((shown > 0) & (shown < threshold)).any(), f"{table.name}.{column}"
            flag = frame[f"{column}_suppressed"]
            assert frame.loc[flag, column].isna().all(), "a suppressed cell is null, never 0"
            hidden += int(flag.sum())
    assert hidden > 0


def test_the_journey_table_holds_no_source_reference_nor_a_value_of_one(pipeline_city) -> None:
    """Person-level marts carry the person key and coarse attributes. No value of any marts column equals
    a source record or event reference, household or AZR pseudonym of the raw layer."""
    con = duckdb.connect(str(pipeline_city.warehouse), read_only=True)
    try:
        references: set[str] = set()
        for table in ("abh__residence_status", "jobcenter__events", "jugendamt__cases"):
            for column in ("record_ref", "event_ref", "household_ref", "azr_hash", "birth_date_hash"):
                references |= {v for (v,) in con.execute(f"select distinct {column} from raw.{table}").fetchall() if v}
        values: set[str] = set()
        for table, column in con.execute("select table_name, column_name from information_schema.columns "
                                         "where table_schema = 'marts' and data_type = 'VARCHAR'").fetchall():
            values |= {v for (v,) in con.execute(f'select distinct "{column}" from marts."{table}"').fetchall() if v}
        columns = {c for (c,) in con.execute("select distinct column_name from information_schema.columns "
                                              "where table_schema = 'marts' and table_name like 'person%'").fetchall()}
    finally:
        con.close()
    assert len(references) > 1000 and values
    assert not references & values
    assert not {c for c in columns if c.endswith("_ref") or "hash" in c or "birth_date" in c or c == "postcode"}
