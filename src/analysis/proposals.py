"""Stage 03, the open proposals: language, lemmas, keywords, keyness, collocations, themes,
themes by group, discovered topics, quotes and agreement, assembled as tables.

``run_stage`` takes the clean stage's ``proposals.parquet`` (already redacted) and returns
every table; ``write_tables`` writes them deterministically (sorted, rounded, respondent text
neutralised against formula injection). Each text is tokenised and lemmatised once
(:func:`build_corpus`, with a cache per word form); every table is computed from that corpus.
The figure and HTML helpers at the end serve ``notebooks/03_proposals.ipynb``.
"""
from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plots
from . import themes as th
from .report import fmt_num, fmt_p, fmt_pct, t, table_html

TEXT_LANGS = ("lv", "ru", "en")
NO_THEME = "(none)"
FLOAT_DIGITS = 6


# ============================================================================ corpus

class TokenRows(Sequence):
    """``corpus.tokens``: text i -> the list of its token entries, made on access from flat
    arrays (``flat[indptr[r]:indptr[r+1]]`` are the entry ids of distinct row r, ``row[i]`` the
    row of text i), so a corpus of millions of texts holds a few integers per token rather than
    a Python list per text. Equal to the list of lists it stands for (``==``, iteration)."""

    __slots__ = ("entries", "indptr", "flat", "row")

    def __init__(self, entries: list[tuple], indptr: np.ndarray, flat: np.ndarray, row: np.ndarray):
        self.entries, self.indptr, self.flat, self.row = entries, indptr, flat, row

    def __len__(self) -> int:
        return len(self.row)

    def row_tokens(self, r: int) -> list[tuple]:
        e = self.entries
        return [e[k] for k in self.flat[self.indptr[r]:self.indptr[r + 1]].tolist()]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.row_tokens(int(self.row[i]))

    def __iter__(self):
        for r in self.row.tolist():
            yield self.row_tokens(r)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]


@dataclass
class Corpus:
    """Every proposal tokenised and lemmatised once.

    ``tokens[i]``: the tokens of text i in order, each ``(lemma, surface, is_content, lemma_id)``
    (lower-case; ``is_content`` False for stopwords). Two markers keep the text's shape:
    ``SENTENCE_END`` (. ! ? ;), across which phrases and co-occurrences never reach, and
    ``PUNCT`` (other punctuation, numbers, URLs, redaction placeholders), which only splits
    collocations. ``vocab[lemma_id]`` is the lemma; ``content_ids(i)`` the ids of text i's
    content lemmas.
    """

    ids: list[str]
    language: list[str]
    tokens: TokenRows
    vocab: list[str] = field(default_factory=list)
    n_word_tokens: int = 0
    n_forms: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    row: np.ndarray | None = None      # text i -> its distinct (text, form language) row; equal rows, equal tokens
    n_rows: int = 0
    _surface: dict[str, str] | None = None
    _csr: tuple | None = None
    _vocab_arr: np.ndarray | None = None

    def content(self, i: int) -> list[tuple[str, str]]:
        return [(t[0], t[1]) for t in self.tokens[i] if t[2]]

    def content_lemmas(self, i: int) -> list[str]:
        return [t[0] for t in self.tokens[i] if t[2]]

    def _rows(self) -> np.ndarray:
        """text -> distinct row."""
        if self.row is None:
            self.row = self.tokens.row
            self.n_rows = len(self.tokens.indptr) - 1
        return self.row

    def _entry_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(is content, lemma id) of each token entry."""
        e = self.tokens.entries
        return (np.fromiter((bool(x[2]) for x in e), dtype=bool, count=len(e)),
                np.fromiter((x[3] for x in e), dtype=np.int64, count=len(e)))

    def _row_csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Content lemma ids of each distinct row as one flat array: (indptr, ids, and the same
        for the row's distinct ids, ascending)."""
        if self._csr is None:
            self._rows()
            tr = self.tokens
            content, lid = self._entry_arrays()
            mask = content[tr.flat]
            lens = _row_sums(mask, tr.indptr)
            ids = lid[tr.flat[mask]]
            indptr = np.concatenate([[0], np.cumsum(lens)])
            v = max(len(self.vocab), 1)
            key = np.repeat(np.arange(self.n_rows, dtype=np.int64), lens) * v + ids
            key = np.unique(key)
            uids = key % v
            ulens = np.bincount(key // v, minlength=self.n_rows)
            del key
            self._csr = (indptr, ids, np.concatenate([[0], np.cumsum(ulens)]), uids)
        return self._csr

    def content_ids(self, i: int) -> np.ndarray:
        indptr, ids, _, _ = self._row_csr()
        r = self._rows()[i]
        return ids[indptr[r]:indptr[r + 1]].astype(np.int32)

    def counts(self, rows: Iterable[int], docs: bool = True) -> tuple[dict[str, int], dict[str, int]]:
        """Token counts and (if ``docs``) document counts of content lemmas over the given texts."""
        rows = np.fromiter(rows, dtype=np.int64) if not isinstance(rows, np.ndarray) else rows.astype(np.int64)
        v = len(self.vocab)
        if not len(rows) or not v:
            return {}, {}
        indptr, ids, uptr, uids = self._row_csr()
        mult = np.bincount(self._rows()[rows], minlength=self.n_rows).astype(np.float64)
        tok = np.rint(np.bincount(ids, weights=np.repeat(mult, np.diff(indptr)), minlength=v)).astype(np.int64)
        nz = np.flatnonzero(tok)
        vocab = self.vocab
        if not docs:
            return {vocab[j]: int(tok[j]) for j in nz}, {}
        doc = np.rint(np.bincount(uids, weights=np.repeat(mult, np.diff(uptr)), minlength=v)).astype(np.int64)
        return ({vocab[j]: int(tok[j]) for j in nz}, {vocab[j]: int(doc[j]) for j in nz})

    def lemma_stream(self, texts: Sequence[int] | np.ndarray) -> list[str]:
        """The content lemmas of the given texts, text after text, each in its order."""
        flat = self._stream_ids(texts)
        if not len(flat):
            return []
        if self._vocab_arr is None:
            self._vocab_arr = np.asarray(self.vocab, dtype=object)
        return self._vocab_arr[flat].tolist()

    def _stream_ids(self, texts: np.ndarray) -> np.ndarray:
        """The content lemma ids of the given texts, text after text (lemma_stream as ids)."""
        indptr, ids, _, _ = self._row_csr()
        rows = self._rows()[np.asarray(texts, dtype=np.int64)]
        if not len(rows):
            return np.zeros(0, dtype=ids.dtype)
        starts, lens = indptr[rows], np.diff(indptr)[rows]
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
        return ids[np.arange(int(lens.sum()), dtype=np.int64) + offsets]

    def tfidf_group_scores(self, groups: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
        """analysis.text.tfidf_group_scores of each group's lemma_stream (one pseudo-document per
        group, sublinear tf, smoothed idf, l2), equal to it bit for bit, from lemma ids.

        The count matrix is the one scikit-learn's CountVectorizer makes of those streams: a
        row per group, columns in sorted lemma order, and within a row the entries in the order
        of each lemma's first occurrence across the streams (its index before the columns are
        sorted), which is the order the l2 norm sums in; TfidfTransformer then does the rest.
        Counting is done on integer ids instead of a Python list of every token (at 10^6 texts
        two scopes of ~45 million tokens each)."""
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfTransformer

        names = list(groups)
        streams = [self._stream_ids(groups[g]) for g in names]
        if not any(len(x) for x in streams):
            return {}
        v = len(self.vocab)
        # first occurrence of each lemma over the streams in group order: (group, position)
        first = np.full(v, np.iinfo(np.int64).max, dtype=np.int64)
        offset = 0
        for x in streams:
            u, pos = np.unique(x, return_index=True)
            first[u] = np.minimum(first[u], pos + offset)
            offset += len(x)
        present = np.flatnonzero(first < np.iinfo(np.int64).max)
        if self._vocab_arr is None:
            self._vocab_arr = np.asarray(self.vocab, dtype=object)
        vocab_arr = self._vocab_arr
        sorted_lemmas = sorted(vocab_arr[present].tolist())
        column = {lem: j for j, lem in enumerate(sorted_lemmas)}
        col_of = np.full(v, -1, dtype=np.int64)
        col_of[present] = [column[lem] for lem in vocab_arr[present].tolist()]
        data, indices, indptr = [], [], [0]
        for x in streams:
            counts = np.bincount(x, minlength=v)
            nz = np.flatnonzero(counts)
            nz = nz[np.argsort(first[nz], kind="stable")]          # first-occurrence order
            indices.append(col_of[nz])
            data.append(counts[nz].astype(np.float64))
            indptr.append(indptr[-1] + len(nz))
        X = sp.csr_array((np.concatenate(data), np.concatenate(indices).astype(np.int32), np.asarray(indptr)),
                         shape=(len(names), len(sorted_lemmas)), dtype=np.float64)
        matrix = TfidfTransformer(sublinear_tf=True).fit_transform(X).tocsr()
        out: dict[str, dict[str, float]] = {}
        for gi, g in enumerate(names):
            a, b = matrix.indptr[gi], matrix.indptr[gi + 1]
            for j, val in zip(matrix.indices[a:b].tolist(), matrix.data[a:b].tolist()):
                out.setdefault(g, {})[sorted_lemmas[j]] = float(val)
        return out

    def n_content(self) -> np.ndarray:
        """Number of content words of each text."""
        indptr = self._row_csr()[0]
        return np.diff(indptr)[self._rows()]

    def lemma_lists(self) -> list[list[str]]:
        """content_lemmas(i) of every text; texts of one row share one list (read it, never change it)."""
        indptr, ids, _, _ = self._row_csr()
        if self._vocab_arr is None:
            self._vocab_arr = np.asarray(self.vocab, dtype=object)
        flat = self._vocab_arr[ids].tolist()
        per_row = [flat[a:b] for a, b in zip(indptr[:-1].tolist(), indptr[1:].tolist())]
        del flat
        return [per_row[r] for r in self._rows().tolist()]

    def multiplicity(self) -> tuple[np.ndarray, np.ndarray]:
        """(first text of each distinct row, number of texts of each row)."""
        row = self._rows()
        first = np.full(self.n_rows, -1, dtype=np.int64)
        first[row[::-1]] = np.arange(len(row) - 1, -1, -1)
        return first, np.bincount(row, minlength=self.n_rows)

    @property
    def surface(self) -> dict[str, str]:
        """lemma -> its most common surface form in the whole corpus (ties: alphabetical)."""
        if self._surface is None:
            _, mult = self.multiplicity()
            tr = self.tokens
            per_entry = np.zeros(len(tr.entries), dtype=np.int64)
            step = 1 << 20
            for a in range(0, self.n_rows, step):          # in blocks of rows: bounded memory
                b = min(self.n_rows, a + step)
                lo, hi = int(tr.indptr[a]), int(tr.indptr[b])
                w = np.repeat(mult[a:b], np.diff(tr.indptr[a:b + 1]))
                per_entry += np.bincount(tr.flat[lo:hi], weights=w, minlength=len(tr.entries)).astype(np.int64)
            counts: dict[str, Counter] = {}
            for k in np.flatnonzero(per_entry).tolist():
                e = tr.entries[k]
                if e[2]:
                    c = counts.get(e[0])
                    if c is None:
                        c = counts[e[0]] = Counter()
                    c[e[1]] += int(per_entry[k])
            self._surface = {lem: th._most_common(c) for lem, c in counts.items()}
        return self._surface

    @property
    def lemmatise_tokens_per_second(self) -> float:
        s = self.seconds.get("lemmatise", 0.0)
        return self.n_word_tokens / s if s > 0 else float("nan")


def preload(params: Mapping[str, Any] | None = None) -> None:
    """Load what this stage would otherwise wait for at its first texts: the language model, the
    lemmatisers' dictionaries, the name lists quotes are checked against, scikit-learn, and with
    ``params`` (the run's ``codebook`` and ``themes``) the theme dictionary. Called by
    analysis.run.warm_up in the stage's kernel while the stage before it runs; reads none of the
    respondents' data and changes no result (the same cached loaders the stage calls)."""
    import sklearn.feature_extraction.text  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    from . import privacy, text

    for load in (text._langid_model, text._sm_dict, text._lv_aff, text._lv_dic_flags, text._morph_ru,
                 text._tokenizer, text._resource_hash, th._attested_sets, privacy._hunspell_lv,
                 privacy._lv_first_names, privacy._lv_place_forms, privacy._lv_local_place_forms,
                 privacy._morph):
        load()
    if params and params.get("themes"):
        from . import codebook as cbmod, paths

        sectors = list(cbmod.load(paths.resolve(params["codebook"])).sectors) if params.get("codebook") else None
        th.load_dictionary(paths.resolve(params["themes"]), sectors=sectors)


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Sum of ``values[indptr[r]:indptr[r+1]]`` for each row r (empty rows give 0)."""
    cs = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=cs[1:])
    return cs[indptr[1:]] - cs[indptr[:-1]]


SENTENCE_END = ("", "", False, -1)
PUNCT = ("", "", None, -1)
_SENTENCE_END_CHARS = frozenset(".!?;…")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


CORPUS_BLOCK = 20_000        # distinct texts tokenised at a time (their token lists are then dropped)


def build_corpus(texts: Sequence[str], ids: Sequence[str], fallback_language: Sequence[Any] | None = None,
                 extra_stopwords: Mapping[str, Iterable[str]] | None = None,
                 form_languages: Sequence[str] | None = None) -> Corpus:
    """Detect each text's language (analysis.text.detect_language), tokenise it
    (analysis.text.tokenize) and lemmatise every word token (analysis.text.lemmatize, with
    Latvian diacritic restoration), caching the result per (language, word form): a form is
    analysed once however often it occurs.

    The form's language (``fallback_language``) decides when detection says 'und', and for
    answers of one or two words in the form's script ("nav" is read as English otherwise).
    ``extra_stopwords`` (language -> words) adds the survey's own filler (greetings, "turklāt",
    the city's name) to analysis.text.stopwords for the word tables; theme phrases still see them.

    The detector chooses only among ``form_languages`` (the codebook's) and the languages with
    resources here (analysis.text.candidate_languages); a text in a language without a
    lemmatiser keeps its own ISO code and is counted on its lower-cased surface forms
    (stopwords removed only where a list exists). A text whose language cannot be told takes
    its form's language, else the first form language.

    Memory: texts are tokenised ``CORPUS_BLOCK`` distinct texts at a time and kept only as
    integer ids of their (language, restoration mode, word form); the corpus holds one entry per
    distinct form and an int32 per token (:class:`TokenRows`).
    """
    from . import text as tx

    allowed = tx.candidate_languages(form_languages)
    default = str(form_languages[0]).lower() if form_languages else "lv"

    # every step runs once per distinct (text, form language): generated and real consultations
    # repeat answers ("nav", "paldies", copied campaign texts), and a repeated text gets the
    # same row of tokens (shared, never modified), so the output is as if each were analysed
    t0 = time.perf_counter()
    n = len(texts)
    fbs: list[str | None] = []
    for i in range(n):
        fb = fallback_language[i] if fallback_language is not None else None
        fbs.append(fb.lower() if isinstance(fb, str) and fb.lower() in allowed else None)
    first: dict[tuple[str, str | None], int] = {}
    uniq = np.empty(n, dtype=np.int64)
    distinct: list[tuple[str, str | None]] = []
    for i, t in enumerate(texts):
        key = (t, fbs[i])
        j = first.get(key)
        if j is None:
            j = first[key] = len(distinct)
            distinct.append(key)
        uniq[i] = j
    del first, fbs

    def analyse(lo: int, hi: int) -> list:
        """Per block of distinct texts: languages, restoration modes, the block's distinct
        (language, restore, token) forms in order of first occurrence, and each text's tokens
        as ids into them."""
        out = []
        for b in range(lo, hi, CORPUS_BLOCK):
            block = distinct[b:min(hi, b + CORPUS_BLOCK)]
            token_lists = [tx.tokenize(t) for t, _ in block]
            got: list[str | None] = []
            ask = []
            for k, ((t, fb), toks) in enumerate(zip(block, token_lists)):
                n_words = sum(1 for tok in toks if tok[:1].isalpha())
                if fb and n_words <= 2 and bool(_CYRILLIC.search(t)) == (fb in tx._CYRILLIC_SCRIPT):
                    got.append(fb)
                else:
                    got.append(None)
                    ask.append(k)
            found = tx.detect_languages([block[k][0] for k in ask], allowed, [token_lists[k] for k in ask])
            for k, lang in zip(ask, found):
                fb = block[k][1]
                got[k] = (fb or default) if lang == "und" else lang
            # diacritics are restored only in a Latvian text typed without any
            # (analysis.text._should_restore; "prieks" stays prieks, "velo" velo)
            restores = [lang != "lv" or tx._should_restore(toks) for lang, toks in zip(got, token_lists)]
            local: dict[tuple[str, bool, str], int] = {}
            flat: list[int] = []
            lens = np.empty(len(block), dtype=np.int64)
            for k, (lang, restore, toks) in enumerate(zip(got, restores, token_lists)):
                for tok in toks:
                    key = (lang, restore, tok)
                    j = local.get(key)
                    if j is None:
                        j = local[key] = len(local)
                    flat.append(j)
                lens[k] = len(toks)
            out.append((got, restores, list(local), np.asarray(flat, dtype=np.int32), lens))
        return out

    blocks = in_chunks(analyse, len(distinct))
    t1 = time.perf_counter()
    # every distinct form of every (language, restoration mode) in order of first occurrence
    form_id: dict[tuple[str, bool, str], int] = {}
    forms: list[tuple[str, bool, str]] = []
    d_langs: list[str] = []
    flat_parts, len_parts = [], []
    for got, _restores, local_forms, flat_b, lens_b in blocks:
        remap = np.empty(len(local_forms), dtype=np.int32)
        for j, key in enumerate(local_forms):
            g = form_id.get(key)
            if g is None:
                g = form_id[key] = len(forms)
                forms.append(key)
            remap[j] = g
        flat_parts.append(remap[flat_b])
        len_parts.append(lens_b)
        d_langs.extend(got)
    del blocks, form_id
    flat = np.concatenate(flat_parts) if flat_parts else np.zeros(0, dtype=np.int32)
    row_len = np.concatenate(len_parts) if len_parts else np.zeros(0, dtype=np.int64)
    del flat_parts, len_parts
    indptr = np.zeros(len(row_len) + 1, dtype=np.int64)
    np.cumsum(row_len, out=indptr[1:])
    langs = [d_langs[j] for j in uniq.tolist()]
    t2 = time.perf_counter()
    present = list(dict.fromkeys(list(TEXT_LANGS) + d_langs))
    extra = {lang: frozenset(w.lower() for w in (extra_stopwords or {}).get(lang, ())) for lang in present}
    sw = {lang: tx.stopwords(lang) | extra[lang] for lang in present}
    is_word = [tx.is_word(tok) for _, _, tok in forms]
    need = [k for k, (lang, _, _) in enumerate(forms) if is_word[k] and lang in tx.LEMMATISED]
    tn = time.perf_counter()

    def lemmatise(lo: int, hi: int) -> list:
        mark = tx.lemmas_learned()
        got = [tx.lemmatize(forms[k][2], forms[k][0], forms[k][1]).lower() for k in need[lo:hi]]
        return [(got, tx.lemmas_learned(mark))]

    lemmas: dict[int, str] = {}
    pos = 0
    for got, learned in in_chunks(lemmatise, len(need)):
        lemmas.update(zip(need[pos:pos + len(got)], got))
        pos += len(got)
        tx.remember_lemmas(learned)          # what worker processes analysed, for the cache on disk
    t_new = time.perf_counter() - tn
    # the entries, one per form, lemma ids numbered in order of first occurrence (as form after
    # form gives them)
    lemma_ids: dict[str, int] = {}
    entries: list[tuple] = []
    for k, (lang, restore, tok) in enumerate(forms):
        if not is_word[k]:
            e = SENTENCE_END if tok in _SENTENCE_END_CHARS else PUNCT
        else:
            low = tok.lower()
            lem = lemmas[k] if k in lemmas else low
            e = (lem, low, low not in sw[lang] and lem not in sw[lang] and len(lem) >= 2,
                 lemma_ids.setdefault(lem, len(lemma_ids)))
        entries.append(e)
    del lemmas
    forms.clear()
    tx.save_lemma_cache()
    word_entry = np.fromiter((e[3] >= 0 for e in entries), dtype=bool, count=len(entries))
    row_words = _row_sums(word_entry[flat], indptr)
    n_words = int(row_words[uniq].sum()) if n else 0
    t3 = time.perf_counter()
    vocab = [""] * len(lemma_ids)
    for lem, j in lemma_ids.items():
        vocab[j] = lem
    return Corpus(ids=[str(i) for i in ids], language=langs, tokens=TokenRows(entries, indptr, flat, uniq),
                  vocab=vocab, n_word_tokens=n_words, n_forms=int(word_entry.sum()),
                  seconds={"tokenise": t1 - t0, "language": t2 - t1, "lemmatise": t3 - t2,
                           "lemmatise_new_forms": t_new}, row=uniq, n_rows=len(row_len))


# ============================================================================ worker processes

PARALLEL_MIN = 10_000        # fewer items than this: one process (the sample never forks)
_TASK: dict[str, Any] = {}


def workers(n_items: int) -> int:
    """Worker processes for ``n_items`` independent items: ANALYSIS_WORKERS when set (1 = none),
    else up to 2 (the machine's cores) from PARALLEL_MIN items on, where a fork pays."""
    import os

    env = os.environ.get("ANALYSIS_WORKERS", "").strip()
    if env:
        if not env.isdigit():
            raise ValueError(f"ANALYSIS_WORKERS={env!r}: expected a whole number of worker processes (1 = none)")
        return max(1, int(env))
    if n_items < PARALLEL_MIN or not hasattr(os, "fork"):
        return 1
    return max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _run_task(lo: int, hi: int) -> list:
    return _TASK["fn"](lo, hi)


def in_chunks(fn, n_items: int, n_workers: int | None = None) -> list:
    """``fn(lo, hi)`` (a list for items lo..hi-1) over all items, the lists joined in item order.
    With several workers, forked processes (which inherit the loaded resources and the data)
    each take contiguous chunks; the result is the same list in the same order as one process
    makes, since every item is computed by the same function of the same inputs."""
    k = workers(n_items) if n_workers is None else n_workers
    if k <= 1 or n_items < 2:
        return fn(0, n_items)
    import multiprocessing as mp

    n_chunks = min(n_items, 4 * k)
    bounds = [(n_items * c // n_chunks, n_items * (c + 1) // n_chunks) for c in range(n_chunks)]
    _TASK["fn"] = fn
    try:
        with mp.get_context("fork").Pool(k) as pool:
            parts = pool.starmap(_run_task, bounds, chunksize=1)
    finally:
        _TASK.pop("fn", None)
    return [x for part in parts for x in part]


# ============================================================================ helpers

def _scope(proposals: pd.DataFrame) -> pd.Series:
    """The sector of the question; 'other' for the free question, 'email' for e-mails."""
    sector = proposals["sector"].astype("string")
    q = proposals["question"].astype(str)
    fill = np.where(q == "email", "email", "other")
    return sector.fillna(pd.Series(fill, index=proposals.index)).astype(str)


def _finish(df: pd.DataFrame, sort: Sequence[str], ascending: Sequence[bool] | bool = True) -> pd.DataFrame:
    """Sorted (stable), floats rounded, index reset: the same inputs give the same bytes."""
    out = df.sort_values(list(sort), ascending=ascending, kind="mergesort") if len(df) else df
    out = out.reset_index(drop=True)
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c].dtype):
            out[c] = out[c].astype("float64").round(FLOAT_DIGITS)
    return out


def merge_map(cb, variable: str) -> dict[str, str]:
    """code -> reported group: the codebook's merges (e.g. age bands lt18+18_24 -> lt25)."""
    if cb is None or variable not in cb.variables:
        return {}
    out = {}
    for group, spec in cb.variables[variable].merge.items():
        for code in spec.get("codes", []):
            out[code] = group
    return out


def excluded_from_tests(cb, variable: str) -> set[str]:
    if cb is None or variable not in cb.variables:
        return set()
    return {o.code for o in cb.variables[variable].options if o.exclude_from_tests}


def groupings(cb) -> list[str]:
    """The groupings of the theme tables: the codebook's ``text_groupings`` role (none
    without a codebook; the notebook then says the section is skipped)."""
    return cb.role_vars("text_groupings") if cb is not None else []


def keyness_comparisons(cb) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(variable, group A, group B) pairs of the codebook's ``keyness_contrasts`` role, and the
    text groupings no contrast names, whose groups are each compared with all the others
    (e.g. each age band with the other bands)."""
    if cb is None:
        return [], []
    pairs = cb.keyness_contrasts()
    named = {v for v, _, _ in pairs}
    return pairs, [g for g in groupings(cb) if g not in named]


def respondent_groups(proposals: pd.DataFrame, cb=None) -> pd.DataFrame:
    """One row per survey respondent who wrote a proposal, with the codebook's text groupings
    (merged as the codebook says, e.g. age bands lt18 + 18_24 -> lt25)."""
    survey = proposals[proposals["source"].astype(str) == "survey"]
    cols = [g for g in groupings(cb) if g in survey.columns]
    grp = survey.groupby(survey["respondent_id"].astype(str), sort=True)[cols].first()
    for g in cols:
        m = merge_map(cb, g)
        s = grp[g].astype("string")
        grp[g] = s.map(lambda v: m.get(v, v) if isinstance(v, str) else v).astype("string")
    return grp


def excluded_ids(quarantine: pd.DataFrame | None, proposals: pd.DataFrame) -> set[str]:
    """Ids that must never be quoted: respondents of quarantined form rows. (An e-mail
    respondent id is the sender's pseudonym, shared by a kept message and its quarantined
    duplicate; quarantined messages themselves never reach proposals.parquet, which
    :func:`analysis.themes.assert_not_excluded` checks.)"""
    if quarantine is None or not len(quarantine):
        return set()
    email_files = set(proposals.loc[proposals["source"].astype(str) == "email", "source_file"].astype(str))
    is_form = ~quarantine["source_file"].astype(str).isin(email_files)
    if "form_language" in quarantine:
        is_form &= quarantine["form_language"].notna() | ~quarantine["source_file"].astype(str).str.endswith(
            (".mbox", ".eml"))
    return set(quarantine.loc[is_form, "respondent_id"].astype(str))


# ============================================================================ tables: words

def language_mix(proposals: pd.DataFrame, corpus: Corpus) -> pd.DataFrame:
    """source, language (detected in the text), n."""
    df = pd.DataFrame({"source": proposals["source"].astype(str).to_numpy(), "language": corpus.language})
    out = df.groupby(["source", "language"]).size().rename("n").reset_index()
    return _finish(out, ["source", "language"])


def keywords(proposals: pd.DataFrame, corpus: Corpus, top_n: int = 15) -> pd.DataFrame:
    """Lemma frequencies and TF-IDF (analysis.text.tfidf_keywords on the corpus's lemmas) per
    sector (of the question; 'other' = the free question) and per source (survey / email), and
    over all texts. A lemma is kept when it is among the ``top_n`` of its group by count or by
    TF-IDF (TF-IDF compares the groups of one scope, so scope 'all' has none). Columns: scope,
    group, lemma, surface, count, doc_count, n_docs, tfidf, rank_count, rank_tfidf."""
    scope = _scope(proposals).to_numpy()
    source = proposals["source"].astype(str).to_numpy()
    scopes = {
        "sector": {s: np.flatnonzero(scope == s) for s in sorted(set(scope) - {"email"})},
        "source": {s: np.flatnonzero(source == s) for s in sorted(set(source))},
        "all": {"all": np.arange(len(proposals))},
    }
    from . import text as tx

    surface = corpus.surface
    rows = []
    for scope_name, groups in scopes.items():
        counted = {g: corpus.counts(idx) for g, idx in groups.items()}
        tfidf: dict[str, dict[str, float]] = {}
        if scope_name != "all":
            # each group's content lemmas in text order (as analysis.text.tfidf_keywords joins them)
            tfidf = corpus.tfidf_group_scores(groups)
        for g, (count, docs) in counted.items():
            by_count = sorted(count, key=lambda k: (-count[k], k))[:top_n]
            tf = tfidf.get(g, {})
            by_tfidf = sorted(tf, key=lambda k: (-round(tf[k], 12), k))[:top_n]
            rank_c = {k: r + 1 for r, k in enumerate(by_count)}
            rank_t = {k: r + 1 for r, k in enumerate(by_tfidf)}
            for lem in sorted(set(by_count) | set(by_tfidf)):
                rows.append({"scope": scope_name, "group": g, "lemma": lem, "surface": surface.get(lem, lem),
                             "count": int(count[lem]), "doc_count": int(docs[lem]), "n_docs": int(len(groups[g])),
                             "tfidf": tf.get(lem, np.nan), "rank_count": rank_c.get(lem, pd.NA),
                             "rank_tfidf": rank_t.get(lem, pd.NA)})
    cols = ["scope", "group", "lemma", "surface", "count", "doc_count", "n_docs", "tfidf", "rank_count", "rank_tfidf"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("rank_count", "rank_tfidf"):
        out[c] = out[c].astype("Int64")
    return _finish(out, ["scope", "group", "count", "lemma"], [True, True, False, True])


def keyness_tables(proposals: pd.DataFrame, corpus: Corpus, cb=None, min_cell: int = 10, fdr: float = 0.05,
                   min_freq: int = 5, top_n: int = 25) -> pd.DataFrame:
    """Keyness of lemmas between groups of respondents (analysis.text.keyness: Rayson &
    Garside's log-likelihood G2, Hardie's log ratio, Benjamini–Hochberg within a comparison),
    computed within one text language at a time, since lemmas of different languages are not
    comparable: the codebook's ``keyness_contrasts`` (group A vs group B of one variable), and
    each group of a text grouping no contrast names vs all its other groups
    (:func:`keyness_comparisons`). A group needs ``min_cell``
    respondents writing in that language; lemmas need ``min_freq`` occurrences in both groups
    together. Kept: significant lemmas (adjusted p < fdr), the ``top_n`` by G2 per direction
    ("more": the target group uses the word more often, "less": less often).
    """
    from . import text as tx

    survey = np.flatnonzero(proposals["source"].astype(str).to_numpy() == "survey")
    resp = proposals["respondent_id"].astype(str).to_numpy()
    lang = np.asarray(corpus.language)
    comparisons = []
    pairs, bands = keyness_comparisons(cb)
    for grouping, a, b in pairs:
        if grouping in proposals:
            comparisons.append((grouping, a, {a}, b, {b}))
    for grouping in bands:
        if grouping in proposals:
            m = merge_map(cb, grouping)
            codes = proposals[grouping].astype("string").map(lambda v: m.get(v, v) if isinstance(v, str) else v)
            bands = sorted(set(codes.dropna().astype(str)))
            for band in bands:
                comparisons.append((grouping, band, {band}, "other_bands", set(bands) - {band}))
    surface = corpus.surface
    frames = []
    reported = {}
    for grouping in {c[0] for c in comparisons}:
        m = merge_map(cb, grouping)
        codes = proposals[grouping].astype("string").fillna("")
        reported[grouping] = codes.map(lambda v: m.get(v, v)).to_numpy(dtype=object)
    for grouping, a_name, a_set, b_name, b_set in comparisons:
        values = reported[grouping]
        for language in text_languages(corpus):
            in_lang = survey[lang[survey] == language]
            ia = in_lang[np.isin(values[in_lang], list(a_set))]
            ib = in_lang[np.isin(values[in_lang], list(b_set))]
            if len(set(resp[ia])) < min_cell or len(set(resp[ib])) < min_cell:
                continue
            ca, _ = corpus.counts(ia, docs=False)
            cbn, _ = corpus.counts(ib, docs=False)
            k = tx.keyness(ca, cbn, min_freq=min_freq)
            if not len(k):
                continue
            k = k[k["p_bh"] < fdr]
            k = k.assign(direction=k["direction"].map({"+": "more", "-": "less"}))
            k = k.sort_values(["direction", "g2", "lemma"], ascending=[True, False, True], kind="mergesort")
            k = k.groupby("direction", sort=True).head(top_n)
            k.insert(0, "comparison", grouping)
            k.insert(1, "language", language)
            k.insert(2, "target", a_name)
            k.insert(3, "reference", b_name)
            k.insert(5, "surface", k["lemma"].map(lambda x: surface.get(x, x)))
            k["n_resp_target"] = len(set(resp[ia]))
            k["n_resp_reference"] = len(set(resp[ib]))
            frames.append(k)
    cols = ["comparison", "language", "target", "reference", "lemma", "surface", "freq_target", "freq_reference",
            "rel_target", "rel_reference", "g2", "log_ratio", "direction", "p", "p_adj", "n_resp_target",
            "n_resp_reference"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True).rename(columns={"p_bh": "p_adj"})[cols]
    return _finish(out, ["comparison", "language", "target", "direction", "g2", "lemma"],
                   [True, True, True, True, False, True])


def collocation_table(proposals: pd.DataFrame, corpus: Corpus, min_count: Mapping[Any, int] | None = None,
                      top_n: int = 25, measure: str = "llr") -> pd.DataFrame:
    """Two- and three-word collocations per text language: language, n, lemmas, surface,
    score, count. The scores of analysis.text.collocations (NLTK's association measures,
    Dunning's likelihood ratio by default, on lemmas; n-grams never cross a stopword,
    punctuation or a text boundary; a minimum count) on the corpus's runs of content words
    (:func:`_segments`), counted on integer arrays of lemma ids instead of Python tuples
    (:func:`_ngram_table`: equal to analysis.text._ngram_associations, tested)."""
    min_count = {int(k): int(v) for k, v in (min_count or {2: 5, 3: 3}).items()}
    frames = []
    lang = np.asarray(corpus.language, dtype=object)
    runs = _run_rows(corpus) if len(corpus.language) else None
    for language in text_languages(corpus):
        seq = _gather_rows(*runs, corpus._rows()[np.flatnonzero(lang == language)])
        if not len(seq):
            continue
        for n in (2, 3):
            c = _ngram_table(seq, corpus, n, min_count.get(n, 3), measure, top_n)
            if len(c):
                c.insert(0, "language", language)
                c.insert(1, "n", n)
                frames.append(c)
    cols = ["language", "n", "lemmas", "surface", "score", "count"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)[cols]
    return _finish(out, ["language", "n", "score", "lemmas"], [True, True, False, True])


def _run_rows(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct row, the entry ids of its runs of content words (:func:`_segments`), each run
    followed by -1 (a separator): (indptr, ids)."""
    tr = corpus.tokens
    content, _ = corpus._entry_arrays()
    mask = content[tr.flat]
    n_pos = len(mask)
    starts_row = np.zeros(n_pos + 1, dtype=bool)
    starts_row[tr.indptr] = True
    nxt = np.zeros(n_pos, dtype=bool)
    nxt[:-1] = mask[1:]
    nxt &= ~starts_row[1:]
    ends = mask & ~nxt                          # a content word whose run ends after it
    where = np.flatnonzero(mask)
    e = ends[where]
    ce = np.cumsum(e, dtype=np.int64)
    seq = np.empty(len(where) + (int(ce[-1]) if len(ce) else 0), dtype=np.int32)
    pos = np.arange(len(where), dtype=np.int64) + ce - e
    seq[pos] = tr.flat[where]
    seq[pos[e] + 1] = -1
    per_row = _row_sums(mask, tr.indptr) + _row_sums(ends, tr.indptr)
    return np.concatenate([[0], np.cumsum(per_row)]), seq


def _gather_rows(indptr: np.ndarray, flat: np.ndarray, rows: np.ndarray, block: int = 1 << 18) -> np.ndarray:
    """``flat[indptr[r]:indptr[r+1]]`` of the given rows, one after the other."""
    lens = np.diff(indptr)[rows]
    out = np.empty(int(lens.sum()), dtype=flat.dtype)
    at = 0
    for a in range(0, len(rows), block):
        r, ln = rows[a:a + block], lens[a:a + block]
        m = int(ln.sum())
        offsets = np.repeat(indptr[r] - np.concatenate([[0], np.cumsum(ln)[:-1]]), ln)
        out[at:at + m] = flat[np.arange(m, dtype=np.int64) + offsets]
        at += m
    return out


class _Tally:
    """Distinct tuples of integer columns (values < base) with their counts, and counts looked up
    for given tuples: one int64 key per tuple where it fits (sorted, searched), else a dict."""

    def __init__(self, cols: list[np.ndarray], base: int):
        self.base, self.k = base, len(cols)
        self.packed = base ** len(cols) < 2 ** 62
        if self.packed:
            key = cols[0].astype(np.int64)
            for c in cols[1:]:
                key = key * base + c
            self.keys, self.counts = np.unique(key, return_counts=True)
            parts = []
            u = self.keys
            for _ in cols:
                parts.append(u % base)
                u = u // base
            self.rows = np.stack(parts[::-1], axis=1)
        else:
            self.rows, self.counts = np.unique(np.stack(cols, axis=1), axis=0, return_counts=True)
            self._dict: dict | None = None

    def lookup(self, want: np.ndarray) -> np.ndarray:
        """Counts of the rows of ``want`` (0 where absent)."""
        if self.packed:
            key = want[:, 0].astype(np.int64)
            for j in range(1, self.k):
                key = key * self.base + want[:, j]
            at = np.clip(np.searchsorted(self.keys, key), 0, max(len(self.keys) - 1, 0))
            hit = self.keys[at] == key if len(self.keys) else np.zeros(len(key), dtype=bool)
            return np.where(hit, self.counts[at] if len(self.keys) else 0, 0)
        if self._dict is None:
            self._dict = dict(zip(map(tuple, self.rows.tolist()), self.counts.tolist()))
        return np.array([self._dict.get(tuple(r), 0) for r in want.tolist()], dtype=np.int64)


def _ngram_table(seq: np.ndarray, corpus: Corpus, n: int, min_count: int, measure: str,
                 top_n: int) -> pd.DataFrame:
    """analysis.text._ngram_associations on a sequence of entry ids (-1 = the separator after a
    run): the same counts, the same measures called with the same integers, so the same table."""
    import heapq

    from . import text as tx

    entries = corpus.tokens.entries
    _, lid = corpus._entry_arrays()
    vocab = corpus.vocab
    sep = len(vocab)
    base = sep + 1
    lem = np.where(seq >= 0, lid[np.maximum(seq, 0)], sep)
    total = len(lem)
    word_fd = np.bincount(lem, minlength=base).tolist()
    pair_tally = _Tally([lem[:-1], lem[1:]], base)
    pairs, pair_n = pair_tally.rows, pair_tally.counts
    if n == 2:
        fn = tx._bigram_llr if measure == "llr" else tx._bigram_pmi
        ok = (pair_n >= min_count) & (pairs[:, 0] != sep) & (pairs[:, 1] != sep)
        grams, freq = pairs[ok], pair_n[ok]
        scored = ((tuple(vocab[x] for x in g), fn(c, (word_fd[g[0]], word_fd[g[1]]), total), g, c)
                  for g, c in zip(grams.tolist(), freq.tolist()))
    else:
        fn = tx._trigram_llr if measure == "llr" else tx._trigram_pmi
        tri = _Tally([lem[:-2], lem[1:-1], lem[2:]], base)
        triples, tri_n = tri.rows, tri.counts
        del tri
        ok = (tri_n >= min_count) & (triples != sep).all(axis=1)
        grams, freq = triples[ok], tri_n[ok]
        n_ab = pair_tally.lookup(grams[:, [0, 1]]).tolist()
        n_ac = _Tally([lem[:-2], lem[2:]], base).lookup(grams[:, [0, 2]]).tolist()
        n_bc = pair_tally.lookup(grams[:, [1, 2]]).tolist()
        scored = ((tuple(vocab[x] for x in g), fn(c, (ab, ac, bc), (word_fd[g[0]], word_fd[g[1]], word_fd[g[2]]),
                                                   total), g, c)
                  for g, c, ab, ac, bc in zip(grams.tolist(), freq.tolist(), n_ab, n_ac, n_bc))
    top = heapq.nsmallest(top_n, scored, key=lambda x: (-x[1], x[0]))
    columns = ["lemmas", "surface", "score", "count"]
    if not top:
        return pd.DataFrame(columns=columns)
    # the most common surface sequence of each n-gram, over its occurrences
    windows = [lem[j:total - n + 1 + j] for j in range(n)]
    rows = []
    for ng, score, g, c in top:
        at = np.flatnonzero(np.logical_and.reduce([w == x for w, x in zip(windows, g)]))
        forms = _Tally([seq[at + j].astype(np.int64) for j in range(n)], len(entries))
        surf: Counter = Counter()
        for f, k in zip(forms.rows.tolist(), forms.counts.tolist()):
            surf[" ".join(entries[x][1] for x in f)] += k
        rows.append((" ".join(ng), min(surf.items(), key=lambda kv: (-kv[1], kv[0]))[0], float(score), int(c)))
    return pd.DataFrame(rows, columns=columns)


def text_languages(corpus: Corpus) -> list[str]:
    """The text languages of the corpus: Latvian, Russian and English first (when present), then
    the others in alphabetical order."""
    present = set(corpus.language)
    return [x for x in TEXT_LANGS if x in present] + sorted(present - set(TEXT_LANGS))


def _segments(corpus: Corpus, rows: Iterable[int]) -> list[list[tuple[str, str]]]:
    """Runs of content words (lemma, surface) between stopwords, punctuation and text ends."""
    out = []
    for i in rows:
        seg: list[tuple[str, str]] = []
        for t in corpus.tokens[i]:
            if t[2]:
                seg.append((t[0], t[1]))
            elif seg:
                out.append(seg)
                seg = []
        if seg:
            out.append(seg)
    return out


# ============================================================================ tables: themes

def theme_overview(coded: pd.DataFrame, proposals: pd.DataFrame, dictionary: th.Dictionary,
                   min_cell: int = 0) -> pd.DataFrame:
    """theme, sector_of_theme, n (texts), share, n_texts (all texts), n_respondents, and the
    same by source (n_survey, share_survey, n_email, share_email); a last row "(none)" counts
    the texts no theme caught."""
    source = proposals["source"].astype(str).to_numpy()
    resp = proposals["respondent_id"].astype(str).to_numpy()
    n_texts = len(coded)
    rows = []
    none = ~coded.to_numpy(dtype=bool).any(axis=1) if n_texts else np.zeros(0, bool)
    for code in dictionary.codes + [NO_THEME]:
        col = none if code == NO_THEME else coded[code].to_numpy(dtype=bool)
        row = {"theme": code, "sector_of_theme": "" if code == NO_THEME else dictionary.sector_of(code),
               "n": int(col.sum()),
               "share": col.sum() / n_texts if n_texts else np.nan, "n_texts": n_texts,
               "n_respondents": len(set(resp[col]))}
        for src in ("survey", "email"):
            sel = source == src
            row[f"n_{src}"] = int(col[sel].sum())
            row[f"share_{src}"] = col[sel].sum() / sel.sum() if sel.sum() else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    if min_cell and not out.empty:
        # counts by source add up to the published n: withhold small ones (and one more, so
        # that a withheld count is never n minus the other), with their shares
        from .ratings import suppress_small_cells

        out = suppress_small_cells(out, int(min_cell), ["n_survey", "n_email"], total="n",
                                   linked={"share_survey": ["n_survey"], "share_email": ["n_email"]})
        out = out.drop(columns=["cells_suppressed"], errors="ignore")
        for c in ("n_survey", "n_email"):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
    order = {c: i for i, c in enumerate(dictionary.codes + [NO_THEME])}
    out["_o"] = out["theme"].map(order)
    return _finish(out, ["_o"]).drop(columns="_o")


def theme_by_sector(coded: pd.DataFrame, proposals: pd.DataFrame, dictionary: th.Dictionary,
                    min_cell: int = 10) -> pd.DataFrame:
    """theme x scope (sector of the question, 'other', 'email'): n_scope texts, n with the
    theme, share; share blanked where the scope has fewer than ``min_cell`` texts."""
    scope = _scope(proposals).to_numpy()
    rows = []
    for s in sorted(set(scope)):
        sel = scope == s
        n_scope = int(sel.sum())
        for code in dictionary.codes:
            n = int(coded[code].to_numpy(dtype=bool)[sel].sum())
            rows.append({"theme": code, "scope": s, "n_scope": n_scope, "n": n,
                         "share": n / n_scope if n_scope >= min_cell else np.nan})
    out = pd.DataFrame(rows, columns=["theme", "scope", "n_scope", "n", "share"])
    out = _suppress_by_theme(out, min_cell)
    return _finish(out, ["theme", "scope"])


def _suppress_by_theme(long: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Small counts of a theme x scope table withheld with their shares: a count from 1 to
    min_cell - 1, and (complementary) one more count of the same theme, since the theme's
    total is published in themes.csv (analysis.ratings.suppress_small_cells)."""
    from .ratings import suppress_small_cells

    if long.empty:
        return long
    wide = long.pivot(index="theme", columns="scope", values="n")
    scopes = list(wide.columns)
    hidden = suppress_small_cells(wide.reset_index(), int(min_cell), scopes)
    mask = hidden.set_index("theme")[scopes].isna().stack()
    key = pd.MultiIndex.from_frame(long[["theme", "scope"]])
    drop = mask.reindex(key).fillna(False).to_numpy(dtype=bool)
    out = long.copy()
    out["n"] = out["n"].astype("Int64").mask(drop)
    out["share"] = out["share"].mask(drop)
    return out


def _respondent_coding(coded: pd.DataFrame, proposals: pd.DataFrame) -> pd.DataFrame:
    survey = (proposals["source"].astype(str) == "survey").to_numpy()
    c = coded.loc[survey].copy()
    c.index = proposals.loc[survey, "respondent_id"].astype(str).to_numpy()
    return c.groupby(level=0, sort=True).any()


def theme_by_group(coded: pd.DataFrame, proposals: pd.DataFrame, dictionary: th.Dictionary, cb=None,
                   min_cell: int = 10, by_respondent: tuple[pd.DataFrame, pd.DataFrame] | None = None
                   ) -> pd.DataFrame:
    """Share of respondents (survey) who raise each theme in any of their proposals, per target
    group, age band and form language. Counts 0 < n < min_cell and their shares are blanked
    (analysis.privacy.suppress_small); a group smaller than min_cell shows no figures."""
    from . import privacy

    resp, groups = by_respondent or (_respondent_coding(coded, proposals), respondent_groups(proposals, cb))
    rows = []
    for g in [g for g in groupings(cb) if g in groups]:
        values = groups[g].reindex(resp.index)
        for level in sorted(set(values.dropna().astype(str))):
            sel = (values == level).fillna(False).to_numpy(dtype=bool)
            n_group = int(sel.sum())
            for code in dictionary.codes:
                n = int(resp[code].to_numpy()[sel].sum())
                rows.append({"grouping": g, "group": level, "theme": code, "n_group": n_group, "n": n,
                             "share": n / n_group if n_group else np.nan})
    out = pd.DataFrame(rows, columns=["grouping", "group", "theme", "n_group", "n", "share"])
    if len(out):
        small_group = out["n_group"] < min_cell
        out.loc[small_group, "n"] = np.nan
        out["share"] = out["share"].astype("float64")
        out.loc[small_group, "share"] = np.nan
        out = privacy.suppress_small(out, ["n_group", "n"], min_cell, related={"n": ["share"]})
        out["share"] = out["share"].astype("float64")
    return _finish(out, ["grouping", "group", "theme"])


def theme_tests(coded: pd.DataFrame, proposals: pd.DataFrame, dictionary: th.Dictionary, cb=None,
                min_cell: int = 10, by_respondent: tuple[pd.DataFrame, pd.DataFrame] | None = None
                ) -> pd.DataFrame:
    """Does the share of respondents raising a theme differ between groups? Pearson's
    chi-square test of independence (analysis.stats.chi2_independence, as R chisq.test with
    correct=FALSE), bias-corrected Cramér's V, Benjamini–Hochberg over all the tests of the
    table (analysis.stats.p_adjust). Groups below ``min_cell`` respondents and options the
    codebook excludes from tests (e.g. 'other') are left out; min_expected reports the smallest
    expected count (the chi-square approximation is rough below 5)."""
    from . import stats

    resp, groups = by_respondent or (_respondent_coding(coded, proposals), respondent_groups(proposals, cb))
    rows = []
    for g in [g for g in groupings(cb) if g in groups]:
        values = groups[g].reindex(resp.index).astype(object)
        skip = excluded_from_tests(cb, g)
        counts = pd.Series(values).value_counts()
        levels = sorted(str(k) for k, v in counts.items() if v >= min_cell and str(k) not in skip)
        sel = np.isin(values.astype(str), levels) & pd.notna(values).to_numpy()
        v = values[sel].astype(str)
        level_masks = [v == lv for lv in levels]          # once per grouping, not per theme
        for code in dictionary.codes:
            row = {"grouping": g, "theme": code, "chi2": np.nan, "df": pd.NA, "p": np.nan, "cramers_v": np.nan,
                   "n": int(sel.sum()), "n_groups": len(levels), "min_expected": np.nan, "note": ""}
            if len(levels) < 2:
                row["note"] = f"fewer than 2 groups with at least {min_cell} respondents"
                rows.append(row)
                continue
            x = resp[code].to_numpy()[sel]
            table = np.array([[int((x & m).sum()), int((~x & m).sum())] for m in level_masks])
            if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
                row["note"] = "no variation (nobody or everybody raised the theme)"
                rows.append(row)
                continue
            chi2, p, dof = stats.chi2_independence(table)
            expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
            row.update(chi2=chi2, df=dof, p=p, cramers_v=stats.cramers_v(table), min_expected=float(expected.min()))
            rows.append(row)
    out = pd.DataFrame(rows, columns=["grouping", "theme", "chi2", "df", "p", "cramers_v", "n", "n_groups",
                                      "min_expected", "note"])
    out["p_adj"] = stats.p_adjust(out["p"].to_numpy(dtype=float), "BH") if len(out) else []
    out["df"] = out["df"].astype("Int64")
    out = out[["grouping", "theme", "chi2", "df", "p", "p_adj", "cramers_v", "n", "n_groups", "min_expected", "note"]]
    return _finish(out, ["grouping", "theme"])


def uncoded_quotes(proposals: pd.DataFrame, corpus: Corpus, coded: pd.DataFrame, per_scope: int = 3,
                   chars: tuple[int, int] = (40, 320), excluded: Iterable[str] = ()) -> pd.DataFrame:
    """Examples of texts no theme caught, so a reader sees what the coding misses: per scope
    (sector of the question, 'other', 'email') up to ``per_scope`` texts of ``chars`` length,
    those with the most content words first (then by wording); one text per wording; none
    from an excluded (quarantined) respondent. Each text is redacted again
    (analysis.privacy.redact) and kept only if analysis.privacy.quote_is_publishable accepts
    it (when the privacy module has that check). Columns: scope, rank, proposal_id, text."""
    from . import privacy

    cols = ["scope", "rank", "proposal_id", "text"]
    if not len(proposals):
        return pd.DataFrame(columns=cols)
    publishable = getattr(privacy, "quote_is_publishable", None)
    excluded = set(excluded)
    uncoded = ~coded.to_numpy(dtype=bool).any(axis=1)
    scope = _scope(proposals).to_numpy()
    ids = proposals["proposal_id"].astype(str).to_numpy()
    resp = proposals["respondent_id"].astype(str).to_numpy()
    texts = proposals["text"].astype(str).to_numpy()
    n_content = corpus.n_content()
    rows = []
    for sc in sorted(set(scope[uncoded])):
        idx = [i for i in np.flatnonzero(uncoded & (scope == sc))
               if ids[i] not in excluded and resp[i] not in excluded and chars[0] <= len(texts[i]) <= chars[1]]
        idx.sort(key=lambda i: (-n_content[i], " ".join(texts[i].split()), ids[i]))
        seen: set[str] = set()
        for i in idx:
            wording = " ".join(texts[i].split())
            if wording in seen:
                continue
            seen.add(wording)
            text = privacy.redact(texts[i])
            if publishable is not None and not publishable(text):
                continue
            rows.append({"scope": sc, "rank": len([r for r in rows if r["scope"] == sc]) + 1,
                         "proposal_id": ids[i], "text": text})
            if rows[-1]["rank"] >= per_scope:
                break
    return pd.DataFrame(rows, columns=cols)


# ============================================================================ planted truth

def planted_coding(truth: Mapping[str, Any] | str | Path, proposals: pd.DataFrame,
                   codes: Sequence[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The synthetic sample's planted themes (truth.json 'texts') as a reference coding indexed
    by proposal_id. A planted text is found by its wording: equal to the proposal after
    white-space normalisation (also after privacy.redact, since the clean stage redacts) among
    the survey answers, or, for e-mails, contained in a message (which keeps greeting and
    closing lines). Texts with
    the same wording but different planted themes are left out as ambiguous; planted texts not
    found were quarantined or empty. Returns (coding, counts)."""
    from . import privacy

    if not isinstance(truth, Mapping):
        truth = json.loads(Path(truth).read_text(encoding="utf-8"))
    items = truth.get("texts", [])

    def norm(s: Any) -> str:
        return " ".join(str(s).split())

    by_text: dict[str, list[int]] = {}
    email_rows = []
    texts = proposals["text"].astype(str).tolist()
    is_email = (proposals["source"].astype(str) == "email").to_numpy()
    for i, t in enumerate(texts):
        if is_email[i]:
            email_rows.append((i, norm(t)))
        else:
            by_text.setdefault(norm(t), []).append(i)
    labels: dict[int, set[frozenset]] = {}
    found = 0
    for item in items:
        themes = frozenset(x for x in item.get("themes", []) if x in codes)
        keys = {norm(item.get("text", "")), norm(privacy.redact(item.get("text", "")))} - {""}
        if str(item.get("source", "")).endswith((".mbox", ".eml")) or "message" in item:
            rows = [i for i, t in email_rows if any(k in t for k in keys)]
        else:
            rows = [i for k in keys for i in by_text.get(k, [])]
        if rows:
            found += 1
        for i in set(rows):
            labels.setdefault(i, set()).add(themes)
    ok = {i: next(iter(s)) for i, s in labels.items() if len(s) == 1}
    ids = proposals["proposal_id"].astype(str).to_numpy()
    idx = sorted(ok)
    coding = pd.DataFrame(0, index=pd.Index(ids[idx], name="proposal_id"), columns=list(codes), dtype=int)
    for i in idx:
        for c in ok[i]:
            coding.at[ids[i], c] = 1
    counts = {"planted_texts": len(items), "planted_found": found, "proposals_matched": len(ok),
              "proposals_ambiguous": len(labels) - len(ok)}
    return coding.sort_index(), counts


# ============================================================================ the stage

@dataclass
class StageResult:
    tables: dict[str, pd.DataFrame]
    corpus: Corpus
    hits: pd.DataFrame
    coded: pd.DataFrame
    topic_weights: np.ndarray
    seconds: dict[str, float]
    info: dict[str, Any]


def run_stage(proposals: pd.DataFrame, dictionary: th.Dictionary, cb=None, min_cell: int = 10,
              fdr: float = 0.05, quarantine: pd.DataFrame | None = None,
              human: pd.DataFrame | None = None, truth: Mapping[str, Any] | None = None) -> StageResult:
    """All of stage 03 on the analysed proposals; returns every table (see write_tables)."""
    s = dictionary.settings
    times: dict[str, float] = {}
    t = time.perf_counter()
    proposals = proposals.reset_index(drop=True)
    corpus = build_corpus(proposals["text"].astype(str).tolist(), proposals["proposal_id"].astype(str).tolist(),
                          proposals["form_language"].astype(object).where(proposals["form_language"].notna(), None).tolist()
                          if "form_language" in proposals else None, s["extra_stopwords"],
                          list(cb.languages) if cb is not None else None)
    times.update({f"corpus_{k}": v for k, v in corpus.seconds.items()})
    tables: dict[str, pd.DataFrame] = {}
    t = _lap(times, "corpus", t)
    tables["language_mix"] = language_mix(proposals, corpus)
    tables["keywords"] = keywords(proposals, corpus, int(s["keywords_top_n"]))
    t = _lap(times, "keywords", t)
    tables["keyness"] = keyness_tables(proposals, corpus, cb, min_cell, fdr, int(s["keyness_min_freq"]),
                                       int(s["keyness_top_n"]))
    t = _lap(times, "keyness", t)
    tables["collocations"] = collocation_table(proposals, corpus, s["collocation_min_count"],
                                               int(s["collocation_top_n"]))
    t = _lap(times, "collocations", t)
    matcher = th._Matcher(dictionary)
    # one text's hits depend on its tokens only: coded once per distinct row
    first, _ = corpus.multiplicity()
    first_l = first.tolist()

    def code_rows(lo: int, hi: int) -> list[np.ndarray]:
        out = np.zeros((hi - lo, len(dictionary.codes)), dtype=np.int32)
        for r in range(lo, hi):
            toks = corpus.tokens[first_l[r]]
            if toks:
                out[r - lo] = matcher.hits(toks)
        return [out]

    parts = in_chunks(code_rows, len(first_l))
    row_hits = (np.concatenate(parts) if parts else np.zeros((0, len(dictionary.codes)), dtype=np.int32))
    hits_mat = row_hits[corpus._rows()] if len(proposals) else np.zeros((0, len(dictionary.codes)), dtype=np.int32)
    hits = pd.DataFrame(hits_mat, columns=dictionary.codes, index=pd.Index(corpus.ids, name="proposal_id"))
    coded = hits > 0
    t = _lap(times, "coding", t)
    learned = None
    lemma_lists = None        # every text's content lemmas, made once for learning and topics
    if human is not None and len(human):
        from . import learn

        matched, match_counts = learn.match_coding(human, proposals, dictionary.codes)
        lemma_lists = corpus.lemma_lists()
        learned = learn.learn(lemma_lists, corpus.ids, coded,
                              matched, dictionary.codes, proposals["text"].astype(str).tolist(),
                              int(s["bootstrap_n"]), int(s["bootstrap_seed"]), extra=pd.DataFrame(
                                  {"sector": _scope(proposals).to_numpy(),
                                   "source": proposals["source"].astype(str).to_numpy()}))
        coded = learned.coded
        t = _lap(times, "learn", t)
    scope = _scope(proposals)
    tables["coverage"] = _finish(th.coverage(coded.reset_index(drop=True), scope), ["scope"])
    unc = ~coded.to_numpy(dtype=bool).any(axis=1) if len(proposals) else np.zeros(0, bool)
    tables["uncoded_terms"] = th.uncoded_terms([corpus.content(i) if unc[i] else () for i in range(len(proposals))],
                                               coded.reset_index(drop=True), int(s["uncoded_top_n"]))
    tables["themes"] = theme_overview(coded.reset_index(drop=True), proposals, dictionary, min_cell)
    tables["theme_by_sector"] = theme_by_sector(coded.reset_index(drop=True), proposals, dictionary, min_cell)
    # each survey respondent's themes and groups, made once for both tables
    by_respondent = (_respondent_coding(coded.reset_index(drop=True), proposals), respondent_groups(proposals, cb))
    tables["theme_by_group"] = theme_by_group(coded.reset_index(drop=True), proposals, dictionary, cb, min_cell,
                                              by_respondent)
    tables["theme_tests"] = theme_tests(coded.reset_index(drop=True), proposals, dictionary, cb, min_cell,
                                        by_respondent)
    del by_respondent
    t = _lap(times, "theme_tables", t)
    excluded = excluded_ids(quarantine, proposals)
    lo, hi = s["quote_chars"]
    quotable = _Publishable(proposals, (int(lo), int(hi)))
    tables["theme_quotes"] = quotable.fixpoint(lambda bad: th.select_quotes(
        proposals, hits.reset_index(drop=True), int(s["quotes_per_theme"]), (int(lo), int(hi)), set(excluded) | bad))
    tables["uncoded_quotes"] = uncoded_quotes(proposals, corpus, coded.reset_index(drop=True),
                                              int(s["quotes_per_theme"]), (int(lo), int(hi)), excluded)
    t = _lap(times, "quotes", t)
    topics, weights = th.discover_topics(lemma_lists if lemma_lists is not None else corpus.lemma_lists(),
                                         dictionary, corpus.surface, coded=coded.reset_index(drop=True))
    lemma_lists = None
    tables["topics"] = topics
    pid_arr = proposals["proposal_id"].astype(str).to_numpy()
    rid_arr = proposals["respondent_id"].astype(str).to_numpy()
    kept = np.array([pid not in excluded and rid not in excluded for pid, rid in zip(pid_arr, rid_arr)], dtype=bool)

    def _topic_quotes(bad: set[str]) -> pd.DataFrame:
        w = weights.copy()
        if w.size:
            w[~(kept & ~np.isin(pid_arr, list(bad)))] = 0.0
        return th.topic_quotes(w, corpus.ids, proposals["text"].astype(str).tolist(), int(s["quotes_per_theme"]),
                               (int(lo), int(hi)))

    tq = quotable.fixpoint(_topic_quotes)
    if len(tq):
        from . import privacy

        tq["text"] = tq["text"].map(privacy.redact)
        th.assert_not_excluded(tq, proposals, excluded)
    tables["topic_quotes"] = tq
    t = _lap(times, "topics", t)
    info: dict[str, Any] = {"n_texts": len(proposals), "n_word_tokens": corpus.n_word_tokens,
                            "n_forms": corpus.n_forms, "excluded_ids": len(excluded)}
    frames = []
    if learned is not None:
        # against the coders, the final coding is measured out of fold (its model never saw the text)
        a = th.agreement(learned.cv_combined, matched, dictionary.codes, int(s["bootstrap_n"]),
                         int(s["bootstrap_seed"]))
        a.insert(0, "reference", "human")
        frames.append(a)
        info["human_coded"] = int(len(matched))
        info.update({f"human_{k}": v for k, v in match_counts.items()}, **learned.info)
        tables.update(learned.tables)
    if truth is not None:
        # only the themes the generator plants have a planted truth (the dictionary has more)
        plantable = {c for item in truth.get("texts", []) for c in item.get("themes", [])}
        planted_codes = [c for c in dictionary.codes if c in plantable]
        planted, counts = planted_coding(truth, proposals, planted_codes)
        info.update(counts)
        if len(planted):
            a = th.agreement(coded, planted, planted_codes, int(s["bootstrap_n"]), int(s["bootstrap_seed"]))
            a.insert(0, "reference", "planted")
            frames.append(a)
    tables["agreement"] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["reference", "theme", "n", "n_reference", "n_auto", "tp", "fp", "fn"]
        + [c for k in th.METRICS for c in (k, f"{k}_lo", f"{k}_hi")])
    tables["agreement"] = _finish(tables["agreement"], []) if len(tables["agreement"]) else tables["agreement"]
    t = _lap(times, "agreement", t)
    tables["coding_sample"] = th.coding_sample(proposals, dictionary, n=int(s["coding_sample_n"]),
                                               seed=int(s["coding_sample_seed"]))
    _lap(times, "coding_sample", t)
    return StageResult(tables, corpus, hits, coded, weights, times, info)


class _Publishable:
    """Which quotes privacy.quote_is_publishable refuses, decided only for the texts a quote
    selection actually picks (the check is costly, and a selection reads a handful of texts
    out of all of them). :meth:`fixpoint` reruns a deterministic greedy selection with the
    refused ids excluded until it picks none: the same result as excluding every refused text
    of readable length beforehand, since a text the selection never picks changes nothing."""

    def __init__(self, proposals: pd.DataFrame, chars: tuple[int, int]):
        self.where: dict[str, list[int]] = {}
        for i, pid in enumerate(proposals["proposal_id"].astype(str).tolist()):
            self.where.setdefault(pid, []).append(i)
        self.texts = proposals["text"].astype(str).tolist()
        self.chars = chars
        self._by_text: dict[str, bool] = {}

    def refused(self, pid: str) -> bool:
        from . import privacy

        lo, hi = self.chars
        for i in self.where.get(pid, ()):
            text = self.texts[i]
            if lo <= len(text) <= hi:
                ok = self._by_text.get(text)
                if ok is None:
                    ok = self._by_text[text] = bool(privacy.quote_is_publishable(text))
                if not ok:
                    return True
        return False

    def fixpoint(self, select) -> pd.DataFrame:
        bad: set[str] = set()
        while True:
            out = select(bad)
            new = {p for p in out["proposal_id"].astype(str) if p not in bad and self.refused(p)} if len(out) else set()
            if not new:
                return out
            bad |= new


def _lap(times: dict[str, float], name: str, t0: float) -> float:
    now = time.perf_counter()
    times[name] = now - t0
    return now


TEXT_COLUMNS = {"theme_quotes": ["text"], "topic_quotes": ["text"], "coding_sample": ["text"],
                "uncoded_quotes": ["text"], "next_to_code": ["text"]}


def write_tables(tables: Mapping[str, pd.DataFrame], tables_dir: str | Path) -> dict[str, Path]:
    """Write each table as <name>.csv (UTF-8, '\\n' line ends, floats rounded, no index), every
    text column neutralised against formula injection (analysis.privacy.neutralise_frame)."""
    from . import privacy

    tables_dir = Path(tables_dir)
    tables_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in sorted(tables):
        df = tables[name]
        for c in df.columns:
            if pd.api.types.is_float_dtype(df[c].dtype):
                df = df.assign(**{c: df[c].astype("float64").round(FLOAT_DIGITS)})
        df = privacy.neutralise_frame(df, labels=True)
        path = tables_dir / f"{name}.csv"
        df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        out[name] = path
    return out


def read_inputs(run_dir: str | Path, survey: str, cb=None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """proposals.parquet and quarantine.parquet of the run, or of the last good run."""
    from . import paths

    return read_proposals(paths.stage_input(run_dir, survey, "data/proposals.parquet"), cb)


def read_proposals(path: str | Path, cb=None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """proposals.parquet (schema-checked when a codebook is given) and the quarantine.parquet
    written beside it by the same clean run (None if there is none)."""
    from . import schemas

    path = Path(path)
    proposals = schemas.read_parquet(path, "proposals", cb) if cb is not None else pd.read_parquet(path)
    qpath = path.with_name("quarantine.parquet")
    quarantine = pd.read_parquet(qpath) if qpath.exists() else None
    return proposals, quarantine


def find_truth(run_dir: str | Path) -> Path | None:
    """truth.json of a synthetic run: the run's data folder, else the embedded sample's."""
    from . import paths

    for p in (paths.resolve(run_dir) / "data" / "truth.json", paths.ROOT / "data" / "sample" / "truth.json"):
        if p.exists():
            return p
    return None


# ============================================================================ the notebook

LABELS: dict[str, dict[str, str]] = {
    "source": {"lv": "Avots", "en": "Source"},
    "language": {"lv": "Teksta valoda", "en": "Language of the text"},
    "n": {"lv": "Skaits", "en": "Number"},
    "share": {"lv": "Īpatsvars", "en": "Share"},
    "theme": {"lv": "Tēma", "en": "Theme"},
    "sector": {"lv": "Nozare", "en": "Sector"},
    "word": {"lv": "Vārds", "en": "Word"},
    "phrase": {"lv": "Vārdu savienojums", "en": "Phrase"},
    "count": {"lv": "Reizes", "en": "Times"},
    "comparison": {"lv": "Salīdzinājums", "en": "Comparison"},
    "used_more_by": {"lv": "Biežāk lieto", "en": "Used more by"},
    "compared_with": {"lv": "Salīdzinot ar", "en": "Compared with"},
    "per_1000": {"lv": "uz 1000 vārdiem", "en": "per 1,000 words"},
    "log_ratio": {"lv": "Log ratio", "en": "Log ratio"},
    "p_adj": {"lv": "Koriģētā p", "en": "Adjusted p"},
    "grouping": {"lv": "Pazīme", "en": "Characteristic"},
    "group": {"lv": "Grupa", "en": "Group"},
    "cramers_v": {"lv": "Kramera V", "en": "Cramér's V"},
    "respondents": {"lv": "Respondenti", "en": "Respondents"},
    "topic": {"lv": "Temats", "en": "Topic"},
    "top_terms": {"lv": "Raksturīgākie vārdi", "en": "Top words"},
    "covered_by": {"lv": "Atbilst vārdnīcas tēmai", "en": "Matches dictionary theme"},
    "texts": {"lv": "Teksti", "en": "Texts"},
    "precision": {"lv": "Precizitāte", "en": "Precision"},
    "recall": {"lv": "Pārklājums", "en": "Recall"},
    "f1": {"lv": "F1", "en": "F1"},
    "kappa": {"lv": "Koena kappa", "en": "Cohen's kappa"},
    "reference_n": {"lv": "Tēma atsaucē", "en": "Theme in reference"},
    "auto_n": {"lv": "Tēma automātiski", "en": "Theme coded automatically"},
    "not_in_dictionary": {"lv": "— (jauns temats)", "en": "— (new topic)"},
    "all": {"lv": "Visi teksti", "en": "All texts"},
    "survey": {"lv": "Aptauja", "en": "Survey"},
    "email": {"lv": "E-pasts", "en": "E-mail"},
    "other": {"lv": "Citi priekšlikumi", "en": "Other proposals"},
    "macro": {"lv": "Vidēji (makro)", "en": "Average (macro)"},
    "none": {"lv": "Neviena tēma", "en": "No theme"},
    "other_bands": {"lv": "pārējās vecuma grupas", "en": "the other age groups"},
    "form_language": {"lv": "Anketas valoda", "en": "Form language"},
    "small": {"lv": "< {m}", "en": "< {m}"},
}


def label(key: str, lang: str = "lv", **kw: Any) -> str:
    entry = LABELS[key]
    text = entry.get(lang, entry["lv"])
    return text.format(**kw) if kw else text


@dataclass
class Stage03:
    """What the notebook works with: the tables, the codebook, the dictionary, the language."""

    tables: dict[str, pd.DataFrame]
    cb: Any
    dictionary: th.Dictionary
    lang: str
    min_cell: int
    fdr: float
    info: dict[str, Any]
    written: dict[str, Path]

    # --- labels -------------------------------------------------------------------------------
    def theme_name(self, code: str) -> str:
        if code == NO_THEME:
            return label("none", self.lang)
        return self.dictionary.name(code, self.lang) if code in self.dictionary.themes else code

    def scope_name(self, code: str) -> str:
        if code in ("all", "survey", "email", "other"):
            return label(code, self.lang)
        if self.cb is not None and code in self.cb.sectors:
            return self.cb.sector_title(code, self.lang)
        if code == "cross-cutting":
            return t("proposals_nb_cross_cutting", self.lang)
        return code

    def group_name(self, grouping: str, code: str) -> str:
        if grouping == "form_language" or grouping == "language":
            return language_name(code, self.lang)
        if code == "other_bands":
            return label("other_bands", self.lang)
        if self.cb is not None and grouping in self.cb.variables:
            try:
                return self.cb.label_of(grouping, code, self.lang)
            except KeyError:
                return code
        return code

    def grouping_name(self, grouping: str) -> str:
        if grouping == "form_language":
            return label("form_language", self.lang)
        if self.cb is not None and grouping in self.cb.variables:
            return self.cb.variable_label(grouping, self.lang)
        return grouping


def run_notebook_stage(dirs: Mapping[str, Path], proposals_file: str | Path, codebook: str, themes: str,
                       synthetic: bool, min_cell: int, fdr: float, human_coding: Sequence[str] | str | None,
                       lang: str) -> Stage03:
    """The notebook's one call: read the clean stage's proposals (and the quarantine next to
    them), code and analyse them, learn from the human coding when files are given (CSV or
    XLSX, see analysis.learn) and compare with it (and, for a synthetic run, with the planted
    themes), write every table to tables/. With no text at all (a survey without open questions
    and no e-mails) the tables are written empty and the notebook says so in one sentence
    (``st.info["n_texts"] == 0``)."""
    from . import codebook as cbmod, paths

    cb = cbmod.load(paths.resolve(codebook))
    dictionary = (th.load_dictionary(paths.resolve(themes), sectors=list(cb.sectors)) if themes
                  else th.empty_dictionary())
    proposals, quarantine = read_proposals(proposals_file, cb)
    human = None
    if human_coding:
        from . import learn

        files = [human_coding] if isinstance(human_coding, (str, Path)) else list(human_coding)
        human = learn.load_human_coding([paths.resolve(p) for p in files], dictionary)
    truth = None
    if synthetic:
        tpath = find_truth(dirs["run"])
        truth = json.loads(tpath.read_text(encoding="utf-8")) if tpath else None
    result = run_stage(proposals, dictionary, cb, int(min_cell), float(fdr), quarantine, human, truth)
    written = write_tables(result.tables, dirs["tables"])
    return Stage03(result.tables, cb, dictionary, lang, int(min_cell), float(fdr), result.info, written)


# The notebook's name for analysis.report.table_html (every cell escaped).
html_table = table_html


# ============================================================================ the page's words

def words_html(frame: pd.DataFrame, word_columns: Sequence[str] = ()) -> str:
    """A table whose ``word_columns`` hold respondents' own words (in any language): like
    analysis.report.table_html (every cell and header escaped), but each such cell is marked as
    quoted respondent text (``<span class="quote" lang="..">``, the language from
    ``frame.attrs["languages"]`` when the view records it per row), so that a reader, a screen
    reader and the page checks tell the respondents' words from the report's."""
    from .privacy import escape_html

    if frame.empty:
        return table_html(frame)
    langs = list(frame.attrs.get("languages") or [])
    out = pd.DataFrame(index=range(len(frame)))
    for col in frame.columns:
        values = frame[col].tolist()
        if col in word_columns:
            cells = []
            for i, v in enumerate(values):
                code = langs[i] if i < len(langs) and langs[i] not in ("", "und") else ""
                attr = f' lang="{escape_html(code)}"' if code else ""
                cells.append(f'<span class="quote"{attr}>{escape_html(v)}</span>' if str(v) else "")
            out[escape_html(col)] = cells
        else:
            out[escape_html(col)] = ["—" if v is None or (isinstance(v, float) and math.isnan(v)) else escape_html(v)
                                     for v in values]
    return out.to_html(index=False, escape=False, na_rep="—", border=0, classes="dataframe")


def language_name(code: str, lang: str = "lv") -> str:
    """A language's name in the report language (text key text_lang_<code>), else its ISO code."""
    from .report import TEXT

    key = f"text_lang_{code}"
    return t(key, lang) if key in TEXT else str(code)


def join_words(items: Sequence[str], lang: str = "lv") -> str:
    """'a', 'a and b', 'a, b and c' in the report language."""
    items = [str(x) for x in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {t('text_and', lang)} {items[-1]}"


def surface_caveat(languages: Iterable[str], lang: str = "lv") -> str | None:
    """The one sentence said when texts in a language without a lemmatiser were counted on their
    surface forms (analysis.text.surface_languages), naming the languages and, among them, those
    without a stopword list; None when every text language has a lemmatiser."""
    from . import text as tx

    surface = tx.surface_languages(languages)
    if not surface:
        return None
    bare = [x for x in surface if not tx.stopwords(x)]
    stop = ""
    if bare:
        key = "text_surface_no_stopwords" if len(bare) == 1 else "text_surface_no_stopwords_many"
        stop = t(key, lang, languages=join_words([language_name(x, lang) for x in bare], lang))
    return t("text_surface_caveat", lang, languages=join_words([language_name(x, lang) for x in surface], lang),
             stopwords=stop)


def keywords_text(st: "Stage03", kind: str = "") -> str:
    """The most-frequent-words paragraph: word forms counted together (a Latvian example) when some
    texts have a lemmatiser; counted as written when none has one (e.g. a survey in Estonian)."""
    from . import text as tx

    langs = stage_languages(st)
    surface = "_surface" if langs and not set(langs) & set(tx.LEMMATISED) else ""
    return t("proposals_nb_keywords_text" + surface + kind, st.lang)


def stage_languages(st: "Stage03") -> list[str]:
    """The text languages of the stage (language_mix), Latvian, Russian, English first."""
    present = set(st.tables["language_mix"]["language"].astype(str)) if len(st.tables["language_mix"]) else set()
    return [x for x in TEXT_LANGS if x in present] + sorted(present - set(TEXT_LANGS))


def sources(st: "Stage03") -> list[str]:
    mix = st.tables["language_mix"]
    return sorted(set(mix["source"].astype(str))) if len(mix) else []


def sector_questions(st: "Stage03") -> bool:
    """Does the survey ask an open question per sector (the codebook's sectors name one)?"""
    return st.cb is not None and any(getattr(sec, "proposal", None) for sec in st.cb.sectors.values())


def has_themes(st: "Stage03") -> bool:
    return bool(st.dictionary.codes)


def intro_text(st: "Stage03") -> str:
    """The page's opening paragraph: what is analysed (the sources present) and how themes are
    found (or that there is no dictionary). The surface-forms caveat is said once, in the
    languages section (:func:`languages_text`)."""
    from . import themes as th_

    src = sources(st)
    which = ("proposals_nb_sources_both" if {"survey", "email"} <= set(src) else
             "proposals_nb_sources_email" if src == ["email"] else "proposals_nb_sources_survey")
    key = "proposals_nb_intro" if has_themes(st) else "proposals_nb_intro_words"
    parts = [t(key, st.lang, sources=t(which, st.lang), n=fmt_num(st.info.get("n_texts", 0), 0, st.lang),
               words=fmt_num(st.info.get("n_word_tokens", 0), 0, st.lang))]
    if has_themes(st):
        parts.append(t("proposals_nb_intro_dictionary", st.lang,
                       languages=join_words([language_name(x, st.lang) for x in th_.LANGS], st.lang)))
    else:
        parts.append(t("proposals_nb_intro_no_dictionary", st.lang))
    return " ".join(parts)


def languages_text(st: "Stage03") -> str:
    """The languages section's paragraph: the candidates the detector chose among, and the caveat."""
    from . import text as tx

    form = list(st.cb.languages) if st.cb is not None else []
    text = t("proposals_nb_languages_text", st.lang,
             form_languages=join_words([language_name(x, st.lang) for x in form], st.lang),
             tool_languages=join_words([language_name(x, st.lang) for x in tx.LANGS], st.lang))
    caveat = surface_caveat(stage_languages(st), st.lang)
    return f"{text} {caveat}" if caveat else text


def keyness_text(st: "Stage03") -> str:
    """The keyness paragraph, naming the codebook's pairs of groups and the groupings compared band by band."""
    pairs, bands = keyness_comparisons(st.cb)
    plan = ""
    if pairs:
        plan += t("proposals_nb_keyness_pairs", st.lang, pairs="; ".join(
            t("proposals_nb_keyness_pair", st.lang, a=st.group_name(g, a), b=st.group_name(g, b),
              grouping=st.grouping_name(g)) for g, a, b in pairs))
    if bands:
        quoted = [f"„{st.grouping_name(g)}”" if st.lang == "lv" else f"“{st.grouping_name(g)}”" for g in bands]
        key = "proposals_nb_keyness_band" if len(quoted) == 1 else "proposals_nb_keyness_bands"
        plan += t(key, st.lang, groupings=join_words(quoted, st.lang))
    return t("proposals_nb_keyness_text", st.lang, plan=plan)


def section(st: "Stage03", name: str, level: int = 2, text: str | None = None, **values: Any) -> str:
    """A heading and its paragraph from the text tables (proposals_nb_<name>_heading / _text) as Markdown."""
    body = text if text is not None else t(f"proposals_nb_{name}_text", st.lang, **values)
    return "#" * level + " " + t(f"proposals_nb_{name}_heading", st.lang) + "\n\n" + body


def language_mix_view(st: Stage03) -> pd.DataFrame:
    d = st.tables["language_mix"]
    total = d.groupby("source")["n"].transform("sum")
    return pd.DataFrame({label("source", st.lang): [label(s, st.lang) for s in d["source"]],
                         label("language", st.lang): [st.group_name("language", x) for x in d["language"]],
                         label("n", st.lang): d["n"].astype(int),
                         label("share", st.lang): [fmt_pct(v, lang=st.lang) for v in d["n"] / total]})


def fig_keywords(st: Stage03, top: int = 8, scope: str = "sector"):
    """Small multiples: the most frequent words of each sector's proposals, with counts."""
    import matplotlib.pyplot as plt

    kw = st.tables["keywords"]
    kw = kw[(kw["scope"] == scope) & kw["rank_count"].notna()]
    present = set(kw["group"])
    order = (list(st.cb.sectors) if st.cb is not None else []) + ["other", "survey", "email", "all"]
    groups = [g for g in order if g in present] + sorted(present - set(order))
    if not groups:
        return None
    cols = 3
    rows = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.6 * rows), squeeze=False)
    for ax, g in zip(axes.ravel(), groups):
        d = kw[kw["group"] == g].sort_values(["count", "lemma"], ascending=[False, True]).head(top)[::-1]
        bars = ax.barh(d["surface"], d["count"], color="#0072B2")
        ax.bar_label(bars, labels=[str(int(c)) for c in d["count"]], padding=2, fontsize=8)
        n_docs = int(d["n_docs"].iloc[0]) if len(d) else 0
        _ = ax.set_title(f"{st.scope_name(g)} (n = {n_docs})", fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlim(0, max(d["count"].max() * 1.25, 1))
    for ax in axes.ravel()[len(groups):]:
        ax.axis("off")
    title = "proposals_nb_keywords_title_sectors" if sector_questions(st) else "proposals_nb_keywords_title"
    _ = fig.suptitle(t(title, st.lang), fontweight="bold")
    fig.tight_layout()
    return fig


def keywords_by_source_view(st: Stage03, top: int = 12) -> pd.DataFrame:
    kw = st.tables["keywords"]
    kw = kw[(kw["scope"] == "source") & kw["rank_tfidf"].notna()].sort_values(["group", "rank_tfidf"])
    parts = {}
    for g, d in kw.groupby("group", sort=True):
        parts[label(g, st.lang)] = [f"{s} ({int(c)})" for s, c in zip(d["surface"].head(top), d["count"].head(top))]
    width = max((len(v) for v in parts.values()), default=0)
    return pd.DataFrame({k: v + [""] * (width - len(v)) for k, v in parts.items()})


def keyness_view(st: Stage03, per_comparison: int = 6) -> pd.DataFrame:
    k = st.tables["keyness"]
    if k.empty:
        return pd.DataFrame()
    k = k[k["direction"] == "more"].sort_values(["comparison", "target", "language", "g2"],
                                             ascending=[True, True, True, False])
    k = k.groupby(["comparison", "target", "language"], sort=True).head(per_comparison)
    lang = st.lang
    view = pd.DataFrame({
        label("comparison", lang): [st.grouping_name(c) for c in k["comparison"]],
        label("language", lang): [st.group_name("language", x) for x in k["language"]],
        label("used_more_by", lang): [st.group_name(c, t) for c, t in zip(k["comparison"], k["target"])],
        label("compared_with", lang): [st.group_name(c, r) for c, r in zip(k["comparison"], k["reference"])],
        label("word", lang): k["surface"],
        f"{label('count', lang)} ({label('used_more_by', lang).lower()})": k["freq_target"].astype(int),
        "G²": [fmt_num(v, 1, lang) for v in k["g2"]],
        label("log_ratio", lang): [fmt_num(v, 2, lang) for v in k["log_ratio"]],
        label("p_adj", lang): [fmt_p(v, lang) for v in k["p_adj"]],
    })
    view.attrs["languages"] = [str(x) for x in k["language"]]
    return view


def collocations_view(st: Stage03, per_group: int = 8) -> pd.DataFrame:
    c = st.tables["collocations"]
    if c.empty:
        return pd.DataFrame()
    c = c.groupby(["language", "n"], sort=True).head(per_group)
    lang = st.lang
    view = pd.DataFrame({label("language", lang): [st.group_name("language", x) for x in c["language"]],
                         label("phrase", lang): c["surface"], label("count", lang): c["count"].astype(int),
                         "LLR": [fmt_num(v, 1, lang) for v in c["score"]]})
    view.attrs["languages"] = [str(x) for x in c["language"]]
    return view


def fig_themes(st: Stage03):
    """How many proposals raise each theme (all sources), with counts on the bars; the texts
    with no theme stand beside them as a grey bar. Themes no text raised are left out."""
    import matplotlib.pyplot as plt

    allt = st.tables["themes"]
    t_ = allt[(allt["theme"] != NO_THEME) & (allt["n"] > 0)].sort_values(["n", "theme"], ascending=[True, False])
    none = allt[allt["theme"] == NO_THEME]
    t_ = pd.concat([none, t_]) if len(none) else t_
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(t_) + 1.2))
    colours = ["#999999" if c == NO_THEME else "#009E73" for c in t_["theme"]]
    names = [t("proposals_no_theme", st.lang) if c == NO_THEME else st.theme_name(c) for c in t_["theme"]]
    bars = ax.barh(names, t_["n"], color=colours)
    ax.bar_label(bars, labels=[f"{int(n)} ({fmt_pct(s, lang=st.lang)})" for n, s in zip(t_["n"], t_["share"])],
                 padding=2, fontsize=8)
    ax.set_xlim(0, max(t_["n"].max() * 1.3, 1) if len(t_) else 1)
    n_texts = int(allt["n_texts"].iloc[0]) if len(allt) else 0
    _ = ax.set_title(t("proposals_themes_title", st.lang, n=n_texts))
    ax.set_xlabel(label("texts", st.lang))
    fig.tight_layout()
    return fig


def uncoded_sentence(st: Stage03) -> str:
    """One sentence: how many texts got no theme (the row "(none)" of themes.csv)."""
    th_ = st.tables["themes"]
    row = th_[th_["theme"] == NO_THEME]
    if not len(row) or int(row["n"].iloc[0]) == 0:
        return t("proposals_uncoded_all_coded", st.lang)
    r = row.iloc[0]
    from .workbook import sheet_title

    return t("proposals_uncoded_sentence", st.lang, n=int(r["n"]), total=int(r["n_texts"]),
             share=fmt_pct(r["share"], lang=st.lang), sheet=sheet_title("themes", st.lang),
             none=t("proposals_no_theme", st.lang))


def uncoded_quotes_html(st: Stage03, per: int = 1) -> str:
    """Examples of texts without a theme, one heading, up to ``per`` per scope, every string
    escaped (analysis.privacy.escape_html)."""
    from .privacy import escape_html

    q = st.tables.get("uncoded_quotes", pd.DataFrame())
    head = f"<h4>{escape_html(t('proposals_uncoded_examples', st.lang))}</h4>"
    if q.empty:
        return head + f"<p>{escape_html(t('proposals_uncoded_examples_none', st.lang))}</p>"
    parts = [head]
    for scope, d in q[q["rank"] <= per].groupby("scope", sort=False):
        for text in d.sort_values("rank")["text"]:
            parts.append(f'<blockquote class="quote">{escape_html(text)} '
                         f'<small>({escape_html(st.scope_name(scope))})</small></blockquote>')
    return "\n".join(parts)


def groupings_present(st: Stage03) -> list[str]:
    """The codebook's text groupings that have rows in theme_by_group."""
    g = st.tables["theme_by_group"]
    return [x for x in groupings(st.cb) if x in set(g["grouping"])]


def theme_groups_html(st: Stage03) -> str:
    """The themes-by-group tables, one per codebook text grouping; one sentence when the codebook names none."""
    from .privacy import escape_html

    present = groupings_present(st)
    if not groupings(st.cb):
        return f"<p>{escape_html(t('proposals_groupings_missing', st.lang))}</p>"
    parts = []
    for grouping in present:
        view = theme_group_view(st, grouping)
        if len(view):
            parts.append(f"<h4>{escape_html(st.grouping_name(grouping))}</h4>" + table_html(view))
    return "\n".join(parts)


def keyness_missing(st: Stage03) -> str | None:
    """The sentence said instead of the keyness table when the codebook names nothing to compare."""
    pairs, bands = keyness_comparisons(st.cb)
    return None if pairs or bands else t("proposals_keyness_missing", st.lang)


def coverage_view(st: Stage03) -> pd.DataFrame:
    c = st.tables["coverage"]
    lang = st.lang
    return pd.DataFrame({label("sector", lang): [st.scope_name(s) for s in c["scope"]],
                         label("texts", lang): c["n"].astype(int),
                         t("proposals_nb_with_theme", lang): [fmt_pct(v, lang=lang) for v in c["share_coded"]],
                         t("proposals_nb_without_theme", lang): [fmt_pct(v, lang=lang) for v in c["share_uncoded"]]})


def uncoded_view(st: Stage03, top: int = 20) -> pd.DataFrame:
    u = st.tables["uncoded_terms"].head(top)
    return pd.DataFrame({label("word", st.lang): u["surface"], label("count", st.lang): u["count"].astype(int),
                         label("texts", st.lang): u["doc_count"].astype(int)})


def theme_group_view(st: Stage03, grouping: str) -> pd.DataFrame:
    """Share of respondents raising each theme, one column per group ('< min_cell' where suppressed)."""
    g = st.tables["theme_by_group"]
    g = g[g["grouping"] == grouping]
    if g.empty:
        return pd.DataFrame()
    levels = list(dict.fromkeys(g["group"]))
    n_group = g.groupby("group")["n_group"].first()
    out = {label("theme", st.lang): [st.theme_name(c) for c in st.dictionary.codes]}
    for lv in levels:
        d = g[g["group"] == lv].set_index("theme")
        ng = n_group.get(lv)
        head = f"{st.group_name(grouping, lv)} (n = {int(ng)})" if pd.notna(ng) else \
            f"{st.group_name(grouping, lv)} (n {label('small', st.lang, m=st.min_cell)})"
        vals = []
        for c in st.dictionary.codes:
            share = d.at[c, "share"] if c in d.index else np.nan
            vals.append(fmt_pct(share, lang=st.lang) if pd.notna(share) else label("small", st.lang, m=st.min_cell))
        out[head] = vals
    return pd.DataFrame(out)


def tests_view(st: Stage03) -> pd.DataFrame:
    t = st.tables["theme_tests"]
    t = t[t["p"].notna()].sort_values(["p_adj", "grouping", "theme"])
    lang = st.lang
    return pd.DataFrame({label("grouping", lang): [st.grouping_name(g) for g in t["grouping"]],
                         label("theme", lang): [st.theme_name(c) for c in t["theme"]],
                         "χ²": [fmt_num(v, 1, lang) for v in t["chi2"]], "df": t["df"].astype("Int64"),
                         label("p_adj", lang): [fmt_p(v, lang) for v in t["p_adj"]],
                         label("cramers_v", lang): [fmt_num(v, 2, lang) for v in t["cramers_v"]],
                         label("respondents", lang): t["n"].astype(int)})


def fig_theme_sector(st: Stage03):
    """Heatmap: share of each question's proposals that raise each theme (blank: fewer than
    min_cell texts)."""
    import matplotlib.pyplot as plt

    d = st.tables["theme_by_sector"]
    if d.empty:
        return None
    scopes = [s for s in list(st.cb.sectors) + ["other", "email"] if s in set(d["scope"])] if st.cb else sorted(set(d["scope"]))
    m = d.pivot(index="theme", columns="scope", values="share").reindex(index=st.dictionary.codes, columns=scopes)
    fig, ax = plt.subplots(figsize=(1.0 * len(scopes) + 4, 0.32 * len(m) + 1.8))
    im = ax.imshow(m.to_numpy(dtype=float) * 100, aspect="auto", cmap="Blues", vmin=0)
    ax.set_xticks(range(len(scopes)), [_wrap(st.scope_name(s), 14) for s in scopes], fontsize=8, rotation=0)
    ax.set_yticks(range(len(m)), [st.theme_name(c) for c in m.index], fontsize=8)
    vmax = np.nanmax(m.to_numpy(dtype=float) * 100) if np.isfinite(m.to_numpy(dtype=float)).any() else 1
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m.iat[i, j]
            if pd.notna(v) and v >= 0.005:
                ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if 100 * v > vmax * 0.6 else "black")
    n_scope = d.groupby("scope")["n_scope"].first()
    ax2 = ax.secondary_xaxis("top")
    ax2.set_xticks(range(len(scopes)), [f"n = {int(n_scope[s])}" for s in scopes], fontsize=7)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03)
    cbar.set_label("%")
    _ = ax.set_title(t("proposals_nb_sector_title", st.lang), pad=24)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def topics_view(st: Stage03) -> pd.DataFrame:
    t = st.tables["topics"]
    if t.empty:
        return pd.DataFrame()
    lang = st.lang
    view = pd.DataFrame({label("topic", lang): t["topic"].astype(int), label("top_terms", lang): t["top_terms"],
                         label("covered_by", lang): [st.theme_name(c) if isinstance(c, str) and c else
                                                     label("not_in_dictionary", lang) for c in t["covered_by_theme"]],
                         label("texts", lang): t["n_texts"].astype(int)})
    # without a dictionary no topic can match a theme: the column would only say so in every row
    return view if has_themes(st) else view.drop(columns=[label("covered_by", lang)])


def quotes_html(st: Stage03, table: str = "theme_quotes", key: str = "theme", per: int = 3,
                only: Sequence[Any] | None = None) -> str:
    """Quotes as HTML: every respondent string (and every name) through privacy.escape_html, so a
    text holding <script> shows as text and runs nothing."""
    from .privacy import escape_html

    q = st.tables[table]
    if q.empty:
        return "<p>—</p>"
    parts = []
    keys = only if only is not None else list(dict.fromkeys(q[key]))
    for k in keys:
        d = q[q[key] == k].sort_values("rank").head(per)
        if d.empty:
            continue
        title = st.theme_name(k) if key == "theme" else f"{label('topic', st.lang)} {int(k)}"
        parts.append(f"<h4>{escape_html(title)}</h4>")
        for text in d["text"]:
            parts.append(f'<blockquote class="quote">{escape_html(text)}</blockquote>')
    return "\n".join(parts)


def agreement_view(st: Stage03, reference: str) -> pd.DataFrame:
    a = st.tables["agreement"]
    a = a[a["reference"] == reference]
    if a.empty:
        return pd.DataFrame()
    lang = st.lang

    def ci(row, k):
        if pd.isna(row[k]):
            return "—"
        return f"{fmt_num(row[k], 2, lang)} ({fmt_num(row[k + '_lo'], 2, lang)}–{fmt_num(row[k + '_hi'], 2, lang)})"

    return pd.DataFrame({
        label("theme", lang): [label("macro", lang) if c == "macro" else st.theme_name(c) for c in a["theme"]],
        label("reference_n", lang): a["n_reference"].astype(int), label("auto_n", lang): a["n_auto"].astype(int),
        label("precision", lang): [ci(r, "precision") for _, r in a.iterrows()],
        label("recall", lang): [ci(r, "recall") for _, r in a.iterrows()],
        label("f1", lang): [ci(r, "f1") for _, r in a.iterrows()],
        label("kappa", lang): [ci(r, "kappa") for _, r in a.iterrows()],
    })


def macro_f1(st: Stage03, reference: str) -> float | None:
    a = st.tables["agreement"]
    m = a[(a["reference"] == reference) & (a["theme"] == "macro")]
    return float(m["f1"].iloc[0]) if len(m) else None


def fig_agreement(st: Stage03, reference: str):
    """F1 per theme with its bootstrap 95 % interval; the dashed line is the 0.85 goal."""
    import matplotlib.pyplot as plt

    a = st.tables["agreement"]
    a = a[(a["reference"] == reference) & (a["theme"] != "macro") & a["f1"].notna()]
    if a.empty:
        return None
    a = a.sort_values(["f1", "theme"], ascending=[True, False])
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(a) + 1.4))
    y = np.arange(len(a))
    ax.errorbar(a["f1"], y, xerr=plots.xerr(a["f1"], a["f1_lo"], a["f1_hi"]), fmt="o", color="#0072B2",
                ecolor="#56B4E9", capsize=2)
    ax.set_yticks(y, [st.theme_name(c) for c in a["theme"]], fontsize=8)
    ax.axvline(0.85, ls="--", color="#D55E00", lw=1)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("F1 (95 %)")
    _ = ax.set_title(t("proposals_nb_agreement_title", st.lang))
    fig.tight_layout()
    return fig


def agreement_html(st: Stage03) -> str:
    """The agreement section: one block per reference coding, macro F1 in a sentence, the table."""
    from .privacy import escape_html

    a = st.tables["agreement"]
    lang = st.lang
    if a.empty:
        return "<p>" + escape_html(t("proposals_nb_agreement_none", lang)) + "</p>"
    parts = []
    for ref in dict.fromkeys(a["reference"]):
        f1 = macro_f1(st, ref)
        n = int(a.loc[(a["reference"] == ref) & (a["theme"] == "macro"), "n"].iloc[0])
        row = a[(a["reference"] == ref) & (a["theme"] == "macro")].iloc[0]
        goal = t("proposals_nb_goal_met" if f1 is not None and f1 >= 0.85 else "proposals_nb_goal_not_met", lang)
        sentence = t("proposals_nb_agreement_sentence", lang, n=n, f1=fmt_num(f1, 2, lang),
                     lo=fmt_num(row["f1_lo"], 2, lang), hi=fmt_num(row["f1_hi"], 2, lang), goal=goal)
        name = t(f"proposals_nb_reference_{ref}", lang) if ref in ("human", "planted") else ref
        parts.append(f"<h4>{escape_html(name)}</h4>")
        parts.append(f"<p>{escape_html(sentence)}</p>")
        parts.append(table_html(agreement_view(st, ref)))
    return "\n".join(parts)


def learned(st: Stage03) -> bool:
    """Did this run learn from human coding (a learn_cv table exists)?"""
    return "learn_cv" in st.tables and len(st.tables["learn_cv"]) > 0


def learn_html(st: Stage03) -> str:
    """The learning section's sentences: what people coded, cross-validated macro F1 of the
    dictionary, the model and both; or one sentence saying there is no human coding."""
    from .privacy import escape_html

    lang = st.lang
    if not learned(st):
        return f"<p>{escape_html(t('proposals_nb_learn_none', lang))}</p>"
    cv = st.tables["learn_cv"]
    macro = cv[cv["theme"] == "macro"].set_index("method")
    model = st.tables["learn_model"]
    text = t("learn_summary", lang, n=int(st.info.get("human_coded", macro["n"].iloc[0])),
             **{f"f1_{m}": fmt_num(macro.at[m, "f1"], 2, lang) for m in ("dictionary", "model", "combined")},
             lo=fmt_num(macro.at["combined", "f1_lo"], 2, lang), hi=fmt_num(macro.at["combined", "f1_hi"], 2, lang),
             used=int(model["threshold"].notna().sum()), themes=int((model["n_coded"] > 0).sum()))
    parts = [f"<p>{escape_html(text)}</p>"]
    unmatched = int(st.info.get("human_unmatched", 0) or 0)
    if unmatched:
        parts.append(f"<p>{escape_html(t('learn_unmatched', lang, n=unmatched))}</p>")
    return "\n".join(parts)


def learn_view(st: Stage03) -> pd.DataFrame:
    """Per theme: coded examples, cross-validated F1 (95 % interval) of the dictionary, the model
    and both, the threshold in use and how many codes each source made over all texts."""
    if not learned(st):
        return pd.DataFrame()
    lang = st.lang
    cv = st.tables["learn_cv"]
    model = st.tables["learn_model"].set_index("theme")

    def f1(method, theme):
        r = cv[(cv["method"] == method) & (cv["theme"] == theme)]
        if not len(r) or pd.isna(r["f1"].iloc[0]):
            return "—"
        r = r.iloc[0]
        return f"{fmt_num(r['f1'], 2, lang)} ({fmt_num(r['f1_lo'], 2, lang)}–{fmt_num(r['f1_hi'], 2, lang)})"

    themes_ = [c for c in model.index if c in set(cv["theme"])] + ["macro"]     # the themes people coded
    out = {label("theme", lang): [label("macro", lang) if c == "macro" else st.theme_name(c) for c in themes_],
           t("learn_positive", lang): [int(model.at[c, "n_positive"]) if c in model.index else
                                       int(model["n_positive"].sum()) for c in themes_]}
    for m in ("dictionary", "model", "combined"):
        out[f"F1: {t('learn_method_' + m, lang)}"] = [f1(m, c) for c in themes_]
    out[t("learn_threshold", lang)] = [fmt_num(model.at[c, "threshold"], 2, lang) if c in model.index else ""
                                       for c in themes_]
    for src in ("dictionary", "model", "both"):
        col = model[f"n_{src}"]
        out[t(f"learn_from_{src}", lang)] = [int(col[c]) if c in model.index else int(col.sum()) for c in themes_]
    return pd.DataFrame(out)


def next_to_code_html(st: Stage03, top: int = 10) -> str:
    """The texts proposed for the next round of coding (least certain first), escaped."""
    from .privacy import escape_html

    if not learned(st):
        return ""
    lang = st.lang
    nx = st.tables.get("next_to_code", pd.DataFrame())
    if nx.empty:
        return f"<p>{escape_html(t('learn_next_none', lang))}</p>"
    head = nx.head(top)
    view = pd.DataFrame({label("sector", lang): [st.scope_name(x) for x in head["sector"]],
                         t("learn_text", lang): head["text"],
                         t("learn_closest", lang): [st.theme_name(c) for c in head["closest_theme"]],
                         t("learn_probability", lang): [fmt_num(v, 2, lang) for v in head["probability"]],
                         t("learn_threshold", lang): [fmt_num(v, 2, lang) for v in head["threshold"]]})
    from .workbook import sheet_title

    intro = t("proposals_nb_next_intro", lang, n=len(nx), k=len(head), sheet=sheet_title("next_to_code", lang))
    return f"<p>{escape_html(intro)}</p>" + words_html(view, [t("learn_text", lang)])


def run_clean_first(run: str | Path, survey: str, run_dir: str = "") -> Path:
    """A notebook opened by hand on a fresh clone (no run folder given, no earlier run): run
    stage 01 on the default params into the scratch folder, say so, and return the proposals
    file. Inside a run (``run_dir`` set) a missing input stays an error."""
    from . import clean, paths

    params = paths.load_params(paths.DEFAULT_PARAMS)
    if run_dir or params.get("survey") != survey:
        raise FileNotFoundError(f"data/proposals.parquet not found in {run} nor in the last successful run; "
                                f"run stage 01 first (python -m analysis run --only 01)")
    print(f"No stage-01 output yet: running 01_clean on {paths.DEFAULT_PARAMS} into {run}")
    clean.run_clean(params, run_dir=run)
    return Path(run) / "data" / "proposals.parquet"
