"""The synthetic Liepāja 2022 consultation: Forms exports, e-mailed proposals and planted truth.

``synth(n, seed, out_dir)`` writes, deterministically from the seed (one
``numpy.random.Generator`` tree, no global random state, no wall clock):

- ``forms_lv.xlsx`` and ``forms_ru.xlsx``: the Microsoft Forms export format of the Latvian
  and the Russian form (headers and labels from the codebook; the Russian file has its Likert
  columns in shuffled order);
- ``proposals.mbox``: proposals sent by e-mail (plain, HTML, multipart, UTF-8 and
  windows-1257, quoted-printable, base64 and 8bit, signatures, quoted replies, attachments);
- ``truth.json``: everything that was planted, so that tests can check the pipeline: rows,
  data-quality problems, effects with their sizes, null items, texts with their themes,
  personal data and hostile strings, and the population the sample was drawn from.

The respondents are drawn from the synthetic population in ``POPULATION`` (the same numbers as
``params/population/liepaja-synthetic.yaml``) with self-selection propensities, and rate the
activities through a latent normal model (sector means, a respondent random intercept, a
respondent-by-sector effect, item noise) cut into the five Likert points.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
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

from .codebook import Codebook, load as load_codebook, normalize
from .paths import ROOT

GENERATOR_VERSION = 1
CODEBOOK_PATH = "params/codebooks/liepaja-2022.yaml"
FORM_FILES = {"lv": "forms_lv.xlsx", "ru": "forms_ru.xlsx"}
MBOX_FILE = "proposals.mbox"
TRUTH_FILE = "truth.json"
SHUFFLED_FORM = "ru"                                   # the file whose Likert columns are shuffled
WINDOW_START = dt.datetime(2022, 1, 1, 0, 0, 0)
DEADLINE = dt.datetime(2022, 2, 27, 23, 59, 59)       # Europe/Riga, naive local time as Forms exports
FIRST_DAY = dt.date(2022, 1, 10)                      # the form was opened on 10 January 2022
FIXED_WORKBOOK_TIME = dt.datetime(2022, 3, 1, 8, 0, 0)
ZIP_TIME = (2022, 3, 1, 8, 0, 0)
DATE_FORMAT = "m/d/yy h:mm:ss"                        # as Forms' "Open in Excel" shows the times
META_HEADERS = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]

# --------------------------------------------------------------------------------------------
# Themes: the codes that proposals are tied to (others build the theme dictionary from these)
# --------------------------------------------------------------------------------------------
THEMES: list[dict[str, str]] = [
    {"code": "rental_shortage", "sector": "housing", "lv": "Īres mājokļu trūkums", "en": "Shortage of rental housing"},
    {"code": "renovation_support", "sector": "housing", "lv": "Atbalsts māju renovācijai", "en": "Support for renovating buildings"},
    {"code": "cycling_paths", "sector": "mobility", "lv": "Veloceliņi un velo infrastruktūra", "en": "Cycle paths and cycling infrastructure"},
    {"code": "public_transport", "sector": "mobility", "lv": "Sabiedriskais transports", "en": "Public transport"},
    {"code": "parking", "sector": "mobility", "lv": "Autostāvvietas", "en": "Parking"},
    {"code": "airport_port", "sector": "mobility", "lv": "Lidosta, osta un savienojamība", "en": "Airport, port and connections"},
    {"code": "parks_beach", "sector": "urban", "lv": "Parki un pludmale", "en": "Parks and the beach"},
    {"code": "street_repair", "sector": "urban", "lv": "Ielu un ietvju remonts", "en": "Street and pavement repair"},
    {"code": "cleanliness", "sector": "urban", "lv": "Tīrība un atkritumi", "en": "Cleanliness and waste"},
    {"code": "schools_kindergartens", "sector": "education", "lv": "Skolas un bērnudārzi", "en": "Schools and kindergartens"},
    {"code": "university", "sector": "education", "lv": "Universitāte un tehnikumi", "en": "University and colleges"},
    {"code": "jobs_wages", "sector": "business", "lv": "Darbavietas un algas", "en": "Jobs and wages"},
    {"code": "investors_sez", "sector": "business", "lv": "Investori un speciālā ekonomiskā zona", "en": "Investors and the special economic zone"},
    {"code": "events_calendar", "sector": "culture", "lv": "Pasākumu kalendārs", "en": "Events calendar"},
    {"code": "music_brand", "sector": "culture", "lv": "Mūzikas pilsētas zīmols", "en": "City-of-music brand"},
    {"code": "sport_facilities", "sector": "culture", "lv": "Sporta infrastruktūra", "en": "Sports facilities"},
    {"code": "public_meetings", "sector": "participation", "lv": "Iedzīvotāju sapulces", "en": "Public meetings"},
    {"code": "online_participation", "sector": "participation", "lv": "E-līdzdalība", "en": "Online participation"},
    {"code": "remigration", "sector": "newcomers", "lv": "Remigrācija", "en": "Return migration"},
    {"code": "welcome_info", "sector": "newcomers", "lv": "Informācija jaunajiem iedzīvotājiem", "en": "Welcome information for newcomers"},
    {"code": "info_channels", "sector": "cross-cutting", "lv": "Informācijas kanāli", "en": "Information channels"},
    {"code": "youth_leaving", "sector": "cross-cutting", "lv": "Jauniešu aizbraukšana", "en": "Young people leaving"},
    {"code": "karosta", "sector": "cross-cutting", "lv": "Karosta", "en": "Karosta"},
    {"code": "multilingual_info", "sector": "cross-cutting", "lv": "Informācija vairākās valodās", "en": "Multilingual information"},
]
THEME_CODES = [t["code"] for t in THEMES]
CROSS_CUTTING = [t["code"] for t in THEMES if t["sector"] == "cross-cutting"]

# --------------------------------------------------------------------------------------------
# Phrase banks. "[a|b|c]" picks one alternative; every sentence is a whole clause, so that any
# combination of alternatives stays grammatical. Sentences carry only their own theme's words
# as far as that is natural.
# --------------------------------------------------------------------------------------------
PHRASES: dict[str, dict[str, list[str]]] = {"lv": {
    "rental_shortage": [
        "Liepājā [ļoti trūkst|katastrofāli trūkst|pietrūkst] [īres dzīvokļu|kvalitatīvu īres dzīvokļu|normālu īres mājokļu].",
        "[Jaunām ģimenēm|Jauniešiem|Speciālistiem, kas pārceļas,] [nav iespējams|ir ļoti grūti] atrast [dzīvokli|mājokli] [par saprātīgu cenu|par pieņemamu īres maksu].",
        "Pašvaldībai [vajadzētu būvēt|vajadzētu atbalstīt|derētu atbalstīt] [jaunus īres namus|pašvaldības īres dzīvokļus][, jo rindas ir garas|].",
        "[Īres cenas ir pārāk augstas salīdzinājumā ar algām|Īres maksa aug ātrāk nekā algas].",
        "Daudzi [tukši|pamesti] dzīvokļi [vecpilsētā|Jaunliepājā|centrā] [stāv neizmantoti|netiek izīrēti] — [tos varētu sakārtot un izīrēt|vajag tos atjaunot un piedāvāt īrei].",
        "Vajag vienu vietu, kur redzēt visus [brīvos|pieejamos] [īres dzīvokļus|mājokļus īrei].",
        "[Mājokļu pieejamība|Īres mājokļu trūkums] ir [galvenā|lielākā] problēma [pilsētā|šobrīd].",
        "Ja [nebūs|netiks uzbūvēti] jauni īres nami, [speciālisti|darbinieki] [nepārcelsies uz Liepāju|šeit nepaliks].",
        "Mums [ar vīru|ar ģimeni] [pusgadu|gandrīz gadu] neizdevās atrast īres dzīvokli.",
    ],
    "renovation_support": [
        "[Vajag|Nepieciešams] lielāks pašvaldības atbalsts [daudzdzīvokļu māju|padomju laika māju] [renovācijai|siltināšanai].",
        "[Vecās|Padomju laika] mājas [ir jāsiltina|prasās pēc renovācijas], [bet iedzīvotāji nezina, kā to sākt|bet informācijas par līdzfinansējumu trūkst].",
        "Būtu labi [rīkot|organizēt] [informatīvas sanāksmes|seminārus] par [māju renovāciju|energoefektivitāti] dzīvokļu īpašniekiem.",
        "[Apkures rēķini|Rēķini par siltumu] ir [milzīgi|pārāk lieli], tāpēc [renovācija|siltināšana] [jāatbalsta|jāveicina] [vairāk|aktīvāk].",
        "Pašvaldība varētu [segt daļu izmaksu|palīdzēt ar projekta dokumentāciju] māju [atjaunošanai|renovācijai].",
        "Fasāžu [atjaunošana|sakopšana] vēsturiskajā centrā [jāatbalsta ar līdzfinansējumu|būtu jālīdzfinansē].",
        "[Skaidri jāizskaidro|Vajag vienkārši izskaidrot], kā pieteikties atbalstam [māju renovācijai|mājokļa atjaunošanai].",
        "Mūsu māja [Ziemeļu priekšpilsētā|Dienvidrietumos|Tosmarē] [grib renovēties|gatavojas renovācijai], bet [trūkst informācijas|nav skaidrs, ar ko sākt].",
    ],
    "cycling_paths": [
        "[Vajag vairāk|Trūkst drošu] veloceliņu [pilsētā|starp apkaimēm].",
        "Veloceliņš [gar jūru|līdz Ezerkrastam|uz Tosmari] [ir ļoti vajadzīgs|būtu ļoti noderīgs].",
        "[Velosipēdu novietņu|Drošu velonovietņu] [pie veikaliem|pie skolām|centrā] ir par maz.",
        "Ar velosipēdu pa [Klaipēdas|Ganību|Jelgavas] ielu braukt ir [bīstami|nedroši].",
        "[Ierosinu|Piedāvāju] izveidot [velomaršrutu karti|velomaršrutu tīklu] un [to popularizēt|par to stāstīt].",
        "Liepāja varētu būt [īsta|labākā] velopilsēta, [ja veloceliņi nebeigtos pusceļā|ja būtu nepārtraukti veloceliņi].",
        "Velosipēdistiem [vajag|jāizveido] [atsevišķas joslas|savas joslas], nevis [ietves kopā ar gājējiem|koplietošanas ietves].",
        "[Vasarā|Siltajā sezonā] [vajadzētu|varētu] ieviest [velonomu|velosipēdu nomu] [pilsētā|kā Rīgā].",
    ],
    "public_transport": [
        "Tramvajam [vajadzētu kursēt|jākursē] [biežāk|arī vēlu vakarā|biežāk arī svētdienās].",
        "[Autobusu|Sabiedriskā transporta] [saraksti|kustības grafiki] [nav saskaņoti|nesakrīt] ar [vilcienu|tramvaja] [kustību|sarakstu].",
        "[Vajag|Gribētos] [mobilo lietotni|lietotni] ar [autobusu|tramvaja un autobusu] [atrašanās vietu|kustību] reāllaikā.",
        "Pieturās [nav|trūkst] [elektronisko tablo|informācijas tablo|saprotamu sarakstu].",
        "[Sabiedriskais transports|Autobuss] uz [Ezerkrastu|Zaļo birzi|Tosmari] [kursē|iet] [pārāk reti|tikai dažas reizes dienā].",
        "Braukšanas biļetes [jāvar|vajadzētu varēt] [nopirkt|apmaksāt] ar [bankas karti|telefonu] [transportā|uzreiz].",
        "[Tramvaja līniju vajadzētu pagarināt|Tramvaja līnija būtu jāpagarina] [līdz Ezerkrastam|uz Ziemeļu priekšpilsētu].",
        "[Skolēniem|Senioriem] [braukšanai sabiedriskajā transportā|braukšanai ar autobusu] [vajag lielākas atlaides|jābūt bezmaksas].",
    ],
    "parking": [
        "Centrā [nav kur novietot auto|ir grūti atrast stāvvietu|stāvvietu trūkst].",
        "[Stāvvietu maksa centrā ir pārāk augsta|Maksas stāvvietas centrā ir pārāk dārgas].",
        "[Pagalmos|Daudzdzīvokļu māju pagalmos] [mašīnas stāv uz zāliena|auto novieto uz zāliena], [vajag|nepieciešams] [vairāk stāvvietu|sakārtot stāvvietas].",
        "Vasarā pie tirgus [nav stāvvietu|vienmēr trūkst vietu auto].",
        "[Vajag daudzstāvu autostāvvietu|Jāizbūvē liels stāvlaukums] [centra tuvumā|pie stacijas].",
        "[Vietējiem iedzīvotājiem|Centra iedzīvotājiem] [vajag|nepieciešamas] [rezidentu stāvvietu atļaujas|stāvvietu atļaujas] [bez maksas|par simbolisku maksu].",
        "[Stāvvietu|Autostāvvietu] [zīmes|noteikumi] [ir mulsinoši|nav saprotami] [viesiem|tūristiem].",
    ],
    "airport_port": [
        "[Lidostai|Liepājas lidostai] [vajag|nepieciešami] regulāri reisi [uz Rīgu|uz Eiropas galvaspilsētām].",
        "[Prāmja satiksme uz Zviedriju|Prāmis uz Vāciju] [jāpopularizē vairāk|ir par maz zināma].",
        "[Ostu|Liepājas ostu] [vajadzētu|varētu] [vairāk|aktīvāk] izmantot [kruīza kuģu|tūristu] piesaistei.",
        "[Bez regulāriem lidojumiem|Ja nav regulāru lidojumu], [ārzemju viesi neatbrauks|biznesa cilvēki uz Liepāju nebrauks].",
        "Informācija par [lidostas|ostas] [reisiem|savienojumiem] [jāliek|jāpublicē] [vienuviet|vienā vietā].",
        "[Vilciens|Autobuss] līdz Rīgai [brauc pārāk ilgi|iet pārāk reti] — [savienojamība|satiksme ar galvaspilsētu] [ir jāuzlabo|jāuzlabo steidzami].",
        "[Lidosta un osta|Osta un lidosta] ir [pilsētas vārti|Liepājas iespēja], [par tām vajag runāt|tās jāpopularizē] [arī ārzemēs|Latvijā un ārzemēs].",
    ],
    "parks_beach": [
        "[Pludmalē|Pie jūras] [vajag vairāk|trūkst] [soliņu|atkritumu urnu|ģērbtuvju].",
        "Jūrmalas parks [ir jāsakopj labāk|vakaros jāapgaismo|būtu jāatjauno].",
        "[Bērnu rotaļu laukumi|Rotaļu laukumi] [parkos|apkaimēs] [ir novecojuši|ir nolietoti|ir jāatjauno].",
        "[Pludmales|Jūrmalas] [pieejamība|piekļuve] [cilvēkiem ratiņkrēslā|ratiņkrēslu lietotājiem] [jāuzlabo|ir slikta].",
        "Vajag [vairāk zaļo zonu|vairāk koku] [apkaimēs|daudzdzīvokļu māju rajonos].",
        "[Ierosinu|Piedāvāju] [izveidot|ierīkot] [suņu pastaigu laukumu|piknika vietas] [parkā|Jūrmalas parkā].",
        "[Parki|Mūsu parki] [ir pilsētas lepnums|ir skaisti], [bet|taču] [vakaros tur ir tumšs|trūkst tualešu].",
        "Pludmale ir [mūsu lielākā vērtība|pilsētas dārgums], [tā jāsaudzē|par to jārūpējas].",
    ],
    "street_repair": [
        "[Ielas|Ietves] ir [ļoti bedrainas|sliktā stāvoklī].",
        "[Steidzami jāsalabo|Jāremontē] [Jelgavas|Ganību|Klaipēdas|Brīvības] iela[, tur ir bedre pie bedres|].",
        "[Ielu remonti|Remontdarbi] [ilgst|notiek] [pārāk ilgi|mēnešiem], [un neviens nezina, kad tie beigsies|bet informācijas nav].",
        "[Ietvju|Gājēju ietvju] segums [daudzviet|apkaimēs] ir [briesmīgs|bīstams] [senioriem|māmiņām ar ratiem].",
        "[Iedzīvotāji|Apkaimes iedzīvotāji] [laikus jābrīdina|jāinformē] par [ielu remontiem|satiksmes ierobežojumiem].",
        "[Ielu apgaismojums|Apgaismojums] [mazajās ielās|apkaimēs] [nedarbojas|ir par vāju].",
        "[Pēc ziemas|Pavasarī] bedres [netiek salabotas|tiek lāpītas tikai uz laiku].",
        "[Gājēju pārejas|Pārejas] [pie skolām|pie veikaliem] [jāizgaismo labāk|jāpadara drošākas].",
    ],
    "cleanliness": [
        "[Pilsētā|Apkaimēs] [ir daudz|mētājas daudz] [atkritumu|gružu] [pie konteineriem|pagalmos].",
        "[Vajag vairāk|Trūkst] [šķirošanas konteineru|konteineru atkritumu šķirošanai] [apkaimēs|pie daudzdzīvokļu mājām].",
        "Suņu [īpašnieki|saimnieki] [nesavāc|nevāc] [ekskrementus|aiz saviem suņiem], [vajag sodus|nepieciešami lielāki sodi].",
        "[Ierosinu|Piedāvāju] [rīkot|organizēt] [talkas|apkaimju talkas] [biežāk|vairākas reizes gadā].",
        "[Bērniem|Skolēniem] [jāmāca|vajag mācīt] [šķirot atkritumus|par atkritumu šķirošanu] jau no mazotnes.",
        "[Nelegālās|Nelikumīgās] izgāztuves [mežā|pie dārziņiem] [jālikvidē|jāuzrauga ar kamerām].",
        "Izsmēķi un [plastmasa|iepakojumi] [uz ietvēm|pie pieturām] — [jārīko kampaņa|vajag kampaņu] par tīru pilsētu.",
        "[Ielu slaucīšana|Ietvju tīrīšana] [ziemā|pēc vētrām] [notiek par vēlu|ir nepietiekama].",
    ],
    "schools_kindergartens": [
        "[Bērnudārzu rindas ir pārāk garas|Rindas uz bērnudārziem jāsamazina].",
        "[Nepietiek vietu bērnudārzos|Trūkst bērnudārzu vietu] [mazuļiem no pusotra gada|bērniem no 1,5 gadu vecuma].",
        "Skolām [nepieciešami|vajadzīgi] [mūsdienīgi|jauni] [datori|mācību līdzekļi].",
        "[Informācija|Ziņas] par [skolu|izglītības iestāžu] [piedāvājumu|programmām] [jāliek vienuviet|ir izkaisīta pa dažādām vietnēm].",
        "[Skolotāju|Pedagogu] trūkums [skolās|Liepājas skolās] [kļūst arvien lielāks|ir problēma].",
        "[Pagarinātās dienas grupas|Interešu izglītības pulciņi] [sākumskolās|skolās] [jānodrošina|vajadzīgi] [visiem bērniem|bez maksas].",
        "[Vecākiem|Ģimenēm] [jāvar|vajadzētu varēt] [pieteikt bērnu bērnudārzam|pierakstīt bērnu skolā] [elektroniski|tiešsaistē].",
        "[Skolu ēkas|Skolas] [Jaunliepājā|Ziemeļu priekšpilsētā] [prasās pēc remonta|ir jāatjauno].",
    ],
    "university": [
        "Liepājas Universitāte [jāpopularizē|jāreklamē] [aktīvāk|vairāk] [visā Latvijā|arī ārzemēs].",
        "[Vajag|Nepieciešamas] [jaunas|modernas] studiju programmas [IT jomā|inženierzinātnēs|jūrniecībā].",
        "[Studentiem trūkst vietu dienesta viesnīcā|Studentu kopmītnes ir sliktā stāvoklī].",
        "[Universitātei|LiepU] [jāsadarbojas|vajadzētu sadarboties] ar [vietējiem uzņēmumiem|ražotnēm], lai studenti [iegūtu praksi|varētu praktizēties].",
        "[Tehnikums|Liepājas Valsts tehnikums] [dod labu profesiju|piedāvā labas iespējas], [par to jāstāsta|tas jāpopularizē] [skolēniem visā Kurzemē|citos novados].",
        "[Liepājai jākļūst par īstu studentu pilsētu|Jāattīsta Liepājas kā studentu pilsētas tēls].",
        "[Pieaugušajiem|Strādājošajiem] [trūkst|vajag vairāk] [neklātienes|vakara] studiju iespēju universitātē.",
    ],
    "jobs_wages": [
        "Liepājā ir [zemas|ļoti mazas] algas, [tāpēc|un tāpēc] [speciālisti izvēlas Rīgu|labi speciālisti aizbrauc].",
        "[Trūkst|Nav] [labi apmaksātu|kvalificētu] darbavietu [jauniešiem|speciālistiem ar augstāko izglītību].",
        "[Vajag|Gribētos] [vienotu|vienu] [vakanču portālu|vietni ar vakancēm] [Liepājas uzņēmumiem|Liepājā].",
        "[Darba devējiem|Uzņēmumiem] [jāmaksā|vajadzētu maksāt] [konkurētspējīgas algas|vairāk], [citādi darbinieki aizbrauks uz Rīgu|jo citādi cilvēki strādās ārzemēs].",
        "[Pašvaldība varētu atbalstīt|Vajadzētu atbalstīt] [mazos uzņēmējus|jaunos uzņēmējus] ar [telpām|grantiem|konsultācijām].",
        "[Karjeras dienas|Darba gadatirgi] [skolās|pilsētā] [jārīko biežāk|ir ļoti vajadzīgi].",
        "[Man|Manam dēlam|Manai meitai] [nav izdevies|neizdodas] atrast darbu [savā specialitātē|pēc augstskolas] Liepājā.",
        "[Kopstrādes telpas|Attālinātā darba centrs] [jaunajiem profesionāļiem|ārštata darbiniekiem] [piesaistītu cilvēkus|būtu liels pluss].",
    ],
    "investors_sez": [
        "[Speciālā ekonomiskā zona|Liepājas SEZ] [jāreklamē|jāpopularizē] [ārvalstu investoriem|ārzemēs] [aktīvāk|vairāk].",
        "[Investoriem|Ārvalstu investoriem] [vajadzīga|nepieciešama] [vienas pieturas aģentūra|viena kontaktpersona] pašvaldībā.",
        "[Rūpnieciskās teritorijas|Ražošanas teritorijas] [jāpiedāvā investoriem|ir jāsakārto] [ar gatavu infrastruktūru|ar visiem pieslēgumiem].",
        "[Jāpiesaista|Vajag piesaistīt] [ražotnes|jaunas ražotnes] ar [augstu pievienoto vērtību|eksportspējīgu produkciju].",
        "[Nodokļu atlaides|SEZ nodokļu atvieglojumi] ir [liela priekšrocība|mūsu trumpis], [par to jāstāsta|to vajag izcelt] [investoru forumos|starptautiskās izstādēs].",
        "[Investoru|Uzņēmēju] [vizītēm|uzņemšanai] [vajag|vajadzētu sagatavot] [kvalitatīvus materiālus|labu prezentāciju par pilsētu].",
        "[Bijušā Metalurga|Metalurga] teritorija [jāattīsta|jāpiedāvā] [jauniem investoriem|ražošanai].",
    ],
    "events_calendar": [
        "[Vajag|Gribētos] [vienu|vienotu] [pasākumu kalendāru|kalendāru ar visiem pasākumiem], [kur redzams viss|lai nav jāmeklē dažādās vietnēs].",
        "Par [koncertiem|pasākumiem] [bieži uzzinu|uzzinu tikai] [pēc tam|kad tie jau notikuši].",
        "[Pasākumu kalendārs|Kalendārs] [pašvaldības vietnē|internetā] [nav ērts|ir nepārskatāms].",
        "[Pasākumi|Lielie pasākumi] [pārklājas|notiek vienā laikā], [vajag labāku koordināciju|nepieciešama kopīga plānošana].",
        "[Ziemā|Ārpus sezonas] [pilsētā nekas nenotiek|pasākumu ir ļoti maz].",
        "[Bērniem|Ģimenēm ar bērniem] [brīvdienās|nedēļas nogalēs] [trūkst pasākumu|vajag vairāk pasākumu].",
        "Pasākumu kalendārā [vajag|gribētos] [filtru pēc apkaimes|atlasi pēc vecuma grupas].",
    ],
    "music_brand": [
        "Liepāja ir [mūzikas pilsēta|pilsēta, kurā piedzimst vējš], [un tas jāizmanto mārketingā|tas jāizceļ visur].",
        "[Koncertzāle Lielais dzintars|Lielais dzintars] [jāizmanto|jānoslogo] [vairāk|aktīvāk] [arī vietējiem mūziķiem|arī jauniem mūziķiem].",
        "[Vajag atjaunot|Gribētos atjaunot] [leģendāro Liepājas Dzintaru|lielu rokfestivālu] [kā agrāk|astoņdesmito gadu garā].",
        "[Ielu mūziķiem|Jaunajiem mūziķiem] [vajag vairāk iespēju|jādod vietas] uzstāties [centrā|vasarā].",
        "[Mūzikas pilsētas|Mūzikas] [zīmols|tēls] ir [mūsu stiprākais|vērtīgākais], [bet ārpus Liepājas to maz zina|taču tas jāattīsta].",
        "[Liepājas roka slavas aleja|Liepājas mūzikas vēsture] [jāpopularizē|jāiekļauj tūrisma maršrutos].",
        "[Vasaras koncerti|Koncerti] [brīvdabas estrādē|pie Lielā dzintara] [piesaista|piesaistītu] [tūristus|viesus no visas Latvijas].",
    ],
    "sport_facilities": [
        "[Trūkst|Nepietiek] [modernu|mūsdienīgu] [sporta laukumu|sporta zāļu] [apkaimēs|pie skolām].",
        "[Peldbaseins|Baseins] ir [ļoti vajadzīgs|nepieciešams] [Liepājā|pilsētai], [esošais ir par mazu|pašreizējais ir pārslogots].",
        "[Āra trenažieri|Āra trenažieru laukumi] [Dienvidrietumu rajonā|Ezerkrastā|pie jūras] būtu [lieliski|ļoti noderīgi].",
        "[Skrejceliņu|Skriešanas celiņu] [ar apgaismojumu|ar gumijas segumu] [gar jūru|pa pilsētu] [ļoti gaidām|ļoti vajag].",
        "[Hokeja|Basketbola] [spēles|mači] [jāpopularizē|jāreklamē] [vairāk|aktīvāk], [tie vieno pilsētu|tas ir mūsu lepnums].",
        "[Sporta nodarbības|Treniņi] [senioriem|bērniem] [jāpiedāvā|jārīko] [bez maksas|par pieejamu cenu].",
        "[Slidotava|Publiska slidotava] [ziemā|ziemas sezonā] būtu [ļoti pieprasīta|liels prieks ģimenēm].",
    ],
    "public_meetings": [
        "[Apkaimju|Iedzīvotāju] sapulces [jārīko|vajag rīkot] [regulāri|vismaz reizi ceturksnī].",
        "[Domes deputātiem|Deputātiem] [jātiekas|vajadzētu tikties] ar iedzīvotājiem [klātienē|apkaimēs][ biežāk|].",
        "[Sapulces|Tikšanās] [jārīko|vajag rīkot] [vakaros|pēc darba laika], [lai strādājošie var piedalīties|nevis darba laikā].",
        "[Iedzīvotāju|Apkaimju] [padomes|biedrības] [jāiesaista|vajadzētu iesaistīt] [lēmumu pieņemšanā|plānošanā] [no paša sākuma|agrāk].",
        "[Publiskās apspriešanas|Apspriešanas] [notiek formāli|ir formālas], [viedoklis netiek ņemts vērā|neviens neieklausās].",
        "Par [sapulcēm|apspriešanām] [jāziņo|jāpaziņo] [laikus|vismaz nedēļu iepriekš].",
        "[Gribētos vairāk dialoga|Vajag reālu dialogu] [starp domi un iedzīvotājiem|ar pašvaldību].",
    ],
    "online_participation": [
        "[Vajag tiešsaistes platformu|Nepieciešama tiešsaistes platforma], kur [iesniegt idejas|iesniegt priekšlikumus] un [balsot|par tiem balsot].",
        "[Aptaujas|Šādas aptaujas] [jārīko|vajag rīkot] [biežāk|regulāri], [un rezultāti jāpublicē|un jāpublicē rezultāti].",
        "[Domes sēdes|Komiteju sēdes] [jātranslē|vajadzētu translēt] [tiešraidē|internetā][ ar subtitriem|].",
        "[Līdzdalības budžets|Līdzdalības budžeta konkurss] ir [laba ideja|lieliska iniciatīva], [bet balsošanai jābūt vienkāršākai|taču par to maz zina].",
        "[Jāvar|Vajadzētu varēt] [iesniegt|pieteikt] [problēmu|bojājumu] [ar foto|ar fotogrāfiju] [mobilajā lietotnē|caur lietotni].",
        "[Atbildes|Pašvaldības atbildes] uz [e-pastiem|iesniegumiem] [nāk pārāk lēni|jāgaida mēnesi].",
        "[Balsojumi|Elektroniskie balsojumi] par [pilsētas projektiem|apkaimju projektiem] [palielinātu|veicinātu] [iedzīvotāju iesaisti|uzticēšanos].",
    ],
    "remigration": [
        "[Vajag uzrunāt|Vajadzētu uzrunāt|Ir vērts uzrunāt] [aizbraukušos|ārzemēs dzīvojošos] liepājniekus [ar konkrētiem piedāvājumiem|ar darba piedāvājumiem].",
        "[Daudzi|Mani draugi] [Īrijā|Anglijā|Norvēģijā] [gribētu atgriezties|domā par atgriešanos], [bet nezina, vai būs darbs|taču viņiem trūkst informācijas].",
        "[Remigrantiem|Atgriezušajiem] [vajadzīgs|nepieciešams] [savs konsultants|koordinators pašvaldībā].",
        "Pašvaldība varētu [atbalstīt|konsultēt] [atgriezušās ģimenes|remigrantu ģimenes] ar [pirmajiem soļiem|dokumentu kārtošanu].",
        "[Vajag kampaņu|Jārīko kampaņa] [diasporai|ārzemēs dzīvojošajiem latviešiem] [kopā ar diasporas biedrībām|Lielbritānijā un Īrijā].",
        "Mēs [atgriezāmies|pārcēlāmies atpakaļ] no [Vācijas|Norvēģijas|Īrijas] [pirms diviem gadiem|pagājušajā gadā], [un informācijas bija ļoti maz|un nezinājām, kur vērsties].",
        "[Studenti, kas studē Rīgā|Jaunieši, kas mācās ārzemēs], [jāuzrunā|jāaicina] atgriezties [pēc studijām|dzimtajā pilsētā].",
    ],
    "welcome_info": [
        "[Jaunajiem iedzīvotājiem|Jaunpienācējiem] [vajag|gribētos] [ceļvedi|rokasgrāmatu] [par pilsētu|ar praktisku informāciju].",
        "[Sveiciena komplekts|Sveiciena pakete] [jaunajiem iedzīvotājiem|jaunpienācējiem] [ir jauka ideja|būtu patīkams žests].",
        "[Visa informācija|Informācija] par [deklarēšanos|dzīvesvietas deklarēšanu], [ģimenes ārstu|ārstiem] un [sabiedrisko transportu|nodokļiem] [jāapkopo vienuviet|jāliek vienā vietā].",
        "[Kad pārcēlāmies|Pārceļoties] uz Liepāju, [nezinājām, kur ko meklēt|bija grūti saprast, kur vērsties].",
        "[Jaunpienācējiem|Jaunajiem liepājniekiem] [varētu rīkot|vajag] [iepazīšanās pasākumus|ekskursijas pa pilsētu].",
        "Būtu vērtīgi izveidot [mentoru programmu|brīvprātīgo tīklu], kur [vietējie|liepājnieki] [palīdz|palīdzētu] [jaunpienācējiem|jaunajiem iedzīvotājiem] [iejusties|iedzīvoties].",
        "[Jāizveido sadaļa|Vajadzētu izveidot sadaļu] [jaunajiem iedzīvotājiem|„Jauns Liepājā”] pašvaldības [vietnē|mājaslapā].",
    ],
    "info_channels": [
        "[Informācija|Ziņas] par [pilsētas|pašvaldības] [darbiem|lēmumiem] [nesasniedz|neaizsniedz] [seniorus|vecāka gadagājuma cilvēkus].",
        "[Pašvaldības informatīvais izdevums|Bezmaksas avīze] [jāizplata|jāievieto] [visās pastkastītēs|katrā mājā].",
        "[Sociālajos tīklos|Facebook un Instagram] [informācija pazūd|ziņas noslīkst] [citu ziņu vidū|starp reklāmām].",
        "[Vajag|Gribētos] [e-pasta|SMS] [jaunumu|ziņu] [abonementu|abonēšanu] par [manu apkaimi|svarīgāko pilsētā].",
        "[Mājaslapa|Vietne] liepaja.lv ir [nepārskatāma|sarežģīta], [neko nevar atrast|meklēšana nestrādā].",
        "[Informācijas stendi|Ziņojumu dēļi] [pie veikaliem|apkaimēs] [būtu noderīgi|ir vajadzīgi] [tiem, kam nav interneta|senioriem].",
        "[Vietējā televīzija|Radio] un [vietējie portāli|vietējā avīze] [ir|joprojām ir] [galvenais informācijas avots|svarīgs avots] [daudziem|vecākiem cilvēkiem].",
        "[Telegram kanāls ar svarīgākajām ziņām būtu ērts|Viber kopiena ar aktualitātēm būtu ērta].",
    ],
    "youth_leaving": [
        "[Jaunieši|Jaunieši pēc vidusskolas] [aizbrauc|brauc prom] [uz Rīgu|uz ārzemēm] un [neatgriežas|vairs neatgriežas].",
        "[Jauniešiem|Pusaudžiem] [Liepājā|pilsētā] [nav ko darīt|trūkst vietu, kur pavadīt laiku].",
        "[Vajag jauniešu centru|Nepieciešams jauniešu centrs] [ar bezmaksas aktivitātēm|katrā apkaimē].",
        "[Visi mani klasesbiedri|Gandrīz visi mani draugi] [ir aizbraukuši|dzīvo Rīgā vai ārzemēs].",
        "[Jauniešu viedoklis jāuzklausa|Vajag uzklausīt jauniešu viedokli], [jo tieši viņi aizbrauc|citādi pilsēta novecos].",
        "[Ja jaunieši|Ja jaunas ģimenes] [neredz nākotni|neredz perspektīvu] Liepājā, [pilsēta turpinās sarukt|iedzīvotāju skaits saruks].",
        "[Prakses vietas|Vasaras darbi] [skolēniem|jauniešiem] [Liepājas uzņēmumos|pie vietējiem uzņēmējiem] [palīdzētu viņiem palikt|liktu palikt pilsētā].",
    ],
    "karosta": [
        "Karosta [ir unikāla|varētu būt pilsētas pērle], [bet tā ir aizmirsta|taču tur viss brūk].",
        "[Karostā|Karostas apkaimē] trūkst [kārtīga ielu apgaismojuma|normāla veikala|biežāka autobusa].",
        "[Karostas cietums|Ziemeļu forti|Karostas jūras katedrāle] [jāpopularizē|jāreklamē] [vairāk|kā tūrisma objekts|ārvalstu tūristiem].",
        "[Tilts uz Karostu|Oskara Kalpaka tilts] [bieži ir|ir pārāk bieži] [pacelts|slēgts], [un tad Karosta ir nošķirta|un tas traucē].",
        "[Pamestās|Tukšās] [ēkas|mājas] Karostā [jānojauc|jāsakārto|jāatjauno].",
        "Karostas [iedzīvotāji|cilvēki] jūtas [aizmirsti|atstumti] [no pilsētas|no pašvaldības].",
        "Karostā [varētu|vajadzētu] [izveidot|attīstīt] [radošo kvartālu|mākslinieku rezidences].",
    ],
    "multilingual_info": [
        "[Informācija jāpublicē|Informāciju vajadzētu publicēt] arī [krievu|angļu] valodā, [jo ne visi saprot latviski|jo pilsētā dzīvo daudz cittautiešu].",
        "[Tūristiem vajag informāciju|Ārzemju viesiem nepieciešama informācija] [angļu valodā|vairākās valodās].",
        "[Ārzemniekiem|Ukraiņu ģimenēm|Ārvalstu studentiem] [trūkst|nav] informācijas [angļu valodā|viņiem saprotamā valodā].",
        "[Pašvaldības vietnei vajag pilnu angļu versiju|Visām pilsētas vietnēm jābūt arī angļu valodā].",
        "[Pasākumu|Kultūras pasākumu] [apraksti|afišas] [varētu būt|jāraksta] [divās valodās|arī angliski].",
        "[Divvalodīga|Daudzvalodu] [informācija|komunikācija] [palīdzētu|ļautu] [integrēt|iesaistīt] [visus iedzīvotājus|cittautiešus].",
        "[Vecāka gadagājuma cilvēki|Krievvalodīgie iedzīvotāji] [bieži nesaprot|ne vienmēr saprot] [oficiālos paziņojumus|sarežģītus paziņojumus] latviešu valodā.",
    ],
}, "ru": {
    "rental_shortage": [
        "В Лиепае [очень не хватает|катастрофически не хватает] [арендных квартир|нормального жилья для аренды].",
        "[Молодым семьям|Молодёжи|Специалистам] [невозможно|очень трудно] найти [квартиру|жильё] [по нормальной цене|за разумные деньги].",
        "[Цены на аренду слишком высокие|Арендная плата растёт быстрее зарплат].",
        "[Самоуправлению|Городу] [нужно|надо] строить [муниципальные|социальные] арендные дома.",
        "[Мы с мужем|Наша семья] [полгода|почти год] не могли найти [квартиру|жильё] [в аренду|для съёма].",
        "[Нужен один сайт|Нужен единый портал], где [видны|собраны] все [свободные квартиры|предложения аренды].",
        "Жильё — [главная|самая большая] проблема [города|сейчас].",
    ],
    "renovation_support": [
        "[Нужна|Необходима] [большая|реальная] поддержка [реновации|утепления] [старых домов|многоквартирных домов].",
        "[Жители|Собственники квартир] не знают, [как начать реновацию|куда обращаться по утеплению дома].",
        "[Счета за отопление|Счета за тепло] [огромные|слишком большие], [поэтому|и поэтому] утепление [надо|нужно] поддерживать [активнее|больше].",
        "[Провести|Организовать] [семинары|встречи] [для собственников|для жителей] о [реновации домов|энергоэффективности].",
        "[Самоуправление могло бы|Город мог бы] [покрыть часть расходов|помочь с документами] на [реновацию|ремонт фасадов].",
        "Наш дом [в Северном предместье|в Юго-западном районе|] [хочет пройти реновацию|давно ждёт реновации], но [не хватает информации|непонятно, с чего начать].",
    ],
    "cycling_paths": [
        "[Нужно больше велодорожек|Не хватает безопасных велодорожек] [в городе|между районами].",
        "[Велодорожка|Велосипедная дорожка] [вдоль моря|до Эзеркрастса] [очень нужна|была бы очень кстати].",
        "[Ездить|Кататься] на велосипеде по [улице Клайпедас|улице Ганибу] [опасно|небезопасно].",
        "[Не хватает|Нет] [велопарковок|мест для велосипедов] [у магазинов|у школ|в центре].",
        "Лиепая могла бы стать [настоящим|лучшим] велогородом, если бы велодорожки не обрывались [на полпути|посреди дороги].",
        "[Предлагаю|Предлагаем] [сделать|создать] [карту веломаршрутов|сеть веломаршрутов] и [рассказывать о ней|её популяризировать].",
    ],
    "public_transport": [
        "Трамвай [должен|мог бы] ходить [чаще|и поздно вечером].",
        "[Нужно|Очень нужно] [приложение|мобильное приложение], [где видно трамваи и автобусы|с движением автобусов] в реальном времени.",
        "[Расписание автобусов не согласовано с поездами|Автобусы не согласованы с расписанием трамвая].",
        "На остановках [нет|не хватает] [электронных табло|понятного расписания].",
        "[Автобус до Эзеркрастса|Автобус в Тосмаре] ходит [слишком редко|всего несколько раз в день].",
        "[Проезд должно быть можно оплатить|Хотелось бы оплачивать проезд] [банковской картой|телефоном] [прямо в транспорте|без кассы].",
        "[Пенсионерам|Школьникам] нужны [большие скидки на проезд|бесплатные поездки].",
    ],
    "parking": [
        "В центре [негде поставить машину|невозможно найти парковку].",
        "[Платная парковка в центре слишком дорогая|Плата за парковку в центре слишком высокая].",
        "Во дворах [машины стоят на газонах|ставят машины на газоны], [нужно|надо] [больше парковочных мест|навести порядок с парковкой].",
        "[Нужна многоуровневая парковка|Нужно построить стоянку] [возле центра|у вокзала].",
        "Жителям [центра|своего района] нужны [бесплатные|льготные] [разрешения на парковку|парковочные разрешения].",
        "[Летом|В сезон] у рынка [парковка превращается в хаос|мест для машин нет совсем].",
    ],
    "airport_port": [
        "[Аэропорту|Лиепайскому аэропорту] [нужны|необходимы] регулярные рейсы [в Ригу|в европейские столицы].",
        "[О пароме в Швецию мало кто знает|Паромное сообщение с Германией нужно больше рекламировать].",
        "[Порт|Лиепайский порт] [можно|нужно] [больше|активнее] использовать для [круизных судов|привлечения туристов].",
        "[Без регулярных рейсов|Пока нет регулярных рейсов] [иностранные гости не приедут|деловые люди в Лиепаю не поедут].",
        "[Поезд|Автобус] до Риги [идёт слишком долго|ходит слишком редко], [связь со столицей|сообщение с Ригой] [надо улучшать|нужно улучшить].",
        "[Аэропорт и порт|Порт и аэропорт] — [ворота города|шанс для Лиепаи], [о них надо рассказывать|их нужно продвигать] [и за границей|по всей Латвии].",
    ],
    "parks_beach": [
        "[На пляже|У моря] [не хватает|нужно больше] [скамеек|урн|кабинок для переодевания].",
        "Приморский парк [нужно лучше убирать|надо освещать вечером|стоит обновить].",
        "[Детские площадки|Игровые площадки] [в парках|в районах] [устарели|давно пора обновить].",
        "[Доступ к пляжу|Подход к морю] для [людей на колясках|инвалидных колясок] [надо улучшить|очень неудобный].",
        "[Нужно|Хотелось бы] больше [зелени|деревьев|зелёных зон] в [спальных районах|районах].",
        "Пляж — [наше главное богатство|главная ценность города], [его надо беречь|о нём нужно заботиться].",
    ],
    "street_repair": [
        "[Улицы|Тротуары] в [ужасном|плохом] состоянии, [сплошные ямы|везде ямы].",
        "[Срочно|Надо срочно] [отремонтировать|починить] улицу [Елгавас|Ганибу|Бривибас].",
        "Ремонт улиц [длится|идёт] [слишком долго|месяцами], и [никто не знает, когда закончат|информации нет].",
        "[Жителей|Жителей района] [надо|нужно] заранее [предупреждать|информировать] о [ремонтах|перекрытии улиц].",
        "[Освещение|Уличное освещение] [на маленьких улицах|в районах] [не работает|слишком слабое].",
        "[После зимы|Весной] ямы [не ремонтируют|латают только временно].",
    ],
    "cleanliness": [
        "[В городе|Во дворах] [много мусора|валяется много мусора] [у контейнеров|возле мусорок].",
        "[Нужно больше|Не хватает] контейнеров для [сортировки|раздельного сбора] мусора.",
        "Хозяева собак не убирают [за своими питомцами|за собаками], [нужны штрафы|нужны большие штрафы].",
        "[Предлагаю|Давайте] [чаще|регулярно] [устраивать|проводить] [субботники|толоки] в районах.",
        "[Детей|Школьников] [надо|нужно] [учить сортировать мусор|учить чистоте] [с детства|с малых лет].",
        "[Нелегальные свалки|Незаконные свалки] [в лесу|возле дач] [надо ликвидировать|надо контролировать камерами].",
    ],
    "schools_kindergartens": [
        "Очереди в [детские сады|садик] [слишком длинные|огромные].",
        "[Не хватает|Нет] мест в [детских садах|садиках] [для малышей|для детей с полутора лет].",
        "[Информацию о школах|Информацию об образовательных программах] [надо|нужно] собрать [в одном месте|на одном сайте].",
        "[В школах|Школам] не хватает [учителей|педагогов], [особенно|в том числе] [по математике|по физике].",
        "[Записать ребёнка в садик|Подать заявление в школу] должно быть можно [онлайн|через интернет].",
        "[Кружки для детей должны быть бесплатными|Нужна бесплатная продлёнка в школах].",
    ],
    "university": [
        "Лиепайский университет [нужно|надо] [активнее|больше] [рекламировать|продвигать] [по всей Латвии|и за рубежом].",
        "[Нужны|Необходимы] новые [программы обучения|учебные программы] [в сфере IT|по инженерии|по морскому делу].",
        "[Студентам|Студентам из других городов] [не хватает мест в общежитии|нужно больше общежитий].",
        "Университет [должен|мог бы] [сотрудничать|работать вместе] с [местными предприятиями|заводами], чтобы [студенты проходили практику|была практика].",
        "[Лиепае|Городу] [нужно|пора] стать настоящим студенческим городом.",
        "[Техникум даёт хорошую профессию|Профессиональные школы дают хорошие возможности], [об этом надо рассказывать|это надо популяризировать].",
    ],
    "jobs_wages": [
        "В Лиепае [низкие|очень низкие] зарплаты, [поэтому|и поэтому] [специалисты выбирают Ригу|хорошие специалисты уезжают].",
        "[Не хватает|Нет] [хорошо оплачиваемых|нормальных] рабочих мест [для молодых|для специалистов].",
        "[Нужен|Был бы полезен] [один портал|единый сайт] [с вакансиями|вакансий] [лиепайских предприятий|в Лиепае].",
        "Работодатели [должны|должны бы] платить [больше|конкурентные зарплаты], [иначе|а то] люди [уедут в Ригу|будут работать за границей].",
        "[Самоуправление могло бы|Надо] поддержать [малый бизнес|начинающих предпринимателей] [помещениями|грантами|консультациями].",
        "[Моей дочери|Моему сыну|Мне] [не удалось|не удаётся] найти работу [по специальности|после университета] в Лиепае.",
    ],
    "investors_sez": [
        "[Специальную экономическую зону|Лиепайскую СЭЗ] [надо|нужно] [активнее|больше] рекламировать [иностранным инвесторам|за рубежом].",
        "Инвесторам [нужно одно окно|нужен единый контакт] в самоуправлении.",
        "[Промышленные территории|Производственные площадки] [нужно|надо] [предлагать инвесторам|привести в порядок] [с готовой инфраструктурой|со всеми подключениями].",
        "[Налоговые льготы|Льготы СЭЗ] — [это наше преимущество|наш козырь], [о них надо говорить|их надо показывать] на [инвестиционных форумах|международных выставках].",
        "[Территорию бывшего Металлурга|Территорию Металлурга] [надо|нужно] [развивать|предлагать новым инвесторам].",
        "[Надо|Нужно] привлекать [производства|новые заводы] с [высокой добавленной стоимостью|экспортной продукцией].",
    ],
    "events_calendar": [
        "[Нужен|Очень нужен] [один|единый] календарь [всех мероприятий|событий], [чтобы не искать на разных сайтах|где всё видно сразу].",
        "О [концертах|мероприятиях] [часто|обычно] узнаю [только потом|когда они уже прошли].",
        "[Мероприятия|Крупные мероприятия] [часто совпадают по времени|проходят в одно и то же время], [нужна координация|надо лучше планировать].",
        "[Зимой|Вне сезона] [в городе ничего не происходит|мероприятий очень мало].",
        "[Для детей|Для семей с детьми] [на выходных|по выходным] [мало мероприятий|не хватает мероприятий].",
        "[Календарь мероприятий|Календарь] на сайте [неудобный|непонятный].",
    ],
    "music_brand": [
        "Лиепая — [город музыки|город, где рождается ветер], [и это надо использовать|это нужно показывать везде].",
        "[Концертный зал|Концертный зал Большой янтарь] [нужно|надо] [больше использовать|чаще открывать] для [местных музыкантов|молодых музыкантов].",
        "[Хочется|Надо] [вернуть|возродить] [легендарный|большой] рок-фестиваль [как раньше|как в восьмидесятые].",
        "[Уличным музыкантам|Молодым музыкантам] [нужно|надо дать] больше [возможностей|мест] выступать [в центре|летом].",
        "[Бренд|Имидж] города музыки [сильный|наш самый ценный], но [за пределами Лиепаи о нём мало знают|его надо развивать].",
        "[Летние концерты|Концерты] [на открытой эстраде|у Большого янтаря] [привлекают|привлекали бы] [туристов|гостей со всей Латвии].",
    ],
    "sport_facilities": [
        "[Не хватает|Мало] [современных|хороших] [спортивных площадок|спортзалов] [в районах|у школ].",
        "[Бассейн|Новый бассейн] [очень нужен|нужен] городу, [существующий слишком маленький|нынешний перегружен].",
        "[Беговые дорожки|Дорожки для бега] [с освещением|с покрытием] [вдоль моря|по городу] [очень ждём|очень нужны].",
        "[Хоккейные|Баскетбольные] матчи [надо|нужно] [больше рекламировать|активнее продвигать], [они объединяют город|это наша гордость].",
        "[Спортивные занятия|Тренировки] для [пенсионеров|детей] [должны быть бесплатными|нужны по доступной цене].",
        "[Каток|Общественный каток] [зимой|в зимний сезон] был бы [очень популярен|большой радостью для семей].",
    ],
    "public_meetings": [
        "[Собрания жителей|Встречи с жителями] [надо|нужно] проводить [регулярно|хотя бы раз в квартал].",
        "[Депутаты|Депутаты думы] [должны|должны бы] [чаще встречаться с жителями|встречаться с людьми] [в районах|лично].",
        "[Собрания|Встречи] [надо|лучше] проводить [вечером|после работы], [чтобы работающие могли прийти|а не в рабочее время].",
        "[Общественные обсуждения|Обсуждения] [проходят формально|формальные], [мнение людей не учитывается|никто не слушает].",
        "О [собраниях|обсуждениях] [надо|нужно] [сообщать|объявлять] [заранее|хотя бы за неделю].",
        "[Хочется настоящего диалога|Нужен реальный диалог] [между думой и жителями|с самоуправлением].",
    ],
    "online_participation": [
        "[Нужна|Необходима] [онлайн-платформа|интернет-платформа], где можно [подавать идеи|подавать предложения] и [голосовать|голосовать за них].",
        "[Такие опросы|Опросы] [надо|нужно] проводить [чаще|регулярно] [и публиковать результаты|с публикацией результатов].",
        "[Заседания думы|Заседания комитетов] [надо|нужно] транслировать [онлайн|в интернете][ с субтитрами|].",
        "Бюджет участия — [хорошая идея|отличная инициатива], но [голосование должно быть проще|о нём мало кто знает].",
        "[Должна быть возможность|Хочется] [сообщить о проблеме|отправить жалобу] [с фото|с фотографией] [через приложение|в мобильном приложении].",
        "Ответы самоуправления на [письма|заявления] [приходят слишком медленно|приходится ждать месяц].",
    ],
    "remigration": [
        "[Нужно приглашать уехавших лиепайчан|Надо обращаться к уехавшим лиепайчанам] [с конкретными предложениями|с предложениями работы].",
        "[Многие|Мои друзья] [в Ирландии|в Англии|в Норвегии] [хотели бы вернуться|думают о возвращении], но [не знают, будет ли работа|им не хватает информации].",
        "[Реэмигрантам|Вернувшимся] [нужен|необходим] [свой консультант|координатор в самоуправлении].",
        "Мы вернулись из [Германии|Норвегии|Ирландии] [два года назад|в прошлом году], [и информации было очень мало|и не знали, куда обращаться].",
        "[Студентов, которые учатся в Риге|Тех, кто учится за границей], [надо|нужно] приглашать вернуться [после учёбы|в родной город].",
        "[Нужна кампания для диаспоры|Надо провести кампанию для уехавших за границу] [вместе с диаспорными обществами|в Великобритании и Ирландии].",
    ],
    "welcome_info": [
        "[Новым жителям|Новичкам] [нужен|пригодился бы] [путеводитель|справочник] [по городу|с практической информацией].",
        "[Приветственный набор|Набор новосёла] для новых жителей — [хорошая идея|приятный жест].",
        "[Вся информация|Информация] о [декларировании|декларации места жительства], [семейных врачах|врачах] и [транспорте|налогах] [должна быть в одном месте|нужна в одном месте].",
        "Когда мы переехали в Лиепаю, [мы не знали, где что искать|было трудно понять, куда обращаться].",
        "[Для новых жителей|Для новосёлов] [можно|нужно] [устраивать|организовать] [встречи-знакомства|экскурсии по городу].",
        "[На сайте самоуправления|На сайте города] [нужен|нужен отдельный] раздел [для новых жителей|«Новичок в Лиепае»].",
    ],
    "info_channels": [
        "Информация о [работе самоуправления|решениях думы] не доходит до [пожилых людей|пенсионеров].",
        "[Информационную газету|Бесплатную газету] [надо|нужно] [раскладывать|разносить] по [всем почтовым ящикам|всем домам].",
        "В [соцсетях|Фейсбуке] [информация теряется|новости тонут] среди [рекламы|других постов].",
        "[Нужна|Была бы полезна] [рассылка по e-mail|SMS-рассылка] [о новостях моего района|о главном в городе].",
        "[Сайт|Сайт liepaja.lv] [неудобный|запутанный], [ничего невозможно найти|поиск не работает].",
        "[Телеграм-канал|Канал в Телеграме] с [главными новостями|новостями города] был бы [очень удобен|удобен].",
        "[Информационные стенды|Доски объявлений] [у магазинов|в районах] [нужны|важны] для тех, у кого нет интернета.",
    ],
    "youth_leaving": [
        "[Молодёжь уезжает в Ригу и не возвращается|Молодые люди уезжают за границу и не возвращаются].",
        "[Молодёжи|Подросткам] в Лиепае [нечем заняться|негде проводить время].",
        "[Нужен молодёжный центр|Нужны молодёжные центры] [с бесплатными занятиями|в каждом районе].",
        "[Почти все мои одноклассники|Все мои друзья] [уехали|живут в Риге или за границей].",
        "[Пока молодые семьи не видят|Пока молодёжь не видит] будущего в Лиепае, город будет [уменьшаться|пустеть].",
        "[Летняя работа|Практика] для [школьников|молодёжи] на местных предприятиях [помогла бы|помогла бы им] остаться в городе.",
    ],
    "karosta": [
        "Кароста [уникальна|могла бы стать жемчужиной города], но [о ней забыли|там всё разваливается].",
        "В Каросте [не хватает|нет] [нормального освещения|нормального магазина|частых автобусов].",
        "[Тюрьму Кароста|Северные форты|Морской собор] [надо|нужно] [больше рекламировать|продвигать для туристов].",
        "[Мост в Каросту|Мост Оскара Калпака] [слишком часто|часто] [разведён|закрыт], [и Кароста отрезана|это очень мешает].",
        "[Заброшенные дома|Пустые здания] в Каросте [надо снести|надо привести в порядок].",
        "Жители Каросты [чувствуют себя|себя чувствуют] [забытыми|брошенными] [городом|самоуправлением].",
    ],
    "multilingual_info": [
        "Информацию [надо|нужно] публиковать и на [русском|английском] языке, [ведь не все понимают по-латышски|в городе живёт много людей разных национальностей].",
        "[Пожилые|Русскоязычные] [люди|жители] [часто не понимают|не всегда понимают] [официальные объявления|сложные объявления] на латышском.",
        "[Туристам|Иностранным гостям] [нужна|необходима] информация [на английском|на нескольких языках].",
        "[Украинским семьям|Иностранным студентам] [не хватает|нет] информации [на понятном языке|на английском].",
        "[Сайт самоуправления должен|Все городские сайты должны] быть [и на русском|на нескольких языках].",
        "[Двуязычная|Многоязычная] информация [помогла бы|помогла бы лучше] [интегрировать|вовлечь] [всех жителей|всех горожан].",
    ],
}, "en": {
    "rental_shortage": ["[There are hardly any|It is very hard to find] [rental flats|apartments to rent] in Liepāja [at a reasonable price|for young families].",
                        "The city [should|could] [build|support] [municipal rental housing|new rental buildings]."],
    "renovation_support": ["[Old apartment blocks|Soviet-era buildings] need [renovation support|help with insulation] from the municipality.",
                           "[Heating bills|Energy costs] are [huge|too high], so [renovation|insulation] should be [supported|promoted] more."],
    "cycling_paths": ["[We need|Please build] [more|safer] [bike lanes|cycle paths] [in the city|between neighbourhoods].",
                      "Cycling on [Klaipēdas|Jelgavas] street is [dangerous|not safe]."],
    "public_transport": ["[The tram|The buses] should run [more often|late in the evening too].",
                         "[A real-time app|An app with live times] for [trams and buses|public transport] would be great."],
    "parking": ["[Parking|Finding a parking spot] in the centre is [a nightmare|very hard].",
                "[Residents|Locals] need [parking permits|free parking permits] [near home|in the centre]."],
    "airport_port": ["[Regular flights|More flights] from Liepāja airport [are essential|would bring visitors].",
                     "The [ferry|port] connection [to Sweden|to Germany] should be promoted [more|abroad]."],
    "parks_beach": ["The beach is [the best thing|our biggest asset] in Liepāja, [keep it accessible|please add more benches].",
                    "[Parks|Playgrounds] [need|could use] [better lighting|renovation]."],
    "street_repair": ["[The streets|The pavements] are full of potholes.",
                      "Please [fix|repair] [the roads|the pavements] [in Jaunliepāja|near schools] [first|as soon as possible]."],
    "cleanliness": ["[More|Extra] [recycling bins|containers for sorting waste] [are needed|would help].",
                    "Dog owners [don't|do not] clean up after their dogs[ — fines needed|]."],
    "schools_kindergartens": ["[Kindergarten queues|Waiting lists for kindergartens] are [too long|a real problem].",
                              "[School information|Information about schools] should be [in one place|on one website]."],
    "university": ["Liepāja University should be [promoted|advertised] [abroad|all over Latvia].",
                   "[More|New] [study programmes|courses] in [IT|engineering] [are needed|would attract students]."],
    "jobs_wages": ["Salaries in Liepāja are [too low|much lower than in Riga].",
                   "[We need|There should be] [one job portal|a single vacancy website] for [local companies|Liepāja employers]."],
    "investors_sez": ["The special economic zone should be [marketed|promoted] to [foreign investors|investors abroad] [more actively|much more].",
                      "Investors need [a one-stop shop|a single contact point] at the municipality."],
    "events_calendar": ["[One|A single] calendar [of all events|for all concerts and events] would be [very useful|great].",
                        "I [often|usually] find out about events [too late|after they happen]."],
    "music_brand": ["Liepāja is [the city of music|where the wind is born] — [use it in marketing|make more of it].",
                    "[Bring back|Revive] [the big rock festival|Liepājas Dzintars][ like in the old days|]."],
    "sport_facilities": ["[A new swimming pool would be|More sports grounds would be] [very welcome|a great help].",
                         "[Running tracks|Outdoor gyms] [by the sea|in the neighbourhoods] would be great."],
    "public_meetings": ["[Neighbourhood meetings|Meetings with residents] should be held [regularly|every few months].",
                        "Council members should meet residents [in person|more often]."],
    "online_participation": ["[An online platform|A website] to [submit ideas|propose projects] and vote on them would [increase participation|be great].",
                             "Please [stream|broadcast] council meetings online."],
    "remigration": ["[Many of my friends|People who left] [in Ireland|in the UK|in Norway] would [come back|return] if there were [jobs|clear information].",
                    "[Returning emigrants|Remigrants] need [a contact person|a coordinator] at the city."],
    "welcome_info": ["[A welcome pack|A guide] for newcomers [is a lovely idea|would help a lot].",
                     "When we moved here it was hard to find [basic information|where to register and find a doctor]."],
    "info_channels": ["[The website liepaja.lv|The city website] is [confusing|hard to use].",
                      "[A newsletter|An e-mail newsletter] about [my neighbourhood|city news] would be [useful|nice]."],
    "youth_leaving": ["Young people [leave|move away] [to Riga|abroad] and [don't come back|never return].",
                      "[Teenagers|Young people] have [nothing to do|nowhere to go] in Liepāja."],
    "karosta": ["Karosta [is unique|has huge potential] but [it is neglected|looks abandoned].",
                "[Karosta prison|The Northern Forts] should be promoted [to tourists|more]."],
    "multilingual_info": ["Please publish [information|news] in English too, [there are many foreigners here|not everyone speaks Latvian].",
                          "[Tourists|Foreign students] need information in English."],
}}

OPENERS = {"lv": ["Manuprāt, ", "Mans priekšlikums: ", "Domāju, ka ", "Uzskatu, ka ", "Ierosinājums: ", "Pēc manām domām, "],
           "ru": ["По-моему, ", "Моё предложение: ", "Думаю, что ", "Считаю, что ", "Предложение: "],
           "en": ["I think ", "In my opinion, ", "Suggestion: "]}
CONNECTORS = {"lv": ["Turklāt ", "Kā arī ", "Un vēl — ", "Tāpat ", "Otrkārt, "],
              "ru": ["Кроме того, ", "Также ", "И ещё: ", "Во-вторых, "],
              "en": ["Also, ", "Besides, ", "And "]}
FILLERS = {"lv": ["Paldies par iespēju izteikties!", "Paldies par aptauju.", "Ceru, ka mūsu viedoklis tiks ņemts vērā.",
                  "Dzīvoju šeit jau vairāk nekā 20 gadus.", "Tas ir mans viedoklis.", "Veiksmi!", "Ļoti ceru uz pārmaiņām.",
                  "Paldies!"],
           "ru": ["Спасибо за возможность высказаться!", "Спасибо за опрос.", "Надеюсь, наше мнение учтут.",
                  "Живу здесь больше 20 лет.", "Это моё мнение.", "Удачи!", "Спасибо!"],
           "en": ["Thanks for asking!", "Just my opinion.", "Good luck!"]}
NOTHING = {"lv": ["Nav.", "nav", "Nav priekšlikumu.", "Nezinu.", "Viss ir labi."],
           "ru": ["Нет.", "нет", "Нет предложений.", "Не знаю.", "Всё хорошо."],
           "en": ["No.", "Nothing to add."]}
# Words that keep their capital after an opener or connector (proper names, abbreviations)
_PROPER = ("Liepāj", "Karost", "Oskara", "Metalurg", "LiepU", "SEZ", "Telegram", "Viber", "Facebook", "Ziemeļu",
           "Jelgav", "Ganību", "Klaipēd", "Brīvības", "Jaunliepāj", "Ezerkrast", "Tosmar", "Zaļ", "Vecliepāj",
           "Jūrmalas", "Lielais", "Лиепа", "Карост", "Приморск", "I ", "Liepāja", "Karosta")

# Latvian diacritics as typed on a keyboard without a Latvian layout
_STRIP = str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ")

# --------------------------------------------------------------------------------------------
# The synthetic population (same numbers as params/population/liepaja-synthetic.yaml) and the
# self-selection of who answers a municipal web survey
# --------------------------------------------------------------------------------------------
POPULATION: dict[str, dict[str, int]] = {
    "gender": {"female": 36300, "male": 30700},
    "age_group": {"lt18": 2300, "18_24": 5200, "25_34": 9400, "35_44": 10100, "45_54": 10300,
                  "55_64": 11200, "65_74": 10000, "75plus": 8500},
    "district": {"vecliepaja": 6500, "jaunliepaja": 9800, "jauna_pasaule": 4300, "dienvidrietumi": 15800,
                 "ezerkrasts": 6900, "ziemelu_priekspilseta": 7700, "karosta": 5200, "tosmare": 4600,
                 "zala_birze": 6200},
}
PROPENSITY: dict[str, dict[str, float]] = {
    "gender": {"female": 2.0, "male": 1.0},
    "age_group": {"lt18": 0.35, "18_24": 0.8, "25_34": 1.5, "35_44": 1.7, "45_54": 1.4, "55_64": 0.9,
                  "65_74": 0.5, "75plus": 0.15},
    "district": {"vecliepaja": 1.2, "jaunliepaja": 1.0, "jauna_pasaule": 1.0, "dienvidrietumi": 0.9,
                 "ezerkrasts": 0.9, "ziemelu_priekspilseta": 1.0, "karosta": 1.4, "tosmare": 1.0,
                 "zala_birze": 1.0},
}
UNDISCLOSED_GENDER = 0.025
TARGET_GROUP = {"resident": 0.79, "future_resident": 0.075, "visitor": 0.08, "investor": 0.035, "other": 0.02}

# --------------------------------------------------------------------------------------------
# The rating model (latent normal, total within-group SD 1) and the planted effects
# --------------------------------------------------------------------------------------------
SECTOR_MEAN = {"housing": 0.45, "urban": 0.45, "mobility": 0.30, "education": 0.20, "culture": 0.15,
               "business": 0.05, "newcomers": -0.05, "participation": -0.30}
ITEM_OFFSET = {"housing_1": 0.10, "housing_3": -0.10, "mobility_2": 0.15, "mobility_3": -0.15,
               "urban_3": 0.05, "education_3": -0.10, "business_2": 0.15, "business_4": -0.20,
               "culture_3": 0.10, "participation_4": 0.15, "newcomers_4": -0.15}
SD_RESPONDENT = math.sqrt(0.30)          # random intercept: all items of a respondent
SD_RESP_SECTOR = math.sqrt(0.21)         # respondent x sector: items within a sector correlate more
SD_ITEM = math.sqrt(0.49)                # item noise
CUTS = [-1.9, -1.15, -0.35, 0.55]        # latent -> 1..5
DONT_KNOW = {"default": 0.06, "mobility_3": 0.12, "business_4": 0.16, "participation_1": 0.13,
             "education_3": 0.10, "newcomers_4": 0.11}
SKIP_SECTOR = 0.02                       # a respondent skips a whole Likert question
SKIP_ITEM = 0.012                        # one statement left empty

EFFECTS: list[dict[str, Any]] = [
    {"id": "age_cycling", "grouping": "age_group", "items": ["mobility_1"], "direction": "younger rate higher",
     "shift": {"lt18": 0.7, "18_24": 0.7, "25_34": 0.45, "35_44": 0.15, "45_54": -0.1, "55_64": -0.35,
               "65_74": -0.6, "75plus": -0.7}},
    {"id": "age_calendar", "grouping": "age_group", "items": ["culture_1"], "direction": "younger rate higher",
     "shift": {"lt18": 0.6, "18_24": 0.6, "25_34": 0.35, "35_44": 0.1, "45_54": -0.1, "55_64": -0.3,
               "65_74": -0.5, "75plus": -0.6}},
    {"id": "age_discounts", "grouping": "age_group", "items": ["culture_2"], "direction": "older rate higher",
     "shift": {"lt18": -0.2, "18_24": -0.3, "25_34": -0.3, "35_44": -0.15, "45_54": 0.0, "55_64": 0.3,
               "65_74": 0.6, "75plus": 0.7}},
    {"id": "gender_women", "grouping": "gender", "items": ["culture_4", "housing_2"], "direction": "women rate higher",
     "shift": {"female": 0.5, "male": 0.0, "undisclosed": 0.0}},
    {"id": "newcomers_target", "grouping": "target_group",
     "items": ["newcomers_1", "newcomers_2", "newcomers_3", "newcomers_4"],
     "direction": "future residents and visitors rate higher",
     "shift": {"resident": 0.0, "future_resident": 0.8, "visitor": 0.6, "investor": 0.0, "other": 0.0}},
    {"id": "karosta_urban", "grouping": "district", "items": ["urban_1"], "direction": "Karosta residents rate higher",
     "shift": {"karosta": 0.9}},
    {"id": "children_portal", "grouping": "children", "items": ["education_1"],
     "direction": "households with children rate higher", "shift": {"yes": 0.6, "no": 0.0}},
    {"id": "russian_calendar", "grouping": "info_language", "items": ["culture_1"],
     "direction": "those who want information in Russian rate higher", "shift": {"ru": 0.5}, "multi": True},
    {"id": "students_open_days", "grouping": "occupation", "items": ["education_2"],
     "direction": "pupils and students rate higher", "shift": {"student": 1.0}},
    {"id": "higher_ed_sez", "grouping": "education", "items": ["business_4"],
     "direction": "those with higher education rate higher", "shift": {"higher": 0.6}},
]
OUTCOMES = {
    "life_satisfaction": {"formula": "clip(round(6.9 + 1.5 * L), 1, 10), L = 0.5*z_urban + 0.3*z_culture + N(0, 0.8)",
                          "coefficients": {"z_urban": 0.5, "z_culture": 0.3}, "noise_sd": 0.8,
                          "intercept": 6.9, "scale": 1.5, "range": [1, 10]},
    "recommend": {"formula": "clip(round(6.9 + 2.1 * (0.8*L + 0.3*z_newcomers + N(0, 0.6))), 0, 10)",
                  "coefficients": {"L": 0.8, "z_newcomers": 0.3}, "noise_sd": 0.6,
                  "intercept": 6.9, "scale": 2.1, "range": [0, 10]},
    "note": "z_<sector> = (u + v_sector) / sd, the respondent's latent attitude to a sector; so life "
            "satisfaction rises with the urban and culture ratings (and not with other sectors given those).",
}

# --------------------------------------------------------------------------------------------
# Personal data and hostile strings planted in texts
# --------------------------------------------------------------------------------------------
NAMES = {"lv": ["Jānis Bērziņš", "Anna Kalniņa", "Pēteris Ozols", "Līga Ozoliņa", "Mārtiņš Liepiņš",
                "Ilze Krūmiņa", "Andris Vītols", "Inese Zariņa", "Kristaps Jansons", "Dace Kļaviņa",
                "Raimonds Celms", "Sanita Pētersone"],
         "ru": ["Ольга Иванова", "Сергей Петров", "Наталья Смирнова", "Дмитрий Кузнецов", "Ирина Соколова",
                "Алексей Попов"],
         "en": ["John Smith", "Emma Wilson", "Lukas Müller"]}
TRANSLIT = {"ā": "a", "č": "c", "ē": "e", "ģ": "g", "ī": "i", "ķ": "k", "ļ": "l", "ņ": "n", "š": "s", "ū": "u",
            "ž": "z", "ü": "u", "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
            "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
            "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch",
            "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya"}
MAIL_DOMAINS = {"lv": ["inbox.lv", "gmail.com", "apollo.lv", "tvnet.lv", "outlook.com"],
                "ru": ["mail.ru", "gmail.com", "inbox.lv", "yandex.ru"],
                "en": ["gmail.com", "outlook.com", "web.de"]}
HOSTILE = [
    {"kind": "html", "value": "<script>alert(1)</script>"},
    {"kind": "html", "value": "<img src=x onerror=alert(1)>"},
    {"kind": "html", "value": "<b>bold</b>"},
    {"kind": "formula", "value": '=HYPERLINK("http://x","y")'},
    {"kind": "formula", "value": "+371 29123456"},
    {"kind": "formula", "value": "-2+3"},
    {"kind": "formula", "value": "@SUM(A1)"},
]
PII_SENTENCES = {
    "lv": {"name": ["Esmu {v}, dzīvoju šeit kopš bērnības.", "Ar cieņu, {v}", "Ja ir jautājumi, sazinieties ar {v}."],
           "email": ["Mans e-pasts: {v}", "Rakstiet uz {v}, ja vajag sīkāk.", "Varat man rakstīt: {v}."],
           "phone": ["Zvaniet: {v}", "Mans tālrunis {v}.", "Tālr. {v}, labprāt pastāstīšu vairāk."],
           "personal_code": ["Mans personas kods ir {v}, ja vajag pārbaudīt, ka esmu iedzīvotājs.",
                             "P.k. {v}"],
           "iban": ["Esmu gatavs ziedot, mans konts {v}.", "Atbalstam var pārskaitīt uz {v}."]},
    "ru": {"name": ["Меня зовут {v}.", "С уважением, {v}", "Если будут вопросы, обращайтесь к {v}."],
           "email": ["Мой e-mail: {v}", "Пишите на {v}."],
           "phone": ["Звоните: {v}", "Мой телефон {v}."],
           "personal_code": ["Мой персональный код {v}."],
           "iban": ["Счёт для пожертвований: {v}."]},
    "en": {"name": ["My name is {v}."], "email": ["Write to me at {v}."], "phone": ["Call me: {v}."],
           "personal_code": ["My personal code is {v}."], "iban": ["Donations: {v}."]},
}
OCCUPATION_OTHER = {"lv": ["Mājsaimniece", "Bērna kopšanas atvaļinājumā", "Strādāju ārzemēs", "Jūrnieks",
                           "Strādāju un mācos", "Zemnieks", "Brīvprātīgais darbs", "Invalīds"],
                    "ru": ["Домохозяйка", "В декрете", "Моряк", "Работаю за границей", "Работаю и учусь"]}
CHANNEL_OTHER = {"lv": ["Facebook grupa", "Telegram", "Kaimiņi", "Darbā", "Instagram", "Baznīcā", "TikTok"],
                 "ru": ["Телеграм", "Соседи", "ВКонтакте", "На работе", "Одноклассники"]}


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _wpick(rng: np.random.Generator, weights: dict):
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


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
GROUPINGS = ["target_group", "district", "years_in_city", "age_group", "gender", "education", "occupation",
             "children", "info_language"]
SINGLES = ["target_group", "district", "years_in_city", "age_group", "gender", "education", "occupation", "children"]
_EDUCATION = {"young": {"basic": 0.85, "secondary": 0.15},
              "18_24": {"basic": 0.05, "secondary": 0.45, "vocational": 0.2, "higher": 0.3},
              "adult": {"basic": 0.03, "secondary": 0.22, "vocational": 0.22, "higher": 0.53},
              "old": {"basic": 0.1, "secondary": 0.3, "vocational": 0.3, "higher": 0.3}}
_OCCUPATION = {"lt18": {"student": 0.95, "employed": 0.05},
               "18_24": {"student": 0.5, "employed": 0.4, "unemployed": 0.05, "self_employed": 0.03, "other": 0.02},
               "adult": {"employed": 0.76, "self_employed": 0.12, "unemployed": 0.05, "student": 0.03, "other": 0.04},
               "55_64": {"employed": 0.7, "self_employed": 0.1, "retired": 0.08, "unemployed": 0.07, "other": 0.05},
               "old": {"retired": 0.82, "employed": 0.12, "self_employed": 0.03, "other": 0.03},
               "investor": {"self_employed": 0.8, "employed": 0.15, "other": 0.05}}
_CHILDREN = {"lt18": 0.9, "18_24": 0.25, "25_34": 0.55, "35_44": 0.72, "45_54": 0.45, "55_64": 0.15,
             "65_74": 0.08, "75plus": 0.05}
_YEARS = {"young": {"lifelong": 0.7, "6_10": 0.15, "1_5": 0.1, "lt1": 0.05},
          "adult": {"lifelong": 0.38, "gt10": 0.36, "6_10": 0.10, "1_5": 0.11, "lt1": 0.05}}
_CHANNELS = {"website": 0.45, "social_media": 0.55, "local_news": 0.5, "tv_radio": 0.2, "word_of_mouth": 0.4,
             "posters": 0.2, "newsletter": 0.15, "other": 0.04}
_INFO_LANGUAGE = {"lv": {"lv": 0.97, "ru": 0.15, "en": 0.08, "uk": 0.01, "other": 0.005},
                  "ru": {"ru": 0.95, "lv": 0.30, "en": 0.06, "uk": 0.05, "other": 0.01}}
MISSING_SINGLE = 0.015
MISSING_MULTI = {"info_language": 0.015, "info_channels": 0.025}
MISSING_RATING = 0.03
TEXT_RATE = {"proposal_housing": 0.25, "proposal_mobility": 0.28, "proposal_urban": 0.30,
             "proposal_education": 0.17, "proposal_business": 0.18, "proposal_culture": 0.22,
             "proposal_participation": 0.15, "proposal_newcomers": 0.16, "proposal_other": 0.20}
TEXT_LANGUAGE = {"lv": {"lv": 0.93, "ru": 0.04, "en": 0.03}, "ru": {"ru": 0.86, "lv": 0.09, "en": 0.05}}
NO_DIACRITICS = 0.15
TYPO_RATE = 0.08
CONTACT_RATE = 0.07


def _sample_share(var: str) -> dict[str, float]:
    return {k: POPULATION[var][k] * PROPENSITY[var][k] for k in POPULATION[var]}


def _new_respondent(rng: np.random.Generator, form: str, key: str) -> dict[str, Any]:
    c: dict[str, Any] = {}
    tg = _wpick(rng, TARGET_GROUP)
    c["target_group"] = tg
    c["gender"] = "undisclosed" if rng.random() < UNDISCLOSED_GENDER else _wpick(rng, _sample_share("gender"))
    age = _wpick(rng, _sample_share("age_group"))
    if tg == "investor" and age in ("lt18", "18_24"):
        age = "35_44"
    c["age_group"] = age
    in_city = {"resident": 1.0, "investor": 0.6, "future_resident": 0.06, "visitor": 0.06, "other": 0.5}[tg]
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
         "problems": [], "override": {}, "notes": {}}
    # what the respondent left empty (the true codes stay for the planted effects)
    for v in SINGLES:
        r["answered"][v] = rng.random() >= MISSING_SINGLE
    for v, p in MISSING_MULTI.items():
        r["answered"][v] = rng.random() >= p
    return r


def _effect_matrix(rows: list[dict], items: list[str]) -> np.ndarray:
    eff = np.zeros((len(rows), len(items)))
    col = {it: j for j, it in enumerate(items)}
    for i, r in enumerate(rows):
        for e in EFFECTS:
            if e.get("multi"):
                level_shift = sum(s for lev, s in e["shift"].items() if lev in r[e["grouping"]])
            else:
                level_shift = e["shift"].get(r["codes"][e["grouping"]], 0.0)
            for it in e["items"]:
                eff[i, col[it]] += level_shift
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
    for i, r in enumerate(rows):
        for attempt in range(100):
            scores = np.digitize(latent_fixed[i] + e[i], CUTS) + 1
            vals = [None if skip[i, j] else "dk" if dk[i, j] else int(scores[j]) for j in range(len(items))]
            if not _is_straight(vals):
                break
            e[i] = rng.normal(0, SD_ITEM, len(items))           # an accidental straight-liner: draw again
        r["likert"] = dict(zip(items, vals))
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


def _completion(rng: np.random.Generator) -> dt.datetime:
    day = int(rng.choice(_DAY_COUNT, p=_DAY_W / _DAY_W.sum()))
    hour = int(rng.choice(24, p=_HOUR_W / _HOUR_W.sum()))
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
TEXT_EFFECTS = [
    {"theme": "karosta", "grouping": "district", "level": "karosta",
     "description": "Karosta residents add the karosta theme to a sector proposal with probability 0.35 "
                    "(others rarely mention Karosta)"},
    {"theme": "multilingual_info", "grouping": "form_language", "level": "ru",
     "description": "multilingual_info is 4x as likely as a second theme in Russian texts and Russian-form answers"},
    {"theme": "youth_leaving", "grouping": "age_group", "level": ["lt18", "18_24"],
     "description": "youth_leaving is 3x as likely as a second theme for respondents under 25"},
]


def _themes_for(rng: np.random.Generator, variable: str, r: dict, lang: str, cb: Codebook) -> list[str]:
    cross = {"info_channels": 1.0, "youth_leaving": 1.0, "karosta": 0.25, "multilingual_info": 0.6}
    if r["codes"]["age_group"] in ("lt18", "18_24"):
        cross["youth_leaving"] *= 3
    if r["codes"]["district"] == "karosta":
        cross["karosta"] *= 12
    if lang == "ru" or r["form"] == "ru":
        cross["multilingual_info"] *= 4
    if variable == "proposal_other":
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
    if r["codes"]["district"] == "karosta" and rng.random() < 0.35:
        themes.append("karosta")
    elif rng.random() < 0.3:
        rest = [t for t in own if t not in themes]
        if rest and rng.random() < 0.5:
            themes.append(_pick(rng, rest))
        else:
            themes.append(_wpick(rng, cross))
    return themes


def _survey_text(rng: np.random.Generator, variable: str, r: dict, cb: Codebook) -> dict[str, Any]:
    lang = _wpick(rng, TEXT_LANGUAGE[r["form"]])
    if rng.random() < 0.06:
        return {"variable": variable, "lang": lang, "themes": [], "text": _pick(rng, NOTHING[lang]),
                "diacritics": True, "typo": False, "pii": [], "hostile": []}
    themes = _themes_for(rng, variable, r, lang, cb)
    text = compose_text(rng, lang, themes)
    diacritics = True
    if lang == "lv" and rng.random() < NO_DIACRITICS:
        text, diacritics = strip_diacritics(text), False
    typo = rng.random() < TYPO_RATE
    if typo:
        text = _typo(rng, text)
    return {"variable": variable, "lang": lang, "themes": themes, "text": text, "diacritics": diacritics,
            "typo": typo, "pii": [], "hostile": []}


def _plant_pii(rng: np.random.Generator, rec: dict, kind: str) -> None:
    lang = rec["lang"]
    value = {"name": lambda: _pick(rng, NAMES[lang]),
             "email": lambda: _email_of(rng, _pick(rng, NAMES[lang]), lang),
             "phone": lambda: _phone(rng, landline=rng.random() < 0.2),
             "personal_code": lambda: _personal_code(rng),
             "iban": lambda: _iban(rng)}[kind]()
    sentence = _pick(rng, PII_SENTENCES[lang][kind]).format(v=value)
    rec["text"] = f"{rec['text']} {sentence}" if rng.random() < 0.75 or kind == "name" else f"{sentence} {rec['text']}"
    rec["pii"].append({"type": kind, "value": value})


def _plant_hostile(rng: np.random.Generator, rec: dict, h: dict) -> None:
    value = h["value"]
    if h["kind"] == "formula":
        lead = {"=": "", "+": " — zvaniet, ja vajag vairāk ideju." if rec["lang"] == "lv" else " — звоните.",
                "-": " ", "@": " "}[value[0]]
        rec["text"] = f"{value}{lead} {rec['text']}"
        rec["text"] = re.sub(r"  +", " ", rec["text"])
        if value.startswith("+371"):
            rec["pii"].append({"type": "phone", "value": value})
    else:
        rec["text"] = f"{rec['text']} {value}"
    rec["hostile"].append({"kind": h["kind"], "value": value, "at_start": h["kind"] == "formula"})


# --------------------------------------------------------------------------------------------
# Planted data-quality problems
# --------------------------------------------------------------------------------------------
PROBLEM_KINDS = ["duplicate", "speeder", "straightliner", "late", "empty", "unknown_label", "alias_label", "pii_meta"]
EXCLUDING = {"duplicate", "speeder", "straightliner", "late", "empty"}    # rows not "clean" for effect checks
_HYPHENABLE = {"age_group": ["18_24", "25_34", "35_44", "45_54", "55_64", "65_74"], "years_in_city": ["1_5", "6_10"]}


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
        r["problems"].append("speeder")
        r["duration"] = int(rng.integers(35, 111))
        for it in items:                                           # clicks through at random
            x = int(rng.integers(0, 7))
            r["likert"][it] = None if x == 6 else "dk" if x == 5 else x + 1
    for i in take(counts["straightliner"]):
        r = rows[i]
        r["problems"].append("straightliner")
        score = int(rng.choice([5, 4, 3, 5, 1]))
        r["likert"] = {it: score for it in items}
        r["notes"]["straight_score"] = score
    for j, i in enumerate(take(counts["late"])):
        r = rows[i]
        r["problems"].append("late")
        if j == 0:
            r["completion"] = DEADLINE + dt.timedelta(seconds=8 if form == "lv" else 95)
            r["duration"] = max(r["duration"], 400)
        else:
            r["completion"] = DEADLINE + dt.timedelta(seconds=int(rng.integers(3600, 4 * 86400)))
    for i in take(counts["empty"]):
        r = rows[i]
        r["problems"].append("empty")
        r["answered"] = {k: False for k in r["answered"]}
        r["likert"] = {it: None for it in items}
        r["life_satisfaction"] = r["recommend"] = None
        r["occupation_text"] = r["channel_text"] = None
    for i in take(counts["unknown_label"]):
        r = rows[i]
        r["problems"].append("unknown_label")
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
        r["override"][var] = bad
        r["notes"]["unknown"] = {"variable": var, "label": bad, "intended": intended}
    alias_vars = ["age_group"] + (["years_in_city"] if form == "lv" else [])
    for i in take(counts["alias_label"], lambda r: any(r["answered"][v] and r["codes"][v] in _HYPHENABLE[v]
                                                         for v in alias_vars)):
        r = rows[i]
        r["problems"].append("alias_label")
        var = _pick(rng, [v for v in alias_vars if r["answered"][v] and r["codes"][v] in _HYPHENABLE[v]])
        label = cb.label_of(var, r["codes"][var], form).replace("\u2013", "-")
        r["override"][var] = label
        r["notes"]["alias"] = {"variable": var, "label": label, "code": r["codes"][var]}
    for i in take(counts["pii_meta"]):
        r = rows[i]
        r["problems"].append("pii_meta")
        name = _pick(rng, NAMES[form])
        r["name"], r["email"] = name, _email_of(rng, name, form)
    originals = take(counts["duplicate"], lambda r: r["completion"] < DEADLINE - dt.timedelta(days=2))
    if form == "lv":                                                    # a clean answer one second-scale before the deadline
        (i,) = take(1)
        rows[i]["completion"] = DEADLINE - dt.timedelta(seconds=28)
        rows[i]["notes"]["boundary"] = True
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


def _cells(r: dict, cb: Codebook, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for var in SINGLES:
        if not r["answered"][var]:
            out[var] = None
        elif var == "occupation" and r["codes"][var] == "other":
            out[var] = r["occupation_text"]
        else:
            out[var] = cb.label_of(var, r["codes"][var], lang)
    out["info_language"] = (_multi_cell(cb, "info_language", r["info_language"], lang, None)
                            if r["answered"]["info_language"] else None)
    out["info_channels"] = (_multi_cell(cb, "info_channels", r["info_channels"], lang, r["channel_text"])
                            if r["answered"]["info_channels"] else None)
    out["life_satisfaction"], out["recommend"] = r["life_satisfaction"], r["recommend"]
    for it, val in r["likert"].items():
        out[it] = (None if val is None else cb.scale_of(it).dont_know[lang] if val == "dk"
                   else cb.label_of(it, val, lang))
    for var in [v.name for v in cb.of_type("text")]:
        out[var] = r["texts"][var]["text"] if var in r["texts"] else None
    out["contact"] = r["contact"]
    out.update(r["override"])
    return out


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


def write_forms_xlsx(path: Path, headers: list[str], rows: list[list[Any]]) -> None:
    """One sheet as Forms exports it: header row, date-time cells, text kept as text."""
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(headers)
    date_cols = {i + 1 for i, h in enumerate(headers) if h in ("Start time", "Completion time", "Last modified time")}
    for values in rows:
        ws.append(values)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"                                # text that looks like a formula stays text
            elif cell.column in date_cols and cell.value is not None:
                cell.number_format = DATE_FORMAT
    wb.properties.creator = "Microsoft Forms (synthetic: analysis.synth)"
    wb.properties.lastModifiedBy = None
    wb.properties.created = FIXED_WORKBOOK_TIME
    wb.properties.modified = FIXED_WORKBOOK_TIME
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        ExcelWriter(wb, z).write_data()
    Path(path).write_bytes(_normalize_zip(buf.getvalue()))


# --------------------------------------------------------------------------------------------
# E-mailed proposals
# --------------------------------------------------------------------------------------------
DEPARTMENT = ("Sabiedrisko attiecību un mārketinga nodaļa", "marketings@liepaja.example")
GREETINGS = {"lv": ["Labdien!", "Sveiki,", "Labdien,", "Labvakar!", "Sveicināti!", "Cienījamie kolēģi!"],
             "ru": ["Здравствуйте!", "Добрый день!", "Добрый день,"],
             "en": ["Hello,", "Dear Sir or Madam,", "Hi,"]}
INTROS = {"lv": ["Vēlos iesniegt savus priekšlikumus mārketinga plānam.", "Nosūtu dažas idejas par Liepājas attīstību.",
                 "Redzēju aicinājumu iesniegt priekšlikumus, tāpēc rakstu.", None],
          "ru": ["Хочу отправить свои предложения к плану маркетинга.", "Посылаю несколько идей для Лиепаи.", None],
          "en": ["I saw the call for proposals and would like to share some ideas.", None]}
CLOSINGS = {"lv": ["Ar cieņu,", "Paldies!", "Ar labākajiem vēlējumiem,", "Visu labu,"],
            "ru": ["С уважением,", "Спасибо!", "Всего доброго,"],
            "en": ["Best regards,", "Kind regards,", "Thanks,"]}
FOOTERS = {"lv": ["Nosūtīts no mana iPhone", "Nosūtīts no Samsung Galaxy viedtālruņa"],
           "ru": ["Отправлено с iPhone"], "en": ["Sent from my iPhone"]}
PHONE_LABEL = {"lv": ["tālr. ", "Tel.: ", "mob. ", ""], "ru": ["Тел.: ", "моб. "], "en": ["Phone: ", "Tel. "]}
SUBJECTS = {"lv": ["Priekšlikumi mārketinga plānam", "Ierosinājumi Liepājas attīstībai", "Par mārketinga un komunikācijas plānu",
                   "Mani priekšlikumi", "Ideja pilsētai", "Priekšlikums", "Sabiedriskā apspriešana — priekšlikumi"],
            "ru": ["Предложения по плану маркетинга", "Мои предложения", "Идея для города"],
            "en": ["Suggestions for the marketing plan", "Ideas for Liepāja"]}
ACK = {"lv": ["Labdien!", "Paldies par Jūsu interesi. Priekšlikumus mārketinga un komunikācijas plānam var iesūtīt "
              "līdz 27. februārim.", "Ar cieņu,", "Sabiedrisko attiecību un mārketinga nodaļa"],
       "en": ["Hello,", "Thank you for your interest. Proposals for the marketing and communication plan can be sent "
              "until 27 February.", "Kind regards,", "Public relations and marketing department"]}
LV_MONTHS = {1: "janvārī", 2: "februārī", 3: "martā"}
EN_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
EN_MONTHS = {1: "Jan", 2: "Feb", 3: "Mar"}
ATTACHMENTS = {"lv": [("Priekšlikumi.pdf", "application", "pdf"), ("Idejas_Liepājai.docx", "application",
                       "vnd.openxmlformats-officedocument.wordprocessingml.document"), ("priekslikumi_2022.pdf", "application", "pdf")],
               "ru": [("Предложения.docx", "application", "vnd.openxmlformats-officedocument.wordprocessingml.document")],
               "en": [("ideas.pdf", "application", "pdf")]}
RIGA_TZ = dt.timezone(dt.timedelta(hours=2))                   # EET; no daylight saving in January–February


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


def _make_emails(rng: np.random.Generator, n_email: int, seed: int) -> tuple[list[EmailMessage], list[dict]]:
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
        lang = _wpick(rng, {"lv": 0.72, "ru": 0.18, "en": 0.10})
        if f in ("quote_lv", "cp1257_qp", "nodiac"):
            lang = "lv"
        elif f in ("ru", "en"):
            lang = f
        name = _pick(rng, NAMES[lang])
        addr = _email_of(rng, name, lang)
        if i in late_at:
            when = dt.datetime(2022, 2, 28, int(rng.integers(7, 12)), int(rng.integers(60)), int(rng.integers(60)))
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
            ack_time = max(ack_time, dt.datetime(2022, 1, 10, 9, 0))
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
            msg["In-Reply-To"] = f"<ack.{i:04d}@liepaja.example>"
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
                part.set_boundary(f"=_liepaja_{seed}_{i:04d}_{k}")
        messages.append(msg)
        truth.append({
            "index": i, "message_id": msg["Message-ID"], "from_name": name, "from_address": addr,
            "date": msg["Date"], "date_riga": when.isoformat(), "late": when > DEADLINE, "subject": subject,
            "lang": lang, "structure": ("mixed/" + structure) if attach else structure,
            "content_type": msg.get_content_type(), "parts": parts, "attachments": attachments,
            "greeting": greeting, "intro": intro, "closing": closing,
            "signature": {"name": name, "phone": phone}, "mobile_footer": footer,
            "quoted": quoted, "quote_header": quote[0] if quote else None,
            "themes": themes, "text": core, "paragraphs": paragraphs, "diacritics": diacritics,
            "pii": pii, "hostile": hostile,
        })
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
    cands = [(form, i, var) for form in ("lv", "ru") for i, r in enumerate(forms[form])
             if not r["problems"] for var in sorted(r["texts"]) if r["texts"][var]["themes"]]
    n_pii = int(np.clip(round(n / 50), 6, 24))
    need = n_pii + len(HOSTILE)
    if len(cands) < need:
        raise ValueError(f"too few texts ({len(cands)}) to plant {need} personal data and hostile strings")
    chosen = [cands[int(i)] for i in rng.choice(len(cands), size=need, replace=False)]
    kinds = ["name", "email", "phone", "personal_code", "iban", "phone", "name", "personal_code"]
    for k, (form, i, var) in enumerate(chosen[:n_pii]):
        _plant_pii(rng, forms[form][i]["texts"][var], kinds[k % len(kinds)])
    for h, (form, i, var) in zip(HOSTILE, chosen[n_pii:]):
        _plant_hostile(rng, forms[form][i]["texts"][var], h)


def _cronbach(x: np.ndarray) -> float:
    k = x.shape[1]
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def _observed(rows: list[dict], cb: Codebook) -> dict[str, Any]:
    clean = [r for r in rows if not EXCLUDING & set(r["problems"])]
    out: dict[str, Any] = {"n_clean": len(clean), "sector_mean_score": {}, "cronbach_alpha": {}, "dont_know_share": {}}
    for s in cb.sectors.values():
        vals = [[r["likert"][it] for it in s.items] for r in clean]
        nums = [x for row in vals for x in row if isinstance(x, int)]
        out["sector_mean_score"][s.code] = round(float(np.mean(nums)), 3)
        complete = np.array([row for row in vals if all(isinstance(x, int) for x in row)], dtype=float)
        out["cronbach_alpha"][s.code] = round(_cronbach(complete), 3)
    for it in cb.likert_items:
        got = [r["likert"][it] for r in clean if r["likert"][it] is not None]
        out["dont_know_share"][it] = round(sum(1 for x in got if x == "dk") / max(len(got), 1), 3)
    counts: dict[str, dict[str, int]] = {}
    for g in GROUPINGS:
        c: dict[str, int] = {}
        for r in clean:
            if not r["answered"][g]:
                continue
            levels = r[g] if g == "info_language" else [r["codes"][g]]
            for lev in levels:
                c[lev] = c.get(lev, 0) + 1
        counts[g] = dict(sorted(c.items()))
    out["group_counts"] = counts
    # the planted shift each group carries on average (effects pass through correlated groupings)
    items = cb.likert_items
    eff = _effect_matrix(clean, items)
    shifts: dict[str, dict] = {}
    for j, it in enumerate(items):
        if not eff[:, j].any():
            continue
        shifts[it] = {}
        for g in GROUPINGS:
            acc: dict[str, list[float]] = {}
            for r, x in zip(clean, eff[:, j]):
                if not r["answered"][g]:
                    continue
                for lev in (r[g] if g == "info_language" else [r["codes"][g]]):
                    acc.setdefault(lev, []).append(x)
            means = {lev: round(float(np.mean(xs)), 3) for lev, xs in sorted(acc.items())}
            if max(means.values()) - min(means.values()) > 1e-9:
                shifts[it][g] = means
    out["expected_shift"] = shifts
    return out


def synth(n: int = 1200, seed: int = 2022, out_dir: str | Path = "data/sample", n_email: int = 60,
          codebook: str | Path | None = None) -> dict[str, Any]:
    """Write the synthetic survey into `out_dir`; return the truth (also written as truth.json)."""
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
    n_ru = int(round(n * 0.17))
    n_form = {"lv": n - n_ru, "ru": n_ru}
    counts = _problem_counts(n, n_ru)
    forms: dict[str, list[dict]] = {}
    originals: dict[str, list[int]] = {}
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
    _plant_text_pii_and_hostile(rng_pii, forms, n)
    for form in ("lv", "ru"):
        forms[form] += [_duplicate(rng_plant, forms[form][i]) for i in originals[form]]
        forms[form].sort(key=lambda r: (r["completion"], r["key"]))
        for k, r in enumerate(forms[form]):
            r["form_id"], r["row"] = k + 1, k + 2
            r["start"] = r["completion"] - dt.timedelta(seconds=r["duration"])

    perm = [int(i) for i in rng_cols.permutation(len(cb.likert_items))]
    files: dict[str, Any] = {}
    for form in ("lv", "ru"):
        cols = form_columns(cb, form, perm if form == SHUFFLED_FORM else None)
        table = []
        for r in forms[form]:
            cells = _cells(r, cb, form)
            meta = [r["form_id"], r["start"], r["completion"], r["email"], r["name"], r["completion"]]
            table.append(meta + [cells[var] for _, var in cols[6:]])
        write_forms_xlsx(out / FORM_FILES[form], [h for h, _ in cols], table)
        files[FORM_FILES[form]] = {
            "language": form, "n_rows": len(forms[form]), "likert_shuffled": form == SHUFFLED_FORM,
            "sheet": "Sheet1", "header_row": 1, "first_data_row": 2,
            "columns": [[h, v] for h, v in cols],
            "rows": [{"form_id": r["form_id"], "row": r["row"], "respondent": r["key"], "problems": r["problems"]}
                     for r in forms[form]],
        }

    messages, mail_truth = _make_emails(rng_mail, n_email, seed)
    write_mbox(out / MBOX_FILE, messages, mail_truth)

    truth = _truth(n, seed, n_email, cb, forms, files, mail_truth)
    (out / TRUTH_FILE).write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth


def _where(r: dict) -> dict[str, Any]:
    return {"file": FORM_FILES[r["form"]], "form_id": r["form_id"], "row": r["row"]}


def _truth(n, seed, n_email, cb, forms, files, mail_truth) -> dict[str, Any]:
    by_key = {r["key"]: r for form in forms.values() for r in form}
    quality: dict[str, list] = {k: [] for k in ("duplicate", "speeder", "straightliner", "late", "empty",
                                                "unknown_label", "alias_label")}
    pii_meta, texts, pii, hostile, other_texts, boundary = [], [], [], [], [], []
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
            for var in [v.name for v in cb.of_type("text")]:
                if var not in r["texts"]:
                    continue
                t = r["texts"][var]
                tid = f"{FORM_FILES[form]}#{r['form_id']}:{var}"
                texts.append(dict(id=tid, source=FORM_FILES[form], form_id=r["form_id"], row=r["row"], variable=var,
                                  column=cb.variables[var].headers[form], lang=t["lang"], themes=t["themes"],
                                  text=t["text"], diacritics=t["diacritics"], typo=t["typo"]))
                for p in t["pii"]:
                    pii.append(dict(w, type=p["type"], value=p["value"], variable=var, text_id=tid))
                for h in t["hostile"]:
                    hostile.append(dict(w, kind=h["kind"], value=h["value"], at_start=h["at_start"], variable=var, text_id=tid))
    for m in mail_truth:
        tid = f"{MBOX_FILE}#{m['index']}"
        texts.append(dict(id=tid, source=MBOX_FILE, message=m["index"], message_id=m["message_id"], lang=m["lang"],
                          themes=m["themes"], text=m["text"], diacritics=m["diacritics"], typo=False))
        for p in m["pii"]:
            entry = dict(file=MBOX_FILE, message=m["index"], type=p["type"], value=p["value"], where=p["where"])
            if p["where"] == "body":
                entry["text_id"] = tid
            pii.append(entry)
        for h in m["hostile"]:
            hostile.append(dict(file=MBOX_FILE, message=m["index"], kind=h["kind"], value=h["value"], at_start=h["at_start"], text_id=tid))
    all_rows = [r for form in forms.values() for r in form]
    effect_items = sorted({it for e in EFFECTS for it in e["items"]}, key=cb.likert_items.index)
    return {
        "generator": {"module": "analysis.synth", "version": GENERATOR_VERSION, "seed": seed, "n": n,
                      "n_email": n_email, "codebook": CODEBOOK_PATH, "synthetic": True,
                      "note": "Synthetic data with planted truth; not the real consultation."},
        "consultation_window": {"start": WINDOW_START.isoformat(), "end": DEADLINE.isoformat(),
                                "timezone": "Europe/Riga",
                                "rule": "late = completion time after the end (naive local Riga time in the exports)"},
        "counts": {"rows": len(all_rows), FORM_FILES["lv"]: len(forms["lv"]), FORM_FILES["ru"]: len(forms["ru"]),
                   "messages": len(mail_truth), "texts_forms": sum(1 for t in texts if t["source"] != MBOX_FILE),
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
        "population": {"file": "params/population/liepaja-synthetic.yaml", "official": False,
                       "margins": POPULATION, "propensity": PROPENSITY,
                       "target_group_share": TARGET_GROUP, "undisclosed_gender_share": UNDISCLOSED_GENDER,
                       "note": "residents are drawn with probability proportional to population x propensity per "
                               "margin (independently); non-residents answer district 'not_in_city' (mostly)"},
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m analysis synth --n N --seed S --out DIR [--emails M]`; exit 0, or 2 on bad arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "synth":
        argv = argv[1:]
    ap = argparse.ArgumentParser(prog="python -m analysis synth",
                                 description="Write a synthetic Liepāja 2022 survey with planted truth.")
    ap.add_argument("--n", type=int, default=1200, help="number of Forms responses in total (default 1200)")
    ap.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    ap.add_argument("--out", default=str(ROOT / "data" / "sample"), help="output folder (default data/sample)")
    ap.add_argument("--emails", type=int, default=60, help="number of e-mailed proposals (default 60)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    try:
        truth = synth(args.n, args.seed, args.out, n_email=args.emails)
    except ValueError as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    c = truth["counts"]
    print(f"synth: wrote {args.out}: {c[FORM_FILES['lv']]} + {c[FORM_FILES['ru']]} responses, "
          f"{c['messages']} e-mails, {len(truth['texts'])} texts (seed {args.seed})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
