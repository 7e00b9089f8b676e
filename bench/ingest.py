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
   (ru_maxrss; for clean also its redaction worker processes). Goals: ratio <= 2, peak < 2 GB.
   `--pandas` adds pandas.read_excel(engine="calamine") (the former, object-frame reference).
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
print(json.dumps({"kind": kind, "seconds": seconds, "rows": rows,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def worker_peak_mb(n_texts: int) -> float:
    """Peak memory of one background redaction worker (ru_maxrss of the children is no use
    here: it counts the parent's pages shared at fork time)."""
    import numpy as np

    from analysis import clean, synth

    rng = np.random.default_rng(1)
    themes = [t["code"] for t in synth.THEMES if t["code"] in synth.PHRASES["lv"]]
    texts = [synth.compose_text(rng, "lv", [themes[i % len(themes)]]) for i in range(n_texts)]
    script = clean._REDACT_WORKER + ("import resource\n"
                                     "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n")
    proc = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts).encode(), capture_output=True)
    return int(proc.stderr.decode().strip().splitlines()[-1]) / 1024


def measure(kind: str, path: Path, workdir: Path) -> dict:
    env = {**os.environ, "ANALYSIS_SALT": os.environ.get("ANALYSIS_SALT") or "bench-salt-not-secret-0123456789"}
    out = tempfile.mkdtemp(prefix="run-", dir=workdir)
    proc = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), out, str(PARAMS)],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="responses in the generated export")
    ap.add_argument("--repeat", type=int, default=3, help="measurements of each kind (median reported)")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "analysis-bench"))
    ap.add_argument("--pandas", action="store_true",
                    help="also measure pandas.read_excel(engine='calamine'), the object-frame read")
    args = ap.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    export = workdir / f"forms_lv_{args.n}.xlsx"
    if not export.exists():
        t = time.perf_counter()
        build_export(export, args.n)
        print(f"wrote {export} ({export.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.0f} s")
    else:
        print(f"reusing {export} ({export.stat().st_size / 1e6:.1f} MB)")
    kinds = ("raw", "clean", "pandas") if args.pandas else ("raw", "clean")
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(args.repeat):
        for kind in kinds:          # alternating, so drifts hit both alike
            r = measure(kind, export, workdir)
            runs[kind].append(r)
            print(f"  {kind:6s} {r['seconds']:7.2f} s  peak {r['maxrss_mb']:7.0f} MB  rows {r['rows']}")
    raw = statistics.median(r["seconds"] for r in runs["raw"])
    ours = statistics.median(r["seconds"] for r in runs["clean"])
    peak = max(r["maxrss_mb"] for r in runs["clean"])
    peak_raw = max(r["maxrss_mb"] for r in runs["raw"])
    worker = worker_peak_mb(60_000)
    ratio = ours / raw
    print(f"\n{args.n:,} responses, median of {args.repeat}:")
    print(f"  raw read (fastexcel, Arrow, calamine):         {raw:6.2f} s   peak {peak_raw:6.0f} MB")
    if args.pandas:
        pd_s = statistics.median(r["seconds"] for r in runs["pandas"])
        pd_peak = max(r["maxrss_mb"] for r in runs["pandas"])
        print(f"  pandas.read_excel(engine=calamine), objects:  {pd_s:6.2f} s   peak {pd_peak:6.0f} MB")
    print(f"  read and clean (analysis.clean.run_clean):     {ours:6.2f} s   peak {peak:6.0f} MB")
    print(f"  ratio clean / raw: {ratio:.2f}  (goal <= 2: {'met' if ratio <= 2 else 'NOT met'}); "
          f"peak memory {peak / 1024:.2f} GB (goal < 2 GB: {'met' if peak < 2048 else 'NOT met'})")
    print(f"  meanwhile the redaction runs in a child process: {worker:.0f} MB peak on 60,000 texts "
          f"(main + worker {(peak + worker) / 1024:.2f} GB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
