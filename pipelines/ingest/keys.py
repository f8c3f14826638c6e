"""The pseudonymisation key: where it comes from, how it is identified, which one a warehouse uses.

The key never lives in the repository or the warehouse. It is read from
``INTEGRATION_PSEUDONYM_KEY`` (hex or any text) or from the file named by
``INTEGRATION_PSEUDONYM_KEY_FILE``. Without either, a run stops: silently
falling back to a default key would make every pseudonym reversible by anyone
who has the code.

A warehouse records the *id* of the key its pseudonyms were made with (``meta.pseudonym_key``).
A step that writes or publishes pseudonymised data checks that the configured key is that key:
after a key rotation (``python -m pipelines.privacy rotate-key``) a run that still has the old key
configured would otherwise write pseudonyms that match nothing, and every person would come back
as a new one. During a rotation both keys are present: the configured (old) one and the new one
from ``INTEGRATION_PSEUDONYM_NEW_KEY_FILE`` / ``INTEGRATION_PSEUDONYM_NEW_KEY`` or ``--new-key-file``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import duckdb

KEY_ENV = "INTEGRATION_PSEUDONYM_KEY"
KEY_FILE_ENV = "INTEGRATION_PSEUDONYM_KEY_FILE"
NEW_KEY_ENV = "INTEGRATION_PSEUDONYM_NEW_KEY"
NEW_KEY_FILE_ENV = "INTEGRATION_PSEUDONYM_NEW_KEY_FILE"
MIN_KEY_BYTES = 32
KEY_TABLE = "meta.pseudonym_key"


class MissingKeyError(RuntimeError):
    """No pseudonymisation key is configured."""


class KeyMismatchError(RuntimeError):
    """The configured key is not the key the warehouse's pseudonyms were made with."""


@dataclass(frozen=True, repr=False)
class PseudonymKey:
    """A secret key plus a public id that names it in manifests (never the key itself)."""

    secret: bytes
    source: str

    @property
    def key_id(self) -> str:
        # A one-way fingerprint with its own domain, so the id reveals nothing usable for HMAC.
        return "k-" + hashlib.sha256(b"key-id|" + self.secret).hexdigest()[:12]

    def __repr__(self) -> str:  # never print the secret, not even in a traceback
        return f"PseudonymKey(key_id={self.key_id!r}, source={self.source!r})"


def load_key() -> PseudonymKey:
    """Read the key from the environment or the key file; stop with a clear message otherwise."""
    key = _key_from_environment(KEY_ENV, KEY_FILE_ENV)
    if key is None:
        raise MissingKeyError(
            f"No pseudonymisation key: set {KEY_ENV} or {KEY_FILE_ENV} (a file outside the repository, "
            "mode 0600). `make demo` creates a local demo key under data/keys/."
        )
    return key


def load_new_key(path: Path | None = None) -> PseudonymKey:
    """The key a rotation moves to: ``path``, else ``$INTEGRATION_PSEUDONYM_NEW_KEY[_FILE]``."""
    key = key_from_file(path) if path is not None else _key_from_environment(NEW_KEY_ENV, NEW_KEY_FILE_ENV)
    if key is None:
        raise MissingKeyError(
            f"No new key for the rotation: pass --new-key-file or set {NEW_KEY_FILE_ENV} or {NEW_KEY_ENV}. "
            "Create one with `python -m pipelines.privacy new-key <file>`."
        )
    return key


def key_from_file(path: Path) -> PseudonymKey:
    """A key held in a file (surrounding whitespace ignored); refused when missing or short."""
    if not path.is_file():
        raise MissingKeyError(f"The key file {path} does not exist.")
    secret = path.read_bytes().strip()
    if len(secret) < MIN_KEY_BYTES:
        raise MissingKeyError(f"The key file {path} holds fewer than {MIN_KEY_BYTES} bytes; use a longer key.")
    return PseudonymKey(secret, source=str(path))


def _key_from_environment(value_env: str, file_env: str) -> PseudonymKey | None:
    value = os.environ.get(value_env)
    if value:
        return PseudonymKey(value.strip().encode("utf-8"), source=f"${value_env}")
    path = os.environ.get(file_env)
    if path:
        key_path = Path(path)
        if not key_path.is_file():
            raise MissingKeyError(f"{file_env} points to {key_path}, which does not exist.")
        return key_from_file(key_path)
    return None


def create_key_file(path: Path) -> None:
    """Write a new random key (64 hex characters) to a new file with mode 0600; never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")


# --- which key a warehouse uses -------------------------------------------------------------------

def warehouse_key_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """Id of the key the warehouse's pseudonyms were made with; None for a warehouse not yet bound."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'pseudonym_key'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(f"select key_id from {KEY_TABLE}").fetchone()
    return row[0] if row else None


def ensure_key_matches_warehouse(con: duckdb.DuckDBPyConnection, key: PseudonymKey) -> None:
    """Stop unless ``key`` made the warehouse's pseudonyms; bind an unbound warehouse (writable ``con``) to it."""
    bound = warehouse_key_id(con)
    if bound is None:
        try:
            _bind(con, key.key_id, previous=None)
        except duckdb.Error:  # a read-only connection to a warehouse written before keys were recorded
            return
        return
    if bound != key.key_id:
        raise KeyMismatchError(
            f"The warehouse's pseudonyms were made with key {bound}, but the configured key is {key.key_id}. "
            f"After a key rotation, point {KEY_FILE_ENV} (or {KEY_ENV}) at the new key; a run with another key "
            "would write pseudonyms that match none of the stored ones. (A demo data folder made with "
            "another demo key: `make clean` starts it over.)"
        )


def record_rotation(con: duckdb.DuckDBPyConnection, old: PseudonymKey, new: PseudonymKey) -> None:
    """Note in the warehouse that its pseudonyms are now made with ``new`` (inside the rotation's transaction)."""
    _bind(con, new.key_id, previous=old.key_id)


def _bind(con: duckdb.DuckDBPyConnection, key_id: str, previous: str | None) -> None:
    con.execute("create schema if not exists meta")
    con.execute(f"create table if not exists {KEY_TABLE} (key_id varchar not null, since timestamp not null, "
                "previous_key_id varchar)")
    con.execute(f"delete from {KEY_TABLE}")
    con.execute(f"insert into {KEY_TABLE} values (?, ?, ?)",
                [key_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), previous])


def create_demo_key(path: Path) -> bool:
    """Create a random key file with mode 0600 unless one exists. Returns True when created."""
    if path.exists():
        return False
    create_key_file(path)
    return True
