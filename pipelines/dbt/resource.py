"""The dbt CLI resource, without two costs of dagster-dbt that this project does not need.

Before every ``dbt build``, dagster-dbt's ``DbtCliResource.cli`` does two things besides starting dbt:

- it runs ``dbt --version`` (once per run: the resource is built per run) to learn whether the
  executable is dbt Core or the Fusion engine: about 2 s on the benchmark machine, and dbt asks the
  package index for the latest version while at it;
- it builds a dbt Core adapter in the Dagster process, which loads every macro of the project
  (1.0 s for the first invocation of a process, 0.3 s after). The adapter is only used to fetch row
  counts and column metadata (``fetch_row_counts``, ``fetch_column_metadata``), which our assets do
  not ask for.

Our executable is the ``dbt`` of this virtual environment (``definitions.py``), so its version is the
installed dbt-core package's (another executable is still asked), and the adapter is left out. Both
are private methods of dagster-dbt (pinned in pyproject.toml); should an upgrade rename them, these
overrides stop taking effect and nothing else changes, and ``tests/test_dbt_invocation.py`` fails. It
also pins that the version is the executable's.
"""

from functools import cached_property
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version

from pipelines.dbt.project import VENV_DBT


class ProjectDbtCliResource(DbtCliResource):
    """``DbtCliResource`` for the dbt of this environment: no version subprocess, no in-process adapter."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).resolve() != VENV_DBT.resolve():
            return super()._cli_version  # another dbt: ask it
        from dbt.__version__ import version as installed

        return version.parse(installed)

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        return None
