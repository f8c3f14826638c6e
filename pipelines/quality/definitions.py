import dagster as dg

from pipelines.quality.checks import gx_checks
from pipelines.quality.freshness import freshness_checks
from pipelines.quality.reconciliation import reconciliation_checks
from pipelines.quality.resources import QualitySettings
from pipelines.quality.schedules import nightly_quality, quality_job

defs = dg.Definitions(
    asset_checks=[*gx_checks, *freshness_checks, *reconciliation_checks],
    jobs=[quality_job],
    schedules=[nightly_quality],
    resources={"quality_settings": QualitySettings()},
)
