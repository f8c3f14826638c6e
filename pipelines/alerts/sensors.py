"""Alert sensors: failed blocking checks, failed runs, late deliveries -> e-mail and webhook.

Each sensor reads the runs that ended since its last tick (any job: ingest, build, the nightly
quality run), compares what it finds with the failures it has already announced (kept in its cursor,
see ``state.py``) and sends:
- one alert when a failure appears,
- nothing while the same failure persists (however many runs or ticks repeat it),
- one resolution when it is gone (the check passes again, a run of the same job succeeds, the late
  file has arrived).
Only the state at the end of a tick counts: a failure that appeared and was resolved between two
ticks is not announced. Sensors start stopped; switch them on in the UI (Automation) once
``alerts.yaml`` points at the city's relay.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import dagster as dg

from pipelines.alerts.config import AlertConfig
from pipelines.alerts.messages import Alert
from pipelines.alerts.resources import AlertsResource
from pipelines.alerts.state import AlertState, FinishedRun, finished_runs
from pipelines.ingest.contract import all_contracts
from pipelines.quality.freshness import CHECK_NAME as FRESHNESS_CHECK

MAX_LISTED = 30  # lines of a list in one alert; the counts stay complete

Detector = Callable[[dg.DagsterInstance, list[FinishedRun], AlertState, AlertConfig], list[Alert]]


# ---------------------------------------------------------------- reading check evaluations

def _value(metadata: dict[str, Any], key: str) -> Any:
    entry = metadata.get(key)
    return getattr(entry, "value", entry)


def _lines(text: Any) -> list[str]:
    if not text or text in ("n/a", "none"):
        return []
    return [line.removeprefix("- ").strip() for line in str(text).splitlines() if line.strip()]


def _capped(lines: list[str]) -> list[str]:
    return lines if len(lines) <= MAX_LISTED else [*lines[:MAX_LISTED], f"... and {len(lines) - MAX_LISTED} more"]


def _agency_of(asset_path: list[str], metadata: dict[str, Any]) -> str | None:
    """The agency whose data a check is about: from the check's metadata, else from the table's name."""
    agency = _value(metadata, "agency")
    if agency:
        return str(agency)
    table = asset_path[-1] if asset_path else ""
    for contract in all_contracts().values():
        if table in (contract.table, f"stg_{contract.table}"):
            return contract.agency
    return None


def check_evaluations(instance: dg.DagsterInstance, runs: list[FinishedRun]) -> list[tuple[FinishedRun, Any]]:
    """Every check evaluation of the given runs, in the order they were recorded."""
    found = []
    for finished in runs:
        records = instance.get_records_for_run(finished.run.run_id,
                                               of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
        for record in records:
            found.append((finished, record.event_log_entry.dagster_event.event_specific_data))
    return found


def _transitions(state: AlertState, latest: dict[str, tuple[bool, Any]]) -> tuple[list[str], list[str], list[str]]:
    """Keys that opened, stayed open, and were resolved, given each key's latest (failing, context)."""
    opened, repeated, resolved = [], [], []
    for key, (failing, _) in latest.items():
        if failing and key not in state.open:
            opened.append(key)
        elif failing:
            repeated.append(key)
        elif key in state.open:
            resolved.append(key)
    return opened, repeated, resolved


# ---------------------------------------------------------------- failed blocking checks

def detect_check_failures(instance: dg.DagsterInstance, runs: list[FinishedRun], state: AlertState,
                          config: AlertConfig) -> list[Alert]:
    latest: dict[str, tuple[bool, tuple[FinishedRun, Any]]] = {}
    for finished, evaluation in check_evaluations(instance, runs):
        if evaluation.check_name == FRESHNESS_CHECK:
            continue  # late deliveries have their own sensor and message
        key = f"check:{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        failing = not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        latest[key] = (failing, (finished, evaluation))
    opened, repeated, resolved = _transitions(state, latest)
    alerts = []
    for key in opened:
        finished, evaluation = latest[key][1]
        alert = _check_alert("check_failed", key, finished, evaluation, config)
        alerts.append(alert)
        state.open[key] = {"since": alert.created_at, "run_id": finished.run.run_id, "repeats": 0,
                           "title": alert.title}
    for key in repeated:
        finished, _ = latest[key][1]
        state.open[key]["repeats"] += 1
        state.open[key]["last_run_id"] = finished.run.run_id
    for key in resolved:
        finished, evaluation = latest[key][1]
        opened_info = state.open.pop(key)
        alert = _check_alert("check_recovered", key, finished, evaluation, config)
        alert.first_seen = opened_info.get("since")
        alert.summary = (f"The check passes again (failed since {opened_info.get('since')}, "
                         f"{opened_info.get('repeats', 0)} more failing runs since the first alert). "
                         + (evaluation.description or ""))
        alerts.append(alert)
    return alerts


def _check_alert(kind: str, key: str, finished: FinishedRun, evaluation: Any, config: AlertConfig) -> Alert:
    metadata = dict(evaluation.metadata or {})
    asset_path = list(evaluation.asset_key.path)
    asset = evaluation.asset_key.to_user_string()
    counts = {}
    for label, name in (("failing_rows", "failing_rows"), ("failing_rows", "dagster_dbt/failed_row_count"),
                        ("rows_checked", "rows"), ("failed_blocking_expectations", "failed_blocking")):
        value = _value(metadata, name)
        if isinstance(value, int | float) and label not in counts:
            counts[label] = int(value)
    links = {"Check in the Dagster UI": config.asset_url("/".join(asset_path))}
    docs = _value(metadata, "data_docs")
    if docs:
        links["Data Docs (in the data folder)"] = str(docs)
    deliveries = _lines(_value(metadata, "deliveries"))
    return Alert(
        kind=kind, key=key,
        title=f"{asset}:{evaluation.check_name}" + (f" ({counts['failing_rows']} failing rows)"
                                                    if kind == "check_failed" and counts.get("failing_rows") else ""),
        summary=evaluation.description or ("The check failed." if kind == "check_failed" else "The check passes."),
        agency=_agency_of(asset_path, metadata), check=f"{asset}:{evaluation.check_name}",
        run_id=finished.run.run_id, run_url=config.run_url(finished.run.run_id), links=links,
        deliveries=_capped(deliveries or ["not attributable to one delivery (the check reads derived tables)"]),
        counts=counts, failures=_capped(_lines(_value(metadata, "failures"))),
    )


# ---------------------------------------------------------------- failed runs

def run_key(run: dg.DagsterRun) -> str:
    """A failure of a run is identified by its job and what it ran (partition, asset selection)."""
    tags = run.tags
    bounds = (tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end"))
    partition = tags.get("dagster/partition") or "..".join(t for t in bounds if t)
    selection = ",".join(sorted(k.to_user_string() for k in run.asset_selection or []))
    return f"run:{run.job_name}|{partition}|{selection}"


def _failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    steps = []
    for record in records:
        event = record.event_log_entry.dagster_event
        error = getattr(event.event_specific_data, "error", None)
        lines = [line.strip() for line in (error.message if error else event.message or "").splitlines()]
        text = " ".join(line for line in lines[:4] if line)  # e.g. the check names below the first line
        steps.append(f"{event.step_key}: {text[:400] or 'failed'}")
    return steps


def detect_run_failures(instance: dg.DagsterInstance, runs: list[FinishedRun], state: AlertState,
                        config: AlertConfig) -> list[Alert]:
    latest: dict[str, tuple[bool, FinishedRun]] = {}
    for finished in runs:
        latest[run_key(finished.run)] = (not finished.succeeded, finished)
    opened, repeated, resolved = _transitions(state, latest)
    alerts = []
    for key in opened:
        finished = latest[key][1]
        run = finished.run
        steps = _failed_steps(instance, run.run_id)
        partition = key.split("|")[1]
        agency = run.tags.get("agency")
        alert = Alert(
            kind="run_failed", key=key, title=f"{run.job_name} run {run.run_id[:8]} failed"
            + (f" ({partition})" if partition else ""),
            summary=f"The run of {run.job_name} failed in {len(steps)} step(s)"
            + ("; no release was published by it." if run.job_name == "build_job" else "."),
            agency=agency, run_id=run.run_id, run_url=config.run_url(run.run_id),
            deliveries=[f"{agency or 'all agencies'}, delivery month(s) {partition}"] if partition
            else ["all current deliveries"],
            counts={"failed_steps": len(steps)}, failures=_capped(steps))
        alerts.append(alert)
        state.open[key] = {"since": alert.created_at, "run_id": run.run_id, "repeats": 0, "title": alert.title}
    for key in repeated:
        state.open[key]["repeats"] += 1
        state.open[key]["last_run_id"] = latest[key][1].run.run_id
    for key in resolved:
        run = latest[key][1].run
        info = state.open.pop(key)
        alerts.append(Alert(
            kind="run_recovered", key=key, title=f"{run.job_name} succeeds again (run {run.run_id[:8]})",
            summary=f"A run of {run.job_name} succeeded after the failure of run {info['run_id'][:8]} "
            f"({info.get('repeats', 0)} more failed runs since the first alert).",
            agency=run.tags.get("agency"), run_id=run.run_id, run_url=config.run_url(run.run_id),
            first_seen=info.get("since"), links={"Failed run": config.run_url(info["run_id"])}))
    return alerts


# ---------------------------------------------------------------- late deliveries

def detect_late_deliveries(instance: dg.DagsterInstance, runs: list[FinishedRun], state: AlertState,
                           config: AlertConfig) -> list[Alert]:
    """Late files per agency; the open state is kept per agency and city as the list of its late months."""
    latest: dict[str, tuple[FinishedRun, Any]] = {}
    for finished, evaluation in check_evaluations(instance, runs):
        if evaluation.check_name == FRESHNESS_CHECK:
            agency = _agency_of(list(evaluation.asset_key.path), dict(evaluation.metadata or {}))
            latest[agency or evaluation.asset_key.to_user_string()] = (finished, evaluation)
    alerts = []
    for agency, (finished, evaluation) in sorted(latest.items()):
        metadata = dict(evaluation.metadata or {})
        late: dict[tuple[str, str], dict[str, Any]] = {(i["city"], i["month"]): i
                                                       for i in _value(metadata, "late") or []}
        known = {(key.split(":")[2], month) for key, info in state.open.items()
                 if key.startswith(f"late:{agency}:") for month in info["months"]}
        new, arrived = sorted(set(late) - known), sorted(known - set(late))
        for city in {c for c, _ in late} | {c for c, _ in known}:
            months = sorted(m for c, m in late if c == city)
            key = f"late:{agency}:{city}"
            if months:
                state.open[key] = {"months": months, "since": state.open.get(key, {}).get("since") or
                                   dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            else:
                state.open.pop(key, None)
        run_id = finished.run.run_id
        check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if new:
            items = [late[item] for item in new]
            alerts.append(Alert(
                kind="delivery_late", key=f"late:{agency}:{new[0][1]}..{new[-1][1]}:{len(new)}",
                title=f"{agency}: {len(items)} deliveries late",
                summary=f"The {agency} files below were due and are still missing after the grace period "
                f"(schedule: {_value(metadata, 'schedule')}).",
                agency=agency, check=check, run_id=run_id, run_url=config.run_url(run_id),
                deliveries=_capped([f"{i['agency']} {i['city']} {i['month']}: due {i['due']}, "
                                    f"{i['days_overdue']} days overdue ({i['status']})" for i in items]),
                counts={"late_deliveries": len(items),
                        "late_deliveries_of_agency": int(_value(metadata, "late_deliveries") or len(late))}))
        if arrived:
            alerts.append(Alert(
                kind="delivery_arrived", key=f"late:{agency}:{arrived[0][1]}..{arrived[-1][1]}:{len(arrived)}",
                title=f"{agency}: {len(arrived)} late deliveries no longer missing",
                summary=f"The {agency} files below, announced as late, are now here (or no longer expected).",
                agency=agency, check=check, run_id=run_id, run_url=config.run_url(run_id),
                deliveries=_capped([f"{agency} {city} {month}" for city, month in arrived]),
                counts={"resolved": len(arrived), "still_late": len(late)}))
    return alerts


# ---------------------------------------------------------------- the tick

def evaluate(context: dg.SensorEvaluationContext, alerts: AlertsResource, detect: Detector) -> dg.SensorResult:
    """One tick: retry undelivered alerts, detect new ones from the runs that ended, send, save the cursor."""
    state = AlertState.loads(context.cursor)
    config = alerts.load()
    runs, state.after = finished_runs(context.instance, state.after)
    retry, state.pending = state.pending, []
    outgoing: list[tuple[Alert, set[str] | None, int]] = [
        (Alert.from_payload(p["alert"]), set(p["channels"]), p.get("attempts", 1)) for p in retry]
    outgoing += [(alert, None, 0) for alert in detect(context.instance, runs, state, config)]
    sent = 0
    for alert, only, attempts in outgoing:
        failed = alerts.send(alert, config, only)
        if failed:
            context.log.warning(f"alert {alert.kind} '{alert.title}' not delivered to {len(failed)} channel(s), "
                                f"retrying next tick: " + " | ".join(failed.values()))
            state.pending.append({"alert": alert.payload(), "channels": sorted(failed), "attempts": attempts + 1})
        else:
            sent += 1
            context.log.info(f"alert sent: {alert.subject()}")
    skip = None if sent else (f"{len(runs)} finished runs read, nothing to announce"
                              + (f"; {len(state.pending)} alerts waiting for delivery" if state.pending else ""))
    return dg.SensorResult(cursor=state.dumps(), skip_reason=skip)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="E-mail / webhook when a blocking check (severity ERROR) fails in any run; once per "
           "failure, and once when it passes again.")
def check_failure_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource) -> dg.SensorResult:
    return evaluate(context, alerts, detect_check_failures)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="E-mail / webhook when a run fails (per job and partition); once per failure, and once "
           "when a run of the same job succeeds again.")
def run_failure_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource) -> dg.SensorResult:
    return evaluate(context, alerts, detect_run_failures)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="E-mail / webhook to the agency and the stewards when a delivery is late beyond its grace "
           "period (freshness checks); once per late file, and once when it has arrived.")
def late_delivery_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource) -> dg.SensorResult:
    return evaluate(context, alerts, detect_late_deliveries)


alert_sensors = [check_failure_alerts, run_failure_alerts, late_delivery_alerts]
