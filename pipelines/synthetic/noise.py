"""How badly each agency records a person: the three noise presets.

Each agency draws its noise independently, because in reality each office types
names and dates into its own software. The rates are per *record* (one person's
file at one agency in one city), so all rows of a file share the same spelling,
as they would when the case software stores the person once.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.config import AGENCIES


@dataclass(frozen=True)
class AgencyNoise:
    """Noise rates of one agency; each is the probability per record."""

    translit: float
    """Per name part: use another transliteration than the person's documents."""
    swap: float
    """Given and family name exchanged."""
    middle_drop: float
    """A middle name (often the father's name) left out."""
    typo: float
    """One keystroke error in a name."""
    placeholder_dob: float
    """Birth date recorded with placeholder day and month (share of records)."""
    azr_missing: float
    """AZR number not recorded."""
    azr_typo: float
    """AZR number recorded with one wrong or swapped digit."""
    duplicate: float
    """Person registered a second time under a new record id."""


@dataclass(frozen=True)
class NoiseProfile:
    """A named noise preset: per-agency rates plus how often errors are corrected later."""

    name: str
    abh: AgencyNoise
    jobcenter: AgencyNoise
    jugendamt: AgencyNoise
    correction: float
    """Share of records with a typo or placeholder birth date that are re-sent corrected in a later month."""

    def for_agency(self, agency: str) -> AgencyNoise:
        if agency not in AGENCIES:
            raise KeyError(f"unknown agency {agency!r}; expected one of {', '.join(AGENCIES)}")
        return getattr(self, agency)


# The immigration office holds the AZR number by law and sees passports, so it has
# the fewest errors; the youth office works with minors whose age is often estimated
# and writes names down from hearing, so it has the most.
EASY = NoiseProfile(
    name="easy",
    abh=AgencyNoise(0.03, 0.005, 0.05, 0.003, 0.04, 0.0, 0.0, 0.002),
    jobcenter=AgencyNoise(0.05, 0.01, 0.08, 0.005, 0.05, 0.10, 0.005, 0.003),
    jugendamt=AgencyNoise(0.08, 0.02, 0.10, 0.008, 0.08, 0.30, 0.005, 0.002),
    correction=0.40,
)

REALISTIC = NoiseProfile(
    name="realistic",
    abh=AgencyNoise(0.15, 0.02, 0.25, 0.01, 0.12, 0.0, 0.002, 0.005),
    jobcenter=AgencyNoise(0.25, 0.04, 0.35, 0.02, 0.15, 0.30, 0.02, 0.01),
    jugendamt=AgencyNoise(0.30, 0.10, 0.40, 0.03, 0.20, 0.60, 0.02, 0.01),
    correction=0.25,
)

HARD = NoiseProfile(
    name="hard",
    abh=AgencyNoise(0.40, 0.08, 0.45, 0.03, 0.30, 0.0, 0.005, 0.01),
    jobcenter=AgencyNoise(0.55, 0.12, 0.55, 0.05, 0.30, 0.40, 0.03, 0.02),
    jugendamt=AgencyNoise(0.60, 0.20, 0.60, 0.06, 0.30, 0.70, 0.03, 0.02),
    correction=0.15,
)

PROFILES: dict[str, NoiseProfile] = {p.name: p for p in (EASY, REALISTIC, HARD)}


def noise_profile(name: str) -> NoiseProfile:
    """The preset called ``name``; the error lists the valid names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown noise profile {name!r}; choose one of {', '.join(PROFILES)}") from None
