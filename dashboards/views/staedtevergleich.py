"""Städtevergleich: the cities side by side, in persons and per 1,000 inhabitants.

A big city has more of everything; per 1,000 inhabitants (population from the release's
`kpi_city_population`) the cities become comparable. Stock figures follow the group filter
(`kpi_stock_by_group`); SGB II entries and youth care exist for all persons only and are left out
when a group is chosen. A suppressed count has no rate either.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, figures, filters, labels
from dashboards.formatting import Column, cell_text, chart_values, format_month_long
from dashboards.i18n import t

figure_label = figures.figure_label


def short_label(code: str) -> str:
    """Chart axis labels: the total as `insgesamt`, legal circles by their law."""
    return t("insgesamt", "in total") if code == figures.KNOWN else figure_label(code, short=True)


selection = filters.current()
components.page_intro(
    t("Städtevergleich", "City comparison"),
    t(
        "Wie stehen die Städte nebeneinander da — in Personen und je 1.000 Einwohner?",
        "How do the cities compare — in persons and per 1,000 inhabitants?",
    ),
)
month = selection.reference_month
if month is None:
    st.info(components.no_rows_message())
    st.stop()
st.caption(
    t("Stand Ende ", "At the end of ")
    + format_month_long(month)
    + t(" (Ende des gewählten Zeitraums). Personengruppe: ", " (end of the chosen period). Group of people: ")
    + selection.describe_groups()
    + "."
)

population = components.read(selection, "kpi_city_population")
stock = filters.apply(components.read(selection, "kpi_stock_by_group"), selection, period=False)
if components.combination_not_published(selection, stock):
    st.stop()
parts = [figures.stock_figures(stock)]
if selection.group_filtered:
    st.caption(
        t(
            "Zugänge ins SGB II und Jugendhilfe gibt es nur für alle Personen; "
            "bei gewählter Personengruppe fehlen sie.",
            "Entries into SGB II and youth care exist for all persons only; with a group chosen they are left out.",
        )
    )
else:
    entries = filters.apply(components.read(selection, "kpi_sgb2_transitions"), selection, period=False)
    youth = filters.apply(components.read(selection, "kpi_youth_care"), selection, period=False)
    parts += [
        figures.measure_figures(entries, "entries", figures.ENTRIES),
        figures.measure_figures(youth, "in_care", figures.IN_CARE),
        figures.measure_figures(youth, "unaccompanied_in_care", figures.UNACCOMPANIED),
    ]
compared = filters.at_month(pd.concat(parts, ignore_index=True), month)
compared["per_1000"] = figures.per_thousand(compared, population)
compared["per_1000_suppressed"] = compared["value_suppressed"]
order = [
    f
    for f in ["stock:alle", *("stock:" + c for c in labels.LEGAL_CIRCLES), "entries", "in_care", "unaccompanied"]
    if f in set(compared["figure"])
]
compared["figure"] = pd.Categorical(compared["figure"], categories=order, ordered=True)
compared = components.ordered(compared, selection, by=["figure"]).sort_values(["figure"], kind="stable")

known = compared[compared["figure"].astype(str) == figures.KNOWN]
if not known.empty:
    st.caption(figure_label(figures.KNOWN) + t(" je 1.000 Einwohner", " per 1,000 inhabitants"))
    with st.container(key="kennzahlen-je-1000"):
        for column, row in zip(st.columns(len(known)), known.itertuples(index=False), strict=True):
            column.metric(
                components.city_name(row.city),
                cell_text(row.per_1000, "rate", suppressed=bool(row.value_suppressed)),
                help=t("Personen: ", "Persons: ") + cell_text(row.value, suppressed=bool(row.value_suppressed)),
            )

chart, omitted = chart_values(compared, ["per_1000"])
chart = chart.dropna(subset=["per_1000"]).assign(
    Stadt=lambda f: f["city"].map(components.city_name), Kennzahl=lambda f: f["figure"].astype(str).map(short_label)
)
figure = px.bar(
    chart,
    x="Kennzahl",
    y="per_1000",
    color="Stadt",
    barmode="group",
    color_discrete_map=components.city_colors(),
    category_orders={"Stadt": components.city_order(selection), "Kennzahl": [short_label(f) for f in order]},
    labels={"per_1000": t("je 1.000 Einwohner", "per 1,000 inhabitants"), "Kennzahl": "", "Stadt": ""},
)
components.show_chart(figure, omitted=omitted, selection=selection, key="chart-staedtevergleich")

components.show_table(
    compared.assign(figure=compared["figure"].astype(str)),
    [
        Column("figure", t("Kennzahl", "Figure"), decode=figure_label),
        Column("city", labels.column("city"), decode=components.city_name),
        Column("value", labels.column("persons"), "count"),
        Column("per_1000", t("je 1.000 Einwohner", "per 1,000 inhabitants"), "rate"),
    ],
    key="tabelle-staedtevergleich",
    selection=selection,
    file_stem="staedtevergleich",
)
components.show_table(
    components.ordered(population[population["city"].isin(selection.cities)], selection),
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("population", labels.column("population"), "count"),
    ],
    key="tabelle-einwohner",
    selection=selection,
    file_stem="einwohner",
)
st.caption(
    t(
        "Einwohnerzahlen: kommunale Statistik, gerundet (Stand um 2016/2017), aus der Veröffentlichung.",
        "Inhabitants: municipal statistics, rounded (around 2016/2017), from the release.",
    )
)
