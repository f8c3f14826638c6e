"""Monthly deliveries: an initial load, then what was recorded each month, corrections re-sent."""

from __future__ import annotations

import pandas as pd


def _month_of(file_name: str) -> str:
    digits = "".join(ch for ch in file_name if ch.isdigit())
    return f"{digits[:4]}-{digits[4:6]}"


def test_the_first_delivery_is_an_initial_load_with_earlier_history(small_city):
    abh = small_city.abh
    first = abh[abh["file"].str.endswith("201601.csv")]
    valid_from = pd.to_datetime(first["Gueltig_ab"], format="%d.%m.%Y")
    assert (valid_from < "2015-01-01").any()
    later = abh[~abh["file"].str.endswith("201601.csv")]
    assert len(first) > 3 * len(later) / 2  # a history of two years against two single months


def test_later_deliveries_carry_what_was_recorded_that_month(small_city):
    jc = small_city.jobcenter.assign(month=lambda d: d["file"].map(_month_of))
    first_seen = jc.groupby("ereignis_id")["month"].transform("min")
    new = jc[(jc["month"] == first_seen) & (jc["month"] > "2016-01")]
    assert len(new) > 0
    event = pd.to_datetime(new["ereignis_datum"])
    month_start = pd.to_datetime(new["month"] + "-01")
    month_end = month_start + pd.offsets.MonthEnd(0)
    assert (event <= month_end).all()
    # Recorded with a lag of at most about two and a half months.
    assert (event >= month_start - pd.Timedelta(days=80)).all()


def test_nothing_is_delivered_from_after_the_period(calibration_city):
    assert (pd.to_datetime(calibration_city.jobcenter["ereignis_datum"]) <= "2016-12-31").all()
    assert (pd.to_datetime(calibration_city.abh["Gueltig_ab"], format="%d.%m.%Y") <= "2016-12-31").all()
    ja = calibration_city.jugendamt
    assert (ja["Beginn"] <= pd.Timestamp("2016-12-31")).all()


def test_corrections_resend_the_same_row_id_with_a_fixed_name_or_birth_date(calibration_city):
    abh = calibration_city.abh.assign(month=lambda d: d["file"].map(_month_of))
    versions = abh.groupby("Vorgangsnr")["month"].nunique()
    resent = abh[abh["Vorgangsnr"].isin(versions[versions > 1].index)].sort_values(["Vorgangsnr", "month"])
    assert len(resent) > 0
    first = resent.drop_duplicates("Vorgangsnr", keep="first").set_index("Vorgangsnr")
    last = resent.drop_duplicates("Vorgangsnr", keep="last").set_index("Vorgangsnr")
    changed = (first[["Familienname", "Vornamen", "Geburtsdatum"]] != last[["Familienname", "Vornamen",
                                                                          "Geburtsdatum"]]).any(axis=1)
    assert changed.all()
    fixed_dates = first["Geburtsdatum"] != last["Geburtsdatum"]
    assert fixed_dates.any()
    assert first.loc[fixed_dates, "Geburtsdatum"].str.match(r"^(00\.00|01\.01)\.").all()
    # The share stays small: most rows are sent exactly once.
    assert len(versions[versions > 1]) < 0.1 * len(versions)


def test_jobcenter_corrections_keep_the_event_and_change_the_person_data(calibration_city):
    jc = calibration_city.jobcenter.assign(month=lambda d: d["file"].map(_month_of))
    counts = jc.groupby("ereignis_id")["month"].nunique()
    resent = jc[jc["ereignis_id"].isin(counts[counts > 1].index)]
    assert len(resent) > 0
    per_id = resent.groupby("ereignis_id").agg({"ereignis": "nunique", "ereignis_datum": "nunique",
                                                "nachname": "nunique", "vorname": "nunique",
                                                "geburtsdatum": "nunique"})
    assert (per_id["ereignis"] == 1).all() and (per_id["ereignis_datum"] == 1).all()
    assert (per_id[["nachname", "vorname", "geburtsdatum"]].max(axis=1) > 1).all()


def test_youth_office_episodes_reappear_when_they_end(calibration_city):
    ja = calibration_city.jugendamt.assign(month=lambda d: d["file"].map(_month_of))
    ja = ja.sort_values(["Fall-Nr", "Lfd-Nr", "month"])
    first = ja.drop_duplicates(["Fall-Nr", "Lfd-Nr"], keep="first").set_index(["Fall-Nr", "Lfd-Nr"])
    last = ja.drop_duplicates(["Fall-Nr", "Lfd-Nr"], keep="last").set_index(["Fall-Nr", "Lfd-Nr"])
    ended_later = first["Ende"].isna() & last["Ende"].notna()
    assert ended_later.sum() > 5
    assert first.loc[ended_later, "Anschluss"].isna().all()
    # The last episode of a help carries where the young person went next.
    finals = last[ended_later & last["Hilfeart"].isin(["HZE", "HJV"])]
    assert finals["Anschluss"].notna().all()
