"""The simulated population resembles the three cities of the 2016/2017 interview (DOMAIN.md)."""

from __future__ import annotations

import pandas as pd
import pytest


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(frame[column].replace("", None))


def test_city_shares_follow_the_refugee_counts(calibration_city):
    shares = calibration_city.persons["city"].value_counts(normalize=True)
    assert shares["wuppertal"] == pytest.approx(10_000 / 16_600, abs=0.005)
    assert shares["solingen"] == pytest.approx(2_600 / 16_600, abs=0.005)
    assert shares["muelheim"] == pytest.approx(4_000 / 16_600, abs=0.005)


def test_population_is_young_and_two_thirds_male(calibration_city):
    persons = calibration_city.persons
    age = (_dates(persons, "arrival_date") - _dates(persons, "birth_date")).dt.days / 365.25
    assert (age < 35).mean() == pytest.approx(0.79, abs=0.04)
    assert (persons["sex"] == "m").mean() == pytest.approx(2 / 3, abs=0.04)


def test_syria_leads_the_origins_and_eu_immigrants_are_about_eight_percent(calibration_city):
    persons = calibration_city.persons
    top = persons["nationality"].value_counts().index[:4].tolist()
    assert top[0] == "SYR" and {"IRQ", "AFG"} <= set(top)
    eu = persons["eu_free_movement"] == "True"
    assert eu.mean() == pytest.approx(0.08, abs=0.01)
    assert set(persons.loc[eu, "nationality"]) == {"ROU", "BGR"}
    assert (persons.loc[eu, "asylum_pending_date"] == "").all()
    assert (persons.loc[eu, "asylblg_end_date"] == "").all()


def test_about_seventy_percent_of_decided_claims_are_recognised(calibration_city):
    decision = calibration_city.persons["asylum_decision"]
    decided = decision[decision.isin(["AE", "DULD"])]
    assert (decided == "AE").mean() == pytest.approx(0.72, abs=0.06)


def test_most_recognised_adults_reach_sgb2_soon_after_asylblg_ends(calibration_city):
    persons = calibration_city.persons
    recognised = _dates(persons, "recognition_date")
    adult = (recognised - _dates(persons, "birth_date")).dt.days >= 18 * 365.25 + 30
    settled = (persons["asylum_decision"] == "AE") & adult & (recognised < "2016-06-30")
    reached = persons.loc[settled, "sgb2_entry_date"] != ""
    assert reached.mean() == pytest.approx(0.85, abs=0.06)
    gap = (_dates(persons, "sgb2_entry_date") - _dates(persons, "asylblg_end_date")).dt.days.dropna()
    assert (gap <= 60).mean() > 0.8
    assert (gap > 60).any()  # the tail: people who fall through the gap


def test_far_from_market_profiles_dominate_among_refugees(calibration_city):
    jc = calibration_city.jobcenter
    refugees = jc[(jc["ereignis"] == "PROFILING") & ~jc["staatsangehoerigkeit"].isin(["ROU", "BGR"])]
    far = refugees["profillage"].isin(["EP", "SP", "UP"]).mean()
    assert far == pytest.approx(0.92, abs=0.04)


def test_unaccompanied_minors_are_two_to_three_percent_and_aged_14_to_17(calibration_city):
    persons = calibration_city.persons
    umf = persons[persons["unaccompanied_minor"] == "True"]
    assert 0.02 <= len(umf) / len(persons) <= 0.03
    age = (_dates(umf, "arrival_date") - _dates(umf, "birth_date")).dt.days / 365.25
    assert age.between(14, 18).all()
    ja = calibration_city.jugendamt
    assert (ja.loc[ja["umF"] == "ja", "Hilfeart"] == "INOBHUTNAHME").sum() >= len(umf) * 0.8


def test_families_share_name_address_and_household_number(calibration_city):
    persons = calibration_city.persons
    truth = calibration_city.truth_records.set_index("record_id")["person_id"]
    jc = calibration_city.jobcenter.drop_duplicates("kundennummer")
    household_of = persons.set_index("person_id")["household_id"]
    # A household that moved gets a new Bedarfsgemeinschaft in the new city, so compare within a city.
    jc = jc.assign(household=jc["kundennummer"].map(truth).map(household_of), office=jc["kundennummer"].str[:3])
    families = jc.groupby(["household", "office"]).filter(lambda g: g["kundennummer"].nunique() > 1)
    assert families["household"].nunique() > 20
    per_family = families.groupby(["household", "office"])
    assert (per_family["bg_nummer"].nunique() == 1).all()
    assert (per_family["plz"].nunique() == 1).all()
    # Most families appear under one spelling of their name at the immigration office (noise aside).
    abh = calibration_city.abh.drop_duplicates("Aktenzeichen")
    abh = abh.assign(household=abh["Aktenzeichen"].map(truth).map(household_of))
    per_household = abh.groupby(["household", "Ort"]).agg(records=("Aktenzeichen", "size"),
                                                           spellings=("Familienname", "nunique"))
    families_abh = per_household[per_household["records"] > 1]
    assert (families_abh["spellings"] < families_abh["records"]).mean() > 0.8
