"""Countries of origin: their codes in each agency's code list and how their people fare.

Each agency codes nationality differently (the immigration office uses the Destatis
key, the jobcenter ISO 3166 alpha-3, the youth office a German country name), so
one table keeps the three codes side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Origin:
    iso3: str
    destatis: str
    name_de: str
    refugee_share: float
    """Share among refugee households (0 for EU free movement)."""
    eu_share: float
    """Share among EU immigrant households."""
    umf_share: float
    """Share among unaccompanied minors."""
    recognition: float
    """Probability that an asylum claim is granted (AE), else Duldung."""
    decision_days: tuple[int, int]
    """Range of days from the asylum application (GEST) to the decision."""
    name_groups: tuple[tuple[str, float], ...]
    """Naming traditions (see ``names.py``) and their shares within the nationality."""


# Shares follow the interview (Syria first, then Iraq, Afghanistan, other states) and
# the BAMF protection rates of 2016; decision times reflect the 2016 backlog, with
# Syrians decided fastest in the written procedure.
ORIGINS: tuple[Origin, ...] = (
    Origin("SYR", "475", "Syrien", 0.52, 0.0, 0.25, 0.88, (60, 360),
           (("arabic", 0.68), ("arabic_christian", 0.15), ("kurdish", 0.17))),
    Origin("IRQ", "438", "Irak", 0.14, 0.0, 0.08, 0.70, (120, 540), (("arabic", 0.7), ("kurdish", 0.3))),
    Origin("AFG", "423", "Afghanistan", 0.11, 0.0, 0.40, 0.50, (180, 540), (("persian", 1.0),)),
    Origin("IRN", "439", "Iran", 0.05, 0.0, 0.02, 0.55, (150, 540), (("persian", 1.0),)),
    Origin("ERI", "224", "Eritrea", 0.05, 0.0, 0.15, 0.90, (90, 420), (("eritrean", 1.0),)),
    Origin("SOM", "273", "Somalia", 0.03, 0.0, 0.07, 0.65, (120, 540), (("somali", 1.0),)),
    Origin("NGA", "232", "Nigeria", 0.02, 0.0, 0.01, 0.20, (150, 540), (("nigerian", 1.0),)),
    Origin("PAK", "461", "Pakistan", 0.02, 0.0, 0.01, 0.15, (150, 540), (("pakistani", 1.0),)),
    Origin("ALB", "121", "Albanien", 0.03, 0.0, 0.01, 0.03, (90, 300), (("albanian", 1.0),)),
    Origin("TUR", "163", "Türkei", 0.03, 0.0, 0.0, 0.30, (150, 540), (("kurdish", 1.0),)),
    Origin("ROU", "154", "Rumänien", 0.0, 0.6, 0.0, 0.0, (0, 0), (("romanian", 1.0),)),
    Origin("BGR", "125", "Bulgarien", 0.0, 0.4, 0.0, 0.0, (0, 0), (("bulgarian", 1.0),)),
)


def origin_column(attribute: str) -> np.ndarray:
    """One attribute of every origin as an array indexed by origin number."""
    values = [getattr(o, attribute) for o in ORIGINS]
    return np.array(values, dtype=object if isinstance(values[0], str) else None)


def shares(attribute: str) -> np.ndarray:
    """Normalised shares (``refugee_share``, ``eu_share``, ``umf_share``) for ``rng.choice``."""
    weights = np.array([getattr(o, attribute) for o in ORIGINS], dtype=float)
    return weights / weights.sum()
