"""config/README.md is generated from the config schema, documents every key and is current."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from shared import REPO

from evaluation.cli import main
from evaluation.config import complete_config
from evaluation.errors import ConfigError
from evaluation.schemas import schema
from evaluation.schemas.docs import COMMAND, config_docs, config_keys

README = REPO / "config" / "README.md"


def test_committed_reference_is_current():
    assert README.read_text(encoding="utf-8") == config_docs(), f"config/README.md is out of date: run {COMMAND}"


def test_command_prints_the_reference(capsys):
    assert main(["config-docs"]) == 0
    assert capsys.readouterr().out == config_docs()


def test_every_key_is_in_the_reference_with_its_description():
    text = README.read_text(encoding="utf-8")
    keys = config_keys(schema("config.schema.yaml"))
    assert len(keys) > 60
    for key in keys:
        assert key.description
        assert f"| `{key.path}` " in text, key.path
    assert {"compare.matching.n_neighbours", "disclosure.allow_min_n_below_10", "sources.areas.codebook"} <= {
        key.path for key in keys
    }


def test_a_key_without_description_stops_the_generator():
    root = {
        "type": "object",
        "description": "test schema",
        "properties": {"report": {"type": "object", "description": "x", "properties": {"engine": {"type": "string"}}}},
    }
    with pytest.raises(ConfigError, match="key report.engine has no description"):
        config_keys(root)


def value_at(document: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        document = document[part]
    return document


def test_documented_defaults_are_what_the_loader_fills_in():
    keys = config_keys(schema("config.schema.yaml"))
    # the repository's config pruned to its required keys: every other value comes from the schema
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    required = {key.path for key in keys if key.required}

    def prune(node: dict[str, Any], prefix: str) -> dict[str, Any]:
        kept = {}
        for name, value in node.items():
            path = f"{prefix}{name}"
            if path in required:
                kept[name] = prune(value, f"{path}.") if isinstance(value, dict) and path != "sources" else value
        return kept

    minimal = prune(config, "")
    minimal["variables"] = str(REPO / minimal["variables"])
    completed = complete_config(minimal, "minimal config")
    documented = [key for key in keys if key.default]
    assert len(documented) > 30
    checked, optional = 0, []
    for key in documented:
        try:
            filled = value_at(completed, key.path)
        except KeyError:  # inside an optional source that is not set (e.g. sources.area_links)
            optional.append(key.path)
            continue
        default = json.loads(key.default)
        if isinstance(default, dict):  # a section's default, with its keys' own defaults filled in
            assert {name: filled[name] for name in default} == default, key.path
        else:
            assert filled == default, key.path
        checked += 1
    assert all(path.startswith("sources.") for path in optional), optional
    assert checked > 30
