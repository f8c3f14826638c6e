"""Zuständigkeiten: for how many people is one agency responsible, and for how many several at once?

Each person is counted once, in the set of agencies with an open case at month end
(`kpi_persons_by_agency`). People in more than one set are where agencies have to coordinate,
which no single agency's software can show.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px

from dashboards import components, filters, labels
from dashboards.formatting import Column, chart_values


def agency_set_order(codes: pd.Series) -> list[str]:
    """Single agencies first, then pairs, then all three: the order in which coordination grows."""
    return sorted(set(codes.astype(str)), key=lambda code: (code.count("+"), labels.agency_set(code)))


selection = filters.current()
components.page_intro(
    "Zuständigkeiten",
    "Für wie viele Menschen ist nur eine Behörde zuständig — und für wie viele mehrere zugleich?",
)

persons = filters.apply(components.read(selection, "kpi_persons_by_agency"), selection)
order = agency_set_order(persons["agency_set"])
persons["agency_set"] = pd.Categorical(persons["agency_set"].astype(str), categories=order, ordered=True)
persons = components.ordered(persons, selection, by=["month", "agency_set"])

chart, omitted = chart_values(persons, ["persons"])
chart = components.decoded(chart.dropna(subset=["persons"]), {"city": components.city_name})
chart["Zuständige Behörden"] = chart["agency_set"].astype(str).map(labels.agency_set)
figure = px.bar(
    chart,
    x="month",
    y="persons",
    color="Zuständige Behörden",
    facet_col="city",
    category_orders={
        "Zuständige Behörden": [labels.agency_set(code) for code in order],
        "city": [components.city_name(code) for code in selection.cities],
    },
    labels={"month": "", "persons": "Personen am Monatsende", "city": "Stadt"},
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
