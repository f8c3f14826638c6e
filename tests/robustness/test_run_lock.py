"""The run lock: one run per data folder; a second is refused at once; a dead run's lock blocks nothing.

The holder of the lock is a real second process (forked from this one, so it starts at once).
The Dagster path is tested with the real ingest job and the real executor: a job started
while another run holds the data folder fails with the lock's message, and runs once it is free.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.runlock import LOCK_FILE_NAME, RunLockedError, run_lock

FORK = multiprocessing.get_context("fork")


def _hold(purpose: str, ready: multiprocessing.Queue) -> None:  # runs in the child process
    with run_lock(purpose):
        ready.put(os.getpid())
        time.sleep(300)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def holder(data_dir: Path) -> Iterator[multiprocessing.Process]:
    """Another process holding the data folder's run lock, as a running pipeline would."""
    ready = FORK.Queue()
    process = FORK.Process(target=_hold, args=("nightly build_job (run 1234abcd)", ready), daemon=True)
    process.start()
    assert ready.get(timeout=30) == process.pid
    yield process
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=30)


def test_a_second_run_is_refused_at_once_with_a_message_naming_the_running_one(data_dir, holder):
    started = time.monotonic()
    with pytest.raises(RunLockedError) as refused, run_lock("second run"):
        pass
    assert time.monotonic() - started < 2, "refused at once, not after waiting"
    message = str(refused.value)
    assert message.startswith("second run refused: the data folder")
    assert "nightly build_job (run 1234abcd)" in message and f"pid {holder.pid}" in message


def test_a_lock_left_by_a_killed_run_does_not_block_the_next_run(data_dir, holder):
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=30)
    assert "nightly build_job" in (data_dir / LOCK_FILE_NAME).read_text(), "the dead run's note is still there"
    with run_lock("next run"):
        assert '"purpose": "next run"' in (data_dir / LOCK_FILE_NAME).read_text()


def test_the_lock_is_reentrant_in_its_process_and_free_for_others_afterwards(data_dir):
    with run_lock("runner"), run_lock("a job of the runner"), run_lock("another job of the runner"):
        pass
    ready = FORK.Queue()
    other = FORK.Process(target=_hold, args=("other process", ready), daemon=True)
    other.start()
    try:
        assert ready.get(timeout=30) == other.pid, "released after the outermost block"
    finally:
        os.kill(other.pid, signal.SIGKILL)
        other.join(timeout=30)


def test_a_run_is_refused_while_another_process_has_the_warehouse_open(data_dir):
    """E.g. a dbt left behind by a killed run: it outlives its run's lock, and DuckDB allows one writer."""
    warehouse = data_dir / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    other = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('open', "
                               "flush=True); time.sleep(300)"], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "open"
        with pytest.raises(RunLockedError, match="is open in another process") as refused, run_lock("run"):
            pass
        assert str(warehouse) in str(refused.value)
    finally:
        other.kill()
        other.wait(timeout=30)
    with run_lock("run after the other process ended"):
        pass


def ingest_job_with_resources() -> dg.JobDefinition:
    """The code location's ingest job with its resources (without the dbt stage, which this test does not need)."""
    from pipelines.ingest.definitions import defs
    from pipelines.resources import PseudonymKeyResource, WarehouseResource

    resources = dg.Definitions(resources={"warehouse": WarehouseResource(), "pseudonym_key": PseudonymKeyResource()})
    return dg.Definitions.merge(defs, resources).resolve_job_def("ingest_job")


def test_a_dagster_job_started_while_another_run_holds_the_lock_fails_with_its_message(data_dir, holder,
                                                                                         monkeypatch):
    monkeypatch.setenv("INTEGRATION_PSEUDONYM_KEY", "lock-test-key-" + "0" * 32)
    (data_dir / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(data_dir / "dagster"))
    instance.add_dynamic_partitions("delivery_month", ["2016-03"])
    job = dg.reconstructable(ingest_job_with_resources)

    refused = dg.execute_job(job, instance=instance, tags={"dagster/partition": "2016-03"}, raise_on_error=False)
    assert not refused.success
    failure = next(e for e in refused.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    assert "refused: the data folder" in failure.event_specific_data.error.message
    assert not [e for e in refused.all_events if e.event_type == dg.DagsterEventType.STEP_START], "no step ran"

    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=30)
    assert dg.execute_job(job, instance=instance, tags={"dagster/partition": "2016-03"}).success
