import dagster as dg

from pipelines.linkage.assets import person_registry

defs = dg.Definitions(assets=[person_registry])
