"""Shared fixtures: a small demo scenario, generated once per test session."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
from shared import REPO, SMALL_DEMO

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Tests alter demo files, which makes them real data (no longer in demo_manifest.json): those need a key of their own
os.environ.setdefault("LOKALDEMOKRATI_ID_KEY", "key of the test suite (not secret)")


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> Path:
    """Raw files of a small demo scenario (20 municipalities, 4 waves of 600)."""
    from evaluation.demo.generate import DemoConfig, generate_demo

    folder = tmp_path_factory.mktemp("demo_raw")
    generate_demo(folder, DemoConfig(**SMALL_DEMO))
    return folder


@pytest.fixture(scope="session")
def _ingest_settings() -> dict:
    from evaluation.config import load_config, stage_settings

    settings = stage_settings(load_config(REPO / "config" / "config.yaml"), "ingest")
    settings["sources"]["survey"]["waves"] = list(range(1, SMALL_DEMO["n_waves"] + 1))
    for source in ("areas", "turnout", "survey", "participants", "proposals"):
        settings["sources"][source]["codebook"] = str(REPO / settings["sources"][source]["codebook"])
    return settings


@pytest.fixture
def ingest_settings(_ingest_settings) -> dict:
    """Ingest settings of the default config, for the small demo's four waves (a fresh copy for each test)."""
    return copy.deepcopy(_ingest_settings)


@pytest.fixture(scope="session")
def ingested(small_demo, _ingest_settings, tmp_path_factory) -> Path:
    """The small demo after the ingest stage."""
    from evaluation.stages.ingest import ingest

    out = tmp_path_factory.mktemp("ingested")
    ingest(small_demo, out, copy.deepcopy(_ingest_settings))
    return out
