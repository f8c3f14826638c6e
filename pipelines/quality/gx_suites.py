"""Run a Great Expectations suite, kept as a reviewable JSON file, against a table.

Suites live in ``expectations/<suite>.json`` as ``{"name": ..., "meta": {"example_columns": [...]},
"expectations": [{"type": ..., "kwargs": {...}, "meta": {"severity": "blocking"|"warning"}}]}``.

With a Dagster run id, the suite runs through a GX Checkpoint on a file-backed context in the run's folder
under ``data/quality/runs/`` (see ``data_docs.py``): the validation result is stored and the Data Docs are
rebuilt, so every run leaves readable results beside the data, never in the repository. Without a run id
(unit tests, ad-hoc use) an in-memory context is used.

Privacy: results keep counts only (``partial_unexpected_count: 0``), so neither the stored results nor
the Data Docs list unexpected values. For a failed expectation, up to ``MAX_EXAMPLES`` example rows are
looked up again and reduced to the suite's ``example_columns``, which must be pseudonymous keys
(``event_ref``, ``person_key``) or delivery ids; they go to the Dagster check metadata only.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.config import EXPECTATIONS_DIR
from pipelines.quality import data_docs

# Counts, never values: what Data Docs render is what the stored result holds.
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
MAX_EXAMPLES = 5
LARGE_FRAME_BYTES = 64 * 2**20  # a frame this large is freed by a garbage collection right after its suite


@dataclass
class SuiteResult:
    suite: str
    success: bool  # all blocking expectations passed
    evaluated: int
    failed_blocking: list[str] = field(default_factory=list)
    failed_warning: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)  # pseudonymous keys of failing rows
    data_docs: str | None = None  # start page, relative to the data folder
    failing_values: set[Any] | None = None  # with ``attribute_to``: that column's values on failing rows

    @property
    def failing_rows(self) -> int:
        """Unexpected rows summed over failed expectations (a row failing two expectations counts twice)."""
        return sum(d["unexpected_count"] or 0 for d in self.details if not d["success"])

    def summary(self) -> str:
        if not self.failed_blocking and not self.failed_warning:
            return f"{self.suite}: all {self.evaluated} expectations passed"
        parts = [f"{self.suite}: {self.evaluated} expectations"]
        if self.failed_blocking:
            parts.append("blocking failures: " + "; ".join(self.failed_blocking))
        if self.failed_warning:
            parts.append("warnings: " + "; ".join(self.failed_warning))
        return ", ".join(parts)


def combine(suite: str, parts: list[SuiteResult]) -> SuiteResult:
    """One result from a suite validated in parts (the whole table's and the new rows', ``validated.py``)."""
    out = SuiteResult(suite=suite, success=all(p.success for p in parts), evaluated=sum(p.evaluated for p in parts),
                      data_docs=next((p.data_docs for p in parts if p.data_docs), None))
    for part in parts:
        out.failed_blocking += part.failed_blocking
        out.failed_warning += part.failed_warning
        out.details += part.details
        out.examples += part.examples
    return out


def load_suite_file(name: str) -> dict[str, Any]:
    path = EXPECTATIONS_DIR / f"{name}.json"
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _quiet(context: Any) -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in run logs
    return context


@cache
def _ephemeral_context() -> Any:
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return _quiet(gx.get_context(mode="ephemeral"))


@cache
def _run_context(root: Path) -> Any:
    """A file-backed context for one run's folder, its Data Docs site written to ``<root>/data_docs``."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    from pipelines.quality import docs_views  # imports GX: not at the code location's load

    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.enable_analytics(False)
    _quiet(context)
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / "data_docs")},
        **docs_views.site_views(),  # GX's own views, with templates compiled once per process
    }
    if "local_site" in context.list_data_docs_sites():
        context.update_data_docs_site("local_site", site)
    else:
        context.add_data_docs_site("local_site", site)
    return context


def _register(context: Any, name: str, expectations: list[dict[str, Any]], with_docs: bool) -> tuple[Any, Any]:
    """(Re)define the suite, its batch and a checkpoint in the context; re-running replaces the definitions."""
    import great_expectations as gx

    for collection in (context.checkpoints, context.validation_definitions, context.suites):
        with contextlib.suppress(Exception):
            collection.delete(name)
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
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
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if with_docs else []
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=[validation], actions=actions, result_format=RESULT_FORMAT))
    return checkpoint, batch


def run_suite(name: str, frame: pd.DataFrame, run_id: str | None = None, *,
              expectations: list[dict[str, Any]] | None = None, part: str | None = None,
              attribute_to: str | None = None) -> SuiteResult:
    """Validate ``frame`` with suite ``name``; with ``run_id``, store the result and rebuild that run's Data Docs.

    ``expectations`` (a part of the suite's) replaces the suite file's list; ``part`` then names the
    validation in the Data Docs (``<suite>.<part>``). ``attribute_to`` asks, when expectations fail, for
    the set of that column's values on the failing rows (``failing_values``; None if it cannot be told).
    """
    from great_expectations.core.run_identifier import RunIdentifier

    spec = load_suite_file(name)
    if expectations is None:
        expectations = spec["expectations"]
    registered = f"{name}.{part}" if part else name
    context = _run_context(data_docs.run_root(run_id)) if run_id else _ephemeral_context()
    checkpoint, batch = _register(context, registered, expectations, with_docs=run_id is not None)
    try:
        outcome = checkpoint.run(batch_parameters={"dataframe": frame},
                                 run_id=RunIdentifier(run_name=run_id) if run_id else None)
    finally:
        _release_batches(context, frame)
    result = next(iter(outcome.run_results.values()))

    out = SuiteResult(suite=name, success=True, evaluated=len(result.results),
                      data_docs=data_docs.docs_link(run_id) if run_id else None)
    failed_configs = []
    for item in result.results:
        config = item.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        severity = (config.meta or {}).get("severity", "blocking")
        label = config.type + _columns(kwargs)
        stats = item.result or {}
        detail = {"expectation": label, "severity": severity, "success": bool(item.success),
                  "unexpected_count": stats.get("unexpected_count"),
                  "observed_value": _plain(stats.get("observed_value"))}
        out.details.append(detail)
        error = _raised(item.exception_info)
        if error:
            detail["error"] = error
        if not item.success:
            count = stats.get("unexpected_count")
            text = label + (f" ({count} rows)" if count is not None else "") + (f" (error: {error})" if error else "")
            (out.failed_blocking if severity == "blocking" else out.failed_warning).append(text)
            failed_configs.append((label, config))
    out.success = not out.failed_blocking
    key_columns = [c for c in spec.get("meta", {}).get("example_columns", []) if c in frame.columns]
    if failed_configs and key_columns:
        try:
            out.examples = _examples(batch, frame, failed_configs, key_columns)
        finally:
            _release_batches(context, frame)
    if attribute_to:
        out.failing_values = set()
        if failed_configs:
            try:
                out.failing_values = _failing_values(batch, frame, failed_configs, attribute_to, out)
            finally:
                _release_batches(context, frame)
    return out


def _release_batches(context: Any, frame: pd.DataFrame) -> None:
    """Drop the frames GX's pandas engine keeps after a validation.

    The engine caches every batch it loaded, and the context lives for the whole run (``_run_context``),
    so without this each suite's frame stayed in memory until the run ended: at a million persons the
    checks of one run held several GB of frames no one would read again. GX's validator and batch also
    refer to the frame from within reference cycles, which only a full garbage collection frees; that
    takes about 0.2 s with Dagster and GX loaded, so it is spent on large frames only.
    """
    with contextlib.suppress(KeyError, ValueError):
        manager = context.data_sources.get("warehouse").get_execution_engine().batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()
    if frame.memory_usage(index=True, deep=False).sum() >= LARGE_FRAME_BYTES:
        gc.collect()


def _examples(batch_definition: Any, frame: pd.DataFrame, failed: list[tuple[str, Any]],
              key_columns: list[str]) -> list[dict[str, Any]]:
    """Pseudonymous keys of a few failing rows per failed expectation (only row-level expectations have rows)."""
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    examples: list[dict[str, Any]] = []
    for label, config in failed:
        with contextlib.suppress(Exception):  # table-level expectations have no failing rows to show
            found = batch.validate(config.to_domain_obj(), result_format={
                "result_format": "SUMMARY", "unexpected_index_column_names": key_columns,
                "partial_unexpected_count": MAX_EXAMPLES, "return_unexpected_index_query": False})
            for row in (found.result or {}).get("partial_unexpected_index_list") or []:
                examples.append({"expectation": label, **{c: _plain(row.get(c)) for c in key_columns}})
    return examples


MAX_ATTRIBUTED_ROWS = 200_000
"""Above this many failing rows, finding which values they carry is not worth a list of every row."""


def _failing_values(batch_definition: Any, frame: pd.DataFrame, failed: list[tuple[str, Any]], column: str,
                    result: SuiteResult) -> set[Any] | None:
    """The values of ``column`` on every row a failed expectation found (None when it cannot be told:
    an expectation without rows, one that raised, or too many rows to list)."""
    if column not in frame.columns:
        return None
    if result.failing_rows > MAX_ATTRIBUTED_ROWS or any(not d["success"] and d["unexpected_count"] is None
                                                        for d in result.details):
        return None
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    values: set[Any] = set()
    for _label, config in failed:
        try:
            found = batch.validate(config.to_domain_obj(), result_format={
                "result_format": "COMPLETE", "unexpected_index_column_names": [column],
                "return_unexpected_index_query": False})
        except Exception:  # noqa: BLE001 - not attributable: the caller treats every row as failing
            return None
        rows = (found.result or {}).get("unexpected_index_list")
        if rows is None:
            return None
        values.update(row.get(column) for row in rows)
    return values


def expectation_columns(kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation is about, from its kwargs (``column``, ``column_A``/``column_B``, ``column_list``)."""
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return columns + list(kwargs.get("column_list", []))


def _columns(kwargs: dict[str, Any]) -> str:
    """The columns an expectation is about, for its label: ``(status_code)``, ``(b1_date, first_course_date)``."""
    columns = expectation_columns(kwargs)
    return f"({', '.join(columns)})" if columns else ""


def _raised(info: Any) -> str | None:
    """The message of an expectation that could not be evaluated (a broken expectation is a failure too)."""
    if not isinstance(info, dict):
        return None
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            message = str(entry.get("exception_message") or "exception").splitlines()[0]
            return message[:200]
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()  # numpy scalar -> Python
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)[:200]
