"""Ground truth: every record id in the landing files maps to exactly one true person, with its noise."""

from __future__ import annotations

from pipelines.synthetic.records import NOISE_FLAGS


def _record_ids(city) -> dict[str, set[str]]:
    return {
        "abh": set(city.abh["Aktenzeichen"]),
        "jobcenter": set(city.jobcenter["kundennummer"]),
        "jugendamt": set(city.jugendamt["Fall-Nr"]),
    }


def test_truth_lists_exactly_the_record_ids_found_in_the_files(small_city):
    truth = small_city.truth_records
    assert list(truth.columns) == ["agency", "city", "record_id", "person_id", "noise"]
    assert not truth.duplicated(["agency", "record_id"]).any()
    for agency, ids in _record_ids(small_city).items():
        assert ids, agency
        assert set(truth.loc[truth["agency"] == agency, "record_id"]) == ids, agency


def test_every_truth_person_exists_and_noise_flags_are_known(small_city):
    truth = small_city.truth_records
    assert set(truth["person_id"]) <= set(small_city.persons["person_id"])
    flags = set(truth["noise"].str.split(";").explode()) - {""}
    assert flags <= set(NOISE_FLAGS)
    assert len(small_city.persons) == 300


def test_truth_stays_outside_the_landing_zone(small_city):
    landing = small_city.root / "landing"
    assert not any(p.name in {"persons.csv", "truth_records.csv"} for p in landing.rglob("*"))
    assert (small_city.root / "truth" / "persons.csv").is_file()


def test_a_persons_records_agree_on_sex_and_birth_year_across_agencies(calibration_city):
    truth = calibration_city.truth_records.set_index("record_id")["person_id"]
    abh = calibration_city.abh.drop_duplicates("Aktenzeichen")
    jc = calibration_city.jobcenter.drop_duplicates("kundennummer")
    left = abh.assign(person=abh["Aktenzeichen"].map(truth), year=abh["Geburtsdatum"].str[-4:],
                      sex=abh["Geschlecht"].map({"M": "1", "W": "2", "D": "3"}))
    right = jc.assign(person=jc["kundennummer"].map(truth), year=jc["geburtsdatum"].str[:4],
                      sex=jc["geschlecht"])
    pairs = left.merge(right, on="person", suffixes=("_abh", "_jc"))
    assert len(pairs) > 500
    assert (pairs["year_abh"] == pairs["year_jc"]).all()
    assert (pairs["sex_abh"] == pairs["sex_jc"]).all()
    # ... while names often differ: the transliteration problem linkage has to solve.
    assert (pairs["Familienname"] != pairs["nachname"]).mean() > 0.1
