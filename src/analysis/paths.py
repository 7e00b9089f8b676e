"""Find the project root and resolve the files a run reads and writes.

Two kinds of path, resolved the way their users expect:

* the params file named on the command line (and `--out`) is a shell argument: relative to
  the current directory, like any other command; only the default params file falls back to
  the project root, so `python -m analysis run` works from any folder of the checkout;
* paths written *inside* a params file (codebook, inputs, themes, population) are taken from
  the project root, because notebooks run from their own folder (papermill, nbval,
  JupyterLab) and nothing may rely on the working directory.

Outputs live under `outputs/` (or `$ANALYSIS_OUTPUTS`: the tests point it at a temporary
folder so that they never touch a researcher's runs). During a run, `$ANALYSIS_SNAPSHOT`
names the private copy of the inputs the run took once at its start (see run.py); relative
input paths are read from there, so every stage reads the same bytes the manifest hashed.
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Any

import yaml

DEFAULT_POINTER = "params/DEFAULT"      # one line: the params file run when none is named
OUTPUTS_ENV = "ANALYSIS_OUTPUTS"        # outputs root (default: <project>/outputs)
SNAPSHOT_ENV = "ANALYSIS_SNAPSHOT"      # set by a run while it executes: its inputs snapshot
LATEST_POINTER = "latest.txt"           # the last successful run's id (works without symlinks)
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


class PathError(ValueError):
    """A name or path from the params file or the command line is not acceptable; names the key."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def _default_params() -> str:
    """The project's default params file, named in ``params/DEFAULT`` (data, not code: a
    workspace for another consultation changes that line, never a module)."""
    pointer = Path(__file__).resolve().parents[2] / DEFAULT_POINTER
    try:
        return pointer.read_text(encoding="utf-8").strip()
    except OSError:
        return "params/params.yaml"


DEFAULT_PARAMS = _default_params()


def project_root(start: str | Path | None = None) -> Path:
    """The folder holding pyproject.toml, found by walking up (not by counting '../')."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() and (folder / "src" / "analysis").is_dir():
            return folder
    # installed package used from elsewhere: fall back to the source tree it came from
    return Path(__file__).resolve().parents[2]


ROOT = project_root(Path(__file__).parent)


def resolve(path: str | Path, root: Path | None = None) -> Path:
    """A params-file path made absolute against the project root.

    While a run executes, a relative path is read from the run's snapshot of its inputs when
    the snapshot holds it (the same bytes the manifest hashed)."""
    p = Path(path)
    if p.is_absolute():
        return p
    snapshot = os.environ.get(SNAPSHOT_ENV)
    if snapshot and str(path) and (root is None or Path(root) == ROOT):
        candidate = Path(snapshot) / p
        if candidate.exists():
            return candidate
    return (root or ROOT) / p


def child_env() -> dict[str, str]:
    """This process's environment for a child interpreter (`python -c ...`) that must import
    this very package: its source folder first on PYTHONPATH (a checkout used through
    PYTHONPATH, e.g. a benchmark's older revision, is not what an installed copy would give)."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([package_parent] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


SNAPSHOT_ORIGINALS = ".originals.json"    # in a run's snapshot: copy -> the original it was taken from


def as_given(path: str | Path) -> str:
    """A path as the params file gave it: while a run executes, a file given by an absolute path
    is read from the run's snapshot (a temporary folder); tables name the original instead,
    so they do not change with the temporary folder's name."""
    import json

    text = str(path)
    snapshot = os.environ.get(SNAPSHOT_ENV)
    if not snapshot or not text.startswith(snapshot.rstrip(os.sep) + os.sep):
        return text
    try:
        back = json.loads((Path(snapshot) / SNAPSHOT_ORIGINALS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return text
    return str(back.get(text, text)) if isinstance(back, dict) else text


def params_path(path: str | Path = DEFAULT_PARAMS) -> Path:
    """The params file named on the command line: relative to the current directory.

    Only the default params file falls back to the project root (so the bare command works
    from any folder of the checkout)."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    here = Path.cwd() / p
    if here.exists() or str(path) != DEFAULT_PARAMS:
        return here.resolve() if here.exists() else here
    return ROOT / p


def read_params(path: str | Path = DEFAULT_PARAMS) -> tuple[Path, bytes, dict[str, Any]]:
    """The params file's path, its bytes (hash these) and the mapping parsed from those bytes."""
    p = params_path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"params file not found: {p}") from None
    except IsADirectoryError:
        raise FileNotFoundError(f"params file not found: {p} is a folder") from None
    try:
        params = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{p}: not a readable YAML params file ({exc})") from None
    if not isinstance(params, dict):
        raise ValueError(f"{p}: expected a mapping of parameters at the top level")
    return p, data, params


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Read a run's params YAML (a flat mapping of notebook parameters)."""
    return read_params(path)[2]


def check_survey_name(name: Any, key: str = "survey") -> str:
    """A survey name names a folder under outputs/: a slug, never a path."""
    text = str(name if name is not None else "")
    if not SLUG.match(text):
        raise PathError(f"{key}: {text!r} is not a valid survey name; expected lower-case letters, "
                        f"digits and hyphens, starting with a letter or digit (e.g. 'city-2024'); "
                        f"it names a folder under outputs/ and may not be a path", key)
    return text


def inside(path: Path, root: Path, key: str) -> Path:
    """`path` resolved, refused (PathError naming `key`) unless it stays inside `root`."""
    real, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    if real != base and base not in real.parents:
        raise PathError(f"{key}: {path} would be written outside the output folder {base}", key)
    return real


def outputs_root() -> Path:
    """Where runs go: $ANALYSIS_OUTPUTS if set (the tests set it), else <project>/outputs."""
    env = os.environ.get(OUTPUTS_ENV)
    return Path(env).resolve() if env else ROOT / "outputs"


def survey_dir(survey: str) -> Path:
    """outputs/<survey>, the survey name checked (a slug) so that it stays inside outputs/."""
    root = outputs_root()
    return inside(root / check_survey_name(survey), root, "survey")


def run_dirs(run_dir: str | Path) -> dict[str, Path]:
    """The sub-folders of one run: data/, tables/, notebooks/, report/ (created)."""
    base = resolve(run_dir)
    dirs = {"run": base}
    for name in ("data", "tables", "notebooks", "report", "figures"):
        dirs[name] = base / name
        dirs[name].mkdir(parents=True, exist_ok=True)
    return dirs


def default_run_dir(survey: str) -> Path:
    """Where a notebook opened by hand writes: outputs/<survey>/scratch (never `latest`)."""
    return survey_dir(survey) / "scratch"


def latest_run(folder: str | Path) -> Path | None:
    """The last successful run of a survey folder: `latest.txt` (a run id), else the `latest` link."""
    folder = Path(folder)
    pointer = folder / LATEST_POINTER
    try:
        run_id = pointer.read_text(encoding="utf-8").strip()
    except OSError:
        run_id = ""
    if run_id and "/" not in run_id and "\\" not in run_id and run_id not in (".", ".."):
        if (folder / run_id).is_dir():
            return folder / run_id
    link = folder / "latest"
    return link if link.is_dir() else None


def stage_input(run_dir: str | Path, survey: str, relative: str) -> Path:
    """A file an earlier stage wrote: from this run's folder, else from the last good run."""
    here = resolve(run_dir) / relative
    if here.exists():
        return here
    last = latest_run(survey_dir(survey))
    if last is not None and (last / relative).exists():
        return last / relative
    raise FileNotFoundError(
        f"{relative} not found in {resolve(run_dir)} nor in the last successful run; "
        f"run the earlier stage first (python -m analysis run --only <stage>)")


def expand_input(entry: str | Path, root: Path | None = None) -> list[Path]:
    """The files one params `inputs` entry names.

    A path that exists is taken literally (`forms lv [1].xlsx` is a file name, not a pattern);
    only a path that does not exist is expanded as a glob pattern. An empty list means that
    nothing matched (the caller says so: exit 2)."""
    p = Path(entry).expanduser()
    p = p if p.is_absolute() else (root or ROOT) / p
    if p.exists():
        return [p]
    if glob.has_magic(str(entry)):
        return [Path(m) for m in sorted(glob.glob(str(p)))]
    return []
