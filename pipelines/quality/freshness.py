"""Freshness: is every city's file of every agency here, by the cadence the agency's contract declares?

Why not Dagster's ``build_last_update_freshness_checks``: it measures when an asset was last
materialised, but an ingest run for an old month (a correction, a backfill) updates the asset without
bringing the missing month, and one raw asset holds the files of several cities. Lateness is a property
of a delivery (agency, city, month), so the check reads the delivery register ``meta.deliveries``
against the agency's ``delivery:`` block (``pipelines/ingest/contracts/<agency>.yaml``).

A city is expected to deliver every period from its first delivery on. The file of a period is due on
``due_day`` of the following month and late when it is still missing ``grace_days`` after that; a
rejected file counts as missing. "Now" comes from ``QualitySettings.now`` (the clock when empty).
"""

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import dagster as dg
import duckdb

from pipelines.ingest.contract import Contract, DeliverySchedule, all_contracts
from pipelines.quality.resources import QualitySettings
from pipelines.resources import WarehouseResource

CHECK_NAME = "delivery_freshness"
MAX_LISTED = 500  # late deliveries listed in the check's metadata; the count is always complete


@dataclass(frozen=True)
class LateDelivery:
    agency: str
    city: str
    month: str  # the reporting period (YYYY-MM) whose file is missing
    due: str  # ISO date the file was due
    late_after: str  # ISO date after which it counts as late (due + grace)
    days_overdue: int  # days since it was due
    status: str  # 'missing' or 'rejected'


def _month_index(month: str) -> int:
    year, mon = (int(part) for part in month.split("-"))
    return year * 12 + mon - 1


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def due_date(month: str, schedule: DeliverySchedule) -> dt.date:
    """The day the file of reporting period ``month`` is due: ``due_day`` of the following month."""
    following = _month_index(month) + 1
    return dt.date(following // 12, following % 12 + 1, schedule.due_day)


def is_period(month: str, schedule: DeliverySchedule) -> bool:
    """Whether a file is expected for this month (every month, or the last month of each quarter)."""
    return schedule.cadence == "monthly" or (_month_index(month) % 12 + 1) % 3 == 0


def expected_months(first: str, schedule: DeliverySchedule, today: dt.date) -> list[str]:
    """Periods from ``first`` on whose file is late by ``today`` when missing (due + grace has passed)."""
    months = []
    index = _month_index(first)
    while True:
        month = _month_name(index)
        if due_date(month, schedule) + dt.timedelta(days=schedule.grace_days) >= today:
            return months
        if is_period(month, schedule):
            months.append(month)
        index += 1


def late_deliveries(register: list[tuple[str, str, str]], contract: Contract,
                    now: dt.datetime) -> list[LateDelivery]:
    """Late files of one agency, from its register rows ``(city, delivery_month, status)``."""
    schedule = contract.delivery
    today = now.date()
    cities: dict[str, dict[str, str]] = {}
    for city, month, status in register:
        statuses = cities.setdefault(city, {})
        if statuses.get(month) != "loaded":  # a loaded file of the month wins over a rejected one
            statuses[month] = status
    late = []
    for city, statuses in sorted(cities.items()):
        for month in expected_months(min(statuses), schedule, today):
            if statuses.get(month) == "loaded":
                continue
            due = due_date(month, schedule)
            late.append(LateDelivery(
                agency=contract.agency, city=city, month=month, due=due.isoformat(),
                late_after=(due + dt.timedelta(days=schedule.grace_days)).isoformat(),
                days_overdue=(today - due).days, status="rejected" if month in statuses else "missing"))
    return late


def read_register(con: duckdb.DuckDBPyConnection, agency: str) -> list[tuple[str, str, str]]:
    """(city, month, status) of every current delivery of the agency; empty before the first delivery."""
    exists = con.execute("select count(*) from information_schema.tables "
                         "where table_schema = 'meta' and table_name = 'deliveries'").fetchone()[0]
    if not exists:
        return []
    return con.execute("select city, delivery_month, status from meta.deliveries "
                       "where agency = ? and not superseded", [agency]).fetchall()


def describe_schedule(schedule: DeliverySchedule) -> str:
    return (f"{schedule.cadence}; due on day {schedule.due_day} of the following month, late after "
            f"{schedule.grace_days} more days")


def freshness_result(contract: Contract, register: list[tuple[str, str, str]],
                     now: dt.datetime) -> dg.AssetCheckResult:
    late = late_deliveries(register, contract, now)
    cities = sorted({city for city, _, _ in register})
    last = {city: max(m for c, m, s in register if c == city and s == "loaded") for city in cities
            if any(c == city and s == "loaded" for c, _, s in register)}
    severity = dg.AssetCheckSeverity.ERROR if contract.delivery.blocking else dg.AssetCheckSeverity.WARN
    if late:
        by_city: dict[str, list[LateDelivery]] = {}
        for item in late:
            by_city.setdefault(item.city, []).append(item)
        lines = [f"{city}: {len(items)} late ({items[0].month}" + (f" ... {items[-1].month}" if len(items) > 1 else "")
                 + f", oldest {items[0].days_overdue} days overdue)" for city, items in by_city.items()]
        description = f"{contract.agency}: {len(late)} deliveries late - " + "; ".join(lines)
    elif cities:
        description = f"{contract.agency}: every city's deliveries are on time ({len(cities)} cities)"
    else:
        description = f"{contract.agency}: no deliveries registered yet"
    metadata: dict[str, Any] = {
        "agency": contract.agency,
        "schedule": describe_schedule(contract.delivery),
        "now": now.isoformat(timespec="seconds"),
        "late_deliveries": len(late),
        "failing_rows": len(late),
        "cities": len(cities),
        "last_delivered": dg.MetadataValue.json(last),
        "late": dg.MetadataValue.json([asdict(item) for item in late[:MAX_LISTED]]),
        "deliveries": "\n".join(f"{item.agency} {item.city} {item.month} ({item.status}, due {item.due})"
                                for item in late[:20]) or "n/a",
    }
    return dg.AssetCheckResult(passed=not late, severity=severity, description=description, metadata=metadata)


def build_freshness_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", contract.table]),
        name=CHECK_NAME,
        blocking=contract.delivery.blocking,
        description=f"Every city's {contract.agency} file is here by its due date plus grace "
        f"({describe_schedule(contract.delivery)}; pipelines/ingest/contracts/{contract.agency}.yaml).",
    )
    def _check(warehouse: WarehouseResource, quality_settings: QualitySettings) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            register = read_register(con, contract.agency)
        return freshness_result(contract, register, quality_settings.reference_time())

    return _check


freshness_checks = [build_freshness_check(c) for c in all_contracts().values()]
