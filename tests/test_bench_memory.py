"""The benchmark's bookkeeping: memory samples assigned to the stage running then, and the summary per size."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from pipelines.config import REPO_ROOT

spec = importlib.util.spec_from_file_location("bench_pipeline", REPO_ROOT / "bench" / "pipeline.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_the_tree_memory_includes_a_child_process():
    child = subprocess.Popen([sys.executable, "-c", "b = bytearray(200 * 1024 * 1024); import time; time.sleep(30)"])
    try:
        time.sleep(1.5)
        assert bench._tree_rss_kb(child.pid) > 200 * 1024
        status = Path("/proc/self/status").read_text().splitlines()
        own = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        assert bench._tree_rss_kb(os.getpid()) > own + 200 * 1024  # this process and its child
        assert bench._tree_rss_kb(2**22 + 1) == 0  # no such process: nothing, and no error
    finally:
        child.kill()
        child.wait()


def test_each_stage_gets_the_highest_sample_taken_while_its_steps_ran():
    sampler = bench.MemorySampler()
    sampler.samples = [(1.0, 100 * 1024), (2.0, 300 * 1024), (3.0, 200 * 1024), (4.0, 900 * 1024),
                       (5.0, 50 * 1024)]
    peaks = sampler.peaks_mb([("ingest", 0.5, 2.5), ("linkage", 2.9, 3.1), ("checks", 3.5, 4.5),
                              ("checks", 4.8, 5.2)])
    assert peaks["ingest"] == 300.0 and peaks["linkage"] == 200.0 and peaks["checks"] == 900.0
    assert peaks["marts"] == 0.0  # no step of its own in this run


def test_the_sampler_records_while_it_runs_and_stops_after():
    with bench.MemorySampler(interval=0.05) as sampler:
        time.sleep(0.3)
    taken = len(sampler.samples)
    assert taken >= 3 and all(kb > 0 for _, kb in sampler.samples)
    time.sleep(0.2)
    assert len(sampler.samples) == taken


def _run(f1: float, recall: float, split: float) -> dict:
    """One repetition's figures as ``run_once`` returns them (only what the summary reads)."""
    stages = {s: 1.0 for s in bench.STAGES}
    phase = {"wall_s": 10.0, "load_s": 1.0, "stages_s": stages, "stage_peak_mb": {s: 100.0 for s in bench.STAGES}}
    # each run its own figures, so that a summary taking one run's for another's fails
    full = {**phase, "wall_s": 20.0, "stages_s": {s: 2.0 for s in bench.STAGES}}
    rerun = {**phase, "wall_s": 8.0, "stages_s": {s: 0.5 for s in bench.STAGES},
             "stage_peak_mb": {s: 50.0 for s in bench.STAGES}}
    return {"ok": True, "full": full, "incremental": phase, "rerun": rerun, "raw_rows": 30, "identity_records": 20,
            "persons_in_journey": 10,
            "peak_rss_mb": {"generate": 1.0, "full": 2.0, "incremental": 3.0, "rerun": 3.0 * 1024},
            "linkage_runs": [{"identity_records": 20, "seconds": 2.0}, {"identity_records": 21, "seconds": 1.0}],
            "linkage_quality": {"pairwise": {"precision": 0.99, "recall": recall, "f1": f1},
                                "clusters": {"split_rate": split, "merge_rate": 0.001}}}


def test_linkage_quality_is_summarised_per_size_unrounded_and_printed():
    summary = bench.summarise([_run(0.98123, 0.97, 0.0102), _run(0.98611, 0.98, 0.0099),
                               _run(0.98456, 0.96, 0.0110)])
    assert summary["linkage_quality"] == {"precision": 0.99, "recall": 0.97, "f1": 0.98456, "split_rate": 0.0102,
                                          "merge_rate": 0.001}
    table = bench.markdown({"sizes": {"1000": summary}, "ratios": []})
    assert "| 1,000 | 0.9900 / 0.9700 / 0.9846, 1.02 % / 0.10 % |" in table


def test_the_rerun_with_nothing_new_is_summarised_against_the_full_run_and_its_peak_counts():
    summary = bench.summarise([_run(0.98, 0.97, 0.01), _run(0.98, 0.97, 0.01)])
    assert summary["rerun_wall_s"] == 8.0 and summary["rerun_share_of_full"] == 0.4  # 8 s of the full 20 s
    assert summary["rerun_stages_s"]["linkage"] == 0.5 and "generate" not in summary["rerun_stages_s"]
    assert summary["rerun_stage_peak_mb"]["checks"] == 50.0
    row = next(line for line in bench.markdown({"sizes": {"1000": summary}, "ratios": []}).splitlines()
               if line.startswith("| 1,000 | 2 |"))
    # incremental month, its share, the rerun, its share, then the peak: the rerun's 3 GB is the highest
    assert "| 10.0 s | 50% | 8.0 s | 40% | 3.00 GB / 0.00 GB |" in row


def test_a_result_from_before_the_rerun_still_prints_with_dashes():
    summary = bench.summarise([_run(0.98, 0.97, 0.01)])
    for key in ("rerun_wall_s", "rerun_stages_s", "rerun_share_of_full", "rerun_stage_peak_mb"):
        del summary[key]
    del summary["peak_rss_mb"]["rerun"]
    row = next(line for line in bench.markdown({"sizes": {"1000": summary}, "ratios": []}).splitlines()
               if line.startswith("| 1,000 | 1 |"))
    assert "| 10.0 s | 50% | — | — | 0.00 GB / 0.00 GB |" in row


def test_the_raw_checks_count_as_checks_and_only_the_raw_assets_as_ingest():
    assert bench.stage_of("raw__abh__residence_status") == "ingest"
    assert bench.stage_of("raw__jugendamt__cases") == "ingest"
    # step keys of the raw layer's checks: one "__" fewer than the GX check's, as many as an asset's
    assert bench.stage_of("raw__abh__residence_status_deliveries_reconcile") == "checks"
    assert bench.stage_of("raw__jobcenter__events_delivery_freshness") == "checks"
    assert bench.stage_of("raw__abh__residence_status_gx_abh__residence_status") == "checks"
    assert bench.stage_of("dbt_post_linkage") == "marts" and bench.stage_of("release") == "publish"
