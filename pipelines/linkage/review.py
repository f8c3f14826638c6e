"""Clerical review: the queue of uncertain pairs and the stewards' decisions on them.

The linkage step writes the queue (pseudonymous record references and the comparison evidence,
no clear text) to ``data/review/queue.parquet``; the data stewards' page of the dashboard shows
it and appends each decision to ``data/review/decisions.jsonl``. Decisions are never edited in
place: the latest decision on a pair counts, and every later linkage run respects it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import data_paths

DECISIONS = ("accept", "reject")


def review_dir() -> Path:
    return data_paths().root / "review"


def queue_path() -> Path:
    return review_dir() / "queue.parquet"


def decisions_path() -> Path:
    return review_dir() / "decisions.jsonl"


def write_queue(queue: pa.Table) -> Path:
    path = queue_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(queue, tmp)
    tmp.replace(path)  # readers never see half a file
    return path


def record_decision(agency_l: str, record_ref_l: str, agency_r: str, record_ref_r: str, decision: str,
                    reviewer: str, note: str = "") -> None:
    """Append one decision (accept: same person; reject: two persons)."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    path = decisions_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"agency_l": agency_l, "record_ref_l": record_ref_l, "agency_r": agency_r, "record_ref_r": record_ref_r,
             "decision": decision, "reviewer": reviewer, "note": note,
             "decided_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def load_decisions() -> pd.DataFrame:
    """The latest decision per record pair (in either order)."""
    path = decisions_path()
    columns = ["agency_l", "record_ref_l", "agency_r", "record_ref_r", "decision"]
    if not path.exists():
        return pd.DataFrame(columns=columns)
    frame = pd.read_json(path, lines=True, dtype=False)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    left = frame["agency_l"] + ":" + frame["record_ref_l"]
    right = frame["agency_r"] + ":" + frame["record_ref_r"]
    frame["pair"] = left.where(left < right, right) + "|" + right.where(left < right, left)
    return frame.drop_duplicates("pair", keep="last")[columns].reset_index(drop=True)
