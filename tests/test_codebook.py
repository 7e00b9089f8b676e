"""The codebook describes the questionnaire exactly, and a broken codebook says where."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from analysis import codebook as cbmod
from analysis.codebook import CodebookError, UnknownLabel

INSTRUMENT = Path(__file__).resolve().parents[2] / "shared" / "instrument" / "liepaja-2022.md"


def instrument_text() -> str:
    if not INSTRUMENT.exists():
        pytest.skip(f"the instrument is not beside the project ({INSTRUMENT})")
    return INSTRUMENT.read_text(encoding="utf-8")


def test_sample_codebook_has_every_question_of_the_form(codebook):
    assert len(codebook.likert_items) == 32
    assert list(codebook.sectors) == ["housing", "mobility", "urban", "education", "business",
                                      "culture", "participation", "newcomers"]
    for sector in codebook.sectors.values():
        assert len(sector.items) == 4
        assert codebook.variables[sector.proposal].type == "text"
    assert codebook.groupings == ["target_group", "district", "years_in_city", "age_group", "gender",
                                  "education", "occupation", "children", "info_language"]
    assert set(codebook.pii_variables) == {"email", "respondent_name", "contact"}


def test_latvian_headers_and_labels_match_the_instrument_verbatim(codebook):
    text = instrument_text()
    for v in codebook.variables.values():
        if v.type == "meta":
            continue
        header = v.headers["lv"]
        if v.type == "text" and v.sector:
            # "Jūsu priekšlikumi: <sector title>" is given as a pattern in the instrument
            assert header == f"Jūsu priekšlikumi: {codebook.sector_title(v.sector)}"
            assert f"`{codebook.sector_title(v.sector)}`" in text
        else:
            assert f"| {header} |" in text or f"`{header}`" in text, header
        for opt in v.options:
            assert f"`{opt.labels['lv']}`" in text, (v.name, opt.labels["lv"])
    for label in codebook.scales["importance"].scores["lv"]:
        assert f"`{label}`" in text
    assert f"`{codebook.scales['importance'].dont_know['lv']}`" in text


def test_every_likert_statement_of_the_instrument_is_in_the_codebook(codebook):
    text = instrument_text()
    statements = re.findall(r"^\s+- (\w+_\d) `([^`]+)`", text, re.M)
    assert len(statements) == 32
    for name, header in statements:
        assert codebook.variables[name].headers["lv"] == header


def test_russian_form_maps_onto_the_same_variables(codebook):
    ru_headers = [v.headers["ru"] for v in codebook.variables.values()]
    match = codebook.match_headers(ru_headers)
    assert match["language"] == "ru" and match["missing"] == [] and match["unexpected"] == []
    assert codebook.code_of("target_group", "Живу в Лиепае", "ru") == "resident"
    assert codebook.code_of("housing_1", "Скорее важно", "ru") == 4
    # Russian labels are Cyrillic (a translation, not a copy of the Latvian)
    for v in codebook.of_type("single", "multi"):
        for o in v.options:
            if not re.fullmatch(r"[\d–\- ]+", o.labels["lv"]):
                assert re.search("[а-яё]", o.labels["ru"], re.I), (v.name, o.code)


def test_headers_match_after_nfc_and_trimming_in_any_column_order(codebook):
    import unicodedata

    headers = [v.headers["lv"] for v in codebook.variables.values()][::-1]
    decomposed = [" " + unicodedata.normalize("NFD", h) + "\t" for h in headers]
    match = codebook.match_headers(decomposed)
    assert match["language"] == "lv" and not match["missing"] and not match["unexpected"]


def test_localised_fixed_headers_are_accepted_through_aliases(codebook):
    headers = [v.headers["lv"] for v in codebook.variables.values() if v.type != "meta"]
    spanish = ["Id", "Hora de inicio", "Hora de finalización", "Correo electrónico", "Nombre"]
    match = codebook.match_headers(spanish + headers)
    assert match["missing"] == []
    assert match["mapping"]["Hora de inicio"] == "start_time"
    assert "last_modified" in match["missing_optional"]


def test_hyphen_in_age_label_maps_explicitly_but_unknown_labels_raise(codebook):
    assert codebook.code_of("age_group", "25-34", "lv") == "25_34"      # alias in the codebook
    assert codebook.code_of("age_group", "25–34", "lv") == "25_34"      # en dash, as on the form
    with pytest.raises(UnknownLabel, match="Dzīvoju Liepaja"):
        codebook.code_of("target_group", "Dzīvoju Liepaja", "lv")
    with pytest.raises(UnknownLabel):
        codebook.code_of("housing_1", "Ļoti svarīga", "lv")


def test_labels_round_trip_in_report_languages(codebook):
    assert codebook.label_of("gender", "female", "lv") == "Sieviete"
    assert codebook.label_of("gender", "female", "en") == "Woman"
    assert codebook.label_of("age_group", "65plus", "lv") == "65 un vairāk"
    assert codebook.label_of("housing_1", 5, "lv") == "Ļoti nozīmīga"
    assert codebook.variable_label("housing_1", "lv").startswith("Vienota tīmekļa vietne")


def _write(tmp_path, raw) -> Path:
    p = tmp_path / "broken.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


@pytest.fixture()
def raw(root):
    return yaml.safe_load((root / "params/codebooks/liepaja-2022.yaml").read_text(encoding="utf-8"))


def _find(raw, name):
    return next(v for v in raw["variables"] if v["name"] == name)


def test_broken_codebook_duplicate_header_names_the_variable(tmp_path, raw):
    _find(raw, "district")["header"]["lv"] = _find(raw, "target_group")["header"]["lv"]
    with pytest.raises(CodebookError, match=r"broken\.yaml: variable district: duplicate header"):
        cbmod.load(_write(tmp_path, raw))


def test_broken_codebook_unknown_type(tmp_path, raw):
    _find(raw, "gender")["type"] = "singel"
    with pytest.raises(CodebookError, match=r"variables\[\d+\] \(gender\): unknown type 'singel'"):
        cbmod.load(_write(tmp_path, raw))


def test_broken_codebook_likert_item_without_sector(tmp_path, raw):
    del _find(raw, "urban_2")["sector"]
    with pytest.raises(CodebookError, match=r"\(urban_2\): a Likert item needs a sector"):
        cbmod.load(_write(tmp_path, raw))


def test_broken_codebook_sector_lists_a_non_likert_item(tmp_path, raw):
    raw["sectors"][0]["items"][0] = "gender"
    with pytest.raises(CodebookError, match=r"sectors\[0\] \(housing\): item 'gender' is not a Likert"):
        cbmod.load(_write(tmp_path, raw))


def test_broken_codebook_missing_translation_and_ambiguous_label(tmp_path, raw):
    raw2 = yaml.safe_load(yaml.safe_dump(raw))
    del _find(raw, "children")["options"][0]["label"]["ru"]
    with pytest.raises(CodebookError, match="option 'yes' has no ru label"):
        cbmod.load(_write(tmp_path, raw))
    _find(raw2, "children")["options"][1]["aliases"] = ["Jā"]
    with pytest.raises(CodebookError, match="maps to both"):
        cbmod.load(_write(tmp_path, raw2))


def test_broken_codebook_not_yaml_and_missing_file(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("variables: [\n", encoding="utf-8")
    with pytest.raises(CodebookError, match="not valid YAML"):
        cbmod.load(p)
    with pytest.raises(CodebookError, match="not found"):
        cbmod.load(tmp_path / "nope.yaml")


def test_no_latvian_label_is_hard_coded_outside_the_codebook(root, codebook):
    """The codebook is the single place where labels are known (a few probes)."""
    probes = ["Dzīvoju Liepājā", "Ļoti nozīmīga", "Grūti pateikt", "Nedzīvoju Liepājā"]
    for path in (root / "src" / "analysis").rglob("*.py"):
        if path.name == "synth.py":   # the generator writes exports, so it reads labels too
            continue
        text = path.read_text(encoding="utf-8")
        for probe in probes:
            assert probe not in text, f"{path.name} hard-codes the label {probe!r}"


# --- any survey: scales, languages, formats from the codebook (issue 9) ------------------

def toy_raw() -> dict:
    """A survey unlike the sample: one form language (Estonian), a 0-10 slider without labels in
    between and without "don't know", a 1-7 agreement scale with a reversed statement, a
    multi-select exported one column per option, no e-mail, no time stamps, missing-value codes."""
    agree = [{"score": s, "label": {"et": lab, "en": en}} for s, lab, en in [
        (1, "Täiesti vastu", "Strongly disagree"), (2, "Vastu", "Disagree"), (3, "Pigem vastu", "Rather disagree"),
        (4, "Ei oska öelda poolt ega vastu", "Neither"), (5, "Pigem nõus", "Rather agree"), (6, "Nõus", "Agree"),
        (7, "Täiesti nõus", "Strongly agree")]]
    return {
        "survey": "toy-2024", "languages": ["et"],
        "title": {"et": "Proovküsitlus", "en": "Toy survey"},
        "consultation_window": {"start": "2024-03-01T00:00:00", "end": "2024-03-31T23:59:59",
                                "timezone": "Europe/Tallinn"},
        "formats": {"missing_values": ["NA", "-1"], "date_formats": ["%d.%m.%Y %H:%M"]},
        "scales": {
            "agree": {"type": "likert", "points": agree, "favourable": [6, 7], "meaning": "agreement"},
            "slider": {"type": "numeric", "range": [0, 10], "labels": {0: {"et": "Üldse mitte"}, 10: {"et": "Väga"}},
                       "dont_know": None, "favourable": [7, 8, 9, 10], "meaning": "importance"},
        },
        "roles": {"grouping": "age", "profile": ["age"]},
        "variables": [
            {"name": "rid", "type": "meta", "role": "id", "header": {"et": "ID"}},
            {"name": "age", "type": "single", "header": {"et": "Vanus"}, "label": {"en": "Age"},
             "options": [{"code": "young", "label": {"et": "Alla 40", "en": "Under 40"}},
                         {"code": "old", "label": {"et": "40 ja vanem", "en": "40 or older"}}]},
            {"name": "hobbies", "type": "multi", "layout": "columns",
             "options": [{"code": "sport", "header": {"et": "Huvid: Sport"}, "label": {"et": "Sport", "en": "Sport"}},
                         {"code": "music", "header": {"et": "Huvid: Muusika"}, "label": {"et": "Muusika", "en": "Music"}}]},
            {"name": "a1", "type": "likert", "scale": "agree", "sector": "parks", "header": {"et": "Pargid on puhtad"}},
            {"name": "a2", "type": "likert", "scale": "agree", "sector": "parks", "reverse": True,
             "header": {"et": "Parkides on liiga vähe pinke"}},
            {"name": "s1", "type": "likert", "scale": "slider", "sector": "roads", "header": {"et": "Teede remont"}},
            {"name": "s2", "type": "likert", "scale": "slider", "sector": "roads", "header": {"et": "Rattateed"}},
            {"name": "s_other", "type": "likert", "scale": "slider", "sector": "roads", "requires_text": "other_text",
             "header": {"et": "Muu"}},
            {"name": "other_text", "type": "text", "header": {"et": "Muu: mis?"}},
        ],
        "sectors": [{"code": "parks", "title": {"et": "Pargid", "en": "Parks"}, "items": ["a1", "a2"]},
                    {"code": "roads", "title": {"et": "Teed", "en": "Roads"}, "items": ["s1", "s2", "s_other"]}],
    }


@pytest.fixture
def toy(tmp_path):
    return cbmod.load(_write(tmp_path, toy_raw()))


def test_a_numeric_scale_and_a_seven_point_agreement_scale(toy):
    slider, agree = toy.scales["slider"], toy.scales["agree"]
    assert slider.points == list(range(0, 11)) and (slider.min, slider.max) == (0, 10)
    assert slider.favourable == (7, 8, 9, 10) and slider.meaning == "importance"
    assert not slider.has_dont_know and slider.range_text == "0–10"
    assert slider.label(10, "en", ("et",)) == "Väga" and slider.label(5, "et") == "5"
    assert agree.points == [1, 2, 3, 4, 5, 6, 7] and agree.top_box == (6, 7) and agree.meaning == "agreement"
    assert toy.languages == ("et",) and toy.timezone == "Europe/Tallinn"
    assert toy.missing_values == ("NA", "-1") and toy.date_formats == ("%d.%m.%Y %H:%M",)


def test_reversed_items_are_marked_for_the_index(toy):
    assert toy.index_items("parks") == [("a1", False), ("a2", True)]
    scale = toy.index_scale("parks")
    assert [scale.reverse(s) for s in (1, 4, 7)] == [7, 4, 1]
    assert toy.index_scale("roads").range_text == "0–10" and toy.score_range == (0, 10)
    import pandas as pd
    answered = pd.Series([1, 7, None], dtype="Int64")
    assert toy.oriented("a2", answered).tolist() == [7, 1, pd.NA] and toy.oriented("a1", 3) == 3


def test_meta_columns_other_than_the_id_are_optional(toy):
    assert toy.meta_var("email") is None and toy.meta_var("start_time") is None
    assert toy.variables["rid"].required and not toy.variables["other_text"].required


def test_option_columns_of_a_multi_select_map_to_the_variable(toy):
    m = toy.match_headers(["ID", "Vanus", "Huvid:\u00a0Sport", "Huvid: Muusika", "Pargid on puhtad",
                           "Parkides on liiga vähe pinke", "Teede remont", "Rattateed", "Muu", "Muu: mis?"])
    assert m["language"] == "et" and m["score"] == 1.0 and not m["missing"]
    assert m["mapping"]["Huvid:\u00a0Sport"] == "hobbies__sport"


def test_header_debris_is_normalised(codebook):
    """Non-breaking spaces, `&nbsp`, a `?` for a lost line break, doubled spaces."""
    h = codebook.variables["proposal_housing"].headers["lv"]          # "Jūsu priekšlikumi: Dzīvesvietu pieejamība"
    for debris in (h.replace(" ", "\u00a0"), h.replace(": ", ":&nbsp;"), h.replace(": ", ":?"),
                   h.replace(" ", "  "), h.replace(": ", ":\n")):
        m = codebook.match_headers([debris])
        assert m["mapping"] == {debris: "proposal_housing"}, debris


def test_the_published_json_schema_validates_the_shipped_codebook(root, tmp_path):
    import json

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((root / "params" / "codebook.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((root / "params" / "codebooks").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert not list(validator.iter_errors(data)), path
    assert not list(validator.iter_errors(toy_raw()))
    bad = toy_raw()
    bad["scales"]["agree"]["meaning"] = "happiness"
    assert list(validator.iter_errors(bad))


def _broken(tmp_path, change) -> str:
    raw = toy_raw()
    change(raw)
    with pytest.raises(CodebookError) as err:
        cbmod.load(_write(tmp_path, raw))
    return str(err.value)


def test_bad_codebook_role_pointing_at_a_missing_variable(tmp_path):
    msg = _broken(tmp_path, lambda r: r["roles"].update(grouping="district"))
    assert "roles.grouping" in msg and "'district' is not a variable" in msg and "broken.yaml" in msg


def test_bad_codebook_labels_contradicting_the_range(tmp_path):
    msg = _broken(tmp_path, lambda r: r["scales"]["slider"]["labels"].update({11: {"et": "Üle"}}))
    assert "scales.slider.labels.11" in msg and "outside the range 0..10" in msg
    msg = _broken(tmp_path, lambda r: r["scales"]["agree"].update(range=[1, 5]))
    assert "scales.agree.range" in msg and "contradicts" in msg


def test_bad_codebook_favourable_outside_the_scale(tmp_path):
    msg = _broken(tmp_path, lambda r: r["scales"]["slider"].update(favourable=[9, 10, 11]))
    assert "scales.slider.favourable" in msg and "11 is not a point of the scale" in msg
    msg = _broken(tmp_path, lambda r: r["scales"]["slider"].pop("favourable"))
    assert "numeric scale needs the favourable points" in msg


def test_bad_codebook_duplicate_code(tmp_path):
    msg = _broken(tmp_path, lambda r: r["variables"][1]["options"][1].update(code="young"))
    assert "variables[1] (age).options" in msg and "duplicate option code" in msg and "young" in msg


def test_bad_codebook_unknown_meaning(tmp_path):
    msg = _broken(tmp_path, lambda r: r["scales"]["agree"].update(meaning="happiness"))
    assert "scales.agree.meaning" in msg and "importance, agreement" in msg


def test_bad_codebook_survey_is_not_a_slug(tmp_path):
    msg = _broken(tmp_path, lambda r: r.update(survey="../Toy 2024"))
    assert ": survey:" in msg and "[a-z0-9-]+" in msg


def test_bad_codebook_language_and_timezone(tmp_path):
    assert "languages[0]" in _broken(tmp_path, lambda r: r.update(languages=["Estonian"]))
    assert "consultation_window.timezone" in _broken(
        tmp_path, lambda r: r["consultation_window"].update(timezone="Mars/Olympus"))


def test_bad_codebook_exits_2_from_check_naming_file_and_key(tmp_path, capsys):
    from analysis.__main__ import main

    raw = toy_raw()
    raw["scales"]["slider"]["favourable"] = [11]
    cb_path = _write(tmp_path, raw)
    params = tmp_path / "p.yaml"
    (tmp_path / "x.csv").write_text("ID\n1\n", encoding="utf-8")
    params.write_text(yaml.safe_dump({"survey": "toy-2024", "codebook": str(cb_path),
                                      "inputs": {"forms": [str(tmp_path / "x.csv")]}}), encoding="utf-8")
    assert main(["check", str(params)]) == 2
    out = capsys.readouterr().out
    assert "broken.yaml" in out and "scales.slider.favourable" in out and "the run would stop" in out
    assert "11 is not a point of the scale (0..10)" in out


def test_any_scale_gets_a_diverging_palette():
    from analysis.plots import LIKERT_COLOURS, likert_colours

    five = likert_colours([1, 2, 3, 4, 5])
    assert all(five[k] == LIKERT_COLOURS[k] for k in (1, 2, 3, 4, 5, "dk"))
    fifteen = likert_colours(range(0, 15))
    assert len({fifteen[k] for k in range(15)}) == 15 and fifteen[7] == LIKERT_COLOURS[3]
    # red end low, blue end high
    assert int(fifteen[0][1:3], 16) > int(fifteen[0][5:7], 16)
    assert int(fifteen[14][5:7], 16) > int(fifteen[14][1:3], 16)


def test_a_statement_worded_against_its_topic_says_so_in_its_label():
    """Agreement with a reversed statement ('Buses run too rarely') is bad news for its topic, so
    wherever the report shows such a statement (rankings, figures, workbook) its label says so."""
    cb = cbmod.load(Path(__file__).resolve().parents[1] / "params" / "codebooks" / "naidislinn-2024.yaml")
    reversed_items = [i for i in cb.likert_items if cb.variables[i].reverse]
    plain = [i for i in cb.likert_items if not cb.variables[i].reverse]
    assert len(reversed_items) == 4
    assert all(cb.variable_label(i, "en").endswith(" (worded against its topic)") for i in reversed_items)
    assert all(cb.variable_label(i, "lv").endswith(" (formulēts pretēji tēmai)") for i in reversed_items)
    assert not any("worded against" in cb.variable_label(i, "en") for i in plain)
