"""Geography: the dbt seed is the single source of postcodes and districts."""

from __future__ import annotations

import pytest

from pipelines.synthetic.geography import SEED_PATH, district_names, load_geography, read_seed


def test_seed_covers_the_three_cities_with_their_real_postcode_ranges():
    rows = read_seed()
    postcodes = [r["postcode"] for r in rows]
    assert len(postcodes) == len(set(postcodes))
    ranges = {"wuppertal": ("421", "422", "423"), "solingen": ("426", "427"), "muelheim": ("454",)}
    for row in rows:
        assert row["postcode"].startswith(ranges[row["city"]]), row
    geography = load_geography()
    assert {"Elberfeld", "Barmen", "Vohwinkel", "Cronenberg", "Ronsdorf", "Oberbarmen"} <= set(
        district_names(geography, "wuppertal"))
    assert {"Mitte", "Ohligs", "Wald", "Höhscheid", "Gräfrath", "Burg"} == set(district_names(geography, "solingen"))
    assert {"Rechtsruhr-Süd", "Rechtsruhr-Nord", "Linksruhr"} == set(district_names(geography, "muelheim"))


def test_delivered_postcodes_and_districts_come_from_the_seed(calibration_city):
    seed = read_seed()
    by_city = {(r["city"], r["postcode"]) for r in seed}
    districts = {(r["city"], r["district"]) for r in seed}
    city_of = {"Wuppertal": "wuppertal", "Solingen": "solingen", "Mülheim an der Ruhr": "muelheim"}
    abh = calibration_city.abh
    assert set(zip(abh["Ort"].map(city_of), abh["PLZ"], strict=True)) <= by_city
    ja = calibration_city.jugendamt
    letter = {"W": "wuppertal", "S": "solingen", "M": "muelheim"}
    ja_city = ja["Fall-Nr"].str[3].map(letter)
    assert set(zip(ja_city, ja["Stadtteil"], strict=True)) <= districts


def test_a_seed_with_another_header_is_rejected_with_the_path(tmp_path):
    bad = tmp_path / "postcode_districts.csv"
    bad.write_text("city,plz,district\nwuppertal,42103,Elberfeld\n", encoding="utf-8")
    with pytest.raises(ValueError, match="postcode_districts.csv"):
        read_seed(bad)
    assert SEED_PATH.name == "postcode_districts.csv"
