"""One partitioned raw asset per agency contract; a partition is a delivery month."""


import dagster as dg

from pipelines.config import data_paths
from pipelines.ingest.contract import Contract, all_contracts
from pipelines.ingest.delivery import delivery_files, load_prepared
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import ensure_key_matches_warehouse
from pipelines.ingest.partitions import delivery_months
from pipelines.ingest.workers import prepared_files
from pipelines.resources import PseudonymKeyResource, WarehouseResource


def raw_asset_key(contract: Contract) -> dg.AssetKey:
    return dg.AssetKey(["raw", contract.table])


def build_ingest_asset(contract: Contract) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(contract),
        group_name="ingest",
        partitions_def=delivery_months,
        # One run may load many months at once (initial load, backfill): the asset loops itself.
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=f"{contract.description} Pseudonymised at ingest (contract: "
        f"pipelines/ingest/contracts/{contract.agency}.yaml).",
        kinds={"duckdb", "python"},
        metadata={"agency": contract.agency, "file_pattern": contract.file.pattern},
    )
    def _ingest(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        pseudonym_key: PseudonymKeyResource,
    ) -> dg.MaterializeResult:
        key = pseudonym_key.load()
        encoder = Encoder(key)
        landing = data_paths().landing
        files = []
        for month in sorted(context.partition_keys):
            found = delivery_files(landing, contract, month)
            if not found:
                context.log.warning(f"{contract.agency}: no delivery for {month} in {landing}")
            files += [(path, city, month) for path, city in found]
        outcomes = []
        with warehouse.connect() as con:
            ensure_key_matches_warehouse(con, key)  # after a key rotation: refuse a run with the old key
            # Files are prepared in worker processes and written here, one transaction each, in order.
            for prepared in prepared_files(files, contract, key, encoder):
                outcome = load_prepared(prepared, contract, con, context.run_id)
                context.log.info(
                    f"{prepared.delivery.file_name}: {outcome.status}, {outcome.rows_read} rows read, "
                    f"{outcome.rows_loaded} loaded, {outcome.rows_quarantined} quarantined ({outcome.message})"
                )
                outcomes.append(outcome)
        rejected = [o.delivery.file_name for o in outcomes if o.status != "loaded"]
        return dg.MaterializeResult(
            metadata={
                "deliveries": len(outcomes),
                "rows_read": sum(o.rows_read for o in outcomes),
                "rows_loaded": sum(o.rows_loaded for o in outcomes),
                "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
                "rejected_files": ", ".join(rejected) or "none",
                "pseudonym_key_id": key.key_id,
            }
        )

    return _ingest


ingest_assets = [build_ingest_asset(c) for c in all_contracts().values()]
