"""Themes in the open proposals: the theme dictionary, dictionary coding, topic discovery,
representative quotes, agreement with human coding and the sample for human coders.

The dictionary (``params/themes/<survey>.yaml``) defines each theme by lemma patterns,
phrases and co-occurrences in Latvian, Russian and English (the file's header explains the
matching rules). Texts arrive here already tokenised and lemmatised (one ``(lemma, surface)``
pair per word token, see :mod:`analysis.proposals`), so the coding is pure set logic and fast.
"""
from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

SECTORS = ("housing", "mobility", "urban", "education", "business", "culture", "participation", "newcomers")
CROSS_CUTTING = "cross-cutting"
LANGS = ("lv", "ru", "en")
_CODE_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_LV_STRIP = str.maketrans("āčēģīķļņšūž", "acegiklnsuz")


class DictionaryError(ValueError):
    """The theme dictionary is broken; the message names the file, the theme and the pattern."""

    def __init__(self, path: str | Path, where: str, message: str):
        self.path, self.where = str(path), where
        super().__init__(f"{path}: {where}: {message}")


class CodingFileError(ValueError):
    """A human-coding CSV is broken; the message names the file, column and row."""


# =============================================================================== patterns

def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().lower()


def _plain(text: str) -> str:
    """Latvian diacritics removed (the form a word takes when typed without them)."""
    return text.translate(_LV_STRIP)


@dataclass(frozen=True)
class Pattern:
    """One word pattern: ``abc`` (whole word), ``abc*`` (prefix), ``*abc`` (suffix), ``*abc*`` (inside).

    It is tried on a token's lemma and on its lower-case surface form. A key written without
    any non-ASCII letter (Latvian typed without diacritics, or a lemma the lemmatiser could not
    restore) is compared with the pattern's diacritic-free form; any other key exactly.
    """

    text: str
    kind: str            # exact | prefix | suffix | infix
    core: str
    plain: str

    @classmethod
    def parse(cls, raw: str) -> "Pattern":
        text = _norm(raw)
        start, end = text.startswith("*"), text.endswith("*") and len(text) > 1
        core = text.strip("*")
        kind = {(False, False): "exact", (False, True): "prefix", (True, False): "suffix",
                (True, True): "infix"}[(start, end)]
        return cls(text, kind, core, _plain(core))

    def matches(self, key: str) -> bool:
        core = self.plain if key.isascii() else self.core
        if self.kind == "exact":
            return key == core
        if self.kind == "prefix":
            return key.startswith(core)
        if self.kind == "suffix":
            return key.endswith(core)
        return core in key


@dataclass(frozen=True)
class Theme:
    code: str
    sector: str                                  # a sector code or "cross-cutting"
    names: dict[str, str]
    lemmas: tuple[Pattern, ...]                  # one is enough
    phrases: tuple[tuple[tuple[Pattern, ...], ...], ...]   # words in a row; each word: alternatives
    together: tuple[tuple[tuple[Pattern, ...], ...], ...]  # all parts near each other in a sentence
    excepts: tuple[tuple[tuple[Pattern, ...], ...], ...] = ()  # idioms whose words do not count
    sources: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def name(self, lang: str = "lv") -> str:
        return self.names.get(lang) or self.names["lv"]


@dataclass
class Dictionary:
    path: Path
    survey: str
    themes: dict[str, Theme]
    settings: dict[str, Any]

    @property
    def codes(self) -> list[str]:
        return list(self.themes)

    def sector_of(self, code: str) -> str:
        return self.themes[code].sector

    def name(self, code: str, lang: str = "lv") -> str:
        return self.themes[code].name(lang)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def frame(self, lang: str = "lv") -> pd.DataFrame:
        """theme, sector_of_theme, name: one row per theme in dictionary order."""
        return pd.DataFrame({"theme": self.codes, "sector_of_theme": [t.sector for t in self.themes.values()],
                             "name": [t.name(lang) for t in self.themes.values()]})


# ============================================================================ loading

class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, but a key given twice in one mapping is an error (PyYAML would
    silently keep the last one: a second `en:` list would replace the first)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {key_node.start_mark.line + 1})", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


DEFAULT_SETTINGS: dict[str, Any] = {
    "keywords_top_n": 15, "keyness_min_freq": 5, "keyness_top_n": 25,
    "collocation_min_count": {2: 5, 3: 3}, "collocation_top_n": 25,
    "n_topics": 12, "topic_top_terms": 10, "topic_fit_max_docs": 20000, "topic_min_df": 3,
    "topic_coverage_min": 0.3, "quotes_per_theme": 3, "quote_chars": [40, 320], "uncoded_top_n": 40,
    "bootstrap_n": 1000, "bootstrap_seed": 2022, "random_state": 2022,
    "coding_sample_n": 200, "coding_sample_seed": 1, "together_window": 10,
    "extra_stopwords": {},
}


def load_dictionary(path: str | Path, sectors: Iterable[str] | None = None) -> Dictionary:
    """Read and validate a theme dictionary; raise :class:`DictionaryError` naming the file,
    the theme and the pattern at fault. ``sectors`` (e.g. the codebook's) default to the eight
    sectors of the Liepāja form."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except FileNotFoundError:
        raise DictionaryError(path, "file", "not found") from None
    except yaml.YAMLError as exc:
        raise DictionaryError(path, "file", f"not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("themes"), dict) or not raw["themes"]:
        raise DictionaryError(path, "themes", "expected a mapping `themes:` of sector -> theme code -> definition")
    allowed = tuple(sectors or SECTORS) + (CROSS_CUTTING,)
    settings = dict(DEFAULT_SETTINGS)
    extra = raw.get("settings") or {}
    if not isinstance(extra, dict):
        raise DictionaryError(path, "settings", "expected a mapping")
    unknown = sorted(set(extra) - set(DEFAULT_SETTINGS))
    if unknown:
        raise DictionaryError(path, "settings", f"unknown setting(s) {unknown}; known: {sorted(DEFAULT_SETTINGS)}")
    settings.update(extra)
    _check_extra_stopwords(path, settings["extra_stopwords"])
    themes: dict[str, Theme] = {}
    for sector, block in raw["themes"].items():
        if sector not in allowed:
            raise DictionaryError(path, f"themes.{sector}", f"unknown sector; expected one of {', '.join(allowed)}")
        if not isinstance(block, dict) or not block:
            raise DictionaryError(path, f"themes.{sector}", "expected a mapping of theme code -> definition")
        for code, spec in block.items():
            if code in themes:
                raise DictionaryError(path, f"themes.{sector}.{code}",
                                      f"duplicate theme code (also under {themes[code].sector})")
            themes[code] = _theme(path, sector, code, spec)
    _check_not_stopped(path, themes, settings["extra_stopwords"])
    return Dictionary(path=path, survey=str(raw.get("survey", "")), themes=themes, settings=settings)


def _check_extra_stopwords(path: Path, extra: Any) -> None:
    if not isinstance(extra, dict) or not all(
            lang in LANGS and isinstance(words, list) and all(isinstance(w, str) for w in words)
            for lang, words in extra.items()):
        raise DictionaryError(path, "settings.extra_stopwords", "expected a mapping lv/ru/en -> list of words")


def _check_not_stopped(path: Path, themes: Mapping[str, Theme], extra: Mapping[str, list[str]]) -> None:
    """A word pattern (lemmas, together parts) equal to an extra stopword would never count."""
    stopped = {_norm(w) for words in extra.values() for w in words}
    for code, theme in themes.items():
        words = [p for p in theme.lemmas] + [p for tg in theme.together for part in tg for p in part]
        for p in words:
            if p.kind == "exact" and p.core in stopped:
                raise DictionaryError(path, f"theme {code!r}, pattern {p.text!r}",
                                      "is listed in settings.extra_stopwords, so it would never count")


def _theme(path: Path, sector: str, code: Any, spec: Any) -> Theme:
    where = f"theme {code!r} (under {sector})"
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise DictionaryError(path, where, "a theme code is lower-case letters, digits and '_' (e.g. rental_shortage)")
    if not isinstance(spec, dict):
        raise DictionaryError(path, where, "expected a mapping with name, lemmas, phrases, together")
    unknown = sorted(set(spec) - {"name", "lemmas", "phrases", "together", "except", "note"})
    if unknown:
        raise DictionaryError(path, where, f"unknown key(s) {unknown}; expected name, lemmas, phrases, together, except")
    names = spec.get("name")
    if not isinstance(names, dict) or not isinstance(names.get("lv"), str) or not names["lv"].strip():
        raise DictionaryError(path, where, "needs name: {lv: ..., en: ...} (a Latvian name at least)")
    lemmas = _by_language(path, where, spec, "lemmas")
    phrases = _by_language(path, where, spec, "phrases")
    if not any(lemmas.values()) and not any(phrases.values()) and not spec.get("together"):
        raise DictionaryError(path, where, "defines no lemmas, phrases or together entries")
    lemma_patterns: list[Pattern] = []
    seen: dict[tuple[str, str], int] = {}
    for lang, items in lemmas.items():
        for i, item in enumerate(items):
            at = f"{where}, lemmas.{lang}[{i}] {item!r}"
            pat = _word_pattern(path, at, item, lang)
            if (lang, pat.text) in seen:
                raise DictionaryError(path, at, f"duplicate pattern (also lemmas.{lang}[{seen[lang, pat.text]}])")
            seen[lang, pat.text] = i
            lemma_patterns.extend(_with_lemma(pat, lang))
    phrase_list = []
    for lang, items in phrases.items():
        for i, item in enumerate(items):
            phrase_list.append(_phrase(path, f"{where}, phrases.{lang}[{i}] {item!r}", item, lang))
    together = []
    raw_together = spec.get("together") or []
    if not isinstance(raw_together, list):
        raise DictionaryError(path, where, "together: expected a list of [part, part, ...] entries")
    for i, entry in enumerate(raw_together):
        together.append(_together(path, f"{where}, together[{i}]", entry))
    excepts = []
    for lang, items in _by_language(path, where, spec, "except").items():
        for i, item in enumerate(items):
            at = f"{where}, except.{lang}[{i}] {item!r}"
            if len(item.split()) == 1:
                excepts.append(((_word_pattern(path, at, item, "xx"),),))
            else:
                excepts.append(_phrase(path, at, item, lang))
    return Theme(code=code, sector=sector, names={k: str(v) for k, v in names.items()},
                 lemmas=tuple(dict.fromkeys(lemma_patterns)), phrases=tuple(phrase_list),
                 together=tuple(together), excepts=tuple(excepts),
                 sources={"lemmas": lemmas, "phrases": phrases, "together": raw_together})


def _by_language(path, where, spec, key) -> dict[str, list[str]]:
    block = spec.get(key) or {}
    if not isinstance(block, dict):
        raise DictionaryError(path, f"{where}, {key}", "expected a mapping language -> list (lv, ru, en)")
    out = {}
    for lang, items in block.items():
        if lang not in LANGS:
            raise DictionaryError(path, f"{where}, {key}.{lang}", f"unknown language; expected one of {', '.join(LANGS)}")
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise DictionaryError(path, f"{where}, {key}.{lang}", "expected a list of strings")
        out[lang] = items
    return out


def _check_script(path, at, text, lang) -> None:
    if lang == "ru" and _LATIN.search(text) and not _CYRILLIC.search(text):
        raise DictionaryError(path, at, "a Russian pattern is written in Latin letters")
    if lang in ("lv", "en") and _CYRILLIC.search(text):
        raise DictionaryError(path, at, f"a {lang} pattern is written in Cyrillic letters")


def _word_pattern(path, at, raw: str, lang: str) -> Pattern:
    text = _norm(raw)
    if not text:
        raise DictionaryError(path, at, "empty pattern")
    if any(ch.isspace() for ch in text):
        raise DictionaryError(path, at, "a lemma pattern is one word; put several words under `phrases`")
    if "*" in text.strip("*") or text.startswith("**") or text.endswith("**"):
        raise DictionaryError(path, at, "'*' may stand only at the start and/or the end of a pattern (velo*, *stāvviet*)")
    core = text.strip("*")
    if not re.search(r"\w", core):
        raise DictionaryError(path, at, "a pattern needs letters")
    if "*" in text and len(core) < 3:
        raise DictionaryError(path, at, "a wildcard pattern needs at least 3 letters before/after '*' (it would match too much)")
    _check_script(path, at, text, lang)
    if "*" not in text and _is_stopword(core, lang):
        raise DictionaryError(path, at, f"{core!r} is a {lang} stopword: it is removed before coding and would never count")
    return Pattern.parse(text)


def _is_stopword(word: str, lang: str) -> bool:
    from . import text as tx

    return lang in ("lv", "ru", "en") and word in tx.stopwords(lang)


def _with_lemma(pat: Pattern, lang: str) -> list[Pattern]:
    """An exact pattern also matches what the lemmatiser makes of it (its quirks cancel out)."""
    if pat.kind != "exact" or lang == "en":
        return [pat]
    from . import text as tx

    lem = _norm(tx.lemmatize(pat.core, lang))
    return [pat] if not lem or lem == pat.core else [pat, Pattern.parse(lem)]


def _phrase(path, at, raw: str, lang: str) -> tuple[tuple[Pattern, ...], ...]:
    from . import text as tx

    _check_script(path, at, raw, lang)
    tokens: list[str] = []
    for chunk in unicodedata.normalize("NFC", raw).split():
        if "*" in chunk:
            tokens.append(chunk)
        else:
            tokens.extend(t for t in tx.tokenize(chunk) if tx.is_word(t))
    if len(tokens) < 2:
        raise DictionaryError(path, at, "a phrase needs at least two words; put single words under `lemmas`")
    out = []
    for t in tokens:
        if "*" in t:
            out.append((_word_pattern(path, f"{at} word {t!r}", t, "xx"),))
        else:
            alts = {_norm(t)}
            if lang in ("lv", "ru"):
                alts.add(_norm(tx.lemmatize(t, lang)))
            out.append(tuple(Pattern.parse(a) for a in sorted(alts) if a))
    return tuple(out)


def _together(path, at, entry) -> tuple[tuple[Pattern, ...], ...]:
    if not isinstance(entry, list) or len(entry) < 2 or not all(isinstance(p, str) for p in entry):
        raise DictionaryError(path, at, "expected a list of at least two parts, e.g. [\"dzīvoklis\", \"trūkt|trūkums\"]")
    parts = []
    for j, part in enumerate(entry):
        alts = []
        for alt in part.split("|"):
            # parts are written as lemmas (or stems with '*'); not lemmatised again
            alts.append(_word_pattern(path, f"{at} part {j + 1} {alt!r}", alt, "xx"))
        parts.append(tuple(dict.fromkeys(alts)))
    return tuple(parts)


# ============================================================================ coding

Token = tuple  # (lemma, surface) or (lemma, surface, is_content); lemma and surface lower-case


class _Matcher:
    """Every dictionary pattern is an 'atom'; each distinct key (lemma or surface) is resolved
    once to the atoms it matches, so coding a text costs a few set operations per token."""

    def __init__(self, dictionary: Dictionary):
        self.dictionary = dictionary
        self.codes = dictionary.codes
        self.window = int(dictionary.settings.get("together_window", DEFAULT_SETTINGS["together_window"]))
        atoms: dict[Pattern, int] = {}

        def atom(p: Pattern) -> int:
            return atoms.setdefault(p, len(atoms))

        def seq(phrase) -> tuple[frozenset[int], ...]:
            return tuple(frozenset(atom(p) for p in word) for word in phrase)

        self.lemma_atoms: list[tuple[int, ...]] = []
        self.phrases: list[tuple[int, tuple[frozenset[int], ...]]] = []      # (theme, words)
        self.together: list[tuple[int, tuple[frozenset[int], ...]]] = []
        self.excepts: dict[int, list[tuple[frozenset[int], ...]]] = {}
        for ti, th in enumerate(dictionary.themes.values()):
            self.lemma_atoms.append(tuple(atom(p) for p in th.lemmas))
            for ph in th.phrases:
                self.phrases.append((ti, seq(ph)))
            for tg in th.together:
                self.together.append((ti, seq(tg)))
            if th.excepts:
                self.excepts[ti] = [seq(ph) for ph in th.excepts]
        self.patterns = list(atoms)
        self.atom_theme_lemma: dict[int, list[int]] = {}
        for ti, ats in enumerate(self.lemma_atoms):
            for a in ats:
                self.atom_theme_lemma.setdefault(a, []).append(ti)
        self.first_word: dict[int, list[int]] = {}
        for k, (_, words) in enumerate(self.phrases):
            for a in words[0]:
                self.first_word.setdefault(a, []).append(k)
        self.together_atoms = frozenset(a for _, parts in self.together for part in parts for a in part)
        self.except_first = frozenset(a for phs in self.excepts.values() for ph in phs for a in ph[0])
        # lookup tables by kind (diacritic and plain forms)
        self.exact: dict[str, list[int]] = {}
        self.exact_plain: dict[str, list[int]] = {}
        self.prefix: dict[str, list[int]] = {}
        self.prefix_plain: dict[str, list[int]] = {}
        self.other: list[tuple[Pattern, int]] = []
        for p, a in atoms.items():
            if p.kind == "exact":
                self.exact.setdefault(p.core, []).append(a)
                self.exact_plain.setdefault(p.plain, []).append(a)
            elif p.kind == "prefix":
                self.prefix.setdefault(p.core, []).append(a)
                self.prefix_plain.setdefault(p.plain, []).append(a)
            else:
                self.other.append((p, a))
        self.max_prefix = max((len(k) for k in self.prefix), default=0)
        self._key_cache: dict[str, frozenset[int]] = {"": frozenset()}
        self._tok_cache: dict[tuple[str, str], frozenset[int]] = {}
        self._themes_cache: dict[frozenset[int], tuple[int, ...]] = {}

    def key_atoms(self, key: str) -> frozenset[int]:
        got = self._key_cache.get(key)
        if got is not None:
            return got
        plain = key.isascii()
        exact = self.exact_plain if plain else self.exact
        prefix = self.prefix_plain if plain else self.prefix
        found: set[int] = set(exact.get(key, ()))
        for n in range(1, min(len(key), self.max_prefix) + 1):
            hit = prefix.get(key[:n])
            if hit:
                found.update(hit)
        for p, a in self.other:
            if p.matches(key):
                found.add(a)
        res = frozenset(found)
        self._key_cache[key] = res
        return res

    def token_atoms(self, tok: Sequence[Any]) -> frozenset[int]:
        key = (tok[0], tok[1])
        got = self._tok_cache.get(key)
        if got is None:
            lemma, surface = key
            got = self.key_atoms(lemma) | self.key_atoms(surface) if surface != lemma else self.key_atoms(lemma)
            self._tok_cache[key] = got
        return got

    def _lemma_themes(self, atoms: frozenset[int]) -> tuple[int, ...]:
        got = self._themes_cache.get(atoms)
        if got is None:
            got = tuple(sorted({ti for a in atoms for ti in self.atom_theme_lemma.get(a, ())}))
            self._themes_cache[atoms] = got
        return got

    @staticmethod
    def _find(seq: list[frozenset[int]], words: tuple[frozenset[int], ...], start: int) -> bool:
        return start + len(words) <= len(seq) and all(
            not seq[start + j].isdisjoint(words[j]) for j in range(len(words)))

    def _masked(self, seq: list[frozenset[int]]) -> dict[int, set[int]]:
        """Positions covered by a theme's `except` phrases (idioms such as 'vienas pieturas
        aģentūra'): they do not count for that theme."""
        out: dict[int, set[int]] = {}
        for i, atoms in enumerate(seq):
            if atoms.isdisjoint(self.except_first):
                continue
            for ti, phrases in self.excepts.items():
                for words in phrases:
                    if self._find(seq, words, i):
                        out.setdefault(ti, set()).update(range(i, i + len(words)))
        return out

    def hits(self, tokens: Sequence[Sequence[Any]]) -> np.ndarray:
        """Pattern hits per theme in one text: matching content tokens + phrases + co-occurrences.

        A token is ``(lemma, surface)`` or ``(lemma, surface, is_content, ...)``; stopword tokens
        (is_content False) take part only in phrases; ``("", "", False)`` marks a sentence end and
        a token with is_content None (punctuation inside a sentence) is ignored."""
        out = np.zeros(len(self.codes), dtype=np.int32)
        if any(len(t) > 2 and t[2] is None for t in tokens):     # punctuation markers: not words
            tokens = [t for t in tokens if len(t) < 3 or t[2] is not None]
        seq = [self.token_atoms(t) for t in tokens]
        masked = self._masked(seq) if self.except_first else {}
        found: list[tuple[int, frozenset[int]]] = []
        for i, (tok, atoms) in enumerate(zip(tokens, seq)):
            if not atoms or (len(tok) > 2 and not tok[2]):
                continue
            found.append((i, atoms))
            for ti in self._lemma_themes(atoms):
                if ti in masked and i in masked[ti]:
                    continue
                out[ti] += 1
        if not found:
            return out
        if self.phrases:
            for i, atoms in enumerate(seq):
                if not atoms:
                    continue
                for k in sorted({k for a in atoms for k in self.first_word.get(a, ())}):
                    ti, words = self.phrases[k]
                    if (ti not in masked or i not in masked[ti]) and self._find(seq, words, i):
                        out[ti] += 1
        if self.together and any(not atoms.isdisjoint(self.together_atoms) for _, atoms in found):
            sentence = np.cumsum([1 if t[0] == "" else 0 for t in tokens])
            for ti, parts in self.together:
                skip = masked.get(ti, ())
                where = [[i for i, atoms in found if i not in skip and not atoms.isdisjoint(part)] for part in parts]
                if all(where) and self._near(where, sentence):
                    out[ti] += 1
        return out

    def _near(self, where: list[list[int]], sentence: np.ndarray) -> bool:
        """Some word of the first part has a word of every other part in the same sentence,
        at most `together_window` words away (NEAR/w)."""
        for p in where[0]:
            if all(any(abs(q - p) <= self.window and sentence[q] == sentence[p] for q in other)
                   for other in where[1:]):
                return True
        return False

    def term_themes(self, key: str) -> set[int]:
        """Themes whose word patterns (lemmas or together parts) match a single term."""
        atoms = self.key_atoms(key)
        out = {ti for a in atoms for ti in self.atom_theme_lemma.get(a, ())}
        for ti, parts in self.together:
            if any(not atoms.isdisjoint(part) for part in parts):
                out.add(ti)
        return out


def _as_tokens(text_tokens: Iterable[Any]) -> list[Token]:
    out = []
    for t in text_tokens:
        if isinstance(t, str):
            k = _norm(t)
            out.append((k, k))
        else:
            out.append((_norm(t[0]), _norm(t[1])))
    return out


def theme_hits(lemmas_per_text: Sequence[Sequence[Any]], dictionary: Dictionary,
               index: Sequence[Any] | None = None) -> pd.DataFrame:
    """Number of pattern hits of each theme in each text (int columns named by theme code).

    ``lemmas_per_text``: one sequence per text of lemmas (str) or ``(lemma, surface)`` pairs, in
    text order (phrases need the order). Stopwords may be left in; the dictionary has none.
    """
    m = _Matcher(dictionary)
    mat = np.zeros((len(lemmas_per_text), len(m.codes)), dtype=np.int32)
    for i, toks in enumerate(lemmas_per_text):
        if toks:
            mat[i] = m.hits(toks if _is_pairs(toks) else _as_tokens(toks))
    return pd.DataFrame(mat, columns=m.codes, index=pd.Index(index) if index is not None else None)


def _is_pairs(toks: Sequence[Any]) -> bool:
    return isinstance(toks[0], tuple)


def code_texts(lemmas_per_text: Sequence[Sequence[Any]], dictionary: Dictionary,
               index: Sequence[Any] | None = None) -> pd.DataFrame:
    """One boolean column per theme (dictionary order): does the text carry the theme?
    Multi-label: a text may carry several themes or none."""
    return theme_hits(lemmas_per_text, dictionary, index) > 0


# ====================================================================== coverage

def coverage(coded: pd.DataFrame, scope: pd.Series) -> pd.DataFrame:
    """Per scope (e.g. sector of the question, 'other', 'email') and overall: texts, texts
    with at least one theme, coded share and the share no theme caught."""
    any_theme = coded.any(axis=1).to_numpy()
    frame = pd.DataFrame({"scope": scope.astype(str).to_numpy(), "coded": any_theme})
    g = frame.groupby("scope", sort=True)["coded"].agg(["size", "sum"]).reset_index()
    g.columns = ["scope", "n", "n_coded"]
    total = pd.DataFrame({"scope": ["all"], "n": [len(frame)], "n_coded": [int(any_theme.sum())]})
    out = pd.concat([g, total], ignore_index=True)
    out["n_coded"] = out["n_coded"].astype(int)
    out["share_coded"] = np.where(out["n"] > 0, out["n_coded"] / out["n"].clip(lower=1), np.nan)
    out["share_uncoded"] = 1 - out["share_coded"]
    return out


def uncoded_terms(content_pairs: Sequence[Sequence[Token]], coded: pd.DataFrame, top_n: int = 40) -> pd.DataFrame:
    """The most frequent content lemmas of the texts no theme caught, shown in their most
    common surface form, so the dictionary can grow: lemma, surface, count, doc_count."""
    mask = ~coded.any(axis=1).to_numpy()
    count: Counter = Counter()
    docs: Counter = Counter()
    surfaces: dict[str, Counter] = {}
    for pairs, unc in zip(content_pairs, mask):
        if not unc:
            continue
        lems = [lem for lem, _ in pairs]
        count.update(lems)
        docs.update(set(lems))
        for lem, surf in pairs:
            surfaces.setdefault(lem, Counter())[surf] += 1
    rows = [(lem, _most_common(surfaces[lem]), c, docs[lem]) for lem, c in count.items()]
    out = pd.DataFrame(rows, columns=["lemma", "surface", "count", "doc_count"])
    out = out.sort_values(["count", "lemma"], ascending=[False, True], kind="mergesort").head(top_n)
    return out.reset_index(drop=True)


def _most_common(c: Counter) -> str:
    return min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]


# ====================================================================== discovery

def discover_topics(content_lemmas: Sequence[Sequence[str]], dictionary: Dictionary,
                    surface: Mapping[str, str] | None = None, n_topics: int | None = None,
                    top_terms: int | None = None, random_state: int | None = None,
                    max_fit_docs: int | None = None, min_df: int | None = None,
                    coded: pd.DataFrame | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Topics beyond the dictionary: NMF on the TF-IDF of lemmas (scikit-learn; Lee & Seung
    2001 updates via coordinate descent, NNDSVD start, fixed random_state).

    Returns (topics, weights): topics has topic, top_terms (surface forms, '; '-joined),
    top_lemmas, coverage (share of the top-term weight that some theme's word patterns match),
    covered_by_theme (the theme matching most of that weight; empty when coverage is below
    ``topic_coverage_min``), uncovered (that flag: a candidate for a new theme), n_texts (texts
    whose strongest topic it is) and, when ``coded`` (texts x themes) is given, share_texts_coded
    (of those texts, the share with any theme) and top_theme_of_texts;
    weights is the texts x topics matrix. For large corpora NMF is fitted on a deterministic
    sample of ``max_fit_docs`` texts and then applied to all.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    s = dictionary.settings
    n_topics = int(n_topics or s["n_topics"])
    top_terms = int(top_terms or s["topic_top_terms"])
    random_state = int(s["random_state"] if random_state is None else random_state)
    max_fit_docs = int(max_fit_docs or s["topic_fit_max_docs"])
    min_df = int(min_df or s["topic_min_df"])
    surface = surface or {}
    cols = ["topic", "top_terms", "top_lemmas", "covered_by_theme", "coverage", "uncovered", "n_texts",
            "share_texts_coded", "top_theme_of_texts"]
    docs = [list(d) for d in content_lemmas]
    nonempty = [i for i, d in enumerate(docs) if d]
    if len(nonempty) < 4:
        return pd.DataFrame(columns=cols), np.zeros((len(docs), 0))
    min_df = min(min_df, max(1, len(nonempty) // 10))
    vec = TfidfVectorizer(analyzer=_identity, lowercase=False, min_df=min_df, sublinear_tf=True, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    fit_idx = nonempty if len(nonempty) <= max_fit_docs else sorted(
        rng.choice(nonempty, size=max_fit_docs, replace=False).tolist())
    try:
        x_fit = vec.fit_transform([docs[i] for i in fit_idx])
    except ValueError:       # empty vocabulary after min_df
        return pd.DataFrame(columns=cols), np.zeros((len(docs), 0))
    k = max(0, min(n_topics, x_fit.shape[0] - 1, x_fit.shape[1] - 1))
    if k < 2:
        return pd.DataFrame(columns=cols), np.zeros((len(docs), 0))
    model = NMF(n_components=k, init="nndsvd", random_state=random_state, max_iter=400, tol=1e-4)
    model.fit(x_fit)
    x_all = vec.transform(docs)
    weights = model.transform(x_all)
    weights[[i for i, d in enumerate(docs) if not d]] = 0.0
    vocab = vec.get_feature_names_out()
    strongest = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    matcher = _Matcher(dictionary)
    rows = []
    for t in range(k):
        comp = model.components_[t]
        order = sorted(range(len(comp)), key=lambda j: (-round(float(comp[j]), 12), vocab[j]))[:top_terms]
        lemmas = [vocab[j] for j in order]
        w = np.array([comp[j] for j in order], dtype=float)
        per_theme = np.zeros(len(matcher.codes))
        covered_w = 0.0
        for lem, wt in zip(lemmas, w):
            themes = matcher.term_themes(lem) | matcher.term_themes(surface.get(lem, lem))
            if themes:
                covered_w += wt
            for ti in themes:
                per_theme[ti] += wt
        total = float(w.sum()) or 1.0
        share = covered_w / total
        best = int(np.argmax(per_theme)) if per_theme.max() > 0 else -1
        covered_by = matcher.codes[best] if best >= 0 and share >= s["topic_coverage_min"] else ""
        mine = strongest == t
        row = {"topic": t + 1, "top_terms": "; ".join(surface.get(lem, lem) for lem in lemmas),
               "top_lemmas": "; ".join(lemmas), "covered_by_theme": covered_by,
               "coverage": round(share, 4), "uncovered": covered_by == "", "n_texts": int(mine.sum()),
               "share_texts_coded": np.nan, "top_theme_of_texts": ""}
        if coded is not None and mine.any():
            c = coded.to_numpy(dtype=bool)[mine]
            row["share_texts_coded"] = round(float(c.any(axis=1).mean()), 4)
            counts = c.sum(axis=0)
            if counts.max() > 0:
                row["top_theme_of_texts"] = str(coded.columns[int(np.argmax(counts))])
        rows.append(row)
    return pd.DataFrame(rows, columns=cols), weights


def _identity(x):
    return x


def topic_quotes(weights: np.ndarray, ids: Sequence[str], texts: Sequence[str], per_topic: int = 3,
                 chars: tuple[int, int] = (40, 320)) -> pd.DataFrame:
    """The texts with the highest weight on each topic (preferring texts of a readable length;
    ties by proposal id): topic, rank, proposal_id, text."""
    rows = []
    lengths = np.array([len(t) for t in texts])
    ok_len = (lengths >= chars[0]) & (lengths <= chars[1])
    ids_arr = np.asarray(ids, dtype=object)
    for t in range(weights.shape[1] if weights.ndim == 2 else 0):
        w = weights[:, t]
        cand = np.flatnonzero(w > 0)
        if not len(cand):
            continue
        order = sorted(cand.tolist(), key=lambda i: (not ok_len[i], -round(float(w[i]), 10), str(ids_arr[i])))
        seen_text: set[str] = set()
        rank = 0
        for i in order:
            key = " ".join(str(texts[i]).lower().split())
            if key in seen_text:
                continue
            seen_text.add(key)
            rank += 1
            rows.append({"topic": t + 1, "rank": rank, "proposal_id": str(ids_arr[i]), "text": texts[i]})
            if rank >= per_topic:
                break
    return pd.DataFrame(rows, columns=["topic", "rank", "proposal_id", "text"])


# ====================================================================== quotes

def select_quotes(proposals: pd.DataFrame, hits: pd.DataFrame, per_theme: int = 3,
                  chars: tuple[int, int] = (40, 320), excluded_ids: Iterable[str] = (),
                  redact: bool = True) -> pd.DataFrame:
    """2–3 representative quotes per theme, chosen deterministically.

    ``proposals`` has proposal_id, respondent_id and text (already redacted by the clean stage)
    aligned with ``hits`` (pattern hits per theme). A text is more typical of a theme the more
    of the theme's patterns it hits and the fewer other themes it carries; among equals a text
    of readable length (``chars``) nearest the middle of that range wins, then the proposal id.
    At most one quote per respondent and no repeated wording. Texts whose proposal or
    respondent id is in ``excluded_ids`` (quarantined rows) are never quoted - checked again
    on the result. The text is passed through privacy.redact once more (idempotent) when
    ``redact``; HTML escaping happens where it is rendered.
    Returns theme, rank, proposal_id, text.
    """
    excluded = set(map(str, excluded_ids))
    pid = proposals["proposal_id"].astype(str).to_numpy()
    rid = proposals["respondent_id"].astype(str).to_numpy() if "respondent_id" in proposals else pid
    texts = proposals["text"].astype(str).to_numpy()
    lengths = np.array([len(t) for t in texts])
    mid = (chars[0] + chars[1]) / 2
    allowed = np.array([p not in excluded and r not in excluded for p, r in zip(pid, rid)], dtype=bool)
    h = hits.to_numpy()
    n_themes = (h > 0).sum(axis=1)
    rows = []
    for ti, theme in enumerate(hits.columns):
        cand = np.flatnonzero((h[:, ti] > 0) & allowed)
        order = sorted(cand.tolist(), key=lambda i: (
            not (chars[0] <= lengths[i] <= chars[1]), -int(h[i, ti]), int(n_themes[i]),
            abs(lengths[i] - mid), pid[i]))
        seen_r, seen_t, rank = set(), set(), 0
        for i in order:
            key = " ".join(texts[i].lower().split())
            if rid[i] in seen_r or key in seen_t:
                continue
            seen_r.add(rid[i])
            seen_t.add(key)
            rank += 1
            rows.append({"theme": theme, "rank": rank, "proposal_id": pid[i], "text": texts[i]})
            if rank >= per_theme:
                break
    out = pd.DataFrame(rows, columns=["theme", "rank", "proposal_id", "text"])
    if redact and len(out):
        from . import privacy

        out["text"] = out["text"].map(privacy.redact)
    assert_not_excluded(out, proposals, excluded)
    return out


def assert_not_excluded(quotes: pd.DataFrame, proposals: pd.DataFrame, excluded: Iterable[str]) -> None:
    """Every quote comes from an analysed proposal and from no quarantined row or respondent."""
    excluded = set(map(str, excluded))
    analysed = set(proposals["proposal_id"].astype(str))
    ids = set(quotes["proposal_id"].astype(str)) if len(quotes) else set()
    stray = sorted(ids - analysed)
    if stray:
        raise AssertionError(f"quotes from proposals that were not analysed: {stray[:5]}")
    if len(quotes):
        by_id = proposals.set_index(proposals["proposal_id"].astype(str))
        resp = set(by_id.loc[sorted(ids), "respondent_id"].astype(str)) if "respondent_id" in by_id else set()
        bad = sorted((ids | resp) & excluded)
        if bad:
            raise AssertionError(f"quotes from quarantined rows: {bad[:5]}")


# ====================================================================== agreement

def _confusion(a: np.ndarray, h: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """tp, fp, fn, tn per theme (columns); w: bootstrap weights (reps x n) for many at once."""
    a = a.astype(np.float64)
    h = h.astype(np.float64)
    if w is None:
        tp = (a * h).sum(0)
        fp = (a * (1 - h)).sum(0)
        fn = ((1 - a) * h).sum(0)
        n = float(a.shape[0])
    else:
        tp = w @ (a * h)
        fp = w @ (a * (1 - h))
        fn = w @ ((1 - a) * h)
        n = w.sum(1, keepdims=True)
    tn = n - tp - fp - fn
    return tp, fp, fn, tn


def _metrics(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        n = tp + fp + fn + tn
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        po = (tp + tn) / n
        pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
        kappa = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "kappa": kappa}


def cohens_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's (1960) kappa of two binary codings: (p_o - p_e) / (1 - p_e), with p_o the observed
    agreement and p_e the agreement expected from the two coders' marginal shares."""
    a = np.asarray(a, dtype=bool)[:, None]
    b = np.asarray(b, dtype=bool)[:, None]
    return float(_metrics(*_confusion(a, b))["kappa"][0])


METRICS = ("precision", "recall", "f1", "kappa")


def agreement(auto: pd.DataFrame, human: pd.DataFrame, themes: Sequence[str] | None = None,
              n_boot: int = 1000, seed: int = 2022, level: float = 0.95) -> pd.DataFrame:
    """Precision, recall, F1 and Cohen's kappa of the automatic coding against a reference
    coding (human coders, or the planted themes of the synthetic sample), per theme and as a
    macro average, with percentile bootstrap intervals (texts resampled with replacement,
    ``n_boot`` replicates, fixed seed).

    ``auto`` and ``human``: boolean/0-1 frames indexed by proposal_id; only ids in both and the
    themes in both are compared. Undefined values (no positives on either side) are NaN;
    the macro row averages the themes whose F1 is defined (the reference or the coding has at
    least one positive), in each bootstrap replicate alike.
    Returns theme, n, n_reference, n_auto, tp, fp, fn, precision, recall, f1, kappa and
    <metric>_lo / <metric>_hi; the last row has theme "macro".
    """
    common = auto.index.intersection(human.index)
    cols = [c for c in (themes or auto.columns) if c in auto.columns and c in human.columns]
    a = auto.loc[common, cols].fillna(False).to_numpy(dtype=bool)
    h = human.loc[common, cols].fillna(0).to_numpy(dtype=float) > 0
    n = len(common)
    conf = _confusion(a, h)
    point = _metrics(*conf)
    defined = ~np.isnan(point["f1"])
    macro = {k: float(np.nanmean(v[defined])) if defined.any() else float("nan") for k, v in point.items()}
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    boot = {k: [] for k in METRICS}
    boot_macro = {k: [] for k in METRICS}
    if n > 0 and n_boot > 0 and cols:
        rng = np.random.default_rng(seed)
        chunk = max(1, min(n_boot, 5_000_000 // max(n, 1)))
        done = 0
        while done < n_boot:
            reps = min(chunk, n_boot - done)
            w = rng.multinomial(n, np.full(n, 1.0 / n), size=reps).astype(np.float64)
            m = _metrics(*_confusion(a, h, w))
            for k in METRICS:
                boot[k].append(m[k])
                sel = m[k][:, defined]
                with np.errstate(all="ignore"), _quiet():
                    boot_macro[k].append(np.nanmean(sel, axis=1) if sel.shape[1] else np.full(reps, np.nan))
            done += reps
    rows = []
    tp, fp, fn, _ = conf
    for j, theme in enumerate(cols):
        row = {"theme": theme, "n": n, "n_reference": int(h[:, j].sum()), "n_auto": int(a[:, j].sum()),
               "tp": int(tp[j]), "fp": int(fp[j]), "fn": int(fn[j])}
        for k in METRICS:
            row[k] = float(point[k][j])
            lo, hi = _interval(np.concatenate(boot[k])[:, j] if boot[k] else np.array([]), lo_q, hi_q)
            row[f"{k}_lo"], row[f"{k}_hi"] = lo, hi
        rows.append(row)
    mrow = {"theme": "macro", "n": n, "n_reference": int(h.sum()), "n_auto": int(a.sum()),
            "tp": int(tp.sum()), "fp": int(fp.sum()), "fn": int(fn.sum())}
    for k in METRICS:
        mrow[k] = macro[k]
        lo, hi = _interval(np.concatenate(boot_macro[k]) if boot_macro[k] else np.array([]), lo_q, hi_q)
        mrow[f"{k}_lo"], mrow[f"{k}_hi"] = lo, hi
    rows.append(mrow)
    order = ["theme", "n", "n_reference", "n_auto", "tp", "fp", "fn"] + [
        c for k in METRICS for c in (k, f"{k}_lo", f"{k}_hi")]
    return pd.DataFrame(rows, columns=order)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def _interval(values: np.ndarray, lo_q: float, hi_q: float) -> tuple[float, float]:
    v = values[~np.isnan(values)] if len(values) else values
    if not len(v):
        return float("nan"), float("nan")
    return float(np.quantile(v, lo_q)), float(np.quantile(v, hi_q))


# ====================================================================== human coding

def load_human_coding(paths_: Sequence[str | Path], dictionary: Dictionary) -> pd.DataFrame:
    """Read coded CSVs (as written by :func:`coding_sample`, with 0/1 filled in): a frame indexed
    by proposal_id with one 0/1 column per theme found in the files. A row with every theme cell
    empty was not coded and is left out; in a coded row an empty cell counts as 0. Errors name
    the file, the column and the row."""
    frames = []
    for p in paths_:
        p = Path(p)
        try:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except FileNotFoundError:
            raise CodingFileError(f"{p}: human-coding file not found") from None
        if "proposal_id" not in df.columns:
            raise CodingFileError(f"{p}: no proposal_id column (columns: {', '.join(df.columns[:8])} ...)")
        meta = {"proposal_id", "sector", "source", "question", "language", "text", "note", "coder"}
        theme_cols = [c for c in df.columns if c not in meta]
        unknown = [c for c in theme_cols if c not in dictionary.themes]
        if unknown:
            raise CodingFileError(f"{p}: column(s) {unknown} are not themes of {dictionary.path.name}; "
                                  f"expected proposal_id, text and theme codes such as {dictionary.codes[0]}")
        vals = df[theme_cols].apply(lambda s: s.str.strip())
        for c in theme_cols:
            bad = vals.index[~vals[c].isin(["", "0", "1"])]
            if len(bad):
                i = int(bad[0])
                raise CodingFileError(f"{p}: column {c}, row {i + 2} (proposal {df.at[i, 'proposal_id']}): "
                                      f"{vals.at[i, c]!r}; expected 1 (theme present), 0 or empty")
        coded = (vals != "").any(axis=1)
        out = vals.loc[coded].replace("", "0").astype(int)
        out.index = df.loc[coded, "proposal_id"].astype(str).str.strip()
        dup = out.index[out.index.duplicated()]
        if len(dup):
            raise CodingFileError(f"{p}: proposal {dup[0]} is coded twice")
        frames.append(out)
    if not frames:
        return pd.DataFrame()
    allf = pd.concat(frames)
    dup = allf.index[allf.index.duplicated()]
    if len(dup):
        raise CodingFileError(f"proposal {dup[0]} is coded in more than one file: {', '.join(map(str, paths_))}")
    return allf.sort_index()


# ====================================================================== coding sample

def coding_sample(proposals: pd.DataFrame, dictionary: Dictionary, n: int = 200, seed: int = 1) -> pd.DataFrame:
    """A stratified random sample of proposals for manual coding.

    Strata: source x sector of the question ('other' for the free question, 'email' for
    e-mails). Allocation is proportional to stratum size (largest remainders), with at least one
    text from every stratum while n allows; within a stratum a seeded random draw. Columns:
    proposal_id, sector, source, text (neutralised against spreadsheet formula injection), and
    one empty column per theme for the coder's 0/1.
    """
    from . import privacy

    if n < 1:
        raise ValueError("n must be at least 1")
    df = proposals.reset_index(drop=True)
    sector = df["sector"].astype("string").fillna(
        df["question"].astype(str).map(lambda q: "email" if q == "email" else "other"))
    stratum = df["source"].astype(str) + "|" + sector.astype(str)
    sizes = stratum.value_counts().sort_index()
    n = min(n, len(df))
    alloc = _allocate(sizes, n)
    rng = np.random.default_rng(seed)
    picked = []
    for s in sizes.index:
        idx = np.flatnonzero((stratum == s).to_numpy())
        idx = idx[np.argsort(df.loc[idx, "proposal_id"].astype(str).to_numpy(), kind="stable")]
        k = alloc[s]
        if k:
            picked.extend(sorted(rng.choice(idx, size=k, replace=False).tolist()))
    sample = df.loc[sorted(picked)]
    out = pd.DataFrame({"proposal_id": sample["proposal_id"].astype(str).to_numpy(),
                        "sector": sector.loc[sample.index].astype(str).to_numpy(),
                        "source": sample["source"].astype(str).to_numpy(),
                        "text": sample["text"].astype(str).to_numpy()})
    for code in dictionary.codes:
        out[code] = ""
    out = out.sort_values(["source", "sector", "proposal_id"], kind="mergesort").reset_index(drop=True)
    return privacy.neutralise_frame(out)


def _allocate(sizes: pd.Series, n: int) -> dict[str, int]:
    total = int(sizes.sum())
    if n >= total:
        return {s: int(v) for s, v in sizes.items()}
    strata = list(sizes.index)
    alloc = {s: 0 for s in strata}
    if n >= len(strata):                     # one from each stratum first
        for s in strata:
            alloc[s] = 1
    rest = n - sum(alloc.values())
    cap = {s: int(sizes[s]) - alloc[s] for s in strata}
    quota = {s: rest * cap[s] / max(sum(cap.values()), 1) for s in strata}
    for s in strata:
        alloc[s] += min(cap[s], int(math.floor(quota[s])))
    left = n - sum(alloc.values())
    for s in sorted(strata, key=lambda s: (-(quota[s] - math.floor(quota[s])), s)):
        if left <= 0:
            break
        if alloc[s] < int(sizes[s]):
            alloc[s] += 1
            left -= 1
    return alloc


def coding_sample_command(params_path: str | Path, n: int = 200, seed: int = 1,
                          out: str | Path | None = None) -> int:
    """``python -m analysis coding-sample PARAMS --n N``: write the sample CSV; exit code 0/2."""
    from . import paths, schemas

    try:
        params = paths.load_params(params_path)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    survey = str(params.get("survey") or Path(params_path).stem)
    try:
        dictionary = load_dictionary(paths.resolve(params.get("themes") or f"params/themes/{survey}.yaml"))
    except DictionaryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    last = paths.latest_run(paths.survey_dir(survey))  # latest.txt, or the `latest` link
    candidates = [(last or paths.survey_dir(survey) / "latest") / "data" / "proposals.parquet",
                  paths.default_run_dir(survey) / "data" / "proposals.parquet"]
    source = next((c for c in candidates if c.exists()), None)
    if source is None:
        print(f"error: no proposals.parquet for survey {survey!r} (looked in {candidates[0]} and "
              f"{candidates[1]}); run the pipeline first: python -m analysis run {params_path}", file=sys.stderr)
        return 2
    try:
        from . import codebook as cbmod

        cb = cbmod.load(paths.resolve(params["codebook"])) if params.get("codebook") else None
        proposals = schemas.read_parquet(source, "proposals", cb) if cb is not None else pd.read_parquet(source)
    except Exception as exc:  # a broken input file is the user's to fix
        print(f"error: {source}: {exc}", file=sys.stderr)
        return 2
    if not len(proposals):
        print(f"error: {source} holds no proposals", file=sys.stderr)
        return 2
    sample = coding_sample(proposals, dictionary, n=n, seed=seed)
    target = Path(out) if out else paths.survey_dir(survey) / "coding_sample.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    sample.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
    print(target)
    print(f"{len(sample)} proposals from {source}; fill the theme columns with 1 (present) or 0, then list "
          f"the file under `human_coding:` in {params_path}", file=sys.stderr)
    return 0
