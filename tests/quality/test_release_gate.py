"""The gate before publication: a release is not published when a blocking check fails, the release's own
suite guards its cells, and a published manifest links the Data Docs of its run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.publish.release import latest_release
from pipelines.publish.tables import RELEASE_TABLES
from pipelines.quality import data_docs
from pipelines.quality.release_gate import release_cells, release_check

COUNTS = {t.name: t.counts for t in RELEASE_TABLES}


@pytest.fixture(scope="module")
def published(pipeline_city) -> tuple[Path, dict]:
    release = latest_release(pipeline_city.releases)
    return release, json.loads((release / "manifest.json").read_text())


def _tables(release: Path, manifest: dict) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(release / f"{name}.parquet") for name in manifest["tables"]}


def test_the_manifest_links_the_data_docs_of_its_run_and_records_the_release_suite(pipeline_city, published):
    _, manifest = published
    assert manifest["data_docs"] == f"quality/runs/{manifest['run_id']}/data_docs/index.html"
    index = pipeline_city.data_dir / manifest["data_docs"]
    assert index.exists()
    pages = "".join(p.read_text(encoding="utf-8") for p in index.parent.joinpath("validations").rglob("*.html"))
    for suite in ("raw__abh__residence_status", "staging__stg_jobcenter__events", "marts__person_journey",
                  "release__cells"):
        assert suite in pages, f"{suite} has a page in the run's Data Docs"
    assert (index.parent.parent / data_docs.KEEP_MARKER).exists(), "kept as long as the release links to it"
    release_suite = [c for c in manifest["checks"] if c["asset"] == "release"]
    assert [(c["check"], c["passed"], c["severity"]) for c in release_suite] == [("gx_release_cells", True, "ERROR")]


def test_the_release_suite_refuses_a_shown_small_count_and_a_withheld_value_that_is_not_null(published):
    release, manifest = published
    tables = _tables(release, manifest)
    cells = release_cells(tables, COUNTS, 5)
    assert len(cells) == sum(len(tables[t]) * len([c for c in tables[t] if f"{c}_suppressed" in tables[t]])
                             for t in tables)
    assert release_check(tables, COUNTS, 5, run_id=None).passed

    broken = {name: frame.copy() for name, frame in tables.items()}
    stock = broken["kpi_legal_circle_stock"]
    stock.loc[stock.index[0], ["persons", "persons_suppressed"]] = [3, False]  # a count that singles people out
    stock.loc[stock.index[1], ["persons", "persons_suppressed"]] = [12, True]  # withheld but still there
    result = release_check(broken, COUNTS, 5, run_id=None)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    failures = result.metadata["failures"].value
    assert "expect_column_pair_values_a_to_be_greater_than_b(value, threshold) (1 rows)" in failures
    assert "expect_column_values_to_be_null(value) (1 rows)" in failures
    assert {(e["table"], e["row"]) for e in result.metadata["examples"].value} == {
        ("kpi_legal_circle_stock", 0), ("kpi_legal_circle_stock", 1)}


@pytest.fixture
def city_copy(pipeline_city, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder holding a copy of the pipeline city's warehouse (nothing published), made current."""
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    shutil.copyfile(pipeline_city.warehouse, data_dir / "warehouse" / "warehouse.duckdb")
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(data_dir))
    return data_dir


def _nothing_published(data_dir: Path) -> bool:
    releases = data_dir / "releases"
    return latest_release(releases) is None and (not releases.exists() or not any(releases.iterdir()))


def _run(job: dg.JobDefinition, tmp_path: Path) -> dg.ExecuteInProcessResult:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def test_a_release_is_not_published_when_a_raw_suite_fails_and_the_build_stops_before_staging(
        city_copy: Path, tmp_path: Path):
    """Done when: the real build on a copy of the city whose raw layer breaks its GX suite publishes nothing."""
    from pipelines.definitions import defs

    with duckdb.connect(str(city_copy / "warehouse" / "warehouse.duckdb")) as con:
        broken = con.execute("""
            update raw.abh__residence_status set azr_hash = 'not-a-keyed-hash-' || source_row
            where delivery_id = (select min(delivery_id) from raw.abh__residence_status)
              and azr_hash is not null and source_row <= 12
            returning delivery_id""").fetchall()
        file_name = con.execute("select file_name from meta.deliveries where delivery_id = ?",
                                [broken[0][0]]).fetchone()[0]
    result = _run(defs.resolve_job_def("build_job"), tmp_path)

    assert not result.success
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = evaluations[("raw/abh__residence_status", "gx_abh__residence_status")]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["failing_rows"].value == len(broken) > 0
    assert file_name in failed.metadata["deliveries"].value, "the check names the delivery the rows came from"
    assert set(result.get_failed_step_keys()) == {"raw__abh__residence_status_gx_abh__residence_status"}
    assert not result.get_asset_materialization_events(), "nothing after the raw layer was built"
    assert not any(result.is_node_success(step) for step in ("dbt_pre_linkage", "dbt_post_linkage", "release"))
    assert _nothing_published(city_copy)
    assert (city_copy / "quality" / "runs" / result.run_id / "data_docs" / "index.html").exists(), \
        "the failed run's results are readable in its Data Docs"


def test_the_release_asset_refuses_to_publish_after_any_blocking_check_of_its_run_failed(
        city_copy: Path, tmp_path: Path):
    """A blocking check that Dagster does not put upstream of the release (here: person_spells) still stops it:
    the release asset reads the run's check results and refuses."""
    from pipelines.definitions import defs

    with duckdb.connect(str(city_copy / "warehouse" / "warehouse.duckdb")) as con:
        con.execute("update marts.person_spells set spell_end = spell_start - interval 3 day where person_key in "
                    "(select person_key from marts.person_spells order by all limit 3)")
    spells_check = dg.AssetCheckKey(dg.AssetKey(["marts", "person_spells"]), "gx_person_spells")
    publish = dg.define_asset_job("publish_after_spells_check", selection=dg.AssetSelection.assets(
        dg.AssetKey("release")) | dg.AssetSelection.checks(spells_check))
    job = dg.Definitions.merge(defs, dg.Definitions(jobs=[publish])).resolve_job_def("publish_after_spells_check")
    result = _run(job, tmp_path)

    assert not result.success
    failures = {e.step_key: e.event_specific_data.error.message for e in result.get_step_failure_events()}
    assert "release" in failures, "the release step ran, after the check (priority), and refused"
    assert "not publishing: 1 blocking checks failed in this run (marts/person_spells:gx_person_spells)" \
        in failures["release"]
    assert _nothing_published(city_copy)
