"""Stage ``ingest``: read every raw input through its codebook into canonical Parquet tables.

Every raw row is accounted for: rows read = rows kept + rows quarantined, per file.
Optional sources: a code crosswalk (``sources.crosswalk.file``) carries turnout
area codes and survey municipality codes into today's codes (see
:mod:`evaluation.sources.crosswalk`), and an electoral-roll register
(``sources.register``) is aggregated to area x group cells (see
:mod:`evaluation.sources.register`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.demo.manifest import MANIFEST, unlisted_files
from evaluation.errors import ConfigError, InputFileError
from evaluation.outputs import write_csv, write_parquet
from evaluation.progress import progress
from evaluation.sources import crosswalk as cw
from evaluation.sources import labels
from evaluation.sources.codebook import Codebook, apply_codebook, load_codebook, with_constants
from evaluation.sources.file_sets import SourceFile, overlapping_rows, source_files
from evaluation.sources.links import link_survey, read_area_links
from evaluation.sources.pseudonymise import pseudonymisation_key, pseudonymise
from evaluation.sources.readers import read_file
from evaluation.sources.register import aggregate_register
from evaluation.sources.replicate_weights import read_replicates, with_replicates
from evaluation.variables import load_variables
from evaluation.workflow import survey_files

OUTPUT_FILES = {
    "areas": "areas.parquet",
    "turnout": "turnout.parquet",
    "survey": "survey.parquet",
    "nonresponse": "item_nonresponse.parquet",
    "quarantine": "quarantine.parquet",
    "accounting": "row_accounting.csv",
    "dictionary": "data_dictionary.csv",
    "masked": "masked_values.csv",
    "participants": "participants.parquet",
    "proposals": "proposals.parquet",
}
RECORD_SOURCES = ("participants", "proposals")
"""Optional sources of one file read through their codebook as they are (one canonical table each)."""
OUTPUT_SOURCE = {"turnout": "turnout", "survey": "survey", "nonresponse": "survey"} | {s: s for s in RECORD_SOURCES}
"""Outputs written only when their source is configured (the others always are)."""
REGISTER_FILE = "register_turnout.parquet"
log = logging.getLogger(__name__)
MASKED_COLUMNS = ["table", "source_file", "source_row", "variable", "reason"]


@dataclass
class SourceResult:
    """Canonical rows of one source with their quarantine and accounting records."""

    data: pd.DataFrame
    quarantine: pd.DataFrame
    accounting: pd.DataFrame
    nonresponse: pd.DataFrame | None = None
    dictionary: pd.DataFrame | None = None  # variable and value labels of the source's files


def ingest(raw_dir: Path, out_dir: Path, config_settings: dict[str, Any]) -> dict[str, Path]:
    """Run the stage: read areas and whichever of turnout, survey waves, records and a register are configured.

    Returns the paths written: keys of ``OUTPUT_FILES`` (``turnout``, ``survey``,
    ``nonresponse`` and the :data:`RECORD_SOURCES` only with their source), plus ``register`` when configured.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    sources = config_settings["sources"]
    key = _pseudonymisation_key(raw_dir, sources, config_settings)  # settled before anything is written
    out_dir.mkdir(parents=True, exist_ok=True)
    variables = load_variables(Path(config_settings["variables"]))
    canonical = [*variables.outcomes, *variables.group_variables]  # with CANONICAL_COLUMNS: the names codebooks use
    areas = ingest_single(
        raw_dir / sources["areas"]["file"], load_codebook(Path(sources["areas"]["codebook"]), canonical)
    )
    results = {"areas": areas}
    if "turnout" in sources:
        results["turnout"] = ingest_turnout(
            source_files(raw_dir, sources["turnout"]), load_codebook(Path(sources["turnout"]["codebook"]), canonical)
        )
    if "survey" in sources:
        results["survey"] = ingest_survey(
            survey_files(raw_dir, sources["survey"]),
            load_codebook(Path(sources["survey"]["codebook"]), canonical),
            key,
            {name: outcome.range for name, outcome in variables.outcomes.items()},
        )
    for name in RECORD_SOURCES:
        if name in sources:
            codebook = load_codebook(Path(sources[name]["codebook"]), canonical)
            results[name] = ingest_single(raw_dir / sources[name]["file"], codebook)
    if "area_links" in sources and "survey" in results:
        links_path = raw_dir / sources["area_links"]["file"]
        links = read_area_links(links_path, sources["area_links"]["code"], sources["area_links"]["area_code"])
        survey = results["survey"]
        results["survey"] = replace(survey, data=link_survey(survey.data, links, links_path))
    if "crosswalk" in sources:
        crosswalk = cw.load_crosswalk(raw_dir / sources["crosswalk"]["file"])
        if "turnout" in results:
            results["turnout"] = crosswalk_turnout(results["turnout"], crosswalk, areas.data)
        if "survey" in results:
            results["survey"] = crosswalk_survey(results["survey"], crosswalk, areas.data)
    paths = {name: out_dir / file for name, file in OUTPUT_FILES.items() if OUTPUT_SOURCE.get(name, "areas") in results}
    write_parquet(areas.data, paths["areas"])
    if "turnout" in results:
        write_parquet(results["turnout"].data.drop(columns=["district_number"], errors="ignore"), paths["turnout"])
    for name in RECORD_SOURCES:
        if name in results:
            write_parquet(results[name].data, paths[name])
    if "survey" in results:
        write_parquet(results["survey"].data, paths["survey"])
        write_parquet(results["survey"].nonresponse, paths["nonresponse"])
    masked = [
        results[name].nonresponse.assign(table=name)
        for name in ("areas", "turnout", *RECORD_SOURCES)
        if name in results
    ]
    write_csv(pd.concat(masked, ignore_index=True)[MASKED_COLUMNS], paths["masked"])
    if "register" in sources:
        register = aggregate_register(
            raw_dir / sources["register"]["file"], load_codebook(Path(sources["register"]["codebook"]), canonical)
        )
        paths["register"] = out_dir / REGISTER_FILE
        write_parquet(register.cells, paths["register"])
        results["register"] = SourceResult(
            register.cells, register.quarantine, register.accounting, dictionary=register.dictionary
        )
    write_csv(pd.concat([r.dictionary for r in results.values()], ignore_index=True), paths["dictionary"])
    write_parquet(
        pd.concat([r.quarantine for r in results.values()], ignore_index=True).astype(str), paths["quarantine"]
    )
    accounting = pd.concat([r.accounting.assign(table=name) for name, r in results.items()], ignore_index=True)
    write_csv(accounting[["table", *accounting.columns.drop("table")]], paths["accounting"])
    return paths


def _pseudonymisation_key(raw_dir: Path, sources: dict[str, Any], config_settings: dict[str, Any]) -> bytes:
    """The id-hashing key: the public demo key only when the demo is enabled and ingest reads its files, unchanged.

    Every file ingest reads (areas, turnout, survey waves, crosswalk, register, participants, proposals) must be
    listed in ``demo_manifest.json`` of ``raw_dir`` with its present SHA-256; otherwise
    the key comes from the ``pseudonymisation.key_env`` environment variable.
    """
    names = [name for name in ("areas", "crosswalk", "register", *RECORD_SOURCES) if name in sources]
    read = [raw_dir / sources[name]["file"] for name in names]
    read += (
        [turnout_file.path for turnout_file in source_files(raw_dir, sources["turnout"])]
        if "turnout" in sources
        else []
    )
    read += survey_files(raw_dir, sources["survey"]).values() if "survey" in sources else []
    real = unlisted_files(raw_dir, read)
    because = (
        "demo.enabled is false"
        if not config_settings["demo"]
        else f"not listed unchanged in {raw_dir / MANIFEST}: {', '.join(real)}"
        if real
        else ""
    )
    env_var = config_settings["pseudonymisation"]["key_env"]
    return pseudonymisation_key(env_var, demo=not because, not_demo_because=because)


def crosswalk_turnout(turnout: SourceResult, crosswalk: cw.Crosswalk, areas: pd.DataFrame) -> SourceResult:
    """Carry turnout into today's area codes; rows with unknown codes are quarantined and counted."""
    if "election_date" not in turnout.data:
        raise ConfigError(
            "the turnout codebook must derive election_date for the crosswalk to know which reforms follow"
        )
    data, quarantine = cw.apply_to_turnout(turnout.data, crosswalk, areas)
    return SourceResult(
        data, *_with_quarantine(turnout, quarantine), nonresponse=turnout.nonresponse, dictionary=turnout.dictionary
    )


def crosswalk_survey(survey: SourceResult, crosswalk: cw.Crosswalk, areas: pd.DataFrame) -> SourceResult:
    """Carry respondents' municipality codes into today's codes; split or unknown codes are quarantined."""
    data, quarantine = cw.apply_to_survey(survey.data, crosswalk, set(areas["municipality_code"]))
    return SourceResult(
        data.reset_index(drop=True),
        *_with_quarantine(survey, quarantine),
        nonresponse=survey.nonresponse,
        dictionary=survey.dictionary,
    )


def _with_quarantine(result: SourceResult, extra: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The source's quarantine plus ``extra``, and its accounting with the extra rows moved from kept to quarantined."""
    accounting = result.accounting.set_index("source_file")
    moved = extra["source_file"].value_counts().reindex(accounting.index, fill_value=0)
    accounting["rows_kept"] -= moved
    accounting["rows_quarantined"] += moved
    return pd.concat([result.quarantine, extra], ignore_index=True), accounting.reset_index()


def ingest_single(path: Path, codebook: Codebook) -> SourceResult:
    """Read one file through its codebook.

    Values that are missing by a declared code or a masking symbol (``..``, ``:``)
    are kept as missing, each recorded with its reason in ``nonresponse``
    (``source_file``, 1-based ``source_row``, ``variable``, ``reason``).
    """
    raw, metadata = read_file(path, codebook.read)
    result = apply_codebook(raw, metadata, codebook, source_file=path.name)
    data = _with_provenance(result.data, path.name)
    dictionary = labels.data_dictionary(codebook, metadata, list(raw.columns), result.source_names, path.name, None)
    masked = result.nonresponse.assign(source_file=path.name, source_row=result.nonresponse["row"].astype(int) + 1)
    rows_read = len(raw) if codebook.party_rows is None else len(result.data) + len(result.quarantine)  # areas
    return SourceResult(
        data,
        result.quarantine,
        _accounting(path.name, rows_read, result.quarantine),
        nonresponse=masked[["source_file", "source_row", "variable", "reason"]],
        dictionary=dictionary,
    )


def ingest_turnout(files: list[SourceFile], codebook: Codebook) -> SourceResult:
    """Read every turnout file through the codebook, each with its own constants (``sources.turnout.files``).

    Raises
    ------
    InputFileError
        When one area and election is in two files, naming both files and rows.
    """
    results = [
        ingest_single(f.path, with_constants(codebook, f.constants, f"sources.turnout, {f.path.name}")) for f in files
    ]
    if len(results) == 1:
        return results[0]
    data = pd.concat([r.data for r in results], ignore_index=True)
    overlap = overlapping_rows(data, ["area_code", "election_type", "election_year"])
    if overlap:
        raise InputFileError(overlap)
    return SourceResult(
        data,
        pd.concat([r.quarantine for r in results], ignore_index=True),
        pd.concat([r.accounting for r in results], ignore_index=True),
        nonresponse=pd.concat([r.nonresponse for r in results], ignore_index=True),
        dictionary=pd.concat([r.dictionary for r in results], ignore_index=True),
    )


def ingest_survey(
    files: dict[int, Path], codebook: Codebook, key: bytes, valid_ranges: dict[str, tuple[float, float]] | None = None
) -> SourceResult:
    """Read every survey wave, pseudonymise ids and attach the design columns.

    The files' own metadata is checked wave by wave (:mod:`evaluation.sources.labels`): a code whose
    value label changes between waves, or a declared missing code inside an outcome's ``valid_ranges``
    (canonical name -> (low, high)), stops the run.
    """
    _id_spec(codebook)  # a survey codebook without respondent_id stops here, naming the codebook
    history = labels.LabelHistory()
    replicates = None  # the number of replicate weights of the first wave, which every wave must have
    frames, quarantines, accounts, nonresponse, dictionaries = [], [], [], [], []
    for wave, path in progress(sorted(files.items()), "ingest: survey wave", log, lambda item: item[1].name):
        raw, metadata = read_file(path, codebook.read)
        result = apply_codebook(raw, metadata, codebook, source_file=path.name, wave=wave)
        if "replicate_weights" in codebook.design:
            spec = codebook.design["replicate_weights"]
            weights, problems = read_replicates(raw, spec, path.name, replicates, result.source_names)
            replicates = weights.shape[1]
            multiplies = None if spec["combined_weights"] else "design_weight"  # the full-sample weight
            result = with_replicates(result, weights, problems, path.name, multiplies)
        labels.check_wave(codebook, metadata, result.source_names, path.name, wave, history, valid_ranges or {})
        dictionaries.append(
            labels.data_dictionary(codebook, metadata, list(raw.columns), result.source_names, path.name, wave)
        )
        data = result.data
        id_column = result.source_names["respondent_id"]  # the codebook's (case-insensitive) match, used throughout
        pseudonyms = pseudonymise(raw[id_column], key, where=f"{path.name}, column {id_column}")
        data["respondent_id"] = pseudonyms.loc[data.index]
        data.insert(1, "wave", wave)
        frames.append(_with_provenance(data, path.name))
        item_missing = result.nonresponse.assign(
            respondent_id=pseudonyms.loc[result.nonresponse["row"]].to_numpy(), wave=wave
        )
        nonresponse.append(item_missing[["respondent_id", "wave", "variable", "reason"]])
        quarantines.append(_without_raw_ids(result.quarantine, codebook))
        accounts.append(_accounting(path.name, len(raw), result.quarantine))
    survey = pd.concat(frames, ignore_index=True)
    design = codebook.design
    survey["stratum"] = survey[design["stratum"]].astype(str)
    survey["psu"] = survey[design["psu"]].astype(str)
    return SourceResult(
        data=survey,
        quarantine=pd.concat(quarantines, ignore_index=True),
        accounting=pd.concat(accounts, ignore_index=True),
        nonresponse=pd.concat(nonresponse, ignore_index=True),
        dictionary=pd.concat(dictionaries, ignore_index=True),
    )


def _with_provenance(data: pd.DataFrame, source_file: str) -> pd.DataFrame:
    """Record where each row came from (file and 1-based data row) so later quarantines can name it."""
    return data.assign(source_file=source_file, source_row=data.index.to_numpy() + 1).reset_index(drop=True)


def _id_spec(codebook: Codebook):
    for spec in codebook.columns:
        if spec.name == "respondent_id":
            return spec
    raise ConfigError(f"{codebook.path}: a survey codebook needs a column respondent_id")


def _without_raw_ids(quarantine: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Blank the offending value when it is the original respondent id (it must not be stored)."""
    spec = _id_spec(codebook)
    id_variables = {name.lower() for name in spec.source_variables()}  # names match case-insensitively
    quarantine = quarantine.copy()
    quarantine.loc[quarantine["column"].astype(str).str.lower().isin(id_variables), "value"] = "(id withheld)"
    return quarantine


def _accounting(source_file: str, rows_read: int, quarantine: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "source_file": source_file,
                "stage": "ingest",
                "rows_read": rows_read,
                "rows_kept": rows_read - len(quarantine),
                "rows_quarantined": len(quarantine),
            }
        ]
    )
