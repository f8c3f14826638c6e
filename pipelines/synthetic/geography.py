"""Where people live: postcodes, districts and streets of the three cities.

The postcode-to-district table is the dbt seed ``dbt_project/seeds/postcode_districts.csv``;
this module only reads it, so the addresses in the synthetic deliveries and the
districts the warehouse derives from postcodes can never disagree.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.config import CITIES, DBT_PROJECT_DIR

SEED_PATH = DBT_PROJECT_DIR / "seeds" / "postcode_districts.csv"
SEED_COLUMNS = ("city", "postcode", "district")

CITY_NAMES: dict[str, str] = {
    "wuppertal": "Wuppertal",
    "solingen": "Solingen",
    "muelheim": "Mülheim an der Ruhr",
}
"""The place name as agencies write it into an address."""

# Refugee flats and shelters concentrate in the dense inner districts; weights are
# relative within a city and default to 1 for districts not listed.
_DISTRICT_WEIGHT: dict[str, float] = {
    "Elberfeld": 3.0, "Oberbarmen": 2.5, "Barmen": 2.0, "Heckinghausen": 1.2,
    "Mitte": 2.0, "Ohligs": 1.5, "Wald": 1.2,
    "Rechtsruhr-Süd": 1.5, "Rechtsruhr-Nord": 2.0,
}

# Street names: a few that exist in almost every German town, plus streets of each district.
_STREETS_COMMON = (
    "Bahnhofstraße", "Schulstraße", "Kirchstraße", "Gartenstraße", "Bergstraße", "Talstraße",
    "Lindenstraße", "Friedrichstraße", "Wilhelmstraße", "Blumenstraße", "Mühlenweg", "Wiesenweg",
    "Feldstraße", "Goethestraße", "Schillerstraße", "Parkstraße", "Waldstraße", "Lessingstraße",
)
_STREETS_DISTRICT: dict[tuple[str, str], tuple[str, ...]] = {
    ("wuppertal", "Elberfeld"): ("Gathe", "Hofaue", "Friedrich-Ebert-Straße", "Marienstraße",
                                 "Wiesenstraße", "Neumarkt"),
    ("wuppertal", "Elberfeld-West"): ("Nützenberger Straße", "Sonnborner Straße", "Varresbecker Straße"),
    ("wuppertal", "Uellendahl-Katernberg"): ("Uellendahler Straße", "Katernberger Straße"),
    ("wuppertal", "Barmen"): ("Werth", "Höhne", "Rathausstraße", "Unterdörnen"),
    ("wuppertal", "Oberbarmen"): ("Berliner Straße", "Wichlinghauser Straße", "Schwarzbach"),
    ("wuppertal", "Heckinghausen"): ("Heckinghauser Straße", "Waldeckstraße"),
    ("wuppertal", "Langerfeld-Beyenburg"): ("Langerfelder Straße", "Beyenburger Straße"),
    ("wuppertal", "Vohwinkel"): ("Kaiserstraße", "Vohwinkeler Straße", "Bahnstraße"),
    ("wuppertal", "Cronenberg"): ("Hauptstraße", "Hahnerberger Straße"),
    ("wuppertal", "Ronsdorf"): ("Staasstraße", "Lüttringhauser Straße"),
    ("solingen", "Mitte"): ("Konrad-Adenauer-Straße", "Kölner Straße", "Kasernenstraße"),
    ("solingen", "Gräfrath"): ("Wuppertaler Straße", "In der Freiheit"),
    ("solingen", "Höhscheid"): ("Neuenhofer Straße", "Grünewalder Straße"),
    ("solingen", "Burg"): ("Eschbachstraße", "Burger Landstraße"),
    ("solingen", "Ohligs"): ("Düsseldorfer Straße", "Merscheider Straße", "Wittkuller Straße"),
    ("solingen", "Wald"): ("Stresemannstraße", "Focher Straße"),
    ("muelheim", "Rechtsruhr-Süd"): ("Schloßstraße", "Kaiserstraße", "Mendener Straße"),
    ("muelheim", "Rechtsruhr-Nord"): ("Eppinghofer Straße", "Aktienstraße", "Oberhausener Straße"),
    ("muelheim", "Linksruhr"): ("Duisburger Straße", "Saarner Straße", "Düsseldorfer Straße"),
}
SHELTERS_PER_CITY: dict[str, int] = {"wuppertal": 20, "solingen": 8, "muelheim": 10}
"""Municipal accommodation sites; many unrelated people share these addresses."""


@dataclass(frozen=True)
class CityGeography:
    postcodes: np.ndarray  # object array of 5-digit strings
    districts: np.ndarray  # object array, district of each postcode
    weights: np.ndarray  # probability of drawing each postcode
    streets: dict[str, np.ndarray]  # street names per district


@dataclass(frozen=True)
class Address:
    """Addresses as parallel arrays."""

    street: np.ndarray
    postcode: np.ndarray
    district: np.ndarray


def read_seed(path: Path = SEED_PATH) -> list[dict[str, str]]:
    """Rows of the postcode seed, checked for the columns and cities the generator relies on."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != SEED_COLUMNS:
            raise ValueError(f"{path}: header must be {','.join(SEED_COLUMNS)}, got {reader.fieldnames}")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        if row["city"] not in CITIES or not (row["postcode"].isdigit() and len(row["postcode"]) == 5):
            raise ValueError(f"{path} line {line}: unknown city or malformed postcode in {row}")
    missing = set(CITIES) - {row["city"] for row in rows}
    if missing:
        raise ValueError(f"{path}: no postcodes for {sorted(missing)}; every city needs at least one")
    return rows


def load_geography(path: Path = SEED_PATH) -> dict[str, CityGeography]:
    """Per city: postcodes with districts and drawing weights, and street names."""
    rows = read_seed(path)
    known = {(r["city"], r["district"]) for r in rows}
    stale = sorted(set(_STREETS_DISTRICT) - known) + sorted(
        set(_DISTRICT_WEIGHT) - {district for _, district in known})
    if stale:
        raise ValueError(f"geography.py names districts that {path} does not have: {stale}; "
                         "the seed is the source, so update the street or weight tables")
    out: dict[str, CityGeography] = {}
    for city in CITIES:
        city_rows = [r for r in rows if r["city"] == city]
        districts = np.array([r["district"] for r in city_rows], dtype=object)
        per_district = {d: int((districts == d).sum()) for d in districts}
        weights = np.array([_DISTRICT_WEIGHT.get(d, 1.0) / per_district[d] for d in districts])
        out[city] = CityGeography(
            postcodes=np.array([r["postcode"] for r in city_rows], dtype=object),
            districts=districts,
            weights=weights / weights.sum(),
            streets={d: np.array(_STREETS_COMMON + _STREETS_DISTRICT.get((city, d), ()), dtype=object)
                     for d in per_district},
        )
    return out


def district_names(geography: dict[str, CityGeography], city: str) -> np.ndarray:
    """The distinct districts of a city in seed order."""
    _, first = np.unique(geography[city].districts, return_index=True)
    return geography[city].districts[np.sort(first)]


def draw_addresses(
    rng: np.random.Generator, geography: dict[str, CityGeography], cities: np.ndarray
) -> Address:
    """One random street address per element of ``cities`` (city numbers in ``CITIES`` order)."""
    cities = np.asarray(cities)
    n = len(cities)
    street = np.empty(n, dtype=object)
    postcode = np.empty(n, dtype=object)
    district = np.empty(n, dtype=object)
    numbers = rng.integers(1, 121, size=n)
    suffix = np.where(rng.random(n) < 0.1, np.where(rng.random(n) < 0.6, "a", "b"), "")
    for c, city in enumerate(CITIES):
        members = np.flatnonzero(cities == c)
        if not len(members):
            continue
        geo = geography[city]
        pick = rng.choice(len(geo.postcodes), size=len(members), p=geo.weights)
        postcode[members] = geo.postcodes[pick]
        district[members] = geo.districts[pick]
        draw = rng.random(len(members))
        for name, streets in geo.streets.items():
            here = district[members] == name
            street[members[here]] = streets[np.floor(draw[here] * len(streets)).astype(np.int64)]
    street = street + " " + numbers.astype(str).astype(object) + suffix.astype(object)
    return Address(street=street, postcode=postcode, district=district)


def draw_shelter_addresses(
    rng: np.random.Generator, geography: dict[str, CityGeography], cities: np.ndarray
) -> Address:
    """Addresses from each city's small, fixed set of shelters, so that many people share one."""
    sites = {city: draw_addresses(rng, geography, np.full(SHELTERS_PER_CITY[city], c))
             for c, city in enumerate(CITIES)}
    cities = np.asarray(cities)
    out = Address(*(np.empty(len(cities), dtype=object) for _ in range(3)))
    for c, city in enumerate(CITIES):
        members = np.flatnonzero(cities == c)
        pick = rng.integers(0, SHELTERS_PER_CITY[city], size=len(members))
        out.street[members] = sites[city].street[pick]
        out.postcode[members] = sites[city].postcode[pick]
        out.district[members] = sites[city].district[pick]
    return out
