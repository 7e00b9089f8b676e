"""A streaming .xlsx reader: a sheet's cells as Arrow record batches of bounded size.

Read straight from the sheet XML inside the zip, a few megabytes at a time: the shared-strings
table first (one Arrow string array), then the rows. Memory follows the batch size and the
shared strings, not the sheet (calamine, under fastexcel and python-calamine, parses and holds
every cell of the sheet: about 5 GB for a million Forms responses).

The values are those fastexcel (calamine) gives: shared and inline strings (rich-text runs
joined, phonetic runs left out, XML entities decoded), numbers as float64, booleans, numbers
whose cell style is a date format as timestamp[ms] (Excel serial days, 1900 system or the 1904
one when the workbook says so), empty cells null. Cells without an `r` attribute take the
next column, rows without one the next row.

`read_sheet` returns None (the caller reads the sheet another way) for what it does not
reproduce exactly: error cells, ISO date cells (t="d"), duration formats, a namespace prefix
on the sheet's elements, a column holding values of two kinds.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import Iterator

import numpy as np

CHUNK_BYTES = 8 << 20            # XML read per step (one batch: a few thousand rows)


_SHEET = re.compile(r'<sheet\b([^>]*)/?>')
_ATTR = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_REL = re.compile(r'<Relationship\b([^>]*)/?>')
_ROW = re.compile(r'<row\b([^>]*?)(?:/>|>(.*?)</row>)', re.S)
_ROW_R = re.compile(r'\sr="(\d+)"')
# one cell: the r, s and t attributes in any order (each optional), then its content
_CELL = re.compile(
    r'<c(?=[\s/>])(?:(?=[^>]*?\sr="([A-Z]*)(\d*)")|)(?:(?=[^>]*?\ss="(\d*)")|)'
    r'(?:(?=[^>]*?\st="(\w*)")|)[^>]*?(?:/>|>(.*?)</c>)', re.S)
_V = re.compile(r'<v(?:\s[^>]*)?>(.*?)</v>', re.S)
_T = re.compile(r'<t(\s[^>]*)?>(.*?)</t>|<t(?:\s[^>]*)?/>', re.S)
_PRESERVE = re.compile(r'xml:space\s*=\s*"preserve"')
XML_SPACE = " \t\n\r"        # trimmed from a text run without xml:space="preserve" (as calamine does)
_RPH = re.compile(r'<rPh\b.*?</rPh>|<rPh\b[^>]*/>', re.S)
_SI = re.compile(r'<si\b[^>]*?(?:/>|>(.*?)</si>)', re.S)
_ENTITY = re.compile(r'&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));')
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ESCAPED = re.compile(r'_x([0-9a-fA-F]{4})_')
_NUMFMT = re.compile(r'<numFmt\b([^>]*)/?>')
_CELLXFS = re.compile(r'<cellXfs\b[^>]*>(.*?)</cellXfs>', re.S)
_XF = re.compile(r'<xf\b([^>]*?)(?:/>|>)')
_DATE_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59)) | set(range(71, 82))
_DURATION_IDS = {46}
MS_PER_DAY = 86_400_000
UNIX_EPOCH_SERIAL = 25569.0       # 1970-01-01 as an Excel (1900 system) serial


class Unsupported(Exception):
    """Something this reader does not reproduce exactly; the caller reads the sheet another way."""


def _entity(m: re.Match) -> str:
    if m.group(1):
        return chr(int(m.group(1)))
    if m.group(2):
        return chr(int(m.group(2), 16))
    return _NAMED[m.group(3)]


def unescape(text: str) -> str:
    """Raw XML text -> its value: line ends normalised (CR LF and CR -> LF, as an XML parser
    does), character and entity references, then Excel's _xHHHH_ escapes (as calamine does)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    if "_x" in text:
        text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _rich_text(body: str) -> str:
    """The text of an <si> or <is> element: its <t> runs joined, phonetic runs left out, each
    run trimmed of XML white space unless it says xml:space="preserve"."""
    if body.startswith("<t>") and body.endswith("</t>") and body.count("<") == 2:
        return unescape(body[3:-4]).strip(XML_SPACE)
    if "<rPh" in body:
        body = _RPH.sub("", body)
    runs = []
    for m in _T.finditer(body):
        text = unescape(m.group(2) or "")
        runs.append(text if m.group(1) and _PRESERVE.search(m.group(1)) else text.strip(XML_SPACE))
    return "".join(runs)


def _attrs(text: str) -> dict[str, str]:
    return {k.split(":")[-1] if k.startswith("r:") else k: v for k, v in _ATTR.findall(text)}


@dataclass
class Workbook:
    """What the rows need from a workbook: sheet parts, shared strings, date styles."""

    zf: zipfile.ZipFile
    sheets: list[tuple[str, str]]        # (name, zip member) in workbook order
    date1904: bool
    date_styles: frozenset[int]
    duration_styles: frozenset[int]
    _sst: object = None

    def shared_strings(self):
        """The shared-strings table as one Arrow string array (read once, when first needed)."""
        if self._sst is None:
            import pyarrow as pa

            name = next((n for n in self.zf.namelist() if n.lower() == "xl/sharedstrings.xml"), None)
            chunks, values = [], []
            if name is not None:
                for data in _xml_chunks(self.zf, name, "</si>"):
                    for m in _SI.finditer(data.decode("utf-8")):
                        values.append(_rich_text(m.group(1) or ""))
                    if len(values) > 65536:
                        chunks.append(pa.array(values, pa.string()))
                        values = []
            chunks.append(pa.array(values, pa.string()))
            self._sst = pa.concat_arrays(chunks)
        return self._sst


def open_workbook(path) -> Workbook:
    """The workbook's sheet list and styles; raises Unsupported when its parts are not where
    and how this reader expects them (the caller then reads it another way)."""
    zf = zipfile.ZipFile(path)
    try:
        names = {n.lower(): n for n in zf.namelist()}
        wb_xml = zf.read(names["xl/workbook.xml"]).decode("utf-8")
        rels_xml = zf.read(names["xl/_rels/workbook.xml.rels"]).decode("utf-8")
    except (KeyError, UnicodeDecodeError) as exc:
        zf.close()
        raise Unsupported(f"workbook parts: {exc}") from None
    targets = {}
    for m in _REL.finditer(rels_xml):
        a = _attrs(m.group(1))
        target = a.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[a.get("Id")] = names.get(target.lower(), target)
    sheets = []
    for m in _SHEET.finditer(wb_xml):
        a = _attrs(m.group(1))
        sheets.append((unescape(a.get("name", "")), targets.get(a.get("id"))))
    pr = re.search(r'<workbookPr\b([^>]*)', wb_xml)
    date1904 = bool(pr) and _attrs(pr.group(1)).get("date1904", "0").lower() in ("1", "true")
    dates, durations = set(), set()
    if "xl/styles.xml" in names:
        styles = zf.read(names["xl/styles.xml"]).decode("utf-8")
        formats = {}
        for m in _NUMFMT.finditer(styles):
            a = _attrs(m.group(1))
            if a.get("numFmtId", "").isdigit():
                formats[int(a["numFmtId"])] = unescape(a.get("formatCode", ""))
        xfs = _CELLXFS.search(styles)
        for i, m in enumerate(_XF.finditer(xfs.group(1) if xfs else "")):
            fid = _attrs(m.group(1)).get("numFmtId", "0")
            fid = int(fid) if fid.isdigit() else 0
            kind = _format_kind(fid, formats.get(fid))
            if kind == "date":
                dates.add(i)
            elif kind == "duration":
                durations.add(i)
    return Workbook(zf, sheets, date1904, frozenset(dates), frozenset(durations))


def _format_kind(fid: int, code: str | None) -> str | None:
    """'date', 'duration' or None, as calamine tells a number format."""
    if code is None:
        return "duration" if fid in _DURATION_IDS else "date" if fid in _DATE_IDS else None
    code = re.sub(r'"[^"]*"|\\.|_.|\*.', "", code)          # quoted text, escapes, fill/pad characters
    if re.search(r'\[[hms]+\]', code, re.I):
        return "duration"
    code = re.sub(r'\[[^\]]*\]', "", code)                  # colours, conditions, locales
    return "date" if re.search(r'[dmyhs]', code, re.I) and not re.search(r'[0#?]', code) else None


def _xml_chunks(zf: zipfile.ZipFile, member: str, end_tag: str) -> Iterator[bytes]:
    """The member's XML in pieces of about CHUNK_BYTES, each cut right after `end_tag` (an
    element is never split)."""
    tail = b""
    closing = end_tag.encode()
    with zf.open(member) as fh:
        while True:
            block = fh.read(CHUNK_BYTES)
            if not block:
                break
            data = tail + block
            cut = data.rfind(closing)
            if cut < 0:
                tail = data
                continue
            cut += len(closing)
            tail = data[cut:]
            yield data[:cut]
    if tail:
        yield tail


def _col_index(letters: str) -> int:
    j = 0
    for ch in letters:
        j = j * 26 + ord(ch) - 64
    return j - 1


def dimension(wb: Workbook, member: str) -> tuple[int, int] | None:
    """(last row, last column count) from the sheet's <dimension ref>, or None."""
    try:
        with wb.zf.open(member) as fh:
            head = fh.read(4096).decode("utf-8", errors="ignore")
    except Exception:
        return None
    m = re.search(r'<dimension\s+ref="[A-Z]*\d*:?([A-Z]+)(\d+)"', head)
    return (int(m.group(2)), _col_index(m.group(1)) + 1) if m else None


# the usual cell, as Forms, Excel and openpyxl write it: r first, then other attributes, a <v>
# value or one plain inline-string run; any other shape sends its chunk to the general path
_FAST = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"([^>/]*)(?:/>|>(?:<v>([^<]*)</v>|<is><t( xml:space="preserve")?>([^<]*)</t></is>)?</c>)')
# cell codes: how a cell's text becomes its value (RAW_TEXT: an inline string still to be
# unescaped and trimmed, PRESERVED: the same with xml:space="preserve", not trimmed)
NUMBER, DATETIME, SHARED, RAW_TEXT, TEXT, BOOLEAN, PRESERVED = 0, 1, 2, 3, 4, 5, 6


def _cell_code(wb: Workbook, s: str, t: str) -> int:
    if t in ("", "n"):
        st = int(s) if s.isdigit() else 0
        if st in wb.duration_styles:
            raise Unsupported("a duration cell")
        return DATETIME if st in wb.date_styles else NUMBER
    code = {"s": SHARED, "inlineStr": RAW_TEXT, "str": TEXT, "b": BOOLEAN}.get(t)
    if code is None:
        raise Unsupported(f"cell type {t!r}")
    return code


_FIELDS = None


def _fast_cells(wb: Workbook, text: bytes, codes_of: dict):
    """(rows, columns, codes, texts) of every cell with a value in the chunk (numpy arrays and an
    Arrow string array), or None when some cell has another shape (the general path reads the
    chunk then). One regular-expression pass, then Arrow's vectorised kernels: no Python step
    per cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    global _FIELDS
    found = _FAST.findall(text)
    if len(found) != text.count(b"<c ") + text.count(b"<c>") + text.count(b"<c/>"):
        return None
    if not found:
        return _empty()
    if _FIELDS is None:
        names = ("col", "row", "attrs", "v", "preserve", "t")
        _FIELDS = (pa.struct([(n, pa.binary()) for n in names]), pa.struct([(n, pa.string()) for n in names]))
    try:
        cells = pa.array(found, _FIELDS[0]).cast(_FIELDS[1])      # checks the UTF-8
    except pa.ArrowInvalid as exc:
        raise Unsupported(f"not UTF-8: {exc}") from None
    del found
    letters = pc.dictionary_encode(cells.field("col"))
    col_of = np.array([_col_index(x) for x in letters.dictionary.to_pylist()], np.int32)
    cols = col_of[letters.indices.to_numpy()]
    attrs = pc.dictionary_encode(cells.field("attrs"))
    for a in attrs.dictionary.to_pylist():
        if a not in codes_of:
            at = _attrs(a)
            codes_of[a] = _cell_code(wb, at.get("s", ""), at.get("t", ""))
    codes = np.array([codes_of[a] for a in attrs.dictionary.to_pylist()], np.int8)[attrs.indices.to_numpy()]
    rows = pc.cast(cells.field("row"), pa.int64()).to_numpy()
    inline = codes == RAW_TEXT
    values = cells.field("v")
    if inline.any():
        values = pc.if_else(pa.array(inline), cells.field("t"), values)
        preserved = inline & pc.not_equal(cells.field("preserve"), "").to_numpy(zero_copy_only=False)
        if preserved.any():
            codes[preserved] = PRESERVED
    keep = pc.not_equal(values, "").to_numpy(zero_copy_only=False)
    if not keep.all():
        return rows[keep], cols[keep], codes[keep], values.filter(pa.array(keep))
    return rows, cols, codes, values


_OPEN_V, _OPEN_IS, _OPEN_KEEP = b"<v>", b"<is><t>", b'<is><t xml:space="preserve">'
_CLOSE_V, _CLOSE_IS, _CLOSE_C = b"</v></c>", b"</t></is></c>", b"</c>"


def _scan_cells(wb: Workbook, data: bytes, codes_of: dict):
    """What _fast_cells gives, found with numpy on the bytes instead of a regular expression:
    the positions of '<', '>' and '"' locate every cell's r attribute, its other attributes
    and its value; each cell must be one of the usual shapes (checked byte for byte), else
    None. Column letters and row digits are decoded arithmetically and the values gathered
    into one Arrow array: no Python object per cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    b = np.frombuffer(data, np.uint8)
    size = len(b)
    if size < 8:
        return None
    lt = np.flatnonzero(b == 60)
    lt = lt[lt < size - 2]
    second, third = b[lt + 1], b[lt + 2]
    is_c = second == 99
    if (is_c & ((third == 62) | (third == 47))).any():          # <c> or <c/>: no r
        return None
    starts = lt[is_c & (third == 32)]
    n = len(starts)
    if n == 0:
        return _empty()
    pad = np.concatenate([b, np.zeros(64, np.uint8)])           # reads past the end stay in bounds
    # (every position read below is at most a tag's length past a byte of the chunk)
    if not ((pad[starts + 3] == 114) & (pad[starts + 4] == 61) & (pad[starts + 5] == 34)).all():
        return None                                             # r="..." not the first attribute
    gt = np.flatnonzero(b == 62)
    quote = np.flatnonzero(b == 34)
    k = np.searchsorted(gt, starts)
    if (k >= len(gt)).any():
        return None
    tag_end = gt[k]
    k = np.searchsorted(quote, starts + 6)
    if (k >= len(quote)).any():
        return None
    r_end = quote[k]
    # column letters (1-3) then row digits (1-7)
    upper = lambda x: (x >= 65) & (x <= 90)                      # noqa: E731
    c1, c2, c3 = pad[starts + 6], pad[starts + 7], pad[starts + 8]
    if not upper(c1).all():
        return None
    two = upper(c2)
    three = two & upper(c3)
    letters = 1 + two.astype(np.int64) + three
    col = np.where(three, ((c1 - 64.0) * 26 + (c2 - 64)) * 26 + (c3 - 64),
                   np.where(two, (c1 - 64.0) * 26 + (c2 - 64), c1 - 64.0)).astype(np.int32) - 1
    first_digit = starts + 6 + letters
    ndig = r_end - first_digit
    if ((ndig < 1) | (ndig > 7)).any():
        return None
    row = np.zeros(n, np.int64)
    for i in range(7):
        d = pad[first_digit + i].astype(np.int64) - 48
        inside = i < ndig
        if ((d < 0) | (d > 9))[inside].any():
            return None
        row = np.where(inside, row * 10 + d, row)
    selfclose = pad[tag_end - 1] == 47
    attr_start = r_end + 1
    attr_len = tag_end - selfclose - attr_start
    if (attr_len < 0).any():
        return None
    attrs = pc.dictionary_encode(_gather(data, pad, attr_start, attr_len))
    for a in attrs.dictionary.to_pylist():
        if a not in codes_of:
            at = _attrs(a)
            codes_of[a] = _cell_code(wb, at.get("s", ""), at.get("t", ""))
    codes = np.array([codes_of[a] for a in attrs.dictionary.to_pylist()] or [0], np.int8)[
        attrs.indices.to_numpy()]
    # the content: <v>x</v></c>, <is><t>x</t></is></c> (xml:space="preserve" or not), </c>, or none
    body = tag_end + 1
    is_v = _at(pad, body, _OPEN_V)
    is_keep = _at(pad, body, _OPEN_KEEP)
    is_is = _at(pad, body, _OPEN_IS) & ~is_keep
    is_empty = _at(pad, body, _CLOSE_C) | selfclose
    if not (is_v | is_is | is_keep | is_empty).all():
        return None
    inline = codes == RAW_TEXT
    if ((is_is | is_keep) != inline).any():
        return None                   # an <is> where t says otherwise, or an inline string without one
    vstart = np.where(is_v, body + len(_OPEN_V), np.where(is_keep, body + len(_OPEN_KEEP), body + len(_OPEN_IS)))
    k = np.searchsorted(lt, vstart)
    has = ~is_empty
    if (k[has] >= len(lt)).any():
        return None
    vend = np.where(has, lt[np.minimum(k, len(lt) - 1)], vstart)
    closed = np.where(is_v, _at(pad, vend, _CLOSE_V), _at(pad, vend, _CLOSE_IS))
    if not (closed | is_empty).all():
        return None
    # no cell may overlap the next one (a cell holding other elements would)
    if n > 1 and (np.where(is_empty, tag_end, vend)[:-1] >= starts[1:]).any():
        return None
    codes = np.where(is_keep, PRESERVED, codes).astype(np.int8)
    keep = has & (vend > vstart)
    values = _gather(data, pad, vstart[keep], (vend - vstart)[keep])
    return row[keep], col[keep], codes[keep], values


def _words(pad: np.ndarray, dtype: str) -> np.ndarray:
    """The bytes read as unaligned little-endian words starting at every byte (a view)."""
    size = np.dtype(dtype).itemsize
    return np.ndarray(buffer=pad, dtype=dtype, shape=(len(pad) - size + 1,), strides=(1,))


def _at(pad: np.ndarray, pos: np.ndarray, pattern: bytes) -> np.ndarray:
    """Whether `pattern` stands at each position (compared eight bytes at a time)."""
    words = _words(pad, "<u8")
    ok = np.ones(len(pos), bool)
    for k in range(0, len(pattern), 8):
        part = pattern[k:k + 8]
        want = int.from_bytes(part, "little")
        got = words[pos + k]
        if len(part) < 8:
            got = got & np.uint64((1 << (8 * len(part))) - 1)
        ok &= got == np.uint64(want)
    return ok


def _gather(data: bytes, pad: np.ndarray, starts: np.ndarray, lengths: np.ndarray):
    """The byte ranges [start, start + length) of `data` as an Arrow string array: views into
    the chunk (Arrow's binary_view layout, built with numpy) cast to string in one copy,
    which also checks the UTF-8. Raises Unsupported for bytes that are not UTF-8."""
    import pyarrow as pa

    n = len(starts)
    words = _words(pad, "<u4")
    views = np.zeros((n, 4), np.uint32)
    views[:, 0] = lengths
    short = lengths <= 12
    for k in range(3):                     # up to 12 bytes are kept inside the view itself
        keep = np.clip(lengths - 4 * k, 0, 4)
        mask = np.where(keep >= 4, 0xFFFFFFFF, (1 << (8 * keep)) - 1).astype(np.uint32)
        views[:, 1 + k] = np.where(short, words[starts + 4 * k] & mask, 0)
    long_ = ~short
    views[long_, 1] = words[starts[long_]]          # a 4-byte prefix, buffer 0, the offset
    views[long_, 3] = starts[long_]
    arr = pa.Array.from_buffers(pa.binary_view(), n, [None, pa.py_buffer(views), pa.py_buffer(data)])
    try:
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Unsupported(f"cell text: {exc}") from None


def _empty():
    import pyarrow as pa

    return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int8), pa.array([], pa.string())


def _general_cells(wb: Workbook, text: str, state: dict):
    """The same as _fast_cells for any cell shape: rows and cells without `r`, attributes in any
    order, rich text, formulas, self-closing cells (slower: a regular expression per cell)."""
    rows, cols, codes, values = [], [], [], []
    for rm in _ROW.finditer(text):
        ra = _ROW_R.search(rm.group(1))
        number = int(ra.group(1)) if ra else state["row"] + 1
        if number <= state["row"]:
            raise Unsupported("rows out of order")
        state["row"] = number
        j = -1
        for letters, _digits, s, t, body in _CELL.findall(rm.group(2) or ""):
            j = _col_index(letters) if letters else j + 1
            if not body:
                continue
            code = _cell_code(wb, s, t)
            if code == RAW_TEXT:
                value = _rich_text(body[4:-5] if body.startswith("<is>") and body.endswith("</is>") else body)
                code = TEXT
            else:
                m = _V.search(body)
                if m is None:
                    continue
                value = unescape(m.group(1)) if code == TEXT else m.group(1).strip()
            if value == "":
                continue
            rows.append(number)
            cols.append(j)
            codes.append(code)
            values.append(value)
    if not rows:
        return _empty()
    import pyarrow as pa

    return np.array(rows, np.int64), np.array(cols, np.int32), np.array(codes, np.int8), pa.array(values, pa.string())


def _chunk_cells(wb: Workbook, data: bytes, state: dict):
    if not state.get("general"):
        got = _scan_cells(wb, data, state.setdefault("codes", {}))
        if got is not None:
            if len(got[0]):
                state["row"] = int(got[0][-1])
            return got
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unsupported(f"not UTF-8: {exc}") from None
    if not state.get("general"):
        if not re.search(r'<row\b[^>]*\sr="', text) or re.search(r'<c(?=[\s/>])(?![^>]*\sr=")', text):
            state["general"] = True         # rows or cells without r: numbered in order from here on
    return _general_cells(wb, text, state)


def _column(wb: Workbook, text, codes: np.ndarray, date1904: bool):
    """The cells of one column (an Arrow string array, no nulls, and their codes) -> an Arrow
    array of one type; raises Unsupported for a column of two kinds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    present = set(np.unique(codes).tolist())
    kinds = {TEXT if c in (RAW_TEXT, PRESERVED) else c for c in present}
    if SHARED in kinds and TEXT in kinds:
        sst = wb.shared_strings()
        shared = codes == SHARED
        values = np.array(text.to_pylist(), dtype=object)
        values[shared] = [sst[int(v)].as_py() for v in values[shared]]
        text = pa.array(values, pa.string())
        codes = np.where(shared, TEXT, codes).astype(np.int8)
        kinds = {TEXT}
    if len(kinds) > 1:
        raise Unsupported("a column with values of two kinds")
    kind = kinds.pop()
    if kind == TEXT:
        if RAW_TEXT in present or PRESERVED in present:
            # only texts with a reference, a CR, an _xHHHH_ escape or white space at an end
            # (trimmed unless preserved) change: found in one pass, fixed one by one
            raw = (codes == RAW_TEXT) | (codes == PRESERVED)
            marked = pc.match_substring_regex(text, r"[&\r]|_x[0-9a-fA-F]{4}_|^[ \t\n]|[ \t\n]$")
            fix = np.flatnonzero(raw & marked.to_numpy(zero_copy_only=False))
            if len(fix):
                values = np.array(text.to_pylist(), dtype=object)
                values[fix] = [unescape(v) if codes[i] == PRESERVED else unescape(v).strip(XML_SPACE)
                               for i, v in zip(fix, values[fix])]
                text = pa.array(values, pa.string())
        return text
    if kind == SHARED:
        return wb.shared_strings().take(pc.cast(text, pa.int64()))
    if kind == NUMBER:
        return pc.cast(text, pa.float64())
    if kind == BOOLEAN:
        return pc.cast(pc.utf8_trim_whitespace(text), pa.bool_())
    serial = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    return pa.array(serial_to_ms(serial, date1904), pa.timestamp("ms"))


def serial_to_ms(serial: np.ndarray, date1904: bool = False) -> np.ndarray:
    """Excel serial days -> milliseconds since 1970 (calamine's rounding; the 1900 leap-year bug:
    serials before 60 are one day later)."""
    f = serial + 1462.0 if date1904 else serial
    f = np.where(f < 60.0, f + 1.0, f)
    with np.errstate(invalid="ignore"):
        ms = np.round((f - UNIX_EPOCH_SERIAL) * MS_PER_DAY)
    return np.nan_to_num(ms).astype(np.int64)


def read_sheet(path, sheet: str | int = 0, first: int = 2):
    """(header, batches, dimension) for one sheet, or None when the workbook cannot be read this
    way; `dimension` is the sheet's own (last row, columns) claim, or None (a hint only).

    `header` holds the rows above `first` as {row number: {column: value}} (shared strings
    resolved, numbers float, date-times datetime). `batches` yields (first row number, [Arrow
    arrays]) for consecutive row ranges from row `first` on, one range per piece of XML read
    (a few thousand rows): rows without cells are all-null, columns to the right of a batch's
    last non-empty one are missing from it (nulls), and nothing follows the last non-empty row.
    The iteration raises Unsupported when a cell or a column is of a kind this reader does not
    reproduce exactly (the caller then reads the sheet another way)."""
    import pyarrow as pa

    try:
        wb = open_workbook(path)
    except (Unsupported, zipfile.BadZipFile, OSError, KeyError):
        return None
    member = (wb.sheets[sheet][1] if isinstance(sheet, int) and sheet < len(wb.sheets)
              else dict(wb.sheets).get(sheet) if isinstance(sheet, str) else None)
    if member is None or member not in wb.zf.namelist():
        wb.zf.close()
        return None
    state: dict = {"row": 0}
    chunks = _xml_chunks(wb.zf, member, "</row>")
    header: dict = {}
    pending = None
    for text in chunks:
        if not header and re.search(rb'<\w+:worksheet\b', text[:4000]):
            wb.zf.close()
            return None                     # a namespace prefix on the sheet's elements
        rows, cols, codes, values = _chunk_cells(wb, text, state)
        top = rows < first
        if top.any():
            for r, c, k, i in zip(rows[top], cols[top], codes[top], np.flatnonzero(top)):
                header.setdefault(int(r), {})[int(c)] = _column(wb, values.slice(i, 1), np.array([k], np.int8),
                                                                wb.date1904)[0].as_py()
            keep = ~top
            rows, cols, codes, values = rows[keep], cols[keep], codes[keep], values.filter(pa.array(keep))
        if len(rows):
            pending = (rows, cols, codes, values)
            break
        if state["row"] >= first:
            break

    def batches():
        base = first
        for got in _chain(pending, (_chunk_cells(wb, t, state) for t in chunks)):
            if got is None or not len(got[0]):
                continue
            rows, cols, codes, values = got
            n = int(rows.max()) - base + 1
            order = np.argsort(cols, kind="stable")
            bounds = np.searchsorted(cols[order], np.arange(int(cols.max()) + 2))
            values, codes, rows = values.take(pa.array(order)), codes[order], rows[order] - base
            out = []
            for j in range(len(bounds) - 1):
                lo, hi = int(bounds[j]), int(bounds[j + 1])
                if lo == hi:
                    out.append(pa.nulls(n))
                    continue
                typed = _column(wb, values.slice(lo, hi - lo), codes[lo:hi], wb.date1904)
                if hi - lo == n:                 # every row has a value (rows ascending)
                    out.append(typed)
                    continue
                where = np.full(n, -1, np.int64)
                where[rows[lo:hi]] = np.arange(hi - lo)
                out.append(typed.take(pa.array(where, mask=where < 0)))
            yield base, out
            base += n
        wb.zf.close()

    dim = dimension(wb, member)
    if dim is not None:     # a claim no bigger than the XML could hold (a row with a value takes 32 bytes or more)
        dim = (min(dim[0], wb.zf.getinfo(member).file_size // 32 + 1), dim[1])
    return header, batches(), dim


def _chain(first, rest):
    yield first
    yield from rest
