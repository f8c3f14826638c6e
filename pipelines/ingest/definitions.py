import dagster as dg

from pipelines.ingest.assets import ingest_assets
from pipelines.ingest.sensors import INGEST_JOB, delivery_sensor

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.assets(*ingest_assets),
    description="Ingest the deliveries of one month (or a range of months) for the selected agencies.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(assets=ingest_assets, jobs=[ingest_job], sensors=[delivery_sensor])
