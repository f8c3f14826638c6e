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


FAKE_DBT = """#!/bin/sh
# Stands in for `dbt parse`: takes a moment, notes its target folder, writes a manifest there.
for last in "$@"; do :; done
sleep {sleep}
echo "$last" >> "{log}"
exit {status}
"""


def _fake_dbt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int = 0, sleep: float = 0.3) -> Path:
    """A stand-in dbt for the parse (the real one takes seconds; every pipeline city's first load runs it)."""
    from pipelines.dbt import project as project_module

    log = tmp_path / "parses.log"
    fake = tmp_path / "dbt"
    script = FAKE_DBT.format(log=log, status=status, sleep=sleep)
    if status == 0:
        script = script.replace('exit 0', 'echo "{}" > "$last/manifest.json"')
    fake.write_text(script)
    fake.chmod(0o755)
    monkeypatch.setattr(project_module, "VENV_DBT", fake)
    monkeypatch.setattr(project_module, "_parsing", None)
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))  # dbt_env() would set it for the session
    return log


def test_a_parse_started_ahead_is_awaited_once_and_a_changed_data_folder_gets_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from pipelines.dbt.project import dbt_project, parse_in_background

    log = _fake_dbt(tmp_path, monkeypatch)
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(first))
    assert parse_in_background() and parse_in_background()  # running, and not started a second time
    assert not (first / "dbt" / "target" / "manifest.json").exists()  # it runs in the background
    assert Path(dbt_project().manifest_path) == first / "dbt" / "target" / "manifest.json"
    assert Path(dbt_project().manifest_path).exists()
    assert not parse_in_background()  # current: nothing to parse

    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(second))
    assert parse_in_background()
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(first))  # the folder changed before the parse was awaited
    dbt_project()
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(second))
    assert Path(dbt_project().manifest_path).exists()
    assert log.read_text().split() == [str(first / "dbt" / "target"), str(second / "dbt" / "target")]


def test_a_failed_background_parse_fails_loading_the_dbt_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from pipelines.dbt.project import dbt_project, parse_in_background

    _fake_dbt(tmp_path, monkeypatch, status=2)
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path / "data"))
    assert parse_in_background()
    with pytest.raises(subprocess.CalledProcessError):
        dbt_project()


def test_an_interrupted_or_abandoned_parse_does_not_go_on_writing_the_manifest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from pipelines.dbt import project as project_module

    _fake_dbt(tmp_path, monkeypatch, sleep=60)
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path / "data"))
    manifest = tmp_path / "data" / "dbt" / "target" / "manifest.json"

    def stale_manifest() -> None:  # what a killed parse may leave: a file that must not look current
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text("{")
        os.utime(manifest, (0, 0))

    stale_manifest()
    assert project_module.parse_in_background()
    abandoned = project_module._parsing[1]
    project_module._stop_unawaited_parse()  # at exit, after the code location failed to load
    assert abandoned.poll() is not None
    assert not manifest.exists()

    monkeypatch.setattr(project_module, "_parsing", None)
    stale_manifest()
    assert project_module.parse_in_background()
    interrupted = project_module._parsing[1]
    real_wait = subprocess.Popen.wait
    calls: list[None] = []

    def wait_interrupted_once(self: subprocess.Popen, timeout: float | None = None) -> int:
        if not calls:
            calls.append(None)
            raise KeyboardInterrupt
        return real_wait(self, timeout)

    monkeypatch.setattr(subprocess.Popen, "wait", wait_interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        project_module.dbt_project()
    assert interrupted.poll() is not None
    assert not manifest.exists()
