"""Sizes of the synthetic scenario by ``demo.scale``, and the config a scale implies.

Kept free of heavy imports: the Snakefile applies :func:`apply_scale` at parse
time (like :mod:`evaluation.workflow`), and :mod:`evaluation.demo.generate` builds
its ``DemoConfig`` presets from :data:`SIZES`.

``demo``
    The built-in demo: the sizes are the ``demo.*`` keys of the config
    (default 60 municipalities, 7 pilots, 10 waves of 3,000 respondents).
``national``
    A national programme: 350 municipalities, about 6,000 voting districts,
    about 4.2 million adults, 8 elections (2011-2025), 30 panel waves of 10,000
    respondents (four a year, 2019-2026), 8 pilots in 3 cohorts (2019, 2021, 2023) and an electoral-roll
    register of the 2023 local election in SPSS format (one row per eligible
    voter, read through ``config/codebooks/register_valgmanntall.yaml``). The
    ``demo.*`` size keys are ignored; the seed is kept.
"""

from __future__ import annotations

import copy
from typing import Any

SCALES = ("demo", "national")

# DemoConfig sizes of the national preset, under the config's key names
SIZES: dict[str, dict[str, int]] = {
    "national": {"municipalities": 350, "pilots": 8, "respondents_per_wave": 10_000, "waves": 30},
}
REGISTER_FILE = "valgmanntall_2023.sav"
REGISTER_CODEBOOK = "config/codebooks/register_valgmanntall.yaml"
FIRST_PANEL_YEAR = 2019
# interview month of each wave within a year, by waves per year (months of 31 days: interviews run 1st-31st)
WAVE_MONTHS = {2: (3, 10), 4: (3, 5, 10, 12)}
WAVES_PER_YEAR = {"demo": 2, "national": 4}


def scale_of(config: dict[str, Any]) -> str:
    """The configured scale (``demo`` when the demo is off or the key is absent)."""
    demo = config.get("demo", {})
    return demo.get("scale", "demo") if demo.get("enabled") else "demo"


def field_period(wave: int, per_year: int = 2) -> list[str]:
    """First and last interview day of a demo wave (as ``evaluation.demo.generate.wave_timing``)."""
    year = FIRST_PANEL_YEAR + (wave - 1) // per_year
    month = WAVE_MONTHS[per_year][(wave - 1) % per_year]
    return [f"{year}-{month:02d}-01", f"{year}-{month:02d}-31"]


def apply_scale(config: dict[str, Any]) -> dict[str, Any]:
    """The config with what the scale implies filled in (a copy; ``demo`` scale: unchanged).

    For ``national``: ``demo`` sizes from :data:`SIZES`, ``sources.survey.waves``
    1-30, a field period for every wave (four waves a year: March, May, October, December) and ``sources.register`` (unless set).
    """
    scale = scale_of(config)
    if scale == "demo":
        return config
    out = copy.deepcopy(config)
    sizes = SIZES[scale]
    out["demo"].update(sizes)
    waves = list(range(1, sizes["waves"] + 1))
    out["sources"]["survey"]["waves"] = waves
    out["sources"].setdefault("register", {"file": REGISTER_FILE, "codebook": REGISTER_CODEBOOK})
    validation = out.setdefault("validation", {})
    if validation.get("field_periods"):
        validation["field_periods"] = {str(w): field_period(w, WAVES_PER_YEAR[scale]) for w in waves}
    return out
