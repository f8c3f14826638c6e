"""Who lives in the three cities: households, persons, their names and the asylum outcome.

The asylum decision is drawn here rather than in ``journeys.py`` because it decides
who is in the city at all: a family waiting abroad only arrives (with ``AE_FAM``)
after the head of the household has been recognised.

Counts follow the interview figures (DOMAIN.md): refugees in Wuppertal, Solingen and
Mülheim in the ratio 10000 : 2600 : 4000, about 8 % EU immigrants from Romania and
Bulgaria, unaccompanied minors at the rates the youth offices reported, and a young,
mostly male population (79 % under 35, two thirds male).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pipelines.config import CITIES

from . import dates, names, origins
from .dates import NEVER, uniform_days
from .geography import CityGeography, draw_addresses, draw_shelter_addresses

CITY_WEIGHTS = np.array([10_000, 2_600, 4_000], dtype=float)
EU_SHARE = 0.08
UMF_RATE = np.array([0.026, 0.040, 0.020])
"""Unaccompanied minors per person (Wuppertal ~260, Solingen ~105, Mülheim ~80 at full scale)."""
YOUTH_CASE_RATE = np.array([0.012, 0.002, 0.005])
"""Accompanied children with youth-welfare help, per person (Wuppertal reaches ~350 minors in all)."""
FAMILY_REUNION_SHARE = 0.30
"""Families whose spouse and children follow the recognised head (Solingen: 30 %)."""
MOVE_SHARE = 0.06
DULD_DEPARTURE_SHARE = 0.20
SHELTER_SHARE = 0.35
"""Refugee households in municipal accommodation (Mülheim: 60 % in flats)."""
TRUE_JAN_FIRST_SHARE = 0.25
"""Persons whose passport itself says 1 January (common in Afghanistan, Eritrea, Somalia)."""

# Household sizes: singles dominate among refugees (young men travelled first).
_REFUGEE_SIZES = (np.arange(1, 8), np.array([0.70, 0.06, 0.07, 0.08, 0.05, 0.03, 0.01]))
_EU_SIZES = (np.arange(1, 6), np.array([0.50, 0.15, 0.15, 0.12, 0.08]))
# Move destinations: Wuppertal and Solingen cooperate closely, so most moves are between them.
_MOVE_DESTINATION = np.array([[0.0, 0.8, 0.2], [0.85, 0.0, 0.15], [0.5, 0.5, 0.0]])

# First asylum registrations per month in Germany (thousands), 2014-2016, shape of the
# 2015 wave; later months continue at the 2016 level.
_ARRIVAL_WAVE = {
    2014: (12, 12, 13, 14, 14, 15, 17, 19, 22, 25, 27, 25),
    2015: (28, 30, 32, 30, 32, 40, 60, 100, 160, 180, 206, 127),
    2016: (92, 61, 20, 16, 16, 16, 16, 18, 15, 15, 16, 15),
}
_LATER_MONTHLY = 14.0
FIRST_ARRIVAL_MONTH = "2014-01"

KIND_REFUGEE, KIND_UMF, KIND_EU = 0, 1, 2
ROLE_SINGLE, ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_UMF = 0, 1, 2, 3, 4
ROLE_NAMES = np.array(["single", "head", "spouse", "child", "umf"], dtype=object)
SEX_MALE, SEX_FEMALE, SEX_DIVERSE = 0, 1, 2
DIVERSE_SHARE = 0.002
_YEAR = 365.25


_Part = tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Households of one kind in one city: household attributes, and per person household, role, arrival,
whether they came by family reunion."""


@dataclass
class Households:
    """One entry per household; persons point here with ``Persons.household``."""

    city: np.ndarray
    kind: np.ndarray
    origin: np.ndarray
    group: np.ndarray
    reunion: np.ndarray
    arrival: np.ndarray
    gest: np.ndarray
    decision: np.ndarray
    recognised: np.ndarray
    sgb2_uptake: np.ndarray
    move_day: np.ndarray
    move_city: np.ndarray
    departure: np.ndarray
    street: np.ndarray
    postcode: np.ndarray
    district: np.ndarray
    new_street: np.ndarray
    new_postcode: np.ndarray
    new_district: np.ndarray

    def __len__(self) -> int:
        return len(self.city)


@dataclass
class Persons:
    """One entry per true person, in person-id order."""

    household: np.ndarray
    role: np.ndarray
    sex: np.ndarray
    birth: np.ndarray
    arrival: np.ndarray
    reunion: np.ndarray
    city: np.ndarray
    move_day: np.ndarray
    move_city: np.ndarray
    youth_case: np.ndarray
    given_fam: np.ndarray
    given_var: np.ndarray
    middle_fam: np.ndarray
    middle_var: np.ndarray
    family_fam: np.ndarray
    family_var: np.ndarray
    feminine: np.ndarray
    dob_latent: np.ndarray
    azr: np.ndarray

    def __len__(self) -> int:
        return len(self.household)


@dataclass
class Population:
    households: Households
    persons: Persons

    def household_value(self, name: str) -> np.ndarray:
        """A household attribute broadcast to every person."""
        return getattr(self.households, name)[self.persons.household]


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` in proportion to ``weights`` exactly (largest remainder)."""
    raw = total * weights / weights.sum()
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def arrival_weights(period: dates.Period, wave: bool) -> tuple[np.ndarray, np.ndarray]:
    """Month numbers from 2014-01 to the end of the period and the chance of arriving in each."""
    first = int(np.datetime64(FIRST_ARRIVAL_MONTH, "M").astype(np.int64))
    last = period.first_month + period.months - 1
    if last < first:
        raise ValueError(f"the period must end in {FIRST_ARRIVAL_MONTH} or later; arrivals start then")
    months = np.arange(first, last + 1)
    if not wave:
        weights = np.ones(len(months))
    else:
        years = months // 12 + 1970
        weights = np.array([
            _ARRIVAL_WAVE[y][m % 12] if y in _ARRIVAL_WAVE else _LATER_MONTHLY
            for y, m in zip(years, months, strict=True)
        ], dtype=float)
    return months, weights / weights.sum()


def draw_arrivals(rng: np.random.Generator, n: int, period: dates.Period, wave: bool) -> np.ndarray:
    """Arrival days: a month by the weights, then a uniform day within it."""
    months, probs = arrival_weights(period, wave)
    month = months[rng.choice(len(months), size=n, p=probs)]
    first = dates.month_first_day(month)
    length = dates.month_first_day(month + 1) - first
    return first + np.floor(rng.random(n) * length).astype(np.int64)


def _origin_groups(rng: np.random.Generator, origin: np.ndarray) -> np.ndarray:
    group = np.zeros(len(origin), dtype=np.int64)
    for o, spec in enumerate(origins.ORIGINS):
        members = np.flatnonzero(origin == o)
        if len(members):
            codes = np.array([names.GROUPS.index(g) for g, _ in spec.name_groups])
            probs = np.array([s for _, s in spec.name_groups])
            group[members] = codes[rng.choice(len(codes), size=len(members), p=probs / probs.sum())]
    return group


def _asylum(
    rng: np.random.Generator, arrival: np.ndarray, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Application (GEST), decision day and outcome of each asylum claim."""
    n = len(arrival)
    # Offices were overwhelmed from autumn 2015 to spring 2016: applications waited months.
    congested = (arrival >= dates.day("2015-08-01")) & (arrival < dates.day("2016-04-01"))
    gest = arrival + uniform_days(rng, 7, 60, n) + np.where(congested, uniform_days(rng, 0, 60, n), 0)
    lo = np.array([o.decision_days[0] for o in origins.ORIGINS])[origin]
    hi = np.array([o.decision_days[1] for o in origins.ORIGINS])[origin]
    decision = gest + uniform_days(rng, lo, hi, n)
    recognised = rng.random(n) < np.array([o.recognition for o in origins.ORIGINS])[origin]
    return gest, decision, recognised


def _family_households(
    rng: np.random.Generator, n_persons: int, kind: int, city: int, period: dates.Period
) -> _Part:
    """Households of one kind until ``n_persons`` persons have arrived by the period end.

    Households are drawn in excess and cut after the ``n_persons``-th arrived person, so members of
    a family still waiting abroad (reunion after the period) are simply not there yet.
    """
    sizes, size_probs = _REFUGEE_SIZES if kind == KIND_REFUGEE else _EU_SIZES
    share_name = "refugee_share" if kind == KIND_REFUGEE else "eu_share"
    factor = 1.5
    while True:
        h = int(n_persons / float(sizes @ size_probs) * factor) + 10
        size = sizes[rng.choice(len(sizes), size=h, p=size_probs)]
        origin = rng.choice(len(origins.ORIGINS), size=h, p=origins.shares(share_name))
        arrival = draw_arrivals(rng, h, period, wave=kind == KIND_REFUGEE)
        if kind == KIND_REFUGEE:
            gest, decision, recognised = _asylum(rng, arrival, origin)
            reunion = (size >= 2) & (rng.random(h) < FAMILY_REUNION_SHARE)
        else:
            gest = np.full(h, NEVER)
            decision = np.full(h, NEVER)
            recognised = np.zeros(h, dtype=bool)
            reunion = np.zeros(h, dtype=bool)
        has_spouse = (size >= 2) & (rng.random(h) < 0.88)
        household = np.repeat(np.arange(h), size)
        member = np.arange(len(household)) - np.repeat(np.cumsum(size) - size, size)
        follow = reunion[household] & (member > 0)
        reunion_arrival = np.where(recognised, decision + 90, NEVER)[household] + uniform_days(
            rng, 0, 450, len(household))
        person_arrival = np.where(follow, np.where(recognised[household], reunion_arrival, NEVER),
                                  arrival[household])
        kept = np.flatnonzero(person_arrival <= period.end_day)
        if len(kept) >= n_persons:
            break
        factor *= 2
    kept = kept[:n_persons]
    used, household = np.unique(household[kept], return_inverse=True)
    role = np.where(size[used][household] == 1, ROLE_SINGLE,
                    np.where(member[kept] == 0, ROLE_HEAD,
                             np.where((member[kept] == 1) & has_spouse[used][household], ROLE_SPOUSE,
                                      ROLE_CHILD)))
    hh = {
        "city": np.full(len(used), city), "kind": np.full(len(used), kind), "origin": origin[used],
        "reunion": reunion[used], "arrival": arrival[used], "gest": gest[used],
        "decision": decision[used], "recognised": recognised[used], "has_spouse": has_spouse[used],
    }
    return hh, household, role, person_arrival[kept], follow[kept]


def _umf_households(rng: np.random.Generator, n: int, city: int, period: dates.Period) -> _Part:
    """Unaccompanied minors: one-person households with their own asylum claim."""
    origin = rng.choice(len(origins.ORIGINS), size=n, p=origins.shares("umf_share"))
    arrival = draw_arrivals(rng, n, period, wave=True)
    gest, decision, recognised = _asylum(rng, arrival, origin)
    hh = {
        "city": np.full(n, city), "kind": np.full(n, KIND_UMF), "origin": origin,
        "reunion": np.zeros(n, bool), "arrival": arrival, "gest": gest, "decision": decision,
        "recognised": recognised, "has_spouse": np.zeros(n, bool),
    }
    return hh, np.arange(n), np.full(n, ROLE_UMF), arrival, np.zeros(n, bool)


def _ages_and_sex(
    rng: np.random.Generator, kind: np.ndarray, role: np.ndarray, household: np.ndarray,
    has_spouse: np.ndarray, reunion: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Age at the household's arrival (years), sex, and the index of the household head, per person."""
    p = len(role)
    eu = kind == KIND_EU
    single_age = np.where(eu, 18 + rng.gamma(2.0, 8.0, p), 18 + rng.gamma(2.0, 5.5, p))
    head_age = 22 + rng.gamma(3.0, 4.5, p)
    age = np.select(
        [role == ROLE_SINGLE, role == ROLE_HEAD, role == ROLE_UMF],
        [single_age, head_age, 14 + 4 * rng.beta(2.2, 1.3, p)],
        default=0.0,
    )
    age = np.minimum(age, 75.0)
    head_index = np.flatnonzero(role == ROLE_HEAD)
    head_of = np.full(household.max() + 1 if p else 0, -1)
    head_of[household[head_index]] = head_index
    head = head_of[household]
    spouse = role == ROLE_SPOUSE
    age = np.where(spouse, np.maximum(age[head] - rng.uniform(0, 8, p), 18.0), age)
    youngest_parent = np.full(len(head_of), 99.0)
    np.minimum.at(youngest_parent, household[role != ROLE_CHILD], age[role != ROLE_CHILD])
    child_max = np.clip(youngest_parent[household] - 17, 0.3, 17.99)
    # Family reunion is for minor children: those who follow later must still be minors on arrival.
    child_max = np.where(reunion, np.minimum(child_max, 15.5), child_max)
    age = np.where(role == ROLE_CHILD, rng.random(p) * child_max, age)

    male_share = np.select(
        [role == ROLE_UMF, (role == ROLE_SINGLE) & eu, role == ROLE_SINGLE, role == ROLE_CHILD],
        [0.90, 0.60, 0.88, 0.51],
        default=0.5,
    )
    # Couples: head male, spouse female; a head without a spouse but with children is mostly a mother.
    male_share = np.where(role == ROLE_HEAD, np.where(has_spouse[household], 1.0, 0.25), male_share)
    male_share = np.where(spouse, 0.0, male_share)
    sex = np.where(rng.random(p) < male_share, SEX_MALE, SEX_FEMALE)
    adult = age >= 18
    sex = np.where(adult & (rng.random(p) < DIVERSE_SHARE), SEX_DIVERSE, sex)
    return age, sex, head


def _twins(rng: np.random.Generator, role: np.ndarray, household: np.ndarray, birth: np.ndarray) -> np.ndarray:
    """Give the second child of a few families the first child's birth date."""
    child = np.flatnonzero(role == ROLE_CHILD)
    if not len(child):
        return birth
    first_child = np.r_[True, household[child][1:] != household[child][:-1]]
    second = child[1:][~first_child[1:] & first_child[:-1]]
    twin = second[rng.random(len(second)) < 0.04]
    birth = birth.copy()
    birth[twin] = birth[twin - 1]
    return birth


def _names(
    rng: np.random.Generator, group: np.ndarray, sex: np.ndarray, role: np.ndarray, head: np.ndarray,
    household: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Name families and document spellings; households share the family name."""
    p = len(role)
    female = sex == SEX_FEMALE
    given = names.draw_given_names(rng, group, female)
    given_var = names.draw_document_variants(rng, given)
    # One family name per household: the first member's draw, broadcast to all members.
    first_member = np.r_[True, household[1:] != household[:-1]]
    first_index = np.flatnonzero(first_member)[np.cumsum(first_member) - 1]
    family = names.draw_families(rng, group, "family")[first_index]
    patronymic = np.isin(group, [names.GROUPS.index(g) for g in names.PATRONYMIC_GROUPS])
    head_male = sex[head] == SEX_MALE
    # Where family names are patronymic, a wife keeps her father's name and children carry the father's.
    family = np.where(patronymic & (role == ROLE_SPOUSE), names.draw_families(rng, group, "family"), family)
    child_of_father = patronymic & (role == ROLE_CHILD) & head_male
    family = np.where(child_of_father, given[head], family)
    family_var = names.draw_document_variants(rng, family)
    # One household, one spelling of the shared family name in its documents.
    household_var = family_var[first_index]
    shared = ~(patronymic & (role == ROLE_SPOUSE))
    family_var = np.where(shared, household_var, family_var)
    family_var = np.where(child_of_father, given_var[head], family_var)

    share = np.array([names.MIDDLE_NAME_SHARE[g] for g in names.GROUPS])[group]
    middle = np.where(rng.random(p) < share, names.draw_families(rng, group, "male"), -1)
    # Children of Arabic naming tradition often carry the father's name as middle name.
    fathers = (role == ROLE_CHILD) & head_male & (rng.random(p) < np.minimum(share * 1.5, 1.0))
    middle = np.where(role == ROLE_CHILD, np.where(fathers, given[head], -1), middle)
    middle = np.where(middle == given, -1, middle)
    middle_var = np.where(fathers, given_var[head], names.draw_document_variants(rng, middle))
    feminine = female & (group == names.GROUPS.index("bulgarian"))
    return given, given_var, middle, middle_var, family, family_var, feminine


def _azr_numbers(rng: np.random.Generator, p: int) -> np.ndarray:
    """Unique 12-digit AZR numbers: an affine map modulo 9e11 is a bijection, so no two persons collide."""
    modulus = 900_000_000_000
    offset = int(rng.integers(0, modulus))
    return 100_000_000_000 + (np.arange(p, dtype=np.int64) * 40_353_607 + offset) % modulus


def build_population(
    rng: np.random.Generator, total: int, period: dates.Period, geography: dict[str, CityGeography]
) -> Population:
    """``total`` persons across the three cities, all arrived by the end of the period."""
    if total < 1:
        raise ValueError(f"persons must be at least 1, got {total}")
    parts = []
    for c, n_city in enumerate(allocate(total, CITY_WEIGHTS)):
        n_umf = int(round(n_city * UMF_RATE[c]))
        n_eu = int(round(n_city * EU_SHARE))
        n_ref = int(n_city) - n_umf - n_eu
        if n_ref > 0:
            parts.append(_family_households(rng, n_ref, KIND_REFUGEE, c, period))
        if n_eu > 0:
            parts.append(_family_households(rng, n_eu, KIND_EU, c, period))
        if n_umf > 0:
            parts.append(_umf_households(rng, n_umf, c, period))
    hh: dict[str, np.ndarray] = {k: np.concatenate([part[0][k] for part in parts]) for k in parts[0][0]}
    offsets = np.cumsum([0] + [len(part[0]["city"]) for part in parts[:-1]])
    household = np.concatenate([part[1] + off for part, off in zip(parts, offsets, strict=True)])
    role = np.concatenate([part[2] for part in parts])
    arrival = np.concatenate([part[3] for part in parts])
    reunion = np.concatenate([part[4] for part in parts])
    p, h = len(household), len(hh["city"])

    group = _origin_groups(rng, hh["origin"])
    age, sex, head = _ages_and_sex(rng, hh["kind"][household], role, household, hh["has_spouse"], reunion)
    reference = hh["arrival"][household]
    birth = reference - np.floor(age * _YEAR).astype(np.int64)
    birth = _twins(rng, role, household, birth)
    jan_first_groups = [names.GROUPS.index(g) for g in ("persian", "eritrean", "somali")]
    jan_first = np.isin(group[household], jan_first_groups) & (rng.random(p) < TRUE_JAN_FIRST_SHARE)
    january = dates.month_first_day(dates.month_number(birth) // 12 * 12)
    # Moving the birthday to 1 January must not turn a minor into an adult.
    keeps_minor = (age >= 18) | ((reference - january) < 18 * _YEAR)
    birth = np.where(jan_first & keeps_minor, january, birth)
    given, given_var, middle, middle_var, family, family_var, feminine = _names(
        rng, group[household], sex, role, head, household)

    city = hh["city"][household]
    youth_case = np.zeros(p, dtype=bool)
    for c in range(len(CITIES)):
        children = (city == c) & (role == ROLE_CHILD) & (age < 17.5)
        if children.any():
            rate = YOUTH_CASE_RATE[c] * (city == c).sum() / children.sum()
            youth_case |= children & (rng.random(p) < rate)
    has_youth_case = np.zeros(h, dtype=bool)
    has_youth_case[household[youth_case]] = True

    # Moves (household level): never for minors in youth care, whose placement binds them.
    move_window = period.end_day - (hh["arrival"] + 60)
    moves = (hh["kind"] != KIND_UMF) & ~has_youth_case & (move_window > 0) & (rng.random(h) < MOVE_SHARE)
    move_day = np.where(moves, hh["arrival"] + 60 + np.floor(rng.random(h) * np.maximum(move_window, 1)),
                        NEVER).astype(np.int64)
    cum = np.cumsum(_MOVE_DESTINATION[hh["city"]], axis=1)
    move_city = np.where(moves, (rng.random(h)[:, None] > cum).sum(axis=1), -1)
    refused = (hh["kind"] != KIND_EU) & ~hh["recognised"] & (hh["decision"] <= period.end_day)
    departure = np.where(refused & (rng.random(h) < DULD_DEPARTURE_SHARE),
                         hh["decision"] + uniform_days(rng, 60, 365, h), NEVER)
    cancel = departure < move_day
    move_day = np.where(cancel, NEVER, move_day)
    move_city = np.where(cancel, -1, move_city)

    shelter = (hh["kind"] == KIND_REFUGEE) & (rng.random(h) < SHELTER_SHARE)
    home = draw_addresses(rng, geography, hh["city"])
    shelters = draw_shelter_addresses(rng, geography, hh["city"])
    facilities = draw_shelter_addresses(rng, geography, hh["city"])  # youth-care facilities
    new = draw_addresses(rng, geography, np.maximum(move_city, 0))
    street, postcode, district = (
        np.where(hh["kind"] == KIND_UMF, getattr(facilities, f),
                 np.where(shelter, getattr(shelters, f), getattr(home, f)))
        for f in ("street", "postcode", "district")
    )

    households = Households(
        city=hh["city"], kind=hh["kind"], origin=hh["origin"], group=group, reunion=hh["reunion"],
        arrival=hh["arrival"], gest=hh["gest"], decision=hh["decision"], recognised=hh["recognised"],
        sgb2_uptake=rng.random(h), move_day=move_day, move_city=move_city, departure=departure,
        street=street, postcode=postcode, district=district,
        new_street=new.street, new_postcode=new.postcode, new_district=new.district,
    )
    # A person who arrives after the household moved arrives directly in the new city.
    arrives_after_move = arrival >= move_day[household]
    persons = Persons(
        household=household, role=role, sex=sex, birth=birth, arrival=arrival, reunion=reunion,
        city=np.where(arrives_after_move, move_city[household], city),
        move_day=np.where(arrives_after_move, NEVER, move_day[household]),
        move_city=np.where(arrives_after_move, -1, move_city[household]),
        youth_case=youth_case, given_fam=given, given_var=given_var, middle_fam=middle,
        middle_var=middle_var, family_fam=family, family_var=family_var, feminine=feminine,
        dob_latent=rng.random(p), azr=_azr_numbers(rng, p),
    )
    for f in fields(persons):
        assert len(getattr(persons, f.name)) == p, f.name
    return Population(households=households, persons=persons)
