"""Learning from human coding: coding files, matching, the per-theme models combined with the
dictionary, cross-validation, the source of every code, the next texts to code, the simulated coder."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import learn
from analysis.themes import CodingFileError

ROOT = Path(__file__).resolve().parents[1]
CODES = ["events_calendar", "public_transport", "parks_beach"]


class FakeDictionary:
    """What the coding-file reader needs of a theme dictionary: the codes and their sectors."""

    codes = CODES
    themes = {c: None for c in CODES}

    @staticmethod
    def sector_of(code: str) -> str:
        return {"events_calendar": "culture", "public_transport": "mobility", "parks_beach": "urban"}[code]


# --------------------------------------------------------------------------- a small world
#
# Culture texts are written with "koncerts" (which the dictionary knows) or with "teātris" /
# "izrāde" (which it does not); transport texts with "autobuss"; the rest is off-topic. People
# code every culture text as events_calendar, so a model trained on their codes should find
# the theatre texts the dictionary misses.

FILLER = ["vajag", "labāk", "vairāk", "pilsēta", "cilvēks", "laiks", "jauns", "vieta", "iela", "māja"]


def small_world(n: int = 240, seed: int = 5):
    rng = np.random.default_rng(seed)
    docs, truth, kinds = [], [], []
    for i in range(n):
        kind = ["concert", "theatre", "bus", "other"][i % 4]
        words = list(rng.choice(FILLER, size=4))
        if kind == "concert":
            words += ["koncerts", str(rng.choice(["vasara", "skatuve"]))]
        elif kind == "theatre":
            words += [str(rng.choice(["teātris", "izrāde"])), str(rng.choice(["aktieris", "skatuve", "biļete"]))]
        elif kind == "bus":
            words += ["autobuss", str(rng.choice(["pietura", "biļete"]))]
        words.append(f"w{i}")                      # every text its own wording
        docs.append(words)
        truth.append([kind in ("concert", "theatre"), kind == "bus", False])
        kinds.append(kind)
    ids = [f"P{i:04d}" for i in range(n)]
    dict_hit = pd.DataFrame([["koncerts" in d, "autobuss" in d, False] for d in docs], columns=CODES)
    return docs, ids, dict_hit, pd.DataFrame(np.array(truth, dtype=int), columns=CODES, index=ids), kinds


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = (pred & truth).sum()
    return 2 * tp / (pred.sum() + truth.sum())


def test_a_model_trained_on_codes_beats_the_dictionary_on_held_out_texts():
    docs, ids, dict_hit, truth, _ = small_world()
    train = [i for k, i in enumerate(ids) if (k // 4) % 2 == 0]
    held_out = [i for k, i in enumerate(ids) if (k // 4) % 2 == 1]
    res = learn.learn(docs, ids, dict_hit, truth.loc[train], CODES, n_boot=50)
    y = truth.loc[held_out, "events_calendar"].to_numpy(dtype=bool)
    by_dictionary = dict_hit.set_index(pd.Index(ids))["events_calendar"].loc[held_out].to_numpy()
    combined = res.coded.loc[held_out, "events_calendar"].to_numpy()
    assert _f1(by_dictionary, y) == pytest.approx(2 / 3, abs=0.05)     # the dictionary finds the concerts only
    assert _f1(combined, y) > _f1(by_dictionary, y) + 0.2
    # the cross-validated table says the same, with intervals around each F1
    cv = res.tables["learn_cv"].set_index(["method", "theme"])
    assert cv.loc[("combined", "events_calendar"), "f1"] > cv.loc[("dictionary", "events_calendar"), "f1"] + 0.2
    assert cv.loc[("combined", "macro"), "f1_lo"] <= cv.loc[("combined", "macro"), "f1"] <= \
        cv.loc[("combined", "macro"), "f1_hi"]
    # a theme nobody coded keeps the dictionary alone, and says so
    model = res.tables["learn_model"].set_index("theme")
    assert not model.at["parks_beach", "model"] and "dictionary only" in model.at["parks_beach", "note"]
    assert not res.coded["parks_beach"].any()


def test_every_automatic_code_says_whether_the_dictionary_the_model_or_both_made_it():
    docs, ids, dict_hit, truth, kinds = small_world()
    coded = [i for k, i in enumerate(ids) if (k // 4) % 2 == 0]
    res = learn.learn(docs, ids, dict_hit, truth.loc[coded], CODES, n_boot=20)
    codes = res.tables["text_codes"]
    assert set(codes["source"]) <= set(learn.SOURCES)
    kind = dict(zip(ids, kinds))
    ev = codes[codes["theme"] == "events_calendar"]
    # concerts: the dictionary always (the model usually agrees: "both"); theatre: the model alone
    assert set(ev.loc[ev["proposal_id"].map(kind) == "concert", "source"]) <= {"dictionary", "both"}
    assert (ev.loc[ev["proposal_id"].map(kind) == "theatre", "source"] == "model").mean() > 0.9
    # the long table and the combined coding are the same codes
    long = set(zip(codes["proposal_id"], codes["theme"]))
    wide = {(p, c) for c in CODES for p in res.coded.index[res.coded[c]]}
    assert long == wide
    assert codes.loc[codes["source"] == "model", "probability"].notna().all()
    counts = res.tables["learn_model"].set_index("theme")
    assert counts.at["events_calendar", "n_model"] == int((ev["source"] == "model").sum())


def test_without_human_codes_nothing_is_learned_and_the_dictionary_stands(tmp_path):
    from test_proposals import fixture_proposals

    from analysis import codebook, proposals as pr, themes as th

    cb = codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    dictionary = th.load_dictionary(ROOT / "params" / "themes" / "liepaja-2022.yaml", sectors=list(cb.sectors))
    res = pr.run_stage(fixture_proposals(), dictionary, cb, min_cell=5, fdr=0.05)
    assert not {"learn_cv", "learn_model", "text_codes", "next_to_code"} & set(res.tables)
    assert res.coded.equals(res.hits > 0)


def test_next_to_code_puts_the_closest_calls_first_and_skips_coded_and_repeated_texts():
    ids = np.array(["a", "b", "c", "d", "e", "f"], dtype=object)
    texts = ["t1", "t2", "t3", "t3", "t5", "t6"]
    P = np.array([[0.49, 0.1], [0.9, 0.1], [0.3, 0.1], [0.3, 0.1], [0.1, 0.45], [0.5, 0.9]])
    D = np.zeros((6, 2), bool)
    D[5, 0] = True                                   # the dictionary decided f's first theme
    thresholds = np.array([0.5, 0.5])
    out = learn.next_to_code(ids, texts, ["x", "y"], D, P, thresholds, coded_ids={"b"}, coded_wordings=set(), n=10)
    assert list(out["proposal_id"]) == ["a", "e", "c", "f"]        # b coded; d repeats c's wording
    assert list(out["closest_theme"]) == ["x", "y", "x", "y"]
    assert out["margin"].is_monotonic_increasing
    assert list(out.columns[-2:]) == ["x", "y"] and (out[["x", "y"]] == "").all().all()
    # no theme with a model in use: nothing to propose
    assert learn.next_to_code(ids, texts, ["x", "y"], D, P, np.array([np.inf, np.inf]), set(), set()).empty


def test_the_threshold_maximises_f1_and_never_is_chosen_when_the_model_does_not_help():
    y = np.array([1, 1, 1, 0, 0, 0], bool)
    d = np.array([1, 0, 0, 0, 0, 0], bool)
    p = np.array([0.2, 0.8, 0.7, 0.6, 0.1, 0.1])
    assert learn.choose_threshold(p, d, y, combine=True) == 0.7      # 0.7 and 0.8 in, 0.6 out; ties: the higher
    assert learn.choose_threshold(np.zeros(6), y, y, combine=True) == learn.NEVER


def test_folds_keep_equal_wordings_together_whatever_the_row_order():
    groups = ["a", "b", "a", "c", "d", "e", "b", "f"]
    f = learn.folds(groups, k=3, seed=1)
    assert f[0] == f[2] and f[1] == f[6]
    perm = [7, 3, 0, 5, 1, 6, 2, 4]
    g = learn.folds([groups[i] for i in perm], k=3, seed=1)
    assert all(g[k] == f[i] for k, i in enumerate(perm))


# --------------------------------------------------------------------------- coding files

def _write(tmp_path: Path, name: str, df: pd.DataFrame) -> Path:
    p = tmp_path / name
    if p.suffix == ".xlsx":
        df.to_excel(p, index=False)
    else:
        df.to_csv(p, index=False)
    return p


def test_codes_as_columns_as_a_list_and_in_xlsx_read_the_same(tmp_path):
    cols = pd.DataFrame({"proposal_id": ["P1", "P2", "P3", "P4"], "text": ["a", "b", "c", "d"],
                         "events_calendar": ["1", "0", "", "1"], "public_transport": ["1", "0", "", ""],
                         "parks_beach": ["0", "", "", ""]})
    listed = pd.DataFrame({"proposal_id": ["P1", "P2", "P3", "P4"], "text": ["a", "b", "c", "d"],
                           "codes": ["events_calendar; public_transport", "none", "", "events_calendar"]})
    a = learn.load_human_coding(_write(tmp_path, "cols.csv", cols), FakeDictionary)
    b = learn.load_human_coding(_write(tmp_path, "list.csv", listed), FakeDictionary)
    c = learn.load_human_coding(_write(tmp_path, "cols.xlsx", cols.replace("", None)), FakeDictionary)
    for got in (a, b, c):
        assert list(got["proposal_id"]) == ["P1", "P2", "P4"]            # P3: nothing coded
        assert got[CODES].to_numpy().tolist() == [[1, 1, 0], [0, 0, 0], [1, 0, 0]]
    assert list(a["_row"]) == [2, 3, 5]


@pytest.mark.parametrize("frame, expected", [
    (pd.DataFrame({"proposal_id": ["P1", "P2"], "events_calendar": ["1", "yes"]}),
     r"column events_calendar, row 3 \(proposal P2\): 'yes'; expected 1 \(theme present\), 0"),
    (pd.DataFrame({"proposal_id": ["P1"], "codes": ["events_calender"]}),
     r"column codes, row 2 \(proposal P1\): 'events_calender' is not a theme code \(did you mean 'events_calendar'\?\)"),
    (pd.DataFrame({"proposal_id": ["P1"], "codes": ["parks_beach"], "parks_beach": ["1"]}),
     r"both a `codes` column and theme columns"),
    (pd.DataFrame({"id": ["P1"], "codes": ["parks_beach"]}),
     r"'id' .*neither theme codes of the dictionary nor known columns"),
    (pd.DataFrame({"note": ["x"], "codes": ["parks_beach"]}), r"no proposal_id column and no text column"),
    (pd.DataFrame({"proposal_id": ["P1"], "note": ["x"]}), r"no codes found; expected one 0/1 column per theme"),
    (pd.DataFrame({"proposal_id": ["P1", "P1"], "codes": ["parks_beach", "none"]}),
     r"proposal P1 is coded more than once \(.*row 2; .*row 3\)"),
])
def test_a_bad_coding_file_names_the_file_column_row_and_what_was_expected(tmp_path, frame, expected):
    path = _write(tmp_path, "coded.csv", frame)
    with pytest.raises(CodingFileError, match=expected) as err:
        learn.load_human_coding(path, FakeDictionary)
    assert str(path) in str(err.value)


def test_a_missing_or_foreign_coding_file_is_a_clear_error(tmp_path):
    with pytest.raises(CodingFileError, match="human-coding file not found"):
        learn.load_human_coding(tmp_path / "nope.csv", FakeDictionary)
    (tmp_path / "coded.ods.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CodingFileError, match="not UTF-8"):
        learn.load_human_coding(tmp_path / "coded.ods.txt", FakeDictionary)
    props = pd.DataFrame({"proposal_id": ["X1"], "question": ["q"], "text": ["something else"]})
    coded = learn.load_human_coding(_write(tmp_path, "c.csv", pd.DataFrame(
        {"proposal_id": ["P1"], "text": ["not here"], "codes": ["parks_beach"]})), FakeDictionary)
    with pytest.raises(CodingFileError, match="none of the 1 coded rows matches a proposal"):
        learn.match_coding(coded, props, CODES)


def test_rows_are_found_by_id_else_by_wording_also_when_neutralised(tmp_path):
    props = pd.DataFrame({"proposal_id": ["R1:q1", "R2:q1", "R3:q2", "R4:q1"],
                          "question": ["q1", "q1", "q2", "q1"],
                          "text": ["Vajag  vairāk koncertu.", "=1+1 teātris", "Vajag vairāk koncertu.", "x"]})
    coded = pd.DataFrame({"proposal_id": ["R4:q1", "", "other-salt-id"], "question": ["", "q1", ""],
                          "text": ["x", "Vajag vairāk koncertu.", "'=1+1 teātris"],
                          "codes": ["parks_beach", "events_calendar", "events_calendar"]})
    human = learn.load_human_coding(_write(tmp_path, "c.csv", coded), FakeDictionary)
    got, counts = learn.match_coding(human, props, CODES)
    assert list(got.index) == ["R1:q1", "R2:q1", "R4:q1"]          # R3 is the same wording in another question
    assert counts == {"rows": 3, "matched_by_id": 1, "matched_by_text": 2, "unmatched": 0, "proposals": 3,
                      "themes_coded": 3}
    assert got.loc["R4:q1", "parks_beach"] == 1 and got.loc["R2:q1", "events_calendar"] == 1


# --------------------------------------------------------------------------- the simulated coder

def test_the_simulated_coder_is_deterministic_and_changes_about_a_tenth_of_the_labels():
    from test_proposals import fixture_proposals

    props = fixture_proposals(200).drop_duplicates("text").reset_index(drop=True)
    props = pd.concat([props.assign(text=props["text"] + f" ({k})", proposal_id=props["proposal_id"] + f"-{k}")
                       for k in range(60)], ignore_index=True)
    rng = np.random.default_rng(3)
    truth = {"texts": [{"source": "forms_lv.xlsx", "text": t,
                        "themes": list(rng.choice(CODES, size=int(rng.integers(0, 3)), replace=False))}
                       for t in props["text"]]}
    a, facts = learn.simulate_human_coding(truth, props, FakeDictionary, n=300, rate=0.10, seed=7)
    b, _ = learn.simulate_human_coding(truth, props.sample(frac=1, random_state=2), FakeDictionary, n=300,
                                       rate=0.10, seed=7)
    assert a.equals(b)                                    # row order of the proposals does not matter
    assert len(a) == 300 and list(a.columns) == ["question", "source", "text", *CODES]
    assert facts["labels_changed"] == round(0.10 * facts["planted_labels"])
    assert 0.08 <= facts["share_labels_changed"] <= 0.12
    planted = {learn._norm_text(it["text"]): set(it["themes"]) for it in truth["texts"]}
    coded = [{c for c in CODES if row[c]} for _, row in a.iterrows()]
    differ = sum(c != planted[learn._norm_text(t)] for t, c in zip(a["text"], coded))
    assert differ == facts["texts_differing"] > 0


def test_the_shipped_simulated_coding_is_valid_for_the_sample_dictionary():
    import json

    from analysis import themes as th

    dictionary = th.load_dictionary(ROOT / "params" / "themes" / "liepaja-2022.yaml")
    path = ROOT / "data" / "sample" / "human_coding.csv"
    human = learn.load_human_coding(path, dictionary)
    assert len(human) == 300 and (human["text"] != "").all()
    assert "proposal_id" not in pd.read_csv(path, nrows=1).columns     # found by wording: ids are salted
    planted = [t["code"] for t in json.loads((ROOT / "data" / "sample" / "truth.json").read_text(
        encoding="utf-8"))["themes"]]
    assert set(pd.read_csv(path, nrows=1).columns) == {"question", "source", "text", *planted}
    assert human[planted].to_numpy().sum() >= 300
    others = [c for c in dictionary.codes if c not in planted]        # themes the simulated coder did not know
    assert human[others].isna().all().all()


def test_the_same_codes_give_the_same_tables_whatever_the_order_of_the_texts():
    docs, ids, dict_hit, truth, _ = small_world()
    coded = truth.loc[[i for k, i in enumerate(ids) if (k // 4) % 2 == 0]]
    texts = [" ".join(d) for d in docs]
    a = learn.learn(docs, ids, dict_hit, coded, CODES, texts, n_boot=50)
    perm = np.random.default_rng(0).permutation(len(ids))
    b = learn.learn([docs[i] for i in perm], [ids[i] for i in perm], dict_hit.iloc[perm].reset_index(drop=True),
                    coded.sample(frac=1, random_state=3), CODES, [texts[i] for i in perm], n_boot=50)
    for name in ("learn_cv", "learn_model", "text_codes", "next_to_code"):     # as written: floats to 6 digits
        assert a.tables[name].round(6).to_csv(index=False) == b.tables[name].round(6).to_csv(index=False), name
    assert len(a.tables["next_to_code"]) > 0


def test_a_semicolon_csv_as_spreadsheets_save_it_in_latvian_settings_reads_the_same(tmp_path):
    listed = pd.DataFrame({"proposal_id": ["P1", "P2"], "text": ["a, b", "c"],
                           "codes": ["events_calendar;public_transport", "none"]})
    comma = learn.load_human_coding(_write(tmp_path, "comma.csv", listed), FakeDictionary)
    path = tmp_path / "semi.csv"
    listed.to_csv(path, sep=";", index=False)
    semi = learn.load_human_coding(path, FakeDictionary)
    assert semi[CODES].to_numpy().tolist() == comma[CODES].to_numpy().tolist() == [[1, 1, 0], [0, 0, 0]]
    assert list(semi["text"]) == ["a, b", "c"]


def test_a_theme_without_a_column_is_not_coded_and_stays_with_the_dictionary(tmp_path):
    docs, ids, dict_hit, truth, _ = small_world()
    coded = truth.loc[[i for k, i in enumerate(ids) if (k // 4) % 2 == 0]].drop(columns="public_transport")
    frame = coded.reset_index().rename(columns={"index": "proposal_id"})
    human = learn.load_human_coding(_write(tmp_path, "part.csv", frame), FakeDictionary)
    assert human["public_transport"].isna().all() and human["events_calendar"].notna().all()
    props = pd.DataFrame({"proposal_id": ids, "question": "q", "text": [" ".join(d) for d in docs]})
    matched, counts = learn.match_coding(human, props, CODES)
    assert list(matched.columns) == ["events_calendar", "parks_beach"] and counts["themes_coded"] == 2
    res = learn.learn(docs, ids, dict_hit, matched, CODES, n_boot=20)
    assert "public_transport" not in set(res.tables["learn_cv"]["theme"])
    model = res.tables["learn_model"].set_index("theme")
    assert model.at["public_transport", "note"] == "not coded by people: dictionary only"
    assert res.coded["public_transport"].equals(dict_hit["public_transport"].set_axis(res.coded.index))


def test_fit_on_the_used_features_is_the_fit_on_all_features():
    """learn._fit leaves out the features no training text has (their weight is 0 at the optimum):
    the same model as liblinear over every feature, to rounding, in a fraction of the time."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from analysis import learn as L

    rng = np.random.default_rng(0)
    X = sp.random(200, 20000, density=15 / 20000, format="csr", random_state=3)
    y = (rng.random(200) < 0.25).astype(int)
    mine = L._fit(X, y)
    full = LogisticRegression(C=L.C, class_weight="balanced", solver="liblinear", random_state=L.RANDOM_STATE,
                              max_iter=1000).fit(X, y)
    unused = np.bincount(X.indices, minlength=X.shape[1]) == 0
    assert unused.sum() > 10000 and not mine.coef_[0][unused].any()
    assert np.allclose(mine.coef_, full.coef_, rtol=0, atol=1e-12)
    assert abs(mine.intercept_[0] - full.intercept_[0]) < 1e-12
    assert np.allclose(L._proba(mine, X), full.predict_proba(X)[:, 1], rtol=0, atol=1e-12)


def test_the_direct_liblinear_call_is_the_estimator_bit_for_bit():
    """learn._logistic calls liblinear as LogisticRegression does, without the estimator's
    wrapping; on TF-IDF features of texts, sliced as the folds slice them, the weights and the
    intercept are equal to the estimator's to the last bit (a scikit-learn whose private module
    changed would fail its check and fall back to the estimator: learn._direct_ok)."""
    from analysis import learn as L

    assert L._direct_ok()
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(400)]
    docs = [list(rng.choice(words, size=int(rng.integers(1, 25)))) for _ in range(300)]
    X = L.features(docs)
    for k in range(12):
        rows = np.flatnonzero(rng.random(300) < 0.8)
        y = rng.random(len(rows)) < (0.05 + 0.04 * k)
        Xr = X[rows]
        used = np.flatnonzero(np.bincount(Xr.indices, minlength=Xr.shape[1]))
        Xu = Xr[:, used]
        a, b = L._logistic_direct(Xu, y), L._logistic_estimator(Xu, y)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_next_to_code_in_row_blocks_equals_all_rows_at_once():
    """Issue 15: the uncertainty margins are computed in blocks of 65,536 rows (not one float64
    texts x themes matrix per step); on 150,000 texts the table equals the all-at-once reference."""
    rng = np.random.default_rng(7)
    n, k = 150_000, 5
    codes = [f"t{i}" for i in range(k)]
    P = rng.random((n, k))
    P[:, 3] = np.nan                                           # a theme without a model
    P[rng.random((n, k)) < 0.01] = 0.0
    D = rng.random((n, k)) < 0.2
    thresholds = np.array([0.4, 0.55, 0.3, np.nan, 0.6])
    ids = np.array([f"p{i:06d}" for i in range(n)], dtype=object)
    texts = [f"text {i % 90_000}" for i in range(n)]            # repeated wordings
    got = learn.next_to_code(ids, texts, codes, D, P, thresholds, {"p000001"}, {"text 5"}, 40)

    use = np.isfinite(thresholds)
    t = np.where(use, thresholds, 0.5)
    dist = np.abs(learn._logit(np.nan_to_num(P, nan=0.0)) - learn._logit(t)[None, :])
    dist[:, ~use] = np.inf
    dist[D] = np.inf
    j = np.argmin(dist, axis=1)
    margin = dist[np.arange(n), j]
    assert len(got) == 40
    picked = [int(p[1:]) for p in got["proposal_id"]]
    np.testing.assert_array_equal(got["margin"].to_numpy(), margin[picked])
    assert list(got["closest_theme"]) == [codes[x] for x in j[picked]]
    cand = np.flatnonzero(np.isfinite(margin))
    cand = cand[np.lexsort((ids[cand], np.round(margin[cand], 9)))]
    seen, want = set(), []
    for i in cand:
        w = texts[i]
        if ids[i] == "p000001" or w == "text 5" or w in seen:
            continue
        seen.add(w)
        want.append(int(i))
        if len(want) == 40:
            break
    assert picked == want
