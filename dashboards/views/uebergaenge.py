"""Übergänge: the ways between legal circles, and the gap at the change from AsylbLG to SGB II.

`kpi_legal_circle_flows` gives, per city and group of people, how many went from arrival into their
first legal circle and from each circle into the next (asylum procedure with AsylbLG benefits,
SGB II, SGB VIII, work or training): a Sankey chart. The cities say the change from AsylbLG to SGB II
is where people fall through the gap: benefits under the AsylbLG end, the jobcenter's begin later,
and rent is suddenly the person's own business. `kpi_sgb2_transitions` measures those entries and
the days between the two benefits (for all persons only).
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import components, figures, filters, labels
from dashboards.formatting import Column, chart_note, chart_values, format_month_long
from dashboards.i18n import t

STATION_COLORS = {
    "start": "#888888",
    "AsylbLG": "#8c6bb1",
    "SGB II": "#1f5fa8",
    "SGB VIII": "#e6a117",
    "Arbeit": "#2f9a5a",
}


def sankey_figure(data: figures.SankeyData) -> go.Figure:
    """Nodes left to right by step of the journey; a node's colour is its legal circle."""
    last = max((step for step, _ in data.node_keys), default=1) or 1
    nodes = go.sankey.Node(
        label=[labels.station(code) for _, code in data.node_keys],
        color=[STATION_COLORS.get(code, "#999999") for _, code in data.node_keys],
        x=[0.01 + 0.98 * step / last for step, _ in data.node_keys],
        pad=18,
        thickness=16,
    )
    links = go.sankey.Link(
        source=data.sources,
        target=data.targets,
        value=data.values,
        color=[_fade(STATION_COLORS.get(data.node_keys[target][1], "#999999")) for target in data.targets],
    )
    figure = go.Figure(go.Sankey(node=nodes, link=links, arrangement="snap", valueformat=",d"))
    figure.update_layout(height=460)
    return figure


def _fade(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},0.35)"


selection = filters.current()
components.page_intro(
    t("Übergänge", "Transitions"),
    t(
        "Welche Wege nehmen die Menschen zwischen den Rechtskreisen — und wie lange sind sie beim "
        "Wechsel vom Asylbewerberleistungsgesetz ins SGB II ohne Leistung?",
        "Which ways do people take between legal circles — and how long are they without benefits "
        "when they move from asylum-seeker benefits (AsylbLG) to SGB II?",
    ),
)

# --- journeys between legal circles (Sankey) ---------------------------------------------------------
st.subheader(t("Wege zwischen den Rechtskreisen", "Ways between the legal circles"))
flows_all = components.read(selection, "kpi_legal_circle_flows")
flows = filters.apply(flows_all, selection)
if not components.combination_not_published(selection, flows):
    data = figures.sankey(flows)
    st.plotly_chart(sankey_figure(data), key="chart-sankey", config=components.PLOTLY_CONFIG)
    st.caption(
        t(
            "Jede Person zählt je Rechtskreis beim ersten Eintritt; die Stufen von links nach rechts folgen "
            f"der Reihenfolge. Personengruppe: {selection.describe_groups()}. Alle Daten bis "
            f"{format_month_long(selection.release.data_until) if selection.release.data_until else '–'}; "
            "der Zeitraum der Seitenleiste gilt hier nicht.",
            "Each person counts at the first entry into each legal circle; the stages from left to right follow "
            f"that order. Group of people: {selection.describe_groups()}. All data up to "
            f"{format_month_long(selection.release.data_until) if selection.release.data_until else '–'}; "
            "the sidebar's period does not apply here.",
        )
    )
    note = chart_note(data.omitted, selection.threshold)
    if note:
        st.caption(note)
    flow_rows = components.ordered(flows, selection, by=["step", "from_circle", "to_circle"])
    components.show_table(
        flow_rows,
        [
            Column("city", labels.column("city"), decode=components.city_name),
            Column("step", labels.column("step"), "year"),
            Column("from_circle", labels.column("from_circle"), decode=labels.station),
            Column("to_circle", labels.column("to_circle"), decode=labels.station),
            Column("persons", labels.column("persons"), "count"),
        ],
        key="tabelle-wege-rechtskreise",
        selection=selection,
        file_stem="wege_rechtskreise",
    )

# --- entries into SGB II and the gap between the benefits ---------------------------------------
st.subheader(t("Wechsel vom AsylbLG ins SGB II", "Change from AsylbLG to SGB II"))
components.groups_not_applied(selection)
transitions = components.ordered(
    filters.apply(components.read(selection, "kpi_sgb2_transitions"), selection), selection, by=["month"]
)
city_order = {"city": components.city_order(selection)}

chart, omitted = chart_values(transitions, ["entries"])
chart = components.decoded(chart.dropna(subset=["entries"]), {"city": components.city_name})
figure = px.bar(
    chart,
    x="month",
    y="entries",
    color="city",
    barmode="group",
    color_discrete_map=components.city_colors(),
    category_orders=city_order,
    labels={"month": "", "entries": labels.column("entries"), "city": labels.column("city")},
    title=t("Zugänge ins SGB II je Monat", "Entries into SGB II per month"),
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-zugaenge")

gap_measures = ["gap_days_median", "gap_days_p90"]
chart, omitted = chart_values(transitions, gap_measures)
gaps = components.decoded(chart, {"city": components.city_name}).melt(
    id_vars=["city", "month"], value_vars=gap_measures, var_name="measure", value_name="days"
)
gaps["measure"] = gaps["measure"].map(
    {
        "gap_days_median": t("die Hälfte wartet höchstens", "half wait at most"),
        "gap_days_p90": t("9 von 10 warten höchstens", "9 in 10 wait at most"),
    }
)
figure = px.line(
    gaps,
    x="month",
    y="days",
    color="city",
    line_dash="measure",
    markers=True,
    color_discrete_map=components.city_colors(),
    category_orders=city_order,
    labels={
        "month": "",
        "days": t("Tage zwischen AsylbLG-Ende und SGB-II-Beginn", "Days between end of AsylbLG and start of SGB II"),
        "city": labels.column("city"),
        "measure": "",
    },
    title=t("Lücke zwischen den Leistungen (Tage)", "Gap between the benefits (days)"),
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-luecke")
st.caption(
    t(
        "Die Lücke zählt nur für Zugänge, bei denen das Ende der AsylbLG-Leistung bekannt ist. "
        "Median: die Hälfte der Menschen wartet höchstens so lange; 90-%-Wert: neun von zehn.",
        "The gap counts only for entries with a known end of AsylbLG benefits. "
        "Median: half of the people wait at most this long; 90th percentile: nine in ten.",
    )
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
st.subheader(t("Bestand je Rechtskreis", "Stock per legal circle"))
stock = filters.apply(components.read(selection, "kpi_stock_by_group"), selection)
stock = stock[stock["legal_circle"] != figures.STOCK_ANY]
circles = labels.known_first(stock["legal_circle"], labels.LEGAL_CIRCLES)
stock = stock.assign(legal_circle=pd.Categorical(stock["legal_circle"].astype(str), categories=circles, ordered=True))
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
    labels={"month": "", "persons": t("Personen am Monatsende", "Persons at month end"), "city": ""},
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
