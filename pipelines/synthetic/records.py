"""From true histories to what an agency delivers: records, noise, delivery months, corrections.

A *record* is one person's file at one agency in one city (Aktenzeichen, kundennummer,
Fall-Nr). A person gets a second record in the same agency when they move to another
city or when a clerk registers them a second time (a duplicate). Each record draws its
own noise, so the same person is spelled differently across agencies and across a
duplicate pair, exactly the situation linkage has to untangle.

Each row is delivered in the month it was *recorded* (0-2 months after the event);
everything recorded before the first month goes into the initial load. A record whose
name had a typo or whose birth date was a placeholder may be corrected in a later
month: its earlier rows are then re-sent with the same row id and the fixed value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import dates, names
from .dates import NEVER, uniform_days
from .noise import AgencyNoise
from .population import Population

NOISE_FLAGS = ("translit", "swap", "typo", "placeholder_dob", "azr_missing", "azr_typo", "moved_city",
               "duplicate")
NO_MONTH = 1_000_000
PLACEHOLDER_CORRELATION = 1.6
"""Placeholder birth dates concentrate on persons without papers: the latent share of such persons is
1.6 x the placeholder rate, so two agencies often, but not always, both lack the real date."""


@dataclass
class AgencyRecords:
    """One agency's rows, records and the (row, month) versions to deliver."""

    agency: str
    rows: pd.DataFrame
    """The agency's columns plus ``record`` (index into records), ``row_no`` (per-city running number),
    ``recorded`` and, for episodes, ``end_recorded``."""
    records: pd.DataFrame
    """One per record: person, city, record_no (per-city running number), spelled names before and
    after correction, birth-date and AZR fields, noise flags, correction month."""
    versions: pd.DataFrame
    """row (index into rows), month (delivery index), corrected, ended."""


def recording_lag(rng: np.random.Generator, n: int) -> np.ndarray:
    """Days between an event and its entry in the case software: mostly weeks, sometimes two months."""
    u = rng.random(n)
    return np.where(u < 0.6, uniform_days(rng, 0, 20, n),
                    np.where(u < 0.9, uniform_days(rng, 21, 45, n), uniform_days(rng, 46, 75, n)))


def _split_duplicates(
    rng: np.random.Generator, rows: pd.DataFrame, rate: float, period: dates.Period
) -> pd.DataFrame:
    """Mark rows that a second registration of the person carries (``part`` 1).

    From a random row on, the person's rows go to the second record; a person with a single row gets
    a re-registered copy of it some months later.
    """
    rows = rows.sort_values(["person", "date"], kind="stable").reset_index(drop=True)
    person = rows["person"].to_numpy()
    starts = np.r_[True, person[1:] != person[:-1]]
    group_start = np.flatnonzero(starts)
    count = np.diff(np.r_[group_start, len(person)])
    group = np.cumsum(starts) - 1
    rank = np.arange(len(person)) - group_start[group]
    dup = rng.random(len(group_start)) < rate
    split = 1 + np.floor(rng.random(len(group_start)) * np.maximum(count - 1, 1)).astype(np.int64)
    rows["part"] = (dup[group] & (count[group] > 1) & (rank >= split[group])).astype(np.int64)
    single = np.flatnonzero(dup & (count == 1))
    copies = rows.iloc[group_start[single]].copy()
    copies["part"] = 1
    copies["recorded"] = copies["recorded"].to_numpy() + uniform_days(rng, 30, 365, len(copies))
    copies = copies[copies["recorded"].to_numpy() <= period.end_day]
    return pd.concat([rows, copies], ignore_index=True)


def _spell_names(
    rng: np.random.Generator, pop: Population, person: np.ndarray, noise: AgencyNoise
) -> dict[str, np.ndarray]:
    """Family and given names as this agency wrote them, before and after a typo fix, plus flags."""
    p = pop.persons
    n = len(person)
    given_var, t1 = names.respell(rng, p.given_fam[person], p.given_var[person], noise.translit)
    middle_var, t2 = names.respell(rng, p.middle_fam[person], p.middle_var[person], noise.translit)
    family_var, t3 = names.respell(rng, p.family_fam[person], p.family_var[person], noise.translit)
    given = names.NAMES.spell(p.given_fam[person], given_var)
    middle = names.NAMES.spell(p.middle_fam[person], middle_var)
    family = names.NAMES.spell(p.family_fam[person], family_var)
    feminine = np.flatnonzero(p.feminine[person])
    family[feminine] = names.feminine_surname(family[feminine])
    dropped = rng.random(n) < noise.middle_drop
    has_middle = (middle != "") & ~dropped
    given = np.where(has_middle, given + " " + middle, given)
    translit = t1 | (t2 & has_middle) | t3
    swap = rng.random(n) < noise.swap
    family, given = np.where(swap, given, family), np.where(swap, family, given)

    typo = rng.random(n) < noise.typo
    in_family = rng.random(n) < 0.6
    op = rng.integers(0, 4, n)
    pos, choice = rng.random(n), rng.random(n)
    family_typo, given_typo = family.copy(), given.copy()
    for i in np.flatnonzero(typo):  # a few percent of records: per-row Python is fine here
        if in_family[i]:
            family_typo[i] = names.typo(family[i], int(op[i]), float(pos[i]), float(choice[i]))
        else:
            given_typo[i] = names.typo(given[i], int(op[i]), float(pos[i]), float(choice[i]))
    return {
        "family_name": family_typo, "given_name": given_typo,
        "family_name_fixed": family, "given_name_fixed": given,
        "translit": translit, "swap": swap, "typo": typo,
    }


def _mistype_azr(azr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One wrong digit or two swapped neighbours, as happens when copying 12 digits by hand."""
    out = azr.astype(str).astype(object)
    pos = rng.integers(1, 11, len(out))
    swap = rng.random(len(out)) < 0.5
    digit = rng.integers(0, 10, len(out))
    for i, text in enumerate(out):
        j = int(pos[i])
        if swap[i] and text[j] != text[j + 1]:
            out[i] = text[:j] + text[j + 1] + text[j] + text[j + 2:]
        else:
            new = str((int(text[j]) + 1 + int(digit[i]) % 9) % 10)
            out[i] = text[:j] + new + text[j + 1:]
    return out


def build_records(
    agency: str,
    rows: pd.DataFrame,
    pop: Population,
    period: dates.Period,
    noise: AgencyNoise,
    correction_rate: float,
    rng: np.random.Generator,
    end_column: str | None = None,
) -> AgencyRecords:
    """Records, noise and delivery versions of one agency's true rows.

    ``rows`` needs ``person``, ``date`` (the day the row is about) and ``city``; ``end_column`` names
    a second date (an episode's end) whose recording makes the row re-appear.
    """
    rows = rows.copy()
    rows["recorded"] = rows["date"].to_numpy() + recording_lag(rng, len(rows))
    rows = rows[rows["recorded"].to_numpy() <= period.end_day]
    if end_column:
        end = rows[end_column].to_numpy()
        rows["end_recorded"] = np.where(end < NEVER, end + recording_lag(rng, len(rows)), NEVER)
    rows = _split_duplicates(rng, rows, noise.duplicate, period)

    # --- records: (person, city, part) ---
    person = rows["person"].to_numpy()
    city = rows["city"].to_numpy().astype(np.int64)
    key = (person * 4 + city) * 2 + rows["part"].to_numpy()
    keys, record = np.unique(key, return_inverse=True)
    rows["record"] = record
    r = len(keys)
    rec_person, rec_city = keys // 8, (keys // 2) % 4
    first_recorded = np.full(r, NEVER)
    np.minimum.at(first_recorded, record, rows["recorded"].to_numpy())
    # Running numbers per city in the order files were opened, as a case system hands them out.
    order = np.lexsort((keys, first_recorded, rec_city))
    rec_sorted_city = rec_city[order]
    city_start = np.r_[True, rec_sorted_city[1:] != rec_sorted_city[:-1]]
    running = np.arange(r) - np.flatnonzero(city_start)[np.cumsum(city_start) - 1]
    record_no = np.empty(r, dtype=np.int64)
    record_no[order] = running + 1

    records = pd.DataFrame({"person": rec_person, "city": rec_city, "record_no": record_no,
                            "first_month": period.delivery_index(first_recorded)})
    same_city = pd.Series(rec_person * 4 + rec_city).map(pd.Series(rec_person * 4 + rec_city).value_counts())
    records["duplicate"] = same_city.to_numpy() > 1
    cities_per_person = pd.Series(rec_city).groupby(rec_person).nunique()
    records["moved_city"] = cities_per_person.reindex(rec_person).to_numpy() > 1

    for column, values in _spell_names(rng, pop, rec_person, noise).items():
        records[column] = values
    p = pop.persons
    uncertain_share = min(1.0, PLACEHOLDER_CORRELATION * noise.placeholder_dob)
    conditional = noise.placeholder_dob / uncertain_share if uncertain_share > 0 else 0.0
    records["placeholder_dob"] = (p.dob_latent[rec_person] < uncertain_share) & (rng.random(r) < conditional)
    records["birth"] = p.birth[rec_person]
    azr_missing = rng.random(r) < noise.azr_missing
    azr_typo = ~azr_missing & (rng.random(r) < noise.azr_typo)
    azr = p.azr[rec_person].astype(str).astype(object)
    azr[azr_typo] = _mistype_azr(p.azr[rec_person][azr_typo], rng)
    azr[azr_missing] = ""
    records["azr"] = azr
    records["azr_missing"] = azr_missing
    records["azr_typo"] = azr_typo

    # --- corrections: a later month re-sends the record's rows with the typo or placeholder fixed ---
    last = period.months - 1
    # A placeholder only hides something when the real birthday is not 1 January itself.
    jan_first = dates.month_first_day(dates.month_number(records["birth"].to_numpy()) // 12 * 12)
    hides_date = records["placeholder_dob"].to_numpy() & (records["birth"].to_numpy() != jan_first)
    fixable = records["typo"].to_numpy() | hides_date
    first_month = records["first_month"].to_numpy()
    corrected = fixable & (first_month < last) & (rng.random(r) < correction_rate)
    month = first_month + 1 + np.floor(rng.random(r) * np.maximum(last - first_month, 1)).astype(np.int64)
    records["correction_month"] = np.where(corrected, month, NO_MONTH)
    noise_text = np.full(r, "", dtype=object)
    for flag in NOISE_FLAGS:
        noise_text = noise_text + np.where(records[flag].to_numpy(), flag + ";", "")
    records["noise"] = pd.Series(noise_text, dtype=object).str.rstrip(";").to_numpy()

    # --- row numbers per city in recording order (Vorgangsnr, ereignis_id) ---
    rows = rows.reset_index(drop=True)
    row_order = np.lexsort((rows["date"].to_numpy(), record_no[record], rows["recorded"].to_numpy(), city))
    sorted_city = city[row_order]
    starts = np.r_[True, sorted_city[1:] != sorted_city[:-1]]
    row_no = np.empty(len(rows), dtype=np.int64)
    row_no[row_order] = np.arange(len(rows)) - np.flatnonzero(starts)[np.cumsum(starts) - 1] + 1
    rows["row_no"] = row_no

    versions = _versions(rows, records, period, end_column is not None)
    return AgencyRecords(agency=agency, rows=rows, records=records, versions=versions)


def _versions(rows: pd.DataFrame, records: pd.DataFrame, period: dates.Period, episodes: bool) -> pd.DataFrame:
    """Each (row, delivery month) in which the row is sent, with its state in that month."""
    n = len(rows)
    idx = np.arange(n)
    base = period.delivery_index(rows["recorded"].to_numpy())
    correction = records["correction_month"].to_numpy()[rows["record"].to_numpy()]
    end = np.full(n, NO_MONTH)
    if episodes:
        end_recorded = rows["end_recorded"].to_numpy()
        end = np.where(end_recorded < NEVER, period.delivery_index(end_recorded), NO_MONTH)
    month = np.concatenate([base, end, correction])
    row = np.concatenate([idx, idx, idx])
    valid = (month >= base[row]) & (month < period.months)
    keys = np.unique(row[valid] * period.months + month[valid])
    row, month = keys // period.months, keys % period.months
    return pd.DataFrame({
        "row": row,
        "month": month,
        "corrected": correction[row] <= month,
        "ended": end[row] <= month,
    })
