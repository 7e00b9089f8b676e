"""A planted set of personal data for measuring analysis.privacy.redact, and the measurement.

    .venv/bin/python bench/pii_cases.py [--seed 13] [--examples 10] [--json out.json]

``cases(seed)`` builds (deterministically, from a seeded ``random.Random`` and seeded Faker
instances) several hundred texts, each carrying one planted item of one kind, embedded in
realistic proposal sentences (Latvian and Russian) or in e-mail bodies with greetings and
signatures. Names come from the bundled lists (the lv-namedays calendar and
``resources/names/extra_first_names.txt``) and from Faker's ``lv_LV`` and ``ru_RU`` providers
(Cyrillic, and transliterated to Latin script). ``tests/test_privacy.py`` asserts the goals on
this same set.

A case is recalled when none of its ``secrets`` (the identifying parts of the planted value:
each word of a name, the street name and house number of an address, the local part of an
e-mail, the digit groups of a number) is left as a whole token in the redacted text.

Over-redaction is the share of words of ordinary text wrongly redacted: the Latvian UD treebank
sentences in ``/work/shared/data/ud-latvian-lvtb/`` (tokens tagged PROPN are left out of both
counts: they may be persons), the case templates filled with no personal data, the synthetic
sample's free-text answers that carry no planted data (``data/sample/truth.json``), and
``data/devset/proposals.csv`` (column ``text``) when it exists (real-looking proposals: a
name finding there made only of known first names or surnames is a signature, not counted).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis import privacy  # noqa: E402

SEED = 13
TREEBANK = Path("/work/shared/data/ud-latvian-lvtb/lv_lvtb-ud-dev.form-lemma-upos.tsv.gz")
DEVSET = ROOT / "data" / "devset" / "proposals.csv"
KINDS = ["email", "phone", "personal_code", "iban", "name", "address", "plate", "profile",
         "card", "document", "birth_date"]
GOALS = {"email": 0.99, "phone": 0.99, "personal_code": 0.99, "iban": 0.99, "name": 0.97,
         "address": 0.97}
MAX_OVER_REDACTION = 0.01


@dataclass
class Case:
    id: str
    kind: str
    variant: str
    text: str
    secrets: list[str]
    context: str = "proposal"
    values: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- name material

_CYR = dict(zip("абвгдезийклмнопрстуфхцыэ", "abvgdeziyklmnoprstufhcye"))
_CYR.update({"ё": "yo", "ж": "zh", "ч": "ch", "ш": "sh", "щ": "shch", "ю": "yu", "я": "ya",
             "ь": "", "ъ": ""})


def translit(word: str) -> str:
    out = "".join(_CYR.get(ch.lower(), ch.lower()) for ch in word)
    out = out.replace("iy", "y") if out.endswith("iy") else out
    return out[:1].upper() + out[1:]


def _alternate(stem: str) -> str:
    for plain, alt in (("ln", "ļņ"), ("sn", "šņ"), ("zn", "žņ"), ("sl", "šļ"), ("n", "ņ"),
                       ("l", "ļ"), ("s", "š"), ("t", "š"), ("z", "ž"), ("d", "ž"), ("c", "č")):
        if stem.endswith(plain):
            return stem[:-len(plain)] + alt
    return stem


def lv_case(word: str, case: str) -> str:
    """Nominative Latvian name -> gen/dat/acc (the forms respondents write)."""
    if case == "nom":
        return word
    if word.endswith("is"):
        stem = word[:-2]
        return {"gen": _alternate(stem) + "a", "dat": stem + "im", "acc": stem + "i"}[case]
    if word.endswith("us"):
        stem = word[:-2]
        return {"gen": stem + "us", "dat": stem + "um", "acc": stem + "u"}[case]
    if word.endswith(("s", "š")):
        stem = word[:-1]
        return {"gen": stem + "a", "dat": stem + "am", "acc": stem + "u"}[case]
    if word.endswith("a"):
        stem = word[:-1]
        return {"gen": stem + "as", "dat": stem + "ai", "acc": stem + "u"}[case]
    if word.endswith("e"):
        stem = word[:-1]
        return {"gen": stem + "es", "dat": stem + "ei", "acc": stem + "i"}[case]
    return word


def family(surname: str) -> str:
    """Masculine surname -> plural genitive ("Bērziņš" -> "Bērziņu")."""
    return surname[:-1] + "u"


# surnames that are also ordinary words or places
PLACE_WORD_SURNAMES_M = ["Kalns", "Ozols", "Bērzs", "Lācis", "Vilks", "Krasts", "Celms", "Avots",
                         "Strauts", "Mežs", "Lauks", "Sīlis", "Gailis", "Zaķis", "Kalējs", "Zars"]
PLACE_WORD_SURNAMES_F = ["Liepa", "Egle", "Priede", "Kļava", "Zvaigzne", "Lapa", "Upe", "Roze",
                         "Zīle", "Bite", "Kalna", "Ozola", "Bērza"]
LV_STREETS = ["Graudu", "Rožu", "Liepu", "Ozolu", "Dzirnavu", "Kuršu", "Baznīcas", "Zivju",
              "Vītolu", "Kļavu", "Ganību", "Pērkones", "Tirgoņu", "Bāriņu", "Jūrmalas", "Peldu",
              "Krūmu", "Ziedu", "Dārza", "Skolas", "Stacijas", "Klaipēdas", "Aizputes", "Ventas",
              "Cenu", "Kapsētas", "Miera", "Lāčplēša", "Ūliha", "Alejas", "Celtnieku", "Meža",
              "Raiņa", "Brīvības", "Lielā", "Jaunā", "Vecā", "Zāļu", "Tebras", "Bārtas"]
STREET_KINDS = [("iela", "ielā"), ("prospekts", "prospektā"), ("bulvāris", "bulvārī"),
                ("gatve", "gatvē"), ("šoseja", "šosejā"), ("laukums", "laukumā"), ("aleja", "alejā")]
BANKS = ["HABA", "UNLA", "RIKO", "PARX", "NDEA", "RTMB", "BATR", "LPNS"]
PLATE_LETTERS = ["AB", "KX", "GH", "JR", "HZ", "EV", "MN", "FK", "DS", "GT", "NK", "KP", "LR2"]
MAIL_DOMAINS = ["gmail.com", "inbox.lv", "apollo.lv", "mail.ru", "yandex.ru", "outlook.com", "tvnet.lv"]
TOWNS = ["Grobiņa", "Rīga", "Ventspils", "Kuldīga", "Aizpute", "Pāvilosta"]
SPACES = ["\u00a0", "\u202f", "\u2009", "\u2007", " "]


class Names:
    def __init__(self, rnd: random.Random, seed: int):
        from faker import Faker
        self.rnd = rnd
        self.lv = Faker("lv_LV")
        self.lv.seed_instance(seed)
        self.ru = Faker("ru_RU")
        self.ru.seed_instance(seed + 1)
        import json as _json
        from importlib.resources import files
        data = _json.loads(files("lv_namedays.data").joinpath("paplasinatais_saraksts.json")
                           .read_text(encoding="utf-8"))
        calendar = sorted({n for day in data.values() for n in day if n.isalpha()})
        # the calendar's frequent names (the short list) are what respondents mostly carry
        short = _json.loads(files("lv_namedays.data").joinpath("tradic_vardadienu_saraksts.json")
                            .read_text(encoding="utf-8")) \
            if files("lv_namedays.data").joinpath("tradic_vardadienu_saraksts.json").is_file() else {}
        common = sorted({n for day in short.values() for n in day if n.isalpha()}) or calendar
        self.first_m = [n for n in common if n.endswith(("s", "š"))]
        self.first_f = [n for n in common if n.endswith(("a", "e"))]
        self.calendar = calendar

    def lv_first(self, female: bool) -> str:
        if self.rnd.random() < 0.5:
            return self.rnd.choice(self.first_f if female else self.first_m)
        return self.lv.first_name_female() if female else self.lv.first_name_male()

    def lv_last(self, female: bool) -> str:
        return self.lv.last_name_female() if female else self.lv.last_name_male()

    def lv_full(self) -> tuple[str, str, bool]:
        female = self.rnd.random() < 0.5
        return self.lv_first(female), self.lv_last(female), female

    def ru_full(self) -> tuple[str, str, bool]:
        female = self.rnd.random() < 0.5
        if female:
            return self.ru.first_name_female(), self.ru.last_name_female(), True
        return self.ru.first_name_male(), self.ru.last_name_male(), False


# --------------------------------------------------------------------------- templates

LV_PROPOSALS = [
    "Vairāk soliņu un apgaismojuma gar jūrmalu{x}.",
    "Ierosinu atjaunot bērnu laukumu pie skolas{x}.",
    "Sabiedriskais transports vakaros kursē pārāk reti{x}, lūdzu to mainīt.",
    "Pludmalē vajag vairāk atkritumu urnu un ģērbtuves{x}.",
    "Jāuzlabo ietves, jo ziemā tās netiek tīrītas{x}.",
    "Gribētu, lai pilsēta rīko vairāk koncertu brīvā dabā{x}.",
]
RU_PROPOSALS = [
    "Нужно больше скамеек и освещения у моря{x}.",
    "Предлагаю отремонтировать детскую площадку во дворе{x}.",
    "Автобусы вечером ходят слишком редко{x}, прошу это изменить.",
]
MAIL_OPENINGS = ["Labdien!", "Labdien, cienījamie domes darbinieki!", "Sveiki!", "Labdien."]
MAIL_BODIES = [
    "Vēlos ierosināt, lai pie ezera izveido atpūtas vietu ar soliņiem.",
    "Rakstu par ielas apgaismojumu, kas mūsu apkaimē nedeg jau mēnesi.",
    "Mans priekšlikums ir vairāk veloceliņu starp centru un jūru.",
    "Lūdzu izskatīt iespēju uzstādīt gājēju pāreju pie veikala.",
]
CLOSINGS = ["Ar cieņu,", "Ar sveicieniem,", "Paldies!", "Ar cieņu", "Visu labu,"]


class Builder:
    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        self.names = Names(self.rnd, seed)
        self.cases: list[Case] = []
        self.counts: Counter = Counter()

    def add(self, kind: str, variant: str, text: str, secrets: list[str], context: str, values=()):
        self.counts[kind] += 1
        self.cases.append(Case(f"{kind}-{self.counts[kind]:03d}", kind, variant, text,
                               [s for s in secrets if s], context, list(values)))

    # embedding helpers
    def proposal(self, fragment: str, ru: bool = False) -> str:
        tpl = self.rnd.choice(RU_PROPOSALS if ru else LV_PROPOSALS)
        return tpl.replace("{x}", fragment)

    def mail(self, body_extra: str, signature: str = "", ru: bool = False) -> str:
        r = self.rnd
        if ru:
            opening, body = "Здравствуйте!", "Предлагаю сделать больше велодорожек в городе."
            closing = r.choice(["С уважением,", "Спасибо,", "С уважением"])
        else:
            opening, body, closing = r.choice(MAIL_OPENINGS), r.choice(MAIL_BODIES), r.choice(CLOSINGS)
        parts = [opening, "", body]
        if body_extra:
            parts.append(body_extra)
        parts += ["", closing]
        if signature:
            parts.append(signature)
        return "\n".join(parts)

    def spaced(self, groups: list[str], sep: str | None = None) -> str:
        sep = sep if sep is not None else self.rnd.choice(SPACES)
        return sep.join(groups)

    # ------------------------------------------------------------------ kinds
    def emails(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            first, last, _ = self.names.lv_full() if k % 3 else self.names.ru_full()
            if k % 3 == 0:
                first, last = translit(first), translit(last)
            local = r.choice([f"{first}.{last}", f"{first}{r.randint(1, 99)}", f"{first[0]}{last}",
                              f"{last}_{first}"]).lower()
            local = local.translate(str.maketrans("āčēģīķļņšūž", "acegiklnsuz"))
            user, dom = r.choice(MAIL_DOMAINS).split(".")
            variant = ["plain", "caps", "at-dot", "[at]", "(at)", "spaced@", "sobaka", "at-word",
                       "[at][dot]", "mailto"][k % 10]
            value = {
                "plain": f"{local}@{user}.{dom}",
                "caps": f"{local}@{user}.{dom}".upper(),
                "at-dot": f"{local} at {user} dot {dom}",
                "[at]": f"{local}[at]{user}.{dom}",
                "(at)": f"{local} (at) {user}.{dom}",
                "spaced@": f"{local} @ {user}.{dom}",
                "sobaka": f"{local} собака {user}.{dom}",
                "at-word": f"{local} at {user}.{dom}",
                "[at][dot]": f"{local} [at] {user} [dot] {dom}",
                "mailto": f"mailto:{local}@{user}.{dom}",
            }[variant]
            secret = local.upper() if variant == "caps" else local
            if k % 2:
                text = self.proposal(f", rakstiet man: {value}")
            else:
                text = self.mail("", f"{value}" if k % 4 else f"e-pasts: {value}")
            self.add("email", variant, text, [secret], "proposal" if k % 2 else "mail", [value])

    def phones(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            d = str(r.choice([2, 2, 2, 6])) + "".join(str(r.randint(0, 9)) for _ in range(7))
            variant = ["nbsp-3-3", "nnbsp-4-4", "thin-2-2-2-2", "intl-nbsp", "plain", "figure-3-2-3",
                       "intl-dash", "(+371)", "dots", "intl-spaced"][k % 10]
            value = {
                "nbsp-3-3": d[:2] + "\u00a0" + d[2:5] + "\u00a0" + d[5:],
                "nnbsp-4-4": d[:4] + "\u202f" + d[4:],
                "thin-2-2-2-2": "\u2009".join([d[:2], d[2:4], d[4:6], d[6:]]),
                "intl-nbsp": "+371\u00a0" + d[:4] + "\u00a0" + d[4:],
                "plain": d,
                "figure-3-2-3": "\u2007".join([d[:3], d[3:5], d[5:]]),
                "intl-dash": "+371-" + d[:2] + "-" + d[2:5] + "-" + d[5:],
                "(+371)": "(+371) " + d,
                "dots": d[:2] + "." + d[2:5] + "." + d[5:],
                "intl-spaced": "+371 " + " ".join([d[:2], d[2:5], d[5:]]),
            }[variant]
            secrets = re.findall(r"\d{2,}", value.replace("+371", ""))
            if k % 2:
                text = self.proposal(r.choice([f" (zvaniet {value})", f", mans tālrunis {value}",
                                               f"; tel. {value}"]))
            else:
                first, last, _ = self.names.lv_full()
                text = self.mail("", f"{first} {last}\nTālr. {value}" if k % 4 else f"mob. {value}")
            self.add("phone", variant, text, secrets, "proposal" if k % 2 else "mail", [value])

    def personal_codes(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            if k % 5 == 4:
                a, b = "32" + "".join(str(r.randint(0, 9)) for _ in range(4)), \
                    "".join(str(r.randint(0, 9)) for _ in range(5))
            else:
                year = r.randint(1940, 2005)
                a = f"{r.randint(1, 28):02d}{r.randint(1, 12):02d}{year % 100:02d}"
                b = f"{1 if year < 2000 else 2}{r.randint(0, 9999):04d}"
            sep = ["-", "\u00a0", "\u2011", "\u2013", "", " - ", "\u202f"][k % 7]
            value = a + sep + b
            if sep == "":
                secrets = [value]
            else:
                secrets = [a, b]
            cue = r.choice(["personas kods", "p.k.", "p/k", "pers. kods", "персональный код"])
            if k % 2:
                text = self.proposal(f" ({cue} {value})")
            else:
                first, last, _ = self.names.lv_full()
                text = self.mail(f"{cue.capitalize()}: {value}.",
                                 f"{first} {last}")
            self.add("personal_code", f"sep={sep!r}", text, secrets, "proposal" if k % 2 else "mail",
                     [value])

    def _iban(self) -> str:
        r = self.rnd
        bban = r.choice(BANKS) + "".join(str(r.randint(0, 9)) for _ in range(13))
        digits = "".join(str(int(ch, 36)) for ch in bban + "LV00")
        check = 98 - int(digits) % 97
        return f"LV{check:02d}{bban}"

    def ibans(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            iban = self._iban()
            groups = [iban[i:i + 4] for i in range(0, len(iban), 4)]
            variant = ["spaced-LV 85", "dashed", "nbsp", "compact", "lower", "groups",
                       "LV 85 RIKO spaced"][k % 7]
            value = {
                "spaced-LV 85": "LV " + iban[2:4] + " " + " ".join(groups[1:]),
                "dashed": "-".join(groups),
                "nbsp": "\u00a0".join(groups),
                "compact": iban,
                "lower": " ".join(groups).lower(),
                "groups": " ".join(groups),
                "LV 85 RIKO spaced": "LV " + iban[2:4] + " " + iban[4:8] + " " + " ".join(
                    [iban[8:11], iban[11:14], iban[14:17], iban[17:]]),
            }[variant]
            secrets = [c for c in re.findall(r"[A-Za-z0-9]+", value) if re.search(r"\d{3}", c)]
            cue = r.choice(["konts", "norēķinu konts", "IBAN:", "ziedojumiem:", "счёт"])
            if k % 2:
                text = self.proposal(f" ({cue} {value})")
            else:
                text = self.mail(f"Atbalstam var ziedot, {cue} {value}.", "Biedrība Zaļā sēta")
            self.add("iban", variant, text, secrets, "proposal" if k % 2 else "mail", [value])

    def names_(self, n: int) -> None:
        r = self.rnd
        variants = ["full", "caps", "caps-last", "place-surname", "place-surname-acc", "latin-ru",
                    "cyrillic", "surname-first-comma", "uzvards-cue", "vards-uzvards-cue",
                    "surname-cue", "line-broken", "title", "family", "signature", "dative",
                    "genitive", "no-diacritics", "honorific-after", "latin-ru-sig"]
        for k in range(n):
            v = variants[k % len(variants)]
            first, last, female = self.names.lv_full()
            ctx = "proposal"
            if v == "full":
                value = f"{first} {last}"
                text = f"{value} ierosina: " + self.proposal("")
            elif v == "caps":
                value = f"{first} {last}".upper()
                text = self.mail("", value)
                ctx = "mail"
            elif v == "caps-last":
                value = f"{first} {last.upper()}"
                text = f"Iesniedzējs {value}. " + self.proposal("")
            elif v == "place-surname":
                last = r.choice(PLACE_WORD_SURNAMES_F if female else PLACE_WORD_SURNAMES_M)
                value = f"{first} {last}"
                text = self.proposal(f", saka {value}")
            elif v == "place-surname-acc":
                female = False
                first, last = r.choice(self.names.first_m), r.choice(PLACE_WORD_SURNAMES_M)
                value = f"{lv_case(first, 'acc')} {lv_case(last, 'acc')}"
                text = f"Lūdzu uzaiciniet {value} uz sanāksmi par parku."
            elif v in ("latin-ru", "latin-ru-sig"):
                rf, rl, _ = self.names.ru_full()
                value = f"{translit(rf)} {translit(rl)}"
                if v == "latin-ru":
                    text = self.proposal(f" (iesaka {value})")
                else:
                    text = self.mail("", value)
                    ctx = "mail"
            elif v == "cyrillic":
                rf, rl, _ = self.names.ru_full()
                value = f"{rf} {rl}"
                text = self.mail("", value, ru=True)
                ctx = "mail"
            elif v == "surname-first-comma":
                value = f"{last}, {first}"
                text = f"Iesniedzējs: {value}\n" + self.proposal("")
            elif v == "uzvards-cue":
                value = f"{first}\nUzvārds: {last}"
                text = f"Vārds: {value}\n" + self.proposal("")
            elif v == "vards-uzvards-cue":
                value = f"{first} {last}"
                text = f"Vārds, uzvārds: {value}\n" + self.proposal("")
            elif v == "surname-cue":
                cue = r.choice(["Prof.", "Dr.", "kgs.", "kdze", "Uzvārds:", "prof.", "Dr"])
                if cue in ("kdze",):
                    last = self.names.lv_last(True)
                elif cue == "kgs.":
                    last = self.names.lv_last(False)
                value = last
                if cue == "Uzvārds:":
                    text = f"{cue} {last}\n" + self.proposal("")
                else:
                    text = f"Sarunā ar {cue} {last} tika nolemts, ka " + self.proposal("").lower()
            elif v == "line-broken":
                value = f"{first}\n{last}"
                text = f"Šo priekšlikumu iesniedz {first}\n{last}, kas dzīvo netālu no parka."
            elif v == "title":
                cue = r.choice(["Prof.", "Dr.", "Doc.", "Mg.", "Dr. habil."])
                value = f"{first} {last}"
                text = f"Kā norādīja {cue} {value}, " + self.proposal("").lower()
            elif v == "family":
                last = self.names.lv_last(False)
                if not last.endswith(("s", "š")) or last.endswith("is"):
                    last = r.choice(["Bērziņš", "Kalniņš", "Ozols", "Liepiņš", "Krūmiņš", "Jansons",
                                     "Ābols", "Zariņš", "Kļaviņš", "Pētersons"])
                value = family(last)
                text = self.mail("", f"{value} ģimene" if k % 2 else f"{value} ģimene no Karostas")
                ctx = "mail"
            elif v == "signature":
                value = f"{first} {last}"
                text = self.mail("", value)
                ctx = "mail"
            elif v == "dative":
                value = f"{lv_case(first, 'dat')} {lv_case(last, 'dat')}"
                text = f"Paldies {value} par ideju: " + self.proposal("").lower()
            elif v == "genitive":
                value = f"{lv_case(first, 'gen')} {lv_case(last, 'gen')}"
                text = f"Šī ir {value} ideja. " + self.proposal("")
            elif v == "no-diacritics":
                value = f"{first} {last}".translate(str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ",
                                                                  "acegiklnsuzACEGIKLNSUZ"))
                text = f"{value} ierosina: " + self.proposal("")
            else:  # honorific-after
                value = f"{lv_case(last, 'gen')} {'kundze' if female else 'kungs'}"
                text = f"{value} solīja, ka " + self.proposal("").lower()
                value = lv_case(last, "gen")
            secrets = [w for w in re.findall(r"[^\W\d_]+", value)
                       if w.lower() not in ("uzvārds", "kundze", "kungs")]
            self.add("name", v, text, secrets, ctx, [value])

    def addresses(self, n: int) -> None:
        r = self.rnd
        variants = ["ielā n-f", "short dz.", "full postcode", "prospekts", "k-dz", "dzīv.", "cue",
                    "ru ул.", "ru faker", "bulvāris", "gatve", "šoseja", "laukums", "iela n"]
        for k in range(n):
            v = variants[k % len(variants)]
            street = r.choice(LV_STREETS)
            house, flat = str(r.randint(1, 120)), str(r.randint(1, 60))
            if r.random() < 0.2:
                house += r.choice(["a", "b", "/2"])
            nom, loc = STREET_KINDS[0]
            ctx = "proposal"
            if v == "ielā n-f":
                value = f"{street} ielā {house}-{flat}"
                text = f"Es dzīvoju {value}, un " + self.proposal("").lower()
            elif v == "short dz.":
                value = f"{street} {house} dz. {flat}"
                text = self.mail("", f"Adrese: {value}" if k % 2 else f"{value}, {r.choice(TOWNS)}")
                ctx = "mail"
            elif v == "full postcode":
                value = f"{street} iela {house}-{flat}, {r.choice(TOWNS)}, LV-{r.randint(3401, 3414)}"
                first, last, _ = self.names.lv_full()
                text = self.mail("", f"{first} {last}\n{value}")
                ctx = "mail"
            elif v in ("prospekts", "bulvāris", "gatve", "šoseja", "laukums"):
                nom, loc = next(s for s in STREET_KINDS if s[0] == v)
                value = f"{street} {loc} {house}" + (f"-{flat}" if k % 2 else "")
                text = f"Pie mūsu mājas {value} " + self.proposal("").lower()
            elif v == "k-dz":
                value = f"{street} iela {house} k-{r.randint(1, 4)} dz. {flat}"
                text = self.mail("", f"Mana adrese: {value}")
                ctx = "mail"
            elif v == "dzīv.":
                value = f"{street} ielā {house}, dzīv. {flat}"
                text = f"Dzīvoju {value}. " + self.proposal("")
            elif v == "cue":
                value = f"{street} {house}-{flat}"
                text = f"Adrese: {value}\n" + self.proposal("")
            elif v == "ru ул.":
                value = f"ул. {street} {house}-{flat}"
                text = self.proposal(f" (живу: {value})", ru=True)
            elif v == "ru faker":
                value = self.names.ru.street_address()
                text = self.mail("", f"Адрес: {value}", ru=True)
                ctx = "mail"
            else:  # "iela n"
                value = f"{street} iela {house}"
                text = f"Mūsu māja {value} ir bez apgaismojuma, " + self.proposal("").lower()
            skip = {"iela", "ielā", "ul", "ул", "dz", "dzīv", "k", "LV", "д", "кв", "стр",
                    "к", "пер", "пр", "наб", "ш", "бул", "пл"} | {s for kind in STREET_KINDS for s in kind}
            secrets = [w for w in re.findall(r"\w+", value) if w not in skip and w not in TOWNS]
            self.add("address", v, text, secrets, ctx, [value])

    def plates(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            letters = r.choice(PLATE_LETTERS[:-1])
            digits = str(r.randint(1, 9999)) if k % 3 else str(r.randint(1000, 9999))
            value = [f"{letters}-{digits}", f"{letters} {digits}", f"{letters}{digits}",
                     f"{letters}\u00a0{digits}"][k % 4]
            text = r.choice([
                f"Pie veikala katru dienu nepareizi novieto auto {value}.",
                f"Mašīna ar numuru {value} stāv uz ietves.",
                f"Automašīna {value} brauc pārāk ātri pa mūsu ielu.",
                f"Машина {value} постоянно стоит на газоне.",
            ])
            self.add("plate", value.replace("\u00a0", "nbsp"), text, [digits, re.sub(r"\W", "", value)],
                     "proposal", [value])

    def profiles(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            first, last, _ = self.names.lv_full()
            handle = f"{first}.{last}".lower().translate(str.maketrans("āčēģīķļņšūž", "acegiklnsuz"))
            handle_u = handle.replace(".", "_")
            value = [f"https://www.facebook.com/{handle}", f"facebook.com/{handle}",
                     f"https://instagram.com/{handle_u}/", f"@{handle_u}", f"t.me/{handle_u}",
                     f"https://vk.com/{handle_u}", f"linkedin.com/in/{handle.replace('.', '-')}",
                     f"https://www.tiktok.com/@{handle_u}", f"x.com/{handle_u}",
                     f"https://twitter.com/{handle_u}"][k % 10]
            text = r.choice([f"Vairāk informācijas manā profilā {value}.",
                             f"Sekojiet mūsu iniciatīvai: {value}",
                             f"Rakstiet man {value}, ja ir jautājumi."])
            secret = re.split(r"[/@]", value.rstrip("/"))[-1]
            self.add("profile", value.split("/")[0] if "/" in value else "@handle", text, [secret],
                     "proposal", [value])

    def _luhn(self, prefix: str, length: int = 16) -> str:
        r = self.rnd
        body = prefix + "".join(str(r.randint(0, 9)) for _ in range(length - len(prefix) - 1))
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:
                d *= 2
                d -= 9 if d > 9 else 0
            total += d
        return body + str((10 - total % 10) % 10)

    def cards(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            num = self._luhn(r.choice(["4", "51", "55", "2221", "37"]), 15 if k % 5 == 4 else 16)
            groups = [num[i:i + 4] for i in range(0, len(num), 4)]
            value = [" ".join(groups), "-".join(groups), num, "\u00a0".join(groups)][k % 4]
            text = r.choice([f"Ziedojumu varat pārskaitīt, manas kartes numurs {value}.",
                             f"Samaksāju ar karti {value}, bet nauda netika atgriezta.",
                             f"Номер карты {value}, прошу вернуть деньги."])
            self.add("card", ["spaced", "dashed", "compact", "nbsp"][k % 4], text,
                     [g for g in groups], "proposal", [value])

    def documents(self, n: int) -> None:
        r = self.rnd
        for k in range(n):
            if k % 3 == 2:
                value = f"{r.randint(1000, 9999)} {r.randint(100000, 999999)}"
                text = f"Паспорт {value}, прошу проверить мою заявку."
            else:
                letters = r.choice(["LA", "LB", "LC", "PA", "PB", "PC"])
                value = f"{letters}{r.randint(1000000, 9999999)}"
                if k % 2:
                    value = f"{letters} {value[2:]}"
                cue = r.choice(["pases Nr.", "pase", "ID kartes numurs", "personas apliecība Nr.",
                                "ID karte"])
                text = f"Mans {cue} {value}, lūdzu pārbaudiet pieteikumu."
            secrets = re.findall(r"\d{3,}", value)
            self.add("document", value[:2], text, secrets, "proposal", [value])

    def birth_dates(self, n: int) -> None:
        r = self.rnd
        months = ["janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā", "jūlijā", "augustā",
                  "septembrī", "oktobrī", "novembrī", "decembrī"]
        for k in range(n):
            first, last, female = self.names.lv_full()
            y, m, d = r.randint(1940, 2008), r.randint(1, 12), r.randint(1, 28)
            v = k % 5
            if v == 0:
                value = f"{d:02d}.{m:02d}.{y}"
                text = f"{first} {last}, dz. {value}, " + self.proposal("").lower()
            elif v == 1:
                value = f"{y}. gada {d}. {months[m - 1]}"
                text = f"Esmu {first} {last}, {'dzimusi' if female else 'dzimis'} {value}. " + self.proposal("")
            elif v == 2:
                value = f"{d:02d}.{m:02d}.{y}."
                text = self.mail(f"Dzimšanas datums: {value}", f"{first} {last}")
            elif v == 3:
                value = f"{d:02d}.{m:02d}.{y}"
                text = f"{first} {last} ({value}) ierosina: " + self.proposal("")
            else:
                rf, rl, _ = self.names.ru_full()
                value = f"{d:02d}.{m:02d}.{y}"
                text = f"{rf} {rl}, {value} г.р., " + self.proposal("", ru=True).lower()
            secrets = [s for s in re.findall(r"\d+", value) if len(s) == 4]
            secrets += [f"{d:02d}.{m:02d}" if "." in value[:6] else f"{d}. {months[m - 1]}"]
            self.add("birth_date", ["dz.", "dzimis", "Dzimšanas datums:", "(date)", "г.р."][v], text,
                     secrets, "mail" if v == 2 else "proposal", [value])


def cases(seed: int = SEED) -> list[Case]:
    """The planted set (deterministic for a seed)."""
    b = Builder(seed)
    b.emails(40)
    b.phones(40)
    b.personal_codes(35)
    b.ibans(35)
    b.names_(100)
    b.addresses(56)
    b.plates(20)
    b.profiles(20)
    b.cards(16)
    b.documents(15)
    b.birth_dates(15)
    return b.cases


def ordinary_texts(seed: int = SEED) -> list[str]:
    """Template texts with no personal data (proposal sentences, mails without signatures)."""
    b = Builder(seed)
    out = [tpl.replace("{x}", "") for tpl in LV_PROPOSALS + RU_PROPOSALS]
    out += [b.mail("") for _ in range(10)]
    return out


# --------------------------------------------------------------------------- measurement

def leaked(case: Case, redacted: str) -> list[str]:
    """Secrets of the case still present as whole tokens in the redacted text."""
    left = []
    for secret in case.secrets:
        for alt in secret.split("|"):
            if re.search(r"(?<!\w)" + re.escape(alt) + r"(?!\w)", redacted):
                left.append(alt)
    return left


def treebank_sentences() -> list[list[tuple[str, str]]]:
    if not TREEBANK.exists():
        return []
    sents: dict[str, list[tuple[str, str]]] = {}
    with gzip.open(TREEBANK, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            sents.setdefault(row["sent_id"], []).append((row["form"], row["upos"]))
    return list(sents.values())


def over_redaction_treebank() -> tuple[int, int, list[str]]:
    """(wrongly redacted words, words) over the treebank, PROPN and punctuation left out."""
    words = wrong = 0
    examples = []
    for sentence in treebank_sentences():
        text, spans = "", []
        for form, upos in sentence:
            text += " " if text else ""
            spans.append((len(text), len(text) + len(form), upos, form))
            text += form
        found = privacy.find_personal_data(text)
        for s, e, upos, form in spans:
            if upos in ("PUNCT", "PROPN"):
                continue
            words += 1
            hit = [f for f in found if f.start < e and f.end > s]
            if hit:
                wrong += 1
                if len(examples) < 40:
                    examples.append(f"{form} ({upos}) in {hit[0].type}: {hit[0].value!r}")
    return wrong, words, examples


def _is_real_name(value: str) -> bool:
    """A finding made only of known first names or surnames (the devset's signatures "Ar cieņu,
    Valda" are real personal data, not over-redaction)."""
    words = re.findall(r"[^\W\d_]+", value)
    return bool(words) and all(privacy._classify(privacy._as_title(w)) in (privacy._NAME, privacy._AMBIG,
                                                                          privacy._SURN) for w in words)


def over_redaction_texts(texts: list[str], names_are_real: bool = False) -> tuple[int, int, list[str]]:
    words = wrong = 0
    examples = []
    for text in texts:
        words += len(re.findall(r"\w+", text))
        for f in privacy.find_personal_data(text):
            if names_are_real and f.type == "name" and _is_real_name(f.value):
                continue
            wrong += len(re.findall(r"\w+", f.value))
            if len(examples) < 20:
                examples.append(f"{f.type}: {f.value!r}")
    return wrong, words, examples


def sample_texts() -> list[str]:
    """Free-text answers of the synthetic sample that carry no planted personal data."""
    truth_path = ROOT / "data" / "sample" / "truth.json"
    if not truth_path.exists():
        return []
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    planted = {p.get("text_id") for p in truth["pii"]}
    return [t["text"] for t in truth["texts"] if t["id"] not in planted]


def devset_texts() -> list[str]:
    if not DEVSET.exists():
        return []
    import pandas as pd
    df = pd.read_csv(DEVSET, dtype=str)
    col = "text" if "text" in df.columns else df.columns[-1]
    return [t for t in df[col].dropna()]


def measure(seed: int = SEED) -> dict:
    results: dict = {"by_kind": {}, "missed": [], "extra_in_cases": 0, "case_words": 0}
    total, found = Counter(), Counter()
    for case in cases(seed):
        red = privacy.redact(case.text)
        total[case.kind] += 1
        left = leaked(case, red)
        if left:
            results["missed"].append({"id": case.id, "kind": case.kind, "variant": case.variant,
                                      "text": case.text, "redacted": red, "left": left})
        else:
            found[case.kind] += 1
    for kind in KINDS:
        results["by_kind"][kind] = {"planted": total[kind], "removed": found[kind],
                                    "recall": found[kind] / total[kind] if total[kind] else None}
    tw, tn, tex = over_redaction_treebank()
    ow, on, oex = over_redaction_texts(ordinary_texts(seed))
    dw, dn, dex = over_redaction_texts(devset_texts(), names_are_real=True)
    sw, sn, sex = over_redaction_texts(sample_texts())
    results["over_redaction"] = {
        "treebank": {"wrong": tw, "words": tn, "rate": tw / tn if tn else None, "examples": tex},
        "templates": {"wrong": ow, "words": on, "rate": ow / on if on else None, "examples": oex},
        "devset": {"wrong": dw, "words": dn, "rate": dw / dn if dn else None, "examples": dex},
        "sample": {"wrong": sw, "words": sn, "rate": sw / sn if sn else None, "examples": sex},
    }
    all_w, all_n = tw + ow + dw + sw, tn + on + dn + sn
    results["over_redaction"]["all"] = {"wrong": all_w, "words": all_n,
                                        "rate": all_w / all_n if all_n else None}
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--examples", type=int, default=10)
    ap.add_argument("--json")
    ap.add_argument("--dump", help="write the planted cases to this JSON file")
    args = ap.parse_args(argv)
    if args.dump:
        Path(args.dump).write_text(json.dumps([c.__dict__ for c in cases(args.seed)],
                                              ensure_ascii=False, indent=1), encoding="utf-8")
    res = measure(args.seed)
    n = sum(v["planted"] for v in res["by_kind"].values())
    print(f"planted set: {n} cases (seed {args.seed})")
    print(f"{'kind':<15}{'planted':>8}{'removed':>9}{'recall':>9}{'goal':>7}")
    for kind, v in res["by_kind"].items():
        goal = GOALS.get(kind)
        print(f"{kind:<15}{v['planted']:>8}{v['removed']:>9}{v['recall']:>9.3f}"
              f"{(f'{goal:.2f}' if goal else '-'):>7}")
    print("over-redaction (share of ordinary words wrongly redacted):")
    for name, v in res["over_redaction"].items():
        if v["words"]:
            print(f"  {name:<10}{v['wrong']:>6} of {v['words']:>6} words  {v['rate']:.4%}")
    for m in res["missed"][:args.examples]:
        print(f"  missed {m['kind']} ({m['variant']}): left {m['left']} in {m['redacted']!r}")
    for name in ("treebank", "templates", "devset", "sample"):
        for ex in res["over_redaction"][name]["examples"][:args.examples]:
            print(f"  extra ({name}): {ex}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
