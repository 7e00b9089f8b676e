"""`python -m analysis draft-codebook EXPORT [--out FILE]`: a first codebook from a raw export.

Reads a Forms export (.xlsx or .csv) and writes a draft codebook in the format of
``params/codebooks/*.yaml``:

- metadata columns recognised by their header (ID, Start time, Completion time, Email, Name,
  Last modified time, and their localised spellings);
- missing-value codes (``NA``, ``-1``, ...) found in the cells listed under ``formats``;
- columns of one multi-select exported one column per option (headers ``Question: option``
  sharing the question, cells only ``1`` or empty) grouped into one variable with
  ``layout: columns``;
- ``;``-separated multi-selects with their options (the distinct parts);
- rating grids: columns that share an answer set (compared case- and space-insensitively) make
  one labelled scale; columns of whole numbers make a numeric scale with the observed range;
- single choices with their labels; free-text columns (many distinct, long values);
- the form language guessed from the headers and labels (py3langid).

Every decision a person must make -- the scale's scores, favourable points and meaning, which
items are reversed, the topics (sectors) of the rated items, the analysis roles, the title --
is written as the literal value ``TODO``; `analysis.codebook.load` (and so `check` and `run`)
refuses a codebook that still contains one, naming the key. Nothing is guessed silently: every
inference is stated in a comment next to it.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .codebook import ROLES, fold_label, header_key

TODO = "TODO"
# Metadata headers of Microsoft Forms exports and their localised spellings (case-insensitive)
META_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ид", "идентификатор", "identifikators", "identifikaator", "kood"),
    "start_time": ("start time", "hora de inicio", "sākuma laiks", "время начала", "algusaeg", "alguse aeg",
                   "startzeit", "heure de début", "pradžios laikas"),
    "completion_time": ("completion time", "hora de finalización", "pabeigšanas laiks", "beigu laiks",
                        "время завершения", "lõpuaeg", "lõpetamise aeg", "fertigstellungszeit",
                        "heure de fin", "pabaigos laikas"),
    "email": ("email", "e-mail", "correo electrónico", "e-pasts", "электронная почта", "e-post", "e-posti aadress",
              "courrier", "el. paštas"),
    "name": ("name", "nombre", "vārds", "имя", "nimi", "nom", "vardas"),
    "last_modified": ("last modified time", "hora de la última modificación", "pēdējās modificēšanas laiks",
                      "время последнего изменения", "viimati muudetud", "viimase muutmise aeg",
                      "zeitpunkt der letzten änderung", "heure de dernière modification"),
}
META_NAMES = {"id": "response_id", "start_time": "start_time", "completion_time": "completion_time",
              "email": "email", "name": "respondent_name", "last_modified": "last_modified"}
MISSING_CANDIDATES = ("NA", "N/A", "n/a", "#N/A", "-1", "-9", "-99", "-999", ".")
DONT_KNOW = ("grūti pateikt", "nezinu", "ei oska öelda", "raske öelda", "don't know", "do not know",
             "затрудняюсь ответить", "не знаю", "weiß nicht", "nesu tikras", "sunku pasakyti", "ne sais pas")
TICKS = {"1", "1.0", "x", "true", "yes", "jah", "jā", "да"}
MAX_SINGLE_OPTIONS = 20
TEXT_MIN_LENGTH = 40          # mean characters above which a column of many distinct values is free text
DATE_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M", "%d/%m/%Y %H:%M",
                # US-style Forms time stamps (3/14/2024 9:05:33 AM), as ingest reads them
                "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%y %I:%M %p")
OPTION_SPLIT = re.compile(r"^(?P<q>.+?)\s*(?::\s+|\s+-\s+|\s*\[)(?P<o>[^\[\]]+?)\]?\s*$")


class DraftError(ValueError):
    """The export cannot be read (names the file and what was expected)."""


@dataclass
class Column:
    header: str
    values: list[Any]                                  # cells, None when empty
    index: int
    kind: str = ""
    notes: list[str] = field(default_factory=list)
    _cache: Any = None

    def present(self, missing: set[str]) -> list[str]:
        key = frozenset(missing)
        if self._cache is None or self._cache[0] != key:
            texts = (_text(v) for v in self.values if v is not None)
            self._cache = (key, [t for t in texts if t != "" and t not in missing])
        return self._cache[1]


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return unicodedata.normalize("NFC", str(v)).strip()


# --- reading -------------------------------------------------------------------------------
def read_export(path: str | Path) -> tuple[list[Column], dict[str, Any]]:
    """Columns of a Forms export and what was learnt about the file (kind, encoding, delimiter)."""
    path = Path(path)
    if not path.exists():
        raise DraftError(f"{path}: not found; expected a Forms export (.xlsx or .csv)")
    info: dict[str, Any] = {"file": path.name}
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same error to a user
            raise DraftError(f"{path}: not a readable .xlsx workbook ({exc})") from None
        ws = wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        info["kind"] = "xlsx"
    elif suffix in (".csv", ".txt"):
        data = path.read_bytes()
        for enc in ("utf-8-sig", "utf-8"):
            try:
                text = data.decode(enc)
                info["encoding"] = "utf-8"
                break
            except UnicodeDecodeError:
                continue
        else:
            text = data.decode("windows-1257", errors="replace")
            info["encoding"] = TODO
            info["encoding_note"] = "not UTF-8: declare the file's encoding (e.g. windows-1257 or windows-1252)"
        first = text.split("\n", 1)[0]
        delimiter = max((",", ";", "\t"), key=first.count)
        info["delimiter"] = delimiter
        rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
        info["kind"] = "csv"
    else:
        raise DraftError(f"{path}: unsupported file type {suffix!r}; expected a Forms export (.xlsx or .csv)")
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        raise DraftError(f"{path}: the file is empty; expected a header row and answers")
    headers = [("" if h is None else header_key(h)) for h in rows[0]]
    cols = []
    for j, h in enumerate(headers):
        vals = [(r[j] if j < len(r) else None) for r in rows[1:]]
        vals = [None if (v is None or (isinstance(v, str) and v.strip() == "")) else v for v in vals]
        cols.append(Column(header=h, values=vals, index=j))
    info["n_rows"] = len(rows) - 1
    return cols, info


# --- classification ----------------------------------------------------------------------
def _meta_role(header: str) -> str | None:
    key = header.casefold().strip()
    for role, names in META_HEADERS.items():
        if key in names:
            return role
    return None


def _is_int(s: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+", s))


def _is_date(v: Any) -> bool:
    if isinstance(v, (dt.datetime, dt.date)):
        return True
    return isinstance(v, str) and _date_format([v]) is not None


def _dates(values: list[Any]) -> bool:
    """A column of date-times: every cell a datetime, or text in one known date format."""
    got = [v for v in values if v is not None]
    if not got:
        return False
    if all(isinstance(v, (dt.datetime, dt.date)) for v in got):
        return True
    if not all(isinstance(v, str) and re.fullmatch(r"[\d./ :-]{8,20}(?:\s*[AaPp][Mm])?", v.strip()) for v in got[:50]):
        return False
    return _date_format([str(v) for v in got]) is not None


def _date_format(values: list[str]) -> str | None:
    for fmt in DATE_FORMATS:
        try:
            for v in values[:200]:
                dt.datetime.strptime(str(v).strip(), fmt)
            return fmt
        except ValueError:
            continue
    return None


def slug(text: str, limit: int = 28, *, ident: bool = True) -> str:
    """A name from a header or label: ASCII letters, digits and single underscores (a variable
    name starts with a letter; an option code may start with a digit)."""
    s = "".join(ch for ch in unicodedata.normalize("NFKD", text) if unicodedata.category(ch) != "Mn")
    s = re.sub(r"[^\w]+", "_", s)
    s = s.encode("ascii", "ignore").decode().lower()
    s = re.sub(r"_+", "_", s).strip("_")
    if len(s) > limit:
        cut = s[:limit]
        s = cut.rsplit("_", 1)[0] if "_" in cut[limit // 2:] else cut
    s = s.strip("_") or "x"
    return s if (not ident or re.match(r"[a-z_]", s)) else f"q_{s}"


def _unique(name: str, taken: set[str]) -> str:
    base, k = name, 2
    while name in taken:
        name = f"{base}_{k}"
        k += 1
    taken.add(name)
    return name


def guess_language(texts: list[str]) -> tuple[str, float]:
    """ISO 639-1 code of the form's language from its headers and labels, and a confidence."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    sample = " . ".join(t for t in texts if t)[:20000]
    if not sample.strip():
        return TODO, 0.0
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    lang, prob = ident.classify(sample)
    return lang, float(prob)


def draft(path: str | Path) -> tuple[str, dict[str, Any]]:
    """The draft codebook's YAML text and a summary of what was recognised."""
    path = Path(path)
    cols, info = read_export(path)
    summary: dict[str, Any] = {"file": str(path), "rows": info["n_rows"], "columns": len(cols)}
    # missing-value codes: candidates that occur in the cells
    found = Counter()
    for c in cols:
        for v in c.values:
            if v is not None and _text(v) in MISSING_CANDIDATES:
                found[_text(v)] += 1
    missing = set(found)

    metas, rest = [], []
    for c in cols:
        role = _meta_role(c.header)
        if role:
            c.kind = "meta"
            c.notes.append(role)
            metas.append(c)
        else:
            rest.append(c)

    # one column per option: "Question: option" headers sharing the question, cells 1 or empty
    groups: dict[str, list[tuple[Column, str]]] = {}
    for c in rest:
        m = OPTION_SPLIT.match(c.header)
        vals = {v.casefold() for v in c.present(missing)}
        if m and vals and vals <= TICKS:
            groups.setdefault(m.group("q").strip(), []).append((c, m.group("o").strip()))
    option_cols: dict[int, tuple[str, str]] = {}
    for q, members in groups.items():
        if len(members) >= 2:
            for c, o in members:
                option_cols[c.index] = (q, o)
                c.kind = "option"

    items: list[Column] = []
    for c in rest:
        if c.kind:
            continue
        vals = c.present(missing)
        if not vals:
            c.kind = "empty"
            continue
        if _dates(c.values):
            c.kind = "date"
            continue
        if all(_is_int(v) for v in vals) and len(set(vals)) >= 3:
            c.kind = "numeric"
            continue
        sep_share = sum(1 for v in vals if ";" in v) / len(vals)
        if sep_share >= 0.3:
            c.kind = "multi"
            continue
        distinct = set(fold_label(v) for v in vals)
        mean_len = sum(len(v) for v in vals) / len(vals)
        if len(distinct) <= MAX_SINGLE_OPTIONS and (len(distinct) <= max(3, 0.5 * len(vals)) and mean_len < TEXT_MIN_LENGTH):
            c.kind = "choice"
        else:
            c.kind = "text"

    # labelled grids: choice columns sharing their answer set (folded) make one scale
    choice = [c for c in rest if c.kind == "choice"]
    sets = {c.index: frozenset(fold_label(v) for v in c.present(missing)) for c in choice}
    parent = {c.index: c.index for c in choice}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in choice:
        for b in choice:
            if a.index < b.index:
                sa, sb = sets[a.index], sets[b.index]
                small = min(len(sa), len(sb))
                if small >= 2 and len(sa & sb) / small >= 0.6 and len(sa | sb) <= 12:
                    parent[find(b.index)] = find(a.index)
    grid_of: dict[int, list[Column]] = {}
    for c in choice:
        grid_of.setdefault(find(c.index), []).append(c)
    grids = [g for g in grid_of.values() if len(g) >= 2]
    for g in grids:
        for c in g:
            c.kind = "likert"

    # numeric columns: runs of adjacent columns with a similar observed range make one scale
    numeric = [c for c in rest if c.kind == "numeric"]
    ranges = {c.index: (min(int(v) for v in c.present(missing)), max(int(v) for v in c.present(missing)))
              for c in numeric}
    num_groups: list[list[Column]] = []
    for c in numeric:
        lo, hi = ranges[c.index]
        for g in num_groups:
            glo = min(ranges[x.index][0] for x in g)
            ghi = max(ranges[x.index][1] for x in g)
            if abs(lo - glo) <= 1 and abs(hi - ghi) <= 1:
                g.append(c)
                break
        else:
            num_groups.append([c])

    # language from headers and labels
    texts = [c.header for c in rest] + [v for c in rest if c.kind in ("choice", "likert", "multi")
                                        for v in set(c.present(missing))]
    lang, conf = guess_language(texts)
    summary["language"], summary["language_confidence"] = lang, round(conf, 3)

    # --- write the YAML ----------------------------------------------------------------
    taken: set[str] = set(META_NAMES.values())
    out: list[str] = []
    w = out.append
    survey = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore")
                    .decode().lower()).strip("-") or "survey"
    w(f"# Draft codebook written by `python -m analysis draft-codebook {path.name}` on {info['n_rows']} rows.")
    w("# Every TODO is a decision for a person; `check` and `run` refuse this file until none is left.")
    w("# Names (variables, codes) are made from the headers and labels: rename them freely before the")
    w("# first run (the outputs use them). Inferences are stated in comments; check each one.")
    w(f"survey: {survey}             # the slug used in output paths ([a-z0-9-]+)")
    w(f"title: {{en: {TODO}}}                # the report's title in each report language (en, lv)")
    w(f"languages: [{lang}]             # guessed from headers and labels (py3langid, confidence {conf:.2f})")
    date_cols = [c for c in rest if c.kind == "date"] + [c for c in metas if c.notes[0].endswith("time")
                                                         or c.notes[0] == "last_modified"]
    if date_cols:
        w("consultation_window:             # when answers count (a completion after `end` is late)")
        w(f"  start: {TODO}")
        w(f"  end: {TODO}")
        w(f"  timezone: {TODO}             # e.g. Europe/Riga, Europe/Tallinn")
    else:
        w("# no time columns: the rules that need times (speeders, outside the window) will be switched off")
    fmt_lines = []
    if found:
        codes = [""] + sorted(found, key=lambda x: (-found[x], x))
        fmt_lines.append(f"  missing_values: {_flow(codes)}   # found in the cells: "
                         + ", ".join(f"{k!s} x{found[k]}" for k in sorted(found, key=lambda x: -found[x])))
    if info.get("kind") == "csv":
        fmt_lines.append(f"  encoding: {info['encoding']}" + (f"   # {info['encoding_note']}" if info.get("encoding_note") else ""))
        text_dates = [str(v) for c in date_cols for v in c.values if isinstance(v, str)]
        if text_dates:
            f = _date_format(text_dates)
            fmt_lines.append(f"  date_formats: [{_flow(f) if f else TODO}]")
    if any(c.kind == "multi" for c in rest):
        fmt_lines.append('  multi_separator: ";"')
    if fmt_lines:
        w("formats:")
        out.extend(fmt_lines)

    # scales
    w("")
    w("scales:")
    scale_of: dict[int, str] = {}
    n_scales = 0
    for g in grids:
        n_scales += 1
        name = f"scale_{n_scales}"
        labels = Counter()
        spelling: dict[str, Counter] = {}
        for c in g:
            for v in c.present(missing):
                labels[fold_label(v)] += 1
                spelling.setdefault(fold_label(v), Counter())[v] += 1
        dk = [k for k in labels if k in DONT_KNOW]
        points = [k for k in labels if k not in dk]
        variants = {k: len(s) for k, s in spelling.items() if len(s) > 1}
        w(f"  {name}:                        # answer set shared by {len(g)} columns"
          + (f"; {len(variants)} label(s) typed in more than one way (case/spaces), one spelling kept" if variants else ""))
        w("    type: likert")
        w(f"    points:                      # TODO: the score of each label (e.g. 1 = the most negative)")
        for k in sorted(points, key=lambda k: -labels[k]):
            w(f"      - {{score: {TODO}, label: {_flow({lang: spelling[k].most_common(1)[0][0]})}}}")
        if dk:
            w(f"    dont_know: {_flow({lang: spelling[dk[0]].most_common(1)[0][0]})}")
        else:
            w("    dont_know: null               # no \"don't know\" label recognised")
        w(f"    favourable: {TODO}             # the points that count as the favourable share, e.g. [4, 5]")
        w(f"    meaning: {TODO}                # importance | agreement | satisfaction | frequency | other")
        for c in g:
            scale_of[c.index] = name
    for g in num_groups:
        if len(g) < 3:                       # one or two number columns: ratings of their own
            continue
        n_scales += 1
        name = f"scale_{n_scales}"
        lo = min(ranges[c.index][0] for c in g)
        hi = max(ranges[c.index][1] for c in g)
        w(f"  {name}:                        # numbers only in {len(g)} columns: a numeric scale")
        w("    type: numeric")
        w(f"    range: [{lo}, {hi}]               # the OBSERVED lowest and highest answer: check the form's range")
        w("    dont_know: null")
        w(f"    favourable: {TODO}             # the points that count as the favourable share, e.g. [7, 8, 9, 10]")
        w(f"    meaning: {TODO}                # importance | agreement | satisfaction | frequency | other")
        for c in g:
            scale_of[c.index] = name
    if not n_scales:
        out[-1] = "scales: {}                      # no rating grid recognised"

    # roles
    w("")
    w(f"roles:                            # TODO: the variable that plays each role; delete a line the survey lacks")
    for role, shape in ROLES.items():
        if role == "form_language":
            w("  form_language: form_language     # derived: the form a response came from")
            continue
        w(f"  {role}: {TODO}")

    # variables
    w("")
    w("variables:")
    for c in metas:
        role = c.notes[0]
        w(f"  - {{name: {META_NAMES[role]}, type: meta, role: {role}, header: {_flow({lang: c.header})}"
          + (", pii: true" if role in ("email", "name") else "") + "}")
    likert_items: list[str] = []
    done_options: set[str] = set()
    summary["kinds"] = Counter()
    for c in rest:
        if c.kind in ("meta",):
            continue
        if c.kind == "option":
            q, _ = option_cols[c.index]
            if q in done_options:
                continue
            done_options.add(q)
            members = [(x, o) for x, o in groups[q]]
            name = _unique(slug(q), taken)
            summary["kinds"]["multi (one column per option)"] += 1
            w(f"  - name: {name}                  # {len(members)} columns 'question: option', cells 1 or empty")
            w("    type: multi")
            w("    layout: columns")
            w(f"    grouping: {TODO}                # compare the ratings by this variable? true | false")
            w("    options:")
            codes: set[str] = set()
            for x, o in members:
                w(f"      - {{code: {_flow(_unique(slug(o, 20, ident=False), codes))}, header: {_flow({lang: x.header})}, "
                  f"label: {_flow({lang: o})}}}")
            continue
        if c.kind in ("empty", "date"):
            name = _unique(slug(c.header), taken)
            what = "no answers in any row" if c.kind == "empty" else "dates: a time column whose header is not recognised"
            summary["kinds"][c.kind] += 1
            w(f"  - {{name: {name}, type: text, required: false, header: {_flow({lang: c.header})}}}   # {what}: check")
            continue
        name = _unique(slug(c.header), taken)
        h = f"header: {_flow({lang: c.header})}"
        if c.index in scale_of:
            likert_items.append(name)
            summary["kinds"]["rated item"] += 1
            w(f"  - {{name: {name}, type: likert, scale: {scale_of[c.index]}, sector: {TODO}, reverse: {TODO}, {h}}}")
            continue
        vals = c.present(missing)
        if c.kind == "numeric":
            lo, hi = ranges[c.index]
            summary["kinds"]["rating"] += 1
            w(f"  - {{name: {name}, type: rating, range: [{lo}, {hi}], {h}}}   # a lone number column; observed range: check")
            continue
        if c.kind == "multi":
            parts = Counter(p.strip() for v in vals for p in v.split(";") if p.strip())
            summary["kinds"]["multi (joined)"] += 1
            w(f"  - name: {name}                  # answers joined with ';' ({len(parts)} distinct parts)")
            w("    type: multi")
            w(f"    grouping: {TODO}                # compare the ratings by this variable? true | false")
            w(f"    {h}")
            w("    options:")
            codes = set()
            for p, k in parts.most_common():
                w(f"      - {{code: {_flow(_unique(slug(p, 20, ident=False), codes))}, label: {_flow({lang: p})}}}   # x{k}")
            continue
        if c.kind == "choice":
            counts = Counter(vals)
            summary["kinds"]["single"] += 1
            w(f"  - name: {name}")
            w("    type: single")
            w(f"    grouping: {TODO}                # compare the ratings by this variable? true | false")
            w(f"    {h}")
            w("    options:")
            codes = set()
            merged: dict[str, list[str]] = {}
            ordered = [v for v, _ in counts.most_common()]
            if all(re.match(r"\d", v) for v in ordered):          # age bands, years: in numeric order
                ordered.sort(key=lambda v: int(re.match(r"\d+", v).group()))
            for v in ordered:
                merged.setdefault(_dash_fold(v), []).append(v)
            top = max(counts.values())
            for key, spellings in merged.items():
                total = sum(counts[s] for s in spellings)
                extra = f", aliases: {_flow(spellings[1:])}" if len(spellings) > 1 else ""
                if total <= 2 and top >= 20:
                    w(f"      - {{code: {_flow(_unique(slug(spellings[0], 20, ident=False), codes))}, "
                      f"label: {_flow({lang: spellings[0]})}{extra}}}   # rare (x{total}): a typo or a write-in? "
                      "make it an alias of an option, or delete it")
                    continue
                w(f"      - {{code: {_flow(_unique(slug(spellings[0], 20, ident=False), codes))}, label: {_flow({lang: spellings[0]})}{extra}}}   # x{total}")
            continue
        # free text
        contact = sum(1 for v in vals if re.search(r"[\w.+-]+@[\w-]+\.\w+|\+?\d[\d ]{6,}\d", v))
        pii = contact >= 0.3 * len(vals)
        summary["kinds"]["text"] += 1
        note = f"   # free text ({len(set(vals))} distinct answers)"
        if contact:
            note += (f"; {contact} answers hold e-mail addresses or phone numbers"
                     + (": a contact column" if pii else " (redacted in outputs)"))
        w(f"  - {{name: {name}, type: text, {h}" + (", pii: true" if pii else "") + "}" + note)

    # sectors
    w("")
    if likert_items:
        w("sectors:                          # TODO: the topics of the rated items: split this list, name each topic")
        w(f"  - {{code: {TODO}, title: {{en: {TODO}}}, items: {_flow(likert_items)}}}")
    else:
        w("sectors: []                       # no rated items recognised")
    summary["kinds"] = dict(summary["kinds"])
    summary["scales"] = n_scales
    text = "\n".join(out) + "\n"
    summary["todo"] = _count_todo(yaml.safe_load(text))
    return text, summary


def _count_todo(value: Any) -> int:
    """How many decisions are still open (values ``TODO``)."""
    if isinstance(value, dict):
        return sum(_count_todo(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_todo(v) for v in value)
    return int(value == TODO)


_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})


def _dash_fold(label: str) -> str:
    """Labels that differ only in case, spaces or the kind of dash are one option (the rest aliases)."""
    return fold_label(label).translate(_DASHES)


def _flow(value: Any) -> str:
    """A YAML scalar or flow collection on one line."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10 ** 6).strip().removesuffix("\n...").removesuffix("...").strip()


# --- command line -----------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("export", help="a Forms export (.xlsx or .csv)")
    p.add_argument("--out", default=None, help="where to write the draft (default: print it)")


def command(args) -> int:
    try:
        text, summary = draft(args.export)
    except DraftError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
        if out.exists():
            print(f"error: {out} exists; the draft does not overwrite a codebook (choose another --out)",
                  file=sys.stderr)
            return 2
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        kinds = ", ".join(f"{k}: {v}" for k, v in summary["kinds"].items())
        print(f"draft-codebook: wrote {out} from {summary['rows']} rows x {summary['columns']} columns "
              f"(language {summary['language']}, {summary['scales']} scale(s); {kinds}); "
              f"{summary['todo']} TODO decisions left", file=sys.stderr)
        print(out)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    from .cli import standalone

    return standalone(argv, "python -m analysis draft-codebook",
                      "Write a draft codebook from a raw Forms export.", add_arguments, command)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
