"""Convert a report's pandoc Markdown to self-contained HTML (pandoc) and to PDF (pandoc, Typst)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pypandoc
import typst
import yaml

from evaluation.errors import RenderError

log = logging.getLogger(__name__)

STYLESHEET = Path(__file__).with_name("style.css")
LUA_FILTER = Path(__file__).with_name("quarto-conventions.lua")
TYPST_HEADER = Path(__file__).with_name("typst-header.typ")

#: Front-matter keys passed on to pandoc, and defaults for some of them.
METADATA_KEYS = ("title", "subtitle", "pagetitle", "author", "date", "lang", "abstract", "papersize")
METADATA_DEFAULTS = {"lang": "en", "papersize": "a4"}


def metadata_block(front_matter: dict[str, Any], source: Path, target: str, lang: str | None) -> str:
    """Return a pandoc YAML metadata block with the report's title block and language.

    Parameters
    ----------
    front_matter : dict
        The report's front matter; options under ``format: {target: ...}``
        override the document-level ones, as in Quarto.
    source : Path
        The report (its name is the page title if there is no title; its
        modification date replaces ``date: last-modified``).
    target : {"html", "typst"}
        The output format.
    lang : str or None
        Language that overrides the front matter (from a ``lang`` parameter).

    Returns
    -------
    str
        ``---`` delimited YAML. Quarto author objects are reduced to names;
        ``date: today`` and ``date: last-modified`` become ISO dates; ``lang``
        defaults to ``en`` and ``papersize`` (PDF) to ``a4``.
    """
    formats = front_matter.get("format")
    overrides = formats.get(target) if isinstance(formats, dict) else None
    merged = {**front_matter, **overrides} if isinstance(overrides, dict) else front_matter
    present = {key: merged[key] for key in METADATA_KEYS if merged.get(key) is not None}
    metadata = {**METADATA_DEFAULTS, **present}
    metadata["lang"] = str(lang or metadata["lang"])
    if "title" not in metadata and "pagetitle" not in metadata:
        metadata["pagetitle"] = source.stem
    if "author" in metadata:
        metadata["author"] = _author_names(metadata["author"])
    if "date" in metadata:
        metadata["date"] = _resolve_date(metadata["date"], source)
    return "---\n" + yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False) + "---\n"


def write_html(markdown: str, build_dir: Path, source_dir: Path, output: Path) -> None:
    """Convert Markdown to one self-contained HTML file (figures, CSS embedded as data).

    Images get their ``fig-alt`` attribute as alt text (see ``quarto-conventions.lua``).

    Parameters
    ----------
    markdown : str
        Pandoc Markdown with metadata block.
    build_dir : Path
        Folder holding the figure files the Markdown refers to.
    source_dir : Path
        The report's folder, where images named in its text are looked up.
    output : Path
        HTML file to write.
    """
    args = ["--standalone", "--embed-resources", "--mathml", f"--css={STYLESHEET}"]
    _pandoc(markdown, "html", args, build_dir, source_dir, output)


def write_pdf(markdown: str, build_dir: Path, source_dir: Path, output: Path) -> None:
    """Convert Markdown to Typst with pandoc, then compile it to PDF with Typst.

    Only the fonts bundled with Typst are used (Libertinus Serif, DejaVu Sans
    Mono), so the PDF is the same on every machine; they cover the Nordic
    letters. Images given as ``data:`` URIs are written to ``media/``, and
    figures keep their alt text in the tagged PDF (see ``quarto-conventions.lua``).

    Parameters
    ----------
    markdown : str
        Pandoc Markdown with metadata block.
    build_dir : Path
        Folder holding the figure files; the ``.typ`` file is written there.
    source_dir : Path
        The report's folder, where images named in its text are looked up
        (they are copied to ``media/``, as Typst reads only below its root).
    output : Path
        PDF file to write. Its creation date is ``SOURCE_DATE_EPOCH`` when that is set (the
        reproducible-builds convention: the same inputs then give the same bytes), else now.
    """
    typ = build_dir / f"{output.stem}.typ"
    args = ["--standalone", "--extract-media=media", f"--include-in-header={TYPST_HEADER}"]
    _pandoc(markdown, "typst", args, build_dir, source_dir, typ)
    try:
        typst.compile(
            str(typ), output=str(output), root=str(build_dir), ignore_system_fonts=True, timestamp=_source_date()
        )
    except typst.TypstError as exc:
        raise RenderError(f"Typst could not compile the PDF ({typ.name}): {exc}") from exc


def pandoc_binary() -> str:
    """The pandoc of ``pypandoc-binary`` (a dependency, recent enough for Typst), else the one pypandoc finds.

    pypandoc itself takes the newest pandoc it can run, and a system pandoc
    (Debian's 2.17 has no Typst writer) wins whenever the bundled one's version
    check fails, so the bundled binary is named directly.
    """
    bundled = Path(pypandoc.__file__).parent / "files" / ("pandoc.exe" if os.name == "nt" else "pandoc")
    return str(bundled) if bundled.is_file() else pypandoc.get_pandoc_path()


def _pandoc(markdown: str, to: str, args: list[str], build_dir: Path, source_dir: Path, output: Path) -> None:
    """Run pandoc (:func:`pandoc_binary`) with our Lua filter on Markdown text in ``build_dir``.

    The working directory is given to the pandoc process only (pypandoc would
    change this process's), so conversions can run in parallel threads.
    """
    resource_path = os.pathsep.join([".", str(source_dir.resolve())])
    command = [
        pandoc_binary(),
        "--from=markdown",
        f"--to={to}",
        f"--output={output.resolve()}",
        *args,
        f"--lua-filter={LUA_FILTER}",
        f"--resource-path={resource_path}",
    ]
    result = subprocess.run(command, input=markdown.encode("utf-8"), capture_output=True, cwd=build_dir, check=False)
    messages = result.stderr.decode("utf-8", errors="replace").strip()
    if result.returncode != 0:
        raise RenderError(f"pandoc could not convert the report to {to} (exit code {result.returncode}): {messages}")
    if messages:
        log.warning("pandoc (%s): %s", to, messages)


def _author_names(author: Any) -> list[str]:
    """Names from a Quarto ``author`` field (a string, a mapping or a list of either)."""
    authors = author if isinstance(author, list) else [author]
    names = []
    for entry in authors:
        name = entry.get("name", "") if isinstance(entry, dict) else entry
        if isinstance(name, dict):
            name = " ".join(str(name[part]) for part in ("given", "family") if part in name)
        names.append(str(name))
    return names


def _resolve_date(date: Any, source: Path) -> str:
    """Replace Quarto's date keywords by ISO dates."""
    if date in ("today", "now"):
        return dt.date.today().isoformat()
    if date == "last-modified":
        return dt.date.fromtimestamp(source.stat().st_mtime).isoformat()
    return str(date)


def _source_date() -> int | None:
    """``SOURCE_DATE_EPOCH`` (UNIX seconds) when set, else None (Typst then uses the current time).

    Raises
    ------
    RenderError
        When it is set but not a whole number of seconds.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")  # an environment variable, not a config key
    if value is None:
        return None
    if not value.strip().isdigit():
        raise RenderError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970; got {value!r}")
    return int(value)
