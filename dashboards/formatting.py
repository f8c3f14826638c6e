"""How figures look: German (or English) numbers, and the one rule for suppressed cells.

Suppression is decided by the publisher (`<col>_suppressed` true, value null). This module
decides how that looks, in one place for every page: a suppressed cell is `*` in a table and a
metric, it is left out of charts (with a note saying so), and it is never shown as 0 — a reader
would take a 0 for "nobody", while the truth is "a few people, too few to publish".

The flag wins over the value: if a publisher ever wrote a number next to a true flag, the
dashboard still shows `*`. A null without the flag is a genuinely missing value (say, a median
over nobody) and is shown as `–`, so the two are never confused.

A dashboard-internal flag `<col>_incomplete` marks sums that leave out suppressed cells; they are
shown as lower bounds (`mind. 1.234`). Showing such a sum as exact would let a reader subtract the
published cells and recover the suppressed one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from dashboards.i18n import Language, current, t

SUPPRESSED = "*"
NO_VALUE = "–"
LOWER_BOUND = "mind."
APPROXIMATE = "≈"
SUPPRESSED_SUFFIX = "_suppressed"
INCOMPLETE_SUFFIX = "_incomplete"
LOCAL_TIME = ZoneInfo("Europe/Berlin")

MONTHS_SHORT = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")
MONTHS_LONG = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip
MONTHS_SHORT_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_LONG_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

ColumnKind = Literal["text", "count", "change", "days", "percent", "month", "year", "rate"]
NUMERIC_KINDS: frozenset[str] = frozenset({"count", "change", "days", "percent", "rate"})


@dataclass(frozen=True)
class Column:
    """One column of a displayed table: which release column, its header, and how to show it.

    `decode` turns a code into words for text columns (see `labels`).
    """

    name: str
    label: str
    kind: ColumnKind = "text"
    decode: Callable[[object], str] | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


def suppression_legend(threshold: int = 5, lang: Language | None = None) -> str:
    """The legend under every table or metric group that can contain a `*`."""
    return t(
        f"{SUPPRESSED} = gesperrt: weniger als {threshold} Personen (Geheimhaltung)",
        f"{SUPPRESSED} = suppressed: fewer than {threshold} persons (confidentiality)",
        lang,
    )


def lower_bound_legend(lang: Language | None = None) -> str:
    """The legend for `mind.` values."""
    return t(
        f"{LOWER_BOUND} = Untergrenze: ohne gesperrte Felder gerechnet, der wahre Wert ist höher.",
        f"{lower_bound_word('en')} = lower bound: computed without suppressed cells, the true value is higher.",
        lang,
    )


def lower_bound_word(lang: Language | None = None) -> str:
    return t(LOWER_BOUND, "at least", lang)


def chart_note(omitted: int, threshold: int = 5, lang: Language | None = None) -> str | None:
    """The note under a chart that left out suppressed values, or None when nothing was left out."""
    if omitted <= 0:
        return None
    if (lang or current()) == "en":
        values = "one suppressed value" if omitted == 1 else f"{omitted} suppressed values"
        return (
            f"The chart leaves out {values} (fewer than {threshold} persons, confidentiality); "
            "a missing bar or a gap does not mean 0."
        )
    values = "fehlt ein gesperrter Wert" if omitted == 1 else f"fehlen {omitted} gesperrte Werte"
    return (
        f"Im Diagramm {values} (weniger als {threshold} Personen, Geheimhaltung); "
        "fehlende Balken oder Lücken bedeuten nicht 0."
    )


# --- numbers ----------------------------------------------------------------------------------


def format_count(value: float, *, thousands: bool = True, lang: Language | None = None) -> str:
    """A whole number: 12345 -> `12.345` (German) or `12,345` (English)."""
    number = round(value)
    if not thousands:
        return str(number)
    text = f"{number:,}"
    return text if (lang or current()) == "en" else text.replace(",", ".")


def format_decimal(value: float, digits: int = 1, *, thousands: bool = True, lang: Language | None = None) -> str:
    """A decimal number: 1234.5 -> `1.234,5` (German) or `1,234.5` (English)."""
    english = (lang or current()) == "en"
    if not thousands:
        text = f"{value:.{digits}f}"
        return text if english else text.replace(".", ",")
    text = f"{value:,.{digits}f}"
    return text if english else text.translate(str.maketrans({",": ".", ".": ","}))


def format_percent(share: float, digits: int = 1, *, sign: bool = True, lang: Language | None = None) -> str:
    """A share (0..1) as percent: 0.921 -> `92,1 %` (German) or `92.1%` (English)."""
    text = format_decimal(share * 100, digits, lang=lang)
    if not sign:
        return text
    return f"{text}%" if (lang or current()) == "en" else f"{text} %"


def format_signed_count(value: float, *, thousands: bool = True, lang: Language | None = None) -> str:
    """A change: `+1.234`, `-56`, `0` (a leading `-` makes Streamlit's delta arrow point down)."""
    text = format_count(value, thousands=thousands, lang=lang)
    return f"+{text}" if round(value) > 0 else text


def format_value(value: Any, kind: ColumnKind, *, for_csv: bool = False, lang: Language | None = None) -> str:
    """One cell as text; null becomes `–` on screen and empty in a CSV file.

    For a CSV file numbers lose their thousands separator and a change its `+` (a spreadsheet reads
    `+12` as a formula), so that a spreadsheet in the same language reads them as numbers.
    """
    if _is_null(value):
        return "" if for_csv else NO_VALUE
    if kind in ("count", "days"):
        return format_count(float(value), thousands=not for_csv, lang=lang)
    if kind == "change":
        if for_csv:
            return format_count(float(value), thousands=False, lang=lang)
        return format_signed_count(float(value), lang=lang)
    if kind == "percent":
        return format_percent(float(value), sign=not for_csv, lang=lang)
    if kind == "rate":
        return format_decimal(float(value), 1, thousands=not for_csv, lang=lang)
    if kind == "month":
        return format_month(value, lang)
    if kind == "year":
        return str(int(value))
    return str(value)


def cell_text(
    value: object,
    kind: ColumnKind = "count",
    *,
    suppressed: bool = False,
    incomplete: bool = False,
    lang: Language | None = None,
) -> str:
    """One figure outside a table (a metric), by the same rules as a table cell."""
    if suppressed:
        return SUPPRESSED
    text = format_value(value, kind, lang=lang)
    return f"{lower_bound_word(lang)} {text}" if incomplete and not _is_null(value) else text


# --- dates ------------------------------------------------------------------------------------


def format_month(value: date | datetime | pd.Timestamp, lang: Language | None = None) -> str:
    """`Jun 2016`: short enough for axes, sidebars and table cells."""
    names = MONTHS_SHORT_EN if (lang or current()) == "en" else MONTHS_SHORT
    return f"{names[value.month - 1]} {value.year}"


def format_month_long(value: date | datetime | pd.Timestamp, lang: Language | None = None) -> str:
    """`Juni 2016`: for sentences."""
    names = MONTHS_LONG_EN if (lang or current()) == "en" else MONTHS_LONG
    return f"{names[value.month - 1]} {value.year}"


def format_local_time(value: datetime, lang: Language | None = None) -> str:
    """A UTC timestamp as local time in Germany: `05.07.2016, 08:00 Uhr` or `05/07/2016, 08:00`."""
    local = value.astimezone(LOCAL_TIME)
    return local.strftime("%d/%m/%Y, %H:%M") if (lang or current()) == "en" else local.strftime("%d.%m.%Y, %H:%M Uhr")


# --- tables -----------------------------------------------------------------------------------


def suppressed_mask(frame: pd.DataFrame, column: str) -> pd.Series:
    """True where the publisher suppressed `column` (False when the table has no flag for it)."""
    return _flag(frame, column + SUPPRESSED_SUFFIX)


def has_suppressed(frame: pd.DataFrame, columns: Sequence[Column]) -> bool:
    """Whether any shown numeric cell is suppressed, i.e. whether the legend is needed."""
    return any(bool(suppressed_mask(frame, c.name).any()) for c in columns if c.numeric)


def display_table(
    frame: pd.DataFrame, columns: Sequence[Column], *, for_csv: bool = False, lang: Language | None = None
) -> pd.DataFrame:
    """The table as the reader sees it: headers in words, every cell text, `*` for suppressed cells.

    With `for_csv`, numbers lose the thousands separator (and keep the language's decimal mark), so
    that a spreadsheet in that language reads them as numbers; `*` stays. KPI tables are small
    aggregates (the dashboard shows them filtered), so formatting cell by cell is cheap.
    """
    lang = lang or current()
    shown: dict[str, pd.Series] = {}
    for spec in columns:
        values = frame[spec.name]
        if spec.numeric:
            text = values.map(lambda v, kind=spec.kind: format_value(v, kind, for_csv=for_csv, lang=lang))
            incomplete = _flag(frame, spec.name + INCOMPLETE_SUFFIX) & values.notna()
            text = text.where(~incomplete, lower_bound_word(lang) + " " + text)
            text = text.where(~suppressed_mask(frame, spec.name), SUPPRESSED)
        elif spec.decode is not None:
            decode = spec.decode
            text = values.map(lambda v, decode=decode: NO_VALUE if _is_null(v) else decode(v))
        else:
            text = values.map(lambda v, kind=spec.kind: format_value(v, kind, for_csv=for_csv, lang=lang))
        shown[spec.label] = text.astype(str)
    return pd.DataFrame(shown, index=frame.index).reset_index(drop=True)


# --- charts -----------------------------------------------------------------------------------


def chart_values(frame: pd.DataFrame, measures: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """A copy for plotting: suppressed values become NaN (left out, never 0), as floats.

    Returns the copy and how many suppressed cells were left out, for the chart's note.
    """
    chart = frame.copy()
    omitted = 0
    for measure in measures:
        mask = suppressed_mask(chart, measure)
        omitted += int(mask.sum())
        chart[measure] = chart[measure].astype("Float64").where(~mask).astype("float64")
    return chart, omitted


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(False, index=frame.index, dtype=bool)
    return frame[column].astype("boolean").fillna(False).astype(bool)


def _is_null(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)
