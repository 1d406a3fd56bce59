"""The demo scenario's parameters: constants, scale structures, :class:`DemoConfig`, panel items, the population."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from evaluation.demo.scales import SIZES

FIRST_MUNICIPALITY_CODE = 9101
PREFIXES = (
    "Tiur",
    "Multe",
    "Rype",
    "Jerv",
    "Gaupe",
    "Oter",
    "Lemen",
    "Krake",
    "Ugle",
    "Bever",
    "Lunde",
    "Skjære",
    "Hyse",
    "Kobbe",
    "Lyng",
    "Mose",
    "Einer",
    "Blåbær",
    "Sildre",
    "Tytte",
)
SUFFIXES = (
    "vik",
    "dal",
    "nes",
    "berg",
    "fjord",
    "øy",
    "stad",
    "heim",
    "våg",
    "sund",
    "li",
    "mo",
    "voll",
    "rud",
    "haug",
)
DISTRICT_NAMES = (
    "Sentrum",
    "Nordbyen",
    "Sørbyen",
    "Østsida",
    "Vestsida",
    "Bakkeli",
    "Strandvoll",
    "Heiås",
    "Moen",
    "Vikane",
    "Haugtun",
    "Elvebakken",
    "Furulund",
    "Solbakken",
    "Myrvang",
    "Fjellstua",
)
MIN_DISTRICTS, MAX_DISTRICTS = 3, 12
NAME_QUALIFIERS = ("Nord-", "Sør-")  # more names when the scenario has more municipalities than syllable pairs
MAX_MUNICIPALITIES = len(PREFIXES) * len(SUFFIXES) * (1 + len(NAME_QUALIFIERS))

COHORT_STARTS = (dt.date(2019, 8, 1), dt.date(2021, 8, 1))
PILOT_TYPES = ("citizen_panel", "participatory_budgeting", "youth_council")

ELECTIONS = (
    ("local", 2011),
    ("parliamentary", 2013),
    ("local", 2015),
    ("parliamentary", 2017),
    ("local", 2019),
    ("parliamentary", 2021),
    ("local", 2023),
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
    "national": Structure(
        12_000,
        (4, 80),
        3.5,
        50.0,
        (*ELECTIONS, ("parliamentary", 2025)),
        (*COHORT_STARTS, dt.date(2023, 8, 1)),
        40,
        4,
        ("local", 2023),
    ),
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
    def national(cls, seed: int = 20190801) -> DemoConfig:
        """The national preset: 350 municipalities, ~6,000 districts, 8 elections, 30 waves of 10,000, 8 pilots
        in 3 cohorts and a 2023 electoral-roll register of ~4.2 million rows (SPSS)."""
        sizes = SIZES["national"]
        return cls(
            seed=seed,
            n_municipalities=sizes["municipalities"],
            n_pilots=sizes["pilots"],
            respondents_per_wave=sizes["respondents_per_wave"],
            n_waves=sizes["waves"],
            scale="national",
        )

    @classmethod
    def from_settings(cls, demo: dict[str, Any]) -> DemoConfig:
        """From the config's ``demo`` section (``scale: national`` gives the preset, keeping the seed)."""
        seed = demo.get("seed", cls.seed)
        if demo.get("scale", "demo") == "national":
            return cls.national(seed)
        return cls(
            seed=seed,
            n_municipalities=demo.get("municipalities", cls.n_municipalities),
            n_pilots=demo.get("pilots", cls.n_pilots),
            respondents_per_wave=demo.get("respondents_per_wave", cls.respondents_per_wave),
            n_waves=demo.get("waves", cls.n_waves),
        )

    def summary(self) -> dict[str, Any]:
        """JSON-friendly config for truth.json (the scale's structure only when it is not the demo's)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "scale"}
        if self.scale != "demo":
            s = self.structure
            out.update(
                scale=self.scale,
                adults_per_municipality=s.adults_per_municipality,
                elections=[list(e) for e in s.elections],
                cohort_starts=[d.isoformat() for d in s.cohort_starts],
                register_election=list(s.register_election) if s.register_election else None,
            )
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
    Item(
        outcome="voted_local",
        variable="delt_stemte_lokalvalg",
        late_variable="delt_stemte_lokalvalg",
        label="Stemte ved siste kommunestyrevalg",
        kind="binary",
        low=0,
        high=1,
        intercept=1.4,
        higher=0.5,
        compulsory=-0.5,
        age_per_decade=0.25,
        immigrant=-0.6,
        person_loading=0.8,
        municipal_loading=0.0,
        noise_sd=0.0,
        trend_per_wave=0.01,
        effect=0.025,
    ),
    Item(
        outcome="contacted_politician",
        variable="delt_kontaktet_politiker",
        late_variable="delt_kontaktet_politiker",
        label="Har kontaktet en lokalpolitiker siste 12 måneder",
        kind="binary",
        low=0,
        high=1,
        intercept=-1.7,
        higher=0.4,
        compulsory=-0.4,
        age_per_decade=0.1,
        immigrant=-0.3,
        person_loading=0.8,
        municipal_loading=0.0,
        noise_sd=0.0,
        trend_per_wave=0.01,
        effect=0.02,
    ),
    Item(
        outcome="attended_meeting",
        variable="delt_folkemote",
        late_variable="delt_folkemote",
        label="Har deltatt på folkemøte siste 12 måneder",
        kind="binary",
        low=0,
        high=1,
        intercept=-1.5,
        higher=0.3,
        compulsory=-0.3,
        age_per_decade=0.1,
        immigrant=-0.4,
        person_loading=0.8,
        municipal_loading=0.0,
        noise_sd=0.0,
        trend_per_wave=0.01,
        effect=0.03,
    ),
    Item(
        outcome="took_part_consultation",
        variable="delt_hoering_budsjett",
        late_variable="delt_hoering_budsjett",
        label="Har deltatt i høring eller innbyggerbudsjett siste 12 måneder",
        kind="binary",
        low=0,
        high=1,
        intercept=-2.4,
        higher=0.5,
        compulsory=-0.4,
        age_per_decade=0.05,
        immigrant=-0.3,
        person_loading=0.8,
        municipal_loading=0.0,
        noise_sd=0.0,
        trend_per_wave=0.01,
        effect=0.05,
    ),
    Item(
        outcome="signed_petition",
        variable="delt_underskrift",
        late_variable="delt_underskrift",
        label="Har skrevet under på et opprop siste 12 måneder",
        kind="binary",
        low=0,
        high=1,
        intercept=-1.1,
        higher=0.4,
        compulsory=-0.3,
        age_per_decade=-0.05,
        immigrant=-0.2,
        person_loading=0.8,
        municipal_loading=0.0,
        noise_sd=0.0,
        trend_per_wave=0.01,
        effect=0.0,
    ),
    Item(
        outcome="trust_local_politicians",
        variable="tillit_lokalpolitikere",
        late_variable="k12a",
        label="Tillit til lokalpolitikerne",
        kind="scale",
        low=0,
        high=10,
        intercept=5.3,
        higher=0.6,
        compulsory=-0.5,
        age_per_decade=0.15,
        immigrant=-0.3,
        person_loading=1.3,
        municipal_loading=1.0,
        noise_sd=1.3,
        trend_per_wave=-0.03,
        effect=0.3,
        extra_effect_compulsory=0.4,
    ),
    Item(
        outcome="trust_council",
        variable="tillit_kommunestyret",
        late_variable="k12b",
        label="Tillit til kommunestyret",
        kind="scale",
        low=0,
        high=10,
        intercept=5.6,
        higher=0.6,
        compulsory=-0.5,
        age_per_decade=0.15,
        immigrant=-0.3,
        person_loading=1.2,
        municipal_loading=1.0,
        noise_sd=1.3,
        trend_per_wave=-0.03,
        effect=0.3,
    ),
    Item(
        outcome="trust_administration",
        variable="tillit_administrasjonen",
        late_variable="k12c",
        label="Tillit til kommuneadministrasjonen",
        kind="scale",
        low=0,
        high=10,
        intercept=6.1,
        higher=0.4,
        compulsory=-0.3,
        age_per_decade=0.1,
        immigrant=-0.2,
        person_loading=1.0,
        municipal_loading=0.8,
        noise_sd=1.3,
        trend_per_wave=-0.02,
        effect=0.2,
    ),
    Item(
        outcome="satisfaction_democracy",
        variable="tilfredshet_lokaldemokrati",
        late_variable="tilfredshet_lokaldemokrati",
        label="Hvor fornøyd er du med hvordan lokaldemokratiet fungerer i din kommune?",
        kind="scale",
        low=1,
        high=4,
        intercept=2.8,
        higher=0.15,
        compulsory=-0.1,
        age_per_decade=0.05,
        immigrant=-0.05,
        person_loading=0.35,
        municipal_loading=0.3,
        noise_sd=0.55,
        trend_per_wave=-0.01,
        effect=0.1,
    ),
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

    def take(self, index: np.ndarray) -> Population:
        """Return the persons at ``index`` (in that order)."""
        return Population(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def json_float(value: float) -> float | None:
    """A JSON-friendly float with 6 decimals (None for NaN)."""
    value = float(value)
    return None if np.isnan(value) else round(value, 6)
