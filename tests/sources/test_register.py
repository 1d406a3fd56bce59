"""Electoral-roll register: one row per voter aggregated to area x group cells, read in chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from shared import REPO

from evaluation.errors import ConfigError
from evaluation.sources.codebook import load_codebook
from evaluation.sources.register import aggregate_register, group_turnout

CODEBOOK = REPO / "config" / "codebooks" / "register_valgmanntall.yaml"


@pytest.fixture
def register_file(tmp_path):
    rng = np.random.default_rng(11)
    n = 2_000
    frame = pd.DataFrame(
        {
            "lopenr": [f"P{i:06d}" for i in range(n)],
            "stemmekrets": rng.choice(["03010001", "03010002", "11030001"], n),
            "stemt": rng.integers(0, 2, n).astype(float),
            "fodselsar": rng.integers(1930, 2005, n).astype(float),
            "kjonn": rng.integers(1, 3, n).astype(float),
            "utdanning": rng.choice([1.0, 2.0, 3.0, 9.0], n),
            "innvandrer": rng.integers(0, 2, n).astype(float),
        }
    )
    frame.loc[[5, 17], "stemt"] = np.nan  # vote not recorded: quarantined
    path = tmp_path / "valgmanntall.sav"
    pyreadstat.write_sav(frame, str(path), missing_ranges={"utdanning": [9]})
    return frame, path


def test_cells_sum_to_persons_and_votes(register_file):
    frame, path = register_file
    result = aggregate_register(path, load_codebook(CODEBOOK), chunksize=300)
    cells = result.cells
    usable = frame.drop(index=[5, 17])
    assert cells["eligible_voters"].sum() == len(usable)
    assert cells["votes_cast"].sum() == usable["stemt"].sum()
    assert result.accounting.iloc[0][["rows_read", "rows_kept", "rows_quarantined"]].tolist() == [2000, 1998, 2]
    assert result.quarantine["row_number"].tolist() == [6, 18]
    by_area = group_turnout(cells, ["area_code"]).set_index("area_code")
    expected = usable.groupby("stemmekrets")["stemt"].mean()
    assert by_area["turnout"].to_dict() == pytest.approx(expected.to_dict())
    assert set(cells["education"].dropna()) == {"compulsory", "upper_secondary", "higher"}
    assert cells["education"].isna().any()  # code 9 (user-missing) is its own, missing, group
    assert set(cells["age_group"].dropna()) <= {"18-29", "30-44", "45-59", "60+"}
    assert (cells["election_year"] == 2023).all()


def test_register_codebook_needs_area_and_vote(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text(
        "source: x\nkind: register\nconstants: {election_type: local, election_year: 2023}\n"
        "columns:\n  area_code: {variable: a, type: text}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="columns/voted is required for a codebook of kind register"):
        aggregate_register(tmp_path / "unused.sav", load_codebook(path))


def test_register_columns_are_in_the_data_dictionary(register_file):
    """Each register column read gets a dictionary row naming its canonical column."""
    _, path = register_file
    dictionary = aggregate_register(path, load_codebook(CODEBOOK), chunksize=300).dictionary
    variables = dictionary[dictionary["code"] == ""].set_index("variable")["canonical"]
    assert variables.to_dict() == {
        "fodselsar": "age",  # the codebook derives age from the birth year
        "innvandrer": "immigrant_background",
        "kjonn": "gender",
        "stemmekrets": "area_code",
        "stemt": "voted",
        "utdanning": "education",
    }
    assert (dictionary["source_file"] == "valgmanntall.sav").all()
