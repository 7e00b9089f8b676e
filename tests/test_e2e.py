"""The whole run on the embedded sample: complete, reproducible, and leaking nothing personal."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import PARAMS, SAMPLE

pytestmark = pytest.mark.slow
TEXT_SUFFIXES = {".csv", ".html", ".ipynb", ".json", ".txt", ".log"}


def _texts_of_run(run_dir: Path):
    """Every output as text: text files as they are, parquet/xlsx through pandas."""
    for f in sorted(run_dir.rglob("*")):
        if not f.is_file():
            continue
        if f.suffix in TEXT_SUFFIXES:
            yield f, f.read_text(encoding="utf-8", errors="replace")
        elif f.suffix == ".parquet":
            yield f, pd.read_parquet(f).astype(str).to_csv(index=False)
        elif f.suffix == ".xlsx":
            sheets = pd.read_excel(f, sheet_name=None, engine="calamine")
            yield f, "\n".join(s.astype(str).to_csv(index=False) for s in sheets.values())


def test_a_sample_run_has_every_stage_report_and_a_complete_manifest(sample_run):
    manifest = json.loads((sample_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "success" and manifest["synthetic"] is True
    assert list(manifest["stages"]) == ["01_clean", "02_ratings", "03_proposals", "04_summary"]
    for key in ("params/liepaja-2022.yaml", "params/codebooks/liepaja-2022.yaml",
                "params/themes/liepaja-2022.yaml", "data/sample/forms_lv.xlsx", "data/sample/proposals.mbox"):
        assert re.fullmatch(r"[0-9a-f]{64}", manifest["inputs_sha256"][key]), key
    assert manifest["versions"]["pandas"] and manifest["start"] and manifest["end"]
    assert os.readlink(sample_run.parent / "latest") == sample_run.name
    for page in ("index", "01_clean", "02_ratings", "03_proposals", "04_summary"):
        assert (sample_run / "report" / f"{page}.html").exists()
    assert (sample_run / "tables" / "tables.xlsx").exists()


def test_rows_read_equal_rows_analysed_plus_quarantined(sample_run):
    flow = pd.read_csv(sample_run / "tables" / "flow.csv")
    assert (flow["rows_read"] == flow["rows_analysed"] + flow["rows_quarantined"]).all()
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    forms = flow[flow["source"] == "forms"].set_index("source_file")["rows_read"].to_dict()
    assert forms == {name: info["n_rows"] if "n_rows" in info else len(info["rows"])
                     for name, info in truth["files"].items()}


def test_no_planted_personal_data_reaches_any_output(sample_run):
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    values = {p["value"] for p in truth["pii"]}
    values |= {m["email"] for m in truth["pii_meta"]} | {m["name"] for m in truth["pii_meta"] if m.get("name")}
    values = {v for v in values if len(v) >= 6}
    leaks = []
    for f, text in _texts_of_run(sample_run):
        leaks += [(f.relative_to(sample_run), v) for v in values if v in text]
    assert leaks == []
    assert len(values) > 100          # the check looked for something


def test_the_salt_is_never_written_into_an_output(sample_run, root):
    salt_file = root / ".salt"
    salt = os.environ.get("ANALYSIS_SALT") or (salt_file.read_text().strip() if salt_file.exists() else None)
    assert salt
    for f, text in _texts_of_run(sample_run):
        assert salt not in text, f


def test_csv_and_xlsx_cells_are_neutralised_against_formulas(sample_run):
    for f in (sample_run / "tables").glob("*.csv"):
        frame = pd.read_csv(f, dtype=str, keep_default_na=False)
        for col in frame.columns:
            bad = frame[col][frame[col].str.match(r"^[=+@\t\r]")]
            assert bad.empty, (f.name, col, bad.head(3).tolist())
    sheets = pd.read_excel(sample_run / "tables" / "tables.xlsx", sheet_name=None, engine="calamine")
    for name, sheet in sheets.items():
        for col in sheet.columns:
            cells = [v for v in sheet[col].dropna() if isinstance(v, str)]
            assert not [c for c in cells if c[:1] in ("=", "+", "@")], (name, col)


def test_same_inputs_give_byte_identical_tables(sample_run, tmp_path):
    from analysis.run import run

    again = run(PARAMS, out=tmp_path, render=False)
    first = json.loads((sample_run / "manifest.json").read_text())["outputs"]
    second = json.loads((again / "manifest.json").read_text())["outputs"]
    tables = {k: v for k, v in first.items() if k.startswith(("tables/", "data/")) and not k.endswith(".xlsx")}
    assert tables and {k: second.get(k) for k in tables} == tables
