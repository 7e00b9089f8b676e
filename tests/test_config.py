"""The typed params (analysis.config): every key a notebook accepts is validated with its type
and range; an unknown key or a wrong type is an error naming the file and the key (exit 2)."""
from __future__ import annotations

import copy

import papermill
import pytest
import yaml

from analysis import config


@pytest.fixture(scope="module")
def declared(root) -> dict[str, set[str]]:
    """parameter -> the notebooks whose parameters cell declares it (papermill's own reading)."""
    out: dict[str, set[str]] = {}
    for nb in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for name in papermill.inspect_notebook(str(nb)):
            out.setdefault(name, set()).add(nb.stem)
    return out


@pytest.fixture(scope="module")
def sample(root) -> dict:
    return yaml.safe_load((root / "params" / "liepaja-2022.yaml").read_text(encoding="utf-8"))


def _write(tmp_path, params: dict):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return path


def test_every_notebook_parameter_is_a_typed_key_and_every_typed_key_a_notebook_parameter(declared):
    assert len(declared) >= 15
    unchecked = set(declared) - set(config.KNOWN_KEYS) - set(config.NOTEBOOK_ONLY)
    assert not unchecked, f"notebook parameters config.py does not validate: {sorted(unchecked)}"
    # a key config accepts but no notebook declares would pass `check` and then stop `run`
    undeclared = set(config.KNOWN_KEYS) - set(declared)
    assert not undeclared, f"params keys no notebook declares: {sorted(undeclared)}"
    assert set(config.NOTEBOOK_ONLY) <= set(declared)


@pytest.mark.parametrize("name", ["liepaja-2022", "naidislinn-2024"])
def test_the_embedded_params_files_are_valid(root, name):
    params, errors = config.parse_params(root / "params" / f"{name}.yaml")
    assert errors == [] and params.survey == name
    assert set(params.raw) <= set(config.KNOWN_KEYS)


# one wrong value per key: (key as written, bad value, key named in the error)
WRONG = [
    ("survey", "Liepaja 2022", "survey"),
    ("codebook", 3, "codebook"),
    ("inputs", {"forms": 3}, "inputs.forms"),
    ("inputs", {"forms": ["a.xlsx"], "fax": ["b"]}, "inputs"),
    ("synthetic", "yes", "synthetic"),
    ("themes", 5, "themes"),
    ("themes", "params/themes/no-such-file.yaml", "themes"),
    ("population", ["x.yaml"], "population"),
    ("unknown_label", "drop", "unknown_label"),
    ("salt_env", "1-SALT", "salt_env"),
    ("quality_rules", {"speeder": {"action": "exclude", "share_of_median": 2}}, "quality_rules.speeder.share_of_median"),
    ("quality_rules", {"speedster": {"action": "exclude"}}, "quality_rules.speedster"),
    ("quality_rules", {"empty": {"action": "delete"}}, "quality_rules.empty"),
    ("min_cell", 0, "min_cell"),
    ("min_cell", 2.5, "min_cell"),
    ("fdr", "5%", "fdr"),
    ("fdr", 5, "fdr"),
    ("weight_trim_cap", 1, "weight_trim_cap"),
    ("report_lang", "xx", "report_lang"),
    ("human_coding", "data/sample/human_coding.csv", "human_coding"),
    ("human_coding", ["data/sample/no-such-coding.csv"], "human_coding[0]"),
    ("max_text_chars", -1, "max_text_chars"),
    ("max_text_chars", True, "max_text_chars"),
    ("min_finding_n", 0, "min_finding_n"),
    ("min_finding_n", "30", "min_finding_n"),
]


@pytest.mark.parametrize("key,value,named", WRONG, ids=[f"{k}={v!r}" for k, v, _ in WRONG])
def test_a_wrong_type_or_range_is_an_error_naming_file_and_key(tmp_path, sample, key, value, named):
    params = copy.deepcopy(sample)
    params[key] = value
    path = _write(tmp_path, params)
    with pytest.raises(config.ParamsError) as err:
        config.load_params(path)
    assert err.value.key == named
    assert str(path) in str(err.value) and named in str(err.value)
    _, errors = config.parse_params(path)
    assert [e.key for e in errors] == [named]      # nothing else in the file is blamed


def test_every_typed_key_has_a_wrong_value_tested():
    assert set(config.KNOWN_KEYS) <= {k for k, _, _ in WRONG}


@pytest.mark.parametrize("key,value", [("min_celll", 10), ("fdr_level", 0.05), ("stage_timeout", 600)])
def test_an_unknown_key_is_an_error_naming_file_and_key(tmp_path, sample, key, value):
    path = _write(tmp_path, {**sample, key: value})
    with pytest.raises(config.ParamsError) as err:
        config.load_params(path)
    assert err.value.key == key and str(path) in str(err.value) and "unknown key" in str(err.value)
    assert "min_cell" in (err.value.expected or "")          # the known keys are listed


@pytest.mark.parametrize("key", ["run_dir", "params_file"])
def test_keys_the_run_sets_itself_are_refused_in_a_params_file(tmp_path, sample, key):
    path = _write(tmp_path, {**sample, key: "/tmp/elsewhere"})
    with pytest.raises(config.ParamsError) as err:
        config.load_params(path)
    assert err.value.key == key and "not a key of a params file" in str(err.value)


def test_the_typed_values_are_the_files_values(tmp_path, sample):
    params = config.load_params(_write(tmp_path, {**sample, "min_finding_n": 45, "max_text_chars": 500,
                                                  "report_lang": "en"}))
    assert (params.min_finding_n, params.max_text_chars, params.report_lang) == (45, 500, "en")
    defaults = config.load_params(_write(tmp_path, {k: v for k, v in sample.items()
                                                    if k not in ("min_finding_n", "max_text_chars")}))
    assert (defaults.min_finding_n, defaults.max_text_chars) == (30, 10_000)


def test_check_exits_2_naming_file_and_key_for_an_unknown_key(tmp_path, sample, capsys):
    from analysis.__main__ import main

    path = _write(tmp_path, {**sample, "min_celll": 10})
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert "min_celll" in text and str(path) in text


def test_run_stops_with_exit_2_naming_file_and_key_even_without_checks(tmp_path, sample):
    from analysis import run

    path = _write(tmp_path, {**sample, "fdr": "5%"})
    with pytest.raises(run.RunError) as err:
        run.run(path, out=tmp_path / "out", skip_checks=True, render=False)
    assert err.value.exit_code == run.EXIT_BAD_INPUT
    assert str(path) in str(err.value) and "fdr" in str(err.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("2*"))   # no run folder


def test_report_lang_is_checked_when_the_params_are_loaded_naming_value_and_languages(tmp_path, sample, capsys,
                                                                                     monkeypatch):
    """A report language without a text table is a params error (exit 2 from `check` and from
    `run` before any stage), naming the key, the value and the languages there are tables for;
    adding a language is adding a text file (languages() lists what exists)."""
    from analysis import report, run
    from analysis.__main__ import main

    path = _write(tmp_path, {**sample, "report_lang": "xx"})
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert str(path) in text and "report_lang" in text and "'xx'" in text
    assert " | ".join(report.languages()) in text and {"lv", "en"} <= set(report.languages())
    with pytest.raises(run.RunError) as err:
        run.run(path, out=tmp_path / "out", skip_checks=True, render=False)
    assert err.value.exit_code == run.EXIT_BAD_INPUT and "report_lang" in str(err.value) and "'xx'" in str(err.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("2*"))
    # a language with a text table (here: pretended) is accepted as it is
    monkeypatch.setattr(report, "languages", lambda: ["lv", "en", "xx"])
    assert config.load_params(path).report_lang == "xx"
