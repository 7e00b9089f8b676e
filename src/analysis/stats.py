"""Estimates, tests, effect sizes, multiple-testing correction and models.

Every function here takes plain inputs (arrays, dicts, DataFrames) and returns tuples,
dicts or DataFrames, and reproduces a named R function on the same data.  The tests in
``tests/test_stats.py`` hold each one to a published R output (help-page examples,
package test outputs, textbooks), cited next to the expected number.

Conventions shared by the whole module

* Missing values (NaN) are dropped pairwise/listwise as R does by default
  (``na.action = na.omit``); the functions never impute.
* p-values are two-sided.
* Effect-size labels are English codes ("negligible", "small", "medium", "large");
  translation happens in the report layer.
* Survey-style (weighted) estimators follow R's *survey* package (Lumley 2004, 2010):
  Taylor linearisation, with-replacement ("ultimate cluster") variance, optional
  first-stage clusters and finite-population correction, and - for raked or otherwise
  calibrated weights - variances computed on the calibration residuals, exactly as
  ``svydesign(...)`` followed by ``rake()``/``calibrate()``/``postStratify()``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st
from scipy import special as _special
from scipy.special import expit

__all__ = [
    "kruskal",
    "epsilon_squared",
    "effect_label",
    "EFFECT_THRESHOLDS",
    "dunn",
    "mann_whitney",
    "rank_biserial",
    "kruskal_counts",
    "mann_whitney_counts",
    "rank_biserial_counts",
    "dunn_counts",
    "chi2_independence",
    "cramers_v",
    "adjusted_residuals",
    "fisher_exact",
    "fisher_test",
    "P_ADJUST_METHODS",
    "friedman",
    "kendalls_w",
    "wilcoxon_signed_rank",
    "matched_pairs_rank_biserial",
    "pairwise_wilcoxon",
    "p_adjust",
    "ordinal_logit",
    "polr_fit",
    "odds_ratios",
    "wilson_ci",
    "mean_ci",
    "nps",
    "cronbach_alpha",
    "weighted_mean_ci",
    "weighted_total_ci",
    "weighted_share_ci",
    "rao_scott_chi2",
    "rao_scott_chi2_codes",
    "Calibration",
]


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def _chi2_sf(x: float, df: float):
    """``scipy.stats.chi2.sf(x, df)`` of one value: the same float (scipy's chi2._sf is
    ``special.chdtrc``), without the distribution object's checks costing ~0.1 ms a call."""
    if df > 0 and math.isfinite(x) and x >= 0:
        return _special.chdtrc(df, x)
    return _st.chi2.sf(x, df)


def _norm_sf(z: float):
    """``scipy.stats.norm.sf(z)`` of one value: the same float (``special.ndtr(-z)``)."""
    return _special.ndtr(-z) if math.isfinite(z) else _st.norm.sf(z)


def _norm_cdf(z: float):
    """``scipy.stats.norm.cdf(z)`` of one value: the same float (``special.ndtr(z)``)."""
    return _special.ndtr(z) if math.isfinite(z) else _st.norm.cdf(z)


def _clean(x: Any) -> np.ndarray:
    """1-d float array with NaN removed."""
    a = np.asarray(x, dtype=float).ravel()
    return a[~np.isnan(a)]


def _tie_sum(values: np.ndarray) -> float:
    """Sum over tie groups of (t^3 - t)."""
    _, counts = np.unique(values, return_counts=True)
    counts = counts.astype(float)
    return float(np.sum(counts**3 - counts))


def _groups_to_list(groups: Any) -> tuple[list[str], list[np.ndarray]]:
    if isinstance(groups, Mapping):
        names = [str(k) for k in groups.keys()]
        arrays = [_clean(v) for v in groups.values()]
    else:
        arrays = [_clean(v) for v in groups]
        names = [str(i + 1) for i in range(len(arrays))]
    return names, arrays


def _table(table: Any) -> np.ndarray:
    t = np.asarray(table, dtype=float)
    if t.ndim != 2:
        raise ValueError(f"expected a two-way table, got an array of shape {t.shape}")
    if np.any(t < 0) or np.any(np.isnan(t)):
        raise ValueError("a contingency table must hold non-negative counts without NaN")
    return t


# ---------------------------------------------------------------------------
# Kruskal-Wallis, epsilon squared, labels
# ---------------------------------------------------------------------------


def kruskal(groups: Any) -> tuple[float, float]:
    """Kruskal-Wallis rank-sum test, tie-corrected, as R ``kruskal.test``.

    Kruskal & Wallis (1952); Hollander & Wolfe (1973), pp. 115-120.  ``groups`` is a
    dict ``{name: values}`` or a sequence of arrays; NaN values are dropped, empty
    groups ignored.  Returns ``(H, p)`` with ``p`` from chi-squared on k-1 df.
    When every value is identical the statistic is undefined and ``(nan, nan)`` is
    returned (R returns NaN too).
    """
    _, arrays = _groups_to_list(groups)
    arrays = [a for a in arrays if a.size]
    k = len(arrays)
    if k < 2:
        raise ValueError("kruskal() needs at least two non-empty groups")
    allv = np.concatenate(arrays)
    n = allv.size
    ranks = _st.rankdata(allv)
    ties = 1.0 - _tie_sum(allv) / (n**3 - n)
    if ties <= 0:
        return float("nan"), float("nan")
    h = 0.0
    start = 0
    for a in arrays:
        r = ranks[start : start + a.size]
        start += a.size
        h += r.sum() ** 2 / a.size
    h = (12.0 / (n * (n + 1)) * h - 3.0 * (n + 1)) / ties
    p = float(_chi2_sf(h, k - 1))
    return float(h), p


def epsilon_squared(H: float, n: int) -> float:
    """Epsilon-squared effect size for Kruskal-Wallis: ``H / ((n^2 - 1) / (n + 1))``.

    Tomczak & Tomczak (2014), Trends in Sport Sciences 21(1), eq. for E^2_R
    (equivalently H / (n - 1)); ``n`` is the total number of observations.
    """
    n = float(n)
    if n < 2:
        return float("nan")
    return float(H) / ((n**2 - 1.0) / (n + 1.0))


#: Thresholds (lower bounds of "small", "medium", "large") used by :func:`effect_label`.
#: Values below the first bound are "negligible".  Sources:
#:   epsilon_squared - 0.01 / 0.08 / 0.26, the interpretation table of
#:                     rcompanion::epsilonSquared (Mangiafico);
#:   rank_biserial    - |r| 0.1 / 0.3 / 0.5 (Cohen 1988 conventions for r);
#:   kendalls_w       - 0.1 / 0.3 / 0.5 (Cohen's guidelines, as rstatix::friedman_effsize);
#:   cramers_v        - Cohen (1988) w = 0.1 / 0.3 / 0.5 divided by sqrt(df*), df* =
#:                     min(rows, cols) - 1 (Cohen 1988, ch. 7; see :func:`effect_label`);
#:   odds_ratio       - 1.68 / 3.47 / 6.71 (Chen, Cohen & Chen 2010), symmetric in 1/OR;
#:   cohens_d         - 0.2 / 0.5 / 0.8 (Cohen 1988).
EFFECT_THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "epsilon_squared": (0.01, 0.08, 0.26),
    "rank_biserial": (0.1, 0.3, 0.5),
    "kendalls_w": (0.1, 0.3, 0.5),
    "cramers_v": (0.1, 0.3, 0.5),  # for df* = 1; divided by sqrt(df*) otherwise
    "odds_ratio": (1.68, 3.47, 6.71),
    "cohens_d": (0.2, 0.5, 0.8),
}

_KIND_ALIASES = {
    "epsilon2": "epsilon_squared",
    "epsilon²": "epsilon_squared",
    "r": "rank_biserial",
    "rank_biserial_r": "rank_biserial",
    "w": "kendalls_w",
    "kendall_w": "kendalls_w",
    "v": "cramers_v",
    "cramer_v": "cramers_v",
    "or": "odds_ratio",
    "d": "cohens_d",
}


def effect_label(value: float, kind: str, df: int = 1) -> str:
    """Plain-language size label for an effect size: negligible / small / medium / large.

    ``kind`` is one of :data:`EFFECT_THRESHOLDS` (aliases: "r", "w", "v", "or", "d",
    "epsilon2").  Absolute values are used for signed measures (r, d); odds ratios
    below 1 are inverted.  For Cramér's V, ``df`` is df* = min(rows, cols) - 1 and the
    bounds are Cohen's w bounds divided by sqrt(df*) (Cohen 1988: w = V * sqrt(df*)),
    e.g. df* = 2 gives 0.071 / 0.212 / 0.354.  NaN returns ``"undefined"``.
    """
    kind_n = _KIND_ALIASES.get(kind.lower(), kind.lower())
    if kind_n not in EFFECT_THRESHOLDS:
        raise ValueError(f"unknown effect-size kind {kind!r}; known: {sorted(EFFECT_THRESHOLDS)}")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    v = float(value)
    if math.isnan(v):
        return "undefined"
    small, medium, large = EFFECT_THRESHOLDS[kind_n]
    if kind_n == "odds_ratio":
        if v <= 0:
            raise ValueError("an odds ratio must be positive")
        v = v if v >= 1 else 1.0 / v
    else:
        v = abs(v)
    if kind_n == "cramers_v":
        if df < 1:
            raise ValueError("df* for Cramér's V must be >= 1")
        s = math.sqrt(df)
        small, medium, large = small / s, medium / s, large / s
    if v >= large:
        return "large"
    if v >= medium:
        return "medium"
    if v >= small:
        return "small"
    return "negligible"


# ---------------------------------------------------------------------------
# multiple testing
# ---------------------------------------------------------------------------


def p_adjust(p: Any, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple comparisons, as R ``p.adjust``.

    Methods (R's ``p.adjust.methods``): ``"holm"`` (Holm 1979), ``"hochberg"`` (Hochberg
    1988), ``"hommel"`` (Hommel 1988), ``"bonferroni"``, ``"BH"``/``"fdr"`` (Benjamini &
    Hochberg 1995), ``"BY"`` (Benjamini & Yekutieli 2001) and ``"none"``; the code follows
    R's ``p.adjust`` line by line.  NaN p-values are kept as NaN in the output and are
    *not* counted in the number of tests m (R: ``n = length(p[!is.na(p)])``) - unlike
    ``statsmodels.stats.multitest.multipletests``, which counts them.
    """
    arr = np.asarray(p, dtype=float)
    shape = arr.shape
    flat = arr.ravel()
    out = np.full(flat.shape, np.nan)
    ok = ~np.isnan(flat)
    pv = flat[ok]
    m = pv.size
    if m == 0:
        return out.reshape(shape)
    if np.any((pv < 0) | (pv > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    key = method.lower()
    i_up = np.arange(1, m + 1)
    if key == "holm":
        order = np.argsort(pv, kind="mergesort")
        adj = np.maximum.accumulate((m - np.arange(m)) * pv[order])
        res = np.empty(m)
        res[order] = np.minimum(1.0, adj)
    elif key == "hochberg":
        order = np.argsort(pv, kind="mergesort")[::-1]
        i = np.arange(m, 0, -1)
        res = np.empty(m)
        res[order] = np.minimum(1.0, np.minimum.accumulate((m - i + 1) * pv[order]))
    elif key == "hommel" and m == 2:               # R: n == 2 -> "hochberg"
        return p_adjust(arr, "hochberg")
    elif key == "hommel":
        if m == 1:
            res = pv.copy()
        else:
            order = np.argsort(pv, kind="mergesort")
            ps = pv[order]
            q = np.full(m, np.min(m * ps / i_up))
            pa = q.copy()
            for j in range(m - 1, 1, -1):
                i1 = np.arange(0, m - j + 1)          # R: 1:(n - m + 1)
                i2 = np.arange(m - j + 1, m)          # R: (n - m + 2):n
                q1 = np.min(j * ps[i2] / np.arange(2, j + 1))
                q[i1] = np.minimum(j * ps[i1], q1)
                q[i2] = q[m - j]
                pa = np.maximum(pa, q)
            res = np.empty(m)
            res[order] = np.maximum(pa, ps)
    elif key in ("bh", "fdr"):
        order = np.argsort(pv, kind="mergesort")[::-1]
        i = np.arange(m, 0, -1)
        adj = np.minimum.accumulate(m / i * pv[order])
        res = np.empty(m)
        res[order] = np.minimum(1.0, adj)
    elif key == "by":
        order = np.argsort(pv, kind="mergesort")[::-1]
        i = np.arange(m, 0, -1)
        q = float(np.sum(1.0 / i_up))
        res = np.empty(m)
        res[order] = np.minimum(1.0, np.minimum.accumulate(q * m / i * pv[order]))
    elif key == "bonferroni":
        res = np.minimum(1.0, m * pv)
    elif key == "none":
        res = pv.copy()
    else:
        raise ValueError(f"unknown p-adjust method {method!r}: use one of {', '.join(P_ADJUST_METHODS)}")
    out[ok] = res
    return out.reshape(shape)


P_ADJUST_METHODS = ("holm", "hochberg", "hommel", "bonferroni", "BH", "BY", "fdr", "none")
ALTERNATIVES = ("two.sided", "less", "greater")


def _alternative(alt: str) -> str:
    """R's alternative names (partial matching as R: "g" = "greater"); scipy's spelling too."""
    a = str(alt).lower().replace("-", ".").replace("_", ".")
    if a in ("two.sided", "two.sided", "t", "tw", "two"):
        return "two.sided"
    for full in ALTERNATIVES:
        if full.startswith(a) and a:
            return full
    raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alt!r}")


_p_adjust_fn = p_adjust  # the name p_adjust is shadowed by keyword arguments below


# ---------------------------------------------------------------------------
# Dunn
# ---------------------------------------------------------------------------


def dunn(groups: Mapping[str, Any], p_adjust: str = "holm") -> pd.DataFrame:
    """Dunn's (1964) pairwise test after Kruskal-Wallis, as ``FSA::dunnTest``.

    Two-sided, tie-corrected (joint ranking of all groups, pooled variance
    ``N(N+1)/12 - sum(t^3 - t) / (12 (N - 1))``), p-values adjusted over all
    k(k-1)/2 comparisons with :func:`p_adjust` (default Holm, FSA's default).
    Pairs are listed in FSA's order (1-2, 1-3, 2-3, 1-4, ...); ``z`` is positive when
    ``group1`` has the higher mean rank.

    Known difference: FSA delegates Holm to ``dunn.test``, which prints
    ``(m - i + 1) p_(i)`` *without* the running maximum, so its largest adjusted
    p-values can be smaller than R's ``p.adjust(p, "holm")``.  We report the monotone
    (``p.adjust``) values; the rejection decisions at any alpha are the same.  Returns
    ``DataFrame(group1, group2, z, p_unadj, p_adj, mean_rank1, mean_rank2, n1, n2)``.
    """
    method = p_adjust
    names, arrays = _groups_to_list(groups)
    keep = [(nm, a) for nm, a in zip(names, arrays) if a.size]
    if len(keep) < 2:
        raise ValueError("dunn() needs at least two non-empty groups")
    names = [k for k, _ in keep]
    arrays = [a for _, a in keep]
    allv = np.concatenate(arrays)
    n = allv.size
    ranks = _st.rankdata(allv)
    mean_ranks, sizes = [], []
    start = 0
    for a in arrays:
        mean_ranks.append(ranks[start : start + a.size].mean())
        sizes.append(a.size)
        start += a.size
    var0 = n * (n + 1) / 12.0 - _tie_sum(allv) / (12.0 * (n - 1))
    return _dunn_table(names, sizes, mean_ranks, var0, method)


def _dunn_table(names, sizes, mean_ranks, var0: float, method: str) -> pd.DataFrame:
    """Dunn's pairwise z tests from each group's size and mean rank and the tie-corrected rank
    variance ``var0`` (shared by :func:`dunn` and :func:`dunn_counts`)."""
    rows = []
    k = len(sizes)
    for j in range(1, k):
        for i in range(j):
            se = math.sqrt(var0 * (1.0 / sizes[i] + 1.0 / sizes[j]))
            z = (mean_ranks[i] - mean_ranks[j]) / se if se > 0 else float("nan")
            p = 2.0 * _norm_sf(abs(z)) if not math.isnan(z) else float("nan")
            rows.append({"group1": names[i], "group2": names[j], "z": z, "p_unadj": p,
                         "mean_rank1": mean_ranks[i], "mean_rank2": mean_ranks[j], "n1": sizes[i], "n2": sizes[j]})
    df = pd.DataFrame(rows)
    df.insert(4, "p_adj", _p_adjust_fn(df["p_unadj"].to_numpy(), method))
    return df


# ---------------------------------------------------------------------------
# Mann-Whitney / Wilcoxon rank-sum
# ---------------------------------------------------------------------------


def mann_whitney(x: Any, y: Any, correct: bool = True, exact: bool | None = None,
                 alternative: str = "two.sided") -> tuple[float, float]:
    """Wilcoxon rank-sum (Mann-Whitney) test, as R ``wilcox.test(x, y, alternative=)``.

    ``alternative``: "two.sided" (default), "greater" (x tends to be larger) or "less",
    with R's partial matching ("g", "l").

    Returns ``(W, p)`` where W is R's statistic: the Mann-Whitney U of ``x``
    (rank sum of x minus n_x(n_x+1)/2).  Rules copied from R:

    * ``exact=None`` -> exact p when both samples have fewer than 50 values and there
      are no ties (permutation distribution of W, R's ``pwilcox``);
    * otherwise the normal approximation with tie-corrected variance and, when
      ``correct=True`` (R default), a continuity correction of 0.5 toward the mean.
    """
    alt = _alternative(alternative)
    a, b = _clean(x), _clean(y)
    nx, ny = a.size, b.size
    if nx == 0 or ny == 0:
        raise ValueError("mann_whitney() needs two non-empty samples")
    allv = np.concatenate([a, b])
    r = _st.rankdata(allv)
    w = float(r[:nx].sum() - nx * (nx + 1) / 2.0)
    ties = np.unique(allv).size != allv.size
    if exact is None:
        exact = nx < 50 and ny < 50
    if exact and not ties:
        # scipy's exact distribution of U is R's pwilcox; two-sided p = min(1, 2*min tail)
        scipy_alt = {"two.sided": "two-sided"}.get(alt, alt)
        p = float(_st.mannwhitneyu(a, b, alternative=scipy_alt, method="exact").pvalue)
        return w, min(1.0, p)
    n = nx + ny
    z = w - nx * ny / 2.0
    sigma = math.sqrt(nx * ny / 12.0 * ((n + 1) - _tie_sum(allv) / (n * (n - 1))))
    return w, _normal_p(z, sigma, correct, alt)


def _normal_p(z: float, sigma: float, correct: bool, alternative: str = "two.sided") -> float:
    """p of a centred rank statistic z with SD sigma, as wilcox.test's normal approximation:
    continuity correction (when `correct`) of 0.5 towards zero (two-sided), -0.5 for
    "greater" and +0.5 for "less" (R: CORRECTION = sign(z)*0.5 | 0.5 | -0.5)."""
    if sigma == 0:
        return float("nan")
    corr = 0.0
    if correct:
        corr = {"two.sided": 0.5 * np.sign(z), "greater": 0.5, "less": -0.5}[alternative]
    zc = (z - corr) / sigma
    if alternative == "less":
        return float(_norm_cdf(zc))
    if alternative == "greater":
        return float(_norm_sf(zc))
    return float(min(1.0, 2.0 * min(_norm_cdf(zc), _norm_sf(zc))))


def rank_biserial(x: Any, y: Any) -> float:
    """Rank-biserial correlation for two independent samples (Glass 1965; Kerby 2014).

    ``r = 2 U_x / (n_x n_y) - 1 = P(X > Y) - P(X < Y)`` (ties count one half), so it
    is positive when ``x`` tends to be larger; in [-1, 1].  Equal to Cliff's delta.
    """
    a, b = _clean(x), _clean(y)
    if a.size == 0 or b.size == 0:
        return float("nan")
    allv = np.concatenate([a, b])
    r = _st.rankdata(allv)
    u = r[: a.size].sum() - a.size * (a.size + 1) / 2.0
    return float(2.0 * u / (a.size * b.size) - 1.0)


# ---------------------------------------------------------------------------
# the rank tests above on a groups x values count table (grouped data)
# ---------------------------------------------------------------------------
#
# On a rating scale a group of 10^5 answers holds a handful of distinct values: the rank
# tests only need how many answers of each group take each value.  The functions below
# take that table (one row per group, one column per distinct value in increasing order;
# zero columns allowed) and return the same numbers as their row-by-row versions, bit for
# bit: mid-ranks are half-integers, so every rank sum is exact in floating point (below
# 2**53, i.e. up to ~10^8 answers) whatever the order of summation, and the tie counts
# enter in the same (sorted) order as np.unique gives them.


def _count_table(counts: Any, rows: int | None = None) -> np.ndarray:
    c = np.asarray(counts)
    if c.ndim != 2 or (rows is not None and c.shape[0] != rows):
        raise ValueError(f"expected a groups x values table of counts, got an array of shape {c.shape}")
    if c.size and (np.any(c < 0) or np.any(c != np.round(c))):
        raise ValueError("a count table must hold non-negative whole numbers")
    return c.astype(np.int64)


def _rank_sums(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(rank sum of each row, tie sizes of the pooled values as floats, n) of an int64
    groups x values table: ranks as rankdata's "average" (mid-ranks of tied values)."""
    tot = c.sum(0)
    present = tot > 0
    c, tot = c[:, present], tot[present]
    mid = np.cumsum(tot) - (tot - 1) / 2.0
    return (c * mid).sum(1), tot.astype(float), int(tot.sum())


def kruskal_counts(counts: Any) -> tuple[float, float]:
    """:func:`kruskal` on a groups x values count table (rows = groups, columns = the
    distinct values in increasing order): the same (H, p), from the counts."""
    c = _count_table(counts)
    sizes = c.sum(1)
    c = c[sizes > 0]
    sizes = sizes[sizes > 0]
    k = c.shape[0]
    if k < 2:
        raise ValueError("kruskal() needs at least two non-empty groups")
    sums, ties_t, n = _rank_sums(c)
    ties = 1.0 - float(np.sum(ties_t**3 - ties_t)) / (n**3 - n)
    if ties <= 0:
        return float("nan"), float("nan")
    h = 0.0
    for s, size in zip(sums, sizes.tolist()):
        h += s**2 / size
    h = (12.0 / (n * (n + 1)) * h - 3.0 * (n + 1)) / ties
    p = float(_chi2_sf(h, k - 1))
    return float(h), p


def mann_whitney_counts(cx: Any, cy: Any, values: Any = None, correct: bool = True, exact: bool | None = None,
                        alternative: str = "two.sided") -> tuple[float, float]:
    """:func:`mann_whitney` of x and y given as counts over the same distinct values
    (increasing). The exact p (both samples under 50, no ties) needs the values themselves
    (`values`); the normal approximation is computed from the counts."""
    alt = _alternative(alternative)
    c = _count_table(np.vstack([np.asarray(cx).ravel(), np.asarray(cy).ravel()]))
    nx, ny = int(c[0].sum()), int(c[1].sum())
    if nx == 0 or ny == 0:
        raise ValueError("mann_whitney() needs two non-empty samples")
    sums, ties_t, n = _rank_sums(c)
    ties = ties_t.size != n
    if exact is None:
        exact = nx < 50 and ny < 50
    if exact and not ties:
        if values is None:
            raise ValueError("mann_whitney_counts(): the exact p needs the values of the columns")
        v = np.asarray(values, dtype=float).ravel()
        return mann_whitney(np.repeat(v, c[0]), np.repeat(v, c[1]), correct, exact, alternative)
    w = float(sums[0] - nx * (nx + 1) / 2.0)
    z = w - nx * ny / 2.0
    sigma = math.sqrt(nx * ny / 12.0 * ((n + 1) - float(np.sum(ties_t**3 - ties_t)) / (n * (n - 1))))
    return w, _normal_p(z, sigma, correct, alt)


def rank_biserial_counts(cx: Any, cy: Any) -> float:
    """:func:`rank_biserial` of x and y given as counts over the same distinct values."""
    c = _count_table(np.vstack([np.asarray(cx).ravel(), np.asarray(cy).ravel()]))
    nx, ny = int(c[0].sum()), int(c[1].sum())
    if nx == 0 or ny == 0:
        return float("nan")
    sums, _, _ = _rank_sums(c)
    u = sums[0] - nx * (nx + 1) / 2.0
    return float(2.0 * u / (nx * ny) - 1.0)


def dunn_counts(counts: Any, names: Sequence[str], p_adjust: str = "holm") -> pd.DataFrame:
    """:func:`dunn` on a groups x values count table, rows named by `names`."""
    method = p_adjust
    c = _count_table(counts, len(names))
    sizes = c.sum(1)
    keep = sizes > 0
    if keep.sum() < 2:
        raise ValueError("dunn() needs at least two non-empty groups")
    names = [str(nm) for nm, k in zip(names, keep) if k]
    c, sizes = c[keep], sizes[keep].tolist()
    sums, ties_t, n = _rank_sums(c)
    mean_ranks = [s / size for s, size in zip(sums, sizes)]
    var0 = n * (n + 1) / 12.0 - float(np.sum(ties_t**3 - ties_t)) / (12.0 * (n - 1))
    return _dunn_table(names, sizes, mean_ranks, var0, method)


# ---------------------------------------------------------------------------
# contingency tables
# ---------------------------------------------------------------------------


def chi2_independence(table: Any, correct: bool = False) -> tuple[float, float, int]:
    """Pearson chi-squared test of independence, as R ``chisq.test(table, correct=)``.

    ``correct=False`` (this function's default, the pipeline's choice): no Yates
    continuity correction, also on 2x2 tables.  ``correct=True`` is R's default: on a
    2x2 table each |O - E| is reduced by ``min(0.5, |O - E|)`` (R's ``YATES``), never on
    larger tables.  Returns ``(chi2, p, dof)``.  Rows or columns whose total is zero
    are rejected (the expected count would be zero).
    """
    t = _table(table)
    n = t.sum()
    if n <= 0:
        raise ValueError("the table is empty")
    rs, cs = t.sum(1), t.sum(0)
    if np.any(rs == 0) or np.any(cs == 0):
        raise ValueError("a row or column of the table has no observations")
    e = np.outer(rs, cs) / n
    dev = np.abs(t - e)
    if correct and t.shape == (2, 2):
        dev = dev - min(0.5, float(dev.min()))
    chi2 = float((dev ** 2 / e).sum())
    dof = (t.shape[0] - 1) * (t.shape[1] - 1)
    return chi2, float(_chi2_sf(chi2, dof)), int(dof)


def cramers_v(table: Any, bias_correct: bool = True) -> float:
    """Cramér's V; with ``bias_correct=True`` the Bergsma (2013) correction.

    Bergsma (2013), "A bias-correction for Cramér's V and Tschuprow's T",
    J. Korean Stat. Soc. 42:323-328:
    phi2~ = max(0, chi2/n - (r-1)(c-1)/(n-1)), r~ = r - (r-1)^2/(n-1),
    c~ = c - (c-1)^2/(n-1), V~ = sqrt(phi2~ / min(r~-1, c~-1)).  As
    ``rcompanion::cramerV(bias.correct=TRUE)`` / ``DescTools::CramerV(correct=TRUE)``.
    Uncorrected: sqrt(chi2 / (n (min(r,c)-1))).
    """
    t = _table(table)
    chi2, _, _ = chi2_independence(t)
    n = t.sum()
    r, c = t.shape
    if not bias_correct:
        return float(math.sqrt(chi2 / (n * (min(r, c) - 1))))
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    cc = c - (c - 1) ** 2 / (n - 1)
    den = min(rc - 1, cc - 1)
    if den <= 0:
        return float("nan")
    return float(math.sqrt(phi2 / den))


def adjusted_residuals(table: Any) -> np.ndarray:
    """Haberman (1973) adjusted standardised residuals, as R ``chisq.test(x)$stdres``.

    ``(O - E) / sqrt(E (1 - row_i/n) (1 - col_j/n))``; |value| > 1.96 marks a cell that
    departs from independence at the 5 % level (before any multiplicity correction).
    Returns an array (or a DataFrame with the same labels if a DataFrame was given).
    """
    t = _table(table)
    n = t.sum()
    rs, cs = t.sum(1), t.sum(0)
    e = np.outer(rs, cs) / n
    v = e * np.outer(1 - rs / n, 1 - cs / n)
    res = (t - e) / np.sqrt(v)
    if isinstance(table, pd.DataFrame):
        return pd.DataFrame(res, index=table.index, columns=table.columns)
    return res


def fisher_exact(table: Any, alternative: str = "two.sided") -> tuple[float, float]:
    """Fisher's exact test on a 2x2 table, as R ``fisher.test(table, alternative=)``.

    Returns ``(odds_ratio, p)``: the *conditional* maximum-likelihood estimate of the
    odds ratio (R's estimate; ``scipy.stats.contingency.odds_ratio(kind="conditional")``),
    not the sample odds ratio that ``scipy.stats.fisher_exact`` reports, and the p-value
    for ``alternative`` ("two.sided": sum of tables no more probable than the observed
    one; "greater"/"less": one tail).  :func:`fisher_test` also gives R's interval.
    """
    r = fisher_test(table, alternative, conf_level=None)
    return r["odds_ratio"], r["p"]


def fisher_test(table: Any, alternative: str = "two.sided", conf_level: float | None = 0.95) -> dict[str, Any]:
    """R ``fisher.test`` on a 2x2 table: dict(odds_ratio, p, conf_int, alternative).

    ``odds_ratio`` is the conditional MLE, ``conf_int`` the exact conditional interval
    (R's, one-sided for a one-sided alternative: [0, hi] or [lo, Inf]); None when
    ``conf_level`` is None.
    """
    alt = _alternative(alternative)
    t = _table(table)
    if t.shape != (2, 2):
        raise ValueError("fisher_exact() handles 2x2 tables only (R x C tables: not implemented)")
    ti = t.astype(int)
    if not np.array_equal(ti, t):
        raise ValueError("fisher_exact() needs integer counts")
    scipy_alt = {"two.sided": "two-sided"}.get(alt, alt)
    res = _st.contingency.odds_ratio(ti, kind="conditional")
    p = float(_st.fisher_exact(ti, alternative=scipy_alt).pvalue)
    ci = None
    if conf_level is not None:
        c = res.confidence_interval(confidence_level=conf_level, alternative=scipy_alt)
        ci = (float(c.low), float(c.high))
    return {"odds_ratio": float(res.statistic), "p": min(1.0, p), "conf_int": ci, "alternative": alt}


# ---------------------------------------------------------------------------
# Friedman, Kendall's W, signed-rank tests
# ---------------------------------------------------------------------------


def _complete_matrix(matrix: Any) -> np.ndarray:
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2:
        raise ValueError("expected a 2-d matrix: rows = respondents (blocks), columns = treatments")
    return m[~np.isnan(m).any(axis=1)]


def _friedman_parts(m: np.ndarray) -> tuple[float, int, int]:
    """Tie-corrected Friedman statistic, vectorised: row ranks by rankdata(axis=1), the tie
    term sum(t^3 - t) of each row as the sum over its cells of (count of equal values)^2 - 1."""
    n, k = m.shape
    r = _st.rankdata(m, axis=1)
    ties = float(((m[:, :, None] == m[:, None, :]).sum(2).astype(float) ** 2 - 1).sum())
    num = 12.0 * np.sum((r.sum(0) - n * (k + 1) / 2.0) ** 2)
    den = n * k * (k + 1) - ties / (k - 1)
    if den <= 0:
        return float("nan"), n, k
    return num / den, n, k


def friedman(matrix: Any) -> tuple[float, float]:
    """Friedman rank-sum test, tie-corrected, as R ``friedman.test(matrix)``.

    Rows are blocks (respondents), columns are treatments (e.g. sectors).  Rows with any
    NaN are removed, as R does.  Returns ``(chi2, p)`` with k-1 df; NaN when every
    row is constant.
    """
    m = _complete_matrix(matrix)
    if m.shape[0] < 1 or m.shape[1] < 2:
        raise ValueError("friedman() needs at least one complete row and two columns")
    chi2, _, k = _friedman_parts(m)
    if math.isnan(chi2):
        return float("nan"), float("nan")
    return float(chi2), float(_chi2_sf(chi2, k - 1))


def kendalls_w(matrix: Any) -> float:
    """Kendall's coefficient of concordance W, tie-corrected.

    Kendall & Babington Smith (1939); tie correction as in Siegel & Castellan (1988):
    ``W = 12 S / (m^2 (k^3 - k) - m sum T)``, which equals the tie-corrected Friedman
    statistic divided by ``m (k - 1)`` (Tomczak & Tomczak 2014; as
    ``rstatix::friedman_effsize``).  Rows = raters/respondents (m), columns = items (k).
    A respondent who gives every item the same score contributes only to the
    tie term.  NaN when every row is constant.
    """
    m = _complete_matrix(matrix)
    chi2, n, k = _friedman_parts(m)
    if math.isnan(chi2):
        return float("nan")
    return float(chi2 / (n * (k - 1)))


def _psignrank_counts(n: int) -> np.ndarray:
    """Number of subsets of {1..n} with each sum 0..n(n+1)/2 (R's dsignrank * 2^n)."""
    total = n * (n + 1) // 2
    c = np.zeros(total + 1, dtype=float)
    c[0] = 1.0
    for i in range(1, n + 1):
        c[i:] = c[i:] + c[: total + 1 - i].copy()
    return c


def wilcoxon_signed_rank(
    x: Any,
    y: Any = None,
    mu: float = 0.0,
    correct: bool = True,
    exact: bool | None = None,
    alternative: str = "two.sided",
) -> tuple[float, float]:
    """Wilcoxon signed-rank test, as R ``wilcox.test(x, y, paired=TRUE, alternative=)``
    (or one sample).  ``alternative``: "two.sided", "greater" (x - y > mu) or "less".

    Rules copied from R's ``wilcox.test.default``:

    * d = x - y - mu on complete pairs; zero differences are dropped;
    * V = T+, the sum of the ranks of |d| over positive d (scipy reports min(T+, T-));
    * ``exact=None`` -> exact p (``psignrank``) when n < 50 (n after dropping zeros),
      but only if there are no ties and no zeros; otherwise the normal approximation
      with tie-corrected variance and, when ``correct=True`` (R default), a
      continuity correction of 0.5.

    Returns ``(V, p)``, two-sided.
    """
    alt = _alternative(alternative)
    xa = np.asarray(x, dtype=float).ravel()
    if y is not None:
        ya = np.asarray(y, dtype=float).ravel()
        if ya.shape != xa.shape:
            raise ValueError("x and y must have the same length for a paired test")
        d = xa - ya
    else:
        d = xa
    d = d[~np.isnan(d)] - mu
    zeroes = bool(np.any(d == 0))
    d = d[d != 0]
    n = d.size
    if n == 0:
        return 0.0, float("nan")
    r = _st.rankdata(np.abs(d))
    v = float(r[d > 0].sum())
    ties = np.unique(r).size != r.size
    if exact is None:
        exact = n < 50
    if exact and not ties and not zeroes:
        counts = _psignrank_counts(n)
        cdf = np.cumsum(counts) / 2.0**n
        vi = int(round(v))
        upper = 1.0 - cdf[vi - 1] if vi > 0 else 1.0  # P(V >= v)
        lower = cdf[vi]  # P(V <= v)
        if alt == "greater":
            return v, float(upper)
        if alt == "less":
            return v, float(lower)
        p = upper if v > n * (n + 1) / 4.0 else lower
        return v, float(min(1.0, 2.0 * p))
    z = v - n * (n + 1) / 4.0
    _, nties = np.unique(r, return_counts=True)
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0 - np.sum(nties.astype(float) ** 3 - nties) / 48.0)
    return v, _normal_p(z, sigma, correct, alt)


def matched_pairs_rank_biserial(x: Any, y: Any) -> float:
    """Matched-pairs rank-biserial correlation (Kerby 2014): ``(T+ - T-) / (T+ + T-)``.

    Computed on the non-zero differences x - y (as the signed-rank test); positive when
    x tends to exceed y.
    """
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    d = d[~np.isnan(d)]
    d = d[d != 0]
    if d.size == 0:
        return float("nan")
    r = _st.rankdata(np.abs(d))
    tp, tm = r[d > 0].sum(), r[d < 0].sum()
    return float((tp - tm) / (tp + tm))


def pairwise_wilcoxon(matrix_df: pd.DataFrame, p_adjust: str = "holm") -> pd.DataFrame:
    """All pairwise Wilcoxon signed-rank tests between the columns of ``matrix_df``.

    As R ``pairwise.wilcox.test(..., paired=TRUE)`` applied column pair by column pair,
    each pair on its own complete cases, p-values adjusted with :func:`p_adjust`
    (default Holm, R's default).  Returns
    ``DataFrame(group1, group2, n, V, p_unadj, p_adj, r)`` where n counts complete pairs
    and r is the matched-pairs rank-biserial correlation.
    """
    if not isinstance(matrix_df, pd.DataFrame):
        matrix_df = pd.DataFrame(matrix_df)
    rows = []
    for a, b in combinations(matrix_df.columns, 2):
        sub = matrix_df[[a, b]].dropna()
        if len(sub) == 0:
            v, p = float("nan"), float("nan")
        else:
            v, p = wilcoxon_signed_rank(sub[a].to_numpy(), sub[b].to_numpy())
        rows.append(
            {
                "group1": a,
                "group2": b,
                "n": len(sub),
                "V": v,
                "p_unadj": p,
                "r": matched_pairs_rank_biserial(sub[a], sub[b]) if len(sub) else float("nan"),
            }
        )
    df = pd.DataFrame(rows, columns=["group1", "group2", "n", "V", "p_unadj", "r"])
    df.insert(5, "p_adj", _p_adjust_fn(df["p_unadj"].to_numpy(), p_adjust))
    return df


# ---------------------------------------------------------------------------
# ordinal logistic regression (proportional odds)
# ---------------------------------------------------------------------------


def ordinal_logit(
    y: Any,
    X: Any,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    maxiter: int = 100,
) -> dict[str, Any]:
    """Proportional-odds (cumulative logit) model, in R ``MASS::polr`` conventions.

    Model: ``logit P(Y <= k | x) = zeta_k - x'beta`` (McCullagh 1980; Venables &
    Ripley 2002, sec. 7.3), fitted by :func:`polr_fit` (Newton-Raphson with the analytic
    Hessian); X must not contain a constant.  ``weights`` are frequency (case) weights,
    as polr's ``weights=``: each row's log-likelihood is multiplied by its weight.

    ``y`` may be an ordered pandas Categorical (its category order is used), or any
    values with ``levels`` giving the order (default: sorted unique values).

    Returns a dict with ``coef`` and ``se`` (Series over X's columns), ``thresholds``
    and ``thresholds_se`` (Series labelled "Low|Medium" etc., the polr intercepts),
    ``llf`` (weighted log-likelihood), ``deviance`` (-2 llf, polr's "Residual
    Deviance"), ``aic``, ``nobs`` (sum of weights), ``converged``, ``vcov`` (for coef
    followed by thresholds) and ``levels``.
    """
    Xdf = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))
    Xdf = Xdf.astype(float)
    if any(np.allclose(Xdf[c].to_numpy(), Xdf[c].to_numpy()[0]) for c in Xdf.columns):
        raise ValueError("X must not contain a constant column: polr's cut-points play that role")
    ys = pd.Series(y).reset_index(drop=True)
    if levels is None:
        if isinstance(ys.dtype, pd.CategoricalDtype) and ys.cat.ordered:
            levels = list(ys.cat.categories)
        else:
            levels = sorted(pd.unique(ys.dropna()))
    levels = list(levels)
    codes = pd.Categorical(ys, categories=levels, ordered=True).codes.astype(float)
    codes[codes < 0] = np.nan
    w = np.ones(len(ys)) if weights is None else np.asarray(weights, dtype=float).ravel()
    Xv = Xdf.reset_index(drop=True)
    ok = ~np.isnan(codes) & ~Xv.isna().any(axis=1).to_numpy() & ~np.isnan(w) & (w > 0)
    codes, Xv, w = codes[ok], Xv.loc[ok].reset_index(drop=True), w[ok]
    present = np.unique(codes).astype(int)
    if present.size != len(levels):
        missing = [levels[i] for i in range(len(levels)) if i not in present]
        raise ValueError(f"ordinal_logit(): no observations at response level(s) {missing}")
    names = [str(c) for c in Xv.columns]
    res = polr_fit(codes.astype(np.int64), Xv.to_numpy(), w, names, max_iter=maxiter)
    nt = len(levels) - 1
    th_names = [f"{levels[i]}|{levels[i + 1]}" for i in range(nt)]
    k = len(names)
    vcov = res["vcov"].copy()
    vcov.index = vcov.columns = names + th_names
    return {
        "coef": res["coef"],
        "se": res["se"],
        "thresholds": pd.Series(res["thresholds"].to_numpy(), index=th_names),
        "thresholds_se": pd.Series(res["thresholds_se"].to_numpy(), index=th_names),
        "llf": res["llf"],
        "deviance": -2.0 * res["llf"],
        "aic": -2.0 * res["llf"] + 2.0 * (k + nt),
        "nobs": res["nobs"],
        "converged": res["converged"],
        "vcov": vcov,
        "levels": levels,
    }


def polr_fit(y: np.ndarray, X: np.ndarray, freq: np.ndarray | None = None, names: list[str] | None = None,
             max_iter: int = 100, tol: float = 1e-9) -> dict:
    """Proportional-odds logistic regression, R MASS::polr conventions, Newton–Raphson.

    logit P(Y <= k | x) = zeta_k - x'beta (McCullagh 1980). `y` holds category indices
    0..K-1 (every category present), `freq` frequency weights (as polr's `weights`), so the
    model can be fitted on distinct (covariate pattern, response) rows with their counts:
    identical to the fit on the expanded data. Analytic gradient and observed information;
    standard errors from its inverse. Returns a dict with coef, se (Series), thresholds,
    thresholds_se, llf, nobs, converged, like stats.ordinal_logit (whose BFGS + numerical
    Hessian fit was exact but too slow for 40 models on 100,000 rows; it is gone) plus
    ``vcov`` (coefficients then thresholds) for contrasts between coefficients.
    """
    y = np.asarray(y, dtype=np.int64)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    w = np.ones(n) if freq is None else np.asarray(freq, dtype=float)
    K = int(y.max()) + 1
    cum = np.cumsum(np.bincount(y, weights=w, minlength=K))[:-1] / w.sum()
    theta = np.log(cum / (1 - cum))
    beta = np.zeros(p)
    q = p + K - 1
    has_a, has_b = y < K - 1, y > 0
    ia, ib = np.minimum(y, K - 2), np.maximum(y - 1, 0)
    # d a / d(beta, theta) and d b / d(beta, theta) do not depend on the parameters; the
    # beta part may stay -x at an infinite cut because every derivative there is 0
    Da = np.zeros((n, q))
    Db = np.zeros((n, q))
    Da[:, :p] = -X
    Db[:, :p] = -X
    rows = np.arange(n)
    Da[rows[has_a], p + ia[has_a]] = 1.0
    Db[rows[has_b], p + ib[has_b]] = 1.0

    def parts(beta, theta):
        eta = X @ beta
        a = np.where(has_a, theta[ia] - eta, np.inf)
        b = np.where(has_b, theta[ib] - eta, -np.inf)
        Fa, Fb = expit(a), expit(b)
        # P = F(a) - F(b), computed in the upper tail as F(-b) - F(-a) to keep precision
        P = np.where(b > 0, expit(-b) - expit(-a), Fa - Fb)
        P = np.maximum(P, 1e-300)
        return a, b, Fa, Fb, P

    def loglik(beta, theta):
        return float(np.sum(w * np.log(parts(beta, theta)[4])))

    def derivs(beta, theta):
        a, b, Fa, Fb, P = parts(beta, theta)
        fa, fb = Fa * (1 - Fa), Fb * (1 - Fb)
        dfa, dfb = fa * (1 - 2 * Fa), fb * (1 - 2 * Fb)
        la, lb = fa / P, -fb / P
        laa = dfa / P - la ** 2
        lbb = -dfb / P - lb ** 2
        lab = -la * lb
        g = Da.T @ (w * la) + Db.T @ (w * lb)
        H = (Da.T * (w * laa)) @ Da + (Db.T * (w * lbb)) @ Db
        cross = (Da.T * (w * lab)) @ Db
        H += cross + cross.T
        return g, H

    ll = loglik(beta, theta)
    converged = False
    for _ in range(max_iter):
        g, H = derivs(beta, theta)
        try:
            step = np.linalg.solve(-H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(-H, g, rcond=None)[0]
        t = 1.0
        while t > 1e-10:
            nb, nt = beta + t * step[:p], theta + t * step[p:]
            if np.all(np.diff(nt) > 0):
                nll = loglik(nb, nt)
                if nll >= ll - 1e-12:
                    break
            t /= 2
        beta, theta = nb, nt
        dec = float(g @ step)
        if abs(nll - ll) < tol * (1 + abs(ll)) and dec < 1e-8:
            ll = nll
            converged = True
            break
        ll = nll
    g, H = derivs(beta, theta)
    try:
        cov = np.linalg.inv(-H)
        se = np.sqrt(np.maximum(np.diag(cov), 0))
    except np.linalg.LinAlgError:
        cov = np.full((q, q), np.nan)
        se = np.full(q, np.nan)
    names = list(names) if names is not None else [f"x{i}" for i in range(p)]
    th_names = [f"{i}|{i + 1}" for i in range(K - 1)]
    return {"coef": pd.Series(beta, index=names), "se": pd.Series(se[:p], index=names),
            "thresholds": pd.Series(theta, index=th_names), "thresholds_se": pd.Series(se[p:], index=th_names),
            "llf": ll, "nobs": float(w.sum()), "converged": converged,
            "vcov": pd.DataFrame(cov, index=names + th_names, columns=names + th_names)}



def odds_ratios(result: Mapping[str, Any], level: float = 0.95) -> pd.DataFrame:
    """Odds ratios with Wald intervals from :func:`ordinal_logit` (or any dict with
    ``coef`` and ``se`` Series): ``exp(b)``, ``exp(b -/+ z se)``.

    In polr's convention exp(b) > 1 means higher response categories are more likely.
    Note that R's ``confint(polr)`` profiles the likelihood; these are Wald intervals
    (``confint.default``).  Returns ``DataFrame(term, coef, se, odds_ratio, ci_low,
    ci_high, p)``.
    """
    b = pd.Series(result["coef"], dtype=float)
    se = pd.Series(result["se"], dtype=float).reindex(b.index)
    z = _st.norm.ppf(0.5 + level / 2.0)
    out = pd.DataFrame(
        {
            "term": b.index,
            "coef": b.to_numpy(),
            "se": se.to_numpy(),
            "odds_ratio": np.exp(b.to_numpy()),
            "ci_low": np.exp(b.to_numpy() - z * se.to_numpy()),
            "ci_high": np.exp(b.to_numpy() + z * se.to_numpy()),
            "p": 2.0 * _st.norm.sf(np.abs(b.to_numpy() / se.to_numpy())),
        }
    )
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------
# simple estimates
# ---------------------------------------------------------------------------


def wilson_ci(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval for a proportion, without continuity correction.

    As R ``prop.test(x, n, correct=FALSE)$conf.int`` and
    ``binom::binom.confint(method="wilson")``; Newcombe (1998) method 3.
    Returns ``(low, high)``; ``(nan, nan)`` when n == 0.
    """
    if n <= 0:
        return float("nan"), float("nan")
    if successes < 0 or successes > n:
        raise ValueError("successes must lie between 0 and n")
    z = _st.norm.ppf(0.5 + level / 2.0)
    p = successes / n
    den = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    # Rounding leaves 1 - 2e-16 at k = n (and a lower bound above 0 at k = 0); the exact
    # interval holds p, reaches 1 at k = n and 0 at k = 0, so clamp to that.
    low = 0.0 if successes == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if successes == n else max(p, min(1.0, centre + half))
    return low, high


def mean_ci(x: Any, level: float = 0.95) -> tuple[float, float, float]:
    """Mean with a Student-t interval, as R ``t.test(x)$conf.int``.

    Returns ``(mean, low, high)``; NaN dropped; interval NaN when fewer than 2 values.
    """
    a = _clean(x)
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(a.mean())
    if a.size < 2:
        return m, float("nan"), float("nan")
    se = a.std(ddof=1) / math.sqrt(a.size)
    t = _st.t.ppf(0.5 + level / 2.0, a.size - 1)
    return m, float(m - t * se), float(m + t * se)


def nps(scores: Any, level: float = 0.95) -> dict[str, float]:
    """Net Promoter Score (Reichheld 2003) with a normal-approximation interval.

    NPS = 100 (share of promoters 9-10 - share of detractors 0-6).  Its standard error
    comes from the multinomial variance of a difference of two shares of the same
    sample, ``Var(p_P - p_D) = (p_P (1-p_P) + p_D (1-p_D) + 2 p_P p_D) / n
    = (p_P + p_D - (p_P - p_D)^2) / n``, scaled by 100.
    The interval is clipped to [-100, 100].  NaN scores are dropped; scores must be
    integers 0..10.  Returns dict(nps, se, ci_low, ci_high, n, promoters, passives,
    detractors) with the three groups as counts.
    """
    a = _clean(scores)
    if np.any((a < 0) | (a > 10)) or np.any(a != np.round(a)):
        raise ValueError("NPS scores must be whole numbers from 0 to 10")
    n = a.size
    prom = int(np.sum(a >= 9))
    det = int(np.sum(a <= 6))
    pas = n - prom - det
    if n == 0:
        nan = float("nan")
        return dict(nps=nan, se=nan, ci_low=nan, ci_high=nan, n=0, promoters=0, passives=0, detractors=0)
    pp, pd_ = prom / n, det / n
    val = 100.0 * (pp - pd_)
    se = 100.0 * math.sqrt(max(0.0, pp + pd_ - (pp - pd_) ** 2) / n)
    z = _st.norm.ppf(0.5 + level / 2.0)
    return dict(
        nps=val,
        se=se,
        ci_low=max(-100.0, val - z * se),
        ci_high=min(100.0, val + z * se),
        n=n,
        promoters=prom,
        passives=pas,
        detractors=det,
    )


def cronbach_alpha(matrix: Any) -> float:
    """Cronbach's (1951) alpha on complete rows (listwise deletion).

    ``alpha = k/(k-1) (1 - sum(var_i) / var(total))`` (sample variances), R
    ``psych::alpha(x)$total$raw_alpha`` on complete data (psych uses pairwise
    covariances when data are missing; this function drops incomplete rows).
    """
    m = _complete_matrix(matrix)
    n, k = m.shape
    if k < 2 or n < 2:
        return float("nan")
    item_var = m.var(axis=0, ddof=1).sum()
    tot_var = m.sum(axis=1).var(ddof=1)
    if tot_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / tot_var))


# ---------------------------------------------------------------------------
# survey-style (weighted) estimates: Taylor linearisation as R's survey package
# ---------------------------------------------------------------------------


class Calibration:
    """Raking / calibration margins reduced to patterns (a fast, exact form of the matrix).

    ``pattern[i]`` is the index of row i's calibration-indicator row in ``patterns``
    (the distinct rows of the margin-indicator matrix).  Every estimator below accepts
    either the matrix or this object as ``calibration=``; with it (or a matrix, reduced
    here) and no clusters, the linearised variance is computed on the distinct
    (pattern, value) rows with their counts, sum(w) and sum(w^2): the same numbers as the
    row-by-row computation, in O(n) instead of an n x p least-squares fit per estimate.
    """

    __slots__ = ("pattern", "patterns")

    def __init__(self, pattern: Any, patterns: Any):
        self.pattern = np.asarray(pattern, dtype=np.int64).ravel()
        self.patterns = np.asarray(patterns, dtype=float)

    @classmethod
    def from_matrix(cls, matrix: Any) -> "Calibration":
        m = np.asarray(matrix, dtype=float)
        if m.ndim == 1:
            m = m[:, None]
        patterns, inverse = np.unique(m, axis=0, return_inverse=True)
        return cls(inverse.ravel(), patterns)

    def rows(self) -> np.ndarray:
        return self.patterns[self.pattern]

    def subset(self, mask: np.ndarray) -> "Calibration":
        return Calibration(self.pattern[mask], self.patterns)


def _aggregated_variance(cat: np.ndarray, U: np.ndarray, w: np.ndarray, cal: "Calibration | None",
                         d: np.ndarray | None, fpc: Any) -> np.ndarray:
    """With-replacement variance of the totals of z_i = w_i e_i, one PSU per row.

    Row i's linearised value divided by its weight is ``U[cat[i]]`` (a row of U per
    category); e_i is its residual from the base-weighted regression on the calibration
    pattern (survey's svyrecvar for raked/calibrated designs).  Rows that left the
    estimate's domain (a missing answer) have a zero row of U but keep their calibration
    weight w_i, so their residual is not zero - exactly as survey, which subsets a
    calibrated design by setting the weight to zero *after* calibration and residualises
    with the calibration weights.  Everything is summed over distinct (pattern, category)
    rows.
    """
    n = w.size
    ncat = U.shape[0]
    if cal is None:
        key = cat.astype(np.int64)
        size = ncat
    else:
        key = cal.pattern * ncat + cat
        size = cal.patterns.shape[0] * ncat
    cnt = np.bincount(key, minlength=size)
    rows = np.flatnonzero(cnt)
    sw = np.bincount(key, weights=w, minlength=size)[rows]
    sw2 = np.bincount(key, weights=w * w, minlength=size)[rows]
    E = U[rows % ncat]
    if cal is not None:
        C = cal.patterns[rows // ncat]
        dd = (cnt[rows].astype(float) if d is None else np.bincount(key, weights=d, minlength=size)[rows])
        sq = np.sqrt(dd)[:, None]
        beta, *_ = np.linalg.lstsq(C * sq, E * sq, rcond=None)
        E = E - C @ beta
    szz = (E.T * sw2) @ E
    sz = sw @ E
    if n < 2:                            # one unit: no variance to estimate (as _total_variance)
        return np.full((E.shape[1], E.shape[1]), np.nan)
    f = 0.0
    if fpc is not None:
        fpc_v = float(np.asarray(fpc, dtype=float).ravel()[0])
        f = n / fpc_v if fpc_v > 1 else fpc_v
    return (1.0 - f) * n / (n - 1.0) * (szz - np.outer(sz, sz) / n)


def _design_arrays(n: int, w: Any, calibration: Any, base_weights: Any, clusters: Any, fpc: Any):
    w = np.asarray(w, dtype=float).ravel()
    if w.size != n:
        raise ValueError(f"weights have {w.size} values for {n} observations")
    if np.any(np.isnan(w)) or np.any(w < 0):
        raise ValueError("weights must be non-negative numbers without NaN")
    cal = None
    if isinstance(calibration, Calibration):
        if calibration.pattern.size != n:
            raise ValueError("the calibration patterns must have one row per observation")
        cal = calibration if clusters is None else calibration.rows()
    elif calibration is not None:
        cal = np.asarray(calibration, dtype=float)
        if cal.ndim == 1:
            cal = cal[:, None]
        if cal.shape[0] != n:
            raise ValueError("the calibration matrix must have one row per observation")
        if clusters is None:
            cal = Calibration.from_matrix(cal)
    d = None
    if base_weights is not None:
        d = np.asarray(base_weights, dtype=float).ravel()
        if d.size != n:
            raise ValueError("base_weights must have one value per observation")
    cl = None
    if clusters is not None:
        cl = np.asarray(pd.factorize(pd.Series(np.asarray(clusters).ravel()))[0])
        if cl.size != n:
            raise ValueError("clusters must have one value per observation")
    return w, cal, d, cl, fpc


def _residualise(x: np.ndarray, w: np.ndarray, cal: np.ndarray | None, d: np.ndarray | None) -> np.ndarray:
    """Calibration residuals of the linearised totals ``x = w * u`` (n x p).

    As survey's ``svyrecvar`` for calibrated designs: ``u = x / w`` is regressed on the
    calibration variables with the *base* (pre-calibration) weights ``d`` (default 1,
    i.e. equal base weights) and ``w * residual`` is returned.  ``w`` are the
    calibration weights of every row in the design, including rows outside the
    estimate's domain (their x is 0, their residual is not).
    """
    if cal is None:
        return x
    dd = np.ones(len(w)) if d is None else d
    pos = w > 0
    u = np.zeros_like(x)
    u[pos] = x[pos] / w[pos, None]
    sq = np.sqrt(dd)[:, None]
    beta, *_ = np.linalg.lstsq(cal * sq, u * sq, rcond=None)
    e = u - cal @ beta
    return e * w[:, None]


def _total_variance(z: np.ndarray, cl: np.ndarray | None, fpc: Any) -> np.ndarray:
    """With-replacement variance of the total of ``z`` (n x p) over first-stage units.

    ``var = (1 - f) m/(m-1) sum_c (t_c - tbar)(t_c - tbar)'`` with m PSUs (rows, or
    clusters), f = m / fpc when ``fpc`` (population number of PSUs) is given - the
    one-stage case of survey's ``multistage``/``onestage``.
    """
    if cl is not None:
        t = pd.DataFrame(z).groupby(cl, sort=False).sum().to_numpy()
    else:
        t = z
    m = t.shape[0]
    if m < 2:
        return np.full((z.shape[1], z.shape[1]), np.nan)
    dev = t - t.mean(axis=0)
    f = 0.0
    if fpc is not None:
        fpc_v = float(np.asarray(fpc, dtype=float).ravel()[0])
        f = m / fpc_v if fpc_v > 1 else fpc_v  # a value <= 1 is read as a sampling fraction
    return (1.0 - f) * m / (m - 1.0) * dev.T @ dev


def _n_psu(n: int, cl: np.ndarray | None) -> int:
    return int(np.unique(cl).size) if cl is not None else n


def _lin_mean(y: np.ndarray, ok: np.ndarray, w: np.ndarray, cal, d, cl, fpc) -> tuple[float, float]:
    """Weighted (ratio) mean over the rows `ok` and its linearised SE, as survey ``svymean``
    on the design subset to `ok` (rows outside keep their calibration residuals)."""
    wd = np.where(ok, w, 0.0)
    tw = wd.sum()
    yv = np.where(ok, y, 0.0)
    mean = float(np.sum(wd * yv) / tw)
    if cl is None:
        vals, cat = np.unique(np.where(ok, yv, np.inf), return_inverse=True)
        U = np.where(np.isfinite(vals), (np.where(np.isfinite(vals), vals, 0.0) - mean) / tw, 0.0)[:, None]
        v = _aggregated_variance(cat.ravel(), U, w, cal, d, fpc)
    else:
        x = (wd * (yv - mean) / tw)[:, None]
        x = _residualise(x, w, cal, d)
        v = _total_variance(x, cl, fpc)
    return mean, float(math.sqrt(max(v[0, 0], 0.0)))


def weighted_mean_ci(
    x: Any,
    w: Any,
    level: float = 0.95,
    calibration: Any = None,
    base_weights: Any = None,
    clusters: Any = None,
    fpc: Any = None,
) -> dict[str, float]:
    """Weighted mean with a linearised SE, as ``svymean(~x, design)``.

    Design: ``svydesign(ids=~1, weights=~w)`` by default (each respondent its own PSU,
    with-replacement variance); ``clusters`` gives first-stage cluster ids
    (``ids=~cluster``) and ``fpc`` the population number of clusters (or a sampling
    fraction <= 1).  The mean is the ratio estimator sum(w x)/sum(w); its influence
    values ``w (x - mean)/sum(w)`` are summed within PSUs.

    **Raked / calibrated weights.**  Pass ``calibration`` = the matrix of margin
    indicators used for raking (``analysis.weights.margin_dummies``) and, if the
    pre-raking weights were not all equal, ``base_weights``: the influence values are
    then replaced by their residuals from the base-weighted regression on those
    indicators - survey's treatment of ``rake()``/``calibrate()``/``postStratify()``
    designs (Deville & Särndal 1992).  Without it the raked weights are treated as
    fixed, which overstates the SE of estimates correlated with the margins.

    The interval is normal (``confint(svymean(...))``).  NaN in x drops those rows
    (weights, calibration rows and clusters alike) - survey's ``na.rm=TRUE``.
    Returns dict(mean, se, ci_low, ci_high, n, n_psu, sum_w).
    """
    xa = np.asarray(x, dtype=float).ravel()
    w_, cal, d, cl, fpc = _design_arrays(xa.size, w, calibration, base_weights, clusters, fpc)
    ok = ~np.isnan(xa)
    # survey subsets a design: the rows stay in it with weight 0 in the estimate, and
    # (calibrated designs) keep their calibration residuals in the variance
    if np.where(ok, w_, 0.0).sum() <= 0:
        raise ValueError("the weights sum to zero")
    mean, se = _lin_mean(xa, ok, w_, cal, d, cl, fpc)
    z = _st.norm.ppf(0.5 + level / 2.0)
    return dict(
        mean=mean,
        se=se,
        ci_low=float(mean - z * se),
        ci_high=float(mean + z * se),
        n=int(ok.sum()),
        n_psu=_n_psu(xa.size, cl),
        sum_w=float(w_.sum()),
    )


def weighted_total_ci(
    x: Any,
    w: Any,
    level: float = 0.95,
    calibration: Any = None,
    base_weights: Any = None,
    clusters: Any = None,
    fpc: Any = None,
) -> dict[str, float]:
    """Weighted total sum(w x) with a linearised SE, as ``svytotal(~x, design)``.

    Same design arguments as :func:`weighted_mean_ci`.  Returns dict(total, se,
    ci_low, ci_high, n).
    """
    xa = np.asarray(x, dtype=float).ravel()
    w_, cal, d, cl, fpc = _design_arrays(xa.size, w, calibration, base_weights, clusters, fpc)
    ok = ~np.isnan(xa)
    xa = np.where(ok, xa, 0.0)
    total = float(np.sum(w_ * xa))
    if isinstance(cal, Calibration):
        cal = cal.rows()
    z_ = _residualise((w_ * xa)[:, None], w_, cal, d)      # a missing x adds 0 to the total
    se = float(math.sqrt(_total_variance(z_, cl, fpc)[0, 0]))
    z = _st.norm.ppf(0.5 + level / 2.0)
    return dict(total=total, se=se, ci_low=float(total - z * se), ci_high=float(total + z * se), n=int(ok.sum()))


def weighted_share_ci(
    indicator: Any,
    w: Any,
    level: float = 0.95,
    calibration: Any = None,
    base_weights: Any = None,
    clusters: Any = None,
    fpc: Any = None,
    df: float | None = None,
) -> dict[str, float]:
    """Weighted share of a 0/1 indicator with a logit interval, as
    ``svyciprop(~I, design, method="logit")``.

    The share and its SE are those of :func:`weighted_mean_ci` (svymean); the interval
    is ``expit(logit(p) -/+ t_df * se / (p (1 - p)))`` with ``df`` = number of PSUs
    minus 1 by default (survey's ``degf(design)``; pass ``df=math.inf`` for a normal
    quantile).  For an intercept-only quasi-binomial ``svyglm`` (what svyciprop's
    "logit" method fits) this delta-method SE is the sandwich SE exactly.  At p = 0 or 1
    the interval is degenerate ([p, p]) - survey returns NaN there.
    Returns dict(share, se, ci_low, ci_high, n, df).
    """
    ia = np.asarray(indicator, dtype=float).ravel()
    vals = ia[~np.isnan(ia)]
    if np.any((vals != 0) & (vals != 1)):
        raise ValueError("the indicator must hold only 0, 1 or NaN")
    r = weighted_mean_ci(ia, w, level, calibration, base_weights, clusters, fpc)
    p, se = r["mean"], r["se"]
    dfv = (r["n_psu"] - 1) if df is None else df
    q = _st.norm.ppf(0.5 + level / 2.0) if math.isinf(dfv) else _st.t.ppf(0.5 + level / 2.0, dfv)
    if p <= 0 or p >= 1:
        lo = hi = p
    else:
        lg = math.log(p / (1 - p))
        half = q * se / (p * (1 - p))
        lo = 1 / (1 + math.exp(-(lg - half)))
        hi = 1 / (1 + math.exp(-(lg + half)))
    return dict(share=p, se=se, ci_low=lo, ci_high=hi, n=r["n"], df=float(dfv))


def rao_scott_chi2(
    x: Any,
    y: Any = None,
    w: Any = None,
    calibration: Any = None,
    base_weights: Any = None,
    clusters: Any = None,
    fpc: Any = None,
) -> tuple[float, float, int, float]:
    """First-order Rao-Scott corrected chi-square for a weighted two-way table, as
    ``svychisq(~x + y, design, statistic="Chisq")``.

    Rao & Scott (1981, 1984).  The Pearson X^2 is computed on the weighted table
    rescaled to the sample size n (survey: ``svytable(..., Ntotal=n)``); the
    generalised design-effect matrix Delta compares the linearised covariance of the
    cell proportions (same design options as :func:`weighted_mean_ci`) with the
    multinomial one in the interaction contrasts; the statistic is divided by the mean
    eigenvalue ``mean(diag(Delta))`` and referred to chi-squared on (r-1)(c-1) df.

    ``x`` may be a DataFrame with columns (x, y, w) when ``y`` and ``w`` are None;
    rows with a missing x or y are dropped.  Returns
    ``(chi2_adj, p, df, mean_deff)``.

    Note: with equal weights and no clusters the survey package's with-replacement
    variance carries a factor n/(n-1), so mean_deff = n/(n-1) and chi2_adj =
    X^2 (n-1)/n: the ordinary Pearson statistic up to that factor (it is exactly
    Pearson's X^2 times (n-1)/n), not identical to it.
    """
    if y is None and w is None and isinstance(x, pd.DataFrame):
        cols = list(x.columns)
        if len(cols) < 3:
            raise ValueError("a DataFrame passed alone must have columns (x, y, w)")
        x, y, w = x[cols[0]], x[cols[1]], x[cols[2]]
    xs = pd.Series(np.asarray(x, dtype=object).ravel())
    ys = pd.Series(np.asarray(y, dtype=object).ravel())
    ok = (~xs.isna() & ~ys.isna()).to_numpy()
    rx = sorted(pd.unique(xs[ok]), key=str)
    ry = sorted(pd.unique(ys[ok]), key=str)
    if len(rx) < 2 or len(ry) < 2:
        raise ValueError("rao_scott_chi2() needs at least two levels in each variable")
    xi = np.where(ok, pd.Categorical(xs, categories=rx).codes, -1)
    yi = np.where(ok, pd.Categorical(ys, categories=ry).codes, -1)
    if w is None:
        w = np.ones(len(xs))
    return rao_scott_chi2_codes(xi, yi, len(rx), len(ry), w, calibration, base_weights, clusters, fpc)


def rao_scott_chi2_codes(x: Any, y: Any, nr: int, nc: int, w: Any, calibration: Any = None,
                         base_weights: Any = None, clusters: Any = None, fpc: Any = None):
    """:func:`rao_scott_chi2` on integer codes: x in 0..nr-1, y in 0..nc-1, -1 = not in the
    table (a missing answer: the row stays in the design, as survey's subset).  The one
    implementation of the test; rao_scott_chi2 factorises its labels and calls this."""
    xi = np.asarray(x, dtype=np.int64).ravel()
    yi = np.asarray(y, dtype=np.int64).ravel()
    n0 = xi.size
    w_, cal, d, cl, fpc = _design_arrays(n0, w, calibration, base_weights, clusters, fpc)
    ok = (xi >= 0) & (yi >= 0)
    ncell = nr * nc
    cell = np.where(ok, xi + nr * yi, ncell)           # rows varying fastest (R's interaction order)
    wd = np.where(ok, w_, 0.0)
    tw = wd.sum()
    pcell = np.bincount(cell[ok], weights=wd[ok], minlength=ncell) / tw
    if cl is None:
        U = np.zeros((ncell + 1, ncell))
        U[:ncell] = (np.eye(ncell) - pcell) / tw
        V = _aggregated_variance(cell, U, w_, cal, d, fpc)
    else:
        ind = np.zeros((n0, ncell))
        ind[ok, cell[ok]] = 1.0
        z = wd[:, None] * (ind - pcell) / tw
        z = _residualise(z, w_, cal, d)
        V = _total_variance(z, cl, fpc)
    N = int(ok.sum())
    tab = pcell.reshape(nc, nr).T
    if np.any(tab.sum(1) == 0) or np.any(tab.sum(0) == 0):
        raise ValueError("a row or column of the weighted table is empty")
    return rao_scott_from_cells(pcell, V, N, nr, nc)


def rao_scott_from_cells(pcell: np.ndarray, V: np.ndarray, N: int, nr: int, nc: int):
    """First-order Rao–Scott chi-square from estimated cell proportions and their covariance.

    `pcell` holds the nr x nc cell shares with rows varying fastest (R's interaction order),
    `V` their design-based covariance, `N` the unweighted count. Pearson's X² of the table
    scaled to N is divided by the mean eigenvalue of the design-effect matrix of the
    interaction contrasts (as ``svychisq(statistic="Chisq")``).
    Returns (chi2_adj, p, df, mean_deff).
    """
    tab = pcell.reshape(nc, nr).T * N
    rs, cs = tab.sum(1), tab.sum(0)
    e = np.outer(rs, cs) / N
    x2 = float(((tab - e) ** 2 / e).sum())
    ncell = nr * nc
    # contrasts: interaction columns residualised on the main-effects design
    rows_i = np.tile(np.arange(nr), nc)
    cols_i = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack(
        [np.ones(ncell)]
        + [(rows_i == i).astype(float) for i in range(1, nr)]
        + [(cols_i == j).astype(float) for j in range(1, nc)]
    )
    X12 = np.column_stack(
        [((rows_i == i) & (cols_i == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    beta, *_ = np.linalg.lstsq(X1, X12, rcond=None)
    C = X12 - X1 @ beta
    with np.errstate(divide="ignore"):
        idm = np.diag(np.where(pcell == 0, 0.0, 1.0 / pcell))
    denom = C.T @ (idm / N) @ C
    numr = C.T @ idm @ V @ idm @ C
    delta = np.linalg.pinv(denom) @ numr  # solve(denom, numr); pinv tolerates empty cells
    mean_deff = float(np.mean(np.diag(delta)))
    dof = (nr - 1) * (nc - 1)
    stat = x2 / mean_deff
    return float(stat), float(_chi2_sf(stat, dof)), int(dof), mean_deff


# ---------------------------------------------------------------------------
# design-based rank tests (Lumley & Scott 2013), as survey::svyranktest
# ---------------------------------------------------------------------------


def svyranktest(y: Any, g: Any, w: Any, clusters: Any = None, fpc: Any = None,
                calibration: Any = None) -> dict[str, Any]:
    """Design-based Wilcoxon / Kruskal–Wallis test, as R ``svyranktest(y ~ g, design)``.

    Lumley & Scott (2013), Biometrika 100:831-842; survey's R/svyranktest.R transcribed.
    Ranks are estimated population mid-ranks: order y, ``rank = ave(cumsum(w) - w/2)``
    within ties, divided by N = sum(w). The rank scores are regressed on the groups by
    weighted least squares (reference = first level in sorted order) and the coefficients'
    variance is the design-based variance of the total of their influence values (same
    design options as :func:`weighted_mean_ci`: clusters, fpc, calibration).

    Two groups: ``t = delta / SE`` on ``degf - 1`` df (degf = PSUs - 1), p two-sided from
    t; ``estimate`` = difference in mean rank score. More groups: Wald ``chisq`` of the
    group coefficients, referred as F(chisq/ndf; ndf, degf - ndf). Rows with a missing y
    or g are dropped. Returns dict(statistic, df, ddf, p, estimate, levels, test).
    """
    ya = np.asarray(y, dtype=float).ravel()
    gs = pd.Series(np.asarray(g, dtype=object).ravel())
    wa = np.asarray(w, dtype=float).ravel()
    ok = ~np.isnan(ya) & gs.notna().to_numpy()
    cl = None if clusters is None else np.asarray(pd.factorize(pd.Series(np.asarray(clusters).ravel()))[0])
    cal = calibration.rows() if isinstance(calibration, Calibration) else calibration
    # survey subsets the design (rows stay for the variance of calibrated designs)
    yv, gv, wv = ya[ok], gs[ok].astype(str).to_numpy(), wa[ok]
    levels = sorted(pd.unique(gv))
    if len(levels) < 2:
        raise ValueError("svyranktest() needs at least two groups")
    order = np.argsort(yv, kind="mergesort")
    cum = np.cumsum(wv[order]) - wv[order] / 2.0
    rank = np.empty(yv.size)
    rank[order] = pd.Series(cum).groupby(yv[order]).transform("mean").to_numpy()
    N = wv.sum()
    score = rank / N
    X = np.column_stack([np.ones(yv.size)] + [(gv == lv).astype(float) for lv in levels[1:]])
    XtW = X.T * wv
    A = np.linalg.inv(XtW @ X)                               # summary(lm)$cov.unscaled
    beta = A @ (XtW @ score)
    infn = (X * (score - X @ beta)[:, None]) @ A             # influence of each row
    z = np.zeros((ya.size, X.shape[1]))
    z[ok] = infn * wv[:, None]                               # svytotal: weight times value
    if cal is not None:
        z = _residualise(z, wa, np.asarray(cal, dtype=float), None)
    V = _total_variance(z, cl, fpc)
    n_psu = _n_psu(ya.size, cl)
    degf = n_psu - 1
    if len(levels) == 2:
        t = float(beta[1] / math.sqrt(V[1, 1]))
        df = degf - 1
        return {"test": "t", "statistic": t, "df": df, "ddf": np.nan,
                "p": float(2 * _st.t.sf(abs(t), df)), "estimate": float(beta[1]), "levels": levels}
    b = beta[1:]
    chisq = float(b @ np.linalg.solve(V[1:, 1:], b))
    ndf = len(levels) - 1
    ddf = degf - ndf
    return {"test": "F", "statistic": chisq, "df": ndf, "ddf": ddf,
            "p": float(_st.f.sf(chisq / ndf, ndf, ddf)), "estimate": np.nan, "levels": levels}


# ---------------------------------------------------------------------------
# proportional-odds check (Brant 1990), as R brant::brant
# ---------------------------------------------------------------------------


def _logit_fit(z: np.ndarray, X1: np.ndarray, freq: np.ndarray, max_iter: int = 50) -> np.ndarray:
    """Binary logistic regression (X1 includes the intercept) by Newton-Raphson (IRLS)."""
    b = np.zeros(X1.shape[1])
    for _ in range(max_iter):
        p = expit(X1 @ b)
        W = freq * p * (1 - p)
        step = np.linalg.solve((X1.T * W) @ X1, X1.T @ (freq * (z - p)))
        b = b + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return b


def brant_test(y: Any, X: Any, freq: Any = None, names: Sequence[str] | None = None,
               groups: Mapping[str, Sequence[str]] | None = None, max_abs_coef: float = 15.0) -> pd.DataFrame:
    """Brant (1990) test of the proportional-odds (parallel lines) assumption, as R
    ``brant::brant(polr(...))``.

    The J-1 binary logits of ``1[y > j]`` on X are fitted separately; their slopes are
    compared with a Wald test whose covariance is Brant's: for cuts j <= l,
    ``Cov(b_j, b_l) = (X'W_jj X)^-1 X'W_jl X (X'W_ll X)^-1`` with ``W_jl = diag(pi_l - pi_j
    pi_l)`` (pi_j the fitted P(y > j)). ``y`` holds ordered category indices 0..J-1.
    Returns one row per term (or per group of terms given in ``groups``, as brant's
    ``by.var``) after the ``Omnibus`` row: columns test, chi2, df, p, cuts (the binary
    logits compared). A binary logit with no finite estimate (complete separation, a
    slope beyond ``max_abs_coef`` on the logit scale) is left out of the comparison and
    the test runs on the others (R's brant stops with a warning there); with fewer than
    two estimable logits it raises LinAlgError.
    """
    y = np.asarray(y, dtype=np.int64).ravel()
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    n, p = Xa.shape
    f = np.ones(n) if freq is None else np.asarray(freq, dtype=float).ravel()
    names = list(names) if names is not None else [f"x{i}" for i in range(p)]
    J = int(y.max()) + 1
    X1 = np.column_stack([np.ones(n), Xa])
    betas, pis, infos, cuts = [], [], [], []
    for j in range(J - 1):
        z = (y > j).astype(float)
        try:
            with np.errstate(all="ignore"):
                b = _logit_fit(z, X1, f)
                pi = expit(X1 @ b)
                info = np.linalg.inv((X1.T * (f * pi * (1 - pi))) @ X1)
        except np.linalg.LinAlgError:
            continue
        if not np.all(np.isfinite(b)) or np.max(np.abs(b[1:])) > max_abs_coef:
            continue                       # separation: this binary logit has no finite estimate
        betas.append(b[1:])
        pis.append(pi)
        infos.append(info)
        cuts.append(j)
    k = len(cuts)
    if k < 2:
        raise np.linalg.LinAlgError("fewer than two binary logits are estimable")
    V = np.zeros((k * p, k * p))
    for j in range(k):
        for l in range(j, k):
            W = f * (pis[l] - pis[j] * pis[l])
            c = (infos[j] @ ((X1.T * W) @ X1) @ infos[l])[1:, 1:]
            V[j * p:(j + 1) * p, l * p:(l + 1) * p] = c
            V[l * p:(l + 1) * p, j * p:(j + 1) * p] = c.T
    bstar = np.concatenate(betas)

    def wald(cols: list[int]) -> tuple[float, int]:
        D = []
        for j in range(1, k):
            for c in cols:
                row = np.zeros(k * p)
                row[c] = 1.0
                row[j * p + c] = -1.0
                D.append(row)
        D = np.asarray(D)
        d = D @ bstar
        chi2 = float(d @ np.linalg.solve(D @ V @ D.T, d))
        return chi2, D.shape[0]

    rows = []
    chi2, df = wald(list(range(p)))
    rows.append({"test": "Omnibus", "chi2": chi2, "df": df, "p": float(_chi2_sf(chi2, df))})
    used = "+".join(f">{c}" for c in cuts)
    spec = groups if groups is not None else {nm: [nm] for nm in names}
    for label, terms in spec.items():
        cols = [names.index(tm) for tm in terms if tm in names]
        if not cols:
            continue
        chi2, df = wald(cols)
        rows.append({"test": label, "chi2": chi2, "df": df, "p": float(_chi2_sf(chi2, df))})
    out = pd.DataFrame(rows)
    out["cuts"] = used
    return out


def svyolr(y: Any, X: Any, w: Any, clusters: Any = None, fpc: Any = None, calibration: Any = None,
           names: Sequence[str] | None = None, level: float = 0.95) -> dict[str, Any]:
    """Weighted proportional-odds model with design-based standard errors, as R
    ``svyolr(y ~ x, design)`` (survey's R/olr.R, survey.design2 method).

    Point estimates maximise the weighted log-likelihood sum w_i log P(y_i | x_i)
    (:func:`polr_fit` with the sampling weights as frequencies: the same objective as
    svyolr's ``fmin``). The variance is svyolr's sandwich: influence values = the
    weighted score of each row times the inverse information, their totals' design-based
    variance over PSUs (``svyrecvar``: clusters, fpc, calibration residuals). ``y`` holds
    category indices 0..K-1. Returns dict(coef, se, thresholds, thresholds_se, vcov,
    odds_ratios (DataFrame as :func:`odds_ratios`), df = PSUs - 1 - number of slopes).
    """
    yv = np.asarray(y, dtype=np.int64).ravel()
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    wv = np.asarray(w, dtype=float).ravel()
    n, p = Xa.shape
    names = list(names) if names is not None else [f"x{i}" for i in range(p)]
    fit = polr_fit(yv, Xa, wv, names)
    beta, theta = fit["coef"].to_numpy(), fit["thresholds"].to_numpy()
    K = theta.size + 1
    eta = Xa @ beta
    has_a, has_b = yv < K - 1, yv > 0
    a = np.where(has_a, theta[np.minimum(yv, K - 2)] - eta, np.inf)
    b = np.where(has_b, theta[np.maximum(yv - 1, 0)] - eta, -np.inf)
    Fa, Fb = expit(a), expit(b)
    P = np.maximum(np.where(b > 0, expit(-b) - expit(-a), Fa - Fb), 1e-300)
    fa, fb = Fa * (1 - Fa), Fb * (1 - Fb)
    score = np.zeros((n, p + K - 1))
    score[:, :p] = -Xa * ((fa - fb) / P)[:, None]
    rows = np.arange(n)
    score[rows[has_a], p + np.minimum(yv, K - 2)[has_a]] += (fa / P)[has_a]
    score[rows[has_b], p + np.maximum(yv - 1, 0)[has_b]] -= (fb / P)[has_b]
    score *= wv[:, None]
    cov_model = fit["vcov"].to_numpy()                        # inverse of the weighted information
    infl = score @ cov_model
    cl = None if clusters is None else np.asarray(pd.factorize(pd.Series(np.asarray(clusters).ravel()))[0])
    cal = calibration.rows() if isinstance(calibration, Calibration) else calibration
    if cal is not None:
        infl = _residualise(infl, wv, np.asarray(cal, dtype=float), None)
    V = _total_variance(infl, cl, fpc)
    se = np.sqrt(np.maximum(np.diag(V), 0.0))
    idx = list(fit["vcov"].index)
    res = {"coef": fit["coef"], "se": pd.Series(se[:p], index=names),
           "thresholds": fit["thresholds"], "thresholds_se": pd.Series(se[p:], index=fit["thresholds"].index),
           "vcov": pd.DataFrame(V, index=idx, columns=idx), "converged": fit["converged"],
           "df": _n_psu(n, cl) - 1 - p}
    res["odds_ratios"] = odds_ratios(res, level)
    return res
