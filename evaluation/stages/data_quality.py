"""Publish data-quality counts as a result table (``results/data_quality.csv``).

Reports read only ``data/processed/results``; this step turns what ``ingest`` and
``validate`` wrote into counts a report may show. Nothing row-level leaves it: no
respondent ids, row numbers or offending values, only counts by file, table,
check and reason (and by variable for masked area and turnout values).

    python -m evaluation data-quality --ingested data/processed/ingested \\
        --validated data/processed/validated --out data/processed/results/data_quality.csv
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from evaluation.outputs import write_csv

QUALITY_COLUMNS = ["section", "source", "item", "count", "total"]
ROW_ITEMS = ("rows_read", "rows_kept", "rows_quarantined", "quarantined_ingest", "quarantined_validate")


def row_counts(accounting: pd.DataFrame) -> pd.DataFrame:
    """Rows read, kept and quarantined per input (``section = rows``).

    An input is a file; a file that holds several sources (sheets of one
    workbook) is one input per table, labelled ``file (table)``.
    """
    shared = accounting["source_file"].duplicated(keep=False)
    source = accounting["source_file"].where(~shared, accounting["source_file"] + " (" + accounting["table"] + ")")
    labelled = accounting.assign(source=source)
    long = labelled.melt(
        id_vars="source", value_vars=[c for c in ROW_ITEMS if c in labelled], var_name="item", value_name="count"
    )
    total = long["source"].map(labelled.set_index("source")["rows_read"])
    return long.assign(section="rows", total=total)


def quarantine_counts(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows by stage and reason (``section = quarantine``).

    The reason is cut to its check id (the text before ``:``) so that no value
    from a row (a code, a date) is published.
    """
    reasons = quarantine["reason"].astype(str).str.split(":").str[0]
    counts = (
        pd.DataFrame({"source": quarantine["stage"].astype(str), "item": reasons})
        .value_counts()
        .rename("count")
        .reset_index()
    )
    return counts.assign(section="quarantine", total=pd.NA)


def check_counts(summary: dict) -> pd.DataFrame:
    """Validation checks per table: run, passed, failed, warned and quarantining (``section = checks``)."""
    records = []
    for table, result in summary["tables"].items():
        checks = pd.DataFrame(result["checks"], columns=["severity", "success"])
        failed = ~checks["success"].astype(bool)
        counts = {
            "checks_run": len(checks),
            "checks_passed": int((~failed).sum()),
            "checks_failed": int((failed & (checks["severity"] == "fail")).sum()),
            "checks_warned": int((failed & (checks["severity"] == "warn")).sum()),
            "checks_quarantined": int((failed & (checks["severity"] == "quarantine")).sum()),
        }
        records += [
            {"source": table, "item": item, "count": count, "total": len(checks)} for item, count in counts.items()
        ]
    return pd.DataFrame(records).assign(section="checks")


def nonresponse_counts(nonresponse: pd.DataFrame, survey_rows: int) -> pd.DataFrame:
    """Missing answers by outcome and reason, out of all survey answers (``section = nonresponse``)."""
    counts = nonresponse[["variable", "reason"]].value_counts().rename("count").reset_index()
    return counts.rename(columns={"variable": "source", "reason": "item"}).assign(
        section="nonresponse", total=survey_rows
    )


def masked_counts(masked: pd.DataFrame) -> pd.DataFrame:
    """Values the supplier masked or coded missing in area and turnout tables, by table, variable and reason.

    ``section = masked``; ``source`` is ``table.variable``.
    """
    counts = masked.groupby(["table", "variable", "reason"]).size().rename("count").reset_index()
    source = counts["table"] + "." + counts["variable"]
    return pd.DataFrame({"source": source, "item": counts["reason"], "count": counts["count"]}).assign(
        section="masked", total=pd.NA
    )


def data_quality(ingested: Path, validated: Path) -> pd.DataFrame:
    """All data-quality counts in one tidy table (columns :data:`QUALITY_COLUMNS`)."""
    frames = [
        row_counts(pd.read_csv(validated / "row_accounting.csv")),
        # validated/quarantine.parquet holds the rows quarantined at ingest as well: each row once
        quarantine_counts(pd.read_parquet(validated / "quarantine.parquet")),
        check_counts(json.loads((validated / "validation_summary.json").read_text(encoding="utf-8"))),
        masked_counts(pd.read_csv(ingested / "masked_values.csv")),
    ]
    if (ingested / "survey.parquet").exists():  # a run without a survey has no item non-response
        nonresponse = pd.read_parquet(ingested / "item_nonresponse.parquet")
        frames.append(nonresponse_counts(nonresponse, pq.ParquetFile(ingested / "survey.parquet").metadata.num_rows))
    table = pd.concat([f for f in frames if len(f)], ignore_index=True)[QUALITY_COLUMNS]
    table["count"] = table["count"].astype(int)
    table["total"] = table["total"].astype("Int64")
    return table


def write_data_quality(ingested: Path, validated: Path, out: Path) -> None:
    """Run the stage: write :func:`data_quality` of the ingest and validate folders to the CSV ``out``."""
    write_csv(data_quality(Path(ingested), Path(validated)), Path(out))
