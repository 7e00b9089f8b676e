"""Find the project root and resolve the files a run reads and writes.

Notebooks run from their own folder (papermill, nbval, JupyterLab), so nothing may rely
on the working directory: every relative path in a params file is taken from the root.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEFAULT_PARAMS = "params/liepaja-2022.yaml"


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
    """A params-file path made absolute against the project root."""
    p = Path(path)
    return p if p.is_absolute() else (root or ROOT) / p


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Read a run's params YAML (a flat mapping of notebook parameters)."""
    p = resolve(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"params file not found: {p}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a mapping of parameters at the top level")
    return data


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
    return ROOT / "outputs" / survey / "scratch"


def stage_input(run_dir: str | Path, survey: str, relative: str) -> Path:
    """A file an earlier stage wrote: from this run's folder, else from the last good run."""
    here = resolve(run_dir) / relative
    if here.exists():
        return here
    latest = ROOT / "outputs" / survey / "latest" / relative
    if latest.exists():
        return latest
    raise FileNotFoundError(
        f"{relative} not found in {resolve(run_dir)} nor in the last successful run; "
        f"run the earlier stage first (python -m analysis run --only <stage>)")
