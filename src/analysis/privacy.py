"""Personal data: redaction of free text, pseudonymous ids, small cells, safe cells and HTML.

Everything that keeps respondents unidentifiable in what the workspace writes lives here:

- :func:`redact` / :func:`find_personal_data` replace e-mail addresses, Latvian phone numbers,
  personal codes (personas kods), IBANs, person names, street addresses, car plates, social
  profiles, payment cards, passport/ID numbers and birth dates in free text by typed placeholders
  (``[E-PASTS]``, ``[TĀLRUNIS]``, ``[PERSONAS KODS]``, ``[IBAN]``, ``[VĀRDS]``, ``[ADRESE]``,
  ``[NUMURZĪME]``, ``[PROFILS]``, ``[MAKSĀJUMU KARTE]``, ``[DOKUMENTA NR]``,
  ``[DZIMŠANAS DATUMS]``);
- :func:`quote_is_publishable` is the second, stricter check a quote passes before a report
  shows it (skipped when in doubt); :func:`redact_file_name` reduces an attachment's file name
  to ``[PIELIKUMS].ext``;
- :func:`load_salt` / :func:`pseudonym` turn e-mail addresses and other ids into keyed,
  non-reversible pseudonyms (HMAC-SHA256);
- :func:`suppress_small` blanks published counts below the minimum cell size;
- :func:`neutralise_cell` / :func:`neutralise_frame` stop spreadsheet formula injection;
- :func:`escape_html` is the one place reports escape text for HTML.

Redaction policy (what counts as personal data, and what deliberately does not). Numbers are
searched with every Unicode space (no-break, narrow no-break, thin, figure...) read as a space
and every Unicode hyphen as "-", so "29\u00a0123\u00a0456" is the phone "29 123 456".

- **Phone numbers**: Latvian 8-digit numbers starting with 2 (mobile), 6 (landline), 80 (toll
  free) or 90, alone or after +371 / 00371 / (+371) / 371, written whole or in the usual
  groups (2912 3456, 29 123 456, 291 23 456, 29 12 34 56, 2912-3456, 29.123.456). Any number
  that starts with ``+`` and a foreign country code is also a phone. Not phones: years and
  year ranges ("2021 2022", "2021-2027"), dates, sums (a number followed by EUR/€/eiro/%/km/
  cilvēki..., or ending in 000 when written in thousands groups), street and flat numbers,
  anything with fewer or more than 8 digits.
- **Personal codes**: ``DDMMYY-CNNNN`` with a real date and century digit C in 0–2, and the
  new ``32NNNN-NNNNN``; with a hyphen, dash, one space or nothing between the two parts. The
  check digit is not required (planted or mistyped codes are still personal data).
- **IBAN**: any country's IBAN of the right length with a valid ISO 7064 mod-97 check, with or
  without spaces; a Latvian IBAN-shaped string (LVkk BBBB + 13 characters) even when the check
  fails.
- **IBAN** also spaced or dashed anywhere, "LV 85 RIKO 0000 ...", "LV85-RIKO-...".
- **E-mail**: ``local@domain.tld``, also ``%40`` (URL-encoded, e.g. inside a ``mailto:`` or a
  query string — the rest of the URL is kept), spaces around ``@``, and obfuscated spellings:
  ``(at)`` / ``[at]`` / ``{at}`` / ``<at>``, "vards at gmail dot com", "[dot]", "собака". The bare
  word "at" counts only with a spelled-out "dot", a known mail provider (gmail, inbox, apollo,
  mail.ru...) or a local part with a digit, dot or underscore ("look at google.com" is kept).
- **Street addresses**: a street name (one to three capitalised words, an initial or an
  abbreviation such as "Kr." allowed) with a street word (iela/ielā/ielas, prospekts, bulvāris,
  laukums, gatve, šoseja, aleja, krastmala, līnija, dambis, ceļš, "pr.", "bulv.") **and a house
  number**, with building (``k-2``), flat (``-5``, ``dz. 14``, ``dzīv. 14``), town and postal code
  when they follow ("Graudu ielā 12-5", "Brīvības iela 12 k-2 dz. 33, Rīga, LV-1011"); a
  name and number with a flat marker ("Rožu 3 dz. 14"); a name and number after "Adrese:",
  "dzīvoju", "адрес", "живу"; Russian "ул./пр./пер./наб. Name, д. 4/7, кв. 5". A street
  without a house number ("Rīgas ielā vajag pāreju") is a place and is kept, and so is a number
  followed by a unit ("Kuršu ielā 2 gadus"). Institutions' addresses are redacted too: they
  cannot be told from a respondent's. A **postal code alone** (``LV-3401``) is **not** redacted:
  it covers a whole part of a town and identifies nobody.
- **Car plates**: two capital letters and 1–4 digits with a hyphen or space, or 3–4 digits
  glued ("AB-1234", "KX 1234", "GH1234"); letter pairs that are usual abbreviations before a
  number (ES, EU, LV, EN, PM, TV, ID, NR...) only after a cue ("auto", "numurs", "машина").
- **Social profiles**: links to a profile on Facebook, Instagram, X/Twitter, TikTok, LinkedIn,
  VK, OK, Telegram, YouTube, Threads, draugiem.lv... (the whole link) and ``@handles`` (not
  ``@SUM(`` formulas). An organisation's profile is redacted too: it cannot be told from a
  person's.
- **Payment cards**: 13–19 digits, whole or in groups of four (Amex 4-6-5), passing the Luhn
  check (not after "ISBN"/"ISSN"/"EAN").
- **Passport and ID-card numbers**: two capital letters and seven digits ("LA1234567",
  "PA 1234567"), and any 6–12 digit number (letters before it allowed) after "pase", "pases Nr.",
  "ID karte", "personas apliecība", "uzturēšanās atļauja", "паспорт", "passport".
- **Birth dates**: a full date (12.03.1985, 1985. gada 3. maijā, 3. maijā 1985, 1985-03-12)
  after "dz.", "dzimis/dzimusi", "dzimšanas datums", "д.р.", "дата рождения", "born", before
  "г.р." / "g. dz.", or right after a name ("Jānis Bērziņš (12.03.1985)"). Other dates are kept.
- **Names**: first names from the Latvian name-day calendar (``lv-namedays``, extended list,
  all singular case forms generated, also written without diacritics) with a few hundred more
  (``resources/names/extra_first_names.txt``: Russian names in Latvian spelling, English...),
  and from pymorphy3's Russian dictionary (``Name``), Russian surnames (``Surn``) and
  patronymics (``Patr``); see ``resources/names/README.md`` for sources and licences. A first
  name is redacted together with the surname-like capitalised word next to it (either side,
  "Jānis Bērziņš", "Bērziņš Jānis", "Иванов Сергей") and with an initial ("J. Bērziņš",
  "Jānis B."). First names that are also ordinary words, places or months ("Saule", "Laima",
  "Liepa", "Marta", "Вера", "Надежда" — ``resources/names/lv_ambiguous_forms.txt`` and the lists
  below) are redacted only with a surname beside them, in a signature ("Ar cieņu,\\nLaima" or a
  name alone on the last line of a multi-line text) or after "mani sauc", "vārds, uzvārds:",
  "меня зовут", "ФИО:", a greeting ("Labdien, Laima!")... The parts of a Latvian name must
  agree in case ("Jāņa Bērziņa", not "Nāciju Līgā"). Also: names in capitals ("JĀNIS
  ŠTEINBERGS", "Andris KRASTIŅŠ"); a surname that is also a place or nature word after a sure
  first name when it is capitalised and in the same case ("Jānis Kalns", "Jāni Kalnu"; "Gaiļa
  kalns" stays a place); Russian names in Latin script ("Sergey Ivanov", read back into Cyrillic
  for pymorphy3's name list, with a Russian surname ending); "Surname, First" ("Bērziņš,
  Jānis"); "Uzvārds: X", "Vārds, uzvārds: X Y", "Фамилия:"; a surname alone after a title or
  honorific ("Prof.", "Dr.", "Doc.", "kgs.", "kdze", "г-н") or before "kungs"/"kundze"; a family
  signature ("Bērziņu ģimene", "семья Ивановых"); a first name at the end of a line with its
  surname starting the next ("iesniedz Jānis\nBērziņš, kas ..."). Names written all in lower
  case are not found (the quote check rejects a quote that has one).
- **Public figures and places named after people.** A person's name is redacted whoever the
  person is — a mayor, a deputy, a historical figure ("Kārlis Ulmanis", "Kārļa Ulmaņa laikā"):
  the redactor cannot tell a public figure from a private one, and a complaint about a named
  official is personal data about that official. A name that is part of the name of a place or
  institution is kept: followed by a street, square, park, school, museum, bridge, prize... word
  written in lower case ("Krišjāņa Barona iela", "Raiņa parks", "Kārļa Ulmaņa gatve", "Raiņa
  skolas skolēni", "K. Ukstiņa ielā") or preceded by "улица", "ул.", "имени". Single pen names
  and mythological names that are also ordinary words (Rainis, Aspazija, Lāčplēsis, Laima) are
  kept when they stand alone. With a house number the place becomes an address and is redacted
  ("Kārļa Ulmaņa gatvē 5").

Placeholders are never altered and redaction is idempotent: ``redact(redact(t)) == redact(t)``.
"""
from __future__ import annotations

import bisect
import datetime as _dt
import functools
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

__all__ = [
    "PLACEHOLDERS", "Finding", "find_personal_data", "redact", "load_salt", "pseudonym",
    "pseudonymise_series", "suppress_small", "neutralise_cell", "neutralise_frame",
    "escape_html", "lv_case_forms", "quote_is_publishable", "redact_file_name",
]

# --------------------------------------------------------------------------- placeholders

PLACEHOLDERS: dict[str, str] = {
    "email": "[E-PASTS]",
    "phone": "[TĀLRUNIS]",
    "personal_code": "[PERSONAS KODS]",
    "iban": "[IBAN]",
    "name": "[VĀRDS]",
    "address": "[ADRESE]",
    "plate": "[NUMURZĪME]",
    "profile": "[PROFILS]",
    "card": "[MAKSĀJUMU KARTE]",
    "document": "[DOKUMENTA NR]",
    "birth_date": "[DZIMŠANAS DATUMS]",
}
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
# structured types win over each other in this order when two matches overlap
_PRIORITY = {"email": 10, "profile": 9, "iban": 8, "card": 7, "document": 6, "personal_code": 5,
             "birth_date": 4, "address": 3, "plate": 2, "phone": 1}
# Unicode spaces (no-break, narrow no-break, thin, figure...) and hyphens are read as a plain
# space / hyphen-minus when searching (one character for one: offsets do not move), so numbers
# grouped with them ("29\u00a0123\u00a0456") are found like the ASCII spellings.
_SPACE_FOLD = str.maketrans({**{ch: " " for ch in "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004"
                                "\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"},
                             **{ch: "-" for ch in "\u2010\u2011\u2012\u2013\u2212"}})
# Found data and placeholders are overwritten by mask characters before names are searched:
# names by one, everything else by another, so that a signature line already redacted to
# [VĀRDS] is told from a contact line of [TĀLRUNIS] / [E-PASTS].
_MASK = "\x00"
_NAME_MASK = "\x01"


class Finding(NamedTuple):
    """One piece of personal data: its type (a key of PLACEHOLDERS), span and text."""
    type: str
    start: int
    end: int
    value: str


# --------------------------------------------------------------------------- e-mail

_EMAIL_RE = re.compile(
    r"(?<![\w.%+\-])"
    r"\w[\w.%+\-]*"                                   # local part
    r"(?:@|%40|\s?[\[({]\s?(?:at|@)\s?[\])}]\s?)"     # @, URL-encoded @, (at) / [at]
    r"[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}"            # domain and top-level domain
    r"(?![\w\-])",
    re.IGNORECASE,
)
_EMAIL_HINT_RE = re.compile(r"@|%40|[\[({<]\s?(?:at|et)\s?[\])}>]|\bat\b|собака", re.IGNORECASE)
# obfuscated spellings: "vards at gmail dot com", "vards [at] inbox [dot] lv", "vards @ gmail.com",
# "vards собака mail.ru"
_OBF_DOT = r"(?:\.|\s?[\[({<]\s?(?:dot|punkts|точка)\s?[\])}>]\s?|\s+(?:dot|punkts|точка)\s+)"
_EMAIL_OBF_RE = re.compile(
    r"(?<![\w.%+\-])(?P<local>\w[\w.%+\-]*)"
    r"(?P<at>\s?[\[({<]\s?(?:at|et|@|собака)\s?[\])}>]\s?|\s+(?:at|собака)\s+|\s@\s?|@\s)"
    r"(?P<domain>[\w\-]+(?:" + _OBF_DOT + r"[\w\-]+)*?" + _OBF_DOT + r"[^\W\d_]{2,})(?![\w\-])",
    re.IGNORECASE)
# spaces around the dots and the @: "janis . ozols @ inbox . lv"
_EMAIL_SPACED_RE = re.compile(
    r"(?<![\w.])\w[\w%+\-]*(?:[ ]?\.[ ]?\w[\w%+\-]*)*[ ]?@[ ]?[a-z0-9\-]+(?:[ ]?\.[ ]?[a-z0-9\-]+)*?[ ]?\.[ ]?"
    r"[a-z]{2,6}(?![\w\-])", re.IGNORECASE)
_MAIL_PROVIDERS = frozenset("""
gmail inbox apollo tvnet one mail yandex ya rambler bk list outlook hotmail live msn yahoo icloud
me proton protonmail gmx web tutanota zoho aol delfi lattelecom navigator
""".split())
_DIGIT_RE = re.compile(r"\d")

# --------------------------------------------------------------------------- IBAN

# ISO 13616 registry lengths (SWIFT IBAN registry)
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}
_IBAN_START_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[ \-]?\d{2}(?=[ \-]?[A-Za-z0-9])")
_LV_IBAN_SHAPE_RE = re.compile(r"LV\d{2}[A-Z]{4}[A-Z0-9]{13}")


def _iban_checksum_ok(iban: str) -> bool:
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _find_ibans(text: str) -> Iterable[Finding]:
    for mt in _IBAN_START_RE.finditer(text):
        country = mt.group()[:2].upper()
        length = _IBAN_LENGTHS.get(country)
        if length is None:
            continue
        pos, end = mt.end(), mt.end()
        chars = 4
        while chars < length and pos < len(text):
            ch = text[pos]
            if ch.isascii() and ch.isalnum():
                chars, pos, end = chars + 1, pos + 1, pos + 1
            elif ch in " -" and pos + 1 < len(text) and text[pos + 1].isascii() \
                    and text[pos + 1].isalnum() and text[pos - 1] not in " -":
                pos += 1
            else:
                break
        if chars != length or (end < len(text) and text[end].isascii() and text[end].isalnum()):
            continue
        compact = text[mt.start():end].replace(" ", "").replace("-", "").upper()
        if _iban_checksum_ok(compact) or _LV_IBAN_SHAPE_RE.fullmatch(compact):
            yield Finding("iban", mt.start(), end, text[mt.start():end])


# --------------------------------------------------------------------------- personal code

_PERSONAL_CODE_RE = re.compile(
    r"(?<![\d+\-])(?<!\d[./])(\d{6})(?:[ ]?[\-\u2010\u2011\u2013][ ]?|[ ])?(\d{5})(?!\d|[\-./]\d)")


def _personal_code_ok(first: str, second: str) -> bool:
    if first.startswith("32"):               # codes issued since 1 July 2017
        return True
    century = second[0]
    if century not in "012":
        return False
    try:
        _dt.date(1800 + 100 * int(century) + int(first[4:6]), int(first[2:4]), int(first[:2]))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- phone

_PHONE_RE = re.compile(
    r"(?<![\d+])(?<!\d[.,])"
    r"(?:"
    r"(?P<prefix>(?:\(\s?(?:\+|00)?\s?371\s?\)|(?:\+|00)\s?371|371(?=[ .\-]?[2-9]\d))[ .\-/]?\s?)"
    r"(?P<body1>[2-9](?:[ .\-]?\d){7})"
    r"|(?P<intl>\+(?!371)[1-9]\d{0,2}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d(?:[ .\-]?\d){5,11})"
    r"|(?P<body2>"
    r"[2689]\d{7}"
    r"|[2689]\d{3}(?P<s1>[ .\-])\d{4}"
    r"|[2689]\d(?P<s2>[ .\-])\d{3}(?P=s2)\d{3}"
    r"|[2689]\d{2}(?P<s3>[ .\-])\d{2}(?P=s3)\d{3}"
    r"|[2689]\d(?P<s4>[ .\-])\d{2}(?P=s4)\d{2}(?P=s4)\d{2}"
    r"|[2689]\d{2}(?P<s5>[ .\-])\d{3}(?P=s5)\d{2}"
    r"|[2689]\d {6}"
    r"|[2689]\d{2} \d{5}"
    r"|[2689](?P<s6>[ .\-])\d(?:(?P=s6)\d){6}"      # one digit at a time: "2 9 1 2 3 4 5 6"
    r")"
    r")"
    r"(?!\d)(?![.,]\d)"
)
_UNIT_AFTER_RE = re.compile(
    r"\s?(?:€|\$|%|eur|eiro|euro|евро|ls\b|lvl|lats|latu|usd|rub|руб|proc|km|m2|m²|m\b|ha\b|kg|t\b"
    r"|cilv|iedz|gab|gad|dien|mēn|чел|жит|тыс|лет|год|дн)",
    re.IGNORECASE)
_UNIT_BEFORE_RE = re.compile(r"(?:€|\$|eur|eiro|euro|usd)\s?$", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
# a label just before a number makes it a phone whatever its digits look like ("tel", not "telpas")
_PHONE_LABEL = r"tālr\w*|tel(?:efon\w*)?|mob(?:il\w*)?|zvan\w*|phone|тел(?:ефон\w*)?|моб(?:ил\w*)?|звон\w*"
_PHONE_CUE_RE = re.compile(
    r"(?:" + _PHONE_LABEL + r"|numur\w*|nr|call\w*|номер\w*)(?!\w)\.?\s*[:\-–—]?\s*$",
    re.IGNORECASE)


# the operator code in brackets: "(29) 123456", "+371 (29) 123 456"
_PHONE_PAREN_RE = re.compile(r"(?<![\d+])(?:(?:\+|00)[ ]?371[ ]?)?\([ ]?[2689]\d[ ]?\)[ ]?\d(?:[ .\-]?\d){5}(?!\d)")
# after a phone label, eight digits in any grouping are a phone ("Tel: 63 4 22 333")
_PHONE_CUED_RE = re.compile(
    r"(?i:\b(?:" + _PHONE_LABEL + r")(?!\w)\.?[ \t]*[:\-–—]?[ \t]*)"
    r"(?P<num>(?:(?:\+|00)?371[ .\-]?)?[2-9](?:[ .\-]?\d){7})(?!\d)(?![.,]\d)")


def _plausible_local_phone(text: str, mt: re.Match) -> bool:
    body = mt.group("body2")
    digits = re.sub(r"\D", "", body)
    if digits[0] in "89" and digits[1] != "0":
        return False
    if _PHONE_CUE_RE.search(text, max(0, mt.start() - 20), mt.start()):
        return True
    if digits.endswith("00000"):
        return False                         # round sums: 25000000
    if mt.group("s1") and _YEAR_RE.fullmatch(digits[:4]) and _YEAR_RE.fullmatch(digits[4:]):
        return False                         # year ranges: 2021-2027, 2022 2023
    if (mt.group("s2") or mt.group("s5")) and mt.group("s2" if mt.group("s2") else "s5") in " ." \
            and digits.endswith("000"):
        return False                         # thousands groups: 20 000 000
    if _UNIT_AFTER_RE.match(text, mt.end()) or _UNIT_BEFORE_RE.search(text, 0, mt.start()):
        return False
    return True


# --------------------------------------------------------------------------- profiles, handles

_PROFILE_URL_RE = re.compile(
    r"(?<![\w@/.\-])(?:https?://)?(?:(?:www|m|mobile|web|[a-z]{2}-[a-z]{2})\.)?"
    r"(?:facebook\.com|fb\.com|fb\.me|instagram\.com|instagr\.am|twitter\.com|x\.com|tiktok\.com"
    r"|linkedin\.com|vk\.com|vkontakte\.ru|ok\.ru|t\.me|telegram\.me|youtube\.com|threads\.net"
    r"|draugiem\.lv|github\.com|snapchat\.com|pinterest\.com|reddit\.com|medium\.com)"
    r"/[^\s,;!?()<>\"'«»\[\]]+",
    re.IGNORECASE)
# a user name after a messenger's name: "skype: janis.ozols85" (a dot, underscore or digit in it)
_MESSENGER_HANDLE_RE = re.compile(
    r"(?i:\b(?:skype|telegram|viber|discord|snapchat|signal|tiktok|instagram|insta|ig|twitter|fb|facebook"
    r"|vk|wechat|threads)\b[ \t]*[:\-–][ \t]*)(?P<h>@?\w(?=[\w.\-]*[._\d])[\w.\-]{1,30}\w)(?![\w@])")
_HANDLE_RE = re.compile(r"(?<![\w@.+\-/])@(?=[\w.]*[^\W\d_])\w(?:[\w.]{0,28}\w)?(?![\w@(])")


def _find_profiles(text: str) -> Iterable[Finding]:
    for m in _PROFILE_URL_RE.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in ".,:;":
            end -= 1
        yield Finding("profile", m.start(), end, text[m.start():end])
    for m in _HANDLE_RE.finditer(text):
        yield Finding("profile", m.start(), m.end(), m.group())
    for m in _MESSENGER_HANDLE_RE.finditer(text):
        yield Finding("profile", m.start("h"), m.end("h"), m.group("h"))


# --------------------------------------------------------------------------- addresses

_UP = "A-ZĀČĒĢĪĶĻŅŠŪŽÕÄÖÜ"
_STREET_WORD = (r"(?:iel(?:a|ā|as|u|ai)|prospekt(?:s|ā|a|u)|pr\.|prosp\.|bulvār(?:is|ī|a|i)|bulv\."
                r"|laukum(?:s|ā|a|u)|gatv(?:e|ē|es|i)|šosej(?:a|ā|as|u)|alej(?:a|ā|as|u)"
                r"|krastmal(?:a|ā|as|u)|ostmal(?:a|ā|as|u)|līnij(?:a|ā|as|u)|šķērsiel(?:a|ā|as|u)|damb(?:is|ī|ja|i)"
                r"|ceļ(?:š|ā|a|u)|šķērslīnij(?:a|ā|as|u)|iel\.)")
# house number, building (korpuss), flat (dzīvoklis), then town and postal code
_HOUSE = (r"(?P<house>\d{1,4}(?:[A-Za-z](?![\w]))?(?:[ ]?/[ ]?\d{1,4}[A-Za-z]?)?)"
          r"(?:[ ]?[\-–][ ]?\d{1,4}[A-Za-z]?(?![\w]))?"
          r"(?:,?[ ]?(?:k|korp|korpuss)[\-.]?[ ]?\d{1,3}(?!\d))?"
          r"(?:,?[ ]?(?:dz|dzīv|dzīvoklis|dz\.[ ]?nr)\.?[ ]?\d{1,4}(?!\d))?"
          r"(?:,[ ]?(?:[" + _UP + r"][\w\-]+(?:[ ](?:nov|pag)\.?)?,?[ ]?){0,2}LV[\- ]?\d{4}(?!\d))?")
_STREET_NAME = (r"(?:(?:\d{1,2}\.[ ][a-zāčēģīķļņšūž]+[ ])"
                r"|(?:(?:[" + _UP + r"][a-zāčēģīķļņšūž]{0,2}\.[ ]?){0,2}[" + _UP + r"][\w\-]*[ ]){1,3})")
_ADDRESS_RE = re.compile(r"(?<![\w\-])" + _STREET_NAME + _STREET_WORD + r"[ ]?,?[ ]?" + _HOUSE
                         + r"(?![\w\-]|[.,]\d)")
# "Rožu 3 dz. 14", "Graudu 12-5" after "Adrese:"/"dzīvoju" (no street word)
_ADDRESS_FLAT_RE = re.compile(
    r"(?<![\w\-])(?:[" + _UP + r"][\w\-]+[ ]){1,2}\d{1,4}[a-z]?(?:/\d{1,3})?,?[ ]?(?:dz|dzīv)\.[ ]?\d{1,4}(?!\d)")
_ADDRESS_CUE_RE = re.compile(
    r"(?i:\badres(?:e|i|ē)\b|\bdzīvesviet\w*|\bdzīvoju\b|\bdzīvojam\b|\bdzīvo\b|\bmājas\s+adrese"
    r"|\bадрес\w*|\bживу\b|\bпроживаю\b|\baddress\b)\s*[:\-–]?\s*"
    # a dot only after an abbreviation ("K. Valdemāra"), not at a sentence end ("Ezerkrastā. Tel. 29")
    r"(?P<addr>(?:[" + _UP + r"А-ЯЁ][\w\-]*[ ]|[" + _UP + r"А-ЯЁ][\w\-]{0,3}\.[ ]?){1,3}(?:" + _STREET_WORD + r"[ ])?" + _HOUSE + r")(?![\w\-]|[.,]\d)")
_RU_STREET = r"(?:ул|улица|пр|просп|проспект|пер|переулок|б-р|бул|бульвар|наб|набережная|ш|шоссе|пл|площадь|алл|аллея|туп|тупик)"
_ADDRESS_RU_RE = re.compile(
    r"(?<![\w\-])" + _RU_STREET + r"\.?[ ]+(?:[" + _UP + r"А-ЯЁ][\w\-]*\.?[ ]?){1,3},?[ ]*(?:д\.?[ ]*|дом[ ]*)?"
    r"\d{1,4}[а-яa-z]?(?:/\d{1,4})?(?:[ ]?[\-–][ ]?\d{1,4})?(?:,?[ ]*(?:к|корп|стр)\.?[ ]*\d+(?:/\d+)?)*"
    r"(?:,?[ ]*(?:кв|квартира)\.?[ ]*\d+)?(?!\d)",
    re.IGNORECASE)
# the Latvian street name first, the Russian street word after it: "на Курземес проспекте 12"
_ADDRESS_RU_AFTER_RE = re.compile(
    r"(?<![\w\-])(?:[" + _UP + r"А-ЯЁ][\w\-]*[ ]){1,3}"
    r"(?:улиц[аеуыи]|улицой|проспект[еау]?|проспектом|бульвар[еау]?|переулк[еау]|переулок|площад[ьи]"
    r"|набережн(?:ая|ой|ую)|шоссе|алле[яеи])[ ]*,?[ ]*(?:д\.?[ ]*|дом[ ]*)?"
    r"\d{1,4}[а-яa-z]?(?:/\d{1,4})?(?:[ ]?[\-–][ ]?\d{1,4})?(?:,?[ ]*(?:кв|квартира)\.?[ ]*\d+)?(?!\d)")
_NOT_ADDRESS_AFTER_RU_RE = re.compile(
    r"\.?\s?(?:лет|год|раз|минут|мин\b|час|человек|чел\b|машин|авто|метр|км|м\b|дн|недел|месяц|%|евро|€)",
    re.IGNORECASE)
_NOT_ADDRESS_AFTER_RE = re.compile(
    r"\.?\s?(?:gad|reiz|stāv|minūt|min\b|st\b|h\b|cilv|auto|maš|gab|dien|mēn|nedēļ|km|m\b|%|eur|€"
    r"|лет|год|раз|мин|час|чел|дн)", re.IGNORECASE)


_ADDRESS_LEAD_RE = re.compile(
    r"(?:(?:dzīvoju|dzīvojam|dzīvo|dzīvoja|adrese|adresi|mana|mans|mūsu|mēs|es|pie|uz|no|līdz|netālu"
    r"|mājas|māja|mājā|dzīvoklis|dzīvoklī|tagad|šobrīd|tur|te|kopš)[ ])+", re.IGNORECASE)


def _find_addresses(text: str) -> Iterable[Finding]:
    spans: list[tuple[int, int]] = []
    low = text.lower()
    if re.search(r"iel|prosp|pr\.|bulv|laukum|gatv|šosej|alej|krastmal|ostmal|līnij|damb|ceļ", low):
        spans += [(m.start(), m.end()) for m in _ADDRESS_RE.finditer(text)]
    if "dz" in low:
        spans += [(m.start(), m.end()) for m in _ADDRESS_FLAT_RE.finditer(text)]
    if re.search(r"adres|dzīv|адрес|живу|прожива|address", low):
        spans += [(m.start("addr"), m.end("addr")) for m in _ADDRESS_CUE_RE.finditer(text)]
    if re.search(r"ул|пр|пер|б-р|бул|наб|ш|пл|алл|туп", low):
        spans += [(m.start(), m.end()) for m in _ADDRESS_RU_RE.finditer(text)]
    if re.search(r"улиц|проспект|бульвар|переул|площад|набережн|шоссе|алле", low):
        spans += [(m.start(), m.end()) for m in _ADDRESS_RU_AFTER_RE.finditer(text)
                  if not _NOT_ADDRESS_AFTER_RU_RE.match(text, m.end())]
    for s, e in spans:
        if _NOT_ADDRESS_AFTER_RE.match(text, e) or not _DIGIT_RE.search(text, s, e):
            continue                         # "ielā 2 gadus", "Karostā 5 reizes"
        lead = _ADDRESS_LEAD_RE.match(text, s, e)
        if lead:
            s = lead.end()                   # "Dzīvoju Graudu ielā 5": the verb is no address
        while e > s and text[e - 1] in " ,":
            e -= 1
        yield Finding("address", s, e, text[s:e])


# --------------------------------------------------------------------------- cards, documents

_CARD_RE = re.compile(r"(?<![\w\-])\d(?:[ \-]?\d){12,18}(?![\w]|[\-.,]\d)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _find_cards(text: str) -> Iterable[Finding]:
    for m in _CARD_RE.finditer(text):
        value = m.group()
        digits = re.sub(r"\D", "", value)
        groups = [len(g) for g in re.split(r"[ \-]", value)]
        grouped = len(groups) == 1 or groups[:-1] == [4] * (len(groups) - 1) and groups[-1] <= 4 \
            or groups == [4, 6, 5] or groups == [4, 6, 4]
        if 13 <= len(digits) <= 19 and grouped and len(set(digits)) > 1 and _luhn_ok(digits) \
                and not re.search(r"isbn|issn|ean", text[max(0, m.start() - 12):m.start()], re.IGNORECASE):
            yield Finding("card", m.start(), m.end(), value)


# Latvian passports and identity cards: two letters and seven digits (LA1234567, PA 1234567);
# any document number after a cue ("pases Nr.", "ID karte", "паспорт 4510 123456")
_DOC_RE = re.compile(r"(?<![\w\-])(?:L[A-Z]|P[A-Z]|R[A-Z]|[A-Z]{2}(?=\d{7}))[ ]?\d{7}(?![\w\-])")
_DOC_CUE_RE = re.compile(
    r"(?:\bpas(?:e|es|ei|i|ē)\b|\bpersonas\s+apliecīb\w*|\bid[\s\-]?kart\w*|\beid\b|\buzturēšanās\s+atļauj\w*"
    r"|\bvadītāja\s+apliecīb\w*|\bdokument\w*|\bпаспорт\w*|\bудостоверени\w*|\bpassport|\bdocument\w*)"
    r"(?:[\s,:]+(?:nr\.?|no\.?|№|numurs|numuru|номер|number|#))?\s*[:\-–]?\s*"
    r"(?P<num>(?:[A-ZА-Я]{1,3}[ ]?)?\d(?:[ ]?\d){5,11})(?![\w])",
    re.IGNORECASE)


def _find_documents(text: str) -> Iterable[Finding]:
    for m in _DOC_RE.finditer(text):
        yield Finding("document", m.start(), m.end(), m.group())
    low = text.lower()
    if re.search(r"pas|apliecīb|id|kart|atļauj|dokument|паспорт|удостовер|passport|document", low):
        for m in _DOC_CUE_RE.finditer(text):
            yield Finding("document", m.start("num"), m.end("num"), m.group("num"))


# --------------------------------------------------------------------------- car plates

# Latvian plates: two letters and 1-4 digits (AB-1234, KX 1234, GH1234); letter pairs that are
# common abbreviations before a number (ES 2021, EN 1176, PM10, TV3...) are not plates.
_PLATE_RE = re.compile(r"(?<![\w\-./])(?P<l>[A-Z]{2})(?:[ \-](?P<d1>\d{1,4})|(?P<d2>\d{3,4}))(?![\w\-]|[.,:/]\d)")
_PLATE_NOT = frozenset("""
LV EU ES LR UK US TV PM CO NO ID PC OK IT DJ VK AS EN DN IP ST RS TS FM AM PS HD GB MB KB SK NR
PK PP PV PVN CD DV MP UN SV GA DZ NB KM LT EE RU DE FR PL FI SE BY UA CE AG AT BC MG DR PH HB
""".split())
_PLATE_CUE_RE = re.compile(r"(?:auto|maš[iī]n|numur|numurzīm|transportlīdzek|reģ|машин|номер|авто)\w*\.?\s*[:\-–]?\s*$",
                           re.IGNORECASE)


def _find_plates(text: str) -> Iterable[Finding]:
    for m in _PLATE_RE.finditer(text):
        digits = m.group("d1") or m.group("d2")
        if m.group("l") in _PLATE_NOT and not _PLATE_CUE_RE.search(text, max(0, m.start() - 25), m.start()):
            continue
        if _UNIT_AFTER_RE.match(text, m.end()) or _YEAR_RE.fullmatch(digits) and \
                re.match(r"\.?\s?(?:gad|g\.|год|г\.)", text[m.end():m.end() + 6], re.IGNORECASE):
            continue
        yield Finding("plate", m.start(), m.end(), m.group())


# --------------------------------------------------------------------------- birth dates

_MONTHS_LV = (r"(?:janvār|februār|mart|aprīl|maij|jūnij|jūlij|august|septembr|oktobr|novembr|decembr)"
              r"[a-zāčēģīķļņšūž]*")
_DATE = (r"(?:\d{1,2}\.[ ]?\d{1,2}\.[ ]?(?:19|20)\d{2}\.?(?![\d])"
         r"|(?:19|20)\d{2}\.[ ]?(?:g\.|gada)[ ]?\d{1,2}\.[ ]?" + _MONTHS_LV +
         r"|\d{1,2}\.[ ]?" + _MONTHS_LV + r"[ ](?:19|20)\d{2}\.?"
         r"|(?:19|20)\d{2}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/(?:19|20)\d{2})")
_BIRTH_CUE_RE = re.compile(
    r"(?:\bdzimis|\bdzimusi|\bdzim\.|\bdz\.|\bdzimšanas\s+datums|\bdzimšanas\s+dati|\bdzimšanas\s+dat\.|\bdz\.\s*datums"
    r"|\bd\.\s*dz\.|\bborn|\bDOB|\bdate\s+of\s+birth|\bдата\s+рождения|\bродил(?:ся|ась)|\bд\.\s*р\.)"
    r"\s*[:\-–]?\s*(?:\(\s*)?(?P<date>" + _DATE + ")", re.IGNORECASE)
_BIRTH_AFTER_RE = re.compile(r"(?P<date>" + _DATE + r")\s*(?:г\.?\s*р\.?|g\.\s*dz\.|gadā\s+dzim\w*)",
                             re.IGNORECASE)
# a full date right after a person's name: "Jānis Bērziņš (12.03.1985)", "[VĀRDS], 12.03.1985"
_BIRTH_NAME_RE = re.compile(r"\x01+[ ]?[,(]?[ ]?(?P<date>" + _DATE + ")")


def _find_birth_dates(text: str) -> Iterable[Finding]:
    for rx in (_BIRTH_CUE_RE, _BIRTH_AFTER_RE, _BIRTH_NAME_RE):
        for m in rx.finditer(text):
            yield Finding("birth_date", m.start("date"), m.end("date"), m.group("date"))


# --------------------------------------------------------------------------- structured data

def _find_obfuscated_emails(text: str) -> Iterable[Finding]:
    for m in _EMAIL_OBF_RE.finditer(text):
        at, domain, local = m.group("at").strip().lower(), m.group("domain"), m.group("local")
        if at in ("at", "собака"):
            spelled_dot = re.search(r"dot|punkts|точка", domain, re.IGNORECASE)
            provider = re.split(r"\W", domain, maxsplit=1)[0].lower() in _MAIL_PROVIDERS
            if not (spelled_dot or provider or re.search(r"[\d._]", local)):
                continue                     # "look at google.com" is no address
        yield Finding("email", m.start(), m.end(), m.group())


def _find_structured(text: str) -> list[Finding]:
    found: list[Finding] = []
    if _EMAIL_HINT_RE.search(text):
        found += [Finding("email", m.start(), m.end(), m.group()) for m in _EMAIL_RE.finditer(text)]
        found += _find_obfuscated_emails(text)
        if " @" in text or "@ " in text:
            found += [Finding("email", m.start(), m.end(), m.group()) for m in _EMAIL_SPACED_RE.finditer(text)]
    if "/" in text or "@" in text or ":" in text:
        found += _find_profiles(text)
    found += _find_addresses(text)
    if _DIGIT_RE.search(text):
        found += _find_ibans(text)
        found += _find_cards(text)
        found += _find_documents(text)
        found += _find_plates(text)
        found += _find_birth_dates(text)
        for m in _PERSONAL_CODE_RE.finditer(text):
            if _personal_code_ok(m.group(1), m.group(2)):
                found.append(Finding("personal_code", m.start(), m.end(), m.group()))
        for m in _PHONE_RE.finditer(text):
            if m.group("body2") is None or _plausible_local_phone(text, m):
                found.append(Finding("phone", m.start(), m.end(), m.group()))
        for m in _PHONE_PAREN_RE.finditer(text):
            found.append(Finding("phone", m.start(), m.end(), m.group()))
        for m in _PHONE_CUED_RE.finditer(text):
            found.append(Finding("phone", m.start("num"), m.end("num"), m.group("num")))
    return found


def _resolve_overlaps(found: list[Finding], protected: list[tuple[int, int]]) -> list[Finding]:
    """Non-overlapping findings: where two overlap, the one of higher priority keeps its type and
    is widened to cover both, so no part of either value stays in the text (an address read too
    far, "Ezerkrastā. Tel. 29", must not leave the rest of the phone number "123 456")."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (-_PRIORITY[f.type], f.start, -(f.end - f.start))):
        if any(f.start < e and f.end > s for s, e in protected):
            continue
        hit = [k for k, g in enumerate(kept) if f.start < g.end and f.end > g.start]
        if not hit:
            kept.append(f)
            continue
        g = kept[hit[0]]
        kept[hit[0]] = Finding(g.type, min(g.start, f.start), max(g.end, f.end), "")
    kept.sort(key=lambda f: f.start)
    merged: list[Finding] = []
    for f in kept:                           # a widened finding may now reach the next one
        if merged and f.start < merged[-1].end:
            g = merged[-1]
            merged[-1] = Finding(g.type, g.start, max(g.end, f.end), "")
        else:
            merged.append(f)
    return merged


# =========================================================================== names

_NAMES_DIR = files("analysis").joinpath("resources", "names")

_LV_LOWER = "a-zāčēģīķļņšūžõäöüéèáàóòúùíìßçñ"
_LV_UPPER = "A-ZĀČĒĢĪĶĻŅŠŪŽÕÄÖÜÉÈÁÀÓÒÚÙÍÌÇÑ"
_WORD_RE = re.compile(r"[^\W\d_]+(?:[\-\u2010'’][^\W\d_]+)*")

# Latvian consonant alternation in the genitive of 2nd-declension nouns (Jānis -> Jāņa)
_LV_ALTERNATION = (
    ("ln", "ļņ"), ("sn", "šņ"), ("zn", "žņ"), ("sl", "šļ"), ("zl", "žļ"), ("ll", "ļļ"), ("nn", "ņņ"),
    ("n", "ņ"), ("l", "ļ"), ("s", "š"), ("t", "š"), ("z", "ž"), ("d", "ž"), ("c", "č"),
    ("p", "pj"), ("b", "bj"), ("m", "mj"), ("v", "vj"), ("f", "fj"),
)
_LV_STRIP = str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ")


def lv_case_forms(word: str, plural_places: bool = False) -> set[str]:
    """The singular case forms (nom., gen., dat., acc., loc.) of a Latvian name given in the
    nominative, following the declension its ending implies; both genitives of a name in -is
    (Jāņa and Jāna). With ``plural_places`` also plural place names (Talsi, Sakas, Cēsis)."""
    w = word
    out = {w}
    if len(w) < 3:
        return out
    if plural_places and w.endswith("pils"):
        return out | {w[:-1] + "ij", w[:-1] + "i", w[:-1] + "ī"}
    if plural_places and w.endswith("i"):
        return out | {w[:-1] + "u", w[:-1] + "iem", w[:-1] + "os"}
    if plural_places and w.endswith(("as", "es", "is")) and w[-3] != "i":
        stem, vowel = w[:-2], {"a": "ā", "e": "ē", "i": "ī"}[w[-2]]
        return out | {stem + "u", stem + vowel + "m", stem + vowel + "s", stem + "ju"}
    if w.endswith("is"):
        stem = w[:-2]
        out |= {stem + "a", stem + "im", stem + "i", stem + "ī"}
        for plain, alternated in _LV_ALTERNATION:
            if stem.endswith(plain):
                out.add(stem[: -len(plain)] + alternated + "a")
                break
    elif w.endswith("us"):
        stem = w[:-2]
        out |= {stem + "um", stem + "u", stem + "ū"}
    elif w.endswith(("s", "š")) and not w.endswith(("as", "es", "os", "ās", "ēs")):
        stem = w[:-1]
        out |= {stem + "a", stem + "am", stem + "u", stem + "ā"}
    elif w.endswith("a"):
        stem = w[:-1]
        out |= {stem + "as", stem + "ai", stem + "u", stem + "ā"}
    elif w.endswith("e"):
        stem = w[:-1]
        out |= {stem + "es", stem + "ei", stem + "i", stem + "ē"}
    return out


def _with_stripped(forms: Iterable[str]) -> set[str]:
    forms = set(forms)
    return forms | {f.translate(_LV_STRIP) for f in forms}


# First names that are also ordinary words, places, months, brands or holidays; curated by hand
# on top of the generated list (resources/names/lv_ambiguous_forms.txt).
LV_AMBIGUOUS_NAMES = frozenset("""
Liepa Rota Laima Daina Vita Ilga Dzintars Dzintra Saule Jūra Rasa Austra Māra Lauma
Venta Bārta Marta Maija Jūlija Jūnija Augusts Aprīlis Līgo Rūta Roze Lilija Viola Ieva Egle
Priede Zīle Ausma Zvaigzne Vēsma Mirdza Gaida Dzidra Sarma Spodra Irbe Bite Lapa Mīla Cerība
Ziedonis Varavīksne Vara Valda Rainis Aspazija Kurzeme Baltija Eiropa Amerika Latvija
Rīga Lielupe Gauja Daugava Tosmare Karosta Jūrmala Sēlija Gundega Vizma Dzirkstīte Laimdota
Brīvība Druva Sniedze Zeltīte Smaida Rudīte Mētra Līksma Skaidrīte Dainis Dzintris Ārija
Roma Florence Auseklis Laimonis Irma Aina Ilgvars Vilis Lāčplēsis
Kaija Gulbis Lācis Vilks Ozols Kalns Akmens Avots Strauts Mežs Lauks Upe Ezers
""".split())
# Frequent first names whose homonym is rare as a capitalised word here (lāra, dace the fish,
# ieva the bird cherry, līga the league...): kept unambiguous by build_lists.py.
LV_FREQUENT_NAMES = frozenset("""
Laura Dace Ieva Līga Zane Alise Madara Krista Krists Pauls Paula Barbara Nora Justs Kurts
Inese Juris Ruta Ginta Gints Guna Vija Vanda Zaiga Zinta Zintis Dina Lana Romāns Albīna Velta
Lita
""".split())
# Neighbourhoods of the surveyed town and places near it, Latvian regions and neighbours
# (nominative): data, not code (resources/names/local_places.txt)
LV_PLACES = frozenset(ln.strip() for ln in _NAMES_DIR.joinpath("local_places.txt")
                      .read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#"))
# Capitalised words that never continue a person's name (institutions, titles, brands...)
_STOP_WORDS = frozenset("""
un vai bet ir nav ar par pie no uz līdz pēc pirms bez caur zem virs aiz starp pret kā kad kur
ko kas kam kura kuri kuras tas tā tie tās šis šī šie šīs tad jo ja lai gan arī vēl jau tikai
ļoti es tu viņš viņa mēs jūs viņi viņas mans mana mūsu jūsu savs sava tagad šodien vakar
rīt tāpēc turklāt tomēr taču protams diemžēl manuprāt kopumā piemēram paldies labdien sveiki
ceru iesaku domāju lūdzu būtu būs bija var vajag vajadzētu nepieciešams
dome domes domei domē pašvaldība pašvaldības pašvaldībai valsts pilsēta pilsētas pilsētai
novads novada republika republikas saeima saeimas ministrija ministrijas biedrība biedrības
fonds fonda centrs centra muzejs muzeja teātris teātra koncertzāle koncertzāles universitāte
universitātes skola skolas ģimnāzija vidusskola pamatskola baznīca baznīcas osta ostas
ezers ezera parks parka iela ielas laukums bulvāris prospekts tilts stadions olimpiskais
olimpiskā sporta kultūras tūrisma informācijas attīstības nacionālā nacionālais latvijas
eiropas baltijas jaunā jaunais jaunās vecā vecais vecās lielā lielais lielās mazā mazais
ziemeļu dienvidu austrumu rietumu centrālā centrālais svētā svētais svētās svētajā svēto
svētajam svētajai sv dr prof doc mg bc
sia as akciju ltd kungs kundze kunga kundzes kungam kundzei ziemassvētki lieldienas jāņi
līgo jaungads facebook instagram twitter tiktok youtube google whatsapp telegram viber
rimi maxima lidl covid eu es nato lr lpsr pssr pdf
января февраля марта апреля мая июня июля августа сентября октября ноября декабря
""".split())
# A name followed by one of these is a street, school, park or prize named after a person
_FOLLOWER_WORDS = frozenset(f.lower() for w in """
iela bulvāris prospekts laukums skvērs parks gatve šoseja krastmala tilts aleja promenāde
vidusskola ģimnāzija pamatskola skola stadions muzejs nams piemineklis prēmija balva dārzs
kvartāls pasāža baznīca bibliotēka koncertzāle teātris institūts universitāte akadēmija
ostmala mežs kalns tirgus slimnīca katedrāle kapi kapsēta pils māja muiža
""".split() for f in lv_case_forms(w)) | frozenset("""
ielā ielas ielu ielai vārdā piemiņai dienas улица улице улицы ул проспект проспекта бульвар
бульвара площадь площади парк парка школа школы музей музея
""".split())
# ... and one preceded by these ("улица Пушкина", "ул. Ленина", "школа имени ...")
_PRECEDER_WORDS = frozenset("""
улица улице улицы улицу ул проспект проспекте просп пр бульвар бульваре бул площадь площади пл
переулок пер имени им
""".split())
# diminutive endings that make ordinary words into the commonest surnames ("Bērziņš", "Kalniņa",
# "Zālīte"): such a word before an initial is a surname although hunspell knows it
_DIMINUTIVE_NOMINATIVE = ("iņš", "iņa", "ītis", "īte", "ulis", "ule")
_DIMINUTIVE_SURNAME_ENDINGS = _DIMINUTIVE_NOMINATIVE + ("iņam", "iņai", "ītim", "ītei")
# endings that mark a Latvian surname (diminutives, -nieks, Slavic -ovs/-evs, -skis)
_LV_SURNAME_SUFFIXES = _DIMINUTIVE_NOMINATIVE + ("nieks", "niece", "ovs", "ova", "evs", "eva", "skis", "ska",
                                                 "ckis", "cka", "ēns", "āns", "ons")
_SURNAME_ENDINGS = tuple("sšaeuāiīmēūo") + tuple("вйнаяоук")  # Latvian and Russian
# Russian surnames written in Latin script (Ivanov, Petrova, Sokolovsky, Shevchenko, Babich...)
_LATIN_RU_SURNAME_RE = re.compile(
    r"[A-Z][a-z]+(?:ov|ev|yov|ova|eva|yova|in|ina|yn|yna|sky|skiy|skij|ski|skaya|skaja|ckiy|cki"
    r"|enko|ko|ich|vich|uk|yuk|chuk|ik|ets|kov|kova|nko|off|eff)")
# Natural words that are also surnames ("Jānis Kalns", "Jāni Kalnu") but otherwise follow a
# person's name as a place ("Gaiļa kalns"): written capitalised and in the name's case they are
# the surname.
_SURNAME_FOLLOWERS = frozenset(f for w in ("kalns", "mežs", "dārzs", "pils", "kalna", "avots")
                               for f in lv_case_forms(w))
_RU_PLACES = frozenset("""
лиепая лиепаи лиепае лиепаю лиепаей кароста каросты каросте каросту рига риги риге ригу ригой
латвия латвии латвию курземе вентспилс гробиня паплака юрмала даугавпилс елгава европа
""".split())
# Russian first names that are also ordinary words or brands (lemmas)
RU_AMBIGUOUS_NAMES = frozenset("""
марина лилия роза вера надежда любовь слава лев мир роман победа майя аврора лада ника злата
""".split())


def _resource_lines(name: str) -> list[str]:
    try:
        text = _NAMES_DIR.joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@functools.lru_cache(maxsize=1)
def _lv_first_names() -> dict[str, int]:
    """form -> 1 (a first name only) or 2 (a first name that is also an ordinary word/place)."""
    data = json.loads(files("lv_namedays.data").joinpath("paplasinatais_saraksts.json")
                      .read_text(encoding="utf-8"))
    names = {n for day in data.values() for n in day if n.isalpha() and n[0].isupper()}
    names |= set(_resource_lines("extra_first_names.txt"))
    forms: dict[str, int] = {}
    for name in names:
        for form in _with_stripped(lv_case_forms(name)):
            forms[form] = 1
    ambiguous = set(_resource_lines("lv_ambiguous_forms.txt"))
    for name in LV_AMBIGUOUS_NAMES:
        ambiguous |= _with_stripped(lv_case_forms(name))
    ambiguous |= _lv_place_forms()
    for form in ambiguous:
        if form in forms:
            forms[form] = 2
    return forms


@functools.lru_cache(maxsize=1)
def _lv_local_place_forms() -> frozenset[str]:
    return frozenset(f for p in LV_PLACES for f in _with_stripped(lv_case_forms(p, plural_places=True)))


@functools.lru_cache(maxsize=1)
def _lv_place_forms() -> frozenset[str]:
    places = set(LV_PLACES) | set(_resource_lines("lv_places.txt"))
    out: set[str] = set()
    for p in places:
        out |= _with_stripped(lv_case_forms(p, plural_places=True))
    return frozenset(out)


@functools.lru_cache(maxsize=1)
def _hunspell_lv():
    """The project's Latvian hunspell dictionary (resources/hunspell), or None without it."""
    try:
        import hunspell  # chunspell
        folder = files("analysis").joinpath("resources", "hunspell")
        if not folder.joinpath("lv_LV.dic").is_file():
            return None
        return hunspell.Hunspell("lv_LV", hunspell_data_dir=str(folder))
    except Exception:  # noqa: BLE001 - redaction must work without the spell checker
        return None


@functools.lru_cache(maxsize=65536)
def _lv_common(word: str) -> bool:
    """True when the lower-cased word is an ordinary Latvian word (hunspell)."""
    if word.lower() in _STOP_WORDS:
        return True
    checker = _hunspell_lv()
    return bool(checker and checker.spell(word.lower()))


@functools.lru_cache(maxsize=1)
def _morph():
    import pymorphy3
    return pymorphy3.MorphAnalyzer(lang="ru")


# token classes
_NONE, _NAME, _AMBIG, _SURN, _PLACE, _STOP = range(6)


@functools.lru_cache(maxsize=50_000)
def _ru_has(word: str, tag: str) -> bool:
    """Has a capitalised Cyrillic word any dictionary parse with ``tag`` (Name, Surn...)?"""
    if not word or not _is_cyrillic(word):
        return False
    return any(tag in p.tag and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer"
               for p in _morph().parse(word))


@functools.lru_cache(maxsize=200_000)
def _ru_class(word: str) -> tuple[int, bool]:
    """(class, common) of a capitalised Cyrillic word from pymorphy3's dictionary parses."""
    low = word.lower()
    if low in _RU_PLACES:
        return _PLACE, False
    name = surn = patr = geo = common = 0.0
    homonym = False
    for p in _morph().parse(word):
        if type(p.methods_stack[0][0]).__name__ != "DictionaryAnalyzer":
            continue
        tag = p.tag
        if "Name" in tag:
            name += p.score
            homonym = homonym or p.normal_form in RU_AMBIGUOUS_NAMES
        elif "Surn" in tag:
            surn += p.score
        elif "Patr" in tag:
            patr += p.score
        elif "Geox" in tag or "Orgn" in tag:
            geo += p.score
        else:
            common += p.score
    is_common = common >= 0.5
    if geo >= 0.3:
        return _PLACE, is_common
    if name >= 0.5 and common < 0.3 and not homonym:
        return _NAME, False
    if surn >= 0.5 and common < 0.3:
        return _SURN, False
    if name > 0 or surn > 0 or patr > 0:
        return _AMBIG, is_common
    return _NONE, is_common


# Latvian case endings -> the cases they can mark (nominative, genitive, dative, accusative,
# locative); the parts of one name stand in the same case ("Jāņa Bērziņa", "Annai Kalniņai"),
# which tells "Nāciju Līgā" (genitive + locative) from a name.
_LV_CASE_ENDINGS = (
    ("am", "D"), ("im", "D"), ("um", "D"), ("ai", "D"), ("ei", "D"), ("ij", "D"),
    ("as", "G"), ("es", "G"), ("is", "NG"), ("us", "NG"),
    ("s", "N"), ("š", "N"), ("a", "NG"), ("e", "N"), ("u", "AG"), ("i", "A"),
    ("ā", "L"), ("ī", "L"), ("ē", "L"), ("ū", "L"),
)


def _lv_cases(word: str) -> str | None:
    """Cases a Latvian word form can be in, judged by its ending (None: no Latvian ending)."""
    low = word.lower()
    for ending, cases in _LV_CASE_ENDINGS:
        if low.endswith(ending):
            return cases
    return None


def _agree(a: str, b: str) -> bool:
    """Could two Latin-script words stand in the same case (unknown endings agree)?"""
    ca, cb = _lv_cases(a), _lv_cases(b)
    return ca is None or cb is None or bool(set(ca) & set(cb))


def _is_cyrillic(word: str) -> bool:
    return "\u0400" <= word[0] <= "\u04ff"


def _is_title(word: str) -> bool:
    return word[0].isupper() and any(ch.islower() for ch in word[1:])


@functools.lru_cache(maxsize=200_000)
def _classify(word: str) -> int:
    """Class of a capitalised word: first name (sure or ambiguous), surname, place, stop."""
    if _is_cyrillic(word):
        return _ru_class(word)[0]
    kind = _lv_first_names().get(word)
    if kind:
        return _NAME if kind == 1 else _AMBIG
    if word in _lv_place_forms():
        return _PLACE
    if word.lower() in _STOP_WORDS:
        return _STOP
    return _NONE


class _Tok(NamedTuple):
    start: int
    end: int
    text: str


_CLOSING_RE = re.compile(
    r"(?:^|(?<=[.!?…]\s)|(?<=[.!?…]))[ \t]*(?:"
    r"ar\s+(?:patiesu\s+|lielu\s+|dziļu\s+)?cieņu|cieņā|ar\s+sveicien(?:u|iem)|sveicieni"
    r"|ar\s+(?:vis)?labāk(?:ajiem|iem)\s+vēlējumiem|ar\s+labiem\s+vēlējumiem|labākie\s+vēlējumi"
    r"|visu\s+labu|(?:liels\s+)?paldies(?:\s+jau\s+iepriekš)?|jauku\s+dienu"
    r"|с\s+уважением|с\s+наилучшими\s+пожеланиями|всего\s+(?:доброго|хорошего)"
    r"|(?:заранее\s+)?спасибо|с\s+благодарностью|благодарю|с\s+приветом"
    r"|(?:best|kind|warm)\s+regards|regards|best\s+wishes|(?:yours\s+)?sincerely|thanks|thank\s+you"
    r"|--"
    r")[ \t]*[,.!:;\-–—]*",
    re.IGNORECASE | re.MULTILINE,
)
_CUE_RE = re.compile(
    r"(?:"
    r"\bmani\s+sauc|\bmans\s+vārds\s+(?:ir\b)?|\bvārds,?\s+(?:un\s+)?uzvārds|\buzvārds,?\s+vārds"
    r"|\bkontaktpersona|\biesniedz(?:ējs|ēja|a)|\bsūtītājs|\bautors|\bparaksts"
    r"|\bменя\s+зовут|\bмо[её]\s+имя|\bимя,?\s+(?:и\s+)?фамилия|\bфамилия,?\s+имя"
    r"|\bф\.?\s?и\.?\s?о\.?|\bконтактное\s+лицо"
    r"|\bmy\s+name\s+is|^[ \t]*(?:from|no|от|sender|name|vārds|uzvārds|фамилия|имя|surname"
    r"|last\s+name|first\s+name|iesniedzējs|iesniedzēja)[ \t]*:"
    r")[ \t]*[:\-–—]?",
    re.IGNORECASE | re.MULTILINE,
)
_GREETING_RE = re.compile(
    r"^[ \t]*(?:labdien|labrīt|labvakar|sveik[iasą]|čau|cienījam\w*|godājam\w*|mīļ\w*|dārg\w*"
    r"|здравствуйте|добрый\s+(?:день|вечер)|уважаем\w*|привет|dear|hello|hi)[ \t]*,?[ \t]*",
    re.IGNORECASE | re.MULTILINE)
# relatives, neighbours, colleagues: a capitalised first name right after one is a person
_KIN_WORDS = frozenset(f for w in """
dēls meita sieva vīrs brālis māsa māte mamma tēvs tētis vecmāmiņa vecmamma vectēvs vectētiņš
omīte opītis mazdēls mazmeita kaimiņš kaimiņiene draugs draudzene kolēģis kolēģe audzinātāja
audzinātājs skolotāja skolotājs krustmāte krusttēvs tante onkulis znots vedekla
""".split() for f in lv_case_forms(w)) | frozenset("""
сын сына сыну сыном дочь дочери дочерью жена жены жене жену женой муж мужа мужу мужем брат брата
брату братом сестра сестры сестре сестру сестрой мама мамы маме маму мамой папа папы папе папу
бабушка бабушки бабушке бабушку дедушка дедушки дедушке дедушку внук внука внучка внучки сосед
соседа соседу соседка соседки соседке соседку подруга подруги подруге подругу друг друга другу
коллега коллеги коллеге учительница учитель
""".split())
_KIN_KEYS = ("dēl", "meit", "siev", "vīr", "brāl", "māsa", "mās", "māt", "mamm", "tēv", "tēt", "vecm",
             "vect", "omīt", "opīt", "mazd", "mazm", "kaimiņ", "draug", "draudz", "kolēģ", "audzinātāj",
             "skolotāj", "krust", "tant", "onkul", "znot", "vedekl", "сын", "доч", "жен", "муж", "брат",
             "сестр", "мам", "пап", "бабушк", "дедушк", "внук", "внучк", "сосед", "подруг", "друг",
             "коллег", "учител")
_LOWER_INTRO_RE = re.compile(r"sauc|esmu|зовут|имя|vārds|name|(?<!\w)я\s", re.IGNORECASE)
_WEAK_CUE_RE = re.compile(r"\b(?:es\s+esmu|esmu|я\s+[-–—]?)[ \t]*", re.IGNORECASE)
# cheap gates: a context rule's regex runs only when one of its key strings is in the text
_CLOSING_KEYS = ("cieņ", "sveicien", "vēlējum", "visu labu", "paldies", "jauku", "уважени",
                 "пожелани", "доброго", "хорошего", "спасибо", "благодар", "привет", "regards",
                 "wishes", "sincerely", "thank", "--")
_CUE_KEYS = ("sauc", "vārd", "uzvārd", "kontaktperson", "iesniedz", "sūtītāj", "autor", "paraksts", "зовут",
             "имя", "фамил", "фио", "ф.", "ф и", "контактн", "my name", ":")
_WEAK_CUE_KEYS = ("esmu", "я ")
_HONORIFIC_KEYS = ("kung", "kundz", "г-", "господ", "mr", "ms", "prof", "dr", "doc", "kgs", "kdz",
                   "mg.", "bc.", "sn.")
_HONORIFIC_AFTER = frozenset(lv_case_forms("kungs") | lv_case_forms("kundze"))
_HONORIFIC_BEFORE_RE = re.compile(
    r"\b(?:г-н|г-жа|господин|господину|господина|госпожа|госпоже|госпожи|mr|mrs|ms|dr|prof|doc"
    r"|asoc\.[ \t]?prof|kgs|kdz|kdze|mg|bc|sn|проф|д-р|док)\.?(?:[ \t]+(?:habil|med|phil|sc|oec|paed"
    r"|iur|biol|chem|ing|h\.c)\.?)*[ \t]+",
    re.IGNORECASE)
_FAMILY_WORDS = frozenset(lv_case_forms("ģimene") | {"ģimenes", "ģimeņu", "семья", "семьи", "семье",
                                                     "семью", "family"})
_FAMILY_NOT = frozenset("""
daudzbērnu jaunu lielu mazu manu tavu savu mūsu jūsu viņu katru visu citu šo to kuru jauno lielo
mazo vienu divu trīs daudzu nabadzīgu trūcīgu bērnu audžu aizbildņu""".split())
_CONTACT_LINE_RE = re.compile(
    r"^[\s\x00,.;:()+\-–—/|]*(?:(?:tālr|tel|mob|t|m|e-?pasts?|e-?mail|epasts|тел|моб)\.?[\s\x00,.;:()+\-–—/|]*)*$",
    re.IGNORECASE)
_LINE_TAIL_OK_RE = re.compile(r"[\s\x00,.;:!()\-–—]*")
_SENTENCE_END_RE = re.compile(r"[.!?…]\s*$")
_INITIAL_END_RE = re.compile(r"\b[^\W\d_]\.\s*$")


class _NameFinder:
    """Person names in a text whose other personal data are already masked."""

    def __init__(self, masked: str):
        self.m = masked
        self.toks = [_Tok(t.start(), t.end(), t.group()) for t in _WORD_RE.finditer(masked)]
        self.starts = [t.start for t in self.toks]
        self.covered = [False] * len(self.toks)
        self.spans: list[tuple[int, int]] = []

    # ----- small predicates
    def adjacent(self, i: int, j: int) -> bool:
        """Tokens i < j separated only by spaces on one line (or i's initial's full stop)."""
        gap = self.m[self.toks[i].end:self.toks[j].start]
        return gap != "" and gap.strip(" \t\u00a0") == "" or (gap in (". ", ".") and self.is_initial(i))

    def is_initial(self, i: int) -> bool:
        t = self.toks[i]
        return len(t.text) == 1 and t.text.isupper() and self.m[t.end:t.end + 1] == "."

    def sentence_initial(self, i: int) -> bool:
        k = self.toks[i].start - 1
        while k >= 0 and self.m[k] in " \t\u00a0\"'«»„“”‘’([{-–—•*":
            k -= 1
        return k < 0 or self.m[k] in ".!?…:;\n\r"

    def ends_item(self, j: int) -> bool:
        """Token j ends a list item or a line ("Bērziņš Jānis, Kalniņa Anna")."""
        rest = self.m[self.toks[j].end:self.toks[j].end + 3].lstrip(" \t")
        return rest == "" or rest[0] in ",;\n\r)"

    def followed_by_street(self, j: int) -> bool:
        """A street/bridge/school word follows, maybe after one more capitalised word
        ("Barona iela", "Oskara Kalpaka tilts")."""
        for k in (j + 1, j + 2):
            if k >= len(self.toks) or not self.adjacent(k - 1, k):
                return False
            word = self.toks[k].text
            if word.lower() in _FOLLOWER_WORDS and not self.genitive_before(k - 1):
                return False                 # "dēlu Robertu skolā": a person, not Roberts' school
            if word.lower() in _FOLLOWER_WORDS and not (
                    word.lower() in _SURNAME_FOLLOWERS and _is_capitalised(word)
                    and _agree(word, self.toks[k - 1].text)):
                return True
            if not _is_title(word):
                return False
        return False

    def genitive_before(self, k: int) -> bool:
        """Can token k, before a street/school word, be in the genitive that names a place after a
        person ("Raiņa", "Barona", "Brāļu Kaudzīšu")? Not a first name in the accusative or dative
        ("Robertu", "Annai"), nor any word whose Latvian ending marks another case."""
        word = self.toks[k].text
        if _is_cyrillic(word):
            return True
        cases = _lv_cases(word)
        if cases is None:
            return True
        if word.lower().endswith("u") and _classify(_as_title(word)) == _NAME:
            return False                     # a first name in -u: accusative (no street is "Robertu iela")
        return "G" in cases

    def surname_shaped(self, word: str) -> bool:
        word = _as_title(word)
        return _is_title(word) and len(word) >= 3 and word.lower() not in _STOP_WORDS and (
            word.lower().endswith(_SURNAME_ENDINGS) or bool(_LATIN_RU_SURNAME_RE.fullmatch(word)))

    def partner(self, j: int, anchor: int, strict: bool) -> bool:
        """Could token j be the surname (or other part) of the name at token `anchor`?"""
        if self.covered[j]:
            return False
        raw = self.toks[j].text
        word, anchor_word = _as_title(raw), _as_title(self.toks[anchor].text)
        if not _is_title(word) or _is_cyrillic(word) != _is_cyrillic(anchor_word):
            return False
        cls = _classify(word)
        if cls == _STOP:
            return False
        if word.lower() in _FOLLOWER_WORDS:
            # "Jānis Kalns", "Jāni Kalnu" (capitalised, same case), not "Gaiļa kalns"
            return word.lower() in _SURNAME_FOLLOWERS and _is_capitalised(raw) \
                and _agree(word, anchor_word) and _classify(anchor_word) == _NAME
        if word.isascii() and anchor_word.isascii() and _LATIN_RU_SURNAME_RE.fullmatch(word) \
                and not _lv_common(word):
            return True                      # "Sergey Ivanov", "Sergejs Ivanov"
        # a place cannot be the surname, except after a sure first name when it agrees in case
        # and is not a local place ("Kārlis Ulmanis", but not "Jānis Grobiņā")
        if cls == _PLACE and _is_cyrillic(word) and word.lower() not in _RU_PLACES \
                and (_ru_has(word, "Surn") and _classify(anchor_word) == _NAME
                     or _ru_has(anchor_word, "Name") and _classify(anchor_word) != _PLACE):
            return True                      # "Ксения Стрелкова" (also a place's name)
        if cls == _PLACE and (strict or _is_cyrillic(word) or word in _lv_local_place_forms()):
            return False
        if _is_cyrillic(word):
            if cls in (_NAME, _SURN, _AMBIG):
                return True
            return not strict and not _ru_class(word)[1]
        if not _agree(word, anchor_word):
            return False
        if not strict:
            return True
        return self.surname_shaped(word) and cls != _NAME

    # ----- recording
    def preceded_by_street(self, i: int) -> bool:
        if i == 0:
            return False
        gap = self.m[self.toks[i - 1].end:self.toks[i].start]
        return gap.strip(" .\t") == "" and self.toks[i - 1].text.lower() in _PRECEDER_WORDS

    def add(self, i: int, j: int) -> None:
        # tokens another rule already took will be placeholders: leave them out at the edges
        while i <= j and self.covered[i]:
            i += 1
        while j >= i and self.covered[j]:
            j -= 1
        if i > j or any(self.covered[i:j + 1]) or self.followed_by_street(j) \
                or self.preceded_by_street(i):
            return
        for k in range(i, j + 1):
            self.covered[k] = True
        end = self.toks[j].end
        if self.is_initial(j):
            end += 1
        self.spans.append((self.toks[i].start, end))

    def extend(self, i: int, j: int, limit: int = 4) -> int:
        """Grow a name ending at token j to the right (more names, surnames, an initial)."""
        while j + 1 < len(self.toks) and j - i + 1 < limit and self.adjacent(j, j + 1) \
                and not self.covered[j + 1]:
            nxt = j + 1
            if self.is_initial(nxt) or self.partner(nxt, i, strict=False):
                j = nxt
            else:
                break
        return j

    # ----- rules
    def run(self) -> list[tuple[int, int]]:
        if not self.toks:
            return []
        self.context_rules()
        self.general_rules()
        return self.merged()

    def sequence(self, i: int, limit: int = 4) -> list[int]:
        """Name-shaped tokens (capitalised words, initials) from token i on one line."""
        seq: list[int] = []
        while i < len(self.toks) and len(seq) < limit and not self.covered[i]:
            t = self.toks[i]
            if seq and not self.adjacent(seq[-1], i):
                break
            shaped = _is_title(t.text) or self.is_initial(i) or (t.text.isupper() and len(t.text) > 1)
            if not shaped or _classify(_as_title(t.text)) in (_PLACE, _STOP) \
                    or t.text.lower() in _FOLLOWER_WORDS:
                break
            seq.append(i)
            i += 1
        return seq

    def first_token_after(self, pos: int, max_newlines: int) -> int | None:
        i = bisect.bisect_left(self.starts, pos)
        if i >= len(self.toks):
            return None
        gap = self.m[pos:self.toks[i].start]
        if gap.count("\n") > max_newlines or gap.strip(" \t\r\n,.;:!\u00a0-–—"):
            return None
        return i

    def evidence(self, seq: list[int], allow_single_unknown: bool) -> bool:
        words = [self.toks[k].text for k in seq if not self.is_initial(k)]
        if not words:
            return False
        if any(_classify(_as_title(w)) in (_NAME, _AMBIG, _SURN) for w in words):
            return True
        if len(words) < len(seq):                       # an initial and a word
            return True
        surnames = [w for w in words if self.surname_shaped(_as_title(w))]
        if len(words) >= 2:
            if allow_single_unknown and not any(_lv_common(w) for w in words):
                return True                             # "Thanks,\nJohn Smith"
            return len(surnames) >= 1 and not all(_lv_common(w) for w in surnames)
        return allow_single_unknown and bool(surnames) and not _lv_common(words[0])

    def line_rest_empty(self, seq: list[int]) -> bool:
        end = self.toks[seq[-1]].end + (1 if self.is_initial(seq[-1]) else 0)
        nl = self.m.find("\n", end)
        rest = self.m[end:nl if nl >= 0 else len(self.m)]
        return _LINE_TAIL_OK_RE.fullmatch(rest) is not None

    def context_rules(self) -> None:
        m = self.m
        low = m.lower()
        if any(k in low for k in _CLOSING_KEYS):
            self.closing_rule()
        self.greeting_rule()
        if any(k in low for k in _CUE_KEYS):
            self.cue_rule()
        if any(k in low for k in _WEAK_CUE_KEYS):
            self.weak_cue_rule()
        if any(k in low for k in _HONORIFIC_KEYS):
            self.honorific_rule()
        if any(k in low for k in _KIN_KEYS):
            self.kin_rule()
        self.signature_last_line()

    def kin_rule(self) -> None:
        """A relative, neighbour or colleague named right after the word ("vecmāmiņa Ruta",
        "meita Maija", "соседка Вера"): an ambiguous first name counts as a name there."""
        for i in range(1, len(self.toks)):
            t = self.toks[i]
            if self.covered[i] or not _is_capitalised(t.text) or not self.adjacent(i - 1, i) \
                    or self.toks[i - 1].text.lower() not in _KIN_WORDS:
                continue
            if _classify(_as_title(t.text)) in (_NAME, _AMBIG):
                self.add(i, self.extend(i, i))

    def closing_rule(self) -> None:
        """Closing formulas: "Ar cieņu,\nJānis Bērziņš", "С уважением, Ольга"."""
        for c in _CLOSING_RE.finditer(self.m):
            i = self.first_token_after(c.end(), max_newlines=2)
            if i is None:
                continue
            seq = self.sequence(i)
            if seq and self.line_rest_empty(seq) and self.evidence(seq, allow_single_unknown=True):
                self.add(seq[0], seq[-1])

    def greeting_rule(self) -> None:
        """Greetings: "Labdien, Laima!", "Здравствуйте, Ольга Ивановна!"."""
        for c in _GREETING_RE.finditer(self.m):
            i = self.first_token_after(c.end(), max_newlines=0)
            if i is None:
                continue
            seq = self.sequence(i)
            if seq and self.line_rest_empty(seq) and self.evidence(seq, allow_single_unknown=False):
                self.add(seq[0], seq[-1])

    def cue_rule(self) -> None:
        """Introductions: "mani sauc Laima", "Vārds, uzvārds: Anna Kalniņa", "ФИО: ..."."""
        for c in _CUE_RE.finditer(self.m):
            i = self.first_token_after(c.end(), max_newlines=1)
            if i is not None:
                seq = self.sequence(i)
                if seq:
                    self.add(seq[0], seq[-1])
                else:
                    self.lower_case_name(i, (_NAME, _AMBIG))

    def weak_cue_rule(self) -> None:
        """ "Esmu Laima" (a first name must follow)."""
        for c in _WEAK_CUE_RE.finditer(self.m):
            i = self.first_token_after(c.end(), max_newlines=0)
            if i is None:
                continue
            if _is_capitalised(self.toks[i].text) and _classify(_as_title(self.toks[i].text)) in (_NAME, _AMBIG):
                self.add(i, self.extend(i, i))
            else:
                self.lower_case_name(i, (_NAME,))

    def lower_case_name(self, i: int, classes: tuple[int, ...]) -> None:
        """A name typed in lower case right after an introduction ("mani sauc janis ozols",
        "es esmu ilze"): a known first name (as a capitalised word), and the next word on the
        line when it has a surname's shape."""
        t = self.toks[i].text
        if self.covered[i] or not t.islower() or len(t) < 2 \
                or _classify(t[0].upper() + t[1:]) not in classes:
            return
        j = i
        if i + 1 < len(self.toks) and self.adjacent(i, i + 1) and not self.covered[i + 1]:
            nxt = self.toks[i + 1].text
            if nxt.islower() and self.surname_shaped(nxt[0].upper() + nxt[1:]) \
                    and _classify(nxt[0].upper() + nxt[1:]) not in (_PLACE, _STOP) \
                    and nxt not in _FOLLOWER_WORDS:
                j = i + 1
        self.add(i, j)

    def honorific_rule(self) -> None:
        """ "Bērziņa kungs", "г-н Иванов"."""
        for i, t in enumerate(self.toks):
            if t.text.lower() in _HONORIFIC_AFTER and i > 0 and self.adjacent(i - 1, i) \
                    and self.surname_shaped(self.toks[i - 1].text) \
                    and _classify(self.toks[i - 1].text) not in (_PLACE, _STOP):
                first = i - 1
                if first > 0 and self.adjacent(first - 1, first) \
                        and _classify(self.toks[first - 1].text) in (_NAME, _AMBIG):
                    first -= 1
                self.add(first, i - 1)
        for c in _HONORIFIC_BEFORE_RE.finditer(self.m):
            i = self.first_token_after(c.end(), max_newlines=0)
            if i is not None:
                seq = self.sequence(i, limit=3)
                if not seq and not self.covered[i] and _is_capitalised(self.toks[i].text) \
                        and _classify(_as_title(self.toks[i].text)) == _PLACE \
                        and _as_title(self.toks[i].text) not in _lv_local_place_forms():
                    seq = [i]                    # a surname that is also a place: "Dr. Rubene"
                if seq:
                    self.add(seq[0], seq[-1])

    def signature_last_line(self) -> None:
        """A name alone on the last line (under any contact lines) of a multi-line text."""
        lines = self.m.rstrip().split("\n")
        if sum(1 for ln in lines if ln.strip(" \t\r\x00")) < 2:
            return
        pos = len("\n".join(lines))
        for line in reversed(lines):
            pos -= len(line)
            if not _CONTACT_LINE_RE.fullmatch(line):
                if _SENTENCE_END_RE.search(line) and not _INITIAL_END_RE.search(line):
                    return                          # a sentence ("Ideja.", "Paldies!"), not a name
                i = self.first_token_after(pos, max_newlines=0)
                if i is not None and self.toks[i].start < pos + len(line):
                    seq = self.sequence(i)
                    if seq and self.line_rest_empty(seq) and self.evidence(seq, allow_single_unknown=False):
                        self.add(seq[0], seq[-1])
                return
            pos -= 1

    def family_rule(self) -> None:
        """ "Bērziņu ģimene", "семья Ивановых"."""
        toks = self.toks
        for i, t in enumerate(toks):
            if t.text.lower() not in _FAMILY_WORDS:
                continue
            if i > 0 and self.adjacent(i - 1, i) and not self.covered[i - 1]:
                word = _as_title(toks[i - 1].text)
                alone = self.line_rest_empty([i]) and self.line_start(i - 1)
                cls = _classify(word)
                if _is_title(word) and word.lower() not in _FAMILY_NOT and len(word) >= 4 \
                        and word.endswith(("u", "ых", "их")) and cls != _STOP \
                        and (cls != _PLACE or alone and word not in _lv_local_place_forms()) \
                        and (not self.sentence_initial(i - 1) or not _lv_common(word) or alone
                             or word.lower().endswith(("iņu", "īšu"))):   # "Eglīšu ģimene no ..."
                    self.add(i - 1, i - 1)
            if i + 1 < len(toks) and self.adjacent(i, i + 1) and not self.covered[i + 1]:
                word = toks[i + 1].text
                if _is_title(word) and word.endswith(("ых", "их")) and _classify(word) not in (_PLACE, _STOP):
                    self.add(i + 1, i + 1)

    def line_start(self, i: int) -> bool:
        k = self.toks[i].start - 1
        while k >= 0 and self.m[k] in " \t":
            k -= 1
        return k < 0 or self.m[k] == "\n"

    def line_broken(self, i: int) -> int:
        """A first name at the end of a line whose surname starts the next line ("iesniedz
        Jānis\nBērziņš, kas ..."): the index of the surname, or i."""
        k = i + 1
        if k >= len(self.toks) or self.covered[k]:
            return i
        gap = self.m[self.toks[i].end:self.toks[k].start]
        if gap.strip(" \t\r") != "\n" or gap.count("\n") != 1:
            return i
        word = self.toks[k].text
        if not _is_capitalised(word) or _classify(_as_title(word)) in (_NAME, _PLACE, _STOP) \
                or not self.partner(k, i, strict=True):
            return i
        rest = self.m[self.toks[k].end:self.toks[k].end + 2]
        if _lv_common(word) and not (rest == "" or rest[0] in ",;:)\n\r" or rest[0] == "." and
                                     (len(rest) == 1 or rest[1] in " \n")):
            return i
        return k

    def comma_surname(self, i: int, j: int) -> int:
        """ "Bērziņš, Jānis" (a surname, a comma, then the first name ending the item): the
        index where the name starts, or i."""
        if i < 1 or self.covered[i - 1] or self.m[self.toks[i - 1].end:self.toks[i].start] != ", ":
            return i
        word = _as_title(self.toks[i - 1].text)
        if not self.surname_shaped(word) or _classify(word) in (_NAME, _AMBIG, _PLACE, _STOP):
            return i
        if not self.ends_item(j):
            return i
        if _lv_common(word) and not (self.line_start(i - 1) or self.cue_before(i - 1)):
            return i
        return i - 1

    def cue_before(self, i: int) -> bool:
        k = self.toks[i].start
        return bool(re.search(r":\s*$", self.m[max(0, k - 3):k]))

    def general_rules(self) -> None:
        toks = self.toks
        self.family_rule()
        for i, t in enumerate(toks):
            if self.covered[i]:
                continue
            if self.is_initial(i):
                self.initial_rule(i)
                continue
            caps = t.text.isupper() and len(t.text) > 1
            if not (_is_title(t.text) or caps):
                continue
            cls = _classify(_as_title(t.text))
            if cls == _NONE and t.text.isascii() and _is_title(t.text):
                nxt = i + 1
                if nxt < len(toks) and self.adjacent(i, nxt) and _latin_ru_first(t.text) \
                        and _LATIN_RU_SURNAME_RE.fullmatch(_as_title(toks[nxt].text)):
                    self.add(i, nxt)             # "Sergey Ivanov", "Olga Petrova"
                    continue
            if cls == _NONE and _is_title(t.text) and not _is_cyrillic(t.text):
                nxt = i + 1
                # a first name missing from the lists before a surname of a typical Latvian
                # surname form ("Andrešs Kalniņš", "Andrešs Podnieks")
                if nxt < len(toks) and (self.adjacent(i, nxt) or self.m[t.end:toks[nxt].start].strip(" \t\r") == "\n"
                                        and self.ends_item(nxt)) and not self.covered[nxt] \
                        and len(t.text) >= 4 and t.text.lower().endswith(("s", "š", "a", "e")) \
                        and not _lv_common(t.text) and _is_title(toks[nxt].text) \
                        and toks[nxt].text.lower().endswith(_LV_SURNAME_SUFFIXES) \
                        and _classify(toks[nxt].text) not in (_PLACE, _STOP) and _agree(t.text, toks[nxt].text):
                    self.add(i, self.extend(i, nxt))
                continue
            if cls == _SURN and i > 0 and self.adjacent(i - 1, i) and _is_cyrillic(t.text) \
                    and not self.covered[i - 1] and _ru_has(toks[i - 1].text, "Name") \
                    and _is_title(toks[i - 1].text) and toks[i - 1].text.lower() not in _RU_PLACES:
                self.add(i - 1, self.extend(i, i))   # "Милан Фомин" (Милан is also a city)
                continue
            if cls in (_NAME, _SURN):
                j = self.extend(i, i)
                if j == i and cls == _NAME:
                    j = self.line_broken(i)
                    if j != i:
                        j = self.extend(i, j)
                start = self.comma_surname(i, j) if cls == _NAME else i
                if j == i and i > 0 and self.adjacent(i - 1, i) and self.partner(i - 1, i, strict=True) \
                        and (not self.sentence_initial(i - 1) or not _lv_common(toks[i - 1].text)
                             or _is_cyrillic(t.text) or self.ends_item(j)):
                    start = i - 1
                self.add(start, j)
            elif cls == _AMBIG:
                nxt = i + 1
                k = self.line_broken(i)
                if k != i and not _lv_common(toks[k].text):
                    self.add(i, k)                   # "Lida\nDzene"
                    continue
                if nxt < len(toks) and self.adjacent(i, nxt) and (
                        self.partner(nxt, i, strict=True) or self.is_initial(nxt)):
                    self.add(i, self.extend(i, nxt))
                elif i > 0 and self.adjacent(i - 1, i) and self.partner(i - 1, i, strict=True) \
                        and not self.sentence_initial(i - 1) and not _lv_common(toks[i - 1].text):
                    self.add(i - 1, i)

    def initial_rule(self, i: int) -> None:
        """ "J. Bērziņš", "J.K. Bērziņš", "И. Иванов" (not "K. Ukstiņa iela")."""
        j = i
        while j + 1 < len(self.toks) and self.is_initial(j + 1) and self.adjacent(j, j + 1):
            j += 1
        k = j + 1
        if k >= len(self.toks) or not self.adjacent(j, k) or self.covered[k] \
                or not self.surname_shaped(self.toks[k].text) or _classify(self.toks[k].text) in (_PLACE, _STOP):
            self.surname_before_initial(i, j)
            return
        word = self.toks[k].text
        if self.toks[i].text in "IVX" and _lv_common(word):
            return                                       # "I. Ievads", "V. Nodaļa"
        self.add(i, self.extend(i, k, limit=5))

    def surname_before_initial(self, i: int, j: int) -> None:
        """ "Bērziņš J.", "Иванов И.И." (a surname, then the initials): not a common word or a
        place before them ("Rīgā A. ...")."""
        h = i - 1
        if h < 0 or not self.adjacent(h, i) or self.covered[h]:
            return
        word = self.toks[h].text
        if self.surname_shaped(word) and _classify(_as_title(word)) not in (_PLACE, _STOP) \
                and (not _lv_common(word) or word.lower().endswith(_DIMINUTIVE_SURNAME_ENDINGS)):
            self.add(h, j)

    def merged(self) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for s, e in sorted(self.spans):
            if out and self.m[out[-1][1]:s].strip(" \t\u00a0") == "":
                out[-1] = (out[-1][0], max(e, out[-1][1]))
            else:
                out.append((s, e))
        return out


def _as_title(word: str) -> str:
    return word[0] + word[1:].lower() if word.isupper() and len(word) > 1 else word


def _is_capitalised(word: str) -> bool:
    """Title case ("Kalns") or all capitals ("KALNS")."""
    return _is_title(word) or (word.isupper() and len(word) > 1)


# Latin transliteration of Russian, read back ("Sergey" -> "сергей") to ask pymorphy3's name list
_DETRANSLIT = (("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"),
               ("ts", "ц"), ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("yo", "ё"),
               ("jo", "ё"), ("ye", "е"), ("iy", "ий"), ("ij", "ий"), ("ey", "ей"), ("ay", "ай"),
               ("oy", "ой"), ("uy", "уй"), ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"),
               ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"), ("l", "л"),
               ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"),
               ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "ц"), ("x", "кс"), ("q", "к"), ("j", "й"))


def _detranslit(word: str) -> str:
    low, out, k = word.lower(), [], 0
    while k < len(low):
        for lat, cyr in _DETRANSLIT:
            if low.startswith(lat, k):
                out.append(cyr)
                k += len(lat)
                break
        else:
            out.append(low[k])
            k += 1
    return "".join(out)


@functools.lru_cache(maxsize=20_000)
def _latin_ru_first(word: str) -> bool:
    """Is an ASCII word a Russian first name in Latin script (Sergey, Olga, Dmitry, Mihail)?"""
    if len(word) < 3 or not word.isascii() or _lv_common(word):
        return False
    base = _detranslit(word)
    variants = {base, base[:-1] + "ий" if base.endswith("ы") else base,
                "э" + base[1:] if base.startswith("е") else base,
                base.replace("иа", "ия"), base.replace("иа", "ья")}
    variants |= {v[:k] + "ь" + v[k:] for v in list(variants) for k in range(2, len(v))
                 if v[k - 1] in "лнтдср" and v[k] not in "аеёиоуыэюяь"}
    for v in variants:
        for p in _morph().parse(v):
            if "Name" in p.tag and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer" \
                    and p.normal_form not in RU_AMBIGUOUS_NAMES and p.score >= 0.2:
                return True
    return False


# --------------------------------------------------------------------------- public API

def _masked(text: str, spans: Iterable[tuple[int, int]], names: Iterable[tuple[int, int]] = ()) -> str:
    """``text`` with the spans overwritten by mask characters (offsets unchanged)."""
    marks = [(s, e, _MASK) for s, e in spans] + [(s, e, _NAME_MASK) for s, e in names]
    parts, last = [], 0
    for s, e, char in sorted(marks):
        parts += [text[last:s], char * (e - s)]
        last = e
    return "".join(parts) + text[last:]


def _find_once(text: str) -> list[Finding]:
    """One search: structured data first, then names in the text with those masked."""
    held = [(m.start(), m.end(), m.group() == PLACEHOLDERS["name"]) for m in _PLACEHOLDER_RE.finditer(text)]
    base = _masked(text, [(s, e) for s, e, is_name in held if not is_name],
                   [(s, e) for s, e, is_name in held if is_name])
    base = base.translate(_SPACE_FOLD)
    structured = [Finding(f.type, f.start, f.end, text[f.start:f.end])
                  for f in _resolve_overlaps(_find_structured(base), [])]
    masked = _masked(base, [(f.start, f.end) for f in structured])
    # a text without capitals has names only after an introduction ("mani sauc janis ozols")
    names = _NameFinder(masked).run() if masked.lower() != masked or (
        _LOWER_INTRO_RE.search(masked) and (_CUE_RE.search(masked) or _WEAK_CUE_RE.search(masked))) else []
    found = structured + [Finding("name", s, e, text[s:e]) for s, e in names]
    return sorted(found, key=lambda f: f.start)


def _replaced(text: str, found: list[Finding]) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with the findings replaced by placeholders, and for each placeholder the
    (position in the new text, length change) needed to map new offsets back."""
    out, shifts, last, pos = [], [], 0, 0
    for f in found:
        out.append(text[last:f.start])
        pos += f.start - last
        placeholder = PLACEHOLDERS[f.type]
        out.append(placeholder)
        pos += len(placeholder)
        shifts.append((pos, len(placeholder) - (f.end - f.start)))
        last = f.end
    out.append(text[last:])
    return "".join(out), shifts


_MAX_ROUNDS = 4


def find_personal_data(text: str) -> list[Finding]:
    """Every piece of personal data in ``text`` as ``Finding(type, start, end, value)``, sorted
    by position, non-overlapping; ``type`` is a key of :data:`PLACEHOLDERS`. Placeholders
    already in the text are never reported (nor any match that overlaps one).

    The redacted text is searched again, and what turns up there is added (a number glued to
    a name is seen once the name is a placeholder), until a search finds nothing — which is
    what makes :func:`redact` idempotent. Two rounds suffice in practice; at most four run.
    """
    if not isinstance(text, str) or not text:
        return []
    found = _find_once(text)
    for _ in range(_MAX_ROUNDS - 1):
        if not found:
            break
        redacted, shifts = _replaced(text, found)
        extra = _find_once(redacted)
        if not extra:
            break
        for f in extra:                       # never inside a placeholder: map back to `text`
            delta = sum(d for end, d in shifts if end <= f.start)
            found.append(Finding(f.type, f.start - delta, f.end - delta,
                                 text[f.start - delta:f.end - delta]))
        found.sort(key=lambda f: f.start)
    return found


def redact(text: str) -> str:
    """``text`` with personal data replaced by typed placeholders (see the module docstring).
    Idempotent; placeholders in the input are left as they are; non-strings (None, NaN) are
    returned unchanged."""
    if not isinstance(text, str) or not text:
        return text
    found = find_personal_data(text)
    return _replaced(text, found)[0] if found else text


# =========================================================================== pseudonyms

def _default_salt_file() -> Path:
    from analysis.paths import ROOT
    return ROOT / ".salt"


def load_salt(env_var: str = "ANALYSIS_SALT", salt_file: str | Path | None = None) -> bytes:
    """The secret key for :func:`pseudonym`.

    Taken from the environment variable ``env_var`` when it is set and not blank; otherwise
    read from ``salt_file`` (default: ``<project root>/.salt``), which the first call creates
    with 32 random bytes written as 64 hex characters, mode 0600. The salt is the UTF-8 text
    of the variable or file, stripped, so copying the file's content into the variable gives
    the same pseudonyms. The file must never be committed (it is in ``.gitignore``) and the
    salt must never be printed, logged or written to an output: anyone holding it can test
    guesses of e-mail addresses against the pseudonyms.
    """
    value = os.environ.get(env_var, "").strip()
    if value:
        salt = value.encode("utf-8")
    else:
        path = Path(salt_file) if salt_file is not None else _default_salt_file()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if path.stat().st_mode & 0o077:
                warnings.warn(f"salt file {path} is readable by other users; run chmod 600 on it",
                              stacklevel=2)
            salt = path.read_text(encoding="utf-8").strip().encode("utf-8")
        else:
            token = secrets.token_hex(32)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(token + "\n")
            salt = token.encode("utf-8")
    if len(salt) < 16:
        where = f"environment variable {env_var}" if value else f"salt file {salt_file or '.salt'}"
        raise ValueError(f"the pseudonym salt from the {where} is shorter than 16 characters; "
                         "use a long random value (e.g. python -c 'import secrets; "
                         "print(secrets.token_hex(32))')")
    return salt


_EMAIL_FULL_RE = re.compile(r"[^@\s]+@[^@\s]+")


def _normalise_id(value: Any) -> str:
    text = " ".join(unicodedata.normalize("NFC", str(value)).split())
    return text.lower() if _EMAIL_FULL_RE.fullmatch(text) else text


def pseudonym(value: Any, salt: bytes, prefix: str = "R", length: int = 12) -> str:
    """A stable pseudonymous id such as ``R-3fa9c0e1b2d4``: the first ``length`` hex digits of
    HMAC-SHA256(salt, normalised value). Values are NFC-normalised with white space trimmed
    and collapsed; e-mail addresses are also lower-cased, so ``" Anna@X.lv"`` and
    ``"anna@x.lv"`` get one pseudonym. Same salt, same value -> same id; without the salt
    the id cannot be linked back to the value."""
    if value is None or (isinstance(value, float) and value != value):
        raise ValueError("no value to pseudonymise (None/NaN); keep missing ids missing")
    if not 8 <= length <= 64:
        raise ValueError(f"length must be between 8 and 64 hex digits, got {length}")
    if not isinstance(salt, bytes | bytearray) or not salt:
        raise ValueError("salt must be non-empty bytes (see load_salt)")
    digest = hmac.new(bytes(salt), _normalise_id(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:length]}"


def pseudonymise_series(values: pd.Series, salt: bytes, prefix: str = "R", length: int = 12) -> pd.Series:
    """:func:`pseudonym` over a column; missing values stay missing."""
    return values.map(lambda v: pd.NA if pd.isna(v) else pseudonym(v, salt, prefix, length))


# =========================================================================== small cells

def suppress_small(table: pd.DataFrame, count_cols: str | Sequence[str], min_cell: int,
                   related: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """A copy of ``table`` where every count ``n`` with ``0 < n < min_cell`` is replaced by NA.

    For each count column ``c`` a boolean column ``c_suppressed`` marks the blanked cells (so a
    report can print "< min_cell" instead of a number), and the columns listed in
    ``related[c]`` (shares, means, intervals computed from that count) are blanked in the same
    rows, since they would reveal it. Zeros are shown (an empty cell reveals nobody) and
    missing counts stay missing, unmarked. Only primary suppression: a suppressed cell can be
    recovered from a published total; publish totals only where that does not matter.
    ``table.attrs["suppression"]`` records the rule.
    """
    cols = [count_cols] if isinstance(count_cols, str) else list(count_cols)
    related = dict(related or {})
    if not isinstance(min_cell, int) or isinstance(min_cell, bool) or min_cell < 1:
        raise ValueError(f"min_cell must be a positive integer, got {min_cell!r}")
    missing = [c for c in cols + [r for rs in related.values() for r in rs] if c not in table.columns]
    if missing:
        raise KeyError(f"suppress_small: columns not in the table: {missing}")
    unknown = [c for c in related if c not in cols]
    if unknown:
        raise KeyError(f"suppress_small: related columns given for non-count columns {unknown}")
    out = table.copy()
    for col in cols:
        counts = pd.to_numeric(out[col], errors="raise")
        small = ((counts > 0) & (counts < min_cell)).fillna(False).astype(bool)
        if pd.api.types.is_integer_dtype(counts.dtype) or (
                counts.dropna() == counts.dropna().round()).all():
            out[col] = counts.astype("Int64")
        else:
            out[col] = counts.astype("Float64")
        out.loc[small, col] = pd.NA
        for dep in related.get(col, ()):
            if pd.api.types.is_integer_dtype(out[dep].dtype):
                out[dep] = out[dep].astype("Int64")
            elif pd.api.types.is_float_dtype(out[dep].dtype):
                out[dep] = out[dep].astype("Float64")
            else:
                out[dep] = out[dep].astype(object)
            out.loc[small, dep] = pd.NA
        out[f"{col}_suppressed"] = small.to_numpy()
    out.attrs["suppression"] = (f"counts with 0 < n < {min_cell} in {', '.join(cols)} are blanked "
                                "(NA) and marked in <column>_suppressed")
    return out


# =========================================================================== safe output

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """A string a spreadsheet could run as a formula (it starts with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return; OWASP "CSV Injection") gets a leading single quote, so
    Excel/LibreOffice show it as text. Anything that is not a string (numbers such as -5,
    dates, NA) is returned unchanged; applying it twice changes nothing more."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame, labels: bool = False) -> pd.DataFrame:
    """A copy of ``df`` with :func:`neutralise_cell` applied to every text (object, string or
    categorical) column; numeric columns are untouched. With ``labels=True`` the column labels
    are neutralised too (they become the header row of a CSV)."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.cat.rename_categories(lambda c: neutralise_cell(c))
        elif pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(neutralise_cell, na_action="ignore")
    if labels:
        out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def escape_html(text: Any) -> str:
    """Text made safe for HTML element content and attribute values (``html.escape`` with
    quotes); None becomes an empty string. Reports call this, and only this, for every
    string they did not write themselves."""
    if text is None:
        return ""
    return html.escape(str(text), quote=True)


# =========================================================================== quotes

# words that introduce or accompany a person's name; a capitalised word next to one of them in a
# quote is taken for a name the redactor missed
_QUOTE_CUES = frozenset("""
kungs kunga kungam kungu kundze kundzes kundzei kundzi kgs kdz kdze prof dr doc mg bc sn
ģimene ģimenes ģimenei ģimeni ģimenē uzvārds uzvārdu uzvārda vārds vārdu sauc saucas esmu
iesniedzējs iesniedzēja iesniedza autors autore paraksts cieņu sveicieniem kaimiņš kaimiņiene
kaimiņi kaimiņu kolēģis kolēģe deputāts deputāte direktors direktore vadītājs vadītāja
skolotājs skolotāja ārsts ārste mr mrs ms г-н г-жа господин госпожа зовут фамилия имя уважением
семья сосед соседка директор депутат учитель врач
""".split())
_QUOTE_URL_RE = re.compile(r"https?://|www\.|\b[\w\-]+\.[a-z]{2,6}/\S", re.IGNORECASE)
_QUOTE_DIGITS_RE = re.compile(r"\d(?:[ .\-/\u00a0]?\d){5,}")


def quote_is_publishable(text: str) -> bool:
    """A second, stricter check for a quote chosen for a report; True only when nothing in it
    looks like personal data. ``text`` is redacted first (idempotent), then rejected when any of
    these is left: a placeholder (the text carried personal data, and what is around it is the
    likeliest to identify the writer); an ``@`` or a web address (a bare domain such as a
    city's site is allowed); a run of six or more digits (spaces, dots, dashes
    between them allowed); a capitalised name-like word (not a placeholder, stop word or known
    place) next to a cue word ("kungs", "kundze", "Dr.", "ģimene", "uzvārds", "sauc",
    "kaimiņš", "deputāts"...); two or more capitalised name-like words in a row inside a sentence
    (an unknown first name and surname); a first name written in lower case next to another
    lower-case word shaped like a surname. In doubt a quote is skipped, never published."""
    if not isinstance(text, str) or not text.strip():
        return False
    red = redact(text)
    if _PLACEHOLDER_RE.search(red):
        return False                         # personal data was found: what is left may identify
    if "@" in red or "%40" in red or _QUOTE_URL_RE.search(red):
        return False
    if _QUOTE_DIGITS_RE.search(red.translate(_SPACE_FOLD)):
        return False
    plain = _PLACEHOLDER_RE.sub(lambda m: "\x02" * len(m.group()), red)
    toks = [_Tok(t.start(), t.end(), t.group()) for t in _WORD_RE.finditer(plain)]
    finder = _NameFinder(plain)

    def name_like(k: int) -> bool:
        word = toks[k].text
        if not _is_capitalised(word) or len(word) < 2:
            return False
        w = _as_title(word)
        return w.lower() not in _QUOTE_CUES and _classify(w) not in (_PLACE, _STOP) \
            and w.lower() not in _FOLLOWER_WORDS

    for k, t in enumerate(toks):
        low = t.text.lower()
        for n in (k - 1, k + 1):
            if 0 <= n < len(toks) and low in _QUOTE_CUES and name_like(n) \
                    and plain[min(t.end, toks[n].end):max(t.start, toks[n].start)].strip(" .,:\t") == "":
                if not (n == k + 1 and _lv_common(toks[n].text) and finder.sentence_initial(n)):
                    return False
        if k + 1 < len(toks) and name_like(k) and name_like(k + 1) \
                and plain[t.end:toks[k + 1].start] == " " and not finder.sentence_initial(k):
            words = [_as_title(toks[k].text), _as_title(toks[k + 1].text)]
            if not all(_lv_common(w) for w in words):
                return False
        if t.text.islower() and _lv_first_names().get(t.text.title()) == 1 and not _lv_common(t.text) \
                and k + 1 < len(toks) and toks[k + 1].text.islower() \
                and finder.surname_shaped(toks[k + 1].text.title()) \
                and toks[k + 1].text not in _STOP_WORDS:
            return False
    return True


# =========================================================================== file names

_FILE_PLACEHOLDER = "[PIELIKUMS]"
_EXTENSION_RE = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def redact_file_name(name: str) -> str:
    """A mail attachment's file name reduced to a placeholder and its extension
    (``"Jānis Bērziņš - priekšlikums.docx"`` -> ``"[PIELIKUMS].docx"``): file names are
    typed by the sender and often carry their name, so none is kept. A name without an
    extension (or a MIME type written in brackets when the part had no name) becomes the
    placeholder alone, the bracketed type kept: ``"(image/png)"`` stays as it is."""
    if not isinstance(name, str) or not name.strip():
        return name
    if re.fullmatch(r"\([\w.+\-]+/[\w.+\-]+\)", name.strip()):
        return name.strip()
    ext = _EXTENSION_RE.search(name.strip())
    return _FILE_PLACEHOLDER + (ext.group().lower() if ext else "")
