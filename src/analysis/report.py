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
    "top2_weighted": {"lv": "Svērts (95 % intervāls)", "en": "Weighted (95 % interval)"},
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
              "viszemāk — „{low}” ({effect} atšķirība; koriģētā p {p}).",
        "en": "{outcome}: ratings differ by {grouping} — highest in '{high}', lowest in '{low}' "
              "({effect} difference; adjusted p {p})."},
    "top_activity": {
        "lv": "Visbiežāk par nozīmīgu atzīta aktivitāte „{item}” ({share} respondentu; 95 % intervāls {ci}).",
        "en": "The activity most often rated important is '{item}' ({share} of respondents; 95 % interval {ci})."},
    "answered": {"lv": "Aptaujā analizētas {n} atbildes un {m} priekšlikumi.",
                 "en": "{n} answers and {m} proposals were analysed."},
}

# --- the summary report (stage 04) ---
TEXT.update({
    "intro": {
        "lv": "Šajā pārskatā apkopotas Liepājas iedzīvotāju, topošo iedzīvotāju, viesu un investoru "
              "atbildes par pilsētas mārketinga un komunikācijas plāna 2022–2027 aktivitātēm. "
              "Katram skaitlim norādīts respondentu skaits un 95 % ticamības intervāls.",
        "en": "This report summarises how residents, future residents, visitors and investors rated the "
              "activities of Liepāja's marketing and communication plan 2022–2027. Every figure comes "
              "with its number of respondents and a 95 % confidence interval."},
    "who_text": {
        "lv": "Analizēto aptaujas atbilžu skaits: {n} (kvalitātes pārbaudēs izslēgto atbilžu skaits: {q}); "
              "e-pasta vēstuļu skaits: {m}. Grupas, kurās mazāk par {min_cell} respondentiem, nav rādītas.",
        "en": "{n} survey answers were analysed ({q} were excluded by quality checks), plus {m} e-mails. "
              "Groups with fewer than {min_cell} respondents are not shown."},
    "ranking_text": {
        "lv": "Aktivitātes sakārtotas pēc tā, cik liela daļa respondentu tās vērtē kā „ļoti” vai „drīzāk nozīmīgas”. "
              "Ja divu aktivitāšu intervāli pārklājas, to secība nav droša.",
        "en": "Activities are ordered by the share of respondents rating them 'very' or 'rather important'. "
              "Where two intervals overlap, their order is not certain."},
    "ranking_groups_text": {
        "lv": "Piecas nozīmīgākās aktivitātes katrā mērķa grupā (vieta grupā, daļa un respondentu skaits).",
        "en": "The five most important activities in each target group (rank in the group, share and respondents)."},
    "differences_text": {
        "lv": "Pārbaudītas {m} atšķirības starp grupām (katra aktivitāte un nozare pret katru pazīmi). "
              "Šeit parādītas tās, kas saglabājas pēc Benjamini–Hochberg korekcijas (kļūdaini atklāto īpatsvars ≤ {fdr}) "
              "un nav niecīgas. Ietekmes lielums: epsilon² vai rangu biseriālā korelācija.",
        "en": "{m} differences between groups were tested (each activity and sector against each characteristic). "
              "Shown here are those that remain after Benjamini–Hochberg correction (false discovery rate ≤ {fdr}) "
              "and are not negligible. Effect size: epsilon² or rank-biserial correlation."},
    "sectors_text": {
        "lv": "Nozares atšķiras pēc vidējā vērtējuma (Frīdmena tests: χ² = {chi2}, p {p}; Kendala W = {w}, {label} saskaņa). "
              "Augstāk novērtētās nozares ir augšpusē.",
        "en": "Sectors differ in their mean rating (Friedman test: χ² = {chi2}, p {p}; Kendall's W = {w}, {label} agreement). "
              "Higher-rated sectors are at the top."},
    "sector_index": {"lv": "Nozares indekss (vidējais, 1–5)", "en": "Sector index (mean, 1–5)"},
    "alpha": {"lv": "Kronbaha alfa", "en": "Cronbach's alpha"},
    "nps_text": {
        "lv": "Ieteikšanas indekss = ieteicēju (9–10) daļa mīnus kritiķu (0–6) daļa, procentpunktos (no −100 līdz +100). "
              "Vidējā apmierinātība ar dzīvi Liepājā: {mean} no 10 (95 % intervāls {ci}; n = {n}). "
              "Ieteikšanas indekss: {nps} (95 % intervāls {nps_ci}; n = {nps_n}).",
        "en": "NPS = share of promoters (9–10) minus share of detractors (0–6), in points (−100 to +100). "
              "Mean satisfaction with life in Liepāja: {mean} out of 10 (95 % interval {ci}; n = {n}). "
              "NPS: {nps} (95 % interval {nps_ci}; n = {nps_n})."},
    "satisfaction_drivers": {
        "lv": "Ar apmierinātību visciešāk saistītās nozares (kārtas logistiskā regresija, izredžu attiecība uz 1 punktu nozares indeksā): {list}.",
        "en": "Sectors most closely associated with satisfaction (ordinal logistic regression, odds ratio per point of the sector index): {list}."},
    "proposals_text": {
        "lv": "Iesniegto priekšlikumu skaits: {n} (aptaujā — {survey}, e-pastā — {email}). Tie automātiski sadalīti tēmās pēc "
              "tēmu vārdnīcas; viens priekšlikums var attiekties uz vairākām tēmām. Ne ar vienu tēmu nav saistīti {uncoded} priekšlikumu.",
        "en": "Residents sent {n} proposals ({survey} in the survey, {email} by e-mail). They were coded into themes with a "
              "theme dictionary; a proposal can carry several themes. {uncoded} of proposals matched no theme."},
    "agreement_text": {
        "lv": "Automātiskās tēmu kodēšanas saskaņa ar cilvēka kodējumu: makro F1 = {f1}.",
        "en": "Agreement of the automatic theme coding with human coding: macro F1 = {f1}."},
    "agreement_synthetic": {
        "lv": " Sintētiskajos datos cilvēka kodējuma vietā izmantotas ģeneratorā ieliktās tēmas.",
        "en": " In synthetic data the generator's planted themes stand in for the human coding."},
    "methods_list": {
        "lv": "<li><b>Izlase.</b> Aptaujā piedalījās tie, kas paši to vēlējās (pašatlase); tā nav gadījumizlase, tāpēc rezultāti raksturo "
              "atbildētājus, nevis visus iedzīvotājus. {weighting}</li>"
              "<li><b>Kvalitātes pārbaudes.</b> Izslēgtas dubultās, pārāk ātri aizpildītās, tukšās un pēc termiņa iesniegtās atbildes; "
              "katra ievadrinda ir vai nu analizēta, vai izslēgta ar iemeslu.</li>"
              "<li><b>Intervāli.</b> Daļām — Vilsona 95 % intervāls, vidējiem — t intervāls, ieteikšanas indeksam — multinomiālā dispersija.</li>"
              "<li><b>Testi.</b> Grupu atšķirības: Kruskala–Volisa vai Mana–Vitnija tests (ar korekciju saistītiem rangiem), "
              "Danna pāru salīdzinājumi ar Holma korekciju, χ² vai Fišera tests augsto vērtējumu daļai un kārtas logistiskā regresija, "
              "kas vienlaikus ņem vērā visas demogrāfiskās pazīmes. Nozares salīdzinātas ar Frīdmena un Vilkoksona testiem.</li>"
              "<li><b>Ko nozīmē „nozīmīga atšķirība”.</b> Tik liela atšķirība, ka to grūti izskaidrot ar nejaušību, pat ņemot vērā, ka "
              "pārbaudīts daudz atšķirību vienlaikus (Benjamini–Hochberg, {fdr}). Tā nenozīmē, ka atšķirība ir liela vai svarīga — "
              "to parāda ietekmes lielums.</li>"
              "<li><b>Priekšlikumi.</b> Teksti apstrādāti bezsaistē: valodas noteikšana, latviešu un krievu vārdu pamatformas, tēmu vārdnīca. "
              "Personas dati (vārdi, e-pasti, tālruņi, personas kodi) aizstāti ar apzīmējumiem pirms jebkādas analīzes.</li>",
        "en": "<li><b>Sample.</b> Respondents chose to take part (self-selection); this is not a random sample, so results describe "
              "the respondents, not all residents. {weighting}</li>"
              "<li><b>Quality checks.</b> Duplicate, too fast, empty and late answers were excluded; every input row is either "
              "analysed or excluded with a reason.</li>"
              "<li><b>Intervals.</b> Wilson 95 % intervals for shares, t intervals for means, multinomial variance for the NPS.</li>"
              "<li><b>Tests.</b> Group differences: Kruskal–Wallis or Mann–Whitney (tie-corrected), Dunn pairwise comparisons with Holm "
              "correction, chi-square or Fisher tests of the top-two share and an ordinal logistic regression that accounts for all "
              "demographics at once. Sectors compared with Friedman and Wilcoxon tests.</li>"
              "<li><b>What 'significant' means.</b> A difference too large to be explained by chance, even allowing for the many "
              "differences tested at once (Benjamini–Hochberg, {fdr}). It does not mean the difference is large or important — "
              "the effect size says that.</li>"
              "<li><b>Proposals.</b> Texts processed offline: language detection, Latvian and Russian lemmas, a theme dictionary. "
              "Personal data (names, e-mails, phones, personal codes) were replaced by placeholders before any analysis.</li>"},
    "weighting_used": {
        "lv": "Rezultāti svērti pēc oficiāliem iedzīvotāju sadalījumiem ({source}); efektīvais izlases lielums {neff}.",
        "en": "Results are weighted to official population margins ({source}); effective sample size {neff}."},
    "weighting_sensitivity": {
        "lv": "Svari nav izmantoti galvenajiem skaitļiem, jo iedzīvotāju sadalījuma fails nav oficiāls (fails {source}); "
              "svērtie rezultāti aprēķināti tikai kā jutīguma pārbaude detalizētajā pārskatā.",
        "en": "Weights are not used for the headline figures because the population margin file is not official (file {source}); "
              "weighted results are only a sensitivity check in the detailed report."},
    "weighting_none": {"lv": "Rezultāti nav svērti: nav oficiālu iedzīvotāju sadalījumu.",
                       "en": "Results are not weighted: no official population margins were given."},
    "missing_section": {"lv": "Šai sadaļai nav datu (posms vēl nav izpildīts).",
                        "en": "No data for this section (the stage has not run yet)."},
    "target_group": {"lv": "Mērķa grupa", "en": "Target group"},
    "who_axis": {"lv": "Respondentu skaits", "en": "Number of respondents"},
    "who_title": {"lv": "Lielākā daļa atbildētāju ir Liepājas iedzīvotāji", "en": "Most respondents live in Liepāja"},
    "ranking_title": {"lv": "Desmit aktivitātes, kuras visbiežāk atzītas par nozīmīgām",
                      "en": "The ten activities most often rated important"},
    "nps_title": {"lv": "Ieteikšanas indekss pa mērķa grupām (ar 95 % intervālu)",
                  "en": "NPS by target group (with 95 % interval)"},
    "themes_title": {"lv": "Biežākās priekšlikumu tēmas", "en": "The most frequent proposal themes"},
})

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
             effect=effect_word(row.get("effect_label"), lang), p=fmt_p_relation(row.get("p_adj"), lang))


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
