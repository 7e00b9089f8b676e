"""Specification of analysis.privacy: redaction, pseudonyms, small cells, safe cells and HTML."""
from __future__ import annotations

import csv
import gzip
import os
import stat
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import privacy
from analysis.privacy import (
    PLACEHOLDERS, escape_html, find_personal_data, load_salt, neutralise_cell, neutralise_frame,
    pseudonym, pseudonymise_series, redact, suppress_small,
)

TREEBANK = Path("/work/shared/data/ud-latvian-lvtb/lv_lvtb-ud-dev.form-lemma-upos.tsv.gz")
# Documented maximum: share of the treebank's non-punctuation tokens that are not proper nouns
# (PROPN) yet fall inside a redaction. Measured 0.08 % (23 of 28,224 tokens, most of them real
# phone numbers, an e-mail address and a name whose surname the treebank tags ADJ).
MAX_TREEBANK_FALSE_POSITIVE_RATE = 0.0025


def types(text: str) -> list[str]:
    return [f.type for f in find_personal_data(text)]


# --------------------------------------------------------------------------- phones

@pytest.mark.parametrize("spelling", [
    "+371 29123456", "+37129123456", "+371 2912 3456", "+371 29 123 456", "+371-29-123-456",
    "00371 29123456", "0037129123456", "(+371) 29123456", "(+371) 63 422 333", "(371) 29123456",
    "371 29123456", "29123456", "29 123 456", "2912 3456", "2912-3456", "29.123.456",
    "291 23 456", "29 12 34 56", "63422333", "634 22 333", "63 422 333", "80001234",
    "+370 612 34567", "+49 30 1234567",
])
def test_phone_spellings_are_redacted(spelling):
    for text in (f"Zvaniet: {spelling}.", f"tālr. {spelling}, vakaros", spelling):
        assert redact(text).count(PLACEHOLDERS["phone"]) == 1, text
        assert not any(ch.isdigit() for ch in redact(text)), text


def test_phone_glued_to_label_is_redacted():
    assert redact("Tel.29123456") == "Tel.[TĀLRUNIS]"
    assert redact("mob:+37129123456") == "mob:[TĀLRUNIS]"


def test_two_phones_side_by_side():
    assert redact("29123456 29123457") == "[TĀLRUNIS] [TĀLRUNIS]"
    assert redact("29123456, 63412345") == "[TĀLRUNIS], [TĀLRUNIS]"


ORDINARY_NUMBERS = [
    "2022. gadā", "1500 EUR", "5 gadus", "tel. nr. nav", "20 %", "Rīgas ielā 2 gadus",
    "27.02.2022", "27.02.2022.", "LV-3401", "2021-2027", "2021.–2027. gads", "2022 2023",
    "20 000 000 EUR", "2 500 000 eiro", "25000000", "€ 29 123 456", "29 123 456 EUR",
    "67 360 iedzīvotāju", "1.5 milj.", "3,5 %", "Nr. 12", "12:30", "2022-02-27", "ap 200 cilvēku",
    "no 8 līdz 20", "0,5 km", "123456", "1234567", "123456789", "LV40003012345",
    "Likums Nr. 2912", "1/2", "v2.9.123.4", "09.00-18.00", "ISBN 978-9984-123-45-6",
    "20.02.2022 plkst. 20.00", "4 x 100 m", "Vienotais tālrunis nav norādīts",
]


@pytest.mark.parametrize("text", ORDINARY_NUMBERS)
def test_ordinary_numbers_are_kept(text):
    assert redact(text) == text
    assert find_personal_data(text) == []


def test_postal_code_is_not_personal_data():
    # a postal code alone covers a part of a town: it identifies nobody (documented decision);
    # after a street address it goes with the address
    assert redact("Adrese: Liepāja, LV-3401") == "Adrese: Liepāja, LV-3401"
    assert redact("Graudu iela 12-5, Liepāja, LV-3401") == "[ADRESE]"


# --------------------------------------------------------------------------- personal codes

@pytest.mark.parametrize("code", [
    "010190-12345", "311299-22345", "290200-21234", "321234-56789", "32123456789",
    "01019012345", "010190 12345", "010190–12345",
])
def test_personal_codes_are_redacted(code):
    assert redact(f"p.k. {code}, lūdzu") == "p.k. [PERSONAS KODS], lūdzu"


@pytest.mark.parametrize("not_code", [
    "310290-12345",      # 31 February
    "011390-12345",      # month 13
    "010190-52345",      # century digit 5
    "40003012345",       # a company registration number
    "123456-78901",
])
def test_implausible_personal_codes_are_kept(not_code):
    assert types(not_code) == []


# --------------------------------------------------------------------------- IBAN

@pytest.mark.parametrize("iban", [
    "LV80BANK0000435195001", "LV80 BANK 0000 4351 9500 1", "lv80bank0000435195001",
    "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32",
    "LT12 1000 0111 0100 1000", "EE38 2200 2210 2014 5685",
    "LV11 HABA 0551 0000 0000 1",   # wrong check digits, still an LV IBAN shape
])
def test_ibans_are_redacted(iban):
    assert redact(f"Konts: {iban}. Paldies") == "Konts: [IBAN]. Paldies"


def test_iban_shapes_that_fail_are_kept():
    assert types("DE00 3704 0044 0532 0130 00") != ["iban"]   # bad check, not LV
    assert types("Kods AB12") == []


def test_iban_followed_by_a_year_stops_at_its_length():
    assert redact("LV80 BANK 0000 4351 9500 1 2022. gadā") == "[IBAN] 2022. gadā"


# --------------------------------------------------------------------------- e-mail

@pytest.mark.parametrize("text, expected", [
    ("anna.kalnina@inbox.lv", "[E-PASTS]"),
    ("Rakstiet: Janis.Berzins+liepaja@gmail.com.", "Rakstiet: [E-PASTS]."),
    ("<ozols_99@e-pasts.lv>", "<[E-PASTS]>"),
    ("mailto:info@liepaja.lv", "mailto:[E-PASTS]"),
    ("https://forms.example.lv/r?email=anna%40inbox.lv&x=1", "https://forms.example.lv/r?email=[E-PASTS]&x=1"),
    ("anna(at)inbox.lv", "[E-PASTS]"),
    ("anna [at] inbox.lv", "[E-PASTS]"),
    ("ольга@почта.рф", "[E-PASTS]"),
    ("https://www.liepaja.lv/jaunumi/", "https://www.liepaja.lv/jaunumi/"),
])
def test_email_addresses_are_redacted(text, expected):
    assert redact(text) == expected


# --------------------------------------------------------------------------- names

@pytest.mark.parametrize("text, expected", [
    ("Jānis Bērziņš ierosina vairāk soliņu.", "[VĀRDS] ierosina vairāk soliņu."),
    ("Priekšlikumu iesniedza Anna Kalniņa-Ozola.", "Priekšlikumu iesniedza [VĀRDS]."),
    ("Bērziņš Jānis, Kalniņa Anna", "[VĀRDS], [VĀRDS]"),
    ("Runāju ar Jāni Bērziņu par to.", "Runāju ar [VĀRDS] par to."),
    ("Annai Kalniņai patika ideja.", "[VĀRDS] patika ideja."),
    ("Jāņa Ozola priekšlikums", "[VĀRDS] priekšlikums"),
    ("Jānim nepatīk.", "[VĀRDS] nepatīk."),
    ("Pajautājiet Annai.", "Pajautājiet [VĀRDS]."),
    ("J. Bērziņš teica, ka A.Kalniņa piekrīt.", "[VĀRDS] teica, ka [VĀRDS] piekrīt."),
    ("Jānis B. piekrīt.", "[VĀRDS] piekrīt."),
    ("Laima Ozola iesaka vairāk koku.", "[VĀRDS] iesaka vairāk koku."),
    ("Saule Liepiņa vada pulciņu.", "[VĀRDS] vada pulciņu."),
    ("Sergejs Ivanovs un Olga Petrova", "[VĀRDS] un [VĀRDS]"),
    ("Janis Berzins (bez garumzīmēm)", "[VĀRDS] (bez garumzīmēm)"),
    ("Bērziņa kungs atbildēja.", "[VĀRDS] kungs atbildēja."),
    ("Mani sauc Saule, dzīvoju Karostā.", "Mani sauc [VĀRDS], dzīvoju Karostā."),
    ("Vārds, uzvārds: Rasa Liepa", "Vārds, uzvārds: [VĀRDS]"),
    ("Esmu Laima no Tosmares.", "Esmu [VĀRDS] no Tosmares."),
])
def test_latvian_names_are_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Ольга Иванова предлагает", "[VĀRDS] предлагает"),
    ("Иванов Сергей", "[VĀRDS]"),
    ("Сергей Петрович Иванов написал", "[VĀRDS] написал"),
    ("Передайте Ольге Ивановой", "Передайте [VĀRDS]"),
    ("Вера Павловна из библиотеки", "[VĀRDS] из библиотеки"),
    ("Надежда Кузнецова", "[VĀRDS]"),
    ("Меня зовут Вера.", "Меня зовут [VĀRDS]."),
    ("ФИО: Любовь Орлова", "ФИО: [VĀRDS]"),
    ("г-н Петров ответил", "г-н [VĀRDS] ответил"),
])
def test_russian_names_are_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Paldies par iespēju!\nAr cieņu,\nAnna Kalniņa", "Paldies par iespēju!\nAr cieņu,\n[VĀRDS]"),
    ("Ideja ir laba.\n\nAr cieņu,\nLaima", "Ideja ir laba.\n\nAr cieņu,\n[VĀRDS]"),
    ("Ideja ir laba. Ar cieņu, Saule Liepa", "Ideja ir laba. Ar cieņu, [VĀRDS]"),
    ("Vairāk soliņu pie jūras.\nJānis Bērziņš", "Vairāk soliņu pie jūras.\n[VĀRDS]"),
    ("Vairāk soliņu pie jūras.\nDaina", "Vairāk soliņu pie jūras.\n[VĀRDS]"),
    ("Vairāk koku.\nJ. Bērziņš\ntel. 29123456\nanna@inbox.lv",
     "Vairāk koku.\n[VĀRDS]\ntel. [TĀLRUNIS]\n[E-PASTS]"),
    ("Предлагаю больше скамеек.\nС уважением, Ольга Иванова",
     "Предлагаю больше скамеек.\nС уважением, [VĀRDS]"),
    ("Предлагаю больше скамеек.\n\nС уважением,\nВера", "Предлагаю больше скамеек.\n\nС уважением,\n[VĀRDS]"),
    ("Labdien!\nIdeja par parku.\nAr labākajiem vēlējumiem,\nJĀNIS BĒRZIŅŠ",
     "Labdien!\nIdeja par parku.\nAr labākajiem vēlējumiem,\n[VĀRDS]"),
    ("Thanks!\n--\nAnna K.", "Thanks!\n--\n[VĀRDS]"),
])
def test_signature_names_are_redacted(text, expected):
    assert redact(text) == expected


# leaks found by hand on realistic text (2026-12-02): each must leave nothing of the datum behind
@pytest.mark.parametrize("text, expected", [
    # an address read too far must not leave the tail of the phone number it overlapped
    ("dzīvoju Ezerkrastā. Tel. 29 123 456", "dzīvoju Ezerkrastā. Tel. [TĀLRUNIS]"),
    # names typed in lower case after an introduction
    ("mani sauc janis ozols", "mani sauc [VĀRDS]"),
    ("Mans vārds ir anna bērziņa un es dzīvoju Liepājā", "Mans vārds ir [VĀRDS] un es dzīvoju Liepājā"),
    ("я ольга иванова", "я [VĀRDS]"),
    # a surname before its initials, also when the surname is an ordinary word ("bērziņš")
    ("Bērziņš J., Liepāja", "[VĀRDS], Liepāja"),
    ("Ar cieņu, Kalniņa A.", "Ar cieņu, [VĀRDS]"),
    ("Иванов И.И. просит", "[VĀRDS] просит"),
    # a phone number typed one digit at a time, or grouped oddly after a label
    ("zvaniet 2 9 1 2 3 4 5 6", "zvaniet [TĀLRUNIS]"),
    ("Tel: 63 4 22 333", "Tel: [TĀLRUNIS]"),
    ("Telefons: 2 655 4433, vakaros", "Telefons: [TĀLRUNIS], vakaros"),
    # a first name in the accusative or dative before a school/park word is a person, not a place
    ("Manu dēlu Robertu skolā apceļ.", "Manu dēlu [VĀRDS] skolā apceļ."),
    ("Annai parkā patīk", "[VĀRDS] parkā patīk"),
    # an ambiguous first name right after a relative or neighbour
    ("Vecmāmiņa Ruta bieži iet uz parku.", "Vecmāmiņa [VĀRDS] bieži iet uz parku."),
    ("Mans draugs Saule teica", "Mans draugs [VĀRDS] teica"),
    ("соседка Вера жалуется", "соседка [VĀRDS] жалуется"),
    # a first name missing from the lists, before a surname of a typical Latvian form
    ("Andrešs Kalniņš", "[VĀRDS]"),
    ("Šo iesniedz Andrešs\nPodnieks, kas dzīvo netālu.", "Šo iesniedz [VĀRDS], kas dzīvo netālu."),
    # a family named at the start of a text by a diminutive surname that is also a word
    ("Eglīšu ģimene no Jaunliepājas", "[VĀRDS] ģimene no Jaunliepājas"),
    # spaced e-mail, a messenger user name, the operator code in brackets, "dzimšanas dati"
    ("janis . ozols @ inbox . lv", "[E-PASTS]"),
    ("skype: janis.ozols85", "skype: [PROFILS]"),
    ("(29) 123456", "[TĀLRUNIS]"),
    ("+371 (29) 123 456", "[TĀLRUNIS]"),
    ("dzimšanas dati 01.01.1980", "dzimšanas dati [DZIMŠANAS DATUMS]"),
    # "ostmala" is a street word (Jaunā ostmala, Liepāja)
    ("mūsu adrese Jaunā ostmala 3", "mūsu adrese [ADRESE]"),
    # a Russian address with the Latvian street name first
    ("живу на Курземес проспекте 12", "живу на [ADRESE]"),
    ("Живу на Зивью улице 7-3, кв. 5", "Живу на [ADRESE]"),
])
def test_realistic_leaks_are_closed(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "es esmu pensionāre", "esmu maija beigās atbraukusi", "Rīgā A. Čaka ielā ir labi",
    "Nodaļa V. Ievads", "Bērziņš būtu labs koks parkā", "vērtējumi 1 2 3 4 5",
    "Daudzbērnu ģimenes cieš.", "Mazu bērnu ģimenes cieš.", "Jaunajā ostmalā 5 gadus atpakaļ", "tiekamies @ parkā . Rīt", "skype: janis", "vērtējums (29) 123 punkti", "Laiks: 10.00", "Coca Cola", "Grand Hotel", "Baltic Podnieks", "Lielā Ozoliņa", "на Курземес проспекте 5 лет назад", "На Лиепаяс улице много ям", "Mūsu māte Liepāja ir skaista.", "Mans kolēģis Rīgā strādā.", "telpas 2345 6789 m2", "Raiņa skolā ir labi.", "Brāļu Kaudzīšu ielā ir bedres.", "Roberta parks ir skaists.",
])
def test_the_new_rules_keep_ordinary_text(text):
    assert redact(text) == text


def test_overlapping_findings_merge_into_one_covering_both():
    found = privacy._resolve_overlaps(
        [privacy.Finding("address", 0, 10, ""), privacy.Finding("phone", 8, 16, ""),
         privacy.Finding("email", 20, 30, "")], [])
    assert [(f.type, f.start, f.end) for f in found] == [("address", 0, 16), ("email", 20, 30)]
    # a finding that touches a protected span (a placeholder) is dropped
    assert privacy._resolve_overlaps([privacy.Finding("phone", 2, 6, "")], [(5, 9)]) == []


COMMON_WORD_SENTENCES = [
    "Saule spīd.", "Jūra ir tuvu.", "Liepāja ir skaista.", "Laima ir svarīga.",
    "Liepa zied pie skolas.", "Daina skan Dziesmu svētkos.", "Rasa uz zāles ir skaista.",
    "Austra ir rīta blāzma.", "Vita nova sākas.", "Ilga gaidīšana nogurdina.",
    "Dzintars ir Liepājas simbols.", "Rota ir jauka.", "Māras diena ir svētki.",
    "Marta sākumā notiek festivāls.", "Augustā Liepājā notiek festivāls.", "Maija beigās būs koncerts.",
    "Karosta jāattīsta.", "Jaunā ostmala ir skaista.", "Zaļā birze vajag apgaismojumu.",
    "Venta un Bārta ir upes.", "Roze ir skaistākais zieds.", "Līgo svētkos visi atpūšas.",
    "Lielais Dzintars ir koncertzāle.", "Ziemeļu priekšpilsētā trūkst veikalu.",
    "Krišjāņa Barona iela ir remontējama.", "K. Ukstiņa ielā ir bedres.",
    "Raiņa parkā vajag soliņus.", "Jāņa Čakstes bulvārī ir sastrēgumi.",
    "Arī Tosmarē vajag veloceliņu.", "Ezerkrasta apkaime aug.",
    "Paldies par iespēju izteikties!", "Ar cieņu pret iedzīvotājiem jārīkojas domei.",
    "Paldies!\nLiepāja ir mūsu pilsēta.", "Vairāk informācijas.\nLiepāja",
    "Laimas šokolāde ir garšīga.", "Saulainā dienā pludmale ir pilna.",
    "Dzintara muzejā vajag vairāk stendu.", "Jūras vārti ir pilsētas simbols.",
]


@pytest.mark.parametrize("text", COMMON_WORD_SENTENCES)
def test_common_word_names_are_kept_in_ordinary_sentences(text):
    assert redact(text) == text


# ordinary consultation-like text: must come through untouched
ORDINARY_LV = """\
Liepājai vajag vairāk veloceliņu un soliņu pie jūras.
Pilsētas mājaslapā informācija jāatjauno biežāk.
Sabiedriskais transports vakaros kursē pārāk reti.
Es informāciju par pasākumiem uzzinu no Facebook un draugiem.
Jāsakārto pludmales infrastruktūra un jāuzstāda ģērbtuves.
Vecliepājā jāatjauno koka ēkas.
Karostā trūkst apgaismojuma un drošības.
Būtu labi, ja pašvaldība rīkotu vairāk koncertu Lielajā dzintarā.
Tūristiem vajag labākas norādes latviešu, angļu un vācu valodā.
Bērnu laukumi Jaunliepājā ir novecojuši.
Ezerkrastā vajadzētu vairāk sporta laukumu.
Tosmares ezera krastā varētu izveidot atpūtas vietu.
Jauniešiem nav, kur pavadīt brīvo laiku.
Uzņēmējiem vajag vienkāršākas atļaujas.
Vēlos, lai pilsēta atbalsta vietējos ražotājus.
Laba ideja ir tiešsaistes platforma priekšlikumiem.
Domes lēmumus vajag skaidrot vienkāršā valodā.
Jaunajiem iedzīvotājiem noderētu sveiciena komplekts.
Remigrantu kampaņa varētu palīdzēt atgriezt jauniešus.
Liepājas vēstnieki varētu stāstīt par dzīvi pilsētā.
Ziemā ielas netiek pietiekami tīrītas.
Saule, jūra un vējš ir Liepājas stiprās puses.
Laima un veiksme ir vajadzīga katram projektam.
Dzintars ir pilsētas zīmols, to vajag izmantot.
Rasa no rīta un miglas vakarā ir mūsu klimats.
Liepa ir mūsu dārza lepnums.
Daina par Liepāju skanēja visu vakaru.
Jūra šogad bija silta.
Vita activa ir latīņu izteiciens.
Austra un Māra ir latviešu mitoloģijas tēli.
Ilga ziema nomāc cilvēkus.
Rota ar dzintaru ir labs suvenīrs.
Marts un aprīlis ir labākie mēneši talkām.
Augusts ir tūrisma sezonas kulminācija.
Maijā notiek pilsētas svētki.
Jūlijā pludmalē ir daudz cilvēku.
Vārds un uzvārds nav jānorāda.
Ceru, ka mani priekšlikumi tiks ņemti vērā.
Pilsētai jābūt zaļākai un tīrākai.
Koncertzāle Lielais dzintars piesaista viesus no Rīgas.
Liepājas teātrim vajag jaunu ēku.
Kultūras nams Karostā ir jāremontē.
Zaļās birzes parks ir skaists rudenī.
Dienvidrietumu rajonā trūkst aptieku.
Vairāk atkritumu urnu pie ezera.
Tramvaja līniju vajadzētu pagarināt līdz Ezerkrastam.
Velonomas punkti būtu noderīgi tūristiem.
Informāciju krievu valodā vajag vairāk.
Sveiki! Man patīk, ka pilsēta attīstās.
Paldies par aptauju.
Ar cieņu pret pilsētas vēsturi jāsaglabā vecās ēkas.
Rožu laukums ir pilsētas sirds.
Pētera tirgus jāsakārto.
Sv. Annas baznīca ir skaista.
Svētās Trīsvienības katedrāle piesaista tūristus.
Annas baznīcas torņa skatu laukums būtu atraktīvs.
Mūsu ģimenei patīk dzīvot Liepājā.
Cilvēki aizbrauc uz Rīgu, jo šeit nav darba.
Pašvaldībai būtu jāsadarbojas ar privāto sektoru.
Citu pilsētu pieredze rāda, ka festivāli piesaista tūristus.
Ventspilī ir labāki bērnu laukumi.
Klaipēdā ir laba ostas promenāde.
Viņa teica, ka parks ir netīrs.
Tas ir labs priekšlikums.
Šis projekts ir svarīgs.
Jaunā pasaule ir jauna apkaime.
Liepājas Olimpiskais centrs ir labs.
Rīgas ielā vajag gājēju pāreju.
Kuršu ielā ir bīstami.
Ļoti patīk jaunā promenāde.
Pirms gada parks bija sliktāks.
"""
ORDINARY_RU = """\
Лиепая — красивый город у моря.
Вера в будущее города важна для жителей.
Надежда на лучшее остаётся.
Любовь к родному городу объединяет людей.
Роза ветров здесь особенная, ветер дует с моря.
Слава богу, парк наконец отремонтировали.
Лев на гербе города — символ силы.
Мир и спокойствие важнее всего.
Роман о Лиепае можно было бы издать на двух языках.
Победа нашей команды привлекла туристов.
Марина для яхт нуждается в ремонте.
Кароста привлекает туристов своей историей.
Город должен больше рассказывать о себе на русском языке.
Нужно больше велодорожек в Каросте и Тосмаре.
Очень не хватает общественных туалетов на пляже.
Информацию о событиях я получаю из Фейсбука и от друзей.
Хотелось бы, чтобы городская газета выходила и на русском.
Спасибо за возможность высказаться!
С уважением к городу и его жителям.
Предлагаю проводить больше концертов в Большом Янтаре.
Янтарь — символ Лиепаи, надо это использовать.
Надо привлекать молодёжь, чтобы она не уезжала в Ригу.
Транспорт по вечерам ходит редко, особенно трамвай.
Детские площадки старые, их надо обновить.
Зимой улицы плохо чистят.
Море летом тёплое, но пляж грязный.
Нужно больше скамеек в парке.
Работы в городе мало, люди уезжают.
Туристам нужны указатели на английском.
Хорошо бы сделать платформу для предложений жителей.
Решения думы надо объяснять простым языком.
Новым жителям пригодится приветственный набор.
Город стал лучше за последние годы.
Мне нравится новая набережная.
Не хватает велопрокатов.
Спасибо.
Всего доброго городу!
Пусть город развивается.
Любовь к морю у нас в крови.
Вера и надежда помогают жить.
Мир стал другим после пандемии.
Слава города зависит от жителей.
Роза и лилия растут в городском саду.
Майский праздник проходит у моря.
Рига далеко, а Лиепая рядом.
Вентспилс и Кулдига тоже красивые.
В Лиепае много ветра.
Улица Пушкина нуждается в ремонте.
Концертный зал очень красивый.
Парковка в центре платная и дорогая.
"""


def _tokens_redacted(sentences: list[str]) -> tuple[int, int]:
    words = sum(len(s.split()) for s in sentences)
    redacted = sum(len(f.value.split()) for s in sentences for f in find_personal_data(s))
    return redacted, words


def test_ordinary_latvian_and_russian_sentences_are_untouched():
    sentences = ORDINARY_LV.splitlines() + ORDINARY_RU.splitlines() + COMMON_WORD_SENTENCES
    changed = [s for s in sentences if redact(s) != s]
    assert changed == []
    # the same sentences as one multi-line text (signature rules in play) stay untouched too
    assert redact(ORDINARY_LV) == ORDINARY_LV
    assert redact(ORDINARY_RU) == ORDINARY_RU


def _treebank_sentences():
    sents: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
    with gzip.open(TREEBANK, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            sents.setdefault(row["sent_id"], []).append((row["form"], row["upos"]))
    return list(sents.values())


@pytest.mark.skipif(not TREEBANK.exists(), reason="treebank extract not available")
def test_false_positive_rate_on_treebank_is_below_documented_maximum():
    tokens = false_positives = 0
    for sentence in _treebank_sentences():
        text, spans = "", []
        for form, upos in sentence:
            text += (" " if text else "")
            spans.append((len(text), len(text) + len(form), upos))
            text += form
        found = find_personal_data(text)
        for s, e, upos in spans:
            if upos == "PUNCT":
                continue
            tokens += 1
            if upos != "PROPN" and any(f.start < e and f.end > s for f in found):
                false_positives += 1
    assert tokens > 25_000
    assert false_positives / tokens < MAX_TREEBANK_FALSE_POSITIVE_RATE


# --------------------------------------------------------------------------- idempotence

MIXED = (
    "Labdien!\nJānis Bērziņš (tālr. +371 2912 3456, janis@inbox.lv) iesaka: 2022. gadā 1500 EUR "
    "parkam. Konts LV80 BANK 0000 4351 9500 1, p.k. 010190-12345.\nSaule spīd, Jūra tuvu.\n"
    "Ar cieņu,\nLaima Ozola\n29123456"
)


def test_redaction_of_a_mixed_text():
    assert redact(MIXED) == (
        "Labdien!\n[VĀRDS] (tālr. [TĀLRUNIS], [E-PASTS]) iesaka: 2022. gadā 1500 EUR "
        "parkam. Konts [IBAN], p.k. [PERSONAS KODS].\nSaule spīd, Jūra tuvu.\n"
        "Ar cieņu,\n[VĀRDS]\n[TĀLRUNIS]")


def test_redaction_is_idempotent_and_keeps_placeholders():
    once = redact(MIXED)
    assert redact(once) == once
    assert find_personal_data(once) == []
    given_text = "[VĀRDS] Bērziņš un [E-PASTS] un [TĀLRUNIS] 29123456 [PERSONAS KODS] [IBAN] [ADRESE]"
    out = redact(given_text)
    for placeholder in PLACEHOLDERS.values():
        assert (placeholder in out) == (placeholder in given_text)
    assert redact(out) == out


FRAGMENTS = [
    "Jānis", "Bērziņš", "Anna", "Kalniņa", "Saule", "Laima", "Liepāja", "Ольга", "Иванова", "Вера",
    "29123456", "+371 2912 3456", "2022", "1500 EUR", "LV80BANK0000435195001", "010190-12345",
    "a@b.lv", "Ar cieņu,", "С уважением,", "J.", "K.", "iela", "spīd", "un", "ir", "[VĀRDS]",
    "[TĀLRUNIS]", "\n", "\n", ".", ",", " - ", "(", ")", "tālr.", "kungs", "Mani sauc",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14), st.sampled_from([" ", "", "  "]))
def test_redaction_is_idempotent_on_generated_texts(parts, sep):
    text = sep.join(parts)
    once = redact(text)
    assert redact(once) == once
    found = find_personal_data(text)
    assert all(text[f.start:f.end] == f.value for f in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))
    assert once.count("[VĀRDS]") >= text.count("[VĀRDS]")
    assert once.count("[TĀLRUNIS]") >= text.count("[TĀLRUNIS]")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_redaction_never_fails_and_is_idempotent_on_any_text(text):
    once = redact(text)
    assert redact(once) == once


def test_non_strings_pass_through():
    assert redact(None) is None
    assert redact("") == ""
    assert find_personal_data(None) == []
    nan = float("nan")
    assert redact(nan) is nan


def test_data_glued_together_is_all_found():
    assert redact("Jānis29123456") == "[VĀRDS][TĀLRUNIS]"
    assert redact("63422333+37129123456") == "[TĀLRUNIS][TĀLRUNIS]"
    assert redact("a@b.lvBĒRZIŅŠ010190-12345") == "[E-PASTS][PERSONAS KODS]"
    text = "Jānis29123456"
    assert [(f.type, f.value) for f in find_personal_data(text)] == [("name", "Jānis"), ("phone", "29123456")]


def test_findings_carry_type_span_and_value():
    text = "Anna Kalniņa, 29123456"
    found = find_personal_data(text)
    assert [(f.type, f.value) for f in found] == [("name", "Anna Kalniņa"), ("phone", "29123456")]
    for f in found:
        assert text[f.start:f.end] == f.value


# --------------------------------------------------------------------------- pseudonyms

def test_salt_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MY_SALT", "a-long-enough-secret-value")
    assert load_salt("MY_SALT", tmp_path / ".salt") == b"a-long-enough-secret-value"
    assert not (tmp_path / ".salt").exists()


def test_salt_file_is_created_private_and_reused(monkeypatch, tmp_path):
    monkeypatch.delenv("ANALYSIS_SALT", raising=False)
    path = tmp_path / ".salt"
    first = load_salt("ANALYSIS_SALT", path)
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first) == 64 and bytes.fromhex(first.decode())
    assert load_salt("ANALYSIS_SALT", path) == first
    # the file's content in the variable gives the same salt
    monkeypatch.setenv("ANALYSIS_SALT", path.read_text())
    assert load_salt("ANALYSIS_SALT", path) == first


def test_short_salt_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ANALYSIS_SALT", "short")
    with pytest.raises(ValueError, match="shorter than 16"):
        load_salt("ANALYSIS_SALT", tmp_path / ".salt")


def test_pseudonym_is_deterministic_and_keyed():
    salt = b"0123456789abcdef0123456789abcdef"
    p = pseudonym("anna@inbox.lv", salt)
    assert p == pseudonym("anna@inbox.lv", salt)
    assert p.startswith("R-") and len(p) == 2 + 12
    assert all(ch in "0123456789abcdef" for ch in p[2:])
    assert pseudonym("  Anna@Inbox.LV ", salt) == p          # e-mails: trimmed, lower-cased
    assert pseudonym("anna@inbox.lv", b"another-salt-of-enough-length") != p
    assert pseudonym("juris@inbox.lv", salt) != p
    assert pseudonym("anna@inbox.lv", salt, prefix="E", length=16).startswith("E-")
    assert len(pseudonym("x", salt, length=16)) == 18


def test_pseudonym_never_contains_the_salt_or_the_value():
    salt = b"s3cr3t-s4lt-value-0123456789"
    p = pseudonym("anna@inbox.lv", salt, length=64)
    assert salt.decode() not in p and "anna" not in p


def test_pseudonym_refuses_missing_values_and_series_keeps_them():
    salt = b"0123456789abcdef0123456789abcdef"
    with pytest.raises(ValueError):
        pseudonym(None, salt)
    s = pseudonymise_series(pd.Series(["a@b.lv", None, "A@B.LV"]), salt)
    assert s[0] == s[2] and pd.isna(s[1])


# --------------------------------------------------------------------------- small cells

def test_small_cells_are_blanked_and_marked():
    table = pd.DataFrame({"group": ["a", "b", "c", "d"], "n": [25, 3, 0, 9],
                          "share": [0.5, 0.06, 0.0, 0.18]})
    out = suppress_small(table, "n", min_cell=10, related={"n": ["share"]})
    assert out["n"].tolist()[0] == 25 and out["n"].tolist()[2] == 0
    assert out["n"].isna().tolist() == [False, True, False, True]
    assert out["share"].isna().tolist() == [False, True, False, True]
    assert out["n_suppressed"].tolist() == [False, True, False, True]
    assert "10" in out.attrs["suppression"]
    assert table["n"].tolist() == [25, 3, 0, 9]            # input untouched


def test_small_cells_several_columns_and_errors():
    table = pd.DataFrame({"n_lv": [12, 4], "n_ru": [1, 30]})
    out = suppress_small(table, ["n_lv", "n_ru"], 5)
    assert out["n_lv"].isna().tolist() == [False, True]
    assert out["n_ru"].isna().tolist() == [True, False]
    with pytest.raises(KeyError):
        suppress_small(table, "n_xx", 5)
    with pytest.raises(ValueError):
        suppress_small(table, "n_lv", 0)


# --------------------------------------------------------------------------- safe output

@pytest.mark.parametrize("value, expected", [
    ("=SUM(A1:A2)", "'=SUM(A1:A2)"), ("+371 29123456", "'+371 29123456"), ("-5", "'-5"),
    ("@cmd", "'@cmd"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("normal", "normal"), ("", ""),
    ("a=b", "a=b"), ("'=already", "'=already"), (-5, -5), (3.5, 3.5), (None, None),
])
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected
    assert neutralise_cell(neutralise_cell(value)) == expected


def test_neutralise_frame_touches_text_columns_only():
    df = pd.DataFrame({"text": ["=1+2", "ok", None], "n": [-5, 3, 1],
                       "cat": pd.Categorical(["-x", "y", "-x"])})
    out = neutralise_frame(df)
    assert out["text"].tolist()[:2] == ["'=1+2", "ok"] and pd.isna(out["text"][2])
    assert out["n"].tolist() == [-5, 3, 1] and out["n"].dtype == df["n"].dtype
    assert out["cat"].tolist() == ["'-x", "y", "'-x"]
    assert df["text"][0] == "=1+2"
    assert list(neutralise_frame(pd.DataFrame({"=h": [1]}), labels=True).columns) == ["'=h"]


def test_escape_html():
    assert escape_html('<b>"Anna" & \'Jānis\'</b>') == \
        "&lt;b&gt;&quot;Anna&quot; &amp; &#x27;Jānis&#x27;&lt;/b&gt;"
    assert escape_html(None) == ""
    assert escape_html(5) == "5"


def test_module_exports():
    for name in privacy.__all__:
        assert hasattr(privacy, name)


# --------------------------------------------------------------------------- issue 13: planted set

import sys as _sys  # noqa: E402

_sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import pii_cases  # noqa: E402


@pytest.fixture(scope="module")
def planted_measure():
    return pii_cases.measure(pii_cases.SEED)


def test_planted_set_is_large_deterministic_and_varied():
    first, second = pii_cases.cases(), pii_cases.cases()
    assert [c.text for c in first] == [c.text for c in second]
    assert len(first) >= 300
    assert {c.kind for c in first} == set(pii_cases.KINDS)
    assert {c.context for c in first} == {"proposal", "mail"}
    assert len({c.variant for c in first if c.kind == "name"}) >= 15
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in c.text) for c in first if c.kind == "name")


@pytest.mark.parametrize("kind", sorted(pii_cases.GOALS))
def test_planted_recall_meets_the_goal(planted_measure, kind):
    row = planted_measure["by_kind"][kind]
    missed = [m for m in planted_measure["missed"] if m["kind"] == kind]
    assert row["planted"] >= 30
    assert row["recall"] >= pii_cases.GOALS[kind], missed[:5]


def test_planted_recall_of_other_kinds(planted_measure):
    # no goal in the issue for these; the measured recall is 1.0 each (seed 13): keep it high
    for kind in ("plate", "profile", "card", "document", "birth_date"):
        assert planted_measure["by_kind"][kind]["recall"] >= 0.9, kind


def test_over_redaction_of_ordinary_text_is_below_one_percent(planted_measure):
    over = planted_measure["over_redaction"]
    assert over["templates"]["wrong"] == 0
    if TREEBANK.exists():
        assert over["treebank"]["words"] > 25_000
        assert over["treebank"]["rate"] <= pii_cases.MAX_OVER_REDACTION
    for name in ("devset", "sample"):
        if over[name]["words"]:
            assert over[name]["rate"] <= pii_cases.MAX_OVER_REDACTION, over[name]["examples"][:5]
    assert over["all"]["rate"] <= pii_cases.MAX_OVER_REDACTION


# --------------------------------------------------------------------------- issue 13: examples

@pytest.mark.parametrize("text, expected", [
    ("JĀNIS ŠTEINBERGS ierosina", "[VĀRDS] ierosina"),
    ("Andris KRASTIŅŠ", "[VĀRDS]"),
    ("Jānis Kalns", "[VĀRDS]"),
    ("Runāju ar Jāni Kalnu.", "Runāju ar [VĀRDS]."),
    ("Sergey Ivanov", "[VĀRDS]"),
    ("Iesaka Olga Petrova.", "Iesaka [VĀRDS]."),
    ("Bērziņš, Jānis", "[VĀRDS]"),
    ("Uzvārds: Bērziņš", "Uzvārds: [VĀRDS]"),
    ("Vārds, uzvārds: Anna Kalniņa", "Vārds, uzvārds: [VĀRDS]"),
    ("iesniedz Jānis\nBērziņš, kas dzīvo tuvumā", "iesniedz [VĀRDS], kas dzīvo tuvumā"),
    ("Prof. Kalniņš teica", "Prof. [VĀRDS] teica"),
    ("Dr. Ozols teica", "Dr. [VĀRDS] teica"),
    ("kgs. Bērziņš atbildēja", "kgs. [VĀRDS] atbildēja"),
    ("kdze Ozola atbildēja", "kdze [VĀRDS] atbildēja"),
    ("Ideja laba.\nAr cieņu,\nBērziņu ģimene", "Ideja laba.\nAr cieņu,\n[VĀRDS] ģimene"),
])
def test_issue_13_names(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Dzīvoju Graudu ielā 12-5.", "Dzīvoju [ADRESE]."),
    ("Adrese: Rožu 3 dz. 14", "Adrese: [ADRESE]"),
    ("Brīvības iela 12 k-2 dz. 33", "[ADRESE]"),
    ("Pie mājas Kuršu prospektā 5", "Pie mājas [ADRESE]"),
    ("Jāņa Čakstes bulvāris 5", "[ADRESE]"),
    ("Kr. Valdemāra ielā 12-5", "[ADRESE]"),
    ("живу: ул. Ленина 12-5", "живу: [ADRESE]"),
])
def test_issue_13_addresses(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Auto AB-1234 stāv uz ietves.", "Auto [NUMURZĪME] stāv uz ietves."),
    ("Mašīna KX 1234 brauc ātri.", "Mašīna [NUMURZĪME] brauc ātri."),
    ("Profils facebook.com/janis.berzins", "Profils [PROFILS]"),
    ("https://www.instagram.com/anna_k/ ir mans", "[PROFILS] ir mans"),
    ("Rakstiet @janis_b", "Rakstiet [PROFILS]"),
    ("vards at gmail dot com", "[E-PASTS]"),
    ("vards[at]gmail.com", "[E-PASTS]"),
    ("vards (at) inbox.lv", "[E-PASTS]"),
    ("vards собака mail.ru", "[E-PASTS]"),
    ("vards @ gmail.com", "[E-PASTS]"),
    ("Zvaniet 29\u00a0123\u00a0456", "Zvaniet [TĀLRUNIS]"),
    ("Zvaniet 2912\u202f3456", "Zvaniet [TĀLRUNIS]"),
    ("Zvaniet +371\u00a029\u2009123\u2009456", "Zvaniet [TĀLRUNIS]"),
    ("p.k. 120385\u00a012345", "p.k. [PERSONAS KODS]"),
    ("p.k. 120385\u201112345", "p.k. [PERSONAS KODS]"),
    ("Konts LV 85 RIKO 0000 0838 8852 1", "Konts [IBAN]"),
    ("Konts LV85-RIKO-0000-0838-8852-1", "Konts [IBAN]"),
    ("Konts LV85\u00a0RIKO\u00a00000\u00a00838\u00a08852\u00a01", "Konts [IBAN]"),
    ("Karte 4111 1111 1111 1111", "Karte [MAKSĀJUMU KARTE]"),
    ("Pase LA1234567", "Pase [DOKUMENTA NR]"),
    ("pases Nr. LA 1234567", "pases Nr. [DOKUMENTA NR]"),
    ("паспорт 4510 123456", "паспорт [DOKUMENTA NR]"),
    ("Jānis Bērziņš, dz. 12.03.1985", "[VĀRDS], dz. [DZIMŠANAS DATUMS]"),
    ("Jānis Bērziņš (12.03.1985) iesaka", "[VĀRDS] ([DZIMŠANAS DATUMS]) iesaka"),
    ("dzimis 1985. gada 3. maijā", "dzimis [DZIMŠANAS DATUMS]"),
])
def test_issue_13_other_kinds(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "Karte 4111 1111 1111 1112",          # fails the Luhn check
    "ES 2021.–2027. gada periodā", "standarts EN 1176", "PM10 daļiņas", "TV3 ziņas",
    "Rīgas ielā vajag gājēju pāreju.", "Kuršu ielā 2 gadus nav remonta.",
    "Dzīvoju Karostā 20 gadus.", "Look at liepaja.lv for news.", "Sekojiet mums @SUM(A1)",
    "ISBN 978-9984-123-45-6", "2022. gada 3. maijā notika talka.",
    # public-figure policy: places and institutions named after people are kept
    "Raiņa iela ir gara.", "Kārļa Ulmaņa gatve ir gara.", "Raiņa skolas skolēni",
    "Rainis ir dzejnieks.", "Gaiļa kalns ir skaists.", "Krišjāņa Barona ielā ir bedres.",
])
def test_issue_13_ordinary_text_is_kept(text):
    assert redact(text) == text


def test_public_figures_are_redacted_as_persons_outside_place_names():
    # documented policy: a person's full name is redacted whoever the person is
    assert redact("Kārlis Ulmanis bija prezidents.") == "[VĀRDS] bija prezidents."
    assert redact("Kārļa Ulmaņa gatvē 5 ir veikals.") == "[ADRESE] ir veikals."


def test_attachment_and_mail_file_names_never_reach_outputs(tmp_path):
    from analysis import ingest
    assert privacy.redact_file_name("Jānis Vītoliņš - priekšlikums.docx") == "[PIELIKUMS].docx"
    assert privacy.redact_file_name("Bērziņš") == "[PIELIKUMS]"
    assert privacy.redact_file_name("(image/png)") == "(image/png)"
    eml = tmp_path / "Jānis Vītoliņš.eml"
    eml.write_bytes(b"From: a@b.lv\nSubject: x\nDate: Mon, 1 Aug 2022 10:00:00 +0300\n\nIdeja par parku.\n")
    folder = tmp_path / "Anna Kalniņa"
    folder.mkdir()
    (folder / "Anna Kalniņa.eml").write_bytes(eml.read_bytes())
    mbox = tmp_path / "proposals.mbox"
    names = ingest.source_names([tmp_path / "forms.xlsx", mbox, eml, folder])
    assert names == {tmp_path / "forms.xlsx": "forms.xlsx", mbox: "proposals.mbox", eml: "mail1",
                     folder: "mail2"}
    for path in (eml, folder):
        batch = ingest.read_mail(path)
        assert batch.source_file == "mail1"
        assert all("Vītoliņš" not in m.source_file and "Kalniņa" not in m.source_file
                   for m in batch.messages)


# --------------------------------------------------------------------------- quotes

@pytest.mark.parametrize("text", [
    "Šo iesniedz Andrešs Podnieks, kas dzīvo netālu.",   # unknown name pair mid-sentence
    "Kaimiņš Podnieks trokšņo naktīs.",                   # a name next to a cue word
    "Zvaniet man uz 291 234 567, lūdzu.",                 # a digit run of 6+
    "Skatiet https://example.lv/ideja un balsojiet.",     # a URL
    "Rakstiet uz vards(at)example.lv vai man.",           # redacted: a placeholder is left
    "jānis bērziņš ierosina vairāk soliņu.",              # a lower-case first name and surname
    "Jānis Bērziņš ierosina vairāk soliņu.",              # redacted, so skipped
    "",
])
def test_quote_is_publishable_rejects_doubtful_quotes(text):
    assert privacy.quote_is_publishable(text) is False


@pytest.mark.parametrize("text", [
    "Vairāk soliņu un apgaismojuma gar jūrmalu, lūdzu.",
    "Koncertzāle Lielais dzintars piesaista viesus no Rīgas.",
    "Rīgas ielā vajag gājēju pāreju.",
    "Mājaslapa liepaja.lv ir sarežģīta, meklēšana nestrādā.",
    "Ziemā ielas netiek pietiekami tīrītas, 2022. gadā tas bija sliktāk.",
    "Нужно больше скамеек в парке у моря.",
])
def test_quote_is_publishable_accepts_ordinary_quotes(text):
    assert privacy.quote_is_publishable(text) is True


def test_quote_check_skips_few_ordinary_sample_answers():
    import json
    truth_path = Path(__file__).resolve().parents[1] / "data" / "sample" / "truth.json"
    if not truth_path.exists():
        pytest.skip("sample not generated")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    planted = {p.get("text_id") for p in truth["pii"]}
    ordinary = [t["text"] for t in truth["texts"] if t["id"] not in planted and 40 <= len(t["text"]) <= 320]
    with_data = [t["text"] for t in truth["texts"] if t["id"] in planted]
    rejected = sum(not privacy.quote_is_publishable(t) for t in ordinary)
    assert len(ordinary) > 1000 and rejected / len(ordinary) < 0.02   # measured 12 of 2,451
    assert not any(privacy.quote_is_publishable(t) for t in with_data)


def test_stage_03_never_quotes_a_text_the_quote_check_rejects():
    import importlib.util

    from analysis import proposals as pr
    from analysis import themes as th
    from analysis import codebook

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("_tp", root / "tests" / "test_proposals.py")
    tp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tp)
    props = tp.fixture_proposals()
    doubtful = props.index[props["text"].str.contains("veloceliņ")][:6]
    props.loc[doubtful, "text"] = ("Vajag vairāk veloceliņu uz Karostu un veloceliņus gar jūru, "
                                   "kaimiņš Podnieks Ābeļkalns to apstiprinās.")
    assert not privacy.quote_is_publishable(props.loc[doubtful[0], "text"])
    dictionary = th.load_dictionary(root / "params" / "themes" / "liepaja-2022.yaml")
    cb = codebook.load(root / "params" / "codebooks" / "liepaja-2022.yaml")
    res = pr.run_stage(props, dictionary, cb, min_cell=5, fdr=0.05)
    bad = set(props.loc[doubtful, "proposal_id"])
    quoted = 0
    for table in ("theme_quotes", "topic_quotes", "uncoded_quotes"):
        q = res.tables.get(table, pd.DataFrame())
        if len(q):
            quoted += len(q)
            assert not bad & set(q["proposal_id"].astype(str)), table
            assert all(privacy.quote_is_publishable(t) for t in q["text"]), table
    assert quoted > 0
