import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.dbt.assets import dbt_post_linkage, dbt_pre_linkage, project

defs = dg.Definitions(
    assets=[dbt_pre_linkage, dbt_post_linkage],
    # The dbt of this virtual environment, whether or not the environment is activated.
    resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=str(Path(sys.executable).with_name("dbt")))},
)
