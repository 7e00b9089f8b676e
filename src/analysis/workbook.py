"""The run's tables as one workbook for people (tables/tables.xlsx).

Sheets are named in the report language and come in the order of the report, after a first
sheet that explains every sheet and column; headers and cells carry labels from the codebook
and the theme dictionary instead of codes; shares are formatted as percentages; columns have
widths, headers are frozen and filterable. Text is neutralised against formula injection and
the file is byte-reproducible (fixed timestamps). The code-level CSVs stay for analysts.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from .report import TEXT, effect_word, t

# The report's order: who answered, ratings, differences, satisfaction, proposals, checks.
ORDER = ("flow", "profile", "representativeness", "weighting", "items", "dk_by_group", "ranking_by_group",
         "sectors", "sector_tests", "sector_pairs", "findings", "tests", "test_family", "posthoc", "residuals",
         "models", "po_check", "po_partial", "nps", "satisfaction", "satisfaction_model", "themes",
         "theme_by_sector", "theme_by_group", "theme_tests", "theme_quotes", "uncoded_quotes", "language_mix",
         "keywords", "keyness", "collocations", "topics", "topic_quotes", "uncoded_terms", "coverage",
         "agreement", "learn_cv", "learn_model", "text_codes", "next_to_code", "coding_sample")
PERCENT = re.compile(r"share|top2_ci|^(precision|recall|f1)(_lo|_hi)?$|^coverage$")
P_VALUE = re.compile(r"^p(_adj|_unadj)?$")
ITEM_COLS = {"item", "outcome"}
SECTOR_COLS = {"sector", "sector1", "sector2", "higher_sector", "sector_of_theme"}
GROUP_COLS = {"level", "group", "highest_group", "lowest_group", "group1", "group2", "reference", "high_group",
              "low_group"}
GROUPING_COLS = ("grouping", "variable")
VALUE_COLS = {"outcome_type", "family", "effect_measure", "role", "headline", "source", "scope", "direction"}


def _has(key: str) -> bool:
    return key in TEXT


def sheet_title(stem: str, lang: str) -> str:
    key = f"workbook_sheet_{stem}"
    return t(key, lang) if _has(key) else stem


def column_title(col: str, lang: str, cb=None, themes: dict[str, str] | None = None) -> str:
    key = f"workbook_col_{col}"
    if _has(key):
        return t(key, lang)
    if themes and col in themes:                     # one column per theme (coding sheets)
        return themes[col]
    if cb is not None and col in cb.variables:
        return cb.variable_label(col, lang)
    m = re.match(r"^share_(\d+)$", col)
    if m:
        return t("workbook_col_share_point", lang, point=m.group(1))
    if col.startswith("weighted_") and _has(f"workbook_col_{col[9:]}"):
        return t("workbook_col_weighted", lang, name=t(f"workbook_col_{col[9:]}", lang))
    for suffix in ("_ci_low", "_ci_high", "_lo", "_hi"):
        base = col[: -len(suffix)]
        base = {"top2": "top2_share", "weighted_top2": "weighted_top2_share"}.get(base, base)
        if col.endswith(suffix) and base and column_title(base, lang, cb) != base:
            end = "low" if suffix in ("_ci_low", "_lo") else "high"
            return t(f"workbook_col_bound_{end}", lang, name=column_title(base, lang, cb))
    return col


def _labeller(frame: pd.DataFrame, cb, lang: str, themes: dict[str, str]):
    """A function (column, row index, value) -> the value as a person reads it."""
    from .report import grouping_label, level_label, outcome_label

    yes, no = t("likert_yes", lang), t("likert_no", lang)
    grouping_col = next((c for c in GROUPING_COLS if c in frame.columns), None)

    def label(col: str, i: int, value):
        if value is None or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, (bool,)) or (isinstance(value, str) and value in ("True", "False", "true", "false")):
            return yes if str(value).lower() == "true" else no
        if not isinstance(value, str):
            return value
        try:
            if col in ("theme", "closest_theme") and value in themes:
                return themes[value]
            if col == "effect_label":
                return effect_word(value, lang) if value != "undefined" else "—"
            if col == "test" and _has(f"workbook_test_{value}"):
                return t(f"workbook_test_{value}", lang)
            if cb is None:
                return value
            if col in ITEM_COLS:
                return outcome_label(value, cb, lang)
            if col == "term" and "=" in value:       # a model term 'age_band=18_29' -> 'Age: 18–29'
                var, level = value.split("=", 1)
                if var in cb.variables or var == "form_language":
                    return (f"{grouping_label(cb, var, lang)}: "
                            f"{level_label(cb, var, level, lang)}")
            if col in SECTOR_COLS and value in cb.sectors:
                return cb.sector_title(value, lang)
            if col in GROUPING_COLS and (value in cb.variables or "__" in value or value == "form_language"):
                return grouping_label(cb, value, lang)
            if col in cb.variables and cb.variables[col].type in ("single", "multi"):
                return cb.label_of(col, value, lang)
            if col == "levels" and grouping_col is not None and "+" in value:
                grouping = str(frame.iloc[i][grouping_col])
                return ", ".join(str(label("level", i, v)) for v in value.split("+"))
            if col in VALUE_COLS and _has(f"workbook_value_{value}"):
                return t(f"workbook_value_{value}", lang)
            if col in GROUP_COLS and grouping_col is not None:
                grouping = str(frame.iloc[i][grouping_col])
                if grouping in cb.variables or "__" in grouping or grouping == "form_language":
                    return level_label(cb, grouping, value, lang)
        except (KeyError, ValueError, IndexError):
            return value
        return value

    label.grouping = grouping_col
    return label


def _theme_names(themes: str | None, lang: str) -> dict[str, str]:
    """Theme code -> name, read from the theme dictionary's names only (no lemmatising)."""
    if not themes:
        return {}
    import yaml

    from . import paths

    try:
        raw = yaml.load(paths.resolve(themes).read_text(encoding="utf-8"),
                        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (OSError, yaml.YAMLError):
        return {}
    names = {}
    for group in (raw.get("themes") or {}).values():
        for code, spec in (group or {}).items():
            if isinstance(spec, dict) and isinstance(spec.get("name"), dict):
                names[str(code)] = spec["name"].get(lang) or spec["name"].get("lv") or str(code)
    return names


def ordered_tables(tables_dir: Path) -> list[Path]:
    csvs = {p.stem: p for p in tables_dir.glob("*.csv")}
    return [csvs[s] for s in ORDER if s in csvs] + [csvs[s] for s in sorted(csvs) if s not in ORDER]


def write_workbook(tables_dir: Path, name: str = "tables.xlsx", *, cb=None, lang: str = "lv",
                   themes: str | None = None) -> Path | None:
    if cb is None:
        return _write_workbook(tables_dir, name, cb=cb, lang=lang, themes=themes)
    from . import report

    with report.wording(cb):      # sheet and column names follow the rating scale's meaning
        return _write_workbook(tables_dir, name, cb=cb, lang=lang, themes=themes)


def _write_workbook(tables_dir: Path, name: str, *, cb, lang: str, themes: str | None) -> Path | None:
    csvs = ordered_tables(tables_dir)
    if not csvs:
        return None
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from .privacy import neutralise_cell

    theme_names = _theme_names(themes, lang)
    wb = Workbook()
    about = wb.active
    about.title = _safe_sheet(t("workbook_about_sheet", lang), set())
    used = {about.title}
    about_rows = [(t("workbook_about_col_sheet", lang), t("workbook_about_col_column", lang),
                   t("workbook_about_col_text", lang))]
    bold = Font(bold=True)
    for csv in csvs:
        frame = pd.read_csv(csv, keep_default_na=False, na_values=[""], dtype=object)
        numeric = {c: pd.to_numeric(frame[c], errors="coerce") for c in frame.columns}
        sheet = _safe_sheet(sheet_title(csv.stem, lang), used)
        ws = wb.create_sheet(sheet)
        headers = [column_title(c, lang, cb, theme_names) for c in frame.columns]
        ws.append(headers)
        label = _labeller(frame, cb, lang, theme_names)
        cols = list(frame.columns)
        all_numeric = {c: bool(numeric[c].notna().sum() == frame[c].notna().sum()) for c in cols}
        values = frame.to_numpy(dtype=object)
        numbers = {c: numeric[c].to_numpy(dtype=float) for c in cols}
        cache: dict = {}
        for i in range(len(frame)):
            row = []
            for j, c in enumerate(cols):
                raw = values[i, j]
                num = numbers[c][i]
                if all_numeric[c] and num == num:
                    value = float(num)
                else:
                    key = (c, raw, values[i, cols.index(label.grouping)] if label.grouping else None)
                    if key not in cache:
                        cache[key] = label(c, i, raw)
                    value = cache[key]
                if isinstance(value, float) and value.is_integer() and not PERCENT.search(c) \
                        and not P_VALUE.match(c) and "." not in str(raw):
                    value = int(value)
                row.append(neutralise_cell(value) if isinstance(value, str) else value)
            ws.append(row)
        for j, c in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            fmt = "0.0%" if PERCENT.search(c) else "0.0000" if P_VALUE.match(c) else None
            if fmt or numeric[c].notna().any():
                for cell in ws[letter][1:]:
                    if isinstance(cell.value, float):
                        cell.number_format = fmt or "0.00"
            longest = max([len(str(headers[j - 1]))] + [len(str(v.value)) for v in ws[letter][1:200] if v.value is not None])
            ws.column_dimensions[letter].width = max(8, min(60, longest + 2))
            ws[f"{letter}1"].font = bold
            ws[f"{letter}1"].alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
        if len(frame.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 1)}"
        key = f"workbook_about_{csv.stem}"
        about_rows.append((sheet, "", t(key, lang) if _has(key) else t("workbook_about_unknown", lang, file=csv.name)))
        for c, h in zip(frame.columns, headers):
            about_rows.append((sheet, h, t("workbook_about_code", lang, code=c)))
    for r in about_rows:
        about.append([neutralise_cell(v) for v in r])
    for letter, width in (("A", 32), ("B", 45), ("C", 90)):
        about.column_dimensions[letter].width = width
    for cell in about[1]:
        cell.font = bold
    about.freeze_panes = "A2"
    about.auto_filter.ref = f"A1:C{len(about_rows)}"
    fixed = dt.datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "analysis"
    buf = io.BytesIO()
    wb.save(buf)
    out = tables_dir / name
    _rezip_fixed_times(buf.getvalue(), out)
    return out


def _safe_sheet(title: str, used: set) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "1"
    name, i = base, 1
    while name in used:
        i += 1
        name = f"{base[:28]} {i}"
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


# --- in a child interpreter --------------------------------------------------------------------

CHILD = "from analysis.workbook import child_main; child_main()"


def child_main() -> None:
    """`python -c CHILD`: read (tables folder, output path, params, language) pickled on stdin and write the
    workbook there, as `analysis.report_html.RunPages.write_workbook_to` would in the run's process
    (same codebook, language and theme names; imports only what the workbook needs)."""
    import pickle
    import sys

    import openpyxl  # noqa: F401 - loaded while the job is awaited

    from . import codebook, paths

    tables_dir, out, params, lang = pickle.load(sys.stdin.buffer)
    try:
        cb = codebook.load(paths.resolve(params["codebook"]))
    except Exception:  # noqa: BLE001 - as the run's process: labels fall back to codes
        cb = None
    write_workbook(Path(tables_dir), str(out), cb=cb, lang=lang, themes=params.get("themes"))

