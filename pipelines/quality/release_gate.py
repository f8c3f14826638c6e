"""The last gate: the GX suite ``expectations/release__cells.json`` on the tables about to be published.

It runs inside the release asset, on the suppressed tables in memory, before the folder is renamed into
place: a release whose cells break the suite is never visible. The tables are reshaped to one row per
figure (table, column, row, kind, value, suppressed, threshold), so that one suite covers every KPI
table, including tables added later.
"""

from collections.abc import Mapping, Sequence

import dagster as dg
import pandas as pd

from pipelines.quality.checks import suite_check_result
from pipelines.quality.gx_suites import run_suite

RELEASE_SUITE = "release__cells"
RELEASE_CHECK = dg.AssetCheckSpec(
    "gx_release_cells",
    asset="release",
    blocking=True,
    description="Great Expectations suite expectations/release__cells.json on every figure of the release before "
    "it is published: withheld values are null, shown counts are 0 or at least the suppression threshold.",
)


def release_cells(tables: Mapping[str, pd.DataFrame], counts: Mapping[str, Sequence[str]],
                  threshold: int) -> pd.DataFrame:
    """One row per published figure: every column ``c`` that has a ``c_suppressed`` flag beside it."""
    parts = []
    for name, frame in tables.items():
        for column in frame.columns:
            flag = f"{column}_suppressed"
            if flag not in frame.columns:
                continue
            parts.append(pd.DataFrame({
                "table": name,
                "column": column,
                "row": range(len(frame)),
                "kind": "count" if column in counts.get(name, ()) else "measure",
                "value": pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy(),
                "suppressed": frame[flag].astype("boolean").to_numpy(dtype=object, na_value=None),
                "threshold": threshold,
            }))
    columns = ["table", "column", "row", "kind", "value", "suppressed", "threshold"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def release_check(tables: Mapping[str, pd.DataFrame], counts: Mapping[str, Sequence[str]], threshold: int,
                  run_id: str) -> dg.AssetCheckResult:
    """The release suite's result as the release asset's check (ERROR on a failed blocking expectation)."""
    cells = release_cells(tables, counts, threshold)
    result = run_suite(RELEASE_SUITE, cells, run_id=run_id)
    checked = sorted({f"{t} ({len(f)} rows)" for t, f in tables.items()})
    return suite_check_result(result, len(cells), checked, agency=None)
