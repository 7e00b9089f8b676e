"""One typed model of a run's inputs: the params file, loaded once and validated key by key.

`load_params(path) -> Params` reads a params YAML and checks every key's type and range; a
bad value raises `ParamsError` naming the file, the key and what was expected (the CLI maps it
to exit 2: `fdr: 5%` is an error naming `fdr`, never a crash in stage 02). The codebook is
loaded with `Params.load_codebook()` (a `codebook.Codebook`, itself typed and validated).
`check`, `run` and the notebooks use these objects; callers written for the loose dict use
`Params.as_dict()` during the transition.

Every key a notebook's parameters cell declares is a field of `Params` (or one of
`NOTEBOOK_ONLY`, set by the run itself); any other key is an error naming the file and the key,
so a misspelled `min_celll` is never silently ignored. tests/test_config.py keeps this list and
the notebooks' parameters cells in step.

No silent defaults: a params file without `population` means an unweighted run (stated by
`check` and in stage 02), never another survey's margins.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from . import paths

SLUG = re.compile(r"[a-z0-9-]+")
UNKNOWN_LABEL_POLICIES = ("stop", "quarantine", "missing")
RULE_ACTIONS = ("exclude", "flag")
# each quality rule's settings: name -> (default, check, expected)
RULE_SETTINGS: dict[str, dict[str, tuple[Any, Any, str]]] = {
    "duplicate": {"keep": ("first", lambda x: x in ("first", "last"), "first | last")},
    "speeder": {"share_of_median": (0.33, lambda x: _number(x) and 0 < x <= 1, "a number in (0, 1]")},
    "straightliner": {
        "min_share_same": (0.95, lambda x: _number(x) and 0 < x <= 1, "a number in (0, 1]"),
        "min_rated": (16, lambda x: _integer(x) and x >= 2, "an integer >= 2"),
    },
    "outside_window": {},
    "empty": {},
}


class ParamsError(ValueError):
    """A params file is broken; names the file, the key and what was expected (exit 2)."""

    def __init__(self, path: str | Path, key: str, message: str, expected: str | None = None):
        self.path, self.key, self.expected, self.message = str(path), key, expected, message
        text = f"{path}: {key}: {message}"
        if expected:
            text += f"; expected {expected}"
        super().__init__(text)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _integer(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True)
class Rule:
    """One quality rule as configured: what it does and its settings (defaults filled in)."""

    name: str
    action: str                                  # exclude | flag
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, **self.settings}


@dataclass(frozen=True)
class Inputs:
    forms: tuple[str, ...] = ()                  # Forms exports: paths, folders or glob patterns
    email: tuple[str, ...] = ()                  # mbox files or folders of .eml files


@dataclass(frozen=True)
class Params:
    """A run's parameters (every key of a params file), typed and documented."""

    path: Path
    survey: str                                  # slug: outputs/<survey>/
    codebook: str                                # params/codebooks/<survey>.yaml
    inputs: Inputs
    synthetic: bool = False                      # a banner on every page says the data are synthetic
    themes: str | None = None                    # theme dictionary (stage 03); None: none
    population: str | None = None                # margin file; None: an unweighted run (stated)
    unknown_label: str = "stop"                  # stop | quarantine | missing
    salt_env: str = "ANALYSIS_SALT"              # environment variable holding the pseudonym salt
    quality_rules: dict[str, Rule] = field(default_factory=dict)   # rules not listed are not applied
    min_cell: int = 10                           # smallest group shown or tested
    fdr: float = 0.05                            # Benjamini–Hochberg level
    weight_trim_cap: float = 5.0                 # weights trimmed at this multiple of the mean
    report_lang: str = "lv"                      # a language with a text table (src/analysis/texts/)
    human_coding: tuple[str, ...] = ()           # CSV files coded by people (stage 03)
    max_text_chars: int = 10_000                 # longer open answers are quarantined
    min_finding_n: int = 30                      # smallest group (each side) a headline finding rests on
    raw: dict[str, Any] = field(default_factory=dict)     # the file as written

    @property
    def weighted(self) -> bool:
        return bool(self.population)

    def as_dict(self) -> dict[str, Any]:
        """The params as the notebooks receive them: the file's keys, with `population` made
        explicit ("" = unweighted) so that no notebook default can stand in for it."""
        out = dict(self.raw)
        out["population"] = self.population or ""
        return out

    def resolve(self, key: str) -> Path | None:
        value = getattr(self, key)
        return paths.resolve(value) if value else None

    def load_codebook(self):
        from . import codebook
        return codebook.load(paths.resolve(self.codebook))


KNOWN_KEYS = tuple(f.name for f in fields(Params) if f.name not in ("path", "raw"))
# notebook parameters that are not a params file's business: `run` sets run_dir for every stage,
# and params_file names a params file when a notebook is opened by hand
NOTEBOOK_ONLY = {
    "run_dir": "set by `python -m analysis run` for each stage",
    "params_file": "given to a notebook opened by hand; a params file does not name itself",
}


def load_params(path: str | Path = paths.DEFAULT_PARAMS) -> Params:
    """Read and validate a params file; raise ParamsError at the first bad key (see `problems`
    for all of them at once)."""
    params, errors = parse_params(path)
    if errors:
        raise errors[0]
    return params


def read_raw(path: str | Path) -> dict[str, Any]:
    p = paths.resolve(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"params file not found: {p}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(p, "file", f"not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ParamsError(p, "file", "expected a mapping of parameters at the top level")
    return data


def parse_params(path: str | Path | dict, root: Path | None = None,
                 source: str | Path | None = None) -> tuple[Params | None, list[ParamsError]]:
    """(Params or None, every error found): each error names the file (`source` when a dict is
    given), the key and what was expected."""
    if isinstance(path, dict):
        raw, where = dict(path), str(source or "params")
    else:
        raw, where = read_raw(path), str(paths.resolve(path))
    errors: list[ParamsError] = []

    def bad(key, message, expected=None):
        errors.append(ParamsError(where, key, message, expected))

    def get(key, check, expected, default=None):
        if key not in raw or raw[key] is None:
            return default
        value = raw[key]
        if not check(value):
            bad(key, f"{value!r} is not valid", expected)
            return default
        return value

    survey = get("survey", lambda x: isinstance(x, str) and bool(SLUG.fullmatch(x)),
                 "a slug of lower-case letters, digits and hyphens ([a-z0-9-]+)")
    if "survey" not in raw:
        bad("survey", "required key is missing", "the survey's slug, e.g. my-survey-2024")
    codebook = get("codebook", lambda x: isinstance(x, str) and x.strip() != "", "a path to a codebook YAML")
    if "codebook" not in raw:
        bad("codebook", "required key is missing", "a path such as params/codebooks/<survey>.yaml")
    elif codebook and not paths.resolve(codebook, root).is_file():
        bad("codebook", f"file not found: {paths.resolve(codebook, root)}", "an existing codebook YAML")
    for key in ("themes", "population"):
        value = get(key, lambda x: isinstance(x, str), "a path to a YAML file, or empty")
        if value and not paths.resolve(value, root).is_file():
            bad(key, f"file not found: {paths.resolve(value, root)}",
                "an existing file" + (", or empty for an unweighted run" if key == "population" else ""))
    inputs = raw.get("inputs")
    forms: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    if not isinstance(inputs, dict) or not (inputs.get("forms") or inputs.get("email")):
        bad("inputs", "no input files", "a mapping with `forms:` (and optionally `email:`) lists of files")
    else:
        unknown = set(inputs) - {"forms", "email"}
        if unknown:
            bad("inputs", f"unknown input kind(s) {sorted(unknown)}", "forms, email")
        for kind in ("forms", "email"):
            value = inputs.get(kind) or []
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                bad(f"inputs.{kind}", f"{inputs.get(kind)!r}", "a list of paths")
                continue
            if kind == "forms":
                forms = tuple(value)
            else:
                email = tuple(value)
    synthetic = get("synthetic", lambda x: isinstance(x, bool), "true or false", False)
    policy = get("unknown_label", lambda x: x in UNKNOWN_LABEL_POLICIES, " | ".join(UNKNOWN_LABEL_POLICIES), "stop")
    salt_env = get("salt_env", lambda x: isinstance(x, str) and bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", x)),
                   "the name of an environment variable", "ANALYSIS_SALT")
    min_cell = get("min_cell", lambda x: _integer(x) and x >= 1, "an integer >= 1", 10)
    fdr = get("fdr", lambda x: _number(x) and 0 < x < 1, "a number between 0 and 1 (e.g. 0.05, not 5%)", 0.05)
    cap = get("weight_trim_cap", lambda x: _number(x) and x > 1, "a number > 1 (a multiple of the mean weight)", 5.0)
    max_chars = get("max_text_chars", lambda x: _integer(x) and x > 0, "a positive integer", 10_000)
    from . import report
    langs = report.languages()
    lang = get("report_lang", lambda x: x in langs, " | ".join(langs) + " (a text table in src/analysis/texts/)", "lv")
    human = get("human_coding", lambda x: isinstance(x, list) and all(isinstance(f, str) for f in x),
                "a list of CSV paths", [])
    for i, f in enumerate(human or []):
        if not paths.resolve(f, root).is_file():
            bad(f"human_coding[{i}]", f"file not found: {paths.resolve(f, root)}", "an existing CSV")
    min_finding_n = get("min_finding_n", lambda x: _integer(x) and x >= 1, "an integer >= 1", 30)
    rules = _rules(raw.get("quality_rules"), bad)
    for key in raw:
        if key in NOTEBOOK_ONLY:
            bad(str(key), f"not a key of a params file ({NOTEBOOK_ONLY[key]})", "remove it")
        elif key not in KNOWN_KEYS:
            bad(str(key), "unknown key: no stage reads it (misspelled?)", "one of " + ", ".join(KNOWN_KEYS))
    params = Params(
        path=paths.resolve(path) if not isinstance(path, dict) else Path("params"),
        survey=survey or "", codebook=codebook or "", inputs=Inputs(forms, email),
        synthetic=bool(synthetic), themes=raw.get("themes") or None, population=raw.get("population") or None,
        unknown_label=policy, salt_env=salt_env, quality_rules=rules, min_cell=min_cell, fdr=float(fdr),
        weight_trim_cap=float(cap), report_lang=lang, human_coding=tuple(human or ()),
        max_text_chars=max_chars, min_finding_n=min_finding_n, raw=raw)
    return params, errors


def _rules(spec: Any, bad) -> dict[str, Rule]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        bad("quality_rules", "not a mapping", "rule: {action: exclude|flag, ...}")
        return {}
    out: dict[str, Rule] = {}
    for name, rule in spec.items():
        key = f"quality_rules.{name}"
        if name not in RULE_SETTINGS:
            bad(key, f"unknown rule {name!r}", ", ".join(RULE_SETTINGS))
            continue
        if not isinstance(rule, dict) or rule.get("action") not in RULE_ACTIONS:
            bad(key, f"action is {rule.get('action') if isinstance(rule, dict) else rule!r}", "exclude | flag")
            continue
        settings = {}
        for k, (default, check, expected) in RULE_SETTINGS[name].items():
            value = rule.get(k, default)
            if not check(value):
                bad(f"{key}.{k}", f"{value!r}", expected)
                value = default
            settings[k] = value
        for k in set(rule) - set(RULE_SETTINGS[name]) - {"action"}:
            bad(f"{key}.{k}", "unknown setting", ", ".join(sorted(set(RULE_SETTINGS[name]) | {"action"})))
        out[name] = Rule(name, rule["action"], settings)
    return out
