"""Überblick: the headline figures per city for one month, against the month before and the year before.

The month is the end of the period chosen in the sidebar. Stock figures come from
`kpi_stock_by_group`, which publishes one row per group of people (nationality, age band, sex or
all) and "in any circle" as its own row (`legal_circle = alle`), so the headline "persons known to
any agency" is a published count, not a sum of cells. Entries into SGB II exist for all persons
only; with a group filter they are left out and the page says so. An optional second release
(sidebar) shows the same month as published there, e.g. before late deliveries arrived.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, figures, filters, labels
from dashboards.filters import Selection
from dashboards.formatting import (
    Column,
    cell_text,
    chart_values,
    format_month,
    format_month_long,
    format_signed_count,
    suppression_legend,
)
from dashboards.i18n import t

KNOWN = "stock:" + figures.STOCK_ANY
ENTRIES = figures.ENTRIES
STOCK_PREFIX = "stock:"


figure_label = figures.figure_label


def figure_help(code: str) -> str | None:
    if code.startswith(STOCK_PREFIX) and code != KNOWN:
        return figure_label(code) + t(
            ": Personen mit offenem Fall am Monatsende.", ": persons with an open case at month end."
        )
    if code == KNOWN:
        return t(
            "Personen mit laufendem Fall bei Ausländerbehörde, Jobcenter oder Jugendamt am Monatsende; "
            "wer bei mehreren Behörden bekannt ist, zählt einmal.",
            "Persons with an open case at the immigration office, jobcenter or youth office at month end; "
            "a person known to several agencies counts once.",
        )
    if code == ENTRIES:
        return t(
            "Personen, die in diesem Monat ins SGB II (Jobcenter) gewechselt sind.",
            "Persons who moved into SGB II (jobcenter) in this month.",
        )
    return None


def headline_figures(selection: Selection, chosen_release=None) -> pd.DataFrame:
    """All headline figures per city and month: `city, month, figure, value, value_suppressed`."""
    chosen = selection if chosen_release is None else _with_release(selection, chosen_release)
    stock = filters.apply(components.read(chosen, "kpi_stock_by_group"), chosen, period=False)
    parts = [figures.stock_figures(stock)]
    if not selection.group_filtered:
        entries = filters.apply(components.read(chosen, "kpi_sgb2_transitions"), chosen, period=False)
        parts.append(figures.measure_figures(entries, "entries", ENTRIES))
    return pd.concat(parts, ignore_index=True)


def _with_release(selection: Selection, other) -> Selection:
    from dataclasses import replace

    return replace(selection, release=other)


def figure_order(codes: pd.Series) -> list[str]:
    """Total first, then the legal circles along the journey, then SGB II entries."""
    stock = [str(c).removeprefix(STOCK_PREFIX) for c in codes if str(c).startswith(STOCK_PREFIX) and str(c) != KNOWN]
    circles = [STOCK_PREFIX + circle for circle in labels.known_first(stock, labels.LEGAL_CIRCLES)]
    return [KNOWN, *circles, ENTRIES]


def show_city(city: str, rows: pd.DataFrame, order: list[str], previous: date | None) -> None:
    """The headline metrics of one city, in a keyed container (the tests find a city by its key)."""
    with st.container(key=f"kennzahlen-{city}", border=True):
        st.subheader(components.city_name(city))
        by_figure = rows.set_index("figure")
        for line in ([KNOWN, ENTRIES], [f for f in order if f not in (KNOWN, ENTRIES)]):
            present = [f for f in line if f in by_figure.index]
            if not present:
                continue
            for column, figure in zip(st.columns(len(present)), present, strict=True):
                row = by_figure.loc[figure]
                change = row["change_previous"]
                column.metric(
                    figure_label(figure, short=True),
                    cell_text(row["value"], suppressed=bool(row["value_suppressed"])),
                    delta=None if pd.isna(change) else format_signed_count(change),
                    delta_color="off",
                    delta_description=t("zu ", "vs ") + format_month(previous)
                    if previous and not pd.isna(change)
                    else None,
                    help=figure_help(figure),
                )


selection = filters.current()
components.page_intro(
    t("Überblick", "Overview"),
    t(
        "Wie viele Menschen betreuen die Behörden in jeder Stadt, in welchem Rechtskreis — "
        "und was hat sich seit dem Vormonat und dem Vorjahr verändert?",
        "How many people do the agencies serve in each city, in which legal circle — "
        "and what changed since the month and the year before?",
    ),
)
month = selection.reference_month
if month is None:
    st.info(components.no_rows_message())
    st.stop()
previous, previous_year = selection.previous_month, selection.previous_year_month
st.caption(
    t("Stichmonat ", "Month ")
    + format_month_long(month)
    + t(" (Ende des gewählten Zeitraums)", " (end of the chosen period)")
    + (t(", verglichen mit ", ", compared with ") + format_month_long(previous) if previous else "")
    + (t(" und ", " and ") + format_month_long(previous_year) if previous_year else "")
    + ". "
    + t("Personengruppe: ", "Group of people: ")
    + selection.describe_groups()
    + "."
)
if selection.group_filtered:
    st.caption(
        t(
            "Zugänge ins SGB II gibt es nur für alle Personen; bei gewählter Personengruppe fehlen sie hier.",
            "Entries into SGB II exist for all persons only; with a group chosen they are left out here.",
        )
    )

if components.combination_not_published(
    selection, filters.apply(components.read(selection, "kpi_stock_by_group"), selection, period=False)
):
    st.stop()
all_figures = headline_figures(selection)
compared = figures.compare_months(all_figures, month, previous, previous_year)
order = figure_order(compared["figure"])
compared["figure"] = pd.Categorical(compared["figure"], categories=order, ordered=True)
compared = components.ordered(compared, selection, by=["figure"])
if selection.compare is not None:
    other = figures.compare_months(headline_figures(selection, selection.compare), month, None, None)
    other = other.rename(columns={"value": "value_other", "value_suppressed": "value_other_suppressed"})
    compared = compared.merge(
        other[["city", "figure", "value_other", "value_other_suppressed"]].assign(
            figure=lambda f: pd.Categorical(f["figure"], categories=order, ordered=True)
        ),
        on=["city", "figure"],
        how="left",
    )
    compared["value_other_suppressed"] = compared["value_other_suppressed"].astype("boolean").fillna(False)

for city in selection.cities:
    show_city(city, compared[compared["city"] == city], order, previous)
if compared["value_suppressed"].any():
    components.legend_caption(suppression_legend(selection.threshold))

st.subheader(t("Bestand je Rechtskreis im Vergleich", "Stock per legal circle, compared"))
stock_rows = compared[compared["figure"].astype(str).str.startswith(STOCK_PREFIX)]
chart, omitted = chart_values(stock_rows, ["value"])
chart = chart.dropna(subset=["value"]).assign(
    Stadt=lambda f: f["city"].map(components.city_name),
    Rechtskreis=lambda f: (
        f["figure"]
        .map(lambda code: t("insgesamt", "in total") if code == KNOWN else figure_label(code, short=True))
        .astype(str)
    ),
)
figure = px.bar(
    chart,
    x="Rechtskreis",
    y="value",
    color="Stadt",
    barmode="group",
    color_discrete_map=components.city_colors(),
    category_orders={"Stadt": components.city_order(selection)},
    labels={
        "value": t("Personen am Ende ", "Persons at the end of ") + format_month(month),
        "Rechtskreis": "",
        "Stadt": t("Stadt", "City"),
    },
)
components.show_chart(figure, omitted=omitted, selection=selection, key="chart-ueberblick")

st.subheader(t("Entwicklung im gewählten Zeitraum", "Development over the chosen period"))
trend = all_figures[all_figures["figure"] == KNOWN]
if selection.period is not None:
    start, end = (pd.Timestamp(m) for m in selection.period)
    trend = trend[trend["month"].between(start, end)]
trend_chart, trend_omitted = chart_values(trend, ["value"])
trend_chart = components.decoded(trend_chart, {"city": components.city_name})
figure = px.line(
    trend_chart,
    x="month",
    y="value",
    color="city",
    markers=True,
    color_discrete_map=components.city_colors(),
    category_orders={"city": components.city_order(selection)},
    labels={"month": "", "value": figure_label(KNOWN), "city": t("Stadt", "City")},
)
components.show_chart(
    components.month_axis(figure), omitted=trend_omitted, selection=selection, key="chart-ueberblick-verlauf"
)

table = compared.assign(figure=compared["figure"].astype(str))
columns = [
    Column("city", labels.column("city"), decode=components.city_name),
    Column("figure", t("Kennzahl", "Figure"), decode=figure_label),
    Column("value", format_month(month), "count"),
    Column(
        "value_previous", t("Vormonat", "Previous month") + (f" {format_month(previous)}" if previous else ""), "count"
    ),
    Column("change_previous", t("Veränderung zum Vormonat", "Change vs previous month"), "change"),
    Column(
        "value_year",
        t("Vorjahresmonat", "Same month last year") + (f" {format_month(previous_year)}" if previous_year else ""),
        "count",
    ),
    Column("change_year", t("Veränderung zum Vorjahr", "Change vs last year"), "change"),
]
if selection.compare is not None:
    from dashboards.filters import release_label

    columns.append(
        Column(
            "value_other",
            t("in Veröffentlichung ", "in release ") + release_label(selection.compare.release_id),
            "count",
        )
    )
components.show_table(table, columns, key="tabelle-ueberblick", selection=selection, file_stem="ueberblick")
