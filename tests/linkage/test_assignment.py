"""A jobcenter or youth-office record has at most one counterpart in the immigration office's register.

``link._assign`` turns the pairwise scores of a record's register candidates into the posterior of an
assignment among them. These tests pin what that means on a hand-built set of scored pairs.
"""

from __future__ import annotations

import math

import duckdb
import pytest

from pipelines.linkage.link import MIN_COUNTERPART_SAMPLE, _assign, exact_sum

PRIOR = 1e-4
REGISTER = 100  # persons of the immigration office
WITH_NUMBER, FOUND = 40, 39  # jobcenter records carrying an AZR number, and how many of those the register holds


def weight(probability: float) -> float:
    """Splink's match weight of a pair: log2 of its posterior odds (the prior included)."""
    return math.log2(probability / (1 - probability))


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("""create table identities (identity_id varchar, agency varchar, record_ref varchar,
                                            azr_hash varchar, azr_is_register boolean)""")
    rows = [(f"a{i}", "abh", f"A{i}", f"azr{i}", True) for i in range(REGISTER)]
    rows += [(f"j{i}", "jobcenter", f"J{i}", f"azr{i}" if i < FOUND else "azr-elsewhere", False)
             for i in range(WITH_NUMBER)]
    rows += [("jA", "jobcenter", "JA", None, False), ("jB", "jobcenter", "JB", None, False),
             ("jC", "jobcenter", "JC", None, False), ("jD", "jobcenter", "JD", None, False),
             ("jE", "jobcenter", "JE", None, False)]
    # the youth office delivers too few AZR numbers to estimate its share
    rows += [(f"y{i}", "jugendamt", f"Y{i}", f"azr{i}", False) for i in range(MIN_COUNTERPART_SAMPLE - 1)]
    rows += [("yA", "jugendamt", "YA", None, False)]
    con.executemany("insert into identities values (?, ?, ?, ?, ?)", rows)
    con.execute("""create table scored (identity_id_l varchar, identity_id_r varchar, match_probability double,
                                        match_weight double)""")
    pairs = [
        ("a50", "jA", 0.3),  # a lone candidate
        ("a60", "jB", 0.9), ("a61", "jB", 0.9),  # two equally good candidates: a twin, a namesake
        ("jC", "a70", 0.8), ("jC", "a71", 0.02),  # a good candidate and a weak one
        ("a80", "yA", 0.3),  # youth office: no share estimated
        ("a1", "a2", 0.7),  # two register records
        ("jA", "jB", 0.6),  # two jobcenter records with different register candidates
        ("a90", "jD", 0.95), ("a90", "jE", 0.95), ("jD", "jE", 0.6),  # two jobcenter records, one candidate
    ]
    con.executemany("insert into scored values (?, ?, ?, ?)", [(left, right, p, weight(p)) for left, right, p in pairs])
    yield con
    con.close()


def link_probability(con, left: str, right: str) -> float:
    return con.execute("select link_probability from decided where identity_id_l = ? and identity_id_r = ?",
                       [left, right]).fetchone()[0]


def test_a_lone_register_candidate_is_the_posterior_of_having_a_counterpart_at_all(con):
    shares = _assign(con, {"probability_two_random_records_match": PRIOR})
    share = (FOUND + 1) / (WITH_NUMBER + 2)
    assert shares == {"counterpart_share_jobcenter": round(share, 4)}
    bayes_factor = (0.3 / 0.7) / (PRIOR / (1 - PRIOR))
    expected = share / REGISTER * bayes_factor / ((1 - share) + share / REGISTER * bayes_factor)
    assert link_probability(con, "a50", "jA") == pytest.approx(expected, rel=1e-9)
    assert link_probability(con, "a50", "jA") > 0.5 > 0.3


def test_two_equally_good_candidates_share_the_belief_and_neither_is_linked(con):
    _assign(con, {"probability_two_random_records_match": PRIOR})
    assert link_probability(con, "a60", "jB") == pytest.approx(link_probability(con, "a61", "jB"))
    assert link_probability(con, "a60", "jB") < 0.5 < 0.9


def test_a_weak_competitor_barely_moves_a_good_candidate(con):
    _assign(con, {"probability_two_random_records_match": PRIOR})
    assert link_probability(con, "jC", "a70") > 0.97
    assert link_probability(con, "jC", "a71") < 0.05


def test_pairs_outside_the_register_and_agencies_without_an_estimate_keep_their_pairwise_probability(con):
    _assign(con, {"probability_two_random_records_match": PRIOR})
    assert link_probability(con, "a80", "yA") == pytest.approx(0.3)
    assert link_probability(con, "a1", "a2") == pytest.approx(0.7)
    assert link_probability(con, "jD", "jE") == pytest.approx(0.6)
    candidates = dict(con.execute("select identity_id_r, register_candidates from decided "
                                  "where identity_id_l in ('a60', 'a61', 'a50')").fetchall())
    assert candidates == {"jB": 2, "jA": 1}


def test_two_records_outside_the_register_are_no_likelier_one_person_than_to_share_their_counterpart(con):
    _assign(con, {"probability_two_random_records_match": PRIOR})
    # jA is almost surely a50's, jB is a60's or a61's: whatever their names say, they are not one person
    a_share = link_probability(con, "a50", "jA")
    assert link_probability(con, "jA", "jB") == pytest.approx((1 - a_share) * (1 - 2 * link_probability(
        con, "a60", "jB")), abs=1e-9)
    assert link_probability(con, "jA", "jB") < 0.01


def test_exact_sums_do_not_depend_on_the_order_of_their_terms() -> None:
    """The assignment's sums are exact: a run with the score cache reads its pairs in another order than one
    without it, and must give the same probabilities to the last digit."""
    con = duckdb.connect()
    orders = ([0.1, 0.2, 0.3], [0.3, 0.2, 0.1])
    query = "select {} from (select unnest(?::double[]) as x)"
    plain = [con.execute(query.format("sum(x)"), [terms]).fetchone()[0] for terms in orders]
    exact = [con.execute(query.format(exact_sum("x")), [terms]).fetchone()[0] for terms in orders]
    assert plain[0] != plain[1]  # doubles: 0.6000000000000001 and 0.6
    assert exact[0] == exact[1] == 0.6
