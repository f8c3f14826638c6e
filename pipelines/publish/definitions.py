import dagster as dg

from pipelines.publish.assets import release

defs = dg.Definitions(assets=[release])
