"""Tests for analysis.stats against published R outputs.

Every expected number carries its source in a comment.  R itself is not available on
the machines that run these tests; the numbers come from R help-page examples, package
test outputs and R output printed in tutorials/course notes, each cited.  Where no
published R value could be found the test checks a closed form and says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import stats as S

nan = float("nan")

# --------------------------------------------------------------------------------------
# data sets (copied from R's `datasets` package; Rdatasets/CRAN copies agree)
# --------------------------------------------------------------------------------------

# datasets::airquality, Ozone by Month (NA as nan), 153 rows.
AIRQUALITY_OZONE = {
    5: [41, 36, 12, 18, nan, 28, 23, 19, 8, nan, 7, 16, 11, 14, 18, 14, 34, 6, 30, 11, 1, 11, 4, 32, nan, nan, nan, 23, 45, 115, 37],
    6: [nan, nan, nan, nan, nan, nan, 29, nan, 71, 39, nan, nan, 23, nan, nan, 21, 37, 20, 12, 13, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan],
    7: [135, 49, 32, nan, 64, 40, 77, 97, 97, 85, nan, 10, 27, nan, 7, 48, 35, 61, 79, 63, 16, nan, nan, 80, 108, 20, 52, 82, 50, 64, 59],
    8: [39, 9, 16, 78, 35, 66, 122, 89, 110, nan, nan, 44, 28, 65, nan, 22, 59, 23, 31, 44, 21, 9, nan, 45, 168, 73, nan, 76, 118, 84, 85],
    9: [96, 78, 73, 91, 47, 32, 20, 23, 21, 24, 44, 21, 28, 9, 13, 46, 18, 13, 24, 16, 13, 23, 36, 7, 14, 30, nan, 14, 18, 20],
}

# datasets::sleep, extra by group.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]

# ?wilcox.test examples (Hollander & Wolfe 1973): depression scale before (x) / after (y).
DEPR_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPR_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]

# ?friedman.test example RoundingTimes (Hollander & Wolfe 1973, p. 140ff): 22 players x
# (Round Out, Narrow Angle, Wide Angle); data as listed at
# https://rowannicholls.github.io/R/statistics/hypothesis_testing/friedman.html
ROUNDING_TIMES = np.array(
    [
        [5.40, 5.50, 5.55], [5.85, 5.70, 5.75], [5.20, 5.60, 5.50], [5.55, 5.50, 5.40],
        [5.90, 5.85, 5.70], [5.45, 5.55, 5.60], [5.40, 5.40, 5.35], [5.45, 5.50, 5.35],
        [5.25, 5.15, 5.00], [5.85, 5.80, 5.70], [5.25, 5.20, 5.10], [5.65, 5.55, 5.45],
        [5.60, 5.35, 5.45], [5.05, 5.00, 4.95], [5.50, 5.50, 5.40], [5.45, 5.55, 5.50],
        [5.55, 5.55, 5.35], [5.45, 5.50, 5.55], [5.50, 5.45, 5.25], [5.65, 5.60, 5.40],
        [5.70, 5.65, 5.55], [6.30, 6.30, 6.25],
    ]
)

# ?chisq.test example: M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477)))
# (Agresti 2007, p. 39: gender x party identification).
M_PARTY = np.array([[762, 327, 468], [484, 239, 477]])

# datasets::attitude (Chatterjee & Price 1977), 30 rows x 7 items.
ATTITUDE = np.array(
    [
        [43, 51, 30, 39, 61, 92, 45], [63, 64, 51, 54, 63, 73, 47], [71, 70, 68, 69, 76, 86, 48],
        [61, 63, 45, 47, 54, 84, 35], [81, 78, 56, 66, 71, 83, 47], [43, 55, 49, 44, 54, 49, 34],
        [58, 67, 42, 56, 66, 68, 35], [71, 75, 50, 55, 70, 66, 41], [72, 82, 72, 67, 71, 83, 31],
        [67, 61, 45, 47, 62, 80, 41], [64, 53, 53, 58, 58, 67, 34], [67, 60, 47, 39, 59, 74, 41],
        [69, 62, 57, 42, 55, 63, 25], [68, 83, 83, 45, 59, 77, 35], [77, 77, 54, 72, 79, 77, 46],
        [81, 90, 50, 72, 60, 54, 36], [74, 85, 64, 69, 79, 79, 63], [65, 60, 65, 75, 55, 80, 60],
        [65, 70, 46, 57, 75, 85, 46], [50, 58, 68, 54, 64, 78, 52], [50, 40, 33, 34, 43, 64, 33],
        [64, 61, 52, 62, 66, 80, 41], [53, 66, 52, 50, 63, 80, 37], [40, 37, 42, 58, 50, 57, 49],
        [63, 54, 42, 48, 66, 75, 33], [66, 77, 66, 63, 88, 76, 72], [78, 75, 58, 74, 80, 78, 49],
        [48, 57, 44, 45, 51, 83, 38], [85, 85, 71, 71, 77, 74, 55], [82, 82, 39, 59, 64, 78, 39],
    ],
    dtype=float,
)

# datasets::mtcars$mpg
MTCARS_MPG = [21.0, 21.0, 22.8, 21.4, 18.7, 18.1, 14.3, 24.4, 22.8, 19.2, 17.8, 16.4, 17.3, 15.2, 10.4, 10.4,
              14.7, 32.4, 30.4, 33.9, 21.5, 15.5, 15.2, 13.3, 19.2, 27.3, 26.0, 30.4, 15.8, 19.7, 15.0, 21.4]


def _aq_groups():
    return {m: np.array(v, dtype=float) for m, v in AIRQUALITY_OZONE.items()}


# --------------------------------------------------------------------------------------
# Kruskal-Wallis and effect sizes
# --------------------------------------------------------------------------------------


def test_kruskal_airquality_matches_r():
    # R: kruskal.test(Ozone ~ Month, data = airquality) (?kruskal.test example)
    #   Kruskal-Wallis chi-squared = 29.267, df = 4, p-value = 6.901e-06
    # printed at https://thoughtfulexaminations.com/?p=18959
    h, p = S.kruskal(_aq_groups())
    assert h == pytest.approx(29.267, abs=5e-4)
    assert p == pytest.approx(6.901e-06, rel=1e-3)


def test_kruskal_accepts_list_and_ignores_nan():
    groups = list(_aq_groups().values())
    assert S.kruskal(groups)[0] == pytest.approx(S.kruskal(_aq_groups())[0])


def test_kruskal_all_identical_is_nan():
    # R: kruskal.test(list(c(3,3,3), c(3,3))) gives statistic NaN (0/0 tie correction)
    h, p = S.kruskal({"a": [3, 3, 3], "b": [3, 3]})
    assert math.isnan(h) and math.isnan(p)


def test_kruskal_no_ties_closed_form():
    # Hand check: groups {1,2,3}, {4,5,6}: R_1 = 6, R_2 = 15, N = 6:
    # H = 12/(6*7) * (36/3 + 225/3) - 3*7 = 24.857 - 21 = 3.857142...
    h, p = S.kruskal([[1, 2, 3], [4, 5, 6]])
    assert h == pytest.approx(27 / 7, rel=1e-12)
    # chi-squared on k - 1 = 1 df: P(chi2_1 > h) = erfc(sqrt(h/2))
    assert p == pytest.approx(math.erfc(math.sqrt(h / 2)), rel=1e-10)


def test_epsilon_squared_formula():
    # Tomczak & Tomczak (2014): E^2_R = H / ((n^2 - 1)/(n + 1)) = H/(n-1).
    # airquality: H = 29.267, n = 116 non-missing Ozone values -> 29.267/115 = 0.2545
    h, _ = S.kruskal(_aq_groups())
    assert S.epsilon_squared(h, 116) == pytest.approx(h / 115, rel=1e-12)
    assert S.epsilon_squared(29.267, 116) == pytest.approx(0.25450, abs=1e-5)


@pytest.mark.parametrize(
    "value, kind, df, label",
    [
        (0.005, "epsilon_squared", 1, "negligible"),
        (0.01, "epsilon_squared", 1, "small"),
        (0.0799, "epsilon_squared", 1, "small"),
        (0.08, "epsilon_squared", 1, "medium"),
        (0.26, "epsilon_squared", 1, "large"),
        (-0.29, "rank_biserial", 1, "small"),
        (-0.3, "r", 1, "medium"),
        (0.55, "rank_biserial", 1, "large"),
        (0.09, "kendalls_w", 1, "negligible"),
        (0.31, "kendalls_w", 1, "medium"),
        # Cramér's V, Cohen (1988): bounds w/sqrt(df*) -> df* = 2: .0707/.2121/.3536
        (0.08, "cramers_v", 2, "small"),
        (0.22, "cramers_v", 2, "medium"),
        (0.22, "cramers_v", 1, "small"),
        (0.36, "cramers_v", 2, "large"),
        # odds ratios (Chen, Cohen & Chen 2010: 1.68 / 3.47 / 6.71), 0.2 read as 1/0.2 = 5
        (0.2, "odds_ratio", 1, "medium"),
        (1.5, "odds_ratio", 1, "negligible"),
    ],
)
def test_effect_label_thresholds(value, kind, df, label):
    assert S.effect_label(value, kind, df=df) == label


def test_effect_label_rejects_unknown_kind_and_handles_nan():
    with pytest.raises(ValueError, match="unknown effect-size kind"):
        S.effect_label(0.3, "eta")
    assert S.effect_label(float("nan"), "r") == "undefined"


# --------------------------------------------------------------------------------------
# multiple testing
# --------------------------------------------------------------------------------------


def test_mann_whitney_and_holm_reproduce_pairwise_wilcox_test_airquality():
    # R: pairwise.wilcox.test(airquality$Ozone, airquality$Month)   (holm, continuity
    # correction; ties -> normal approximation), printed at
    # https://thoughtfulexaminations.com/?p=18959 :
    #      5      6      7      8
    #   6 0.5775 -      -      -
    #   7 0.0003 0.0848 -      -
    #   8 0.0011 0.1295 1.0000 -
    #   9 0.4744 1.0000 0.0060 0.0227
    expected = {
        (5, 6): 0.5775, (5, 7): 0.0003, (5, 8): 0.0011, (5, 9): 0.4744, (6, 7): 0.0848,
        (6, 8): 0.1295, (6, 9): 1.0000, (7, 8): 1.0000, (7, 9): 0.0060, (8, 9): 0.0227,
    }
    g = _aq_groups()
    pairs = list(expected)
    raw = [S.mann_whitney(g[a], g[b])[1] for a, b in pairs]
    adj = S.p_adjust(raw, "holm")
    for (pair, exp), got in zip(expected.items(), adj):
        assert got == pytest.approx(exp, abs=5e-5), pair


def test_p_adjust_bh_matches_r_output():
    # FSA::dunnTest(..., method = "bh") printed output (P.unadj -> P.adj, Benjamini-
    # Hochberg via dunn.test / R p.adjust), ten comparisons, from a public R Markdown
    # report (ShExML engine benchmark).
    p_unadj = [7.486451e-03, 3.174662e-12, 1.743996e-05, 1.811594e-13, 2.764036e-06,
               6.948776e-01, 2.080814e-22, 1.625113e-12, 5.640190e-03, 1.751318e-02]
    p_adj = [9.358064e-03, 7.936656e-12, 2.906659e-05, 9.057972e-13, 5.528073e-06,
             6.948776e-01, 2.080814e-21, 5.417043e-12, 8.057414e-03, 1.945909e-02]
    np.testing.assert_allclose(S.p_adjust(p_unadj, "BH"), p_adj, rtol=2e-6)


def test_p_adjust_holm_vs_fsa_dunntest_output():
    # FSA::dunnTest(value ~ Treatment) printed output, Holm (FSA default), six comparisons
    # (public R Markdown microbiome report): P.unadj -> P.adj
    p_unadj = [2.696141e-01, 4.488029e-03, 7.959882e-05, 5.212051e-02, 2.318395e-03, 3.683778e-01]
    fsa_adj = [0.5392282752, 0.0179521149, 0.0004775929, 0.1563615311, 0.0115919735, 0.3683778182]
    got = S.p_adjust(p_unadj, "holm")
    # the five smallest agree with FSA to printed precision ...
    np.testing.assert_allclose(got[:5], fsa_adj[:5], rtol=2e-6)
    # ... but dunn.test's Holm does not enforce monotonicity: it prints 1 x 0.368 for the
    # largest p although a smaller p was adjusted to 0.539.  R's p.adjust("holm") takes
    # the running maximum (Wright 1992), and so do we: 0.5392282752.
    assert got[5] == pytest.approx(0.5392282752, rel=2e-6)
    assert fsa_adj[5] < got[5]


def test_p_adjust_documented_small_examples():
    # stdlib-js @stdlib/stats/padjust docs (a port of R's p.adjust; hand-checkable):
    #   bh([0.008, 0.03, 0.123, 0.6, 0.2]) = [0.04, 0.075, 0.205, 0.6, 0.25]
    #   holm([0.319, 0.201, 0.4, 0.374, 0.113]) = [0.957, 0.804, 0.957, 0.957, 0.565]
    np.testing.assert_allclose(S.p_adjust([0.008, 0.03, 0.123, 0.6, 0.2], "BH"), [0.04, 0.075, 0.205, 0.6, 0.25])
    np.testing.assert_allclose(S.p_adjust([0.319, 0.201, 0.4, 0.374, 0.113], "holm"), [0.957, 0.804, 0.957, 0.957, 0.565])
    np.testing.assert_allclose(S.p_adjust([0.1496, 0.0275, 0.3053, 0.1599, 0.2061], "bonferroni"), [0.748, 0.1375, 1.0, 0.7995, 1.0])


def test_p_adjust_nan_kept_and_not_counted():
    # R ?p.adjust: "NA's are kept" and are excluded from n (p is subset before the default
    # n = length(p) is evaluated), so the non-NA values are adjusted for m = 2 here.
    # statsmodels' multipletests would count m = 3.
    p = [0.01, nan, 0.04]
    bonf = S.p_adjust(p, "bonferroni")
    assert bonf[0] == pytest.approx(0.02) and math.isnan(bonf[1]) and bonf[2] == pytest.approx(0.08)
    holm = S.p_adjust(p, "holm")
    assert holm[0] == pytest.approx(0.02) and math.isnan(holm[1]) and holm[2] == pytest.approx(0.04)
    bh = S.p_adjust(p, "BH")
    assert bh[0] == pytest.approx(0.02) and math.isnan(bh[1]) and bh[2] == pytest.approx(0.04)
    assert np.isnan(S.p_adjust([nan, nan], "holm")).all()
    with pytest.raises(ValueError):
        S.p_adjust([0.1], "sidak")            # not one of R's p.adjust.methods


# --------------------------------------------------------------------------------------
# Dunn
# --------------------------------------------------------------------------------------

# seaborn-data "exercise" (Rdatasets-style copy at mwaskom/seaborn-data/exercise.csv): pulse by kind
EXERCISE_PULSE = {
    "rest": [85, 85, 88, 90, 92, 93, 97, 97, 94, 80, 82, 83, 91, 92, 91, 83, 83, 84, 87, 88, 90, 92, 94, 95, 97, 99, 96, 100, 97, 100],
    "walking": [86, 86, 84, 93, 103, 104, 90, 92, 93, 95, 96, 100, 89, 96, 95, 84, 86, 89, 103, 109, 90, 92, 96, 101, 97, 98, 100, 102, 104, 103],
    "running": [93, 98, 110, 98, 104, 112, 98, 105, 99, 87, 132, 120, 94, 110, 116, 95, 126, 143, 100, 126, 140, 103, 124, 140, 94, 135, 130, 99, 111, 150],
}


def test_dunn_matches_r_holm_on_exercise_data():
    # R reference values (two-sided, tie-corrected Dunn test, Holm) for pulse ~ kind on the
    # exercise data, as stored in scikit-posthocs' test suite (tests/test_posthocs.py,
    # test_posthoc_dunn, "r_results"): rest-walking 4.390066e-02, rest-running
    # 9.570998e-09, walking-running 1.873208e-04.
    res = S.dunn(EXERCISE_PULSE)
    assert list(zip(res.group1, res.group2)) == [("rest", "walking"), ("rest", "running"), ("walking", "running")]
    np.testing.assert_allclose(res.p_adj, [4.390066e-02, 9.570998e-09, 1.873208e-04], rtol=1e-6)
    # rest has the lowest mean rank -> negative z against the others
    assert (res.z < 0).all()
    # unadjusted p: Holm multiplies the smallest by 3, the middle by 2
    assert res.p_unadj[1] * 3 == pytest.approx(res.p_adj[1])
    assert res.p_unadj[2] * 2 == pytest.approx(res.p_adj[2])


def test_dunn_bonferroni_option():
    res = S.dunn(EXERCISE_PULSE, p_adjust="bonferroni")
    np.testing.assert_allclose(res.p_adj, np.minimum(1, 3 * res.p_unadj))


# --------------------------------------------------------------------------------------
# Mann-Whitney, rank-biserial
# --------------------------------------------------------------------------------------


def test_mann_whitney_exact_wilcox_help_example():
    # ?wilcox.test: x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)
    #               y <- c(1.15, 0.88, 0.90, 0.74, 1.21)
    # wilcox.test(x, y, alternative = "g"): W = 35, p-value = 0.1272 (exact), so the
    # two-sided exact p is 2 * 0.1272 = 0.2544 (0.254412254412254 in full).
    w, p = S.mann_whitney([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], [1.15, 0.88, 0.90, 0.74, 1.21])
    assert w == 35
    assert p == pytest.approx(0.254412254412254, rel=1e-9)


def test_mann_whitney_ties_normal_approx_sleep():
    # R: wilcox.test(extra ~ group, data = sleep)
    #   Wilcoxon rank sum test with continuity correction: W = 25.5, p-value = 0.06933
    # (printed in several R tutorials found via code search, e.g. a Spanish R script and
    # an r-statistics.co tutorial; ties -> normal approximation with correction)
    w, p = S.mann_whitney(SLEEP_1, SLEEP_2)
    assert w == 25.5
    assert p == pytest.approx(0.06933, abs=5e-6)
    # without continuity correction the p-value must be smaller
    assert S.mann_whitney(SLEEP_1, SLEEP_2, correct=False)[1] < p


def test_rank_biserial():
    # r = 2U/(n1 n2) - 1 (Kerby 2014); sleep: U = W = 25.5 -> 2*25.5/100 - 1 = -0.49
    assert S.rank_biserial(SLEEP_1, SLEEP_2) == pytest.approx(-0.49)
    assert S.rank_biserial([4, 5, 6], [1, 2, 3]) == 1.0
    assert S.rank_biserial([1, 2, 3], [4, 5, 6]) == -1.0


# --------------------------------------------------------------------------------------
# contingency tables
# --------------------------------------------------------------------------------------


def test_chi2_independence_party_gender():
    # ?chisq.test: chisq.test(M): X-squared = 30.07, df = 2, p-value = 2.954e-07
    # (full precision 30.070149095754687 / 2.9535891832117357e-07 as stored in Julia
    # HypothesisTests' PowerDivergenceTest tests, which reproduce this R example)
    chi2, p, dof = S.chi2_independence(M_PARTY)
    assert chi2 == pytest.approx(30.070149095754687, rel=1e-9)
    assert p == pytest.approx(2.9535891832117357e-07, rel=1e-6)
    assert dof == 2


def test_chi2_independence_no_yates_on_2x2():
    # PSU STAT 504 TeaLady.R: chisq.test(TeaLady, correct=FALSE) on [[3,1],[1,3]] gives
    # X-squared = 2, df = 1, p-value = 0.1573 (Yates would give 0.5).
    chi2, p, dof = S.chi2_independence([[3, 1], [1, 3]])
    assert chi2 == pytest.approx(2.0)
    assert p == pytest.approx(0.1573, abs=5e-5)
    assert dof == 1


def test_adjusted_residuals_match_stdres():
    # R: chisq.test(M)$stdres (?chisq.test example: Xsq$stdres), R output as printed in
    # an R course handout found via code search and stored in Julia HypothesisTests'
    # PowerDivergenceTest tests (4.502053521086705, 0.6994517329844298, -5.315945542704929):
    #          Democrat Independent Republican
    #   F  4.5020535   0.6994517 -5.3159455
    #   M -4.5020535  -0.6994517  5.3159455
    exp = [[4.5020535, 0.6994517, -5.3159455], [-4.5020535, -0.6994517, 5.3159455]]
    np.testing.assert_allclose(S.adjusted_residuals(M_PARTY), exp, atol=5e-8)
    df = pd.DataFrame(M_PARTY, index=["F", "M"], columns=["Dem", "Ind", "Rep"])
    out = S.adjusted_residuals(df)
    assert list(out.columns) == ["Dem", "Ind", "Rep"] and out.loc["M", "Rep"] == pytest.approx(5.3159455, abs=5e-8)


def test_cramers_v_bergsma():
    # No published R value found for this table: closed-form check of Bergsma (2013).
    chi2 = 30.070149095754687
    n, r, c = 2757.0, 2, 3
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    rt, ct = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    assert S.cramers_v(M_PARTY) == pytest.approx(math.sqrt(phi2 / min(rt - 1, ct - 1)), rel=1e-12)
    assert S.cramers_v(M_PARTY) == pytest.approx(0.10092, abs=5e-5)
    # uncorrected = sqrt(chi2/(n * (min(r,c)-1))) = scipy.stats.contingency.association
    from scipy.stats.contingency import association

    assert S.cramers_v(M_PARTY, bias_correct=False) == pytest.approx(association(M_PARTY, method="cramer"), rel=1e-12)
    # the bias correction can only shrink V
    assert S.cramers_v(M_PARTY) < S.cramers_v(M_PARTY, bias_correct=False)


def test_fisher_exact_tea_tasting():
    # ?fisher.test TeaTasting; output printed in PSU STAT 504 TeaLady.out:
    #   fisher.test(tea): p-value = 0.4857, odds ratio 6.408309 (conditional MLE)
    # scipy's conditional MLE solver lands within 2e-6 (relative) of R's uniroot value.
    odds, p = S.fisher_exact([[3, 1], [1, 3]])
    assert p == pytest.approx(0.4857, abs=5e-5)
    assert odds == pytest.approx(6.408309, rel=1e-5)
    # the sample odds ratio (9) is what scipy.stats.fisher_exact would give - not this
    assert abs(odds - 9.0) > 1


# --------------------------------------------------------------------------------------
# Friedman, Kendall's W, signed-rank
# --------------------------------------------------------------------------------------


def test_friedman_rounding_times():
    # ?friedman.test: friedman.test(RoundingTimes)
    #   Friedman chi-squared = 11.143, df = 2, p-value = 0.003805
    chi2, p = S.friedman(ROUNDING_TIMES)
    assert chi2 == pytest.approx(11.143, abs=5e-4)
    assert p == pytest.approx(0.003805, abs=5e-7)


def test_friedman_drops_incomplete_rows_and_constant_rows_give_nan():
    m = np.vstack([ROUNDING_TIMES, [5.0, nan, 5.2]])
    assert S.friedman(m)[0] == pytest.approx(S.friedman(ROUNDING_TIMES)[0])
    chi2, p = S.friedman([[3, 3, 3], [2, 2, 2]])
    assert math.isnan(chi2) and math.isnan(p)


def test_kendalls_w_equals_friedman_over_n_k_minus_1():
    # W = chi2_F / (n (k - 1)) with the tie-corrected Friedman statistic (Tomczak &
    # Tomczak 2014; rstatix::friedman_effsize): 11.143 / (22 * 2) = 0.2532
    assert S.kendalls_w(ROUNDING_TIMES) == pytest.approx(11.142857142857142 / 44, rel=1e-9)
    # perfect agreement without ties
    assert S.kendalls_w([[1, 2, 3], [1, 2, 3], [1, 2, 3]]) == pytest.approx(1.0)


def test_kendalls_w_tie_correction_respondent_with_constant_row():
    # Siegel & Castellan (1988) corrected W: 12 S / (m^2 (k^3 - k) - m sum T).
    # Three raters, one of whom gives every item the same score (T = 3^3 - 3 = 24).
    m = np.array([[1, 2, 3], [1, 2, 3], [2, 2, 2]], dtype=float)
    ranks = np.array([[1, 2, 3], [1, 2, 3], [2, 2, 2]], dtype=float)
    s = ((ranks.sum(0) - ranks.sum(0).mean()) ** 2).sum()  # 8
    w_corr = 12 * s / (3**2 * (27 - 3) - 3 * 24)
    assert S.kendalls_w(m) == pytest.approx(w_corr)
    assert S.kendalls_w(m) == pytest.approx(96 / 144)
    # the uncorrected formula would give 12*8/(9*24) = 0.444, not 0.667
    assert S.kendalls_w(m) > 12 * s / (9 * 24)


def test_wilcoxon_signed_rank_exact_depression():
    # ?wilcox.test: wilcox.test(x, y, paired = TRUE, alternative = "greater") on the
    # depression data gives V = 40, p-value = 0.01953; two-sided exact p = 0.03906
    # (= 10/256; value 0.0390625 also in Julia HypothesisTests' R-checked tests)
    v, p = S.wilcoxon_signed_rank(DEPR_X, DEPR_Y)
    assert v == 40
    assert p == pytest.approx(0.0390625, rel=1e-12)


def test_wilcoxon_signed_rank_ties_zero_no_correction():
    # R output in a Stack Overflow question ("Wilcoxon signed-rank test in R",
    # reproducing Wikipedia's example):
    # wilcox.test(before, after, paired = TRUE, correct = FALSE): V = 18, p-value = 0.5936
    after = [125, 115, 130, 140, 140, 115, 140, 125, 140, 135]
    before = [110, 122, 125, 120, 140, 124, 123, 137, 135, 145]
    v, p = S.wilcoxon_signed_rank(before, after, correct=False)
    assert v == 18
    assert p == pytest.approx(0.5936, abs=5e-5)
    # R's default (continuity correction) gives a larger p; zeros are dropped, so V is
    # T+ over the 9 non-zero differences
    v2, p2 = S.wilcoxon_signed_rank(before, after)
    assert v2 == 18 and p2 > p


def test_wilcoxon_signed_rank_is_t_plus_not_min():
    # scipy reports min(T+, T-); R reports V = T+ (STACK-NOTES).  Reversing x and y gives
    # V' = n(n+1)/2 - V and the same p.
    v1, p1 = S.wilcoxon_signed_rank(DEPR_X, DEPR_Y)
    v2, p2 = S.wilcoxon_signed_rank(DEPR_Y, DEPR_X)
    assert v2 == 45 - v1 and p2 == pytest.approx(p1)


def test_pairwise_wilcoxon():
    df = pd.DataFrame(ROUNDING_TIMES, columns=["round_out", "narrow", "wide"])
    res = S.pairwise_wilcoxon(df)
    assert list(res.columns) == ["group1", "group2", "n", "V", "p_unadj", "p_adj", "r"]
    assert list(zip(res.group1, res.group2)) == [("round_out", "narrow"), ("round_out", "wide"), ("narrow", "wide")]
    for _, row in res.iterrows():
        v, p = S.wilcoxon_signed_rank(df[row.group1], df[row.group2])
        assert row.V == v and row.p_unadj == pytest.approx(p)
    np.testing.assert_allclose(res.p_adj, S.p_adjust(res.p_unadj, "holm"))
    # wide angle is the fastest: round-out minus wide is mostly positive
    assert res.r[1] > 0.5


# --------------------------------------------------------------------------------------
# proportional-odds model
# --------------------------------------------------------------------------------------

# MASS::housing (Madsen 1976), 72 cells; Freq in R's row order
# (Sat fastest, then Infl, Type, Cont), as in Rdatasets csv/MASS/housing.csv.
HOUSING_FREQ = [21, 21, 28, 34, 22, 36, 10, 11, 36, 61, 23, 17, 43, 35, 40, 26, 18, 54, 13, 9, 10, 8, 8, 12,
                6, 7, 9, 18, 6, 7, 15, 13, 13, 7, 5, 11, 14, 19, 37, 17, 23, 40, 3, 5, 23, 78, 46, 43, 48, 45,
                86, 15, 25, 62, 20, 23, 20, 10, 22, 24, 7, 10, 21, 57, 23, 13, 31, 21, 13, 5, 6, 13]


def _housing():
    rows = []
    i = 0
    for cont in ["Low", "High"]:
        for typ in ["Tower", "Apartment", "Atrium", "Terrace"]:
            for infl in ["Low", "Medium", "High"]:
                for sat in ["Low", "Medium", "High"]:
                    rows.append((sat, infl, typ, cont, HOUSING_FREQ[i]))
                    i += 1
    h = pd.DataFrame(rows, columns=["Sat", "Infl", "Type", "Cont", "Freq"])
    X = pd.DataFrame(
        {
            "InflMedium": (h.Infl == "Medium").astype(float),
            "InflHigh": (h.Infl == "High").astype(float),
            "TypeApartment": (h.Type == "Apartment").astype(float),
            "TypeAtrium": (h.Type == "Atrium").astype(float),
            "TypeTerrace": (h.Type == "Terrace").astype(float),
            "ContHigh": (h.Cont == "High").astype(float),
        }
    )
    sat = pd.Categorical(h.Sat, categories=["Low", "Medium", "High"], ordered=True)
    return sat, X, h.Freq


def test_ordinal_logit_matches_polr_housing():
    # ?polr: house.plr <- polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing)
    # Coefficients: InflMedium 0.5663937, InflHigh 1.2888191, TypeApartment -0.5723501,
    #   TypeAtrium -0.3661866, TypeTerrace -1.0910149, ContHigh 0.3602841
    # Intercepts: Low|Medium -0.4961353, Medium|High 0.6907083
    # Residual Deviance: 3479.149, AIC: 3495.149
    # summary(house.plr): SEs 0.10465 0.12716 0.11924 0.15517 0.15149 0.09554;
    #   intercept SEs 0.1248 0.1255
    # (MASS reference manual; the same output printed in R course notes found via code
    # search, e.g. "Residual Deviance: 3479.149")
    sat, X, freq = _housing()
    r = S.ordinal_logit(sat, X, weights=freq)
    exp_coef = [0.5663937, 1.2888191, -0.5723501, -0.3661866, -1.0910149, 0.3602841]
    np.testing.assert_allclose(r["coef"].to_numpy(), exp_coef, atol=1e-3)
    np.testing.assert_allclose(r["thresholds"].to_numpy(), [-0.4961353, 0.6907083], atol=1e-3)
    assert list(r["thresholds"].index) == ["Low|Medium", "Medium|High"]
    assert r["deviance"] == pytest.approx(3479.149, abs=1e-3)
    assert r["aic"] == pytest.approx(3495.149, abs=1e-3)
    np.testing.assert_allclose(r["se"].to_numpy(), [0.10465, 0.12716, 0.11924, 0.15517, 0.15149, 0.09554], atol=1e-3)
    np.testing.assert_allclose(r["thresholds_se"].to_numpy(), [0.1248, 0.1255], atol=1e-3)
    assert r["nobs"] == 1681


def test_odds_ratios_wald():
    # exp(coef(house.plr)): InflMedium 1.7619017 ... ContHigh 1.4337368 (R output printed
    # in R course notes); intervals here are Wald (confint.default), not profile.
    sat, X, freq = _housing()
    r = S.ordinal_logit(sat, X, weights=freq)
    ors = S.odds_ratios(r)
    np.testing.assert_allclose(
        ors.odds_ratio, [1.7619017, 3.6284990, 0.5641979, 0.6933734, 0.3358754, 1.4337368], rtol=2e-3
    )
    row = ors.iloc[0]
    assert row.ci_low == pytest.approx(math.exp(row.coef - 1.959963984540054 * row.se))
    assert row.ci_low < row.odds_ratio < row.ci_high


def test_ordinal_logit_rejects_constant_column():
    sat, X, freq = _housing()
    with pytest.raises(ValueError, match="constant"):
        S.ordinal_logit(sat, X.assign(const=1.0), weights=freq)


# --------------------------------------------------------------------------------------
# simple estimates
# --------------------------------------------------------------------------------------


def test_wilson_ci_newcombe_examples():
    # Newcombe (1998) Stat Med 17:857-872, Table I, method 3 (Wilson score without
    # continuity correction = R prop.test(x, n, correct=FALSE)$conf.int):
    #   81/263 -> 0.2553, 0.3662;  15/148 -> 0.0624, 0.1605;
    #   0/20   -> 0.0000, 0.1611;   1/29 -> 0.0061, 0.1718
    cases = {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605), (0, 20): (0.0, 0.1611), (1, 29): (0.0061, 0.1718)}
    for (x, n), (lo, hi) in cases.items():
        got = S.wilson_ci(x, n)
        assert got[0] == pytest.approx(lo, abs=5e-5) and got[1] == pytest.approx(hi, abs=5e-5), (x, n)
    assert all(math.isnan(v) for v in S.wilson_ci(0, 0))


def test_wilson_ci_is_exact_at_the_boundaries_for_every_small_n():
    # A unanimous group (k = n) must reach exactly 1 and an empty one (k = 0) exactly 0:
    # rounding gave 0.9999999999999998 for 59 sizes in 10..199, and a negative error bar
    # crashed the ranking figure of a valid 300-response export.
    for n in range(1, 400):
        lo, hi = S.wilson_ci(n, n)
        assert hi == 1.0 and lo <= 1.0, n
        lo, hi = S.wilson_ci(0, n)
        assert lo == 0.0 and hi >= 0.0, n
        for k in (1, n // 2, n - 1):
            if 0 < k < n:
                lo, hi = S.wilson_ci(k, n)
                assert 0.0 <= lo <= k / n <= hi <= 1.0, (k, n)


def test_error_bars_are_never_negative():
    from analysis import plots
    err = plots.xerr([100.0, 0.0, 50.0, float("nan")], [100.00000000000001, 0.0, 40.0, 1.0],
                     [99.99999999999997, 1e-17, 60.0, float("nan")])
    assert (err >= 0).all() and err.shape == (2, 4)
    assert err[0, 2] == pytest.approx(10.0) and err[1, 2] == pytest.approx(10.0)


def test_mean_ci_t_test_mtcars():
    # R: t.test(mtcars$mpg)$conf.int -> 17.91768 22.26357; mean 20.09062
    # (printed in the Johns Hopkins Statistical Inference course notes and many others)
    m, lo, hi = S.mean_ci(MTCARS_MPG)
    assert m == pytest.approx(20.09062, abs=1e-5)
    assert lo == pytest.approx(17.91768, abs=5e-6)
    assert hi == pytest.approx(22.26357, abs=5e-6)


def test_nps():
    # 10 scores: promoters (9-10) 4, passives (7-8) 3, detractors (0-6) 3
    scores = [10, 9, 9, 10, 7, 8, 8, 6, 0, 5, nan]
    r = S.nps(scores)
    assert (r["promoters"], r["passives"], r["detractors"], r["n"]) == (4, 3, 3, 10)
    assert r["nps"] == pytest.approx(10.0)
    # multinomial variance of p_P - p_D: (0.4 + 0.3 - 0.1^2)/10 = 0.069
    assert r["se"] == pytest.approx(100 * math.sqrt(0.069))
    assert r["ci_low"] == pytest.approx(10 - 1.959963984540054 * r["se"])
    assert S.nps([10] * 5)["nps"] == 100 and S.nps([10] * 5)["ci_high"] == 100
    with pytest.raises(ValueError):
        S.nps([11, 3])


def test_cronbach_alpha_attitude():
    # psych::alpha(attitude): raw_alpha 0.843; alpha if "critical" dropped 0.864
    # (psych "overview" vignette example alpha(attitude); values as printed in an R
    # tutorial found via code search: raw_alpha 0.843, std.alpha 0.839)
    assert S.cronbach_alpha(ATTITUDE) == pytest.approx(0.843, abs=5e-4)
    assert S.cronbach_alpha(np.delete(ATTITUDE, 5, axis=1)) == pytest.approx(0.864, abs=5e-4)
    # listwise deletion
    m = np.vstack([ATTITUDE, [nan, 1, 1, 1, 1, 1, 1]])
    assert S.cronbach_alpha(m) == pytest.approx(S.cronbach_alpha(ATTITUDE))


# --------------------------------------------------------------------------------------
# weighted estimates: special cases with classical closed forms
# (the survey-package reference values, on apiclus1, are in tests/test_weights.py)
# --------------------------------------------------------------------------------------


def test_weighted_mean_equal_weights_is_classical():
    # svydesign(ids=~1) with equal weights: svymean SE = sd(x)/sqrt(n) (the
    # with-replacement n/(n-1) factor turns the 1/n moment into the sample variance)
    x = np.array(MTCARS_MPG)
    r = S.weighted_mean_ci(x, np.full(x.size, 3.0))
    assert r["mean"] == pytest.approx(x.mean())
    assert r["se"] == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=1e-12)
    assert r["ci_low"] == pytest.approx(x.mean() - 1.959963984540054 * r["se"])


def test_weighted_mean_ignores_nan_and_rows_are_their_own_psus():
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    w = rng.uniform(0.5, 2, size=40)
    a = S.weighted_mean_ci(x, w)
    b = S.weighted_mean_ci(x, w, clusters=np.arange(40))
    assert a["se"] == pytest.approx(b["se"])
    # weighted mean = ratio estimator
    assert a["mean"] == pytest.approx(np.sum(w * x) / np.sum(w))
    x2 = np.append(x, nan)
    w2 = np.append(w, 5.0)
    c = S.weighted_mean_ci(x2, w2)
    assert c["mean"] == pytest.approx(a["mean"]) and c["n"] == 40


def test_weighted_share_logit_interval_equal_weights():
    # svyciprop(~y, svydesign(ids=~1, weights=~1), method="logit") with equal weights:
    # p = 11/32, SE = sqrt(p(1-p)/(n-1)), CI = expit(logit p -/+ t_{n-1} SE/(p(1-p)))
    # (closed form: the quasi-binomial intercept-only svyglm sandwich SE equals the
    # delta-method SE; df = degf(design) = n - 1).
    from scipy import stats as st

    y = np.array([1] * 11 + [0] * 21, dtype=float)
    r = S.weighted_share_ci(y, np.ones(32))
    p = 11 / 32
    se = math.sqrt(p * (1 - p) / 31)
    q = st.t.ppf(0.975, 31)
    lg = math.log(p / (1 - p))
    assert r["share"] == pytest.approx(p)
    assert r["se"] == pytest.approx(se, rel=1e-12)
    assert r["ci_low"] == pytest.approx(1 / (1 + math.exp(-(lg - q * se / (p * (1 - p))))), rel=1e-12)
    assert r["ci_high"] == pytest.approx(1 / (1 + math.exp(-(lg + q * se / (p * (1 - p))))), rel=1e-12)
    assert r["ci_low"] > 0 and r["df"] == 31
    with pytest.raises(ValueError):
        S.weighted_share_ci([0, 2, 1], [1, 1, 1])


def test_weighted_total_equal_weights():
    x = np.array(MTCARS_MPG)
    r = S.weighted_total_ci(x, np.full(x.size, 2.0))
    assert r["total"] == pytest.approx(2 * x.sum())
    assert r["se"] == pytest.approx(2 * x.size * x.std(ddof=1) / math.sqrt(x.size), rel=1e-12)


def test_rao_scott_equal_weights_reduces_to_pearson():
    # With equal weights and ids=~1 the survey package's with-replacement variance makes
    # every generalised design effect n/(n-1), so chi2_adj = X^2 (n-1)/n exactly and the
    # first-order statistic is Pearson's X^2 up to that factor (documented in
    # rao_scott_chi2's docstring).
    rows = []
    for i, r_ in enumerate(["F", "M"]):
        for j, c_ in enumerate(["Dem", "Ind", "Rep"]):
            rows += [(r_, c_)] * int(M_PARTY[i, j] // 10)
    d = pd.DataFrame(rows, columns=["g", "p"])
    n = len(d)
    chi2_adj, p, dof, deff = S.rao_scott_chi2(d.g, d.p, np.full(n, 2.5))
    x2, _, _ = S.chi2_independence(pd.crosstab(d.g, d.p).to_numpy())
    assert dof == 2
    assert deff == pytest.approx(n / (n - 1), rel=1e-10)
    assert chi2_adj == pytest.approx(x2 * (n - 1) / n, rel=1e-10)
    assert chi2_adj * deff == pytest.approx(x2, rel=1e-10)
    # DataFrame form (x, y, w)
    alt = S.rao_scott_chi2(d.assign(w=2.5))
    assert alt[0] == pytest.approx(chi2_adj)


# ---------------------------------------------------------------------------
# R's options on the public test functions (issue 11, part 4).  Expected values are R's
# own saved example output, tests/Examples/stats-Ex.Rout.save in the R sources
# (github.com/wch/r-source, commit 0c26529e, 2024-10-22), section of the help page named.
# ---------------------------------------------------------------------------


def _r_rnorm(n, seed, mean=0.0):
    """R's set.seed(seed); rnorm(n, mean): Mersenne-Twister seeded by R's scrambling
    (seed -> 50 + 625 LCG steps 69069 s + 1), "Inversion" normals from two uniforms
    (u = floor(2^27 u1) + u2; qnorm(u / 2^27)), as src/main/RNG.c and snorm.c."""
    from scipy.stats import norm

    s = np.uint32(seed)
    key = np.empty(625, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for _ in range(50):
            s = np.uint32(np.uint32(69069) * s + np.uint32(1))
        for j in range(625):
            s = np.uint32(np.uint32(69069) * s + np.uint32(1))
            key[j] = s
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": key[1:], "pos": 624}}
    big = 134217728
    out = []
    for _ in range(n):
        u1 = float(bg.random_raw()) * 2.3283064365386963e-10
        u2 = float(bg.random_raw()) * 2.3283064365386963e-10
        out.append(norm.ppf((int(big * u1) + u2) / big))
    return np.asarray(out) + mean


def _p_adjust_example_p():
    # ?p.adjust: set.seed(123); x <- rnorm(50, mean = c(rep(0, 25), rep(3, 25)))
    from scipy.stats import norm

    x = _r_rnorm(50, 123, np.r_[np.zeros(25), np.full(25, 3.0)])
    return 2 * norm.cdf(np.sort(-np.abs(x)))


def test_r_rng_reproduces_the_p_adjust_example_input():
    p = _p_adjust_example_p()
    # stats-Ex.Rout.save, p.adjust: round(p, 3) and format.pval(p, digits = 3) ("none")
    assert np.round(p[20:30], 3).tolist() == [0.021, 0.049, 0.061, 0.063, 0.074, 0.083, 0.086, 0.119, 0.189, 0.206]
    assert f"{p[0]:.3g}" == "2.35e-07" and f"{p[3]:.3g}" == "9.81e-05" and p[17] == pytest.approx(0.008805, abs=5e-7)


# stats-Ex.Rout.save, p.adjust: noquote(apply(p.adj, 2, format.pval, digits = 3)), rows 1-18
R_P_ADJ_FORMATTED = {
    "holm": ["1.18e-05", "0.00103", "0.00124", "0.00461", "0.00484", "0.00559", "0.00583", "0.00674", "0.00947",
             "0.01556", "0.02446", "0.06294", "0.12549", "0.13092", "0.18853", "0.23912", "0.24001", "0.29057"],
    "hochberg": ["1.18e-05", "0.00103", "0.00124", "0.00461", "0.00484", "0.00559", "0.00583", "0.00674", "0.00947",
                 "0.01556", "0.02446", "0.06294", "0.12549", "0.13092", "0.18853", "0.23912", "0.24001", "0.29057"],
    "hommel": ["1.18e-05", "0.00101", "0.00124", "0.00422", "0.00453", "0.00521", "0.00557", "0.00659", "0.00924",
               "0.01518", "0.02446", "0.05810", "0.10898", "0.11677", "0.16758", "0.21179", "0.21884", "0.27296"],
    "bonferroni": ["1.18e-05", "0.00105", "0.00129", "0.00491", "0.00526", "0.00621", "0.00663", "0.00784",
                   "0.01127", "0.01898", "0.03057", "0.08070", "0.16512", "0.17692", "0.26185", "0.34160",
                   "0.35296", "0.44026"],
    "BH": ["1.18e-05", "0.000429", "0.000429", "0.000947", "0.000947", "0.000947", "0.000947", "0.000980",
           "0.001253", "0.001898", "0.002780", "0.006725", "0.012637", "0.012637", "0.017457", "0.020762",
           "0.020762", "0.024459"],
    "BY": ["5.3e-05", "0.00193", "0.00193", "0.00426", "0.00426", "0.00426", "0.00426", "0.00441", "0.00564",
           "0.00854", "0.01251", "0.03026", "0.05686", "0.05686", "0.07854", "0.09341", "0.09341", "0.11004"],
}
# same page, round(p.adj, 3), rows 19-50 of hommel and BY (the methods with the least obvious tails)
R_P_ADJ_ROUNDED_TAIL = {
    "hommel": [0.291, 0.339, 0.571] + [0.944] * 29,
    "BY": [0.111, 0.127, 0.227, 0.503, 0.587, 0.587, 0.665, 0.717, 0.719, 0.957] + [1.0] * 22,
    "hochberg": [0.301, 0.350, 0.635] + [0.944] * 29,
    "BH": [0.025, 0.028, 0.050, 0.112, 0.130, 0.130, 0.148, 0.159, 0.160, 0.213, 0.326, 0.343, 0.356, 0.446,
           0.462, 0.684, 0.684, 0.684, 0.719, 0.741, 0.741, 0.763, 0.763, 0.763, 0.763, 0.782, 0.799, 0.880, 0.880,
           0.930, 0.930, 0.944],
}


@pytest.mark.parametrize("method", list(R_P_ADJ_FORMATTED))
def test_p_adjust_methods_match_r_help_example(method):
    p = _p_adjust_example_p()
    adj = S.p_adjust(p, method)
    for got, want in zip(adj[:18], R_P_ADJ_FORMATTED[method]):
        # format.pval(digits = 3) prints >= 3 significant digits (more when a column needs them)
        assert got == pytest.approx(float(want), abs=0.6 * 10 ** (math.floor(math.log10(float(want))) - 2))
    if method in R_P_ADJ_ROUNDED_TAIL:
        assert np.round(adj[18:], 3).tolist() == pytest.approx(R_P_ADJ_ROUNDED_TAIL[method], abs=1e-9)
    assert np.array_equal(S.p_adjust(p, "none"), p)


def test_p_adjust_hommel_with_two_p_values_is_hochberg_and_unknown_method_is_refused():
    # R's p.adjust: `if (n == 2 && method == "hommel") method <- "hochberg"`
    assert S.p_adjust([0.02, 0.04], "hommel").tolist() == S.p_adjust([0.02, 0.04], "hochberg").tolist() == [0.04, 0.04]
    with pytest.raises(ValueError, match="hommel"):
        S.p_adjust([0.1], "sidak")


def test_wilcoxon_alternatives_match_r_help_examples():
    # stats-Ex.Rout.save, wilcox.test (Hollander & Wolfe 1973, 29f and 69f)
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    assert S.wilcoxon_signed_rank(x, y, alternative="greater") == (40.0, pytest.approx(0.01953, abs=5e-6))
    d = np.subtract(y, x)
    assert S.wilcoxon_signed_rank(d, alternative="less") == (5.0, pytest.approx(0.01953, abs=5e-6))
    assert S.wilcoxon_signed_rank(d, alternative="less", exact=False, correct=False)[1] == pytest.approx(0.01908, abs=5e-6)
    assert S.wilcoxon_signed_rank(d)[1] == pytest.approx(0.03906, abs=5e-6)
    x2 = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y2 = [1.15, 0.88, 0.90, 0.74, 1.21]
    assert S.mann_whitney(x2, y2, alternative="g") == (35.0, pytest.approx(0.1272, abs=5e-5))
    assert S.mann_whitney(x2, y2, alternative="greater", exact=False, correct=False)[1] == pytest.approx(0.1103, abs=5e-5)
    # "less" is the other tail of the same exact distribution
    w, p_less = S.mann_whitney(x2, y2, alternative="less")
    assert p_less > 0.85
    with pytest.raises(ValueError, match="alternative"):
        S.mann_whitney(x2, y2, alternative="bigger")


def test_fisher_alternatives_and_conditional_mle_match_r_help_examples():
    # stats-Ex.Rout.save, fisher.test: TeaTasting (Agresti 1990) and Convictions (Fisher 1962)
    tea = S.fisher_test([[3, 1], [1, 3]], alternative="greater")
    assert tea["p"] == pytest.approx(0.2429, abs=5e-5)
    assert tea["odds_ratio"] == pytest.approx(6.408309, rel=1e-5)   # R's uniroot tolerance
    assert tea["conf_int"][0] == pytest.approx(0.3135693, rel=1e-4) and math.isinf(tea["conf_int"][1])
    conv = [[2, 15], [10, 3]]
    less = S.fisher_test(conv, alternative="less")
    assert less["p"] == pytest.approx(0.0004652, abs=5e-8)
    assert less["odds_ratio"] == pytest.approx(0.04693661, rel=1e-5)
    assert less["conf_int"][0] == 0 and less["conf_int"][1] == pytest.approx(0.2849601, rel=1e-4)
    assert S.fisher_exact(conv) == (pytest.approx(0.04693661, rel=1e-5), pytest.approx(0.0005367, abs=5e-8))
    # two-sided intervals: R 0.003325764 0.363182271 (95 %), 0.001386333 0.578851645 (99 %);
    # R finds each bound with uniroot at its default tolerance, so the lower bounds agree to ~1 %
    ci95 = S.fisher_test(conv, conf_level=0.95)["conf_int"]
    ci99 = S.fisher_test(conv, conf_level=0.99)["conf_int"]
    assert ci95 == (pytest.approx(0.003325764, rel=0.01), pytest.approx(0.363182271, rel=1e-3))
    assert ci99 == (pytest.approx(0.001386333, rel=0.015), pytest.approx(0.578851645, rel=1e-3))


def test_chi2_yates_correction_on_2x2_matches_r():
    # R: chisq.test(matrix(c(51, 51, 76, 26), nrow = 2)) -> "Pearson's Chi-squared test with
    # Yates' continuity correction", X-squared = 12.016, df = 1, p-value = 0.0005275
    # (output quoted in stats.stackexchange.com/questions/198635)
    chi2, p, dof = S.chi2_independence([[51, 76], [51, 26]], correct=True)
    assert (round(chi2, 3), dof) == (12.016, 1) and p == pytest.approx(0.0005275, abs=5e-8)
    # correct=False is the pipeline's default; Yates never applies beyond 2x2 (R)
    assert S.chi2_independence([[51, 76], [51, 26]])[0] > chi2
    t3 = [[762, 327, 468], [484, 239, 477]]
    assert S.chi2_independence(t3, correct=True) == S.chi2_independence(t3)



# MASS::survey (Venables & Ripley), the 208 complete rows of Sex, Height, Smoke in row order
# (read from cran/MASS data/survey.rda): Sex F/M, height in cm, Smoke Never/Occas/Regul/Heavy
_MASS_SURVEY = """
    F173N M177.8R M160N M165N F172.72N M182.88N F157N M175N M167N F156.2N F155N F155N F156N F157N
    M182.88N M190.5N M177N M190.5N M180.34N M180.34N M184N M172.72N M175.26N M167N M180N F166.4H M180N M190O
    F168N M182.5N M185N M171O F169N F154.94N M172N F176.5N F180.34N M180.34N M180R M170N F168O F165N
    M200N M190N M170.18N M179N M182R M171N F157.48N M177.8N M175.26O M187N F167.64N F178N F170N F164N
    M183N F172N M180N F170N M176H F171N F167.64N F165N F170H F165N F165.1H F165.1N M185.42N M176.5N
    M167.64N F167N F162.56N F170N M179N M183N F165N F168N M179H M190R F166.5N M165N F175.26N M187N
    M170N F159N F175N F163H F170N F172O M180N M180.34R F175N M190.5N F170.18N M185N F162.56N F158N
    F159N M193.04H F171N M184H M177O F172N M180N M175.26N M180.34N F172.72N M178.5R F157N F152N M187.96N
    M178N F160.02O M175.26N M189R M182.88N M170N F167N F175N F165N F172.72N M180N F172N M185N M187.96R
    M185.42N F165N F164N M195N F165N F152.4R M172.72N M180.34N M173N F167.64N M187.96N M187R F167N M168N
    M191.8N F169.2O M177N F168N F170N F160.02R M189N M180.34N F168N M182.88O F165N F157.48N F170N M172.72R
    F164N F162.56N M172O F165.1O F162.5N M170N M175N M168N F163N M165N M173N M196N M179.1N M180N
    M176O F160.02N F157.48N F165N F170.18N M154.94N F170O F164N F167O M174N F160N M179.1R F168O F153.5N
    M160N M165N F171.5N F160N F163N M165N F168.9N M170N M185N F173N M188N M171H F167.64N F162.56N
    F150N F170.18H M185N F167R M185O F169N M180.34N F165.1N F160N F170N M183N F168.5N"""


def _mass_survey():
    toks = _MASS_SURVEY.split()
    sex = np.array([t[0] == "M" for t in toks], dtype=float)
    height = np.array([float(t[1:-1]) for t in toks])
    smoke = np.array(["NORH".index(t[-1]) for t in toks])
    return smoke, pd.DataFrame({"SexMale": sex, "Height": height})


def test_brant_test_matches_r_brant_example():
    # R package brant, ?brant example (output on the package's reference page, rdrr.io/cran/brant):
    #   model1 = MASS::polr(Smoke ~ Sex + Height, data = MASS::survey, Hess = TRUE); brant(model1)
    #   Omnibus X2 3.28 df 4 p 0.51; SexMale 1.58 df 2 p 0.45; Height 0.02 df 2 p 0.99
    #   (polr: SexMale 0.09478 (SE 0.4808), Height 0.02785 (0.0243), residual deviance 287.0276)
    y, X = _mass_survey()
    assert len(y) == 208                                  # "(29 observations deleted due to missingness)"
    fit = S.ordinal_logit(y, X)
    assert fit["deviance"] == pytest.approx(287.0276, abs=5e-4)
    assert fit["coef"]["SexMale"] == pytest.approx(0.09478, abs=2e-4)   # polr's optim stops ~1e-4 early
    assert fit["coef"]["Height"] == pytest.approx(0.02785, abs=2e-5)
    assert fit["se"]["SexMale"] == pytest.approx(0.4808, abs=5e-4) and fit["se"]["Height"] == pytest.approx(0.0243, abs=5e-4)
    b = S.brant_test(y, X.to_numpy(), names=list(X.columns)).set_index("test")
    assert [round(v, 2) for v in b["chi2"]] == [3.28, 1.58, 0.02]
    assert b["df"].tolist() == [4, 2, 2]
    assert [round(v, 2) for v in b["p"]] == [0.51, 0.45, 0.99]


# --------------------------------------------------------------------------------------
# rank tests on a groups x values count table (grouped data, issue 15)
# --------------------------------------------------------------------------------------


def _counts(groups):
    """groups (lists of values) -> (distinct values, groups x values count table)."""
    arrays = [np.asarray(g, dtype=float) for g in groups]
    arrays = [a[~np.isnan(a)] for a in arrays]
    values = np.unique(np.concatenate(arrays))
    return values, np.array([np.bincount(np.searchsorted(values, a), minlength=values.size) for a in arrays])


def test_rank_tests_on_counts_reproduce_r_references():
    # the R references of the row-level tests above, recomputed from count tables:
    # kruskal.test(Ozone ~ Month, data = airquality): chi-squared = 29.267, df = 4, p = 6.901e-06
    g = _aq_groups()
    _, table = _counts(list(g.values()))
    h, p = S.kruskal_counts(table)
    assert h == pytest.approx(29.267, abs=5e-4) and p == pytest.approx(6.901e-06, rel=1e-3)
    # wilcox.test(extra ~ group, data = sleep): W = 25.5, p-value = 0.06933 (ties: normal approx.)
    values, table = _counts([SLEEP_1, SLEEP_2])
    w, p = S.mann_whitney_counts(table[0], table[1], values)
    assert w == 25.5 and p == pytest.approx(0.06933, abs=5e-6)
    # rank-biserial of sleep: 2 * 25.5 / 100 - 1 = -0.49 (Kerby 2014)
    assert S.rank_biserial_counts(table[0], table[1]) == pytest.approx(-0.49)
    # ?wilcox.test exact example (no ties, both under 50): W = 35, two-sided p = 0.254412254412254
    values, table = _counts([[0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
                             [1.15, 0.88, 0.90, 0.74, 1.21]])
    w, p = S.mann_whitney_counts(table[0], table[1], values)
    assert w == 35 and p == pytest.approx(0.254412254412254, rel=1e-9)
    with pytest.raises(ValueError, match="needs the values"):
        S.mann_whitney_counts(table[0], table[1])
    # FSA::dunnTest(pulse ~ kind, exercise), Holm (scikit-posthocs' r_results):
    # rest-walking 4.390066e-02, rest-running 9.570998e-09, walking-running 1.873208e-04
    _, table = _counts(list(EXERCISE_PULSE.values()))
    res = S.dunn_counts(table, list(EXERCISE_PULSE))
    np.testing.assert_allclose(res.p_adj, [4.390066e-02, 9.570998e-09, 1.873208e-04], rtol=1e-6)


def test_rank_tests_on_counts_equal_the_row_level_tests_bit_for_bit():
    # mid-ranks are half-integers, so rank sums are exact in any order: the count-table
    # versions must give exactly the same floats as the row-level ones (rating scales,
    # sector means on thirds and quarters, heavy ties, groups of very different sizes)
    rng = np.random.default_rng(15)
    grids = [np.arange(1.0, 6.0), np.arange(3.0, 16.0) / 3.0, np.arange(4.0, 21.0) / 4.0, np.arange(0.0, 11.0)]
    for trial in range(300):
        grid = grids[trial % len(grids)]
        k = int(rng.integers(2, 6))
        sizes = rng.integers(1, 60 if trial % 3 else 4000, k)
        groups = [rng.choice(grid, s, p=rng.dirichlet(np.ones(grid.size) * 0.7)) for s in sizes]
        values, table = _counts(groups)
        wide = np.zeros((k, grid.size), dtype=np.int64)           # unused values as zero columns
        wide[:, np.searchsorted(grid, values)] = table
        got_h, got_p = S.kruskal_counts(wide)
        h, p = S.kruskal(groups)
        assert (got_h == h or (math.isnan(h) and math.isnan(got_h))) and (got_p == p or math.isnan(p)), trial
        assert S.mann_whitney_counts(table[0], table[1], values) == S.mann_whitney(groups[0], groups[1])
        assert S.rank_biserial_counts(wide[1], wide[0]) == S.rank_biserial(groups[1], groups[0])
        names = [f"g{i}" for i in range(k)]
        pd.testing.assert_frame_equal(S.dunn_counts(wide, names), S.dunn(dict(zip(names, groups))),
                                      check_exact=True)


def test_rank_tests_on_counts_refuse_a_table_that_is_not_counts():
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        S.kruskal_counts([[1, 2], [3, -1]])
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        S.kruskal_counts([[1, 2.5], [3, 1]])
    with pytest.raises(ValueError, match="groups x values"):
        S.kruskal_counts([1, 2, 3])
    with pytest.raises(ValueError, match="at least two non-empty groups"):
        S.kruskal_counts([[1, 2], [0, 0]])


def test_one_value_distribution_tails_are_scipys_floats():
    # the p-values of the tests use special.chdtrc / ndtr directly (scipy's chi2._sf and
    # norm._sf are these): the same floats as scipy.stats, edges included
    from scipy import stats as st

    for x in [0.0, 5e-324, 1e-10, 0.5, 3.84, 29.267, 1e3, 1e300, math.inf, math.nan]:
        for df in [1, 2, 4, 7, 50]:
            a, b = S._chi2_sf(x, df), st.chi2.sf(x, df)
            assert a == b or (math.isnan(a) and math.isnan(b)), (x, df)
    for z in [0.0, -0.0, 1e-300, 1.959964, -1.959964, 8.2, -8.2, 40.0, -40.0, math.inf, -math.inf]:
        assert S._norm_sf(z) == st.norm.sf(z) and S._norm_cdf(z) == st.norm.cdf(z), z
