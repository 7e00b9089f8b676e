"""Benchmark (not a test): stage 01 on a 100,000-response Forms export vs an Arrow-native raw read.

    .venv/bin/python bench/ingest.py [--n 100000] [--repeat 3] [--workdir /tmp/analysis-bench]

1. Writes (once, then reuses) a Forms .xlsx in the sample's exact format: the header row of
   data/sample/forms_lv.xlsx, each answer column drawn independently from that column of the
   sample (so every label, skip rate and unknown label of the sample occurs, and rows are not
   copies of each other), new IDs, times from the sample's spread, and fresh proposal texts from
   `analysis.synth.compose_text` at the sample's answer rate (real texts are all different, so
   the redaction cost is not flattered by repeats).
2. Measures, side by side and alternating, each in a fresh subprocess:
   - raw:   fastexcel.read_excel(path).load_sheet(0).to_arrow()   (the reference: the same
            calamine engine, Arrow columns, no Python object per cell)
   - clean: analysis.clean.run_clean(params, run_dir)            (read, match headers, parse
            dates, recode, quality rules, pseudonymise, redact, write the parquet files; no HTML)
   and prints the median seconds, the ratio clean/raw and each process's peak resident memory
   (ru_maxrss), and for clean the peak of its whole process tree (with the redaction children,
   sampled by psutil). Goals: ratio <= 2, peak < 2 GB.
   `--pandas` adds pandas.read_excel(engine="calamine") (the former, object-frame reference).
   `--stream` adds the streamed Arrow read alone (analysis.xlsx_stream: every batch of the
   sheet, what stage 01 reads through; its peak shows the reader holds one batch, not the sheet).
   `--export PATH` measures that .xlsx instead of the generated one (e.g. a 10^6-response export
   of `python -m analysis synth`; `--only raw,stream` skips the slower kinds).
   `--baseline REV` adds stage 01 as it was at git revision REV (its src/analysis and params
   exported with `git archive` into the work folder, first on PYTHONPATH), measured in the same
   alternation, so before and after and the raw read come from one run on the same machine load.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "forms_lv.xlsx"
PARAMS = ROOT / "params" / "liepaja-2022.yaml"
DATE_FORMAT = "m/d/yy h:mm:ss"


# --- the export -------------------------------------------------------------------------

def build_export(path: Path, n: int, seed: int = 2022) -> Path:
    """A Forms export of n responses in the sample's format (see the module docstring)."""
    import numpy as np
    import openpyxl
    import pandas as pd

    from analysis import codebook, synth

    cb = codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    cells = pd.read_excel(SAMPLE, engine="calamine", header=None, dtype=object)
    headers = [str(h) for h in cells.iloc[0]]
    data = cells.iloc[1:].reset_index(drop=True)
    match = cb.match_headers(headers)["mapping"]
    var_of = [match.get(h) for h in headers]
    rng = np.random.default_rng(seed)
    m = len(data)
    start = pd.to_datetime(data[headers.index("Start time")])
    duration = (pd.to_datetime(data[headers.index("Completion time")]) - start).dt.total_seconds()
    duration = duration[(duration > 0) & (duration < 4 * 3600)].to_numpy()
    first = pd.Timestamp("2022-01-10 08:00")
    span = (pd.Timestamp("2022-02-27 22:00") - first).total_seconds()
    starts = first + pd.to_timedelta(np.sort(rng.uniform(0, span, n)), unit="s")
    ends = starts + pd.to_timedelta(rng.choice(duration, n), unit="s")
    themes_of = {}
    for t in synth.THEMES:
        themes_of.setdefault(t["sector"], []).append(t["code"])
    all_themes = [t["code"] for t in synth.THEMES if t["code"] in synth.PHRASES["lv"]]
    columns = []
    for j, var in enumerate(var_of):
        v = cb.variables.get(var) if var else None
        if var == "response_id":
            col = list(range(1, n + 1))
        elif var == "start_time":
            col = list(starts.to_pydatetime())
        elif var in ("completion_time", "last_modified"):
            col = list(ends.to_pydatetime())
        elif v is not None and v.type == "text" and not v.pii:
            answered = data[j].notna().to_numpy().mean()
            pool = [t for t in themes_of.get(v.sector, []) if t in synth.PHRASES["lv"]] or all_themes
            col = [synth.compose_text(rng, "lv", [pool[int(rng.integers(len(pool)))]]) if rng.random() < answered
                   else None for _ in range(n)]
        else:
            col = list(data[j].to_numpy(dtype=object)[rng.integers(0, m, n)])
        columns.append(col)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(headers)
    date_cols = {headers.index(h) for h in ("Start time", "Completion time", "Last modified time") if h in headers}
    from openpyxl.cell import WriteOnlyCell

    for i in range(n):
        row = []
        for j, col in enumerate(columns):
            value = col[i]
            if isinstance(value, float) and value != value:
                value = None
            if j in date_cols and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = DATE_FORMAT
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


# --- one measurement in a fresh process --------------------------------------------------

CHILD = r"""
import json, os, resource, sys, time
kind, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if kind == "raw":
    import fastexcel
    table = fastexcel.read_excel(path).load_sheet(0).to_arrow()
    rows = table.num_rows
elif kind == "stream":
    from analysis import xlsx_stream
    header, batches, _ = xlsx_stream.read_sheet(path)
    rows = 0
    for base, arrays in batches:
        rows = base - 2 + max(len(a) for a in arrays)   # sheet row numbers; row 1 is the header
elif kind == "pandas":
    import pandas as pd
    frame = pd.read_excel(path, engine="calamine")
    rows = len(frame)
else:
    from analysis import clean, paths
    params = paths.load_params(sys.argv[4])
    params["inputs"] = {"forms": [path]}
    result = clean.run_clean(params, run_dir=out)
    rows = int(result.flow["rows_read"].sum())
seconds = time.perf_counter() - t0
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"kind": kind, "seconds": seconds, "rows": rows, "maxrss_mb": me.ru_maxrss / 1024,
                  "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime}))
"""


def baseline_tree(rev: str, workdir: Path) -> Path:
    """The project as it was at git revision `rev`: src/analysis, params/ and notebooks/ exported
    with `git archive` (code, its params and its notebooks agree), data/ linked from this
    checkout (the package finds its resources from its own place); returns the folder for
    PYTHONPATH. Its params are at `<returned>/../params`."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    base = workdir / f"rev-{sha}"
    if not (base / "src" / "analysis" / "__init__.py").exists():
        base.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "src/analysis", "params", "notebooks"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        if not (base / "data").exists():
            (base / "data").symlink_to(ROOT / "data")
    return base / "src"


def tree_peak(child) -> int:
    """Peak resident memory of a running child and its descendants (sampled every 50 ms)."""
    import psutil

    peak = 0
    try:
        proc = psutil.Process(child.pid)
    except psutil.Error:
        return 0
    while child.poll() is None:
        total = 0
        try:
            procs = [proc] + proc.children(recursive=True)
        except psutil.Error:
            break
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)
        time.sleep(0.05)
    return peak


def measure(kind: str, path: Path, workdir: Path, pythonpath: Path | None = None) -> dict:
    env = {**os.environ, "ANALYSIS_SALT": os.environ.get("ANALYSIS_SALT") or "bench-salt-not-secret-0123456789"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = tempfile.mkdtemp(prefix="run-", dir=workdir)
    params = PARAMS if pythonpath is None else pythonpath.parent / "params" / PARAMS.name
    child = subprocess.Popen([sys.executable, "-c", CHILD, "clean" if kind.startswith("clean") else kind,
                              str(path), out, str(params)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    peak = tree_peak(child)
    stdout, stderr = child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{stderr[-3000:]}")
    got = json.loads(stdout.strip().splitlines()[-1])
    got["tree_mb"] = max(peak / 2**20, got["maxrss_mb"])
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="responses in the generated export")
    ap.add_argument("--repeat", type=int, default=3, help="measurements of each kind (median reported)")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "analysis-bench"))
    ap.add_argument("--pandas", action="store_true",
                    help="also measure pandas.read_excel(engine='calamine'), the object-frame read")
    ap.add_argument("--baseline", metavar="REV", help="also measure stage 01 as at this git revision (before)")
    ap.add_argument("--stream", action="store_true", help="also measure the streamed Arrow read alone")
    ap.add_argument("--export", metavar="PATH", help="measure this .xlsx instead of the generated export")
    ap.add_argument("--only", metavar="KINDS", help="comma-separated kinds to measure (raw, stream, clean, ...)")
    args = ap.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    export = Path(args.export) if args.export else workdir / f"forms_lv_{args.n}.xlsx"
    if args.export:
        print(f"measuring {export} ({export.stat().st_size / 1e6:.1f} MB)")
    elif not export.exists():
        t = time.perf_counter()
        build_export(export, args.n)
        print(f"wrote {export} ({export.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.0f} s")
    else:
        print(f"reusing {export} ({export.stat().st_size / 1e6:.1f} MB)")
    kinds = ["raw", "clean"] + (["stream"] if args.stream else []) + (["pandas"] if args.pandas else [])
    base = None
    if args.baseline:
        base = baseline_tree(args.baseline, workdir)
        before = f"clean@{base.parent.name.removeprefix('rev-')}"
        kinds.insert(1, before)
    if args.only:
        wanted = set(args.only.split(","))
        kinds = [k for k in kinds if k in wanted or k.split("@")[0] in wanted
                 or (k.startswith("clean@") and "baseline" in wanted)]
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(args.repeat):
        for kind in kinds:          # alternating, so drifts hit all alike
            r = measure(kind, export, workdir, base if kind.startswith("clean@") else None)
            runs[kind].append(r)
            print(f"  {kind:14s} {r['seconds']:7.2f} s (cpu {r['cpu_s']:6.1f} s)  peak {r['maxrss_mb']:7.0f} MB "
                  f"(tree {r['tree_mb']:6.0f} MB)  rows {r['rows']}")
    raw = statistics.median(r["seconds"] for r in runs["raw"]) if "raw" in runs else float("nan")
    labels = {"raw": "raw read (fastexcel, Arrow, calamine)",
              "stream": "streamed read (xlsx_stream, Arrow batches)",
              "pandas": "pandas.read_excel(engine=calamine), objects",
              "clean": "stage 01 now (analysis.clean.run_clean)"}
    n_rows = max(r["rows"] for rs in runs.values() for r in rs)
    print(f"\n{n_rows:,} responses, median of {args.repeat} (load average {os.getloadavg()[0]:.1f}):")
    print(f"  {'':46s} {'seconds':>8s} {'/ raw':>6s} {'cpu s':>7s} {'peak MB':>8s} {'tree MB':>8s}")
    for kind in kinds:
        s = statistics.median(r["seconds"] for r in runs[kind])
        cpu = statistics.median(r["cpu_s"] for r in runs[kind])
        peak = max(r["maxrss_mb"] for r in runs[kind])
        tree = max(r["tree_mb"] for r in runs[kind])
        label = labels.get(kind) or f"stage 01 at {kind.split('@')[1]} (before)"
        print(f"  {label:46s} {s:8.2f} {s / raw:6.2f} {cpu:7.1f} {peak:8.0f} {tree:8.0f}")
    if "clean" not in runs or "raw" not in runs:
        return 0
    ours = statistics.median(r["seconds"] for r in runs["clean"])
    tree = max(r["tree_mb"] for r in runs["clean"])
    ratio = ours / raw
    print(f"  ratio clean / raw: {ratio:.2f}  (goal <= 2: {'met' if ratio <= 2 else 'NOT met'}); "
          f"peak memory with the redaction children {tree / 1024:.2f} GB "
          f"(goal < 2 GB: {'met' if tree < 2048 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
