"""Does learning from human codes help on text nobody here generated? The hand-coded development
set (data/devset/proposals.csv, coded by sector) as a coder's file: the model learns sectors from
the build half and is scored on the report half, against the dictionary alone.

    .venv/bin/python bench/learn_devset.py

Each text is coded by the theme dictionary (params of the sample) and its themes mapped to
sectors (Dictionary.sector_coding when the dictionary has it: a cross-cutting theme counts for
the sectors it feeds; else each theme's own sector). `analysis.learn.learn` then treats the
eight sectors as its codes: TF-IDF over lemmas + a logistic regression per sector trained on the
build half's hand codes, OR-ed with the dictionary at a cross-validated threshold. Printed:
precision, recall and F1 (95 % bootstrap interval) per sector and macro on the report half,
for the dictionary alone and for dictionary + model; and the nested cross-validation on the
build half (learn_cv) for comparison.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    import numpy as np
    import pandas as pd

    from analysis import codebook, learn, paths, proposals as pr, themes as th

    params = paths.load_params("params/liepaja-2022.yaml")
    cb = codebook.load(paths.resolve(params["codebook"]))
    dictionary = th.load_dictionary(paths.resolve(params["themes"]), sectors=list(cb.sectors))
    dev = pd.read_csv(ROOT / "data" / "devset" / "proposals.csv", dtype=str, keep_default_na=False)
    sectors = list(cb.sectors)
    ids = dev["id"].tolist()
    lang = [x if x in ("lv", "ru") else None for x in dev["language"]]
    corpus = pr.build_corpus(dev["text"].tolist(), ids, lang, dictionary.settings["extra_stopwords"])
    matcher = th._Matcher(dictionary)
    hits = np.zeros((len(dev), len(dictionary.codes)), dtype=np.int32)
    for i, toks in enumerate(corpus.tokens):
        if toks:
            hits[i] = matcher.hits(toks)
    themes = pd.DataFrame(hits > 0, columns=dictionary.codes, index=pd.Index(ids, name="proposal_id"))
    if hasattr(dictionary, "sector_coding"):
        by_sector = dictionary.sector_coding(themes)
    else:
        by_sector = pd.DataFrame(False, index=themes.index, columns=sectors)
        for c in dictionary.codes:
            if dictionary.sector_of(c) in sectors:
                by_sector[dictionary.sector_of(c)] |= themes[c]
    D = by_sector.reindex(columns=sectors, fill_value=False).astype(bool)
    truth = pd.DataFrame({s: dev["sectors"].map(lambda v, s=s: int(s in v.split(";"))).to_numpy() for s in sectors},
                         index=pd.Index(ids, name="proposal_id"))
    build = dev["half"].to_numpy() == "build"
    res = learn.learn([corpus.content_lemmas(i) for i in range(len(dev))], ids, D.reset_index(drop=True),
                      truth.loc[build], sectors, dev["text"].tolist())
    report = truth.index[~build]
    print(f"development set: {int(build.sum())} build texts (coded, learned from), {len(report)} report texts "
          f"(held out); dictionary {dictionary.path.name}")
    rows = {}
    for name, coding in (("dictionary", D), ("dictionary+model", res.coded)):
        a = th.agreement(coding.loc[report], truth.loc[report], sectors, n_boot=1000, seed=2022).set_index("theme")
        rows[name] = a
    print(f"{'sector':14s} {'n':>4s} {'dictionary F1':>22s} {'dictionary+model F1':>22s}  P/R dict -> combined")
    for s in sectors + ["macro"]:
        cells = []
        for name in rows:
            r = rows[name].loc[s]
            cells.append(f"{r['f1']:.3f} ({r['f1_lo']:.2f}-{r['f1_hi']:.2f})")
        d, c = rows["dictionary"].loc[s], rows["dictionary+model"].loc[s]
        print(f"{s:14s} {int(d['n_reference']):4d} {cells[0]:>22s} {cells[1]:>22s}  "
              f"{d['precision']:.2f}/{d['recall']:.2f} -> {c['precision']:.2f}/{c['recall']:.2f}")
    model = res.tables["learn_model"].set_index("theme")
    print("thresholds in use: " + ", ".join(f"{s} {model.at[s, 'threshold']:.2f}" for s in sectors
                                           if pd.notna(model.at[s, "threshold"])))
    cv = res.tables["learn_cv"]
    macro = cv[cv["theme"] == "macro"].set_index("method")["f1"]
    print("nested cross-validation on the build half, macro F1: " + ", ".join(f"{m} {macro[m]:.3f}" for m in macro.index))
    return 0


if __name__ == "__main__":
    sys.exit(main())
