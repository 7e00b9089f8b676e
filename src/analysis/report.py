"""Words and numbers for stakeholder reports: one translation table (lv, en), number formats,
plain-language sentences for test results, and safe HTML for respondents' quotes.

Every heading, label, axis title and table header of the summary comes from TEXT, so a
report in English is `report_lang: en`, not a second notebook.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .privacy import escape_html

TEXT: dict[str, dict[str, str]] = {
    # headings
    "title": {"lv": "Iedzīvotāju aptaujas kopsavilkums", "en": "Summary of the resident consultation"},
    "key_findings": {"lv": "Galvenie secinājumi", "en": "Key findings"},
    "who": {"lv": "Kas atbildēja", "en": "Who answered"},
    "ranking": {"lv": "Kuras aktivitātes iedzīvotāji uzskata par nozīmīgākajām",
                "en": "Which activities respondents consider most important"},
    "ranking_groups": {"lv": "Nozīmīgākās aktivitātes katrā mērķa grupā",
                       "en": "The most important activities in each target group"},
    "differences": {"lv": "Kur grupu viedokļi atšķiras", "en": "Where groups differ"},
    "sectors": {"lv": "Nozares salīdzinājumā", "en": "Sectors compared"},
    "satisfaction": {"lv": "Apmierinātība ar dzīvi Liepājā un ieteikšana",
                     "en": "Satisfaction with life in Liepāja and recommendation"},
    "proposals": {"lv": "Iedzīvotāju priekšlikumi", "en": "Residents' proposals"},
    "methods": {"lv": "Metodes un ierobežojumi", "en": "Methods and limitations"},
    # table headers and axes
    "group": {"lv": "Grupa", "en": "Group"},
    "variable": {"lv": "Pazīme", "en": "Characteristic"},
    "n": {"lv": "Respondenti", "en": "Respondents"},
    "share": {"lv": "Īpatsvars", "en": "Share"},
    "population_share": {"lv": "Īpatsvars iedzīvotājos", "en": "Share of population"},
    "activity": {"lv": "Aktivitāte", "en": "Activity"},
    "sector": {"lv": "Nozare", "en": "Sector"},
    "rank": {"lv": "Vieta", "en": "Rank"},
    "top2": {"lv": "Nozīmīga vai ļoti nozīmīga", "en": "Important or very important"},
    "top2_axis": {"lv": "Atbildēja „ļoti” vai „drīzāk nozīmīga” (%, ar 95 % intervālu)",
                  "en": "Answered 'very' or 'rather important' (%, with 95 % interval)"},
    "ci": {"lv": "95 % ticamības intervāls", "en": "95 % confidence interval"},
    "theme": {"lv": "Tēma", "en": "Theme"},
    "mentions": {"lv": "Priekšlikumi", "en": "Proposals"},
    "quotes": {"lv": "Piemēri no priekšlikumiem", "en": "Examples from the proposals"},
    "nps": {"lv": "Ieteikšanas indekss (NPS)", "en": "Net Promoter Score (NPS)"},
    "mean_satisfaction": {"lv": "Vidējā apmierinātība (1–10)", "en": "Mean satisfaction (1–10)"},
    "finding": {"lv": "Atradums", "en": "Finding"},
    "effect": {"lv": "Ietekmes lielums", "en": "Effect size"},
    "p_adj": {"lv": "Koriģētā p vērtība", "en": "Adjusted p-value"},
    "none_found": {"lv": "Pēc korekcijas vairākkārtējai testēšanai nozīmīgu atšķirību nav.",
                   "en": "No difference remains significant after correction for multiple testing."},
    # effect size labels
    "effect_negligible": {"lv": "niecīga", "en": "negligible"},
    "effect_small": {"lv": "neliela", "en": "small"},
    "effect_medium": {"lv": "vidēja", "en": "medium"},
    "effect_large": {"lv": "liela", "en": "large"},
    # sentences
    "difference": {
        "lv": "{outcome}: vērtējums atšķiras pēc pazīmes „{grouping}” — visaugstāk vērtē grupa „{high}”, "
              "viszemāk — „{low}” ({effect} atšķirība; koriģētā p = {p}).",
        "en": "{outcome}: ratings differ by {grouping} — highest in '{high}', lowest in '{low}' "
              "({effect} difference; adjusted p = {p})."},
    "top_activity": {
        "lv": "Visbiežāk par nozīmīgu atzīta aktivitāte „{item}” ({share} respondentu; 95 % intervāls {ci}).",
        "en": "The activity most often rated important is '{item}' ({share} of respondents; 95 % interval {ci})."},
    "answered": {"lv": "Aptaujā analizētas {n} atbildes un {m} priekšlikumi.",
                 "en": "{n} answers and {m} proposals were analysed."},
}

EFFECT_KEYS = {"negligible", "small", "medium", "large"}


def t(key: str, lang: str = "lv", **values: Any) -> str:
    """The text for `key` in `lang` (falling back to Latvian), formatted with `values`."""
    entry = TEXT[key]
    return entry.get(lang, entry["lv"]).format(**values) if values else entry.get(lang, entry["lv"])


def effect_word(label: str | None, lang: str = "lv") -> str:
    return t(f"effect_{label}", lang) if label in EFFECT_KEYS else "—"


def fmt_num(x: Any, digits: int = 1, lang: str = "lv") -> str:
    """A number with the report language's decimal mark (Latvian uses a comma)."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "—"
    s = f"{float(x):,.{digits}f}".replace(",", "\u00a0")
    return s.replace(".", ",") if lang == "lv" else s


def fmt_pct(share: Any, digits: int = 0, lang: str = "lv") -> str:
    """A share (0..1) as a percentage: Latvian writes '45 %' with a non-breaking space."""
    if share is None or pd.isna(share):
        return "—"
    return f"{fmt_num(100 * float(share), digits, lang)}\u00a0%"


def fmt_ci(low: Any, high: Any, digits: int = 0, lang: str = "lv", pct: bool = True) -> str:
    f = (lambda v: fmt_pct(v, digits, lang)) if pct else (lambda v: fmt_num(v, digits, lang))
    return f"{f(low)}–{f(high)}"


def fmt_p(p: Any, lang: str = "lv") -> str:
    if p is None or pd.isna(p):
        return "—"
    if p < 0.001:
        return "< 0,001" if lang == "lv" else "< 0.001"
    return fmt_num(p, 3, lang)


def quote_html(text: str) -> str:
    """A respondent's (already redacted) words, escaped: markup shows as text, runs nothing."""
    return f'<blockquote class="quote">{escape_html(str(text))}</blockquote>'


def table_html(frame: pd.DataFrame) -> str:
    """A table for the report; every cell escaped (pandas escapes by default; kept explicit)."""
    return frame.to_html(index=False, escape=True, na_rep="—", border=0, classes="dataframe")


def difference_sentence(row: pd.Series, codebook, lang: str = "lv") -> str:
    """One significant group difference from tests.csv, in plain language with its size."""
    outcome = outcome_label(row["outcome"], codebook, lang)
    grouping = codebook.variable_label(row["grouping"], lang) if row["grouping"] in codebook.variables else row["grouping"]
    return t("difference", lang, outcome=outcome, grouping=grouping,
             high=group_label(row["grouping"], row.get("highest_group"), codebook, lang),
             low=group_label(row["grouping"], row.get("lowest_group"), codebook, lang),
             effect=effect_word(row.get("effect_label"), lang), p=fmt_p(row.get("p_adj"), lang))


def outcome_label(outcome: str, codebook, lang: str = "lv") -> str:
    """An item's statement, or 'Sector index: <title>' for a sector index outcome."""
    if outcome in codebook.variables:
        return codebook.variable_label(outcome, lang)
    sector = outcome.removeprefix("sector_").removeprefix("index_").removesuffix("_index")
    if sector in codebook.sectors:
        prefix = {"lv": "Nozares indekss", "en": "Sector index"}.get(lang, "Sector index")
        return f"{prefix}: {codebook.sector_title(sector, lang)}"
    return outcome


def group_label(grouping: str, code: Any, codebook, lang: str = "lv") -> str:
    """A group's label from the codebook (merged groups and multi-choice indicators too)."""
    if code is None or pd.isna(code):
        return "—"
    code = str(code)
    base = grouping.split("__")[0]
    if base in codebook.variables:
        var = codebook.variables[base]
        if "__" in grouping:                       # an indicator such as info_language__ru
            opt = grouping.split("__", 1)[1]
            yes = {"lv": "jā", "en": "yes"}.get(lang, "yes")
            no = {"lv": "nē", "en": "no"}.get(lang, "no")
            name = codebook.label_of(base, opt, lang)
            return f"{name}: {yes if code.lower() in ('true', '1', 'yes') else no}"
        try:
            return codebook.label_of(base, code, lang)
        except KeyError:
            if var.type == "single":
                return code
    return code
