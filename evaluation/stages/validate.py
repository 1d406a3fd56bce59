"""The ``validate`` stage: read the ingested tables, run the checks, write what passed and why the rest did not."""

from __future__ import annotations

import importlib
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.errors import InputFileError, ValidationFailed
from evaluation.outputs import write_csv, write_json, write_parquet
from evaluation.sources.codebook import QUARANTINE_COLUMNS
from evaluation.validation import integrity
from evaluation.validation import turnout as turnout_checks
from evaluation.validation.checks import Check, build_checks, pilot_coverage, with_field_periods
from evaluation.validation.runner import TableOutcome, run_checks
from evaluation.variables import load_variables

TABLES = ("areas", "turnout", "survey", "participants", "proposals")
OUTPUT_FILES = {
    "areas": "areas.parquet",
    "turnout": "turnout.parquet",
    "survey": "survey.parquet",
    "participants": "participants.parquet",
    "proposals": "proposals.parquet",
    "quarantine": "quarantine.parquet",
    "accounting": "row_accounting.csv",
    "summary": "validation_summary.json",
}


def validate(in_dir: Path, out_dir: Path, config_settings: dict[str, Any]) -> dict[str, Path]:
    """Run the stage: validate areas, turnout and survey (those configured); write validated tables and the summary.

    Parameters
    ----------
    in_dir
        Folder written by ``ingest``.
    out_dir
        Folder for the validated tables, ``quarantine.parquet``, ``row_accounting.csv``,
        ``validation_summary.json``, ``suites/*.json`` and Data Docs in ``data_docs/``.
    config_settings
        ``{"validation": <config section>, "variables": <path of variables.yaml>, "tables": [...]}``,
        the tables being those the run has (``areas``, and ``turnout`` and ``survey`` when configured).

    Returns
    -------
    dict
        The paths written (keys of ``OUTPUT_FILES`` plus ``data_docs``).

    Raises
    ------
    ValidationFailed
        When a ``fail`` check does not pass, or when more than
        ``fail_on_quarantine_share`` of a table would be quarantined. The summary
        and Data Docs are still written (with ``"status": "failed"``); no
        validated table is.
    InputFileError
        When an ingested table is missing or unreadable.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    settings = config_settings["validation"]
    paths = {name: out_dir / file for name, file in OUTPUT_FILES.items()}
    paths["data_docs"] = out_dir / "data_docs" / "index.html"
    _remove_previous(out_dir, paths)
    paths = {name: path for name, path in paths.items() if name not in TABLES or name in config_settings["tables"]}
    importer = threading.Thread(target=importlib.import_module, args=("great_expectations",), daemon=True)
    importer.start()  # GX takes seconds to import; overlap that with reading the tables
    tables = {name: _read_table(in_dir / f"{name}.parquet") for name in config_settings["tables"]}
    importer.join()
    variables = load_variables(Path(config_settings["variables"]))
    areas = tables["areas"]
    checks = build_checks(
        variables,
        settings,
        area_codes=sorted(areas["area_code"].astype(str).unique()) if "area_code" in areas else [],
        municipality_codes=sorted(areas["municipality_code"].astype(str).unique())
        if "municipality_code" in areas
        else [],
    )
    checked = dict(tables)
    unit_failures = integrity.treated_unit_conflicts(areas, config_settings["design"]["treated_unit"])
    if "survey" in tables:
        checked["survey"] = with_field_periods(tables["survey"], settings["field_periods"])
        if not unit_failures:  # coverage per unit needs consistent units
            checked["pilot_coverage"] = pilot_coverage(
                tables["survey"], areas, config_settings["design"]["treated_unit"]
            )
    checks = {name: table_checks for name, table_checks in checks.items() if name in checked}
    outcomes = {name: run_checks(name, checked[name], table_checks) for name, table_checks in checks.items()}
    failures = [message for outcome in outcomes.values() for message in outcome.failures]
    limit = settings["fail_on_quarantine_share"]
    accounting = _accounting(
        _read_accounting(in_dir / "row_accounting.csv"), tables, {name: outcomes[name] for name in tables}
    )
    failures += unit_failures
    failures += integrity.pilot_ends_before_start(areas)
    failures += integrity.quarantine_share_failures(accounting, limit)
    if "turnout" in tables:
        turnout_quarantined = pd.Index(list(outcomes["turnout"].quarantined_rows))
        failures += integrity.election_share_failures(tables["turnout"], turnout_quarantined, limit)
        turnout_kept = tables["turnout"].reset_index(drop=True).drop(index=turnout_quarantined)
        failures += integrity.turnout_coverage_gaps(turnout_kept, areas)
        outcomes["turnout"].warnings.extend(
            turnout_checks.turnout_warnings(turnout_kept, settings["turnout"], config_settings["country"])
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_suites(out_dir / "suites", checks)
    from evaluation.validation.data_docs import write_data_docs

    if settings["data_docs"]:
        write_data_docs(paths["data_docs"].parent, {name: o.gx_results for name, o in outcomes.items()})
    summary = _summary(outcomes, checked, checks, failures)
    if failures:
        write_json(summary, paths["summary"])
        raise ValidationFailed(
            f"validation of {in_dir} failed (details in {paths['summary']}):\n"
            + "\n".join(f"  - {m}" for m in failures)
        )
    quarantine = [_read_table(in_dir / "quarantine.parquet")]
    for name, table in tables.items():
        rows = outcomes[name].quarantined_rows
        kept = table.reset_index(drop=True)
        kept = kept[~kept.index.isin(list(rows))]
        write_parquet(kept, paths[name])
        quarantine.append(_quarantine_records(table, rows, checks[name]))
    records = (
        pd.concat([q for q in quarantine if len(q)], ignore_index=True)
        if any(len(q) for q in quarantine)
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    write_parquet(records.astype(str), paths["quarantine"])
    write_csv(accounting, paths["accounting"])
    write_json(summary, paths["summary"])  # last: a summary that says "passed" exists only when every table does
    return paths


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except FileNotFoundError as exc:
        raise InputFileError(f"{path}: not found; run the ingest stage first (python -m evaluation ingest)") from exc
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputFileError(f"{path}: cannot be read as Parquet: {exc}") from exc


def _remove_previous(out_dir: Path, paths: dict[str, Path]) -> None:
    """Delete outputs of an earlier run so that a failed run leaves nothing that looks complete."""
    for path in paths.values():
        if path.name != "index.html":
            path.unlink(missing_ok=True)
    shutil.rmtree(out_dir / "data_docs", ignore_errors=True)


def _quarantine_records(table: pd.DataFrame, rows: dict[int, str], checks: list[Check]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    by_id = {c.check_id: c for c in checks}
    positions = list(rows)
    picked = table.iloc[positions]
    columns = [by_id[reason.split(":")[0]].columns for reason in rows.values()]
    values = [
        _value(picked.iat[k, picked.columns.get_loc(cols[0])]) if cols and cols[0] in picked else ""
        for k, cols in enumerate(columns)
    ]
    return pd.DataFrame(
        {
            "source_file": picked["source_file"].to_numpy(),
            "row_number": picked["source_row"].to_numpy(),
            "stage": "validate",
            "column": [", ".join(cols) for cols in columns],
            "value": values,
            "reason": list(rows.values()),
        }
    )


def _value(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _accounting(
    ingest: pd.DataFrame, tables: dict[str, pd.DataFrame], outcomes: dict[str, TableOutcome]
) -> pd.DataFrame:
    """Rows read = rows kept + rows quarantined (at ingest or validation), per table and source file.

    Keyed by table as well as file, so that two sources read from one workbook
    (two sheets) are each charged only their own rows.
    """
    quarantined_here = _per_file_counts(tables, outcomes)
    result = ingest.copy()
    keys = pd.MultiIndex.from_frame(result[integrity.ACCOUNTING_KEYS])
    result["quarantined_validate"] = quarantined_here.reindex(keys, fill_value=0).to_numpy().astype(int)
    result = result.rename(columns={"rows_quarantined": "quarantined_ingest"})
    result["rows_quarantined"] = result["quarantined_ingest"] + result["quarantined_validate"]
    result["rows_kept"] = result["rows_read"] - result["rows_quarantined"]
    return result[
        [
            *integrity.ACCOUNTING_KEYS,
            "rows_read",
            "rows_kept",
            "rows_quarantined",
            "quarantined_ingest",
            "quarantined_validate",
        ]
    ]


def _per_file_counts(tables: dict[str, pd.DataFrame], outcomes: dict[str, TableOutcome]) -> pd.Series:
    """Rows quarantined by validation per (table, source file)."""
    counts = [
        tables[name]
        .iloc[list(o.quarantined_rows)]["source_file"]
        .astype(str)
        .value_counts()
        .rename_axis("source_file")
        .reset_index()
        .assign(table=name)
        for name, o in outcomes.items()
        if o.quarantined_rows and name in tables
    ]
    if not counts:
        return pd.Series(dtype=int, index=pd.MultiIndex.from_tuples([], names=integrity.ACCOUNTING_KEYS))
    return pd.concat(counts).groupby(integrity.ACCOUNTING_KEYS)["count"].sum()


def _read_accounting(path: Path) -> pd.DataFrame:
    try:
        accounting = pd.read_csv(path, dtype={"table": str, "source_file": str})
    except FileNotFoundError as exc:
        raise InputFileError(f"{path}: not found; run the ingest stage first (python -m evaluation ingest)") from exc
    missing = [c for c in (*integrity.ACCOUNTING_KEYS, "rows_read", "rows_quarantined") if c not in accounting]
    if missing:
        raise InputFileError(
            f"{path}: no column(s) {', '.join(missing)}; it was written by an older version of the "
            "ingest stage: run ingest again"
        )
    return accounting


def _summary(
    outcomes: dict[str, TableOutcome],
    tables: dict[str, pd.DataFrame],
    checks: dict[str, list[Check]],
    failures: list[str],
) -> dict[str, Any]:
    """Per table and per input file: what was checked, what failed, rows quarantined and why."""
    return {
        "status": "failed" if failures else "passed",
        "failures": failures,
        "tables": {
            name: {
                "rows_checked": len(tables[name]),
                "rows_quarantined": len(outcome.quarantined_rows),
                "quarantined_by_check": {check_id: len(rows) for check_id, rows in outcome.unexpected_rows.items()},
                "failures": outcome.failures,
                "warnings": outcome.warnings,
                "checks": outcome.results,
            }
            for name, outcome in outcomes.items()
        },
        "inputs": _per_input(outcomes, tables, checks),
    }


def _per_input(
    outcomes: dict[str, TableOutcome], tables: dict[str, pd.DataFrame], checks: dict[str, list[Check]]
) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for name, outcome in outcomes.items():
        table = tables[name]
        if "source_file" not in table:
            continue
        files = table["source_file"].astype(str)
        for source_file, rows in files.groupby(files).groups.items():
            inputs[source_file] = {
                "table": name,
                "rows_checked": len(rows),
                "rows_quarantined": 0,
                "quarantined_by_reason": {},
                "checks": [c.check_id for c in checks[name]],
            }
        if outcome.quarantined_rows:
            reasons = pd.DataFrame(
                {
                    "file": files.iloc[list(outcome.quarantined_rows)].to_numpy(),
                    "reason": list(outcome.quarantined_rows.values()),
                }
            )
            for (source_file, reason), count in reasons.value_counts().sort_index().items():
                entry = inputs[source_file]
                entry["rows_quarantined"] += int(count)
                entry["quarantined_by_reason"][reason] = int(count)
    return inputs


def _write_suites(folder: Path, checks: dict[str, list[Check]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table, table_checks in checks.items():
        suite = {
            "name": table,
            "expectations": [
                {
                    "type": c.expectation,
                    "kwargs": json.loads(json.dumps(c.kwargs, default=str)),
                    "meta": {"check_id": c.check_id, "severity": c.severity, "description": c.description},
                }
                for c in table_checks
            ],
        }
        write_json(suite, folder / f"{table}.json")
