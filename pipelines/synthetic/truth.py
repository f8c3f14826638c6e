"""Ground truth for evaluation: which record belongs to which true person, and who they are.

Written to ``<out>/truth/``, outside the landing zone, because the pipeline must never
see it: it exists so that tests and the linkage evaluation can score the pipeline.
Dates after the end of the period are left empty: as of the last delivery they have
not happened yet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.config import CITIES

from . import dates, names, origins
from .dates import NEVER
from .journeys import Journeys
from .layouts import padded, record_ids
from .population import KIND_EU, KIND_UMF, ROLE_NAMES, Population
from .records import AgencyRecords

TRUTH_RECORD_COLUMNS = ("agency", "city", "record_id", "person_id", "noise")


def person_ids(n: int) -> np.ndarray:
    """``P0000001`` ...: stable ids in person order (seven digits hold ten million persons)."""
    return "P" + padded(np.arange(n) + 1, 7)


def _household_ids(household: np.ndarray) -> np.ndarray:
    return "H" + padded(household + 1, 7)


def truth_records(bundles: dict[str, AgencyRecords], n_persons: int) -> pd.DataFrame:
    """One row per record id found in the landing files, with its person and noise flags."""
    ids = person_ids(n_persons)
    frames = []
    for agency, bundle in bundles.items():
        recs = bundle.records
        frames.append(pd.DataFrame({
            "agency": agency,
            "city": np.array(CITIES, dtype=object)[recs["city"].to_numpy()],
            "record_id": record_ids(bundle),
            "person_id": ids[recs["person"].to_numpy()],
            "noise": recs["noise"].to_numpy(),
        }, columns=list(TRUTH_RECORD_COLUMNS)))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["agency", "city", "record_id"], kind="stable").reset_index(drop=True)


def _decision(pop: Population, milestones: pd.DataFrame, end_day: int) -> np.ndarray:
    kind = pop.household_value("kind")
    recognised = pop.household_value("recognised")
    decided = milestones["decision_date"].to_numpy() <= end_day
    return np.select(
        [kind == KIND_EU, pop.persons.reunion, decided & recognised, decided],
        ["FZG", "AE_FAM", "AE", "DULD"],
        default="pending",
    )


def persons_table(pop: Population, journeys: Journeys, period: dates.Period) -> pd.DataFrame:
    """One row per true person with the attributes and true milestones used to simulate them."""
    p = pop.persons
    n = len(p)
    fmt = dates.DateFormatter(int(p.birth.min()), period.end_day)

    def upto_end(days: np.ndarray) -> np.ndarray:
        return fmt.iso(np.where(np.asarray(days) <= period.end_day, days, NEVER))

    m = journeys.milestones
    moved = p.move_day <= period.end_day
    table = {
        "person_id": person_ids(n),
        "city": np.array(CITIES, dtype=object)[p.city],
        "sex": np.array(["m", "f", "x"], dtype=object)[p.sex],
        "birth_date": fmt.iso(p.birth),
        "nationality": origins.origin_column("iso3")[pop.household_value("origin")],
        "arrival_date": fmt.iso(p.arrival),
        "household_id": _household_ids(p.household),
        "household_role": ROLE_NAMES[p.role],
        "unaccompanied_minor": pop.household_value("kind") == KIND_UMF,
        "youth_welfare_accompanied": p.youth_case,
        "family_reunion": p.reunion,
        "eu_free_movement": pop.household_value("kind") == KIND_EU,
        "given_name": names.NAMES.spell(p.given_fam, p.given_var),
        "middle_name": names.NAMES.spell(p.middle_fam, p.middle_var),
        "family_name": names.NAMES.spell(p.family_fam, p.family_var),
        "azr_number": p.azr.astype(str),
        "asylum_decision": _decision(pop, m, period.end_day),
    }
    feminine = np.flatnonzero(p.feminine)
    table["family_name"][feminine] = names.feminine_surname(table["family_name"][feminine])
    for column in ("asylum_pending_date", "recognition_date", "asylblg_end_date", "sgb2_entry_date",
                   "first_course_date", "b1_date", "work_or_training_date", "sgb2_exit_date",
                   "youth_care_start_date", "youth_care_end_date", "age18_date", "settlement_date",
                   "departure_date"):
        table[column] = upto_end(m[column].to_numpy())
    table["youth_follow_up"] = np.where(m["youth_care_end_date"].to_numpy() <= period.end_day,
                                        m["youth_follow_up"].to_numpy(), "")
    table["moved_to_city"] = np.where(moved, np.array(CITIES + ("",), dtype=object)[p.move_city], "")
    table["move_date"] = upto_end(p.move_day)
    return pd.DataFrame(table)


def write_truth(out_dir: Path, pop: Population, journeys: Journeys, bundles: dict[str, AgencyRecords],
                period: dates.Period) -> list[Path]:
    folder = out_dir / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    records_path = folder / "truth_records.csv"
    persons_path = folder / "persons.csv"
    truth_records(bundles, len(pop.persons)).to_csv(records_path, index=False, encoding="utf-8", lineterminator="\n")
    persons_table(pop, journeys, period).to_csv(persons_path, index=False, encoding="utf-8",
                                                lineterminator="\n")
    return [records_path, persons_path]
