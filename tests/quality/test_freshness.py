"""Freshness: a delivery is late only when it is missing after its due date plus the agency's grace period."""

from __future__ import annotations

import dataclasses
import datetime as dt

import dagster as dg
import pytest

from pipelines.ingest.contract import DeliverySchedule, all_contracts
from pipelines.quality.freshness import due_date, expected_months, freshness_result, late_deliveries

ABH = all_contracts()["abh"]  # monthly, due on the 10th, 5 days' grace


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


REGISTER = [("wuppertal", "2016-01", "loaded"), ("wuppertal", "2016-02", "loaded"),
            ("solingen", "2016-01", "loaded"), ("solingen", "2016-02", "loaded")]


def test_every_agency_declares_its_delivery_schedule_in_its_contract():
    schedules = {agency: c.delivery for agency, c in all_contracts().items()}
    assert set(schedules) == {"abh", "jobcenter", "jugendamt"}
    assert schedules["jobcenter"] == DeliverySchedule(cadence="monthly", due_day=15, grace_days=5)
    assert schedules["jugendamt"].grace_days == 10


@pytest.mark.parametrize("day, late", [("2016-04-15", False), ("2016-04-16", True)])
def test_a_missing_file_is_late_only_after_its_grace_period(day: str, late: bool):
    # March's file is due on 10 April; with five days' grace it is late from 16 April on.
    found = late_deliveries(REGISTER, ABH, at(day))
    assert [(d.city, d.month) for d in found] == ([("solingen", "2016-03"), ("wuppertal", "2016-03")] if late else [])


def test_a_late_delivery_says_when_it_was_due_and_how_overdue_it_is():
    found = late_deliveries(REGISTER, ABH, at("2016-05-20"))
    wuppertal = [d for d in found if d.city == "wuppertal"]
    assert [(d.month, d.due, d.days_overdue, d.status) for d in wuppertal] == [
        ("2016-03", "2016-04-10", 40, "missing"), ("2016-04", "2016-05-10", 10, "missing")]


def test_a_gap_and_a_rejected_file_count_as_late_and_a_loaded_correction_wins():
    register = [("wuppertal", "2016-01", "loaded"), ("wuppertal", "2016-03", "loaded"),
                ("wuppertal", "2016-04", "rejected"), ("wuppertal", "2016-05", "rejected"),
                ("wuppertal", "2016-05", "loaded")]
    found = late_deliveries(register, ABH, at("2016-06-14"))
    assert [(d.month, d.status) for d in found] == [("2016-02", "missing"), ("2016-04", "rejected")]


def test_a_quarterly_agency_is_expected_after_each_quarter_only():
    quarterly = dataclasses.replace(ABH, delivery=DeliverySchedule(cadence="quarterly", due_day=20, grace_days=0))
    assert expected_months("2016-03", quarterly.delivery, dt.date(2016, 10, 21)) == ["2016-03", "2016-06", "2016-09"]
    assert due_date("2016-06", quarterly.delivery) == dt.date(2016, 7, 20)
    found = late_deliveries([("solingen", "2016-03", "loaded")], quarterly, at("2016-10-21"))
    assert [d.month for d in found] == ["2016-06", "2016-09"]


def test_the_check_is_a_warning_naming_each_late_delivery_unless_the_contract_makes_it_blocking():
    result = freshness_result(ABH, REGISTER, at("2016-04-20"))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["late_deliveries"].value == 2
    assert {(d["city"], d["month"]) for d in result.metadata["late"].value} == {("wuppertal", "2016-03"),
                                                                                 ("solingen", "2016-03")}
    assert "2 deliveries late" in result.description
    blocking = dataclasses.replace(ABH, delivery=dataclasses.replace(ABH.delivery, blocking=True))
    assert freshness_result(blocking, REGISTER, at("2016-04-20")).severity == dg.AssetCheckSeverity.ERROR
    assert freshness_result(ABH, REGISTER, at("2016-04-15")).passed


def test_a_schedule_that_cannot_be_met_is_refused_when_the_contract_is_read():
    with pytest.raises(ValueError, match="due_day"):
        DeliverySchedule(due_day=31)
    with pytest.raises(ValueError, match="cadence"):
        DeliverySchedule(cadence="weekly")  # type: ignore[arg-type]
