"""The dashboard as a real server, driven by Debian's Chromium through Playwright.

`scripts/ensure_chromium.sh` installs Chromium (`make test` runs it); Playwright's own browser
download is never used (it needs network beyond the package registries). The server is the real
`streamlit run dashboards/app.py` on a free loopback port, pointed at a data folder through the
environment, with its own users file and audit log.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def dashboard_server(env: dict[str, str], log: Path, timeout: float = 60) -> Iterator[Server]:
    """`streamlit run dashboards/app.py` on a free loopback port until the block ends."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "dashboards" / "app.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Streamlit did not start; see {log}:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield Server(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        handle.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_until_idle(page: Page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (its status widget disappears)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)
    page.wait_for_timeout(300)


def log_in(page: Page, url: str, login: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Benutzername").fill(login)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.locator("[data-testid='stSidebarNav']").wait_for(timeout=30_000)
    wait_until_idle(page)


def open_page(page: Page, title: str) -> None:
    """Follow the sidebar link to a page (same session: the login holds) and wait for its title."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title, exact=True).click()
    page.locator("[data-testid='stMain'] h1").filter(has_text=title).first.wait_for(timeout=30_000)
    wait_until_idle(page)


def screenshot(page: Page, path: Path) -> Path:
    """The whole page: Streamlit scrolls inside its main area, so the window is made as tall as that.

    Charts redraw for the new size and can grow the page, so the height is measured until it holds.
    """
    width = page.viewport_size["width"] if page.viewport_size else 1400
    height = 900
    for _ in range(4):
        needed = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMainBlockContainer],"
            " [data-testid=stSidebarContent]')].map(e => e.scrollHeight))"
        )
        if int(needed) <= height:
            break
        height = int(needed) + 60
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(700)  # plotly redraws charts for the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 900})
    return path
