"""Carry each dbt test's declared severity into its Dagster check result.

dagster-dbt derives a result's severity from the test's run status: WARN only when the test ended in
``warn``. A passing ``severity: warn`` test is therefore reported as ERROR, and the release manifest
and the Dagster UI would list a warning as a gate. The declared severity is known from the check spec
(dagster-dbt makes a check blocking exactly when the test's severity is ``error``), so a result of a
non-blocking check is reported as WARN, passed or not.
"""

from collections.abc import Iterable, Iterator
from typing import Any

import dagster as dg


def with_declared_severity(context: dg.AssetExecutionContext, events: Iterable[Any]) -> Iterator[Any]:
    warn_checks = {spec.key for spec in context.assets_def.check_specs if not spec.blocking}
    for event in events:
        if (isinstance(event, dg.AssetCheckResult) and event.asset_key is not None
                and dg.AssetCheckKey(event.asset_key, event.check_name or "") in warn_checks):
            event = event._replace(severity=dg.AssetCheckSeverity.WARN)
        yield event
