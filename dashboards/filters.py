"""The sidebar: which release, which cities, which months — and handing that choice to the pages.

`app.py` renders the sidebar once per run, before the page, so the choice survives switching
pages (Streamlit keeps a widget's value only while the widget is rendered on every run). A page
reads the choice with `current()` and narrows a table with `apply()`.

A widget value that no longer fits its options (another release with other months, a deleted
release) is dropped before the widget is drawn, so the widget falls back to its default instead of
failing. A session keeps the release it shows even when a newer one is published meanwhile (the
newer one appears at the top of the selector), so figures do not change under a reader's eyes
during a meeting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import labels, release
from dashboards.formatting import format_local_time, format_month, format_month_long

RELEASE_KEY = "veroeffentlichung"
CITIES_KEY = "staedte"
PERIOD_KEY = "zeitraum"
_SELECTION_KEY = "_auswahl"

NO_RELEASE_MESSAGE = "Noch keine Veröffentlichung – bitte `make demo` ausführen"
NOT_ON_THIS_PAGE = "Gilt nicht für diese Seite."


@dataclass(frozen=True)
class Selection:
    """What the reader chose in the sidebar."""

    release: release.Release
    cities: tuple[str, ...]
    months: tuple[date, ...]
    period: tuple[date, date] | None

    @property
    def reference_month(self) -> date | None:
        """The month a page shows when it shows one month: the end of the chosen period."""
        return self.period[1] if self.period else None

    @property
    def previous_month(self) -> date | None:
        """The month before the reference month, if the release has it."""
        month = self.reference_month
        if month is None:
            return None
        previous = date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)
        return previous if previous in self.months else None

    @property
    def threshold(self) -> int:
        return self.release.suppression_threshold


def render_sidebar(*, cities_apply: bool, period_applies: bool) -> Selection | None:
    """Draw the sidebar filters; None (with a message on the page) when there is nothing to show."""
    root = release.releases_root()
    newest_first = list(reversed(release.list_releases(root)))
    if not newest_first:
        st.info(NO_RELEASE_MESSAGE)
        st.caption(f"Gesucht in `{root}`.")
        return None

    _forget_unless(RELEASE_KEY, lambda value: value in newest_first)
    release_id = st.sidebar.selectbox(
        "Veröffentlichung",
        newest_first,
        index=0,
        key=RELEASE_KEY,
        format_func=lambda rid: release_label(rid, newest=rid == newest_first[0]),
        help="Jede Veröffentlichung ist ein fester, geprüfter Datenstand. Voreingestellt ist die neueste.",
    )
    try:
        chosen = release.open_release(release_id, root)
        months = release.release_months(chosen)
        city_codes = ordered_cities(release.release_cities(chosen))
    except release.ReleaseError as error:
        st.error(str(error))
        return None
    data_until = chosen.data_until
    st.sidebar.caption(
        f"Datenstand bis {format_month_long(data_until)}" if data_until else f"Veröffentlichung {release_id}"
    )

    _forget_unless(CITIES_KEY, lambda value: isinstance(value, list) and set(value) <= set(city_codes))
    cities = st.sidebar.multiselect(
        "Städte",
        city_codes,
        default=city_codes,
        key=CITIES_KEY,
        format_func=lambda code: labels.label(labels.CITIES, code),
        disabled=not cities_apply,
        placeholder="Stadt wählen",
        help=None if cities_apply else NOT_ON_THIS_PAGE,
    )
    period = _period_slider(months, enabled=period_applies)
    return Selection(release=chosen, cities=tuple(cities), months=tuple(months), period=period)


def remember(selection: Selection) -> None:
    """Hand the choice to the page that runs next in this script run."""
    st.session_state[_SELECTION_KEY] = selection


def current() -> Selection:
    """The sidebar choice, for a page. Stops the page with a hint if it was opened without the app."""
    selection = st.session_state.get(_SELECTION_KEY)
    if not isinstance(selection, Selection):
        st.error("Diese Seite gehört zum Dashboard: bitte `streamlit run dashboards/app.py` starten.")
        st.stop()
    return selection


def apply(frame: pd.DataFrame, selection: Selection, *, period: bool = True) -> pd.DataFrame:
    """Rows of the chosen cities and, where the table has months and `period` is set, months."""
    keep = pd.Series(True, index=frame.index)
    if "city" in frame.columns:
        keep &= frame["city"].isin(selection.cities)
    if period and "month" in frame.columns and selection.period is not None:
        start, end = (pd.Timestamp(m) for m in selection.period)
        keep &= frame["month"].between(start, end)
    return frame[keep].reset_index(drop=True)


def at_month(frame: pd.DataFrame, month: date | None) -> pd.DataFrame:
    """Rows of one month (none when month is None)."""
    if month is None:
        return frame.iloc[0:0]
    return frame[frame["month"] == pd.Timestamp(month)].reset_index(drop=True)


def release_label(release_id: str, *, newest: bool = False) -> str:
    """How a release appears in the selector: its German local publication time."""
    published = release.release_time(release_id)
    text = format_local_time(published) if published else release_id
    return f"{text} (neueste)" if newest else text


def ordered_cities(codes: set[str]) -> list[str]:
    """The known cities in their usual order, then any new ones alphabetically."""
    return labels.known_first(codes, labels.CITIES)


def _period_slider(months: Sequence[date], *, enabled: bool) -> tuple[date, date] | None:
    if not months:
        return None
    if len(months) == 1:
        st.sidebar.caption(f"Zeitraum: {format_month(months[0])}")
        return (months[0], months[0])
    _forget_unless(
        PERIOD_KEY,
        lambda value: (
            isinstance(value, tuple | list)
            and len(value) == 2
            and value[0] in months
            and value[1] in months
            and value[0] <= value[1]
        ),
    )
    # A two-value default is what makes Streamlit treat the slider as a range.
    start, end = st.sidebar.select_slider(
        "Zeitraum",
        options=list(months),
        value=(months[0], months[-1]),
        key=PERIOD_KEY,
        format_func=format_month,
        disabled=not enabled,
        help="Seiten mit einem Stichmonat zeigen das Ende des Zeitraums." if enabled else NOT_ON_THIS_PAGE,
    )
    return (start, end)


def _forget_unless(key: str, is_valid: Callable[[Any], bool]) -> None:
    """Drop a widget's remembered value when it no longer fits, so the widget starts from its default."""
    if key in st.session_state and not is_valid(st.session_state[key]):
        del st.session_state[key]
