"""Arbeitsmarktprofile: how close to the labour market are refugees in SGB II?

`kpi_profile_mix` holds the latest jobcenter profile of everyone in SGB II at month end. The
cities' own figure to check against: 92 % of refugees in SGB II have a profile far from the labour
market, against 70 % of all jobcenter customers. The share is computed from published cells only;
when some are suppressed it is marked as approximate rather than hidden.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels
from dashboards.formatting import (
    APPROXIMATE,
    NO_VALUE,
    Column,
    chart_values,
    format_month_long,
    format_percent,
)
from dashboards.i18n import t

# Close profiles in blues, far ones in oranges: the split the steering group asks about first.
PROFILE_COLORS = {
    "MP": "#08519c",
    "AP": "#3182bd",
    "FP": "#6baed6",
    "EP": "#fdae6b",
    "SP": "#f16913",
    "UP": "#a63603",
}


def far_share(month_rows: pd.DataFrame) -> tuple[float | None, bool]:
    """Share of persons in a `fern` profile among published cells, and whether cells were left out."""
    published = month_rows.dropna(subset=["persons"])
    total = published["persons"].sum()
    if total == 0:
        return None, True
    far = published.loc[published["profile_group"] == "fern", "persons"].sum()
    return float(far / total), len(published) < len(month_rows)


selection = filters.current()
components.page_intro(
    t("Arbeitsmarktprofile", "Labour-market profiles"),
    t(
        "Wie nah am Arbeitsmarkt sind die Menschen im SGB II — wie viele brauchen erst Sprache, "
        "Stabilisierung oder Unterstützung?",
        "How close to the labour market are the people in SGB II — how many first need language, "
        "stabilisation or assistance?",
    ),
)
components.groups_not_applied(selection)

profiles = filters.apply(components.read(selection, "kpi_profile_mix"), selection)
codes = labels.known_first(profiles["profile_code"], labels.PROFILES)
profiles = components.ordered(
    profiles.assign(profile_code=pd.Categorical(profiles["profile_code"].astype(str), categories=codes, ordered=True)),
    selection,
    by=["month", "profile_code"],
)
chart, omitted = chart_values(profiles, ["persons"])

month = selection.reference_month
if month is not None:
    st.caption(
        t("Anteil integrationsferner Profile im ", "Share of profiles far from the labour market in ")
        + format_month_long(month)
        + t(" (Ende des gewählten Zeitraums)", " (end of the chosen period)")
    )
    latest = filters.at_month(chart, month)
    for column, city in zip(st.columns(len(selection.cities)), selection.cities, strict=True):
        share, partial = far_share(latest[latest["city"] == city])
        value = NO_VALUE if share is None else (f"{APPROXIMATE} " if partial else "") + format_percent(share)
        column.metric(
            components.city_name(city),
            value,
            help=t(
                f"{APPROXIMATE}: ohne gesperrte Felder berechnet (Geheimhaltung).",
                f"{APPROXIMATE}: computed without suppressed cells (confidentiality).",
            )
            if partial
            else None,
        )

bars = components.decoded(chart.dropna(subset=["persons"]), {"city": components.city_name})
bars["Profil"] = bars["profile_code"].astype(str).map(labels.profile)
figure = px.bar(
    bars,
    x="month",
    y="persons",
    color="Profil",
    facet_col="city",
    color_discrete_map={labels.profile(code): color for code, color in PROFILE_COLORS.items()},
    category_orders={
        "city": [components.city_name(code) for code in selection.cities],
        "Profil": [labels.profile(code) for code in codes],
    },
    labels={
        "month": "",
        "persons": t("Personen im SGB II am Monatsende", "Persons in SGB II at month end"),
        "city": "",
    },
)
components.show_chart(components.month_axis(figure), omitted=omitted, selection=selection, key="chart-profile")
components.show_table(
    profiles,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("month", labels.column("month"), "month"),
        Column("profile_code", labels.column("profile_code"), decode=labels.profile),
        Column("profile_group", labels.column("profile_group"), decode=labels.profile_group),
        Column("persons", labels.column("persons"), "count"),
    ],
    key="tabelle-profile",
    selection=selection,
    file_stem="arbeitsmarktprofile",
)
