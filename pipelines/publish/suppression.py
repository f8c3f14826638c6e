"""Primary suppression of small counts (statistical disclosure control, first version).

Counts from 1 to ``threshold - 1`` are withheld: a published 1 or 2 can single a person
out. Zero is published (it reveals nobody). A measure such as a median is withheld when
the count it rests on is below the threshold. A withheld value is null in the release and
flagged in ``<column>_suppressed``, so that a reader shows a marker, never a 0.
"""

from __future__ import annotations

import pandas as pd

from pipelines.publish.tables import ReleaseTable

DEFAULT_THRESHOLD = 5


def small(values: pd.Series, threshold: int) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    return ((numeric > 0) & (numeric < threshold)).fillna(False).astype(bool)


def suppress(frame: pd.DataFrame, table: ReleaseTable, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    out = frame.copy()
    flags: dict[str, pd.Series] = {}
    for column in table.counts:
        flags[column] = small(frame[column], threshold)
    for measure, base in table.measures.items():
        base_values = pd.to_numeric(frame[base], errors="coerce")
        flags[measure] = (base_values < threshold).fillna(True).astype(bool) & frame[measure].notna()
    for column, flag in flags.items():
        out[column] = out[column].astype("Float64" if column in table.measures else "Int64").mask(flag)
        out[f"{column}_suppressed"] = flag
    return out
