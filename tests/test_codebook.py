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
