"""Reconciliation and plausibility checks on a copy of the pipeline city's warehouse.

Each test changes the copy inside a transaction (a lost row, an invented event, a KPI that disagrees,
a jump) and rolls it back, so every test starts from the city as the pipeline built it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.ingest.contract import all_contracts
from pipelines.quality.reconciliation import (
    cross_agency,
    delivery_reconciliation,
    journey_trace,
    kpi_totals,
    month_on_month,
)

ABH = all_contracts()["abh"]


@pytest.fixture(scope="module")
def warehouse_copy(pipeline_city, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("reconciliation") / "warehouse.duckdb"
    shutil.copyfile(pipeline_city.warehouse, copy)
    return copy


@pytest.fixture
def con(warehouse_copy: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(warehouse_copy))
    connection.begin()
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


def test_the_pipeline_city_reconciles_and_looks_plausible(con):
    for contract in all_contracts().values():
        result = delivery_reconciliation(con, contract)
        assert result.passed, result.description
        assert result.metadata["rows_read"].value == (result.metadata["rows_loaded"].value
                                                      + result.metadata["rows_quarantined"].value)
    for result in (journey_trace(con), kpi_totals(con), month_on_month(con, 0.5, 20),
                   cross_agency(con, {"jobcenter": 0.15, "jugendamt": 0.30}, 20)):
        assert result.passed, result.description


def test_a_raw_row_lost_after_loading_fails_the_reconciliation_of_its_delivery(con):
    delivery_id, file_name = con.execute("select delivery_id, file_name from meta.deliveries where agency = 'abh' "
                                         "and rows_loaded > 5 and not superseded order by all limit 1").fetchone()
    con.execute("delete from raw.abh__residence_status where delivery_id = ? and source_row in "
                "(select source_row from raw.abh__residence_status where delivery_id = ? order by source_row limit 2)",
                [delivery_id, delivery_id])
    result = delivery_reconciliation(con, ABH)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["failing_rows"].value == 2
    assert file_name in result.metadata["deliveries"].value and file_name in result.description


def test_a_raw_row_of_no_current_delivery_fails_the_reconciliation(con):
    con.execute("""insert into raw.abh__residence_status
                   select * replace ('abh-wuppertal-2015-12-000000000000' as delivery_id)
                   from raw.abh__residence_status limit 1""")
    result = delivery_reconciliation(con, ABH)
    assert not result.passed and result.metadata["orphan_raw_rows"].value == 1


def test_an_invented_journey_event_fails_the_trace_and_is_named_by_its_pseudonymous_key(con):
    con.execute("insert into marts.person_journey select * replace (md5('invented') as event_key) "
                "from marts.person_journey limit 1")
    result = journey_trace(con)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["failing_rows"].value == 1
    examples = result.metadata["examples"].value
    assert [e["event_key"] for e in examples] == [con.execute("select md5('invented')").fetchone()[0]]
    assert set(examples[0]) == {"event_key", "person_key", "source_agency"}


def test_journey_events_whose_source_row_is_gone_fail_the_trace(con):
    con.execute("delete from raw.jobcenter__events where event_ref in "
                "(select event_ref from raw.jobcenter__events order by event_ref limit 3)")
    result = journey_trace(con)
    assert not result.passed
    assert result.metadata["untraced_by_agency"].value == {"jobcenter": result.metadata["failing_rows"].value}


def test_kpi_tables_that_count_the_same_persons_differently_fail_with_both_values(con):
    city, month, in_care = con.execute("select city, month, in_care from marts.kpi_youth_care "
                                       "where in_care > 0 order by month desc, city limit 1").fetchone()
    con.execute("update marts.kpi_youth_care set in_care = in_care + 7 where city = ? and month = ?", [city, month])
    result = kpi_totals(con)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    totals = result.metadata["totals"].value["youth care: in care = SGB VIII stock"]
    assert totals["disagree"] == 1
    assert totals["examples"] == [f"{city} {str(month)[:7]}: {in_care + 7} vs {in_care}"]


def test_a_stock_jumping_beyond_the_bound_is_flagged_with_both_values(con):
    city, month, persons = con.execute("""
        select city, month, persons from marts.kpi_legal_circle_stock
        where legal_circle = 'AsylbLG' order by month desc, persons desc limit 1""").fetchone()
    previous, previous_month = con.execute(
        "select persons, strftime(month, '%Y-%m') from marts.kpi_legal_circle_stock where legal_circle = 'AsylbLG' "
        "and city = ? and month = ? - interval 1 month", [city, month]).fetchone()
    con.execute("update marts.kpi_legal_circle_stock set persons = ? where legal_circle = 'AsylbLG' "
                "and city = ? and month = ?", [previous * 3, city, month])
    result = month_on_month(con, max_change=0.5, min_persons=20)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    flagged = result.metadata["flagged"].value
    assert {"city": city, "series": "AsylbLG", "previous_month": previous_month, "month": str(month)[:7],
            "previous": previous, "current": previous * 3} in flagged
    assert f"{previous} -> {previous * 3}" in result.description
    assert persons != previous * 3


def test_a_share_of_jobcenter_persons_without_any_immigration_office_record_above_its_bound_is_flagged(con):
    # as if the immigration office's file of the city had not been linked: half its SGB II clients lose their record
    persons = con.execute("select count(*) from marts.person_milestones where city = 'wuppertal' "
                          "and agencies like '%jobcenter%'").fetchone()[0]
    con.execute("""update marts.person_milestones set agencies = 'jobcenter'
                   where person_key in (select person_key from marts.person_milestones
                                        where city = 'wuppertal' and agencies = 'abh+jobcenter'
                                        order by person_key limit ?)""", [persons // 2])
    without = con.execute("select count(*) from marts.person_milestones where city = 'wuppertal' "
                          "and agencies = 'jobcenter'").fetchone()[0]
    result = cross_agency(con, {"jobcenter": 0.15, "jugendamt": 0.30}, min_persons=20)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert (f"wuppertal: {without} of {persons} jobcenter persons without an immigration-office record "
            f"({without / persons:.1%} vs bound 15%)") in result.description
    shares = {(s["city"], s["agency"]): s for s in result.metadata["shares"].value}
    assert shares[("wuppertal", "jobcenter")]["share"] == round(without / persons, 4)
