"""draft-codebook: a first codebook from a raw export, with every human decision left TODO."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from analysis import codebook as cbmod
from analysis import draft_codebook as dc

ROOT = Path(__file__).resolve().parents[1]
SECOND_EXPORT = ROOT / "data" / "naidislinn-2024" / "naidislinn_2024_export.csv"
SAMPLE_LV = ROOT / "data" / "sample" / "forms_lv.xlsx"


def _count_todo(x) -> int:
    if isinstance(x, dict):
        return sum(_count_todo(v) for v in x.values())
    if isinstance(x, list):
        return sum(_count_todo(v) for v in x)
    return int(x == "TODO")


@pytest.fixture(scope="module")
def second_draft():
    text, summary = dc.draft(SECOND_EXPORT)
    return text, yaml.safe_load(text), summary


def test_second_export_draft_recognises_every_column(second_draft):
    text, d, summary = second_draft
    assert d["languages"] == ["et"] and summary["language_confidence"] > 0.9
    assert d["formats"]["missing_values"] == ["", "-1", "NA"]
    assert d["formats"]["encoding"] == "utf-8"
    assert "consultation_window" not in d                               # no time columns in the export
    kinds = {v["name"]: v["type"] for v in d["variables"]}
    assert list(kinds.values()).count("meta") == 1 and d["variables"][0]["role"] == "id"
    assert list(kinds.values()).count("single") == 3 and list(kinds.values()).count("likert") == 15
    (multi,) = [v for v in d["variables"] if v["type"] == "multi"]
    assert multi["layout"] == "columns" and [o["label"]["et"] for o in multi["options"]] == \
        ["Raamatukogu", "Spordikeskus", "Noortekeskus", "Kultuurimaja", "Sotsiaalabi"]
    assert all(o["header"]["et"].startswith("Viimase aasta jooksul kasutatud linna teenused: ") for o in multi["options"])
    (text_var,) = [v for v in d["variables"] if v["type"] == "text"]
    assert text_var["header"]["et"] == "Mida peaks linn teie arvates esimesena parandama?"
    (scale,) = d["scales"].values()
    assert scale["type"] == "numeric" and scale["range"] == [0, 10] and scale["dont_know"] is None
    age = next(v for v in d["variables"] if v["header"]["et"] == "Teie vanus")
    assert [o["label"]["et"] for o in age["options"]] == ["18–29", "30–44", "45–64", "65 või vanem"]
    assert [o["code"] for o in age["options"]][:3] == ["18_29", "30_44", "45_64"]   # strings, not 1829


def test_every_decision_is_todo_and_the_loader_refuses_it(second_draft, tmp_path):
    text, d, summary = second_draft
    (scale,) = d["scales"].values()
    assert scale["favourable"] == "TODO" and scale["meaning"] == "TODO"
    likert = [v for v in d["variables"] if v["type"] == "likert"]
    assert all(v["sector"] == "TODO" and v["reverse"] == "TODO" for v in likert)
    assert all(v["grouping"] == "TODO" for v in d["variables"] if v["type"] in ("single", "multi"))
    assert {k: v for k, v in d["roles"].items() if k != "form_language"} == {k: "TODO" for k in cbmod.ROLES
                                                                               if k != "form_language"}
    assert d["title"] == {"en": "TODO"} and d["sectors"][0]["code"] == "TODO"
    assert summary["todo"] == _count_todo(d) == 1 + 2 + 2 * 15 + 4 + 10 + 2   # title, scale, items, groupings, roles, sector
    p = tmp_path / "draft.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(cbmod.CodebookError, match=r"title\.en: still TODO"):
        cbmod.load(p)
    # decisions made one by one: the loader names the next open one each time
    d["title"] = {"en": "A title"}
    p.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(cbmod.CodebookError, match=r"scales\.scale_1\.favourable: still TODO"):
        cbmod.load(p)


def test_filled_draft_loads_and_matches_the_export(second_draft, tmp_path):
    """Filling the TODOs (and nothing else) gives a codebook that maps every column."""
    import csv

    text, d, _ = second_draft
    d["title"] = {"en": "Test"}
    for s in d["scales"].values():
        s["favourable"], s["meaning"] = [7, 8, 9, 10], "agreement"
    d["roles"] = {"grouping": "teie_eluase_on"}
    for v in d["variables"]:
        if v["type"] == "likert":
            v["sector"], v["reverse"] = "all", False
        if "grouping" in v:
            v["grouping"] = True
    d["sectors"][0]["code"], d["sectors"][0]["title"] = "all", {"en": "All"}
    p = tmp_path / "filled.yaml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    cb = cbmod.load(p)
    header = next(csv.reader(SECOND_EXPORT.read_text(encoding="utf-8").splitlines()))
    m = cb.match_headers(header)
    assert m["score"] == 1.0 and m["unexpected"] == [] and m["missing"] == []
    assert cb.missing_values == ("", "-1", "NA")
    assert cb.scales["scale_1"].points == list(range(11))


def test_sample_export_draft_meta_grid_dont_know_and_joined_multis():
    text, summary = dc.draft(SAMPLE_LV)
    d = yaml.safe_load(text)
    assert d["languages"] == ["lv"]
    roles = {v["role"] for v in d["variables"] if v["type"] == "meta"}
    assert roles == {"id", "start_time", "completion_time", "email", "name", "last_modified"}
    assert set(d["consultation_window"].values()) == {"TODO"}
    labelled = [s for s in d["scales"].values() if s["type"] == "likert"]
    (grid,) = labelled
    labels = {p["label"]["lv"] for p in grid["points"]}
    assert {"Ļoti nozīmīga", "Drīzāk nozīmīga", "Ne nozīmīga, ne nenozīmīga", "Drīzāk nenozīmīga",
            "Pilnīgi nenozīmīga"} <= labels                              # (plus the planted typo as a point)
    assert grid["dont_know"] == {"lv": "Grūti pateikt"}
    items = [v for v in d["variables"] if v["type"] == "likert"]
    assert len(items) == 32
    multis = {v["header"]["lv"]: v for v in d["variables"] if v["type"] == "multi"}
    lang = multis["Kādā valodā jums ērtāk saņemt informāciju par pilsētu?"]
    assert {o["label"]["lv"] for o in lang["options"]} >= {"Latviešu", "Krievu", "Angļu"}
    ratings = [v for v in d["variables"] if v["type"] == "rating"]
    assert sorted(tuple(v["range"]) for v in ratings) == [(0, 10), (1, 10)]
    contact = [v for v in d["variables"] if v.get("pii")]
    assert any("e-pastu vai tālruni" in v["header"]["lv"] for v in contact)
    age = next(v for v in d["variables"] if v["header"]["lv"] == "Jūsu vecums")
    opt = next(o for o in age["options"] if o["label"]["lv"] == "35–44")
    assert opt["aliases"] == ["35-44"]                                  # a hyphen for the dash: an alias
    assert "rare (x1): a typo or a write-in?" in text


def test_case_and_space_variants_make_one_scale_and_localised_meta(tmp_path):
    import csv

    rows = [["Id", "Algusaeg", "Lõpuaeg", "Nimi", "Q1", "Q2", "Q3", "Huvid: Sport", "Huvid: Muusika", "Keeled",
             "Kommentaar"]]
    answers = ["Agree", "agree ", "Disagree", "Strongly agree", "Don't know", "AGREE", "Strongly disagree"]
    for i in range(1, 41):
        text = f"Pikem vastus number {i}, mis on kindlasti pikem kui nelikümmend märki ja erinev."
        rows.append([str(i), f"01.03.2024 10:{i:02d}", f"01.03.2024 11:{i:02d}", "",
                     answers[i % 7], answers[(i + 2) % 7], answers[(i + 4) % 7], "1" if i % 2 else "",
                     "1" if i % 3 else "", "eesti;inglise;" if i % 2 else "vene;", text])
    p = tmp_path / "uuring.csv"
    with p.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    text, summary = dc.draft(p)
    d = yaml.safe_load(text)
    assert {v["role"] for v in d["variables"] if v["type"] == "meta"} == {"id", "start_time", "completion_time", "name"}
    assert d["formats"]["date_formats"] == ["%d.%m.%Y %H:%M"] and d["formats"]["multi_separator"] == ";"
    (scale,) = d["scales"].values()
    assert len(scale["points"]) == 4 and scale["dont_know"] == {d["languages"][0]: "Don't know"}
    assert re.search(r"typed in more than one way", text)
    kinds = {v["header"][d["languages"][0]]: v["type"] for v in d["variables"] if "header" in v}
    assert kinds["Keeled"] == "multi" and kinds["Kommentaar"] == "text"
    cols = [v for v in d["variables"] if v.get("layout") == "columns"]
    assert [o["label"][d["languages"][0]] for o in cols[0]["options"]] == ["Sport", "Muusika"]


def test_command_line(tmp_path, capsys):
    from analysis.__main__ import main

    out = tmp_path / "draft.yaml"
    assert main(["draft-codebook", str(SECOND_EXPORT), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# Draft codebook")
    assert "TODO decisions left" in capsys.readouterr().err
    assert main(["draft-codebook", str(SECOND_EXPORT), "--out", str(out)]) == 2     # never overwrites
    assert "exists" in capsys.readouterr().err
    assert main(["draft-codebook", str(tmp_path / "nope.csv")]) == 2
    assert "not found" in capsys.readouterr().err


def test_check_refuses_a_params_file_whose_codebook_is_still_a_draft(tmp_path, capsys):
    from analysis.__main__ import main

    draft = tmp_path / "draft.yaml"
    assert main(["draft-codebook", str(SECOND_EXPORT), "--out", str(draft)]) == 0
    params = (ROOT / "params" / "naidislinn-2024.yaml").read_text(encoding="utf-8")
    p = tmp_path / "params.yaml"
    p.write_text(params.replace("params/codebooks/naidislinn-2024.yaml", str(draft)), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(p)]) == 2
    said = capsys.readouterr()
    assert "title.en: still TODO" in said.out + said.err
