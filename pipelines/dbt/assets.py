"""dbt in two invocations around the Python linkage step.

``dbt_pre_linkage`` builds seeds, staging and the identity records that linkage reads;
``dbt_post_linkage`` builds the journey and the marts from the person registry.
Each streams ``dbt build``, so every dbt test becomes a Dagster asset check, and a
failing test stops the models after it.
"""


from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.dbt.project import dbt_project, invocation_target
from pipelines.dbt.severity import with_declared_severity
from pipelines.dbt.translator import IntegrationTranslator

project = dbt_project()
PRE_LINKAGE = "tag:pre_linkage resource_type:seed"
POST_LINKAGE = "tag:post_linkage"


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    target = invocation_target(project, context.op_execution_context.op.name, context.run.run_id)
    yield from with_declared_severity(context, dbt.cli(["build"], context=context, target_path=target).stream())


@dbt_assets(manifest=project.manifest_path, project=project, select=PRE_LINKAGE, name="dbt_pre_linkage",
            dagster_dbt_translator=IntegrationTranslator())
def dbt_pre_linkage(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    yield from _build(context, dbt)


@dbt_assets(manifest=project.manifest_path, project=project, select=POST_LINKAGE, name="dbt_post_linkage",
            dagster_dbt_translator=IntegrationTranslator())
def dbt_post_linkage(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    yield from _build(context, dbt)
