"""The parts every page is built from, so that all pages read alike.

A page answers one question: a title and the question in words, then for each figure a chart, the
same figures as a table with the suppression legend, and downloads of that table (CSV, XLSX). The
downloads are made on click and written to the audit log then (see `exports`); the exports a run
offers are also kept in the session (`EXPORTS_KEY`), which is how tests reach them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import exports, labels, release
from dashboards.filters import Selection
from dashboards.formatting import INCOMPLETE_SUFFIX as _INCOMPLETE
from dashboards.formatting import Column, chart_note, has_suppressed, lower_bound_legend, suppression_legend
from dashboards.i18n import current, t

# One colour per city on every chart, so a reader can follow a city from page to page.
CITY_COLORS: dict[str, str] = {
    "wuppertal": "#1f5fa8",
    "solingen": "#d1761a",
    "muelheim": "#2f9a5a",
}
PLOTLY_CONFIG = {"displaylogo": False}
EXPORTS_KEY = "_exporte"
USER_KEY = "_benutzer"
PAGE_KEY = "_seite"


def no_rows_message() -> str:
    return t("Für diese Auswahl gibt es keine Werte.", "There are no figures for this choice.")


def city_colors() -> dict[str, str]:
    """Colours by city name in the current language (charts show names, not codes)."""
    return {labels.city(code): color for code, color in CITY_COLORS.items()}


def legend_caption(text: str) -> None:
    """A caption whose `*` is the suppression marker, not Markdown (a leading `* ` would make a list)."""
    st.caption(text.replace("*", "\\*"))


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
            t(
                f"In Tabelle {name} fehlen die Sperrkennzeichen für {', '.join(missing)}. "
                "Leere Felder werden als – gezeigt. Bitte das Pipeline-Team informieren.",
                f"Table {name} lacks the suppression flags for {', '.join(missing)}. "
                "Empty cells are shown as –. Please tell the pipeline team.",
            )
        )
    return frame


def groups_not_applied(selection: Selection) -> None:
    """A note under a part of a page whose tables cannot be narrowed by nationality, age or sex."""
    if selection.group_filtered:
        st.caption(
            t(
                f"Die Auswahl der Personengruppe ({selection.describe_groups()}) gilt für diesen Teil nicht: "
                "er zeigt alle Personen.",
                f"The group filter ({selection.describe_groups()}) does not apply to this part: it shows all persons.",
            )
        )


def combination_not_published(selection: Selection, frame: pd.DataFrame) -> bool:
    """Say so and return True when a group filter combines attributes the release publishes only one at a time."""
    if not frame.empty or not selection.group_filtered:
        return False
    st.info(
        t(
            "Für diese Kombination von Merkmalen sind keine Zahlen veröffentlicht: es gibt sie je Merkmal einzeln "
            "(Nationalität, Altersgruppe oder Geschlecht), nicht kombiniert – zu viele Felder wären zu klein "
            "und müssten gesperrt werden.",
            "No figures are published for this combination of attributes: they exist for one attribute at a "
            "time (nationality, age band or sex), not combined – too many cells would be too small and suppressed.",
        )
    )
    return True


def decoded(frame: pd.DataFrame, decoders: Mapping[str, Callable[[object], str]]) -> pd.DataFrame:
    """A copy with code columns replaced by their words, for charts."""
    out = frame.copy()
    for column, decode in decoders.items():
        out[column] = out[column].map(decode)
    return out


def city_name(code: object) -> str:
    return labels.city(code)


def city_order(selection: Selection) -> list[str]:
    return [city_name(code) for code in selection.cities]


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
    english = current() == "en"
    figure.update_layout(
        separators=".," if english else ",.",
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
    title: str | None = None,
) -> None:
    """The table as shown (numbers in words' style, `*` for suppressed), its legend and its downloads."""
    if frame.empty:
        st.info(no_rows_message())
        return
    from dashboards.formatting import display_table

    shown = display_table(frame, columns)
    # The keyed container holds table, legend and downloads together (and lets tests find the table).
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
        legends = []
        if has_suppressed(frame, columns):
            legends.append(suppression_legend(selection.threshold))
        if any(bool(frame.get(spec.name + _INCOMPLETE, pd.Series(dtype=bool)).fillna(False).any()) for spec in columns):
            legends.append(lower_bound_legend())
        if legends:
            legend_caption(" · ".join(legends))
        download_buttons(frame, columns, key=key, selection=selection, file_stem=file_stem or key, title=title)


def download_buttons(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    key: str,
    selection: Selection,
    file_stem: str,
    title: str | None = None,
) -> None:
    """CSV and XLSX downloads of a table, made (and audited) when clicked."""
    lang = current()
    stem = f"{file_stem}_{selection.release.release_id}"
    snapshot = frame.copy()
    notes = exports.export_notes(selection.release.release_id, _filter_notes(selection), lang)
    heading = title or st.session_state.get(PAGE_KEY) or file_stem
    made = {
        "csv": (exports.CSV_MIME, partial(exports.csv_bytes, snapshot, list(columns), lang)),
        "xlsx": (
            exports.XLSX_MIME,
            partial(
                exports.xlsx_bytes,
                snapshot,
                list(columns),
                title=str(heading),
                notes=notes,
                threshold=selection.threshold,
                lang=lang,
            ),
        ),
    }
    left, right, _ = st.columns([1, 1, 3])
    for column, (fmt, (mime, make)) in zip((left, right), made.items(), strict=True):
        export = register_export(key, fmt, f"{stem}.{fmt}", mime, make, selection)
        column.download_button(
            t(f"{fmt.upper()} herunterladen", f"Download {fmt.upper()}"),
            data=export,
            file_name=export.file_name,
            mime=mime,
            key=f"{fmt}-{key}",
            on_click="ignore",
            icon=":material/download:",
        )


def register_export(
    key: str, fmt: str, file_name: str, mime: str, make: Callable[[], bytes], selection: Selection
) -> exports.Export:
    """An audited export for a download button, remembered for this run (tests call it like a click)."""
    user = st.session_state.get(USER_KEY)
    export = exports.Export(
        key=key,
        format=fmt,
        file_name=file_name,
        mime=mime,
        make=make,
        audit_user=getattr(user, "login", None),
        audit_auth=getattr(user, "method", None),
        release_id=selection.release.release_id,
        page=st.session_state.get(PAGE_KEY),
        details={"filters": selection.audit_filters()},
    )
    st.session_state.setdefault(EXPORTS_KEY, {})[f"{fmt}-{key}"] = export
    return export


def _filter_notes(selection: Selection) -> dict[str, str]:
    period = selection.period
    from dashboards.formatting import format_month

    return {
        t("Städte", "Cities"): ", ".join(city_name(c) for c in selection.cities),
        t("Zeitraum", "Period"): f"{format_month(period[0])} – {format_month(period[1])}" if period else "–",
        t("Personengruppe", "Group of people"): selection.describe_groups(),
    }
