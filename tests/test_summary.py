"""The stakeholder summary reads only tables, states only what survived correction, in lv or en."""
from __future__ import annotations

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
    for key in ("who", "ranking", "differences", "methods"):
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
    s = _summary(stage_tables)
    assert "nav oficiāls" in s.methods()


def test_weighted_figures_join_the_headline_only_with_official_margins(stage_tables):
    s = _summary(stage_tables)
    assert not s.weighted_headline() and "Svērts" not in s.ranking()
    s.tables["weighting"] = s.tables["weighting"].assign(headline="weighted", official=True)
    assert s.weighted_headline()
    html = s.ranking()
    assert "Svērts (95 % intervāls)" in html
    top = s.tables["items"].sort_values("rank").iloc[0]
    from analysis.report import fmt_pct
    assert fmt_pct(top["weighted_top2_share"], 0, "lv") in html
