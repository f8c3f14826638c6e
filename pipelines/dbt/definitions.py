import dagster as dg

from pipelines.dbt.assets import dbt_post_linkage, dbt_pre_linkage, project
from pipelines.dbt.project import VENV_DBT
from pipelines.dbt.resource import ProjectDbtCliResource

defs = dg.Definitions(
    assets=[dbt_pre_linkage, dbt_post_linkage],
    resources={"dbt": ProjectDbtCliResource(project_dir=project, dbt_executable=str(VENV_DBT))},
)
