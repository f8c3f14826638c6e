"""Person keys survive new runs; merges and splits are recorded, never silent renumbering."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from pipelines.linkage.registry import update_registry


def records(*rows: tuple[str, str, int]) -> pa.Table:
    return pa.table({
        "agency": [r[0] for r in rows], "record_ref": [r[1] for r in rows],
        "cluster_id": [str(r[2]) for r in rows], "link_method": ["deterministic"] * len(rows),
    })


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def keys(con) -> dict[str, str]:
    return dict(con.execute("select record_ref, person_key from registry.person_registry").fetchall())


def test_unchanged_clusters_keep_their_keys_even_when_cluster_ids_change(con):
    update_registry(con, records(("abh", "a", 1), ("jobcenter", "b", 1), ("abh", "c", 2)), "r1")
    first = keys(con)
    update_registry(con, records(("abh", "a", 7), ("jobcenter", "b", 7), ("abh", "c", 3)), "r2")
    assert keys(con) == first
    assert first["a"] == first["b"] != first["c"]
    assert con.execute("select count(*) from registry.identity_history").fetchone()[0] == 0


def test_new_records_joining_a_person_get_that_persons_key(con):
    update_registry(con, records(("abh", "a", 1), ("abh", "c", 2)), "r1")
    first = keys(con)
    summary = update_registry(con, records(("abh", "a", 1), ("jugendamt", "n", 1), ("abh", "c", 2)), "r2")
    assert keys(con)["n"] == first["a"]
    assert summary["new_persons"] == 0


def test_a_merge_keeps_the_larger_persons_key_and_is_recorded(con):
    update_registry(con, records(("abh", "a", 1), ("jobcenter", "b", 1), ("abh", "c", 2)), "r1")
    first = keys(con)
    update_registry(con, records(("abh", "a", 1), ("jobcenter", "b", 1), ("abh", "c", 1)), "r2")
    assert set(keys(con).values()) == {first["a"]}
    history = con.execute("select change, person_key, other_person_key from registry.identity_history").fetchall()
    assert history == [("merge", first["a"], first["c"])]


def test_a_split_keeps_the_key_with_the_larger_part_and_is_recorded(con):
    update_registry(con, records(("abh", "a", 1), ("jobcenter", "b", 1), ("jugendamt", "c", 1)), "r1")
    old = keys(con)["a"]
    update_registry(con, records(("abh", "a", 1), ("jobcenter", "b", 1), ("jugendamt", "c", 2)), "r2")
    now = keys(con)
    assert now["a"] == now["b"] == old and now["c"] != old
    history = con.execute("select change, person_key, other_person_key from registry.identity_history").fetchall()
    assert history == [("split", old, now["c"])]


def test_keys_are_reproducible_for_the_same_records(con):
    update_registry(con, records(("abh", "a", 1), ("abh", "c", 2)), "r1")
    other = duckdb.connect()
    update_registry(other, records(("abh", "c", 5), ("abh", "a", 9)), "r1")
    assert keys(con) == dict(other.execute("select record_ref, person_key from registry.person_registry").fetchall())


def test_a_record_split_from_the_person_named_after_it_gets_a_key_of_its_own(con):
    # The first person's key derives from record "a"; when "a" leaves, the larger part keeps the
    # key and "a" must not be given the same key again.
    update_registry(con, records(("abh", "a", 1), ("jobcenter", "b", 1), ("jugendamt", "c", 1)), "r1")
    old = keys(con)["a"]
    update_registry(con, records(("abh", "a", 2), ("jobcenter", "b", 1), ("jugendamt", "c", 1)), "r2")
    now = keys(con)
    assert now["b"] == now["c"] == old
    assert now["a"] != old


def test_a_run_rewrites_only_the_rows_whose_person_or_link_method_changed(con):
    update_registry(con, records(("abh", "a", 1), ("jobcenter", "b", 1), ("abh", "c", 2)), "r1")
    changed = records(("abh", "a", 1), ("jobcenter", "b", 1), ("abh", "c", 1), ("jugendamt", "n", 3))
    update_registry(con, changed.set_column(3, "link_method", pa.array(
        ["deterministic", "probabilistic", "deterministic", "singleton"])), "r2")
    runs = {ref: (first, last) for ref, first, last in con.execute(
        "select record_ref, first_run_id, last_run_id from registry.person_registry").fetchall()}
    # a: same person, same method; b: another method; c: merged into a's person; n: new
    assert runs == {"a": ("r1", "r1"), "b": ("r1", "r2"), "c": ("r1", "r2"), "n": ("r2", "r2")}
