"""The demo's record of the raw files it wrote (``demo_manifest.json``: file name -> SHA-256).

The record lets two things tell demo data from real data by content, not by a
config switch: the generator overwrites only files it wrote itself
(:func:`check_output_folder`), and ingest may hash respondent ids with the public
demo key only when every file it reads is a file the generator wrote, unchanged
(:func:`unlisted_files`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from evaluation.errors import ConfigError, InputFileError

MANIFEST = "demo_manifest.json"
CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, str]:
    """File name (relative to ``folder``, ``/``-separated) -> SHA-256 of the folder's manifest; empty without one.

    Raises
    ------
    InputFileError
        When the manifest exists but is not a JSON object of ``files`` name -> checksum.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(
            f"{path}: not a demo manifest (a JSON object with 'files': name -> SHA-256): {exc}"
        ) from exc
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise InputFileError(f"{path}: 'files' must map each file name to its SHA-256")
    return files


def write_manifest(folder: Path, names: list[str]) -> Path:
    """Record ``names`` (files in ``folder``) with their checksums in the folder's manifest."""
    folder = Path(folder)
    files = {name: file_sha256(folder / name) for name in sorted(names)}
    document = {
        "description": "raw files written by the synthetic demo generator (evaluation.demo.generate); "
        "a file not listed here, or with another checksum, is not demo data",
        "files": files,
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def unlisted_files(folder: Path, paths: list[Path]) -> list[str]:
    """The ``paths`` (files under ``folder``) that are not listed in its manifest with their present checksum.

    A missing file counts as unlisted: only files the generator wrote, unchanged, are demo data.
    """
    folder = Path(folder)
    listed = read_manifest(folder)
    unlisted = []
    for path in paths:
        path = Path(path)
        name = _relative(folder, path)
        if name is None or name not in listed or not path.is_file() or file_sha256(path) != listed[name]:
            unlisted.append(str(path))
    return unlisted


def check_output_folder(folder: Path) -> None:
    """Stop unless every file already in ``folder`` is one the generator wrote there, unchanged.

    Raises
    ------
    ConfigError
        Naming each file that is not in the folder's manifest (or whose content changed
        since the generator wrote it), so that no file the demo did not write is overwritten.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    present = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST)
    foreign = unlisted_files(folder, present)
    if foreign:
        raise ConfigError(
            f"demo output folder {folder} holds files the demo generator did not write (not in {MANIFEST} "
            f"with the same SHA-256): {', '.join(foreign)}. The demo overwrites only its own files: move these "
            "files elsewhere, or set paths.raw to an empty folder for the demo (demo.enabled: true writes there)"
        )


def _relative(folder: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None
