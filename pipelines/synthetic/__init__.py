"""Synthetic monthly deliveries of the three agencies, with ground truth, for demos and tests.

Public API: :func:`generate` (and the :class:`GenerationSummary` it returns) and the noise
presets in :data:`PROFILES`. The files follow docs/data-contracts.md section 1.
"""

from .generator import GenerationSummary, generate
from .noise import PROFILES, AgencyNoise, NoiseProfile

__all__ = ["PROFILES", "AgencyNoise", "GenerationSummary", "NoiseProfile", "generate"]
