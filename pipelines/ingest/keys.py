"""The pseudonymisation key: where it comes from and how it is identified.

The key never lives in the repository or the warehouse. It is read from
``INTEGRATION_PSEUDONYM_KEY`` (hex or any text) or from the file named by
``INTEGRATION_PSEUDONYM_KEY_FILE``. Without either, a run stops: silently
falling back to a default key would make every pseudonym reversible by anyone
who has the code.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_ENV = "INTEGRATION_PSEUDONYM_KEY"
KEY_FILE_ENV = "INTEGRATION_PSEUDONYM_KEY_FILE"


class MissingKeyError(RuntimeError):
    """No pseudonymisation key is configured."""


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
    value = os.environ.get(KEY_ENV)
    if value:
        return PseudonymKey(value.strip().encode("utf-8"), source=f"${KEY_ENV}")
    path = os.environ.get(KEY_FILE_ENV)
    if path:
        key_path = Path(path)
        if not key_path.is_file():
            raise MissingKeyError(f"{KEY_FILE_ENV} points to {key_path}, which does not exist.")
        secret = key_path.read_bytes().strip()
        if len(secret) < 32:
            raise MissingKeyError(f"The key file {key_path} holds fewer than 32 bytes; use a longer key.")
        return PseudonymKey(secret, source=str(key_path))
    raise MissingKeyError(
        f"No pseudonymisation key: set {KEY_ENV} or {KEY_FILE_ENV} (a file outside the repository, "
        "mode 0600). `make demo` creates a local demo key under data/keys/."
    )


def create_demo_key(path: Path) -> bool:
    """Create a random key file with mode 0600 unless one exists. Returns True when created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return True
