"""Generate the bad-input corpus: each case is a copy of a clean raw demo folder with one fault.

No file is hand-edited: every case is a function that changes the clean files
written by ``evaluation.demo.generate``. The tests (``test_corpus.py``) build the cases
they need; to look at them by hand:

    python tests/bad_inputs/make_cases.py --out /tmp/bad_inputs [CASE ...]

A case may also write a codebook (``<source>.codebook.yaml`` next to the data)
when the fault is in how a file is declared, e.g. the wrong encoding.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyreadstat
import yaml

from evaluation.demo.writers import spss_metadata

REPO = Path(__file__).resolve().parents[2]
CODEBOOKS = {"areas": "demo_area_register.yaml", "turnout": "demo_turnout.yaml", "survey": "demo_panel.yaml"}
AREAS, TURNOUT = "area_register.csv", "valgdeltakelse_stemmekretser.csv"
CASES: dict[str, Callable[[Path], None]] = {}


def wave_file(wave: int) -> str:
    return f"innbyggerpanel_bolge{wave:02d}.sav"


def case(function: Callable[[Path], None]) -> Callable[[Path], None]:
    CASES[function.__name__] = function
    return function


def build(name: str, clean: Path, out: Path) -> Path:
    """Copy the clean raw folder to ``out`` and apply case ``name``; return ``out``."""
    shutil.copytree(clean, out)
    CASES[name](out)
    return out


def read_wave(raw: Path, wave: int) -> pd.DataFrame:
    data, _ = pyreadstat.read_sav(str(raw / wave_file(wave)), user_missing=True)
    return data


def write_wave(raw: Path, wave: int, data: pd.DataFrame) -> None:
    pyreadstat.write_sav(data, str(raw / wave_file(wave)), **spss_metadata(wave))


def set_cells(raw: Path, wave: int, column: str, rows: list[int], value: object) -> None:
    data = read_wave(raw, wave)
    data[column] = data[column].astype(object) if isinstance(value, str) else data[column]
    data.loc[rows, column] = value
    write_wave(raw, wave, data)


def read_csv(path: Path, sep: str) -> pd.DataFrame:
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)


def write_codebook(raw: Path, source: str, read: dict) -> None:
    """A copy of the demo codebook of ``source`` with other ``read`` options (``None`` removes an option)."""
    doc = yaml.safe_load((REPO / "config" / "codebooks" / CODEBOOKS[source]).read_text(encoding="utf-8"))
    doc["read"] = {key: value for key, value in {**doc.get("read", {}), **read}.items() if value is not None}
    (raw / f"{source}.codebook.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


# --------------------------------------------------------------------------- files that cannot be read


@case
def zero_byte_spss(raw: Path) -> None:
    (raw / wave_file(2)).write_bytes(b"")


@case
def truncated_spss(raw: Path) -> None:
    content = (raw / wave_file(2)).read_bytes()
    (raw / wave_file(2)).write_bytes(content[: len(content) // 2])


@case
def stata_with_sav_extension(raw: Path) -> None:
    data = read_wave(raw, 2)
    pyreadstat.write_dta(data, str(raw / wave_file(2)))


@case
def text_with_sav_extension(raw: Path) -> None:
    (raw / wave_file(2)).write_text("Resp_ID;kommune\nIP1;9101\n", encoding="utf-8")


@case
def missing_wave_file(raw: Path) -> None:
    (raw / wave_file(3)).unlink()


@case
def unsupported_extension(raw: Path) -> None:
    (raw / AREAS).rename(raw / "area_register.ods")


@case
def empty_turnout_csv(raw: Path) -> None:
    (raw / TURNOUT).write_bytes(b"")


@case
def header_only_turnout_csv(raw: Path) -> None:
    header = (raw / TURNOUT).read_text(encoding="utf-8").splitlines()[0]
    (raw / TURNOUT).write_text(header + "\n", encoding="utf-8")


@case
def latin1_declared_utf8(raw: Path) -> None:
    text = (raw / AREAS).read_text(encoding="utf-8")
    (raw / AREAS).write_bytes(text.replace("Sentrum", "Sørbyen Øst").encode("latin-1"))
    write_codebook(raw, "areas", {"encoding": "utf-8"})


@case
def latin1_undeclared(raw: Path) -> None:
    text = (raw / AREAS).read_text(encoding="utf-8")
    (raw / AREAS).write_bytes(text.replace("Sentrum", "Sørbyen Øst").encode("latin-1"))
    write_codebook(raw, "areas", {"encoding": None})


@case
def renamed_turnout_column(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";").rename(columns={"Antall stemmeberettigede": "Stemmeberettigede"})
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def renamed_survey_column(raw: Path) -> None:
    write_wave(raw, 2, read_wave(raw, 2).rename(columns={"vekt_design": "vekt"}))


@case
def excel_two_header_rows(raw: Path) -> None:
    """The area register as an Excel sheet with a title row above the header (read with the default header_row 0)."""
    data = read_csv(raw / AREAS, ",")
    with pd.ExcelWriter(raw / "area_register.xlsx") as writer:
        pd.DataFrame([["Områderegister 2024"]]).to_excel(writer, index=False, header=False)
        data.to_excel(writer, index=False, startrow=1)


@case
def excel_two_header_rows_declared(raw: Path) -> None:
    excel_two_header_rows(raw)
    write_codebook(raw, "areas", {"header_row": 1})


# --------------------------------------------------------------------------- number formats


@case
def decimal_comma_undeclared(raw: Path) -> None:
    data = read_csv(raw / AREAS, ",")
    data.loc[[0, 1], "share_higher_education"] = data.loc[[0, 1], "share_higher_education"].str.replace(".", ",")
    data.to_csv(raw / AREAS, index=False)


@case
def thousands_separator_undeclared(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";")
    data.loc[[0, 1, 2], "Antall stemmeberettigede"] = data.loc[[0, 1, 2], "Antall stemmeberettigede"].map(
        lambda v: f"{int(v):,}".replace(",", " ")
    )
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def masked_area_share(raw: Path) -> None:
    """The statistics office masks two districts' education shares (``..`` not available, ``:`` confidential)."""
    data = read_csv(raw / AREAS, ",")
    data.loc[3, "share_higher_education"] = ".."
    data.loc[7, "share_higher_education"] = ":"
    data.to_csv(raw / AREAS, index=False)


@case
def thousands_separator_declared(raw: Path) -> None:
    thousands_separator_undeclared(raw)
    write_codebook(raw, "turnout", {"thousands": " "})


@case
def unreadable_election_year(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";")
    data.loc[4, "Valgår"] = "20x9"
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def unknown_election_type(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";")
    data.loc[5, "Valgtype"] = "Sametingsvalg"
    data.to_csv(raw / TURNOUT, sep=";", index=False)


# --------------------------------------------------------------------------- turnout rows


@case
def turnout_over_100_percent(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";")
    data.loc[3, "Antall stemmer totalt"] = str(int(data.loc[3, "Antall stemmeberettigede"]) + 40)
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def zero_eligible_voters(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";")
    data.loc[6, ["Antall stemmeberettigede", "Antall stemmer totalt"]] = "0"
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def unknown_district(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";")
    data.loc[7, "Stemmekretsnummer"] = "0099"
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def pre_merger_code_turnout(raw: Path) -> None:
    """A district reported under a municipality code from before a merger (1719) with no crosswalk entry."""
    data = read_csv(raw / TURNOUT, ";")
    data.loc[8, "Kommunenummer"] = "1719"
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def duplicated_turnout_row(raw: Path) -> None:
    data = read_csv(raw / TURNOUT, ";")
    pd.concat([data, data.iloc[[9]]], ignore_index=True).to_csv(raw / TURNOUT, sep=";", index=False)


# --------------------------------------------------------------------------- survey rows


@case
def duplicated_respondent(raw: Path) -> None:
    data = read_wave(raw, 2)
    write_wave(raw, 2, pd.concat([data, data.iloc[[10]]], ignore_index=True))


@case
def negative_weight(raw: Path) -> None:
    set_cells(raw, 2, "vekt_design", [11], -5.0)


@case
def nan_weight(raw: Path) -> None:
    set_cells(raw, 2, "vekt_design", [12], float("nan"))


@case
def infinite_weight(raw: Path) -> None:
    set_cells(raw, 2, "vekt_design", [13], float("inf"))


@case
def trust_outside_range(raw: Path) -> None:
    set_cells(raw, 2, "tillit_lokalpolitikere", [14, 15], 14.0)


@case
def binary_outcome_code_2(raw: Path) -> None:
    set_cells(raw, 3, "delt_folkemote", [16], 2.0)


@case
def unknown_gender_code(raw: Path) -> None:
    set_cells(raw, 2, "kjonn", [17], 5.0)


@case
def pre_merger_code_survey(raw: Path) -> None:
    set_cells(raw, 2, "kommune", [18], "1719")


@case
def missing_interview_date(raw: Path) -> None:
    data = read_wave(raw, 2)
    data["intervjudato"] = data["intervjudato"].astype(object)
    data.loc[19, "intervjudato"] = None
    write_wave(raw, 2, data)


@case
def interview_outside_field_period(raw: Path) -> None:
    import datetime as dt

    data = read_wave(raw, 1)
    data.loc[20, "intervjudato"] = dt.date(2019, 6, 15)
    write_wave(raw, 1, data)


@case
def pilot_without_respondents_in_wave(raw: Path) -> None:
    pilot = read_csv(raw / AREAS, ",").query("role == 'pilot'")["municipality_code"].iloc[0]
    data = read_wave(raw, 3)
    write_wave(raw, 3, data[data["kommune"].astype(str).str.zfill(4) != pilot].reset_index(drop=True))


@case
def outcome_mostly_missing(raw: Path) -> None:
    data = read_wave(raw, 2)
    data.loc[data.index[: int(len(data) * 0.9)], "delt_underskrift"] = float("nan")
    write_wave(raw, 2, data)


@case
def outcome_jumps_between_waves(raw: Path) -> None:
    """Wave 3 trust coded 0-10 reversed by the vendor: the mean jumps."""
    data = read_wave(raw, 3)
    valid = data["tillit_kommunestyret"] <= 10
    data.loc[valid, "tillit_kommunestyret"] = (data.loc[valid, "tillit_kommunestyret"] + 6).clip(upper=10)
    write_wave(raw, 3, data)


# --------------------------------------------------------------------------- area register


@case
def duplicated_area(raw: Path) -> None:
    data = read_csv(raw / AREAS, ",")
    pd.concat([data, data.iloc[[2]]], ignore_index=True).to_csv(raw / AREAS, index=False)


@case
def pilot_without_start(raw: Path) -> None:
    data = read_csv(raw / AREAS, ",")
    data.loc[data.index[data["role"] == "pilot"][0], "pilot_start"] = ""
    data.to_csv(raw / AREAS, index=False)


@case
def unknown_role(raw: Path) -> None:
    data = read_csv(raw / AREAS, ",")
    data.loc[4, "role"] = "pilot?"
    data.to_csv(raw / AREAS, index=False)


# --------------------------------------------------------------------------- one truth per treated unit


def _first_pilot_rows(data: pd.DataFrame) -> pd.Index:
    pilot = data.loc[data["role"] == "pilot", "municipality_code"].iloc[0]
    return data.index[data["municipality_code"] == pilot]


@case
def mixed_roles_in_municipality(raw: Path) -> None:
    """One district of a pilot municipality registered as control."""
    data = read_csv(raw / AREAS, ",")
    row = _first_pilot_rows(data)[1]
    data.loc[row, ["role", "pilot_start", "pilot_type", "cohort"]] = ["control", "", "", ""]
    data.to_csv(raw / AREAS, index=False)


@case
def conflicting_pilot_start(raw: Path) -> None:
    """Two districts of one pilot municipality with different start dates (a year apart)."""
    data = read_csv(raw / AREAS, ",")
    row = _first_pilot_rows(data)[-1]
    year = int(data.loc[row, "pilot_start"][:4])
    data.loc[row, "pilot_start"] = f"{year + 1}{data.loc[row, 'pilot_start'][4:]}"
    data.to_csv(raw / AREAS, index=False)


@case
def conflicting_pilot_type(raw: Path) -> None:
    data = read_csv(raw / AREAS, ",")
    rows = _first_pilot_rows(data)
    other = "youth_council" if data.loc[rows[0], "pilot_type"] != "youth_council" else "citizen_panel"
    data.loc[rows[-1], "pilot_type"] = other
    data.to_csv(raw / AREAS, index=False)


@case
def conflicting_municipality_name(raw: Path) -> None:
    data = read_csv(raw / AREAS, ",")
    data.loc[_first_pilot_rows(data)[-1], "municipality_name"] = "Feilstavet"
    data.to_csv(raw / AREAS, index=False)


# --------------------------------------------------------------------------- losses that must stop the run


@case
def whole_wave_quarantined_at_ingest(raw: Path) -> None:
    """Every design weight of wave 2 unreadable: ingest sets the whole wave aside."""
    data = read_wave(raw, 2)
    data["vekt_design"] = float("nan")
    write_wave(raw, 2, data)


@case
def pilot_without_turnout_in_election(raw: Path) -> None:
    """A pilot municipality's districts are missing from the 2015 election."""
    pilot = read_csv(raw / AREAS, ",").query("role == 'pilot'")["municipality_code"].iloc[0]
    data = read_csv(raw / TURNOUT, ";")
    drop = (data["Kommunenummer"] == pilot) & (data["Valgår"] == "2015")
    data[~drop].to_csv(raw / TURNOUT, sep=";", index=False)


@case
def election_mostly_quarantined(raw: Path) -> None:
    """Half of the 2013 rows report more votes than eligible voters (columns swapped by the supplier)."""
    data = read_csv(raw / TURNOUT, ";")
    rows = data.index[data["Valgår"] == "2013"]
    rows = rows[: len(rows) // 2]
    data.loc[rows, "Antall stemmeberettigede"] = "10"
    data.to_csv(raw / TURNOUT, sep=";", index=False)


@case
def two_sources_in_one_workbook(raw: Path) -> None:
    """Area register and turnout as two sheets of one workbook; one turnout row has more votes than voters."""
    areas = read_csv(raw / AREAS, ",")
    turnout = read_csv(raw / TURNOUT, ";")
    turnout.loc[3, "Antall stemmer totalt"] = str(int(turnout.loc[3, "Antall stemmeberettigede"]) + 50)
    with pd.ExcelWriter(raw / "kommunedata.xlsx") as writer:
        areas.to_excel(writer, sheet_name="omrader", index=False)
        turnout.to_excel(writer, sheet_name="valg", index=False)
    write_codebook(raw, "areas", {"sheet": "omrader"})
    write_codebook(raw, "turnout", {"sheet": "valg", "sep": None, "encoding": None})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("cases", nargs="*", help=f"default: all {len(CASES)}")
    args = parser.parse_args()
    from evaluation.demo.generate import DemoConfig, generate_demo

    clean = args.out / "_clean"
    generate_demo(clean, DemoConfig(seed=7, n_municipalities=20, n_pilots=6, respondents_per_wave=600, n_waves=4))
    for name in args.cases or CASES:
        build(name, clean, args.out / name)
        print(args.out / name)


if __name__ == "__main__":
    main()
