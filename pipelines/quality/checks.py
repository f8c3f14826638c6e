"""Blocking asset checks that run the GX suites of expectations/ on warehouse tables.

Failing rows are counted, never listed: examples would be pseudonymous at best, and a
count is what a data steward needs to decide whether to stop a release.
"""


import dagster as dg

from pipelines.ingest.assets import raw_asset_key
from pipelines.ingest.contract import all_contracts
from pipelines.quality.gx_suites import run_suite
from pipelines.resources import WarehouseResource

# (asset key, suite file name, SQL relation)
GX_CHECKED: list[tuple[dg.AssetKey, str, str]] = [
    *[(raw_asset_key(c), f"raw__{c.table}", f"raw.{c.table}") for c in all_contracts().values()],
    (dg.AssetKey(["marts", "person_journey"]), "marts__person_journey", "marts.person_journey"),
    (dg.AssetKey(["marts", "kpi_persons_by_agency"]), "marts__kpi_persons_by_agency",
     "marts.kpi_persons_by_agency"),
    (dg.AssetKey(["marts", "kpi_legal_circle_stock"]), "marts__kpi_legal_circle_stock",
     "marts.kpi_legal_circle_stock"),
    (dg.AssetKey(["marts", "kpi_sgb2_transitions"]), "marts__kpi_sgb2_transitions", "marts.kpi_sgb2_transitions"),
]


def build_gx_check(asset_key: dg.AssetKey, suite: str, relation: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=f"gx_{suite.split('__', 1)[1]}",
        blocking=True,
        description=f"Great Expectations suite expectations/{suite}.json on {relation}.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            # Bloom filters are compared in linkage, not checked here: leave the BIT columns out.
            columns = [row[0] for row in con.execute(f"describe {relation}").fetchall()
                       if row[1] != "BIT"]
            frame = con.execute(f"select {', '.join(columns)} from {relation}").df()
        result = run_suite(suite, frame)
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR,
            description=result.summary(),
            metadata={
                "rows": len(frame),
                "expectations": result.evaluated,
                "failed_blocking": len(result.failed_blocking),
                "failed_warning": len(result.failed_warning),
                "details": dg.MetadataValue.json(result.details),
            },
        )

    return _check


gx_checks = [build_gx_check(*spec) for spec in GX_CHECKED]
