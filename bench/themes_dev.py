"""Tuning figures only: the sector coder on the material the dictionary may be tuned on, and nothing
held out (no report half, no proposals_b.csv, no fresh treebank sets are read).

    .venv/bin/python bench/themes_dev.py

Printed: sector macro-F1 with per-sector P/R/F1 on the build half of data/devset/proposals.csv, on
data/devset/proposals_c.csv (a second build set, every row tunable) and on both together; on
data/devset/social_a.csv (social-media posts, every row tunable) with its false-sector rate; the
false-sector rate on data/devset/treebank_sectors.csv; pool A's fire rate and judged false rate
(bench/themes_pool.py). Use bench/themes.py for the held-out figures, rarely.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    import themes as bt

    from analysis import themes as th

    d = th.load_dictionary(ROOT / "params" / "themes" / "liepaja-2022.yaml")
    b = bt.devset_scores(d, "build")
    bt.print_devset("build half of proposals.csv", b, "")
    c = bt.devset_scores(d, None, bt.DEVSET / "proposals_c.csv")
    bt.print_devset("proposals_c.csv (build set)", c, "")
    both = {}
    for s in bt.SECTORS:
        x, y = b["sectors"][s], c["sectors"][s]
        tp, fp, fn = x["tp"] + y["tp"], x["fp"] + y["fp"], x["fn"] + y["fn"]
        both[s] = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else float("nan")
    print(f"\nboth build sets: sector macro-F1 {sum(both.values()) / len(both):.3f}")
    r = bt.social_scores(d, "social_a.csv")
    bt.print_devset("social_a.csv (social-media posts, build set)", r, "")
    print(f"  posts with a sector the hand coding does not have: {r['false_rate']:.1%} (goal <= 3 %)")
    bt.print_treebank("treebank_sectors.csv", "tuned on", bt.treebank_false_rate(d, "treebank_sectors.csv"), True)
    print()
    subprocess.run([sys.executable, str(ROOT / "bench" / "themes_pool.py")], check=False)


if __name__ == "__main__":
    main()
