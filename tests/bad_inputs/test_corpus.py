"""The bad-input corpus: every case runs through the real ingest and validate stages.

Each case asserts the exact outcome: the exception (our own type, naming the file
and column) or the rows quarantined with their reason, and rows read = rows kept
+ rows quarantined for every input file.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from evaluation.config import load_config, stage_settings
from evaluation.errors import ConfigError, InputFileError, ValidationFailed
from evaluation.sources.codebook import load_codebook
from evaluation.stages.ingest import ingest, ingest_single
from evaluation.stages.validate import validate

sys.path.insert(0, str(Path(__file__).parent))
from make_cases import AREAS, TURNOUT, build, wave_file  # noqa: E402
from shared import REPO  # noqa: E402

CONFIG = load_config(REPO / "config" / "config.yaml")


@pytest.fixture
def make(small_demo, tmp_path):
    """Build a case from the clean small demo: ``make("negative_weight")`` -> its raw folder."""
    return lambda name: build(name, small_demo, tmp_path / name)


def settings_for(raw: Path, ingest_settings: dict) -> dict:
    """The ingest settings, pointing at a case's own codebooks or Excel area register when it has them."""
    settings = copy.deepcopy(ingest_settings)
    for source in ("areas", "turnout"):
        if (raw / f"{source}.codebook.yaml").exists():
            settings["sources"][source]["codebook"] = str(raw / f"{source}.codebook.yaml")
    if (raw / "area_register.xlsx").exists():
        settings["sources"]["areas"]["file"] = "area_register.xlsx"
    return settings


def run(raw: Path, ingest_settings: dict, tmp_path: Path, **validation) -> Path:
    """Ingest and validate a case; return the validated folder (after checking the row accounting)."""
    ingest(raw, tmp_path / "ingested", settings_for(raw, ingest_settings))
    settings = stage_settings(CONFIG, "validate")
    settings["validation"] = {**settings["validation"], "data_docs": False, **validation}
    settings["variables"] = str(REPO / "config" / "variables.yaml")
    validate(tmp_path / "ingested", tmp_path / "validated", settings)
    accounting = pd.read_csv(tmp_path / "validated" / "row_accounting.csv")
    assert (accounting["rows_read"] == accounting["rows_kept"] + accounting["rows_quarantined"]).all()
    return tmp_path / "validated"


def quarantined(out: Path, stage: str) -> list[tuple[str, int, str]]:
    """(file, 1-based row, check id or reason) of the rows quarantined at ``stage``."""
    records = pd.read_parquet(out / "quarantine.parquet").query("stage == @stage")
    return sorted(
        (f, int(r), reason.split(":")[0])
        for f, r, reason in zip(records["source_file"], records["row_number"], records["reason"])
    )


def accounting_of(out: Path, source_file: str) -> dict:
    accounting = pd.read_csv(out / "row_accounting.csv").set_index("source_file")
    return accounting.loc[source_file].to_dict()


def summary(out: Path) -> dict:
    return json.loads((out / "validation_summary.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- files that cannot be read


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("zero_byte_spss", r"innbyggerpanel_bolge02\.sav: file is empty \(0 bytes\)"),
        ("truncated_spss", r"innbyggerpanel_bolge02\.sav: cannot be read as spss"),
        ("text_with_sav_extension", r"innbyggerpanel_bolge02\.sav: cannot be read as spss"),
        ("missing_wave_file", r"innbyggerpanel_bolge03\.sav: file not found"),
        (
            "renamed_survey_column",
            r"innbyggerpanel_bolge02\.sav: column\(s\) 'vekt_design' named in codebook .*demo_panel\.yaml not found",
        ),
    ],
)
def test_unreadable_survey_file(make, ingest_settings, tmp_path, name, message):
    with pytest.raises(InputFileError, match=message):
        ingest(make(name), tmp_path / "ingested", ingest_settings)
    assert not (tmp_path / "ingested" / "survey.parquet").exists()


def test_stata_file_with_sav_extension_is_named(make, ingest_settings, tmp_path):
    with pytest.raises(InputFileError, match=r"innbyggerpanel_bolge02\.sav: .*Stata"):
        ingest(make("stata_with_sav_extension"), tmp_path / "ingested", ingest_settings)


def test_stata_file_with_sav_extension_stops_ingest(make, ingest_settings, tmp_path):
    with pytest.raises(InputFileError, match=r"innbyggerpanel_bolge02\.sav: cannot be read as spss"):
        ingest(make("stata_with_sav_extension"), tmp_path / "ingested", ingest_settings)


@pytest.mark.parametrize(
    ("name", "source", "file", "message"),
    [
        (
            "unsupported_extension",
            "areas",
            "area_register.ods",
            r"area_register\.ods: unsupported file extension '\.ods'",
        ),
        ("empty_turnout_csv", "turnout", TURNOUT, r"valgdeltakelse_stemmekretser\.csv: file is empty \(0 bytes\)"),
        (
            "latin1_declared_utf8",
            "areas",
            AREAS,
            r"area_register\.csv: does not decode as the declared read.encoding 'utf-8': line \d+, byte offset \d+ ",
        ),
        (
            "renamed_turnout_column",
            "turnout",
            TURNOUT,
            r"valgdeltakelse_stemmekretser\.csv: column\(s\) 'Antall stemmeberettigede' named in codebook .*not found",
        ),
        (
            "excel_two_header_rows",
            "areas",
            "area_register.xlsx",
            r"area_register\.xlsx: column\(s\) 'area_code', .* not found; the file has Områderegister 2024",
        ),
    ],
)
def test_unreadable_single_file(make, name, source, file, message):
    raw = make(name)
    codebook = raw / f"{source}.codebook.yaml"
    with pytest.raises(InputFileError, match=message):
        ingest_single(
            raw / file,
            load_codebook(
                codebook
                if codebook.exists()
                else REPO / "config" / "codebooks" / f"demo_{'area_register' if source == 'areas' else source}.yaml"
            ),
        )


def test_header_only_file_is_an_error(make):
    with pytest.raises(InputFileError, match=r"valgdeltakelse_stemmekretser\.csv: .*no data rows"):
        ingest_single(
            make("header_only_turnout_csv") / TURNOUT,
            load_codebook(REPO / "config" / "codebooks" / "demo_turnout.yaml"),
        )


def test_latin1_undeclared_is_detected(make):
    raw = make("latin1_undeclared")
    result = ingest_single(raw / AREAS, load_codebook(raw / "areas.codebook.yaml"))
    assert "Sørbyen Øst" in set(result.data["area_name"])


def test_excel_two_header_rows_with_declared_header_row(make, small_demo):
    raw = make("excel_two_header_rows_declared")
    result = ingest_single(raw / "area_register.xlsx", load_codebook(raw / "areas.codebook.yaml"))
    clean = ingest_single(small_demo / AREAS, load_codebook(REPO / "config" / "codebooks" / "demo_area_register.yaml"))
    assert result.data["area_code"].tolist() == clean.data["area_code"].tolist()


def test_unknown_check_id_in_severity_is_a_config_error(make, ingest_settings, tmp_path):
    with pytest.raises(ConfigError, match="validation.severity: unknown check id 'survey.no_such_check'"):
        run(make("negative_weight"), ingest_settings, tmp_path, severity={"survey.no_such_check": "fail"})


# --------------------------------------------------------------------------- number formats


def test_decimal_comma_undeclared_is_reported(make):
    result = ingest_single(
        make("decimal_comma_undeclared") / AREAS,
        load_codebook(REPO / "config" / "codebooks" / "demo_area_register.yaml"),
    )
    assert len(result.quarantine) == 2


def test_thousands_separator_space_is_read_without_declaring(make, small_demo):
    # statistics offices group digits with spaces; "1 234" is 1234 whether or not read.thousands says so
    raw = make("thousands_separator_undeclared")
    result = ingest_single(raw / TURNOUT, load_codebook(REPO / "config" / "codebooks" / "demo_turnout.yaml"))
    clean = ingest_single(small_demo / TURNOUT, load_codebook(REPO / "config" / "codebooks" / "demo_turnout.yaml"))
    assert result.data["eligible_voters"].tolist() == clean.data["eligible_voters"].tolist()
    assert len(result.quarantine) == 0


def test_thousands_separator_declared_is_read(make, small_demo):
    raw = make("thousands_separator_declared")
    result = ingest_single(raw / TURNOUT, load_codebook(raw / "turnout.codebook.yaml"))
    clean = ingest_single(small_demo / TURNOUT, load_codebook(REPO / "config" / "codebooks" / "demo_turnout.yaml"))
    assert result.data["eligible_voters"].tolist() == clean.data["eligible_voters"].tolist()
    assert len(result.quarantine) == 0


@pytest.mark.parametrize(
    ("name", "row", "reason"),
    [
        ("unreadable_election_year", 5, "missing or unreadable required value for election_year (integer)"),
        ("unknown_election_type", 6, "missing or unreadable required value for election_type (text)"),
    ],
)
def test_unreadable_turnout_value_quarantined_at_ingest(make, ingest_settings, tmp_path, name, row, reason):
    out = run(make(name), ingest_settings, tmp_path)
    assert quarantined(out, "ingest") == [(TURNOUT, row, reason)]
    assert quarantined(out, "validate") == []


# --------------------------------------------------------------------------- rows quarantined by validation


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("turnout_over_100_percent", [(TURNOUT, 4, "turnout.votes_at_most_eligible")]),
        ("zero_eligible_voters", [(TURNOUT, 7, "turnout.eligible_positive")]),
        ("unknown_district", [(TURNOUT, 8, "turnout.area_in_register")]),
        ("pre_merger_code_turnout", [(TURNOUT, 9, "turnout.area_in_register")]),
        (
            "duplicated_turnout_row",
            [(TURNOUT, 10, "turnout.one_row_per_area_election"), (TURNOUT, -1, "turnout.one_row_per_area_election")],
        ),
        (
            "duplicated_respondent",
            [(wave_file(2), 11, "survey.respondent_wave_unique"), (wave_file(2), -1, "survey.respondent_wave_unique")],
        ),
        ("negative_weight", [(wave_file(2), 12, "survey.weight_positive")]),
        ("infinite_weight", [(wave_file(2), 14, "survey.weight_positive")]),
        (
            "trust_outside_range",
            [
                (wave_file(2), 15, "survey.trust_local_politicians.range"),
                (wave_file(2), 16, "survey.trust_local_politicians.range"),
            ],
        ),
        ("binary_outcome_code_2", [(wave_file(3), 17, "survey.attended_meeting.range")]),
        ("unknown_gender_code", [(wave_file(2), 18, "survey.gender.categories")]),
        ("pre_merger_code_survey", [(wave_file(2), 19, "survey.municipality_in_register")]),
        ("interview_outside_field_period", [(wave_file(1), 21, "survey.interview_date.field_period_end")]),
    ],
)
def test_rows_quarantined_by_validation(make, ingest_settings, tmp_path, name, expected):
    raw = make(name)
    out = run(raw, ingest_settings, tmp_path)
    file = expected[0][0]
    rows_read = int(
        pd.read_csv(tmp_path / "ingested" / "row_accounting.csv").set_index("source_file").loc[file, "rows_read"]
    )
    expected = sorted(
        (f, rows_read if row == -1 else row, check) for f, row, check in expected
    )  # -1: the appended last row
    assert quarantined(out, "validate") == expected
    assert quarantined(out, "ingest") == []
    assert accounting_of(out, file)["quarantined_validate"] == len(expected)
    by_input = summary(out)["inputs"][file]
    assert by_input["rows_quarantined"] == len(expected)
    assert {reason.split(":")[0] for reason in by_input["quarantined_by_reason"]} == {check for _, _, check in expected}
    kept = pd.read_parquet(out / ("turnout.parquet" if file == TURNOUT else "survey.parquet"))
    assert not set(zip(kept["source_file"], kept["source_row"])) & {(f, r) for f, r, _ in expected}


def test_nan_weight_quarantined_at_ingest(make, ingest_settings, tmp_path):
    out = run(make("nan_weight"), ingest_settings, tmp_path)
    assert quarantined(out, "ingest") == [
        (wave_file(2), 13, "missing or unreadable required value for design_weight (number)")
    ]
    assert quarantined(out, "validate") == []


def test_missing_interview_date_quarantined_at_ingest(make, ingest_settings, tmp_path):
    out = run(make("missing_interview_date"), ingest_settings, tmp_path)
    assert quarantined(out, "ingest") == [
        (wave_file(2), 20, "missing or unreadable required value for interview_date (date)")
    ]


# --------------------------------------------------------------------------- warnings and failures


def test_pilot_without_respondents_warns_when_the_config_says_so(make, ingest_settings, tmp_path):
    raw = make("pilot_without_respondents_in_wave")
    pilot = pd.read_csv(raw / AREAS, dtype=str).query("role == 'pilot'")["municipality_code"].iloc[0]
    out = run(raw, ingest_settings, tmp_path, severity={"pilot_coverage.respondents": "warn"})
    coverage = summary(out)["tables"]["pilot_coverage"]
    assert coverage["warnings"] == [
        f"pilot_coverage (pilot_coverage.respondents): expected every pilot unit (design.treated_unit) has respondents in every wave; "
        f"1 row(s) (4.2 %) do not, e.g. unit_code={pilot}, municipality_code={pilot}, wave=3, respondents=0"
    ]


def test_pilot_without_respondents_stops_the_run(make, ingest_settings, tmp_path):
    raw = make("pilot_without_respondents_in_wave")
    pilot = pd.read_csv(raw / AREAS, dtype=str).query("role == 'pilot'")["municipality_code"].iloc[0]
    with pytest.raises(
        ValidationFailed,
        match=rf"pilot_coverage \(pilot_coverage.respondents.* on respondents\).*municipality_code={pilot}, wave=3, respondents=0",
    ):
        run(raw, ingest_settings, tmp_path)
    assert not (tmp_path / "validated" / "survey.parquet").exists()


def test_outcome_mostly_missing_warns(make, ingest_settings, tmp_path):
    out = run(make("outcome_mostly_missing"), ingest_settings, tmp_path)
    warnings = summary(out)["tables"]["survey"]["warnings"]
    assert warnings == [
        "survey (survey.signed_petition.missing_share): expected at most 25% of signed_petition missing in each wave; missing share by wave: wave 2 90%"
    ]
    assert len(pd.read_parquet(out / "survey.parquet")) == len(
        pd.read_parquet(tmp_path / "ingested" / "survey.parquet")
    )


def test_outcome_jump_between_waves_warns(make, ingest_settings, tmp_path):
    out = run(make("outcome_jumps_between_waves"), ingest_settings, tmp_path)
    check = next(
        c for c in summary(out)["tables"]["survey"]["checks"] if c["check_id"] == "survey.trust_council.wave_change"
    )
    assert not check["success"]
    assert [(c["from_wave"], c["to_wave"]) for c in check["details"]["flagged_changes"]] == [(2, 3), (3, 4)]
    assert quarantined(out, "validate") == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "duplicated_area",
            r"areas \(areas.area_code_unique, expect_column_values_to_be_unique on area_code\): .*area_register\.csv row 3 \(area_code='\d{8}'\)",
        ),
        ("pilot_without_start", r"areas \(areas.pilot_has_start, .* on pilot_start\): .*area_register\.csv row 1 "),
        ("unknown_role", r"areas \(areas.role_known, .* on role\): .*area_register\.csv row 5 \(role='pilot\?'\)"),
    ],
)
def test_register_faults_stop_the_run(make, ingest_settings, tmp_path, name, message):
    with pytest.raises(ValidationFailed, match=message):
        run(make(name), ingest_settings, tmp_path)
    assert not any(
        (tmp_path / "validated" / f).exists()
        for f in ("areas.parquet", "turnout.parquet", "survey.parquet", "quarantine.parquet")
    )
    assert summary(tmp_path / "validated")["status"] == "failed"


def test_missing_canonical_column_stops_the_run(ingested, tmp_path):
    folder = tmp_path / "ingested"
    import shutil

    shutil.copytree(ingested, folder)
    pd.read_parquet(folder / "survey.parquet").drop(columns=["design_weight"]).to_parquet(
        folder / "survey.parquet", index=False
    )
    settings = stage_settings(CONFIG, "validate")
    settings["validation"] |= {"data_docs": False, "field_periods": {}, "fail_on_quarantine_share": 1.0}
    settings["variables"] = str(REPO / "config" / "variables.yaml")
    with pytest.raises(
        ValidationFailed,
        match=r"survey \(survey.columns, expect_table_columns_to_match_set on design_weight\): .*missing column\(s\): \['design_weight'\]",
    ):
        validate(folder, tmp_path / "validated", settings)


# --------------------------------------------------------------------------- one truth per treated unit


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("mixed_roles_in_municipality", "role"),
        ("conflicting_pilot_start", "pilot_start"),
        ("conflicting_pilot_type", "pilot_type"),
        ("conflicting_municipality_name", "municipality_name"),
    ],
)
def test_conflicting_treatment_facts_stop_the_run(make, ingest_settings, tmp_path, name, column):
    raw = make(name)
    areas = pd.read_csv(raw / AREAS, dtype=str)
    pilot = areas.loc[areas["role"] == "pilot", "municipality_code"].iloc[0]
    with pytest.raises(
        ValidationFailed, match=rf"area_register\.csv: municipality {pilot} has conflicting {column} values .*row \d+"
    ):
        run(raw, ingest_settings, tmp_path)
    assert not (tmp_path / "validated" / "areas.parquet").exists()


# --------------------------------------------------------------------------- losses that must stop the run


def test_whole_wave_quarantined_at_ingest_stops_the_run(make, ingest_settings, tmp_path):
    raw = make("whole_wave_quarantined_at_ingest")
    with pytest.raises(ValidationFailed, match=rf"{wave_file(2)} \(survey\): 600 of 600 rows quarantined"):
        run(raw, ingest_settings, tmp_path)
    assert summary(tmp_path / "validated")["status"] == "failed"
    assert not (tmp_path / "validated" / "survey.parquet").exists()


def test_pilot_without_turnout_in_an_election_stops_the_run(make, ingest_settings, tmp_path):
    raw = make("pilot_without_turnout_in_election")
    pilot = pd.read_csv(raw / AREAS, dtype=str).query("role == 'pilot'")["municipality_code"].iloc[0]
    with pytest.raises(
        ValidationFailed,
        match=rf"{TURNOUT}: pilot municipality {pilot} has no turnout rows for the local election 2015",
    ):
        run(raw, ingest_settings, tmp_path)


def test_an_election_mostly_quarantined_stops_the_run(make, ingest_settings, tmp_path):
    with pytest.raises(ValidationFailed, match=r"turnout, parliamentary 2013 election: 50% of its rows quarantined"):
        run(make("election_mostly_quarantined"), ingest_settings, tmp_path, fail_on_quarantine_share=0.2)


def test_two_sources_in_one_workbook_are_accounted_per_sheet(make, ingest_settings, tmp_path):
    raw = make("two_sources_in_one_workbook")
    settings = copy.deepcopy(ingest_settings)
    for source in ("areas", "turnout"):
        settings["sources"][source] = {"file": "kommunedata.xlsx", "codebook": str(raw / f"{source}.codebook.yaml")}
    ingest(raw, tmp_path / "ingested", settings)
    validation = stage_settings(CONFIG, "validate")
    validation["validation"] |= {"data_docs": False}
    validation["variables"] = str(REPO / "config" / "variables.yaml")
    validate(tmp_path / "ingested", tmp_path / "validated", validation)
    accounting = pd.read_csv(tmp_path / "validated" / "row_accounting.csv").set_index("table")
    areas_rows = len(pd.read_csv(raw / AREAS))
    turnout_rows = len(pd.read_csv(raw / TURNOUT, sep=";"))
    assert accounting.loc["areas", ["source_file", "rows_read", "rows_kept", "rows_quarantined"]].tolist() == [
        "kommunedata.xlsx",
        areas_rows,
        areas_rows,
        0,
    ]
    assert accounting.loc["turnout", ["rows_read", "rows_kept", "quarantined_validate"]].tolist() == [
        turnout_rows,
        turnout_rows - 1,
        1,
    ]


def test_data_quality_counts_each_quarantined_row_once(make, ingest_settings, tmp_path):
    from evaluation.stages.data_quality import data_quality

    raw = make("nan_weight")  # quarantined at ingest
    out = run(raw, ingest_settings, tmp_path)
    table = data_quality(tmp_path / "ingested", out)
    quarantine = table[table["section"] == "quarantine"]
    rows = table[(table["section"] == "rows") & (table["item"] == "rows_quarantined")]
    assert quarantine["count"].sum() == rows["count"].sum() == len(pd.read_parquet(out / "quarantine.parquet")) == 1


def test_masked_optional_values_are_kept_missing_with_their_reason(make, ingest_settings, tmp_path):
    """A masked value in an optional area column is missing, never a number, and is recorded and counted."""
    from evaluation.stages.data_quality import data_quality

    raw = make("masked_area_share")
    out = run(raw, ingest_settings, tmp_path)
    masked = pd.read_csv(tmp_path / "ingested" / "masked_values.csv", dtype={"source_row": int})
    masked = masked[masked["table"] != "participants"]  # the demo's unknown educations (code 9) are masked too
    assert masked.to_dict("records") == [
        {
            "table": "areas",
            "source_file": AREAS,
            "source_row": 4,
            "variable": "share_higher_education",
            "reason": "suppressed_not_available",
        },
        {
            "table": "areas",
            "source_file": AREAS,
            "source_row": 8,
            "variable": "share_higher_education",
            "reason": "suppressed_confidential",
        },
    ]
    areas = pd.read_parquet(out / "areas.parquet").set_index("source_row")
    assert areas.loc[[4, 8], "share_higher_education"].isna().all()
    assert areas["share_higher_education"].notna().sum() == len(areas) - 2
    assert accounting_of(out, AREAS)["rows_quarantined"] == 0  # the rows are kept; only the value is missing
    table = data_quality(tmp_path / "ingested", out).query("section == 'masked' and source.str.startswith('areas')")
    assert table[["source", "item", "count"]].to_dict("records") == [
        {"source": "areas.share_higher_education", "item": "suppressed_confidential", "count": 1},
        {"source": "areas.share_higher_education", "item": "suppressed_not_available", "count": 1},
    ]
