"""The release asset: suppressed aggregates plus a manifest of where they came from."""


import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg

from pipelines.config import data_paths
from pipelines.ingest.keys import ensure_key_matches_warehouse
from pipelines.publish.release import code_version, new_release_id, write_release
from pipelines.publish.suppression import DEFAULT_THRESHOLD, MARKER, legend, suppress_release
from pipelines.publish.tables import RELEASE_TABLES
from pipelines.quality import data_docs
from pipelines.quality.release_gate import RELEASE_CHECK, release_check
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
    check_specs=[RELEASE_CHECK],
    # Last among the steps ready at the same time, so that every check of the run (warnings too) has
    # reported before the gate reads them for the manifest.
    op_tags={"dagster/priority": "-10"},
)
def release(context: dg.AssetExecutionContext, config: PublishConfig, warehouse: WarehouseResource,
            pseudonym_key: PseudonymKeyResource) -> Iterator[dg.AssetCheckResult | dg.MaterializeResult]:
    checks = check_results_of_run(context)
    failed = [c for c in checks if not c["passed"] and c["severity"] == "ERROR"]
    if failed:
        names = ", ".join(f"{c['asset']}:{c['check']}" for c in failed)
        raise dg.Failure(f"not publishing: {len(failed)} blocking checks failed in this run ({names})")
    key = pseudonym_key.load()
    with warehouse.connect(read_only=True) as con:
        ensure_key_matches_warehouse(con, key)  # the manifest names the key that made the pseudonyms
        # one pass over all tables: a suppressed cell must not be recomputable from another table either
        protected = suppress_release({t.name: con.execute(f"select * from marts.{t.name} order by all").df()
                                      for t in RELEASE_TABLES}, config.suppression_threshold)
        tables = protected.tables
        deliveries = con.execute("""
            select agency, city, delivery_month as month, file_name, sha256, rows_read, rows_loaded,
                   rows_quarantined, status, message
            from meta.deliveries where not superseded order by agency, city, delivery_month""").df()
        linkage = con.execute("select * from registry.linkage_runs order by finished_at desc limit 1").df()
        persons = con.execute("select count(distinct person_key) from marts.person_journey").fetchone()[0]
    gate = release_check(tables, {t.name: t.counts for t in RELEASE_TABLES}, config.suppression_threshold,
                         context.run_id)
    if not gate.passed and gate.severity == dg.AssetCheckSeverity.ERROR:
        yield gate
        raise dg.Failure(f"not publishing: the release suite failed ({gate.description})")
    checks.append({"asset": "release", "check": RELEASE_CHECK.name, "passed": gate.passed,
                   "severity": gate.severity.value, "description": gate.description})
    loaded = deliveries[deliveries["status"] == "loaded"]
    manifest = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "run_id": context.run_id,
        "pseudonym_key_id": key.key_id,
        "data_until": loaded["month"].max() if len(loaded) else None,
        "deliveries": loaded.drop(columns=["status"]).to_dict(orient="records"),
        "rejected_deliveries": deliveries[deliveries["status"] != "loaded"].to_dict(orient="records"),
        "checks": checks,
        "data_docs": data_docs.docs_link(context.run_id),
        "linkage": {**(linkage.iloc[0].to_dict() if len(linkage) else {}), "persons_in_journey": int(persons)},
        "suppression": {"method": "primary suppression of counts 1..threshold-1 (and of measures on them), "
                        "secondary suppression of every cell from which one could be recomputed "
                        "(docs/data-protection.md)", "threshold": config.suppression_threshold, "marker": MARKER,
                        "legend": legend(config.suppression_threshold)},
    }
    release_id = new_release_id()
    path = write_release(data_paths().releases, release_id, tables, manifest)
    data_docs.mark_published(context.run_id)
    suppressed = int(sum(t.filter(like="_suppressed").to_numpy().sum() for t in tables.values()))
    yield dg.MaterializeResult(metadata={
        "release_id": release_id, "path": str(path), "tables": len(tables), "suppressed_cells": suppressed,
        "suppressed_primary": protected.primary, "suppressed_secondary": protected.secondary,
        "checks_passed": sum(c["passed"] for c in checks), "checks": len(checks),
    }, check_results=[gate])
