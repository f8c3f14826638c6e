"""German first, English on request: the one switch between the two languages of the dashboard.

Every text on screen is written where it is used as `t("Deutsch", "English")`, so a reader of a page
sees both wordings side by side and no key file drifts away from the code. The language is a
per-session choice (sidebar); code that runs outside a Streamlit session (exports generated on
click, the benchmark, the PDF report) passes the language explicitly.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

Language = Literal["de", "en"]
LANGUAGE_KEY = "sprache"
DEFAULT: Language = "de"
LANGUAGES: dict[Language, str] = {"de": "Deutsch", "en": "English"}


def current() -> Language:
    """The session's language; German outside a running session (a thread, a test of a function)."""
    try:
        value = st.session_state.get(LANGUAGE_KEY, DEFAULT)
    except Exception:  # no script run context: not inside a session
        return DEFAULT
    return "en" if value == "en" else "de"


def t(de: str, en: str, lang: Language | None = None) -> str:
    """The text in the session's (or the given) language."""
    return en if (lang or current()) == "en" else de


def language_switch() -> None:
    """The sidebar switch; it keeps its value across pages because it is drawn on every run."""
    st.sidebar.segmented_control(
        "Sprache / Language",
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        default=DEFAULT,
        key=LANGUAGE_KEY,
        selection_mode="single",
        required=True,
        label_visibility="collapsed",
    )
