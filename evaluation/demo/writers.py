"""Writers of the raw demo files (CSV and SPSS) in the layouts of docs/data-contracts.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from evaluation.demo.panel import wave_timing
from evaluation.demo.scenario import (
    AGE_GROUPS,
    DONT_KNOW,
    EDUCATION_CODES,
    ELECTION_TYPE_LABELS,
    GENDER_CODES,
    ITEMS,
    LATE_NAMES_FROM_WAVE,
    REFERENCE_YEAR,
    REFUSED,
    REGISTER_UNKNOWN,
    Item,
    Population,
)


def write_area_register(path: Path, munis: pd.DataFrame, districts: pd.DataFrame) -> None:
    """Write area_register.csv (one row per district, contract columns)."""
    m = munis.iloc[districts["municipality"].to_numpy()].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "area_code": districts["area_code"],
            "area_name": districts["area_name"],
            "municipality_code": m["municipality_code"],
            "municipality_name": m["municipality_name"],
            "role": m["role"],
            "pilot_start": [s.isoformat() if s else "" for s in m["pilot_start"]],
            "pilot_type": m["pilot_type"],
            "cohort": m["cohort"],
            "population": districts["population"],
            "share_higher_education": districts["share_higher_education"],
            "median_income": districts["median_income"],
            "share_immigrant": districts["share_immigrant"],
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_turnout(path: Path, turnout: pd.DataFrame, munis: pd.DataFrame, districts: pd.DataFrame) -> None:
    """Write valgdeltakelse_stemmekretser.csv in the election authority's layout (';', decimal comma)."""
    d = districts.iloc[turnout["district"].to_numpy()].reset_index(drop=True)
    m = munis.iloc[d["municipality"].to_numpy()].reset_index(drop=True)
    percent = 100 * turnout["votes"] / turnout["eligible"]
    frame = pd.DataFrame(
        {
            "Kommunenummer": m["municipality_code"],
            "Kommunenavn": m["municipality_name"],
            "Stemmekretsnummer": d["district_number"],
            "Stemmekretsnavn": d["area_name"],
            "Valgtype": turnout["election_type"].map(ELECTION_TYPE_LABELS),
            "Valgår": turnout["election_year"],
            "Antall stemmeberettigede": turnout["eligible"],
            "Antall forhåndsstemmer": turnout["advance"],
            "Antall valgtingsstemmer": turnout["votes"] - turnout["advance"],
            "Antall stemmer totalt": turnout["votes"],
            "Oppmøteprosent": [f"{p:.1f}".replace(".", ",") for p in percent],
        }
    )
    frame.to_csv(path, sep=";", index=False, encoding="utf-8", lineterminator="\n")


def write_margins(path: Path, pop: Population, munis: pd.DataFrame) -> None:
    """Write befolkning_marginer.csv: counts by municipality x gender x age group and x education.

    Age is ``REFERENCE_YEAR - birth year`` (the population register of 2019).
    """
    n_m, n_a = len(munis), len(AGE_GROUPS)
    age_index = np.searchsorted([high for _, high, _ in AGE_GROUPS], REFERENCE_YEAR - pop.birth_year)
    gender_age = np.bincount((pop.municipality * 2 + pop.gender - 1) * n_a + age_index, minlength=n_m * 2 * n_a)
    education = np.bincount(pop.municipality * 3 + pop.education - 1, minlength=n_m * 3)
    codes = munis["municipality_code"].to_numpy()
    genders = list(GENDER_CODES.values())
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "margin": "gender_age",
                    "municipality_code": np.repeat(codes, 2 * n_a),
                    "gender": np.tile(np.repeat(genders, n_a), n_m),
                    "age_group": np.tile([label for _, _, label in AGE_GROUPS], 2 * n_m),
                    "education": "",
                    "population": gender_age,
                }
            ),
            pd.DataFrame(
                {
                    "margin": "education",
                    "municipality_code": np.repeat(codes, 3),
                    "gender": "",
                    "age_group": "",
                    "education": np.tile(list(EDUCATION_CODES.values()), n_m),
                    "population": education,
                }
            ),
        ],
        ignore_index=True,
    )
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_register(
    path: Path,
    rng: np.random.Generator,
    pop: Population,
    districts: pd.DataFrame,
    turnout: pd.DataFrame,
    election: tuple[str, int],
) -> dict[str, Any]:
    """Write an electoral-roll register of one election (SPSS, one row per eligible voter) and describe it.

    Each district has as many rows as its eligible voters in the turnout file and
    exactly its votes as ``stemt = 1``, so the register agrees with the turnout
    file. Voters are the district's adults in random order (cycled when the
    electorate has grown past the 2019 population); who voted is drawn without
    replacement with weights exp(0.5 higher - 0.5 compulsory + 0.3 [age >= 45]
    - 0.3 immigrant). ``utdanning`` is 9 (unknown) for 1 % of rows. Columns
    follow ``config/codebooks/register_valgmanntall.yaml``: stemmekrets
    (area code), stemt, kjonn, fodselsar, utdanning, innvandrer.
    """
    election_type, year = election
    rows = turnout[(turnout["election_type"] == election_type) & (turnout["election_year"] == year)]
    rows = rows.sort_values("district")
    eligible = rows["eligible"].to_numpy()
    votes = rows["votes"].to_numpy()
    n_d = len(districts)
    # persons grouped by district in random order, and each district's first position
    order = np.lexsort((rng.random(len(pop.district)), pop.district))
    size = np.bincount(pop.district, minlength=n_d)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    district = np.repeat(np.arange(n_d), eligible)
    offset = np.arange(len(district)) - np.repeat(np.concatenate([[0], np.cumsum(eligible)[:-1]]), eligible)
    person = order[first[district] + offset % size[district]]
    age = year - pop.birth_year[person]
    education = pop.education[person]
    weight = np.exp(0.5 * (education == 3) - 0.5 * (education == 1) + 0.3 * (age >= 45) - 0.3 * pop.immigrant[person])
    key = np.log(rng.random(len(person))) / weight  # Efraimidis-Spirakis: the largest keys are a weighted sample
    ranked = np.lexsort((-key, district))
    rank = np.empty(len(person), dtype=np.int64)
    rank[ranked] = np.arange(len(person)) - np.repeat(np.concatenate([[0], np.cumsum(eligible)[:-1]]), eligible)
    voted = (rank < votes[district]).astype(np.int64)
    education = np.where(rng.random(len(person)) < 0.01, REGISTER_UNKNOWN, education)
    frame = pd.DataFrame(
        {
            "stemmekrets": districts["area_code"].to_numpy()[district],
            "stemt": voted,
            "kjonn": pop.gender[person],
            "fodselsar": pop.birth_year[person],
            "utdanning": education,
            "innvandrer": pop.immigrant[person],
        }
    )
    pyreadstat.write_sav(
        frame,
        path,
        file_label=f"Valgmanntall med valgdeltakelse, {election_type} {year}, syntetiske data",
        column_labels={
            "stemmekrets": "Stemmekrets (kommunenummer + kretsnummer)",
            "stemt": "Har stemt",
            "kjonn": "Kjønn",
            "fodselsar": "Fødselsår",
            "utdanning": "Høyeste fullførte utdanning",
            "innvandrer": "Innvandrerbakgrunn",
        },
        variable_value_labels={
            "stemt": {0: "Nei", 1: "Ja"},
            "kjonn": {1: "Mann", 2: "Kvinne"},
            "utdanning": {
                1: "Grunnskole",
                2: "Videregående skole",
                3: "Universitet/høyskole",
                REGISTER_UNKNOWN: "Ukjent",
            },
            "innvandrer": {0: "Nei", 1: "Ja"},
        },
        missing_ranges={"utdanning": [REGISTER_UNKNOWN]},
        variable_format={
            "stemt": "F1.0",
            "kjonn": "F1.0",
            "fodselsar": "F4.0",
            "utdanning": "F1.0",
            "innvandrer": "F1.0",
        },
    )
    return {
        "file": path.name,
        "election_type": election_type,
        "election_year": year,
        "rows": int(len(frame)),
        "votes": int(voted.sum()),
        "codebook": "config/codebooks/register_valgmanntall.yaml",
        "description": "one row per eligible voter; per district the rows and votes equal the turnout file's",
    }


def spss_metadata(wave: int) -> dict[str, Any]:
    """Variable labels, value labels, missing codes and formats of one wave's SPSS file."""
    missing = {DONT_KNOW: "Vet ikke", REFUSED: "Vil ikke svare"}
    yes_no = {0: "Nei", 1: "Ja"}
    trust = {0: "Ingen tillit", 10: "Full tillit"}
    satisfaction = {1: "Svært misfornøyd", 2: "Nokså misfornøyd", 3: "Nokså fornøyd", 4: "Svært fornøyd"}
    labels = {
        "Resp_ID": "Respondent-ID (fast på tvers av bølger)",
        "kommune": "Kommunenummer",
        "intervjudato": "Intervjudato",
        "vekt_design": "Designvekt (voksne innbyggere i kommunen / antall svar i kommunen)",
        "kjonn": "Kjønn",
        "fodselsar": "Fødselsår",
        "utdanning": "Høyeste fullførte utdanning",
        "inntekt_desil": "Inntektsdesil (1 = laveste, 10 = høyeste)",
        "innvandrerbakgrunn": "Innvandrerbakgrunn",
    }
    value_labels = {
        "kjonn": {1: "Mann", 2: "Kvinne"},
        "utdanning": {1: "Grunnskole", 2: "Videregående skole", 3: "Universitet/høyskole"},
        "innvandrerbakgrunn": yes_no,
    }
    formats = {
        "vekt_design": "F10.4",
        "kjonn": "F1.0",
        "fodselsar": "F4.0",
        "utdanning": "F1.0",
        "inntekt_desil": "F2.0",
        "innvandrerbakgrunn": "F1.0",
    }
    for item in ITEMS:
        name = spss_name(item, wave)
        labels[name] = item.label
        substantive = yes_no if item.kind == "binary" else trust if item.high == 10 else satisfaction
        value_labels[name] = {**substantive, **missing}
        formats[name] = "F2.0"
    return {
        "column_labels": labels,
        "variable_value_labels": value_labels,
        "variable_format": formats,
        "missing_ranges": {spss_name(item, wave): [DONT_KNOW, REFUSED] for item in ITEMS},
    }


def spss_name(item: Item, wave: int) -> str:
    """The item's variable name in a given wave (the vendor renamed trust items from wave 6)."""
    return item.late_variable if wave >= LATE_NAMES_FROM_WAVE else item.variable


def respondent_ids(ids: np.ndarray) -> np.ndarray:
    """Text ids 'IP' + 7 digits from integer ids."""
    return np.char.add("IP", np.char.zfill(ids.astype(str), 7))


def wave_frame(rows: pd.DataFrame, pop: Population, munis: pd.DataFrame, ids: np.ndarray, wave: int) -> pd.DataFrame:
    """One wave's SPSS data in contract variable order, sorted by Resp_ID."""
    person = rows["person"].to_numpy()
    muni = rows["municipality"].to_numpy()
    respondents = np.bincount(muni, minlength=len(munis))
    weight = munis["population"].to_numpy() / np.maximum(respondents, 1)
    frame = pd.DataFrame(
        {
            "Resp_ID": respondent_ids(ids[person]),
            "kommune": munis["municipality_code"].to_numpy()[muni],
            "intervjudato": pd.Series(rows["interview_date"].to_numpy()).dt.date.to_numpy(),
            "vekt_design": weight[muni],
            "kjonn": pop.gender[person],
            "fodselsar": pop.birth_year[person],
            "utdanning": pop.education[person],
            "inntekt_desil": pop.income_decile[person],
            "innvandrerbakgrunn": pop.immigrant[person],
        }
    )
    for item in ITEMS:
        frame[spss_name(item, wave)] = rows[item.outcome].to_numpy()
    return frame.sort_values("Resp_ID", kind="stable", ignore_index=True)


def write_panel(
    out_dir: Path,
    answers: pd.DataFrame,
    pop: Population,
    munis: pd.DataFrame,
    ids: np.ndarray,
    n_waves: int,
    per_year: int = 2,
) -> list[str]:
    """Write innbyggerpanel_bolgeNN.sav for every wave (labels and user-missing 97/98 on items); returns the names."""
    names = []
    for wave in range(1, n_waves + 1):
        frame = wave_frame(answers[answers["wave"] == wave], pop, munis, ids, wave)
        year, month = wave_timing(wave, per_year)
        season = "vår" if month < 7 else "høst"
        names.append(f"innbyggerpanel_bolge{wave:02d}.sav")
        pyreadstat.write_sav(
            frame,
            out_dir / names[-1],
            file_label=f"Innbyggerpanelet, bølge {wave} ({season} {year}), syntetiske data",
            **spss_metadata(wave),
        )
    return names
