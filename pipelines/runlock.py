"""One pipeline run at a time per data folder.

DuckDB allows one writing process per file, and the stages of a run open the warehouse one
after the other (ingest, dbt, linkage, dbt, publish). A second run started in between would
either fail half-way on DuckDB's file lock or, worse, slip its writes between two stages of
the first and publish a release built from two states. So every run (``pipelines.runner``,
and every Dagster job through :data:`in_process_executor_with_run_lock`) first takes the
run lock and a second run is refused at once, with a message saying who holds it.

The lock is an advisory ``flock`` on ``<data folder>/pipeline.lock``. The kernel releases it
when the holding process ends, however it ends (SIGKILL, OOM killer, power cut of a
container), so a crashed run never leaves a lock behind that blocks the next one; the file's
content (pid, host, what runs, since when) only serves the message to whoever is refused.
The lock is re-entrant within a process: the runner holds it across its jobs, and the jobs'
executor, running in the same process, finds it held.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipelines.config import data_paths

LOCK_FILE_NAME = "pipeline.lock"
log = logging.getLogger(__name__)

_held: dict[str, tuple[int, int]] = {}  # lock path -> (pid, depth) of this process
_guard = threading.Lock()


class RunLockedError(RuntimeError):
    """Another run holds the data folder; this run did not start."""


def lock_path() -> Path:
    return data_paths().root / LOCK_FILE_NAME


def _holder_text(fd: int) -> str:
    try:
        raw = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        holder: dict[str, Any] = json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another run (it is just starting)"
    return (f"{holder.get('purpose', 'another run')} (pid {holder.get('pid')} on {holder.get('host')}, "
            f"started {holder.get('started_at')} UTC)")


def _refuse_if_warehouse_busy(warehouse: Path) -> None:
    """Refuse when another process still has the warehouse open, e.g. a dbt left over from a killed run.

    Such a process outlives the lock of the run that started it; without this check the new
    run would fail half-way on DuckDB's own file lock instead of not starting at all.
    """
    if not warehouse.exists():
        return
    try:
        duckdb.connect(str(warehouse)).close()  # also replays the WAL of a crashed run now
    except duckdb.Error as error:
        if not isinstance(error, duckdb.IOException) or "lock" not in str(error).lower():
            # Not another process: the run itself meets this where it has the context to report it.
            log.warning("could not check whether the warehouse is free: %s", error)
            return
        raise RunLockedError(
            f"the warehouse {warehouse} is open in another process, so this run did not start: {error}. "
            "If that is a leftover of a killed run (e.g. a dbt process), wait until it ends or stop it."
        ) from error


@contextmanager
def run_lock(purpose: str, path: Path | None = None) -> Iterator[None]:
    """Hold the data folder's run lock for the block, or raise :class:`RunLockedError` at once."""
    path = (path or lock_path()).resolve()
    key = str(path)
    with _guard:
        pid, depth = _held.get(key, (0, 0))
        reentrant = pid == os.getpid() and depth > 0
        if reentrant:
            _held[key] = (pid, depth + 1)
    if reentrant:
        try:
            yield
        finally:
            with _guard:
                _held[key] = (pid, _held[key][1] - 1)
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(
                f"{purpose} refused: the data folder {path.parent} is in use by {_holder_text(fd)}. "
                "One run at a time writes the warehouse; start again when that run has finished."
            ) from None
        _refuse_if_warehouse_busy(data_paths().warehouse)
        holder = {"purpose": purpose, "pid": os.getpid(), "host": socket.gethostname(),
                  "started_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        with _guard:
            _held[key] = (os.getpid(), 1)
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


class _RunLockedExecutor(dg.Executor):
    """Dagster's in-process executor, run while holding the run lock."""

    def __init__(self, inner: dg.Executor):
        self._inner = inner

    # Dagster's internal types (PlanOrchestrationContext, ExecutionPlan, RetryMode, ...) are not public.
    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[dg.DagsterEvent]:
        run = plan_context.dagster_run
        with run_lock(f"Dagster job {run.job_name} (run {run.run_id})"):
            yield from self._inner.execute(plan_context, execution_plan)

    @property
    def retries(self) -> Any:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> Any:
        return self._inner.step_dependency_config


@dg.executor(
    name="in_process_with_run_lock",
    config_schema=dg.in_process_executor.config_schema,
)
def in_process_executor_with_run_lock(init_context: dg.InitExecutorContext) -> dg.Executor:
    """All steps in one process (DuckDB: one writer), and no second run on the same data folder meanwhile."""
    return _RunLockedExecutor(dg.in_process_executor.executor_creation_fn(init_context))
