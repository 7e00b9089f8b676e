"""Run the pipeline: papermill executes the stage notebooks, nbconvert renders the reports.

One run writes `outputs/<survey>/<run-id>/` with notebooks/, report/, data/, tables/ and
manifest.json. `outputs/<survey>/latest` is moved (atomically, by os.replace of a symlink)
only after every stage and every report succeeded; a failed run keeps its own folder and
leaves `latest` as it was. A lock file per survey keeps two runs from interleaving.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths

NOTEBOOK_DIR = paths.ROOT / "notebooks"
# The stages are the numbered notebooks, run in order: 01_clean, 02_ratings, 03_proposals, 04_summary.
# Parameters the run itself gives every notebook (not taken from the params file).
RUN_PARAMETERS = ("run_dir",)
EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 75  # 75 = EX_TEMPFAIL


class RunError(Exception):
    """A run could not complete; `exit_code` says why (1 ours, 2 bad input, 75 locked)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Stage:
    name: str
    notebook: Path
    parameters: dict[str, Any]        # declared in the notebook's `parameters` cell


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- planning ---------------------------------------------------------------------------

def available_stages(only: str | None = None, start: str | None = None,
                     notebook_dir: Path = NOTEBOOK_DIR) -> list[Stage]:
    """The stage notebooks to run, with their declared parameters (papermill.inspect_notebook)."""
    import papermill

    names = sorted(p.stem for p in notebook_dir.glob("[0-9][0-9]_*.ipynb"))
    for wanted in (only, start):
        if wanted and _match_stage(wanted, names) is None:
            raise RunError(f"unknown stage {wanted!r}; stages: {', '.join(names)}", EXIT_BAD_INPUT)
    if only:
        names = [_match_stage(only, names)]
    elif start:
        names = names[names.index(_match_stage(start, names)):]
    stages = []
    for name in names:
        nb = notebook_dir / f"{name}.ipynb"
        declared = papermill.inspect_notebook(str(nb))
        stages.append(Stage(name, nb, declared))
    return stages


def _match_stage(wanted: str, names: list[str]) -> str | None:
    for name in names:
        if wanted in (name, name.split("_", 1)[0], name.split("_", 1)[-1]):
            return name
    return None


def check_parameters(params: dict[str, Any], stages: list[Stage], all_stages: list[Stage]) -> None:
    """A misspelled parameter is an error: every key must be declared by some notebook."""
    declared = {p for s in all_stages for p in s.parameters}
    unknown = sorted(k for k in params if k not in declared)
    if unknown:
        raise RunError(
            "unknown parameter(s) in the params file: " + ", ".join(unknown)
            + ". No notebook declares them; known parameters: " + ", ".join(sorted(declared)),
            EXIT_BAD_INPUT)
    for s in stages:
        for p in RUN_PARAMETERS:
            if p not in s.parameters:
                raise RunError(f"notebook {s.notebook.name} does not declare the parameter {p!r}")


def stage_parameters(params: dict[str, Any], stage: Stage, run_dir: Path) -> dict[str, Any]:
    values = {k: v for k, v in params.items() if k in stage.parameters}
    values["run_dir"] = str(run_dir)
    return values


# --- the run ------------------------------------------------------------------------------

def new_run_id(base: Path) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id, i = stamp, 1
    while (base / run_id).exists():
        i += 1
        run_id = f"{stamp}-{i}"
    return run_id


@contextlib.contextmanager
def survey_lock(survey_dir: Path, wait: float = 0.0):
    """Hold an exclusive lock on outputs/<survey>/.lock; wait up to `wait` s, else refuse."""
    survey_dir.mkdir(parents=True, exist_ok=True)
    lock_path = survey_dir / ".lock"
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    raise RunError(
                        f"another run of this survey is in progress ({holder}); "
                        f"try again later or pass --wait SECONDS", EXIT_LOCKED) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {dt.datetime.now().isoformat(timespec='seconds')}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def point_latest(survey_dir: Path, run_id: str) -> None:
    """Move `latest` to a run atomically: a new symlink renamed over the old one."""
    tmp = survey_dir / f".latest-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(run_id)
    os.replace(tmp, survey_dir / "latest")


def execute_stage(stage: Stage, parameters: dict[str, Any], out_nb: Path) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(stage.notebook), str(out_nb), parameters=parameters, kernel_name="python3",
            cwd=str(stage.notebook.parent), progress_bar={"desc": stage.name, "file": sys.stderr,
                                                         "leave": False},
            request_save_on_cell_execute=False, log_output=False)
    except PapermillExecutionError as exc:
        reason = _input_error_reason(exc)
        raise RunError(
            f"stage {stage.name} failed in cell {exc.exec_count or exc.cell_index} "
            f"({exc.ename}: {str(exc.evalue)[:500]}); the executed notebook is kept at {out_nb}",
            EXIT_BAD_INPUT if reason else EXIT_FAILURE) from None


def _input_error_reason(exc) -> bool:
    return exc.ename in ("InputError", "CodebookError", "SchemaError")


def run(params_file: str | Path = paths.DEFAULT_PARAMS, out: str | Path | None = None,
        only: str | None = None, start: str | None = None, wait: float = 0.0,
        render: bool = True, skip_checks: bool = False,
        notebook_dir: Path = NOTEBOOK_DIR) -> Path:
    """Run the stages and render the reports; return the run folder. Raises RunError."""
    params = paths.load_params(params_file)
    survey = str(params.get("survey") or Path(params_file).stem)
    all_stages = available_stages(notebook_dir=notebook_dir)
    stages = available_stages(only, start, notebook_dir)
    if not stages:
        raise RunError(f"no stage notebooks found in {notebook_dir}")
    check_parameters(params, stages, all_stages)
    if not skip_checks and stages[0].name == all_stages[0].name:
        _check_inputs_or_stop(params)

    survey_dir = Path(out).resolve() if out else paths.ROOT / "outputs" / survey
    with survey_lock(survey_dir, wait):
        run_id = new_run_id(survey_dir)
        run_dir = survey_dir / run_id
        dirs = paths.run_dirs(run_dir)
        if stages[0].name != all_stages[0].name:     # later stages read what earlier ones wrote
            _seed_from_latest(survey_dir, run_dir)
        manifest = _manifest_start(params_file, params, run_id, stages)
        _write_json(run_dir / "manifest.json", manifest)
        try:
            for stage in stages:
                t0 = time.perf_counter()
                log(f"[{stage.name}] running {stage.notebook.name}")
                execute_stage(stage, stage_parameters(params, stage, run_dir),
                              dirs["notebooks"] / stage.notebook.name)
                manifest["stages"][stage.name] = {"seconds": round(time.perf_counter() - t0, 2),
                                                  "status": "ok"}
            if render:
                t0 = time.perf_counter()
                from . import report_html
                report_html.render_run(run_dir, params, [s.name for s in stages])
                manifest["render_seconds"] = round(time.perf_counter() - t0, 2)
            manifest["outputs"] = _hash_tree(run_dir, ("data", "tables"))
            manifest["status"] = "success"
        except BaseException as exc:
            manifest["status"] = "failed"
            manifest["error"] = str(exc)
            raise
        finally:
            manifest["end"] = _now()
            manifest["duration_seconds"] = round(time.time() - manifest["_t0"], 2)
            _write_json(run_dir / "manifest.json", {k: v for k, v in manifest.items() if k != "_t0"})
        point_latest(survey_dir, run_id)
    return run_dir


def _check_inputs_or_stop(params: dict[str, Any]) -> None:
    try:
        from . import checks
    except ImportError:
        return  # the validation stage is not installed in this build
    problems = checks.check_inputs(params)
    errors = [p for p in problems if getattr(p, "severity", "error") == "error"]
    for p in errors:
        log(f"  {p}")
    if len(problems) > len(errors):
        log(f"  {len(problems) - len(errors)} warning(s) in the inputs (handled as the params say; "
            f"listed by `python -m analysis check` and in the cleaning log)")
    if errors:
        raise RunError(f"{len(errors)} input problem(s) found; nothing was run "
                       f"(see `python -m analysis check`)", EXIT_BAD_INPUT)


def _seed_from_latest(survey_dir: Path, run_dir: Path) -> None:
    """--only/--from: earlier stages' outputs come from the last successful run (copied)."""
    import shutil

    latest = survey_dir / "latest"
    if not latest.exists():
        raise RunError("--only/--from needs an earlier successful run (outputs/<survey>/latest)")
    for sub in ("data", "tables", "notebooks"):
        src = latest / sub
        if src.is_dir():
            shutil.copytree(src, run_dir / sub, dirs_exist_ok=True)


# --- manifest -------------------------------------------------------------------------------

def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _input_files(params_file, params) -> list[Path]:
    files = [paths.resolve(params_file)]
    for key in ("codebook", "themes", "population"):
        if params.get(key):
            files.append(paths.resolve(params[key]))
    for group in (params.get("inputs") or {}).values():
        for f in ([group] if isinstance(group, str) else group):
            files.append(paths.resolve(f))
    for f in (params.get("human_coding") or []) if isinstance(params.get("human_coding"), list) else []:
        files.append(paths.resolve(f))
    return files


def _hash_tree(run_dir: Path, subdirs) -> dict[str, str]:
    out = {}
    for sub in subdirs:
        for f in sorted((run_dir / sub).rglob("*")):
            if f.is_file():
                out[str(f.relative_to(run_dir))] = sha256(f)
    return out


def _git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.ROOT, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=paths.ROOT, capture_output=True, text=True, timeout=5)
        if res.returncode == 0:
            return res.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return None


def _versions() -> dict[str, str]:
    from importlib import metadata

    names = ["liepaja-consultation-analysis", "pandas", "numpy", "scipy", "statsmodels", "nltk",
             "scikit-learn", "simplemma", "chunspell", "py3langid", "pymorphy3", "papermill",
             "nbconvert", "matplotlib", "seaborn", "python-calamine", "pyarrow"]
    out = {"python": platform.python_version()}
    for n in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[n] = metadata.version(n)
    return out


def _manifest_start(params_file, params, run_id, stages) -> dict[str, Any]:
    inputs = {}
    for f in _input_files(params_file, params):
        rel = str(f.relative_to(paths.ROOT)) if f.is_relative_to(paths.ROOT) else str(f)
        inputs[rel] = sha256(f) if f.is_file() else None
    return {
        "survey": params.get("survey"), "run_id": run_id, "status": "running",
        "synthetic": bool(params.get("synthetic")), "params_file": str(params_file),
        "parameters": params, "inputs_sha256": inputs, "git_commit": _git_commit(),
        "versions": _versions(), "stages_planned": [s.name for s in stages], "stages": {},
        "start": _now(), "_t0": time.time(),
    }


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
