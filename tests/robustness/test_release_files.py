"""The release writer: CSV copies carry no live formula, and a killed publication's leftovers are removed."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pandas as pd

from pipelines.publish.release import latest_release, write_release

HOSTILE = pd.DataFrame({
    "city": ['=HYPERLINK("http://evil.example/","Klick")', "+4917012345", "-2+3", "@SUM(A1)", "wuppertal"],
    "persons": [12, -3, 7, 0, 5],
    "share": [0.5, -0.25, 1.0, 0.0, 0.1],
})


def test_csv_cells_a_spreadsheet_would_run_get_an_apostrophe_and_parquet_keeps_the_values(tmp_path):
    path = write_release(tmp_path, "20160401T000000Z", {"kpi_test": HOSTILE}, {"run_id": "t"})

    with open(path / "kpi_test.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["city"] for r in rows] == ["'" + v for v in HOSTILE["city"][:4]] + ["wuppertal"]
    assert [r["persons"] for r in rows] == ["12", "-3", "7", "0", "5"], "numbers stay numbers, signs and all"
    pd.testing.assert_frame_equal(pd.read_parquet(path / "kpi_test.parquet"), HOSTILE, check_dtype=False)


def test_a_publication_removes_the_unfinished_folders_of_dead_publishers_only(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        (tmp_path / f".tmp-20160301T000000Z-{dead.stdout.strip()}").mkdir()
        (tmp_path / f".tmp-20160302T000000Z-{alive.pid}").mkdir()
        assert latest_release(tmp_path) is None, "an unfinished folder is never a release"

        write_release(tmp_path, "20160401T000000Z", {"kpi_test": HOSTILE}, {"run_id": "t"})

        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == [f".tmp-20160302T000000Z-{alive.pid}", "20160401T000000Z"]
        assert latest_release(tmp_path) == tmp_path / "20160401T000000Z"
    finally:
        alive.kill()
        alive.wait()
    assert os.path.isdir(tmp_path / "20160401T000000Z")
