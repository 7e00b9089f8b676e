"""Stage 02 table builders on small hand-made frames with known answers.

Frames come from `ratings.generate_responses` (the clean stage's schema), with columns then
overwritten by hand where a test needs exact values. The fast helpers in analysis.ratings
(the weighted estimators and the ordinal model now live in analysis.stats) are held to the reference
implementations in analysis.stats on the same data.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import ratings, stats

MIN_CELL = 10
COUNT_COLUMNS = {"n", "group_n", "n1", "n2", "min_group_n", "n_dk", "promoters", "passives", "detractors",
                 "alpha_n", "n_answered", "n_missing", "weighted_n"}


def settings(population=None, **kw):
    return ratings.settings_from(kw.pop("min_cell", MIN_CELL), kw.pop("fdr", 0.05), 5.0, population, **kw)


def frame(cb, n, seed=0, effects=(), **columns):
    """A generated responses frame with some columns replaced by the given values."""
    df = ratings.generate_responses(cb, n, seed, effects)
    for name, values in columns.items():
        if name in cb.variables and cb.variables[name].type == "single":
            df[name] = pd.Categorical(values, categories=cb.variables[name].codes)
        elif name in cb.variables and cb.variables[name].type == "likert":
            v = pd.array(values, dtype="Float64").astype("Int64")
            df[name] = v
            df[f"{name}_dk"] = False
        else:
            df[name] = values
    return df


def codes(levels_and_counts):
    out = []
    for level, k in levels_and_counts:
        out += [level] * k
    return out


@pytest.fixture(scope="module")
def small_tables(codebook):
    """A 150-respondent survey with one planted effect: small groups everywhere."""
    df = ratings.generate_responses(codebook, 150, seed=3,
                                    effects=[{"item": "housing_1", "grouping": "children", "shift": {"yes": 1.5}}])
    return ratings.build_tables(df, codebook, settings(ratings.generated_population(codebook)))


# --- tests across groups ----------------------------------------------------------------

def test_a_planted_difference_is_found_with_its_direction(codebook):
    shift = {"65_74": 1.2, "75plus": 1.2}
    df = ratings.generate_responses(codebook, 800, seed=11,
                                    effects=[{"item": "housing_1", "grouping": "age_group", "shift": shift}])
    tables = ratings.build_tables(df, codebook, settings())
    tests = tables["tests"]
    row = tests[(tests.outcome == "housing_1") & (tests.grouping == "age_group") & (tests.test == "kruskal")].iloc[0]
    assert row.p_adj < 0.001
    assert row.highest_group in ("65_74", "75plus", "65plus")
    assert row.effect_label in ("small", "medium", "large")
    null = tests[(tests.outcome == "housing_3") & (tests.grouping == "age_group") & (tests.test == "kruskal")].iloc[0]
    assert null.p_adj > 0.05


def test_rank_test_rows_equal_the_stats_functions(codebook):
    df = ratings.generate_responses(codebook, 300, seed=5)
    y = ratings.item_scores(df, codebook)["urban_2"].to_numpy()
    plans = ratings.plan_groupings(df, codebook, MIN_CELL)
    row = ratings.rank_test(y, plans["education"], MIN_CELL)
    m, g, levels, _ = ratings._select(y, plans["education"], MIN_CELL)
    groups = {lv: y[m][g == i] for i, lv in enumerate(levels)}
    h, p = stats.kruskal(groups)
    assert row["test"] == "kruskal" and row["statistic"] == pytest.approx(h) and row["p"] == pytest.approx(p)
    assert row["effect_size"] == pytest.approx(stats.epsilon_squared(h, m.sum()))
    two = ratings.rank_test(y, plans["children"], MIN_CELL)
    m, g, levels, _ = ratings._select(y, plans["children"], MIN_CELL)
    u, p = stats.mann_whitney(y[m][g == 0], y[m][g == 1])
    assert two["test"] == "mann_whitney" and two["statistic"] == pytest.approx(u) and two["p"] == pytest.approx(p)
    hi = levels.index(two["highest_group"])
    assert two["effect_size"] == pytest.approx(stats.rank_biserial(y[m][g == hi], y[m][g == 1 - hi]))
    assert two["effect_size"] >= 0


def test_mean_ranks_from_counts_equal_ranks_of_the_values():
    rng = np.random.default_rng(1)
    v = rng.integers(1, 6, 500) / rng.choice([1, 2, 3, 4], 500)
    g = rng.integers(0, 3, 500)
    from scipy.stats import rankdata

    expected = [rankdata(v)[g == k].mean() for k in range(3)]
    assert ratings._mean_ranks(v, g, 3) == pytest.approx(expected)


def test_small_groups_are_merged_as_the_codebook_says_and_noted(codebook):
    age = codes([("lt18", 3), ("18_24", 20), ("25_34", 40), ("35_44", 40), ("45_54", 40), ("55_64", 40),
                 ("65_74", 30), ("75plus", 27)])
    df = frame(codebook, len(age), age_group=age)
    plan = ratings.plan_groupings(df, codebook, MIN_CELL)["age_group"]
    assert plan.levels[0] == "lt25" and "lt18" not in plan.levels and "18_24" not in plan.levels
    assert "merged lt18+18_24 as lt25" in plan.notes
    assert (plan.codes == 0).sum() == 23
    assert "65plus" not in plan.levels            # 65_74 and 75plus are big enough on their own


def test_small_groups_without_a_merge_rule_are_left_out_and_noted(codebook):
    district = codes([("karosta", 4), ("vecliepaja", 60), ("tosmare", 60), ("jaunliepaja", 76)])
    df = frame(codebook, len(district), district=district)
    tests = ratings.build_tables(df, codebook, settings())["tests"]
    row = tests[(tests.grouping == "district") & (tests.outcome == "housing_1") & (tests.test == "kruskal")].iloc[0]
    assert "karosta" not in row.levels.split("+")
    assert f"left out (n<{MIN_CELL}): karosta" in row.notes
    assert "4" not in row.notes                    # the size of a small group is not published


def test_options_excluded_from_tests_are_left_out_of_tests_but_described(codebook):
    gender = codes([("female", 100), ("male", 80), ("undisclosed", 20)])
    df = frame(codebook, len(gender), gender=gender)
    tables = ratings.build_tables(df, codebook, settings())
    tests = tables["tests"]
    row = tests[(tests.grouping == "gender") & (tests.outcome == "culture_1")].iloc[0]
    assert row.levels == "female+male" and "not tested: undisclosed" in row.notes
    nps = tables["nps"]
    assert ((nps.grouping == "gender") & (nps.level == "undisclosed")).any()


def test_a_level_small_for_one_outcome_is_left_out_of_that_test_only(codebook):
    children = codes([("yes", 60), ("no", 140)])
    score = np.where(np.arange(200) < 52, np.nan, 4.0)       # only 8 of the "yes" group scored urban_4
    score[150:] = 2.0
    df = frame(codebook, 200, children=children, urban_4=score)
    row = ratings.rank_test(ratings.item_scores(df, codebook)["urban_4"].to_numpy(),
                            ratings.plan_groupings(df, codebook, MIN_CELL)["children"], MIN_CELL)
    assert row["test"] == "none" and "left out here (n<10): yes" in row["notes"]


def test_info_language_is_tested_option_by_option_as_two_groups(codebook):
    df = ratings.generate_responses(codebook, 400, seed=2)
    plans = ratings.plan_groupings(df, codebook, MIN_CELL)
    assert plans["info_language__ru"].levels == ("yes", "no")
    skipped = df["info_language__ru"].isna().to_numpy()
    assert (plans["info_language__ru"].codes[skipped] == -1).all()


def test_sparse_two_by_two_tables_use_fisher(codebook):
    children = codes([("yes", 12), ("no", 188)])
    score = np.full(200, 2.0)
    score[:2] = 5.0                                  # 2 of 12 "yes" and none of "no" in the top two
    df = frame(codebook, 200, children=children, housing_4=score)
    row, resid = ratings.crosstab_test(ratings.item_scores(df, codebook)["housing_4"].to_numpy(),
                                       ratings.plan_groupings(df, codebook, MIN_CELL)["children"], MIN_CELL, 4.0)
    odds, p = stats.fisher_exact([[10, 2], [188, 0]])
    assert row["test"] == "fisher" and row["p"] == pytest.approx(p)
    assert row["highest_group"] == "yes"
    assert list(resid.level) == ["yes", "no"] and resid.adj_residual.iloc[0] > 0


def test_bh_family_excludes_missing_p_values():
    tests = pd.DataFrame({"family": ["group_tests"] * 5 + [""], "p": [0.01, 0.04, np.nan, 0.03, 0.5, np.nan],
                          "test": ["kruskal"] * 6})
    out = ratings.adjust_families(tests, 0.05)
    expected = stats.p_adjust([0.01, 0.04, 0.03, 0.5], "BH")
    assert out.p_adj.iloc[[0, 1, 3, 4]].to_numpy() == pytest.approx(expected)
    assert out.p_adj.iloc[[2, 5]].isna().all()
    fam = ratings.family_table(out, None, 0.05)
    assert int(fam.loc[fam.family == "group_tests", "m"].iloc[0]) == 4


def test_every_omnibus_group_test_is_in_the_declared_family(small_tables):
    tests, fam = small_tables["tests"], small_tables["test_family"]
    ran = tests[tests.test != "none"]
    assert (ran[~ran.weighted].family == "group_tests").all()
    assert (ran[ran.weighted].family == "group_tests_weighted").all()
    m = int(fam.loc[fam.family == "group_tests", "m"].iloc[0])
    assert m == ran[~ran.weighted].p.notna().sum()
    assert tests[tests.test == "none"].p_adj.isna().all()


def test_dunn_follows_only_significant_kruskal_tests(codebook):
    df = ratings.generate_responses(codebook, 600, seed=8, effects=[
        {"item": "mobility_1", "grouping": "education", "shift": {"higher": 1.0}}])
    tables = ratings.build_tables(df, codebook, settings())
    tests, post = tables["tests"], tables["posthoc"]
    sig = tests[(tests.test == "kruskal") & (tests.p_adj < 0.05)]
    assert set(zip(post.outcome, post.grouping)) == set(zip(sig.outcome, sig.grouping))
    pairs = post[(post.outcome == "mobility_1") & (post.grouping == "education")]
    assert len(pairs) == 3 and (pairs[pairs.group1.eq("higher") | pairs.group2.eq("higher")].p_adj < 0.05).all()


# --- estimates ------------------------------------------------------------------------------

def test_item_estimates_have_known_values(codebook):
    n = 40
    scores = np.array([5] * 10 + [4] * 10 + [3] * 10 + [1] * 6 + [np.nan] * 4, dtype=float)
    df = frame(codebook, n, housing_1=scores)
    df.loc[36:37, "housing_1_dk"] = True                       # two of the four blanks said "don't know"
    items = ratings.build_tables(df, codebook, settings())["items"].set_index("item")
    row = items.loc["housing_1"]
    assert row.n == 36 and pd.isna(row.n_dk)       # 2 don't knows: a count below min_cell is not published
    # ... and not through its share either (2/38 would give the count back): issue 11, defect 8
    assert pd.isna(row.dk_share) and row.n_all == 40
    assert row["mean"] == pytest.approx(np.nanmean(scores))
    assert row.top2_share == pytest.approx(20 / 36)
    lo, hi = stats.wilson_ci(20, 36)
    assert (row.top2_ci_low, row.top2_ci_high) == pytest.approx((lo, hi))
    # six answered 1: a small cell, so the whole answer distribution of the row is withheld
    # (one share alone could be recovered from the others, the mean and the top-two share)
    assert pd.isna(row.share_5) and pd.isna(row.share_1) and bool(row.cells_suppressed)
    assert row.top2_share_all == pytest.approx(20 / 40)
    assert sorted(items["rank"].tolist()) == list(range(1, 33))


def test_ranking_breaks_ties_by_mean():
    share = pd.Series([0.5, 0.5, 0.7, np.nan])
    mean = pd.Series([3.9, 4.1, 3.0, 4.0])
    assert ratings._rank(share, mean).tolist() == [3, 2, 1, pd.NA]


def test_sector_index_needs_two_scored_items(codebook):
    scores = pd.DataFrame({i: [np.nan] * 3 for i in codebook.likert_items})
    scores.loc[0, ["housing_1"]] = 5
    scores.loc[1, ["housing_1", "housing_2"]] = [5, 2]
    scores.loc[2, ["housing_1", "housing_2", "housing_3", "housing_4"]] = [5, 4, 4, 3]
    idx = ratings.sector_indices(scores, codebook, min_items=2)["housing"]
    assert np.isnan(idx[0]) and idx[1] == 3.5 and idx[2] == 4.0


def test_ranking_by_group_leaves_out_small_groups(codebook):
    tg = codes([("resident", 150), ("future_resident", 30), ("visitor", 15), ("investor", 5)])
    df = frame(codebook, len(tg), target_group=tg)
    rk = ratings.build_tables(df, codebook, settings())["ranking_by_group"]
    assert set(rk.target_group) == {"resident", "future_resident", "visitor"}
    assert len(rk) == 3 * 32 and "investor" in rk.notes.iloc[0]
    assert (rk[~rk.suppressed].groupby("target_group")["rank"].max() <= 32).all()


def test_nps_by_group_matches_stats_nps(codebook):
    df = ratings.generate_responses(codebook, 300, seed=4)
    nps = ratings.build_tables(df, codebook, settings())["nps"]
    overall = nps[nps.grouping == "all"].iloc[0]
    ref = stats.nps(ratings._float(df["recommend"]))
    assert overall.nps == pytest.approx(ref["nps"]) and overall.ci_low == pytest.approx(ref["ci_low"])


# --- weights ----------------------------------------------------------------------------------

def test_without_a_population_file_the_analysis_is_unweighted_and_says_why(codebook):
    df = ratings.generate_responses(codebook, 200, seed=1)
    tables = ratings.build_tables(df, codebook, settings(None))
    w = tables["weighting"].iloc[0]
    assert not w.used and w.headline == "unweighted" and "no population" in w.reason
    assert not tables["tests"].weighted.any() and "weighted_mean" not in tables["items"]
    assert (tables["_weights"].weight == 1.0).all()


def test_unofficial_margins_make_weighted_figures_a_sensitivity_check(codebook):
    df = ratings.generate_responses(codebook, 600, seed=1)
    pop = ratings.generated_population(codebook, official=False)
    tables = ratings.build_tables(df, codebook, settings(pop))
    w = tables["weighting"].iloc[0]
    assert w.used and w.role == "sensitivity" and w.headline == "unweighted" and not w.official
    assert w.kish_effective_n < w.n_weighted and w.design_effect > 1
    assert w.max_weight_ratio <= 5.0 * 1.001
    assert tables["tests"].weighted.any() and "weighted_top2_share" in tables["items"]
    weights = tables["_weights"]
    assert weights.weight.isna().sum() == w.n_outside_margins            # e.g. gender undisclosed
    pop_official = ratings.generated_population(codebook, official=True)
    assert ratings.build_tables(df, codebook, settings(pop_official))["weighting"].iloc[0].role == "headline"


def test_raked_weights_reproduce_the_margins_among_known_answers(codebook):
    df = ratings.generate_responses(codebook, 500, seed=6)
    pop = ratings.generated_population(codebook)
    wt = ratings.compute_weights(df, codebook, settings(pop))
    for var, levels in pop["margins"].items():
        col = df[var].astype(object).to_numpy()
        known = np.isin(col, list(levels)) & wt.mask
        total = sum(levels.values())
        for level, t in levels.items():
            share = np.nansum(np.where(col == level, wt.weights, 0.0)) / np.nansum(np.where(known, wt.weights, 0.0))
            assert share == pytest.approx(t / total, rel=1e-6)


def test_in_scope_respondents_are_weighted_even_without_a_margin_answer(codebook):
    # issue 11, defect 5: 'prefer not to say' on gender does not drop a resident; a
    # non-resident who named a district is not raked as a resident
    df = ratings.generate_responses(codebook, 800, seed=7)
    scope_var, codes = codebook.in_scope()
    pop = ratings.generated_population(codebook)
    wt = ratings.compute_weights(df, codebook, settings(pop))
    in_scope = df[scope_var].astype(object).isin(list(codes)).to_numpy()
    undisclosed = (df["gender"].astype(object) == "undisclosed").to_numpy()
    assert (undisclosed & in_scope).sum() > 0
    assert np.isfinite(wt.weights[in_scope]).all() and (wt.weights[in_scope] > 0).all()
    assert np.isnan(wt.weights[~in_scope]).all()
    assert wt.info["n_weighted"] == in_scope.sum() and "gender" in wt.info["margin_unknown"]
    # those with no usable answer (undisclosed or skipped) keep their sample share of the weighted total
    unknown = ~df["gender"].astype(object).isin(list(pop["margins"]["gender"])).to_numpy()
    share = wt.weights[unknown & in_scope].sum() / wt.weights[in_scope].sum()
    assert share == pytest.approx((unknown & in_scope).sum() / in_scope.sum(), rel=1e-6)


# --- fast helpers against the reference implementations --------------------------------

@pytest.fixture(scope="module")
def weighted(codebook):
    df = ratings.generate_responses(codebook, 700, seed=9)
    wt = ratings.compute_weights(df, codebook, settings(ratings.generated_population(codebook)))
    return df, wt


def test_weighted_mean_on_distinct_rows_equals_stats_weighted_mean_ci(codebook, weighted):
    df, wt = weighted
    y = ratings.item_scores(df, codebook)["culture_3"].to_numpy()
    m = wt.mask
    ref = stats.weighted_mean_ci(y[m], wt.weights[m], calibration=wt.calibration)
    got = ratings._weighted_mean(y, wt, 0.95)
    assert (got["mean"], got["se"], got["ci_low"]) == pytest.approx((ref["mean"], ref["se"], ref["ci_low"]), rel=1e-9)
    ind = np.where(np.isnan(y), np.nan, (y >= 4).astype(float))
    ref = stats.weighted_share_ci(ind[m], wt.weights[m], calibration=wt.calibration)
    got = ratings._weighted_share(ind, wt, 0.95)
    assert (got["share"], got["se"], got["ci_low"], got["ci_high"]) == pytest.approx(
        (ref["share"], ref["se"], ref["ci_low"], ref["ci_high"]), rel=1e-9)


def test_rao_scott_on_distinct_rows_equals_stats_rao_scott_chi2(codebook, weighted):
    df, wt = weighted
    y = ratings.item_scores(df, codebook)["mobility_2"].to_numpy()
    plan = ratings.plan_groupings(df, codebook, MIN_CELL)["age_group"]
    row = ratings.rao_scott_test(y, plan, MIN_CELL, 4.0, wt)
    m, g, levels, _ = ratings._select(y, plan, MIN_CELL, extra=wt.mask)
    x = np.full(len(y), None, dtype=object)
    x[m] = np.asarray(levels, dtype=object)[g]
    top = np.full(len(y), None, dtype=object)
    top[m] = (y[m] >= 4).astype(int)
    wm = wt.mask
    stat, p, dof, deff = stats.rao_scott_chi2(x[wm], top[wm], wt.weights[wm], calibration=wt.calibration)
    assert (row["statistic"], row["p"], row["df"], row["design_effect"]) == pytest.approx((stat, p, dof, deff), rel=1e-8)


def test_polr_fit_on_distinct_rows_equals_stats_ordinal_logit(codebook):
    df = ratings.generate_responses(codebook, 400, seed=12, effects=[
        {"item": "urban_1", "grouping": "gender", "shift": {"female": 0.6}}])
    design = ratings.model_design(df, codebook, MIN_CELL)
    y = ratings.item_scores(df, codebook)["urban_1"].to_numpy()
    table, info = ratings.fit_ordinal(y, design)
    ok = ~np.isnan(y) & (design.pattern >= 0)
    X = design.X.loc[ok]
    ref = stats.ordinal_logit(y[ok], X[[c for c in X.columns if X[c].nunique() > 1]])
    got = table.set_index("term")
    assert info["converged"] and info["n"] == ok.sum()
    assert got["coef"].to_numpy() == pytest.approx(ref["coef"].reindex(got.index).to_numpy(), abs=1e-5)
    assert got["se"].to_numpy() == pytest.approx(ref["se"].reindex(got.index).to_numpy(), rel=1e-3)
    direct = stats.polr_fit(np.unique(y[ok], return_inverse=True)[1], X[got.index].to_numpy(), names=list(got.index))
    assert direct["coef"].to_numpy() == pytest.approx(got["coef"].to_numpy(), abs=1e-8)
    assert direct["thresholds"].to_numpy() == pytest.approx(ref["thresholds"].to_numpy(), abs=1e-5)


# --- publishing ---------------------------------------------------------------------------------

def test_written_tables_are_byte_identical_for_identical_inputs(codebook, tmp_path):
    df = ratings.generate_responses(codebook, 250, seed=21)
    pop = ratings.generated_population(codebook)
    a = ratings.write_tables(ratings.build_tables(df, codebook, settings(pop)), tmp_path / "a")
    b = ratings.write_tables(ratings.build_tables(df.copy(), codebook, settings(pop)), tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 20
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_csv_cells_are_formatted_to_six_significant_digits():
    df = pd.DataFrame({"x": [1 / 3, -0.0, np.nan, 1e-12], "b": [True, False, True, False],
                       "n": pd.array([1, None, 3, 4], dtype="Int64"), "s": ["a", None, "c,d", "ā"]})
    assert ratings.to_csv_text(df) == 'x,b,n,s\n0.333333,true,1,a\n0,false,,\n,true,3,"c,d"\n1e-12,false,4,ā\n'


def test_no_published_cell_is_below_min_cell(small_tables):
    for name, table in small_tables.items():
        if name.startswith("_"):
            continue
        for col in COUNT_COLUMNS & set(table.columns):
            v = pd.to_numeric(table[col], errors="coerce").dropna()
            bad = v[(v < MIN_CELL) & (v != 0)]             # 0 describes nobody
            assert bad.empty, f"{name}.{col} publishes {bad.tolist()}"
    assert small_tables["profile"].suppressed.any()       # the 150-respondent survey has small groups


def test_every_table_is_sorted_and_carries_codes_not_labels(small_tables, codebook):
    tests = small_tables["tests"]
    order = {o: i for i, o in enumerate(dict.fromkeys(tests.outcome))}
    assert tests.outcome.map(order).is_monotonic_increasing
    assert set(tests.outcome) == set(codebook.likert_items) | {f"sector_{s}" for s in codebook.sectors}
    assert set(small_tables["items"].item) == set(codebook.likert_items)
    assert set(small_tables["profile"].variable) >= set(g for g in codebook.groupings if g != "info_language")


# --- small cells (issue 11, defect 8) ------------------------------------------------------

def test_suppress_small_cells_adds_complementary_suppression():
    # a row total is published, so one suppressed cell would be total minus the others
    t = pd.DataFrame({"theme": ["a", "b", "c"], "survey": [40, 3, 25], "email": [12, 30, 0],
                      "total": [52, 33, 25], "share_email": [12 / 52, 30 / 33, 0.0]})
    out = ratings.suppress_small_cells(t, 10, ["survey", "email"], total="total",
                                       linked={"share_email": ["email"]})
    assert out.loc[1, "survey"] is pd.NA and out.loc[1, "email"] is pd.NA     # 3 and its complement 30
    assert out.loc[0, "survey"] == 40 and out.loc[0, "email"] == 12          # nothing small in row a
    assert out.loc[2, "email"] == 0 and out.loc[2, "survey"] == 25           # zeros are not small cells
    assert pd.isna(out.loc[1, "share_email"]) and out["cells_suppressed"].tolist() == [0, 2, 0]
    # down the columns too, when column totals are published
    t2 = pd.DataFrame({"s1": [3, 20, 30], "s2": [15, 25, 35]})
    out2 = ratings.suppress_small_cells(t2, 10, ["s1", "s2"], columns_too=True)
    hidden = out2[["s1", "s2"]].isna().to_numpy()
    # the 3 is hidden; no row and no column is left with exactly one hidden cell
    assert hidden[0, 0] and set(hidden.sum(0)) <= {0, 2} and set(hidden.sum(1)) <= {0, 2}
    assert hidden.tolist() == [[True, True], [True, True], [False, False]]


def test_nps_rows_with_a_small_category_show_only_n(codebook):
    df = ratings.generate_responses(codebook, 300, seed=31)
    rec = codebook.role_var("recommendation")
    df[rec] = pd.array([10] * 150 + [8] * 145 + [2] * 5, dtype="Int64")        # 5 detractors
    row = ratings.build_tables(df, codebook, settings())["nps"].set_index(["grouping", "level"]).loc[("all", "all")]
    assert row.n == 300 and pd.isna(row.nps) and pd.isna(row.se) and pd.isna(row.detractors)
    assert bool(row.cells_suppressed)


def test_missing_roles_skip_their_sections_with_one_sentence(codebook):
    import copy

    from analysis import summary
    from analysis.report import t

    cb = copy.copy(codebook)
    cb.roles = {k: v for k, v in codebook.roles.items() if k not in ("satisfaction", "recommendation", "grouping")}
    df = ratings.generate_responses(codebook, 300, seed=32)
    tables = ratings.build_tables(df.drop(columns=[codebook.role_var("satisfaction")]), cb, settings())
    assert not {"nps", "satisfaction", "satisfaction_model", "ranking_by_group"} & set(tables)
    s = summary.Summary({k: v for k, v in tables.items() if not k.startswith("_")}, cb, "en")
    html = s.satisfaction() + s.ranking_groups()
    assert t("summary_skipped_satisfaction", "en") in html and t("summary_skipped_grouping", "en") in html
    assert "satisfaction'" not in html and "'grouping'" not in html          # says why, never a role's name
    assert "<table" not in s.satisfaction() and s.nps_figure() is None and s.who_figure() is None


# --- the model set-up shared by models, findings and the proportional-odds check ------------------

def test_collapsed_design_rows_are_the_complete_cases_counted_once(codebook):
    df = ratings.generate_responses(codebook, 300, seed=41)
    design = ratings.model_design(df, codebook, MIN_CELL)
    y = ratings.item_scores(df, codebook)["housing_1"].to_numpy()
    ok, levels, yi = design.responses(y)
    assert ok.sum() == (~np.isnan(y) & ~design.X.isna().any(axis=1).to_numpy()).sum() > 200
    yr, Xk, wr, names = design.collapsed(ok, yi, levels.size)
    assert wr.sum() == ok.sum() and len(set(zip(yr, map(tuple, Xk)))) == len(yr)   # each row once
    assert names == [c for c in design.X.columns if design.X.loc[ok, c].nunique() > 1]
    cases = pd.DataFrame(design.X.loc[ok, names].to_numpy()).assign(y=levels[yi]).value_counts()
    rows = pd.Series(wr, index=pd.MultiIndex.from_arrays([*Xk.T, levels[yr]])).sort_index()
    assert rows.to_numpy().tolist() == cases.sort_index().to_numpy().tolist()


# --- stage 02's page: its words from the text tables and the codebook ------------------------------

def test_page_words_come_from_the_codebook(codebook, root):
    from analysis import codebook as codebooks

    lv = ratings.page_words(codebook, "lv")
    assert lv["fav"] == "„Ļoti nozīmīga”, „Drīzāk nozīmīga”" and lv["dk"] == "„Grūti pateikt”"
    assert (lv["high"], lv["low"], lv["mid"]) == ("„Ļoti nozīmīga”", "„Pilnīgi nenozīmīga”",
                                                  "„Ne nozīmīga, ne nenozīmīga”")
    assert lv["per_sector"] == 4 and lv["reversed"] == 0 and lv["meaning"] == "importance"
    assert lv["recommendation"] == "„Ieteikšanas iespējamība”" and "„Anketas valoda”" in lv["predictors"]
    other = codebooks.load(root / "params" / "codebooks" / "naidislinn-2024.yaml")
    en = ratings.page_words(other, "en")
    # a 0-10 slider without labels or "don't know": scores, not another survey's words
    assert (en["fav"], en["high"], en["low"], en["mid"], en["dk"]) == ("7–10", "10", "0", "5", None)
    assert en["per_sector"] == 3 and en["reversed"] == 4 and en["meaning"] == "agreement"
    assert en["recommendation"] is None and en["satisfaction"] is None
    assert en["predictors"] == "'Age', 'Tenure', 'Neighbourhood'"


def test_stage_02_page_shows_no_prose_of_its_own(root):
    """Every heading and sentence of 02 comes from the text tables (both languages): a shown
    markdown cell would be one language's prose on every report."""
    import json
    import re

    from analysis.codebook import MEANINGS
    from analysis.report import TEXT

    cells = json.loads((root / "notebooks" / "02_ratings.ipynb").read_text(encoding="utf-8"))["cells"]
    shown_md = [c for c in cells if c["cell_type"] == "markdown"
                and "remove-cell" not in c.get("metadata", {}).get("tags", [])]
    assert shown_md == []
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    keys = {f"ratings_nb_{k}" for k in re.findall(r'\bsay\("(\w+)"', code)}
    keys |= {f"ratings_nb_{k}_heading" for k in re.findall(r'\bsection\("(\w+)"', code)}
    keys |= set(re.findall(r'"(ratings_nb_\w+)"', code))
    keys |= {f"ratings_nb_satisfaction_caveat_{m}" for m in MEANINGS}
    assert len(keys) > 30
    missing = sorted(k for k in keys if k not in TEXT or not {"lv", "en"} <= set(TEXT[k]))
    assert not missing, missing
    # no file name in a sentence of the page
    assert not [k for k in keys for lang in ("lv", "en") if re.search(r"\.(csv|xlsx|yaml)\b", TEXT[k][lang])]


def test_tests_from_count_tables_equal_the_row_level_functions_exactly(codebook):
    # issue 15: each (outcome, grouping) is reduced to a groups x values count table; the
    # rows must carry exactly the floats of the row-level tests (items and sector means)
    df = ratings.generate_responses(codebook, 400, seed=11,
                                    effects=[{"item": "housing_1", "grouping": "age_group", "shift": {"18_24": 0.6}}])
    frame, kinds = ratings.outcomes(df, codebook)
    plans = ratings.plan_groupings(df, codebook, MIN_CELL)
    tests, _ = ratings.group_tests(frame, kinds, plans, MIN_CELL, 4.0)
    checked = 0
    for outcome in ("housing_1", "urban_2", "sector_housing", "sector_culture"):
        y = frame[outcome].to_numpy()
        for g, plan in plans.items():
            m, gi, levels, _ = ratings._select(y, plan, MIN_CELL)
            if len(levels) < 2:
                continue
            groups = {lv: y[m][gi == i] for i, lv in enumerate(levels)}
            row = tests[(tests.outcome == outcome) & (tests.grouping == g)
                        & tests.test.isin(["kruskal", "mann_whitney"])].iloc[0]
            h, p = stats.kruskal(groups)
            mr = ratings._mean_ranks(y[m], gi, len(levels))
            assert row.highest_group == levels[int(np.argmax(mr))] and row.lowest_group == levels[int(np.argmin(mr))]
            if len(levels) == 2:
                u, p2 = stats.mann_whitney(groups[levels[0]], groups[levels[1]])
                assert (row.statistic, row.p) == (u, p2) or (row.statistic == u and math.isnan(p2))
                hi, lo = row.highest_group, row.lowest_group
                assert row.effect_size == (stats.rank_biserial(groups[hi], groups[lo]) if hi != lo else 0.0)
            elif not math.isnan(h):
                assert (row.statistic, row.p, row.epsilon_squared) == (h, p, stats.epsilon_squared(h, m.sum()))
            ct = tests[(tests.outcome == outcome) & (tests.grouping == g) & tests.test.isin(["chi2", "fisher"])]
            if len(ct):
                ref, _ = ratings.crosstab_test(y, plan, MIN_CELL, 4.0)
                assert (ct.iloc[0].statistic, ct.iloc[0].p) == (ref["statistic"], ref["p"])
            checked += 1
    assert checked >= 20


def test_mean_ranks_of_a_count_table_equal_mean_ranks_of_the_values():
    rng = np.random.default_rng(3)
    for scale in (np.arange(1.0, 6.0), np.arange(3.0, 16.0) / 3.0, np.array([0.1, 0.25, 7.3])):
        v = rng.choice(scale, 700)
        g = rng.integers(0, 4, 700)
        values, codes = ratings._value_codes(v)
        table = ratings._group_counts((values, codes), np.ones(v.size, bool), g, 4)
        assert np.array_equal(ratings._mean_ranks_counts(values, table), ratings._mean_ranks(v, g, 4))


def test_unique_rows_is_numpy_unique_by_rows():
    rng = np.random.default_rng(4)
    for _ in range(50):
        a = rng.integers(0, 3, size=(int(rng.integers(1, 300)), int(rng.integers(1, 7)))).astype(float)
        a *= rng.choice([1.0, 0.5, -2.0], a.shape[1])
        patterns, inverse = np.unique(a, axis=0, return_inverse=True)
        got_p, got_i = ratings._unique_rows(a)
        assert np.array_equal(got_p, patterns) and np.array_equal(got_i, inverse.ravel())
