"""Notice new or changed deliveries in the landing zone and ingest them."""

from __future__ import annotations

import json

import dagster as dg

from pipelines.config import data_paths
from pipelines.ingest.assets import raw_asset_key
from pipelines.ingest.contract import all_contracts
from pipelines.ingest.delivery import delivery_files
from pipelines.ingest.partitions import delivery_months

INGEST_JOB = "ingest_job"


@dg.sensor(job_name=INGEST_JOB, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Starts an ingest run for each new or changed delivery file in the landing zone.")
def delivery_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    seen: dict[str, list[float]] = json.loads(context.cursor) if context.cursor else {}
    landing = data_paths().landing
    requests: list[dg.RunRequest] = []
    new_months: set[str] = set()
    for contract in all_contracts().values():
        agency_dir = landing / contract.agency
        if not agency_dir.is_dir():
            continue
        for month_dir in sorted(p for p in agency_dir.iterdir() if p.is_dir()):
            month = month_dir.name
            for path, _city in delivery_files(landing, contract, month):
                stat = path.stat()
                fingerprint = [stat.st_size, stat.st_mtime]
                key = f"{contract.agency}/{month}/{path.name}"
                if seen.get(key) == fingerprint:
                    continue
                seen[key] = fingerprint
                new_months.add(month)
                requests.append(dg.RunRequest(
                    run_key=f"{key}@{stat.st_size}:{stat.st_mtime}",
                    partition_key=month,
                    asset_selection=[raw_asset_key(contract)],
                    tags={"agency": contract.agency},
                ))
    known = set(context.instance.get_dynamic_partitions(delivery_months.name))
    to_add = sorted(new_months - known)
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[delivery_months.build_add_request(to_add)] if to_add else [],
        cursor=json.dumps(seen),
    )
