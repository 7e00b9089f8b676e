"""Benchmark (not a test): the whole pipeline at national scale, 10^5 and 10^6 responses.

    .venv/bin/python bench/scale.py [--sizes 1e5,1e6] [--workdir /tmp/analysis-scale] [--keep]

For each size n:
1. builds a Forms export of n responses with the generator (`python -m analysis synth --n n`:
   fresh responses and proposal texts drawn from the survey's spec, not copies of rows; the
   e-mails are the generator's default n/20), once per work folder (reused when present);
2. writes a temporary params file: the sample's params with `inputs` pointing at that export;
3. runs `python -m analysis run PARAMS --out DIR --no-html` in a child process while polling
   the resident memory of its whole process tree (the run, its kernels and their workers;
   psutil, every 0.2 s); the stage a sample belongs to is the last "[NN_stage] running" line
   the run printed, and wall time per stage comes from the run's manifest.

Prints, per size, wall time and peak memory of the whole tree per stage (the sum of RSS, which
counts pages forked workers share with their parent once per process, and the sum of PSS, which
splits them: the goal is judged on PSS, both are printed), then the growth ratio
10^6 / 10^5 of each (linear = 10). Goal (issue 15): 10^6 in <= 15 min with peak <= 4 GB.
`--baseline REV` runs the pipeline a second time per size with src/analysis as it was at git
revision REV (its src/analysis, params and notebooks exported with `git archive`, first on
PYTHONPATH, data linked from this checkout) and prints before and after side by side.
The run folders and exports are deleted at the end unless --keep.

Do not run the 10^6 size on a shared machine while others work: it takes the two cores for
a quarter of an hour.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params" / "liepaja-2022.yaml"
STAGE_LINE = re.compile(r"^\[(\d\d_[a-z]+)\] running")


def build_export(n: int, folder: Path) -> Path:
    """The generator's export of n responses in `folder` (forms_lv.xlsx, forms_ru.xlsx, mbox)."""
    done = folder / ".complete"
    if done.exists():
        print(f"reusing the export in {folder}")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analysis", "synth", "--n", str(n), "--out", str(folder)],
                   check=True, cwd=ROOT)
    done.write_text("ok")
    print(f"generated {n:,} responses in {folder} in {time.perf_counter() - t:.0f} s")
    return folder


def params_for(export: Path, path: Path, root: Path = ROOT) -> Path:
    """The sample's params (those of the project at `root`) with every path absolute and the
    inputs at `export`."""
    params = yaml.safe_load((root / PARAMS.relative_to(ROOT)).read_text(encoding="utf-8"))
    for key in ("codebook", "themes", "population"):
        if params.get(key):
            params[key] = str((root / params[key]).resolve())
    if params.get("human_coding"):
        params["human_coding"] = [str((root / p).resolve()) for p in params["human_coding"]]
    params["inputs"] = {"forms": [str(p) for p in sorted(export.glob("forms_*.xlsx"))],
                        "email": [str(p) for p in sorted(export.glob("*.mbox"))]}
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def tree_rss(proc) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) over the process and its descendants. RSS counts a page shared by
    forked workers once per process; PSS splits it between them, so the PSS sum is the memory
    the tree really holds (Linux /proc/PID/smaps_rollup, read by psutil)."""
    import psutil

    rss = pss = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0, 0
    for p in procs:
        try:
            m = p.memory_full_info()
            rss += m.rss
            pss += getattr(m, "pss", m.rss)
        except psutil.Error:
            pass
    return rss, pss


def run_pipeline(params: Path, out: Path, pythonpath: Path | None = None) -> dict:
    """Wall time and peak tree RSS per stage of one `analysis run`."""
    import psutil

    env = {**os.environ, "ANALYSIS_SALT": os.environ.get("ANALYSIS_SALT") or "bench-salt-not-secret-0123456789"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "analysis", "run", str(params), "--out", str(out),
                              "--no-html", "--timeout", "0"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc = psutil.Process(child.pid)
    state = {"stage": "00_check"}
    peaks: dict[str, int] = {}
    pss_peaks: dict[str, int] = {}
    lines: list[str] = []
    starts: dict[str, float] = {}

    def read():
        for line in child.stdout:
            lines.append(line)
            m = STAGE_LINE.match(line.strip())
            if m:
                state["stage"] = m.group(1)
                starts.setdefault(m.group(1), time.perf_counter() - t0)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while child.poll() is None:
        rss, pss = tree_rss(proc)
        peaks[state["stage"]] = max(peaks.get(state["stage"], 0), rss)
        pss_peaks[state["stage"]] = max(pss_peaks.get(state["stage"], 0), pss)
        time.sleep(0.2)
    reader.join(timeout=5)
    wall = time.perf_counter() - t0
    if child.returncode != 0:
        raise SystemExit(f"the run failed (exit {child.returncode}):\n{''.join(lines[-40:])}")
    manifests = sorted(out.glob("*/manifest.json"))
    manifest = json.loads(manifests[-1].read_text(encoding="utf-8"))
    seconds = {k: v["seconds"] for k, v in manifest["stages"].items()}
    if starts:      # the input check: from the start until the first stage's "running" line
        seconds["00_check"] = min(starts.values())
    return {"wall": wall, "seconds": seconds, "peak_mb": {k: v / 2**20 for k, v in peaks.items()},
            "pss_mb": {k: v / 2**20 for k, v in pss_peaks.items()}}


def baseline_tree(rev: str, workdir: Path) -> Path:
    """src/analysis as at git revision `rev` (see bench/ingest.py), for PYTHONPATH."""
    sys.path.insert(0, str(Path(__file__).parent))
    from ingest import baseline_tree as tree

    return tree(rev, workdir)


def print_side_by_side(n: int, before: dict, after: dict, rev: str) -> None:
    print(f"\n{n:,} responses, before ({rev}) and after, load average {os.getloadavg()[0]:.1f}:")
    print(f"  {'stage':14s} {'before s':>9s} {'after s':>9s} {'before MB':>10s} {'after MB':>9s}"
          f" {'before PSS':>11s} {'after PSS':>10s}")
    for stage in sorted(set(before["seconds"]) | set(after["seconds"]) | set(after["peak_mb"])):
        cells = []
        for r in (before, after):
            x = r["seconds"].get(stage)
            cells.append(f"{x:9.1f}" if x is not None else f"{'-':>9s}")
        for r in (before, after):
            cells.append(f"{r['peak_mb'].get(stage, 0):9.0f}")
        for r in (before, after):
            cells.append(f"{r['pss_mb'].get(stage, 0):9.0f}")
        print(f"  {stage:14s} {cells[0]} {cells[1]} {cells[2]:>10s} {cells[3]} {cells[4]:>11s} {cells[5]:>10s}")
    print(f"  {'whole run':14s} {before['wall']:9.1f} {after['wall']:9.1f} "
          f"{max(before['peak_mb'].values()):10.0f} {max(after['peak_mb'].values()):9.0f}"
          f" {max(before['pss_mb'].values()):11.0f} {max(after['pss_mb'].values()):10.0f}")


def size(text: str) -> int:
    return int(float(text))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e5,1e6", help="comma-separated numbers of responses (default 1e5,1e6)")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "analysis-scale"))
    ap.add_argument("--keep", action="store_true", help="keep the exports and run folders")
    ap.add_argument("--baseline", metavar="REV", help="also run the pipeline as at this git revision (before)")
    args = ap.parse_args(argv)
    sizes = [size(s) for s in args.sizes.split(",") if s.strip()]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    try:
        for n in sizes:
            export = build_export(n, workdir / f"export-{n}")
            params = params_for(export, workdir / f"params-{n}.yaml")
            out = workdir / f"out-{n}"
            shutil.rmtree(out, ignore_errors=True)
            if args.baseline:
                shutil.rmtree(out, ignore_errors=True)
                base = baseline_tree(args.baseline, workdir)
                before = run_pipeline(params_for(export, workdir / f"params-{n}-before.yaml", base.parent),
                                      out, base)
            shutil.rmtree(out, ignore_errors=True)
            r = run_pipeline(params, out)
            results[n] = r
            if args.baseline:
                print_side_by_side(n, before, r, args.baseline)
            print(f"\n{n:,} responses: whole run {r['wall']:.0f} s, peak RSS {max(r['peak_mb'].values()):.0f} MB, "
                  f"peak PSS {max(r['pss_mb'].values()):.0f} MB")
            for stage in sorted(set(r["seconds"]) | set(r["peak_mb"])):
                s = r["seconds"].get(stage)
                print(f"  {stage:14s} {'' if s is None else f'{s:8.1f} s'}{'' if s is not None else ' ' * 10}"
                      f"  peak RSS {r['peak_mb'].get(stage, 0):7.0f} MB  PSS {r['pss_mb'].get(stage, 0):7.0f} MB")
        if len(sizes) >= 2:
            a, b = sizes[0], sizes[-1]
            ra, rb = results[a], results[b]
            print(f"\ngrowth {b:,} / {a:,} (linear = {b / a:g}):")
            print(f"  whole run: time x{rb['wall'] / ra['wall']:.1f}, "
                  f"peak x{max(rb['peak_mb'].values()) / max(ra['peak_mb'].values()):.1f}")
            for stage in sorted(set(ra["seconds"]) & set(rb["seconds"])):
                pa, pb = ra["peak_mb"].get(stage), rb["peak_mb"].get(stage)
                peak = f"peak x{pb / pa:.1f}" if pa and pb else "peak -"
                print(f"  {stage:14s} time x{rb['seconds'][stage] / max(ra['seconds'][stage], 1e-9):.1f}, {peak}")
        last = results[sizes[-1]]
        ok = last["wall"] <= 900 and max(last["pss_mb"].values()) <= 4096
        print(f"\ngoal at {sizes[-1]:,}: <= 15 min and <= 4 GB (PSS of the process tree) -> {'met' if ok else 'NOT met'}"
              f"; by the RSS sum (shared pages of forked workers counted in each): "
              f"{'<=' if max(last['peak_mb'].values()) <= 4096 else '>'} 4 GB")
    finally:
        if not args.keep:
            for n in sizes:
                for p in (workdir / f"export-{n}", workdir / f"out-{n}"):
                    shutil.rmtree(p, ignore_errors=True)
                (workdir / f"params-{n}.yaml").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
