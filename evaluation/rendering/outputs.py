"""Moving finished outputs into place."""

from __future__ import annotations

import shutil
from pathlib import Path


def move_into_place(built: Path, target: Path) -> None:
    """Move a finished output file to ``target``, creating its folder.

    Outputs are built in a private temporary folder and moved only when
    complete, so a failed render leaves no partial file for Snakemake to trust.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(built, target)
