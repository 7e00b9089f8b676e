"""Speed and memory of stage 02 (ratings) on generated surveys of 10,000 and 100,000 responses.

    .venv/bin/python bench/ratings.py                    # 10,000 and 100,000, tables only
    .venv/bin/python bench/ratings.py --figures          # also draw the four figures (PNG)
    .venv/bin/python bench/ratings.py --sizes 5000 50000

Each size runs in its own process (so that its peak memory is its own): a responses frame in
the clean stage's schema is drawn directly (`ratings.generate_responses`, with planted effects
so that post hoc tests run, not via Forms files), then the whole stage logic runs as the
notebook calls it: raking to a generated (unofficial) margin file, every table of
`ratings.build_tables` (weighted sensitivity estimates and Rao–Scott tests included, 41
ordinal models, Friedman and pairwise Wilcoxon, NPS, satisfaction model) and
`ratings.write_tables`. Drawing the responses is timed apart and not counted.

Printed: seconds per size and per step, the growth ratio t(largest) / t(smallest) (linear
would be the size ratio, 10 for 10k -> 100k) and the peak resident set size. Goals (issue 4):
100,000 responses in under 60 s on a 2-core machine; growth no worse than linear.

Before and after (issue 15: stage 02 <= 15 s at 100,000 responses, linear):

    .venv/bin/python bench/ratings.py --baseline dea02ab             # 20,000 and 100,000
    .venv/bin/python bench/ratings.py --baseline dea02ab --responses RUN/data/responses.parquet

runs the stage's library calls (`build_tables` + `write_tables`, what the notebook's one long
cell does after reading) once with src/analysis as at git revision REV (exported with `git
archive`, as bench/scale.py --baseline) and once with this checkout, each size in its own
process on the same responses: the first n rows of a stage-01 responses file, or (default)
one generated frame of the largest size written to a temporary parquet file. Raking uses
params/population/liepaja-synthetic.yaml. Prints wall and CPU seconds side by side with the
speed-up and whether every table (CSV bytes) and data/weights.parquet are identical.
On a shared machine compare the CPU seconds: wall time depends on the others' load.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

GOAL_SECONDS = 60.0
EFFECTS = [
    {"item": "mobility_1", "grouping": "age_group", "shift": {"18_24": 0.5, "65_74": -0.4, "75plus": -0.5}},
    {"item": "culture_4", "grouping": "gender", "shift": {"female": 0.3}},
    {"item": "newcomers_2", "grouping": "target_group", "shift": {"future_resident": 0.6, "visitor": 0.4}},
    {"item": "culture_1", "grouping": "info_language__ru", "shift": {"yes": 0.3}},
]


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(n: int, figures: bool) -> dict:
    """One size, in this process: generate, then time the stage."""
    import warnings

    from analysis import codebook, ratings

    cb = codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    t0 = time.perf_counter()
    df = ratings.generate_responses(cb, n, seed=2022, effects=EFFECTS)
    generate_s = time.perf_counter() - t0
    rss_before = peak_rss_mb()
    settings = ratings.settings_from(10, 0.05, 5.0, ratings.generated_population(cb))
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tables = ratings.build_tables(df, cb, settings, timings)
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        ratings.write_tables(tables, Path(tmp) / "tables", Path(tmp) / "data")
        timings["write"] = time.perf_counter() - t1
        if figures:
            t1 = time.perf_counter()
            _draw(tables, cb, Path(tmp))
            timings["figures"] = time.perf_counter() - t1
    seconds = time.perf_counter() - t0
    tests = tables["tests"]
    return {"n": n, "seconds": seconds, "generate_s": generate_s, "timings": timings,
            "peak_rss_mb": peak_rss_mb(), "rss_after_generate_mb": rss_before,
            "n_tests": int(tests.p.notna().sum()), "n_posthoc": len(tables["posthoc"]),
            "n_models": int(tables["models"].outcome.nunique())}


def run_against(n: int, src: str, responses: str, out: str) -> dict:
    """One side of --baseline, in this process: the package at `src`, the first n rows of
    `responses`; the tables are written to `out` for the comparison."""
    import warnings

    sys.path.insert(0, src)
    import pandas as pd

    from analysis import codebook, ratings

    assert Path(ratings.__file__).resolve().is_relative_to(Path(src).resolve()), ratings.__file__
    cb = codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    df = pd.read_parquet(responses).iloc[:n].reset_index(drop=True)
    settings = ratings.settings_from(10, 0.05, 5.0, str(ROOT / "params" / "population" / "liepaja-synthetic.yaml"),
                                     min_finding_n=30)
    timings: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tables = ratings.build_tables(df, cb, settings, timings)
    ratings.write_tables(tables, Path(out) / "tables", Path(out) / "data")
    return {"n": len(df), "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "timings": timings, "peak_rss_mb": peak_rss_mb()}


def same_outputs(a: Path, b: Path) -> str:
    """'identical' when every table's bytes and the weights frame agree, else what differs."""
    import pandas as pd

    names = sorted({p.name for p in (a / "tables").glob("*.csv")} | {p.name for p in (b / "tables").glob("*.csv")})
    differ = [nm for nm in names if not ((a / "tables" / nm).exists() and (b / "tables" / nm).exists()
                                         and (a / "tables" / nm).read_bytes() == (b / "tables" / nm).read_bytes())]
    if not pd.read_parquet(a / "data" / "weights.parquet").equals(pd.read_parquet(b / "data" / "weights.parquet")):
        differ.append("weights.parquet")
    return f"identical ({len(names)} tables + weights)" if not differ else "DIFFER: " + ", ".join(differ)


def compare_baseline(rev: str, sizes: list[int], responses: str | None) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from ingest import baseline_tree

    work = Path(tempfile.mkdtemp(prefix="bench-ratings-"))
    base = baseline_tree(rev, work)
    if responses is None:
        from analysis import codebook, ratings

        cb = codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
        responses = str(work / "responses.parquet")
        ratings.generate_responses(cb, max(sizes), seed=2022, effects=EFFECTS).to_parquet(responses, index=False)
    rows = []
    for n in sizes:
        got = {}
        for side, src in (("before", str(base)), ("after", str(ROOT / "src"))):
            cmd = [sys.executable, __file__, "--against", str(n), src, responses, str(work / f"{side}-{n}")]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            got[side] = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((n, got["before"], got["after"], same_outputs(work / f"before-{n}", work / f"after-{n}")))
    import os

    print(f"stage 02 library time (build_tables + write_tables), before = {rev}, after = this checkout; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'responses':>10} {'before s':>9} {'before cpu':>10} {'after s':>8} {'after cpu':>9} {'cpu x':>6} "
          f"{'peak MB b/a':>12}  outputs")
    for n, b, a, same in rows:
        print(f"{n:>10,} {b['seconds']:>9.1f} {b['cpu']:>10.1f} {a['seconds']:>8.1f} {a['cpu']:>9.1f} "
              f"{b['cpu'] / max(a['cpu'], 1e-9):>6.1f} {b['peak_rss_mb']:>5.0f}/{a['peak_rss_mb']:<6.0f}  {same}")
    for n, b, a, _ in rows:
        steps = ", ".join(f"{k} {v:.1f}" for k, v in sorted(a["timings"].items(), key=lambda kv: -kv[1])[:6])
        print(f"  after, {n:,}: {steps}")
    if len(rows) >= 2:
        (n0, _, a0, _), (n1, _, a1, _) = rows[0], rows[-1]
        print(f"growth of the after CPU time {n1:,} / {n0:,}: x{a1['cpu'] / a0['cpu']:.1f} (linear = {n1 / n0:g})")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r[3].startswith("identical") for r in rows) else 1


def _draw(tables, cb, folder: Path) -> None:
    import matplotlib.pyplot as plt

    from analysis import likert_plots as lp, plots

    plots.apply_style()
    for name, fig in (("likert", lp.likert_bars(tables["items"], cb)),
                      ("ranking", lp.ranking_plot(tables["ranking_by_group"], tables["items"], cb)),
                      ("heatmap", lp.effect_heatmap(tables["tests"], cb)),
                      ("nps", lp.nps_plot(tables["nps"], cb))):
        fig.savefig(folder / f"{name}.png")
        plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", help="numbers of responses (default 10,000 and 100,000; "
                    "with --baseline 20,000 and 100,000)")
    ap.add_argument("--figures", action="store_true", help="also draw the four figures")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)          # internal: one size, JSON out
    ap.add_argument("--baseline", metavar="REV", help="before (git revision REV) and after, side by side")
    ap.add_argument("--responses", help="with --baseline: a stage-01 responses.parquet (its first n rows)")
    ap.add_argument("--against", nargs=4, help=argparse.SUPPRESS)      # internal: n, src, responses, out
    args = ap.parse_args(argv)
    if args.against:
        n, src, responses, out = args.against
        print(json.dumps(run_against(int(n), src, responses, out)))
        return 0
    if args.baseline:
        return compare_baseline(args.baseline, args.sizes or [20_000, 100_000], args.responses)
    args.sizes = args.sizes or [10_000, 100_000]
    if args.one:
        print(json.dumps(run_one(args.one, args.figures)))
        return 0
    results = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n)] + (["--figures"] if args.figures else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    what = "tables and figures" if args.figures else "tables only, no figures"
    print(f"stage 02 ratings on generated surveys ({what}; weighting on; BLAS limited to 1 thread)")
    print(f"{'responses':>10} {'seconds':>8} {'peak MB':>8} {'tests':>6} {'post hoc':>8}  steps (s)")
    for r in results:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["timings"].items(), key=lambda kv: -kv[1]))
        print(f"{r['n']:>10,} {r['seconds']:>8.2f} {r['peak_rss_mb']:>8.0f} {r['n_tests']:>6} {r['n_posthoc']:>8}  {steps}")
    small, large = results[0], results[-1]
    ratio = large["seconds"] / small["seconds"]
    size_ratio = large["n"] / small["n"]
    print(f"growth ratio t({large['n']:,}) / t({small['n']:,}) = {ratio:.2f} (linear would be {size_ratio:.0f})")
    print(f"peak memory {large['peak_rss_mb']:.0f} MB at {large['n']:,} responses "
          f"({large['rss_after_generate_mb']:.0f} MB after drawing the frame)")
    ok_time = large["n"] < 100_000 or large["seconds"] < GOAL_SECONDS
    ok_growth = ratio <= size_ratio
    print(f"goal: 100,000 responses under {GOAL_SECONDS:.0f} s: {'met' if ok_time else 'NOT MET'}; "
          f"growth no worse than linear: {'met' if ok_growth else 'NOT MET'}")
    return 0 if ok_time and ok_growth else 1


if __name__ == "__main__":
    sys.exit(main())
