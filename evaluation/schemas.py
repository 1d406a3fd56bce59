"""Load YAML files and check them against the JSON schemas kept in ``config/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from evaluation.errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "config"


def load_yaml(path: Path) -> Any:
    """Read a YAML file, raising ConfigError that names the file on a syntax error."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def validate_against(document: Any, schema_name: str, source: Path) -> None:
    """Validate ``document`` against ``config/<schema_name>``; the error names file and key."""
    schema = load_yaml(SCHEMA_DIR / schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  - at {'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors[:10]]
        raise ConfigError(f"{source}: does not match {schema_name}:\n" + "\n".join(lines))
