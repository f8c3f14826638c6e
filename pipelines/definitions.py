"""The Dagster code location: the stages' definitions merged, plus the jobs that span them.

No logic lives here; each stage's folder holds its own assets, checks, sensors and resources.
"""

import dagster as dg

from pipelines.dbt.definitions import defs as dbt_defs
from pipelines.ingest.assets import ingest_assets
from pipelines.ingest.definitions import defs as ingest_defs
from pipelines.ingest.definitions import ingest_job
from pipelines.linkage.definitions import defs as linkage_defs
from pipelines.publish.definitions import defs as publish_defs
from pipelines.quality.definitions import defs as quality_defs
from pipelines.resources import PseudonymKeyResource, WarehouseResource

RAW = dg.AssetSelection.assets(*ingest_assets)

# Everything after ingest, plus the raw layer's checks, so that one run gates a release
# on the state of all deliveries. In-process: DuckDB allows one writer per file.
build_job = dg.define_asset_job(
    "build_job",
    selection=(dg.AssetSelection.all() - RAW) | dg.AssetSelection.checks_for_assets(*ingest_assets),
    description="dbt staging -> linkage -> dbt marts -> quality gates -> release.",
    executor_def=dg.in_process_executor,
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=build_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="After deliveries were ingested, rebuild the marts and publish a release.",
)
def build_after_ingest(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")


defs = dg.Definitions.merge(
    ingest_defs,
    dbt_defs,
    linkage_defs,
    quality_defs,
    publish_defs,
    dg.Definitions(
        jobs=[build_job],
        sensors=[build_after_ingest],
        resources={"warehouse": WarehouseResource(), "pseudonym_key": PseudonymKeyResource()},
    ),
)
