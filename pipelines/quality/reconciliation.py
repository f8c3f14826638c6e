"""Reconciliation and plausibility checks: figures that must add up, and figures that should look sane.

Blocking (ERROR) - a failure means rows were lost or invented, so no release:
- ``deliveries_reconcile`` (each raw asset): per current delivery, rows read = loaded + quarantined, and
  the raw table and the quarantine hold exactly those rows; no raw row from a replaced delivery.
- ``events_trace_to_source`` (person_journey): every event's ``event_key`` leads back, through the
  intermediate union that keeps ``event_ref``, to a row of a loaded, current delivery.
- ``kpi_totals_agree`` (kpi_persons_by_agency): the same persons counted by different KPI tables agree
  (see ``TOTALS``).

Warnings (WARN) - a failure asks a steward to look, with both values:
- ``month_on_month_plausibility`` (kpi_legal_circle_stock): a stock that jumps by more than the bound.
- ``cross_agency_plausibility`` (person_milestones): too many jobcenter / youth-office persons of a city
  without any immigration-office record.

Examples carry pseudonymous keys only (``event_key``, ``person_key``), never a source value.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb

from pipelines.ingest.contract import Contract, all_contracts
from pipelines.quality.checks import current_deliveries
from pipelines.quality.resources import QualitySettings
from pipelines.resources import WarehouseResource
from pipelines.warehouse import table_exists

JOURNEY = dg.AssetKey(["marts", "person_journey"])
EVENTS = dg.AssetKey(["intermediate", "int_events_with_person"])
MAX_EXAMPLES = 10


def _md(lines: list[str]) -> dg.MetadataValue:
    return dg.MetadataValue.md("\n".join(f"- {line}" for line in lines) or "none")


# ---------------------------------------------------------------- rows read = loaded + quarantined

def delivery_reconciliation(con: duckdb.DuckDBPyConnection, contract: Contract) -> dg.AssetCheckResult:
    if not table_exists(con, "meta", "deliveries") or not table_exists(con, "raw", contract.table):
        return dg.AssetCheckResult(passed=True, description=f"{contract.agency}: no deliveries loaded yet",
                                   metadata={"deliveries_checked": 0, "failing_rows": 0})
    rows = con.execute(f"""
        with deliveries as (
            select * from meta.deliveries where agency = ? and not superseded
        ),
        in_raw as (
            select delivery_id, count(*) as rows from raw.{contract.table} group by delivery_id
        ),
        in_quarantine as (
            select delivery_id, count(distinct source_row) as rows from meta.quarantine
            where agency = ? group by delivery_id
        )
        select deliveries.file_name, deliveries.delivery_month, deliveries.status, deliveries.rows_read,
               deliveries.rows_loaded, deliveries.rows_quarantined,
               coalesce(in_raw.rows, 0), coalesce(in_quarantine.rows, 0)
        from deliveries
        left join in_raw on deliveries.delivery_id = in_raw.delivery_id
        left join in_quarantine on deliveries.delivery_id = in_quarantine.delivery_id
        order by deliveries.delivery_month, deliveries.file_name""", [contract.agency, contract.agency]).fetchall()
    orphans = con.execute(f"""
        select count(*) from raw.{contract.table}
        where delivery_id not in (select delivery_id from meta.deliveries
                                  where agency = ? and status = 'loaded' and not superseded)""",
                          [contract.agency]).fetchone()[0]
    problems: list[str] = []
    bad_files: list[str] = []
    off_by = 0
    for file_name, month, status, read, loaded, quarantined, in_raw, in_quarantine in rows:
        issues = []
        if read != loaded + quarantined:
            issues.append(f"{read} read != {loaded} loaded + {quarantined} quarantined")
            off_by += abs(read - loaded - quarantined)
        if in_raw != loaded:
            issues.append(f"register says {loaded} loaded, raw table holds {in_raw}")
            off_by += abs(in_raw - loaded)
        if status == "loaded" and in_quarantine != quarantined:
            issues.append(f"register says {quarantined} quarantined, quarantine holds {in_quarantine} rows")
            off_by += abs(in_quarantine - quarantined)
        if issues:
            bad_files.append(f"{file_name} ({contract.agency}, {month})")
            problems.append(f"{file_name}: " + "; ".join(issues))
    if orphans:
        problems.append(f"{orphans} raw rows belong to no current delivery (replaced or unregistered)")
        off_by += orphans
    described = (f"{contract.agency}: {len(rows)} deliveries reconcile (read = loaded + quarantined)"
                 if not problems else f"{contract.agency}: {len(problems)} reconciliation failures: "
                 + "; ".join(problems[:5]))
    return dg.AssetCheckResult(
        passed=not problems, severity=dg.AssetCheckSeverity.ERROR, description=described,
        metadata={"agency": contract.agency, "deliveries_checked": len(rows), "failing_rows": off_by,
                  "rows_read": sum(r[3] for r in rows), "rows_loaded": sum(r[4] for r in rows),
                  "rows_quarantined": sum(r[5] for r in rows), "orphan_raw_rows": orphans,
                  "failures": _md(problems), "deliveries": "\n".join(bad_files) or "n/a"})


def build_delivery_reconciliation(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", contract.table]),
        name="deliveries_reconcile",
        blocking=True,
        description=f"Per current {contract.agency} delivery: rows read = loaded + quarantined, and the raw "
        "table and quarantine hold exactly those rows (nothing lost, nothing invented).",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            return delivery_reconciliation(con, contract)

    return _check


# ---------------------------------------------------------------- journey events trace to source rows

def journey_trace(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    sources = [c for c in all_contracts().values() if table_exists(con, "raw", c.table)]
    source_refs = " union all ".join(f"select event_ref, delivery_id from raw.{c.table}" for c in sources)
    if not source_refs:
        source_refs = "select cast(null as varchar) as event_ref, cast(null as varchar) as delivery_id where false"
    query = f"""
        with current_deliveries as (
            select delivery_id from meta.deliveries where status = 'loaded' and not superseded
        ),
        source_rows as (
            select distinct event_ref from ({source_refs}) as s
            where delivery_id in (select delivery_id from current_deliveries)
        ),
        traced as (
            select distinct events.event_key
            from intermediate.int_events_with_person as events
            inner join source_rows on events.event_ref = source_rows.event_ref
        )
        select journey.event_key, journey.person_key, journey.source_agency, traced.event_key is not null
        from marts.person_journey as journey
        left join traced on journey.event_key = traced.event_key"""
    untraced = con.execute(f"select count(*), count(*) filter (where not t) from ({query}) as j(k, p, a, t)"
                           ).fetchone()
    total, missing = int(untraced[0]), int(untraced[1])
    # examples and counts by agency only when there is something to show: each is the whole join again
    # (at 1,000,000 persons the check took 3.8-4.0 s with them, 1.3-1.5 s without)
    examples, by_agency = [], {}
    if missing:
        examples = con.execute(f"select k, p, a from ({query}) as j(k, p, a, t) where not t order by k limit ?",
                               [MAX_EXAMPLES]).fetchall()
        by_agency = dict(con.execute(f"select a, count(*) from ({query}) as j(k, p, a, t) where not t group by a"
                                     ).fetchall())
    description = (f"all {total} journey events trace to a row of a current delivery" if not missing else
                   f"{missing} of {total} journey events trace to no row of a current delivery")
    return dg.AssetCheckResult(
        passed=missing == 0, severity=dg.AssetCheckSeverity.ERROR, description=description,
        metadata={"events": total, "failing_rows": missing, "untraced_by_agency": dg.MetadataValue.json(by_agency),
                  "examples": dg.MetadataValue.json([{"event_key": k, "person_key": p, "source_agency": a}
                                                     for k, p, a in examples]),
                  "deliveries": "\n".join(current_deliveries(con)) or "n/a"})


@dg.asset_check(
    asset=JOURNEY,
    name="events_trace_to_source",
    blocking=True,
    additional_deps=[EVENTS, *[dg.AssetKey(["raw", c.table]) for c in all_contracts().values()]],
    description="Every person_journey event (event_key = md5 of the source event_ref) leads back to a row of "
    "a loaded, current delivery in raw.*: the journey invents nothing.",
)
def events_trace_to_source(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return journey_trace(con)


# ---------------------------------------------------------------- totals agree across KPI tables

@dataclass(frozen=True)
class Total:
    """Two ways of counting the same persons per city and month; ``relation`` says how they must compare."""

    name: str
    left: str  # SQL yielding (city, month, value)
    right: str
    relation: str  # '=' or '<=' (left <= right) or 'within' (right yields (city, month, low, high))


_STOCK = "select city, month, {agg} from marts.kpi_legal_circle_stock {where} group by city, month"
TOTALS: tuple[Total, ...] = (
    Total("persons by agency set lie between the largest and the summed legal-circle stock",
          "select city, month, sum(persons) from marts.kpi_persons_by_agency group by city, month",
          _STOCK.format(agg="max(persons), sum(persons)", where=""), "within"),
    Total("youth office persons (agency sets with jugendamt) = SGB VIII stock",
          "select city, month, sum(persons) from marts.kpi_persons_by_agency where agency_set like '%jugendamt%' "
          "group by city, month",
          _STOCK.format(agg="sum(persons)", where="where legal_circle = 'SGB VIII'"), "="),
    Total("youth care: in care = SGB VIII stock",
          "select city, month, in_care from marts.kpi_youth_care",
          _STOCK.format(agg="sum(persons)", where="where legal_circle = 'SGB VIII'"), "="),
    Total("profile mix: profiled persons <= SGB II stock",
          "select city, month, sum(persons) from marts.kpi_profile_mix group by city, month",
          _STOCK.format(agg="sum(persons)", where="where legal_circle = 'SGB II'"), "<="),
    Total("SGB II transitions: entries = persons with an SGB II entry event in the journey",
          "select city, month, entries from marts.kpi_sgb2_transitions",
          "select city, cast(date_trunc('month', event_date) as date), count(distinct person_key) "
          "from marts.person_journey where event_type = 'SGB2_ENTRY' group by all", "="),
)


def compare_totals(con: duckdb.DuckDBPyConnection, total: Total) -> tuple[int, list[str]]:
    """(city-months compared, disagreements as 'city month: left vs right'); a missing row counts as 0."""
    if total.relation == "within":
        right_names = "(city, month, low, high)"
        shown = "coalesce(r.low, 0) || '..' || coalesce(r.high, 0)"
        condition = "coalesce(l.v, 0) between coalesce(r.low, 0) and coalesce(r.high, 0)"
    else:
        right_names, shown = "(city, month, v)", "coalesce(r.v, 0)"
        condition = f"coalesce(l.v, 0) {'=' if total.relation == '=' else '<='} coalesce(r.v, 0)"
    rows = con.execute(f"""
        select coalesce(l.city, r.city) as city, coalesce(l.month, r.month) as month, coalesce(l.v, 0),
               {shown}, {condition}
        from ({total.left}) as l(city, month, v)
        full join ({total.right}) as r{right_names}
            on l.city = r.city and l.month = r.month
        order by all""").fetchall()
    bad = [f"{city} {str(month)[:7]}: {left} vs {right}" for city, month, left, right, ok in rows if not ok]
    return len(rows), bad


def kpi_totals(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    results: dict[str, dict[str, Any]] = {}
    lines: list[str] = []
    failing = 0
    for total in TOTALS:
        compared, bad = compare_totals(con, total)
        results[total.name] = {"compared": compared, "disagree": len(bad), "examples": bad[:MAX_EXAMPLES]}
        failing += len(bad)
        if bad:
            lines.append(f"{total.name}: {len(bad)} of {compared} city-months disagree, e.g. " + "; ".join(bad[:3]))
    description = (f"all {len(TOTALS)} cross-table totals agree" if not failing
                   else f"{failing} city-months disagree: " + " | ".join(lines))
    return dg.AssetCheckResult(
        passed=not failing, severity=dg.AssetCheckSeverity.ERROR, description=description,
        metadata={"failing_rows": failing, "totals": dg.MetadataValue.json(results), "failures": _md(lines),
                  "deliveries": "\n".join(current_deliveries(con)) or "n/a"})


@dg.asset_check(
    asset=dg.AssetKey(["marts", "kpi_persons_by_agency"]),
    name="kpi_totals_agree",
    blocking=True,
    additional_deps=[dg.AssetKey(["marts", name]) for name in
                     ("kpi_legal_circle_stock", "kpi_youth_care", "kpi_profile_mix", "kpi_sgb2_transitions",
                      "person_journey")],
    description="The same persons counted by different KPI tables agree per city and month (agency sets vs "
    "legal-circle stock, youth care vs SGB VIII stock, profile mix vs SGB II stock, SGB II entries vs journey).",
)
def kpi_totals_agree(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return kpi_totals(con)


# ---------------------------------------------------------------- month-on-month plausibility

def month_on_month(con: duckdb.DuckDBPyConnection, max_change: float, min_persons: int) -> dg.AssetCheckResult:
    """Stocks per city and legal circle (and all persons per city) that jump between consecutive months.

    Only months from the first delivery month on are judged: the months before come from the initial
    load's history, where large changes are real (the arrivals of 2015), not an effect of a delivery."""
    rows = con.execute("""
        with first_delivery as (
            select cast(min(delivery_month) || '-01' as date) as first_month
            from meta.deliveries where status = 'loaded'
        ),
        series as (
            select city, legal_circle as series, month, persons from marts.kpi_legal_circle_stock
            union all
            select city, 'all persons', month, sum(persons) from marts.kpi_persons_by_agency group by city, month
        ),
        paired as (
            select city, series, month, persons,
                   lag(persons) over (partition by city, series order by month) as previous,
                   lag(month) over (partition by city, series order by month) as previous_month
            from series
        )
        select city, series, previous_month, month, previous, persons
        from paired, first_delivery
        where previous_month is not null
            and month > first_month
            and date_diff('month', previous_month, month) = 1
            and greatest(previous, persons) >= ?
            and abs(persons - previous) > ? * greatest(previous, 1)
        order by city, series, month""", [min_persons, max_change]).fetchall()
    flagged = [f"{city} {series} {str(month)[:7]}: {previous} -> {persons} "
               f"({(persons - previous) / max(previous, 1):+.0%} vs bound +-{max_change:.0%})"
               for city, series, _, month, previous, persons in rows]
    description = (f"no month-on-month change beyond +-{max_change:.0%} (series with >= {min_persons} persons)"
                   if not flagged else f"{len(flagged)} implausible month-on-month changes: " + "; ".join(flagged[:5]))
    return dg.AssetCheckResult(
        passed=not flagged, severity=dg.AssetCheckSeverity.WARN, description=description,
        metadata={"failing_rows": len(flagged), "bound": max_change, "min_persons": min_persons,
                  "flagged": dg.MetadataValue.json([
                      {"city": city, "series": series, "previous_month": str(pm)[:7], "month": str(m)[:7],
                       "previous": int(prev), "current": int(cur)} for city, series, pm, m, prev, cur in rows]),
                  "failures": _md(flagged), "deliveries": "\n".join(current_deliveries(con)) or "n/a"})


@dg.asset_check(
    asset=dg.AssetKey(["marts", "kpi_legal_circle_stock"]),
    name="month_on_month_plausibility",
    additional_deps=[dg.AssetKey(["marts", "kpi_persons_by_agency"])],
    description="Warning when a city's stock (per legal circle, and all persons) changes from one month to the "
    "next by more than QualitySettings.month_on_month_max_change; both values are reported.",
)
def month_on_month_plausibility(warehouse: WarehouseResource,
                                quality_settings: QualitySettings) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return month_on_month(con, quality_settings.month_on_month_max_change,
                              quality_settings.month_on_month_min_persons)


# ---------------------------------------------------------------- cross-agency plausibility

def cross_agency(con: duckdb.DuckDBPyConnection, bounds: dict[str, float], min_persons: int) -> dg.AssetCheckResult:
    """Per city, the share of an agency's persons with no immigration-office (abh) record at all.

    Recognised refugees in SGB II and unaccompanied minors all pass through an immigration office; a high
    share without a record points at a missing delivery or failed linkage, not at reality."""
    rows = con.execute("""
        select city, agency, count(*) as persons,
               count(*) filter (where not contains('+' || agencies || '+', '+abh+')) as without_abh
        from marts.person_milestones, unnest(?::varchar[]) as a(agency)
        where contains('+' || agencies || '+', '+' || agency || '+')
        group by city, agency order by city, agency""", [sorted(bounds)]).fetchall()
    measured = []
    flagged = []
    for city, agency, persons, without in rows:
        share = without / persons if persons else 0.0
        item = {"city": city, "agency": agency, "persons": int(persons), "without_abh": int(without),
                "share": round(share, 4), "bound": bounds[agency], "judged": persons >= min_persons}
        measured.append(item)
        if persons >= min_persons and share > bounds[agency]:
            flagged.append(f"{city}: {without} of {persons} {agency} persons without an immigration-office record "
                           f"({share:.1%} vs bound {bounds[agency]:.0%})")
    description = ("cross-agency shares within bounds" if not flagged
                   else f"{len(flagged)} implausible cross-agency shares: " + "; ".join(flagged))
    return dg.AssetCheckResult(
        passed=not flagged, severity=dg.AssetCheckSeverity.WARN, description=description,
        metadata={"failing_rows": len(flagged), "shares": dg.MetadataValue.json(measured), "failures": _md(flagged),
                  "deliveries": "\n".join(current_deliveries(con)) or "n/a"})


@dg.asset_check(
    asset=dg.AssetKey(["marts", "person_milestones"]),
    name="cross_agency_plausibility",
    description="Warning when, in a city, the share of jobcenter (or youth-office) persons without any "
    "immigration-office record exceeds its bound in QualitySettings; both values are reported.",
)
def cross_agency_plausibility(warehouse: WarehouseResource,
                              quality_settings: QualitySettings) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return cross_agency(con, {"jobcenter": quality_settings.jobcenter_without_abh_max_share,
                                  "jugendamt": quality_settings.youth_without_abh_max_share},
                            quality_settings.cross_agency_min_persons)


delivery_reconciliation_checks = [build_delivery_reconciliation(c) for c in all_contracts().values()]
reconciliation_checks = [*delivery_reconciliation_checks, events_trace_to_source, kpi_totals_agree,
                         month_on_month_plausibility, cross_agency_plausibility]
