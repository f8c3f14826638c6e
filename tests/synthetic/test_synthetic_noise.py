"""Noise: placeholder dates, transliterations, missing AZR numbers, duplicates, moves."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pipelines.synthetic import PROFILES, generate
from pipelines.synthetic.names import NAMES, typo


def test_name_table_has_at_least_thirty_families_with_variants_all_in_windows_1252():
    with_variants = int((NAMES.n_variants > 1).sum())
    assert with_variants >= 30
    for spelling in NAMES.spellings:
        spelling.encode("cp1252")
    for family in (("Mohammed", "Muhammad"), ("Al-Hassan", "El Hasan"), ("Fatima", "Fatma")):
        start = NAMES.offset[NAMES.family_index[family[0]]]
        assert family[1] in NAMES.spellings[start:start + NAMES.n_variants[NAMES.family_index[family[0]]]]


@pytest.mark.parametrize("operation", [0, 1, 2, 3])
def test_a_typo_changes_the_name_but_keeps_its_first_letter(operation):
    for name in ("Mohammed", "Al-Hassan", "Yordanos", "Ali"):
        for position in (0.0, 0.5, 0.99):
            result = typo(name, operation, position, 0.3)
            assert result != name
            assert result[0] == name[0]


def test_placeholder_birth_dates_occur_in_each_agencys_format(calibration_city):
    abh_births = calibration_city.abh["Geburtsdatum"]
    assert abh_births.str.startswith("00.00.").sum() > 0
    assert abh_births.str.startswith("01.01.").sum() > 0
    jc = calibration_city.jobcenter.drop_duplicates("kundennummer")
    assert 0.10 < jc["geburtsdatum"].str.endswith("-01-01").mean() < 0.35
    persons = calibration_city.persons.set_index("person_id")
    truth = calibration_city.truth_records.set_index("record_id")["person_id"]
    # A placeholder hides a real date that the truth (and sometimes another agency) knows.
    hidden = jc[jc["geburtsdatum"].str.endswith("-01-01")]
    real = persons.loc[hidden["kundennummer"].map(truth), "birth_date"]
    assert (~real.str.endswith("-01-01")).sum() > 0


def test_azr_numbers_are_often_missing_outside_the_immigration_office(calibration_city):
    jc = calibration_city.jobcenter.drop_duplicates("kundennummer")
    ja = calibration_city.jugendamt.drop_duplicates("Fall-Nr")
    assert 0.2 < (jc["azr_nummer"] == "").mean() < 0.4
    assert 0.45 < ja["AZR"].isna().mean() < 0.75
    assert (calibration_city.abh["AZR-Nr"] != "").all()


def test_mistyped_azr_numbers_differ_from_the_true_one(calibration_city):
    truth = calibration_city.truth_records
    typos = truth[truth["noise"].str.contains("azr_typo") & (truth["agency"] == "jobcenter")]
    assert len(typos) > 0
    persons = calibration_city.persons.set_index("person_id")["azr_number"]
    jc = calibration_city.jobcenter.drop_duplicates("kundennummer").set_index("kundennummer")
    written = jc.loc[typos["record_id"], "azr_nummer"].to_numpy()
    true = persons.loc[typos["person_id"]].to_numpy()
    assert (written != true).all()
    assert all(re.fullmatch(r"\d{12}", w) for w in written)


def test_duplicates_are_one_person_under_two_ids_in_the_same_agency_and_city(calibration_city):
    truth = calibration_city.truth_records
    duplicates = truth[truth["noise"].str.contains("duplicate")]
    assert len(duplicates) > 0
    sizes = duplicates.groupby(["agency", "city", "person_id"]).size()
    assert (sizes == 2).all()


def test_movers_get_a_new_file_in_the_new_city_with_the_same_azr_and_fortzug_in_the_old(calibration_city):
    persons = calibration_city.persons
    truth = calibration_city.truth_records
    abh = calibration_city.abh
    moved = truth[(truth["agency"] == "abh") & truth["noise"].str.contains("moved_city")]
    assert moved["person_id"].nunique() > 0.02 * len(persons)
    per_person = moved.groupby("person_id")["city"].nunique()
    assert (per_person == 2).all()
    # FORTZUG is recorded with a lag like any row, so look at moves well before the period end.
    early = persons.set_index("person_id").loc[per_person.index]
    sample = early[early["move_date"] < "2016-10-01"].head(50)
    assert len(sample) > 10
    for person_id, row in sample.iterrows():
        ids = moved.loc[moved["person_id"] == person_id, "record_id"]
        rows = abh[abh["Aktenzeichen"].isin(ids)]
        assert rows["AZR-Nr"].nunique() == 1
        letter = {"wuppertal": "W", "solingen": "S", "muelheim": "M"}[row["city"]]
        old = rows[rows["Aktenzeichen"].str.startswith(f"ABH-{letter}-")]
        assert "FORTZUG" in set(old["Aufenthaltsstatus"]), person_id


def test_the_hard_profile_is_noisier_than_easy(tmp_path):
    shares = {}
    for profile in ("easy", "hard"):
        generate(tmp_path / profile, persons=1500, months=2, seed=3, profile=profile)
        truth = (tmp_path / profile / "truth" / "truth_records.csv").read_text().splitlines()[1:]
        flags = [line.rsplit(",", 1)[1] for line in truth]
        shares[profile] = {f: np.mean([f in fl for fl in flags]) for f in ("translit", "swap", "placeholder_dob")}
    for flag, easy in shares["easy"].items():
        assert shares["hard"][flag] > 2 * easy, flag
    assert shares["hard"]["placeholder_dob"] == pytest.approx(0.30, abs=0.05)


def test_noise_profiles_are_the_three_presets():
    assert set(PROFILES) == {"easy", "realistic", "hard"}
    assert PROFILES["hard"].jobcenter.azr_missing == pytest.approx(0.40)
    assert PROFILES["realistic"].jugendamt.azr_missing == pytest.approx(0.60)
