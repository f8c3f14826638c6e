"""Read ``alerts.yaml``: SMTP relay, recipients per agency, webhook, the Dagster UI's address.

Values may name environment variables (``${NAME}``, ``${NAME:-default}``), so that credentials live in
the environment of the Dagster daemon, never in the repository. The file is read on every sensor tick:
a changed recipient list takes effect without a restart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).with_name("alerts.yaml")
CONFIG_ENV = "INTEGRATION_ALERTS_CONFIG"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class AlertConfigError(ValueError):
    """The alert configuration cannot be used; the message names the file and the key or variable."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""
    sender: str = "integrationsmonitoring@stadt.example"
    timeout_seconds: float = 20.0


@dataclass(frozen=True)
class Route:
    """Recipients reached through one SMTP relay."""

    smtp: SmtpSettings
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class AlertConfig:
    dagster_ui_url: str
    smtp: SmtpSettings
    stewards: tuple[str, ...]
    agency_recipients: dict[str, tuple[str, ...]]
    agency_smtp: dict[str, SmtpSettings]
    webhook_url: str = ""
    webhook_timeout_seconds: float = 10.0

    def routes(self, agency: str | None) -> list[Route]:
        """Stewards always; the agency's contacts too when the alert concerns an agency's data."""
        routes: dict[SmtpSettings, list[str]] = {self.smtp: list(self.stewards)}
        if agency and agency in self.agency_recipients:
            smtp = self.agency_smtp.get(agency, self.smtp)
            routes.setdefault(smtp, [])
            routes[smtp] += [r for r in self.agency_recipients[agency] if r not in routes[smtp]]
        return [Route(smtp, tuple(recipients)) for smtp, recipients in routes.items() if recipients]

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_ui_url.rstrip('/')}/runs/{run_id}"

    def asset_url(self, asset_path: str) -> str:
        return f"{self.dagster_ui_url.rstrip('/')}/assets/{asset_path}?view=checks"


def _expand(value: Any, where: str, source: Path) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}", source) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]", source) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise AlertConfigError(f"{source}: {where} needs the environment variable {name}, which is not set")
        return default

    return _VARIABLE.sub(substitute, value)


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off", ""):
        return False
    raise AlertConfigError(f"{where}: expected true or false, got {value!r}")


def _smtp(raw: dict[str, Any], base: SmtpSettings, where: str) -> SmtpSettings:
    unknown = set(raw) - {f for f in SmtpSettings.__dataclass_fields__}
    if unknown:
        raise AlertConfigError(f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, Any] = {}
    try:
        for key, value in raw.items():
            if key == "port":
                values[key] = int(value)
            elif key == "timeout_seconds":
                values[key] = float(value)
            elif key == "starttls":
                values[key] = _boolean(value, f"{where}.starttls")
            else:
                values[key] = "" if value is None else str(value)
    except ValueError as error:
        raise AlertConfigError(f"{where}: {error}") from error
    return replace(base, **values)


def _addresses(values: Any) -> tuple[str, ...]:
    """A list of addresses; an entry may hold several, comma-separated (one variable for a team)."""
    items = values if isinstance(values, list) else [values]
    return tuple(a.strip() for item in items if item for a in str(item).split(",") if a.strip())


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_FILE)


def load_alert_config(path: Path | None = None) -> AlertConfig:
    source = path or config_path()
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise AlertConfigError(f"{source}: cannot read the alert configuration ({error})") from error
    except yaml.YAMLError as error:
        raise AlertConfigError(f"{source}: not valid YAML ({error}); inside [...] or {{...}} write "
                               '"${NAME}" in quotes') from error
    raw = _expand(raw, "alerts", source)
    smtp = _smtp(raw.get("smtp") or {}, SmtpSettings(), f"{source}: smtp")
    agencies = raw.get("agencies") or {}
    webhook = raw.get("webhook") or {}
    return AlertConfig(
        dagster_ui_url=str(raw.get("dagster_ui_url") or "http://127.0.0.1:3000"),
        smtp=smtp,
        stewards=_addresses(raw.get("stewards") or []),
        agency_recipients={a: _addresses((spec or {}).get("recipients") or []) for a, spec in agencies.items()},
        agency_smtp={a: _smtp(spec["smtp"], smtp, f"{source}: agencies.{a}.smtp")
                     for a, spec in agencies.items() if spec and spec.get("smtp")},
        webhook_url=str(webhook.get("url") or ""),
        webhook_timeout_seconds=float(webhook.get("timeout_seconds") or 10),
    )
