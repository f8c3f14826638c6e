"""Training: the u probabilities come from the whole random sample, so they hardly depend on which sample."""

from __future__ import annotations

import pipelines.linkage.link as link


def u_probabilities(model: dict, comparison: str) -> list[float]:
    (found,) = [c for c in model["comparisons"] if c["output_column_name"] == comparison]
    levels = [level for level in found["comparison_levels"] if not level.get("is_null_level")]
    assert all(level.get("u_probability") is not None for level in levels), f"{comparison}: a level has no u"
    return [level["u_probability"] for level in levels]


def test_u_estimates_of_three_samples_agree(identities, monkeypatch) -> None:
    """Three seeds draw three samples; each level's u differs by less than 0.06 between them.

    With Splink's early exit (it stops after a probe of 1 % of the pairs) the u of "same city, other
    district" was 0.51, 0.51 and 0.34 here, and of sex 0.67 to 0.70 where every pair counted gives 0.56-0.59.
    """
    # a sample smaller than the test city's records, so that each seed draws other records
    monkeypatch.setattr(link, "U_SAMPLE_PAIRS", 1e5)
    assert identities.num_rows > 450  # the rows 100,000 pairs need
    models = [link.train_model(identities, seed=seed) for seed in (1, 2, 3)]
    for comparison in ("sex", "nationality", "location"):
        by_level = zip(*(u_probabilities(model, comparison) for model in models), strict=True)
        for estimates in by_level:
            assert max(estimates) - min(estimates) < 0.06, (comparison, estimates)
