"""Überblick: the headline figures per city for one month, and how they changed since the month before.

The month is the end of the period chosen in the sidebar. "Persons known to any agency" is the
sum over the disjoint agency sets of `kpi_persons_by_agency`; when some of those cells are
suppressed, the sum leaves them out and is shown as a lower bound (`mind.`), because an exact
total next to the published cells would give the suppressed cell away.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels
from dashboards.filters import Selection
from dashboards.formatting import (
    LOWER_BOUND,
    Column,
    cell_text,
    chart_values,
    format_month,
    format_month_long,
    format_signed_count,
    suppressed_mask,
    suppression_legend,
)

KNOWN = "known"
ENTRIES = "entries"
FIGURE_LABELS = {
    KNOWN: "Personen bei mindestens einer Behörde",
    ENTRIES: "Zugänge ins SGB II im Monat",
}
FIGURE_HELP = {
    KNOWN: "Personen mit laufendem Fall bei Ausländerbehörde, Jobcenter oder Jugendamt am Monatsende; "
    "wer bei mehreren Behörden bekannt ist, zählt einmal.",
    ENTRIES: "Personen, die in diesem Monat ins SGB II (Jobcenter) gewechselt sind.",
}
STOCK_PREFIX = "stock:"


def headline_figures(selection: Selection) -> pd.DataFrame:
    """All headline figures per city and month: `city, month, figure, value` plus flags.

    `value_suppressed`: published as suppressed. `value_incomplete`: a sum without suppressed cells.
    """
    agency = filters.apply(components.read(selection, "kpi_persons_by_agency"), selection, period=False)
    hidden = suppressed_mask(agency, "persons")
    known = (
        agency.assign(
            shown=agency["persons"].astype("Float64").where(~hidden),
            published=agency["persons"].notna() & ~hidden,
        )
        .groupby(["city", "month"], as_index=False)
        .agg(value=("shown", "sum"), published=("published", "sum"), cells=("persons", "size"))
    )
    known["figure"] = KNOWN
    known["value_suppressed"] = known["published"] == 0
    known["value_incomplete"] = (known["published"] > 0) & (known["published"] < known["cells"])
    known["value"] = known["value"].where(~known["value_suppressed"])

    stock = filters.apply(components.read(selection, "kpi_legal_circle_stock"), selection, period=False)
    stock = stock.assign(
        figure=STOCK_PREFIX + stock["legal_circle"].astype(str),
        value=stock["persons"].astype("Float64"),
        value_suppressed=suppressed_mask(stock, "persons"),
        value_incomplete=False,
    )

    entries = filters.apply(components.read(selection, "kpi_sgb2_transitions"), selection, period=False)
    entries = entries.assign(
        figure=ENTRIES,
        value=entries["entries"].astype("Float64"),
        value_suppressed=suppressed_mask(entries, "entries"),
        value_incomplete=False,
    )
    columns = ["city", "month", "figure", "value", "value_suppressed", "value_incomplete"]
    return pd.concat([known[columns], stock[columns], entries[columns]], ignore_index=True)


def compare_months(figures: pd.DataFrame, month: date, previous: date | None) -> pd.DataFrame:
    """One row per city and figure: value in `month`, in `previous`, and the change.

    A change that involves a suppressed value is itself suppressed (it would reveal that value);
    a change between lower bounds means nothing and is left empty.
    """
    now = filters.at_month(figures, month).drop(columns="month")
    before = filters.at_month(figures, previous).drop(columns="month")
    table = now.merge(before, on=["city", "figure"], how="left", suffixes=("", "_previous"))
    table["previous_suppressed"] = table["value_suppressed_previous"].astype("boolean").fillna(False)
    table["previous_incomplete"] = table["value_incomplete_previous"].astype("boolean").fillna(False)
    table["change_suppressed"] = table["value_suppressed"] | table["previous_suppressed"]
    exact = ~(table["change_suppressed"] | table["value_incomplete"] | table["previous_incomplete"])
    table["change"] = (table["value"] - table["value_previous"]).where(exact)
    return table.rename(columns={"value_previous": "previous"})[
        [
            "city",
            "figure",
            "value",
            "value_suppressed",
            "value_incomplete",
            "previous",
            "previous_suppressed",
            "previous_incomplete",
            "change",
            "change_suppressed",
        ]
    ]


def figure_order(codes: pd.Series) -> list[str]:
    """Total first, then the legal circles along the journey, then SGB II entries."""
    stock = [str(code).removeprefix(STOCK_PREFIX) for code in codes if str(code).startswith(STOCK_PREFIX)]
    circles = [STOCK_PREFIX + circle for circle in labels.known_first(stock, labels.LEGAL_CIRCLES)]
    return [KNOWN, *circles, ENTRIES]


def figure_label(code: object) -> str:
    text = str(code)
    if text.startswith(STOCK_PREFIX):
        return "Bestand " + labels.label(labels.LEGAL_CIRCLES, text.removeprefix(STOCK_PREFIX))
    return FIGURE_LABELS.get(text, text)


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
                change = row["change"]
                column.metric(
                    figure_label(figure),
                    cell_text(row["value"], suppressed=row["value_suppressed"], incomplete=row["value_incomplete"]),
                    delta=None if pd.isna(change) else format_signed_count(change),
                    delta_color="off",
                    delta_description=f"zu {format_month(previous)}" if previous and not pd.isna(change) else None,
                    help=FIGURE_HELP.get(figure),
                )


selection = filters.current()
components.page_intro(
    "Überblick",
    "Wie viele Menschen betreuen die Behörden in jeder Stadt, in welchem Rechtskreis — "
    "und was hat sich seit dem Vormonat verändert?",
)
month = selection.reference_month
if month is None:
    st.info(components.NO_ROWS_MESSAGE)
    st.stop()
previous = selection.previous_month
st.caption(
    f"Stichmonat {format_month_long(month)} (Ende des gewählten Zeitraums)"
    + (f", verglichen mit {format_month_long(previous)}." if previous else "; kein Vormonat in den Daten.")
)

compared = compare_months(headline_figures(selection), month, previous)
order = figure_order(compared["figure"])
compared["figure"] = pd.Categorical(compared["figure"], categories=order, ordered=True)
compared = components.ordered(compared, selection, by=["figure"])

for city in selection.cities:
    show_city(city, compared[compared["city"] == city], order, previous)
if compared["value_suppressed"].any() or compared["value_incomplete"].any():
    st.caption(
        suppression_legend(selection.threshold)
        + f". {LOWER_BOUND} = Summe ohne gesperrte Felder, die wahre Zahl ist höher."
    )

st.subheader("Bestand je Rechtskreis im Vergleich")
stock_rows = compared[compared["figure"].astype(str).str.startswith(STOCK_PREFIX)]
chart, omitted = chart_values(stock_rows, ["value"])
chart = chart.dropna(subset=["value"]).assign(
    Stadt=lambda f: f["city"].map(components.city_name),
    Rechtskreis=lambda f: f["figure"].map(figure_label).astype(str),
)
figure = px.bar(
    chart,
    x="Rechtskreis",
    y="value",
    color="Stadt",
    barmode="group",
    color_discrete_map=components.CITY_COLORS,
    labels={"value": f"Personen am Ende {format_month(month)}", "Rechtskreis": ""},
)
components.show_chart(figure, omitted=omitted, selection=selection, key="chart-ueberblick")

table = compared.assign(figure=compared["figure"].astype(str))
components.show_table(
    table,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("figure", "Kennzahl", decode=figure_label),
        Column("value", format_month(month), "count"),
        Column("previous", f"Vormonat {format_month(previous)}" if previous else "Vormonat", "count"),
        Column("change", "Veränderung", "change"),
    ],
    key="tabelle-ueberblick",
    selection=selection,
    file_stem="ueberblick",
)
