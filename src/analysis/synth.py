"""The synthetic consultations: Forms exports, e-mailed proposals and planted truth.

Two paths, one module:

- ``synth(n, seed, out_dir)`` writes the embedded sample (``data/sample/``) deterministically
  from the seed (one ``numpy.random.Generator`` tree, no global random state, no wall clock).
  Everything about that survey -- its population and self-selection, the rating model and the
  planted effects, the themes and phrase banks of the open answers, the personal data and the
  e-mails -- is data in ``data/sample/generator/*.yaml``; this module only draws from it:

  - ``forms_<lang>.xlsx`` for each form: the Microsoft Forms export format (headers and labels
    from the codebook; the file named ``shuffled_form`` has its Likert columns shuffled);
  - ``proposals.mbox``: proposals sent by e-mail (plain, HTML, multipart, UTF-8 and
    windows-1257, quoted-printable, base64 and 8bit, signatures, quoted replies, attachments);
  - ``truth.json``: everything that was planted, so that tests can check the pipeline.

  The respondents are drawn from the synthetic population with self-selection propensities and
  rate the activities through a latent normal model (sector means, a respondent random intercept,
  a respondent-by-sector effect, item noise) cut into the scale's points.

- ``synth_codebook(codebook, n, seed, out_dir)`` writes a synthetic export for ANY codebook
  (see "Any codebook" below): every form language, the codebook's headers and labels, labelled
  or numeric scales with or without "don't know", reversed items, multi-selects in either
  layout, optional meta and time columns, missing-value codes and an optional e-mail channel.
"""
from __future__ import annotations

import argparse
import bisect
import copy
import datetime as dt
import gc
import html
import io
import json
import mailbox
import math
import re
import sys
import time
import unicodedata
import zipfile
from email import policy as email_policy
from email import utils as email_utils
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .codebook import Codebook, load as load_codebook, normalize
from .paths import ROOT

GENERATOR_VERSION = 1
SAMPLE_GENERATOR = ROOT / "data" / "sample" / "generator"     # the embedded sample's generator data


def _data(name: str, folder: Path = SAMPLE_GENERATOR) -> dict[str, Any]:
    path = Path(folder) / name
    try:
        got = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuntimeError(f"{path}: cannot read the generator data ({exc})") from None
    if not isinstance(got, dict):
        raise RuntimeError(f"{path}: expected a mapping at the top level")
    return got


_SURVEY = _data("survey.yaml")
_RESP = _data("respondents.yaml")
_RATINGS = _data("ratings.yaml")
_TEXTS = _data("texts.yaml")
_PERSONAL = _data("personal.yaml")
_EMAIL = _data("email.yaml")

CODEBOOK_PATH = _SURVEY["codebook"]
POPULATION_FILE = _SURVEY["population_file"]
FORM_FILES: dict[str, str] = _SURVEY["form_files"]
FORMS = tuple(FORM_FILES)                             # the form languages, main form first
MBOX_FILE = _SURVEY["mbox_file"]
TRUTH_FILE = "truth.json"
SHUFFLED_FORM = _SURVEY["shuffled_form"]              # the file whose Likert columns are shuffled
WINDOW_START = dt.datetime.fromisoformat(_SURVEY["window_start"])
DEADLINE = dt.datetime.fromisoformat(_SURVEY["deadline"])   # naive local time as Forms exports
TIMEZONE = _SURVEY["timezone"]
FIRST_DAY = dt.date.fromisoformat(_SURVEY["first_day"])     # the day the form was opened
FIXED_WORKBOOK_TIME = dt.datetime.fromisoformat(_SURVEY["workbook_time"])
ZIP_TIME = FIXED_WORKBOOK_TIME.timetuple()[:6]
DATE_FORMAT = "m/d/yy h:mm:ss"                        # as Forms' "Open in Excel" shows the times
META_HEADERS = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
SECOND_FORM_SHARE = _SURVEY["ru_share"]               # share of responses through the second form

# --------------------------------------------------------------------------------------------
# Themes and phrase banks (data/sample/generator/texts.yaml). In a phrase "[a|b|c]" picks one
# alternative; every sentence is a whole clause, so any combination stays grammatical.
# --------------------------------------------------------------------------------------------
THEMES: list[dict[str, str]] = _TEXTS["themes"]
THEME_CODES = [t["code"] for t in THEMES]
CROSS_CUTTING = [t["code"] for t in THEMES if t["sector"] == "cross-cutting"]
PHRASES: dict[str, dict[str, list[str]]] = _TEXTS["phrases"]
OPENERS, CONNECTORS, FILLERS, NOTHING = (_TEXTS[k] for k in ("openers", "connectors", "fillers", "nothing"))
# Words that keep their capital after an opener or connector (proper names, abbreviations)
_PROPER = tuple(_TEXTS["proper_nouns"])

# Latvian diacritics as typed on a keyboard without a Latvian layout
_STRIP = str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ")


# --------------------------------------------------------------------------------------------
# The synthetic population and the self-selection of who answers a municipal web survey
# (data/sample/generator/respondents.yaml)
# --------------------------------------------------------------------------------------------
POPULATION: dict[str, dict[str, int]] = _RESP["population"]
PROPENSITY: dict[str, dict[str, float]] = _RESP["propensity"]
UNDISCLOSED_GENDER = _RESP["undisclosed_gender"]
TARGET_GROUP = _RESP["target_group"]

# --------------------------------------------------------------------------------------------
# The rating model (latent normal, total within-group SD 1) and the planted effects
# (data/sample/generator/ratings.yaml)
# --------------------------------------------------------------------------------------------
SECTOR_MEAN = _RATINGS["sector_mean"]
ITEM_OFFSET = _RATINGS["item_offset"]
SD_RESPONDENT = math.sqrt(_RATINGS["var_respondent"])          # random intercept: all items of a respondent
SD_RESP_SECTOR = math.sqrt(_RATINGS["var_respondent_sector"])  # respondent x sector: items within a sector correlate more
SD_ITEM = math.sqrt(_RATINGS["var_item"])                      # item noise
CUTS = _RATINGS["cuts"]                                        # latent -> scale points
DONT_KNOW = _RATINGS["dont_know"]
SKIP_SECTOR = _RATINGS["skip_sector"]                          # a respondent skips a whole Likert question
SKIP_ITEM = _RATINGS["skip_item"]                              # one statement left empty
EFFECTS: list[dict[str, Any]] = _RATINGS["effects"]
OUTCOMES = _RATINGS["outcomes"]

# --------------------------------------------------------------------------------------------
# Personal data and hostile strings planted in texts (data/sample/generator/personal.yaml)
# --------------------------------------------------------------------------------------------
NAMES = _PERSONAL["names"]
TRANSLIT = _PERSONAL["translit"]
MAIL_DOMAINS = _PERSONAL["mail_domains"]
HOSTILE = _PERSONAL["hostile"]
PII_SENTENCES = _PERSONAL["pii_sentences"]
OCCUPATION_OTHER = _RESP["occupation_other"]
CHANNEL_OTHER = _RESP["channel_other"]


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


_CDF: dict[tuple, tuple[list, list[float]]] = {}


def _wpick(rng: np.random.Generator, weights: dict):
    """A key drawn with probability proportional to its weight: exactly what
    ``rng.choice(len(keys), p=p / p.sum())`` draws (numpy's cumulative sum, normalised by its
    last value, one ``rng.random()``, searchsorted side="right"), the distribution cached."""
    sig = tuple(weights.items())
    got = _CDF.get(sig)
    if got is None:
        keys = list(weights)
        p = np.array([weights[k] for k in keys], dtype=float)
        p = p / p.sum()
        cdf = p.cumsum()
        cdf /= cdf[-1]
        if len(_CDF) > 4096:
            _CDF.clear()
        got = _CDF[sig] = (keys, cdf.tolist())
    keys, cdf = got
    return keys[bisect.bisect_right(cdf, rng.random())]


def _expand(rng: np.random.Generator, template: str) -> str:
    out = re.sub(r"\[([^\[\]]*)\]", lambda m: _pick(rng, m.group(1).split("|")), template)
    return re.sub(r"\s+([,.!?])", r"\1", re.sub(r"  +", " ", out)).strip()


def _lower_first(s: str) -> str:
    if not s or s.startswith(_PROPER):
        return s
    return s[0].lower() + s[1:]


def strip_diacritics(text: str) -> str:
    """Latvian text as typed without the Latvian keyboard layout ("majoklu pieejamiba")."""
    return text.translate(_STRIP)


def _typo(rng: np.random.Generator, text: str) -> str:
    words = [(m.start(), m.end()) for m in re.finditer(r"[^\W\d_]{5,}", text)]
    if not words:
        return text
    a, b = _pick(rng, words)
    w = text[a:b]
    k = int(rng.integers(1, len(w) - 1))
    op = int(rng.integers(3))
    if op == 0:
        w2 = w[:k] + w[k + 1] + w[k] + w[k + 2:]
    elif op == 1:
        w2 = w[:k] + w[k + 1:]
    else:
        w2 = w[:k] + w[k] + w[k:]
    return text[:a] + w2 + text[b:]


def _email_of(rng: np.random.Generator, name: str, lang: str) -> str:
    first, last = name.lower().split()[:2]
    first = "".join(TRANSLIT.get(c, c) for c in first)
    last = "".join(TRANSLIT.get(c, c) for c in last)
    user = _pick(rng, [f"{first}.{last}", f"{first}{last}", f"{first[0]}.{last}", f"{first}.{last}{int(rng.integers(70, 99))}"])
    return f"{user}@{_pick(rng, MAIL_DOMAINS[lang])}"


def _phone(rng: np.random.Generator, landline: bool = False) -> str:
    """A Latvian number in one of the common spellings."""
    if landline:
        d = "634" + "".join(str(int(x)) for x in rng.integers(0, 10, 5))
        return _pick(rng, [d, f"{d[:3]} {d[3:]}", f"+371 {d}", f"6{d[1:3]} {d[3:5]} {d[5:]}"])
    d = "2" + str(int(rng.choice([0, 2, 6, 7, 8, 9]))) + "".join(str(int(x)) for x in rng.integers(0, 10, 6))
    return _pick(rng, [f"+371 {d}", f"+371{d}", f"{d[:2]} {d[2:5]} {d[5:]}", f"{d[:4]} {d[4:]}", d,
                       f"(+371) {d[:2]} {d[2:5]} {d[5:]}"])


def _personal_code(rng: np.random.Generator) -> str:
    if rng.random() < 0.6:
        day, month, year = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(40, 100))
        return f"{day:02d}{month:02d}{year:02d}-1{int(rng.integers(0, 10000)):04d}"
    return f"32{int(rng.integers(0, 10000)):04d}-{int(rng.integers(0, 100000)):05d}"


def _iban(rng: np.random.Generator) -> str:
    if rng.random() < 0.4:
        return "LV80BANK0000435195001"
    bank = _pick(rng, ["HABA", "UNLA", "RIKO", "PARX", "NDEA"])
    acct = "".join(str(int(x)) for x in rng.integers(0, 10, 13))
    digits = "".join(str(int(c, 36)) for c in bank + acct + "LV00")
    check = 98 - int(digits) % 97
    iban = f"LV{check:02d}{bank}{acct}"
    if rng.random() < 0.5:
        iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def compose_text(rng: np.random.Generator, lang: str, themes: list[str], *, sentences: int | None = None) -> str:
    """A proposal in `lang` about `themes`: 1–2 sentences per theme, openers, connectors, fillers."""
    parts: list[str] = []
    for k, theme in enumerate(themes):
        bank = PHRASES[lang][theme]
        m = sentences or (1 if rng.random() < 0.6 else 2)
        idx = rng.permutation(len(bank))[:m]
        for j, i in enumerate(idx):
            s = _expand(rng, bank[int(i)])
            if k > 0 and j == 0 and rng.random() < 0.6:
                s = _pick(rng, CONNECTORS[lang]) + _lower_first(s)
            parts.append(s)
    if rng.random() < 0.3:
        parts[0] = _pick(rng, OPENERS[lang]) + _lower_first(parts[0])
    if rng.random() < 0.2:
        parts.append(_pick(rng, FILLERS[lang]))
    sep = "\n" if rng.random() < 0.1 and len(parts) > 1 else " "
    text = sep.join(parts)
    if rng.random() < 0.08:
        text = text.rstrip(".")
    return text


# --------------------------------------------------------------------------------------------
# Respondents
# --------------------------------------------------------------------------------------------
GROUPINGS = _RESP["groupings"]
SINGLES = _RESP["singles"]
_EDUCATION = _RESP["education"]
_OCCUPATION = _RESP["occupation"]
_CHILDREN = _RESP["children"]
_YEARS = _RESP["years"]
_CHANNELS = _RESP["channels"]
_INFO_LANGUAGE = _RESP["info_language"]
_IN_CITY = _RESP["in_city"]
MISSING_SINGLE = _RESP["missing_single"]
MISSING_MULTI = _RESP["missing_multi"]
MISSING_RATING = _RESP["missing_rating"]
TEXT_RATE = _TEXTS["text_rate"]
TEXT_LANGUAGE = _TEXTS["text_language"]
NO_DIACRITICS = _TEXTS["no_diacritics"]
TYPO_RATE = _TEXTS["typo_rate"]
CONTACT_RATE = _TEXTS["contact_rate"]


def _sample_share(var: str) -> dict[str, float]:
    return {k: POPULATION[var][k] * PROPENSITY[var][k] for k in POPULATION[var]}


# --------------------------------------------------------------------------------------------
# Compact row parts: a million respondents must fit in a few gigabytes (issue 15). The row stays
# a dict; its bulky parts are shared when equal or kept in slots instead of dicts.
# --------------------------------------------------------------------------------------------
class _Frozen(dict):
    """A shared empty mapping (a row's notes or overrides until something is planted): it is
    replaced, never changed."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a shared empty mapping: assign a new one instead")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


_EMPTY = _Frozen()
_SHARED: dict[tuple, Any] = {}


def _shared(value):
    """One object for equal answer patterns (`answered` dicts, multi-select lists), which are
    never changed in place once made."""
    key = (type(value), tuple(value.items()) if isinstance(value, dict) else tuple(value))
    got = _SHARED.get(key)
    if got is None:
        if len(_SHARED) > 200_000:
            _SHARED.clear()
        got = _SHARED[key] = value
    return got


class _Text:
    """One open answer: what the dict {"variable", "lang", "themes", "text", "diacritics",
    "typo", "pii", "hostile"} held, in slots (read and set by key as that dict was)."""

    __slots__ = ("variable", "lang", "themes", "text", "diacritics", "typo", "pii", "hostile")

    def __init__(self, variable, lang, themes, text, diacritics, typo, pii=(), hostile=()):
        self.variable, self.lang, self.themes, self.text = variable, lang, themes, text
        self.diacritics, self.typo, self.pii, self.hostile = diacritics, typo, pii, hostile

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        setattr(self, key, value)


_LIKERT_CODE = {None: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, "dk": 6}
_LIKERT_VALUE = (None, 1, 2, 3, 4, 5, "dk")


class _Likert:
    """A respondent's Likert answers {item: 1..5, "dk" or None} as one byte per item (the item
    order shared by all rows); read like the dict it replaces."""

    __slots__ = ("_index", "_codes")

    def __init__(self, index: dict[str, int], values):
        self._index = index
        self._codes = bytes(_LIKERT_CODE[v] for v in values)

    def __getitem__(self, item):
        return _LIKERT_VALUE[self._codes[self._index[item]]]

    def __setitem__(self, item, value):
        b = bytearray(self._codes)
        b[self._index[item]] = _LIKERT_CODE[value]
        self._codes = bytes(b)

    def values(self) -> list:
        return [_LIKERT_VALUE[c] for c in self._codes]

    def items(self):
        return zip(self._index, self.values())

    def __iter__(self):
        return iter(self._index)

    def __len__(self):
        return len(self._codes)

    def __deepcopy__(self, memo):
        got = _Likert.__new__(_Likert)
        got._index, got._codes = self._index, self._codes
        return got


def _new_respondent(rng: np.random.Generator, form: str, key: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    tg = _wpick(rng, TARGET_GROUP)
    c["target_group"] = tg
    c["gender"] = "undisclosed" if rng.random() < UNDISCLOSED_GENDER else _wpick(rng, _sample_share("gender"))
    age = _wpick(rng, _sample_share("age_group"))
    if tg == "investor" and age in ("lt18", "18_24"):
        age = "35_44"
    c["age_group"] = age
    in_city = _IN_CITY[tg]
    c["district"] = _wpick(rng, _sample_share("district")) if rng.random() < in_city else "not_in_city"
    if c["district"] == "not_in_city":
        c["years_in_city"] = "not_in_city"
    elif tg == "future_resident":
        c["years_in_city"] = "lt1"
    else:
        c["years_in_city"] = _wpick(rng, _YEARS["young" if age == "lt18" else "adult"])
    band = "young" if age == "lt18" else "18_24" if age == "18_24" else "old" if age in ("65_74", "75plus") else "adult"
    c["education"] = _wpick(rng, _EDUCATION[band])
    occ = ("investor" if tg == "investor" else age if age in ("lt18", "18_24", "55_64")
           else "old" if age in ("65_74", "75plus") else "adult")
    c["occupation"] = _wpick(rng, _OCCUPATION[occ])
    c["children"] = "yes" if rng.random() < _CHILDREN[age] else "no"
    langs = [k for k, p in _INFO_LANGUAGE[form].items() if rng.random() < p] or [form]
    chan = dict(_CHANNELS)
    if age in ("55_64", "65_74", "75plus"):
        chan["tv_radio"] += 0.2
        chan["social_media"] -= 0.25
    if age in ("65_74", "75plus"):
        chan["newsletter"] += 0.15
    channels = [k for k, p in chan.items() if rng.random() < p] or ["social_media"]
    r = {"key": key, "form": form, "codes": c, "info_language": langs, "info_channels": channels,
         "occupation_text": _pick(rng, OCCUPATION_OTHER[form]) if c["occupation"] == "other" else None,
         "channel_text": _pick(rng, CHANNEL_OTHER[form]) if "other" in channels else None,
         "answered": {}, "texts": {}, "contact": None, "email": "anonymous", "name": None,
         "problems": (), "override": _EMPTY, "notes": _EMPTY}
    # what the respondent left empty (the true codes stay for the planted effects)
    for v in SINGLES:
        r["answered"][v] = rng.random() >= MISSING_SINGLE
    for v, p in MISSING_MULTI.items():
        r["answered"][v] = rng.random() >= p
    r["answered"] = _shared(r["answered"])
    r["info_language"], r["info_channels"] = _shared(langs), _shared(channels)
    return r


def _effect_matrix(rows: list[dict], items: list[str]) -> np.ndarray:
    """The planted shift of every row and item: each effect's level shift added, effect by
    effect in EFFECTS order (the same additions, so the same floats, as row by row)."""
    eff = np.zeros((len(rows), len(items)))
    col = {it: j for j, it in enumerate(items)}
    for e in EFFECTS:
        if e.get("multi"):
            shift = [sum(s for lev, s in e["shift"].items() if lev in r[e["grouping"]]) for r in rows]
        else:
            get, g = e["shift"].get, e["grouping"]
            shift = [get(r["codes"][g], 0.0) for r in rows]
        x = np.array(shift, dtype=float)
        for it in e["items"]:
            eff[:, col[it]] += x
    return eff


def _is_straight(values: list) -> bool:
    """The straight-lining rule of the params (>= 95 % the same among >= 16 answers), with margin."""
    got = [x for x in values if x is not None]
    if len(got) < 16:
        return False
    top = max(got.count(x) for x in set(got))
    return top / len(got) >= 0.9


def _rate(rng: np.random.Generator, rows: list[dict], cb: Codebook) -> None:
    """Likert answers, life satisfaction and recommend from the latent model."""
    items = cb.likert_items
    sectors = list(cb.sectors)
    sec_of = np.array([sectors.index(cb.variables[it].sector) for it in items])
    n = len(rows)
    base = np.array([SECTOR_MEAN[cb.variables[it].sector] + ITEM_OFFSET.get(it, 0.0) for it in items])
    u = rng.normal(0, SD_RESPONDENT, n)
    v = rng.normal(0, SD_RESP_SECTOR, (n, len(sectors)))
    e = rng.normal(0, SD_ITEM, (n, len(items)))
    eff = _effect_matrix(rows, items)
    p_dk = np.array([DONT_KNOW.get(it, DONT_KNOW["default"]) for it in items])
    dk_re = rng.normal(0, 0.7, n)
    logit = np.log(p_dk / (1 - p_dk))[None, :] + dk_re[:, None]
    dk = rng.random((n, len(items))) < 1 / (1 + np.exp(-logit))
    skip = (rng.random((n, len(sectors))) < SKIP_SECTOR)[:, sec_of] | (rng.random((n, len(items))) < SKIP_ITEM)
    latent_fixed = base[None, :] + eff + u[:, None] + v[:, sec_of]
    index = {it: j for j, it in enumerate(items)}
    for i, r in enumerate(rows):
        for attempt in range(100):
            scores = np.digitize(latent_fixed[i] + e[i], CUTS) + 1
            vals = [None if skip[i, j] else "dk" if dk[i, j] else int(scores[j]) for j in range(len(items))]
            if not _is_straight(vals):
                break
            e[i] = rng.normal(0, SD_ITEM, len(items))           # an accidental straight-liner: draw again
        r["likert"] = _Likert(index, vals)
    sd_z = math.sqrt(SD_RESPONDENT ** 2 + SD_RESP_SECTOR ** 2)
    z = (u[:, None] + v) / sd_z
    zs = {s: z[:, k] for k, s in enumerate(sectors)}
    ls_c, rc_c = OUTCOMES["life_satisfaction"], OUTCOMES["recommend"]
    L = (ls_c["coefficients"]["z_urban"] * zs["urban"] + ls_c["coefficients"]["z_culture"] * zs["culture"]
         + rng.normal(0, ls_c["noise_sd"], n))
    ls = np.clip(np.round(ls_c["intercept"] + ls_c["scale"] * L), 1, 10).astype(int)
    rec_l = rc_c["coefficients"]["L"] * L + rc_c["coefficients"]["z_newcomers"] * zs["newcomers"] + rng.normal(0, rc_c["noise_sd"], n)
    rec = np.clip(np.round(rc_c["intercept"] + rc_c["scale"] * rec_l), 0, 10).astype(int)
    miss = rng.random((n, 2)) < MISSING_RATING
    for i, r in enumerate(rows):
        r["life_satisfaction"] = None if miss[i, 0] else int(ls[i])
        r["recommend"] = None if miss[i, 1] else int(rec[i])


_DAY_COUNT = (DEADLINE.date() - FIRST_DAY).days + 1
_DAY_W = np.array([1 + 6 * math.exp(-d / 4) + 3 * math.exp(-(_DAY_COUNT - 1 - d) / 2) for d in range(_DAY_COUNT)])
_HOUR_W = np.array([0.3, 0.15, 0.1, 0.05, 0.05, 0.1, 0.4, 1, 1.5, 2, 2.2, 2.2, 2.3, 2, 1.8, 1.7, 1.7, 1.8, 2,
                    2.4, 2.6, 2.3, 1.6, 0.8])


def _choice_cdf(w: np.ndarray) -> list[float]:
    """What rng.choice(len(w), p=w / w.sum()) searches: its normalised cumulative sum."""
    cdf = (w / w.sum()).cumsum()
    cdf /= cdf[-1]
    return cdf.tolist()


_DAY_CDF, _HOUR_CDF = _choice_cdf(_DAY_W), _choice_cdf(_HOUR_W)


def _completion(rng: np.random.Generator) -> dt.datetime:
    day = bisect.bisect_right(_DAY_CDF, rng.random())          # = rng.choice(_DAY_COUNT, p=...)
    hour = bisect.bisect_right(_HOUR_CDF, rng.random())        # = rng.choice(24, p=...)
    t = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(hour, int(rng.integers(60)), int(rng.integers(60))))
    if t > DEADLINE - dt.timedelta(minutes=1):
        t = DEADLINE - dt.timedelta(seconds=int(rng.integers(120, 3000)))
    return t


def _duration(rng: np.random.Generator) -> int:
    """Seconds spent on the form: log-normal, median ~9 min, never below 250 s unless planted."""
    if rng.random() < 0.03:
        return int(rng.integers(1500, 7200))                     # left the form open
    while True:
        d = int(round(540 * math.exp(rng.normal(0, 0.42))))
        if d >= 250:
            return d


# --------------------------------------------------------------------------------------------
# Texts in the survey
# --------------------------------------------------------------------------------------------
TEXT_EFFECTS = _TEXTS["text_effects"]
_TEXT_RULES = _TEXTS["text_effect_rules"]
_CROSS_WEIGHTS = _TEXTS["cross_cutting_weights"]


def _in_levels(rule: dict, r: dict, lang: str) -> bool:
    if rule["grouping"] == "form_language":
        return lang in rule["levels"] or r["form"] in rule["levels"]
    return r["codes"][rule["grouping"]] in rule["levels"]


def _themes_for(rng: np.random.Generator, variable: str, r: dict, lang: str, cb: Codebook) -> list[str]:
    cross = dict(_CROSS_WEIGHTS)
    for rule in _TEXT_RULES:
        if _in_levels(rule, r, lang):
            cross[rule["theme"]] *= rule["cross_multiplier"]
    if not cb.variables[variable].sector:                       # the open question about anything
        w = {t: (2.0 * cross[t] if t in cross else 1.0) for t in THEME_CODES}
        first = _wpick(rng, w)
        themes = [first]
        if rng.random() < 0.35:
            w.pop(first)
            themes.append(_wpick(rng, w))
        return themes
    sector = cb.variables[variable].sector
    own = [t["code"] for t in THEMES if t["sector"] == sector]
    themes = [_pick(rng, own)]
    added = False
    for rule in _TEXT_RULES:
        p = rule.get("add_to_sector_text")
        if p and _in_levels(rule, r, lang) and rng.random() < p:
            themes.append(rule["theme"])
            added = True
            break
    if not added and rng.random() < 0.3:
        rest = [t for t in own if t not in themes]
        if rest and rng.random() < 0.5:
            themes.append(_pick(rng, rest))
        else:
            themes.append(_wpick(rng, cross))
    return themes


def _survey_text(rng: np.random.Generator, variable: str, r: dict, cb: Codebook) -> _Text:
    lang = _wpick(rng, TEXT_LANGUAGE[r["form"]])
    if rng.random() < 0.06:
        return _Text(variable, lang, [], _pick(rng, NOTHING[lang]), True, False)
    themes = _themes_for(rng, variable, r, lang, cb)
    text = compose_text(rng, lang, themes)
    diacritics = True
    if lang == "lv" and rng.random() < NO_DIACRITICS:
        text, diacritics = strip_diacritics(text), False
    typo = rng.random() < TYPO_RATE
    if typo:
        text = _typo(rng, text)
    return _Text(variable, lang, themes, text, diacritics, typo)


def _plant_pii(rng: np.random.Generator, rec: dict, kind: str) -> None:
    lang = rec["lang"]
    value = {"name": lambda: _pick(rng, NAMES[lang]),
             "email": lambda: _email_of(rng, _pick(rng, NAMES[lang]), lang),
             "phone": lambda: _phone(rng, landline=rng.random() < 0.2),
             "personal_code": lambda: _personal_code(rng),
             "iban": lambda: _iban(rng)}[kind]()
    sentence = _pick(rng, PII_SENTENCES[lang][kind]).format(v=value)
    rec["text"] = f"{rec['text']} {sentence}" if rng.random() < 0.75 or kind == "name" else f"{sentence} {rec['text']}"
    rec["pii"] = [*rec["pii"], {"type": kind, "value": value}]


def _plant_hostile(rng: np.random.Generator, rec: dict, h: dict) -> None:
    value = h["value"]
    if h["kind"] == "formula":
        lead = {"=": "", "+": " — zvaniet, ja vajag vairāk ideju." if rec["lang"] == "lv" else " — звоните.",
                "-": " ", "@": " "}[value[0]]
        rec["text"] = f"{value}{lead} {rec['text']}"
        rec["text"] = re.sub(r"  +", " ", rec["text"])
        if value.startswith("+371"):
            rec["pii"] = [*rec["pii"], {"type": "phone", "value": value}]
    else:
        rec["text"] = f"{rec['text']} {value}"
    rec["hostile"] = [*rec["hostile"], {"kind": h["kind"], "value": value, "at_start": h["kind"] == "formula"}]


# --------------------------------------------------------------------------------------------
# Planted data-quality problems
# --------------------------------------------------------------------------------------------
PROBLEM_KINDS = ["duplicate", "speeder", "straightliner", "late", "empty", "unknown_label", "alias_label", "pii_meta"]
EXCLUDING = {"duplicate", "speeder", "straightliner", "late", "empty"}    # rows not "clean" for effect checks
_HYPHENABLE = _RESP["hyphenable"]


def _mangle(rng: np.random.Generator, label: str, known: set[str]) -> str:
    """A typo'd or hand-edited label that the codebook does not know."""
    cands = [strip_diacritics(label), label.lower(), label + ".", label[:-1], label.upper(),
             label + " (?)", label.replace(" ", "  ", 1), label[0] + label[1:].replace("а", "a", 1)]
    for i in rng.permutation(len(cands)):
        c = cands[int(i)]
        if normalize(c) and normalize(c) != normalize(label) and normalize(c) not in known:
            return c
    raise RuntimeError(f"cannot make an unknown label from {label!r}")


def _problem_counts(n: int, n_ru: int) -> dict[str, dict[str, int]]:
    k = int(np.clip(round(n / 110), 2, 12))
    k_ru = max(1, round(k * n_ru / n))
    return {"lv": {kind: k - k_ru for kind in PROBLEM_KINDS}, "ru": {kind: k_ru for kind in PROBLEM_KINDS}}


def _plant_problems(rng: np.random.Generator, rows: list[dict], counts: dict[str, int], cb: Codebook,
                    form: str) -> list[dict]:
    """Mark and apply the planted problems; returns the rows that will be submitted twice."""
    order = [int(i) for i in rng.permutation(len(rows))]
    taken: set[int] = set()

    def take(k: int, ok=lambda r: True) -> list[int]:
        got = []
        for i in order:
            if len(got) == k:
                break
            if i not in taken and ok(rows[i]):
                got.append(i)
                taken.add(i)
        if len(got) < k:
            raise ValueError(f"too few rows ({len(rows)}) to plant {k} problems of a kind in the {form} form")
        return got

    items = cb.likert_items
    for i in take(counts["speeder"]):
        r = rows[i]
        r["problems"] = [*r["problems"], "speeder"]
        r["duration"] = int(rng.integers(35, 111))
        for it in items:                                           # clicks through at random
            x = int(rng.integers(0, 7))
            r["likert"][it] = None if x == 6 else "dk" if x == 5 else x + 1
    for i in take(counts["straightliner"]):
        r = rows[i]
        r["problems"] = [*r["problems"], "straightliner"]
        score = int(rng.choice([5, 4, 3, 5, 1]))
        r["likert"] = {it: score for it in items}
        r["notes"] = {**r["notes"], "straight_score": score}
    for j, i in enumerate(take(counts["late"])):
        r = rows[i]
        r["problems"] = [*r["problems"], "late"]
        if j == 0:
            r["completion"] = DEADLINE + dt.timedelta(seconds=8 if form == "lv" else 95)
            r["duration"] = max(r["duration"], 400)
        else:
            r["completion"] = DEADLINE + dt.timedelta(seconds=int(rng.integers(3600, 4 * 86400)))
    for i in take(counts["empty"]):
        r = rows[i]
        r["problems"] = [*r["problems"], "empty"]
        r["answered"] = {k: False for k in r["answered"]}
        r["likert"] = {it: None for it in items}
        r["life_satisfaction"] = r["recommend"] = None
        r["occupation_text"] = r["channel_text"] = None
    for i in take(counts["unknown_label"]):
        r = rows[i]
        r["problems"] = [*r["problems"], "unknown_label"]
        rated = [it for it in items if isinstance(r["likert"][it], int)]
        singles = [v for v in SINGLES if r["answered"][v] and v != "occupation"]
        var = _pick(rng, rated) if (rng.random() < 0.5 and rated) else _pick(rng, singles)
        if cb.variables[var].type == "likert":
            label = cb.label_of(var, r["likert"][var], form)
            intended = r["likert"][var]
        else:
            intended = r["codes"][var]
            label = cb.label_of(var, intended, form)
        bad = _mangle(rng, label, set(cb.label_map(var, form)) | {normalize(cb.scale_of(var).dont_know[form])}
                      if cb.variables[var].type == "likert" else set(cb.label_map(var, form)))
        r["override"] = {**r["override"], var: bad}
        r["notes"] = {**r["notes"], "unknown": {"variable": var, "label": bad, "intended": intended}}
    alias_vars = ["age_group"] + (["years_in_city"] if form == "lv" else [])
    for i in take(counts["alias_label"], lambda r: any(r["answered"][v] and r["codes"][v] in _HYPHENABLE[v]
                                                         for v in alias_vars)):
        r = rows[i]
        r["problems"] = [*r["problems"], "alias_label"]
        var = _pick(rng, [v for v in alias_vars if r["answered"][v] and r["codes"][v] in _HYPHENABLE[v]])
        label = cb.label_of(var, r["codes"][var], form).replace("\u2013", "-")
        r["override"] = {**r["override"], var: label}
        r["notes"] = {**r["notes"], "alias": {"variable": var, "label": label, "code": r["codes"][var]}}
    for i in take(counts["pii_meta"]):
        r = rows[i]
        r["problems"] = [*r["problems"], "pii_meta"]
        name = _pick(rng, NAMES[form])
        r["name"], r["email"] = name, _email_of(rng, name, form)
    originals = take(counts["duplicate"], lambda r: r["completion"] < DEADLINE - dt.timedelta(days=2))
    if form == "lv":                                                    # a clean answer one second-scale before the deadline
        (i,) = take(1)
        rows[i]["completion"] = DEADLINE - dt.timedelta(seconds=28)
        rows[i]["notes"] = {**rows[i]["notes"], "boundary": True}
    return originals


def _duplicate(rng: np.random.Generator, orig: dict) -> dict:
    """The same answers submitted again (a new Forms ID, a little later)."""
    d = copy.deepcopy(orig)
    d.update(key=orig["key"] + "-dup", problems=["duplicate"], duplicate_of=orig["key"], notes={},
             completion=orig["completion"] + dt.timedelta(seconds=int(rng.integers(120, 10800))),
             duration=_duration(rng))
    return d


# --------------------------------------------------------------------------------------------
# The Forms export
# --------------------------------------------------------------------------------------------
def form_columns(cb: Codebook, lang: str, perm: list[int] | None = None) -> list[tuple[str, str]]:
    """(header, variable) in form order; `perm` reorders the Likert columns among their slots."""
    meta = [(cb.role(role).headers[lang], cb.role(role).name)
            for role in ("id", "start_time", "completion_time", "email", "name", "last_modified")]
    questions = [v.name for v in cb.variables.values() if v.type not in ("meta", "likert", "text")]
    for s in cb.sectors.values():
        questions += list(s.items) + ([s.proposal] if s.proposal else [])
    questions += [v.name for v in cb.of_type("text") if v.name not in {s.proposal for s in cb.sectors.values()}]
    if perm is not None:
        slots = [i for i, q in enumerate(questions) if cb.variables[q].type == "likert"]
        likert = [questions[i] for i in slots]
        for slot, j in zip(slots, perm):
            questions[slot] = likert[j]
    return meta + [(cb.variables[q].headers[lang], q) for q in questions]


def _multi_cell(cb: Codebook, var: str, codes: list[str], lang: str, other_text: str | None) -> str:
    labels = []
    for opt in cb.variables[var].options:
        if opt.code in codes:
            labels.append(other_text if (opt.other and other_text) else opt.labels[lang])
    return "".join(f"{lab};" for lab in labels)


def _cells(r: dict, cb: Codebook, lang: str, memo: dict | None = None) -> dict[str, Any]:
    if memo is None:
        memo = {}

    def label_of(var, code):
        got = memo.get((var, code))
        if got is None:
            got = memo[(var, code)] = cb.label_of(var, code, lang)
        return got

    out: dict[str, Any] = {}
    for var in SINGLES:
        if not r["answered"][var]:
            out[var] = None
        elif var == "occupation" and r["codes"][var] == "other":
            out[var] = r["occupation_text"]
        else:
            out[var] = label_of(var, r["codes"][var])
    out["info_language"] = (_multi_cell(cb, "info_language", r["info_language"], lang, None)
                            if r["answered"]["info_language"] else None)
    out["info_channels"] = (_multi_cell(cb, "info_channels", r["info_channels"], lang, r["channel_text"])
                            if r["answered"]["info_channels"] else None)
    out["life_satisfaction"], out["recommend"] = r["life_satisfaction"], r["recommend"]
    for it, val in r["likert"].items():
        out[it] = (None if val is None else cb.scale_of(it).dont_know[lang] if val == "dk"
                   else label_of(it, val))
    for var in [v.name for v in cb.of_type("text")]:
        out[var] = r["texts"][var]["text"] if var in r["texts"] else None
    out["contact"] = r["contact"]
    out.update(r["override"])
    return out


def _row_cells(r: dict, cb: Codebook, lang: str, cols: list[tuple[str, str]], memo: dict) -> list[Any]:
    cells = _cells(r, cb, lang, memo)
    meta = [r["form_id"], r["start"], r["completion"], r["email"], r["name"], r["completion"]]
    return meta + [cells[var] for _, var in cols[6:]]


def _normalize_zip(data: bytes) -> bytes:
    """Rewrite an xlsx with fixed member dates, so that the same content gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, src.read(info.filename))
    return buf.getvalue()


STREAM_ROWS = 100_000     # larger exports get a ZIP64 sheet member (its XML passes 2 GB near 10^6 rows)
_DATE_HEADERS = ("Start time", "Completion time", "Last modified time")


def _openpyxl_workbook(headers: list[str], rows: list[list[Any]]) -> bytes:
    """One sheet as Forms exports it, built cell by cell with openpyxl: header row, date-time
    cells, text kept as text (normalised zip). The reference for synth_stream's writer."""
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    date_cols = {i + 1 for i, h in enumerate(headers) if h in _DATE_HEADERS}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(headers)
    for r, values in enumerate(rows, start=2):
        ws.append(values)
        # the row's cells by position (ws[ws.max_row] scans every cell: quadratic in the rows)
        for c, value in enumerate(values, start=1):
            if isinstance(value, str) and value.startswith("="):
                ws.cell(row=r, column=c).data_type = "s"            # text that looks like a formula stays text
            elif c in date_cols and value is not None:
                ws.cell(row=r, column=c).number_format = DATE_FORMAT
    wb.properties.creator = "Microsoft Forms (synthetic: analysis.synth)"
    wb.properties.lastModifiedBy = None
    wb.properties.created = FIXED_WORKBOOK_TIME
    wb.properties.modified = FIXED_WORKBOOK_TIME
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        ExcelWriter(wb, z).write_data()
    return _normalize_zip(buf.getvalue())


def write_forms_xlsx_openpyxl(path: Path, headers: list[str], rows: list[list[Any]]) -> None:
    """write_forms_xlsx as it was: every cell an openpyxl cell in memory (tests compare)."""
    Path(path).write_bytes(_openpyxl_workbook(headers, rows))


def write_forms_xlsx(path: Path, headers: list[str], rows, n_rows: int | None = None) -> None:
    """One sheet as Forms exports it: header row, date-time cells, text kept as text. `rows` is
    any iterable of cell lists (`n_rows` says how many when it has no len); the sheet is
    streamed (synth_stream), the bytes those of openpyxl's cell-by-cell workbook."""
    from itertools import chain

    from .synth_stream import write_workbook

    n_rows = len(rows) if n_rows is None else n_rows
    date_cols = {i + 1 for i, h in enumerate(headers) if h in _DATE_HEADERS}
    it = iter(rows)
    first = next(it, None)
    template = _openpyxl_workbook(headers, [] if first is None else [first])
    write_workbook(Path(path), template, headers, [] if first is None else chain([first], it), n_rows,
                   date_cols, ZIP_TIME, zip64=n_rows > STREAM_ROWS)


# --------------------------------------------------------------------------------------------
# E-mailed proposals
# --------------------------------------------------------------------------------------------
DEPARTMENT = tuple(_EMAIL["department"])
GREETINGS, INTROS, CLOSINGS, FOOTERS = (_EMAIL[k] for k in ("greetings", "intros", "closings", "footers"))
PHONE_LABEL, SUBJECTS, ACK = _EMAIL["phone_label"], _EMAIL["subjects"], _EMAIL["ack"]
LV_MONTHS, EN_DAYS, EN_MONTHS = _EMAIL["lv_months"], _EMAIL["en_days"], _EMAIL["en_months"]
ATTACHMENTS = {k: [tuple(a) for a in v] for k, v in _EMAIL["attachments"].items()}
EMAIL_LANGUAGE = _EMAIL["language_share"]
LOCAL_TZ = dt.timezone(dt.timedelta(hours=_SURVEY["utc_offset_hours"]))   # the window has no daylight-saving change
RIGA_TZ = LOCAL_TZ                                                        # older name


def _quote_header(lang: str, when: dt.datetime) -> str:
    name, addr = DEPARTMENT
    if lang == "lv":
        return f"{when.year}. gada {when.day}. {LV_MONTHS[when.month]} {when:%H:%M} {name} <{addr}> rakstīja:"
    return (f"On {EN_DAYS[when.weekday()]}, {when.day} {EN_MONTHS[when.month]} {when.year} at {when:%H:%M}, "
            f"{name} <{addr}> wrote:")


def _fake_attachment(rng: np.random.Generator, subtype: str) -> bytes:
    if subtype == "pdf":
        return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% synthetic attachment\n"
                + rng.bytes(int(rng.integers(200, 900))) + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    return b"PK\x03\x04\x14\x00\x06\x00" + rng.bytes(int(rng.integers(300, 1200)))


def _email_html(paragraphs: list[str], signature: list[str], quote: list[str] | None, charset: str) -> str:
    esc = [f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs]
    sig = "<p>" + "<br>".join(html.escape(s) for s in signature) + "</p>"
    q = ""
    if quote:
        q = ('<div class="gmail_quote"><div dir="ltr">' + html.escape(quote[0]) + "</div>"
             '<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">'
             + "".join(f"<div>{html.escape(x)}</div>" for x in quote[1:]) + "</blockquote></div>")
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>'
            f'<body><div dir="ltr">{"".join(esc)}{sig}</div>{q}</body></html>\n')


def _make_emails(rng: np.random.Generator, n_email: int, seed: int,
                 sink=None) -> tuple[list[EmailMessage], list[dict]]:
    """The e-mailed proposals and their truth; with `sink`, each message goes to sink(message,
    truth) as soon as it is made instead of into the returned list (which stays empty)."""
    from email.headerregistry import Address

    messages, truth = [], []
    late_at = set(int(i) for i in rng.choice(n_email, size=min(2, n_email // 10), replace=False)) if n_email >= 10 else set()
    hostile_at = {}
    if n_email >= 6:
        pos = [int(i) for i in rng.choice(n_email, size=2, replace=False)]
        hostile_at = {pos[0]: HOSTILE[0], pos[1]: HOSTILE[1]}
    # every kind of message occurs at least once in a mailbox of a dozen or more
    forced: dict[int, str] = {}
    if n_email >= 12:
        slots = [int(i) for i in rng.permutation([i for i in range(n_email) if i not in hostile_at and i not in late_at])]
        for feature, i in zip(["quote_lv", "quote_en", "html", "alternative", "attach", "cp1257_qp", "nodiac",
                               "ru", "en"], slots):
            forced[i] = feature
    for i in range(n_email):
        f = forced.get(i)
        lang = _wpick(rng, EMAIL_LANGUAGE)
        if f in ("quote_lv", "cp1257_qp", "nodiac"):
            lang = "lv"
        elif f in ("ru", "en"):
            lang = f
        name = _pick(rng, NAMES[lang])
        addr = _email_of(rng, name, lang)
        if i in late_at:
            h0, h1 = _SURVEY["late_email_hours"]
            when = dt.datetime.combine(DEADLINE.date() + dt.timedelta(days=1),
                                       dt.time(int(rng.integers(h0, h1)), int(rng.integers(60)), int(rng.integers(60))))
        else:
            when = _completion(rng)
        themes = []
        for _ in range(int(rng.choice([1, 2]))):
            t = _pick(rng, [t for t in THEME_CODES if t not in themes])
            themes.append(t)
        paragraphs = [compose_text(rng, lang, [t]) for t in themes]
        diacritics = True
        if lang == "lv" and (rng.random() < NO_DIACRITICS or f == "nodiac"):
            paragraphs, diacritics = [strip_diacritics(p) for p in paragraphs], False
        pii = [{"type": "name", "value": name, "where": "header:From"},
               {"type": "email", "value": addr, "where": "header:From"}]
        hostile = []
        if rng.random() < 0.12:
            kind = _pick(rng, ["personal_code", "iban", "email", "phone"])
            rec = {"lang": lang, "text": paragraphs[-1], "pii": [], "hostile": []}
            _plant_pii(rng, rec, kind)
            paragraphs[-1] = rec["text"]
            pii += [dict(p, where="body") for p in rec["pii"]]
        force_plain = i in hostile_at
        if force_plain:
            paragraphs[-1] = f"{paragraphs[-1]} {hostile_at[i]['value']}"
            hostile.append({"kind": hostile_at[i]["kind"], "value": hostile_at[i]["value"], "at_start": False})
        core = "\n\n".join(paragraphs)
        greeting = _pick(rng, GREETINGS[lang])
        intro = _pick(rng, INTROS[lang])
        closing = _pick(rng, CLOSINGS[lang])
        if not diacritics:                                   # typed without the Latvian layout throughout
            greeting, closing = strip_diacritics(greeting), strip_diacritics(closing)
            intro = strip_diacritics(intro) if intro else None
        phone = _phone(rng, landline=rng.random() < 0.2) if rng.random() < 0.7 else None
        signature = [closing, name] + ([_pick(rng, PHONE_LABEL[lang]) + phone] if phone else [])
        if phone:
            pii += [{"type": "name", "value": name, "where": "signature"}, {"type": "phone", "value": phone, "where": "signature"}]
        else:
            pii += [{"type": "name", "value": name, "where": "signature"}]
        footer = _pick(rng, FOOTERS[lang]) if rng.random() < 0.15 else None
        quoted = rng.random() < 0.25 or f in ("quote_lv", "quote_en")
        quote = None
        if quoted:
            qlang = "lv" if lang == "lv" or rng.random() < 0.5 else "en"
            qlang = {"quote_lv": "lv", "quote_en": "en"}.get(f, qlang)
            ack_time = when - dt.timedelta(days=int(rng.integers(1, 6)), minutes=int(rng.integers(0, 600)))
            ack_time = max(ack_time, dt.datetime.combine(FIRST_DAY, dt.time(_SURVEY["ack_earliest_hour"], 0)))
            quote = [_quote_header(qlang, ack_time)] + ACK[qlang]
        plain_lines = [greeting, ""] + ([intro, ""] if intro else []) + [core, ""] + signature
        if footer:
            plain_lines += ["", footer]
        if quote:
            plain_lines += ["", quote[0]] + [f"> {x}" for x in quote[1:]]
        plain = "\n".join(plain_lines) + "\n"
        charset = "utf-8" if lang != "lv" or rng.random() < 0.55 else "windows-1257"
        if f == "cp1257_qp":
            charset = "windows-1257"
        try:
            plain.encode(charset)
        except UnicodeEncodeError:
            charset = "utf-8"
        ctes = (["quoted-printable", "base64", "8bit"], [0.45, 0.35, 0.2]) if charset == "utf-8" else \
               (["quoted-printable", "8bit", "base64"], [0.6, 0.25, 0.15])
        cte = ctes[0][int(rng.choice(3, p=ctes[1]))]
        if f == "cp1257_qp":
            cte = "quoted-printable"
        structure = "plain" if force_plain else _wpick(rng, {"plain": 0.45, "html": 0.12, "alternative": 0.33})
        structure = {"html": "html", "alternative": "alternative"}.get(f, structure)
        attach = (not force_plain) and (rng.random() < 0.10 or f == "attach")
        msg = EmailMessage(policy=email_policy.default)
        msg["From"] = Address(display_name=name, addr_spec=addr)
        msg["To"] = Address(display_name=DEPARTMENT[0], addr_spec=DEPARTMENT[1])
        subject = _pick(rng, SUBJECTS[lang])
        if quoted:
            subject = "Re: " + subject
        msg["Subject"] = subject
        tz = RIGA_TZ if rng.random() < 0.8 else dt.timezone.utc
        aware = when.replace(tzinfo=RIGA_TZ).astimezone(tz)
        msg["Date"] = email_utils.format_datetime(aware)
        domain = addr.split("@")[1]
        msg["Message-ID"] = f"<{when:%Y%m%d%H%M%S}.{seed}.{i:04d}@{domain}>"
        if quoted:
            msg["In-Reply-To"] = f"<ack.{i:04d}@{_SURVEY['ack_message_domain']}>"
        html_body = _email_html([greeting] + ([intro] if intro else []) + paragraphs,
                                signature + ([footer] if footer else []), quote, charset)
        parts = []
        if structure == "html":
            msg.set_content(html_body, subtype="html", charset=charset, cte=cte)
            parts.append({"content_type": "text/html", "charset": charset, "cte": cte})
        else:
            msg.set_content(plain, subtype="plain", charset=charset, cte=cte)
            parts.append({"content_type": "text/plain", "charset": charset, "cte": cte})
            if structure == "alternative":
                cte2 = ctes[0][int(rng.choice(3, p=ctes[1]))]
                msg.add_alternative(html_body, subtype="html", charset=charset, cte=cte2)
                parts.append({"content_type": "text/html", "charset": charset, "cte": cte2})
        attachments = []
        if attach:
            fname, maintype, subtype = _pick(rng, ATTACHMENTS[lang])
            data = _fake_attachment(rng, subtype)
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=fname)
            attachments.append({"filename": fname, "content_type": f"{maintype}/{subtype}", "size": len(data),
                                "cte": "base64"})
        for k, part in enumerate(msg.walk()):
            if part.is_multipart():
                part.set_boundary(f"{_SURVEY['mime_boundary_prefix']}{seed}_{i:04d}_{k}")
        truth.append({
            "index": i, "message_id": str(msg["Message-ID"]), "from_name": name, "from_address": addr,
            "date": str(msg["Date"]), "date_riga": when.isoformat(), "late": when > DEADLINE, "subject": subject,
            "lang": lang, "structure": ("mixed/" + structure) if attach else structure,
            "content_type": msg.get_content_type(), "parts": parts, "attachments": attachments,
            "greeting": greeting, "intro": intro, "closing": closing,
            "signature": {"name": name, "phone": phone}, "mobile_footer": footer,
            "quoted": quoted, "quote_header": quote[0] if quote else None,
            "themes": themes, "text": core, "paragraphs": paragraphs, "diacritics": diacritics,
            "pii": pii, "hostile": hostile,
        })
        if sink is None:
            messages.append(msg)
        else:
            sink(msg, truth[-1])
    return messages, truth


def write_mbox(path: Path, messages: list[EmailMessage], truth: list[dict]) -> None:
    path = Path(path)
    if path.exists():
        path.unlink()
    box = mailbox.mbox(str(path), create=True)
    try:
        for msg, t in zip(messages, truth):
            m = mailbox.mboxMessage(msg)
            stamp = dt.datetime.fromisoformat(t["date_riga"]).replace(tzinfo=RIGA_TZ).astimezone(dt.timezone.utc)
            m.set_from(t["from_address"], stamp.timetuple())
            box.add(m)
        box.flush()
    finally:
        box.close()


# --------------------------------------------------------------------------------------------
# The whole survey
# --------------------------------------------------------------------------------------------
def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _add_texts(rng: np.random.Generator, rows: list[dict], cb: Codebook) -> None:
    for r in rows:
        if {"speeder", "empty"} & set(r["problems"]):
            continue
        talk = rng.normal(0, 1)
        for var, p in TEXT_RATE.items():
            p_eff = _logistic(math.log(p / (1 - p)) + 0.9 * talk) * (0.5 if "straightliner" in r["problems"] else 1)
            if rng.random() < p_eff:
                r["texts"][var] = _survey_text(rng, var, r, cb)
        if not r["problems"] and rng.random() < CONTACT_RATE:
            lang = r["form"]
            kind = _wpick(rng, {"email": 0.45, "phone": 0.4, "name_phone": 0.15})
            name = _pick(rng, NAMES[lang])
            if kind == "email":
                value = _email_of(rng, name, lang)
                r["contact"], r["contact_pii"] = value, [{"type": "email", "value": value}]
            elif kind == "phone":
                value = _phone(rng, landline=rng.random() < 0.15)
                r["contact"], r["contact_pii"] = value, [{"type": "phone", "value": value}]
            else:
                phone = _phone(rng)
                r["contact"] = f"{name}, {phone}"
                r["contact_pii"] = [{"type": "name", "value": name}, {"type": "phone", "value": phone}]


def _plant_text_pii_and_hostile(rng: np.random.Generator, forms: dict[str, list[dict]], n: int) -> None:
    def cands():               # walked twice rather than held: a million rows have two million texts
        for form in ("lv", "ru"):
            for i, r in enumerate(forms[form]):
                if not r["problems"]:
                    for var in sorted(r["texts"]):
                        if r["texts"][var]["themes"]:
                            yield form, i, var

    n_cands = sum(1 for _ in cands())
    n_pii = int(np.clip(round(n / 50), 6, 24))
    need = n_pii + len(HOSTILE)
    if n_cands < need:
        raise ValueError(f"too few texts ({n_cands}) to plant {need} personal data and hostile strings")
    picks = [int(i) for i in rng.choice(n_cands, size=need, replace=False)]
    wanted = set(picks)
    at = {k: c for k, c in enumerate(cands()) if k in wanted}
    chosen = [at[k] for k in picks]
    kinds = ["name", "email", "phone", "personal_code", "iban", "phone", "name", "personal_code"]
    for k, (form, i, var) in enumerate(chosen[:n_pii]):
        _plant_pii(rng, forms[form][i]["texts"][var], kinds[k % len(kinds)])
    for h, (form, i, var) in zip(HOSTILE, chosen[n_pii:]):
        _plant_hostile(rng, forms[form][i]["texts"][var], h)


def _cronbach(x: np.ndarray) -> float:
    k = x.shape[1]
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def _likert_codes(rows: list[dict], items: list[str]) -> np.ndarray:
    """The rows' Likert answers as codes (0 empty, 1-5, 6 don't know), one row per respondent."""
    ok: dict[int, bool] = {}
    parts = []
    for r in rows:
        lik = r["likert"]
        if isinstance(lik, _Likert):
            good = ok.get(id(lik._index))
            if good is None:
                good = ok[id(lik._index)] = list(lik._index) == list(items)
            if good:
                parts.append(lik._codes)
                continue
        parts.append(bytes(_LIKERT_CODE[lik[it]] for it in items))
    return np.frombuffer(b"".join(parts), np.uint8).reshape(len(rows), len(items))


def _observed(rows: list[dict], cb: Codebook) -> dict[str, Any]:
    """What the clean rows show. Computed on arrays, in the same order and with the same sums
    as the per-row lists it replaces (integer sums are exact; the means of the planted shift
    take the same elements in the same order), so the figures are the same to the last bit."""
    clean = [r for r in rows if not EXCLUDING & set(r["problems"])]
    out: dict[str, Any] = {"n_clean": len(clean), "sector_mean_score": {}, "cronbach_alpha": {}, "dont_know_share": {}}
    items = cb.likert_items
    col = {it: j for j, it in enumerate(items)}
    codes = _likert_codes(clean, items)
    for s in cb.sectors.values():
        sub = codes[:, [col[it] for it in s.items]]
        num = (sub >= 1) & (sub <= 5)
        out["sector_mean_score"][s.code] = round(float(int(sub[num].sum(dtype=np.int64)) / int(num.sum())), 3)
        complete = sub[num.all(axis=1)].astype(float)
        out["cronbach_alpha"][s.code] = round(_cronbach(complete), 3)
    for it in items:
        c = codes[:, col[it]]
        out["dont_know_share"][it] = round(int((c == 6).sum()) / max(int((c != 0).sum()), 1), 3)
    counts: dict[str, dict[str, int]] = {}
    members: dict[str, dict[str, np.ndarray]] = {}
    for g in GROUPINGS:
        acc: dict[str, list[int]] = {}
        for i, r in enumerate(clean):
            if not r["answered"][g]:
                continue
            for lev in (r[g] if g == "info_language" else (r["codes"][g],)):
                got = acc.get(lev)
                if got is None:
                    got = acc[lev] = []
                got.append(i)
        counts[g] = {lev: len(ix) for lev, ix in sorted(acc.items())}
        members[g] = {lev: np.array(ix, dtype=np.intp) for lev, ix in sorted(acc.items())}
        del acc
    out["group_counts"] = counts
    # the planted shift each group carries on average (effects pass through correlated groupings)
    eff = _effect_matrix(clean, items)
    shifts: dict[str, dict] = {}
    for j, it in enumerate(items):
        if not eff[:, j].any():
            continue
        shifts[it] = {}
        x = eff[:, j]
        for g in GROUPINGS:
            means = {lev: round(float(np.mean(x[ix])), 3) for lev, ix in members[g].items()}
            if max(means.values()) - min(means.values()) > 1e-9:
                shifts[it][g] = means
    out["expected_shift"] = shifts
    return out


def synth(n: int = 1200, seed: int = 2022, out_dir: str | Path = "data/sample", n_email: int = 60,
          codebook: str | Path | None = None) -> dict[str, Any]:
    """Write the synthetic survey into `out_dir`; return the truth (also written as truth.json).

    Above STREAM_ROWS responses the truth's per-row and per-text lists are made as they are
    written (and again whenever the returned truth's lists are read); the files are the same."""
    was_enabled = gc.isenabled()
    try:
        return _synth(n, seed, out_dir, n_email, codebook)
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _synth(n: int, seed: int, out_dir: str | Path, n_email: int, codebook: str | Path | None) -> dict[str, Any]:
    if n < 100:
        raise ValueError(f"n must be at least 100 (got {n}): too few rows to plant every kind of problem")
    if n_email < 0:
        raise ValueError(f"n_email must not be negative (got {n_email})")
    cb = load_codebook(Path(codebook) if codebook else ROOT / CODEBOOK_PATH)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    rng_form = {"lv": streams[0], "ru": streams[1]}
    rng_plant, rng_text, rng_pii, rng_mail, rng_cols = streams[2:7]
    n_ru = int(round(n * SECOND_FORM_SHARE))
    n_form = {"lv": n - n_ru, "ru": n_ru}
    counts = _problem_counts(n, n_ru)
    lazy = n > STREAM_ROWS
    t0 = time.perf_counter()

    def progress(what: str) -> None:         # national-scale runs say where they are (stderr)
        if lazy:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # KB on Linux
            print(f"synth: {what} ({time.perf_counter() - t0:.0f} s, {time.process_time():.0f} s CPU, "
                  f"peak {peak:.0f} MB)", file=sys.stderr, flush=True)

    forms: dict[str, list[dict]] = {}
    originals: dict[str, list[int]] = {}
    gc.disable()           # millions of row parts and no reference cycles: no collector passes over them
    for form in ("lv", "ru"):
        rng = rng_form[form]
        n_base = n_form[form] - counts[form]["duplicate"]
        rows = [_new_respondent(rng, form, f"{form}-{i + 1:04d}") for i in range(n_base)]
        _rate(rng, rows, cb)
        for r in rows:
            r["completion"] = _completion(rng)
            r["duration"] = _duration(rng)
        originals[form] = _plant_problems(rng_plant, rows, counts[form], cb, form)
        _add_texts(rng_text, rows, cb)
        forms[form] = rows
        progress(f"{len(rows):,} respondents of the {form} form drawn")
    _plant_text_pii_and_hostile(rng_pii, forms, n)
    for form in ("lv", "ru"):
        forms[form] += [_duplicate(rng_plant, forms[form][i]) for i in originals[form]]
        forms[form].sort(key=lambda r: (r["completion"], r["key"]))
        for k, r in enumerate(forms[form]):
            r["form_id"], r["row"] = k + 1, k + 2
            r["start"] = r["completion"] - dt.timedelta(seconds=r["duration"])
    gc.freeze()            # the rows stay to the end: later collections skip them
    gc.enable()
    progress("problems planted, rows sorted")

    perm = [int(i) for i in rng_cols.permutation(len(cb.likert_items))]
    files: dict[str, Any] = {}
    for form in ("lv", "ru"):
        cols = form_columns(cb, form, perm if form == SHUFFLED_FORM else None)
        memo: dict = {}
        table = (_row_cells(r, cb, form, cols, memo) for r in forms[form])        # one row at a time
        write_forms_xlsx(out / FORM_FILES[form], [h for h, _ in cols], table, len(forms[form]))
        progress(f"{FORM_FILES[form]} written")
        files[FORM_FILES[form]] = {
            "language": form, "n_rows": len(forms[form]), "likert_shuffled": form == SHUFFLED_FORM,
            "sheet": "Sheet1", "header_row": 1, "first_data_row": 2,
            "columns": [[h, v] for h, v in cols],
            "rows": _listing(lambda rows=forms[form]: ({"form_id": r["form_id"], "row": r["row"], "respondent": r["key"],
                                                        "problems": list(r["problems"])} for r in rows),
                             len(forms[form]), lazy),
        }

    with _Mbox(out / MBOX_FILE) as box:                  # each message written as it is made
        _, mail_truth = _make_emails(rng_mail, n_email, seed, sink=box.add)
    progress(f"{MBOX_FILE} written")

    truth = _truth(n, seed, n_email, cb, forms, files, mail_truth, lazy)
    progress("truth made")
    write_json(out / TRUTH_FILE, truth)
    progress(f"{TRUTH_FILE} written")
    return truth


class _Listing(list):
    """A list the JSON encoder walks without it being held: its items are made again on each
    iteration (the truth's per-row and per-text lists of a national-scale export)."""

    def __init__(self, make, n: int):
        super().__init__()
        self._make, self._n = make, n

    def __iter__(self):
        return iter(self._make())

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return list(self)[i]
        if i < 0:
            i += self._n
        for k, x in enumerate(self):
            if k == i:
                return x
        raise IndexError(i)

    def __eq__(self, other):
        return list(self) == list(other)

    __hash__ = None


def _listing(make, n: int, lazy: bool) -> list:
    """The items of make() as a list, or above STREAM_ROWS responses a _Listing of them."""
    return _Listing(make, n) if lazy else list(make())


def write_json(path: Path, obj: Any) -> None:
    """json.dumps(obj, ensure_ascii=False, indent=1) + newline, written in pieces: the text of a
    national-scale truth is never one string (the same bytes)."""
    enc = json.JSONEncoder(ensure_ascii=False, indent=1)
    with open(path, "w", encoding="utf-8") as fh:
        buf: list[str] = []
        for chunk in enc.iterencode(obj):
            buf.append(chunk)
            if len(buf) >= 65536:
                fh.write("".join(buf))
                buf = []
        buf.append("\n")
        fh.write("".join(buf))


class _Mbox:
    """The mbox written one message at a time (write_mbox's bytes: the From line of
    mboxMessage.set_from, without its deep copy of each message)."""

    def __init__(self, path: Path):
        path = Path(path)
        if path.exists():
            path.unlink()
        self.box = mailbox.mbox(str(path), create=True)

    def add(self, msg: EmailMessage, t: dict) -> None:
        stamp = dt.datetime.fromisoformat(t["date_riga"]).replace(tzinfo=RIGA_TZ).astimezone(dt.timezone.utc)
        msg.set_unixfrom(f"From {t['from_address']} {time.asctime(stamp.timetuple())}")
        self.box.add(msg)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.box.flush()
        finally:
            self.box.close()


def _where(r: dict) -> dict[str, Any]:
    return {"file": FORM_FILES[r["form"]], "form_id": r["form_id"], "row": r["row"]}


def _texts_truth(cb, forms, text_vars, mail_truth):
    """The truth's texts, one at a time: the forms' in file and row order, then the e-mails'."""
    for form in ("lv", "ru"):
        source = FORM_FILES[form]
        columns = {var: cb.variables[var].headers[form] for var in text_vars}
        for r in forms[form]:
            for var in text_vars:
                if var not in r["texts"]:
                    continue
                t = r["texts"][var]
                yield dict(id=f"{source}#{r['form_id']}:{var}", source=source, form_id=r["form_id"], row=r["row"],
                           variable=var, column=columns[var], lang=t["lang"], themes=t["themes"], text=t["text"],
                           diacritics=t["diacritics"], typo=t["typo"])
    for m in mail_truth:
        yield dict(id=f"{MBOX_FILE}#{m['index']}", source=MBOX_FILE, message=m["index"], message_id=m["message_id"],
                   lang=m["lang"], themes=m["themes"], text=m["text"], diacritics=m["diacritics"], typo=False)


def _truth(n, seed, n_email, cb, forms, files, mail_truth, lazy: bool = False) -> dict[str, Any]:
    by_key = {r["key"]: r for form in forms.values() for r in form}
    quality: dict[str, list] = {k: [] for k in ("duplicate", "speeder", "straightliner", "late", "empty",
                                                "unknown_label", "alias_label")}
    pii_meta, pii, hostile, other_texts, boundary = [], [], [], [], []
    text_vars = [v.name for v in cb.of_type("text")]
    n_form_texts = 0
    durations = {f: [] for f in ("lv", "ru")}
    for form in ("lv", "ru"):
        for r in forms[form]:
            w = _where(r)
            durations[form].append(r["duration"])
            if "duplicate" in r["problems"]:
                o = by_key[r["duplicate_of"]]
                quality["duplicate"].append(dict(w, duplicate_of_id=o["form_id"], duplicate_of_row=o["row"]))
            if "speeder" in r["problems"]:
                quality["speeder"].append(dict(w, duration_s=r["duration"]))
            if "straightliner" in r["problems"]:
                s = r["notes"]["straight_score"]
                quality["straightliner"].append(dict(w, score=s, label=cb.label_of(cb.likert_items[0], s, form)))
            if "late" in r["problems"]:
                quality["late"].append(dict(w, start_time=r["start"].isoformat(), completion_time=r["completion"].isoformat()))
            if "empty" in r["problems"]:
                quality["empty"].append(dict(w))
            if "unknown_label" in r["problems"]:
                u = r["notes"]["unknown"]
                quality["unknown_label"].append(dict(w, variable=u["variable"], column=cb.variables[u["variable"]].headers[form],
                                                     label=u["label"], intended=u["intended"]))
            if "alias_label" in r["problems"]:
                a = r["notes"]["alias"]
                quality["alias_label"].append(dict(w, variable=a["variable"], label=a["label"], code=a["code"]))
            if "pii_meta" in r["problems"]:
                pii_meta.append(dict(w, email=r["email"], name=r["name"]))
                pii.append(dict(w, type="email", value=r["email"], variable="email"))
                pii.append(dict(w, type="name", value=r["name"], variable="respondent_name"))
            if r["notes"].get("boundary"):
                boundary.append(dict(w, completion_time=r["completion"].isoformat(), late=False))
            if r["occupation_text"] and r["answered"]["occupation"]:
                other_texts.append(dict(w, variable="occupation", text=r["occupation_text"]))
            if r["channel_text"] and r["answered"]["info_channels"]:
                other_texts.append(dict(w, variable="info_channels", text=r["channel_text"]))
            for p in r.get("contact_pii") or []:
                pii.append(dict(w, type=p["type"], value=p["value"], variable="contact"))
            for var in text_vars:
                if var not in r["texts"]:
                    continue
                t = r["texts"][var]
                n_form_texts += 1
                if not (t["pii"] or t["hostile"]):
                    continue
                tid = f"{FORM_FILES[form]}#{r['form_id']}:{var}"
                for p in t["pii"]:
                    pii.append(dict(w, type=p["type"], value=p["value"], variable=var, text_id=tid))
                for h in t["hostile"]:
                    hostile.append(dict(w, kind=h["kind"], value=h["value"], at_start=h["at_start"], variable=var, text_id=tid))
    for m in mail_truth:
        tid = f"{MBOX_FILE}#{m['index']}"
        for p in m["pii"]:
            entry = dict(file=MBOX_FILE, message=m["index"], type=p["type"], value=p["value"], where=p["where"])
            if p["where"] == "body":
                entry["text_id"] = tid
            pii.append(entry)
        for h in m["hostile"]:
            hostile.append(dict(file=MBOX_FILE, message=m["index"], kind=h["kind"], value=h["value"], at_start=h["at_start"], text_id=tid))
    texts = _listing(lambda: _texts_truth(cb, forms, text_vars, mail_truth), n_form_texts + len(mail_truth), lazy)
    all_rows = [r for form in forms.values() for r in form]
    effect_items = sorted({it for e in EFFECTS for it in e["items"]}, key=cb.likert_items.index)
    return {
        "generator": {"module": "analysis.synth", "version": GENERATOR_VERSION, "seed": seed, "n": n,
                      "n_email": n_email, "codebook": CODEBOOK_PATH, "synthetic": True,
                      "note": "Synthetic data with planted truth; not the real consultation."},
        "consultation_window": {"start": WINDOW_START.isoformat(), "end": DEADLINE.isoformat(),
                                "timezone": TIMEZONE,
                                "rule": "late = completion time after the end (naive local Riga time in the exports)"},
        "counts": {"rows": len(all_rows), FORM_FILES["lv"]: len(forms["lv"]), FORM_FILES["ru"]: len(forms["ru"]),
                   "messages": len(mail_truth), "texts_forms": n_form_texts,
                   "texts_email": len(mail_truth),
                   "problems": {k: len(v) for k, v in quality.items()}},
        "files": files,
        "quality": dict(quality, boundary_not_late=boundary,
                        median_duration_s={"all": float(np.median(durations["lv"] + durations["ru"])),
                                           "lv": float(np.median(durations["lv"])), "ru": float(np.median(durations["ru"]))},
                        notes=["each planted problem is on its own row (except that a duplicate copies its original's answers)",
                               "empty submissions are also identical to each other: classify them as empty, not duplicate",
                               "speeders answered the Likert items at random; straight-liners gave one score to all 32 items",
                               "alias_label rows use an alias the codebook lists (a hyphen for the en dash): NOT an error",
                               "no unplanted row has a duration below 250 s or a straight-lined Likert block"]),
        "pii_meta": pii_meta,
        "other_texts": other_texts,
        "model": {"latent": "y = sector_mean + item_offset + effect + u + v_sector + e; score = 1 + #(cuts below y)",
                  "sd_respondent": round(SD_RESPONDENT, 4), "sd_respondent_sector": round(SD_RESP_SECTOR, 4),
                  "sd_item": round(SD_ITEM, 4), "cuts": CUTS, "sector_mean": SECTOR_MEAN, "item_offset": ITEM_OFFSET,
                  "dont_know": DONT_KNOW, "skip_sector": SKIP_SECTOR, "skip_item": SKIP_ITEM,
                  "sector_order_by_mean": sorted(SECTOR_MEAN, key=lambda s: -SECTOR_MEAN[s])},
        "effects": [dict(e, size_sd=round(max(e["shift"].values()) - min(min(e["shift"].values()), 0.0), 3),
                         unit="latent SD (within-group SD = 1)") for e in EFFECTS],
        "effect_items": effect_items,
        "null_items": [it for it in cb.likert_items if it not in effect_items],
        "outcomes": OUTCOMES,
        "observed": _observed(all_rows, cb),
        "themes": THEMES,
        "text_effects": TEXT_EFFECTS,
        "texts": texts,
        "pii": pii,
        "hostile": hostile,
        "emails": {"file": MBOX_FILE, "n_messages": len(mail_truth), "messages": mail_truth},
        "population": {"file": POPULATION_FILE, "official": False,
                       "margins": POPULATION, "propensity": PROPENSITY,
                       "target_group_share": TARGET_GROUP, "undisclosed_gender_share": UNDISCLOSED_GENDER,
                       "note": "residents are drawn with probability proportional to population x propensity per "
                               "margin (independently); non-residents answer district 'not_in_city' (mostly)"},
    }


# --------------------------------------------------------------------------------------------
# Any codebook: a synthetic export for any survey the codebook describes
# --------------------------------------------------------------------------------------------
# A generator spec (YAML, all keys optional) says how the synthetic respondents answer; without
# one every option is equally likely and every rated item has the same latent mean:
#   files: {et: forms_et.csv}              format: xlsx | csv
#   language_share: {et: 1.0}              the share of responses through each form
#   distributions: {var: {code: weight}}   single choices
#   multi_rates: {var: {code: p}}          probability that an option is ticked (default 0.3)
#   missing: {single: 0.02, multi: 0.03, rating: 0.02, text_skip: 0}   a question left empty
#   missing_codes: {single: "NA", multi: "", rating: "-1", text: ""}   what an empty answer holds
#   model: {sector_mean: {s: x}, item_offset: {item: x}, var_respondent, var_respondent_sector,
#           var_item, dont_know: 0.05, outcome_mean: 0.3}
#   effects: [{id, grouping, items, shift: {code: latent SD}, direction}]
#   problems: {duplicate: k, empty: k, straightliner: k}   planted rows (default about n/150 each)
#   texts: {rate: {var: p}, contact_rate, themes: [{code, sector, <lang>: name}],
#           phrases: {lang: {theme: [...]}}, openers, connectors, fillers, nothing: {lang: [...]},
#           other_texts: {lang: [...]}, names: [...], mail_domain: example.org}
#   window: {start, end}                   when there are time columns and the codebook has none
GENERIC_PROBLEMS = ("duplicate", "empty", "straightliner")


def load_spec(path: str | Path | None) -> dict[str, Any]:
    """A generator spec file (YAML mapping); None or a missing default gives {}."""
    if path is None:
        return {}
    path = Path(path)
    got = yaml.safe_load(path.read_text(encoding="utf-8"))
    if got is None:
        return {}
    if not isinstance(got, dict):
        raise ValueError(f"{path}: expected a mapping of generator settings at the top level")
    return got


def _cuts(k: int) -> list[float]:
    """Equally spaced cut points of a latent with SD 1 into k scale points: the scale spans
    about five latent SD, so a latent 0 is the middle point and answers crowd towards it."""
    w = 5.0 / k
    return [(j - k / 2) * w for j in range(1, k)]


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _lower_unless(s: str, proper: tuple[str, ...]) -> str:
    return s if not s or s.startswith(proper) else s[0].lower() + s[1:]


def _generic_text(rng: np.random.Generator, spec_texts: dict, lang: str, themes: list[str],
                  cb: Codebook) -> str:
    phrases = (spec_texts.get("phrases") or {}).get(lang) or {}
    proper = tuple(spec_texts.get("proper_nouns") or ())
    parts: list[str] = []
    for k, theme in enumerate(themes):
        bank = phrases.get(theme)
        if not bank:                                           # no phrases: a rated statement, quoted
            items = cb.likert_items or [v.name for v in cb.variables.values() if v.type != "meta"]
            h = cb.variables[_pick(rng, items)].headers.get(lang) or ""
            parts.append(h.rstrip(".?!") + ".")
            continue
        m = 1 if rng.random() < 0.6 else 2
        for j, i in enumerate(rng.permutation(len(bank))[:m]):
            s = _expand(rng, bank[int(i)])
            conn = (spec_texts.get("connectors") or {}).get(lang)
            if k > 0 and j == 0 and conn and rng.random() < 0.6:
                s = _pick(rng, conn) + _lower_unless(s, proper)
            parts.append(s)
    openers = (spec_texts.get("openers") or {}).get(lang)
    if openers and rng.random() < 0.3:
        parts[0] = _pick(rng, openers) + _lower_unless(parts[0], proper)
    fillers = (spec_texts.get("fillers") or {}).get(lang)
    if fillers and rng.random() < 0.2:
        parts.append(_pick(rng, fillers))
    return " ".join(parts)


def synth_codebook(codebook: str | Path | Codebook, n: int = 300, seed: int = 1,
                   out_dir: str | Path = ".", *, spec: dict[str, Any] | None = None,
                   spec_path: str | Path | None = None, fmt: str | None = None,
                   n_email: int = 0) -> dict[str, Any]:
    """Write a synthetic Forms export (one file per form language) for any codebook, and
    truth.json with what was planted; return the truth. Deterministic from the seed."""
    cb = codebook if isinstance(codebook, Codebook) else load_codebook(Path(codebook))
    if spec is None:
        spec = load_spec(spec_path)
    fmt = fmt or spec.get("format") or "xlsx"
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"format {fmt!r}: expected xlsx or csv")
    if n < 20:
        raise ValueError(f"n must be at least 20 (got {n})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng_resp, rng_rate, rng_text, rng_plant, rng_time, rng_mail = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6))
    langs = list(cb.languages)
    share = spec.get("language_share") or {lang: 1.0 for lang in langs}
    missing = {"single": 0.02, "multi": 0.03, "rating": 0.02, **(spec.get("missing") or {})}
    codes = {"single": "", "multi": "", "rating": "", "text": "", **(spec.get("missing_codes") or {})}
    allowed = {""} | set(cb.missing_values)
    for kind, code in codes.items():
        if normalize(code) not in allowed:
            raise ValueError(f"missing_codes.{kind}: {code!r} is not one of the codebook's "
                             f"formats.missing_values {sorted(allowed)}")
    texts_spec = spec.get("texts") or {}
    model = spec.get("model") or {}
    singles = [v for v in cb.of_type("single")]
    multis = [v for v in cb.of_type("multi")]
    items = cb.likert_items
    outcomes = [v for v in cb.of_type("rating", "nps")]
    text_vars = [v for v in cb.of_type("text")]

    # --- who answers and what they choose --------------------------------------------------
    rows: list[dict[str, Any]] = []
    for i in range(n):
        form = _wpick(rng_resp, share)
        r: dict[str, Any] = {"key": f"r{i + 1:04d}", "form": form, "codes": {}, "multi": {}, "answered": {},
                             "scores": {}, "texts": {}, "other": {}, "problems": []}
        for v in singles:
            w = (spec.get("distributions") or {}).get(v.name) or {o.code: (0.3 if o.other else 1.0) for o in v.options}
            r["codes"][v.name] = str(_wpick(rng_resp, w))
            r["answered"][v.name] = rng_resp.random() >= missing["single"]
        for v in multis:
            rates = (spec.get("multi_rates") or {}).get(v.name) or {}
            ticked = [o.code for o in v.options if rng_resp.random() < rates.get(o.code, 0.1 if o.other else 0.3)]
            r["multi"][v.name] = ticked or [_pick(rng_resp, [o.code for o in v.options if not o.other] or v.codes)]
            r["answered"][v.name] = rng_resp.random() >= missing["multi"]
        rows.append(r)

    # --- ratings: a latent normal model, reversed items turned round -------------------
    sectors = list(cb.sectors)
    n_items = len(items)
    if n_items:
        sec_of = np.array([sectors.index(cb.variables[it].sector) for it in items])
        sd_u = math.sqrt(model.get("var_respondent", 0.3))
        sd_v = math.sqrt(model.get("var_respondent_sector", 0.2))
        sd_e = math.sqrt(model.get("var_item", 0.5))
        u = rng_rate.normal(0, sd_u, n)
        v = rng_rate.normal(0, sd_v, (n, len(sectors)))
        e = rng_rate.normal(0, sd_e, (n, n_items))
        sign = np.array([-1.0 if cb.variables[it].reverse else 1.0 for it in items])
        smean = np.array([(model.get("sector_mean") or {}).get(cb.variables[it].sector, 0.0) for it in items])
        offset = np.array([(model.get("item_offset") or {}).get(it, 0.0) for it in items])
        eff = np.zeros((n, n_items))
        for ef in spec.get("effects") or []:
            for j, it in enumerate(items):
                if it in ef["items"]:
                    for i, r in enumerate(rows):
                        level = r["multi"].get(ef["grouping"]) if ef["grouping"] in r["multi"] else [r["codes"].get(ef["grouping"])]
                        eff[i, j] += sum(ef["shift"].get(str(x), 0.0) for x in level)
        latent = sign[None, :] * (smean[None, :] + u[:, None] + v[:, sec_of]) + offset[None, :] + eff + e
        p_dk = float(model.get("dont_know", 0.05))
        dk = rng_rate.random((n, n_items)) < p_dk
        skip = rng_rate.random((n, n_items)) < missing["rating"]
        for j, it in enumerate(items):
            sc = cb.scale_of(it)
            pts = sc.points
            idx = np.digitize(latent[:, j], _cuts(len(pts)))
            for i, r in enumerate(rows):
                r["scores"][it] = (None if skip[i, j] else "dk" if (dk[i, j] and sc.has_dont_know)
                                   else int(pts[int(idx[i])]))
    for ov in outcomes:
        lo, hi = ov.range
        pts = list(range(int(lo), int(hi) + 1))
        base = (u / max(sd_u, 1e-9) * 0.6) if n_items else np.zeros(n)
        lat = base + float(model.get("outcome_mean", 0.3)) + rng_rate.normal(0, 0.8, n)
        idx = np.digitize(lat, _cuts(len(pts)))
        skip = rng_rate.random(n) < missing["rating"]
        for i, r in enumerate(rows):
            r["scores"][ov.name] = None if skip[i] else pts[int(idx[i])]

    # --- open answers ----------------------------------------------------------------------
    themes = texts_spec.get("themes") or []
    for r in rows:
        for tv in text_vars:
            if tv.pii:
                if rng_text.random() < float(texts_spec.get("contact_rate", 0.05)):
                    name = _pick(rng_text, texts_spec.get("names") or ["Vastaja"])
                    user = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode().replace(" ", ".")
                    r["texts"][tv.name] = {"text": f"{user}{int(rng_text.integers(10, 99))}@"
                                                   f"{texts_spec.get('mail_domain', 'example.org')}",
                                           "themes": [], "lang": r["form"], "pii": True}
                continue
            if rng_text.random() >= float((texts_spec.get("rate") or {}).get(tv.name, 0.25)):
                continue
            nothing = (texts_spec.get("nothing") or {}).get(r["form"])
            if nothing and rng_text.random() < 0.06:
                r["texts"][tv.name] = {"text": _pick(rng_text, nothing), "themes": [], "lang": r["form"]}
                continue
            pool = [t["code"] for t in themes if not tv.sector or t.get("sector") == tv.sector] or \
                [t["code"] for t in themes] or ["_statement"]
            chosen = [_pick(rng_text, pool)]
            if len(pool) > 1 and rng_text.random() < 0.3:
                chosen.append(_pick(rng_text, [t for t in pool if t != chosen[0]]))
            r["texts"][tv.name] = {"text": _generic_text(rng_text, texts_spec, r["form"], chosen, cb),
                                   "themes": [t for t in chosen if t != "_statement"], "lang": r["form"]}
        for v in singles:
            if v.other_text and r["answered"][v.name] and v.option(r["codes"][v.name]).other:
                own = (texts_spec.get("other_texts") or {}).get(r["form"])
                r["other"][v.name] = _pick(rng_text, own or [v.option(r["codes"][v.name]).labels[r["form"]]])

    # --- planted problems ------------------------------------------------------------------
    k_default = max(1, round(n / 150))
    want = {kind: int((spec.get("problems") or {}).get(kind, k_default)) for kind in GENERIC_PROBLEMS}
    if n_items < 2:
        want["straightliner"] = 0
    order = [int(i) for i in rng_plant.permutation(n)]
    pos = 0

    def take(k: int) -> list[dict]:
        nonlocal pos
        got = [rows[i] for i in order[pos:pos + k]]
        pos += k
        return got

    for r in take(want["empty"]):
        r["problems"].append("empty")
        r["answered"] = {k: False for k in r["answered"]}
        r["scores"] = {k: None for k in r["scores"]}
        r["texts"], r["other"] = {}, {}
    for r in take(want["straightliner"]):
        r["problems"].append("straightliner")
        score = int(rng_plant.choice(cb.scale_of(items[0]).points))
        r["scores"].update({it: score for it in items})
        r["straight_score"] = score
    originals = take(want["duplicate"])
    dups = []
    for o in originals:
        d = copy.deepcopy(o)
        d.update(key=o["key"] + "-dup", problems=["duplicate"], duplicate_of=o["key"])
        dups.append(d)
    rows += dups

    # --- times (only when the codebook has time columns) -----------------------------------
    has_time = any(cb.meta_var(role) for role in ("start_time", "completion_time", "last_modified"))
    window = dict(spec.get("window") or {}, **{k: v for k, v in (cb.window or {}).items() if k in ("start", "end")})
    if has_time:
        start = dt.datetime.fromisoformat(str(window.get("start", "2024-03-01T00:00:00")))
        end = dt.datetime.fromisoformat(str(window.get("end", "2024-03-31T23:59:59")))
        span = int((end - start).total_seconds())
        for r in rows:
            r["completion"] = start + dt.timedelta(seconds=int(rng_time.integers(600, max(span, 601))))
            r["duration"] = int(round(480 * math.exp(rng_time.normal(0, 0.4))))
        for d in dups:
            o = next(x for x in rows if x["key"] == d["duplicate_of"])
            d["completion"] = min(o["completion"] + dt.timedelta(seconds=int(rng_time.integers(60, 3600))), end)
        for r in rows:
            r["start"] = r["completion"] - dt.timedelta(seconds=r["duration"])

    # --- the files ---------------------------------------------------------------------
    files_spec = spec.get("files") or {}
    files: dict[str, Any] = {}
    by_form: dict[str, list[dict]] = {lang: [] for lang in langs}
    for r in rows:
        by_form[r["form"]].append(r)
    for lang in langs:
        form_rows = by_form[lang]
        if has_time:
            form_rows.sort(key=lambda r: (r["completion"], r["key"]))
        else:
            form_rows.sort(key=lambda r: (r["key"].replace("-dup", "~"), r["key"]))   # duplicates follow later
            form_rows.sort(key=lambda r: "-dup" in r["key"])
        for k, r in enumerate(form_rows):
            r["form_id"], r["row"] = k + 1, k + 2
        cols = generic_columns(cb, lang)
        table = [[_generic_cell(cb, r, col, lang, codes, fmt) for _, col in cols] for r in form_rows]
        name = files_spec.get(lang) or f"forms_{lang}.{fmt}"
        headers = [h for h, _ in cols]
        if fmt == "csv":
            _write_csv(out / name, headers, table, cb)
        else:
            write_forms_xlsx(out / name, headers, table)
        files[name] = {"language": lang, "n_rows": len(form_rows), "format": fmt,
                       "columns": [[h, c] for h, c in cols],
                       "rows": [{"form_id": r["form_id"], "row": r["row"], "respondent": r["key"],
                                 "problems": r["problems"]} for r in form_rows]}
        for r in form_rows:
            r["file"] = name

    mail = []
    if n_email:
        mail = _generic_mbox(rng_mail, out / MBOX_FILE, n_email, cb, texts_spec, window, seed)

    truth = _generic_truth(cb, spec, spec_path, seed, n, rows, files, mail, has_time)
    (out / TRUTH_FILE).write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth


def generic_columns(cb: Codebook, lang: str) -> list[tuple[str, str]]:
    """(header, column) of a form language's export in codebook order, meta columns first; a
    multi-select laid out one column per option gives one ``<variable>__<code>`` per option."""
    metas = [v for v in cb.variables.values() if v.type == "meta"]
    rest = [v for v in cb.variables.values() if v.type != "meta"]
    cols: list[tuple[str, str]] = []
    for v in metas + rest:
        if v.type == "multi" and v.layout == "columns":
            cols += [(v.option_headers[o.code][lang], f"{v.name}__{o.code}") for o in v.options]
        else:
            cols.append((v.headers[lang], v.name))
    return cols


def _missing_cell(code: str, fmt: str):
    if code == "":
        return None
    if fmt == "xlsx" and re.fullmatch(r"-?\d+", code):
        return int(code)
    return code


def _generic_cell(cb: Codebook, r: dict, col: str, lang: str, codes: dict, fmt: str):
    name, option = cb.column_owner(col)
    v = cb.variables[name]
    if v.type == "meta":
        when = {"start_time": r.get("start"), "completion_time": r.get("completion"),
                "last_modified": r.get("completion")}
        if v.role == "id":
            return r["form_id"]
        if v.role in when:
            t = when[v.role]
            if fmt == "csv" and t is not None:
                return t.strftime((cb.date_formats or ("%Y-%m-%d %H:%M:%S",))[0])
            return t
        if v.role == "email":
            return "anonymous"
        return None
    if v.type == "single":
        if not r["answered"][name]:
            return _missing_cell(codes["single"], fmt)
        if name in r["other"]:
            return r["other"][name]
        return v.option(r["codes"][name]).labels[lang]
    if v.type == "multi":
        if option is not None:                                  # one column per option
            return (1 if fmt == "xlsx" else "1") if (r["answered"][name] and option in r["multi"][name]) else None
        if not r["answered"][name]:
            return _missing_cell(codes["multi"], fmt)
        sep = cb.multi_separator
        return "".join(f"{v.option(c).labels[lang]}{sep}" for c in v.codes if c in r["multi"][name])
    if v.type in ("likert", "rating", "nps"):
        x = r["scores"].get(name)
        if x is None:
            return _missing_cell(codes["rating"], fmt)
        if x == "dk":
            return cb.scale_of(name).dont_know[lang]
        if v.type == "likert" and cb.scale_of(name).type == "likert":
            return cb.scale_of(name).labels[x][lang]
        return x if fmt == "xlsx" else str(x)
    if v.type == "text":
        t = r["texts"].get(name)
        return t["text"] if t else _missing_cell(codes["text"], fmt)
    return None


def _write_csv(path: Path, headers: list[str], rows: list[list[Any]], cb: Codebook) -> None:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for row in rows:
        w.writerow(["" if x is None else x for x in row])
    Path(path).write_bytes(buf.getvalue().encode(cb.encoding or "utf-8"))


def _generic_mbox(rng: np.random.Generator, path: Path, n_email: int, cb: Codebook, texts_spec: dict,
                  window: dict, seed: int) -> list[dict]:
    """Plain e-mailed proposals in the form languages (UTF-8, quoted-printable)."""
    start = dt.datetime.fromisoformat(str(window.get("start", "2024-03-01T00:00:00")))
    end = dt.datetime.fromisoformat(str(window.get("end", "2024-03-31T23:59:59")))
    themes = [t["code"] for t in texts_spec.get("themes") or []] or ["_statement"]
    messages, meta = [], []
    for i in range(n_email):
        lang = _pick(rng, list(cb.languages))
        name = _pick(rng, texts_spec.get("names") or ["Vastaja"])
        user = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode().replace(" ", ".")
        addr = f"{user}@{texts_spec.get('mail_domain', 'example.org')}"
        theme = _pick(rng, themes)
        body = _generic_text(rng, texts_spec, lang, [theme], cb)
        when = start + dt.timedelta(seconds=int(rng.integers(0, max(int((end - start).total_seconds()), 1))))
        msg = EmailMessage(policy=email_policy.default)
        msg["From"] = email_utils.formataddr((name, addr))
        msg["To"] = f"consultation@{texts_spec.get('mail_domain', 'example.org')}"
        msg["Subject"] = str(cb.pick(cb.titles, lang) or "Proposal")[:60]
        msg["Date"] = email_utils.format_datetime(when.replace(tzinfo=dt.timezone.utc))
        msg["Message-ID"] = f"<{when:%Y%m%d%H%M%S}.{seed}.{i:04d}@{addr.split('@')[1]}>"
        msg.set_content(f"{body}\n\n{name}\n", charset="utf-8", cte="quoted-printable")
        messages.append(msg)
        meta.append({"index": i, "message_id": str(msg["Message-ID"]), "from_name": name, "from_address": addr,
                     "date": msg["Date"], "lang": lang, "themes": [t for t in [theme] if t != "_statement"],
                     "text": body, "pii": [{"type": "name", "value": name}, {"type": "email", "value": addr}]})
    box_path = Path(path)
    if box_path.exists():
        box_path.unlink()
    box = mailbox.mbox(str(box_path), create=True)
    try:
        for msg, m in zip(messages, meta):
            mm = mailbox.mboxMessage(msg)
            mm.set_from(m["from_address"], email_utils.parsedate_to_datetime(m["date"]).timetuple())
            box.add(mm)
        box.flush()
    finally:
        box.close()
    return meta


def _generic_truth(cb, spec, spec_path, seed, n, rows, files, mail, has_time) -> dict[str, Any]:
    clean = [r for r in rows if not r["problems"]]
    quality: dict[str, list] = {k: [] for k in GENERIC_PROBLEMS}
    by_key = {r["key"]: r for r in rows}
    for r in rows:
        w = {"file": r["file"], "form_id": r["form_id"], "row": r["row"]}
        for kind in r["problems"]:
            if kind == "duplicate":
                o = by_key[r["duplicate_of"]]
                quality[kind].append(dict(w, duplicate_of_id=o["form_id"], duplicate_of_row=o["row"]))
            elif kind == "straightliner":
                quality[kind].append(dict(w, score=r["straight_score"]))
            else:
                quality[kind].append(w)
    observed: dict[str, Any] = {"n_clean": len(clean), "sector_index_mean": {}, "cronbach_alpha": {}}
    for s in cb.sectors.values():
        sc = cb.index_scale(s.code)
        mat = []
        for r in clean:
            vals = [r["scores"].get(it) for it in s.items]
            if all(isinstance(x, int) for x in vals):
                mat.append([sc.reverse(x) if cb.variables[it].reverse else x for it, x in zip(s.items, vals)])
        if mat:
            a = np.array(mat, dtype=float)
            observed["sector_index_mean"][s.code] = round(float(a.mean()), 3)
            if a.shape[1] > 1 and len(a) > 2:
                observed["cronbach_alpha"][s.code] = round(_cronbach(a), 3)
    counts: dict[str, dict[str, int]] = {}
    for v in cb.of_type("single"):
        c: dict[str, int] = {}
        for r in clean:
            if r["answered"][v.name]:
                c[r["codes"][v.name]] = c.get(r["codes"][v.name], 0) + 1
        counts[v.name] = dict(sorted(c.items()))
    observed["group_counts"] = counts
    texts = [{"file": r["file"], "form_id": r["form_id"], "row": r["row"], "variable": var, "lang": t["lang"],
              "themes": t["themes"], "text": t["text"]}
             for r in rows for var, t in sorted(r["texts"].items())]
    return {
        "generator": {"module": "analysis.synth", "function": "synth_codebook", "version": GENERATOR_VERSION,
                      "seed": seed, "n": n, "codebook": _rel(cb.path),
                      "spec": _rel(Path(spec_path)) if spec_path else None, "synthetic": True,
                      "note": "Synthetic data with planted truth; not a real consultation."},
        "counts": {"rows": len(rows), **{name: f["n_rows"] for name, f in files.items()},
                   "texts_forms": len(texts), "messages": len(mail),
                   "problems": {k: len(v) for k, v in quality.items()}},
        "time_columns": has_time,
        "files": files,
        "quality": quality,
        "reversed_items": [it for it in cb.likert_items if cb.variables[it].reverse],
        "model": spec.get("model") or {},
        "effects": spec.get("effects") or [],
        "observed": observed,
        "texts": texts,
        "emails": {"file": MBOX_FILE if mail else None, "messages": mail},
    }


def add_arguments(ap: argparse.ArgumentParser, *, out_required: bool = False) -> None:
    """The options of `python -m analysis synth` (shared by this module's `main`)."""
    ap.add_argument("--n", type=int, default=1200, help="number of Forms responses in total (default 1200)")
    ap.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    ap.add_argument("--out", required=out_required, default=None if out_required else str(ROOT / "data" / "sample"),
                    help="output folder")
    ap.add_argument("--emails", type=int, default=None,
                    help="number of e-mailed proposals (default: n/20 for the embedded sample, 0 otherwise)")
    ap.add_argument("--params", default=None, help="a params file: generate for its codebook")
    ap.add_argument("--codebook", default=None, help="a codebook: generate an export for it")
    ap.add_argument("--spec", default=None, help="generator spec (YAML: distributions, effects, phrases); "
                    "default: data/<survey>/generator.yaml when it exists")
    ap.add_argument("--format", choices=("xlsx", "csv"), default=None,
                    help="file format of the export(s) of another codebook (default: the spec's, else xlsx)")


def _codebook_of(args) -> Path | None:
    from . import paths

    if getattr(args, "codebook", None):
        return Path(args.codebook).resolve()
    if getattr(args, "params", None):
        where = Path(args.params)
        try:
            raw = yaml.safe_load(where.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{where}: cannot read the params file ({exc})") from None
        if not isinstance(raw, dict) or not raw.get("codebook"):
            raise ValueError(f"{where}: codebook: missing; expected the path of the survey's codebook")
        return paths.resolve(raw["codebook"])
    return None


def command(args) -> int:
    """Run `synth` from parsed arguments: the embedded sample (no codebook given, or its own
    codebook) or an export for another codebook. Exit 0, or 2 on bad input."""
    from .codebook import CodebookError

    try:
        cb_path = _codebook_of(args)
    except ValueError as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    if cb_path is None or cb_path == (ROOT / CODEBOOK_PATH).resolve():
        if args.n < 100:
            print("error: --n must be at least 100 (planted problems and effects need room)", file=sys.stderr)
            return 2
        n_email = args.emails if args.emails is not None else max(1, args.n // 20)
        try:
            truth = synth(args.n, args.seed, args.out, n_email=n_email)
        except ValueError as exc:
            print(f"synth: {exc}", file=sys.stderr)
            return 2
        c = truth["counts"]
        print(f"synth: wrote {args.out}: " + " + ".join(str(c[f]) for f in FORM_FILES.values())
              + f" responses, {c['messages']} e-mails, {len(truth['texts'])} texts (seed {args.seed})")
        return 0
    try:
        cb = load_codebook(cb_path)
        spec_path = Path(args.spec) if args.spec else ROOT / "data" / cb.survey / "generator.yaml"
        if not spec_path.exists():
            if args.spec:
                raise ValueError(f"{spec_path}: generator spec not found")
            spec_path = None
        truth = synth_codebook(cb, n=args.n, seed=args.seed, out_dir=args.out, spec_path=spec_path,
                               fmt=args.format, n_email=args.emails or 0)
    except (CodebookError, ValueError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    names = ", ".join(f"{name} ({f['n_rows']} rows)" for name, f in truth["files"].items())
    print(f"synth: wrote {args.out}: {names}; {truth['counts']['messages']} e-mails (seed {args.seed})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m analysis synth [--params P | --codebook C] --n N --seed S --out DIR [--emails M]`;
    exit 0, or 2 on bad arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "synth":
        argv = argv[1:]
    from .cli import standalone

    return standalone(argv, "python -m analysis synth",
                      "Write the embedded synthetic survey (or one for any codebook) with planted truth.",
                      add_arguments, command)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
