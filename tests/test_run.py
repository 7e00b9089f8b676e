"""The run: parameters checked, failures named, `latest` moved only after success, a lock."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
import yaml

from analysis import run as runmod
from analysis.run import RunError


def _notebook(path: Path, body: str, params: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Toy stage\n\n## First part\n\ntext\n\n## Second part"),
                p, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


@pytest.fixture()
def toy(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    _notebook(nbdir / "01_make.ipynb",
              "from pathlib import Path\nimport os\nSECRET_CODE_MARKER = 1\n"
              "Path(run_dir, 'tables').mkdir(parents=True, exist_ok=True)\n"
              "Path(run_dir, 'tables', 'a.csv').write_text(f'x,y\\n1,{scale}\\n')\nprint('made')",
              'survey = "toy"\nsynthetic = True\nscale = 2  # a number\nrun_dir = ""  # set by the run')
    _notebook(nbdir / "02_use.ipynb",
              "from pathlib import Path\ntext = Path(run_dir, 'tables', 'a.csv').read_text()\n"
              "assert fail_here is False, 'planted failure'\nprint(text)",
              'fail_here = False\nrun_dir = ""')
    params = tmp_path / "toy.yaml"
    params.write_text(yaml.safe_dump({"survey": "toy", "synthetic": True, "scale": 3}), encoding="utf-8")
    return {"nbdir": nbdir, "params": params, "out": tmp_path / "out"}


def _run(toy, **kw):
    return runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True, **kw)


def test_successful_run_writes_reports_manifest_and_moves_latest(toy):
    run_dir = _run(toy)
    assert (run_dir / "tables" / "a.csv").read_text() == "x,y\n1,3\n"      # parameter passed through
    assert os.readlink(toy["out"] / "latest") == run_dir.name
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "success"
    assert set(manifest["stages"]) == {"01_make", "02_use"}
    assert manifest["inputs_sha256"][str(toy["params"])] is not None
    assert manifest["outputs"]["tables/a.csv"]
    html = (run_dir / "report" / "01_make.html").read_text()
    assert "SECRET_CODE_MARKER" not in html                                   # code hidden
    assert "<script src" not in html and "cdn" not in html.lower()            # nothing from outside
    assert "SINTĒTISKI DATI" in html                                          # banner
    assert '<nav class="toc"' in html and "Second part" in html               # table of contents
    index = (run_dir / "report" / "index.html").read_text()
    assert 'href="01_make.html"' in index and 'href="02_use.html"' in index
    assert "2. posms: Toy stage" in index
    assert (run_dir / "tables" / "tables.xlsx").exists()


def test_misspelled_parameter_is_an_error_before_anything_runs(toy):
    toy["params"].write_text(yaml.safe_dump({"survey": "toy", "scael": 3}), encoding="utf-8")
    with pytest.raises(RunError, match="unknown parameter.*scael") as err:
        _run(toy)
    assert err.value.exit_code == 2
    assert not toy["out"].exists()


def test_failed_run_names_stage_and_cell_keeps_notebook_and_leaves_latest(toy):
    good = _run(toy)
    data = yaml.safe_load(toy["params"].read_text())
    data["fail_here"] = True
    toy["params"].write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(RunError, match=r"stage 02_use failed in cell \d+ \(AssertionError: planted failure") as err:
        _run(toy)
    assert err.value.exit_code == 1
    assert os.readlink(toy["out"] / "latest") == good.name
    failed = sorted(p for p in toy["out"].iterdir() if p.is_dir() and p.name != good.name
                    and not p.is_symlink())[-1]
    assert (failed / "notebooks" / "02_use.ipynb").exists()
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"


def test_second_run_while_one_holds_the_lock_exits_with_a_clear_message(toy):
    with runmod.survey_lock(toy["out"]):
        with pytest.raises(RunError, match="another run of this survey is in progress") as err:
            _run(toy, wait=0.6)
    assert err.value.exit_code == runmod.EXIT_LOCKED
    assert _run(toy).exists()                                                 # lock released


def test_only_one_stage_reuses_the_last_good_run(toy):
    _run(toy)
    run_dir = _run(toy, only="02")
    assert (run_dir / "notebooks" / "02_use.ipynb").exists()
    assert (run_dir / "tables" / "a.csv").exists()                           # seeded from latest
    with pytest.raises(RunError, match="unknown stage"):
        _run(toy, only="07")


def test_same_inputs_give_byte_identical_tables(toy):
    a, b = _run(toy), _run(toy)
    for f in ("tables/a.csv", "tables/tables.xlsx"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_cli_help_lists_the_commands(capsys):
    from analysis.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "check", "synth", "coding-sample"):
        assert command in out


def _cli(*args, cwd=None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_cli_exit_codes_for_bad_input_write_nothing(tmp_path):
    """Scheduled runs rely on the exit code: 2 for bad input, with nothing written."""
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b\n1;2\n", encoding="utf-8")
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"survey": "cli-test", "synthetic": True,
                                      "codebook": "params/codebooks/liepaja-2022.yaml",
                                      "inputs": {"forms": [str(bad)]}}), encoding="utf-8")
    res = _cli("check", str(params))
    assert res.returncode == 2 and "bad.csv" in res.stdout + res.stderr
    res = _cli("run", str(params), "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "nothing was run" in res.stderr
    assert not (tmp_path / "out").exists()
    misspelled = tmp_path / "m.yaml"
    misspelled.write_text(yaml.safe_dump({"survey": "cli-test", "min_cel": 5}), encoding="utf-8")
    res = _cli("run", str(misspelled), "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "min_cel" in res.stderr
    res = _cli("run", str(tmp_path / "missing.yaml"))
    assert res.returncode == 2 and "not found" in res.stderr
