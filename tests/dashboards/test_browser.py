"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, on the running app.

The app serves the release the real pipeline published for the shared test city (`pipeline_city`).
The test logs in, opens every page through the sidebar, checks key figures on screen against the
release's parquet files, downloads a table and the monthly PDF report, checks the audit log, and
saves a screenshot of every page as a test artefact (`$INTEGRATION_TEST_ARTIFACTS`, default
`data/test-artifacts/browser/`, which git ignores; the path is printed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from browser import CHROMIUM, REPO, chromium, dashboard_server, log_in, open_page, screenshot

from dashboards import access, audit

PAGES = {
    "ueberblick": "Überblick",
    "zustaendigkeiten": "Zuständigkeiten",
    "uebergaenge": "Übergänge",
    "wege_sprache_arbeit": "Wege in Sprache und Arbeit",
    "junge_gefluechtete": "Junge Geflüchtete",
    "staedtevergleich": "Städtevergleich",
    "arbeitsmarktprofile": "Arbeitsmarktprofile",
    "datenqualitaet": "Datenqualität",
    "pruefung": "Klärfälle",
    "methodik": "Methodik",
}
WITHOUT_CHARTS = {"pruefung", "methodik"}
CITY_NAMES = {"wuppertal": "Wuppertal", "solingen": "Solingen", "muelheim": "Mülheim an der Ruhr"}
PASSWORD = "browser-test-passwort"


def german(number: float, digits: int = 0) -> str:
    text = f"{number:,.{digits}f}"
    return text.translate(str.maketrans({",": ".", ".": ","}))


def artifacts_dir() -> Path:
    return Path(os.environ.get("INTEGRATION_TEST_ARTIFACTS", REPO / "data" / "test-artifacts")) / "browser"


@pytest.mark.browser
def test_every_page_in_chromium_shows_the_release_figures_and_is_audited(pipeline_city, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh (make test does)")
    releases = sorted(p for p in pipeline_city.releases.iterdir() if not p.name.startswith("."))
    release = releases[-1]
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    users_file, audit_log = tmp_path / "users.toml", tmp_path / "audit.jsonl"
    access.add_user("lenkung", [access.STEERING, access.STEWARD], password=PASSWORD, name="Test", path=users_file)
    env = {
        "INTEGRATION_DATA_DIR": str(pipeline_city.data_dir),
        access.USERS_FILE_ENV: str(users_file),
        audit.AUDIT_LOG_ENV: str(audit_log),
    }
    shots = artifacts_dir()
    print(f"\nscreenshots: {shots}")

    stock = pd.read_parquet(release / "kpi_stock_by_group.parquet")
    last = pd.to_datetime(stock["month"]).max()
    totals = stock[
        (pd.to_datetime(stock["month"]) == last)
        & (stock["legal_circle"] == "alle")
        & (stock[["nationality_group", "age_band", "sex"]] == "alle").all(axis=1)
    ].set_index("city")
    population = pd.read_parquet(release / "kpi_city_population.parquet").set_index("city")["population"]

    with dashboard_server(env, tmp_path / "streamlit.log") as server, chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True, locale="de-DE")
        page = context.new_page()
        log_in(page, server.url, "lenkung", PASSWORD)

        for stem, title in PAGES.items():
            open_page(page, title)
            assert page.locator("[data-testid='stException']").count() == 0, stem
            assert page.locator("[data-testid='stMain'] h1").first.inner_text() == title
            if stem not in WITHOUT_CHARTS:
                page.locator("[data-testid='stPlotlyChart']").first.wait_for()
            screenshot(page, shots / f"{list(PAGES).index(stem):02d}-{stem}.png")

            if stem == "ueberblick":
                for city, row in totals.iterrows():
                    box = page.locator(f".st-key-kennzahlen-{city}")
                    assert box.get_by_text(CITY_NAMES[city]).count() == 1
                    shown = box.locator("[data-testid='stMetricValue']").first.inner_text()
                    assert shown == ("*" if row["persons_suppressed"] else german(row["persons"])), city
                with page.expect_download() as download:
                    page.locator(".st-key-tabelle-ueberblick").get_by_role("button", name="CSV herunterladen").click()
                text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
                first = totals.index[0]
                assert (
                    f"{CITY_NAMES[first]};Personen bei mindestens einer Behörde;{int(totals.loc[first, 'persons'])}"
                    in text
                )
                with page.expect_download() as download:
                    page.get_by_role("button", name="Monatsbericht (PDF)").click()
                assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
            if stem == "staedtevergleich":
                box = page.locator(".st-key-kennzahlen-je-1000")
                names = [text.strip() for text in box.locator("[data-testid='stMetricLabel']").all_inner_texts()]
                values = box.locator("[data-testid='stMetricValue']").all_inner_texts()
                expected = {
                    CITY_NAMES[c]: german(totals.loc[c, "persons"] * 1000 / population[c], 1) for c in totals.index
                }
                assert dict(zip(names, values, strict=True)) == expected
            if stem == "datenqualitaet":
                checks = manifest["checks"]
                passed = sum(1 for c in checks if c["passed"])
                assert page.get_by_text(f"{passed} von {len(checks)}").count() == 1
            if stem == "pruefung":  # look only: a decision would change the shared city's later runs
                queued = len(pd.read_parquet(pipeline_city.data_dir / "review" / "queue.parquet"))
                box = page.locator(".st-key-klaerfaelle-stand [data-testid='stMetricValue']")
                assert box.first.inner_text() == german(queued)
            if stem == "uebergaenge":
                assert (
                    page.locator("[data-testid='stPlotlyChart'] .sankey .node-label").filter(has_text="Ankunft").count()
                )
        context.close()

    entries = audit.read_entries(audit_log)
    assert entries[0]["event"] == "login" and entries[0]["user"] == "lenkung"
    assert [e["page"] for e in entries if e["event"] == "view"] == list(PAGES)
    assert all(e["release"] == release.name for e in entries if e["event"] in ("view", "export"))
    exported = [(e["format"], e["table"]) for e in entries if e["event"] == "export"]
    assert exported == [("csv", "tabelle-ueberblick"), ("pdf", "monatsbericht")]
    assert audit.verify_chain(audit_log) == []
    assert len(list(shots.glob("*.png"))) >= len(PAGES)
