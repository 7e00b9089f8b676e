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
