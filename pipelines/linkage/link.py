"""Cluster identity records into persons: deterministic rules plus the Splink model.

Edges come from three sources and are clustered together (connected components):
- the same agency record (``record_ref``) in several identity variants, e.g. after a correction;
- the same pseudonymised AZR number (national register number, held reliably by the
  immigration office, sometimes by the others);
- pairs the Splink model scores at or above ``MATCH_THRESHOLD``.
Splink runs in its own in-memory DuckDB so that its working tables never touch the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker
from splink.clustering import cluster_pairwise_predictions_at_threshold

from pipelines.linkage.model import (
    DETERMINISTIC_RULES,
    MATCH_THRESHOLD,
    MODEL_NAME,
    TRAINING_BLOCKS,
    settings,
)

log = logging.getLogger(__name__)


@dataclass
class LinkageResult:
    records: pa.Table  # agency, record_ref, cluster_id, link_method
    model_version: str
    model_json: dict
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


IDENTITY_COLUMNS = (
    "identity_id, agency, record_ref, azr_hash, family_name_hash, given_name_hash, family_name_phonetic, "
    "given_name_phonetic, family_name_bloom::varchar as family_name_bloom, "
    "given_name_bloom::varchar as given_name_bloom, birth_year, birth_date_hash, sex"
)


def read_identities(warehouse: duckdb.DuckDBPyConnection) -> pa.Table:
    """The identity records linkage works on, from the dbt model ``intermediate.int_identity_records``."""
    return warehouse.execute(
        f"select {IDENTITY_COLUMNS} from intermediate.int_identity_records order by identity_id"
    ).to_arrow_table()


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


def link_identities(identities: pa.Table, seed: int = 1) -> LinkageResult:
    """Cluster the identity records (columns as in ``intermediate.int_identity_records``; Bloom filters as text)."""
    started = time.perf_counter()
    con = duckdb.connect()
    con.register("identities_arrow", identities)
    # Bloom filters travel as '0101...' text (Arrow has no bit-string type) and become BIT again here.
    con.execute("""create table identities as select * replace (
        family_name_bloom::varchar::bit as family_name_bloom, given_name_bloom::varchar::bit as given_name_bloom)
        from identities_arrow""")
    con.unregister("identities_arrow")
    con.execute(f"create table deterministic_edges as {_edges_sql()}")
    n_identities = con.execute("select count(*) from identities").fetchone()[0]

    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("identities"), settings())
    probabilistic = 0
    if n_identities > 1:
        linker.training.estimate_probability_two_random_records_match(DETERMINISTIC_RULES, recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
        for block in TRAINING_BLOCKS:
            linker.training.estimate_parameters_using_expectation_maximisation(block)
        predictions = linker.inference.predict(threshold_match_probability=MATCH_THRESHOLD)
        con.execute(f"""create table probabilistic_edges as
            select identity_id_l, identity_id_r, 'model' as rule, match_probability
            from {predictions.physical_name}""")
        probabilistic = con.execute("select count(*) from probabilistic_edges").fetchone()[0]
    else:
        con.execute("create table probabilistic_edges (identity_id_l varchar, identity_id_r varchar, "
                    "rule varchar, match_probability double)")
    con.execute("""create table all_edges as
        select identity_id_l, identity_id_r from deterministic_edges
        union all select identity_id_l, identity_id_r from probabilistic_edges""")
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes="identities", edges="all_edges", db_api=db_api, node_id_column_name="identity_id",
    )
    con.execute(f"create table clusters as select identity_id, cluster_id from {clusters.physical_name}")

    model_json = linker.misc.save_model_to_json()
    model_version = MODEL_NAME + "-" + hashlib.sha256(
        json.dumps(model_json, sort_keys=True, default=str).encode()).hexdigest()[:10]
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
                  union all select identity_id_l, identity_id_r, rule from probabilistic_edges) e
            join id_record r on r.identity_id in (e.a, e.b)
        ), method as (
            select agency, record_ref, bool_or(rule = 'azr') as any_azr, bool_or(rule = 'model') as any_model
            from by_rule group by agency, record_ref
        )
        select rc.agency, rc.record_ref, rc.cluster_id,
               case when s.n_records = 1 then 'singleton'
                    when m.any_azr then 'deterministic'
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
    }
    con.close()
    return LinkageResult(records, model_version, model_json, counts, time.perf_counter() - started)
