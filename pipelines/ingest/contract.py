"""Agency contracts: what a delivery must look like, read from ``contracts/<agency>.yaml``.

A contract is the interface to an agency: the file layout (name pattern, format,
encoding, delimiter), each column's type and code list, and which columns are
identifiers (``role``). Identifier columns are pseudonymised at ingest and never
stored in clear text. Adding an agency means adding a contract file here and a
staging model in dbt; no Python changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

CONTRACTS_DIR = Path(__file__).parent / "contracts"

# Identifier roles; each is pseudonymised or coarsened, never stored as delivered.
IDENTIFIER_ROLES = frozenset(
    {"record_id", "event_id", "household_id", "azr", "family_name", "given_name", "birth_date",
     "sex", "postcode", "district", "street", "place"}
)
# Roles whose value is never written anywhere, not even in quarantine reasons.
SECRET_ROLES = frozenset(
    {"record_id", "event_id", "household_id", "azr", "family_name", "given_name", "birth_date", "street"}
)

ColumnType = Literal["string", "date", "boolean"]


@dataclass(frozen=True)
class Column:
    name: str
    role: str | None = None
    target: str | None = None
    type: ColumnType = "string"
    required: bool = False
    formats: tuple[str, ...] = ()
    codes: dict[str, Any] | None = None  # delivered code -> stored value
    pattern: str | None = None

    @property
    def is_identifier(self) -> bool:
        return self.role is not None

    @property
    def is_secret(self) -> bool:
        return self.role in SECRET_ROLES


@dataclass(frozen=True)
class FileLayout:
    pattern: str
    format: Literal["csv", "xlsx"]
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | None = None

    def match(self, file_name: str) -> re.Match[str] | None:
        return re.fullmatch(self.pattern, file_name)


@dataclass(frozen=True)
class DeliverySchedule:
    """When the agency's file for a reporting period is due, and how late it may be before it counts as late.

    The file for a period (a month, or the last month of a quarter) is due on ``due_day`` of the following
    month; after a further ``grace_days`` a missing file fails the freshness check and stewards are alerted.
    ``blocking``: whether a late file also stops the next release (default: a warning only, the release
    then shows the agency's older month).
    """

    cadence: Literal["monthly", "quarterly"] = "monthly"
    due_day: int = 10
    grace_days: int = 5
    blocking: bool = False

    def __post_init__(self) -> None:
        if self.cadence not in ("monthly", "quarterly"):
            raise ValueError(f"delivery cadence {self.cadence!r}: expected monthly or quarterly")
        if not 1 <= self.due_day <= 28:
            raise ValueError(f"delivery due_day {self.due_day}: expected a day 1..28 (valid in every month)")
        if self.grace_days < 0:
            raise ValueError(f"delivery grace_days {self.grace_days}: must not be negative")


@dataclass(frozen=True)
class Contract:
    agency: str
    table: str
    description: str
    file: FileLayout
    columns: tuple[Column, ...]
    event_id_within_record: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    delivery: DeliverySchedule = field(default_factory=DeliverySchedule)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def by_role(self, role: str) -> Column | None:
        return next((c for c in self.columns if c.role == role), None)


def _column(spec: dict[str, Any]) -> Column:
    codes = spec.get("codes")
    if isinstance(codes, list):
        codes = {str(c): str(c) for c in codes}
    elif isinstance(codes, dict):
        codes = {str(k): v for k, v in codes.items()}
    unknown = set(spec) - {"name", "role", "target", "type", "required", "formats", "codes", "pattern"}
    if unknown:
        raise ValueError(f"column {spec.get('name')!r}: unknown keys {sorted(unknown)}")
    if spec.get("role") and spec["role"] not in IDENTIFIER_ROLES:
        raise ValueError(f"column {spec['name']!r}: unknown role {spec['role']!r}")
    if not spec.get("role") and not spec.get("target"):
        raise ValueError(f"column {spec['name']!r}: needs a role (identifier) or a target column")
    return Column(
        name=str(spec["name"]),
        role=spec.get("role"),
        target=spec.get("target"),
        type=spec.get("type", "string"),
        required=bool(spec.get("required", False)),
        formats=tuple(spec.get("formats", ())),
        codes=codes,
        pattern=spec.get("pattern"),
    )


def load_contract(path: Path) -> Contract:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Contract(
        agency=raw["agency"],
        table=raw["table"],
        description=raw.get("description", ""),
        file=FileLayout(**raw["file"]),
        columns=tuple(_column(c) for c in raw["columns"]),
        event_id_within_record=bool(raw.get("event_id_within_record", False)),
        delivery=DeliverySchedule(**raw.get("delivery", {})),
    )


@cache
def all_contracts() -> dict[str, Contract]:
    """Every agency's contract, by agency code."""
    contracts = [load_contract(p) for p in sorted(CONTRACTS_DIR.glob("*.yaml"))]
    return {c.agency: c for c in contracts}
