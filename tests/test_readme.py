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
    latest = ROOT / "outputs" / "liepaja-2022" / "latest"
    assert latest.resolve() == index.parent.parent.resolve()
