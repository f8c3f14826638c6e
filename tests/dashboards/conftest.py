"""Fixtures of the dashboard tests: a data folder, a published release in it, users, and the app.

The release itself is built by `dashboard_release_builder` (plain functions, so tests can also
write several releases or feed its marts to the real publisher). Users are written with the real
users-file code (`dashboards.access`), and `open_app` logs in through the real login form.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_release_builder import APP, RELEASE_ID, PublishedRelease, write_release
from streamlit.testing.v1 import AppTest

from dashboards import access

# Passwords of the test users (the users file holds only their scrypt hashes).
USERS = {
    "lenkung": ("lenkung-passwort", [access.STEERING]),
    "datenpflege": ("datenpflege-passwort", [access.STEWARD]),
    "beides": ("beides-passwort", [access.STEERING, access.STEWARD]),
}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder the dashboard is pointed at (nothing published yet)."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(path))
    monkeypatch.delenv(access.USERS_FILE_ENV, raising=False)
    monkeypatch.delenv("INTEGRATION_AUDIT_LOG", raising=False)
    return path


@pytest.fixture
def users(data_dir: Path) -> Path:
    """A users file with a steering-group member, a data steward and someone with both roles."""
    for login, (password, roles) in USERS.items():
        access.add_user(login, roles, password=password, name=login.title())
    return access.users_path()


@pytest.fixture
def published(data_dir: Path) -> PublishedRelease:
    """One published release in the data folder."""
    return write_release(data_dir / "releases", RELEASE_ID)


def log_in(app: AppTest, login: str, password: str) -> AppTest:
    """Fill in and send the login form."""
    app.text_input(key="anmeldename").input(login)
    app.text_input(key="passwort").input(password)
    return app.button[0].click().run()


@pytest.fixture
def open_app(users: Path) -> Callable[..., AppTest]:
    """Start the dashboard, log in (default: both roles), optionally open a page file under `views/`."""

    def start(page: str | None = None, *, user: str = "beides") -> AppTest:
        app = AppTest.from_file(APP, default_timeout=60).run()
        log_in(app, user, USERS[user][0])
        if page is not None:
            app.switch_page(f"views/{page}").run()
        return app

    return start
