"""Stage ``validate``: Great Expectations suites generated from the codebooks and config.

Each check carries a severity:

- ``fail``: the run stops; the message names the table, source file, column,
  expectation and a few offending rows;
- ``quarantine``: offending rows move to the quarantine table with the reason;
- ``warn``: reported in the validation summary only.

The suites are generated as data (:func:`build_checks`) and written next to the
summary as Great Expectations suite JSON, so a reader can see exactly what ran.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from evaluation.errors import ValidationFailed

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

ROW_ID = "_row"
SEVERITIES = ("fail", "quarantine", "warn")
OUTPUT_FILES = {
    "areas": "areas.parquet",
    "turnout": "turnout.parquet",
    "survey": "survey.parquet",
    "quarantine": "quarantine.parquet",
    "accounting": "row_accounting.csv",
    "summary": "validation_summary.json",
}


@dataclass(frozen=True)
class Check:
    """One expectation on one canonical table, with what to do when it fails."""

    check_id: str
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    description: str

    def to_gx(self):
        import great_expectations as gx

        expectation_class = getattr(gx.expectations, _class_name(self.expectation))
        kwargs = dict(self.kwargs)
        if "row_condition" in kwargs:
            kwargs["row_condition"] = _row_condition(kwargs["row_condition"])
        return expectation_class(**kwargs, meta={"check_id": self.check_id, "severity": self.severity})


def _row_condition(spec: dict[str, Any]):
    """A GX row condition from its data form ``{"column": ..., "equals": ...}``."""
    from great_expectations.expectations.row_conditions import Column

    return Column(spec["column"]) == spec["equals"]


@dataclass
class TableOutcome:
    """What validating one table found."""

    table: str
    results: list[dict[str, Any]] = field(default_factory=list)
    quarantined_rows: dict[int, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)



def build_checks(variables: dict[str, Any], validation: dict[str, Any], area_codes: list[str], municipality_codes: list[str]) -> dict[str, list[Check]]:
    """Generate the checks for the canonical tables from the variable definitions and config."""
    overrides = validation.get("severity", {})
    checks = {
        "areas": _area_checks(),
        "turnout": _turnout_checks(area_codes),
        "survey": _survey_checks(variables, validation, municipality_codes),
    }
    return {
        table: [Check(c.check_id, c.expectation, c.kwargs, overrides.get(c.check_id, c.severity), c.description) for c in table_checks]
        for table, table_checks in checks.items()
    }


def _area_checks() -> list[Check]:
    return [
        _columns_exist("areas", ["area_code", "municipality_code", "role", "pilot_start"]),
        Check("areas.area_code_unique", "expect_column_values_to_be_unique", {"column": "area_code"}, "fail", "each area appears once in the register"),
        Check("areas.role_known", "expect_column_values_to_be_in_set", {"column": "role", "value_set": ["pilot", "control"]}, "fail", "role is pilot or control"),
        Check(
            "areas.pilot_has_start",
            "expect_column_values_to_not_be_null",
            {"column": "pilot_start", "row_condition": {"column": "role", "equals": "pilot"}},
            "fail",
            "every pilot has a pilot_start date",
        ),
    ]


def _turnout_checks(area_codes: list[str]) -> list[Check]:
    return [
        _columns_exist("turnout", ["area_code", "election_type", "election_year", "eligible_voters", "votes_cast"]),
        Check("turnout.area_in_register", "expect_column_values_to_be_in_set", {"column": "area_code", "value_set": area_codes}, "quarantine", "area code is in the area register"),
        Check("turnout.election_type_known", "expect_column_values_to_be_in_set", {"column": "election_type", "value_set": ["local", "parliamentary", "county"]}, "quarantine", "election type is local, parliamentary or county"),
        Check("turnout.eligible_positive", "expect_column_values_to_be_between", {"column": "eligible_voters", "min_value": 1}, "quarantine", "eligible voters > 0"),
        Check("turnout.votes_nonnegative", "expect_column_values_to_be_between", {"column": "votes_cast", "min_value": 0}, "quarantine", "votes cast >= 0"),
        Check(
            "turnout.votes_at_most_eligible",
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "eligible_voters", "column_B": "votes_cast", "or_equal": True},
            "quarantine",
            "votes cast <= eligible voters (turnout at most 100 %)",
        ),
        Check(
            "turnout.one_row_per_area_election",
            "expect_compound_columns_to_be_unique",
            {"column_list": ["area_code", "election_type", "election_year"]},
            "quarantine",
            "one row per area and election",
        ),
    ]


def _survey_checks(variables: dict[str, Any], validation: dict[str, Any], municipality_codes: list[str]) -> list[Check]:
    outcomes = variables["outcomes"]
    groups = variables["group_variables"]
    checks = [
        _columns_exist("survey", ["respondent_id", "wave", "municipality_code", "design_weight", *outcomes, *groups]),
        Check(
            "survey.respondent_wave_unique",
            "expect_compound_columns_to_be_unique",
            {"column_list": ["respondent_id", "wave"]},
            "quarantine",
            "a respondent answers a wave once",
        ),
        Check("survey.municipality_in_register", "expect_column_values_to_be_in_set", {"column": "municipality_code", "value_set": municipality_codes}, "quarantine", "municipality is in the area register"),
        Check("survey.weight_positive", "expect_column_values_to_be_between", {"column": "design_weight", "min_value": 0, "strict_min": True, "max_value": 1e9}, "quarantine", "design weight positive and finite"),
        Check("survey.weight_present", "expect_column_values_to_not_be_null", {"column": "design_weight"}, "quarantine", "design weight present"),
    ]
    max_missing = validation.get("max_missing_share", 0.25)
    for name, spec in outcomes.items():
        low, high = spec["range"]
        if spec["kind"] == "binary":
            checks.append(Check(f"survey.{name}.range", "expect_column_values_to_be_in_set", {"column": name, "value_set": [low, high]}, "quarantine", f"{name} is {low} or {high}"))
        else:
            checks.append(Check(f"survey.{name}.range", "expect_column_values_to_be_between", {"column": name, "min_value": low, "max_value": high}, "quarantine", f"{name} within {low}-{high}"))
        checks.append(
            Check(f"survey.{name}.missing_share", "expect_column_values_to_not_be_null", {"column": name, "mostly": 1 - max_missing}, "warn", f"at most {max_missing:.0%} of {name} missing")
        )
    for name, spec in groups.items():
        checks.append(
            Check(f"survey.{name}.categories", "expect_column_values_to_be_in_set", {"column": name, "value_set": list(map(str, spec["categories"]))}, "quarantine", f"{name} is one of its categories")
        )
    return checks


def _columns_exist(table: str, columns: list[str]) -> Check:
    return Check(f"{table}.columns", "expect_table_columns_to_match_set", {"column_set": columns, "exact_match": False}, "fail", f"the {table} table has the columns {', '.join(columns)}")


def _class_name(expectation: str) -> str:
    return "".join(part.capitalize() for part in expectation.split("_"))


def run_checks(table: str, data: pd.DataFrame, checks: list[Check]) -> TableOutcome:
    """Validate one table with Great Expectations and sort the failures by severity."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = context.data_sources.add_pandas(f"{table}_source").add_dataframe_asset(table).add_batch_definition_whole_dataframe("all")
    suite = gx.ExpectationSuite(name=table, expectations=[check.to_gx() for check in checks])
    frame = data.reset_index(drop=True).assign(**{ROW_ID: range(len(data))})
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]}
    )
    by_id = {check.check_id: check for check in checks}
    outcome = TableOutcome(table)
    for item in result.results:
        check = by_id[item.expectation_config.meta["check_id"]]
        rows = [entry[ROW_ID] for entry in item.result.get("unexpected_index_list") or []]
        outcome.results.append(_result_record(check, item, len(rows)))
        if item.success:
            continue
        if check.severity == "fail" or item.exception_info.get("raised_exception"):
            outcome.failures.append(_failure_message(table, data, check, item, rows))
        elif check.severity == "quarantine":
            for row in rows:
                outcome.quarantined_rows.setdefault(int(row), f"{check.check_id}: {check.description}")
    return outcome


def _result_record(check: Check, item: Any, n_rows: int) -> dict[str, Any]:
    return {
        "check_id": check.check_id,
        "expectation": check.expectation,
        "severity": check.severity,
        "description": check.description,
        "success": bool(item.success),
        "unexpected_count": int(item.result.get("unexpected_count") or n_rows),
        "unexpected_percent": float(item.result.get("unexpected_percent") or 0.0),
    }


def _failure_message(table: str, data: pd.DataFrame, check: Check, item: Any, rows: list[int]) -> str:
    column = check.kwargs.get("column") or check.kwargs.get("column_list") or check.kwargs.get("column_set")
    detail = item.exception_info.get("exception_message") if item.exception_info.get("raised_exception") else None
    if not detail and check.expectation == "expect_table_columns_to_match_set":
        present = set(data.columns)
        detail = f"missing column(s): {sorted(set(check.kwargs['column_set']) - present)}"
    examples = ""
    if rows:
        sample = data.iloc[rows[:5]]
        where = [f"{f} row {r}" for f, r in zip(sample.get("source_file", ["?"] * len(sample)), sample.get("source_row", rows[:5]))]
        examples = f"; {len(rows)} row(s), e.g. " + ", ".join(where)
    return f"{table} ({check.check_id}, {check.expectation} on {column}): expected {check.description}{examples}" + (f"; {detail}" if detail else "")


def validate(in_dir: Path, out_dir: Path, config_settings: dict[str, Any]) -> dict[str, Path]:
    """Run the stage: validate areas, turnout and survey; write validated tables and the summary.

    Raises
    ------
    ValidationFailed
        When a ``fail`` check does not pass, or when more than
        ``fail_on_quarantine_share`` of a table would be quarantined.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    variables = yaml.safe_load(Path(config_settings["variables"]).read_text(encoding="utf-8"))
    tables = {name: pd.read_parquet(in_dir / f"{name}.parquet") for name in ("areas", "turnout", "survey")}
    checks = build_checks(
        variables,
        config_settings["validation"],
        area_codes=sorted(tables["areas"]["area_code"].astype(str).unique()),
        municipality_codes=sorted(tables["areas"]["municipality_code"].astype(str).unique()),
    )
    outcomes = {name: run_checks(name, tables[name], checks[name]) for name in tables}
    _write_suites(out_dir / "suites", checks)
    summary = _summary(outcomes, tables)
    paths = {name: out_dir / file for name, file in OUTPUT_FILES.items()}
    paths["summary"].write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    failures = [message for outcome in outcomes.values() for message in outcome.failures]
    failures += _quarantine_share_failures(outcomes, tables, config_settings["validation"].get("fail_on_quarantine_share", 1.0))
    if failures:
        raise ValidationFailed("validation failed:\n" + "\n".join(f"  - {m}" for m in failures))
    quarantine = [pd.read_parquet(in_dir / "quarantine.parquet")]
    for name, table in tables.items():
        rows = outcomes[name].quarantined_rows
        keep = ~table.index.isin(list(rows))
        table[keep].to_parquet(paths[name], index=False)
        quarantine.append(_quarantine_records(table, rows))
    pd.concat(quarantine, ignore_index=True).astype(str).to_parquet(paths["quarantine"], index=False)
    _accounting(pd.read_csv(in_dir / "row_accounting.csv"), tables, outcomes).to_csv(paths["accounting"], index=False)
    return paths


def _quarantine_records(table: pd.DataFrame, rows: dict[int, str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=["source_file", "row_number", "stage", "column", "value", "reason"])
    picked = table.iloc[list(rows)]
    reasons = list(rows.values())
    return pd.DataFrame(
        {
            "source_file": picked["source_file"].to_numpy(),
            "row_number": picked["source_row"].to_numpy(),
            "stage": "validate",
            "column": [reason.split(":")[0].split(".")[1] for reason in reasons],
            "value": "",
            "reason": reasons,
        }
    )


def _accounting(ingest: pd.DataFrame, tables: dict[str, pd.DataFrame], outcomes: dict[str, TableOutcome]) -> pd.DataFrame:
    """Rows read = rows kept + rows quarantined (at ingest or validation), per source file."""
    per_file = []
    for name, table in tables.items():
        rows = list(outcomes[name].quarantined_rows)
        counts = table.iloc[rows]["source_file"].value_counts() if rows else pd.Series(dtype=int)
        per_file.append(counts)
    quarantined_here = pd.concat(per_file).groupby(level=0).sum() if per_file else pd.Series(dtype=int)
    result = ingest.copy()
    result["quarantined_validate"] = result["source_file"].map(quarantined_here).fillna(0).astype(int)
    result = result.rename(columns={"rows_quarantined": "quarantined_ingest"})
    result["rows_quarantined"] = result["quarantined_ingest"] + result["quarantined_validate"]
    result["rows_kept"] = result["rows_read"] - result["rows_quarantined"]
    return result[["source_file", "rows_read", "rows_kept", "rows_quarantined", "quarantined_ingest", "quarantined_validate"]]


def _quarantine_share_failures(outcomes: dict[str, TableOutcome], tables: dict[str, pd.DataFrame], limit: float) -> list[str]:
    return [
        f"{name}: {len(o.quarantined_rows)} of {len(tables[name])} rows would be quarantined, more than the configured "
        f"fail_on_quarantine_share {limit:.0%}; see validation_summary.json"
        for name, o in outcomes.items()
        if len(tables[name]) and len(o.quarantined_rows) / len(tables[name]) > limit
    ]


def _summary(outcomes: dict[str, TableOutcome], tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    return {
        name: {
            "rows_checked": len(tables[name]),
            "rows_quarantined": len(outcome.quarantined_rows),
            "checks": outcome.results,
            "failures": outcome.failures,
        }
        for name, outcome in outcomes.items()
    }


def _write_suites(folder: Path, checks: dict[str, list[Check]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table, table_checks in checks.items():
        suite = {
            "name": table,
            "expectations": [
                {"type": c.expectation, "kwargs": _jsonable(c.kwargs), "meta": {"check_id": c.check_id, "severity": c.severity, "description": c.description}}
                for c in table_checks
            ],
        }
        (folder / f"{table}.json").write_text(json.dumps(suite, indent=2, ensure_ascii=False), encoding="utf-8")


def _jsonable(kwargs: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(kwargs, default=str))
