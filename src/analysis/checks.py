"""`python -m analysis check PARAMS`: a dry run of the whole pipeline's requirements; runs nothing.

It validates every parameter's type and range (`fdr: 5%` is an error naming `fdr`), loads the
codebook, the theme dictionary and the population file, checks that every role a stage needs
exists (or says which sections will be skipped and why), and reads each Forms export and
mailbox exactly as stage 01 does (same reader, header matching, date parsing, recoding):
missing and unexpected columns, unknown labels with counts and rows, unparseable dates, empty
files, duplicate headers, files that are not what their name says, files of another form.

Errors mean the run would stop (exit 2); warnings are rows that the run quarantines or notes;
notes say what the run will do differently (an unweighted run, a rule switched off, a section
left out). "Usable" is said only when a run would pass. Nothing is written, no salt is read.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from . import config, paths
from .ingest import InputError, Problem

__all__ = ["Problem", "InputError", "check_inputs", "check_command", "stage_requirements"]

# params keys stage 01 validates itself (clean.validate_params): not repeated here
STAGE01_KEYS = ("inputs", "unknown_label", "quality_rules", "salt_env", "max_text_chars", "codebook")


def check_inputs(params: dict[str, Any], root: Path | None = None,
                 source: str | Path | None = None, keep: bool = False) -> list[Problem]:
    """Every problem with the inputs of a run, errors first (each names file, key or column,
    rows and what was expected), then warnings, then notes. ``keep``: inside a run, leave the
    reading of the inputs for its stage 01 (clean.keep_prepared) when nothing stops the run."""
    from . import clean
    from .clean import give_back_memory, keep_prepared, prepare

    problems: list[Problem] = []
    _, errors = config.parse_params(params, root, source)
    for e in errors:
        if e.key.split(".")[0].split("[")[0] not in STAGE01_KEYS:
            problems.append(Problem("error", "bad_parameter", e.path, e.message,
                                    column=e.key, expected=e.expected))
    # inside a run, the free texts are redacted while the inputs are read and checked, and
    # handed to stage 01 with the reading (both are pure functions of the frozen inputs)
    redactor = clean.Redactor(clean._privacy()) if keep and clean._prepared_path() is not None else None
    try:
        prepared = prepare(params, root, on_read=clean.redaction_starter(redactor) if redactor else None,
                           take=False)
        if redactor is not None and not prepared.errors:
            redactor.finish()
            prepared.redacted = redactor.done
    except InputError as exc:       # defensive: prepare collects, but never hide a problem
        return problems + exc.problems
    finally:
        if redactor is not None:
            redactor.close()
    problems.extend(prepared.problems)
    if prepared.cb is not None:
        problems.extend(stage_requirements(params, prepared.cb, root, source))
    if keep and not any(p.severity == "error" for p in problems):
        try:
            keep_prepared(prepared, root)
        except OSError:             # no room for it: stage 01 reads the inputs itself
            pass
    del prepared
    give_back_memory()
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(problems, key=lambda p: order.get(p.severity, 1))


def stage_requirements(params: dict[str, Any], cb, root: Path | None = None,
                       source: str | Path | None = None) -> list[Problem]:
    """What each stage needs beyond the exports: roles, the population and theme files.
    A missing role is a note naming the section that will be left out (never a crash later).
    A note names the file its key is in: the codebook's keys (roles, consultation_window) the
    codebook, the run's keys (quality_rules, population, themes) the params file."""
    out: list[Problem] = []
    where = str(cb.path)
    params_file = str(source) if source else "params"

    def note(code, message, column=None):
        key = (column or "").split(".")[0]
        out.append(Problem("note", code, params_file if key in ("quality_rules", "population", "themes") else where,
                           message, column=column))

    # stage 01: rules that need columns the survey does not have switch off (stated in the log)
    rules = params.get("quality_rules") or {}
    if isinstance(rules, dict):
        if "speeder" in rules and not (cb.meta_var("start_time") and cb.meta_var("completion_time")):
            note("rule_switched_off", "the speeder rule is switched off: the codebook has no start and "
                                      "completion time columns", "quality_rules.speeder")
        if "outside_window" in rules and not (cb.window.get("start") or cb.window.get("end")):
            note("rule_switched_off", "the outside_window rule is switched off: the codebook has no "
                                      "consultation_window", "quality_rules.outside_window")
        elif "outside_window" in rules and not (cb.meta_var("completion_time") or cb.meta_var("start_time")):
            has_mail = isinstance(params.get("inputs"), dict) and bool(params["inputs"].get("email"))
            note("rule_switched_off", "the outside_window rule " + ("applies to e-mails only" if has_mail
                                                                   else "is switched off")
                 + ": the export has no time stamp", "quality_rules.outside_window")
        if "duplicate" in rules and not cb.meta_var("email"):
            note("rule_partly_off", "duplicates are not compared by e-mail address: the codebook has no "
                                    "e-mail column", "quality_rules.duplicate")
    if not (cb.window or {}).get("timezone") and any(cb.meta_var(r) for r in ("start_time", "completion_time")):
        note("default_timezone", f"the codebook names no time zone: times are taken as {cb.timezone}",
             "consultation_window.timezone")
    # stage 02: ratings, groups, weights
    if not cb.likert_items:
        note("section_skipped", "the codebook has no rated items: stage 02 has no ratings to estimate")
    if not cb.role_var("grouping"):
        note("section_skipped", "no `grouping` role: the ranking by group is left out", "roles.grouping")
    if not cb.role_var("recommendation"):
        note("section_skipped", "no `recommendation` role: the recommendation (NPS) section is left out",
             "roles.recommendation")
    if not cb.role_var("satisfaction"):
        note("section_skipped", "no `satisfaction` role: the satisfaction model is left out",
             "roles.satisfaction")
    population = params.get("population")
    if not population:
        note("unweighted", "no `population` in the params: an unweighted run (estimates describe the "
                           "respondents, not a population)", "population")
    elif isinstance(population, str) and paths.resolve(population, root).is_file():
        out.extend(_population_problems(population, cb, root))
    # stage 03: open answers and the theme dictionary
    texts = [v.name for v in cb.of_type("text") if not v.pii]
    inputs = params.get("inputs") if isinstance(params.get("inputs"), dict) else {}
    if not texts and not inputs.get("email"):
        note("section_skipped", "no open question and no e-mail input: stage 03's analysis is skipped")
    themes = params.get("themes")
    if themes and isinstance(themes, str) and paths.resolve(themes, root).is_file():
        try:
            from .themes import load_dictionary
            load_dictionary(paths.resolve(themes, root), list(cb.sectors))
        except Exception as exc:   # the dictionary's own error names the theme and pattern
            out.append(Problem("error", "themes", str(paths.resolve(themes, root)), str(exc),
                               column="themes", expected="a valid theme dictionary"))
    elif texts and not themes:
        note("section_skipped", "no `themes` dictionary: proposals are not coded into themes", "themes")
    return out


def _population_problems(population: str, cb, root) -> list[Problem]:
    from .population import load_population

    path = paths.resolve(population, root)
    try:
        pop = load_population(path)
    except InputError as exc:
        return exc.problems
    except Exception as exc:
        return [Problem("error", "population", str(path), str(exc), column="population",
                        expected="margins: {variable: {level: population total}}")]
    out = []
    for var, levels in (pop or {}).get("margins", {}).items():
        v = cb.variables.get(var)
        if v is None or not v.options:
            out.append(Problem("error", "population", str(path), f"margin {var!r} is not a single-choice "
                               "variable of the codebook", column=f"margins.{var}",
                               expected=f"one of {', '.join(n for n, x in cb.variables.items() if x.type == 'single')}"))
            continue
        known = set(v.codes) | set(v.merge)
        bad = [lv for lv in levels if lv not in known]
        if bad:
            out.append(Problem("error", "population", str(path), f"level(s) {bad} of {var} are not codes of "
                               "the codebook", column=f"margins.{var}", expected=f"codes of {var}: {sorted(known)}"))
    if not cb.in_scope():
        out.append(Problem("note", "population", str(path), "no `in_scope` role: every respondent is taken "
                           "as part of the population the margins describe", column="roles.in_scope"))
    return out


def check_command(params_path: str | Path, out: TextIO | None = None) -> int:
    """Print the problems of a params file's inputs; 0 if there are no errors, 2 if there are."""
    out = out or sys.stdout
    try:
        params = config.read_raw(params_path)
    except FileNotFoundError as exc:
        print(f"ERROR {exc}", file=out)
        return 2
    except config.ParamsError as exc:
        print(f"ERROR {params_path}: cannot read the params file ({exc})", file=out)
        return 2
    except Exception as exc:  # anything else unreadable, said plainly
        print(f"ERROR {params_path}: cannot read the params file ({type(exc).__name__}: {exc})", file=out)
        return 2
    problems = check_inputs(params, source=paths.resolve(params_path))
    errors = [p for p in problems if p.severity == "error"]
    notes = [p for p in problems if p.severity == "note"]
    for p in problems:
        print(str(p), file=out)
    inputs = params.get("inputs") if isinstance(params.get("inputs"), dict) else {}
    n_files = sum(len(v) if isinstance(v, list) else 1 for v in inputs.values() if v)
    summary = (f"{len(errors)} error(s), {len(problems) - len(errors) - len(notes)} warning(s), "
               f"{len(notes)} note(s) in {n_files} input file(s)"
               + (": the run would stop; fix the errors above" if errors else ": inputs are usable"))
    print(summary, file=out)
    return 2 if errors else 0
