"""Prepare an ingest run's files in worker processes while the run's own process loads them in order.

Reading, checking and pseudonymising a file is Python and pandas work that holds the interpreter lock;
writing it to DuckDB is short. One process left the second core idle through the longest stage of a
large run. Here up to ``INTEGRATION_INGEST_WORKERS`` processes (default: one per core) prepare files
(``prepare_file``) and the asset's process writes each prepared file, in the order of the files, in its
own transaction (``load_prepared``), as it did before. The warehouse therefore sees exactly the same
sequence of deliveries, and only the asset's process ever opens it.

Workers are started with ``spawn`` (a fork of a process running Dagster and DuckDB threads is not safe)
and receive the pseudonymisation key in memory through their start arguments. Each has its own encoder,
so encodings remembered across files (``Encoder``) are remembered per worker. A run with fewer than
``MIN_FILES_FOR_WORKERS`` files, or one worker, prepares in the asset's process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from pipelines.ingest.contract import Contract
from pipelines.ingest.delivery import PreparedDelivery, prepare_file
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import PseudonymKey

WORKERS_ENV = "INTEGRATION_INGEST_WORKERS"
# Starting a worker (a fresh interpreter importing pandas and the ingest code) takes about half a second.
MIN_FILES_FOR_WORKERS = 4

_encoder: Encoder | None = None


def worker_count(files: int) -> int:
    """How many worker processes prepare ``files`` files: 1 means none (the asset's process does it)."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    try:
        wanted = int(configured) if configured else (os.cpu_count() or 1)
    except ValueError as error:
        raise ValueError(f"{WORKERS_ENV} must be a whole number of processes, not {configured!r}") from error
    if files < MIN_FILES_FOR_WORKERS:
        return 1
    return max(1, min(wanted, files))


def _start_worker(secret: bytes, source: str) -> None:
    global _encoder
    _encoder = Encoder(PseudonymKey(secret, source))


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
                               initializer=_start_worker, initargs=(key.secret, key.source))
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
