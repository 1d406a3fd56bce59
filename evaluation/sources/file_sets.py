"""The files of a source that may be one file or many (``sources.turnout``): names, glob patterns, per-file constants.

Authorities publish one file per election, so a turnout source is either one
``file`` or a list of ``files``, each a file name or a glob pattern relative to the
raw folder (``valgresultat/partifordeling_4_*_20*.csv``), or ``{file, constants}``
with the election constants of the files it matches (``{election_type: local,
election_year: 2019}``) when neither the file's columns nor its name carry them.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.errors import ConfigError

if TYPE_CHECKING:  # pandas is not imported at run time: the workflow lists these files at parse time
    import pandas as pd

GLOB_CHARACTERS = "*?["


@dataclass(frozen=True)
class SourceFile:
    """One file of a source and the constants given for it in the config."""

    path: Path
    constants: dict[str, Any] = field(default_factory=dict)


def source_files(raw_dir: Path, source: dict[str, Any], name: str = "turnout") -> list[SourceFile]:
    """The files of ``source`` (a ``sources.<name>`` section with ``file`` or ``files``), in the order listed.

    A pattern's matches are sorted by name. A plain file name that does not exist is
    kept (the reader then names it); a pattern that matches nothing is an error.

    Raises
    ------
    ConfigError
        When a pattern matches no file, or one file is listed (or matched) twice;
        naming ``sources.<name>`` and the entry.
    """
    raw_dir = Path(raw_dir)
    entries = [source["file"]] if "file" in source else list(source["files"])
    found: dict[Path, str] = {}
    files = []
    for number, entry in enumerate(entries, start=1):
        pattern, constants = (
            (entry, {}) if isinstance(entry, str) else (entry["file"], dict(entry.get("constants") or {}))
        )
        where = f"sources.{name}.files[{number}] ({pattern!r})" if "files" in source else f"sources.{name}.file"
        if any(c in pattern for c in GLOB_CHARACTERS):
            matches = sorted(Path(p) for p in glob.glob(str(raw_dir / pattern)) if Path(p).is_file())
            if not matches:
                raise ConfigError(f"{where}: the pattern matches no file in {raw_dir}")
        else:
            matches = [raw_dir / pattern]
        for path in matches:
            if path in found:
                raise ConfigError(f"{where}: {path} is also given by {found[path]}; each file is read once")
            same_name = [other for other in found if other.name == path.name]
            if same_name:
                raise ConfigError(
                    f"{where}: {path} and {same_name[0]} have the same name; rows record their file by name, "
                    "so rename one of them"
                )
            found[path] = where
            files.append(SourceFile(path, constants))
    return files


def overlapping_rows(data: pd.DataFrame, keys: list[str]) -> str | None:
    """A message naming the first area and election that two files both give, or None.

    ``data`` holds the rows of several files with ``source_file`` and ``source_row``.
    """
    import pandas as pd

    keys = [key for key in keys if key in data]
    files = data.groupby(keys, sort=False, dropna=False)["source_file"].nunique()
    shared = files[files > 1]
    if shared.empty:
        return None
    key = shared.index[0] if isinstance(shared.index[0], tuple) else (shared.index[0],)
    rows = data.loc[(data[keys] == pd.Series(key, index=keys)).all(axis=1), ["source_file", "source_row"]]
    where = "; ".join(f"{r.source_file}, row {r.source_row}" for r in rows.itertuples())
    what = ", ".join(f"{k} {v}" for k, v in zip(keys, key))
    return (
        f"{len(shared)} area(s) and election(s) are in more than one turnout file, e.g. {what} ({where}); "
        "each area and election must come from one file"
    )
