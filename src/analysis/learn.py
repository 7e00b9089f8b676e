"""Learning from human coding: read a researcher's coded sample, train a supervised model per
theme, combine it with the theme dictionary, measure it by cross-validation and propose the
next texts to code.

The loop: ``python -m analysis coding-sample`` writes a sample; a person fills in the codes
(CSV or XLSX) and lists the file under ``human_coding`` in the params; stage 03 then

1. reads and validates the file (:func:`load_human_coding`) and finds each coded row among
   the proposals (:func:`match_coding`: by ``proposal_id``, else by the wording of ``text``);
2. trains, for every theme with enough coded examples, a logistic regression (scikit-learn,
   ``class_weight="balanced"``, liblinear, fixed ``random_state``) on TF-IDF weights of the
   texts' content lemmas (:func:`learn`);
3. assigns a theme when the dictionary fires **or** the model's probability reaches a
   threshold chosen by cross-validation (the threshold that maximises the F1 of that
   combination on out-of-fold predictions; "never" is a candidate, so a model that does not
   help is switched off);
4. reports precision, recall and F1 of the dictionary alone, the model alone and the
   combination by nested cross-validation (thresholds chosen inside each training part),
   pooled over the folds, with percentile bootstrap intervals (analysis.themes.agreement);
5. records for every automatic code whether the dictionary, the model or both made it, and
   ranks the texts nobody coded by how close the model's decision is (least certain first:
   the smallest distance between the probability and the threshold on the logit scale).

Folds never split texts of the same wording (duplicates would leak between folds); folds,
row order and ties are fixed, so the same inputs give the same tables byte for byte.

The sample ships a simulated human coding (``data/sample/human_coding.csv``) made by
:func:`simulate_human_coding` from the planted themes, with realistic disagreement.
"""
from __future__ import annotations

import difflib
import math
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .themes import CodingFileError

# Columns a coding file may carry besides the codes (the coding sample's own, and a coder's notes).
META_COLUMNS = ("proposal_id", "sector", "source", "question", "language", "text", "note", "notes",
                "comment", "comments", "coder", "rank", "uncertainty", "closest_theme", "probability",
                "threshold")
CODES_COLUMN = "codes"
NONE_CODES = ("-", "none", "(none)", "0")      # in a `codes` cell: coded, and no theme applies
SOURCES = ("dictionary", "model", "both")
METHODS = ("dictionary", "model", "combined")

FOLDS = 5                  # cross-validation folds (outer, and for the final threshold)
INNER_FOLDS = 3            # folds inside each outer training part (choosing its threshold)
MIN_POSITIVE = 5           # coded texts with (and without) a theme needed to train its model
C = 1.0                    # inverse regularisation strength (scikit-learn's default; 4 and 16 did no better)
RANDOM_STATE = 0           # liblinear's shuffling; folds use SEED
MAX_ITER = 1000
TOL = 1e-4                 # scikit-learn's default stopping tolerance
SEED = 2022
THRESHOLDS = tuple(round(x, 2) for x in np.arange(0.05, 0.951, 0.05))
NEVER = math.inf           # the threshold that switches a theme's model off
NEXT_TO_CODE_N = 50        # texts proposed for the next round of coding


# ====================================================================== reading coding files

def load_human_coding(paths_: Sequence[str | Path] | str | Path, dictionary) -> pd.DataFrame:
    """Read coded files (CSV or XLSX) into one frame: ``_file``, ``_row`` (the row number a
    spreadsheet shows), ``proposal_id``, ``question``, ``text`` (empty where the file has no
    such column) and one 0/1 column per theme of the dictionary.

    A file codes themes in either of two ways: one column per theme code holding 1 (present),
    0 or nothing; or one column ``codes`` holding theme codes separated by ``;`` ("-" or
    "none": no theme applies). A row with nothing coded was not coded and is left out. Rows are
    identified by ``proposal_id`` or, in files without one, by ``text`` (with ``question``
    when given). In the first way a theme without a column was not coded (NaN), so a file may
    code some themes only; a ``codes`` column codes every theme. Every problem raises
    :class:`analysis.themes.CodingFileError` naming the file, the column, the row and what was
    expected.
    """
    if isinstance(paths_, (str, Path)):
        paths_ = [paths_]
    codes = list(dictionary.codes)
    frames = [_read_one(Path(p), codes) for p in paths_]
    if not frames:
        return _empty(codes)
    out = pd.concat(frames, ignore_index=True)
    ids = out.loc[out["proposal_id"] != "", "proposal_id"]
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        rows = out.loc[dup.index]
        where = "; ".join(f"{f} row {r}" for f, r in zip(rows["_file"], rows["_row"]))
        raise CodingFileError(f"proposal {dup.iloc[0]} is coded more than once ({where}); keep one row per proposal")
    return out


def _empty(codes: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=["_file", "_row", "proposal_id", "question", "text", *codes])


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise CodingFileError(f"{path}: human-coding file not found; list existing files under `human_coding` "
                              f"in the params (paths are taken from the project folder)")
    try:
        if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            df = pd.read_excel(path, dtype=object, sheet_name=0, engine="calamine")
            return df.apply(lambda s: s.map(_cell_text))
        if suffix in (".csv", ".txt", ".tsv"):
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                               sep=_separator(path))
    except UnicodeDecodeError:
        raise CodingFileError(f"{path}: not UTF-8 text; save the CSV as UTF-8 (or as .xlsx)") from None
    except (ValueError, OSError) as exc:
        raise CodingFileError(f"{path}: cannot be read as {suffix[1:].upper()} ({exc})") from None
    raise CodingFileError(f"{path}: unknown file type {suffix!r}; expected a .csv or .xlsx file")


def _separator(path: Path) -> str:
    """The CSV's field separator, read from its header line: ',' or, as spreadsheets in
    Latvian and Russian settings save CSV, ';' (or a tab); the header holds no such character
    otherwise, whereas a `codes` cell does."""
    with open(path, encoding="utf-8-sig") as f:
        header = f.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else ","


def _cell_text(v: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold (1.0 -> "1", empty -> "")."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_one(path: Path, codes: list[str]) -> pd.DataFrame:
    df = _read_table(path)
    df.columns = [str(c).strip() for c in df.columns]
    cols = list(df.columns)
    theme_cols = [c for c in cols if c in codes]
    has_list = CODES_COLUMN in cols
    unknown = [c for c in cols if c not in codes and c not in META_COLUMNS and c != CODES_COLUMN
               and not c.startswith("Unnamed:")]
    if unknown:
        hints = [f"{c!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(c, codes, 1)) else repr(c)
                 for c in unknown]
        raise CodingFileError(f"{path}: column(s) {', '.join(hints)} are neither theme codes of the dictionary "
                              f"nor known columns; expected proposal_id (or text), then either one 0/1 column "
                              f"per theme (e.g. {codes[0]}) or a `codes` column")
    if theme_cols and has_list:
        raise CodingFileError(f"{path}: both a `codes` column and theme columns ({', '.join(theme_cols[:3])} ...); "
                              f"code the themes in one way only")
    if not theme_cols and not has_list:
        raise CodingFileError(f"{path}: no codes found; expected one 0/1 column per theme (e.g. {codes[0]}) "
                              f"or a `codes` column with theme codes separated by ';'")
    if "proposal_id" not in cols and "text" not in cols:
        raise CodingFileError(f"{path}: no proposal_id column and no text column; one of them is needed to "
                              f"find the coded proposals (columns: {', '.join(cols[:8])})")
    matrix = _parse_code_lists(path, df, codes) if has_list else _codes_from_columns(path, df, theme_cols)
    coded = matrix.notna().any(axis=1).to_numpy()
    rows = np.flatnonzero(coded)
    out = pd.DataFrame({"_file": str(path), "_row": rows + 2,
                        "proposal_id": _col(df, "proposal_id")[rows],
                        "question": _col(df, "question")[rows], "text": _col(df, "text")[rows]})
    for c in codes:               # a theme the file has no column for was not coded: NaN
        out[c] = matrix[c].fillna(0).to_numpy(dtype=float)[rows] if c in matrix else np.nan
    return out


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df:
        return np.full(len(df), "", dtype=object)
    return df[name].astype(str).str.strip().to_numpy(dtype=object)


def _codes_from_columns(path: Path, df: pd.DataFrame, theme_cols: list[str]) -> pd.DataFrame:
    """0/1 per theme column; NaN where the cell is empty (a row with every cell empty: not coded)."""
    out = {}
    for c in theme_cols:
        v = df[c].astype(str).str.strip()
        ok = v.isin(["", "0", "1"])
        if not ok.all():
            i = int(np.flatnonzero(~ok.to_numpy())[0])
            raise CodingFileError(f"{path}: column {c}, row {i + 2}{_which(df, i)}: {v.iat[i]!r}; "
                                  f"expected 1 (theme present), 0 (absent) or an empty cell")
        out[c] = v.map({"": np.nan, "0": 0.0, "1": 1.0})
    m = pd.DataFrame(out)
    coded = m.notna().any(axis=1)
    return m.where(~coded, m.fillna(0.0))


def _parse_code_lists(path: Path, df: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """0/1 per theme from the `codes` column; NaN rows where the cell is empty (not coded)."""
    rows = []
    for i, cell in enumerate(df[CODES_COLUMN].astype(str)):
        parts = [p.strip() for p in cell.strip().lstrip("'").replace(",", ";").split(";") if p.strip()]
        if not parts:
            rows.append(None)
            continue
        if len(parts) == 1 and parts[0].lower() in NONE_CODES:
            rows.append(set())
            continue
        bad = [p for p in parts if p not in codes]
        if bad:
            m = difflib.get_close_matches(bad[0], codes, 1)
            hint = f" (did you mean {m[0]!r}?)" if m else ""
            raise CodingFileError(f"{path}: column codes, row {i + 2}{_which(df, i)}: {bad[0]!r} is not a theme "
                                  f"code{hint}; expected theme codes of the dictionary separated by ';' "
                                  f"(e.g. {codes[0]};{codes[-1]}), or '-' when no theme applies")
        rows.append(set(parts))
    return pd.DataFrame({c: [np.nan if r is None else float(c in r) for r in rows] for c in codes})


def _which(df: pd.DataFrame, i: int) -> str:
    if "proposal_id" in df and str(df["proposal_id"].iat[i]).strip():
        return f" (proposal {str(df['proposal_id'].iat[i]).strip()})"
    return ""


# ====================================================================== matching

def _norm_text(s: Any) -> str:
    s = str(s)
    if s.startswith("'") and s[1:2] in ("=", "+", "-", "@", "\t", "\r"):   # undo CSV formula neutralising
        s = s[1:]
    return " ".join(s.split())


def match_coding(human: pd.DataFrame, proposals: pd.DataFrame, codes: Sequence[str]
                 ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The coded rows found among the proposals: a 0/1 frame indexed by proposal_id (sorted).

    A row is found by its ``proposal_id``; a row whose id is empty or unknown (a file coded
    on another installation, whose pseudonyms differ) by its wording: the white-space
    normalised ``text`` equal to a proposal's (in the same ``question`` when the row names
    one). A wording found in several proposals codes all of them. ``human`` may also be a
    frame indexed by proposal_id with theme columns only (the older CSV reader's shape).
    Only the themes every matched row codes are kept (a theme missing from one file is left
    out). Returns (coding, counts) with counts rows, matched_by_id, matched_by_text, unmatched,
    proposals, themes_coded. Raises CodingFileError when no row is found at all."""
    codes = list(codes)
    if "proposal_id" not in human.columns:
        human = human.reset_index().rename(columns={human.index.name or "index": "proposal_id"})
    h = human.reset_index(drop=True)
    for c in ("question", "text", "_file", "_row"):
        if c not in h:
            h[c] = ""
    ids = proposals["proposal_id"].astype(str).to_numpy()
    id_pos = {p: i for i, p in enumerate(ids)}
    question = proposals["question"].astype(str).to_numpy() if "question" in proposals else np.full(len(ids), "")
    by_text: dict[str, list[int]] = {}
    by_qtext: dict[tuple[str, str], list[int]] = {}
    for i, t in enumerate(proposals["text"].astype(str)):
        k = _norm_text(t)
        by_text.setdefault(k, []).append(i)
        by_qtext.setdefault((question[i], k), []).append(i)
    found: dict[int, tuple[np.ndarray, int]] = {}
    n_id = n_text = n_none = 0
    values = h.reindex(columns=codes).to_numpy(dtype=float)      # NaN: theme not coded in that file
    for r in range(len(h)):
        pid = str(h.at[r, "proposal_id"]).strip()
        if pid in id_pos:
            rows, n_id = [id_pos[pid]], n_id + 1
        else:
            k = _norm_text(h.at[r, "text"])
            q = str(h.at[r, "question"]).strip()
            rows = (by_qtext.get((q, k), []) if q else by_text.get(k, [])) if k else []
            if rows:
                n_text += 1
            else:
                n_none += 1
        for i in rows:
            if i in found and not np.array_equal(found[i][0], values[r], equal_nan=True):
                raise CodingFileError(f"{h.at[r, '_file']} row {h.at[r, '_row']}: proposal {ids[i]} is also coded "
                                      f"differently in row {found[i][1]}; keep one coding per proposal")
            found[i] = (values[r], h.at[r, "_row"])
    if len(h) and not found:
        raise CodingFileError(f"{', '.join(sorted(set(map(str, h['_file'])))) or 'human coding'}: none of the "
                              f"{len(h)} coded rows matches a proposal of this run (neither by proposal_id nor by "
                              f"the wording of text); was the file coded for another survey?")
    idx = sorted(found, key=lambda i: ids[i])
    coding = pd.DataFrame([found[i][0] for i in idx], columns=codes, dtype=float,
                          index=pd.Index(ids[idx], name="proposal_id"))
    coded_themes = [c for c in codes if coding[c].notna().all()]    # a theme counts where every row codes it
    coding = coding[coded_themes].astype(int)
    counts = {"rows": int(len(h)), "matched_by_id": n_id, "matched_by_text": n_text, "unmatched": n_none,
              "proposals": int(len(coding)), "themes_coded": len(coded_themes)}
    return coding, counts


# ====================================================================== the model

@dataclass
class Learned:
    """What learning produced: the combined coding (bool, indexed by proposal_id, dictionary
    order of themes), each code's source, the model probabilities and the tables."""

    coded: pd.DataFrame
    kind: np.ndarray                  # texts x themes, int8: 0 none, 1 dictionary, 2 model, 3 both
    probability: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    info: dict[str, Any] = field(default_factory=dict)
    cv_combined: pd.DataFrame | None = None

    @property
    def source(self) -> pd.DataFrame:
        """Each code's source ("", dictionary, model, both), made when asked (an object per
        text and theme: about 0.6 GB at 10^6 texts, so it is not kept)."""
        src = np.array(["", *SOURCES], dtype=object)[self.kind]
        return pd.DataFrame(src, columns=self.coded.columns, index=self.coded.index)


def _identity(x):
    return x


def features(docs: Sequence[Sequence[str]]):
    """TF-IDF (sublinear tf, l2) over each text's content lemmas, vocabulary sorted: rows in
    input order, columns independent of it."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1, dtype=np.float64)
    if not any(len(d) for d in docs):
        return None
    return vec.fit_transform(docs if isinstance(docs, list) else list(docs)).tocsr()


@dataclass
class _Model:
    """A fitted model's weights over all the features (zero where the training texts have none)."""

    coef_: np.ndarray
    intercept_: np.ndarray


def _fit(X, y: np.ndarray):
    """L2-regularised logistic regression (liblinear) of y on the features the training texts use.

    A feature no training text has gets weight 0 at the optimum (its gradient is the penalty
    alone), so it is left out of the fit and its weight set to 0: the same model, but
    liblinear's time grows with the number of features, and the vocabulary of a large corpus
    (10^5 texts: tens of thousands of lemmas) made the ~600 small fits take minutes. (The
    arithmetic runs over shorter vectors, so weights can differ from a fit over all features
    in the last bits; tests/test_learn.py bounds that, and the sample's tables are unchanged.)"""
    if y.sum() < 1 or y.sum() == len(y):
        return None
    X = X.tocsr()
    used = np.flatnonzero(np.bincount(X.indices, minlength=X.shape[1]))
    coef_used, intercept = _logistic(X[:, used], y)
    coef = np.zeros((1, X.shape[1]))
    coef[0, used] = coef_used
    return _Model(coef, intercept)


def _logistic_estimator(X, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's LogisticRegression (liblinear, balanced class weights): weights, intercept."""
    import sklearn
    from sklearn.linear_model import LogisticRegression

    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        m = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", random_state=RANDOM_STATE,
                               max_iter=MAX_ITER).fit(X, y)
    return m.coef_[0], m.intercept_


_DIRECT: dict[str, Any] = {}


def _logistic_direct(X, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same fit as `_logistic_estimator`, made by the same liblinear call with the same
    arguments, without the estimator around it (checks, label encoding, class weights through
    the array API, the random state): that wrapping was ~85 % of the ~600 small fits' time on
    the sample. What it passes: labels 0/1 as float, 'balanced' weights n / (2 n_class) computed
    as scikit-learn does, bias = intercept_scaling = 1, solver 0 (L2 logistic, primal), the seed
    liblinear gets from random_state, unit sample weights."""
    lib = _DIRECT["lib"]
    X.sum_duplicates()    # canonical order, in place, as the estimator's np.max(X) check leaves it
    n = len(y)
    y_ind = y.astype(np.float64)
    ones = np.ones(n, dtype=np.float64)
    counts = np.bincount(y.astype(np.int64), weights=ones, minlength=2)
    class_weight = np.sum(counts) / (2 * counts)
    raw, _ = lib.train_wrap(X, y_ind, True, 0, TOL, 1.0, C, class_weight, MAX_ITER, _DIRECT["seed"], 0.1, ones)
    return raw[0, :-1], 1.0 * raw[:, -1]


def _direct_ok() -> bool:
    """Whether the direct call is available and gives the estimator's weights bit for bit (checked
    once per process on a small fixed problem; any difference, or a scikit-learn whose private
    liblinear module changed, and every fit goes through the estimator)."""
    if "ok" not in _DIRECT:
        _DIRECT["ok"] = False
        try:
            import scipy.sparse as sp
            from sklearn.svm import _liblinear as lib
            from sklearn.utils import check_random_state

            lib.set_verbosity_wrap(0)
            _DIRECT["lib"] = lib
            _DIRECT["seed"] = check_random_state(RANDOM_STATE).randint(np.iinfo("i").max)
            rng = np.random.default_rng(7)
            X = sp.random(60, 25, density=0.2, format="csr", random_state=rng, dtype=np.float64)
            y = rng.random(60) < 0.3
            a, b = _logistic_direct(X, y), _logistic_estimator(X, y)
            _DIRECT["ok"] = bool(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))
        except Exception:  # noqa: BLE001 - any change in the private module: the public path
            _DIRECT["ok"] = False
    return _DIRECT["ok"]


def _logistic(X, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if _direct_ok() and X.indices.dtype == np.int32 and X.indptr.dtype == np.int32 and X.dtype == np.float64:
        return _logistic_direct(X, y)
    return _logistic_estimator(X, y)


def _proba(model, X) -> np.ndarray:
    if model is None:
        return np.zeros(X.shape[0])
    z = X @ model.coef_[0] + model.intercept_[0]        # predict_proba of a binary model, without its checks
    return 1.0 / (1.0 + np.exp(-np.asarray(z).ravel()))


def _f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = float((pred & y).sum())
    d = float(pred.sum() + y.sum())
    return 2 * tp / d if d else 0.0


def choose_threshold(p: np.ndarray, dict_hit: np.ndarray, y: np.ndarray, combine: bool = True) -> float:
    """The threshold (of THRESHOLDS, or NEVER) whose coding -- ``dict_hit | p >= t`` when
    ``combine``, else ``p >= t`` -- has the highest F1 against ``y``; ties go to the higher
    threshold (fewer codes from the model)."""
    y = y.astype(bool)
    base = dict_hit.astype(bool) if combine else np.zeros(len(y), bool)
    best_t, best_f = NEVER, _f1(base, y)
    for t in sorted(THRESHOLDS, reverse=True):
        f = _f1(base | (p >= t), y)
        if f > best_f + 1e-12:
            best_t, best_f = t, f
    return best_t


def folds(groups: Sequence[str], k: int = FOLDS, seed: int = SEED) -> np.ndarray:
    """Fold number of each row: the distinct groups (wordings) in sorted order, shuffled with
    a fixed seed and dealt round-robin, so equal texts share a fold and input order is moot."""
    groups = np.asarray([str(g) for g in groups], dtype=object)
    uniq = np.array(sorted(set(groups)), dtype=object)
    k = max(1, min(k, len(uniq)))
    perm = np.random.default_rng(seed).permutation(len(uniq))
    fold_of = {g: int(pos % k) for pos, g in zip(np.argsort(perm), uniq)}
    return np.array([fold_of[g] for g in groups], dtype=int)


def _oof(X, y: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities."""
    p = np.zeros(len(y))
    for f in np.unique(fold):
        tr, te = fold != f, fold == f
        p[te] = _proba(_fit(X[tr], y[tr]), X[te])
    return p


def _learnable(y: np.ndarray) -> bool:
    return int(y.sum()) >= MIN_POSITIVE and int(len(y) - y.sum()) >= MIN_POSITIVE


def cross_validate(X, dict_hit: np.ndarray, y: np.ndarray, groups: Sequence[str], seed: int = SEED
                   ) -> dict[str, np.ndarray]:
    """Nested cross-validation of one theme: out-of-fold codings of the dictionary, the model
    (threshold chosen in the training part) and their combination. Returns boolean arrays
    per method and the outer folds' thresholds."""
    y = y.astype(bool)
    dict_hit = dict_hit.astype(bool)
    outer = folds(groups, FOLDS, seed)
    pred = {m: np.zeros(len(y), bool) for m in METHODS}
    pred["dictionary"] = dict_hit.copy()
    thresholds = []
    g = np.asarray(groups, dtype=object)
    for f in np.unique(outer):
        tr, te = outer != f, outer == f
        if not _learnable(y[tr]):
            pred["combined"][te] = dict_hit[te]
            thresholds.append(NEVER)
            continue
        inner = folds(g[tr], INNER_FOLDS, seed + 1 + int(f))
        p_in = _oof(X[tr], y[tr], inner)
        t_comb = choose_threshold(p_in, dict_hit[tr], y[tr], True)
        t_model = choose_threshold(p_in, dict_hit[tr], y[tr], False)
        p = _proba(_fit(X[tr], y[tr]), X[te])
        pred["combined"][te] = dict_hit[te] | (p >= t_comb)
        pred["model"][te] = p >= t_model
        thresholds.append(t_comb)
    pred["thresholds"] = np.array(thresholds)
    return pred


def learn(docs: Sequence[Sequence[str]], ids: Sequence[str], dict_coded: pd.DataFrame, human: pd.DataFrame,
          codes: Sequence[str], texts: Sequence[str] | None = None, n_boot: int = 1000, boot_seed: int = 2022,
          next_n: int = NEXT_TO_CODE_N, extra: pd.DataFrame | None = None) -> Learned:
    """Train, cross-validate and apply the per-theme models.

    ``docs``: each text's content lemmas; ``ids``: their proposal ids; ``dict_coded``: the
    dictionary's coding (bool, same order as ``docs``); ``human``: the matched human coding
    (0/1, indexed by proposal_id, see :func:`match_coding`); ``texts``: the texts (their
    wording groups the folds; also written in the next-to-code table); ``extra``: columns
    (sector, source) copied into the next-to-code table.
    Tables: learn_cv (method x theme, with the macro row), learn_model (per theme: coded
    examples, thresholds, codes by source), text_codes (proposal_id, theme, source,
    probability) and next_to_code."""
    from . import themes as th

    codes = list(codes)
    ids = np.asarray([str(i) for i in ids], dtype=object)
    texts = list(texts) if texts is not None else [" ".join(d) for d in docs]
    X = features(docs)
    pos = {p: i for i, p in enumerate(ids)}
    hum = human.loc[[p for p in human.index if p in pos]]
    rows = np.array([pos[p] for p in hum.index], dtype=int)
    wording = np.array([_norm_text(texts[i]) for i in rows], dtype=object)
    order = np.lexsort((ids[rows], wording)) if len(rows) else np.array([], int)   # fitting order: by wording, id
    rows, wording = rows[order], wording[order]
    coded_themes = [c for c in codes if c in hum.columns]
    Y = hum.iloc[order].reindex(columns=codes).fillna(0).to_numpy(dtype=float) > 0
    D = dict_coded.to_numpy(dtype=bool)
    n = len(ids)
    P = np.full((n, len(codes)), np.nan)
    M = np.zeros((n, len(codes)), bool)
    cv = {m: np.zeros((len(rows), len(codes)), bool) for m in METHODS}
    model_rows = []
    for j, code in enumerate(codes):
        y = Y[:, j]
        rec = {"theme": code, "n_coded": len(rows), "n_positive": int(y.sum()), "model": False,
               "threshold": np.nan, "threshold_model_only": np.nan, "cv_thresholds": "", "note": ""}
        if code not in coded_themes:
            rec.update(n_coded=0, n_positive=0, note="not coded by people: dictionary only")
            model_rows.append(rec)
            continue
        if X is None or not _learnable(y):
            rec["note"] = f"fewer than {MIN_POSITIVE} coded texts with and without the theme: dictionary only"
            cv["dictionary"][:, j] = cv["combined"][:, j] = D[rows, j]
            model_rows.append(rec)
            continue
        Xc = X[rows]
        res = cross_validate(Xc, D[rows, j], y, wording, SEED + j)
        for m in METHODS:
            cv[m][:, j] = res[m]
        p_all = _oof(Xc, y, folds(wording, FOLDS, SEED + j))
        t = choose_threshold(p_all, D[rows, j], y, True)
        t_model = choose_threshold(p_all, D[rows, j], y, False)
        if np.isfinite(t):          # a model not in use leaves no probability behind
            P[:, j] = _proba(_fit(Xc, y), X)
            M[:, j] = P[:, j] >= t
        rec.update(model=True, threshold=t if np.isfinite(t) else np.nan,
                   threshold_model_only=t_model if np.isfinite(t_model) else np.nan,
                   cv_thresholds=";".join("never" if not np.isfinite(x) else f"{x:.2f}" for x in res["thresholds"]),
                   note="" if np.isfinite(t) else "the model does not improve on the dictionary: not used")
        model_rows.append(rec)
    coded = pd.DataFrame(D | M, columns=codes, index=pd.Index(ids, name="proposal_id"))
    kind = D.astype(np.int8) + 2 * M.astype(np.int8)          # 0 none, 1 dictionary, 2 model, 3 both
    probability = pd.DataFrame(P, columns=codes, index=coded.index)
    # cross-validated agreement of each method with the coders
    ref = pd.DataFrame(Y.astype(int), columns=codes, index=pd.Index(ids[rows], name="proposal_id"))[coded_themes]
    frames = []
    for m in METHODS:
        a = th.agreement(pd.DataFrame(cv[m], columns=codes, index=ref.index), ref, coded_themes, n_boot, boot_seed)
        a.insert(0, "method", m)
        frames.append(a)
    learn_cv = pd.concat(frames, ignore_index=True)
    model_tab = pd.DataFrame(model_rows)
    for k, s in enumerate(SOURCES, start=1):
        model_tab[f"n_{s}"] = (kind == k).sum(axis=0).astype(int)
    text_codes = _text_codes(ids, codes, kind, P)
    coded_ids = set(ids[rows])
    coded_wordings = set(wording)
    nxt = next_to_code(ids, texts, codes, D, P, model_tab["threshold"].to_numpy(dtype=float), coded_ids,
                       coded_wordings, next_n, extra, keys=docs)
    macro = learn_cv[learn_cv["theme"] == "macro"].set_index("method")["f1"]
    info = {"human_coded": int(len(rows)), "models": int(model_tab["model"].sum()),
            "models_used": int(model_tab["threshold"].notna().sum()),
            **{f"cv_macro_f1_{m}": float(macro.get(m, np.nan)) for m in METHODS}}
    cv_comb = pd.DataFrame(cv["combined"], columns=codes, index=ref.index)
    return Learned(coded, kind, probability,
                   {"learn_cv": learn_cv, "learn_model": model_tab, "text_codes": text_codes, "next_to_code": nxt},
                   info, cv_comb)


def _text_codes(ids: np.ndarray, codes: list[str], kind: np.ndarray, P: np.ndarray) -> pd.DataFrame:
    """Every automatic code, long: proposal_id, theme, source (dictionary | model | both),
    probability (the model's; empty for a theme without a model in use); sorted by proposal_id,
    then the dictionary's order of themes."""
    order = np.argsort(ids, kind="stable")
    r, c = np.nonzero(kind[order] > 0)
    rows = order[r]
    names = np.array(["", *SOURCES], dtype=object)
    return pd.DataFrame({"proposal_id": ids[rows], "theme": np.asarray(codes, dtype=object)[c],
                         "source": names[kind[rows, c]], "probability": P[rows, c]})


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def next_to_code(ids: np.ndarray, texts: Sequence[str], codes: list[str], D: np.ndarray, P: np.ndarray,
                 thresholds: np.ndarray, coded_ids: set[str], coded_wordings: set[str], n: int = NEXT_TO_CODE_N,
                 extra: pd.DataFrame | None = None, keys: Sequence[Sequence[str]] | None = None) -> pd.DataFrame:
    """The ``n`` uncoded texts whose coding is least certain: for every theme with a model in
    use whose dictionary did not fire, the distance |logit(p) - logit(threshold)|; a text's
    margin is its smallest distance (the closest call), and the smallest margins come first
    (ties: the proposal id). One text per wording and per set of ``keys[i]`` (the text's content
    lemmas, so "Ierosinājums: X" and "Mans priekšlikums: X" are one), none already coded.
    Columns: rank, proposal_id,
    (sector, source), text, closest_theme, probability, threshold, margin, then one empty
    column per theme, so the table can be coded and added to ``human_coding`` as it is."""
    use = np.isfinite(thresholds)
    cols = ["rank", "proposal_id", *(list(extra.columns) if extra is not None else []), "text", "closest_theme",
            "probability", "threshold", "margin", *codes]
    if not use.any() or not len(ids):
        return pd.DataFrame(columns=cols)
    t = np.where(use, thresholds, 0.5)
    lt = _logit(t)[None, :]
    # in blocks of rows: the distances of all texts at once would be several float64 copies of
    # the texts x themes matrix (GBs at 10^6 texts); each element is computed as before
    j = np.empty(len(ids), dtype=np.int64)
    margin = np.empty(len(ids), dtype=np.float64)
    block = 1 << 16
    for a in range(0, len(ids), block):
        b = min(len(ids), a + block)
        dist = np.abs(_logit(np.nan_to_num(P[a:b], nan=0.0)) - lt)
        dist[:, ~use] = np.inf
        dist[D[a:b]] = np.inf
        jb = np.argmin(dist, axis=1)
        j[a:b] = jb
        margin[a:b] = dist[np.arange(b - a), jb]
    cand = np.flatnonzero(np.isfinite(margin))
    cand = cand[np.lexsort((ids[cand], np.round(margin[cand], 9)))]
    seen: set[str] = set()
    picked = []
    for i in cand:                          # wordings are made only for the texts looked at
        if ids[i] in coded_ids:
            continue
        wording = _norm_text(texts[i])
        key = " ".join(sorted(set(keys[i]))) if keys is not None else wording
        if not wording or wording in coded_wordings or wording in seen or key in seen:
            continue
        seen.update((wording, key))
        picked.append(i)
        if len(picked) >= n:
            break
    picked = np.array(picked, dtype=int)
    out = pd.DataFrame({"rank": np.arange(1, len(picked) + 1), "proposal_id": ids[picked]})
    if extra is not None:
        for c in extra.columns:
            out[c] = extra[c].astype(str).to_numpy()[picked]
    out["text"] = [str(texts[i]) for i in picked]
    out["closest_theme"] = np.asarray(codes, dtype=object)[j[picked]]
    out["probability"] = P[picked, j[picked]]
    out["threshold"] = t[j[picked]]
    out["margin"] = margin[picked]
    for c in codes:
        out[c] = ""
    return out[cols]


# ====================================================================== the simulated coder

def simulate_human_coding(truth: Mapping[str, Any] | str | Path, proposals: pd.DataFrame, dictionary,
                          n: int = 300, rate: float = 0.10, seed: int = 2022) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A simulated human coding of ``n`` proposals of the synthetic sample, made from the
    planted themes (truth.json) with realistic disagreement.

    The themes and their sectors are truth.json's own list (``themes``), else the dictionary's.

    1. The proposals whose planted themes are known (analysis.proposals.planted_coding), one
       per wording, in order of (question, wording), salt-independent; ``n`` of them drawn
       with ``numpy.random.default_rng(seed)``.
    2. Disagreement: ``round(rate * L)`` of the L planted theme labels are changed, drawn with
       the same generator: 60 % are moved to another theme of the same sector (the adjacent
       themes a coder confuses; cross-cutting themes with each other), 25 % are dropped (a
       theme the coder missed), 15 % keep the label and add a same-sector neighbour. Besides,
       ``max(1, changes // 10)`` texts with no planted theme get one (a coder reading a theme
       into a vague text).
    Rows carry question, source, text (as in proposals.parquet, neutralised for spreadsheets)
    and one 0/1 column per theme the simulated coder knew (the planted themes: a theme the
    dictionary has beyond them counts as not coded), no proposal_id: pseudonymous ids depend
    on each installation's salt, the wording does not (see :func:`match_coding`).
    Returns (table, facts) with the labels changed and the resulting share.
    """
    from . import privacy
    from .proposals import planted_coding

    import json

    if not isinstance(truth, Mapping):
        truth = json.loads(Path(truth).read_text(encoding="utf-8"))
    listed = [t for t in truth.get("themes", []) if isinstance(t, Mapping) and "code" in t]
    if listed:          # the generator's own theme list: the simulation does not move with the dictionary
        codes = [str(t["code"]) for t in listed]
        sector = {str(t["code"]): str(t.get("sector", "")) for t in listed}
    else:
        codes = list(dictionary.codes)
        sector = {c: dictionary.sector_of(c) for c in codes}
    planted, _ = planted_coding(truth, proposals, codes)
    props = proposals.assign(_w=proposals["text"].map(_norm_text),
                             _q=proposals["question"].astype(str)).set_index(proposals["proposal_id"].astype(str))
    props = props.loc[planted.index]
    props = props[~props["_w"].duplicated(keep=False)]           # one proposal per wording, none ambiguous
    props = props.sort_values(["_q", "_w"], kind="mergesort")
    rng = np.random.default_rng(seed)
    n = min(n, len(props))
    take = np.sort(rng.choice(len(props), size=n, replace=False))
    chosen = props.iloc[take]
    labels = {pid: {c for c in codes if planted.at[pid, c]} for pid in chosen.index}
    pairs = [(pid, c) for pid in chosen.index for c in sorted(labels[pid], key=codes.index)]
    k = int(round(rate * len(pairs)))
    changed = {"moved": 0, "dropped": 0, "added": 0}
    for idx in np.sort(rng.choice(len(pairs), size=k, replace=False)):
        pid, c = pairs[idx]
        neighbours = [x for x in codes if sector[x] == sector[c] and x != c and x not in labels[pid]]
        u = rng.random()
        if u < 0.60 and neighbours:
            labels[pid].discard(c)
            labels[pid].add(neighbours[int(rng.integers(len(neighbours)))])
            changed["moved"] += 1
        elif u < 0.85 or not neighbours:
            labels[pid].discard(c)
            changed["dropped"] += 1
        else:
            labels[pid].add(neighbours[int(rng.integers(len(neighbours)))])
            changed["added"] += 1
    empty = [pid for pid in chosen.index if not planted.loc[pid].any()]
    for pid in (rng.choice(empty, size=min(len(empty), max(1, k // 10)), replace=False) if empty else []):
        labels[pid].add(codes[int(rng.integers(len(codes)))])
        changed["added"] += 1
    out = pd.DataFrame({"question": chosen["_q"].to_numpy(), "source": chosen["source"].astype(str).to_numpy(),
                        "text": chosen["text"].astype(str).to_numpy()})
    for c in codes:
        out[c] = [int(c in labels[p]) for p in chosen.index]
    differs = sum(1 for p in chosen.index if labels[p] != {c for c in codes if planted.at[p, c]})
    facts = {"texts": int(n), "planted_labels": len(pairs), "labels_changed": int(k), **changed,
             "texts_differing": int(differs), "share_labels_changed": k / len(pairs) if pairs else 0.0,
             "seed": seed, "rate": rate}
    return privacy.neutralise_frame(out), facts


def simulate_command(params_path: str | Path, truth: str | Path, out: str | Path, n: int = 300,
                     rate: float = 0.10, seed: int = 2022) -> int:
    """``python -m analysis coding-sample PARAMS --simulate TRUTH --n 300 --out FILE``: run the
    clean stage of PARAMS into a temporary folder, simulate a coder on its proposals and write
    the CSV (exit 0; 2 on bad input). The texts do not depend on the pseudonym salt, so the file
    is the same on every machine."""
    from . import clean, paths, themes as th

    try:
        params = paths.load_params(params_path)
        dictionary = th.load_dictionary(paths.resolve(params["themes"]))
        tpath = paths.resolve(truth)
        if not tpath.exists():
            raise FileNotFoundError(f"{tpath}: truth file not found (written by python -m analysis synth)")
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="simulate-coding-") as tmp:
        clean.run_clean(params, run_dir=tmp)
        proposals = pd.read_parquet(Path(tmp) / "data" / "proposals.parquet")
    table, facts = simulate_human_coding(tpath, proposals, dictionary, n=n, rate=rate, seed=seed)
    target = paths.resolve(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
    print(target)
    print(f"{facts['texts']} texts, {facts['labels_changed']} of {facts['planted_labels']} planted labels changed "
          f"({facts['moved']} moved to a same-sector theme, {facts['dropped']} dropped, {facts['added']} added); "
          f"{facts['texts_differing']} texts differ from the planted themes", file=sys.stderr)
    return 0
