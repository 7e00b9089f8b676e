"""The stakeholder summary reads only tables, states only what survived correction, in lv or en."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis import summary
from analysis.report import TEXT


@pytest.fixture(scope="module")
def stage_tables(tmp_path_factory):
    """Tables of stages 01 and 02 on the embedded sample (no notebooks, no HTML)."""
    from analysis import clean, codebook, paths, ratings

    run = tmp_path_factory.mktemp("summary-run")
    params = paths.load_params()
    clean.run_clean(params, run)
    cb = codebook.load(paths.resolve(params["codebook"]))
    df = ratings.read_responses(run / "data" / "responses.parquet", cb)
    settings = ratings.settings_from(min_cell=10, fdr=0.05, weight_trim_cap=5.0,
                                     population=ratings.load_population(paths.resolve(params["population"])))
    ratings.write_tables(ratings.build_tables(df, cb, settings), run / "tables", run / "data")
    return run


def _summary(run, lang="lv", **kw):
    return summary.Summary.load(run, "liepaja-2022", "params/codebooks/liepaja-2022.yaml", lang, **kw)


def test_key_findings_name_the_top_activity_with_its_interval(stage_tables):
    s = _summary(stage_tables)
    items = s.tables["items"].sort_values("rank")
    top = s.cb.variable_label(items["item"].iloc[0], "lv")
    html = s.key_findings()
    assert top in html and "95 % intervāls" in html


def test_only_differences_that_survived_correction_and_are_not_negligible(stage_tables):
    s = _summary(stage_tables)
    sig = s.significant()
    assert len(sig) > 0
    assert (sig["p_adj"] < 0.05).all() and (sig["effect_label"] != "negligible").all()
    assert set(sig["test"]) <= {"kruskal", "mann_whitney"}
    stricter = _summary(stage_tables, fdr=1e-12).significant()
    assert len(stricter) < len(sig)


def test_english_report_has_no_latvian_headings(stage_tables):
    s = _summary(stage_tables, lang="en")
    parts = [s.title(), s.key_findings(), s.who(), s.ranking(), s.differences(), s.sectors(),
             s.satisfaction(), s.methods()]
    text = "".join(parts)
    for key in ("who", "summary_ranking_fav", "differences", "methods"):
        assert TEXT[key]["en"] in text and TEXT[key]["lv"] not in text
    assert "Woman" in text or "Man" in text


def test_missing_stage_tables_say_so_instead_of_failing(codebook):
    s = summary.Summary({}, codebook)
    assert TEXT["missing_section"]["lv"] in s.proposals()
    assert TEXT["missing_section"]["lv"] in s.ranking()


def test_quotes_from_tables_are_escaped_and_unneutralised(stage_tables):
    s = _summary(stage_tables)
    s.tables["themes"] = pd.DataFrame({"theme": ["parks_beach"], "n": [3], "share": [0.1]})
    s.tables["theme_quotes"] = pd.DataFrame({"theme": ["parks_beach"], "rank": [1],
                                             "text": ["'=HYPERLINK(\"x\") <script>alert(1)</script>"]})
    html = s.proposals()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "=HYPERLINK" in html and "'=HYPERLINK" not in html


def test_methods_say_why_weights_are_not_headline_for_a_synthetic_margin_file(stage_tables):
    s = _summary(stage_tables, synthetic=True)
    methods = s.methods()
    assert "populācijas robežvērtības ir sintētiskas, nevis oficiāla statistika" in methods
    # the margins by what they are: never the population file's name or path
    population = s.tables["weighting"]["population_file"].iloc[0]
    assert population.rsplit("/", 1)[-1] not in methods and ".yaml" not in methods
    assert "nav atzīmētas kā oficiāla statistika" in _summary(stage_tables).methods()


def test_synthetic_margins_keep_weights_out_of_the_headline_but_state_their_effect(stage_tables):
    s = _summary(stage_tables)
    assert not s.weighted_headline()
    html = s.ranking()
    assert TEXT["top2_weighted"]["lv"] not in html
    # the sensitivity statement compares the same in-scope people, weighted and not
    w = s.tables["weighting"].iloc[0]
    assert f"tie paši {int(w['n_in_scope'])} respondenti" in html


def test_every_figure_states_its_base_and_dont_know_is_shown(stage_tables):
    s = _summary(stage_tables, lang="en")
    top = s.tables["items"].sort_values("rank").iloc[0]
    kf = s.key_findings()
    assert f"of the {int(top['n'])} respondents who rated it" in kf
    assert f"of all {int(top['n_all'])} respondents" in kf and int(top["n_all"]) > int(top["n"])
    html = s.ranking()
    import html as h

    assert h.escape(TEXT["summary_dk"]["en"]) in html and h.escape(TEXT["summary_dk_heading"]["en"]) in html
    who = s.who()
    assert TEXT["summary_repr_heading"]["en"] in who and TEXT["summary_sample_share"]["en"] in who


def test_findings_rest_on_large_groups_one_per_contrast_and_say_if_they_survive_adjustment(stage_tables):
    s = _summary(stage_tables, lang="en")
    f = s.findings()
    assert len(f) and (f["n_high"] >= 30).all() and (f["n_low"] >= 30).all()
    assert (f["effect_measure"] == "rank_biserial").all()
    html = s.differences()
    shown = f[f["contrast_rank"] == 1]
    assert html.count("<tr>") == min(len(shown), 15)          # body rows (the header row has a style)
    kf = s.key_findings()
    assert TEXT["summary_finding_survives"]["en"].split(" (")[0] in kf or \
        TEXT["summary_finding_not_survives"]["en"].split(" (")[0] in kf
    # stricter: no finding may rest on a group below the parameter
    assert len(_summary(stage_tables, min_finding_n=100).findings()) < len(f)
    # no raw codes such as info_language__ru in any sentence
    assert "__" not in html and "__" not in kf


def test_family_size_is_stated_as_comparisons_tested_twice(stage_tables):
    s = _summary(stage_tables, lang="en")
    fam = s.tables["test_family"]
    g = fam[fam["family"] == "group_tests"].iloc[0]
    assert int(g["m"]) <= 2 * int(g["comparisons"])
    assert f"{int(g['comparisons'])} comparisons were made" in s.differences()
    assert f"{int(g['m'])} tests in one" in s.differences()


# --- official margins, end to end (issue 11, defect 1) ------------------------------------

def _params_with_population(tmp_path, official: bool, source: str):
    import yaml

    from analysis import paths

    pop = yaml.safe_load(paths.resolve("params/population/liepaja-synthetic.yaml").read_text(encoding="utf-8"))
    pop["official"], pop["source"] = official, source
    pop_file = tmp_path / "margins.yaml"
    pop_file.write_text(yaml.safe_dump(pop, allow_unicode=True), encoding="utf-8")
    params = yaml.safe_load(paths.resolve(paths.DEFAULT_PARAMS).read_text(encoding="utf-8"))
    params["population"] = str(pop_file)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return params_file, pop_file


def _cli(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


def test_official_margins_run_puts_weighted_figures_in_the_summary(tmp_path, root):
    # A copy of the margin file marked official with a non-synthetic source, a real run of
    # stages 01-04 through the CLI, and the summary's HTML read back: no forged table value.
    from analysis import report

    params_file, _ = _params_with_population(
        tmp_path, True, "Test fixture in the layout of the statistics office tables IRD041 and IRD081, 2022-01-01")
    res = _cli("run", str(params_file), "--out", str(tmp_path / "out"), cwd=root)
    assert res.returncode == 0, res.stderr[-2000:]
    run = max(p for p in (tmp_path / "out").iterdir() if p.is_dir() and p.name[0].isdigit())
    weighting = pd.read_csv(run / "tables" / "weighting.csv").iloc[0]
    assert weighting["role"] == "headline" and bool(weighting["used"])
    # every self-declared resident is weighted (a 'prefer not to say' keeps its share)
    assert weighting["n_weighted"] == weighting["n_in_scope"]
    items = pd.read_csv(run / "tables" / "items.csv").sort_values("rank")
    page = (run / "report" / "04_summary.html").read_text(encoding="utf-8")
    assert report.t("top2_weighted", "lv") in page
    top = items.iloc[0]
    weighted = f"{report.fmt_pct(top['weighted_top2_share'], 0, 'lv')} " \
               f"({report.fmt_ci(top['weighted_top2_ci_low'], top['weighted_top2_ci_high'], 0, 'lv')})"
    assert weighted in page
    # the unweighted figure on the same base stands beside it, and the methods say weights were used
    assert report.t("summary_top2_scope", "lv") in page
    used = report.t("summary_weighting_used", "lv", source="\x00", n=0, scope="\x00", neff="\x00").split("\x00")[0]
    assert used in page
    assert report.t("summary_weighting_sensitivity_only", "lv", source="\x00").split("\x00")[0] not in page


def test_official_true_with_a_synthetic_source_stops_the_run(tmp_path, root):
    from analysis import ratings
    from analysis.ingest import InputError

    params_file, pop_file = _params_with_population(
        tmp_path, True, "sintētiski dati (synthetic, not official figures)")
    with pytest.raises(InputError) as err:
        ratings.load_population(pop_file)
    assert err.value.file == str(pop_file) and err.value.column == "official"
    res = _cli("run", str(params_file), "--out", str(tmp_path / "out"), cwd=root)
    assert res.returncode == 2, res.stderr[-2000:]
    assert pop_file.name in res.stderr and "official" in res.stderr


# --- the ranking by group and by district, pre-rendered without JavaScript (issue 12, point 7) -----

def test_the_district_ranking_is_pre_rendered_per_district_and_agrees_with_stage_02s_own_ranking(stage_tables):
    """Stage 02 ranks only the main grouping; the summary ranks each district from the tests'
    residuals.csv (n and favourable share per activity and group). Reference: stage 02's own
    `ratings.ranking_by_group` applied to the district variable on the same responses."""
    import numpy as np

    from analysis import brief, ratings

    s = _summary(stage_tables)
    var = s.cb.role_var("district")
    mine = s.ranking_by(var)
    df = ratings.read_responses(stage_tables / "data" / "responses.parquet", s.cb)
    ref = ratings.ranking_by_group(df, s.cb, ratings.settings_from(min_cell=10), var)
    both = mine.merge(ref, on=[var, "item"], suffixes=("", "_ref"), validate="one_to_one")
    assert len(both) == len(mine) == len(ref) == 10 * len(s.cb.likert_items)      # 10 districts in the sample
    assert (both["group_n"] == both["group_n_ref"]).all() and (both["n"] == both["n_ref"]).all()
    assert np.allclose(both["top2_share"], both["top2_share_ref"], rtol=0, atol=1e-6)
    # ranks agree wherever the share has no tie within the district (ties: form order here, mean in stage 02)
    tied = both.duplicated([var, "top2_share"], keep=False)
    assert (both.loc[~tied, "rank"] == both.loc[~tied, "rank_ref"]).all() and (~tied).sum() > 100

    page = brief.group_filter_html(s)
    assert "<script" not in page and "onclick" not in page
    districts = re.findall(r'<h4>([^<]*)</h4>', page)
    assert districts[-1] == s.cb.variable_label(var, "lv").join(("Pēc pazīmes „", "”"))
    summaries = re.findall(r"<summary>([^<]*)</summary>", page.split(districts[-1])[1])
    expected = [f"{s.cb.label_of(var, c, 'lv')} (n = {int(mine.loc[mine[var] == c, 'group_n'].iloc[0])})"
                for c in s.cb.variables[var].codes]
    assert summaries == expected
    # Karosta's block lists its five most favoured activities, in rank order, with their shares
    karosta = page.split(f"<summary>{expected[6]}</summary>")[1].split("</details>")[0]
    top5 = mine[mine[var] == "karosta"].sort_values("rank").head(5)
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", karosta)
    assert [(int(r), a) for r, a, _ in rows] == [(int(r.rank), s.cb.variable_label(r.item, "lv"))
                                                  for r in top5.itertuples()]
    assert rows[0][2] == f"{round(top5['top2_share'].iloc[0] * 100)}\u00a0%"


def _district_tables(codebook, levels: dict[str, int], item_n: dict[tuple[str, str], int] | None = None):
    """residuals.csv and profile.csv rows for the district only: level -> group size."""
    items = codebook.likert_items[:6]
    rows = []
    for level, size in levels.items():
        for k, item in enumerate(items):
            n = (item_n or {}).get((level, item), size - 1)
            rows.append({"outcome": item, "outcome_type": "item", "grouping": "district", "level": level,
                         "n": n, "top2_share": 0.9 - 0.1 * k, "adj_residual": 0.0})
    profile = pd.DataFrame({"variable": "district", "level": list(levels),
                            "n": [n if n >= 10 else None for n in levels.values()]})
    return {"residuals": pd.DataFrame(rows), "profile": profile}


def test_small_districts_are_named_in_one_sentence_and_small_cells_are_not_shown(codebook):
    from analysis import brief

    # stage 02 left Karosta and Tosmare out of its tests (below min_cell); Vecliepāja rated one
    # activity by 7 people only
    tables = _district_tables(codebook, {"vecliepaja": 40, "jaunliepaja": 25, "ezerkrasts": 12},
                              {("vecliepaja", codebook.likert_items[0]): 7})
    s = summary.Summary(tables, codebook, min_cell=10)
    ranked = s.ranking_by("district")
    vec = ranked[ranked["district"] == "vecliepaja"].set_index("item")
    first = codebook.likert_items[0]
    assert bool(vec.loc[first, "suppressed"]) and pd.isna(vec.loc[first, "top2_share"]) and pd.isna(vec.loc[first, "rank"])
    assert vec.loc[codebook.likert_items[1], "rank"] == 1
    page = brief.group_filter_html(s)
    block = page.split("<summary>Vecliepāja (n = 40)</summary>")[1].split("</details>")[0]
    assert codebook.variable_label(first, "lv") not in block and ">7<" not in block
    assert page.count('<details class="group-filter">') == 3
    sentence = re.search(r"<p>(Pēc pazīmes „Apkaime” ne visas grupas[^<]*)</p>", page).group(1)
    others = [c for c in codebook.variables["district"].codes if c not in ("vecliepaja", "jaunliepaja", "ezerkrasts")]
    assert sentence.startswith("Pēc pazīmes „Apkaime” ne visas grupas parādītas atsevišķi (izlaistas grupas ar "
                               "mazāk nekā 10 respondentiem: „")
    for code in others:
        assert f"„{codebook.label_of('district', code, 'lv')}”" in sentence
    assert sentence.count("(") == 1 and sentence.endswith(").")           # one sentence
    # a group of fewer than min_cell respondents is never shown, even if a table held it
    tables["profile"].loc[tables["profile"]["level"] == "ezerkrasts", "n"] = None
    tables["residuals"].loc[tables["residuals"]["level"] == "ezerkrasts", "n"] = 9
    page = brief.group_filter_html(summary.Summary(tables, codebook, min_cell=10))
    assert "Ezerkrasts (n =" not in page and "„Ezerkrasts”" in page


def test_merged_groups_are_named_as_merged(codebook):
    s = summary.Summary({}, codebook, min_cell=10)
    table = pd.DataFrame({"years_in_city": ["lt5", "6_10", "gt10", "lifelong", "not_in_city"]})
    sentence = s.small_groups_sentence("years_in_city", table)
    assert "grupā „Līdz 5 gadiem” apvienotas: „Mazāk nekā 1 gadu”, „1–5 gadus”" in sentence
    assert "izlaistas" not in sentence
    assert s.small_groups_sentence("district", pd.DataFrame({"district": codebook.variables["district"].codes})) is None


def test_without_a_district_role_the_district_ranking_is_skipped_in_one_sentence(codebook, root):
    import dataclasses

    from analysis import brief
    from analysis import codebook as cbmod

    roles = {k: v for k, v in codebook.roles.items() if k != "district"}
    s = summary.Summary(_district_tables(codebook, {"vecliepaja": 40}), dataclasses.replace(codebook, roles=roles))
    page = brief.group_filter_html(s)
    assert TEXT["brief_filter_no_role"]["lv"] in page and "Apkaime" not in page
    # the second survey's district is its main grouping: said once, not ranked twice
    other = cbmod.load(root / "params" / "codebooks" / "naidislinn-2024.yaml")
    assert other.role_var("district") == other.role_var("grouping")
    page = brief.group_filter_html(summary.Summary({}, other, lang="en"))
    assert "The breakdown by district is the one by Neighbourhood above." in page


def test_theme_names_read_without_compiling_the_dictionary_match_the_dictionarys_own(tmp_path):
    """Stage 04 reads only the names (compiling the patterns took most of its time); they are the
    names themes.load_dictionary gives, in dictionary order, and a malformed file is still
    reported by load_dictionary, naming the fault."""
    from analysis import paths, themes

    path = paths.ROOT / "params" / "themes" / "liepaja-2022.yaml"
    full = themes.load_dictionary(path)
    for lang in ("lv", "en", "ru"):          # ru: no Russian names, the Latvian ones stand in
        names = summary._theme_names(str(path), lang)
        assert list(names.items()) == [(code, full.name(code, lang)) for code in full.codes]
    bad = tmp_path / "bad.yaml"
    bad.write_text("themes:\n  housing:\n    rental_shortage:\n      name: {en: Rents}\n", encoding="utf-8")
    with pytest.raises(themes.DictionaryError, match="rental_shortage"):
        summary._theme_names(str(bad), "lv")
