"""A survey that ships replicate weights, through ingest, validate, weight and estimate.

The small demo's SPSS waves get bootstrap-style replicate weights (``repwt1`` ...
``repwt12``, one per respondent and replicate, written back with the files'
labels); a copy of the panel codebook declares them. The columns must reach the
weighted survey unchanged, row by row, and the estimates must take their
standard errors from them.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from shared import REPO

from evaluation.config import load_config, stage_settings
from evaluation.sources.replicate_weights import canonical_names
from evaluation.stages.estimate import estimate
from evaluation.stages.ingest import ingest
from evaluation.stages.validate import validate
from evaluation.stages.weight import weight
from evaluation.survey import ReplicateDesign

N_REPLICATES = 12
SCALE = 1 / (N_REPLICATES - 1)


def _with_replicates(path, rng) -> None:
    data, meta = pyreadstat.read_sav(str(path))
    multipliers = rng.poisson(1.0, (len(data), N_REPLICATES)).astype(float)
    weight = data[meta.column_names[[name.lower() for name in meta.column_names].index("vekt_design")]]
    for r in range(N_REPLICATES):
        data[f"repwt{r + 1}"] = weight.to_numpy() * multipliers[:, r]
    pyreadstat.write_sav(
        data,
        str(path),
        column_labels=meta.column_names_to_labels,
        variable_value_labels=meta.variable_value_labels,
        missing_ranges=meta.missing_ranges,
    )


@pytest.fixture(scope="module")
def stages(small_demo, _ingest_settings, tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw_replicates")
    shutil.copytree(small_demo, raw, dirs_exist_ok=True)
    rng = np.random.default_rng(7)
    for path in sorted(raw.glob("innbyggerpanel_bolge*.sav")):
        _with_replicates(path, rng)
    (raw / "demo_manifest.json").unlink()  # the files are no longer the demo generator's
    codebook = yaml.safe_load((REPO / "config" / "codebooks" / "demo_panel.yaml").read_text(encoding="utf-8"))
    codebook["design"]["replicate_weights"] = {"columns": "repwt[0-9]+", "scale": SCALE, "method": "bootstrap"}
    codebook_path = raw / "panel_replicates.yaml"
    codebook_path.write_text(yaml.safe_dump(codebook, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = {**_ingest_settings, "sources": {**_ingest_settings["sources"]}}
    settings["sources"]["survey"] = {**settings["sources"]["survey"], "codebook": str(codebook_path)}
    ingested, validated, weighted = (tmp_path_factory.mktemp(name) for name in ("ingested", "validated", "weighted"))
    ingest(raw, ingested, settings)
    config = load_config(REPO / "config" / "config.yaml")
    checks = stage_settings(config, "validate")
    checks["validation"] = {**checks["validation"], "data_docs": False, "field_periods": {}}
    checks["variables"] = str(REPO / checks["variables"])
    checks["validation"]["rules"] = str(REPO / checks["validation"]["rules"])
    validate(ingested, validated, checks)
    weighting = {"weighting": {**config["weighting"], "method": "none"}}
    weight(validated / "survey.parquet", None, weighted / "survey.parquet", weighted / "summary.csv", weighting)
    estimates = stage_settings(config, "estimate")
    estimates.update(
        variables=str(REPO / "config" / "variables.yaml"), replicates=codebook["design"]["replicate_weights"]
    )
    estimates["replicates"]["mse"] = False
    estimates["weighting"]["method"] = "none"
    estimate(weighted / "survey.parquet", validated / "areas.parquet", weighted / "estimates.csv", estimates)
    return (
        raw,
        pd.read_parquet(weighted / "survey.parquet"),
        pd.read_csv(weighted / "estimates.csv", dtype={"group": str}),
    )


def test_replicate_weights_reach_the_weighted_survey_row_by_row(stages):
    raw, survey, _ = stages
    assert [c for c in survey.columns if c.startswith("replicate_weight_")] == canonical_names(N_REPLICATES)
    for source_file, rows in survey.groupby("source_file"):
        data, _ = pyreadstat.read_sav(str(raw / source_file))
        original = data.iloc[rows["source_row"].to_numpy() - 1]
        for r in (1, N_REPLICATES):
            assert np.array_equal(rows[f"replicate_weight_{r:03d}"].to_numpy(), original[f"repwt{r}"].to_numpy())


def test_estimates_take_their_standard_errors_from_the_replicates(stages):
    _, survey, estimates = stages
    design = ReplicateDesign(survey, "weight", canonical_names(N_REPLICATES), scale=SCALE)
    outcome = next(
        name
        for name in estimates["outcome"].unique()
        if estimates.query("outcome == @name")["kind"].iloc[0] != "binary"
    )
    expected = design.mean([outcome], by=["wave"]).set_index("wave")
    rows = estimates.query(
        "outcome == @outcome and group_variable == 'all' and area_type == 'all' and municipality_code == 'all'"
    ).set_index("wave")
    for wave, row in expected.iterrows():
        assert rows.loc[wave, "se"] == pytest.approx(row["se"], rel=1e-10)
