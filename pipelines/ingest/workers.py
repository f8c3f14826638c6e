"""Prepare an ingest run's files in worker processes while the run's own process loads them in order.

Reading, checking and pseudonymising a file is Python and pandas work that holds the interpreter lock;
writing it to DuckDB is short. One process left the second core idle through the longest stage of a
large run. Here up to ``INTEGRATION_INGEST_WORKERS`` processes (default: one per core) prepare files
(``prepare_file``) and the asset's process writes each prepared file, in the order of the files, in its
own transaction (``load_prepared``), as it did before. The warehouse therefore sees exactly the same
sequence of deliveries, and only the asset's process ever opens it.

Workers are started with ``spawn`` (a fork of a process running Dagster and DuckDB threads is not safe)
and receive the pseudonymisation key in memory through their start arguments. They end with the run's
process, even when it is killed (``_exit_with_parent``). Each has its own encoder,
so encodings remembered across files (``Encoder``) are remembered per worker. A run with fewer than
``MIN_FILES_FOR_WORKERS`` files, or one worker, prepares in the asset's process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from pipelines.ingest.contract import Contract
from pipelines.ingest.delivery import PreparedDelivery, prepare_file
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey

WORKERS_ENV = "INTEGRATION_INGEST_WORKERS"
# Starting a worker (a fresh interpreter importing pandas and the ingest code) takes about half a second;
# 0.8 s under ``python -m pipelines.runner``, because ``spawn`` imports the main module again.
MIN_FILES_FOR_WORKERS = 4

PARENT_CHECK_SECONDS = 0.5

_encoder: Encoder | None = None


def _usable_cores() -> int:
    """Cores this process may run on (its affinity, which containers and taskset narrow), not the host's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(files: int) -> int:
    """How many worker processes prepare ``files`` files: 1 means none (the asset's process does it)."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    try:
        wanted = int(configured) if configured else _usable_cores()
    except ValueError as error:
        raise ValueError(f"{WORKERS_ENV} must be a whole number of processes, not {configured!r}") from error
    if files < MIN_FILES_FOR_WORKERS:
        return 1
    return max(1, min(wanted, files))


def _start_worker(secret: bytes, source: str, parent: int) -> None:
    global _encoder
    _encoder = Encoder(PseudonymKey(secret, source))
    # The parent's id comes from the parent: should it die before this runs, getppid() is no longer its id
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker when the run's process is gone (killed, out of memory): it holds the key and the
    run's encodings, and an orphaned worker waits on its task queue for ever otherwise."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _prepare_in_worker(path: Path, city: str, month: str, contract: Contract) -> PreparedDelivery:
    assert _encoder is not None, "worker started without a key"
    return prepare_file(path, city, month, contract, _encoder)


def prepared_files(files: list[tuple[Path, str, str]], contract: Contract, key: PseudonymKey,
                   encoder: Encoder) -> Iterator[PreparedDelivery]:
    """Each of ``files`` ((path, city, month)) prepared, in the given order.

    With workers, at most two files per worker are prepared ahead of the one the caller is loading, so
    that a slow writer does not pile up prepared frames in memory.
    """
    workers = worker_count(len(files))
    if workers == 1:
        for path, city, month in files:
            yield prepare_file(path, city, month, contract, encoder)
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(key.secret, key.source, os.getpid()))
    try:
        queue = iter(files)
        pending: deque[Future[PreparedDelivery]] = deque(
            pool.submit(_prepare_in_worker, path, city, month, contract)
            for path, city, month in itertools.islice(queue, 2 * workers))
        while pending:
            prepared = pending.popleft().result()
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(_prepare_in_worker, *following, contract))
            yield prepared
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
