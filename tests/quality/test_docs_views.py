"""Data Docs views with shared compiled templates: the pages are GX's own, and templates compile once."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from pipelines.quality import data_docs, docs_views, gx_suites

RUN = "views-run"


def _normalised(page: Path, site: str) -> str:
    """A page without what differs between two renderings of the same result: element ids, times, site."""
    text = page.read_text(encoding="utf-8").replace(f"</strong> | {site}", "</strong> | SITE")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}", "ID", text)
    return re.sub(r"\d{8}T\d{6}\.\d+Z", "TIME", text)


def _pages(root: Path, site: str) -> dict[Path, str]:
    return {p.relative_to(root): _normalised(p, site) for p in sorted(root.rglob("*.html"))}


def test_data_docs_pages_equal_gx_default_views_and_templates_compile_once(
        raw_abh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INTEGRATION_DATA_DIR", str(tmp_path))
    compiled: list[str | None] = []
    compile_template = jinja2.Environment.compile

    def counting_compile(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: ANN001
        compiled.append(name)
        return compile_template(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting_compile)
    docs_views.TEMPLATES.clear()

    gx_suites.run_suite("raw__abh__residence_status", raw_abh, run_id=RUN)
    first = len(compiled)
    bad = raw_abh.copy()
    bad.loc[bad.index[:3], "status_code"] = "ZZUNKNOWN"  # a failed expectation renders other templates
    gx_suites.run_suite("raw__abh__residence_status", bad, run_id=RUN)
    gx_suites.run_suite("raw__abh__residence_status", raw_abh, run_id=RUN)

    assert first > 0 and docs_views.TEMPLATES.size() > 0
    assert len(compiled) - first <= 2, f"templates compiled again: {compiled[first:]}"

    # The same stored results, rendered by GX's unmodified views into a site of their own.
    context = gx_suites._run_context(data_docs.run_root(RUN))
    plain_dir = tmp_path / "plain_docs"
    context.add_data_docs_site("plain", {
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(plain_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    context.build_data_docs(site_names=["plain"])

    ours, plain = _pages(data_docs.docs_dir(RUN), "local_site"), _pages(plain_dir, "plain")
    assert len(ours) == 5  # index, the suite, three validations
    assert ours.keys() == plain.keys()
    for page, text in ours.items():
        assert text == plain[page], f"{page} differs from GX's own rendering"
    assert ".ge-index-page-site-name-title {}" in ours[Path("index.html")], "the custom styles are included"
