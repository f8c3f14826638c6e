"""The arithmetic behind the pages, on small tables whose answer is known by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboards import figures


def life_table_from_persons(durations: list[int], reached: list[bool]) -> pd.DataFrame:
    """The life table the mart publishes, built from person-level (month, reached) pairs."""
    persons = pd.DataFrame({"month_since": durations, "reached": reached})
    rows = (
        persons.groupby("month_since")
        .agg(reached=("reached", "sum"), censored=("reached", lambda r: int((~r).sum())))
        .reset_index()
    )
    rows["at_risk"] = rows[["reached", "censored"]].sum(axis=1)[::-1].cumsum()[::-1]
    rows = rows.assign(city="x", cohort_year=2015, reference="arrival", milestone="b1")
    for column in ("at_risk", "reached", "censored"):
        rows[f"{column}_suppressed"] = False
    return rows


def kaplan_meier_by_hand(durations: list[int], reached: list[bool], month: int) -> float:
    """Share reached within `month` months: the textbook product-limit estimator on the persons."""
    survival = 1.0
    for t in sorted(set(durations)):
        if t >= month:
            break
        at_risk = sum(d >= t for d in durations)
        events = sum(d == t and r for d, r in zip(durations, reached, strict=True))
        survival *= 1 - events / at_risk
    return 1 - survival


def test_kaplan_meier_from_the_life_table_equals_the_estimate_from_the_persons() -> None:
    rng = np.random.default_rng(3)
    durations = rng.integers(0, 30, 400).tolist()
    reached = (rng.random(400) < 0.6).tolist()
    curve = figures.kaplan_meier(life_table_from_persons(durations, reached), threshold=5, step=1)

    for month in (1, 6, 12, 24):
        lower, upper = curve.at(month)
        assert lower == upper == pytest.approx(kaplan_meier_by_hand(durations, reached, month))


def test_censored_people_are_not_counted_as_not_reaching() -> None:
    # 20 people: 5 reach B1 in month 0; 10 are still on the way when the data end in month 0 (they
    # arrived just before); the other 5 reach B1 in month 1. A plain share "reached so far" says
    # 10 of 20 = 50 %; of those observed long enough, everyone reached it.
    durations = [0] * 5 + [0] * 10 + [1] * 5
    reached = [True] * 5 + [False] * 10 + [True] * 5
    curve = figures.kaplan_meier(life_table_from_persons(durations, reached), threshold=1, step=1)

    assert curve.at(1) == (pytest.approx(0.25), pytest.approx(0.25))
    assert curve.at(2)[0] == pytest.approx(1.0)


def test_suppressed_cells_give_bounds_from_the_tables_arithmetic_and_a_small_at_risk_ends_the_curve() -> None:
    # Month 1: reached and censored withheld, but together 80 - 40 = 40; month 3: 40 - 10 - 26 = 4 on the way.
    rows = pd.DataFrame(
        {
            "city": "x", "cohort_year": 2015, "reference": "arrival", "milestone": "b1",
            "month_since": [0, 1, 2, 3],
            "at_risk": pd.array([100, 80, 40, None], dtype="Int64"),
            "at_risk_suppressed": [False, False, False, True],
            "reached": pd.array([20, None, 10, None], dtype="Int64"),
            "reached_suppressed": [False, True, False, True],
            "censored": pd.array([0, None, 26, None], dtype="Int64"),
            "censored_suppressed": [False, True, False, True],
        }
    )  # fmt: skip
    curve = figures.kaplan_meier(rows, threshold=5, step=1)

    lower, upper = curve.at(2)
    assert lower == pytest.approx(1 - 0.8 * (1 - 1 / 80))
    assert upper == pytest.approx(1 - 0.8 * (1 - 39 / 80))
    assert curve.at(3)[0] == pytest.approx(1 - 0.8 * (1 - 1 / 80) * (1 - 10 / 40))
    assert curve.observed_until == 3, "the month with fewer than 5 still on the way is left out"
    assert curve.at(4) is None
    assert curve.persons == 100


def test_a_cell_the_arithmetic_pins_down_is_used_exactly() -> None:
    (n_low, n_high), (d_low, d_high), _ = figures.life_table_bounds(
        np.array([100.0, 80.0, 40.0]), np.array([20.0, np.nan, 10.0]), np.array([0.0, 37.0, 30.0])
    )
    assert (d_low[1], d_high[1]) == (3.0, 3.0)


def test_a_large_at_risk_withheld_to_protect_another_cell_does_not_end_the_curve() -> None:
    # Secondary suppression may withhold any cell, not only small ones; the arithmetic of the table
    # (at_risk = next at_risk + reached + censored) still pins it down where its neighbours are published.
    rows = pd.DataFrame(
        {
            "city": "x", "cohort_year": 2015, "reference": "arrival", "milestone": "b1",
            "month_since": [0, 1, 2],
            "at_risk": pd.array([100, None, 50], dtype="Int64"),
            "at_risk_suppressed": [False, True, False],
            "reached": pd.array([10, 20, 50], dtype="Int64"),
            "reached_suppressed": [False, False, False],
            "censored": pd.array([0, 20, 0], dtype="Int64"),
            "censored_suppressed": [False, False, False],
        }
    )  # fmt: skip
    curve = figures.kaplan_meier(rows, threshold=5, step=1)

    assert curve.at(3) == (pytest.approx(1.0), pytest.approx(1.0))
    assert curve.at(2)[0] == pytest.approx(curve.at(2)[1]) == pytest.approx(1 - 0.9 * (1 - 20 / 90))


def test_a_change_next_to_a_suppressed_value_is_suppressed_and_a_missing_month_is_empty() -> None:
    figures_frame = pd.DataFrame(
        {
            "city": ["a", "a", "b", "b"],
            "month": pd.to_datetime(["2016-05-01", "2016-06-01", "2016-05-01", "2016-06-01"]),
            "figure": "stock:SGB II",
            "value": pd.array([None, 12, 30, 33], dtype="Float64"),
            "value_suppressed": [True, False, False, False],
        }
    )
    table = figures.compare_months(figures_frame, date(2016, 6, 1), date(2016, 5, 1), None).set_index("city")

    assert pd.isna(table.loc["a", "change_previous"]) and table.loc["a", "change_previous_suppressed"]
    assert table.loc["b", "change_previous"] == 3 and not table.loc["b", "change_previous_suppressed"]
    assert pd.isna(table.loc["b", "change_year"]) and not table.loc["b", "change_year_suppressed"]


def test_agency_size_over_a_suppressed_set_is_a_lower_bound() -> None:
    sets = pd.DataFrame(
        {
            "city": "a",
            "month": pd.Timestamp("2016-06-01"),
            "agency_set": ["abh", "abh+jobcenter", "jobcenter", "jobcenter+jugendamt"],
            "persons": pd.array([100, 50, 20, None], dtype="Int64"),
            "persons_suppressed": [False, False, False, True],
        }
    )
    sizes = figures.agency_sizes(sets).set_index("agency")

    assert sizes.loc["abh", "persons"] == 150 and not sizes.loc["abh", "persons_incomplete"]
    assert sizes.loc["jobcenter", "persons"] == 70 and sizes.loc["jobcenter", "persons_incomplete"]
    assert sizes.loc["jugendamt", "persons_suppressed"], "only a suppressed set: the size is suppressed too"


def test_sankey_nodes_are_per_step_so_a_way_back_makes_no_cycle() -> None:
    flows = pd.DataFrame(
        {
            "city": "a",
            "step": [1, 2, 3, 2],
            "from_circle": ["start", "AsylbLG", "SGB II", "SGB II"],
            "to_circle": ["AsylbLG", "SGB II", "AsylbLG", "Arbeit"],
            "persons": pd.array([100, 60, 10, None], dtype="Int64"),
            "persons_suppressed": [False, False, False, True],
        }
    )
    data = figures.sankey(flows)

    assert data.omitted == 1
    assert sorted(data.values) == [10, 60, 100]
    assert all(data.node_keys[s][0] < data.node_keys[t][0] for s, t in zip(data.sources, data.targets, strict=True))


def test_rate_per_thousand_is_missing_where_the_count_is_suppressed() -> None:
    frame = pd.DataFrame(
        {"city": ["a", "b"], "value": pd.array([350, None], dtype="Float64"), "value_suppressed": [False, True]}
    )
    population = pd.DataFrame({"city": ["a", "b"], "population": [70000, 1000]})
    rates = figures.per_thousand(frame, population)
    assert rates.iloc[0] == pytest.approx(5.0) and pd.isna(rates.iloc[1])
