"""Keyed hashing of respondent ids, so that original ids never reach ``data/processed/``."""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

from evaluation.errors import ConfigError

DEMO_KEY = "lokaldemokrati-eval synthetic demo key (not secret)"


def pseudonymisation_key(env_var: str, demo: bool) -> bytes:
    """The hashing key from ``env_var``; demo data alone may use the built-in demo key."""
    key = os.environ.get(env_var)
    if key:
        return key.encode("utf-8")
    if demo:
        return DEMO_KEY.encode("utf-8")
    raise ConfigError(
        f"environment variable {env_var} is not set: it must hold the secret key used to pseudonymise "
        "respondent ids (keep the key outside the repository, e.g. export it from a file only you can read)"
    )


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each id under ``key``, as 20 hex characters (stable across waves)."""
    unique = pd.unique(ids.astype(str))
    digests = {value: hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:20] for value in unique}
    return ids.astype(str).map(digests)
