"""Throughput of the text layer on survey-like answers (a stub to be extended).

    .venv/bin/python bench/text.py [--n 5000] [--seed 1]

Builds N short answers from a small Latvian/Russian vocabulary (with repeats, some
typed without diacritics) and times detect_language, tokenize and lemmatize_tokens.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

LV = (
    "vajag vairāk veloceliņu un soliņu pie jūras, pilsētā trūkst mājokļu, mājokļu "
    "pieejamība ir zema, sabiedriskais transports vakaros kursē reti, uzlabot ielu "
    "apgaismojumu Karostā, jauniešiem nav kur pavadīt brīvo laiku, tūristiem vajadzētu "
    "informāciju angļu valodā, sakārtot parkus un rotaļu laukumus bērniem"
).split()
RU = "нужно больше парковок и велодорожек в городе, улицы надо ремонтировать".split()


def make_answers(n: int, seed: int) -> list[str]:
    from analysis.text import strip_diacritics

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.15:
            words = rng.choices(RU, k=rng.randint(3, 12))
        else:
            words = rng.choices(LV, k=rng.randint(2, 25))
        text = " ".join(words)
        if rng.random() < 0.2:
            text = strip_diacritics(text)
        out.append(text)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    from analysis import text as T

    t_import = time.perf_counter() - t0
    answers = make_answers(args.n, args.seed)

    # one-time loading of the models and dictionaries (lazy in the package)
    t0 = time.perf_counter()
    T.detect_language("sveiki")
    T.tokenize("sveiki")
    T.lemmatize_tokens(["sveiki"], "lv")
    T.lemmatize_tokens(["majoklu"], "lv", restore=True)
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

    print(f"import analysis.text: {t_import * 1000:.0f} ms")
    print(f"first use (load py3langid, NLTK, simplemma, hunspell, pymorphy3): {t_load:.2f} s")
    print(f"{args.n} answers, {n_tok} tokens")
    print(f"detect_language: {args.n / t_lang:>10,.0f} answers/s")
    print(f"tokenize:        {n_tok / t_tok:>10,.0f} tokens/s")
    print(f"lemmatize_tokens:{n_tok / t_lem:>10,.0f} tokens/s (lemma caches cold, resources loaded; answers repeat words)")


if __name__ == "__main__":
    main()
