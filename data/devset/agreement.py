"""Inter-coder agreement on the development sets' sector codes (issue 10, item 5).

Compares the first coder's `sectors` column of `proposals.csv` and `proposals_b.csv`
with the independent second coding in `second_coder.csv` (columns `file,id,sectors`),
which was made blind to the first coder's codes.  For each file (and for proposals.csv
separately for half == build and half == report) it prints, per sector:

- Cohen's kappa on the sector's yes/no codes,
- F1 of coder 2 against coder 1 (2*both / (pos1 + pos2); swapping the coders swaps
  precision and recall and leaves F1 unchanged),
- the positive counts of each coder;

then macro-F1 and mean kappa over the sectors, the share of texts given exactly the
same sector set, and the share of texts given no sector by each coder.

Standard library only.  Run from the repository root:

    .venv/bin/python data/devset/agreement.py             # the tables
    .venv/bin/python data/devset/agreement.py --selftest  # check kappa/F1 on published examples
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTORS = ("housing", "mobility", "urban", "education", "business", "culture",
           "participation", "newcomers")
FILES = ("proposals.csv", "proposals_b.csv")
SECOND = "second_coder.csv"


class AgreementError(ValueError):
    pass


def parse_sectors(value: str, where: str) -> frozenset:
    """';'-separated sector list -> frozenset; empty -> no sector."""
    out = set()
    for part in (value or "").split(";"):
        part = part.strip()
        if not part:
            continue
        if part not in SECTORS:
            raise AgreementError(f"{where}: unknown sector {part!r}; expected one of "
                                 f"{', '.join(SECTORS)} (';'-separated) or empty")
        out.add(part)
    return frozenset(out)


def load_first(path: Path) -> dict:
    """id -> (sectors, half or None) from a first-coder file."""
    out = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for col in ("id", "sectors"):
            if col not in (reader.fieldnames or []):
                raise AgreementError(f"{path.name}: missing column {col!r}")
        for rowno, row in enumerate(reader, start=2):
            rid = (row["id"] or "").strip()
            if not rid:
                raise AgreementError(f"{path.name}, row {rowno}: empty id")
            if rid in out:
                raise AgreementError(f"{path.name}, row {rowno}: duplicate id {rid!r}")
            sectors = parse_sectors(row["sectors"], f"{path.name}, row {rowno}, column 'sectors'")
            out[rid] = (sectors, (row.get("half") or "").strip() or None)
    return out


def load_second(path: Path) -> dict:
    """(file, id) -> sectors from second_coder.csv."""
    out = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for col in ("file", "id", "sectors"):
            if col not in (reader.fieldnames or []):
                raise AgreementError(f"{path.name}: missing column {col!r}")
        for rowno, row in enumerate(reader, start=2):
            key = ((row["file"] or "").strip(), (row["id"] or "").strip())
            if key[0] not in FILES:
                raise AgreementError(f"{path.name}, row {rowno}, column 'file': "
                                     f"{key[0]!r}, expected one of {', '.join(FILES)}")
            if key in out:
                raise AgreementError(f"{path.name}, row {rowno}: duplicate {key[0]}/{key[1]}")
            out[key] = parse_sectors(row["sectors"], f"{path.name}, row {rowno}, column 'sectors'")
    return out


def cohen_kappa_2x2(both: int, only1: int, only2: int, neither: int) -> float:
    """Cohen's kappa for two coders' yes/no codes.

    kappa = (p_o - p_e) / (1 - p_e), p_o = observed agreement, p_e = chance agreement from
    each coder's marginal proportions (Cohen, J. 1960, "A coefficient of agreement for
    nominal scales", Educational and Psychological Measurement 20(1):37-46, eq. 1).
    Returns nan when p_e == 1 (both coders gave the same single code to every item),
    where kappa is undefined.
    """
    n = both + only1 + only2 + neither
    if n == 0:
        return math.nan
    p_o = (both + neither) / n
    yes1, yes2 = (both + only1) / n, (both + only2) / n
    p_e = yes1 * yes2 + (1 - yes1) * (1 - yes2)
    if p_e >= 1:
        return math.nan
    return (p_o - p_e) / (1 - p_e)


def f1(both: int, only1: int, only2: int) -> float:
    """F1 of coder 2 against coder 1: 2*TP / (2*TP + FP + FN); nan when neither codes it."""
    denom = 2 * both + only1 + only2
    return math.nan if denom == 0 else 2 * both / denom


def compare(pairs: list) -> dict:
    """pairs: [(sectors1, sectors2)] -> per-sector and overall figures."""
    per = {}
    for s in SECTORS:
        both = sum(1 for a, b in pairs if s in a and s in b)
        only1 = sum(1 for a, b in pairs if s in a and s not in b)
        only2 = sum(1 for a, b in pairs if s not in a and s in b)
        neither = len(pairs) - both - only1 - only2
        per[s] = {"kappa": cohen_kappa_2x2(both, only1, only2, neither),
                  "f1": f1(both, only1, only2),
                  "pos1": both + only1, "pos2": both + only2}
    n = len(pairs)
    kappas = [v["kappa"] for v in per.values() if not math.isnan(v["kappa"])]
    f1s = [v["f1"] for v in per.values() if not math.isnan(v["f1"])]
    return {"n": n, "per": per,
            "macro_f1": sum(f1s) / len(f1s) if f1s else math.nan,
            "mean_kappa": sum(kappas) / len(kappas) if kappas else math.nan,
            "identical": sum(1 for a, b in pairs if a == b) / n if n else math.nan,
            "none1": sum(1 for a, _ in pairs if not a) / n if n else math.nan,
            "none2": sum(1 for _, b in pairs if not b) / n if n else math.nan}


def _fmt(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:5.2f}"


def render(title: str, res: dict) -> str:
    lines = [f"## {title} (n = {res['n']})",
             f"{'sector':<14}{'kappa':>7}{'F1':>7}{'pos1':>6}{'pos2':>6}"]
    for s in SECTORS:
        v = res["per"][s]
        lines.append(f"{s:<14}{_fmt(v['kappa']):>7}{_fmt(v['f1']):>7}{v['pos1']:>6}{v['pos2']:>6}")
    lines.append(f"macro-F1 {_fmt(res['macro_f1']).strip()}, mean kappa "
                 f"{_fmt(res['mean_kappa']).strip()}, identical sector set "
                 f"{res['identical']:.1%}, no sector: coder 1 {res['none1']:.1%}, "
                 f"coder 2 {res['none2']:.1%}")
    return "\n".join(lines)


def build_groups(devset: Path) -> list:
    second = load_second(devset / SECOND)
    groups = []
    seen = set()
    for fname in FILES:
        first = load_first(devset / fname)
        pairs, halves = [], {}
        for rid, (s1, half) in first.items():
            key = (fname, rid)
            if key not in second:
                raise AgreementError(f"{SECOND}: no row for file {fname!r}, id {rid!r}")
            seen.add(key)
            pairs.append((s1, second[key]))
            if half:
                halves.setdefault(half, []).append((s1, second[key]))
        groups.append((fname, pairs))
        for half in ("build", "report"):
            if half in halves:
                groups.append((f"{fname}, half == {half}", halves[half]))
    extra = sorted(set(second) - seen)
    if extra:
        raise AgreementError(f"{SECOND}: {len(extra)} row(s) with no text in the first "
                             f"coder's file, first {extra[0][0]}/{extra[0][1]}")
    return groups


def selftest() -> None:
    # Wikipedia, "Cohen's kappa", worked example (50 grant proposals, readers A and B):
    # yes/yes 20, A yes/B no 5, A no/B yes 10, no/no 15 -> p_o = 0.70, p_e = 0.50
    # (A yes 50 %, B yes 60 %: 0.5*0.6 + 0.5*0.4), kappa = 0.40.
    n = 50
    p_o = (20 + 15) / n
    p_e = (25 / n) * (30 / n) + (25 / n) * (20 / n)
    assert abs(p_o - 0.70) < 1e-12 and abs(p_e - 0.50) < 1e-12, (p_o, p_e)
    k = cohen_kappa_2x2(20, 5, 10, 15)
    assert abs(k - 0.40) < 1e-12, k
    # Same page, "same percentages but different numbers" (recalled; recomputed by hand):
    # both tables have p_o = 0.60; 45/15/25/15 -> p_e 0.54, kappa 0.1304;
    # 25/35/5/35 -> p_e 0.46, kappa 0.2593.
    assert abs(cohen_kappa_2x2(45, 15, 25, 15) - 0.1304) < 5e-5
    assert abs(cohen_kappa_2x2(25, 35, 5, 35) - 0.2593) < 5e-5
    # Symmetry: swapping coders leaves kappa and F1 unchanged; identical codes give 1.
    assert abs(cohen_kappa_2x2(20, 10, 5, 15) - k) < 1e-12
    assert f1(20, 5, 10) == f1(20, 10, 5) == 40 / 55
    assert cohen_kappa_2x2(7, 0, 0, 43) == 1.0 and f1(7, 0, 0) == 1.0
    assert math.isnan(cohen_kappa_2x2(0, 0, 0, 50)) and math.isnan(f1(0, 0, 0))
    # compare(): one sector set per text.
    res = compare([(frozenset({"housing"}), frozenset({"housing"})),
                   (frozenset(), frozenset({"urban"})),
                   (frozenset({"urban", "mobility"}), frozenset({"urban"})),
                   (frozenset(), frozenset())])
    assert res["identical"] == 0.5 and res["none1"] == 0.5 and res["none2"] == 0.25
    assert res["per"]["urban"]["pos1"] == 1 and res["per"]["urban"]["pos2"] == 2
    try:
        parse_sectors("housing;parks", "x.csv, row 3, column 'sectors'")
    except AgreementError as exc:
        assert "row 3" in str(exc) and "'parks'" in str(exc)
    else:
        raise AssertionError("unknown sector accepted")
    print("selftest ok: Wikipedia 2x2 example p_o=0.70, p_e=0.50, kappa=0.40; "
          "same-p_o examples 0.1304 and 0.2593; symmetry and edge cases")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--selftest", action="store_true", help="check kappa/F1 on known values")
    ap.add_argument("--devset", type=Path, default=HERE, help="folder with the CSV files")
    args = ap.parse_args(argv)
    if args.selftest:
        selftest()
        return 0
    try:
        groups = build_groups(args.devset)
    except (AgreementError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("Coder 1 = first coder (sectors column), coder 2 = second_coder.csv; "
          "F1 of coder 2 against coder 1.\n")
    print("\n\n".join(render(title, compare(pairs)) for title, pairs in groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
