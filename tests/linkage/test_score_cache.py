"""The score cache: a run that reuses the previous run's scored pairs links exactly as a run without it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from pipelines.linkage.link import link_identities, train_model


def persons(result) -> set[frozenset[tuple[str, str]]]:
    frame = result.records.to_pandas()
    return {frozenset(zip(g["agency"], g["record_ref"], strict=True)) for _, g in frame.groupby("cluster_id")}


def pairs(result):
    frame = result.score_cache.pairs.to_pandas()
    return frame.sort_values(["identity_id_l", "identity_id_r"]).reset_index(drop=True)


def test_new_and_changed_records_are_scored_and_the_rest_reused_with_the_same_outcome(identities) -> None:
    model = train_model(identities)
    earlier = identities.filter(pa.array(np.random.default_rng(3).random(identities.num_rows) < 0.85))
    previous = link_identities(earlier, model=model)
    # a month later: new records, and some known records moved to another district
    frame = identities.to_pandas()
    moved = frame.index[frame["identity_id"].isin(earlier.column("identity_id").to_pylist())][:25]
    frame.loc[moved, "district"] = "elsewhere"
    later = pa.Table.from_pandas(frame, preserve_index=False)

    incremental = link_identities(later, model=model, cache=previous.score_cache)
    full = link_identities(later, model=model)

    new_records = later.num_rows - earlier.num_rows
    assert new_records + len(moved) <= incremental.counts["identities_scored"] < later.num_rows
    assert incremental.counts["pairs_reused"] > 0
    assert full.counts["identities_scored"] == later.num_rows and full.counts["pairs_reused"] == 0
    assert persons(incremental) == persons(full)
    assert pairs(incremental).equals(pairs(full))
    assert incremental.review_queue.to_pandas().equals(full.review_queue.to_pandas())


def test_a_cache_of_another_model_is_not_used(identities) -> None:
    model = train_model(identities)
    previous = link_identities(identities, model=model)
    stale = dataclasses.replace(previous.score_cache, model_version="identity-v0-other")
    again = link_identities(identities, model=model, cache=stale)
    assert again.counts["identities_scored"] == identities.num_rows and again.counts["pairs_reused"] == 0
    assert persons(again) == persons(previous)


def test_a_run_reports_where_its_time_went_phase_by_phase(identities) -> None:
    result = link_identities(identities, model=train_model(identities))
    phases = result.phase_seconds
    assert list(phases) == ["load", "train", "edges", "score", "assign", "cluster", "constraints", "review_queue",
                            "records_and_cache"]
    assert all(seconds >= 0 for seconds in phases.values())
    assert phases["train"] < 0.05  # the model was given, not trained
    assert sum(phases.values()) == pytest.approx(result.seconds, abs=0.05)


def test_the_order_of_the_identity_records_changes_nothing(identities) -> None:
    """read_identities does not sort: the model, persons, pairs, review queue and cache are the same in any order."""
    shuffled = identities.take(pa.array(np.random.default_rng(5).permutation(identities.num_rows)))
    model, model_shuffled = train_model(identities), train_model(shuffled)
    def parameters(saved: dict) -> dict:
        return {key: value for key, value in saved.items() if key != "linker_uid"}  # a random id per linker

    assert parameters(model_shuffled) == parameters(model)
    ordered, unordered = link_identities(identities, model=model), link_identities(shuffled, model=model)
    assert persons(unordered) == persons(ordered)
    assert ordered.records.sort_by([("agency", "ascending"), ("record_ref", "ascending")]).equals(
        unordered.records.sort_by([("agency", "ascending"), ("record_ref", "ascending")]))
    assert pairs(unordered).equals(pairs(ordered))
    assert unordered.review_queue.to_pandas().equals(ordered.review_queue.to_pandas())
    assert unordered.score_cache.identities.equals(ordered.score_cache.identities)


def test_linking_from_the_warehouse_file_gives_what_its_records_give(pipeline_city, identities) -> None:
    """The linkage step reads the identity records from the warehouse file inside DuckDB (their Bloom
    filters as BIT); tests and the evaluation hand over ``read_identities``' Arrow table (the filters as
    text). The same records must give the same persons, pairs and fingerprints: the score cache's reuse
    rests on the fingerprints."""
    model = train_model(identities)
    from_table = link_identities(identities, model=model)
    from_file = link_identities(pipeline_city.warehouse, model=model)
    assert from_file.records.equals(from_table.records)
    assert from_file.score_cache.identities.equals(from_table.score_cache.identities)
    assert pairs(from_file).equals(pairs(from_table))
    assert from_file.counts == from_table.counts
