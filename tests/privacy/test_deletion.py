"""Deletion on copies of the pipeline city: a deletion request and the retention period.

The proof is taken from the DuckDB file itself: DuckDB keeps deleted rows' bytes until their blocks are
reused, so "gone from the tables" is not enough. Every pseudonym of the deleted rows is searched in the
file's bytes (and, because DuckDB may compress strings, in every text column); the untouched warehouse of
the session's city shows that the search finds them where they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook
from privacy_copies import copy_city, data_folder, found_in_bytes, query, text_values

from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import load_key
from pipelines.privacy.database_file import drop_derived_tables
from pipelines.privacy.deletion import delete_expired, delete_records, months_before
from pipelines.publish.release import latest_release

RAW_TABLES = {"abh": "abh__residence_status", "jobcenter": "jobcenter__events", "jugendamt": "jugendamt__cases"}


@dataclass
class Request:
    folder: Path
    agency: str
    city: str
    record_id: str
    record_ref: str
    person_key: str
    derived: set[str]  # the record's keyed references and every key derived from it (person, journey events)
    registry_before: pd.DataFrame
    persons_before: int
    release_before: Path
    report: object


def _person_with_one_record(warehouse: Path) -> tuple[str, str, str, str]:
    """(agency, city, record_ref, person_key) of a record whose person has no other record (the jobcenter's
    if there is one: its file has many rows per record)."""
    union = " union all ".join(f"select distinct '{agency}' as agency, city, record_ref from raw.{table}"
                               for agency, table in RAW_TABLES.items())
    agency, city, record_ref, person_key = query(warehouse, f"""
        select r.agency, raw_rows.city, r.record_ref, r.person_key from registry.person_registry r
        join ({union}) raw_rows using (agency, record_ref)
        where r.person_key in (select person_key from registry.person_registry group by 1 having count(*) = 1)
        order by r.agency = 'jobcenter' desc, r.record_ref limit 1""")[0]
    return agency, city, record_ref, person_key


@pytest.fixture(scope="module")
def request_deletion(pipeline_city, tmp_path_factory) -> Request:
    folder = copy_city(pipeline_city.data_dir, tmp_path_factory.mktemp("request") / "data")
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    with data_folder(folder):
        key = load_key()
        agency, city, record_ref, person_key = _person_with_one_record(warehouse)
        truth = pd.read_csv(folder / "truth" / "truth_records.csv", dtype=str, keep_default_na=False)
        candidates = truth[(truth["agency"] == agency) & (truth["city"] == city)]["record_id"].drop_duplicates()
        refs = Encoder(key).pseudonym(candidates, f"record|{agency}|{city}")
        record_id = candidates[refs == record_ref].iloc[0]
        table = RAW_TABLES[agency]
        derived = {record_ref, person_key}
        derived |= {v for (v,) in query(warehouse, f"select event_ref from raw.{table} where record_ref = ?",
                                        [record_ref])}
        derived |= {v for (v,) in query(warehouse, "select event_key from marts.person_journey where person_key = ?",
                                        [person_key])}
        registry = pd.DataFrame(query(warehouse, "select agency, record_ref, person_key from registry.person_registry"),
                                columns=["agency", "record_ref", "person_key"])
        persons = query(warehouse, "select count(distinct person_key) from marts.person_journey")[0][0]
        release_before = latest_release(folder / "releases")
        report = delete_records(agency, city, [record_id], key, "TEST-2026-001")
    return Request(folder, agency, city, record_id, record_ref, person_key, derived, registry, persons,
                   release_before, report)


def test_the_deleted_records_pseudonyms_are_gone_from_the_database_file(pipeline_city,
                                                                        request_deletion: Request) -> None:
    derived = request_deletion.derived
    assert len(derived) >= 3
    # Before: every value is in the untouched warehouse, and the byte scan finds some of them there (which
    # ones depends on how DuckDB compressed each column's block; compressed ones are why the text columns
    # are read as well).
    assert derived <= text_values(pipeline_city.warehouse), "the values are in the warehouse before"
    assert found_in_bytes(pipeline_city.warehouse, derived), "the byte scan sees them before"
    warehouse = request_deletion.folder / "warehouse" / "warehouse.duckdb"
    assert not found_in_bytes(warehouse, derived)
    assert not derived & text_values(warehouse)


def test_derived_tables_dropped_by_a_deletion_include_the_checks_record_and_the_journey_digests(tmp_path) -> None:
    """The checks keep hashes of the rows they found valid (``meta.validated_rows``), the per-person journey
    models their committed digests by person key (``meta.journey_person_digests``): a deletion or key
    rotation drops both with the other derived tables, and the next run rebuilds them from what is left."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema meta; create schema marts")
        con.execute("create table meta.validated_rows (suite varchar, suite_digest varchar, row_hash ubigint)")
        con.execute("create table meta.journey_person_digests (person_key varchar, digest ubigint)")
        con.execute("create table meta.deliveries (delivery_id varchar)")
        con.execute("create table marts.person_journey (person_key varchar)")
        assert sorted(drop_derived_tables(con)) == ["marts.person_journey", "meta.journey_person_digests",
                                                    "meta.validated_rows"]
        assert con.execute("select table_name from duckdb_tables()").fetchall() == [("deliveries",)]


def test_the_deleted_record_is_gone_from_raw_registry_and_marts(request_deletion: Request) -> None:
    warehouse = request_deletion.folder / "warehouse" / "warehouse.duckdb"
    table = RAW_TABLES[request_deletion.agency]
    assert query(warehouse, f"select count(*) from raw.{table} where record_ref = ?",
                 [request_deletion.record_ref])[0][0] == 0
    assert query(warehouse, "select count(*) from registry.person_registry where record_ref = ?",
                 [request_deletion.record_ref])[0][0] == 0
    assert query(warehouse, "select count(*) from marts.person_journey where person_key = ?",
                 [request_deletion.person_key])[0][0] == 0


def test_other_persons_keep_their_keys_after_the_deletion(request_deletion: Request) -> None:
    warehouse = request_deletion.folder / "warehouse" / "warehouse.duckdb"
    after = pd.DataFrame(query(warehouse, "select agency, record_ref, person_key from registry.person_registry"),
                         columns=["agency", "record_ref", "person_key"])
    expected = request_deletion.registry_before[request_deletion.registry_before["record_ref"]
                                                != request_deletion.record_ref]
    merged = expected.merge(after, on=["agency", "record_ref"], how="outer", suffixes=("_before", "_after"))
    assert len(merged) == len(expected) == len(after)
    assert (merged["person_key_before"] == merged["person_key_after"]).all()


def test_the_next_release_no_longer_counts_the_deleted_person(request_deletion: Request) -> None:
    assert request_deletion.report.build_success
    release = latest_release(request_deletion.folder / "releases")
    assert release != request_deletion.release_before
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["linkage"]["persons_in_journey"] == request_deletion.persons_before - 1


def test_the_deleted_records_rows_are_gone_from_the_landing_files(request_deletion: Request) -> None:
    landing = request_deletion.folder / "landing" / request_deletion.agency
    record_id = request_deletion.record_id
    for path in landing.rglob("*"):
        if path.suffix == ".csv":
            assert record_id.encode() not in path.read_bytes(), path.name
        elif path.suffix == ".xlsx":
            cells = {str(c) for row in load_workbook(path, read_only=True).active.iter_rows(values_only=True)
                     for c in row}
            assert record_id not in cells, path.name


def test_the_deletion_is_logged_without_the_identifier(request_deletion: Request) -> None:
    warehouse = request_deletion.folder / "warehouse" / "warehouse.duckdb"
    rows = query(warehouse, "select kind, reference, agency, city, records, raw_rows, persons_removed "
                            "from meta.deletions")
    assert rows == [("request", "TEST-2026-001", request_deletion.agency, request_deletion.city, 1,
                     request_deletion.report.raw_rows, 1)]
    assert request_deletion.report.raw_rows > 0
    assert not {request_deletion.record_id, request_deletion.record_ref} & text_values(warehouse)


def test_delivery_register_still_reconciles_after_the_deletion(request_deletion: Request) -> None:
    warehouse = request_deletion.folder / "warehouse" / "warehouse.duckdb"
    read, loaded, quarantined = query(warehouse, "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
                                                 "from meta.deliveries where not superseded")[0]
    assert read == loaded + quarantined
    notes = query(warehouse, "select count(*) from meta.deliveries where not superseded "
                             "and message like '%deletion request TEST-2026-001%'")[0][0]
    assert notes >= 1


# --- retention ------------------------------------------------------------------------------------

def test_deliveries_older_than_the_retention_period_are_gone_from_landing_warehouse_and_file(pipeline_city,
                                                                                              tmp_path) -> None:
    folder = copy_city(pipeline_city.data_dir, tmp_path / "data")
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    first_kept = months_before("2016-04", 3)
    assert first_kept == "2016-02"
    expired_refs: set[str] = set()
    for table in RAW_TABLES.values():
        expired_refs |= {v for (v,) in query(warehouse, f"select event_ref from raw.{table} "
                                                        "where delivery_month < ?", [first_kept])}
    assert expired_refs and found_in_bytes(warehouse, expired_refs) == expired_refs
    with data_folder(folder):
        report = delete_expired(3, as_of="2016-04", rebuild=False)
    assert report.raw_rows > 0 and report.files_deleted == 9  # three agencies, three cities, one month
    for table in RAW_TABLES.values():
        assert query(warehouse, f"select count(*) from raw.{table} where delivery_month < ?", [first_kept])[0][0] == 0
    assert not [p for p in (folder / "landing").rglob("*") if "2016-01" in p.parts]
    assert query(warehouse, "select distinct status from meta.deliveries where delivery_month < ?",
                 [first_kept]) == [("deleted",)]
    orphans = query(warehouse, """select count(*) from registry.person_registry r where not exists (
        select 1 from raw.abh__residence_status a where a.record_ref = r.record_ref union all
        select 1 from raw.jobcenter__events j where j.record_ref = r.record_ref union all
        select 1 from raw.jugendamt__cases c where c.record_ref = r.record_ref)""")[0][0]
    assert orphans == 0
    assert query(warehouse, "select count(*) from duckdb_tables() where schema_name in ('intermediate', 'marts')"
                 )[0][0] == 0, "derived tables are dropped until the next build rebuilds them"
    still_delivered = set()
    for table in RAW_TABLES.values():
        still_delivered |= {v for (v,) in query(warehouse, f"select event_ref from raw.{table}")}
    gone = expired_refs - still_delivered
    assert gone and not found_in_bytes(warehouse, gone)
    assert query(warehouse, "select kind, records from meta.deletions")[0][0] == "retention"


def test_a_dry_run_deletes_nothing(pipeline_city, tmp_path) -> None:
    folder = copy_city(pipeline_city.data_dir, tmp_path / "data")
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    before = warehouse.read_bytes()
    with data_folder(folder):
        report = delete_expired(3, as_of="2016-04", dry_run=True)
    assert report.raw_rows > 0 and report.dry_run
    assert warehouse.read_bytes() == before
    assert (folder / "landing" / "abh" / "2016-01").is_dir()
