"""Adding one month to a running pipeline gives the release a full rebuild of all months gives.

The session's pipeline city ingested and built its months in one run (the full rebuild). Here a new
data folder gets the same deliveries month by month as a city would: every month but the last, a
build, then the last month and another build. That last build is incremental: only the new month is
ingested, and linkage scores only the pairs that involve new or changed identity records, taking the
rest from the previous run's score cache. Both use the same saved linkage model, as two monthly runs
of a city do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

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
