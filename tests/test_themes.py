"""The theme dictionary, dictionary coding, quotes, agreement metrics and the coding sample."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import proposals as pr
from analysis import themes as th

ROOT = Path(__file__).resolve().parents[1]
DICTIONARY = ROOT / "params" / "themes" / "liepaja-2022.yaml"


@pytest.fixture(scope="module")
def dictionary() -> th.Dictionary:
    return th.load_dictionary(DICTIONARY)


def code(texts, dictionary, form_language=None) -> pd.DataFrame:
    """Texts through the stage's own pipeline (language, tokens, lemmas) and the dictionary."""
    corpus = pr.build_corpus(texts, [f"p{i}" for i in range(len(texts))], form_language)
    return th.code_texts(corpus.tokens, dictionary, index=corpus.ids)


def themes_of(text, dictionary, form_language=None) -> set[str]:
    row = code([text], dictionary, [form_language] if form_language else None).iloc[0]
    return set(row.index[row.to_numpy()])


# --------------------------------------------------------------------------- the dictionary

def test_dictionary_uses_the_generator_theme_codes_sectors_and_names(dictionary):
    from analysis import synth

    # the generator's themes keep their codes (the planted truth uses them); the dictionary adds
    # themes of its own from everyday vocabulary (issue 10)
    assert set(synth.THEME_CODES) <= set(dictionary.codes)
    for t in synth.THEMES:
        assert dictionary.sector_of(t["code"]) == t["sector"]
        assert dictionary.name(t["code"], "lv") == t["lv"]


def test_every_theme_has_latvian_and_russian_vocabulary(dictionary):
    for code_, theme in dictionary.themes.items():
        langs = {lang for key in ("lemmas", "phrases") for lang, items in theme.sources[key].items() if items}
        assert {"lv", "ru"} <= langs, code_


def write(tmp_path, body: str) -> Path:
    p = tmp_path / "themes.yaml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


@pytest.mark.parametrize("body, expected", [
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {lv: ["ī*re"]}
     """, r"theme 'rent' \(under housing\), lemmas.lv\[0\] 'ī\*re'.*'\*' may stand only at the start"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {lv: ["īres dzīvoklis"]}
     """, r"theme 'rent'.*'īres dzīvoklis'.*one word; put several words under `phrases`"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {lv: [un]}
     """, r"theme 'rent'.*'un'.*stopword"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {ru: [arenda]}
     """, r"theme 'rent'.*lemmas.ru\[0\] 'arenda'.*Russian pattern is written in Latin letters"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {lv: ["ve*"]}
     """, r"'ve\*'.*at least 3 letters"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           phrases: {lv: [īre]}
     """, r"phrases.lv\[0\] 'īre'.*at least two words"),
    ("""
     themes:
       harbour:
         rent:
           name: {lv: Īre}
           lemmas: {lv: [īre]}
     """, r"themes.harbour: unknown sector"),
    ("""
     themes:
       housing:
         rent:
           lemmas: {lv: [īre]}
     """, r"theme 'rent'.*needs name"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {lv: [īre]}
           lemmas: {ru: [аренда]}
     """, r"duplicate key 'lemmas' \(line 7\)"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {lv: [īre]}
       mobility:
         rent:
           name: {lv: Īre}
           lemmas: {lv: [īrēt]}
     """, r"themes.mobility.rent: duplicate theme code"),
    ("""
     settings: {n_topic: 5}
     themes:
       housing:
         rent:
           name: {lv: Īre}
           lemmas: {lv: [īre]}
     """, r"settings: unknown setting\(s\) \['n_topic'\]"),
    ("""
     themes:
       housing:
         rent:
           name: {lv: Īre}
           together: [["dzīvoklis"]]
     """, r"theme 'rent'.*together\[0\]: expected a list of at least two parts"),
])
def test_dictionary_errors_name_the_theme_and_the_pattern(tmp_path, body, expected):
    with pytest.raises(th.DictionaryError, match=expected) as err:
        th.load_dictionary(write(tmp_path, body))
    assert str(tmp_path / "themes.yaml") in str(err.value)


def test_missing_dictionary_file_is_named(tmp_path):
    with pytest.raises(th.DictionaryError, match="not found"):
        th.load_dictionary(tmp_path / "nope.yaml")


def test_pattern_kinds():
    assert th.Pattern.parse("velo*").matches("veloceliņš")
    assert th.Pattern.parse("*stāvviet*").matches("autostāvvieta")
    assert th.Pattern.parse("*basein*").matches("peldbaseins")
    assert not th.Pattern.parse("parks").matches("parkošanās")
    # a key typed without diacritics is compared with the pattern's plain form
    assert th.Pattern.parse("mājokl*").matches("majoklu")
    # ... but a key with diacritics is not (ziņa is no zina / zināt)
    assert not th.Pattern.parse("zin*").matches("ziņas")


# --------------------------------------------------------------------------- coding

@pytest.mark.parametrize("text, theme", [
    # Latvian, inflected forms of the lemma patterns
    ("Pilsētā ļoti trūkst īres dzīvokļu jaunām ģimenēm.", "rental_shortage"),
    ("Vajag vairāk drošu veloceliņu starp apkaimēm.", "cycling_paths"),
    ("Centrā nav kur novietot automašīnu, trūkst autostāvvietu.", "parking"),
    ("Padomju laika mājas jāsiltina, pašvaldībai jāpalīdz ar renovāciju.", "renovation_support"),
    ("Bērnudārzos ir garas rindas.", "schools_kindergartens"),
    ("Jaunieši pēc vidusskolas aizbrauc uz Rīgu un vairs neatgriežas.", "youth_leaving"),
    ("Karostā vajag sakārtot ielas un ēkas.", "karosta"),
    ("Informāciju vajadzētu publicēt arī krievu valodā.", "multilingual_info"),
    ("Tramvajam vakaros jākursē biežāk.", "public_transport"),
    ("Lidostai vajag regulārus reisus uz Rīgu un Vāciju.", "airport_port"),
    # Latvian typed without diacritics
    ("pilseta loti trukst ires dzivoklu", "rental_shortage"),
    ("vajag vairak velocelinu un velosipedu novietnu", "cycling_paths"),
    ("karostas iedzivotaji jutas aizmirsti", "karosta"),
    ("majoklu pieejamiba ir galvena problema", "rental_shortage"),
    ("atkritumu skirosana apkaimes ir slikta", "cleanliness"),
    # Russian
    ("В Лиепае не хватает арендных квартир.", "rental_shortage"),
    ("Нужны новые велодорожки вдоль моря.", "cycling_paths"),
    ("Информацию нужно публиковать и на русском языке.", "multilingual_info"),
    ("Молодёжь уезжает за границу.", "youth_leaving"),
    ("Во дворах не хватает парковочных мест.", "parking"),
    # English
    ("More bike lanes would be great.", "cycling_paths"),
    ("Please publish the news in English too.", "multilingual_info"),
])
def test_hand_written_proposals_get_their_theme(dictionary, text, theme):
    assert theme in themes_of(text, dictionary)


def test_a_text_can_carry_several_themes(dictionary):
    got = themes_of("Vajag veloceliņu uz Karostu. Un informāciju arī krievu valodā!", dictionary)
    assert {"cycling_paths", "karosta", "multilingual_info"} <= got


def test_unrelated_text_gets_no_theme(dictionary):
    assert themes_of("Paldies par aptauju, viss ir labi.", dictionary) == set()


def test_an_idiom_does_not_count_for_the_theme_of_its_words(dictionary):
    # "vienas pieturas aģentūra" is a one-stop agency, not a bus stop
    assert themes_of("Investoriem vajag vienas pieturas aģentūru.", dictionary) == {"investors_sez"}
    assert "public_transport" in themes_of("Autobusa pietura ir pārāk tālu no mājām.", dictionary)


def test_co_occurrence_must_be_in_one_sentence(dictionary):
    # "dzīvoklis" and "trūkt" together name a shortage of flats, but not across sentences
    assert "rental_shortage" in themes_of("Liepājā trūkst dzīvokļu.", dictionary)
    assert "rental_shortage" not in themes_of("Mūsu dzīvoklis ir silts. Trūkst tikai pasākumu.", dictionary)


def test_school_as_a_place_is_not_the_school_theme(dictionary):
    assert "schools_kindergartens" not in themes_of("Trūkst sporta laukumu pie skolām.", dictionary)
    assert "schools_kindergartens" in themes_of("Skolās trūkst skolotāju.", dictionary)


def test_code_texts_accepts_plain_lemma_lists(dictionary):
    coded = th.code_texts([["veloceliņš", "karosta"], ["nekas"]], dictionary)
    assert coded.loc[0, "cycling_paths"] and coded.loc[0, "karosta"]
    assert not coded.loc[1].any()
    assert list(coded.columns) == dictionary.codes


def test_coverage_and_uncoded_terms():
    coded = pd.DataFrame({"a": [True, False, False], "b": [False, False, True]})
    cov = th.coverage(coded, pd.Series(["housing", "housing", "email"]))
    assert cov.set_index("scope").loc["housing", "share_uncoded"] == 0.5
    assert cov.set_index("scope").loc["all", "n_coded"] == 2
    terms = th.uncoded_terms([[("x", "x")], [("kaķis", "kaķi"), ("kaķis", "kaķis"), ("kaķis", "kaķi")], []],
                             coded, top_n=5)
    assert terms.iloc[0].to_dict() == {"lemma": "kaķis", "surface": "kaķi", "count": 3, "doc_count": 1}


# --------------------------------------------------------------------------- quotes

def quote_fixture():
    props = pd.DataFrame({
        "proposal_id": ["a", "b", "c", "d"],
        "respondent_id": ["R-1", "R-2", "R-3", "R-4"],
        "text": ["<script>alert(1)</script> Vajag vairāk veloceliņu gar jūru un uz Karostu.",
                 "Veloceliņi ir vajadzīgi visur pilsētā, arī uz Tosmari.",
                 "Veloceliņš līdz Ezerkrastam būtu ļoti noderīgs visiem.",
                 "Vajag veloceliņus un velosipēdu novietnes pie veikaliem."],
    })
    hits = pd.DataFrame({"cycling_paths": [1, 1, 1, 2], "karosta": [1, 0, 0, 0]})
    return props, hits


def test_quotes_are_deterministic_and_never_from_excluded_rows():
    props, hits = quote_fixture()
    q1 = th.select_quotes(props, hits, per_theme=3, chars=(20, 200), excluded_ids={"R-4"})
    q2 = th.select_quotes(props, hits, per_theme=3, chars=(20, 200), excluded_ids={"R-4"})
    pd.testing.assert_frame_equal(q1, q2)
    assert "d" not in set(q1["proposal_id"])
    assert list(q1.loc[q1["theme"] == "cycling_paths", "rank"]) == [1, 2, 3]
    with pytest.raises(AssertionError, match="quarantined"):
        th.assert_not_excluded(q1, props, {"R-2"})
    with pytest.raises(AssertionError, match="not analysed"):
        th.assert_not_excluded(pd.DataFrame({"proposal_id": ["zz"]}), props, set())


def test_quotes_are_html_escaped_when_shown(dictionary):
    props, hits = quote_fixture()
    quotes = th.select_quotes(props, hits, per_theme=3, chars=(20, 200))
    st = pr.Stage03({"theme_quotes": quotes}, None, dictionary, "lv", 10, 0.05, {}, {})
    html = pr.quotes_html(st)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --------------------------------------------------------------------------- agreement

def test_cohens_kappa_of_a_known_two_by_two_table():
    # Cohen (1960): kappa = (p_o - p_e) / (1 - p_e). Worked example (Wikipedia, "Cohen's kappa"):
    # both yes 20, A yes / B no 5, A no / B yes 10, both no 15 -> p_o = 0.7, p_e = 0.5, kappa = 0.4
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert th.cohens_kappa(a, b) == pytest.approx(0.4)
    auto = pd.DataFrame({"t": np.array(a, bool)})
    human = pd.DataFrame({"t": b})
    res = th.agreement(auto, human, n_boot=0).set_index("theme")
    assert res.loc["t", "precision"] == pytest.approx(20 / 25)
    assert res.loc["t", "recall"] == pytest.approx(20 / 30)
    assert res.loc["t", "f1"] == pytest.approx(2 * 20 / (2 * 20 + 5 + 10))
    assert res.loc["t", "kappa"] == pytest.approx(0.4)
    assert (res.loc["t", ["tp", "fp", "fn"]].tolist()) == [20, 5, 10]


def test_agreement_macro_averages_defined_themes_with_deterministic_intervals():
    rng = np.random.default_rng(0)
    human = pd.DataFrame(rng.random((200, 3)) < 0.3, columns=["x", "y", "z"]).astype(int)
    auto = human.astype(bool).copy()
    flip = rng.random((200, 3)) < 0.1
    auto = auto ^ flip
    human["never"] = 0
    auto["never"] = False
    r1 = th.agreement(auto, human, n_boot=300, seed=5)
    r2 = th.agreement(auto, human, n_boot=300, seed=5)
    pd.testing.assert_frame_equal(r1, r2)
    r = r1.set_index("theme")
    assert np.isnan(r.loc["never", "f1"])                      # no positives anywhere: undefined
    assert r.loc["macro", "f1"] == pytest.approx(r.loc[["x", "y", "z"], "f1"].mean())
    for k in th.METRICS:
        assert (r[f"{k}_lo"] <= r[k] + 1e-12).all() or r[k].isna().any()
        assert r.loc["macro", f"{k}_lo"] <= r.loc["macro", k] <= r.loc["macro", f"{k}_hi"]


def test_human_coding_file_errors_name_file_column_and_row(tmp_path, dictionary):
    good = tmp_path / "coded.csv"
    good.write_text("proposal_id,text,cycling_paths,karosta\np1,x,1,\np2,y,0,1\np3,z,,\n", encoding="utf-8")
    coded = th.load_human_coding([good], dictionary)
    assert list(coded.index) == ["p1", "p2"]                    # p3 was not coded
    assert coded.loc["p1"].tolist() == [1, 0]
    bad = tmp_path / "bad.csv"
    bad.write_text("proposal_id,cycling_paths\np1,1\np2,yes\n", encoding="utf-8")
    with pytest.raises(th.CodingFileError, match=r"bad.csv: column cycling_paths, row 3 \(proposal p2\): 'yes'"):
        th.load_human_coding([bad], dictionary)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("proposal_id,bikes\np1,1\n", encoding="utf-8")
    with pytest.raises(th.CodingFileError, match=r"unknown.csv: column\(s\) \['bikes'\]"):
        th.load_human_coding([unknown], dictionary)


# --------------------------------------------------------------------------- the coding sample

def sample_frame(n=120):
    rng = np.random.default_rng(3)
    sectors = ["housing", "mobility", "urban", None]
    rows = []
    for i in range(n):
        s = sectors[i % 4]
        email = i % 10 == 0
        rows.append({"proposal_id": f"P{i:03d}", "respondent_id": f"R-{i:05d}",
                     "source": "email" if email else "survey",
                     "question": "email" if email else (f"proposal_{s}" if s else "proposal_other"),
                     "sector": None if email else s, "text": f"teksts {rng.integers(1000)}"})
    rows[5]["text"] = "=HYPERLINK(\"http://x\")"
    return pd.DataFrame(rows)


def test_coding_sample_is_stratified_neutralised_and_reproducible(dictionary):
    props = sample_frame()
    s1 = th.coding_sample(props, dictionary, n=20, seed=4)
    s2 = th.coding_sample(props, dictionary, n=20, seed=4)
    pd.testing.assert_frame_equal(s1, s2)
    assert len(s1) == 20
    strata = set(zip(s1["source"], s1["sector"]))
    assert strata == {("email", "email"), ("survey", "housing"), ("survey", "mobility"), ("survey", "urban"),
                      ("survey", "other")}
    assert list(s1.columns[:4]) == ["proposal_id", "sector", "source", "text"]
    assert list(s1.columns[4:]) == dictionary.codes
    assert (s1[dictionary.codes] == "").all().all()
    everything = th.coding_sample(props, dictionary, n=1000, seed=4)
    assert len(everything) == len(props)
    assert everything.loc[everything["proposal_id"] == "P005", "text"].item().startswith("'=")


def test_coding_sample_command_writes_the_csv_or_exits_2(tmp_path, monkeypatch, dictionary):
    from analysis import paths

    params = tmp_path / "p.yaml"
    params.write_text(f"survey: cs-test\nthemes: {DICTIONARY}\n", encoding="utf-8")
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setenv("ANALYSIS_OUTPUTS", str(tmp_path / "outputs"))
    assert th.coding_sample_command(params, n=10, seed=1, out=tmp_path / "out.csv") == 2   # nothing to sample
    data = tmp_path / "outputs" / "cs-test" / "latest" / "data"
    data.mkdir(parents=True)
    sample_frame().to_parquet(data / "proposals.parquet")
    assert th.coding_sample_command(params, n=10, seed=1, out=tmp_path / "out.csv") == 0
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert len(out) == 10 and "karosta" in out.columns
    assert th.coding_sample_command(tmp_path / "missing.yaml", n=10) == 2


def test_cli_calls_the_coding_sample_command(tmp_path, monkeypatch):
    from analysis import __main__ as cli

    seen = {}
    monkeypatch.setattr(th, "coding_sample_command", lambda p, n, seed, out: seen.update(p=p, n=n, seed=seed, out=out) or 0)
    assert cli.main(["coding-sample", "params/x.yaml", "--n", "7", "--seed", "3", "--out", "o.csv"]) == 0
    assert seen == {"p": "params/x.yaml", "n": 7, "seed": 3, "out": "o.csv"}


# --------------------------------------------------------------------------- the planted themes

@pytest.fixture(scope="module")
def sample_proposals(tmp_path_factory):
    from analysis import clean, paths

    if not (ROOT / "data" / "sample" / "truth.json").exists():
        pytest.fail("the embedded sample is missing: make sample")
    params = paths.load_params(ROOT / "params" / "liepaja-2022.yaml")
    result = clean.run_clean(params, run_dir=tmp_path_factory.mktemp("clean"), write=False)
    return result.proposals


def test_macro_f1_on_the_sample_planted_themes_reaches_the_goal(sample_proposals, dictionary):
    """The planted themes of data/sample play the human coder; goal: macro F1 >= 0.85."""
    import json

    truth = json.loads((ROOT / "data" / "sample" / "truth.json").read_text(encoding="utf-8"))
    props = sample_proposals.reset_index(drop=True)
    corpus = pr.build_corpus(props["text"].astype(str).tolist(), props["proposal_id"].astype(str).tolist(),
                             props["form_language"].astype(object).where(props["form_language"].notna(), None).tolist(),
                             dictionary.settings["extra_stopwords"])
    coded = th.code_texts(corpus.tokens, dictionary, index=corpus.ids)
    from analysis import synth

    generated = [c for c in dictionary.codes if c in synth.THEME_CODES]   # themes the generator plants
    planted, counts = pr.planted_coding(truth, props, generated)
    assert counts["proposals_matched"] > 0.9 * len(props)
    result = th.agreement(coded[generated], planted, themes=generated, n_boot=0).set_index("theme")
    macro = result.loc["macro", "f1"]
    per_theme = ", ".join(f"{k} {v:.2f}" for k, v in result["f1"].drop("macro").sort_values().items())
    print(f"macro F1 on the planted themes: {macro:.3f}; per theme: {per_theme}")
    assert macro >= 0.85, f"macro F1 {macro:.3f} is below the goal of 0.85; per theme: {per_theme}"


# --------------------------------------------------------------------------- issue 10: matching that cannot drift

def mini(tmp_path, body: str) -> th.Dictionary:
    return th.load_dictionary(write(tmp_path, body))


def mini_themes(text, d, form_language=None) -> set[str]:
    return themes_of(text, d, form_language)


def test_an_exact_pattern_matches_only_its_own_paradigm():
    # the old _with_lemma added what the lemmatiser made of the pattern: sez -> sēdēt,
    # kāpa -> kāpt, liepu -> liepa, pii -> pile
    assert th.Pattern.parse("sez", "lv").forms == frozenset({"sez"})
    assert th.Pattern.parse("pii", "lv").forms == frozenset({"pii"})
    assert th.Pattern.parse("liepu", "lv").forms == frozenset({"liepu"})
    kapa = th.Pattern.parse("kāpa", "lv")
    assert {"kāpa", "kāpas", "kāpām"} <= kapa.forms and "kāpt" not in kapa.forms and "kāpju" not in kapa.forms
    assert th.Pattern.parse("ceļš", "lv").matches("ceļus", plain=False, surface=True)
    assert not th.Pattern.parse("sez", "lv").matches("sēdēt", plain=False)


@pytest.mark.parametrize("text, theme", [
    ("Es sēžu mājās un domāju par dzīvi.", "investors_sez"),          # sēžu (I sit) is no SEZ
    ("Domes sēžu protokoli ir garlaicīgi.", "investors_sez"),
    ("Viņš kāpa pa kāpnēm uz otro stāvu.", "parks_beach"),              # kāpa = climbed
    ("Zem liepām vasarā ir ēna.", "university"),                        # lindens, not LiepU
    ("Dīķī peld pīles.", "schools_kindergartens"),                      # ducks, not PII
    ("Tiekamies rīt pie veikala!", "public_meetings"),                  # see you, not a meeting
    ("Projekta ietvaros notiks daudz kas.", "street_repair"),           # within, not sidewalks
    ("Vakar skatījos futbola tiešraidi.", "online_participation"),      # a football broadcast
    ("Mūsu uzņēmuma zīmols ir zināms visā Latvijā.", "music_brand"),
    ("Ar sveicieniem, Jānis", "welcome_info"),                          # a closing formula
    ("Man ir liels prieks par jauno tiltu.", "cycling_paths"),
    ("Bērni spēlējas parkos un pie jūras.", "parking"),                 # parkos = in parks (typed with diacritics)
    ("Līdz ceļiem ūdenī brienām pāri upei.", "roads_traffic"),          # up to the knees
])
def test_words_in_an_unrelated_sense_do_not_code_the_theme(dictionary, text, theme):
    assert theme not in themes_of(text, dictionary)


@pytest.mark.parametrize("text, theme", [
    # everyday posts (social_a.csv, the tuning set of social-media posts)
    ("Izdzēsu Facebook no telefona. Tagad sēžu Instagramā.", "info_channels"),
    ("tiktok algoritms mani pazīst labāk nekā mana mamma", "info_channels"),
    ("Ох уж эти тиктокеры, снимают всё подряд", "rental_shortage"),
    ("Зачем мне телефон с 5 камерами, если я фоткаю только кота", "lighting_safety"),
    ("Зима, а снега нет. Дети расстроены.", "lighting_safety"),
    ("Цены в магазинах просто космос.", "enterprise_trade"),
    ("Kurš vēl skatās hokeju? Tas trešais periods bija murgs.", "sport_facilities"),
    ("Россия снова обстреливает жилые дома.", "housing_conditions"),
])
def test_everyday_posts_do_not_code_a_municipal_theme(dictionary, text, theme):
    assert theme not in themes_of(text, dictionary)


@pytest.mark.parametrize("text, theme", [
    ("LiepU studentiem vajag kopmītnes.", "university"),
    ("PII rindas ir par garu.", "schools_kindergartens"),
    ("Domes sēžu tiešraide internetā būtu noderīga.", "online_participation"),
    ("Kāpa jāsargā, cilvēki staigā pa to un smiltis nobrūk.", "parks_beach"),
    ("Vajag salabot ceļus!", "street_repair"),
    ("iela ir bedraina, vajag salabot celus", "street_repair"),
    ("Parkosanas centra ir murgs, vietu nav.", "parking"),              # typed without diacritics
    ("Квартиру снять невозможно, всё дорого.", "rental_shortage"),
    ("Надо отремонтировать улицу, вечером там темно.", "street_repair"),
    ("Надо отремонтировать улицу, вечером там темно.", "lighting_safety"),
    ("Gribētos, lai domes lēmumus paskaidro cilvēku valodā.", "being_heard"),
    ("Город должен больше слушать жителей.", "being_heard"),
    ("Pilsētai vajag normālu kino un teātri.", "culture_venues"),
    ("Bibliotēkai vajadzētu strādāt arī svētdienās.", "culture_venues"),
    ("Izglītība ir svarīga.", "learning"),
    ("Mazajam uzņēmumam vajag atbalstu.", "enterprise_trade"),
    ("Mājoklis ir par dārgu.", "housing_conditions"),
    ("Tikai darba nav.", "jobs_wages"),
    ("Pašvaldībai vajag informāciju likt arī Instagramā.", "info_channels"),
    ("Снять квартиру невозможно.", "rental_shortage"),
    ("Снег на тротуарах никто не убирает.", "lighting_safety"),
    ("Vajag jaunu hokeja halli.", "sport_facilities"),                                 # typed without diacritics
    ("Atgriezāmies no Īrijas pēc 12 gadiem.", "remigration"),
    ("Meklēju dzīvokli jau divus mēnešus.", "rental_shortage"),
    ("Pie upes uz jaunās sienas jau grafiti.", "cleanliness"),
])
def test_everyday_words_and_russian_word_order_code_the_theme(dictionary, text, theme):
    assert theme in themes_of(text, dictionary)


def test_greetings_and_signatures_never_code(dictionary):
    for text in ["Labdien!", "Ar cieņu, Valda", "Ar sveicieniem", "Здравствуйте!", "С уважением, Ольга",
                 "Labdien! Paldies. Ar sveicieniem, Jānis"]:
        assert themes_of(text, dictionary) == set(), text


def test_plain_spelling_is_compared_only_in_texts_typed_without_diacritics(tmp_path):
    d = mini(tmp_path, """
     themes:
       mobility:
         parking:
           name: {lv: Stāvvietas}
           lemmas: {lv: ["parkoš*", "kāpu*", "netīr*"]}
     """)
    assert "parking" in mini_themes("parkosana ir dardza", d)                        # no diacritics at all
    assert "parking" not in mini_themes("Bērni spēlējas parkos, kur ir tīrs gaiss.", d)   # typed with diacritics
    assert "parking" not in mini_themes("Šis veikals netirgo ar alkoholu, un tā ir labi.", d)
    assert "parking" not in mini_themes("Pie kapu vārtiem vajag soliņu ārā.", d)
    # in a plain text the restored lemma decides: velos is vēlos (I wish), not a bike
    m = th._Matcher(mini(tmp_path, """
     themes:
       mobility:
         bikes:
           name: {lv: Velo}
           lemmas: {lv: ["velo*"]}
     """))
    assert not m.token_atoms(("vēlēties", "velos"), plain=True)
    assert m.token_atoms(("velosipēds", "velosipedu"), plain=True)
    assert not m.token_atoms(("parks", "parkos"), plain=False)
    # ... but a wildcard matching the typed word stands when the typed word is itself a form of the
    # restored lemma (darba is a form of darbs, no restoration made it): "Darba nav." is about jobs
    jobs = mini(tmp_path, """
     themes:
       business:
         jobs:
           name: {lv: Darbs}
           phrases: {lv: ["darba* nav"]}
     """)
    assert th._Matcher(jobs).token_atoms(("darbs", "darba"), plain=True)
    assert "jobs" in mini_themes("tikai darba nav", jobs)
    assert "jobs" in mini_themes("Tikai darba nav.", jobs)


def test_a_russian_phrase_of_one_word_and_a_function_word_matches_in_either_order(dictionary):
    # "нет работы" is written in the dictionary; "Работы нет." is as common (social_a.csv)
    assert "jobs_wages" in themes_of("Работы нет.", dictionary)
    assert "jobs_wages" in themes_of("В городе нет работы.", dictionary)


def test_stage03_restores_diacritics_only_in_texts_typed_without_them():
    corpus = pr.build_corpus(["Man ir liels prieks, ka būs jauns velo celiņš.", "man ir liels prieks"], ["a", "b"],
                             ["lv", "lv"])
    lemmas_a = {t[1]: t[0] for t in corpus.tokens[0] if t[3] >= 0}
    assert lemmas_a["prieks"] == "prieks" and lemmas_a["velo"] == "velo"
    lemmas_b = {t[1]: t[0] for t in corpus.tokens[1] if t[3] >= 0}
    assert lemmas_b["liels"] == "liels"


def test_context_guards_require_and_except_within_a_window(tmp_path):
    d = mini(tmp_path, """
     themes:
       urban:
         dunes:
           name: {lv: Kāpas}
           lemmas:
             lv: [{word: kāpa, requires: [jūra, smiltis], except: [kalns], window: 3}]
     """)
    assert "dunes" in mini_themes("Kāpa pie jūras ir skaista.", d)
    assert "dunes" not in mini_themes("Kāpa ir skaista.", d)                                # nothing required near
    assert "dunes" not in mini_themes("Kāpa ir ļoti ļoti ļoti skaista un tālu ir jūra.", d)   # outside the window
    assert "dunes" not in mini_themes("Kāpa kā kalns pie jūras.", d)                        # an except word near
    assert "dunes" not in mini_themes("Kāpa ir skaista. Jūra ir auksta.", d)                # another sentence
    with pytest.raises(th.DictionaryError, match=r"lint_ok.*why"):
        mini(tmp_path, """
         themes:
           urban:
             dunes:
               name: {lv: Kāpas}
               lemmas: {lv: [{word: kāpa, lint_ok: [kāpt]}]}
         """)


def test_weak_words_count_only_with_support(tmp_path):
    """A `weak:` word (news and fiction use it in passing) counts only with another word of the
    same sector, a second different weak word, or a weak_support word within weak_window words in
    the same sentence."""
    d = mini(tmp_path, """
     settings:
       weak_window: 4
       weak_support: {lv: [vajag, biežāk], ru: [нужно]}
     themes:
       mobility:
         trams:
           name: {lv: Tramvaji}
           lemmas: {lv: [pietura]}
           weak: {lv: ["tramvaj*"], ru: ["трамва*"]}
         trains:
           name: {lv: Vilcieni}
           weak: {lv: ["vilcien*"]}
       culture:
         events:
           name: {lv: Pasākumi}
           lemmas: {lv: [koncerts]}
     """)
    assert d.themes["trams"].weak == frozenset({th.Pattern.parse("tramvaj*"), th.Pattern.parse("трамва*")})
    assert "trams" not in mini_themes("Bille brauks ar tramvaju un skatīsies pa logu.", d)
    assert "trams" in mini_themes("Vajag tramvaju uz Karostu.", d)                        # a support word near
    assert "trams" in mini_themes("Tramvajs kursē reti, pietura ir tālu.", d)             # a strong word of the sector
    assert {"trams", "trains"} <= mini_themes("Tramvajs un vilciens kursē reti.", d)      # two different weak words
    assert "trams" not in mini_themes("Tramvajs ir zils. Vajag koncertu.", d)            # support in another sentence
    assert "trams" not in mini_themes("Tramvajs un koncerts.", d)                        # another sector is no support
    assert "trams" not in mini_themes("Tramvajs brauca pa ielu uz jūru un atpakaļ, vajag.", d)  # outside the window
    assert "trams" in mini_themes("Нужно больше трамваев.", d)
    with pytest.raises(th.DictionaryError, match=r"weak_window"):
        mini(tmp_path, """
         settings: {weak_window: -1}
         themes: {urban: {x: {name: {lv: X}, weak: {lv: [parks]}}}}
         """)
    with pytest.raises(th.DictionaryError, match=r"duplicate pattern"):
        mini(tmp_path, """
         themes: {urban: {x: {name: {lv: X}, lemmas: {lv: [parks]}, weak: {lv: [parks]}}}}
         """)


def test_a_place_in_the_locative_counts_only_with_support(tmp_path):
    """settings.place_themes: a word of a place theme in the Latvian locative (parkā, skolā) names
    where something happens, not the place as a topic: it counts only with support, like a weak
    word; other cases of the word, and texts typed without diacritics, are unaffected."""
    d = mini(tmp_path, """
     settings:
       weak_support: {lv: [vajag]}
       place_themes: [parks]
     themes:
       urban:
         parks:
           name: {lv: Parki}
           lemmas: {lv: [parks]}
       culture:
         events:
           name: {lv: Pasākumi}
           lemmas: {lv: [koncerts]}
     """)
    assert th.is_locative("parkā", "parks") and th.is_locative("parkos", "parks")
    assert not th.is_locative("parks", "parks") and not th.is_locative("parku", "parks")
    assert "parks" not in mini_themes("Sestdien parkā notiks koncerts.", d)     # a place only
    assert "events" in mini_themes("Sestdien parkā notiks koncerts.", d)
    assert "parks" in mini_themes("Parkā vajag vairāk soliņu.", d)              # support near
    assert "parks" in mini_themes("Parks ir nekopts.", d)                       # nominative: the topic
    assert "parks" in mini_themes("Jaunais parks ir skaists, bet parkā trūkst ēnas.", d)
    with pytest.raises(th.DictionaryError, match=r"place_themes.*nav"):
        mini(tmp_path, """
         settings: {place_themes: [nav]}
         themes: {urban: {x: {name: {lv: X}, lemmas: {lv: [parks]}}}}
         """)


@pytest.mark.parametrize("text, sector", [
    ("Bille jau grasījās paraustīt viņu aiz rokas, bet attapās - brauks ar tramvaju!", None),
    ("Pretī pa ielu nāk viņa latviešu valodas skolotāja.", None),
    ("Pasākuma pirmajā daļā organizācija atskatīsies uz paveikto.", None),
    ("Tramvajs kursē pārāk reti, vajag biežāk.", "mobility"),
    ("Skolās trūkst skolotāju.", "education"),
    ("Vajag vairāk pasākumu jauniešiem.", "culture"),
    # words news and fiction use in passing or in another sense (judged on treebank pool A, bench/themes_pool.py)
    ("Viņa ar pirkstu zīmēja apļus uz galda.", None),                  # circles, no roundabout
    ("Viņš aizgāja uz veikalu pēc maizes.", None),                     # an errand, no shops topic
    ("Tas viss bija kā kino.", None),
    ("Viņa krekls bija netīrs un saburzīts.", None),
    ("Ministrs rīt uzklausīs mēra skaidrojumus.", None),
    ("Biedrības sapulce ievēlēja jaunu valdi.", None),
    ("Viņš tulkoja dzeju no daudzām valodām.", None),
    ("Iedzīvotāju ienākuma nodoklis tiks samazināts.", None),          # taxes in general: no sector
    ("Pēc spēles pret universitātes komandu devāmies mājās.", None),
    ("Aplis pie tirgus ir šausmīgs, vajag luksoforu.", "mobility"),
    ("Karostā vajag veikalu, tuvākais ir tālu.", "business"),
    ("Vajag labiekārtot pagalmus un skvērus.", "urban"),
    ("Universitātei vajag vairāk studiju programmu.", "education"),
    ("Pilsētai vajag uzklausīt iedzīvotājus.", "participation"),
    ("Vakar muzejā satiku vecu draugu.", None),                         # a venue as the place of a meeting
    ("Strādāju veikalā maiņās.", None),                                 # a workplace, no shops topic
    ("Sporta hallē vajag jaunu grīdu.", "culture"),
])
def test_weak_words_of_the_shipped_dictionary(dictionary, text, sector):
    coded = code([text], dictionary)
    sectors = set(dictionary.sector_coding(coded).columns[dictionary.sector_coding(coded).iloc[0].to_numpy()])
    assert sectors == ({sector} if sector else set()), (text, sectors)


def test_cross_cutting_themes_say_which_sectors_they_feed(tmp_path, dictionary):
    with pytest.raises(th.DictionaryError, match=r"cross-cutting theme needs feeds"):
        mini(tmp_path, """
         themes:
           cross-cutting:
             media:
               name: {lv: Mediji}
               lemmas: {lv: [avīze]}
         """)
    with pytest.raises(th.DictionaryError, match=r"empty feeds list needs a note"):
        mini(tmp_path, """
         themes:
           cross-cutting:
             media:
               name: {lv: Mediji}
               feeds: []
               lemmas: {lv: [avīze]}
         """)
    for code, theme in dictionary.themes.items():
        if theme.sector == th.CROSS_CUTTING:
            assert theme.feeds or "place" in str(theme.sources) or code == "karosta", code
        else:
            assert theme.sector in theme.sectors
    assert dictionary.sectors_of("street_repair") == ("urban", "mobility")       # potholes: both
    coded = pd.DataFrame({"street_repair": [True, False], "info_channels": [False, True]})
    sec = dictionary.sector_coding(coded)
    assert sec.loc[0, ["urban", "mobility"]].all() and sec.loc[1, "participation"]


# --------------------------------------------------------------------------- the lint

@pytest.fixture(scope="module")
def shipped_lint(dictionary):
    return th.lint_dictionary(dictionary)


def test_lint_lists_vocabulary_words_matched_outside_the_intended_lemma(tmp_path):
    d = mini(tmp_path, """
     themes:
       urban:
         dunes:
           name: {lv: Kāpas}
           lemmas: {lv: [kāpa, "parkoš*"]}
     """)
    found = th.lint_dictionary(d)
    kapa = found[found["pattern"] == "kāpa"]
    assert "kāpt" in set(kapa["reading"]) and not kapa["accepted"].any()     # kāpa is also the past of kāpt
    with pytest.raises(th.DictionaryError, match=r"lint: .*kāpa"):
        th.load_dictionary(tmp_path / "themes.yaml", lint=True)
    accepted = mini(tmp_path, """
     themes:
       urban:
         dunes:
           name: {lv: Kāpas}
           lemmas: {lv: [{word: kāpa, lint_ok: [kāpt], why: "the verb is guarded elsewhere"}]}
     """)
    again = th.lint_dictionary(accepted)
    verb = again[again["reading"] == "kāpt"]
    assert len(verb) and verb["accepted"].all() and set(verb["why"]) == {"the verb is guarded elsewhere"}
    # in texts typed without diacritics "kapa" is also a form of kaps (grave): not accepted by kāpt
    assert not again.loc[again["reading"] == "kaps", "accepted"].any()


def test_the_shipped_dictionary_lints_clean_or_annotated(shipped_lint):
    bad = shipped_lint[~shipped_lint["accepted"]]
    assert bad.empty, bad.head(20).to_string()
    assert (shipped_lint["why"].str.len() > 0).all()


# --------------------------------------------------------------------------- the development set (data/devset)

DEVSET = ROOT / "data" / "devset"


def _bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_themes", ROOT / "bench" / "themes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.xfail(strict=True, reason="goal of issue 10 not reached yet: report-half sector macro-F1 0.805 "
                                       "(build half 0.863, held-out proposals_b.csv 0.783; bench/themes.py); strict: "
                                       "remove this mark when it passes")
def test_devset_report_half_sector_macro_f1_reaches_the_goal(dictionary):
    """The hand-coded development set, report half (never used to build the dictionary)."""
    if not (DEVSET / "proposals.csv").exists():
        pytest.fail("data/devset/proposals.csv is missing")
    r = _bench().devset_scores(dictionary, "report")
    assert r["macro_f1"] >= 0.85, r


@pytest.mark.xfail(strict=True, reason="goal of issue 10 not reached yet: a wrong sector fires in 6.3 % of the "
                                       "FRESH hand-coded treebank sentences, 5.3 % of the second fresh set (2.0 % of "
                                       "the old, tuned-on set; bench/themes.py); strict: remove when it passes")
def test_false_theme_rate_on_hand_coded_treebank_sentences_reaches_the_goal(dictionary):
    """Measured on the fresh sentences (data/devset/treebank_fresh.csv), never used for tuning; the
    old set (treebank_sectors.csv) has been tuned on and only guards against regressions below."""
    for name in ("treebank_sectors.csv", "treebank_fresh.csv"):
        if not (DEVSET / name).exists():
            pytest.fail(f"data/devset/{name} is missing")
    r = _bench().treebank_false_rate(dictionary, "treebank_fresh.csv")
    assert r["rate"] <= 0.03, r


def test_false_theme_rate_on_the_treebank_does_not_regress(dictionary):
    """Regression floor: before issue 10's weak words a wrong sector fired in 13.3 % of the old
    set and 9.3 % of the fresh set (bench/themes.py); now 3.0 % and 6.7 %."""
    b = _bench()
    assert b.treebank_false_rate(dictionary, "treebank_sectors.csv")["rate"] <= 0.05
    assert b.treebank_false_rate(dictionary, "treebank_fresh.csv")["rate"] <= 0.08


def test_devset_sector_coding_beats_the_old_dictionary(dictionary):
    """Regression floor measured on the report half: the old dictionary (before issue 10) reached
    a sector macro-F1 of 0.620 and coded no sector in 40.5 % of the texts (hand coding: 23.7 %)."""
    r = _bench().devset_scores(dictionary, "report")
    assert r["macro_f1"] >= 0.75
    assert abs(r["uncoded_share"] - r["hand_none_share"]) <= 0.08


def test_bench_scores_held_out_files_by_path_without_printing_texts(tmp_path, dictionary, capsys):
    """bench/themes.py's figures for the second held-out sets (proposals_b.csv, treebank_fresh2.csv),
    checked on small synthetic files: every row counts (no half column), sectors are `;` lists,
    the printed figures carry no text of the file, and a file without a needed column is named."""
    b = _bench()
    props = tmp_path / "proposals_b.csv"
    pd.DataFrame({
        "id": ["b1", "b2", "b3", "b4"],
        "text": ["Vajag vairāk autobusu reisu uz Karostu.", "Skolās vajag remontēt sporta zāles, bērniem nav kur trenēties.",
                 "Paldies par aptauju!", "Нужно больше автобусов вечером."],
        "language": ["lv", "lv", "lv", "ru"],
        "sectors": ["mobility", "education;culture", "", "mobility"],
        "topics": ["", "", "", ""], "note": ["", "", "", ""],
    }).to_csv(props, index=False)
    r = b.devset_scores(dictionary, None, props)
    assert r["n"] == 4
    assert r["sectors"]["mobility"]["n_hand"] == 2 and r["sectors"]["education"]["n_hand"] == 1
    assert r["hand_none_share"] == pytest.approx(0.25)
    assert r["sectors"]["mobility"]["tp"] == 2        # both bus texts are coded mobility
    b.print_devset("held out", r, "")
    out = capsys.readouterr().out
    assert "macro-F1" in out and "autobus" not in out and "Paldies" not in out

    tb = tmp_path / "treebank_fresh2.csv"
    pd.DataFrame({"sent_id": ["s1", "s2"],
                  "text": ["Viņš lēnām gāja mājās un domāja par vakaru.", "Autobusu pieturā nav nojumes, vajag to uzbūvēt."],
                  "sectors": ["", ""], "note": ["", ""]}).to_csv(tb, index=False)
    t = b.treebank_false_rate(dictionary, tb)
    assert (t["n"], t["n_false"]) == (2, 1) and t["rate"] == pytest.approx(0.5)
    b.print_treebank("treebank_fresh2.csv", "held out", t)
    out = capsys.readouterr().out
    assert "1 of 2" in out and "s2" not in out and "Autobus" not in out

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"id": ["x"], "text": ["a"], "language": ["lv"], "sektori": [""]}).to_csv(bad, index=False)
    with pytest.raises(SystemExit, match=r"bad\.csv.*sectors"):
        b.devset_scores(dictionary, None, bad)
    pd.DataFrame({"id": ["x"], "text": ["a"], "language": ["lv"], "sectors": ["transport"]}).to_csv(bad, index=False)
    with pytest.raises(SystemExit, match=r"bad\.csv.*transport"):
        b.devset_scores(dictionary, None, bad)


def test_except_phrases_found_by_their_first_word_equal_a_scan_of_every_phrase(sample_proposals, dictionary):
    """Issue 15: `_masked` looks up a theme's except phrases by the atoms of their first word
    instead of trying every phrase at every position; on real-looking texts (the sample's
    proposals and the hand-written development set) it masks exactly the positions the full
    scan masks, and at least one text has a masked position (so the comparison says something)."""
    m = th._Matcher(dictionary)

    def brute(seq):
        out = {}
        for i in range(len(seq)):
            for ti, phrases in m.excepts.items():
                for words in phrases:
                    if m._find(seq, words, i):
                        out.setdefault(ti, set()).update(range(i, i + len(words)))
        return out

    texts = sample_proposals["text"].astype(str).tolist()
    texts += pd.read_csv(ROOT / "data" / "devset" / "proposals.csv")["text"].astype(str).tolist()
    texts += ["Investoriem vajag vienas pieturas aģentūru.", "Vienas pieturas aģentūra un vienas pieturas aģentūra."]
    corpus = pr.build_corpus(texts, [f"p{i}" for i in range(len(texts))])
    masked_texts = 0
    for i in range(len(texts)):
        toks = [t for t in corpus.tokens[i] if len(t) < 3 or t[2] is not None]
        plain = th.typed_without_diacritics(t[1] for t in toks)
        seq = [m.token_atoms(t, plain) for t in toks]
        got = m._masked(seq)
        assert got == brute(seq), texts[i]
        masked_texts += bool(got)
    assert masked_texts >= 2


def _topic_quotes_reference(weights, ids, texts, per_topic=3, chars=(40, 320)):
    """topic_quotes as it was: every candidate sorted by its Python key."""
    rows = []
    lengths = np.array([len(t) for t in texts])
    ok_len = (lengths >= chars[0]) & (lengths <= chars[1])
    ids_arr = np.asarray(ids, dtype=object)
    for t in range(weights.shape[1]):
        w = weights[:, t]
        cand = np.flatnonzero(w > 0)
        order = sorted(cand.tolist(), key=lambda i: (not ok_len[i], -round(float(w[i]), 10), str(ids_arr[i])))
        seen, rank = set(), 0
        for i in order:
            key = " ".join(str(texts[i]).lower().split())
            if key in seen:
                continue
            seen.add(key)
            rank += 1
            rows.append({"topic": t + 1, "rank": rank, "proposal_id": str(ids_arr[i]), "text": texts[i]})
            if rank >= per_topic:
                break
    return pd.DataFrame(rows, columns=["topic", "rank", "proposal_id", "text"])


def test_topic_and_theme_quotes_at_scale_equal_sorting_every_candidate():
    """Issue 15: topic quotes sort only the heaviest readable texts (falling back to all when
    that cannot decide), theme quotes sort with np.lexsort; both equal the Python sort of every
    candidate, here on 30,000 texts with tied and nearly tied weights (equal to 10 decimals),
    repeated wordings, texts too short or long, and one topic whose heaviest texts are all one
    wording (the fallback)."""
    rng = np.random.default_rng(11)
    n = 30_000
    words = ["iela", "parks", "skola", "autobuss", "darbs", "māja", "sports", "kultūra"]
    texts = [" ".join(rng.choice(words, size=int(rng.integers(2, 60)))) for _ in range(n)]
    for i in rng.choice(n, 3000, replace=False):
        texts[i] = texts[int(rng.integers(0, 50))]              # repeated wordings
    ids = [f"p{int(x):07d}" for x in rng.permutation(n)]
    weights = np.round(rng.random((n, 6)) ** 3, 4)              # many ties
    weights[rng.random((n, 6)) < 0.3] = 0.0
    weights[:500, 2] += 1e-12                                   # differ only beyond 10 decimals
    weights[:, 5] = 0.0
    weights[:400, 5] = 0.9                                       # topic 6: its heaviest texts share one wording
    for i in range(400):
        texts[i] = "Vienāds teksts par ielu un parku, kas atkārtojas daudzās atbildēs."
    got = th.topic_quotes(weights, ids, texts, 3)
    want = _topic_quotes_reference(weights, ids, texts, 3)
    pd.testing.assert_frame_equal(got, want)

    hits = pd.DataFrame(rng.integers(0, 3, size=(n, 5)) * (rng.random((n, 5)) < 0.3), columns=list("abcde"))
    props = pd.DataFrame({"proposal_id": ids, "respondent_id": [f"r{i // 3}" for i in range(n)], "text": texts})
    excluded = {ids[5], "r7"}
    got = th.select_quotes(props, hits, 3, (40, 320), excluded, redact=False)
    pid, rid = np.asarray(ids, dtype=object), props["respondent_id"].to_numpy()
    lengths = np.array([len(t) for t in texts])
    h, n_themes, rows = hits.to_numpy(), (hits.to_numpy() > 0).sum(axis=1), []
    for ti, theme in enumerate(hits.columns):
        cand = [i for i in np.flatnonzero(h[:, ti] > 0) if pid[i] not in excluded and rid[i] not in excluded]
        order = sorted(cand, key=lambda i: (not (40 <= lengths[i] <= 320), -int(h[i, ti]), int(n_themes[i]),
                                            abs(lengths[i] - 180.0), pid[i]))
        seen_r, seen_t, rank = set(), set(), 0
        for i in order:
            key = " ".join(texts[i].lower().split())
            if rid[i] in seen_r or key in seen_t:
                continue
            seen_r.add(rid[i])
            seen_t.add(key)
            rank += 1
            rows.append({"theme": theme, "rank": rank, "proposal_id": pid[i], "text": texts[i]})
            if rank >= 3:
                break
    pd.testing.assert_frame_equal(got.reset_index(drop=True), pd.DataFrame(rows, columns=got.columns))


def test_a_dictionary_loaded_ahead_is_reused_until_its_file_changes(tmp_path):
    from analysis import themes as th_mod

    src = Path(th_mod.__file__).resolve().parents[2] / "params" / "themes" / "liepaja-2022.yaml"
    copy = tmp_path / "themes.yaml"
    copy.write_bytes(src.read_bytes())
    first = th_mod.load_dictionary(copy)
    assert th_mod.load_dictionary(copy) is first                       # loaded once per process
    assert th_mod.load_dictionary(copy, sectors=list(th_mod.SECTORS)) is not first   # other sectors: other key
    text = copy.read_text(encoding="utf-8")
    copy.write_text(text.replace('name: {lv: "Sabiedriskais transports"', 'name: {lv: "Sabiedriskais transports X"'),
                    encoding="utf-8")
    edited = th_mod.load_dictionary(copy)
    assert edited is not first and edited.themes["public_transport"].names["lv"] == "Sabiedriskais transports X"


def test_a_loaded_dictionary_is_kept_on_disk_and_read_back_equal(tmp_path, monkeypatch):
    """The loaded dictionary is cached beside the lemma cache, named by a hash of the file's
    bytes, the sectors and the code: a rerun (or the stage after the input check) reads it back
    equal to a fresh load, under the path it was given; another file's bytes miss; an unreadable
    cache is rebuilt; ANALYSIS_CACHE_DIR=off keeps nothing."""
    root = Path(__file__).resolve().parents[1]
    src = root / "params" / "themes" / "liepaja-2022.yaml"
    sectors = ["housing", "mobility", "urban", "education", "business", "culture", "participation", "newcomers"]
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    th._LOADED.clear()
    fresh = th.load_dictionary(src, sectors=sectors)
    kept = list((tmp_path / "cache").glob("themes-*.pickle"))
    assert len(kept) == 1
    copy = tmp_path / "copy.yaml"
    copy.write_bytes(src.read_bytes())
    th._LOADED.clear()

    def no_build(*a, **k):
        raise AssertionError("built again instead of read from the cache")

    with monkeypatch.context() as m:
        m.setattr(th, "_load_dictionary", no_build)
        again = th.load_dictionary(copy, sectors=sectors)
    import dataclasses

    assert again.path == copy and again is not fresh and dataclasses.replace(again, path=src) == fresh
    docs = [["veloceliņš", "karosta"], ["īre", "dzīvoklis", "dārgs"], ["парковка", "море"], ["nekas"]]
    coded = th.code_texts(docs, again)
    assert coded.to_numpy().any() and coded.equals(th.code_texts(docs, fresh))
    # other bytes: another file; a broken cache file: rebuilt
    copy.write_text(src.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    th._LOADED.clear()
    th.load_dictionary(copy, sectors=sectors)
    assert len(list((tmp_path / "cache").glob("themes-*.pickle"))) == 2
    kept[0].write_bytes(b"not a pickle")
    th._LOADED.clear()
    assert th.load_dictionary(src, sectors=sectors) == fresh
    # off: nothing kept
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", "off")
    th._LOADED.clear()
    assert th.load_dictionary(src, sectors=sectors) == fresh
    assert len(list((tmp_path / "cache").glob("themes-*.pickle"))) == 2
    th._LOADED.clear()
