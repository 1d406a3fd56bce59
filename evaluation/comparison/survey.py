"""Survey outcomes: DiD on repeated cross-sections (cells) and on the panel.

Repeated cross-sections.  Respondents are aggregated to unit x wave cells
(the unit is the treated unit of the design: a municipality, district or
area, see :mod:`evaluation.units`): the design-weighted mean of the outcome, the cell's total design
weight (the regression weight, so the estimand is the population-weighted
ATT) and the design-weighted share of respondents interviewed on or after the
pilot start (the treatment; 0 or 1 unless a wave's fieldwork straddles the
start).  With a treatment constant within cells, the cell regression with
unit and wave fixed effects gives exactly the respondent-level weighted TWFE
estimate and the same unit cluster scores; the cells make the few-cluster
methods (permutation, wild bootstrap) cheap.  The within-municipality
comparison replaces the wave effects by municipality x wave effects.

Panel.  Respondents seen in several waves identify the effect within person:
``y_iw = beta D_iw + alpha_i + gamma_w + e_iw`` with design weights,
clustered by unit.

Units: binary items in percentage points (x 100), scales in scale points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.comparison.did import DidProblem
from evaluation.comparison.randomization import CohortAssignment
from evaluation.comparison.timing import PilotTiming
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError

SURVEY_COLUMNS = ("respondent_id", "wave", "interview_date", "municipality_code", "design_weight")
REFERENCE_DATE = "reference_date__{outcome}"
"""Per-row date an item refers to (the last election before the interview), for items that declare one."""


def report_unit(kind: str) -> float:
    """Multiplier to report units: 100 for binary items (percentage points), 1 for scales (scale points)."""
    return 100.0 if kind == "binary" else 1.0


@dataclass(frozen=True)
class SurveyFrame:
    """Survey rows joined to the treatment timing of their unit.

    Attributes
    ----------
    data : pd.DataFrame
        Survey rows with ``unit`` (index of the respondent's treated unit),
        ``treated`` (0/1) and one ``exposure_c`` column per cohort.
    timing : PilotTiming
        Each unit's pilot start and cohort (from the area register).
    units : dict of str to float
        Each outcome's multiplier to report units (:func:`report_unit` of its kind).
    """

    data: pd.DataFrame
    timing: PilotTiming
    units: dict[str, float]

    @classmethod
    def build(
        cls,
        survey: pd.DataFrame,
        timing: PilotTiming,
        kinds: Mapping[str, str],
        references: Mapping[str, Sequence[np.datetime64]] | None = None,
        units: pd.Series | None = None,
    ) -> SurveyFrame:
        """Attach timing to the survey rows; ``kinds`` maps each outcome to compare to ``binary`` or ``scale``.

        ``references`` maps an outcome whose item asks about an earlier event (``voted
        in the last local election``) to the dates of those events: the item counts as
        treated only when the last such date before the interview is on or after the
        pilot start. Other outcomes are treated from the interview date on.

        ``units`` is each row's treated unit (:func:`evaluation.units.survey_units`);
        None takes the respondent's municipality.

        Raises :class:`EstimationError` for missing columns, unknown units or bad weights.
        """
        missing = [c for c in [*SURVEY_COLUMNS, *kinds] if c not in survey.columns]
        if missing:
            raise EstimationError(f"survey: missing column(s) {', '.join(missing)}")
        data = survey.copy()
        data["municipality_code"] = data["municipality_code"].astype(str)
        data["unit_code"] = data["municipality_code"] if units is None else units.astype(str)
        table = timing.units.set_index("unit_code")
        unknown = sorted(set(data["unit_code"]) - set(table.index))
        if unknown:
            what = "municipality_code" if units is None else "treated unit"
            raise EstimationError(f"survey: {len(unknown)} {what}(s) not in the area register, e.g. {unknown[0]}")
        if not (data["design_weight"].gt(0) & np.isfinite(data["design_weight"])).all():
            raise EstimationError("survey: design_weight must be positive and finite")
        data["interview_date"] = pd.to_datetime(data["interview_date"]).astype("datetime64[ns]")
        data["unit"] = table.index.get_indexer(data["unit_code"])
        start = table["pilot_start"].to_numpy("datetime64[ns]")[data["unit"].to_numpy()]
        data["treated"] = (data["interview_date"].to_numpy() >= start).astype(float)
        dates = data["interview_date"].to_numpy()
        for c, s in enumerate(timing.cohort_starts.to_numpy("datetime64[ns]")):
            data[f"exposure_{c}"] = (dates >= s).astype(float)
        for outcome, events in (references or {}).items():
            events = np.sort(np.asarray(events, dtype="datetime64[ns]"))
            last = np.searchsorted(events, dates, side="right") - 1
            data[REFERENCE_DATE.format(outcome=outcome)] = np.where(
                last >= 0, events[np.clip(last, 0, None)], np.datetime64("NaT")
            )
        return cls(data, timing, {outcome: report_unit(kind) for outcome, kind in kinds.items()})

    @property
    def exposure_columns(self) -> list[str]:
        """Names of the per-cohort exposure columns."""
        return [f"exposure_{c}" for c in range(len(self.timing.cohort_starts))]

    def _assignment(self) -> CohortAssignment:
        return CohortAssignment(self.timing.units["cohort"].to_numpy(), len(self.timing.cohort_starts))

    def cells(self, outcome: str, by: str | None = None, rows: pd.Series | None = None) -> pd.DataFrame:
        """Unit x wave (x ``by``) cells for one outcome (respondents with the outcome observed).

        ``rows`` (boolean, aligned with :attr:`data`) restricts the respondents.
        """
        keep = self.data[outcome].notna() if rows is None else self.data[outcome].notna() & rows
        d = self.data.loc[keep]
        w = d["design_weight"].to_numpy(float)
        treated, exposure = self._exposure(d, outcome)
        cols = {"y": d[outcome].to_numpy(float) * self.units[outcome], "treated": treated}
        cols.update({c: exposure[:, k] for k, c in enumerate(self.exposure_columns)})
        weighted = pd.DataFrame({k: v * w for k, v in cols.items()})
        keys = ["unit", "wave"] + ([by] if by else [])
        for k in keys:
            weighted[k] = d[k].to_numpy()
        weighted["weight"], weighted["respondents"] = w, 1
        out = weighted.groupby(keys, sort=True).sum().reset_index()
        for k in cols:
            out[k] = out[k] / out["weight"]
        return out

    def after_end(self, outcome: str) -> np.ndarray:
        """Rows whose answer to ``outcome`` refers to a time after their unit's pilot ended."""
        column = REFERENCE_DATE.format(outcome=outcome)
        dates = self.data[column if column in self.data else "interview_date"].to_numpy("datetime64[ns]")
        ends = self.timing.units["pilot_end"].to_numpy("datetime64[ns]")[self.data["unit"].to_numpy()]
        return dates > ends  # NaT (no end) compares False

    def _exposure(self, d: pd.DataFrame, outcome: str) -> tuple[np.ndarray, np.ndarray]:
        """Treatment and per-cohort exposure of rows ``d`` for ``outcome``, by the date its item refers to."""
        column = REFERENCE_DATE.format(outcome=outcome)
        if column not in d:
            return d["treated"].to_numpy(), d[self.exposure_columns].to_numpy()
        dates = d[column].to_numpy("datetime64[ns]")
        starts = self.timing.units["pilot_start"].to_numpy("datetime64[ns]")[d["unit"].to_numpy()]
        cohorts = self.timing.cohort_starts.to_numpy("datetime64[ns]")
        return (dates >= starts).astype(float), (dates[:, None] >= cohorts[None, :]).astype(float)

    def _problem(
        self,
        cells: pd.DataFrame,
        unit: np.ndarray,
        period: np.ndarray,
        multipliers: np.ndarray,
        names: tuple[str, ...],
        outcome: str,
    ) -> DidProblem:
        if cells["treated"].eq(0).all():
            raise EstimationError(f"survey outcome {outcome}: no respondent interviewed after a pilot start")
        size = cells.groupby("unit")["respondents"].mean().reindex(range(len(self.timing.units)))
        return DidProblem(
            projector=WithinProjector.build(unit, period, cells["weight"].to_numpy()),
            y=cells["y"].to_numpy(),
            treatment=cells["treated"].to_numpy(),
            multipliers=multipliers,
            names=names,
            row_cluster=cells["unit"].to_numpy(),
            exposure=cells[self.exposure_columns].to_numpy(),
            assignment=self._assignment(),
            cluster_size=size.fillna(size.mean()).to_numpy(),
        )

    def cell_problem(self, outcome: str, within: bool = False) -> DidProblem:
        """The cell-level DiD problem for ``outcome``: unit and wave effects.

        ``within`` compares the treated units with the rest of their own
        municipality: municipality x wave effects instead of wave effects, and a
        randomization test that re-draws the treated units within each municipality.
        """
        cells = self.cells(outcome)
        unit = cells["unit"].to_numpy()
        period = cells["wave"].to_numpy()
        if within:
            municipality = pd.factorize(self.timing.units["municipality_code"])[0]
            period = pd.factorize(pd.MultiIndex.from_arrays([municipality[unit], period]))[0]
        problem = self._problem(cells, unit, period, np.ones((len(cells), 1)), ("treated",), outcome)
        return problem.stratified(self.timing.units["municipality_code"].to_numpy()) if within else problem

    def gap_problem(self, outcome: str, group: str, low: str, high: str) -> DidProblem:
        """Triple difference on municipality x wave x group cells, groups ``low`` and ``high`` only.

        ``y = b1 D + b2 D x low + (unit x group) + (wave x group) effects``;
        ``b2`` is the change in the ``low - high`` gap caused by the pilot
        (positive: the pilot raised the outcome more among ``low``).  The
        cell-level fit equals the respondent-level weighted triple difference
        with the same fixed effects, as for :meth:`cell_problem`.
        """
        if group not in self.data.columns:
            raise EstimationError(f"survey: column {group!r} needed for the gap triple difference is missing")
        values = self.data[group].astype("string")  # categories compare as text ("1" is quintile 1)
        cells = self.cells(outcome, by=group, rows=values.isin([low, high]))
        is_low = cells[group].astype("string").eq(low).to_numpy()
        if is_low.all() or not is_low.any():
            raise EstimationError(f"survey outcome {outcome}: no cell for {group} = {low!r} or {high!r}")
        unit = cells["unit"].to_numpy() * 2 + is_low
        period = pd.factorize(cells["wave"])[0] * 2 + is_low
        return self._problem(
            cells,
            unit,
            period,
            np.column_stack([np.ones(len(cells)), is_low]),
            ("treated", f"treated_x_{low}"),
            outcome,
        )

    def respondent_problem(self, outcome: str) -> DidProblem:
        """Panel DiD with respondent and wave effects (respondents observed in at least two waves with the outcome).

        Unit sizes for the Ferman-Pinto model are the mean number of panel
        respondents per unit and wave.
        """
        d = self.data.loc[self.data[outcome].notna()]
        d = d.loc[d.groupby("respondent_id")["wave"].transform("nunique") >= 2]
        treated, exposure = self._exposure(d, outcome)
        if d.empty or not treated.any():
            raise EstimationError(f"survey outcome {outcome}: no treated respondent answered in two waves")
        size = d.groupby(["unit", "wave"]).size().groupby("unit").mean().reindex(range(len(self.timing.units)))
        return DidProblem(
            projector=WithinProjector.build(
                d["respondent_id"].to_numpy(), d["wave"].to_numpy(), d["design_weight"].to_numpy()
            ),
            y=d[outcome].to_numpy(float) * self.units[outcome],
            treatment=treated,
            multipliers=np.ones((len(d), 1)),
            names=("treated",),
            row_cluster=d["unit"].to_numpy(),
            exposure=exposure,
            assignment=self._assignment(),
            cluster_size=size.fillna(size.mean()).to_numpy(),
        )


def cell_event_time(cells: pd.DataFrame) -> np.ndarray:
    """Waves since the first wave in which at least half of a pilot unit's respondents are treated (NaN for controls)."""
    treated = cells.loc[cells["treated"] >= 0.5]
    order = np.sort(cells["wave"].unique())
    first = treated.groupby("unit")["wave"].min()
    position = pd.Series(np.arange(len(order)), index=order)
    start = cells["unit"].map(first.map(position))
    return (cells["wave"].map(position) - start).to_numpy(float)
