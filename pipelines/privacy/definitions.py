"""The privacy stage's Dagster job: rebuild models and a release from what is stored, without linking again.

After a key rotation the person registry already maps the re-keyed records to their person keys; linking
again would be correct but could move a record whose link rested on a tie (Bloom filters and the sample
the model is trained on depend on the key), so the rotation rebuilds from the registry as it is and leaves
linkage to the next regular build.
"""

import dagster as dg

from pipelines.ingest.assets import ingest_assets
from pipelines.linkage.assets import PERSON_REGISTRY
from pipelines.memory import RELEASE_MEMORY_HOOKS
from pipelines.runlock import in_process_executor_with_run_lock

republish_job = dg.define_asset_job(
    "republish_job",
    selection=(dg.AssetSelection.all() - dg.AssetSelection.assets(*ingest_assets, PERSON_REGISTRY))
    | dg.AssetSelection.checks_for_assets(*ingest_assets),
    description="dbt models -> quality gates -> release from the stored raw layer and person registry, "
    "without relinking (used by the key rotation, python -m pipelines.privacy rotate-key).",
    executor_def=in_process_executor_with_run_lock,
    hooks=RELEASE_MEMORY_HOOKS,
)

defs = dg.Definitions(jobs=[republish_job])
