"""Benchmark: the whole `python -m analysis run` on the embedded sample, repeated.

Prints the median wall time of a run and the share of it spent outside our own
computations. "Our own" = the time the kernel spent executing notebook cells (papermill
records each cell's duration in the executed notebook); everything else — parameter
inspection, kernel start-up, papermill's bookkeeping, nbconvert rendering, the manifest —
is overhead. Goal (issue 6): median under 40 s on a 2-core machine, overhead under half.

Beside each run (alternating, in this same process tree) it measures the floor: four notebooks
that only import the libraries each stage notebook imports, render one matplotlib figure and
are converted to HTML (papermill with the run's kernel arguments, nbconvert's HTMLExporter).
Goal (issue 15): median run time / median floor <= 2, so a researcher rerunning a stage waits
on analysis, not on loading. On a shared machine the load changes between a floor and its run:
each pair's own ratio (median printed) and the CPU seconds of each (this process and the kernels
it started, which are less sensitive to other people's load) are printed beside it.

    .venv/bin/python bench/run.py [--repeat 3] [--no-floor] [--one-after-another | --compare]
"""
from __future__ import annotations

import argparse
import json
import os
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


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the kernels)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def one_run(out: Path) -> dict:
    from analysis.run import run

    c0, t0 = cpu_seconds(), time.perf_counter()
    run_dir = run(ROOT / "params" / "liepaja-2022.yaml", out=out)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    cells = {p.stem: cell_seconds(p) for p in sorted((run_dir / "notebooks").glob("*.ipynb"))}
    # stages run side by side (manifest "beside") count once: the longer of the two
    beside = [(k, v["beside"]) for k, v in manifest["stages"].items() if v.get("beside")]
    ours = sum(cells.values()) - sum(min(cells.get(a, 0.0), cells.get(b, 0.0)) for a, b in beside)
    return {"wall": wall, "cpu": cpu, "ours": ours, "overhead": wall - ours, "cells": cells,
            "stages": {k: v["seconds"] for k, v in manifest["stages"].items()},
            "render": manifest.get("render_seconds", 0.0)}


# what each stage notebook imports (notebooks/0*_*.ipynb), and one figure
FLOOR_IMPORTS = [
    "import matplotlib.pyplot as plt\nfrom IPython.display import display\n"
    "from analysis import codebook, nb, clean\nfrom analysis.report import t",
    "import matplotlib.pyplot as plt\nfrom IPython.display import HTML, display\n"
    "from analysis import codebook, likert_plots, paths, nb, ratings, summary\nfrom analysis.report import t",
    "import matplotlib.pyplot as plt\nfrom IPython.display import HTML, display\n"
    "from analysis import nb, proposals, paths, plots\nfrom analysis.privacy import escape_html",
    "import matplotlib.pyplot as plt\nfrom IPython.display import HTML, display\n"
    "from analysis import brief, nb, plots, summary",
]
FLOOR_FIGURE = ("fig, ax = plt.subplots(figsize=(6, 3))\nax.barh(['a', 'b', 'c'], [3, 5, 2])\n"
                "ax.set_xlabel('n')\nplt.show()")


def floor_run(folder: Path) -> tuple[float, float]:
    """Seconds (wall, CPU) for the four floor notebooks: execute (papermill, as the run does)
    and convert to HTML, one after another."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    from analysis.run import KERNEL_ARGUMENTS

    folder.mkdir(parents=True, exist_ok=True)
    c0, t0 = cpu_seconds(), time.perf_counter()
    for i, imports in enumerate(FLOOR_IMPORTS, 1):
        src = folder / f"floor{i}.ipynb"
        book = nbformat.v4.new_notebook()
        book.cells = [nbformat.v4.new_code_cell(imports), nbformat.v4.new_code_cell(FLOOR_FIGURE)]
        book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(book, src)
        out = folder / f"floor{i}.out.ipynb"
        papermill.execute_notebook(str(src), str(out), kernel_name="python3", cwd=str(folder),
                                   progress_bar=False, log_output=False, extra_arguments=KERNEL_ARGUMENTS)
        body, _ = HTMLExporter().from_filename(str(out))
        (folder / f"floor{i}.html").write_text(body, encoding="utf-8")
    return time.perf_counter() - t0, cpu_seconds() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-floor", action="store_true", help="skip the floor notebooks")
    ap.add_argument("--compare", action="store_true",
                    help="also run each time with no stages side by side and print both")
    ap.add_argument("--one-after-another", action="store_true",
                    help="no two stages side by side (ANALYSIS_SIDE_BY_SIDE=0): the run before that change")
    args = ap.parse_args(argv)
    if args.one_after_another:
        os.environ["ANALYSIS_SIDE_BY_SIDE"] = "0"
    import logging

    logging.getLogger("papermill").setLevel(logging.WARNING)
    runs, floors, floor_cpu, serial = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        for i in range(args.repeat):
            if not args.no_floor:
                wall, cpu = floor_run(Path(tmp) / f"floor-{i}")
                floors.append(wall)
                floor_cpu.append(cpu)
                print(f"floor {i + 1}: {wall:.1f} s (CPU {cpu:.1f} s)", file=sys.stderr)
            if args.compare:                  # the same run with no stages side by side, alternated
                os.environ["ANALYSIS_SIDE_BY_SIDE"] = "0"
                try:
                    serial.append(one_run(Path(tmp) / "out")["wall"])
                finally:
                    os.environ.pop("ANALYSIS_SIDE_BY_SIDE", None)
                print(f"run {i + 1} one stage after another: wall {serial[-1]:.1f} s", file=sys.stderr)
            r = one_run(Path(tmp) / "out")
            runs.append(r)
            print(f"run {i + 1}: wall {r['wall']:.1f} s (CPU {r['cpu']:.1f} s), cells {r['ours']:.1f} s, overhead {r['overhead']:.1f} s "
                  f"(stages {', '.join(f'{k} {v:.1f}' for k, v in r['stages'].items())}; render {r['render']:.1f})",
                  file=sys.stderr)
    wall = statistics.median(r["wall"] for r in runs)
    overhead = statistics.median(r["overhead"] / r["wall"] for r in runs)
    print(f"median wall time of a run: {wall:.1f} s  (goal < 40 s)  -> {'OK' if wall < 40 else 'MISSED'}")
    print(f"share outside our computations (kernel start, papermill, nbconvert): {overhead:.2f} "
          f"(goal < 0.50)  -> {'OK' if overhead < 0.5 else 'MISSED'}")
    if floors:
        floor = statistics.median(floors)
        ratio = wall / floor
        print(f"floor (4 notebooks: imports, one figure, HTML): {floor:.1f} s; run / floor {ratio:.2f} "
              f"(goal <= 2)  -> {'OK' if ratio <= 2 else 'MISSED'}")
        pairs = [r["wall"] / f for r, f in zip(runs, floors)]
        cpu = statistics.median(r["cpu"] for r in runs) / statistics.median(floor_cpu)
        print(f"run / floor of each pair: {', '.join(f'{x:.2f}' for x in pairs)} (median "
              f"{statistics.median(pairs):.2f}); CPU seconds run / floor {cpu:.2f} "
              f"({statistics.median(r['cpu'] for r in runs):.1f} / {statistics.median(floor_cpu):.1f})")
    if serial:
        print(f"one stage after another: median {statistics.median(serial):.1f} s; side by side "
              f"{wall:.1f} s; ratio {statistics.median(serial) / wall:.2f}")
    per_stage = {k: statistics.median(r["cells"][k] for r in runs) for k in runs[0]["cells"]}
    print("median cell time per stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in per_stage.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
