"""Saved linkage models: versioned files under ``data/linkage/models/``, one marked current.

    python -m pipelines.linkage.models retrain   # estimate anew on the warehouse's identity records
    python -m pipelines.linkage.models blocking  # comparisons each blocking rule generates

The model is trained on the city's own (pseudonymised) records, never shipped with the code: its
parameters describe that city's data. Each version's name is a hash of its parameters.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.config import data_paths


def models_dir() -> Path:
    return data_paths().root / "linkage" / "models"


def save_model(model: dict[str, Any]) -> Path:
    from pipelines.linkage.link import model_version

    version = model_version(model)
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}.json"
    path.write_text(json.dumps(model, indent=1, default=str), encoding="utf-8")
    (folder / "CURRENT").write_text(version + "\n", encoding="utf-8")
    return path


def load_current_model() -> dict[str, Any] | None:
    marker = models_dir() / "CURRENT"
    if not marker.exists():
        return None
    path = models_dir() / f"{marker.read_text(encoding='utf-8').strip()}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def blocking_counts(identities: Any) -> list[dict[str, Any]]:
    """How many record pairs each prediction blocking rule adds (exact counts)."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from pipelines.linkage.link import _load, _workspace
    from pipelines.linkage.model import settings

    con = _workspace()
    try:
        _load(con, identities)
        db_api = DuckDBAPI(connection=con)
        rules = settings().blocking_rules_to_generate_predictions
        records = count_comparisons_from_blocking_rules(
            db_api.register("identities"), blocking_rules=rules, link_type="dedupe_only",
            unique_id_column_name="identity_id", record_sample_proportion=1.0)
        return [{"rule": r["blocking_rule"], "marginal": int(r["marginal_comparison_count"]),
                 "cumulative": int(r["cumulative_comparison_count"])} for r in records]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["retrain", "show", "blocking"])
    args = parser.parse_args()
    if args.command == "show":
        marker = models_dir() / "CURRENT"
        print(marker.read_text().strip() if marker.exists() else "no model trained yet")
        return
    import duckdb

    from pipelines.linkage.link import read_identities, train_model

    con = duckdb.connect(str(data_paths().warehouse), read_only=True)
    try:
        identities = read_identities(con)
    finally:
        con.close()
    if args.command == "blocking":
        for rule in blocking_counts(identities):
            print(f"{rule['marginal']:>12,} new pairs ({rule['cumulative']:>12,} in all) from {rule['rule']}")
        return
    path = save_model(train_model(identities))
    print(f"trained on {identities.num_rows:,} identity records; current model is now {path.stem} ({path})")


if __name__ == "__main__":
    main()
