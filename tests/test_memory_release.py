"""Steps of a run share one process: each step's end hands the memory it freed back to the system."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
import pytest

from pipelines import memory, runlock
from pipelines.memory import release_unused_memory, rss_mb


def test_freed_arrow_memory_goes_back_to_the_system_when_released():
    before = rss_mb()
    assert before is not None
    table = pa.array(range(40_000_000), type=pa.int64())  # 320 MB in pyarrow's pool
    grown = rss_mb()
    del table
    release_unused_memory()
    after = rss_mb()
    assert grown - before > 250
    assert after - before < 100, (before, grown, after)


def test_every_step_of_a_pipeline_job_releases_memory_when_it_ends_failed_or_not(
        tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    releases: list[str] = []
    monkeypatch.setattr(memory, "release_unused_memory", lambda: releases.append("released"))

    @dg.asset
    def first() -> int:
        return 1

    @dg.asset
    def second(first: int) -> int:
        return first + 1

    @dg.asset
    def failing(second: int) -> int:
        raise ValueError("this step fails")

    @dg.asset_check(asset=first)
    def first_is_one(first: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=first == 1)

    job = dg.define_asset_job("steps", executor_def=runlock.in_process_executor_with_run_lock,
                              hooks=memory.RELEASE_MEMORY_HOOKS)
    defs = dg.Definitions(assets=[first, second, failing], asset_checks=[first_is_one], jobs=[job])
    result = defs.resolve_job_def("steps").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)

    assert not result.success
    assert len(releases) == 4  # two assets and a check succeeded, one asset failed


def test_the_pipeline_jobs_carry_the_release_hooks():
    from pipelines.definitions import defs

    for name in ("ingest_job", "build_job", "linkage_job", "republish_job"):
        assert defs.resolve_job_def(name).hook_defs >= memory.RELEASE_MEMORY_HOOKS, name


def test_release_works_without_glibc(monkeypatch: pytest.MonkeyPatch):
    memory._libc.cache_clear()
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: "libdoesnotexist.so.0")
    try:
        release_unused_memory()  # no error where malloc_trim is unavailable
        assert memory._libc() is None
    finally:
        memory._libc.cache_clear()
