"""Stewards' review decisions bind later runs; person keys do not churn when nothing changed."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.linkage.evaluate import key_churn, measure_churn
from pipelines.linkage.link import link_identities, train_model
from pipelines.linkage.review import load_decisions, record_decision


@pytest.fixture(scope="module")
def model(identities):
    return train_model(identities)


def clusters_of(result) -> dict[tuple[str, str], str]:
    frame = result.records.to_pandas()
    return {(a, r): c for a, r, c in zip(frame["agency"], frame["record_ref"], frame["cluster_id"], strict=True)}


def test_a_rejected_pair_is_never_one_person_and_an_accepted_pair_always_is(identities, model):
    first = link_identities(identities, model=model)
    records = first.records.to_pandas()
    linked = records[records["link_method"] == "probabilistic"].groupby("cluster_id").head(2)
    pair = linked.groupby("cluster_id").filter(lambda g: len(g) == 2).head(2)
    assert len(pair) == 2, "the city has probabilistic links to review"
    (a1, r1), (a2, r2) = pair[["agency", "record_ref"]].itertuples(index=False)
    singles = records[records["link_method"] == "singleton"].head(2)
    (s1, t1), (s2, t2) = singles[["agency", "record_ref"]].itertuples(index=False)

    decisions = pd.DataFrame([
        {"agency_l": a1, "record_ref_l": r1, "agency_r": a2, "record_ref_r": r2, "decision": "reject"},
        {"agency_l": s1, "record_ref_l": t1, "agency_r": s2, "record_ref_r": t2, "decision": "accept"},
    ])
    second = link_identities(identities, model=model, decisions=decisions)
    clusters = clusters_of(second)
    assert clusters[(a1, r1)] != clusters[(a2, r2)]
    assert clusters[(s1, t1)] == clusters[(s2, t2)]
    methods = second.records.to_pandas().set_index(["agency", "record_ref"])["link_method"]
    assert methods[(s1, t1)] == "reviewed"
    assert second.counts["reviewed_rejects"] == 1


def test_the_review_queue_holds_uncertain_pairs_with_their_evidence_and_no_clear_text(identities, model,
                                                                                       monkeypatch):
    import pipelines.linkage.link as link

    # a small city has few uncertain pairs: widen the band so the queue's content can be checked
    monkeypatch.setattr(link, "REVIEW_BAND", (0.01, 1.0))
    queue = link_identities(identities, model=model).review_queue.to_pandas()
    assert len(queue) > 0
    assert queue["match_probability"].between(0.01, 1.0).all()
    assert {"name_level", "birth_date_level", "azr_level"} <= set(queue.columns)
    assert queue["record_ref_l"].str.fullmatch(r"[0-9a-f]{32}").all()


def test_the_latest_decision_on_a_pair_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    record_decision("abh", "a" * 32, "jobcenter", "b" * 32, "accept", reviewer="steward")
    record_decision("jobcenter", "b" * 32, "abh", "a" * 32, "reject", reviewer="steward")
    decisions = load_decisions()
    assert decisions["decision"].tolist() == ["reject"]
    with pytest.raises(ValueError):
        record_decision("abh", "a", "abh", "b", "maybe", reviewer="steward")


def test_key_churn_counts_only_persons_whose_records_did_not_change():
    before = pd.DataFrame({"agency": ["abh"] * 4, "record_ref": ["a", "b", "c", "d"],
                           "person_key": ["P1", "P1", "P2", "P3"], "identity": ["1", "2", "3", "4"]})
    after = before.assign(person_key=["P1", "P1", "P9", "P3"], identity=["1", "2", "3", "4x"])
    churn = key_churn(before, after)
    assert churn["unchanged_persons"] == 2 and churn["churned_persons"] == 1  # P2 renamed, P3 changed


def test_a_person_joined_by_a_corrected_record_of_another_person_has_new_evidence():
    before = pd.DataFrame({"agency": ["abh", "jobcenter", "abh"], "record_ref": ["a", "j", "b"],
                           "person_key": ["P1", "P2", "P3"], "identity": ["1", "2", "3"]})
    # the jobcenter corrected its record, which now links to P1's record and brings its key along
    after = pd.DataFrame({"agency": ["abh", "jobcenter", "abh"], "record_ref": ["a", "j", "b"],
                          "person_key": ["P2", "P2", "P3"], "identity": ["1", "2x", "3"]})
    churn = key_churn(before, after)
    assert churn["unchanged_persons"] == 1 and churn["churned_persons"] == 0
    assert churn["persons_with_new_evidence"] == 2


def test_adding_a_month_does_not_change_the_keys_of_unchanged_persons(tmp_path, monkeypatch):
    from pipelines.synthetic import generate

    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    generate(tmp_path, persons=400, start="2016-05", months=3, seed=11)
    churn = measure_churn(tmp_path)
    assert churn["unchanged_persons"] > 300
    assert churn["churned_persons"] == 0
