"""Key rotation on a copy of the pipeline city: new pseudonyms everywhere, the same persons and figures.

The expected new pseudonyms are computed here from the generator's ground truth (the agencies' record
ids) with both keys, independently of the rotation code.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from privacy_copies import copy_city, data_folder, found_hex_in_bytes, query, text_values

from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import (
    KeyMismatchError,
    PseudonymKey,
    create_key_file,
    ensure_key_matches_warehouse,
    key_from_file,
    load_key,
)
from pipelines.privacy.rekey import RotationError, rotate_key
from pipelines.publish.release import latest_release
from pipelines.publish.tables import RELEASE_TABLES

PSEUDONYM_COLUMNS = ("record_ref", "event_ref", "household_ref", "azr_hash", "family_name_hash", "given_name_hash",
                     "family_name_phonetic", "given_name_phonetic", "birth_date_hash")


@dataclass
class Rotation:
    folder: Path
    old_key: PseudonymKey
    new_key: PseudonymKey
    registry_before: pd.DataFrame
    old_pseudonyms: set[str]
    release_before: Path
    release_after: Path
    success: bool


def _stored_pseudonyms(warehouse: Path) -> set[str]:
    values: set[str] = set()
    for table in ("abh__residence_status", "jobcenter__events", "jugendamt__cases"):
        for column in PSEUDONYM_COLUMNS:
            values.update(v for (v,) in query(warehouse, f'select distinct "{column}" from raw.{table}') if v)
    values.update(v for (v,) in query(warehouse, "select distinct event_key from marts.person_journey"))
    return values


@pytest.fixture(scope="module")
def rotation(pipeline_city, tmp_path_factory) -> Rotation:
    folder = copy_city(pipeline_city.data_dir, tmp_path_factory.mktemp("rotation") / "data")
    new_key_file = folder.parent / "keys" / "new.key"
    create_key_file(new_key_file)
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    with data_folder(folder):
        old_key, new_key = load_key(), key_from_file(new_key_file)
        registry = pd.DataFrame(query(warehouse, "select agency, record_ref, person_key from registry.person_registry"),
                                columns=["agency", "record_ref", "person_key"])
        old_pseudonyms = _stored_pseudonyms(warehouse)
        release_before = latest_release(folder / "releases")
        report = rotate_key(old_key, new_key, republish=True)
        release_after = latest_release(folder / "releases")
    return Rotation(folder, old_key, new_key, registry, old_pseudonyms, release_before, release_after,
                    bool(report.release_run_success))


def _refs_by_key(truth: Path, key: PseudonymKey) -> pd.DataFrame:
    records = pd.read_csv(truth / "truth_records.csv", dtype=str, keep_default_na=False)
    encoder = Encoder(key)
    frames = []
    for (agency, city), group in records.groupby(["agency", "city"]):
        refs = encoder.pseudonym(group["record_id"], f"record|{agency}|{city}")
        frames.append(pd.DataFrame({"agency": agency, "record_id": group["record_id"].to_numpy(),
                                    "city": city, "record_ref": refs.to_numpy()}))
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def test_rotation_republishes_successfully(rotation: Rotation) -> None:
    assert rotation.success
    assert rotation.release_after != rotation.release_before


def test_rotation_keeps_every_person_key(rotation: Rotation) -> None:
    truth = rotation.folder / "truth"
    old = _refs_by_key(truth, rotation.old_key)
    new = _refs_by_key(truth, rotation.new_key)
    mapping = old.merge(new, on=["agency", "city", "record_id"], suffixes=("_old", "_new"))
    expected = rotation.registry_before.merge(mapping, left_on=["agency", "record_ref"],
                                              right_on=["agency", "record_ref_old"])
    assert len(expected) == len(rotation.registry_before), "every stored record maps to a delivered record id"
    after = pd.DataFrame(query(rotation.folder / "warehouse" / "warehouse.duckdb",
                               "select agency, record_ref, person_key from registry.person_registry"),
                         columns=["agency", "record_ref", "person_key"])
    joined = expected.merge(after, left_on=["agency", "record_ref_new"], right_on=["agency", "record_ref"],
                            suffixes=("_before", "_after"), how="outer", indicator=True)
    assert (joined["_merge"] == "both").all(), "registry rows lost or added by the rotation"
    assert (joined["person_key_before"] == joined["person_key_after"]).all()


def test_rotation_leaves_every_figure_of_the_release_unchanged(rotation: Rotation) -> None:
    for table in RELEASE_TABLES:
        before = pd.read_parquet(rotation.release_before / f"{table.name}.parquet")
        after = pd.read_parquet(rotation.release_after / f"{table.name}.parquet")
        keys = [c for c in before.columns if c in table.keys] or list(before.columns[:1])
        pd.testing.assert_frame_equal(before.sort_values(keys).reset_index(drop=True),
                                      after.sort_values(keys).reset_index(drop=True), obj=table.name)


def test_the_release_after_rotation_names_the_new_key(rotation: Rotation) -> None:
    manifest = json.loads((rotation.release_after / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pseudonym_key_id"] == rotation.new_key.key_id != rotation.old_key.key_id
    assert rotation.new_key.secret.decode() not in json.dumps(manifest)


def test_no_pseudonym_of_the_old_key_remains_in_the_warehouse_file_or_the_data_folder(pipeline_city,
                                                                                       rotation: Rotation) -> None:
    old = rotation.old_pseudonyms
    assert len(old) > 1000
    # the scan can see them: the untouched warehouse of the session's city holds them in its bytes
    assert len(found_hex_in_bytes(pipeline_city.warehouse, old)) > len(old) // 2
    warehouse = rotation.folder / "warehouse" / "warehouse.duckdb"
    assert not found_hex_in_bytes(warehouse, old)
    assert not old & text_values(warehouse)
    leftovers = {}
    for path in rotation.folder.rglob("*"):
        if path.is_file() and path.relative_to(rotation.folder).parts[0] not in ("landing", "truth"):
            hits = found_hex_in_bytes(path, old)
            if hits:
                leftovers[str(path.relative_to(rotation.folder))] = sorted(hits)[:3]
    assert not leftovers


def test_a_run_with_the_old_key_is_refused_after_the_rotation(rotation: Rotation) -> None:
    import duckdb

    con = duckdb.connect(str(rotation.folder / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        ensure_key_matches_warehouse(con, rotation.new_key)
        with pytest.raises(KeyMismatchError, match=rotation.new_key.key_id):
            ensure_key_matches_warehouse(con, rotation.old_key)
    finally:
        con.close()


def test_rotation_refuses_a_landing_file_that_is_not_the_one_loaded(pipeline_city, tmp_path) -> None:
    folder = copy_city(pipeline_city.data_dir, tmp_path / "data")
    changed = sorted((folder / "landing" / "jobcenter").rglob("*.csv"))[0]
    changed.write_bytes(changed.read_bytes().replace(b"\n", b"\r\n", 1))
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    before = warehouse.read_bytes()
    new_key_file = tmp_path / "new.key"
    create_key_file(new_key_file)
    with data_folder(folder), pytest.raises(RotationError, match=changed.name):
        rotate_key(load_key(), key_from_file(new_key_file), republish=False)
    assert warehouse.read_bytes() == before, "a refused rotation changes nothing"
    shutil.rmtree(folder)
