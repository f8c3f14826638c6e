"""Whole-pipeline benchmark at several sizes: time per stage, peak memory, growth between sizes.

    .venv/bin/python bench/pipeline.py [--sizes 10000,100000,1000000] [--months 24] [--repeats 3]

For every size and repetition, a child process works in a scratch data folder of its own:

1. **generate** the synthetic deliveries of all months (three agencies, three cities);
2. **full run**: land every month but the last, ingest them and build (dbt staging, linkage, dbt marts,
   quality checks, release) as ``make demo`` does;
3. **incremental month**: land the last month, ingest it and build again, as the monthly refresh does;
4. **evaluate** the person registry against the generator's ground truth (``truth/``, which the pipeline
   never reads), as ``python -m pipelines.linkage.evaluate`` does: pairwise precision, recall and F1, split
   and merge rates. Linkage quality at every size, 1,000,000 persons included, from the same run as its
   speed;
5. **rerun**: the build once more with nothing new delivered, as when an engineer reruns a build. What it
   costs is what every monthly run spends whatever the month brings: the per-run costs (Dagster, starting
   dbt, some 280 dbt nodes, the check steps, the release) and the work that reads whole tables. The
   month minus the rerun is what the new month's rows themselves cost. With no month to ingest, the rerun
   is the build run alone.

Stage times come from the Dagster run's own step events (start to success of each step), so they are
what the Dagster UI shows: *ingest* (the three raw assets: read, validate, pseudonymise, load),
*dbt staging* (the pre-linkage dbt build: staging tables, identity records, their dbt tests), *linkage*
(the person registry; in the full run including the estimation of the model), *marts* (the post-linkage
dbt build), *checks* (every Great Expectations, reconciliation, plausibility and freshness asset check),
*publish* (the release asset). The wall time is that of the Dagster runs (ingest, build; the rerun: build) in
the process, without the
interpreter's start; it includes loading the code location (``load_s``, also reported on its own: the
imports of the code location's modules beyond Dagster, and in the full run's fresh data folder dbt's first
parse of the project). Generation, the full run, the incremental month and the rerun each run in a process
of their own; the peak memory of each is that process's peak resident set size (``wait4``), which includes the dbt
subprocesses it waited for. Within the runs, a sampler thread reads the process tree's resident memory
five times a second, which attributes the peak to stages (``stage_peak_mb``).

Results go to ``bench/results/pipeline-<UTC timestamp>.json``, with the medians over the repetitions
and the ratios between consecutive sizes; ``--markdown`` also prints the table for docs/performance.md.
Timings on a shared 2-core machine are noisy: run with nothing else on the machine and read medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAGES = ("generate", "ingest", "dbt_staging", "linkage", "marts", "checks", "publish")
SEED = 2016


@cache
def _raw_tables() -> frozenset[str]:
    """The raw tables' names (``<agency>__<table>``): the ingest assets' step keys are ``raw__`` and these."""
    from pipelines.ingest.contract import all_contracts

    return frozenset(contract.table for contract in all_contracts().values())


def stage_of(step_key: str) -> str:
    """Which benchmark stage a Dagster step belongs to."""
    if step_key == "dbt_pre_linkage":
        return "dbt_staging"
    if step_key == "dbt_post_linkage":
        return "marts"
    if step_key == "registry__person_registry":
        return "linkage"
    if step_key == "release":
        return "publish"
    if step_key.startswith("raw__") and step_key.removeprefix("raw__") in _raw_tables():  # the asset itself
        return "ingest"
    return "checks"


def step_intervals(run_id: str) -> list[tuple[str, float, float]]:
    """(stage, start, end) of every step of one Dagster run, from its step start and end events (UNIX time)."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    started: dict[str, float] = {}
    intervals = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            intervals.append((stage_of(event.step_key), started[event.step_key], entry.timestamp))
    return intervals


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants (dbt runs in a subprocess), from /proc, in KiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return rss + sum(_tree_rss_kb(int(child)) for child in children)


class MemorySampler:
    """Samples this process tree's resident memory a few times a second, to attribute the peak to stages.

    ``wait4`` gives one peak per process; which stage reached it needs samples over time. A sample is the
    sum over the process and its descendants at that moment (dbt's subprocess next to the Dagster run).
    """

    def __init__(self, interval: float = 0.2) -> None:
        import threading

        self.samples: list[tuple[float, int]] = []
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pid = os.getpid()
        while not self._stop.is_set():
            self.samples.append((time.time(), _tree_rss_kb(pid)))
            self._stop.wait(self._interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peaks_mb(self, intervals: list[tuple[str, float, float]]) -> dict[str, float]:
        """The highest sample within each stage's steps, in MB."""
        peaks = dict.fromkeys(STAGES[1:], 0.0)
        for stage, start, end in intervals:
            within = [kb for at, kb in self.samples if start <= at <= end]
            if within:
                peaks[stage] = max(peaks[stage], round(max(within) / 1024, 1))
        return peaks


def _land(source: Path, target: Path, months: list[str]) -> None:
    """Move the given months' delivery folders of every agency from the generator's output to the landing zone."""
    for agency_dir in sorted((source / "landing").iterdir()):
        for month in months:
            if (agency_dir / month).is_dir():
                destination = target / "landing" / agency_dir.name / month
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(agency_dir / month, destination)


def _run_and_time(months: list[str]) -> tuple[float, float, dict[str, float], dict[str, float], bool]:
    from pipelines.runner import run_pipeline

    begin = time.perf_counter()
    with MemorySampler() as memory:
        # Part of the wall, reported on its own: importing the code location, which in a fresh data folder
        # includes dbt's first parse of the project (the runner would do the same at its first job).
        import pipelines.definitions  # noqa: F401

        load = time.perf_counter() - begin
        result = run_pipeline(months, raise_on_error=False)
    wall = time.perf_counter() - begin
    intervals = step_intervals(result.build.run_id)
    if result.ingest is not None:
        intervals += step_intervals(result.ingest.run_id)
    seconds = dict.fromkeys(STAGES[1:], 0.0)
    for stage, start, end in intervals:
        seconds[stage] += end - start
    ok = result.build.success and (result.ingest is None or result.ingest.success)
    return wall, load, seconds, memory.peaks_mb(intervals), ok


def child(step: str, persons: int, months: int, data: Path) -> None:
    """One step of a repetition in the data folder ``data``: ``generate``, ``full``, ``incremental``, ``evaluate``,
    ``rerun`` (the module docstring says what each does)."""
    from pipelines.ingest.keys import KEY_FILE_ENV, create_demo_key

    create_demo_key(data / "keys" / "bench.key")
    os.environ[KEY_FILE_ENV] = str(data / "keys" / "bench.key")
    scratch = data / "generated"
    figures_file = data / f"bench-{step}.json"
    if step == "evaluate":
        from pipelines.linkage.evaluate import evaluate_registry

        begin = time.perf_counter()
        report = evaluate_registry(data / "warehouse" / "warehouse.duckdb", data / "truth")
        figures_file.write_text(json.dumps({"seconds": time.perf_counter() - begin, "records": report["records"],
                                            "truth_records_not_in_registry": report["truth_records_not_in_registry"],
                                            "pairwise": report["pairwise"], "clusters": report["clusters"]}))
        return
    if step == "generate":
        from pipelines.synthetic import generate

        begin = time.perf_counter()
        summary = generate(scratch, persons=persons, months=months, seed=SEED)
        seconds = time.perf_counter() - begin
        shutil.move(scratch / "truth", data / "truth")
        figures_file.write_text(json.dumps({"seconds": seconds, "months": list(summary.months),
                                            "rows_per_agency": summary.rows_per_agency}))
        return
    labels = json.loads((data / "bench-generate.json").read_text())["months"]
    new = {"full": labels[:-1], "incremental": labels[-1:], "rerun": []}[step]
    _land(scratch, data, new)
    wall, load, stages, stage_peaks, ok = _run_and_time(new)
    figures = {"months": len(new), "wall_s": wall, "load_s": load, "stages_s": stages, "stage_peak_mb": stage_peaks,
               "ok": ok}
    if step == "incremental":
        import duckdb

        con = duckdb.connect(str(data / "warehouse" / "warehouse.duckdb"), read_only=True)
        try:
            figures["raw_rows"] = sum(con.execute(f"select count(*) from raw.{t}").fetchone()[0]
                                      for t in ("abh__residence_status", "jobcenter__events", "jugendamt__cases"))
            figures["persons_in_journey"] = con.execute(
                "select count(distinct person_key) from marts.person_journey").fetchone()[0]
            figures["linkage_runs"] = con.execute(
                """select identity_records, seconds, identities_scored, pairs_reused from registry.linkage_runs
                   order by finished_at""").df().to_dict(orient="records")
        finally:
            con.close()
    figures_file.write_text(json.dumps(figures))


def _step(step: str, persons: int, months: int, data: Path, env: dict[str, str]) -> tuple[dict, float, float]:
    """Run one step in a child process: (its figures, its wall seconds, its peak resident memory in MB)."""
    log = data / f"bench-{step}.log"
    begin = time.perf_counter()
    with log.open("wb") as output:  # dbt and Dagster log every step; keep that out of the summary
        process = subprocess.Popen([sys.executable, __file__, "--child", step, "--persons", str(persons),
                                    "--months", str(months), "--data", str(data)], env=env, cwd=REPO,
                                   stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - begin
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark step {step} for {persons:,} persons failed "
                         f"(exit {os.waitstatus_to_exitcode(status)}); its log: {log}")
    # Linux reports KiB; the peak includes the dbt subprocesses the child waited for
    return json.loads((data / f"bench-{step}.json").read_text()), wall, usage.ru_maxrss / 1024


def run_once(persons: int, months: int, work: Path, keep: bool) -> dict:
    """One repetition in a fresh scratch folder: generate, full run, incremental month, evaluation, rerun, each
    its own process (the evaluation's memory is not the pipeline's)."""
    data = Path(tempfile.mkdtemp(prefix=f"bench-{persons}-", dir=work))
    env = {**os.environ, "INTEGRATION_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}
    for name in ("INTEGRATION_PSEUDONYM_KEY", "INTEGRATION_PSEUDONYM_KEY_FILE"):
        env.pop(name, None)
    (data / "dagster").mkdir(parents=True)
    generated, _, generate_peak = _step("generate", persons, months, data, env)
    full, _, full_peak = _step("full", persons, months, data, env)
    incremental, _, incremental_peak = _step("incremental", persons, months, data, env)
    quality, _, _ = _step("evaluate", persons, months, data, env)
    rerun, _, rerun_peak = _step("rerun", persons, months, data, env)
    full["stages_s"] = {"generate": generated["seconds"], **full["stages_s"]}
    linkage = incremental.pop("linkage_runs")
    figures = {
        "persons": persons, "months": months, "ok": full["ok"] and incremental["ok"] and rerun["ok"],
        "rows_per_agency": generated["rows_per_agency"], "raw_rows": incremental.pop("raw_rows"),
        "identity_records": linkage[-1]["identity_records"],
        "persons_in_journey": incremental.pop("persons_in_journey"),
        "full": full, "incremental": incremental, "rerun": rerun, "linkage_runs": linkage,
        "linkage_quality": quality,
        "peak_rss_mb": {"generate": generate_peak, "full": full_peak, "incremental": incremental_peak,
                        "rerun": rerun_peak},
    }
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    return figures


def summarise(runs: list[dict]) -> dict:
    """Medians over the repetitions of one size."""
    def median(values: list[float]) -> float:
        return round(statistics.median(values), 2)

    def quality(part: str, figure: str) -> float:
        return round(statistics.median(r["linkage_quality"][part][figure] for r in runs), 5)

    full = [r["full"] for r in runs]
    incremental = [r["incremental"] for r in runs]
    return {
        "repeats": len(runs),
        "all_ok": all(r["ok"] for r in runs),
        "full_wall_s": median([f["wall_s"] for f in full]),
        "full_stages_s": {s: median([f["stages_s"].get(s, 0.0) for f in full]) for s in STAGES},
        # of the wall: loading the code location (imports; in the full run's fresh folder, dbt's first parse)
        "full_load_s": median([f.get("load_s", 0.0) for f in full]),
        "incremental_wall_s": median([i["wall_s"] for i in incremental]),
        "incremental_stages_s": {s: median([i["stages_s"].get(s, 0.0) for i in incremental]) for s in STAGES[1:]},
        "incremental_share_of_full": round(statistics.median(i["wall_s"] / f["wall_s"]
                                                             for i, f in zip(incremental, full, strict=True)), 3),
        # the build again with nothing new: what a month costs whatever it brings (module docstring)
        "rerun_wall_s": median([r["rerun"]["wall_s"] for r in runs]),
        "rerun_stages_s": {s: median([r["rerun"]["stages_s"].get(s, 0.0) for r in runs]) for s in STAGES[1:]},
        "rerun_share_of_full": round(statistics.median(r["rerun"]["wall_s"] / r["full"]["wall_s"] for r in runs), 3),
        "peak_rss_mb": {step: median([r["peak_rss_mb"][step] for r in runs])
                        for step in ("generate", "full", "incremental", "rerun")},
        # the highest sampled resident memory (process tree) within each stage's steps
        "full_stage_peak_mb": {s: median([f.get("stage_peak_mb", {}).get(s, 0.0) for f in full]) for s in STAGES[1:]},
        "incremental_stage_peak_mb": {s: median([i.get("stage_peak_mb", {}).get(s, 0.0) for i in incremental])
                                      for s in STAGES[1:]},
        "rerun_stage_peak_mb": {s: median([r["rerun"].get("stage_peak_mb", {}).get(s, 0.0) for r in runs])
                                for s in STAGES[1:]},
        "raw_rows": runs[0]["raw_rows"],
        "identity_records": runs[0]["identity_records"],
        "persons_in_journey": runs[0]["persons_in_journey"],
        # the clock of link_identities as the linkage asset records it (reading and loading the records,
        # estimating the model where there is none yet, scoring, clustering; not the registry write; before
        # 3a5f019 the records were read from the warehouse outside it): all records in the full run, the new
        # month's in the incremental one
        "linkage_records_per_minute": round(runs[0]["linkage_runs"][0]["identity_records"] / max(median(
            [r["linkage_runs"][0]["seconds"] for r in runs]), 1e-9) * 60),
        "linkage_seconds": {"full": median([r["linkage_runs"][0]["seconds"] for r in runs]),
                            "incremental": median([r["linkage_runs"][-1]["seconds"] for r in runs])},
        # against the synthetic truth, after the incremental month (every repetition makes a new key, and
        # the key decides which Bloom filters collide: the figures vary a little between repetitions)
        "linkage_quality": {
            "precision": quality("pairwise", "precision"),
            "recall": quality("pairwise", "recall"),
            "f1": quality("pairwise", "f1"),
            "split_rate": quality("clusters", "split_rate"),
            "merge_rate": quality("clusters", "merge_rate"),
        },
    }


def ratios(sizes: dict[int, dict]) -> list[dict]:
    ordered = sorted(sizes)
    return [{"from": a, "to": b, "size_ratio": b / a,
             "full_wall_ratio": round(sizes[b]["full_wall_s"] / sizes[a]["full_wall_s"], 2),
             "incremental_wall_ratio": round(sizes[b]["incremental_wall_s"] / sizes[a]["incremental_wall_s"], 2)}
            for a, b in zip(ordered, ordered[1:], strict=False)]


def markdown(result: dict) -> str:
    sizes = result["sizes"]
    header = ["persons", "runs", "generate", "ingest", "dbt staging", "linkage", "marts", "checks", "publish",
              "full run (wall)", "of it: code load", "incremental month", "incr. / full",
              "rerun, nothing new", "rerun / full", "peak memory (pipeline / generate)", "linkage records/min"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for persons, s in sorted(sizes.items(), key=lambda kv: int(kv[0])):
        st = s["full_stages_s"]
        lines.append("| " + " | ".join([
            f"{int(persons):,}", str(s["repeats"]), *(f"{st[k]:.1f} s" for k in STAGES),
            f"{s['full_wall_s']:.1f} s", f"{s.get('full_load_s', 0.0):.1f} s", f"{s['incremental_wall_s']:.1f} s",
            f"{s['incremental_share_of_full']:.0%}",
            *((f"{s['rerun_wall_s']:.1f} s", f"{s['rerun_share_of_full']:.0%}") if "rerun_wall_s" in s else ("—", "—")),
            f"{max(s['peak_rss_mb'].get(run, 0.0) for run in ('full', 'incremental', 'rerun')) / 1024:.2f} GB / "
            f"{s['peak_rss_mb']['generate'] / 1024:.2f} GB", f"{s['linkage_records_per_minute']:,}"]) + " |")
    lines += ["", "| persons | peak memory by stage, full run (" + ", ".join(STAGES[1:]) + ") |", "|---|---|"]
    for persons, s in sorted(sizes.items(), key=lambda kv: int(kv[0])):
        peaks = s.get("full_stage_peak_mb", {})
        lines.append(f"| {int(persons):,} | " + " / ".join(f"{peaks.get(k, 0) / 1024:.2f}" for k in STAGES[1:])
                     + " GB |")
    lines += ["", "| persons | linkage against the synthetic truth: precision / recall / F1, split / merge rate |",
              "|---|---|"]
    for persons, s in sorted(sizes.items(), key=lambda kv: int(kv[0])):
        q = s.get("linkage_quality")
        if q:
            lines.append(f"| {int(persons):,} | {q['precision']:.4f} / {q['recall']:.4f} / {q['f1']:.4f}, "
                         f"{100 * q['split_rate']:.2f} % / {100 * q['merge_rate']:.2f} % |")
    for r in result["ratios"]:
        lines.append(f"\n{r['to']:,} / {r['from']:,} persons ({r['size_ratio']:g}x): full run "
                     f"{r['full_wall_ratio']}x, incremental month {r['incremental_wall_ratio']}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="persons, comma-separated")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3, help="repetitions per size (the largest: --repeats-largest)")
    parser.add_argument("--repeats-largest", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: data/bench)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--keep", action="store_true", help="keep each repetition's data folder")
    parser.add_argument("--markdown", action="store_true", help="print the docs/performance.md table")
    parser.add_argument("--child", choices=("generate", "full", "incremental", "evaluate", "rerun"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--persons", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.persons, args.months, args.data)
        return 0

    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = (args.work or Path(os.environ.get("INTEGRATION_DATA_DIR", REPO / "data")) / "bench").resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    per_size: dict[int, dict] = {}
    raw: dict[int, list[dict]] = {}
    for persons in sizes:
        repeats = args.repeats_largest if persons == sizes[-1] and len(sizes) > 1 else args.repeats
        raw[persons] = []
        for repetition in range(repeats):
            figures = run_once(persons, args.months, work, args.keep)
            raw[persons].append(figures)
            print(f"{persons:>9,} persons, run {repetition + 1}/{repeats}: full {figures['full']['wall_s']:.1f} s, "
                  f"incremental {figures['incremental']['wall_s']:.1f} s, rerun {figures['rerun']['wall_s']:.1f} s, "
                  f"peak {max(figures['peak_rss_mb'].values()):.0f} MB", flush=True)
        per_size[persons] = summarise(raw[persons])
    result = {
        "benchmark": "pipeline",
        "created_at": started.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "months": args.months,
        "sizes": {str(k): v for k, v in per_size.items()},
        "ratios": ratios(per_size),
        "runs": {str(k): v for k, v in raw.items()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"pipeline-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    if args.markdown:
        print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
