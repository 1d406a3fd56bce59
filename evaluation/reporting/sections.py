"""Report sections as pandoc Markdown, built from result tables only.

Each function returns Markdown text (headings, sentences, figures as embedded
images, pipe tables) so the same sections render through Quarto and through the
built-in renderer, in any report language.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from evaluation.reporting.context import ReportContext
from evaluation.reporting.downloads import data_block
from evaluation.reporting.figures import PALETTE, event_study_plot, figure_markdown, gap_plot, series_with_intervals
from evaluation.reporting.tables import markdown_table
from evaluation.reporting.text import effect_sentence

PRIMARY_INFERENCE = ("permutation", "wild_bootstrap_webb", "crv1")


def title(ctx: ReportContext, text: str) -> str:
    """The report heading, with the synthetic-data notice for demo runs."""
    notice = f"\n::: {{.callout-warning}}\n**{ctx.t('demo_notice')}**\n:::\n" if ctx.demo else ""
    return f"# {text}\n{notice}"


def _primary(effects: pd.DataFrame) -> pd.Series | None:
    """The row with the most trustworthy inference method available for an estimate."""
    for inference in PRIMARY_INFERENCE:
        rows = effects[effects["inference"] == inference]
        if len(rows):
            return rows.iloc[0]
    return None


def _effect_rows(ctx: ReportContext, sample: str, suppressed: bool = False) -> pd.DataFrame:
    """The published effect rows of ``sample`` (or, with ``suppressed``, those withheld by disclosure control)."""
    table = ctx.tables["effects"] if sample == "programme" else ctx.tables["pilot_effects"]
    rows = table[table["sample"].astype(str) == str(sample)]
    hidden = rows["suppressed"].fillna(False).astype(bool) if "suppressed" in rows else pd.Series(False, rows.index)
    return rows[hidden == suppressed]


def _what(t, outcome: str) -> str:
    """An outcome as the subject of a sentence: "Turnout", "The share who voted ...", "Trust in ..."."""
    if outcome == "turnout":
        return t("turnout_what")
    label = t.outcome(outcome)
    if t.variables.outcomes[outcome].kind == "binary":
        return t("share_who", what=label[:1].lower() + label[1:])
    return label


def _sentence(ctx: ReportContext, row: pd.Series, where: str) -> str:
    t = ctx.t
    scale = row["outcome"] != "turnout" and t.variables.outcomes[row["outcome"]].kind != "binary"
    unit = "unit_scale" if scale else "unit_pp"
    return effect_sentence(t, _what(t, row["outcome"]), where, row["estimate"], row["ci_low"], row["ci_high"], unit)


def _summary(ctx: ReportContext, sample: str, where: str) -> str:
    """One sentence per outcome not in the headline table (:mod:`evaluation.reporting.headline`), each
    with its most trustworthy inference; empty when there is none."""
    effects = _effect_rows(ctx, sample)
    in_headline = {"turnout", *ctx.headline_outcomes}
    headline = effects[(effects["estimand"] == "att_" + effects["outcome"]) & ~effects["outcome"].isin(in_headline)]
    sentences, disagree = [], False
    for _, rows in headline.groupby("estimand", sort=False):
        row = _primary(rows[rows["method"] == rows["method"].iloc[0]])
        if row is not None:
            mark = f" {DISAGREE_MARK}" if _disagrees(row, 1 - ctx.level) else ""
            disagree = disagree or bool(mark)
            sentences.append(f"- {_sentence(ctx, row, where)}{mark}")
    for outcome in dict.fromkeys(_effect_rows(ctx, sample, suppressed=True)["outcome"]):
        if outcome not in in_headline:
            sentences.append(f"- {ctx.t('effect_suppressed', what=_what(ctx.t, outcome), min_n=ctx.min_n)}")
    if not sentences:
        return ""
    body = "\n".join(sentences)
    note = (
        f"{DISAGREE_MARK} {ctx.t('interval_p_disagree', alpha=ctx.t.number(1 - ctx.level, 2))}\n\n" if disagree else ""
    )
    return f"### {ctx.t('other_outcomes_heading')}\n\n{body}\n\n{note}{ctx.t('primary_inference_note')}\n"


def programme_summary(ctx: ReportContext) -> str:
    """Plain-language sentences on the programme-level effects of the outcomes outside the headline table."""
    return _summary(ctx, "programme", ctx.t("where_programme"))


def pilot_summary(ctx: ReportContext, code: str) -> str:
    """Plain-language sentences on one pilot's effects of the outcomes outside the headline table."""
    return _summary(ctx, code, ctx.pilot_name(code))


def turnout_section(ctx: ReportContext, sample: str) -> str:
    """Turnout over elections in pilots (or this pilot) and controls, and the event study."""
    t = ctx.t
    if not ctx.has("turnout"):
        return f"## {t('turnout_heading')}\n\n{t('no_turnout_data')}\n"
    trends = ctx.tables["turnout_trends"]
    fig, ax = plt.subplots()
    ours = (
        ("pilot", t("pilot"), PALETTE["pilot"])
        if sample == "programme"
        else ("pilot", t("this_pilot"), PALETTE["this"])
    )
    lines = [(str(sample), *ours), ("programme", "control", t("control"), PALETTE["control"])]
    for key, role, label, colour in lines:
        for election_type, marker in (("local", "o"), ("parliamentary", "s")):
            rows = trends[
                (trends["sample"] == key) & (trends["role"] == role) & (trends["election_type"] == election_type)
            ]
            series_with_intervals(
                ax,
                rows.rename(columns={"turnout_pp": "estimate"}),
                "election_year",
                f"{label}, {t(election_type)}",
                colour,
                marker,
            )
    ax.set_xlabel(t("election"))
    ax.set_ylabel(t("turnout_axis"))
    ax.legend(fontsize=8, frameon=False)
    shown = trends[
        trends["sample"].isin([str(sample), "programme"])
        & ((trends["sample"] == str(sample)) | (trends["role"] == "control"))
    ]
    n_districts = int(shown.groupby(["sample", "role"])["n_areas"].max().sum())
    series = _and(t, [ours[1], t("control")])
    alt = t("alt_lines", what=t("turnout_axis"), x=t("election").lower(), series=series)
    trend_columns = ["election_year", "turnout_pp", "n_areas"]
    parts = [
        f"## {t('turnout_heading')}\n",
        figure_markdown(fig, t("fig_turnout_cap", n=t.number(n_districts, 0)), alt, t.number),
        data_block(
            t,
            shown[["sample", "role", "election_type", *trend_columns]],
            f"turnout_{sample}",
            {"turnout_trends.csv": trend_columns},
        ),
    ]
    events = ctx.tables["event_study"]
    events = events[
        (events["sample"].astype(str) == str(sample)) & (events["outcome"] == "turnout") & (events["method"] == "twfe")
    ]
    if len(events):
        caption = t("fig_event_cap", n=t.number(n_districts, 0))
        alt = t("alt_lines", what=t("effect_axis"), x=t("elections_relative").lower(), series=ours[1])
        parts.append(
            figure_markdown(event_study_plot(events, t("elections_relative"), t("effect_axis")), caption, alt, t.number)
        )
        event_columns = ["rel_time", "estimate", "ci_low", "ci_high"]
        shown_events = events[["sample", "outcome", "method", "inference", *event_columns]]
        parts.append(data_block(t, shown_events, f"event_study_{sample}", {"event_study.csv": event_columns}))
    return "\n".join(parts)


def _and(t, items: list[str]) -> str:
    """Words joined as a list: "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {t('and_word')} {items[-1]}"


def survey_section(ctx: ReportContext, sample: str) -> str:
    """Participation and trust per wave: pilots (or this pilot) against controls."""
    t = ctx.t
    if not ctx.has("survey"):
        return f"## {t('survey_heading')}\n\n{t('no_survey_data')}\n"
    estimates = ctx.tables["estimates"]
    overall = estimates[estimates["group_variable"] == "all"]
    parts = [f"## {t('survey_heading')}\n"]
    for outcome in (o for o in ctx.headline_outcomes if o in set(overall["outcome"])):
        rows = overall[overall["outcome"] == outcome]
        if sample == "programme":
            ours = rows[(rows["area_type"] == "pilot") & (rows["municipality_code"] == "all")]
            label, colour = t("pilot"), PALETTE["pilot"]
        else:
            ours = rows[(rows["area_type"] == "municipality") & (rows["municipality_code"] == str(sample))]
            label, colour = t("this_pilot"), PALETTE["this"]
        controls = rows[(rows["area_type"] == "control") & (rows["municipality_code"] == "all")]
        survey_columns = ["wave", "estimate", "ci_low", "ci_high", "n"]
        keys = ["outcome", "area_type", "municipality_code", "group_variable", "group"]
        data = data_block(
            t,
            pd.concat([ours, controls])[[*keys, *survey_columns, "suppressed"]],
            f"survey_{outcome}_{sample}",
            {"estimates.csv": survey_columns},
        )
        ours, controls = ours.dropna(subset=["estimate"]), controls.dropna(subset=["estimate"])
        fig, ax = plt.subplots()
        series_with_intervals(ax, ours, "wave", label, colour)
        series_with_intervals(ax, controls, "wave", t("control"), PALETTE["control"], "s")
        ax.set_xlabel(t("wave"))
        ax.set_ylabel(t.outcome(outcome))
        ax.legend(fontsize=8, frameon=False)
        n = int(ours["n"].sum() + controls["n"].sum())
        caption = t("fig_survey_cap", what=t.outcome(outcome), n=t.number(n, 0), min_n=ctx.min_n)
        alt = t("alt_lines", what=t.outcome(outcome), x=t("wave").lower(), series=_and(t, [label, t("control")]))
        parts.append(figure_markdown(fig, caption, alt, t.number))
        parts.append(data)
    return "\n".join(parts)


def groups_section(ctx: ReportContext, sample: str) -> str:
    """Estimates by socioeconomic group in the latest wave (one column per outcome), small cells suppressed."""
    t = ctx.t
    if not ctx.has("survey"):
        return ""  # the survey section has said why
    estimates = ctx.tables["estimates"]
    latest = int(estimates["wave"].max())
    if sample == "programme":
        rows = estimates[(estimates["area_type"] == "pilot") & (estimates["municipality_code"] == "all")]
    else:
        rows = estimates[(estimates["area_type"] == "municipality") & (estimates["municipality_code"] == str(sample))]
    rows = rows[
        (rows["wave"] == latest) & (rows["group_variable"] != "all") & rows["outcome"].isin(ctx.headline_outcomes)
    ]
    rows = rows.assign(
        cell=[_estimate_cell(t, e, lo, hi) for e, lo, hi in zip(rows["estimate"], rows["ci_low"], rows["ci_high"])]
    )
    wide = rows.pivot_table(
        index=["group_variable", "group"], columns="outcome", values="cell", aggfunc="first", sort=False
    )
    # the smallest n of a row, hidden when any of its cells is suppressed
    smallest_n = rows.groupby(["group_variable", "group"], sort=False)["n"].agg(lambda n: n.min(skipna=False))
    table = pd.DataFrame(
        {
            t("group"): [f"{t.group_variable(v)}: {t.group(v, g)}" for v, g in wide.index],
            **{
                t.outcome(o): wide[o].fillna(t("suppressed_mark")).to_numpy()
                for o in ctx.headline_outcomes
                if o in wide
            },
            t("n_respondents"): [
                t.number(n, 0) if pd.notna(n) else t("suppressed_mark") for n in smallest_n.reindex(wide.index)
            ],
        }
    )
    published = set(zip(ctx.tables["gaps"]["outcome"], ctx.tables["gaps"]["group_variable"]))
    figures = [pair for pair in ctx.gap_figures if pair in published] if sample == "programme" else []
    gaps = [_gap_figure(ctx, outcome, variable) for outcome, variable in figures]
    group_columns = ["wave", "estimate", "ci_low", "ci_high", "n"]
    data = data_block(
        t,
        rows[["outcome", "group_variable", "group", "area_type", "municipality_code", *group_columns, "suppressed"]],
        f"groups_{sample}",
        {"estimates.csv": group_columns},
    )
    return (
        f"## {t('groups_heading')}\n\n{markdown_table(table, 'l' + 'r' * (len(table.columns) - 1))}\n"
        f": {t('table_groups_cap', wave=latest)}\n\n{data}\n{t('suppressed_note', min_n=ctx.min_n)}\n\n"
        + "\n".join(gaps)
    )


def _gap_figure(ctx: ReportContext, outcome: str, variable: str) -> str:
    """The gap between the configured pair of groups over waves, pilots against controls."""
    t = ctx.t
    gaps = ctx.tables["gaps"]
    rows = gaps[(gaps["outcome"] == outcome) & (gaps["group_variable"] == variable)].dropna(subset=["estimate"])
    pilots, controls = rows[rows["area_type"] == "pilot"], rows[rows["area_type"] == "control"]
    unit = t("unit_pp") if t.variables.outcomes[outcome].kind == "binary" else t("unit_scale")
    fig = gap_plot(
        [(pilots, t("pilot"), PALETTE["pilot"], "o"), (controls, t("control"), PALETTE["control"], "s")],
        t("wave"),
        t("gap_axis", unit=unit),
    )
    group_a, group_b = (t.group(variable, g).lower() for g in t.variables.gaps[variable])
    what = _what(t, outcome)
    caption = t(
        "fig_gap_cap",
        what=what[:1].lower() + what[1:],
        a=group_a,
        b=group_b,
        unit=unit,
        n=t.number(int(pilots["n"].sum() + controls["n"].sum()), 0),
    )
    alt = t("alt_lines", what=t("gap_axis", unit=unit), x=t("wave").lower(), series=_and(t, [t("pilot"), t("control")]))
    gap_columns = ["wave", "estimate", "ci_low", "ci_high", "n"]
    shown = gaps[(gaps["outcome"] == outcome) & (gaps["group_variable"] == variable)]
    shown = shown[shown["area_type"].isin(["pilot", "control"])]
    keys = ["outcome", "group_variable", "group_a", "group_b", "area_type"]
    data = data_block(
        t, shown[[*keys, *gap_columns, "suppressed"]], f"gap_{outcome}_{variable}", {"gaps.csv": gap_columns}
    )
    return figure_markdown(fig, caption, alt, t.number) + "\n" + data + _adjusted_gap_table(ctx, outcome, variable)


def _adjusted_gap_table(ctx: ReportContext, outcome: str, variable: str) -> str:
    """The latest wave's gap beside the gap adjusted for the other group variables, pilots and controls."""
    t = ctx.t
    adjusted = ctx.tables.get("adjusted_gaps")
    if adjusted is None:
        return ""
    keys = ["outcome", "group_variable", "area_type", "wave"]
    raw = ctx.tables["gaps"]
    select = (
        (raw["outcome"] == outcome) & (raw["group_variable"] == variable) & raw["area_type"].isin(["pilot", "control"])
    )
    both = raw[select].merge(adjusted, on=[*keys, "group_a", "group_b"], suffixes=("", "_adjusted"), how="inner")
    if both.empty:
        return ""
    latest = both["wave"].max()
    rows = both[both["wave"] == latest].set_index("area_type").reindex(["pilot", "control"]).dropna(how="all")
    covariates = [c for c in str(rows["adjusted_for"].iloc[0]).split("+") if c]
    table = pd.DataFrame(
        {
            t("area"): [t(area) for area in rows.index],
            t("gap_raw"): [_estimate_cell(t, r.estimate, r.ci_low, r.ci_high) for r in rows.itertuples()],
            t("gap_adjusted"): [
                _estimate_cell(t, r.estimate_adjusted, r.ci_low_adjusted, r.ci_high_adjusted) for r in rows.itertuples()
            ],
            t("n_respondents"): [t.number(n, 0) if pd.notna(n) else t("suppressed_mark") for n in rows["n"]],
        }
    )
    group_a, group_b = (t.group(variable, g).lower() for g in t.variables.gaps[variable])
    caption = t(
        "table_adjusted_gap_cap",
        a=group_a,
        b=group_b,
        wave=latest,
        covariates=_and(t, [t.group_variable(c).lower() for c in covariates]),
    )
    columns = ["estimate", "ci_low", "ci_high", "adjusted_for", "n"]
    shown = adjusted[
        (adjusted["outcome"] == outcome) & (adjusted["group_variable"] == variable) & (adjusted["wave"] == latest)
    ]
    data = data_block(
        t,
        shown[["outcome", "group_variable", "group_a", "group_b", "area_type", "wave", *columns, "suppressed"]],
        f"adjusted_gap_{outcome}_{variable}",
        {"gaps.csv": ["estimate", "ci_low", "ci_high"], "adjusted_gaps.csv": columns},
    )
    return f"\n{markdown_table(table, 'lrrr')}\n: {caption}\n\n{data}\n"


def _estimate_cell(t, estimate: float, low: float, high: float) -> str:
    if pd.isna(estimate):
        return t("suppressed_mark")
    return f"{t.number(estimate)} ({_interval(t, low, high)})"


def _interval(t, low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return t("suppressed_mark")
    return f"{t.number(low)} – {t.number(high)}"


REPORTED_METHODS = ("twfe", "twfe_within", "callaway_santanna")
DISAGREE_MARK = "†"
INFERENCE_COLUMNS = {
    "cluster_robust": ("crv1", "influence_function"),
    "wild_bootstrap": ("wild_bootstrap_webb",),
    "permutation": ("permutation",),
}


def methods_section(ctx: ReportContext, sample: str) -> str:
    """Each headline estimate once, with its interval and p-value under three inference methods."""
    t = ctx.t
    rows = _effect_rows(ctx, sample)
    rows = rows[rows["method"].isin(REPORTED_METHODS)]
    records, disagree = [], False
    for (estimand, method), group in rows.groupby(["estimand", "method"], sort=False):
        by_inference = group.set_index("inference")
        outcome = group["outcome"].iloc[0]
        record = {
            t("outcome"): t("turnout_what") if outcome == "turnout" else t.outcome(outcome),
            t("method"): f"{t('method_' + method)}: {_estimand_label(t, estimand, outcome)}",
            t("estimate"): t.number(group["estimate"].iloc[0], 2, signed=True),
        }
        for column, inferences in INFERENCE_COLUMNS.items():
            present = [i for i in inferences if i in by_inference.index]
            r = by_inference.loc[present[0]] if present else None
            mark = DISAGREE_MARK if r is not None and _disagrees(r, 1 - ctx.level) else ""
            record[t(column)] = (
                "–" if r is None else f"{_interval(t, r['ci_low'], r['ci_high'])} ({t.p_value(r['p_value'])}){mark}"
            )
            disagree = disagree or bool(mark)
        records.append(record)
    table = pd.DataFrame(records)
    note = f"\n{DISAGREE_MARK} {t('interval_p_disagree', alpha=t.number(1 - ctx.level, 2))}\n" if disagree else ""
    effect_columns = ["estimate", "ci_low", "ci_high", "p_value"]
    shown = rows[rows["inference"].isin([i for inferences in INFERENCE_COLUMNS.values() for i in inferences])]
    data = data_block(
        t,
        shown[["outcome", "estimand", "sample", "method", "inference", *effect_columns]],
        f"methods_{sample}",
        {"effects.csv" if sample == "programme" else "pilot_effects.csv": effect_columns},
    )
    return f"## {t('methods_heading')}\n\n{t('methods_table_note')}\n\n{markdown_table(table, 'llrrrr')}\n{data}{note}"


def _disagrees(row: pd.Series, alpha: float) -> bool:
    """Whether an interval and its p-value tell different stories: it excludes zero but p > alpha, or the reverse.

    Permutation p-values come in steps of 1 / (draws + 1) and the per-pilot
    intervals come from the placebo size model, so the two can disagree near
    the threshold; the report marks that instead of printing a contradiction.
    """
    if pd.isna(row["p_value"]) or pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return False
    excludes_zero = row["ci_low"] > 0 or row["ci_high"] < 0
    return bool(excludes_zero != (row["p_value"] <= alpha))


def _estimand_label(t, estimand: str, outcome: str) -> str:
    """Short words for an estimand: ``att_turnout_low_education`` -> "low education"."""
    if estimand == f"att_{outcome}":
        return t("estimand_all")
    suffix = estimand.removeprefix(f"att_{outcome}_")
    if estimand.startswith("gap_change"):
        for variable, (a, b) in t.variables.gaps.items():
            if estimand == f"gap_change_{outcome}_{b}_vs_{a}":
                return t("estimand_gap_change", b=t.group(variable, b).lower(), a=t.group(variable, a).lower())
        return t(f"estimand_{estimand}")  # the turnout triple difference by district education
    if suffix.startswith("type_"):
        pilot_type = suffix.removeprefix("type_")
        name = t(f"pilot_type_{pilot_type}") if f"pilot_type_{pilot_type}" in t.words else pilot_type
        return t("estimand_type", type=name)
    if suffix.startswith("cohort_"):
        return t("estimand_cohort", start=suffix.removeprefix("cohort_"))
    if suffix.startswith("election_"):
        election_type = suffix.removeprefix("election_")
        return t(election_type) if election_type in t.words else election_type
    return t(f"estimand_{suffix}")


def quality_section(ctx: ReportContext) -> str:
    """Rows read, kept and quarantined per input file."""
    t = ctx.t
    acc = ctx.accounting()
    table = pd.DataFrame(
        {
            t("source_file"): acc.index,
            t("rows_read"): [t.number(v, 0) for v in acc["rows_read"]],
            t("rows_kept"): [t.number(v, 0) for v in acc["rows_kept"]],
            t("rows_quarantined"): [t.number(v, 0) for v in acc["rows_quarantined"]],
        }
    )
    counts = ctx.quality("rows")
    counts = counts[counts["item"].isin(["rows_read", "rows_kept", "rows_quarantined"])]
    data = data_block(t, counts, "row_counts", {"data_quality.csv": ["source", "item", "count"]})
    return f"## {t('quality_heading')}\n\n{markdown_table(table, 'lrrr')}\n\n{data}"


def provenance(ctx: ReportContext) -> str:
    """Version, commit, config hash, input checksums and run date."""
    t = ctx.t
    p = ctx.provenance
    inputs = "\n".join(f"  - `{name}`: `{digest[:16]}…`" for name, digest in p["inputs"].items())
    return (
        f"## {t('provenance_heading')}\n\n"
        f"- {t('pipeline_version')}: {p['pipeline_version']}\n- {t('git_commit')}: `{p['git_commit']}`\n"
        f"- {t('config_hash')}: `{p['config_sha256'][:16]}…`\n- {t('run_date')}: {p['run_date']}\n- {t('inputs')}:\n{inputs}\n"
    )
