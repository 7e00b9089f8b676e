"""The second embedded example (synthetic Näidislinn 2024): a survey unlike the first runs end to
end from its codebook and params alone, and its report says nothing about the first survey."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params" / "naidislinn-2024.yaml"
FIRST_SURVEY = re.compile(r"liep[aā]j|лиепа|karost|карост", re.IGNORECASE)


def _cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_check_says_usable_and_states_what_is_switched_off():
    res = _cli("check", str(PARAMS), timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    said = res.stdout + res.stderr
    assert "usable" in said
    assert re.search(r"unweighted", said)                              # no population: stated
    assert re.search(r"speeder", said) and re.search(r"recommendation", said)


def test_the_second_survey_is_shaped_unlike_the_first():
    from analysis import codebook

    cb = codebook.load(ROOT / "params" / "codebooks" / "naidislinn-2024.yaml")
    first = codebook.load(ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    (scale,) = cb.scales.values()
    assert (scale.type, scale.min, scale.max, scale.has_dont_know, scale.labels) == ("numeric", 0, 10, False, {})
    assert cb.languages == ("et",) and set(first.languages) == {"lv", "ru"}
    assert [len(s.items) for s in cb.sectors.values()] == [3] * 5 != [len(s.items) for s in first.sectors.values()]
    assert sum(cb.variables[i].reverse for i in cb.likert_items) == 4
    assert cb.role_var("satisfaction") is None and cb.role_var("recommendation") is None
    assert cb.meta_var("email") is None and cb.meta_var("start_time") is None and cb.meta_var("completion_time") is None
    assert any(v.layout == "columns" for v in cb.of_type("multi"))
    assert set(cb.missing_values) == {"", "NA", "-1"}
    assert not set(cb.groupings) & set(first.groupings)


@pytest.mark.slow
def test_second_survey_runs_end_to_end_and_its_report_is_about_it_alone(tmp_path):
    res = _cli("run", str(PARAMS), "--out", str(tmp_path / "naidislinn"))
    assert res.returncode == 0, res.stderr[-4000:]
    index = Path(res.stdout.strip().splitlines()[-1])
    assert index.name == "index.html" and index.exists()
    report = index.parent
    pages = sorted(report.glob("*.html"))
    assert len(pages) >= 2
    html = index.read_text(encoding="utf-8")
    assert "Näidislinn" in html
    run_dir = report.parent
    for f in [*pages, *sorted((run_dir / "tables").glob("*.csv"))]:
        text = f.read_text(encoding="utf-8", errors="replace")
        if f.name == "04_summary.html":      # the scale has no "don't know": the summary never speaks of it
            assert "don't know" not in text.lower() and "don&#x27;t know" not in text.lower(), f.name
        if f.suffix == ".html":
            # its scale means agreement: the report never says people rated "activities" "important"
            # (the first survey's importance wording); the plain "large or important" of the methods may stay
            words = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.DOTALL))
            assert not re.search(r"\bactivit", words, re.IGNORECASE), f.name
            assert not re.search(r"(rated|rating|as|most|very|rather|called it) important", words, re.IGNORECASE), f.name
        hit = FIRST_SURVEY.search(text)
        assert hit is None, f"{f.relative_to(run_dir)} mentions the first survey: {text[max(0, hit.start() - 80):hit.end() + 80]!r}"
    # its proposals are in Estonian, which has no lemmatiser here: labelled et (never lv or en), counted on
    # their surface forms, and the stage-03 page and the summary's methods say so in one sentence
    import pandas as pd

    mix = pd.read_csv(run_dir / "tables" / "language_mix.csv")
    survey = mix[mix["source"] == "survey"].set_index("language")["n"]
    assert survey.idxmax() == "et" and survey["et"] >= 0.9 * survey.sum(), survey.to_dict()
    caveat = "Texts in Estonian have no lemmatiser here"
    page = (report / "03_proposals.html").read_text(encoding="utf-8")
    assert page.count(caveat) == 1 and "Which languages people write in" in page
    assert "Iedzīvotāju priekšlikumi" not in page and "Kādās valodās" not in page    # no Latvian prose left
    assert caveat in (report / "04_summary.html").read_text(encoding="utf-8")
    import openpyxl

    book = openpyxl.load_workbook(run_dir / "tables" / "tables.xlsx", read_only=True)
    assert "Ratings of questions" in book.sheetnames and "Ratings of activities" not in book.sheetnames
