"""The canonical variables (``config/variables.yaml``): loaded, checked against their schema, as typed records.

The schema (``evaluation/schemas/variables.schema.yaml``) checks the shape of
the file; :func:`load_variables` adds the checks a schema cannot express and
returns frozen dataclasses, so every reader sees the same checked contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.errors import ConfigError
from evaluation.schemas import load_yaml, validate_against

SCHEMA = "variables.schema.yaml"


@dataclass(frozen=True)
class Outcome:
    """One canonical outcome: ``family`` (participation, trust), ``kind`` (binary, scale), ``range`` and labels.

    ``refers_to`` is what the item asks about: ``interview`` (now), or the last
    election of a type before the interview (``last_local_election``, ...).
    """

    name: str
    family: str
    kind: str
    range: tuple[float, float]
    labels: dict[str, str]
    refers_to: str


@dataclass(frozen=True)
class GroupVariable:
    """One socioeconomic group variable: its labels and its categories (code -> labels per language)."""

    name: str
    labels: dict[str, str]
    categories: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Variables:
    """The canonical variables of one file, in the file's order.

    ``gaps`` maps a group variable to ``(group_a, group_b)``: the reported gap is a minus b.
    """

    path: Path
    outcomes: dict[str, Outcome]
    group_variables: dict[str, GroupVariable]
    gaps: dict[str, tuple[str, str]]


def load_variables(path: Path) -> Variables:
    """Read and check ``path`` (normally ``config/variables.yaml``).

    Raises
    ------
    ConfigError
        Naming ``path`` and the key: when the file does not match the schema, when
        an outcome's range does not have its low value below its high value, or when
        a gap names a group variable or category that is not defined.
    """
    path = Path(path)
    document = validate_against(load_yaml(path), SCHEMA, path)
    outcomes = {name: _outcome(path, name, spec) for name, spec in document["outcomes"].items()}
    group_variables = {
        name: GroupVariable(name, dict(spec["labels"]), {code: dict(text) for code, text in spec["categories"].items()})
        for name, spec in document["group_variables"].items()
    }
    gaps = {name: _gap(path, name, pair, group_variables) for name, pair in document["gaps"].items()}
    return Variables(path, outcomes, group_variables, gaps)


def _outcome(path: Path, name: str, spec: dict[str, Any]) -> Outcome:
    low, high = spec["range"]
    if not low < high:
        raise ConfigError(f"{path}: at outcomes/{name}/range: [{low}, {high}] must be [low, high] with low below high")
    return Outcome(name, spec["family"], spec["kind"], (low, high), dict(spec["labels"]), spec["refers_to"])


def _gap(path: Path, name: str, pair: list[str], group_variables: dict[str, GroupVariable]) -> tuple[str, str]:
    if name not in group_variables:
        known = ", ".join(group_variables)
        raise ConfigError(f"{path}: at gaps/{name}: {name!r} is not one of the group_variables ({known})")
    categories = group_variables[name].categories
    unknown = [group for group in pair if group not in categories]
    if unknown:
        raise ConfigError(
            f"{path}: at gaps/{name}: {', '.join(map(repr, unknown))} not a category of {name} "
            f"({', '.join(categories)})"
        )
    group_a, group_b = pair
    return group_a, group_b
