"""Survey weights: raking to population margins, trimming, effective sample size.

* :func:`rake` - iterative proportional fitting (Deming & Stephan 1940), as R
  ``survey::rake`` (which post-stratifies on each margin in turn until the margins
  match), but run to a tight tolerance.
* :func:`trim_and_rerake` - cap extreme weights and re-rake, repeated until both the
  cap and the margins hold (as ``survey::trimWeights`` followed by ``rake``, iterated).
* :func:`kish_effective_n`, :func:`design_effect` - Kish (1965) effective sample size
  and the design effect due to unequal weighting, 1 + CV^2.
* :func:`margin_dummies` - the indicator matrix of the raking margins, to pass as
  ``calibration=`` to the weighted estimators in :mod:`analysis.stats` so their
  standard errors use calibration residuals (as the survey package does after rake).

Margins are given as ``{variable: {level: population total}}``; totals may be counts
or shares, but every variable's totals must add up to the same grand total.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "rake",
    "trim_and_rerake",
    "kish_effective_n",
    "design_effect",
    "margin_dummies",
    "RakingError",
]


class RakingError(RuntimeError):
    """Raking did not converge (margins that cannot all be met)."""


def _level_key(v: Any) -> Any:
    """Compare levels loosely: 1, 1.0 and "1" are the same level."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(v)


# inferred kinds whose distinct values (pandas.factorize: equal and equally hashed) never
# need two different level keys; [True, 1] ("mixed-integer") would be one value but two keys
_ONE_KEY_KINDS = {"string", "integer", "floating", "mixed-integer-float", "boolean", "categorical", "empty"}


def _level_codes(col: pd.Series) -> tuple[np.ndarray, list]:
    """`_level_key` of every value as (code per row, distinct keys): keys[codes[i]] is
    _level_key(col[i]). Computed once per distinct value (a column of 10^6 answers has a
    handful), never one Python call per respondent; a column of mixed kinds is keyed row
    by row."""
    if pd.api.types.infer_dtype(col, skipna=True) in _ONE_KEY_KINDS:
        codes, uniques = pd.factorize(col)
        codes = np.asarray(codes, dtype=np.int64)
        row_keys = [_level_key(u) for u in uniques]
        na = np.flatnonzero(codes < 0)
        if na.size:                                  # a missing value keyed as it is (None, nan, <NA>)
            values = col.to_numpy(dtype=object)
            extra = {}
            for i in na:
                k = _level_key(values[i])
                codes[i] = extra.setdefault(k, len(row_keys) + len(extra))
            row_keys += list(extra)
    else:
        codes, uniques = pd.factorize(pd.Series([_level_key(v) for v in col.to_numpy(dtype=object)], dtype=object))
        codes = np.asarray(codes, dtype=np.int64)
        row_keys = list(uniques)
    index: dict = {}
    remap = np.array([index.setdefault(k, len(index)) for k in row_keys] + [-1], dtype=np.int64)
    return remap[codes], list(index)            # distinct values sharing a key (1, 1.0) share a code


def _check_margins(df: pd.DataFrame, w: np.ndarray, margins: Mapping[str, Mapping[Any, float]]):
    """Validate margins against the sample; return [(var, codes, targets, labels)]."""
    if not margins:
        raise ValueError("no margins given: expected {variable: {level: population total}}")
    prepared = []
    grand = None
    for var, levels in margins.items():
        if var not in df.columns:
            raise ValueError(f"margin variable {var!r} is not a column of the data")
        if not levels:
            raise ValueError(f"margin {var!r} has no levels")
        targets = {}
        labels = {}
        for lev, tot in levels.items():
            t = float(tot)
            if not math.isfinite(t) or t < 0:
                raise ValueError(f"margin {var!r}, level {lev!r}: population total must be a non-negative number, got {tot!r}")
            k = _level_key(lev)
            if k in targets:
                raise ValueError(f"margin {var!r} lists level {lev!r} twice")
            targets[k] = t
            labels[k] = lev
        col = df[var]
        if col.isna().any():
            rows = list(df.index[col.isna()][:5])
            raise ValueError(f"margin variable {var!r} is missing for {int(col.isna().sum())} respondent(s), e.g. rows {rows}; impute or drop them before raking")
        key_codes, keys = _level_codes(col)
        sample_levels = set(keys)
        unknown = sorted(sample_levels - set(targets))
        if unknown:
            first = unknown[0]
            example = col[key_codes == keys.index(first)].iloc[0]
            raise ValueError(
                f"margin {var!r}: sample level {example!r} has no population total "
                f"(levels in margins: {[labels[k] for k in targets]})"
            )
        order = list(targets)
        codes = np.array([order.index(k) for k in keys], dtype=np.int64)[key_codes]
        for i, (k, t) in enumerate(targets.items()):
            if t > 0 and w[codes == i].sum() <= 0:
                raise ValueError(
                    f"margin {var!r}, level {labels[k]!r}: population total {t:g} but no respondents "
                    f"(with positive weight) in the sample; merge it with a neighbouring level"
                )
        total = sum(targets.values())
        if grand is None:
            grand = total
        elif not math.isclose(total, grand, rel_tol=1e-6):
            raise ValueError(
                f"margin {var!r} adds up to {total:g} but the first margin adds up to {grand:g}; "
                f"all margins must describe the same population"
            )
        tvec = np.array([targets[k] for k in order])
        prepared.append((var, codes, tvec, [labels[k] for k in order]))
    return prepared


def rake(
    df: pd.DataFrame,
    base_weights: Any,
    margins: Mapping[str, Mapping[Any, float]],
    max_iter: int = 100,
    tol: float = 1e-8,
) -> np.ndarray:
    """Rake weights to population margins by iterative proportional fitting.

    Deming & Stephan (1940); as R ``survey::rake(design, sample.margins,
    population.margins)``.  ``base_weights`` (array, column name, or None for 1s) are
    multiplied, margin after margin, by target / current weighted total in each level
    until every weighted margin equals its target to a relative tolerance ``tol``.

    Raises ValueError (naming the variable and level) when a sample level has no
    population total, a population level with a positive total has no respondents, a
    margin variable is missing for some respondent, or the margins add up to different
    totals; raises :class:`RakingError` when it has not converged after ``max_iter``
    sweeps.  Returns the raked weights as an ndarray in the order of ``df``'s rows.
    """
    w = _base_weights(df, base_weights)
    return _rake(w, _check_margins(df, w, margins), max_iter, tol)


def _base_weights(df: pd.DataFrame, base_weights: Any) -> np.ndarray:
    if isinstance(base_weights, str):
        w = df[base_weights].to_numpy(dtype=float)
    elif base_weights is None:
        w = np.ones(len(df))
    else:
        w = np.asarray(base_weights, dtype=float).ravel().copy()
    if w.size != len(df):
        raise ValueError(f"base_weights has {w.size} values for {len(df)} rows")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ValueError("base weights must be finite and non-negative")
    return w


def _check_weights(prepared: list, w: np.ndarray) -> None:
    """_check_margins' test that every level with a positive total has positive weight, on
    margins already checked (the same error, for new base weights of the same rows)."""
    for var, codes, tvec, labels in prepared:
        has = np.bincount(codes, weights=w, minlength=tvec.size) > 0    # non-negative weights
        for t, ok, lab in zip(tvec, has, labels):
            if t > 0 and not ok:
                raise ValueError(
                    f"margin {var!r}, level {lab!r}: population total {t:g} but no respondents "
                    f"(with positive weight) in the sample; merge it with a neighbouring level"
                )


def _rake(w: np.ndarray, prepared: list, max_iter: int, tol: float) -> np.ndarray:
    """rake's iterations from checked base weights and margins (_check_margins)."""
    w = w.astype(float).copy()
    for _ in range(max_iter):
        for _, codes, tvec, _ in prepared:
            cur = np.bincount(codes, weights=w, minlength=tvec.size)
            factor = np.divide(tvec, cur, out=np.zeros_like(tvec), where=cur > 0)
            w = w * factor[codes]
        worst = 0.0
        for _, codes, tvec, _ in prepared:
            cur = np.bincount(codes, weights=w, minlength=tvec.size)
            scale = np.maximum(tvec, 1e-300)
            worst = max(worst, float(np.max(np.abs(cur - tvec) / scale)))
        if worst <= tol:
            return w
    raise RakingError(
        f"raking did not converge in {max_iter} sweeps (largest relative margin error {worst:.3g}); "
        "the margins may be incompatible with the sample (e.g. an empty cell forcing a zero)"
    )


def margin_dummies(df: pd.DataFrame, margins: Mapping[str, Mapping[Any, float]]) -> np.ndarray:
    """Indicator matrix (n x sum of levels) of the raking margins, one column per level.

    Pass it as ``calibration=`` to :func:`analysis.stats.weighted_mean_ci` and friends
    so their SEs use the calibration residuals, as R's survey package does for raked
    designs.  Column order: margins in the given order, levels in the given order.
    """
    cols = []
    for var, levels in margins.items():
        codes, keys = _level_codes(df[var])
        for lev in levels:
            k = _level_key(lev)
            cols.append((codes == keys.index(k)).astype(float) if k in keys else np.zeros(len(codes)))
    return np.column_stack(cols)


def kish_effective_n(w: Any) -> float:
    """Kish (1965) effective sample size ``(sum w)^2 / sum w^2`` (NaN weights dropped)."""
    a = np.asarray(w, dtype=float).ravel()
    a = a[~np.isnan(a)]
    s2 = float(np.sum(a**2))
    return float(np.sum(a) ** 2 / s2) if s2 > 0 else float("nan")


def design_effect(w: Any) -> float:
    """Kish's design effect due to unequal weighting, ``1 + CV^2``.

    CV uses the population variance of the weights (ddof = 0), so that
    ``design_effect(w) == n / kish_effective_n(w)`` exactly (Kish 1965, 1992).
    """
    a = np.asarray(w, dtype=float).ravel()
    a = a[~np.isnan(a)]
    if a.size == 0 or a.mean() == 0:
        return float("nan")
    return float(1.0 + a.var(ddof=0) / a.mean() ** 2)


def trim_and_rerake(
    df: pd.DataFrame,
    weights: Any,
    margins: Mapping[str, Mapping[Any, float]],
    cap: float,
    max_rounds: int = 50,
    tol: float = 1e-8,
    cap_tol: float = 1e-3,
) -> np.ndarray:
    """Cap weights at ``cap`` x mean weight, re-rake, and repeat until both hold.

    Each round: weights above ``cap * mean(w)`` are set to it (as
    ``survey::trimWeights(upper=...)``; the trimmed excess is then restored by the
    re-raking instead of being spread evenly), and the result is raked back to the
    margins with :func:`rake`.  Stops when the largest weight is within ``cap_tol``
    (relative) of the cap; the returned weights always satisfy the margins.  If the
    cap cannot be met together with the margins after ``max_rounds`` a warning is
    issued and the last raked weights are returned.
    """
    if cap <= 1:
        raise ValueError("cap is a multiple of the mean weight and must exceed 1")
    w = _base_weights(df, weights)
    prepared = _check_margins(df, w, margins)          # the rows and margins are checked once
    w = _rake(w, prepared, 100, tol)
    for _ in range(max_rounds):
        limit = cap * w.mean()
        if w.max() <= limit * (1 + cap_tol):
            return w
        capped = np.minimum(w, limit)
        _check_weights(prepared, capped)
        w = _rake(capped, prepared, 100, tol)
    if w.max() > cap * w.mean() * (1 + cap_tol):
        warnings.warn(
            f"trim_and_rerake: after {max_rounds} rounds the largest weight is "
            f"{w.max() / w.mean():.2f} x the mean (cap {cap}); the margins need larger weights",
            RuntimeWarning,
            stacklevel=2,
        )
    return w
