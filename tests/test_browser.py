"""Every report of a sample run, opened in headless Chromium with the network off, is clean:
no console error, no request leaving the page, no script from respondent text running."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from cdp import Browser, find_chromium

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[1] / "outputs" / "screenshots"


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
