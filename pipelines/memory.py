"""Hand memory a finished step no longer uses back to the operating system.

All steps of a run share one process (DuckDB: one writer per file), so what one step leaves in the
process's allocators counts against the next. Two allocators keep freed memory for reuse: pyarrow's pool
(mimalloc), which holds DuckDB results and pandas' Arrow-backed strings, and glibc's malloc. At a million
persons a GX check freed a 1 GB frame and the process stayed 1.2 GB larger; releasing both pools after
every step brought it back to its size before the check (docs/performance.md has the run's figures).

No ``from __future__ import annotations``: Dagster reads the hooks' annotations at definition time.
"""

import ctypes
import ctypes.util
from functools import cache

import dagster as dg
import pyarrow as pa


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only; musl and macOS have no malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def rss_mb() -> float | None:
    """This process's resident memory in MB (Linux), for logs and tests."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def release_unused_memory() -> None:
    """Return the free pages of pyarrow's pool and of malloc to the operating system (about 1 ms).

    No garbage collection here: with Dagster and GX loaded a full one takes about 0.2 s, which on ~50
    steps would cost a city's run seconds; the code that leaves large cycles behind collects them itself
    (``gx_suites._release_batches``).
    """
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@dg.success_hook(name="release_memory_after_step")
def release_memory_after_success(_context: dg.HookContext) -> None:
    release_unused_memory()


@dg.failure_hook(name="release_memory_after_failed_step")
def release_memory_after_failure(_context: dg.HookContext) -> None:
    release_unused_memory()


# For every job whose steps share a process; a hook, not the executor, because ``execute_in_process``
# (the runner, the demo, the tests) replaces a job's executor with its own.
RELEASE_MEMORY_HOOKS = {release_memory_after_success, release_memory_after_failure}
