"""The command line works as documented."""

from __future__ import annotations

import subprocess
import sys

from pipelines.config import REPO_ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.synthetic", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_help_lists_every_option():
    result = _run("--help")
    assert result.returncode == 0
    for option in ("--out", "--persons", "--start", "--months", "--seed", "--profile", "easy", "hard"):
        assert option in result.stdout


def test_cli_writes_deliveries_and_prints_a_summary(tmp_path):
    result = _run("--out", str(tmp_path), "--persons", "200", "--months", "2", "--seed", "3",
                  "--profile", "easy")
    assert result.returncode == 0, result.stderr
    assert "200 persons" in result.stdout and "18 files" in result.stdout
    assert (tmp_path / "landing" / "abh" / "2016-02" / "ABH_Solingen_201602.csv").is_file()
    assert (tmp_path / "truth" / "truth_records.csv").is_file()


def test_cli_rejects_a_malformed_start_month(tmp_path):
    result = _run("--out", str(tmp_path), "--persons", "10", "--start", "2016-13")
    assert result.returncode == 2
    assert "2016-13" in result.stderr
    assert not (tmp_path / "landing").exists()
