"""Constants shared by the test modules (import as ``from shared import REPO``)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SMALL_DEMO = dict(seed=7, n_municipalities=20, n_pilots=6, respondents_per_wave=600, n_waves=4)
