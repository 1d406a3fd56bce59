"""The JSON schemas of the pipeline's YAML contracts (package data), and the loader that checks them.

``config.schema.yaml`` (the pipeline config), ``codebook.schema.yaml`` (one
source's codebook) and ``variables.schema.yaml`` (the canonical outcomes and
group variables). A schema's ``default:`` values are the only defaults of the
keys they describe: :func:`validate_against` fills them in.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from evaluation.errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent
#: libyaml's safe loader when PyYAML has it (ten times faster, same documents), else the pure-Python one
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """Read a YAML file, raising ConfigError that names the file on a syntax error."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The schema ``name`` (e.g. ``"config.schema.yaml"``) from the package."""
    return load_yaml(SCHEMA_DIR / name)


def validate_against(document: Any, schema_name: str, source: Path) -> Any:
    """Validate ``document`` against the schema ``schema_name`` and return it with the schema's defaults filled in.

    Defaults are filled where a key is absent, recursively: an absent object
    with a ``default`` is created and its own properties' defaults are filled.
    The document is validated after filling, so a default is checked like a
    value that was written. ``document`` is not changed.

    Raises
    ------
    ConfigError
        Naming ``source``, the key path and what was expected, for up to ten errors.
    """
    root = schema(schema_name)
    filled = _fill_defaults(copy.deepcopy(document), root, root)
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  - at {'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors[:10]]
        raise ConfigError(f"{source}: does not match {schema_name}:\n" + "\n".join(lines))
    return filled


def _fill_defaults(instance: Any, node: dict[str, Any], root: dict[str, Any]) -> Any:
    node = _resolve(node, root)
    if isinstance(instance, dict):
        for key, sub in node.get("properties", {}).items():
            sub = _resolve(sub, root)
            if key not in instance and "default" in sub:
                instance[key] = copy.deepcopy(sub["default"])
            if key in instance:
                instance[key] = _fill_defaults(instance[key], sub, root)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            for key in [k for k in instance if k not in node.get("properties", {})]:
                instance[key] = _fill_defaults(instance[key], extra, root)
    elif isinstance(instance, list) and isinstance(node.get("items"), dict):
        return [_fill_defaults(item, node["items"], root) for item in instance]
    return instance


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
