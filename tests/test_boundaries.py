"""Interval, test and figure functions are total at the boundaries (issue 13): k = 0, k = n,
n = 1, identical values, weights that sum to one group. A valid small export must never crash a
run; these are the inputs that small unanimous groups produce."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import plots
from analysis import stats as S

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(n=st.integers(1, 2000), data=st.data())
def test_wilson_interval_holds_its_estimate_and_stays_in_0_1(n, data):
    k = data.draw(st.integers(0, n))
    lo, hi = S.wilson_ci(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    if k == n:
        assert hi == 1.0
    if k == 0:
        assert lo == 0.0


@FAST
@given(x=st.lists(st.integers(0, 10), min_size=1, max_size=40))
def test_mean_interval_never_fails_and_holds_the_mean(x):
    m, lo, hi = S.mean_ci(x)
    assert m == np.mean(x)
    if len(x) < 2:
        assert math.isnan(lo) and math.isnan(hi)
    elif len(set(x)) == 1:                       # no spread: the interval is the mean itself
        assert lo == hi == m or (math.isnan(lo) and math.isnan(hi))
    else:
        assert lo <= m <= hi


@FAST
@given(n=st.integers(1, 60), ones=st.booleans(), data=st.data())
def test_weighted_share_of_a_unanimous_group_is_degenerate_not_an_error(n, ones, data):
    w = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n)))
    indicator = np.full(n, 1.0 if ones else 0.0)
    r = S.weighted_share_ci(indicator, w)
    expected = 1.0 if ones else 0.0
    assert r["share"] == expected and r["ci_low"] == expected and r["ci_high"] == expected


@FAST
@given(n=st.integers(2, 60), data=st.data())
def test_weighted_share_interval_holds_its_estimate(n, data):
    indicator = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))
    w = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n)))
    r = S.weighted_share_ci(indicator, w)
    assert 0.0 <= r["ci_low"] <= r["share"] <= r["ci_high"] <= 1.0


@FAST
@given(scores=st.lists(st.integers(0, 10), min_size=1, max_size=50))
def test_nps_and_its_interval_stay_within_minus_100_and_100(scores):
    r = S.nps(scores)
    assert -100 <= r["nps"] <= 100
    for key in ("ci_low", "ci_high"):
        v = r[key]
        assert math.isnan(v) or -100 - 1e-9 <= v <= 100 + 1e-9


@FAST
@given(value=st.integers(1, 5), sizes=st.lists(st.integers(1, 15), min_size=2, max_size=4))
def test_rank_tests_on_identical_answers_give_nan_or_a_probability_never_an_error(value, sizes):
    groups = {f"g{i}": np.full(s, value) for i, s in enumerate(sizes)}
    H, p = S.kruskal(groups)
    assert math.isnan(p) or 0.0 <= p <= 1.0
    U, p = S.mann_whitney(groups["g0"], groups["g1"])[:2]
    assert math.isnan(p) or 0.0 <= p <= 1.0


@FAST
@given(x=st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=1, max_size=20), data=st.data())
def test_error_bar_lengths_are_never_negative_or_nan(x, data):
    n = len(x)
    lo = data.draw(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=n, max_size=n))
    hi = data.draw(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=n, max_size=n))
    err = plots.xerr(x, lo, hi)
    assert err.shape == (2, n) and np.isfinite(err).all() and (err >= 0).all()


def test_figure_functions_draw_nothing_rather_than_crash_on_empty_tables():
    from analysis import codebook, likert_plots as lp
    from conftest import CODEBOOK

    cb = codebook.load(CODEBOOK)
    empty = pd.DataFrame()
    assert lp.ranking_plot(empty, empty, cb) is None
    assert lp.effect_heatmap(empty, cb) is None
    assert lp.nps_plot(pd.DataFrame({"grouping": [], "level": [], "nps": [], "n": []}), cb) is None
    assert lp.likert_bars(empty, cb) is None
    assert lp.family_text(empty, "lv") and lp.family_text(empty, "en")


def test_dollar_signs_in_codebook_or_respondent_text_are_text_not_mathtext():
    # "$x^$" in a codebook label crashed stage 01 (matplotlib parsed it as mathtext)
    import io

    import matplotlib.pyplot as plt

    plots.apply_style()
    fig, ax = plt.subplots()
    ax.set_title("Cena $x^$ par m² – 100 $ mēnesī")
    ax.barh(["$x^$"], [1])
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    assert buf.getvalue()
