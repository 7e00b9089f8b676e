"""`python -m analysis check PARAMS`: validate every input against the codebook, run nothing.

Reads each Forms export and mailbox named in the params exactly as stage 01 does (same
reader, same header matching, same date parsing, same recoding) and prints every problem at
once: missing and unexpected columns, unknown labels with counts and rows, unparseable dates,
empty files, duplicate headers, files that are not what their name says, files of another
form. Errors mean the run would stop (exit 2); warnings are rows that the run quarantines or
notes. Nothing is written and no pseudonym salt is read.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from . import paths
from .ingest import InputError, Problem

__all__ = ["Problem", "InputError", "check_inputs", "check_command"]


def check_inputs(params: dict[str, Any], root: Path | None = None) -> list[Problem]:
    """Every problem with the inputs of a run, errors first (each names file, column, rows, expected)."""
    from .clean import prepare

    try:
        prepared = prepare(params, root)
    except InputError as exc:       # defensive: prepare collects, but never hide a problem
        return exc.problems
    problems = prepared.problems
    return sorted(problems, key=lambda p: (p.severity != "error",))


def check_command(params_path: str | Path, out: TextIO | None = None) -> int:
    """Print the problems of a params file's inputs; 0 if there are no errors, 2 if there are."""
    out = out or sys.stdout
    try:
        params = paths.load_params(params_path)
    except (FileNotFoundError, ValueError) as exc:
        print(f"ERROR {exc}", file=out)
        return 2
    except Exception as exc:  # a YAML syntax error, said plainly
        print(f"ERROR {params_path}: cannot read the params file ({type(exc).__name__}: {exc})", file=out)
        return 2
    problems = check_inputs(params)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        print(str(p), file=out)
    inputs = params.get("inputs") if isinstance(params.get("inputs"), dict) else {}
    n_files = sum(len(v) if isinstance(v, list) else 1 for v in inputs.values() if v)
    summary = (f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s) in {n_files} input file(s)"
               + (": the run would stop; fix the errors above" if errors else ": inputs are usable"))
    print(summary, file=out)
    return 2 if errors else 0
