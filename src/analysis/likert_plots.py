"""Figures of stage 02, drawn from its tables only (so the summary can draw them too).

Diverging stacked Likert bars per sector with "don't know" apart, the activity ranking with
intervals by target group, a heatmap of effect sizes (outcome x grouping) marking the
significant cells, and NPS by group. Labels come from the codebook in the report language;
every figure shows its n; titles are sentences. Colours: plots.LIKERT_COLOURS (diverging,
colour-blind safe) and Okabe–Ito for groups.
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .codebook import Codebook
from . import plots
from .plots import LIKERT_COLOURS, OKABE_ITO, likert_colours
from .report import fmt_int, TEXT, fmt_ci, fmt_num, fmt_p, fmt_pct, t  # noqa: F401 (used by the notebook too)
from .report import grouping_label, level_label as group_label  # noqa: F401 (labels live with the texts: no matplotlib to read them)

def _t(lang: str, key: str) -> str:
    return t(f"likert_{key}", lang)


def short(text: str, width: int = 60) -> str:
    return textwrap.shorten(str(text), width=width, placeholder="…")


def item_label(cb: Codebook, item: str, lang: str = "lv", width: int = 60) -> str:
    """An item's label (its question text in the report language), shortened for an axis."""
    sector = item.removeprefix("sector_")
    if item.startswith("sector_") and sector in cb.sectors:
        return f"{_t(lang, 'sector')}: {cb.sector_title(sector, lang)}"
    return short(cb.variable_label(item, lang), width)


# --- diverging stacked bars -----------------------------------------------------------

def likert_bars(items: pd.DataFrame, cb: Codebook, lang: str = "lv", width: int = 55):
    """Diverging stacked bars per sector from items.csv (shares of 1..5), "don't know" apart.

    The neutral answer is split across zero; bars are centred so that the unimportant side
    runs left and the important side right. A narrow right-hand column shows the share of
    "don't know" (of all who saw the item and answered it either way); n is on every bar.
    """
    if items is None or items.empty or not cb.likert_items or not cb.sectors:
        return None                      # nothing rated: no figure (the notebook says why)
    scale = cb.scale_of(cb.likert_items[0])
    points = scale.points
    mid = points[len(points) // 2]
    sectors = list(cb.sectors)
    fig, axes = plt.subplots(len(sectors), 2, figsize=(10, 2.2 * len(sectors) + 1.2), sharex="col",
                             gridspec_kw={"width_ratios": [5, 1], "wspace": 0.05})
    axes = np.atleast_2d(axes)
    for row, code in enumerate(sectors):
        ax, ax_dk = axes[row]
        sub = items[items["sector"] == code].set_index("item").reindex(list(cb.sectors[code].items))[::-1]
        ypos = np.arange(len(sub))
        shares = sub[[f"share_{p}" for p in points]].to_numpy(dtype=float) * 100
        left = -(np.nansum(shares[:, [i for i, p in enumerate(points) if p < mid]], 1)
                 + shares[:, points.index(mid)] / 2)
        for i, p in enumerate(points):
            ax.barh(ypos, shares[:, i], left=left, color=likert_colours(points)[p], height=0.7,
                    label=scale.label(p, lang, ("en", *cb.languages)) if row == 0 else None)
            left = left + np.nan_to_num(shares[:, i])
        ax.axvline(0, color="#444444", lw=0.8)
        ax.set_yticks(ypos)
        ax.set_yticklabels([item_label(cb, it, lang, width) for it in sub.index], fontsize=9)
        ax.set_xlim(-100, 100)
        _ = ax.set_title(cb.sector_title(code, lang), loc="left", fontsize=10)
        dk = sub["dk_share"].to_numpy(dtype=float) * 100
        ax_dk.barh(ypos, dk, color=LIKERT_COLOURS["dk"], height=0.7)
        for y, n, d in zip(ypos, sub["n"], dk):
            label = "n = —" if pd.isna(n) else f"n = {int(n)}"
            ax_dk.text((0 if np.isnan(d) else d) + 1, y, label, va="center", fontsize=9)
        ax_dk.set_yticks([])
        ax_dk.set_xlim(0, 40)
        ax_dk.spines["left"].set_visible(False)
    axes[-1, 0].set_xlabel(_t(lang, "share"))
    axes[-1, 0].set_xticks([-100, -50, 0, 50, 100])
    axes[-1, 0].set_xticklabels(["100", "50", "0", "50", "100"])
    dk_label = scale.dont_know.get(lang) or next(iter(scale.dont_know.values()), "")   # the codebook's own wording
    axes[-1, 1].set_xlabel(dk_label + ", %")
    axes[0, 1].set_title(dk_label, fontsize=9)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    order = list(range(len(handles)))
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper center", ncol=len(points),
               fontsize=9, frameon=False, bbox_to_anchor=(0.5, 1 - 0.55 / fig.get_figheight()))
    shares = items["top2_share"].astype(float)
    title = t("likert_likert_title", lang, k=int((shares > 0.5).sum()), m=int(shares.notna().sum()))
    fig.suptitle(_wrap_title(title), x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.subplots_adjust(top=1 - 1.0 / fig.get_figheight(), left=0.38, right=0.97, hspace=0.45)
    best = items.sort_values("top2_share", ascending=False).iloc[0]
    fig.alt_text = f"{title} " + t("likert_alt_bars", lang, item=item_label(cb, best["item"], lang, 200),
                                   share=fmt_pct(best["top2_share"], 0, lang))
    return fig


def _wrap_title(text: str, width: int = 95) -> str:
    return "\n".join(textwrap.wrap(text, width))


# --- ranking with intervals by target group --------------------------------------------

def ranking_plot(ranking: pd.DataFrame, items: pd.DataFrame, cb: Codebook, lang: str = "lv",
                 grouping: str | None = None, width: int = 60):
    """Top-two share with its Wilson interval for each activity, one colour per group of the
    codebook's main grouping (role ``grouping``)."""
    grouping = grouping or cb.role_var("grouping")
    if (grouping is None or ranking is None or ranking.empty or grouping not in ranking
            or items is None or items.empty):
        return None                      # no group large enough to show: no figure
    order = items.sort_values("rank", na_position="last")["item"].tolist()
    groups = list(dict.fromkeys(ranking[grouping]))
    fig, ax = plt.subplots(figsize=(10, 0.36 * len(order) + 2.4))
    step = 0.8 / max(len(groups), 1)
    ypos = {it: len(order) - 1 - i for i, it in enumerate(order)}
    markers = ["o", "s", "D", "^", "v", "P"]
    for k, level in enumerate(groups):
        sub = ranking[(ranking[grouping] == level) & ~ranking["suppressed"].astype(bool)]
        y = np.array([ypos[it] for it in sub["item"]]) + 0.4 - step * (k + 0.5)
        x = sub["top2_share"].to_numpy(dtype=float) * 100
        err = plots.xerr(x, sub["top2_ci_low"].to_numpy(dtype=float) * 100,
                    sub["top2_ci_high"].to_numpy(dtype=float) * 100)
        n = int(sub["group_n"].iloc[0]) if len(sub) else 0
        ax.errorbar(x, y, xerr=err, fmt=markers[k % len(markers)], ms=4, lw=1, capsize=0,
                    color=OKABE_ITO[k % len(OKABE_ITO)], label=f"{group_label(cb, grouping, level, lang)} (n={n})")
    ax.set_yticks(list(ypos.values()))
    ax.set_yticklabels([item_label(cb, it, lang, width) for it in ypos], fontsize=9)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_xlim(0, 100)
    ax.set_xlabel(t("likert_top2", lang, points=_scale_words(cb)["points"]))
    ax.grid(axis="x", color="#e0e0e0", lw=0.6)
    height = fig.get_figheight()
    fig.legend(loc="upper left", ncol=2, fontsize=9, frameon=False, bbox_to_anchor=(0.01, 1 - 0.75 / height))
    fig.suptitle(_wrap_title(_t(lang, "ranking_title"), 90), x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.6 + 0.17 * ((len(groups) + 1) // 2)) / height))
    shown = ranking[~ranking["suppressed"].astype(bool)]
    if len(shown):
        best = shown.sort_values("top2_share", ascending=False).iloc[0]
        fig.alt_text = _t(lang, "ranking_title") + " " + t(
            "likert_alt_ranking", lang, item=item_label(cb, best["item"], lang, 200),
            group=group_label(cb, grouping, best[grouping], lang), share=fmt_pct(best["top2_share"], 0, lang))
    return fig


# --- effect-size heatmap -----------------------------------------------------------------

def effect_heatmap(tests: pd.DataFrame, cb: Codebook, lang: str = "lv", fdr: float = 0.05, width: int = 45):
    """Epsilon-squared of each rank test (rows: items, then sector indices; columns: groupings).

    Epsilon-squared (H / (n - 1)) is defined for two groups as well as for more, so one
    scale serves every column; a dot marks a test whose BH-adjusted p is below `fdr`.
    """
    if tests is None or tests.empty or "test" not in tests:
        return None                      # no test was possible: no figure
    rank = tests[tests["test"].isin(["kruskal", "mann_whitney"]) & ~tests["weighted"].astype(bool)]
    outcomes = list(dict.fromkeys(rank["outcome"]))
    groupings = list(dict.fromkeys(rank["grouping"]))
    if not outcomes or not groupings:
        return None
    eps = rank.pivot(index="outcome", columns="grouping", values="epsilon_squared").reindex(
        index=outcomes, columns=groupings).to_numpy(dtype=float)
    sig = rank.pivot(index="outcome", columns="grouping", values="p_adj").reindex(
        index=outcomes, columns=groupings).to_numpy(dtype=float) < fdr
    fig, ax = plt.subplots(figsize=(2.2 + 0.55 * len(groupings) + 3.2, 0.3 * len(outcomes) + 2.6))
    vmax = max(0.02, float(np.nanmax(eps)) if np.isfinite(eps).any() else 0.02)
    im = ax.imshow(np.ma.masked_invalid(eps), cmap="viridis", vmin=0, vmax=vmax, aspect="auto")
    for i, j in zip(*np.nonzero(sig)):
        ax.text(j, i, "●", ha="center", va="center", fontsize=9,
                color="black" if eps[i, j] > vmax * 0.6 else "white")
    ax.set_xticks(range(len(groupings)))
    ax.set_xticklabels([short(grouping_label(cb, g, lang), 32) for g in groupings], rotation=60, ha="right", fontsize=9)
    ax.set_yticks(range(len(outcomes)))
    ax.set_yticklabels([item_label(cb, o, lang, width) for o in outcomes], fontsize=9)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    cbar.set_label("epsilon²")
    n = rank["n"].dropna()
    sub = t("likert_n_range", lang, lo=int(n.min()), hi=int(n.max())) if len(n) else ""
    _ = ax.set_title(_wrap_title(_t(lang, "heatmap_title"), 70) + ("\n" + sub if sub else ""), loc="left", fontsize=11)
    fig.tight_layout()
    fig.alt_text = _t(lang, "heatmap_title")
    if np.isfinite(eps).any():
        i, j = np.unravel_index(np.nanargmax(eps), eps.shape)
        fig.alt_text += " " + t("likert_alt_heatmap", lang, outcome=item_label(cb, outcomes[i], lang, 200),
                                grouping=grouping_label(cb, groupings[j], lang), eps=fmt_num(eps[i, j], 3, lang))
    return fig


# --- NPS by group ------------------------------------------------------------------------

def nps_plot(nps: pd.DataFrame, cb: Codebook, lang: str = "lv", groupings=None):
    """NPS with its interval for each group of a few groupings (role ``nps_groupings``);
    the overall NPS as a line."""
    groupings = groupings if groupings is not None else cb.role_vars("nps_groupings")
    if nps is None or nps.empty or not (nps["grouping"] == "all").any():
        return None
    overall = nps[nps["grouping"] == "all"].iloc[0]
    groupings = [g for g in groupings if (nps["grouping"] == g).any()]
    if not groupings:
        return None                      # no group large enough to show: no figure
    sizes = [int((nps["grouping"] == g).sum()) for g in groupings]
    fig, axes = plt.subplots(len(groupings), 1, figsize=(9, 0.32 * sum(sizes) + 0.9 * len(groupings) + 1.2),
                             sharex=True, gridspec_kw={"height_ratios": sizes or [1]})
    axes = np.atleast_1d(axes)
    for ax, g in zip(axes, groupings):
        sub = nps[(nps["grouping"] == g) & ~nps["suppressed"].astype(bool)][::-1]
        y = np.arange(len(sub))
        x = sub["nps"].to_numpy(dtype=float)
        err = plots.xerr(x, sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float))
        ax.errorbar(x, y, xerr=err, fmt="o", color=OKABE_ITO[0], ms=5, lw=1.2)
        ax.axvline(float(overall["nps"]), color="#555555", ls="--", lw=0.9)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{group_label(cb, g, lv, lang)} (n={int(n)})" for lv, n in zip(sub["level"], sub["n"])],
                           fontsize=9)
        ax.set_ylim(-0.6, len(sub) - 0.4)
        _ = ax.set_title(grouping_label(cb, g, lang), loc="left", fontsize=10)
        ax.grid(axis="x", color="#e0e0e0", lw=0.6)
    axes[-1].set_xlabel(_t(lang, "nps"))
    total = t("likert_n_total", lang, n=int(overall["n"]))
    fig.suptitle(_wrap_title(_t(lang, "nps_title") + f" ({total}).", 80), x=0.01, ha="left", fontsize=12,
                 fontweight="bold")
    fig.tight_layout()
    shown = nps[nps["grouping"].isin(groupings) & ~nps["suppressed"].astype(bool) & nps["nps"].notna()]
    fig.alt_text = _t(lang, "nps_title") + f" ({total}); NPS {fmt_num(overall['nps'], 0, lang)}."
    if len(shown):
        hi, lo = shown.loc[shown["nps"].idxmax()], shown.loc[shown["nps"].idxmin()]
        fig.alt_text += " " + t("likert_alt_nps", lang, high=group_label(cb, hi["grouping"], hi["level"], lang),
                                high_value=fmt_num(hi["nps"], 0, lang),
                                low=group_label(cb, lo["grouping"], lo["level"], lang),
                                low_value=fmt_num(lo["nps"], 0, lang))
    return fig


show = plots.show   # one way to display a figure, shared with every notebook


# --- tables for reading (the notebook shows these; the CSVs keep the codes) -------------

def _v(lang: str, key: str, **values) -> str:
    return t(f"likert_view_{key}", lang, **values)


def _scale_words(cb: Codebook) -> dict[str, str]:
    """The rating scale's range and favourable points for column titles ("Mean (0–14)",
    "Favourable answers (10–14)"): from the codebook, never a fixed 1–5 / 4–5."""
    if not cb.likert_items:
        return {"range": "", "points": ""}
    scale = cb.index_scale()
    fav = sorted(scale.favourable)
    contiguous = bool(fav) and fav == list(range(fav[0], fav[-1] + 1))
    points = f"{fav[0]}–{fav[-1]}" if contiguous and len(fav) > 1 else ", ".join(map(str, fav))
    return {"range": scale.range_text, "points": points}


def fmt_n(n, min_cell: int = 10) -> str:
    return f"< {min_cell}" if n is None or pd.isna(n) else str(int(n))


def weighting_text(weighting: pd.DataFrame, cb: Codebook, lang: str = "lv") -> str:
    """One or two sentences on whether and how the figures are weighted (from weighting.csv)."""
    w = weighting.iloc[0]
    role = w["role"] if w["role"] in ("sensitivity", "headline") else "none"
    out = t(f"likert_weighting_{role}", lang, source=w.get("source", "")) if role == "headline" \
        else t(f"likert_weighting_{role}", lang)
    if role != "none":
        margins = ", ".join(grouping_label(cb, m, lang).lower() for m in str(w["margins"]).split("+"))
        out += " " + t("likert_weighting_detail", lang, margins=margins, n_weighted=int(w["n_weighted"]), n=int(w["n"]),
                                           kish=fmt_num(w["kish_effective_n"], 0, lang),
                                           deff=fmt_num(w["design_effect"], 2, lang),
                                           wmax=fmt_num(w["max_weight_ratio"], 1, lang),
                                           cap=fmt_num(w["trim_cap"], 1, lang))
    return out


def profile_view(profile: pd.DataFrame, cb: Codebook, lang: str = "lv", min_cell: int = 10) -> pd.DataFrame:
    d = profile[profile["variable"] != "form_language"]
    out = pd.DataFrame({
        _v(lang, "variable"): [grouping_label(cb, g, lang) for g in d["variable"]],
        _v(lang, "group"): [group_label(cb, g, lv, lang) for g, lv in zip(d["variable"], d["level"])],
        _v(lang, "n"): [fmt_n(n, min_cell) for n in d["n"]],
        _v(lang, "share"): [fmt_pct(s, 1, lang) for s in d["share"]],
    })
    if d["population_share"].notna().any():
        out[_v(lang, "population_share")] = [fmt_pct(s, 1, lang) for s in d["population_share"]]
    if d["weighted_share"].notna().any():
        out[_v(lang, "weighted_share")] = [fmt_pct(s, 1, lang) for s in d["weighted_share"]]
    return out.reset_index(drop=True)


def _dk_label(cb: Codebook, lang: str) -> str:
    scale = cb.scale_of(cb.likert_items[0])
    return scale.dont_know.get(lang) or next(iter(scale.dont_know.values()), "")


def items_view(items: pd.DataFrame, cb: Codebook, lang: str = "lv", top: int | None = None,
               min_cell: int = 10) -> pd.DataFrame:
    d = items.sort_values(["rank", "item"], na_position="last")
    d = d.head(top) if top else d
    words = _scale_words(cb)
    out = pd.DataFrame({
        _v(lang, "rank"): [fmt_n(r) if pd.notna(r) else "—" for r in d["rank"]],
        _v(lang, "activity"): [item_label(cb, i, lang, 90) for i in d["item"]],
        _v(lang, "sector"): [cb.sector_title(s, lang) for s in d["sector"]],
        _v(lang, "n"): [fmt_n(n, min_cell) for n in d["n"]],
        _dk_label(cb, lang): [fmt_pct(s, 1, lang) for s in d["dk_share"]],
        _v(lang, "top2", points=words["points"]): [fmt_pct(s, 1, lang) for s in d["top2_share"]],
        _v(lang, "ci"): [fmt_ci(a, b, 1, lang) for a, b in zip(d["top2_ci_low"], d["top2_ci_high"])],
        _v(lang, "mean", range=words["range"]): [fmt_num(m, 2, lang) for m in d["mean"]],
    })
    if "weighted_top2_share" in d:
        out[_v(lang, "w_top2", points=words["points"])] = [fmt_pct(s, 1, lang) for s in d["weighted_top2_share"]]
    return out.reset_index(drop=True)


def sectors_view(sectors: pd.DataFrame, cb: Codebook, lang: str = "lv", min_cell: int = 10) -> pd.DataFrame:
    d = sectors.sort_values("rank")
    words = _scale_words(cb)
    out = pd.DataFrame({
        _v(lang, "rank"): d["rank"].map(fmt_int).to_numpy(),
        _v(lang, "sector"): [cb.sector_title(s, lang) for s in d["sector"]],
        _v(lang, "n"): [fmt_n(n, min_cell) for n in d["n"]],
        _v(lang, "mean", range=words["range"]): [fmt_num(m, 2, lang) for m in d["mean"]],
        _v(lang, "ci"): [fmt_ci(a, b, 2, lang, pct=False) for a, b in zip(d["mean_ci_low"], d["mean_ci_high"])],
        _v(lang, "top2", points=words["points"]): [fmt_pct(s, 1, lang) for s in d["top2_share"]],
        _v(lang, "alpha"): [fmt_num(a, 2, lang) for a in d["cronbach_alpha"]],
    })
    if "weighted_mean" in d:
        out[_v(lang, "mean_weighted", range=words["range"])] = [
            fmt_num(m, 2, lang) for m in d["weighted_mean"]]
    return out.reset_index(drop=True)


def sector_test_text(sector_tests: pd.DataFrame, sector_pairs: pd.DataFrame, lang: str = "lv") -> str:
    r = sector_tests.iloc[0]
    p = fmt_p(r["p"], lang)
    return t("likert_sector_test", lang, 
        n=int(r["n"]), stat=fmt_num(r["statistic"], 1, lang), df=int(r["df"]),
        p=p if p.startswith("<") else f"= {p}", w=fmt_num(r["kendalls_w"], 3, lang),
        label=_v(lang, str(r["effect_label"])), k=int(sector_pairs["significant"].sum()), m=len(sector_pairs),
        sectors=fmt_int(r.get("k")))


def family_text(test_family: pd.DataFrame, lang: str = "lv") -> str:
    rows = test_family[test_family["family"] == "group_tests"] if "family" in test_family else test_family.iloc[:0]
    if rows.empty or int(rows.iloc[0]["m"]) == 0:
        return t("likert_family_none", lang)
    r = rows.iloc[0]
    return t("likert_family", lang, m=int(r["m"]), fdr=fmt_num(r["alpha"], 2, lang),
                                                          k=int(r["n_significant"]))


def differences_view(tests: pd.DataFrame, cb: Codebook, lang: str = "lv", fdr: float = 0.05,
                     top: int | None = 20) -> pd.DataFrame:
    """Significant rank tests (BH), largest epsilon-squared first, with who rates higher and lower."""
    d = tests[tests["test"].isin(["kruskal", "mann_whitney"]) & (tests["p_adj"] < fdr)]
    d = d.sort_values(["epsilon_squared", "p_adj"], ascending=[False, True])
    d = d.head(top) if top else d
    return pd.DataFrame({
        _v(lang, "outcome"): [item_label(cb, o, lang, 70) for o in d["outcome"]],
        _v(lang, "variable"): [grouping_label(cb, g, lang) for g in d["grouping"]],
        _v(lang, "high"): [group_label(cb, g, h, lang) for g, h in zip(d["grouping"], d["highest_group"])],
        _v(lang, "low"): [group_label(cb, g, lo, lang) for g, lo in zip(d["grouping"], d["lowest_group"])],
        _v(lang, "effect"): [f"{_v(lang, str(lab))} ({fmt_num(e, 3, lang)})"
                             for lab, e in zip(d["effect_label"], d["epsilon_squared"])],
        _v(lang, "p_adj"): [fmt_p(p, lang) for p in d["p_adj"]],
        _v(lang, "n"): d["n"].map(fmt_int).to_numpy(),
    }).reset_index(drop=True)


def models_view(models: pd.DataFrame, cb: Codebook, lang: str = "lv", fdr: float = 0.05,
                top: int | None = 20) -> pd.DataFrame:
    """Significant adjusted odds ratios (BH over all model terms), strongest first."""
    d = models[models["p_adj"] < fdr].copy()
    d["strength"] = np.abs(np.log(d["odds_ratio"].astype(float)))
    d = d.sort_values(["strength", "p_adj"], ascending=[False, True])
    d = d.head(top) if top else d
    return pd.DataFrame({
        _v(lang, "outcome"): [item_label(cb, o, lang, 70) for o in d["outcome"]],
        _v(lang, "term"): [f"{grouping_label(cb, v, lang)}: {group_label(cb, v, lv, lang)}"
                           for v, lv in zip(d["variable"], d["level"])],
        _v(lang, "reference"): [group_label(cb, v, r, lang) for v, r in zip(d["variable"], d["reference"])],
        _v(lang, "or"): [fmt_num(o, 2, lang) for o in d["odds_ratio"]],
        _v(lang, "ci"): [fmt_ci(a, b, 2, lang, pct=False) for a, b in zip(d["ci_low"], d["ci_high"])],
        _v(lang, "p_adj"): [fmt_p(p, lang) for p in d["p_adj"]],
    }).reset_index(drop=True)


def satisfaction_model_view(model: pd.DataFrame, cb: Codebook, lang: str = "lv") -> pd.DataFrame:
    d = model.sort_values("odds_ratio", ascending=False)
    return pd.DataFrame({
        _v(lang, "index"): [cb.sector_title(s, lang) for s in d["sector"]],
        _v(lang, "or"): [fmt_num(o, 2, lang) for o in d["odds_ratio"]],
        _v(lang, "ci"): [fmt_ci(a, b, 2, lang, pct=False) for a, b in zip(d["ci_low"], d["ci_high"])],
        _v(lang, "p_adj"): [fmt_p(p, lang) for p in d["p_adj"]],
    }).reset_index(drop=True)
