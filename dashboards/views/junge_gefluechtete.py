"""Junge Geflüchtete: minors in the youth office's care, and what follows when that help ends.

`kpi_youth_care` counts minors in care at month end, the unaccompanied among them and those
turning 18 (when youth welfare may end and another legal circle takes over).
`kpi_youth_follow_up` says where young people went after the help ended, by year of the end;
it is a yearly table, so the sidebar's period does not narrow it.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels
from dashboards.formatting import Column, chart_values

CARE_MEASURES = ("in_care", "unaccompanied_in_care", "turning_18")

selection = filters.current()
components.page_intro(
    "Junge Geflüchtete",
    "Wie viele Minderjährige betreut das Jugendamt, wie viele davon kamen ohne Eltern — "
    "und wie geht es weiter, wenn die Jugendhilfe endet?",
)
city_order = {"city": [components.city_name(code) for code in selection.cities]}

# --- in care ----------------------------------------------------------------------------------
st.subheader("Betreut vom Jugendamt")
care = components.ordered(
    filters.apply(components.read(selection, "kpi_youth_care"), selection), selection, by=["month"]
)
chart, omitted = chart_values(care, list(CARE_MEASURES))
lines = components.decoded(chart, {"city": components.city_name}).melt(
    id_vars=["city", "month"], value_vars=list(CARE_MEASURES), var_name="measure", value_name="persons"
)
lines["Kennzahl"] = lines["measure"].map(labels.column)
figure = px.line(
    lines,
    x="month",
    y="persons",
    color="Kennzahl",
    facet_col="city",
    markers=True,
    category_orders={**city_order, "Kennzahl": [labels.column(m) for m in CARE_MEASURES]},
    labels={"month": "", "persons": "Personen am Monatsende", "city": "Stadt"},
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-jugendhilfe")

components.show_table(
    care,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", labels.column("month"), "month"),
        *(Column(measure, labels.column(measure), "count") for measure in CARE_MEASURES),
    ],
    key="tabelle-jugendhilfe",
    selection=selection,
    file_stem="jugendhilfe",
)

# --- after youth welfare ----------------------------------------------------------------------
st.subheader("Anschluss nach der Jugendhilfe")
st.caption("Nach Jahr des Hilfeendes; der Zeitraum in der Seitenleiste gilt hier nicht.")
follow_up = filters.apply(components.read(selection, "kpi_youth_follow_up"), selection)
codes = labels.known_first(follow_up["follow_up"], labels.FOLLOW_UPS)
follow_up = components.ordered(
    follow_up.assign(follow_up=follow_up["follow_up"].astype(str).astype("category").cat.set_categories(codes)),
    selection,
    by=["year", "follow_up"],
)

chart, omitted = chart_values(follow_up, ["persons"])
chart = components.decoded(chart.dropna(subset=["persons"]), {"city": components.city_name})
chart["Anschluss"] = chart["follow_up"].astype(str).map(labels.follow_up)
chart["Jahr"] = chart["year"].astype(str)
figure = px.bar(
    chart,
    x="Jahr",
    y="persons",
    color="Anschluss",
    facet_col="city",
    category_orders={
        **city_order,
        "Anschluss": [labels.follow_up(code) for code in codes],
        "Jahr": sorted(chart["Jahr"].unique()),
    },
    labels={"persons": "Personen", "city": "Stadt"},
)
components.show_chart(figure, omitted=omitted, selection=selection, key="chart-anschluss")

components.show_table(
    follow_up,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("year", labels.column("year"), "year"),
        Column("follow_up", labels.column("follow_up"), decode=labels.follow_up),
        Column("persons", labels.column("persons"), "count"),
    ],
    key="tabelle-anschluss",
    selection=selection,
    file_stem="anschluss_jugendhilfe",
)
