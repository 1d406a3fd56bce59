"""Keyed hashing of respondent ids, so that original ids never reach ``data/processed/``."""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

from evaluation.errors import ConfigError
from evaluation.sources.identifiers import normalise_ids

DEMO_KEY = "lokaldemokrati-eval synthetic demo key (not secret)"


def pseudonymisation_key(env_var: str, demo: bool, not_demo_because: str = "") -> bytes:
    """The hashing key from ``env_var``; verified demo data alone may use the built-in demo key.

    The demo key is public, so ``demo`` must be true only when every file whose ids
    are hashed is a file the demo generator wrote, unchanged (the ingest stage checks
    ``demo_manifest.json``, :func:`evaluation.demo.manifest.unlisted_files`).
    ``not_demo_because`` says why the data is not demo data, for the error message.

    Raises
    ------
    ConfigError
        When the data is not demo data and ``env_var`` is not set, or holds the public demo key.
    """
    key = os.environ.get(env_var)
    because = f" ({not_demo_because})" if not_demo_because else ""
    if key and key == DEMO_KEY and not demo:
        raise ConfigError(
            f"environment variable {env_var} holds the public demo key, which may hash only the demo's own files; "
            f"these are real data{because}: set {env_var} to a secret key of your own"
        )
    if key:
        return key.encode("utf-8")
    if demo:
        return DEMO_KEY.encode("utf-8")
    raise ConfigError(
        f"environment variable {env_var} is not set: it must hold the secret key used to pseudonymise "
        f"respondent ids of real data{because}. Keep the key outside the repository and export it before "
        f'running, e.g. `export {env_var}="$(cat ~/.config/lokaldemokrati/id_key)"` from a file only you can read'
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
