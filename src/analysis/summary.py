"""The stakeholder summary (stage 04), built only from the tables the stages wrote.

`Summary.load(...)` reads the tables; each section method returns safe HTML (every string
that came from a respondent or a table passes through escaping) or a matplotlib figure, so
the notebook stays a list of one-line cells and every sentence is testable here.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from . import codebook as codebook_mod
from . import paths, plots
from .report import (fmt_int, count_noun, difference_sentence, fmt_ci, fmt_num, fmt_p, fmt_p_relation, fmt_pct, group_label,
                     TEXT, outcome_label, quote_html, t, table_html)

TABLES = ("flow", "profile", "items", "ranking_by_group", "residuals", "sectors", "tests", "test_family",
          "sector_tests", "sector_pairs", "nps", "satisfaction", "satisfaction_model", "weighting",
          "findings", "dk_by_group", "representativeness", "po_check",
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
    min_finding_n: int = 30

    @classmethod
    def load(cls, run_dir, survey: str, codebook: str, lang: str = "lv", fdr: float = 0.05,
             min_cell: int = 10, themes: str | None = None, synthetic: bool = False,
             min_finding_n: int = 30) -> "Summary":
        tables = {}
        for name in TABLES:
            try:
                tables[name] = pd.read_csv(paths.stage_input(run_dir, survey, f"tables/{name}.csv"))
            except FileNotFoundError:
                tables[name] = pd.DataFrame()
        try:   # stage 01's quality rules as applied (the rule rows of its log; no respondent rows)
            log = pd.read_csv(paths.stage_input(run_dir, survey, "data/cleaning_log.csv"),
                              usecols=["entry", "rule", "action"])
            tables["rules"] = log[log["entry"] == "rule"].reset_index(drop=True)
        except (FileNotFoundError, ValueError):
            tables["rules"] = pd.DataFrame()
        cb = codebook_mod.load(paths.resolve(codebook))
        return cls(tables, cb, lang, fdr, min_cell, _theme_names(themes, lang, list(cb.sectors)),
                   synthetic, int(min_finding_n))

    def _missing(self, *names) -> str | None:
        if any(self.tables.get(n, pd.DataFrame()).empty for n in names):
            return _p(t("missing_section", self.lang))
        return None

    # --- sections ---------------------------------------------------------------------------
    def title(self) -> str:
        return f'<h1 id="s-title">{html.escape(t("title", self.lang))}</h1>' + _p(t("summary_intro", self.lang))

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

    def findings(self) -> pd.DataFrame:
        """findings.csv rows a summary may state: groups of at least min_finding_n, the
        strongest finding of each contrast first."""
        f = self.tables.get("findings", pd.DataFrame())
        if f.empty:
            return f
        f = f[(f["n_high"] >= self.min_finding_n) & (f["n_low"] >= self.min_finding_n)]
        return f.sort_values(["contrast_rank", "contrast"]).reset_index(drop=True)

    def finding_sentence(self, row) -> str:
        lang = self.lang
        surv = row.get("survives_adjustment")
        ci_or = fmt_ci(row.get("adjusted_ci_low"), row.get("adjusted_ci_high"), 2, lang, pct=False)
        if pd.isna(surv) or pd.isna(row.get("adjusted_odds_ratio")):
            adjusted = t("summary_finding_not_checked", lang)
        elif str(surv).lower() in ("true", "1"):
            adjusted = t("summary_finding_survives", lang, odds=fmt_num(row["adjusted_odds_ratio"], 2, lang), ci=ci_or)
        else:
            adjusted = t("summary_finding_not_survives", lang, odds=fmt_num(row["adjusted_odds_ratio"], 2, lang),
                         ci=ci_or)
        return t("summary_finding", lang, outcome=outcome_label(row["outcome"], self.cb, lang),
                 high=self._group(row["grouping"], row["high_group"]), low=self._group(row["grouping"], row["low_group"]),
                 n_high=int(row["n_high"]), n_low=int(row["n_low"]), grouping=self._grouping(row["grouping"]),
                 r=fmt_num(row["effect_size"], 2, lang),
                 ci=fmt_ci(row["effect_ci_low"], row["effect_ci_high"], 2, lang, pct=False),
                 p=fmt_p_relation(row["pair_p_adj"], lang), adjusted=adjusted)

    def _grouping(self, grouping: str) -> str:
        """A characteristic's label; a multi-choice option as 'question: option' (never a code)."""
        base, _, opt = str(grouping).partition("__")
        if base in self.cb.variables:
            label = self.cb.variable_label(base, self.lang)
            return f"{label}: {self.cb.label_of(base, opt, self.lang)}" if opt else label
        return str(grouping)

    def _group(self, grouping: str, code) -> str:
        if "__" in str(grouping):
            return {"yes": t("summary_yes", self.lang), "no": t("summary_no", self.lang)}.get(str(code), str(code))
        return group_label(grouping, code, self.cb, self.lang)

    def _fav(self) -> str:
        """The favourable answers of the rating scale, in words: its labels, else its scores."""
        items = self.cb.likert_items
        if not items:
            return ""
        scale = self.cb.scales[self.cb.variables[items[0]].scale]
        fav = list(scale.favourable) or []
        labels = [scale.labels.get(p, {}).get(self.lang) for p in sorted(fav, reverse=True)]
        if fav and all(labels):
            q = ("„", "”") if self.lang == "lv" else ("'", "'")
            return ", ".join(f"{q[0]}{lab}{q[1]}" for lab in labels)
        return f"{min(fav)}–{max(fav)}" if len(fav) > 1 else (str(fav[0]) if fav else "")

    def _item_top(self):
        ranked = self.tables.get("items", pd.DataFrame())
        if ranked.empty or ranked["rank"].isna().all():
            return None
        return ranked.sort_values("rank").iloc[0]

    def key_findings(self, limit: int = 5) -> str:
        lang, items = self.lang, []
        top = self._item_top()
        if top is not None:
            items.append(t("summary_top_fav" if self._has_dk() else "summary_top_fav_no_dk", lang, fav=self._fav(), item=self.cb.variable_label(top["item"], lang),
                           share=fmt_pct(top["top2_share"], 0, lang), n=int(top["n"]),
                           ci=fmt_ci(top["top2_ci_low"], top["top2_ci_high"], 0, lang),
                           dk=fmt_pct(top["dk_share"], 0, lang), n_all=int(top["n_all"]) if "n_all" in top else "—",
                           share_all=fmt_pct(top.get("top2_share_all"), 0, lang)))
        themes = self.tables.get("themes", pd.DataFrame())
        f = self.findings()
        f = f[f["contrast_rank"] == 1] if not f.empty else f
        for _, row in f.head(limit - 1 - bool(len(themes))).iterrows():
            items.append(self.finding_sentence(row))
        top3 = self._theme_counts().head(3) if not themes.empty else pd.DataFrame()
        if len(top3):
            names = ", ".join(f"{self._theme_name(r.theme)} ({int(r.n)})" for r in top3.itertuples())
            items.append(t("summary_themes", lang, names=names))
        body = "".join(f"<li>{html.escape(s)}</li>" for s in items)
        return _h(2, "key_findings", lang) + f"<ul>{body}</ul>"

    def _scope_label(self) -> str:
        scope = self.cb.in_scope()
        if not scope:
            return t("summary_none", self.lang)
        var, codes = scope
        return f"{self.cb.variable_label(var, self.lang)}: " + ", ".join(
            group_label(var, c, self.cb, self.lang) for c in codes)

    def who(self) -> str:
        lang = self.lang
        missing = self._missing("flow", "profile")
        if missing:
            return _h(2, "who", lang) + missing
        flow = self.tables["flow"]
        forms = flow[flow["source"] == "forms"]
        mail = flow[flow["source"] == "email"]
        text = t("summary_who_text", lang, n=int(forms["rows_analysed"].sum()),
                 q=int(forms["rows_quarantined"].sum()), m=int(mail["rows_analysed"].sum()),
                 min_cell=self.min_cell)
        prof = self.tables["profile"]
        rows = prof[prof["variable"].isin(self.cb.role_vars("profile"))]
        table = pd.DataFrame({
            t("variable", lang): [self.cb.variable_label(v, lang) for v in rows["variable"]],
            t("group", lang): [group_label(v, c, self.cb, lang) for v, c in zip(rows["variable"], rows["level"])],
            t("n", lang): [f"< {self.min_cell}" if pd.isna(n) else str(int(n)) for n in rows["n"]],
            t("share", lang): [fmt_pct(s, 0, lang) for s in rows["share"]],
        })
        return _h(2, "who", lang) + _p(text) + table_html(table) + self.representativeness()

    def representativeness(self) -> str:
        """The respondents the population describes, compared with it on that same base."""
        lang = self.lang
        rep = self.tables.get("representativeness", pd.DataFrame())
        w = self.tables.get("weighting", pd.DataFrame())
        head = _h(3, "summary_repr_heading", lang)
        if rep.empty or w.empty:
            return head + _p(t("summary_repr_none", lang))
        wr = w.iloc[0]
        text = t("summary_repr_text", lang, n=int(wr["n_in_scope"]), scope=self._scope_label(),
                 neff=fmt_num(wr["kish_effective_n"], 0, lang), deff=fmt_num(wr["design_effect"], 2, lang),
                 cap=fmt_num(wr["trim_cap"], 0, lang), neff0=fmt_num(wr.get("kish_effective_n_untrimmed"), 0, lang),
                 deff0=fmt_num(wr.get("design_effect_untrimmed"), 2, lang),
                 maxw=fmt_num(wr.get("max_weight_ratio_untrimmed"), 1, lang),
                 trimmed=int(wr["n_trimmed"]) if pd.notna(wr.get("n_trimmed")) else 0)
        levels = [t("summary_unknown", lang) if lv == "(unknown)" else group_label(v, lv, self.cb, lang)
                  for v, lv in zip(rep["variable"], rep["level"])]
        table = pd.DataFrame({
            t("variable", lang): [self.cb.variable_label(v, lang) for v in rep["variable"]],
            t("group", lang): levels,
            t("n", lang): [f"< {self.min_cell}" if pd.isna(n) else str(int(n)) for n in rep["n"]],
            t("summary_sample_share", lang): [fmt_pct(s, 0, lang) for s in rep["sample_share"]],
            t("population_share", lang): [fmt_pct(s, 0, lang) for s in rep["population_share"]],
            t("summary_weighted_share", lang): [fmt_pct(s, 0, lang) for s in rep["weighted_share"]],
        })
        return head + _p(text) + table_html(table)

    def who_figure(self):
        prof = self.tables.get("profile", pd.DataFrame())
        if prof.empty:
            return None
        g = self.cb.role_var("grouping")
        if not g:
            return None
        d = prof[(prof["variable"] == g) & prof["n"].notna()].sort_values("n")
        if d.empty:
            return None
        labels = [group_label(g, c, self.cb, self.lang) for c in d["level"]]
        return _barh(labels, d["n"].astype(int).tolist(), t("who_title", self.lang),
                     t("who_axis", self.lang), [str(int(n)) for n in d["n"]])

    def ranking(self, top: int = 10) -> str:
        lang = self.lang
        missing = self._missing("items")
        if missing:
            return _h(2, "ranking", lang) + missing
        items = self.tables["items"]
        d = items[items["rank"].notna()].sort_values("rank").head(top)
        table = pd.DataFrame({
            t("rank", lang): d["rank"].map(fmt_int),
            t("activity", lang): [self.cb.variable_label(i, lang) for i in d["item"]],
            t("sector", lang): [self.cb.sector_title(s, lang) for s in d["sector"]],
            t("summary_fav_col", lang): [fmt_pct(v, 0, lang) for v in d["top2_share"]],
            t("ci", lang): [fmt_ci(a, b, 0, lang) for a, b in zip(d["top2_ci_low"], d["top2_ci_high"])],
            t("n", lang): d["n"].map(fmt_int),
            t("summary_dk", lang): [fmt_pct(v, 0, lang) for v in d["dk_share"]],
        })
        if not self._has_dk():           # the scale has no "don't know": no column of zeros
            table = table.drop(columns=[t("summary_dk", lang)])
        notes = []
        w = self.tables.get("weighting", pd.DataFrame())
        if self.weighted_headline() and "weighted_top2_share" in d:
            # official margins: the weighted estimate stands beside the unweighted one on the same people
            table[t("summary_top2_scope", lang)] = [fmt_pct(v, 0, lang) for v in d["scope_top2_share"]]
            table[t("top2_weighted", lang)] = [
                f"{fmt_pct(v, 0, lang)} ({fmt_ci(a, b, 0, lang)})" for v, a, b in
                zip(d["weighted_top2_share"], d["weighted_top2_ci_low"], d["weighted_top2_ci_high"])]
            notes.append(t("summary_ranking_weighted", lang, n=int(w["n_in_scope"].iloc[0]), scope=self._scope_label()))
        if "weighted_rank" in items and "scope_rank" in items and items["weighted_rank"].notna().any():
            k, item, stay = _rank_shift(items, "scope_rank", "weighted_rank")
            notes.append(t("summary_weighting_sensitivity", lang, n=int(w["n_in_scope"].iloc[0]),
                           scope=self._scope_label(), k=k, item=self.cb.variable_label(item, lang), top=stay))
        if "rank_excl_flagged" in items and items["rank_excl_flagged"].notna().any():
            k, _, stay = _rank_shift(items, "rank", "rank_excl_flagged")
            n_flag = int((items["n"] - items["n_excl_flagged"]).max())
            notes.append(t("summary_straightliners", lang, n=n_flag, k=k, top=stay))
        return (_h(2, "summary_ranking_fav", lang) + _p(t("summary_ranking_text_fav" if self._has_dk() else "summary_ranking_text_fav_no_dk", lang,
                                                               fav=self._fav()))
                + table_html(table)
                + "".join(_p(s) for s in notes) + self.dont_know())

    def _has_dk(self) -> bool:
        """Whether any rated item's scale offers "don't know" (else no don't-know figures)."""
        return any(self.cb.scale_of(i).has_dont_know for i in self.cb.likert_items)

    def dont_know(self) -> str:
        """'Don't know' by group: overall share and the characteristics whose share differs."""
        lang = self.lang
        dk = self.tables.get("dk_by_group", pd.DataFrame())
        if dk.empty or not self._has_dk():
            return ""
        overall = dk[dk["grouping"] == "all"]["dk_share"].iloc[0]
        sig = dk[(dk["grouping"] != "all") & (dk["p_adj"] < self.fdr)]
        parts = []
        for g, sub in sig.groupby("grouping", sort=False):
            sub = sub[sub["dk_share"].notna()].sort_values("dk_share")
            if len(sub) < 2:
                continue
            lo, hi = sub.iloc[0], sub.iloc[-1]
            parts.append(f"{self._grouping(g)} ({self._group(g, hi['level'])} {fmt_pct(hi['dk_share'], 0, lang)}, "
                         f"{self._group(g, lo['level'])} {fmt_pct(lo['dk_share'], 0, lang)})")
        return _h(3, "summary_dk_heading", lang) + _p(t(
            "summary_dk_text", lang, share=fmt_pct(overall, 0, lang), fdr=fmt_num(self.fdr, 2, lang),
            list="; ".join(parts) if parts else t("summary_none", lang)))

    def weighted_headline(self) -> bool:
        """True when stage 02 weighted to official margins (then both figures are headline)."""
        w = self.tables.get("weighting", pd.DataFrame())
        if w.empty or not _true(w["used"].iloc[0]):
            return False
        return str(w.get("role", pd.Series([""])).iloc[0]) == "headline" or str(w["headline"].iloc[0]).startswith("weighted")

    def ranking_figure(self, top: int = 10):
        items = self.tables.get("items", pd.DataFrame())
        if items.empty:
            return None
        d = items[items["n"].notna() & items["top2_share"].notna()]
        if d.empty:
            return None                  # every item below the smallest publishable group
        d = d.sort_values("rank").head(top).iloc[::-1]
        labels = [_wrap(self.cb.variable_label(i, self.lang)) for i in d["item"]]
        return _interval_plot(labels, d["top2_share"] * 100, d["top2_ci_low"] * 100, d["top2_ci_high"] * 100,
                              [f"n = {int(n)}" for n in d["n"]], t("ranking_title", self.lang),
                              t("top2_axis", self.lang))

    def ranking_by(self, var: str) -> pd.DataFrame | None:
        """The activities ranked within each group of `var` (columns `var`, item, group_n, n,
        top2_share, rank, suppressed), or None when no table of stage 02 covers `var`.

        Stage 02's ranking_by_group.csv when it is by `var`; otherwise (stage 02 ranks only the
        main grouping, e.g. for the district) built here from residuals.csv, which holds, for
        every tested group, each activity's n and favourable share (the same shares
        ranking_by_group has for the main grouping). Groups below min_cell are left out (their
        codes are named by `small_groups_sentence`), an activity rated by fewer than min_cell in
        a group is suppressed, ranks follow the favourable share with ties in the form's order
        (stage 02 breaks ties by the mean, which residuals.csv does not hold)."""
        rbg = self.tables.get("ranking_by_group", pd.DataFrame())
        if not rbg.empty and var in rbg.columns:
            return rbg if "suppressed" in rbg else rbg.assign(suppressed=False)
        res = self.tables.get("residuals", pd.DataFrame())
        if res.empty or not {"grouping", "outcome", "level", "n", "top2_share"} <= set(res):
            return None
        items = list(self.cb.likert_items)
        d = res[(res["grouping"] == var) & res["outcome"].isin(items)]
        if "outcome_type" in d:
            d = d[d["outcome_type"] == "item"]
        d = d.drop_duplicates(["outcome", "level"])
        if d.empty:
            return None
        prof = self.tables.get("profile", pd.DataFrame())
        sizes = {}
        if not prof.empty:
            rows = prof[prof["variable"] == var]
            sizes = dict(zip(rows["level"].astype(str), pd.to_numeric(rows["n"], errors="coerce")))
        order = {item: i for i, item in enumerate(items)}
        frames = []
        for level, g in d.groupby(d["level"].astype(str), sort=False):
            n = pd.to_numeric(g["n"], errors="coerce").to_numpy(dtype=float)
            group_n = sizes.get(level)
            if group_n is None or pd.isna(group_n):      # a merged group: not in profile.csv
                group_n = pd.Series(n).max()
            if pd.isna(group_n) or group_n < self.min_cell:
                continue
            small = pd.isna(n) | (n < self.min_cell)
            block = pd.DataFrame({var: level, "item": g["outcome"].to_numpy(), "group_n": int(group_n),
                                  "n": pd.array(pd.Series(n).where(~small).round(), dtype="Int64"),
                                  "top2_share": pd.to_numeric(g["top2_share"], errors="coerce").where(~small).to_numpy(),
                                  "suppressed": small})
            ranked = block[block["top2_share"].notna()].assign(_o=lambda b: b["item"].map(order))
            ranked = ranked.sort_values(["top2_share", "_o"], ascending=[False, True])
            block["rank"] = pd.array(pd.Series(range(1, len(ranked) + 1), index=ranked.index)
                                     .reindex(block.index), dtype="Int64")
            frames.append(block)
        return pd.concat(frames, ignore_index=True) if frames else None

    def small_groups_sentence(self, var: str, table: pd.DataFrame | None) -> str | None:
        """One sentence naming the groups of `var` that `table` does not show on their own:
        merged (the codebook's merge), left out below min_cell, or not compared (options the
        codebook excludes from tests, when the ranking comes from the tests' residuals)."""
        v = self.cb.variables.get(var)
        if v is None or v.type != "single" or table is None:
            return None
        lang, q = self.lang, ("„", "”") if self.lang == "lv" else ("'", "'")
        shown = set(table[var].astype(str))
        from_tests = var not in self.tables.get("ranking_by_group", pd.DataFrame()).columns

        def names(codes):
            return ", ".join(f"{q[0]}{group_label(var, c, self.cb, lang)}{q[1]}" for c in codes)

        parts, merged_members = [], set()
        for mcode, spec in v.merge.items():
            members = [str(c) for c in spec.get("codes", [])]
            if mcode in shown:
                merged_members |= set(members)
                parts.append(t("brief_filter_merged", lang, group=group_label(var, mcode, self.cb, lang),
                               members=names(members)))
        excluded = {o.code for o in v.options if getattr(o, "exclude_from_tests", False)} if from_tests else set()
        left = [c for c in v.codes if c not in shown and c not in merged_members]
        small = [c for c in left if c not in excluded]
        if small:
            parts.insert(0, t("brief_filter_omitted", lang, groups=names(small), min_cell=self.min_cell))
        if [c for c in left if c in excluded]:
            parts.append(t("brief_filter_not_compared", lang, groups=names([c for c in left if c in excluded])))
        if not parts:
            return None
        from .report import grouping_label

        return t("brief_filter_small", lang, grouping=grouping_label(self.cb, var, lang), list="; ".join(parts))

    def ranking_groups(self, top: int = 5) -> str:
        lang = self.lang
        if not self.cb.role_var("grouping"):
            return _h(3, "ranking_groups", lang) + _p(t("summary_skipped_grouping", lang))
        missing = self._missing("ranking_by_group")
        if missing:
            return _h(3, "ranking_groups", lang) + missing
        d = self.tables["ranking_by_group"]
        d = d[d["rank"].notna() & (d["rank"] <= top) & ~d.get("suppressed", False).astype(bool)]
        gvar = self.cb.role_var("grouping")
        if not gvar or gvar not in d:
            return _h(3, "ranking_groups", lang) + _p(t("summary_skipped_grouping", lang))
        order = list(self.cb.variables[gvar].codes) + [c for c in self.cb.variables[gvar].merge]
        parts = [_h(3, "ranking_groups", lang), _p(t("ranking_groups_text", lang))]
        for code in order:
            g = d[d[gvar].astype(str) == str(code)].sort_values("rank")
            if g.empty:
                continue
            parts.append(f"<h4>{html.escape(group_label(gvar, code, self.cb, lang))} "
                         f"(n = {int(g['group_n'].iloc[0])})</h4>")
            parts.append(table_html(pd.DataFrame({
                t("rank", lang): g["rank"].map(fmt_int),
                t("activity", lang): [self.cb.variable_label(i, lang) for i in g["item"]],
                t("top2", lang): [fmt_pct(v, 0, lang) for v in g["top2_share"]],
                t("ci", lang): [fmt_ci(a, b, 0, lang) for a, b in zip(g["top2_ci_low"], g["top2_ci_high"])],
                t("n", lang): g["n"].map(fmt_int),
            })))
        return "".join(parts)

    def differences(self, limit: int = 15) -> str:
        lang = self.lang
        missing = self._missing("tests")
        if missing:
            return _h(2, "differences", lang) + missing
        fam = self.tables.get("test_family", pd.DataFrame())
        row = fam[fam["family"] == "group_tests"] if not fam.empty else fam
        m = int(row["m"].iloc[0]) if len(row) else int(self.tables["tests"]["p"].notna().sum())
        pairs = (int(row["comparisons"].iloc[0]) if len(row) and "comparisons" in row
                 else self.tables["tests"][["outcome", "grouping"]].drop_duplicates().shape[0])
        allf = self.tables.get("findings", pd.DataFrame())
        f = self.findings()
        sig = self.significant()
        small = max(0, len(sig) - len(allf)) + (len(allf) - len(f))
        head = _h(2, "differences", lang) + _p(t("summary_differences_text_fav", lang, pairs=pairs, m=m,
                                                 fdr=fmt_num(self.fdr, 2, lang), min_n=self.min_finding_n,
                                                 small=small))
        if f.empty:
            return head + _p(t("none_found", lang))
        shown = f[f["contrast_rank"] == 1].head(limit)
        yes, no = t("summary_yes", lang), t("summary_no", lang)
        table = pd.DataFrame({
            t("finding", lang): [t("summary_finding_short", lang, outcome=outcome_label(r["outcome"], self.cb, lang),
                                   high=self._group(r["grouping"], r["high_group"]),
                                   low=self._group(r["grouping"], r["low_group"]), grouping=self._grouping(r["grouping"]))
                                 for _, r in shown.iterrows()],
            t("n", lang): [f"{int(a)} / {int(b)}" for a, b in zip(shown["n_high"], shown["n_low"])],
            t("summary_effect_r", lang): [f"{fmt_num(v, 2, lang)} ({fmt_ci(a, b, 2, lang, pct=False)})"
                                          for v, a, b in zip(shown["effect_size"], shown["effect_ci_low"],
                                                             shown["effect_ci_high"])],
            t("p_adj", lang): [fmt_p(p, lang) for p in shown["pair_p_adj"]],
            t("summary_survives", lang): ["—" if pd.isna(s) else (yes if str(s).lower() in ("true", "1") else no)
                                          for s in shown["survives_adjustment"]],
        })
        more = len(f) - len(shown)
        tail = _p(t("summary_more", lang, more=more)) if more > 0 else ""
        return head + table_html(table) + tail + self.po_check()

    def po_check(self) -> str:
        """One sentence on the proportional-odds assumption of the ordinal models (po_check.csv)."""
        lang = self.lang
        po = self.tables.get("po_check", pd.DataFrame())
        if po.empty:
            return ""
        tested = po[po["p"].notna()]
        bad = tested[tested["violates"].map(_true)]
        names = ", ".join(outcome_label(o, self.cb, lang) for o in bad["outcome"]) or t("summary_none", lang)
        return _p(t("summary_po_check", lang, m=len(tested), na=len(po) - len(tested), k=len(bad), list=names))

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
        # the index wording follows the codebook's scale ("mean, 0–14"), not a fixed 1–5
        ranges = sorted({self.cb.index_scale(s).range_text for s in d["sector"] if s in self.cb.sectors}
                        or {self.cb.index_scale().range_text})
        table = pd.DataFrame({
            t("sector", lang): [self.cb.sector_title(s, lang) for s in d["sector"]],
            t("sector_index", lang, range=", ".join(ranges)): [fmt_num(v, 2, lang) for v in d["mean"]],
            t("ci", lang): [fmt_ci(a, b, 2, lang, pct=False) for a, b in zip(d["mean_ci_low"], d["mean_ci_high"])],
            t("alpha", lang): [fmt_num(v, 2, lang) for v in d["cronbach_alpha"]],
            t("n", lang): d["n"].map(fmt_int),
        })
        return _h(2, "sectors", lang) + _p(text) + table_html(table)

    def satisfaction(self) -> str:
        lang = self.lang
        if self.cb.role_var("satisfaction") and not self.cb.role_var("recommendation"):
            return self._satisfaction_only()
        for role in ("satisfaction", "recommendation"):
            if not self.cb.role_var(role):
                return _h(2, "summary_satisfaction", lang) + _p(t(f"summary_skipped_{role}", lang))
        missing = self._missing("nps", "satisfaction")
        if missing:
            return _h(2, "summary_satisfaction", lang) + missing
        sat = self.tables["satisfaction"]
        nps = self.tables["nps"]
        s_all = sat[sat["grouping"] == "all"].iloc[0]
        n_all = nps[nps["grouping"] == "all"].iloc[0]
        text = t("summary_nps_text", lang, mean=fmt_num(s_all["mean"], 1, lang),
                 ci=fmt_ci(s_all["ci_low"], s_all["ci_high"], 1, lang, pct=False), n=fmt_int(s_all["n"]),
                 nps=fmt_num(n_all["nps"], 0, lang),
                 nps_ci=fmt_ci(n_all["ci_low"], n_all["ci_high"], 0, lang, pct=False), nps_n=fmt_int(n_all["n"]))
        out = _h(2, "summary_satisfaction", lang) + _p(text)
        return out + self._satisfaction_drivers()

    def _satisfaction_drivers(self) -> str:
        """The sectors whose index goes with higher satisfaction (adjusted p below fdr), or ''."""
        lang = self.lang
        model = self.tables.get("satisfaction_model", pd.DataFrame())
        if model.empty:
            return ""
        sig = model[model["p_adj"] < self.fdr].sort_values("odds_ratio", ascending=False)
        if not len(sig):
            return ""
        listed = "; ".join(f"{self.cb.sector_title(r.sector, lang)} "
                           f"(OR {fmt_num(r.odds_ratio, 2, lang)}, {fmt_ci(r.ci_low, r.ci_high, 2, lang, pct=False)})"
                           for r in sig.itertuples())
        return _p(t("summary_satisfaction_drivers", lang, list=listed))

    def _satisfaction_only(self) -> str:
        """The satisfaction question without a recommendation (NPS) question: its mean and the
        sectors that go with it, never left out because the other question is missing."""
        lang, var = self.lang, self.cb.role_var("satisfaction")
        missing = self._missing("satisfaction")
        if missing:
            return _h(2, "summary_satisfaction_only_title", lang) + missing
        sat = self.tables["satisfaction"]
        row = sat[sat["grouping"] == "all"].iloc[0]
        rng = self.cb.variables[var].range or (0, 10)
        text = t("summary_satisfaction_only_text", lang, question=self.cb.variable_label(var, lang),
                 mean=fmt_num(row["mean"], 1, lang), low=rng[0], high=rng[1],
                 ci=fmt_ci(row["ci_low"], row["ci_high"], 1, lang, pct=False), n=fmt_int(row["n"]))
        out = _h(2, "summary_satisfaction_only_title", lang) + _p(text)
        return out + self._satisfaction_drivers()

    def nps_figure(self):
        nps = self.tables.get("nps", pd.DataFrame())
        if nps.empty:
            return None
        g = self.cb.role_var("grouping")
        d = nps[(nps["grouping"] == g) & ~nps["suppressed"].astype(bool) & nps["nps"].notna() & nps["n"].notna()]
        if d.empty:
            return None
        d = d.iloc[::-1]
        labels = [group_label(g, c, self.cb, self.lang) for c in d["level"]]
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
        counts = th.groupby("theme", as_index=False)["n"].sum()
        counts = counts[counts["n"] > 0]            # a theme no text raised is never a finding
        return counts.sort_values(["n", "theme"], ascending=[False, True])

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
        flow = self.tables.get("flow", pd.DataFrame())
        # no mailbox among the inputs: the proposals are the survey's, never "0 by e-mail"
        only = "survey_only" if not n_email and "source" in flow and not (flow["source"] == "email").any() else None
        uncoded = th.loc[th["theme"] == "(none)", "share"] if "share" in th else pd.Series(dtype=float)
        if not self.theme_names and th[th["theme"] != "(none)"].empty:
            # no theme dictionary: the texts were not coded, so nothing is said about themes
            return _h(2, "proposals", lang) + _p(t("summary_proposals_no_dictionary", lang, variant=only,
                                                    n=n_survey + n_email, survey=n_survey, email=n_email))
        parts = [_h(2, "proposals", lang),
                 _p(t("proposals_text", lang, variant=only, n=n_survey + n_email, survey=n_survey, email=n_email,
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
        if w.empty or not _true(w["used"].iloc[0]):
            weighting = t("summary_weighting_none", lang)
        elif self.weighted_headline():
            weighting = t("summary_weighting_used", lang, source=w["source"].iloc[0], n=int(w["n_in_scope"].iloc[0]),
                          scope=self._scope_label(), neff=fmt_num(w["kish_effective_n"].iloc[0], 0, lang))
        else:
            # the margins by what they are, never by their file's name
            weighting = t("summary_weighting_sensitivity_only_synthetic" if self.synthetic
                          else "summary_weighting_sensitivity_only", lang)
        body = "".join(f"<li>{item}</li>" for item in self._method_items(weighting))
        mix = self.tables.get("language_mix", pd.DataFrame())
        if len(mix) and "language" in mix:  # texts in a language without a lemmatiser: stage 03's caveat
            from .proposals import surface_caveat

            caveat = surface_caveat(mix["language"].astype(str), lang)
            if caveat:
                body += f"<li>{html.escape(caveat)}</li>"
        return _h(2, "methods", lang) + f"<ul>{body}</ul>"


    def _method_items(self, weighting: str) -> list[str]:
        """The methods as list items, from what this run did: the quality rules as applied
        (excluded, flagged, switched off), the NPS only with a recommendation question, the
        model only with predictors, the sector tests only with two sectors or more, and the
        text tools only for the languages and dictionary the texts met."""
        lang, esc = self.lang, html.escape
        items = [t("summary_m_sample", lang, weighting=esc(weighting))]
        rules = self.tables.get("rules", pd.DataFrame())
        quality = []
        if not rules.empty:
            def names(action: str) -> str:
                picked = rules.loc[rules["action"].astype(str) == action, "rule"].astype(str)
                return ", ".join(esc(t(f"clean_rule_{r}", lang)) for r in picked if f"clean_rule_{r}" in TEXT)
            for action, key in (("exclude", "summary_m_quality_excluded"), ("flag", "summary_m_quality_flagged"),
                                ("switched off", "summary_m_quality_off")):
                if names(action):
                    quality.append(t(key, lang, rules=names(action)))
        quality.append(t("summary_m_quality_rows", lang))
        items.append(t("summary_m_quality", lang, text=" ".join(quality)))
        has_nps = not self.tables.get("nps", pd.DataFrame()).empty
        items.append(t("summary_m_intervals_nps" if has_nps else "summary_m_intervals", lang))
        tests = [t("summary_m_tests", lang)]
        if self.cb.role_vars("model_predictors"):
            tests.append(t("summary_m_tests_model", lang))
        if len(self.cb.sectors) > 1:
            tests.append(t("summary_m_tests_sectors", lang))
        items.append(t("summary_m_tests_heading", lang, text=" ".join(tests)))
        items.append(t("summary_m_significant", lang, fdr=esc(t("summary_fdr", lang, fdr=fmt_num(self.fdr, 2, lang)))))
        mix = self.tables.get("language_mix", pd.DataFrame())
        if len(mix) and "language" in mix and "n" in mix:
            from .proposals import language_name
            from .text import LEMMATISED

            present = [c for c in sorted(set(mix.loc[mix["n"] > 0, "language"].astype(str))) if c in LEMMATISED]
            tools = [t("summary_m_tool_language", lang)]
            if present:
                tools.append(t("summary_m_tool_lemmas", lang,
                               languages=", ".join(esc(language_name(c, lang)) for c in present)))
            if self.theme_names:
                tools.append(t("summary_m_tool_dictionary", lang))
            items.append(t("summary_m_proposals", lang, tools=", ".join(tools)))
        return items


# --- helpers ---------------------------------------------------------------------------------

def _true(v) -> bool:
    return str(v).strip().lower() in ("true", "1", "yes")


def _rank_shift(items: pd.DataFrame, a: str, b: str, top: int = 10) -> tuple[int, str, int]:
    """Largest rank change between two rankings, its item, and how many of a's top `top` stay."""
    d = items[items[a].notna() & items[b].notna()]
    if d.empty:
        return 0, "", 0
    shift = (d[a].astype(int) - d[b].astype(int)).abs()
    i = shift.idxmax()
    stay = len(set(d.loc[d[a] <= top, "item"]) & set(d.loc[d[b] <= top, "item"]))
    return int(shift.max()), str(d.loc[i, "item"]), stay


def _effect(label, lang):
    return t(f"effect_{label}", lang) if label in EFFECT_ORDER else "—"


def _unneutralise(text: str) -> str:
    """CSV cells carry a leading quote against formula injection; a quote in HTML needs none."""
    text = str(text)
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@") else text


def _wrap(text: str, width: int = 55) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _theme_names(path: str | None, lang: str, sectors: list[str] | None = None) -> dict[str, str]:
    """Theme code -> name in the report language, as the theme dictionary names them
    (themes.Theme.name: the language's name, else the Latvian one).

    Only the names are read: stage 03 validated the whole dictionary (patterns, lemmas, phrases)
    and compiling it again here took most of this stage's time (its phrases are tokenised and
    lemmatised). A file whose themes or names are not shaped as expected is read by
    themes.load_dictionary (validated against the survey's own sectors), which names the fault."""
    if not path or not paths.resolve(path).exists():
        return {}
    names = _theme_names_only(paths.resolve(path), lang)
    if names is not None:
        return names
    from .themes import load_dictionary

    dictionary = load_dictionary(paths.resolve(path), sectors=sectors or None)
    return {code: dictionary.name(code, lang) for code in dictionary.codes}


def _theme_names_only(path, lang: str) -> dict[str, str] | None:
    """{code: name} from a theme dictionary's `themes: sector -> code -> {name: {lv, en}}`; None
    when the file is not shaped so (no themes, a theme without a Latvian name, a code twice)."""
    import yaml

    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    blocks = raw.get("themes") if isinstance(raw, dict) else None
    if not isinstance(blocks, dict) or not blocks:
        return None
    out: dict[str, str] = {}
    for block in blocks.values():
        if not isinstance(block, dict) or not block:
            return None
        for code, spec in block.items():
            names = spec.get("name") if isinstance(spec, dict) else None
            if (not isinstance(code, str) or code in out or not isinstance(names, dict)
                    or not isinstance(names.get("lv"), str) or not names["lv"].strip()):
                return None
            names = {k: str(v) for k, v in names.items()}
            out[code] = names.get(lang) or names["lv"]
    return out


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
