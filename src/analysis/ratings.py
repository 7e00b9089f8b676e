"""Stage 02, ratings: weights, estimates with intervals, and tests across groups and sectors.

`build_tables(responses, cb, settings)` takes the clean stage's responses frame (one row per
analysed response), the codebook and the run settings and returns the stage's tidy tables
(codes, never labels), one small function per table; `write_tables` writes them as CSV that
is byte-identical for identical inputs. Every statistic is computed by `analysis.stats` and
`analysis.weights` (one implementation each); the variables come from the codebook's roles.

Decisions (each also written into the tables, so the summary can cite them)

* Top two = the scale's `top_box` (4, 5). A sector index is the mean of the scored items of
  the sector, for respondents who scored at least `min_items` (2) of its four; its "top two"
  is index >= 4. "Don't know" is never a score.
* Small groups: a level with fewer than `min_cell` respondents is merged as the codebook's
  `merge` says (the whole merge group, when any member is small), otherwise left out; notes
  say which. Options marked `exclude_from_tests` are left out of tests (not of descriptions).
  Every published row describes at least `min_cell` respondents; counts of a sub-category
  below `min_cell` are published as NA (shares of a base of at least `min_cell` are shown).
* info_language (multi-choice) is tested option by option, as two groups: chose the language
  ("yes") or not ("no"); respondents who skipped the question are missing.
* Tests of an outcome across groups: Kruskal–Wallis (>= 3 groups) or Mann–Whitney (2 groups)
  on the scores, and chi-square (Fisher's exact test for a 2x2 table with an expected count
  below 5) on the top-two share. One Benjamini–Hochberg family holds every unweighted omnibus
  group test of the run (`group_tests`); weighted Rao–Scott tests form their own family
  (`group_tests_weighted`), model terms theirs (`model_terms`); Dunn post hoc tests (Holm)
  follow each significant rank test with three or more groups. NaN p-values are not counted.
* Weights: the in-scope respondents (role `in_scope`) are raked to the population file's
  margins, trimmed at `weight_trim_cap` x the mean and re-raked. Weighted estimates describe
  the population the margins describe, so they use the in-scope respondents only; an
  in-scope respondent with no usable answer to a margin variable keeps that variable's
  unknown level at its sample share (raking on the available margins), never dropped.
  Unweighted figures on the same in-scope base stand beside the weighted ones (items.csv
  `scope_*`), so a weighting effect is never a change of population. An official margin
  file makes weighted figures a headline; any other makes them a sensitivity check.
* Models: proportional odds of each item and each rounded sector index (round half up) on
  the codebook's `model_predictors` (merged levels, small levels dropped, complete cases);
  the reference level of each is its largest group.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st
from scipy.special import expit

from . import stats, weights as wts
from .codebook import Codebook
# the margin file: read without scipy (the input check reads it before any stage runs)
from .population import _NOT_OFFICIAL, RatingsInputError, _check_official, load_population  # noqa: F401

GROUP_FAMILY = "group_tests"
WEIGHTED_FAMILY = "group_tests_weighted"
MODEL_FAMILY = "model_terms"
ALL = "all"                                   # grouping/level code of an overall row


# --- settings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    min_cell: int = 10
    fdr: float = 0.05
    weight_trim_cap: float = 5.0
    population: dict | None = None          # a loaded population file (see load_population)
    min_items: int = 2                       # scored items needed for a sector index
    level: float = 0.95
    min_finding_n: int = 30                  # smallest group a headline finding may rest on
    bootstrap: int = 1000                    # bootstrap resamples for effect-size intervals
    seed: int = 20220101                     # seed of those resamples (tables are reproducible)


# words in a margin file's `source` that say it is not official statistics
def settings_from(min_cell=10, fdr=0.05, weight_trim_cap=5.0, population=None, min_items=2,
                  min_finding_n=30, bootstrap=1000) -> Settings:
    """Settings from notebook parameters (population: a path, a loaded dict, or empty)."""
    pop = population if isinstance(population, dict) or population is None else load_population(population)
    return Settings(min_cell=int(min_cell), fdr=float(fdr), weight_trim_cap=float(weight_trim_cap),
                    population=pop, min_items=int(min_items), min_finding_n=int(min_finding_n),
                    bootstrap=int(bootstrap))


# --- reading ----------------------------------------------------------------------------

def read_responses(path: str | Path, cb: Codebook) -> pd.DataFrame:
    """The clean stage's responses, checked against the agreed schema (SchemaError if not)."""
    from . import schemas

    return schemas.read_parquet(path, "responses", cb)


def responses_path(run: str | Path, survey: str, run_dir: str = "") -> Path:
    """paths.stage_input for data/responses.parquet; a notebook opened by hand on a fresh
    clone (no run folder given, no earlier run) first runs stage 01 on the default params
    into its scratch folder, and says so."""
    from . import paths

    try:
        return paths.stage_input(run, survey, "data/responses.parquet")
    except FileNotFoundError:
        params = paths.load_params(paths.DEFAULT_PARAMS)
        if run_dir or params.get("survey") != survey:
            raise
        from . import clean

        print(f"No stage-01 output yet: running 01_clean on {paths.DEFAULT_PARAMS} into {run}")
        clean.run_clean(params, run_dir=run)
        return Path(run) / "data" / "responses.parquet"


def check_responses(df: pd.DataFrame, cb: Codebook) -> None:
    """The columns this stage needs; a clear error naming the first missing one."""
    need = ["respondent_id"] + [v for v in (cb.role_var("form_language"), cb.role_var("satisfaction"),
                                            cb.role_var("recommendation")) if v]
    for v in cb.variables.values():
        if v.grouping and v.type == "single":
            need.append(v.name)
        elif v.grouping and v.type == "multi":
            need += [f"{v.name}__{c}" for c in v.codes]
    for item in cb.likert_items:
        need += [item, f"{item}_dk"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise RatingsInputError(f"responses: no column {missing[0]!r} (missing {len(missing)}: "
                                f"{', '.join(missing[:6])}); run stage 01_clean again")


# --- outcomes ---------------------------------------------------------------------------

def _float(col: pd.Series) -> np.ndarray:
    return pd.to_numeric(col, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def item_scores(df: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """The Likert scores as floats (NaN for don't know or skipped), one column per item."""
    return pd.DataFrame({i: _float(df[i]) for i in cb.likert_items}, index=df.index)


def dont_know(df: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    return pd.DataFrame({i: df[f"{i}_dk"].fillna(False).to_numpy(dtype=bool) for i in cb.likert_items},
                        index=df.index)


def sector_indices(scores: pd.DataFrame, cb: Codebook, min_items: int = 2) -> pd.DataFrame:
    """Mean of the scored items of each sector, NaN with fewer than `min_items` scored; an item the
    codebook marks `reverse: true` enters turned round (min + max - score), never as answered."""
    out = {}
    for code, sector in cb.sectors.items():
        m = oriented_items(scores, cb, sector.items)
        k = (~np.isnan(m)).sum(1)
        with np.errstate(invalid="ignore"):
            mean = np.nansum(m, 1) / np.where(k > 0, k, 1)
        out[code] = np.where(k >= min_items, mean, np.nan)
    return pd.DataFrame(out, index=scores.index)


def oriented_items(scores: pd.DataFrame, cb: Codebook, items) -> np.ndarray:
    """The items' scores as they enter an index or alpha (reversed items turned round)."""
    return np.column_stack([cb.oriented(i, scores[i].to_numpy(dtype=float)) for i in items])


def top2_threshold(cb: Codebook) -> float:
    scale = cb.scales[cb.variables[cb.likert_items[0]].scale]
    return float(min(scale.top_box)) if scale.top_box else 4.0


SECTOR_PREFIX = "sector_"   # a sector index as an outcome: "sector_education" (never the variable "education")


def outcomes(df: pd.DataFrame, cb: Codebook, min_items: int = 2) -> tuple[pd.DataFrame, dict[str, str]]:
    """Items then sector indices (named sector_<code>) as float columns, and each one's type."""
    scores = item_scores(df, cb)
    sectors = sector_indices(scores, cb, min_items).add_prefix(SECTOR_PREFIX)
    kinds = {**{i: "item" for i in scores}, **{s: "sector" for s in sectors}}
    return pd.concat([scores, sectors], axis=1), kinds


def sector_of(cb: Codebook, outcome: str) -> str:
    return cb.variables[outcome].sector if outcome in cb.variables else outcome.removeprefix(SECTOR_PREFIX)


# --- groupings --------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupPlan:
    """One grouping ready to test or describe: kept levels and an integer code per respondent."""
    grouping: str                 # e.g. "age_group", or "info_language__ru"
    variable: str                 # the codebook variable
    levels: tuple[str, ...]       # kept levels, codebook order (a merge code replaces its members)
    codes: np.ndarray             # index into levels per respondent, -1 = missing or left out
    notes: str = ""


_FACTORS: dict[int, tuple] = {}     # id(values array) -> (weak reference, codes, distinct values)


def _remember_factors(values: np.ndarray, codes: np.ndarray, uniques: list) -> np.ndarray:
    """Keep an array's factorisation (codes into `uniques`, -1 = missing; a distinct value may
    have no row) for _factorize, and make the array read-only so that it cannot go stale."""
    values.flags.writeable = False
    key = id(values)
    _FACTORS[key] = (weakref.ref(values, lambda _ref, key=key: _FACTORS.pop(key, None)),
                     np.asarray(codes, dtype=np.int64), list(uniques))
    return values


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list]:
    """(code per row, distinct values) of an object array, None/NaN = -1: the factorisation
    grouping_values kept for its arrays, else pandas.factorize (hashing, not sorting)."""
    hit = _FACTORS.get(id(values))
    if hit is not None and hit[0]() is values:
        return hit[1], hit[2]
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return np.asarray(codes, dtype=np.int64), list(uniques)


def grouping_values(df: pd.DataFrame, cb: Codebook) -> dict[str, tuple[str, np.ndarray, list[str]]]:
    """grouping -> (variable, codes as an object array with None for missing, level order).

    Multi-choice groupings become one two-group variable per option ("yes"/"no"); a
    respondent who skipped the question (all indicators NA, or none chosen) is missing.
    The arrays are read-only and carry their factorisation (from the categorical column's
    codes), so that planning a grouping never hashes one Python object per respondent.
    """
    out = {}
    for v in cb.variables.values():
        if not v.grouping:
            continue
        if v.type == "single":
            col = df[v.name]
            if (isinstance(col.dtype, pd.CategoricalDtype)
                    and pd.api.types.infer_dtype(col.cat.categories, skipna=True) == "string"):
                codes = col.cat.codes.to_numpy().astype(np.int64)
                lut = np.empty(len(col.cat.categories) + 1, dtype=object)
                lut[:-1] = [str(c) for c in col.cat.categories]
                vals = _remember_factors(lut[codes], codes, list(lut[:-1]))     # code -1 -> None
            else:
                vals = col.astype(object).to_numpy()
                vals = np.where(pd.isna(vals), None, vals.astype(str) if len(vals) else vals).astype(object)
            out[v.name] = (v.name, vals, list(v.codes))
        elif v.type == "multi":
            ind = np.column_stack([df[f"{v.name}__{c}"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                                   for c in v.codes])
            answered = ind.any(1)
            lut = np.array(["yes", "no", None], dtype=object)
            for j, c in enumerate(v.codes):
                codes = np.where(answered, np.where(ind[:, j], 0, 1), -1).astype(np.int64)
                out[f"{v.name}__{c}"] = (v.name, _remember_factors(lut[codes], codes, ["yes", "no"]), ["yes", "no"])
    return out


def plan_grouping(grouping: str, variable: str, values: np.ndarray, order: list[str], cb: Codebook,
                  min_cell: int, for_tests: bool = True) -> GroupPlan:
    """Merge small levels where the codebook says, leave out the rest, drop excluded options.

    Worked on the distinct answers and their counts (pandas.factorize), not on one Python
    object per respondent."""
    v = cb.variables[variable]
    notes = []
    first, vals = _factorize(values)                    # each distinct answer, recoded below
    ucount = np.bincount(first[first >= 0], minlength=len(vals))

    def counted() -> dict:
        counts: dict = {}
        for x, c in zip(vals, ucount):
            if x is not None:
                counts[x] = counts.get(x, 0) + int(c)
        return counts

    if for_tests and v.type == "single":
        excluded = [o.code for o in v.options if o.exclude_from_tests]
        hit = [c for c in excluded if any(x == c and k > 0 for x, k in zip(vals, ucount))]
        if hit:
            vals = [None if x in hit else x for x in vals]
            notes.append("not tested: " + "+".join(hit))
    counts = counted()
    mapping = {}
    if v.type == "single":
        for mcode, spec in v.merge.items():
            members = list(spec.get("codes", []))
            if any(0 < counts.get(c, 0) < min_cell for c in members):
                mapping.update({c: mcode for c in members})
                notes.append(f"merged {'+'.join(members)} as {mcode}")
    if mapping:
        vals = [mapping.get(x, x) if x is not None else None for x in vals]
    seq = []
    for c in order:
        c2 = mapping.get(c, c)
        if c2 not in seq:
            seq.append(c2)
    counts = counted()
    small = [c for c in seq if 0 < counts.get(c, 0) < min_cell]
    if small:
        notes.append(f"left out (n<{min_cell}): " + "+".join(small))
    levels = tuple(c for c in seq if counts.get(c, 0) >= min_cell)
    index = {c: i for i, c in enumerate(levels)}
    lut = np.array([index.get(x, -1) if x is not None else -1 for x in vals] + [-1], dtype=np.int64)
    return GroupPlan(grouping, variable, levels, lut[first], "; ".join(notes))


def plan_groupings(df: pd.DataFrame, cb: Codebook, min_cell: int, for_tests: bool = True,
                   gv: dict | None = None) -> dict[str, GroupPlan]:
    """A GroupPlan per grouping (gv: grouping_values computed once, to reuse)."""
    gv = gv if gv is not None else grouping_values(df, cb)
    return {g: plan_grouping(g, var, vals, order, cb, min_cell, for_tests) for g, (var, vals, order) in gv.items()}


# --- weights ----------------------------------------------------------------------------

@dataclass
class Weighting:
    """Raked weights and what the weighted estimators need (calibration patterns)."""
    used: bool
    role: str                                  # headline | sensitivity | none
    reason: str
    weights: np.ndarray | None = None          # per respondent, NaN = outside the margins' population
    calibration: np.ndarray | None = None      # margin indicators of the weighted rows
    pattern: np.ndarray | None = None          # calibration pattern id per weighted row
    patterns: np.ndarray | None = None         # one indicator row per pattern
    info: dict = field(default_factory=dict)

    @property
    def mask(self) -> np.ndarray:
        return ~np.isnan(self.weights)


def _margin_codes(df: pd.DataFrame, cb: Codebook, var: str, levels: dict) -> pd.Series:
    """Sample codes mapped to the margin's levels (members of a merge group to its code)."""
    if var not in df.columns:
        raise RatingsInputError(f"population margin {var!r} is not a column of the responses")
    col = df[var].astype(object)
    v = cb.variables.get(var)
    mapping = {}
    if v is not None:
        for mcode, spec in v.merge.items():
            if mcode in levels:
                mapping.update({c: mcode for c in spec.get("codes", []) if c not in levels})
    mapped = _map_distinct(col, lambda x: None if pd.isna(x) else mapping.get(str(x), str(x)))
    return mapped.where(mapped.isin(list(levels)), None)


def _map_distinct(col: pd.Series, fn) -> pd.Series:
    """col.map(fn) for an object column, calling fn once per distinct value (not per
    respondent) when the values are all strings, integers or booleans (then pandas'
    factorize merges only values fn cannot tell apart; 1 and 1.0 would print differently)."""
    if pd.api.types.infer_dtype(col, skipna=True) not in ("string", "integer", "boolean", "empty"):
        return col.map(fn)
    codes, uniques = pd.factorize(col)
    looked = np.empty(len(uniques) + 1, dtype=object)
    looked[:-1] = [fn(u) for u in uniques]
    out = looked[codes]
    na = np.flatnonzero(codes < 0)
    if na.size:                                            # missing values passed as they are
        out[na] = [fn(v) for v in col.to_numpy(dtype=object)[na]]
    return pd.Series(out, index=col.index, dtype=object)


UNKNOWN = "(unknown)"        # margin level of an in-scope respondent whose answer has no population level


def in_scope_mask(df: pd.DataFrame, cb: Codebook) -> np.ndarray:
    """Respondents who belong to the population the margins describe (the codebook's
    `in_scope` role, e.g. self-declared residents); everyone when the role is missing."""
    scope = cb.in_scope()
    if not scope:
        return np.ones(len(df), dtype=bool)
    var, codes = scope
    if var not in df.columns:
        return np.ones(len(df), dtype=bool)
    return df[var].astype(object).isin(list(codes)).to_numpy()


def compute_weights(df: pd.DataFrame, cb: Codebook, settings: Settings) -> Weighting:
    """Rake the in-scope respondents to the population margins, trim and re-rake.

    Who is weighted: the respondents in scope (codebook role `in_scope`, e.g. residents),
    and only they - a non-resident who named a district is not raked as a resident. An
    in-scope respondent whose answer to a margin variable has no population level
    ("prefer not to say", skipped, a contradictory "not in the city") is kept: that
    variable is raked on the available answers, the unknown answers forming their own
    level held at their sample share (the known levels share the rest in the population's
    proportions). Weights: weights.trim_and_rerake (cap `weight_trim_cap` x the mean).
    """
    pop = settings.population
    scope = in_scope_mask(df, cb)
    role_scope = cb.in_scope()
    base = {"n": len(df), "n_in_scope": int(scope.sum()), "n_outside_scope": int((~scope).sum()),
            "scope": (f"{role_scope[0]} in {'+'.join(role_scope[1])}" if role_scope else "all respondents")}
    if not pop:
        return Weighting(False, "none", "no population margin file given: unweighted analysis", info=base)
    margins = pop["margins"]
    info0 = {**base, "population_file": pop.get("path", ""), "source": pop.get("source", ""),
             "official": bool(pop.get("official")), "margins": "+".join(margins)}
    mapped = pd.DataFrame({var: _margin_codes(df, cb, var, levels) for var, levels in margins.items()})
    sub = mapped.loc[scope].reset_index(drop=True)
    n_scope = len(sub)
    eff_margins, unknown_notes = {}, []
    for var, levels in margins.items():
        unknown = sub[var].isna()
        k = int(unknown.sum())
        if k and n_scope:
            total = sum(levels.values())
            share = k / n_scope
            eff_margins[var] = {**{lv: t * (1 - share) for lv, t in levels.items()}, UNKNOWN: total * share}
            sub[var] = sub[var].where(~unknown, UNKNOWN)
            unknown_notes.append(f"{var}: {k}")
        else:
            eff_margins[var] = dict(levels)
    role = "headline" if pop.get("official") else "sensitivity"
    reason = (f"official margins ({pop.get('source', '')}): weighted and unweighted figures are both headline"
              if pop.get("official") else
              f"margin file is not official ({pop.get('source', '') or 'no source given'}): unweighted "
              f"figures are the headline, weighted ones a sensitivity check")
    import warnings

    try:
        w_raked = wts.rake(sub, None, eff_margins)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            w_sub = wts.trim_and_rerake(sub, None, eff_margins, settings.weight_trim_cap)
    except (ValueError, wts.RakingError) as exc:
        return Weighting(False, "none", f"raking failed, unweighted analysis: {exc}", info=info0)
    cap_note = "; ".join(str(c.message) for c in caught if issubclass(c.category, RuntimeWarning))
    w = np.full(len(df), np.nan)
    w[scope] = w_sub
    cal = wts.margin_dummies(sub, eff_margins)
    pattern, first = _patterns(sub, list(eff_margins))
    info = {**info0, "n_weighted": n_scope, "n_outside_margins": int((~scope).sum()),
            "margin_unknown": "; ".join(unknown_notes),
            "kish_effective_n": wts.kish_effective_n(w_sub), "design_effect": wts.design_effect(w_sub),
            "kish_effective_n_untrimmed": wts.kish_effective_n(w_raked),
            "design_effect_untrimmed": wts.design_effect(w_raked),
            "max_weight_ratio_untrimmed": float(w_raked.max() / w_raked.mean()),
            "trim_cap": settings.weight_trim_cap, "max_weight_ratio": float(w_sub.max() / w_sub.mean()),
            "min_weight_ratio": float(w_sub.min() / w_sub.mean()),
            "n_trimmed": int((w_raked > settings.weight_trim_cap * w_raked.mean() * (1 + 1e-9)).sum()),
            "cap_met": not cap_note, "notes": cap_note}
    return Weighting(True, role, reason, w, cal, pattern, cal[first], info)


def _patterns(sub: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer id of each row's combination of margin levels, and a first row of each."""
    key = np.zeros(len(sub), dtype=np.int64)
    for c in cols:
        codes, uniq = pd.factorize(sub[c], sort=True)
        key = key * (len(uniq) + 1) + codes
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.astype(np.int64), first


def weighting_table(wt: Weighting) -> pd.DataFrame:
    """weighting.csv: what was weighted, on whom, and the weights before and after trimming."""
    i = wt.info
    row = {"used": wt.used, "role": wt.role, "headline": "weighted+unweighted" if wt.role == "headline" else "unweighted",
           "reason": wt.reason, "population_file": i.get("population_file", ""), "source": i.get("source", ""),
           "official": i.get("official", False), "margins": i.get("margins", ""), "scope": i.get("scope", ""),
           "n": i.get("n"), "n_in_scope": i.get("n_in_scope"), "n_weighted": i.get("n_weighted"),
           "n_outside_margins": i.get("n_outside_margins"), "margin_unknown": i.get("margin_unknown", ""),
           "kish_effective_n": i.get("kish_effective_n", np.nan), "design_effect": i.get("design_effect", np.nan),
           "kish_effective_n_untrimmed": i.get("kish_effective_n_untrimmed", np.nan),
           "design_effect_untrimmed": i.get("design_effect_untrimmed", np.nan),
           "max_weight_ratio_untrimmed": i.get("max_weight_ratio_untrimmed", np.nan), "n_trimmed": i.get("n_trimmed"),
           "trim_cap": i.get("trim_cap", np.nan), "max_weight_ratio": i.get("max_weight_ratio", np.nan),
           "min_weight_ratio": i.get("min_weight_ratio", np.nan), "cap_met": i.get("cap_met", True),
           "notes": i.get("notes", "")}
    return _typed(pd.DataFrame([row]), ints=["n", "n_in_scope", "n_weighted", "n_outside_margins", "n_trimmed"])


def weights_frame(df: pd.DataFrame, wt: Weighting) -> pd.DataFrame:
    """data/weights.parquet: respondent_id, weight (NaN outside the margins' population)."""
    w = wt.weights if wt.used else np.ones(len(df))
    return pd.DataFrame({"respondent_id": df["respondent_id"].astype("string").to_numpy(),
                         "weight": np.asarray(w, dtype="float64")})


def _calibration(wt: Weighting) -> stats.Calibration:
    return stats.Calibration(wt.pattern, wt.patterns)


def _weighted_mean(y: np.ndarray, wt: Weighting, level: float) -> dict:
    """svymean on the raked design of the in-scope rows (stats.weighted_mean_ci, calibration
    residuals; a missing answer stays in the design, as survey's subset)."""
    m = wt.mask
    if np.all(np.isnan(y[m])):
        return {"mean": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0}
    r = stats.weighted_mean_ci(y[m], wt.weights[m], level, calibration=_calibration(wt))
    return {k: r[k] for k in ("mean", "se", "ci_low", "ci_high", "n")}


def _weighted_share(ind: np.ndarray, wt: Weighting, level: float) -> dict:
    """svyciprop(method="logit") on the same design (stats.weighted_share_ci)."""
    m = wt.mask
    if np.all(np.isnan(ind[m])):
        return {"share": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0}
    r = stats.weighted_share_ci(ind[m], wt.weights[m], level, calibration=_calibration(wt))
    return {k: r[k] for k in ("share", "se", "ci_low", "ci_high", "n")}


# --- descriptive tables -----------------------------------------------------------------

def _rank(share: pd.Series, mean: pd.Series) -> pd.Series:
    """Rank 1 = highest top-two share; ties broken by the mean score, then by listed order."""
    order = pd.DataFrame({"s": share, "m": mean, "o": np.arange(len(share))})
    order = order.sort_values(["s", "m", "o"], ascending=[False, False, True], na_position="last")
    rank = pd.Series(np.arange(1, len(order) + 1), index=order.index)
    rank[order["s"].isna()] = pd.NA
    return rank.reindex(share.index).astype("Int64")


def _share_and_ci(k: float, n: float, level: float) -> tuple[float, float, float]:
    if n <= 0:
        return np.nan, np.nan, np.nan
    lo, hi = stats.wilson_ci(k, n, level)
    return k / n, lo, hi


def item_table(df: pd.DataFrame, cb: Codebook, settings: Settings, wt: Weighting) -> pd.DataFrame:
    """items.csv: per item n, don't-know share, mean and top-two share with 95 % intervals."""
    scores, dk = item_scores(df, cb), dont_know(df, cb)
    cut = top2_threshold(cb)
    points = cb.scales[cb.variables[cb.likert_items[0]].scale].points
    flagged = flagged_mask(df)
    rows = []
    for item in cb.likert_items:
        y = scores[item].to_numpy()
        ok = ~np.isnan(y)
        n, n_dk = int(ok.sum()), int(dk[item].to_numpy().sum())
        mean, mlo, mhi = stats.mean_ci(y, settings.level)
        share, slo, shi = _share_and_ci(float((y[ok] >= cut).sum()), n, settings.level)
        row = {"item": item, "sector": sector_of(cb, item), "n": n, "n_dk": n_dk,
               "dk_share": n_dk / (n + n_dk) if n + n_dk else np.nan,
               "mean": mean, "mean_ci_low": mlo, "mean_ci_high": mhi,
               "top2_share": share, "top2_ci_low": slo, "top2_ci_high": shi}
        counts = {p: int((y[ok] == p).sum()) for p in points}
        for p in points:
            row[f"share_{p}"] = counts[p] / n if n else np.nan
        k_top = int((y[ok] >= cut).sum())
        # bases stated: top2_share is of those who gave a rating; top2_share_all of all respondents
        row.update(n_all=len(y), top2_share_all=k_top / len(y) if len(y) else np.nan)
        small = [c for c in (*counts.values(), k_top, n - k_top, n_dk) if 0 < c < settings.min_cell]
        row["_small_dist"] = any(0 < c < settings.min_cell for c in counts.values())
        row["_small_top"] = any(0 < c < settings.min_cell for c in (k_top, n - k_top))
        row["_small"] = bool(small)
        if flagged is not None and flagged.any():
            yk = y[~flagged]
            okk = ~np.isnan(yk)
            row["n_excl_flagged"] = int(okk.sum())
            row["top2_share_excl_flagged"] = float((yk[okk] >= cut).mean()) if okk.any() else np.nan
            row["_mean_excl"] = float(yk[okk].mean()) if okk.any() else np.nan
        if wt.used:
            row.update(_weighted_item(y, cut, wt, settings.level))
            ys = y[wt.mask]
            oks = ~np.isnan(ys)
            row["scope_n"] = int(oks.sum())
            row["scope_top2_share"] = float((ys[oks] >= cut).mean()) if oks.any() else np.nan
            row["_scope_mean"] = float(ys[oks].mean()) if oks.any() else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    out["rank"] = _rank(out["top2_share"], out["mean"])
    if "top2_share_excl_flagged" in out:
        out["rank_excl_flagged"] = _rank(out["top2_share_excl_flagged"], out.pop("_mean_excl"))
    if wt.used:
        out["weighted_rank"] = _rank(out["weighted_top2_share"], out["weighted_mean"])
        out["scope_rank"] = _rank(out["scope_top2_share"], out.pop("_scope_mean"))
    # complementary suppression: a small answer count must not be recoverable from the shares
    dist = [f"share_{p}" for p in points]
    out.loc[out["_small_dist"], dist] = np.nan
    out.loc[out["_small_top"], ["top2_share", "top2_ci_low", "top2_ci_high", "top2_share_all"]] = np.nan
    out.loc[out["n_dk"].between(1, settings.min_cell - 1), "dk_share"] = np.nan
    out["cells_suppressed"] = out.pop("_small")
    out = out.drop(columns=["_small_dist", "_small_top"])
    out = _suppress(out, settings.min_cell, base="n", counts=["n_dk"])
    return _typed(out, ints=["n", "n_dk", "n_all", "rank", "weighted_rank", "scope_n", "scope_rank",
                             "n_excl_flagged", "rank_excl_flagged"])


def flagged_mask(df: pd.DataFrame, rule: str = "straightliner") -> np.ndarray | None:
    """Respondents flagged (not excluded) by a quality rule of stage 01; None without the flag."""
    col = f"flag_{rule}"
    if col not in df.columns:
        return None
    return df[col].fillna(False).to_numpy(dtype=bool)


def suppress_small_cells(df: pd.DataFrame, min_cell: int, cells: list[str], total: str | None = None,
                         linked: dict[str, list[str]] | None = None, columns_too: bool = False) -> pd.DataFrame:
    """Primary and complementary suppression of small counts (for any published count table).

    `cells` are count columns that together make up a row's total (e.g. one count per
    source or per sector). Primary: a count from 1 to min_cell-1 becomes NA. Complementary:
    when a row's total is published (`total`, or always when cells add up to something shown
    elsewhere) and exactly one of its cells is suppressed, the smallest other non-zero cell
    is suppressed as well, so a suppressed count is never the total minus the published
    ones. With `columns_too`, the same rule runs down each column (tables that also publish
    column totals), repeated until nothing changes. `linked` maps a derived column (a share,
    an interval bound) to the counts it would reveal; it is suppressed with any of them.
    Adds `cells_suppressed` (number of NA cells per row). Returns a copy.
    """
    out = df.copy()
    vals = out[cells].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    hide = (vals >= 1) & (vals < min_cell)

    def complement(h: np.ndarray, v: np.ndarray) -> np.ndarray:
        h = h.copy()
        for i in range(h.shape[0]):
            if h[i].sum() == 1:
                cand = np.where(~h[i] & (v[i] > 0) & ~np.isnan(v[i]), v[i], np.inf)
                if np.isfinite(cand).any():
                    h[i, int(np.argmin(cand))] = True
        return h

    for _ in range(10):
        before = hide.copy()
        hide = complement(hide, vals)
        if columns_too:
            hide = complement(hide.T, vals.T).T
        if np.array_equal(before, hide):
            break
    for j, c in enumerate(cells):
        out[c] = pd.Series(np.where(hide[:, j], np.nan, vals[:, j]), index=out.index).astype("Float64").round()
        out[c] = out[c].astype("Int64")
    for derived, sources in (linked or {}).items():
        if derived in out:
            mask = np.zeros(len(out), dtype=bool)
            for s in sources:
                mask |= hide[:, cells.index(s)]
            out.loc[mask, derived] = np.nan
    out["cells_suppressed"] = hide.sum(1)
    return out


def _weighted_item(y: np.ndarray, cut: float, wt: Weighting, level: float) -> dict:
    wm = _weighted_mean(y, wt, level)
    ind = np.where(np.isnan(y), np.nan, (y >= cut).astype(float))
    ws = _weighted_share(ind, wt, level)
    return {"weighted_n": wm["n"], "weighted_mean": wm["mean"], "weighted_mean_ci_low": wm["ci_low"],
            "weighted_mean_ci_high": wm["ci_high"], "weighted_top2_share": ws["share"],
            "weighted_top2_ci_low": ws["ci_low"], "weighted_top2_ci_high": ws["ci_high"]}


def sector_table(df: pd.DataFrame, cb: Codebook, settings: Settings, wt: Weighting) -> pd.DataFrame:
    """sectors.csv: sector index mean with CI, share with index >= 4, Cronbach's alpha."""
    scores = item_scores(df, cb)
    idx = sector_indices(scores, cb, settings.min_items)
    cut = top2_threshold(cb)
    rows = []
    for code, sector in cb.sectors.items():
        y = idx[code].to_numpy()
        ok = ~np.isnan(y)
        mean, lo, hi = stats.mean_ci(y, settings.level)
        share, slo, shi = _share_and_ci(float((y[ok] >= cut).sum()), int(ok.sum()), settings.level)
        items = oriented_items(scores, cb, sector.items)
        complete = int((~np.isnan(items)).all(1).sum())
        row = {"sector": code, "n": int(ok.sum()), "min_items": settings.min_items, "n_items": len(sector.items),
               "mean": mean, "mean_ci_low": lo, "mean_ci_high": hi,
               "top2_share": share, "top2_ci_low": slo, "top2_ci_high": shi,
               "cronbach_alpha": stats.cronbach_alpha(items) if complete >= 2 else np.nan, "alpha_n": complete}
        if wt.used:
            row.update(_weighted_item(y, cut, wt, settings.level))
        rows.append(row)
    out = pd.DataFrame(rows)
    out["rank"] = _rank(out["mean"], out["top2_share"])
    out = _suppress(out, settings.min_cell, base="n", counts=["alpha_n"])
    return _typed(out, ints=["n", "min_items", "n_items", "alpha_n", "rank"])


def ranking_by_group(df: pd.DataFrame, cb: Codebook, settings: Settings, grouping: str,
                     gv: dict | None = None) -> pd.DataFrame:
    """ranking_by_group.csv: the activities ranked within each group of `grouping`."""
    var, vals, order = (gv if gv is not None else grouping_values(df, cb))[grouping]
    plan = plan_grouping(grouping, var, vals, order, cb, settings.min_cell, for_tests=False)
    scores = item_scores(df, cb)
    cut = top2_threshold(cb)
    frames = []
    for gi, level in enumerate(plan.levels):
        in_g = plan.codes == gi
        rows = []
        for item in cb.likert_items:
            y = scores[item].to_numpy()[in_g]
            y = y[~np.isnan(y)]
            share, lo, hi = _share_and_ci(float((y >= cut).sum()), y.size, settings.level)
            rows.append({grouping: level, "item": item, "sector": sector_of(cb, item), "group_n": int(in_g.sum()),
                         "n": y.size, "top2_share": share, "top2_ci_low": lo, "top2_ci_high": hi,
                         "mean": y.mean() if y.size else np.nan})
        block = _suppress(pd.DataFrame(rows), settings.min_cell, base="n")
        block["rank"] = _rank(block["top2_share"], block["mean"])
        frames.append(block)
    cols = [grouping, "item", "sector", "group_n", "n", "top2_share", "top2_ci_low", "top2_ci_high", "mean",
            "rank", "suppressed"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out["notes"] = plan.notes
    return _typed(out, ints=["group_n", "n", "rank"])


def profile_table(df: pd.DataFrame, cb: Codebook, settings: Settings, wt: Weighting,
                  gv: dict | None = None) -> pd.DataFrame:
    """profile.csv: who answered, by every grouping variable and form language."""
    margins = (settings.population or {}).get("margins", {})
    gv = dict(gv if gv is not None else grouping_values(df, cb))
    gv["form_language"] = ("form_language", df["form_language"].astype(object).to_numpy(), list(cb.languages))
    rows = []
    if wt.used:
        w = wt.weights
    for g, (var, vals, order) in gv.items():
        fc, uniq = _factorize(vals)                     # distinct answers, not one object per row
        present = fc >= 0
        n_ans = int(present.sum())
        counts: dict = {}
        for u, k in zip(uniq, np.bincount(fc[present], minlength=len(uniq)).tolist()):
            counts[u] = counts.get(u, 0) + k
        if wt.used:
            m = present & wt.mask
            wsum = np.nansum(np.where(m, w, 0.0))
        pop = margins.get(g, {})
        pop_total = sum(pop.values()) if pop else np.nan
        levels = list(order) + [c for c in pop if c not in order]
        members = _merge_members(cb, var) if g in cb.variables else {}
        for lv in levels:
            codes = members.get(lv, [lv]) if lv not in order else [lv]
            n = int(sum(counts.get(c, 0) for c in codes))
            row = {"variable": g, "level": lv, "n": n, "n_answered": n_ans, "n_missing": int((~present).sum()),
                   "share": n / n_ans if n_ans else np.nan,
                   "population_share": pop[lv] / pop_total if lv in pop else np.nan}
            if wt.used:
                hit = np.isin(fc, [i for i, u in enumerate(uniq) if u in codes])
                row["weighted_share"] = (np.nansum(np.where(m & hit, w, 0.0)) / wsum
                                         if wsum > 0 else np.nan)
            rows.append(row)
    out = pd.DataFrame(rows)
    if "weighted_share" not in out:
        out["weighted_share"] = np.nan
    small = out["n"].between(1, settings.min_cell - 1)
    out["suppressed"] = small
    out.loc[small, ["n", "share", "weighted_share"]] = np.nan
    out["n_missing"] = out["n_missing"].where(~out["n_missing"].between(1, settings.min_cell - 1), np.nan)
    return _typed(out, ints=["n", "n_answered", "n_missing"])


def _merge_members(cb: Codebook, var: str) -> dict[str, list[str]]:
    return {m: list(spec.get("codes", [])) for m, spec in cb.variables[var].merge.items()}


def nps_table(df: pd.DataFrame, cb: Codebook, settings: Settings, plans: dict | None = None) -> pd.DataFrame:
    """nps.csv: Net Promoter Score overall and for each group (stats.nps, normal interval)."""
    scores = _float(df[cb.role_var("recommendation")])
    rows = [{"grouping": ALL, "level": ALL, **stats.nps(scores, settings.level)}]
    plans = plans if plans is not None else plan_groupings(df, cb, settings.min_cell, for_tests=False)
    wanted = cb.role_vars("nps_groupings")
    for g, plan in plans.items():
        if wanted and plan.variable not in wanted:
            continue
        for gi, level in enumerate(plan.levels):
            rows.append({"grouping": g, "level": level, **stats.nps(scores[plan.codes == gi], settings.level),
                         "notes": plan.notes})
    out = pd.DataFrame(rows)
    out = _suppress(out, settings.min_cell, base="n", counts=["promoters", "passives", "detractors"])
    # the NPS and its SE determine the promoter and detractor shares: a row with a small
    # (suppressed) category shows its n only
    small = out[["promoters", "passives", "detractors"]].isna().any(axis=1) & ~out["suppressed"].astype(bool)
    out.loc[small, ["nps", "se", "ci_low", "ci_high", "promoters", "passives", "detractors"]] = np.nan
    out["cells_suppressed"] = small
    return _typed(out, ints=["n", "promoters", "passives", "detractors"])


def satisfaction_table(df: pd.DataFrame, cb: Codebook, settings: Settings, plans: dict | None = None) -> pd.DataFrame:
    """satisfaction.csv: mean life satisfaction (1-10) with a t interval, overall and by group."""
    y = _float(df[cb.role_var("satisfaction")])

    def row(g, level, v, notes=""):
        mean, lo, hi = stats.mean_ci(v, settings.level)
        return {"grouping": g, "level": level, "n": int((~np.isnan(v)).sum()), "mean": mean,
                "ci_low": lo, "ci_high": hi, "notes": notes}

    rows = [row(ALL, ALL, y)]
    plans = plans if plans is not None else plan_groupings(df, cb, settings.min_cell, for_tests=False)
    for g, plan in plans.items():
        rows += [row(g, level, y[plan.codes == gi], plan.notes) for gi, level in enumerate(plan.levels)]
    return _typed(_suppress(pd.DataFrame(rows), settings.min_cell, base="n"), ints=["n"])


# --- tests across groups ----------------------------------------------------------------

def _mean_ranks(v: np.ndarray, g: np.ndarray, k: int) -> np.ndarray:
    """Mean mid-rank of each group (ranks over the pooled values of the test)."""
    grid = np.round(v * 12)
    if np.allclose(grid, v * 12) and grid.min() >= 0 and grid.max() < 10_000:
        vc = grid.astype(np.int64)
        cnt = np.bincount(vc)
        mid = np.cumsum(cnt) - (cnt - 1) / 2.0          # mid-rank of each distinct value
        r = mid[vc]
    else:
        r = _st.rankdata(v)
    return np.bincount(g, weights=r, minlength=k) / np.maximum(np.bincount(g, minlength=k), 1)


def _mean_ranks_counts(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """_mean_ranks of a test given as a groups x values count table: the same numbers (the
    values on the 1/12 grid are tied by grid point, as there; rank sums are exact sums of
    half-integers, whatever their order)."""
    tot = counts.sum(0)
    present = tot > 0
    vals, c, tot = values[present], counts[:, present], tot[present]
    size = c.sum(1)
    grid = np.round(vals * 12)
    if vals.size and np.allclose(grid, vals * 12) and grid.min() >= 0 and grid.max() < 10_000:
        vc = grid.astype(np.int64)
        cnt = np.bincount(vc, weights=tot).astype(np.int64)
        mid = (np.cumsum(cnt) - (cnt - 1) / 2.0)[vc]
    else:
        mid = np.cumsum(tot) - (tot - 1) / 2.0
    return (c * mid).sum(1) / np.maximum(size, 1)


def _value_codes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of an outcome (increasing) and each respondent's index among
    them (-1 = no value): computed once per outcome, then every test of it counts."""
    ok = ~np.isnan(y)
    values, inverse = np.unique(y[ok], return_inverse=True)
    codes = np.full(y.size, -1, dtype=np.int64)
    codes[ok] = inverse.ravel()
    return values, codes


def _group_counts(coded: tuple[np.ndarray, np.ndarray], m: np.ndarray, g: np.ndarray, k: int) -> np.ndarray:
    """The test's groups x values table of counts (rows: kept levels; columns: values)."""
    values, codes = coded
    nv = values.size
    return np.bincount(g * nv + codes[m], minlength=k * nv).reshape(k, nv)


def _select(y: np.ndarray, plan: GroupPlan, min_cell: int, extra: np.ndarray | None = None,
            base: np.ndarray | None = None):
    """The respondents of one test: scored, in a kept level, in a level with >= min_cell here.

    `base`, when given, is ~isnan(y) & (plan.codes >= 0) computed beforehand (not changed)."""
    m = base.copy() if base is not None else ~np.isnan(y) & (plan.codes >= 0)
    if extra is not None:
        m &= extra
    k = len(plan.levels)
    g = plan.codes[m]
    counts = np.bincount(g, minlength=k)
    keep = counts >= min_cell
    dropped = [plan.levels[i] for i in range(k) if 0 < counts[i] < min_cell]
    if keep.all():                     # every level kept: m already holds only kept codes
        return m, g, list(plan.levels), dropped
    m &= keep[np.maximum(plan.codes, 0)] & (plan.codes >= 0)
    kept = np.flatnonzero(keep)
    remap = np.full(k, -1)
    remap[kept] = np.arange(kept.size)
    return m, remap[plan.codes[m]], [plan.levels[i] for i in kept], dropped


def _notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def rank_test(y: np.ndarray, plan: GroupPlan, min_cell: int, selected: tuple | None = None,
              coded: tuple | None = None, counts: np.ndarray | None = None) -> dict:
    """Kruskal–Wallis (>= 3 groups) or Mann–Whitney (2 groups) with effect size and direction.

    Computed on the groups x values count table of the test (stats.kruskal_counts and
    friends: the same numbers as on the answers themselves). `coded` (_value_codes of y)
    and `counts` may be passed when already at hand."""
    m, g, levels, dropped = selected or _select(y, plan, min_cell)
    note = _notes(plan.notes, f"left out here (n<{min_cell}): " + "+".join(dropped) if dropped else "")
    base = {"n": int(m.sum()), "n_groups": len(levels), "levels": "+".join(levels), "notes": note}
    if len(levels) < 2:
        return {**base, "test": "none", "notes": _notes(note, "fewer than two groups to compare")}
    coded = coded or _value_codes(y)
    c = counts if counts is not None else _group_counts(coded, m, g, len(levels))
    values = coded[0]
    mr = _mean_ranks_counts(values, c)
    hi, lo = int(np.argmax(mr)), int(np.argmin(mr))
    h, p_h = stats.kruskal_counts(c)
    eps = stats.epsilon_squared(h, base["n"]) if not math.isnan(h) else np.nan
    out = {**base, "highest_group": levels[hi], "lowest_group": levels[lo], "epsilon_squared": eps,
           "min_group_n": int(c.sum(1).min())}
    if len(levels) == 2:
        u, p = stats.mann_whitney_counts(c[0], c[1], values)
        r = stats.rank_biserial_counts(c[hi], c[lo]) if hi != lo else 0.0
        out.update(test="mann_whitney", statistic=u, df=np.nan, p=p, effect_size=r,
                   effect_measure="rank_biserial", effect_label=stats.effect_label(r, "rank_biserial"))
    else:
        out.update(test="kruskal", statistic=h, df=len(levels) - 1, p=p_h, effect_size=eps,
                   effect_measure="epsilon_squared", effect_label=stats.effect_label(eps, "epsilon_squared"))
    if math.isnan(out["p"]):
        out["notes"] = _notes(out["notes"], "no variation in scores")
    return out


def crosstab_test(y: np.ndarray, plan: GroupPlan, min_cell: int, cut: float,
                  selected: tuple | None = None) -> tuple[dict, pd.DataFrame]:
    """Top-two share by group: chi-square (Fisher for a sparse 2x2), Cramér's V, residuals."""
    m, g, levels, dropped = selected or _select(y, plan, min_cell)
    top = (y[m] >= cut).astype(np.int64)
    table = np.bincount(g * 2 + top, minlength=2 * len(levels)).reshape(len(levels), 2)
    row, resid = _crosstab(plan, min_cell, (m, g, levels, dropped), table)
    return row, (pd.DataFrame(resid) if resid is not None else None)


def _crosstab(plan: GroupPlan, min_cell: int, selected: tuple, counts: np.ndarray) -> tuple[dict, dict | None]:
    """crosstab_test's row and residuals (as columns) from the groups x (not top, top) counts."""
    m, g, levels, dropped = selected
    note = _notes(plan.notes, f"left out here (n<{min_cell}): " + "+".join(dropped) if dropped else "")
    base = {"n": int(m.sum()), "n_groups": len(levels), "levels": "+".join(levels), "notes": note,
            "effect_measure": "cramers_v"}
    if len(levels) < 2:
        return {**base, "test": "none", "notes": _notes(note, "fewer than two groups to compare")}, None
    table = counts.astype(float)
    n_g = table.sum(1)
    share = table[:, 1] / n_g
    base.update(highest_group=levels[int(np.argmax(share))], lowest_group=levels[int(np.argmin(share))],
                min_group_n=int(n_g.min()))
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return {**base, "test": "chi2", "notes": _notes(note, "no variation in top-two share")}, None
    expected = np.outer(n_g, table.sum(0)) / table.sum()
    v = stats.cramers_v(table, bias_correct=True)
    label = stats.effect_label(v, "cramers_v", df=1) if not math.isnan(v) else "undefined"
    if table.shape == (2, 2) and expected.min() < 5:
        odds, p = stats.fisher_exact(table)
        row = {**base, "test": "fisher", "statistic": odds, "df": np.nan, "p": p}
    else:
        chi2, p, dof = stats.chi2_independence(table)
        row = {**base, "test": "chi2", "statistic": chi2, "df": dof, "p": p}
        if expected.min() < 5:
            row["notes"] = _notes(note, "some expected counts below 5")
    row.update(effect_size=v, effect_label=label)
    res = stats.adjusted_residuals(table)[:, 1]
    return row, {"level": levels, "n": n_g.astype(int), "top2_share": share, "adj_residual": res}


def rao_scott_test(y: np.ndarray, plan: GroupPlan, min_cell: int, cut: float, wt: Weighting) -> dict:
    """Weighted top-two share by group: first-order Rao–Scott chi-square on calibration residuals."""
    wm = wt.mask
    yw = y[wm]
    return _rao_scott(yw, _subplan(plan, wm), min_cell, (np.nan_to_num(yw) >= cut).astype(np.int64),
                      wt.weights[wm], _calibration(wt))


def _subplan(plan: GroupPlan, rows: np.ndarray) -> GroupPlan:
    """The plan restricted to some respondents (e.g. the weighted rows), in their order."""
    return GroupPlan(plan.grouping, plan.variable, plan.levels, plan.codes[rows], plan.notes)


def _rao_scott(yw: np.ndarray, plan: GroupPlan, min_cell: int, top_all: np.ndarray, w: np.ndarray,
               calibration: stats.Calibration, base_mask: np.ndarray | None = None) -> dict:
    """rao_scott_test on the weighted rows only (the design's rows, in order): `yw` the
    outcome, `plan` the grouping (_subplan), `top_all` the top-two indicator of yw, `w` the
    weights. Selecting among the weighted rows is selecting among all rows and keeping the
    weighted ones: the same table, the same order of summation."""
    m, g, levels, dropped = _select(yw, plan, min_cell, base=base_mask)
    note = _notes(plan.notes, f"left out here (n<{min_cell}): " + "+".join(dropped) if dropped else "",
                  "weighted rows only")
    base = {"n": int(m.sum()), "n_groups": len(levels), "levels": "+".join(levels), "notes": note,
            "effect_measure": "cramers_v", "test": "rao_scott"}
    if len(levels) < 2:
        return {**base, "test": "none", "notes": _notes(note, "fewer than two groups to compare")}
    x = np.full(len(yw), -1)
    x[m] = g
    top = np.where(m, top_all, -1)
    xs, ws = x[m], w[m]                                   # m is exactly x >= 0
    sw = np.bincount(xs * 2 + top[m], weights=ws, minlength=2 * len(levels)).reshape(-1, 2)
    if (sw.sum(0) == 0).any():
        return {**base, "notes": _notes(note, "no variation in top-two share")}
    share = sw[:, 1] / sw.sum(1)
    stat, p, dof, deff = stats.rao_scott_chi2_codes(x, top, len(levels), 2, w, calibration=calibration)
    # effect size: bias-corrected Cramér's V of the weighted table scaled to the test's n
    v = stats.cramers_v(sw / sw.sum() * base["n"], bias_correct=True)
    return {**base, "statistic": stat, "df": dof, "p": p, "highest_group": levels[int(np.argmax(share))],
            "lowest_group": levels[int(np.argmin(share))], "design_effect": deff, "effect_size": v,
            "effect_measure": "cramers_v", "effect_label": stats.effect_label(v, "cramers_v", df=1)
            if not math.isnan(v) else "undefined", "min_group_n": int(np.bincount(xs).min())}


def group_tests(outcome_frame: pd.DataFrame, kinds: dict[str, str], plans: dict[str, GroupPlan],
                min_cell: int, cut: float, wt: Weighting | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every test of every outcome against every grouping; residuals of the crosstab tests.

    Each outcome's values are coded once; each (outcome, grouping) pair is reduced to one
    groups x values count table, from which its rank test and its top-two crosstab are
    computed (the weighted test needs the respondents' weights and works row by row)."""
    rows = []
    resids: dict[str, list] = {c: [] for c in ("level", "n", "top2_share", "adj_residual", "outcome",
                                               "outcome_type", "grouping")}
    known = {g: plan.codes >= 0 for g, plan in plans.items()}
    weighted = wt is not None and wt.used
    if weighted:
        wm = wt.mask
        w, cal = wt.weights[wm], _calibration(wt)
        wplans = {g: _subplan(plan, wm) for g, plan in plans.items()}
        wknown = {g: known[g][wm] for g in plans}
    for outcome in outcome_frame.columns:
        y = outcome_frame[outcome].to_numpy()
        scored = ~np.isnan(y)
        coded = _value_codes(y)
        high = coded[0] >= cut
        if weighted:
            yw = y[wm]
            scored_w = scored[wm]
            top_w = (np.nan_to_num(yw) >= cut).astype(np.int64)
        key = {"outcome": outcome, "outcome_type": kinds[outcome]}
        for g, plan in plans.items():
            selected = _select(y, plan, min_cell, base=scored & known[g])
            m, gi, levels, _ = selected
            counts = _group_counts(coded, m, gi, len(levels))
            rows.append({**key, "grouping": g, "weighted": False, "family": GROUP_FAMILY,
                         **rank_test(y, plan, min_cell, selected, coded, counts)})
            top = counts[:, high].sum(1)
            ct, res = _crosstab(plan, min_cell, selected, np.column_stack([counts.sum(1) - top, top]))
            rows.append({**key, "grouping": g, "weighted": False, "family": GROUP_FAMILY, **ct})
            if res is not None:
                k = len(res["level"])
                for c in ("n", "top2_share", "adj_residual"):
                    resids[c].append(res[c])
                resids["level"] += res["level"]
                resids["outcome"] += [outcome] * k
                resids["outcome_type"] += [kinds[outcome]] * k
                resids["grouping"] += [g] * k
            if weighted:
                rows.append({**key, "grouping": g, "weighted": True, "family": WEIGHTED_FAMILY,
                             **_rao_scott(yw, wplans[g], min_cell, top_w, w, cal, scored_w & wknown[g])})
    tests = pd.DataFrame(rows)
    for c in ("statistic", "df", "p", "effect_size", "epsilon_squared", "design_effect"):
        if c not in tests:
            tests[c] = np.nan
    for c in ("highest_group", "lowest_group", "effect_label"):
        if c not in tests:
            tests[c] = ""
    tests.loc[tests["test"] == "none", "family"] = ""
    residuals = (pd.DataFrame({c: (np.concatenate(v) if c in ("n", "top2_share", "adj_residual") else v)
                               for c, v in resids.items()}) if resids["level"] else
                 pd.DataFrame(columns=["outcome", "outcome_type", "grouping", "level", "n", "top2_share", "adj_residual"]))
    return tests, residuals


def adjust_families(tests: pd.DataFrame, fdr: float) -> pd.DataFrame:
    """Benjamini–Hochberg within each declared family (NaN p-values are not counted)."""
    tests = tests.copy()
    tests["p_adj"] = np.nan
    for fam, idx in tests.groupby("family").groups.items():
        if fam:
            tests.loc[idx, "p_adj"] = stats.p_adjust(tests.loc[idx, "p"].to_numpy(dtype=float), "BH")
    tests["significant"] = tests["p_adj"] < fdr
    return tests


def family_table(tests: pd.DataFrame, models: pd.DataFrame | None, fdr: float,
                 weighted_headline: bool = False) -> pd.DataFrame:
    """test_family.csv: the declared multiple-testing families and their sizes."""
    desc = {GROUP_FAMILY: ("every unweighted omnibus group test of the run: each comparison (item or sector "
                           "index x grouping) is tested twice, Kruskal–Wallis / Mann–Whitney on the scores and "
                           "chi-square / Fisher on the top-two share", True),
            WEIGHTED_FAMILY: ("weighted Rao–Scott chi-square tests of the top-two share (weighted rows)",
                              weighted_headline),
            MODEL_FAMILY: ("every term of every proportional-odds model in models.csv", False)}
    rows = []
    frames = [(GROUP_FAMILY, tests[tests["family"] == GROUP_FAMILY]),
              (WEIGHTED_FAMILY, tests[tests["family"] == WEIGHTED_FAMILY])]
    if models is not None:
        frames.append((MODEL_FAMILY, models))
    for fam, sub in frames:
        if not len(sub):
            continue
        text, headline = desc[fam]
        comparisons = (int(sub.loc[sub["p"].notna(), ["outcome", "grouping"]].drop_duplicates().shape[0])
                       if "grouping" in sub else int(sub["p"].notna().sum()))
        rows.append({"family": fam, "description": text,
                     "tests": "+".join(sorted(sub["test"].unique())) if "test" in sub else "ordinal_logit",
                     "method": "BH", "alpha": fdr, "m": int(sub["p"].notna().sum()), "comparisons": comparisons,
                     "m_with_nan": len(sub), "n_significant": int((sub["p_adj"] < fdr).sum()),
                     "headline": headline})
    rows.append({"family": "posthoc_dunn", "description": "Dunn pairs after each significant rank test with "
                 ">= 3 groups; Holm within each set", "tests": "dunn", "method": "holm", "alpha": fdr,
                 "m": np.nan, "m_with_nan": np.nan, "n_significant": np.nan, "headline": False})
    rows.append({"family": "sector_pairs", "description": "pairwise Wilcoxon signed-rank tests of the sector "
                 "indices; Holm", "tests": "wilcoxon", "method": "holm", "alpha": fdr, "m": np.nan,
                 "m_with_nan": np.nan, "n_significant": np.nan, "headline": False})
    rows.append({"family": "satisfaction_model", "description": "the eight sector terms of the ordinal model of "
                 "life satisfaction; Holm", "tests": "ordinal_logit", "method": "holm", "alpha": fdr, "m": np.nan,
                 "m_with_nan": np.nan, "n_significant": np.nan, "headline": False})
    return _typed(pd.DataFrame(rows), ints=["m", "comparisons", "m_with_nan", "n_significant"])


def posthoc_table(tests: pd.DataFrame, outcome_frame: pd.DataFrame, plans: dict[str, GroupPlan],
                  min_cell: int, fdr: float) -> pd.DataFrame:
    """posthoc.csv: Dunn (two-sided, tie-corrected, Holm) after each significant Kruskal–Wallis."""
    sig = tests[(tests["test"] == "kruskal") & (tests["p_adj"] < fdr)]
    frames = []
    coded: dict[str, tuple] = {}
    for r in sig.itertuples():
        y = outcome_frame[r.outcome].to_numpy()
        if r.outcome not in coded:
            coded[r.outcome] = _value_codes(y)
        m, g, levels, _ = _select(y, plans[r.grouping], min_cell)
        d = stats.dunn_counts(_group_counts(coded[r.outcome], m, g, len(levels)), levels, "holm")
        frames.append(d.assign(outcome=r.outcome, outcome_type=r.outcome_type, grouping=r.grouping))
    cols = ["outcome", "outcome_type", "grouping", "group1", "group2", "n1", "n2", "mean_rank1", "mean_rank2",
            "z", "p_unadj", "p_adj"]
    if not frames:
        return pd.DataFrame(columns=cols + ["significant"])
    out = pd.concat(frames, ignore_index=True)[cols]
    out["significant"] = out["p_adj"] < fdr
    return _typed(out, ints=["n1", "n2"])


TEST_COLUMNS = ["outcome", "outcome_type", "grouping", "test", "statistic", "df", "n", "n_groups", "min_group_n",
                "levels", "p", "p_adj", "significant", "family", "effect_size", "effect_measure", "effect_label",
                "epsilon_squared", "highest_group", "lowest_group", "weighted", "design_effect", "notes"]


# --- tests across sectors ---------------------------------------------------------------

def sector_tests(df: pd.DataFrame, cb: Codebook, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """sector_tests.csv (Friedman + Kendall's W) and sector_pairs.csv (Wilcoxon, Holm)."""
    idx = sector_indices(item_scores(df, cb), cb, settings.min_items)
    m = idx.to_numpy()
    complete = m[~np.isnan(m).any(1)]
    n, k = complete.shape
    if n >= 1 and k >= 2:
        chi2, p = stats.friedman(complete)
        w = stats.kendalls_w(complete)
    else:
        chi2 = p = w = np.nan
    fw = {"n": n, "k": k, "statistic": chi2, "df": k - 1, "p": p, "kendalls_w": w}
    test = pd.DataFrame([{"test": "friedman", **fw, "effect_measure": "kendalls_w",
                          "effect_label": stats.effect_label(w, "kendalls_w") if not math.isnan(w) else "undefined",
                          "complete_cases": True, "min_items": settings.min_items}])
    pairs = stats.pairwise_wilcoxon(idx, "holm").rename(columns={"group1": "sector1", "group2": "sector2"})
    pairs["higher_sector"] = np.where(pairs["r"] > 0, pairs["sector1"], np.where(pairs["r"] < 0, pairs["sector2"], ""))
    pairs["effect_label"] = [stats.effect_label(r, "rank_biserial") if not math.isnan(r) else "undefined"
                             for r in pairs["r"]]
    pairs["significant"] = pairs["p_adj"] < settings.fdr
    return _typed(test, ints=["n", "k", "df", "min_items"]), _typed(pairs, ints=["n"])


# --- models -----------------------------------------------------------------------------

def _design(df: pd.DataFrame, cb: Codebook, min_cell: int, gv: dict | None = None,
            predictors: list[str] | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Model predictors as dummies (reference = largest level); rows with any missing = NaN."""
    gv = gv if gv is not None else grouping_values(df, cb)
    cols, terms = {}, []
    for var in (predictors if predictors is not None else cb.role_vars("model_predictors")):
        if var not in gv and var not in df.columns:
            continue
        if var == cb.role_var("form_language") or var not in gv:
            plan = _plain_plan(var, df[var].astype(object).to_numpy(), list(cb.languages), min_cell)
        else:
            variable, vals, order = gv[var]
            plan = plan_grouping(var, variable, vals, order, cb, min_cell, for_tests=True)
        if len(plan.levels) < 2:
            continue
        counts = np.bincount(plan.codes[plan.codes >= 0], minlength=len(plan.levels))
        ref = int(np.argmax(counts))
        codes = plan.codes.astype(float)
        codes[plan.codes < 0] = np.nan
        for i, lv in enumerate(plan.levels):
            if i == ref:
                continue
            name = f"{var}={lv}"
            cols[name] = np.where(np.isnan(codes), np.nan, (codes == i).astype(float))
            terms.append({"term": name, "variable": var, "level": lv, "reference": plan.levels[ref],
                          "notes": plan.notes})
    return pd.DataFrame(cols, index=df.index), terms


def _plain_plan(name: str, vals: np.ndarray, order: list[str], min_cell: int) -> GroupPlan:
    first, uniq = _factorize(vals)
    ucount = np.bincount(first[first >= 0], minlength=len(uniq))
    counts = dict(zip(uniq, ucount.tolist()))
    levels = tuple(c for c in order if counts.get(c, 0) >= min_cell)
    small = [c for c in order if 0 < counts.get(c, 0) < min_cell]
    index = {c: i for i, c in enumerate(levels)}
    codes = np.array([index.get(x, -1) for x in uniq] + [-1], dtype=np.int64)[first]
    return GroupPlan(name, name, levels, codes, f"left out (n<{min_cell}): " + "+".join(small) if small else "")


@dataclass(frozen=True)
class ModelDesign:
    """Dummy-coded predictors, with each complete row's covariate pattern precomputed."""
    X: pd.DataFrame
    terms: list[dict]
    pattern: np.ndarray            # index into `patterns` per respondent, -1 = incomplete
    patterns: np.ndarray           # distinct complete rows of X

    def responses(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ok, levels, yi): the complete cases (an answer and every predictor), the outcome's
        distinct values among them and each case's level index."""
        ok = ~np.isnan(y) & (self.pattern >= 0)
        levels, yi = np.unique(y[ok], return_inverse=True)
        return ok, levels, yi

    def collapsed(self, ok: np.ndarray, yi: np.ndarray, k: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """The complete cases as distinct (covariate pattern, response level) rows: response
        level, predictors (constant columns dropped), count as frequency weight, predictor names.
        The one set-up of every ordinal fit on the design (models, findings' adjusted check,
        proportional-odds check): the same likelihood as the case-level data, a fixed-size fit."""
        cnt = np.bincount(self.pattern[ok] * k + yi, minlength=self.patterns.shape[0] * k)
        rows = np.flatnonzero(cnt)
        Xr = self.patterns[rows // k]
        keep = [j for j in range(Xr.shape[1]) if np.ptp(Xr[:, j]) > 0]
        return rows % k, Xr[:, keep], cnt[rows], [self.X.columns[j] for j in keep]


def _model_outcome(frame: pd.DataFrame, kinds: dict[str, str], outcome: str) -> np.ndarray:
    """An outcome as a model's response: an item's scores, a sector index rounded half up (2.5 -> 3)."""
    y = frame[outcome].to_numpy()
    return np.floor(y + 0.5) if kinds[outcome] == "sector" else y


def model_design(df: pd.DataFrame, cb: Codebook, min_cell: int, gv: dict | None = None,
                 predictors: list[str] | None = None) -> ModelDesign:
    X, terms = _design(df, cb, min_cell, gv, predictors)
    ok = ~X.isna().any(axis=1).to_numpy()
    pattern = np.full(len(X), -1, dtype=np.int64)
    if ok.any() and X.shape[1]:
        patterns, inverse = _unique_rows(X.to_numpy()[ok])
        pattern[ok] = inverse
    else:
        patterns = np.zeros((0, X.shape[1]))
    return ModelDesign(X, terms, pattern, patterns)


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(a, axis=0, return_inverse=True) for a float matrix without NaN: the same
    rows in the same (lexicographic) order, through one integer key per row (each column's
    rank among its distinct values, first column most significant) instead of a sort of
    n row records; falls back to np.unique when the key would not fit in 63 bits."""
    if a.shape[1] <= 62 and bool(((a == 0.0) | (a == 1.0)).all()):
        # dummies: each column's rank is its value (0 < 1), radix 2 - no sort per column
        key = a.astype(np.int64) @ (np.int64(1) << np.arange(a.shape[1] - 1, -1, -1, dtype=np.int64))
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return a[first], inverse.ravel().astype(np.int64)
    ranks, radix = [], []
    for j in range(a.shape[1]):
        u, r = np.unique(a[:, j], return_inverse=True)
        ranks.append(r.ravel().astype(np.int64))
        radix.append(u.size)
    if float(np.prod(np.array(radix, dtype=float))) >= 2.0 ** 62:
        patterns, inverse = np.unique(a, axis=0, return_inverse=True)
        return patterns, inverse.ravel()
    key = np.zeros(a.shape[0], dtype=np.int64)
    for r, k in zip(ranks, radix):
        key = key * k + r
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return a[first], inverse.ravel().astype(np.int64)


def _odds_table(res: dict, level: float, n: int, levels: int) -> tuple[pd.DataFrame, dict]:
    return stats.odds_ratios(res, level), {"n": n, "converged": res["converged"], "n_levels": levels}


def fit_ordinal(y: np.ndarray, X: pd.DataFrame | ModelDesign, level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Fit polr on complete cases -> odds-ratio table (stats.odds_ratios: Wald intervals).

    With a ModelDesign the data are collapsed to distinct (covariate pattern, response)
    rows with their counts as frequency weights: the same likelihood, a fixed-size fit.
    """
    if isinstance(X, ModelDesign):
        ok, levels, yi = X.responses(y)
        if levels.size < 2:
            return pd.DataFrame(), {"n": int(ok.sum()), "converged": False}
        res = stats.polr_fit(*X.collapsed(ok, yi, levels.size))
        return _odds_table(res, level, int(ok.sum()), levels.size)
    ok = ~np.isnan(y) & ~X.isna().any(axis=1).to_numpy()
    yv, Xv = y[ok], X.loc[ok]
    Xv = Xv[[c for c in Xv.columns if Xv[c].nunique() > 1]]
    levels, yi = np.unique(yv, return_inverse=True)
    if levels.size < 2:
        return pd.DataFrame(), {"n": int(len(yv)), "converged": False}
    res = stats.polr_fit(yi, Xv.to_numpy(), None, list(Xv.columns))
    return _odds_table(res, level, int(len(yv)), levels.size)


def _shared_design(shared: dict | None, df: pd.DataFrame, cb: Codebook, settings: Settings, gv: dict | None,
                   predictors: list[str] | None = None) -> ModelDesign:
    """model_design, kept in `shared` (a dict one run's tables pass around) by predictor set."""
    preds = list(predictors if predictors is not None else cb.role_vars("model_predictors"))
    key = ("design", tuple(preds))
    if shared is None:
        return model_design(df, cb, settings.min_cell, gv, preds)
    if key not in shared:
        shared[key] = model_design(df, cb, settings.min_cell, gv, preds)
    return shared[key]


def _shared_outcomes(shared: dict | None, df: pd.DataFrame, cb: Codebook, settings: Settings):
    """outcomes(df, cb, settings.min_items), kept in `shared`."""
    if shared is None:
        return outcomes(df, cb, settings.min_items)
    if "outcomes" not in shared:
        shared["outcomes"] = outcomes(df, cb, settings.min_items)
    return shared["outcomes"]


def model_table(df: pd.DataFrame, cb: Codebook, settings: Settings, gv: dict | None = None,
                shared: dict | None = None) -> pd.DataFrame:
    """models.csv: proportional-odds model of each item and rounded sector index on demographics.

    `shared` (optional dict): the design and outcomes already built for this df (filled here)."""
    design = _shared_design(shared, df, cb, settings, gv)
    term_info = pd.DataFrame(design.terms)
    frame, kinds = _shared_outcomes(shared, df, cb, settings)
    frames = []
    for outcome in frame.columns:
        table, info = fit_ordinal(_model_outcome(frame, kinds, outcome), design, settings.level)
        if table.empty:
            continue
        frames.append(table.assign(outcome=outcome, outcome_type=kinds[outcome], n=info["n"],
                                   converged=info["converged"]))
    cols = ["outcome", "outcome_type", "term", "variable", "level", "reference", "odds_ratio", "ci_low", "ci_high",
            "p", "p_adj", "significant", "family", "n", "converged", "notes"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True).merge(term_info, on="term", how="left")
    out["p_adj"] = stats.p_adjust(out["p"].to_numpy(dtype=float), "BH")
    out["significant"] = out["p_adj"] < settings.fdr
    out["family"] = MODEL_FAMILY
    return _typed(out[cols], ints=["n"])


def satisfaction_model(df: pd.DataFrame, cb: Codebook, settings: Settings) -> pd.DataFrame:
    """satisfaction_model.csv: ordinal model of the satisfaction role on the sector importance indices."""
    idx = sector_indices(item_scores(df, cb), cb, settings.min_items)
    y = _float(df[cb.role_var("satisfaction")])
    table, info = fit_ordinal(y, idx, settings.level)
    cols = ["sector", "coef", "se", "odds_ratio", "ci_low", "ci_high", "p", "p_adj", "significant", "n", "converged",
            "per"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    table = table.rename(columns={"term": "sector"})
    table["p_adj"] = stats.p_adjust(table["p"].to_numpy(dtype=float), "holm")
    table["significant"] = table["p_adj"] < settings.fdr
    table["n"] = info["n"]
    table["converged"] = info["converged"]
    sc = cb.index_scale()      # the index's own scale: its meaning and range, not "importance, 1-5"
    table["per"] = f"one point of the sector's {sc.meaning} index ({sc.min}-{sc.max}), other sectors held fixed"
    return _typed(table[cols], ints=["n"])


# --- findings: the headline differences, checked -----------------------------------------

def bootstrap_rank_biserial(x: np.ndarray, y: np.ndarray, B: int = 1000, seed: int = 0,
                            level: float = 0.95) -> tuple[float, float, float]:
    """Rank-biserial r of x vs y (stats.rank_biserial) with a percentile bootstrap interval.

    Each group is resampled with replacement separately (stratified bootstrap, Efron &
    Tibshirani 1993 ch. 13); on rating scales with few distinct values the resample is drawn
    as multinomial counts over those values - the same distribution, in O(B x values).
    """
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    vals = np.unique(np.concatenate([x, y]))
    return bootstrap_rank_biserial_counts(np.bincount(np.searchsorted(vals, x), minlength=vals.size),
                                          np.bincount(np.searchsorted(vals, y), minlength=vals.size),
                                          B, seed, level)


def bootstrap_rank_biserial_counts(kx: np.ndarray, ky: np.ndarray, B: int = 1000, seed: int = 0,
                                   level: float = 0.95) -> tuple[float, float, float]:
    """bootstrap_rank_biserial of x and y given as counts over the same distinct values
    (increasing; values neither sample takes are ignored): the same three numbers."""
    kx, ky = np.asarray(kx, dtype=np.int64), np.asarray(ky, dtype=np.int64)
    present = (kx + ky) > 0
    kx, ky = kx[present], ky[present]
    nx, ny = int(kx.sum()), int(ky.sum())
    r = stats.rank_biserial_counts(kx, ky)
    if nx == 0 or ny == 0 or B <= 0:
        return r, np.nan, np.nan
    px = kx / nx
    py = ky / ny
    rng = np.random.default_rng(seed)
    cx = rng.multinomial(nx, px, size=B).astype(float)
    cy = rng.multinomial(ny, py, size=B).astype(float)
    below = np.cumsum(cy, axis=1) - cy                    # y values strictly below each value
    u = (cx * (below + 0.5 * cy)).sum(1)
    rb = 2.0 * u / (nx * ny) - 1.0
    a = (1 - level) / 2
    return r, float(np.quantile(rb, a)), float(np.quantile(rb, 1 - a))


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    u = (a | b).sum()
    return float((a & b).sum() / u) if u else 0.0


def findings_table(tests: pd.DataFrame, posthoc: pd.DataFrame, frame: pd.DataFrame, plans: dict[str, GroupPlan],
                   df: pd.DataFrame, cb: Codebook, settings: Settings, gv: dict,
                   shared: dict | None = None) -> pd.DataFrame:
    """findings.csv: the group differences a summary may state, one named pair each.

    From the significant, not negligible rank tests of the headline family: a two-group test
    names its two groups; a test of three or more groups names the Dunn pair (Holm,
    significant) with the largest mean-rank difference among groups of at least
    `min_finding_n`. A pair with a group below `min_finding_n` is not a finding. Each row
    has one effect measure (rank-biserial r of the pair, with a bootstrap interval), the
    contrast it belongs to (findings one of whose groups is largely the same respondents,
    Jaccard >= 0.6, on the same side - e.g. non-residents seen through residence, district
    and years in the city - share a contrast; `contrast_rank` 1 is the strongest of it) and whether the difference survives
    adjustment: the pair's contrast in a proportional-odds model of the outcome on the
    codebook's model predictors plus the grouping (Wald test of b_high - b_low).
    """
    cols = ["outcome", "outcome_type", "grouping", "variable", "high_group", "low_group", "n_high", "n_low",
            "test", "p_adj", "pair_test", "pair_p_adj", "effect_measure", "effect_size", "effect_ci_low",
            "effect_ci_high", "effect_label", "contrast", "contrast_rank", "adjusted_odds_ratio",
            "adjusted_ci_low", "adjusted_ci_high", "adjusted_p", "survives_adjustment", "adjusted_note"]
    if tests.empty:
        return pd.DataFrame(columns=cols)
    sig = tests[(tests["family"] == GROUP_FAMILY) & tests["test"].isin(["kruskal", "mann_whitney"])
                & (tests["p_adj"] < settings.fdr) & (tests["effect_label"].fillna("negligible") != "negligible")]
    rows, masks = [], []
    coded: dict[str, tuple] = {}
    for r in sig.itertuples():
        plan = plans[r.grouping]
        y = frame[r.outcome].to_numpy()
        m, g, levels, _ = _select(y, plan, settings.min_cell)
        idx = np.flatnonzero(m)
        if r.test == "mann_whitney":
            hi, lo, pair_p, pair_test = r.highest_group, r.lowest_group, r.p_adj, "mann_whitney"
        else:
            ph = posthoc[(posthoc["outcome"] == r.outcome) & (posthoc["grouping"] == r.grouping)
                         & (posthoc["p_adj"] < settings.fdr) & (posthoc["n1"] >= settings.min_finding_n)
                         & (posthoc["n2"] >= settings.min_finding_n)]
            if ph.empty:
                continue
            best = ph.assign(d=(ph["mean_rank1"] - ph["mean_rank2"]).abs()).sort_values(
                ["d", "group1", "group2"], ascending=[False, True, True]).iloc[0]
            up = best["mean_rank1"] >= best["mean_rank2"]
            hi, lo = (best["group1"], best["group2"]) if up else (best["group2"], best["group1"])
            pair_p, pair_test = best["p_adj"], "dunn"
        if hi not in levels or lo not in levels or hi == lo:
            continue
        in_h = np.zeros(len(y), bool)
        in_l = np.zeros(len(y), bool)
        in_h[idx[g == levels.index(hi)]] = True
        in_l[idx[g == levels.index(lo)]] = True
        if in_h.sum() < settings.min_finding_n or in_l.sum() < settings.min_finding_n:
            continue
        if r.outcome not in coded:
            coded[r.outcome] = _value_codes(y)
        values, codes = coded[r.outcome]
        est, elo, ehi = bootstrap_rank_biserial_counts(np.bincount(codes[in_h], minlength=values.size),
                                                       np.bincount(codes[in_l], minlength=values.size),
                                                       settings.bootstrap, settings.seed)
        rows.append({"outcome": r.outcome, "outcome_type": r.outcome_type, "grouping": r.grouping,
                     "variable": plan.variable, "high_group": hi, "low_group": lo, "n_high": int(in_h.sum()),
                     "n_low": int(in_l.sum()), "test": r.test, "p_adj": r.p_adj, "pair_test": pair_test,
                     "pair_p_adj": pair_p, "effect_measure": "rank_biserial", "effect_size": est,
                     "effect_ci_low": elo, "effect_ci_high": ehi,
                     "effect_label": stats.effect_label(est, "rank_biserial")})
        masks.append((in_h, in_l))
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    order = np.argsort(-out["effect_size"].abs().to_numpy(), kind="stable")
    out, masks = out.iloc[order].reset_index(drop=True), [masks[i] for i in order]
    # contrasts: the same two sets of respondents (either orientation) through any variable
    reps: list[tuple[np.ndarray, np.ndarray]] = []
    contrast = []
    for h, lo in masks:
        found = None
        for k, (rh, rl) in enumerate(reps):
            if max(_jaccard(h, rh), _jaccard(lo, rl)) >= 0.6 or max(_jaccard(h, rl), _jaccard(lo, rh)) >= 0.6:
                found = k
                break
        if found is None:
            reps.append((h, lo))
            found = len(reps) - 1
        contrast.append(found + 1)
    out["contrast"] = contrast
    out["contrast_rank"] = out.groupby("contrast").cumcount() + 1
    cache: dict = shared if shared is not None else {}   # designs by predictor set, outcomes: built once
    adj = [_adjusted_pair(df, cb, settings, gv, row, cache) for row in out.itertuples()]
    out = pd.concat([out, pd.DataFrame(adj)], axis=1)
    return _typed(out[cols], ints=["n_high", "n_low", "contrast", "contrast_rank"])


def _adjusted_pair(df: pd.DataFrame, cb: Codebook, settings: Settings, gv: dict, row,
                   cache: dict | None = None) -> dict:
    """The pair's log-odds contrast in the ordinal model with the model predictors + the grouping.

    `cache` (a dict shared by the pairs of one findings table) keeps each predictor set's
    design and the outcome frame, which do not depend on the pair."""
    preds = list(cb.role_vars("model_predictors"))
    if row.grouping not in preds:
        preds.append(row.grouping)
    none = {"adjusted_odds_ratio": np.nan, "adjusted_ci_low": np.nan, "adjusted_ci_high": np.nan,
            "adjusted_p": np.nan, "survives_adjustment": pd.NA}
    if not preds:
        return {**none, "adjusted_note": "no model predictors in the codebook"}
    cache = {} if cache is None else cache
    design = _shared_design(cache, df, cb, settings, gv, preds)
    frame, kinds = _shared_outcomes(cache, df, cb, settings)
    ok, levels, yi = design.responses(_model_outcome(frame, kinds, row.outcome))
    terms = {t["term"]: t for t in design.terms}
    th, tl = f"{row.grouping}={row.high_group}", f"{row.grouping}={row.low_group}"
    ref = next((t["reference"] for t in design.terms if t["variable"] == row.grouping), None)
    if levels.size < 2 or (th not in terms and row.high_group != ref) or (tl not in terms and row.low_group != ref):
        return {**none, "adjusted_note": "pair not estimable in the model"}
    yr, Xk, wr, names = design.collapsed(ok, yi, levels.size)
    res = stats.polr_fit(yr, Xk, wr, names)
    c = pd.Series(0.0, index=res["vcov"].index)
    for term, sign in ((th, 1.0), (tl, -1.0)):
        if term in names:
            c[term] = sign
    if not c.any():
        return {**none, "adjusted_note": "pair not estimable in the model"}
    est = float(c[names] @ res["coef"][names])
    se = float(np.sqrt(max(c.to_numpy() @ res["vcov"].to_numpy() @ c.to_numpy(), 0.0)))
    z = _st.norm.ppf(0.5 + settings.level / 2)
    p = float(2 * _st.norm.sf(abs(est / se))) if se > 0 else np.nan
    return {"adjusted_odds_ratio": math.exp(est), "adjusted_ci_low": math.exp(est - z * se),
            "adjusted_ci_high": math.exp(est + z * se), "adjusted_p": p,
            "survives_adjustment": bool(p < settings.fdr and est > 0) if not math.isnan(p) else pd.NA,
            "adjusted_note": "adjusted for " + "+".join(v for v in preds if v != row.grouping)}


# --- proportional-odds check ----------------------------------------------------------------

def po_check(df: pd.DataFrame, cb: Codebook, settings: Settings, gv: dict | None = None,
             shared: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """po_check.csv and po_partial.csv: is the proportional-odds assumption of models.csv met?

    For each outcome's model (same predictors, same complete cases) the Brant (1990) test
    (stats.brant_test, as R brant::brant) compares the slopes of the binary logits of
    y > 1, y > 2, ...; Benjamini–Hochberg over the outcomes. An outcome that violates it
    (adjusted p < fdr) is reported with a partial model: the cut-specific odds ratios of
    the binary logits for its terms whose own Brant test is significant (po_partial.csv),
    so a reader sees where the single odds ratio of models.csv does not hold.
    """
    design = _shared_design(shared, df, cb, settings, gv)
    frame, kinds = _shared_outcomes(shared, df, cb, settings)
    rows, partial = [], []
    for outcome in frame.columns:
        ok, levels, yi = design.responses(_model_outcome(frame, kinds, outcome))
        # sparse answer categories make the extreme binary logits inestimable (separation):
        # adjacent categories are merged until each holds >= 5 % of the answers (and >= min_cell)
        groups = [[lv] for lv in levels]
        counts = list(np.bincount(yi, minlength=levels.size))
        floor = max(settings.min_cell, 0.05 * ok.sum())
        while len(groups) > 2 and min(counts) < floor:
            i = int(np.argmin(counts))
            j = i + 1 if i == 0 else i - 1 if i == len(groups) - 1 else (i - 1 if counts[i - 1] <= counts[i + 1] else i + 1)
            lo, hi = min(i, j), max(i, j)
            groups[lo:hi + 1] = [groups[lo] + groups[hi]]
            counts[lo:hi + 1] = [counts[lo] + counts[hi]]
        if len(groups) < 3:
            continue
        remap = np.concatenate([[g] * len(grp) for g, grp in enumerate(groups)])
        yi = remap[yi]
        merged = "; ".join("+".join(f"{v:g}" for v in grp) for grp in groups if len(grp) > 1)
        levels = np.array([grp[-1] for grp in groups])
        K = levels.size
        yr, Xk, wr, names = design.collapsed(ok, yi, K)
        try:
            with np.errstate(all="ignore"):
                bt = stats.brant_test(yr, Xk, wr, names)
            if not np.isfinite(bt["chi2"]).all():
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            rows.append({"outcome": outcome, "outcome_type": kinds[outcome], "chi2": np.nan, "df": np.nan,
                         "p": np.nan, "n": int(ok.sum()), "terms_violating": "",
                         "notes": "binary logits not estimable" + (f"; merged {merged}" if merged else "")})
            continue
        omni = bt.iloc[0]
        per = bt.iloc[1:]
        bad = per[per["p"] < settings.fdr]["test"].tolist()
        note = [f"categories merged: {merged}" if merged else "",
                ("binary logits compared: " + ", ".join(f"y > {levels[int(c)]:g}" for c in omni["cuts"].replace(">", "").split("+"))
                 if omni["cuts"].count(">") < K - 1 else "")]
        rows.append({"outcome": outcome, "outcome_type": kinds[outcome], "chi2": omni["chi2"], "df": omni["df"],
                     "p": omni["p"], "n": int(ok.sum()), "terms_violating": "+".join(bad),
                     "notes": "; ".join(x for x in note if x)})
        if bad:
            X1 = np.column_stack([np.ones(len(yr)), Xk])
            for j in range(K - 1):
                try:
                    with np.errstate(all="ignore"):
                        b = stats._logit_fit((yr > j).astype(float), X1, wr.astype(float))
                except np.linalg.LinAlgError:
                    continue
                if not np.all(np.isfinite(b)) or np.max(np.abs(b[1:])) > 15:
                    continue
                for term in bad:
                    partial.append({"outcome": outcome, "term": term, "cut": f"> {levels[j]:g}",
                                    "odds_ratio": float(np.exp(b[1 + names.index(term)]))})
    out = pd.DataFrame(rows, columns=["outcome", "outcome_type", "chi2", "df", "p", "n", "terms_violating", "notes"])
    out["p_adj"] = stats.p_adjust(out["p"].to_numpy(dtype=float), "BH") if len(out) else []
    out["violates"] = out["p_adj"] < settings.fdr
    part = pd.DataFrame(partial, columns=["outcome", "term", "cut", "odds_ratio"])
    if len(part):
        part = part[part["outcome"].isin(out.loc[out["violates"], "outcome"])]
    return _typed(out, ints=["df", "n"]), part.reset_index(drop=True)


# --- don't know, representativeness -------------------------------------------------------

def dk_by_group(df: pd.DataFrame, cb: Codebook, settings: Settings, plans: dict[str, GroupPlan]) -> pd.DataFrame:
    """dk_by_group.csv: share of "don't know" among the rating answers, overall and by group,
    with a Kruskal–Wallis test of the per-respondent don't-know share across groups (BH
    over the groupings)."""
    dk = dont_know(df, cb).to_numpy()
    rated = ~np.isnan(item_scores(df, cb).to_numpy())
    answers = dk.sum(1) + rated.sum(1)
    per = np.where(answers > 0, dk.sum(1) / np.maximum(answers, 1), np.nan)
    rows = [{"grouping": ALL, "level": ALL, "n": int((answers > 0).sum()), "answers": int(answers.sum()),
             "dk_share": float(dk.sum() / answers.sum()) if answers.sum() else np.nan, "p": np.nan}]
    for g, plan in plans.items():
        groups = {}
        for gi, level in enumerate(plan.levels):
            sel = (plan.codes == gi) & (answers > 0)
            groups[level] = per[sel]
            rows.append({"grouping": g, "level": level, "n": int(sel.sum()), "answers": int(answers[sel].sum()),
                         "dk_share": float(dk[sel].sum() / answers[sel].sum()) if answers[sel].sum() else np.nan})
        big = {k: v for k, v in groups.items() if v.size >= settings.min_cell}
        p = stats.kruskal(big)[1] if len(big) >= 2 else np.nan
        for r in rows[-len(plan.levels):] if plan.levels else []:
            r["p"] = p
    out = pd.DataFrame(rows)
    ps = out.drop_duplicates("grouping")[["grouping", "p"]].copy()
    ps["p_adj"] = stats.p_adjust(ps["p"].to_numpy(dtype=float), "BH")
    out = out.merge(ps[["grouping", "p_adj"]], on="grouping", how="left")
    return _typed(_suppress(out, settings.min_cell, base="n"), ints=["n", "answers"])


def representativeness_table(df: pd.DataFrame, cb: Codebook, settings: Settings, wt: Weighting) -> pd.DataFrame:
    """representativeness.csv: each margin level among the in-scope respondents (the
    population's own base), the population share and the weighted share."""
    cols = ["variable", "level", "n", "sample_share", "population_share", "weighted_share", "base"]
    pop = settings.population
    if not pop:
        return pd.DataFrame(columns=cols)
    scope = in_scope_mask(df, cb)
    rows = []
    for var, levels in pop["margins"].items():
        codes = _margin_codes(df, cb, var, levels)[scope]
        known = codes.notna().to_numpy()
        total = sum(levels.values())
        w = wt.weights[scope] if wt.used else None
        for lv, t in list(levels.items()) + [(UNKNOWN, np.nan)]:
            hit = (codes == lv).to_numpy() if lv != UNKNOWN else ~known
            n = int(hit.sum())
            if lv == UNKNOWN and n == 0:
                continue
            rows.append({"variable": var, "level": lv, "n": n,
                         "sample_share": n / known.sum() if lv != UNKNOWN and known.sum() else np.nan,
                         "population_share": t / total if lv != UNKNOWN else np.nan,
                         "weighted_share": (float(w[hit & known].sum() / w[known].sum())
                                            if w is not None and lv != UNKNOWN else np.nan),
                         "base": "in_scope_known" if lv != UNKNOWN else "in_scope"})
    out = pd.DataFrame(rows, columns=cols)
    small = out["n"].between(1, settings.min_cell - 1)
    out.loc[small, ["n", "sample_share"]] = np.nan
    return _typed(out, ints=["n"])


# --- the whole stage --------------------------------------------------------------------

def build_tables(df: pd.DataFrame, cb: Codebook, settings: Settings, timings: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the stage, keyed by file stem (write them with write_tables).

    `timings`, when given a dict, receives the seconds each part took (for the benchmark).
    The key "_weights" holds data/weights.parquet's frame, not a table. BLAS runs on one
    thread: every matrix here is small, and on a busy 2-core machine two OpenBLAS threads
    spin against each other (a 3 ms model fit took 1.5 s).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        import contextlib

        def threadpool_limits(_):
            return contextlib.nullcontext()
    with threadpool_limits(1):
        return _build_tables(df, cb, settings, timings)


def _build_tables(df: pd.DataFrame, cb: Codebook, settings: Settings, timings: dict | None) -> dict[str, pd.DataFrame]:
    import time

    def timed(name, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
        return out

    check_responses(df, cb)
    df = df.reset_index(drop=True)
    # the ratings as float columns once (every table reads them through item_scores)
    df = df.assign(**{i: _float(df[i]) for i in cb.likert_items})
    shared: dict = {}                 # model designs by predictor set and the outcome frame, built once
    gv = timed("groupings", grouping_values, df, cb)
    test_plans = timed("groupings", plan_groupings, df, cb, settings.min_cell, True, gv)
    desc_plans = timed("groupings", plan_groupings, df, cb, settings.min_cell, False, gv)
    wt = timed("weights", compute_weights, df, cb, settings)
    frame, kinds = _shared_outcomes(shared, df, cb, settings)
    cut = top2_threshold(cb)
    tests, residuals = timed("group_tests", group_tests, frame, kinds, test_plans, settings.min_cell, cut, wt)
    tests = adjust_families(tests, settings.fdr)
    models = timed("models", model_table, df, cb, settings, gv, shared)
    sector_t, sector_p = timed("sector_tests", sector_tests, df, cb, settings)
    posthoc = timed("posthoc", posthoc_table, tests, frame, test_plans, settings.min_cell, settings.fdr)
    out = {
        "weighting": weighting_table(wt),
        "representativeness": representativeness_table(df, cb, settings, wt),
        "profile": timed("profile", profile_table, df, cb, settings, wt, gv),
        "items": timed("items", item_table, df, cb, settings, wt),
        "dk_by_group": timed("dk", dk_by_group, df, cb, settings, desc_plans),
        "sectors": timed("sectors", sector_table, df, cb, settings, wt),
        "tests": _typed(tests.reindex(columns=TEST_COLUMNS), ints=["df", "n", "n_groups", "min_group_n"]),
        "test_family": family_table(tests, models, settings.fdr, wt.role == "headline"),
        "posthoc": posthoc,
        "findings": timed("findings", findings_table, tests, posthoc, frame, test_plans, df, cb, settings, gv,
                          shared),
        **dict(zip(("po_check", "po_partial"), timed("po_check", po_check, df, cb, settings, gv, shared))),
        "residuals": _typed(residuals[["outcome", "outcome_type", "grouping", "level", "n", "top2_share",
                                       "adj_residual"]], ints=["n"]),
        "models": models,
        "sector_tests": sector_t,
        "sector_pairs": sector_p,
        "_weights": weights_frame(df, wt),
    }
    # sections of a role the codebook does not assign are skipped (the reports say so)
    grouping = cb.role_var("grouping")
    if grouping and grouping in gv:
        out["ranking_by_group"] = timed("ranking", ranking_by_group, df, cb, settings, grouping, gv)
    if cb.role_var("recommendation"):
        out["nps"] = timed("nps", nps_table, df, cb, settings, desc_plans)
    if cb.role_var("satisfaction"):
        out["satisfaction"] = timed("satisfaction", satisfaction_table, df, cb, settings, desc_plans)
        out["satisfaction_model"] = timed("satisfaction_model", satisfaction_model, df, cb, settings)
    return out


# --- writing ----------------------------------------------------------------------------

def _typed(df: pd.DataFrame, ints: list[str] = ()) -> pd.DataFrame:
    df = df.copy()
    for c in ints:
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").round().astype("Int64")
    return df


def _suppress(df: pd.DataFrame, min_cell: int, base: str, counts: list[str] = ()) -> pd.DataFrame:
    """Rows whose base n is below min_cell lose every estimate; small counts become NA."""
    df = df.copy()
    small = pd.to_numeric(df[base], errors="coerce").fillna(0) < min_cell
    keep_cols = {c for c in df.columns if df[c].dtype == object or c in (base,)}
    est = [c for c in df.columns if c not in keep_cols and c not in counts and pd.api.types.is_numeric_dtype(df[c])
           and not pd.api.types.is_bool_dtype(df[c])]
    df[est] = df[est].astype(float)
    df.loc[small, est] = np.nan
    df.loc[small, base] = np.nan
    for c in counts:
        v = pd.to_numeric(df[c], errors="coerce").astype(float)
        df[c] = v.where(~(v.between(1, min_cell - 1) | small), np.nan)
    df["suppressed"] = small.to_numpy()
    return df


def _format_cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        s = f"{float(v):.6g}"
        return "0" if s == "-0" else s
    return str(v)


def to_csv_text(df: pd.DataFrame) -> str:
    """Deterministic CSV: 6 significant digits, true/false, empty for NA, '\\n' line ends."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([str(c) for c in df.columns])
    cols = [df[c].astype(object).to_numpy() for c in df.columns]
    for i in range(len(df)):
        w.writerow([_format_cell(col[i]) for col in cols])
    return buf.getvalue()


def write_tables(tables: dict[str, pd.DataFrame], tables_dir: str | Path, data_dir: str | Path | None = None) -> list[Path]:
    """Write every table as <tables_dir>/<name>.csv (and the weights as data/weights.parquet)."""
    tables_dir = Path(tables_dir)
    tables_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables.items():
        if name.startswith("_"):
            continue
        path = tables_dir / f"{name}.csv"
        path.write_text(to_csv_text(df), encoding="utf-8")
        written.append(path)
    if data_dir is not None and "_weights" in tables:
        p = Path(data_dir) / "weights.parquet"
        p.parent.mkdir(parents=True, exist_ok=True)
        tables["_weights"].to_parquet(p, index=False)
        written.append(p)
    return written


# --- the report page's words from the codebook ------------------------------------------

def page_words(cb: Codebook, lang: str = "lv") -> dict[str, Any]:
    """What stage 02's page says about this survey, from the codebook (never from prose): the
    rating scale's favourable answers (labels in `lang`, else their scores), its ends and middle,
    its "don't know", items per sector, reversed items, the roles' questions and model
    predictors. Values are plain text (the page escapes them); a missing part is None."""
    from .report import grouping_label
    from .report import t

    def quoted(text: str) -> str:
        return t("ratings_nb_quote", lang, text=text)

    def point(scale, score: int) -> str:
        label = (scale.labels.get(int(score)) or {}).get(lang)
        return quoted(label) if label else str(int(score))

    def label(role: str) -> str | None:
        var = cb.role_var(role)
        return quoted(grouping_label(cb, var, lang)) if var else None

    words: dict[str, Any] = {"fav": "", "high": "", "low": "", "mid": None, "dk": None, "range": "",
                             "meaning": "other", "per_sector": None, "reversed": 0}
    if cb.likert_items:
        scale = cb.index_scale()
        fav = sorted(scale.favourable, reverse=True)
        labels = [(scale.labels.get(p) or {}).get(lang) for p in fav]
        if fav and all(labels):
            words["fav"] = ", ".join(quoted(x) for x in labels)
        elif fav:
            contiguous = fav == list(range(fav[0], fav[-1] - 1, -1))
            words["fav"] = (f"{fav[-1]}–{fav[0]}" if contiguous and len(fav) > 1
                            else ", ".join(str(p) for p in sorted(fav)))
        points = scale.points
        words.update(high=point(scale, points[-1]), low=point(scale, points[0]), range=scale.range_text,
                     meaning=scale.meaning,
                     mid=point(scale, points[len(points) // 2]) if len(points) % 2 else None,
                     dk=quoted(cb.pick(scale.dont_know, lang)) if scale.has_dont_know else None,
                     reversed=sum(bool(cb.variables[i].reverse) for i in cb.likert_items))
        sizes = {len(s.items) for s in cb.sectors.values()}
        words["per_sector"] = sizes.pop() if len(sizes) == 1 else None
    words["grouping"] = label("grouping")
    words["recommendation"] = label("recommendation")
    words["satisfaction"] = label("satisfaction")
    words["predictors"] = ", ".join(quoted(grouping_label(cb, v, lang)) for v in cb.role_vars("model_predictors"))
    return words


# --- generated surveys (tests, validity simulations and the benchmark) ------------------

GEN_SHARES = {
    "target_group": {"resident": 0.80, "future_resident": 0.07, "visitor": 0.08, "investor": 0.035, "other": 0.015},
    "age_group": {"lt18": 0.006, "18_24": 0.08, "25_34": 0.2, "35_44": 0.23, "45_54": 0.2, "55_64": 0.15,
                  "65_74": 0.09, "75plus": 0.044},
    "gender": {"female": 0.6, "male": 0.375, "undisclosed": 0.025},
    "years_in_city": {"lt1": 0.006, "1_5": 0.1, "6_10": 0.12, "gt10": 0.4, "lifelong": 0.3, "not_in_city": 0.074},
    "education": {"basic": 0.006, "secondary": 0.25, "vocational": 0.2, "higher": 0.544},
    "children": {"yes": 0.4, "no": 0.6},
}
GEN_INFO_LANGUAGE = {"lv": 0.8, "ru": 0.3, "en": 0.1, "uk": 0.01, "other": 0.004}
GEN_CUTS = (-1.9, -1.15, -0.35, 0.55)


def _draw(rng, codes: list[str], shares: dict | None, n: int) -> np.ndarray:
    p = np.array([(shares or {}).get(c, 1.0 if shares is None else 0.0) for c in codes], dtype=float)
    return np.asarray(codes, dtype=object)[rng.choice(len(codes), size=n, p=p / p.sum())]


def generate_responses(cb: Codebook, n: int, seed: int = 0, effects: list[dict] | tuple = (),
                       dk_rate: float = 0.07, skip_rate: float = 0.02) -> pd.DataFrame:
    """A responses frame in the clean stage's schema, drawn directly (no Forms files).

    Groupings follow GEN_SHARES (uniform where not listed, some levels deliberately rare so
    that merging is exercised); each item is a latent normal (respondent intercept + item
    noise + planted shifts) cut into 1..5, with "don't know" and skips. `effects` is a list
    of {"item": str, "grouping": var or "<multi>__<code>", "shift": {level: latent shift}}
    (for a multi-choice indicator the levels are "yes"/"no"). Without effects every grouping
    is independent of every rating: the complete null.
    """
    from . import schemas

    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    cols["respondent_id"] = pd.array([f"R{i:07d}" for i in range(n)], dtype="string")
    cols["source_file"] = pd.array(["generated"] * n, dtype="string")
    cols["source_row"] = pd.array(np.arange(2, n + 2), dtype="Int64")
    lang = np.where(rng.random(n) < 0.3, "ru", "lv")
    cols["form_language"] = pd.Categorical(lang, categories=list(cb.languages))
    start = pd.Timestamp("2022-01-10 08:00", tz="Europe/Riga") + pd.to_timedelta(np.arange(n) % 86400 * 40, unit="s")
    dur = rng.uniform(180, 900, n).round()
    cols["start_time"], cols["completion_time"] = start, start + pd.to_timedelta(dur, unit="s")
    cols["duration_s"] = dur
    latent_shift = np.zeros((n, len(cb.likert_items)))
    item_pos = {it: j for j, it in enumerate(cb.likert_items)}
    for v in cb.variables.values():
        if v.type == "single":
            vals = _draw(rng, v.codes, GEN_SHARES.get(v.name), n)
            vals[rng.random(n) < skip_rate] = None
            cols[v.name] = pd.Categorical(vals, categories=v.codes)
            if v.other_text:
                cols[f"{v.name}_other"] = pd.array([None] * n, dtype="string")
        elif v.type == "multi":
            skipped = rng.random(n) < skip_rate
            for c in v.codes:
                p = GEN_INFO_LANGUAGE.get(c, 0.3) if v.name == "info_language" else 0.3
                ind = pd.array(rng.random(n) < p, dtype="boolean")
                ind[skipped] = pd.NA
                cols[f"{v.name}__{c}"] = ind
            if v.other_text:
                cols[f"{v.name}_other"] = pd.array([None] * n, dtype="string")
    for eff in effects:
        g = eff["grouping"]
        if "__" in g:
            vals = np.where(cols[g].to_numpy(dtype=object, na_value=None) == True, "yes", "no")  # noqa: E712
        else:
            vals = np.asarray(cols[g].astype(object))
        shift = np.array([eff["shift"].get(x, 0.0) if isinstance(x, str) else 0.0 for x in vals])
        latent_shift[:, item_pos[eff["item"]]] += shift
    u = rng.normal(0, math.sqrt(0.35), n)
    latent = 0.2 + u[:, None] + latent_shift + rng.normal(0, math.sqrt(0.65), (n, len(cb.likert_items)))
    scores = (np.searchsorted(np.array(GEN_CUTS), latent) + 1).astype(float)
    dk = rng.random(scores.shape) < dk_rate
    skip = rng.random(scores.shape) < 0.01
    scores[dk | skip] = np.nan
    sat = np.clip(np.round(6.8 + 1.6 * u + rng.normal(0, 1.3, n)), 1, 10)
    rec = np.clip(np.round(7.2 + 2.0 * u + rng.normal(0, 1.6, n)), 0, 10)
    sat[rng.random(n) < skip_rate] = np.nan
    rec[rng.random(n) < skip_rate] = np.nan
    for role, values in (("satisfaction", sat), ("recommendation", rec)):
        if cb.role_var(role):
            cols[cb.role_var(role)] = pd.array(values, dtype="Float64").astype("Int64")
    for j, item in enumerate(cb.likert_items):
        cols[item] = pd.array(scores[:, j], dtype="Float64").astype("Int64")
        cols[f"{item}_dk"] = dk[:, j]
    cols["has_contact"] = np.zeros(n, dtype=bool)
    cols["weight"] = np.ones(n)
    names = schemas.responses_schema(cb).names
    return pd.DataFrame({c: cols[c] for c in names if c in cols})


def generated_population(cb: Codebook, official: bool = False) -> dict:
    """Margins matching GEN_SHARES but with older people and men more common than in the sample."""
    tilt = {"age_group": {"lt18": 3.0, "18_24": 1.3, "55_64": 1.3, "65_74": 1.8, "75plus": 2.5},
            "gender": {"male": 1.3}}
    margins = {}
    for var in ("age_group", "gender"):
        shares = {c: s * tilt[var].get(c, 1.0) for c, s in GEN_SHARES[var].items() if c != "undisclosed"}
        total = sum(shares.values())
        margins[var] = {c: round(67000 * s / total) for c, s in shares.items()}
    diff = sum(margins["age_group"].values()) - sum(margins["gender"].values())
    margins["gender"]["female"] += diff
    return {"path": "(generated)", "margins": margins, "source": "generated for tests and benchmarks",
            "official": official}
