"""What happens to each person, as each agency would record it: the true event history.

Three tables come out, one per agency, in agency-neutral form (day numbers, codes,
the person's index) plus the milestones of each person for the ground truth. Noise,
record ids and delivery months are added later (``records.py``), so this module
describes the world, not how badly it is recorded.

Calibration (DOMAIN.md): about 70 % of asylum claims recognised 3-18 months after
the application; about 85 % of recognised adults reach SGB II, mostly within two
months of the end of AsylbLG benefits; 92 % far-from-market profiles; many below B1
a year after their first course, about 40 % reaching B1 eventually; work or training
for a minority after one to three years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import dates
from .dates import NEVER, uniform_days
from .population import KIND_EU, KIND_REFUGEE, KIND_UMF, ROLE_UMF, Population

SGB2_UPTAKE = {KIND_REFUGEE: 0.85, KIND_EU: 0.40}
ASYLBLG_END_RECORDED = 0.85
FAR_PROFILE_SHARE = {KIND_REFUGEE: 0.92, KIND_EU: 0.70}
FAR_PROFILES = (("EP", "SP", "UP"), (0.55, 0.30, 0.15))
NEAR_PROFILES = (("MP", "AP", "FP"), (0.20, 0.35, 0.45))
NE_SHARE = 0.35
RESIDENCE_OBLIGATION_FROM = dates.day("2016-01-01")
"""§12a AufenthG binds refugees recognised from 2016-01-01 to their place of residence for three years."""

ABH_STATUSES = ("GEST", "DULD", "AE", "AE_FAM", "NE", "FZG", "FORTZUG")
_RANK = {code: i for i, code in enumerate(
    ("ZUGANG", "PROFILING", "KURS_BEGINN", "KURS_ENDE", "MASSNAHME", "ARBEIT", "AUSBILDUNG", "ABGANG"))}


@dataclass
class Journeys:
    """The true history per agency and the milestones per person (day numbers, NEVER when absent)."""

    abh: pd.DataFrame  # person, date, status, residence_obligation, city
    jobcenter: pd.DataFrame  # person, date, event, profile, level, asylblg_end, exit_reason, city
    jugendamt: pd.DataFrame  # person, begin, end, help, unaccompanied, follow_up, district, city
    milestones: pd.DataFrame  # one row per person


def _frame(person: np.ndarray, **columns) -> pd.DataFrame:
    n = len(person)
    data = {"person": person}
    for name, value in columns.items():
        data[name] = np.full(n, value, dtype=object if isinstance(value, str) else None) \
            if np.isscalar(value) else value
    return pd.DataFrame(data)


def _pick(rng: np.random.Generator, codes: tuple[str, ...], probs: tuple[float, ...], n: int) -> np.ndarray:
    return np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=np.array(probs) / sum(probs))]


def _city_at(pop: Population, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """City of a person on a day: the destination from the move day on."""
    p = pop.persons
    return np.where(day >= p.move_day[person], p.move_city[person], p.city[person])


def _age_at(pop: Population, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (day - pop.persons.birth[person]) / 365.25


# --- immigration office ------------------------------------------------------------------


def _abh(rng: np.random.Generator, pop: Population) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    p, hh = pop.persons, pop.households
    n = len(p)
    idx = np.arange(n)
    kind = pop.household_value("kind")
    asylum = (kind != KIND_EU) & ~p.reunion
    recognised = pop.household_value("recognised")
    gest = np.where(asylum, hh.gest[p.household], NEVER)
    decision = np.where(asylum, hh.decision[p.household], NEVER)
    ae_fam = np.where(p.reunion, p.arrival + uniform_days(rng, 7, 60, n), NEVER)
    fzg = np.where(kind == KIND_EU, p.arrival + uniform_days(rng, 0, 30, n), NEVER)
    recognition = np.where(asylum & recognised, decision, ae_fam)
    ne = np.where((recognition < NEVER) & (rng.random(n) < NE_SHARE),
                  recognition + uniform_days(rng, 3 * 365, 5 * 365, n), NEVER)
    departure = np.where(hh.departure[p.household] > p.arrival, hh.departure[p.household], NEVER)

    parts = [
        _frame(idx[gest < NEVER], date=gest[gest < NEVER], status="GEST"),
        _frame(idx[asylum & recognised], date=decision[asylum & recognised], status="AE"),
        _frame(idx[asylum & ~recognised], date=decision[asylum & ~recognised], status="DULD"),
        _frame(idx[ae_fam < NEVER], date=ae_fam[ae_fam < NEVER], status="AE_FAM"),
        _frame(idx[fzg < NEVER], date=fzg[fzg < NEVER], status="FZG"),
        _frame(idx[ne < NEVER], date=ne[ne < NEVER], status="NE"),
        _frame(idx[departure < NEVER], date=departure[departure < NEVER], status="FORTZUG"),
    ]
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[rows["date"].to_numpy() <= departure[rows["person"].to_numpy()]]
    rows["city"] = _city_at(pop, rows["person"].to_numpy(), rows["date"].to_numpy())

    # A move: FORTZUG in the old city, and the new city's office takes the person over
    # with the status held on the move day.
    movers = np.flatnonzero(p.move_day < NEVER)
    before = rows[np.isin(rows["person"].to_numpy(), movers)
                  & (rows["date"].to_numpy() < p.move_day[rows["person"].to_numpy()])]
    before = before.sort_values(["person", "date"], kind="stable").drop_duplicates("person", keep="last")
    taken_over = before.assign(date=p.move_day[before["person"].to_numpy()],
                               city=p.move_city[before["person"].to_numpy()])
    taken_over = taken_over[taken_over["status"] != "FORTZUG"]
    left = _frame(movers, date=p.move_day[movers], status="FORTZUG", city=p.city[movers])
    rows = pd.concat([rows, left, taken_over], ignore_index=True)

    person = rows["person"].to_numpy()
    day = rows["date"].to_numpy()
    rows["residence_obligation"] = (
        (rows["status"].to_numpy() == "AE") & (recognition[person] >= RESIDENCE_OBLIGATION_FROM)
        & (day < dates.add_years(recognition[person], 3))
    )
    rows = rows.sort_values(["person", "date"], kind="stable").reset_index(drop=True)
    milestones = {
        "asylum_pending_date": gest,
        "decision_date": decision,
        "recognition_date": recognition,
        "settlement_date": ne,
        "departure_date": departure,
    }
    return rows, milestones


# --- youth office ------------------------------------------------------------------------


def _youth(rng: np.random.Generator, pop: Population) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Episodes of unaccompanied minors (UMA) and of accompanied children with youth-welfare help."""
    p, hh = pop.persons, pop.households
    n = len(p)
    umf = np.flatnonzero(p.role == ROLE_UMF)
    m = len(umf)
    age18 = dates.add_years(p.birth[umf], 18)
    age21 = dates.add_years(p.birth[umf], 21)
    start = p.arrival[umf] + uniform_days(rng, 0, 5, m)
    runaway = rng.random(m) < 0.05
    inob_end = np.maximum(np.minimum(start + uniform_days(rng, 21, 120, m), age18), start + 7)
    inob_end = np.where(runaway, start + uniform_days(rng, 5, 60, m), inob_end)
    adult_in_care = ~runaway & (inob_end >= age18)
    in_care = ~runaway & ~adult_in_care

    # At 18: about half continue as young adults (§41 HJV), the rest leave youth help.
    to_hjv = rng.random(m) < 0.5
    leave18 = _pick(rng, ("SGB2", "AUSBILDUNG", "SCHULE", "UNBEKANNT"), (0.40, 0.20, 0.24, 0.16), m)
    at18 = np.where(to_hjv, "HJV", leave18)
    hjv = ~runaway & to_hjv
    hjv_begin = np.where(adult_in_care, inob_end, age18)
    hjv_end = np.minimum(hjv_begin + uniform_days(rng, 180, 1095, m), age21)
    after_hjv = _pick(rng, ("SGB2", "AUSBILDUNG", "SCHULE", "UNBEKANNT"), (0.40, 0.25, 0.20, 0.15), m)

    final_end = np.where(runaway, inob_end, np.where(hjv, hjv_end, np.where(in_care, age18, inob_end)))
    final = np.where(runaway, "UNBEKANNT", np.where(hjv, after_hjv, at18))
    # SGB II needs a residence permit: without recognition by then, the young person stays in school.
    recognised_by_end = hh.recognised[p.household[umf]] & (hh.decision[p.household[umf]] <= final_end)
    instead = _pick(rng, ("SCHULE", "UNBEKANNT", "AUSBILDUNG"), (0.5, 0.3, 0.2), m)
    final = np.where((final == "SGB2") & ~recognised_by_end, instead, final)
    at18 = np.where(hjv, "HJV", final)

    guardian_begin = start + uniform_days(rng, 14, 75, m)
    with_guardian = in_care & (guardian_begin < age18)
    district = pop.household_value("district")
    parts = [
        _frame(umf, begin=start, end=inob_end, help="INOBHUTNAHME",
               follow_up=np.where(in_care, "", at18)),
        _frame(umf[with_guardian], begin=guardian_begin[with_guardian], end=age18[with_guardian],
               help="VORMUNDSCHAFT", follow_up=at18[with_guardian]),
        _frame(umf[in_care], begin=inob_end[in_care], end=age18[in_care], help="HZE",
               follow_up=at18[in_care]),
        _frame(umf[hjv], begin=hjv_begin[hjv], end=hjv_end[hjv], help="HJV", follow_up=final[hjv]),
    ]
    umf_rows = pd.concat(parts, ignore_index=True)
    umf_rows["unaccompanied"] = True

    kids = np.flatnonzero(p.youth_case)
    k = len(kids)
    kid18 = dates.add_years(p.birth[kids], 18)
    kid_begin = np.minimum(p.arrival[kids] + uniform_days(rng, 60, 720, k), kid18 - 60)
    kid_ok = kid_begin > p.arrival[kids]
    kid_end = np.minimum(kid_begin + uniform_days(rng, 180, 720, k), kid18)
    kid_follow = _pick(rng, ("SCHULE", "AUSBILDUNG", "UNBEKANNT"), (0.70, 0.15, 0.15), k)
    kid_rows = _frame(kids[kid_ok], begin=kid_begin[kid_ok], end=kid_end[kid_ok], help="HZE",
                      follow_up=kid_follow[kid_ok], unaccompanied=False)

    rows = pd.concat([umf_rows, kid_rows], ignore_index=True)
    person = rows["person"].to_numpy()
    rows["city"] = p.city[person]
    rows["district"] = district[person]
    rows = rows.sort_values(["person", "begin", "help"], kind="stable").reset_index(drop=True)

    youth_start = np.full(n, NEVER)
    np.minimum.at(youth_start, person, rows["begin"].to_numpy())
    youth_end = np.full(n, NEVER)
    youth_end[umf] = final_end
    youth_end[kids[kid_ok]] = kid_end[kid_ok]
    follow_up = np.full(n, "", dtype=object)
    follow_up[umf] = final
    follow_up[kids[kid_ok]] = kid_follow[kid_ok]
    milestones = {
        "youth_care_start_date": youth_start,
        "youth_care_end_date": youth_end,
        "age18_date": np.where(youth_start < NEVER, dates.add_years(p.birth, 18), NEVER),
        "youth_follow_up": follow_up,
    }
    return rows, milestones


# --- jobcenter ---------------------------------------------------------------------------


def _sgb2_entry(
    rng: np.random.Generator, pop: Population, youth: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Day of entry into SGB II and the recorded end of AsylbLG benefits, per person."""
    p, hh = pop.persons, pop.households
    n, h = len(p), len(hh)
    kind = pop.household_value("kind")
    uptake = pop.household_value("sgb2_uptake")

    # Household level: AsylbLG ends around the end of the month after recognition; the
    # jobcenter entry follows, usually within days, sometimes months later (the gap
    # where people fall through, see DOMAIN.md).
    asylblg_end_hh = dates.month_last_day(hh.decision + uniform_days(rng, 14, 75, h))
    u = rng.random(h)
    gap_hh = np.where(u < 0.55, 1, np.where(u < 0.88, uniform_days(rng, 2, 60, h),
                                              61 + np.minimum(rng.exponential(60, h), 340).astype(np.int64)))
    entry_hh = np.where(hh.recognised & (hh.kind == KIND_REFUGEE), asylblg_end_hh + gap_hh, NEVER)
    recorded_hh = rng.random(h) < ASYLBLG_END_RECORDED
    eu_entry_hh = hh.arrival + uniform_days(rng, 90, 720, h)

    refugee = (kind == KIND_REFUGEE) & ~p.reunion & (uptake < SGB2_UPTAKE[KIND_REFUGEE])
    entry = np.where(refugee, entry_hh[p.household], NEVER)
    asylblg_end = np.where(refugee & recorded_hh[p.household], asylblg_end_hh[p.household], NEVER)
    follower = p.reunion & (uptake < SGB2_UPTAKE[KIND_REFUGEE]) & (entry_hh[p.household] < NEVER)
    entry = np.where(follower, np.maximum(p.arrival + uniform_days(rng, 7, 60, n), entry_hh[p.household]),
                     entry)
    eu = (kind == KIND_EU) & (uptake < SGB2_UPTAKE[KIND_EU])
    entry = np.where(eu, np.maximum(eu_entry_hh[p.household], p.arrival + 90), entry)
    young_adult = (kind == KIND_UMF) & (youth["youth_follow_up"] == "SGB2")
    entry = np.where(young_adult, youth["youth_care_end_date"] + uniform_days(rng, 0, 30, n), entry)
    # Only adults are jobcenter customers in their own right; children count in the household.
    adult = _age_at(pop, np.arange(n), entry) >= 18
    entry = np.where(adult, entry, NEVER)
    asylblg_end = np.where(entry < NEVER, asylblg_end, NEVER)
    return entry, asylblg_end


def _courses(
    rng: np.random.Generator, person: np.ndarray, entry: np.ndarray
) -> tuple[list[pd.DataFrame], np.ndarray, np.ndarray]:
    """Language courses: integration course to B1, a repeat for some below B1, a B2 job course for some."""
    n = len(person)
    frames = []
    begin1 = entry + uniform_days(rng, 20, 200, n)
    alpha = rng.random(n) < 0.10  # literacy courses aim at A2
    target1 = np.where(alpha, "A2", "B1")
    end1 = begin1 + uniform_days(rng, 180, 330, n)
    reached1 = np.where(alpha, _pick(rng, ("A2", "A1"), (0.55, 0.45), n),
                        _pick(rng, ("B1", "A2", "A1"), (0.40, 0.40, 0.20), n))
    frames += [_frame(person, date=begin1, event="KURS_BEGINN", level=target1),
               _frame(person, date=end1, event="KURS_ENDE", level=reached1)]
    b1 = np.where(reached1 == "B1", end1, NEVER)

    second = (reached1 != "B1") & (rng.random(n) < 0.55)
    begin2 = end1 + uniform_days(rng, 30, 150, n)
    end2 = begin2 + uniform_days(rng, 120, 240, n)
    reached2 = _pick(rng, ("B1", "A2"), (0.40, 0.60), n)
    frames += [_frame(person[second], date=begin2[second], event="KURS_BEGINN", level="B1"),
               _frame(person[second], date=end2[second], event="KURS_ENDE", level=reached2[second])]
    b1 = np.where(second & (reached2 == "B1"), end2, b1)

    third = (b1 < NEVER) & (rng.random(n) < 0.35)
    begin3 = b1 + uniform_days(rng, 30, 240, n)
    end3 = begin3 + uniform_days(rng, 150, 270, n)
    reached3 = _pick(rng, ("B2", "B1"), (0.55, 0.45), n)
    frames += [_frame(person[third], date=begin3[third], event="KURS_BEGINN", level="B2"),
               _frame(person[third], date=end3[third], event="KURS_ENDE", level=reached3[third])]
    return frames, begin1, b1


def _profiles(rng: np.random.Generator, n: int, kind: np.ndarray, near_boost: np.ndarray | None = None) -> np.ndarray:
    far_share = np.where(kind == KIND_EU, FAR_PROFILE_SHARE[KIND_EU], FAR_PROFILE_SHARE[KIND_REFUGEE])
    if near_boost is not None:
        far_share = np.where(near_boost, far_share - 0.25, far_share)
    far = rng.random(n) < far_share
    return np.where(far, _pick(rng, *FAR_PROFILES, n), _pick(rng, *NEAR_PROFILES, n))


def _jobcenter(
    rng: np.random.Generator, pop: Population, youth: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    p = pop.persons
    n = len(p)
    entry_all, asylblg_end_all = _sgb2_entry(rng, pop, youth)
    person = np.flatnonzero(entry_all < NEVER)
    m = len(person)
    entry = entry_all[person]
    kind = pop.household_value("kind")[person]
    eu = kind == KIND_EU
    young = _age_at(pop, person, entry) < 25

    frames = [_frame(person, date=entry, event="ZUGANG", asylblg_end=asylblg_end_all[person])]
    profiled = rng.random(m) < 0.97
    profile_day = entry + uniform_days(rng, 7, 60, m)
    frames.append(_frame(person[profiled], date=profile_day[profiled], event="PROFILING",
                         profile=_profiles(rng, m, kind)[profiled]))

    takes_course = rng.random(m) < np.where(eu, 0.30, 0.85)
    course_frames, first_course, b1 = _courses(rng, person[takes_course], entry[takes_course])
    frames += course_frames
    first_course_all = np.full(m, NEVER)
    first_course_all[takes_course] = first_course
    b1_all = np.full(m, NEVER)
    b1_all[takes_course] = b1

    reprofile = rng.random(m) < 0.30
    reprofile_day = entry + uniform_days(rng, 300, 600, m)
    boosted = _profiles(rng, m, kind, near_boost=b1_all <= reprofile_day)
    frames.append(_frame(person[reprofile], date=reprofile_day[reprofile], event="PROFILING",
                         profile=boosted[reprofile]))

    measure = rng.random(m) < 0.45
    measure_day = entry + uniform_days(rng, 60, 600, m)
    measure2 = measure & (rng.random(m) < 0.20)
    measure2_day = measure_day + uniform_days(rng, 120, 400, m)
    frames += [_frame(person[measure], date=measure_day[measure], event="MASSNAHME"),
               _frame(person[measure2], date=measure2_day[measure2], event="MASSNAHME")]

    # Work or training for a minority after one to three years; most then leave SGB II.
    u = rng.random(m)
    arbeit_p = np.where(eu, 0.30, np.where(young, 0.10, 0.16))
    ausbildung_p = np.where(eu, 0.05, np.where(young, 0.14, 0.06))
    job = np.where(u < arbeit_p, "ARBEIT", np.where(u < arbeit_p + ausbildung_p, "AUSBILDUNG", ""))
    job_day = entry + np.where(eu, uniform_days(rng, 90, 720, m), uniform_days(rng, 365, 1095, m))
    has_job = job != ""
    frames.append(_frame(person[has_job], date=job_day[has_job], event=job[has_job]))
    leaves_for_job = has_job & (rng.random(m) < 0.65)
    other_exit = rng.random(m) < 0.06
    exit_day = np.where(leaves_for_job, job_day + uniform_days(rng, 0, 60, m), NEVER)
    other_day = entry + uniform_days(rng, 60, 1500, m)
    exit_reason = np.where(leaves_for_job, job, "")
    use_other = other_exit & (other_day < exit_day)
    exit_day = np.where(use_other, other_day, exit_day)
    exit_reason = np.where(use_other, "SONSTIGE", exit_reason)
    left = exit_day < NEVER
    frames.append(_frame(person[left], date=exit_day[left], event="ABGANG", exit_reason=exit_reason[left]))

    rows = pd.concat(frames, ignore_index=True)
    for column, empty in (("profile", ""), ("level", ""), ("exit_reason", ""), ("asylblg_end", NEVER)):
        rows[column] = rows[column].fillna(empty)
    rows["asylblg_end"] = rows["asylblg_end"].astype(np.int64)
    exit_all = np.full(n, NEVER)
    exit_all[person] = exit_day
    rows = rows[rows["date"].to_numpy() <= exit_all[rows["person"].to_numpy()]]

    # A move while in SGB II: exit to the new city, entry there on the move day, new profiling.
    move_day = p.move_day[person]
    movers = person[(move_day < NEVER) & (move_day > entry) & (move_day <= exit_day)]
    k = len(movers)
    move = p.move_day[movers]
    moved = [
        _frame(movers, date=move - 1, event="ABGANG", exit_reason="UMZUG"),
        _frame(movers, date=move, event="ZUGANG", asylblg_end=np.full(k, NEVER)),
        _frame(movers, date=move + uniform_days(rng, 7, 45, k), event="PROFILING",
               profile=_profiles(rng, k, pop.household_value("kind")[movers])),
    ]
    rows = pd.concat([rows, *moved], ignore_index=True)
    for column, empty in (("profile", ""), ("level", ""), ("exit_reason", ""), ("asylblg_end", NEVER)):
        rows[column] = rows[column].fillna(empty)
    rows["asylblg_end"] = rows["asylblg_end"].astype(np.int64)
    rows["city"] = _city_at(pop, rows["person"].to_numpy(), rows["date"].to_numpy())
    rows["rank"] = rows["event"].map(_RANK)
    rows = rows.sort_values(["person", "date", "rank"], kind="stable").drop(columns="rank")
    rows = rows.reset_index(drop=True)

    work = np.full(n, NEVER)
    work[person[has_job]] = job_day[has_job]
    course = np.full(n, NEVER)
    course[person] = first_course_all
    b1_person = np.full(n, NEVER)
    b1_person[person] = b1_all
    within = exit_all
    milestones = {
        "asylblg_end_date": asylblg_end_all,
        "sgb2_entry_date": entry_all,
        "first_course_date": np.where(course <= within, course, NEVER),
        "b1_date": np.where(b1_person <= within, b1_person, NEVER),
        "work_or_training_date": np.where(work <= within, work, NEVER),
        "sgb2_exit_date": exit_all,
    }
    return rows, milestones


def simulate_journeys(rng: np.random.Generator, pop: Population) -> Journeys:
    """Event histories of all persons, unbounded in time; the delivery step cuts at the period end."""
    abh, abh_milestones = _abh(rng, pop)
    jugendamt, youth_milestones = _youth(rng, pop)
    jobcenter, jc_milestones = _jobcenter(rng, pop, youth_milestones)
    milestones = pd.DataFrame({**abh_milestones, **youth_milestones, **jc_milestones})
    return Journeys(abh=abh, jobcenter=jobcenter, jugendamt=jugendamt, milestones=milestones)
