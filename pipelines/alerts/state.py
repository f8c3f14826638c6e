"""What an alert sensor remembers between ticks, kept in its cursor (a JSON string in the Dagster instance).

- ``after``: the last run-status event seen, per event type, so that each finished run is read once;
- ``open``: the failures that were announced and are not resolved yet, by key; a failure that is
  still open is not announced again, its resolution is announced once and removes it;
- ``pending``: alerts (and the channels) that could not be delivered yet, retried on the next tick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

RUN_END_EVENTS = (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE)
MAX_PENDING = 200  # undeliverable alerts kept for retry; beyond this the oldest are dropped (and logged)


@dataclass
class AlertState:
    after: dict[str, int] = field(default_factory=dict)
    open: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def loads(cls, cursor: str | None) -> AlertState:
        if not cursor:
            return cls()
        raw = json.loads(cursor)
        return cls(after=raw.get("after", {}), open=raw.get("open", {}), pending=raw.get("pending", []))

    def dumps(self) -> str:
        return json.dumps({"after": self.after, "open": self.open, "pending": self.pending[-MAX_PENDING:]},
                          sort_keys=True)


@dataclass(frozen=True)
class FinishedRun:
    storage_id: int  # of the run's success / failure event: the order in which runs ended
    run: dg.DagsterRun
    succeeded: bool


def finished_runs(instance: dg.DagsterInstance, after: dict[str, int],
                  limit: int = 100) -> tuple[list[FinishedRun], dict[str, int]]:
    """Runs that ended since the cursor, in the order they ended, and the cursor after them."""
    found: list[FinishedRun] = []
    new_after = dict(after)
    for event_type in RUN_END_EVENTS:
        records = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after.get(event_type.value)),
            limit=limit, ascending=True).records
        for record in records:
            run = instance.get_run_by_id(record.event_log_entry.run_id)
            if run is not None:
                found.append(FinishedRun(record.storage_id, run, event_type == dg.DagsterEventType.RUN_SUCCESS))
            new_after[event_type.value] = max(new_after.get(event_type.value, 0), record.storage_id)
    return sorted(found, key=lambda f: f.storage_id), new_after
