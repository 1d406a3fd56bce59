"""Report parameters: checking them and writing them for either engine."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from evaluation.errors import RenderError


def normalise_params(params: Mapping[str, Any], source: object) -> dict[str, Any]:
    """Check report parameters and turn paths into strings.

    Parameters
    ----------
    params : Mapping
        Parameter names (Python identifiers) and values. Values must be
        ``None``, booleans, numbers, strings or paths, or lists, tuples and
        dicts of those, so that they can be written as Python literals (built-in
        engine) and as YAML (Quarto).
    source : object
        The report, for error messages.

    Returns
    -------
    dict
        The parameters, with :class:`pathlib.PurePath` values as strings.

    Raises
    ------
    RenderError
        If a name is not an identifier or a value cannot be written as a literal.
    """
    normalised = {}
    for name, value in params.items():
        if not (isinstance(name, str) and name.isidentifier()):
            raise RenderError(f"{source}: parameter name {name!r} is not a Python identifier")
        value = str(value) if isinstance(value, PurePath) else value
        if not _is_literal(value):
            raise RenderError(
                f"{source}: parameter {name}={value!r} cannot be passed to a report; use None, "
                "bool, int, float, str or lists/dicts of those"
            )
        normalised[name] = value
    return normalised


def language_parameter(params: Mapping[str, Any]) -> str | None:
    """The document language set by a ``lang`` parameter, if any.

    Reports in several languages take the language as a parameter; it then
    also sets the document language (HTML ``lang``, Typst hyphenation and
    the word "Figure"), overriding the front matter.
    """
    lang = params.get("lang")
    return lang if isinstance(lang, str) and lang else None


def python_assignments(params: Mapping[str, Any]) -> str:
    """Return the code of an injected-parameters cell: one ``name = literal`` line per parameter."""
    lines = ["# Injected parameters"]
    lines += [f"{name} = {value!r}" for name, value in params.items()]
    return "\n".join(lines)


def yaml_value(value: Any) -> str:
    """Write a parameter value as YAML for ``quarto render -P name:value``.

    JSON is a subset of YAML 1.2, so strings stay strings (``"2024"``, ``"no"``)
    and numbers, booleans, lists and dicts keep their types.
    """
    return json.dumps(value, ensure_ascii=False)


def _is_literal(value: Any) -> bool:
    """Whether ``repr(value)`` evaluates back to an equal value and JSON can write it."""
    try:
        json.dumps(value, allow_nan=False)
        return ast.literal_eval(repr(value)) == value
    except (TypeError, ValueError, SyntaxError):
        return False
