"""Stage 01 as a specification: codes, quality rules, quarantine, privacy, schemas, the flow invariant."""
from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from analysis import clean, schemas
from analysis.ingest import InputError
from test_ingest import answer, export_frame, mail_bytes, make_export, write_csv, write_mbox, write_xlsx

RULES = {
    "duplicate": {"action": "exclude"},
    "speeder": {"action": "exclude", "share_of_median": 0.33},
    "straightliner": {"action": "flag", "min_share_same": 0.95, "min_rated": 16},
    "outside_window": {"action": "exclude"},
    "empty": {"action": "exclude"},
}
os.environ.setdefault("ANALYSIS_SALT", "test-salt-0123456789abcdef")


def params_for(forms, email=(), unknown_label="missing", rules=None) -> dict:
    return {"survey": "liepaja-2022", "codebook": "params/codebooks/liepaja-2022.yaml",
            "inputs": {"forms": [str(f) for f in forms], "email": [str(e) for e in email]},
            "unknown_label": unknown_label, "salt_env": "ANALYSIS_SALT",
            "quality_rules": rules if rules is not None else RULES}


def rows_lv(cb, n=12, seed=1, **kw):
    rng = random.Random(seed)
    return [answer(cb, "lv", i + 1, rng, **kw) for i in range(n)]


def where(result, frame="responses"):
    df = getattr(result, frame)
    return set(zip(df["source_file"].astype(str), df["source_row"].astype(int)))


# --- recoding ---------------------------------------------------------------------------

def test_labels_become_codes_indicators_scores_and_dont_know(codebook, tmp_path):
    rows = rows_lv(codebook, 3)
    rows[0].update(age_group="25–34", info_language="Latviešu;Krievu;", housing_1="Ļoti nozīmīga",
                   housing_2="Grūti pateikt", housing_3=None, life_satisfaction=7, recommend=0,
                   occupation="Mākslinieks", info_channels="Televīzija un radio;Mans kaimiņš;")
    rows[1].update(age_group="25-34", info_language=None)  # hyphen: an explicit alias in the codebook
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    r = clean.run_clean(params_for([p]), write=False).responses
    first = r.iloc[0]
    assert first["age_group"] == "25_34" and r.iloc[1]["age_group"] == "25_34"
    assert first["info_language__lv"] and first["info_language__ru"] and not first["info_language__en"]
    assert pd.isna(r.iloc[1]["info_language__lv"])          # skipped question: NA, not False
    assert first["housing_1"] == 5 and not first["housing_1_dk"]
    assert pd.isna(first["housing_2"]) and first["housing_2_dk"]
    assert pd.isna(first["housing_3"]) and not first["housing_3_dk"]
    assert first["life_satisfaction"] == 7 and first["recommend"] == 0
    assert first["occupation"] == "other" and first["occupation_other"] == "Mākslinieks"
    assert first["info_channels__tv_radio"] and first["info_channels__other"]
    assert first["info_channels_other"] == "Mans kaimiņš"
    assert isinstance(r["age_group"].dtype, pd.CategoricalDtype)
    assert str(r["housing_1"].dtype) == "Int64" and str(r["info_language__lv"].dtype) == "boolean"


def test_russian_labels_give_the_same_codes(codebook, tmp_path):
    rng = random.Random(4)
    ru = [answer(codebook, "ru", 1, rng, gender="Женщина", housing_1="Затрудняюсь ответить")]
    p = make_export(codebook, tmp_path / "ru.xlsx", lang="ru", rows=ru)
    r = clean.run_clean(params_for([p]), write=False).responses
    assert r.iloc[0]["gender"] == "female" and r.iloc[0]["housing_1_dk"]
    assert r.iloc[0]["form_language"] == "ru"


def test_unknown_label_set_to_missing_is_logged_per_cell(codebook, tmp_path):
    rows = rows_lv(codebook, 4)
    rows[2]["gender"] = "Cits dzimums"
    rows[3]["life_satisfaction"] = 11
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p], unknown_label="missing"), write=False)
    assert len(res.responses) == 4
    assert pd.isna(res.responses.iloc[2]["gender"]) and pd.isna(res.responses.iloc[3]["life_satisfaction"])
    cells = res.cleaning_log[res.cleaning_log["entry"] == "cell"]
    assert set(zip(cells["variable"], cells["action"])) == {("gender", "set_missing"), ("life_satisfaction", "set_missing")}
    assert set(cells["respondent_id"]) == set(res.responses["respondent_id"].iloc[[2, 3]])
    assert "Cits dzimums" in set(cells["label"])


def test_unknown_label_quarantine_moves_the_row_with_its_reason(codebook, tmp_path):
    rows = rows_lv(codebook, 4)
    rows[1]["gender"] = "Cits dzimums"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p], unknown_label="quarantine"), write=False)
    assert len(res.responses) == 3
    q = res.quarantine.iloc[0]
    assert q["source_row"] == 3 and q["reasons"] == "unknown_label" and "gender" in q["details"]


def test_unknown_label_stop_raises_before_writing(codebook, tmp_path):
    rows = rows_lv(codebook, 4)
    rows[1]["gender"] = "Cits dzimums"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    with pytest.raises(InputError) as err:
        clean.run_clean(params_for([p], unknown_label="stop"), run_dir=tmp_path / "run")
    assert "Cits dzimums" in str(err.value) and "row 3" in str(err.value)
    assert not (tmp_path / "run").exists()


# --- quality rules ----------------------------------------------------------------------

def test_speeders_are_quarantined_not_dropped(codebook, tmp_path):
    rows = rows_lv(codebook, 10)
    rows[4]["completion_time"] = rows[4]["start_time"] + dt.timedelta(seconds=30)
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p]), write=False)
    q = res.quarantine
    assert list(q["source_row"]) == [6] and q.iloc[0]["reasons"] == "speeder"
    assert "median" in q.iloc[0]["details"]
    speeder = res.rules.set_index("rule").loc["speeder"]
    assert speeder["rows_excluded"] == 1 and "share_of_median=0.33" in speeder["parameters"]


def test_straightliners_are_flagged_or_excluded_as_params_say(codebook, tmp_path):
    rows = rows_lv(codebook, 8)
    for item in codebook.likert_items:
        rows[2][item] = "Ļoti nozīmīga"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    flagged = clean.run_clean(params_for([p]), write=False)
    assert flagged.responses["flag_straightliner"].tolist() == [i == 2 for i in range(8)]
    assert flagged.quarantine.empty
    rules = {**RULES, "straightliner": {"action": "exclude", "min_share_same": 0.95, "min_rated": 16}}
    excluded = clean.run_clean(params_for([p], rules=rules), write=False)
    assert "flag_straightliner" not in excluded.responses
    assert excluded.quarantine["reasons"].tolist() == ["straightliner"]


def test_outside_window_uses_riga_time(codebook, tmp_path):
    rows = rows_lv(codebook, 3)
    # 23:59:30 on the last day in Riga is inside; 00:00:30 the next day is outside
    rows[0]["start_time"], rows[0]["completion_time"] = dt.datetime(2022, 2, 27, 23, 50), dt.datetime(2022, 2, 27, 23, 59, 30)
    rows[1]["start_time"], rows[1]["completion_time"] = dt.datetime(2022, 2, 27, 23, 52), dt.datetime(2022, 2, 28, 0, 0, 30)
    rows[2]["start_time"], rows[2]["completion_time"] = dt.datetime(2021, 12, 31, 23, 50), dt.datetime(2021, 12, 31, 23, 59)
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p]), write=False)
    assert res.quarantine["source_row"].tolist() == [3, 4]
    assert set(res.quarantine["reasons"]) == {"outside_window"}


def test_empty_submissions_are_quarantined_contact_alone_is_empty(codebook, tmp_path):
    rows = rows_lv(codebook, 3)
    keep = ("response_id", "start_time", "completion_time", "email")
    rows[1] = {k: v for k, v in rows[1].items() if k in keep}
    rows[1]["contact"] = "zvaniet 29123456"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p]), write=False)
    assert res.quarantine["reasons"].tolist() == ["empty"]


def test_duplicates_identical_answers_same_email_and_same_id(codebook, tmp_path):
    rows = rows_lv(codebook, 6)
    rows[3] = {**rows[1], "response_id": 4, "start_time": rows[3]["start_time"], "completion_time": rows[3]["completion_time"]}
    rows[0]["email"] = rows[4]["email"] = "Anna.Liepa@example.lv"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p]), write=False)
    q = res.quarantine.set_index("source_row")
    assert sorted(q.index) == [5, 6]
    assert "identical answers as lv.xlsx row 3" in q.loc[5, "details"]
    assert "same e-mail address as lv.xlsx row 2" in q.loc[6, "details"]
    assert "Anna" not in " ".join(res.quarantine["details"])


def test_every_reason_that_applies_is_listed(codebook, tmp_path):
    rows = rows_lv(codebook, 10)
    rows[5]["start_time"] = dt.datetime(2022, 3, 5, 10, 0)
    rows[5]["completion_time"] = dt.datetime(2022, 3, 5, 10, 0, 20)
    for item in codebook.likert_items:
        rows[5][item] = "Drīzāk nozīmīga"
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    q = clean.run_clean(params_for([p]), write=False).quarantine
    assert q["reasons"].tolist() == ["speeder;outside_window"]
    assert "also flagged: straightliner" in q.iloc[0]["details"]


def test_rules_left_out_of_params_are_not_applied(codebook, tmp_path):
    rows = rows_lv(codebook, 6)
    rows[2]["completion_time"] = rows[2]["start_time"] + dt.timedelta(seconds=10)
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p], rules={"empty": {"action": "exclude"}}), write=False)
    assert res.quarantine.empty
    assert res.rules.set_index("rule").loc["speeder", "action"] == "not applied"


# --- e-mail proposals -------------------------------------------------------------------

def test_emails_become_redacted_proposals_and_broken_ones_quarantined(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 3))
    mbox = write_mbox(tmp_path / "p.mbox", [
        mail_bytes("Ierosinu vairāk soliņu. Zvaniet 29123456.\n\nAr cieņu,\nJānis Bērziņš\n", attachment="plans.pdf"),
        b"\x00\x01 not a message at all",
        mail_bytes("Otrs priekšlikums par tramvaju.\n", date="Mon, 14 Mar 2022 10:00:00 +0200"),
    ])
    res = clean.run_clean(params_for([p], [mbox]), write=False)
    mails = res.proposals[res.proposals["source"] == "email"]
    assert len(mails) == 1
    m = mails.iloc[0]
    assert m["text"] == "Ierosinu vairāk soliņu. Zvaniet [TĀLRUNIS]."
    # attachment names go through the privacy policy's file-name redaction (a name may be a person's)
    from analysis import privacy
    assert m["attachments"] == privacy.redact_file_name("plans.pdf") and m["question"] == "email"
    assert pd.isna(m["sector"]) and pd.isna(m["form_language"]) and pd.isna(m["age_group"])
    assert m["respondent_id"].startswith("E-") and m["received_at"].tz is not None
    q = res.quarantine[res.quarantine["source_file"] == "p.mbox"].set_index("source_row")
    assert q.loc[2, "reasons"] == "broken_message" and q.loc[3, "reasons"] == "outside_window"
    flow = res.flow.set_index("source_file").loc["p.mbox"]
    assert (flow["rows_read"], flow["rows_analysed"], flow["rows_quarantined"]) == (3, 1, 2)


def test_emails_alone_are_a_valid_input(codebook, tmp_path):
    mbox = write_mbox(tmp_path / "p.mbox", [mail_bytes("Vairāk soliņu.\n"), mail_bytes("Un koku.\n", sender="b@x.lv")])
    res = clean.run_clean(params_for([], [mbox]), run_dir=tmp_path / "run")
    assert len(res.responses) == 0 and len(res.proposals) == 2
    assert res.flow["source_file"].tolist() == ["p.mbox"]
    schemas.read_parquet(tmp_path / "run" / "data" / "responses.parquet", "responses", codebook)


def test_survey_proposals_only_from_analysed_rows_and_with_groups(codebook, tmp_path):
    rows = rows_lv(codebook, 6)
    for r in rows:
        r["proposal_housing"] = None
    rows[0]["proposal_housing"] = "Vairāk īres dzīvokļu, raksta anna@example.lv"
    rows[1]["proposal_other"] = "-"                       # no letter or digit: not a proposal
    rows[4]["proposal_housing"] = "Ātrs teksts"
    rows[4]["completion_time"] = rows[4]["start_time"] + dt.timedelta(seconds=5)
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p]), write=False)
    props = res.proposals
    housing = props[props["question"] == "proposal_housing"]
    assert housing["text"].tolist() == ["Vairāk īres dzīvokļu, raksta [E-PASTS]"]
    assert housing.iloc[0]["sector"] == "housing" and housing.iloc[0]["form_language"] == "lv"
    assert housing.iloc[0]["age_group"] == res.responses.iloc[0]["age_group"]
    assert not (props["text"] == "-").any()
    assert (props[props["question"] == "proposal_other"]["sector"].isna()).all()
    assert set(props["respondent_id"]) <= set(res.responses["respondent_id"])


# --- privacy, schemas, files ------------------------------------------------------------

def test_no_email_name_contact_or_raw_id_in_any_output(codebook, tmp_path):
    rows = rows_lv(codebook, 5)
    rows[0].update(email="ilze.kalnina@example.lv", respondent_name="Ilze Kalniņa", contact="ilze 29876543")
    rows[1].update(contact="Rakstiet: peteris@example.lv", respondent_name="Pēteris Ozols",
                   email="peteris@example.lv")
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows)
    res = clean.run_clean(params_for([p]), run_dir=tmp_path / "run")
    assert res.contact_count == 2 and res.responses["has_contact"].sum() == 2
    blob = b"".join(f.read_bytes() for f in res.files.values())
    for secret in ("ilze.kalnina", "Kalniņa", "29876543", "peteris@", "Ozols", "test-salt"):
        assert secret.encode() not in blob, secret
    assert not {"email", "respondent_name", "contact", "response_id"} & set(res.responses.columns)


def test_outputs_carry_schemas_and_read_back(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 6))
    res = clean.run_clean(params_for([p]), run_dir=tmp_path / "run")
    data = tmp_path / "run" / "data"
    r = schemas.read_parquet(data / "responses.parquet", "responses", codebook)
    assert len(r) == 6 and str(r["start_time"].dt.tz) == "Europe/Riga"
    assert isinstance(r["gender"].dtype, pd.CategoricalDtype)
    ratings = schemas.read_parquet(data / "ratings.parquet", "ratings", codebook)
    assert len(ratings) == 6 * len(codebook.likert_items)
    schemas.read_parquet(data / "proposals.parquet", "proposals", codebook)
    schemas.read_parquet(data / "quarantine.parquet", "quarantine")
    schemas.read_csv(data / "cleaning_log.csv", "cleaning_log")
    schemas.read_csv(tmp_path / "run" / "tables" / "flow.csv", "flow")
    assert set(res.files) == {"responses", "ratings", "proposals", "quarantine", "cleaning_log", "flow"}


def test_a_table_of_another_shape_is_refused_on_read(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 3))
    clean.run_clean(params_for([p]), run_dir=tmp_path / "run")
    path = tmp_path / "run" / "data" / "responses.parquet"
    df = schemas.read_parquet(path, "responses", codebook)
    df["email"] = "x@y.lv"
    with pytest.raises(schemas.SchemaError, match="extra column"):
        schemas.write_parquet(df, path, "responses", codebook)
    df.drop(columns="email").to_parquet(path)                 # written without the schema tag
    with pytest.raises(schemas.SchemaError, match="responses/v1"):
        schemas.read_parquet(path, "responses", codebook)
    bad = schemas.read_parquet(tmp_path / "run" / "data" / "ratings.parquet", "ratings", codebook)
    bad.loc[0, "score"] = 9
    with pytest.raises(schemas.SchemaError, match="score"):
        schemas.ratings_schema(codebook).validate(bad)


def test_same_inputs_give_byte_identical_outputs(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 8))
    mbox = write_mbox(tmp_path / "p.mbox", [mail_bytes()])
    a = clean.run_clean(params_for([p], [mbox]), run_dir=tmp_path / "a").files
    b = clean.run_clean(params_for([p], [mbox]), run_dir=tmp_path / "b").files
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes(), name


def test_pseudonyms_depend_on_the_salt(codebook, tmp_path, monkeypatch):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 2))
    a = clean.run_clean(params_for([p]), write=False).responses["respondent_id"].tolist()
    monkeypatch.setenv("ANALYSIS_SALT", "another-salt-0123456789")
    b = clean.run_clean(params_for([p]), write=False).responses["respondent_id"].tolist()
    assert a != b and all(x.startswith("R-") for x in a + b)


def test_background_redaction_in_child_processes_equals_redacting_here():
    from analysis import privacy

    texts = [f"Zvaniet Jānim Bērziņam {i}, tālr. 2912{i:04d}, vai rakstiet janis{i}@example.lv" for i in range(40)]
    redactor = clean.Redactor(privacy, workers=2)
    redactor.PARALLEL_FROM = 10
    redactor.start(texts)
    assert redactor._jobs                                   # handed to child processes
    got = [redactor.redact(t) for t in texts]
    assert got == [privacy.redact(t) for t in texts]
    assert not redactor._jobs and "janis3@example.lv" not in " ".join(got)


def test_flow_table_raises_when_counts_do_not_add_up(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 3))
    res = clean.run_clean(params_for([p]), write=False)
    broken = res.quarantine.iloc[:0]
    clean.check_flow(res.flow, res.responses, broken)          # nothing quarantined: still adds up
    with pytest.raises(clean.FlowError):
        clean.check_flow(res.flow, res.responses.iloc[1:], broken)


def test_notebook_helpers_summarise_the_result(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", rows=rows_lv(codebook, 5))
    res = clean.run_clean(params_for([p]), write=False)
    dd = clean.data_dictionary(res, codebook)
    assert {"mainīgais", "tips", "jautājums", "atbildējuši"} == set(dd.columns)
    assert "contact" not in set(dd["mainīgais"]) and "email" not in set(dd["mainīgais"])
    dk = clean.dont_know_shares(res, codebook)
    assert len(dk) == len(codebook.likert_items) and dk["share"].between(0, 1).all()
    src = clean.answers_by_source(res)
    assert src["atbildes"].sum() == 5
    # no mailbox among the inputs: one row per form language and no e-mail row of zeros
    assert len(src) == len(res.responses["form_language"].cat.categories)


# --- no row lost or duplicated, whatever the input (property-based) ---------------------

JUNK = st.sampled_from(["", "   ", "???", "18 - 24", "Ļoti nozīmīga", "Grūti pateikt", "Sieviete", "11", "-3",
                        "Latviešu;Klingonu;", "\x00", "2/30/22 25:61:00", "Cits"])


@st.composite
def messy_export(draw, cb):
    n = draw(st.integers(0, 14))
    rng = random.Random(draw(st.integers(0, 10**6)))
    rows = []
    for i in range(n):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "blank", "copy", "fast", "junk", "late", "noid", "baddate"]))
        row = answer(cb, "lv", i + 1, rng)
        if kind == "blank":
            row = {}
        elif kind == "copy" and rows:
            row = {**rows[-1], "response_id": draw(st.sampled_from([i + 1, rows[-1].get("response_id")]))}
        elif kind == "fast":
            row["completion_time"] = row["start_time"] + dt.timedelta(seconds=draw(st.integers(-60, 60)))
        elif kind == "junk":
            for var in draw(st.lists(st.sampled_from(list(cb.variables)), max_size=6)):
                row[var] = draw(JUNK)
        elif kind == "late":
            row["completion_time"] = dt.datetime(2022, 3, 1, 12, 0)
        elif kind == "noid":
            row["response_id"] = None
        elif kind == "baddate":
            row["start_time"] = "not a date"
        rows.append(row)
    return rows


CB = None


def _cb():
    global CB
    if CB is None:
        from analysis import codebook as codebook_mod
        from conftest import CODEBOOK
        CB = codebook_mod.load(CODEBOOK)
    return CB


# no shrinking: each example reads real files, and the first failing one is readable enough
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(data=st.data())
def test_no_row_is_lost_or_duplicated_whatever_the_input(data):
    codebook = _cb()
    policy = data.draw(st.sampled_from(["missing", "quarantine"]))
    rules = {name: {**spec, "action": data.draw(st.sampled_from(["exclude", "flag"]))}
             for name, spec in RULES.items() if data.draw(st.booleans())}
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        expected = set()
        for k in range(data.draw(st.integers(1, 2))):
            rows = data.draw(messy_export(codebook))
            n_rows = len(rows)
            if data.draw(st.booleans()):
                path = write_csv(Path(tmp) / f"f{k}.csv", export_frame(codebook, "lv", rows))
            else:
                path = write_xlsx(Path(tmp) / f"f{k}.xlsx", export_frame(codebook, "lv", rows))
                while n_rows and all(v is None for v in rows[n_rows - 1].values()):
                    n_rows -= 1             # a sheet has no trailing empty rows: they are not in the file
            files.append(path)
            expected |= {(path.name, r + 2) for r in range(n_rows)}
        try:
            res = clean.run_clean(params_for(files, unknown_label=policy, rules=rules), write=False)
        except InputError as exc:
            # a date column with no readable value at all stops the run: said, not lost
            assert {p.code for p in exc.problems} == {"unparseable_date"}, str(exc)
            return
    analysed, quarantined = where(res), where(res, "quarantine")
    assert len(analysed) == len(res.responses) and len(quarantined) == len(res.quarantine)  # no duplicates
    assert analysed.isdisjoint(quarantined)
    assert analysed | quarantined == expected                                                 # nothing lost
    assert res.flow["balanced"].all()
    assert res.responses["respondent_id"].is_unique
    assert (res.quarantine["reasons"].str.len() > 0).all()


# --- the synthetic sample: every planted problem is found ---------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.mark.skipif(not (SAMPLE / "truth.json").exists(), reason="synthetic sample not generated")
def test_sample_planted_problems_are_found(codebook, tmp_path):
    import json

    from analysis import paths

    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    params = paths.load_params("params/liepaja-2022.yaml")
    res = clean.run_clean(params, write=False)
    q = {(f, int(r)): reasons for f, r, reasons in zip(res.quarantine["source_file"], res.quarantine["source_row"],
                                                       res.quarantine["reasons"])}
    quality = truth["quality"]
    for reason, planted in (("duplicate", quality["duplicate"]), ("speeder", quality["speeder"]),
                            ("outside_window", quality["late"]), ("empty", quality["empty"])):
        for item in planted:
            assert reason in q.get((item["file"], item["row"]), ""), (reason, item)
    flagged = res.responses.set_index(["source_file", "source_row"])["flag_straightliner"]
    assert all(flagged.get((i["file"], i["row"]), False) for i in quality["straightliner"])
    cells = res.cleaning_log[res.cleaning_log["entry"] == "cell"]
    ids = res.responses.set_index(["source_file", "source_row"])["respondent_id"]
    for item in quality["unknown_label"]:                  # set to missing, logged per cell
        rid = ids[(item["file"], item["row"])]
        assert ((cells["respondent_id"] == rid) & (cells["variable"] == item["variable"])).any(), item
    for item in quality["alias_label"]:                    # explicit aliases in the codebook: recoded
        assert res.responses.set_index(["source_file", "source_row"]).loc[(item["file"], item["row"]), item["variable"]] == item["code"]
    for item in quality.get("boundary_not_late", []):
        assert (item["file"], item["row"]) not in q
    assert len(res.responses) + len(q) - int((res.quarantine["source_file"] == "proposals.mbox").sum()) == truth["counts"]["rows"]
    # no e-mail, name or contact value of the sample in any output table
    blob = " ".join(str(v) for df in (res.responses, res.proposals, res.quarantine, res.cleaning_log)
                    for v in df.astype(str).to_numpy().ravel())
    for item in truth["pii_meta"]:
        assert item["email"] not in blob and item["name"] not in blob
    for item in truth["pii"]:                             # planted in texts and the contact question
        assert item["value"] not in blob, item
    for message in truth["emails"]["messages"]:
        for item in message["pii"]:
            assert item["value"] not in blob, item


# --- a survey unlike the sample (issue 9): one language, 0-10 slider, no times, no e-mail ----

TOY_HEADERS = ["ID", "Vanus", "Huvid: Sport", "Huvid: Muusika", "Pargid on puhtad", "Parkides on liiga vähe pinke",
               "Teede remont", "Rattateed", "Muu", "Muu: mis?", "Kommentaar"]


def toy_run(tmp_path, rows, raw=None, rules=None, write=True):
    """Stage 01 on an .xlsx of the toy codebook (tests/test_codebook.py) with these rows."""
    import openpyxl
    from test_codebook import toy_raw

    cb_path = tmp_path / "toy.yaml"
    cb_path.write_text(yaml.safe_dump(raw or toy_raw(), allow_unicode=True), encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(TOY_HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(tmp_path / "toy_et.xlsx")
    params = {"survey": "toy-2024", "codebook": str(cb_path), "inputs": {"forms": [str(tmp_path / "toy_et.xlsx")]},
              "unknown_label": "missing", "quality_rules": rules if rules is not None else RULES}
    return clean.run_clean(params, run_dir=tmp_path / "run" if write else "", write=write)


def _toy_row(i, age="Alla 40", sport="1", music=None, a1="Nõus", a2="Vastu", s1=7, s2=3, s_other=None,
             other_text=None, comment=None):
    return [i, age, sport, music, a1, a2, s1, s2, s_other, other_text, comment]


def test_a_survey_without_time_stamps_or_email_runs_and_says_which_rules_are_off(tmp_path):
    res = toy_run(tmp_path, [_toy_row(i) for i in range(1, 6)] + [_toy_row(9, comment="x", s1=1)])
    rules = res.rules.set_index("rule")
    assert rules.loc["speeder", "action"] == "switched off"
    assert "no start and completion time" in rules.loc["speeder", "parameters"]
    assert rules.loc["outside_window", "action"] == "switched off"
    assert "e-mail=no e-mail column" in rules.loc["duplicate", "parameters"]
    assert list(res.flow["form_language"].astype(str)) == ["et"]
    assert res.responses["start_time"].isna().all() and str(res.responses["start_time"].dt.tz) == "Europe/Tallinn"
    log = res.cleaning_log
    assert (log.loc[log["entry"] == "rule"].set_index("rule").loc["speeder", "action"]) == "switched off"


def test_missing_value_codes_multi_columns_and_slider_scores(tmp_path):
    rows = [_toy_row(1, sport="1", music="x", s1=10, s2=0),
            _toy_row(2, sport=None, music=None, a1="NA", s1="-1", s2="NA"),
            _toy_row(3, sport=None, music="1", s1="7")]
    r = toy_run(tmp_path, rows, rules={}).responses.set_index("source_row")
    sport = r["hobbies__sport"]
    assert bool(sport.loc[2]) and pd.isna(sport.loc[3]) and not bool(sport.loc[4])   # no tick at all: NA
    assert bool(r.loc[2, "hobbies__music"]) and pd.isna(r.loc[3, "hobbies__music"])
    assert r.loc[2, "s1"] == 10 and r.loc[2, "s2"] == 0 and r.loc[4, "s1"] == 7
    assert pd.isna(r.loc[3, "s1"]) and pd.isna(r.loc[3, "s2"]) and pd.isna(r.loc[3, "a1"])   # NA, -1: no answer
    assert r.loc[2, "a1"] == 6 and r.loc[2, "a2"] == 2      # scores as answered; reversal is stage 02's index


def test_labels_typed_with_other_capitals_or_spaces_are_matched_and_logged(tmp_path):
    res = toy_run(tmp_path, [_toy_row(1, a1="  nõus "), _toy_row(2, a1="NÕUS", age="alla  40")], rules={})
    assert list(res.responses["a1"]) == [6, 6] and list(res.responses["age"].astype(str)) == ["young", "young"]
    cells = res.cleaning_log.loc[res.cleaning_log["action"] == "label_matched_ignoring_case_and_spaces"]
    assert sorted(cells["variable"].astype(str)) == ["a1", "a1", "age"]
    assert any(p.code == "label_matched_ignoring_case_and_spaces" for p in res.problems)


def test_other_row_ratings_without_an_other_text_are_set_aside(tmp_path):
    res = toy_run(tmp_path, [_toy_row(1, s_other=9, other_text="Sillad"), _toy_row(2, s_other=9)], rules={})
    r = res.responses.set_index("source_row")
    assert r.loc[2, "s_other"] == 9 and pd.isna(r.loc[3, "s_other"])
    log = res.cleaning_log
    assert len(log.loc[log["action"] == "other_rating_without_text_set_missing"]) == 1


def test_straightliners_on_a_0_to_10_scale_are_found(tmp_path):
    rules = {"straightliner": {"action": "flag", "min_share_same": 0.95, "min_rated": 4}}
    rows = [_toy_row(1, a1="Vastu", a2="Nõus", s1=2, s2=5, s_other=9, other_text="x"),      # varied
            _toy_row(2, a1="Nõus", a2="Nõus", s1=6, s2=6, s_other=6, other_text="x"),       # agree 6 = slider 6
            _toy_row(3, a1="Täiesti vastu", a2="Täiesti vastu", s1=0, s2=0, s_other=0, other_text="x")]   # 1,1,0,0,0
    r = toy_run(tmp_path, rows, rules=rules).responses.set_index("source_row")
    assert list(r["flag_straightliner"]) == [False, True, False]
    rows[2] = _toy_row(3, a1="Täiesti vastu", a2="Täiesti vastu", s1=1, s2=1, s_other=1, other_text="x")  # all 1
    assert list(toy_run(tmp_path, rows, rules=rules).responses["flag_straightliner"]) == [False, True, True]


def test_duplicates_and_emptiness_are_judged_on_every_column_of_the_export(tmp_path):
    rules = {"duplicate": {"action": "exclude"}, "empty": {"action": "exclude"}}
    empty = [5, None, None, None, None, None, None, None, None, None, None]
    rows = [_toy_row(1, comment="a"), _toy_row(2, comment="b"),       # differ only in an unmapped column
            _toy_row(3, comment="a"),                                 # identical to the first in every column
            empty[:10] + ["Tikai komentārs"], [6] + empty[1:]]        # answered only an unmapped column; empty
    res = toy_run(tmp_path, rows, rules=rules)
    q = res.quarantine.set_index("source_row")["reasons"].astype(str).to_dict()
    assert q == {4: "duplicate", 6: "empty"}


def test_a_unique_respondent_id_is_respected(tmp_path):
    from test_codebook import toy_raw

    raw = toy_raw()
    raw["variables"].insert(1, {"name": "panel", "type": "meta", "role": "respondent", "pii": True,
                                "header": {"et": "Kommentaar"}})
    rules = {"duplicate": {"action": "exclude"}}
    res = toy_run(tmp_path, [_toy_row(1, comment="P1"), _toy_row(2, comment="P2"), _toy_row(3, comment="P1", s1=1)],
                  raw=raw, rules=rules)
    q = res.quarantine.set_index("source_row")["details"].astype(str).to_dict()
    assert list(q) == [4] and "same respondent id" in q[4]       # identical answers, other ids: kept


def test_a_survey_without_open_questions_runs(tmp_path):
    from test_codebook import toy_raw

    raw = toy_raw()
    raw["variables"] = [v for v in raw["variables"] if v["type"] != "text" and v["name"] != "s_other"]
    raw["sectors"][1]["items"] = ["s1", "s2"]
    res = toy_run(tmp_path, [_toy_row(i) for i in range(1, 4)], raw=raw, rules={})
    assert len(res.responses) == 3 and len(res.proposals) == 0


def test_methods_text_says_what_was_applied_and_what_was_switched_off(tmp_path):
    from analysis import codebook as cbmod

    rules = {**RULES, "straightliner": {"action": "flag", "min_share_same": 0.95, "min_rated": 4}}
    rules.pop("empty")
    res = toy_run(tmp_path, [_toy_row(i) for i in range(1, 5)], rules=rules)
    cb = cbmod.load(tmp_path / "toy.yaml")
    lv = "\n".join(clean.methods_text(res, cb, "lv"))
    en = "\n".join(clean.methods_text(res, cb, "en"))
    assert ("The rule “Completed too fast (compared with the median)” was not applied: the export has no start "
            "and completion time.") in en
    assert "The rule “Outside the consultation period” was not applied: the export has no time stamp." in en
    assert "Responses completed too fast" not in en and "Submitted outside" not in en
    assert "Straight-lining (flagged)" in en and "or the same e-mail address" not in en
    assert "Rules not applied because the params do not list them: Empty response." in en
    assert "form languages: Estonian" in en and "Europe/Tallinn" in en and "“NA”, “-1”" in en
    assert "nav lietots: eksportā nav sākuma un beigu laika" in lv and "Tukša anketa" in lv
    # every table notebook 01 shows works for a survey like this one
    for table in (clean.flow_summary(res), clean.rule_summary(res), clean.quarantine_reasons(res),
                  clean.problem_summary(res), clean.data_dictionary(res, cb, "lv"), clean.answers_by_source(res),
                  clean.dont_know_shares(res, cb, "lv")):
        assert table is not None
    kinds = clean.data_dictionary(res, cb, "lv").set_index("mainīgais")["tips"]
    assert kinds["s1"] == "skala 0–10" and kinds["a2"] == "skala 1–7 (apgriezta)"


def test_stage01_takes_the_run_checks_reading_of_the_same_inputs(tmp_path, monkeypatch):
    """Issue 15: inside a run the input check leaves its reading of the exports in the run's
    private input snapshot, and stage 01 takes it instead of reading every workbook and mailbox
    again: the same tables as a fresh read, the file used once; other params read afresh."""
    from analysis import checks, ingest, paths

    root = Path(__file__).resolve().parents[1]
    params = paths.load_params(root / "params" / "liepaja-2022.yaml")
    monkeypatch.setenv("ANALYSIS_SALT", "a-fixed-salt-for-this-test-0123")
    fresh = clean.run_clean(params, run_dir=tmp_path / "fresh", write=False)

    snap = tmp_path / "snapshot"
    snap.mkdir()
    monkeypatch.setenv(paths.SNAPSHOT_ENV, str(snap))
    problems = checks.check_inputs(params, keep=True)
    assert not [p for p in problems if p.severity == "error"]
    assert (snap / clean.PREPARED_FILE).is_file()

    reading = {"allowed": False}
    real = {"read_forms": clean.read_forms, "read_mail": clean.read_mail}

    def guarded(name):
        def read(*a, **k):
            if not reading["allowed"]:
                raise AssertionError("stage 01 read an export the check had read")
            return real[name](*a, **k)
        return read

    monkeypatch.setattr(clean, "read_forms", guarded("read_forms"))
    monkeypatch.setattr(clean, "read_mail", guarded("read_mail"))
    stage01 = {k: params[k] for k in ("survey", "codebook", "inputs", "unknown_label", "salt_env",
                                      "quality_rules") if k in params}
    taken = clean.run_clean(stage01, run_dir=tmp_path / "taken", write=False)
    assert not (snap / clean.PREPARED_FILE).exists()          # used once
    pd.testing.assert_frame_equal(taken.responses, fresh.responses)
    pd.testing.assert_frame_equal(taken.proposals, fresh.proposals)
    pd.testing.assert_frame_equal(taken.quarantine, fresh.quarantine)
    pd.testing.assert_frame_equal(taken.cleaning_log, fresh.cleaning_log)
    pd.testing.assert_frame_equal(taken.flow, fresh.flow)
    pd.testing.assert_frame_equal(taken.ratings, fresh.ratings)
    assert [str(p) for p in taken.problems] == [str(p) for p in fresh.problems]

    # another reading of the params (here: what an unknown label does) is never taken
    reading["allowed"] = True
    checks.check_inputs(params, keep=True)
    reading["allowed"] = False
    assert (snap / clean.PREPARED_FILE).is_file()
    other = dict(stage01, max_text_chars=int(stage01.get("max_text_chars", 10000)) + 1)
    with pytest.raises(AssertionError, match="read an export"):
        clean.run_clean(other, run_dir=tmp_path / "other", write=False)
    assert ingest.read_forms is real["read_forms"]       # only clean's own name was replaced

    # the check also redacts the free texts meanwhile (in the redactor's child processes, here
    # from the first text on) and stage 01 takes the redactions: equal to redacting there
    import pickle

    from analysis import privacy

    (snap / clean.PREPARED_FILE).unlink(missing_ok=True)
    monkeypatch.setattr(clean.Redactor, "PARALLEL_FROM", 1)
    reading["allowed"] = True
    checks.check_inputs(params, keep=True)
    reading["allowed"] = False
    with open(snap / clean.PREPARED_FILE, "rb") as f:
        _, kept = pickle.load(f)
    open_questions = {v.name for v in kept.cb.of_type("text") if not v.pii}
    form_texts = {t for rec in kept.recoded for name, col in rec.texts.items() if name in open_questions
                  for t in col if isinstance(t, str)}
    assert len(form_texts) > 100 and form_texts <= set(kept.redacted)
    assert all(kept.redacted[t] == privacy.redact(t) for t in sorted(form_texts)[:300])
    assert sum(kept.redacted[t] != t for t in form_texts) > 0          # some personal data was in them
    calls = []
    real_redact = privacy.redact
    monkeypatch.setattr(privacy, "redact", lambda t: calls.append(t) or real_redact(t))
    again = clean.run_clean(stage01, run_dir=tmp_path / "again", write=False)
    assert not form_texts & set(calls)                   # none redacted a second time
    pd.testing.assert_frame_equal(again.proposals, fresh.proposals)
    pd.testing.assert_frame_equal(again.responses, fresh.responses)


def test_mailboxes_parsed_by_a_child_process_equal_reading_them_here(tmp_path, monkeypatch):
    """Issue 15: a big mailbox is parsed by a child interpreter while the workbooks are read;
    the messages, problems and files are those of reading it in this process, and a file that
    is not a mailbox gives the same error. Forced here on small files (threshold 0)."""
    from analysis import paths

    root = Path(__file__).resolve().parents[1]
    params = paths.load_params(root / "params" / "liepaja-2022.yaml")
    bad = tmp_path / "not_mail.mbox"
    bad.write_text("this is no mailbox\n", encoding="utf-8")
    for p in (params, dict(params, inputs=dict(params["inputs"], email=[*params["inputs"]["email"], str(bad)]))):
        here = clean.prepare(p)
        monkeypatch.setattr(clean, "MAIL_CHILD_FROM", 0)
        started = []
        real_start = clean._start_mail_child

        def start(*a):
            proc = real_start(*a)
            started.append(proc is not None)
            return proc

        monkeypatch.setattr(clean, "_start_mail_child", start)
        there = clean.prepare(p)
        monkeypatch.undo()
        assert started == [True] and there.mail and len(there.mail) == len(here.mail)
        for a, b in zip(there.mail, here.mail):
            assert a.messages == b.messages and a.source_file == b.source_file
        assert [str(x) for x in there.problems] == [str(x) for x in here.problems]
        assert there.files == here.files
    assert any("not an mbox" in str(x) for x in here.problems)
