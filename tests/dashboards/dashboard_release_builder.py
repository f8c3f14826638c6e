"""Writes a small published release for the dashboard tests, exactly as docs/release-format.md says.

Three cities at the size the 2016/2017 interview gave (Wuppertal just under 10,000 refugees,
Solingen 2,600, Mülheim 4,000; 92 % of refugees in SGB II far from the labour market), six monthly
deliveries, and the small cells a real city has: they are suppressed (value null, flag true) the
way the publisher does it, so the dashboard is tested against what it will really read.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
APP = DASHBOARDS / "app.py"
VIEWS = DASHBOARDS / "views"
THRESHOLD = 5
RELEASE_ID = "20160705T060000Z"
CITIES = ("wuppertal", "solingen", "muelheim")
CITY_FILE_NAMES = {"wuppertal": "Wuppertal", "solingen": "Solingen", "muelheim": "Muelheim"}
# Per city: agency sets, legal-circle stock, SGB II entries per month, youth office in care.
AGENCY_SETS = {
    "abh": (3400, 900, 1500),
    "jobcenter": (1900, 480, 700),
    "jugendamt": (60, 18, 22),
    "abh+jobcenter": (4100, 1020, 1550),
    "abh+jugendamt": (240, 70, 50),
    "jobcenter+jugendamt": (12, 3, 4),
    "abh+jobcenter+jugendamt": (38, 9, 2),
}
LEGAL_CIRCLES = {
    "AsylbLG": (3000, 900, 1800),
    "AufenthG": (5000, 1400, 1600),
    "SGB II": (4000, 1050, 1500),
    "SGB VIII": (350, 110, 90),
    "Arbeit": (400, 120, 4),
}
SGB2_ENTRIES = (380, 85, 120)
PROFILE_SHARES = {"MP": 0.004, "AP": 0.03, "FP": 0.045, "EP": 0.35, "SP": 0.40, "UP": 0.17}
MILESTONES = {"first_course": (0.7, 210), "b1": (0.35, 480), "work_or_training": (0.25, 560)}
FOLLOW_UPS = {
    "SGB2": (40, 12, 9),
    "AUSBILDUNG": (15, 4, 6),
    "SCHULE": (30, 9, 7),
    "HJV": (60, 20, 14),
    "UNBEKANNT": (10, 2, 3),
}  # noqa: E501


@dataclass(frozen=True)
class PublishedRelease:
    """A release folder as the tests wrote it, with the tables it holds (nulls and flags included)."""

    release_id: str
    path: Path
    manifest: dict
    tables: dict[str, pd.DataFrame]


def month_starts(first: date, count: int) -> list[date]:
    """`count` first-of-month dates from `first`."""
    serial = [first.year * 12 + first.month - 1 + i for i in range(count)]
    return [date(n // 12, n % 12 + 1, 1) for n in serial]


# Which columns are counts, and which measures rest on which count (docs/release-format.md: every
# count or measure `c` gets `c_suppressed`).
SUPPRESSIBLE: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "kpi_persons_by_agency": (("persons",), {}),
    "kpi_legal_circle_stock": (("persons",), {}),
    "kpi_sgb2_transitions": (
        ("entries", "entries_with_asylblg_end", "gap_over_30_days"),
        {"gap_days_median": "entries_with_asylblg_end", "gap_days_p90": "entries_with_asylblg_end"},
    ),
    "kpi_time_to_milestones": (("persons", "reached"), {"days_median": "reached"}),
    "kpi_profile_mix": (("persons",), {}),
    "kpi_youth_care": (("in_care", "unaccompanied_in_care", "turning_18"), {}),
    "kpi_youth_follow_up": (("persons",), {}),
    "kpi_stock_by_group": (("persons",), {}),
    "kpi_legal_circle_flows": (("persons",), {}),
    "kpi_milestone_life_table": (("at_risk", "reached", "censored"), {}),
    "kpi_city_population": ((), {}),
}
POPULATION = (352000, 159000, 171000)
# Shares of the groups the dashboard can filter on; each attribute on its own sums to 1.
GROUP_SHARES = {
    "sex": {"m": 0.64, "f": 0.355, "x": 0.005},
    "age_band": {"0-17": 0.22, "18-24": 0.28, "25-34": 0.3, "35-49": 0.15, "50+": 0.05},
    "nationality_group": {"Syrien": 0.5, "Irak": 0.2, "Afghanistan": 0.15, "Sonstige": 0.15},
}
# Persons' ways through the legal circles (person-level, so that every total of the flows table holds):
# path -> persons in Wuppertal (the other cities scale by their size, small paths stay as they are).
PATHS = {
    ("AsylbLG",): 6200,
    ("AsylbLG", "SGB II"): 2000,
    ("AsylbLG", "SGB II", "Arbeit"): 24,
    ("SGB II",): 380,
    ("SGB II", "Arbeit"): 23,
    ("SGB VIII",): 80,
    ("SGB VIII", "AsylbLG"): 194,
    ("SGB VIII", "AsylbLG", "SGB VIII"): 3,
}
LIFE_COHORTS = ((2014, 1500), (2015, 5500), (2016, 2000))
HAZARDS = {"first_course": 0.03, "b1": 0.012, "work_or_training": 0.008}


def suppress(name: str, mart: pd.DataFrame) -> pd.DataFrame:
    """The published form of a mart: small values null, each with its `_suppressed` flag.

    As the publisher does it: a count from 1 to threshold-1 is withheld (0 reveals nobody); a median
    is withheld when the count it is taken over is below the threshold.
    """
    counts, measures = SUPPRESSIBLE[name]
    flags = {c: (mart[c] > 0) & (mart[c] < THRESHOLD) for c in counts}
    flags |= {m: (mart[basis] < THRESHOLD) & mart[m].notna() for m, basis in measures.items()}
    out = mart.copy()
    for column, flag in flags.items():
        out[column] = out[column].astype("Float64" if column in measures else "Int64").mask(flag)
        out[f"{column}_suppressed"] = flag.astype(bool)
    return out


def build_marts(months: list[date], seed: int) -> dict[str, pd.DataFrame]:
    """Every KPI mart of docs/release-format.md for the three cities and the given months, unsuppressed.

    Simulating the persons behind the grouped tables takes a second or two, so the marts are made
    once per (months, seed) and each caller gets its own copies.
    """
    return {name: frame.copy() for name, frame in _build_marts(tuple(months), seed).items()}


@functools.lru_cache(maxsize=16)
def _build_marts(months: tuple[date, ...], seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def monthly(base: int, index: int, trend: float = 0.0) -> int:
        # Small cells stay exact so that the tests know which cells are suppressed.
        value = base * (1 + trend * index)
        return int(round(value + (rng.integers(-2, 3) * base / 100 if base >= 50 else 0)))

    agency, stock, transitions, profiles, youth = [], [], [], [], []
    for c, city in enumerate(CITIES):
        for i, month in enumerate(months):
            for agency_set, sizes in AGENCY_SETS.items():
                agency.append((city, month, agency_set, monthly(sizes[c], i, 0.01)))
            for circle, sizes in LEGAL_CIRCLES.items():
                trend = {"AsylbLG": -0.04, "SGB II": 0.05, "Arbeit": 0.08}.get(circle, 0.0)
                stock.append((city, month, circle, monthly(sizes[c], i, trend)))
            entries = monthly(SGB2_ENTRIES[c], i, 0.03)
            with_end = int(entries * 0.86)
            over_30 = 4 if (city == "solingen" and i == 2) else int(with_end * 0.18)
            median = 14.0 + 2 * c + i
            transitions.append((city, month, entries, with_end, median, median * 3.5, over_30))
            in_sgb2 = LEGAL_CIRCLES["SGB II"][c] * (1 + 0.05 * i)
            for code, share in PROFILE_SHARES.items():
                group = "nah" if code in {"MP", "AP", "FP"} else "fern"
                profiles.append((city, month, code, group, max(1, int(in_sgb2 * share))))
            in_care = LEGAL_CIRCLES["SGB VIII"][c] + i
            unaccompanied = {0: int(in_care * 0.6), 1: in_care - 20, 2: int(in_care * 0.65)}[c]
            youth.append((city, month, in_care, unaccompanied, (11, 3, 4)[c]))

    milestones = []
    for c, city in enumerate(CITIES):
        scale = (1.0, 0.26, 0.4)[c]
        # Older cohorts had more time to reach a milestone (`time_share`).
        for cohort, size, time_share in ((2014, 1500, 1.0), (2015, 5500, 0.6), (2016, 2000, 0.15)):
            for reference, with_date, offset in (("arrival", 1.0, 0), ("recognition", 0.8, -90)):
                persons = int(size * scale * with_date)
                for milestone, (share, days) in MILESTONES.items():
                    reached = (
                        3
                        if (city, cohort, milestone) == ("solingen", 2016, "b1")
                        else int(persons * share * time_share)
                    )
                    median = float(days * time_share + offset)
                    milestones.append((city, cohort, reference, milestone, persons, reached, median))

    follow_up = [
        (city, year, code, sizes[c] + (year - 2015) * (sizes[c] // 4))
        for c, city in enumerate(CITIES)
        for year in (2015, 2016)
        for code, sizes in FOLLOW_UPS.items()
    ]

    # The stock per legal circle and by group comes from simulated persons in the agency sets, so that
    # every total the release's relations name holds (tables.RELATIONS), as in a real release.
    stock, grouped = _simulated_stock(agency, stock)
    flows = _flows()
    life = _life_table(months[-1])

    columns = {
        "kpi_persons_by_agency": (agency, ["city", "month", "agency_set", "persons"]),
        "kpi_legal_circle_stock": (stock, ["city", "month", "legal_circle", "persons"]),
        "kpi_sgb2_transitions": (
            transitions,
            ["city", "month", "entries", "entries_with_asylblg_end", "gap_days_median", "gap_days_p90"]
            + ["gap_over_30_days"],
        ),
        "kpi_time_to_milestones": (
            milestones,
            ["city", "cohort_year", "reference", "milestone", "persons", "reached", "days_median"],
        ),
        "kpi_profile_mix": (profiles, ["city", "month", "profile_code", "profile_group", "persons"]),
        "kpi_youth_care": (youth, ["city", "month", "in_care", "unaccompanied_in_care", "turning_18"]),
        "kpi_youth_follow_up": (follow_up, ["city", "year", "follow_up", "persons"]),
        "kpi_stock_by_group": (grouped, ["city", "month", "legal_circle", *GROUPS, "persons"]),
        "kpi_legal_circle_flows": (flows, ["city", "step", "from_circle", "to_circle", *GROUPS, "persons"]),
        "kpi_milestone_life_table": (
            life,
            ["city", "cohort_year", "reference", "milestone", *GROUPS, "month_since", "at_risk", "reached", "censored"],
        ),
        "kpi_city_population": (list(zip(CITIES, POPULATION, strict=True)), ["city", "population"]),
    }
    return {name: pd.DataFrame(rows, columns=names) for name, (rows, names) in columns.items()}


def build_manifest(release_id: str, months: list[date], tables: dict[str, pd.DataFrame]) -> dict:
    """The manifest of docs/release-format.md: provenance, deliveries, checks, linkage, tables."""
    deliveries = []
    for month in months:
        for city in CITIES:
            name = CITY_FILE_NAMES[city]
            for agency, file_name, rows in (
                ("abh", f"ABH_{name}_{month:%Y%m}.csv", 900),
                ("jobcenter", f"jc_ereignisse_{city}_{month:%Y-%m}.csv", 1400),
                ("jugendamt", f"JA_Faelle_{name}_{month:%Y_%m}.xlsx", 60),
            ):
                quarantined = 7 if (agency, city) == ("jugendamt", "solingen") else 2
                deliveries.append(
                    {
                        "agency": agency,
                        "city": city,
                        "month": f"{month:%Y-%m}",
                        "file_name": file_name,
                        "sha256": hashlib.sha256(file_name.encode()).hexdigest(),
                        "rows_read": rows,
                        "rows_loaded": rows - quarantined,
                        "rows_quarantined": quarantined,
                    }
                )
    checks = [
        {"name": "deliveries_complete", "asset": "ingest/deliveries", "severity": "ERROR", "passed": True,
         "details": "54 von 54 Lieferungen vorhanden"},
        {"name": "person_key_unique", "asset": "marts/person_milestones", "severity": "ERROR", "passed": True,
         "details": None},
        {"name": "no_clear_text_identifiers", "asset": "publish/release", "severity": "ERROR", "passed": True,
         "details": "0 Treffer"},
        {"name": "birth_date_placeholder_share", "asset": "staging/jugendamt__cases", "severity": "WARN",
         "passed": False, "details": {"share": 0.31, "limit": 0.25}},
    ]  # fmt: skip
    return {
        "release_id": release_id,
        "created_at": f"{release_id[:4]}-{release_id[4:6]}-{release_id[6:8]}T{release_id[9:11]}:"
        f"{release_id[11:13]}:{release_id[13:15]}Z",
        "code_version": "b254a70",
        "run_id": "4f1c2e9a-7d1b-4c55-9e0f-2b8f6d3a1c77",
        "data_until": f"{months[-1]:%Y-%m}",
        "deliveries": deliveries,
        "checks": checks,
        "linkage": {
            "records": 41230,
            "persons": 16600,
            "links_by_method": {"azr": 9120, "deterministic": 4310, "probabilistic": 3170},
            "model_version": "splink-5.0.0+2016-07",
        },
        "suppression": {"method": "primary", "threshold": THRESHOLD},
        "tables": {
            name: {"file": f"{name}.parquet", "rows": len(table), "columns": list(table.columns)}
            for name, table in tables.items()
        },
    }


def write_release(
    releases_root: Path, release_id: str, *, months: int = 6, seed: int = 2016, with_manifest: bool = True
) -> PublishedRelease:
    """Publish a release the way the pipeline does: write into a hidden folder, then rename."""
    month_list = month_starts(date(2016, 1, 1), months)
    tables = {name: suppress(name, mart) for name, mart in build_marts(month_list, seed).items()}
    manifest = build_manifest(release_id, month_list, tables)
    staging = releases_root / f".{release_id}.partial"
    staging.mkdir(parents=True)
    for name, table in tables.items():
        table.to_parquet(staging / f"{name}.parquet", index=False)
        table.to_csv(staging / f"{name}.csv", index=False)
    if with_manifest:
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    final = releases_root / release_id
    os.rename(staging, final)
    return PublishedRelease(release_id, final, manifest, tables)


GROUPS = ("nationality_group", "age_band", "sex")
ALL = "alle"
# All persons, and one attribute at a time (as the marts publish them; combinations are not published).
ROLL_UPS = [(), *((dimension,) for dimension in GROUPS)]


def _simulated_stock(agency: list[tuple], targets: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Persons per city and month end, drawn from the agency sets, placed in legal circles.

    The immigration office's persons are in AsylbLG or AufenthG (in the proportion of `targets`), the
    jobcenter's in SGB II, the youth office's in SGB VIII, and `targets`' number of jobcenter persons
    also in work (Arbeit). Returns the stock per circle and the stock by group with every roll-up.
    """
    rng = np.random.default_rng(17)
    sizes = [n for *_, n in agency]
    people = _persons(sum(sizes), rng)
    for position, column in enumerate(("city", "month", "agencies")):
        people[column] = pd.Categorical(np.repeat([row[position] for row in agency], sizes))
    target = pd.DataFrame(targets, columns=["city", "month", "legal_circle", "persons"]).pivot_table(
        index=["city", "month"], columns="legal_circle", values="persons"
    )
    keys = pd.MultiIndex.from_frame(people[["city", "month"]])
    asyl_share = (target["AsylbLG"] / (target["AsylbLG"] + target["AufenthG"])).reindex(keys).to_numpy()
    work_target = target["Arbeit"].reindex(keys).to_numpy()
    abh = people["agencies"].str.contains("abh").to_numpy()
    jobcenter = people["agencies"].str.contains("jobcenter").to_numpy()
    youth = people["agencies"].str.contains("jugendamt").to_numpy()
    by_place = [people["city"], people["month"]]
    abh_rank = pd.Series(abh.astype(int), index=people.index).groupby(by_place).cumsum().to_numpy()
    abh_count = pd.Series(abh.astype(int), index=people.index).groupby(by_place).transform("sum").to_numpy()
    jc_rank = pd.Series(jobcenter.astype(int), index=people.index).groupby(by_place).cumsum().to_numpy()
    asyl = abh & (abh_rank <= np.round(abh_count * asyl_share))
    circles = {
        "AsylbLG": asyl,
        "AufenthG": abh & ~asyl,
        "SGB II": jobcenter,
        "SGB VIII": youth,
        "Arbeit": jobcenter & (jc_rank <= work_target),
        ALL: np.ones(len(people), dtype=bool),
    }
    columns = ["city", "month", *GROUPS]
    placed = pd.concat(
        [people.loc[member, columns].assign(legal_circle=circle) for circle, member in circles.items()],
        ignore_index=True,
    ).assign(persons=1)
    placed["legal_circle"] = placed["legal_circle"].astype("category")
    stock = placed[placed["legal_circle"] != ALL].groupby(
        ["city", "month", "legal_circle"], sort=False, observed=True
    )["persons"]
    stock_rows = [(city, month, circle, int(n)) for (city, month, circle), n in stock.sum().items()]
    cube = []
    for kept in ROLL_UPS:
        part = placed.groupby(["city", "month", "legal_circle", *kept], as_index=False, sort=False, observed=True)[
            "persons"
        ].sum()
        for dimension in GROUPS:
            if dimension not in kept:
                part[dimension] = ALL
        cube.append(part)
    grouped = pd.concat(cube, ignore_index=True)[["city", "month", "legal_circle", *GROUPS, "persons"]].astype(
        {column: "object" for column in ("city", "month", "legal_circle", *GROUPS)}
    )
    return stock_rows, list(grouped.itertuples(index=False, name=None))


def _persons(count: int, rng: np.random.Generator) -> pd.DataFrame:
    """`count` persons with nationality group, age band and sex drawn by GROUP_SHARES."""
    drawn = {}
    for dimension in GROUPS:
        shares = GROUP_SHARES[dimension]
        p = np.array(list(shares.values()))
        codes = rng.choice(len(shares), size=count, p=p / p.sum())
        drawn[dimension] = pd.Categorical.from_codes(codes, categories=list(shares))
    return pd.DataFrame(drawn)


def _margins(frame: pd.DataFrame, keys: list[str], measures: list[str]) -> pd.DataFrame:
    """All persons (`alle` in every attribute) and one attribute at a time, as the flow and life-table marts."""
    parts = []
    for dimension in (None, *GROUPS):
        by = keys + ([dimension] if dimension else [])
        part = frame.groupby(by, as_index=False)[measures].sum()
        for other in GROUPS:
            if other != dimension:
                part[other] = ALL
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _flows() -> list[tuple]:
    """Person-level journeys summed into flows: each total and continuation holds by construction."""
    rng = np.random.default_rng(11)
    people = []
    for c, city in enumerate(CITIES):
        scale = (1.0, 0.3, 0.4)[c]
        for path, persons in PATHS.items():
            size = persons if persons < 50 else int(persons * scale)
            group = _persons(size, rng)
            for step, (source, target) in enumerate(zip(("start", *path), path, strict=False), start=1):
                people.append(group.assign(city=city, step=step, from_circle=source, to_circle=target, persons=1))
    flows = _margins(pd.concat(people, ignore_index=True), ["city", "step", "from_circle", "to_circle"], ["persons"])
    return list(flows[["city", "step", "from_circle", "to_circle", *GROUPS, "persons"]].itertuples(index=False))


def _life_table(last_month: date) -> list[tuple]:
    """Life tables by quarter from simulated persons: a constant monthly chance to reach each milestone,
    arrivals spread over the cohort year and censored at the data end (younger cohorts are observed
    shorter)."""
    rng = np.random.default_rng(5)
    end = last_month.year * 12 + last_month.month
    parts = []
    for c, city in enumerate(CITIES):
        scale = (1.0, 0.26, 0.4)[c]
        for cohort, size in LIFE_COHORTS:
            for reference, with_date in (("arrival", 1.0), ("recognition", 0.8)):
                count = int(size * scale * with_date)
                people = _persons(count, rng)
                arrival = cohort * 12 + rng.integers(1, 13, count)
                arrival = np.minimum(arrival, end)
                observed = end - arrival  # whole months until the data end
                for milestone, hazard in HAZARDS.items():
                    waited = rng.geometric(hazard, count) - 1  # months until the milestone
                    reached = waited <= observed
                    parts.append(
                        people.assign(
                            city=city, cohort_year=cohort, reference=reference, milestone=milestone,
                            month_since=np.where(reached, waited, observed) // 3 * 3,  # quarters
                            reached=reached.astype(int), censored=(~reached).astype(int),
                        )
                    )  # fmt: skip
    persons = pd.concat(parts, ignore_index=True)
    keys = ["city", "cohort_year", "reference", "milestone", "month_since"]
    # All persons only, as the mart publishes it.
    table = persons.groupby(keys, as_index=False)[["reached", "censored"]].sum().assign(
        **{dimension: ALL for dimension in GROUPS}
    )
    stratum = ["city", "cohort_year", "reference", "milestone", *GROUPS]
    table = table.sort_values([*stratum, "month_since"], ascending=[True] * len(stratum) + [False])
    table["at_risk"] = (table["reached"] + table["censored"]).groupby([table[k] for k in stratum]).cumsum()
    table = table.sort_values([*stratum, "month_since"])
    columns = [*stratum[:4], *GROUPS, "month_since", "at_risk", "reached", "censored"]
    return list(table[columns].itertuples(index=False))
