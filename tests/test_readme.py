"""The README's first lines are the contract with a new user: two commands that work."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    head = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:6])
    assert "make report" in head and "make test" in head
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("report:", "test:", "lab:", "setup:"):
        assert f"\n{target}" in makefile


def test_make_targets_resolve_without_running():
    for target in ("report", "test", "lab"):
        res = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    assert "python -m analysis run" in subprocess.run(["make", "-n", "report"], cwd=ROOT,
                                                      capture_output=True, text=True).stdout


@pytest.mark.slow
def test_make_report_prints_the_path_of_a_finished_report():
    env = {**os.environ, "PARAMS": "params/liepaja-2022.yaml"}
    res = subprocess.run(["make", "--no-print-directory", "report"], cwd=ROOT, capture_output=True,
                         text=True, env=env, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    index = Path(res.stdout.strip().splitlines()[-1])
    assert index.name == "index.html" and index.exists()
    assert (index.parent / "04_summary.html").exists() or (index.parent / "01_clean.html").exists()
    from analysis import paths

    # conftest.py points ANALYSIS_OUTPUTS at a temporary folder: the test never touches outputs/
    survey_dir = paths.outputs_root() / "liepaja-2022"
    assert survey_dir != ROOT / "outputs" / "liepaja-2022"
    assert paths.latest_run(survey_dir).resolve() == index.parent.parent.resolve()
    assert (index.parent.parent / "run.log").read_text(encoding="utf-8").splitlines()[-1].split()[2] == "success:"


def _declared_dependencies() -> list[str]:
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = list(project["dependencies"])
    for extra, items in project.get("optional-dependencies", {}).items():
        names += [i for i in items if not i.startswith(project["name"])]
    return sorted({re.split(r"[<>=!~;\[ ]", n, maxsplit=1)[0].lower().replace("_", "-") for n in names})


def test_lock_pins_every_declared_dependency_with_hashes_and_installs_are_from_it():
    import re

    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "make lock" in lock.splitlines()[1]                       # how to refresh it
    pinned = {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+", lock, re.M)}
    missing = [n for n in _declared_dependencies() if n not in pinned]
    assert not missing, f"declared in pyproject.toml but not in requirements.lock (run `make lock`): {missing}"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)
    for target in ("setup", "test"):
        dry = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True).stdout
        assert "--require-hashes -r requirements.lock" in dry and "--no-deps -e ." in dry
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_make_test_lints_before_it_tests_and_make_help_is_truthful():
    dry = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "ruff check" in dry and dry.index("ruff check") < dry.index("pytest")
    help_text = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True).stdout
    system = next(line for line in help_text.splitlines() if "system-deps" in line)
    assert "chromium" in system and "installs the Latvian" not in system
    for target in ("lock", "clean", "lint"):
        assert f"make {target} " in help_text


def test_licence_citation_and_changelog():
    import tomllib

    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT AND LGPL-2.1-or-later"
    for f in project["license-files"]:
        assert (ROOT / f).is_file(), f
    assert "src/analysis/resources/hunspell/LICENSE" in project["license-files"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] and cff["title"] and cff["authors"] and cff["version"] == project["version"]
    assert "## " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_readme_cron_line_works_on_a_checkout_without_outputs(tmp_path):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [ln for ln in readme.splitlines() if re.match(r"^\S+ \S+ \S+ \S+ \S+\s+cd ", ln)]
    assert lines, "the README shows a crontab line"
    for line in lines:
        command = re.sub(r"^(\S+ ){5}\s*", "", line)
        command = re.sub(r"^cd \S+", f"cd {tmp_path}", command)
        command = command.replace(".venv/bin/python -m analysis run", "echo ran")   # the shell part only
        res = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        assert list(tmp_path.glob("outputs/*.log")), "the log file was created"


# a dependency the package needs without importing it, and why
USED_WITHOUT_IMPORT = {"ipykernel": "the kernel papermill starts for every stage notebook",
                       "pymorphy3-dicts-ru": "the Russian dictionaries pymorphy3 loads"}


def test_every_declared_runtime_dependency_is_used():
    import ast
    import re
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-")
                for d in project["dependencies"]}
    imported = set()
    for f in (ROOT / "src" / "analysis").rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    dists = packages_distributions()
    used = {d.lower().replace("_", "-") for m in imported for d in dists.get(m, [])}
    source = "\n".join(f.read_text(encoding="utf-8") for f in (ROOT / "src" / "analysis").rglob("*.py"))
    # read by name rather than imported: pandas' engine="calamine" / "openpyxl", package data
    # through importlib.resources ("lv_namedays.data")
    for d in declared:
        names = {d.replace("python-", ""), d.replace("-", "_")}
        if any(re.search(rf"[\"']{re.escape(n)}[\"'.]", source) for n in names):
            used.add(d)
    unused = sorted(declared - used - set(USED_WITHOUT_IMPORT))
    assert not unused, f"declared in pyproject.toml but never used by the package: {unused}"
