"""Zuständigkeiten: for how many people is one agency responsible, and for how many several at once?

Each person is counted once, in the set of agencies with an open case at month end
(`kpi_persons_by_agency`). The sets are disjoint, which is what an UpSet chart shows: one bar per
combination of agencies, with dots below saying which agencies the combination joins. People in
combinations of several agencies are where responsibilities meet and agencies have to coordinate,
which no single agency's software can show.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboards import components, figures, filters, labels
from dashboards.formatting import Column, chart_values, format_month, format_month_long
from dashboards.i18n import t


def agency_set_order(codes: pd.Series) -> list[str]:
    """Single agencies first, then pairs, then all three: the order in which coordination grows."""
    return sorted(set(codes.astype(str)), key=lambda code: (code.count("+"), labels.agency_set(code)))


def upset_figure(month_rows: pd.DataFrame, order: list[str], selection: filters.Selection) -> go.Figure:
    """Bars per combination of agencies (one per city), and the dot matrix naming the agencies."""
    agencies = labels.known_first({a for code in order for a in code.split("+")}, labels.AGENCIES)
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.03)
    x_labels = [str(index + 1) for index in range(len(order))]
    for city in selection.cities:
        rows = month_rows[month_rows["city"] == city].set_index("agency_set")
        figure.add_trace(
            go.Bar(
                x=x_labels,
                y=[rows["persons"].get(code) if code in rows.index else None for code in order],
                name=components.city_name(city),
                marker_color=components.CITY_COLORS.get(city),
                hovertext=[labels.agency_set(code) for code in order],
                hovertemplate="%{hovertext}: %{y}<extra>" + components.city_name(city) + "</extra>",
            ),
            row=1,
            col=1,
        )
    for position, code in enumerate(order):
        members = code.split("+")
        ys = [labels.agency(a) for a in agencies]
        figure.add_trace(
            go.Scatter(
                x=[x_labels[position]] * len(agencies),
                y=ys,
                mode="markers",
                marker={"size": 13, "color": ["#222" if a in members else "#ddd" for a in agencies]},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=2,
            col=1,
        )
        if len(members) > 1:
            figure.add_trace(
                go.Scatter(
                    x=[x_labels[position]] * len(members),
                    y=[labels.agency(a) for a in agencies if a in members],
                    mode="lines",
                    line={"color": "#222", "width": 3},
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=2,
                col=1,
            )
    figure.update_layout(barmode="group", height=520, legend={"orientation": "h", "y": 1.08})
    figure.update_yaxes(title_text=t("Personen am Monatsende", "Persons at month end"), row=1, col=1)
    figure.update_yaxes(
        categoryorder="array", categoryarray=[labels.agency(a) for a in reversed(agencies)], row=2, col=1
    )
    figure.update_xaxes(showticklabels=False, row=2, col=1)
    return figure


selection = filters.current()
components.page_intro(
    t("Zuständigkeiten", "Responsibilities"),
    t(
        "Wer ist welcher Behörde bekannt — und für wie viele Menschen sind mehrere Behörden zugleich "
        "zuständig? Dort treffen sich die Zuständigkeiten.",
        "Who is known to which agency — and for how many people are several agencies responsible at "
        "once? That is where responsibilities meet.",
    ),
)
components.groups_not_applied(selection)

persons = filters.apply(components.read(selection, "kpi_persons_by_agency"), selection)
order = agency_set_order(persons["agency_set"])
persons["agency_set"] = pd.Categorical(persons["agency_set"].astype(str), categories=order, ordered=True)
persons = components.ordered(persons, selection, by=["month", "agency_set"])
month = selection.reference_month

st.subheader(t("Überschneidungen im ", "Overlaps in ") + (format_month_long(month) if month else ""))
month_rows = filters.at_month(persons, month)
chart, omitted = chart_values(month_rows, ["persons"])
components.show_chart(
    upset_figure(chart.assign(agency_set=chart["agency_set"].astype(str)), order, selection),
    omitted=omitted,
    selection=selection,
    key="chart-upset",
)
st.caption(
    t(
        "Jeder Balken ist eine Kombination von Behörden (Punkte darunter); jede Person zählt genau einmal, "
        "in der Kombination der Behörden, bei denen sie am Monatsende einen laufenden Fall hat.",
        "Each bar is one combination of agencies (dots below); each person counts exactly once, in the "
        "combination of agencies with an open case at month end.",
    )
)
sizes = figures.agency_sizes(month_rows.assign(agency_set=month_rows["agency_set"].astype(str)))
components.show_table(
    components.ordered(sizes, selection),
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("agency", labels.column("agency"), decode=labels.agency),
        Column("persons", t("Personen (allein oder mit anderen)", "Persons (alone or with others)"), "count"),
    ],
    key="tabelle-behoerden",
    selection=selection,
    file_stem="bekannt_je_behoerde",
)

st.subheader(t("Entwicklung der Kombinationen", "Combinations over time"))
chart, omitted = chart_values(persons, ["persons"])
chart = components.decoded(chart.dropna(subset=["persons"]), {"city": components.city_name})
chart["Behörden"] = chart["agency_set"].astype(str).map(labels.agency_set)
figure = px.bar(
    chart,
    x="month",
    y="persons",
    color="Behörden",
    facet_col="city",
    category_orders={
        "Behörden": [labels.agency_set(code) for code in order],
        "city": components.city_order(selection),
    },
    labels={"month": "", "persons": t("Personen am Monatsende", "Persons at month end"), "city": ""},
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-zustaendigkeiten")

components.show_table(
    persons,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", labels.column("month"), "month"),
        Column("agency_set", labels.column("agency_set"), decode=labels.agency_set),
        Column("persons", labels.column("persons"), "count"),
    ],
    key="tabelle-zustaendigkeiten",
    selection=selection,
    file_stem="zustaendigkeiten",
)
st.caption(
    t("Stand jeweils am Monatsende; Zeitraum ", "At each month end; period ")
    + (f"{format_month(selection.period[0])} – {format_month(selection.period[1])}" if selection.period else "–")
)
