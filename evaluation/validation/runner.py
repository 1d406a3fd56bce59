"""Run the checks of one table with Great Expectations and sort what failed by severity.

Row-level ``quarantine`` checks run with GX's ``COMPLETE`` result format (every
offending row index); all other checks run with ``SUMMARY`` (counts and up to 20
example rows). In tables of ``SPLIT_ROWS`` rows or more, checks are grouped by
the columns they read and each group is validated on a view holding only those columns (the check of the column names
on a view without rows): GX fingerprints every batch and filters whole frames,
so narrow views keep a million rows inside the stage's time budget.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evaluation.validation.checks import Check

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

EXAMPLES = 5
SPLIT_ROWS = 100_000  # from this many rows, checks run on narrow views (smaller tables: one run is faster)


@dataclass
class TableOutcome:
    """What validating one table found.

    ``quarantined_rows`` maps a row position to the first reason it failed;
    ``unexpected_rows`` maps each quarantine check id to all the positions it flagged.
    """

    table: str
    results: list[dict[str, Any]] = field(default_factory=list)
    quarantined_rows: dict[int, str] = field(default_factory=dict)
    unexpected_rows: dict[str, list[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    gx_results: list[Any] = field(default_factory=list)


@functools.cache
def _batch_definition() -> Any:
    """One ephemeral GX context and whole-dataframe batch definition per process."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import evaluation.validation.expectations  # noqa: F401  (registers the custom expectations)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (
        context.data_sources.add_pandas("canonical")
        .add_dataframe_asset("table")
        .add_batch_definition_whole_dataframe("all")
    )


def run_checks(table: str, data: pd.DataFrame, checks: list[Check]) -> TableOutcome:
    """Validate one table and sort the failures by severity.

    Parameters
    ----------
    table
        Name of the canonical table (``areas``, ``turnout``, ``survey``).
    data
        The table; row positions identify rows in the outcome.
    checks
        Its checks (:func:`evaluation.validation.checks.build_checks`).
    """
    import great_expectations as gx
    from great_expectations.validator.v1_validator import Validator

    frame = data.reset_index(drop=True)
    by_id = {c.check_id: c for c in checks}
    outcome = TableOutcome(table)
    groups = _by_footprint(checks) if len(frame) >= SPLIT_ROWS else {frozenset(frame.columns): checks}
    for columns, group in groups.items():
        view = frame.iloc[:0] if columns is None else frame[[c for c in frame.columns if c in columns]]
        validator = Validator(_batch_definition(), batch_parameters={"dataframe": view})
        for result_format, subset in (
            ("COMPLETE", [c for c in group if c.severity == "quarantine"]),
            ("SUMMARY", [c for c in group if c.severity != "quarantine"]),
        ):
            if not subset:
                continue
            validator.result_format = {
                "result_format": result_format,
                "partial_unexpected_count": 20,
                "return_unexpected_index_query": False,
            }
            suite_result = validator.validate_expectation_suite(
                gx.ExpectationSuite(name=table, expectations=[c.to_gx() for c in subset])
            )
            outcome.gx_results.append(suite_result)
            for item in suite_result.results:
                _record(outcome, by_id[item.expectation_config.meta["check_id"]], item, frame)
    order = {c.check_id: k for k, c in enumerate(checks)}
    outcome.results.sort(key=lambda r: order[r["check_id"]])
    return outcome


def _by_footprint(checks: list[Check]) -> dict[frozenset[str] | None, list[Check]]:
    """Checks grouped by the columns they read (a check joins a group whose columns include its own);
    ``None`` for checks of the column names alone."""
    footprints = {c.check_id: frozenset(_referenced(c)) for c in checks}
    keys = sorted(set(footprints.values()), key=len, reverse=True)
    groups: dict[frozenset[str] | None, list[Check]] = {}
    for check in checks:
        if check.expectation == "expect_table_columns_to_match_set":
            groups.setdefault(None, []).append(check)
            continue
        own = footprints[check.check_id]
        groups.setdefault(next(key for key in keys if own <= key), []).append(check)
    return groups


def _referenced(check: Check) -> list[str]:
    """Columns a check reads: its own, the row condition's, the wave column of custom checks."""
    kw = check.kwargs
    extra = [kw["row_condition"]["column"]] if "row_condition" in kw else []
    return [*check.columns, *extra, *([kw["wave_column"]] if "wave_column" in kw else [])]


def _record(outcome: TableOutcome, check: Check, item: Any, data: pd.DataFrame) -> None:
    result = item.result or {}
    raised = item.exception_info.get("raised_exception")
    rows = (
        list(result.get("unexpected_index_list") or [])
        if check.severity == "quarantine"
        else list(result.get("partial_unexpected_index_list") or [])
    )
    outcome.results.append(_result_record(check, item, raised))
    if item.success and not raised:
        return
    if check.severity == "fail" or raised:
        outcome.failures.append(failure_message(outcome.table, data, check, item, rows))
    elif check.severity == "quarantine":
        outcome.unexpected_rows[check.check_id] = [int(r) for r in rows]
        for row in rows:
            outcome.quarantined_rows.setdefault(int(row), f"{check.check_id}: {check.description}")
    else:
        shown = f", e.g. {_examples(data, rows, check)}" if rows else ""
        outcome.warnings.append(
            f"{outcome.table} ({check.check_id}): expected {check.description}; {_observed(item)}{shown}"
        )


def _result_record(check: Check, item: Any, raised: bool) -> dict[str, Any]:
    result = item.result or {}
    record = {
        "check_id": check.check_id,
        "expectation": check.expectation,
        "columns": check.columns,
        "severity": check.severity,
        "description": check.description,
        "success": bool(item.success) and not raised,
    }
    if "unexpected_count" in result:
        record["unexpected_count"] = int(result["unexpected_count"] or 0)
        record["unexpected_percent"] = round(float(result.get("unexpected_percent") or 0.0), 4)
        record["examples"] = [str(v) for v in (result.get("partial_unexpected_list") or [])[:EXAMPLES]]
    for key in ("observed_value", "details", "missing_count", "partial_missing_list"):
        if result.get(key) is not None:
            record[key] = _plain(result[key])
    if raised:
        record["error"] = item.exception_info.get("exception_message")
    return record


def _observed(item: Any) -> str:
    result = item.result or {}
    if "unexpected_count" in result:
        return f"{result['unexpected_count']} row(s) ({float(result.get('unexpected_percent') or 0):.1f} %) do not"
    if result.get("partial_missing_list"):
        return f"missing: {', '.join(map(str, result['partial_missing_list']))}"
    if result.get("details", {}).get("flagged_waves"):
        return "missing share by wave: " + ", ".join(
            f"wave {w} {s:.0%}" for w, s in result["details"]["flagged_waves"].items()
        )
    if result.get("details", {}).get("flagged_changes"):
        return "changes: " + ", ".join(
            f"wave {c['from_wave']}->{c['to_wave']} {c['change']:+g}" for c in result["details"]["flagged_changes"]
        )
    return f"observed {result.get('observed_value')!r}"


def failure_message(table: str, data: pd.DataFrame, check: Check, item: Any, rows: list[int]) -> str:
    """The message of a failed ``fail`` check: table, check, column(s), expectation and example rows."""
    columns = ", ".join(check.columns) or "(table)"
    detail = item.exception_info.get("exception_message") if item.exception_info.get("raised_exception") else None
    if check.expectation == "expect_table_columns_to_match_set":
        missing = sorted(set(check.kwargs["column_set"]) - set(data.columns))
        columns = ", ".join(missing)
        detail = f"missing column(s): {missing}; the table has {', '.join(map(str, data.columns))}"
    elif check.expectation == "expect_column_values_to_be_in_type_list" and not detail:
        detail = f"found {item.result.get('observed_value')}"
    examples = ""
    if rows:
        count = int((item.result or {}).get("unexpected_count") or len(rows))
        examples = f"; {count} row(s), e.g. " + _examples(data, rows, check)
    elif not item.success and "observed_value" in (item.result or {}) and not detail:
        detail = _observed(item)
    return f"{table} ({check.check_id}, {check.expectation} on {columns}): expected {check.description}{examples}" + (
        f"; {detail}" if detail else ""
    )


def _examples(data: pd.DataFrame, rows: list[int], check: Check) -> str:
    """A few offending rows: source file and row with the value, or the row's values for derived tables."""
    sample = data.iloc[rows[:EXAMPLES]]
    if "source_file" not in sample:
        return "; ".join(", ".join(f"{k}={v}" for k, v in record.items()) for record in sample.to_dict("records"))
    column = next((c for c in check.columns if c in sample), None)
    values = sample[column].tolist() if column else [None] * len(sample)
    return ", ".join(
        f"{f} row {r} ({column}={v!r})" for f, r, v in zip(sample["source_file"], sample["source_row"], values)
    )


def _plain(value: Any) -> Any:
    """JSON-friendly version of a GX result value."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
