"""Linkage time and quality for several block limits, on a benchmark's data folder.

    .venv/bin/python bench/pipeline.py --sizes 1000000 --repeats 1 --keep     # leaves data/bench/bench-1000000-*/
    .venv/bin/python bench/block_limit.py data/bench/bench-1000000-<id> --limits 100,25

The adaptive blocking keys refine a block of more than ``BLOCK_LIMIT`` identity records by sex, nationality,
city and district, then by one last column (``pipelines/linkage/model.py``). A smaller limit scores fewer
pairs; whether it also loses true matches shows only where blocks are large, that is at the benchmark's
sizes, which the linkage evaluation (``python -m pipelines.linkage.evaluate``, at most tens of thousands
of persons) does not reach. An evaluation's folder (``--data``) works too, with ``--key <folder>/keys/evaluation.key``.

For every limit this links the folder's identity records (``intermediate.int_identity_records``) anew, with
the folder's saved model and without the score cache, in this process, and compares the clusters with the
generator's ground truth (``truth/``) as the evaluation does. The warehouse is only read. Results:
``bench/results/block-limit-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def measure(data: Path, limits: list[int], key: Path | None = None) -> list[dict]:
    os.environ["INTEGRATION_DATA_DIR"] = str(data)  # linkage spills to the folder's linkage/spill
    # the truth's record ids become the pseudonyms the registry holds with the folder's own key
    os.environ["INTEGRATION_PSEUDONYM_KEY_FILE"] = str(key or data / "keys" / "bench.key")

    import duckdb

    from pipelines.linkage.evaluate import cluster_metrics, pair_metrics, truth_with_refs
    from pipelines.linkage.link import link_identities, read_identities
    from pipelines.linkage.models import load_current_model

    con = duckdb.connect(str(data / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        identities = read_identities(con)
    finally:
        con.close()
    model = load_current_model()  # the folder's, by INTEGRATION_DATA_DIR
    truth = truth_with_refs(data / "truth")[["agency", "record_ref", "person_id"]]
    results = []
    for limit in limits:
        result = link_identities(identities, model=model, block_limit=limit)
        clusters = result.records.select(["agency", "record_ref", "cluster_id"]).to_pandas()
        frame = clusters.rename(columns={"cluster_id": "person_key"}).merge(truth, on=["agency", "record_ref"])
        row = {"block_limit": limit, "identity_records": result.counts["identity_records"],
               "seconds": round(result.seconds, 2), "phase_seconds": result.phase_seconds,
               "pairs_kept": result.score_cache.pairs.num_rows if result.score_cache else 0,
               "pairwise": pair_metrics(frame), "clusters": cluster_metrics(frame)}
        print(json.dumps(row), flush=True)
        results.append(row)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="a benchmark data folder (bench/pipeline.py --keep)")
    parser.add_argument("--limits", default="100,25", help="block limits, comma-separated")
    parser.add_argument("--key", type=Path, default=None,
                        help="the folder's pseudonymisation key file (default: <folder>/keys/bench.key; a linkage "
                             "evaluation folder has keys/evaluation.key)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    begin = time.perf_counter()
    results = measure(args.data.resolve(), [int(x) for x in args.limits.split(",")], args.key)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"block-limit-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"benchmark": "block_limit", "created_at": started.isoformat(timespec="seconds"),
                               "data": str(args.data), "wall_s": round(time.perf_counter() - begin, 1),
                               "results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
