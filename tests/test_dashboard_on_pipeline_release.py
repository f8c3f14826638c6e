"""The dashboard renders every page from the release the real pipeline published."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.config import REPO_ROOT
from pipelines.publish.release import latest_release

APP = str(REPO_ROOT / "dashboards" / "app.py")
VIEWS = sorted(p.name for p in (REPO_ROOT / "dashboards" / "views").glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("view", VIEWS)
def test_page_renders_from_the_pipeline_release_without_error(pipeline_city, monkeypatch, view):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(pipeline_city.data_dir))
    app = AppTest.from_file(APP, default_timeout=90).run()
    app.switch_page(f"views/{view}").run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.markdown or app.metric or app.dataframe


def test_quality_page_names_the_latest_release(pipeline_city, monkeypatch):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(pipeline_city.data_dir))
    release_id = Path(latest_release(pipeline_city.releases)).name
    app = AppTest.from_file(APP, default_timeout=90).run()
    page = next(v for v in VIEWS if "qualit" in v)
    app.switch_page(f"views/{page}").run()
    shown = " ".join(str(m.value) for m in app.markdown) + " ".join(str(m.value) for m in app.caption)
    shown += " ".join(str(getattr(m, "value", "")) for m in app.metric)
    assert release_id in shown or any(release_id in str(s.value) for s in app.selectbox)
