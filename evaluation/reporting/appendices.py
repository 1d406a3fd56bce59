"""Sections of the data-quality report and the methods appendix, as pandoc Markdown.

Like :mod:`evaluation.reporting.sections`, they read result tables only
(``data_quality.csv``, ``weighting_summary.csv``, ``placebo_size.csv``,
``power.csv``, ``sensitivity.csv``) and word them in the report language.
"""

from __future__ import annotations

import pandas as pd

from evaluation.estimation.threshold import MIN_N_FLOOR
from evaluation.reporting.context import ReportContext
from evaluation.reporting.downloads import data_block
from evaluation.reporting.figures import figure_markdown, stacked_bars
from evaluation.reporting.tables import markdown_table

CHECK_COLUMNS = ("checks_run", "checks_passed", "checks_failed", "checks_warned", "checks_quarantined")


def _word(t, key: str, fallback: str) -> str:
    """The translation of ``key`` if there is one, else ``fallback`` (e.g. a check id)."""
    return t(key) if key in t.words else fallback


def quality_summary(ctx: ReportContext) -> str:
    """One paragraph: rows used and set aside, checks that stopped or warned."""
    t = ctx.t
    acc = ctx.accounting()
    checks = ctx.quality("checks").groupby("item")["count"].sum()
    text = t(
        "quality_summary",
        kept=t.number(acc["rows_kept"].sum(), 0),
        read=t.number(acc["rows_read"].sum(), 0),
        quarantined=t.number(acc["rows_quarantined"].sum(), 0),
        failed=t.number(checks.get("checks_failed", 0), 0),
        warned=t.number(checks.get("checks_warned", 0), 0),
    )
    return f"## {t('summary')}\n\n{text}\n"


def rows_section(ctx: ReportContext) -> str:
    """Rows read, kept and set aside (at ingest, at validation) per input file."""
    t = ctx.t
    acc = ctx.accounting()
    columns = {
        "rows_read": t("rows_read"),
        "rows_kept": t("rows_kept"),
        "quarantined_ingest": t("quarantined_ingest"),
        "quarantined_validate": t("quarantined_validate"),
    }
    table = pd.DataFrame(
        {
            t("source_file"): acc.index,
            **{label: [t.number(v, 0) for v in acc[c]] for c, label in columns.items() if c in acc},
        }
    )
    data = _quality_data(ctx, "rows", "rows")
    return f"## {t('rows_heading')}\n\n{markdown_table(table)}\n: {t('table_rows_cap')}\n\n{data}"


def _quality_data(ctx: ReportContext, section: str, name: str) -> str:
    """The download and source line of a table built from one section of ``data_quality.csv``."""
    return data_block(ctx.t, ctx.quality(section), name, {"data_quality.csv": ["source", "item", "count"]})


def quarantine_section(ctx: ReportContext) -> str:
    """Counts of rows set aside, by stage and reason (never the rows themselves)."""
    t = ctx.t
    counts = ctx.quality("quarantine")
    if counts.empty:
        return f"## {t('quarantine_heading')}\n\n{t('no_quarantine')}\n"
    table = pd.DataFrame(
        {
            t("stage"): [_word(t, f"stage_{s}", s) for s in counts["source"]],
            t("reason"): [f"`{r}`" for r in counts["item"]],
            t("rows"): [t.number(c, 0) for c in counts["count"]],
        }
    )
    return f"## {t('quarantine_heading')}\n\n{markdown_table(table, 'llr')}\n\n{_quality_data(ctx, 'quarantine', 'quarantine')}"


def checks_section(ctx: ReportContext) -> str:
    """Validation checks per table: run, passed, stopped, warned, set rows aside."""
    t = ctx.t
    wide = ctx.quality("checks").pivot(index="source", columns="item", values="count")
    table = pd.DataFrame(
        {
            t("table_name"): [_word(t, f"table_{name}", name) for name in wide.index],
            **{t(c): [t.number(v, 0) for v in wide[c]] for c in CHECK_COLUMNS if c in wide},
        }
    )
    data = _quality_data(ctx, "checks", "checks")
    return f"## {t('checks_heading')}\n\n{t('checks_note')}\n\n{markdown_table(table)}\n\n{data}"


def nonresponse_section(ctx: ReportContext) -> str:
    """Item non-response by outcome and reason, in per cent of survey answers: a figure and a table."""
    t = ctx.t
    counts = ctx.quality("nonresponse")
    if counts.empty:
        return ""
    answers = int(counts["total"].iloc[0])
    shares = (
        counts.assign(share=100 * counts["count"] / counts["total"])
        .pivot(index="source", columns="item", values="share")
        .fillna(0.0)
    )
    shares = shares.loc[shares.sum(axis=1).sort_values(ascending=False).index]
    shares.index = [t.outcome(o) if o in t.variables.outcomes else o for o in shares.index]
    shares.columns = [_word(t, f"reason_{r}", r) for r in shares.columns]
    n = t.number(answers, 0)
    figure = figure_markdown(
        stacked_bars(shares, t("nonresponse_axis")),
        t("fig_nonresponse_cap", n=n),
        t("alt_bars", what=t("nonresponse_what")),
        t.number,
    )
    table = pd.DataFrame({t("outcome"): shares.index, **{c: [t.number(v) for v in shares[c]] for c in shares.columns}})
    data = data_block(
        t,
        counts.assign(share=100 * counts["count"] / counts["total"]),
        "nonresponse",
        {"data_quality.csv": ["source", "item", "count", "total"]},
    )
    return (
        f"## {t('nonresponse_heading')}\n\n{figure}\n{data}\n{markdown_table(table)}\n"
        f": {t('table_nonresponse_cap', n=n)}\n\n{data}"
    )


def masked_section(ctx: ReportContext) -> str:
    """Counts of values masked by the supplier in area and turnout tables, by table, variable and reason."""
    t = ctx.t
    counts = ctx.quality("masked")
    if counts.empty:
        return ""
    tables = counts["source"].str.split(".", n=1)
    table = pd.DataFrame(
        {
            t("masked_variable"): [f"{_word(t, f'table_{name}', name)}: `{variable}`" for name, variable in tables],
            t("reason"): [_word(t, f"reason_{r}", r) for r in counts["item"]],
            t("values"): [t.number(c, 0) for c in counts["count"]],
        }
    )
    data = _quality_data(ctx, "masked", "masked")
    return f"## {t('masked_heading')}\n\n{t('masked_note')}\n\n{markdown_table(table, 'llr')}\n\n{data}"


def weighting_section(ctx: ReportContext) -> str:
    """Respondents, effective n and Kish's design effect per wave."""
    t = ctx.t
    if not ctx.has("survey"):
        return ""
    summary = ctx.tables["weighting_summary"].sort_values("wave")
    table = pd.DataFrame(
        {
            t("wave"): summary["wave"].astype(int).astype(str),
            t("n_respondents"): [t.number(v, 0) for v in summary["n"]],
            t("effective_n"): [t.number(v, 0) for v in summary["effective_n"]],
            t("kish_deff"): [t.number(v, 2) for v in summary["kish_deff"]],
        }
    )
    columns = ["wave", "n", "effective_n", "kish_deff"]
    data = data_block(t, summary, "weighting", {"weighting_summary.csv": columns})
    return (
        f"## {t('weighting_heading')}\n\n{t('weighting_note')}\n\n{markdown_table(table)}\n"
        f": {t('table_weighting_cap')}\n\n{data}"
    )


def methods_text(ctx: ReportContext) -> str:
    """Design, weighting, estimators and difference-in-differences, in words.

    A survey that shipped replicate weights (``replicate_weights`` in ``provenance.json``) is described
    as such: its standard errors came from them, not from the linearised, raked design.
    """
    t = ctx.t
    replicates = ctx.provenance["settings"]["replicate_weights"]
    if replicates is None:
        design, estimators = t("design_text"), t("estimators_text")
    else:
        design = t("design_replicates_text", method=replicates["method"], scale=t.number(replicates["scale"], 4))
        estimators = t("estimators_replicates_text")
    return (
        f"## {t('design_heading')}\n\n{design}\n\n"
        f"## {t('estimators_heading')}\n\n{estimators}\n\n"
        f"## {t('did_heading')}\n\n{t('did_text')}\n\n{t('turnout_definition_text')}\n\n{t('inference_text')}\n"
    )


def participation_methods(ctx: ReportContext) -> str:
    """How who takes part and the uptake of proposals are measured, for the sources the run had."""
    t = ctx.t
    parts = [
        f"## {t(f'{source}_methods_heading')}\n\n{t(f'{source}_methods_text')}\n"
        for source in ("participants", "proposals")
        if ctx.has(source)
    ]
    return "\n".join(parts)


def placebo_section(ctx: ReportContext) -> str:
    """Rejection rates at 5 % under no effect (placebo pilots), per inference method."""
    t = ctx.t
    if not ctx.has("turnout") or ctx.tables["placebo_size"].empty:  # only the within comparison was made
        return ""
    placebo = ctx.tables["placebo_size"]
    table = pd.DataFrame(
        {
            t("inference"): [_word(t, f"inference_{i}", i) for i in placebo["inference"]],
            t("rejection_rate"): [t.number(100 * r) for r in placebo["rejection_rate"]],
            t("mc_se"): [t.number(100 * s) for s in placebo["mc_se"]],
        }
    )
    caption = t("table_placebo_cap", k=int(placebo["n_fake_pilots"].iloc[0]), r=int(placebo["n_replications"].iloc[0]))
    data = data_block(t, placebo, "placebo_size", {"placebo_size.csv": ["inference", "rejection_rate", "mc_se"]})
    return f"## {t('placebo_heading')}\n\n{t('placebo_text')}\n\n{markdown_table(table, 'lrr')}\n: {caption}\n\n{data}"


def power_section(ctx: ReportContext) -> str:
    """Minimum detectable turnout effect by number of pilots."""
    t = ctx.t
    if not ctx.has("turnout") or ctx.tables["power"].empty:  # only the within comparison was made
        return ""
    power = ctx.tables["power"].sort_values("n_pilots")
    table = pd.DataFrame(
        {
            t("n_pilots"): [t.number(k, 0) for k in power["n_pilots"]],
            t("placebo_sd"): [t.number(s, 2) for s in power["sd_placebo"]],
            t("mde"): [t.number(m, 2) for m in power["mde"]],
        }
    )
    caption = t("table_power_cap", d=int(power["n_draws"].iloc[0]))
    data = data_block(t, power, "power", {"power.csv": ["n_pilots", "sd_placebo", "mde"]})
    return f"## {t('power_heading')}\n\n{t('power_text')}\n\n{markdown_table(table, 'rrr')}\n: {caption}\n\n{data}"


def _bound(t, value: float) -> str:
    """A bound of the sensitivity grid: one decimal, two when it needs them (0.25)."""
    return t.number(value, 1 if abs(round(value * 10) - value * 10) < 1e-9 else 2)


def sensitivity_section(ctx: ReportContext) -> str:
    """How large violations of parallel trends the turnout effect survives (``sensitivity.csv``, Rambachan and Roth).

    The breakdown values are read from the table (the smallest bound whose
    robust interval contains 0, or "beyond the grid"); nothing is computed here.
    """
    t = ctx.t
    if not ctx.has("turnout") or ctx.tables["sensitivity"].empty:  # only the within comparison, or no leads
        return ""
    table = ctx.tables["sensitivity"]
    original = table[table["kind"] == "original"].iloc[0]
    level = t.number(100 * float(original["level"]), 0)
    parts = [
        t(
            "sensitivity_intro",
            estimate=t.number(original["estimate"], 1),
            level=level,
            low=t.number(original["conf_low"], 1),
            high=t.number(original["conf_high"], 1),
        )
    ]
    for kind, key in (("relative_magnitude", "sensitivity_rm"), ("smoothness", "sensitivity_sd")):
        rows = table[table["kind"] == kind]
        if rows.empty:
            continue
        first = rows.iloc[0]
        if bool(first["breakdown_beyond_grid"]):
            parts.append(t(f"{key}_beyond", grid_max=_bound(t, float(first["grid_max"])), level=level))
        elif float(first["breakdown"]) == 0:
            parts.append(t(f"{key}_zero", level=level))
        else:
            parts.append(t(key, breakdown=_bound(t, float(first["breakdown"])), level=level))
    parts.append(t("sensitivity_caveat", g=t.number(int(original["n_clusters"]), 0)))
    data = data_block(
        t,
        table,
        "sensitivity",
        {"sensitivity.csv": ["kind", "m", "conf_low", "conf_high", "breakdown", "breakdown_beyond_grid"]},
    )
    return f"## {t('sensitivity_heading')}\n\n{' '.join(parts)}\n\n{data}"


def balance_section(ctx: ReportContext) -> str:
    """Pilots against all controls and against the matched controls: means and standardised mean differences."""
    t = ctx.t
    if not ctx.has("turnout") or ctx.tables["balance"].empty:  # no matching: too few controls
        return ""
    balance = ctx.tables["balance"]
    wide = balance.pivot_table(
        index="variable", columns="sample", values=["mean_pilot", "mean_control", "smd"], sort=False
    )
    counts = balance.groupby("sample")[["n_pilots", "n_controls"]].first()
    table = pd.DataFrame(
        {
            t("balance_variable"): [_word(t, f"balance_{v}", v) for v in wide.index],
            t("pilot"): [t.number(v, 2) for v in wide[("mean_pilot", "all_controls")]],
            t("balance_all_controls"): [t.number(v, 2) for v in wide[("mean_control", "all_controls")]],
            t("balance_smd_all"): [t.number(v, 2, signed=True) for v in wide[("smd", "all_controls")]],
            t("balance_matched"): [t.number(v, 2) for v in wide[("mean_control", "matched")]],
            t("balance_smd_matched"): [t.number(v, 2, signed=True) for v in wide[("smd", "matched")]],
        }
    )
    caption = t(
        "table_balance_cap",
        pilots=t.number(int(counts.loc["all_controls", "n_pilots"]), 0),
        controls=t.number(int(counts.loc["all_controls", "n_controls"]), 0),
        matched=t.number(int(counts.loc["matched", "n_controls"]), 0),
    )
    data = data_block(
        t,
        balance,
        "balance",
        {"balance.csv": ["variable", "sample", "mean_pilot", "mean_control", "smd", "n_controls"]},
    )
    return (
        f"## {t('balance_heading')}\n\n{t('balance_text')}\n\n{markdown_table(table, 'lrrrrr')}\n: {caption}\n\n{data}"
    )


def disclosure_section(ctx: ReportContext) -> str:
    """The disclosure rule, with the configured threshold (and a sentence when it is below the usual floor)."""
    t = ctx.t
    text = t("disclosure_text", min_n=ctx.min_n)
    if ctx.min_n < MIN_N_FLOOR:
        text += " " + t("disclosure_low_threshold", min_n=ctx.min_n, floor=MIN_N_FLOOR)
    return f"## {t('disclosure_heading')}\n\n{text}\n"
