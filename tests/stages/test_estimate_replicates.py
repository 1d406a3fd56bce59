"""The estimate stage on a survey that ships replicate weights: its SEs come from them.

The replicate weights are a Rao-Wu bootstrap of the respondents within municipalities
(what a supplier might ship); the stage's estimates, gaps and adjusted gaps must equal
those of a ReplicateDesign built directly (checked against R in tests/survey), and
differ from the linearised ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from shared import REPO, reduced_variables

from evaluation.config import load_config, stage_settings
from evaluation.errors import EstimationError
from evaluation.sources.replicate_weights import canonical_names
from evaluation.stages.estimate import estimate
from evaluation.survey import ReplicateDesign, SurveyDesign, bootstrap

OUTCOME = "trust_local_politicians"
GROUPS = ["gender", "education"]
N_REPLICATES = 30
REPLICATES = {"scale": 1 / (N_REPLICATES - 1), "mse": False, "method": "bootstrap"}
READ = {"dtype": {"group": str, "municipality_code": str, "group_a": str, "group_b": str}}


def survey(seed: int = 5) -> pd.DataFrame:
    """Two waves in two pilot and two control municipalities, with bootstrap replicate weights."""
    rng = np.random.default_rng(seed)
    frames = []
    for municipality, n in {"0101": 220, "0102": 180, "0201": 260, "0202": 240}.items():
        for wave in (1, 2):
            frames.append(
                pd.DataFrame(
                    {
                        "respondent_id": [f"{municipality}-{wave}-{i}" for i in range(n)],
                        "wave": wave,
                        "municipality_code": municipality,
                        "gender": rng.choice(["female", "male"], n),
                        "education": rng.choice(["compulsory", "upper_secondary", "higher"], n, p=[0.2, 0.4, 0.4]),
                        "weight": rng.uniform(50, 150, n),
                        OUTCOME: rng.integers(0, 11, n).astype(float),
                    }
                )
            )
    data = pd.concat(frames, ignore_index=True)
    data = data.assign(stratum=data["municipality_code"], psu=data["respondent_id"], design_weight=data["weight"])
    design = SurveyDesign(data, "weight", strata="stratum", psu="psu")
    weights = bootstrap(design, N_REPLICATES, np.random.default_rng(seed)).replicate_weights
    return pd.concat([data, pd.DataFrame(weights, columns=canonical_names(N_REPLICATES))], axis=1)


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    """Run the stage with and without the declared replicates; (data, settings, folder)."""
    folder = tmp_path_factory.mktemp("replicates")
    reduced_variables(folder / "variables.yaml", OUTCOME, GROUPS, "education")
    data = survey()
    data.to_parquet(folder / "survey.parquet")
    areas = pd.DataFrame(
        {"municipality_code": ["0101", "0102", "0201", "0202"], "role": ["pilot"] * 2 + ["control"] * 2}
    )
    areas.to_parquet(folder / "areas.parquet")
    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "estimate")
    settings["variables"] = str(folder / "variables.yaml")
    settings["estimation"]["group_variables"] = GROUPS
    settings["weighting"]["method"] = "none"
    settings["disclosure"]["min_n"] = 10
    for name, replicates in (("replicate", REPLICATES), ("linearised", None)):
        (folder / name).mkdir()
        estimate(
            folder / "survey.parquet",
            folder / "areas.parquet",
            folder / name / "estimates.csv",
            {**settings, "replicates": replicates},
        )
    return data, folder


def _read(folder, name, table):
    return pd.read_csv(folder / name / f"{table}.csv", **READ)


def test_estimates_use_the_replicate_weights(stage):
    data, folder = stage
    replicate = ReplicateDesign(data, "weight", canonical_names(N_REPLICATES), scale=REPLICATES["scale"])
    expected = replicate.mean([OUTCOME], by=["wave", "education"]).set_index(["wave", "education"])
    estimates = _read(folder, "replicate", "estimates")
    rows = estimates[(estimates["group_variable"] == "education") & (estimates["area_type"] == "all")]
    rows = rows.set_index(["wave", "group"])
    for (wave, education), row in expected.iterrows():
        assert rows.loc[(wave, education), "estimate"] == pytest.approx(row["estimate"], rel=1e-12)
        assert rows.loc[(wave, education), "se"] == pytest.approx(row["se"], rel=1e-10)
    linearised = _read(folder, "linearised", "estimates")
    assert np.allclose(linearised["estimate"], estimates["estimate"])
    assert not np.allclose(linearised["se"], estimates["se"], rtol=1e-3)


def test_gaps_and_adjusted_gaps_use_the_replicate_weights(stage):
    data, folder = stage
    data = data.assign(all="all")
    replicate = ReplicateDesign(data, "weight", canonical_names(N_REPLICATES), scale=REPLICATES["scale"])
    a, b = yaml.safe_load((REPO / "config" / "variables.yaml").read_text(encoding="utf-8"))["gaps"]["education"]
    for table, expected in (
        ("gaps", replicate.mean_differences(OUTCOME, ["wave", "all"], "education", a, b)),
        ("adjusted_gaps", replicate.adjusted_differences(OUTCOME, ["wave", "all"], "education", a, b, ["gender"])),
    ):
        published = _read(folder, "replicate", table)
        published = published[published["area_type"] == "all"].set_index("wave")
        for _, row in expected.iterrows():
            assert published.loc[row["wave"], "se"] == pytest.approx(row["se"], rel=1e-10), table
        assert not np.allclose(published["se"], _read(folder, "linearised", table).query("area_type == 'all'")["se"])


def test_declared_replicates_without_their_columns_stop_the_stage(stage, tmp_path):
    data, folder = stage
    data.drop(columns=canonical_names(N_REPLICATES)).to_parquet(tmp_path / "survey.parquet")
    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "estimate")
    settings.update(replicates=REPLICATES, variables=str(folder / "variables.yaml"))
    settings["weighting"]["method"] = "none"
    with pytest.raises(EstimationError, match="declares replicate weights, but the weighted survey has no"):
        estimate(tmp_path / "survey.parquet", folder / "areas.parquet", tmp_path / "estimates.csv", settings)
