"""Wege in Sprache und Arbeit: how many of a year's arrivals reached a language course, B1, work.

`kpi_time_to_milestones` follows cohorts (year of arrival or of recognition) to three milestones.
The table is by cohort year, not by month, so the sidebar's period does not apply here. Younger
cohorts had less time, which the page says, so that nobody reads a lower share as failure.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import components, filters, labels
from dashboards.formatting import SUPPRESSED_SUFFIX, Column, chart_values, suppressed_mask

REFERENCE_KEY = "wege-bezug"


def with_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `reached_share` (reached / persons), suppressed when either count is suppressed."""
    out = frame.copy()
    hidden = suppressed_mask(out, "persons") | suppressed_mask(out, "reached")
    persons = out["persons"].astype("Float64")
    share = out["reached"].astype("Float64") / persons.where(persons > 0)
    out["reached_share"] = share.where(~hidden)
    out["reached_share" + SUPPRESSED_SUFFIX] = hidden
    return out


selection = filters.current()
components.page_intro(
    "Wege in Sprache und Arbeit",
    "Wie viele Menschen eines Ankunfts- oder Anerkennungsjahrgangs haben einen Sprachkurs begonnen, "
    "B1 erreicht, Arbeit oder Ausbildung gefunden — und nach wie vielen Tagen?",
)
st.caption("Jahrgänge statt Monate: der Zeitraum in der Seitenleiste gilt hier nicht.")

times = filters.apply(components.read(selection, "kpi_time_to_milestones"), selection)
references = labels.known_first(times["reference"], labels.REFERENCES)
reference = st.radio("Gemessen", references, format_func=labels.reference, horizontal=True, key=REFERENCE_KEY)
times = times[times["reference"] == reference]
milestones = labels.known_first(times["milestone"], labels.MILESTONES)
times = times.assign(milestone=pd.Categorical(times["milestone"].astype(str), categories=milestones, ordered=True))
times = with_share(components.ordered(times, selection, by=["cohort_year", "milestone"]))

chart, omitted = chart_values(times, ["reached_share"])
chart = components.decoded(chart.dropna(subset=["reached_share"]), {"city": components.city_name})
chart["Meilenstein"] = chart["milestone"].astype(str).map(labels.milestone)
chart["Anteil"] = chart["reached_share"] * 100
chart["Jahrgang"] = chart["cohort_year"].astype(str)
figure = px.bar(
    chart,
    x="Jahrgang",
    y="Anteil",
    color="Meilenstein",
    barmode="group",
    facet_col="city",
    category_orders={
        "city": [components.city_name(code) for code in selection.cities],
        "Meilenstein": [labels.milestone(code) for code in milestones],
        "Jahrgang": sorted(chart["Jahrgang"].unique()),
    },
    labels={"Anteil": "Anteil erreicht (%)", "city": "Stadt", "Jahrgang": "Jahrgang"},
)
components.show_chart(figure, omitted=omitted, selection=selection, key="chart-wege")
st.caption("Jüngere Jahrgänge hatten weniger Zeit, einen Meilenstein zu erreichen; ihr Anteil wächst noch.")

components.show_table(
    times,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("cohort_year", labels.column("cohort_year"), "year"),
        Column("reference", labels.column("reference"), decode=labels.reference),
        Column("milestone", labels.column("milestone"), decode=labels.milestone),
        Column("persons", "Personen im Jahrgang", "count"),
        Column("reached", labels.column("reached"), "count"),
        Column("reached_share", labels.column("reached_share"), "percent"),
        Column("days_median", labels.column("days_median"), "days"),
    ],
    key="tabelle-wege",
    selection=selection,
    file_stem="wege_sprache_arbeit",
)
