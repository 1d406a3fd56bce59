"""The first thing a report says: the design in one line, a headline table with verdicts, one sentence per outcome.

The headline outcomes are turnout and the configured survey outcomes
(``report.headline_outcomes``). Each row uses the same estimate and primary
inference as the summary sentences (:data:`evaluation.reporting.sections.PRIMARY_INFERENCE`)
and states the smallest effect the data could have detected: for turnout the
power analysis's minimum detectable effect for the number of treated
municipalities (``power.csv``), for survey outcomes 2.8 standard errors of the
estimate (1.96 + 0.84: a two-sided 5 % test with 80 % power).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.errors import RenderError
from evaluation.reporting.context import ReportContext
from evaluation.reporting.downloads import data_block
from evaluation.reporting.i18n import NO_BREAK_SPACE
from evaluation.reporting.sections import DISAGREE_MARK, _and, _disagrees, _effect_rows, _primary, _sentence, _what
from evaluation.reporting.tables import markdown_table
from evaluation.reporting.text import shown_decimals

SE_MULTIPLIER = 2.8
"""Standard errors in a minimum detectable effect: z(0.975) + z(0.80) = 1.96 + 0.84."""
MDE_ALPHA, MDE_POWER = 0.05, 0.8
"""The test level and power :data:`SE_MULTIPLIER` stands for; the turnout power table must use the same."""
EFFECT_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "p_value"]
WORD_JOINER = "\u2060"
"""Keeps an interval on one line in HTML: browsers break after a dash, even before a no-break space (the PDF
drops it, see ``quarto-conventions.lua``, so a narrow column may break the line)."""


def headline_outcomes(ctx: ReportContext) -> list[str]:
    """Turnout (when the run has it) and the configured survey outcomes (when it has the survey), in order."""
    return [*(["turnout"] if ctx.has("turnout") else []), *(ctx.headline_outcomes if ctx.has("survey") else ())]


def headline_rows(ctx: ReportContext, sample: str) -> pd.DataFrame:
    """One row per headline outcome with an effect: the primary estimate, its MDE and verdict.

    An outcome whose effect disclosure control withheld has ``suppressed`` set
    and no values; an outcome without any effect row is left out.
    """
    effects = _effect_rows(ctx, sample)
    hidden = set(_effect_rows(ctx, sample, suppressed=True)["outcome"])
    records = []
    for outcome in headline_outcomes(ctx):
        rows = effects[effects["estimand"] == f"att_{outcome}"]
        row = _primary(rows[rows["method"] == rows["method"].iloc[0]]) if len(rows) else None
        if row is None:
            if outcome in hidden:
                records.append({"outcome": outcome, "suppressed": True})
            continue
        mde, mde_source = _mde(ctx, row)
        excludes_zero = row["ci_low"] > 0 or row["ci_high"] < 0
        verdict = ("rose" if row["estimate"] > 0 else "fell") if excludes_zero else "no_detectable_change"
        records.append(
            {
                "outcome": outcome,
                "estimand": row["estimand"],
                "method": row["method"],
                "inference": row["inference"],
                **{c: row[c] for c in EFFECT_COLUMNS},
                "n_clusters": row["n_clusters"],
                "n_treated_clusters": row["n_treated_clusters"],
                "mde": mde,
                "mde_source": mde_source,
                "verdict": verdict,
                "disagrees": _disagrees(row, 1 - ctx.level),
                "suppressed": False,
            }
        )
    columns = ["outcome", "estimand", "method", "inference", *EFFECT_COLUMNS, "n_clusters", "n_treated_clusters"]
    return pd.DataFrame(records, columns=[*columns, "mde", "mde_source", "verdict", "disagrees", "suppressed"])


def _mde(ctx: ReportContext, row: pd.Series) -> tuple[float, str]:
    """The minimum detectable effect of a headline row, and where it comes from (``power`` or ``se``).

    Turnout uses the power table's row for the number of treated
    municipalities, or the nearest smaller size it has (fewer pilots: a larger,
    conservative MDE); without one the MDE is missing.
    """
    if row["outcome"] != "turnout":
        return SE_MULTIPLIER * float(row["se"]), "se"
    power = ctx.tables["power"]
    other = power[~(np.isclose(power["alpha"], MDE_ALPHA) & np.isclose(power["power"], MDE_POWER))]
    if len(other):
        raise RenderError(
            f"power.csv row {other.index[0] + 2}: alpha {other['alpha'].iloc[0]} and power {other['power'].iloc[0]}, "
            f"expected {MDE_ALPHA} and {MDE_POWER} (the headline table states one level and power for every outcome)"
        )
    power = power[(power["outcome"] == "turnout") & (power["n_pilots"] <= int(row["n_treated_clusters"]))]
    if power.empty:
        return float("nan"), "power"
    return float(power.sort_values("n_pilots")["mde"].iloc[-1]), f"power:{int(power['n_pilots'].max())}"


def design_line(ctx: ReportContext, sample: str, rows: pd.DataFrame) -> str:
    """What was compared with what, at which level, how many units, which years: one sentence."""
    t = ctx.t
    pilots = ctx.tables["pilots"]
    counted = rows[~rows["suppressed"].astype(bool)]
    level = _treated_unit(ctx)
    within = bool(len(counted)) and counted["method"].iloc[0] == "twfe_within"
    key = "design_line" if level == "municipality" else ("design_line_within" if within else "design_line_units")
    if sample == "programme":
        n = t.number(len(pilots), 0)
        m = t.number(pilots["municipality_code"].nunique(), 0)
        treated = t("design_treated_programme", n=n) if level == "municipality" else t("design_treated_units", n=n, m=m)
        starts = sorted({int(c) for c in pilots["cohort"]})
    else:
        treated = ctx.pilot_name(sample)
        starts = [int(ctx.pilot(sample)["cohort"])]
    data = []
    if ctx.has("turnout"):
        trends = ctx.tables["turnout_trends"]
        years = sorted(set(trends.loc[trends["sample"] == str(sample), "election_year"].astype(int)))
        if years:
            data.append(t("design_turnout", k=t.number(len(years), 0), first=years[0], last=years[-1]))
    if ctx.has("survey"):
        waves = sorted(set(ctx.tables["estimates"]["wave"].astype(int)))
        data.append(t("design_survey", first=waves[0], last=waves[-1]))
    controls = (
        t.number(int(counted["n_clusters"].iloc[0] - counted["n_treated_clusters"].iloc[0]), 0)
        if len(counted)
        else t("suppressed_mark")
    )
    return t(
        key,
        treated=treated,
        starts=_and(t, [str(y) for y in starts]),
        controls=controls,
        data=_and(t, data) if data else "–",
    )


def _treated_unit(ctx: ReportContext) -> str:
    """``design.treated_unit`` of the run, as ``pilots.csv`` records it."""
    pilots = ctx.tables["pilots"]
    return str(pilots["treated_unit"].iloc[0]) if "treated_unit" in pilots and len(pilots) else "municipality"


def within_line(ctx: ReportContext, rows: pd.DataFrame) -> str:
    """The within-municipality results of the headline outcomes, when the headline is the across comparison."""
    t = ctx.t
    if not len(rows) or rows["method"].iloc[0] == "twfe_within":
        return ""
    effects = _effect_rows(ctx, "programme")
    results, controls = [], None
    for outcome in rows["outcome"]:
        row = _primary(effects[(effects["estimand"] == f"att_{outcome}") & (effects["method"] == "twfe_within")])
        if row is None:
            continue
        scale = outcome != "turnout" and t.variables.outcomes[outcome].kind != "binary"
        digits = 2 if scale else 1
        label = t("turnout_what") if outcome == "turnout" else t.outcome(outcome)
        results.append(
            f"{label} {'+' if row['estimate'] > 0 else ''}{t.number(row['estimate'], digits)} "
            f"{t('unit_scale' if scale else 'unit_pp')} ({t.number(row['ci_low'], digits)} – {t.number(row['ci_high'], digits)})"
        )
        controls = int(row["n_clusters"] - row["n_treated_clusters"])
    if not results:
        return ""
    return t("design_also_within", controls=t.number(controls, 0), results="; ".join(results)) + "\n"


def headline_section(ctx: ReportContext, sample: str) -> str:
    """The summary's first part: design line, headline table with its data, notes, one sentence per outcome."""
    t = ctx.t
    where = t("where_programme") if sample == "programme" else ctx.pilot_name(sample)
    rows = headline_rows(ctx, sample)
    parts = [f"## {t('summary')}\n", design_line(ctx, sample, rows) + "\n"]
    if sample == "programme":
        parts.append(within_line(ctx, rows))
    if rows.empty:
        return "\n".join(parts)
    cells, sentences = [], []
    for _, row in rows.iterrows():
        cells.append(_table_row(ctx, row))
        if row["suppressed"]:
            sentences.append(f"- {t('effect_suppressed', what=_what(t, row['outcome']), min_n=ctx.min_n)}")
        else:
            mark = f" {DISAGREE_MARK}" if row["disagrees"] else ""
            sentences.append(f"- {_sentence(ctx, row, where)}{mark}")
    table = pd.DataFrame(cells)
    effects_file = "effects.csv" if sample == "programme" else "pilot_effects.csv"
    sources = {effects_file: ["estimate", "ci_low", "ci_high", "se"]}
    if "turnout" in set(rows["outcome"]) and ctx.has("turnout"):
        sources["power.csv"] = ["mde"]
    notes = [_mde_note(ctx, rows)]
    if rows["disagrees"].fillna(False).astype(bool).any():
        notes.append(f"{DISAGREE_MARK} {t('interval_p_disagree', alpha=t.number(1 - ctx.level, 2))}")
    notes.append(t("primary_inference_note"))
    parts += [
        markdown_table(table, "lrrrl"),
        f": {t('table_headline_cap', where=where)}\n",
        data_block(t, rows.drop(columns=["disagrees"]), f"headline_{sample}", sources),
        "\n".join(sentences) + "\n",
        "\n\n".join(notes) + "\n",
    ]
    return "\n".join(parts)


def _table_row(ctx: ReportContext, row: pd.Series) -> dict[str, str]:
    """The formatted cells of one headline row."""
    t = ctx.t
    outcome = row["outcome"]
    scale = outcome != "turnout" and t.variables.outcomes[outcome].kind != "binary"
    label = t("turnout_what") if outcome == "turnout" else t.outcome(outcome)
    cells = {t("outcome"): f"{label}, {t('unit_scale' if scale else 'unit_pp')}"}
    if row["suppressed"]:
        mark = t("suppressed_mark")
        return {
            **cells,
            t("headline_change"): mark,
            t("interval"): mark,
            t("headline_mde"): mark,
            t("headline_verdict"): t("verdict_suppressed"),
        }
    decimals = shown_decimals(row["estimate"], row["ci_low"], row["ci_high"], fewest=2 if scale else 1)
    verdict = t(f"verdict_{row['verdict']}") + (f" {DISAGREE_MARK}" if row["disagrees"] else "")
    return {
        **cells,
        t("headline_change"): t.number(row["estimate"], decimals, signed=True),
        t("interval"): f"{t.number(row['ci_low'], decimals)}{NO_BREAK_SPACE}–{WORD_JOINER}{NO_BREAK_SPACE}"
        f"{t.number(row['ci_high'], decimals)}",
        t("headline_mde"): t.number(row["mde"], decimals),
        t("headline_verdict"): verdict,
    }


def _mde_note(ctx: ReportContext, rows: pd.DataFrame) -> str:
    """How the smallest detectable changes were found (power analysis, 2.8 standard errors), for the rows shown."""
    t = ctx.t
    sources = set(rows.loc[~rows["suppressed"].astype(bool), "mde_source"])
    parts = [t("mde_note", power=t.number(100 * MDE_POWER, 0), alpha=t.number(100 * MDE_ALPHA, 0))]
    for source in sorted(s for s in sources if s.startswith("power:")):
        k = int(source.removeprefix("power:"))
        parts.append(t("mde_note_turnout_one") if k == 1 else t("mde_note_turnout", k=t.number(k, 0)))
    if "power" in sources:
        parts.append(t("mde_note_turnout_missing"))
    if "se" in sources:
        parts.append(t("mde_note_survey", m=t.number(SE_MULTIPLIER, 1)))
    return " ".join(parts)
