import sys
from pathlib import Path

import dagster as dg

from pipelines.dbt.assets import dbt_post_linkage, dbt_pre_linkage, project
from pipelines.dbt.resource import ProjectDbtCliResource

defs = dg.Definitions(
    assets=[dbt_pre_linkage, dbt_post_linkage],
    # The dbt of this virtual environment, whether or not the environment is activated.
    resources={"dbt": ProjectDbtCliResource(project_dir=project,
                                           dbt_executable=str(Path(sys.executable).with_name("dbt")))},
)
