"""Calendar arithmetic on integer day numbers, and fast date formatting.

The simulation keeps every date as an ``int64`` count of days since 1970-01-01 so
that whole columns can be shifted, compared and bucketed into delivery months with
numpy. ``NEVER`` marks "does not happen"; it sorts after every real date, so
``date <= period.end`` filters it out without a separate mask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

NEVER = 10_000_000  # about the year 29,000: later than any simulated date
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def uniform_days(rng: np.random.Generator, lo: int | np.ndarray, hi: int | np.ndarray, n: int) -> np.ndarray:
    """Integer day offsets uniform in [lo, hi]."""
    lo = np.asarray(lo)
    hi = np.asarray(hi)
    return (lo + np.floor(rng.random(n) * (hi - lo + 1))).astype(np.int64)


def day(iso: str) -> int:
    """Day number of an ISO date string (``YYYY-MM-DD``)."""
    return int(np.datetime64(iso, "D").astype(np.int64))


def month_number(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each day number (NEVER maps to a far-future month)."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_first_day(months: np.ndarray) -> np.ndarray:
    """Day number of the first day of each month number."""
    return np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def month_last_day(days: np.ndarray) -> np.ndarray:
    """Day number of the last day of the month containing each day."""
    return month_first_day(month_number(days) + 1) - 1


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def add_years(days: np.ndarray, years: int) -> np.ndarray:
    """The same calendar day ``years`` later (29 February becomes 1 March), e.g. an 18th birthday."""
    d = np.asarray(days, dtype=np.int64)
    month_start = d.astype("datetime64[D]").astype("datetime64[M]")
    day_in_month = d - month_start.astype("datetime64[D]").astype(np.int64)
    shifted = (month_start + 12 * years).astype("datetime64[D]").astype(np.int64) + day_in_month
    return np.where(d >= NEVER, NEVER, shifted)


@dataclass(frozen=True)
class Period:
    """The delivery period: ``months`` monthly deliveries starting with ``start`` (``YYYY-MM``)."""

    start: str
    months: int

    def __post_init__(self) -> None:
        match = _MONTH_RE.match(self.start)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"start month must look like 2016-01, got {self.start!r}")
        if self.months < 1:
            raise ValueError(f"months must be at least 1, got {self.months}")

    @property
    def first_month(self) -> int:
        """Month number (months since 1970-01) of the first delivery."""
        return int(np.datetime64(self.start, "M").astype(np.int64))

    @property
    def start_day(self) -> int:
        return int(month_first_day(np.array([self.first_month]))[0])

    @property
    def end_day(self) -> int:
        """Last day of the last delivery month: nothing later is delivered."""
        return int(month_first_day(np.array([self.first_month + self.months]))[0]) - 1

    @property
    def labels(self) -> list[str]:
        """``YYYY-MM`` of each delivery month, in order."""
        months = np.arange(self.first_month, self.first_month + self.months).astype("datetime64[M]")
        return [str(m) for m in months]

    def delivery_index(self, days: np.ndarray) -> np.ndarray:
        """Index of the delivery that carries something recorded on ``days``.

        Everything recorded before the first month goes into the initial load (index 0);
        indexes at or beyond ``months`` are not delivered within the period.
        """
        return np.maximum(month_number(days) - self.first_month, 0)


class DateFormatter:
    """Formats day numbers as text through a lookup table built once per range.

    ``strftime`` per value would dominate the run time at a million persons;
    indexing a pre-formatted table is a single numpy take.
    """

    def __init__(self, lo: int, hi: int) -> None:
        self._lo = int(lo)
        days = np.arange(self._lo, int(hi) + 1).astype("datetime64[D]")
        iso = np.datetime_as_string(days, unit="D").astype(object)
        self._iso = np.append(iso, "")
        self._german = np.append(np.array([f"{s[8:10]}.{s[5:7]}.{s[0:4]}" for s in iso], dtype=object), "")
        self._missing = len(iso)

    def _index(self, days: np.ndarray) -> np.ndarray:
        d = np.asarray(days, dtype=np.int64)
        idx = d - self._lo
        out_of_range = (idx < 0) | (idx >= self._missing)
        if np.any(out_of_range & (d < NEVER)):
            raise ValueError("a date lies outside the formatter's range; widen the range")
        return np.where(out_of_range, self._missing, idx)

    def iso(self, days: np.ndarray) -> np.ndarray:
        """``yyyy-mm-dd``; NEVER becomes an empty string."""
        return self._iso[self._index(days)]

    def german(self, days: np.ndarray) -> np.ndarray:
        """``dd.mm.yyyy``; NEVER becomes an empty string."""
        return self._german[self._index(days)]
