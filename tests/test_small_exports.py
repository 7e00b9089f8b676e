"""Valid small exports never crash a run (issue 13): the whole pipeline on the first 1, 10, 30,
100 and 300 responses of the sample's Latvian export. A unanimous small group once drew a
negative error bar (Wilson's k = n bound rounded below the estimate) and killed stage 02."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook, load_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

pytestmark = pytest.mark.slow


def _first_rows(src: Path, dst: Path, n: int) -> None:
    """The export's header and its first n responses, cells as Forms wrote them."""
    ws = load_workbook(src, read_only=True).worksheets[0]
    out = Workbook()
    sheet = out.active
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        if i > n:
            break
        sheet.append(list(row))
    out.save(dst)


@pytest.mark.parametrize("n", [1, 10, 30, 100, 300])
def test_the_whole_pipeline_runs_on_the_first_n_responses(tmp_path, n):
    export = tmp_path / f"forms_lv_first_{n}.xlsx"
    _first_rows(SAMPLE / "forms_lv.xlsx", export, n)
    params = yaml.safe_load((ROOT / "params" / "liepaja-2022.yaml").read_text(encoding="utf-8"))
    params["inputs"] = {"forms": [str(export)]}          # no e-mails: the survey answers alone
    params.pop("human_coding", None)                     # its texts are not in a subset
    for key in ("codebook", "themes", "population"):
        if params.get(key):
            params[key] = str(ROOT / params[key])
    pfile = tmp_path / "params.yaml"
    pfile.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "analysis", "run", str(pfile), "--out", str(tmp_path / "out"),
                          "--no-html"], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert res.returncode == 0, f"n={n}: {res.stderr[-3000:]}"
    manifests = list((tmp_path / "out").rglob("manifest.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text(encoding="utf-8"))
    assert manifest["status"] == "success"
    assert list(manifest["stages"]) == ["01_clean", "02_ratings", "03_proposals", "04_summary"]
    flow = (manifests[0].parent / "tables" / "flow.csv").read_text(encoding="utf-8")
    assert flow.strip(), "the flow table accounts for every row read"
