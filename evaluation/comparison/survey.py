"""Survey outcomes: DiD on repeated cross-sections (cells) and on the panel.

Repeated cross-sections.  Respondents are aggregated to municipality x wave
cells: the design-weighted mean of the outcome, the cell's total design
weight (the regression weight, so the estimand is the population-weighted
ATT) and the design-weighted share of respondents interviewed on or after the
pilot start (the treatment; 0 or 1 unless a wave's fieldwork straddles the
start).  With a treatment constant within cells, the cell regression with
municipality and wave fixed effects gives exactly the respondent-level
weighted TWFE estimate and the same municipality cluster scores; the cells
make the few-cluster methods (permutation, wild bootstrap) cheap.

Panel.  Respondents seen in several waves identify the effect within person:
``y_iw = beta D_iw + alpha_i + gamma_w + e_iw`` with design weights,
clustered by municipality.

Units: binary items in percentage points (x 100), scales in scale points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.comparison.did import DidProblem
from evaluation.comparison.panel import TurnoutPanel
from evaluation.comparison.randomization import CohortAssignment
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError

BINARY_OUTCOMES = ("voted_local", "contacted_politician", "attended_meeting", "took_part_consultation", "signed_petition")
SCALE_OUTCOMES = ("trust_local_politicians", "trust_council", "trust_administration", "satisfaction_democracy")
SURVEY_COLUMNS = ("respondent_id", "wave", "interview_date", "municipality_code", "design_weight")


def survey_outcomes(survey: pd.DataFrame) -> list[str]:
    """Outcome columns of the codebook present in ``survey``."""
    return [c for c in (*BINARY_OUTCOMES, *SCALE_OUTCOMES) if c in survey.columns]


def outcome_scale(outcome: str) -> float:
    """Multiplier to report units: 100 for binary items (pp), 1 for scales."""
    return 100.0 if outcome in BINARY_OUTCOMES else 1.0


@dataclass(frozen=True)
class SurveyFrame:
    """Survey rows joined to municipality treatment timing.

    Attributes
    ----------
    data : pd.DataFrame
        Survey rows with ``muni`` (municipality index), ``treated`` (0/1) and
        one ``exposure_c`` column per cohort.
    panel : TurnoutPanel
        The turnout panel (municipalities and cohorts).
    """

    data: pd.DataFrame
    panel: TurnoutPanel

    @classmethod
    def build(cls, survey: pd.DataFrame, panel: TurnoutPanel) -> "SurveyFrame":
        """Attach timing; raises :class:`EstimationError` for unknown municipalities or bad weights."""
        missing = [c for c in SURVEY_COLUMNS if c not in survey.columns]
        if missing:
            raise EstimationError(f"survey: missing column(s) {', '.join(missing)}")
        data = survey.copy()
        data["municipality_code"] = data["municipality_code"].astype(str)
        munis = panel.municipalities.set_index("municipality_code")
        unknown = sorted(set(data["municipality_code"]) - set(munis.index))
        if unknown:
            raise EstimationError(f"survey: {len(unknown)} municipality_code(s) not in the area register, e.g. {unknown[0]}")
        if not (data["design_weight"].gt(0) & np.isfinite(data["design_weight"])).all():
            raise EstimationError("survey: design_weight must be positive and finite")
        data["interview_date"] = pd.to_datetime(data["interview_date"]).astype("datetime64[ns]")
        data["muni"] = munis.index.get_indexer(data["municipality_code"])
        start = munis["pilot_start"].to_numpy("datetime64[ns]")[data["muni"].to_numpy()]
        data["treated"] = (data["interview_date"].to_numpy() >= start).astype(float)
        dates = data["interview_date"].to_numpy()
        for c, s in enumerate(panel.cohort_starts.to_numpy("datetime64[ns]")):
            data[f"exposure_{c}"] = (dates >= s).astype(float)
        return cls(data, panel)

    @property
    def exposure_columns(self) -> list[str]:
        """Names of the per-cohort exposure columns."""
        return [f"exposure_{c}" for c in range(len(self.panel.cohort_starts))]

    def cells(self, outcome: str) -> pd.DataFrame:
        """Municipality x wave cells for one outcome (respondents with the outcome observed)."""
        d = self.data.loc[self.data[outcome].notna()]
        w = d["design_weight"].to_numpy(float)
        cols = {"y": d[outcome].to_numpy(float) * outcome_scale(outcome), "treated": d["treated"].to_numpy()}
        cols.update({c: d[c].to_numpy() for c in self.exposure_columns})
        weighted = pd.DataFrame({k: v * w for k, v in cols.items()})
        weighted["muni"], weighted["wave"], weighted["weight"] = d["muni"].to_numpy(), d["wave"].to_numpy(), w
        weighted["respondents"] = 1
        out = weighted.groupby(["muni", "wave"], sort=True).sum().reset_index()
        for k in cols:
            out[k] = out[k] / out["weight"]
        return out

    def cell_problem(self, outcome: str) -> DidProblem:
        """The cell-level DiD problem for ``outcome``."""
        cells = self.cells(outcome)
        if cells["treated"].eq(0).all():
            raise EstimationError(f"survey outcome {outcome}: no respondent interviewed after a pilot start")
        proj = WithinProjector.build(cells["muni"].to_numpy(), cells["wave"].to_numpy(), cells["weight"].to_numpy())
        size = cells.groupby("muni")["respondents"].mean().reindex(range(len(self.panel.municipalities)))
        return DidProblem(
            projector=proj,
            y=cells["y"].to_numpy(),
            treatment=cells["treated"].to_numpy(),
            multipliers=np.ones((len(cells), 1)),
            names=("treated",),
            row_cluster=cells["muni"].to_numpy(),
            exposure=cells[self.exposure_columns].to_numpy(),
            assignment=CohortAssignment(self.panel.municipalities["cohort"].to_numpy(), len(self.panel.cohort_starts)),
            cluster_size=size.fillna(size.mean()).to_numpy(),
        )

    def respondent_panel(self, outcome: str) -> tuple[WithinProjector, np.ndarray, np.ndarray, np.ndarray]:
        """``(projector, y, treated, municipality)`` for the respondent fixed-effects DiD.

        Keeps respondents observed in at least two waves with the outcome.
        """
        d = self.data.loc[self.data[outcome].notna()]
        d = d.loc[d.groupby("respondent_id")["wave"].transform("nunique") >= 2]
        if d.empty:
            raise EstimationError(f"survey outcome {outcome}: no respondent answered in two waves")
        proj = WithinProjector.build(d["respondent_id"].to_numpy(), d["wave"].to_numpy(), d["design_weight"].to_numpy())
        return proj, d[outcome].to_numpy(float) * outcome_scale(outcome), d["treated"].to_numpy(), d["muni"].to_numpy()
