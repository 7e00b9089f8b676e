"""Stage 01: recode labels to codes, apply the quality rules, quarantine, pseudonymise, redact.

`prepare(params)` reads every input and recodes it (no salt, nothing written): the `check`
command reports its problems. `run_clean(params, run_dir)` does the same checks first, stops
with `InputError` on any error before writing anything, then applies the quality rules and
writes responses / ratings / proposals / quarantine parquet files, the cleaning log and the
flow table, whose invariant (rows read = analysed + quarantined, per file) is checked here.

Recoding is vectorised: each column's labels are looked up once per *distinct* value and
mapped back with pandas, so the cost follows the number of distinct answers.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import codebook as codebook_mod
from . import paths, schemas
from .codebook import Codebook, fold_label, normalize
from .ingest import (CONTROL_CHARS, MAIL_EXTENSIONS, FORMS_EXTENSIONS, MAX_TEXT_CHARS, CellNote, FormsExport,
                     InputError, MailBatch, Problem, expand_inputs, read_forms,
                     read_mail, source_names)

QUALITY_RULES = schemas.QUALITY_RULES
UNKNOWN_LABEL_POLICIES = ("stop", "quarantine", "missing")
ACTIONS = ("exclude", "flag")
# reasons that always exclude, whatever the params: the row cannot be analysed as it is
STRUCTURAL_REASONS = ("unparseable_date", "invalid_duration", "missing_id", "oversized_text", "broken_message")
RULE_DEFAULTS = {
    "duplicate": {"keep": "first"},
    "speeder": {"share_of_median": 0.33},
    "straightliner": {"min_share_same": 0.95, "min_rated": 16},
    "outside_window": {},
    "empty": {},
}
SUBSTANTIVE = re.compile(r"\w")       # an open answer needs at least one letter or digit
MAX_LABELS_LISTED = 20                # distinct unknown labels listed one by one per column


class FlowError(AssertionError):
    """Rows read != rows analysed + rows quarantined for some file: a bug of ours (exit 1)."""


# --- parameters -------------------------------------------------------------------------

def validate_params(params: dict[str, Any]) -> list[Problem]:
    """Problems with the stage-01 parameters themselves (named after the params key); the
    checks are those of the typed params model (analysis.config)."""
    from . import config

    _, errors = config.parse_params(params)
    stage01 = ("inputs", "unknown_label", "quality_rules", "salt_env", "max_text_chars")
    return [Problem("error", "bad_parameter", "params", e.message,
                    column=e.key, expected=e.expected)
            for e in errors if e.key.split(".")[0] in stage01]


def _number_in(x, lo, hi) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and lo < x <= hi


def rule_settings(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each configured rule with its defaults filled in; rules not listed are not applied."""
    rules = params.get("quality_rules") or {}
    return {name: {**RULE_DEFAULTS[name], **rules[name]} for name in QUALITY_RULES if name in rules}


# --- recoding ---------------------------------------------------------------------------

@dataclass
class UnknownCells:
    variable: str
    reason: str                      # unknown_label | out_of_range
    rows: np.ndarray                 # positions in the export
    labels: np.ndarray               # the label as found (normalised), one per row


@dataclass
class Recoded:
    export: FormsExport
    coded: dict[str, Any]            # response column -> array-like (codes, scores, indicators)
    texts: dict[str, pd.Series]      # free-text variables (raw, not redacted yet)
    unknown: list[UnknownCells]
    answered_any: np.ndarray         # at least one question answered (contact alone does not count)
    notes: list[CellNote] = field(default_factory=list)   # cells matched loosely, ratings set aside


def _label_key(value: Any) -> str:
    """A cell as compared with the codebook's labels: NFC, trimmed, no control characters;
    "" means the question was left empty."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = normalize(value)
    return normalize(CONTROL_CHARS.sub("", key)) if CONTROL_CHARS.search(key) else key


def recode(export: FormsExport, cb: Codebook) -> Recoded:
    """Labels -> codes for one export, in its own form language; unknown labels collected."""
    frame, lang = export.frame, export.language
    coded: dict[str, Any] = {}
    texts: dict[str, pd.Series] = {}
    unknown: list[UnknownCells] = []
    notes: list[CellNote] = []
    given: dict[str, np.ndarray] = {}       # per question: the cell was not empty
    for v in cb.variables.values():
        col = frame[v.name]
        if v.type == "single":
            given[v.name] = _recode_single(col, v, cb, lang, coded, texts, unknown, notes)
        elif v.type == "multi":
            given[v.name] = _recode_multi(col, v, cb, lang, coded, texts, unknown, notes)
        elif v.type == "likert":
            given[v.name] = _recode_likert(col, v, cb, lang, coded, unknown, notes)
        elif v.type in ("rating", "nps"):
            given[v.name] = _recode_number(col, v, coded, unknown)
        elif v.type == "text":
            texts[v.name] = col
    _other_rows(frame, cb, coded, notes)
    answered = np.zeros(len(frame), bool)
    for name, mask in given.items():
        if not cb.variables[name].pii:
            answered |= mask
    for v in cb.of_type("text"):
        if not v.pii:
            answered |= frame[v.name].notna().to_numpy()
    if export.extra is not None and export.extra.shape[1]:
        # a column the codebook does not map still shows that the respondent answered something
        answered |= export.extra.map(lambda x: not _blank_cell(x)).any(axis=1).to_numpy()
    return Recoded(export, coded, texts, unknown, answered, notes)


def _blank_cell(x: Any) -> bool:
    return x is None or (isinstance(x, float) and x != x) or (isinstance(x, str) and not x.strip())


def _other_rows(frame: pd.DataFrame, cb: Codebook, coded: dict, notes: list) -> None:
    """An "Other" row of a grid counts only for those who wrote what the other is: ratings of
    it by people who left that text empty are set aside (missing), each logged."""
    for v in cb.of_type("likert"):
        if not v.requires_text:
            continue
        text = frame[v.requires_text].to_numpy(dtype=object)
        no_text = np.array([_blank_cell(t) for t in text], dtype=bool)
        scores = coded[v.name]
        rated = ~np.asarray(pd.isna(scores)) | coded[f"{v.name}_dk"]
        hit = no_text & rated
        if hit.any():
            coded[v.name] = pd.arrays.IntegerArray(np.asarray(scores.fillna(0), dtype=np.int64),
                                                   np.asarray(pd.isna(scores)) | hit)
            coded[f"{v.name}_dk"] = coded[f"{v.name}_dk"] & ~hit
            notes.append(CellNote("other_rating_without_text_set_missing", v.name, np.flatnonzero(hit)))


def _lookup(key: str, exact: dict, folded: dict) -> tuple[Any, bool]:
    """A label's code: exact (normalised) first, else ignoring capitals and spacing (loose=True)."""
    got = exact.get(key)
    if got is not None:
        return got, False
    got = folded.get(fold_label(key))
    return got, got is not None


def _note_loose(loose: np.ndarray, codes: np.ndarray, v, notes: list) -> None:
    if loose.any():
        rows = np.flatnonzero(loose[codes])
        if len(rows):
            notes.append(CellNote("label_matched_ignoring_case_and_spaces", v.name, rows))


def _factorize(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the distinct values of a column (-1 where empty): labels are looked up once
    per distinct value and mapped back with numpy indexing, never row by row."""
    codes, uniques = pd.factorize(col.to_numpy(dtype=object))
    return codes, uniques


def _unknown(codes: np.ndarray, bad: np.ndarray, keys: np.ndarray, variable: str,
             reason: str) -> UnknownCells | None:
    """Rows whose distinct value is marked bad (lookups have one extra slot for 'empty')."""
    if not bad.any():
        return None
    per_row = bad[codes]
    rows = np.flatnonzero(per_row)
    return UnknownCells(variable, reason, rows, keys[codes][rows])


def _slots(n_uniques: int, fill, dtype=object) -> np.ndarray:
    """A lookup array with one slot per distinct value plus one (index -1) for empty cells."""
    return np.full(n_uniques + 1, fill, dtype=dtype)


def _recode_single(col, v, cb, lang, coded, texts, unknown, notes) -> None:
    lmap, fmap = cb.label_map(v.name, lang), cb.folded_label_map(v.name, lang)
    position = {code: k for k, code in enumerate(v.codes)}
    other_code = next((o.code for o in v.options if o.other), None)
    codes, uniques = _factorize(col)
    cat, other = _slots(len(uniques), -1, np.int64), _slots(len(uniques), None)
    bad, keys = _slots(len(uniques), False, bool), _slots(len(uniques), None)
    given, loose = _slots(len(uniques), False, bool), _slots(len(uniques), False, bool)
    for i, u in enumerate(uniques):
        keys[i] = key = _label_key(u)
        if not key:
            continue
        given[i] = True
        code, loose[i] = _lookup(key, lmap, fmap)
        if code is not None:
            cat[i] = position[code]
        elif v.other_text and other_code:
            # Forms writes the respondent's own text instead of the "Cits" label
            cat[i], other[i] = position[other_code], key
        else:
            bad[i] = True
    coded[v.name] = pd.Categorical.from_codes(cat[codes], categories=v.codes)
    _note_loose(loose, codes, v, notes)
    if v.other_text:
        texts[f"{v.name}_other"] = pd.Series(other[codes], index=col.index, dtype=object)
    cells = _unknown(codes, bad, keys, v.name, "unknown_label")
    if cells:
        unknown.append(cells)
    return given[codes]


def _recode_multi(col, v, cb, lang, coded, texts, unknown, notes) -> None:
    lmap, fmap = cb.label_map(v.name, lang), cb.folded_label_map(v.name, lang)
    option_codes = v.codes
    other_code = next((o.code for o in v.options if o.other), None)
    codes, uniques = _factorize(col)
    table = np.zeros((len(uniques) + 1, len(option_codes)), dtype=bool)
    answered = _slots(len(uniques), False, bool)
    other, bad, keys = _slots(len(uniques), None), _slots(len(uniques), False, bool), _slots(len(uniques), None)
    given, loose = _slots(len(uniques), False, bool), _slots(len(uniques), False, bool)
    sep = cb.multi_separator
    for i, u in enumerate(uniques):
        if isinstance(u, tuple):          # one column per option: the ticked codes (ingest)
            given[i] = answered[i] = True
            table[i] = [c in u for c in option_codes]
            continue
        parts = [_label_key(p) for p in str(u).split(sep)]
        if not any(parts):
            continue
        given[i] = True
        found, others, unknown_parts = set(), [], []
        for p in (p for p in parts if p):
            code, was_loose = _lookup(p, lmap, fmap)
            loose[i] |= was_loose
            if code is not None:
                found.add(code)
            elif v.other_text and other_code:
                others.append(p)
            else:
                unknown_parts.append(p)
        if unknown_parts:
            # the whole answer is set aside: we cannot tell what else was meant
            bad[i], keys[i] = True, "; ".join(unknown_parts)
            continue
        if others:
            found.add(other_code)
            other[i] = "; ".join(others)
        answered[i] = True
        table[i] = [c in found for c in option_codes]
    values, mask = table[codes], ~answered[codes]
    _note_loose(loose, codes, v, notes)
    for j, code in enumerate(option_codes):
        coded[f"{v.name}__{code}"] = pd.arrays.BooleanArray(np.ascontiguousarray(values[:, j]), mask.copy())
    if v.other_text:
        texts[f"{v.name}_other"] = pd.Series(other[codes], index=col.index, dtype=object)
    cells = _unknown(codes, bad, keys, v.name, "unknown_label")
    if cells:
        unknown.append(cells)
    return given[codes]


def _recode_likert(col, v, cb, lang, coded, unknown, notes) -> None:
    """A rated item: its scale's labels (exact, else ignoring capitals and spacing), a number in a
    numeric scale's range, or the scale's "don't know" (when it has one)."""
    scale = cb.scales[v.scale]
    scores = scale.scores.get(lang) or {}
    folded = {fold_label(k): x for k, x in scores.items()}
    dont_know = normalize(scale.dont_know[lang]) if scale.dont_know.get(lang) else None
    codes, uniques = _factorize(col)
    score, has = _slots(len(uniques), 0, np.int64), _slots(len(uniques), False, bool)
    dk, bad, keys = _slots(len(uniques), False, bool), _slots(len(uniques), False, bool), _slots(len(uniques), None)
    given, loose = _slots(len(uniques), False, bool), _slots(len(uniques), False, bool)
    for i, u in enumerate(uniques):
        keys[i] = key = _label_key(u)
        if not key:
            continue
        given[i] = True
        got, loose[i] = _lookup(key, scores, folded)
        if got is not None:
            score[i], has[i] = got, True
        elif dont_know is not None and (key == dont_know or fold_label(key) == fold_label(dont_know)):
            dk[i], loose[i] = True, key != dont_know
        elif scale.type == "numeric" and _integer(u) is not None and scale.min <= _integer(u) <= scale.max:
            score[i], has[i] = _integer(u), True
        else:
            bad[i] = True
    _note_loose(loose, codes, v, notes)
    coded[v.name] = pd.arrays.IntegerArray(score[codes], ~has[codes])
    coded[f"{v.name}_dk"] = dk[codes]
    cells = _unknown(codes, bad, keys, v.name, "unknown_label")
    if cells:
        unknown.append(cells)
    return given[codes]


def _integer(u: Any) -> int | None:
    """A whole number typed or stored in a cell ("7", 7.0, "7,0"), else None."""
    try:
        x = float(u) if isinstance(u, (int, float)) else float(str(u).strip().replace(",", "."))
    except ValueError:
        return None
    return int(x) if x == x and x.is_integer() else None


def _recode_number(col, v, coded, unknown) -> None:
    lo, hi = v.range
    codes, uniques = _factorize(col)
    value, ok = _slots(len(uniques), 0, np.int64), _slots(len(uniques), False, bool)
    bad, keys = _slots(len(uniques), False, bool), _slots(len(uniques), None)
    given = _slots(len(uniques), False, bool)
    for i, u in enumerate(uniques):
        keys[i] = _label_key(u)
        if not keys[i]:
            continue
        given[i] = True
        try:
            x = float(u) if isinstance(u, (int, float)) else float(str(u).strip().replace(",", "."))
        except ValueError:
            x = float("nan")
        if x == x and x.is_integer() and lo <= x <= hi:
            value[i], ok[i] = int(x), True
        else:
            bad[i] = True
    coded[v.name] = pd.arrays.IntegerArray(value[codes], ~ok[codes])
    cells = _unknown(codes, bad, keys, v.name, "out_of_range")
    if cells:
        unknown.append(cells)
    return given[codes]


def unknown_label_problems(rec: Recoded, cb: Codebook, policy: str) -> list[Problem]:
    """One problem per (column, label): count and rows; an error only when the policy is `stop`."""
    out = []
    export = rec.export
    severity = "error" if policy == "stop" else "warning"
    effect = {"stop": "the run stops", "quarantine": "the rows are quarantined",
              "missing": "the answers are set to missing (logged per cell)"}[policy]
    for cells in rec.unknown:
        v = cb.variables[cells.variable]
        if v.type in ("rating", "nps"):
            expected = f"an integer from {v.range[0]} to {v.range[1]}"
        elif v.type == "likert":
            sc = cb.scales[v.scale]
            allowed = [repr(x) for x in sc.scores.get(export.language) or {}]
            if sc.type == "numeric":
                allowed.insert(0, f"an integer from {sc.min} to {sc.max}")
            if sc.dont_know.get(export.language):
                allowed.append(repr(sc.dont_know[export.language]))
            expected = "one of " + ", ".join(allowed)
        else:
            expected = "one of " + ", ".join(repr(o.labels.get(export.language)) for o in v.options)
            if v.type == "multi":
                expected += " (several joined by ';')"
        labels = pd.Series(cells.labels)
        counts = labels.value_counts(sort=False)
        if len(counts) > MAX_LABELS_LISTED:   # e.g. a column of mojibake: list the commonest
            rest = counts.sort_values(ascending=False).iloc[MAX_LABELS_LISTED:]
            counts = counts[counts.index.isin(counts.sort_values(ascending=False).index[:MAX_LABELS_LISTED])]
            rows = export.source_row[cells.rows[labels.isin(rest.index).to_numpy()]]
            out.append(Problem(severity, cells.reason, export.source_file,
                               f"and {len(rest)} more distinct unknown values ({int(rest.sum())} cells); {effect}",
                               column=f"{export.headers.get(v.name, v.name)!r} ({v.name})",
                               rows=tuple(rows[:50]), count=int(rest.sum()), expected=expected))
        for label, n in counts.items():
            rows = export.source_row[cells.rows[(labels == label).to_numpy()]]
            kind = "value out of range" if cells.reason == "out_of_range" else "unknown label"
            # the label may be someone's own words: messages end up in logs, so redact it
            out.append(Problem(severity, cells.reason, export.source_file,
                               f"{kind} {_neutral_label(label, _privacy())!r} ({int(n)}×); {effect}",
                               column=f"{export.headers.get(v.name, v.name)!r} ({v.name})",
                               rows=tuple(rows[:50]), count=int(n), expected=expected,
                               hint="If it means an existing answer, add it as an alias in the codebook"
                               if cells.reason == "unknown_label" else None))
    return out


NOTE_TEXTS = {
    "label_matched_ignoring_case_and_spaces":
        "answers matched to the codebook's labels ignoring capitals and spacing (the same scale typed "
        "differently); logged per cell",
    "other_rating_without_text_set_missing":
        "ratings of the \"Other\" row by people who wrote no \"Other\": set aside as missing; logged per cell",
}


def note_problems(rec: Recoded) -> list[Problem]:
    """Warnings for decisions taken while recoding (one per column and kind, with rows)."""
    out = []
    ex = rec.export
    for note in rec.notes:
        out.append(Problem("warning", note.action, ex.source_file, NOTE_TEXTS.get(note.action, note.action),
                           column=f"{ex.headers.get(note.variable, note.variable)!r} ({note.variable})",
                           rows=tuple(ex.source_row[note.rows][:50]), count=len(note.rows)))
    return out


# --- reading every input ----------------------------------------------------------------

@dataclass
class Prepared:
    params: dict[str, Any]
    cb: Codebook | None
    recoded: list[Recoded] = field(default_factory=list)
    mail: list[MailBatch] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[tuple[str, str, Path]] = field(default_factory=list)   # (kind, source_file, path)
    # text -> privacy.redact(text), made while the inputs were read (a run's input check)
    redacted: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


# the input check of a run (analysis.checks, in the run's process) reads and recodes every input
# once; stage 01 of the same run, in its kernel, takes that reading from the run's private input
# snapshot instead of reading the exports a second time (at 10^6 responses a full read of the
# workbooks and 50,000 e-mails costs minutes). Both read the same frozen copies of the inputs.
PREPARED_FILE = "prepared.pickle"


def _prepared_key(params: dict[str, Any], root: Path) -> str:
    """What prepare's reading depends on besides the (frozen) input files: the params it reads."""
    import hashlib
    import json

    policy = params.get("unknown_label", "stop")
    what = {"codebook": params.get("codebook"), "inputs": params.get("inputs"), "root": str(root),
            "unknown_label": policy if policy in UNKNOWN_LABEL_POLICIES else "stop",
            "max_text_chars": str(params.get("max_text_chars", MAX_TEXT_CHARS))}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _prepared_path() -> Path | None:
    snap = os.environ.get(paths.SNAPSHOT_ENV)
    return Path(snap) / PREPARED_FILE if snap and Path(snap).is_dir() else None


def keep_prepared(prepared: Prepared, root: Path | None = None) -> Path | None:
    """Leave the check's reading of the inputs in the run's input snapshot for stage 01 (only
    inside a run, which sets $ANALYSIS_SNAPSHOT, and only when nothing stops the run). Written
    to a temporary name and renamed, so stage 01 never sees half a file."""
    import pickle

    path = _prepared_path()
    if path is None or prepared.errors or prepared.cb is None:
        return None
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        pickle.dump((_prepared_key(prepared.params, root or paths.ROOT), prepared), f, protocol=5)
    os.replace(tmp, path)
    return path


def _taken_prepared(params: dict[str, Any], root: Path) -> Prepared | None:
    """The check's reading of these very inputs, when the run left it (used once, then deleted)."""
    import pickle

    path = _prepared_path()
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as f:
            key, prepared = pickle.load(f)
    except Exception:                 # unreadable: read the inputs again (only slower)
        return None
    if key != _prepared_key(params, root):
        return None
    path.unlink(missing_ok=True)
    return prepared


def prepare(params: dict[str, Any], root: Path | None = None, on_read=None, take: bool = True) -> Prepared:
    """Read, match headers, parse dates and recode every input; collect every problem at once.

    `on_read(export)` is called as soon as each Forms export is read (run_clean starts the
    redaction of its texts there, in the background). Inside a run whose input check left its
    reading of these inputs (keep_prepared), that reading is taken instead of a second one:
    the same exports, recodings and problems, and the redactions the check made meanwhile are
    given to `on_read` (``take=False``: never take one; the check itself)."""
    root = root or paths.ROOT
    taken = _taken_prepared(params, root) if on_read is not None and take else None
    if taken is not None:
        prepared = Prepared(params, taken.cb, taken.recoded, taken.mail, validate_params(params), taken.files)
        n_params = len(validate_params(taken.params))
        prepared.problems.extend(taken.problems[n_params:])
        redacted = taken.redacted
        for rec in prepared.recoded:
            on_read(rec.export, prepared.cb, rec.texts, redacted)
            redacted = None
        if redacted:                   # no Forms export: nothing was given the redactions
            on_read(None, prepared.cb, {}, redacted)
        return prepared
    prepared = Prepared(params, None)
    prepared.problems.extend(validate_params(params))
    try:
        prepared.cb = codebook_mod.load(paths.resolve(params.get("codebook", ""), root))
    except codebook_mod.CodebookError as exc:
        prepared.problems.append(Problem("error", "codebook", exc.path, exc.message, column=exc.where))
        return prepared
    cb = prepared.cb
    policy = params.get("unknown_label", "stop")
    policy = policy if policy in UNKNOWN_LABEL_POLICIES else "stop"
    max_chars = int(params.get("max_text_chars", MAX_TEXT_CHARS))
    inputs = params.get("inputs") if isinstance(params.get("inputs"), dict) else {}
    forms = expand_inputs(inputs.get("forms"), FORMS_EXTENSIONS, root)
    mails = expand_inputs(inputs.get("email"), MAIL_EXTENSIONS, root)
    names = source_names(forms + mails)
    # big mailboxes are parsed by a child process while this one reads the workbooks
    mail_child = _start_mail_child(mails, names, max_chars)
    for path in forms:
        prepared.files.append(("forms", names[path], path))
        try:
            export = read_forms(path, cb, max_chars, source_file=names[path])
        except InputError as exc:
            prepared.problems.extend(exc.problems)
            continue
        prepared.problems.extend(export.problems)
        if on_read is not None:
            on_read(export, cb)
        rec = recode(export, cb)
        _keep_for_combine(rec, cb)
        prepared.problems.extend(unknown_label_problems(rec, cb, policy))
        prepared.problems.extend(note_problems(rec))
        prepared.recoded.append(rec)
        del export, rec
        give_back_memory()
    from_child = _mail_child_results(mail_child, len(mails))
    for k, path in enumerate(mails):
        prepared.files.append(("email", names[path], path))
        try:
            if from_child is None:
                batch = read_mail(path, max_chars, source_file=names[path])
            else:
                kind, batch = from_child[k]
                if kind == "error":
                    raise InputError(batch)
        except InputError as exc:
            prepared.problems.extend(exc.problems)
            continue
        prepared.problems.extend(batch.problems)
        prepared.mail.append(batch)
    return prepared


MAIL_CHILD_FROM = 4 << 20        # bytes of mailboxes from which a child process parses them
_MAIL_CHILD = (
    "import pickle, sys\n"
    "from analysis.ingest import InputError, read_mail\n"
    "job = pickle.load(sys.stdin.buffer)\n"
    "out = []\n"
    "for path, name in job['mails']:\n"
    "    try:\n"
    "        out.append(('ok', read_mail(path, job['max_chars'], source_file=name)))\n"
    "    except InputError as exc:\n"
    "        out.append(('error', exc.problems))\n"
    "sys.stdout.buffer.write(pickle.dumps(out, protocol=5))\n")


def _mail_size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.suffix.lower() == ".eml")
        return path.stat().st_size
    except OSError:
        return 0


def _start_mail_child(mails: list[Path], names: dict[Path, str], max_chars: int):
    """A child interpreter parsing the mailboxes (analysis.ingest.read_mail, the same code this
    process would run) while this one reads the workbooks: e-mail parsing is pure Python, about
    2 ms a message, and a national consultation's 50,000 e-mails would otherwise wait for the
    workbooks. None (read here, as always) for small mailboxes or when no child can start."""
    import pickle
    import subprocess

    if not mails or sum(_mail_size(p) for p in mails) < MAIL_CHILD_FROM:
        return None
    try:
        proc = subprocess.Popen([sys.executable, "-c", _MAIL_CHILD], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=paths.child_env())
        proc.stdin.write(pickle.dumps({"mails": [(str(p), names[p]) for p in mails],
                                       "max_chars": max_chars}, protocol=5))
        proc.stdin.close()
    except OSError:
        return None
    return proc


def _mail_child_results(proc, n: int) -> list | None:
    """The child's readings, one per mailbox in order; None when it failed (then this process
    reads them itself: the result never depends on the child)."""
    import pickle

    if proc is None:
        return None
    try:
        data = proc.stdout.read()
        proc.wait()
        got = pickle.loads(data) if proc.returncode == 0 else None
    except Exception:
        got = None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return got if isinstance(got, list) and len(got) == n else None


# --- the stage --------------------------------------------------------------------------

@dataclass
class CleanResult:
    responses: pd.DataFrame
    # the long ratings table, or None: then `ratings` builds it from `responses` each time it is
    # asked for (it has a row per respondent and item - about 32 rows a respondent - and is
    # written once, so the stage does not hold it beside everything else)
    ratings_table: pd.DataFrame | None
    proposals: pd.DataFrame
    quarantine: pd.DataFrame
    cleaning_log: pd.DataFrame
    flow: pd.DataFrame
    rules: pd.DataFrame                    # one row per rule: action, parameters, counts
    problems: list[Problem]                # warnings met on the way (errors stop the run)
    files: dict[str, Path]
    contact_count: int = 0
    cb: Codebook | None = None             # needed to build `ratings` when ratings_table is None

    @property
    def ratings(self) -> pd.DataFrame:
        if self.ratings_table is not None:
            return self.ratings_table
        return _ratings(self.responses, self.cb)

    @property
    def n_ratings(self) -> int:
        """Rows of the ratings table (without building it)."""
        if self.ratings_table is not None:
            return len(self.ratings_table)
        return len(self.responses) * len(self.cb.likert_items)


def _privacy():
    from . import privacy  # written alongside this stage; imported when first needed
    return privacy


def run_clean(params: dict[str, Any], run_dir: str | Path = "", write: bool = True,
              root: Path | None = None) -> CleanResult:
    """Stage 01 end to end. Raises InputError (exit 2) before writing anything on bad input."""
    privacy = _privacy()
    redactor = Redactor(privacy)
    try:
        return _clean(params, run_dir, write, root, privacy, redactor, redaction_starter(redactor))
    finally:
        redactor.close()       # never leave child processes behind


def redaction_starter(redactor: "Redactor"):
    """prepare's `on_read` for stage 01 (and a run's input check): every free text of an export
    just read, quarantined rows included (a few too many is cheaper than waiting), handed to the
    redactor's background processes while the rows are recoded and checked. `texts`: the
    recoded free texts, when the export was read and recoded before; `redacted`: redactions
    already made (by the run's input check)."""
    def start_redaction(export: FormsExport | None, cb: Codebook, texts: dict[str, pd.Series] | None = None,
                        redacted: dict[str, str] | None = None) -> None:
        if redacted:
            redactor.done.update(redacted)
        names = [v.name for v in cb.of_type("text") if not v.pii]
        cells = texts if texts is not None else export.frame
        redactor.start(t for name in names if name in cells
                       for t in cells[name].to_numpy(dtype=object) if isinstance(t, str))
    return start_redaction


def _clean(params, run_dir, write, root, privacy, redactor, start_redaction) -> CleanResult:
    prepared = prepare(params, root, on_read=start_redaction)
    if prepared.errors:
        raise InputError(prepared.errors)
    cb = prepared.cb
    salt = privacy.load_salt(params.get("salt_env", "ANALYSIS_SALT"), _salt_file(root))
    rules = rule_settings(params)
    policy = params.get("unknown_label", "stop")

    rows = _combine(prepared, cb, salt, privacy)
    for rec in prepared.recoded:
        _release_cells(rec)
    give_back_memory()
    hits, details, rule_info = _apply_rules(rows, cb, rules, policy)
    excluded = np.zeros(len(rows), bool)
    for reason, hit in hits.items():
        if reason in STRUCTURAL_REASONS or (reason in rules and rules[reason]["action"] == "exclude") \
                or (reason in ("unknown_label", "out_of_range") and policy == "quarantine"):
            excluded |= hit
    mail_rows, mail_hits, mail_details = _mail_rows(prepared.mail, rules, cb, salt, privacy)
    mail_excluded = np.zeros(len(mail_rows), bool)
    for reason, hit in mail_hits.items():
        if reason in STRUCTURAL_REASONS or reason == "empty" or rules.get(reason, {}).get("action") == "exclude":
            mail_excluded |= hit
    redactor.start(_texts_to_redact(rows, excluded, mail_rows, mail_excluded))
    # what needs no open-answer text first, while the background redaction finishes
    responses = _responses(rows, cb, hits, rules, excluded, redactor)
    quarantine = _quarantine(rows, hits, details, excluded, mail_rows, mail_hits, mail_details,
                             mail_excluded, rules, cb.languages)
    flow = flow_table(prepared, rows, excluded, mail_rows, mail_excluded)
    rule_table = _rule_table(rules, rule_info, hits, excluded, mail_hits, mail_excluded, policy)
    log = _cleaning_log(rule_table, rows, prepared, excluded, policy, redactor)
    contact_count = int(rows["has_contact"][~excluded].sum())
    # from here on only the open answers of the kept rows are needed: the other columns of
    # every row go before the proposals are built (the stage's peak is at its end)
    texts = rows.loc[~excluded, [c for c in rows.columns if c.startswith("_text_")]].reset_index(drop=True)
    del rows, hits, details
    proposals = _proposals(responses, texts, cb, mail_rows, mail_excluded, redactor)
    del texts
    redactor.done.clear()     # the texts as read and their redactions: not needed any more
    give_back_memory()
    result = CleanResult(responses, None, proposals, quarantine, log, flow, rule_table,
                         [p for p in prepared.problems if p.severity != "error"], {},
                         contact_count=contact_count, cb=cb)
    if write:
        result.files = write_outputs(result, cb, run_dir)
    return result


def _salt_file(root: Path | None) -> Path:
    return (root or paths.ROOT) / ".salt"


def _combine(prepared: Prepared, cb: Codebook, salt: bytes, privacy) -> pd.DataFrame:
    """All form rows in one frame: identity, times, codes, raw texts, row issues as columns."""
    parts = []
    id_var, email_var, person_var, start_var, end_var = _combine_meta(cb)
    no_time = pd.Series(pd.NaT, dtype=f"datetime64[us, {cb.timezone}]")
    meta = {v.name for v in cb.of_type("meta")}
    contact_vars = [v.name for v in cb.of_type("text") if v.pii]
    # no Forms export at all (e-mails only): one empty export keeps every column and dtype
    for k, rec in enumerate(prepared.recoded or [_empty_recoded(cb)]):
        ex = rec.export
        f = ex.frame
        n = len(f)
        index = pd.RangeIndex(n)

        def obj(values):  # object dtype kept on purpose: no string inference on 100k cells
            return pd.Series(values, index=index, dtype=object)

        cols: dict[str, Any] = {
            "_file": np.full(n, k), "_pos": np.arange(n),
            "source_file": pd.array([ex.source_file] * n, dtype="string"),
            "source_row": pd.array(ex.source_row, dtype="Int64"),
            "form_language": obj(np.full(n, ex.language, dtype=object)),
            "_id": obj([_id_text(x) for x in f[id_var].to_numpy(dtype=object)]),
            "_email": obj([_email_key(x) for x in f[email_var].to_numpy(dtype=object)] if email_var
                          else np.full(n, None, dtype=object)),
            "_person": obj([_id_text(x) for x in f[person_var].to_numpy(dtype=object)] if person_var
                           else np.full(n, None, dtype=object)),
            "start_time": f[start_var] if start_var else no_time.reindex(index),
            "completion_time": f[end_var] if end_var else no_time.reindex(index),
            # columns the codebook does not map still count when duplicates are judged
            "_extra": _row_hashes(ex.extra, n),
        }
        cols.update(rec.coded)
        for name, values in rec.texts.items():
            if name not in contact_vars:
                cols[f"_text_{name}"] = obj(values.to_numpy(dtype=object))
        cols["has_contact"] = f[contact_vars].notna().any(axis=1).to_numpy() if contact_vars else np.zeros(n, bool)
        cols["_answered"] = rec.answered_any
        issues: dict[str, np.ndarray] = {}
        for reason, rows, text, sep in ([(i.reason, i.rows, i.detail, "; ") for i in ex.row_issues]
                                        + [(c.reason, c.rows, c.variable, ", ") for c in rec.unknown]):
            col = issues.setdefault(f"_issue_{reason}", np.full(n, "", dtype=object))
            col[rows] = [f"{old}{sep}{text}" if old else text for old in col[rows]]
        cols.update({name: obj(values) for name, values in issues.items()})
        parts.append(pd.DataFrame(cols, index=index))
    rows = pd.concat(parts, ignore_index=True)
    for c in [c for c in rows.columns if c.startswith("_issue_")]:
        rows[c] = rows[c].fillna("")
    rows["duration_s"] = (rows["completion_time"] - rows["start_time"]).dt.total_seconds() if len(rows) else []
    rows["respondent_id"] = _respondent_ids(rows, cb, salt, privacy)
    return rows


def _combine_meta(cb: Codebook) -> tuple[str, str | None, str | None, str | None, str | None]:
    """The export columns `_combine` reads besides the texts: id, e-mail, respondent, start and
    completion time (None where the codebook has no such column)."""
    return (cb.role("id").name, cb.meta_var("email"), cb.meta_var("respondent"),
            cb.meta_var("start_time"), cb.meta_var("completion_time"))


def _keep_for_combine(rec: Recoded, cb: Codebook) -> None:
    """Once recoded, an export keeps only the columns `_combine` reads (identity, times, contact)
    and its free texts, each its own array: the block of every raw cell (a pointer per cell of
    every column) is freed before the next file is read."""
    frame = rec.export.frame
    names = list(_combine_meta(cb)) + [v.name for v in cb.of_type("text") if v.pii]
    keep = [c for c in dict.fromkeys(n for n in names if n) if c in frame]
    rec.export.frame = pd.DataFrame({c: frame[c].copy() for c in keep}, index=frame.index)
    rec.texts = {name: values.copy() for name, values in rec.texts.items()}


def give_back_memory() -> None:
    """Return freed memory to the system (Arrow's pool, and glibc's heap on Linux), so that the
    next step's peak is not stacked on memory the last one freed but the allocators kept."""
    try:
        import pyarrow as pa
        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001 - only an optimisation
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def _release_cells(rec: Recoded) -> None:
    """Once the rows are combined, an export's cells are not needed any more: its frame keeps
    only its length (`n_rows`), so the raw cells (a pointer per cell, the labels) are freed
    rather than held to the end of the stage."""
    rec.export.frame = rec.export.frame.iloc[:, :0]
    rec.export.extra = None
    rec.coded, rec.texts = {}, {}


def _row_hashes(extra: pd.DataFrame | None, n: int) -> np.ndarray:
    """One hash per row of the columns no variable claims (0 when there are none)."""
    if extra is None or not extra.shape[1] or not n:
        return np.zeros(n, dtype="uint64")
    cells = extra.map(lambda x: "" if _blank_cell(x) else normalize(x))
    return pd.util.hash_pandas_object(cells, index=False).to_numpy(dtype="uint64")


def _empty_recoded(cb: Codebook) -> Recoded:
    frame = pd.DataFrame({v: pd.Series([], dtype=object) for v in cb.variables})
    for role in ("start_time", "completion_time", "last_modified"):
        if cb.meta_var(role):
            frame[cb.meta_var(role)] = pd.Series([], dtype=f"datetime64[us, {cb.timezone}]")
    export = FormsExport(path=Path(""), source_file="", language=cb.languages[0], frame=frame,
                         source_row=np.zeros(0, dtype=int), headers={})
    return recode(export, cb)


def _id_text(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = normalize(value)
    return text or None


def _email_key(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    return key if "@" in key else None          # "anonymous" and blanks are no address


def _respondent_ids(rows: pd.DataFrame, cb: Codebook, salt: bytes, privacy) -> pd.Series:
    """Salted pseudonym of (survey, form language, Forms ID); the raw ID is never written."""
    ids = rows["_id"].to_numpy(dtype=object)
    keys = [f"{cb.survey}:{lang}:{i}" for lang, i in zip(rows["form_language"], ids)]
    seen: set[str] = set()
    for k, (key, i) in enumerate(zip(keys, ids)):
        if pd.isna(i) or key in seen:   # no ID, or an ID seen before: the row's place makes it unique
            keys[k] = f"{key}@{rows['source_file'].iat[k]}#{rows['source_row'].iat[k]}"
        seen.add(key)
    return pd.array([privacy.pseudonym(k, salt, prefix="R") for k in keys], dtype="string")


def _apply_rules(rows: pd.DataFrame, cb: Codebook, rules: dict, policy: str):
    """Every reason as a boolean mask over all rows, a detail text per hit row, and rule figures."""
    n = len(rows)
    hits: dict[str, np.ndarray] = {}
    details: dict[str, pd.Series] = {}
    info: dict[str, dict[str, Any]] = {}

    def add(reason, mask, detail):
        """`detail`: a text, or a function of row positions giving one text per row (only
        the quarantined rows ever get their text built)."""
        mask = np.asarray(mask, dtype=bool)
        hits[reason] = hits.get(reason, np.zeros(n, bool)) | mask
        details[reason] = detail if callable(detail) else (lambda idx, d=detail: [d] * len(idx))

    for c in [c for c in rows.columns if c.startswith("_issue_")]:
        reason = c[len("_issue_"):]
        text = rows[c].to_numpy(dtype=object)
        prefix = {"unknown_label": "unknown label in ", "out_of_range": "value out of range in "}.get(reason, "")
        add(reason, text != "", lambda idx, t=text, p=prefix: [p + x for x in t[idx]])
    times_ok = rows["start_time"].notna().to_numpy() & rows["completion_time"].notna().to_numpy()
    duration = rows["duration_s"].to_numpy(dtype=float) if n else np.zeros(0)
    has_durations = bool(cb.meta_var("start_time") and cb.meta_var("completion_time")) and (times_ok.any() or not n)
    has_times = bool(cb.meta_var("completion_time") or cb.meta_var("start_time")) and \
        (not n or rows["completion_time"].notna().any() or rows["start_time"].notna().any())
    add("invalid_duration", times_ok & (duration < 0), "completion time before start time")
    add("missing_id", rows["_id"].isna().to_numpy(), "no response ID")
    answered = rows["_answered"].to_numpy(dtype=bool)

    if "empty" in rules:
        add("empty", ~answered, "no answer to any question")
    if "duplicate" in rules:
        mask, detail = _duplicates(rows, cb, answered, rules["duplicate"].get("keep", "first"))
        add("duplicate", mask, lambda idx, d=detail.to_numpy(dtype=object): list(d[idx]))
    if "speeder" in rules and not has_durations:
        info["speeder"] = {OFF: "no_times"}
    elif "speeder" in rules:
        share_of_median = float(rules["speeder"]["share_of_median"])
        valid = times_ok & (duration >= 0) & answered
        median = float(np.median(duration[valid])) if valid.any() else float("nan")
        threshold = share_of_median * median
        info["speeder"] = {"median_s": round(median, 1), "threshold_s": round(threshold, 1)}
        add("speeder", valid & (duration < threshold),
            lambda idx, d=duration, th=threshold, k=share_of_median, m=median:
            [f"{d[i]:.0f} s < {th:.0f} s ({k:g} × median {m:.0f} s)" for i in idx])
    if "straightliner" in rules:
        spec = rules["straightliner"]
        items = cb.likert_items
        scores = (np.column_stack([rows[i].to_numpy(dtype="float64", na_value=np.nan) for i in items])
                  if n and items else np.zeros((n, len(items))))
        rated = np.sum(~np.isnan(scores), axis=1)
        # every point of every scale in use (0-10, 0-14, 1-7 ...), not only 1..5
        points = sorted({p for i in items for p in cb.scale_of(i).points})
        same = (np.max(np.column_stack([np.sum(scores == k, axis=1) for k in points]), axis=1)
                if n and points else np.zeros(n))
        same_share = np.divide(same, rated, out=np.zeros(n), where=rated > 0)
        add("straightliner", (rated >= spec["min_rated"]) & (same_share >= spec["min_share_same"]),
            lambda idx, sh=same_share, r=rated: [f"{sh[i]:.0%} of rated items the same answer ({r[i]} rated)"
                                                 for i in idx])
    if "outside_window" in rules:
        start, end = window(cb)
        if start is None and end is None:
            info["outside_window"] = {OFF: "no_window"}
        elif not has_times:
            info["outside_window"] = {OFF: "no_timestamp"}
        else:
            t = rows["completion_time"].where(rows["completion_time"].notna(), rows["start_time"])
            late = (t > end) if end is not None else pd.Series(False, index=t.index)
            early = (t < start) if start is not None else pd.Series(False, index=t.index)
            mask = (t.notna() & (early | late)).to_numpy()
            info["outside_window"] = {"window": f"{_when(start)} – {_when(end)} {cb.timezone}"}
            add("outside_window", mask, lambda idx, t=t: [f"submitted {x:%Y-%m-%d %H:%M}" for x in t.iloc[idx]])
    if "duplicate" in rules and not cb.meta_var("email"):
        info.setdefault("duplicate", {})["e-mail"] = "no e-mail column: not compared"
    return hits, details, info


OFF = "switched_off"     # rule_info key: why a configured rule could not be applied


def _when(t) -> str:
    return f"{t:%Y-%m-%d %H:%M}" if t is not None else "…"


def window(cb: Codebook) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The consultation window from the codebook, as tz-aware times in its time zone; either
    end may be open (None)."""
    w = cb.window or {}
    tz = cb.timezone

    def at(key):
        if not w.get(key):
            return None
        t = pd.Timestamp(w[key])
        return (t.tz_localize(tz) if t.tzinfo is None else t).tz_convert(tz)

    return at("start"), at("end")


def _duplicates(rows: pd.DataFrame, cb: Codebook, answered: np.ndarray, keep: str):
    """Identical answers, the same Forms ID twice in one form, or the same e-mail address.

    Rows are taken in submission order; the first (or last, `keep`) of each group is kept.
    Empty rows are left to the `empty` rule.
    """
    n = len(rows)
    answer_cols = [c for c in rows.columns if not c.startswith("_") and c not in (
        "source_file", "source_row", "form_language", "start_time", "completion_time", "duration_s",
        "respondent_id", "has_contact")] + [c for c in rows.columns if c.startswith("_text_")]
    order = rows.sort_values(["completion_time", "_file", "_pos"], na_position="last", kind="stable").index
    hashed = pd.util.hash_pandas_object(rows[answer_cols], index=False) if n else pd.Series([], dtype="uint64")
    extra = rows["_extra"].to_numpy(dtype="uint64") if n else np.zeros(0, dtype="uint64")
    if extra.any():     # every column of the export counts, mapped or not
        hashed = pd.Series(pd.util.hash_array(np.char.add(hashed.to_numpy().astype(str),
                                                          np.char.add("|", extra.astype(str)))),
                           index=hashed.index)
    identical = hashed.where(answered)
    person = rows["_person"]
    if person.notna().any():
        # a unique respondent id is respected: identical answers under two different ids are
        # two people; the same id twice is a duplicate whatever the answers
        identical = pd.Series([None if pd.isna(h) else f"{h}|{p}" for h, p in zip(identical, person)],
                              index=rows.index, dtype=object)
    keys = {
        "identical answers": identical,
        "same respondent id": person,
        "same response ID in the same form": pd.Series(
            [None if pd.isna(i) else f"{lang}:{i}" for lang, i in zip(rows["form_language"], rows["_id"])],
            index=rows.index, dtype=object),
        "same e-mail address": rows["_email"],
    }
    mask = np.zeros(n, bool)
    detail = pd.Series("", index=rows.index, dtype=object)
    for what, key in keys.items():
        k = key.loc[order]
        present = k.notna()
        dup = k[present].duplicated(keep=keep)
        dup_idx = dup[dup].index
        if not len(dup_idx):
            continue
        kept = k[present][~dup]
        kept_row = pd.Series(kept.index, index=kept.to_numpy())
        ref = kept_row.reindex(k.loc[dup_idx].to_numpy()).to_numpy()
        where = (rows["source_file"].astype(str) + " row " + rows["source_row"].astype(str)).to_numpy(dtype=object)
        mask[dup_idx] = True
        text = pd.Series([f"{what} as {where[r]}" for r in ref], index=dup_idx, dtype=object)
        detail.loc[dup_idx] = (detail.loc[dup_idx] + "; " + text).str.lstrip("; ")
    return mask, detail


def _responses(rows, cb, hits, rules, excluded, privacy) -> pd.DataFrame:
    keep = ~excluded
    r = rows.loc[keep]
    out: dict[str, Any] = {
        "respondent_id": r["respondent_id"].astype("string").array,
        "source_file": r["source_file"].astype("string").array,
        "source_row": r["source_row"].astype("Int64").array,
        "form_language": pd.Categorical(r["form_language"], categories=list(cb.languages)),
        "start_time": r["start_time"].to_numpy(), "completion_time": r["completion_time"].to_numpy(),
        "duration_s": r["duration_s"].astype(float).to_numpy(),
    }
    df = pd.DataFrame(out)
    df["start_time"] = r["start_time"].reset_index(drop=True)
    df["completion_time"] = r["completion_time"].reset_index(drop=True)
    for v in cb.variables.values():
        if v.type == "single":
            df[v.name] = pd.Categorical(r[v.name], categories=v.codes)
            if v.other_text:
                df[f"{v.name}_other"] = redact_series(r[f"_text_{v.name}_other"], privacy)
    for v in cb.variables.values():
        if v.type == "multi":
            for code in v.codes:
                df[f"{v.name}__{code}"] = r[f"{v.name}__{code}"].astype("boolean").array
            if v.other_text:
                df[f"{v.name}_other"] = redact_series(r[f"_text_{v.name}_other"], privacy)
    for v in cb.variables.values():
        if v.type in ("rating", "nps"):
            df[v.name] = r[v.name].astype("Int64").array
    for v in cb.variables.values():
        if v.type == "likert":
            df[v.name] = r[v.name].astype("Int64").array
            df[f"{v.name}_dk"] = r[f"{v.name}_dk"].astype(bool).to_numpy()
    df["has_contact"] = r["has_contact"].astype(bool).to_numpy()
    for rule, spec in rules.items():
        if spec["action"] == "flag":
            df[f"flag_{rule}"] = hits.get(rule, np.zeros(len(rows), bool))[keep]
    df["weight"] = 1.0
    return df


class Redactor:
    """`privacy.redact` with a memory of what it has done.

    On big exports redaction (pure Python) is the costliest step, so `start(texts)` hands the
    texts, in chunks, to child processes in the background as soon as they are read; the main
    process goes on recoding and applying the rules meanwhile. When it needs a result it stops
    waiting idle: it redacts the chunks no child has taken yet itself (from the end of the
    queue, while the children take them from the front), then waits for the chunks in flight.
    Results are identical to calling `privacy.redact` here (a pure function), whatever the
    number of processes or who did which chunk.
    """

    PARALLEL_FROM = 5_000             # distinct texts; below this, child processes cost more than they save
    CHUNK = 1_000                     # texts per chunk handed out (a child or the main process)

    def __init__(self, privacy, workers: int | None = None, steal: bool = True):
        self.privacy = privacy
        self.done: dict[str, str] = {}
        # the main process keeps one core for recoding and the rules meanwhile
        cores = os.cpu_count() or 1
        self.workers = workers if workers is not None else (min(cores - 1, 4) if cores > 1 else 0)
        self.steal = steal
        self._jobs: list[_RedactJob] = []
        self._pending: set[str] = set()

    def start(self, texts) -> None:
        todo = [t for t in dict.fromkeys(texts)
                if isinstance(t, str) and t not in self.done and t not in self._pending]
        if len(todo) < self.PARALLEL_FROM or self.workers < 1:
            return                    # done on demand, in this process
        self._jobs.append(_RedactJob(todo, self.workers, self.CHUNK))
        self._pending.update(todo)

    def finish(self) -> None:
        for job in self._jobs:
            self.done.update(job.results(self.privacy.redact if self.steal else None))
        self._jobs, self._pending = [], set()

    def close(self) -> None:
        """Stop the children (after an error: nothing more is redacted)."""
        for job in self._jobs:
            job.cancel()
        self._jobs, self._pending = [], set()

    def redact_file_name(self, name: str) -> str:
        return self.privacy.redact_file_name(name)

    def redact(self, text: str) -> str:
        got = self.done.get(text)
        if got is None:
            if text in self._pending:
                self.finish()
                got = self.done.get(text)
            if got is None:
                got = self.done[text] = self.privacy.redact(text)
        return got


_REDACT_WORKER = (
    "import json, sys\n"
    "from analysis.privacy import redact\n"
    "for line in sys.stdin.buffer:\n"       # one chunk a line: a JSON list of texts (newlines escaped)
    "    texts = json.loads(line.decode('utf-8'))\n"
    # null for a text redaction leaves as it is (most): less to send back and decode
    "    got = [redact(t) for t in texts]\n"
    "    got = [None if r == t else r for t, r in zip(texts, got)]\n"
    "    sys.stdout.buffer.write(json.dumps(got).encode('utf-8') + b'\\n')\n"
    "    sys.stdout.buffer.flush()\n")


class _RedactJob:
    """Texts in chunks, redacted by `workers` child interpreters (one thread feeds each, through
    pipes) and, once `results` is asked for, by the caller too.

    Plain subprocesses rather than multiprocessing: spawn/forkserver would re-run the caller's
    __main__ script in every child, and fork is unsafe with pyarrow's threads in this process.
    A child that fails gives its chunk back; the caller redacts what is left (no child at all:
    everything), so the result never depends on the children.
    """

    def __init__(self, texts: list[str], workers: int, chunk: int):
        import threading
        from collections import deque

        self.texts = texts
        self.queue = deque(range(0, len(texts), chunk))    # chunk starts, in order
        self.chunk = chunk
        self.out: dict[int, list[str]] = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._feed, daemon=True) for _ in range(workers)]
        for t in self.threads:
            t.start()

    def _take(self, front: bool) -> int | None:
        with self.lock:
            if not self.queue:
                return None
            return self.queue.popleft() if front else self.queue.pop()

    def _feed(self) -> None:
        import json
        import subprocess
        import sys

        start = None
        try:
            proc = subprocess.Popen([sys.executable, "-c", _REDACT_WORKER], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            return
        try:
            while (start := self._take(front=True)) is not None:
                part = self.texts[start:start + self.chunk]
                proc.stdin.write(json.dumps(part).encode("utf-8") + b"\n")
                proc.stdin.flush()
                got = json.loads(proc.stdout.readline().decode("utf-8"))
                if len(got) != len(part):
                    raise ValueError("redaction worker returned a different number of texts")
                # null: the text as it was (the same string object, not a second copy of it)
                self.out[start] = [t if r is None else r for t, r in zip(part, got)]
                start = None
        except (OSError, ValueError):
            if start is not None:
                with self.lock:
                    self.queue.appendleft(start)        # the caller does it
        finally:
            try:
                proc.stdin.close()          # the child's loop ends
            except OSError:
                pass
            if start is not None:
                proc.kill()
            proc.wait()

    def cancel(self) -> None:
        """No more chunks handed out; the children finish the one they have and exit."""
        with self.lock:
            self.queue.clear()
        for t in self.threads:
            t.join()

    def results(self, redact=None) -> dict[str, str]:
        """text -> redacted text; `redact` (the caller's own) takes chunks from the end of the
        queue meanwhile (None: only wait for the children)."""
        while redact is not None and (start := self._take(front=False)) is not None:
            self.out[start] = [redact(t) for t in self.texts[start:start + self.chunk]]
        for t in self.threads:
            t.join()
        while redact is not None and (start := self._take(front=True)) is not None:   # given back by a failed child
            self.out[start] = [redact(t) for t in self.texts[start:start + self.chunk]]
        done: dict[str, str] = {}           # without `redact`, chunks left over are redacted on demand
        for start, got in self.out.items():
            done.update(zip(self.texts[start:start + self.chunk], got))
        return done


def _texts_to_redact(rows, excluded, mail_rows, mail_excluded) -> list[str]:
    keep = ~excluded
    out: list[str] = []
    for c in (c for c in rows.columns if c.startswith("_text_")):
        values = rows[c].to_numpy(dtype=object)[keep]
        out.extend(v for v in values if isinstance(v, str))
    if len(mail_rows):
        out.extend(t for t in mail_rows.loc[~mail_excluded, "text"] if isinstance(t, str))
    return out


def redact_series(values: pd.Series, privacy) -> pd.Series:
    """Redacted text, each distinct text redacted once; NA stays NA."""
    arr = values.to_numpy(dtype=object)
    present = pd.notna(arr)
    out = np.full(len(arr), None, dtype=object)
    if present.any():
        uniq = pd.unique(arr[present])
        done = {u: privacy.redact(str(u)) for u in uniq}
        out[present] = [done[u] for u in arr[present]]
    return pd.array(out, dtype="string")


def _redacted(values: np.ndarray, privacy) -> np.ndarray:
    """Redacted texts (no missing values among `values`), each distinct text redacted once;
    the redactor's strings themselves, not copies (an object array)."""
    out = np.empty(len(values), dtype=object)
    if len(values):
        codes, uniques = pd.factorize(values)
        done = np.empty(len(uniques), dtype=object)
        done[:] = [privacy.redact(str(u)) for u in uniques]
        out[:] = done[codes]
    return out


def _ratings(responses: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    items = cb.likert_items
    n, k = len(responses), len(items)
    scores = np.concatenate([responses[i].to_numpy(dtype="float64", na_value=np.nan) for i in items]) if n else np.zeros(0)
    dk = np.concatenate([responses[f"{i}_dk"].to_numpy(dtype=bool) for i in items]) if n else np.zeros(0, bool)
    item_codes = np.repeat(np.arange(k), n)
    sectors = list(cb.sectors)
    sector_of_item = np.array([sectors.index(cb.variables[i].sector) for i in items])
    score = pd.array(scores, dtype="Float64").astype("Int64") if n else pd.array([], dtype="Int64")
    # the n pseudonyms made a string array once, then repeated by index (Arrow's take):
    # never n x k Python strings converted one by one
    ids = pd.array(responses["respondent_id"].to_numpy(dtype=object), dtype="string")
    return pd.DataFrame({
        "respondent_id": ids.take(np.tile(np.arange(n), k)) if n and k else pd.array([], dtype="string"),
        "item": pd.Categorical.from_codes(item_codes, categories=items),
        "sector": pd.Categorical.from_codes(sector_of_item[item_codes], categories=sectors),
        "score": score,
        "dont_know": dk,
    })


# --- e-mail -----------------------------------------------------------------------------

def _mail_rows(batches: list[MailBatch], rules: dict, cb: Codebook, salt: bytes, privacy):
    records = []
    for b, batch in enumerate(batches):
        for m in batch.messages:
            records.append({
                "_file": b, "source_file": batch.source_file, "source_row": m.source_row,
                "respondent_id": privacy.pseudonym(m.sender or f"{batch.source_file}#{m.source_row}", salt, prefix="E"),
                "proposal_id": privacy.pseudonym(f"{m.message_id or ''}|{batch.source_file}#{m.source_row}", salt, prefix="M"),
                "received_at": m.received_at, "text": m.text, "attachments": m.attachments,
                "_reason": m.reason, "_detail": m.detail, "_sender": m.sender, "_mid": m.message_id,
            })
    rows = pd.DataFrame(records, columns=["_file", "source_file", "source_row", "respondent_id", "proposal_id",
                                          "received_at", "text", "attachments", "_reason", "_detail",
                                          "_sender", "_mid"])
    n = len(rows)
    hits: dict[str, np.ndarray] = {}
    details: dict[str, pd.Series] = {}
    for reason in ("broken_message", "oversized_text", "unparseable_date", "empty"):
        mask = (rows["_reason"] == reason).to_numpy()
        if mask.any():
            hits[reason] = mask
            details[reason] = rows["_detail"]
    if n and "duplicate" in rules:
        order = rows.assign(_t=pd.to_datetime(rows["received_at"], utc=True)).sort_values(
            ["_t", "_file", "source_row"], na_position="last", kind="stable").index
        same_text = (rows["_sender"].fillna("") + "\x1f" + rows["text"]).where(rows["_reason"].isna())
        same_id = rows["_mid"]
        mask = np.zeros(n, bool)
        detail = pd.Series("", index=rows.index, dtype=object)
        for what, key in (("same sender and text", same_text), ("same Message-ID", same_id)):
            k = key.loc[order]
            dup = k[k.notna()].duplicated(keep=rules["duplicate"].get("keep", "first"))
            idx = dup[dup].index
            mask[idx] = True
            detail.loc[idx] = (detail.loc[idx] + "; " + what).str.lstrip("; ")
        hits["duplicate"], details["duplicate"] = mask, detail
    if n and "outside_window" in rules:
        start, end = window(cb)
        if start is not None or end is not None:
            t = pd.to_datetime(rows["received_at"], utc=True).dt.tz_convert(cb.timezone)
            late = (t > end) if end is not None else pd.Series(False, index=t.index)
            early = (t < start) if start is not None else pd.Series(False, index=t.index)
            mask = (t.notna() & (early | late)).to_numpy()
            hits["outside_window"] = mask
            details["outside_window"] = t.map(lambda x: f"received {x:%Y-%m-%d %H:%M}" if pd.notna(x) else "")
    return rows, hits, details


# --- proposals, quarantine, flow, log ---------------------------------------------------

def _proposals(responses, texts, cb, mail_rows, mail_excluded, privacy) -> pd.DataFrame:
    """One row per open answer or e-mail; the grouping variables the codebook's roles name
    (profile, text groupings, main grouping, keyness contrasts) travel with each proposal.

    `texts`: the `_text_<variable>` columns of the kept rows, aligned with `responses`. The
    per-respondent columns are made Python values once and shared by every proposal of the
    respondent (positions taken), and the redacted texts are the redactor's own strings: no
    Python string is made per proposal but its id."""
    schema = schemas.proposals_schema(cb)
    group_columns = cb.group_columns()
    shared: dict[str, np.ndarray] = {}

    def per_respondent(name: str, make) -> np.ndarray:
        if name not in shared:
            shared[name] = make()
        return shared[name]

    frames = []
    for v in cb.of_type("text"):
        if v.pii:
            continue
        values = texts[f"_text_{v.name}"].to_numpy(dtype=object)
        has = pd.notna(values)
        has[has] = [bool(SUBSTANTIVE.search(t)) for t in values[has]]
        if not has.any():
            continue
        pos = np.flatnonzero(has)
        rid = per_respondent("respondent_id", lambda: responses["respondent_id"].to_numpy(dtype=object))[pos]
        redacted = _redacted(values[pos], privacy)
        frames.append(pd.DataFrame({
            "proposal_id": np.array([f"{r}:{v.name}" for r in rid] + [None], dtype=object)[:-1],
            "respondent_id": rid,
            "source": "survey",
            "source_file": per_respondent("source_file", lambda: responses["source_file"].to_numpy(dtype=object))[pos],
            "question": v.name, "sector": v.sector,
            "form_language": per_respondent(
                "form_language", lambda: responses["form_language"].astype(str).to_numpy(dtype=object))[pos],
            "text": redacted, "n_chars": np.fromiter(map(len, redacted), dtype=np.int64, count=len(redacted)),
            **{g: per_respondent(f"group:{g}", lambda g=g: responses[g].to_numpy())[pos]
               for g in group_columns if g in responses},
            "received_at": pd.NaT, "attachments": None,
            "_order": pos * 100 + len(frames),
        }))
        del values, has, pos, rid, redacted
    shared.clear()
    m = mail_rows.loc[~mail_excluded]
    if len(m):
        redacted = pd.Series(redact_series(m["text"], privacy))
        attachments = m["attachments"].map(lambda a: "; ".join(privacy.redact_file_name(x) for x in a) if a else None)
        frames.append(pd.DataFrame({
            "proposal_id": m["proposal_id"].to_numpy(), "respondent_id": m["respondent_id"].to_numpy(),
            "source": "email", "source_file": m["source_file"].to_numpy(), "question": "email",
            "sector": None, "form_language": None, "text": redacted.to_numpy(),
            "n_chars": redacted.str.len().to_numpy(), **{g: None for g in group_columns},
            "received_at": pd.to_datetime(m["received_at"], utc=True).dt.tz_convert(cb.timezone).to_numpy(),
            "attachments": attachments.to_numpy(dtype=object),
            "_order": 10**12 + np.arange(len(m)),
        }))
    if not frames:
        return schemas.empty_frame(schema)
    # one copy alive at a time: the pieces go once concatenated, the unsorted frame once sorted
    df = pd.concat(frames, ignore_index=True)
    del frames
    df = df.take(np.argsort(df["_order"].to_numpy(), kind="stable")).drop(columns="_order")
    df = df.reset_index(drop=True)
    # each column converted and dropped from the object frame in turn (one column's copy at a time)
    made = {
        "proposal_id": lambda c: pd.array(c, dtype="string"),
        "respondent_id": lambda c: pd.array(c, dtype="string"),
        "source": lambda c: pd.Categorical(c, categories=["survey", "email"]),
        "source_file": lambda c: pd.array(c, dtype="string"),
        "question": lambda c: pd.Categorical(c, categories=list(schema.column("question").values)),
        "sector": lambda c: pd.Categorical(c, categories=list(cb.sectors)),
        "form_language": lambda c: pd.Categorical(c, categories=list(cb.languages)),
        "text": lambda c: pd.array(c, dtype="string"),
        "n_chars": lambda c: pd.array(c, dtype="Int64"),
        **{g: (lambda c, g=g: pd.Categorical(c, categories=cb.variables[g].codes)) for g in group_columns},
        "received_at": lambda c: pd.to_datetime(c, utc=True).dt.tz_convert(cb.timezone),
        "attachments": lambda c: pd.array(c, dtype="string"),
    }
    out = pd.DataFrame(index=df.index)
    for name, make in made.items():
        out[name] = make(df.pop(name))
    return out


REASON_ORDER = schemas.REASONS


def _quarantine(rows, hits, details, excluded, mail_rows, mail_hits, mail_details, mail_excluded,
                rules, languages=()) -> pd.DataFrame:
    frames = []
    for frame, h, d, exc, lang in ((rows, hits, details, excluded, True),
                                   (mail_rows, mail_hits, mail_details, mail_excluded, False)):
        idx = np.flatnonzero(exc)
        if not len(idx):
            continue
        reasons = pd.Series("", index=idx, dtype=object)
        text = pd.Series("", index=idx, dtype=object)
        flagged = pd.Series("", index=idx, dtype=object)
        for reason in sorted(h, key=lambda x: REASON_ORDER.index(x) if x in REASON_ORDER else 99):
            mask = h[reason][idx]
            if not mask.any():
                continue
            sel = idx[mask]
            is_flag_only = reason in rules and rules[reason]["action"] == "flag"
            if is_flag_only:
                flagged.loc[sel] = flagged.loc[sel] + "," + reason
                continue
            reasons.loc[sel] = reasons.loc[sel] + ";" + reason
            part = _detail_texts(d.get(reason), sel)
            text.loc[sel] = text.loc[sel] + " | " + reason + ": " + pd.Series(part, index=sel)
        text = text.str.removeprefix(" | ")
        text = text.where(flagged == "", text + " | also flagged: " + flagged.str.lstrip(","))
        f = frame.iloc[idx]
        frames.append(pd.DataFrame({
            "respondent_id": pd.array(f["respondent_id"].astype(str), dtype="string"),
            "source_file": pd.array(f["source_file"].astype(str), dtype="string"),
            "source_row": pd.array(f["source_row"].astype("int64"), dtype="Int64"),
            "form_language": f["form_language"].to_numpy(dtype=object) if lang else None,
            "reasons": pd.array(reasons.str.lstrip(";").to_numpy(), dtype="string"),
            "details": pd.array(text.to_numpy(), dtype="string"),
        }))
    if not frames:
        return schemas.empty_frame(schemas.QUARANTINE).astype({"form_language": pd.CategoricalDtype(list(languages))})
    q = pd.concat(frames, ignore_index=True)
    q["form_language"] = pd.Categorical(q["form_language"], categories=list(languages))
    return q


def _detail_texts(detail, positions: np.ndarray) -> np.ndarray:
    if detail is None:
        return np.full(len(positions), "", dtype=object)
    if callable(detail):
        return np.array(detail(positions), dtype=object)
    return detail.iloc[positions].astype(object).fillna("").to_numpy(dtype=object)


def flow_table(prepared: Prepared, rows, excluded, mail_rows, mail_excluded) -> pd.DataFrame:
    """Per source file: rows read, analysed, quarantined; raises FlowError if they do not add up."""
    records = []
    for k, rec in enumerate(prepared.recoded):
        mine = (rows["_file"] == k).to_numpy()
        records.append({"source_file": rec.export.source_file, "source": "forms",
                        "form_language": rec.export.language, "rows_read": rec.export.n_rows,
                        "rows_analysed": int((mine & ~excluded).sum()),
                        "rows_quarantined": int((mine & excluded).sum())})
    for b, batch in enumerate(prepared.mail):
        mine = (mail_rows["_file"] == b).to_numpy()
        records.append({"source_file": batch.source_file, "source": "email", "form_language": None,
                        "rows_read": len(batch.messages), "rows_analysed": int((mine & ~mail_excluded).sum()),
                        "rows_quarantined": int((mine & mail_excluded).sum())})
    flow = pd.DataFrame(records, columns=["source_file", "source", "form_language", "rows_read",
                                          "rows_analysed", "rows_quarantined"])
    flow["balanced"] = (flow["rows_read"] == flow["rows_analysed"] + flow["rows_quarantined"]).astype(bool)
    if not flow["balanced"].all():
        bad = flow.loc[~flow["balanced"]]
        raise FlowError("rows read != analysed + quarantined for " + ", ".join(
            f"{r.source_file} ({r.rows_read} != {r.rows_analysed} + {r.rows_quarantined})" for r in bad.itertuples()))
    return pd.DataFrame({
        "source_file": pd.array(flow["source_file"], dtype="string"),
        "source": pd.Categorical(flow["source"], categories=["forms", "email"]),
        "form_language": pd.Categorical(flow["form_language"],
                                        categories=list(prepared.cb.languages) if prepared.cb else None),
        "rows_read": pd.array(flow["rows_read"], dtype="Int64"),
        "rows_analysed": pd.array(flow["rows_analysed"], dtype="Int64"),
        "rows_quarantined": pd.array(flow["rows_quarantined"], dtype="Int64"),
        "balanced": flow["balanced"].to_numpy(dtype=bool),
    })


def check_flow(flow: pd.DataFrame, responses: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    """The flow table agrees with the files actually written (per source file)."""
    analysed = responses["source_file"].value_counts()
    quarantined = quarantine["source_file"].value_counts()
    for r in flow.itertuples():
        if r.source == "forms" and int(analysed.get(r.source_file, 0)) != int(r.rows_analysed):
            raise FlowError(f"{r.source_file}: flow says {r.rows_analysed} analysed, responses has "
                            f"{int(analysed.get(r.source_file, 0))}")
        if int(quarantined.get(r.source_file, 0)) != int(r.rows_quarantined):
            raise FlowError(f"{r.source_file}: flow says {r.rows_quarantined} quarantined, quarantine has "
                            f"{int(quarantined.get(r.source_file, 0))}")


def _rule_table(rules, info, hits, excluded, mail_hits, mail_excluded, policy) -> pd.DataFrame:
    records = []
    for rule in QUALITY_RULES:
        if rule not in rules:
            records.append({"rule": rule, "action": "not applied", "parameters": "",
                            "rows_hit": 0, "rows_excluded": 0, "rows_flagged": 0, "emails_hit": 0})
            continue
        spec = rules[rule]
        params = {k: v for k, v in spec.items() if k != "action"}
        params.update(info.get(rule, {}))
        h = hits.get(rule, np.zeros(len(excluded), bool))
        mh = mail_hits.get(rule, np.zeros(len(mail_excluded), bool))
        action = spec["action"]
        if OFF in params:      # configured, but the export lacks what the rule needs: said so
            action = "switched off" if not mh.any() else f"{action} (e-mails only)"
            params[OFF] = _report().t(f"clean_off_{params[OFF]}", "en")
        records.append({
            "rule": rule, "action": action,
            "parameters": "; ".join(f"{k}={v}" for k, v in params.items()),
            "rows_hit": int(h.sum()),
            "rows_excluded": int((h & excluded).sum()) if spec["action"] == "exclude" else 0,
            "rows_flagged": int((h & ~excluded).sum()) if spec["action"] == "flag" else 0,
            "emails_hit": int(mh.sum()),
        })
    for reason in ("unknown_label", "out_of_range"):
        h = hits.get(reason, np.zeros(len(excluded), bool))
        records.append({"rule": reason, "action": {"quarantine": "exclude", "missing": "set missing",
                                                   "stop": "stop"}[policy],
                        "parameters": f"unknown_label={policy}", "rows_hit": int(h.sum()),
                        "rows_excluded": int((h & excluded).sum()) if policy == "quarantine" else 0,
                        "rows_flagged": 0, "emails_hit": 0})
    for reason in STRUCTURAL_REASONS:
        h = hits.get(reason, np.zeros(len(excluded), bool))
        mh = mail_hits.get(reason, np.zeros(len(mail_excluded), bool))
        if h.any() or mh.any():
            records.append({"rule": reason, "action": "exclude (always)", "parameters": "",
                            "rows_hit": int(h.sum()), "rows_excluded": int(h.sum()), "rows_flagged": 0,
                            "emails_hit": int(mh.sum())})
    return pd.DataFrame(records)


def _cleaning_log(rule_table, rows, prepared, excluded, policy, privacy) -> pd.DataFrame:
    cols = schemas.CLEANING_LOG.names
    parts = [pd.DataFrame({
        "entry": "rule", "rule": rule_table["rule"], "action": rule_table["action"],
        "parameters": rule_table["parameters"], "rows_hit": rule_table["rows_hit"] + rule_table["emails_hit"],
        "rows_excluded": rule_table["rows_excluded"], "rows_flagged": rule_table["rows_flagged"],
        "detail": rule_table["emails_hit"].map(lambda n: f"{n} e-mail(s) among rows_hit" if n else None),
    })]
    for k, rec in enumerate(prepared.recoded):
        ex = rec.export
        parts.append(pd.DataFrame([{
            "entry": "file", "source_file": ex.source_file,
            "detail": f"{ex.kind}; form language {ex.language}; {ex.n_rows} rows"
                      + (f"; encoding {ex.encoding}; delimiter {ex.delimiter!r}" if ex.encoding else "")
                      + (f" ({ex.encoding_note})" if ex.encoding_note and not ex.encoding_note.endswith(
                          ("(valid UTF-8)", "(byte order mark)")) else "")
                      + "".join(f"; {note}" for note in ex.notes)
                      + "".join(f"; {var} as {fmt}" for var, fmt in ex.date_formats.items()),
        }]))
        mine = rows.loc[(rows["_file"] == k).to_numpy()]
        rid = mine["respondent_id"].to_numpy(dtype=object)
        for cells in rec.unknown:
            action = {"missing": "set_missing", "quarantine": "row_quarantined", "stop": "stopped"}[policy]
            labels = pd.Series(cells.labels, dtype=object)
            shown = {u: _neutral_label(u, privacy) for u in pd.unique(labels)}
            parts.append(pd.DataFrame({
                "entry": "cell", "rule": cells.reason, "action": action, "source_file": ex.source_file,
                "respondent_id": rid[cells.rows], "variable": cells.variable,
                "label": labels.map(shown).to_numpy(),
            }))
        for note in ex.cell_notes:
            parts.append(pd.DataFrame({"entry": "cell", "rule": "text", "action": note.action,
                                       "source_file": ex.source_file, "respondent_id": rid[note.rows],
                                       "variable": note.variable}))
        for note in rec.notes:
            parts.append(pd.DataFrame({"entry": "cell", "rule": "recode", "action": note.action,
                                       "source_file": ex.source_file, "respondent_id": rid[note.rows],
                                       "variable": note.variable}))
    for batch in prepared.mail:
        for m in batch.messages:
            if m.notes:
                parts.append(pd.DataFrame([{"entry": "message", "source_file": batch.source_file,
                                            "detail": f"message {m.source_row}: " + "; ".join(m.notes)}]))
    log = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
    for c in cols:
        kind = schemas.CLEANING_LOG.column(c).kind
        log[c] = log[c].astype("Int64") if kind == "int" else log[c].astype("string")
    log["entry"] = pd.Categorical(log["entry"], categories=["rule", "cell", "file", "message"])
    return log


def _neutral_label(label: Any, privacy) -> str:
    """An unknown label as logged: redacted and shortened (it may be someone's own words)."""
    text = privacy.redact(str(label))
    return text if len(text) <= 60 else text[:57] + "…"


# --- writing ----------------------------------------------------------------------------

def write_outputs(result: CleanResult, cb: Codebook, run_dir: str | Path) -> dict[str, Path]:
    """Check every table against its schema and write it under <run_dir>/data and /tables."""
    base = Path(run_dir) if run_dir else paths.default_run_dir(cb.survey)
    dirs = paths.run_dirs(base)
    check_flow(result.flow, result.responses, result.quarantine)
    files = {
        "responses": schemas.write_parquet(result.responses, dirs["data"] / "responses.parquet", "responses", cb),
        "ratings": schemas.write_parquet(result.ratings, dirs["data"] / "ratings.parquet", "ratings", cb),
        "proposals": schemas.write_parquet(result.proposals, dirs["data"] / "proposals.parquet", "proposals", cb),
        "quarantine": schemas.write_parquet(result.quarantine, dirs["data"] / "quarantine.parquet", "quarantine"),
        # CSVs are opened in spreadsheets: cells that could run as formulas are neutralised
        "cleaning_log": schemas.write_csv(_neutralised(result.cleaning_log), dirs["data"] / "cleaning_log.csv",
                                          "cleaning_log"),
        "flow": schemas.write_csv(_neutralised(result.flow), dirs["tables"] / "flow.csv", "flow"),
    }
    return files


def _neutralised(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet could run as formulas get a leading quote (string dtypes kept)."""
    out = _privacy().neutralise_frame(df)
    for c in df.columns:
        if isinstance(df[c].dtype, pd.StringDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None).astype("string")
    return out


# --- what the notebook shows: every heading and label from the text tables (clean_*) ------

def _text(key: str, lang: str, fallback: str, **values: Any) -> str:
    """`report.t(key, lang)`, or `fallback` (a code) when the text tables have no such key."""
    report = _report()
    return report.t(key, lang, **values) if key in report.TEXT else fallback


def _col(name: str, lang: str) -> str:
    return _report().t(f"clean_col_{name}", lang)


def rule_name(code: str, lang: str = "lv") -> str:
    """A quality rule or quarantine reason as a reader calls it (its code if the tables lack it)."""
    return _text(f"clean_rule_{code}", lang, code)


def action_name(action: str, lang: str = "lv") -> str:
    """An action of the rule table (exclude, flag, not applied, …) in the report language."""
    action = str(action)
    suffix = " (e-mails only)"
    if action.endswith(suffix):
        return _report().t("clean_action_emails_only", lang, action=action_name(action[:-len(suffix)], lang))
    return _text("clean_action_" + re.sub(r"[^a-z]+", "_", action.lower()).strip("_"), lang, action)


def problem_name(code: str, lang: str = "lv") -> str:
    """A warning met while reading, by its code: a rule's name, else the warning's own text."""
    key = f"clean_rule_{code}"
    return rule_name(code, lang) if key in _report().TEXT else _text(f"clean_warning_{code}", lang, code)


def source_labels(result: CleanResult, lang: str = "lv") -> dict[str, str]:
    """Each input as a reader knows it ("Forms eksports latviešu valodā", "E-pasta pastkaste"),
    never by its file name (names and paths do not help a reader and may carry a person's
    name); two inputs of the same kind and language are numbered in the flow's order."""
    t = _report().t
    kinds = []
    for r in result.flow.itertuples():
        code = None if pd.isna(r.form_language) else str(r.form_language)
        kinds.append((str(r.source), code))
    out, seen = {}, {}
    for (source, code), name in zip(kinds, result.flow["source_file"].astype(str)):
        seen[(source, code)] = seen.get((source, code), 0) + 1
        k = seen[(source, code)] if kinds.count((source, code)) > 1 else None
        language = _text(f"text_lang_{code}", lang, code) if code else None
        if source == "forms":
            label = t("clean_source_forms_in", lang, language=language) if language else t("clean_source_forms", lang)
        else:
            label = t("clean_source_mailbox", lang)
        out[name] = t("clean_source_numbered", lang, k=k, label=label) if k else label
    return out


def _source_label(labels: dict[str, str], name: Any, lang: str) -> str:
    return labels.get(str(name)) or _report().t("clean_source_other", lang)


def flow_summary(result: CleanResult, lang: str = "lv") -> pd.DataFrame:
    """The flow table with headings in the report language and a total row; each input by
    what it is (`source_labels`), not by its file name."""
    f = result.flow
    yes, no = _col("yes", lang), _col("no", lang)
    c = {k: _col(k, lang) for k in ("source", "read", "analysed", "quarantined", "balanced")}
    labels = source_labels(result, lang)
    out = pd.DataFrame({
        c["source"]: [_source_label(labels, x, lang) for x in f["source_file"]],
        c["read"]: f["rows_read"].astype(int), c["analysed"]: f["rows_analysed"].astype(int),
        c["quarantined"]: f["rows_quarantined"].astype(int),
        c["balanced"]: f["balanced"].map({True: yes, False: no}),
    })
    total = {c["source"]: _col("total", lang),
             c["read"]: int(out[c["read"]].sum()), c["analysed"]: int(out[c["analysed"]].sum()),
             c["quarantined"]: int(out[c["quarantined"]].sum()),
             c["balanced"]: yes if bool(f["balanced"].all()) else no}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True).set_index(c["source"])


def rule_summary(result: CleanResult, lang: str = "lv") -> pd.DataFrame:
    """Each rule: what it does here, with which parameter, and how many rows it touched."""
    r = result.rules
    return pd.DataFrame({
        _col("rule", lang): r["rule"].map(lambda x: rule_name(x, lang)),
        _col("action", lang): r["action"].map(lambda x: action_name(x, lang)),
        _col("parameters", lang): [rule_parameters_text(p, lang) for p in r["parameters"]],
        _col("responses_hit", lang): r["rows_hit"].astype(int),
        _col("excluded", lang): r["rows_excluded"].astype(int),
        _col("flagged", lang): r["rows_flagged"].astype(int),
        _col("emails", lang): r["emails_hit"].astype(int),
    }).set_index(_col("rule", lang))


def rule_parameters_text(parameters: Any, lang: str = "lv") -> str:
    """A rule's parameters ("share_of_median=0.33; threshold_s=179.8") in words of the report
    language ("33 % no mediānas; slieksnis 180 s"), never parameter names; "–" when none."""
    report = _report()
    parts = []
    for pair in str(parameters or "").split("; "):
        key, sep, value = pair.partition("=")
        if not sep:
            continue
        if key == OFF:
            parts.append(_off_reason(value, lang))
        elif key == "unknown_label":
            continue                # the action column already says what happens to them
        elif key == "keep":
            parts.append(_text(f"clean_param_{key}_{value}", lang, value))
        elif key == "e-mail":
            parts.append(report.t("clean_param_no_email", lang))
        elif key in ("share_of_median", "min_share_same"):
            parts.append(report.t(f"clean_param_{key}", lang, value=_pct(value, lang)))
        elif key in ("median_s", "threshold_s", "min_rated"):
            try:
                number = report.fmt_num(float(value), 0, lang)
            except ValueError:
                number = value
            parts.append(report.t(f"clean_param_{key}", lang, value=number))
        elif key == "window":
            parts.append(report.t("clean_param_window", lang, value=value))
        else:
            parts.append(value)
    return "; ".join(p for p in parts if p) or "–"


def quarantine_reasons(result: CleanResult, lang: str = "lv") -> pd.DataFrame:
    """Quarantined rows per reason and source file (a row with two reasons counts twice)."""
    q = result.quarantine
    reason, file, rows = _col("reason", lang), _col("source", lang), _col("rows", lang)
    if q.empty:
        return pd.DataFrame({reason: [], file: [], rows: []}).set_index([reason, file])
    long = q.assign(reason=q["reasons"].astype(str).str.split(";")).explode("reason")
    out = long.groupby(["reason", "source_file"], observed=True).size().rename(rows).reset_index()
    out[reason] = out["reason"].map(lambda x: rule_name(x, lang))
    labels = source_labels(result, lang)
    out[file] = [_source_label(labels, x, lang) for x in out["source_file"]]
    return out[[reason, file, rows]].set_index([reason, file])


def problem_summary(result: CleanResult, lang: str = "lv") -> pd.DataFrame:
    """Warnings met while reading, counted per file and kind (no values shown)."""
    records: dict[tuple[str, str], int] = {}
    for p in result.problems:
        key = (p.file, p.code)
        records[key] = records.get(key, 0) + (p.count or 1)
    cols = [_col("source", lang), _col("warning", lang), _col("cases", lang)]
    labels = source_labels(result, lang)
    return pd.DataFrame([dict(zip(cols, (_source_label(labels, f, lang), problem_name(c, lang), n)))
                         for (f, c), n in sorted(records.items())], columns=cols)


def data_dictionary(result: CleanResult, cb: Codebook, lang: str = "lv") -> pd.DataFrame:
    """Variable, type, question (as asked on the form) and how many analysed responses answered;
    the first column (the variable) is the table's natural index."""
    df = result.responses
    records = []
    cols = [_col(k, lang) for k in ("variable", "type", "question", "answered")]
    for v in cb.variables.values():
        if v.type == "meta" or v.pii:
            continue
        if v.type == "multi":
            multi = [f"{v.name}__{c}" for c in v.codes]
            n = int(df[multi].notna().all(axis=1).sum()) if len(df) else 0
        elif v.type == "text":
            n = int((result.proposals["question"] == v.name).sum())
        elif v.type == "likert":
            n = int((df[v.name].notna() | df[f"{v.name}_dk"]).sum())
        else:
            n = int(df[v.name].notna().sum())
        kind = _text(f"clean_type_{v.type}", lang, v.type)
        if v.range:
            kind += f" {v.range[0]}–{v.range[1]}"
        if v.type == "likert":
            kind += f" {cb.scales[v.scale].range_text}"
            if v.reverse:
                kind += " " + _report().t("clean_dictionary_reversed", lang)
        records.append(dict(zip(cols, (v.name, kind, v.headers.get(lang) or cb.variable_label(v.name, lang), n))))
    return pd.DataFrame(records, columns=cols)


def answers_by_source(result: CleanResult, lang: str = "lv") -> pd.DataFrame:
    """Analysed answers per source: form responses by form language, and e-mails; the first
    column (the source) is the table's natural index."""
    r = result.responses
    forms = r.groupby("form_language", observed=False).size()
    props = result.proposals
    source, answers, proposals = (_col(k, lang) for k in ("by_source", "answers", "proposals"))
    records = [{source: _report().t("clean_source_form_in", lang,
                                    language=_text(f"text_lang_{form_lang}", lang, str(form_lang))),
                answers: int(n),
                proposals: int(((props["source"] == "survey") & (props["form_language"] == form_lang)).sum())}
               for form_lang, n in forms.items()]
    if (result.flow["source"].astype(str) == "email").any():     # a mailbox among the inputs
        records.append({source: _col("source_email", lang), answers: 0,
                        proposals: int((props["source"] == "email").sum())})
    return pd.DataFrame(records, columns=[source, answers, proposals])


def dont_know_shares(result: CleanResult, cb: Codebook, lang: str = "lv") -> pd.DataFrame:
    """Share of "don't know" among those who answered each Likert item, with n, in form order."""
    # from the responses' columns (what the ratings table is made of), without building it
    df = result.responses
    counts = []
    for i in cb.likert_items:
        if len(df) and i in df and f"{i}_dk" in df:
            dk = df[f"{i}_dk"].to_numpy(dtype=bool)
            answered = df[i].notna().to_numpy() | dk
            counts.append((int(answered.sum()), int((dk & answered).sum())))
        else:
            counts.append((0, 0))
    out = pd.DataFrame(counts, columns=["n", "dont_know"], index=pd.Index(cb.likert_items, name="item"),
                       dtype="int64")
    out["share"] = out["dont_know"] / out["n"].where(out["n"] > 0)
    out["sector"] = [cb.variables[i].sector for i in out.index]
    out["label"] = [_short(cb.variables[i].headers.get(lang) or i) for i in out.index]
    return out.rename_axis("item").reset_index()


def outputs_text(result: CleanResult, lang: str = "lv") -> list[str]:
    """What this stage wrote, by what each output is and how many rows it has (no file
    names or paths: the run folder's README and datapackage.json list them for analysts)."""
    t = _report().t
    sizes = {"responses": len(result.responses), "ratings": result.n_ratings, "proposals": len(result.proposals),
             "quarantine": len(result.quarantine), "cleaning_log": len(result.cleaning_log),
             "flow": len(result.flow)}
    out = []
    for name in (result.files or sizes):
        n = sizes.get(name)
        key = f"clean_output_{name}" if f"clean_output_{name}" in _report().TEXT else "clean_output_other"
        out.append(t(key, lang, n="–" if n is None else n))
    return out


def _short(text: str, limit: int = 55) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# --- the methods text: generated from what was actually applied ---------------------------

def _report():
    from . import report
    return report


def methods_text(result: CleanResult, cb: Codebook, lang: str = "lv") -> list[str]:
    """The methods of stage 01 as sentences, built from the rule table and the options used:
    a rule switched off (or not configured) is said to be so, never described as applied."""
    t = _report().t
    out = []
    flow = result.flow
    forms = flow.loc[flow["source"].astype(str) == "forms"]
    langs = sorted({str(x) for x in forms["form_language"].dropna()}) or list(cb.languages)
    out.append(t("clean_methods_sources", lang, n_forms=len(forms),
                 languages=", ".join(_text(f"text_lang_{c}", lang, c) for c in langs),
                 n_mail=int((flow["source"].astype(str) == "email").sum()), timezone=cb.timezone))
    if cb.missing_values:
        out.append(t("clean_methods_missing_codes", lang, codes=", ".join(t("clean_quoted", lang, text=c)
                                                                      for c in cb.missing_values)))
    not_configured = []
    for r in result.rules.itertuples():
        if r.rule not in QUALITY_RULES:
            continue
        if r.action == "not applied":
            not_configured.append(r.rule)
            continue
        params = dict(p.split("=", 1) for p in str(r.parameters).split("; ") if "=" in p)
        if r.action == "switched off":
            out.append(t("clean_methods_off", lang, rule=_rule_ref(r.rule, lang),
                         why=_off_reason(params.get(OFF, ""), lang)))
            continue
        action = t("clean_methods_excluded" if str(r.action).startswith("exclude") else "clean_methods_flagged", lang)
        n = int(r.rows_hit)
        if r.rule == "duplicate":
            out.append(t("clean_methods_duplicate", lang, action=action, n=n,
                         email=t("clean_methods_duplicate_email", lang) if cb.meta_var("email") else "",
                         person=t("clean_methods_duplicate_person", lang) if cb.meta_var("respondent") else ""))
        elif r.rule == "speeder":
            out.append(t("clean_methods_speeder", lang, action=action, n=n,
                         share=_pct(params.get("share_of_median"), lang),
                         threshold=_report().fmt_num(float(params.get("threshold_s", "nan")), 0, lang)))
        elif r.rule == "straightliner":
            out.append(t("clean_methods_straightliner", lang, action=action, n=n,
                         share=_pct(params.get("min_share_same"), lang), min_rated=params.get("min_rated", "?")))
        elif r.rule == "outside_window":
            out.append(t("clean_methods_outside_window", lang, action=action, n=n, window=params.get("window", "?")))
        elif r.rule == "empty":
            out.append(t("clean_methods_empty", lang, action=action, n=n))
    if not_configured:
        out.append(t("clean_methods_not_configured", lang, rules=", ".join(
            _rule_ref(x, lang) for x in not_configured)))
    unknown = result.rules.set_index("rule")
    policy = {"stop": "stop", "exclude": "quarantine", "set missing": "missing"}.get(
        str(unknown.loc["unknown_label", "action"]) if "unknown_label" in unknown.index else "", None)
    if policy:
        n = int(unknown.loc["unknown_label", "rows_hit"]) + int(unknown.loc["out_of_range", "rows_hit"]) \
            if "out_of_range" in unknown.index else int(unknown.loc["unknown_label", "rows_hit"])
        out.append(t(f"clean_methods_unknown_{policy}", lang, n=n))
    log = result.cleaning_log
    for action, key in (("label_matched_ignoring_case_and_spaces", "clean_methods_loose"),
                        ("other_rating_without_text_set_missing", "clean_methods_other_rows")):
        n = int((log["action"] == action).sum())
        if n:
            out.append(t(key, lang, n=n))
    return out


def _rule_ref(code: str, lang: str) -> str:
    """How the methods text refers to a rule: by its name in the report language."""
    return rule_name(code, lang)


def _pct(x: Any, lang: str) -> str:
    try:
        return _report().fmt_pct(float(x), 0, lang)
    except (TypeError, ValueError):
        return "?"


def _off_reason(english: str, lang: str) -> str:
    report = _report()
    for code in ("no_times", "no_window", "no_timestamp"):
        if english == report.t(f"clean_off_{code}", "en"):
            return report.t(f"clean_off_{code}", lang)
    return english
