"""The release asset: suppressed aggregates plus a manifest of where they came from."""


import datetime as dt
from typing import Any

import dagster as dg

from pipelines.config import data_paths
from pipelines.publish.release import code_version, new_release_id, write_release
from pipelines.publish.suppression import DEFAULT_THRESHOLD, suppress
from pipelines.publish.tables import RELEASE_TABLES
from pipelines.resources import PseudonymKeyResource, WarehouseResource

KPI_KEYS = [dg.AssetKey(["marts", t.name]) for t in RELEASE_TABLES]


class PublishConfig(dg.Config):
    suppression_threshold: int = DEFAULT_THRESHOLD


def check_results_of_run(context: dg.AssetExecutionContext) -> list[dict[str, Any]]:
    """Every asset check evaluated in this run (GX suites and dbt tests), for the manifest and the gate."""
    records = context.instance.get_records_for_run(
        run_id=context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    results = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        results.append({
            "asset": "/".join(evaluation.asset_key.path),
            "check": evaluation.check_name,
            "passed": bool(evaluation.passed),
            "severity": evaluation.severity.value,
            "description": evaluation.description,
        })
    return sorted(results, key=lambda r: (r["asset"], r["check"]))


@dg.asset(
    key="release",
    deps=[*KPI_KEYS, dg.AssetKey(["marts", "person_journey"])],
    group_name="publish",
    kinds={"parquet"},
    description="An immutable release folder under data/releases/: KPI aggregates with small counts "
    "suppressed, and manifest.json (deliveries, checks, linkage, code version).",
)
def release(context: dg.AssetExecutionContext, config: PublishConfig, warehouse: WarehouseResource,
            pseudonym_key: PseudonymKeyResource) -> dg.MaterializeResult:
    checks = check_results_of_run(context)
    failed = [c for c in checks if not c["passed"] and c["severity"] == "ERROR"]
    if failed:
        names = ", ".join(f"{c['asset']}:{c['check']}" for c in failed)
        raise dg.Failure(f"not publishing: {len(failed)} blocking checks failed in this run ({names})")
    with warehouse.connect(read_only=True) as con:
        tables = {t.name: suppress(con.execute(f"select * from marts.{t.name} order by all").df(), t,
                                   config.suppression_threshold)
                  for t in RELEASE_TABLES}
        deliveries = con.execute("""
            select agency, city, delivery_month as month, file_name, sha256, rows_read, rows_loaded,
                   rows_quarantined, status, message
            from meta.deliveries where not superseded order by agency, city, delivery_month""").df()
        linkage = con.execute("select * from registry.linkage_runs order by finished_at desc limit 1").df()
        persons = con.execute("select count(distinct person_key) from marts.person_journey").fetchone()[0]
    loaded = deliveries[deliveries["status"] == "loaded"]
    manifest = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "run_id": context.run_id,
        "pseudonym_key_id": pseudonym_key.load().key_id,
        "data_until": loaded["month"].max() if len(loaded) else None,
        "deliveries": loaded.drop(columns=["status"]).to_dict(orient="records"),
        "rejected_deliveries": deliveries[deliveries["status"] != "loaded"].to_dict(orient="records"),
        "checks": checks,
        "linkage": {**(linkage.iloc[0].to_dict() if len(linkage) else {}), "persons_in_journey": int(persons)},
        "suppression": {"method": "primary suppression of counts 1..threshold-1; measures on such counts",
                        "threshold": config.suppression_threshold, "marker": "*"},
    }
    release_id = new_release_id()
    path = write_release(data_paths().releases, release_id, tables, manifest)
    suppressed = int(sum(t.filter(like="_suppressed").to_numpy().sum() for t in tables.values()))
    return dg.MaterializeResult(metadata={
        "release_id": release_id, "path": str(path), "tables": len(tables), "suppressed_cells": suppressed,
        "checks_passed": sum(c["passed"] for c in checks), "checks": len(checks),
    })
