"""Write a synthetic demo scenario with known truths.

The scenario is a fictional country of ``n_municipalities`` municipalities
(codes 9101, 9102, ...; names built from invented syllables) split into 3-12
voting districts each.  ``n_pilots`` municipalities run a local-democracy pilot
in two cohorts (starting 2019-08-01 and 2021-08-01); the rest are controls.
Every person of a finite adult population (about 1.2 million at 60
municipalities) is generated, so that the citizen panel is a real sample from a
known population and the population values of the two headline items are
known exactly.

Files written (the contract is ``docs/data-contracts.md``, "Raw demo files"):

- ``area_register.csv``: one row per district with its socioeconomic profile;
- ``valgdeltakelse_stemmekretser.csv``: district turnout for seven elections;
- ``innbyggerpanel_bolgeNN.sav``: one SPSS file per citizen-panel wave;
- ``befolkning_marginer.csv``: population margins for weighting;
- ``truth.json``: the effects put into the data and their realised values.

Truths
------
Turnout: a pilot adds 2.5 percentage points to the turnout probability of its
districts in every election held on or after ``pilot_start``, and 4.0 points in
districts in the lowest tercile of ``share_higher_education`` (over all
districts).  Votes are drawn with coupled potential outcomes, so the realised
eligible-weighted effect is known exactly besides the expected one.

Survey: respondents of pilot municipalities interviewed on or after
``pilot_start`` receive the pilot effects in ``ITEMS`` (probability points for
yes/no items, scale points for scales); ``signed_petition`` has no effect and is
the placebo outcome.  Each respondent-wave has both potential outcomes, so the
realised average effect among treated respondent-waves is recorded.  For
``voted_local`` and ``trust_local_politicians`` the outcomes of every member of
the population are generated in every wave (respondents' answers are taken
from them), which gives exact finite-population means by role and education.

Selection: pilots are mildly more likely in municipalities with low trust in
local politicians (a level difference); turnout trends are the same for pilots
and controls, so difference-in-differences is unbiased.  Panel members respond
with a probability that rises with education and leave the panel more often
when young or with little education, so unweighted survey means are biased
towards the higher educated.

All randomness comes from one ``numpy.random.Generator`` seeded with
``DemoConfig.seed``; the same seed gives byte-identical CSV and JSON files and
SPSS files with identical data.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from evaluation.demo.scales import FIRST_PANEL_YEAR, REGISTER_FILE, SCALES, SIZES, WAVE_MONTHS
from evaluation.errors import ConfigError

FIRST_MUNICIPALITY_CODE = 9101
PREFIXES = (
    "Tiur", "Multe", "Rype", "Jerv", "Gaupe", "Oter", "Lemen", "Krake", "Ugle", "Bever",
    "Lunde", "Skjære", "Hyse", "Kobbe", "Lyng", "Mose", "Einer", "Blåbær", "Sildre", "Tytte",
)
SUFFIXES = (
    "vik", "dal", "nes", "berg", "fjord", "øy", "stad", "heim", "våg", "sund", "li", "mo", "voll", "rud", "haug",
)
DISTRICT_NAMES = (
    "Sentrum", "Nordbyen", "Sørbyen", "Østsida", "Vestsida", "Bakkeli", "Strandvoll", "Heiås",
    "Moen", "Vikane", "Haugtun", "Elvebakken", "Furulund", "Solbakken", "Myrvang", "Fjellstua",
)
MIN_DISTRICTS, MAX_DISTRICTS = 3, 12
NAME_QUALIFIERS = ("Nord-", "Sør-")  # more names when the scenario has more municipalities than syllable pairs
MAX_MUNICIPALITIES = len(PREFIXES) * len(SUFFIXES) * (1 + len(NAME_QUALIFIERS))

COHORT_STARTS = (dt.date(2019, 8, 1), dt.date(2021, 8, 1))
PILOT_TYPES = ("citizen_panel", "participatory_budgeting", "youth_council")

ELECTIONS = (
    ("local", 2011), ("parliamentary", 2013), ("local", 2015), ("parliamentary", 2017),
    ("local", 2019), ("parliamentary", 2021), ("local", 2023),
)
ELECTION_TYPE_LABELS = {"local": "Kommunestyre- og fylkestingsvalg", "parliamentary": "Stortingsvalg"}
BASE_TURNOUT = {"local": 0.62, "parliamentary": 0.78}
ADVANCE_SHARE = {2011: 0.20, 2013: 0.26, 2015: 0.25, 2017: 0.35, 2019: 0.37, 2021: 0.51, 2023: 0.50, 2025: 0.55}
TURNOUT_EFFECT = 0.025
TURNOUT_EFFECT_LOW_EDUCATION = 0.040

REFERENCE_YEAR = 2019  # register year: everyone in the population is 18+ in 2019
PILOT_RESPONDENTS = 150
MIN_CONTROL_RESPONDENTS = 15
RETENTION = 0.80
RESPONSE_PROPENSITY = {1: 0.20, 2: 0.30, 3: 0.45}  # by education code, before the age factor
RESPONSE_FACTOR_UNDER_30 = 0.8
DONT_KNOW, REFUSED = 97, 98
NONRESPONSE_RATES = {DONT_KNOW: 0.02, REFUSED: 0.01}

EDUCATION_CODES = {1: "compulsory", 2: "upper_secondary", 3: "higher"}
EDUCATION_SHARES = (0.25, 0.40, 0.35)  # of the adult population, by education code
GENDER_CODES = {1: "male", 2: "female"}
AGE_GROUPS = ((18, 29, "18-29"), (30, 44, "30-44"), (45, 59, "45-59"), (60, 200, "60+"))


@dataclass(frozen=True)
class Structure:
    """What a scale fixes beyond the sizes: geography, elections, cohorts and the register.

    Districts per municipality: ``district_base + district_slope x span + N(0, 1)``,
    rounded and clipped to ``districts``, where span is the municipality's log
    size scaled to 0-1.
    """

    adults_per_municipality: int
    districts: tuple[int, int]
    district_base: float
    district_slope: float
    elections: tuple[tuple[str, int], ...]
    cohort_starts: tuple[dt.date, ...]
    max_waves: int
    waves_per_year: int  # 2: March and October; 4: March, May, October and December
    register_election: tuple[str, int] | None  # the election of the electoral-roll register file, if one is written


STRUCTURES = {
    "demo": Structure(20_000, (MIN_DISTRICTS, MAX_DISTRICTS), 3.5, 9.0, ELECTIONS, COHORT_STARTS, 20, 2, None),
    # Norway-like: ~4.2 million adults, ~6,000 districts, 8 elections, a third cohort in 2023, and four
    # waves a year, so that 30 waves end in 2026 (the adult population is that of 2019 and ages with the panel)
    "national": Structure(12_000, (4, 80), 3.5, 50.0, (*ELECTIONS, ("parliamentary", 2025)),
                          (*COHORT_STARTS, dt.date(2023, 8, 1)), 40, 4, ("local", 2023)),
}
REGISTER_UNKNOWN = 9  # the register's code for an unknown education (missing code in its codebook)


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo scenario.

    ``scale`` selects the :class:`Structure` (``demo`` or ``national``); the
    national preset is :meth:`national`.
    """

    seed: int = 20190801
    n_municipalities: int = 60
    n_pilots: int = 7  # split over two cohorts: 4 starting 2019-08-01, 3 starting 2021-08-01
    respondents_per_wave: int = 3000
    n_waves: int = 10
    scale: str = "demo"

    @property
    def structure(self) -> Structure:
        return STRUCTURES[self.scale]

    @classmethod
    def national(cls, seed: int = 20190801) -> "DemoConfig":
        """The national preset: 350 municipalities, ~6,000 districts, 8 elections, 30 waves of 10,000, 8 pilots
        in 3 cohorts and a 2023 electoral-roll register of ~4.2 million rows (SPSS)."""
        sizes = SIZES["national"]
        return cls(seed=seed, n_municipalities=sizes["municipalities"], n_pilots=sizes["pilots"],
                   respondents_per_wave=sizes["respondents_per_wave"], n_waves=sizes["waves"], scale="national")

    @classmethod
    def from_settings(cls, demo: dict[str, Any]) -> "DemoConfig":
        """From the config's ``demo`` section (``scale: national`` gives the preset, keeping the seed)."""
        seed = demo.get("seed", cls.seed)
        if demo.get("scale", "demo") == "national":
            return cls.national(seed)
        return cls(seed=seed, n_municipalities=demo.get("municipalities", cls.n_municipalities),
                   n_pilots=demo.get("pilots", cls.n_pilots),
                   respondents_per_wave=demo.get("respondents_per_wave", cls.respondents_per_wave),
                   n_waves=demo.get("waves", cls.n_waves))

    def summary(self) -> dict[str, Any]:
        """JSON-friendly config for truth.json (the scale's structure only when it is not the demo's)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "scale"}
        if self.scale != "demo":
            s = self.structure
            out.update(scale=self.scale, adults_per_municipality=s.adults_per_municipality,
                       elections=[list(e) for e in s.elections], cohort_starts=[d.isoformat() for d in s.cohort_starts],
                       register_election=list(s.register_election) if s.register_election else None)
        return out


@dataclass(frozen=True)
class Item:
    """One citizen-panel item: its SPSS names, outcome model and pilot effect.

    Binary items: P(yes) = logistic(latent) and the pilot adds ``effect`` to that
    probability.  Scale items: the answer is the latent value rounded and clipped
    to ``[low, high]``, and the pilot adds ``effect`` scale points to the latent
    value (plus ``extra_effect_compulsory`` for persons with compulsory education).
    The latent value is ``intercept`` + group terms + ``person_loading`` x the
    person's persistent effect + ``municipal_loading`` x the municipality's trust
    effect + ``trend_per_wave`` x (wave - 1) + a wave shock (+ noise for scales).
    """

    outcome: str
    variable: str
    late_variable: str  # the vendor's name from wave 6 on
    label: str
    kind: str  # binary | scale
    low: int
    high: int
    intercept: float
    higher: float
    compulsory: float
    age_per_decade: float
    immigrant: float
    person_loading: float
    municipal_loading: float
    noise_sd: float
    trend_per_wave: float
    effect: float
    extra_effect_compulsory: float = 0.0


ITEMS = (
    Item("voted_local", "delt_stemte_lokalvalg", "delt_stemte_lokalvalg", "Stemte ved siste kommunestyrevalg",
         "binary", 0, 1, 1.4, 0.5, -0.5, 0.25, -0.6, 0.8, 0.0, 0.0, 0.01, 0.025),
    Item("contacted_politician", "delt_kontaktet_politiker", "delt_kontaktet_politiker",
         "Har kontaktet en lokalpolitiker siste 12 måneder", "binary", 0, 1, -1.7, 0.4, -0.4, 0.1, -0.3, 0.8,
         0.0, 0.0, 0.01, 0.02),
    Item("attended_meeting", "delt_folkemote", "delt_folkemote", "Har deltatt på folkemøte siste 12 måneder",
         "binary", 0, 1, -1.5, 0.3, -0.3, 0.1, -0.4, 0.8, 0.0, 0.0, 0.01, 0.03),
    Item("took_part_consultation", "delt_hoering_budsjett", "delt_hoering_budsjett",
         "Har deltatt i høring eller innbyggerbudsjett siste 12 måneder", "binary", 0, 1, -2.4, 0.5, -0.4, 0.05,
         -0.3, 0.8, 0.0, 0.0, 0.01, 0.05),
    Item("signed_petition", "delt_underskrift", "delt_underskrift", "Har skrevet under på et opprop siste 12 måneder",
         "binary", 0, 1, -1.1, 0.4, -0.3, -0.05, -0.2, 0.8, 0.0, 0.0, 0.01, 0.0),
    Item("trust_local_politicians", "tillit_lokalpolitikere", "k12a", "Tillit til lokalpolitikerne",
         "scale", 0, 10, 5.3, 0.6, -0.5, 0.15, -0.3, 1.3, 1.0, 1.3, -0.03, 0.3, 0.4),
    Item("trust_council", "tillit_kommunestyret", "k12b", "Tillit til kommunestyret",
         "scale", 0, 10, 5.6, 0.6, -0.5, 0.15, -0.3, 1.2, 1.0, 1.3, -0.03, 0.3),
    Item("trust_administration", "tillit_administrasjonen", "k12c", "Tillit til kommuneadministrasjonen",
         "scale", 0, 10, 6.1, 0.4, -0.3, 0.1, -0.2, 1.0, 0.8, 1.3, -0.02, 0.2),
    Item("satisfaction_democracy", "tilfredshet_lokaldemokrati", "tilfredshet_lokaldemokrati",
         "Hvor fornøyd er du med hvordan lokaldemokratiet fungerer i din kommune?", "scale", 1, 4, 2.8, 0.15,
         -0.1, 0.05, -0.05, 0.35, 0.3, 0.55, -0.01, 0.1),
)
POPULATION_ITEMS = ("voted_local", "trust_local_politicians")
PLACEBO_OUTCOME = "signed_petition"
LATE_NAMES_FROM_WAVE = 6


@dataclass(frozen=True)
class Population:
    """The finite adult population: one array element per person."""

    district: np.ndarray  # index into the district table
    municipality: np.ndarray  # index into the municipality table
    gender: np.ndarray  # 1 male, 2 female
    birth_year: np.ndarray
    education: np.ndarray  # 1 compulsory, 2 upper secondary, 3 higher
    income_decile: np.ndarray  # 1-10, national deciles of the adult population
    immigrant: np.ndarray  # 0/1
    participation_effect: np.ndarray  # persistent person effect, standard normal
    trust_effect: np.ndarray  # persistent person effect, standard normal

    def take(self, index: np.ndarray) -> "Population":
        """Return the persons at ``index`` (in that order)."""
        return Population(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


# --------------------------------------------------------------------------- geography


def check_config(config: DemoConfig) -> None:
    """Raise ConfigError when the scenario cannot be generated as configured."""
    problems = []
    if config.scale not in SCALES:
        raise ConfigError(f"demo configuration: scale={config.scale!r} must be one of {', '.join(SCALES)}")
    if not 10 <= config.n_municipalities <= MAX_MUNICIPALITIES:
        problems.append(f"n_municipalities={config.n_municipalities} must be within 10-{MAX_MUNICIPALITIES}")
    if not 2 <= config.n_pilots <= config.n_municipalities // 2:
        problems.append(f"n_pilots={config.n_pilots} must be within 2 and half the municipalities")
    if config.respondents_per_wave < 100:
        problems.append(f"respondents_per_wave={config.respondents_per_wave} must be at least 100")
    if not 2 <= config.n_waves <= config.structure.max_waves:
        problems.append(f"n_waves={config.n_waves} must be within 2-{config.structure.max_waves}")
    if not problems:
        n_controls = config.n_municipalities - config.n_pilots
        rest = config.respondents_per_wave - config.n_pilots * respondents_per_pilot(config)
        if MIN_CONTROL_RESPONDENTS * n_controls > rest:
            problems.append(f"respondents_per_wave={config.respondents_per_wave} leaves {rest} interviews for "
                            f"{n_controls} control municipalities; at least {MIN_CONTROL_RESPONDENTS} each needed")
    if problems:
        raise ConfigError("demo configuration: " + "; ".join(problems))


def municipality_sizes(rng: np.random.Generator, n: int, per_municipality: int = 20_000) -> np.ndarray:
    """Adults 18+ per municipality: log-normal, one city of ~200-250k, about ``per_municipality`` x n in total."""
    total = per_municipality * n
    largest = min(rng.uniform(200_000, 250_000), 0.35 * total)
    rest = np.exp(rng.normal(np.log(8_000), 1.0, n - 1))
    rest = np.clip(rest * (total - largest) / rest.sum(), 2_000, 0.6 * largest)
    return np.round(np.concatenate([[largest], rest])).astype(np.int64)


def municipality_names(rng: np.random.Generator, n: int) -> list[str]:
    """Unique invented names such as 'Tiurvik' (prefix + suffix syllables)."""
    combos = [p + s for p in PREFIXES for s in SUFFIXES]
    if n > len(combos):  # national scale: 'Nord-Tiurvik', 'Sør-Tiurvik' as well
        combos += [q + c for q in NAME_QUALIFIERS for c in combos]
    return [combos[i] for i in rng.choice(len(combos), n, replace=False)]


def choose_pilots(rng: np.random.Generator, sizes: np.ndarray, trust: np.ndarray, n_pilots: int) -> np.ndarray:
    """Indices of the pilot municipalities.

    One of the three largest and one of the five smallest municipalities, the rest
    drawn with weights that favour low trust (exp(-1.5 z) for the standardised
    municipal trust effect z).
    """
    by_size = np.argsort(sizes, kind="stable")
    large = rng.choice(by_size[-3:])
    small = rng.choice(by_size[:5])
    others = np.setdiff1d(np.arange(len(sizes)), [large, small])
    weights = np.exp(-1.5 * (trust[others] - trust.mean()) / trust.std())
    rest = rng.choice(others, n_pilots - 2, replace=False, p=weights / weights.sum())
    return np.sort(np.concatenate([[large, small], rest]))


def build_municipalities(rng: np.random.Generator, config: DemoConfig) -> pd.DataFrame:
    """One row per municipality with its size, latent profile, effects and pilot role.

    Columns: municipality_code, municipality_name, population (adults 18+),
    size_z (standardised log size), ses (latent socioeconomic level), trust_effect
    (scale points on 0-10 trust items), turnout_effect (probability), growth
    (yearly growth of the electorate), role, pilot_start (date or None),
    pilot_type, cohort.
    """
    n = config.n_municipalities
    sizes = municipality_sizes(rng, n, config.structure.adults_per_municipality)
    log_size = np.log(sizes)
    size_z = (log_size - log_size.mean()) / log_size.std()
    trust = rng.normal(0.0, 0.35, n)
    munis = pd.DataFrame({
        "municipality_code": [str(FIRST_MUNICIPALITY_CODE + i) for i in range(n)],
        "municipality_name": municipality_names(rng, n),
        "population": sizes,
        "size_z": size_z,
        "ses": 0.5 * size_z + rng.normal(0.0, 0.6, n),
        "trust_effect": trust,
        "turnout_effect": rng.normal(0.0, 0.02, n) + 0.02 * trust,
        "growth": rng.normal(0.006, 0.006, n),
    })
    return assign_pilots(rng, munis, choose_pilots(rng, sizes, trust, config.n_pilots),
                         config.structure.cohort_starts)


def assign_pilots(rng: np.random.Generator, munis: pd.DataFrame, pilots: np.ndarray,
                  cohort_starts: tuple[dt.date, ...] = COHORT_STARTS) -> pd.DataFrame:
    """Add role, cohort, pilot_start and pilot_type.

    The shuffled pilots are split over the cohorts in order, earlier cohorts
    taking the remainder (two cohorts: the first ceil(n/2) start in 2019).
    """
    n_pilots = len(pilots)
    shuffled = rng.permutation(pilots)
    starts = np.arange(n_pilots) * len(cohort_starts) // n_pilots
    types = rng.permutation(np.resize(np.array(PILOT_TYPES), n_pilots))
    munis = munis.assign(role="control", pilot_start=None, pilot_type="", cohort="")
    for index, start, pilot_type in zip(shuffled, starts, types):
        munis.loc[index, ["role", "pilot_start", "pilot_type", "cohort"]] = [
            "pilot", cohort_starts[start], str(pilot_type), str(cohort_starts[start].year)
        ]
    return munis


def build_districts(rng: np.random.Generator, munis: pd.DataFrame, structure: Structure = STRUCTURES["demo"]) -> pd.DataFrame:
    """One row per voting district: codes, name, adult population and latent profile.

    The number of districts (3-12) grows with municipality size; district
    populations split the municipality's adults (at least 30 % of an equal share
    each).  ``ses`` is the district's latent socioeconomic level (municipality
    level + district deviation); ``immigrant_logit`` drives immigrant background.
    """
    log_size = np.log(munis["population"].to_numpy())
    span = (log_size - log_size.min()) / (log_size.max() - log_size.min())
    low, high = structure.districts
    counts = np.clip(np.rint(structure.district_base + structure.district_slope * span + rng.normal(0, 1, len(munis))),
                     low, high).astype(int)
    parts = []
    for index, (count, muni) in enumerate(zip(counts, munis.itertuples())):
        shares = 0.3 / count + 0.7 * rng.dirichlet(np.full(count, 4.0))
        names = ([DISTRICT_NAMES[0], *rng.choice(DISTRICT_NAMES[1:], count - 1, replace=False)]
                 if count <= len(DISTRICT_NAMES) else district_names(rng, count))
        parts.append(pd.DataFrame({
            "municipality": index,
            "district_number": [f"{k:04d}" for k in range(1, count + 1)],
            "area_name": names,
            "population": rng.multinomial(muni.population, shares),
        }))
    districts = pd.concat(parts, ignore_index=True)
    muni_index = districts["municipality"].to_numpy()
    n = len(districts)
    ses = munis["ses"].to_numpy()[muni_index] + rng.normal(0.0, 0.6, n)
    return districts.assign(
        area_code=munis["municipality_code"].to_numpy()[muni_index] + districts["district_number"],
        ses=ses,
        immigrant_logit=(np.log(0.13 / 0.87) + 0.4 * munis["size_z"].to_numpy()[muni_index]
                         - 0.35 * ses + rng.normal(0.0, 0.4, n)),
        median_income=np.round(430_000 + 50_000 * ses + rng.normal(0.0, 35_000, n), -2).astype(np.int64),
    )


def district_names(rng: np.random.Generator, count: int) -> list[str]:
    """Names for a municipality with more districts than DISTRICT_NAMES: 'Sentrum', then 'Moen', 'Moen 2', ..."""
    rest = [f"{name} {k}" if k > 1 else name for k in range(1, count // len(DISTRICT_NAMES) + 2)
            for name in DISTRICT_NAMES[1:]]
    return [DISTRICT_NAMES[0], *rng.choice(rest, count - 1, replace=False)]


# --------------------------------------------------------------------------- population


def draw_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages in the reference year: flat from 18 to 64, then falling linearly to 95."""
    ages = np.arange(18, 96)
    weights = np.where(ages < 65, 1.0, 1.0 - 0.95 * (ages - 64) / 31)
    return rng.choice(ages, n, p=weights / weights.sum())


def build_population(rng: np.random.Generator, districts: pd.DataFrame) -> Population:
    """Every adult of every district with gender, birth year, education, income and background.

    Education follows an ordered logit in the district's ``ses`` and age (younger
    and higher-ses persons are more educated) with cut points at the quantiles
    that give the national shares EDUCATION_SHARES.  Income
    deciles are national deciles of a latent income driven by education, ses, age
    and background.
    """
    counts = districts["population"].to_numpy()
    district = np.repeat(np.arange(len(districts)), counts)
    n = len(district)
    ses = districts["ses"].to_numpy()[district]
    age = draw_ages(rng, n)
    score = 0.7 * ses - 0.025 * (age - 45) + rng.logistic(0.0, 1.0, n)
    cuts = np.quantile(score, np.cumsum(EDUCATION_SHARES)[:2])
    education = 1 + (score > cuts[0]).astype(np.int64) + (score > cuts[1]).astype(np.int64)
    immigrant_p = 1 / (1 + np.exp(-districts["immigrant_logit"].to_numpy()[district]))
    immigrant = (rng.random(n) < immigrant_p).astype(np.int64)
    income = (0.7 * (education - 2) + 0.3 * ses - 0.0012 * (age - 50) ** 2 - 0.3 * immigrant
              + rng.normal(0.0, 1.0, n))
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(income, kind="stable")] = np.arange(n)
    return Population(
        district=district,
        municipality=districts["municipality"].to_numpy()[district],
        gender=rng.integers(1, 3, n),
        birth_year=REFERENCE_YEAR - age,
        education=education,
        income_decile=rank * 10 // n + 1,
        immigrant=immigrant,
        participation_effect=rng.normal(0.0, 1.0, n),
        trust_effect=rng.normal(0.0, 1.0, n),
    )


def add_register_shares(districts: pd.DataFrame, pop: Population) -> pd.DataFrame:
    """Add share_higher_education and share_immigrant as realised in the population (4 decimals)."""
    counts = districts["population"].to_numpy()
    n = len(districts)
    higher = np.bincount(pop.district, weights=pop.education == 3, minlength=n)
    immigrant = np.bincount(pop.district, weights=pop.immigrant, minlength=n)
    return districts.assign(
        share_higher_education=np.round(higher / counts, 4),
        share_immigrant=np.round(immigrant / counts, 4),
    )


def low_education_cutoff(districts: pd.DataFrame) -> float:
    """The 1/3 quantile of share_higher_education over all districts (lowest third: share <= cutoff)."""
    return float(np.quantile(districts["share_higher_education"].to_numpy(), 1 / 3))


# --------------------------------------------------------------------------- turnout


def election_date(year: int) -> dt.date:
    """Second Monday of September of ``year`` (Norwegian election day)."""
    first = dt.date(year, 9, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7)


def pilot_starts(munis: pd.DataFrame) -> np.ndarray:
    """Pilot start per municipality as datetime64[D] (NaT for controls, so every comparison is False)."""
    return np.array([np.datetime64(s, "D") if s else np.datetime64("NaT", "D") for s in munis["pilot_start"]])


def simulate_turnout(rng: np.random.Generator, munis: pd.DataFrame, districts: pd.DataFrame,
                     cutoff: float, elections: tuple[tuple[str, int], ...] = ELECTIONS) -> pd.DataFrame:
    """Eligible voters and votes per district and election, with coupled potential outcomes.

    Turnout probability (untreated) = base for the election type + 0.04 per SD of
    share_higher_education - 0.05 x (share_immigrant - mean) + municipality effect
    + election shock + municipality-election and district-election noise.
    ``votes_untreated`` ~ Binomial(eligible, p); ``votes_treated`` adds
    Binomial(eligible - votes_untreated, effect / (1 - p)), so it is
    Binomial(eligible, p + effect) and never below the untreated votes.
    """
    n_d, n_m = len(districts), len(munis)
    muni = districts["municipality"].to_numpy()
    edu = districts["share_higher_education"].to_numpy()
    imm = districts["share_immigrant"].to_numpy()
    profile = (0.04 * (edu - edu.mean()) / edu.std() - 0.05 * (imm - imm.mean())
               + munis["turnout_effect"].to_numpy()[muni] + rng.normal(0.0, 0.012, n_d))
    starts = pilot_starts(munis)[muni]
    effect_if_treated = np.where(edu <= cutoff, TURNOUT_EFFECT_LOW_EDUCATION, TURNOUT_EFFECT)
    growth = munis["growth"].to_numpy()[muni]
    frames = []
    for election_type, year in elections:
        day = election_date(year)
        p0 = np.clip(BASE_TURNOUT[election_type] + rng.normal(0.0, 0.012) + profile
                     + rng.normal(0.0, 0.006, n_m)[muni] + rng.normal(0.0, 0.008, n_d), 0.25, 0.95)
        citizens = 0.98 if election_type == "local" else 0.98 * (1 - 0.55 * imm)
        eligible = np.rint(districts["population"].to_numpy() * (1 + growth) ** (year - REFERENCE_YEAR)
                           * citizens).astype(np.int64)
        treated = starts <= np.datetime64(day, "D")
        effect = np.where(treated, effect_if_treated, 0.0)
        votes0 = rng.binomial(eligible, p0)
        votes1 = votes0 + rng.binomial(eligible - votes0, effect / (1 - p0))
        votes = np.where(treated, votes1, votes0)
        advance_p = np.clip(ADVANCE_SHARE[year] + rng.normal(0.0, 0.04, n_d), 0.05, 0.9)
        frames.append(pd.DataFrame({
            "district": np.arange(n_d), "election_type": election_type, "election_year": year,
            "election_date": day.isoformat(), "eligible": eligible, "votes": votes,
            "advance": rng.binomial(votes, advance_p), "treated": treated, "effect": effect,
            "votes_untreated": votes0, "votes_treated": votes1,
        }))
    return pd.concat(frames, ignore_index=True)


def turnout_effect_summary(turnout: pd.DataFrame) -> dict[str, Any]:
    """Expected and realised eligible-weighted effects (pp) over treated district-elections."""
    treated = turnout[turnout["treated"]]
    eligible = treated["eligible"].sum()
    return {
        "n_treated_district_elections": int(len(treated)),
        "expected_att_pp": _round(100 * (treated["effect"] * treated["eligible"]).sum() / eligible),
        "realised_att_pp": _round(100 * (treated["votes_treated"] - treated["votes_untreated"]).sum() / eligible),
    }


# --------------------------------------------------------------------------- panel


def wave_timing(wave: int, per_year: int = 2) -> tuple[int, int]:
    """(year, month) of a wave's interviews: odd waves in March, even waves in October (``per_year`` 2),
    or March, May, October and December (``per_year`` 4, the national scale)."""
    return FIRST_PANEL_YEAR + (wave - 1) // per_year, WAVE_MONTHS[per_year][(wave - 1) % per_year]


def respondents_per_pilot(config: DemoConfig) -> int:
    """Interviews per pilot municipality and wave: 150, or 40 % of the wave / n_pilots if smaller."""
    return min(PILOT_RESPONDENTS, int(0.4 * config.respondents_per_wave / config.n_pilots))


def allocate_respondents(munis: pd.DataFrame, config: DemoConfig) -> np.ndarray:
    """Completed interviews per municipality and wave.

    Each pilot gets ``respondents_per_pilot``; controls share the rest in proportion
    to their adult population with a minimum of 15 (largest-remainder rounding, so
    the allocation sums to ``respondents_per_wave``).
    """
    pilot = (munis["role"] == "pilot").to_numpy()
    per_pilot = respondents_per_pilot(config)
    rest = config.respondents_per_wave - per_pilot * pilot.sum()
    size = munis["population"].to_numpy()[~pilot].astype(float)
    at_min = np.zeros(len(size), dtype=bool)
    while True:
        share = np.where(at_min, 0.0, size) / size[~at_min].sum()
        alloc = np.where(at_min, MIN_CONTROL_RESPONDENTS, (rest - MIN_CONTROL_RESPONDENTS * at_min.sum()) * share)
        newly = ~at_min & (alloc < MIN_CONTROL_RESPONDENTS)
        if not newly.any():
            break
        at_min |= newly
    base = np.floor(alloc).astype(np.int64)
    base[np.argsort(-(alloc - base), kind="stable")[: rest - base.sum()]] += 1
    result = np.full(len(munis), per_pilot, dtype=np.int64)
    result[~pilot] = base
    return result


def recruitment_queue(rng: np.random.Generator, pop: Population, n_munis: int) -> tuple[np.ndarray, np.ndarray]:
    """Persons willing to respond, in random order grouped by municipality, and each group's start.

    A person is willing with probability RESPONSE_PROPENSITY[education]
    (x 0.8 under 30), so recruits over-represent the higher educated.
    """
    age = REFERENCE_YEAR - pop.birth_year
    propensity = np.array([0.0, *RESPONSE_PROPENSITY.values()])[pop.education]
    propensity = propensity * np.where(age < 30, RESPONSE_FACTOR_UNDER_30, 1.0)
    willing = np.flatnonzero(rng.random(len(propensity)) < propensity)
    key = pop.municipality[willing] + rng.random(len(willing))
    queue = willing[np.argsort(key, kind="stable")]
    starts = np.concatenate([[0], np.cumsum(np.bincount(pop.municipality[queue], minlength=n_munis))])
    return queue, starts


def retention_probability(education: np.ndarray, age: np.ndarray) -> np.ndarray:
    """P(staying for the next wave): lower for the young and the less educated, mean RETENTION."""
    x = 0.5 * (education == 3) - 0.5 * (education == 1) - 0.6 * (age < 30) + 0.2 * (age >= 60)
    low, high = -10.0, 10.0
    for _ in range(50):  # bisection on the intercept so that the mean equals RETENTION
        mid = (low + high) / 2
        low, high = (mid, high) if np.mean(1 / (1 + np.exp(-(mid + x)))) < RETENTION else (low, mid)
    return 1 / (1 + np.exp(-((low + high) / 2 + x)))


def draw_panel(rng: np.random.Generator, pop: Population, munis: pd.DataFrame, config: DemoConfig) -> pd.DataFrame:
    """Respondent-waves: columns person, wave, municipality, interview_date (datetime64[D]).

    Wave 1 recruits the allocation from the willing queue; each later wave keeps
    panel members with ``retention_probability`` and tops every municipality up
    to its allocation with new recruits (never someone who was in the panel).
    """
    target = allocate_respondents(munis, config)
    queue, starts = recruitment_queue(rng, pop, len(munis))
    used = np.zeros(len(munis), dtype=np.int64)
    current = np.empty(0, dtype=np.int64)
    frames = []
    for wave in range(1, config.n_waves + 1):
        year, month = wave_timing(wave, config.structure.waves_per_year)
        if wave > 1:
            keep = retention_probability(pop.education[current], year - pop.birth_year[current])
            current = current[rng.random(len(current)) < keep]
        have = np.bincount(pop.municipality[current], minlength=len(munis))
        take = np.clip(target - have, 0, np.diff(starts) - used)
        offsets = np.repeat(starts[:-1] + used - np.cumsum(take) + take, take) + np.arange(take.sum())
        used += take
        current = np.sort(np.concatenate([current, queue[offsets]]))
        first = np.datetime64(f"{year}-{month:02d}-01")
        frames.append(pd.DataFrame({
            "person": current, "wave": wave, "municipality": pop.municipality[current],
            "interview_date": first + rng.integers(0, 31, len(current)).astype("timedelta64[D]"),
        }))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- outcomes


def potential_outcomes(rng: np.random.Generator, item: Item, people: Population, year: int, wave_shift: float,
                       municipal_trust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Untreated and treated answers of ``people`` to ``item`` in one wave (common random numbers).

    ``wave_shift`` is the trend plus shock of the wave (logit units for binary
    items, scale points for scales); ``municipal_trust`` is the trust effect of
    each person's municipality.
    """
    age = year - people.birth_year
    person = people.participation_effect if item.kind == "binary" else people.trust_effect
    latent = (item.intercept + item.higher * (people.education == 3) + item.compulsory * (people.education == 1)
              + item.age_per_decade * (age - 45) / 10 + item.immigrant * people.immigrant
              + item.person_loading * person + item.municipal_loading * municipal_trust + wave_shift)
    effect = item.effect + item.extra_effect_compulsory * (people.education == 1)
    if item.kind == "binary":
        p0 = 1 / (1 + np.exp(-latent))
        u = rng.random(len(latent))
        return (u < p0).astype(np.int64), (u < np.minimum(p0 + effect, 1.0)).astype(np.int64)
    latent = latent + rng.normal(0.0, item.noise_sd, len(latent))
    return (np.clip(np.rint(latent), item.low, item.high).astype(np.int64),
            np.clip(np.rint(latent + effect), item.low, item.high).astype(np.int64))


def wave_shifts(rng: np.random.Generator, n_waves: int) -> np.ndarray:
    """Trend plus shock per item (rows, in ITEMS order) and wave (columns)."""
    trend = np.array([item.trend_per_wave for item in ITEMS])[:, None] * np.arange(n_waves)
    scale = np.array([0.05 if item.kind == "binary" else 0.05 * (item.high - item.low) / 4 for item in ITEMS])
    return trend + rng.normal(0.0, 1.0, (len(ITEMS), n_waves)) * scale[:, None]


def group_means(values: np.ndarray, groups: np.ndarray, labels: dict[int, str]) -> dict[str, float]:
    """Mean of ``values`` per code of ``groups`` (small non-negative integers), keyed by the code's label."""
    sums = np.bincount(groups, weights=values)
    counts = np.bincount(groups)
    return {label: _round(sums[code] / counts[code]) for code, label in labels.items()}


def population_summary(y_obs: np.ndarray, y0: np.ndarray, y1: np.ndarray, pop: Population, pilot: np.ndarray,
                       treated: np.ndarray, unit: str) -> dict[str, Any]:
    """Finite-population means of the observed-world outcome, and the pilots' untreated mean and ATT.

    ``unit`` names the unit of the ATT: ``pp`` (percentage points) or ``scale_points``.
    """
    scale = 100.0 if unit == "pp" else 1.0
    return {
        "all": _round(y_obs.mean()),
        "by_role": {"pilot": _round(y_obs[pilot].mean()), "control": _round(y_obs[~pilot].mean())},
        "by_education": group_means(y_obs, pop.education, EDUCATION_CODES),
        "pilot_if_untreated": _round(y0[pilot].mean()),
        "treated_share_of_pilot_adults": _round(treated.sum() / pilot.sum()),
        f"att_among_treated_adults_{unit}": _round(scale * (y1 - y0)[treated].mean()) if treated.any() else None,
    }


def simulate_answers(rng: np.random.Generator, pop: Population, munis: pd.DataFrame, panel: pd.DataFrame,
                     config: DemoConfig) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[dict[str, Any]]]]:
    """Answers of every respondent-wave, their individual effects and the population values.

    Returns
    -------
    answers
        ``panel`` plus one column per outcome (observed answer, before item non-response).
    effects
        Treated respondent-waves: ``education`` and one column per outcome with y(1) - y(0).
    population_values
        Per population item a list with one summary per wave (see ``population_summary``).
    """
    muni_trust = munis["trust_effect"].to_numpy()
    pilot_start = pilot_starts(munis)
    pilot_pop = (munis["role"] == "pilot").to_numpy()[pop.municipality]
    shifts = wave_shifts(rng, config.n_waves)
    answers, effects = [], []
    values: dict[str, list[dict[str, Any]]] = {name: [] for name in POPULATION_ITEMS}
    for wave in range(1, config.n_waves + 1):
        year, month = wave_timing(wave, config.structure.waves_per_year)
        rows = panel[panel["wave"] == wave]
        person = rows["person"].to_numpy()
        people = pop.take(person)
        treated = (pilot_start[rows["municipality"].to_numpy()] <= rows["interview_date"].to_numpy())
        pop_treated = pilot_start[pop.municipality] <= np.datetime64(f"{year}-{month:02d}-01", "D")
        wave_answers = {}
        wave_effects = {"education": people.education[treated]}
        for index, item in enumerate(ITEMS):
            shift = shifts[index, wave - 1]
            if item.outcome in POPULATION_ITEMS:
                y0_pop, y1_pop = potential_outcomes(rng, item, pop, year, shift, muni_trust[pop.municipality])
                y_pop = np.where(pop_treated, y1_pop, y0_pop)
                unit = "pp" if item.kind == "binary" else "scale_points"
                summary = population_summary(y_pop, y0_pop, y1_pop, pop, pilot_pop, pop_treated, unit)
                values[item.outcome].append({"wave": wave, "interview_month": f"{year}-{month:02d}", **summary})
                y0, y1 = y0_pop[person], y1_pop[person]
            else:
                y0, y1 = potential_outcomes(rng, item, people, year, shift, muni_trust[people.municipality])
            wave_answers[item.outcome] = np.where(treated, y1, y0)
            wave_effects[item.outcome] = (y1 - y0)[treated]
        answers.append(rows.assign(**wave_answers))
        effects.append(pd.DataFrame(wave_effects))
    return pd.concat(answers, ignore_index=True), pd.concat(effects, ignore_index=True), values


def survey_effect_summary(effects: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Structural, expected and realised pilot effects per outcome, overall and by education.

    ``expected_att`` averages the structural effect over the treated respondent-waves
    (it differs from ``structural_effect`` only for items with an extra effect for
    compulsory education); ``realised_att`` is the mean of y(1) - y(0) over them.
    """
    summary = {}
    for item in ITEMS:
        unit, scale = ("pp", 100.0) if item.kind == "binary" else ("scale_points", 1.0)
        structural = {label: item.effect + item.extra_effect_compulsory * (code == 1)
                      for code, label in EDUCATION_CODES.items()}
        realised = effects.groupby("education")[item.outcome].mean()
        expected = item.effect + item.extra_effect_compulsory * (effects["education"] == 1).mean()
        summary[item.outcome] = {
            "spss_variable": item.variable,
            f"spss_variable_from_wave_{LATE_NAMES_FROM_WAVE}": item.late_variable,
            "kind": item.kind,
            "range": [item.low, item.high],
            f"structural_effect_{unit}": _round(scale * item.effect),
            f"structural_effect_by_education_{unit}": {k: _round(scale * v) for k, v in structural.items()},
            f"expected_att_{unit}": _round(scale * expected),
            f"realised_att_{unit}": _round(scale * effects[item.outcome].mean()),
            f"realised_att_by_education_{unit}": {
                label: _round(scale * realised.get(code, np.nan)) for code, label in EDUCATION_CODES.items()
            },
        }
    return summary


def add_item_nonresponse(rng: np.random.Generator, answers: pd.DataFrame) -> pd.DataFrame:
    """Replace each item answer independently by 97 (2 %) or 98 (1 %)."""
    out = answers.copy()
    for item in ITEMS:
        u = rng.random(len(out))
        values = out[item.outcome].to_numpy()
        out[item.outcome] = np.where(u < NONRESPONSE_RATES[DONT_KNOW], DONT_KNOW,
                                     np.where(u < sum(NONRESPONSE_RATES.values()), REFUSED, values))
    return out


# --------------------------------------------------------------------------- writers


def write_area_register(path: Path, munis: pd.DataFrame, districts: pd.DataFrame) -> None:
    """Write area_register.csv (one row per district, contract columns)."""
    m = munis.iloc[districts["municipality"].to_numpy()].reset_index(drop=True)
    frame = pd.DataFrame({
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
    })
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_turnout(path: Path, turnout: pd.DataFrame, munis: pd.DataFrame, districts: pd.DataFrame) -> None:
    """Write valgdeltakelse_stemmekretser.csv in the election authority's layout (';', decimal comma)."""
    d = districts.iloc[turnout["district"].to_numpy()].reset_index(drop=True)
    m = munis.iloc[d["municipality"].to_numpy()].reset_index(drop=True)
    percent = 100 * turnout["votes"] / turnout["eligible"]
    frame = pd.DataFrame({
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
    })
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
    frame = pd.concat([
        pd.DataFrame({"margin": "gender_age", "municipality_code": np.repeat(codes, 2 * n_a),
                      "gender": np.tile(np.repeat(genders, n_a), n_m),
                      "age_group": np.tile([label for _, _, label in AGE_GROUPS], 2 * n_m),
                      "education": "", "population": gender_age}),
        pd.DataFrame({"margin": "education", "municipality_code": np.repeat(codes, 3), "gender": "",
                      "age_group": "", "education": np.tile(list(EDUCATION_CODES.values()), n_m),
                      "population": education}),
    ], ignore_index=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_register(path: Path, rng: np.random.Generator, pop: Population, districts: pd.DataFrame,
                   turnout: pd.DataFrame, election: tuple[str, int]) -> dict[str, Any]:
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
    frame = pd.DataFrame({
        "stemmekrets": districts["area_code"].to_numpy()[district],
        "stemt": voted,
        "kjonn": pop.gender[person],
        "fodselsar": pop.birth_year[person],
        "utdanning": education,
        "innvandrer": pop.immigrant[person],
    })
    pyreadstat.write_sav(
        frame, path, file_label=f"Valgmanntall med valgdeltakelse, {election_type} {year}, syntetiske data",
        column_labels={"stemmekrets": "Stemmekrets (kommunenummer + kretsnummer)", "stemt": "Har stemt",
                       "kjonn": "Kjønn", "fodselsar": "Fødselsår", "utdanning": "Høyeste fullførte utdanning",
                       "innvandrer": "Innvandrerbakgrunn"},
        variable_value_labels={"stemt": {0: "Nei", 1: "Ja"}, "kjonn": {1: "Mann", 2: "Kvinne"},
                               "utdanning": {1: "Grunnskole", 2: "Videregående skole", 3: "Universitet/høyskole",
                                             REGISTER_UNKNOWN: "Ukjent"},
                               "innvandrer": {0: "Nei", 1: "Ja"}},
        missing_ranges={"utdanning": [REGISTER_UNKNOWN]},
        variable_format={"stemt": "F1.0", "kjonn": "F1.0", "fodselsar": "F4.0", "utdanning": "F1.0", "innvandrer": "F1.0"},
    )
    return {"file": path.name, "election_type": election_type, "election_year": year, "rows": int(len(frame)),
            "votes": int(voted.sum()), "codebook": "config/codebooks/register_valgmanntall.yaml",
            "description": "one row per eligible voter; per district the rows and votes equal the turnout file's"}


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
    value_labels = {"kjonn": {1: "Mann", 2: "Kvinne"},
                    "utdanning": {1: "Grunnskole", 2: "Videregående skole", 3: "Universitet/høyskole"},
                    "innvandrerbakgrunn": yes_no}
    formats = {"vekt_design": "F10.4", "kjonn": "F1.0", "fodselsar": "F4.0", "utdanning": "F1.0",
               "inntekt_desil": "F2.0", "innvandrerbakgrunn": "F1.0"}
    for item in ITEMS:
        name = spss_name(item, wave)
        labels[name] = item.label
        substantive = yes_no if item.kind == "binary" else trust if item.high == 10 else satisfaction
        value_labels[name] = {**substantive, **missing}
        formats[name] = "F2.0"
    return {"column_labels": labels, "variable_value_labels": value_labels, "variable_format": formats,
            "missing_ranges": {spss_name(item, wave): [DONT_KNOW, REFUSED] for item in ITEMS}}


def spss_name(item: Item, wave: int) -> str:
    """The item's variable name in a given wave (the vendor renamed trust items from wave 6)."""
    return item.late_variable if wave >= LATE_NAMES_FROM_WAVE else item.variable


def respondent_ids(ids: np.ndarray) -> np.ndarray:
    """Text ids 'IP' + 7 digits from integer ids."""
    return np.char.add("IP", np.char.zfill(ids.astype(str), 7))


def wave_frame(rows: pd.DataFrame, pop: Population, munis: pd.DataFrame, ids: np.ndarray,
               wave: int) -> pd.DataFrame:
    """One wave's SPSS data in contract variable order, sorted by Resp_ID."""
    person = rows["person"].to_numpy()
    muni = rows["municipality"].to_numpy()
    respondents = np.bincount(muni, minlength=len(munis))
    weight = munis["population"].to_numpy() / np.maximum(respondents, 1)
    frame = pd.DataFrame({
        "Resp_ID": respondent_ids(ids[person]),
        "kommune": munis["municipality_code"].to_numpy()[muni],
        "intervjudato": pd.Series(rows["interview_date"].to_numpy()).dt.date.to_numpy(),
        "vekt_design": weight[muni],
        "kjonn": pop.gender[person],
        "fodselsar": pop.birth_year[person],
        "utdanning": pop.education[person],
        "inntekt_desil": pop.income_decile[person],
        "innvandrerbakgrunn": pop.immigrant[person],
    })
    for item in ITEMS:
        frame[spss_name(item, wave)] = rows[item.outcome].to_numpy()
    return frame.sort_values("Resp_ID", kind="stable", ignore_index=True)


def write_panel(out_dir: Path, answers: pd.DataFrame, pop: Population, munis: pd.DataFrame,
                ids: np.ndarray, n_waves: int, per_year: int = 2) -> None:
    """Write innbyggerpanel_bolgeNN.sav for every wave (labels and user-missing 97/98 on items)."""
    for wave in range(1, n_waves + 1):
        frame = wave_frame(answers[answers["wave"] == wave], pop, munis, ids, wave)
        year, month = wave_timing(wave, per_year)
        season = "vår" if month < 7 else "høst"
        pyreadstat.write_sav(frame, out_dir / f"innbyggerpanel_bolge{wave:02d}.sav",
                             file_label=f"Innbyggerpanelet, bølge {wave} ({season} {year}), syntetiske data",
                             **spss_metadata(wave))


# --------------------------------------------------------------------------- truth


def _round(value: float) -> float | None:
    """A JSON-friendly float with 6 decimals (None for NaN)."""
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


def pilot_list(munis: pd.DataFrame, districts: pd.DataFrame) -> list[dict[str, Any]]:
    """The pilot municipalities with code, name, cohort, start, type, adult population and districts."""
    n_districts = districts.groupby("municipality").size()
    return [
        {"municipality_code": m.municipality_code, "municipality_name": m.municipality_name,
         "cohort": int(m.cohort), "pilot_start": m.pilot_start.isoformat(), "pilot_type": m.pilot_type,
         "adult_population": int(m.population), "n_districts": int(n_districts[index])}
        for index, m in zip(munis.index, munis.itertuples()) if m.role == "pilot"
    ]


def turnout_truth(turnout: pd.DataFrame, munis: pd.DataFrame, districts: pd.DataFrame,
                  cutoff: float) -> dict[str, Any]:
    """The turnout part of truth.json."""
    cohort = munis["cohort"].to_numpy()[districts["municipality"].to_numpy()][turnout["district"].to_numpy()]
    low = districts["share_higher_education"].to_numpy() <= cutoff
    return {
        "description": ("Pilot effect on the turnout probability of a district in every election held on or "
                        "after pilot_start (local and parliamentary). ATTs are weighted by eligible voters over "
                        "treated district-elections; 'expected' uses the structural effect, 'realised' the "
                        "difference between the coupled potential vote counts."),
        "effect_pp": 100 * TURNOUT_EFFECT,
        "effect_pp_low_education_third": 100 * TURNOUT_EFFECT_LOW_EDUCATION,
        "low_education_third": {
            "rule": "share_higher_education <= cutoff, cutoff = 1/3 quantile over all districts in area_register.csv",
            "cutoff_share": _round(cutoff),
            "n_districts": int(low.sum()),
            "n_districts_total": int(len(districts)),
        },
        "elections": [{"election_type": t, "election_year": y, "election_date": election_date(y).isoformat()}
                      for t, y in turnout[["election_type", "election_year"]].drop_duplicates().itertuples(index=False)],
        **turnout_effect_summary(turnout),
        "by_cohort": {c: turnout_effect_summary(turnout[cohort == c]) for c in sorted(set(munis["cohort"]) - {""})},
        "by_election_type": {t: turnout_effect_summary(turnout[turnout["election_type"] == t])
                             for t in ELECTION_TYPE_LABELS},
    }


def wave_calendar(wave: int, per_year: int = 2) -> dict[str, Any]:
    """File, season and interview month of one wave."""
    year, month = wave_timing(wave, per_year)
    return {"wave": wave, "file": f"innbyggerpanel_bolge{wave:02d}.sav", "season": "spring" if month < 7 else "autumn",
            "interview_month": f"{year}-{month:02d}",
            "trust_variables": [spss_name(item, wave) for item in ITEMS if item.outcome.startswith("trust_")]}


def survey_truth(answers: pd.DataFrame, effects: pd.DataFrame, munis: pd.DataFrame,
                 config: DemoConfig) -> dict[str, Any]:
    """The survey part of truth.json."""
    sizes = answers.groupby("wave").size()
    persons = [set(answers.loc[answers["wave"] == w, "person"]) for w in range(1, config.n_waves + 1)]
    overlap = [len(a & b) / len(a) for a, b in zip(persons, persons[1:])]
    return {
        "description": ("Pilot effects on respondents of pilot municipalities interviewed on or after "
                        "pilot_start. Binary items: effect on the probability of 'Ja' in percentage points; "
                        "scales: effect in scale points. 'realised' = mean of y(1) - y(0) over treated "
                        "respondent-waves (before item non-response)."),
        "placebo_outcome": PLACEBO_OUTCOME,
        "waves": [wave_calendar(wave, config.structure.waves_per_year) for wave in range(1, config.n_waves + 1)],
        "n_treated_respondent_waves": int(len(effects)),
        "outcomes": survey_effect_summary(effects),
        "sampling": {
            "respondents_per_wave_target": config.respondents_per_wave,
            "respondents_by_wave": [int(sizes[w]) for w in range(1, config.n_waves + 1)],
            "allocation_by_municipality": dict(zip(munis["municipality_code"],
                                                   map(int, allocate_respondents(munis, config)))),
            "response_propensity_by_education": {EDUCATION_CODES[k]: v for k, v in RESPONSE_PROPENSITY.items()},
            "response_propensity_factor_under_30": RESPONSE_FACTOR_UNDER_30,
            "retention_target_share": RETENTION,
            "retained_share_of_previous_wave": [_round(x) for x in overlap],
            "item_nonresponse_rates": {"97_dont_know": NONRESPONSE_RATES[DONT_KNOW],
                                       "98_refused": NONRESPONSE_RATES[REFUSED]},
            "design_weight": "municipality adult population / respondents in that municipality in that wave",
        },
    }


def population_truth(values: dict[str, list[dict[str, Any]]], pop: Population) -> dict[str, Any]:
    """The population-values part of truth.json."""
    return {
        "description": ("Finite-population values per wave over all adults of the population (the register "
                        "behind area_register.csv and befolkning_marginer.csv), using each person's outcome "
                        "in the observed world (treated outcome for pilot municipalities from pilot_start). "
                        "'pilot_if_untreated' is the mean of all pilot residents without the programme; "
                        "'att_among_treated_adults' the mean treated-minus-untreated outcome over the pilot "
                        "residents whose pilot had started by the wave (null before any start)."),
        "n_adults": int(len(pop.district)),
        "voted_local": {"unit": "means are shares 0-1; the ATT is in percentage points",
                        "by_wave": values["voted_local"]},
        "trust_local_politicians": {"unit": "means are in scale points 0-10; the ATT is in scale points",
                                    "by_wave": values["trust_local_politicians"]},
    }


# --------------------------------------------------------------------------- entry points


def generate_demo(out_dir: Path, config: DemoConfig = DemoConfig()) -> dict:
    """Write every raw demo file to ``out_dir`` and return the truths (also written as truth.json).

    Parameters
    ----------
    out_dir
        Directory for the files (created if missing; existing files are overwritten).
    config
        Seed and size of the scenario.

    Returns
    -------
    dict
        The content of ``truth.json``: config, pilots, turnout effects (pp), survey
        effects (pp or scale points) and finite-population values per wave.
    """
    check_config(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)

    munis = build_municipalities(rng, config)
    districts = build_districts(rng, munis, config.structure)
    pop = build_population(rng, districts)
    districts = add_register_shares(districts, pop)
    cutoff = low_education_cutoff(districts)
    turnout = simulate_turnout(rng, munis, districts, cutoff, config.structure.elections)
    panel = draw_panel(rng, pop, munis, config)
    answers, effects, values = simulate_answers(rng, pop, munis, panel, config)
    observed = add_item_nonresponse(rng, answers)
    ids = rng.permutation(len(pop.district))  # stable respondent numbers unrelated to population order

    write_area_register(out_dir / "area_register.csv", munis, districts)
    write_turnout(out_dir / "valgdeltakelse_stemmekretser.csv", turnout, munis, districts)
    write_panel(out_dir, observed, pop, munis, ids, config.n_waves, config.structure.waves_per_year)
    write_margins(out_dir / "befolkning_marginer.csv", pop, munis)
    register = None
    if config.structure.register_election:
        register = write_register(out_dir / REGISTER_FILE, rng, pop, districts, turnout,
                                  config.structure.register_election)
    truth = {
        "description": "Known truths of the synthetic demo scenario written by evaluation.demo.generate (all data invented).",
        "seed": config.seed,
        "config": config.summary(),
        "pilots": pilot_list(munis, districts),
        "turnout": turnout_truth(turnout, munis, districts, cutoff),
        "survey": survey_truth(answers, effects, munis, config),
        "population_values": population_truth(values, pop),
        "margins": {"file": "befolkning_marginer.csv", "age_group_from": f"age = {REFERENCE_YEAR} - birth year",
                    "n_adults": int(len(pop.district))},
        **({"register": register} if register else {}),
    }
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return truth
