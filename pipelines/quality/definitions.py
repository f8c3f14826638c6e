import dagster as dg

from pipelines.quality.checks import gx_checks

defs = dg.Definitions(asset_checks=gx_checks)
