"""Per-row contract checks, done column by column on the whole delivery (vectorised).

Each failed check names the row, the field and the reason. A row with any problem
goes to quarantine as a whole; the other rows load. Values of identifying fields
never appear in a reason (they would leak into the warehouse through quarantine).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pipelines.ingest.contract import Column, Contract
from pipelines.ingest.readers import RowProblem

EARLIEST_PLAUSIBLE = pd.Timestamp("1900-01-01")
REDACTED = "<redacted>"


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


def parse_dates(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Parse with the first format that fits each value; NaT where none does."""
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    for fmt in formats or ("%Y-%m-%d",):
        todo = result.isna() & (values != "")
        if not todo.any():
            break
        result.loc[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce")
    return result


def birth_date_placeholders(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(year, is_placeholder) for registers' unknown-day conventions 00.00.yyyy and 01.01.yyyy.

    01 January is what registers record when only the year is known, so it is read as
    "day unknown" rather than as a real birthday: two records that both say 01.01.1990
    must not count as agreeing on a birth date.
    """
    german = values.str.extract(r"^(?P<d>\d{2})\.(?P<m>\d{2})\.(?P<y>\d{4})$")
    iso = values.str.extract(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$")
    parts = german.fillna(iso)
    placeholder = parts["d"].isin(["00", "01"]) & parts["m"].isin(["00", "01"])
    year = pd.to_numeric(parts["y"], errors="coerce")
    return year, placeholder.fillna(False)


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
        if column.required:
            flag(empty, column, "required field is empty")
        if column.pattern:
            flag(~empty & ~values.str.fullmatch(column.pattern), column, f"does not match {column.pattern}")
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
