"""The figures the pages and the PDF report show, computed from published tables only.

Plain pandas, no Streamlit: a page and the monthly report compute a figure the same way, and tests
check the arithmetic without a browser. Every function keeps the release's rule for small numbers:
a suppressed cell stays suppressed (`<col>_suppressed`), a result that rests on one becomes either
suppressed too or a bound (`<col>_incomplete`, shown as `mind.`), never a number that looks exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from dashboards import labels
from dashboards.formatting import (
    INCOMPLETE_SUFFIX,
    NO_VALUE,
    SUPPRESSED_SUFFIX,
    format_decimal,
    format_percent,
    suppressed_mask,
)
from dashboards.i18n import Language, t

ALL = "alle"
STOCK_ANY = "alle"  # kpi_stock_by_group.legal_circle for "in any circle" (each person once)
ENTRIES = "entries"
IN_CARE = "in_care"
UNACCOMPANIED = "unaccompanied"
STOCK_PREFIX = "stock:"
KNOWN = STOCK_PREFIX + STOCK_ANY


SHORT_CIRCLES: dict[str, tuple[str, str]] = {"Arbeit": ("Arbeit/Ausbildung", "work/training")}


def figure_label(code: object, lang: Language | None = None, *, short: bool = False) -> str:
    """The words for a headline figure code (`stock:alle`, `stock:SGB II`, `entries`, ...).

    `short`: the legal circle by its law's abbreviation, for metric labels and chart axes.
    """
    text = str(code)
    if short and text.startswith(STOCK_PREFIX) and text != KNOWN:
        circle = text.removeprefix(STOCK_PREFIX)
        return t("Bestand ", "Stock ", lang) + labels.label(SHORT_CIRCLES, circle, lang)
    if text == KNOWN:
        return t("Personen bei mindestens einer Behörde", "Persons known to at least one agency", lang)
    if text == ENTRIES:
        return t("Zugänge ins SGB II im Monat", "Entries into SGB II in the month", lang)
    if text == IN_CARE:
        return t("Betreut vom Jugendamt", "In youth-office care", lang)
    if text == UNACCOMPANIED:
        return t("davon unbegleitet", "of which unaccompanied", lang)
    if text.startswith(STOCK_PREFIX):
        return t("Bestand ", "Stock ", lang) + labels.legal_circle(text.removeprefix(STOCK_PREFIX), lang)
    return text


# --- overview: one month against the month before and the year before --------------------------------


def compare_months(
    figures: pd.DataFrame, month: date, previous: date | None, previous_year: date | None
) -> pd.DataFrame:
    """One row per city and figure: value in `month`, the month before, a year before, and the changes.

    `figures` has `city, month, figure, value, value_suppressed`. A change that involves a
    suppressed value is itself suppressed: next to the published value it would give the other away.
    """
    keys = ["city", "figure"]
    now = _at(figures, month)
    table = now.copy()
    for suffix, other in (("previous", previous), ("year", previous_year)):
        before = _at(figures, other).rename(
            columns={"value": f"value_{suffix}", "value_suppressed": f"value_{suffix}_suppressed"}
        )
        table = table.merge(before, on=keys, how="left")
        table[f"value_{suffix}_suppressed"] = table[f"value_{suffix}_suppressed"].astype("boolean").fillna(False)
        hidden = table["value_suppressed"] | table[f"value_{suffix}_suppressed"]
        table[f"change_{suffix}"] = (table["value"] - table[f"value_{suffix}"]).where(~hidden)
        compared = table[f"value_{suffix}"].notna() | table[f"value_{suffix}_suppressed"]
        table[f"change_{suffix}_suppressed"] = (hidden & compared).astype(bool)
    return table.reset_index(drop=True)


def stock_figures(stock: pd.DataFrame) -> pd.DataFrame:
    """`kpi_stock_by_group` rows (one group) as `city, month, figure, value, value_suppressed`."""
    return pd.DataFrame(
        {
            "city": stock["city"],
            "month": stock["month"],
            "figure": "stock:" + stock["legal_circle"].astype(str),
            "value": stock["persons"].astype("Float64"),
            "value_suppressed": suppressed_mask(stock, "persons"),
        }
    )


def measure_figures(frame: pd.DataFrame, measure: str, figure: str) -> pd.DataFrame:
    """One measure of a monthly table as `city, month, figure, value, value_suppressed`."""
    return pd.DataFrame(
        {
            "city": frame["city"],
            "month": frame["month"],
            "figure": figure,
            "value": frame[measure].astype("Float64"),
            "value_suppressed": suppressed_mask(frame, measure),
        }
    )


def _at(frame: pd.DataFrame, month: date | None) -> pd.DataFrame:
    columns = ["city", "figure", "value", "value_suppressed"]
    if month is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns}).astype(
            {"value": "Float64", "value_suppressed": "boolean"}
        )
    return frame.loc[frame["month"] == pd.Timestamp(month), columns]


# --- per 1,000 inhabitants --------------------------------------------------------------------------


def per_thousand(frame: pd.DataFrame, population: pd.DataFrame, value: str = "value") -> pd.Series:
    """`value` per 1,000 inhabitants of the row's city (null where suppressed or population unknown)."""
    inhabitants = frame["city"].map(population.set_index("city")["population"]).astype("Float64")
    rate = frame[value].astype("Float64") * 1000 / inhabitants.where(inhabitants > 0)
    return rate.where(~suppressed_mask(frame, value))


# --- Kaplan-Meier from the life table ---------------------------------------------------------------

STRATUM = ["city", "cohort_year", "reference", "milestone"]


@dataclass(frozen=True)
class Curve:
    """Share reached after x whole months (step function), as bounds when suppressed cells entered it."""

    months: np.ndarray  # 0, then month_since + 1 of every row used
    lower: np.ndarray  # share reached, with every suppressed `reached` taken as 1
    upper: np.ndarray  # ... taken as threshold - 1
    persons: int | None  # size of the cohort (at_risk of the first row), None when suppressed
    observed_until: int  # the last month the curve is known for

    def at(self, month: int) -> tuple[float, float] | None:
        """Bounds of the share reached within `month` months; None when not observed that long."""
        if month > self.observed_until:
            return None
        index = int(np.searchsorted(self.months, month, side="right")) - 1
        return float(self.lower[index]), float(self.upper[index])

    def median_months(self) -> tuple[int, int] | None:
        """Earliest and latest month by which half have reached the milestone; None if not yet."""
        upper = np.flatnonzero(self.upper >= 0.5)
        lower = np.flatnonzero(self.lower >= 0.5)
        if not len(upper):
            return None
        earliest = int(self.months[upper[0]])
        latest = int(self.months[lower[0]]) if len(lower) else None
        return (earliest, latest) if latest is not None else (earliest, -1)


# Width of a life-table row in months: kpi_milestone_life_table is by quarter (month_since 0, 3, 6, ...).
LIFE_TABLE_STEP = 3


def kaplan_meier(rows: pd.DataFrame, threshold: int, step: int = LIFE_TABLE_STEP) -> Curve:
    """The Kaplan-Meier estimate of the share reached, from one stratum's life-table rows.

    S(t) = prod over months m <= t of (1 - reached_m / at_risk_m); the share reached is 1 - S(t).
    Censored persons (data end before the milestone) leave the risk set without counting as failures,
    which is what makes younger cohorts comparable with older ones.

    Suppressed cells give bounds, never guesses. A suppressed count is at least 1 (0 is never
    suppressed) and may be large (secondary suppression withholds cells to protect others); the life
    table's own arithmetic (at_risk of a month = at_risk of the next row + reached + censored) narrows
    each one to what the published cells allow (`life_table_bounds`). The curve's lower bound takes the
    fewest reached over the most at risk, the upper bound the reverse. It ends where fewer than
    `threshold` persons may still be on the way: too few for a share.
    """
    rows = rows.sort_values("month_since")
    (n_low, n_high), (d_low, d_high), _ = life_table_bounds(
        _values(rows, "at_risk"), _values(rows, "reached"), _values(rows, "censored")
    )
    # The curve stops where it cannot be sure that `threshold` persons are still on the way.
    usable = ~np.cumsum(n_low < threshold).astype(bool) & np.isfinite(n_high)
    months = rows["month_since"].to_numpy()[usable].astype(int) + step  # the end of each row's interval
    lower = 1 - np.cumprod(1 - d_low[usable] / n_high[usable])
    upper = 1 - np.cumprod(1 - np.minimum(d_high[usable], n_low[usable]) / n_low[usable])
    first = _values(rows.iloc[:1], "at_risk")
    return Curve(
        months=np.concatenate([[0], months]),
        lower=np.concatenate([[0.0], lower]),
        upper=np.concatenate([[0.0], upper]),
        persons=int(first[0]) if len(first) and not np.isnan(first[0]) else None,
        observed_until=int(months[-1]) if len(months) else 0,
    )


Bounds = tuple[np.ndarray, np.ndarray]


def life_table_bounds(n: np.ndarray, d: np.ndarray, c: np.ndarray) -> tuple[Bounds, Bounds, Bounds]:
    """Smallest and largest value of every at_risk, reached and censored cell (NaN = suppressed).

    Interval reasoning over n_i = n_(i+1) + d_i + c_i (n after the last row is 0), repeated until
    nothing changes: what a reader of the release can work out, and no more.
    """
    count = len(n)

    def start(values: np.ndarray) -> list[np.ndarray]:
        return [np.where(np.isnan(values), 1.0, values), np.where(np.isnan(values), np.inf, values)]

    n_b, d_b, c_b = start(n), start(d), start(c)
    for _ in range(4 * count + 4):
        before = [b.copy() for b in (*n_b, *d_b, *c_b)]
        nxt_low = np.append(n_b[0][1:], 0.0)
        nxt_high = np.append(n_b[1][1:], 0.0)
        n_b[0] = np.maximum(n_b[0], nxt_low + d_b[0] + c_b[0])
        n_b[1] = np.minimum(n_b[1], nxt_high + d_b[1] + c_b[1])
        d_b[0] = np.maximum(d_b[0], n_b[0] - nxt_high - c_b[1])
        d_b[1] = np.minimum(d_b[1], n_b[1] - nxt_low - c_b[0])
        c_b[0] = np.maximum(c_b[0], n_b[0] - nxt_high - d_b[1])
        c_b[1] = np.minimum(c_b[1], n_b[1] - nxt_low - d_b[0])
        if count > 1:  # the next row's at_risk from this row's
            n_b[0][1:] = np.maximum(n_b[0][1:], n_b[0][:-1] - d_b[1][:-1] - c_b[1][:-1])
            n_b[1][1:] = np.minimum(n_b[1][1:], n_b[1][:-1] - d_b[0][:-1] - c_b[0][:-1])
        after = [b for b in (*n_b, *d_b, *c_b)]
        if all(np.array_equal(x, y) for x, y in zip(before, after, strict=True)):
            break
    return (n_b[0], n_b[1]), (d_b[0], d_b[1]), (c_b[0], c_b[1])


def _values(rows: pd.DataFrame, column: str) -> np.ndarray:
    """A count column as floats, NaN where suppressed (whatever the file holds there)."""
    values = rows[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return np.where(suppressed_mask(rows, column).to_numpy(), np.nan, values)


def curves(life_table: pd.DataFrame, threshold: int, step: int = LIFE_TABLE_STEP) -> dict[tuple, Curve]:
    """A curve per city, cohort, reference and milestone (the table already narrowed to one group)."""
    return {key: kaplan_meier(rows, threshold, step) for key, rows in life_table.groupby(STRATUM, sort=True)}


def curve_points(all_curves: dict[tuple, Curve]) -> pd.DataFrame:
    """The curves as long rows for a chart: stratum, `months`, `lower`, `upper` (shares 0..1)."""
    parts = [
        pd.DataFrame(
            {**dict(zip(STRATUM, key, strict=True)), "months": curve.months, "lower": curve.lower, "upper": curve.upper}
        )
        for key, curve in all_curves.items()
    ]
    if not parts:
        return pd.DataFrame(columns=[*STRATUM, "months", "lower", "upper"])
    return pd.concat(parts, ignore_index=True)


def curve_table(all_curves: dict[tuple, Curve], horizons: Sequence[int], lang: Language | None = None) -> pd.DataFrame:
    """Per stratum: cohort size, share reached after each horizon and the median (in months).

    `share_<h>` is the lower bound, `share_<h>_upper` the upper one, `share_<h>_text` both as the
    reader sees them (`12,3 %`, or `12,3–13,0 %` where suppressed cells leave a range).
    """
    rows = []
    for key, curve in all_curves.items():
        row: dict[str, object] = dict(zip(STRATUM, key, strict=True))
        row["persons"] = curve.persons
        row["persons" + SUPPRESSED_SUFFIX] = curve.persons is None
        for horizon in horizons:
            bounds = curve.at(horizon)
            column = f"share_{horizon}"
            row[column] = None if bounds is None else bounds[0]
            row[column + "_upper"] = None if bounds is None else bounds[1]
            row[column + INCOMPLETE_SUFFIX] = bounds is not None and bounds[1] - bounds[0] > 1e-12
            row[column + "_text"] = share_range_text(bounds, lang)
        median = curve.median_months()
        row["median_months"] = _median_text(median)
        rows.append(row)
    table = pd.DataFrame(rows)
    for horizon in horizons:
        if f"share_{horizon}" in table.columns:
            table[f"share_{horizon}"] = table[f"share_{horizon}"].astype("Float64")
    if "persons" in table.columns:
        table["persons"] = table["persons"].astype("Int64")
    return table


def share_range_text(bounds: tuple[float, float] | None, lang: Language | None = None) -> str:
    """`12,3 %`, or `12,3–13,0 %` when suppressed cells leave a range; `–` when not observed."""
    if bounds is None:
        return NO_VALUE
    lower, upper = bounds
    if round(upper * 1000) == round(lower * 1000):
        return format_percent(lower, lang=lang)
    return f"{format_decimal(lower * 100, 1, lang=lang)}–{format_percent(upper, lang=lang)}"


def _median_text(median: tuple[int, int] | None) -> str | None:
    if median is None:
        return None
    earliest, latest = median
    if latest == -1:
        return f"≥ {earliest}"
    return str(earliest) if earliest == latest else f"{earliest}–{latest}"


# --- journeys between legal circles (Sankey) ---------------------------------------------------------


@dataclass(frozen=True)
class SankeyData:
    """Nodes and links of a journey chart; `omitted` counts suppressed flows left out."""

    node_keys: list[tuple[int, str]]  # (position, station code); position 0 is arrival
    sources: list[int]
    targets: list[int]
    values: list[float]
    omitted: int


def sankey(flows: pd.DataFrame, max_step: int = 4) -> SankeyData:
    """Flows summed over the chosen cities, nodes per (step, station) so that the chart has no cycles.

    Summing over cities adds published cells only; a flow with a suppressed city cell is then a
    lower bound, which the page says under the chart (the omitted count).
    """
    hidden = suppressed_mask(flows, "persons")
    omitted = int(hidden.sum())
    shown = flows.loc[~hidden & flows["persons"].notna() & (flows["step"] <= max_step)]
    summed = (
        shown.assign(persons=shown["persons"].astype("Float64"))
        .groupby(["step", "from_circle", "to_circle"], as_index=False)["persons"]
        .sum()
        .sort_values(["step", "persons"], ascending=[True, False])
    )
    nodes: list[tuple[int, str]] = []
    index: dict[tuple[int, str], int] = {}

    def node(key: tuple[int, str]) -> int:
        if key not in index:
            index[key] = len(nodes)
            nodes.append(key)
        return index[key]

    sources, targets, values = [], [], []
    for row in summed.itertuples(index=False):
        sources.append(node((int(row.step) - 1, str(row.from_circle))))
        targets.append(node((int(row.step), str(row.to_circle))))
        values.append(float(row.persons))
    return SankeyData(nodes, sources, targets, values, omitted)


# --- responsibilities (UpSet) --------------------------------------------------------------------------


def agency_sizes(sets: pd.DataFrame) -> pd.DataFrame:
    """Persons known to each agency (alone or with others), per city: the sum of the sets containing it.

    A sum over a suppressed set is a lower bound (`persons_incomplete`); if all are suppressed, the
    size is suppressed too.
    """
    rows = []
    for (city, month), group in sets.groupby(["city", "month"], sort=False):
        agencies = sorted({part for code in group["agency_set"].astype(str) for part in code.split("+")})
        for agency in agencies:
            members = group[group["agency_set"].astype(str).str.split("+").map(lambda parts, a=agency: a in parts)]
            hidden = suppressed_mask(members, "persons")
            published = members.loc[~hidden, "persons"].astype("Float64")
            rows.append(
                {
                    "city": city,
                    "month": month,
                    "agency": agency,
                    "persons": published.sum() if len(published) else None,
                    "persons" + SUPPRESSED_SUFFIX: bool(hidden.all()) and len(members) > 0,
                    "persons" + INCOMPLETE_SUFFIX: bool(hidden.any()) and not bool(hidden.all()),
                }
            )
    out = pd.DataFrame(rows, columns=["city", "month", "agency", "persons", "persons_suppressed", "persons_incomplete"])
    out["persons"] = out["persons"].astype("Float64")
    return out
