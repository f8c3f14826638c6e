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


def main() -> None:
    """`python -m pipelines.linkage.review list` / `decide N accept|reject --reviewer NAME`."""
    import argparse

    parser = argparse.ArgumentParser(description="Clerical review of uncertain record pairs (pseudonymous).")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="open pairs, least certain first")
    listing.add_argument("--limit", type=int, default=20)
    decide = sub.add_parser("decide", help="decide the pair numbered N in `list`")
    decide.add_argument("number", type=int)
    decide.add_argument("decision", choices=DECISIONS)
    decide.add_argument("--reviewer", required=True)
    decide.add_argument("--note", default="")
    args = parser.parse_args()

    queue = pd.read_parquet(queue_path()) if queue_path().exists() else pd.DataFrame()
    decided = load_decisions()
    if not queue.empty and not decided.empty:
        done = set(zip(decided["record_ref_l"], decided["record_ref_r"], strict=True))
        done |= {(b, a) for a, b in done}
        queue = queue[[(a, b) not in done for a, b in zip(queue["record_ref_l"], queue["record_ref_r"],
                                                         strict=True)]].reset_index(drop=True)
    if args.command == "list":
        levels = [c for c in queue.columns if c.endswith("_level")]
        for number, row in queue.head(args.limit).iterrows():
            evidence = ", ".join(f"{c.removesuffix('_level')}: {row[c]}" for c in levels)
            print(f"{number:>4}  p={row['match_probability']:.3f}  {row['agency_l']} {row['record_ref_l'][:10]}… "
                  f"<-> {row['agency_r']} {row['record_ref_r'][:10]}…  [{evidence}]")
        print(f"{len(queue)} open pairs")
        return
    row = queue.iloc[args.number]
    record_decision(row["agency_l"], row["record_ref_l"], row["agency_r"], row["record_ref_r"], args.decision,
                    reviewer=args.reviewer, note=args.note)
    print(f"recorded: {args.decision} for pair {args.number}; the next linkage run respects it")


if __name__ == "__main__":
    main()
