"""Latvian lemma accuracy on the UD Latvian (LVTB) development split, and throughput.

    .venv/bin/python bench/lemmas.py [--data PATH] [--quick]

Accuracy = share of non-punctuation tokens whose output equals the gold lemma,
case-insensitive, overall and per UPOS, for
  (a) simplemma alone, (b) simplemma -> hunspell (hunspell's first stem for words
  that simplemma.is_known rejects), (c) analysis.text.lemmatize (word by word, restore on)
  and (c') analysis.text.lemmatize_tokens (sentence by sentence: diacritics restored
  only in sentences typed without any);
and the same with diacritics stripped from the input forms (gold lemmas keep theirs):
  our lemmatize without restoration vs with restoration.
Throughput: tokens per second of lemmatize_tokens over the treebank sentences, first
pass (cold caches) and repeated passes (warm caches, as in a survey where the same
words recur).

The treebank is used only to measure; nothing is built from it.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_DATA = Path("/work/shared/data/ud-latvian-lvtb/lv_lvtb-ud-dev.form-lemma-upos.tsv.gz")


def find_data(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    for cand in (
        DEFAULT_DATA,
        ROOT.parent / "shared/data/ud-latvian-lvtb/lv_lvtb-ud-dev.form-lemma-upos.tsv.gz",
        ROOT / "shared/data/ud-latvian-lvtb/lv_lvtb-ud-dev.form-lemma-upos.tsv.gz",
    ):
        if cand.exists():
            return cand
    raise SystemExit("treebank extract not found; pass --data PATH")


def read_treebank(path: Path) -> list[list[tuple[str, str, str]]]:
    """Sentences as lists of (form, lemma, upos), punctuation included.

    The file is read as plain tab-separated lines: its forms contain quote
    characters that a CSV reader would treat as quoting."""
    sents: dict[str, list] = defaultdict(list)
    order: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            sid, form, lemma, upos = line.rstrip("\n").split("\t")
            if sid not in sents:
                order.append(sid)
            sents[sid].append((form, lemma, upos))
    return [sents[s] for s in order]


def score(pairs, outputs):
    """pairs: [(gold lemma, upos)], outputs: [str] -> (overall, {upos: (acc, n)})."""
    ok: Counter = Counter()
    n: Counter = Counter()
    for (gold, upos), out in zip(pairs, outputs):
        if upos == "PUNCT":
            continue
        n[upos] += 1
        ok[upos] += out.lower() == gold.lower()
    total = sum(n.values())
    return sum(ok.values()) / total, {u: (ok[u] / n[u], n[u]) for u in n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data")
    ap.add_argument("--quick", action="store_true", help="skip the baselines")
    args = ap.parse_args()

    import simplemma

    from analysis import text as T

    sents = read_treebank(find_data(args.data))
    tokens = [t for s in sents for t in s]
    pairs = [(lem, upos) for _, lem, upos in tokens]
    n_words = sum(1 for _, _, u in tokens if u != "PUNCT")
    print(f"treebank: {len(sents)} sentences, {len(tokens)} tokens, {n_words} non-punctuation")

    def per_word(fn, forms):
        cache: dict[str, str] = {}
        out = []
        for f in forms:
            if f not in cache:
                cache[f] = fn(f)
            out.append(cache[f])
        return out

    def sm(w):
        return simplemma.lemmatize(w, lang="lv")

    def sm_hs(w):
        # hunspell's first stem for words simplemma does not know
        lem = simplemma.lemmatize(w, lang="lv")
        if simplemma.is_known(w, lang="lv"):
            return lem
        stems = T._hunspell().stem(w)
        return stems[0] if stems else lem

    forms = [f for f, _, _ in tokens]
    stripped_sents = [[T.strip_diacritics(f) for f, _, _ in s] for s in sents]
    stripped = [f for s in stripped_sents for f in s]

    results: list[tuple[str, float, dict]] = []

    def run(name, outputs):
        acc, per = score(pairs, outputs)
        results.append((name, acc, per))

    if not args.quick:
        run("(a) simplemma", per_word(sm, forms))
        run("(b) simplemma->hunspell", per_word(sm_hs, forms))
    run("(c) ours: lemmatize(w)", per_word(lambda w: T.lemmatize(w, "lv"), forms))
    run(
        "(c') ours: lemmatize_tokens",
        [lem for s in sents for lem in T.lemmatize_tokens([f for f, _, _ in s], "lv")],
    )
    if not args.quick:
        run("stripped: simplemma->hunspell", per_word(sm_hs, stripped))
    run("stripped: ours, no restore", per_word(lambda w: T.lemmatize(w, "lv", restore=False), stripped))
    run("stripped: ours, restore", per_word(lambda w: T.lemmatize(w, "lv"), stripped))
    run(
        "stripped: lemmatize_tokens",
        [lem for s in stripped_sents for lem in T.lemmatize_tokens(s, "lv")],
    )

    # form-level restoration accuracy on tokens that had diacritics
    restored = per_word(T.restore_diacritics, stripped)
    had = [(f, r) for f, r in zip(forms, restored) if f != T.strip_diacritics(f)]
    plain = [(f, r) for f, r in zip(forms, restored) if f == T.strip_diacritics(f)]
    rest_acc = sum(f == r for f, r in had) / len(had)
    keep_acc = sum(f == r for f, r in plain) / len(plain)

    upos_order = [u for u, _ in Counter(u for _, _, u in tokens if u != "PUNCT").most_common()]
    head = f"{'method':32s} {'all':>6s} " + " ".join(f"{u:>6s}" for u in upos_order)
    print()
    print("Lemma accuracy (case-insensitive, punctuation excluded)")
    print(head)
    print("-" * len(head))
    for name, acc, per in results:
        print(f"{name:32s} {acc:6.3f} " + " ".join(f"{per.get(u, (float('nan'), 0))[0]:6.3f}" for u in upos_order))
    print(f"{'n tokens':32s} {n_words:6d} " + " ".join(f"{results[0][2][u][1]:6d}" for u in upos_order))
    print()
    print(f"diacritic restoration, form level: {rest_acc:.3f} of {len(had)} tokens that had "
          f"diacritics restored exactly; {keep_acc:.3f} of {len(plain)} plain tokens kept")

    # throughput in a fresh cache state
    for fn in (T._lemmatize_cached, T._lv_lemma_cached, T._restore_word):
        fn.cache_clear()
    sent_forms = [[f for f, _, _ in s] for s in sents]
    t0 = time.perf_counter()
    for s in sent_forms:
        T.lemmatize_tokens(s, "lv")
    cold = time.perf_counter() - t0
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        for s in sent_forms:
            T.lemmatize_tokens(s, "lv")
    warm = (time.perf_counter() - t0) / reps
    for f in forms:  # warm the word-level (restore=True) cache entries
        T.lemmatize(f, "lv")
    t0 = time.perf_counter()
    for _ in range(reps):
        for f in forms:
            T.lemmatize(f, "lv")
    warm_word = (time.perf_counter() - t0) / reps
    uniq = len(set(forms))
    print()
    print("Throughput (lemmatize_tokens over the treebank sentences)")
    print(f"  first pass, cold caches ({uniq} distinct forms): {len(forms) / cold:>10,.0f} tokens/s")
    print(f"  repeated passes, warm caches:                  {len(forms) / warm:>10,.0f} tokens/s")
    print(f"  lemmatize(word) per token, warm caches:        {len(forms) / warm_word:>10,.0f} tokens/s")
    realistic = len(forms) * (1 + reps) / (cold + reps * warm)
    print(f"  {1 + reps} passes (1 cold + {reps} warm) overall:           {realistic:>10,.0f} tokens/s")


if __name__ == "__main__":
    main()
