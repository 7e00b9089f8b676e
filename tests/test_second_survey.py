"""The second embedded example (synthetic Näidislinn 2024): a survey unlike the first runs end to
end from its codebook and params alone, and its report says nothing about the first survey."""
from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
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


@pytest.fixture(scope="module")
def second_run(tmp_path_factory):
    """One run of the whole pipeline on the second survey, shared by the tests of this file."""
    res = _cli("run", str(PARAMS), "--out", str(tmp_path_factory.mktemp("naidislinn")))
    assert res.returncode == 0, res.stderr[-4000:]
    return Path(res.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_second_survey_runs_end_to_end_and_its_report_is_about_it_alone(second_run):
    index = second_run
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


# --- what a reader of the English report sees: no codes, parameter or file names, no Latvian ----------

class _ReaderText(HTMLParser):
    """The visible text of a page as a reader sees it: without <style>/<script>, without respondents'
    own words (``blockquote`` and ``.quote``, which may be in any language, as test_browser.py's
    READER_TEXT removes them) and without the link to a Latvian version of the page, if any."""

    SKIP = {"style", "script", "blockquote"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []          # per open element: is it (inside) a skipped element?
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        skip = (tag in self.SKIP or "quote" in (a.get("class") or "").split()
                or (tag == "a" and "lv" in (a.get("hreflang"), a.get("lang"))))
        self.stack.append(skip or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        reader = cls()
        reader.feed(html)
        reader.close()
        return re.sub(r"\s+", " ", " ".join(reader.parts))


# codes that are also ordinary English words of a report: a sector called `transport` is titled
# "Public transport", and the words "transport", "services", "other", "owner" or "neighbourhood"
# in an English sentence are not leaks; these are checked only where they stand as code
# (`population`, 'themes', population=), as are plain-word role and parameter names
PLAIN_WORDS = {"transport", "green", "safety", "services", "community", "library", "sports", "youth", "culture",
               "social", "owner", "tenant", "other", "outside", "proposal", "neighbourhood", "tenure",
               "grouping", "district", "profile", "satisfaction", "recommendation", "population", "themes",
               "survey", "codebook", "inputs", "synthetic", "id", "email", "name", "respondent"}
# common words of the Latvian reports (the first survey's language) that must not surface in this one
LATVIAN_WORDS = {"nozare", "nozares", "nozarē", "respondenti", "respondentu", "aktivitāte",
                 "aktivitātes", "vērtējums", "vērtējumi", "kopsavilkums", "pārskats", "iedzīvotāji",
                 "iedzīvotāju", "priekšlikumi", "priekšlikumu", "tabula", "attēls", "grupa", "grupas",
                 "un", "vai", "nav", "ir", "kas", "tika", "mazāk"}   # not "no", "par": English words too
LATVIAN_LETTERS = re.compile(r"[āēīūļņķģšžčĀĒĪŪĻŅĶĢŠŽČ]")
FILE_NAME = re.compile(r"\b[\w-]+\.(?:csv|xlsx|yaml|yml|parquet|ipynb|json)\b")


def _names() -> tuple[set[str], set[str]]:
    """(codes, plain-word names) of the second survey: its variable names, option and sector codes,
    sector index outcomes, scale names, roles and parameter names."""
    from analysis import codebook, config

    cb = codebook.load(ROOT / "params" / "codebooks" / "naidislinn-2024.yaml")
    names = set(cb.variables) | set(cb.sectors) | {f"sector_{s}" for s in cb.sectors} | set(cb.scales)
    for var in cb.variables.values():
        names |= {str(c) for c in getattr(var, "codes", []) if not str(c).isdigit()}
    names |= set(codebook.ROLES) | set(codebook.META_ROLES) | set(config.KNOWN_KEYS)
    names |= {"duplicate", "straightliner", "empty", "speeder", "outside_window", "min_share_same", "min_rated",
              "share_of_median", "keyness_contrasts", "dont_know", "missing_values"}
    # an all-digit code ('18_29' is a code; '18–29' the label) is kept: it has an underscore
    plain = {n for n in names if n in PLAIN_WORDS or (n.isalpha() and n.islower() and len(n) <= 2)}
    # quality-rule names are words of the cleaning page ("duplicate", "empty"): only as code
    plain |= {"duplicate", "straightliner", "empty", "speeder"}
    return names - plain, plain


def _leaks(text: str, codes: set[str], plain: set[str]) -> list[str]:
    words = set(re.findall(r"[A-Za-z0-9_][\w-]*", text))
    found = {w for w in words if w in codes}
    for w in plain:                      # a plain word only where it stands as code
        if re.search(rf"[`'‘\"“]{re.escape(w)}[`'’\"”]|\b{re.escape(w)}\s*=", text):
            found.add(w)
    found |= set(FILE_NAME.findall(text))
    found |= {w for w in re.findall(r"[^\W\d_]+", text) if w.lower() in LATVIAN_WORDS and w.islower()}
    found |= {m.group(0) for m in re.finditer(r"\S*[āēīūļņķģšžčĀĒĪŪĻŅĶĢŠŽČ]\S*", text)}
    return sorted(found)


@pytest.mark.slow
def test_english_pages_show_no_codes_parameter_or_file_names_or_latvian(second_run):
    codes, plain = _names()
    leaks = {}
    for page in sorted(second_run.parent.glob("*.html")):
        found = _leaks(_ReaderText.of(page.read_text(encoding="utf-8")), codes, plain)
        if found:
            leaks[page.name] = found
    assert leaks == {}, "\n".join(f"{name}: {', '.join(words)}" for name, words in leaks.items())


def test_the_leak_scan_catches_what_it_looks_for():
    """The scan of the English pages finds each kind of leak and passes quoted respondents' words."""
    codes, plain = _names()
    html = ("<html><style>.x{}</style><body><p>Share agreeing with transport_3 by age_band, sector_green; "
            "min_cell and `population` from weighting.csv. Vērtējums by nozare.</p>"
            "<blockquote class=quote>Bussid sõidavad liiga harva, žēl</blockquote>"
            "<p>Public transport and green spaces; other tenants. <span class='quote' lang=et>min_cell</span></p>"
            "</body></html>")
    assert _leaks(_ReaderText.of(html), codes, plain) == sorted(
        ["transport_3", "age_band", "sector_green", "min_cell", "population", "weighting.csv", "Vērtējums", "nozare"])


@pytest.mark.slow
def test_the_workbook_names_every_sheet_and_column_in_english(second_run):
    """The English report's workbook: every sheet named in English, headers a person can read (no
    snake_case codes, no code of the codebook), no Latvian; the first sheet explains every sheet."""
    import openpyxl

    tables = second_run.parents[1] / "tables"
    wb = openpyxl.load_workbook(tables / "tables.xlsx")
    csvs = sorted(p.stem for p in tables.glob("*.csv"))
    assert len(wb.sheetnames) == len(csvs) + 1, (wb.sheetnames, csvs)
    codes, _ = _names()
    bad = {}
    for ws in wb.worksheets:
        heads = [c.value for c in ws[1] if isinstance(c.value, str)]
        wrong = [h for h in heads if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h) or h in codes or LATVIAN_LETTERS.search(h)]
        if re.fullmatch(r"[a-z0-9_]+", ws.title) or LATVIAN_LETTERS.search(ws.title):
            wrong.insert(0, f"sheet name {ws.title!r}")
        if wrong:
            bad[ws.title] = wrong
    assert bad == {}
    # cells name groups and questions by their labels too: no variable, option or sector code, no model
    # term 'age_band=18_29' (method names such as 'ordinal_logit' are not checked here)
    coded = {}
    for ws in wb.worksheets[1:]:
        cells = {v for row in ws.iter_rows(min_row=2, values_only=True) for v in row if isinstance(v, str)}
        hits = sorted(v for v in cells if v in codes or re.fullmatch(r"\w+=\w+", v) and v.split("=")[0] in codes)
        if hits:
            coded[ws.title] = hits[:5]
    assert coded == {}
    first = wb.worksheets[0]
    described = {r[0] for r in first.iter_rows(min_row=2, values_only=True) if r[1] in ("", None)}
    assert described == set(wb.sheetnames[1:]), first.title


@pytest.mark.slow
def test_the_summary_methods_describe_what_this_run_did(second_run):
    """The methods list is built from the run: its switched-off time rules are 'not applied', not
    'excluded'; no NPS variance without a recommendation question; no lemmas or theme dictionary
    for Estonian texts without either."""
    import html as h

    page = h.unescape(re.sub(r"<[^>]+>", "", (second_run.parent / "04_summary.html").read_text(encoding="utf-8")))
    methods = page[page.index("Methods and limitations"):]
    assert re.search(r"Not applied \([^)]*\): Completed too fast \(compared with the median\), "
                     r"Outside the consultation period\.", methods), methods[:1500]
    assert re.search(r"Answers excluded by these rules: [^.]*Duplicate", methods)
    assert "too fast, empty and late answers were excluded" not in methods
    assert "NPS" not in methods and "multinomial" not in methods
    assert "Texts processed offline: language detection." in methods
    assert "theme dictionary" not in methods.split("Texts processed offline")[1][:200]
    # no mailbox among its inputs: the proposals are the survey's, never "0 by e-mail"
    assert "Respondents sent 123 proposals in the survey." in page or re.search(r"sent \d+ proposals in the survey", page)
    assert "by e-mail" not in page
