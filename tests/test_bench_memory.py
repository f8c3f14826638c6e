"""The benchmark's memory attribution: samples of the process tree, assigned to the stage running then."""

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
