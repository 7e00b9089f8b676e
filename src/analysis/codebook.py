"""Load and validate a survey codebook: the one place that knows headers, labels and codes.

A codebook (``params/codebooks/<survey>.yaml``) maps every column header of a Forms export
(in each form language) to a variable with a type, and every answer label to a code. Nothing
else in the project hard-codes a label: code asks the codebook.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

VARIABLE_TYPES = ("single", "multi", "likert", "rating", "nps", "text", "meta")
META_ROLES = ("id", "start_time", "completion_time", "email", "name", "last_modified")


class CodebookError(ValueError):
    """A codebook file is broken; the message names the file and the place in it."""

    def __init__(self, path: str | Path, where: str, message: str):
        self.path, self.where = str(path), where
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


@dataclass(frozen=True)
class Option:
    code: str
    labels: dict[str, str]                 # language -> label as on the form (plus "en")
    aliases: tuple[str, ...] = ()
    other: bool = False                    # the "Cits" option that carries free text
    exclude_from_tests: bool = False       # e.g. "prefer not to say"


@dataclass(frozen=True)
class Scale:
    name: str
    scores: dict[str, dict[str, int]]      # language -> label -> score
    labels: dict[int, dict[str, str]]      # score -> language -> label
    dont_know: dict[str, str]              # language -> label
    top_box: tuple[int, ...]

    @property
    def points(self) -> list[int]:
        return sorted(self.labels)


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
        """Normalised header (and every alias) -> variable name, for one form language."""
        out: dict[str, str] = {}
        for v in self.variables.values():
            for h in (v.headers.get(language), *v.aliases):
                if h:
                    out[normalize(h)] = v.name
        return out

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
            hmap = self.header_map(lang)
            mapping: dict[str, str] = {}
            claimed: dict[str, list[str]] = {}
            unexpected = []
            for h in headers:
                var = hmap.get(normalize(h))
                if var is None:
                    unexpected.append(h)
                else:
                    mapping[h] = var
                    claimed.setdefault(var, []).append(h)
            questions = [v for v in self.variables.values() if v.type != "meta"]
            score = sum(1 for v in questions if v.name in claimed) / max(len(questions), 1)
            result = {
                "language": lang,
                "mapping": mapping,
                "missing": [v.name for v in self.variables.values()
                            if v.required and v.name not in claimed],
                "missing_optional": [v.name for v in self.variables.values()
                                     if not v.required and v.name not in claimed],
                "unexpected": unexpected,
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
            return dict(self.scales[v.scale].scores[language])
        out: dict[str, Any] = {}
        for opt in v.options:
            for lab in (opt.labels.get(language), *opt.aliases):
                if lab:
                    out[normalize(lab)] = opt.code
        return out

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
            return self.scales[v.scale].labels[int(code)][language]
        for group, spec in v.merge.items():
            if group == code:
                return spec["label"].get(language) or spec["label"]["lv"]
        opt = v.option(code)
        return opt.labels.get(language) or opt.labels["lv"]

    def variable_label(self, variable: str, language: str = "lv") -> str:
        v = self.variables[variable]
        return v.labels.get(language) or v.headers.get(language) or v.headers.get("lv") or v.name

    def sector_title(self, sector: str, language: str = "lv") -> str:
        return self.sectors[sector].titles.get(language) or self.sectors[sector].titles["lv"]

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
    """Read and validate a codebook; raise CodebookError naming the file and the place."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(path, "file", "not found") from None
    except yaml.YAMLError as exc:
        raise CodebookError(path, "file", f"not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise CodebookError(path, "file", "expected a mapping at the top level")
    for key in ("survey", "languages", "variables"):
        if key not in raw:
            raise CodebookError(path, key, "required key is missing")
    languages = tuple(raw["languages"])
    scales = {name: _scale(path, name, spec, languages) for name, spec in (raw.get("scales") or {}).items()}
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
    cb = Codebook(survey=str(raw["survey"]), path=path, languages=languages,
                  titles=raw.get("title") or {}, variables=variables, scales=scales,
                  sectors=sectors, window=raw.get("consultation_window") or {},
                  roles=_roles(path, raw.get("roles") or {}, variables))
    _check_cross_references(cb)
    return cb


def _require(path, where, spec, key):
    if key not in spec or spec[key] in (None, ""):
        raise CodebookError(path, where, f"missing {key!r}")
    return spec[key]


def _scale(path, name, spec, languages) -> Scale:
    where = f"scales.{name}"
    scores: dict[str, dict[str, int]] = {lang: {} for lang in languages}
    labels: dict[int, dict[str, str]] = {}
    for j, point in enumerate(_require(path, where, spec, "points")):
        score = int(_require(path, f"{where}.points[{j}]", point, "score"))
        lab = _require(path, f"{where}.points[{j}]", point, "label")
        labels[score] = lab
        for lang in languages:
            text = lab.get(lang)
            if not text:
                raise CodebookError(path, f"{where}.points[{j}]", f"no {lang} label")
            key = normalize(text)
            if key in scores[lang]:
                raise CodebookError(path, f"{where}.points[{j}]", f"duplicate {lang} label {text!r}")
            scores[lang][key] = score
    dont_know = spec.get("dont_know") or {}
    for lang in languages:
        if not dont_know.get(lang):
            raise CodebookError(path, where, f"no {lang} 'don't know' label")
    return Scale(name=name, scores=scores, labels=labels, dont_know=dont_know,
                 top_box=tuple(spec.get("top_box") or ()))


def _variable(path, i, spec, languages, scales) -> Variable:
    where = f"variables[{i}]"
    if not isinstance(spec, dict):
        raise CodebookError(path, where, "expected a mapping")
    name = _require(path, where, spec, "name")
    where = f"variables[{i}] ({name})"
    vtype = _require(path, where, spec, "type")
    if vtype not in VARIABLE_TYPES:
        raise CodebookError(path, where, f"unknown type {vtype!r}; expected one of {', '.join(VARIABLE_TYPES)}")
    headers = _require(path, where, spec, "header")
    for lang in languages:
        if not headers.get(lang):
            raise CodebookError(path, where, f"no {lang} header")
    options = tuple(_option(path, f"{where}.options[{j}]", o, languages)
                    for j, o in enumerate(spec.get("options") or []))
    if vtype in ("single", "multi") and not options:
        raise CodebookError(path, where, f"a {vtype} question needs options")
    if vtype == "likert":
        if not spec.get("sector"):
            raise CodebookError(path, where, "a Likert item needs a sector")
        if spec.get("scale") not in scales:
            raise CodebookError(path, where, f"unknown scale {spec.get('scale')!r}")
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
                key = (lang, normalize(lab))
                if key in seen and seen[key] != o.code:
                    raise CodebookError(path, where, f"label {lab!r} ({lang}) maps to both {seen[key]} and {o.code}")
                seen[key] = o.code
    if len(set(codes)) != len(codes):
        raise CodebookError(path, where, "duplicate option codes")
    merge = spec.get("merge") or {}
    for group, m in merge.items():
        bad = [c for c in m.get("codes", []) if c not in codes]
        if bad or not m.get("label"):
            raise CodebookError(path, f"{where}.merge.{group}", f"unknown codes {bad} or no label")
    return Variable(
        name=name, type=vtype, headers=dict(headers), labels=dict(spec.get("label") or {}),
        aliases=tuple(spec.get("aliases") or ()), required=bool(spec.get("required", vtype == "meta" or vtype != "text")),
        role=role, pii=bool(spec.get("pii", False)), grouping=bool(spec.get("grouping", False)),
        other_text=bool(spec.get("other_text", False)), options=options, scale=spec.get("scale"),
        sector=spec.get("sector"), range=tuple(rng) if rng else None, merge=dict(merge),
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
            for h in (v.headers.get(lang), *v.aliases):
                if not h:
                    continue
                key = normalize(h)
                if key in seen and seen[key] != v.name:
                    raise CodebookError(cb.path, f"variable {v.name}",
                                        f"duplicate header {h!r} ({lang}), also used by {seen[key]}")
                seen[key] = v.name
    roles = [v.role for v in cb.variables.values() if v.role]
    if "id" not in roles:
        raise CodebookError(cb.path, "variables", "no meta column with role 'id'")
