"""The dbt project and its manifest, kept under the data folder like everything a run writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.config import DBT_PROJECT_DIR, data_paths


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


def dbt_project() -> DbtProject:
    """The project with a manifest that is current with the model files (parsed when stale)."""
    dbt_env()
    target = data_paths().dbt_target
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)
    manifest = Path(project.manifest_path)
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        target.mkdir(parents=True, exist_ok=True)
        dbt = Path(sys.executable).with_name("dbt")
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", str(target)],
            check=True,
        )
    return project
