"""Words and numbers for stakeholder reports: one translation table (lv, en), number formats,
plain-language sentences for test results, and safe HTML for respondents' quotes.

Every heading, label, axis title and table header comes from the text tables in
``texts/<lang>.yaml`` (loaded into TEXT), so a report in English is `report_lang: en`,
not a second notebook, and a new language is a new file.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .privacy import escape_html

TEXTS_DIR = Path(__file__).parent / "texts"


def _load_texts(folder: Path = TEXTS_DIR) -> dict[str, dict[str, str]]:
    """key -> {language -> text}, from one file per language (``texts/<lang>.yaml``)."""
    table: dict[str, dict[str, str]] = {}
    for f in sorted(folder.glob("*.yaml")):
        # libyaml when present (same values, ten times faster: these tables load in every stage)
        loaded = yaml.load(f.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for key, text in (loaded or {}).items():
            table.setdefault(str(key), {})[f.stem] = str(text)
    return table


# Every heading, label and sentence of the reports, per language. Adding a language is
# adding a file; `report_lang` is validated against `languages()`.
TEXT: dict[str, dict[str, str]] = _load_texts()


def languages() -> list[str]:
    """The report languages that have a text table."""
    return sorted(f.stem for f in TEXTS_DIR.glob("*.yaml"))


EFFECT_KEYS = {"negligible", "small", "medium", "large"}


def t(key: str, lang: str = "lv", variant: str | None = None, **values: Any) -> str:
    """The text for `key` in `lang` (falling back to Latvian), formatted with `values`.

    `variant` picks a wording made for one kind of survey, e.g. the rating scale's meaning
    (``importance``, ``agreement``, …; see `scale_key`): ``key@variant`` when the tables have
    it, else ``key``."""
    variant = _VARIANT if variant is None else variant
    entry = TEXT[key if not variant or f"{key}@{variant}" not in TEXT else f"{key}@{variant}"]
    return entry.get(lang, entry["lv"]).format(**values) if values else entry.get(lang, entry["lv"])


_VARIANT: str | None = None      # the wording of this process's report (see use_codebook)


def use_codebook(codebook) -> None:
    """Word this process's report for `codebook`'s rating scale (a notebook calls it once after
    loading its codebook; each notebook is its own process)."""
    global _VARIANT
    _VARIANT = scale_variant(codebook)


@contextlib.contextmanager
def wording(codebook):
    """The report's wording for `codebook` inside a ``with`` block (library code that renders
    in a long-lived process, e.g. the workbook), restored afterwards."""
    global _VARIANT
    before, _VARIANT = _VARIANT, scale_variant(codebook)
    try:
        yield
    finally:
        _VARIANT = before


def scale_variant(codebook) -> str | None:
    """Which wording the report's rating texts take, from the codebook's rating scale.

    The texts are written for an importance scale ("rated important", "activities"); a scale
    that means something else (agreement, satisfaction, frequency, other) reads them in the
    neutral ``@scale`` wording ("answered favourably", "statements"), so the report never
    calls an agreement "importance". None for an importance scale or a survey without one."""
    items = getattr(codebook, "likert_items", None)
    if not items:
        return None
    meaning = codebook.index_scale().meaning
    return None if meaning == "importance" else "scale"


def effect_word(label: str | None, lang: str = "lv") -> str:
    return t(f"effect_{label}", lang) if label in EFFECT_KEYS else "—"


def fmt_int(x: Any) -> str:
    """A count or rank as text; "—" where it is missing (a suppressed or untestable row)."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "—"
    return str(int(x))


def fmt_num(x: Any, digits: int = 1, lang: str = "lv") -> str:
    """A number with the report language's decimal mark (Latvian uses a comma)."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "—"
    s = f"{float(x):,.{digits}f}".replace(",", "\u00a0")
    if set(s) <= set("-0.\u00a0"):          # rounds to zero: no "-0"
        s = s.lstrip("-")
    s = s.replace("-", "\u2212")                # a true minus sign, not a hyphen
    return s.replace(".", ",") if lang == "lv" else s


def fmt_pct(share: Any, digits: int = 0, lang: str = "lv") -> str:
    """A share (0..1) as a percentage: Latvian writes '45 %' with a non-breaking space."""
    if share is None or pd.isna(share):
        return "—"
    return f"{fmt_num(100 * float(share), digits, lang)}\u00a0%"


NOUNS = {"proposal": {"lv": ("priekšlikums", "priekšlikumi"), "en": ("proposal", "proposals")}}


def count_noun(n: int, noun: str, lang: str = "lv") -> str:
    """'21 priekšlikums', '235 priekšlikumi': Latvian counts ending in 1 (not 11) take the singular."""
    one, many = NOUNS[noun].get(lang, NOUNS[noun]["en"])
    n = int(n)
    singular = (n % 10 == 1 and n % 100 != 11) if lang == "lv" else n == 1
    return f"{n} {one if singular else many}"


def fmt_p_relation(p: Any, lang: str = "lv") -> str:
    """'= 0,012' or '< 0,001', to follow 'p' in a sentence."""
    text = fmt_p(p, lang)
    return text if text.startswith("<") or text == "—" else f"= {text}"


def fmt_ci(low: Any, high: Any, digits: int = 0, lang: str = "lv", pct: bool = True) -> str:
    """'41 %–50 %'; with a negative bound '−24 līdz −14' (a dash between minus signs misreads)."""
    f = (lambda v: fmt_pct(v, digits, lang)) if pct else (lambda v: fmt_num(v, digits, lang))
    a, b = f(low), f(high)
    if a.startswith("\u2212") or b.startswith("\u2212"):
        return t("report_range", lang, low=a, high=b)
    return f"{a}–{b}"


def fmt_date(day, lang: str = "lv") -> str:
    """A calendar date: Latvian '01.12.2026.', otherwise ISO '2026-12-01'."""
    return f"{day.day:02d}.{day.month:02d}.{day.year}." if lang == "lv" else day.isoformat()


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
             effect=effect_word(row.get("effect_label"), lang), p=fmt_p_relation(row.get("p_adj"), lang))


def _likert_t(lang: str, key: str) -> str:
    return t(f"likert_{key}", lang)


def grouping_label(cb, grouping: str, lang: str = "lv") -> str:
    if "__" in grouping:
        var, code = grouping.split("__", 1)
        return f"{cb.variable_label(var, lang)}: {cb.label_of(var, code, lang)}"
    if grouping in cb.variables:
        return cb.variable_label(grouping, lang)
    if grouping == "form_language":
        return _likert_t(lang, "form_language")
    return grouping


def level_label(cb, grouping: str, level: str, lang: str = "lv") -> str:
    """Display label of a group (a level of a grouping) in figures and the workbook: codebook
    option or merge label; yes/no for language indicators."""
    if level == "all":
        return _likert_t(lang, "all")
    if "__" in grouping:
        var, code = grouping.split("__", 1)
        return f"{cb.label_of(var, code, lang)}: {_likert_t(lang, level)}"
    if grouping == "form_language":
        if f"likert_lang_{level}" in TEXT:
            return _likert_t(lang, f"lang_{level}")
        return t(f"text_lang_{level}", lang) if f"text_lang_{level}" in TEXT else level   # any ISO code (et, lt…)
    return cb.label_of(grouping, level, lang)


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
