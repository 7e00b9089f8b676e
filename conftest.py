"""Loaded for every pytest run of the project (tests/ and the nbval notebooks alike).

Tests never write into a researcher's outputs/: every run, scratch folder and `latest` that
a test or a notebook under nbval touches lives in a temporary outputs root
($ANALYSIS_OUTPUTS, read by analysis.paths), deleted at the end of the session.
"""
from __future__ import annotations

import os
import shutil
import tempfile

_OUTPUTS: list[str] = []


def pytest_configure(config):
    folder = tempfile.mkdtemp(prefix="analysis-test-outputs-")
    _OUTPUTS.append(folder)
    os.environ["ANALYSIS_OUTPUTS"] = folder


def pytest_unconfigure(config):
    for folder in _OUTPUTS:
        shutil.rmtree(folder, ignore_errors=True)
