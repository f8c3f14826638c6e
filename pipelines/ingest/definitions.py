import dagster as dg

from pipelines.ingest.assets import ingest_assets
from pipelines.ingest.sensors import INGEST_JOB, delivery_sensor
from pipelines.memory import RELEASE_MEMORY_HOOKS
from pipelines.runlock import in_process_executor_with_run_lock

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.assets(*ingest_assets),
    description="Ingest the deliveries of one month (or a range of months) for the selected agencies.",
    executor_def=in_process_executor_with_run_lock,
    hooks=RELEASE_MEMORY_HOOKS,
)

defs = dg.Definitions(assets=ingest_assets, jobs=[ingest_job], sensors=[delivery_sensor])
