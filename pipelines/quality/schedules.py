"""The nightly quality run: every check of the warehouse as it stands, without building anything.

Deliveries can be late, and a steward should hear of it the morning after the grace period ends,
not at the next monthly build; the nightly run evaluates the freshness checks, the GX suites, the
reconciliations and the dbt tests, and the alert sensors (``pipelines/alerts``) report what failed.
"""

import dagster as dg

# The release check runs inside the release asset (it validates what is about to be published): not here.
quality_job = dg.define_asset_job(
    "quality_job",
    selection=dg.AssetSelection.all_asset_checks() - dg.AssetSelection.checks_for_assets(dg.AssetKey("release")),
    description="Every asset check (freshness, GX suites, reconciliation, plausibility, dbt tests) on the "
    "warehouse as it stands; nothing is rebuilt or published.",
    # no executor here: the code location's default runs one process per run, one run per data folder
)

nightly_quality = dg.ScheduleDefinition(
    name="nightly_quality",
    job=quality_job,
    cron_schedule="30 2 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every night at 02:30: all checks, so that late deliveries and failed checks reach the data "
    "stewards by morning (switch on in the UI, with the alert sensors).",
)
