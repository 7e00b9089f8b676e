"""Speed of stage 03 (the open proposals) on 100,000 generated proposals, and of the text layer.

    .venv/bin/python bench/text.py                 # the whole stage on 100,000 proposals
    .venv/bin/python bench/text.py --n 20000       # smaller
    .venv/bin/python bench/text.py --micro         # only the text-layer throughput (the old stub)
    .venv/bin/python bench/text.py --baseline REV [--sizes 10000,100000]
                                                   # HEAD vs git revision REV side by side

``--baseline REV`` (issue 15): the same generated proposals (written once to a parquet file) go
through ``analysis.proposals.run_stage`` in a fresh child process for REV (its src/analysis and
params exported with ``git archive``, as bench/scale.py --baseline does) and for this checkout,
at each size; then the start-up on the sample: a fresh process importing the package, loading
the dictionary and running the stage on the sample's proposals, for REV, for this checkout with
an empty lemma cache (a first run) and again (a rerun, the cache filled). Prints the times side
by side and whether the written tables are byte-identical. Nice it on a shared machine.

The proposals are the embedded sample's (data/sample, cleaned in memory by stage 01) replicated
with new ids and perturbed so that the corpus is not the same few hundred texts again: sentences
shuffled and recombined across texts, some texts typed without diacritics, some words with a
typing error (a new word form the lemmatiser has not seen). Then `analysis.proposals.run_stage`
runs exactly as the notebook calls it (language, tokens, lemmas, keywords, keyness,
collocations, dictionary coding, theme tables and tests, quotes, NMF topics, coding sample).

Printed: total time of the stage, lemmatisation throughput in tokens per second (with the
per-form cache, as the stage runs it), peak memory (resident set size of the process) and the
time of each step. Goals (issue 5): under 90 s, at least 100,000 tokens/s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("BENCH_SRC") or str(ROOT / "src"))

GOAL_SECONDS = 90.0
GOAL_TOKENS_PER_S = 100_000
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_proposals():
    """The embedded sample through stage 01, in memory (nothing written to the project)."""
    from analysis import clean, paths

    params = paths.load_params(ROOT / "params" / "liepaja-2022.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        result = clean.run_clean(params, run_dir=tmp, write=False)
    return result.proposals, result.quarantine


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]          # two letters swapped


def generate(base, n: int, seed: int):
    """n proposals built from the sample's: new ids, sentences recombined, perturbed."""
    import numpy as np
    import pandas as pd

    from analysis.text import strip_diacritics

    rng = random.Random(seed)
    base = base.reset_index(drop=True)
    sentences = [_SENTENCE.split(t) for t in base["text"].astype(str)]
    by_lang: dict[str, list[int]] = {}
    for i, lang in enumerate(base["form_language"].astype("string").fillna("email")):
        by_lang.setdefault(str(lang), []).append(i)
    rows = rng.choices(range(len(base)), k=n)
    texts = []
    for k, i in enumerate(rows):
        parts = list(sentences[i])
        if rng.random() < 0.5:                                     # borrow a sentence of another text
            pool = by_lang.get(str(base.at[i, "form_language"]) if pd.notna(base.at[i, "form_language"]) else "email")
            j = rng.choice(pool) if pool else i
            parts.append(rng.choice(sentences[j]))
        rng.shuffle(parts)
        text = " ".join(p for p in parts if p)
        if rng.random() < 0.15:
            text = strip_diacritics(text)
        if rng.random() < 0.3:
            words = text.split(" ")
            w = rng.randrange(len(words))
            words[w] = _typo(words[w], rng)
            text = " ".join(words)
        texts.append(text)
    out = base.loc[rows].reset_index(drop=True).copy()
    n_resp = max(1, n // 2)
    resp = np.array([f"B-{rng.randrange(n_resp):08d}" for _ in range(n)], dtype=object)
    email = out["source"].astype(str).to_numpy() == "email"
    resp[email] = [f"E-{k:08d}" for k in range(int(email.sum()))]
    out["respondent_id"] = pd.array(resp, dtype="string")
    out["proposal_id"] = pd.array([f"{r}:{k:07d}" for k, r in enumerate(resp)], dtype="string")
    out["text"] = pd.array(texts, dtype="string")
    out["n_chars"] = pd.array([len(t) for t in texts], dtype="Int64")
    return out


def bench_stage(n: int, seed: int) -> int:
    from analysis import codebook, proposals, themes

    t0 = time.perf_counter()
    base, quarantine = sample_proposals()
    cb = codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    dictionary = themes.load_dictionary(ROOT / "params" / "themes" / "liepaja-2022.yaml")
    data = generate(base, n, seed)
    rss_before = peak_rss_mb()
    print(f"prepared {len(data):,} proposals from {len(base):,} sample texts in {time.perf_counter() - t0:.1f} s "
          f"(peak RSS so far {rss_before:,.0f} MB)")

    t0 = time.perf_counter()
    result = proposals.run_stage(data, dictionary, cb, min_cell=10, fdr=0.05, quarantine=quarantine)
    total = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        proposals.write_tables(result.tables, tmp)
        t_write = time.perf_counter() - t1
    corpus = result.corpus
    rate = corpus.lemmatise_tokens_per_second
    peak = peak_rss_mb()
    print(f"\nstage 03 on {len(data):,} proposals ({corpus.n_word_tokens:,} word tokens, "
          f"{corpus.n_forms:,} distinct forms)")
    print(f"  total time:          {total:8.1f} s   (goal < {GOAL_SECONDS:.0f} s)  "
          f"{'OK' if total < GOAL_SECONDS else 'MISSED'}")
    print(f"  lemmatisation:       {rate:>10,.0f} tokens/s (per-form cache; goal >= {GOAL_TOKENS_PER_S:,})  "
          f"{'OK' if rate >= GOAL_TOKENS_PER_S else 'MISSED'}")
    new = corpus.seconds.get("lemmatise_new_forms", float("nan"))
    print(f"                       of which {corpus.n_forms:,} distinct forms analysed for the first time in "
          f"{new:.2f} s ({corpus.n_forms / new:,.0f} forms/s): a corpus with more distinct forms costs about "
          f"{1 / (corpus.n_forms / new) * 1e6:,.0f} µs per new form")
    print(f"  peak memory (RSS):   {peak:8,.0f} MB   (before the stage {rss_before:,.0f} MB)")
    print(f"  writing the tables:  {t_write:8.2f} s")
    print("  steps:")
    for name, sec in result.seconds.items():
        print(f"    {name:<22}{sec:8.2f} s")
    return 0 if total < GOAL_SECONDS and rate >= GOAL_TOKENS_PER_S else 1


def bench_micro(n: int, seed: int) -> int:
    """The text layer alone on short synthetic answers (cold lemma caches)."""
    from analysis import text as T

    lv = ("vajag vairāk veloceliņu un soliņu pie jūras, pilsētā trūkst mājokļu, mājokļu pieejamība ir "
          "zema, sabiedriskais transports vakaros kursē reti, uzlabot ielu apgaismojumu Karostā, "
          "jauniešiem nav kur pavadīt brīvo laiku, sakārtot parkus un rotaļu laukumus bērniem").split()
    ru = "нужно больше парковок и велодорожек в городе, улицы надо ремонтировать".split()
    rng = random.Random(seed)
    answers = []
    for _ in range(n):
        words = rng.choices(ru, k=rng.randint(3, 12)) if rng.random() < 0.15 else rng.choices(lv, k=rng.randint(2, 25))
        text = " ".join(words)
        answers.append(T.strip_diacritics(text) if rng.random() < 0.2 else text)
    t0 = time.perf_counter()
    T.detect_language("sveiki")
    T.lemmatize_tokens(["sveiki", "majoklu"], "lv")
    T.lemmatize_tokens(["привет"], "ru")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    langs = [T.detect_language(a) for a in answers]
    t_lang = time.perf_counter() - t0
    t0 = time.perf_counter()
    toks = [T.tokenize(a) for a in answers]
    t_tok = time.perf_counter() - t0
    n_tok = sum(map(len, toks))
    t0 = time.perf_counter()
    for lang, tk in zip(langs, toks):
        T.lemmatize_tokens(tk, lang)
    t_lem = time.perf_counter() - t0
    print(f"first use (load py3langid, NLTK, simplemma, hunspell, pymorphy3): {t_load:.2f} s")
    print(f"{n} answers, {n_tok} tokens")
    print(f"detect_language: {n / t_lang:>10,.0f} answers/s")
    print(f"tokenize:        {n_tok / t_tok:>10,.0f} tokens/s")
    print(f"lemmatize_tokens:{n_tok / t_lem:>10,.0f} tokens/s (answers repeat words)")
    return 0


def _child(data: str, params_root: str, tables: str) -> int:
    """In a fresh process (BENCH_SRC = the tree to time): stage 03 on the parquet file `data`
    with the codebook and dictionary of `params_root`; prints one JSON line of times."""
    t0 = time.perf_counter()
    import pandas as pd

    from analysis import codebook, proposals, themes

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    cb = codebook.load(Path(params_root) / "codebooks" / "liepaja-2022.yaml")
    dictionary = themes.load_dictionary(Path(params_root) / "themes" / "liepaja-2022.yaml",
                                        sectors=list(cb.sectors))
    t_dict = time.perf_counter() - t1
    frame = pd.read_parquet(data)
    quarantine = pd.read_parquet(Path(data).with_name("quarantine.parquet"))
    t2 = time.perf_counter()
    result = proposals.run_stage(frame, dictionary, cb, min_cell=10, fdr=0.05, quarantine=quarantine)
    t_stage = time.perf_counter() - t2
    proposals.write_tables(result.tables, tables)
    print(json.dumps({"import": t_import, "dictionary": t_dict, "stage": t_stage,
                      "total": time.perf_counter() - t0, "peak_mb": peak_rss_mb()}))
    return 0


def _run_child(src: Path, params_root: Path, data: Path, tables: Path, env: dict | None = None,
               fallback: Path | None = None) -> dict:
    """Times of one child run. The baseline runs on this checkout's params (the same dictionary,
    so the tables can be compared byte for byte) and, if its code cannot read them, on its own
    (``fallback``; then ``own_params`` is set and the tables differ by the dictionary)."""
    import subprocess

    e = dict(os.environ, BENCH_SRC=str(src), **(env or {}))
    out = subprocess.run([sys.executable, __file__, "--child", str(data), str(params_root), str(tables)],
                         env=e, capture_output=True, text=True, cwd=ROOT)
    if out.returncode and fallback is not None:
        got = _run_child(src, fallback, data, tables, env)
        got["own_params"] = True
        return got
    if out.returncode:
        raise SystemExit(f"child failed ({src}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _same_tables(a: Path, b: Path) -> str:
    names = sorted(p.name for p in a.glob("*.csv"))
    if names != sorted(p.name for p in b.glob("*.csv")):
        return "different table sets"
    diff = [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]
    return f"{len(names)} tables byte-identical" if not diff else "DIFFERENT: " + ", ".join(diff)


def bench_baseline(rev: str, sizes: list[int], seed: int) -> int:
    sys.path.insert(0, str(ROOT / "bench"))
    from ingest import baseline_tree

    work = Path(tempfile.mkdtemp(prefix="bench-text-"))
    base_src = baseline_tree(rev, work)
    head_src = ROOT / "src"
    base, quarantine = sample_proposals()
    rows = []
    status = 0
    for n in sizes:
        folder = work / f"n{n}"
        folder.mkdir()
        frame = generate(base, n, seed) if n else base
        frame.to_parquet(folder / "proposals.parquet")
        quarantine.to_parquet(folder / "quarantine.parquet")
        label = f"{n:,} proposals" if n else f"sample ({len(base):,})"
        b = _run_child(base_src, ROOT / "params", folder / "proposals.parquet", folder / "t-base",
                       fallback=base_src.parent / "params")
        h = _run_child(head_src, ROOT / "params", folder / "proposals.parquet", folder / "t-head")
        same = _same_tables(folder / "t-base", folder / "t-head")
        if b.get("own_params"):
            same += f" ({rev} needed its own params)"
        else:
            status |= not same.endswith("identical")
        rows.append((label, "run_stage", b["stage"], h["stage"], same))
        print(f"{label:>20}: run_stage {b['stage']:7.1f} s ({rev}) -> {h['stage']:7.1f} s (HEAD), "
              f"x{b['stage'] / h['stage']:.1f}; peak {b['peak_mb']:,.0f} -> {h['peak_mb']:,.0f} MB; {same}",
              flush=True)
    # start-up on the sample: a fresh process, as a notebook kernel starts
    folder = work / "sample"
    folder.mkdir()
    base.to_parquet(folder / "proposals.parquet")
    quarantine.to_parquet(folder / "quarantine.parquet")
    b = _run_child(base_src, ROOT / "params", folder / "proposals.parquet", folder / "t-base",
                   fallback=base_src.parent / "params")
    cold = _run_child(head_src, ROOT / "params", folder / "proposals.parquet", folder / "t-cold",
                      {"ANALYSIS_CACHE_DIR": str(work / "cache")})
    warm = _run_child(head_src, ROOT / "params", folder / "proposals.parquet", folder / "t-warm",
                      {"ANALYSIS_CACHE_DIR": str(work / "cache")})
    same = _same_tables(folder / "t-base", folder / "t-warm")
    if b.get("own_params"):
        same += f" ({rev} needed its own params)"
    else:
        status |= not same.endswith("identical")
    print(f"\nstart-up on the sample ({len(base):,} proposals), fresh process: import + dictionary + stage")
    print(f"  {'':12}{'import':>9}{'dictionary':>12}{'stage':>9}{'total':>9}")
    for name, r in ((rev, b), ("HEAD, cold", cold), ("HEAD, rerun", warm)):
        print(f"  {name:12}{r['import']:9.2f}{r['dictionary']:12.2f}{r['stage']:9.2f}{r['total']:9.2f}")
    print(f"  tables {rev} vs HEAD rerun: {same}; cold vs rerun: {_same_tables(folder / 't-cold', folder / 't-warm')}")
    shutil.rmtree(work, ignore_errors=True)
    return status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="number of proposals (default 100,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--micro", action="store_true", help="only the text-layer throughput")
    ap.add_argument("--baseline", metavar="REV", help="HEAD vs this git revision, side by side (see above)")
    ap.add_argument("--sizes", default="10000,100000", help="proposals per size for --baseline")
    ap.add_argument("--child", nargs=3, metavar=("DATA", "PARAMS", "TABLES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(*args.child)
    if args.baseline:
        return bench_baseline(args.baseline, [int(float(x)) for x in args.sizes.split(",") if x], args.seed)
    if args.micro:
        return bench_micro(min(args.n, 5000), args.seed)
    return bench_stage(args.n, args.seed)


if __name__ == "__main__":
    sys.exit(main())
