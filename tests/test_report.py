"""Report wording: one translation table, Latvian number formats, escaped quotes, plain sentences."""
from __future__ import annotations

import pandas as pd

from analysis import report


def test_every_text_has_latvian_and_english_and_same_placeholders():
    import string

    for key, entry in report.TEXT.items():
        assert set(entry) == {"lv", "en"}, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in ("lv", "en")]
        assert fields[0] == fields[1], key


def test_latvian_numbers_use_decimal_comma_and_spaced_percent():
    assert report.fmt_num(1234.56, 1, "lv") == "1\u00a0234,6"
    assert report.fmt_num(1234.56, 1, "en") == "1\u00a0234.6"
    assert report.fmt_pct(0.456, 0, "lv") == "46\u00a0%"
    assert report.fmt_ci(0.41, 0.5, 0, "lv") == "41\u00a0%–50\u00a0%"
    assert report.fmt_p(0.0004, "lv") == "< 0,001" and report.fmt_p(0.0123, "lv") == "0,012"
    assert report.fmt_num(float("nan")) == "—"


def test_quotes_are_escaped():
    html = report.quote_html('<script>alert(1)</script> & <img src=x onerror=alert(1)>')
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html


def test_difference_sentence_names_groups_size_and_adjusted_p(codebook):
    row = pd.Series({"outcome": "mobility_1", "grouping": "age_group", "highest_group": "18_24",
                     "lowest_group": "65plus", "effect_label": "small", "p_adj": 0.0002})
    lv = report.difference_sentence(row, codebook, "lv")
    assert lv.startswith("Kampaņa par velosipēdu infrastruktūru")
    assert "„18–24”" in lv and "„65 un vairāk”" in lv and "neliela" in lv and "p < 0,001" in lv
    en = report.difference_sentence(row, codebook, "en")
    assert "'65 or older'" in en and "small" in en
    sector = pd.Series({"outcome": "housing", "grouping": "gender", "highest_group": "female",
                        "lowest_group": "male", "effect_label": "medium", "p_adj": 0.02})
    assert report.difference_sentence(sector, codebook, "lv").startswith("Nozares indekss: Dzīvesvietu pieejamība")


def test_indicator_groups_get_readable_labels(codebook):
    assert report.group_label("info_language__ru", "True", codebook, "lv") == "Krievu: jā"


def test_latvian_counts_agree_with_their_noun():
    assert report.count_noun(1, "proposal") == "1 priekšlikums"
    assert report.count_noun(21, "proposal") == "21 priekšlikums"
    assert report.count_noun(11, "proposal") == "11 priekšlikumi"
    assert report.count_noun(235, "proposal") == "235 priekšlikumi"
    assert report.count_noun(1, "proposal", "en") == "1 proposal"


def test_notebook_tables_are_escaped_and_hide_a_meaningless_index():
    from analysis.nb import _frame_html

    plain = _frame_html(pd.DataFrame({"teksts": ["<script>alert(1)</script>"]}))
    assert "&lt;script&gt;" in plain and "<script>" not in plain and "<th>0</th>" not in plain
    indexed = _frame_html(pd.DataFrame({"n": [3]}, index=pd.Index(["forms_lv.xlsx"], name="Fails")))
    assert "forms_lv.xlsx" in indexed
