"""Entry point of the steering group's dashboard: `streamlit run dashboards/app.py`.

This file is the frame around every page: it registers the pages, draws the sidebar (release,
cities, period) and then runs the chosen page. Streamlit runs it on every interaction.

The pages live in `views/`, not `pages/`: Streamlit treats a `pages/` folder next to the entry
script as an old-style multipage app and, on a fresh server's first request, runs a deep-linked
page file *without* this frame (and AppTest does so on every run). `views/` avoids that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards import filters, labels

VIEWS = Path(__file__).parent / "views"


@dataclass(frozen=True)
class PageSpec:
    """A page of the dashboard and which sidebar filters apply to it."""

    file: str
    title: str
    icon: str
    cities_apply: bool = True
    period_applies: bool = True

    def page(self, *, default: bool = False) -> st.Page:
        return st.Page(VIEWS / self.file, title=self.title, icon=self.icon, default=default)


# One page per question, in the order a steering group walks through them.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("ueberblick.py", "Überblick", ":material/dashboard:"),
    PageSpec("zustaendigkeiten.py", "Zuständigkeiten", ":material/account_tree:"),
    PageSpec("uebergaenge.py", "Übergänge", ":material/swap_horiz:"),
    PageSpec("wege_sprache_arbeit.py", "Wege in Sprache und Arbeit", ":material/school:", period_applies=False),
    PageSpec("junge_gefluechtete.py", "Junge Geflüchtete", ":material/child_care:"),
    PageSpec("arbeitsmarktprofile.py", "Arbeitsmarktprofile", ":material/work:"),
    PageSpec("datenqualitaet.py", "Datenqualität", ":material/fact_check:", cities_apply=False, period_applies=False),
)


def main() -> None:
    """Register the pages, draw the sidebar, run the chosen page."""
    st.set_page_config(page_title=labels.APP_TITLE, page_icon=":material/insights:", layout="wide")
    pages = [spec.page(default=index == 0) for index, spec in enumerate(PAGES)]
    chosen = st.navigation(pages)
    spec = next(spec for spec in PAGES if spec.title == chosen.title)

    st.sidebar.title(labels.APP_TITLE)
    selection = filters.render_sidebar(cities_apply=spec.cities_apply, period_applies=spec.period_applies)
    if selection is None:
        return
    if spec.cities_apply and not selection.cities:
        st.warning("Bitte in der Seitenleiste mindestens eine Stadt wählen.")
        return
    filters.remember(selection)
    chosen.run()


main()
