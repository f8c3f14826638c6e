"""Files prepared in worker processes are exactly the files prepared in the run's own process."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from pathlib import Path

import pandas as pd
import pytest

from pipelines.config import REPO_ROOT
from pipelines.ingest.contract import all_contracts
from pipelines.ingest.delivery import PreparedDelivery
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey
from pipelines.ingest.workers import MIN_FILES_FOR_WORKERS, WORKERS_ENV, prepared_files, worker_count

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
KEY = PseudonymKey(b"w" * 40, source="test")


def test_small_runs_and_one_configured_worker_prepare_in_the_runs_own_process(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(WORKERS_ENV, "4")
    assert worker_count(MIN_FILES_FOR_WORKERS - 1) == 1
    assert worker_count(MIN_FILES_FOR_WORKERS) == 4
    assert worker_count(100) == 4
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert worker_count(100) == 1
    monkeypatch.setenv(WORKERS_ENV, "two")
    with pytest.raises(ValueError, match=f"{WORKERS_ENV} must be a whole number"):
        worker_count(100)


def _as_comparable(prepared: PreparedDelivery) -> tuple:
    rows = None if prepared.rows is None else prepared.rows.reset_index(drop=True)
    return prepared.delivery, prepared.data_lines, prepared.problems, prepared.rows_read, prepared.notes, \
        prepared.error, rows


@pytest.mark.parametrize("agency", ["abh", "jobcenter", "jugendamt"])
def test_the_bad_corpus_prepared_by_two_workers_equals_it_prepared_in_process(agency: str,
                                                                             monkeypatch: pytest.MonkeyPatch):
    contract = all_contracts()[agency]
    files = [(path, "wuppertal", "2016-03") for path in sorted((BAD / agency).iterdir())]
    assert len(files) >= MIN_FILES_FOR_WORKERS - 1
    files = (files * 2)[: max(len(files), MIN_FILES_FOR_WORKERS)]  # enough files for the workers to start
    monkeypatch.setenv(WORKERS_ENV, "1")
    alone = list(prepared_files(files, contract, KEY, Encoder(KEY)))
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert worker_count(len(files)) == 2
    in_workers = list(prepared_files(files, contract, KEY, Encoder(KEY)))
    assert [p.delivery.file_name for p in in_workers] == [path.name for path, _, _ in files]
    assert any(p.error or p.problems for p in alone), "the corpus has refused files or rows"
    for one, other in zip(alone, in_workers, strict=True):
        expected, actual = _as_comparable(one), _as_comparable(other)
        assert expected[:-1] == actual[:-1], one.delivery.file_name
        if expected[-1] is None:
            assert actual[-1] is None
        else:
            pd.testing.assert_frame_equal(expected[-1], actual[-1])


def test_an_ingest_asset_run_with_workers_loads_every_month_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The asset as Dagster runs it: six monthly files prepared by two workers, written one by one."""
    import dagster as dg
    import duckdb

    from pipelines.ingest.assets import ingest_assets
    from pipelines.ingest.partitions import delivery_months
    from pipelines.resources import PseudonymKeyResource, WarehouseResource
    from pipelines.synthetic import generate

    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(WORKERS_ENV, "2")
    monkeypatch.setenv("INTEGRATION_PSEUDONYM_KEY", "worker-test-key-" + "0123456789abcdef" * 3)
    generate(tmp_path, persons=120, start="2016-01", months=6, seed=3)
    months = sorted(p.name for p in (tmp_path / "landing" / "abh").iterdir())
    asset = next(a for a in ingest_assets if a.key == dg.AssetKey(["raw", "abh__residence_status"]))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(delivery_months.name, months)
    result = dg.materialize(
        [asset], instance=instance,
        resources={"warehouse": WarehouseResource(), "pseudonym_key": PseudonymKeyResource()},
        tags={"dagster/asset_partition_range_start": months[0], "dagster/asset_partition_range_end": months[-1]},
    )
    assert result.success
    con = duckdb.connect(str(tmp_path / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        register = con.execute("select delivery_month, file_name, status, rows_read, rows_loaded + rows_quarantined "
                               "from meta.deliveries order by ingested_at").fetchall()
        loaded = con.execute("select count(*) from raw.abh__residence_status").fetchone()[0]
    finally:
        con.close()
    landing = tmp_path / "landing" / "abh"
    delivered = sorted((month, path.name) for month in months for path in (landing / month).iterdir())
    assert len(delivered) >= MIN_FILES_FOR_WORKERS
    assert [(m, f) for m, f, *_ in register] == delivered  # written in the order of the files
    assert all(status == "loaded" and read == accounted for _, _, status, read, accounted in register)
    assert loaded == sum(read for *_, read, _ in register) > 0  # the synthetic months have no bad rows


def _abh_files(tmp_path: Path, count: int) -> list[tuple[Path, str, str]]:
    good = sorted((BAD / "abh").iterdir())[0]
    files = []
    for number in range(count):
        path = tmp_path / f"ABH_Wuppertal_2016{number + 1:02d}.csv"
        path.write_bytes(good.read_bytes())
        files.append((path, "wuppertal", f"2016-{number + 1:02d}"))
    return files


def test_a_failure_in_a_worker_reaches_the_run_after_the_files_before_it(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(WORKERS_ENV, "2")
    files = _abh_files(tmp_path, 5)
    files[3][0].unlink()  # vanished between listing and reading: not a delivery problem but an error of the run
    prepared = prepared_files(files, all_contracts()["abh"], KEY, Encoder(KEY))
    assert [next(prepared).delivery.month for _ in range(3)] == ["2016-01", "2016-02", "2016-03"]
    with pytest.raises(FileNotFoundError):
        next(prepared)
    assert multiprocessing.active_children() == []


def test_closing_the_files_early_ends_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(WORKERS_ENV, "2")
    prepared = prepared_files(_abh_files(tmp_path, 6), all_contracts()["abh"], KEY, Encoder(KEY))
    next(prepared)
    assert len(multiprocessing.active_children()) == 2
    prepared.close()  # what happens when loading a file fails in the run's process
    assert multiprocessing.active_children() == []


ORPHAN_SCRIPT = """
import multiprocessing, os, sys, time
from pathlib import Path
from pipelines.ingest.contract import all_contracts
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey
from pipelines.ingest.workers import prepared_files

if __name__ == "__main__":
    key = PseudonymKey(b"o" * 40, source="test")
    files = [(Path(p), "wuppertal", f"2016-{i + 1:02d}") for i, p in enumerate(sys.argv[1:])]
    prepared = prepared_files(files, all_contracts()["abh"], key, Encoder(key))
    next(prepared)
    print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits to be collected


def test_workers_end_when_the_run_process_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A killed run (SIGKILL, out of memory) runs no clean-up; its workers, which hold the key, must end too."""
    import signal
    import subprocess
    import sys
    import time

    from pipelines.ingest.workers import PARENT_CHECK_SECONDS

    monkeypatch.setenv(WORKERS_ENV, "2")
    script = tmp_path / "run.py"
    script.write_text(ORPHAN_SCRIPT)
    files = [str(path) for path, _, _ in _abh_files(tmp_path, 6)]
    run = subprocess.Popen([sys.executable, str(script), *files], stdout=subprocess.PIPE, text=True,
                           start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    workers: list[int] = []
    try:
        workers = [int(pid) for pid in run.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        run.send_signal(signal.SIGKILL)  # the run's process only, not its process group
        run.wait()
        deadline = time.monotonic() + 20 * PARENT_CHECK_SECONDS + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)
    finally:
        run.kill()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
