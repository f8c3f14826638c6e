"""Junge Geflüchtete: minors in the youth office's care, unaccompanied minors, and what follows at 18.

`kpi_youth_care` counts minors in care at month end, the unaccompanied among them and those turning
18 in that year (when youth welfare may end and another legal circle takes over).
`kpi_youth_follow_up` says where young people went after the help ended, by year of the end;
it is a yearly table, so the sidebar's period does not narrow it.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels
from dashboards.formatting import Column, cell_text, chart_values, format_month_long
from dashboards.i18n import t

CARE_MEASURES = ("in_care", "unaccompanied_in_care", "turning_18")

selection = filters.current()
components.page_intro(
    t("Junge Geflüchtete", "Young refugees"),
    t(
        "Wie viele Minderjährige betreut das Jugendamt, wie viele davon kamen ohne Eltern — "
        "und wie geht es weiter, wenn sie 18 werden und die Jugendhilfe endet?",
        "How many minors does the youth office care for, how many of them came without parents — "
        "and what follows when they turn 18 and youth welfare ends?",
    ),
)
components.groups_not_applied(selection)
city_order = {"city": components.city_order(selection)}

# --- in care ----------------------------------------------------------------------------------
st.subheader(t("Betreut vom Jugendamt", "In youth-office care"))
care = components.ordered(
    filters.apply(components.read(selection, "kpi_youth_care"), selection), selection, by=["month"]
)
month = selection.reference_month
latest = filters.at_month(care, month)
if not latest.empty:
    st.caption(t("Stand Ende ", "At the end of ") + format_month_long(month))
    for column, row in zip(st.columns(len(latest)), latest.itertuples(index=False), strict=False):
        column.metric(
            components.city_name(row.city),
            cell_text(row.unaccompanied_in_care, suppressed=bool(row.unaccompanied_in_care_suppressed)),
            help=t("unbegleitete Minderjährige in Obhut des Jugendamts", "unaccompanied minors in care"),
        )
        column.caption(
            t("unbegleitet, von ", "unaccompanied, of ")
            + cell_text(row.in_care, suppressed=bool(row.in_care_suppressed))
            + t(" betreut", " in care")
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
    labels={"month": "", "persons": t("Personen am Monatsende", "Persons at month end"), "city": ""},
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
st.subheader(t("Was folgt nach der Jugendhilfe", "What follows youth welfare"))
st.caption(
    t(
        "Nach Jahr des Hilfeendes; der Zeitraum in der Seitenleiste gilt hier nicht.",
        "By year the help ended; the sidebar's period does not apply here.",
    )
)
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
    labels={"persons": labels.column("persons"), "city": "", "Jahr": labels.column("year")},
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
