"""Stage ``render``: one report, from its ``.qmd`` source and the result tables, to HTML and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation.rendering.engine import render_report


def render(source: Path, params: dict[str, Any], html: Path, pdf: Path | None, engine: str) -> str:
    """Run the stage; returns the engine used (``quarto`` or ``builtin``)."""
    return render_report(Path(source), params, Path(html), None if pdf is None else Path(pdf), engine=engine)
