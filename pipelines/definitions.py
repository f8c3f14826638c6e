"""The Dagster code location: the stages' definitions merged, plus the jobs that span them.

No logic lives here; each stage's folder holds its own assets, checks, sensors and resources.
"""

import dagster as dg

# Modules, not their `defs`: Dagster refuses a module with several Definitions objects in scope.
from pipelines.dbt import definitions as dbt_stage
from pipelines.ingest import definitions as ingest_stage
from pipelines.ingest.assets import ingest_assets
from pipelines.linkage import definitions as linkage_stage
from pipelines.publish import definitions as publish_stage
from pipelines.quality import definitions as quality_stage
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
    monitored_jobs=[ingest_stage.ingest_job],
    request_job=build_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="After deliveries were ingested, rebuild the marts and publish a release.",
)
def build_after_ingest(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")


defs = dg.Definitions.merge(
    ingest_stage.defs,
    dbt_stage.defs,
    linkage_stage.defs,
    quality_stage.defs,
    publish_stage.defs,
    dg.Definitions(
        jobs=[build_job],
        sensors=[build_after_ingest],
        resources={"warehouse": WarehouseResource(), "pseudonym_key": PseudonymKeyResource()},
    ),
)
