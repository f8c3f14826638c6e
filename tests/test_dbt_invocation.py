"""How the pipeline invokes dbt: the parsed project is reused, and each build's artifacts stay in the data folder."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from pipelines.config import DBT_PROJECT_DIR
from pipelines.dbt.project import KEPT_INVOCATIONS, VENV_DBT, invocation_target
from pipelines.dbt.resource import ProjectDbtCliResource


def test_the_dbt_resource_reports_the_version_of_the_executable_it_runs():
    dbt = VENV_DBT
    printed = subprocess.run([str(dbt), "--version"], capture_output=True, text=True, check=True).stdout
    installed = re.search(r"installed:\s*(\d+\.\d+\.\d+)", printed)
    assert installed is not None, printed
    resource = ProjectDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=str(dbt))
    assert str(resource._cli_version) == installed.group(1)


def test_another_dbt_executable_is_asked_for_its_version(tmp_path: Path):
    other = tmp_path / "dbt"
    other.write_text("#!/bin/sh\necho 'Core:'\necho '  - installed: 9.8.7'\n")
    other.chmod(0o755)
    resource = ProjectDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=str(other))
    assert str(resource._cli_version) == "9.8.7"


def test_the_methods_the_dbt_resource_replaces_still_exist_in_dagster_dbt():
    """Should an upgrade rename them, the overrides would silently stop taking effect."""
    from dagster_dbt import DbtCliResource

    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource) and name in vars(ProjectDbtCliResource), name


def test_every_dbt_build_of_the_pipeline_reuses_the_parsed_project_and_writes_into_the_data_folder(pipeline_city):
    build = next(r for r in dg.DagsterInstance.get().get_runs() if r.job_name == "build_job")
    invocations = sorted((pipeline_city.data_dir / "dbt" / "target" / "runs").glob(f"*-{build.run_id}-*"))
    assert [p.name.split(f"-{build.run_id}")[0] for p in invocations] == ["dbt_post_linkage", "dbt_pre_linkage"]
    for folder in invocations:
        log = (folder / "dbt.log").read_text()
        assert "skipping partial parsing" in log and "Starting full parse" not in log, folder.name
        assert (folder / "run_results.json").exists()
    # dagster-dbt's default: a folder per invocation under the dbt project of the code checkout
    assert list((DBT_PROJECT_DIR / "target").glob(f"*{build.run_id[:7]}*")) == []


def test_only_the_newest_invocation_folders_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path / "data"))
    parsed = tmp_path / "parsed"
    parsed.mkdir()
    (parsed / "partial_parse.msgpack").write_bytes(b"parse state")
    project = SimpleNamespace(target_path=parsed)
    made = []
    for number in range(KEPT_INVOCATIONS + 5):
        folder = invocation_target(project, "dbt_pre_linkage", f"run{number:02d}")  # type: ignore[arg-type]
        os.utime(folder, (1_000_000 + number, 1_000_000 + number))  # creation order, whatever the clock's resolution
        made.append(folder)
        assert (folder / "partial_parse.msgpack").read_bytes() == b"parse state"
    kept = sorted(p.name for p in (tmp_path / "data" / "dbt" / "target" / "runs").iterdir())
    assert kept == sorted(p.name for p in made[-KEPT_INVOCATIONS:])
