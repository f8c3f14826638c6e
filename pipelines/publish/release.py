"""Write a release folder atomically.

Files are written into a hidden temporary folder next to the releases, flushed to
disk, then the folder is renamed to its final name. A rename within one file system is
atomic: a reader sees either no release or the whole release, never a half-written one.
A publication killed before its rename leaves a ``.tmp-*`` folder that no reader lists;
the next publication removes it.

The CSV copies are for people who open them in a spreadsheet, which would execute a cell
that starts with ``=``, ``+``, ``-`` or ``@`` as a formula: such text cells get a leading
apostrophe (OWASP's advice against CSV injection). The Parquet files keep the values as they are.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.config import REPO_ROOT
from pipelines.crashpoints import pause_point

log = logging.getLogger(__name__)
STAGING_PREFIX = ".tmp-"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def new_release_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ")


def code_version() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell a spreadsheet would run as a formula starts with an apostrophe."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype.kind not in "OSUT" and str(out[column].dtype) not in ("string", "str"):
            continue  # numbers, dates and booleans are written as values, never as formulas
        values = out[column]
        text = values.astype("string")
        live = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if live.any():
            out[column] = values.astype("object").where(~live, "'" + text)
    return out


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(releases_dir: Path) -> list[Path]:
    """Remove ``.tmp-*`` folders of publications whose process is gone (killed before the rename)."""
    removed = []
    for folder in releases_dir.glob(f"{STAGING_PREFIX}*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if folder.is_dir() and not (pid.isdigit() and int(pid) != os.getpid() and _process_alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)
            log.warning("removed %s, left by a publication that did not finish", folder.name)
            removed.append(folder)
    return removed


def write_release(releases_dir: Path, release_id: str, tables: dict[str, pd.DataFrame],
                  manifest: dict[str, Any]) -> Path:
    releases_dir.mkdir(parents=True, exist_ok=True)
    final = releases_dir / release_id
    if final.exists():
        raise FileExistsError(f"release {release_id} exists already; releases are never overwritten")
    remove_stale_staging(releases_dir)
    staging = releases_dir / f"{STAGING_PREFIX}{release_id}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        listing = {}
        for name, frame in tables.items():
            frame.to_parquet(staging / f"{name}.parquet", index=False)
            neutralise_formulas(frame).to_csv(staging / f"{name}.csv", index=False)
            listing[name] = {"file": f"{name}.parquet", "rows": len(frame), "columns": list(frame.columns)}
        manifest = {**manifest, "release_id": release_id, "tables": listing}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str),
                                               encoding="utf-8")
        for file in staging.iterdir():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(staging)
        pause_point("publish-before-rename")  # fault tests kill the run here: nothing may become visible
        os.rename(staging, final)
        _fsync_dir(releases_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def latest_release(releases_dir: Path) -> Path | None:
    if not releases_dir.is_dir():
        return None
    done = sorted(p for p in releases_dir.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").exists())
    return done[-1] if done else None
