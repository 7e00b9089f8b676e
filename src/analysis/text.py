"""Text layer: language id, tokens, lemmas, diacritic restoration, stopwords,
keywords, keyness and collocations.

Everything here runs offline. The language resources and their licences are listed in
``resources/LICENCES.md``:

- language id: py3langid, restricted to the survey's form languages plus Latvian, Russian
  and English (:func:`candidate_languages`); a text in a language without a lemmatiser
  (anything but Latvian and Russian) is counted on its lower-cased surface forms, with
  stopwords removed only where a list exists (:func:`surface_languages`);
- tokens: NLTK's regular-expression tokeniser's pattern and engine (``regex``), without NLTK;
- Latvian lemmas: simplemma's Latvian dictionary and the Latvian hunspell dictionary
  (vendored in ``resources/hunspell/``) through chunspell, combined by the rules in
  :func:`_lv_lemma_uncached`; diacritic restoration uses the same hunspell dictionary
  (a diacritic-free copy of it is written to a temporary folder on first use);
- Russian lemmas: pymorphy3 with its Russian dictionaries;
- stopwords: vendored lists in ``resources/``.

Heavy resources are loaded lazily, on first use, so ``import analysis.text`` is cheap.
"""

from __future__ import annotations

import atexit
import functools
import math
import re
import shutil
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "LANGS",
    "LEMMATISED",
    "candidate_languages",
    "surface_languages",
    "detect_language",
    "tokenize",
    "lowercase",
    "is_word",
    "is_placeholder",
    "is_url_or_email",
    "strip_diacritics",
    "restore_diacritics",
    "lemmatize",
    "lemmatize_tokens",
    "stopwords",
    "is_stopword",
    "content_lemmas",
    "lemma_frequencies",
    "tfidf_keywords",
    "keyness",
    "collocations",
]

RESOURCES = Path(__file__).resolve().parent / "resources"
HUNSPELL_DIR = RESOURCES / "hunspell"
LANGS = ("lv", "ru", "en")          # languages with stopword lists and short-text word lists
LEMMATISED = ("lv", "ru")           # languages with a lemmatiser; the others keep their surface forms


# ---------------------------------------------------------------------------
# Language identification
# ---------------------------------------------------------------------------

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F]")
_LV_DIACRITIC = re.compile(r"[āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ]")
_URLISH = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.I)


_CYRILLIC_SCRIPT = frozenset({"ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "mn"})


def candidate_languages(form_languages: Iterable[str] | None = None) -> tuple[str, ...]:
    """The languages the detector may choose among: Latvian, Russian and English (the languages
    with resources here) and the survey's form languages (ISO 639-1 codes from the codebook), in
    that order. A text is never labelled with a language the survey did not ask in and we have no
    resources for, and an Estonian answer to an Estonian form is Estonian, not the nearest of
    lv/ru/en."""
    extra = [str(x).lower() for x in (form_languages or ()) if str(x).lower() not in LANGS]
    return LANGS + tuple(dict.fromkeys(extra))


def surface_languages(languages: Iterable[str]) -> list[str]:
    """Of the given text languages, those without a lemmatiser (counted on their surface
    forms), in the order given, 'und' left out."""
    return [x for x in dict.fromkeys(languages) if x not in LEMMATISED and x != "und"]


@functools.lru_cache(maxsize=1)
def _langid_model():
    """py3langid's model, read once (the slow part); every language set is a view of it.

    The model ships xz-compressed (0.85 s to read); the object read from it is kept beside the
    lemma cache (see below; ``ANALYSIS_CACHE_DIR=off`` turns it off) in a file named by
    py3langid's version and a hash of the model file, and read back from there (0.1 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    try:
        cache = _langid_cache_path(MODEL_FILE)
    except Exception:  # noqa: BLE001 - no cache: read the package's file
        cache = None
    got = read_cached(cache, LanguageIdentifier)
    if got is not None:
        return got
    model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    write_cached(cache, model, keep=1)
    return model


def _langid_cache_path(model_file: str) -> Path | None:
    import hashlib
    import sys
    from importlib import metadata

    import numpy
    import py3langid.langid as langid_module

    lemmas = _cache_path()
    if lemmas is None:
        return None
    path = Path(langid_module.__file__).parent / model_file
    h = hashlib.sha256(path.read_bytes())
    h.update(f"py3langid={metadata.version('py3langid')} numpy={numpy.__version__} {sys.version_info[:2]}".encode())
    return lemmas.parent / f"langid-{h.hexdigest()[:20]}.pickle"


@functools.lru_cache(maxsize=8)
def _langid(languages: tuple[str, ...] = LANGS):
    import copy

    ident = copy.copy(_langid_model())    # set_languages replaces (never changes) the arrays it slices
    ident.set_languages([x for x in languages if x in ident.nb_classes])
    return ident


def detect_language(text: str | None, languages: Iterable[str] | None = None,
                    _tokens: Sequence[str] | None = None) -> str:
    """Return the language of a piece of text (an ISO 639-1 code) or ``"und"``.

    py3langid restricted to ``languages`` (default ``"lv"``, ``"ru"``, ``"en"``; a survey
    passes :func:`candidate_languages` of its form languages), with cheap guards: URLs and
    e-mail addresses are ignored; no letters -> ``"und"``; Cyrillic letters outnumbering Latin
    ones -> ``"ru"`` (the detector decides only between several Cyrillic-script candidates); a
    text of one or two words is decided by the Latvian and English word lists when they agree
    (:func:`_short_text_language`: "nav" is Latvian, "no idea" English). Works on one- or
    two-word answers and on Latvian typed without diacritics (a place name such as Jūrmala in
    an English answer does not make it Latvian).

    ``_tokens``: :func:`tokenize` of ``text`` when the caller has it already (used only when
    the text has no URL or e-mail address to remove, so the result is the same).
    """
    allowed = LANGS if languages is None else tuple(dict.fromkeys(str(x).lower() for x in languages))
    got = _detect_before_langid(text, allowed, _tokens)
    if not isinstance(got, tuple):
        return got
    allowed, text = got
    lang, _ = _langid(allowed).classify(text)
    return lang if lang in allowed else "und"


def detect_languages(texts: Sequence[str | None], languages: Iterable[str] | None = None,
                     tokens: Sequence[Sequence[str] | None] | None = None) -> list[str]:
    """:func:`detect_language` of each text (``tokens[i]``: :func:`tokenize` of text i, when known),
    the same codes; py3langid's byte automaton runs over all the texts that reach it at once
    (:func:`_langid_many`) instead of one Python loop per text."""
    out: list[str | None] = []
    allowed_all = LANGS if languages is None else tuple(dict.fromkeys(str(x).lower() for x in languages))
    by_allowed: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for i, text in enumerate(texts):
        got = _detect_before_langid(text, allowed_all, tokens[i] if tokens is not None else None)
        if isinstance(got, tuple):
            allowed, cleaned = got
            by_allowed.setdefault(allowed, []).append((i, cleaned))
            out.append(None)
        else:
            out.append(got)
    for allowed, items in by_allowed.items():
        labels = _langid_many(_langid(allowed), [t for _, t in items])
        for (i, _), lang in zip(items, labels):
            out[i] = lang if lang in allowed else "und"
    return out  # type: ignore[return-value]


def _detect_before_langid(text, allowed: tuple[str, ...], tokens) -> str | tuple[tuple[str, ...], str]:
    """:func:`detect_language` up to py3langid: a code, or (languages, cleaned text) for py3langid."""
    if not isinstance(text, str):
        return "und"
    if _URLISH.search(text):
        text = _URLISH.sub(" ", text)
        tokens = None
    n_cyr = len(_CYRILLIC.findall(text))
    n_lat = len(_LATIN_LETTER.findall(text))
    if n_cyr == 0 and n_lat == 0:
        return "und"
    if n_cyr > n_lat:
        cyrillic = [x for x in allowed if x in _CYRILLIC_SCRIPT]
        if len(cyrillic) <= 1:
            return cyrillic[0] if cyrillic else "und"
        allowed = tuple(cyrillic)
    else:
        lang = _short_text_language(text, tokens)
        if lang and lang in allowed:
            return lang
    return allowed, text


def _langid_many(ident, texts: Sequence[str], batch: int = 2048) -> list[str]:
    """``ident.classify(t)[0]`` for each text. The walk of py3langid's byte automaton (its
    ``visit_counts``) runs in numpy over a batch of texts at a time, position by position; each
    text's features are then counted in the same order (a Counter of the same list) and scored
    and decided by py3langid's own code path (``_sparse_score`` and the steps of ``_decide``),
    so every label is the one ``classify`` gives (tests/test_text.py compares them). A
    py3langid without those internals is called text by text."""
    import numpy as np

    needed = ("tk_nextmove", "tk_output", "_rowbase", "_sparse_score", "nb_ptc", "_norm_probs", "_alias_pairs",
              "min_confidence", "nb_classes", "_encode")
    if not all(hasattr(ident, a) for a in needed) or not ident._norm_probs:
        return [ident.classify(t)[0] for t in texts]
    nm = np.frombuffer(ident.tk_nextmove, dtype=np.dtype(ident.tk_nextmove.typecode)).astype(np.int64) \
        if hasattr(ident.tk_nextmove, "typecode") else np.asarray(ident.tk_nextmove, dtype=np.int64)
    rowbase = np.asarray(ident._rowbase, dtype=np.int64)
    output = np.asarray(ident.tk_output, dtype=np.int64)
    encoded = [ident._encode(t) for t in texts]
    lens = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(-lens, kind="stable")           # longest first: the active texts are a prefix
    labels: list[str] = [""] * len(texts)
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        blens = lens[idx]
        width = int(blens[0]) if len(idx) else 0
        mat = np.zeros((len(idx), max(width, 1)), dtype=np.int64)
        for r, k in enumerate(idx.tolist()):
            mat[r, :blens[r]] = np.frombuffer(encoded[k], dtype=np.uint8)
        feats = np.full((len(idx), max(width, 1)), -1, dtype=np.int64)
        state = np.zeros(len(idx), dtype=np.int64)
        for pos in range(width):
            a = int(len(idx) - np.searchsorted(blens[::-1], pos, side="right"))
            st = nm[rowbase[state[:a]] + mat[:a, pos]]
            state[:a] = st
            feats[:a, pos] = output[st]
        for r, k in enumerate(idx.tolist()):
            f = feats[r, :blens[r]]
            f = f[f >= 0]
            labels[k] = _langid_decide(ident, Counter(f.tolist()) if len(f) else None, int(blens[r]))
    return labels


def _langid_decide(ident, visits, n_bytes: int) -> str:
    """py3langid's ``_raw_score`` + ``_decide`` + ``classify`` from the feature counts."""
    import numpy as np

    if visits:
        scores = ident._sparse_score(visits, ident.nb_ptc)
    else:
        scores = np.full(len(ident.nb_classes), 0.0, dtype=np.float32)
    scores *= 1.0 / math.sqrt(n_bytes or 1)
    np.exp(scores - scores.max(), out=scores)
    scores /= scores.sum()
    for i, j in ident._alias_pairs:
        scores[i] += scores[j]
        scores[j] = 0.0
    i = int(scores.argmax())
    conf = float(scores[i])
    if ident.min_confidence is not None and conf < ident.min_confidence:
        return "und"
    return ident.nb_classes[i]


@functools.lru_cache(maxsize=1)
def _en_forms() -> Mapping[str, str]:
    """simplemma's English form -> lemma dictionary: the common English words."""
    from simplemma.strategies.dictionaries.dictionary_factory import (
        DEFAULT_DICTIONARY_FACTORY,
    )

    return DEFAULT_DICTIONARY_FACTORY.get_dictionary("en")


def _short_text_language(text: str, tokens: Sequence[str] | None = None) -> str | None:
    """A lexicon decision for texts of one or two words, where py3langid guesses
    (it reads the Latvian "nav" as English, "no idea" as Latvian): ``"lv"`` when every
    word is a known Latvian word (stopword list, hunspell or simplemma's forms) and none
    is an English stopword; ``"en"`` when every word is an English stopword or common
    word (simplemma's English forms) and not every word is Latvian; else None."""
    words = []
    for t in (tokenize(text) if tokens is None else tokens):
        if is_word(t):
            words.append(t)
            if len(words) > 2:         # a longer text: py3langid decides (no need to look further)
                return None
    if not words:
        return None
    lower = [w.lower() for w in words]
    lv_sw, en_sw = stopwords("lv"), stopwords("en")
    is_lv = [lw in lv_sw or _is_known_lv(w) or _is_known_lv(lw) for w, lw in zip(words, lower)]
    if all(is_lv) and not any(lw in en_sw for lw in lower):
        return "lv"
    if not all(is_lv):
        en = _en_forms()
        if all(lw in en_sw or lw in en for lw in lower):
            return "en"
    return None


# ---------------------------------------------------------------------------
# Tokenisation
# ---------------------------------------------------------------------------

# Redaction placeholders written by the privacy module, e.g. [E-PASTS], [VĀRDS],
# [PERSONAS KODS]: upper-case words in square brackets, possibly with spaces,
# hyphens or digits.
_PLACEHOLDER = r"\[[A-ZĀČĒĢĪĶĻŅŠŪŽА-ЯЁ0-9_][A-ZĀČĒĢĪĶĻŅŠŪŽА-ЯЁ0-9_ \-]*\]"
_URL = r"(?:https?://|www\.)[^\s<>\"'«»„“”]+[^\s<>\"'«»„“”.,;:!?)\]]"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_NUMBER = r"\d+(?:[.,:/]\d+)*\.?"
_WORD = r"\w+(?:[-'’]\w+)*"
_TOKEN_PATTERN = "|".join(
    [_PLACEHOLDER, _URL, _EMAIL, _NUMBER, _WORD, r"[^\w\s]"]
)
_PLACEHOLDER_RE = re.compile(_PLACEHOLDER + r"\Z")
_URL_OR_EMAIL_RE = re.compile(rf"(?:{_URL}|{_EMAIL})\Z", re.I)
_HAS_LETTER = re.compile(r"[^\W\d_]")


@functools.lru_cache(maxsize=1)
def _tokenizer():
    """The ``findall`` of the token pattern compiled as NLTK's ``RegexpTokenizer(_TOKEN_PATTERN)``
    compiles it (the ``regex`` engine, flags UNICODE | MULTILINE | DOTALL; the same tokens),
    without importing NLTK, whose import costs seconds at start-up. The pattern is fixed and
    has no nested repetition, so NLTK's match time limit is not needed."""
    import regex

    return regex.compile(_TOKEN_PATTERN, re.UNICODE | re.MULTILINE | re.DOTALL).findall


def tokenize(text: str | None, lower: bool = False, words_only: bool = False) -> list[str]:
    """Split text into tokens as NLTK's ``RegexpTokenizer`` does (no downloaded data).

    URLs and e-mail addresses stay whole (recognise them with :func:`is_url_or_email`),
    hyphenated words stay whole (``velo-celiņus``), redaction placeholders such as
    ``[E-PASTS]`` or ``[PERSONAS KODS]`` are one token, numbers keep their
    separators (``2022.``, ``3,5``). ``lower=True`` lower-cases word tokens (not
    placeholders); ``words_only=True`` keeps only tokens that contain a letter and
    are not URLs, e-mails or placeholders.
    """
    if not isinstance(text, str) or not text:
        return []
    text = unicodedata.normalize("NFC", text)
    tokens = _tokenizer()(text)
    if words_only:
        tokens = [t for t in tokens if is_word(t)]
    if lower:
        tokens = lowercase(tokens)
    return tokens


def lowercase(tokens: Iterable[str]) -> list[str]:
    """Lower-case tokens, leaving redaction placeholders as they are."""
    return [t if _PLACEHOLDER_RE.match(t) else t.lower() for t in tokens]


def is_placeholder(token: str) -> bool:
    return bool(_PLACEHOLDER_RE.match(token))


def is_url_or_email(token: str) -> bool:
    return bool(_URL_OR_EMAIL_RE.match(token))


def is_word(token: str) -> bool:
    """True for tokens with at least one letter that are not URLs/e-mails/placeholders."""
    return (
        bool(_HAS_LETTER.search(token))
        and not is_placeholder(token)
        and not is_url_or_email(token)
    )


# ---------------------------------------------------------------------------
# Latvian resources: simplemma dictionary and hunspell
# ---------------------------------------------------------------------------

_LV_STRIP = str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ")


def strip_diacritics(text: str) -> str:
    """Remove Latvian diacritics (ā->a, č->c, ..., ž->z) and other combining marks."""
    text = text.translate(_LV_STRIP)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


@functools.lru_cache(maxsize=1)
def _sm_dict() -> Mapping[str, str]:
    """simplemma's Latvian form -> lemma dictionary (178k forms)."""
    from simplemma.strategies.dictionaries.dictionary_factory import (
        DEFAULT_DICTIONARY_FACTORY,
    )

    return DEFAULT_DICTIONARY_FACTORY.get_dictionary("lv")


@functools.lru_cache(maxsize=1)
def _hunspell():
    import hunspell  # chunspell

    return hunspell.Hunspell("lv_LV", hunspell_data_dir=str(HUNSPELL_DIR))


class _Analysis(tuple):
    """(stem, pos, inflection, flags, last pos) parsed from one hunspell analysis."""

    __slots__ = ()

    @property
    def stem(self) -> str:
        return self[0]

    @property
    def pos(self) -> str:
        return self[1]

    @property
    def infl(self) -> str:
        return self[2]

    @property
    def flags(self) -> str:
        return self[3]

    @property
    def pos2(self) -> str:
        """The last part-of-speech field (differs from ``pos`` for derived forms)."""
        return self[4]


def _parse_analysis(s: str) -> _Analysis:
    stem = pos = infl = pos2 = ""
    flags = []
    for field in s.split():
        key, _, val = field.partition(":")
        if key == "st" and not stem:
            stem = val
        elif key == "po":
            pos = pos or val
            pos2 = val
        elif key == "is" and not infl:
            infl = val
        elif key == "fl":
            flags.append(val)
    return _Analysis((stem, pos, infl, "".join(flags), pos2))


def _hs_analyses(word: str) -> list[_Analysis]:
    h = _hunspell()
    try:
        res = h.analyze(word)
    except UnicodeError:  # pragma: no cover - defensive
        return []
    return [_parse_analysis(a) for a in res]


# hunspell affix file: a small reader (used to derive feminine lemmas and, for
# diacritic restoration, to expand a dictionary entry into its word forms)


@functools.lru_cache(maxsize=4)
def _read_aff(path: str) -> tuple[dict, dict, dict]:
    """Parse SFX/PFX rules: ({flag: [(strip, add, contflags, cond_regex)]} x2, cross)."""
    sfx: dict[str, list] = {}
    pfx: dict[str, list] = {}
    cross: dict[str, bool] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if len(p) < 4 or p[0] not in ("SFX", "PFX"):
                continue
            kind, flag = p[0], p[1]
            table = sfx if kind == "SFX" else pfx
            if flag not in table and p[2] in ("Y", "N") and p[3].isdigit():
                table[flag] = []
                cross[flag] = p[2] == "Y"
                continue
            strip = "" if p[2] == "0" else p[2]
            add, _, cont = p[3].partition("/")
            if add == "0":
                add = ""
            cond = p[4] if len(p) > 4 else "."
            if cond == ".":
                rx = None
            elif kind == "SFX":
                rx = re.compile("(?:" + cond + ")$")
            else:
                rx = re.compile(cond)
            table[flag].append((strip, add, cont, rx))
    return sfx, pfx, cross


def _apply_sfx(sfx: dict, word: str, flags: Iterable[str]) -> list[tuple[str, str, str]]:
    out = []
    for fl in flags:
        for strip, add, cont, rx in sfx.get(fl, ()):
            if strip and not word.endswith(strip):
                continue
            if rx is not None and not rx.search(word):
                continue
            out.append((word[: len(word) - len(strip)] + add, cont, fl))
    return out


def _apply_pfx(pfx: dict, word: str, flags: Iterable[str], circumfix: bool) -> list[str]:
    out = []
    for fl in flags:
        for strip, add, cont, rx in pfx.get(fl, ()):
            if ("|" in cont) != circumfix:
                continue
            if strip and not word.startswith(strip):
                continue
            if rx is not None and not rx.match(word):
                continue
            out.append(add + word[len(strip):])
    return out


def _expand_entry(aff: tuple[dict, dict, dict], word: str, flags: str) -> set[str]:
    """All word forms of one .dic entry (suffixes, twofold suffixes, prefixes,
    circumfixes; NEEDAFFIX ``{`` and CIRCUMFIX ``|`` as declared in lv_LV.aff)."""
    sfx, pfx, cross = aff
    out: set[str] = set()
    needaffix = "{" in flags
    pflags = [c for c in flags if c in pfx]
    if not needaffix:
        out.add(word)
        out.update(_apply_pfx(pfx, word, pflags, False))
    for form, cont, sfl in _apply_sfx(sfx, word, flags):
        circ = "|" in cont
        alone = not circ and "{" not in cont
        if alone:
            out.add(form)
        for form2, cont2, _ in _apply_sfx(sfx, form, cont):
            if "|" in cont2 or "{" in cont2:
                continue
            out.add(form2)
            if cross.get(sfl):
                out.update(_apply_pfx(pfx, form2, pflags, False))
        if cross.get(sfl):
            pf = pflags + [c for c in cont if c in pfx]
            out.update(_apply_pfx(pfx, form, pf, circ))
    return out


@functools.lru_cache(maxsize=1)
def _lv_aff() -> tuple[dict, dict, dict]:
    return _read_aff(str(HUNSPELL_DIR / "lv_LV.aff"))


@functools.lru_cache(maxsize=1)
def _lv_dic_flags() -> dict[str, str]:
    """stem -> affix flags of the Latvian .dic (homonyms: flags joined)."""
    out: dict[str, str] = {}
    with open(HUNSPELL_DIR / "lv_LV.dic", encoding="utf-8") as f:
        next(f)
        for line in f:
            entry = line.split(None, 1)[0] if line.strip() else ""
            word, _, flags = entry.partition("/")
            if word:
                out[word] = out.get(word, "") + flags
    return out


# ---------------------------------------------------------------------------
# Latvian lemmatisation
# ---------------------------------------------------------------------------
#
# Conventions followed (those of the Latvian UD treebank): nouns -> nominative
# singular (deverbal -šana nouns stay nouns), adjectives -> indefinite positive
# masculine (skaisto -> skaists, lielākais -> liels), verbs and participles ->
# infinitive, reflexive verbs keep -ties, negated and debitive verbs lose ne-/jā-,
# negated nouns and adjectives keep ne-.

_CLOSED_POS = ("vietnv", "skv", "apstv", "saiklis", "izs", "vientv")
_DIGIT = re.compile(r"\d")
_DIMINUTIVE = re.compile(r"(iņ|īt|ēn)(?!.*(iņ|īt|ēn))")
_FEMININE_DECL = ("lietv4", "lietv5", "lietv6")


def _is_verb(a: _Analysis) -> bool:
    return a.pos.startswith("darb")


def _is_reflexive(a: _Analysis) -> bool:
    infl = a.infl
    return len(infl) >= 4 and infl[3] == "a" and not infl.startswith("r")


def _feminine_of(stem: str) -> str | None:
    """Feminine nominative of a masculine noun by the dictionary's ``x`` rules
    (rakstnieks -> rakstniece, sportists -> sportiste, vadītājs -> vadītāja)."""
    sfx = _lv_aff()[0]
    for form, _cont, _fl in _apply_sfx(sfx, stem, "x"):
        return form
    return None


def _diminutive_lemma(a: _Analysis, lw: str) -> str | None:
    """Nominative of a diminutive noun form (galdiņa -> galdiņš, somiņas -> somiņa)."""
    m = _DIMINUTIVE.search(lw)
    if not m:
        return None
    base = lw[: m.end()]
    fem = a.pos.startswith(_FEMININE_DECL)
    suffix = m.group(1)
    if suffix == "iņ":
        return base + ("a" if fem else "š")
    if suffix == "īt":
        return base + ("e" if fem else "is")
    return base + ("a" if fem else "s")


def _analysis_lemma(a: _Analysis, lw: str) -> str:
    """Turn one hunspell analysis of the lower-cased word ``lw`` into a lemma."""
    stem = a.stem
    if not stem:
        return lw
    if _is_verb(a) and stem.endswith("t"):
        neg = "ne" if "-" in a.flags else ""
        if a.infl.startswith("rl") or ("J" in a.flags and lw.endswith("šanās")):
            return neg + stem[:-1] + "šanās"
        if "J" in a.flags and "šan" in lw:
            return neg + stem[:-1] + "šana"
        if _is_reflexive(a):
            return stem + "ies"
        return stem
    if a.pos.startswith("lietv"):
        if ("x" in a.flags and not a.infl) or (
            a.pos2 != a.pos and a.pos2.startswith(_FEMININE_DECL) and not a.pos.startswith(_FEMININE_DECL)
        ):
            fem = _feminine_of(stem)
            if fem:
                stem = fem
        elif len(a.infl) == 3 and a.infl[1] == "d":
            dim = _diminutive_lemma(a, lw)
            if dim:
                stem = dim
    if "-" in a.flags:
        return "ne" + stem
    return stem


def _proper_noun_lemma(word: str) -> str:
    """Nominative guess for an unknown capitalised word (a surname or place name):
    the commonest declension endings only."""
    lw = word.lower()
    for end, repl in _PROPN_ENDINGS:
        if lw.endswith(end) and len(lw) > len(end) + 2:
            out = word[: len(word) - len(end)] + repl
            return out[:-1] + "š" if out.endswith("ņs") else out
    return word


# (ending, nominative ending) tried in order; genitive -a is read as masculine
# (Zatlera -> Zatlers), which is the commoner reading for surnames in news text.
_PROPN_ENDINGS = (
    ("iem", "i"),
    ("am", "s"),
    ("im", "is"),
    ("ai", "a"),
    ("as", "a"),
    ("ā", "a"),
    ("ei", "e"),
    ("es", "e"),
    ("ē", "e"),
    ("u", "s"),
)


def _lv_lemma_uncached(word: str) -> str:
    """Latvian lemma of one token, combining simplemma and hunspell by rule."""
    lw = word.lower()
    if not lw:
        return lw
    # numbers, ordinals (2022.), abbreviations (g.), acronyms (SIA, DUS)
    if _DIGIT.search(word) or (word.endswith(".") and len(word) > 1):
        return lw
    if not _HAS_LETTER.search(word):
        return lw
    if word.isupper() and len(word) > 1:
        # acronyms (SIA, DUS, LETA) stay; a word typed in capitals is lemmatised
        if len(word) <= 3:
            return word
        if _is_known_lv(lw):
            word = lw
        elif _is_known_lv(lw.capitalize()):
            word = lw.capitalize()
        else:
            return word
    smd = _sm_dict()
    s = smd.get(word) or smd.get(lw)
    analyses = _hs_analyses(word)
    if not analyses and word != lw:
        analyses = _hs_analyses(lw)
    cands: list[str] = []
    for a in analyses:
        lem = _analysis_lemma(a, lw)
        if lem and lem not in cands:
            cands.append(lem)
    if not cands:
        if s:
            return s
        if word[:1].isupper():
            return _proper_noun_lemma(word)
        import simplemma

        return simplemma.lemmatize(word, lang="lv")
    if (
        s is None
        and lw.endswith("i")
        and any("W" in a.flags and not a.infl and a.pos.startswith("īpv") for a in analyses)
    ):
        return lw  # adverb from an adjective or participle (veiksmīgi, atkārtoti)
    noun = _noun_collision(analyses, cands, lw)
    if noun is not None:
        return noun
    if s:
        sl = s.lower()
        lc = [c.lower() for c in cands]
        if sl in lc:  # the two resources agree
            return s
        if sl == lw:  # simplemma knows the form as a lemma (kur, tik, labi, kopā)
            return s
        if all(a.pos.startswith(_CLOSED_POS) or not a.pos for a in analyses):
            return s  # pronouns, numerals, adverbs, bare entries: simplemma follows LVTB
        if sl.endswith("ais") and smd.get(cands[0]) != cands[0]:
            return s  # adjectives used only in the definite form (pēdējais, galvenais)
    return cands[0]


def _noun_collision(analyses: Sequence[_Analysis], cands: Sequence[str], lw: str) -> str | None:
    """The lemma of a form that is an inflected form of two common nouns, or None to let the
    usual rules decide.

    Two regularities decide (hunspell lists both readings, simplemma keeps one at random): a
    first-declension noun whose stem the form keeps unchanged wins over a noun that reaches the
    form only by a consonant alternation (ceļus, ceļiem: ceļš keeps "ceļ", celis alternates l -> ļ),
    and, where both keep the stem, a masculine noun wins over the feminine derived from it by
    the dictionary's ``x`` rule (ārsti: nominative plural of ārsts rather than accusative
    singular of ārste). Forms with a verb or adjective reading and proper nouns are left to
    the usual rules."""
    if len(cands) < 2 or any(not a.pos.startswith("lietv") for a in analyses):
        return None          # one reading, or a verb or adjective reading too: the usual rules decide
    pos = {}
    for a in analyses:
        pos.setdefault(_analysis_lemma(a, lw), a.pos)
    nouns = [c for c in cands if c[:1].islower()]
    if len(nouns) != len(cands) or len(nouns) != len(pos):
        return None
    keeps = [c for c in nouns if lw.startswith(_noun_stem(c))]
    if len(keeps) == 1 and pos.get(keeps[0], "").startswith("lietv1"):
        return keeps[0]
    if len(keeps) == len(nouns):
        masc = [c for c in nouns if pos[c].startswith(("lietv1", "lietv2"))]
        fem = [c for c in nouns if pos[c].startswith(_FEMININE_DECL)]
        if len(masc) == 1 and len(fem) == len(nouns) - 1 and all(_feminine_of(masc[0]) == f for f in fem):
            return masc[0]
    return None


_NOUN_ENDINGS = ("is", "us", "as", "es", "š", "s", "a", "e", "i")


def _noun_stem(lemma: str) -> str:
    for end in _NOUN_ENDINGS:
        if lemma.endswith(end) and len(lemma) > len(end) + 1:
            return lemma[: -len(end)]
    return lemma


@functools.lru_cache(maxsize=100_000)
def _lv_lemma_cached(word: str, restore: bool = True) -> str:
    disk = _disk_lemmas()
    got = disk.get((word, restore))
    if got is not None:
        return got
    lemma = _lv_lemma_computed(word, restore)
    if len(disk) < _DISK_MAX:
        disk[(word, restore)] = lemma
        _DISK_STATE["dirty"] = True
        _DISK_NEW.append((word, restore, lemma))
    return lemma


_DISK_NEW: list[tuple[str, bool, str]] = []


def lemmas_learned(since: int | None = None):
    """Without argument: a mark; with a mark: the Latvian lemmas analysed since (word, restore,
    lemma), for a worker process to hand to its parent (:func:`remember_lemmas`)."""
    if since is None:
        return len(_DISK_NEW)
    return list(_DISK_NEW[since:])


def remember_lemmas(entries: Iterable[tuple[str, bool, str]]) -> None:
    """Add lemmas analysed elsewhere (a worker process) to the cache kept on disk."""
    disk = _disk_lemmas()
    for word, restore, lemma in entries:
        if (word, restore) not in disk and len(disk) < _DISK_MAX:
            disk[(word, restore)] = lemma
            _DISK_STATE["dirty"] = True


def _lv_lemma_computed(word: str, restore: bool = True) -> str:
    if restore and word.isascii() and word.isalpha() and not (word.isupper() and len(word) <= 5):
        restored = _restore_word(word)
        if restored != word:
            return _lv_lemma_uncached(restored)
    return _lv_lemma_uncached(word)


# ---------------------------------------------------------------------------
# Lemmas kept between runs
# ---------------------------------------------------------------------------
#
# A Latvian lemma is a pure function of the word form, this module's code and the bundled
# resources (and the versions of simplemma and chunspell). The forms a run analyses are kept
# in the user's cache folder (``$ANALYSIS_CACHE_DIR``, else ``$XDG_CACHE_HOME`` or
# ``~/.cache``, then ``consultation-analysis/``) in a file named by a hash of all of those, so
# the next run reads them instead of loading the restoration resources and analysing them
# again; a change to any input names another file. Nothing is downloaded: the file is made
# here from the bundled files. ``ANALYSIS_CACHE_DIR=off`` turns it off.

_DISK_MAX = 2_000_000
_DISK_STATE: dict[str, object] = {"lemmas": None, "dirty": False, "path": None}


def _cache_path() -> Path | None:
    import os

    env = os.environ.get("ANALYSIS_CACHE_DIR", "")
    if env.strip().lower() in ("off", "0", "none", "false"):
        return None
    if env:
        base = Path(env)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "consultation-analysis"
    return base / f"lv-lemmas-{_resource_hash()}.pickle"


@functools.lru_cache(maxsize=1)
def _resource_hash() -> str:
    import hashlib
    from importlib import metadata

    h = hashlib.sha256(Path(__file__).read_bytes())
    for p in sorted(RESOURCES.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(RESOURCES)).encode())
            h.update(p.read_bytes())
    for dist in ("simplemma", "chunspell"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:  # pragma: no cover
            h.update(dist.encode())
    return h.hexdigest()[:20]


def _disk_lemmas() -> dict:
    disk = _DISK_STATE["lemmas"]
    if disk is None:
        import pickle

        disk = {}
        path = None
        try:
            path = _cache_path()
            if path is not None and path.exists():
                with open(path, "rb") as f:
                    got = pickle.load(f)
                if isinstance(got, dict):
                    disk = got
        except Exception:  # an unreadable cache is rebuilt, never an error
            disk = {}
        _DISK_STATE.update(lemmas=disk, path=path, dirty=False)
        atexit.register(save_lemma_cache)
    return disk  # type: ignore[return-value]


def save_lemma_cache() -> Path | None:
    """Write the Latvian lemmas analysed so far to the user's cache (see above), if any are
    new; atomically, so a run reading it at the same time sees the old or the new file."""
    disk, path = _DISK_STATE["lemmas"], _DISK_STATE["path"]
    if not disk or not _DISK_STATE["dirty"] or path is None:
        return None
    if not write_cached(path, disk, keep=_CACHE_KEEP):
        return None                   # a read-only home: the run goes on without it
    _DISK_STATE["dirty"] = False
    return path


_CACHE_KEEP = 3   # lemma files kept: this version's and the newest of other versions (checkouts)


def _prune_lemma_caches(current: Path, keep: int = _CACHE_KEEP) -> list[Path]:
    """Delete the lemma files of other code/resource versions beyond the ``keep`` most recently
    written (the current one always stays), so the cache folder does not grow with every
    upgrade. Returns what was deleted; a file another process removes first is skipped."""
    return _prune_caches(current, keep)


def _prune_caches(current: Path, keep: int) -> list[Path]:
    """Of the cache files of the same kind as ``current`` (same name up to its last '-'), keep
    ``current`` and the ``keep - 1`` other most recently written; delete the rest."""
    kind = current.name.rsplit("-", 1)[0]
    others = []
    for p in current.parent.glob(f"{kind}-*{current.suffix}"):
        if p != current and p.name.rsplit("-", 1)[0] == kind:
            try:
                others.append((p.stat().st_mtime, p))
            except OSError:
                continue
    others.sort(reverse=True)
    gone = []
    for _, p in others[max(0, keep - 1):]:
        try:
            p.unlink()
            gone.append(p)
        except OSError:
            continue
    return gone


def read_cached(path: Path | None, kind: type):
    """The object pickled at ``path`` (a file of the user's cache folder, see above) if it is a
    ``kind``; None when there is no cache, no file, or a file that cannot be read (never an error:
    the caller builds the object and writes it again)."""
    import pickle

    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            got = pickle.load(f)
    except Exception:  # noqa: BLE001 - missing or unreadable: rebuilt
        return None
    return got if isinstance(got, kind) else None


def write_cached(path: Path | None, obj, keep: int) -> bool:
    """Pickle ``obj`` to ``path`` atomically (a reader sees the old or the new file), then keep
    ``keep`` files of its kind (`_prune_caches`). False when there is no cache or it cannot be
    written (a read-only home: the run goes on without it)."""
    import os
    import pickle

    if path is None:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        return False
    _prune_caches(path, keep)
    return True


# ---------------------------------------------------------------------------
# Diacritic restoration (Latvian typed without ā, č, ē, ģ, ī, ķ, ļ, ņ, š, ū, ž)
# ---------------------------------------------------------------------------
#
# A diacritic-free copy of the hunspell dictionary (stems, affixes and affix
# conditions stripped, each stem carrying its original spelling as ``st:``) is
# written to a temporary folder on first use. hunspell then analyses a stripped
# word against it; each original stem it names is expanded into its real word
# forms and the forms whose stripped spelling equals the input are the
# candidates. simplemma's Latvian forms are a second source of candidates.

_LV_PLAIN = "acegiklnsuz"
_LV_MARKED = "āčēģīķļņšūž"
_ORIGINALS = {p: {p, m} for p, m in zip(_LV_PLAIN, _LV_MARKED)}


def _strip_condition(cond: str) -> str:
    """Strip diacritics from an affix condition without losing any original match."""
    out = []
    i = 0
    while i < len(cond):
        c = cond[i]
        if c == "[":
            j = cond.index("]", i)
            body = cond[i + 1 : j]
            neg = body.startswith("^")
            chars = set(body[1:] if neg else body)
            if neg:
                # a plain letter is excluded only if all its originals were excluded
                kept = {
                    strip_diacritics(ch)
                    for ch in chars
                    if _ORIGINALS.get(strip_diacritics(ch), {ch}) <= chars
                }
                out.append("[^" + "".join(sorted(kept)) + "]" if kept else ".")
            else:
                out.append("[" + "".join(sorted({strip_diacritics(ch) for ch in chars})) + "]")
            i = j + 1
        else:
            out.append(strip_diacritics(c))
            i += 1
    return "".join(out)


def _write_stripped_dictionary(folder: Path) -> None:
    aff_lines = []
    with open(HUNSPELL_DIR / "lv_LV.aff", encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if p and p[0] in ("REP", "TRY", "KEY", "MAP"):
                continue
            if len(p) >= 4 and p[0] in ("SFX", "PFX") and not (
                p[2] in ("Y", "N") and p[3].isdigit() and len(p) == 4
            ):
                strip = p[2] if p[2] == "0" else strip_diacritics(p[2])
                add, sep, cont = p[3].partition("/")
                add = add if add == "0" else strip_diacritics(add)
                cond = _strip_condition(p[4]) if len(p) > 4 else "."
                # the morphological fields are not needed here
                line = " ".join([p[0], p[1], strip, add + sep + cont, cond]) + "\n"
            aff_lines.append(line)
    (folder / "lv_LV_plain.aff").write_text("".join(aff_lines), encoding="utf-8")
    entries = []
    for word, flags in _lv_dic_flags().items():
        flagpart = f"/{flags}" if flags else ""
        entries.append(f"{strip_diacritics(word)}{flagpart} st:{word}")
    (folder / "lv_LV_plain.dic").write_text(
        f"{len(entries)}\n" + "\n".join(entries) + "\n", encoding="utf-8"
    )


@functools.lru_cache(maxsize=1)
def _hunspell_plain():
    import hunspell

    folder = Path(tempfile.mkdtemp(prefix="analysis-hunspell-"))
    atexit.register(shutil.rmtree, folder, True)
    _write_stripped_dictionary(folder)
    return hunspell.Hunspell("lv_LV_plain", hunspell_data_dir=str(folder))


@functools.lru_cache(maxsize=1)
def _sm_plain_index() -> dict[str, tuple[str, ...]]:
    """stripped lower-case form -> simplemma forms that carry diacritics."""
    idx: dict[str, list[str]] = defaultdict(list)
    for form in _sm_dict():
        lf = form.lower()
        sf = lf.translate(_LV_STRIP)
        if sf != lf and sf.isascii() and lf not in idx[sf]:
            idx[sf].append(lf)
    return {k: tuple(v) for k, v in idx.items()}


@functools.lru_cache(maxsize=20_000)
def _entry_forms(stem: str) -> frozenset[str]:
    flags = _lv_dic_flags().get(stem, "")
    return frozenset(f.lower() for f in _expand_entry(_lv_aff(), stem, flags))


def _restore_candidates(lw: str) -> list[str]:
    """Diacritic spellings of a lower-case diacritic-free word, most plausible first."""
    found: dict[str, int] = {}
    for s in _hunspell_plain().analyze(lw):
        a = _parse_analysis(s)
        if not a.stem:
            continue
        for form in _entry_forms(a.stem):
            if form != lw and strip_diacritics(form) == lw:
                found[form] = found.get(form, 0) + 1
    smd = _sm_dict()
    for form in _sm_plain_index().get(lw, ()):
        found[form] = found.get(form, 0) + 2
    # attested in simplemma's (corpus-derived) data first, then the fewest added marks
    def key(form: str) -> tuple:
        attested = form in smd or form.capitalize() in smd
        marks = sum(1 for a, b in zip(form, lw) if a != b)
        return (not attested, -found[form], marks, form)

    return sorted(found, key=key)


def _match_case(form: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return form.upper()
    if like[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


@functools.lru_cache(maxsize=100_000)
def _restore_word(word: str) -> str:
    if not word or not word.isalpha() or _LV_DIACRITIC.search(word) or not word.isascii():
        return word
    lw = word.lower()
    marked_stop = _lv_stopwords_marked()
    if lw in marked_stop:
        return word
    cands = _restore_candidates(lw)
    # a frequent function word beats a rare valid plain spelling (vel -> vēl,
    # loti -> ļoti, vins -> viņš)
    for c in cands:
        if c in marked_stop:
            return _match_case(c, word)
    if _is_known_lv(word):
        # a valid plain spelling stays, unless only hunspell knows it and simplemma's
        # (corpus-derived) forms attest a diacritic spelling instead (dala -> daļa)
        smd = _sm_dict()
        if lw in smd or word in smd or lw.capitalize() in smd or not cands:
            return word
        best = cands[0]
        if best in smd or best.capitalize() in smd:
            return _match_case(best, word)
        return word
    return _match_case(cands[0], word) if cands else word


@functools.lru_cache(maxsize=1)
def _lv_stopwords_marked() -> frozenset[str]:
    """The Latvian stopword lists as written (with diacritics)."""
    words: set[str] = set()
    for name in _STOPWORD_FILES["lv"]:
        words.update(_read_wordlist(name))
    return frozenset(words)


def _is_known_lv(word: str) -> bool:
    """A valid Latvian spelling: in hunspell or in simplemma's forms."""
    smd = _sm_dict()
    if word in smd or word.lower() in smd:
        return True
    try:
        return bool(_hunspell().spell(word))
    except UnicodeError:  # pragma: no cover
        return False


_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def restore_diacritics(text: str) -> str:
    """Restore Latvian diacritics in a word or a text typed without them.

    Each word that is not already a valid Latvian spelling is replaced by the most
    plausible diacritic spelling (``majoklu pieejamiba`` -> ``mājokļu
    pieejamība``); valid words, words that already carry diacritics, numbers and
    punctuation are left unchanged, as are words with no known restoration.
    """
    if not isinstance(text, str) or not text:
        return text
    return _WORD_RE.sub(lambda m: _restore_word(m.group(0)), text)


# ---------------------------------------------------------------------------
# Lemmatisation: public API
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _morph_ru():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@functools.lru_cache(maxsize=100_000)
def _ru_lemma(word: str) -> str:
    lw = word.lower()
    if not _HAS_LETTER.search(lw):
        return lw
    parses = _morph_ru().parse(lw)
    return parses[0].normal_form if parses else lw


def lemmatize(word: str, lang: str, restore: bool = True) -> str:
    """Lemma of one token.

    ``lang="lv"``: simplemma and hunspell combined by rule (see the module notes);
    a word typed without diacritics is first restored (``majoklu`` -> ``mājokļu``
    -> ``mājoklis``) unless ``restore=False``; a hyphenated compound is lemmatised
    on its last part (``velo-celiņus`` -> ``velo-celiņš``).
    ``lang="ru"``: pymorphy3, normal form of the most probable parse.
    Other languages: the lower-cased word. Lemmas are lower-case except for proper
    nouns and acronyms that the dictionaries spell with capitals. Results are cached
    per word form.
    """
    if not word:
        return ""
    return _lemmatize_cached(word, lang, restore)


@functools.lru_cache(maxsize=500_000)
def _lemmatize_cached(word: str, lang: str, restore: bool) -> str:
    if lang == "lv":
        if is_placeholder(word) or is_url_or_email(word):
            return word
        if "-" in word.strip("-") and _HAS_LETTER.search(word):
            # hyphenated compound (velo-celiņus): inflection is on the last part
            head, _, last = word.rpartition("-")
            return head.lower() + "-" + _lv_lemma_cached(last, restore).lower()
        return _lv_lemma_cached(word, restore)
    if lang == "ru":
        return _ru_lemma(word)
    return word.lower()


def _should_restore(tokens: Sequence[str]) -> bool:
    """Restore diacritics only in a text typed without any: where a text has some,
    an unknown plain-ASCII word is more likely a foreign word or a name."""
    return not _LV_DIACRITIC.search(" ".join(tokens))


def lemmatize_tokens(
    tokens: Sequence[str], lang: str, restore: bool | None = None
) -> list[str]:
    """:func:`lemmatize` applied to each token of one text. With ``restore=None``
    (default) Latvian diacritics are restored only when the text has none at all."""
    tokens = list(tokens)
    if lang == "lv":
        if restore is None:
            restore = _should_restore(tokens)
    else:
        restore = True
    f = _lemmatize_cached
    return [f(t, lang, restore) if t else "" for t in tokens]


# ---------------------------------------------------------------------------
# Stopwords
# ---------------------------------------------------------------------------

_STOPWORD_FILES = {
    "lv": ("stopwords-lv.txt", "stopwords-lv-extra.txt"),
    "ru": ("stopwords-ru.txt", "stopwords-ru-extra.txt"),
    "en": ("stopwords-en.txt",),
}


def _read_wordlist(name: str) -> list[str]:
    words = []
    for line in (RESOURCES / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(unicodedata.normalize("NFC", line.lower()))
    return words


@functools.lru_cache(maxsize=None)
def stopwords(lang: str) -> frozenset[str]:
    """Stopwords for ``"lv"``, ``"ru"`` or ``"en"`` (empty set for other languages).

    Latvian: the stopwords-iso list (the same 161 words as spaCy's) extended with
    pronouns, common verbs and adverbs it lacks and the survey's own filler
    (vajag, vajadzētu, būtu, lūdzu, paldies, ...), in surface and lemma forms.
    Russian: spaCy's list (clean of content words such as работа, город, дом) plus
    survey filler. English: spaCy's list. Match them on lemmas and on surface forms
    (:func:`is_stopword`).
    """
    files = _STOPWORD_FILES.get(lang)
    if not files:
        return frozenset()
    words: set[str] = set()
    for name in files:
        words.update(_read_wordlist(name))
    if lang == "lv":  # also accept the same words typed without diacritics
        words.update({strip_diacritics(w) for w in words})
    return frozenset(words)


def is_stopword(token: str, lang: str, lemma: str | None = None) -> bool:
    """True if the token or its lemma is a stopword (also for non-words)."""
    sw = stopwords(lang)
    t = token.lower()
    if t in sw:
        return True
    if lemma is None and lang in ("lv", "ru") and is_word(token):
        lemma = lemmatize(token, lang)
    return lemma is not None and lemma.lower() in sw


def content_lemmas(
    tokens: Sequence[str], lang: str, min_len: int = 2, restore: bool | None = None
) -> list[tuple[str, str]]:
    """(lemma, surface) pairs of the content words in a token list: drops
    punctuation, numbers, URLs, e-mails, placeholders, stopwords and words shorter
    than ``min_len``. Lemmas are lower-cased; the surface form is lower-cased too."""
    sw = stopwords(lang)
    tokens = list(tokens)
    if restore is None:
        restore = _should_restore(tokens)
    out = []
    for t in tokens:
        if not is_word(t):
            continue
        lt = t.lower()
        if lt in sw:
            continue
        lem = lemmatize(t, lang, restore=restore).lower() if lang in ("lv", "ru") else lt
        if lem in sw or len(lem) < min_len:
            continue
        out.append((lem, lt))
    return out


# ---------------------------------------------------------------------------
# Frequencies, keywords, keyness, collocations
# ---------------------------------------------------------------------------


def _doc_pairs(
    docs_tokens: Iterable[Sequence[str]], lang: str, remove_stopwords: bool, min_len: int
) -> list[list[tuple[str, str]]]:
    out = []
    sw = stopwords(lang) if remove_stopwords else frozenset()
    for doc in docs_tokens:
        doc = list(doc)
        restore = _should_restore(doc)
        pairs = []
        for t in doc:
            if not is_word(t):
                continue
            lt = t.lower()
            if lt in sw:
                continue
            lem = lemmatize(t, lang, restore).lower() if lang in ("lv", "ru") else lt
            if lem in sw or len(lem) < min_len:
                continue
            pairs.append((lem, lt))
        out.append(pairs)
    return out


def _surface_map(pairs_docs: Iterable[Iterable[tuple[str, str]]]) -> dict[str, str]:
    """lemma -> its most common surface form (ties: alphabetical, for stable output)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for pairs in pairs_docs:
        for lem, surf in pairs:
            counts[lem][surf] += 1
    return {
        lem: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for lem, c in counts.items()
    }


def lemma_frequencies(
    docs_tokens: Iterable[Sequence[str]],
    lang: str,
    remove_stopwords: bool = True,
    min_len: int = 2,
) -> "pd.DataFrame":
    """Lemma counts over documents (each a list of tokens).

    Returns a DataFrame with columns ``lemma``, ``surface`` (the most common
    inflected form seen, for display), ``count`` (tokens) and ``doc_count``
    (documents containing the lemma), sorted by count then lemma. Punctuation,
    numbers, URLs, e-mails, placeholders and (by default) stopwords are dropped.
    """
    import pandas as pd

    pairs_docs = _doc_pairs(docs_tokens, lang, remove_stopwords, min_len)
    count: Counter = Counter()
    doc_count: Counter = Counter()
    for pairs in pairs_docs:
        lems = [lem for lem, _ in pairs]
        count.update(lems)
        doc_count.update(set(lems))
    surface = _surface_map(pairs_docs)
    df = pd.DataFrame(
        {
            "lemma": list(count),
            "surface": [surface[k] for k in count],
            "count": [count[k] for k in count],
            "doc_count": [doc_count[k] for k in count],
        },
        columns=["lemma", "surface", "count", "doc_count"],
    )
    df = df.sort_values(["count", "lemma"], ascending=[False, True], kind="mergesort")
    return df.reset_index(drop=True)


def tfidf_keywords(
    docs_by_group: Mapping[str, Sequence[str | Sequence[str] | Sequence[tuple[str, str]]]],
    lang: str = "und",
    top_n: int | None = 20,
    min_df: int = 1,
    sublinear_tf: bool = True,
    lemmatised: bool = False,
) -> "pd.DataFrame":
    """Keywords per group by TF-IDF over lemmas (stopwords removed).

    ``docs_by_group`` maps a group name to its documents (texts, or token lists).
    All documents of a group are joined into one pseudo-document, so IDF rewards
    lemmas that distinguish groups. scikit-learn's ``TfidfVectorizer`` runs on the
    lemma sequences (sublinear tf = 1 + ln tf, smooth idf = ln((1 + n) / (1 + df)) + 1,
    l2-normalised rows). Returns DataFrame(group, lemma, surface, tfidf, count) with the
    ``top_n`` lemmas of each group (all of them for ``top_n=None``), by descending
    TF-IDF then lemma.

    ``lemmatised=True``: each document is already a sequence of (lemma, surface) pairs of
    content words (as :func:`content_lemmas` gives), used as they are: no tokenising,
    lemmatising or stopword removal (``lang`` is then ignored).
    """
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer

    groups = list(docs_by_group)
    group_lemmas: list[list[str]] = []
    all_pairs: list[list[tuple[str, str]]] = []
    for g in groups:
        if lemmatised:
            pairs_docs = [list(d) for d in docs_by_group[g]]
        else:
            docs = [tokenize(d) if isinstance(d, str) else list(d) for d in docs_by_group[g]]
            pairs_docs = _doc_pairs(docs, lang, True, 2)
        all_pairs.extend(pairs_docs)
        group_lemmas.append([lem for pairs in pairs_docs for lem, _ in pairs])
    columns = ["group", "lemma", "surface", "tfidf", "count"]
    if not any(group_lemmas):
        return pd.DataFrame(columns=columns)
    vec = TfidfVectorizer(
        analyzer=lambda x: x, lowercase=False, min_df=min_df, sublinear_tf=sublinear_tf
    )
    matrix = vec.fit_transform(group_lemmas)
    vocab = vec.get_feature_names_out()
    surface = _surface_map(all_pairs)
    rows = []
    for gi, g in enumerate(groups):
        counts = Counter(group_lemmas[gi])
        row = matrix.getrow(gi).tocoo()
        scored = sorted(
            ((float(v), vocab[j]) for j, v in zip(row.col, row.data)),
            key=lambda x: (-round(x[0], 12), x[1]),
        )[:top_n]
        for score, lem in scored:
            rows.append((g, lem, surface.get(lem, lem), score, counts[lem]))
    return pd.DataFrame(rows, columns=columns)


def tfidf_group_scores(group_lemmas: Mapping[str, Sequence[str]], min_df: int = 1,
                       sublinear_tf: bool = True) -> dict[str, dict[str, float]]:
    """group -> lemma -> TF-IDF, each group's lemma sequence one pseudo-document: the scores of
    :func:`tfidf_keywords` (``lemmatised=True``, ``top_n=None``) for the same sequences, without
    building (lemma, surface) pairs or a surface map."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    groups = list(group_lemmas)
    docs = [list(group_lemmas[g]) for g in groups]
    if not any(docs):
        return {}
    vec = TfidfVectorizer(analyzer=lambda x: x, lowercase=False, min_df=min_df, sublinear_tf=sublinear_tf)
    matrix = vec.fit_transform(docs)
    vocab = vec.get_feature_names_out()
    out: dict[str, dict[str, float]] = {}
    for gi, g in enumerate(groups):
        row = matrix.getrow(gi).tocoo()
        for j, v in zip(row.col, row.data):
            out.setdefault(g, {})[vocab[j]] = float(v)
    return out


def log_likelihood_g2(a: float, b: float, c: float, d: float) -> float:
    """Rayson & Garside (2000) log-likelihood G2 for a word with frequency ``a`` in a
    corpus of ``c`` tokens and ``b`` in a corpus of ``d`` tokens:
    E1 = c(a+b)/(c+d), E2 = d(a+b)/(c+d), G2 = 2(a ln(a/E1) + b ln(b/E2)),
    a zero frequency contributing 0."""
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    g2 = 0.0
    if a > 0:
        g2 += a * math.log(a / e1)
    if b > 0:
        g2 += b * math.log(b / e2)
    return 2.0 * g2


def log_ratio(a: float, b: float, c: float, d: float, zero: float = 0.5) -> float:
    """Hardie's (2014) Log Ratio: log2 of the ratio of relative frequencies, a zero
    frequency replaced by ``zero`` (0.5)."""
    a = a if a > 0 else zero
    b = b if b > 0 else zero
    return math.log2((a / c) / (b / d))


def keyness(
    target_counts: Mapping[str, int],
    reference_counts: Mapping[str, int],
    min_freq: int = 3,
    target_total: int | None = None,
    reference_total: int | None = None,
) -> "pd.DataFrame":
    """Keyness of every item in a target corpus against a reference corpus.

    ``target_counts`` / ``reference_counts`` map lemma -> frequency (a Counter, dict
    or Series). Corpus sizes are the sums of the counts unless ``target_total`` /
    ``reference_total`` give the real token totals. Items whose combined frequency
    is below ``min_freq`` are left out (before the multiple-testing correction).

    Returns DataFrame(lemma, freq_target, freq_reference, rel_target,
    rel_reference (per 1,000 tokens), g2, log_ratio, direction ("+" overused in the
    target, "-" underused), p (chi-square with 1 df), p_bh (Benjamini-Hochberg, analysis.stats.p_adjust)),
    sorted by G2 descending then lemma.
    """
    import numpy as np
    import pandas as pd
    from scipy.stats import chi2

    from .stats import p_adjust

    tc = {str(k): int(v) for k, v in dict(target_counts).items() if v}
    rc = {str(k): int(v) for k, v in dict(reference_counts).items() if v}
    c = float(target_total if target_total is not None else sum(tc.values()))
    d = float(reference_total if reference_total is not None else sum(rc.values()))
    columns = [
        "lemma", "freq_target", "freq_reference", "rel_target", "rel_reference",
        "g2", "log_ratio", "direction", "p", "p_bh",
    ]
    if c <= 0 or d <= 0:
        return pd.DataFrame(columns=columns)
    rows = []
    for lem in sorted(set(tc) | set(rc)):
        a, b = tc.get(lem, 0), rc.get(lem, 0)
        if a + b < min_freq:
            continue
        g2 = log_likelihood_g2(a, b, c, d)
        lr = log_ratio(a, b, c, d)
        direction = "+" if a / c >= b / d else "-"
        rows.append([lem, a, b, 1000 * a / c, 1000 * b / d, g2, lr, direction])
    df = pd.DataFrame(rows, columns=columns[:-2])
    # one vectorised call (the same ufunc, element by element, as a call per lemma)
    df["p"] = chi2.sf(df["g2"].to_numpy(dtype=float), 1) if len(df) else np.zeros(0)
    df["p_bh"] = p_adjust(df["p"].to_numpy(dtype=float), "BH")
    df = df.sort_values(["g2", "lemma"], ascending=[False, True], kind="mergesort")
    return df.reset_index(drop=True)


def collocations(
    docs_tokens: Iterable[Sequence[str]] | Iterable[Sequence[tuple[str, str]]],
    lang: str = "lv",
    n: int = 2,
    min_count: int = 3,
    measure: str = "llr",
    top_n: int = 30,
    remove_stopwords: bool = True,
    lemmatised: bool = False,
) -> "pd.DataFrame":
    """Bigram or trigram collocations on lemmas (NLTK's association measures).

    Documents are lists of tokens; n-grams never cross a document boundary, nor a
    dropped token (punctuation, stopword, ...) since those split the sequence.
    ``measure`` is ``"llr"`` (Dunning's likelihood ratio) or ``"pmi"``. Returns
    DataFrame(lemmas, surface, score, count): ``lemmas`` joined by spaces,
    ``surface`` the most common surface sequence seen for that lemma n-gram.

    ``lemmatised=True``: each document is already a run of adjacent content words as
    (lemma, surface) pairs, used as it is (no tokenising, lemmatising or stopword
    removal; ``lang`` and ``remove_stopwords`` are then ignored); n-grams never cross
    from one run to the next.

    The scores are those of NLTK's ``BigramCollocationFinder`` /
    ``TrigramCollocationFinder.from_words`` over the runs joined by a separator (n-grams
    containing it dropped), with the counts made by Counters.
    """
    if n not in (2, 3):
        raise ValueError("n must be 2 or 3")
    if measure not in ("llr", "pmi"):
        raise ValueError('measure must be "llr" or "pmi"')
    if lemmatised:
        segments = [list(d) for d in docs_tokens]
        segments = [seg for seg in segments if seg]
    else:
        segments = _content_runs(docs_tokens, lang, remove_stopwords)
    return _ngram_associations(segments, n, min_count, measure, top_n)


def _content_runs(
    docs_tokens: Iterable[Sequence[str]], lang: str, remove_stopwords: bool
) -> list[list[tuple[str, str]]]:
    """Runs of content words (lemma, surface) between dropped tokens and document ends."""
    sw = stopwords(lang) if remove_stopwords else frozenset()
    segments: list[list[tuple[str, str]]] = []
    for doc in docs_tokens:
        doc = list(doc)
        restore = _should_restore(doc)
        seg: list[tuple[str, str]] = []
        for t in doc:
            lt = t.lower()
            keep = is_word(t) and lt not in sw
            if keep:
                lem = lemmatize(t, lang, restore).lower() if lang in ("lv", "ru") else lt
                keep = lem not in sw
            if keep:
                seg.append((lem, lt))
            elif seg:
                segments.append(seg)
                seg = []
        if seg:
            segments.append(seg)
    return segments


# NLTK's bigram and trigram association measures (nltk.metrics.association, Apache License 2.0,
# (C) NLTK Project), the same arithmetic in the same order, so the scores are the same floats
# without importing NLTK at run time (tests/test_text.py compares them with NLTK's).
_SMALL = 1e-20


def _product(values) -> float:
    return functools.reduce(lambda x, y: x * y, values)


def _llr(cont: Sequence[int], expected: Iterable[float]) -> float:
    return 2 * sum(obs * math.log(obs / (exp + _SMALL) + _SMALL) for obs, exp in zip(cont, expected))


def _bigram_llr(n_ii: int, n_ix_xi: tuple[int, int], n_xx: int) -> float:
    """BigramAssocMeasures.likelihood_ratio (Manning and Schütze 5.3.4)."""
    n_ix, n_xi = n_ix_xi
    n_oi = n_xi - n_ii
    n_io = n_ix - n_ii
    cont = (n_ii, n_oi, n_io, n_xx - n_ii - n_oi - n_io)
    total = sum(cont)
    return _llr(cont, ((cont[i] + cont[i ^ 1]) * (cont[i] + cont[i ^ 2]) / total for i in range(4)))


def _bigram_pmi(n_ii: int, n_ix_xi: tuple[int, int], n_xx: int) -> float:
    """BigramAssocMeasures.pmi (Manning and Schütze 5.4)."""
    return math.log2(n_ii * n_xx ** 1) - math.log2(_product(n_ix_xi))


def _trigram_llr(n_iii: int, n_iix_tuple: tuple[int, int, int], n_ixx_tuple: tuple[int, int, int],
                 n_xxx: int) -> float:
    """TrigramAssocMeasures.likelihood_ratio."""
    n_iix, n_ixi, n_xii = n_iix_tuple
    n_ixx, n_xix, n_xxi = n_ixx_tuple
    n_oii = n_xii - n_iii
    n_ioi = n_ixi - n_iii
    n_iio = n_iix - n_iii
    n_ooi = n_xxi - n_iii - n_oii - n_ioi
    n_oio = n_xix - n_iii - n_oii - n_iio
    n_ioo = n_ixx - n_iii - n_ioi - n_iio
    n_ooo = n_xxx - n_iii - n_oii - n_ioi - n_iio - n_ooi - n_oio - n_ioo
    cont = (n_iii, n_oii, n_ioi, n_ooi, n_iio, n_oio, n_ioo, n_ooo)
    n_all = sum(cont)
    bits = [1, 2, 4]
    expected = (_product(sum(cont[x] for x in range(8) if (x & j) == (i & j)) for j in bits) / (n_all ** 2)
                for i in range(8))
    return _llr(cont, expected)


def _trigram_pmi(n_iii: int, n_iix_tuple, n_ixx_tuple: tuple[int, int, int], n_xxx: int) -> float:
    """TrigramAssocMeasures.pmi."""
    return math.log2(n_iii * n_xxx ** 2) - math.log2(_product(n_ixx_tuple))


def _ngram_associations(
    segments: Sequence[Sequence[tuple[str, str]]], n: int, min_count: int, measure: str, top_n: int
) -> "pd.DataFrame":
    """Association scores of the n-grams (n = 2 or 3) of non-empty runs of (lemma, surface)."""
    import pandas as pd

    sep = "\x00"
    seq: list[str] = []
    for seg in segments:
        seq.extend(lem for lem, _ in seg)
        seq.append(sep)
    columns = ["lemmas", "surface", "score", "count"]
    if not seq:
        return pd.DataFrame(columns=columns)
    total = len(seq)
    word_fd = Counter(seq)
    pairs = Counter(zip(seq, seq[1:]))
    if n == 2:
        fn = _bigram_llr if measure == "llr" else _bigram_pmi
        scored = [(ng, fn(c, (word_fd[ng[0]], word_fd[ng[1]]), total)) for ng, c in pairs.items()
                  if c >= min_count and sep not in ng]
        freq = pairs
    else:
        fn = _trigram_llr if measure == "llr" else _trigram_pmi
        triples = Counter(zip(seq, seq[1:], seq[2:]))
        wild = Counter(zip(seq, seq[2:]))
        scored = [(ng, fn(c, (pairs[ng[:2]], wild[(ng[0], ng[2])], pairs[ng[1:]]),
                          (word_fd[ng[0]], word_fd[ng[1]], word_fd[ng[2]]), total))
                  for ng, c in triples.items() if c >= min_count and sep not in ng]
        freq = triples
    top = sorted(scored, key=lambda x: (-x[1], x[0]))[:top_n]
    wanted = {ng for ng, _ in top}
    surfaces: dict[tuple, Counter] = {ng: Counter() for ng in wanted}
    for seg in segments:
        lems = tuple(lem for lem, _ in seg)
        for k in range(len(seg) - n + 1):
            ng = lems[k:k + n]
            if ng in wanted:
                surfaces[ng][" ".join(s for _, s in seg[k:k + n])] += 1
    rows = [
        (" ".join(ng), min(surfaces[ng].items(), key=lambda kv: (-kv[1], kv[0]))[0], float(score), int(freq[ng]))
        for ng, score in top
    ]
    return pd.DataFrame(rows, columns=columns)
