"""Every report of a sample run, opened in headless Chromium with the network off, is clean:
no console error, no request leaving the page, no script from respondent text running."""
from __future__ import annotations

import html
import re
from pathlib import Path

from analysis import paths

import pytest

from cdp import Browser, find_chromium

pytestmark = pytest.mark.browser
# under the tests' temporary outputs root (conftest sets $ANALYSIS_OUTPUTS), never a researcher's outputs/
SCREENSHOTS = paths.outputs_root() / "screenshots"


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        pytest.skip("headless Chromium is not installed (Debian package `chromium`; "
                    "`make setup` installs it when run as root) — the browser check did not run")
    with Browser(binary) as b:
        yield b


def test_the_checker_catches_an_unescaped_script_and_an_outside_request(browser, tmp_path):
    """Negative control: a page that renders respondent text raw must fail the check."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><p>Priekšlikums: <img src=x onerror="alert(1)">'
                   '<script>alert(2)</script></p><img src="http://203.0.113.9/pixel.png"></body></html>',
                   encoding="utf-8")
    report = browser.open_page(bad)
    problems = " | ".join(report.problems)
    assert report.probe.get("alerts", 0) >= 1 or report.dialogs, problems
    assert report.inline_handlers >= 1 and report.script_elements >= 1
    assert any("203.0.113.9" in r for r in report.requests), problems


def test_escaped_hostile_text_shows_as_text_and_runs_nothing(browser, tmp_path):
    from analysis.privacy import escape_html

    hostile = '<script>alert(1)</script> <img src=x onerror=alert(1)>'
    page = tmp_path / "ok.html"
    page.write_text(f"<!DOCTYPE html><html><body><p>{escape_html(hostile)}</p></body></html>",
                    encoding="utf-8")
    report = browser.open_page(page)
    assert report.problems == []
    assert "<script>alert(1)</script>" in report.text


def test_every_report_of_a_sample_run_is_clean_offline(browser, sample_run):
    pages = sorted((sample_run / "report").glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "01_clean.html"}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    failures = {}
    for page in pages:
        report = browser.open_page(page, screenshot=SCREENSHOTS / f"{page.stem}.png")
        if report.problems:
            failures[page.name] = report.problems
        if page.name != "index.html":
            assert "SINTĒTISKI DATI" in report.text, f"{page.name} lacks the synthetic-data banner"
        assert report.screenshot and report.screenshot.stat().st_size > 5_000
    assert failures == {}


def test_planted_hostile_strings_reach_the_reports_only_as_text(sample_run):
    """Every HTML page is free of raw respondent markup (the browser test above is the proof
    that nothing runs; this one looks at the bytes)."""
    for page in (sample_run / "report").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text, page.name
        assert not re.search(r"<img[^>]*onerror", text, re.I), f"{page.name} has a raw <img onerror>"
        assert "<script" not in text.lower(), f"{page.name} contains a <script> element"


# --- what a reader gets on a phone and on a desktop (issue 12) --------------------------------

# Smallest rendered size (CSS px) of the text inside every SVG figure: font-size in the SVG's
# own units times the ratio of the <img>'s rendered width to the SVG's viewBox width.
FIGURE_TEXT = """(() => { let least = null, n = 0;
 for (const img of document.querySelectorAll('img[src^="data:image/svg+xml"]')) {
   const svg = new DOMParser().parseFromString(atob((img.currentSrc || img.src).split(',')[1]), 'image/svg+xml');
   const box = svg.documentElement.getAttribute('viewBox').split(/\\s+/).map(Number);
   const scale = img.getBoundingClientRect().width / box[2];
   for (const t of svg.querySelectorAll('text')) {
     const m = (t.getAttribute('style') || '').match(/font-size:\\s*([0-9.]+)px/);
     if (m) { const px = parseFloat(m[1]) * scale; least = least === null ? px : Math.min(least, px); n++; } } }
 return {texts: n, least: least}; })()"""
MEASURES = {
    "lang": "document.documentElement.lang",
    "figure_text": FIGURE_TEXT,
    "bad_alt": "Array.from(document.images).filter(i => !i.alt || i.alt.startsWith('No description')).length",
    "headings": "Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6')).map(h => +h.tagName[1])",
    "nav": "Array.from(document.querySelectorAll('nav.site-nav a')).map(a => a.getAttribute('href'))",
    "paragraph_px": "Math.min(...Array.from(document.querySelectorAll('main p, .jp-RenderedHTMLCommon > p:not(.scroll-hint), .brief p'))"
                    ".map(p => parseFloat(getComputedStyle(p).fontSize)).concat([99]))",
    "widest_paragraph_ch": "Math.max(...Array.from(document.querySelectorAll('.jp-RenderedHTMLCommon p')).map(p => "
                           "p.getBoundingClientRect().width / parseFloat(getComputedStyle(p).fontSize)).concat([0]))",
    "banner_px": "(document.querySelector('.synthetic-banner') || {offsetHeight: 0}).offsetHeight",
    "page_width": "document.documentElement.scrollWidth",
    # a table wider than the screen must sit in a scrolling region with a visible hint
    "hidden_table_overflow": "Array.from(document.querySelectorAll('table')).filter(t => {"
                             " const w = t.closest('.table-wrap'); if (t.getBoundingClientRect().width <= innerWidth) return false;"
                             " if (!w) return true; const h = w.previousElementSibling;"
                             " return !(h && h.classList.contains('scroll-hint') && h.offsetHeight > 0); }).length",
}


def _check_page(report, width: int, page: str) -> list[str]:
    m, out = report.measures, []
    if m["lang"] != "lv":
        out.append(f"lang is {m['lang']!r}")
    if m["bad_alt"]:
        out.append(f"{m['bad_alt']} image(s) without a description")
    levels = m["headings"]
    if any(b > a + 1 for a, b in zip(levels, levels[1:])):
        out.append(f"heading levels jump: {levels}")
    if "index.html" not in m["nav"] or not any(h.startswith("04") for h in m["nav"]):
        out.append(f"navigation lacks the index or the summary: {m['nav']}")
    if m["paragraph_px"] < 16:
        out.append(f"body text {m['paragraph_px']} px")
    if m["widest_paragraph_ch"] > 75 * 0.6:          # 70ch of '0' is ~ 42 em of body text
        out.append(f"paragraphs {m['widest_paragraph_ch']:.0f} em wide")
    if m["page_width"] > width:
        out.append(f"page scrolls sideways ({m['page_width']} px at {width})")
    if m["hidden_table_overflow"]:
        out.append(f"{m['hidden_table_overflow']} table(s) overflow without a hint")
    fig = m["figure_text"]
    if width == 390 and fig["texts"] and fig["least"] < 11:
        out.append(f"figure text {fig['least']:.1f} px at 390 px")
    if width == 390 and page != "index.html" and m["banner_px"] > 0.05 * 844:
        out.append(f"banner {m['banner_px']} px high")
    return out


def test_every_page_reads_well_at_1280_and_390_px(browser, sample_run):
    failures, least = {}, []
    for page in sorted((sample_run / "report").glob("*.html")):
        for width, height in ((1280, 900), (390, 844)):
            report = browser.open_page(page, screenshot=SCREENSHOTS / f"{page.stem}-{width}.png",
                                       width=width, height=height, measure=MEASURES)
            problems = _check_page(report, width, page.name)
            if problems:
                failures[f"{page.name}@{width}"] = problems
            if width == 390 and report.measures["figure_text"]["texts"]:
                least.append(report.measures["figure_text"]["least"])
    assert failures == {}
    assert least and min(least) >= 11, least        # the figures were measured, not skipped
    print(f"smallest rendered figure text at 390 px: {min(least):.2f} px")


# not "respondents": it is also correct Latvian (nominative singular: "respondents atstājis kontaktus")
ENGLISH = {"the", "and", "of", "not", "synthetic", "official", "figures", "weighted", "share",
           "group", "groups", "test", "value", "values", "rows", "file", "none", "true", "false", "other",
           "unweighted", "sensitivity", "missing", "stage", "table", "tables", "run", "report"}


READER_TEXT = ("(() => { const c = document.body.cloneNode(true);"
               " c.querySelectorAll('blockquote, .quote, style, script').forEach(e => e.remove());"
               " return c.textContent.replace(/\\s+/g, ' '); })()")


def _codes(root) -> set[str]:
    """Codes a reader must never see: variable names, option codes, sector codes, theme ids."""
    import yaml

    from analysis import codebook

    cb = codebook.load(root / "params" / "codebooks" / "liepaja-2022.yaml")
    codes = set(cb.variables) | set(cb.sectors) | {f"sector_{s}" for s in cb.sectors}   # sector index outcomes
    for var in cb.variables.values():
        codes |= {str(c) for c in getattr(var, "codes", []) if not str(c).isdigit()}
    themes = yaml.safe_load((root / "params" / "themes" / "liepaja-2022.yaml").read_text(encoding="utf-8"))
    for group in (themes.get("themes") or {}).values():
        codes |= {str(code) for code in (group or {})}
    # a code that is also an ordinary word of the reports (e.g. a district's name) is not a leak
    return {c for c in codes if "_" in c or c.lower() != c or len(c) > 2} - {"karosta"}


def test_latvian_pages_show_no_codes_file_names_or_english(browser, sample_run, root):
    codes = _codes(root)
    leaks = {}
    for page in sorted((sample_run / "report").glob("*.html")):
        # respondents' own words (quotes) may be in any language; everything else is the report's
        text = browser.open_page(page, measure={"text": READER_TEXT}).measures["text"]
        words = set(re.findall(r"[A-Za-zĀ-ž_][\wĀ-ž]*(?:__\w+)?", text))
        found = sorted(w for w in words if w in codes or w.lower() in ENGLISH and w.islower())
        found += sorted(set(re.findall(r"\b[\w-]+\.(?:csv|xlsx|parquet|yaml|ipynb|json)\b", text)))
        if found:
            leaks[page.name] = found
    assert leaks == {}, "\n".join(f"{name}: {', '.join(words)}" for name, words in leaks.items())


def test_the_summary_prints_to_a_paginated_pdf_with_banner_and_page_numbers(sample_run):
    pypdf = pytest.importorskip("pypdf")
    pdf = sample_run / "report" / "04_summary.pdf"
    assert pdf.exists(), "no PDF of the summary beside its HTML"
    assert 'href="04_summary.pdf"' in (sample_run / "report" / "04_summary.html").read_text(encoding="utf-8")
    reader = pypdf.PdfReader(str(pdf))
    pages = len(reader.pages)
    assert 3 <= pages <= 40, pages
    texts = [p.extract_text() for p in reader.pages]
    for i, text in enumerate(texts, start=1):
        assert "SINTĒTISKI DATI" in text, f"page {i} lacks the banner"
        assert f"{i}. lappuse no {pages}" in text, f"page {i} lacks its number"
    whole = "\n".join(texts)
    assert "Īsumā" in whole and "Konsultācijas laiks: 01.01.2022.–27.02.2022." in whole
    print(f"PDF of the summary: {pages} pages")


def test_the_workbook_names_every_sheet_and_column_for_people(sample_run, codebook):
    """Every table of a run is a sheet with a name in the report language and headers a person
    can read (no snake_case codes); the first sheet explains them all."""
    import openpyxl

    wb = openpyxl.load_workbook(sample_run / "tables" / "tables.xlsx")
    csvs = sorted(p.stem for p in (sample_run / "tables").glob("*.csv"))
    assert wb.sheetnames[0] == "Par darbgrāmatu" and len(wb.sheetnames) == len(csvs) + 1
    coded = {ws.title: [c.value for c in ws[1] if isinstance(c.value, str) and re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", c.value)]
             for ws in wb.worksheets}
    assert {k: v for k, v in coded.items() if v} == {}
    assert not [s for s in wb.sheetnames if re.fullmatch(r"[a-z0-9_]+", s)]
    described = {r[0] for r in wb["Par darbgrāmatu"].iter_rows(min_row=2, values_only=True) if r[1] in ("", None)}
    assert described == set(wb.sheetnames[1:])
