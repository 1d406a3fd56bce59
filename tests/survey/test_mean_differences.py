"""``mean_differences`` equals ``contrast_means`` domain by domain (covariance included)."""

import numpy as np
import pandas as pd

from evaluation.survey import SurveyDesign


def test_mean_differences_match_contrast_means():
    rng = np.random.default_rng(3)
    n = 3000
    data = pd.DataFrame(
        {
            "stratum": rng.integers(0, 12, n),
            "wave": rng.integers(1, 4, n),
            "area": rng.choice(["pilot", "control"], n),
            "education": rng.choice(["compulsory", "upper_secondary", "higher"], n),
            "w": rng.uniform(0.5, 3.0, n),
        }
    )
    data["psu"] = data["stratum"] * 100 + rng.integers(0, 15, n)  # clusters shared by both groups
    data["y"] = rng.normal(5, 2, n) + (data["education"] == "higher")
    data.loc[rng.random(n) < 0.05, "y"] = np.nan
    design = SurveyDesign(data, weights="w", strata="stratum", psu="psu", nest=True, lonely_psu="adjust")
    fast = design.mean_differences("y", ["wave", "area"], "education", "higher", "compulsory", level=0.9)
    assert len(fast) == 6
    for row in fast.itertuples():
        slow = design.contrast_means(
            "y",
            ["wave", "area", "education"],
            (row.wave, row.area, "higher"),
            (row.wave, row.area, "compulsory"),
            level=0.9,
        ).iloc[0]
        np.testing.assert_allclose(
            [row.estimate, row.se, row.ci_low, row.ci_high],
            [slow.estimate, slow.se, slow.ci_low, slow.ci_high],
            rtol=1e-10,
        )
