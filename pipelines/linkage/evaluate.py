"""Measure linkage quality against the synthetic ground truth.

    python -m pipelines.linkage.evaluate --profile hard --persons 50000 --seed 1

Generates deliveries into a scratch data folder (``data/eval/<profile>/`` unless ``--data``),
runs the real ingest and linkage jobs through Dagster, then compares the person registry
with ``truth/truth_records.csv`` (which the pipeline never reads). Writes
``reports/linkage/<profile>.json`` and a readable ``reports/linkage/<profile>.md``.

Pairwise figures count pairs of source records: a true pair belongs to one true person, a
predicted pair to one person key. Cluster figures: a *split* true person has records under
more than one key (an under-link counts one person twice); a *merged* key holds records of
more than one true person (an over-link mixes two journeys).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.config import REPO_ROOT
from pipelines.ingest.encodings import Encoder
from pipelines.ingest.keys import KEY_ENV, KEY_FILE_ENV, load_key

REPORT_DIR = REPO_ROOT / "reports" / "linkage"
NOISE_TYPES = ("translit", "swap", "typo", "placeholder_dob", "azr_missing", "azr_typo", "moved_city", "duplicate")


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def truth_with_refs(truth_dir: Path) -> pd.DataFrame:
    """Ground-truth records with the record pseudonym ingestion computes for them."""
    truth = pd.read_csv(truth_dir / "truth_records.csv", dtype=str, keep_default_na=False)
    encoder = Encoder(load_key())
    parts = [group.assign(record_ref=encoder.pseudonym(group["record_id"], f"record|{agency}|{city}").to_numpy())
             for (agency, city), group in truth.groupby(["agency", "city"])]
    return pd.concat(parts, ignore_index=True)


def pair_metrics(frame: pd.DataFrame) -> dict[str, float]:
    predicted = _pairs(frame.groupby("person_key").size())
    true = _pairs(frame.groupby("person_id").size())
    both = _pairs(frame.groupby(["person_key", "person_id"]).size())
    precision = both / predicted if predicted else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_pairs": true, "predicted_pairs": predicted, "correct_pairs": both,
            "precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5)}


def cluster_metrics(frame: pd.DataFrame) -> dict[str, float]:
    true_persons = frame["person_id"].nunique()
    estimated = frame["person_key"].nunique()
    keys_per_person = frame.groupby("person_id")["person_key"].nunique()
    persons_per_key = frame.groupby("person_key")["person_id"].nunique()
    return {
        "true_persons": int(true_persons),
        "estimated_persons": int(estimated),
        "person_count_error": round((estimated - true_persons) / true_persons, 5),
        "split_rate": round(float((keys_per_person > 1).mean()), 5),
        "merge_rate": round(float((persons_per_key > 1).mean()), 5),
    }


def noise_breakdown(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """For each noise type: how the true persons with such a record fare."""
    out: dict[str, dict[str, float]] = {}
    flags = frame["noise"].str.split(";")
    keys_per_person = frame.groupby("person_id")["person_key"].nunique()
    persons_per_key = frame.groupby("person_key")["person_id"].nunique()
    for noise in NOISE_TYPES:
        has = flags.map(lambda f, n=noise: n in f)
        persons = frame.loc[has, "person_id"].unique()
        if len(persons) == 0:
            continue
        subset = frame[frame["person_id"].isin(persons)]
        keys = frame.loc[has, "person_key"].unique()
        out[noise] = {
            "records": int(has.sum()),
            "persons": int(len(persons)),
            "split_rate": round(float((keys_per_person.loc[persons] > 1).mean()), 5),
            "merge_rate": round(float((persons_per_key.loc[keys] > 1).mean()), 5),
            "pair_recall": pair_metrics(subset)["recall"],
        }
    return out


def evaluate_registry(warehouse: Path, truth_dir: Path) -> dict[str, Any]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        registry = con.execute("select agency, record_ref, person_key, link_method from registry.person_registry").df()
        run = con.execute("select * from registry.linkage_runs order by finished_at desc limit 1").df()
    finally:
        con.close()
    truth = truth_with_refs(truth_dir)
    frame = registry.merge(truth[["agency", "record_ref", "person_id", "noise"]], on=["agency", "record_ref"],
                           how="inner")
    missing = len(truth) - len(frame)
    return {
        "records": len(frame),
        "truth_records_not_in_registry": int(missing),
        "pairwise": pair_metrics(frame),
        "clusters": cluster_metrics(frame),
        "by_noise": noise_breakdown(frame),
        "links_by_method": registry["link_method"].value_counts().to_dict(),
        "linkage_run": {k: (v.item() if hasattr(v, "item") else str(v)) for k, v in run.iloc[0].items()}
        if len(run) else {},
    }


def _snapshot(warehouse: Path) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("""
            select r.agency, r.record_ref, r.person_key,
                   string_agg(i.identity_id, ',' order by i.identity_id) as identity
            from registry.person_registry r join intermediate.int_identity_records i using (agency, record_ref)
            group by all""").df()
    finally:
        con.close()


def key_churn(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """Key churn between two runs for persons whose records did not change.

    A person (a key of the first run) counts as unchanged when every one of its records is still
    delivered with the same identity encodings and no new or changed record joined it; its key must
    survive. (A record another agency corrected, which now links to the person, is new evidence about it.)
    """
    merged = before.merge(after, on=["agency", "record_ref"], how="left", suffixes=("_1", "_2"))
    record_changed = merged["identity_2"].isna() | (merged["identity_1"] != merged["identity_2"])
    changed_persons = set(merged.loc[record_changed, "person_key_1"])
    # a new or changed record joining a person is new evidence about it
    news = after.merge(before[["agency", "record_ref", "identity"]], on=["agency", "record_ref"], how="left",
                       suffixes=("", "_before"))
    news = news[news["identity_before"].isna() | (news["identity"] != news["identity_before"])]
    joined = set(merged.loc[merged["person_key_2"].isin(news["person_key"]), "person_key_1"])
    unchanged = merged[~merged["person_key_1"].isin(changed_persons | joined)]
    churned = unchanged.loc[unchanged["person_key_1"] != unchanged["person_key_2"], "person_key_1"].nunique()
    persons = unchanged["person_key_1"].nunique()
    return {"unchanged_persons": int(persons), "churned_persons": int(churned),
            "churn_rate": round(churned / persons, 6) if persons else 0.0,
            "persons_with_new_evidence": len(changed_persons | joined)}


def measure_churn(data: Path) -> dict[str, Any]:
    """Ingest all months but the last, link; then the last month, link again; compare person keys."""
    from pipelines.runner import landed_months, run_ingest, run_job

    months = landed_months()
    run_ingest(months[:-1])
    run_job("linkage_job")
    before = _snapshot(data / "warehouse" / "warehouse.duckdb")
    run_ingest(months[-1:])
    run_job("linkage_job")
    after = _snapshot(data / "warehouse" / "warehouse.duckdb")
    return {"months_first_run": f"{months[0]}..{months[-2]}", "month_added": months[-1], **key_churn(before, after)}


def markdown(report: dict[str, Any]) -> str:
    p, c = report["pairwise"], report["clusters"]
    lines = [
        f"# Linkage evaluation: profile `{report['profile']}`, {report['persons']:,} persons, seed {report['seed']}",
        "",
        f"Command: `{report['command']}`  ",
        f"Measured: {report['measured_at']}, wall time {report['seconds']['total']:.0f} s "
        f"(generate {report['seconds']['generate']:.0f}, ingest {report['seconds']['ingest']:.0f}, "
        f"staging+linkage {report['seconds']['linkage']:.0f}; Splink itself {report['seconds']['splink']:.0f})",
        "",
        "| pairwise | value |", "|---|---|",
        f"| precision | {p['precision']:.4f} |", f"| recall | {p['recall']:.4f} |", f"| F1 | {p['f1']:.4f} |",
        f"| true / predicted / correct pairs | {p['true_pairs']:,} / {p['predicted_pairs']:,} / "
        f"{p['correct_pairs']:,} |",
        "",
        "| persons | value |", "|---|---|",
        f"| true | {c['true_persons']:,} |", f"| estimated | {c['estimated_persons']:,} |",
        f"| error | {100 * c['person_count_error']:+.2f} % |",
        f"| split rate (true persons under several keys) | {100 * c['split_rate']:.2f} % |",
        f"| merge rate (keys holding several true persons) | {100 * c['merge_rate']:.2f} % |",
        "",
        "| noise type | records | persons | split rate | merge rate | pair recall |", "|---|---|---|---|---|---|",
    ]
    for noise, m in report["by_noise"].items():
        lines.append(f"| {noise} | {m['records']:,} | {m['persons']:,} | {100 * m['split_rate']:.2f} % | "
                     f"{100 * m['merge_rate']:.2f} % | {m['pair_recall']:.4f} |")
    if "key_churn" in report:
        k = report["key_churn"]
        lines += ["", f"Key churn from {k['months_first_run']} to adding {k['month_added']}: "
                  f"{k['churned_persons']} of {k['unchanged_persons']:,} persons whose records did not change "
                  f"({100 * k['churn_rate']:.3f} %); {k['persons_with_new_evidence']:,} persons had new evidence."]
    run = report.get("linkage_run", {})
    if run:
        lines += ["", f"Model {run.get('model_version')}: estimated link precision "
                  f"{run.get('estimated_link_precision')}, "
                  f"estimated recall {run.get('estimated_link_recall')} (from the model's own probabilities); "
                  f"review queue {run.get('review_queue')} pairs."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["easy", "realistic", "hard"], default="realistic")
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default="2016-01")
    parser.add_argument("--data", type=Path, default=None, help="scratch data folder (is emptied)")
    parser.add_argument("--out", type=Path, default=REPORT_DIR)
    parser.add_argument("--churn", action="store_true",
                        help="link all months but the last, then add the last month: measure person-key churn")
    parser.add_argument("--relink", action="store_true",
                        help="keep the scratch folder's deliveries and warehouse; only rerun staging and linkage")
    args = parser.parse_args()

    data = (args.data or REPO_ROOT / "data" / "eval" / args.profile).resolve()
    if data.exists() and not args.relink:
        shutil.rmtree(data)
    (data / "dagster").mkdir(parents=True, exist_ok=True)
    os.environ["INTEGRATION_DATA_DIR"] = str(data)
    os.environ["DAGSTER_HOME"] = str(data / "dagster")
    if not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        from pipelines.ingest.keys import create_demo_key

        create_demo_key(data / "keys" / "evaluation.key")
        os.environ[KEY_FILE_ENV] = str(data / "keys" / "evaluation.key")

    from pipelines.runner import landed_months, run_ingest, run_job
    from pipelines.synthetic import generate

    t0 = time.perf_counter()
    if not args.relink:
        generate(data, persons=args.persons, start=args.start, months=args.months, seed=args.seed,
                 profile=args.profile)
    t1 = time.perf_counter()
    if args.churn and not args.relink:
        churn = measure_churn(data)
        t2 = t3 = time.perf_counter()
    else:
        churn = None
        if not args.relink:
            run_ingest(landed_months())
        t2 = time.perf_counter()
        run_job("linkage_job")
        t3 = time.perf_counter()
    report: dict[str, Any] = {
        "profile": args.profile, "persons": args.persons, "seed": args.seed, "months": args.months,
        "command": f"python -m pipelines.linkage.evaluate --profile {args.profile} --persons {args.persons} "
                   f"--seed {args.seed} --months {args.months}" + (" --churn" if args.churn else ""),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **evaluate_registry(data / "warehouse" / "warehouse.duckdb", data / "truth"),
    }
    if churn is not None:
        report["key_churn"] = churn
    report["seconds"] = {"generate": t1 - t0, "ingest": t2 - t1, "linkage": t3 - t2, "total": t3 - t0,
                         "splink": float(report["linkage_run"].get("seconds", 0.0))}
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.profile + ("-churn" if args.churn else "")
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (args.out / f"{name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
