"""The Dagster instance's configuration, and an event log that keeps its SQLite connections open.

Dagster stores every event of a run (step starts, outputs, materialisations, one planned and one
evaluated event per asset check, log lines) in SQLite, one database per run plus an index database.
Its ``SqliteEventLogStorage`` builds a new SQLAlchemy engine for every transaction, connects, commits
and closes again; closing the last connection of a WAL database checkpoints it and deletes the WAL
file. An event costs one to three such transactions. Our build run wrote about 1,600 events (there were
some 320 asset checks then, 239 now), and a city-sized run spent 14-16 s of its 75 s there (measured by
timing ``store_event`` inside a 25,000-person run, 9 ms per event).

``PooledSqliteEventLogStorage`` is the same storage with one engine per database whose single
connection stays open (the newest ``KEPT_ENGINES`` databases), and ``synchronous=NORMAL``, which in
WAL mode syncs at checkpoints rather than at every commit: a power cut can lose the last events of a
run but never corrupt the log. The same run then spent 3 s storing events. Everything else is
Dagster's own: the databases, their tables and migrations, the folders. An instance can switch
between the two classes at any time.

Because a kept connection defers the checkpoint, new events first land in the ``-wal`` file, not in
the ``.db`` file that Dagster's log watcher (live run logs in the UI) waits on; the watcher here also
follows the ``-wal`` file.

``ensure_instance_config`` writes a ``dagster.yaml`` that selects this storage where none exists (and
rewrites its own, unedited, when the folder has moved): an operator's own configuration (Postgres, say)
is never touched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

KEPT_ENGINES = 16  # open databases per process: the running job's shard, the index, and a few the UI reads

CONFIG_FILE = "dagster.yaml"
MARKER = "# Written by the pipeline (pipelines/dagster_instance.py)"
CONFIG = MARKER + """ because this folder had no dagster.yaml.
# The event log is Dagster's SQLite event log, with its connections kept open: same files, faster.
# Replace or edit this file to configure the instance otherwise; the pipeline then leaves it alone.
event_log_storage:
  module: pipelines.dagster_instance
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {base_dir}
"""


def _config_text(base_dir: str) -> str:
    return CONFIG.format(base_dir=json.dumps(base_dir))  # a JSON string is a YAML string: any path, quoted


def ensure_instance_config(home: Path) -> Path:
    """Create ``home`` and, if it has no ``dagster.yaml``, one that selects the pooled event log.

    The file names the event log's folder by its absolute path, so a file the pipeline wrote and nobody
    edited is written again when the folder has moved. Any other ``dagster.yaml`` is left alone.
    """
    home.mkdir(parents=True, exist_ok=True)
    config = home / CONFIG_FILE
    # Dagster's default place for the event log, so that runs stored before keep showing.
    wanted = _config_text(str((home / "history" / "runs").resolve()))
    present = config.read_text(encoding="utf-8") if config.exists() else None
    if present is not None:
        try:
            written_for = yaml.safe_load(present)["event_log_storage"]["config"]["base_dir"]
        except (yaml.YAMLError, KeyError, TypeError):
            return config
        if present == wanted or present != _config_text(str(written_for)):
            return config  # current, or not (or no longer) the pipeline's own
    descriptor, tmp = tempfile.mkstemp(prefix=".dagster-", suffix=".yaml", dir=home)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(wanted)
    os.replace(tmp, config)
    return config


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log with one kept connection per database (see the module's docstring)."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _drop_engines(self) -> None:
        """Forget every kept engine (the caller holds ``_db_lock``); close its connection unless inherited.

        A forked child must neither use nor close its parent's SQLite connections: it opens its own.
        """
        inherited = self._engines_pid != os.getpid()
        for engine in self._engines.values():
            engine.dispose(close=not inherited)
        self._engines.clear()
        self._engines_pid = os.getpid()

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():
            self._drop_engines()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            pool_size=1,
            # Dagster's schema set-up opens a second connection while the first is open.
            max_overflow=2,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        self._engines[shard] = engine
        while len(self._engines) > KEPT_ENGINES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Same contract as SqliteEventLogStorage._connect: one transaction, serialised by the storage's lock.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _WalAwareWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def wipe(self) -> None:
        # Dagster deletes the databases' files: kept connections would go on writing to deleted files.
        with self._db_lock:
            self._drop_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()  # stop the watchers first, so that none opens a connection after this
        with self._db_lock:
            self._drop_engines()


class _WalAwareWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of one run's events, woken by its ``-wal`` file as well as by its ``.db`` file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._patterns = [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        # Dagster's handler insists on the .db path. The observer's one thread calls this, so the two
        # files' events are handled one after the other; the cursor skips what the first already read.
        self._process_log()


if __name__ == "__main__":
    # `make ui`: the instance folder the UI is about to open, configured like the runner's.
    print(ensure_instance_config(Path(os.environ["DAGSTER_HOME"])))
