"""A streaming writer of the generator's Forms workbooks, byte for byte what openpyxl writes.

``analysis.synth`` used to build every cell of an export as an openpyxl cell object (or, above
100 000 rows, stream them through openpyxl's write-only workbook): about 60 % of the time of a
national-scale export and a cell object per answer in memory. This module writes the sheet XML
itself, row by row, straight into the zip member:

- every part of the workbook other than the sheet (styles, workbook, properties, theme, content
  types) is taken from openpyxl's own output for the header row and the first data row (the
  "template"); only the sheet's ``<dimension>`` depends on the number of rows;
- each cell is serialised as openpyxl 3.1 serialises it (``etree_write_cell``): numbers as
  ``t="n"`` with ``%.16g``, dates as Excel serials in style 1 (the Forms date format), strings
  as inline strings (``xml:space="preserve"`` when they start or end with white space), error
  codes as ``t="e"``, empty cells left out; the same escaping (``&``, ``<``, ``>``);
- the zip members get the fixed dates and attributes of ``synth._normalize_zip``, and zlib's
  output does not depend on how the input is cut into pieces, so the bytes are the same as the
  openpyxl path's (``tests/test_synth.py`` checks the embedded sample and a workbook forced
  through both paths).

Above ``zip64_rows`` rows the sheet member is written with a ZIP64 header (its XML passes 2 GB
near a million rows), the only byte difference a large export has from what openpyxl's path
would write.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

SHEET_MEMBER = "xl/worksheets/sheet1.xml"
ERROR_CODES = ('#NULL!', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#N/A')   # openpyxl's
_ILLEGAL = re.compile(r'[\000-\010]|[\013-\014]|[\016-\037]')                            # openpyxl's
_DIMENSION = re.compile(r'<dimension ref="[^"]*" />')
FLUSH_CHARS = 1 << 20            # sheet XML handed to the compressor per write


def column_letter(j: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _escape(s: str) -> str:
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    return s


def _string_tail(value: str) -> str:
    """What follows `<c r="A1` for a text cell, as openpyxl writes it (check_string first:
    truncated to 32 767 characters, control characters refused)."""
    value = value[:32767]
    if _ILLEGAL.search(value):
        raise ValueError(f"{value!r} cannot be used in worksheets")
    if value == "":
        return '" t="inlineStr" />'
    if value in ERROR_CODES:
        return f'" t="e"><v>{_escape(value)}</v></c>'
    stripped = value.strip()
    t = '<t xml:space="preserve">' if stripped and stripped != value else "<t>"
    return f'" t="inlineStr"><is>{t}{_escape(value)}</t></is></c>'


def sheet_rows(rows: Iterable[list[Any]], first_row: int, n_cols: int, date_cols: set[int],
               to_serial: Callable[[dt.datetime], float]) -> Iterator[str]:
    """The `<row>` elements of `rows` (lists of values, None for an empty cell), numbered from
    `first_row`; `date_cols` are the 0-based columns whose datetimes take the date style."""
    letters = [column_letter(j + 1) for j in range(n_cols)]
    cache: dict[str, str] = {}                        # the labels: the same tail again and again
    last_date: list = [None, None]
    for i, values in enumerate(rows, start=first_row):
        rs = str(i)
        out = [f'<row r="{rs}">']
        for j, v in enumerate(values):
            if v is None:
                continue
            cls = v.__class__
            if cls is str:
                tail = cache.get(v)
                if tail is None:
                    tail = _string_tail(v)
                    if len(v) <= 80 and len(cache) < 100_000:
                        cache[v] = tail
                out.append(f'<c r="{letters[j]}{rs}{tail}')
            elif cls is dt.datetime:
                if j not in date_cols:
                    raise TypeError(f"a date-time outside the date columns (column {letters[j]})")
                if v != last_date[0]:
                    last_date[:] = [v, "%.16g" % to_serial(v)]
                out.append(f'<c r="{letters[j]}{rs}" s="1" t="n"><v>{last_date[1]}</v></c>')
            elif cls is int or cls is float:
                out.append(f'<c r="{letters[j]}{rs}" t="n"><v>{"%.16g" % v}</v></c>')
            else:
                raise TypeError(f"cell value of type {cls.__name__} (column {letters[j]}): not written here")
        out.append("</row>")
        yield "".join(out)


def write_workbook(path: Path, template: bytes, headers: list[str], rows: Iterable[list[Any]], n_rows: int,
                   date_cols: set[int], zip_time: tuple, *, zip64: bool = False) -> None:
    """Write the workbook of `headers` and `n_rows` rows at `path`: every member but the sheet
    copied from `template` (openpyxl's workbook of the same headers and at least one row, members
    in its order), the sheet streamed. `date_cols` are 1-based, as in synth."""
    from openpyxl.utils.datetime import to_excel

    src = zipfile.ZipFile(io.BytesIO(template))
    n_cols = len(headers)
    dcols = {c - 1 for c in date_cols}
    with open(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=zip_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            if info.filename != SHEET_MEMBER:
                dst.writestr(zi, src.read(info.filename))
                continue
            xml = src.read(info.filename).decode("utf-8")
            head, rest = xml.split("<sheetData>", 1)
            tail = rest.split("</sheetData>", 1)[1]
            dim = f'<dimension ref="A1:{column_letter(n_cols)}{n_rows + 1}" />'
            head, k = _DIMENSION.subn(dim, head)
            if k != 1:
                raise RuntimeError("the template sheet has no single <dimension>")
            with dst.open(zi, "w", force_zip64=zip64) as out:
                buf = [head, "<sheetData>"]
                size = 0
                written = 0
                for row in sheet_rows([headers], 1, n_cols, set(), to_excel):
                    buf.append(row)
                for row in sheet_rows(rows, 2, n_cols, dcols, to_excel):
                    buf.append(row)
                    written += 1
                    size += len(row)
                    if size >= FLUSH_CHARS:
                        out.write("".join(buf).encode("utf-8"))
                        buf, size = [], 0
                buf += ["</sheetData>", tail]
                out.write("".join(buf).encode("utf-8"))
            if written != n_rows:
                raise RuntimeError(f"{path}: {written} rows written, {n_rows} announced")
