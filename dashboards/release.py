"""The dashboard's only way to data: published releases, opened read-only.

A release is a folder `<root>/<release_id>/` with `manifest.json` and one parquet file per KPI
table (see docs/release-format.md). The publisher makes it visible by an atomic rename and never
changes it afterwards, which is why everything read here may be cached by release id for the life
of the process. The dashboard never opens the warehouse and never writes: if a figure is not in
a release, the steering group must not see it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"
RELEASE_ID_FORMAT = "%Y%m%dT%H%M%SZ"
DEFAULT_SUPPRESSION_THRESHOLD = 5


@dataclass(frozen=True)
class KpiContract:
    """What the dashboard relies on in one KPI table: its key columns and its measures.

    Every measure `m` comes with a boolean `m_suppressed`; a suppressed value is null.
    """

    keys: tuple[str, ...]
    measures: tuple[str, ...]
    text_columns: tuple[str, ...] = ()

    @property
    def has_month(self) -> bool:
        return "month" in self.keys


# Mirrors the KPI table in docs/release-format.md; a change there must show up here.
KPI_TABLES: dict[str, KpiContract] = {
    "kpi_persons_by_agency": KpiContract(("city", "month", "agency_set"), ("persons",)),
    "kpi_legal_circle_stock": KpiContract(("city", "month", "legal_circle"), ("persons",)),
    "kpi_sgb2_transitions": KpiContract(
        ("city", "month"),
        ("entries", "entries_with_asylblg_end", "gap_days_median", "gap_days_p90", "gap_over_30_days"),
    ),
    "kpi_time_to_milestones": KpiContract(
        ("city", "cohort_year", "reference", "milestone"), ("persons", "reached", "days_median")
    ),
    "kpi_profile_mix": KpiContract(("city", "month", "profile_code"), ("persons",), ("profile_group",)),
    "kpi_youth_care": KpiContract(("city", "month"), ("in_care", "unaccompanied_in_care", "turning_18")),
    "kpi_youth_follow_up": KpiContract(("city", "year", "follow_up"), ("persons",)),
    "kpi_stock_by_group": KpiContract(
        ("city", "month", "legal_circle", "nationality_group", "age_band", "sex"), ("persons",)
    ),
    "kpi_legal_circle_flows": KpiContract(
        ("city", "step", "from_circle", "to_circle", "nationality_group", "age_band", "sex"), ("persons",)
    ),
    "kpi_milestone_life_table": KpiContract(
        ("city", "cohort_year", "reference", "milestone", "nationality_group", "age_band", "sex", "month_since"),
        ("at_risk", "reached", "censored"),
    ),
    "kpi_city_population": KpiContract(("city",), (), ("population",)),
}
# The attributes the sidebar can filter on; a table that has all three columns holds one row per
# choice, with `alle` where it is summed over (see the marts' docs).
GROUP_DIMENSIONS: tuple[str, ...] = ("nationality_group", "age_band", "sex")


class ReleaseError(Exception):
    """A release cannot be read as published; the message is German and meant for the screen."""


@dataclass(frozen=True)
class Release:
    """One published release: its folder and its parsed manifest."""

    release_id: str
    path: Path
    manifest: Mapping[str, Any]

    @property
    def created_at(self) -> datetime | None:
        """Publication time (UTC) from the manifest, else from the release id."""
        return parse_timestamp(self.manifest.get("created_at")) or release_time(self.release_id)

    @property
    def data_until(self) -> date | None:
        """The last delivery month the release contains."""
        return parse_month(self.manifest.get("data_until"))

    @property
    def code_version(self) -> str:
        return str(self.manifest.get("code_version") or "")

    @property
    def suppression_threshold(self) -> int:
        """Smallest count that is published; smaller counts are suppressed."""
        suppression = self.manifest.get("suppression") or {}
        threshold = suppression.get("threshold") if isinstance(suppression, Mapping) else None
        return threshold if isinstance(threshold, int) and threshold > 0 else DEFAULT_SUPPRESSION_THRESHOLD

    def table_names(self) -> list[str]:
        """KPI tables listed in the manifest (all known KPI tables if it lists none)."""
        tables = self.manifest.get("tables")
        return list(tables) if isinstance(tables, Mapping) and tables else list(KPI_TABLES)


def releases_root() -> Path:
    """Where releases are published: `$INTEGRATION_DATA_DIR/releases`, else `<repo>/data/releases`.

    Read from the environment on every call, as `pipelines.config.data_paths()` does, so tests and
    operators can point the dashboard at another data folder without a restart of Python.
    """
    data_dir = os.environ.get("INTEGRATION_DATA_DIR")
    return (Path(data_dir).resolve() if data_dir else REPO_ROOT / "data") / "releases"


def list_releases(root: Path | None = None) -> list[str]:
    """Release ids, oldest first.

    Only finished releases count: a folder whose name starts with `.` is a publication still
    being written (it becomes visible by rename), and one without a manifest is incomplete.
    Ids are UTC timestamps, so sorting by name sorts by time.
    """
    root = releases_root() if root is None else root
    if not root.is_dir():
        return []
    return sorted(
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and (entry / MANIFEST).is_file()
    )


def latest_release(root: Path | None = None) -> str | None:
    """The newest release id, or None when nothing has been published yet."""
    releases = list_releases(root)
    return releases[-1] if releases else None


def open_release(release_id: str, root: Path | None = None) -> Release:
    """Read a release's manifest (cached per release); raises ReleaseError with a German message."""
    root = releases_root() if root is None else root
    if release_id not in list_releases(root):
        raise ReleaseError(f"Veröffentlichung {release_id} gibt es nicht (mehr) in {root}.")
    manifest = _read_manifest(str(root), release_id)
    return Release(release_id=release_id, path=root / release_id, manifest=manifest)


def read_table(release: Release, name: str) -> pd.DataFrame:
    """One KPI table of a release, checked against the columns the dashboard relies on.

    `month` becomes a pandas datetime (first day of the month). Counts use pandas' nullable
    types so that a suppressed (null) value can never turn into 0 or NaN-as-float by accident.
    """
    file_name = _table_file_name(release, name)
    frame = _read_parquet(str(release.path.parent), release.release_id, file_name)
    contract = KPI_TABLES.get(name)
    if contract is not None:
        missing = [c for c in (*contract.keys, *contract.measures, *contract.text_columns) if c not in frame.columns]
        if missing:
            raise ReleaseError(
                f"Tabelle {name} in Veröffentlichung {release.release_id} hat nicht die erwarteten "
                f"Spalten (es fehlen: {', '.join(missing)}). Bitte das Pipeline-Team informieren."
            )
    # pandas copies on write: a page that adds or changes a column changes its copy, not the cache.
    return frame.copy(deep=False)


def has_group_dimensions(frame: pd.DataFrame) -> bool:
    """Whether a table can be narrowed by the sidebar's nationality, age and sex filters."""
    return all(column in frame.columns for column in GROUP_DIMENSIONS)


def missing_suppression_flags(frame: pd.DataFrame, name: str) -> list[str]:
    """Measures of a KPI table that come without their `_suppressed` flag (a contract breach)."""
    contract = KPI_TABLES.get(name)
    if contract is None:
        return []
    return [m for m in contract.measures if f"{m}_suppressed" not in frame.columns]


def release_months(release: Release) -> list[date]:
    """All months that occur in the release's monthly KPI tables, sorted."""
    return list(_release_facts(str(release.path.parent), release.release_id)[0])


def release_cities(release: Release) -> set[str]:
    """All city codes that occur in the release's KPI tables."""
    return set(_release_facts(str(release.path.parent), release.release_id)[1])


def group_values(release: Release) -> dict[str, list[str]]:
    """Per filter attribute (nationality group, age band, sex), the values the release has (without `alle`)."""
    return {k: list(v) for k, v in _release_facts(str(release.path.parent), release.release_id)[2].items()}


# Releases never change, so what they contain is worked out once per release and process.
@st.cache_resource(show_spinner=False, max_entries=64)
def _release_facts(root: str, release_id: str) -> tuple[tuple[date, ...], frozenset[str], dict[str, tuple[str, ...]]]:
    chosen = open_release(release_id, Path(root))
    months: set[date] = set()
    cities: set[str] = set()
    groups: dict[str, set[str]] = {dimension: set() for dimension in GROUP_DIMENSIONS}
    for name, frame in _readable_kpi_tables(chosen):
        if KPI_TABLES[name].has_month:
            months.update(ts.date() for ts in frame["month"].dropna().unique())
        cities.update(str(city) for city in frame["city"].dropna().unique())
        if has_group_dimensions(frame):
            for dimension in GROUP_DIMENSIONS:
                groups[dimension].update(str(v) for v in frame[dimension].dropna().unique())
    return (
        tuple(sorted(months)),
        frozenset(cities),
        {dimension: tuple(sorted(values - {"alle"})) for dimension, values in groups.items()},
    )


DELIVERY_COLUMNS = (
    "agency", "city", "month", "file_name", "sha256", "rows_read", "rows_loaded", "rows_quarantined",
)  # fmt: skip
CHECK_COLUMNS = ("name", "asset", "severity", "passed", "details")


def deliveries(release: Release, key: str = "deliveries") -> pd.DataFrame:
    """The manifest's deliveries (or `rejected_deliveries`) as a table; `month` as a datetime."""
    frame = pd.DataFrame(_records(release.manifest.get(key)))
    for column in DELIVERY_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.NA
    for column in ("rows_read", "rows_loaded", "rows_quarantined"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    frame["month"] = pd.to_datetime(frame["month"].astype("string").str.slice(0, 7), format="%Y-%m", errors="coerce")
    return frame


def checks(release: Release) -> pd.DataFrame:
    """The manifest's check results: `name, asset, severity, passed, details`.

    The release format documents `name` and `details`; the publisher writes Dagster's `check` and
    `description`. Both are read, so the page does not depend on which one a release has.
    """
    frame = pd.DataFrame(_records(release.manifest.get("checks")))
    renames = {"check": "name", "description": "details"}
    frame = frame.rename(columns={old: new for old, new in renames.items() if new not in frame.columns})
    for column in CHECK_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.NA
    frame["passed"] = frame["passed"].astype("boolean")
    frame["details"] = frame["details"].map(_as_text)
    frame["severity"] = frame["severity"].astype("string").str.upper()
    return frame


def linkage(release: Release) -> dict[str, Any]:
    """The manifest's linkage summary (empty when the release has none)."""
    summary = release.manifest.get("linkage")
    return dict(summary) if isinstance(summary, Mapping) else {}


def _records(value: object) -> list[dict[str, Any]]:
    return [dict(item) for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _as_text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def release_time(release_id: str) -> datetime | None:
    """The UTC publication time encoded in a release id, or None for a differently named folder."""
    try:
        return datetime.strptime(release_id, RELEASE_ID_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_timestamp(value: object) -> datetime | None:
    """An ISO timestamp from the manifest as an aware datetime (naive values are taken as UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_month(value: object) -> date | None:
    """A month from the manifest (`YYYY-MM` or an ISO date) as the first day of that month."""
    if not isinstance(value, str) or len(value) < 7:
        return None
    try:
        return date(int(value[:4]), int(value[5:7]), 1)
    except ValueError:
        return None


def _readable_kpi_tables(release: Release) -> list[tuple[str, pd.DataFrame]]:
    """The KPI tables that can be read; a broken table is reported by its own page, not here."""
    frames = []
    for name in release.table_names():
        if name not in KPI_TABLES:
            continue
        try:
            frames.append((name, read_table(release, name)))
        except ReleaseError:
            continue
    return frames


def _table_file_name(release: Release, name: str) -> str:
    entry = (release.manifest.get("tables") or {}).get(name)
    file_name = entry.get("file") if isinstance(entry, Mapping) else None
    file_name = file_name or f"{name}.parquet"
    # A manifest is data, not code: it must not point the dashboard outside its release.
    if Path(file_name).name != file_name:
        raise ReleaseError(f"Tabelle {name}: ungültiger Dateiname {file_name!r} im Manifest.")
    if not (release.path / file_name).is_file():
        raise ReleaseError(f"Tabelle {name} fehlt in Veröffentlichung {release.release_id} (erwartet: {file_name}).")
    return file_name


# Releases are immutable, so (root, release id, file) identifies the content for good: no TTL.
@st.cache_data(show_spinner=False)
def _read_manifest(root: str, release_id: str) -> dict[str, Any]:
    path = Path(root) / release_id / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReleaseError(f"Manifest {path} ist nicht lesbar: {error}") from error
    if not isinstance(manifest, dict):
        raise ReleaseError(f"Manifest {path} ist kein JSON-Objekt.")
    return manifest


# A resource cache, not a data cache: st.cache_data would pickle a copy of each table on every read,
# which for the grouped tables of a large city costs more than the page itself. Readers get a
# shallow copy (see read_table), so the cached frame is never changed.
@st.cache_resource(show_spinner=False, max_entries=256)
def _read_parquet(root: str, release_id: str, file_name: str) -> pd.DataFrame:
    path = Path(root) / release_id / file_name
    try:
        frame = pd.read_parquet(path, engine="pyarrow", dtype_backend="numpy_nullable")
    except (OSError, ValueError) as error:
        raise ReleaseError(f"Tabelle {path} ist nicht lesbar: {error}") from error
    if "month" in frame.columns:
        frame["month"] = pd.to_datetime(frame["month"])
    return frame
