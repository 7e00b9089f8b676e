"""The first screen of the summary, written for a decision maker, and the ranking by group.

`brief_sentences` turns the run's tables (tables/*.csv, as loaded by `summary.Summary`) into
three to five plain sentences: what most respondents support, where groups disagree, what
people ask for in their own words, and what the consultation can and cannot tell (who took
part, when). `group_filter_html` pre-renders the ranking for every group of the main
grouping and of the district as <details> blocks: a filter without JavaScript, so the
report's CSP (script-src 'none') stays.
"""
from __future__ import annotations

import datetime as dt
import html

import pandas as pd

from .report import fmt_int, fmt_date, fmt_pct, group_label, outcome_label, t, table_html


def _item(cb, code: str, lang: str) -> str:
    return cb.variable_label(code, lang) if code in cb.variables else code


def support_sentence(items: pd.DataFrame, cb, lang: str) -> str | None:
    if items.empty:
        return None
    shown = items[~items.get("suppressed", False).astype(bool)] if "suppressed" in items else items
    shown = shown[shown["top2_share"].notna()]
    if shown.empty:
        return None
    best = shown.sort_values(["top2_share", "item"], ascending=[False, True]).iloc[0]
    k = int((shown["top2_share"] > 0.5).sum())
    key = "brief_support" if k else "brief_support_none"
    return t(key, lang, k=k, m=len(shown), item=_item(cb, best["item"], lang),
             share=fmt_pct(best["top2_share"], 0, lang), n=int(best["n"]))


def disagreement_sentence(tables: dict[str, pd.DataFrame], cb, lang: str, fdr: float) -> str | None:
    """The significant group difference (BH) with the widest gap in the share rating an
    activity important between two groups of the main grouping; else the largest effect."""
    findings = tables.get("findings")
    if findings is not None and "effect_size" in findings:
        # the stage 02 findings: groups of at least min_finding_n, one per contrast, with the
        # ordinal-model check; a headline never rests on a small group
        if findings.empty:
            return t("brief_disagree_none", lang)
        f = findings.assign(_s=findings.get("survives_adjustment", False).astype(str).str.lower() == "true")
        row = f.sort_values(["_s", "effect_size", "p_adj"], ascending=[False, False, True]).iloc[0]
        from .report import grouping_label

        g = row["grouping"]
        return t("brief_disagree_plain", lang, item=outcome_label(row["outcome"], cb, lang),
                 high=group_label(g, row["high_group"], cb, lang), low=group_label(g, row["low_group"], cb, lang),
                 grouping=grouping_label(cb, g, lang))
    tests = tables.get("tests", pd.DataFrame())
    if tests.empty:
        return None
    sig = tests[(tests["p_adj"] < fdr) & ~tests.get("weighted", False).astype(bool)]
    if "effect_label" in sig:
        sig = sig[sig["effect_label"].fillna("negligible") != "negligible"]
    if sig.empty:
        return t("brief_disagree_none", lang)
    grouping = cb.role_var("grouping")
    rbg = tables.get("ranking_by_group", pd.DataFrame())
    if grouping and not rbg.empty and grouping in rbg:
        rows = rbg[~rbg["suppressed"].astype(bool) & rbg["top2_share"].notna()]
        tested = sig[sig["grouping"] == grouping]
        # only the groups the test compared (a merged or untested group is left out)
        levels = {(o, str(lv)) for o, lvs in zip(tested["outcome"], tested.get("levels", pd.Series(dtype=str)))
                  for lv in str(lvs).split("+")} if "levels" in tested else None
        rows = rows[rows["item"].isin(set(tested["outcome"]))]
        if levels is not None:
            rows = rows[[(i, str(g)) in levels for i, g in zip(rows["item"], rows[grouping])]]
        if not rows.empty:
            spread = rows.groupby("item")["top2_share"].agg(lambda s: s.max() - s.min())
            item = spread.sort_values(ascending=False).index[0]
            sub = rows[rows["item"] == item]
            hi, lo = sub.loc[sub["top2_share"].idxmax()], sub.loc[sub["top2_share"].idxmin()]
            return t("brief_disagree", lang, item=_item(cb, item, lang),
                     high=group_label(grouping, hi[grouping], cb, lang), high_share=fmt_pct(hi["top2_share"], 0, lang),
                     low=group_label(grouping, lo[grouping], cb, lang), low_share=fmt_pct(lo["top2_share"], 0, lang))
    size = "epsilon_squared" if "epsilon_squared" in sig else "effect_size"
    row = sig.sort_values([size, "p_adj"], ascending=[False, True]).iloc[0]
    g = row["grouping"]
    from .report import grouping_label

    return t("brief_disagree_plain", lang, item=outcome_label(row["outcome"], cb, lang),
             high=group_label(g, row["highest_group"], cb, lang), low=group_label(g, row["lowest_group"], cb, lang),
             grouping=grouping_label(cb, g, lang))


def asks_sentence(themes: pd.DataFrame, names: dict[str, str], lang: str, top: int = 3) -> str | None:
    if themes.empty:
        return None
    th = themes[themes["theme"] != "(none)"]
    counts = th.groupby("theme", as_index=False)["n"].sum().sort_values(["n", "theme"], ascending=[False, True])
    counts = counts[counts["n"] > 0]                # a theme no text raised is never a finding
    if counts.empty:
        return None
    listed = ", ".join(t("brief_theme_count", lang, theme=names.get(r.theme, r.theme), count=int(r.n))
                       for r in counts.head(top).itertuples())
    return t("brief_asks", lang, themes=listed)


def limits_sentence(tables: dict[str, pd.DataFrame], cb, lang: str) -> str | None:
    flow, profile = tables.get("flow", pd.DataFrame()), tables.get("profile", pd.DataFrame())
    if flow.empty:
        return None
    forms = flow[flow["source"] == "forms"] if "source" in flow else flow
    n = int(forms["rows_analysed"].sum())
    period = ""
    try:
        start = dt.date.fromisoformat(str(cb.window["start"])[:10])
        end = dt.date.fromisoformat(str(cb.window["end"])[:10])
        period = t("brief_limits_period", lang, start=fmt_date(start, lang), end=fmt_date(end, lang))
    except (KeyError, TypeError, ValueError):
        pass
    grouping = cb.role_var("grouping")
    share, group = "—", "—"
    if grouping and not profile.empty:
        rows = profile[(profile["variable"] == grouping) & profile["share"].notna()]
        if not rows.empty:
            top = rows.loc[rows["share"].idxmax()]
            share, group = fmt_pct(top["share"], 0, lang), group_label(grouping, top["level"], cb, lang)
    return t("brief_limits", lang, n=n, period=period, share=share, group=group)


def brief_sentences(tables: dict[str, pd.DataFrame], cb, lang: str = "lv", fdr: float = 0.05,
                    theme_names: dict[str, str] | None = None) -> list[str]:
    """Three to five plain sentences from the run's tables (those that have data)."""
    out = [support_sentence(tables.get("items", pd.DataFrame()), cb, lang),
           disagreement_sentence(tables, cb, lang, fdr),
           asks_sentence(tables.get("themes", pd.DataFrame()), theme_names or {}, lang),
           limits_sentence(tables, cb, lang)]
    return [s for s in out if s]


def brief_html(summary) -> str:
    """The decision maker's first screen for a `summary.Summary`."""
    lang = summary.lang
    sentences = brief_sentences(summary.tables, summary.cb, lang, summary.fdr, summary.theme_names)
    body = "".join(f"<p>{html.escape(s)}</p>" for s in sentences[:-1])
    limits = f'<p class="brief-limits">{html.escape(sentences[-1])}</p>' if sentences else ""
    return (f'<section class="brief"><h2 id="s-brief">{html.escape(t("brief_title", lang))}</h2>{body}{limits}'
            f'<p>{html.escape(t("brief_details", lang))}</p></section>')


def group_filter_html(summary, top: int = 5) -> str:
    """The ranking of activities for each group of the main grouping and of the district,
    pre-rendered in <details> (no script): a group of at least min_cell respondents each; the
    groups merged or left out are named in one sentence; a survey without a district role
    (or whose district is the main grouping) says so in one sentence."""
    from .report import grouping_label

    lang, cb = summary.lang, summary.cb
    parts = [f'<h3 id="s-group-filter">{html.escape(t("brief_filter_title", lang))}</h3>',
             f"<p>{html.escape(t('brief_filter_text', lang, top=top))}</p>"]
    for role in ("grouping", "district"):
        var = cb.role_var(role)
        if var is None:
            if role == "district":
                parts.append(f"<p>{html.escape(t('brief_filter_no_role', lang))}</p>")
            continue
        label = grouping_label(cb, var, lang)
        if role == "district" and var == cb.role_var("grouping"):
            parts.append(f"<p>{html.escape(t('brief_filter_same', lang, grouping=label))}</p>")
            continue
        table = summary.ranking_by(var)
        if table is None:
            parts.append(f"<p>{html.escape(t('brief_filter_missing', lang, grouping=label))}</p>")
            continue
        parts.append(f"<h4>{html.escape(t('brief_filter_by', lang, grouping=label))}</h4>")
        d = table[table["rank"].notna() & (table["rank"] <= top) & ~table["suppressed"].astype(bool)]
        d = d[pd.to_numeric(d["group_n"], errors="coerce") >= summary.min_cell]
        codes = ([*cb.variables[var].codes, *cb.variables[var].merge] if var in cb.variables
                 else sorted(d[var].astype(str).unique()))
        for code in codes:
            g = d[d[var].astype(str) == str(code)].sort_values("rank")
            if g.empty:
                continue
            name = t("brief_filter_group", lang, group=group_label(var, code, cb, lang), n=int(g["group_n"].iloc[0]))
            frame = pd.DataFrame({
                t("rank", lang): g["rank"].map(fmt_int),
                t("activity", lang): [_item(cb, i, lang) for i in g["item"]],
                t("top2", lang): [fmt_pct(v, 0, lang) for v in g["top2_share"]],
                t("n", lang): g["n"].map(fmt_int),
            })
            parts.append(f'<details class="group-filter"><summary>{html.escape(name)}</summary>'
                         f"{table_html(frame)}</details>")
        small = summary.small_groups_sentence(var, table)
        if small:
            parts.append(f"<p>{html.escape(small)}</p>")
    return "".join(parts)
