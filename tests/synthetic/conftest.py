"""Shared synthetic cities for the generator tests: built once per session, read like the pipeline would."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.synthetic import GenerationSummary, generate


@dataclass
class City:
    """A generated data folder and its files read back as tables (one column ``file`` per row's file)."""

    root: Path
    summary: GenerationSummary

    @cached_property
    def abh(self) -> pd.DataFrame:
        return pd.concat(
            [pd.read_csv(f, sep=";", encoding="cp1252", dtype=str, keep_default_na=False).assign(file=f.name)
             for f in sorted((self.root / "landing" / "abh").glob("*/*.csv"))],
            ignore_index=True,
        )

    @cached_property
    def jobcenter(self) -> pd.DataFrame:
        return pd.concat(
            [pd.read_csv(f, sep=",", encoding="utf-8", dtype=str, keep_default_na=False).assign(file=f.name)
             for f in sorted((self.root / "landing" / "jobcenter").glob("*/*.csv"))],
            ignore_index=True,
        )

    @cached_property
    def jugendamt(self) -> pd.DataFrame:
        rows = []
        for f in sorted((self.root / "landing" / "jugendamt").glob("*/*.xlsx")):
            sheet = openpyxl.load_workbook(f, read_only=True)["Faelle"]
            values = sheet.iter_rows(values_only=True)
            header = next(values)
            rows += [dict(zip(header, row, strict=True), file=f.name) for row in values]
        return pd.DataFrame(rows)

    @cached_property
    def truth_records(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "truth" / "truth_records.csv", dtype=str, keep_default_na=False)

    @cached_property
    def persons(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "truth" / "persons.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> City:
    """300 persons, three monthly deliveries: enough for layouts and bookkeeping."""
    root = tmp_path_factory.mktemp("small_city")
    return City(root, generate(root, persons=300, start="2016-01", months=3, seed=11))


@pytest.fixture(scope="session")
def calibration_city(tmp_path_factory: pytest.TempPathFactory) -> City:
    """5,000 persons over a year: enough for shares to settle near the calibration figures."""
    root = tmp_path_factory.mktemp("calibration_city")
    return City(root, generate(root, persons=5000, start="2016-01", months=12, seed=2016))
