"""The pipeline configuration: one YAML file checked against ``config/config.schema.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation.schemas import load_yaml, validate_against

DEFAULT_CONFIG = Path("config/config.yaml")


def load_config(path: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """Read and validate the pipeline configuration."""
    config = load_yaml(Path(path))
    validate_against(config, "config.schema.yaml", Path(path))
    return config
