"""Statistical disclosure control of a release: primary and secondary suppression of small counts.

Primary suppression: a count from 1 to ``threshold - 1`` is withheld; a published 1 or 2 can single a
person out. Zero is published (it reveals nobody), with one exception: the numerator of a rate (see
``ReleaseTable.rates``) is withheld whenever its denominator is withheld for being small, because "0 of
a handful" says something about each of them. A measure such as a median is withheld when the count it
rests on is below the threshold. The same holds for the difference of two published counts that counts
persons of its own (``Within(difference_is_count=True)`` in ``tables.py``): "12 entries, 10 of them with
a known AsylbLG end" publishes a 2.

Secondary suppression: the tables of a release hang together (totals, subtotals, the same figure in two
tables; ``tables.RELATIONS``). A reader who knows those relations, every published cell, and that a
withheld count is a whole number of at least 1 (at least 0 for the rate numerators above), must not be
able to work out any withheld small count. Further cells are withheld until that holds:

1. *audit*: what can a reader work out? Interval reasoning over every relation (each withheld cell gets
   the smallest and largest value the published cells and the other intervals allow, as whole numbers,
   repeated until nothing changes), and exact linear algebra (a withheld cell is determined when its
   column of the relations' matrix is not a combination of the other withheld cells' columns; computed
   per connected part after peeling equations with a single unknown). What either finds is fed to the
   other until neither finds more.
2. *protect*: for every small count the audit can work out, withhold one more published cell of a
   relation it is in: the smallest non-zero one (least information lost; zeros are never withheld).
Repeat until the audit finds nothing. The property tests (``tests/privacy/test_disclosure_control.py``)
attack the result with an integer program, an attacker independent of this audit.

Such a cell is null in the release and flagged in ``<column>_suppressed``, so that a reader shows the
marker ``*`` with the legend, never a 0. Primary and secondary cells look alike: the flag does not say
which one a cell is.

The default threshold is 5 (counts 1..4 withheld). The Federal Employment Agency's statistics withhold
counts of 1 and 2 (threshold 3) and everything from which they can be computed; this release goes further
for three reasons: it shows one city's small groups (a district-sized population, a dozen unaccompanied
minors), its readers sit in the steering group with the agencies' caseworkers, who know individual cases,
and the attributes (asylum procedure, tolerated stay, youth care) are among the most sensitive social data.
A city that wants exactly the BA's practice sets the release asset's ``suppression_threshold`` to 3.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

from pipelines.publish.tables import (
    ALL,
    RELATIONS,
    RELEASE_TABLES,
    Cells,
    Continuation,
    Equal,
    Margin,
    Relation,
    ReleaseTable,
    RunningTotal,
    Within,
)

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 5
BA_THRESHOLD = 3  # the Federal Employment Agency's statistics: counts of 1 and 2 are withheld
MARKER = "*"
SUPPRESSED_SUFFIX = "_suppressed"


def legend(threshold: int) -> str:
    """The German legend of the marker, for the manifest and every reader of a release."""
    return (f"{MARKER} = gesperrt (Geheimhaltung): weniger als {threshold} Personen, oder eine Zahl, aus der "
            f"sich eine solche kleine Zahl zusammen mit anderen veröffentlichten Zahlen berechnen ließe")


class RelationViolated(ValueError):
    """A relation declared in ``tables.RELATIONS`` does not hold in the data: the protection would be wrong."""


@dataclass
class SuppressedRelease:
    """The suppressed tables, and how many cells were withheld (for run metadata, not for the release)."""

    tables: dict[str, pd.DataFrame]
    primary: int = 0
    secondary: int = 0
    rounds: int = 0


def small(values: pd.Series, threshold: int) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    return ((numeric > 0) & (numeric < threshold)).fillna(False).astype(bool)


def suppress(frame: pd.DataFrame, table: ReleaseTable, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """One table on its own (its relations to itself only). A release goes through :func:`suppress_release`."""
    return suppress_release({table.name: frame}, threshold, tables=(table,)).tables[table.name]


def suppress_release(
    frames: Mapping[str, pd.DataFrame],
    threshold: int = DEFAULT_THRESHOLD,
    tables: Iterable[ReleaseTable] = RELEASE_TABLES,
    relations: Iterable[Relation] = RELATIONS,
) -> SuppressedRelease:
    """Primary and secondary suppression over all tables of a release at once (see the module docstring)."""
    if threshold < 1:
        raise ValueError(f"suppression threshold {threshold}: must be at least 1")
    specs = [t for t in tables if t.name in frames]
    model = _Model(frames, specs, threshold)
    usable = [r for r in relations if model.has_tables(r)]
    for relation in usable:
        model.add(relation)
    model.finish()
    with threadpool_limits(limits=1, user_api="blas"):  # many tiny blocks: BLAS threads only contend
        rounds = model.protect()
    out = {name: frame for name, frame in frames.items()}
    for spec in specs:
        out[spec.name] = model.apply(spec, frames[spec.name])
    primary = int(model.primary[: model.n_cells].sum())
    secondary = int((model.suppressed & ~model.primary[: model.n_cells]).sum())
    return SuppressedRelease(out, primary, secondary, rounds)


# --- the model: cells, relations as linear equations, and the reader's reasoning ------------------------

class _Model:
    """Every count cell of the release as a variable; relations as equations sum(coef * x) = 0.

    Variables 0..n_cells-1 are published count cells; the rest are *implicit* cells (the difference in a
    ``Within`` relation), which are never published but can be worked out.
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame], specs: list[ReleaseTable], threshold: int):
        self.frames = frames
        self.threshold = threshold
        self.specs = {s.name: s for s in specs}
        self.cell_ids: dict[tuple[str, str], np.ndarray] = {}
        values: list[np.ndarray] = []
        labels: list[tuple[str, str]] = []
        offset = 0
        for spec in specs:
            frame = frames[spec.name]
            for column in spec.counts:
                numbers = pd.to_numeric(frame[column], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
                self.cell_ids[(spec.name, column)] = np.arange(offset, offset + len(frame))
                values.append(numbers)
                labels.append((spec.name, column))
                offset += len(frame)
        self.n_cells = offset
        self.labels = labels
        self.cell_values = np.concatenate(values) if values else np.zeros(0, dtype=np.int64)
        self._terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (equation, variable, coefficient)
        self._implicit_values: list[np.ndarray] = []
        self._implicit_sensitive: list[np.ndarray] = []
        self._implicit_why: list[str] = []
        self.n_eq = 0
        self.n_implicit = 0
        self._null_cache: dict[bytes, np.ndarray] = {}

    def has_tables(self, relation: Relation) -> bool:
        names = {c.table for c in _cell_sets(relation)} | ({relation.table} if hasattr(relation, "table") else set())
        return all(name in self.specs for name in names)

    # -- relations -> equations ---------------------------------------------------------------------

    def _select(self, cells: Cells) -> pd.DataFrame:
        frame = self.frames[cells.table]
        mask = pd.Series(True, index=frame.index)
        for column, wanted in cells.where.items():
            mask &= frame[column].isin(_as_tuple(wanted))
        for column, unwanted in cells.where_not.items():
            mask &= ~frame[column].isin(_as_tuple(unwanted))
        for column, member in cells.contains.items():
            mask &= frame[column].astype(str).str.split("+").map(lambda parts, m=member: m in parts).astype(bool)
        positions = np.flatnonzero(mask.to_numpy())
        selected = frame.iloc[positions].reset_index(drop=True)
        for column in cells.columns:
            selected[f"__cell_{column}"] = self.cell_ids[(cells.table, column)][positions]
        return selected

    def _emit(self, equations: np.ndarray, variables: np.ndarray, coefficient: float) -> None:
        self._terms.append((equations.astype(np.int64), variables.astype(np.int64),
                            np.full(len(equations), coefficient)))

    def _emit_cells(self, selected: pd.DataFrame, cells: Cells, equations: np.ndarray, coefficient: float) -> None:
        for column in cells.columns:
            self._emit(equations, selected[f"__cell_{column}"].to_numpy(), coefficient)

    def _new_equations(self, count: int) -> np.ndarray:
        ids = np.arange(self.n_eq, self.n_eq + count)
        self.n_eq += count
        return ids

    def _implicit(self, equations: np.ndarray, sensitive: bool, why: str) -> None:
        """One implicit cell per equation, with coefficient +1 (its value is set in ``finish``)."""
        ids = self.n_cells + self.n_implicit + np.arange(len(equations))
        self.n_implicit += len(equations)
        self._emit(equations, ids, 1.0)
        self._implicit_sensitive.append(np.full(len(equations), sensitive))
        self._implicit_why += [why] * len(equations)

    def add(self, relation: Relation) -> None:
        if isinstance(relation, Equal):
            self._add_equal(relation)
        elif isinstance(relation, Within):
            self._add_within(relation)
        elif isinstance(relation, Margin):
            self._add_margin(relation)
        elif isinstance(relation, RunningTotal):
            self._add_running_total(relation)
        elif isinstance(relation, Continuation):
            self._add_continuation(relation)
        else:  # pragma: no cover - a new relation type must be taught here
            raise TypeError(f"unknown relation {relation!r}")

    def _group_ids(self, *keyed: pd.DataFrame, by: tuple[str, ...]) -> list[np.ndarray]:
        """Equation-local group numbers of the rows of several selections, consistent across them."""
        if not by:
            return [np.zeros(len(frame), dtype=np.int64) for frame in keyed]
        stacked = pd.concat([frame[list(by)] for frame in keyed], ignore_index=True)
        codes = stacked.groupby(list(by), dropna=False, sort=False).ngroup().to_numpy()
        out, start = [], 0
        for frame in keyed:
            out.append(codes[start:start + len(frame)])
            start += len(frame)
        return out

    def _add_equal(self, relation: Equal) -> None:
        left, right = self._select(relation.left), self._select(relation.right)
        left_groups, right_groups = self._group_ids(left, right, by=relation.by)
        count = int(max(left_groups.max(initial=-1), right_groups.max(initial=-1)) + 1)
        equations = self._new_equations(count)
        self._emit_cells(left, relation.left, equations[left_groups], 1.0)
        self._emit_cells(right, relation.right, equations[right_groups], -1.0)
        self._why(count, relation.why)

    def _add_within(self, relation: Within) -> None:
        part, whole = self._select(relation.part), self._select(relation.whole)
        part_keys = (*relation.by, relation.each_of) if relation.each_of else relation.by
        part_groups, whole_groups = self._group_ids(part, whole, by=relation.by)
        if relation.each_of:
            # one inequality per (group, value of each_of): the part's subgroup within the whole's group
            sub = part[list(part_keys)].assign(__group=part_groups)
            sub_ids = sub.groupby(["__group", relation.each_of], dropna=False, sort=False).ngroup().to_numpy()
            n_sub = int(sub_ids.max(initial=-1) + 1)
            parent = np.zeros(n_sub, dtype=np.int64)
            parent[sub_ids] = part_groups
            equations = self._new_equations(n_sub)
            self._emit_cells(part, relation.part, equations[sub_ids], 1.0)
            # the whole appears in the equation of every subgroup of its group
            pairs = pd.DataFrame({"group": parent, "equation": equations}).merge(
                pd.DataFrame({"group": whole_groups, "row": np.arange(len(whole))}), on="group")
            for column in relation.whole.columns:
                whole_cells = whole[f"__cell_{column}"].to_numpy()
                self._emit(pairs["equation"].to_numpy(), whole_cells[pairs["row"].to_numpy()], -1.0)
            self._implicit(equations, relation.difference_is_count, relation.why)
            self._why(n_sub, relation.why)
            return
        count = int(max(part_groups.max(initial=-1), whole_groups.max(initial=-1)) + 1)
        equations = self._new_equations(count)
        self._emit_cells(part, relation.part, equations[part_groups], 1.0)
        self._emit_cells(whole, relation.whole, equations[whole_groups], -1.0)
        self._implicit(equations, relation.difference_is_count, relation.why)
        self._why(count, relation.why)

    def _add_margin(self, relation: Margin) -> None:
        spec = self.specs[relation.table]
        frame = self.frames[relation.table]
        others = [k for k in spec.keys if k != relation.dimension]
        groups = self._group_ids(frame, by=tuple(others))[0]
        is_total = (frame[relation.dimension] == ALL).to_numpy()
        has_parts = np.zeros(int(groups.max(initial=-1) + 1), dtype=bool)
        has_parts[groups[~is_total]] = True
        has_total = np.zeros_like(has_parts)
        has_total[groups[is_total]] = True
        orphans = has_parts & ~has_total
        if orphans.any():
            raise RelationViolated(f"{relation.table}: rows broken down by {relation.dimension} without their "
                                   f"'{ALL}' row ({int(orphans.sum())} groups); {relation.why}")
        used = np.flatnonzero(has_parts)
        remap = np.full(len(has_parts), -1)
        for column in relation.columns:
            equations = self._new_equations(len(used))
            remap[used] = equations
            cells = self.cell_ids[(relation.table, column)]
            keep = has_parts[groups]
            self._emit(remap[groups[keep & is_total]], cells[keep & is_total], 1.0)
            self._emit(remap[groups[keep & ~is_total]], cells[keep & ~is_total], -1.0)
            self._why(len(used), relation.why)

    def _add_running_total(self, relation: RunningTotal) -> None:
        frame = self.frames[relation.table]
        groups = self._group_ids(frame, by=relation.by)[0]
        order = np.lexsort((frame[relation.order].to_numpy(), groups))
        equations = self._new_equations(len(frame))
        eq_of_row = np.empty(len(frame), dtype=np.int64)
        eq_of_row[order] = equations
        following = np.full(len(frame), -1)
        same_group_next = groups[order][1:] == groups[order][:-1]
        following[order[:-1][same_group_next]] = order[1:][same_group_next]
        total = self.cell_ids[(relation.table, relation.total)]
        self._emit(eq_of_row, total, 1.0)
        has_next = following >= 0
        self._emit(eq_of_row[has_next], total[following[has_next]], -1.0)
        for part in relation.parts:
            self._emit(eq_of_row, self.cell_ids[(relation.table, part)], -1.0)
        self._why(len(frame), relation.why)

    def _add_continuation(self, relation: Continuation) -> None:
        frame = self.frames[relation.table].reset_index(drop=True)
        cells = self.cell_ids[(relation.table, relation.column)]
        by = list(relation.by)
        outgoing = frame.assign(__node=frame[relation.source], __step=frame[relation.step] - 1, __cell=cells)
        incoming = frame.assign(__node=frame[relation.target], __step=frame[relation.step], __cell=cells)
        outgoing = outgoing[outgoing["__step"] >= 1]
        keys = (*by, "__node", "__step")
        out_groups, in_groups = self._group_ids(outgoing, incoming, by=keys)
        used = np.unique(out_groups)
        remap = np.full(int(max(out_groups.max(initial=-1), in_groups.max(initial=-1)) + 1), -1)
        equations = self._new_equations(len(used))
        remap[used] = equations
        self._emit(remap[out_groups], outgoing["__cell"].to_numpy(), 1.0)
        keep = remap[in_groups] >= 0
        self._emit(remap[in_groups[keep]], incoming["__cell"].to_numpy()[keep], -1.0)
        self._implicit(equations, True, relation.why)
        self._why(len(used), relation.why)

    def _why(self, count: int, why: str) -> None:
        self._eq_why = getattr(self, "_eq_why", [])
        self._eq_why += [why] * count

    # -- the assembled system -----------------------------------------------------------------------

    def finish(self) -> None:
        """Assemble the sparse system, derive the implicit cells' values and check every relation holds."""
        n_vars = self.n_cells + self.n_implicit
        if self._terms:
            eq = np.concatenate([t[0] for t in self._terms])
            var = np.concatenate([t[1] for t in self._terms])
            coef = np.concatenate([t[2] for t in self._terms])
        else:
            eq = var = np.zeros(0, dtype=np.int64)
            coef = np.zeros(0)
        matrix = sp.coo_matrix((coef, (eq, var)), shape=(self.n_eq, n_vars)).tocsr()
        matrix.eliminate_zeros()
        self.matrix = matrix
        self.matrix_t = matrix.T.tocsr()
        self._coo = matrix.tocoo()
        values = np.zeros(n_vars, dtype=np.int64)
        values[: self.n_cells] = self.cell_values
        implicit_eq = np.zeros(self.n_implicit, dtype=np.int64)
        if self.n_implicit:
            implicit_cols = self.matrix_t[self.n_cells:]
            implicit_eq = implicit_cols.indices[implicit_cols.indptr[:-1]]
            published = matrix[:, : self.n_cells] @ self.cell_values
            values[self.n_cells:] = -published[implicit_eq]
        residual = matrix @ values
        why = getattr(self, "_eq_why", [])
        broken = np.flatnonzero(np.abs(residual) > 0.5)
        if len(broken):
            raise RelationViolated(f"{len(broken)} groups break the relation {why[broken[0]]!r}: the release's "
                                   "tables do not add up as tables.RELATIONS says; fix the relation or the model")
        negative = np.flatnonzero(values[self.n_cells:] < 0)
        if len(negative):
            raise RelationViolated(f"{len(negative)} groups break the relation "
                                   f"{self._implicit_why[negative[0]]!r}: a part is larger than its whole")
        self.values = values
        self.n_vars = n_vars
        # equations holding an implicit cell (one each) vs. the others
        self._implicit_vars = np.arange(self.n_cells, n_vars)
        self._implicit_rows = implicit_eq
        public = np.ones(self.n_eq, dtype=bool)
        public[implicit_eq] = False
        self._public_rows = np.flatnonzero(public)
        sensitive_implicit = (np.concatenate(self._implicit_sensitive) if self._implicit_sensitive
                              else np.zeros(0, dtype=bool))
        implicit_values = values[self.n_cells:]
        self.primary = np.zeros(n_vars, dtype=bool)
        self.primary[: self.n_cells] = (self.cell_values > 0) & (self.cell_values < self.threshold)
        self.primary[self.n_cells:] = sensitive_implicit & (implicit_values > 0) & (implicit_values < self.threshold)
        self._rate_numerators()
        self.suppressed = self.primary[: self.n_cells].copy()

    def _rate_numerators(self) -> None:
        """Numerators of rates whose denominator is small are withheld even at 0 (see the module docstring)."""
        self.numerator_of: dict[int, int] = {}
        for spec in self.specs.values():
            for numerator, denominator in spec.rates.values():
                if (spec.name, numerator) not in self.cell_ids or (spec.name, denominator) not in self.cell_ids:
                    continue
                num = self.cell_ids[(spec.name, numerator)]
                den = self.cell_ids[(spec.name, denominator)]
                small_den = self.primary[den]
                self.primary[num[small_den]] = True
                self.numerator_of.update(zip(num.tolist(), den.tolist(), strict=True))

    def lower_bounds(self) -> np.ndarray:
        """What a reader knows of a withheld value: at least 1, a numerator of a withheld rate at least 0."""
        lower = np.zeros(self.n_vars)
        lower[: self.n_cells] = 1.0
        if self.numerator_of:
            num = np.fromiter(self.numerator_of.keys(), dtype=np.int64)
            den = np.fromiter(self.numerator_of.values(), dtype=np.int64)
            lower[num[self.suppressed[den]]] = 0.0
        return lower

    # -- the reader's reasoning ---------------------------------------------------------------------

    def audit(self) -> np.ndarray:
        """Variables a reader can work out from the published cells and the relations."""
        known = np.zeros(self.n_vars, dtype=bool)
        known[: self.n_cells] = ~self.suppressed
        lower_bound = self.lower_bounds()
        while True:
            pinned = self._propagate(known, lower_bound)
            known |= pinned
            determined = self._linear(known)
            if not determined.any():
                return known
            known |= determined

    def _propagate(self, known: np.ndarray, lower_bound: np.ndarray) -> np.ndarray:
        """Interval reasoning, in whole numbers, until nothing changes; returns the variables pinned to a value.

        Works on a list of equations to revisit: those around a variable whose interval just narrowed.
        """
        lo = np.where(known, self.values, lower_bound).astype(float)
        hi = np.where(known, self.values, np.inf).astype(float)
        coo = self._coo
        rows, cols, coef = coo.row, coo.col, coo.data
        n_eq = self.n_eq
        active = np.zeros(n_eq, dtype=bool)
        active[rows[~known[cols]]] = True
        for _ in range(10_000):
            take = active[rows]
            if not take.any():
                break
            r, c, a = rows[take], cols[take], coef[take]
            cmin = np.where(a > 0, a * lo[c], a * hi[c])
            cmax = np.where(a > 0, a * hi[c], a * lo[c])
            min_inf = np.isinf(cmin)
            max_inf = np.isinf(cmax)
            sum_min = np.bincount(r, np.where(min_inf, 0, cmin), n_eq)
            sum_max = np.bincount(r, np.where(max_inf, 0, cmax), n_eq)
            n_min_inf = np.bincount(r, min_inf, n_eq)
            n_max_inf = np.bincount(r, max_inf, n_eq)
            # the other terms of the equation, without this one
            others_min = np.where(min_inf, np.where(n_min_inf[r] > 1, -np.inf, sum_min[r]),
                                  np.where(n_min_inf[r] > 0, -np.inf, sum_min[r] - cmin))
            others_max = np.where(max_inf, np.where(n_max_inf[r] > 1, np.inf, sum_max[r]),
                                  np.where(n_max_inf[r] > 0, np.inf, sum_max[r] - cmax))
            # a * x = -others
            new_lo = np.where(a > 0, -others_max / a, -others_min / a)
            new_hi = np.where(a > 0, -others_min / a, -others_max / a)
            next_lo = lo.copy()
            next_hi = hi.copy()
            np.maximum.at(next_lo, c, np.ceil(new_lo - 1e-9))
            np.minimum.at(next_hi, c, np.floor(new_hi + 1e-9))
            next_lo[known] = lo[known]
            next_hi[known] = hi[known]
            changed = np.flatnonzero((next_lo != lo) | (next_hi != hi))
            lo, hi = next_lo, next_hi
            if len(changed) == 0:
                break
            active[:] = False
            active[self._equations_of(changed)] = True
        return (~known) & (lo >= hi)

    def _equations_of(self, variables: np.ndarray) -> np.ndarray:
        indptr, indices = self.matrix_t.indptr, self.matrix_t.indices
        starts, ends = indptr[variables], indptr[variables + 1]
        lengths = ends - starts
        if lengths.sum() == 0:
            return np.zeros(0, dtype=np.int64)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        return indices[offsets]

    def _linear(self, known: np.ndarray) -> np.ndarray:
        """Unknowns that sums and differences of the relations fix exactly, beyond those already known.

        Equations with an implicit cell (a ``Within`` difference, private to its equation) say nothing
        about the other cells: they are left out, and the implicit cell is fixed when the rest of its
        equation is a sum or difference of the other equations.
        """
        determined = np.zeros(self.n_vars, dtype=bool)
        unknown_cells = np.flatnonzero(~known[: self.n_cells])
        public = self.matrix[self._public_rows][:, unknown_cells].tocsr()
        public.eliminate_zeros()
        rows_with = np.flatnonzero(np.diff(public.indptr) > 0)
        fixed, parts = _determined_columns(public[rows_with].tocsr(), unknown_cells,
                                           self._public_rows[rows_with], self._null_cache)
        determined[unknown_cells[fixed]] = True
        # the implicit cells: the rest of each one's equation, over the cells still unknown
        unknown_implicit = ~known[self._implicit_vars]
        rows = self._implicit_rows[unknown_implicit]
        rest = self.matrix[rows][:, unknown_cells].tocsr() @ sp.diags((~fixed).astype(float))
        rest = sp.csr_matrix(rest)
        rest.eliminate_zeros()
        in_core = np.zeros(len(unknown_cells), dtype=bool)
        for columns, _ in parts:
            in_core[columns] = True
        free_touch = (abs(rest) @ (~in_core).astype(float)) > 0
        moves = np.zeros(len(rows), dtype=bool)  # a solution of the core equations changes the rest
        rest_by_column = rest.tocsc()
        for columns, null in parts:
            if null.shape[1] == 0:
                continue
            touched, block = _column_block(rest_by_column, columns)
            if len(touched):
                moved = np.abs(block @ null).max(axis=1) > 1e-8
                moves[touched[moved]] = True
        determined[self._implicit_vars[unknown_implicit]] = ~free_touch & ~moves
        return determined

    # -- protection ---------------------------------------------------------------------------------

    def protect(self) -> int:
        """Withhold complements until the audit finds no small count; returns the number of rounds."""
        rounds = 0
        cell_is_candidate = self.cell_values > 0
        while True:
            rounds += 1
            known = self.audit()
            exposed = np.flatnonzero(self.primary & known)
            if len(exposed) == 0:
                return rounds
            chosen = set()
            for variable in exposed:
                cell = self._complement(variable, cell_is_candidate)
                if cell is not None:
                    chosen.add(cell)
            if not chosen:
                described = [self.describe(v) for v in exposed[:5]]
                raise RuntimeError(f"cannot protect {len(exposed)} small counts by withholding more cells "
                                   f"(e.g. {described}); not publishing")
            self.suppressed[np.fromiter(chosen, dtype=np.int64)] = True
            if rounds > 10_000:  # each round withholds at least one cell, so this cannot be reached
                raise RuntimeError("secondary suppression did not converge")

    def _complement(self, variable: int, candidate: np.ndarray) -> int | None:
        """The smallest published non-zero cell of a relation around ``variable`` (widening the circle)."""
        seen_eq: set[int] = set()
        frontier = {variable}
        visited = {variable}
        for _ in range(6):
            equations = set()
            for v in frontier:
                start, end = self.matrix_t.indptr[v], self.matrix_t.indptr[v + 1]
                equations.update(int(e) for e in self.matrix_t.indices[start:end])
            equations -= seen_eq
            if not equations:
                return None
            seen_eq |= equations
            members = np.unique(np.concatenate([
                self.matrix.indices[self.matrix.indptr[e]:self.matrix.indptr[e + 1]] for e in equations]))
            cells = members[members < self.n_cells]
            open_cells = cells[~self.suppressed[cells] & candidate[cells]]
            if len(open_cells):
                order = np.lexsort((open_cells, self.cell_values[open_cells]))
                return int(open_cells[order[0]])
            frontier = {int(m) for m in members} - visited
            visited |= frontier
        return None

    def describe(self, variable: int) -> str:
        if variable >= self.n_cells:
            return f"difference in {self._implicit_why[variable - self.n_cells]!r}"
        offset = 0
        for (table, column), ids in self.cell_ids.items():
            if ids[0] <= variable <= ids[-1]:
                return f"{table}.{column} row {variable - ids[0]}"
            offset += len(ids)
        return f"cell {variable}"

    # -- back to tables -----------------------------------------------------------------------------

    def apply(self, spec: ReleaseTable, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        flags: dict[str, np.ndarray] = {}
        for column in spec.counts:
            flags[column] = self.suppressed[self.cell_ids[(spec.name, column)]]
        for measure, base in spec.measures.items():
            base_values = pd.to_numeric(frame[base], errors="coerce")
            flags[measure] = ((base_values < self.threshold).fillna(True).astype(bool) & frame[measure].notna()
                              ).to_numpy()
        for column, flag in flags.items():
            mask = pd.Series(flag, index=frame.index)
            out[column] = out[column].astype("Float64" if column in spec.measures else "Int64").mask(mask)
            out[f"{column}{SUPPRESSED_SUFFIX}"] = mask
        return out


def _column_block(by_column: sp.csc_matrix, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows with an entry in ``columns``, and those rows over ``columns`` as a dense array.

    The same as ``by_column[:, columns].tocsr()[touched]``, read straight from the compressed columns:
    an audit asks this once per independent part of the unknown cells (tens of thousands of times in
    one release), and scipy's slicing costs far more per call than the few entries it returns.
    """
    starts, ends = by_column.indptr[columns], by_column.indptr[columns + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(columns)))
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    touched, row_position = np.unique(by_column.indices[offsets], return_inverse=True)
    block = np.zeros((len(touched), len(columns)))
    np.add.at(block, (row_position, np.repeat(np.arange(len(columns)), lengths)), by_column.data[offsets])
    return touched, block


def _determined_columns(matrix: sp.csr_matrix, col_ids: np.ndarray, row_ids: np.ndarray,
                        cache: dict[bytes, np.ndarray]) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Columns (unknowns) of ``matrix @ x = b`` whose value the equations fix, whatever the other unknowns are,
    and the parts of the remaining core with their null spaces (to test other combinations: a combination
    is fixed when every solution of the homogeneous core leaves it unchanged, i.e. it is orthogonal to
    the null space of every part it touches).

    Unknown j is fixed exactly when e_j lies in the row space of the matrix: some sum and difference of
    the equations leaves j alone, i.e. no solution of the homogeneous system moves it. First, in waves,
    an equation with a single unknown fixes it. What is left (the core) is split into connected parts and
    each part's null space computed (cached by the part's global rows and columns: the matrix never
    changes, so the same part has the same answer in the next round).
    """
    n_rows, n_cols = matrix.shape
    determined = np.zeros(n_cols, dtype=bool)
    parts_out: list[tuple[np.ndarray, np.ndarray]] = []  # (columns of a core part, its null space)
    if n_cols == 0:
        return determined, parts_out
    pattern = matrix.copy()
    pattern.data = np.ones_like(pattern.data)
    row_alive = np.ones(n_rows, dtype=bool)
    col_alive = np.zeros(n_cols, dtype=bool)
    col_alive[np.unique(matrix.indices)] = True  # a column in no equation is free
    while True:
        live = (sp.diags(row_alive.astype(float)) @ pattern @ sp.diags(col_alive.astype(float))).tocsr()
        live.eliminate_zeros()
        row_count = np.diff(live.indptr)
        singles = np.flatnonzero(row_alive & (row_count == 1))
        if not len(singles):
            row_alive &= row_count > 0
            break
        cols = np.unique(live.indices[live.indptr[singles]])
        determined[cols] = True
        col_alive[cols] = False
        row_alive[singles] = False
    core_rows = np.flatnonzero(row_alive)
    core_cols = np.flatnonzero(col_alive)
    if len(core_cols) == 0:
        return determined, parts_out
    core = matrix[core_rows][:, core_cols].tocsr()
    n_core_rows = core.shape[0]
    graph = sp.bmat([[None, core], [core.T, None]]).tocsr()
    _, labels = connected_components(graph, directed=False)
    col_labels = labels[n_core_rows:]
    row_labels = labels[:n_core_rows]
    col_order = np.argsort(col_labels, kind="stable")
    row_order = np.argsort(row_labels, kind="stable")
    parts, col_starts = np.unique(col_labels[col_order], return_index=True)
    col_stops = np.append(col_starts[1:], len(col_order))
    for part, start, stop in zip(parts, col_starts, col_stops, strict=True):
        part_cols = np.sort(col_order[start:stop])
        lo, hi = np.searchsorted(row_labels[row_order], [part, part + 1])
        part_rows = np.sort(row_order[lo:hi])
        global_cols = col_ids[core_cols[part_cols]]
        key = row_ids[core_rows[part_rows]].tobytes() + b"|" + global_cols.tobytes()
        null = cache.get(key)
        if null is None:
            null = _null_space(core[part_rows][:, part_cols].toarray())
            cache[key] = null
        determined[core_cols[part_cols]] = np.abs(null).max(axis=1, initial=0.0) < 1e-8
        parts_out.append((core_cols[part_cols], null))
    return determined, parts_out


def _null_space(block: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the block's null space, one row per column of the block."""
    null = scipy.linalg.null_space(block)
    return null if null.size else np.zeros((block.shape[1], 0))


def _cell_sets(relation: Relation) -> list[Cells]:
    if isinstance(relation, Equal):
        return [relation.left, relation.right]
    if isinstance(relation, Within):
        return [relation.part, relation.whole]
    return []


def _as_tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
