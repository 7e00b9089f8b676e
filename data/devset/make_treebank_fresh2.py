"""Select the SECOND fresh treebank sentences (issue 10) and write their texts for hand coding.

Usage (from the repository root):  .venv/bin/python data/devset/make_treebank_fresh2.py [--write]

Selection: the sentences of ../shared/data/ud-latvian-lvtb/lv_lvtb-ud-dev.form-lemma-upos.tsv.gz,
in file order, that are in neither treebank_sectors.csv nor treebank_fresh.csv; of that remaining
list the odd positions (1, 3, 5, ... zero-based) form pool B (the even positions are a separate
development pool and are not used here); 300 drawn from pool B with random.Random(20261202), kept
in file order. Text rebuilt from the forms with make_treebank_fresh.join. Without --write it only
checks that treebank_fresh2.csv holds exactly these sentences and texts. Standard library only.
"""
import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_treebank_fresh as fresh  # noqa: E402  (same folder: join, sentences, TREEBANK)

HERE = fresh.HERE
SEED, N = 20261202, 300
OUT = "treebank_fresh2.csv"


def used_ids():
    """sent_ids of treebank_sectors.csv and treebank_fresh.csv, checked against their own rules."""
    used = set()
    for name in ("treebank_sectors.csv", "treebank_fresh.csv"):
        with open(HERE / name, encoding="utf-8", newline="") as f:
            used |= {r["sent_id"] for r in csv.DictReader(f)}
    return used


def remaining(sents):
    """The sent_ids of `sents` (file order) outside treebank_sectors.csv and treebank_fresh.csv:
    pool A is its even positions (bench/themes_pool.py), pool B its odd positions."""
    used = used_ids()
    rest = [s for s in sents if s not in used]
    if len(sents) - len(rest) != 2 * fresh.N:
        sys.exit(f"make_treebank_fresh2: expected {2 * fresh.N} sentences already used by "
                 f"treebank_sectors.csv and treebank_fresh.csv, found {len(sents) - len(rest)}")
    return rest


def pool_b(sents):
    return remaining(sents)[1::2]


def selection():
    sents = fresh.sentences()
    pool = pool_b(list(sents))
    picked = sorted(random.Random(SEED).sample(range(len(pool)), N))
    return [(pool[i], fresh.join(sents[pool[i]])) for i in picked]


def main():
    fresh.write_or_check(HERE / OUT, selection(), "make_treebank_fresh2", f"seed {SEED} from pool B")


if __name__ == "__main__":
    main()
