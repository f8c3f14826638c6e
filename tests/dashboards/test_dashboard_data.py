"""The dashboard's two helper contracts without the UI: reading releases, and showing figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dashboard_release_builder import DASHBOARDS, RELEASE_ID, PublishedRelease, write_release

from dashboards import release
from dashboards.exports import csv_bytes
from dashboards.formatting import Column, chart_values, display_table, format_decimal, format_percent


def test_release_root_is_where_the_pipeline_publishes(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.config import data_paths

    assert release.releases_root() == data_paths().releases == data_dir / "releases"
    monkeypatch.delenv("INTEGRATION_DATA_DIR")
    assert release.releases_root() == data_paths().releases == DASHBOARDS.parent / "data" / "releases"


def test_only_finished_releases_are_listed_oldest_first(data_dir: Path) -> None:
    root = data_dir / "releases"
    write_release(root, "20160705T060000Z")
    write_release(root, "20160602T060000Z")
    write_release(root, "20160803T060000Z", with_manifest=False)
    staging = root / ".tmp-20160904T060000Z-77"  # the publisher writes the manifest before the rename
    staging.mkdir()
    (staging / "manifest.json").write_text("{}")
    (root / "notes.txt").write_text("not a release")

    assert release.list_releases() == ["20160602T060000Z", "20160705T060000Z"]
    assert release.latest_release() == "20160705T060000Z"


def test_no_releases_folder_means_no_release(data_dir: Path) -> None:
    assert release.list_releases() == []
    assert release.latest_release() is None


def test_tables_are_read_with_nulls_for_suppressed_counts(published: PublishedRelease) -> None:
    chosen = release.open_release(RELEASE_ID)
    frame = release.read_table(chosen, "kpi_persons_by_agency")

    hidden = frame[frame["persons_suppressed"]]
    assert len(hidden) == int(published.tables["kpi_persons_by_agency"]["persons_suppressed"].sum())
    assert hidden["persons"].isna().all()
    assert str(frame["persons"].dtype) == "Int64"
    assert frame["month"].dt.day.eq(1).all()


def test_a_table_without_its_contract_columns_is_refused_with_a_german_reason(published: PublishedRelease) -> None:
    path = published.path / "kpi_youth_care.parquet"
    pd.read_parquet(path).drop(columns=["turning_18"]).to_parquet(path, index=False)

    with pytest.raises(release.ReleaseError, match="es fehlen: turning_18"):
        release.read_table(release.open_release(RELEASE_ID), "kpi_youth_care")


def test_a_manifest_cannot_point_outside_its_release(published: PublishedRelease) -> None:
    chosen = release.open_release(RELEASE_ID)
    tampered = release.Release(
        chosen.release_id,
        chosen.path,
        {**chosen.manifest, "tables": {"kpi_youth_care": {"file": "../../secret.parquet"}}},
    )
    with pytest.raises(release.ReleaseError, match="ungültiger Dateiname"):
        release.read_table(tampered, "kpi_youth_care")


SHOWN = [Column("city", "Stadt"), Column("persons", "Personen", "count"), Column("share", "Anteil", "percent")]


def frame_with(persons: list[object], flags: list[bool], share: list[object] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "city": ["a"] * len(persons),
            "persons": pd.array(persons, dtype="Int64"),
            "persons_suppressed": flags,
            "share": pd.array(share or [0.5] * len(persons), dtype="Float64"),
        }
    )


def test_suppressed_cell_is_a_star_even_when_a_number_was_written_next_to_the_flag() -> None:
    shown = display_table(frame_with([None, 0, 12345], [True, True, False]), SHOWN)
    assert shown["Personen"].tolist() == ["*", "*", "12.345"]


def test_a_missing_value_without_flag_is_a_dash_never_a_star_or_zero() -> None:
    shown = display_table(frame_with([None, 0], [False, False]), SHOWN)
    assert shown["Personen"].tolist() == ["–", "0"]


def test_numbers_are_german() -> None:
    assert display_table(frame_with([1234567], [False], [0.921]), SHOWN).iloc[0].tolist() == [
        "a",
        "1.234.567",
        "92,1 %",
    ]
    assert format_decimal(1234.5) == "1.234,5"
    assert format_percent(0.5, sign=False) == "50,0"


def test_csv_opens_in_german_excel_with_plain_numbers_and_stars() -> None:
    data = csv_bytes(frame_with([1234567, None], [False, True], [0.921, None]), SHOWN)
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").splitlines() == ["Stadt;Personen;Anteil", "a;1234567;92,1", "a;*;"]


def test_chart_values_leave_suppressed_cells_out_and_count_them() -> None:
    chart, omitted = chart_values(frame_with([None, 0, 7], [True, True, False]), ["persons"])
    assert omitted == 2
    assert chart["persons"].isna().tolist() == [True, True, False]
    assert chart["persons"].iloc[2] == 7.0


def test_pages_are_not_in_a_folder_named_pages() -> None:
    # Streamlit runs a `pages/` folder next to the entry script as an old-style multipage app,
    # bypassing app.py (sidebar, release choice) on a fresh server's first deep link.
    assert not (DASHBOARDS / "pages").exists()
