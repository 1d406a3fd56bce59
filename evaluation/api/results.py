"""Result objects of :mod:`evaluation.api`: they own their tidy table, summary text and figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.comparison.inference import Inference
from evaluation.comparison.staggered import UniformBand, uniform_band

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TIDY_COLUMNS = ("term", "estimate", "std_error", "conf_low", "conf_high", "p_value", "inference")
BANDS = ("pointwise", "uniform")
MULTIPLIERS = ("rademacher", "mammen")
UNIFORM = "uniform band (multiplier bootstrap)"


def tidy_row(term: str, inference: Inference, method: str) -> dict:
    """One row of a tidy table."""
    return {
        "term": term,
        "estimate": inference.estimate,
        "std_error": inference.se,
        "conf_low": inference.ci_low,
        "conf_high": inference.ci_high,
        "p_value": inference.p_value,
        "inference": method,
    }


def tidy_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with exactly :data:`TIDY_COLUMNS`."""
    return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))


def _text(title: str, table: pd.DataFrame, notes: dict[str, object]) -> str:
    body = table.to_string(index=False, float_format=lambda v: f"{v:.6g}")
    facts = "\n".join(f"{k}: {v}" for k, v in notes.items())
    return f"{title}\n{'=' * len(title)}\n{body}\n\n{facts}"


def _errorbar(table: pd.DataFrame, x: np.ndarray, title: str, xlabel: str, ylabel: str) -> Figure:
    from matplotlib.figure import Figure  # imported when a figure is drawn: the stages that use results do not draw

    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    low = table["estimate"] - table["conf_low"]
    high = table["conf_high"] - table["estimate"]
    ax.errorbar(x, table["estimate"], yerr=np.vstack([low, high]), fmt="o", capsize=3)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


@dataclass(frozen=True)
class DidResult:
    """Two-way fixed-effects DiD: one estimate, one row per inference method.

    Attributes
    ----------
    table : pd.DataFrame
        The tidy rows (see :meth:`tidy`).
    notes : dict
        Sample sizes and settings shown by :meth:`summary`.
    """

    table: pd.DataFrame
    notes: dict = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """``term, estimate, std_error, conf_low, conf_high, p_value, inference``; one row per method."""
        return self.table.copy()

    def summary(self) -> str:
        """Readable text: the tidy table and the sample."""
        return _text("Difference-in-differences (TWFE, unit and time effects)", self.table, self.notes)

    def plot(self) -> Figure:
        """The estimate with each method's interval."""
        fig = _errorbar(self.table, np.arange(len(self.table)), "TWFE DiD", "", str(self.table["term"].iloc[0]))
        ax = fig.axes[0]
        ax.set_xticks(np.arange(len(self.table)), self.table["inference"])
        return fig


@dataclass(frozen=True)
class EventStudyResult:
    """Event-study coefficients by event time (the reference period omitted) and the joint pre-trend test."""

    table: pd.DataFrame
    event_times: np.ndarray
    ref: int
    pretrend: dict
    notes: dict = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """One row per event time other than ``ref`` (term ``event_time=<k>``)."""
        return self.table.copy()

    def summary(self) -> str:
        """Readable text with the pre-trend F test."""
        notes = {**self.notes, "pre-trend test (all leads = 0)": self.pretrend}
        return _text("Event study (TWFE, unit and time effects)", self.table, notes)

    def plot(self) -> Figure:
        """Coefficients against event time, the reference period drawn at 0."""
        order = np.argsort(np.append(self.event_times, self.ref))
        table = pd.concat(
            [self.table, pd.DataFrame([{"estimate": 0.0, "conf_low": 0.0, "conf_high": 0.0}])], ignore_index=True
        ).iloc[order]
        x = np.append(self.event_times, self.ref)[order]
        return _errorbar(table, x, "Event study", "periods since first treated", "estimate")


def _check_band(band: str, n_boot: int, multipliers: str) -> None:
    """Stops on an unknown band or multiplier, or fewer than two bootstrap draws."""
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(map(repr, BANDS))}, got {band!r}")
    if band == "pointwise":
        return
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot: expected a whole number of bootstrap draws >= 2, got {n_boot!r}")
    if multipliers not in MULTIPLIERS:
        raise ValueError(f"multipliers must be one of {', '.join(map(repr, MULTIPLIERS))}, got {multipliers!r}")


def _with_band(table: pd.DataFrame, band: UniformBand, n_boot: int, multipliers: str) -> pd.DataFrame:
    """``table`` with its first ``len(band.se)`` rows given the band; the critical value in ``.attrs``."""
    rows = table.index[: len(band.se)]
    estimate = table.loc[rows, "estimate"].to_numpy(float)
    half = band.critical_value * band.se
    table.loc[rows, ["std_error", "conf_low", "conf_high", "p_value"]] = np.column_stack(
        [band.se, estimate - half, estimate + half, band.p_value]
    )
    table.attrs = {"critical_value": band.critical_value, "n_boot": int(n_boot), "multipliers": multipliers}
    return table


@dataclass(frozen=True)
class StaggeredResult:
    """Callaway-Sant'Anna group-time ATTs and their aggregations.

    Built by :func:`evaluation.api.staggered_did`; the arithmetic is
    :class:`evaluation.comparison.staggered.CallawaySantAnna`.  ``influence``
    holds, per cluster, the influence of the cells (``"att_gt"``), of the
    cohorts (``"group"``) and of the event times (``"dynamic"``), in the rows'
    order, for the uniform bands; ``level`` is their coverage.
    """

    group_time: pd.DataFrame
    aggregations: dict[str, pd.DataFrame]
    notes: dict = field(default_factory=dict)
    influence: dict[str, np.ndarray] = field(default_factory=dict)
    level: float = 0.95

    def att_gt(
        self,
        band: str = "pointwise",
        *,
        n_boot: int = 999,
        seed: int | np.random.Generator | None = None,
        multipliers: str = "rademacher",
    ) -> pd.DataFrame:
        """``cohort, time, estimate, std_error`` for every estimated group-time cell.

        ``band="uniform"`` adds ``conf_low, conf_high, p_value``: the
        simultaneous band over all cells, as R ``did::att_gt(cband = TRUE)``
        (see :meth:`aggregate`).
        """
        _check_band(band, n_boot, multipliers)
        table = self.group_time.copy()
        if band == "pointwise":
            return table
        table = table.assign(conf_low=np.nan, conf_high=np.nan, p_value=np.nan)
        return _with_band(table, self._uniform("att_gt", table, n_boot, seed, multipliers), n_boot, multipliers)

    def aggregate(
        self,
        type: str = "simple",  # noqa: A002 - the name R did uses
        band: str = "pointwise",
        *,
        n_boot: int = 999,
        seed: int | np.random.Generator | None = None,
        multipliers: str = "rademacher",
    ) -> pd.DataFrame:
        """Tidy aggregation as R ``did::aggte``.

        Parameters
        ----------
        type : {"simple", "group", "dynamic"}
            One row; one row per cohort, then ``average``; one row per event
            time, then ``average`` over event times >= 0.
        band : {"pointwise", "uniform"}
            ``"uniform"`` (``group`` and ``dynamic``): the cohort or event-time
            rows get the sup-t simultaneous band of ``aggte(..., cband = TRUE,
            bstrap = TRUE)``: multiplier-bootstrap SEs, ``estimate +-
            crit * std_error`` and the p-values adjusted alike; ``average``
            keeps its pointwise row.  The critical value is in
            ``.attrs["critical_value"]``.
        n_boot : int
            Bootstrap draws (``biters``), at least 2.
        seed : int or numpy.random.Generator, optional
            Seed of the draws' generator.
        multipliers : {"rademacher", "mammen"}
            One multiplier per cluster: Rademacher (R ``did``) or Mammen's
            two-point weights.
        """
        if type not in self.aggregations:
            raise ValueError(f"aggregate: type must be one of {', '.join(self.aggregations)}, got {type!r}")
        _check_band(band, n_boot, multipliers)
        table = self.aggregations[type].copy()
        if band == "pointwise":
            return table
        if type == "simple":
            raise ValueError("aggregate: band='uniform' is a band over several rows; use type 'group' or 'dynamic'")
        uniform = self._uniform(type, table, n_boot, seed, multipliers)
        table.loc[table.index[: len(uniform.se)], "inference"] = UNIFORM
        return _with_band(table, uniform, n_boot, multipliers)

    def _uniform(
        self, key: str, table: pd.DataFrame, n_boot: int, seed: int | np.random.Generator | None, multipliers: str
    ) -> UniformBand:
        """:func:`~evaluation.comparison.staggered.uniform_band` of the rows of ``table`` with an influence column."""
        psi = self.influence[key]
        estimates = table["estimate"].to_numpy(float)[: psi.shape[1]]
        return uniform_band(estimates, psi, self.level, n_boot, np.random.default_rng(seed), multipliers)

    def tidy(self) -> pd.DataFrame:
        """The simple aggregation (overall ATT)."""
        return self.aggregate("simple")

    def summary(self) -> str:
        """Readable text: the three aggregations."""
        parts = [
            _text(f"Callaway-Sant'Anna, {name} aggregation", table, {}) for name, table in self.aggregations.items()
        ]
        facts = "\n".join(f"{k}: {v}" for k, v in self.notes.items())
        return "\n\n".join(parts) + "\n\n" + facts

    def plot(self) -> Figure:
        """The dynamic aggregation against event time."""
        table = self.aggregations["dynamic"]
        table = table[table["term"].str.startswith("event_time=")]
        x = table["term"].str.removeprefix("event_time=").astype(int).to_numpy()
        return _errorbar(table, x, "Callaway-Sant'Anna event study", "periods since first treated", "ATT")
