"""The stakeholder summary (stage 04), built only from the tables the stages wrote.

`Summary.load(...)` reads the tables; each section method returns safe HTML (every string
that came from a respondent or a table passes through escaping) or a matplotlib figure, so
the notebook stays a list of one-line cells and every sentence is testable here.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import codebook as codebook_mod
from . import paths, plots
from .report import (count_noun, difference_sentence, fmt_ci, fmt_num, fmt_p, fmt_p_relation, fmt_pct, group_label,
                     quote_html, t, table_html)

TABLES = ("flow", "profile", "items", "ranking_by_group", "sectors", "tests", "test_family",
          "sector_tests", "sector_pairs", "nps", "satisfaction", "satisfaction_model", "weighting",
          "themes", "theme_quotes", "theme_tests", "language_mix", "agreement", "topics")
SCORE_TESTS = ("kruskal", "mann_whitney")
EFFECT_ORDER = {"large": 3, "medium": 2, "small": 1, "negligible": 0}



def _h(level: int, key: str, lang: str) -> str:
    anchor = f"s-{key.replace('_', '-')}"
    return f'<h{level} id="{anchor}">{html.escape(t(key, lang))}</h{level}>'


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


@dataclass
class Summary:
    tables: dict[str, pd.DataFrame]
    cb: codebook_mod.Codebook
    lang: str = "lv"
    fdr: float = 0.05
    min_cell: int = 10
    theme_names: dict[str, str] = field(default_factory=dict)
    synthetic: bool = False

    @classmethod
    def load(cls, run_dir, survey: str, codebook: str, lang: str = "lv", fdr: float = 0.05,
             min_cell: int = 10, themes: str | None = None, synthetic: bool = False) -> "Summary":
        tables = {}
        for name in TABLES:
            try:
                tables[name] = pd.read_csv(paths.stage_input(run_dir, survey, f"tables/{name}.csv"))
            except FileNotFoundError:
                tables[name] = pd.DataFrame()
        return cls(tables, codebook_mod.load(paths.resolve(codebook)), lang, fdr, min_cell,
                   _theme_names(themes, lang), synthetic)

    def _missing(self, *names) -> str | None:
        if any(self.tables.get(n, pd.DataFrame()).empty for n in names):
            return _p(t("missing_section", self.lang))
        return None

    # --- sections ---------------------------------------------------------------------------
    def title(self) -> str:
        return f'<h1 id="s-title">{html.escape(t("title", self.lang))}</h1>' + _p(t("intro", self.lang))

    def significant(self) -> pd.DataFrame:
        """Score tests of the headline family that survived BH and are not negligible."""
        tests = self.tables.get("tests", pd.DataFrame())
        if tests.empty:
            return tests
        sig = tests[tests["test"].isin(SCORE_TESTS) & (tests["p_adj"] < self.fdr)
                    & (tests["effect_label"].fillna("negligible") != "negligible")].copy()
        if "weighted" in sig:
            sig = sig[~sig["weighted"].astype(bool)]
        sig["_order"] = sig["effect_label"].map(EFFECT_ORDER)
        # epsilon² is on one scale for every rank test (rank-biserial r is not comparable to it)
        size = "epsilon_squared" if "epsilon_squared" in sig else "effect_size"
        return sig.sort_values(["_order", size, "p_adj", "outcome", "grouping"],
                               ascending=[False, False, True, True, True]).drop(columns="_order")

    def key_findings(self, limit: int = 5) -> str:
        lang, items = self.lang, []
        ranked = self.tables.get("items", pd.DataFrame())
        if not ranked.empty:
            top = ranked.sort_values("rank").iloc[0]
            items.append(t("top_activity", lang, item=self.cb.variable_label(top["item"], lang),
                           share=fmt_pct(top["top2_share"], 0, lang),
                           ci=fmt_ci(top["top2_ci_low"], top["top2_ci_high"], 0, lang)))
        sig = self.significant()
        for _, row in sig.head(limit - 1 - bool(len(self.tables.get("themes", [])))).iterrows():
            items.append(difference_sentence(row, self.cb, lang))
        themes = self.tables.get("themes", pd.DataFrame())
        if not themes.empty:
            top = self._theme_counts().head(3)
            names = ", ".join(f"{self._theme_name(r.theme)} ({int(r.n)})" for r in top.itertuples())
            items.append({"lv": f"Biežākās priekšlikumu tēmas: {names}.",
                          "en": f"Most frequent proposal themes: {names}."}.get(lang))
        body = "".join(f"<li>{html.escape(s)}</li>" for s in items)
        return _h(2, "key_findings", lang) + f"<ul>{body}</ul>"

    def who(self) -> str:
        lang = self.lang
        missing = self._missing("flow", "profile")
        if missing:
            return _h(2, "who", lang) + missing
        flow = self.tables["flow"]
        forms = flow[flow["source"] == "forms"]
        mail = flow[flow["source"] == "email"]
        text = t("who_text", lang, n=int(forms["rows_analysed"].sum()),
                 q=int(forms["rows_quarantined"].sum()), m=int(mail["rows_analysed"].sum()),
                 min_cell=self.min_cell)
        prof = self.tables["profile"]
        rows = prof[prof["variable"].isin(["target_group", "age_group", "gender", "district"])]
        table = pd.DataFrame({
            t("variable", lang): [self.cb.variable_label(v, lang) for v in rows["variable"]],
            t("group", lang): [group_label(v, c, self.cb, lang) for v, c in zip(rows["variable"], rows["level"])],
            t("n", lang): [f"< {self.min_cell}" if pd.isna(n) else str(int(n)) for n in rows["n"]],
            t("share", lang): [fmt_pct(s, 0, lang) for s in rows["share"]],
            t("population_share", lang): [fmt_pct(s, 0, lang) for s in rows["population_share"]],
        })
        return _h(2, "who", lang) + _p(text) + table_html(table)

    def who_figure(self):
        prof = self.tables.get("profile", pd.DataFrame())
        if prof.empty:
            return None
        d = prof[(prof["variable"] == "target_group") & prof["n"].notna()].sort_values("n")
        labels = [group_label("target_group", c, self.cb, self.lang) for c in d["level"]]
        return _barh(labels, d["n"].astype(int).tolist(), t("who_title", self.lang),
                     t("who_axis", self.lang), [str(int(n)) for n in d["n"]])

    def ranking(self, top: int = 10) -> str:
        lang = self.lang
        missing = self._missing("items")
        if missing:
            return _h(2, "ranking", lang) + missing
        d = self.tables["items"].sort_values("rank").head(top)
        table = pd.DataFrame({
            t("rank", lang): d["rank"].astype(int).astype(str),
            t("activity", lang): [self.cb.variable_label(i, lang) for i in d["item"]],
            t("sector", lang): [self.cb.sector_title(s, lang) for s in d["sector"]],
            t("top2", lang): [fmt_pct(v, 0, lang) for v in d["top2_share"]],
            t("ci", lang): [fmt_ci(a, b, 0, lang) for a, b in zip(d["top2_ci_low"], d["top2_ci_high"])],
            t("n", lang): d["n"].astype(int).astype(str),
        })
        if self.weighted_headline() and "weighted_top2_share" in d:
            # official margins: the weighted estimate stands beside the unweighted one
            table[t("top2_weighted", lang)] = [
                f"{fmt_pct(v, 0, lang)} ({fmt_ci(a, b, 0, lang)})" for v, a, b in
                zip(d["weighted_top2_share"], d["weighted_top2_ci_low"], d["weighted_top2_ci_high"])]
        return _h(2, "ranking", lang) + _p(t("ranking_text", lang)) + table_html(table)

    def weighted_headline(self) -> bool:
        """True when stage 02 weighted to official margins (then both figures are headline)."""
        w = self.tables.get("weighting", pd.DataFrame())
        return not w.empty and bool(w["used"].iloc[0]) and str(w["headline"].iloc[0]) == "weighted"

    def ranking_figure(self, top: int = 10):
        items = self.tables.get("items", pd.DataFrame())
        if items.empty:
            return None
        d = items.sort_values("rank").head(top).iloc[::-1]
        labels = [_wrap(self.cb.variable_label(i, self.lang)) for i in d["item"]]
        return _interval_plot(labels, d["top2_share"] * 100, d["top2_ci_low"] * 100, d["top2_ci_high"] * 100,
                              [f"n = {int(n)}" for n in d["n"]], t("ranking_title", self.lang),
                              t("top2_axis", self.lang))

    def ranking_groups(self, top: int = 5) -> str:
        lang = self.lang
        missing = self._missing("ranking_by_group")
        if missing:
            return _h(3, "ranking_groups", lang) + missing
        d = self.tables["ranking_by_group"]
        d = d[d["rank"].notna() & (d["rank"] <= top) & ~d.get("suppressed", False).astype(bool)]
        order = self.cb.variables["target_group"].codes
        parts = [_h(3, "ranking_groups", lang), _p(t("ranking_groups_text", lang))]
        for code in order:
            g = d[d["target_group"] == code].sort_values("rank")
            if g.empty:
                continue
            parts.append(f"<h4>{html.escape(group_label('target_group', code, self.cb, lang))} "
                         f"(n = {int(g['group_n'].iloc[0])})</h4>")
            parts.append(table_html(pd.DataFrame({
                t("rank", lang): g["rank"].astype(int).astype(str),
                t("activity", lang): [self.cb.variable_label(i, lang) for i in g["item"]],
                t("top2", lang): [fmt_pct(v, 0, lang) for v in g["top2_share"]],
                t("ci", lang): [fmt_ci(a, b, 0, lang) for a, b in zip(g["top2_ci_low"], g["top2_ci_high"])],
                t("n", lang): g["n"].astype(int).astype(str),
            })))
        return "".join(parts)

    def differences(self, limit: int = 15) -> str:
        lang = self.lang
        missing = self._missing("tests")
        if missing:
            return _h(2, "differences", lang) + missing
        fam = self.tables.get("test_family", pd.DataFrame())
        m = int(fam.loc[fam["family"] == "group_tests", "m"].iloc[0]) if not fam.empty else len(self.tables["tests"])
        head = _h(2, "differences", lang) + _p(t("differences_text", lang, m=m, fdr=fmt_num(self.fdr, 2, lang)))
        sig = self.significant()
        if sig.empty:
            return head + _p(t("none_found", lang))
        table = pd.DataFrame({
            t("finding", lang): [difference_sentence(r, self.cb, lang) for _, r in sig.head(limit).iterrows()],
            t("effect", lang): [f"{fmt_num(v, 2, lang)} ({_effect(l, lang)})"
                                for v, l in zip(sig["effect_size"].head(limit), sig["effect_label"].head(limit))],
            t("p_adj", lang): [fmt_p(p, lang) for p in sig["p_adj"].head(limit)],
        })
        more = len(sig) - limit
        tail = _p({"lv": f"… un vēl {more} atšķirības detalizētajā pārskatā.",
                   "en": f"… and {more} more differences in the detailed report."}[lang]) if more > 0 else ""
        return head + table_html(table) + tail

    def sectors(self) -> str:
        lang = self.lang
        missing = self._missing("sectors", "sector_tests")
        if missing:
            return _h(2, "sectors", lang) + missing
        st = self.tables["sector_tests"].iloc[0]
        text = t("sectors_text", lang, chi2=fmt_num(st["statistic"], 1, lang),
                 p=fmt_p_relation(st["p"], lang),
                 w=fmt_num(st["kendalls_w"], 2, lang), label=_effect(st["effect_label"], lang))
        d = self.tables["sectors"].sort_values("mean", ascending=False)
        table = pd.DataFrame({
            t("sector", lang): [self.cb.sector_title(s, lang) for s in d["sector"]],
            t("sector_index", lang): [fmt_num(v, 2, lang) for v in d["mean"]],
            t("ci", lang): [fmt_ci(a, b, 2, lang, pct=False) for a, b in zip(d["mean_ci_low"], d["mean_ci_high"])],
            t("alpha", lang): [fmt_num(v, 2, lang) for v in d["cronbach_alpha"]],
            t("n", lang): d["n"].astype(int).astype(str),
        })
        return _h(2, "sectors", lang) + _p(text) + table_html(table)

    def satisfaction(self) -> str:
        lang = self.lang
        missing = self._missing("nps", "satisfaction")
        if missing:
            return _h(2, "satisfaction", lang) + missing
        sat = self.tables["satisfaction"]
        nps = self.tables["nps"]
        s_all = sat[sat["grouping"] == "all"].iloc[0]
        n_all = nps[nps["grouping"] == "all"].iloc[0]
        text = t("nps_text", lang, mean=fmt_num(s_all["mean"], 1, lang),
                 ci=fmt_ci(s_all["ci_low"], s_all["ci_high"], 1, lang, pct=False), n=int(s_all["n"]),
                 nps=fmt_num(n_all["nps"], 0, lang),
                 nps_ci=fmt_ci(n_all["ci_low"], n_all["ci_high"], 0, lang, pct=False), nps_n=int(n_all["n"]))
        out = _h(2, "satisfaction", lang) + _p(text)
        model = self.tables.get("satisfaction_model", pd.DataFrame())
        if not model.empty:
            sig = model[model["p_adj"] < self.fdr].sort_values("odds_ratio", ascending=False)
            if len(sig):
                listed = "; ".join(f"{self.cb.sector_title(r.sector, lang)} "
                                   f"(OR {fmt_num(r.odds_ratio, 2, lang)}, {fmt_ci(r.ci_low, r.ci_high, 2, lang, pct=False)})"
                                   for r in sig.itertuples())
                out += _p(t("satisfaction_drivers", lang, list=listed))
        return out

    def nps_figure(self):
        nps = self.tables.get("nps", pd.DataFrame())
        if nps.empty:
            return None
        d = nps[(nps["grouping"] == "target_group") & ~nps["suppressed"].astype(bool) & nps["nps"].notna()]
        d = d.iloc[::-1]
        labels = [group_label("target_group", c, self.cb, self.lang) for c in d["level"]]
        return _interval_plot(labels, d["nps"], d["ci_low"], d["ci_high"], [f"n = {int(n)}" for n in d["n"]],
                              t("nps_title", self.lang), t("nps", self.lang), zero_line=True)

    def _theme_counts(self) -> pd.DataFrame:
        th = self.tables.get("themes", pd.DataFrame())
        if th.empty:
            return th
        col = "source" if "source" in th else None
        if col:
            th = th[th[col].isin(["all", "total"])] if th[col].isin(["all", "total"]).any() else th
        th = th[th["theme"] != "(none)"]            # the uncoded share is reported on its own
        return th.groupby("theme", as_index=False)["n"].sum().sort_values(["n", "theme"], ascending=[False, True])

    def _theme_name(self, code: str) -> str:
        return self.theme_names.get(code, code)

    def proposals(self, top: int = 8, quotes: int = 2) -> str:
        lang = self.lang
        missing = self._missing("themes")
        if missing:
            return _h(2, "proposals", lang) + missing
        mix = self.tables.get("language_mix", pd.DataFrame())
        n_survey = int(mix.loc[mix["source"] == "survey", "n"].sum()) if not mix.empty else 0
        n_email = int(mix.loc[mix["source"] == "email", "n"].sum()) if not mix.empty else 0
        th = self.tables["themes"]
        uncoded = th.loc[th["theme"] == "(none)", "share"] if "share" in th else pd.Series(dtype=float)
        parts = [_h(2, "proposals", lang),
                 _p(t("proposals_text", lang, n=n_survey + n_email, survey=n_survey, email=n_email,
                      uncoded=fmt_pct(uncoded.iloc[0], 0, lang) if len(uncoded) else "—"))]
        counts = self._theme_counts()
        counts = counts[counts["theme"] != "(none)"].head(top)
        qt = self.tables.get("theme_quotes", pd.DataFrame())
        for r in counts.itertuples():
            parts.append(f"<h4>{html.escape(self._theme_name(r.theme))} — "
                         f"{html.escape(count_noun(r.n, 'proposal', lang))}</h4>")
            if not qt.empty:
                for q in qt[qt["theme"] == r.theme].sort_values("rank").head(quotes)["text"]:
                    parts.append(quote_html(_unneutralise(q)))
        agr = self.tables.get("agreement", pd.DataFrame())
        if not agr.empty and "f1" in agr:
            macro = agr[agr["theme"].astype(str).str.contains("macro")]
            if len(macro):
                text = t("agreement_text", lang, f1=fmt_num(macro["f1"].iloc[0], 2, lang))
                if self.synthetic:
                    text += t("agreement_synthetic", lang)
                parts.append(_p(text))
        return "".join(parts)

    def methods(self) -> str:
        lang = self.lang
        w = self.tables.get("weighting", pd.DataFrame())
        if w.empty or not bool(w["used"].iloc[0]):
            weighting = t("weighting_none", lang)
        elif str(w["headline"].iloc[0]) == "weighted":
            weighting = t("weighting_used", lang, source=w["source"].iloc[0],
                          neff=fmt_num(w["kish_effective_n"].iloc[0], 0, lang))
        else:
            weighting = t("weighting_sensitivity", lang, source=Path(str(w["population_file"].iloc[0])).name)
        body = t("methods_list", lang, weighting=html.escape(weighting), fdr=html.escape(
            {"lv": f"kļūdaini atklāto īpatsvars ≤ {fmt_num(self.fdr, 2, lang)}",
             "en": f"false discovery rate ≤ {fmt_num(self.fdr, 2, lang)}"}[lang]))
        return _h(2, "methods", lang) + f"<ul>{body}</ul>"


# --- helpers ---------------------------------------------------------------------------------

def _effect(label, lang):
    return t(f"effect_{label}", lang) if label in EFFECT_ORDER else "—"


def _unneutralise(text: str) -> str:
    """CSV cells carry a leading quote against formula injection; a quote in HTML needs none."""
    text = str(text)
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@") else text


def _wrap(text: str, width: int = 55) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _theme_names(path: str | None, lang: str) -> dict[str, str]:
    """Theme code -> name in the report language, from the theme dictionary."""
    if not path or not paths.resolve(path).exists():
        return {}
    from .themes import load_dictionary

    dictionary = load_dictionary(paths.resolve(path))
    return {code: dictionary.name(code, lang) for code in dictionary.codes}


def _barh(labels, values, title, xlabel, annotations):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.2))
    ax.barh(labels, values, color="#0072B2")
    for y, (v, a) in enumerate(zip(values, annotations)):
        ax.text(v, y, f" {a}", va="center", fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    fig.tight_layout()
    return fig


def _interval_plot(labels, est, low, high, annotations, title, xlabel, zero_line=False):
    import matplotlib.pyplot as plt
    import numpy as np

    est, low, high = (np.asarray(v, float) for v in (est, low, high))
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(labels) + 1.4))
    y = np.arange(len(labels))
    ax.errorbar(est, y, xerr=plots.xerr(est, low, high), fmt="o", color="#0072B2", ecolor="#56B4E9",
                capsize=3)
    for yi, hi, a in zip(y, high, annotations):
        ax.text(hi, yi, f"  {a}", va="center", fontsize=8, color="#333333")
    if zero_line:
        ax.axvline(0, color="#999999", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    fig.tight_layout()
    return fig
