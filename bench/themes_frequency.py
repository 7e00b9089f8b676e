"""Which single-word patterns of the theme dictionary fire most often in general Latvian text
(news, fiction, law): candidates for a theme's `weak:` list (issue 10).

    .venv/bin/python bench/themes_frequency.py [--top 40]

The general text is the UD-LVTB dev extract WITHOUT the two hand-coded sets (the old
treebank_sectors.csv and the held-out treebank_fresh.csv): about 1,500 sentences nobody coded,
used only for word frequencies. Printed per pattern: the number of sentences it matches in, whether
it is weak already, and the words it matched (most frequent first).
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "data" / "devset"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    import make_treebank_fresh as mk

    from analysis import proposals as pr
    from analysis import themes as th

    held = set()
    for name in ("treebank_sectors.csv", "treebank_fresh.csv"):
        with open(ROOT / "data" / "devset" / name, encoding="utf-8", newline="") as f:
            held |= {r["sent_id"] for r in csv.DictReader(f)}
    sents = mk.sentences()
    texts = [mk.join(forms) for sid, forms in sents.items() if sid not in held]
    d = th.load_dictionary(ROOT / "params" / "themes" / "liepaja-2022.yaml")
    m = th._Matcher(d)
    corpus = pr.build_corpus(texts, [f"s{i}" for i in range(len(texts))], ["lv"] * len(texts),
                             d.settings["extra_stopwords"])
    n_sent: Counter = Counter()
    words: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for toks in corpus.tokens:
        toks = [t for t in toks if len(t) < 3 or t[2] is not None]
        plain = th.typed_without_diacritics(t[1] for t in toks)
        seen = set()
        for t in toks:
            if len(t) > 2 and not t[2]:
                continue
            for a in m.token_atoms(t, plain):
                for ti in m.atom_theme_lemma.get(a, ()):
                    key = (m.codes[ti], m.patterns[a].text)
                    words[key][t[1]] += 1
                    seen.add(key)
        n_sent.update(seen)
    print(f"{len(texts)} uncoded treebank sentences; patterns by the number of sentences they match in")
    for (code, pat), n in n_sent.most_common(args.top):
        weak = any(p.text == pat for p in d.themes[code].weak)
        print(f"{n:4d}  {code:22s} {pat:22s} {'weak' if weak else '    '}  {', '.join(w for w, _ in words[code, pat].most_common(6))}")


if __name__ == "__main__":
    main()
