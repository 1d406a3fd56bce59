"""Custom Great Expectations expectations (pandas) for checks GX does not ship.

Importing this module registers the metric and the expectation with GX.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from great_expectations.core.metric_domain_types import MetricDomainTypes  # noqa: E402
from great_expectations.execution_engine import PandasExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import BatchExpectation  # noqa: E402
from great_expectations.expectations.metrics.metric_provider import metric_value  # noqa: E402
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider  # noqa: E402


class ColumnMeanByWave(TableMetricProvider):
    """Mean of ``column`` in each wave (missing values ignored), as ``{wave: mean}``."""

    metric_name = "table.column_mean_by_wave"
    value_keys = ("column", "wave_column")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict,
        runtime_configuration: dict,
    ) -> dict[int, float]:
        df, _, _ = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        means = df.groupby(metric_value_kwargs["wave_column"])[metric_value_kwargs["column"]].mean()
        return {int(wave): float(mean) for wave, mean in means.items()}


class ColumnMissingShareByWave(TableMetricProvider):
    """Share of missing values of ``column`` in each wave, as ``{wave: share}``."""

    metric_name = "table.column_missing_share_by_wave"
    value_keys = ("column", "wave_column")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict,
        runtime_configuration: dict,
    ) -> dict[int, float]:
        df, _, _ = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        shares = df[metric_value_kwargs["column"]].isna().groupby(df[metric_value_kwargs["wave_column"]]).mean()
        return {int(wave): float(share) for wave, share in shares.items()}


class ExpectColumnMissingShareInEachWaveToBeAtMost(BatchExpectation):
    """Expect at most ``max_share`` of a column to be missing in every wave.

    An item dropped from one wave's questionnaire shows here even when the share
    over all waves stays low.
    """

    column: str
    wave_column: str = "wave"
    max_share: float

    metric_dependencies = ("table.column_missing_share_by_wave",)
    domain_keys: ClassVar[tuple[str, ...]] = ("row_condition", "condition_parser")
    success_keys = ("column", "wave_column", "max_share")
    args_keys = ("column", "wave_column", "max_share")

    def _validate(
        self, metrics: dict, runtime_configuration: dict | None = None, execution_engine: Any = None
    ) -> dict[str, Any]:
        shares = dict(sorted(metrics["table.column_missing_share_by_wave"].items()))
        flagged = {str(w): round(s, 4) for w, s in shares.items() if s > self.max_share}
        return {
            "success": not flagged,
            "result": {
                "observed_value": round(max(shares.values(), default=0.0), 4),
                "details": {
                    "missing_share_by_wave": {str(w): round(s, 4) for w, s in shares.items()},
                    "flagged_waves": flagged,
                },
            },
        }


class ExpectColumnMeanChangeBetweenWavesToBeAtMost(BatchExpectation):
    """Expect the mean of a column to change by at most ``max_change`` between consecutive waves.

    A large jump usually means a changed question, scale or code list rather
    than a real change; it is flagged for a person to look at. Waves in which the
    column is entirely missing are skipped.
    """

    column: str
    wave_column: str = "wave"
    max_change: float

    metric_dependencies = ("table.column_mean_by_wave",)
    domain_keys: ClassVar[tuple[str, ...]] = ("row_condition", "condition_parser")
    success_keys = ("column", "wave_column", "max_change")
    args_keys = ("column", "wave_column", "max_change")

    def _validate(
        self, metrics: dict, runtime_configuration: dict | None = None, execution_engine: Any = None
    ) -> dict[str, Any]:
        means = {wave: mean for wave, mean in sorted(metrics["table.column_mean_by_wave"].items()) if mean == mean}
        waves = list(means)
        changes = [
            {"from_wave": a, "to_wave": b, "change": round(means[b] - means[a], 6)} for a, b in zip(waves, waves[1:])
        ]
        flagged = [c for c in changes if abs(c["change"]) > self.max_change]
        largest = max((abs(c["change"]) for c in changes), default=0.0)
        return {
            "success": not flagged,
            "result": {
                "observed_value": round(largest, 6),
                "details": {"wave_means": {str(w): round(m, 6) for w, m in means.items()}, "flagged_changes": flagged},
            },
        }
