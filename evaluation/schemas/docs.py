"""The config reference (``config/README.md``), generated from the config schema.

Every key of ``config.schema.yaml`` appears once, as a dotted path, with what it
takes, whether it is required, its default (the schema's ``default:``, the only
home of defaults) and its ``description:``. ``python -m evaluation config-docs``
writes the file; a test checks that the committed one is current.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

from evaluation.errors import ConfigError
from evaluation.schemas import schema

SCHEMA_NAME = "config.schema.yaml"
COMMAND = "python -m evaluation config-docs --out config/README.md"


@dataclass(frozen=True)
class Key:
    """One documented config key."""

    path: str
    takes: str
    required: bool
    default: str
    description: str


def config_keys(root: dict[str, Any]) -> list[Key]:
    """Every key of the schema ``root``, depth first in the schema's order.

    Raises
    ------
    ConfigError
        If a key has no ``description``.
    """
    keys: list[Key] = []
    _walk(root, root, "", keys)
    return keys


def _walk(node: dict[str, Any], root: dict[str, Any], prefix: str, keys: list[Key]) -> None:
    required = set(node.get("required", []))
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        target = _resolve(sub, root)
        description = sub.get("description", target.get("description"))
        if not description:
            raise ConfigError(f"{SCHEMA_NAME}: key {path} has no description")
        default = json.dumps(sub.get("default", target.get("default"))) if "default" in {**target, **sub} else ""
        keys.append(Key(path, takes(target), name in required, default, description))
        _walk(target, root, f"{path}.", keys)


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """The node a ``$ref`` names (``#/definitions/...``), or the node itself."""
    if "$ref" not in node:
        return node
    target: Any = root
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def takes(node: dict[str, Any]) -> str:
    """What a key takes, in words: its type or allowed values, with bounds (``list (2 items) of number (>= 0)``)."""
    if "enum" in node:
        return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    if "oneOf" in node and "type" not in node:
        return " or ".join(takes(alternative) for alternative in node["oneOf"])
    kinds = node.get("type", "any")
    words = []
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if kind == "array":
            words.append(
                " ".join(filter(None, ["list", _length(node), f"of {takes(node['items'])}" if "items" in node else ""]))
            )
        elif kind == "object" and isinstance(node.get("additionalProperties"), dict):
            words.append(f"mapping to {takes(node['additionalProperties'])}")
        else:
            words.append(kind)
    signs = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))
    bounds = [f"{sign} {node[key]}" for key, sign in signs if key in node]
    return " or ".join(words) + (f" ({', '.join(bounds)})" if bounds else "")


def _length(node: dict[str, Any]) -> str:
    low, high = node.get("minItems"), node.get("maxItems")
    if low is not None and low == high:
        return f"({low} items)"
    if low is not None:
        return f"(at least {low})"
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def config_docs(root: dict[str, Any] | None = None) -> str:
    """``config/README.md``: the reference of every config key, one table per top-level section.

    Parameters
    ----------
    root
        The schema to document (default: the package's ``config.schema.yaml``).
    """
    root = schema(SCHEMA_NAME) if root is None else root
    keys = config_keys(root)
    lines = [
        "# Configuration reference",
        "",
        f"<!-- Generated from evaluation/schemas/{SCHEMA_NAME} by `{COMMAND}`; do not edit by hand. -->",
        "",
        _cell(root["description"]),
        "",
        "A key marked required must be set (within its section, when the section is given). Any other key may "
        "be left out and then takes its default; one without a default is optional and unset unless given. "
        "Paths are relative to the working directory unless said otherwise.",
    ]
    for section in [key for key in keys if "." not in key.path]:
        rows = [
            [
                f"`{key.path}`",
                _cell(key.takes),
                "yes" if key.required else "",
                _code(key.default),
                _cell(key.description),
            ]
            for key in keys
            if key.path == section.path or key.path.startswith(f"{section.path}.")
        ]
        lines += ["", f"## `{section.path}`", "", _cell(section.description), ""]
        lines.append(
            tabulate(
                rows,
                headers=["key", "takes", "required", "default", "description"],
                tablefmt="pipe",
                disable_numparse=True,
            )
        )
    return "\n".join(lines) + "\n"


def _code(default: str) -> str:
    return f"`{default}`" if default else ""
