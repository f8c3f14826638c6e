"""Fixtures of the dashboard tests: a data folder, a published release in it, and the running app.

The release itself is built by `dashboard_release_builder` (plain functions, so tests can also
write several releases or feed its marts to the real publisher).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_release_builder import APP, RELEASE_ID, PublishedRelease, write_release
from streamlit.testing.v1 import AppTest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder the dashboard is pointed at (nothing published yet)."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(path))
    return path


@pytest.fixture
def published(data_dir: Path) -> PublishedRelease:
    """One published release in the data folder."""
    return write_release(data_dir / "releases", RELEASE_ID)


@pytest.fixture
def open_app(data_dir: Path) -> Callable[..., AppTest]:
    """Start the dashboard on the test's data folder (optionally on a page file under `views/`)."""

    def start(page: str | None = None) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=60).run()
        if page is not None:
            app.switch_page(f"views/{page}").run()
        return app

    return start
