"""The Dagster instance the pipeline configures: Dagster's SQLite event log, with kept connections."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines import dagster_instance
from pipelines.dagster_instance import PooledSqliteEventLogStorage, ensure_instance_config


def _instance(home: Path) -> dg.DagsterInstance:
    ensure_instance_config(home)
    return dg.DagsterInstance.from_config(str(home))


def _log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(error_info=None, level=logging.INFO, user_message=message, run_id=run_id,
                         timestamp=time.time())


@dg.asset
def counted() -> int:
    return 3


@dg.asset_check(asset=counted)
def counted_is_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_the_config_selects_the_pooled_event_log_in_dagsters_own_folders_and_leaves_an_operators_file_alone(
        tmp_path: Path) -> None:
    home = tmp_path / "run #2: city" / "dagster"  # a comment sign and a colon: the path must stay one YAML string
    config = ensure_instance_config(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert type(storage) is PooledSqliteEventLogStorage
        assert Path(storage._base_dir) == (home / "history" / "runs").resolve()  # where Dagster's default keeps it
    moved = tmp_path / "moved" / "dagster"
    shutil.copytree(home, moved)
    with dg.DagsterInstance.from_config(str(ensure_instance_config(moved).parent)) as instance:
        assert Path(instance.event_log_storage._base_dir) == (moved / "history" / "runs").resolve()  # followed
    edited = config.read_text(encoding="utf-8") + "telemetry:\n  enabled: false\n"
    config.write_text(edited, encoding="utf-8")
    shutil.move(home, tmp_path / "elsewhere")
    shutil.copytree(tmp_path / "elsewhere", home)
    ensure_instance_config(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "dagster.yaml").read_text(encoding="utf-8") == edited  # edited: left alone
    config.write_text("# the operator's own\n", encoding="utf-8")
    ensure_instance_config(home)
    assert config.read_text(encoding="utf-8") == "# the operator's own\n"
    assert [p.name for p in home.iterdir() if p.name.startswith(".dagster-")] == []  # no temporary file left


def test_a_run_stored_through_kept_connections_reads_the_same_with_dagsters_own_storage(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    with _instance(home) as instance:
        result = dg.materialize([counted, counted_is_positive], instance=instance)
        assert result.success
        storage = instance.event_log_storage
        # One engine per database, reused for every event: the run's shard and the index.
        assert set(storage._engines) == {result.run_id, "index"}
        with storage.run_connection(result.run_id) as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        written = [(e.dagster_event_type, e.user_message) for e in instance.all_logs(result.run_id)]
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("counted"), "counted_is_positive")])

    # Dagster's unmodified storage on the same folder (another process, or a dagster.yaml removed again).
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    assert [(e.dagster_event_type, e.user_message) for e in plain.get_logs_for_run(result.run_id)] == written
    key = dg.AssetKey("counted")
    assert plain.get_latest_materialization_events([key])[key].run_id == result.run_id
    assert plain.get_latest_asset_check_execution_by_key(list(check)).keys() == check.keys()
    assert len(written) > 10


def test_a_watcher_in_another_storage_sees_events_while_the_writer_keeps_its_connection_open(
        tmp_path: Path) -> None:
    """Live run logs in the UI: events wait in the -wal file until a checkpoint, and the watcher follows it."""
    base = tmp_path / "runs"
    writer = PooledSqliteEventLogStorage(str(base))
    reader = PooledSqliteEventLogStorage(str(base))
    run_id = str(uuid.uuid4())
    writer.store_event(_log_entry(run_id, "first"))
    seen: list[str] = []
    arrived = threading.Event()

    def callback(entry: EventLogEntry, _cursor: str) -> None:
        seen.append(entry.user_message)
        if entry.user_message == "second":
            arrived.set()

    reader.watch(run_id, None, callback)
    try:
        time.sleep(0.3)  # the observer is watching
        db = Path(writer.path_for_shard(run_id))
        before = db.stat().st_mtime_ns
        writer.store_event(_log_entry(run_id, "second"))
        assert db.stat().st_mtime_ns == before, "the event went to the -wal file, not the database file"
        assert arrived.wait(10), f"the watcher saw {seen}"
        assert seen[-1] == "second"
    finally:
        reader.end_watch(run_id, callback)
        reader.dispose()
        writer.dispose()


def test_only_the_newest_databases_keep_an_open_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dagster_instance, "KEPT_ENGINES", 3)
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    runs = [str(uuid.uuid4()) for _ in range(5)]
    for run_id in runs:
        storage.store_event(_log_entry(run_id, "hello"))
    assert list(storage._engines) == runs[-3:]
    assert [e.user_message for e in storage.get_logs_for_run(runs[0])] == ["hello"]  # reopened on demand
    assert list(storage._engines) == [*runs[-2:], runs[0]]
    storage.dispose()
    assert not storage._engines


def test_a_wipe_closes_the_kept_connections_so_later_events_land_in_the_new_files(tmp_path: Path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    run_id = str(uuid.uuid4())
    storage.store_event(_log_entry(run_id, "before"))
    storage.wipe()
    assert run_id not in storage._engines  # (Dagster's wipe sets the index up again, on a new file)
    storage.store_event(_log_entry(run_id, "after"))
    fresh = SqliteEventLogStorage(str(tmp_path / "runs"))
    assert [e.user_message for e in fresh.get_logs_for_run(run_id)] == ["after"]
    storage.dispose()


def test_dagsters_sqlite_event_log_still_has_what_the_pooled_storage_replaces(tmp_path: Path) -> None:
    """The pooled storage overrides ``_connect`` and ``watch`` of the pinned Dagster; a rename must fail here."""
    for name in ("_connect", "_initdb", "conn_string_for_shard", "path_for_shard", "watch", "end_watch", "wipe"):
        assert callable(getattr(SqliteEventLogStorage, name, None)), name
    plain = SqliteEventLogStorage(str(tmp_path / "runs"))
    for name in ("_db_lock", "_initialized_dbs", "_watchers", "_obs", "_base_dir"):
        assert hasattr(plain, name), name
