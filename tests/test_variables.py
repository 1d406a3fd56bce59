"""The canonical-variables contract: config/variables.yaml loads; a wrong file stops naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from shared import REPO

from evaluation.errors import ConfigError
from evaluation.variables import Outcome, load_variables

VARIABLES = REPO / "config" / "variables.yaml"


def test_loads_the_canonical_file():
    variables = load_variables(VARIABLES)
    raw = yaml.safe_load(VARIABLES.read_text(encoding="utf-8"))
    assert list(variables.outcomes) == list(raw["outcomes"])
    assert variables.outcomes["trust_local_politicians"] == Outcome(
        "trust_local_politicians",
        "trust",
        "scale",
        (0, 10),
        raw["outcomes"]["trust_local_politicians"]["labels"],
        "interview",  # the schema's default: what the item asks about is the respondent's situation now
    )
    assert variables.outcomes["satisfaction_democracy"].range == (1, 4)
    assert list(variables.group_variables["income_quintile"].categories) == ["1", "2", "3", "4", "5"]
    assert variables.group_variables["gender"].labels["sv"] == "Kön"
    assert variables.gaps == {
        "education": ("higher", "compulsory"),
        "income_quintile": ("5", "1"),
        "immigrant_background": ("no", "yes"),
    }


def test_records_are_frozen():
    outcome = load_variables(VARIABLES).outcomes["voted_local"]
    with pytest.raises(AttributeError):
        outcome.kind = "scale"


def test_gaps_default_to_empty(tmp_path):
    path = _write(_broken(lambda d: d.pop("gaps")), tmp_path / "variables.yaml")
    assert load_variables(path).gaps == {}


def _write(document: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _broken(edit):
    document = yaml.safe_load(VARIABLES.read_text(encoding="utf-8"))
    edit(document)
    return document


BAD_FILES = {
    "reversed range": (
        lambda d: d["outcomes"]["trust_council"].update(range=[10, 0]),
        r"at outcomes/trust_council/range: \[10, 0\] must be \[low, high\] with low below high",
    ),
    "equal range": (lambda d: d["outcomes"]["voted_local"].update(range=[1, 1]), r"at outcomes/voted_local/range"),
    "unknown kind": (
        lambda d: d["outcomes"]["voted_local"].update(kind="ordinal"),
        r"at outcomes/voted_local/kind: 'ordinal' is not one of \['binary', 'scale'\]",
    ),
    "unknown family": (
        lambda d: d["outcomes"]["voted_local"].update(family="voice"),
        r"at outcomes/voted_local/family",
    ),
    "missing label language": (
        lambda d: d["outcomes"]["signed_petition"]["labels"].pop("nn"),
        r"at outcomes/signed_petition/labels: 'nn' is a required property",
    ),
    "missing category language": (
        lambda d: d["group_variables"]["gender"]["categories"]["male"].pop("sv"),
        r"at group_variables/gender/categories/male: 'sv' is a required property",
    ),
    "range of one value": (
        lambda d: d["outcomes"]["trust_council"].update(range=[0]),
        r"at outcomes/trust_council/range: \[0\] is too short",
    ),
    "misspelt key": (
        lambda d: d["outcomes"]["trust_council"].update(lables={}),
        r"at outcomes/trust_council: Additional properties are not allowed \('lables' was unexpected\)",
    ),
    "unquoted numeric category": (
        lambda d: d["group_variables"]["income_quintile"]["categories"].update({6: {}}),
        r"at group_variables/income_quintile/categories: 6 is not of type 'string'",
    ),
    "gap of an unknown variable": (
        lambda d: d["gaps"].update(region=["north", "south"]),
        r"at gaps/region: 'region' is not one of the group_variables",
    ),
    "gap of an unknown category": (
        lambda d: d["gaps"].update(education=["higher", "none"]),
        r"at gaps/education: 'none' not a category of education",
    ),
    "no outcomes": (lambda d: d.pop("outcomes"), r"at \(top level\): 'outcomes' is a required property"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_wrong_file_names_file_and_key(tmp_path, case):
    edit, message = BAD_FILES[case]
    path = _write(_broken(edit), tmp_path / "variables.yaml")
    with pytest.raises(ConfigError, match=message) as error:
        load_variables(path)
    assert str(error.value).startswith(str(path))


def test_every_reader_gets_the_check(tmp_path):
    """The stages and the report translator read variables.yaml through the loader, so a bad file stops them."""
    from evaluation.reporting.i18n import Translator

    path = _write(_broken(lambda d: d["outcomes"]["trust_council"].update(range=[10, 0])), tmp_path / "variables.yaml")
    with pytest.raises(ConfigError, match="outcomes/trust_council/range"):
        Translator.load("nb", REPO / "reports" / "translations.yaml", path)
