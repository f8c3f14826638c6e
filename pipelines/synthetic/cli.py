"""Command line: ``python -m pipelines.synthetic --out DATA_DIR --persons N ...``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.config import data_paths

from .generator import generate
from .noise import PROFILES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.synthetic",
        description="Write synthetic monthly deliveries of immigration office, jobcenter and youth office "
        "for Wuppertal, Solingen and Mülheim, plus ground truth for evaluation.",
        epilog="Files follow docs/data-contracts.md section 1. Earlier output of this generator in the "
        "data folder (landing/abh, landing/jobcenter, landing/jugendamt, truth) is replaced.",
    )
    parser.add_argument("--out", type=Path, default=None,
                        help="data folder; landing/ and truth/ are written inside "
                        "(default: $INTEGRATION_DATA_DIR or data/)")
    parser.add_argument("--persons", type=int, default=16_600,
                        help="true persons across the three cities (default 16600, the interview's scale)")
    parser.add_argument("--start", default="2016-01", help="first delivery month YYYY-MM (default 2016-01)")
    parser.add_argument("--months", type=int, default=12, help="number of monthly deliveries (default 12)")
    parser.add_argument("--seed", type=int, default=2016, help="random seed; same seed, same bytes")
    parser.add_argument("--profile", choices=list(PROFILES), default="realistic",
                        help="noise preset (default realistic)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out if args.out is not None else data_paths().root
    began = time.perf_counter()
    try:
        summary = generate(out, persons=args.persons, start=args.start, months=args.months, seed=args.seed,
                           profile=args.profile)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary)
    print(f"done in {time.perf_counter() - began:.1f} s")
    return 0
