"""Shared fixtures: the California API samples and R `survey` reference numbers (tests/survey/reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survey import SurveyDesign

REFERENCE = Path(__file__).parent / "reference"


class Reference:
    """Reference numbers written by reference/make_reference.R, looked up by (case, term, statistic)."""

    def __init__(self, path: Path) -> None:
        table = pd.read_csv(path, keep_default_na=False)
        self._values = {(r.case, r.term, r.statistic): float(r.value) for r in table.itertuples()}

    def __call__(self, case: str, term: str, statistic: str) -> float:
        return self._values[(case, term, statistic)]

    def many(self, case: str, terms: list[str], statistic: str) -> np.ndarray:
        return np.array([self(case, t, statistic) for t in terms])


@pytest.fixture(scope="session")
def ref() -> Reference:
    return Reference(REFERENCE / "reference_values.csv")


@pytest.fixture(scope="session")
def domain_ref() -> Reference:
    """Domain degrees of freedom and subset() designs (reference/make_domain_reference.R)."""
    return Reference(REFERENCE / "domain_reference.csv")


@pytest.fixture(scope="session")
def glm_ref() -> Reference:
    """svyglm with formulas, families, missing values and subsets (reference/make_glm_reference.R)."""
    return Reference(REFERENCE / "glm_reference.csv")


@pytest.fixture(scope="session")
def stats_ref() -> Reference:
    """svyvar, svyquantile, svyttest, svychisq (reference/make_stats_reference.R)."""
    return Reference(REFERENCE / "stats_reference.csv")


@pytest.fixture(scope="session")
def replicate_ref() -> Reference:
    """Replicate designs: domain df, proportions, svyglm (reference/make_replicate_reference.R)."""
    return Reference(REFERENCE / "replicate_reference.csv")


@pytest.fixture(scope="session")
def brr_ref() -> Reference:
    """BRR and Fay replicates (reference/make_brr_reference.R)."""
    return Reference(REFERENCE / "brr_reference.csv")


@pytest.fixture(scope="session")
def calibration_ref() -> Reference:
    """calibrate() with linear, raking and logit functions (reference/make_calibration_reference.R)."""
    return Reference(REFERENCE / "calibration_reference.csv")


@pytest.fixture(scope="session")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "apiclus1.csv")


@pytest.fixture(scope="session")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "apistrat.csv")


@pytest.fixture(scope="session")
def apiclus2() -> pd.DataFrame:
    data = pd.read_csv(REFERENCE / "apiclus2.csv")
    # R's svydesign(id=~dnum+snum, fpc=~fpc1+fpc2) derives weights from the fpc:
    # 1 / ((n_districts / fpc1) * (n_schools_in_district / fpc2)).
    n_districts = data["dnum"].nunique()
    schools = data.groupby("dnum")["snum"].transform("count")
    data["w"] = 1.0 / ((n_districts / data["fpc1"]) * (schools / data["fpc2"]))
    return data


@pytest.fixture(scope="session")
def dclus1(apiclus1: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="session")
def dstrat(apistrat: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="session")
def dclus2(apiclus2: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign(apiclus2, weights="w", psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])


@pytest.fixture(scope="session")
def pop_types() -> pd.Series:
    return pd.Series([4421.0, 755.0, 1018.0], index=pd.Index(["E", "H", "M"], name="stype"))


@pytest.fixture(scope="session")
def pop_schwide() -> pd.Series:
    return pd.Series([1072.0, 5122.0], index=pd.Index(["No", "Yes"], name="sch.wide"))
