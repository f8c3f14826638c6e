"""Per-row contract checks, done column by column on the whole delivery (vectorised).

Each failed check names the row, the field and the reason. A row with any problem
goes to quarantine as a whole; the other rows load. Values of identifying fields
never appear in a reason (they would leak into the warehouse through quarantine).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from pipelines.ingest.contract import Column, Contract
from pipelines.ingest.readers import RowProblem

EARLIEST_PLAUSIBLE = pd.Timestamp("1900-01-01")
REDACTED = "<redacted>"
# No field of any contract comes near this; a longer value is a broken export (or an attack), not data.
MAX_FIELD_CHARS = 1000
# Control characters (NUL, line breaks, ...) do not occur in any field of a clean export; tab is tolerated.
CONTROL_CHARACTERS = r"[\x00-\x08\x0a-\x1f\x7f]"


@dataclass
class Checked:
    """Rows that passed, their parsed values, and the problems of those that did not."""

    good: pd.DataFrame  # the passing rows, string columns as delivered (stripped)
    parsed_dates: dict[str, pd.Series]  # date column -> datetime64 (NaT where empty)
    birth_precision: pd.Series | None  # 'day' / 'year' / 'unknown' for the good rows
    problems: list[RowProblem]


def _display(column: Column, value: str) -> str:
    return REDACTED if column.is_secret else value[:80]


def human_formats(formats: tuple[str, ...]) -> str:
    """'%d.%m.%Y' -> 'dd.mm.yyyy', as a clerk would write it."""
    names = {"%d": "dd", "%m": "mm", "%Y": "yyyy"}
    readable = []
    for fmt in formats:
        for code, name in names.items():
            fmt = fmt.replace(code, name)
        readable.append(fmt)
    return " or ".join(readable)


_FORMAT_PARTS = {"%d": "[0-9]{1,2}", "%m": "[0-9]{1,2}", "%Y": "[0-9]{4}"}


def _format_regex(fmt: str) -> str:
    """'%d.%m.%Y' -> the strict shape of such a date: ASCII digits only, day and month 1-2 digits."""
    pattern, i = "", 0
    while i < len(fmt):
        part = fmt[i:i + 2]
        if part in _FORMAT_PARTS:
            pattern += _FORMAT_PARTS[part]
            i += 2
        else:
            pattern += re.escape(fmt[i])
            i += 1
    return pattern


def parse_dates(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Parse with the first format that fits each value; NaT where none does.

    Deliberately strict, and the same for every value: the contract's layout in ASCII digits
    (a shape check first, since a lenient parser takes other scripts' digits and stray spaces)
    and a day that exists in its month (31.02. and month 13 are not dates). Anything else is
    left unparsed for the row check to quarantine. Years 1..9999 parse, so that a date far in
    the future is reported as such rather than as unreadable.
    """
    text = values.astype("string")
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    for fmt in formats or ("%Y-%m-%d",):
        todo = result.isna() & _matches(text, _format_regex(fmt))
        if todo.any():
            parsed = pd.to_datetime(text[todo].astype(object), format=fmt, errors="coerce")
            result.loc[todo] = parsed.astype("datetime64[s]")
    return result


_GERMAN_DATE = r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}"
_ISO_DATE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
_GERMAN_PLACEHOLDER = r"0?[01]\.0?[01]\.[0-9]{4}"  # day and month each 0, 00, 1 or 01
_ISO_PLACEHOLDER = r"[0-9]{4}-0?[01]-0?[01]"


def _matches(text: pd.Series, pattern: str) -> pd.Series:
    """Whole-value regex match as plain booleans (vectorised on Arrow-backed strings)."""
    return text.str.fullmatch(pattern).fillna(False).astype(bool)


def birth_date_placeholders(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(year, is_placeholder) for registers' unknown-day conventions 00.00.yyyy and 01.01.yyyy.

    01 January is what registers record when only the year is known, so it is read as
    "day unknown" rather than as a real birthday: two records that both say 01.01.1990
    must not count as agreeing on a birth date. ``1.1.1990`` is the same placeholder.
    """
    text = values.astype("string")
    german, iso = _matches(text, _GERMAN_DATE), _matches(text, _ISO_DATE)
    placeholder = (german & _matches(text, _GERMAN_PLACEHOLDER)) | (iso & _matches(text, _ISO_PLACEHOLDER))
    year_text = text.str.slice(-4).where(german, text.str.slice(0, 4).where(iso))
    year = pd.to_numeric(year_text, errors="coerce").astype("Int64")
    return year, placeholder


def check_rows(frame: pd.DataFrame, contract: Contract, delivery_month_end: dt.date) -> Checked:
    text = frame[contract.column_names].apply(lambda s: s.astype("string").fillna("").str.strip())
    rows = frame["source_row"]
    problems: list[RowProblem] = []
    bad = pd.Series(False, index=frame.index)
    latest = pd.Timestamp(delivery_month_end)

    def flag(mask: pd.Series, column: Column, reason: str) -> None:
        nonlocal bad
        mask = mask.fillna(False)
        if not mask.any():
            return
        bad |= mask
        problems.extend(
            RowProblem(int(r), column.name, reason, _display(column, v))
            for r, v in zip(rows[mask], text.loc[mask, column.name], strict=True)
        )

    parsed_dates: dict[str, pd.Series] = {}
    birth_precision: pd.Series | None = None
    for column in contract.columns:
        values = text[column.name]
        empty = values == ""
        flag(values.str.len() > MAX_FIELD_CHARS, column, f"value is longer than {MAX_FIELD_CHARS} characters")
        damaged = values.str.contains(CONTROL_CHARACTERS, regex=True).fillna(False).astype(bool)
        if damaged.any():  # rare: only then is it worth finding out which character it is
            control = values[damaged].str.extract(f"({CONTROL_CHARACTERS})", expand=False)
            for char in control.dropna().unique():
                flag((control == char).reindex(values.index, fill_value=False), column,
                     f"contains the control character 0x{ord(char):02x} (a damaged export)")
        if column.required:
            flag(empty, column, "required field is empty")
        if column.pattern:
            # A contract's \d means 0-9, not every script's digits (as Python's re would have it).
            ascii_pattern = column.pattern.replace(r"\d", "[0-9]")
            flag(~empty & ~_matches(values, ascii_pattern), column, f"does not match {column.pattern}")
        if column.codes is not None and column.type != "date":
            allowed = ", ".join(column.codes)
            flag(~empty & ~values.isin(list(column.codes)), column, f"unknown code (allowed: {allowed})")
        if column.role == "birth_date":
            year, placeholder = birth_date_placeholders(values)
            parsed = parse_dates(values, column.formats)
            unparseable = ~empty & parsed.isna() & ~(placeholder & year.notna())
            flag(unparseable, column, f"not a valid date (expected {human_formats(column.formats)})")
            flag(~empty & ((parsed > latest) | (year > latest.year)), column, "birth date lies in the future")
            flag(~empty & (year < EARLIEST_PLAUSIBLE.year), column, "birth year before 1900")
            parsed_dates[column.name] = parsed.where(~placeholder)
            birth_precision = pd.Series("day", index=frame.index).where(~placeholder, "year").where(~empty,
                                                                                                    "unknown")
            parsed_dates[column.name + "__year"] = year
        elif column.type == "date":
            parsed = parse_dates(values, column.formats)
            flag(~empty & parsed.isna(), column, f"not a valid date (expected {human_formats(column.formats)})")
            flag(parsed > latest, column, f"date lies after the delivery month (after {latest.date()})")
            flag(parsed < EARLIEST_PLAUSIBLE, column, "date before 1900")
            parsed_dates[column.name] = parsed
    event_id = contract.by_role("event_id")
    if event_id is not None:
        keys = text[event_id.name]
        if contract.event_id_within_record:
            keys = text[contract.by_role("record_id").name] + "|" + keys
        first_row = rows.groupby(keys).transform("min")
        duplicate = (keys.duplicated(keep="first") & (keys != "")).fillna(False)
        if duplicate.any():
            bad |= duplicate
            problems.extend(
                RowProblem(int(r), event_id.name, f"duplicate record id in this delivery (first in row {f})",
                           REDACTED)
                for r, f in zip(rows[duplicate], first_row[duplicate], strict=True)
            )
    good_mask = ~bad
    good = text.loc[good_mask].copy()
    good["source_row"] = rows[good_mask]
    return Checked(
        good=good,
        parsed_dates={k: v[good_mask] for k, v in parsed_dates.items()},
        birth_precision=None if birth_precision is None else birth_precision[good_mask],
        problems=problems,
    )
