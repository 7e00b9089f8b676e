"""Render executed notebooks to self-contained, code-free HTML, the run's index page, a PDF of
the summary and a workbook for people.

The project template (templates/report) empties every block of the stock lab template that
loads a script from a CDN and adds a Content-Security-Policy that forbids scripts and remote
fetches. This module adds what every page shares: the page language, a slim synthetic-data
line, a navigation bar (summary, stages, tables, method), a table of contents, headings in
order, tables that stack on a phone, and a footer with the consultation period and run date.
Every word comes from the text tables (`analysis.report.t`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

from .report import fmt_date, languages, t

TEMPLATE_DIR = Path(__file__).parent / "templates"
PDF_NAME = "04_summary.pdf"
_TAG = re.compile(r"<[^>]+>")


class ReportError(ValueError):
    """A report cannot be made as asked (e.g. a report language without a text table)."""


def check_language(lang: str) -> str:
    if lang not in languages():
        raise ReportError(f"params: report_lang {lang!r} has no text table; expected one of "
                          f"{', '.join(languages())} (files src/analysis/texts/<lang>.yaml)")
    return lang


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def exporter(lang: str = "lv"):
    from nbconvert import HTMLExporter

    # the page language belongs to the exporter: it overwrites one passed in resources
    exp = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATE_DIR)],
                       language_code=lang)
    exp.exclude_input = True
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    exp.embed_images = True
    # cells tagged remove-cell are notes for researchers, not for the report
    from nbconvert.preprocessors import TagRemovePreprocessor

    exp.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"},
                                                    remove_input_tags={"remove-input"}), enabled=True)
    return exp


def _drop_interactive_banners(nb) -> None:
    """The banner a notebook shows in JupyterLab is replaced by the page's own; printed
    output (stdout, warnings on stderr) is a note for researchers: it stays in the executed
    notebook, not in a page for readers (what a reader sees is displayed HTML, tables, figures)."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if o.get("metadata", {}).get("report") != "banner"
                               and o.get("output_type") != "stream"]


# --- page chrome ---------------------------------------------------------------------------

def banner_html(synthetic: bool, lang: str) -> str:
    """A slim sticky line (the long explanation follows the navigation, not sticky)."""
    if not synthetic:
        return ""
    return (f'<div class="synthetic-banner" role="note">{html.escape(t("report_banner_short", lang))}</div>')


def nav_html(pages: list[tuple[str, str]], current: str, lang: str, pdf: bool = False) -> str:
    """Navigation on every page: reports home, summary, each stage, tables, method."""
    items = [("index.html", t("report_nav_home", lang), None)]
    for name, _title in pages:
        if name.startswith("04"):
            items.append((f"{name}.html", t("report_nav_summary", lang), None))
    for name, title in pages:
        number = name.split("_", 1)[0]
        if not name.startswith("04") and number.isdigit():
            items.append((f"{name}.html", t("report_nav_stage", lang, n=int(number)), title))
    items.append(("../tables/tables.xlsx", t("report_nav_tables", lang), None))
    if any(n.startswith("04") for n, _ in pages):
        summary = next(n for n, _ in pages if n.startswith("04"))
        items.append((f"{summary}.html#s-methods", t("report_nav_method", lang), None))
    if pdf:
        items.append((PDF_NAME, t("report_nav_pdf", lang), None))
    links = []
    for href, label, title in items:
        here = ' aria-current="page"' if href == current else ""
        tip = f' title="{html.escape(title, quote=True)}"' if title else ""
        links.append(f'<li><a href="{html.escape(href, quote=True)}"{here}{tip}>{html.escape(label)}</a></li>')
    return (f'<nav class="site-nav" aria-label="{html.escape(t("report_nav_label", lang), quote=True)}">'
            f'<ul>{"".join(links)}</ul></nav>')


def synthetic_note_html(synthetic: bool, lang: str) -> str:
    return f'<p class="synthetic-note">{html.escape(t("report_banner_long", lang))}</p>' if synthetic else ""


def footer_text(lang: str, window: dict, run_date: dt.date, min_cell: int) -> str:
    period = consultation_period(window, lang)
    parts = [t("report_footer_period", lang, period=period)] if period else []
    parts.append(t("report_footer_run", lang, date=fmt_date(run_date, lang)))
    parts.append(t("report_footer_privacy", lang, min_cell=min_cell))
    return " | ".join(parts)


def consultation_period(window: dict, lang: str) -> str:
    """'01.01.2022.–27.02.2022.' from the codebook's consultation_window ('' when absent)."""
    try:
        start = dt.date.fromisoformat(str(window["start"])[:10])
        end = dt.date.fromisoformat(str(window["end"])[:10])
    except (KeyError, TypeError, ValueError):
        return ""
    return f"{fmt_date(start, lang)}–{fmt_date(end, lang)}"


def run_date(run_dir: Path) -> dt.date:
    """The date a run started, from its id (YYYYMMDD-HHMMSS), else today."""
    m = re.match(r"(\d{4})(\d{2})(\d{2})-\d{6}", run_dir.name)
    if m:
        try:
            return dt.date(*map(int, m.groups()))
        except ValueError:
            pass
    return dt.date.today()


# --- post-processing of a rendered page -----------------------------------------------------

def finish_page(body: str, lang: str, *, banner: str, nav: str, note: str, footer: str) -> str:
    """Headings in order, accessible figures and tables, table of contents, chrome."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, features="html.parser")
    _order_headings(soup)
    _label_tables(soup, lang)
    _alt_from_context(soup, lang)
    for elem in soup.select("div.jp-OutputArea-output"):
        if elem.get("tabindex") == "0" and not elem.find("table"):
            del elem["tabindex"]                 # only scrollable regions take keyboard focus
    text = str(soup)
    # the first screen is the content: the slim banner line says "synthetic" on every screen,
    # its explanation stands at the end, beside the footer
    text = text.replace("<!--CHROME-TOP-->", banner + nav, 1)
    text = text.replace("<!--TOC-->", toc_html(soup, lang), 1)
    text = text.replace("<!--CHROME-FOOTER-->", note + f'<footer class="report-footer">{html.escape(footer)}</footer>', 1)
    return text


def _order_headings(soup) -> None:
    """No level is skipped (an H4 right under an H2 becomes an H3), the first is H1 or H2."""
    previous = 1
    for h in soup.find_all(re.compile(r"^h[1-6]$")):
        level = int(h.name[1])
        level = min(level, previous + 1)
        h.name = f"h{level}"
        previous = level


def _label_tables(soup, lang: str) -> None:
    """Every cell knows its column header (a phone shows rows as stacked cards); a table that
    cannot stack (several header rows) scrolls in a labelled region with a visible hint."""
    for table in soup.find_all("table"):
        if table.find_parent(class_="table-wrap"):
            continue
        head_rows = table.find("thead").find_all("tr") if table.find("thead") else []
        headers = [" ".join(c.get_text(" ", strip=True).split()) for c in head_rows[-1].find_all(["th", "td"])] \
            if head_rows else []
        stackable = len(head_rows) == 1 and headers
        if stackable:
            for tr in (table.find("tbody") or table).find_all("tr"):
                cells = tr.find_all(["th", "td"], recursive=False)
                if len(cells) != len(headers):
                    stackable = False
                    break
                for cell, label in zip(cells, headers):
                    cell["data-label"] = label
        wrap = soup.new_tag("div", attrs={"class": "table-wrap" + (" stack" if stackable else ""),
                                          "role": "region", "tabindex": "0",
                                          "aria-label": t("report_table_region", lang)})
        table.wrap(wrap)
        table["class"] = list(dict.fromkeys((table.get("class") or []) + ["report-table"]))
        # the hint stands before every table; a phone, where a stackable table fits, hides it
        hint = soup.new_tag("p", attrs={"class": "scroll-hint table-hint" + (" for-stack" if stackable else "")})
        hint.string = t("report_table_scroll_hint", lang)
        wrap.insert_before(hint)


def _alt_from_context(soup, lang: str) -> None:
    """An image without a description (nbconvert's placeholder) is described by the heading
    of its section, so no figure is announced as 'no description'."""
    for img in soup.find_all("img"):
        alt = img.get("alt", "")
        if alt and not alt.startswith("No description"):
            continue
        heading = img.find_previous(re.compile(r"^h[1-6]$"))
        where = heading.get_text(" ", strip=True).rstrip("¶").strip() if heading else ""
        img["alt"] = t("report_figure_alt_section", lang, section=where) if where else t("report_figure_alt_none", lang)


def toc_html(soup, lang: str) -> str:
    """A table of contents from the page's h2/h3 headings (nbconvert anchors them)."""
    items = []
    for h in soup.find_all(["h2", "h3"]):
        anchor = h.get("id")
        text = " ".join(h.get_text(" ", strip=True).rstrip("¶").split())
        if anchor and text:
            items.append(f'<li class="toc-{h.name}"><a href="#{html.escape(anchor, quote=True)}">'
                         f'{html.escape(text)}</a></li>')
    if len(items) < 2:
        return ""
    title = html.escape(t("report_toc_title", lang))
    return (f'<nav class="toc" aria-label="{title}"><details><summary>{title}</summary>'
            f'<ul>{"".join(items)}</ul></details></nav>')


def add_toc(body: str, lang: str = "lv") -> str:
    """Insert a table of contents built from the h2/h3 headings nbconvert anchored."""
    from bs4 import BeautifulSoup

    return body.replace("<!--TOC-->", toc_html(BeautifulSoup(body, features="html.parser"), lang), 1)


# --- pages -----------------------------------------------------------------------------------

# Where a prepared page takes its navigation bar (which names every page, so is known last).
NAV_MARK = "<!--REPORT-NAV-->"


def prepare_page(executed: Path, *, synthetic: bool, lang: str, footer: str, title: str | None = None,
                 html_exporter=None) -> str:
    """An executed notebook's page, finished but for its navigation bar (NAV_MARK; see
    `with_nav`). `html_exporter`: one from `exporter(lang)`, reused across pages (its template
    is loaded once)."""
    nb = nbformat.read(executed, as_version=4)
    _drop_interactive_banners(nb)
    if title:
        nb.metadata["title"] = title
    body, _ = (html_exporter or exporter(lang)).from_notebook_node(nb)
    return finish_page(body, lang, banner=banner_html(synthetic, lang), nav=NAV_MARK,
                       note=synthetic_note_html(synthetic, lang), footer=footer)


def with_nav(page: str, nav: str) -> str:
    return page.replace(NAV_MARK, nav, 1)


def _write_page(body: str, out_html: Path) -> Path:
    tmp = out_html.with_suffix(".html.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out_html)
    return out_html


def render_notebook(executed: Path, out_html: Path, *, synthetic: bool, lang: str,
                    footer: str, title: str | None = None, pages: list[tuple[str, str]] | None = None,
                    pdf: bool = False) -> Path:
    body = prepare_page(executed, synthetic=synthetic, lang=lang, footer=footer, title=title)
    pages = pages or [(out_html.stem, title or out_html.stem)]
    return _write_page(with_nav(body, nav_html(pages, out_html.name, lang, pdf=pdf)), out_html)


def notebook_title(executed: Path) -> str:
    """The first level-1 heading: of a markdown cell shown in the report, or of an HTML output."""
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.get("cell_type") == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
        for out in cell.get("outputs", []):
            m = re.search(r"<h1[^>]*>(.*?)</h1>", str(out.get("data", {}).get("text/html", "")), re.S)
            if m:
                return html.unescape(_TAG.sub("", m.group(1))).strip()
    return executed.stem


def _codebook(params: dict[str, Any]):
    from . import codebook, paths

    try:
        return codebook.load(paths.resolve(params["codebook"]))
    except Exception:  # noqa: BLE001 - the report still renders; labels fall back to codes
        return None


class RunPages:
    """A run's pages, prepared one by one (`prepare`: nbconvert and the page's structure, the
    costly part, which the run does for finished stages while the last one runs) and written
    together (`render_run`), when every page's title is known for the navigation bar.

    Not for two threads at once: pages and the workbook read the process's wording
    (analysis.report), which the workbook sets while it writes."""

    def __init__(self, run_dir: Path, params: dict[str, Any]):
        self.run_dir = run_dir
        self.params = params
        self.lang = check_language(str(params.get("report_lang", "lv")))
        self.synthetic = bool(params.get("synthetic"))
        self.cb = _codebook(params)
        self.footer = footer_text(self.lang, self.cb.window if self.cb else {}, run_date(run_dir),
                                  params.get("min_cell", 10))
        self.prepared: dict[str, tuple[str, str]] = {}      # name -> (title, page without nav)
        self.workbook: Path | None = None                   # written ahead (`write_workbook_to`)
        self._child: subprocess.Popen | None = None         # writing it ahead (`start_workbook`)
        self._child_target: Path | None = None
        self._exporter = None

    def prepare(self, name: str) -> tuple[str, str]:
        if name not in self.prepared:
            executed = self.run_dir / "notebooks" / f"{name}.ipynb"
            if self._exporter is None:
                self._exporter = exporter(self.lang)
            title = notebook_title(executed)
            self.prepared[name] = (title, prepare_page(executed, synthetic=self.synthetic, lang=self.lang,
                                                       footer=self.footer, title=title,
                                                       html_exporter=self._exporter))
        return self.prepared[name]

    def spawn_workbook_child(self) -> None:
        """Start the child interpreter that will write the workbook (`start_workbook`): it imports
        what it needs now and then waits for its job, so that loading costs nothing later."""
        from . import paths
        from .workbook import CHILD

        if self._child is not None:
            return
        try:
            self._child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           env=paths.child_env())
        except Exception:  # noqa: BLE001 - then finish_workbook writes it here
            self._child = None

    def start_workbook(self, path: Path) -> None:
        """Start writing the workbook of the run's tables as they are now to `path`, in a child
        interpreter: openpyxl's few seconds run beside the pages and the last stage instead of
        after them (`finish_workbook` waits; if the child fails, the workbook is written here)."""
        import pickle

        self.spawn_workbook_child()
        self._child_target = path
        try:
            self._child.stdin.write(pickle.dumps((str(self.run_dir / "tables"), str(path), self.params, self.lang)))
            self._child.stdin.close()
        except Exception:  # noqa: BLE001 - then finish_workbook writes it here
            self.stop_workbook()

    def finish_workbook(self) -> None:
        """Wait for the child started by `start_workbook` (its workbook becomes `workbook`); when it
        failed, write the workbook in this process (so a real error is raised here, as before)."""
        child, target = self._child, self._child_target
        if target is None:
            return
        self._child = self._child_target = None
        if child is not None and child.wait() == 0 and target.exists():
            self.workbook = target
        else:
            self.write_workbook_to(target)

    def stop_workbook(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            with contextlib.suppress(OSError):
                child.kill()
            child.wait()

    def write_workbook_to(self, path: Path) -> None:
        """The workbook of the run's tables as they are now, written to `path` (moved into
        tables/ by render_run unless `forget_workbook` was called: a later stage wrote tables)."""
        self.workbook = write_workbook(self.run_dir / "tables", str(path), cb=self.cb, lang=self.lang,
                                      themes=self.params.get("themes"))

    def forget_workbook(self) -> None:
        self.stop_workbook()
        self._child_target = None
        if self.workbook is not None:
            with contextlib.suppress(OSError):
                self.workbook.unlink()
        self.workbook = None


def render_run(run_dir: Path, params: dict[str, Any], stage_names: list[str],
               prepared: RunPages | None = None) -> list[Path]:
    """Render every executed notebook of a run, write index.html, the summary's PDF and the
    XLSX workbook. `prepared`: the pages (and workbook) made ahead by the run, if any."""
    run = prepared or RunPages(run_dir, params)
    lang, synthetic, cb, footer = run.lang, run.synthetic, run.cb, run.footer
    report_dir = run_dir / "report"
    report_dir.mkdir(exist_ok=True)
    names = sorted(p.stem for p in (run_dir / "notebooks").glob("*.ipynb"))
    bodies = {name: run.prepare(name) for name in names}
    titled = [(name, bodies[name][0]) for name in names]
    chromium = find_chromium()
    summary = next((n for n, _ in titled if n.startswith("04")), None)
    pages = []
    for name, title in titled:
        nav = nav_html(titled, f"{name}.html", lang, pdf=bool(chromium and summary))
        out = _write_page(with_nav(bodies[name][1], nav), report_dir / f"{name}.html")
        pages.append((name, title, out))
    pdf = None
    if summary:
        pdf = print_pdf(report_dir / f"{summary}.html", report_dir / PDF_NAME, chromium, lang, synthetic)
        if pdf is None:                      # no PDF: no link to one
            for _, _, out in pages:
                _drop_pdf_link(out)
    titles = (cb.titles or {}) if cb else {}
    survey_title = titles.get(lang) or titles.get("en") or next(iter(titles.values()), "")
    run.finish_workbook()
    write_index(report_dir, pages, run_dir.name, synthetic, lang, footer=footer, pdf=pdf is not None,
                survey_title=str(survey_title))
    if run.workbook is not None and run.workbook.exists():
        os.replace(run.workbook, run_dir / "tables" / "tables.xlsx")
        run.workbook = None
    else:
        write_workbook(run_dir / "tables", cb=cb, lang=lang, themes=params.get("themes"))
    return [p for _, _, p in pages]


def _drop_pdf_link(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    page.write_text(re.sub(rf'<li><a href="{re.escape(PDF_NAME)}"[^>]*>.*?</a></li>', "", text), encoding="utf-8")


INDEX_CSS = """
:root { font-size: 16px; }
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 0 auto; padding: 0 1rem 2rem; max-width: 70ch;
  line-height: 1.55; color: #1b1b1b; }
""".strip()


def write_index(report_dir: Path, pages, run_id: str, synthetic: bool, lang: str, *,
                footer: str = "", pdf: bool = False, survey_title: str = "") -> Path:
    summary = [p for p in pages if p[0].startswith("04")]
    details = [p for p in pages if not p[0].startswith("04")]

    def links(items, numbered=True):
        return "".join(f'<li><a href="{html.escape(p.name, quote=True)}">'
                       f'{html.escape(_stage_title(name, title, lang) if numbered else title)}</a></li>'
                       for name, title, p in items)

    pdf_link = (f'<li><a href="{PDF_NAME}">{html.escape(t("report_index_pdf", lang))}</a></li>' if pdf else "")
    nav = nav_html([(n, ti) for n, ti, _ in pages], "index.html", lang, pdf=pdf)
    page = f"""<!DOCTYPE html>
<html lang="{html.escape(lang, quote=True)}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(t('report_index_title', lang))}</title>
<style>{INDEX_CSS}
{CHROME_CSS}</style></head><body>
{banner_html(synthetic, lang)}{nav}{synthetic_note_html(synthetic, lang)}
<main>
<h1>{html.escape(t('report_index_title', lang))}</h1>
{f'<p class="survey-title">{html.escape(survey_title)}</p>' if survey_title else ''}
<h2>{html.escape(t('report_index_summary', lang))}</h2><ul>{links(summary, numbered=False) or '<li>—</li>'}{pdf_link}</ul>
<h2>{html.escape(t('report_index_details', lang))}</h2><ul>{links(details)}</ul>
<p>{html.escape(t('report_index_tables', lang))}</p>
</main>
<footer class="report-footer">{html.escape(footer)}</footer>
</body></html>
"""
    out = report_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    return out


# Shared by the index and (through the template) every stage page
CHROME_CSS = """
.synthetic-banner { position: sticky; top: 0; z-index: 20; background: #fff3cd; color: #3d2c00;
  border-bottom: 2px solid #b58105; font-weight: bold; font-size: .875rem; line-height: 1.3;
  padding: .25rem .75rem; margin: 0 -1rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.synthetic-note { background: #fffaf0; border-left: 4px solid #b58105; padding: .4rem .8rem; }
nav.site-nav ul { list-style: none; margin: .5rem 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem .9rem; }
nav.site-nav a { display: inline-block; padding: .35rem 0; min-height: 24px; }
nav.site-nav a[aria-current="page"] { font-weight: bold; color: inherit; text-decoration: none; }
.report-footer { color: #444; font-size: .9rem; margin-top: 2rem; border-top: 1px solid #ccc; padding-top: .5rem; }
""".strip()


# --- PDF -------------------------------------------------------------------------------------

def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def print_css(lang: str, synthetic: bool) -> str:
    """Page geometry for print: A4, page numbers and (for synthetic data) the banner on every
    page in the page margins (Chromium's CSS margin boxes)."""
    def css_string(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    top = f"@top-center {{ content: {css_string(t('report_banner_short', lang))}; font: bold 9pt sans-serif; color: #6b4e00; }}" \
        if synthetic else ""
    pages = css_string(t("report_pdf_page", lang, page="\x00", pages="\x01"))
    pages = pages.replace("\x00", '" counter(page) "').replace("\x01", '" counter(pages) "')
    return (f"@page {{ size: A4; margin: 16mm 14mm 18mm; {top} "
            f"@bottom-right {{ content: {pages}; font: 9pt sans-serif; color: #444; }} }}")


def print_pdf(page: Path, out: Path, chromium: str | None, lang: str, synthetic: bool,
              timeout: float = 120) -> Path | None:
    """Print a page to PDF with headless Chromium, offline; None (and a line in the run log)
    when Chromium is absent or fails: a PDF never stops a run."""
    if chromium is None:
        _log("  PDF of the summary skipped: headless Chromium is not installed (Debian package `chromium`)")
        return None
    text = page.read_text(encoding="utf-8")
    printable = text.replace("</head>", f"<style>{print_css(lang, synthetic)}</style></head>", 1)
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as tmp:
        src = Path(tmp) / page.name
        src.write_text(printable, encoding="utf-8")
        target = Path(tmp) / "out.pdf"
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--no-pdf-header-footer", f"--user-data-dir={tmp}/profile",
               f"--print-to-pdf={target}", src.resolve().as_uri()]
        try:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            _log(f"  PDF of the summary skipped: Chromium failed ({exc})")
            return None
        if not target.exists() or target.stat().st_size < 1000:
            _log("  PDF of the summary skipped: Chromium wrote no PDF")
            return None
        shutil.copyfile(target, out)
    return out


# --- workbook --------------------------------------------------------------------------------

def write_workbook(tables_dir: Path, name: str = "tables.xlsx", *, cb=None, lang: str = "lv",
                   themes: str | None = None) -> Path | None:
    """The run's tables as a workbook for people (see `analysis.workbook`)."""
    from .workbook import write_workbook as write

    return write(tables_dir, name, cb=cb, lang=lang, themes=themes)


def _stage_title(name: str, title: str, lang: str) -> str:
    """'2. posms: <title>' for a numbered stage notebook (a title that already says so is kept)."""
    number = name.split("_", 1)[0]
    if not number.isdigit() or re.match(r"^\d+\.\s*posms|^Stage\s+\d+", title):
        return title
    return t("report_stage_title", lang, n=int(number), title=title)
