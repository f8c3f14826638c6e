"""One call from a seed to a data folder of monthly agency deliveries plus ground truth.

The stages each draw from their own random stream (named, derived from the seed), so
that the population and its journeys are identical across noise profiles: the same
city can be delivered easy, realistic or hard and the linkage scores compared.
"""

from __future__ import annotations

import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipelines.config import AGENCIES

from .dates import DateFormatter, Period
from .geography import load_geography
from .journeys import simulate_journeys
from .layouts import write_abh, write_jobcenter, write_jugendamt
from .noise import noise_profile
from .population import build_population
from .records import AgencyRecords, build_records
from .truth import write_truth


@dataclass(frozen=True)
class GenerationSummary:
    """What a run wrote."""

    out_dir: Path
    persons: int
    households: int
    profile: str
    months: tuple[str, ...]
    files_written: int
    rows_per_agency: dict[str, int] = field(default_factory=dict)
    """Data rows across all delivery files (a corrected or ended row counts once per delivery)."""
    records_per_agency: dict[str, int] = field(default_factory=dict)
    """Distinct record ids (Aktenzeichen, kundennummer, Fall-Nr)."""

    def lines(self) -> list[str]:
        """A short human-readable summary for the command line."""
        out = [
            f"{self.persons} persons in {self.households} households, profile {self.profile}, "
            f"deliveries {self.months[0]}..{self.months[-1]} ({len(self.months)} months)",
            f"{self.files_written} files under {self.out_dir / 'landing'}, truth in {self.out_dir / 'truth'}",
        ]
        for agency in self.rows_per_agency:
            out.append(f"  {agency:<10} {self.records_per_agency[agency]:>9} records "
                       f"{self.rows_per_agency[agency]:>10} rows")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def stream(seed: int, stage: str) -> np.random.Generator:
    """The random stream of one stage: independent of the other stages' consumption."""
    return np.random.default_rng([seed, zlib.crc32(stage.encode("ascii"))])


def _clear_previous(out_dir: Path) -> None:
    """Remove an earlier synthetic delivery, so that no stale month survives a shorter re-run."""
    for folder in [out_dir / "landing" / agency for agency in AGENCIES] + [out_dir / "truth"]:
        if folder.exists():
            shutil.rmtree(folder)


def generate(
    out_dir: Path,
    persons: int,
    start: str = "2016-01",
    months: int = 12,
    seed: int = 2016,
    profile: str = "realistic",
) -> GenerationSummary:
    """Write monthly deliveries of the three agencies for three cities, and the ground truth.

    Files go to ``out_dir/landing/<agency>/<YYYY-MM>/`` in the layouts of docs/data-contracts.md,
    truth to ``out_dir/truth/``. Earlier output of this generator in ``out_dir`` is replaced.
    The same arguments always produce byte-identical files.
    """
    out_dir = Path(out_dir)
    period = Period(start, months)
    noise = noise_profile(profile)
    geography = load_geography()

    population = build_population(stream(seed, "population"), persons, period, geography)
    journeys = simulate_journeys(stream(seed, "journeys"), population)
    true_rows = {
        "abh": journeys.abh,
        "jobcenter": journeys.jobcenter,
        "jugendamt": journeys.jugendamt.rename(columns={"begin": "date"}),
    }
    bundles: dict[str, AgencyRecords] = {
        agency: build_records(agency, rows, population, period, noise.for_agency(agency), noise.correction,
                              stream(seed, f"records/{agency}"),
                              end_column="end" if agency == "jugendamt" else None)
        for agency, rows in true_rows.items()
    }

    _clear_previous(out_dir)
    fmt = DateFormatter(int(population.persons.birth.min()), period.end_day)
    written = {
        "abh": write_abh(bundles["abh"], population, period, out_dir, fmt, stream(seed, "layout/abh")),
        "jobcenter": write_jobcenter(bundles["jobcenter"], population, period, out_dir, fmt),
        "jugendamt": write_jugendamt(bundles["jugendamt"], population, period, out_dir),
    }
    write_truth(out_dir, population, journeys, bundles, period)
    return GenerationSummary(
        out_dir=out_dir,
        persons=len(population.persons),
        households=len(population.households),
        profile=noise.name,
        months=tuple(period.labels),
        files_written=sum(len(w.paths) for w in written.values()),
        rows_per_agency={agency: w.rows for agency, w in written.items()},
        records_per_agency={agency: len(b.records) for agency, b in bundles.items()},
    )
