"""Read a Quarto document into a notebook whose code cells carry their resolved Quarto options.

The reading follows Quarto where our reports depend on it:

- ``{{< include file.qmd >}}`` shortcodes are replaced by the file's text
  before anything else is parsed (relative to the including file; a leading
  ``/`` means relative to the report's folder), recursively;
- the YAML front matter is parsed with YAML 1.2 booleans (only
  ``true``/``false``), as Quarto does, so ``lang: no`` stays the string
  ``"no"``;
- ``#| key: value`` lines at the top of a ``{python}`` cell are YAML cell
  options; they are merged over the front matter's ``execute:`` defaults and
  Quarto's own defaults, stored in ``cell.metadata["quarto"]`` and removed
  from the code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import yaml

from evaluation.errors import RenderError

log = logging.getLogger(__name__)

#: Quarto's defaults for the execution options the built-in engine honours.
EXECUTE_DEFAULTS: dict[str, Any] = {
    "eval": True,
    "echo": True,
    "output": True,
    "include": True,
    "warning": True,
}

#: Cell metadata keys: resolved Quarto options, and how messages name the cell.
OPTIONS_KEY = "quarto"
NAME_KEY = "cell_name"

_INCLUDE = re.compile(r"^[ \t]*\{\{<\s*include\s+(?P<path>\S+)\s*>\}\}[ \t]*$", re.MULTILINE)
_SHORTCODE = re.compile(r"\{\{<\s*(?P<name>[\w-]+)")
_OPTION_LINE = re.compile(r"^#\|\s?(?P<yaml>.*)$")


class _Yaml12Loader(yaml.SafeLoader):
    """Safe YAML loader whose booleans are only ``true``/``false`` (YAML 1.2, like Quarto)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [entry for entry in resolvers if entry[0] != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class Document:
    """A Quarto document read into a notebook.

    Attributes
    ----------
    source : Path
        The ``.qmd`` file (used in messages).
    front_matter : dict
        The parsed YAML front matter (empty if there is none).
    notebook : nbformat.NotebookNode
        Markdown and code cells; each code cell has its resolved options in
        ``cell.metadata["quarto"]``, its name for messages (file, code cell
        number, first line of code) in ``cell.metadata["cell_name"]`` and its
        ``#|`` lines removed.
    """

    source: Path
    front_matter: dict[str, Any]
    notebook: nbformat.NotebookNode


def load_yaml(text: str, where: str) -> Any:
    """Parse YAML with YAML 1.2 booleans.

    Parameters
    ----------
    text : str
        YAML text.
    where : str
        What the text is, for the error message (file and cell).

    Returns
    -------
    Any
        The parsed value.

    Raises
    ------
    RenderError
        If the text is not valid YAML.
    """
    try:
        return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise RenderError(f"{where}: invalid YAML: {exc}") from exc


def expand_includes(path: Path, root: Path, seen: tuple[Path, ...] = ()) -> str:
    """Return the text of ``path`` with every include shortcode replaced by the included text.

    Parameters
    ----------
    path : Path
        The file to read.
    root : Path
        The report's folder; include paths starting with ``/`` are relative to it.
    seen : tuple of Path
        Files being expanded further up (to report include cycles).

    Returns
    -------
    str
        The expanded text.

    Raises
    ------
    RenderError
        If an included file is missing or includes itself.
    """
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise RenderError(f"{seen[0]}: include cycle: {chain}")
    text = path.read_text(encoding="utf-8")

    def replace(match: re.Match[str]) -> str:
        target = match["path"].strip("\"'")
        included = root / target.lstrip("/") if target.startswith("/") else path.parent / target
        if not included.is_file():
            raise RenderError(f"{path}: included file {target!r} not found (looked for {included})")
        return expand_includes(included, root, (*seen, resolved)).rstrip("\n")

    return _INCLUDE.sub(replace, text)


def split_options(code: str, where: str) -> tuple[dict[str, Any], str]:
    """Split the leading ``#|`` option lines off a code cell.

    Parameters
    ----------
    code : str
        The cell's source.
    where : str
        File and cell, for error messages.

    Returns
    -------
    options : dict
        The cell options (empty if there are none).
    code : str
        The code without the option lines.
    """
    lines = code.splitlines()
    count = 0
    while count < len(lines) and _OPTION_LINE.match(lines[count]):
        count += 1
    if count == 0:
        return {}, code
    block = "\n".join(_OPTION_LINE.match(line)["yaml"] for line in lines[:count])
    options = load_yaml(block, f"{where}, cell options") or {}
    if not isinstance(options, dict):
        raise RenderError(f"{where}: cell options must be `#| key: value` lines, got {block!r}")
    return options, "\n".join(lines[count:])


def first_code_line(code: str) -> str:
    """Return the first non-blank line of ``code`` (how messages name a cell)."""
    return next((line.strip() for line in code.splitlines() if line.strip()), "<empty cell>")


def read_document(source: Path) -> Document:
    """Read a ``.qmd`` file into a :class:`Document`.

    Parameters
    ----------
    source : Path
        The Quarto document.

    Returns
    -------
    Document
        Front matter and notebook with resolved cell options.

    Raises
    ------
    RenderError
        If the file is missing, an include cannot be resolved, YAML is
        invalid or a code cell is not ``{python}``.
    """
    if not source.is_file():
        raise RenderError(f"{source}: report source not found")
    text = expand_includes(source, source.parent)
    _warn_unsupported_shortcodes(text, source)
    notebook = jupytext.reads(text, fmt="Rmd")
    front_matter = _pop_front_matter(notebook, source)
    execute = front_matter.get("execute") or {}
    defaults = {**EXECUTE_DEFAULTS, **{k: v for k, v in execute.items() if k in EXECUTE_DEFAULTS}}
    code_cells = (cell for cell in notebook.cells if cell.cell_type == "code")
    for number, cell in enumerate(code_cells, start=1):
        _resolve_cell(cell, defaults, f"{source}: code cell {number}")
    return Document(source=source, front_matter=front_matter, notebook=notebook)


def _pop_front_matter(notebook: nbformat.NotebookNode, source: Path) -> dict[str, Any]:
    """Remove the front-matter raw cell that jupytext creates and return its parsed YAML."""
    cells = notebook.cells
    if not cells or cells[0].cell_type != "raw" or not cells[0].source.startswith("---"):
        return {}
    body = cells.pop(0).source.strip().removeprefix("---").removesuffix("---")
    front_matter = load_yaml(body, f"{source}, front matter") or {}
    if not isinstance(front_matter, dict):
        raise RenderError(f"{source}: the front matter must be a YAML mapping")
    return front_matter


def _resolve_cell(cell: nbformat.NotebookNode, defaults: dict[str, Any], where: str) -> None:
    """Check the cell's language, then move its ``#|`` options into metadata and tags."""
    language = cell.metadata.get("language", "python")
    if language != "python":
        raise RenderError(
            f"{where}: `{{{language}}}` cells are not supported by the built-in engine "
            "(only `{python}`); render with engine='quarto'"
        )
    options, code = split_options(cell.source, where)
    cell.source = code
    cell.metadata[NAME_KEY] = f"{where} (`{first_code_line(code)}`)"
    cell.metadata[OPTIONS_KEY] = {**defaults, **options}
    tags = options.get("tags") or []
    cell.metadata["tags"] = [tags] if isinstance(tags, str) else list(tags)


def _warn_unsupported_shortcodes(text: str, source: Path) -> None:
    """Log shortcodes that the built-in engine leaves as literal text."""
    for name in sorted({match["name"] for match in _SHORTCODE.finditer(text)}):
        log.warning("%s: shortcode {{< %s >}} is not supported by the built-in engine", source, name)
