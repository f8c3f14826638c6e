"""The quality stage as the Dagster UI shows it: schedules, the nightly quality job, dbt test severities."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from pipelines.publish.release import latest_release


@pytest.fixture(scope="module")
def defs():
    from pipelines.definitions import defs

    return defs


def test_the_monthly_refresh_and_the_nightly_quality_run_are_schedules_switchable_in_the_ui(defs):
    repo = defs.get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    assert schedules["monthly_refresh"].job_name == "build_job"
    assert schedules["monthly_refresh"].cron_schedule == "0 4 21 * *"
    assert schedules["nightly_quality"].job_name == "quality_job"
    assert schedules["nightly_quality"].cron_schedule == "30 2 * * *"
    for schedule in (schedules["monthly_refresh"], schedules["nightly_quality"]):
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
        assert schedule.execution_timezone == "Europe/Berlin"
    sensors = {s.name for s in repo.sensor_defs}
    assert {"check_failure_alerts", "run_failure_alerts", "late_delivery_alerts"} <= sensors


def test_the_nightly_quality_job_runs_every_check_but_builds_nothing(defs):
    job = defs.resolve_job_def("quality_job")
    selected = set(job.asset_layer.asset_graph.asset_check_keys)
    every_check = {k for k in defs.resolve_asset_graph().asset_check_keys if k.asset_key != dg.AssetKey("release")}
    assert selected == every_check, "all checks but the release's own (which validates what is being published)"
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "abh__residence_status"]), "delivery_freshness") in selected
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "person_journey"]), "events_trace_to_source") in selected
    assert any(k.name.startswith("not_null_") for k in selected), "dbt tests run as checks too"
    assert not job.asset_layer.selected_asset_keys, "no asset is materialised"


def test_dbt_tests_carry_their_declared_severity_into_the_release_manifest(pipeline_city):
    from pipelines.dbt.assets import project

    nodes = json.loads(project.manifest_path.read_text())["nodes"].values()
    declared = {n["name"]: n["config"]["severity"].upper() for n in nodes if n["resource_type"] == "test"}
    manifest = json.loads((latest_release(pipeline_city.releases) / "manifest.json").read_text())
    dbt_checks = [c for c in manifest["checks"] if c["check"] in declared]
    assert dbt_checks and {declared[c["check"]] for c in dbt_checks} == {"ERROR", "WARN"}
    for check in dbt_checks:
        assert check["severity"] == declared[check["check"]], check


def test_every_dbt_test_of_a_model_is_an_asset_check_in_dagster(defs):
    """Singular tests included (attached by meta.dagster.ref). Tests on sources (raw.*, the registry) are not
    checks: they stop `dbt build` when they fail, and the raw GX suites check the same columns as checks."""
    from pipelines.dbt.assets import project

    nodes = json.loads(project.manifest_path.read_text())["nodes"].values()
    dbt_tests = {n["name"] for n in nodes if n["resource_type"] == "test"
                 and not all(d.startswith("source.") for d in n["depends_on"]["nodes"])}
    assert {"assert_every_event_record_is_linked", "assert_marts_hold_no_identifiers"} <= dbt_tests
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert dbt_tests and not dbt_tests - checks, sorted(dbt_tests - checks)


def _mart_column_specs() -> list[tuple[str, str, set[str], list[str]]]:
    """(model, column, constraint types, names of its data tests) of every column the marts' YAML declares."""
    import yaml

    from pipelines.config import DBT_PROJECT_DIR

    specs = []
    for path in sorted((DBT_PROJECT_DIR / "models" / "marts").glob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):  # a file may hold unit tests only
            assert model["config"]["contract"]["enforced"], f"{model['name']}: the marts' contracts are enforced"
            for column in model["columns"]:
                tests = [t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests", [])]
                specs.append((model["name"], column["name"], {c["type"] for c in column.get("constraints", [])},
                              tests))
    return specs


def test_mart_columns_declared_not_null_are_created_not_null_in_the_warehouse(pipeline_city):
    """The marts' not_null constraints, not not_null tests, keep nulls out: DuckDB refuses them at the build."""
    import duckdb

    declared = {(model, column) for model, column, constraints, _ in _mart_column_specs() if "not_null" in constraints}
    with duckdb.connect(str(pipeline_city.warehouse), read_only=True) as con:
        not_nullable = set(con.execute("select table_name, column_name from information_schema.columns "
                                       "where table_schema = 'marts' and is_nullable = 'NO'").fetchall())
    assert len(declared) > 50
    assert declared <= not_nullable, f"declared not null but nullable: {sorted(declared - not_nullable)}"


def test_no_dbt_test_repeats_a_mart_columns_not_null_constraint():
    """Such a test cannot fail (the build would have failed first) and cost a query and two events per run."""
    repeated = [(model, column) for model, column, constraints, tests in _mart_column_specs()
                if "not_null" in constraints and "not_null" in tests]
    assert repeated == []
