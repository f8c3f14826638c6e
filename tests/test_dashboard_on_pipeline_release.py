"""The dashboard renders every page from the release the real pipeline published."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.config import REPO_ROOT
from pipelines.publish.release import latest_release

APP = str(REPO_ROOT / "dashboards" / "app.py")
VIEWS = sorted(p.name for p in (REPO_ROOT / "dashboards" / "views").glob("*.py") if not p.name.startswith("_"))


def _logged_in(tmp_path, monkeypatch) -> AppTest:
    """The app after a login through its form; users file and audit log outside the city's data folder."""
    from dashboards import access

    monkeypatch.setenv(access.USERS_FILE_ENV, str(tmp_path / "users.toml"))
    monkeypatch.setenv("INTEGRATION_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    access.add_user("test", [access.STEERING, access.STEWARD], password="test-passwort")
    app = AppTest.from_file(APP, default_timeout=90).run()
    app.text_input(key="anmeldename").input("test")
    app.text_input(key="passwort").input("test-passwort")
    return app.button[0].click().run()


@pytest.mark.parametrize("view", VIEWS)
def test_page_renders_from_the_pipeline_release_without_error(pipeline_city, monkeypatch, tmp_path, view):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(pipeline_city.data_dir))
    app = _logged_in(tmp_path, monkeypatch)
    app.switch_page(f"views/{view}").run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.markdown or app.metric or app.dataframe


def test_quality_page_names_the_latest_release(pipeline_city, monkeypatch, tmp_path):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(pipeline_city.data_dir))
    release_id = Path(latest_release(pipeline_city.releases)).name
    app = _logged_in(tmp_path, monkeypatch)
    page = next(v for v in VIEWS if "qualit" in v)
    app.switch_page(f"views/{page}").run()
    shown = " ".join(str(m.value) for m in app.markdown) + " ".join(str(m.value) for m in app.caption)
    shown += " ".join(str(getattr(m, "value", "")) for m in app.metric)
    assert release_id in shown or any(release_id in str(s.value) for s in app.selectbox)
