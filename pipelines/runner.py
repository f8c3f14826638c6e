"""Run the whole pipeline once from Python: ingest every delivery month, then build and publish.

Used by ``make demo`` and by the integration tests. Runs are recorded in the Dagster
instance under ``$DAGSTER_HOME`` and show up in the Dagster UI like any other run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipelines.config import data_paths
from pipelines.ingest.contract import all_contracts
from pipelines.ingest.partitions import delivery_months


@dataclass
class PipelineRun:
    ingest: dg.ExecuteInProcessResult | None
    build: dg.ExecuteInProcessResult


def landed_months() -> list[str]:
    landing = data_paths().landing
    months = {p.name for agency in all_contracts() if (landing / agency).is_dir()
              for p in (landing / agency).iterdir() if p.is_dir()}
    return sorted(months)


def instance() -> dg.DagsterInstance:
    home = os.environ.setdefault("DAGSTER_HOME", str(data_paths().dagster_home))
    os.makedirs(home, exist_ok=True)
    return dg.DagsterInstance.get()


def run_pipeline(months: list[str] | None = None, raise_on_error: bool = True) -> PipelineRun:
    from pipelines.definitions import defs

    months = months if months is not None else landed_months()
    inst = instance()
    ingest_result = None
    if months:
        inst.add_dynamic_partitions(delivery_months.name,
                                    [m for m in months if not inst.has_dynamic_partition(delivery_months.name, m)])
        ingest_result = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=inst,
            tags={ASSET_PARTITION_RANGE_START_TAG: months[0], ASSET_PARTITION_RANGE_END_TAG: months[-1]},
            raise_on_error=raise_on_error,
        )
    build_result = defs.resolve_job_def("build_job").execute_in_process(instance=inst, raise_on_error=raise_on_error)
    return PipelineRun(ingest_result, build_result)
