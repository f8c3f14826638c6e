"""What a release contains, and how its figures hang together.

For every KPI mart: its grain (``keys``), which columns are counts of persons, which measures rest on
which count (a median over fewer persons than the threshold is withheld too), which rates a reader
will compute from two of its counts, and over which key columns a count may be summed (``additive_over``;
every other key column is *not* additive: a person can count in several legal circles, milestones or
months).

``RELATIONS`` lists what a reader can work out by combining published cells: totals and subtotals
inside a table, the same figure in two tables, one group inside another. Statistical disclosure control
(``suppression.py``) treats these as the attacker's knowledge: no suppressed cell may be recomputable
from them. A relation missing here is a way to recompute a suppressed cell that the suppression does not
see, so a new release table comes with its relations; ``tests/privacy/test_release_relations.py`` checks
on a real pipeline run that every declared relation holds in the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ALL = "alle"  # the value of a breakdown column on a row that is summed over it


@dataclass(frozen=True)
class ReleaseTable:
    name: str
    counts: tuple[str, ...]
    measures: dict[str, str] = field(default_factory=dict)  # measure column -> count column it rests on
    keys: tuple[str, ...] = ()  # the grain: one row per combination
    # count column -> key columns it may be summed over (disjoint groups of persons); others are not additive
    additive_over: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # rate a reader computes -> (numerator count, denominator count), both columns of the same row
    rates: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Cells:
    """The cells of one or more count columns of a release table (summed), optionally filtered by key values.

    ``where``: key column -> value(s) a row must have; ``where_not``: value(s) it must not have;
    ``contains``: a ``+``-joined set column (``agency_set``) -> member the set must contain.
    """

    table: str
    columns: tuple[str, ...]
    where: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    where_not: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    contains: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Margin:
    """Inside ``table``, the row whose ``dimension`` is ``alle`` is the sum of the rows that agree with it on
    every other key and have a value in ``dimension`` (only where such a breakdown is published)."""

    table: str
    columns: tuple[str, ...]
    dimension: str
    why: str


@dataclass(frozen=True)
class Equal:
    """``left`` and ``right`` summed per group of ``by`` are the same number of persons."""

    left: Cells
    right: Cells
    by: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Within:
    """The persons of ``part`` are among those of ``whole`` (per group of ``by``).

    ``each_of``: compare every value of this column of ``part`` on its own (each circle is within the
    union), not their sum. ``difference_is_count``: the difference whole - part counts persons of its own
    (e.g. "in SGB II, not yet profiled") and is protected like a published count; otherwise (overlaps
    counted twice) it only bounds the cells.
    """

    part: Cells
    whole: Cells
    by: tuple[str, ...]
    why: str
    each_of: str | None = None
    difference_is_count: bool = True


@dataclass(frozen=True)
class RunningTotal:
    """In ``table``, ``total`` on a row is the sum of ``parts`` over that row and every later row of its group
    (``by``) in the order of ``order`` (a life table's persons at risk)."""

    table: str
    total: str
    parts: tuple[str, ...]
    order: str
    by: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Continuation:
    """In a flow table, the persons flowing out of a node at step s+1 are among those who flowed into it at
    step s (per group of ``by``)."""

    table: str
    column: str
    step: str
    source: str
    target: str
    by: tuple[str, ...]
    why: str


Relation = Margin | Equal | Within | RunningTotal | Continuation

GROUPS = ("nationality_group", "age_band", "sex")

RELEASE_TABLES: tuple[ReleaseTable, ...] = (
    ReleaseTable("kpi_persons_by_agency", ("persons",), keys=("city", "month", "agency_set"),
                 additive_over={"persons": ("agency_set",)}),
    ReleaseTable("kpi_legal_circle_stock", ("persons",), keys=("city", "month", "legal_circle")),
    ReleaseTable("kpi_sgb2_transitions", ("entries", "entries_with_asylblg_end", "gap_over_30_days"),
                 {"gap_days_median": "entries_with_asylblg_end", "gap_days_p90": "entries_with_asylblg_end"},
                 keys=("city", "month"),
                 additive_over={c: ("month",) for c in ("entries", "entries_with_asylblg_end", "gap_over_30_days")},
                 rates={"share_with_asylblg_end": ("entries_with_asylblg_end", "entries"),
                        "share_gap_over_30_days": ("gap_over_30_days", "entries_with_asylblg_end")}),
    ReleaseTable("kpi_time_to_milestones", ("persons", "reached"), {"days_median": "reached"},
                 keys=("city", "cohort_year", "reference", "milestone"),
                 additive_over={"persons": ("city", "cohort_year"), "reached": ("city", "cohort_year")},
                 rates={"reached_share": ("reached", "persons")}),
    ReleaseTable("kpi_profile_mix", ("persons",), keys=("city", "month", "profile_code"),
                 additive_over={"persons": ("profile_code",)}),
    ReleaseTable("kpi_youth_care", ("in_care", "unaccompanied_in_care", "turning_18"), keys=("city", "month"),
                 rates={"unaccompanied_share": ("unaccompanied_in_care", "in_care")}),
    ReleaseTable("kpi_youth_follow_up", ("persons",), keys=("city", "year", "follow_up"),
                 additive_over={"persons": ("city", "year", "follow_up")}),
    # For the dashboard's filters (nationality group, age band, sex; 'alle' = rolled up), the Sankey of
    # legal circles and Kaplan-Meier curves computed from the life table's aggregates.
    ReleaseTable("kpi_stock_by_group", ("persons",),
                 keys=("city", "month", "legal_circle", *GROUPS), additive_over={"persons": GROUPS}),
    ReleaseTable("kpi_legal_circle_flows", ("persons",),
                 keys=("city", "step", "from_circle", "to_circle", *GROUPS), additive_over={"persons": GROUPS}),
    ReleaseTable("kpi_milestone_life_table", ("at_risk", "reached", "censored"),
                 keys=("city", "cohort_year", "reference", "milestone", *GROUPS, "month_since"),
                 additive_over={"reached": (*GROUPS, "month_since"), "censored": (*GROUPS, "month_since")}),
    # Official inhabitants per city, for rates per 1,000: no person counts, nothing to suppress.
    ReleaseTable("kpi_city_population", ()),
)

CIRCLES_OF_THE_IMMIGRATION_OFFICE = ("AsylbLG", "AufenthG")
STOCK = "kpi_legal_circle_stock"
BY_AGENCY = "kpi_persons_by_agency"
BY_GROUP = "kpi_stock_by_group"
FLOWS = "kpi_legal_circle_flows"
LIFE = "kpi_milestone_life_table"
TIMES = "kpi_time_to_milestones"
EVERYONE = {group: ALL for group in GROUPS}

RELATIONS: tuple[Relation, ...] = (
    # --- persons at month end: agencies, legal circles, youth care --------------------------------------
    Equal(Cells(STOCK, ("persons",), where={"legal_circle": "SGB II"}),
          Cells(BY_AGENCY, ("persons",), contains={"agency_set": "jobcenter"}), ("city", "month"),
          "the jobcenter's persons are the SGB II stock (the jobcenter has no other legal circle)"),
    Equal(Cells(STOCK, ("persons",), where={"legal_circle": "SGB VIII"}),
          Cells(BY_AGENCY, ("persons",), contains={"agency_set": "jugendamt"}), ("city", "month"),
          "the youth office's persons are the SGB VIII stock"),
    Equal(Cells("kpi_youth_care", ("in_care",)), Cells(STOCK, ("persons",), where={"legal_circle": "SGB VIII"}),
          ("city", "month"), "persons in youth care are the SGB VIII stock"),
    Within(Cells(STOCK, ("persons",), where={"legal_circle": CIRCLES_OF_THE_IMMIGRATION_OFFICE}),
           Cells(BY_AGENCY, ("persons",), contains={"agency_set": "abh"}), ("city", "month"),
           "each circle of the immigration office holds some of its persons", each_of="legal_circle"),
    Within(Cells(BY_AGENCY, ("persons",), contains={"agency_set": "abh"}),
           Cells(STOCK, ("persons",), where={"legal_circle": CIRCLES_OF_THE_IMMIGRATION_OFFICE}),
           ("city", "month"), "every person of the immigration office is in AsylbLG or AufenthG (or both)",
           difference_is_count=False),
    Within(Cells("kpi_profile_mix", ("persons",)), Cells(STOCK, ("persons",), where={"legal_circle": "SGB II"}),
           ("city", "month"), "profiled persons are in SGB II; the rest are not profiled yet"),
    Within(Cells("kpi_youth_care", ("unaccompanied_in_care",)), Cells("kpi_youth_care", ("in_care",)),
           ("city", "month"), "unaccompanied minors are among those in care"),
    Within(Cells("kpi_youth_care", ("turning_18",)), Cells("kpi_youth_care", ("in_care",)),
           ("city", "month"), "those turning 18 are among those in care"),
    # --- the change of legal circle and the ways into language and work ---------------------------------
    Within(Cells("kpi_sgb2_transitions", ("entries_with_asylblg_end",)),
           Cells("kpi_sgb2_transitions", ("entries",)), ("city", "month"),
           "entries with a known AsylbLG end are among the entries"),
    Within(Cells("kpi_sgb2_transitions", ("gap_over_30_days",)),
           Cells("kpi_sgb2_transitions", ("entries_with_asylblg_end",)), ("city", "month"),
           "a gap is measured only where the AsylbLG end is known"),
    Within(Cells(TIMES, ("reached",)), Cells(TIMES, ("persons",)), ("city", "cohort_year", "reference", "milestone"),
           "those who reached a milestone are among the cohort"),
    Equal(Cells(TIMES, ("persons",), where={"milestone": "first_course"}),
          Cells(TIMES, ("persons",), where={"milestone": "b1"}), ("city", "cohort_year", "reference"),
          "the cohort is the same for every milestone"),
    Equal(Cells(TIMES, ("persons",), where={"milestone": "b1"}),
          Cells(TIMES, ("persons",), where={"milestone": "work_or_training"}), ("city", "cohort_year", "reference"),
          "the cohort is the same for every milestone"),
    # --- persons at month end by group (a cube with every roll-up) ---------------------------------------
    *(Margin(BY_GROUP, ("persons",), group, f"'alle' in {group} is the sum over its values") for group in GROUPS),
    Equal(Cells(BY_GROUP, ("persons",), where=EVERYONE, where_not={"legal_circle": ALL}),
          Cells(STOCK, ("persons",)), ("city", "month", "legal_circle"),
          "a circle's total over all groups is its stock"),
    Equal(Cells(BY_GROUP, ("persons",), where={"legal_circle": ALL, **EVERYONE}),
          Cells(BY_AGENCY, ("persons",)), ("city", "month"),
          "persons in any circle are the persons known to any agency"),
    Within(Cells(BY_GROUP, ("persons",), where_not={"legal_circle": ALL}),
           Cells(BY_GROUP, ("persons",), where={"legal_circle": ALL}), ("city", "month", *GROUPS),
           "each circle holds some of the persons in any circle", each_of="legal_circle"),
    Within(Cells(BY_GROUP, ("persons",), where={"legal_circle": ALL}),
           Cells(BY_GROUP, ("persons",), where_not={"legal_circle": ALL}), ("city", "month", *GROUPS),
           "a person in several circles counts once in 'alle'", difference_is_count=False),
    # --- flows between legal circles --------------------------------------------------------------------
    *(Margin(FLOWS, ("persons",), group, f"'alle' in {group} is the sum over its values") for group in GROUPS),
    Continuation(FLOWS, "persons", "step", "from_circle", "to_circle", ("city", *GROUPS),
                 "who moves on from a circle at step s+1 entered it at step s"),
    # --- life tables --------------------------------------------------------------------------------
    *(Margin(LIFE, ("reached", "censored"), group, f"'alle' in {group} is the sum over its values")
      for group in GROUPS),
    RunningTotal(LIFE, "at_risk", ("reached", "censored"), "month_since",
                 ("city", "cohort_year", "reference", "milestone", *GROUPS),
                 "still on the way at the start of a month: everyone who reaches or leaves then or later"),
    Equal(Cells(LIFE, ("reached", "censored"), where=EVERYONE), Cells(TIMES, ("persons",)),
          ("city", "cohort_year", "reference", "milestone"), "the life table follows the whole cohort"),
    Within(Cells(LIFE, ("reached",), where=EVERYONE), Cells(TIMES, ("reached",)),
           ("city", "cohort_year", "reference", "milestone"),
           "reached within the observed time (the rest reached it after the end of the data)"),
)


def release_table(name: str) -> ReleaseTable:
    return next(t for t in RELEASE_TABLES if t.name == name)
