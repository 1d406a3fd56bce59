"""Turn an executed report notebook into the body of a pandoc Markdown document.

Cell options decide what appears (Quarto semantics):

- ``include: false``: neither code nor output;
- ``echo``: the code (without its ``#|`` lines) as a ``python`` code block;
- ``output: false``: no output; ``output: asis``: printed text and plain
  results are treated as Markdown;
- ``warning: false``: no ``stderr`` output (where Python warnings go);
- ``fig-cap`` / ``fig-alt`` (a list with one entry per figure of the cell,
  or one string for all): caption and alt text of image outputs.

Outputs are chosen by MIME type: images (SVG, PNG, JPEG) become figures whose
files are written to ``media_dir``; ``text/markdown`` is included as
Markdown, its base64 ``data:`` images (as reports write figures) written to
``media_dir`` too and referred to by file name (pandoc reads long base64 lines
slowly; HTML embeds the same bytes again, Typst reads the file);
``text/html`` is included as raw HTML in HTML only (for the PDF a
``text/markdown`` representation is used if there is one, otherwise the
output is dropped with a warning); ``text/plain``, ``stdout`` and ``stderr``
become code blocks.
"""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path
from typing import Any, Literal

import nbformat

from evaluation.rendering.document import NAME_KEY, OPTIONS_KEY, Document

log = logging.getLogger(__name__)

Target = Literal["html", "typst"]

_IMAGE_EXTENSIONS = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg"}
_DATA_IMAGE = re.compile(r"\]\(data:(?P<mime>image/(?:png|jpeg|svg\+xml));base64,(?P<payload>[A-Za-z0-9+/=\s]+)\)")
_MIME_PREFERENCE: dict[str, tuple[str, ...]] = {
    "html": (*_IMAGE_EXTENSIONS, "text/html", "text/markdown", "text/plain"),
    "typst": (*_IMAGE_EXTENSIONS, "text/markdown", "text/plain"),
}


def notebook_to_markdown(document: Document, target: Target, media_dir: Path) -> str:
    """Return the Markdown body of an executed report for one output format.

    Parameters
    ----------
    document : Document
        The report, executed (its code cells have outputs).
    target : {"html", "typst"}
        The format the Markdown will be converted to (decides raw HTML).
    media_dir : Path
        Folder where figure files are written; the Markdown refers to them
        by file name, so pandoc must run in this folder.

    Returns
    -------
    str
        Pandoc Markdown without front matter.
    """
    blocks: list[str] = []
    for index, cell in enumerate(document.notebook.cells):
        if cell.cell_type == "code":
            blocks += _CellWriter(cell, index, target, media_dir).blocks()
        elif cell.source.strip():
            blocks.append(cell.source)
    return "\n\n".join(block.rstrip() for block in blocks) + "\n"


def fenced(text: str, attributes: str = "") -> str:
    """Return ``text`` as a fenced block with pandoc ``attributes`` and a fence longer than any inside."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{attributes}\n{text.rstrip()}\n{fence}"


def output_block(text: str, css_class: str) -> str:
    """Return text output as a plain code block inside a div of class ``css_class``.

    The class goes on a div, not on the code block: pandoc looks every class
    of a code block up as a highlighting language, and an unknown one costs
    about half a second per document.
    """
    return f"::: {{.{css_class}}}\n{fenced(text)}\n:::"


class _CellWriter:
    """Writes the blocks of one code cell."""

    def __init__(self, cell: nbformat.NotebookNode, index: int, target: Target, media_dir: Path) -> None:
        self.cell = cell
        self.options: dict[str, Any] = cell.metadata[OPTIONS_KEY]
        self.target = target
        self.media_dir = media_dir
        self.where = cell.metadata[NAME_KEY]
        self.file_stem = f"cell{index + 1}"
        self.figures = 0
        self.images = 0

    def blocks(self) -> list[str]:
        """All blocks of the cell: its code (if echoed) and its outputs."""
        if not self.options["include"]:
            return []
        blocks = []
        if self.options["echo"] and self.cell.source.strip():
            blocks.append(fenced(self.cell.source, "{.python .cell-code}"))
        if self.options["output"] is not False:
            for number, output in enumerate(self.cell.get("outputs", []), start=1):
                block = self._output(output, number)
                if block:
                    blocks.append(block)
        return blocks

    @property
    def asis(self) -> bool:
        """Whether text outputs are Markdown (``output: asis``)."""
        return self.options["output"] == "asis"

    def _output(self, output: nbformat.NotebookNode, number: int) -> str | None:
        """The block for one output (``None`` if it does not appear)."""
        if output.output_type == "stream":
            return self._stream(output)
        if output.output_type in ("display_data", "execute_result"):
            return self._data(output.data, number)
        return None

    def _stream(self, output: nbformat.NotebookNode) -> str | None:
        """Printed text: a code block, Markdown if ``asis``; ``stderr`` only if ``warning``."""
        if output.name == "stderr":
            return output_block(output.text, "cell-output-stderr") if self.options["warning"] else None
        return self._markdown(output.text) if self.asis else output_block(output.text, "cell-output")

    def _data(self, data: dict[str, Any], number: int) -> str | None:
        """A rich output (display data or result) in its best MIME type for the target."""
        mime = self._choose_mime(data)
        if mime is None:
            return None
        if mime in _IMAGE_EXTENSIONS:
            return self._figure(data[mime], mime, number)
        if mime == "text/html":
            return fenced(data[mime], "{=html}")
        if mime == "text/markdown" or self.asis:
            return self._markdown(data[mime])
        return output_block(data[mime], "cell-output")

    def _choose_mime(self, data: dict[str, Any]) -> str | None:
        """The preferred MIME type present, or ``None`` (HTML without Markdown form in a PDF)."""
        mime = next((mime for mime in _MIME_PREFERENCE[self.target] if mime in data), None)
        if self.target == "typst" and "text/html" in data and mime in (None, "text/plain"):
            log.warning("%s: HTML output has no Markdown form; left out of the PDF", self.where)
            return None
        return mime

    def _markdown(self, text: str) -> str:
        """Markdown output with each base64 ``data:`` image target replaced by a file written to ``media_dir``."""

        def write(match: re.Match[str]) -> str:
            self.images += 1
            path = self.media_dir / f"{self.file_stem}-image{self.images}.{_IMAGE_EXTENSIONS[match['mime']]}"
            path.write_bytes(base64.b64decode(match["payload"]))
            return f"]({path.name})"

        return _DATA_IMAGE.sub(write, text)

    def _figure(self, payload: str, mime: str, number: int) -> str:
        """Write the image file and return a Markdown image with caption and alt text."""
        path = self.media_dir / f"{self.file_stem}-{number}.{_IMAGE_EXTENSIONS[mime]}"
        if mime == "image/svg+xml":
            path.write_text(payload, encoding="utf-8")
        else:
            path.write_bytes(base64.b64decode(payload))
        caption = _nth(self.options.get("fig-cap"), self.figures)
        alt = _nth(self.options.get("fig-alt"), self.figures)
        self.figures += 1
        if not alt and not caption and self.target == "html":  # warn once, not per format
            log.warning("%s: figure without fig-alt or fig-cap (no text alternative)", self.where)
        attributes = f'{{alt="{_attribute(alt)}"}}' if alt else ""
        return f"![{_one_line(caption)}]({path.name}){attributes}"


def _nth(value: str | list[str] | None, index: int) -> str:
    """The ``index``-th entry of a per-figure option (a single string applies to every figure)."""
    if isinstance(value, list):
        return str(value[index]) if index < len(value) else ""
    return "" if value is None else str(value)


def _one_line(text: str) -> str:
    """Collapse whitespace so the text fits in one line of Markdown."""
    return " ".join(text.split())


def _attribute(text: str) -> str:
    """Escape text for a double-quoted pandoc attribute value."""
    return _one_line(text).replace("\\", "\\\\").replace('"', '\\"')
