"""What an alert says: which check or run, which delivery, what failed with counts, where to look.

One ``Alert`` becomes an e-mail (plain text, German subject prefix for the stewards' mail filters) and
a JSON document for the webhook. Alerts carry what the check metadata carries: counts, delivery file
names and pseudonymous keys, never a value from a delivered row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Any

SUBJECT_PREFIX = "[Integrationsmonitoring]"

KINDS = {
    "check_failed": "FAILED CHECK",
    "check_recovered": "RESOLVED CHECK",
    "run_failed": "FAILED RUN",
    "run_recovered": "RESOLVED RUN",
    "delivery_late": "LATE DELIVERY",
    "delivery_arrived": "RESOLVED LATE DELIVERY",
}


@dataclass
class Alert:
    kind: str  # one of KINDS
    key: str  # the failure this alert is about; a recovery carries the key of its failure
    title: str
    summary: str
    agency: str | None = None
    check: str | None = None  # "asset/path:check_name"
    run_id: str | None = None
    run_url: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    deliveries: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    first_seen: str | None = None
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def is_recovery(self) -> bool:
        return self.kind.endswith(("recovered", "arrived"))

    def subject(self) -> str:
        return f"{SUBJECT_PREFIX} {KINDS[self.kind]}: {self.title}"

    def text(self) -> str:
        lines = [KINDS[self.kind] + ": " + self.title, "", self.summary, ""]
        if self.check:
            lines.append(f"Check: {self.check}")
        if self.agency:
            lines.append(f"Agency: {self.agency}")
        if self.counts:
            lines.append("Counts: " + ", ".join(f"{k} = {v}" for k, v in self.counts.items()))
        if self.failures:
            lines += ["", "What failed:", *[f"  - {f}" for f in self.failures]]
        if self.deliveries:
            lines += ["", "Deliveries:", *[f"  - {d}" for d in self.deliveries]]
        if self.first_seen:
            lines += ["", f"First seen: {self.first_seen}"]
        if self.run_url:
            lines += ["", f"Run: {self.run_url}"]
        lines += [f"{name}: {url}" for name, url in self.links.items()]
        lines += ["", "This message is sent once per failure; a resolution is announced once.",
                  "Sent by the integration pipeline's alert sensors (docs/quality.md)."]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict[str, Any]:
        return {"source": "integration-pipeline", **asdict(self), "subject": self.subject()}

    def email(self, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.subject()
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["X-Integration-Alert"] = f"{self.kind}; {self.key}"
        message.set_content(self.text())
        return message

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Alert:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in payload.items() if k in known})
