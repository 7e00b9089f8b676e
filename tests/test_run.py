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


# --- faults: disk, names, killed runs, inputs read once (issue 13) ---------------------------

def _success(toy, **kw):
    return runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True,
                      render=False, **kw)


def _latest(folder: Path) -> str:
    return (folder / "latest.txt").read_text().strip()


def test_full_disk_while_writing_the_manifest_exits_1_in_one_line_and_keeps_latest(toy, monkeypatch):
    good = _success(toy)
    real = runmod._write_json
    calls = {"n": 0}

    def full(path, data, **kw):
        calls["n"] += 1
        if data.get("status") == "success":
            raise OSError(28, "No space left on device")
        return real(path, data, **kw)

    monkeypatch.setattr(runmod, "_write_json", full)
    with pytest.raises(RunError) as err:
        _success(toy)
    message = str(err.value)
    assert err.value.exit_code == 1 and "\n" not in message
    assert "manifest.json" in message and "No space left on device" in message
    assert _latest(toy["out"]) == good.name and os.readlink(toy["out"] / "latest") == good.name


def test_full_disk_on_any_write_of_the_run_is_one_line_naming_the_path(toy, monkeypatch):
    good = _success(toy)
    from analysis import datapackage

    monkeypatch.setattr(datapackage, "write",
                        lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(RunError) as err:
        _success(toy)
    assert err.value.exit_code == 1 and "datapackage.json" in str(err.value)
    assert "No space left on device" in str(err.value) and "\n" not in str(err.value)
    failed = [p for p in toy["out"].iterdir() if p.is_dir() and p.name not in (good.name, "latest")]
    assert json.loads((failed[0] / "manifest.json").read_text())["status"] == "failed"
    assert _latest(toy["out"]) == good.name


def _read_only_folder(path: Path):
    """A folder nobody can write into, not even root: a read-only tmpfs (root) or mode 555."""
    import contextlib
    import subprocess

    @contextlib.contextmanager
    def ctx():
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)],
                                 capture_output=True)
            if res.returncode != 0:
                pytest.skip("cannot mount a read-only file system here (root without mount)")
            try:
                yield lambda: subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
            finally:
                subprocess.run(["umount", "-l", str(path)], capture_output=True)
        else:
            try:
                yield lambda: path.chmod(0o555)
            finally:
                path.chmod(0o755)
    return ctx()


def test_read_only_output_folder_exits_1_naming_path_and_cause_and_latest_intact(toy, tmp_path):
    toy["out"] = tmp_path / "ro" / "survey"
    with _read_only_folder(tmp_path / "ro") as make_read_only:
        good = _success(toy)
        make_read_only()
        with pytest.raises(RunError) as err:
            _success(toy)
        assert err.value.exit_code == 1 and "\n" not in str(err.value)
        assert str(toy["out"]) in str(err.value)
        assert "Read-only file system" in str(err.value) or "Permission denied" in str(err.value)
        assert _latest(toy["out"]) == good.name
        # the command line says the same in one line, without a traceback
        res = _cli("run", str(PARAMS), "--out", str(toy["out"]))
        assert res.returncode == 1, res.stderr[-2000:]
        lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1 and str(toy["out"]) in lines[0] and "Traceback" not in res.stderr
        assert _latest(toy["out"]) == good.name


PARAMS = Path(__file__).resolve().parents[1] / "params" / "liepaja-2022.yaml"


@pytest.mark.parametrize("name", ["../x", "/tmp/elsewhere", "Liepaja 2022", "a/b", ""])
def test_survey_name_must_be_a_slug_inside_the_output_root(toy, name, tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_OUTPUTS", str(tmp_path / "outputs"))
    data = yaml.safe_load(toy["params"].read_text())
    data["survey"] = name
    toy["params"].write_text(yaml.safe_dump(data), encoding="utf-8")
    if name == "":                     # empty: the params file's name is used, and it is a slug
        assert runmod.run(toy["params"], notebook_dir=toy["nbdir"], skip_checks=True, render=False)
        return
    with pytest.raises(RunError, match="survey") as err:
        runmod.run(toy["params"], notebook_dir=toy["nbdir"], skip_checks=True, render=False)
    assert err.value.exit_code == 2
    assert not (tmp_path / "x").exists() and not Path("/tmp/elsewhere").exists()
    assert not (tmp_path / "outputs").exists()


def test_survey_name_is_checked_by_the_check_command_too(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"survey": "../../etc", "codebook": "params/codebooks/liepaja-2022.yaml"}),
                      encoding="utf-8")
    res = _cli("check", str(params))
    assert res.returncode == 2 and "survey" in res.stderr and "Traceback" not in res.stderr


def test_killed_run_is_marked_interrupted_by_the_next_run(toy):
    killed = toy["out"] / "20200101-000000"
    killed.mkdir(parents=True)
    (killed / "manifest.json").write_text(json.dumps({"run_id": killed.name, "status": "running"}))
    run_dir = _success(toy)
    after = json.loads((killed / "manifest.json").read_text())
    assert after["status"] == "interrupted" and after["interrupted_noticed"]
    assert "20200101-000000" in (run_dir / "run.log").read_text()
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "success"


@pytest.fixture()
def reader(tmp_path):
    """A one-stage pipeline whose stage replaces its own input file, then reads `inputs`."""
    nbdir = tmp_path / "rnb"
    nbdir.mkdir()
    _notebook(nbdir / "01_read.ipynb",
              "from pathlib import Path\n"
              "Path(original).write_text('replaced while the run was going')\n"
              "files = inputs['forms']\n"
              "Path(run_dir, 'tables').mkdir(parents=True, exist_ok=True)\n"
              "Path(run_dir, 'tables', 'seen.csv').write_text('text\\n' + Path(files[0]).read_text() + '\\n')\n"
              "Path(run_dir, 'tables', 'where.csv').write_text('path\\n' + files[0] + '\\n')",
              'survey = "reader"\ninputs = {}\noriginal = ""\nrun_dir = ""')
    data = tmp_path / "raw"
    data.mkdir()
    return {"nbdir": nbdir, "data": data, "tmp": tmp_path}


def _reader_params(reader, inputs, original):
    params = reader["tmp"] / "reader.yaml"
    params.write_text(yaml.safe_dump({"survey": "reader", "inputs": inputs, "original": str(original)}),
                      encoding="utf-8")
    return params


def test_each_input_is_read_once_hashed_and_analysed_from_the_same_bytes(reader):
    import hashlib

    f = reader["data"] / "forms lv [1].csv"          # brackets: a file name, not a pattern
    f.write_text("first version")
    params = _reader_params(reader, {"forms": [str(f)]}, f)
    run_dir = runmod.run(params, out=reader["tmp"] / "out", notebook_dir=reader["nbdir"],
                         skip_checks=True, render=False)
    assert f.read_text() == "replaced while the run was going"
    assert (run_dir / "tables" / "seen.csv").read_text() == "text\nfirst version\n"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["inputs_sha256"][str(f)] == hashlib.sha256(b"first version").hexdigest()
    snapshot = Path((run_dir / "tables" / "where.csv").read_text().splitlines()[1])
    assert not snapshot.exists()                                     # deleted when the run ended
    assert not str(snapshot).startswith(str(reader["tmp"] / "out"))  # never inside outputs/
    assert not any(p.name == f.name for p in (reader["tmp"] / "out").rglob("*"))


def test_a_path_that_exists_is_literal_and_a_pattern_matching_nothing_is_exit_2(reader, tmp_path):
    from analysis import paths
    from analysis.ingest import FORMS_EXTENSIONS, expand_inputs

    literal = reader["data"] / "forms lv [1].xlsx"
    literal.write_bytes(b"x")
    (reader["data"] / "forms lv 1.xlsx").write_bytes(b"y")          # what the pattern would match
    assert paths.expand_input(str(literal)) == [literal]
    assert expand_inputs([str(literal)], FORMS_EXTENSIONS, paths.ROOT) == [literal]
    assert paths.expand_input(str(reader["data"] / "*.xlsx")) == sorted(reader["data"].glob("*.xlsx"))
    assert paths.expand_input(str(reader["data"] / "nothing-*.xlsx")) == []
    for entry in (str(reader["data"] / "nothing-*.xlsx"), str(reader["data"] / "missing.xlsx")):
        params = _reader_params(reader, {"forms": [entry]}, reader["data"] / "o.txt")
        with pytest.raises(RunError, match=r"inputs\.forms\[0\]") as err:
            runmod.run(params, out=tmp_path / "out", notebook_dir=reader["nbdir"], skip_checks=True,
                       render=False)
        assert err.value.exit_code == 2 and not (tmp_path / "out").exists()
    # `check` says the same: exit 2, naming what was looked for
    params = tmp_path / "check.yaml"
    params.write_text(yaml.safe_dump({"survey": "check-test", "codebook": "params/codebooks/liepaja-2022.yaml",
                                      "inputs": {"forms": [str(reader["data"] / "nothing-*.xlsx")]}}),
                      encoding="utf-8")
    res = _cli("check", str(params))
    assert res.returncode == 2 and "nothing-*.xlsx" in res.stdout + res.stderr


def test_manifest_never_names_an_eml_file(reader):
    mail = reader["data"] / "mail"
    mail.mkdir()
    (mail / "Jānis Vītoliņš.eml").write_text("From: a@b.lv\nSubject: x\n\nLabdien\n")
    (mail / "Anna Bērziņa.eml").write_text("From: c@d.lv\nSubject: y\n\nSveiki\n")
    f = reader["data"] / "f.csv"
    f.write_text("x")
    params = _reader_params(reader, {"forms": [str(f)], "email": [str(mail)]}, reader["data"] / "o.txt")
    run_dir = runmod.run(params, out=reader["tmp"] / "out", notebook_dir=reader["nbdir"],
                         skip_checks=True, render=False)
    text = (run_dir / "manifest.json").read_text(encoding="utf-8")
    assert "Vītoliņš" not in text and "Bērziņa" not in text
    entry = json.loads(text)["inputs_sha256"][f"{mail}/*.eml"]
    assert entry["files"] == 2 and len(entry["sha256"]) == 64


# --- portability, timeouts, logs, reruns (issue 14) -------------------------------------------

def test_run_module_does_not_need_fcntl(monkeypatch):
    import importlib.util
    import sys

    source = Path(runmod.__file__).read_text()
    assert "import fcntl" not in source
    monkeypatch.setitem(sys.modules, "fcntl", None)       # as on Windows: importing it fails
    spec = importlib.util.spec_from_file_location("analysis._run_without_fcntl", runmod.__file__)
    probe = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, probe)
    spec.loader.exec_module(probe)                         # a separate copy: RunError stays ours
    assert probe.survey_lock and probe.point_latest


def test_lock_held_by_another_process_refuses_with_exit_75(toy):
    import subprocess
    import sys
    import time

    toy["out"].mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\nfrom filelock import FileLock\n"
                               f"l = FileLock({str(toy['out'] / '.lock')!r}); l.acquire()\n"
                               "print('held', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(RunError, match="another run") as err:
            _success(toy, wait=0.5)
        assert err.value.exit_code == 75 and time.monotonic() - t0 < 20
    finally:
        holder.kill()
        holder.wait()
    assert _success(toy).exists()


def test_latest_works_without_symlinks(toy, monkeypatch):
    from analysis import paths

    first = _success(toy)
    assert paths.latest_run(toy["out"]).resolve() == first.resolve()

    def no_symlinks(self, *a, **k):
        raise OSError(1, "symbolic links are not allowed here")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    second = _success(toy)
    assert _latest(toy["out"]) == second.name
    assert not (toy["out"] / "latest").exists()          # no stale link left pointing at `first`
    assert paths.latest_run(toy["out"]) == second
    third = _success(toy, only="02")                     # --only seeds from latest.txt
    assert (third / "tables" / "a.csv").exists()
    assert json.loads((third / "manifest.json").read_text())["seeded_from"] == second.name


def test_a_stage_that_runs_too_long_is_stopped_naming_stage_and_cell(toy, capfd):
    import time

    _notebook(toy["nbdir"] / "03_hang.ipynb", "import time\ntime.sleep(60)", 'run_dir = ""')
    t0 = time.monotonic()
    with pytest.raises(RunError, match=r"stage 03_hang timed out in cell \d+ \('import time'\)") as err:
        _success(toy, timeout=4)
    assert err.value.exit_code == 1 and time.monotonic() - t0 < 45
    failed = sorted(p for p in toy["out"].iterdir() if p.is_dir() and not p.is_symlink())[-1]
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "timed out" in manifest["error"]
    log = (failed / "run.log").read_text()
    assert "timed out" in log
    assert "Timeout waiting for execute reply" in log                # nbclient's line: in the log...
    assert "Timeout waiting" not in capfd.readouterr().err           # ...not on the console


def test_run_log_has_timestamps_stage_timings_warnings_and_status(toy):
    _notebook(toy["nbdir"] / "03_warn.ipynb",
              "import warnings\nwarnings.warn('planted warning for the log')", 'run_dir = ""')
    run_dir = _success(toy)
    log = (run_dir / "run.log").read_text()
    assert "[01_make] done in" in log and "[03_warn] done in" in log
    assert "planted warning for the log" in log and "WARNING" in log
    assert "success:" in log.splitlines()[-1]
    import re
    assert all(re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", ln) for ln in log.splitlines())


def test_console_shows_no_kernel_log_lines_and_warnings_go_to_the_log(toy, capfd, monkeypatch):
    import warnings

    real = runmod.notebook_defaults

    def noisy(stages):
        warnings.warn("planted library warning", DeprecationWarning)
        return real(stages)

    monkeypatch.setattr(runmod, "notebook_defaults", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        run_dir = _success(toy)
    err = capfd.readouterr().err
    assert "[01_make] running" in err
    assert "IPKernelApp" not in err and "without encryption" not in err and "KeyboardInterrupt" not in err
    assert "planted library warning" not in err
    assert "DeprecationWarning: planted library warning" in (run_dir / "run.log").read_text()


def test_only_reruns_the_stage_and_everything_downstream(toy):
    _notebook(toy["nbdir"] / "03_sum.ipynb",
              "from pathlib import Path\na = Path(run_dir, 'tables', 'a.csv').read_text()\n"
              "Path(run_dir, 'tables', 'c.csv').write_text('copied\\n' + a.splitlines()[1] + '\\n')",
              'run_dir = ""')
    _success(toy)
    data = yaml.safe_load(toy["params"].read_text())
    data["scale"] = 9
    toy["params"].write_text(yaml.safe_dump(data), encoding="utf-8")
    run_dir = _success(toy, only="01")
    assert (run_dir / "tables" / "c.csv").read_text() == "copied\n1,9\n"    # not the stale 1,3
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert set(manifest["stages"]) == {"01_make", "02_use", "03_sum"}
    assert manifest["stages"]["03_sum"]["status"] == "ok"
    again = _success(toy, only="02")
    stages = json.loads((again / "manifest.json").read_text())["stages"]
    assert stages["01_make"]["status"] == "reused" and stages["03_sum"]["status"] == "ok"


def test_params_and_out_are_relative_to_the_current_folder(toy, tmp_path, monkeypatch):
    sub = tmp_path / "notebooks-like"
    sub.mkdir()
    monkeypatch.chdir(sub)
    run_dir = runmod.run("../toy.yaml", out="here", notebook_dir=toy["nbdir"], skip_checks=True,
                         render=False)
    assert run_dir.parent == sub / "here"
    with pytest.raises(RunError, match="not found") as err:
        runmod.run("toy.yaml", out="here", notebook_dir=toy["nbdir"], skip_checks=True, render=False)
    assert err.value.exit_code == 2
    from analysis import paths

    assert paths.params_path(paths.DEFAULT_PARAMS) == paths.ROOT / paths.DEFAULT_PARAMS   # fallback


def test_tests_never_write_into_the_projects_outputs():
    from analysis import paths

    assert os.environ.get("ANALYSIS_OUTPUTS")
    assert paths.outputs_root() != paths.ROOT / "outputs"
    assert paths.default_run_dir("liepaja-2022").is_relative_to(paths.outputs_root())


def test_notebook_opened_by_hand_reads_a_params_file_and_says_what_it_reads(tmp_path):
    import papermill

    nb_path = tmp_path / "01_hand.ipynb"
    _notebook(nb_path, "from analysis import nb\ndirs = nb.start(survey, run_dir, synthetic, 'en')\n"
              "print('scale is', scale)",
              'survey = "toy"\nsynthetic = False\nscale = 2\nrun_dir = ""\nparams_file = ""')
    params = tmp_path / "hand.yaml"
    params.write_text(yaml.safe_dump({"survey": "hand-test", "scale": 7}), encoding="utf-8")
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(nb_path), str(out), parameters={"params_file": str(params)},
                               kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    outputs = cells[-1].outputs
    first = outputs[0]["data"]["text/html"]
    assert str(params) in first                                   # which params file
    from analysis import paths

    scratch = paths.outputs_root() / "hand-test" / "scratch"
    assert str(scratch) in first                                  # which run folder (not outputs/)
    assert "last successful run" in first                         # where earlier outputs come from
    assert "scale is 7" in "".join(o.get("text", "") for o in outputs)   # the file's value is used


def test_on_a_full_disk_a_failed_run_still_records_failed_in_place(tmp_path, monkeypatch):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"status": "running"}))

    def no_room(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runmod.os, "replace", no_room)
    with pytest.raises(OSError):
        runmod._write_json(path, {"status": "failed"})
    assert json.loads(path.read_text())["status"] == "running"
    runmod._write_json(path, {"status": "failed"}, last_resort=True)
    assert json.loads(path.read_text())["status"] == "failed"
    assert not (tmp_path / "manifest.tmp").exists()


# --- kernels started ahead, reports prepared during the last stage (issue 15) ----------------

def test_notebook_imports_lists_every_import_statement_in_cell_order(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nfrom pathlib import Path as P\nx = 1"),
                nbformat.v4.new_markdown_cell("import not_code"),
                nbformat.v4.new_code_cell("%matplotlib inline\nimport magic_cell_skipped"),
                nbformat.v4.new_code_cell("if x:\n    from xml.dom import minidom\nfrom . import rel\nimport os")]
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert runmod.notebook_imports(tmp_path / "n.ipynb") == ["os", "pathlib", "pathlib.Path", "xml.dom",
                                                              "xml.dom.minidom"]


def test_a_stage_kernel_loads_its_imports_ahead_and_their_warnings_reach_the_log(toy):
    (toy["nbdir"] / "warnmod.py").write_text("import warnings\nwarnings.warn('planted import warning')\n")
    _notebook(toy["nbdir"] / "03_late.ipynb",
              "import sys\nfrom pathlib import Path\n"
              "Path(run_dir, 'tables', 'late.csv').write_text(f'loaded\\n{\"xml.dom.minidom\" in sys.modules}\\n')\n"
              "import xml.dom.minidom\nimport warnmod",
              'run_dir = ""')
    run_dir = _run(toy)
    # the module the notebook imports in its last line was loaded before its first line ran
    assert (run_dir / "tables" / "late.csv").read_text() == "loaded\nTrue\n"
    log = (run_dir / "run.log").read_text()
    assert "[03_late]" in log and "planted import warning" in log
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["stages"]["03_late"]["wrote"] == ["tables/late.csv"]
    assert manifest["stages"]["02_use"]["wrote"] == []
    # the workbook prepared while the last stage ran was made again: that stage wrote a table
    from openpyxl import load_workbook

    assert len(load_workbook(run_dir / "tables" / "tables.xlsx").sheetnames) == 3   # about, a, late
    assert not (run_dir / ".report-ahead").exists()
    assert "<!--REPORT-NAV-->" not in (run_dir / "report" / "01_make.html").read_text()
    assert 'href="03_late.html"' in (run_dir / "report" / "01_make.html").read_text()


def test_the_workbook_written_ahead_in_a_child_is_the_one_written_here(tmp_path, monkeypatch):
    """RunPages.start_workbook writes the workbook in a child interpreter (beside the pages and
    the last stage): byte for byte the workbook write_workbook_to makes in the run's process. A
    child that fails leaves the writing to this process (finish_workbook), never a missing or
    partial workbook; a stale one (forget_workbook) stops its child."""
    import pandas as pd

    from analysis import report_html, workbook

    root = Path(__file__).resolve().parents[1]
    run_dir = tmp_path / "run"
    (run_dir / "tables").mkdir(parents=True)
    pd.DataFrame({"item": ["housing_1", "mobility_1"], "n": [400, 380], "top2_share": [0.81, 0.62],
                  "note": ["=1+1", "ok"]}).to_csv(run_dir / "tables" / "items.csv", index=False)
    params = {"codebook": str(root / "params" / "codebooks" / "liepaja-2022.yaml"), "report_lang": "lv",
              "themes": str(root / "params" / "themes" / "liepaja-2022.yaml")}
    here = report_html.RunPages(run_dir, params)
    assert here.cb is not None
    here.write_workbook_to(tmp_path / "here.xlsx")
    ahead = report_html.RunPages(run_dir, params)
    ahead.spawn_workbook_child()
    child = ahead._child
    ahead.start_workbook(tmp_path / "child.xlsx")
    ahead.finish_workbook()
    assert child.returncode == 0 and ahead.workbook == tmp_path / "child.xlsx"
    assert (tmp_path / "child.xlsx").read_bytes() == (tmp_path / "here.xlsx").read_bytes()
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "child.xlsx").worksheets[1]
    assert sheet["A2"].value not in (None, "housing_1") and sheet["D2"].value == "'=1+1"   # labelled, neutralised
    # a child that fails: written here instead
    monkeypatch.setattr(workbook, "CHILD", "import sys; sys.exit(3)")
    failing = report_html.RunPages(run_dir, params)
    failing.start_workbook(tmp_path / "fallback.xlsx")
    failing.finish_workbook()
    assert (tmp_path / "fallback.xlsx").read_bytes() == (tmp_path / "here.xlsx").read_bytes()
    # stale: the child is stopped and nothing is kept
    monkeypatch.setattr(workbook, "CHILD", "import time; time.sleep(60)")
    stale = report_html.RunPages(run_dir, params)
    stale.start_workbook(tmp_path / "stale.xlsx")
    waiting = stale._child
    stale.forget_workbook()
    assert waiting.poll() is not None and stale.workbook is None
    stale.finish_workbook()
    assert not (tmp_path / "stale.xlsx").exists()


def test_the_input_check_of_big_inputs_runs_in_a_child_and_leaves_its_reading(tmp_path, monkeypatch):
    """Issue 15: from CHECK_CHILD_FROM bytes of inputs the check runs in a child interpreter (its
    memory goes back to the system when it ends, not kept by the run's process through every
    stage); it finds the same problems as the check here and leaves its reading for stage 01.
    Small inputs are checked here (None)."""
    from analysis import checks, clean, paths

    root = Path(__file__).resolve().parents[1]
    params = paths.load_params(root / "params" / "liepaja-2022.yaml")
    monkeypatch.setenv(paths.SNAPSHOT_ENV, str(tmp_path))
    assert runmod._input_bytes(params) > 10_000
    assert runmod._check_in_child(params) is None                  # the sample: below the threshold
    assert not (tmp_path / clean.PREPARED_FILE).exists()
    here = checks.check_inputs(params)
    monkeypatch.setattr(runmod, "CHECK_CHILD_FROM", 0)
    there = runmod._check_in_child(params)
    assert there is not None and [str(p) for p in there] == [str(p) for p in here]
    assert (tmp_path / clean.PREPARED_FILE).is_file()
    bad = dict(params, codebook="params/codebooks/no-such-codebook.yaml")
    (tmp_path / clean.PREPARED_FILE).unlink()
    errors = [p for p in runmod._check_in_child(bad) if p.severity == "error"]
    assert errors and "no-such-codebook" in str(errors[0])
    assert not (tmp_path / clean.PREPARED_FILE).exists()          # nothing kept when the run stops


def test_a_file_given_by_an_absolute_path_is_named_as_given_not_by_its_snapshot_copy(tmp_path):
    """A run reads an absolutely named file (here the population margins) from its temporary
    snapshot; the weighting table names the file as the params gave it, so the table does not
    change with the temporary folder's name (found at 10^5: weighting.csv differed between two
    identical runs)."""
    from analysis import paths, ratings

    root = Path(__file__).resolve().parents[1]
    params_file = root / "params" / "liepaja-2022.yaml"
    params = paths.load_params(params_file)
    original = str((root / params["population"]).resolve())
    params["population"] = original
    snapshot = runmod.InputSnapshot(params_file, params_file.read_bytes(), params,
                                    runmod.notebook_defaults(runmod.available_stages()))
    try:
        copy = snapshot.params["population"]
        assert copy != original and copy.startswith(str(snapshot.dir))
        with snapshot.active():
            assert paths.as_given(copy) == original
            assert ratings.load_population(copy)["path"] == original
            assert paths.as_given("params/codebooks/x.yaml") == "params/codebooks/x.yaml"
        assert paths.as_given(copy) == copy              # outside a run: unchanged
    finally:
        snapshot.cleanup()


# --- two stages side by side ---------------------------------------------------------------------

def _side_toy(tmp_path, needs_of_third=("01",)):
    """01 writes a.csv; 02 and 03 read only it (declared), and 02 waits until 03 has started
    (a marker outside the run folder), so they can only both finish side by side; 04 reads both."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    marker = tmp_path / "third-started"
    _notebook(nbdir / "01_make.ipynb",
              "from pathlib import Path\nPath(run_dir, 'tables').mkdir(parents=True, exist_ok=True)\n"
              "Path(run_dir, 'tables', 'a.csv').write_text('x\\n1\\n')",
              'survey = "side"\nsynthetic = True\nrun_dir = ""')
    _notebook(nbdir / "02_left.ipynb",
              "import time\nfrom pathlib import Path\nt = time.monotonic()\n"
              f"while not Path({str(marker)!r}).exists() and time.monotonic() - t < wait:\n    time.sleep(0.05)\n"
              f"together = Path({str(marker)!r}).exists()\n"
              "assert not fail_left, 'planted failure'\n"
              "a = Path(run_dir, 'tables', 'a.csv').read_text()\n"
              "Path(run_dir, 'tables', 'b.csv').write_text(a + ('together' if together else 'alone') + '\\n')",
              'wait = 60.0\nfail_left = False\nrun_dir = ""')
    _notebook(nbdir / "03_right.ipynb",
              f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
              "assert not fail_right, 'planted failure'\n"
              "a = Path(run_dir, 'tables', 'a.csv').read_text()\n"
              "Path(run_dir, 'tables', 'c.csv').write_text(a + 'c\\n')\nprint(run_dir)",
              'fail_right = False\nrun_dir = ""')
    _notebook(nbdir / "04_join.ipynb",
              "from pathlib import Path\nb = Path(run_dir, 'tables', 'b.csv').read_text()\n"
              "c = Path(run_dir, 'tables', 'c.csv').read_text()\n"
              "Path(run_dir, 'tables', 'd.csv').write_text(b + c)",
              'run_dir = ""')
    for name, needs in (("02_left", ["01"]), ("03_right", list(needs_of_third))):
        path = nbdir / f"{name}.ipynb"
        nb = json.loads(path.read_text())
        nb["metadata"]["analysis"] = {"needs": needs}
        path.write_text(json.dumps(nb))
    params = tmp_path / "side.yaml"
    params.write_text(yaml.safe_dump({"survey": "side", "synthetic": True, "wait": 60.0}), encoding="utf-8")
    return {"nbdir": nbdir, "params": params, "out": tmp_path / "out", "marker": marker}


def test_declared_needs_plan_two_stages_side_by_side_and_nothing_else(tmp_path):
    toy = _side_toy(tmp_path)
    stages = runmod.available_stages(notebook_dir=toy["nbdir"])
    names = [s.name for s in stages]
    assert [s.needs for s in stages] == [None, ("01_make",), ("01_make",), None]

    def plan(ss, on=True):
        return [[s.name for s in w] for w in runmod.plan_waves(ss, names, on)]

    assert plan(stages) == [["01_make"], ["02_left", "03_right"], ["04_join"]]
    assert plan(stages, on=False) == [[n] for n in names]
    assert plan(stages[1:]) == [["02_left", "03_right"], ["04_join"]]          # --only 02
    assert plan(stages[2:]) == [["03_right"], ["04_join"]]                     # --only 03
    # a stage that reads the one before it, or names no earlier stage, waits for it
    dependent = [stages[0], stages[1], runmod.Stage("03_right", stages[2].notebook, {}, ("01_make", "02_left")),
                 stages[3]]
    assert plan(dependent) == [[n] for n in names]
    assert runmod._declared_needs(stages[2].notebook, ["01_make", "02_left"]) == ("01_make",)
    assert runmod._declared_needs(stages[2].notebook, ["01_make"]) == ("01_make",)
    bad = tmp_path / "05_x.ipynb"
    for needs in (["07"], ["05_x"], "01"):                                     # unknown, itself, not a list
        bad.write_text(json.dumps({"metadata": {"analysis": {"needs": needs}}, "cells": []}))
        assert runmod._declared_needs(bad, names + ["05_x"]) is None


def test_independent_stages_run_side_by_side_each_writing_its_own_outputs(tmp_path, monkeypatch):
    monkeypatch.delenv("ANALYSIS_SIDE_BY_SIDE", raising=False)
    toy = _side_toy(tmp_path)
    run_dir = runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True)
    assert (run_dir / "tables" / "b.csv").read_text() == "x\n1\ntogether\n"   # 02 saw 03 running
    assert (run_dir / "tables" / "d.csv").read_text() == "x\n1\ntogether\nx\n1\nc\n"
    stages = json.loads((run_dir / "manifest.json").read_text())["stages"]
    assert stages["02_left"]["wrote"] == ["tables/b.csv"] and "beside" not in stages["02_left"]
    assert stages["03_right"]["wrote"] == ["tables/c.csv"] and stages["03_right"]["beside"] == "02_left"
    assert not list(run_dir.glob(".beside-*"))                                 # the private copy is gone
    executed = (run_dir / "notebooks" / "03_right.ipynb").read_text()
    assert ".beside-" not in executed and str(run_dir) in executed             # names the run folder
    assert "03_right.html" in (run_dir / "report" / "index.html").read_text()
    # --only 03 reruns 03 alone, then 04; 02's table is seeded from the last run
    again = runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True, only="03")
    assert json.loads((again / "manifest.json").read_text())["stages"]["02_left"]["status"] == "reused"
    assert (again / "tables" / "d.csv").read_text() == (run_dir / "tables" / "d.csv").read_text()


def test_side_by_side_can_be_turned_off_and_gives_the_same_tables(tmp_path, monkeypatch):
    toy = _side_toy(tmp_path)
    data = yaml.safe_load(toy["params"].read_text())
    data["wait"] = 0.0                                   # 02 does not wait for a stage that is not running
    toy["params"].write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_SIDE_BY_SIDE", "0")
    run_dir = runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True)
    assert (run_dir / "tables" / "b.csv").read_text() == "x\n1\nalone\n"      # one after the other
    stages = json.loads((run_dir / "manifest.json").read_text())["stages"]
    assert "beside" not in stages["03_right"] and stages["03_right"]["wrote"] == ["tables/c.csv"]


def test_a_failure_beside_is_named_and_leaves_latest_and_no_private_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("ANALYSIS_SIDE_BY_SIDE", raising=False)
    toy = _side_toy(tmp_path)
    good = runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True)
    data = yaml.safe_load(toy["params"].read_text())
    data["fail_right"] = True
    toy["params"].write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(RunError, match=r"stage 03_right failed in cell \d+ \(AssertionError: planted failure") as err:
        runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True)
    assert err.value.exit_code == 1
    assert os.readlink(toy["out"] / "latest") == good.name
    failed = sorted(p for p in toy["out"].iterdir() if p.is_dir() and not p.is_symlink() and p.name != good.name)[-1]
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"
    assert not list(failed.glob(".beside-*"))
    assert not (failed / "tables" / "d.csv").exists()                         # 04 never ran


def test_a_failure_of_the_first_stops_the_stage_beside_it(tmp_path, monkeypatch):
    monkeypatch.delenv("ANALYSIS_SIDE_BY_SIDE", raising=False)
    toy = _side_toy(tmp_path)
    data = yaml.safe_load(toy["params"].read_text())
    data["fail_left"] = True
    toy["params"].write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(RunError, match=r"stage 02_left failed in cell \d+ \(AssertionError: planted failure"):
        runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True)
    failed = next(p for p in toy["out"].iterdir() if p.is_dir() and not p.is_symlink())
    assert not list(failed.glob(".beside-*"))
    assert not (failed / "tables" / "c.csv").exists()                         # nothing of 03 moved in


def test_the_proposals_stage_kernel_preloads_its_resources_ahead():
    import subprocess
    import sys

    code = ("import sys\nfrom analysis.run import warm_up\nwarm_up(['analysis.proposals'], PRELOAD, "
            "{'codebook': 'params/codebooks/liepaja-2022.yaml', 'themes': 'params/themes/liepaja-2022.yaml'})\n"
            "from analysis import privacy, text, themes\n"
            "print([f.cache_info().currsize for f in (text._langid_model, text._sm_dict, text._morph_ru,"
            " themes._attested_sets, privacy._lv_first_names, privacy._morph)],"
            " 'sklearn.linear_model' in sys.modules, len(themes._LOADED))")
    from analysis import paths

    for preload, expected in ((True, "[1, 1, 1, 1, 1, 1] True 1"), (False, "[0, 0, 0, 0, 0, 0] False 0")):
        done = subprocess.run([sys.executable, "-c", code.replace("PRELOAD", str(preload))], capture_output=True,
                              text=True, timeout=300, env=paths.child_env())
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected            # big inputs: imports only, nothing preloaded


def test_big_inputs_or_the_switch_run_stages_one_after_another(monkeypatch):
    monkeypatch.delenv("ANALYSIS_SIDE_BY_SIDE", raising=False)
    monkeypatch.setattr(runmod.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(runmod, "_input_bytes", lambda params: runmod.SMALL_INPUTS - 1)
    assert runmod._side_by_side(runmod._small({})) and runmod._small({})
    monkeypatch.setenv("ANALYSIS_SIDE_BY_SIDE", "0")
    assert not runmod._side_by_side(runmod._small({}))
    monkeypatch.delenv("ANALYSIS_SIDE_BY_SIDE")
    monkeypatch.setattr(runmod, "_input_bytes", lambda params: runmod.SMALL_INPUTS)   # ~70,000 responses
    assert not runmod._side_by_side(runmod._small({})) and not runmod._small({})
    monkeypatch.setattr(runmod, "_input_bytes", lambda params: 0)
    monkeypatch.setattr(runmod.os, "cpu_count", lambda: 1)                          # one core: nothing to gain
    assert not runmod._side_by_side(runmod._small({}))


def test_stages_side_by_side_that_write_the_same_file_fail_naming_it(tmp_path, monkeypatch):
    monkeypatch.delenv("ANALYSIS_SIDE_BY_SIDE", raising=False)
    toy = _side_toy(tmp_path)
    path = toy["nbdir"] / "03_right.ipynb"
    path.write_text(path.read_text().replace("'c.csv'", "'b.csv'"))           # 03 now also writes b.csv
    with pytest.raises(RunError, match=r"both wrote tables/b\.csv: 03_right cannot run beside") as err:
        runmod.run(toy["params"], out=toy["out"], notebook_dir=toy["nbdir"], skip_checks=True)
    assert err.value.exit_code == 1
    assert not (toy["out"] / "latest").exists()


def test_the_command_line_does_not_load_the_unused_iri_grammars(tmp_path):
    """`python -m analysis` marks rfc3987_syntax as unavailable before nbformat loads jsonschema
    (that import builds ~40 grammars, 2.5 s, for format checks no notebook schema uses): in such
    a process notebooks are still read, validated and written as before."""
    import subprocess
    import sys

    code = ("import sys\nfrom analysis.__main__ import _skip_unused_imports\n_skip_unused_imports()\n"
            "import nbformat, jsonschema\n"
            "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
            f"nbformat.write(nb, {str(tmp_path / 'n.ipynb')!r})\n"
            f"back = nbformat.read({str(tmp_path / 'n.ipynb')!r}, as_version=4)\n"
            "nbformat.validate(back)\n"
            "bad = nbformat.from_dict({'nbformat': 4, 'nbformat_minor': 5, 'metadata': {}, 'cells': [{'x': 1}]})\n"
            "try:\n    nbformat.validate(bad)\n    print('bad accepted')\nexcept nbformat.ValidationError:\n    pass\n"
            "print(sys.modules.get('rfc3987_syntax') is None, back.cells[0].source)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "x", "=", "1"]


def test_a_waves_kernels_load_in_turn_the_longest_stage_first(tmp_path, monkeypatch):
    """Kernels.ahead_in_turn starts one kernel and the next when it has loaded (kernels loading at
    once share the free core); critical_first puts the stage that took longest in the survey's
    previous run first (without one: the stage beside the first). A stage taken before its turn
    gets its kernel at once, and is not started again when the turn comes."""
    started, loaded = [], {}

    class FakeKernel:
        def __init__(self, stage, preload=True, params=None, on_ready=None):
            started.append(stage.name)
            loaded[stage.name] = on_ready
            self.stage = stage

        def shutdown(self):
            pass

    monkeypatch.setattr(runmod, "Kernel", FakeKernel)
    a, b, c = (runmod.Stage(n, tmp_path / f"{n}.ipynb", {}) for n in ("02_a", "03_b", "04_c"))
    assert runmod.critical_first([a, b], {}) == [b, a]
    assert runmod.critical_first([a, b], {"02_a": 30.0, "03_b": 12.0}) == [a, b]
    assert runmod.critical_first([a, b], {"02_a": 3.0, "03_b": 12.0}) == [b, a]
    assert runmod.critical_first([c], {}) == [c]

    kernels = runmod.Kernels()
    kernels.ahead_in_turn([b, a, c])
    assert started == ["03_b"]                       # one at a time
    loaded["03_b"]()                                 # 03_b has loaded: 02_a's turn
    assert started == ["03_b", "02_a"]
    assert kernels.take(c) is not None               # taken before its turn: started now
    assert started == ["03_b", "02_a", "04_c"]
    loaded["02_a"]()                                 # nothing left in turn: nothing started twice
    assert started == ["03_b", "02_a", "04_c"]
    assert kernels.take(a).stage is a and kernels.take(b).stage is b and kernels.take(a) is None
    kernels.ahead_in_turn([a, b])
    kernels.close()                                  # a run that stopped: no later turn starts
    loaded["02_a"]()
    assert started[-1] == "02_a" and started.count("03_b") == 1

    (tmp_path / "survey" / "r1").mkdir(parents=True)
    (tmp_path / "survey" / "r1" / "manifest.json").write_text(
        json.dumps({"stages": {"02_a": {"seconds": 9.5}, "03_b": {"seconds": 20.1}}}))
    (tmp_path / "survey" / "latest.txt").write_text("r1\n")
    assert runmod._previous_seconds(tmp_path / "survey") == {"02_a": 9.5, "03_b": 20.1}
    assert runmod._previous_seconds(tmp_path / "nothing") == {}
