"""Citizen proposals and their fate in the demo: uptake that rises in pilots from their start year.

Each year from :data:`YEARS`, every municipality receives citizen proposals
(``innbyggerforslag``) and consultation inputs (``hoeringsinnspill``), a
Poisson number of each. A proposal is decided after an exponential time with
mean :data:`DAYS_TO_DECISION` days, unless an independent exponential time to
withdrawal (mean :data:`DAYS_TO_WITHDRAWAL`) comes first, and adopted (or
partly adopted, 40 % of those) with probability :data:`ADOPTED`. In a pilot municipality, from the
calendar year of its start, proposals are adopted with probability
``ADOPTED + PILOT_UPTAKE`` and decided faster (:data:`PILOT_DAYS`). A decision
after :data:`AS_OF` is not known yet: the proposal is pending (censored).
Decisions mention the citizens' input with probability :data:`MENTIONED`
(``PILOT_MENTIONED`` in pilots after their start).

The truths: the adoption share among decided proposals (decisions do not
depend on the outcome, so it estimates the adoption probability), the
difference in differences of that share (``PILOT_UPTAKE``), and the median
days to decision (``ceil(mean * ln 2)``; withdrawal is an independent
competing risk, so Kaplan-Meier with withdrawals censored estimates it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PROPOSALS_FILE = "innbyggerforslag_saker.csv"
YEARS = tuple(range(2016, 2024))
AS_OF = np.datetime64("2024-03-31")
ARENAS = {"innbyggerforslag": 12, "hoeringsinnspill": 20}  # arena -> expected proposals per municipality and year
TOPICS = ("skole", "samferdsel", "helse", "kultur", "miljo")
PROPOSERS = {"innbygger": 0.7, "lag og forening": 0.2, "ungdomsrad": 0.1}  # proposer group -> share
DAYS_TO_WITHDRAWAL = 2280.0  # mean of an independent time to withdrawal: about 5 % are withdrawn before a decision
ADOPTED = 0.30
PILOT_UPTAKE = 0.15
DAYS_TO_DECISION = 120.0
PILOT_DAYS = 80.0
MENTIONED = 0.35
PILOT_MENTIONED = 0.60
STREAM = 1718  # the proposals' own random stream: the other demo files do not change with them
TEXT_STREAM = 1719  # the texts' own stream: the other columns do not change with them
VOCABULARY = {
    "skole": "skolen elevene lærerne skolegården leksehjelp klasserommet skoleveien rektor undervisning friminutt",
    "samferdsel": "bussen busstilbudet veien fortau gangfelt trafikken parkering sykkelvei kollektivtilbudet fartsdumper",
    "helse": "legen helsestasjonen sykehjemmet eldreomsorgen hjemmetjenesten fastlegen psykisk helsetilbud omsorg pleie",
    "kultur": "biblioteket kulturhuset konserter idrettshallen fritidsklubben museet festival korps kino scenen",
    "miljo": "søppel gjenvinning turstien parken naturen forurensning trærne bekken grøntområdet strandrydding",
}
FILLER = "vi ønsker foreslår trenger bedre flere nye kommunen innbyggerne området viktig gjerne snart hele året".split()
PLANTED = {
    "names": ["Kari Nordmann", "Ola Hansen", "Ingrid Berg"],
    "phones": ["912 34 567", "+47 98765432"],
    "emails": ["kari.nordmann@example.no", "ola.hansen@example.no"],
    "streets": ["Storgata 12", "Fjordveien 3 B"],
}
"""Personal details planted in some texts: no report may show them."""


def simulate_proposals(seed: int, munis: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The proposals file (one row per proposal) and its truth.

    Columns: ``arena``, ``kommune``, ``innsendt`` (dd.mm.yyyy), ``tema``, ``forslagsstiller`` (proposer group),
    ``vedtaksorgan``, ``utfall`` (``vedtatt``, ``delvis vedtatt``, ``avslatt``,
    ``trukket``, ``under behandling``), ``vedtaksdato`` (empty while pending),
    ``nevnt_i_vedtak`` (1/0, empty unless decided).
    """
    rng = np.random.default_rng([seed, STREAM])
    frames = []
    for code, start in zip(munis["municipality_code"], munis["pilot_start"]):
        start_year = int(str(start)[:4]) if start else None
        for arena, per_year in ARENAS.items():
            for year in YEARS:
                n = int(rng.poisson(per_year))
                pilot = start_year is not None and year >= start_year
                submitted = np.datetime64(f"{year}-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")
                days = np.ceil(rng.exponential(PILOT_DAYS if pilot else DAYS_TO_DECISION, n)).astype(int)
                withdrawal = np.ceil(rng.exponential(DAYS_TO_WITHDRAWAL, n)).astype(int)
                withdrawn = withdrawal < days  # competing risks: the earlier of the two happens
                decided_on = submitted + np.minimum(days, withdrawal).astype("timedelta64[D]")
                adopted = rng.random(n) < ADOPTED + (PILOT_UPTAKE if pilot else 0.0)
                partly = rng.random(n) < 0.4
                mentioned = rng.random(n) < (PILOT_MENTIONED if pilot else MENTIONED)
                outcome = np.where(adopted, np.where(partly, "delvis vedtatt", "vedtatt"), "avslatt")
                outcome = np.where(withdrawn, "trukket", outcome)
                pending = decided_on > AS_OF
                outcome = np.where(pending, "under behandling", outcome)
                frames.append(
                    {
                        "arena": np.full(n, arena, dtype=object),
                        "kommune": np.full(n, code, dtype=object),
                        "innsendt": submitted,
                        "tema": rng.choice(TOPICS, n),
                        "forslagsstiller": rng.choice(list(PROPOSERS), n, p=list(PROPOSERS.values())),
                        "vedtaksorgan": np.where(rng.random(n) < 0.5, "kommunestyret", "formannskapet"),
                        "utfall": outcome,
                        "vedtaksdato": np.where(pending, np.datetime64("NaT"), decided_on),
                        "nevnt_i_vedtak": np.where(pending | withdrawn, "", mentioned.astype(int).astype(str)),
                    }
                )
    frame = pd.DataFrame({name: np.concatenate([f[name] for f in frames]) for name in frames[0]})
    for column in ("innsendt", "vedtaksdato"):  # written as dd.mm.yyyy, empty while pending
        frame[column] = pd.to_datetime(frame[column]).dt.strftime("%d.%m.%Y").fillna("")
    truth = {
        "file": PROPOSALS_FILE,
        "codebook": "config/codebooks/demo_proposals.yaml",
        "as_of": str(AS_OF),
        "adopted_share": ADOPTED,
        "pilot_uptake_pp": 100 * PILOT_UPTAKE,
        "median_days_to_decision": {
            "usual": float(np.ceil(DAYS_TO_DECISION * np.log(2))),
            "pilots_after_start": float(np.ceil(PILOT_DAYS * np.log(2))),
        },
        "mentioned_share": {"usual": MENTIONED, "pilots_after_start": PILOT_MENTIONED},
        "description": (
            "adoption (or partial adoption) probability among decided proposals is adopted_share, plus "
            "pilot_uptake_pp/100 in pilots from their start year; days to decision exponential (ceiled), median as "
            "given; decisions after as_of are pending; withdrawal an independent competing risk (about 5 %)"
        ),
    }
    frame["tekst"] = _texts(np.random.default_rng([seed, TEXT_STREAM]), frame["tema"])
    truth["texts"] = {
        "column": "tekst",
        "themes": "the known theme of each text is its tema (texts draw words from the theme's vocabulary)",
        "planted": PLANTED,
    }
    return frame, truth


def _texts(rng: np.random.Generator, topics: pd.Series) -> list[str]:
    """A short text per proposal: 4 words of its topic's vocabulary and 4 common words, shuffled; 8 % signed."""
    n = len(topics)
    words = np.empty((n, 8), dtype=object)
    for topic, vocabulary in VOCABULARY.items():
        rows = np.flatnonzero(topics.to_numpy() == topic)
        choice = np.argsort(rng.random((len(rows), len(vocabulary.split()))), axis=1)[:, :4]
        words[rows, :4] = np.array(vocabulary.split(), dtype=object)[choice]
    words[:, 4:] = np.array(FILLER, dtype=object)[rng.integers(0, len(FILLER), (n, 4))]
    words = np.take_along_axis(words, np.argsort(rng.random((n, 8)), axis=1), axis=1)
    signed = rng.random(n) < 0.08
    details = [rng.choice(PLANTED[kind], n) for kind in ("names", "streets", "phones", "emails")]
    texts = [" ".join(row).capitalize() + "." for row in words]
    return [
        f"{text} Hilsen {name}, {street}, tlf. {phone}, {email}" if sign else text
        for text, sign, name, street, phone, email in zip(texts, signed, *details)
    ]
