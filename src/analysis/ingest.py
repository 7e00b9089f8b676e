"""Read the raw inputs: Microsoft Forms exports (.xlsx/.csv) and e-mailed proposals (mbox/.eml).

This module only *reads*: it turns files into raw frames whose columns are codebook variable
names (matched by header, never by position) plus the Excel row each value came from. It
decodes encodings and dates, removes control characters, and reports every problem it finds
as a `Problem` naming the file, column, rows and what was expected. Recoding labels to codes
and the quality rules live in `clean.py`.

A problem that makes a file unusable raises `InputError` (the CLI maps it to exit 2); a
problem confined to some rows is returned as a row issue so that the rows can be quarantined
with a reason, never dropped silently.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import email
import email.policy
import email.utils
import html
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .codebook import DEFAULT_TIMEZONE, Codebook, header_key, normalize

TIMEZONE = DEFAULT_TIMEZONE   # when no codebook says otherwise (a codebook's timezone wins)
MAX_TEXT_CHARS = 10_000      # Forms caps a long answer at 4,000 characters; more is not an answer
ANOTHER_FORM_SCORE = 0.5     # below this share of matched question headers: a different form
HEADER_SEARCH_ROWS = 20      # title rows above the header row: looked for in the first rows
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORMS_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")
MAIL_EXTENSIONS = (".mbox", ".eml", ".mbx")

# Date-time spellings seen in exports. Month-first comes before day-first: Microsoft Forms
# writes US dates, and a file where every day is <= 12 cannot tell the two apart.
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%m/%d/%y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%m/%d/%y %H:%M", "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%y %I:%M %p",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%y %H:%M",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%y %H:%M:%S", "%d.%m.%y %H:%M",
    "%d.%m.%Y. %H:%M:%S", "%d.%m.%Y. %H:%M",
)
EXPECTED_DATES = ("an Excel date-time cell, or text such as 2/27/22 23:58:04 (month/day/year), "
                  "27.02.2022 23:58 (day.month.year) or 2022-02-27 23:58:04")

MAGIC = {  # the first bytes of files that are not spreadsheets
    b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image", b"{\\rtf": "an RTF document", b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive",
}


# --- problems ---------------------------------------------------------------------------

@dataclass
class Problem:
    """One thing wrong with an input, said for people: file, column, rows, expected, found."""

    severity: str                    # "error" (the run stops) | "warning" (rows quarantined or noted)
    code: str                        # e.g. missing_column, unknown_label, unparseable_date
    file: str
    message: str
    column: str | None = None        # the header as in the file (and the variable, if known)
    rows: tuple[int, ...] = ()       # Excel row numbers (header = row 1), or message numbers
    expected: str | None = None
    count: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        parts = [f"{self.severity.upper()} {self.file}"]
        if self.column:      # a params or codebook file has keys, an export has columns
            is_yaml = self.file == "params" or self.file.lower().endswith((".yaml", ".yml"))
            parts.append(f"{'key' if is_yaml else 'column'} {self.column}")
        if self.rows:
            parts.append(f"{'row' if len(self.rows) == 1 else 'rows'} {format_rows(self.rows, self.count)}")
        text = ", ".join(parts) + f": {self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f". {self.hint}"
        return text


def format_rows(rows: Iterable[int], count: int | None = None, limit: int = 10) -> str:
    rows = sorted(set(int(r) for r in rows))
    shown = ", ".join(str(r) for r in rows[:limit])
    total = max(count or 0, len(rows))
    return shown + (f" … ({total} in all)" if total > limit else "")


class InputError(Exception):
    """Bad input that stops the run (exit 2). Carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | Problem | str, file: str | None = None,
                 column: str | None = None, row: int | None = None, expected: str | None = None):
        if isinstance(problems, str):
            problems = [Problem("error", "input", file or "?", problems, column=column,
                                rows=(row,) if row else (), expected=expected)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = [p for p in problems]
        first = self.problems[0] if self.problems else None
        self.file = file or (first.file if first else None)
        self.column = column or (first.column if first else None)
        self.row = row or (first.rows[0] if first and first.rows else None)
        self.expected = expected or (first.expected if first else None)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class RowIssue:
    """Rows of one file that must be quarantined for a reason found while reading."""

    reason: str                      # reason code for quarantine.parquet
    rows: np.ndarray                 # positions in the export's frame (0-based)
    detail: str                      # no personal data: names the column, never the value
    column: str | None = None


@dataclass
class CellNote:
    """Cells changed while reading (e.g. control characters removed), for the cleaning log."""

    action: str
    variable: str
    rows: np.ndarray


@dataclass
class FormsExport:
    path: Path
    source_file: str
    language: str
    frame: pd.DataFrame              # columns: variable names; object values, None when empty
    source_row: np.ndarray           # Excel row number of each frame row
    headers: dict[str, str]          # variable -> header as written in the file
    kind: str = "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    date_formats: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    row_issues: list[RowIssue] = field(default_factory=list)
    cell_notes: list[CellNote] = field(default_factory=list)
    # columns no variable claims (kept only to judge duplicates and emptiness; never written)
    extra: pd.DataFrame | None = None
    encoding_note: str | None = None          # how the encoding was chosen (declared / detected, confidence)
    notes: list[str] = field(default_factory=list)   # read decisions for the cleaning log (sheet, header row...)

    @property
    def n_rows(self) -> int:
        return len(self.frame)


# --- forms exports ----------------------------------------------------------------------

def sniff(path: Path, head: bytes) -> str:
    """What the file really is: 'xlsx', 'xls', 'text', or a description of something else."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    for magic, what in MAGIC.items():
        if head.startswith(magic):
            return what
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "text"
    start = head.lstrip(codecs.BOM_UTF8).lstrip()[:4096].lower()
    if start.startswith(b"<") and any(tag in start for tag in (b"<table", b"<html", b"<!doctype html")):
        return "html"
    sample = head[:65536]
    if sample:
        controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
        if controls / len(sample) > 0.05:
            return "binary data"
    return "text"


def read_forms(path: str | Path, cb: Codebook, max_text_chars: int = MAX_TEXT_CHARS,
               source_file: str | None = None) -> FormsExport:
    """Read one Forms export (.xlsx or .csv) into a frame of codebook variables.

    Raises InputError (with every problem of the file) when the file cannot be used: empty,
    not a spreadsheet, damaged, of another form, a required column missing, duplicate headers,
    or a date column in no known format. Row-level problems become `row_issues`.
    """
    path = Path(path)
    name = source_file or path.name
    if not path.exists():
        raise InputError(Problem("error", "not_found", name, f"file not found: {path}",
                                 hint="Check `inputs` in the params file"))
    if path.is_dir():
        raise InputError(Problem("error", "not_a_file", name, "is a folder, expected a Forms export file"))
    size = path.stat().st_size
    if size == 0:
        raise InputError(Problem("error", "empty_file", name, "the file is empty (0 bytes)",
                                 expected="a Microsoft Forms export (.xlsx or .csv) with a header row",
                                 hint="Download the responses again from Forms"))
    with path.open("rb") as fh:
        head = fh.read(65536)
    kind = sniff(path, head)
    problems: list[Problem] = []
    ext = path.suffix.lower()
    if kind not in ("xlsx", "xls", "text", "html"):
        raise InputError(Problem("error", "not_a_spreadsheet", name,
                                 f"this is not a spreadsheet: the content looks like {kind}",
                                 expected="a Microsoft Forms export (.xlsx or .csv)"))
    content = {"xlsx": "an Excel workbook (.xlsx)", "xls": "an old Excel workbook (.xls)",
               "text": "text (CSV)", "html": "an HTML table (a web page saved with a spreadsheet name)"}[kind]
    named = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls"}.get(ext, "text")
    if named != kind:
        problems.append(Problem("warning", "misnamed_file", name,
                                f"the file is named {ext or '(no extension)'} but its content is {content}; "
                                "read by its content", hint="Rename the file to match its content"))
    encoding = delimiter = None
    notes: list[str] = []
    if kind in ("xlsx", "xls"):
        sheets = _read_workbook(path, name, kind, by_content=named != kind, cb=cb)
    elif kind == "html":
        text, encoding, note = _decode(path.read_bytes(), name, cb)
        sheets = [("HTML table", (lambda t=text: html_table_cells(t, name)))]
        notes.append(note)
    else:
        cells, encoding, delimiter, note = _read_csv(path, name, cb)
        sheets = [("CSV", (lambda c=cells: c))]
        notes.append(note)
    export = _frame_from_sheets(sheets, path, name, cb, problems, max_text_chars)
    export.kind = {"text": "csv"}.get(kind, kind)
    export.encoding, export.delimiter = encoding, delimiter
    export.encoding_note = notes[0] if notes else None
    return export


def _read_workbook(path: Path, name: str, kind: str, by_content: bool = False,
                   cb: Codebook | None = None) -> list[tuple[str, Any]]:
    """The sheets of a workbook as (name, loader): a loader returns every cell of its sheet,
    header row included, blank rows kept (row numbers stay true). Sheets are read when asked."""
    if kind == "xlsx":
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                bad = zf.testzip() if path.stat().st_size < 5_000_000 else None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputError(Problem("error", "damaged_file", name,
                                     f"the workbook is truncated or damaged ({exc})",
                                     expected="a complete .xlsx file",
                                     hint="Download the export again")) from None
        if "xl/workbook.xml" not in names:
            raise InputError(Problem("error", "not_a_spreadsheet", name,
                                     "a zip archive but not an Excel workbook (no xl/workbook.xml)",
                                     expected="a Microsoft Forms export (.xlsx or .csv)"))
        if bad:
            raise InputError(Problem("error", "damaged_file", name,
                                     f"the workbook is damaged (corrupt part {bad})",
                                     hint="Download the export again"))
    # python-calamine directly, not through pandas.read_excel: the same reader, without pandas'
    # per-cell conversion (half the time on 100k rows), and blank rows keep their place.
    # A workbook whose name says another format is read by its content (calamine's from_path
    # goes by the extension).
    from python_calamine import CalamineWorkbook

    def damaged(exc):
        return InputError(Problem("error", "damaged_file", name,
                                  f"the workbook cannot be read ({type(exc).__name__}: {exc})",
                                  expected="a complete .xlsx file exported from Microsoft Forms",
                                  hint="Open it in Excel and save it again, or download it again"))

    try:
        if by_content:
            with path.open("rb") as fh:
                workbook = CalamineWorkbook.from_filelike(io.BytesIO(fh.read()))
        else:
            workbook = CalamineWorkbook.from_path(str(path))
        sheet_names = list(workbook.sheet_names)
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        raise damaged(exc) from None

    def loader(i):
        def load():
            if kind == "xlsx" and not by_content and cb is not None:
                cells = _arrow_cells(path, workbook, i, cb)
                if cells is not None:
                    return cells
            try:
                rows = workbook.get_sheet_by_index(i).to_python(skip_empty_area=False)
            except Exception as exc:
                raise damaged(exc) from None
            return pd.DataFrame(rows, dtype=object)
        return load

    return [(n, loader(i)) for i, n in enumerate(sheet_names)] or [("", lambda: pd.DataFrame())]


_NOT_PLAIN_TEXT = re.compile(r"^\s*([-+]?\d[\d.,eE+-]*|true|false|\d{4}-\d\d-\d\d.*|\d\d:\d\d.*)\s*$")


def _arrow_cells(path: Path, workbook: Any, index: int, cb: Codebook) -> pd.DataFrame | None:
    """The cells of one sheet read Arrow-native, streamed (`xlsx_stream`: batches of a few
    thousand rows straight from the sheet XML, so memory follows the batch and the cells kept,
    never the whole parsed sheet), else with fastexcel (`_fastexcel_cells`: it holds the whole
    sheet, about 5 GB for a million responses), else None (the cell-by-cell read). Both give
    the values fastexcel gives, in the same layout; see `_fastexcel_cells`."""
    cells = _streamed_cells(path, index, cb)
    if cells is not None:
        return cells
    return _fastexcel_cells(path, workbook, index, cb)


def _streamed_cells(path: Path, index: int, cb: Codebook) -> pd.DataFrame | None:
    """`_fastexcel_cells` from `xlsx_stream` batches: the header (row 1) must be plain text in
    every column and unique, each column one type (or empty) over the whole sheet, and no value
    right of the header; else None. Each batch column is dictionary-encoded and its distinct
    values become Python objects once (a pointer a cell in the frame)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import xlsx_stream

    try:
        got = xlsx_stream.read_sheet(path, index)
    except Exception:          # a damaged workbook: the readers below say what is wrong
        return None
    if got is None:
        return None
    header, batches, dim = got
    top = header.get(1, {})
    width = max(top) + 1 if top else 0
    names = [top.get(j) for j in range(width)]
    if not width or any(type(h) is not str or not h.strip() for h in names) or set(header) != {1}:
        return None
    seen: set[str] = set()
    for h in names:
        base = re.sub(r"_\d+$", "", h)
        if h in seen or (base != h and base in seen) or _NOT_PLAIN_TEXT.match(h):
            return None
        seen.add(h)
    cap = max(dim[0] - 1, 0) if dim else 1024          # the sheet's <dimension>: rows below the header
    cells = np.full((1 + cap, width), "", dtype=object, order="F")
    types: list[Any] = [None] * width
    plain = (pa.types.is_string, pa.types.is_large_string, pa.types.is_float64, pa.types.is_int64,
             pa.types.is_boolean, pa.types.is_timestamp)
    total = 0
    try:
        for base, arrays in batches:
            n = max(len(a) for a in arrays)
            start = base - 1                      # frame row of the batch's first row (header = 0)
            if start + n > cells.shape[0]:
                grown = np.full((max(2 * cells.shape[0], start + n), width), "", dtype=object, order="F")
                grown[:cells.shape[0]] = cells
                cells = grown
            for j, col in enumerate(arrays):
                if pa.types.is_null(col.type) or col.null_count == len(col):
                    continue
                if j >= width or not any(is_type(col.type) for is_type in plain) or (
                        types[j] is not None and types[j] != col.type):
                    return None
                types[j] = col.type
                enc = pc.dictionary_encode(col)
                uniques = np.empty(len(enc.dictionary) + 1, dtype=object)
                uniques[:-1] = enc.dictionary.to_pylist()
                uniques[-1] = ""                                   # an empty cell, as calamine gives it
                codes = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
                cells[start:start + len(col), j] = uniques[codes]
            total = start + n
    except xlsx_stream.Unsupported:
        return None
    except Exception:          # a damaged part of the workbook: the readers below say what is wrong
        return None
    cells[0] = np.array(names, dtype=object)
    if total == 0:
        total = 1
    frame = pd.DataFrame(cells[:total] if total < cells.shape[0] else cells, dtype=object, copy=False)
    if cb.match_headers(names)["score"] < 0.99 and _header_row(frame, cb)[0] != 0:
        return None             # a title row above the header: the cell-by-cell read
    return frame


def _fastexcel_cells(path: Path, workbook: Any, index: int, cb: Codebook) -> pd.DataFrame | None:
    """The cells of one sheet read Arrow-native (fastexcel, the same calamine engine), the
    same values python-calamine's to_python gives (empty -> "", numbers float, date-times
    datetime), or None when the sheet needs the cell-by-cell read: mixed types in a column, an
    empty first header cell (the used area may not start at column A), a cell type without a
    plain Python twin, or a title/header cell that is not plain text.

    One read: the first row gives the headers (fastexcel's column names: unnamed columns and
    renamed duplicates are left to the cell-by-cell read, as are title rows above the header),
    the body below it keeps each column's own type. Each column is dictionary-encoded and its
    distinct values become Python objects once; every cell is then a pointer to one of them, so
    memory follows the distinct answers plus 8 bytes a cell, not a Python object per cell.
    `workbook` (the python-calamine one) is not touched: loading a sheet there would parse and
    hold every cell a second time."""
    import logging

    try:
        import fastexcel
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    logging.getLogger("fastexcel").setLevel(logging.ERROR)    # "falling back to string" for empty columns
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(
            index, header_row=0, dtype_coercion="strict", schema_sample_rows=None)
        columns = sheet.available_columns()
        names = [c.name for c in columns]
        if not names or any(c.column_name_from == "generated" for c in columns):
            return None
        seen: set[str] = set()
        for h in names:
            base = re.sub(r"_\d+$", "", h)
            if (base != h and base in seen) or _NOT_PLAIN_TEXT.match(h):
                return None          # a renamed duplicate, or a header that is not plain text
            seen.add(h)
        body = sheet.to_arrow()
        del sheet, columns          # calamine's copy of the cells goes before the Python side is built
    except Exception:       # strict types refused, or anything calamine's own read reports better
        return None
    width, row = len(names), 0
    top = [names]
    if len(body) and body.num_columns != width:
        return None
    plain = (pa.types.is_string, pa.types.is_large_string, pa.types.is_float64, pa.types.is_int64,
             pa.types.is_boolean, pa.types.is_null)
    n = len(body)
    # column-major: each column written (and later read) as one contiguous run of pointers, and
    # it is the layout pandas keeps an object block in (the frame below takes it without a copy)
    cells = np.empty((len(top) + n, width), dtype=object, order="F")
    cells[:len(top)] = np.array(top, dtype=object).reshape(len(top), width)
    for j in range(width if n else 0):
        col = body.column(j)
        if pa.types.is_timestamp(col.type) and col.type.tz is None:
            pass
        elif not any(is_type(col.type) for is_type in plain):
            return None
        if pa.types.is_null(col.type):
            cells[len(top):, j] = ""
            continue
        enc = pc.dictionary_encode(col)
        uniques = np.empty(len(enc.dictionary) + 1, dtype=object)
        uniques[:-1] = enc.dictionary.to_pylist()
        uniques[-1] = ""                                   # an empty cell, as calamine gives it
        codes = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
        cells[len(top):, j] = uniques[codes]
    frame = pd.DataFrame(cells, dtype=object, copy=False)
    if _header_row(frame, cb)[0] != row:       # a title row above the header: the cell-by-cell read
        return None
    return frame


class _HTMLTable(HTMLParser):
    """Cells of the first <table> of a page (a Forms or intranet export saved as .xls)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.depth = 0
        self.done = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if tag == "table":
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self.rows.append([])
        elif self.depth == 1 and tag in ("td", "th") and self.rows is not None:
            if not self.rows:
                self.rows.append([])
            self.cell = []
        elif self.cell is not None and tag == "br":
            self.cell.append("\n")

    def handle_endtag(self, tag):
        if self.done:
            return
        if tag == "table":
            self.depth -= 1
            self.done = self.depth == 0 and bool(self.rows)
        elif self.depth == 1 and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_table_cells(text: str, name: str) -> pd.DataFrame:
    """The first HTML table of a page as a frame of cells (header row first)."""
    parser = _HTMLTable()
    parser.feed(text)
    parser.close()
    rows = [r for r in parser.rows if r]
    if not rows:
        raise InputError(Problem("error", "not_a_spreadsheet", name,
                                 "an HTML page without a table",
                                 expected="a Microsoft Forms export (.xlsx or .csv)",
                                 hint="Download the responses again from Forms as an Excel workbook"))
    width = max(len(r) for r in rows)
    return pd.DataFrame([[None if c == "" else c for c in r] + [None] * (width - len(r)) for r in rows],
                        dtype=object)


# Letters beyond ASCII of the languages a form may be in: a CSV's 8-bit encoding is chosen
# by how many of its non-ASCII characters decode to letters of the form's languages.
NON_ASCII_LETTERS = {
    "lv": "āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "lt": "ąčęėįšųūžĄČĘĖĮŠŲŪŽ", "et": "äöõüšžÄÖÕÜŠŽ",
    "fi": "äöåšžÄÖÅŠŽ", "sv": "åäöÅÄÖ", "da": "æøåÆØÅ", "no": "æøåÆØÅ", "nb": "æøåÆØÅ",
    "de": "äöüßÄÖÜ", "fr": "àâæçéèêëîïôœùûüÿÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ", "es": "áéíñóúüÁÉÍÑÓÚÜ¿¡",
    "it": "àèéìíîòóùúÀÈÉÌÍÎÒÓÙÚ", "pt": "áâãàçéêíóôõúÁÂÃÀÇÉÊÍÓÔÕÚ", "nl": "éëïóöüÉËÏÓÖÜ",
    "pl": "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "cs": "áčďéěíňóřšťúůýžÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ",
    "sk": "áäčďéíĺľňóôŕšťúýžÁÄČĎÉÍĹĽŇÓÔŔŠŤÚÝŽ", "hu": "áéíóöőúüűÁÉÍÓÖŐÚÜŰ",
    "ro": "ăâîșțşţĂÂÎȘȚŞŢ", "hr": "čćđšžČĆĐŠŽ", "sl": "čšžČŠŽ", "en": "",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюяАБВГДЕЁЖЗІЙКЛМНОПРСТУЎФХЦЧШЫЬЭЮЯ",
}
# typographic characters every language uses (quotes, dashes, no-break space ...)
COMMON_NON_ASCII = "\u00a0«»„“”‘’‚–—…•€°§©®™±×·"
EIGHT_BIT_ENCODINGS = ("windows-1257", "windows-1252", "windows-1251", "windows-1250")
ENCODING_CONFIDENCE = 0.9     # share of non-ASCII characters that must read as the form's letters
ENCODING_MARGIN = 0.1         # ... and by how much more than the next encoding


def _decode(data: bytes, name: str, cb: Codebook | None = None) -> tuple[str, str, str]:
    """Text of a CSV and how its encoding was chosen: (text, encoding, note for the cleaning log).

    A declared encoding (codebook `formats.encoding`) is used as declared. Else a BOM decides;
    else strict UTF-8; else each 8-bit encoding is scored by the share of non-ASCII characters
    that decode to letters of the form languages (confidence stated). When no encoding is
    clearly best the file stops with a message asking to declare it: never a silent guess."""
    declared = cb.encoding if cb is not None else None
    if declared:
        try:
            return data.decode(declared), declared, f"encoding {declared} (declared in the codebook)"
        except UnicodeDecodeError as exc:
            raise InputError(Problem("error", "bad_encoding", name,
                                     f"the file is not {declared} as the codebook declares (byte {exc.start})",
                                     expected=f"a CSV saved as {declared}",
                                     hint="Correct `formats.encoding` in the codebook")) from None
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="strict"), "utf-8-sig", "encoding utf-8 (byte order mark)"
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return data.decode("utf-16"), "utf-16", "encoding utf-16 (byte order mark)"
    try:
        return data.decode("utf-8"), "utf-8", "encoding utf-8 (valid UTF-8)"
    except UnicodeDecodeError:
        pass
    languages = tuple(cb.languages) if cb is not None else ("lv",)
    letters = set(COMMON_NON_ASCII) | (_codebook_letters(cb) if cb is not None else set())
    for lang in languages:
        letters |= set(NON_ASCII_LETTERS.get(lang, ""))
    scores: dict[str, float] = {}
    texts: dict[str, str] = {}
    for enc in EIGHT_BIT_ENCODINGS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        texts[enc] = text
        scores[enc] = _letter_score(text, letters)
    # encodings that give the very same text are one choice, not a tie
    ranked = []
    for enc in sorted(scores, key=lambda e: -scores[e]):
        if all(texts[enc] != texts[r] for r in ranked):
            ranked.append(enc)
    if ranked:
        best = ranked[0]
        second = scores[ranked[1]] if len(ranked) > 1 else 0.0
        if scores[best] >= ENCODING_CONFIDENCE and scores[best] - second >= ENCODING_MARGIN:
            return texts[best], best, (f"encoding {best} detected: {scores[best]:.0%} of the words with "
                                       f"non-ASCII letters read as {'/'.join(languages)} (next best "
                                       f"{ranked[1] if len(ranked) > 1 else '-'}: {second:.0%})")
    found = ", ".join(f"{e} {scores[e]:.0%}" for e in ranked) or "none decodes"
    raise InputError(Problem("error", "bad_encoding", name,
                             f"the text is not UTF-8 and its 8-bit encoding cannot be told with confidence "
                             f"(share of words with non-ASCII letters that read as {'/'.join(languages)}: {found})",
                             expected="a CSV saved as UTF-8, or its encoding declared in the codebook",
                             hint="Declare it as `formats: {encoding: windows-1257}` (or windows-1252 ...) in the "
                                  "codebook, or save the file again from Excel as 'CSV UTF-8'"))


_WORD = re.compile(r"[^\W\d_]+")


def _codebook_letters(cb: Codebook) -> set[str]:
    """Non-ASCII letters of the codebook's own headers and labels (expected in its exports)."""
    texts: list[str] = []
    for v in cb.variables.values():
        texts += list(v.headers.values()) + list(v.aliases)
        for o in v.options:
            texts += list(o.labels.values())
        for hs in v.option_headers.values():
            texts += list(hs.values())
    for sc in cb.scales.values():
        texts += [t for labs in sc.labels.values() for t in labs.values()] + list(sc.dont_know.values())
    return {ch for t in texts for ch in str(t) if ord(ch) > 127 and ch.isalpha()}


def _letter_score(text: str, letters: set[str]) -> float:
    """Share of the words with non-ASCII characters that read as words of the form languages:
    every such character one of their letters, and no word mixing Latin and Cyrillic script
    (a Latvian file decoded as windows-1251 gives "Dzоvoju")."""
    good = total = 0
    for word in _WORD.findall(text):
        high = [ch for ch in word if ord(ch) > 127]
        if not high:
            continue
        total += 1
        cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in word)
        mixed = 0 < cyrillic < len(word)
        good += (not mixed) and all(ch in letters for ch in high)
    return good / total if total else 0.0


def _read_csv(path: Path, name: str, cb: Codebook) -> tuple[pd.DataFrame, str, str, str]:
    text, encoding, note = _decode(path.read_bytes(), name, cb)
    if not text.strip():
        raise InputError(Problem("error", "empty_file", name, "the file holds no text",
                                 expected="a header row and one row per response"))
    # The delimiter is the one whose header row matches the codebook best: headers contain
    # commas, so counting characters would mislead. Title lines above the header are allowed.
    best = None
    for sep in (",", ";", "\t"):
        try:
            lines = list(zip(range(HEADER_SEARCH_ROWS), csv.reader(io.StringIO(text[:200_000]), delimiter=sep)))
        except csv.Error:
            continue
        for _, header in lines:
            score = cb.match_headers([normalize(h) for h in header])["score"]
            key = (score, len(header))
            if best is None or key > best[0]:
                best = (key, sep)
    delimiter = best[1] if best else ","
    frame = _arrow_csv_cells(text, delimiter)
    if frame is not None:
        return frame, encoding, delimiter, note
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=object,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False,
                            engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(Problem("error", "malformed_csv", name, f"the CSV cannot be parsed ({exc})",
                                 expected="one header row and the same number of fields on every row")) from None
    return frame, encoding, delimiter, note


def _arrow_csv_cells(text: str, delimiter: str) -> pd.DataFrame | None:
    """The decoded CSV read by pyarrow's CSV reader, every field a string (empty fields "",
    as pandas gives them with na_filter off), each column's distinct values made Python
    strings once (see _arrow_cells); None when the file needs pandas' read (rows of another
    length, blank lines: pandas keeps them as rows, or reports the line)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyarrow import csv as pacsv
    except ImportError:
        return None
    try:
        first = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None
    names = [f"f{i}" for i in range(len(first))]
    data = text.encode("utf-8")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, encoding="utf8", block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                              ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                                 null_values=[], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    cells = np.empty((table.num_rows, len(names)), dtype=object)
    for j in range(len(names)):
        start = 0
        for chunk in table.column(j).chunks:
            enc = pc.dictionary_encode(chunk)
            uniques = np.array(enc.dictionary.to_pylist() + [""], dtype=object)
            codes = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
            cells[start:start + len(chunk), j] = uniques[codes]
            start += len(chunk)
    return pd.DataFrame(cells, dtype=object, copy=False)


def _header_row(cells: pd.DataFrame, cb: Codebook) -> tuple[int, float]:
    """The row (0-based) among the first ones whose cells match the codebook's headers best,
    and that share; title rows above the header are common in exports passed on by hand."""
    best = (0, -1.0)
    for r in range(min(HEADER_SEARCH_ROWS, cells.shape[0])):
        row = ["" if _blank(h) else str(h) for h in cells.iloc[r].tolist()]
        if not any(row):
            continue
        score = cb.match_headers(row)["score"]
        if score > best[1]:
            best = (r, score)
        if score >= 0.99:
            break
    return best


def _frame_from_sheets(sheets: list[tuple[str, Any]], path: Path, name: str, cb: Codebook,
                       problems: list[Problem], max_text_chars: int) -> FormsExport:
    """Find the sheet and the row that hold the form's headers, then read the responses.

    The first sheet is taken when its headers match; else every other sheet is looked at, and
    a file with none says what was found on each."""
    seen = []
    chosen = None
    for k, (sheet, load) in enumerate(sheets):
        cells = load()
        if cells.shape[0] == 0 or cells.shape[1] == 0:
            seen.append(f"{sheet!r}: empty")
            continue
        row, score = _header_row(cells, cb)
        seen.append(f"{sheet!r}: best header row {row + 1} matches {max(score, 0):.0%} of the questions")
        if chosen is None or score > chosen[3]:
            chosen = (k, sheet, cells, score, row)
        if score >= ANOTHER_FORM_SCORE:
            break
    if chosen is None:
        raise InputError(Problem("error", "empty_file", name, "the sheet has no cells" if len(sheets) <= 1
                                 else "no sheet has any cells",
                                 expected="a header row and one row per response"))
    k, sheet, cells, score, row = chosen
    notes = []
    if score >= ANOTHER_FORM_SCORE:
        if k > 0:
            problems.append(Problem("warning", "other_sheet", name,
                                    f"the responses are on sheet {sheet!r}, not on the first sheet; read from there",
                                    hint="; ".join(seen)))
            notes.append(f"sheet {sheet!r}")
        if row > 0:
            problems.append(Problem("warning", "title_rows", name,
                                    f"the header is on row {row + 1}; the {row} row(s) above it are ignored"))
            notes.append(f"header on row {row + 1}")
    else:
        row = 0 if score <= 0 else row
    export = _frame_from_cells(cells.iloc[row:].reset_index(drop=True), path, name, cb, problems,
                               max_text_chars, first_row=row + 1,
                               found="; ".join(seen) if len(sheets) > 1 or row else None)
    export.notes.extend(notes)
    return export


def _frame_from_cells(cells: pd.DataFrame, path: Path, name: str, cb: Codebook,
                      problems: list[Problem], max_text_chars: int, first_row: int = 1,
                      found: str | None = None) -> FormsExport:
    """Cells (header row first) -> a frame of codebook variables; `first_row` is the sheet row
    number of the header (rows above it were titles)."""
    if cells.shape[0] == 0 or cells.shape[1] == 0:
        raise InputError(Problem("error", "empty_file", name, "the sheet has no cells",
                                 expected="a header row and one row per response"))
    raw_headers = ["" if _blank(h) else str(h) for h in cells.iloc[0].tolist()]
    # trailing unnamed, empty columns are spreadsheet artefacts
    while raw_headers and raw_headers[-1] == "" and cells.iloc[1:, len(raw_headers) - 1].map(_blank).all():
        raw_headers.pop()
    cells = cells.iloc[:, :len(raw_headers)]
    match = cb.match_headers(raw_headers)
    lang = match["language"]
    errors = _header_problems(raw_headers, match, cb, name, found)
    problems.extend(p for p in errors if p.severity == "warning")
    errors = [p for p in errors if p.severity == "error"]
    if errors:
        raise InputError(errors + [p for p in problems if p.severity == "error"])

    body = cells.iloc[1:]
    missing_codes = set(cb.missing_values)

    def column(pos: int) -> np.ndarray:
        values = body.iloc[:, pos].to_numpy(dtype=object)
        if missing_codes:   # the survey's own codes for "no answer" ("NA", "-1", ...) -> empty
            # judged once per distinct text, not per cell (factorize would take 1, 1.0 and True
            # as one value: a column with other kinds of cells is judged cell by cell)
            codes, uniques = pd.factorize(values)
            if all(type(x) is str for x in uniques) and all(x is None for x in values[codes < 0]):
                hit = [i for i, x in enumerate(uniques) if normalize(x) in missing_codes]
                if hit:
                    values = values.copy()
                    values[np.isin(codes, hit)] = None
                return values
            values = values.copy()
            for i, x in enumerate(values):
                if x is not None and normalize(_plain_number(x)) in missing_codes:
                    values[i] = None
        return values

    positions = {col: raw_headers.index(h) for h, col in match["mapping"].items()}
    data = {col: column(pos) for col, pos in positions.items() if "__" not in col}
    for v in cb.variables.values():
        if v.type == "multi" and v.layout == "columns":
            # one column per option: a tick is any value; "not ticked" and "skipped" are both empty,
            # so a row without any tick is taken as not answered (NA), never as "none chosen"
            ticks = {c: column(positions[f"{v.name}__{c}"]) for c in v.codes if f"{v.name}__{c}" in positions}
            if ticks:
                chosen = [tuple(c for c, col in ticks.items() if not _blank(col[i])) for i in range(len(body))]
                data[v.name] = np.array([t if t else None for t in chosen] + [None], dtype=object)[:-1]
    for v in cb.variables.values():           # optional columns absent from this export
        if v.name not in data:
            data[v.name] = np.full(len(body), None, dtype=object)
    # object dtype on purpose: raw cells stay Python values until recoded (no string inference);
    # built in the codebook's order at once (selecting the columns afterwards copies every cell)
    frame = pd.DataFrame({v: data[v] for v in cb.variables if v in data}, index=pd.RangeIndex(len(body)),
                         dtype=object)
    extra_pos = [i for i, h in enumerate(raw_headers) if h not in match["mapping"] and header_key(h)]
    extra = pd.DataFrame({f"{header_key(raw_headers[i])}#{i}": column(i) for i in extra_pos},
                         index=pd.RangeIndex(len(body)), dtype=object)
    headers: dict[str, str] = {}
    for h, col in match["mapping"].items():
        var, code = cb.column_owner(col)
        headers.setdefault(var, h)
        if code:
            headers[col] = h
    export = FormsExport(path=path, source_file=name, language=lang, frame=frame,
                         source_row=np.arange(first_row + 1, first_row + 1 + len(body)),
                         headers=headers, problems=problems, extra=extra)
    if len(body) == 0:
        problems.append(Problem("warning", "no_responses", name,
                                "the export has a header row but no responses yet"))
    named = re.findall(r"(?<![a-z])(" + "|".join(map(re.escape, cb.languages)) + r")(?![a-z])", path.stem.lower())
    if named and lang not in named:
        problems.append(Problem("warning", "language_mismatch", name,
                                f"the file name says {'/'.join(named)} but its headers are those of the "
                                f"{lang} form; rows are taken as {lang}",
                                hint="Check that the right file is listed under `inputs`"))
    _tidy_cells(export, cb, max_text_chars)
    _parse_time_columns(export, cb)
    return export


def _plain_number(x: Any) -> Any:
    """-1.0 read from a workbook compares as "-1" with the missing-value codes."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def _header_problems(headers: list[str], match: dict, cb: Codebook, name: str,
                     found: str | None = None) -> list[Problem]:
    """Missing, renamed, duplicate and unexpected headers; a file of another form."""
    out: list[Problem] = []
    lang = match["language"]
    counts: dict[str, int] = {}
    for h in headers:
        key = header_key(h)
        counts[key] = counts.get(key, 0) + 1
    for key, n in counts.items():
        if n > 1 and key:
            cols = [_col_letter(i) for i, h in enumerate(headers) if header_key(h) == key]
            out.append(Problem("error", "duplicate_header", name,
                               f"the header appears {n} times (columns {', '.join(cols)})",
                               column=f"{key!r}", expected="each question once",
                               hint="Remove the extra column; values are matched by header, never by position"))
    for var, hs in match["duplicates"].items():
        if len({header_key(h) for h in hs}) > 1:
            out.append(Problem("error", "duplicate_header", name,
                               f"{len(hs)} columns claim the variable {var}: {', '.join(repr(h) for h in hs)}",
                               column=var, expected="each question once"))
    if match["score"] < ANOTHER_FORM_SCORE:
        share = f"{match['score']:.0%}"
        out.append(Problem("error", "another_form", name,
                           f"this looks like the export of another form: only {share} of the question "
                           f"headers of {cb.survey} were found (best language: {lang})",
                           expected=f"the headers of the {cb.survey} form in one of: {', '.join(cb.languages)}",
                           hint=("What was found: " + found + ". " if found else "")
                           + "Check that the right file is listed under `inputs`"))
        return out
    unexpected = [h for h in match["unexpected"] if header_key(h)]
    for h in match.get("loosely_matched", []):
        out.append(Problem("warning", "header_matched_loosely", name,
                           f"matched to {match['mapping'][h]} ignoring capitals, '?' and spacing",
                           column=repr(h)))
    for col in match.get("missing_options", []):
        var, code = cb.column_owner(col)
        out.append(Problem("warning", "missing_option_column", name,
                           f"no column for option {code!r} of {var}: nobody is counted as choosing it",
                           column=col, expected=repr(cb.variables[var].option_headers[code].get(lang))))
    for var in match["missing"]:
        v = cb.variables[var]
        expected_header = v.headers.get(lang) or next(
            (hs.get(lang) for hs in v.option_headers.values()), None) or v.name
        close = difflib.get_close_matches(header_key(expected_header), [header_key(h) for h in unexpected],
                                          n=1, cutoff=0.6)
        hint = (f"Column {close[0]!r} looks like it was renamed: add it as an alias of {var} in the codebook "
                f"or restore the header" if close else "export the responses again with every question")
        out.append(Problem("error", "missing_column", name,
                           f"required column for {var} is missing", column=f"{expected_header!r} ({var})",
                           expected=f"a column headed {expected_header!r}", hint=hint))
    for h in unexpected:
        out.append(Problem("warning", "unexpected_column", name,
                           "a column the codebook does not know; it is not analysed (never written out) "
                           "but counts when duplicates and empty responses are judged",
                           column=repr(h)))
    if any(not header_key(h) for h in headers):
        out.append(Problem("warning", "unnamed_column", name,
                           "a column without a header; it is ignored",
                           column=", ".join(_col_letter(i) for i, h in enumerate(headers) if not header_key(h))))
    return out


def _col_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _tidy_cells(export: FormsExport, cb: Codebook, max_text_chars: int) -> None:
    """Free texts: blank -> None, control characters removed, oversized answers marked — on
    distinct values, so the cost follows the number of different answers, not of rows."""
    frame = export.frame
    # only free-text columns: answer labels are looked up per distinct value while recoding
    # (blanks and stray characters there are handled, or reported as unknown labels), and
    # parse_times reads blank or textual times itself
    for var in (v.name for v in cb.of_type("text")):
        codes, uniques = pd.factorize(frame[var].to_numpy(dtype=object))
        new = np.append(uniques.astype(object), None)     # position -1 (missing) -> None
        changed = bool((codes < 0).any())
        oversized, controls = [], []
        for i, u in enumerate(uniques):
            if not isinstance(u, str):
                continue
            cleaned = CONTROL_CHARS.sub("", u) if CONTROL_CHARS.search(u) else u
            if cleaned is not u:
                controls.append(i)
            if not cleaned.strip():
                new[i], changed = None, True
            elif cleaned is not u:
                new[i], changed = cleaned, True
            if len(cleaned) > max_text_chars:
                oversized.append(i)
        label = f"{export.headers.get(var, var)!r} ({var})"
        if oversized:
            rows = np.flatnonzero(np.isin(codes, oversized))
            export.row_issues.append(RowIssue("oversized_text", rows,
                                              f"{var}: more than {max_text_chars} characters", var))
            export.problems.append(Problem("warning", "oversized_text", export.source_file,
                                           f"answer longer than {max_text_chars:,} characters; "
                                           "the row is quarantined", column=label,
                                           rows=tuple(export.source_row[rows][:50]), count=len(rows),
                                           expected=f"at most {max_text_chars:,} characters (Forms allows 4,000)"))
        if controls:
            rows = np.flatnonzero(np.isin(codes, controls))
            export.cell_notes.append(CellNote("removed_control_characters", var, rows))
            export.problems.append(Problem("warning", "control_characters", export.source_file,
                                           "NUL or other control characters removed from the text",
                                           column=label, rows=tuple(export.source_row[rows][:50]),
                                           count=len(rows)))
        if changed:
            frame[var] = pd.Series(new[codes], index=frame.index, dtype=object)


def _parse_time_columns(export: FormsExport, cb: Codebook) -> None:
    for role in ("start_time", "completion_time", "last_modified"):
        try:
            var = cb.role(role).name
        except KeyError:
            continue
        header = export.headers.get(var)
        if header is None:           # optional column absent from this export
            export.frame[var] = pd.Series(pd.NaT, index=export.frame.index,
                                          dtype=f"datetime64[us, {cb.timezone}]")
            continue
        raw = export.frame[var]
        parsed, bad, fmt = parse_times(raw, cb.timezone, cb.date_formats)
        export.frame[var] = parsed
        if fmt:
            export.date_formats[var] = fmt
        label = f"{header!r} ({var})"
        # cells with something written in them: only needed when some could not be read
        written = (raw.notna() & (raw.astype(str).str.strip() != "")).to_numpy() if bad.any() else None
        required = cb.variables[var].required
        if bad.any() and parsed.notna().sum() == 0 and written.any() and role != "last_modified":
            examples = ", ".join(repr(str(v)) for v in pd.unique(raw[bad & written].astype(str))[:3])
            raise InputError([Problem("error", "unparseable_date", export.source_file,
                                      f"no value could be read as a date-time (e.g. {examples})",
                                      column=label, rows=tuple(export.source_row[bad][:20]),
                                      count=int(bad.sum()), expected=EXPECTED_DATES,
                                      hint="Save the export again from Forms, or as an .xlsx")]
                             + [p for p in export.problems if p.severity == "error"])
        if bad.any():
            rows = np.flatnonzero(bad)
            if role == "last_modified" or not required:
                rows = np.flatnonzero(bad & written)
                if len(rows):
                    export.problems.append(Problem("warning", "unparseable_date", export.source_file,
                                                   "date-time not understood; left empty", column=label,
                                                   rows=tuple(export.source_row[rows][:50]), count=len(rows),
                                                   expected=EXPECTED_DATES))
                continue
            export.row_issues.append(RowIssue("unparseable_date", rows, f"{var}: missing or not a date-time", var))
            export.problems.append(Problem("warning", "unparseable_date", export.source_file,
                                           "date-time missing or not understood; the rows are quarantined",
                                           column=label, rows=tuple(export.source_row[rows][:50]),
                                           count=len(rows), expected=EXPECTED_DATES))
        if fmt and "%m/%d" in fmt and _ambiguous_day_month(parsed):
            export.problems.append(Problem("warning", "ambiguous_date", export.source_file,
                                           "every date also reads as day/month; month/day was assumed "
                                           "(as Microsoft Forms writes)", column=label))


def _ambiguous_day_month(times: pd.Series) -> bool:
    t = times.dropna()
    return bool(len(t)) and bool((t.dt.day <= 12).all())


def parse_times(values: pd.Series, tz: str = TIMEZONE,
                formats: tuple[str, ...] = ()) -> tuple[pd.Series, np.ndarray, str | None]:
    """Excel date-time cells, Excel serial numbers or text -> tz-aware times in `tz` (the codebook's).

    Returns (times, bad, format): `bad` marks the rows without a readable date-time (blank ones
    included); `format` is the text format chosen for the column (one per file: the one that reads
    the most values; month-first wins a tie, as Forms writes US dates). Naive times are taken as
    local time in `tz` (the form owner's time zone, from the codebook).
    """
    n = len(values)
    arr = values.to_numpy(dtype=object)
    kinds = pd.Series(arr).map(type).to_numpy()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    is_dt = np.isin(kinds, [dt.datetime, pd.Timestamp])
    is_num = np.isin(kinds, [int, float, np.int64, np.float64])
    is_str = kinds == str
    if is_dt.any():
        out[is_dt] = pd.to_datetime(pd.Series(arr[is_dt], index=values.index[is_dt]), errors="coerce")
    if is_num.any():
        serial = pd.to_numeric(pd.Series(arr[is_num], index=values.index[is_num]), errors="coerce")
        serial = serial.where((serial > 1) & (serial < 2958465))
        out[is_num] = EXCEL_EPOCH + pd.to_timedelta(serial * 86400, unit="s").dt.round("s")
    fmt = None
    if is_str.any():
        text = pd.Series(arr[is_str], index=values.index[is_str]).str.strip()
        fmt, parsed = _parse_text_times(text, formats)
        out[is_str] = parsed
    bad = out.isna().to_numpy()
    local = out.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    # an hour that occurs twice (autumn clock change) is taken as the first (summer time)
    twice = local.isna() & out.notna()
    if twice.any():
        local[twice] = out[twice].dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return local, bad, fmt


def _parse_text_times(text: pd.Series, declared: tuple[str, ...] = ()) -> tuple[str | None, pd.Series]:
    """The format that reads most values (the codebook's declared formats first, then the known
    spellings); others fill the rest, never with the other day/month order."""
    order = tuple(dict.fromkeys((*declared, *DATE_FORMATS)))
    tried = {f: pd.to_datetime(text, format=f, errors="coerce") for f in order}
    counts = {f: int(s.notna().sum()) for f, s in tried.items()}
    best = max(order, key=lambda f: (counts[f], -order.index(f)))
    if counts[best] == 0:
        return None, tried[best]
    parsed = tried[best].copy()
    # other spellings may fill the rest, but never the other day/month order
    conflicting = "%d/%m" if "%m/%d" in best else "%m/%d" if "%d/%m" in best else None
    for f in order:
        if parsed.notna().all():
            break
        if f == best or (conflicting and conflicting in f):
            continue
        parsed = parsed.fillna(tried[f])
    return best, parsed


# --- e-mail -----------------------------------------------------------------------------

@dataclass
class MailMessage:
    source_file: str
    source_row: int                  # 1-based message number in the mbox (1 for an .eml file)
    sender: str | None               # address only, lower-cased; stays in memory, never written
    received_at: pd.Timestamp | None
    text: str                        # decoded body, quotes and signature removed (not redacted yet)
    attachments: list[str]
    message_id: str | None
    reason: str | None = None        # broken_message | empty | oversized_text | unparseable_date
    detail: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class MailBatch:
    path: Path
    source_file: str
    messages: list[MailMessage]
    problems: list[Problem] = field(default_factory=list)


def read_mail(path: str | Path, max_text_chars: int = MAX_TEXT_CHARS,
              source_file: str | None = None) -> MailBatch:
    """Read an mbox file or a folder of .eml files; one MailMessage per message.

    A message that cannot be parsed or decoded keeps its place with a `reason` (it goes to
    quarantine); it never stops the run. A file that is not a mailbox raises InputError.
    """
    path = Path(path)
    name = source_file or ("mail1" if path.suffix.lower() == ".eml" or path.is_dir() else path.name)
    if not path.exists():
        raise InputError(Problem("error", "not_found", name, f"file not found: {path}",
                                 hint="Check `inputs.email` in the params file"))
    batch = MailBatch(path=path, source_file=name, messages=[])
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml")
        if not files:
            batch.problems.append(Problem("warning", "no_messages", name, "the folder holds no .eml files"))
        for k, f in enumerate(files, start=1):    # never the .eml's own name: it can be a person's
            batch.messages.append(_message_from_bytes(f.read_bytes(), name, k, None, max_text_chars))
        _note_problems(batch)
        return batch
    data = path.read_bytes()
    if not data.strip():
        batch.problems.append(Problem("warning", "no_messages", name, "the mailbox is empty (no messages yet)"))
        return batch
    if path.suffix.lower() == ".eml":
        batch.messages.append(_message_from_bytes(data, name, 1, None, max_text_chars))
        _note_problems(batch)
        return batch
    if not data.startswith(b"From "):
        kind = sniff(path, data[:65536])
        what = kind if kind not in ("text", "xlsx", "xls") else (
            "an Excel workbook" if kind != "text" else "text that does not start with a 'From ' line")
        raise InputError(Problem("error", "not_a_mailbox", name, f"this is not an mbox mailbox: {what}",
                                 expected="an mbox export (each message begins with a line 'From …') "
                                          "or a folder of .eml files"))
    for i, (from_line, raw) in enumerate(split_mbox(data), start=1):
        batch.messages.append(_message_from_bytes(raw, name, i, from_line, max_text_chars))
    _note_problems(batch)
    return batch


def split_mbox(data: bytes) -> list[tuple[bytes, bytes]]:
    """Messages of an mbox as (From_ line, message bytes); a 'From ' line starts each one.

    Done by hand rather than with `mailbox.mbox` so a damaged file is read as far as it goes
    and each message keeps its number.
    """
    starts = [0] + [m.start() + 1 for m in re.finditer(rb"\n(?=From )", data)]
    out = []
    for a, b in zip(starts, starts[1:] + [len(data)]):
        chunk = data[a:b]
        nl = chunk.find(b"\n")
        from_line, body = (chunk, b"") if nl < 0 else (chunk[:nl], chunk[nl + 1:])
        # mboxrd: ">From " in a body is an escaped "From "
        body = re.sub(rb"(?m)^>(>*From )", rb"\1", body)
        out.append((from_line.rstrip(b"\r"), body))
    return out


def _note_problems(batch: MailBatch) -> None:
    for reason in ("broken_message", "empty", "oversized_text", "unparseable_date"):
        rows = [m.source_row for m in batch.messages if m.reason == reason]
        if rows:
            what = {"broken_message": "message cannot be read; quarantined",
                    "empty": "message has no text after removing quotes and signature; quarantined",
                    "oversized_text": f"message longer than {MAX_TEXT_CHARS:,} characters; quarantined",
                    "unparseable_date": "message has no readable date; quarantined"}[reason]
            batch.problems.append(Problem("warning", reason, batch.source_file, what,
                                          rows=tuple(rows), count=len(rows)))


class _HeaderCachePolicy(email.policy.EmailPolicy):
    """``email.policy.default`` whose parsed headers are remembered by (name, value).

    The default policy parses a header each time it is read (``Content-Type`` several times per
    part: type, charset, file name), and most of a mailbox's parts share a handful of header
    values; parsing is a pure function of (name, value) and the header objects are immutable,
    so a remembered one is the same object the parse would make. Issue 15: 50,000 e-mails at
    national scale."""

    _cache: dict[tuple[str, str], Any] = {}
    _CACHE_MAX = 50_000

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        key = (name, value)
        got = self._cache.get(key)
        if got is None:
            got = super().header_fetch_parse(name, value)
            if len(self._cache) >= self._CACHE_MAX:
                self._cache.clear()
            self._cache[key] = got
        return got


_MAIL_POLICY = _HeaderCachePolicy()


def _message_from_bytes(raw: bytes, source_file: str, number: int, from_line: bytes | None,
                        max_text_chars: int) -> MailMessage:
    msg_out = MailMessage(source_file, number, None, None, "", [], None)
    try:
        if not raw.strip():
            raise ValueError("the message is empty")
        msg = email.message_from_bytes(raw, policy=_MAIL_POLICY)
        if not msg.keys():
            raise ValueError("no mail headers")
        msg_out.sender = _sender(msg)
        msg_out.message_id = (str(msg.get("Message-ID") or "").strip() or None)
        msg_out.received_at = _received_at(msg, from_line)
        text, attachments, notes = _body_text(msg)
        msg_out.attachments = attachments
        msg_out.notes = notes
    except Exception as exc:  # a broken message is quarantined, never a crash
        msg_out.reason, msg_out.detail = "broken_message", f"{type(exc).__name__}: {_safe_error(exc)}"
        return msg_out
    text = clean_mail_text(text)
    if len(text) > max_text_chars:
        msg_out.reason, msg_out.detail = "oversized_text", f"body: more than {max_text_chars} characters"
    elif not re.search(r"\w", text):
        msg_out.reason, msg_out.detail = "empty", "no text after removing quotes and signature"
    elif msg_out.received_at is None:
        msg_out.reason, msg_out.detail = "unparseable_date", "no readable Date header"
    msg_out.text = text
    return msg_out


def _safe_error(exc: Exception) -> str:
    # error texts can quote header values (addresses): keep the gist only
    text = str(exc).splitlines()[0] if str(exc) else ""
    return re.sub(r"\S+@\S+", "[E-PASTS]", text)[:120]


def _sender(msg) -> str | None:
    for header in ("From", "Reply-To", "Sender", "Return-Path"):
        value = msg.get(header)
        if value:
            try:
                addrs = email.utils.getaddresses([str(value)])
            except Exception:
                continue
            for _, addr in addrs:
                if "@" in addr:
                    return addr.strip().lower()
    return None


def _received_at(msg, from_line: bytes | None) -> pd.Timestamp | None:
    candidates = [str(msg.get("Date") or "")]
    if from_line:
        # "From sender@example.org Mon Feb 21 10:00:00 2022"
        parts = from_line.decode("latin-1").split(None, 2)
        if len(parts) == 3:
            candidates.append(parts[2])
    for value in candidates:
        if not value.strip():
            continue
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            try:
                when = dt.datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %Y")
            except ValueError:
                continue
        ts = pd.Timestamp(when)
        ts = ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)
        return ts
    return None


def _body_text(msg) -> tuple[str, list[str], list[str]]:
    """Plain text preferred, HTML turned to text; attachments listed by name, never parsed."""
    notes: list[str] = []
    attachments: list[str] = []
    plain: list[str] = []
    html_parts: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
        ctype = part.get_content_type()
        if disposition == "attachment" or (filename and ctype not in ("text/plain", "text/html")):
            attachments.append(filename or f"({ctype})")
            continue
        if ctype not in ("text/plain", "text/html"):
            if ctype.startswith(("image/", "application/", "audio/", "video/")):
                attachments.append(filename or f"({ctype})")
            continue
        text = decode_part(part, notes)
        (plain if ctype == "text/plain" else html_parts).append(text)
    defects = [type(d).__name__ for p in msg.walk() for d in getattr(p, "defects", [])]
    if plain and any(t.strip() for t in plain):
        body = "\n".join(plain)
    elif html_parts:
        body = "\n".join(html_to_text(h) for h in html_parts)
    else:
        body = ""
    serious = [d for d in defects if "Base64" in d or d in ("MissingHeaderBodySeparatorDefect",)]
    misdecoded = any(n.startswith(("decoded as", "undecodable")) for n in notes)
    if serious and (not body.strip() or body.count("\ufffd") > 3 or misdecoded):
        raise ValueError(f"the body cannot be decoded ({', '.join(sorted(set(serious)))})")
    if defects:
        notes.append("defects: " + ", ".join(sorted(set(defects))))
    return body, attachments, notes


def decode_part(part, notes: list[str] | None = None) -> str:
    """A text part's bytes decoded: transfer encoding first, then the declared charset, then
    UTF-8 and windows-1257 (mail clients mislabel Baltic text often)."""
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = b""
    if isinstance(payload, str):
        return payload
    declared = part.get_content_charset()
    tried = []
    for charset in (declared, "utf-8", "windows-1257"):
        if not charset or charset in tried:
            continue
        tried.append(charset)
        try:
            text = payload.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
        if declared and charset != declared and notes is not None:
            notes.append(f"decoded as {charset} although declared {declared}")
        return text
    if notes is not None:
        notes.append(f"undecodable bytes replaced (declared charset {declared})")
    return payload.decode("windows-1257", errors="replace")


class _HTMLText(HTMLParser):
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_stack: list[str] = []      # tags whose content is skipped (quotes, scripts)

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        if self.skip_stack:
            if tag not in ("br", "img", "hr", "meta", "link", "input"):
                self.skip_stack.append(tag)
            return
        if tag in self.SKIP or tag == "blockquote" or any(q in cls for q in ("gmail_quote", "moz-cite-prefix", "yahoo_quoted")):
            self.skip_stack.append(tag)
            return
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.skip_stack:
            if tag in self.skip_stack:
                while self.skip_stack and self.skip_stack.pop() != tag:
                    pass
            return
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip_stack:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """HTML body -> text with line breaks at block elements; quoted blocks and scripts dropped."""
    parser = _HTMLText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]+>", " ", markup))
    text = "".join(parser.parts).replace("\xa0", " ")
    return re.sub(r"[ \t]+", " ", text)


ATTRIBUTION = re.compile(
    r"(?im)^(?:"
    r"on\b[^\n]{0,200}(?:\n[^\n]{0,200})?\bwrote:\s*$"
    r"|[^\n]{0,200}\brakstīja:\s*$"
    r"|[^\n]{0,200}\bнаписал(?:\(а\)|а)?:\s*$"
    r"|-{2,}\s*(?:original message|oriģinālā ziņa|sākotnējā ziņa|исходное сообщение|forwarded message|pārsūtītā ziņa|пересылаемое сообщение)\s*-{2,}"
    r"|(?:from|no|от|sūtītājs):\s[^\n]*\n(?:sent|nosūtīts|отправлено|datums|date):"
    r")")
_CLOSING_WORDS = (
    r"ar cieņu|ar cienu|ar patiesu cieņu|ar labiem vēlējumiem|ar labiem velejumiem|ar labākajiem vēlējumiem|"
    r"ar labakajiem velejumiem|ar sveicieniem|sveicieni|visu labu|ar cieņu un pateicību|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|всего наилучшего|"
    r"best regards|kind regards|warm regards|regards|best wishes|yours sincerely|yours faithfully|sincerely")
# a closing formula on a line of its own (perhaps followed by the name), or a bare "thanks"
CLOSINGS = re.compile(
    rf"(?i)^\s*(?:(?:{_CLOSING_WORDS})\b[^\n]{{0,40}}|(?:paldies|liels paldies|спасибо|большое спасибо|thanks|thank you|cheers)\s*[!.,]*)\s*$")
FOOTERS = re.compile(r"(?i)^\s*(?:sent from my|get outlook for|nosūtīts no|nosutits no|sūtīts no|отправлено с|отправлено из)\b")
GREETING = re.compile(   # "Labdien!", "Sveiki, Anna!", "Cienījamie kolēģi!", "Dear Sir or Madam,", "Здравствуйте!"
    r"^\s*(?:(?i:cienījam\w*|cienijam\w*|godājam\w*|god\.|dear|уважаем\w*)(?:[\s,]+[\w.-]+){0,3}"
    r"|(?i:labdien|labrīt|labrit|labvakar|sveiki|sveicināti|sveicinati|hi|hello|good (?:morning|afternoon|evening)"
    r"|здравствуйте|добрый (?:день|вечер)|доброе утро|привет)(?:[\s,]+[A-ZĀČĒĢĪĶĻŅŠŪŽА-ЯЁ][\w-]*)?)"
    r"\s*[^\w\n]{0,3}\s*$")
CONTACT_LINE = re.compile(
    r"(?i)^\s*(?:(?:tel|tālr|tālrunis|talr|mob|phone|ph|тел|телефон|моб|e-pasts|epasts|email|e-mail|эл\.\s*почта)\.?\s*:?\s*)?"
    r"(?:\(?\+?\d[\d\s().-]{6,}\d|\S+@\S+\.\w+|https?://\S+|www\.\S+)\s*$")
NAME_LINE = re.compile(r"^\s*(?:[A-ZĀČĒĢĪĶĻŅŠŪŽА-ЯЁ][\w'’.-]*\s*){1,3}$")


def clean_mail_text(text: str) -> str:
    """Remove quoted earlier messages, signatures and trailing name/phone lines from a body."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = CONTROL_CHARS.sub("", text)
    m = ATTRIBUTION.search(text)
    if m:
        text = text[:m.start()]
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(">")]
    # signature: the "-- " delimiter, or a closing formula in the second half of the message
    for i, ln in enumerate(lines):
        if ln.rstrip() in ("--", "-- ", "—", "__"):
            lines = lines[:i]
            break
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    for i in nonblank[1:]:
        if FOOTERS.match(lines[i]) or (CLOSINGS.match(lines[i]) and i >= len(lines) // 3):
            lines = lines[:i]
            break
    # a greeting alone on the first line ("Labdien!", "Здравствуйте,") carries no proposal
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    if len(nonblank) > 1 and len(lines[nonblank[0]]) <= 60 and GREETING.match(lines[nonblank[0]]):
        lines = lines[nonblank[0] + 1:]
    # trailing contact lines, and a name line just above them or after a blank line
    stripped_contact = False
    while lines and (not lines[-1].strip() or CONTACT_LINE.match(lines[-1])):
        stripped_contact |= bool(lines[-1].strip())
        lines.pop()
    if len(lines) > 1 and NAME_LINE.match(lines[-1]) and not re.search(r"[.!?:;]\s*$", lines[-1]):
        above = lines[-2].strip()
        if stripped_contact or not above or re.search(r"[,!]\s*$", above):
            lines.pop()
            while lines and (not lines[-1].strip() or CONTACT_LINE.match(lines[-1])):
                lines.pop()
    text = "\n".join(ln.rstrip() for ln in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# --- inputs from params -----------------------------------------------------------------

def expand_inputs(entries: Any, extensions: tuple[str, ...], root: Path) -> list[Path]:
    """Paths from a params `inputs` entry: a path, a list, a folder or a glob pattern."""
    if entries is None:
        return []
    if isinstance(entries, (str, Path)):
        entries = [entries]
    out: list[Path] = []
    for entry in entries:
        p = Path(entry)
        p = p if p.is_absolute() else root / p
        if not p.exists() and any(ch in str(entry) for ch in "*?["):
            # a path that exists is a name (`forms lv [1].xlsx`), not a pattern; a pattern
            # that matches nothing stays as given, so reading it reports "file not found"
            out.extend(sorted(p.parent.glob(p.name)) or [p])
        elif p.is_dir() and not any(f.suffix.lower() == ".eml" for f in p.iterdir()):
            out.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in extensions))
        else:
            out.append(p)
    return out


def source_names(files: list[Path]) -> dict[Path, str]:
    """The name each input file is known by in the outputs: its file name, or more if names clash.
    A single .eml file and a folder of .eml files are known as ``mail1``, ``mail2``... in the
    order given: their names are typed by people and often a person's name."""
    names = {f: f.name for f in files}
    eml = [f for f in files if f.suffix.lower() == ".eml" or f.is_dir()]
    for k, f in enumerate(eml, start=1):
        names[f] = f"mail{k}"
    clash = {n for n in names.values() if list(names.values()).count(n) > 1}
    for f in files:
        if f.name in clash and f not in eml:
            names[f] = "/".join(f.parts[-2:])
    return names
