"""`make demo`: synthetic deliveries for three cities, the whole pipeline, a release, a summary."""

from __future__ import annotations

import argparse
import json
import os
import time

from pipelines.config import data_paths
from pipelines.ingest.keys import KEY_ENV, KEY_FILE_ENV, create_demo_key


def ensure_demo_key() -> None:
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        print("Pseudonymisation key: from the environment.")
        return
    path = data_paths().keys / "pseudonymisation.key"
    created = create_demo_key(path)
    os.environ[KEY_FILE_ENV] = str(path)
    print(("Created a local DEMO pseudonymisation key" if created else "Using the local DEMO key")
          + f" at {path} (mode 0600). It is for synthetic data only; a city holds its real key outside "
          f"the repository and the warehouse and sets {KEY_FILE_ENV} or {KEY_ENV}.")


def summary_text() -> str:
    import duckdb

    from pipelines.publish.release import latest_release

    release = latest_release(data_paths().releases)
    if release is None:
        return "No release was published."
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    lines = [f"Release {manifest['release_id']} at {release}"]
    con = duckdb.connect(str(data_paths().warehouse), read_only=True)
    try:
        persons = con.execute("select count(distinct person_key) from marts.person_journey").fetchone()[0]
        lines.append(f"Persons in the journey table: {persons:,}")
        for agency, n in con.execute("""select source_agency, count(distinct person_key) from marts.person_journey
                                        group by 1 order by 1""").fetchall():
            lines.append(f"  known to {agency:<10} {n:>8,}")
        lines.append("Overlaps (persons by the set of agencies that know them):")
        for agencies, n in con.execute("""select agencies, count(*) from marts.person_milestones
                                          group by 1 order by 2 desc""").fetchall():
            lines.append(f"  {agencies:<28} {n:>8,}")
        read, loaded, quarantined = con.execute("""select sum(rows_read), sum(rows_loaded), sum(rows_quarantined)
                                                   from meta.deliveries where not superseded""").fetchone()
        lines.append(f"Delivery rows read {read:,}, loaded {loaded:,}, quarantined {quarantined:,}")
    finally:
        con.close()
    checks = manifest["checks"]
    lines.append(f"Checks passed: {sum(c['passed'] for c in checks)} of {len(checks)}")
    link = manifest["linkage"]
    lines.append(f"Linkage model {link.get('model_version')}: {link.get('deterministic_links')} records linked "
                 f"deterministically, {link.get('probabilistic_links')} probabilistically, "
                 f"{link.get('singletons')} alone")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=16600)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default="2016-01")
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args()

    ensure_demo_key()
    from pipelines.runner import run_pipeline
    from pipelines.synthetic import generate

    started = time.perf_counter()
    generated = generate(data_paths().root, persons=args.persons, start=args.start, months=args.months,
                         seed=args.seed)
    print(f"Generated synthetic deliveries: {generated}")
    t_pipeline = time.perf_counter()
    run_pipeline()
    finished = time.perf_counter()
    print()
    print(summary_text())
    print(f"\nWall time: generate {t_pipeline - started:.0f} s, pipeline {finished - t_pipeline:.0f} s.")
    print("Next: `make dashboard` (figures) or `make ui` (Dagster UI).")


if __name__ == "__main__":
    main()
