"""Calendar helpers behind delivery months and birthdays."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.synthetic.dates import NEVER, DateFormatter, Period, add_years, day


def test_period_months_and_last_day():
    period = Period("2016-11", 3)
    assert period.labels == ["2016-11", "2016-12", "2017-01"]
    assert period.end_day == day("2017-01-31")
    index = period.delivery_index(np.array([day("2015-03-02"), day("2016-12-31"), day("2017-02-01")]))
    assert index.tolist() == [0, 1, 3]


@pytest.mark.parametrize("start", ["2016-13", "16-01", "2016-1"])
def test_malformed_start_months_are_rejected(start):
    with pytest.raises(ValueError, match=start):
        Period(start, 12)


def test_eighteenth_birthday_of_a_leap_day_child_and_never_stays_never():
    born = np.array([day("2000-02-29"), day("1999-06-15"), NEVER])
    assert add_years(born, 18).tolist() == [day("2018-03-01"), day("2017-06-15"), NEVER]


def test_formatter_writes_german_and_iso_dates_and_empty_for_never():
    fmt = DateFormatter(day("2000-01-01"), day("2020-12-31"))
    days = np.array([day("2016-03-07"), NEVER])
    assert fmt.german(days).tolist() == ["07.03.2016", ""]
    assert fmt.iso(days).tolist() == ["2016-03-07", ""]
