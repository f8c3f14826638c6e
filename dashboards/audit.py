"""The append-only audit log: who looked at which figures of which release, and who exported what.

Social-data law asks that access to it be traceable (SGB X § 67 ff., GDPR Art. 5(2)). Each event is
one JSON line in `$INTEGRATION_DATA_DIR/audit/dashboard-audit.jsonl` (or `$INTEGRATION_AUDIT_LOG`):
`at` (UTC), `user`, `auth` (local or sso), `event` (login, login_failed, logout, denied, view,
export, review_decision), `release`, `page`, and for an export its `format` and `table`; a view also
records the filters that decided which figures were on screen, a review decision the decision and
the two records' pseudonymous references.

The file is only ever opened for appending (O_APPEND), never rewritten. Each line carries `prev`,
the SHA-256 of the line before it, so that a deleted or edited line breaks the chain and
`python -m dashboards.access verify-audit` finds it. An advisory lock keeps the chain intact when
several dashboard processes write at once. Nothing in it identifies a person of the data: it holds
staff logins, page names, release ids, filter values and pseudonymous record references.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Not imported from dashboards.release: the command line must not load Streamlit.
REPO_ROOT = Path(__file__).resolve().parent.parent
AUDIT_LOG_ENV = "INTEGRATION_AUDIT_LOG"
GENESIS = "0" * 64
_READ_BACK = 64 * 1024  # an audit line is far shorter than this


def audit_path() -> Path:
    """`$INTEGRATION_AUDIT_LOG`, else `<data folder>/audit/dashboard-audit.jsonl`."""
    explicit = os.environ.get(AUDIT_LOG_ENV)
    if explicit:
        return Path(explicit)
    data_dir = os.environ.get("INTEGRATION_DATA_DIR")
    return (Path(data_dir).resolve() if data_dir else REPO_ROOT / "data") / "audit" / "dashboard-audit.jsonl"


def record(
    event: str,
    *,
    user: str | None,
    auth: str | None = None,
    release: str | None = None,
    page: str | None = None,
    details: Mapping[str, Any] | None = None,
    path: Path | None = None,
) -> dict[str, Any]:
    """Append one event; returns the entry as written."""
    path = audit_path() if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    entry: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event": event,
        "user": user,
        "auth": auth,
        "release": release,
        "page": page,
        **(dict(details) if details else {}),
    }
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        entry["prev"] = _hash_of_last_line(fd)
        os.write(fd, (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return entry


def read_entries(path: Path | None = None) -> list[dict[str, Any]]:
    """All entries, oldest first (an empty list when nothing has been logged)."""
    path = audit_path() if path is None else path
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def verify_chain(path: Path | None = None) -> list[int]:
    """Line numbers (1-based) whose `prev` does not match the line before: empty when intact."""
    path = audit_path() if path is None else path
    if not path.is_file():
        return []
    broken = []
    previous = GENESIS
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            stated = json.loads(line).get("prev")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            stated = None
        if stated != previous:
            broken.append(number)
        previous = hashlib.sha256(line).hexdigest()
    return broken


def _hash_of_last_line(fd: int) -> str:
    size = os.fstat(fd).st_size
    if size == 0:
        return GENESIS
    start = max(0, size - _READ_BACK)
    tail = os.pread(fd, size - start, start)
    lines = tail.rstrip(b"\n").split(b"\n")
    return hashlib.sha256(lines[-1]).hexdigest()
