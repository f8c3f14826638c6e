"""What a release contains: the KPI marts, and for each which columns are counts and which
measures depend on which count (a median over fewer than the threshold is suppressed too)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReleaseTable:
    name: str
    counts: tuple[str, ...]
    measures: dict[str, str] = field(default_factory=dict)  # measure column -> count column it rests on


RELEASE_TABLES: tuple[ReleaseTable, ...] = (
    ReleaseTable("kpi_persons_by_agency", ("persons",)),
    ReleaseTable("kpi_legal_circle_stock", ("persons",)),
    ReleaseTable("kpi_sgb2_transitions", ("entries", "entries_with_asylblg_end", "gap_over_30_days"),
                 {"gap_days_median": "entries_with_asylblg_end", "gap_days_p90": "entries_with_asylblg_end"}),
    ReleaseTable("kpi_time_to_milestones", ("persons", "reached"), {"days_median": "reached"}),
    ReleaseTable("kpi_profile_mix", ("persons",)),
    ReleaseTable("kpi_youth_care", ("in_care", "unaccompanied_in_care", "turning_18")),
    ReleaseTable("kpi_youth_follow_up", ("persons",)),
)
