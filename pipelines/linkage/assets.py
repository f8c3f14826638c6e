"""The linkage asset: identity records in, person registry out."""

import datetime as dt

import dagster as dg
import duckdb

from pipelines.linkage.link import ScoreCache, link_identities
from pipelines.linkage.models import load_current_model, save_model
from pipelines.linkage.registry import update_registry
from pipelines.linkage.review import load_decisions, write_queue
from pipelines.resources import WarehouseResource
from pipelines.warehouse import table_exists

IDENTITY_RECORDS = dg.AssetKey(["intermediate", "int_identity_records"])
PERSON_REGISTRY = dg.AssetKey(["registry", "person_registry"])


CACHE_SCHEMA = "linkage_cache"


def read_score_cache(con: duckdb.DuckDBPyConnection) -> ScoreCache | None:
    """The scored pairs the last linkage run left in the warehouse, if any (see ``ScoreCache``)."""
    if not all(table_exists(con, CACHE_SCHEMA, name) for name in ("state", "identities", "pairs")):
        return None
    (version,) = con.execute(f"select model_version from {CACHE_SCHEMA}.state").fetchone()
    return ScoreCache(version, con.execute(f"select * from {CACHE_SCHEMA}.identities").to_arrow_table(),
                      con.execute(f"select * from {CACHE_SCHEMA}.pairs").to_arrow_table())


def write_score_cache(con: duckdb.DuckDBPyConnection, cache: ScoreCache | None) -> None:
    """Replace the stored scored pairs with this run's (pseudonymous identity ids and scores only)."""
    if cache is None:
        return
    con.execute(f"create schema if not exists {CACHE_SCHEMA}")
    for name, table in (("identities", cache.identities), ("pairs", cache.pairs)):
        con.register("score_cache_arrow", table)
        con.execute(f"create or replace table {CACHE_SCHEMA}.{name} as select * from score_cache_arrow")
        con.unregister("score_cache_arrow")
    con.execute(f"create or replace table {CACHE_SCHEMA}.state as select ? as model_version", [cache.model_version])


class LinkageConfig(dg.Config):
    retrain: bool = False
    """Estimate the model anew on this run's records instead of using the current saved model."""


@dg.asset(
    key=PERSON_REGISTRY,
    deps=[IDENTITY_RECORDS],
    group_name="linkage",
    kinds={"splink", "duckdb"},
    description="Source record -> stable pseudonymous person_key. Deterministic links on the pseudonymised "
    "AZR number, probabilistic links (Splink, EM-trained, saved model) on name and birth-date encodings, "
    "stewards' review decisions respected.",
)
def person_registry(context: dg.AssetExecutionContext, config: LinkageConfig,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as con:
        cache = read_score_cache(con)
    # A saved model keeps pair scores, and with them the person keys, stable from month to month;
    # the first run (or an explicit retrain) estimates one and saves it as a new version.
    model = None if config.retrain else load_current_model()
    # the identity records are read from the file by linkage's own DuckDB (link._load), not through Python
    result = link_identities(warehouse.file, model=model, decisions=load_decisions(), cache=cache)
    if model is None:
        path = save_model(result.model_json)
        context.log.info(f"trained and saved linkage model {result.model_version} at {path}")
    queue_file = write_queue(result.review_queue)
    errors = result.estimated_errors
    with warehouse.connect() as con:
        summary = update_registry(con, result.records, context.run_id)
        write_score_cache(con, result.score_cache)
        con.register("review_queue_arrow", result.review_queue)
        con.execute("create or replace table registry.review_queue as select * from review_queue_arrow")
        con.unregister("review_queue_arrow")
        con.execute(
            """insert into registry.linkage_runs by name select ? as run_id, ? as finished_at, ? as model_version,
               ? as identity_records, ? as source_records, ? as persons, ? as new_persons, ? as merges,
               ? as splits, ? as deterministic_links, ? as probabilistic_links, ? as singletons, ? as seconds,
               ? as reviewed_links, ? as expected_false_links, ? as expected_missed_links,
               ? as estimated_link_precision, ? as estimated_link_recall, ? as review_queue,
               ? as identities_scored, ? as pairs_reused""",
            [context.run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), result.model_version,
             result.counts["identity_records"], result.counts["source_records"], summary["persons"],
             summary["new_persons"], summary["merges"], summary["splits"], summary["deterministic_links"],
             summary["probabilistic_links"], summary["singletons"], result.seconds, summary["reviewed_links"],
             errors.get("expected_false_links"), errors.get("expected_missed_links"),
             errors.get("estimated_link_precision"), errors.get("estimated_link_recall"),
             result.review_queue.num_rows, result.counts["identities_scored"], result.counts["pairs_reused"]],
        )
    return dg.MaterializeResult(
        metadata={**result.counts, **summary, **errors, "model_version": result.model_version,
                  "review_queue": result.review_queue.num_rows, "review_queue_file": str(queue_file),
                  "seconds": round(result.seconds, 1),
                  "seconds_by_phase": dg.MetadataValue.json(result.phase_seconds),
                  "comparison_levels": dg.MetadataValue.json(
                      {c["output_column_name"]: len(c["comparison_levels"]) for c in result.model_json["comparisons"]})}
    )
