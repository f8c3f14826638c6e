"""Settings of the quality gates, configured once in the definitions and changeable in the launchpad.

The bounds of the plausibility checks are judgement calls of the data stewards, not facts of the code,
so they are configuration; "now" is configuration too, so that a test (or a steward re-checking a past
night) can ask "was a delivery late on 20 May?" without waiting for 20 May.
"""

import datetime as dt

import dagster as dg
from pydantic import Field


class QualitySettings(dg.ConfigurableResource):
    """Bounds of the plausibility checks, the reference time of the freshness checks, Data Docs retention."""

    now: str = Field(
        default="", description="Reference time of the freshness checks (ISO date or date-time, UTC); "
        "empty: the clock.")
    month_on_month_max_change: float = Field(
        default=0.5, description="A stock that changes by more than this share from one month to the next "
        "(0.5 = +-50 %) is flagged as implausible (warning).")
    month_on_month_min_persons: int = Field(
        default=20, description="Month-on-month changes are judged only where either month has at least this "
        "many persons: small numbers jump by chance.")
    jobcenter_without_abh_max_share: float = Field(
        default=0.15, description="Largest plausible share of the jobcenter's persons of a city without any "
        "immigration-office record (recognised refugees should all have one).")
    youth_without_abh_max_share: float = Field(
        default=0.30, description="Largest plausible share of the youth office's persons of a city without "
        "any immigration-office record (youth-office records rarely carry the AZR number, so linkage finds "
        "fewer of them: 16-27 % in the demo city).")
    cross_agency_min_persons: int = Field(
        default=20, description="Cross-agency shares are judged only for cities with at least this many "
        "persons at the agency.")
    revalidate_all_rows: bool = Field(
        default=False, description="Validate every row again. Without it, row-level expectations read only "
        "the rows a suite has not found valid before: new, changed or failing last time "
        "(pipelines/quality/validated.py).")
    data_docs_keep_runs: int = Field(
        default=60, description="Data Docs of this many most recent runs are kept (plus those a release "
        "links to); older ones are removed.")

    def reference_time(self) -> dt.datetime:
        """The moment the freshness checks measure lateness against (timezone-aware, UTC)."""
        if not self.now:
            return dt.datetime.now(dt.UTC)
        moment = dt.datetime.fromisoformat(self.now)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
