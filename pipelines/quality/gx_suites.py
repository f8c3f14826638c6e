"""Run a Great Expectations suite, kept as a reviewable JSON file, against a table.

Suites live in ``expectations/<suite>.json`` as ``{"name": ..., "expectations": [{"type": ...,
"kwargs": {...}, "meta": {"severity": "blocking"|"warning"}}]}``. They run with GX 1.x's
``ValidationDefinition`` on an ephemeral context: nothing is written to a GX project folder,
results go where the caller puts them (the data folder), never into the repository.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.config import EXPECTATIONS_DIR


@dataclass
class SuiteResult:
    suite: str
    success: bool  # all blocking expectations passed
    evaluated: int
    failed_blocking: list[str] = field(default_factory=list)
    failed_warning: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        if not self.failed_blocking and not self.failed_warning:
            return f"{self.suite}: all {self.evaluated} expectations passed"
        parts = [f"{self.suite}: {self.evaluated} expectations"]
        if self.failed_blocking:
            parts.append("blocking failures: " + "; ".join(self.failed_blocking))
        if self.failed_warning:
            parts.append("warnings: " + "; ".join(self.failed_warning))
        return ", ".join(parts)


def load_suite_file(name: str) -> dict[str, Any]:
    path = EXPECTATIONS_DIR / f"{name}.json"
    return json.loads(Path(path).read_text(encoding="utf-8"))


@cache
def _context() -> Any:
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in run logs
    return context


def run_suite(name: str, frame: pd.DataFrame) -> SuiteResult:
    import great_expectations as gx

    spec = load_suite_file(name)
    context = _context()
    # Re-running a suite replaces its previous definition in the (in-memory) context.
    with contextlib.suppress(Exception):
        context.validation_definitions.delete(name)
    with contextlib.suppress(Exception):
        context.suites.delete(name)
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=spec["expectations"]))
    try:
        source = context.data_sources.get("warehouse")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("warehouse")
    try:
        asset = source.get_asset(name)
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset(name=name)
    try:
        batch = asset.get_batch_definition("whole")
    except (KeyError, ValueError):
        batch = asset.add_batch_definition_whole_dataframe("whole")
    validation = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    result = validation.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")

    out = SuiteResult(suite=name, success=True, evaluated=len(result.results))
    for item in result.results:
        config = item.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        severity = (config.meta or {}).get("severity", "blocking")
        label = config.type + (f"({kwargs['column']})" if "column" in kwargs else "")
        stats = item.result or {}
        detail = {"expectation": label, "severity": severity, "success": bool(item.success),
                  "unexpected_count": stats.get("unexpected_count"),
                  "observed_value": _plain(stats.get("observed_value"))}
        out.details.append(detail)
        if not item.success:
            count = stats.get("unexpected_count")
            text = label + (f" ({count} rows)" if count is not None else "")
            (out.failed_blocking if severity == "blocking" else out.failed_warning).append(text)
    out.success = not out.failed_blocking
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)[:200]
