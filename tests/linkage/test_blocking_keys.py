"""Adaptive blocking keys: a block larger than the limit is refined, a smaller one is not."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from pipelines.ingest.encodings import BLOOM_BITS
from pipelines.linkage.link import _load, _workspace
from pipelines.linkage.model import BLOCK_LIMIT


def identities(n: int) -> pa.Table:
    """``n`` records sharing family name code and birth year; half of them women; one without a birth year."""
    bloom = "01" * (BLOOM_BITS // 2)
    rows = [{
        "identity_id": f"id{i:04d}", "agency": "abh", "record_ref": f"r{i}", "azr_hash": None,
        "family_name_hash": "fam", "given_name_hash": f"given{i}", "family_name_phonetic": "F1",
        "given_name_phonetic": f"G{i}", "family_name_bloom": bloom, "given_name_bloom": bloom, "azr_bloom": None,
        "birth_year": None if i == n - 1 else 1990, "birth_date_hash": f"dob{i}", "sex": "f" if i % 2 else "m",
        "nationality": "SYR", "city": "wuppertal", "district": "elberfeld", "azr_is_register": False,
    } for i in range(n)]
    return pa.Table.from_pylist(rows)


def keys(table: pa.Table, limit: int, key: str = "block_family") -> dict[str, tuple]:
    con = _workspace()
    try:
        _load(con, table, limit)
        return {r[0]: r[1:] for r in con.execute(
            f"select identity_id, {key}, uid, fingerprint from identities order by identity_id").fetchall()}
    finally:
        con.close()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))  # linkage spills there


def test_a_block_within_the_limit_keeps_its_base_key_and_a_larger_one_is_refined_by_sex() -> None:
    table = identities(11)  # ten with the birth year, one without
    small = keys(table, limit=10)
    assert {small[f"id{i:04d}"][0] for i in range(10)} == {"0|F1|1990"}
    refined = keys(table, limit=9)
    assert {refined[f"id{i:04d}"][0] for i in range(10)} == {"1|F1|1990|m", "1|F1|1990|f"}
    # a record without a base column has no key: it is blocked by the other rules only
    assert small["id0010"][0] is None and refined["id0010"][0] is None


def test_ids_for_splink_follow_the_identity_order_and_the_fingerprint_follows_the_keys() -> None:
    table = identities(11)
    small, refined = keys(table, limit=10), keys(table, limit=9)
    assert [v[1] for _, v in sorted(small.items())] == list(range(1, 12))
    # a changed key means other pairs: the score cache must not reuse the record's pairs
    assert small["id0000"][2] != refined["id0000"][2]
    assert small["id0010"][2] == refined["id0010"][2]


def test_without_a_limit_loading_refines_blocks_larger_than_the_models_limit() -> None:
    table = identities(BLOCK_LIMIT + 2)  # BLOCK_LIMIT + 1 records share the block
    con = _workspace()
    try:
        _load(con, table)
        default = dict(con.execute("select identity_id, block_family from identities").fetchall())
    finally:
        con.close()
    assert {default[f"id{i:04d}"] for i in range(BLOCK_LIMIT + 1)} == {"1|F1|1990|m", "1|F1|1990|f"}
    assert {v[0] for v in keys(table, BLOCK_LIMIT + 1).values()} == {"0|F1|1990", None}


def test_a_block_still_too_large_in_one_district_needs_the_other_names_code_too() -> None:
    table = identities(11)  # per sex five records with the birth year, all of one nationality, in one district
    finest = keys(table, limit=4)
    assert finest["id0000"][0] == "5|F1|1990|m|SYR|wuppertal|elberfeld|G0"
    assert len({finest[f"id{i:04d}"][0] for i in range(10)}) == 10


def test_every_name_key_takes_its_own_last_column_where_a_district_block_is_still_too_large() -> None:
    table = identities(11)
    for column, value in (("given_name_hash", "given"), ("given_name_phonetic", "G")):  # one given name for all
        table = table.set_column(table.schema.get_field_index(column), column, pa.array([value] * 11))
    district = "m|SYR|wuppertal|elberfeld"
    assert keys(table, 4, "block_given")["id0000"][0] == f"5|G|1990|{district}|F1"
    # the names key: the birth year, so the record without one is in a block of its own
    names = keys(table, 4, "block_names")
    assert names["id0000"][0] == f"4|fam|given|{district}|1990"
    assert names["id0010"][0] == f"4|fam|given|{district}|~"
    # a crossed key: the birth date
    assert keys(table, 4, "block_token_family")["id0000"][0] == f"5|F1|1990|{district}|dob0"
    # the birth-date key has no last column: its blocks stay small
    assert keys(table, 4, "block_birth_date")["id0000"][0] == "0|dob0|m"


def test_a_load_that_fails_leaves_no_table_behind_and_the_next_load_works(tmp_path) -> None:
    """The keys are computed over temporary tables (``_load``); a failure half-way (here a block limit that
    is not a number, in the key SQL) must not leave them, nor the warehouse attached, to the next load."""
    table = identities(11)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as file:
        file.execute("create schema intermediate")
        file.register("records", table)
        file.execute("""create table intermediate.int_identity_records as select * replace (
            family_name_bloom::bit as family_name_bloom, given_name_bloom::bit as given_name_bloom,
            azr_bloom::bit as azr_bloom) from records""")
    con = _workspace()
    try:
        for source in (table, warehouse):
            with pytest.raises(duckdb.Error):
                _load(con, source, "'not a number'")  # type: ignore[arg-type]
            assert con.execute("select table_name from duckdb_tables()").fetchall() == []
            assert "warehouse" not in {name for (name,) in con.execute("select database_name from duckdb_databases()"
                                                                       ).fetchall()}
            assert _load(con, source, 10) == 11
            con.execute("drop table identities")
    finally:
        con.close()
