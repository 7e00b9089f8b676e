"""Check the hand-written development set and print its counts.

Usage (from the repository root):  .venv/bin/python data/devset/check_devset.py
Standard library only. Exits non-zero with a message naming file, row and column on any problem.
"""
import collections
import csv
import gzip
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTORS = ["housing", "mobility", "urban", "education", "business", "culture", "participation", "newcomers"]
# Split rule: stratum = (first sector of the text in this order, or "none"; language lv vs
# ru/mixed; one sector vs several); within a stratum, in id order: build, report, build, ...
PRIORITY = ["housing", "education", "newcomers", "participation", "business", "culture", "mobility", "urban"]
TREEBANK = HERE.parents[2] / "shared" / "data" / "ud-latvian-lvtb" / "lv_lvtb-ud-dev.form-lemma-upos.tsv.gz"
STEP, N_TB = 7, 300


def fail(msg):
    sys.exit(f"check_devset: {msg}")


def read(name, columns):
    path = HERE / name
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or list(rows[0]) != columns:
        fail(f"{path}: expected columns {columns}, got {list(rows[0]) if rows else 'no rows'}")
    for i, r in enumerate(rows, start=2):
        for s in [x for x in r["sectors"].split(";") if x]:
            if s not in SECTORS:
                fail(f"{path} line {i}, column sectors: unknown code {s!r}; expected one of {SECTORS}")
    return rows


def main():
    p = read("proposals.csv", ["id", "text", "language", "sectors", "topics", "half", "note"])
    seen, counts = collections.Counter(), collections.defaultdict(collections.Counter)
    for i, r in enumerate(p, start=1):
        if r["id"] != f"dev{i:03d}":
            fail(f"proposals.csv row {i}, column id: expected dev{i:03d}, got {r['id']!r}")
        if r["language"] not in ("lv", "ru", "mixed"):
            fail(f"proposals.csv row {i}, column language: expected lv, ru or mixed, got {r['language']!r}")
        secs = [x for x in r["sectors"].split(";") if x]
        key = (min(secs, key=PRIORITY.index) if secs else "none",
               "lv" if r["language"] == "lv" else "ru", len(secs) > 1)
        want = "build" if seen[key] % 2 == 0 else "report"
        seen[key] += 1
        if r["half"] != want:
            fail(f"proposals.csv row {i}, column half: the split rule gives {want!r}, file has {r['half']!r}")
        for h in ("all", r["half"]):
            c = counts[h]
            c["texts"] += 1
            c[r["language"]] += 1
            c["no sector" if not secs else "one sector" if len(secs) == 1 else "two or more"] += 1
            for s in secs:
                c[s] += 1
    keys = ["texts", "lv", "ru", "mixed", "no sector", "one sector", "two or more"] + SECTORS
    print(f"{'proposals.csv':<14}{'all':>6}{'build':>7}{'report':>7}")
    for k in keys:
        print(f"{k:<14}{counts['all'][k]:>6}{counts['build'][k]:>7}{counts['report'][k]:>7}")

    t = read("treebank_sectors.csv", ["sent_id", "text", "sectors", "note"])
    if TREEBANK.exists():
        ids = []
        with gzip.open(TREEBANK, "rt", encoding="utf-8") as f:
            next(f)
            for line in f:
                sid = line.split("\t", 1)[0]
                if not ids or ids[-1] != sid:
                    ids.append(sid)
        want = ids[::STEP][:N_TB]
        got = [r["sent_id"] for r in t]
        if got != want:
            fail(f"treebank_sectors.csv: sent_id column is not every {STEP}th sentence of {TREEBANK.name}")
    tc = collections.Counter(s for r in t for s in (r["sectors"].split(";") if r["sectors"] else ["(none)"]))
    print(f"\ntreebank_sectors.csv: {len(t)} sentences; " + ", ".join(f"{k} {v}" for k, v in tc.most_common()))


if __name__ == "__main__":
    main()
