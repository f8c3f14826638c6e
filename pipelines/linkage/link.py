"""Cluster identity records into persons: deterministic rules plus the Splink model.

Edges come from three sources and are clustered together (connected components):
- the same agency record (``record_ref``) in several identity variants, e.g. after a correction;
- the same pseudonymised AZR number (national register number, held reliably by the
  immigration office, sometimes by the others);
- pairs the Splink model scores at or above ``MATCH_THRESHOLD``; for a record of the jobcenter or the
  youth office and a person of the immigration office's register, the probability is the one of an
  assignment among all of the record's register candidates (``_assign``).
Splink runs in its own in-memory DuckDB so that its working tables never touch the warehouse.

Incremental runs: scoring pairs is the costly part, and with a saved model a pair's score depends
only on its two identity records. The scored pairs of the last run are kept (``ScoreCache``, stored
by the linkage asset in the warehouse's ``linkage_cache`` schema); a run with the same model scores
only the pairs that involve a new identity record or one whose compared fields changed, and takes
the others from the cache. Clustering, constraints and review always see every pair, so the result
is the one a run without the cache gives.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.clustering import cluster_pairwise_predictions_at_threshold

from pipelines.config import data_paths
from pipelines.linkage.model import (
    BLOCK_KEYS,
    BLOCK_LIMIT,
    BLOOM_COLUMNS,
    CROSSED_KEYS,
    DETERMINISTIC_RULES,
    FREQUENT_NAME_SHARE,
    KEY_SOURCE_COLUMNS,
    MATCH_THRESHOLD,
    MODEL_NAME,
    REVIEW_BAND,
    REVIEW_FLOOR,
    TRAINING_BLOCKS,
    block_keys_sql,
    bloom_words_sql,
    crossed_keys_sql,
    settings,
)

log = logging.getLogger(__name__)


@dataclass
class ScoreCache:
    """The pairs scored in a run, and what they were scored on: reused by the next run with the same model."""

    model_version: str
    identities: pa.Table  # identity_id, fingerprint (a hash of every field the comparisons read)
    pairs: pa.Table  # Splink's predictions at or above REVIEW_FLOOR


@dataclass
class LinkageResult:
    records: pa.Table  # agency, record_ref, cluster_id, link_method
    model_version: str
    model_json: dict
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    review_queue: pa.Table | None = None  # uncertain pairs for clerical review
    estimated_errors: dict[str, float] = field(default_factory=dict)
    score_cache: ScoreCache | None = None
    phase_seconds: dict[str, float] = field(default_factory=dict)  # where the time went, for logs and metadata


IDENTITY_RELATION = "intermediate.int_identity_records"
_IDENTITY_FIELDS = (
    "identity_id", "agency", "record_ref", "azr_hash", "family_name_hash", "given_name_hash", "family_name_phonetic",
    "given_name_phonetic", "family_name_bloom", "given_name_bloom", "azr_bloom", "birth_year", "birth_date_hash",
    "sex", "nationality", "city", "district", "azr_is_register",
)
# Read inside DuckDB (``_load`` from the warehouse file), the Bloom filters stay BIT; read into Arrow
# (``read_identities``), which has no bit-string type, they travel as '0101...' text.
NATIVE_IDENTITY_COLUMNS = ", ".join(_IDENTITY_FIELDS)
IDENTITY_COLUMNS = ", ".join(f"{c}::varchar as {c}" if c in BLOOM_COLUMNS else c for c in _IDENTITY_FIELDS)


# What the comparisons, the constraints and the review queue read of an identity record.
COMPARED_FIELDS = (
    "agency", "record_ref", "azr_hash", "family_name_hash", "given_name_hash", "family_name_phonetic",
    "given_name_phonetic", "family_name_bloom", "given_name_bloom", "azr_bloom", "birth_year", "birth_date_hash",
    "sex", "nationality", "city", "district", "azr_is_register", "family_name_frequent", *BLOCK_KEYS,
    *CROSSED_KEYS,
)


# How ``fingerprint`` is computed, part of the score cache's version: a cache of fingerprints computed otherwise
# is not reused. DuckDB's 64-bit ``hash`` of the fields themselves: at 1,000,000 persons 0.3 s, where an md5 of
# their texts joined took 2.5 s (the Bloom filters are long texts). A changed record keeps its fingerprint, and
# its stale scores, with a probability of 2^-64; a new DuckDB version that hashes otherwise rescores everyone once.
FINGERPRINT = "hash64"


def read_identities(warehouse: duckdb.DuckDBPyConnection) -> pa.Table:
    """The identity records linkage works on, from the dbt model ``intermediate.int_identity_records``.

    In no particular order: ``_load`` computes everything from them by grouping and joining, and stores
    the result ordered by ``identity_id``. Sorting here too cost 1.3-1.6 s at 1,000,000 persons.
    """
    return warehouse.execute(f"select {IDENTITY_COLUMNS} from {IDENTITY_RELATION}").to_arrow_table()


def _edges_sql() -> str:
    # Star edges to the smallest member: O(n) instead of all pairs in a large group.
    return """
    with by_record as (
        select identity_id, min(identity_id) over (partition by agency, record_ref) as anchor, 'record' as rule
        from identities
    ), by_azr as (
        select identity_id, min(identity_id) over (partition by azr_hash) as anchor, 'azr' as rule
        from identities where azr_hash is not null
    )
    select anchor as identity_id_l, identity_id as identity_id_r, rule from by_record where anchor <> identity_id
    union all
    select anchor, identity_id, rule from by_azr where anchor <> identity_id
    """


class _Components:
    """Union-find that refuses unions breaking a cannot-link constraint.

    Constraints: a component holds at most one register AZR number, and no rejected record pair.
    """

    def __init__(self, nodes: dict[str, tuple[str, str | None]], rejected: set[frozenset[str]]) -> None:
        # node -> (record key, register number or None)
        self.parent = {node: node for node in nodes}
        self.number = {node: number for node, (_, number) in nodes.items()}
        self.records = {node: {record} for node, (record, _) in nodes.items()}
        self.rejected = rejected

    def find(self, node: str) -> str:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def _allowed(self, a: str, b: str) -> bool:
        if self.number[a] and self.number[b] and self.number[a] != self.number[b]:
            return False
        return not any(frozenset((x, y)) in self.rejected for x in self.records[a] for y in self.records[b])

    def union(self, a: str, b: str, force: bool = False) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if not force and not self._allowed(root_a, root_b):
            return False
        self.parent[root_b] = root_a
        self.number[root_a] = self.number[root_a] or self.number[root_b]
        self.records[root_a] |= self.records.pop(root_b)
        return True


def resolve_conflicts(con: duckdb.DuckDBPyConnection) -> int:
    """Split clusters that break a cannot-link constraint.

    Connected components chain weak links: A~B and B~C put A and C together even when A and C
    carry different AZR numbers from the register (certainly two persons) or were rejected as a
    pair by a data steward. Only the few clusters where that happened are rebuilt here, adding
    their edges strongest first and skipping an edge that would break a constraint.
    Returns the number of clusters rebuilt.
    """
    conflicted = con.execute("""
        select c.cluster_id from identities i join clusters c using (identity_id)
        where i.azr_is_register and i.azr_hash is not null
        group by c.cluster_id having count(distinct i.azr_hash) > 1
        union
        select a.cluster_id from decided_pairs d
        join clusters a on a.identity_id = d.identity_id_l join clusters b on b.identity_id = d.identity_id_r
        where d.decision = 'reject' and a.cluster_id = b.cluster_id
    """).fetchall()
    if not conflicted:
        return 0
    con.execute("create or replace temp table conflicted as select unnest(?::varchar[]) as cluster_id",
                [[str(row[0]) for row in conflicted]])
    nodes = con.execute("""
        select c.identity_id, c.cluster_id, i.agency || ':' || i.record_ref,
               case when i.azr_is_register then i.azr_hash end
        from clusters c join conflicted on c.cluster_id::varchar = conflicted.cluster_id
        join identities i using (identity_id)
    """).fetchall()
    edges = con.execute("""
        select e.identity_id_l, e.identity_id_r, e.strength
        from all_edges e join clusters c on c.identity_id = e.identity_id_l
        join conflicted on c.cluster_id::varchar = conflicted.cluster_id
        order by e.strength desc, e.identity_id_l, e.identity_id_r
    """).fetchall()
    rejected = {frozenset((f"{al}:{rl}", f"{ar}:{rr}")) for al, rl, ar, rr in con.execute(
        "select agency_l, record_ref_l, agency_r, record_ref_r from decisions where decision = 'reject'").fetchall()}
    components = _Components({node: (record, number) for node, _, record, number in nodes}, rejected)
    for left, right, strength in edges:
        # one agency record is one person (3.0), and a steward's accept (2.5) overrides the register rule
        components.union(left, right, force=strength >= 2.5)
    cluster_of = {node: str(cluster) for node, cluster, _, _ in nodes}
    con.execute("alter table clusters alter cluster_id type varchar")
    # One update joined to the new ids (an update per node scans the whole table each time: at a million
    # persons, thousands of rebuilt clusters made that the slowest part of linkage).
    rebuilt = pa.table({"identity_id": list(cluster_of),
                        "new_cluster_id": [f"{cluster_of[node]}~{components.find(node)}" for node in cluster_of]})
    con.register("rebuilt_clusters", rebuilt)
    con.execute("""update clusters set cluster_id = r.new_cluster_id from rebuilt_clusters r
                   where clusters.identity_id = r.identity_id""")
    con.unregister("rebuilt_clusters")
    return len(conflicted)


MIN_COUNTERPART_SAMPLE = 30  # records with an AZR number needed to estimate an agency's counterpart share


def exact_sum(expression: str, clause: str = "") -> str:
    """SQL: the sum of ``expression`` (values between 0 and 1) to 30 decimal places, whatever the rows' order.

    ``clause``: a FILTER or OVER clause of the sum. A sum of doubles depends on the order its terms are
    added in, which DuckDB's threads and joins do not fix: the probabilities of a run with the score cache
    differed in the last digits from those of a run without it, and so did the review queue's. Decimals
    add exactly (at most 10^8 - 1 before the point). A NaN term fails the cast; the scored pairs' weights
    are finite, as each pair has a probability of at least REVIEW_FLOOR.
    """
    return f"(sum(({expression})::decimal(38, 30)) {clause})::double"


def _assign(con: duckdb.DuckDBPyConnection, model: dict[str, Any]) -> dict[str, float]:
    """Create table ``decided``: every scored pair with ``link_probability``, the probability links are made on.

    The pairwise model asks of each pair alone whether its two records are one person. For a record of
    the jobcenter or the youth office and the immigration office's register there is more to know: a
    refugee's file at the jobcenter has at most one counterpart among the register's persons (a person
    there is one AZR number), and almost always one, since every foreign national living in the city has
    a file at its immigration office. So the candidates compete. With ``pi`` the share of the agency's
    records that have a counterpart, ``N`` register persons and ``BF_k`` the Bayes factor of candidate k
    (the pair's match weight without the prior), the posterior that k is the counterpart is

        (pi / N) * BF_k / ((1 - pi) + (pi / N) * sum_i BF_i)

    A lone good candidate becomes more likely than its pair score says, two similar candidates (a
    household member, a twin, a namesake) share the belief instead of both being linked. ``pi`` is
    estimated on this run's data, per agency, from the records that carry an AZR number: the share whose
    number the register holds (with one success and one failure added, so that it never reaches 1).
    Agencies with fewer than ``MIN_COUNTERPART_SAMPLE`` such records keep their pairwise probabilities.
    Pairs not between a register record and another agency's record keep theirs, too.

    Returns the counterpart share per agency (for the run's record).
    """
    prior = float(model["probability_two_random_records_match"])
    prior_weight = math.log2(prior / (1 - prior))
    con.execute("""create or replace temp table register_numbers as
        select distinct azr_hash from identities where azr_is_register and azr_hash is not null""")
    shares = con.execute(f"""
        with records as (
            select agency, record_ref, bool_or(azr_hash in (select azr_hash from register_numbers)) as found
            from identities where not azr_is_register and azr_hash is not null group by agency, record_ref)
        select agency, (count(*) filter (where found) + 1) / (count(*) + 2) as share
        from records group by agency having count(*) >= {MIN_COUNTERPART_SAMPLE}""").fetchall()
    con.execute("create or replace temp table counterpart_share (agency varchar, share double)")
    if shares:
        con.executemany("insert into counterpart_share values (?, ?)", [[a, float(v)] for a, v in shares])
    # Each scored pair once with what the assignment reads of its two records; a register person is its AZR
    # number (or, lacking one, its record).
    con.execute("""create or replace temp table record_persons as
        select identity_id, agency, record_ref, azr_is_register,
               case when azr_is_register then coalesce(azr_hash, agency || ':' || record_ref) end as person
        from identities""")
    con.execute("""create or replace temp table pair_records as
        select s.identity_id_l, s.identity_id_r, s.match_weight,
               a.agency as agency_l, a.record_ref as record_ref_l, a.azr_is_register as register_l,
               a.person as person_l,
               b.agency as agency_r, b.record_ref as record_ref_r, b.azr_is_register as register_r,
               b.person as person_r
        from scored s join record_persons a on a.identity_id = s.identity_id_l
        join record_persons b on b.identity_id = s.identity_id_r""")
    con.execute(f"""create or replace temp table crossed as
        select identity_id_l, identity_id_r,
               case when register_l then agency_r else agency_l end as agency,
               case when register_l then record_ref_r else record_ref_l end as record_ref,
               coalesce(person_l, person_r) as person,
               match_weight - {prior_weight} as log2_bf
        from pair_records where register_l <> register_r""")
    con.execute(f"""create or replace temp table posterior as
        with persons as (
            select count(distinct person) as n from record_persons
        ), candidates as (
            select agency, record_ref, person, max(log2_bf) as log2_bf from crossed group by all
        ), scaled as (
            -- in units of the record's best candidate, so that no power of two overflows
            select c.*, sh.share, max(log2_bf) over (partition by agency, record_ref) as top,
                   count(*) over (partition by agency, record_ref) as n_candidates
            from candidates c join counterpart_share sh using (agency)
        )
        select agency, record_ref, person, n_candidates,
               (share / p.n) * pow(2, log2_bf - top) / ((1 - share) * pow(2, -top)
                   + (share / p.n) * {exact_sum('pow(2, log2_bf - top)', 'over (partition by agency, record_ref)')})
               as probability
        from scaled, persons p""")
    # Two records outside the register are one person only if they have the same counterpart there (or
    # both none): with both records' assignments known, that probability bounds the pair's.
    con.execute(f"""create or replace temp table same_counterpart as
        with records as (
            select agency, record_ref, greatest(1 - {exact_sum('probability')}, 0) as p_none
            from posterior group by all
        ), pairs as (
            select identity_id_l, identity_id_r, agency_l, record_ref_l, agency_r, record_ref_r
            from pair_records
            where not register_l and not register_r and (agency_l, record_ref_l) <> (agency_r, record_ref_r)
        ), shared as (
            select p.identity_id_l, p.identity_id_r, {exact_sum('x.probability * y.probability')} as p_same
            from pairs p
            join posterior x on x.agency = p.agency_l and x.record_ref = p.record_ref_l
            join posterior y on y.agency = p.agency_r and y.record_ref = p.record_ref_r and y.person = x.person
            group by all
        )
        select p.identity_id_l, p.identity_id_r, coalesce(s.p_same, 0) + rl.p_none * rr.p_none as probability
        from pairs p
        join records rl on rl.agency = p.agency_l and rl.record_ref = p.record_ref_l
        join records rr on rr.agency = p.agency_r and rr.record_ref = p.record_ref_r
        left join shared s using (identity_id_l, identity_id_r)""")
    con.execute("""create or replace table decided as
        select s.*, case when a.probability is not null then a.probability
                         when c.probability is not null then least(s.match_probability, c.probability)
                         else s.match_probability end as link_probability,
               a.n_candidates as register_candidates
        from scored s
        left join (select x.identity_id_l, x.identity_id_r, p.probability, p.n_candidates
                   from crossed x join posterior p using (agency, record_ref, person)) a
               using (identity_id_l, identity_id_r)
        left join same_counterpart c using (identity_id_l, identity_id_r)""")
    return {f"counterpart_share_{agency}": round(float(share), 4) for agency, share in shares}


def _review_queue(con: duckdb.DuckDBPyConnection, model: dict[str, Any]) -> pa.Table:
    """Pairs whose probability lies in the uncertain band and that no steward has decided yet.

    ``match_probability`` is the probability the link decision used (``decided.link_probability``);
    ``pairwise_probability`` the model's for the pair alone, and ``register_candidates`` how many register
    persons competed for the record (null for pairs that are not between the register and another agency).
    """
    labels = {c["output_column_name"]: [lvl.get("label_for_charts") for lvl in c["comparison_levels"]
                                        if not lvl.get("is_null_level")]
              for c in model["comparisons"]}
    gammas = [r[0] for r in con.execute("select column_name from information_schema.columns "
                                        "where table_name = 'scored' and column_name like 'gamma_%'").fetchall()]
    queue = con.execute(f"""
        select a.agency as agency_l, a.record_ref as record_ref_l, b.agency as agency_r, b.record_ref as record_ref_r,
               s.link_probability as match_probability, s.match_probability as pairwise_probability,
               s.register_candidates, s.match_weight, s.link_probability >= {MATCH_THRESHOLD} as linked_by_model,
               {', '.join(gammas) if gammas else "null as gamma_none"}
        from decided s
        join identities a on a.identity_id = s.identity_id_l join identities b on b.identity_id = s.identity_id_r
        where s.link_probability >= {REVIEW_BAND[0]} and s.link_probability < {REVIEW_BAND[1]}
          and a.record_ref <> b.record_ref
          and not exists (select 1 from decisions d where
                (d.agency_l = a.agency and d.record_ref_l = a.record_ref and d.agency_r = b.agency
                 and d.record_ref_r = b.record_ref)
             or (d.agency_l = b.agency and d.record_ref_l = b.record_ref and d.agency_r = a.agency
                 and d.record_ref_r = a.record_ref))
        qualify row_number() over (partition by least(a.record_ref, b.record_ref), greatest(a.record_ref, b.record_ref)
                                   order by s.link_probability desc, s.identity_id_l, s.identity_id_r) = 1
        order by abs(s.link_probability - {MATCH_THRESHOLD}), agency_l, record_ref_l, agency_r, record_ref_r
    """).df()
    # Splink numbers levels from the weakest (0, "else") up; -1 is the null level.
    for gamma in gammas:
        levels = labels.get(gamma.removeprefix("gamma_"), [])
        queue[gamma.removeprefix("gamma_") + "_level"] = queue[gamma].map(
            lambda g, levels=levels: "fehlt" if pd.isna(g) or g < 0 else levels[len(levels) - 1 - int(g)])
    return pa.Table.from_pandas(queue, preserve_index=False)


def _estimated_errors(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Model-based error estimates: the expected number of wrong links among the links made, and of
    true links among the pairs left unlinked (down to the review floor), from the pairs' probabilities."""
    linked, unlinked = f"link_probability >= {MATCH_THRESHOLD}", f"link_probability < {MATCH_THRESHOLD}"
    made, expected_false, expected_missed = con.execute(f"""
        select count(*) filter (where {linked}),
               coalesce({exact_sum('1 - link_probability', f'filter (where {linked})')}, 0),
               coalesce({exact_sum('link_probability', f'filter (where {unlinked})')}, 0)
        from decided""").fetchone()
    return {
        "model_links": int(made),
        "expected_false_links": round(float(expected_false), 1),
        "expected_missed_links": round(float(expected_missed), 1),
        "estimated_link_precision": round(1 - float(expected_false) / made, 4) if made else 1.0,
        "estimated_link_recall": round(made / (made + float(expected_missed)), 4) if made else 1.0,
    }


def _workspace() -> duckdb.DuckDBPyConnection:
    """Splink's in-memory DuckDB, bounded in memory: beyond the limit it spills to the data folder.

    At a million persons the blocked pairs alone outgrow the machine's memory otherwise.
    ``INTEGRATION_LINKAGE_MEMORY`` sets the limit (DuckDB's notation, default 4GB).
    """
    spill = data_paths().root / "linkage" / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(config={"memory_limit": os.environ.get("INTEGRATION_LINKAGE_MEMORY", "4GB"),
                                  "temp_directory": str(spill)})


def _load(con: duckdb.DuckDBPyConnection, identities: pa.Table | str | Path, block_limit: int = BLOCK_LIMIT,
          ordered: bool = True) -> int:
    """Table ``identities`` in the workspace: the records with Bloom-filter words, blocking keys, uid, fingerprint.

    ``identities``: the records as ``read_identities`` gives them, or the warehouse file, attached read-only
    while the records are copied. From the file they go from table to table inside DuckDB, their Bloom
    filters as BIT, and the 1.45 million records of 1,000,000 persons are not also held in Python while
    linkage runs.

    The keys are computed over a narrow copy of the columns they read, and the wide table (42 columns) is
    written once, with the keys joined in: at 1,000,000 persons loading took 8.2-8.9 s so, against 12.3-13.6 s
    when the wide table was written first and again with the keys (the Bloom-filter words' faster form is
    part of that gain, ``bloom_words_sql``).

    ``ordered``: the rows in identity_id order, which training needs (``_train``: its sums follow the rows'
    order). Scoring with a given model reads each pair alone and sums exactly (``exact_sum``), so a month's
    run leaves the rows in the join's order: at 1,000,000 persons the statement that writes the 42 wide
    columns took 3.4-3.9 s so, 5.0-6.9 s sorted by uid and 6.7-8.0 s sorted by the 32-character ids.
    """
    if isinstance(identities, str | Path):
        con.execute(f"attach '{str(identities).replace(chr(39), chr(39) * 2)}' as warehouse (read_only)")
        source = f"(select {NATIVE_IDENTITY_COLUMNS} from warehouse.{IDENTITY_RELATION})"
    else:
        # Bloom filters travel as '0101...' text (Arrow has no bit-string type) and become BIT again here.
        con.register("identities_arrow", identities)
        try:
            con.execute("""create temp table identity_source as select * replace (
                family_name_bloom::varchar::bit as family_name_bloom,
                given_name_bloom::varchar::bit as given_name_bloom,
                azr_bloom::varchar::bit as azr_bloom) from identities_arrow""")
        finally:
            con.unregister("identities_arrow")
        source = "identity_source"
    try:
        # The narrow copy is named ``identities``, the table the key SQL of model.py reads; the frequent-name
        # flag reads family_name_hash, a key column too.
        con.execute(f"create temp table identities as select {', '.join(KEY_SOURCE_COLUMNS)} from {source}")
        con.execute(f"""create temp table frequent_names as
            select family_name_hash, count(*) / sum(count(*)) over () > {FREQUENT_NAME_SHARE} as family_name_frequent
            from identities group by family_name_hash""")
        # Blocking keys, refined where a block would be too large (model.BLOCK_KEYS). Each set of keys is its own
        # table: as subqueries of one statement they took four times as long as apart (1,000,000 persons,
        # counted then on the keys' texts: 43 s against 11 s).
        con.execute(f"create temp table block_keys as {block_keys_sql(block_limit)}")
        con.execute(f"create temp table crossed_keys as {crossed_keys_sql(block_limit)}")
        con.execute("drop table temp.identities")
        words = ", ".join(bloom_words_sql(c) for c in BLOOM_COLUMNS)
        # ``uid``: a small integer id for Splink (in identity_id order, so pairs keep their orientation); the
        # blocked pairs of a million persons as pairs of 32-character ids would not fit in memory.
        # ``fingerprint``: every field a comparison or a blocking rule reads; a cached score is valid while the
        # fingerprints of its pair are unchanged (FINGERPRINT).
        # The comparisons read the Bloom filters as 64-bit words (model.dice); the BIT columns stay for models
        # saved before that.
        con.execute(f"""create table identities as
            with keyed as (
                select *, row_number() over (order by identity_id) as uid
                from block_keys join crossed_keys using (identity_id)
            ), fields as (
                select i.*, {words}, coalesce(f.family_name_frequent, false) as family_name_frequent,
                       k.* exclude (identity_id, uid), k.uid
                from {source} i join keyed k using (identity_id)
                left join frequent_names f on i.family_name_hash is not distinct from f.family_name_hash
            )
            select *, hash({', '.join(COMPARED_FIELDS)}) as fingerprint from fields
            {"order by uid" if ordered else ""}""")
    finally:
        con.execute("drop table if exists temp.identities; drop table if exists temp.identity_source; "
                    "drop table if exists temp.frequent_names; drop table if exists temp.block_keys; "
                    "drop table if exists temp.crossed_keys")
        if source != "identity_source":
            con.execute("detach warehouse")
    return int(con.execute("select count(*) from identities").fetchone()[0])


def train_model(identities: pa.Table, seed: int = 1) -> dict[str, Any]:
    """Estimate the model's parameters without labels: u by random sampling, m by EM on two blocks."""
    con = _workspace()
    try:
        _load(con, identities)
        return _train(con, seed)
    finally:
        con.close()


# Pairs of random records the u probabilities are counted on, every one of them: Splink's early exit (stop
# after a probe of 1 % once every level has 100 pairs) is switched off. At 1,000,000 persons it left the u of
# nationality anywhere between 0.14 and 0.37 from one sample to the next (0.30-0.31 with every pair
# counted), sex and location as unsettled. Counting all 2,000,000 pairs takes 1.5-1.6 s against 1.3 s, once
# per model; 10,000,000 settle the rare name levels a little more for 4 s more (docs/linkage.md).
U_SAMPLE_PAIRS = 2e6


def _train(con: duckdb.DuckDBPyConnection, seed: int) -> dict[str, Any]:
    """``train_model`` on a workspace that holds the loaded ``identities``.

    On one thread: EM sums probabilities over the pairs, and DuckDB's threads add their partial sums in
    whatever order they finish, so two trainings on the same records differed in the last digits of the
    m probabilities (and so in the model's version). One thread adds them in the rows' order, which
    ``_load`` fixes: the same records, read in any order, give the same model.
    """
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    con.execute("set threads = 1")
    try:
        return _estimate(con, seed)
    finally:
        con.execute(f"set threads = {int(threads)}")


def _estimate(con: duckdb.DuckDBPyConnection, seed: int) -> dict[str, Any]:
    linker = Linker(DuckDBAPI(connection=con).register("identities"), settings())
    linker.training.estimate_probability_two_random_records_match(DETERMINISTIC_RULES, recall=0.7)
    # num_chunks=1: without the early exit Splink's probe (a first chunk of 1 %) is wasted work; the counts
    # are the same in one chunk
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=seed, min_count_per_level=None,
                                                     num_chunks=1)
    for block in TRAINING_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(block)
    return linker.misc.save_model_to_json()


def model_version(model: dict[str, Any]) -> str:
    """A version name that changes whenever the model's parameters change."""
    return MODEL_NAME + "-" + hashlib.sha256(json.dumps(model, sort_keys=True, default=str).encode()).hexdigest()[:10]


DECISION_COLUMNS = ["agency_l", "record_ref_l", "agency_r", "record_ref_r", "decision"]


def _score(con: duckdb.DuckDBPyConnection, db_api: DuckDBAPI, model: dict[str, Any], version: str,
           cache: ScoreCache | None) -> tuple[dict[str, int], str]:
    """Create table ``scored``: every pair the blocking rules find with a probability >= REVIEW_FLOOR.

    Returns counts and the version the scores belong to (the model's and the blocking rules').

    With a cache from the same model, only pairs involving an identity record that is new or whose
    fingerprint changed are scored (each blocking rule becomes two, ``_only_rescored``); the
    other pairs come from the cache, minus those of records that are gone.
    """
    # Blocking decides which pairs are scored, not how: the rules come from the code (model.settings), also
    # for a model saved before they changed; the cache is only valid for the same model and rules.
    rules = settings().create_settings_dict("duckdb")["blocking_rules_to_generate_predictions"]
    version = (f"{version}+blocks-{hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:8]}"
               f"+{FINGERPRINT}")
    reuse = cache is not None and cache.model_version == version
    con.execute("alter table identities add column rescore boolean default true")
    if reuse:
        con.register("cache_identities", cache.identities)
        con.execute("""update identities set rescore = false from cache_identities c
                       where c.identity_id = identities.identity_id and c.fingerprint = identities.fingerprint""")
        con.unregister("cache_identities")
        con.register("cache_pairs", cache.pairs)
        con.execute("""create table kept_pairs as select p.* from cache_pairs p
                       join identities l on l.identity_id = p.identity_id_l and not l.rescore
                       join identities r on r.identity_id = p.identity_id_r and not r.rescore""")
        con.unregister("cache_pairs")
    to_score = int(con.execute("select count(*) from identities where rescore").fetchone()[0])
    total = int(con.execute("select count(*) from identities").fetchone()[0])
    parts = ["select * from kept_pairs"] if reuse else []
    if to_score and total > 1:
        predicting = {**model, "blocking_rules_to_generate_predictions":
                      [part for rule in rules for part in _only_rescored(rule)] if reuse else rules,
                      "unique_id_column_name": "uid",
                      "additional_columns_to_retain": []}
        predictions = Linker(db_api.register("identities"), predicting).inference.predict(
            threshold_match_probability=REVIEW_FLOOR)
        # what later steps read of a pair (its records' fields stay in ``identities``)
        gammas = [r[0] for r in con.execute(f"""select column_name from information_schema.columns
            where table_name = '{predictions.physical_name}' and column_name like 'gamma_%'
            order by column_name""").fetchall()]
        parts.append(f"""select l.identity_id as identity_id_l, r.identity_id as identity_id_r, p.match_probability,
                                p.match_weight, {', '.join('p.' + g for g in gammas)}
                         from {predictions.physical_name} p
                         join identities l on l.uid = p.uid_l join identities r on r.uid = p.uid_r""")
    if parts:
        con.execute("create table scored as " + " union all by name ".join(parts))
    else:
        con.execute("create table scored (identity_id_l varchar, identity_id_r varchar, match_probability double, "
                    "match_weight double)")
    reused = int(con.execute("select count(*) from kept_pairs").fetchone()[0]) if reuse else 0
    return {"identities_scored": to_score, "pairs_reused": reused}, version


def _only_rescored(rule: str | dict[str, Any]) -> list[dict[str, Any]]:
    """A blocking rule restricted to pairs with at least one record to score anew, as two rules.

    One rule with ``and (l.rescore or r.rescore)`` joined every block whole and filtered the pairs after;
    as ``l.rescore`` and ``r.rescore and not l.rescore`` each join's one side is filtered before it, and the
    two find each pair once, as Splink's exclusion of pairs an earlier rule found does for the others.
    At 1,000,000 persons the month's blocking took 1.4 s against 3.7 s, the same pairs and scores.
    """
    spec = {"blocking_rule": rule, "sql_dialect": "duckdb"} if isinstance(rule, str) else dict(rule)
    return [{**spec, "blocking_rule": f"({spec['blocking_rule']}) and {side}"}
            for side in ("l.rescore", "r.rescore and not l.rescore")]


def link_identities(identities: pa.Table | str | Path, model: dict[str, Any] | None = None,
                    decisions: pd.DataFrame | None = None, seed: int = 1,
                    cache: ScoreCache | None = None, block_limit: int = BLOCK_LIMIT) -> LinkageResult:
    """Cluster identity records: ``read_identities``' table, or the warehouse file to read them from (``_load``).

    ``model``: a saved Splink model (``train_model``); trained here when None.
    ``decisions``: clerical review decisions on record pairs (``DECISION_COLUMNS``): an accepted
    pair is linked, a rejected pair is never in one person.
    ``cache``: the previous run's scored pairs (``LinkageResult.score_cache``); used when its model is
    this run's model, so that only pairs involving new or changed records are scored.
    ``block_limit``: the block size from which blocking keys are refined (``model.BLOCK_LIMIT``; another value
    only to measure its effect, ``bench/block_limit.py``).
    """
    started = time.perf_counter()
    phases: dict[str, float] = {}
    mark = [started]

    def phase(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - mark[0], 2)
        mark[0] = now

    con = _workspace()
    n_identities = _load(con, identities, block_limit, ordered=model is None)
    phase("load")
    # Estimated on the workspace linkage uses: loading is a fifth of a full run's linkage at a million persons.
    model = model if model is not None else _train(con, seed)
    phase("train")
    decided = decisions if decisions is not None else pd.DataFrame(columns=DECISION_COLUMNS)
    con.register("decisions_frame", decided[DECISION_COLUMNS].astype("string"))
    con.execute("create table decisions as select * from decisions_frame")
    con.unregister("decisions_frame")
    con.execute("""create table decided_pairs as
        select a.identity_id as identity_id_l, b.identity_id as identity_id_r, d.decision
        from decisions d
        join identities a on a.agency = d.agency_l and a.record_ref = d.record_ref_l
        join identities b on b.agency = d.agency_r and b.record_ref = d.record_ref_r""")
    con.execute(f"create table deterministic_edges as {_edges_sql()}")

    version = model_version(model)
    db_api = DuckDBAPI(connection=con)
    phase("edges")
    scoring, scoring_version = _score(con, db_api, model, version, cache if n_identities > 1 else None)
    phase("score")
    shares = _assign(con, model)
    phase("assign")
    # A rejected pair loses its model edge; an accepted one gets an edge whatever the model said.
    con.execute(f"""create table probabilistic_edges as
        select s.identity_id_l, s.identity_id_r, 'model' as rule, s.link_probability as match_probability
        from decided s
        where s.link_probability >= {MATCH_THRESHOLD}
          and not exists (select 1 from decided_pairs d where d.decision = 'reject'
                          and ((d.identity_id_l = s.identity_id_l and d.identity_id_r = s.identity_id_r)
                            or (d.identity_id_l = s.identity_id_r and d.identity_id_r = s.identity_id_l)))""")
    probabilistic = int(con.execute("select count(*) from probabilistic_edges").fetchone()[0])
    # Edge strength orders the constrained re-clustering below: same record first, then AZR and
    # reviewed links, then the model by its probability.
    con.execute("""create table all_edges as
        select identity_id_l, identity_id_r, case rule when 'record' then 3.0 else 2.0 end as strength
        from deterministic_edges
        union all select identity_id_l, identity_id_r, 2.5 from decided_pairs where decision = 'accept'
        union all select identity_id_l, identity_id_r, match_probability from probabilistic_edges""")
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes="identities", edges="all_edges", db_api=db_api, node_id_column_name="identity_id",
    )
    con.execute(f"create table clusters as select identity_id, cluster_id from {clusters.physical_name}")
    phase("cluster")
    resolved = resolve_conflicts(con)
    phase("constraints")
    review_queue = _review_queue(con, model)
    errors = _estimated_errors(con)
    phase("review_queue")

    # One row per source record. A record's method is how it joined its person: by AZR
    # agreement, by the model, or alone. (Variants of one record are always together.)
    records = con.execute("""
        with record_cluster as (
            select i.agency, i.record_ref, min(c.cluster_id) as cluster_id
            from identities i join clusters c using (identity_id)
            group by i.agency, i.record_ref
        ), sizes as (
            select cluster_id, count(*) as n_records from record_cluster group by cluster_id
        ), id_record as (
            select identity_id, agency, record_ref from identities
        ), by_rule as (
            select r.agency, r.record_ref, e.rule
            from (select identity_id_l as a, identity_id_r as b, rule from deterministic_edges where rule = 'azr'
                  union all select identity_id_l, identity_id_r, 'review' from decided_pairs where decision = 'accept'
                  union all select identity_id_l, identity_id_r, rule from probabilistic_edges) e
            join id_record r on r.identity_id = e.a
            union all
            select r.agency, r.record_ref, e.rule
            from (select identity_id_l as a, identity_id_r as b, rule from deterministic_edges where rule = 'azr'
                  union all select identity_id_l, identity_id_r, 'review' from decided_pairs where decision = 'accept'
                  union all select identity_id_l, identity_id_r, rule from probabilistic_edges) e
            join id_record r on r.identity_id = e.b
        ), method as (
            select agency, record_ref, bool_or(rule = 'azr') as any_azr, bool_or(rule = 'model') as any_model,
                   bool_or(rule = 'review') as any_review
            from by_rule group by agency, record_ref
        )
        select rc.agency, rc.record_ref, rc.cluster_id,
               case when s.n_records = 1 then 'singleton'
                    when m.any_azr then 'deterministic'
                    when m.any_review then 'reviewed'
                    when m.any_model then 'probabilistic'
                    else 'deterministic' end as link_method
        from record_cluster rc join sizes s using (cluster_id)
        left join method m using (agency, record_ref)
        order by rc.agency, rc.record_ref
    """).to_arrow_table()
    counts = {
        "identity_records": int(n_identities),
        "source_records": records.num_rows,
        "clusters": int(con.execute("select count(distinct cluster_id) from clusters").fetchone()[0]),
        "deterministic_edges": int(con.execute("select count(*) from deterministic_edges").fetchone()[0]),
        "probabilistic_pairs": int(probabilistic),
        "conflicted_clusters_rebuilt": resolved,
        "reviewed_accepts": int(con.execute("select count(*) from decisions where decision = 'accept'").fetchone()[0]),
        "reviewed_rejects": int(con.execute("select count(*) from decisions where decision = 'reject'").fetchone()[0]),
        **scoring,
        **shares,
    }
    new_cache = ScoreCache(scoring_version,
                           con.execute("select identity_id, fingerprint from identities order by identity_id")
                           .to_arrow_table(),
                           con.execute("select * from scored").to_arrow_table())
    con.close()
    phase("records_and_cache")
    log.info("linkage of %d identity records, seconds by phase: %s", n_identities, phases)
    return LinkageResult(records, version, model, counts, time.perf_counter() - started, review_queue, errors,
                         new_cache, phases)
