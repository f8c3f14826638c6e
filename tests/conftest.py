"""Shared fixtures: a small synthetic city run through the whole pipeline once per test session.

The city lives in a temporary data folder (``INTEGRATION_DATA_DIR``) with its own Dagster
instance and a throwaway key, so the tests never touch the developer's ``data/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.ingest.keys import KEY_ENV, KEY_FILE_ENV

CITY_PERSONS = 900
CITY_MONTHS = 4
CITY_SEED = 7


@dataclass(frozen=True)
class PipelineCity:
    """A synthetic city after one complete pipeline run."""

    data_dir: Path
    warehouse: Path
    releases: Path
    truth: Path
    build_success: bool


@pytest.fixture(scope="session")
def pipeline_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineCity]:
    data_dir = tmp_path_factory.mktemp("city")
    saved = {k: os.environ.get(k) for k in ("INTEGRATION_DATA_DIR", "DAGSTER_HOME", KEY_ENV, KEY_FILE_ENV,
                                            "DBT_LOG_PATH")}
    os.environ["INTEGRATION_DATA_DIR"] = str(data_dir)
    os.environ["DAGSTER_HOME"] = str(data_dir / "dagster")
    os.environ["DBT_LOG_PATH"] = str(data_dir / "dbt" / "logs")
    os.environ[KEY_ENV] = "test-key-" + "0123456789abcdef" * 3
    os.environ.pop(KEY_FILE_ENV, None)
    (data_dir / "dagster").mkdir()

    from pipelines.runner import run_pipeline
    from pipelines.synthetic import generate

    generate(data_dir, persons=CITY_PERSONS, start="2016-01", months=CITY_MONTHS, seed=CITY_SEED)
    result = run_pipeline()
    yield PipelineCity(
        data_dir=data_dir,
        warehouse=data_dir / "warehouse" / "warehouse.duckdb",
        releases=data_dir / "releases",
        truth=data_dir / "truth",
        build_success=result.build.success,
    )
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
