"""The checks of each canonical table, generated as data from the rules file, variables and config.

A :class:`Check` is one Great Expectations expectation with an id, a severity
and a sentence a researcher reads. Nothing here imports Great Expectations
until :meth:`Check.to_gx` is called.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.errors import ConfigError
from evaluation.schemas import load_yaml
from evaluation.units import respondent_unit_codes, unit_codes
from evaluation.variables import Variables

SEVERITIES = ("fail", "quarantine", "warn")
ROW_LEVEL_PREFIXES = (
    "expect_column_values_",
    "expect_column_pair_values_",
    "expect_compound_columns_",
    "expect_multicolumn_",
)
TYPE_LISTS = {
    "integer": ["int64", "int32", "int16", "int8", "Int64Dtype", "Int32Dtype", "Int16Dtype", "Int8Dtype"],
    "number": ["int64", "int32", "float64", "float32", "Int64Dtype", "Int32Dtype", "Float64Dtype", "Float32Dtype"],
    "datetime": ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"],
}
DERIVED_TABLES = ("pilot_coverage",)
FIELD_START, FIELD_END = "field_period_start", "field_period_end"
CUSTOM_EXPECTATIONS = {
    "expect_column_mean_change_between_waves_to_be_at_most",
    "expect_column_missing_share_in_each_wave_to_be_at_most",
}


@dataclass(frozen=True)
class Check:
    """One expectation on one canonical table, with what to do when it fails."""

    check_id: str
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    description: str

    @property
    def row_level(self) -> bool:
        """Whether the expectation judges single rows (so that rows can be quarantined)."""
        return self.expectation.startswith(ROW_LEVEL_PREFIXES)

    @property
    def columns(self) -> list[str]:
        """The columns the check looks at (for messages and quarantine records)."""
        kw = self.kwargs
        if "column" in kw:
            return [kw["column"]]
        if "column_A" in kw:
            return [kw["column_A"], kw["column_B"]]
        return list(kw.get("column_list") or kw.get("column_set") or [])

    def to_gx(self) -> Any:
        """The Great Expectations expectation object, with id and severity in its meta."""
        import great_expectations as gx

        if self.expectation in CUSTOM_EXPECTATIONS:
            from evaluation.validation import expectations as custom

            namespace: Any = custom
        else:
            namespace = gx.expectations
        expectation_class = getattr(namespace, _class_name(self.expectation))
        kwargs = dict(self.kwargs)
        if "row_condition" in kwargs:
            kwargs["row_condition"] = _row_condition(kwargs["row_condition"])
        return expectation_class(
            **kwargs, meta={"check_id": self.check_id, "severity": self.severity, "description": self.description}
        )


def _row_condition(spec: dict[str, Any]) -> Any:
    """A GX row condition from its data form ``{"column": ..., "equals": ...}``."""
    from great_expectations.expectations.row_conditions import Column

    return Column(spec["column"]) == spec["equals"]


def _class_name(expectation: str) -> str:
    return "".join(part.capitalize() for part in expectation.split("_"))


def build_checks(
    variables: Variables,
    validation: dict[str, Any],
    area_codes: list[str],
    municipality_codes: list[str],
) -> dict[str, list[Check]]:
    """Generate the checks of the canonical tables.

    Parameters
    ----------
    variables
        The canonical variables (:func:`evaluation.variables.load_variables`): outcomes
        with kind and range, group variables with categories.
    validation
        The ``validation`` section of the config: ``rules`` (file of fixed checks,
        default ``config/validation.yaml``), ``max_missing_share``, ``max_wave_change``,
        ``field_periods`` and ``severity`` overrides.
    area_codes, municipality_codes
        Codes of the ingested area register.

    Returns
    -------
    dict
        Table name -> its checks, in the order they run. Besides the canonical
        tables, ``pilot_coverage`` checks the table of :func:`pilot_coverage`.

    Raises
    ------
    ConfigError
        When the rules file or a severity override is invalid.
    """
    rules_path = Path(validation["rules"])
    rules = load_yaml(rules_path)
    placeholders = {"$area_codes": area_codes, "$municipality_codes": municipality_codes}
    checks = {table: _fixed_checks(table, spec, placeholders, rules_path) for table, spec in rules.items()}
    survey = checks.setdefault("survey", [])
    survey[0] = replace(
        survey[0],
        kwargs={
            **survey[0].kwargs,
            "column_set": [*survey[0].kwargs["column_set"], *variables.outcomes, *variables.group_variables],
        },
    )
    survey += _variable_checks(variables, validation)
    survey += _field_period_checks(validation["field_periods"])
    checks["pilot_coverage"] = _coverage_checks()
    return _with_severities(checks, validation["severity"])


def _fixed_checks(table: str, spec: dict[str, Any], placeholders: dict[str, list[str]], source: Path) -> list[Check]:
    columns = spec.get("columns") or []
    checks = [
        Check(
            f"{table}.columns",
            "expect_table_columns_to_match_set",
            {"column_set": columns, "exact_match": False},
            "fail",
            f"the {table} table has the columns {', '.join(columns)}",
        )
    ]
    for column, kind in (spec.get("types") or {}).items():
        if kind not in TYPE_LISTS:
            raise ConfigError(
                f"{source}: {table}/types/{column}: unknown type {kind!r}; use one of {sorted(TYPE_LISTS)}"
            )
        checks.append(
            Check(
                f"{table}.{column}.type",
                "expect_column_values_to_be_in_type_list",
                {"column": column, "type_list": TYPE_LISTS[kind]},
                "fail",
                f"{column} is stored as {kind}",
            )
        )
    for key, rule in (spec.get("checks") or {}).items():
        missing = {"expectation", "kwargs", "severity", "description"} - set(rule)
        if missing:
            raise ConfigError(f"{source}: {table}/checks/{key}: missing key(s) {sorted(missing)}")
        if rule["severity"] not in SEVERITIES or (
            rule["severity"] == "quarantine" and not rule["expectation"].startswith(ROW_LEVEL_PREFIXES)
        ):
            raise ConfigError(
                f"{source}: {table}/checks/{key}: severity {rule['severity']!r} is not fail, warn or (for row checks) quarantine"
            )
        kwargs = {
            name: placeholders.get(value, value) if isinstance(value, str) else value
            for name, value in rule["kwargs"].items()
        }
        checks.append(Check(f"{table}.{key}", rule["expectation"], kwargs, rule["severity"], rule["description"]))
    return checks


def _variable_checks(variables: Variables, validation: dict[str, Any]) -> list[Check]:
    """Range, missing share and wave-to-wave change of every outcome; categories of every group variable."""
    max_missing = validation["max_missing_share"]
    max_change = validation["max_wave_change"]
    checks = []
    for name, spec in variables.outcomes.items():
        low, high = spec.range
        if spec.kind == "binary":
            checks.append(
                Check(
                    f"survey.{name}.range",
                    "expect_column_values_to_be_in_set",
                    {"column": name, "value_set": [low, high]},
                    "quarantine",
                    f"{name} is {low} or {high}",
                )
            )
        else:
            checks.append(
                Check(
                    f"survey.{name}.range",
                    "expect_column_values_to_be_between",
                    {"column": name, "min_value": low, "max_value": high},
                    "quarantine",
                    f"{name} within {low}-{high}",
                )
            )
        checks.append(
            Check(
                f"survey.{name}.missing_share",
                "expect_column_missing_share_in_each_wave_to_be_at_most",
                {"column": name, "wave_column": "wave", "max_share": max_missing},
                "warn",
                f"at most {max_missing:.0%} of {name} missing in each wave",
            )
        )
        checks.append(
            Check(
                f"survey.{name}.wave_change",
                "expect_column_mean_change_between_waves_to_be_at_most",
                {"column": name, "wave_column": "wave", "max_change": round(max_change * (high - low), 10)},
                "warn",
                f"the mean of {name} changes by at most {max_change:.0%} of its range ({low}-{high}) from one wave to the next",
            )
        )
    for name, spec in variables.group_variables.items():
        categories = list(spec.categories)
        checks.append(
            Check(
                f"survey.{name}.categories",
                "expect_column_values_to_be_in_set",
                {"column": name, "value_set": categories},
                "quarantine",
                f"{name} is one of {', '.join(categories)}",
            )
        )
    return checks


def _field_period_checks(field_periods: dict[Any, list[str]]) -> list[Check]:
    """Interview dates inside the wave's field period: two row checks against the columns of :func:`with_field_periods`."""
    if not field_periods:
        return []
    return [
        Check(
            f"survey.interview_date.{bound}",
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
            "quarantine",
            f"interview date {word} the wave's field period (validation.field_periods)",
        )
        for bound, a, b, word in (
            ("field_period_start", "interview_date", FIELD_START, "not before"),
            ("field_period_end", FIELD_END, "interview_date", "not after"),
        )
    ]


def with_field_periods(survey: pd.DataFrame, field_periods: dict[Any, list[str]]) -> pd.DataFrame:
    """The survey with the first and last day of each row's wave field period (NaT where none is configured)."""
    if not field_periods or "wave" not in survey:
        return survey
    try:
        periods = {int(wave): [pd.Timestamp(str(day)) for day in days] for wave, days in field_periods.items()}
    except ValueError as exc:
        raise ConfigError(
            f'validation.field_periods: {exc}; give each wave as "<wave>": ["YYYY-MM-DD", "YYYY-MM-DD"]'
        ) from exc
    unit = survey["interview_date"].dtype if "interview_date" in survey else "datetime64[us]"
    wave = survey["wave"]
    return survey.assign(
        **{
            FIELD_START: wave.map({w: p[0] for w, p in periods.items()}).astype(unit),
            FIELD_END: wave.map({w: p[1] for w, p in periods.items()}).astype(unit),
        }
    )


def pilot_coverage(survey: pd.DataFrame, areas: pd.DataFrame, treated_unit: str = "municipality") -> pd.DataFrame:
    """Respondents per pilot unit and wave (zero where a pilot has none), one row each.

    The unit is the design's treated unit (:mod:`evaluation.units`): a pilot
    district or area with no respondents is reported even when other districts
    of its municipality have some. Respondents whose district is not in the
    register count for no unit (the code checks judge them).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_code``, ``municipality_code``, ``wave``, ``respondents``.

    Raises
    ------
    EstimationError
        When a design below the municipality meets a survey without the
        respondents' district (see :func:`evaluation.units.respondent_unit_codes`).
    """
    columns = {
        "unit_code": pd.Series(dtype=str),
        "municipality_code": pd.Series(dtype=str),
        "wave": pd.Series(dtype=int),
        "respondents": pd.Series(dtype=int),
    }
    if not {"role", "municipality_code"} <= set(areas) or not {"wave", "municipality_code"} <= set(survey):
        return pd.DataFrame(columns)
    register = areas.assign(
        unit_code=unit_codes(areas, treated_unit).to_numpy(), municipality_code=areas["municipality_code"].astype(str)
    )
    pilots = register.loc[register["role"].astype(str).eq("pilot"), ["unit_code", "municipality_code"]]
    pilots = pilots.drop_duplicates("unit_code").sort_values("unit_code")
    waves = sorted(int(w) for w in survey["wave"].dropna().unique())
    if pilots.empty or not waves:
        return pd.DataFrame(columns)
    units = respondent_unit_codes(survey, areas, treated_unit)
    counts = survey.groupby([units, survey["wave"].astype(int)]).size()
    grid = pd.MultiIndex.from_product([pilots["unit_code"], waves], names=["unit_code", "wave"])
    table = counts.reindex(grid, fill_value=0).rename("respondents").reset_index()
    table.insert(1, "municipality_code", table["unit_code"].map(pilots.set_index("unit_code")["municipality_code"]))
    return table


def _coverage_checks() -> list[Check]:
    return [
        Check(
            "pilot_coverage.respondents",
            "expect_column_values_to_be_between",
            {"column": "respondents", "min_value": 1},
            "fail",
            "every pilot unit (design.treated_unit) has respondents in every wave",
        )
    ]


def _with_severities(checks: dict[str, list[Check]], overrides: dict[str, str]) -> dict[str, list[Check]]:
    known = {c.check_id: c for table_checks in checks.values() for c in table_checks}
    for check_id, severity in overrides.items():
        if check_id not in known:
            raise ConfigError(
                f"validation.severity: unknown check id {check_id!r}; the ids are listed in validated/suites/*.json"
            )
        if severity not in SEVERITIES:
            raise ConfigError(f"validation.severity/{check_id}: {severity!r} is not one of {', '.join(SEVERITIES)}")
        if severity == "quarantine" and (not known[check_id].row_level or check_id.split(".")[0] in DERIVED_TABLES):
            raise ConfigError(
                f"validation.severity/{check_id}: this check does not judge input rows, so it cannot quarantine; use fail or warn"
            )
    return {
        table: [replace(c, severity=overrides.get(c.check_id, c.severity)) for c in table_checks]
        for table, table_checks in checks.items()
    }
