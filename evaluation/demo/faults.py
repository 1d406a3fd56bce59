"""Inject a few known faults into ingested demo tables, so the data-quality report has something to show.

Only for the demo (config switch ``demo.inject_faults``). The tables are changed in
place, without adding or removing rows, so the row accounting of ingest still holds;
each fault is one the ``validate`` stage quarantines with its reason.

    python -m evaluation.demo.faults --ingested data/processed/ingested --seed 20190801
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.errors import InputFileError

FAULT_COLUMNS = ["table", "source_file", "source_row", "column", "fault"]


def inject_faults(ingested_dir: Path, rng: np.random.Generator) -> pd.DataFrame:
    """Change a few rows of ``survey.parquet`` and ``turnout.parquet`` in ``ingested_dir``.

    Survey (one row each): trust in local politicians 14 on the 0-10 scale, a
    negative design weight, an unknown gender code, an interview date a year
    after its wave, and one respondent answering the same wave twice. Turnout:
    one district with more votes than eligible voters and one with a
    pre-merger area code that has no crosswalk entry.

    Parameters
    ----------
    ingested_dir
        Folder written by ``ingest``.
    rng
        Seeded generator choosing the rows.

    Returns
    -------
    pandas.DataFrame
        One row per injected fault: table, source_file, source_row, column, fault.
    """
    ingested_dir = Path(ingested_dir)
    survey_path, turnout_path = ingested_dir / "survey.parquet", ingested_dir / "turnout.parquet"
    for path in (survey_path, turnout_path):
        if not path.exists():
            raise InputFileError(f"{path}: not found; run the ingest stage before injecting faults")
    survey, turnout = pd.read_parquet(survey_path), pd.read_parquet(turnout_path)
    if len(survey) < 10 or len(turnout) < 2:
        raise InputFileError(
            f"{ingested_dir}: too few rows to inject faults (survey {len(survey)}, turnout {len(turnout)})"
        )
    records = []

    def note(table: str, frame: pd.DataFrame, row: int, column: str, fault: str) -> None:
        records.append([table, frame.at[row, "source_file"], int(frame.at[row, "source_row"]), column, fault])

    rows = rng.choice(len(survey), 5, replace=False)
    survey.loc[rows[0], "trust_local_politicians"] = 14.0
    note("survey", survey, rows[0], "trust_local_politicians", "value 14 outside 0-10")
    survey.loc[rows[1], "design_weight"] = -1.0
    note("survey", survey, rows[1], "design_weight", "negative design weight")
    survey.loc[rows[2], "gender"] = "unknown:7"
    note("survey", survey, rows[2], "gender", "unknown gender code 7")
    survey.loc[rows[3], "interview_date"] = survey.at[rows[3], "interview_date"] + pd.DateOffset(years=1)
    note("survey", survey, rows[3], "interview_date", "interview date a year after its wave's field period")
    same_wave = np.flatnonzero((survey["wave"] == survey.at[rows[4], "wave"]).to_numpy())
    twin = int(next(r for r in same_wave if r not in rows))
    survey.loc[twin, "respondent_id"] = survey.at[rows[4], "respondent_id"]
    note("survey", survey, twin, "respondent_id", "respondent answers the same wave twice")
    note("survey", survey, rows[4], "respondent_id", "respondent answers the same wave twice")
    districts = rng.choice(len(turnout), 2, replace=False)
    turnout.loc[districts[0], "votes_cast"] = turnout.at[districts[0], "eligible_voters"] + 25
    turnout.loc[districts[0], "turnout"] = (
        turnout.at[districts[0], "votes_cast"] / turnout.at[districts[0], "eligible_voters"]
    )
    note("turnout", turnout, districts[0], "votes_cast", "more votes than eligible voters")
    turnout.loc[districts[1], "area_code"] = "17190001"
    note("turnout", turnout, districts[1], "area_code", "pre-merger area code 17190001 without crosswalk entry")
    survey.to_parquet(survey_path, index=False)
    turnout.to_parquet(turnout_path, index=False)
    return pd.DataFrame(records, columns=FAULT_COLUMNS)
