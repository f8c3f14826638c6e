"""Run the whole pipeline once from Python: ingest every delivery month, then build and publish.

Used by ``make demo`` and by the integration tests. Runs are recorded in the Dagster
instance under ``$DAGSTER_HOME`` and show up in the Dagster UI like any other run.
Every entry point holds the run lock (``pipelines/runlock.py``): a second run on the same
data folder is refused while one is running. ``python -m pipelines.runner`` runs it once.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipelines.config import data_paths
from pipelines.dagster_instance import ensure_instance_config
from pipelines.ingest.contract import all_contracts
from pipelines.ingest.partitions import delivery_months
from pipelines.runlock import RunLockedError, run_lock


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
    """The instance under ``$DAGSTER_HOME`` (default: the data folder's), configured on first use."""
    home = os.environ.setdefault("DAGSTER_HOME", str(data_paths().dagster_home))
    ensure_instance_config(Path(home))
    return dg.DagsterInstance.get()


def run_ingest(months: list[str], raise_on_error: bool = True, checks: bool = True) -> dg.ExecuteInProcessResult:
    """Ingest the given delivery months (all agencies) in one run; ``checks=False`` leaves out the raw checks."""
    with run_lock(f"ingest of {months[0]}..{months[-1]} (pipelines.runner)"):
        from pipelines.definitions import defs

        inst = instance()
        inst.add_dynamic_partitions(delivery_months.name,
                                    [m for m in months if not inst.has_dynamic_partition(delivery_months.name, m)])
        job = defs.resolve_job_def("ingest_job")
        if not checks:
            job = job.get_subset(asset_selection=set(job.asset_layer.executable_asset_keys),
                                 asset_check_selection=set())
        return job.execute_in_process(
            instance=inst,
            tags={ASSET_PARTITION_RANGE_START_TAG: months[0], ASSET_PARTITION_RANGE_END_TAG: months[-1]},
            raise_on_error=raise_on_error,
        )


def run_job(name: str, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """Run an unpartitioned job of the code location (``build_job``, ``linkage_job``)."""
    with run_lock(f"{name} (pipelines.runner)"):
        from pipelines.definitions import defs

        return defs.resolve_job_def(name).execute_in_process(instance=instance(), raise_on_error=raise_on_error)


def run_pipeline(months: list[str] | None = None, raise_on_error: bool = True) -> PipelineRun:
    # One lock over both jobs, so that no other run slips in between ingest and build.
    with run_lock("pipeline run: ingest_job then build_job (pipelines.runner)"):
        months = months if months is not None else landed_months()
        # The build run evaluates the raw layer's checks on exactly this state before it publishes;
        # evaluating them in the ingest run as well cost a million persons' run over a minute.
        ingest_result = run_ingest(months, raise_on_error, checks=False) if months else None
        return PipelineRun(ingest_result, run_job("build_job", raise_on_error))


def main() -> None:
    """Ingest every landed month, build and publish; exit 75 (try again later) if another run holds the lock."""
    try:
        result = run_pipeline(raise_on_error=False)
    except RunLockedError as refused:
        print(refused, file=sys.stderr)
        sys.exit(75)
    ok = result.build.success and (result.ingest is None or result.ingest.success)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
