"""Who may open the dashboard, and with which role: the local users file and its command line.

Roles decide which pages a person sees (the pages declare their roles in `app.py`):

- `steering` (Lenkungsgruppe): the figures;
- `steward` (Datenpflege): the data-quality page and the clerical review (Klärfälle).

A person may hold both. The users file (TOML, default `$INTEGRATION_DATA_DIR/access/users.toml`,
or `$INTEGRATION_USERS_FILE`) lists every person with their roles and, for the local login, a
salted scrypt hash of their password: the password itself is stored nowhere. When the city's single
sign-on is configured (Streamlit's OIDC login, `.streamlit/secrets.toml` `[auth]`), the identity
provider checks the password and the users file still decides the roles, matched by e-mail address:
being known to the city's directory does not by itself give access to social data.

    python -m dashboards.access add-user mmuster --role steering --name "Maria Muster"
    python -m dashboards.access list-users
    python -m dashboards.access demo-user          # `make demo`: user `demo`, new random password
    python -m dashboards.access verify-audit       # is the audit log's hash chain intact?
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import json
import os
import secrets
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Not imported from dashboards.release: the command line must not load Streamlit.
REPO_ROOT = Path(__file__).resolve().parent.parent
STEERING = "steering"
STEWARD = "steward"
ROLES: dict[str, tuple[str, str]] = {
    STEERING: ("Lenkungsgruppe", "steering group"),
    STEWARD: ("Datenpflege", "data steward"),
}
USERS_FILE_ENV = "INTEGRATION_USERS_FILE"
DEMO_USER = "demo"

# scrypt with n=2**14, r=8, p=1 (16 MiB, ~50 ms): the parameters recommended for interactive logins;
# they are stored with each hash, so they can be raised later without invalidating old hashes.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
HASH_SCHEME = "scrypt"


class AccessError(Exception):
    """The users file cannot be read or a request is invalid; the message says what to do."""


@dataclass(frozen=True)
class User:
    """One person allowed to use the dashboard."""

    login: str
    name: str
    roles: frozenset[str]
    password_hash: str | None = None
    email: str | None = None

    def display_name(self) -> str:
        return self.name or self.login


@dataclass(frozen=True)
class SignedInUser:
    """The person of a session, after a successful login; `method` is `local` or `sso`."""

    login: str
    name: str
    roles: frozenset[str]
    method: str

    def may(self, roles: frozenset[str] | set[str]) -> bool:
        """Whether this person holds one of the roles (an empty set means: everyone signed in)."""
        return not roles or bool(self.roles & set(roles))


@dataclass
class UsersFile:
    """The users of one file, by login."""

    path: Path
    users: dict[str, User] = field(default_factory=dict)

    def by_email(self, email: str | None) -> User | None:
        """The user with this e-mail address (case-insensitive), for single sign-on."""
        if not email:
            return None
        folded = email.strip().casefold()
        return next((u for u in self.users.values() if u.email and u.email.casefold() == folded), None)


def users_path() -> Path:
    """`$INTEGRATION_USERS_FILE`, else `<data folder>/access/users.toml` (read on every call, as the releases)."""
    explicit = os.environ.get(USERS_FILE_ENV)
    if explicit:
        return Path(explicit)
    data_dir = os.environ.get("INTEGRATION_DATA_DIR")
    return (Path(data_dir).resolve() if data_dir else REPO_ROOT / "data") / "access" / "users.toml"


# --- passwords ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A salted scrypt hash: `scrypt$n$r$p$<salt>$<hash>` (base64), never the password."""
    if not password:
        raise AccessError("Ein leeres Passwort ist nicht erlaubt.")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join([HASH_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str | None) -> bool:
    """Whether the password matches the stored hash (constant-time comparison; False for a bad hash)."""
    if not stored or not password:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != HASH_SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = HASH_BYTES) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=64 * 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- the users file ----------------------------------------------------------------------------


def load_users(path: Path | None = None) -> UsersFile:
    """Read the users file; a missing file means nobody may log in yet (no error)."""
    path = users_path() if path is None else path
    if not path.is_file():
        return UsersFile(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AccessError(f"Die Benutzerdatei {path} ist nicht lesbar: {error}") from error
    entries = document.get("users", {})
    if not isinstance(entries, Mapping):
        raise AccessError(f"Die Benutzerdatei {path} braucht Abschnitte [users.<name>].")
    users = {}
    for login, entry in entries.items():
        if not isinstance(entry, Mapping):
            raise AccessError(f"Benutzer {login!r} in {path}: erwartet einen Abschnitt [users.{login}].")
        roles = frozenset(str(role) for role in entry.get("roles", []))
        unknown = roles - set(ROLES)
        if unknown:
            raise AccessError(
                f"Benutzer {login!r} in {path}: unbekannte Rolle(n) {', '.join(sorted(unknown))}; "
                f"erlaubt sind {', '.join(ROLES)}."
            )
        users[str(login)] = User(
            login=str(login),
            name=str(entry.get("name", "")),
            roles=roles,
            password_hash=entry.get("password_hash"),
            email=entry.get("email"),
        )
    return UsersFile(path, users)


def save_users(users: UsersFile) -> None:
    """Write the users file atomically (temp file, then rename), readable only by its owner."""
    lines = [
        "# Users of the dashboard: roles and salted scrypt password hashes (never passwords).",
        "# Managed with `python -m dashboards.access add-user ...`; see dashboards/README.md.",
        "",
    ]
    for login in sorted(users.users):
        user = users.users[login]
        lines.append(f"[users.{_toml_key(login)}]")
        lines.append(f"name = {_toml_string(user.name)}")
        lines.append("roles = [" + ", ".join(_toml_string(role) for role in sorted(user.roles)) + "]")
        if user.email:
            lines.append(f"email = {_toml_string(user.email)}")
        if user.password_hash:
            lines.append(f"password_hash = {_toml_string(user.password_hash)}")
        lines.append("")
    users.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = users.path.with_name(f".{users.path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    os.replace(temporary, users.path)


def add_user(
    login: str,
    roles: Sequence[str],
    *,
    password: str | None,
    name: str = "",
    email: str | None = None,
    path: Path | None = None,
) -> User:
    """Add a user or replace one of the same login; returns the stored user."""
    if not login or not all(c.isalnum() or c in "._-" for c in login):
        raise AccessError(f"Ungültiger Benutzername {login!r}: nur Buchstaben, Ziffern, Punkt, - und _.")
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise AccessError(f"Bitte mindestens eine Rolle angeben ({', '.join(ROLES)}); unbekannt: {sorted(unknown)}.")
    if password is None and not email:
        raise AccessError("Ohne Passwort braucht ein Benutzer eine E-Mail-Adresse für die Anmeldung per SSO.")
    users = load_users(path)
    user = User(
        login=login,
        name=name,
        roles=frozenset(roles),
        password_hash=hash_password(password) if password is not None else None,
        email=email,
    )
    users.users[login] = user
    save_users(users)
    return user


def authenticate(login: str, password: str, path: Path | None = None) -> User | None:
    """The user for a correct login and password, else None (the same answer for an unknown login).

    An unknown login still costs one scrypt evaluation, so the response time does not tell an
    attacker which logins exist.
    """
    user = load_users(path).users.get(login.strip())
    if user is None or not user.password_hash:
        verify_password(password, _DUMMY_HASH)
        return None
    return user if verify_password(password, user.password_hash) else None


_DUMMY_HASH = "$".join(
    [HASH_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(b"\0" * SALT_BYTES), _b64(b"\0" * HASH_BYTES)]
)


def _toml_string(value: str) -> str:
    # A JSON string with ASCII escapes is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def _toml_key(value: str) -> str:
    return value if all(c.isalnum() or c in "_-" for c in value) else _toml_string(value)


# --- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m dashboards.access ...`: manage dashboard users, check the audit log."""
    parser = argparse.ArgumentParser(prog="python -m dashboards.access", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users-file", type=Path, default=None, help=f"default: {users_path()}")
    commands = parser.add_subparsers(dest="command", required=True)

    add = commands.add_parser("add-user", help="add a user or replace one (new password, roles)")
    add.add_argument("login")
    add.add_argument("--role", action="append", choices=list(ROLES), required=True, help="repeat for several roles")
    add.add_argument("--name", default="", help="full name, shown in the dashboard and the audit log")
    add.add_argument("--email", default=None, help="e-mail address for single sign-on (OIDC)")
    source = add.add_mutually_exclusive_group()
    source.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    source.add_argument("--generate-password", action="store_true", help="make a random password and print it")
    source.add_argument("--sso-only", action="store_true", help="no local password (needs --email)")

    commands.add_parser("list-users", help="logins, names and roles (never hashes)")
    commands.add_parser("demo-user", help="(re)create user 'demo' with both roles and a new random password")
    commands.add_parser("verify-audit", help="check the audit log's hash chain")
    args = parser.parse_args(argv)

    try:
        if args.command == "add-user":
            password = _password_from(args)
            user = add_user(
                args.login, args.role, password=password, name=args.name, email=args.email, path=args.users_file
            )
            print(f"Benutzer {user.login} mit Rolle(n) {', '.join(sorted(user.roles))} in {_path(args)} gespeichert.")
            if args.generate_password:
                print(f"Passwort: {password}")
        elif args.command == "list-users":
            for user in load_users(args.users_file).users.values():
                how = ", ".join(filter(None, ["Passwort" if user.password_hash else "", user.email or ""]))
                print(f"{user.login}\t{user.name}\t{','.join(sorted(user.roles))}\t{how}")
        elif args.command == "demo-user":
            password = secrets.token_urlsafe(12)
            add_user(DEMO_USER, [STEERING, STEWARD], password=password, name="Demo", path=args.users_file)
            print(f"Dashboard-Anmeldung (nur für die Demo): Benutzer `{DEMO_USER}`, Passwort `{password}`")
        elif args.command == "verify-audit":
            from dashboards import audit

            broken = audit.verify_chain()
            if broken:
                print(f"Audit-Protokoll {audit.audit_path()}: Kette unterbrochen in Zeile(n) {broken}", file=sys.stderr)
                return 1
            print(f"Audit-Protokoll {audit.audit_path()}: Kette vollständig.")
    except AccessError as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0


def _password_from(args: argparse.Namespace) -> str | None:
    if args.sso_only:
        return None
    if args.generate_password:
        return secrets.token_urlsafe(12)
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Passwort: ")
    if first != getpass.getpass("Passwort wiederholen: "):
        raise AccessError("Die Passwörter stimmen nicht überein.")
    return first


def _path(args: argparse.Namespace) -> Path:
    return args.users_file or users_path()


if __name__ == "__main__":
    raise SystemExit(main())
