"""Entry point of the steering group's dashboard: `streamlit run dashboards/app.py`.

This file is the frame around every page: it asks who is there (login), registers the pages that
person's roles allow, draws the sidebar (language, release, cities, period, group of people, the
monthly report), writes the page view to the audit log and then runs the chosen page. Streamlit
runs it on every interaction.

The pages live in `views/`, not `pages/`: Streamlit treats a `pages/` folder next to the entry
script as an old-style multipage app and, on a fresh server's first request, runs a deep-linked
page file *without* this frame (and AppTest does so on every run). `views/` avoids that. A page a
person may not see is not registered at all, so neither the menu nor a deep link reaches it; the
steward pages check the role again themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards import audit, components, filters, i18n, labels, login, report
from dashboards.access import STEERING, STEWARD, SignedInUser
from dashboards.i18n import t

VIEWS = Path(__file__).parent / "views"
_LAST_VIEW_KEY = "_zuletzt_protokolliert"
REPORT_KEY = "monatsbericht"


@dataclass(frozen=True)
class PageSpec:
    """A page of the dashboard, who may see it, and which sidebar filters apply to it."""

    file: str
    title: tuple[str, str]
    icon: str
    roles: frozenset[str]
    cities_apply: bool = True
    period_applies: bool = True
    groups_apply: bool = False

    def page(self, *, default: bool = False) -> st.Page:
        # url_path stays German and fixed, so that links survive the language switch.
        return st.Page(
            VIEWS / self.file,
            title=labels.words(self.title),
            icon=self.icon,
            default=default,
            url_path=self.file.removesuffix(".py"),
        )


FIGURES = frozenset({STEERING})
QUALITY = frozenset({STEWARD})
EVERYONE: frozenset[str] = frozenset()

# One page per question, in the order a steering group walks through them.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("ueberblick.py", ("Überblick", "Overview"), ":material/dashboard:", FIGURES, groups_apply=True),
    PageSpec("zustaendigkeiten.py", ("Zuständigkeiten", "Responsibilities"), ":material/account_tree:", FIGURES),
    PageSpec("uebergaenge.py", ("Übergänge", "Transitions"), ":material/swap_horiz:", FIGURES, groups_apply=True),
    PageSpec(
        "wege_sprache_arbeit.py",
        ("Wege in Sprache und Arbeit", "Paths to language and work"),
        ":material/school:",
        FIGURES,
        period_applies=False,
    ),
    PageSpec("junge_gefluechtete.py", ("Junge Geflüchtete", "Young refugees"), ":material/child_care:", FIGURES),
    PageSpec(
        "staedtevergleich.py",
        ("Städtevergleich", "City comparison"),
        ":material/location_city:",
        FIGURES,
        groups_apply=True,
    ),
    PageSpec("arbeitsmarktprofile.py", ("Arbeitsmarktprofile", "Labour-market profiles"), ":material/work:", FIGURES),
    PageSpec(
        "datenqualitaet.py",
        ("Datenqualität", "Data quality"),
        ":material/fact_check:",
        QUALITY,
        cities_apply=False,
        period_applies=False,
    ),
    PageSpec(
        "pruefung.py",
        ("Klärfälle", "Clerical review"),
        ":material/rule:",
        QUALITY,
        cities_apply=False,
        period_applies=False,
    ),
    PageSpec(
        "methodik.py",
        ("Methodik", "Method"),
        ":material/menu_book:",
        EVERYONE,
        cities_apply=False,
        period_applies=False,
    ),
)


def allowed_pages(user: SignedInUser) -> list[PageSpec]:
    """The pages this person's roles open, in menu order."""
    return [spec for spec in PAGES if user.may(spec.roles)]


def main() -> None:
    """Log in, register the allowed pages, draw the sidebar, log the view, run the chosen page."""
    st.set_page_config(page_title=labels.app_title(), page_icon=":material/insights:", layout="wide")
    user = login.require_login()
    if user is None:
        return
    specs = allowed_pages(user)
    pages = [spec.page(default=index == 0) for index, spec in enumerate(specs)]
    chosen = st.navigation(pages)
    # The default page's url_path is empty, so the page is found by its (current-language) title.
    spec = next(spec for spec, page in zip(specs, pages, strict=True) if page.title == chosen.title)
    st.session_state[components.PAGE_KEY] = spec.file.removesuffix(".py")
    st.session_state[components.EXPORTS_KEY] = {}

    st.sidebar.title(labels.app_title())
    i18n.language_switch()
    selection = filters.render_sidebar(
        cities_apply=spec.cities_apply, period_applies=spec.period_applies, groups_apply=spec.groups_apply
    )
    login.logout_button(user)
    if selection is None:
        return
    if spec.cities_apply and not selection.cities:
        st.warning(t("Bitte in der Seitenleiste mindestens eine Stadt wählen.", "Please choose at least one city."))
        return
    filters.remember(selection)
    log_view(user, spec, selection)
    if user.may(FIGURES):
        monthly_report_button(selection)
    chosen.run()


def log_view(user: SignedInUser, spec: PageSpec, selection: filters.Selection) -> None:
    """Write a page view to the audit log when the page, release or filters changed (not on every rerun)."""
    view = (spec.file, selection.release.release_id, repr(selection.audit_filters()))
    if st.session_state.get(_LAST_VIEW_KEY) == view:
        return
    audit.record(
        "view",
        user=user.login,
        auth=user.method,
        release=selection.release.release_id,
        page=spec.file.removesuffix(".py"),
        details={"filters": selection.audit_filters()},
    )
    st.session_state[_LAST_VIEW_KEY] = view


def monthly_report_button(selection: filters.Selection) -> None:
    """One click: the PDF monthly report of the main pages for the chosen month, cities and group."""
    month = selection.reference_month
    if month is None:
        return
    lang = i18n.current()
    export = components.register_export(
        REPORT_KEY,
        "pdf",
        f"{t('monatsbericht', 'monthly-report')}_{month:%Y-%m}_{selection.release.release_id}.pdf",
        report.PDF_MIME,
        lambda: report.monthly_report(selection, lang),
        selection,
    )
    st.sidebar.download_button(
        t("Monatsbericht (PDF)", "Monthly report (PDF)"),
        data=export,
        file_name=export.file_name,
        mime=report.PDF_MIME,
        key=f"pdf-{REPORT_KEY}",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        help=t(
            "Überblick, Städtevergleich, Übergänge, Wege und Junge Geflüchtete für den Stichmonat, "
            "mit Legende – für die Sitzung der Lenkungsgruppe.",
            "Overview, city comparison, transitions, paths and young refugees for the month, with legend.",
        ),
    )


main()
