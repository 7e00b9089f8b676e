"""Shared fixtures: the project root, the sample codebook, and the sample params."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "params" / "codebooks" / "liepaja-2022.yaml"
PARAMS = ROOT / "params" / "liepaja-2022.yaml"
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def codebook():
    from analysis import codebook as cb

    return cb.load(CODEBOOK)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """One full run of the pipeline on the embedded sample (shared by the slow tests)."""
    from analysis.run import run

    if not (SAMPLE / "forms_lv.xlsx").exists():
        pytest.fail("the embedded sample is missing: make sample")
    out = tmp_path_factory.mktemp("sample-run")
    return run(PARAMS, out=out)
