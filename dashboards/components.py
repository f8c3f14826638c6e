"""The parts every page is built from, so that all pages read alike.

A page answers one question: a title and the question in words, then for each figure a chart, the
same figures as a table with the suppression legend, and a CSV download of that table. Later
exports (XLSX, PDF) and an audit log of who looked at which table belong here, next to the
CSV download, so pages need not change for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import labels, release
from dashboards.filters import Selection
from dashboards.formatting import (
    Column,
    chart_note,
    csv_bytes,
    display_table,
    has_suppressed,
    suppression_legend,
)

# One colour per city on every chart, so a reader can follow a city from page to page.
CITY_COLORS: dict[str, str] = {
    labels.CITIES["wuppertal"]: "#1f5fa8",
    labels.CITIES["solingen"]: "#d1761a",
    labels.CITIES["muelheim"]: "#2f9a5a",
}
PLOTLY_CONFIG = {"displaylogo": False}
NO_ROWS_MESSAGE = "Für diese Auswahl gibt es keine Werte."


def page_intro(title: str, question: str) -> None:
    """The page title and, in one sentence, the question the page answers."""
    st.title(title)
    st.markdown(question)


def read(selection: Selection, name: str) -> pd.DataFrame:
    """A KPI table of the chosen release; stops the page with the reason if it cannot be read."""
    try:
        frame = release.read_table(selection.release, name)
    except release.ReleaseError as error:
        st.error(str(error))
        st.stop()
    missing = release.missing_suppression_flags(frame, name)
    if missing:
        st.warning(
            f"In Tabelle {name} fehlen die Sperrkennzeichen für {', '.join(missing)}. "
            "Leere Felder werden als – gezeigt. Bitte das Pipeline-Team informieren."
        )
    return frame


def decoded(frame: pd.DataFrame, decoders: Mapping[str, Callable[[object], str]]) -> pd.DataFrame:
    """A copy with code columns replaced by their German words, for charts."""
    out = frame.copy()
    for column, decode in decoders.items():
        out[column] = out[column].map(decode)
    return out


def city_name(code: object) -> str:
    return labels.label(labels.CITIES, code)


def ordered(frame: pd.DataFrame, selection: Selection, by: Sequence[str] = ()) -> pd.DataFrame:
    """Rows in the sidebar's city order, then by `by` (categoricals sort by their categories)."""
    rank = frame["city"].map({code: index for index, code in enumerate(selection.cities)})
    return (
        frame.assign(_city_rank=rank)
        .sort_values(["_city_rank", *by], kind="stable")
        .drop(columns="_city_rank")
        .reset_index(drop=True)
    )


def show_chart(figure: go.Figure, *, omitted: int, selection: Selection, key: str) -> None:
    """A plotly chart in the house style, with a note when suppressed values were left out."""
    figure.update_layout(
        separators=",.",
        legend_title_text="",
        margin={"t": 48, "b": 8, "l": 8, "r": 8},
    )
    # Facet titles read `Stadt=Solingen` by default; the reader only needs `Solingen`.
    figure.for_each_annotation(lambda annotation: annotation.update(text=annotation.text.split("=")[-1]))
    st.plotly_chart(figure, key=key, config=PLOTLY_CONFIG)
    note = chart_note(omitted, selection.threshold)
    if note:
        st.caption(note)


def month_axis(figure: go.Figure) -> go.Figure:
    """Months as `06/2016` on axis and hover: language-neutral, unlike plotly's English month names."""
    return figure.update_xaxes(tickformat="%m/%Y", hoverformat="%m/%Y")


def show_table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    key: str,
    selection: Selection,
    file_stem: str | None = None,
) -> None:
    """The table as shown (German numbers, `*` for suppressed), its legend and a CSV download."""
    if frame.empty:
        st.info(NO_ROWS_MESSAGE)
        return
    shown = display_table(frame, columns)
    # The keyed container holds table, legend and download together (and lets tests find the table).
    with st.container(key=key):
        st.dataframe(
            shown,
            hide_index=True,
            column_config={
                spec.label: st.column_config.TextColumn(spec.label, alignment="right")
                for spec in columns
                if spec.numeric
            },
        )
        if has_suppressed(frame, columns):
            st.caption(suppression_legend(selection.threshold))
        st.download_button(
            "Tabelle als CSV herunterladen",
            data=csv_bytes(frame, columns),
            file_name=f"{file_stem or key}_{selection.release.release_id}.csv",
            mime="text/csv",
            key=f"csv-{key}",
            on_click="ignore",
            icon=":material/download:",
        )
