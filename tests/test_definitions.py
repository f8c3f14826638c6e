"""The code location loads as `make ui` loads it, with the whole asset graph in one piece."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pipelines.config import REPO_ROOT


def test_dagster_validates_the_workspace(pipeline_city):
    env = {**os.environ, "INTEGRATION_DATA_DIR": str(pipeline_city.data_dir)}
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_asset_graph_runs_from_raw_through_linkage_to_the_release(pipeline_city):
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    release = dg.AssetKey("release")
    upstream = graph.get(release).parent_keys
    assert dg.AssetKey(["marts", "kpi_persons_by_agency"]) in upstream
    ancestors: set[dg.AssetKey] = set()
    todo = [release]
    while todo:
        key = todo.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                todo.append(parent)
    for key in (["registry", "person_registry"], ["intermediate", "int_identity_records"],
                ["staging", "stg_abh__residence_status"], ["raw", "jugendamt__cases"]):
        assert dg.AssetKey(key) in ancestors, key
