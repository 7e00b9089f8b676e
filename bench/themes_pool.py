"""Pool A: an unlabelled development pool of real treebank sentences (news, fiction) for the
theme coder's false fires, rebuilt deterministically.

    .venv/bin/python bench/themes_pool.py            # fire rate and judged false rate on pool A
    .venv/bin/python bench/themes_pool.py --show     # every fired sentence with the words that fired
    .venv/bin/python bench/themes_pool.py --show --unjudged   # only fires not yet judged

Pool A = the sentences of the UD-LVTB dev extract (sent_id order of the file) that are in neither
data/devset/treebank_sectors.csv nor data/devset/treebank_fresh.csv, at EVEN positions (0, 2, 4, ...)
of that remaining list. The odd positions (pool B) are reserved for a held-out set: this script
never builds, codes or prints them.

Hand judgements of the fires are kept in data/devset/pool_a_judged.csv (sent_id, sector, false,
note; false = "false" when the sentence is not about that sector, "true" when it is). Printed: the
share of pool-A sentences where any sector fires, the share with a fire judged false, and how many
fires are not judged yet (a changed dictionary may fire where nobody has looked).
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "data" / "devset"
JUDGED = DEVSET / "pool_a_judged.csv"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

sys.path.insert(0, str(DEVSET))


def pool_a(data: Path | None = None) -> list[tuple[str, str]]:
    """(sent_id, text) of pool A: the even positions of the sentences outside the two hand-coded
    treebank sets (the list make_treebank_fresh2.py takes pool B from), texts joined as there."""
    import lemmas as bl
    import make_treebank_fresh2 as fresh2

    sents = fresh2.fresh.sentences(bl.find_data(data))
    return [(sid, fresh2.fresh.join(sents[sid])) for sid in fresh2.remaining(list(sents))[0::2]]


def read_judged() -> dict[tuple[str, str], bool]:
    if not JUDGED.exists():
        return {}
    out = {}
    with open(JUDGED, encoding="utf-8", newline="") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            v = r["false"].strip().lower()
            if v not in ("true", "false"):
                raise SystemExit(f"{JUDGED}: row {i}, column 'false': expected true or false, got {v!r}")
            out[(r["sent_id"], r["sector"])] = v == "true"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--show", action="store_true", help="print every fired sentence and its evidence")
    ap.add_argument("--unjudged", action="store_true", help="with --show: only fires not judged yet")
    ap.add_argument("--data", default=None, help="the UD-LVTB extract (default: as bench/lemmas.py)")
    args = ap.parse_args()
    import themes as bt
    import themes_why as bw
    from analysis import proposals as pr
    from analysis import themes as th

    pool = pool_a(Path(args.data) if args.data else None)
    d = th.load_dictionary(ROOT / "params/themes/liepaja-2022.yaml")
    texts = [t for _, t in pool]
    auto, coded = bt.code_sectors(texts, ["lv"] * len(texts), d)
    judged = read_judged()
    fired = auto.any(axis=1)
    n_false = n_unjudged = 0
    m = th._Matcher(d) if args.show else None
    corpus = pr.build_corpus(texts, [s for s, _ in pool], ["lv"] * len(texts),
                             d.settings["extra_stopwords"]) if args.show else None
    for i in fired[fired].index:
        sid = pool[i][0]
        secs = [s for s in bt.SECTORS if auto.at[i, s]]
        verdicts = {s: judged.get((sid, s)) for s in secs}
        n_false += any(v is True for v in verdicts.values())
        n_unjudged += sum(v is None for v in verdicts.values())
        if args.show and (not args.unjudged or None in verdicts.values()):
            themes = [c for c in coded.columns if coded.at[i, c]]
            print(f"{sid} {secs} {verdicts} <- {themes}\n    {pool[i][1][:400]}\n    {bw.explain(m, corpus.tokens[i])}")
    n = len(pool)
    print(f"pool A: {n} sentences; a sector fires in {int(fired.sum())} ({fired.mean():.1%}); "
          f"judged false in {n_false} ({n_false / n:.1%}); {n_unjudged} fired sector(s) not judged")


if __name__ == "__main__":
    main()
