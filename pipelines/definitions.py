"""The Dagster code location: the stages' definitions merged, plus the jobs that span them.

No logic lives here; each stage's folder holds its own assets, checks, sensors and resources.
"""
# ruff: noqa: E402 - the stages are imported after dbt's parse has been started

import logging

from pipelines.dbt.project import parse_in_background

# In a new data folder, or after a model file changed, dbt parses the project in a subprocess (about 6 s
# in a new folder). Dagster, the other stages and Great Expectations (about 2 s; the checks import it
# anyway) are imported meanwhile; the dbt stage, imported last, waits for the parse where it needs the
# manifest. Without a parse, GX is left to the first check, as before.
if parse_in_background():
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations  # noqa: F401

import dagster as dg

# Modules, not their `defs`: Dagster refuses a module with several Definitions objects in scope.
from pipelines.alerts import definitions as alerts_stage
from pipelines.ingest import definitions as ingest_stage
from pipelines.ingest.assets import ingest_assets
from pipelines.linkage import definitions as linkage_stage
from pipelines.linkage.assets import PERSON_REGISTRY
from pipelines.memory import RELEASE_MEMORY_HOOKS
from pipelines.privacy import definitions as privacy_stage
from pipelines.publish import definitions as publish_stage
from pipelines.quality import definitions as quality_stage
from pipelines.resources import PseudonymKeyResource, WarehouseResource
from pipelines.runlock import in_process_executor_with_run_lock

# isort: split
from pipelines.dbt import definitions as dbt_stage  # last: it waits for dbt's parse (see above)

RAW = dg.AssetSelection.assets(*ingest_assets)

# Everything after ingest, plus the raw layer's checks, so that one run gates a release
# on the state of all deliveries. In-process: DuckDB allows one writer per file.
build_job = dg.define_asset_job(
    "build_job",
    selection=(dg.AssetSelection.all() - RAW) | dg.AssetSelection.checks_for_assets(*ingest_assets),
    description="dbt staging -> linkage -> dbt marts -> quality gates -> release.",
    executor_def=in_process_executor_with_run_lock,
    hooks=RELEASE_MEMORY_HOOKS,
)


# Ingested deliveries -> staging -> person registry, without marts or publication: for data
# engineers checking linkage on new deliveries, and for the linkage evaluation.
linkage_job = dg.define_asset_job(
    "linkage_job",
    selection=(dg.AssetSelection.assets(PERSON_REGISTRY).upstream() - RAW).without_checks(),
    description="dbt staging and identity records -> linkage -> person registry (no marts, no release).",
    executor_def=in_process_executor_with_run_lock,
    hooks=RELEASE_MEMORY_HOOKS,
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


# After the last agency's file is due (jobcenter: the 15th, plus 5 days' grace), whatever has arrived.
monthly_refresh = dg.ScheduleDefinition(
    name="monthly_refresh",
    job=build_job,
    cron_schedule="0 4 21 * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="On the 21st of every month at 04:00: rebuild the marts and publish a release from the "
    "deliveries at hand (late ones are reported by the freshness checks).",
)


defs = dg.Definitions.merge(
    ingest_stage.defs,
    dbt_stage.defs,
    linkage_stage.defs,
    quality_stage.defs,
    publish_stage.defs,
    privacy_stage.defs,
    alerts_stage.defs,
    dg.Definitions(
        jobs=[build_job, linkage_job],
        sensors=[build_after_ingest],
        schedules=[monthly_refresh],
        resources={"warehouse": WarehouseResource(), "pseudonym_key": PseudonymKeyResource()},
        # Also for assets materialised ad hoc from the UI: one process, one run per data folder.
        executor=in_process_executor_with_run_lock,
    ),
)
