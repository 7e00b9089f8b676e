"""Select the FRESH treebank sentences (issue 10) and write their texts for hand coding.

Usage (from the repository root):  .venv/bin/python data/devset/make_treebank_fresh.py [--write]

Selection: the sentences of ../shared/data/ud-latvian-lvtb/lv_lvtb-ud-dev.form-lemma-upos.tsv.gz
that are NOT in treebank_sectors.csv (not every 7th), 300 drawn with random.Random(20261201),
kept in file order. Text rebuilt from the forms (punctuation attached). Without --write it only
checks that treebank_fresh.csv holds exactly these sentences and texts. Standard library only.
"""
import csv
import gzip
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREEBANK = HERE.parents[2] / "shared" / "data" / "ud-latvian-lvtb" / "lv_lvtb-ud-dev.form-lemma-upos.tsv.gz"
SEED, N, STEP = 20261201, 300, 7
CLOSE = {".", ",", "!", "?", ":", ";", ")", "]", "»", "”", "…", "%"}
OPEN = {"(", "[", "«", "“", "„"}


def join(forms):
    out, quote_open = "", False
    glue_next = True
    for f in forms:
        if f == '"':
            if quote_open:
                out += f
                glue_next = False
            else:
                out += ("" if glue_next else " ") + f
                glue_next = True
            quote_open = not quote_open
            continue
        if f in CLOSE:
            out += f
        else:
            out += ("" if glue_next else " ") + f
        glue_next = f in OPEN
    return out


def sentences(path=TREEBANK):
    """sent_id -> its forms, in the file's order."""
    sents = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            sid, form, _, _ = line.rstrip("\n").split("\t")
            sents.setdefault(sid, []).append(form)
    return sents


def selection():
    sents = sentences()
    ids = list(sents)
    old = set(ids[::STEP][:N])
    rest = [i for i, s in enumerate(ids) if s not in old]
    picked = sorted(random.Random(SEED).sample(rest, N))
    return [(ids[i], join(sents[ids[i]])) for i in picked]


def write_or_check(path, sel, prog, what):
    """With --write, write `sel` (sent_id, text) to `path` with empty codes for hand coding;
    else exit unless `path` holds exactly those sentences and texts (`what` names the selection)."""
    if "--write" in sys.argv:
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["sent_id", "text", "sectors", "note"])
            for sid, text in sel:
                w.writerow([sid, text, "", ""])
        print(f"wrote {path} ({len(sel)} sentences, sectors to be coded by hand)")
        return
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if [(r["sent_id"], r["text"]) for r in rows] != sel:
        sys.exit(f"{prog}: {path.name} does not hold the selection ({what})")
    print(f"{path.name}: {len(rows)} sentences, the selection of {what}")


def main():
    write_or_check(HERE / "treebank_fresh.csv", selection(), "make_treebank_fresh", f"seed {SEED}")


if __name__ == "__main__":
    main()
