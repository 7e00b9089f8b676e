"""Command line: `python -m analysis {run,check,synth,coding-sample}`.

Exit codes: 0 success, 1 a failure of our own (including a disk that is full or read-only:
one line naming the path and the cause), 2 bad input (the message names the file, column,
row or params key and what was expected), 75 another run of the same survey holds the lock,
130/143 interrupted (Ctrl-C / SIGTERM). Imports are done inside each command so that
`--help` answers at once. A new command: a function `_name(args) -> int`, its sub-parser in
`build_parser`, and one entry in COMMANDS.
"""
from __future__ import annotations

import argparse
import signal
import sys

from .paths import DEFAULT_PARAMS

EPILOG = """examples:
  python -m analysis run                          # the embedded synthetic sample
  python -m analysis run params/my-survey.yaml --from 02
  python -m analysis run ../params/my-survey.yaml --out /tmp/try   # paths relative to here
  python -m analysis check params/my-survey.yaml  # validate inputs, run nothing
  python -m analysis synth --n 1200 --seed 2022 --out data/sample
  python -m analysis draft-codebook export.xlsx --out params/codebooks/new.yaml
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis", description="Research workspace for public consultations "
        "(any survey described by a codebook and a params file): clean, test, analyse proposals, report.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="run the whole pipeline and render the HTML reports",
                       description="Execute the stage notebooks (01 clean, 02 ratings, 03 proposals, "
                       "04 summary) with papermill, render the reports with nbconvert, write "
                       "outputs/<survey>/<run-id>/ and move outputs/<survey>/latest to it on success. "
                       "Inputs are checked first; nothing is written when they have errors.")
    p.add_argument("params", nargs="?", default=DEFAULT_PARAMS,
                   help=f"run parameters (YAML), relative to the current folder; default: "
                   f"{DEFAULT_PARAMS} of the project (the synthetic sample)")
    p.add_argument("--out", help="survey output folder, relative to the current folder "
                   "(default: outputs/<survey> of the project, or $ANALYSIS_OUTPUTS/<survey>)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--only", metavar="STAGE", help="rerun this stage (e.g. 02 or ratings) and the "
                   "later stages that read its outputs; earlier stages' outputs are taken from the "
                   "last successful run")
    g.add_argument("--from", dest="start", metavar="STAGE", help="run from this stage on")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="if another run of the survey is in progress, wait this long for it (default: exit 75)")
    p.add_argument("--no-html", action="store_true", help="execute the notebooks but skip HTML rendering")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop a stage that runs longer than this (exit 1, naming the stage and the "
                   "cell); default 3600; 0 = no limit")

    p = sub.add_parser("check", help="validate the inputs against the codebook; run nothing",
                       description="Read every input named in PARAMS and report every problem at once: "
                       "missing/unexpected columns, unknown labels (with counts and row ids), "
                       "unparseable dates, empty files, duplicate headers, files of another form. "
                       "Exit 0 if clean, 2 on errors.")
    p.add_argument("params", nargs="?", default=DEFAULT_PARAMS, help="run parameters (YAML)")

    p = sub.add_parser("synth", help="write a synthetic survey (Forms exports, mbox, truth.json)",
                       description="Generate a realistic synthetic consultation in the exact Microsoft "
                       "Forms export format (forms_lv.xlsx, forms_ru.xlsx), an mbox of e-mailed proposals "
                       "and truth.json recording every planted effect, theme, personal datum and "
                       "data-quality problem. The same seed gives the same content.")
    p.add_argument("--n", type=int, default=1200, help="number of form responses (default 1200)")
    p.add_argument("--emails", type=int, default=None, help="number of e-mails (default: n/20)")
    p.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--params", default=None, help="generate for this params file's codebook (another survey)")
    p.add_argument("--codebook", default=None, help="generate an export for this codebook (another survey)")
    p.add_argument("--spec", default=None, help="generator spec of another survey (distributions, effects, "
                   "phrases; default data/<survey>/generator.yaml when it exists)")
    p.add_argument("--format", choices=("xlsx", "csv"), default=None,
                   help="file format of another survey's export (default: the spec's, else xlsx)")

    p = sub.add_parser("draft-codebook", help="write a draft codebook from a raw Forms export",
                       description="Read a Forms export (.xlsx or .csv) and write a draft codebook: meta "
                       "columns, missing-value codes, multi-selects (joined or one column per option), "
                       "rating grids grouped by their answer set, numeric scales with the observed range, "
                       "single choices, free text, the form language. Every decision a person must make is "
                       "written TODO; check and run refuse the file until none is left.")
    p.add_argument("export", help="a Forms export (.xlsx or .csv)")
    p.add_argument("--out", default=None, help="file to write (default: print the draft)")

    p = sub.add_parser("coding-sample", help="write a stratified sample of proposals for manual coding",
                       description="Write a CSV of proposals stratified by sector and source, with one "
                       "empty column per theme, for human coders. Fill in 1/0 per theme (or a `codes` column "
                       "with theme codes separated by ';'), save as CSV or XLSX and list the file under "
                       "`human_coding` in the params: stage 03 then learns from it, reports cross-validated "
                       "agreement and proposes the next texts to code (tables/next_to_code.csv).")
    p.add_argument("params", nargs="?", default=DEFAULT_PARAMS, help="run parameters (YAML)")
    p.add_argument("--n", type=int, default=200, help="number of proposals (default 200)")
    p.add_argument("--seed", type=int, default=1, help="sampling seed")
    p.add_argument("--out", default=None, help="CSV path (default: outputs/<survey>/coding_sample.csv)")
    p.add_argument("--simulate", metavar="TRUTH", default=None,
                   help="instead, write a simulated human coding of N proposals from a synthetic sample's "
                   "truth.json (planted themes with realistic disagreement); needs --out")
    p.add_argument("--rate", type=float, default=0.10,
                   help="with --simulate: share of planted theme labels the simulated coder changes (default 0.10)")
    return parser


def _skip_unused_imports() -> None:
    """jsonschema (which nbformat loads to read and write the executed notebooks) imports
    rfc3987_syntax when it is installed (JupyterLab's jupyter-events asks for it), and that module
    builds about 40 grammars when imported: 2.5 s at the start of every command, for IRI format
    checks that no notebook schema uses. This process never needs it: the import is marked as
    unavailable (jsonschema then leaves those two format checks out), unless it already happened."""
    sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _skip_unused_imports()
    from .run import Terminated

    def terminated(signum, frame):
        raise Terminated()

    with _suppress(ValueError):           # not in the main thread (embedded use): leave it
        signal.signal(signal.SIGTERM, terminated)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated (SIGTERM)", file=sys.stderr)
        return 143
    except OSError as exc:                # a disk error in any command: one line, no traceback
        from .run import disk_error

        print(f"error: {disk_error(exc)}", file=sys.stderr)
        return 1


def _suppress(*exceptions):
    import contextlib

    return contextlib.suppress(*exceptions)


def _run(args) -> int:
    from .run import DEFAULT_STAGE_TIMEOUT, RunError, run

    timeout = DEFAULT_STAGE_TIMEOUT if args.timeout is None else (args.timeout or None)
    try:
        run_dir = run(args.params, out=args.out, only=args.only, start=args.start,
                      wait=args.wait, render=not args.no_html, timeout=timeout)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    index = run_dir / "report" / "index.html"
    print(index if index.exists() else run_dir)
    return 0


def _check(args) -> int:
    try:
        from .checks import check_command
    except ImportError:
        print("check: the input validation stage is not built yet", file=sys.stderr)
        return 1
    from . import paths

    where = paths.params_path(args.params)
    try:
        params = paths.load_params(where)
        key = "survey" if params.get("survey") is not None else "survey (from the params file's name)"
        paths.check_survey_name(params.get("survey") or where.stem, key)
    except paths.PathError as exc:
        print(f"ERROR {where}: {exc}", file=sys.stderr)
        return 2
    except Exception:                     # unreadable params: check_command says it plainly
        pass
    return check_command(where)


def _synth(args) -> int:
    from . import synth

    return synth.command(args)      # the embedded sample, or --params/--codebook: another survey


def _draft_codebook(args) -> int:
    from .draft_codebook import command

    return command(args)


def _coding_sample(args) -> int:
    if args.simulate:
        from .learn import simulate_command

        if not args.out:
            print("error: --simulate needs --out (e.g. data/sample/human_coding.csv)", file=sys.stderr)
            return 2
        return simulate_command(args.params, args.simulate, args.out, n=args.n, rate=args.rate,
                                seed=args.seed)
    try:
        from .themes import coding_sample_command
    except ImportError:
        print("coding-sample: arrives with the proposals stage (issue 5); not built yet", file=sys.stderr)
        return 1
    return coding_sample_command(args.params, n=args.n, seed=args.seed, out=args.out)


COMMANDS = {"run": _run, "check": _check, "synth": _synth, "draft-codebook": _draft_codebook,
            "coding-sample": _coding_sample}

if __name__ == "__main__":
    sys.exit(main())
