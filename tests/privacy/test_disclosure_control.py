"""Statistical disclosure control: a reader who combines published cells cannot recompute a suppressed one.

Tables are generated (hypothesis), suppressed by the real publisher code, and then attacked by readers
who know nothing of ``tables.RELATIONS`` but work from what is published:

1. a table with row, column and grand totals, attacked by an integer program (scipy's HiGHS MILP) that
   knows every published cell and that a suppressed count is a whole number of at least 1: for every
   small count it asks whether any other value is possible. It must always be.
2. a release of five linked tables (agencies, legal circles, profiles, youth care, the cube by group),
   made from a generated population. This reader knows how every cell is made from persons (its unknowns
   are the numbers of persons of every possible kind), so it finds every sum and difference of published
   cells (zeros included), also across tables and also one that ``tables.RELATIONS`` might have
   forgotten. No small count and no protected difference may be such a combination.

What the second reader does not do: use a published 0 to rule out kinds of persons altogether (which
turns some inequalities between the tables into equations), or integer reasoning over the hidden counts
of kinds of persons. In very small slices both can occasionally narrow a suppressed cell down to its
value (docs/data-protection.md, "Limits").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from pipelines.publish.suppression import BA_THRESHOLD, DEFAULT_THRESHOLD, suppress_release
from pipelines.publish.tables import ALL, RELATIONS, RELEASE_TABLES, Margin, ReleaseTable

THRESHOLD = DEFAULT_THRESHOLD


# --- the attacker ---------------------------------------------------------------------------------------

@dataclass
class Attacker:
    """Integer unknowns (atoms, >= 0) and what the release says about linear functions of them."""

    n_atoms: int
    rows: list[np.ndarray]
    lower: list[float]
    upper: list[float]

    @classmethod
    def over(cls, n_atoms: int) -> Attacker:
        return cls(n_atoms, [], [], [])

    def knows(self, weights: np.ndarray, low: float, high: float = np.inf) -> None:
        self.rows.append(weights)
        self.lower.append(low)
        self.upper.append(high)

    def other_value_possible(self, weights: np.ndarray, true_value: int) -> bool:
        """Is there an integer solution consistent with everything published where this quantity differs?"""
        constraints = [LinearConstraint(np.array(self.rows), self.lower, self.upper)] if self.rows else []
        for low, high in ((-np.inf, true_value - 1), (true_value + 1, np.inf)):
            result = milp(c=np.zeros(self.n_atoms), integrality=np.ones(self.n_atoms),
                          bounds=Bounds(0, np.inf),
                          constraints=[*constraints, LinearConstraint(weights[None, :], low, high)])
            if result.status == 0:
                return True
        return False


def cell_flags(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[f"{column}_suppressed"].astype(bool)


# --- 1. a two-way table with row, column and grand totals -----------------------------------------------

TWO_WAY = ReleaseTable("two_way", ("persons",), keys=("row", "col"))
TWO_WAY_RELATIONS = (Margin("two_way", ("persons",), "row", "column totals"),
                     Margin("two_way", ("persons",), "col", "row totals"))


def two_way_frame(counts: np.ndarray) -> pd.DataFrame:
    """Interior cells, row and column totals and the grand total; rows with 0 persons are absent."""
    records = []
    n_rows, n_cols = counts.shape
    for i, j in itertools.product(range(n_rows + 1), range(n_cols + 1)):
        rows = range(n_rows) if i == n_rows else [i]
        cols = range(n_cols) if j == n_cols else [j]
        value = int(counts[np.ix_(list(rows), list(cols))].sum())
        if value:
            records.append({"row": ALL if i == n_rows else f"r{i}", "col": ALL if j == n_cols else f"c{j}",
                            "persons": value})
    return pd.DataFrame(records, columns=["row", "col", "persons"])


small_counts = st.integers(0, 12).map(lambda v: v if v < 7 else v * 3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 5).flatmap(lambda r: st.integers(2, 5).flatmap(
    lambda c: st.lists(small_counts, min_size=r * c, max_size=r * c).map(lambda v: np.array(v).reshape(r, c)))))
def test_no_suppressed_cell_of_a_table_with_totals_can_be_recomputed(counts: np.ndarray) -> None:
    frame = two_way_frame(counts)
    published = suppress_release({"two_way": frame}, THRESHOLD, tables=(TWO_WAY,),
                                 relations=TWO_WAY_RELATIONS).tables["two_way"]
    n_rows, n_cols = counts.shape
    attacker = Attacker.over(n_rows * n_cols)

    def weights_of(row: str, col: str) -> np.ndarray:
        w = np.zeros((n_rows, n_cols))
        w[(slice(None) if row == ALL else int(row[1:])), (slice(None) if col == ALL else int(col[1:]))] = 1
        return w.ravel()

    shown = {(r, c): (v, s) for r, c, v, s in zip(published["row"], published["col"], published["persons"],
                                                  cell_flags(published, "persons"), strict=True)}
    for i, j in itertools.product([*[f"r{i}" for i in range(n_rows)], ALL], [*[f"c{j}" for j in range(n_cols)], ALL]):
        value, hidden = shown.get((i, j), (0, False))  # an absent row is a published 0
        if hidden:
            attacker.knows(weights_of(i, j), 1)
        else:
            attacker.knows(weights_of(i, j), int(value), int(value))
    for value, hidden in shown.values():
        assert not (not hidden and 0 < value < THRESHOLD), f"small count {value} published"
    for row in frame.itertuples():
        if 0 < row.persons < THRESHOLD:
            assert attacker.other_value_possible(weights_of(row.row, row.col), row.persons), (
                f"the suppressed {row.persons} at {row.row}/{row.col} can be recomputed from\n{published}")


# --- 2. a release: persons by agency, legal circle, profile, youth care and group -----------------------

AGENCIES = ("abh", "jobcenter", "jugendamt")
GROUPS = {"nationality_group": ("Syrien", "Irak"), "age_band": ("18-24",), "sex": ("f", "m")}


@dataclass(frozen=True)
class Kind:
    """One kind of person (an atom): what every table can say about a person."""

    agencies: tuple[str, ...]
    abh_circles: tuple[str, ...]
    profile: str | None
    unaccompanied: bool
    turning_18: bool
    nationality_group: str
    age_band: str
    sex: str

    @property
    def circles(self) -> tuple[str, ...]:
        return (*self.abh_circles, *(("SGB II",) if "jobcenter" in self.agencies else ()),
                *(("SGB VIII",) if "jugendamt" in self.agencies else ()))


def all_kinds() -> list[Kind]:
    """Every combination the pipeline can produce (a person of the immigration office is in AsylbLG or
    AufenthG or, with two records, both; profiles only in SGB II; youth flags only in SGB VIII)."""
    kinds = []
    for size in (1, 2, 3):
        for agencies in itertools.combinations(AGENCIES, size):
            abh = [("AsylbLG",), ("AufenthG",), ("AsylbLG", "AufenthG")] if "abh" in agencies else [()]
            profiles = ["MP", "EP", None] if "jobcenter" in agencies else [None]
            flags = list(itertools.product([False, True], repeat=2)) if "jugendamt" in agencies else [(False, False)]
            for circles, profile, (unaccompanied, turning), *group in itertools.product(
                    abh, profiles, flags, *GROUPS.values()):
                kinds.append(Kind(agencies, circles, profile, unaccompanied, turning, *group))
    return kinds


KINDS = all_kinds()


@st.composite
def populations(draw: st.DrawFn) -> np.ndarray:
    """How many persons of each kind: most kinds empty, a few with 1..30 persons."""
    counts = np.zeros(len(KINDS), dtype=np.int64)
    for index in draw(st.lists(st.integers(0, len(KINDS) - 1), min_size=3, max_size=25)):
        counts[index] += draw(st.integers(1, 30).map(lambda v: v if v < 8 else v * 2))
    return counts


# A table cell: (table, key values, count column) -> which kinds it counts.
CellSpec = tuple[str, tuple[tuple[str, object], ...], str, Callable[[Kind], bool]]


def release_cells() -> list[CellSpec]:
    """Every cell the five tables can have, with the kinds of persons it counts (absent rows count 0)."""
    cells: list[CellSpec] = []
    for size in (1, 2, 3):
        for agencies in itertools.combinations(AGENCIES, size):
            cells.append(("kpi_persons_by_agency", (("agency_set", "+".join(agencies)),), "persons",
                          lambda k, a=agencies: k.agencies == a))
    for circle in ("AsylbLG", "AufenthG", "SGB II", "SGB VIII"):
        cells.append(("kpi_legal_circle_stock", (("legal_circle", circle),), "persons",
                      lambda k, c=circle: c in k.circles))
    for code, group in (("MP", "nah"), ("EP", "fern")):
        cells.append(("kpi_profile_mix", (("profile_code", code), ("profile_group", group)), "persons",
                      lambda k, c=code: k.profile == c))
    youth = (("in_care", lambda k: "jugendamt" in k.agencies),
             ("unaccompanied_in_care", lambda k: k.unaccompanied), ("turning_18", lambda k: k.turning_18))
    for column, predicate in youth:
        cells.append(("kpi_youth_care", (), column, predicate))
    dims = list(GROUPS)
    for circle in ("AsylbLG", "AufenthG", "SGB II", "SGB VIII", ALL):
        for values in itertools.product(*[(*GROUPS[d], ALL) for d in dims]):
            def counts_kind(k: Kind, c: str = circle, v: tuple = values) -> bool:
                in_circle = bool(k.circles) if c == ALL else c in k.circles
                return in_circle and all(x == ALL or getattr(k, d) == x for d, x in zip(dims, v, strict=True))
            cells.append(("kpi_stock_by_group", (("legal_circle", circle), *zip(dims, values, strict=True)),
                          "persons", counts_kind))
    return cells


CELLS = release_cells()
WEIGHTS = np.array([[1.0 if predicate(kind) else 0.0 for kind in KINDS] for *_, predicate in CELLS])
TABLE_KEYS = {"kpi_persons_by_agency": ("agency_set",), "kpi_legal_circle_stock": ("legal_circle",),
              "kpi_profile_mix": ("profile_code", "profile_group"), "kpi_youth_care": (),
              "kpi_stock_by_group": ("legal_circle", *GROUPS)}


def release_of(counts: np.ndarray) -> dict[str, pd.DataFrame]:
    """The tables as the marts build them: one city, one month; rows with 0 persons absent (youth care:
    one row per city and month, zeros included)."""
    values = WEIGHTS @ counts
    records: dict[str, dict[tuple, dict]] = {t: {} for t in TABLE_KEYS}
    for (table, keys, column, _), value in zip(CELLS, values, strict=True):
        if value == 0 and table != "kpi_youth_care":
            continue
        row = records[table].setdefault(keys, {"city": "x", "month": pd.Timestamp("2016-01-01"), **dict(keys)})
        row[column] = int(value)
    frames = {}
    for table, rows in records.items():
        columns = ["city", "month", *TABLE_KEYS[table]] + [c for c in next(t for t in RELEASE_TABLES
                                                                            if t.name == table).counts]
        frames[table] = pd.DataFrame(list(rows.values()), columns=columns)
    return frames


def protected_differences(counts: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Differences the release promises to protect like counts (tables.Within with difference_is_count)."""
    def cell(table: str, column: str, **keys: str) -> np.ndarray:
        return next(WEIGHTS[i] for i, (t, k, c, _) in enumerate(CELLS)
                    if t == table and c == column and all(dict(k).get(n) == v for n, v in keys.items())
                    and len(dict(k)) >= len(keys))
    stock = lambda circle: cell("kpi_legal_circle_stock", "persons", legal_circle=circle)  # noqa: E731
    abh = sum(WEIGHTS[i] for i, (t, k, *_) in enumerate(CELLS)
              if t == "kpi_persons_by_agency" and "abh" in dict(k)["agency_set"].split("+"))
    differences = [
        ("in care, accompanied", cell("kpi_youth_care", "in_care") - cell("kpi_youth_care", "unaccompanied_in_care")),
        ("in care, not turning 18", cell("kpi_youth_care", "in_care") - cell("kpi_youth_care", "turning_18")),
        ("SGB II, not yet profiled", stock("SGB II") - cell("kpi_profile_mix", "persons", profile_code="MP")
         - cell("kpi_profile_mix", "persons", profile_code="EP")),
        ("immigration office, not in AsylbLG", abh - stock("AsylbLG")),
        ("immigration office, not in AufenthG", abh - stock("AufenthG")),
    ]
    dims = list(GROUPS)
    for values in itertools.product(*[(*GROUPS[d], ALL) for d in dims]):
        keys = dict(zip(dims, values, strict=True))
        everyone = cell("kpi_stock_by_group", "persons", legal_circle=ALL, **keys)
        for circle in ("AsylbLG", "AufenthG", "SGB II", "SGB VIII"):
            differences.append((f"{keys} not in {circle}",
                                everyone - cell("kpi_stock_by_group", "persons", legal_circle=circle, **keys)))
    return differences


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_no_small_count_of_a_release_can_be_recomputed_from_its_totals_and_differences(counts: np.ndarray) -> None:
    """The reader knows every published cell (an absent row is a published 0) as a sum over kinds of
    persons. Any sum or difference of published cells is then a linear combination of their rows; a
    suppressed small count (or protected difference) must never be one."""
    frames = release_of(counts)
    published = suppress_release(frames, THRESHOLD, tables=[t for t in RELEASE_TABLES if t.name in frames]).tables
    equations: list[np.ndarray] = []
    sensitive: list[tuple[str, np.ndarray, int]] = []
    for (table, keys, column, _), weights in zip(CELLS, WEIGHTS, strict=True):
        frame = published[table]
        match = np.ones(len(frame), dtype=bool)
        for name, value in keys:
            match &= (frame[name] == value).to_numpy()
        true_value = int(weights @ counts)
        shown = frame[match].iloc[0] if match.any() else None
        if shown is None or not shown[f"{column}_suppressed"]:
            assert shown is None or not 0 < shown[column] < THRESHOLD, (
                f"{table}.{column} publishes the small count {shown[column]}")
            equations.append(weights)
        elif 0 < true_value < THRESHOLD:
            sensitive.append((f"{table}.{column} {dict(keys)}", weights, true_value))
    for name, weights in protected_differences(counts):
        if 0 < int(weights @ counts) < THRESHOLD:
            sensitive.append((name, weights, int(weights @ counts)))
    known = np.array(equations) if equations else np.zeros((0, len(KINDS)))
    rank = np.linalg.matrix_rank(known) if len(known) else 0
    for name, weights, true_value in sensitive:
        combined = np.vstack([known, weights[None, :]])
        assert np.linalg.matrix_rank(combined) > rank, (
            f"{name} = {true_value} is a sum or difference of published cells")


# --- 3. the rules themselves ---------------------------------------------------------------------------

def test_small_counts_are_suppressed_and_zeros_published() -> None:
    frame = pd.DataFrame({"city": ["a", "b", "c", "d"], "persons": [0, 1, 4, 5]})
    table = ReleaseTable("t", ("persons",), keys=("city",))
    out = suppress_release({"t": frame}, THRESHOLD, tables=(table,), relations=()).tables["t"]
    assert out["persons_suppressed"].tolist() == [False, True, True, False]
    assert out["persons"].isna().tolist() == [False, True, True, False]
    assert out.loc[0, "persons"] == 0


def test_the_threshold_is_configurable_down_to_the_ba_practice() -> None:
    frame = pd.DataFrame({"city": ["a", "b", "c"], "persons": [2, 3, 4]})
    table = ReleaseTable("t", ("persons",), keys=("city",))
    out = suppress_release({"t": frame}, BA_THRESHOLD, tables=(table,), relations=()).tables["t"]
    assert out["persons_suppressed"].tolist() == [True, False, False]


def test_a_lone_suppressed_cell_next_to_a_published_total_gets_a_partner() -> None:
    frame = two_way_frame(np.array([[2, 30], [40, 50]]))
    out = suppress_release({"two_way": frame}, THRESHOLD, tables=(TWO_WAY,),
                           relations=TWO_WAY_RELATIONS).tables["two_way"]
    hidden = out[cell_flags(out, "persons")]
    assert len(hidden) >= 4, "a 2 in a table with totals needs a rectangle of suppressed cells"
    assert not ((out["persons"] > 0) & (out["persons"] < THRESHOLD)).fillna(False).any()


def test_a_difference_of_two_published_counts_is_protected_like_a_count() -> None:
    frame = pd.DataFrame({"city": ["x"], "month": [pd.Timestamp("2016-01-01")], "entries": [40],
                          "entries_with_asylblg_end": [38], "gap_over_30_days": [20],
                          "gap_days_median": [12.0], "gap_days_p90": [40.0]})
    table = next(t for t in RELEASE_TABLES if t.name == "kpi_sgb2_transitions")
    out = suppress_release({table.name: frame}, THRESHOLD, tables=(table,)).tables[table.name]
    assert out["entries_suppressed"].iloc[0] or out["entries_with_asylblg_end_suppressed"].iloc[0], (
        "40 entries of which 38 with a known end would publish the 2 without one")


def test_a_rate_over_a_small_denominator_is_not_published_even_at_zero() -> None:
    frame = pd.DataFrame({"city": ["x"], "month": [pd.Timestamp("2016-01-01")], "in_care": [3],
                          "unaccompanied_in_care": [0], "turning_18": [0]})
    table = next(t for t in RELEASE_TABLES if t.name == "kpi_youth_care")
    out = suppress_release({table.name: frame}, THRESHOLD, tables=(table,)).tables[table.name]
    assert out["in_care_suppressed"].iloc[0]
    assert out["unaccompanied_in_care_suppressed"].iloc[0], "'0 of 3 unaccompanied' is a statement about all 3"


def test_medians_over_few_persons_are_suppressed() -> None:
    frame = pd.DataFrame({"city": ["x", "y"], "month": [pd.Timestamp("2016-01-01")] * 2, "entries": [40, 40],
                          "entries_with_asylblg_end": [3, 30], "gap_over_30_days": [0, 10],
                          "gap_days_median": [12.0, 14.0], "gap_days_p90": [40.0, 41.0]})
    table = next(t for t in RELEASE_TABLES if t.name == "kpi_sgb2_transitions")
    out = suppress_release({table.name: frame}, THRESHOLD, tables=(table,)).tables[table.name]
    assert out["gap_days_median_suppressed"].tolist() == [True, False]
    assert pd.isna(out["gap_days_median"].iloc[0]) and out["gap_days_median"].iloc[1] == 14.0


@pytest.mark.parametrize("relation", [r for r in RELATIONS if isinstance(r, Margin)], ids=lambda r: r.why)
def test_every_margin_names_a_key_of_its_table(relation: Margin) -> None:
    table = next(t for t in RELEASE_TABLES if t.name == relation.table)
    assert relation.dimension in table.keys


def _as_frame(rows: Sequence[dict]) -> pd.DataFrame:  # pragma: no cover - helper for debugging failures
    return pd.DataFrame(rows)


def test_the_audits_column_blocks_are_scipys_slices_of_the_same_columns() -> None:
    """``_column_block`` reads rows and values straight from the compressed columns (2.3x faster audits at 25,000
    persons); it must give what scipy's slicing gives, for any matrix and any choice and order of columns."""
    import scipy.sparse as sp

    from pipelines.publish.suppression import _column_block

    rng = np.random.default_rng(11)
    for trial in range(200):
        matrix = sp.random(int(rng.integers(1, 40)), int(rng.integers(1, 30)), density=float(rng.uniform(0, 0.4)),
                           random_state=trial, format="csr")
        matrix.data = np.round(matrix.data * 4 - 2)  # coefficients like the relations': small integers, some 0
        matrix.eliminate_zeros()
        by_column = matrix.tocsc()
        columns = rng.choice(by_column.shape[1], size=int(rng.integers(1, by_column.shape[1] + 1)), replace=False)
        block = by_column[:, columns]
        touched = np.unique(block.indices)
        got_rows, got_block = _column_block(by_column, columns)
        assert got_rows.tolist() == touched.tolist(), trial
        assert np.array_equal(got_block, block.tocsr()[touched].toarray() if len(touched) else got_block), trial
        assert got_block.shape == (len(touched), len(columns)), trial
