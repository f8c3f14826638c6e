"""The linkage asset: identity records in, person registry out."""


import datetime as dt
import json

import dagster as dg

from pipelines.config import data_paths
from pipelines.linkage.link import link_identities, read_identities
from pipelines.linkage.registry import update_registry
from pipelines.resources import WarehouseResource

IDENTITY_RECORDS = dg.AssetKey(["intermediate", "int_identity_records"])
PERSON_REGISTRY = dg.AssetKey(["registry", "person_registry"])

@dg.asset(
    key=PERSON_REGISTRY,
    deps=[IDENTITY_RECORDS],
    group_name="linkage",
    kinds={"splink", "duckdb"},
    description="Source record -> stable pseudonymous person_key. Deterministic links on the pseudonymised "
    "AZR number, probabilistic links (Splink, EM-trained) on name and birth-date encodings.",
)
def person_registry(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as con:
        identities = read_identities(con)
    result = link_identities(identities)
    model_dir = data_paths().root / "linkage" / "models"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / f"{result.model_version}.json").write_text(json.dumps(result.model_json, indent=1,
                                                                         default=str))
    with warehouse.connect() as con:
        summary = update_registry(con, result.records, context.run_id)
        con.execute(
            "insert into registry.linkage_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [context.run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), result.model_version,
             result.counts["identity_records"], result.counts["source_records"], summary["persons"],
             summary["new_persons"], summary["merges"], summary["splits"], summary["deterministic_links"],
             summary["probabilistic_links"], summary["singletons"], result.seconds],
        )
    return dg.MaterializeResult(
        metadata={**result.counts, **summary, "model_version": result.model_version,
                  "seconds": round(result.seconds, 1)}
    )
