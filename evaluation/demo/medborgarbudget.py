"""The ``medborgarbudget`` seed programme: Swedish participatory budgeting in low-trust areas, with known truths.

Modelled on the SKL medborgarbudget network of 2016-18: four of ten invented
municipalities (kommunkod 1901-1910) each treat one to three low-trust
sub-municipal *areas* of two to four valdistrikt, in three yearly budget
cycles (2016, 2017, 2018; the pilot runs from 2016-03-01 to 2018-12-31). The
treated areas were chosen for low trust and low turnout (a level difference;
trends are common, so difference-in-differences is unbiased).

Files written (all data invented):

- ``omradesregister.csv``: one row per valdistrikt with its area
  (``omrade_kod``, ``omrade_namn``; empty outside the treated areas) and its
  municipality, role, pilot start and end, type and cycles;
- ``valdeltagande_valdistrikt.csv``: valdistrikt turnout in the same-day
  riksdag, region and kommun elections of 2010, 2014, 2018 and 2022
  (``;``-separated, decimal comma);
- ``medborgarpanel_vag{N}.csv``: six yearly survey waves (October 2014-2019);
  respondents carry their municipality and valdistrikt, the treated areas are
  oversampled three times (design weights undo it);
- ``befolkning_marginer.csv``: adults by municipality, gender and age group
  (the margins layout of ``docs/data-contracts.md``);
- ``truth.json``: the effects put into the data and the treated areas (``pilots``: area -> its valdistrikt).

Truths: in the treated areas, from the pilot start on (and after its end: the
effect persists), turnout rises by :data:`TURNOUT_EFFECT_PP` points in every
election and the survey outcomes by :data:`SURVEY_EFFECTS`; nothing changes
elsewhere, so the across- and within-municipality comparisons estimate the same
effect.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.demo.manifest import check_output_folder, write_manifest

AREAS_FILE = "omradesregister.csv"
TURNOUT_FILE = "valdeltagande_valdistrikt.csv"
SURVEY_FILES = "medborgarpanel_vag{wave}.csv"
MARGINS_FILE = "befolkning_marginer.csv"
AGE_SHARES = {"18-29": 0.2, "30-44": 0.25, "45-59": 0.25, "60+": 0.3}
TRUTH_FILE = "truth.json"
START, END = "2016-03-01", "2018-12-31"
CYCLES = "2016;2017;2018"
ELECTIONS = {2010: "2010-09-19", 2014: "2014-09-14", 2018: "2018-09-09", 2022: "2022-09-11"}
ELECTION_NAMES = ("Riksdagsval", "Regionval", "Kommunval")
SURVEY_YEARS = range(2014, 2020)
TURNOUT_EFFECT_PP = 3.0
SURVEY_EFFECTS = {"trust_municipality": 0.6, "trust_politicians": 0.4, "took_part_budget": 0.10}
"""Effects in the treated areas: scale points (0-10) for the trust items, a probability for the yes/no item."""
MUNICIPALITIES = ("Älvby", "Granåsa", "Björkvik", "Sjöhamra", "Lindmo", "Ekeberga", "Norrsund", "Tallmora")
MUNICIPALITIES += ("Videsta", "Ramnäs")
N_PILOTS = 4
OVERSAMPLING = 3.0
RESPONDENTS_PER_DISTRICT = 12


def _register(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for m, name in enumerate(MUNICIPALITIES):
        code = f"19{m + 1:02d}"
        n_districts = int(rng.integers(8, 15))
        low_trust = rng.normal(0, 1, n_districts)
        order = np.argsort(low_trust)  # the lowest-trust districts form the treated areas
        areas = {}
        if m < N_PILOTS:
            position = 0
            for k in range(int(rng.integers(1, 4))):
                size = int(rng.integers(2, 5))
                for d in order[position : position + size]:
                    areas[int(d)] = k
                position += size
        for d in range(n_districts):
            treated = d in areas
            rows.append(
                {
                    "Valdistriktskod": f"{code}{d + 1:04d}",
                    "Valdistriktsnamn": f"{name} {d + 1}",
                    "Kommunkod": code,
                    "Kommunnamn": name,
                    "roll": "pilot" if treated else "control",
                    "start": START if treated else "",
                    "slut": END if treated else "",
                    "typ": "participatory_budgeting" if treated else "",
                    "omgangar": CYCLES if treated else "",
                    "omrade_kod": f"{code}-{areas[d] + 1}" if treated else "",
                    "omrade_namn": f"{name} område {'ABC'[areas[d]]}" if treated else "",
                    "befolkning": int(rng.integers(1200, 4000)),
                    "trust_level": low_trust[d] - (0.8 if treated else 0.0),
                }
            )
    return pd.DataFrame(rows)


def _turnout(rng: np.random.Generator, register: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in register.iterrows():
        level = 82 + 2.0 * r["trust_level"] + rng.normal(0, 1.5)
        eligible = int(r["befolkning"] * 0.8)
        for year, date in ELECTIONS.items():
            for k, election in enumerate(ELECTION_NAMES):
                treated = r["roll"] == "pilot" and date >= START
                pp = level - 1.5 * k + 0.4 * (year - 2010) / 4 + TURNOUT_EFFECT_PP * treated
                votes = int(rng.binomial(eligible, np.clip(pp / 100, 0.05, 0.99)))
                rows.append(
                    {
                        "Valtyp": election,
                        "År": year,
                        "Kommunkod": r["Kommunkod"],
                        "Kommunnamn": r["Kommunnamn"],
                        "Valdistriktskod": r["Valdistriktskod"],
                        "Valdistriktsnamn": r["Valdistriktsnamn"],
                        "Röstberättigade": eligible,
                        "Antal röster": votes,
                        "Valdeltagande": f"{100 * votes / eligible:.2f}".replace(".", ","),
                    }
                )
    return pd.DataFrame(rows)


def _survey_wave(rng: np.random.Generator, register: pd.DataFrame, wave: int, year: int) -> pd.DataFrame:
    frames = []
    for _, r in register.iterrows():
        pilot = r["roll"] == "pilot"
        n = int(RESPONDENTS_PER_DISTRICT * (OVERSAMPLING if pilot else 1.0))
        days = rng.integers(0, 31, n)
        dates = pd.Timestamp(f"{year}-10-01") + pd.to_timedelta(days, unit="D")
        treated = pilot & (dates >= pd.Timestamp(START))
        education = rng.choice([1, 2, 3], n, p=[0.25, 0.45, 0.30])
        trust = 5.5 + 0.5 * r["trust_level"] + 0.3 * (education - 2) + 0.05 * wave
        outcomes = {
            "fraga_tillit_kommun": trust + SURVEY_EFFECTS["trust_municipality"] * treated,
            "fraga_tillit_politiker": trust - 0.8 + SURVEY_EFFECTS["trust_politicians"] * treated,
        }
        frame = {
            "lopnr": [f"{r['Valdistriktskod']}{wave:02d}{k:03d}" for k in range(n)],
            "kommun": r["Kommunkod"],
            "valdistrikt": r["Valdistriktskod"],
            "intervjudatum": dates.strftime("%Y-%m-%d"),
            "designvikt": round(r["befolkning"] / n, 4),
            "kon": rng.choice([1, 2], n),
            "alder": rng.integers(18, 90, n),
            "utbildning": education,
        }
        for column, mean in outcomes.items():
            frame[column] = np.clip(np.rint(mean + rng.normal(0, 1.6, n)), 0, 10).astype(int)
        budget = 0.05 + SURVEY_EFFECTS["took_part_budget"] * treated
        frame["fraga_deltog_budget"] = rng.binomial(1, budget)
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def _margins(register: pd.DataFrame) -> pd.DataFrame:
    adults = register.groupby("Kommunkod")["befolkning"].sum()
    rows = [
        {"margin": "gender_age", "municipality_code": code, "gender": gender, "age_group": age}
        | {"education": "", "population": int(round(total * share / 2))}
        for code, total in adults.items()
        for gender in ("male", "female")
        for age, share in AGE_SHARES.items()
    ]
    return pd.DataFrame(rows)


def generate_medborgarbudget(out_dir: Path, seed: int) -> dict:
    """Write the programme's raw files to ``out_dir`` and return its truths (also written as ``truth.json``).

    Raises
    ------
    ConfigError
        When ``out_dir`` holds a file the generator did not write (nothing is written then).
    """
    out_dir = Path(out_dir)
    check_output_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    register = _register(rng)
    register.drop(columns="trust_level").to_csv(out_dir / AREAS_FILE, index=False)
    _turnout(rng, register).to_csv(out_dir / TURNOUT_FILE, sep=";", index=False)
    _margins(register).to_csv(out_dir / MARGINS_FILE, index=False)
    written = [AREAS_FILE, TURNOUT_FILE, MARGINS_FILE, TRUTH_FILE]
    for wave, year in enumerate(SURVEY_YEARS, start=1):
        name = SURVEY_FILES.format(wave=wave)
        _survey_wave(rng, register, wave, year).to_csv(out_dir / name, index=False)
        written.append(name)
    pilots = register[register["roll"] == "pilot"]
    truth = {
        "description": "Known truths of the medborgarbudget seed programme (evaluation.demo.medborgarbudget; all data invented).",
        "seed": seed,
        "pilots": {code: sorted(group["Valdistriktskod"]) for code, group in pilots.groupby("omrade_kod", sort=True)},
        "pilot_municipalities": sorted(pilots["Kommunkod"].unique()),
        "pilot_start": START,
        "pilot_end": END,
        "turnout": {"att_turnout_pp": TURNOUT_EFFECT_PP},
        "survey": {
            name: effect * (100 if name == "took_part_budget" else 1) for name, effect in SURVEY_EFFECTS.items()
        },
        "units": "turnout and yes/no items in percentage points, trust items in scale points (0-10)",
    }
    (out_dir / TRUTH_FILE).write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_manifest(out_dir, written)
    return truth
