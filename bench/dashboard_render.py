"""Page render times of the dashboard on a given release: median per page, as a JSON result.

    .venv/bin/python bench/dashboard_render.py --release data/releases/<release id> [--runs 7]

What is measured: one full server-side run of the Streamlit script for a page (login already done,
sidebar, reading the release's tables, computing the figures, building the charts and tables),
with Streamlit's AppTest, i.e. what the server does before the browser can paint. The first view
of each page is reported separately (it reads the parquet files; later views hit the cache, as in
a running server). The target (issue 6): median under 1 s per page on a release from 1,000,000
persons.

The release is opened read-only through a temporary data folder that links to it, with its own
users file and audit log, so the benchmark writes nothing into the release's data folder. Results
go to `bench/results/dashboard-<UTC timestamp>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = (
    "ueberblick",
    "zustaendigkeiten",
    "uebergaenge",
    "wege_sprache_arbeit",
    "junge_gefluechtete",
    "staedtevergleich",
    "arbeitsmarktprofile",
    "datenqualitaet",
    "methodik",
)
USER, PASSWORD = "bench", "bench-passwort"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", type=Path, help="a release folder (default: the newest under data/releases)")
    parser.add_argument("--runs", type=int, default=7, help="views per page after the first (default 7)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)

    release = (args.release or _newest(REPO / "data" / "releases")).resolve()
    if not (release / "manifest.json").is_file():
        parser.error(f"{release} is not a release folder (no manifest.json)")
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as scratch:
        data_dir = Path(scratch)
        (data_dir / "releases").mkdir()
        (data_dir / "releases" / release.name).symlink_to(release, target_is_directory=True)
        os.environ["INTEGRATION_DATA_DIR"] = str(data_dir)
        os.environ.pop("INTEGRATION_USERS_FILE", None)
        os.environ.pop("INTEGRATION_AUDIT_LOG", None)
        result = measure(release, args.runs)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"dashboard-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    width = max(len(p) for p in PAGES)
    print(f"release {release.name}: {result['persons']} persons, {result['runs']} views per page")
    print(f"{'page':<{width}}  first view  median  max")
    for page, times in result["pages"].items():
        print(f"{page:<{width}}  {times['first_s']:>9.3f}s  {times['median_s']:.3f}s  {times['max_s']:.3f}s")
    print(f"written: {path}")
    return 0


def measure(release: Path, runs: int) -> dict:
    """Log in once, view every page once (cold), then `runs` rounds over all pages (warm)."""
    from streamlit.testing.v1 import AppTest

    from dashboards import access

    access.add_user(USER, [access.STEERING, access.STEWARD], password=PASSWORD)
    app = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=600)
    started = time.perf_counter()
    app.run()
    app.text_input(key="anmeldename").input(USER)
    app.text_input(key="passwort").input(PASSWORD)
    app.button[0].click().run()
    login_s = time.perf_counter() - started
    _check(app, "login")

    first: dict[str, float] = {}
    for page in PAGES:
        first[page] = _view(app, page)
    warm: dict[str, list[float]] = {page: [] for page in PAGES}
    for _ in range(runs):
        for page in PAGES:
            warm[page].append(_view(app, page))

    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    linkage = manifest.get("linkage") or {}
    return {
        "benchmark": "dashboard_render",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "release": release.name,
        "release_path": str(release),
        "persons": linkage.get("persons_in_journey") or linkage.get("persons"),
        "table_rows": {name: entry.get("rows") for name, entry in (manifest.get("tables") or {}).items()},
        "runs": runs,
        "login_s": round(login_s, 4),
        "pages": {
            page: {
                "first_s": round(first[page], 4),
                "median_s": round(statistics.median(warm[page]), 4),
                "min_s": round(min(warm[page]), 4),
                "max_s": round(max(warm[page]), 4),
            }
            for page in PAGES
        },
        "measured": "server-side script run per page view (Streamlit AppTest), after login",
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
    }


def _view(app, page: str) -> float:
    started = time.perf_counter()
    app.switch_page(f"views/{page}.py").run()
    elapsed = time.perf_counter() - started
    _check(app, page)
    return elapsed


def _check(app, where: str) -> None:
    if app.exception:
        raise SystemExit(f"{where}: {app.exception[0].value}")


def _newest(root: Path) -> Path:
    releases = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
    if not releases:
        raise SystemExit(f"no release under {root}: run `make demo` or pass --release")
    return releases[-1]


if __name__ == "__main__":
    raise SystemExit(main())
