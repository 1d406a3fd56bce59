"""JSON-stat 2 (PxWeb) files: read as one row per cell, masked cells with their reason, bad files named."""

import json

import pandas as pd
import pytest
import yaml
from shared import TESTS

from evaluation.errors import InputFileError
from evaluation.sources.codebook import apply_codebook, load_codebook
from evaluation.sources.readers import read_file

FIXTURE = TESTS / "fixtures" / "pxweb" / "ME0104T4.json"


def test_cells_come_out_one_row_each_in_cube_order():
    data, _ = read_file(FIXTURE)
    doc = json.loads(FIXTURE.read_text(encoding="utf-8-sig"))
    assert list(data.columns) == [
        "Region", "Region_label", "ContentsCode", "ContentsCode_label", "Tid", "Tid_label", "value",
    ]  # fmt: skip
    assert len(data) == 3 * 1 * 2
    # row-major order: Tid (the last dimension) varies fastest
    assert list(zip(data["Region"], data["Tid"]))[:3] == [("0114", "2018"), ("0114", "2022"), ("0180", "2018")]
    assert [float(v) for v in data["value"][:5]] == doc["value"][:5]
    assert data.loc[5, "value"] == ".."  # the masked cell holds its status symbol
    assert data.loc[0, "Region_label"] == "Upplands Väsby"


def test_a_codebook_reads_the_table_and_records_the_masked_cell(tmp_path):
    codebook = tmp_path / "scb.yaml"
    codebook.write_text(
        yaml.safe_dump(
            {
                "source": "SCB ME0104T4",
                "kind": "areas",
                "columns": {
                    "municipality_code": {"variable": "Region", "type": "text", "required": True},
                    "area_name": {"variable": "Region_label", "type": "text"},
                    "population": {"variable": "value", "type": "number"},  # any numeric column shows the parse
                },
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    book = load_codebook(codebook)
    raw, metadata = read_file(FIXTURE, book.read)
    result = apply_codebook(raw, metadata, book, FIXTURE.name)
    assert result.data["population"].tolist()[:5] == pytest.approx([84.7, 82.9, 86.0, 84.2, 82.5])
    assert pd.isna(result.data["population"].iloc[5])
    assert result.nonresponse[["row", "variable", "reason"]].values.tolist() == [
        [5, "population", "suppressed_not_available"]
    ]


def test_a_sparse_cube_with_list_index_reads_the_same(tmp_path):
    doc = json.loads(FIXTURE.read_text(encoding="utf-8-sig"))
    doc["value"] = {str(i): v for i, v in enumerate(doc["value"]) if v is not None}
    doc["dimension"]["Tid"]["category"]["index"] = ["2018", "2022"]
    path = tmp_path / "sparse.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert read_file(path)[0].equals(read_file(FIXTURE)[0])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d.update(value=d["value"][:-1]),
            r"value has 5 cells but the dimensions' sizes make 6; the file is cut",
        ),
        (lambda d: d.update(size=[3, 1, 3]), r"dimension 'Tid' has 2 categories but size says 3"),
        (lambda d: d["dimension"].pop("Tid"), r"dimension 'Tid' \(listed in id\) has no dimension/Tid/category"),
        (
            lambda d: d.update({"class": "collection"}),
            r"is not a JSON-stat 2 dataset .*found class 'collection'.*json-stat2",
        ),
        (lambda d: d.update(size=[3, 1]), r"id lists 3 dimensions but size has 2 lengths"),
    ],
)
def test_a_bad_dataset_names_the_file_and_key(tmp_path, edit, message):
    doc = json.loads(FIXTURE.read_text(encoding="utf-8-sig"))
    edit(doc)
    path = tmp_path / "ME0104T4.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputFileError, match=rf"ME0104T4.json: {message}"):
        read_file(path)


def test_pxweb_plain_json_is_refused_with_the_format_to_ask_for(tmp_path):
    path = tmp_path / "ME0104T4.json"
    path.write_text(
        json.dumps({"columns": [], "data": [{"key": ["0114", "2018"], "values": ["84.7"]}]}), encoding="utf-8"
    )
    with pytest.raises(InputFileError, match=r"is not a JSON-stat 2 dataset .*found class None.*json-stat2"):
        read_file(path)


def test_not_json_at_all_is_named(tmp_path):
    path = tmp_path / "table.json"
    path.write_text("Region;Tid;value\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"table.json: is not a JSON file"):
        read_file(path)
