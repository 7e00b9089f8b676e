"""Learning from human coding on the embedded sample: cross-validated F1 of the dictionary, the
model and both against the simulated human coding (data/sample/human_coding.csv), and the cost
of learning on a large corpus.

    .venv/bin/python bench/learn.py                  # F1 per theme and macro (the closing-note figures)
    .venv/bin/python bench/learn.py --scale 100000   # also: learning + applying on 100,000 texts

The sample is cleaned in memory by stage 01 (into a temporary folder), then
`analysis.proposals.run_stage` runs as the notebook calls it, with the params' human coding.
Printed: learn_cv.csv as a table (F1 with its 95 % bootstrap interval, nested 5-fold
cross-validation, pooled), the themes whose model is in use, the agreement of the dictionary
alone and of the final coding with the planted themes (all texts), and the stage's time for
learning. With --scale the coded texts' lemma lists are resampled into N texts (words dropped at
random) and `analysis.learn.learn` is timed on them.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/liepaja-2022.yaml")
    ap.add_argument("--scale", type=int, default=0, help="also time learning on this many texts")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd

    from analysis import clean, codebook, learn, paths, proposals as pr, themes as th

    params = paths.load_params(args.params)
    cb = codebook.load(paths.resolve(params["codebook"]))
    dictionary = th.load_dictionary(paths.resolve(params["themes"]), sectors=list(cb.sectors))
    human = learn.load_human_coding([paths.resolve(p) for p in params["human_coding"]], dictionary)
    with tempfile.TemporaryDirectory(prefix="bench-learn-") as tmp:
        clean.run_clean(params, run_dir=tmp)
        props, quarantine = pr.read_proposals(Path(tmp) / "data" / "proposals.parquet", cb)
    truth = json.loads((ROOT / "data" / "sample" / "truth.json").read_text(encoding="utf-8"))
    res = pr.run_stage(props, dictionary, cb, quarantine=quarantine, human=human, truth=truth)
    cv = res.tables["learn_cv"]
    wide = cv.pivot(index="theme", columns="method", values="f1")
    lo = cv.pivot(index="theme", columns="method", values="f1_lo")
    hi = cv.pivot(index="theme", columns="method", values="f1_hi")
    order = [c for c in dictionary.codes if c in wide.index] + ["macro"]     # the themes people coded
    print(f"{len(human)} coded texts; nested 5-fold cross-validation, F1 (95 % bootstrap interval)")
    print(f"{'theme':24s} {'dictionary':>20s} {'model':>20s} {'dictionary+model':>20s}  threshold")
    model = res.tables["learn_model"].set_index("theme")
    for theme in order:
        cells = [f"{wide.at[theme, m]:.3f} ({lo.at[theme, m]:.2f}-{hi.at[theme, m]:.2f})"
                 if pd.notna(wide.at[theme, m]) else "—" for m in learn.METHODS]
        thr = model.at[theme, "threshold"] if theme in model.index else np.nan
        print(f"{theme:24s} {cells[0]:>20s} {cells[1]:>20s} {cells[2]:>20s}  "
              f"{'' if theme == 'macro' else ('never' if pd.isna(thr) else f'{thr:.2f}')}")
    a = res.tables["agreement"]
    planted = a[(a["reference"] == "planted") & (a["theme"] == "macro")]
    planted_codes = [t["code"] for t in truth.get("themes", []) if t.get("code") in dictionary.themes]
    dict_planted = th.agreement(res.hits > 0, pr.planted_coding(truth, props, planted_codes)[0],
                                planted_codes, n_boot=0)
    print(f"against the planted themes (all {len(props)} texts, the {len(planted_codes)} planted themes), "
          f"macro F1: dictionary alone "
          f"{dict_planted.iloc[-1]['f1']:.3f}, final coding {planted['f1'].iloc[0]:.3f}")
    print(f"models in use: {int(model['threshold'].notna().sum())} of {len(model)} themes; "
          f"codes by source: " + ", ".join(f"{s} {int(model[f'n_{s}'].sum())}" for s in learn.SOURCES))
    print(f"stage 03 seconds: learn {res.seconds.get('learn', 0):.1f}, whole stage "
          f"{sum(v for k, v in res.seconds.items() if not k.startswith('corpus_')):.1f}")
    if args.scale:
        rng = np.random.default_rng(1)
        base = [res.corpus.content_lemmas(i) for i in range(len(props))]
        docs = [[w for w in base[i % len(base)] if rng.random() > 0.2] for i in range(args.scale)]
        ids = [f"S{i:07d}" for i in range(args.scale)]
        coded_pos = {p: i for i, p in enumerate(res.corpus.ids)}
        matched, _ = learn.match_coding(human, props, dictionary.codes)
        hum = matched.rename(index=lambda p: ids[coded_pos[p]])
        texts = [" ".join(d) + f" #{i}" for i, d in enumerate(docs)]
        dict_coded = pd.DataFrame((res.hits > 0).to_numpy()[np.arange(args.scale) % len(base)],
                                  columns=dictionary.codes)
        t0 = time.perf_counter()
        learn.learn(docs, ids, dict_coded, hum, dictionary.codes, texts)
        print(f"learn.learn on {args.scale} texts ({len(hum)} coded): {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
