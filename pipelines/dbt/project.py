"""The dbt project and its manifest, kept under the data folder like everything a run writes."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.config import DBT_PROJECT_DIR, data_paths

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

# The dbt of this virtual environment, whether or not the environment is activated.
VENV_DBT = Path(sys.executable).with_name("dbt")


def dbt_env() -> None:
    """dbt reads the warehouse path and its log folder from the environment."""
    paths = data_paths()
    os.environ.setdefault("INTEGRATION_DATA_DIR", str(paths.root))
    os.environ.setdefault("DBT_LOG_PATH", str(paths.dbt_logs))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def _newest_source_mtime() -> float:
    patterns = ("*.sql", "*.yml", "*.csv")
    return max((p.stat().st_mtime for pattern in patterns for p in DBT_PROJECT_DIR.rglob(pattern)
                if "target" not in p.parts), default=0.0)


def _target() -> Path:
    """The data folder's dbt target, with dbt's environment set for it."""
    dbt_env()
    return data_paths().dbt_target


def _stale(target: Path) -> bool:
    manifest = target / "manifest.json"
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime()


# The parse started by ``parse_in_background``, with the target folder it writes.
_parsing: tuple[Path, subprocess.Popen[bytes]] | None = None


def parse_in_background() -> bool:
    """Start dbt's parse of the project when the manifest is missing or older than the model files.

    Returns whether a parse is running. In a new data folder dbt parses the whole project (about 6 s,
    most of it in the subprocess); ``pipelines/definitions.py`` starts it first and imports the rest of
    the code location meanwhile. ``dbt_project()`` waits for it.
    """
    global _parsing
    target = _target()
    if _parsing is None and _stale(target):
        target.mkdir(parents=True, exist_ok=True)
        _parsing = target, subprocess.Popen(
            [str(VENV_DBT), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", str(target)])
    return _parsing is not None


def _stop(target: Path, parsing: subprocess.Popen[bytes]) -> None:
    """End a parse that is still running, and remove the manifest it may have left half-written.

    It was started because the manifest was missing or stale, so the next load parses again either way;
    a truncated manifest with a fresh time stamp would instead look current and fail to load.
    """
    if parsing.poll() is None:
        parsing.kill()
        parsing.wait()
        (target / "manifest.json").unlink(missing_ok=True)


@atexit.register
def _stop_unawaited_parse() -> None:
    """A process that started a parse and failed before waiting for it (an import error) leaves no dbt
    behind to write into the data folder beside the next attempt's parse."""
    if _parsing is not None:
        _stop(*_parsing)


def _await(target: Path, parsing: subprocess.Popen[bytes]) -> None:
    try:
        returncode = parsing.wait()
    except BaseException:  # interrupted (Ctrl-C): dbt must not go on writing the manifest
        _stop(target, parsing)
        raise
    if returncode != 0:
        raise subprocess.CalledProcessError(returncode, parsing.args)


def dbt_project() -> DbtProject:
    """The project with a manifest that is current with the model files (parsed when stale)."""
    from dagster_dbt import DbtProject  # a second's import, not needed to start the parse

    global _parsing
    target = _target()
    if _parsing is not None and _parsing[0] != target:
        other, _parsing = _parsing, None
        _stop(*other)  # started for another data folder: this one needs its own
    if parse_in_background():
        assert _parsing is not None
        started, _parsing = _parsing, None
        _await(*started)
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)


KEPT_INVOCATIONS = 12


def invocation_target(project: DbtProject, name: str, run_id: str) -> Path:
    """A target folder of its own for one dbt invocation, in the data folder, ready for partial parsing.

    dagster-dbt gives every invocation a fresh target folder so that runs do not overwrite each other's
    artifacts. Left to itself it puts them under the dbt project of the code checkout and primes them
    from ``<project>/target/partial_parse.msgpack``, which our parse (into the data folder) never
    writes: every ``dbt build`` then parsed the whole project again (about 3 s each) and left 18 MB of
    artifacts per run in the checkout. Here the folder lies in the data folder's ``dbt/target/runs``,
    receives the project's parse state, and only the newest ``KEPT_INVOCATIONS`` folders are kept.
    """
    runs = data_paths().dbt_target / "runs"
    target = runs / f"{name}-{run_id}-{uuid.uuid4().hex[:7]}"  # a retried step gets a fresh folder too
    target.mkdir(parents=True)
    parsed = Path(project.target_path) / "partial_parse.msgpack"
    if parsed.exists():
        shutil.copy2(parsed, target / "partial_parse.msgpack")
    earlier = sorted((p for p in runs.iterdir() if p.is_dir() and p != target), key=lambda p: p.stat().st_mtime)
    for old in earlier[: max(len(earlier) - (KEPT_INVOCATIONS - 1), 0)]:
        shutil.rmtree(old, ignore_errors=True)
    return target
