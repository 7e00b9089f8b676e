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
"""
from __future__ import annotations

import argparse
import json
import resource
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
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--figures", action="store_true", help="also draw the four figures")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)          # internal: one size, JSON out
    args = ap.parse_args(argv)
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
