"""GX suites at every layer: they pass on the pipeline city, fail with counts and pseudonymous keys only, and
leave Data Docs in the data folder that show counts, never the values of rows."""

from __future__ import annotations

import json
import weakref
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.ingest.contract import all_contracts
from pipelines.publish.release import latest_release
from pipelines.quality import data_docs, gx_suites
from pipelines.quality.checks import read_relation, suite_check_result, suite_targets
from pipelines.quality.gx_suites import run_suite

PLANTED = "ZZPLANTEDCODE"


@pytest.fixture(scope="module")
def manifest(pipeline_city) -> dict:
    return json.loads((latest_release(pipeline_city.releases) / "manifest.json").read_text())


def test_every_layer_has_suites_and_each_agency_its_raw_and_staging_suite():
    targets = {(t.schema, t.table): t for t in suite_targets()}
    for contract in all_contracts().values():
        assert targets[("raw", contract.table)].agency == contract.agency
        assert targets[("staging", f"stg_{contract.table}")].agency == contract.agency
    marts = {table for schema, table in targets if schema == "marts"}
    assert {"person_journey", "person_spells", "person_milestones", "kpi_persons_by_agency",
            "kpi_legal_circle_stock", "kpi_youth_care"} <= marts
    assert Path("expectations/release__cells.json").exists()


def test_every_suite_passed_in_the_pipeline_city_run_and_is_in_the_manifest(manifest):
    gx = {(c["asset"], c["check"]): c for c in manifest["checks"] if c["check"].startswith("gx_")}
    for target in suite_targets():
        check = gx[("/".join(target.asset_key.path), target.check_name)]
        assert check["passed"], check["description"]
    assert gx[("release", "gx_release_cells")]["passed"]


def test_a_failed_expectation_reports_its_count_and_pseudonymous_keys_never_the_values(
        raw_abh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    frame = raw_abh.copy()
    frame.loc[frame.index[:4], "status_code"] = PLANTED
    result = run_suite("raw__abh__residence_status", frame, run_id="unit-run")

    assert not result.success
    assert result.failed_blocking == ["expect_column_values_to_be_in_set(status_code) (4 rows)"]
    assert result.failing_rows == 4
    assert len(result.examples) == 4
    assert all(set(e) == {"expectation", "delivery_id", "event_ref"} for e in result.examples)
    assert {e["event_ref"] for e in result.examples} == set(frame["event_ref"].iloc[:4])

    docs = data_docs.docs_dir("unit-run")
    assert result.data_docs == "quality/runs/unit-run/data_docs/index.html" and (docs / "index.html").exists()
    stored = list((data_docs.run_root("unit-run") / "gx" / "uncommitted" / "validations").rglob("*.json"))
    assert stored, "the validation result is kept beside the Data Docs"
    counts = [r["result"].get("unexpected_count") for r in json.loads(stored[0].read_text())["results"]]
    assert 4 in counts
    written = [p for p in data_docs.run_root("unit-run").rglob("*") if p.is_file() and p.suffix in (".html", ".json")]
    assert not [p for p in written if PLANTED in p.read_text(encoding="utf-8", errors="ignore")], \
        "no unexpected value is stored or rendered"


def test_failed_warnings_alone_make_a_warn_result_and_a_blocking_failure_an_error(pipeline_city, raw_abh):
    frame = raw_abh.copy()
    frame["birth_year"] = 1850  # blocking: birth_year between 1900 and 2030
    blocking = suite_check_result(run_suite("raw__abh__residence_status", frame), len(frame), [], "abh")
    assert not blocking.passed and blocking.severity == dg.AssetCheckSeverity.ERROR
    assert blocking.metadata["failed_blocking"].value == 1 and blocking.metadata["agency"].value == "abh"

    with duckdb.connect(str(pipeline_city.warehouse), read_only=True) as con:
        staging = read_relation(con, "staging.stg_abh__residence_status")
    staging.loc[staging.index[:3], "district"] = None  # warning: a postcode the seed does not map
    warning = suite_check_result(run_suite("staging__stg_abh__residence_status", staging), len(staging), [], "abh")
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert warning.metadata["failed_warning"].value == 1 and warning.metadata["failing_rows"].value == 3


def test_an_expectation_that_cannot_be_evaluated_fails_instead_of_passing_silently(pipeline_city):
    with duckdb.connect(str(pipeline_city.warehouse), read_only=True) as con:
        as_read = read_relation(con, "marts.person_journey")
        as_timestamps = con.execute("select * from marts.person_journey").df()
    assert run_suite("marts__person_journey", as_read).success and not run_suite("marts__person_journey",
                                                                                 as_read).failed_warning
    broken = run_suite("marts__person_journey", as_timestamps)  # timestamps against ISO date bounds
    assert any("error:" in failure for failure in broken.failed_warning)


@pytest.mark.parametrize("planted", [False, True], ids=["passing", "failing-with-examples"])
def test_a_validated_frame_is_not_kept_by_gx_after_its_suite_ran(
        raw_abh, planted: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The run's GX context lives as long as the run; its engine used to keep every frame it validated.
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(gx_suites, "LARGE_FRAME_BYTES", 0)  # the city's frame counts as large here
    frame = raw_abh.copy()
    if planted:
        frame.loc[frame.index[:2], "status_code"] = PLANTED
    alive = weakref.ref(frame)
    result = run_suite("raw__abh__residence_status", frame, run_id="release-run")
    assert result.success is not planted
    del frame
    assert alive() is None
