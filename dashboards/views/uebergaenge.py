"""Übergänge: the change of legal circle from asylum-seeker benefits (AsylbLG) to SGB II.

The cities say this is where people fall through the gap: benefits under the AsylbLG end, the
jobcenter's begin later, and rent is suddenly the person's own business. `kpi_sgb2_transitions`
measures entries into SGB II and the days between the two benefits; `kpi_legal_circle_stock`
shows how the stock in each legal circle moves as people pass through.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels
from dashboards.formatting import Column, chart_values

selection = filters.current()
components.page_intro(
    "Übergänge",
    "Wie viele Menschen wechseln jeden Monat vom Asylbewerberleistungsgesetz ins SGB II — "
    "und wie lange sind sie dazwischen ohne Leistung?",
)
city_order = {"city": [components.city_name(code) for code in selection.cities]}

# --- entries into SGB II and the gap between the benefits ---------------------------------------
st.subheader("Wechsel ins SGB II")
transitions = components.ordered(
    filters.apply(components.read(selection, "kpi_sgb2_transitions"), selection), selection, by=["month"]
)

chart, omitted = chart_values(transitions, ["entries"])
chart = components.decoded(chart.dropna(subset=["entries"]), {"city": components.city_name})
figure = px.bar(
    chart,
    x="month",
    y="entries",
    color="city",
    barmode="group",
    color_discrete_map=components.CITY_COLORS,
    category_orders=city_order,
    labels={"month": "", "entries": "Zugänge ins SGB II", "city": "Stadt"},
    title="Zugänge ins SGB II je Monat",
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-zugaenge")

gap_measures = ["gap_days_median", "gap_days_p90"]
chart, omitted = chart_values(transitions, gap_measures)
gaps = components.decoded(chart, {"city": components.city_name}).melt(
    id_vars=["city", "month"], value_vars=gap_measures, var_name="measure", value_name="days"
)
gaps["measure"] = gaps["measure"].map(
    {"gap_days_median": "die Hälfte wartet höchstens", "gap_days_p90": "9 von 10 warten höchstens"}
)
figure = px.line(
    gaps,
    x="month",
    y="days",
    color="city",
    line_dash="measure",
    markers=True,
    color_discrete_map=components.CITY_COLORS,
    category_orders=city_order,
    labels={"month": "", "days": "Tage zwischen AsylbLG-Ende und SGB-II-Beginn", "city": "Stadt", "measure": ""},
    title="Lücke zwischen den Leistungen (Tage)",
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-luecke")
st.caption(
    "Die Lücke zählt nur für Zugänge, bei denen das Ende der AsylbLG-Leistung bekannt ist. "
    "Median: die Hälfte der Menschen wartet höchstens so lange; 90 %-Wert: neun von zehn."
)

components.show_table(
    transitions,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", labels.column("month"), "month"),
        Column("entries", labels.column("entries"), "count"),
        Column("entries_with_asylblg_end", labels.column("entries_with_asylblg_end"), "count"),
        Column("gap_days_median", labels.column("gap_days_median"), "days"),
        Column("gap_days_p90", labels.column("gap_days_p90"), "days"),
        Column("gap_over_30_days", labels.column("gap_over_30_days"), "count"),
    ],
    key="tabelle-uebergaenge",
    selection=selection,
    file_stem="wechsel_sgb2",
)

# --- stock per legal circle ----------------------------------------------------------------------
st.subheader("Bestand je Rechtskreis")
stock = filters.apply(components.read(selection, "kpi_legal_circle_stock"), selection)
circles = labels.known_first(stock["legal_circle"], labels.LEGAL_CIRCLES)
stock["legal_circle"] = pd.Categorical(stock["legal_circle"].astype(str), categories=circles, ordered=True)
stock = components.ordered(stock, selection, by=["month", "legal_circle"])

chart, omitted = chart_values(stock, ["persons"])
chart = components.decoded(chart, {"city": components.city_name})
chart["Rechtskreis"] = chart["legal_circle"].astype(str).map(labels.legal_circle)
figure = px.line(
    chart,
    x="month",
    y="persons",
    color="Rechtskreis",
    facet_col="city",
    markers=True,
    category_orders={**city_order, "Rechtskreis": [labels.legal_circle(c) for c in circles]},
    labels={"month": "", "persons": "Personen am Monatsende", "city": "Stadt"},
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-bestand")

components.show_table(
    stock,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", labels.column("month"), "month"),
        Column("legal_circle", labels.column("legal_circle"), decode=labels.legal_circle),
        Column("persons", labels.column("persons"), "count"),
    ],
    key="tabelle-bestand",
    selection=selection,
    file_stem="bestand_rechtskreise",
)
