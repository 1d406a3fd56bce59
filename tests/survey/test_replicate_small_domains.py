"""Replicate designs on small domains: a replicate that empties a domain, or leaves it one answer,
gives no logit interval there (NaN) instead of stopping the estimates of every other domain."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.survey import ReplicateDesign


def test_a_replicate_without_the_domain_leaves_its_interval_undefined_and_the_others_intact():
    rng = np.random.default_rng(3)
    n = 400
    data = pd.DataFrame({"g": np.where(np.arange(n) < 6, "small", "large"), "y": rng.integers(0, 2, n), "w": 1.0})
    data.loc[:5, "y"] = [0, 1, 0, 1, 1, 0]
    replicates = np.column_stack([rng.poisson(1.0, n).astype(float) for _ in range(20)])
    replicates[:6, 0] = 0.0  # replicate 1 drops the small domain
    replicates[:6, 1] = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]  # replicate 2 keeps only its zeros
    design = ReplicateDesign(data, "w", replicates, scale=1 / 19)
    out = design.proportion("y", by=["g"], categories=[1]).set_index("g")
    assert np.isnan(out.loc["small", ["ci_low", "ci_high"]].astype(float)).all()
    assert out.loc["small", "estimate"] == 0.5
    assert np.isfinite(out.loc["large", ["se", "ci_low", "ci_high"]].astype(float)).all()
