"""Bad inputs about identifiers and the files' own metadata, with real SPSS, Stata, CSV and Excel files.

Each case asserts either the exact error (our own type, naming the file and the
wave, variable or column) or the exact right value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml

from evaluation.errors import ConfigError, InputFileError
from evaluation.sources.codebook import load_codebook
from evaluation.stages.ingest import ingest_survey

KEY = b"test key"
BASE_COLUMNS = {
    "respondent_id": {"variable": "Resp_ID", "type": "text", "required": True},
    "municipality_code": {"variable": "kommune", "type": "text", "required": True, "transform": "zero_pad_4"},
}


def codebook(folder: Path, **columns) -> Path:
    """A survey codebook with an id, a municipality and ``columns`` (canonical name -> spec)."""
    path = folder / "panel.codebook.yaml"
    doc = {
        "source": "test panel",
        "kind": "survey",
        "missing_codes": {97: "dont_know", 98: "refused"},
        "columns": {**BASE_COLUMNS, **columns},
    }
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def frame(ids, **columns) -> pd.DataFrame:
    """Wave data: ids, municipality 301 and the given columns."""
    return pd.DataFrame({"Resp_ID": ids, "kommune": ["301"] * len(ids), **columns})


def ingest_waves(files: dict[int, Path], book: Path, **kwargs):
    return ingest_survey(files, load_codebook(book), KEY, **kwargs)


# --------------------------------------------------------------------------- identifiers


def test_same_respondent_in_sav_csv_and_xlsx_waves_has_one_pseudonym(tmp_path):
    pyreadstat.write_sav(frame([452.0, 453.0]), str(tmp_path / "w1.sav"))
    frame(["452.0", "453.0"]).to_csv(tmp_path / "w2.csv", index=False)
    frame([" 452", "453\u00a0"]).to_excel(tmp_path / "w3.xlsx", index=False)
    pyreadstat.write_dta(frame([452, 453]).astype({"Resp_ID": "int32"}), str(tmp_path / "w4.dta"))
    files = {1: tmp_path / "w1.sav", 2: tmp_path / "w2.csv", 3: tmp_path / "w3.xlsx", 4: tmp_path / "w4.dta"}
    survey = ingest_waves(files, codebook(tmp_path)).data
    assert survey["respondent_id"].nunique() == 2
    assert survey.groupby("respondent_id")["wave"].apply(sorted).tolist() == [[1, 2, 3, 4]] * 2


def test_unicode_forms_of_one_text_id_are_one_respondent(tmp_path):
    frame(["Bj\u00f8rn-7", "Jose\u0301-1"]).to_csv(tmp_path / "w1.csv", index=False)  # composed ø, decomposed é
    frame(["Bj\u00f8rn-7 ", "Jos\u00e9-1"]).to_csv(tmp_path / "w2.csv", index=False)
    survey = ingest_waves({1: tmp_path / "w1.csv", 2: tmp_path / "w2.csv"}, codebook(tmp_path)).data
    assert survey["respondent_id"].nunique() == 2


def test_id_column_in_other_case_is_found_in_every_wave(tmp_path):
    frame(["1", "2"]).to_csv(tmp_path / "w1.csv", index=False)
    frame(["1", "2"]).rename(columns={"Resp_ID": "RESP_ID"}).to_csv(tmp_path / "w2.csv", index=False)
    survey = ingest_waves({1: tmp_path / "w1.csv", 2: tmp_path / "w2.csv"}, codebook(tmp_path)).data
    assert survey["respondent_id"].nunique() == 2
    assert len(survey) == 4


def test_missing_id_column_names_file_and_column(tmp_path):
    frame(["1", "2"]).rename(columns={"Resp_ID": "respondent"}).to_csv(tmp_path / "w1.csv", index=False)
    with pytest.raises(
        InputFileError, match=r"w1\.csv: column\(s\) 'Resp_ID' named in codebook .*panel\.codebook\.yaml"
    ):
        ingest_waves({1: tmp_path / "w1.csv"}, codebook(tmp_path))


def test_ambiguous_id_column_names_file_and_column(tmp_path):
    frame(["1", "2"]).assign(RESP_ID=["3", "4"]).to_csv(tmp_path / "w1.csv", index=False)
    book = codebook(tmp_path, respondent_id={"variable": "resp_id", "type": "text", "required": True})
    with pytest.raises(InputFileError, match=r"w1\.csv: .*'resp_id'"):  # matches Resp_ID and RESP_ID
        ingest_waves({1: tmp_path / "w1.csv"}, book)


def test_survey_codebook_without_respondent_id_is_a_config_error(tmp_path):
    book = codebook(tmp_path)
    doc = yaml.safe_load(book.read_text(encoding="utf-8"))
    del doc["columns"]["respondent_id"]
    book.write_text(yaml.safe_dump(doc), encoding="utf-8")
    frame(["1"]).to_csv(tmp_path / "w1.csv", index=False)
    with pytest.raises(ConfigError, match=r"panel\.codebook\.yaml: a survey codebook needs a column respondent_id"):
        ingest_waves({1: tmp_path / "w1.csv"}, book)


# --------------------------------------------------------------------------- value labels across waves

GENDER = {"variable": "kjonn", "type": "category", "recode": {1: "male", 2: "female"}}
GENDER_BY_LABEL = {"variable": "kjonn", "type": "category", "recode_labels": {"Kvinne": "female", "Mann": "male"}}
MEN_FIRST = {1: "Mann", 2: "Kvinne"}
WOMEN_FIRST = {1: "Kvinne", 2: "Mann"}


def labelled_waves(folder: Path, labels_of_wave: dict[int, dict]) -> dict[int, Path]:
    """SPSS waves with respondents 1 (a man) and 2 (a woman), coded by each wave's gender labels."""
    files = {}
    for wave, labels in labels_of_wave.items():
        code = {label: code for code, label in labels.items()}
        data = frame([1.0, 2.0], kjonn=[float(code["Mann"]), float(code["Kvinne"])])
        files[wave] = folder / f"w{wave}.sav"
        pyreadstat.write_sav(data, str(files[wave]), variable_value_labels={"kjonn": labels})
    return files


def test_label_changing_meaning_between_waves_stops_the_run(tmp_path):
    files = labelled_waves(tmp_path, {1: MEN_FIRST, 5: MEN_FIRST, 6: WOMEN_FIRST})
    message = (
        r"w6\.sav \(wave 6\), variable kjonn \(gender\): code 1 is labelled 'Kvinne', "
        r"but 'Mann' in wave 1 \(w1\.sav\)"
    )
    with pytest.raises(InputFileError, match=message):
        ingest_waves(files, codebook(tmp_path, gender=GENDER))


def test_reworded_label_declared_alike_is_accepted(tmp_path):
    """Wave 2 writes "Menn" and "kvinner" for the same codes: declared alike, the codes keep their meaning."""
    files = labelled_waves(tmp_path, {1: MEN_FIRST})
    files[2] = tmp_path / "w2.sav"
    pyreadstat.write_sav(
        frame([1.0, 2.0], kjonn=[1.0, 2.0]), str(files[2]), variable_value_labels={"kjonn": {1: "Menn", 2: "kvinner"}}
    )
    gender = {**GENDER, "same_labels": [["Mann", "Menn"], ["Kvinne", "Kvinner"]]}
    survey = ingest_waves(files, codebook(tmp_path, gender=gender)).data
    assert survey["gender"].tolist() == ["male", "female", "male", "female"]
    with pytest.raises(InputFileError, match=r"code 1 is labelled 'Menn', but 'Mann' in wave 1 .*same_labels"):
        ingest_waves(files, codebook(tmp_path, gender=GENDER))


def test_labels_declared_alike_do_not_hide_a_swap(tmp_path):
    files = labelled_waves(tmp_path, {1: MEN_FIRST, 6: WOMEN_FIRST})
    gender = {**GENDER, "same_labels": [["Mann", "Menn"], ["Kvinne", "Kvinner"]]}
    with pytest.raises(InputFileError, match=r"code 1 is labelled 'Kvinne', but 'Mann' in wave 1"):
        ingest_waves(files, codebook(tmp_path, gender=gender))


def test_recode_by_label_follows_the_label_in_every_wave(tmp_path):
    files = labelled_waves(tmp_path, {1: MEN_FIRST, 6: WOMEN_FIRST})
    survey = ingest_waves(files, codebook(tmp_path, gender=GENDER_BY_LABEL)).data
    assert survey["gender"].tolist() == ["male", "female", "male", "female"]  # respondent 1 is a man in both waves


def test_recode_by_label_with_an_unlisted_label_stops_the_run(tmp_path):
    files = labelled_waves(tmp_path, {1: {1: "Mann", 2: "Kvinne", 3: "Annet"}})
    with pytest.raises(
        InputFileError,
        match=r"w1\.sav, variable kjonn \(gender\): value label 'Annet' \(code 3\) "
        r"is not in recode_labels \(Kvinne, Mann\)",
    ):
        ingest_waves(files, codebook(tmp_path, gender=GENDER_BY_LABEL))


def test_recode_by_label_contradicting_the_code_recode_stops_the_run(tmp_path):
    files = labelled_waves(tmp_path, {6: WOMEN_FIRST})
    with pytest.raises(
        InputFileError,
        match=r"w6\.sav, variable kjonn \(gender\): code 1 is labelled 'Kvinne', which "
        r"recode_labels maps to 'female', but the code recode maps code 1 to 'male'",
    ):
        ingest_waves(files, codebook(tmp_path, gender={**GENDER_BY_LABEL, "recode": {1: "male", 2: "female"}}))


def test_recode_by_label_of_unlabelled_codes_stops_the_run(tmp_path):
    pyreadstat.write_sav(frame([1.0, 2.0], kjonn=[1.0, 2.0]), str(tmp_path / "w1.sav"))
    with pytest.raises(
        InputFileError,
        match=r"w1\.sav, variable kjonn \(gender\): the codebook recodes by label "
        r"\(recode_labels\) but the file has no value labels",
    ):
        ingest_waves({1: tmp_path / "w1.sav"}, codebook(tmp_path, gender=GENDER_BY_LABEL))


def test_recode_by_label_reads_text_labels_of_a_csv_wave(tmp_path):
    labelled_waves(tmp_path, {1: MEN_FIRST})
    frame(["1", "2", "3"], kjonn=[" mann", "KVINNE", "Annet"]).to_csv(tmp_path / "w2.csv", index=False)
    survey = ingest_waves(
        {1: tmp_path / "w1.sav", 2: tmp_path / "w2.csv"}, codebook(tmp_path, gender=GENDER_BY_LABEL)
    ).data
    assert survey["gender"].tolist() == ["male", "female", "male", "female", "unknown:Annet"]


# --------------------------------------------------------------------------- variable labels

TRUST = {
    "variable": {"1-5": "tillit_lokalpolitikere", "6-10": "k12a"},
    "type": "outcome",
    "expect_label": "tillit til lokalpolitiker",
}


def trust_wave(folder: Path, wave: int, variable: str, label: str) -> Path:
    path = folder / f"w{wave}.sav"
    pyreadstat.write_sav(frame([1.0, 2.0], **{variable: [3.0, 8.0]}), str(path), column_labels={variable: label})
    return path


def test_variable_label_contradicting_the_codebook_stops_ingest(tmp_path):
    files = {
        1: trust_wave(tmp_path, 1, "tillit_lokalpolitikere", "Tillit til lokalpolitikerne"),
        6: trust_wave(tmp_path, 6, "k12a", "Tillit til kommunestyret"),
    }  # the vendor swapped k12a and k12b
    with pytest.raises(
        InputFileError,
        match=r"w6\.sav, variable k12a \(trust_local_politicians\): the file labels "
        r"this variable 'Tillit til kommunestyret', but the codebook expects "
        r"the label to contain 'tillit til lokalpolitiker'",
    ):
        ingest_waves(files, codebook(tmp_path, trust_local_politicians=TRUST))


def test_variable_label_by_pattern(tmp_path):
    files = {6: trust_wave(tmp_path, 6, "k12a", "K12a. Hvor stor tillit har du til lokalpolitikerne?")}
    spec = {**TRUST, "expect_label": {"regex": r"tillit .*lokalpolitiker"}}
    survey = ingest_waves(files, codebook(tmp_path, trust_local_politicians=spec)).data
    assert survey["trust_local_politicians"].tolist() == [3.0, 8.0]


# --------------------------------------------------------------------------- user-missing codes


def test_spss_user_missing_on_an_integer_column_is_missing_not_a_value(tmp_path):
    data = frame([1.0, 2.0, 3.0], utd_aar=[12.0, 88.0, 16.0])
    pyreadstat.write_sav(
        data,
        str(tmp_path / "w1.sav"),
        missing_ranges={"utd_aar": [88]},
        variable_value_labels={"utd_aar": {88: "Vet ikke"}},
    )
    result = ingest_waves(
        {1: tmp_path / "w1.sav"}, codebook(tmp_path, years_schooling={"variable": "utd_aar", "type": "integer"})
    )
    assert result.data["years_schooling"].tolist() == [12, pd.NA, 16]
    assert result.nonresponse[["wave", "variable", "reason"]].values.tolist() == [
        [1, "years_schooling", "missing_code_88"]
    ]
    assert result.quarantine.empty


def test_spss_user_missing_range_on_a_number_column(tmp_path):
    data = frame([1.0, 2.0, 3.0], timer=[2.5, 97.0, 99.0])
    pyreadstat.write_sav(data, str(tmp_path / "w1.sav"), missing_ranges={"timer": [{"lo": 96, "hi": 99}]})
    result = ingest_waves({1: tmp_path / "w1.sav"}, codebook(tmp_path, hours={"variable": "timer", "type": "number"}))
    assert result.data["hours"].tolist()[0] == 2.5
    assert result.data["hours"].isna().tolist() == [False, True, True]
    assert sorted(result.nonresponse["reason"]) == ["missing_code_97", "missing_code_99"]


def test_stata_tagged_missing_on_an_integer_column_keeps_its_reason(tmp_path):
    pyreadstat.write_dta(
        frame([1, 2], antall=[3, "a"]), str(tmp_path / "w1.dta"), missing_user_values={"antall": ["a"]}
    )
    spec = {"variable": "antall", "type": "integer", "missing_codes": {".a": "not_asked"}}
    result = ingest_waves({1: tmp_path / "w1.dta"}, codebook(tmp_path, household_size=spec))
    assert result.data["household_size"].tolist() == [3, pd.NA]
    assert result.nonresponse["reason"].tolist() == ["not_asked"]


def test_column_missing_codes_on_a_number_column_of_a_csv(tmp_path):
    frame(["1", "2"], timer=["7,5", "-1"]).to_csv(tmp_path / "w1.csv", index=False, sep=";")
    book = codebook(tmp_path, hours={"variable": "timer", "type": "number", "missing_codes": {-1: "not_asked"}})
    doc = yaml.safe_load(book.read_text(encoding="utf-8"))
    doc["read"] = {"sep": ";", "decimal": ","}
    book.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = ingest_waves({1: tmp_path / "w1.csv"}, book)
    assert result.data["hours"].tolist()[0] == 7.5 and pd.isna(result.data["hours"].tolist()[1])
    assert result.quarantine.empty
    assert result.nonresponse["reason"].tolist() == ["not_asked"]


def test_column_missing_codes_on_a_text_column(tmp_path):
    frame(["1", "2"]).assign(kommune=["301", "9999"]).to_csv(tmp_path / "w1.csv", index=False)
    spec = {**BASE_COLUMNS["municipality_code"], "missing_codes": {9999: "unknown"}}
    result = ingest_waves({1: tmp_path / "w1.csv"}, codebook(tmp_path, municipality_code=spec))
    assert result.data["municipality_code"].tolist() == ["0301"]
    assert result.quarantine[["row_number", "column"]].values.tolist() == [[2, "kommune"]]
    assert (
        result.quarantine["reason"].str.startswith("missing or unreadable required value for municipality_code").all()
    )


def test_file_missing_code_inside_the_valid_range_stops_the_run(tmp_path):
    data = frame([1.0, 2.0], tillit=[5.0, 8.0])
    pyreadstat.write_sav(data, str(tmp_path / "w3.sav"), missing_ranges={"tillit": [5, 97]})
    book = codebook(tmp_path, trust_local_politicians={"variable": "tillit", "type": "outcome"})
    with pytest.raises(
        InputFileError,
        match=r"w3\.sav \(wave 3\), variable tillit \(trust_local_politicians\): the file "
        r"declares missing code\(s\) 5 inside the valid range 0-10",
    ):
        ingest_waves({3: tmp_path / "w3.sav"}, book, valid_ranges={"trust_local_politicians": (0, 10)})


def test_file_missing_range_overlapping_the_valid_range_stops_the_run(tmp_path):
    data = frame([1.0, 2.0], tillit=[5.0, 8.0])
    pyreadstat.write_sav(data, str(tmp_path / "w3.sav"), missing_ranges={"tillit": [{"lo": 9, "hi": 99}]})
    book = codebook(tmp_path, trust_local_politicians={"variable": "tillit", "type": "outcome"})
    with pytest.raises(
        InputFileError,
        match=r"w3\.sav \(wave 3\), variable tillit .*missing code\(s\) 9-99 inside the valid range 0-10",
    ):
        ingest_waves({3: tmp_path / "w3.sav"}, book, valid_ranges={"trust_local_politicians": (0, 10)})


def test_file_missing_code_inside_the_valid_range_accepted_by_the_codebook(tmp_path):
    data = frame([1.0, 2.0], tillit=[5.0, 8.0])
    pyreadstat.write_sav(data, str(tmp_path / "w3.sav"), missing_ranges={"tillit": [5, 97]})
    book = codebook(
        tmp_path, trust_local_politicians={"variable": "tillit", "type": "outcome", "accept_missing_in_range": [5]}
    )
    result = ingest_waves({3: tmp_path / "w3.sav"}, book, valid_ranges={"trust_local_politicians": (0, 10)})
    assert result.data["trust_local_politicians"].isna().tolist() == [True, False]
    assert result.nonresponse["reason"].tolist() == ["missing_code_5"]


# --------------------------------------------------------------------------- data dictionary


def test_data_dictionary_lists_labels_and_missing_codes(tmp_path):
    data = frame([1.0, 2.0], kjonn=[1.0, 2.0], tillit=[97.0, 8.0])
    pyreadstat.write_sav(
        data,
        str(tmp_path / "w2.sav"),
        column_labels={"kjonn": "Kjønn", "tillit": "Tillit"},
        variable_value_labels={"kjonn": MEN_FIRST, "tillit": {0: "Ingen tillit", 97: "Vet ikke"}},
        missing_ranges={"tillit": [97]},
    )
    book = codebook(tmp_path, gender=GENDER, trust_local_politicians={"variable": "tillit", "type": "outcome"})
    dictionary = ingest_waves({2: tmp_path / "w2.sav"}, book).dictionary
    rows = dictionary[dictionary["code"] != ""][
        ["wave", "variable", "canonical", "variable_label", "code", "value_label", "missing"]
    ]
    assert rows.values.tolist() == [
        [2, "kjonn", "gender", "Kjønn", "1", "Mann", False],
        [2, "kjonn", "gender", "Kjønn", "2", "Kvinne", False],
        [2, "tillit", "trust_local_politicians", "Tillit", "0", "Ingen tillit", False],
        [2, "tillit", "trust_local_politicians", "Tillit", "97", "Vet ikke", True],
    ]
    assert dictionary.loc[dictionary["code"] == "", "variable"].tolist() == ["Resp_ID", "kommune", "kjonn", "tillit"]


# --------------------------------------------------------------------------- the demo files, altered as vendors do


def rewrite_wave(raw: Path, wave: int, change) -> None:
    """Rewrite one demo wave file after ``change(data, metadata_kwargs)`` (labels and missing codes kept)."""
    path = raw / f"innbyggerpanel_bolge{wave:02d}.sav"
    data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    kwargs = {
        "column_labels": dict(zip(meta.column_names, meta.column_labels)),
        "variable_value_labels": meta.variable_value_labels,
        "missing_ranges": {name: [r["lo"] for r in ranges] for name, ranges in meta.missing_ranges.items()},
    }
    change(data, kwargs)
    pyreadstat.write_sav(data, str(path), **kwargs)


@pytest.fixture
def demo_copy(small_demo, tmp_path):
    import shutil

    shutil.copytree(small_demo, tmp_path / "raw")
    return tmp_path / "raw"


def test_demo_gender_codes_swapped_in_one_wave_stop_ingest(demo_copy, ingest_settings, tmp_path):
    from evaluation.stages.ingest import ingest

    def swap(data, kwargs):
        data["kjonn"] = 3 - data["kjonn"]
        kwargs["variable_value_labels"]["kjonn"] = WOMEN_FIRST

    rewrite_wave(demo_copy, 3, swap)
    with pytest.raises(
        InputFileError,
        match=r"innbyggerpanel_bolge03\.sav \(wave 3\), variable kjonn \(gender\): code 1 is "
        r"labelled 'Kvinne', but 'Mann' in wave 1 \(innbyggerpanel_bolge01\.sav\)",
    ):
        ingest(demo_copy, tmp_path / "ingested", ingest_settings)
    assert not (tmp_path / "ingested" / "survey.parquet").exists()


def test_demo_gender_swapped_and_recoded_by_label_gives_the_clean_result(
    demo_copy, small_demo, ingest_settings, tmp_path
):
    import copy

    from evaluation.stages.ingest import ingest

    def swap(data, kwargs):
        data["kjonn"] = 3 - data["kjonn"]
        kwargs["variable_value_labels"]["kjonn"] = WOMEN_FIRST

    rewrite_wave(demo_copy, 3, swap)
    doc = yaml.safe_load(Path(ingest_settings["sources"]["survey"]["codebook"]).read_text(encoding="utf-8"))
    doc["columns"]["gender"] = GENDER_BY_LABEL
    (tmp_path / "panel.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = copy.deepcopy(ingest_settings)
    settings["sources"]["survey"]["codebook"] = str(tmp_path / "panel.yaml")
    ingest(demo_copy, tmp_path / "altered", settings)
    ingest(small_demo, tmp_path / "clean", ingest_settings)
    altered, clean = (pd.read_parquet(tmp_path / name / "survey.parquet") for name in ("altered", "clean"))
    assert altered["gender"].tolist() == clean["gender"].tolist()


def test_demo_trust_items_swapped_in_one_wave_stop_ingest(demo_copy, ingest_settings, tmp_path):
    import copy

    from evaluation.stages.ingest import ingest

    def swap(data, kwargs):  # the vendor delivered council trust under the politicians' name, and the reverse
        names = ["tillit_lokalpolitikere", "tillit_kommunestyret"]
        data[names] = data[names[::-1]].to_numpy()
        labels = kwargs["column_labels"]
        labels["tillit_lokalpolitikere"], labels["tillit_kommunestyret"] = (
            labels["tillit_kommunestyret"],
            labels["tillit_lokalpolitikere"],
        )

    rewrite_wave(demo_copy, 2, swap)
    doc = yaml.safe_load(Path(ingest_settings["sources"]["survey"]["codebook"]).read_text(encoding="utf-8"))
    doc["columns"]["trust_local_politicians"]["expect_label"] = "Tillit til lokalpolitikerne"
    doc["columns"]["trust_council"]["expect_label"] = "Tillit til kommunestyret"
    (tmp_path / "panel.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = copy.deepcopy(ingest_settings)
    settings["sources"]["survey"]["codebook"] = str(tmp_path / "panel.yaml")
    with pytest.raises(
        InputFileError,
        match=r"innbyggerpanel_bolge02\.sav, variable tillit_lokalpolitikere "
        r"\(trust_local_politicians\): the file labels this variable "
        r"'Tillit til kommunestyret'",
    ):
        ingest(demo_copy, tmp_path / "ingested", settings)
    rewrite_wave(demo_copy, 2, swap)  # swapped back: the same codebook ingests the demo
    ingest(demo_copy, tmp_path / "ingested", settings)


def test_demo_user_missing_inside_the_trust_scale_stops_ingest(demo_copy, ingest_settings, tmp_path):
    from evaluation.stages.ingest import ingest

    def declare_zero_missing(data, kwargs):
        kwargs["missing_ranges"]["tillit_kommunestyret"] = [0, 97, 98]

    rewrite_wave(demo_copy, 4, declare_zero_missing)
    with pytest.raises(
        InputFileError,
        match=r"innbyggerpanel_bolge04\.sav \(wave 4\), variable tillit_kommunestyret "
        r"\(trust_council\): the file declares missing code\(s\) 0 inside the valid range 0-10",
    ):
        ingest(demo_copy, tmp_path / "ingested", ingest_settings)


def test_file_missing_code_that_the_recode_makes_a_valid_answer_stops_the_run(tmp_path):
    data = frame([1.0, 2.0], stemte=[1.0, 2.0])  # 1 Ja, 2 Nei; the vendor flagged 2 as missing by mistake
    pyreadstat.write_sav(data, str(tmp_path / "w1.sav"), missing_ranges={"stemte": [2, 9]})
    book = codebook(tmp_path, voted_local={"variable": "stemte", "type": "outcome", "recode": {1: 1, 2: 0}})
    with pytest.raises(
        InputFileError,
        match=r"w1\.sav \(wave 1\), variable stemte \(voted_local\): the file declares "
        r"missing code\(s\) 2 inside the valid range 0-1",
    ):
        ingest_waves({1: tmp_path / "w1.sav"}, book, valid_ranges={"voted_local": (0, 1)})


def test_file_missing_codes_outside_a_rescaled_range_are_missing(tmp_path):
    data = frame([1.0, 2.0, 3.0], tillit5=[1.0, 5.0, 97.0])
    pyreadstat.write_sav(data, str(tmp_path / "w1.sav"), missing_ranges={"tillit5": [{"lo": 96, "hi": 99}]})
    spec = {"variable": "tillit5", "type": "outcome", "transform": "rescale", "scale": [1, 5], "to": [0, 10]}
    result = ingest_waves(
        {1: tmp_path / "w1.sav"},
        codebook(tmp_path, trust_local_politicians=spec),
        valid_ranges={"trust_local_politicians": (0, 10)},
    )
    assert result.data["trust_local_politicians"].tolist()[:2] == [0.0, 10.0]
    assert pd.isna(result.data["trust_local_politicians"].tolist()[2])
    assert result.nonresponse["reason"].tolist() == ["dont_know"]  # the codebook names the file's missing code
