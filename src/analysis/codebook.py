"""Load and validate a survey codebook: the one place that knows headers, labels and codes.

A codebook (``params/codebooks/<survey>.yaml``) maps every column header of a Forms export
(in each form language) to a variable with a type, and every answer label to a code. Nothing
else in the project hard-codes a label: code asks the codebook.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

VARIABLE_TYPES = ("single", "multi", "likert", "rating", "nps", "text", "meta")
# ``respondent``: a column that identifies a person (a panel or login id): rows with different
# values are never duplicates of each other, rows with the same value are.
META_ROLES = ("id", "start_time", "completion_time", "email", "name", "last_modified", "respondent")
TIME_ROLES = ("start_time", "completion_time", "last_modified")
SCALE_TYPES = ("likert", "numeric")
MEANINGS = ("importance", "agreement", "satisfaction", "frequency", "other")
MULTI_LAYOUTS = ("joined", "columns")
SLUG = re.compile(r"[a-z0-9-]+")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
DEFAULT_TIMEZONE = "Europe/Riga"     # when a codebook names none (the first surveys' zone)
TEXT_KEYS = ("title", "place", "organiser", "target_groups_text", "introduction", "footer")


class CodebookError(ValueError):
    """A codebook file is broken; the message names the file and the place in it."""

    def __init__(self, path: str | Path, where: str, message: str):
        self.path, self.where, self.message = str(path), where, message
        super().__init__(f"{path}: {where}: {message}")


class UnknownLabel(KeyError):
    """An answer label the codebook does not know (never coerced silently)."""

    def __init__(self, variable: str, label: str, language: str):
        self.variable, self.label, self.language = variable, label, language
        super().__init__(f"unknown label {label!r} for {variable} ({language} form)")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


def normalize(text: Any) -> str:
    """Headers and labels are compared after Unicode NFC and trimming outer white space."""
    return unicodedata.normalize("NFC", str(text)).strip()


_SPACES = re.compile(r"(?:&nbsp;?|[\s\u00a0\u2007\u202f\u200b\ufeff])+", re.IGNORECASE)


def header_key(text: Any) -> str:
    """A header as matched: NFC, every run of white space (non-breaking spaces, ``&nbsp``,
    line breaks included) one space, trimmed. Exports carry such debris; the meaning is the same."""
    return _SPACES.sub(" ", normalize(text)).strip()


def loose_key(text: Any) -> str:
    """The fallback key of a header or label: also case-insensitive, and a ``?`` standing for a
    lost line break counts as a space (used only when the exact key finds nothing, stated)."""
    return _SPACES.sub(" ", header_key(text).replace("?", " ")).strip().casefold()


def fold_label(text: Any) -> str:
    """An answer label compared case- and white-space-insensitively (same scale typed twice)."""
    return header_key(text).casefold()


@dataclass(frozen=True)
class Option:
    code: str
    labels: dict[str, str]                 # language -> label as on the form (plus "en")
    aliases: tuple[str, ...] = ()
    other: bool = False                    # the "Cits" option that carries free text
    exclude_from_tests: bool = False       # e.g. "prefer not to say"


@dataclass(frozen=True)
class Scale:
    """A rating scale: labelled Likert points or a numeric range (labels only where the form
    has them), an optional "don't know", the favourable points and what the scale measures."""

    name: str
    scores: dict[str, dict[str, int]]      # language -> normalised label -> score
    labels: dict[int, dict[str, str]]      # score -> language -> label (endpoints only for numeric)
    dont_know: dict[str, str]              # language -> label; empty: the scale has none
    favourable: tuple[int, ...] = ()
    type: str = "likert"                   # likert | numeric
    meaning: str = "other"                 # importance | agreement | satisfaction | frequency | other
    min: int = 1
    max: int = 5

    @property
    def points(self) -> list[int]:
        """Every score a respondent can give, low to high."""
        if self.type == "numeric":
            return list(range(self.min, self.max + 1))
        return sorted(self.labels)

    @property
    def top_box(self) -> tuple[int, ...]:
        """Alias of `favourable` (the older key)."""
        return self.favourable

    @property
    def has_dont_know(self) -> bool:
        return bool(self.dont_know)

    @property
    def range_text(self) -> str:
        """"0–14": the index wording ("mean, 0–14")."""
        return f"{self.min}–{self.max}"

    def reverse(self, score):
        """The score of a negatively worded item turned round: min + max - score."""
        return self.min + self.max - score

    def label(self, score: int, language: str, fallback: tuple[str, ...] = ()) -> str:
        """The label of a point in a language; a numeric point without a label is its number."""
        labs = self.labels.get(int(score)) or {}
        for lang in (language, *fallback):
            if labs.get(lang):
                return labs[lang]
        return next(iter(labs.values()), str(int(score)))


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    headers: dict[str, str]                # form language -> export header
    labels: dict[str, str] = field(default_factory=dict)   # display name per language
    aliases: tuple[str, ...] = ()
    required: bool = True
    role: str | None = None
    pii: bool = False
    grouping: bool = False
    other_text: bool = False
    options: tuple[Option, ...] = ()
    scale: str | None = None
    sector: str | None = None
    range: tuple[int, int] | None = None
    merge: dict[str, dict] = field(default_factory=dict)
    reverse: bool = False                  # a negatively worded Likert item (reversed before an index)
    layout: str = "joined"                 # multi: "joined" (one ';' column) | "columns" (one per option)
    option_headers: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> lang -> header
    requires_text: str | None = None       # an "Other" row of a grid: rated only with that text answered

    def option(self, code: str) -> Option:
        for opt in self.options:
            if opt.code == code:
                return opt
        raise KeyError(f"{self.name} has no option {code!r}")

    @property
    def codes(self) -> list[str]:
        return [o.code for o in self.options]


@dataclass(frozen=True)
class Sector:
    code: str
    titles: dict[str, str]
    items: tuple[str, ...]
    proposal: str | None


@dataclass
class Codebook:
    survey: str
    path: Path
    languages: tuple[str, ...]
    titles: dict[str, str]
    variables: dict[str, Variable]
    scales: dict[str, Scale]
    sectors: dict[str, Sector]
    window: dict[str, str] = field(default_factory=dict)
    # Analysis roles (see ROLES): role -> variable name, list of names, or a mapping
    roles: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)   # title, place, ... -> lang -> text
    formats: dict[str, Any] = field(default_factory=dict)            # date_formats, missing_values, ...

    # --- survey-level settings ------------------------------------------------------------
    @property
    def timezone(self) -> str:
        return str((self.window or {}).get("timezone") or DEFAULT_TIMEZONE)

    @property
    def date_formats(self) -> tuple[str, ...]:
        return tuple(self.formats.get("date_formats") or ())

    @property
    def missing_values(self) -> tuple[str, ...]:
        """Cell values that mean "no answer" in every column (empty cells always do)."""
        return tuple(normalize(x) for x in (self.formats.get("missing_values") or ()))

    @property
    def encoding(self) -> str | None:
        return self.formats.get("encoding") or None

    @property
    def multi_separator(self) -> str:
        return str(self.formats.get("multi_separator") or ";")

    def text(self, key: str, language: str) -> str | None:
        """A survey text (title, place, organiser, target_groups_text, introduction, footer)."""
        got = self.texts.get(key) or {}
        return got.get(language) or None

    def meta_var(self, role: str) -> str | None:
        """The column of a meta role (id, start_time, ...), or None when the survey has none."""
        for v in self.variables.values():
            if v.role == role:
                return v.name
        return None

    def pick(self, labels: dict[str, str], language: str) -> str:
        """A text in `language`, else English, else the first form language that has one."""
        for lang in (language, "en", *self.languages):
            if labels.get(lang):
                return labels[lang]
        return next(iter(labels.values()), "")

    def index_items(self, sector: str) -> list[tuple[str, bool]]:
        """The items of a sector's index as (item, reversed): reversed items are turned round
        (min + max - score) before they are averaged or enter alpha."""
        return [(i, self.variables[i].reverse) for i in self.sectors[sector].items]

    def oriented(self, item: str, scores):
        """An item's scores as they enter an index or alpha: reversed (min + max - score) when
        the codebook marks the item `reverse: true`, else as answered. Works on numbers,
        numpy arrays and pandas Series (missing stays missing)."""
        v = self.variables[item]
        return self.scales[v.scale].reverse(scores) if v.reverse else scores

    def index_scale(self, sector: str | None = None) -> Scale:
        """The scale of a sector's items (or of all items): the index runs over its range."""
        items = self.sectors[sector].items if sector else self.likert_items
        return self.scales[self.variables[items[0]].scale]

    @property
    def score_range(self) -> tuple[int, int]:
        """Lowest and highest score of any rated item."""
        used = [self.scales[v.scale] for v in self.of_type("likert")] or list(self.scales.values())
        if not used:
            return (1, 5)
        return (min(s.min for s in used), max(s.max for s in used))

    def group_columns(self) -> list[str]:
        """Single-choice variables that group proposals (profile, text groupings, grouping,
        keyness contrasts), in that order: carried along with each proposal."""
        names: list[str] = []
        for name in [*self.role_vars("profile"), *self.role_vars("text_groupings"),
                     self.role_var("grouping"), *(v for v, _, _ in self.keyness_contrasts())]:
            if name and name in self.variables and self.variables[name].type == "single" \
                    and name not in names:
                names.append(name)
        return names

    # --- lookups -------------------------------------------------------------------------
    def of_type(self, *types: str) -> list[Variable]:
        return [v for v in self.variables.values() if v.type in types]

    @property
    def likert_items(self) -> list[str]:
        return [v.name for v in self.of_type("likert")]

    @property
    def groupings(self) -> list[str]:
        return [v.name for v in self.variables.values() if v.grouping]

    @property
    def pii_variables(self) -> list[str]:
        return [v.name for v in self.variables.values() if v.pii]

    def role(self, role: str) -> Variable:
        for v in self.variables.values():
            if v.role == role:
                return v
        raise KeyError(f"codebook {self.survey} has no meta column with role {role!r}")

    def column_owner(self, column: str) -> tuple[str, str | None]:
        """(variable, option code) of a frame column name (``var`` or ``var__code``)."""
        if column in self.variables:
            return column, None
        var, _, code = column.partition("__")
        return var, code or None

    # --- analysis roles: stages ask for a role, never for a survey's variable name ------
    def role_var(self, role: str) -> str | None:
        """The variable that plays a single-variable analysis role (``grouping``,
        ``district``, ``satisfaction``, ``recommendation``, ``form_language``), or None
        when the survey has no such variable (the stage then skips that section, saying why)."""
        if role not in ROLES or ROLES[role] != "one":
            raise KeyError(f"{role!r} is not a single-variable role; known: {sorted(ROLES)}")
        got = self.roles.get(role)
        return str(got) if got else None

    def role_vars(self, role: str) -> list[str]:
        """The variables of a list role (``profile``, ``model_predictors``,
        ``text_groupings``, ``nps_groupings``); empty when the codebook names none."""
        if role not in ROLES or ROLES[role] != "many":
            raise KeyError(f"{role!r} is not a list role; known: {sorted(ROLES)}")
        return [str(v) for v in (self.roles.get(role) or [])]

    def in_scope(self) -> tuple[str, tuple[str, ...]] | None:
        """Who belongs to the weighting population: (variable, codes), or None."""
        got = self.roles.get("in_scope")
        if not got:
            return None
        return str(got["variable"]), tuple(str(c) for c in got["codes"])

    def keyness_contrasts(self) -> list[tuple[str, str, str]]:
        """(variable, group A, group B) pairs whose proposals' vocabulary is compared."""
        return [(str(v), str(a), str(b)) for v, a, b in (self.roles.get("keyness_contrasts") or [])]

    def header_map(self, language: str) -> dict[str, str]:
        """Header key (and every alias) -> column name, for one form language. A multi-select
        laid out one column per option maps each option's header to ``<variable>__<code>``."""
        out: dict[str, str] = {}
        for v in self.variables.values():
            if v.type == "multi" and v.layout == "columns":
                for code, hs in v.option_headers.items():
                    if hs.get(language):
                        out[header_key(hs[language])] = f"{v.name}__{code}"
                continue
            for h in (v.headers.get(language), *v.aliases):
                if h:
                    out[header_key(h)] = v.name
        return out

    def loose_header_map(self, language: str) -> dict[str, str]:
        """`loose_key` -> column, only for keys that stay unambiguous."""
        out: dict[str, str] = {}
        clash: set[str] = set()
        for h, name in self.header_map(language).items():
            k = loose_key(h)
            if k in out and out[k] != name:
                clash.add(k)
            out[k] = name
        return {k: v for k, v in out.items() if k not in clash}

    def match_headers(self, headers: list[str]) -> dict[str, Any]:
        """Decide the form language of an export from its headers and map them to variables.

        Returns {"language", "mapping" (header -> variable), "missing" (required variables
        without a column), "missing_optional", "unexpected" (headers no variable claims),
        "duplicates" (variables claimed by more than one header), "score" (share matched)}.
        The language is the one whose question headers match best; a file whose question
        headers match neither language well is "of another form" (score near 0).
        """
        best = None
        for lang in self.languages:
            hmap, loose = self.header_map(lang), self.loose_header_map(lang)
            mapping: dict[str, str] = {}
            claimed: dict[str, list[str]] = {}
            unexpected, loosely = [], []
            for h in headers:
                col = hmap.get(header_key(h))
                if col is None and header_key(h):
                    col = loose.get(loose_key(h))
                    if col is not None:
                        loosely.append(h)
                if col is None:
                    unexpected.append(h)
                else:
                    mapping[h] = col
                    claimed.setdefault(col, []).append(h)
            owners = {self.column_owner(c)[0] for c in claimed}
            questions = [v for v in self.variables.values() if v.type != "meta"]
            score = sum(1 for v in questions if v.name in owners) / max(len(questions), 1)
            missing_options = [f"{v.name}__{c}" for v in self.variables.values()
                               if v.type == "multi" and v.layout == "columns" and v.name in owners
                               for c in v.codes if f"{v.name}__{c}" not in claimed]
            result = {
                "language": lang,
                "mapping": mapping,
                "missing": [v.name for v in self.variables.values()
                            if v.required and v.name not in owners],
                "missing_optional": [v.name for v in self.variables.values()
                                     if not v.required and v.name not in owners],
                "missing_options": missing_options,
                "unexpected": unexpected,
                "loosely_matched": loosely,
                "duplicates": {k: hs for k, hs in claimed.items() if len(hs) > 1},
                "score": score,
            }
            if best is None or score > best["score"]:
                best = result
        return best

    def label_map(self, variable: str, language: str) -> dict[str, Any]:
        """Normalised label (and alias) -> code (options) or score (Likert), one language."""
        v = self.variables[variable]
        if v.type == "likert":
            return dict(self.scales[v.scale].scores.get(language) or {})
        out: dict[str, Any] = {}
        for opt in v.options:
            for lab in (opt.labels.get(language), *opt.aliases):
                if lab:
                    out[normalize(lab)] = opt.code
        return out

    def folded_label_map(self, variable: str, language: str) -> dict[str, Any]:
        """`fold_label` -> code/score: labels typed with other capitals or stray spaces.
        Only keys that stay unambiguous are kept."""
        out: dict[str, Any] = {}
        clash: set[str] = set()
        for lab, code in self.label_map(variable, language).items():
            k = fold_label(lab)
            if k in out and out[k] != code:
                clash.add(k)
            out[k] = code
        return {k: c for k, c in out.items() if k not in clash}

    def code_of(self, variable: str, label: str, language: str) -> Any:
        """The code of an answer label; raises UnknownLabel instead of guessing."""
        lab = normalize(label)
        got = self.label_map(variable, language).get(lab)
        if got is None:
            raise UnknownLabel(variable, lab, language)
        return got

    def label_of(self, variable: str, code: Any, language: str = "lv") -> str:
        """Display label of a code (option code or Likert score) in a report language."""
        v = self.variables[variable]
        if v.type == "likert":
            return self.scales[v.scale].label(int(code), language, ("en", *self.languages))
        for group, spec in v.merge.items():
            if group == code:
                return self.pick(spec["label"], language)
        return self.pick(v.option(code).labels, language)

    def variable_label(self, variable: str, language: str = "lv") -> str:
        """A variable's label for a reader. A statement worded against its topic (`reverse`) says
        so, because its favourable answers (agreement, as worded) are bad news for the topic."""
        v = self.variables[variable]
        label = (v.labels.get(language) or v.headers.get(language)
                 or (self.pick(v.headers, language) if v.headers else "") or self.pick(v.labels, language)
                 or v.name)
        if v.reverse:
            from .report import t

            label = t("codebook_reversed_label", language, label=label)
        return label

    def sector_title(self, sector: str, language: str = "lv") -> str:
        return self.pick(self.sectors[sector].titles, language)

    def scale_of(self, variable: str) -> Scale:
        return self.scales[self.variables[variable].scale]


# --- loading and validation -------------------------------------------------------------

# Analysis roles a codebook may assign (top-level key ``roles``): "one" takes a variable
# name, "many" a list of names; ``in_scope`` and ``keyness_contrasts`` have their own shape.
ROLES = {
    "grouping": "one",            # the main grouping variable (ranking by group, headline NPS)
    "district": "one",            # place of residence used for weighting margins
    "satisfaction": "one",        # overall satisfaction rating (the satisfaction model's outcome)
    "recommendation": "one",      # 0-10 likelihood to recommend (NPS)
    "form_language": "one",       # the language of the form a response came from (derived)
    "profile": "many",            # who answered: the variables of the respondent profile
    "model_predictors": "many",   # predictors of the adjusted (ordinal) models
    "text_groupings": "many",     # groupings of the proposals' theme tables
    "nps_groupings": "many",      # groupings of the recommendation figure
    "in_scope": "scope",          # {variable, codes}: who belongs to the weighting population
    "keyness_contrasts": "pairs", # [[variable, code A, code B], ...]
}
# Columns every cleaned response has although no codebook variable declares them
DERIVED_VARIABLES = ("form_language",)

def load(path: str | Path) -> Codebook:
    """Read and validate a codebook; raise CodebookError naming the file, the key and what
    was expected (the CLI maps it to exit 2)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        try:      # libyaml when present (same values, ten times faster); the pure loader words errors
            raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            raw = yaml.safe_load(text)
    except FileNotFoundError:
        raise CodebookError(path, "file", "not found") from None
    except yaml.YAMLError as exc:
        raise CodebookError(path, "file", f"not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise CodebookError(path, "file", "expected a mapping at the top level")
    _refuse_todo(path, raw)
    for key in ("survey", "languages", "variables"):
        if key not in raw:
            raise CodebookError(path, key, "required key is missing")
    survey = str(raw["survey"])
    if not SLUG.fullmatch(survey):
        raise CodebookError(path, "survey", f"{survey!r} is not a slug; expected lower-case letters, "
                                            "digits and hyphens ([a-z0-9-]+)")
    if not isinstance(raw["languages"], list) or not raw["languages"]:
        raise CodebookError(path, "languages", "expected a list of form languages (ISO 639-1 codes)")
    for i, lang in enumerate(raw["languages"]):
        if not isinstance(lang, str) or not LANGUAGE_CODE.fullmatch(lang):
            raise CodebookError(path, f"languages[{i}]", f"{lang!r} is not an ISO 639 language code "
                                                         "(two or three lower-case letters)")
    languages = tuple(raw["languages"])
    texts = {}
    for key in TEXT_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise CodebookError(path, key, "expected a mapping of language -> text")
        texts[key] = dict(value)
    window = _window(path, raw.get("consultation_window"))
    formats = _formats(path, raw.get("formats"))
    scales = {}
    for name, spec in (raw.get("scales") or {}).items():
        scales[name] = _scale(path, name, spec, languages)
    if not isinstance(raw["variables"], list):
        raise CodebookError(path, "variables", "expected a list of variables")
    variables: dict[str, Variable] = {}
    for i, spec in enumerate(raw["variables"]):
        v = _variable(path, i, spec, languages, scales)
        if v.name in variables:
            raise CodebookError(path, f"variables[{i}]", f"duplicate variable name {v.name!r}")
        variables[v.name] = v
    sectors = {}
    for i, spec in enumerate(raw.get("sectors") or []):
        s = _sector(path, i, spec, variables)
        if s.code in sectors:
            raise CodebookError(path, f"sectors[{i}]", f"duplicate sector {s.code!r}")
        sectors[s.code] = s
    cb = Codebook(survey=survey, path=path, languages=languages,
                  titles=texts.get("title") or {}, variables=variables, scales=scales,
                  sectors=sectors, window=window,
                  roles=_roles(path, raw.get("roles") or {}, variables), texts=texts, formats=formats)
    _check_cross_references(cb)
    return cb


TODO = "TODO"     # what `draft-codebook` writes where a person must decide


def _refuse_todo(path, raw: Any, where: str = "") -> None:
    """A draft codebook with a decision still open (a value ``TODO``) is refused, naming the key."""
    if isinstance(raw, dict):
        for key, value in raw.items():
            _refuse_todo(path, value, f"{where}.{key}" if where else str(key))
        return
    if isinstance(raw, list):
        for i, value in enumerate(raw):
            label = f" ({value['name']})" if isinstance(value, dict) and isinstance(value.get("name"), str) else ""
            _refuse_todo(path, value, f"{where}[{i}]{label}")
        return
    if isinstance(raw, str) and raw.strip() == TODO:
        raise CodebookError(path, where, "still TODO: a decision the draft left to a person; "
                                         "replace it with the value (or delete the key if the survey has none)")


def _require(path, where, spec, key):
    if not isinstance(spec, dict):
        raise CodebookError(path, where, f"expected a mapping with {key!r}")
    if key not in spec or spec[key] in (None, ""):
        raise CodebookError(path, where, f"missing {key!r}")
    return spec[key]


def _window(path, spec) -> dict[str, str]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise CodebookError(path, "consultation_window", "expected {start, end, timezone}")
    out = {}
    for key in ("start", "end"):
        if spec.get(key) in (None, ""):
            continue
        try:
            import pandas as pd
            pd.Timestamp(str(spec[key]))
        except (ValueError, TypeError):
            raise CodebookError(path, f"consultation_window.{key}",
                                f"{spec[key]!r} is not a date-time; expected e.g. \"2024-03-01T00:00:00\"") from None
        out[key] = str(spec[key])
    if spec.get("timezone"):
        tz = str(spec["timezone"])
        try:
            from zoneinfo import ZoneInfo
            ZoneInfo(tz)
        except Exception:
            raise CodebookError(path, "consultation_window.timezone",
                                f"{tz!r} is not a time zone; expected an IANA name such as Europe/Riga") from None
        out["timezone"] = tz
    unknown = set(spec) - {"start", "end", "timezone"}
    if unknown:
        raise CodebookError(path, "consultation_window", f"unknown key(s) {sorted(unknown)}; expected start, end, timezone")
    return out


FORMAT_KEYS = ("date_formats", "missing_values", "encoding", "multi_separator")


def _formats(path, spec) -> dict[str, Any]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise CodebookError(path, "formats", f"expected a mapping with {', '.join(FORMAT_KEYS)}")
    unknown = set(spec) - set(FORMAT_KEYS)
    if unknown:
        raise CodebookError(path, "formats", f"unknown key(s) {sorted(unknown)}; expected {', '.join(FORMAT_KEYS)}")
    out: dict[str, Any] = {}
    for key in ("date_formats", "missing_values"):
        value = spec.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(x, (str, int, float)) for x in value):
            raise CodebookError(path, f"formats.{key}", "expected a list of strings")
        out[key] = [str(x) for x in value]
    for i, fmt in enumerate(out.get("date_formats", [])):
        if "%" not in fmt:
            raise CodebookError(path, f"formats.date_formats[{i}]", f"{fmt!r} is not a strftime format such as \"%d.%m.%Y %H:%M\"")
    if spec.get("encoding"):
        import codecs
        try:
            out["encoding"] = codecs.lookup(str(spec["encoding"])).name
        except LookupError:
            raise CodebookError(path, "formats.encoding", f"unknown encoding {spec['encoding']!r}; "
                                                          "expected e.g. utf-8, windows-1257, windows-1252") from None
    if spec.get("multi_separator") is not None:
        sep = str(spec["multi_separator"])
        if not sep:
            raise CodebookError(path, "formats.multi_separator", "expected a non-empty separator such as ';'")
        out["multi_separator"] = sep
    return out


def _int(path, where, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodebookError(path, where, f"{value!r} is not an integer score")
    return value


def _scale(path, name, spec, languages) -> Scale:
    where = f"scales.{name}"
    if not isinstance(spec, dict):
        raise CodebookError(path, where, "expected a mapping")
    stype = spec.get("type", "likert")
    if stype not in SCALE_TYPES:
        raise CodebookError(path, f"{where}.type", f"unknown scale type {stype!r}; expected likert | numeric")
    meaning = spec.get("meaning", "other")
    if meaning not in MEANINGS:
        raise CodebookError(path, f"{where}.meaning", f"unknown meaning {meaning!r}; expected one of {', '.join(MEANINGS)}")
    scores: dict[str, dict[str, int]] = {lang: {} for lang in languages}
    folded: dict[str, dict[str, int]] = {lang: {} for lang in languages}
    labels: dict[int, dict[str, str]] = {}

    def add_label(at, score, lab, need_all):
        if not isinstance(lab, dict):
            raise CodebookError(path, at, "expected a mapping of language -> label")
        labels[score] = dict(lab)
        for lang in languages:
            text = lab.get(lang)
            if not text:
                if need_all:
                    raise CodebookError(path, at, f"no {lang} label")
                continue
            key = normalize(text)
            if key in scores[lang] or fold_label(text) in folded[lang]:
                raise CodebookError(path, at, f"duplicate {lang} label {text!r} (also score "
                                              f"{scores[lang].get(key, folded[lang].get(fold_label(text)))})")
            scores[lang][key] = score
            folded[lang][fold_label(text)] = score

    if stype == "likert":
        points = _require(path, where, spec, "points")
        if not isinstance(points, list) or len(points) < 2:
            raise CodebookError(path, f"{where}.points", "expected a list of at least two {score, label}")
        for j, point in enumerate(points):
            at = f"{where}.points[{j}]"
            score = _int(path, f"{at}.score", _require(path, at, point, "score"))
            if score in labels:
                raise CodebookError(path, f"{at}.score", f"duplicate score {score}")
            add_label(at, score, _require(path, at, point, "label"), True)
        lo, hi = min(labels), max(labels)
        if spec.get("range") is not None:
            rng = spec["range"]
            if not (isinstance(rng, list) and len(rng) == 2 and rng[0] == lo and rng[1] == hi):
                raise CodebookError(path, f"{where}.range", f"{rng!r} contradicts the points' scores {lo}..{hi}")
    else:
        rng = _require(path, where, spec, "range")
        if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in rng)
                and rng[0] < rng[1]):
            raise CodebookError(path, f"{where}.range", f"{rng!r}; expected [min, max], integers with min < max")
        lo, hi = rng
        for score, lab in (spec.get("labels") or {}).items():
            at = f"{where}.labels.{score}"
            try:
                score = int(score)
            except (TypeError, ValueError):
                raise CodebookError(path, at, "expected an integer score as the key") from None
            if not lo <= score <= hi:
                raise CodebookError(path, at, f"label for score {score} is outside the range {lo}..{hi}")
            add_label(at, score, lab, False)
    dont_know = spec.get("dont_know") or {}
    if not isinstance(dont_know, dict):
        raise CodebookError(path, f"{where}.dont_know", "expected a mapping of language -> label, or null")
    if dont_know:
        for lang in languages:
            if not dont_know.get(lang):
                raise CodebookError(path, f"{where}.dont_know", f"no {lang} 'don't know' label")
            if normalize(dont_know[lang]) in scores[lang] or fold_label(dont_know[lang]) in folded[lang]:
                raise CodebookError(path, f"{where}.dont_know", f"{dont_know[lang]!r} is also a point of the scale")
    if "favourable" in spec and "top_box" in spec and spec["favourable"] != spec["top_box"]:
        raise CodebookError(path, f"{where}.favourable", "favourable and top_box (its alias) differ")
    favourable = spec.get("favourable", spec.get("top_box"))
    if favourable is None:
        if stype == "numeric":
            raise CodebookError(path, f"{where}.favourable", "a numeric scale needs the favourable points, e.g. [7, 8, 9, 10]")
        favourable = []
    if not isinstance(favourable, list):
        raise CodebookError(path, f"{where}.favourable", "expected a list of scores")
    points_set = set(range(lo, hi + 1)) if stype == "numeric" else set(labels)
    for x in favourable:
        if isinstance(x, bool) or not isinstance(x, int) or x not in points_set:
            raise CodebookError(path, f"{where}.favourable", f"{x!r} is not a point of the scale "
                                                             f"({lo}..{hi}); expected a subset of its points")
    if len(set(favourable)) != len(favourable):
        raise CodebookError(path, f"{where}.favourable", "duplicate points")
    unknown = set(spec) - {"type", "points", "range", "labels", "dont_know", "favourable", "top_box", "meaning"}
    if unknown:
        raise CodebookError(path, where, f"unknown key(s) {sorted(unknown)}")
    return Scale(name=name, scores=scores, labels=labels, dont_know=dict(dont_know),
                 favourable=tuple(sorted(favourable)), type=stype, meaning=meaning, min=lo, max=hi)


def _variable(path, i, spec, languages, scales) -> Variable:
    where = f"variables[{i}]"
    if not isinstance(spec, dict):
        raise CodebookError(path, where, "expected a mapping")
    name = _require(path, where, spec, "name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or "__" in name:
        raise CodebookError(path, where, f"variable name {name!r}: expected letters, digits and single underscores")
    where = f"variables[{i}] ({name})"
    vtype = _require(path, where, spec, "type")
    if vtype not in VARIABLE_TYPES:
        raise CodebookError(path, where, f"unknown type {vtype!r}; expected one of {', '.join(VARIABLE_TYPES)}")
    layout = spec.get("layout", "joined")
    if layout not in MULTI_LAYOUTS or (layout == "columns" and vtype != "multi"):
        raise CodebookError(path, f"{where}.layout", f"{layout!r}; expected joined | columns (columns only for a multi)")
    columns = vtype == "multi" and layout == "columns"
    headers = spec.get("header") or {}
    if not columns:
        headers = _require(path, where, spec, "header")
        if not isinstance(headers, dict):
            raise CodebookError(path, f"{where}.header", "expected a mapping of form language -> header")
        for lang in languages:
            if not headers.get(lang):
                raise CodebookError(path, where, f"no {lang} header")
    options = tuple(_option(path, f"{where}.options[{j}]", o, languages)
                    for j, o in enumerate(spec.get("options") or []))
    if vtype in ("single", "multi") and not options:
        raise CodebookError(path, where, f"a {vtype} question needs options")
    option_headers: dict[str, dict[str, str]] = {}
    if columns:
        for j, o in enumerate(spec.get("options") or []):
            hs = o.get("header") if isinstance(o, dict) else None
            if not isinstance(hs, dict) or any(not hs.get(lang) for lang in languages):
                raise CodebookError(path, f"{where}.options[{j}].header",
                                    f"a multi-select with layout: columns needs a header per form language "
                                    f"({', '.join(languages)}) for every option")
            option_headers[str(o["code"])] = dict(hs)
    if vtype == "likert":
        if not spec.get("sector"):
            raise CodebookError(path, where, "a Likert item needs a sector")
        if spec.get("scale") not in scales:
            raise CodebookError(path, f"{where}.scale", f"unknown scale {spec.get('scale')!r}; "
                                                        f"expected one of {sorted(scales)}")
    if spec.get("reverse") and vtype != "likert":
        raise CodebookError(path, f"{where}.reverse", "only a Likert item can be reversed")
    rng = spec.get("range")
    if vtype in ("rating", "nps"):
        if not (isinstance(rng, list) and len(rng) == 2 and rng[0] < rng[1]):
            raise CodebookError(path, where, "a rating or NPS question needs range: [low, high]")
    role = spec.get("role")
    if vtype == "meta" and role not in META_ROLES:
        raise CodebookError(path, where, f"meta column needs a role in {', '.join(META_ROLES)}")
    codes = [o.code for o in options]
    seen: dict[str, str] = {}
    for o in options:
        for lang in languages:
            for lab in (o.labels.get(lang), *o.aliases):
                if lab is None:
                    continue
                key = (lang, fold_label(lab))
                if key in seen and seen[key] != o.code:
                    raise CodebookError(path, where, f"label {lab!r} ({lang}) maps to both {seen[key]} and {o.code}")
                seen[key] = o.code
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise CodebookError(path, f"{where}.options", f"duplicate option code(s) {dup}; expected each code once")
    merge = spec.get("merge") or {}
    for group, m in merge.items():
        bad = [c for c in m.get("codes", []) if c not in codes]
        if bad or not m.get("label"):
            raise CodebookError(path, f"{where}.merge.{group}", f"unknown codes {bad} or no label")
    required = spec.get("required")
    if required is None:      # meta columns other than the id are optional, open questions too
        required = role == "id" if vtype == "meta" else vtype != "text"
    return Variable(
        name=name, type=vtype, headers=dict(headers), labels=dict(spec.get("label") or {}),
        aliases=tuple(spec.get("aliases") or ()), required=bool(required),
        role=role, pii=bool(spec.get("pii", False)), grouping=bool(spec.get("grouping", False)),
        other_text=bool(spec.get("other_text", False)), options=options, scale=spec.get("scale"),
        sector=spec.get("sector"), range=tuple(rng) if rng else None, merge=dict(merge),
        reverse=bool(spec.get("reverse", False)), layout=layout, option_headers=option_headers,
        requires_text=spec.get("requires_text"),
    )


def _option(path, where, spec, languages) -> Option:
    code = str(_require(path, where, spec, "code"))
    labels = _require(path, where, spec, "label")
    for lang in languages:
        if not labels.get(lang):
            raise CodebookError(path, where, f"option {code!r} has no {lang} label")
    return Option(code=code, labels=dict(labels), aliases=tuple(spec.get("aliases") or ()),
                  other=bool(spec.get("other", False)),
                  exclude_from_tests=bool(spec.get("exclude_from_tests", False)))


def _sector(path, i, spec, variables) -> Sector:
    where = f"sectors[{i}]"
    code = _require(path, where, spec, "code")
    items = tuple(_require(path, where, spec, "items"))
    for item in items:
        v = variables.get(item)
        if v is None or v.type != "likert":
            raise CodebookError(path, f"{where} ({code})", f"item {item!r} is not a Likert variable")
        if v.sector != code:
            raise CodebookError(path, f"{where} ({code})", f"item {item!r} says sector {v.sector!r}")
    proposal = spec.get("proposal")
    if proposal and (proposal not in variables or variables[proposal].type != "text"):
        raise CodebookError(path, f"{where} ({code})", f"proposal {proposal!r} is not a text variable")
    return Sector(code=code, titles=dict(_require(path, where, spec, "title")), items=items, proposal=proposal)


def _roles(path, spec: Any, variables: dict[str, Variable]) -> dict[str, Any]:
    """Validate the ``roles`` mapping: known roles, the right shape, existing variables."""
    if not isinstance(spec, dict):
        raise CodebookError(path, "roles", "expected a mapping of role -> variable(s)")
    known = set(variables) | set(DERIVED_VARIABLES)

    def var(where: str, name: Any) -> str:
        if not isinstance(name, str) or name not in known:
            raise CodebookError(path, where, f"{name!r} is not a variable of this codebook")
        return name

    def code(where: str, name: str, c: Any) -> str:
        v = variables.get(name)
        if v is not None and v.options and str(c) not in v.codes and str(c) not in v.merge:
            raise CodebookError(path, where, f"{c!r} is not a code of {name} (codes: {v.codes})")
        return str(c)

    out: dict[str, Any] = {}
    for role, value in spec.items():
        where = f"roles.{role}"
        shape = ROLES.get(role)
        if shape is None:
            raise CodebookError(path, where, f"unknown role; expected one of {sorted(ROLES)}")
        if value in (None, [], {}):
            continue
        if shape == "one":
            out[role] = var(where, value)
        elif shape == "many":
            if not isinstance(value, list):
                raise CodebookError(path, where, "expected a list of variable names")
            out[role] = [var(f"{where}[{i}]", v) for i, v in enumerate(value)]
        elif shape == "scope":
            if not isinstance(value, dict) or "variable" not in value or not value.get("codes"):
                raise CodebookError(path, where, "expected {variable: NAME, codes: [CODE, ...]}")
            name = var(f"{where}.variable", value["variable"])
            out[role] = {"variable": name,
                         "codes": [code(f"{where}.codes", name, c) for c in value["codes"]]}
        else:
            if not isinstance(value, list) or any(not isinstance(p, list) or len(p) != 3 for p in value):
                raise CodebookError(path, where, "expected a list of [variable, code A, code B]")
            out[role] = [[var(f"{where}[{i}]", p[0]), code(f"{where}[{i}]", p[0], p[1]),
                          code(f"{where}[{i}]", p[0], p[2])] for i, p in enumerate(value)]
    return out


def _check_cross_references(cb: Codebook) -> None:
    for v in cb.variables.values():
        if v.type == "likert" and v.sector not in cb.sectors:
            raise CodebookError(cb.path, f"variable {v.name}", f"Likert item in unknown sector {v.sector!r}")
        if v.type == "likert" and v.name not in cb.sectors[v.sector].items:
            raise CodebookError(cb.path, f"variable {v.name}", f"not listed in the items of sector {v.sector!r}")
    for lang in cb.languages:
        seen: dict[str, str] = {}
        for v in cb.variables.values():
            for h in (v.headers.get(lang), *v.aliases,
                      *(hs.get(lang) for hs in v.option_headers.values())):
                if not h:
                    continue
                key = header_key(h)
                if key in seen and seen[key] != v.name:
                    raise CodebookError(cb.path, f"variable {v.name}",
                                        f"duplicate header {h!r} ({lang}), also used by {seen[key]}")
                seen[key] = v.name
    roles = [v.role for v in cb.variables.values() if v.role]
    if "id" not in roles:
        raise CodebookError(cb.path, "variables", "no meta column with role 'id'")
    for role in set(roles):
        if roles.count(role) > 1:
            raise CodebookError(cb.path, "variables", f"two meta columns with role {role!r}; expected one")
    for v in cb.variables.values():
        if v.requires_text is not None:
            t = cb.variables.get(v.requires_text)
            if t is None or t.type != "text":
                raise CodebookError(cb.path, f"variable {v.name}.requires_text",
                                    f"{v.requires_text!r} is not a text variable of this codebook")
