"""Wege in Sprache und Arbeit: how long from arrival or recognition to a course, B1, work or training.

Cumulative curves per cohort (year of arrival or recognition), estimated with Kaplan-Meier from the
life table `kpi_milestone_life_table` (aggregates only): people still on the way when the data end
are counted as long as they were observed and then leave the count (censoring). A plain share
"reached so far" would make every young cohort look worse than it is, only because it had less time.
The life table is by quarter and for all persons (see the mart). Suppressed cells make the curve a
band: its line is the lower bound, the shade how far the true curve could reach. The table reads the
curves at 6, 12 and 24 months. The sidebar's period and group do not apply (cohorts, all persons).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboards import components, figures, filters, labels
from dashboards.formatting import Column
from dashboards.i18n import current, t

REFERENCE_KEY = "wege-bezug"
MILESTONE_KEY = "wege-meilenstein"
HORIZONS = (6, 12, 24)
COHORT_COLORS = ("#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b", "#252525")


def curve_figure(all_curves: dict[tuple, figures.Curve], cities: list[str]) -> tuple[go.Figure, bool]:
    """One panel per city, one curve per cohort; returns the figure and whether any band is shown."""
    figure = make_subplots(
        rows=1, cols=len(cities), shared_yaxes=True, subplot_titles=[components.city_name(c) for c in cities]
    )
    cohorts = sorted({key[1] for key in all_curves})
    colors = {cohort: COHORT_COLORS[i % len(COHORT_COLORS)] for i, cohort in enumerate(cohorts)}
    banded = False
    for column, city in enumerate(cities, start=1):
        for key, curve in sorted(all_curves.items()):
            if key[0] != city or curve.persons is None:
                continue
            cohort = key[1]
            if (curve.upper - curve.lower).max() > 1e-12:
                banded = True
                figure.add_trace(
                    go.Scatter(
                        x=curve.months,
                        y=curve.upper * 100,
                        mode="lines",
                        line={"width": 0, "shape": "hv"},
                        showlegend=False,
                        hoverinfo="skip",
                    ),
                    row=1,
                    col=column,
                )
                figure.add_trace(
                    go.Scatter(
                        x=curve.months,
                        y=curve.lower * 100,
                        mode="lines",
                        line={"width": 0, "shape": "hv"},
                        fill="tonexty",
                        fillcolor="rgba(120,120,120,0.2)",
                        showlegend=False,
                        hoverinfo="skip",
                    ),
                    row=1,
                    col=column,
                )
            figure.add_trace(
                go.Scatter(
                    x=curve.months,
                    y=curve.lower * 100,
                    mode="lines",
                    line={"shape": "hv", "color": colors[cohort], "width": 2.5},
                    name=str(cohort),
                    legendgroup=str(cohort),
                    showlegend=column == 1,
                    hovertemplate=t("nach %{x} Monaten: %{y:.1f} %", "after %{x} months: %{y:.1f}%")
                    + f"<extra>{cohort}</extra>",
                ),
                row=1,
                col=column,
            )
    figure.update_yaxes(range=[0, 100], title_text=t("erreicht (%)", "reached (%)"), row=1, col=1)
    figure.update_xaxes(title_text=t("Monate", "months"))
    figure.update_layout(height=420, legend_title_text=t("Jahrgang", "Cohort"))
    return figure, banded


selection = filters.current()
components.page_intro(
    t("Wege in Sprache und Arbeit", "Paths to language and work"),
    t(
        "Wie lange dauert es ab Ankunft oder Anerkennung bis zum ersten Sprachkurs, bis B1, bis zu Arbeit "
        "oder Ausbildung — je Ankunftsjahrgang, mit den Menschen, die noch unterwegs sind?",
        "How long does it take from arrival or recognition to the first language course, to B1, to work or "
        "training — per cohort, counting the people still on the way?",
    ),
)
st.caption(
    t(
        "Jahrgänge statt Monate, alle Personen: Zeitraum und Personengruppe der Seitenleiste gelten hier nicht "
        "(nach Merkmalen aufgeteilt wären die Verläufe zu dünn besetzt und großteils gesperrt).",
        "Cohorts, not months, all persons: the sidebar's period and group do not apply here "
        "(split by attributes, the curves would be too thin and mostly suppressed).",
    )
)

life = components.read(selection, "kpi_milestone_life_table")
lang = current()  # option labels are made outside this run: they must not read the session
references = labels.known_first(life["reference"], labels.REFERENCES)
milestones = labels.known_first(life["milestone"], labels.MILESTONES)
left, right = st.columns(2)
reference = left.radio(
    t("Gemessen", "Measured"),
    references,
    format_func=lambda code: labels.reference(code, lang),
    horizontal=True,
    key=REFERENCE_KEY,
)
milestone = right.radio(
    t("Meilenstein", "Milestone"),
    milestones,
    format_func=lambda code: labels.milestone(code, lang),
    horizontal=True,
    key=MILESTONE_KEY,
)

rows = filters.apply(life, selection)  # the group filter does not apply here: all persons only

all_curves = figures.curves(rows, selection.threshold)
chosen = {key: curve for key, curve in all_curves.items() if key[2] == reference and key[3] == milestone}
figure, banded = curve_figure(chosen, list(selection.cities))
st.plotly_chart(figure, key="chart-wege", config=components.PLOTLY_CONFIG)
notes = [
    t(
        "Kaplan-Meier-Schätzung je Vierteljahr: wer am Datenende noch unterwegs ist, zählt bis dahin mit "
        "(Zensierung). Eine Kurve endet, wenn weniger als ",
        "Kaplan-Meier estimate by quarter: people still on the way at the data end count until then "
        "(censoring). A curve ends when fewer than ",
    )
    + str(selection.threshold)
    + t(" Personen noch unterwegs sind.", " persons are still on the way.")
]
if banded:
    notes.append(
        t(
            "Schattiert: Bereich, in dem die wahre Kurve wegen gesperrter Werte liegt; die Linie ist die Untergrenze.",
            "Shaded: the range of the true curve, because of suppressed values; the line is the lower bound.",
        )
    )
st.caption(" ".join(notes))

table = figures.curve_table(all_curves, HORIZONS)
if not table.empty:
    table = table[table["reference"] == reference]
    table = table.assign(milestone=pd.Categorical(table["milestone"].astype(str), categories=milestones, ordered=True))
    table = components.ordered(table, selection, by=["cohort_year", "milestone"])
components.show_table(
    table,
    [
        Column("city", labels.column("city"), decode=components.city_name),
        Column("cohort_year", labels.column("cohort_year"), "year"),
        Column("milestone", labels.column("milestone"), decode=labels.milestone),
        Column("persons", t("Personen im Jahrgang", "Persons in cohort"), "count"),
        *(Column(f"share_{h}_text", t(f"erreicht nach {h} Monaten", f"reached after {h} months")) for h in HORIZONS),
        Column("median_months", t("Hälfte erreicht nach … Monaten", "Half reached after … months")),
    ],
    key="tabelle-wege",
    selection=selection,
    file_stem="wege_sprache_arbeit",
)
st.caption(
    t(
        "– : so lange ist der Jahrgang noch nicht beobachtet. Bereich (z. B. 10–11): wegen gesperrter Werte "
        "nicht genauer bestimmbar.",
        "– : the cohort has not been observed that long. Range (e.g. 10–11): not more precise because of "
        "suppressed values.",
    )
)
