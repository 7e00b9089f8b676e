"""Validate data/devset/proposals_b.csv (the second, held-out development set) and print its counts.

Standard library only. Usage (from the repository root):

    .venv/bin/python data/devset/check_devset_b.py [path/to/proposals_b.csv]

Exits with status 1 and one line per problem (file, row, column, what was expected) when the
file is malformed; otherwise prints the counts quoted in proposals_b.md.
"""

from __future__ import annotations

import collections
import csv
import re
import sys
import unicodedata
from pathlib import Path

HEADER = ["id", "text", "language", "sectors", "topics", "note"]
SECTORS = ["housing", "mobility", "urban", "education", "business", "culture",
           "participation", "newcomers"]
LANGUAGES = ["lv", "ru", "mixed"]
LV_DIACRITICS = re.compile("[āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ]")
ID_RE = re.compile(r"^b\d{3}$")
TOPIC_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# personal data that must never appear unmasked
PII_PATTERNS = {
    "an e-mail address": re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    "a phone number": re.compile(r"(?<!\d)(\+?371[ -]?)?[2-6]\d{7}(?!\d)"),
    "a personal code": re.compile(r"(?<!\d)\d{6}-?\d{5}(?!\d)"),
    "a long digit run": re.compile(r"\d{8,}"),
}


def check(path: Path) -> tuple[list[dict], list[str]]:
    problems: list[str] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != HEADER:
            return [], [f"{path}: header is {header!r}, expected {HEADER!r}"]
        rows = []
        for lineno, rec in enumerate(reader, start=2):
            if len(rec) != len(HEADER):
                problems.append(f"{path}: record ending on line {lineno}: {len(rec)} fields, "
                                f"expected {len(HEADER)}")
                continue
            rows.append(dict(zip(HEADER, rec)))
    seen: set[str] = set()
    for n, row in enumerate(rows, start=1):
        where = f"{path}: row {n} (id {row['id']!r})"
        if not ID_RE.match(row["id"]):
            problems.append(f"{where}, column id: expected b followed by three digits")
        elif row["id"] != f"b{n:03d}":
            problems.append(f"{where}, column id: expected b{n:03d} (ids run b001, b002, ... in order)")
        if row["id"] in seen:
            problems.append(f"{where}, column id: duplicate id")
        seen.add(row["id"])
        text = row["text"]
        if not text.strip():
            problems.append(f"{where}, column text: empty text")
        if unicodedata.normalize("NFC", text) != text:
            problems.append(f"{where}, column text: not in Unicode NFC")
        if row["language"] not in LANGUAGES:
            problems.append(f"{where}, column language: {row['language']!r}, expected one of {LANGUAGES}")
        codes = [c for c in row["sectors"].split(";")] if row["sectors"] else []
        for c in codes:
            if c not in SECTORS:
                problems.append(f"{where}, column sectors: {c!r} is not one of {SECTORS}")
        if len(set(codes)) != len(codes):
            problems.append(f"{where}, column sectors: a code is repeated")
        for t in row["topics"].split(";"):
            if not TOPIC_RE.match(t):
                problems.append(f"{where}, column topics: tag {t!r} should be a short lower-case "
                                "tag (letters, digits, hyphens)")
        for col in ("text", "note"):
            for label, pat in PII_PATTERNS.items():
                m = pat.search(row[col])
                if m:
                    problems.append(f"{where}, column {col}: looks like {label} ({m.group(0)!r}); "
                                    "mask it (e.g. 2xxxxxxx)")
    return rows, problems


def counts(rows: list[dict]) -> None:
    n = len(rows)
    pct = lambda k: f"{k} ({100 * k / n:.1f} %)"  # noqa: E731
    lang = collections.Counter(r["language"] for r in rows)
    print(f"texts: {n}")
    for lg in LANGUAGES:
        print(f"  language {lg}: {pct(lang[lg])}")
    lv = [r for r in rows if r["language"] == "lv"]
    nodia = [r for r in lv if not LV_DIACRITICS.search(r["text"])]
    lower = [r for r in rows if r["text"] == r["text"].lower() and re.search(r"[^\W\d_]", r["text"])]
    print(f"  Latvian texts without any diacritic: {len(nodia)} of {len(lv)} "
          f"({100 * len(nodia) / max(len(lv), 1):.1f} %)")
    print(f"  texts all in lower case: {len(lower)}")
    words = sorted(len(r["text"].split()) for r in rows)
    print(f"  words per text: min {words[0]}, median {words[len(words) // 2]}, max {words[-1]}")
    multi_par = sum(1 for r in rows if "\n" in r["text"].strip())
    print(f"  texts with more than one line/paragraph: {multi_par}")
    k = collections.Counter(len(r["sectors"].split(";")) if r["sectors"] else 0 for r in rows)
    print(f"no sector (off-topic, greeting, thanks ...): {pct(k[0])}")
    print(f"one sector: {pct(k[1])}")
    print(f"two or more sectors: {pct(sum(v for c, v in k.items() if c >= 2))}")
    per = collections.Counter(c for r in rows for c in (r["sectors"].split(";") if r["sectors"] else []))
    per_lang = {lg: collections.Counter(c for r in rows if r["language"] == lg
                                        for c in (r["sectors"].split(";") if r["sectors"] else []))
                for lg in LANGUAGES}
    print("per sector (all / lv / ru / mixed):")
    for s in SECTORS:
        print(f"  {s:<14} {per[s]:>4} / {per_lang['lv'][s]:>3} / {per_lang['ru'][s]:>3} / "
              f"{per_lang['mixed'][s]:>3}")
    print(f"rows with a note: {sum(1 for r in rows if r['note'].strip())}")


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("proposals_b.csv")
    if not path.is_file():
        print(f"{path}: file not found", file=sys.stderr)
        return 1
    rows, problems = check(path)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{path}: OK")
    counts(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
