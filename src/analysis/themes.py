"""Themes in the open proposals: the theme dictionary, dictionary coding, topic discovery,
representative quotes, agreement with human coding and the sample for human coders.

The dictionary (``params/themes/<survey>.yaml``) defines each theme by lemma patterns,
phrases and co-occurrences in Latvian, Russian and English (the file's header explains the
matching rules). Texts arrive here already tokenised and lemmatised (one ``(lemma, surface)``
pair per word token, see :mod:`analysis.proposals`), so the coding is pure set logic and fast.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
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

_LV_DIACRITIC = re.compile(r"[āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ]")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().lower()


def _plain(text: str) -> str:
    """Latvian diacritics removed (the form a word takes when typed without them)."""
    return text.translate(_LV_STRIP)


def _sentence_numbers(tokens: Sequence[Sequence[Any]]) -> list[int]:
    """The sentence number of each token (a sentence end ``("", "", False)`` starts the next)."""
    return list(itertools.accumulate(1 if t[0] == "" else 0 for t in tokens))


def typed_without_diacritics(surfaces: Iterable[str]) -> bool:
    """A text is 'typed without diacritics' when none of its words carries a Latvian diacritic
    letter; only then are its plain-ASCII words compared with the patterns' diacritic-free form
    (in a text typed with diacritics "parkos" is the locative of parks, not parkošana)."""
    return not _LV_DIACRITIC.search(" ".join(s for s in surfaces if s))


@functools.lru_cache(maxsize=4096)
def paradigm(core: str, lang: str) -> frozenset[str]:
    """The word forms of the lemma ``core`` itself: its hunspell paradigm (Latvian) or its
    pymorphy3 lexeme (Russian); just ``{core}`` when the word is not a dictionary headword
    (sez, pii, liepu: an acronym or a form is never widened to another word's paradigm)."""
    from . import text as tx

    out = {core}
    if lang == "lv" and not _CYRILLIC.search(core):
        flags = tx._lv_dic_flags()
        for entry in (core, core.capitalize()):
            if entry in flags:
                out.update(f.lower() for f in tx._expand_entry(tx._lv_aff(), entry, flags[entry]))
    elif lang == "ru" or _CYRILLIC.search(core):
        try:
            parses = tx._morph_ru().parse(core)
        except Exception:  # pragma: no cover - defensive
            parses = []
        for p in parses:
            if p.normal_form == core.replace("ё", "е") or p.normal_form == core:
                out.update(f.word for f in p.lexeme)
                out.update(f.word.replace("е", "ё") for f in p.lexeme if "ё" in core)
    return frozenset(out)


@dataclass(frozen=True)
class Pattern:
    """One word pattern: ``abc`` (a lemma: the word and every form of its own paradigm),
    ``abc*`` (prefix), ``*abc`` (suffix), ``*abc*`` (inside).

    A token matches when its lemma matches (exact patterns: equals the lemma) or its lower-case
    surface form matches (exact patterns: is one of ``forms``, the paradigm of the pattern's own
    lemma, see :func:`paradigm`). Keys are compared with the pattern's diacritic-free form only in
    texts typed without diacritics (:func:`typed_without_diacritics`); ``matches(key)`` without
    ``plain`` decides by the key alone (an ASCII key is compared plain).
    """

    text: str
    kind: str            # exact | prefix | suffix | infix
    core: str
    plain: str
    forms: frozenset = field(default=frozenset(), compare=False, repr=False)
    plain_forms: frozenset = field(default=frozenset(), compare=False, repr=False)

    @classmethod
    def parse(cls, raw: str, lang: str | None = None) -> "Pattern":
        text = _norm(raw)
        start, end = text.startswith("*"), text.endswith("*") and len(text) > 1
        core = text.strip("*")
        kind = {(False, False): "exact", (False, True): "prefix", (True, False): "suffix",
                (True, True): "infix"}[(start, end)]
        forms = frozenset({core})
        if kind == "exact" and lang in ("lv", "ru") and core.isalpha():
            forms = paradigm(core, lang)
        return cls(text, kind, core, _plain(core), forms, frozenset(_plain(f) for f in forms))

    def matches(self, key: str, plain: bool | None = None, surface: bool = False) -> bool:
        if plain is None:
            plain = key.isascii()
        plain = plain and key.isascii()
        core = self.plain if plain else self.core
        if self.kind == "exact":
            if surface:
                return key in (self.plain_forms if plain else self.forms) or key == core
            return key == core
        if self.kind == "prefix":
            return key.startswith(core)
        if self.kind == "suffix":
            return key.endswith(core)
        return core in key


@dataclass(frozen=True)
class Guard:
    """Context guard of an ambiguous word: it counts only when a ``requires`` word occurs within
    ``window`` words in the same sentence (if any are given) and no ``except`` word does."""

    requires: tuple[Pattern, ...] = ()
    excepts: tuple[Pattern, ...] = ()
    window: int = 5


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
    guards: dict[Pattern, Guard] = field(default_factory=dict, compare=False, repr=False)
    feeds: tuple[str, ...] = ()                  # further sectors it counts for (cross-cutting: all of them)
    windows: tuple[int, ...] = ()                # per `together` entry; 0 = the dictionary's window
    lint_ok: dict[str, tuple[frozenset[str], str]] = field(default_factory=dict, compare=False, repr=False)
    weak: frozenset = field(default=frozenset(), compare=False, repr=False)  # patterns of `lemmas` that need support

    def name(self, lang: str = "lv") -> str:
        return self.names.get(lang) or self.names["lv"]

    @property
    def sectors(self) -> tuple[str, ...]:
        """The sectors this theme counts for: its own and those it also feeds (a cross-cutting
        theme: only those it feeds; potholes feed mobility as well as urban)."""
        own = () if self.sector == CROSS_CUTTING else (self.sector,)
        return tuple(dict.fromkeys(own + self.feeds))


@dataclass
class Dictionary:
    path: Path
    survey: str
    themes: dict[str, Theme]
    settings: dict[str, Any]
    non_content: tuple[tuple[tuple[Pattern, ...], ...], ...] = ()
    weak_support: tuple[Pattern, ...] = ()

    @property
    def codes(self) -> list[str]:
        return list(self.themes)

    def sector_of(self, code: str) -> str:
        return self.themes[code].sector

    def sectors_of(self, code: str) -> tuple[str, ...]:
        return self.themes[code].sectors

    def name(self, code: str, lang: str = "lv") -> str:
        return self.themes[code].name(lang)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def frame(self, lang: str = "lv") -> pd.DataFrame:
        """theme, sector_of_theme, name: one row per theme in dictionary order."""
        return pd.DataFrame({"theme": self.codes, "sector_of_theme": [t.sector for t in self.themes.values()],
                             "name": [t.name(lang) for t in self.themes.values()]})

    def sector_coding(self, coded: pd.DataFrame) -> pd.DataFrame:
        """texts x sectors (bool): a sector is coded when any of its themes is (a cross-cutting
        theme counts for every sector it feeds)."""
        sectors = list(dict.fromkeys(s for t in self.themes.values() for s in t.sectors))
        out = pd.DataFrame(False, index=coded.index, columns=sectors)
        for code in coded.columns:
            if code in self.themes:
                for s in self.themes[code].sectors:
                    out[s] |= coded[code].astype(bool)
        return out


def empty_dictionary() -> Dictionary:
    """A dictionary with no themes: a survey whose params name no theme dictionary (stage 03
    then analyses languages and words only and says that no themes were coded)."""
    return Dictionary(path=Path(""), survey="", themes={}, settings=dict(DEFAULT_SETTINGS))


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
    "guard_window": 5, "ru_phrase_window": 4,
    "extra_stopwords": {}, "non_content": {}, "weak_support": {}, "weak_window": 8, "place_themes": [],
}

# Latvian locative endings (parkā, skolā, hallē, pieturās, parkos): a place named as where something
# happens. Only read in texts typed with diacritics (plain "parka" is also a genitive).
_LV_LOCATIVE = ("ā", "ē", "ī", "ū", "os", "ās", "ēs", "īs")


def is_locative(surface: str, lemma: str) -> bool:
    """A Latvian surface form in the locative case (by its ending; not the lemma itself)."""
    w = surface.lower()
    return w != lemma.lower() and w.endswith(_LV_LOCATIVE)


# dictionaries already loaded in this process, by (file, sha256 of its bytes, sectors): a stage's
# kernel loads its dictionary ahead (analysis.proposals.preload) and the stage takes it from here;
# a file edited since is a new key. Nothing changes a Dictionary after it is loaded.
_LOADED: dict[tuple, Dictionary] = {}


def load_dictionary(path: str | Path, sectors: Iterable[str] | None = None, lint: bool = False) -> Dictionary:
    """Read and validate a theme dictionary; raise :class:`DictionaryError` naming the file,
    the theme and the pattern at fault. ``sectors`` (e.g. the codebook's) default to the eight
    sectors of the survey form. With ``lint=True`` the patterns are also checked against the
    reference vocabulary (:func:`lint_dictionary`) and any word matched outside a pattern's
    intended lemma that the dictionary does not accept (``lint_ok``) is an error."""
    path = Path(path)
    if lint:
        return _load_dictionary(path, sectors, lint)
    try:
        key = (str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest(),
               None if sectors is None else tuple(sectors))
    except OSError:
        return _load_dictionary(path, sectors, lint)     # names the file and the fault
    if key not in _LOADED:
        if len(_LOADED) >= 4:
            _LOADED.clear()
        _LOADED[key] = _cached_dictionary(path, key[1], sectors)
    return _LOADED[key]


# A loaded dictionary (patterns parsed, lemma forms expanded) is a pure function of the file's
# bytes, the survey's sectors, this package's code and the text resources; it is kept beside the
# lemma cache (analysis.text, ``$ANALYSIS_CACHE_DIR``; ``off`` turns both off) in a file named by
# a hash of all of those, so a rerun reads it (~0.1 s) instead of building it (~1-2 s, once in the
# input check and once in stage 03). Only a dictionary that loaded without error is kept.
_DICT_CACHE_KEEP = 8


@functools.lru_cache(maxsize=1)
def _code_hash() -> str:
    from . import text

    h = hashlib.sha256(text._resource_hash().encode())
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(f"{sys.version_info[:2]} yaml={yaml.__version__}".encode())
    return h.hexdigest()[:20]


def _dictionary_cache_path(content_sha: str, sectors: Iterable[str] | None) -> Path | None:
    from . import text

    lemmas = text._cache_path()
    if lemmas is None:
        return None
    h = hashlib.sha256(f"{content_sha}|{None if sectors is None else list(sectors)}|{_code_hash()}".encode())
    return lemmas.parent / f"themes-{h.hexdigest()[:24]}.pickle"


def _cached_dictionary(path: Path, content_sha: str, sectors: Iterable[str] | None) -> Dictionary:
    from . import text

    try:
        cache = _dictionary_cache_path(content_sha, sectors)
    except Exception:  # noqa: BLE001 - no cache folder: build it
        cache = None
    got = text.read_cached(cache, Dictionary)
    if got is not None:
        got.path = path
        return got
    d = _load_dictionary(path, sectors, False)
    text.write_cached(cache, d, keep=_DICT_CACHE_KEEP)
    return d


def _load_dictionary(path: Path, sectors: Iterable[str] | None, lint: bool) -> Dictionary:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except FileNotFoundError:
        raise DictionaryError(path, "file", "not found") from None
    except yaml.YAMLError as exc:
        raise DictionaryError(path, "file", f"not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("themes"), dict) or not raw["themes"]:
        raise DictionaryError(path, "themes", "expected a mapping `themes:` of sector -> theme code -> definition")
    own = tuple(sectors or SECTORS)
    allowed = own + (CROSS_CUTTING,)
    settings = dict(DEFAULT_SETTINGS)
    extra = raw.get("settings") or {}
    if not isinstance(extra, dict):
        raise DictionaryError(path, "settings", "expected a mapping")
    unknown = sorted(set(extra) - set(DEFAULT_SETTINGS))
    if unknown:
        raise DictionaryError(path, "settings", f"unknown setting(s) {unknown}; known: {sorted(DEFAULT_SETTINGS)}")
    settings.update(extra)
    _check_extra_stopwords(path, settings["extra_stopwords"])
    non_content = []
    nc = settings["non_content"]
    if not isinstance(nc, dict):
        raise DictionaryError(path, "settings.non_content", "expected a mapping lv/ru/en -> list of phrases")
    for lang, items in _by_language(path, "settings", {"non_content": nc}, "non_content").items():
        for i, item in enumerate(items):
            at = f"settings.non_content.{lang}[{i}] {item!r}"
            if len(item.split()) == 1:
                non_content.append(((_word_pattern(path, at, item, lang, stop_ok=True),),))
            else:
                non_content.append(_phrase(path, at, item, lang))
    weak_support = []
    ws = settings["weak_support"]
    if not isinstance(ws, dict):
        raise DictionaryError(path, "settings.weak_support", "expected a mapping lv/ru/en -> list of words")
    for lang, items in _by_language(path, "settings", {"weak_support": ws}, "weak_support").items():
        for i, item in enumerate(items):
            weak_support.append(_word_pattern(path, f"settings.weak_support.{lang}[{i}] {item!r}", item, lang,
                                              stop_ok=True))
    if not isinstance(settings["weak_window"], int) or settings["weak_window"] < 0:
        raise DictionaryError(path, "settings.weak_window", "expected a number of words (0: anywhere in the text)")
    if not isinstance(settings["place_themes"], list) or not all(isinstance(x, str) for x in settings["place_themes"]):
        raise DictionaryError(path, "settings.place_themes", "expected a list of theme codes")
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
            themes[code] = _theme(path, sector, code, spec, settings, own)
    _check_not_stopped(path, themes, settings["extra_stopwords"])
    unknown_places = [c for c in settings["place_themes"] if c not in themes]
    if unknown_places:
        raise DictionaryError(path, "settings.place_themes", f"unknown theme code(s) {unknown_places}")
    d = Dictionary(path=path, survey=str(raw.get("survey", "")), themes=themes, settings=settings,
                   non_content=tuple(non_content), weak_support=tuple(dict.fromkeys(weak_support)))
    if lint:
        found = lint_dictionary(d)
        bad = found[~found["accepted"]]
        if len(bad):
            lines = "; ".join(f"theme {r.theme!r}, pattern {r.pattern!r} ({r.mode}) matches {r.word!r} "
                              f"(a form of {r.reading!r})" for r in bad.head(10).itertuples())
            raise DictionaryError(path, "lint", f"{len(bad)} word(s) matched outside the pattern's intended lemma "
                                  f"(narrow the pattern, add a guard, or accept with lint_ok + why): {lines}")
    return d


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


_THEME_KEYS = {"name", "lemmas", "weak", "phrases", "together", "except", "note", "feeds", "lint_ok"}
_WORD_KEYS = {"word", "requires", "except", "window", "lint_ok", "why"}


def _theme(path: Path, sector: str, code: Any, spec: Any, settings: Mapping[str, Any] | None = None,
           own_sectors: Sequence[str] = SECTORS) -> Theme:
    settings = settings or DEFAULT_SETTINGS
    where = f"theme {code!r} (under {sector})"
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise DictionaryError(path, where, "a theme code is lower-case letters, digits and '_' (e.g. rental_shortage)")
    if not isinstance(spec, dict):
        raise DictionaryError(path, where, "expected a mapping with name, lemmas, phrases, together")
    unknown = sorted(set(spec) - _THEME_KEYS)
    if unknown:
        raise DictionaryError(path, where, f"unknown key(s) {unknown}; expected name, lemmas, phrases, together, "
                                           "except, feeds, note")
    names = spec.get("name")
    if not isinstance(names, dict) or not isinstance(names.get("lv"), str) or not names["lv"].strip():
        raise DictionaryError(path, where, "needs name: {lv: ..., en: ...} (a Latvian name at least)")
    feeds = spec.get("feeds", None)
    if sector == CROSS_CUTTING and feeds is None:
        raise DictionaryError(path, where, "a cross-cutting theme needs feeds: [sector, ...] (the sectors it "
                                           f"counts for; one or more of {', '.join(own_sectors)}; [] with a note "
                                           "for a place or a channel that is no topic of its own)")
    feeds = feeds or []
    if not isinstance(feeds, list) or not all(isinstance(f, str) for f in feeds):
        raise DictionaryError(path, f"{where}, feeds", "expected a list of sectors")
    if sector == CROSS_CUTTING and not feeds and not str(spec.get("note") or "").strip():
        raise DictionaryError(path, f"{where}, feeds", "an empty feeds list needs a note saying why the theme "
                                                       "counts for no sector")
    bad = [f for f in feeds if f not in own_sectors]
    if bad:
        raise DictionaryError(path, f"{where}, feeds", f"unknown sector(s) {bad}; expected {', '.join(own_sectors)}")
    lemmas = _by_language(path, where, spec, "lemmas", entries=True)
    weak_lemmas = _by_language(path, where, spec, "weak", entries=True)
    phrases = _by_language(path, where, spec, "phrases")
    if not any(lemmas.values()) and not any(phrases.values()) and not spec.get("together") and not any(
            weak_lemmas.values()):
        raise DictionaryError(path, where, "defines no lemmas, phrases or together entries")
    lemma_patterns: list[Pattern] = []
    guards: dict[Pattern, Guard] = {}
    lint_ok: dict[str, tuple[frozenset[str], str]] = {}
    seen: dict[tuple[str, str], str] = {}
    weak: set[Pattern] = set()
    for block, lang, i, item in [("lemmas", lg, i, x) for lg, xs in lemmas.items() for i, x in enumerate(xs)] + [
            ("weak", lg, i, x) for lg, xs in weak_lemmas.items() for i, x in enumerate(xs)]:
        if True:
            word = item if isinstance(item, str) else item.get("word")
            at = f"{where}, {block}.{lang}[{i}] {word!r}"
            if not isinstance(item, str):
                _check_word_entry(path, at, item)
            pat = _word_pattern(path, at, word, lang)
            if (lang, pat.text) in seen:
                raise DictionaryError(path, at, f"duplicate pattern (also {seen[lang, pat.text]})")
            seen[lang, pat.text] = f"{block}.{lang}[{i}]"
            lemma_patterns.append(pat)
            if block == "weak":
                weak.add(pat)
            if isinstance(item, dict):
                req = tuple(_word_pattern(path, f"{at}, requires {w!r}", w, "xx", stop_ok=True)
                            for w in item.get("requires") or [])
                exc = tuple(_word_pattern(path, f"{at}, except {w!r}", w, "xx", stop_ok=True)
                            for w in item.get("except") or [])
                if req or exc:
                    guards[pat] = Guard(req, exc, int(item.get("window") or settings["guard_window"]))
                if "lint_ok" in item:
                    lint_ok[pat.text] = (frozenset(_norm(w) for w in item["lint_ok"]), str(item["why"]))
    extra_ok = spec.get("lint_ok") or []
    if not isinstance(extra_ok, list) or not all(
            isinstance(e, dict) and isinstance(e.get("pattern"), str) and isinstance(e.get("words"), list)
            and isinstance(e.get("why"), str) and e["why"].strip() for e in extra_ok):
        raise DictionaryError(path, f"{where}, lint_ok", "expected a list of {pattern: ..., words: [...], why: ...} "
                                                         "(accepted lint findings of `together` parts)")
    for e in extra_ok:
        key = _norm(e["pattern"])
        words, why = lint_ok.get(key, (frozenset(), ""))
        lint_ok[key] = (words | frozenset(_norm(w) for w in e["words"]), why or e["why"])
    phrase_list = []
    together = []
    windows = []
    stop_ru = {_norm(w) for w in (settings.get("extra_stopwords") or {}).get("ru", [])}
    for lang, items in phrases.items():
        for i, item in enumerate(items):
            ph = _phrase(path, f"{where}, phrases.{lang}[{i}] {item!r}", item, lang)
            content = tuple(w for w in ph if not any(p.kind == "exact" and (_is_stopword(p.core, "ru") or p.core in stop_ru)
                                                     for p in w))
            if lang == "ru" and len(content) >= 2:
                # Russian word order is free: the content words near each other, in any order
                together.append(content)
                windows.append(int(settings["ru_phrase_window"]))
            else:
                phrase_list.append(ph)
                if lang == "ru" and len(ph) == 2 and ph[::-1] != ph:
                    # one content word and a function word ("нет работы"): either order ("работы нет")
                    phrase_list.append(ph[::-1])
    raw_together = spec.get("together") or []
    if not isinstance(raw_together, list):
        raise DictionaryError(path, where, "together: expected a list of [part, part, ...] entries")
    for i, entry in enumerate(raw_together):
        together.append(_together(path, f"{where}, together[{i}]", entry))
        windows.append(0)
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
                 sources={"lemmas": {k: [x if isinstance(x, str) else x["word"] for x in v] for k, v in lemmas.items()},
                          "weak": {k: [x if isinstance(x, str) else x["word"] for x in v] for k, v in weak_lemmas.items()},
                          "phrases": phrases, "together": raw_together},
                 guards=guards, feeds=tuple(feeds), windows=tuple(windows), lint_ok=lint_ok,
                 weak=frozenset(weak))


def _check_word_entry(path, at, item) -> None:
    if not isinstance(item.get("word"), str):
        raise DictionaryError(path, at, "a guarded word is a mapping with word: ... (and requires/except/window/"
                                        "lint_ok/why)")
    unknown = sorted(set(item) - _WORD_KEYS)
    if unknown:
        raise DictionaryError(path, at, f"unknown key(s) {unknown}; expected {', '.join(sorted(_WORD_KEYS))}")
    for key in ("requires", "except", "lint_ok"):
        v = item.get(key)
        if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
            raise DictionaryError(path, f"{at}, {key}", "expected a list of words")
    w = item.get("window")
    if w is not None and (not isinstance(w, int) or w < 1):
        raise DictionaryError(path, f"{at}, window", "expected a positive number of words")
    if "lint_ok" in item and not (isinstance(item.get("why"), str) and item["why"].strip()):
        raise DictionaryError(path, f"{at}, lint_ok", "accepting lint findings needs why: <the reason>")


def _by_language(path, where, spec, key, entries: bool = False) -> dict[str, list[Any]]:
    block = spec.get(key) or {}
    if not isinstance(block, dict):
        raise DictionaryError(path, f"{where}, {key}", "expected a mapping language -> list (lv, ru, en)")
    out = {}
    for lang, items in block.items():
        if lang not in LANGS:
            raise DictionaryError(path, f"{where}, {key}.{lang}", f"unknown language; expected one of {', '.join(LANGS)}")
        ok = (lambda x: isinstance(x, str) or (isinstance(x, dict) and "word" in x)) if entries else (
            lambda x: isinstance(x, str))
        if not isinstance(items, list) or not all(ok(x) for x in items):
            raise DictionaryError(path, f"{where}, {key}.{lang}", "expected a list of strings"
                                  + (" or {word: ..., requires: [...]} mappings" if entries else ""))
        out[lang] = items
    return out


def _check_script(path, at, text, lang) -> None:
    if lang == "ru" and _LATIN.search(text) and not _CYRILLIC.search(text):
        raise DictionaryError(path, at, "a Russian pattern is written in Latin letters")
    if lang in ("lv", "en") and _CYRILLIC.search(text):
        raise DictionaryError(path, at, f"a {lang} pattern is written in Cyrillic letters")


def _word_pattern(path, at, raw: str, lang: str, stop_ok: bool = False) -> Pattern:
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
    if not stop_ok and "*" not in text and _is_stopword(core, lang):
        raise DictionaryError(path, at, f"{core!r} is a {lang} stopword: it is removed before coding and would never count")
    if lang == "xx":
        lang = "ru" if _CYRILLIC.search(core) else "lv"
    return Pattern.parse(text, lang if lang in ("lv", "ru") else None)


def _is_stopword(word: str, lang: str) -> bool:
    from . import text as tx

    return lang in ("lv", "ru", "en") and word in tx.stopwords(lang)


def _phrase(path, at, raw: str, lang: str) -> tuple[tuple[Pattern, ...], ...]:
    """Words of a phrase as written; each word matches its own paradigm and, where the written
    form is a form of a lemma (sabiedriskais -> sabiedrisks), that lemma."""
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
            word = _norm(t)
            alts = [Pattern.parse(word, lang if lang in ("lv", "ru") else None)]
            if lang in ("lv", "ru"):
                lem = _norm(tx.lemmatize(t, lang, restore=False))
                if lem and lem != word and word in paradigm(lem, lang):
                    alts.append(Pattern.parse(lem, lang))
            out.append(tuple(alts))
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


@functools.lru_cache(maxsize=1)
def _attested_sets() -> tuple[frozenset[str], frozenset[str]]:
    from . import text as tx

    sm = tx._sm_dict()
    return frozenset(k.lower() for k in sm), frozenset(v.lower() for v in sm.values())


def _attested(surface: str, lemma: str) -> bool:
    """The word form, or the lemma the lemmatiser made of it, is attested in simplemma's
    (corpus-derived) Latvian data: a word of its own, not a typing variant of a pattern."""
    forms, lemmas = _attested_sets()
    return surface in forms or (lemma != surface and lemma in lemmas)


class _Matcher:
    """Every dictionary pattern is an 'atom'; each distinct key (lemma or surface, in a text typed
    with or without diacritics) is resolved once to the atoms it matches, so coding a text costs a
    few set operations per token."""

    def __init__(self, dictionary: Dictionary):
        self.dictionary = dictionary
        self.codes = dictionary.codes
        self.window = int(dictionary.settings.get("together_window", DEFAULT_SETTINGS["together_window"]))
        atoms: dict[Any, int] = {}

        def atom(p: Pattern, guard: Guard | None = None) -> int:
            return atoms.setdefault((p, guard) if guard else p, len(atoms))

        def seq(phrase) -> tuple[frozenset[int], ...]:
            return tuple(frozenset(atom(p) for p in word) for word in phrase)

        self.lemma_atoms: list[tuple[int, ...]] = []
        self.phrases: list[tuple[int, tuple[frozenset[int], ...]]] = []      # (theme, words)
        self.together: list[tuple[int, tuple[frozenset[int], ...], int]] = []  # (theme, parts, window)
        self.excepts: dict[int, list[tuple[frozenset[int], ...]]] = {}
        self.guards: dict[int, tuple[frozenset[int], frozenset[int], int]] = {}   # atom -> (requires, except, window)
        for ti, th in enumerate(dictionary.themes.values()):
            ats = []
            for p in th.lemmas:
                g = th.guards.get(p)
                a = atom(p, g)
                ats.append(a)
                if g:
                    self.guards[a] = (frozenset(atom(q) for q in g.requires), frozenset(atom(q) for q in g.excepts),
                                      g.window)
            self.lemma_atoms.append(tuple(ats))
            for ph in th.phrases:
                self.phrases.append((ti, seq(ph)))
            windows = th.windows or (0,) * len(th.together)
            for tg, w in zip(th.together, windows):
                self.together.append((ti, seq(tg), w or self.window))
            if th.excepts:
                self.excepts[ti] = [seq(ph) for ph in th.excepts]
        self.non_content = [seq(ph) for ph in dictionary.non_content]
        # weak words: (atom, theme) pairs that count only with support (see hits)
        self.weak_pairs: frozenset[tuple[int, int]] = frozenset(
            (atom(p, th.guards.get(p)), ti) for ti, th in enumerate(dictionary.themes.values()) for p in th.weak)
        self.support = frozenset(atom(p) for p in dictionary.weak_support)
        self.weak_window = int(dictionary.settings.get("weak_window", DEFAULT_SETTINGS["weak_window"]))
        # place themes: a word of theirs in the Latvian locative (parkā, skolā, sporta hallē) names where
        # something happens and counts only with support, like a weak word
        self.place_themes = frozenset(i for i, c in enumerate(self.codes)
                                      if c in (dictionary.settings.get("place_themes") or ()))
        self.theme_sectors = [frozenset(th.sectors) for th in dictionary.themes.values()]
        self.patterns = [k if isinstance(k, Pattern) else k[0] for k in atoms]
        self.atom_theme_lemma: dict[int, list[int]] = {}
        for ti, ats in enumerate(self.lemma_atoms):
            for a in ats:
                self.atom_theme_lemma.setdefault(a, []).append(ti)
        self.guarded = frozenset(self.guards)
        self.first_word: dict[int, list[int]] = {}
        for k, (_, words) in enumerate(self.phrases):
            for a in words[0]:
                self.first_word.setdefault(a, []).append(k)
        self.together_atoms = frozenset(a for _, parts, _ in self.together for part in parts for a in part)
        self.together_index: dict[int, list[int]] = {}
        for k, (_, parts, _) in enumerate(self.together):
            for a in frozenset(a for part in parts for a in part):
                self.together_index.setdefault(a, []).append(k)
        self.except_first = frozenset(a for phs in self.excepts.values() for ph in phs for a in ph[0])
        # except phrases by the atoms of their first word (each (theme, words) once per atom)
        self.except_index: dict[int, list[tuple[int, tuple[frozenset[int], ...]]]] = {}
        for ti, phrases in self.excepts.items():
            for words in phrases:
                for a in words[0]:
                    self.except_index.setdefault(a, []).append((ti, words))
        self.non_content_first = frozenset(a for ph in self.non_content for a in ph[0])
        # lookup tables by kind: (lemma keys | surface keys) x (with diacritics | plain)
        self.exact: dict[str, list[int]] = {}
        self.exact_plain: dict[str, list[int]] = {}
        self.forms: dict[str, list[int]] = {}
        self.forms_plain: dict[str, list[int]] = {}
        self.prefix: dict[str, list[int]] = {}
        self.prefix_plain: dict[str, list[int]] = {}
        self.other: list[tuple[Pattern, int]] = []
        for key, a in atoms.items():
            p = key if isinstance(key, Pattern) else key[0]
            if p.kind == "exact":
                self.exact.setdefault(p.core, []).append(a)
                self.exact_plain.setdefault(p.plain, []).append(a)
                for f in p.forms | {p.core}:
                    self.forms.setdefault(f, []).append(a)
                for f in p.plain_forms | {p.plain}:
                    self.forms_plain.setdefault(f, []).append(a)
            elif p.kind == "prefix":
                self.prefix.setdefault(p.core, []).append(a)
                self.prefix_plain.setdefault(p.plain, []).append(a)
            else:
                self.other.append((p, a))
        self.max_prefix = max((len(k) for k in self.prefix), default=0)
        self._key_cache: dict[tuple[str, bool, bool], frozenset[int]] = {}
        self._tok_cache: dict[tuple[str, str, bool], frozenset[int]] = {}
        self._themes_cache: dict[frozenset[int], tuple[int, ...]] = {}
        self._phrase_cache: dict[frozenset[int], tuple[int, ...]] = {}     # atoms -> phrases starting there

    def key_atoms(self, key: str, plain: bool | None = None, surface: bool = True) -> frozenset[int]:
        """Atoms matching one key. ``plain``: the text is typed without diacritics (None: decide
        by the key, as for a single term); ``surface``: the key is a word form (exact patterns
        then match any form of their paradigm), else a lemma (exact patterns: the lemma itself)."""
        if not key:
            return frozenset()
        if plain is None:
            plain = key.isascii()
        ck = (key, plain, surface)
        got = self._key_cache.get(ck)
        if got is not None:
            return got
        plain = plain and key.isascii()
        if surface:
            exact = self.forms_plain if plain else self.forms
        else:
            exact = self.exact_plain if plain else self.exact
        prefix = self.prefix_plain if plain else self.prefix
        found: set[int] = set(exact.get(key, ()))
        for n in range(1, min(len(key), self.max_prefix) + 1):
            hit = prefix.get(key[:n])
            if hit:
                found.update(hit)
        for p, a in self.other:
            if p.matches(key, plain):
                found.add(a)
        res = frozenset(found)
        self._key_cache[ck] = res
        return res

    def token_atoms(self, tok: Sequence[Any], plain: bool | None = None) -> frozenset[int]:
        """Atoms of one token. In a text typed without diacritics a pattern that matches the surface
        but not the lemma (a wildcard, or any pattern compared without diacritics) does not
        count when the surface or its restored lemma is an attested word of its own (simplemma's
        corpus-derived forms): then the restored lemma decides (velosipedu -> velosipēds counts for
        velo*; velos -> vēlēties does not, parkos -> parks is no parkoš*); an unattested
        restoration (parkosanas -> pārkošana, a dictionary-only guess) does not block it."""
        lemma, surface = tok[0], tok[1]
        if plain is None:
            plain = typed_without_diacritics([surface])
        key = (lemma, surface, plain)
        got = self._tok_cache.get(key)
        if got is None:
            by_lemma = self.key_atoms(lemma, plain, surface=False)
            if surface == lemma:
                got = by_lemma | self.key_atoms(surface, plain, surface=True)
            else:
                by_surface = self.key_atoms(surface, plain, surface=True)
                if plain and surface.isascii() and by_surface - by_lemma and _attested(surface, lemma):
                    # matched only as a diacritic-free spelling of a word the lemmatiser knows as
                    # another word: the restored lemma decides
                    # A wildcard matched as typed stands when the typed word is itself a form of
                    # the restored lemma (darba of darbs for darba*), not when restoring made it
                    # another word (velos -> vēlos for velo*).
                    as_typed = self.key_atoms(surface, False, surface=True)
                    own_form = surface in paradigm(lemma, "lv")
                    by_surface = by_surface - frozenset(
                        a for a in by_surface - by_lemma
                        if a not in as_typed or (self.patterns[a].kind != "exact" and not own_form))
                got = by_lemma | by_surface
            self._tok_cache[key] = got
        return got

    def _lemma_themes(self, atoms: frozenset[int]) -> tuple[int, ...]:
        got = self._themes_cache.get(atoms)
        if got is None:
            got = tuple(sorted({ti for a in atoms if a not in self.guarded for ti in self.atom_theme_lemma.get(a, ())}))
            self._themes_cache[atoms] = got
        return got

    @staticmethod
    def _find(seq: list[frozenset[int]], words: tuple[frozenset[int], ...], start: int) -> bool:
        if start + len(words) > len(seq):
            return False
        for j, word in enumerate(words):
            if seq[start + j].isdisjoint(word):
                return False
        return True

    def _masked(self, seq: list[frozenset[int]]) -> dict[int, set[int]]:
        """Positions covered by a theme's `except` phrases (idioms such as 'vienas pieturas
        aģentūra'): they do not count for that theme."""
        out: dict[int, set[int]] = {}
        for i, atoms in enumerate(seq):
            if atoms.isdisjoint(self.except_first):
                continue
            seen: set[int] = set()
            for a in atoms:
                for ti, words in self.except_index.get(a, ()):
                    if id(words) in seen:
                        continue
                    seen.add(id(words))
                    if self._find(seq, words, i):
                        out.setdefault(ti, set()).update(range(i, i + len(words)))
        return out

    def _guard_ok(self, a: int, i: int, seq: list[frozenset[int]], sentence: list[int]) -> bool:
        req, exc, w = self.guards[a]
        lo, hi = max(0, i - w), min(len(seq), i + w + 1)
        near = [seq[j] for j in range(lo, hi) if j != i and sentence[j] == sentence[i]]
        if exc and any(not s.isdisjoint(exc) for s in near):
            return False
        return not req or any(not s.isdisjoint(req) for s in near)

    def hits(self, tokens: Sequence[Sequence[Any]]) -> np.ndarray:
        """Pattern hits per theme in one text: matching content tokens + phrases + co-occurrences.

        A token is ``(lemma, surface)`` or ``(lemma, surface, is_content, ...)``; stopword tokens
        (is_content False) take part only in phrases; ``("", "", False)`` marks a sentence end and
        a token with is_content None (punctuation inside a sentence) is ignored. Words of
        greetings and signatures (the dictionary's ``non_content`` phrases) never count."""
        out = np.zeros(len(self.codes), dtype=np.int32)
        if any(len(t) > 2 and t[2] is None for t in tokens):     # punctuation markers: not words
            tokens = [t for t in tokens if len(t) < 3 or t[2] is not None]
        plain = typed_without_diacritics(t[1] for t in tokens)
        cache = self._tok_cache
        seq = [cache.get((t[0], t[1], plain)) or self.token_atoms(t, plain) for t in tokens]
        if self.non_content_first and any(not s.isdisjoint(self.non_content_first) for s in seq):
            drop: set[int] = set()
            for i, atoms in enumerate(seq):
                if not atoms.isdisjoint(self.non_content_first):
                    for words in self.non_content:
                        if self._find(seq, words, i):
                            drop.update(range(i, i + len(words)))
            seq = [frozenset() if i in drop else s for i, s in enumerate(seq)]
        masked = self._masked(seq) if self.except_first else {}
        found: list[tuple[int, frozenset[int]]] = []
        sentence: list[int] | None = None
        weak_hits: list[tuple[int, int, str]] = []     # (theme, position, lemma) of words that need support
        for i, (tok, atoms) in enumerate(zip(tokens, seq)):
            if not atoms or (len(tok) > 2 and not tok[2]):
                continue
            found.append((i, atoms))
            themes = self._lemma_themes(atoms)
            ok_guarded = atoms & self.guarded
            if ok_guarded:
                if sentence is None:
                    sentence = _sentence_numbers(tokens)
                ok_guarded = frozenset(a for a in ok_guarded if self._guard_ok(a, i, seq, sentence))
                extra = {ti for a in ok_guarded for ti in self.atom_theme_lemma.get(a, ())}
                themes = tuple(sorted(set(themes) | extra))
            for ti in themes:
                if ti in masked and i in masked[ti]:
                    continue
                if (self.weak_pairs and all((a, ti) in self.weak_pairs for a in atoms
                                            if ti in self.atom_theme_lemma.get(a, ())
                                            and (a not in self.guarded or a in ok_guarded))) or (
                        ti in self.place_themes and not plain and is_locative(tok[1], tok[0])):
                    weak_hits.append((ti, i, tok[0]))
                    continue
                out[ti] += 1
        if not found:
            return out
        if self.phrases:
            for i, atoms in enumerate(seq):
                if not atoms:
                    continue
                ks = self._phrase_cache.get(atoms)
                if ks is None:
                    ks = self._phrase_cache[atoms] = tuple(sorted({k for a in atoms for k in self.first_word.get(a, ())}))
                for k in ks:
                    ti, words = self.phrases[k]
                    if (ti not in masked or i not in masked[ti]) and self._find(seq, words, i):
                        out[ti] += 1
        present = frozenset().union(*(atoms for _, atoms in found)) & self.together_atoms if self.together else ()
        if present:
            sentence = _sentence_numbers(tokens)
            for k in sorted({k for a in present for k in self.together_index[a]}):
                ti, parts, window = self.together[k]
                if any(part.isdisjoint(present) for part in parts):
                    continue
                skip = masked.get(ti, ())
                where = [[i for i, atoms in found if i not in skip and not atoms.isdisjoint(part)] for part in parts]
                if all(where) and self._near(where, sentence, window):
                    out[ti] += 1
        if weak_hits:
            self._resolve_weak(out, weak_hits, tokens, seq)
        return out

    def _resolve_weak(self, out: np.ndarray, weak_hits: list[tuple[int, int, str]], tokens, seq) -> None:
        """A weak word (a theme's `weak:` list: a word residents use for the topic that news and
        fiction use in passing or in another sense) counts only with support: another word of
        the same sector in the text (a strong one, or a second, different weak word), or a word
        of the dictionary's `weak_support` (what a proposal asks for or judges: vajag, trūkst,
        slikts, нужно, ...) within `weak_window` words in the same sentence (0: anywhere in the
        text)."""
        strong = {s for ti in np.flatnonzero(out) for s in self.theme_sectors[ti]}
        weak_lemmas: dict[str, set[str]] = {}
        for ti, _, lem in weak_hits:
            for s in self.theme_sectors[ti]:
                weak_lemmas.setdefault(s, set()).add(lem)
        sentence = None
        for ti, i, _ in weak_hits:
            secs = self.theme_sectors[ti]
            ok = bool(secs & strong) or any(len(weak_lemmas.get(s, ())) >= 2 for s in secs)
            if not ok and self.support:
                if sentence is None:
                    sentence = _sentence_numbers(tokens)
                w = self.weak_window
                if w:
                    ok = any(j != i and sentence[j] == sentence[i] and not seq[j].isdisjoint(self.support)
                             for j in range(max(0, i - w), min(len(seq), i + w + 1)))
                else:
                    ok = any(j != i and not s.isdisjoint(self.support) for j, s in enumerate(seq))
            if ok:
                out[ti] += 1

    def _near(self, where: list[list[int]], sentence: np.ndarray, window: int | None = None) -> bool:
        """Some word of the first part has a word of every other part in the same sentence,
        at most `window` words away (NEAR/w), in any order; one word does not serve two parts."""
        window = self.window if window is None else window
        for p in where[0]:
            if all(any(q != p and abs(q - p) <= window and sentence[q] == sentence[p] for q in other)
                   for other in where[1:]):
                return True
        return False

    def term_themes(self, key: str) -> set[int]:
        """Themes whose word patterns (lemmas or together parts) match a single term."""
        atoms = self.key_atoms(key, None, surface=True) | self.key_atoms(key, None, surface=False)
        out = {ti for a in atoms for ti in self.atom_theme_lemma.get(a, ())}
        for ti, parts, _ in self.together:
            if any(not atoms.isdisjoint(part) for part in parts):
                out.add(ti)
        return out


# ====================================================================== lint

@functools.lru_cache(maxsize=1)
def _lint_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The reference vocabulary of the lint: every word form of the bundled Latvian hunspell
    dictionary (each .dic entry expanded by its suffix rules, one level; prefixes such as ne-
    left out), sorted; and the same forms paired with their diacritic-free spelling, sorted by
    it (keys, originals). About 1.2 million forms, built in a few seconds, kept in memory once
    per process."""
    from . import text as tx

    sfx = tx._lv_aff()[0]
    forms: set[str] = set()
    for word, flags in tx._lv_dic_flags().items():
        if "{" not in flags:
            forms.add(word.lower())
        for form, cont, _ in tx._apply_sfx(sfx, word, flags):
            if "|" not in cont and "{" not in cont:
                forms.add(form.lower())
    ordered = tuple(sorted(forms))
    plain = sorted((_plain(w), w) for w in ordered)
    return ordered, tuple(k for k, _ in plain), tuple(w for _, w in plain)


@functools.lru_cache(maxsize=200_000)
def _readings(word: str) -> frozenset[str]:
    """The dictionary entries a Latvian word form can be a form of (the stems of its hunspell
    analyses; what analysis.text.lemmatize makes of it when hunspell does not know it)."""
    from . import text as tx

    out = {_norm(a.stem) for a in tx._hs_analyses(word) if a.stem and not a.stem[:1].isupper()}
    if not out:
        out.add(_norm(tx.lemmatize(word, "lv", restore=False)))
    return frozenset(r for r in out if r)


def _vocab_matches(p: Pattern, plain: bool) -> list[str]:
    """Words (plain mode: diacritic-free keys) of the reference vocabulary a pattern matches
    as a surface form."""
    import bisect

    forms, keys, _ = _lint_vocabulary()
    if not plain:
        if p.kind == "exact":
            return sorted(f for f in p.forms if f)
        if p.kind == "prefix":
            i = bisect.bisect_left(forms, p.core)
            out = []
            while i < len(forms) and forms[i].startswith(p.core):
                out.append(forms[i])
                i += 1
            return out
        return [f for f in forms if p.core in f] if p.kind == "infix" else [f for f in forms if f.endswith(p.core)]
    if p.kind == "exact":
        return sorted(p.plain_forms)
    if p.kind == "prefix":
        i = bisect.bisect_left(keys, p.plain)
        out = []
        while i < len(keys) and keys[i].startswith(p.plain):
            out.append(keys[i])
            i += 1
        return sorted(set(out))
    if p.kind == "infix":
        return sorted({k for k in keys if p.plain in k})
    return sorted({k for k in keys if k.endswith(p.plain)})


@functools.lru_cache(maxsize=2048)
def _plain_index(p: Pattern) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for f in sorted(p.forms):
        out.setdefault(_plain(f), []).append(f)
    return {k: tuple(v) for k, v in out.items()}


def _originals(key: str, p: Pattern) -> list[str]:
    """The spellings with diacritics of a diacritic-free key: vocabulary forms and forms of the
    pattern's own paradigm (which includes prefixed forms such as jāpalīdz)."""
    import bisect

    _, keys, originals = _lint_vocabulary()
    i = bisect.bisect_left(keys, key)
    out = list(_plain_index(p).get(key, ()))
    while i < len(keys) and keys[i] == key:
        if originals[i] not in out:
            out.append(originals[i])
        i += 1
    return out or [key]


def _same_root(reading: str, core: str) -> bool:
    """A reading derived from the pattern's own root (šķirot for šķirošan*, atbalstīt for
    atbalsts, divritenis for divriteņ*): the diacritic-free spellings share at least four
    letters and at most two letters of the shorter word differ."""
    a, b = _plain(reading), _plain(core)
    if a.startswith("ne") and not b.startswith("ne"):       # a negated form (nesasniedz: sasniegt)
        a = a[2:]
    elif b.startswith("ne") and not a.startswith("ne"):
        b = b[2:]
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n >= 4 and n >= min(len(a), len(b)) - 2


LINT_COLUMNS = ["theme", "pattern", "mode", "word", "reading", "accepted", "why"]


def lint_dictionary(dictionary: Dictionary) -> pd.DataFrame:
    """Words of the reference vocabulary (:func:`_lint_vocabulary`) that a Latvian word pattern
    (lemmas and `together` parts) would match outside its intended lemma, so that ambiguity is
    seen before it costs anything.

    For every pattern and every vocabulary form it matches as a surface form, each reading of
    the form (:func:`_readings`) that the pattern would not match as a lemma is a finding: in
    texts typed with diacritics (mode ``diacritics``: kāpa is also the past of kāpt, so the lemma
    kāpa matches a verb form) and in texts typed without them (mode ``plain``: "parkos" is both
    a plain spelling of parkoš* where it is not an attested word of its own; where it is, the
    restored lemma decides, as in the matcher). A finding is accepted when the pattern
    lists the word or the reading under ``lint_ok`` (with ``why``) or carries a context guard.
    Readings of the pattern's own root (:func:`_same_root`: šķirot for šķirošan*) are no finding.
    Returns theme, pattern, mode, word, reading, accepted, why (sorted)."""
    from . import text as tx

    rows = []
    for code, theme in dictionary.themes.items():
        lv_texts = {_norm(w) for w in theme.sources.get("lemmas", {}).get("lv", [])}
        pats = [p for p in theme.lemmas if p.text in lv_texts]
        pats += [p for tg in theme.together for part in tg for p in part if not _CYRILLIC.search(p.core)]
        for p in dict.fromkeys(pats):
            guard = theme.guards.get(p)
            ok_words, why = theme.lint_ok.get(p.text, (frozenset(), ""))
            for plain in (False, True):
                for key in _vocab_matches(p, plain):
                    found = []
                    for w in (_originals(key, p) if plain else [key]):
                        for r in sorted(_readings(w) | ({p.core} if w in p.forms else set())):
                            if p.matches(r, False, surface=False) or _same_root(r, p.core):
                                continue
                            if p.kind in ("infix", "suffix") and p.matches(_plain(r), True):
                                continue        # kamermūziķis for *mūzik*: the same word family
                            if plain and r.isascii() and p.matches(r, True, surface=False):
                                continue
                            found.append((w, r))
                    if not found or (plain and _attested(key, _norm(tx.lemmatize(key, "lv", restore=True)))):
                        continue        # an attested word of its own: the restored lemma decides
                    for w, r in found:
                        listed = bool({key, w, r} & ok_words)
                        rows.append({"theme": code, "pattern": p.text, "mode": "plain" if plain else "diacritics",
                                     "word": key, "reading": r, "accepted": listed or bool(guard),
                                     "why": why if listed else ("context guard" if guard else "")})
    out = pd.DataFrame(rows, columns=LINT_COLUMNS).drop_duplicates()
    return out.sort_values(["theme", "pattern", "mode", "word", "reading"], kind="mergesort").reset_index(drop=True)


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
    # the texts' own lists (read, never changed): a copy per text costs about 0.5 GB at 10^6 texts
    docs = content_lemmas if isinstance(content_lemmas, list) else list(content_lemmas)
    nonempty = [i for i, d in enumerate(docs) if len(d)]
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
    weights[[i for i, d in enumerate(docs) if not len(d)]] = 0.0
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
        best = int(np.argmax(per_theme)) if per_theme.size and per_theme.max() > 0 else -1
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
            if counts.size and counts.max() > 0:
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

        def key(i, w=w):
            return (not ok_len[i], -round(float(w[i]), 10), str(ids_arr[i]))

        def pick(order):
            seen_text: set[str] = set()
            got: list[tuple[int, int]] = []          # (position in order, text)
            for pos, i in enumerate(order):
                k = " ".join(str(texts[i]).lower().split())
                if k in seen_text:
                    continue
                seen_text.add(k)
                got.append((pos, i))
                if len(got) >= per_topic:
                    break
            return got

        got = None
        # at scale only the heaviest texts of readable length can be among the first few: sort
        # those exactly (the same key) and use them when the quotes are found before the last
        # text at or above the cut; every other text sorts after all of those (its weight is
        # more than the rounding apart), so the result is that of sorting every candidate
        good = cand[ok_len[cand]]
        m = max(64, 50 * per_topic)
        if len(good) > 4 * m:
            cut = np.partition(w[good], len(good) - m)[len(good) - m]
            sub = good[w[good] >= cut - 1e-9]
            order = sorted(sub.tolist(), key=key)
            last_above = max(pos for pos, i in enumerate(order) if w[i] >= cut)
            got = pick(order)
            if len(got) < per_topic or got[-1][0] > last_above:
                got = None
        if got is None:
            got = pick(sorted(cand.tolist(), key=key))
        for rank, (_, i) in enumerate(got, start=1):
            rows.append({"topic": t + 1, "rank": rank, "proposal_id": str(ids_arr[i]), "text": texts[i]})
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
    bad_len = ~((lengths >= chars[0]) & (lengths <= chars[1]))
    off_mid = np.abs(lengths - mid)
    # the proposal id's place in code-point order (Python's str order; ids are unique), so
    # np.lexsort gives exactly the order of sorting by (bad length, -hits, themes, |length - middle|, id)
    pid_rank = np.empty(len(pid), dtype=np.int64)
    if len(pid):
        pid_rank[np.argsort(pid.astype(str), kind="stable")] = np.arange(len(pid))
    rows = []
    for ti, theme in enumerate(hits.columns):
        cand = np.flatnonzero((h[:, ti] > 0) & allowed)
        order = cand[np.lexsort((pid_rank[cand], off_mid[cand], n_themes[cand], -h[cand, ti].astype(np.int64),
                                 bad_len[cand]))].tolist()
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
    ids = set(quotes["proposal_id"].astype(str)) if len(quotes) else set()
    # only the quoted rows are looked at (one hash look-up per proposal, no index of them all)
    quoted = proposals["proposal_id"].astype(str).isin(ids).to_numpy() if ids else np.zeros(len(proposals), bool)
    stray = sorted(ids - set(proposals["proposal_id"].astype(str).to_numpy()[quoted]))
    if stray:
        raise AssertionError(f"quotes from proposals that were not analysed: {stray[:5]}")
    if len(quotes):
        resp = (set(proposals["respondent_id"].astype(str).to_numpy()[quoted])
                if "respondent_id" in proposals else set())
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
