"""The sidebar: which release, which cities, which months, which group of people — and handing that
choice to the pages.

`app.py` renders the sidebar once per run, before the page, so the choice survives switching
pages (Streamlit keeps a widget's value only while the widget is rendered on every run). A page
reads the choice with `current()` and narrows a table with `apply()`.

Nationality group, age band and sex are single choices ("alle" or one value): the release holds
one published row for each choice (tables with `nationality_group, age_band, sex`, see
docs/release-format.md), so the dashboard never has to add up cells, some of which may be
suppressed. Tables without these columns are not narrowed by them; the page says so.

A widget value that no longer fits its options (another release with other months, a deleted
release) is dropped before the widget is drawn, so the widget falls back to its default instead of
failing. A session keeps the release it shows even when a newer one is published meanwhile (the
newer one appears at the top of the selector), so figures do not change under a reader's eyes
during a meeting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import labels, release
from dashboards.formatting import format_local_time, format_month, format_month_long
from dashboards.i18n import Language, t
from dashboards.i18n import current as current_language

RELEASE_KEY = "veroeffentlichung"
COMPARE_KEY = "vergleich"
CITIES_KEY = "staedte"
PERIOD_KEY = "zeitraum"
GROUP_KEYS: dict[str, str] = {"nationality_group": "nationalitaet", "age_band": "altersgruppe", "sex": "geschlecht"}
_SELECTION_KEY = "_auswahl"
ALL = labels.ALL
NO_COMPARISON = ""

NO_RELEASE_MESSAGE = "Noch keine Veröffentlichung – bitte `make demo` ausführen"


def not_on_this_page() -> str:
    return t("Gilt nicht für diese Seite.", "Does not apply to this page.")


@dataclass(frozen=True)
class Selection:
    """What the reader chose in the sidebar."""

    release: release.Release
    cities: tuple[str, ...]
    months: tuple[date, ...]
    period: tuple[date, date] | None
    groups: Mapping[str, str] = field(default_factory=dict)
    compare: release.Release | None = None

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
    def previous_year_month(self) -> date | None:
        """The same month a year before the reference month, if the release has it."""
        month = self.reference_month
        if month is None:
            return None
        previous = date(month.year - 1, month.month, 1)
        return previous if previous in self.months else None

    @property
    def threshold(self) -> int:
        return self.release.suppression_threshold

    @property
    def group_filtered(self) -> bool:
        """Whether a nationality, age or sex filter is set."""
        return any(value != ALL for value in self.groups.values())

    def group(self, dimension: str) -> str:
        return self.groups.get(dimension, ALL)

    def describe_groups(self) -> str:
        """The group filters in words (`alle Personen` when none is set)."""
        chosen = [
            DIMENSION_LABELS[dimension](value)
            for dimension, value in self.groups.items()
            if value != ALL and dimension in DIMENSION_LABELS
        ]
        return ", ".join(chosen) if chosen else t("alle Personen", "all persons")

    def audit_filters(self) -> dict[str, Any]:
        """The choice as the audit log records it (codes, not words)."""
        return {
            "cities": list(self.cities),
            "period": [m.isoformat() for m in self.period] if self.period else None,
            "groups": {k: v for k, v in self.groups.items() if v != ALL},
            "compare": self.compare.release_id if self.compare else None,
        }


DIMENSION_LABELS: dict[str, Callable[..., str]] = {
    "nationality_group": labels.nationality_group,
    "age_band": labels.age_band,
    "sex": labels.sex,
}


def dimension_title(dimension: str) -> str:
    return labels.column(dimension)


def render_sidebar(*, cities_apply: bool, period_applies: bool, groups_apply: bool) -> Selection | None:
    """Draw the sidebar filters; None (with a message on the page) when there is nothing to show."""
    # Option labels are made later, outside this run (AppTest, reruns): they must not read the session.
    lang = current_language()
    root = release.releases_root()
    newest_first = list(reversed(release.list_releases(root)))
    if not newest_first:
        st.info(t(NO_RELEASE_MESSAGE, "No release yet – please run `make demo`"))
        st.caption(t(f"Gesucht in `{root}`.", f"Looked in `{root}`."))
        return None

    _forget_unless(RELEASE_KEY, lambda value: value in newest_first)
    release_id = st.sidebar.selectbox(
        t("Veröffentlichung", "Release"),
        newest_first,
        index=0,
        key=RELEASE_KEY,
        format_func=lambda rid: release_label(rid, newest=rid == newest_first[0], lang=lang),
        help=t(
            "Jede Veröffentlichung ist ein fester, geprüfter Datenstand. Voreingestellt ist die neueste.",
            "Each release is a fixed, checked state of the data. The newest is the default.",
        ),
    )
    try:
        chosen = release.open_release(release_id, root)
        months = release.release_months(chosen)
        city_codes = ordered_cities(release.release_cities(chosen))
        group_values = release.group_values(chosen)
    except release.ReleaseError as error:
        st.error(str(error))
        return None
    data_until = chosen.data_until
    st.sidebar.caption(
        t("Datenstand bis ", "Data up to ") + format_month_long(data_until)
        if data_until
        else t("Veröffentlichung ", "Release ") + release_id
    )
    compare = _compare_selector(newest_first, release_id, root)

    _forget_unless(CITIES_KEY, lambda value: isinstance(value, list) and set(value) <= set(city_codes))
    cities = st.sidebar.multiselect(
        t("Städte", "Cities"),
        city_codes,
        default=city_codes,
        key=CITIES_KEY,
        format_func=lambda code: labels.city(code, lang),
        disabled=not cities_apply,
        placeholder=t("Stadt wählen", "Choose a city"),
        help=None if cities_apply else not_on_this_page(),
    )
    period = _period_slider(months, enabled=period_applies)
    groups = _group_selectors(group_values, enabled=groups_apply)
    return Selection(
        release=chosen,
        cities=tuple(cities),
        months=tuple(months),
        period=period,
        groups=groups,
        compare=compare,
    )


def remember(selection: Selection) -> None:
    """Hand the choice to the page that runs next in this script run."""
    st.session_state[_SELECTION_KEY] = selection


def current() -> Selection:
    """The sidebar choice, for a page. Stops the page with a hint if it was opened without the app."""
    selection = st.session_state.get(_SELECTION_KEY)
    if not isinstance(selection, Selection):
        st.error(
            t(
                "Diese Seite gehört zum Dashboard: bitte `streamlit run dashboards/app.py` starten.",
                "This page belongs to the dashboard: please start `streamlit run dashboards/app.py`.",
            )
        )
        st.stop()
    return selection


def apply(frame: pd.DataFrame, selection: Selection, *, period: bool = True, groups: bool = True) -> pd.DataFrame:
    """Rows of the chosen cities, months (where the table has months and `period` is set) and group.

    A table with the group columns keeps only the rows of the chosen group (`alle` where no filter
    is set); a table without them is returned for all persons.
    """
    keep = pd.Series(True, index=frame.index)
    if "city" in frame.columns:
        keep &= frame["city"].isin(selection.cities)
    if period and "month" in frame.columns and selection.period is not None:
        start, end = (pd.Timestamp(m) for m in selection.period)
        keep &= frame["month"].between(start, end)
    if groups and release.has_group_dimensions(frame):
        for dimension in release.GROUP_DIMENSIONS:
            keep &= frame[dimension] == selection.group(dimension)
    return frame[keep].reset_index(drop=True)


def at_month(frame: pd.DataFrame, month: date | None) -> pd.DataFrame:
    """Rows of one month (none when month is None)."""
    if month is None:
        return frame.iloc[0:0]
    return frame[frame["month"] == pd.Timestamp(month)].reset_index(drop=True)


def release_label(release_id: str, *, newest: bool = False, lang: Language | None = None) -> str:
    """How a release appears in the selector: its local publication time."""
    published = release.release_time(release_id)
    text = format_local_time(published, lang) if published else release_id
    return f"{text} ({t('neueste', 'newest', lang)})" if newest else text


def ordered_cities(codes: set[str]) -> list[str]:
    """The known cities in their usual order, then any new ones alphabetically."""
    return labels.known_first(codes, labels.CITIES)


def _compare_selector(newest_first: Sequence[str], chosen: str, root: Any) -> release.Release | None:
    """An optional earlier (or later) release whose figures the overview shows next to the chosen one."""
    lang = current_language()
    others = [NO_COMPARISON, *(rid for rid in newest_first if rid != chosen)]
    if len(others) == 1:
        return None
    _forget_unless(COMPARE_KEY, lambda value: value in others)
    compare_id = st.sidebar.selectbox(
        t("Vergleichen mit Veröffentlichung", "Compare with release"),
        others,
        index=0,
        key=COMPARE_KEY,
        format_func=lambda rid: (
            t("– kein Vergleich –", "– no comparison –", lang)
            if rid == NO_COMPARISON
            else release_label(rid, lang=lang)
        ),
        help=t(
            "Zeigt im Überblick die Zahlen desselben Monats aus einer anderen Veröffentlichung "
            "(z. B. nach nachgelieferten Daten).",
            "Shows, in the overview, the same month's figures from another release (e.g. after late deliveries).",
        ),
    )
    if compare_id == NO_COMPARISON:
        return None
    try:
        return release.open_release(compare_id, root)
    except release.ReleaseError:
        return None


def _group_selectors(values: Mapping[str, Sequence[str]], *, enabled: bool) -> dict[str, str]:
    """One select box per group attribute ("alle" first); disabled where the page has no such tables."""
    lang = current_language()
    groups: dict[str, str] = {}
    present = {dimension: list(options) for dimension, options in values.items() if options}
    if not present:
        return groups
    with st.sidebar.expander(t("Personengruppe", "Group of people"), expanded=False):
        for dimension, options in present.items():
            known = {
                "nationality_group": labels.NATIONALITY_GROUPS,
                "age_band": labels.AGE_BANDS,
                "sex": labels.SEXES,
            }.get(dimension, {})
            choices = [ALL, *labels.known_first(options, known)]
            key = GROUP_KEYS.get(dimension, dimension)
            _forget_unless(key, lambda value, choices=choices: value in choices)
            decode = DIMENSION_LABELS.get(dimension, str)
            groups[dimension] = st.selectbox(
                dimension_title(dimension),
                choices,
                index=0,
                key=key,
                format_func=lambda v, decode=decode: t("alle", "all", lang) if v == ALL else decode(v, lang),
                disabled=not enabled,
                help=None if enabled else not_on_this_page(),
            )
    return groups if enabled else {dimension: ALL for dimension in groups}


def _period_slider(months: Sequence[date], *, enabled: bool) -> tuple[date, date] | None:
    lang = current_language()
    if not months:
        return None
    if len(months) == 1:
        st.sidebar.caption(t("Zeitraum: ", "Period: ") + format_month(months[0]))
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
        t("Zeitraum", "Period"),
        options=list(months),
        value=(months[0], months[-1]),
        key=PERIOD_KEY,
        format_func=lambda month: format_month(month, lang),
        disabled=not enabled,
        help=t(
            "Seiten mit einem Stichmonat zeigen das Ende des Zeitraums.", "Pages with one month show the period's end."
        )
        if enabled
        else not_on_this_page(),
    )
    return (start, end)


def _forget_unless(key: str, is_valid: Callable[[Any], bool]) -> None:
    """Drop a widget's remembered value when it no longer fits, so the widget starts from its default."""
    if key in st.session_state and not is_valid(st.session_state[key]):
        del st.session_state[key]
