import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.dbt.assets import dbt_post_linkage, dbt_pre_linkage, project

defs = dg.Definitions(
    assets=[dbt_pre_linkage, dbt_post_linkage],
    resources={"dbt": DbtCliResource(project_dir=project)},
)
