"""Where Great Expectations writes a run's validation results and Data Docs: ``data/quality/runs/<run id>/``.

One folder per Dagster run keeps a run's Data Docs small and unambiguous (the index lists exactly the
suites of that run), and lets a release manifest point at the results its gate saw. Old folders are
pruned; a folder a release links to is marked and kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.config import data_paths

KEEP_MARKER = "PUBLISHED"


def runs_dir() -> Path:
    return data_paths().quality / "runs"


def run_root(run_id: str) -> Path:
    """The GX project folder of a run (validation results, suites as run, Data Docs)."""
    return runs_dir() / run_id


def docs_dir(run_id: str) -> Path:
    return run_root(run_id) / "data_docs"


def docs_index(run_id: str) -> Path:
    """The Data Docs start page of a run (exists once a suite ran in that run)."""
    return docs_dir(run_id) / "index.html"


def docs_link(run_id: str) -> str | None:
    """The start page relative to the data folder, for the release manifest; None when no suite ran."""
    index = docs_index(run_id)
    return index.relative_to(data_paths().root).as_posix() if index.exists() else None


def mark_published(run_id: str) -> None:
    """Keep this run's Data Docs for as long as the release that links to them."""
    root = run_root(run_id)
    if root.is_dir():
        (root / KEEP_MARKER).touch()


def prune(keep_runs: int, current: str | None = None) -> list[str]:
    """Remove the Data Docs of all but the ``keep_runs`` newest runs, except published ones and ``current``."""
    folder = runs_dir()
    if not folder.is_dir():
        return []
    runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for path in runs[keep_runs:]:
        if path.name == current or (path / KEEP_MARKER).exists():
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed
