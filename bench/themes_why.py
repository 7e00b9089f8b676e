"""Which words made each theme fire (debugging aid for the dictionary; build half and treebank only).

    .venv/bin/python bench/themes_why.py treebank [--false]      # old hand-checked treebank set
    .venv/bin/python bench/themes_why.py build [--errors]        # build half of the dev set
    .venv/bin/python bench/themes_why.py c [--errors]            # data/devset/proposals_c.csv (build set)
Never on the report half or on data/devset/treebank_fresh.csv (held out: the dictionary may not be
tuned on them), so neither is offered.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def explain(m, toks):
    """(theme, evidence) pairs: single words with their pattern; phrases/together marked."""
    import numpy as np
    from analysis import themes as th

    toks = [t for t in toks if len(t) < 3 or t[2] is not None]
    plain = th.typed_without_diacritics(t[1] for t in toks)
    out = []
    for t in toks:
        if len(t) > 2 and not t[2]:
            continue
        atoms = m.token_atoms(t, plain)
        for a in atoms:
            for ti in m.atom_theme_lemma.get(a, ()):
                g = "(guarded)" if a in m.guarded else ""
                out.append((m.codes[ti], f"{t[1]}->{t[0]}~{m.patterns[a].text}{g}"))
    return out


def main():
    import pandas as pd
    import themes as bt
    from analysis import proposals as pr
    from analysis import themes as th

    which = sys.argv[1]
    d = th.load_dictionary(ROOT / "params/themes/liepaja-2022.yaml")
    m = th._Matcher(d)
    if which in ("build", "c"):
        name = "proposals.csv" if which == "build" else "proposals_c.csv"
        df = pd.read_csv(ROOT / "data/devset" / name, dtype=str, keep_default_na=False)
        df = df[df["half"] == "build"].reset_index(drop=True)
        langs = [x if x in ("lv", "ru") else None for x in df["language"]]
        ids = df["id"]
    else:
        name = {"treebank": "treebank_sectors.csv"}[which]
        df = pd.read_csv(ROOT / "data/devset" / name, dtype=str, keep_default_na=False)
        langs = ["lv"] * len(df)
        ids = df["sent_id"]
    corpus = pr.build_corpus(df["text"].tolist(), list(ids), langs, d.settings["extra_stopwords"])
    hits = th.theme_hits(corpus.tokens, d)
    for i in range(len(df)):
        fired = {c: int(hits.iat[i, j]) for j, c in enumerate(hits.columns) if hits.iat[i, j]}
        auto = sorted({s for c in fired for s in d.sectors_of(c)})
        hand = sorted(x for x in df.at[i, "sectors"].split(";") if x)
        wrong = set(auto) != set(hand) if "--errors" in sys.argv else bool(set(auto) - set(hand))
        if ("--false" in sys.argv or "--errors" in sys.argv) and not wrong:
            continue
        print(f"{ids[i]} hand={hand} auto={auto} {fired}")
        print("   ", df.at[i, "text"][:300].replace("\n", " "))
        print("   ", explain(m, corpus.tokens[i]))


if __name__ == "__main__":
    main()
