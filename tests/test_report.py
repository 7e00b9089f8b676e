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


# --- presentation: minus signs, page chrome, figures, brief, workbook (issue 12) -------------

def test_negative_intervals_use_minus_signs_and_words_not_a_dash_between_hyphens():
    assert report.fmt_ci(-24.2, -14, 0, "lv", pct=False) == "\u221224 līdz \u221214"
    assert report.fmt_ci(-3, 5, 0, "en", pct=False) == "\u22123 to 5"
    assert report.fmt_num(-0.01, 1) == "0,0"                     # no "-0,0"
    assert "-" not in report.fmt_num(-7.25, 1)


def test_report_language_is_validated_against_the_text_tables():
    import pytest

    from analysis.report_html import ReportError, check_language

    assert check_language("lv") == "lv"
    with pytest.raises(ReportError, match="report_lang 'xx'.*lv"):
        check_language("xx")


def test_every_method_name_has_one_latvian_spelling():
    from pathlib import Path

    lv = (Path(report.__file__).parent / "texts" / "lv.yaml").read_text(encoding="utf-8")
    for wrong in ("Mana–Vitnija", "Mana-Vitnija", "Hochberg", "Frīdmana", "Kendela", "Kruskal–Wallis", "Danna"):
        assert wrong not in lv, wrong
    for right in ("Manna–Vitnija", "Benjamini–Hohberga", "Frīdmena", "Kruskala–Volisa", "Dunna"):
        assert right in lv, right


def test_presentation_modules_name_no_place():
    from pathlib import Path

    src = Path(report.__file__).parent
    owned = ["report.py", "report_html.py", "plots.py", "likert_plots.py", "brief.py", "workbook.py", "nb.py"]
    owned += [str(p.relative_to(src)) for p in (src / "templates").rglob("*") if p.is_file()]
    for name in owned:
        assert "Liepāj" not in (src / name).read_text(encoding="utf-8"), name


def test_finished_page_has_ordered_headings_labelled_table_cells_and_no_placeholder_alt():
    from analysis.report_html import finish_page

    body = ("<body><!--CHROME-TOP--><!--TOC--><h1>T</h1><h2 id='a'>A</h2><h4 id='b'>B</h4>"
            "<table class='dataframe'><thead><tr><th>Grupa</th><th>n</th></tr></thead>"
            "<tbody><tr><td>x</td><td>3</td></tr></tbody></table>"
            "<img src='data:image/png;base64,AA' alt='No description has been provided for this image'>"
            "<!--CHROME-FOOTER--></body>")
    page = finish_page(body, "lv", banner="<div class='synthetic-banner'>S</div>", nav="<nav>N</nav>",
                       note="", footer="Konsultācijas laiks")
    assert "<h4" not in page and '<h3 id="b">B</h3>' in page
    assert 'data-label="Grupa"' in page and 'class="table-wrap stack"' in page
    assert "No description" not in page and 'alt="Attēls sadaļā „B”"' in page
    assert '<nav class="toc"' in page and 'href="#b"' in page
    assert '<footer class="report-footer">Konsultācijas laiks</footer>' in page


def test_navigation_links_every_page_back_to_the_index_and_marks_the_current_one():
    from analysis.report_html import nav_html

    pages = [("01_clean", "Tīrīšana"), ("02_ratings", "Vērtējumi"), ("04_summary", "Kopsavilkums")]
    nav = nav_html(pages, "02_ratings.html", "lv", pdf=True)
    for href in ("index.html", "04_summary.html", "01_clean.html", "../tables/tables.xlsx",
                 "04_summary.html#s-methods", "04_summary.pdf"):
        assert f'href="{href}"' in nav, href
    assert 'href="02_ratings.html" aria-current="page"' in nav and "2. posms" in nav


def test_footer_gives_the_consultation_period_and_run_date_not_the_run_id():
    import datetime as dt
    from pathlib import Path

    from analysis.report_html import footer_text, run_date

    day = run_date(Path("/x/20261130-224156"))
    assert day == dt.date(2026, 11, 30)
    text = footer_text("lv", {"start": "2022-01-01T00:00:00", "end": "2022-02-27T23:59:59"}, day, 10)
    assert "01.01.2022.–27.02.2022." in text and "30.11.2026." in text and "224156" not in text


def test_figures_are_svg_with_a_description_and_text_never_below_11_px():
    import base64
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import plots

    plots.apply_style("lv")
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.barh(["Mazā grupa", "Lielā grupa"], [19, 906])
    ax.set_xlabel("Respondentu skaits")
    ax.set_title("Lielākā daļa ir vienā grupā", loc="left")
    page = plots.figure_html(fig)
    alt = re.search(r'alt="([^"]*)"', page).group(1)
    assert alt.startswith("Lielākā daļa ir vienā grupā.") and "Lielā grupa (906)" in alt and "Mazā grupa (19)" in alt
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", page).group(1)).decode()
    assert "<text" in svg and "Lielā grupa" in svg             # text stays text
    width, _, smallest = plots.svg_metrics(svg)
    floor = int(re.search(r"min-width: (\d+)px", page).group(1))
    assert smallest * floor / width >= 11                        # rendered at its narrowest
    assert plots.figure_svg(fig) == plots.figure_svg(fig)        # reproducible
    plt.close(fig)


def test_text_measurements_are_shared_between_drawings_and_change_nothing():
    """A label measured once is not measured again by the next drawing (the tight bounding
    box's dry run, the drawing itself, the phone layout, the next figure); the SVG is the same
    byte for byte as with matplotlib's own per-renderer measuring."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.text as mtext

    from analysis import plots

    plots.apply_style("lv")
    shared = mtext._get_text_metrics_with_cache
    assert getattr(shared, "_analysis_shared", False)

    def figure(width):
        fig, ax = plt.subplots(figsize=(width, 3))
        ax.barh(["Mājokļu pieejamība", "Sabiedriskais transports", "Ielu apgaismojums"], [41, 23, 7])
        ax.set_title("Mājokļi ir svarīgākie", loc="left")
        return fig

    plots._METRICS_CACHE.clear()
    fig = figure(8)
    with_shared = plots.figure_svg(fig)
    n = len(plots._METRICS_CACHE)
    assert n > 0
    assert plots.figure_svg(fig) == with_shared and len(plots._METRICS_CACHE) == n   # all reused
    plt.close(fig)
    fig = figure(5)                                       # other size, same labels
    plots.figure_svg(fig)
    assert len(plots._METRICS_CACHE) == n
    plt.close(fig)
    # another font for the same family name: measured afresh, not taken from the cache
    with plt.rc_context({"font.sans-serif": ["DejaVu Sans Mono"]}):
        fig = figure(8)
        plots.figure_svg(fig)
        plt.close(fig)
    assert len(plots._METRICS_CACHE) > n
    # matplotlib's own measuring gives the same drawing
    fig = figure(8)
    mtext._get_text_metrics_with_cache = shared.__wrapped__
    try:
        assert plots.figure_svg(fig) == with_shared
    finally:
        mtext._get_text_metrics_with_cache = shared
        plt.close(fig)


def _tables(codebook):
    items = pd.DataFrame({"item": ["mobility_1", "housing_1", "urban_1"], "sector": ["mobility", "housing", "urban"],
                          "n": [400, 380, 390], "top2_share": [0.81, 0.62, 0.40], "rank": [1, 2, 3],
                          "suppressed": [False, False, False]})
    tests = pd.DataFrame({"outcome": ["housing_1"], "grouping": ["target_group"], "test": ["kruskal"],
                          "p_adj": [0.001], "effect_label": ["medium"], "epsilon_squared": [0.08],
                          "highest_group": ["future_resident"], "lowest_group": ["visitor"], "weighted": [False],
                          "levels": ["resident+future_resident+visitor"]})
    rbg = pd.DataFrame({"target_group": ["resident", "future_resident", "visitor", "other"],
                        "item": ["housing_1"] * 4, "group_n": [300, 40, 30, 12], "n": [290, 40, 30, 12],
                        "top2_share": [0.6, 0.9, 0.3, 0.05], "rank": [2, 1, 2, 1], "suppressed": [False] * 4})
    themes = pd.DataFrame({"theme": ["jobs_wages", "parking", "(none)"], "n": [235, 80, 300]})
    flow = pd.DataFrame({"source": ["forms", "forms", "email"], "rows_analysed": [960, 196, 58]})
    profile = pd.DataFrame({"variable": ["target_group"] * 2, "level": ["resident", "visitor"],
                            "share": [0.79, 0.08]})
    return {"items": items, "tests": tests, "ranking_by_group": rbg, "themes": themes, "flow": flow,
            "profile": profile}


def test_the_brief_says_what_most_support_where_groups_disagree_what_people_ask_and_its_limits(codebook):
    from analysis import brief

    sentences = brief.brief_sentences(_tables(codebook), codebook, "lv", 0.05,
                                      {"jobs_wages": "Darbavietas un algas", "parking": "Autostāvvietas"})
    assert 3 <= len(sentences) <= 5
    support, disagree, asks, limits = sentences
    assert support.startswith("2 no 3 aktivitātēm") and "81\u00a0%" in support and "400" in support
    # the untested group "other" (5 %) is not the low end; 90 % vs 30 % is
    assert "90\u00a0%" in disagree and "30\u00a0%" in disagree and "5\u00a0%" not in disagree
    assert asks == "Savos vārdos atbildētāji visbiežāk prasa: Darbavietas un algas (235), Autostāvvietas (80)."
    assert "1156" in limits and "01.01.2022." in limits and "27.02.2022." in limits and "79\u00a0%" in limits
    none = _tables(codebook)
    none["tests"]["p_adj"] = 0.5
    assert brief.disagreement_sentence(none, codebook, "lv", 0.05) == report.t("brief_disagree_none", "lv")


def test_the_brief_headline_difference_comes_from_the_findings_never_from_a_small_group(codebook):
    # issue 11: a headline finding needs groups of at least min_finding_n (stage 02's
    # findings.csv applies it and keeps one finding per contrast); the raw tests table may
    # hold a significant difference that rests on a group of 11
    from analysis import brief

    tables = _tables(codebook)
    tables["findings"] = pd.DataFrame({
        "outcome": ["mobility_1", "housing_1"], "grouping": ["target_group", "target_group"],
        "high_group": ["resident", "future_resident"], "low_group": ["visitor", "resident"],
        "effect_size": [0.40, 0.20], "p_adj": [0.001, 0.01], "survives_adjustment": [False, True]})
    sentence = brief.disagreement_sentence(tables, codebook, "lv", 0.05)
    # the finding that survives adjustment leads, although its effect is smaller
    assert codebook.label_of("target_group", "future_resident", "lv") in sentence
    assert brief.disagreement_sentence({**tables, "findings": tables["findings"].iloc[:0]}, codebook, "lv",
                                       0.05) == report.t("brief_disagree_none", "lv")


def test_workbook_for_people_has_an_explaining_first_sheet_labels_formats_and_stays_reproducible(tmp_path, codebook):
    import openpyxl

    from analysis.workbook import write_workbook

    tables = tmp_path / "tables"
    tables.mkdir()
    _tables(codebook)["items"].to_csv(tables / "items.csv", index=False)
    pd.DataFrame({"source_file": ["=HYPERLINK(\"x\")"], "source": ["forms"], "rows_read": [3]}).to_csv(
        tables / "flow.csv", index=False)
    pd.DataFrame({"agreement": [1]}).to_csv(tables / "agreement.csv", index=False)
    out = write_workbook(tables, cb=codebook, lang="lv")
    first = out.read_bytes()
    assert write_workbook(tables, cb=codebook, lang="lv").read_bytes() == first
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Par darbgrāmatu", "Atbilžu plūsma", "Aktivitāšu vērtējumi", "Kodēšanas saskaņa"]
    about = [r for r in wb["Par darbgrāmatu"].iter_rows(values_only=True)]
    assert ("Aktivitāšu vērtējumi", "Daļa, kas atzīst par nozīmīgu", "Kods CSV failā: top2_share") in about
    ws = wb["Aktivitāšu vērtējumi"]
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["Aktivitāte", "Nozare"]
    assert ws["A2"].value == codebook.variable_label("mobility_1", "lv") and ws["B2"].value == "Mobilitāte un transports"
    share = ws.cell(row=2, column=headers.index("Daļa, kas atzīst par nozīmīgu") + 1)
    assert share.value == 0.81 and share.number_format == "0.0%"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F4" and ws.column_dimensions["A"].width > 20
    assert wb["Atbilžu plūsma"]["A2"].value.startswith("'=")          # formula neutralised


def test_a_simple_figure_also_gets_a_phone_layout_that_fits_390_px_with_readable_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import plots

    plots.apply_style("lv")
    fig, ax = plt.subplots(figsize=(9, 4))
    labels = [f"Gara aktivitātes nosaukuma rinda numur {i}, kas neietilpst tālrunī vienā rindā" for i in range(6)]
    ax.barh(labels, [10, 20, 30, 40, 50, 60])
    for y, v in enumerate([10, 20, 30, 40, 50, 60]):
        ax.text(v, y, f" n = {v}", va="center", fontsize=8)
    ax.set_title("Aktivitātes, kuras atzītas par nozīmīgām visbiežāk visās grupās", loc="left")
    phone = plots.phone_svg(fig)
    assert phone is not None
    width, _, smallest = plots.svg_metrics(phone)
    assert smallest * 358 / width >= 11                # fits a 390 px screen's column at >= 11 px
    page = plots.figure_html(fig)
    assert '<source media="(max-width: 600px)"' in page and "<picture>" in page
    plt.close(fig)
