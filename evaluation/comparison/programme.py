"""Stage ``compare``: did pilots raise turnout, participation and trust more than controls?

Reads the canonical ``turnout``, ``areas`` and (optionally) ``survey`` tables
and returns the tidy tables the reports draw.  All statistics live in
:mod:`evaluation.comparison`; this module only assembles rows.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from evaluation.comparison import sensitivity
from evaluation.comparison.blas import blas_threads as limit_blas_threads
from evaluation.comparison.did import DidProblem, infer
from evaluation.comparison.event_study import EventStudyCoefficients, event_study, event_study_fit
from evaluation.comparison.matching import MatchingSpec, balance_table, match_controls
from evaluation.comparison.panel import DISTRICT_PROFILES, TurnoutPanel, build_turnout_panel
from evaluation.comparison.placebo import placebo_size, single_pilot_effect
from evaluation.comparison.power import minimum_detectable_effects
from evaluation.comparison.pretrend import pilot_event_study, pretrend_permutation
from evaluation.comparison.randomization import CohortAssignment
from evaluation.comparison.staggered_turnout import callaway_santanna_turnout
from evaluation.comparison.survey import SurveyFrame, cell_event_time
from evaluation.comparison.timing import PilotTiming, pilot_timing
from evaluation.comparison.within import WithinProjector
from evaluation.errors import EstimationError
from evaluation.progress import Stopwatch, progress
from evaluation.units import comparison_register, survey_units

EVENT_COLUMNS = [
    "outcome",
    "sample",
    "method",
    "inference",
    "rel_time",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pretrend_p_value",
    "pretrend_f",
    "pretrend_df",
    "pretrend_p_value_permutation",
    "pretrend_permutation_df",
    "n_placebos",
]
log = logging.getLogger(__name__)

EFFECT_COLUMNS = [
    "estimand",
    "outcome",
    "sample",
    "method",
    "inference",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_obs",
    "n_clusters",
    "n_treated_clusters",
    "suppressed",
]
"""``suppressed``: the figures are withheld because a survey cell of the pilots is below ``disclosure.min_n``."""
BALANCE_COLUMNS = ["variable", "sample", "method", "mean_pilot", "mean_control", "smd", "n_pilots", "n_controls"]


def turnout_problem(panel: TurnoutPanel, triple: str | None = None, within: bool = False) -> DidProblem:
    """TWFE DiD of turnout (pp) with district and election effects, eligible-voter weights.

    With ``triple`` (a district profile, e.g. ``"education"``) the election effects
    are interacted with the ``low_<triple>`` indicator and the regressors are ``D``
    and ``D x low`` (triple difference). ``within`` compares the treated units
    with the rest of their own municipality: municipality x election effects, and
    a randomization test that re-draws the treated units within each municipality.
    """
    d = panel.data
    low = d[f"low_{triple}"].to_numpy() if triple else np.zeros(len(d))
    period = d["election_index"].to_numpy() * (2 if triple else 1) + (low.astype(int) if triple else 0)
    if within:
        period = pd.factorize(pd.MultiIndex.from_arrays([d["municipality_code"].to_numpy(), period]))[0]
    proj = WithinProjector.build(d["area_code"].to_numpy(), period, d["eligible_voters"].to_numpy())
    mult = np.column_stack([np.ones(len(d)), low]) if triple else np.ones((len(d), 1))
    problem = DidProblem(
        proj,
        d["turnout_pp"].to_numpy(),
        d["treated"].to_numpy(),
        mult,
        ("treated", f"treated_x_low_{triple}") if triple else ("treated",),
        d["unit"].to_numpy(),
        panel.exposure(),
        CohortAssignment(panel.units["cohort"].to_numpy(), len(panel.cohort_starts)),
        panel.units["size"].to_numpy(),
    )
    return problem.stratified(panel.units["municipality_code"].to_numpy()) if within else problem


def _did_rows(
    problem: DidProblem, contrasts: dict[str, np.ndarray], outcome: str, kw: dict, method: str = "twfe"
) -> list[dict]:
    fit = problem.fit()
    rows = []
    for estimand, c in contrasts.items():
        for inference, inf in infer(problem, c, fit=fit, **kw).items():
            rows.append(
                inf.tidy(
                    estimand=estimand,
                    outcome=outcome,
                    sample="programme",
                    method=method,
                    inference=inference,
                    n_obs=fit.n_obs,
                    n_clusters=fit.n_clusters,
                    n_treated_clusters=problem.n_treated_clusters,
                )
            )
    return rows


def _turnout_trends(panel: TurnoutPanel) -> pd.DataFrame:
    d = panel.data.assign(votes=lambda x: x["turnout_pp"] * x["eligible_voters"])
    d["role_group"] = np.where(d["pilot_start"].notna(), "pilot", "control")
    by_role = (
        d.groupby(["election_index", "role_group"])
        .agg(votes=("votes", "sum"), eligible=("eligible_voters", "sum"), n_areas=("area_code", "nunique"))
        .reset_index()
    )
    by_role = by_role.rename(columns={"role_group": "group"}).assign(sample="programme")
    pilots = d.loc[d["pilot_start"].notna()]
    by_unit = (
        pilots.groupby(["election_index", "unit_code"])
        .agg(votes=("votes", "sum"), eligible=("eligible_voters", "sum"), n_areas=("area_code", "nunique"))
        .reset_index()
    )
    by_unit = by_unit.rename(columns={"unit_code": "sample"}).assign(group="pilot")
    out = pd.concat([by_role, by_unit], ignore_index=True)
    out["turnout_pp"] = out["votes"] / out["eligible"]
    out = out.merge(panel.elections, on="election_index")
    return out[
        [
            "sample",
            "group",
            "election_index",
            "election_type",
            "election_year",
            "election_date",
            "turnout_pp",
            "eligible",
            "n_areas",
        ]
    ].rename(columns={"group": "role", "eligible": "eligible_voters"})


def _pilot_rows(
    problem: DidProblem,
    timing: TurnoutPanel | PilotTiming,
    outcome: str,
    estimand: str,
    level: float,
    hidden: frozenset[int] = frozenset(),
) -> list[dict]:
    """One effect per treated unit (Conley–Taber–Ferman–Pinto intervals).

    Pilots in ``hidden`` (indices) get a row with ``suppressed = True`` and no figures:
    their estimate would rest on a cell below the disclosure threshold.
    """
    rows = []
    for j in np.flatnonzero(problem.assignment.observed >= 0):
        if not np.any(problem.row_cluster == j):
            continue
        code = timing.units["unit_code"].iloc[j]
        if j in hidden:
            rows.append({"estimand": estimand, "outcome": outcome, "sample": code, "suppressed": True})
            continue
        try:
            inf, n_obs, n_placebo = single_pilot_effect(problem, int(j), level)
        except EstimationError:
            continue
        row = inf.tidy(
            estimand=estimand,
            outcome=outcome,
            sample=code,
            method="twfe",
            inference="permutation",
            n_obs=n_obs,
            n_clusters=n_placebo + 1,
            n_treated_clusters=1,
        )
        row["interval"] = "conley_taber_ferman_pinto"
        row["n_placebos"] = n_placebo
        row["suppressed"] = False
        rows.append(row)
    return rows


def _effect_table(rows: list[dict]) -> pd.DataFrame:
    """Effect rows as a table of :data:`EFFECT_COLUMNS` (rows without ``suppressed`` are published)."""
    table = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    return table.assign(suppressed=table["suppressed"].astype("boolean").fillna(False).astype(bool))


def _smallest_pilot_cell(frame: SurveyFrame, outcome: str, group: str | None = None, value: str | None = None) -> int:
    """Respondents in the smallest wave of all pilots together (of one ``group`` value) who answered ``outcome``."""
    data = frame.data
    pilot = frame.timing.units["cohort"].to_numpy()[data["unit"].to_numpy()] >= 0
    rows = pilot & data[outcome].notna().to_numpy()
    if group is not None:
        rows &= (data[group].astype("string") == value).fillna(False).to_numpy()
    counts = data.loc[rows].groupby("wave").size()
    return int(counts.min()) if len(counts) else 0


def _withheld(rows: list[dict], smallest: int, options: CompareOptions) -> list[dict]:
    """``rows`` with their figures blanked (``suppressed``) when the pilots' smallest cell is below ``options.min_n``."""
    hidden = options.min_n is not None and smallest < options.min_n
    blank = dict.fromkeys(("estimate", "se", "ci_low", "ci_high", "p_value"), np.nan)
    return [{**row, **(blank if hidden else {}), "suppressed": hidden} for row in rows]


def _small_pilots(frame: SurveyFrame, outcome: str, min_n: int | None) -> frozenset[int]:
    """Pilot units with a unit x wave cell of fewer than ``min_n`` respondents for ``outcome``."""
    if min_n is None:
        return frozenset()
    smallest = frame.cells(outcome).groupby("unit")["respondents"].min()
    return frozenset(int(j) for j in smallest.index[smallest < min_n])


def part_rng(seed: int, part: str) -> np.random.Generator:
    """The random stream of one part (``"turnout"`` or a survey outcome): the same whichever job computes it."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def survey_shard(outcomes: Mapping[str, str], shard: int, n_shards: int) -> dict[str, str]:
    """The survey outcomes (name -> kind, in codebook order) compared by job ``shard`` (1-based) of ``n_shards``.

    Shards take every ``n_shards``-th outcome, so :func:`gather` can restore the
    codebook order from the shards' own orders.
    """
    return dict(list(outcomes.items())[shard - 1 :: n_shards])


def compare(
    turnout: pd.DataFrame | None,
    areas: pd.DataFrame,
    survey: pd.DataFrame | None = None,
    *,
    outcomes: Mapping[str, str] | None = None,
    gaps: Mapping[str, tuple[str, str]] | None = None,
    references: Mapping[str, Sequence[np.datetime64]] | None = None,
    seed: int = 0,
    blas_threads: int | None = 1,
    **options,
) -> dict[str, pd.DataFrame]:
    """Compare pilot with control municipalities: every part in this process, gathered.

    The stage splits the same work into jobs (:func:`compare_turnout`, one
    :func:`compare_survey` per shard of outcomes, :func:`gather`); every part
    draws from its own stream (:func:`part_rng`), so the tables are the same
    however the work is split.

    Parameters
    ----------
    turnout : pd.DataFrame or None
        Canonical ``turnout`` table; None compares the survey only.
    areas : pd.DataFrame
        Canonical ``areas`` table (the source of treatment).
    survey : pd.DataFrame, optional
        Canonical ``survey`` table; adds survey outcomes.
    outcomes : mapping of str to str
        With ``survey``: the outcomes to compare, in order, each with its kind
        (``binary`` or ``scale``), e.g. from ``config/variables.yaml``.
    gaps : mapping of str to (str, str), optional
        With ``survey``: group variable -> the groups ``(a, b)`` whose gap ``a - b`` is compared.
    references : mapping of str to dates, optional
        With ``survey``: outcome -> the dates of the events its item asks about (see :meth:`SurveyFrame.build`).
    seed : int
        Seed of all randomness.
    blas_threads : int or None
        BLAS threads while comparing (see :mod:`evaluation.comparison.blas`);
        None leaves the thread pool alone.
    **options
        ``n_permutations``, ``n_bootstrap``, ``level``, ``n_placebo_replications``,
        ``n_placebo_draws``, ``n_power_draws``, ``matching`` (see :class:`CompareOptions`).

    Returns
    -------
    dict of pd.DataFrame
        ``effects``, ``event_study``, ``pilot_effects``, ``turnout_trends``,
        ``placebo_size``, ``power``, ``balance`` (see docs/comparison.md).  Turnout effects
        are in percentage points, survey scales in scale points, binary items
        in percentage points.
    """
    opts = CompareOptions(**options)
    if survey is not None and not outcomes:
        raise ValueError("compare: a survey needs outcomes (name -> 'binary' or 'scale') to compare")
    if turnout is None and survey is None:
        raise ValueError("compare: nothing to compare without turnout or a survey")
    with limit_blas_threads(blas_threads):
        parts = [] if turnout is None else [compare_turnout(turnout, areas, seed=seed, options=opts)]
        if survey is not None:
            parts.append(
                compare_survey(areas, survey, outcomes, seed=seed, options=opts, gaps=gaps, references=references)
            )
    return gather(parts)


@dataclass(frozen=True)
class SensitivitySpec:
    """Grids of the parallel-trends sensitivity of the turnout effect (config section ``compare.sensitivity``).

    ``mbar``: relative-magnitude bounds (post-period changes of the trend
    difference at most ``Mbar`` times the largest pre-period change);
    ``m``: smoothness bounds in percentage points (the slope of the trend
    difference changes by at most ``M`` per election); ``grid_points``: the
    turnout values the relative-magnitude test is inverted over.  The schema
    holds the defaults.
    """

    mbar: tuple[float, ...]
    m: tuple[float, ...]
    grid_points: int

    @classmethod
    def from_config(cls, settings: Mapping) -> SensitivitySpec:
        """From the schema-filled ``compare.sensitivity`` mapping."""
        return cls(tuple(map(float, settings["mbar"])), tuple(map(float, settings["m"])), int(settings["grid_points"]))


@dataclass(frozen=True)
class CompareOptions:
    """Numbers of draws, interval level and matching of the comparison.

    ``n_permutations`` and ``n_bootstrap`` are the randomization and
    wild-bootstrap draws; ``n_placebo_replications`` and ``n_placebo_draws``
    the fake-pilot replications of the placebo-size check and the draws each
    of its tests uses; ``n_power_draws`` the fake-pilot draws per number of
    pilots in the power table; ``matching`` how to choose matched controls
    (default: 3 nearest neighbours without replacement on pre-period turnout
    level and trend and the socioeconomic profile); ``min_n`` the disclosure
    threshold for per-pilot survey effects (None: no disclosure control), so that
    no published pilot effect rests on a unit x wave cell below it;
    ``treated_unit`` the level at which pilots were assigned and ``comparisons``
    the comparisons made (``across``, ``within``; see
    :mod:`evaluation.units`); ``sensitivity`` the grids of the parallel-trends
    sensitivity table (None: the table is left empty).
    """

    n_permutations: int = 999
    n_bootstrap: int = 999
    level: float = 0.95
    n_placebo_replications: int = 100
    n_placebo_draws: int = 199
    n_power_draws: int = 299
    matching: MatchingSpec | None = None
    min_n: int | None = None
    treated_unit: str = "municipality"
    comparisons: tuple[str, ...] = ("across",)
    sensitivity: SensitivitySpec | None = None

    def inference_kw(self, rng: np.random.Generator) -> dict:
        """Keyword arguments of :func:`evaluation.comparison.did.infer`."""
        return dict(n_permutations=self.n_permutations, n_bootstrap=self.n_bootstrap, level=self.level, rng=rng)


def _pilot_panel(turnout: pd.DataFrame, areas: pd.DataFrame, treated_unit: str) -> TurnoutPanel:
    """The turnout panel of the districts in ``areas`` (the register, or the part a comparison uses)."""
    kept = turnout[turnout["area_code"].astype(str).isin(areas["area_code"].astype(str))]
    panel = build_turnout_panel(kept, areas, treated_unit)
    if panel.n_pilot_units == 0:
        raise EstimationError("compare: no pilot area in the register (role == 'pilot')")
    return panel


def compare_turnout(
    turnout: pd.DataFrame, areas: pd.DataFrame, *, seed: int, options: CompareOptions
) -> dict[str, pd.DataFrame]:
    """The turnout part of each comparison of ``options.comparisons`` (``across`` and/or ``within``).

    The across comparison gives every table (see :func:`compare_across_turnout`); the
    within comparison adds its DiD rows (method ``twfe_within``) to ``effects``.
    """
    if "across" in options.comparisons:
        tables = compare_across_turnout(
            turnout, comparison_register(areas, "across", options.treated_unit), seed, options
        )
    else:  # the across comparison's tables, empty
        tables = {name: pd.DataFrame(columns=columns) for name, columns in EMPTY_TURNOUT_TABLES.items()}
        tables["effects"] = _effect_table([])
    if "within" in options.comparisons:
        register = comparison_register(areas, "within", options.treated_unit)
        within = _part_rows(
            lambda: turnout_problem(_pilot_panel(turnout, register, options.treated_unit), within=True),
            "att_turnout",
            "turnout",
            "turnout/within",
            seed,
            options,
            method="twfe_within",
        )
        tables["effects"] = _effect_table([*tables["effects"].to_dict("records"), *within])
    return tables


PILOT_EFFECT_COLUMNS = [*EFFECT_COLUMNS[:-1], "interval", "n_placebos", "suppressed"]
SENSITIVITY_COLUMNS = [
    "outcome",
    "sample",
    "estimator",
    "inference",
    "target",
    "kind",
    "method",
    "m",
    "estimate",
    "conf_low",
    "conf_high",
    "open_low",
    "open_high",
    "breakdown",
    "breakdown_beyond_grid",
    "grid_max",
    "num_pre",
    "num_post",
    "n_clusters",
    "level",
]
"""``sensitivity.csv``: one row for the original interval (``kind`` ``original``), one per bound ``m`` of each
``kind`` (``relative_magnitude``: ``Mbar``; ``smoothness``: ``M`` in pp); ``breakdown`` the smallest ``m`` whose
interval contains 0 (empty and ``breakdown_beyond_grid`` when none on the grid, up to ``grid_max``)."""
EMPTY_TURNOUT_TABLES = {
    "event_study": EVENT_COLUMNS,
    "pilot_effects": PILOT_EFFECT_COLUMNS,
    "turnout_trends": ["sample", "role", "election_index", "election_type", "election_year", "election_date"]
    + ["turnout_pp", "eligible_voters", "n_areas"],
    "placebo_size": ["inference", "rejection_rate", "mc_se", "n_replications", "alpha", "n_fake_pilots", "n_draws"]
    + ["estimand", "outcome", "method"],
    "power": ["n_pilots", "sd_placebo", "mde", "alpha", "power", "n_draws", "outcome"],
    "balance": BALANCE_COLUMNS,
    "sensitivity": SENSITIVITY_COLUMNS,
}
"""The columns of the across comparison's turnout tables, written empty when only ``within`` is compared."""


def compare_across_turnout(
    turnout: pd.DataFrame, areas: pd.DataFrame, seed: int, options: CompareOptions
) -> dict[str, pd.DataFrame]:
    """Pilot units against the controls of ``areas``: DiD, triple difference, staggered estimators, event studies,
    pilots, placebo size, power, matching."""
    panel = _pilot_panel(turnout, areas, options.treated_unit)
    clock = Stopwatch("compare turnout", log)
    rng = part_rng(seed, "turnout")
    kw = options.inference_kw(rng)
    level, n_permutations = options.level, options.n_permutations
    base = turnout_problem(panel)
    effects = _turnout_rows(base, kw)
    profiles = [name for name in DISTRICT_PROFILES if f"low_{name}" in panel.data]
    # education on the turnout stream, as before any other profile existed; the others on streams of their own
    effects += _triple_rows(panel, "education", kw) if "education" in profiles else []
    same_day = panel.elections["election_date"].duplicated().any()
    if same_day:  # its periods must be ordered in time; same-day elections are not
        log.warning("turnout: elections share a day, so Callaway-Sant'Anna is left out (TWFE and event study are not)")
        cs_rows, cs_es = [], pd.DataFrame(columns=EVENT_COLUMNS)
    else:
        cs_rows, cs_es = callaway_santanna_turnout(panel, n_permutations, level, rng)
    effects += cs_rows
    clock.step(f"DiD, triple differences and Callaway-Sant'Anna ({len(effects)} rows)")
    event, coefficients = _turnout_event_study(panel, base, cs_es, level, n_permutations, rng)
    sensitivity_table = _sensitivity_table(coefficients, options.sensitivity, level)
    pilot_rows = _pilot_rows(base, panel, "turnout", "att_turnout", level)
    n_controls = int((base.assignment.observed < 0).sum())
    sizes = sorted({1, 2, 3, 5, base.n_treated_clusters, 10, 15, 20} & set(range(1, n_controls // 2 + 1)))
    clock.step("event studies and pilot effects")
    placebo = _placebo_size(base, options.n_placebo_replications, options.n_placebo_draws, rng)
    power = _power(base, sizes, options.n_power_draws, rng)
    clock.step(f"placebo size ({options.n_placebo_replications} replications) and power")
    matched, balance = _matched_rows(panel, areas, base, options.matching or MatchingSpec(), kw)
    effects += matched
    for profile in (name for name in profiles if name != "education"):
        effects += _triple_rows(panel, profile, options.inference_kw(part_rng(seed, f"turnout/triple/{profile}")))
    effects += _turnout_group_rows(turnout, areas, seed, options)
    effects += _election_type_rows(turnout, areas, seed, options)
    effects += _during_after_turnout_rows(panel, seed, options)
    clock.step(f"matching, pilot types, election types and pilot periods ({len(effects)} rows)")
    return {
        "effects": _effect_table(effects),
        "event_study": pd.concat([event, _pilot_event_studies(panel, base, level)], ignore_index=True),
        "pilot_effects": pd.DataFrame(pilot_rows),
        "turnout_trends": _turnout_trends(panel),
        "placebo_size": placebo,
        "power": power,
        "balance": balance,
        "sensitivity": sensitivity_table,
    }


def compare_survey(
    areas: pd.DataFrame,
    survey: pd.DataFrame,
    outcomes: Mapping[str, str],
    *,
    seed: int,
    options: CompareOptions,
    gaps: Mapping[str, tuple[str, str]] | None = None,
    references: Mapping[str, Sequence[np.datetime64]] | None = None,
) -> dict[str, pd.DataFrame]:
    """The survey part for ``outcomes`` (name -> kind): cell, panel and gap DiDs, event studies, pilots.

    ``gaps`` maps group variables to the pair of groups whose gap is compared (``a``
    minus ``b``, as ``variables.yaml`` declares them); None compares no gap.
    ``references`` gives, for items about an earlier event, the dates of those events
    (see :meth:`SurveyFrame.build`).

    Treatment timing comes from the area register alone, so a survey is compared
    without turnout data. The table ``outcomes`` lists the outcomes in order, for
    :func:`gather`.
    """
    units = survey_units(survey, areas, options.treated_unit)
    effects, pilot_rows, event = [], [], []
    if "across" in options.comparisons:
        register = comparison_register(areas, "across", options.treated_unit)
        frame = _survey_frame(register, survey, units, outcomes, references, options.treated_unit)
        group_frames = {
            group: _survey_frame(cut, survey, units, outcomes, references, options.treated_unit)
            for group, cut in pilot_group_registers(register).items()
        }
        first_start = frame.timing.cohort_starts.min().to_datetime64()
    if "within" in options.comparisons:
        register = comparison_register(areas, "within", options.treated_unit)
        within = _survey_frame(register, survey, units, outcomes, references, options.treated_unit)
    for outcome in progress(outcomes, "compare survey: outcome", log):
        if "across" in options.comparisons:
            rng = part_rng(seed, outcome)
            kw = options.inference_kw(rng)
            smallest = _smallest_pilot_cell(frame, outcome)
            effects += _withheld(
                _survey_rows(frame, outcome, kw) + _respondent_fe_rows(frame, outcome, kw), smallest, options
            )
            hidden = _small_pilots(frame, outcome, options.min_n)
            problem = frame.cell_problem(outcome)
            pilot_rows += _pilot_rows(problem, frame.timing, outcome, f"att_{outcome}", options.level, hidden)
            effects += _gap_rows(frame, outcome, gaps or {}, seed, options)
            effects += _group_rows(group_frames, outcome, seed, options)
            effects += _during_after_survey_rows(frame, outcome, seed, options)
            event.append(_survey_event_study(frame, outcome, first_start, options.level, options.n_permutations, rng))
        if "within" in options.comparisons:
            estimated = _part_rows(
                lambda outcome=outcome: within.cell_problem(outcome, within=True),
                f"att_{outcome}",
                outcome,
                f"{outcome}/within",
                seed,
                options,
                method="twfe_within",
            )
            effects += _withheld(estimated, _smallest_pilot_cell(within, outcome), options)
    return {
        "effects": _effect_table(effects),
        "event_study": pd.concat(event, ignore_index=True) if event else pd.DataFrame(columns=EVENT_COLUMNS),
        "pilot_effects": pd.DataFrame(pilot_rows, columns=PILOT_EFFECT_COLUMNS if not pilot_rows else None),
        "outcomes": pd.DataFrame({"outcome": list(outcomes)}, dtype=object),
    }


def _survey_frame(
    register: pd.DataFrame,
    survey: pd.DataFrame,
    units: pd.Series,
    outcomes: Mapping[str, str],
    references: Mapping[str, Sequence[np.datetime64]] | None,
    treated_unit: str,
) -> SurveyFrame:
    """The respondents of the units of ``register`` (a comparison's part of the area register), with their timing.

    Raises
    ------
    EstimationError
        When the register part has no pilot unit.
    """
    timing = pilot_timing(register, treated_unit)
    if not (timing.units["cohort"] >= 0).any():
        raise EstimationError("compare: no pilot area in the register (role == 'pilot')")
    keep = units.isin(timing.units["unit_code"]).to_numpy()
    return SurveyFrame.build(survey[keep], timing, outcomes, references, units[keep])


def gather(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """One set of tables from the parts, the same for any split of the survey outcomes.

    ``parts`` are the turnout part (if turnout was compared) and the survey parts
    (those with an ``outcomes`` table) in shard order. Row tables are
    concatenated, turnout rows first, then the survey outcomes in codebook order
    (each outcome's rows in the order its part wrote them); the other tables come
    from the turnout part. The survey parts' ``outcomes`` tables, interleaved as
    :func:`survey_shard` split them, give the codebook order.
    """
    turnout = [p for p in parts if "outcomes" not in p]
    surveys = [p for p in parts if "outcomes" in p]
    out = {name: table for part in turnout for name, table in part.items()}
    shards = [list(part["outcomes"]["outcome"]) for part in surveys]
    order = [shard[k] for k in range(max(map(len, shards), default=0)) for shard in shards if k < len(shard)]
    rank = {outcome: k for k, outcome in enumerate(order)}
    for name in ("effects", "event_study", "pilot_effects"):
        tables = [part[name] for part in [*turnout, *surveys] if name in part]
        rows = pd.concat([t for t in tables if not t.empty] or tables[:1], ignore_index=True)
        position = rows["outcome"].map(rank).fillna(-1).to_numpy() if "outcome" in rows else np.zeros(len(rows))
        out[name] = rows.iloc[np.argsort(position, kind="stable")].reset_index(drop=True)
    out["event_study"] = out["event_study"][[c for c in EVENT_COLUMNS if c in out["event_study"].columns]]
    return out


def _turnout_rows(base: DidProblem, kw: dict) -> list[dict]:
    """Headline turnout DiD."""
    return _did_rows(base, {"att_turnout": np.array([1.0])}, "turnout", kw)


def _triple_rows(panel: TurnoutPanel, profile: str, kw: dict) -> list[dict]:
    """Triple difference by a district profile (its low tercile against the rest), e.g. ``education``."""
    try:
        problem = turnout_problem(panel, triple=profile)
        return _did_rows(
            problem,
            {
                f"att_turnout_low_{profile}": np.array([1.0, 1.0]),
                f"att_turnout_other_{profile}": np.array([1.0, 0.0]),
                f"gap_change_low_vs_high_{profile}": np.array([0.0, 1.0]),
            },
            "turnout",
            kw,
        )
    except EstimationError as exc:  # e.g. no pilot district in the low tercile
        log.warning("turnout triple difference by %s: not estimated (%s)", profile, exc)
        return []


def _turnout_event_study(
    panel: TurnoutPanel, base: DidProblem, cs_es: pd.DataFrame, level: float, n_draws: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, EventStudyCoefficients]:
    """Programme event studies (TWFE with CRV1 and permutation pre-trend tests; Callaway-Sant'Anna), and the
    TWFE coefficients with their covariance."""
    d = panel.data
    es, coefficients = event_study_fit(
        base.projector, d["turnout_pp"].to_numpy(), d["rel_time"].to_numpy(), d["unit_code"].to_numpy(), level
    )
    p, df = pretrend_permutation(
        base, d["election_date"].to_numpy("datetime64[ns]"), panel.cohort_starts.min().to_datetime64(), n_draws, rng
    )
    es = es.assign(method="twfe", inference="crv1", pretrend_p_value_permutation=p, pretrend_permutation_df=df)
    event = pd.concat([es, cs_es.assign(inference="influence_function")], ignore_index=True)
    return event.assign(outcome="turnout", sample="programme"), coefficients


SENSITIVITY_GRID_WIDENINGS = 4
"""How often the relative-magnitude grid is doubled when an interval reaches its edge."""


def _sensitivity_table(coefs: EventStudyCoefficients, spec: SensitivitySpec | None, level: float) -> pd.DataFrame:
    """Sensitivity of the programme turnout effect to violations of parallel trends (``sensitivity.csv``).

    The target is the average of the TWFE event study's post-period
    coefficients (the first treated election and after, each election equally),
    in percentage points, with the event study's CRV1 covariance.  Relative
    magnitudes use the ARP conditional test (deterministic), smoothness the
    optimal FLCI; see :mod:`evaluation.comparison.sensitivity`.  The turnout
    grid is centred on the estimate, wide enough for the largest ``Mbar``
    (HonestDiD's default ``+- 20`` standard errors around 0 would cut off an
    effect many standard errors from 0), and doubled while an interval reaches
    its edge.
    """
    if spec is None or coefs.num_pre < 1 or coefs.num_post < 1:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    alpha = 1 - level
    npre, npost = coefs.num_pre, coefs.num_post
    l_vec = np.full(npost, 1 / npost)
    args = (coefs.coef, coefs.cov, npre, npost)
    original = sensitivity.original_ci(*args, l_vec=l_vec, alpha=alpha)
    sd_theta = float(np.sqrt(l_vec @ coefs.cov[npre:, npre:] @ l_vec))
    pre = np.concatenate([coefs.coef[:npre], [0.0]])
    change = np.diff(pre)
    change_se = np.sqrt([coefs.cov[i, i] + coefs.cov[i - 1, i - 1] - 2 * coefs.cov[i, i - 1] for i in range(1, npre)])
    change_bound = np.max(np.abs(change) + 4 * np.concatenate([change_se, [np.sqrt(coefs.cov[npre - 1, npre - 1])]]))
    drift = max(spec.mbar) * change_bound * float(np.arange(1, npost + 1) @ np.abs(l_vec))
    half = 20 * sd_theta + drift
    for _ in range(SENSITIVITY_GRID_WIDENINGS + 1):
        rm = sensitivity.relative_magnitude_bounds(
            *args,
            mbar=spec.mbar,
            l_vec=l_vec,
            alpha=alpha,
            grid_points=spec.grid_points,
            grid_lb=original.estimate - half,
            grid_ub=original.estimate + half,
            search="bisect",
        )
        if not (rm.open_low.any() or rm.open_high.any()):
            break
        half *= 2
    sd = sensitivity.smoothness_bounds(*args, m=spec.m, l_vec=l_vec, alpha=alpha, method="FLCI")
    rows = [
        {
            "kind": "original",
            "method": "normal",
            "m": np.nan,
            "estimate": original.estimate,
            "conf_low": original.conf_low,
            "conf_high": original.conf_high,
            "open_low": False,
            "open_high": False,
        }
    ]
    for result in (rm, sd):
        tidy = result.tidy()
        breakdown = result.breakdown()
        tidy["estimate"] = original.estimate
        tidy["breakdown"] = breakdown.value
        tidy["breakdown_beyond_grid"] = breakdown.beyond_grid
        tidy["grid_max"] = breakdown.grid_max
        rows += tidy.to_dict("records")
    table = pd.DataFrame(rows).assign(
        outcome="turnout",
        sample="programme",
        estimator="twfe",
        inference="crv1",
        target="mean_post",
        num_pre=npre,
        num_post=npost,
        n_clusters=coefs.n_clusters,
        level=level,
    )
    return table[SENSITIVITY_COLUMNS]


def pilot_group_registers(areas: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The area register cut to the controls and one group of pilots: ``type_<pilot_type>`` and ``cohort_<year>``.

    Each cut is compared as a programme of its own, with the same estimator and
    inference as the whole programme. Types are split when there are two or more;
    cohorts (pilot start dates, named by year, or by date when two start in one
    year) likewise.
    """
    pilot = areas["role"].astype(str).eq("pilot")
    groups = {}
    if "pilot_type" in areas:
        types = sorted(areas.loc[pilot, "pilot_type"].dropna().astype(str).unique())
        if len(types) >= 2:
            groups |= {f"type_{t}": areas[~pilot | areas["pilot_type"].astype(str).eq(t)] for t in types}
    start = pd.to_datetime(areas["pilot_start"], errors="coerce").where(pilot)
    starts = sorted(start.dropna().unique())
    if len(starts) >= 2:
        years = [pd.Timestamp(s).year for s in starts]
        by_year = len(set(years)) == len(years)
        for s, year in zip(starts, years, strict=True):
            label = str(year) if by_year else pd.Timestamp(s).date().isoformat()
            groups[f"cohort_{label}"] = areas[~pilot | start.eq(s)]
    return groups


def _stream(outcome: str, group: str) -> str:
    """The random stream of one pilot group's estimand, e.g. ``turnout/type/youth_council``."""
    kind, _, name = group.partition("_")
    return f"{outcome}/{kind}/{name}"


def _turnout_group_rows(turnout: pd.DataFrame, areas: pd.DataFrame, seed: int, options: CompareOptions) -> list[dict]:
    """Turnout DiD for the pilots of each type and of each cohort against all controls."""
    rows = []
    for group, register in pilot_group_registers(areas).items():
        problem = lambda register=register: turnout_problem(_pilot_panel(turnout, register, options.treated_unit))  # noqa: E731
        rows += _part_rows(problem, f"att_turnout_{group}", "turnout", _stream("turnout", group), seed, options)
    return rows


def _during_after_turnout_rows(panel: TurnoutPanel, seed: int, options: CompareOptions) -> list[dict]:
    """With pilots that have ended: the turnout DiD during the pilots and after their end, separately.

    ``att_turnout_during`` leaves out the elections after a pilot's end;
    ``att_turnout_after`` leaves out the treated elections before it (and those of
    pilots still running), so it compares the pilots' elections after the end with
    their elections before the start.
    """
    d = panel.data
    after = d["pilot_end"].notna().to_numpy() & (d["election_date"] > d["pilot_end"]).to_numpy()
    if not after.any():
        return []
    during = (d["treated"].to_numpy() > 0) & ~after
    rows = []
    for period, keep in (("during", ~after), ("after", ~during)):
        part = replace(panel, data=d.loc[keep].reset_index(drop=True))
        rows += _part_rows(
            lambda part=part: turnout_problem(part),
            f"att_turnout_{period}",
            "turnout",
            f"turnout/{period}",
            seed,
            options,
        )
    return rows


def _election_type_rows(turnout: pd.DataFrame, areas: pd.DataFrame, seed: int, options: CompareOptions) -> list[dict]:
    """With two or more election types: the turnout DiD of each type's elections alone (``att_turnout_election_<type>``)."""
    types = sorted(turnout["election_type"].dropna().astype(str).unique())
    if len(types) < 2:
        return []
    rows = []
    for election_type in types:
        kept = turnout[turnout["election_type"].astype(str) == election_type]
        problem = lambda kept=kept: turnout_problem(_pilot_panel(kept, areas, options.treated_unit))  # noqa: E731
        rows += _part_rows(
            problem,
            f"att_turnout_election_{election_type}",
            "turnout",
            f"turnout/election/{election_type}",
            seed,
            options,
        )
    return rows


def _during_after_survey_rows(frame: SurveyFrame, outcome: str, seed: int, options: CompareOptions) -> list[dict]:
    """With pilots that have ended: the survey DiD of ``outcome`` during the pilots and after their end."""
    after = frame.after_end(outcome)
    if not after.any():
        return []
    treated, _ = frame._exposure(frame.data, outcome)
    during = (treated > 0) & ~after
    rows = []
    for period, keep in (("during", ~after), ("after", ~during)):
        part = replace(frame, data=frame.data.loc[keep])
        estimated = _part_rows(
            lambda part=part: part.cell_problem(outcome),
            f"att_{outcome}_{period}",
            outcome,
            f"{outcome}/{period}",
            seed,
            options,
        )
        rows += _withheld(estimated, _smallest_pilot_cell(part, outcome), options)
    return rows


def _group_rows(frames: dict[str, SurveyFrame], outcome: str, seed: int, options: CompareOptions) -> list[dict]:
    """Cell-level survey DiD of ``outcome`` for the pilots of each type and of each cohort against all controls."""
    rows = []
    for group, frame in frames.items():
        problem = lambda frame=frame: frame.cell_problem(outcome)  # noqa: E731
        estimated = _part_rows(problem, f"att_{outcome}_{group}", outcome, _stream(outcome, group), seed, options)
        rows += _withheld(estimated, _smallest_pilot_cell(frame, outcome), options)
    return rows


def _part_rows(
    problem: Callable[[], DidProblem],
    estimand: str,
    outcome: str,
    stream: str,
    seed: int,
    options: CompareOptions,
    method: str = "twfe",
) -> list[dict]:
    """The rows of one extra estimand, with the programme's inference on a random stream of its own.

    The stream is ``part_rng(seed, stream)``, so adding an estimand changes no other
    row. When the problem cannot be estimated (e.g. no treated period left), the
    estimand is logged and left out.
    """
    kw = options.inference_kw(part_rng(seed, stream))
    try:
        return _did_rows(problem(), {estimand: np.ones(1)}, outcome, kw, method)
    except EstimationError as exc:
        log.warning("%s: %s not estimated (%s)", outcome, estimand, exc)
        return []


def _survey_rows(frame: SurveyFrame, outcome: str, kw: dict) -> list[dict]:
    """Cell-level survey DiD."""
    return _did_rows(frame.cell_problem(outcome), {f"att_{outcome}": np.array([1.0])}, outcome, kw)


def _placebo_size(base: DidProblem, n_replications: int, n_draws: int, rng: np.random.Generator) -> pd.DataFrame:
    """Placebo-size check of the headline turnout DiD."""
    return placebo_size(base, n_replications=n_replications, n_draws=n_draws, rng=rng).assign(
        estimand="att_turnout", outcome="turnout", method="twfe"
    )


def _power(base: DidProblem, sizes: list[int], n_draws: int, rng: np.random.Generator) -> pd.DataFrame:
    """Minimum detectable turnout effects by number of pilots."""
    return minimum_detectable_effects(base, sizes, n_draws=n_draws, rng=rng).assign(outcome="turnout")


def _respondent_fe_rows(frame: SurveyFrame, outcome: str, kw: dict) -> list[dict]:
    """Panel DiD with respondent fixed effects: CRV1, CRV3, WCR and permutation rows."""
    try:
        problem = frame.respondent_problem(outcome)
        fit = problem.fit()
    except EstimationError:
        return []
    return [
        inf.tidy(
            estimand=f"att_{outcome}",
            outcome=outcome,
            sample="programme",
            method="twfe_respondent_fe",
            inference=m,
            n_obs=fit.n_obs,
            n_clusters=fit.n_clusters,
            n_treated_clusters=problem.n_treated_clusters,
        )
        for m, inf in infer(problem, np.array([1.0]), fit=fit, **kw).items()
    ]


def _matched_rows(
    panel: TurnoutPanel, areas: pd.DataFrame, base: DidProblem, spec: MatchingSpec, kw: dict
) -> tuple[list[dict], pd.DataFrame]:
    """Headline turnout DiD on the matched sample (method ``twfe_matched``) and the balance table.

    Matching is a robustness check: when it cannot be done (e.g. too few controls for
    the requested neighbours without replacement) the stage logs why and goes on.
    """
    try:
        match = match_controls(panel, areas, spec)
    except EstimationError as exc:
        log.warning("matched comparison skipped: %s", exc)
        return [], pd.DataFrame(columns=BALANCE_COLUMNS)
    pilot = base.assignment.observed >= 0
    balance = balance_table(match, pilot, spec.method)
    return _did_rows(
        base.reweighted(match.weights), {"att_turnout": np.array([1.0])}, "turnout", kw, "twfe_matched"
    ), balance


def _gap_rows(
    frame: SurveyFrame, outcome: str, gaps: Mapping[str, tuple[str, str]], seed: int, options: CompareOptions
) -> list[dict]:
    """Triple difference for each declared gap ``(a, b)`` of a group variable: ``gap_change_<outcome>_<b>_vs_<a>``.

    The estimate is the change in the ``b - a`` gap caused by the pilots (see
    :meth:`SurveyFrame.gap_problem`); each gap draws from its own random stream.
    """
    rows = []
    for group_variable, (high, low) in gaps.items():
        try:
            problem = frame.gap_problem(outcome, group_variable, low=low, high=high)
        except EstimationError as exc:  # no such column, or no cell of one of the groups
            log.warning("%s: no %s gap estimated (%s)", outcome, group_variable, exc)
            continue
        kw = options.inference_kw(part_rng(seed, f"{outcome}/gap/{group_variable}"))
        gap = _did_rows(problem, {f"gap_change_{outcome}_{low}_vs_{high}": np.array([0.0, 1.0])}, outcome, kw)
        smallest = min(_smallest_pilot_cell(frame, outcome, group_variable, value) for value in (low, high))
        rows += _withheld(gap, smallest, options)
    return rows


def _survey_event_study(
    frame: SurveyFrame, outcome: str, first_start: np.datetime64, level: float, n_draws: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Event study on unit x wave cells (waves since the first treated wave) with both pre-trend tests."""
    cells = frame.cells(outcome)
    problem = frame.cell_problem(outcome)
    es = event_study(problem.projector, problem.y, cell_event_time(cells), problem.row_cluster, level)
    wave_date = frame.data.groupby("wave")["interview_date"].min()
    p, df = pretrend_permutation(
        problem, cells["wave"].map(wave_date).to_numpy("datetime64[ns]"), first_start, n_draws, rng
    )
    return es.assign(
        outcome=outcome,
        sample="programme",
        method="twfe",
        inference="crv1",
        pretrend_p_value_permutation=p,
        pretrend_permutation_df=df,
    )


def _pilot_event_studies(panel: TurnoutPanel, base: DidProblem, level: float) -> pd.DataFrame:
    """Per-pilot turnout event studies (``sample`` = the treated unit's code) with Conley-Taber-FP intervals."""
    d = panel.data
    first = np.searchsorted(
        panel.elections["election_date"].to_numpy("datetime64[ns]"), panel.cohort_starts.to_numpy("datetime64[ns]")
    )
    out = []
    for j in np.flatnonzero(base.assignment.observed >= 0):
        if not np.any(base.row_cluster == j):
            continue
        es = pilot_event_study(base, d["rel_time"].to_numpy(), d["election_index"].to_numpy(), int(j), first, level)
        out.append(
            es.assign(
                outcome="turnout",
                sample=panel.units["unit_code"].iloc[j],
                method="twfe",
                inference="conley_taber_ferman_pinto",
            )
        )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
