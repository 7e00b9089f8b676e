"""Stage 03 tables: the corpus, keywords, keyness, collocations, themes by group, determinism, the notebook."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis import proposals as pr
from analysis import text as tx
from analysis import themes as th

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_proposals.ipynb"


@pytest.fixture(scope="module")
def dictionary():
    return th.load_dictionary(ROOT / "params" / "themes" / "liepaja-2022.yaml")


@pytest.fixture(scope="module")
def cb():
    from analysis import codebook

    return codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")


LV = ["Pilsētā trūkst īres dzīvokļu jaunām ģimenēm.", "Vajag vairāk veloceliņu uz Karostu.",
      "Sabiedriskais transports vakaros kursē reti.", "Jūrmalas parkā vajag vairāk soliņu.",
      "Bērnudārzos ir garas rindas.", "Vajag vairāk koncertu un festivālu vasarā.",
      "nav", "Jauniešiem nav darba un viņi aizbrauc.", "Informācija jāpublicē arī krievu valodā."]
RU = ["Не хватает арендных квартир.", "Нужны велодорожки в Каросту.", "Информацию надо давать на русском языке.",
      "Нет.", "Молодёжь уезжает за границу."]


def fixture_proposals(n_resp: int = 60) -> pd.DataFrame:
    """A small stage-01-shaped frame: survey answers in lv/ru with groups, and a few e-mails."""
    rng = np.random.default_rng(11)
    sectors = ["housing", "mobility", "urban", "education", "culture", None]
    rows = []
    for r in range(n_resp):
        form = "ru" if r % 4 == 0 else "lv"
        group = "future_resident" if r % 5 == 0 else "resident"
        age = ["18_24", "25_34", "35_44", "45_54", "55_64", "65_74"][r % 6]
        for k in range(2):
            s = sectors[(r + k) % len(sectors)]
            pool = RU if form == "ru" else LV
            rows.append({"proposal_id": f"R-{r:06d}:{k}", "respondent_id": f"R-{r:06d}", "source": "survey",
                         "source_file": f"forms_{form}.xlsx",
                         "question": f"proposal_{s}" if s else "proposal_other", "sector": s,
                         "form_language": form, "text": pool[int(rng.integers(len(pool)))],
                         "target_group": group, "age_group": age})
    for e in range(6):
        rows.append({"proposal_id": f"M-{e:06d}", "respondent_id": f"E-{e:06d}", "source": "email",
                     "source_file": "proposals.mbox", "question": "email", "sector": None, "form_language": None,
                     "text": "Labdien! " + LV[e] + " " + LV[e + 1], "target_group": None, "age_group": None})
    rows[3]["text"] = "=HYPERLINK(\"http://x\") Vajag veloceliņus uz Karostu un vēl veloceliņus gar jūru."
    df = pd.DataFrame(rows)
    df["n_chars"] = df["text"].str.len()
    return df


@pytest.fixture(scope="module")
def stage(dictionary, cb):
    return pr.run_stage(fixture_proposals(), dictionary, cb, min_cell=5, fdr=0.05)


# --------------------------------------------------------------------------- the corpus

def test_each_form_is_lemmatised_once_and_short_answers_follow_the_form_language():
    texts = ["Trūkst dzīvokļu, dzīvokļu un dzīvokļu!", "nav", "нет"]
    corpus = pr.build_corpus(texts, ["a", "b", "c"], ["lv", "lv", "ru"])
    assert corpus.language == ["lv", "lv", "ru"]               # "nav" alone is not English here
    assert corpus.content_lemmas(0) == ["trūkt", "dzīvoklis", "dzīvoklis", "dzīvoklis"]
    assert corpus.surface["dzīvoklis"] == "dzīvokļu"
    assert corpus.n_forms < corpus.n_word_tokens                 # the per-form cache did its job
    assert corpus.tokens[0][-1] == pr.SENTENCE_END


def test_extra_stopwords_leave_the_word_tables_but_not_the_phrases(dictionary):
    corpus = pr.build_corpus(["Labvakar! Liepājā trūkst īres dzīvokļu."], ["a"], ["lv"],
                             dictionary.settings["extra_stopwords"])
    assert corpus.content_lemmas(0) == ["trūkt", "īre", "dzīvoklis"]


# --------------------------------------------------------------------------- word tables

def test_tfidf_on_lemmatised_documents_equals_tfidf_on_tokens():
    docs = {"a": [["dzīvoklis", "dzīvoklis", "īre", "trūkt"]], "b": [["veloceliņš", "trūkt"], ["tramvajs"]]}
    ref = tx.tfidf_keywords(docs, lang="und", top_n=10)
    scored = tx.tfidf_keywords({g: [[(w, w) for w in d] for d in ds] for g, ds in docs.items()}, top_n=None,
                               lemmatised=True)
    mine: dict = {}
    for g, lem, score in zip(scored["group"], scored["lemma"], scored["tfidf"]):
        mine.setdefault(g, {})[lem] = score
    for row in ref.itertuples():
        assert mine[row.group][row.lemma] == pytest.approx(row.tfidf)


def test_collocations_from_the_corpus_equal_analysis_text_collocations():
    texts = ["Sabiedriskais transports kursē reti. Sabiedriskais transports ir dārgs.",
             "Sabiedriskais transports vakaros, sabiedriskais transports naktī!",
             "Īres dzīvokļu trūkst. Īres dzīvokļu cenas ir augstas. Ļoti trūkst īres dzīvokļu.",
             "Īres dzīvokļu trūkst jaunām ģimenēm, sabiedriskais transports kursē reti."]
    corpus = pr.build_corpus(texts, ["a", "b", "c", "d"], ["lv"] * 4)
    segments = pr._segments(corpus, range(4))
    for n in (2, 3):
        ref = tx.collocations([tx.tokenize(t) for t in texts], lang="lv", n=n, min_count=2, top_n=10)
        mine = tx.collocations(segments, n=n, min_count=2, top_n=10, lemmatised=True)
        assert len(ref) > 0
        assert list(mine["lemmas"]) == list(ref["lemmas"])
        assert np.allclose(mine["score"].astype(float), ref["score"].astype(float))
        assert list(mine["count"]) == list(ref["count"])
        assert list(mine["surface"]) == list(ref["surface"])


def test_keywords_are_counted_per_sector_and_source_in_surface_form(stage):
    kw = stage.tables["keywords"]
    assert set(kw["scope"]) == {"sector", "source", "all"}
    assert set(kw.loc[kw["scope"] == "source", "group"]) == {"survey", "email"}
    assert "email" not in set(kw.loc[kw["scope"] == "sector", "group"])
    row = kw[(kw["scope"] == "all") & (kw["lemma"] == "dzīvoklis")].iloc[0]
    assert row["surface"] == "dzīvokļu"
    assert kw.loc[kw["scope"] == "all", "tfidf"].isna().all()


def test_keyness_compares_groups_within_one_language(stage):
    k = stage.tables["keyness"]
    assert set(k.columns) >= {"comparison", "language", "target", "reference", "lemma", "surface", "g2",
                              "log_ratio", "p", "p_adj"}
    assert (k["p_adj"] < 0.05).all()
    # Latvian words are never "key" against Russian texts: each comparison stays in one language
    for (_, language), d in k.groupby(["comparison", "language"]):
        cyr = d["lemma"].str.contains(r"[\u0400-\u04FF]")
        assert cyr.all() if language == "ru" else not cyr.any()


def test_language_mix_counts_every_text(stage):
    mix = stage.tables["language_mix"]
    assert mix["n"].sum() == len(fixture_proposals())
    assert set(mix["source"]) == {"survey", "email"}


# --------------------------------------------------------------------------- theme tables

def test_themes_table_has_shares_by_source_and_the_uncoded_row(stage, dictionary):
    t = stage.tables["themes"].set_index("theme")
    assert list(t.index) == dictionary.codes + [pr.NO_THEME]
    assert t.loc["cycling_paths", "n"] > 0
    assert t.loc["cycling_paths", "share"] == pytest.approx(t.loc["cycling_paths", "n"] / t["n_texts"].iloc[0],
                                                            abs=1e-6)
    assert t.loc[pr.NO_THEME, "n"] >= 1                          # "nav", "Нет."


def test_theme_by_group_blanks_groups_and_cells_below_min_cell(dictionary, cb):
    res = pr.run_stage(fixture_proposals(), dictionary, cb, min_cell=14, fdr=0.05)
    g = res.tables["theme_by_group"]
    small = g[g["n_group"].isna()]
    assert small["share"].isna().all() and small["n"].isna().all()
    shown = g[g["n"].notna()]
    assert ((shown["n"] == 0) | (shown["n"] >= 14)).all()
    assert set(g["grouping"]) == {"target_group", "age_group", "form_language"}
    assert set(g.loc[g["grouping"] == "age_group", "group"]) <= {"lt25", "25_34", "35_44", "45_54", "55_64", "65plus"}


def test_theme_tests_have_effect_sizes_and_bh_adjusted_p(stage):
    from analysis import stats

    t = stage.tables["theme_tests"]
    assert list(t.columns[:8]) == ["grouping", "theme", "chi2", "df", "p", "p_adj", "cramers_v", "n"]
    tested = t[t["p"].notna()]
    assert len(tested) > 0
    assert np.allclose(tested["p_adj"], stats.p_adjust(tested["p"].to_numpy(), "BH"))
    assert (t.loc[t["p"].isna(), "note"] != "").all()


def test_quotes_never_come_from_quarantined_respondents(dictionary, cb):
    props = fixture_proposals()
    quarantine = pd.DataFrame({"respondent_id": ["R-000000", "E-000000"], "source_file": ["forms_ru.xlsx", "proposals.mbox"],
                               "source_row": [2, 1], "form_language": ["ru", None], "reasons": ["speeder", "duplicate"],
                               "details": ["", ""]})
    # R-000000 is quarantined in this test (as if stage 01 had let it through): never quoted
    res = pr.run_stage(props, dictionary, cb, min_cell=5, fdr=0.05, quarantine=quarantine)
    quoted = set(res.tables["theme_quotes"]["proposal_id"]) | set(res.tables["topic_quotes"]["proposal_id"])
    assert not any(q.startswith("R-000000") for q in quoted)
    assert pr.excluded_ids(quarantine, props) == {"R-000000"}


def test_planted_coding_finds_texts_by_wording_also_inside_emails(dictionary):
    props = fixture_proposals()
    truth = {"texts": [{"source": "forms_lv.xlsx", "text": "Bērnudārzos  ir garas rindas.",
                        "themes": ["schools_kindergartens"]},
                       {"source": "proposals.mbox", "text": LV[2], "themes": ["public_transport"]},
                       {"source": "forms_lv.xlsx", "text": "never written", "themes": ["karosta"]}]}
    coding, counts = pr.planted_coding(truth, props, dictionary.codes)
    assert counts["planted_found"] == 2
    assert coding.loc["M-000001", "public_transport"] == 1
    school_rows = props.loc[props["text"] == LV[4], "proposal_id"]
    assert set(school_rows) <= set(coding.index) and (coding.loc[list(school_rows), "schools_kindergartens"] == 1).all()


# --------------------------------------------------------------------------- writing

def test_tables_are_byte_identical_across_runs_and_text_is_neutralised(tmp_path, dictionary, cb):
    props = fixture_proposals()
    a = pr.write_tables(pr.run_stage(props, dictionary, cb, min_cell=5, fdr=0.05).tables, tmp_path / "a")
    b = pr.write_tables(pr.run_stage(props.sample(frac=1, random_state=1), dictionary, cb, min_cell=5,
                                     fdr=0.05).tables, tmp_path / "b")
    expected = {"agreement", "coding_sample", "collocations", "coverage", "keyness", "keywords", "language_mix",
                "theme_by_group", "theme_by_sector", "theme_quotes", "theme_tests", "themes", "topic_quotes",
                "topics", "uncoded_quotes", "uncoded_terms"}
    assert set(a) == expected
    same = {name for name in expected if a[name].read_bytes() == b[name].read_bytes()}
    # row order of the input must not matter for the tables that do not sample texts
    assert same >= expected - {"coding_sample", "topic_quotes", "topics"}
    c = pr.write_tables(pr.run_stage(props, dictionary, cb, min_cell=5, fdr=0.05).tables, tmp_path / "c")
    assert all(a[name].read_bytes() == c[name].read_bytes() for name in expected)
    quotes = pd.read_csv(a["theme_quotes"], dtype=str)
    assert not quotes["text"].str.match(r"[=+\-@]").any()


# --------------------------------------------------------------------------- the notebook

def test_notebook_parameters_cell_declares_the_stage_parameters_and_nothing_derived():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = [line.split("=")[0].strip() for line in tagged[0].source.splitlines() if line.strip()]
    assert names == ["survey", "synthetic", "codebook", "themes", "min_cell", "fdr", "report_lang",
                     "human_coding", "run_dir", "params_file"]
    assert all("#" in line for line in tagged[0].source.splitlines() if line.strip())
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    # every word a reader sees comes from the text tables: the only markdown cell is the researchers' note
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert [c.metadata.get("tags") for c in markdown] == [["remove-cell"]]
    # no survey named in the defaults: nb.start fills them from the default params file by hand
    defaults = {line.split("=")[0].strip(): line.split("=", 1)[1].split("#")[0].strip()
                for line in tagged[0].source.splitlines() if line.strip()}
    assert (defaults["survey"], defaults["codebook"], defaults["themes"]) == ('""', '""', '""')
    assert (defaults["synthetic"], defaults["human_coding"]) == ("False", "[]")
    after = nb.cells[nb.cells.index(tagged[0]) + 1].source
    assert "from analysis import nb, proposals" in after and "nb.start(survey, run_dir, synthetic, report_lang)" in after
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert 'paths.stage_input(dirs["run"], survey, "data/proposals.parquet")' in sources
    assert "set_title(" not in sources or "_ = " in sources


@pytest.mark.slow
def test_notebook_runs_under_papermill_on_a_clean_run(tmp_path):
    import papermill

    from analysis import clean, paths

    params = paths.load_params(ROOT / "params" / "liepaja-2022.yaml")
    clean.run_clean(params, run_dir=tmp_path)
    out = tmp_path / "03.ipynb"
    # a run passes every value (the parameters cell names no survey)
    values = {k: params[k] for k in ("survey", "synthetic", "codebook", "themes")}
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters={**values, "run_dir": str(tmp_path)},
                               kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    html = "".join(o.get("data", {}).get("text/html", "") for c in executed.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "<script" not in html.replace('<script type="text/javascript">', "")
    agreement = pd.read_csv(tmp_path / "tables" / "agreement.csv")
    macro = agreement[(agreement["reference"] == "planted") & (agreement["theme"] == "macro")]
    assert len(macro) == 1 and macro["f1"].iloc[0] >= 0.85
    assert json.loads(json.dumps(list(pd.read_csv(tmp_path / "tables" / "themes.csv")["theme"])))


def test_a_filled_in_coding_sample_is_learned_from_and_gives_cross_validated_human_agreement(tmp_path, dictionary,
                                                                                              cb):
    from analysis import learn

    props = fixture_proposals()
    sample = th.coding_sample(props, dictionary, n=40, seed=2)
    coded = th.code_texts(pr.build_corpus(props["text"].tolist(), props["proposal_id"].tolist(),
                                          props["form_language"].tolist()).tokens, dictionary,
                          index=props["proposal_id"].tolist())
    for c in dictionary.codes:                       # a coder who agrees with the dictionary, but for one theme
        sample[c] = coded.loc[sample["proposal_id"], c].astype(int).to_numpy()
    sample["karosta"] = 0
    path = tmp_path / "coded.csv"
    sample.to_csv(path, index=False)
    human = learn.load_human_coding([path], dictionary)
    res = pr.run_stage(props, dictionary, cb, min_cell=5, fdr=0.05, human=human)
    a = res.tables["agreement"].set_index("theme")
    assert set(res.tables["agreement"]["reference"]) == {"human"}
    assert a.loc["cycling_paths", "f1"] == 1.0
    assert a.loc["karosta", "precision"] == 0.0 and a.loc["karosta", "n_reference"] == 0
    assert a.loc["macro", "n"] == 40
    # nothing to learn beyond the dictionary: every code is the dictionary's, the coding unchanged
    assert set(res.tables["text_codes"]["source"]) == {"dictionary"}
    assert res.coded.equals(res.hits > 0)
    cv = res.tables["learn_cv"].set_index(["method", "theme"])
    assert cv.loc[("combined", "cycling_paths"), "f1"] == cv.loc[("dictionary", "cycling_paths"), "f1"] == 1.0
    written = pr.write_tables(res.tables, tmp_path / "tables")
    assert {"learn_cv", "learn_model", "text_codes", "next_to_code"} <= set(written)
    st = pr.Stage03(res.tables, cb, dictionary, "en", 5, 0.05, res.info, written)
    view = pr.learn_view(st)
    assert len(view) == len(dictionary.codes) + 1 and view.iloc[-1, 0] == "Average (macro)"
    assert "People coded 40 texts" in pr.learn_html(st)


def test_without_the_codebook_roles_the_group_sections_are_skipped_with_a_sentence(dictionary, cb):
    import copy

    bare = copy.copy(cb)
    bare.roles = {k: v for k, v in cb.roles.items() if k not in ("text_groupings", "keyness_contrasts")}
    res = pr.run_stage(fixture_proposals(), dictionary, bare, min_cell=5, fdr=0.05)
    assert res.tables["theme_by_group"].empty and res.tables["keyness"].empty and res.tables["theme_tests"].empty
    st = pr.Stage03(res.tables, bare, dictionary, "en", 5, 0.05, res.info, {})
    assert "The codebook names no characteristics" in pr.theme_groups_html(st)
    assert pr.keyness_missing(st).startswith("The codebook names no groups of respondents to compare")
    assert "text_groupings" not in pr.theme_groups_html(st) + pr.keyness_missing(st)
    full = pr.Stage03(pr.run_stage(fixture_proposals(), dictionary, cb, min_cell=5, fdr=0.05).tables, cb,
                      dictionary, "en", 5, 0.05, {}, {})
    assert pr.keyness_missing(full) is None and "<table" in pr.theme_groups_html(full)


def test_no_module_or_notebook_of_stage_03_names_the_city():
    for path in (ROOT / "src" / "analysis" / "proposals.py", ROOT / "src" / "analysis" / "learn.py", NOTEBOOK):
        assert "Liepāj" not in path.read_text(encoding="utf-8"), path


def test_uncoded_texts_stand_beside_the_themes_with_examples_and_no_empty_theme_is_shown(dictionary, cb):
    import matplotlib

    matplotlib.use("Agg")
    props = fixture_proposals()
    props.loc[5, "text"] = "Mans kaķis katru rītu skaļi dzied, un man tas ļoti patīk."
    props.loc[7, "text"] = "Mans kaķis katru rītu skaļi dzied un ēd, zvaniet man: 29123456."
    stage = pr.run_stage(props, dictionary, cb, min_cell=5, fdr=0.05)
    q = stage.tables["uncoded_quotes"]
    themes = stage.tables["themes"].set_index("theme")
    assert len(q) and set(q.columns) == {"scope", "rank", "proposal_id", "text"}
    uncoded_ids = set(stage.coded.index[~stage.coded.any(axis=1)])
    assert set(q["proposal_id"]) <= uncoded_ids and props.at[5, "proposal_id"] in set(q["proposal_id"])
    assert not q["text"].str.contains("29123456").any()            # redacted again before it is shown
    from analysis import privacy

    if hasattr(privacy, "quote_is_publishable"):                    # and a text that carried a phone is skipped
        assert props.at[7, "proposal_id"] not in set(q["proposal_id"])
    st = pr.Stage03(stage.tables, cb, dictionary, "en", 5, 0.05, stage.info, {})
    n = int(themes.loc[pr.NO_THEME, "n"])
    assert pr.uncoded_sentence(st).startswith(f"{n} of {int(themes['n_texts'].iloc[0])} texts")
    fig = pr.fig_themes(st)
    shown = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert "No theme" in shown
    empty = [c for c in dictionary.codes if themes.loc[c, "n"] == 0]
    assert empty and not {st.theme_name(c) for c in empty} & set(shown)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_the_stage_copes_with_almost_no_proposals(tmp_path, dictionary, cb, n):
    res = pr.run_stage(fixture_proposals().head(n), dictionary, cb, min_cell=10, fdr=0.05)
    written = pr.write_tables(res.tables, tmp_path)
    assert len(written) == 16
    assert res.tables["themes"]["n"].sum() >= 0


def test_a_theme_no_text_raised_is_never_listed_as_a_finding(cb):
    from analysis import brief, summary

    themes = pd.DataFrame({"theme": ["parks_beach", "karosta", "airport_port", pr.NO_THEME], "n": [3, 0, 0, 40],
                           "share": [0.07, 0.0, 0.0, 0.93]})
    s = summary.Summary({"themes": themes}, cb)
    assert list(s._theme_counts()["theme"]) == ["parks_beach"]
    assert "karosta" not in s.key_findings() and "karosta" not in s.proposals()
    assert "karosta" not in (brief.asks_sentence(themes, {}, "en") or "")
    nothing = themes.assign(n=[0, 0, 0, 43])
    s = summary.Summary({"themes": nothing}, cb)
    assert "parks_beach" not in s.key_findings() and "parks_beach" not in s.proposals()
    assert brief.asks_sentence(nothing, {}, "en") is None


# --------------------------------------------------------------------------- languages without a lemmatiser

ET = ["Linnas võiks olla rohkem parke ja paremad bussiühendused naaberlinnadega.",
      "Bussid sõidavad liiga harva, eriti õhtuti ja nädalavahetusel.",
      "Pargid on hästi hooldatud, aga pinke on vähe."]
LT = "Mieste reikia daugiau dviračių takų ir žalių erdvių vaikams."


def test_text_in_a_form_language_without_a_lemmatiser_keeps_its_code_and_its_surface_forms():
    corpus = pr.build_corpus(ET + ["Parke"], ["a", "b", "c", "d"], ["et"] * 4, form_languages=["et"])
    # labelled Estonian (py3langid restricted to the form languages and lv/ru/en), never lv or en
    assert corpus.language == ["et", "et", "et", "et"]
    # no lemmatiser: lower-cased surface forms; no Estonian stopword list, so "ja" and "on" stay
    assert corpus.content_lemmas(0)[:4] == ["linnas", "võiks", "olla", "rohkem"]
    assert "ja" in corpus.content_lemmas(0) and "parke" in corpus.content_lemmas(3)
    # without the codebook's form languages the same text is read as one of lv/ru/en (the old, wrong label)
    assert pr.build_corpus(ET[:1], ["a"], [None]).language[0] in ("lv", "ru", "en")
    lt = pr.build_corpus([LT], ["a"], ["lt"], form_languages=["lt"])
    assert lt.language == ["lt"] and lt.content_lemmas(0)[:2] == ["mieste", "reikia"]


def test_the_surface_caveat_names_the_languages_and_the_missing_stopword_list():
    assert pr.surface_caveat(["lv", "ru"], "en") is None
    et = pr.surface_caveat(["lv", "et"], "en")
    assert et.startswith("Texts in Estonian have no lemmatiser here") and "no stopword list for it" in et
    both = pr.surface_caveat(["en", "et"], "lv")
    assert both.startswith("Tekstiem angļu un igauņu valodā") and "igauņu valodā nav izlaisti" in both
    assert "angļu valodā nav izlaisti" not in both                 # English has a stopword list
    assert pr.language_name("et", "lv") == "igauņu" and pr.language_name("xx", "en") == "xx"


def test_tables_of_an_estonian_survey_are_per_language_and_the_page_states_the_caveat(dictionary, cb):
    import copy

    props = fixture_proposals()
    est = props["form_language"] == "ru"
    props.loc[est, "form_language"] = "et"
    props.loc[est, "text"] = [ET[i % 3] for i in range(int(est.sum()))]
    et_cb = copy.copy(cb)
    et_cb.languages = ("lv", "et")
    res = pr.run_stage(props, th.empty_dictionary(), et_cb, min_cell=5, fdr=0.05)
    mix = res.tables["language_mix"]
    assert set(mix.loc[mix["source"] == "survey", "language"]) == {"lv", "et"}
    assert "et" in set(res.tables["collocations"]["language"])
    st = pr.Stage03(res.tables, et_cb, th.empty_dictionary(), "en", 5, 0.05, res.info, {})
    intro = pr.intro_text(st)
    assert "has no theme dictionary" in intro and "lemmatiser" not in intro     # the caveat is said once:
    assert "(Latvian and Estonian)" in pr.languages_text(st)                      # in the languages section
    assert "Texts in Estonian have no lemmatiser" in pr.languages_text(st)
    assert "Estonian" in set(pr.language_mix_view(st)["Language of the text"])


def test_respondents_words_in_tables_are_marked_as_quoted_and_escaped():
    frame = pd.DataFrame({"Language": ["English"], "Phrase": ["parking <b>permits</b>"], "Times": [3]})
    frame.attrs["languages"] = ["en"]
    html = pr.words_html(frame, ["Phrase"])
    assert '<span class="quote" lang="en">parking &lt;b&gt;permits&lt;/b&gt;</span>' in html
    assert "<td>English</td>" in html and "<b>" not in html


@pytest.mark.slow
def test_a_survey_without_open_text_skips_the_stage_with_one_sentence(tmp_path):
    """No open question answered and no e-mails: the page says so in one sentence and shows no
    section; the tables are written (empty), so the summary finds them."""
    import papermill

    from analysis import clean, paths

    params = paths.load_params(ROOT / "params" / "naidislinn-2024.yaml")
    from analysis import codebook, schemas

    clean.run_clean(params, run_dir=tmp_path)
    file = tmp_path / "data" / "proposals.parquet"
    cb = codebook.load(ROOT / params["codebook"])
    schemas.write_parquet(schemas.read_parquet(file, "proposals", cb).iloc[0:0], file, "proposals", cb)
    out = tmp_path / "03.ipynb"
    values = {k: params[k] for k in ("survey", "synthetic", "codebook", "report_lang")}
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters={**values, "themes": "", "run_dir": str(tmp_path)},
                               kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    shown = [o.get("data", {}).get("text/html", "") or o.get("data", {}).get("text/markdown", "") or o.get("text", "")
             for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    said = [x for x in shown if "no free-text answers" in x]
    assert len(said) == 1 and said[0].startswith("<p>")
    assert not [x for x in shown if x.lstrip().startswith("#")]            # no section heading at all
    assert pd.read_csv(tmp_path / "tables" / "themes.csv")["n"].sum() == 0


# --------------------------------------------------------------------------- speed without changing results

def test_repeated_texts_are_analysed_once_and_counted_every_time():
    """build_corpus works per distinct (text, form language); the corpus is the one a text-by-text
    analysis gives: the same tokens, languages, counts and surface forms."""
    texts = ["Trūkst dzīvokļu.", "nav", "Trūkst dzīvokļu.", "нет", "nav", "Trūkst dzīvokļu."]
    langs = ["lv", "lv", "lv", "ru", "ru", "lv"]
    corpus = pr.build_corpus(texts, list("abcdef"), langs)
    assert corpus.n_rows == 4                                    # "nav" in a Russian form is another row
    one_by_one = [pr.build_corpus([t], ["x"], [lang]) for t, lang in zip(texts, langs)]
    assert corpus.language == [c.language[0] for c in one_by_one]
    assert [[t[:3] for t in toks] for toks in corpus.tokens] == [[t[:3] for t in c.tokens[0]] for c in one_by_one]
    tok, docs = corpus.counts(range(6))
    assert tok["dzīvoklis"] == 3 and docs["dzīvoklis"] == 3 and tok["trūkt"] == 3
    assert corpus.counts([0, 2], docs=False)[0] == {"trūkt": 2, "dzīvoklis": 2}
    assert corpus.n_word_tokens == sum(c.n_word_tokens for c in one_by_one)
    assert list(corpus.content_ids(2)) == list(corpus.content_ids(0))


def test_work_split_over_processes_comes_back_in_order():
    """in_chunks: two forked workers give the same list, in the same order, as one process."""
    items = [f"t{i}" for i in range(103)]

    def fn(lo, hi):
        return [(i, items[i].upper()) for i in range(lo, hi)]

    assert pr.in_chunks(fn, len(items), 2) == pr.in_chunks(fn, len(items), 1) == fn(0, len(items))


def test_quotes_checked_lazily_give_the_selection_of_checking_all(monkeypatch):
    """_Publishable.fixpoint reruns a greedy selection excluding the refused texts it picked: the
    result equals excluding every refused text first."""
    from analysis import privacy

    texts = [f"Priekšlikums numur {i} par ielu remontu un apgaismojumu pilsētā." for i in range(40)]
    refused = {3, 4, 5, 11, 17}
    monkeypatch.setattr(privacy, "quote_is_publishable", lambda t: int(t.split()[2]) not in refused)
    props = pd.DataFrame({"proposal_id": [f"p{i}" for i in range(40)], "text": texts})
    order = [4, 3, 9, 5, 11, 2, 17, 8, 1, 0]

    def select(bad):
        picked = [i for i in order if f"p{i}" not in bad][:4]
        return pd.DataFrame({"proposal_id": [f"p{i}" for i in picked]})

    lazy = pr._Publishable(props, (10, 320)).fixpoint(select)
    assert list(lazy["proposal_id"]) == list(select({f"p{i}" for i in refused})["proposal_id"]) == \
        ["p9", "p2", "p8", "p1"]


def test_lemma_stream_and_group_scores_match_the_pairs_they_replace():
    texts = ["Trūkst dzīvokļu un darba.", "Vajag veloceliņus!", "Trūkst dzīvokļu un darba.", "", "Parki, parki."]
    corpus = pr.build_corpus(texts, list("abcde"), ["lv"] * 5)
    idx = [4, 0, 2, 3]
    assert corpus.lemma_stream(idx) == [lem for i in idx for lem in corpus.content_lemmas(i)]
    assert corpus.lemma_stream([]) == []
    groups = {"x": [0, 1], "y": [2, 3, 4]}
    ref = tx.tfidf_keywords({g: [corpus.content(i) for i in ix] for g, ix in groups.items()}, top_n=None,
                            lemmatised=True)
    got = tx.tfidf_group_scores({g: corpus.lemma_stream(ix) for g, ix in groups.items()})
    assert {(g, lem): s for g, lem, s in zip(ref["group"], ref["lemma"], ref["tfidf"])} == \
        {(g, lem): s for g, d in got.items() for lem, s in d.items()}


def test_the_corpus_built_by_two_worker_processes_is_the_one_process_corpus(monkeypatch):
    texts = ["Trūkst īres dzīvokļu jaunām ģimenēm.", "vajag vairak velocelinu", "Нужно больше парковок.",
             "nav", "Parki ir labi, bet trūkst soliņu!", "Please fix the roads.", "Trūkst īres dzīvokļu."] * 3
    langs = ["lv", "lv", "ru", "lv", "lv", None, "lv"] * 3
    ids = [str(i) for i in range(len(texts))]
    monkeypatch.setenv("ANALYSIS_WORKERS", "1")
    one = pr.build_corpus(texts, ids, langs)
    monkeypatch.setenv("ANALYSIS_WORKERS", "2")
    two = pr.build_corpus(texts, ids, langs)
    assert (one.language, one.tokens, one.vocab, one.n_forms) == (two.language, two.tokens, two.vocab, two.n_forms)
    assert one.language[:6] == ["lv", "lv", "ru", "lv", "lv", "en"]


def test_a_malformed_worker_count_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("ANALYSIS_WORKERS", "two")
    with pytest.raises(ValueError, match="ANALYSIS_WORKERS='two': expected a whole number"):
        pr.workers(50_000)
    monkeypatch.setenv("ANALYSIS_WORKERS", "3")
    assert pr.workers(5) == 3


def _colloc_corpus():
    rng = np.random.default_rng(7)
    words = ["jauns", "dzīvoklis", "īre", "cena", "un", "parks", "soliņš", "ar", "iela", "remonts", "bērnu",
             "laukums", ",", ".", "pilsēta", "vajag", "nav", "velo", "celiņš", "par", "darbs"]
    texts = [" ".join(rng.choice(words, size=int(rng.integers(0, 14))).tolist()) for _ in range(150)]
    texts += texts[:40] + ["Построить новые детские площадки, новые детские площадки!",
                          "Новые детские площадки и городские парки."] * 6
    langs = ["lv"] * (len(texts) - 12) + ["ru"] * 12
    return pr.build_corpus(texts, [f"p{i}" for i in range(len(texts))], langs)


@pytest.mark.parametrize("measure", ["llr", "pmi"])
def test_collocations_counted_on_arrays_equal_the_counter_version(measure):
    """collocation_table counts n-grams on lemma-id arrays (_ngram_table); the table is the one
    analysis.text.collocations gives on the corpus's runs of content words (_segments)."""
    corpus = _colloc_corpus()
    props = pd.DataFrame({"proposal_id": corpus.ids})
    got = pr.collocation_table(props, corpus, {2: 2, 3: 2}, top_n=12, measure=measure)
    frames = []
    for language in pr.text_languages(corpus):
        segs = pr._segments(corpus, [i for i, x in enumerate(corpus.language) if x == language])
        for n in (2, 3):
            c = tx.collocations(segs, n=n, min_count=2, measure=measure, top_n=12, lemmatised=True)
            if len(c):
                c.insert(0, "language", language)
                c.insert(1, "n", n)
                frames.append(c)
    ref = pr._finish(pd.concat(frames, ignore_index=True)[list(got.columns)], ["language", "n", "score", "lemmas"],
                     [True, True, False, True])
    assert len(got) > 20 and set(got["language"]) == {"lv", "ru"} and set(got["n"]) == {2, 3}
    pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True), check_exact=True)


def test_tally_without_packed_keys_counts_as_with_them():
    """_Tally falls back to rows and a dict when base**k does not fit an int64 key: same counts."""
    rng = np.random.default_rng(3)
    cols = [rng.integers(0, 5, 400) for _ in range(3)]
    small = pr._Tally(cols, 5)
    big = pr._Tally(cols, 2 ** 21)               # (2**21)**3 > 2**62: unpacked
    assert small.packed and not big.packed
    assert small.rows.tolist() == big.rows.tolist() and small.counts.tolist() == big.counts.tolist()
    want = np.array([[0, 0, 0], [4, 4, 4], [1, 2, 3], [9, 9, 9]])
    assert small.lookup(want).tolist() == big.lookup(want).tolist()
    assert small.lookup(want)[3] == 0
    ref = Counter(zip(*[c.tolist() for c in cols]))
    assert small.lookup(want[:3]).tolist() == [ref[tuple(w)] for w in want[:3].tolist()]


def test_corpus_built_in_small_blocks_is_the_corpus_built_at_once(monkeypatch):
    """build_corpus tokenises CORPUS_BLOCK distinct texts at a time and merges their forms: the
    block size changes nothing (tokens, languages, vocabulary, counts, surfaces)."""
    texts = ["Trūkst īres dzīvokļu jaunām ģimenēm.", "vajag vairak velocelinu", "Нужно больше парковок.",
             "nav", "Parki ir labi, bet trūkst soliņu!", "", "Trūkst īres dzīvokļu.", "vajag parkus"] * 2
    langs = ["lv", "lv", "ru", "lv", "lv", "lv", "lv", "ru"] * 2
    ids = [str(i) for i in range(len(texts))]
    whole = pr.build_corpus(texts, ids, langs)
    monkeypatch.setattr(pr, "CORPUS_BLOCK", 3)
    blocks = pr.build_corpus(texts, ids, langs)
    assert blocks.tokens == whole.tokens == [whole.tokens[i] for i in range(len(texts))]
    assert (blocks.language, blocks.vocab, blocks.n_forms, blocks.n_word_tokens) == \
        (whole.language, whole.vocab, whole.n_forms, whole.n_word_tokens)
    assert blocks.counts(range(len(texts))) == whole.counts(range(len(texts)))
    assert blocks.surface == whole.surface and blocks.surface["dzīvoklis"] == "dzīvokļu"
    assert whole.tokens[5] == [] and whole.n_content()[5] == 0
    assert [list(x) for x in whole._row_csr()[3:]] != [[], []]


def test_group_tfidf_from_lemma_ids_equals_the_vectoriser_on_lemma_lists(stage):
    """Issue 15: keywords' group TF-IDF is computed from lemma ids (no Python list of every
    token of a scope); it equals analysis.text.tfidf_group_scores of the groups' lemma streams
    bit for bit (==, not approximately), for the stage's own groups, random groups that overlap,
    repeat texts and leave one group empty."""
    from analysis import text as tx

    corpus = stage.corpus
    n = len(corpus.ids)
    rng = np.random.default_rng(3)
    groupings = [
        {"a": np.arange(0, n, 2), "b": np.arange(1, n, 2)},
        {"x": rng.choice(n, n // 3), "y": np.sort(rng.choice(n, n // 2, replace=False)),
         "z": np.array([], dtype=np.int64), "w": rng.permutation(n)[: n // 5]},
        {"all": np.arange(n)},
    ]
    for groups in groupings:
        want = tx.tfidf_group_scores({g: corpus.lemma_stream(idx) for g, idx in groups.items()})
        got = corpus.tfidf_group_scores(groups)
        assert got == want
        assert sum(len(v) for v in got.values()) > 20
