"""The linkage asset: identity records in, person registry out."""

import datetime as dt

import dagster as dg

from pipelines.linkage.link import link_identities, read_identities
from pipelines.linkage.models import load_current_model, save_model
from pipelines.linkage.registry import update_registry
from pipelines.linkage.review import load_decisions, write_queue
from pipelines.resources import WarehouseResource

IDENTITY_RECORDS = dg.AssetKey(["intermediate", "int_identity_records"])
PERSON_REGISTRY = dg.AssetKey(["registry", "person_registry"])


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
        identities = read_identities(con)
    # A saved model keeps pair scores, and with them the person keys, stable from month to month;
    # the first run (or an explicit retrain) estimates one and saves it as a new version.
    model = None if config.retrain else load_current_model()
    result = link_identities(identities, model=model, decisions=load_decisions())
    if model is None:
        path = save_model(result.model_json)
        context.log.info(f"trained and saved linkage model {result.model_version} at {path}")
    queue_file = write_queue(result.review_queue)
    errors = result.estimated_errors
    with warehouse.connect() as con:
        summary = update_registry(con, result.records, context.run_id)
        con.register("review_queue_arrow", result.review_queue)
        con.execute("create or replace table registry.review_queue as select * from review_queue_arrow")
        con.unregister("review_queue_arrow")
        con.execute(
            """insert into registry.linkage_runs by name select ? as run_id, ? as finished_at, ? as model_version,
               ? as identity_records, ? as source_records, ? as persons, ? as new_persons, ? as merges,
               ? as splits, ? as deterministic_links, ? as probabilistic_links, ? as singletons, ? as seconds,
               ? as reviewed_links, ? as expected_false_links, ? as expected_missed_links,
               ? as estimated_link_precision, ? as estimated_link_recall, ? as review_queue""",
            [context.run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), result.model_version,
             result.counts["identity_records"], result.counts["source_records"], summary["persons"],
             summary["new_persons"], summary["merges"], summary["splits"], summary["deterministic_links"],
             summary["probabilistic_links"], summary["singletons"], result.seconds, summary["reviewed_links"],
             errors.get("expected_false_links"), errors.get("expected_missed_links"),
             errors.get("estimated_link_precision"), errors.get("estimated_link_recall"),
             result.review_queue.num_rows],
        )
    return dg.MaterializeResult(
        metadata={**result.counts, **summary, **errors, "model_version": result.model_version,
                  "review_queue": result.review_queue.num_rows, "review_queue_file": str(queue_file),
                  "seconds": round(result.seconds, 1),
                  "comparison_levels": dg.MetadataValue.json(
                      {c["output_column_name"]: len(c["comparison_levels"]) for c in result.model_json["comparisons"]})}
    )
