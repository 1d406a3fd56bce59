"""Write a synthetic demo scenario with known truths.

The scenario is a fictional country of ``n_municipalities`` municipalities
(codes 9101, 9102, ...; names built from invented syllables) split into 3-12
voting districts each.  ``n_pilots`` municipalities run a local-democracy pilot
in two cohorts (starting 2019-08-01 and 2021-08-01); the rest are controls.
Every person of a finite adult population (about 1.2 million at 60
municipalities) is generated, so that the citizen panel is a real sample from a
known population and the population values of the two headline items are
known exactly.

Files written (the contract is ``docs/data-contracts.md``, "Raw demo files"):

- ``area_register.csv``: one row per district with its socioeconomic profile;
- ``valgdeltakelse_stemmekretser.csv``: district turnout for seven elections;
- ``innbyggerpanel_bolgeNN.sav``: one SPSS file per citizen-panel wave;
- ``befolkning_marginer.csv``: population margins for weighting;
- ``deltakere_medvirkning.csv``: participants of participatory budgets and public meetings
  (:mod:`evaluation.demo.participants`: skewed toward the higher educated and
  the old, less so in pilots from their start; its own random stream);
- ``innbyggerforslag_saker.csv``: citizen proposals and consultation inputs with their
  fate (:mod:`evaluation.demo.proposals`: adopted more often and decided
  faster in pilots from their start; its own random stream);
- ``truth.json``: the effects put into the data and their realised values.

Truths
------
Turnout: a pilot adds 2.5 percentage points to the turnout probability of its
districts in every election held on or after ``pilot_start``, and 4.0 points in
districts in the lowest tercile of ``share_higher_education`` (over all
districts).  Votes are drawn with coupled potential outcomes, so the realised
eligible-weighted effect is known exactly besides the expected one.

Survey: respondents of pilot municipalities interviewed on or after
``pilot_start`` receive the pilot effects in ``ITEMS`` (probability points for
yes/no items, scale points for scales); ``signed_petition`` has no effect and is
the placebo outcome.  Each respondent-wave has both potential outcomes, so the
realised average effect among treated respondent-waves is recorded.  For
``voted_local`` and ``trust_local_politicians`` the outcomes of every member of
the population are generated in every wave (respondents' answers are taken
from them), which gives exact finite-population means by role and education.

Selection: pilots are mildly more likely in municipalities with low trust in
local politicians (a level difference); turnout trends are the same for pilots
and controls, so difference-in-differences is unbiased.  Panel members respond
with a probability that rises with education and leave the panel more often
when young or with little education, so unweighted survey means are biased
towards the higher educated.

All randomness comes from one ``numpy.random.Generator`` seeded with
``DemoConfig.seed``; the same seed gives byte-identical CSV and JSON files and
SPSS files with identical data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from evaluation.demo.geography import build_districts, build_municipalities
from evaluation.demo.manifest import check_output_folder, write_manifest
from evaluation.demo.outcomes import add_item_nonresponse, simulate_answers
from evaluation.demo.panel import draw_panel, respondents_per_pilot
from evaluation.demo.participants import PARTICIPANTS_FILE, simulate_participants
from evaluation.demo.population import add_register_shares, build_population, low_education_cutoff
from evaluation.demo.proposals import PROPOSALS_FILE, simulate_proposals
from evaluation.demo.scales import REGISTER_FILE, SCALES
from evaluation.demo.scenario import MAX_MUNICIPALITIES, MIN_CONTROL_RESPONDENTS, REFERENCE_YEAR, DemoConfig
from evaluation.demo.truth import pilot_list, population_truth, survey_truth, turnout_truth
from evaluation.demo.turnout import simulate_turnout
from evaluation.demo.writers import write_area_register, write_margins, write_panel, write_register, write_turnout
from evaluation.errors import ConfigError

AREAS_FILE = "area_register.csv"
TURNOUT_FILE = "valgdeltakelse_stemmekretser.csv"
MARGINS_FILE = "befolkning_marginer.csv"
TRUTH_FILE = "truth.json"


def check_config(config: DemoConfig) -> None:
    """Raise ConfigError when the scenario cannot be generated as configured."""
    problems = []
    if config.scale not in SCALES:
        raise ConfigError(f"demo configuration: scale={config.scale!r} must be one of {', '.join(SCALES)}")
    if not 10 <= config.n_municipalities <= MAX_MUNICIPALITIES:
        problems.append(f"n_municipalities={config.n_municipalities} must be within 10-{MAX_MUNICIPALITIES}")
    if not 2 <= config.n_pilots <= config.n_municipalities // 2:
        problems.append(f"n_pilots={config.n_pilots} must be within 2 and half the municipalities")
    if config.respondents_per_wave < 100:
        problems.append(f"respondents_per_wave={config.respondents_per_wave} must be at least 100")
    if not 2 <= config.n_waves <= config.structure.max_waves:
        problems.append(f"n_waves={config.n_waves} must be within 2-{config.structure.max_waves}")
    if not problems:
        n_controls = config.n_municipalities - config.n_pilots
        rest = config.respondents_per_wave - config.n_pilots * respondents_per_pilot(config)
        if MIN_CONTROL_RESPONDENTS * n_controls > rest:
            problems.append(
                f"respondents_per_wave={config.respondents_per_wave} leaves {rest} interviews for "
                f"{n_controls} control municipalities; at least {MIN_CONTROL_RESPONDENTS} each needed"
            )
    if problems:
        raise ConfigError("demo configuration: " + "; ".join(problems))


def generate_demo(out_dir: Path, config: DemoConfig | None = None) -> dict:
    """Write every raw demo file to ``out_dir`` and return the truths (also written as truth.json).

    Parameters
    ----------
    out_dir
        Directory for the files (created if missing). Files already there are overwritten
        only when the generator wrote them (listed unchanged in ``demo_manifest.json``,
        :mod:`evaluation.demo.manifest`); the manifest of the files written is written last.
    config
        Seed and size of the scenario (default: ``DemoConfig()``, the built-in demo).

    Returns
    -------
    dict
        The content of ``truth.json``: config, pilots, turnout effects (pp), survey
        effects (pp or scale points) and finite-population values per wave.

    Raises
    ------
    ConfigError
        When the config cannot be generated, or ``out_dir`` holds a file the
        generator did not write (nothing is written then).
    """
    config = DemoConfig() if config is None else config
    check_config(config)
    out_dir = Path(out_dir)
    check_output_folder(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)

    munis = build_municipalities(rng, config)
    districts = build_districts(rng, munis, config.structure)
    pop = build_population(rng, districts)
    districts = add_register_shares(districts, pop)
    cutoff = low_education_cutoff(districts)
    turnout = simulate_turnout(rng, munis, districts, cutoff, config.structure.elections)
    panel = draw_panel(rng, pop, munis, config)
    answers, effects, values = simulate_answers(rng, pop, munis, panel, config)
    observed = add_item_nonresponse(rng, answers)
    ids = rng.permutation(len(pop.district))  # stable respondent numbers unrelated to population order

    written = [AREAS_FILE, TURNOUT_FILE, MARGINS_FILE, TRUTH_FILE]
    write_area_register(out_dir / AREAS_FILE, munis, districts)
    write_turnout(out_dir / TURNOUT_FILE, turnout, munis, districts)
    written += write_panel(out_dir, observed, pop, munis, ids, config.n_waves, config.structure.waves_per_year)
    write_margins(out_dir / MARGINS_FILE, pop, munis)
    participants, participants_truth = simulate_participants(config.seed, pop, munis)
    participants.to_csv(out_dir / PARTICIPANTS_FILE, index=False, encoding="utf-8", lineterminator="\n")
    written.append(PARTICIPANTS_FILE)
    proposals, proposals_truth = simulate_proposals(config.seed, munis)
    proposals.to_csv(out_dir / PROPOSALS_FILE, index=False, encoding="utf-8", lineterminator="\n")
    written.append(PROPOSALS_FILE)
    register = None
    if config.structure.register_election:
        register = write_register(
            out_dir / REGISTER_FILE, rng, pop, districts, turnout, config.structure.register_election
        )
        written.append(REGISTER_FILE)
    truth = {
        "description": (
            "Known truths of the synthetic demo scenario written by evaluation.demo.generate (all data invented)."
        ),
        "seed": config.seed,
        "config": config.summary(),
        "pilots": pilot_list(munis, districts),
        "turnout": turnout_truth(turnout, munis, districts, cutoff),
        "survey": survey_truth(answers, effects, munis, config),
        "population_values": population_truth(values, pop),
        "margins": {
            "file": MARGINS_FILE,
            "age_group_from": f"age = {REFERENCE_YEAR} - birth year",
            "n_adults": int(len(pop.district)),
        },
        "participants": participants_truth,
        "proposals": proposals_truth,
        **({"register": register} if register else {}),
    }
    (out_dir / TRUTH_FILE).write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_manifest(out_dir, written)
    return truth
