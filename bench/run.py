"""Benchmark: the whole `python -m analysis run` on the embedded sample, repeated.

Prints the median wall time of a run and the share of it spent outside our own
computations. "Our own" = the time the kernel spent executing notebook cells (papermill
records each cell's duration in the executed notebook); everything else — parameter
inspection, kernel start-up, papermill's bookkeeping, nbconvert rendering, the manifest —
is overhead. Goal (issue 6): median under 40 s on a 2-core machine, overhead under half.

    .venv/bin/python bench/run.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def cell_seconds(notebook: Path) -> float:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum(float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
               for c in nb["cells"] if c.get("cell_type") == "code")


def one_run(out: Path) -> dict:
    from analysis.run import run

    t0 = time.perf_counter()
    run_dir = run(ROOT / "params" / "liepaja-2022.yaml", out=out)
    wall = time.perf_counter() - t0
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    cells = {p.stem: cell_seconds(p) for p in sorted((run_dir / "notebooks").glob("*.ipynb"))}
    ours = sum(cells.values())
    return {"wall": wall, "ours": ours, "overhead": wall - ours, "cells": cells,
            "stages": {k: v["seconds"] for k, v in manifest["stages"].items()},
            "render": manifest.get("render_seconds", 0.0)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        for i in range(args.repeat):
            r = one_run(Path(tmp) / "out")
            runs.append(r)
            print(f"run {i + 1}: wall {r['wall']:.1f} s, cells {r['ours']:.1f} s, overhead {r['overhead']:.1f} s "
                  f"(stages {', '.join(f'{k} {v:.1f}' for k, v in r['stages'].items())}; render {r['render']:.1f})",
                  file=sys.stderr)
    wall = statistics.median(r["wall"] for r in runs)
    overhead = statistics.median(r["overhead"] / r["wall"] for r in runs)
    print(f"median wall time of a run: {wall:.1f} s  (goal < 40 s)  -> {'OK' if wall < 40 else 'MISSED'}")
    print(f"share outside our computations (kernel start, papermill, nbconvert): {overhead:.2f} "
          f"(goal < 0.50)  -> {'OK' if overhead < 0.5 else 'MISSED'}")
    per_stage = {k: statistics.median(r["cells"][k] for r in runs) for k in runs[0]["cells"]}
    print("median cell time per stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in per_stage.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
