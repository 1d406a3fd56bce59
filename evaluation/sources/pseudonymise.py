"""Keyed hashing of respondent ids, so that original ids never reach ``data/processed/``."""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

from evaluation.errors import ConfigError
from evaluation.sources.identifiers import normalise_ids

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


def pseudonymise(ids: pd.Series, key: bytes, where: str = "respondent id") -> pd.Series:
    """HMAC-SHA256 of each normalised id under ``key``, as 20 hex characters (stable across waves and file types).

    Ids are normalised first (:func:`evaluation.sources.identifiers.normalise_ids`: NFC, trimmed,
    ``452.0`` -> ``452``), so one person has one pseudonym; a missing id stays missing. ``where``
    (file and column) is named in the error for an id that cannot be read exactly.
    """
    normalised = normalise_ids(ids, where)
    unique = normalised.dropna().unique()
    digests = {value: hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:20] for value in unique}
    return normalised.map(digests)
