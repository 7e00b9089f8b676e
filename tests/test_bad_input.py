"""Bad input, one test each: a clear message and exit 2, or the offending rows quarantined with
a reason. Never a traceback, never a row lost silently.

Each test goes through `check_command` (what `python -m analysis check` runs) and/or
`run_clean`, the way a researcher or a scheduled run would meet the problem.
"""
from __future__ import annotations

import io
import os
import random
import shutil

import pandas as pd
import pytest
import yaml

from analysis import checks, clean
from analysis.ingest import InputError
from test_clean import RULES, params_for, rows_lv
from test_ingest import answer, export_frame, mail_bytes, make_export, write_mbox, write_xlsx

os.environ.setdefault("ANALYSIS_SALT", "test-salt-0123456789abcdef")


def check(tmp_path, forms, email=(), unknown_label="missing") -> tuple[int, str]:
    """Run the `check` command on a params file naming these inputs; return (exit code, output)."""
    params = params_for(forms, email, unknown_label=unknown_label)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    out = io.StringIO()
    code = checks.check_command(path, out=out)
    return code, out.getvalue()


def assert_stops(tmp_path, forms, *needles, code="", email=()):
    """Exit 2 from `check`, the same problem from `run_clean`, nothing written, no traceback."""
    exit_code, text = check(tmp_path, forms, email)
    assert exit_code == 2, text
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, text
    with pytest.raises(InputError) as err:
        clean.run_clean(params_for(forms, email), run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    if code:
        assert code in {p.code for p in err.value.problems}
    return text


def test_empty_file(codebook, tmp_path):
    (tmp_path / "forms.xlsx").write_bytes(b"")
    (tmp_path / "forms.csv").write_bytes(b"")
    text = assert_stops(tmp_path, [tmp_path / "forms.xlsx", tmp_path / "forms.csv"],
                        "ERROR forms.xlsx: the file is empty (0 bytes)", "ERROR forms.csv", code="empty_file")
    assert "2 error(s)" in text          # both files reported at once


def test_a_file_that_is_not_a_spreadsheet(codebook, tmp_path):
    (tmp_path / "photo.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    (tmp_path / "noise.csv").write_bytes(bytes(random.Random(1).randrange(256) for _ in range(5000)))
    assert_stops(tmp_path, [tmp_path / "photo.xlsx", tmp_path / "noise.csv"],
                 "photo.xlsx: this is not a spreadsheet: the content looks like a PNG image",
                 "noise.csv", code="not_a_spreadsheet")


def test_a_forms_export_of_another_form(codebook, tmp_path):
    other = pd.DataFrame({"ID": [1, 2], "Start time": ["2/1/22 10:00:00"] * 2,
                          "Completion time": ["2/1/22 10:05:00"] * 2, "Email": ["anonymous"] * 2,
                          "Name": [None, None], "Kāds ir jūsu mīļākais krāsas tonis?": ["Zils", "Sarkans"]})
    p = write_xlsx(tmp_path / "cita_aptauja.xlsx", other)
    assert_stops(tmp_path, [p], "looks like the export of another form", "expected the headers of the liepaja-2022 form",
                 code="another_form")


def test_a_missing_required_column(codebook, tmp_path):
    frame = export_frame(codebook, "lv", rows_lv(codebook, 3)).drop(columns=["Jūsu dzimums"])
    p = write_xlsx(tmp_path / "lv.xlsx", frame)
    assert_stops(tmp_path, [p], "column 'Jūsu dzimums' (gender)", "required column for gender is missing",
                 code="missing_column")


def test_a_renamed_column(codebook, tmp_path):
    frame = export_frame(codebook, "lv", rows_lv(codebook, 3)).rename(columns={"Jūsu vecums": "Jūsu vecums (gados)"})
    p = write_xlsx(tmp_path / "lv.xlsx", frame)
    text = assert_stops(tmp_path, [p], "required column for age_group is missing",
                        "'Jūsu vecums (gados)' looks like it was renamed", code="missing_column")
    assert "alias" in text


def test_duplicate_headers(codebook, tmp_path):
    frame = export_frame(codebook, "lv", rows_lv(codebook, 3))
    frame.insert(8, "Jūsu vecums", frame["Jūsu vecums"], allow_duplicates=True)
    p = write_xlsx(tmp_path / "lv.xlsx", frame)
    assert_stops(tmp_path, [p], "the header appears 2 times", code="duplicate_header")


def test_a_column_full_of_unknown_labels(codebook, tmp_path):
    rows = rows_lv(codebook, 6)
    for r in rows:
        r["gender"] = "F"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    # policy `stop`: exit 2 with the count and the rows
    params = params_for([p], unknown_label="stop")
    (tmp_path / "stop.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    out = io.StringIO()
    assert checks.check_command(tmp_path / "stop.yaml", out=out) == 2
    assert "unknown label 'F' (6×)" in out.getvalue() and "rows 2, 3, 4, 5, 6, 7" in out.getvalue()
    # policy `quarantine`: every row quarantined with the reason
    q = clean.run_clean(params_for([p], unknown_label="quarantine"), write=False)
    assert len(q.responses) == 0 and set(q.quarantine["reasons"]) == {"unknown_label"}
    # policy `missing`: rows kept, each cell logged
    m = clean.run_clean(params_for([p], unknown_label="missing"), write=False)
    assert m.responses["gender"].isna().all()
    assert (m.cleaning_log["variable"] == "gender").sum() == 6


def test_a_column_of_many_different_unknown_values_is_summarised(codebook, tmp_path):
    rows = rows_lv(codebook, 40)
    for i, r in enumerate(rows):
        r["district"] = f"ŠÄ…Ä{i}"                               # mojibake, all different
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    problems = [x for x in checks.check_inputs(params_for([p])) if x.code == "unknown_label"]
    assert len(problems) == 21                                # 20 listed, the rest in one line
    assert any("and 20 more distinct unknown values (20 cells)" in x.message for x in problems)


def test_a_file_named_for_one_language_holding_the_other(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "forms_lv.xlsx", lang="ru", rows=[answer(codebook, "ru", 1, random.Random(1))])
    code, text = check(tmp_path, [p])
    assert code == 0 and "the file name says lv but its headers are those of the ru form" in text


def test_dates_in_an_unexpected_format(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.csv", rows=rows_lv(codebook, 4), fmt="csv",
                    date_format="%Y年%m月%d日 %H時%M分")
    assert_stops(tmp_path, [p], "no value could be read as a date-time", "2/27/22 23:58:04",
                 "column 'Start time' (start_time)", code="unparseable_date")


def test_some_dates_unreadable_quarantines_those_rows(codebook, tmp_path):
    rows = rows_lv(codebook, 5)
    rows[2]["completion_time"] = "vakar vakarā"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    code, text = check(tmp_path, [p])
    assert code == 0 and "row 4" in text and "unparseable_date" not in text.split("\n")[-2]
    res = clean.run_clean(params_for([p]), write=False)
    assert res.quarantine["reasons"].tolist() == ["unparseable_date"]
    assert res.quarantine["source_row"].tolist() == [4]


def test_a_truncated_xlsx(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 5))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    assert_stops(tmp_path, [p], "the workbook is truncated or damaged", "Download the export again",
                 code="damaged_file")


def test_an_mbox_with_a_broken_message(codebook, tmp_path):
    forms = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 3))
    good = mail_bytes("Vairāk soliņu Karostā.\n")
    broken_b64 = (b"From: a@b.lv\nDate: Tue, 22 Feb 2022 10:00:00 +0200\nContent-Type: text/plain; charset=utf-8\n"
                  b"Content-Transfer-Encoding: base64\n\n!!!!not base64 at all%%%%\n")
    no_headers = b"\x00\x00\x00"
    mbox = write_mbox(tmp_path / "p.mbox", [good, broken_b64, no_headers, mail_bytes("Otrs priekšlikums.\n")])
    code, text = check(tmp_path, [forms], [mbox])
    assert code == 0 and "p.mbox, rows 2, 3: message cannot be read; quarantined" in text
    res = clean.run_clean(params_for([forms], [mbox]), write=False)
    q = res.quarantine[res.quarantine["source_file"] == "p.mbox"]
    assert q["source_row"].tolist() == [2, 3] and set(q["reasons"]) == {"broken_message"}
    assert (res.proposals["source"] == "email").sum() == 2


def test_a_file_that_is_not_an_mbox(codebook, tmp_path):
    forms = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 3))
    fake = tmp_path / "mail.mbox"
    shutil.copy(forms, fake)
    assert_stops(tmp_path, [forms], "mail.mbox: this is not an mbox mailbox", email=[fake])


def test_text_with_nul_bytes_and_a_megabyte_in_a_cell(codebook, tmp_path):
    rows = rows_lv(codebook, 4)
    rows[1]["proposal_other"] = "Vairāk\x00 soliņu\x00"
    rows[2]["proposal_urban"] = "ļoti garš teksts " * 65_000          # ~1 MB
    p = make_export(codebook, tmp_path / "lv.csv", rows=rows, fmt="csv")
    code, text = check(tmp_path, [p])
    assert code == 0
    assert "NUL or other control characters removed" in text and "answer longer than 10,000 characters" in text
    res = clean.run_clean(params_for([p]), run_dir=tmp_path / "run")
    assert res.quarantine["reasons"].tolist() == ["oversized_text"] and res.quarantine["source_row"].tolist() == [4]
    assert "proposal_urban" in res.quarantine["details"].iloc[0]
    other = res.proposals[res.proposals["question"] == "proposal_other"]
    assert "Vairāk soliņu" in other["text"].tolist()
    assert res.flow["balanced"].all() and int(res.flow["rows_read"].iloc[0]) == 4
    log = res.cleaning_log
    assert ((log["action"] == "removed_control_characters") & (log["variable"] == "proposal_other")).sum() == 1
    assert max(f.stat().st_size for f in res.files.values()) < 200_000   # the megabyte went nowhere


def test_a_header_only_export_is_fine_and_says_so(codebook, tmp_path):
    p = write_xlsx(tmp_path / "lv.xlsx", export_frame(codebook, "lv", []))
    code, text = check(tmp_path, [p])
    assert code == 0 and "no responses yet" in text
    res = clean.run_clean(params_for([p]), write=False)
    assert len(res.responses) == 0 and int(res.flow["rows_read"].iloc[0]) == 0


def test_a_missing_input_file_and_bad_params_are_reported_together(codebook, tmp_path):
    params = params_for([tmp_path / "nav.xlsx"], unknown_label="sometimes",
                        rules={**RULES, "speeder": {"action": "drop"}, "typo_rule": {"action": "flag"}})
    problems = checks.check_inputs(params)
    text = "\n".join(map(str, problems))
    assert "file not found" in text and "unknown_label" in text and "typo_rule" in text
    assert "quality_rules.speeder" in text
    # every problem is an error; notes only say what a run would do (here: unweighted)
    assert all(p.severity == "error" for p in problems if p.severity != "note")
    assert "population" in [p.column for p in problems if p.severity == "note"]


def test_misnamed_csv_is_read_by_content_with_a_warning(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.csv", rows=rows_lv(codebook, 3), fmt="csv")
    renamed = p.rename(tmp_path / "lv.xlsx")
    code, text = check(tmp_path, [renamed])
    assert code == 0 and "named .xlsx but its content is text (CSV)" in text


def test_check_command_on_a_broken_params_file(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("inputs: [unclosed", encoding="utf-8")
    out = io.StringIO()
    assert checks.check_command(bad, out=out) == 2
    assert "cannot read the params file" in out.getvalue()
    assert checks.check_command(tmp_path / "none.yaml", out=io.StringIO()) == 2



def test_an_unknown_label_holding_personal_data_is_redacted_in_messages(tmp_path):
    """Problems are printed to logs (cron): a typed-in label must not carry a name or phone there."""
    import io

    import pandas as pd
    import yaml

    from analysis.checks import check_command

    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    frame = pd.read_excel(root / "data/sample/forms_lv.xlsx", engine="calamine", dtype=str)
    frame.loc[5, "Jūsu dzimums"] = "Jānis Bērziņš, tel. 29123456"
    frame.to_csv(tmp_path / "forms.csv", index=False)
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"survey": "t", "codebook": str(root / "params/codebooks/liepaja-2022.yaml"),
                                      "inputs": {"forms": [str(tmp_path / "forms.csv")]},
                                      "unknown_label": "missing"}), encoding="utf-8")
    out = io.StringIO()
    assert check_command(params, out=out) == 0
    text = out.getvalue()
    assert "row 7" in text and "[TĀLRUNIS]" in text
    assert "29123456" not in text and "Bērziņš" not in text


# --- params: one typed model, every key validated; check as a dry run (issue 9) ----------

def test_a_parameter_of_the_wrong_type_is_an_error_naming_the_key(root, tmp_path):
    from analysis import config
    from analysis.__main__ import main

    params = yaml.safe_load((root / "params" / "liepaja-2022.yaml").read_text(encoding="utf-8"))
    params.update(fdr="5%")
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    with pytest.raises(config.ParamsError) as err:
        config.load_params(path)
    assert err.value.key == "fdr" and "0.05, not 5%" in str(err.value) and str(path) in str(err.value)
    params.update(min_cell=0, report_lang="xx")
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    problems = checks.check_inputs(params)
    bad = {p.column for p in problems if p.severity == "error"}
    assert {"fdr", "min_cell", "report_lang"} <= bad
    assert main(["check", str(path)]) == 2


def test_typed_params_of_the_sample(root):
    from analysis import config

    p = config.load_params(root / "params" / "liepaja-2022.yaml")
    assert p.survey == "liepaja-2022" and p.fdr == 0.05 and p.min_cell == 10 and p.weighted
    assert p.quality_rules["straightliner"].settings == {"min_share_same": 0.95, "min_rated": 16}
    assert p.quality_rules["duplicate"].as_dict() == {"action": "exclude", "keep": "first"}
    assert p.inputs.forms == ("data/sample/forms_lv.xlsx", "data/sample/forms_ru.xlsx")
    assert p.load_codebook().survey == "liepaja-2022"
    assert p.as_dict()["population"] == p.population


def test_no_population_key_is_an_unweighted_run_never_another_surveys_margins(root, tmp_path):
    from analysis import config
    from analysis.run import Stage, stage_parameters

    params = yaml.safe_load((root / "params" / "liepaja-2022.yaml").read_text(encoding="utf-8"))
    params.pop("population")
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    p = config.load_params(path)
    assert p.population is None and not p.weighted and p.as_dict()["population"] == ""
    notes = [q for q in checks.check_inputs(params) if q.severity == "note"]
    assert any(q.column == "population" and "unweighted" in q.message for q in notes)
    stage = Stage("02_ratings", root / "notebooks" / "02_ratings.ipynb",
                  {"population": {"default": '"params/population/liepaja-synthetic.yaml"'}, "run_dir": {}})
    assert stage_parameters(params, stage, tmp_path)["population"] == ""


def test_check_says_which_sections_a_survey_without_roles_skips(tmp_path):
    import openpyxl
    from test_clean import TOY_HEADERS, _toy_row
    from test_codebook import toy_raw

    raw = toy_raw()
    raw["roles"] = {}
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    wb = openpyxl.Workbook()
    wb.active.append(TOY_HEADERS)
    wb.active.append(_toy_row(1))
    wb.save(tmp_path / "toy.xlsx")
    params = {"survey": "toy-2024", "codebook": str(tmp_path / "toy.yaml"),
              "inputs": {"forms": [str(tmp_path / "toy.xlsx")]}, "quality_rules": RULES}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    out = io.StringIO()
    assert checks.check_command(path, out=out) == 0
    text = out.getvalue()
    for needle in ("no `grouping` role", "no `recommendation` role", "no `satisfaction` role",
                   "an unweighted run", "speeder rule is switched off", "inputs are usable"):
        assert needle in text, (needle, text)
