"""Render executed notebooks to self-contained, code-free HTML, and the run's index page.

The project template (templates/report) empties every block of the stock lab template that
loads a script from a CDN, adds a Content-Security-Policy that forbids scripts and remote
fetches, a synthetic-data banner on every page and a table of contents.
"""
from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import nbformat

from .nb import BANNER

TEMPLATE_DIR = Path(__file__).parent / "templates"
FOOTER = {
    "lv": "Sagatavots ar Liepājas konsultācijas analīzes darbvietu. Palaišana {run_id}. "
          "Personas dati aizstāti ar apzīmējumiem; grupas, kurās mazāk par {min_cell} respondentiem, nav rādītas.",
    "en": "Made with the Liepāja consultation analysis workspace. Run {run_id}. "
          "Personal data replaced by placeholders; groups with fewer than {min_cell} respondents are not shown.",
}
INDEX_TEXT = {
    "lv": {"title": "Pārskati", "summary": "Kopsavilkums iedzīvotājiem un domei",
           "details": "Detalizētie posmu pārskati", "run": "Palaišana", "tables": "Tabulas (CSV un XLSX) ir mapē tables/."},
    "en": {"title": "Reports", "summary": "Summary for residents and the council",
           "details": "Detailed stage reports", "run": "Run", "tables": "Tables (CSV and XLSX) are in the tables/ folder."},
}
TOC_TITLE = {"lv": "Saturs", "en": "Contents"}
_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)(?:<a class="anchor-link"[^>]*>.*?</a>)?</h\1>', re.S)
_TAG = re.compile(r"<[^>]+>")


def exporter():
    from nbconvert import HTMLExporter

    exp = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATE_DIR)])
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
    """The banner a notebook shows in JupyterLab is replaced by the template's own."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if o.get("metadata", {}).get("report") != "banner"]


def add_toc(body: str, lang: str = "lv") -> str:
    """Insert a table of contents built from the h2/h3 headings nbconvert anchored."""
    items = []
    for level, anchor, inner in _HEADING.findall(body):
        text = html.escape(html.unescape(_TAG.sub("", inner)).strip())
        if text:
            items.append(f'<li class="toc-h{level}"><a href="#{html.escape(anchor, quote=True)}">{text}</a></li>')
    nav = ""
    if len(items) >= 2:
        nav = (f'<nav class="toc" aria-label="{TOC_TITLE.get(lang, "Contents")}">'
               f'<div class="toc-title">{TOC_TITLE.get(lang, "Contents")}</div><ul>{"".join(items)}</ul></nav>')
    return body.replace("<!--TOC-->", nav, 1)


def render_notebook(executed: Path, out_html: Path, *, synthetic: bool, lang: str,
                    footer: str, title: str | None = None) -> Path:
    nb = nbformat.read(executed, as_version=4)
    _drop_interactive_banners(nb)
    nb.metadata["report"] = {"synthetic": bool(synthetic),
                             "banner": BANNER.get(lang, BANNER["lv"]), "footer": footer}
    if title:
        nb.metadata["title"] = title
    body, _ = exporter().from_notebook_node(nb, resources={"language_code": lang})
    body = add_toc(body, lang)
    tmp = out_html.with_suffix(".html.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out_html)
    return out_html


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


def render_run(run_dir: Path, params: dict[str, Any], stage_names: list[str]) -> list[Path]:
    """Render every executed notebook of a run, write index.html and the XLSX workbook."""
    lang = params.get("report_lang", "lv")
    synthetic = bool(params.get("synthetic"))
    footer = FOOTER.get(lang, FOOTER["lv"]).format(run_id=run_dir.name,
                                                   min_cell=params.get("min_cell", 10))
    report_dir = run_dir / "report"
    report_dir.mkdir(exist_ok=True)
    pages = []
    for name in sorted(p.stem for p in (run_dir / "notebooks").glob("*.ipynb")):
        executed = run_dir / "notebooks" / f"{name}.ipynb"
        title = notebook_title(executed)
        out = render_notebook(executed, report_dir / f"{name}.html", synthetic=synthetic,
                              lang=lang, footer=footer, title=title)
        pages.append((name, title, out))
    write_index(report_dir, pages, run_dir.name, synthetic, lang)
    write_workbook(run_dir / "tables")
    return [p for _, _, p in pages]


def write_index(report_dir: Path, pages, run_id: str, synthetic: bool, lang: str) -> Path:
    t = INDEX_TEXT.get(lang, INDEX_TEXT["lv"])
    summary = [p for p in pages if p[0].startswith("04")]
    details = [p for p in pages if not p[0].startswith("04")]

    def links(items, numbered=True):
        return "".join(f'<li><a href="{html.escape(p.name, quote=True)}">'
                       f'{html.escape(_stage_title(name, title, lang) if numbered else title)}</a></li>'
                       for name, title, p in items)

    banner = (f'<div class="synthetic-banner" role="alert">{html.escape(BANNER.get(lang, BANNER["lv"]))}</div>'
              if synthetic else "")
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{t['title']}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2rem auto;padding:0 1rem;line-height:1.5}}
.synthetic-banner{{background:#fff3cd;border:2px solid #b58105;color:#3d2c00;padding:.6rem 1rem;font-weight:bold;border-radius:4px}}
</style></head><body>
{banner}
<h1>{t['title']}</h1>
<h2>{t['summary']}</h2><ul>{links(summary, numbered=False) or '<li>—</li>'}</ul>
<h2>{t['details']}</h2><ul>{links(details)}</ul>
<p>{t['run']}: {html.escape(run_id)}. {t['tables']}</p>
</body></html>
"""
    out = report_dir / "index.html"
    out.write_text(page, encoding="utf-8")
    return out


def write_workbook(tables_dir: Path, name: str = "tables.xlsx") -> Path | None:
    """All CSV tables as sheets of one workbook, text neutralised, bytes reproducible."""
    import pandas as pd

    csvs = sorted(tables_dir.glob("*.csv"))
    if not csvs:
        return None
    from openpyxl import Workbook
    from openpyxl.utils.dataframe import dataframe_to_rows

    try:
        from .privacy import neutralise_cell
    except ImportError:  # pragma: no cover - privacy is part of the package
        def neutralise_cell(v):
            return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
    wb = Workbook()
    wb.remove(wb.active)
    used = set()
    for csv in csvs:
        frame = pd.read_csv(csv, keep_default_na=False, na_values=[""])
        sheet = _sheet_name(csv.stem, used)
        ws = wb.create_sheet(sheet)
        for row in dataframe_to_rows(frame, index=False, header=True):
            ws.append([None if (isinstance(v, float) and v != v) else neutralise_cell(v) for v in row])
    import datetime as dt

    fixed = dt.datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "analysis"
    buf = io.BytesIO()
    wb.save(buf)
    out = tables_dir / name
    _rezip_fixed_times(buf.getvalue(), out)
    return out


STAGE_WORD = {"lv": "{n}. posms: {title}", "en": "Stage {n}: {title}"}


def _stage_title(name: str, title: str, lang: str) -> str:
    """'2. posms: <title>' for a numbered stage notebook (a title that already says so is kept)."""
    number = name.split("_", 1)[0]
    if not number.isdigit() or re.match(r"^\d+\.\s*posms|^Stage\s+\d+", title):
        return title
    return STAGE_WORD.get(lang, STAGE_WORD["en"]).format(n=int(number), title=title)


def _sheet_name(stem: str, used: set) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", stem)[:31] or "sheet"
    name, i = base, 1
    while name in used:
        i += 1
        name = f"{base[:28]}_{i}"
    used.add(name)
    return name


def _rezip_fixed_times(data: bytes, out: Path) -> None:
    """openpyxl stamps zip entries with the current time; rewrite them with a fixed one."""
    src = zipfile.ZipFile(io.BytesIO(data))
    tmp = out.with_suffix(".xlsx.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl stamps "modified" at save
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            dst.writestr(fixed, content)
    tmp.replace(out)
