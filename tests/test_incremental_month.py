"""Adding one month to a running pipeline gives the release a full rebuild of all months gives.

The session's pipeline city ingested and built its months in one run (the full rebuild). Here a new
data folder gets the same deliveries month by month as a city would: every month but the last, a
build, then the last month and another build. That last build is incremental: only the new month is
ingested, linkage scores only the pairs that involve new or changed identity records, taking the
rest from the previous run's score cache, and the per-person journey models rebuild only the persons
whose events changed. Both use the same saved linkage model, as two monthly runs of a city do.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.config import DBT_PROJECT_DIR
from pipelines.dbt.project import VENV_DBT
from pipelines.publish.release import latest_release
from pipelines.runner import landed_months, run_pipeline


def _release_tables(release: Path) -> dict[str, pd.DataFrame]:
    return {path.stem: pd.read_parquet(path) for path in sorted(release.glob("*.parquet"))}


def _first_release(releases: Path) -> Path:
    return min((p for p in releases.iterdir() if (p / "manifest.json").is_file()), key=lambda p: p.name)


@pytest.fixture(scope="module")
def month_by_month(pipeline_city, tmp_path_factory) -> Path:
    """A data folder that received the pipeline city's deliveries month by month (last month incremental)."""
    folder = tmp_path_factory.mktemp("monthly")
    source = pipeline_city.data_dir
    shutil.copytree(source / "linkage" / "models", folder / "linkage" / "models")  # the city's saved model
    (folder / "dagster").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INTEGRATION_DATA_DIR", str(folder))
        patch.setenv("DAGSTER_HOME", str(folder / "dagster"))
        patch.setenv("DBT_LOG_PATH", str(folder / "dbt" / "logs"))
        shutil.copytree(source / "landing", folder / "landing")
        months = landed_months()
        last = months[-1]
        parked = folder / "parked"
        for agency_dir in (folder / "landing").iterdir():
            if (agency_dir / last).is_dir():
                shutil.move(agency_dir / last, parked / agency_dir.name / last)
        assert run_pipeline(months[:-1]).build.success
        for agency_dir in parked.iterdir():
            shutil.move(agency_dir / last, folder / "landing" / agency_dir.name / last)
        incremental = run_pipeline([last])
        assert incremental.ingest is not None and incremental.ingest.success
        assert incremental.build.success
    return folder


def test_the_last_month_was_linked_incrementally(month_by_month: Path) -> None:
    con = duckdb.connect(str(month_by_month / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        runs = con.execute("""select model_version, identity_records, identities_scored, pairs_reused
                              from registry.linkage_runs order by finished_at""").fetchall()
        cached = con.execute("select count(*) from linkage_cache.identities").fetchone()[0]
    finally:
        con.close()
    (version_1, records_1, scored_1, reused_1), (version_2, records_2, scored_2, reused_2) = runs
    assert version_1 == version_2, "both runs used the one saved model"
    assert scored_1 == records_1 and reused_1 == 0, "the first run scored everything"
    assert 0 < scored_2 < records_2 and reused_2 > 0, "the second scored only new or changed records"
    assert cached == records_2


def test_an_incremental_month_publishes_the_release_of_a_full_rebuild(pipeline_city, month_by_month: Path) -> None:
    full = _release_tables(_first_release(pipeline_city.releases))
    incremental = _release_tables(latest_release(month_by_month / "releases"))
    assert full.keys() == incremental.keys() and full
    for name, table in full.items():
        pd.testing.assert_frame_equal(incremental[name], table, obj=name)


# The per-person incremental models (dbt tag person_incremental, macros/person_incremental.sql) and the
# bookkeeping models that say which persons changed: these differ between builds by design.
PER_PERSON_MODELS = (
    "intermediate.int_person_attributes_consolidated",
    "intermediate.int_spells_status_sequenced",
    "intermediate.int_spells_entry_exit_paired",
    "intermediate.int_spells_episodes_merged",
    "intermediate.int_spells_unioned",
    "intermediate.int_stock_person_months",
    "marts.person_journey",
    "marts.person_spells",
    "marts.person_milestones",
)
BOOKKEEPING = ("intermediate.int_journey_build_mode", "intermediate.int_journey_changed_persons")
# The delivery-incremental models (tag delivery_incremental, macros/delivery_incremental.sql).
DELIVERY_MODELS = (
    "staging.stg_abh__residence_status",
    "staging.stg_jobcenter__events",
    "staging.stg_jugendamt__cases",
    "intermediate.int_identity_records",
    "intermediate.int_events_with_person",
)


def _dbt(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "INTEGRATION_DATA_DIR": str(data_dir), "DBT_LOG_PATH": str(data_dir / "dbt" / "logs")}
    return subprocess.run([str(VENV_DBT), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                           str(DBT_PROJECT_DIR), "--target-path", str(data_dir / "dbt" / "target")],
                          env=env, check=check, capture_output=True, text=True)


def _warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [name for (name,) in con.execute(
        """select schema_name || '.' || table_name from duckdb_tables()
           where database_name = 'warehouse' and schema_name in ('staging', 'intermediate', 'marts')
           order by 1""").fetchall()]


def test_a_persons_digest_changes_when_a_redelivered_row_moves_two_events_alike(tmp_path: Path) -> None:
    """DuckDB's hash of several columns is xor-linear in the last one: with a plain xor of row hashes, two
    events whose delivery month (the last column of int_events_with_person) changed alike cancelled out,
    as when one source row, which gives an ARRIVAL and a status event, is delivered again; that person
    was not rebuilt."""
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    moved = "('P1', 'e3', 'MOVED_AWAY', '2017-10')"
    before = f"('P1', 'e1', 'ARRIVAL', '2017-09'), ('P1', 'e2', 'TOLERATION', '2017-09'), {moved}"
    after = f"('P1', 'e1', 'ARRIVAL', '2017-12'), ('P1', 'e2', 'TOLERATION', '2017-12'), {moved}"
    naive, digests = [], []
    for rows in (before, after):
        con = duckdb.connect(str(warehouse))
        try:
            con.execute("create schema if not exists intermediate")
            con.execute(f"""create or replace table intermediate.int_events_with_person as
                select * from (values {rows}) as events(person_key, event_key, event_type, delivery_month)""")
            naive.append(con.execute("""select bit_xor(hash(person_key, event_key, event_type, delivery_month))
                                        from intermediate.int_events_with_person""").fetchone()[0])
        finally:
            con.close()
        _dbt(tmp_path, "run", "--select", "int_journey_person_digests")
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            digests.append(con.execute("select person_key, digest, events "
                                       "from intermediate.int_journey_person_digests").fetchall())
        finally:
            con.close()
    assert naive[0] == naive[1], "the xor of plain row hashes cannot tell the two apart"
    (person_1, digest_1, events_1), = digests[0]
    (person_2, digest_2, events_2), = digests[1]
    assert person_1 == person_2 == "P1" and events_1 == events_2 == 3
    assert digest_1 != digest_2


def test_a_build_drops_the_tables_of_retired_models(tmp_path: Path) -> None:
    """dbt keeps the table of a model that was removed; int_spells_at_month_end's held person keys,
    int_events_unioned source record references."""
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema intermediate")
        con.execute("create table intermediate.int_events_with_person as select 'P1' as person_key, 'e1' as event_key")
        con.execute("create table intermediate.int_spells_at_month_end as select 'P1' as person_key")
        con.execute("create table intermediate.int_events_unioned as select 'R1' as record_ref")
    finally:
        con.close()
    _dbt(tmp_path, "run", "--select", "int_journey_person_digests")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert not {"int_spells_at_month_end", "int_events_unioned"} & tables
    assert "int_journey_person_digests" in tables


def test_the_last_month_rebuilt_only_the_persons_whose_events_changed(month_by_month: Path) -> None:
    con = duckdb.connect(str(month_by_month / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        full_rebuild, code_version = con.execute("select * from intermediate.int_journey_build_mode").fetchone()
        changed = con.execute("select count(*) from intermediate.int_journey_changed_persons").fetchone()[0]
        persons = con.execute("select count(*) from intermediate.int_journey_person_digests").fetchone()[0]
        committed = con.execute("""select count(*), count(distinct code_version), min(code_version)
                                   from meta.journey_person_digests""").fetchone()
    finally:
        con.close()
    assert not full_rebuild, "the month was built on the committed digests of the build before"
    assert 0 < changed < persons, (changed, persons)
    assert committed == (persons, 1, code_version), "the successful build committed its digests"


def test_the_incremental_month_builds_the_tables_a_full_refresh_builds(month_by_month: Path, tmp_path: Path) -> None:
    """Every dbt table of the incremental build equals the same inputs rebuilt from nothing (--full-refresh)."""
    _assert_a_full_refresh_builds_the_same_tables(month_by_month / "warehouse" / "warehouse.duckdb", tmp_path)


def test_a_resent_delivery_and_a_registry_change_rebuild_what_a_full_refresh_builds(
        month_by_month: Path, tmp_path: Path) -> None:
    """The delivery-incremental models (staging, identity records, events; macros/delivery_incremental.sql)
    find their work by comparing with their inputs. A month re-sent under a new delivery id replaces the
    old one in raw: a row left out must go, or give way to the older version of a corrected row; a changed
    row must change, also when the change moves the row to another record. And a record the registry moves
    to another person must move its events."""
    folder = tmp_path / "changed"
    (folder / "warehouse").mkdir(parents=True)
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    shutil.copy(month_by_month / "warehouse" / "warehouse.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        # the latest delivery of a corrected row: re-sent without that row (the older version comes back),
        # without a row of its own (it goes), with another row's date a day later and a third row moved to
        # another record of the delivery
        corrected = con.execute("""
            select event_ref, arg_max(delivery_id, delivery_month) from raw.abh__residence_status
            group by event_ref having count(distinct delivery_id) > 1 order by event_ref limit 1""").fetchone()
        assert corrected is not None, "the test city's immigration office corrects rows"
        corrected, delivery = corrected
        own = [ref for (ref,) in con.execute("""
            select event_ref from raw.abh__residence_status where delivery_id = ?
              and event_ref in (select event_ref from raw.abh__residence_status group by 1 having count(*) = 1)
            order by event_ref limit 3""", [delivery]).fetchall()]
        assert len(own) == 3
        other_record = con.execute("""
            select min(record_ref) from raw.abh__residence_status where delivery_id = ? and record_ref <> (
                select record_ref from raw.abh__residence_status where event_ref = ?)""",
                                   [delivery, own[2]]).fetchone()[0]
        original_date = con.execute("select status_valid_from from raw.abh__residence_status where event_ref = ?",
                                    [own[1]]).fetchone()[0]
        con.execute("create temp table resent as from raw.abh__residence_status where delivery_id = ?", [delivery])
        con.execute("delete from resent where event_ref in (?, ?)", [corrected, own[0]])
        con.execute("update resent set status_valid_from = status_valid_from + 1 where event_ref = ?", [own[1]])
        con.execute("update resent set record_ref = ? where event_ref = ?", [other_record, own[2]])
        con.execute("update resent set delivery_id = ?", [delivery + "-resent"])
        con.execute("delete from raw.abh__residence_status where delivery_id = ?", [delivery])
        con.execute("insert into raw.abh__residence_status from resent")
        # and a correction in a new delivery that moves an older row, sent once, to another record: the old
        # record's delivery stays, so only a comparison of the rows finds the record the row left
        single, moved_from = con.execute("""
            select event_ref, any_value(record_ref) from raw.abh__residence_status where delivery_id <> ?
            group by event_ref having count(*) = 1 order by event_ref limit 1""", [delivery]).fetchone()
        con.execute("""insert into raw.abh__residence_status
            select * replace ('abh-zz-correction' as delivery_id,
                              (select max(delivery_month) from raw.abh__residence_status) as delivery_month,
                              ? as record_ref)
            from raw.abh__residence_status where event_ref = ?""", [other_record, single])
        # a jobcenter record merged into the person of an immigration-office record
        con.execute("""update registry.person_registry set person_key = (
                           select min(person_key) from registry.person_registry where agency = 'abh')
                       where (agency, record_ref) = (select (agency, min(record_ref)) from registry.person_registry
                                                     where agency = 'jobcenter' group by agency)""")
        before = con.execute("select count(*) from staging.stg_abh__residence_status").fetchone()[0]
    runs = [_dbt(folder, "run", "--selector", selector) for selector in ("pre_linkage", "post_linkage")]
    assert not any("from all rows" in run.stdout for run in runs), "the builds were incremental"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = con.execute("select count(*) from staging.stg_abh__residence_status").fetchone()[0]
        back = con.execute("select delivery_id from staging.stg_abh__residence_status where event_ref = ?",
                           [corrected]).fetchone()[0]
        later = con.execute("select status_valid_from from staging.stg_abh__residence_status where event_ref = ?",
                            [own[1]]).fetchone()[0]
        moved = con.execute("""select record_ref from intermediate.int_events_with_person
                               where event_ref in (?, ?)""", [own[2], single]).fetchall()
    assert after == before - 1, "one row gone, the corrected row's older version back"
    assert back != delivery and not back.endswith("-resent")
    assert later == original_date + dt.timedelta(days=1)
    assert moved and {record for (record,) in moved} == {other_record} != {moved_from}
    _assert_a_full_refresh_builds_the_same_tables(warehouse, tmp_path)


def test_a_delivery_incremental_model_that_fails_leaves_its_table_and_no_list_of_units(
        month_by_month: Path, tmp_path: Path) -> None:
    """The pre-hook's list of units (``<model>__replaced``), the deletion of those units' rows and the
    insertion of their new rows are one transaction: a build that fails at the insertion leaves the rows it
    had deleted and no list behind, and the next build, once the cause is gone, builds what a full refresh
    builds. The failure here: a correction of an existing row, in a new delivery, that breaks a constraint
    checked when the rows are inserted (after the corrected row's old version was deleted)."""
    folder = tmp_path / "failing"
    (folder / "warehouse").mkdir(parents=True)
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    shutil.copy(month_by_month / "warehouse" / "warehouse.duckdb", warehouse)
    staging = "staging.stg_abh__residence_status"

    def state() -> tuple[list[tuple], list[tuple], list[tuple]]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return (con.execute(f"from {staging} order by all").fetchall(),
                    con.execute("from meta.delivery_incremental_versions order by all").fetchall(),
                    con.execute("select table_name from duckdb_tables() where suffix(table_name, '__replaced')")
                    .fetchall())

    with duckdb.connect(str(warehouse)) as con:
        assert con.execute(f"select count(*) - count(postcode) from {staging}").fetchone() == (0,)
        con.execute(f"alter table {staging} alter column postcode set not null")
        corrected = con.execute(f"""select event_ref from {staging}
            where delivery_month < (select max(delivery_month) from raw.abh__residence_status)
            order by event_ref limit 1""").fetchone()[0]
        con.execute("""insert into raw.abh__residence_status
            select * replace ('abh-zz-failing' as delivery_id, null as postcode,
                              (select max(delivery_month) from raw.abh__residence_status) as delivery_month)
            from raw.abh__residence_status where event_ref = ? order by delivery_month desc limit 1""", [corrected])
    before = state()
    assert corrected in {row[0] for row in before[0]}
    failed = _dbt(folder, "run", "--selector", "pre_linkage", check=False)
    assert failed.returncode != 0 and "NOT NULL constraint failed" in failed.stdout, failed.stdout[-2000:]
    rows, versions, lists = state()
    assert lists == [], "the list of units went with the failed transaction"
    assert rows == before[0], "the corrected row's old version, deleted before the insertion failed, is back"
    assert versions == before[1]

    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.abh__residence_status where delivery_id = 'abh-zz-failing'")
        con.execute(f"alter table {staging} alter column postcode drop not null")
    runs = [_dbt(folder, "run", "--selector", selector) for selector in ("pre_linkage", "post_linkage")]
    assert not any("from all rows" in run.stdout for run in runs), "the builds were incremental"
    assert state()[2] == []
    _assert_a_full_refresh_builds_the_same_tables(warehouse, tmp_path)


def _assert_a_full_refresh_builds_the_same_tables(warehouse: Path, tmp_path: Path) -> None:
    refreshed = tmp_path / "refreshed"
    (refreshed / "warehouse").mkdir(parents=True)
    shutil.copy(warehouse, refreshed / "warehouse" / "warehouse.duckdb")
    for selector in ("pre_linkage", "post_linkage"):
        _dbt(refreshed, "run", "--selector", selector, "--full-refresh")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(f"attach '{refreshed / 'warehouse' / 'warehouse.duckdb'}' as refreshed (read_only)")
        tables = _warehouse_tables(con)
        assert set(PER_PERSON_MODELS) <= set(tables)
        assert set(DELIVERY_MODELS) <= set(tables)
        for table in sorted(set(tables) - set(BOOKKEEPING)):
            only_incremental, only_refreshed = con.execute(f"""
                select (select count(*) from (from {table} except all from refreshed.{table})),
                       (select count(*) from (from refreshed.{table} except all from {table}))""").fetchone()
            assert (only_incremental, only_refreshed) == (0, 0), table
    finally:
        con.close()


def test_a_build_of_only_some_per_person_models_commits_nothing_and_the_next_build_is_full(
        month_by_month: Path, tmp_path: Path) -> None:
    """The committed digests must mean "every per-person table reflects them": a build that decides who
    changed but rebuilds only some of the tables (or fails, or is killed) withdraws them, and a build that
    leaves out the build mode cannot take the one of an earlier build."""
    copy = tmp_path / "copy"
    (copy / "warehouse").mkdir(parents=True)
    shutil.copy(month_by_month / "warehouse" / "warehouse.duckdb", copy / "warehouse" / "warehouse.duckdb")
    warehouse = copy / "warehouse" / "warehouse.duckdb"

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    committed = ("select count(*) from duckdb_tables() "
                 "where schema_name = 'meta' and table_name = 'journey_person_digests'")
    assert query(committed) == [(1,)]
    _dbt(copy, "run", "--select", "int_journey_changed_persons+", "--exclude", "person_journey")
    assert query(committed) == [(0,)], "a build without person_journey committed the digests"
    # the build mode left over from the month's build says "incremental"; with nothing committed it is not
    refused = _dbt(copy, "run", "--select", "int_journey_changed_persons+", check=False)
    assert refused.returncode != 0 and "int_journey_build_mode is out of date" in refused.stdout
    _dbt(copy, "run", "--selector", "post_linkage")
    assert query("select full_rebuild from intermediate.int_journey_build_mode") == [(True,)]
    assert query(committed) == [(1,)]
