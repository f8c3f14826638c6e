"""Where a run reads and writes. Everything lives under one data folder.

The folder is ``$INTEGRATION_DATA_DIR`` when set (tests point it at a temporary
directory), else ``data/`` at the repository root, which git ignores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

CITIES: tuple[str, ...] = ("wuppertal", "solingen", "muelheim")
AGENCIES: tuple[str, ...] = ("abh", "jobcenter", "jugendamt")


@dataclass(frozen=True)
class DataPaths:
    """The folders of one data directory."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def quality(self) -> Path:
        """GX results and Data Docs."""
        return self.root / "quality"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt" / "target"

    @property
    def dbt_logs(self) -> Path:
        return self.root / "dbt" / "logs"


def data_paths() -> DataPaths:
    """The data folder of this process (read from the environment on every call)."""
    root = os.environ.get("INTEGRATION_DATA_DIR")
    return DataPaths(Path(root).resolve() if root else REPO_ROOT / "data")
