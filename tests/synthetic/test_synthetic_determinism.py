"""Same arguments, same bytes: the demo and the linkage evaluation must be reproducible."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipelines.synthetic import generate


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_writes_identical_bytes(tmp_path):
    generate(tmp_path / "a", persons=300, months=3, seed=5, profile="hard")
    generate(tmp_path / "b", persons=300, months=3, seed=5, profile="hard")
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert any(name.endswith(".xlsx") for name in first)  # workbooks included, not only CSVs
    assert first == second


def test_another_seed_writes_other_data(tmp_path):
    generate(tmp_path / "a", persons=300, months=3, seed=5)
    generate(tmp_path / "b", persons=300, months=3, seed=6)
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert first.keys() == second.keys()
    assert first["truth/persons.csv"] != second["truth/persons.csv"]


def test_profiles_share_the_population_and_differ_only_in_noise(tmp_path):
    generate(tmp_path / "easy", persons=300, months=3, seed=5, profile="easy")
    generate(tmp_path / "hard", persons=300, months=3, seed=5, profile="hard")
    persons = [(tmp_path / p / "truth" / "persons.csv").read_bytes() for p in ("easy", "hard")]
    assert persons[0] == persons[1]
    abh = [(tmp_path / p / "landing/abh/2016-01/ABH_Wuppertal_201601.csv").read_bytes() for p in ("easy", "hard")]
    assert abh[0] != abh[1]


def test_rerun_into_the_same_folder_leaves_no_stale_months(tmp_path):
    generate(tmp_path, persons=200, months=3, seed=1)
    summary = generate(tmp_path, persons=200, months=2, seed=1)
    months = sorted(p.name for p in (tmp_path / "landing" / "abh").iterdir())
    assert months == ["2016-01", "2016-02"]
    files = [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    assert len(files) == summary.files_written == 18
