"""Reading Forms exports and e-mails: formats, encodings, headers by name, dates, mail bodies.

The helpers at the top build small exports in the exact Microsoft Forms format from the
codebook; test_clean.py and test_bad_input.py reuse them.
"""
from __future__ import annotations

import datetime as dt
import random
from email.message import EmailMessage
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import ingest
from analysis.codebook import normalize

T0 = dt.datetime(2022, 2, 1, 9, 0, 0)


# --- building exports from the codebook -------------------------------------------------

def headers(cb, lang: str, last_modified: bool = True) -> list[str]:
    out = []
    for v in cb.variables.values():
        if v.role == "last_modified" and not last_modified:
            continue
        out.append(v.headers[lang])
    return out


def answer(cb, lang: str, i: int, rng: random.Random, start: dt.datetime | None = None,
           duration: float | None = None, **overrides) -> dict[str, object]:
    """One plausible response as {variable: cell value} (labels in the form language)."""
    start = start or T0 + dt.timedelta(minutes=7 * i)
    duration = duration if duration is not None else rng.uniform(300, 900)
    row: dict[str, object] = {}
    for v in cb.variables.values():
        if v.role == "id":
            row[v.name] = i
        elif v.role == "start_time":
            row[v.name] = start
        elif v.role in ("completion_time", "last_modified"):
            row[v.name] = start + dt.timedelta(seconds=round(duration))
        elif v.role == "email":
            row[v.name] = "anonymous"
        elif v.role == "name":
            row[v.name] = None
        elif v.type == "single":
            row[v.name] = rng.choice(v.options).labels[lang]
        elif v.type == "multi":
            chosen = rng.sample(v.options, rng.randint(1, 3))
            row[v.name] = "".join(o.labels[lang] + ";" for o in chosen if not o.other)
        elif v.type in ("rating", "nps"):
            row[v.name] = rng.randint(*v.range)
        elif v.type == "likert":
            scale = cb.scales[v.scale]
            labels = list(scale.scores[lang]) + [scale.dont_know[lang]]
            row[v.name] = rng.choice(labels)
        elif v.type == "text" and not v.pii:
            row[v.name] = rng.choice([None, None, f"Priekšlikums {i} par {v.name}: vairāk soliņu."])
        else:
            row[v.name] = None
    row.update(overrides)
    return row


def export_frame(cb, lang: str, rows: list[dict], last_modified: bool = True) -> pd.DataFrame:
    names = [v.name for v in cb.variables.values() if last_modified or v.role != "last_modified"]
    return pd.DataFrame([[r.get(n) for n in names] for r in rows],
                        columns=[cb.variables[n].headers[lang] for n in names])


def write_xlsx(path: Path, frame: pd.DataFrame) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([None if (isinstance(x, float) and x != x) else _xml_safe(x) for x in row])
    wb.save(path)
    return path


def _xml_safe(value):
    """Control characters as Excel itself stores them in the XML (_x0000_ escapes)."""
    import re

    if isinstance(value, str):
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


def write_csv(path: Path, frame: pd.DataFrame, encoding: str = "utf-8", sep: str = ",",
              date_format: str = "%m/%d/%y %H:%M:%S") -> Path:
    out = frame.copy()
    for c in out.columns:
        if out[c].map(lambda x: isinstance(x, dt.datetime)).any():
            out[c] = out[c].map(lambda x: x.strftime(date_format) if isinstance(x, dt.datetime) and not pd.isna(x) else x)
    text = out.to_csv(index=False, sep=sep, lineterminator="\r\n")
    path.write_bytes(text.encode(encoding))
    return path


def make_export(cb, path: Path, lang: str = "lv", n: int = 20, seed: int = 1, fmt: str = "xlsx",
                rows: list[dict] | None = None, **kw) -> Path:
    rng = random.Random(seed)
    rows = rows if rows is not None else [answer(cb, lang, i + 1, rng) for i in range(n)]
    frame = export_frame(cb, lang, rows)
    return write_xlsx(path, frame) if fmt == "xlsx" else write_csv(path, frame, **kw)


def mail_bytes(body: str = "Labdien!\n\nLūdzu vairāk velosipēdu ceļu Karostā.\n", *, sender="Jānis Bērziņš <janis@example.lv>",
               subject="Priekšlikums", date="Mon, 21 Feb 2022 10:00:00 +0200", charset="utf-8",
               cte: str | None = None, html: str | None = None, attachment: str | None = None,
               msgid: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "marketings@liepaja.lv"
    msg["Subject"] = subject
    if date:
        msg["Date"] = date
    msg["Message-ID"] = msgid or f"<{abs(hash((body, sender, date)))}@example.lv>"
    msg.set_content(body, charset=charset, cte=cte)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if attachment:
        msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename=attachment)
    return msg.as_bytes()


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    chunks = []
    for m in messages:
        chunks.append(b"From sender@example.lv Mon Feb 21 10:00:00 2022\n" + m.replace(b"\r\n", b"\n").rstrip(b"\n") + b"\n\n")
    path.write_bytes(b"".join(chunks))
    return path


# --- Forms exports ----------------------------------------------------------------------

def test_xlsx_is_read_by_header_with_rows_languages_and_times(codebook, tmp_path):
    p = make_export(codebook, tmp_path / "lv.xlsx", n=5)
    ex = ingest.read_forms(p, codebook)
    assert ex.language == "lv" and ex.kind == "xlsx" and ex.n_rows == 5
    assert list(ex.source_row) == [2, 3, 4, 5, 6]
    assert str(ex.frame["start_time"].dt.tz) == "Europe/Riga"
    assert ex.frame["start_time"].iloc[0] == pd.Timestamp("2022-02-01 09:07", tz="Europe/Riga")
    assert not [p for p in ex.problems if p.severity == "error"]


def test_columns_in_another_order_are_matched_by_header_not_position(codebook, tmp_path):
    rng = random.Random(3)
    rows = [answer(codebook, "lv", i + 1, rng) for i in range(4)]
    frame = export_frame(codebook, "lv", rows)
    shuffled = frame[list(reversed(frame.columns))]
    a = ingest.read_forms(write_xlsx(tmp_path / "a.xlsx", frame), codebook).frame
    b = ingest.read_forms(write_xlsx(tmp_path / "b.xlsx", shuffled), codebook).frame
    pd.testing.assert_frame_equal(a, b)


def test_russian_form_is_recognised_by_its_headers(codebook, tmp_path):
    ex = ingest.read_forms(make_export(codebook, tmp_path / "ru.xlsx", lang="ru", n=3), codebook)
    assert ex.language == "ru"


@pytest.mark.parametrize("encoding,sep", [("utf-8", ","), ("utf-8-sig", ";"), ("windows-1257", ";"),
                                          ("windows-1257", ","), ("utf-16", "\t")])
def test_csv_encodings_and_delimiters(codebook, tmp_path, encoding, sep):
    p = make_export(codebook, tmp_path / "x.csv", n=6, fmt="csv", encoding=encoding, sep=sep)
    ex = ingest.read_forms(p, codebook)
    assert ex.kind == "csv" and ex.delimiter == sep and ex.n_rows == 6
    assert ex.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "windows-1257": "windows-1257",
                           "utf-16": "utf-16"}[encoding]
    ref = ingest.read_forms(make_export(codebook, tmp_path / "x.xlsx", n=6), codebook)
    assert ex.frame["gender"].tolist() == ref.frame["gender"].tolist()
    assert ex.frame["completion_time"].tolist() == ref.frame["completion_time"].tolist()


@pytest.mark.parametrize("fmt,text", [("%m/%d/%y %H:%M:%S", "2/27/22 23:58:04"),
                                      ("%d.%m.%Y %H:%M", "27.2.2022 23:58"),
                                      ("%Y-%m-%d %H:%M:%S", "2022-02-27 23:58:04")])
def test_text_dates_in_known_formats(codebook, tmp_path, fmt, text):
    rng = random.Random(1)
    rows = [answer(codebook, "lv", 1, rng, start=dt.datetime(2022, 2, 27, 23, 50, 4), duration=480)]
    p = make_export(codebook, tmp_path / "d.csv", rows=rows, fmt="csv", date_format=fmt)
    ex = ingest.read_forms(p, codebook)
    got = ex.frame["completion_time"].iloc[0]
    assert got.strftime("%Y-%m-%d %H:%M") == "2022-02-27 23:58"
    assert str(got.tz) == "Europe/Riga"


def test_day_first_slashes_are_recognised_when_days_exceed_twelve(codebook):
    s = pd.Series(["27/02/2022 10:00:00", "13/01/2022 08:00:00"], dtype=object)
    times, bad, fmt = ingest.parse_times(s)
    assert not bad.any() and fmt.startswith("%d/%m") and times.iloc[0].month == 2


def test_excel_serial_numbers_are_dates():
    times, bad, _ = ingest.parse_times(pd.Series([44619.5], dtype=object))
    assert not bad.any() and times.iloc[0] == pd.Timestamp("2022-02-27 12:00", tz="Europe/Riga")


def test_aliases_and_nfc_normalised_headers_are_accepted(codebook, tmp_path):
    frame = export_frame(codebook, "lv", [answer(codebook, "lv", 1, random.Random(2))])
    import unicodedata
    frame = frame.rename(columns={"ID": "Id", "Start time": "Hora de inicio",
                                  "Jūsu vecums": "  " + unicodedata.normalize("NFD", "Jūsu vecums") + " "})
    ex = ingest.read_forms(write_xlsx(tmp_path / "a.xlsx", frame), codebook)
    assert ex.frame["age_group"].notna().all() and ex.frame["response_id"].iloc[0] == 1


def test_older_export_without_last_modified_is_fine(codebook, tmp_path):
    rows = [answer(codebook, "lv", 1, random.Random(2))]
    p = write_xlsx(tmp_path / "old.xlsx", export_frame(codebook, "lv", rows, last_modified=False))
    ex = ingest.read_forms(p, codebook)
    assert ex.frame["last_modified"].isna().all()


def test_unexpected_columns_are_warnings_and_ignored(codebook, tmp_path):
    frame = export_frame(codebook, "lv", [answer(codebook, "lv", 1, random.Random(2))])
    frame["Points"] = 3
    ex = ingest.read_forms(write_xlsx(tmp_path / "a.xlsx", frame), codebook)
    assert any(p.code == "unexpected_column" and p.severity == "warning" for p in ex.problems)
    assert "Points" not in ex.frame


def test_blank_rows_keep_their_excel_row_numbers(codebook, tmp_path):
    rng = random.Random(2)
    rows = [answer(codebook, "lv", 1, rng), {}, answer(codebook, "lv", 3, rng)]
    ex = ingest.read_forms(make_export(codebook, tmp_path / "b.xlsx", rows=rows), codebook)
    assert ex.n_rows == 3 and list(ex.source_row) == [2, 3, 4]
    assert ex.frame.loc[1].map(lambda x: x is None or x == "" or pd.isna(x)).all()


def test_control_characters_are_removed_and_noted(codebook, tmp_path):
    rng = random.Random(2)
    rows = [answer(codebook, "lv", 1, rng, proposal_other="Vairāk\x00 soliņu\x07")]
    p = make_export(codebook, tmp_path / "c.csv", rows=rows, fmt="csv")
    ex = ingest.read_forms(p, codebook)
    assert ex.frame["proposal_other"].iloc[0] == "Vairāk soliņu"
    assert ex.cell_notes and ex.cell_notes[0].variable == "proposal_other"


# --- e-mail -----------------------------------------------------------------------------

def test_mbox_messages_with_encodings_become_clean_texts(tmp_path):
    msgs = [
        mail_bytes("Labdien!\n\nIerosinu uzlabot apgaismojumu Karostā.\n\nAr cieņu,\nJānis Bērziņš\n+371 29123456\n"),
        mail_bytes("Ierosinu vairāk pasākumu jauniešiem Liepājā.\n", charset="windows-1257", cte="quoted-printable"),
        mail_bytes("Предлагаю больше скамеек в парке.\n\nС уважением,\nИван\n", cte="base64"),
    ]
    batch = ingest.read_mail(write_mbox(tmp_path / "p.mbox", msgs))
    assert [m.source_row for m in batch.messages] == [1, 2, 3]
    texts = [m.text for m in batch.messages]
    assert texts[0] == "Ierosinu uzlabot apgaismojumu Karostā."       # greeting and signature gone
    assert texts[1] == "Ierosinu vairāk pasākumu jauniešiem Liepājā."
    assert texts[2] == "Предлагаю больше скамеек в парке."
    assert all(m.reason is None for m in batch.messages)
    assert batch.messages[0].sender == "janis@example.lv"
    assert batch.messages[0].received_at == pd.Timestamp("2022-02-21 10:00", tz="Europe/Riga")


def test_windows_1257_body_mislabelled_as_utf8_is_still_decoded(tmp_path):
    raw = mail_bytes("placeholder", charset="utf-8", cte="8bit")
    raw = raw.replace(b"placeholder", "Liepājā ļoti labi".encode("windows-1257"))
    batch = ingest.read_mail(write_mbox(tmp_path / "p.mbox", [raw]))
    assert batch.messages[0].text == "Liepājā ļoti labi"


@pytest.mark.parametrize("body,expected", [
    ("Vairāk soliņu parkā.\n\nOn Mon, 21 Feb 2022 at 10:00, Anna <a@x.lv> wrote:\n> vecais teksts\n", "Vairāk soliņu parkā."),
    ("Vairāk soliņu parkā.\n\n2022. gada 21. febr., plkst. 10:00 Anna <a@x.lv> rakstīja:\n> vecais\n", "Vairāk soliņu parkā."),
    ("Больше скамеек.\n\n21.02.2022 10:00, Анна пишет написал(а):\n> старое\n", "Больше скамеек."),
    ("Vairāk soliņu parkā.\n> citāts\nUn koku.\n", "Vairāk soliņu parkā.\nUn koku."),
    ("Vairāk soliņu parkā.\n-- \nAnna Liepa\nTālr. 29123456\n", "Vairāk soliņu parkā."),
    ("Vairāk soliņu parkā.\n\nAnna Liepa\n29 123 456\n", "Vairāk soliņu parkā."),
    ("Vairāk soliņu parkā.\nLiepājas Universitāte palīdzēs.\n", "Vairāk soliņu parkā.\nLiepājas Universitāte palīdzēs."),
    ("Sveiki,\n\nVairāk soliņu.\n\nPaldies!\nAnna\n", "Vairāk soliņu."),
    ("Vairāk soliņu.\nPaldies par iespēju izteikties!\n", "Vairāk soliņu.\nPaldies par iespēju izteikties!"),
    ("Больше скамеек.\n\nСпасибо!\nСергей Петров\nмоб. 26 616 931\n", "Больше скамеек."),
    ("Vairāk soliņu.\n\nNosūtīts no mana iPhone\n", "Vairāk soliņu."),
    ("Labdien!\n", "Labdien!"),
])
def test_quotes_and_signatures_are_removed(body, expected):
    assert ingest.clean_mail_text(body) == expected


def test_html_only_mail_is_turned_to_text_and_attachments_listed(tmp_path):
    msg = EmailMessage()
    msg["From"] = "anna@example.lv"
    msg["Date"] = "Tue, 22 Feb 2022 12:00:00 +0200"
    msg.set_content("<p>Ierosinu <b>tirgu</b> Vecliepājā &amp; Karostā.</p><blockquote>vecā vēstule</blockquote>",
                    subtype="html")
    msg.add_attachment(b"x", maintype="application", subtype="pdf", filename="plans.pdf")
    batch = ingest.read_mail(write_mbox(tmp_path / "p.mbox", [msg.as_bytes()]))
    m = batch.messages[0]
    assert m.text == "Ierosinu tirgu Vecliepājā & Karostā."
    assert m.attachments == ["plans.pdf"]


def test_a_folder_of_eml_files_is_read(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "a.eml").write_bytes(mail_bytes("Pirmais priekšlikums.\n"))
    (folder / "b.eml").write_bytes(mail_bytes("Otrais priekšlikums.\n", sender="b@example.lv"))
    batch = ingest.read_mail(folder)
    assert [m.text for m in batch.messages] == ["Pirmais priekšlikums.", "Otrais priekšlikums."]
    # an .eml file's own name can be a person's: the folder is known as mail1, messages by number
    assert [(m.source_file, m.source_row) for m in batch.messages] == [("mail1", 1), ("mail1", 2)]


def test_mboxrd_escaped_from_lines_are_unescaped(tmp_path):
    raw = mail_bytes("Teksts.\n>From here we go.\n")
    batch = ingest.read_mail(write_mbox(tmp_path / "p.mbox", [raw]))
    assert batch.messages[0].text == "Teksts.\nFrom here we go."


def test_problem_messages_name_file_column_rows_expected():
    p = ingest.Problem("error", "unknown_label", "forms_lv.xlsx", "unknown label 'x'", column="'Jūsu vecums' (age_group)",
                       rows=tuple(range(2, 30)), count=28, expected="one of '18–24', …")
    text = str(p)
    assert text.startswith("ERROR forms_lv.xlsx, column 'Jūsu vecums' (age_group), rows 2, 3")
    assert "(28 in all)" in text and "expected one of" in text
    err = ingest.InputError([p])
    assert err.file == "forms_lv.xlsx" and err.row == 2 and err.column.startswith("'Jūsu")


def test_headers_helper_matches_codebook(codebook):
    assert all(normalize(h) for h in headers(codebook, "lv"))
    assert np.all([h in codebook.header_map("ru") for h in map(normalize, headers(codebook, "ru"))])


# --- the synthetic sample (written by analysis.synth; truth.json says what was planted) ----

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.mark.skipif(not (SAMPLE / "truth.json").exists(), reason="synthetic sample not generated")
def test_sample_emails_keep_the_proposal_and_lose_greeting_signature_and_quotes():
    import json

    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["emails"]["messages"]
    batch = ingest.read_mail(SAMPLE / "proposals.mbox")
    assert len(batch.messages) == len(truth)
    for want, got in zip(truth, batch.messages):
        assert got.reason in (None, "unparseable_date"), (want["index"], got.detail)
        flat = got.text.replace("\n", " ")
        for para in want["paragraphs"]:
            assert para in got.text or para.replace("\n", " ") in flat, (want["index"], got.text)
        for leftover in (want["closing"], *(want["signature"] or {}).values(), want["quote_header"], want["greeting"]):
            assert not leftover or leftover not in got.text, (want["index"], leftover)
        names = [a["filename"] if isinstance(a, dict) else a for a in want["attachments"]]
        assert got.attachments == names


@pytest.mark.skipif(not (SAMPLE / "truth.json").exists(), reason="synthetic sample not generated")
def test_sample_exports_read_in_their_languages(codebook):
    lv = ingest.read_forms(SAMPLE / "forms_lv.xlsx", codebook)
    ru = ingest.read_forms(SAMPLE / "forms_ru.xlsx", codebook)     # Likert columns shuffled there
    assert (lv.language, ru.language) == ("lv", "ru")
    assert not [p for p in lv.problems + ru.problems if p.severity == "error"]


# --- real exports: header debris, HTML as .xls, title rows, other sheets, misnamed .xls ----

def test_proposal_column_with_non_breaking_spaces_is_read_not_dropped(codebook, tmp_path):
    """Issue 13: a header with NBSPs was dropped with only a warning; header white space is normalised."""
    rng = random.Random(3)
    rows = [answer(codebook, "lv", i + 1, rng, proposal_housing=f"Vairāk īres dzīvokļu {i}") for i in range(4)]
    frame = export_frame(codebook, "lv", rows)
    h = codebook.variables["proposal_housing"].headers["lv"]
    frame = frame.rename(columns={h: h.replace(" ", "\u00a0")})
    ex = ingest.read_forms(write_xlsx(tmp_path / "lv.xlsx", frame), codebook)
    assert list(ex.frame["proposal_housing"]) == [f"Vairāk īres dzīvokļu {i}" for i in range(4)]
    assert not [p for p in ex.problems if p.code == "unexpected_column"]


def test_an_html_table_saved_as_xls_is_read_with_one_clear_warning(codebook, tmp_path):
    import html as _html

    rng = random.Random(4)
    frame = export_frame(codebook, "lv", [answer(codebook, "lv", i + 1, rng) for i in range(5)])
    cells = lambda row: "".join(f"<td>{'' if x is None else _html.escape(str(x))}</td>" for x in row)
    page = ("<html><head><meta charset='utf-8'></head><body><table>"
            + "<tr>" + "".join(f"<th>{_html.escape(h)}</th>" for h in frame.columns) + "</tr>"
            + "".join(f"<tr>{cells(r)}</tr>" for r in frame.itertuples(index=False)) + "</table></body></html>")
    path = tmp_path / "forms_lv.xls"
    path.write_text(page, encoding="utf-8")
    ex = ingest.read_forms(path, codebook)
    assert ex.kind == "html" and ex.n_rows == 5 and list(ex.source_row) == [2, 3, 4, 5, 6]
    warnings = [p for p in ex.problems if p.severity == "warning"]
    assert [p.code for p in warnings] == ["misnamed_file"]
    assert "an HTML table" in warnings[0].message
    assert ex.frame["start_time"].notna().all()


def test_title_rows_above_the_header_are_skipped_and_row_numbers_stay_true(codebook, tmp_path):
    import openpyxl

    frame = export_frame(codebook, "lv", [answer(codebook, "lv", i + 1, random.Random(5)) for i in range(3)])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Aptaujas rezultāti"])
    ws.append(["Eksportēts 2022-03-01"])
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    wb.save(tmp_path / "lv.xlsx")
    ex = ingest.read_forms(tmp_path / "lv.xlsx", codebook)
    assert ex.n_rows == 3 and list(ex.source_row) == [4, 5, 6]
    assert any(p.code == "title_rows" and "row 3" in p.message for p in ex.problems)


def test_responses_on_the_second_sheet_are_found_and_said(codebook, tmp_path):
    import openpyxl

    frame = export_frame(codebook, "lv", [answer(codebook, "lv", i + 1, random.Random(6)) for i in range(3)])
    wb = openpyxl.Workbook()
    wb.active.title = "Kopsavilkums"
    wb.active.append(["Atbildes kopā", 3])
    ws = wb.create_sheet("Atbildes")
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    wb.save(tmp_path / "lv.xlsx")
    ex = ingest.read_forms(tmp_path / "lv.xlsx", codebook)
    assert ex.n_rows == 3
    other = [p for p in ex.problems if p.code == "other_sheet"]
    assert other and "'Atbildes'" in other[0].message and "'Kopsavilkums'" in other[0].hint


def test_a_workbook_of_another_form_says_what_each_sheet_holds(codebook, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Model", "SeriesID"])
    wb.create_sheet("Second").append(["a", "b"])
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(ingest.InputError) as err:
        ingest.read_forms(tmp_path / "x.xlsx", codebook)
    text = str(err.value)
    assert "another form" in text and "'Sheet': best header row 1" in text and "'Second'" in text


def test_an_old_xls_renamed_xlsx_is_read_by_its_content(codebook, tmp_path):
    """Issue 13: a real .xls renamed .xlsx gave a zip error. Read by content, the (non-Forms)
    workbook is seen for what it is: a warning about the name, then its headers are judged."""
    import shutil

    import statsmodels

    xls = Path(statsmodels.__file__).parent / "tsa/statespace/tests/results/frbny_nowcast/Nowcasting/test_spec.xls"
    if not xls.exists():
        pytest.skip("no .xls file available to test with")
    shutil.copy(xls, tmp_path / "old.xlsx")
    with pytest.raises(ingest.InputError) as err:
        ingest.read_forms(tmp_path / "old.xlsx", codebook)
    codes = {p.code for p in err.value.problems}
    assert "another_form" in codes and "damaged_file" not in codes
    assert "zip" not in str(err.value).lower()


# --- encodings: declared, or detected with a stated confidence, never a silent guess ------

def _one_language(raw: dict, lang: str) -> dict:
    """The toy codebook with its form language renamed (labels stay; only the code changes)."""
    import json

    text = json.dumps(raw, ensure_ascii=False).replace('"et"', f'"{lang}"')
    return json.loads(text)


def _toy_csv(path: Path, cb, encoding: str, other_text: str) -> Path:
    lang = cb.languages[0]
    head = ["ID", "Vanus", "Huvid: Sport", "Huvid: Muusika", "Pargid on puhtad", "Parkides on liiga vähe pinke",
            "Teede remont", "Rattateed", "Muu", "Muu: mis?"]
    rows = [[1, "Alla 40", "1", "", "Nõus", "Vastu", 7, 8, "", other_text]]
    text = "\r\n".join(",".join(f'"{c}"' for c in r) for r in [head, *rows])
    path.write_bytes(text.encode(encoding))
    assert lang
    return path


def test_windows_1252_is_detected_for_a_french_form_not_decoded_as_1257(tmp_path):
    from analysis import codebook as cbmod
    from test_codebook import toy_raw
    import yaml

    (tmp_path / "cb.yaml").write_text(yaml.safe_dump(_one_language(toy_raw(), "fr"), allow_unicode=True), "utf-8")
    cb = cbmod.load(tmp_path / "cb.yaml")
    ex = ingest.read_forms(_toy_csv(tmp_path / "fr.csv", cb, "windows-1252", "Ça coûte très cher à Noël"), cb)
    assert ex.encoding == "windows-1252" and ex.frame["other_text"].iloc[0] == "Ça coûte très cher à Noël"
    assert "detected" in ex.encoding_note and "100%" in ex.encoding_note


def test_an_ambiguous_8bit_file_asks_for_the_encoding_to_be_declared(tmp_path):
    from analysis import codebook as cbmod
    from test_codebook import toy_raw
    import yaml

    # a form in French and Latvian (same words for the test: only the letters matter)
    raw = _one_language(toy_raw(), "fr")
    raw["languages"] = ["fr", "lv"]
    raw["variables"] = [v for v in raw["variables"] if v["name"] in ("rid", "other_text")]
    raw["variables"][1]["header"]["lv"] = "Cits: kas?"
    raw["variables"][0]["header"]["lv"] = "ID"
    raw.pop("sectors"), raw.pop("roles"), raw.pop("scales")
    path = tmp_path / "cb.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    cb = cbmod.load(path)
    # byte 0xE8 is è in windows-1252 (French) and č in windows-1257 (Latvian): both plausible
    csv_path = tmp_path / "x.csv"
    csv_path.write_bytes('ID,"Muu: mis?"\r\n1,"è è è"\r\n'.encode("windows-1252"))
    with pytest.raises(ingest.InputError) as err:
        ingest.read_forms(csv_path, cb)
    assert "bad_encoding" in {p.code for p in err.value.problems}
    assert "formats: {encoding:" in str(err.value)
    raw["formats"]["encoding"] = "windows-1252"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    ex = ingest.read_forms(csv_path, cbmod.load(path))
    assert ex.frame["other_text"].iloc[0] == "è è è" and "declared" in ex.encoding_note


# --- Arrow-native reads (issue 15): the same cells as the cell-by-cell reads ------------------

def _same_cells(a: pd.DataFrame, b: pd.DataFrame) -> list:
    """Cells that differ in value or Python type (1.0 and 1, or '' and None, are different)."""
    assert a.shape == b.shape
    A, B = a.to_numpy(), b.to_numpy()
    return [(i, j, A[i, j], B[i, j]) for i in range(A.shape[0]) for j in range(A.shape[1])
            if type(A[i, j]) is not type(B[i, j]) or A[i, j] != B[i, j]]


def test_arrow_xlsx_read_gives_calamines_cells_and_types(codebook, tmp_path):
    import openpyxl
    from python_calamine import CalamineWorkbook

    rng = random.Random(4)
    rows = [answer(codebook, "lv", i + 1, rng) for i in range(30)]
    frame = export_frame(codebook, "lv", rows)

    def write(path, title):
        wb = openpyxl.Workbook()
        ws = wb.active
        if title:
            ws.append(["Aptaujas atbildes"])                 # a title row above the header
        ws.append(list(frame.columns))
        for k, row in enumerate(frame.itertuples(index=False)):
            ws.append([None if (isinstance(x, float) and x != x) else x for x in row])
            if k == 10:
                ws.append([])                               # a blank row keeps its number
        wb.save(path)
        return path

    path = write(tmp_path / "forms_lv.xlsx", title=False)
    workbook = CalamineWorkbook.from_path(str(path))
    arrow = ingest._arrow_cells(path, workbook, 0, codebook)
    assert arrow is not None, "the plain export should be read Arrow-native"
    cells = pd.DataFrame(workbook.get_sheet_by_index(0).to_python(skip_empty_area=False), dtype=object)
    assert _same_cells(arrow, cells) == []
    kinds = {type(x) for x in arrow.iloc[1:, 1]}
    assert kinds <= {dt.datetime, str} and dt.datetime in kinds     # times stay date-times
    assert arrow.iloc[12, 3] == ""                                  # the blank row: empty cells as ""
    ex = ingest.read_forms(path, codebook)
    assert len(ex.frame) == 31 and ex.source_row[0] == 2 and ex.source_row[-1] == 32
    # a title row above the header: read cell by cell, rows still numbered as in Excel
    titled = write(tmp_path / "titled.xlsx", title=True)
    assert ingest._arrow_cells(titled, CalamineWorkbook.from_path(str(titled)), 0, codebook) is None
    ex2 = ingest.read_forms(titled, codebook)
    assert ex2.source_row[0] == 3
    pd.testing.assert_frame_equal(ex.frame, ex2.frame)


def test_arrow_xlsx_read_falls_back_on_a_column_of_mixed_types(codebook, tmp_path):
    from python_calamine import CalamineWorkbook

    rng = random.Random(5)
    rows = [answer(codebook, "lv", i + 1, rng) for i in range(12)]
    id_var = codebook.role("id").name
    rows[3][id_var] = "ID-4"                                        # text among numbers
    path = make_export(codebook, tmp_path / "forms_lv.xlsx", rows=rows)
    workbook = CalamineWorkbook.from_path(str(path))
    assert ingest._arrow_cells(path, workbook, 0, codebook) is None
    ex = ingest.read_forms(path, codebook)
    assert ex.frame[id_var].tolist()[2:5] == [3.0, "ID-4", 5.0]     # each cell as written


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_arrow_csv_read_gives_pandas_cells(sep):
    import io

    text = sep.join(["ID", "Teksts", "Vērtējums"]) + "\r\n" + "\r\n".join([
        sep.join(["1", '"divas\r\nrindas, ""pēdiņas""; un tab\t"', "5"]),
        sep.join(["2", "", ""]),
        sep.join(["3", " atstarpes ", "NA"]),
    ]) + "\r\n"
    arrow = ingest._arrow_csv_cells(text, sep)
    assert arrow is not None
    pandas = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=object, keep_default_na=False,
                         na_filter=False, skip_blank_lines=False, engine="c")
    assert _same_cells(arrow, pandas) == []
    assert arrow.iloc[1, 1] == 'divas\r\nrindas, "pēdiņas"; un tab\t' and arrow.iloc[2, 2] == ""


def test_arrow_csv_read_leaves_ragged_rows_to_pandas():
    assert ingest._arrow_csv_cells("a,b,c\r\n1,2\r\n", ",") is None
    assert ingest._arrow_csv_cells("a,b\r\n1,2,3\r\n", ",") is None


# --- the streaming .xlsx reader ----------------------------------------------------------

_SHEET_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',  # noqa: E501
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',  # noqa: E501
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',  # noqa: E501
    "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="m/d/yy h:mm:ss"/><numFmt numFmtId="165" formatCode="0.00&quot;d&quot;"/></numFmts><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="14"/><xf numFmtId="165"/></cellXfs></styleSheet>',  # noqa: E501
}


def _hand_made_xlsx(path, rows_xml: str, shared: list[str], date1904: bool = False) -> Path:
    """A workbook written part by part (the XML shapes Excel, Forms and other writers use)."""
    import zipfile

    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    workbook = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                f'relationships">{pr}<sheets>'
                '<sheet name="Atbildes &amp; co" sheetId="1" r:id="rId1"/></sheets></workbook>')
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main"><dimension ref="A1:G4"/><sheetData>{rows_xml}</sheetData></worksheet>')
    sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
           '2006/main">' + "".join(f"<si>{s}</si>" for s in shared) + "</sst>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in {**_SHEET_PARTS, "xl/workbook.xml": workbook, "xl/worksheets/sheet1.xml": sheet,
                           "xl/sharedStrings.xml": sst}.items():
            z.writestr(name, text)
    return Path(path)


def _streamed_rows(path) -> list[list]:
    """Every row of the first sheet from xlsx_stream, empty cells as "" (calamine's layout)."""
    from analysis import xlsx_stream

    header, batches, _ = xlsx_stream.read_sheet(path)
    rows = [[header[1].get(j, "") for j in range(max(header[1]) + 1)]]
    for base, arrays in batches:
        rows += [[] for _ in range(base - 1 - len(rows))]          # rows without cells
        n = max(len(a) for a in arrays)
        rows += [["" if a[i].as_py() is None else a[i].as_py() for a in arrays] for i in range(n)]
    width = max(len(r) for r in rows)
    return [r + [""] * (width - len(r)) for r in rows]


EDGE_SHARED = ["<t>plain</t>", '<r><rPr><b/></rPr><t>bo</t></r><r><t xml:space="preserve">ld &amp; more </t></r>',
               "<t>a_x000D_b</t>", "<t>line1\r\nline2\rx</t>", '<t>ruby</t><rPh sb="0" eb="1"><t>RB</t></rPh>',
               "<t> a&#160; </t>", "<t>&#x41;&#66;&lt;&gt;&quot;&apos;&#13;</t>"]
EDGE_ROWS = (
    '<row r="1">' + "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(7)) + "</row>"
    # inline strings (entities, an escape, white space trimmed or preserved), a boolean, a date-time,
    # a date before 1 March 1900, a number in a non-date format with a quoted d, a formula's string, 1E-3
    '<row r="2"><c r="A2" t="inlineStr"><is><t>x_x000A_y &amp;amp; </t></is></c><c r="B2" t="b"><v>1</v></c>'
    '<c r="C2" s="1"><v>44571.00010416667</v></c><c r="D2" s="2"><v>59.5</v></c><c r="E2" s="3"><v>1.5</v></c>'
    '<c r="F2" t="str"><f>A1</f><v>f &amp; v</v></c><c r="G2"><v>1E-3</v></c></row>'
    # row 3 has no cells; row 4's cells have no r (they take the next column), with rich text
    '<row r="4"><c t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c><c t="b"><v>0</v></c>'
    '<c s="1"/><c s="2"><v>61</v></c></row>'
    '<row r="5"><c r="A5" t="inlineStr"><is><t xml:space="preserve"> kept </t></is></c>'
    '<c r="C5" s="1"><v>45000.5</v></c><c r="F5" t="s"><v>5</v></c><c r="G5"><v>-2.5</v></c></row>')


@pytest.mark.parametrize("date1904", [False, True])
def test_streamed_xlsx_gives_calamines_cells_on_hand_made_edge_cases(tmp_path, date1904):
    from python_calamine import CalamineWorkbook

    path = _hand_made_xlsx(tmp_path / "edge.xlsx", EDGE_ROWS, EDGE_SHARED, date1904=date1904)
    want = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    # a whole day is a date there, a date-time in fastexcel's Arrow column (and here)
    want = [[dt.datetime.combine(x, dt.time()) if type(x) is dt.date else x for x in r] for r in want]
    got = _streamed_rows(path)
    assert got == want
    assert [type(x) for x in got[1]] == [str, bool, dt.datetime, dt.datetime, float, str, float]
    assert got[0][1] == "bold & more " and got[0][2] == "a\rb" and got[0][3] == "line1\nline2\nx"
    assert got[0][4] == "ruby" and got[0][5] == "a\xa0" and got[1][0] == "x\ny &amp;"
    assert got[4][0] == " kept " and got[4][5] == "a\xa0" and got[2] == [""] * 7 and got[3][:2] == ["rich", False]


def test_streamed_xlsx_leaves_what_it_cannot_reproduce_to_the_other_readers(tmp_path):
    from analysis import xlsx_stream

    error = _hand_made_xlsx(tmp_path / "error.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
                            '<row r="2"><c r="A2" t="e"><v>#N/A</v></c></row>', ["<t>ID</t>"])
    with pytest.raises(xlsx_stream.Unsupported):
        list(xlsx_stream.read_sheet(error)[1])
    mixed = _hand_made_xlsx(tmp_path / "mixed.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
                            '<row r="2"><c r="A2"><v>1</v></c></row><row r="3"><c r="A3" t="s"><v>0</v></c></row>',
                            ["<t>ID</t>"])
    with pytest.raises(xlsx_stream.Unsupported):
        list(xlsx_stream.read_sheet(mixed)[1])
    assert xlsx_stream.read_sheet(tmp_path / "missing.xlsx") is None


def test_streamed_xlsx_matches_fastexcel_on_the_sample_exports(codebook):
    """The sample's exports (Forms' layout: inline strings, date-time styles, skipped cells) give
    the very cells of the fastexcel read, each column in several batches."""
    from python_calamine import CalamineWorkbook

    from analysis import xlsx_stream

    root = Path(__file__).resolve().parents[1] / "data" / "sample"
    for name in ("forms_lv.xlsx", "forms_ru.xlsx"):
        path = root / name
        old = xlsx_stream.CHUNK_BYTES
        xlsx_stream.CHUNK_BYTES = 1 << 16                 # many small batches
        try:
            streamed = ingest._streamed_cells(path, 0, codebook)
        finally:
            xlsx_stream.CHUNK_BYTES = old
        fast = ingest._fastexcel_cells(path, CalamineWorkbook.from_path(str(path)), 0, codebook)
        assert streamed is not None and fast is not None
        assert _same_cells(streamed, fast) == []
    # bounded: each batch is one piece of XML (here 64 KB: about 20 rows of 60 columns)
    old = xlsx_stream.CHUNK_BYTES
    xlsx_stream.CHUNK_BYTES = 1 << 16
    try:
        sizes = [max(len(a) for a in arrays) for _, arrays in xlsx_stream.read_sheet(root / "forms_lv.xlsx")[1]]
    finally:
        xlsx_stream.CHUNK_BYTES = old
    assert len(sizes) >= 20 and max(sizes) <= 64 and sum(sizes) == 996


def test_remembered_mail_headers_read_every_message_as_the_default_policy_does(tmp_path, monkeypatch):
    """Issue 15: e-mails are parsed with email.policy.default whose parsed headers are
    remembered by (name, value); every message of the sample's mailbox and of hand-made ones
    (encoded words, an attachment, HTML only, windows-1257, a broken date, quoted-printable)
    is read exactly as with the default policy, twice over (the second time from memory)."""
    import email.policy

    made = write_mbox(tmp_path / "made.mbox", [
        mail_bytes(sender="=?utf-8?q?J=C4=81nis_B=C4=93rzi=C5=86=C5=A1?= <janis@example.lv>"),
        mail_bytes(html="<p>Vairāk <b>soliņu</b> parkā</p>", attachment="Jāņa plāns.pdf"),
        mail_bytes(charset="windows-1257", body="Lūdzu salabot ielu.\n"),
        mail_bytes(date="not a date", cte="quoted-printable"),
        mail_bytes(msgid="<abc@example.lv>", sender="anna@example.lv"),
    ])
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "proposals.mbox"
    for box in (made, sample):
        ingest._HeaderCachePolicy._cache.clear()
        remembered = [ingest.read_mail(box) for _ in range(2)]
        monkeypatch.setattr(ingest, "_MAIL_POLICY", email.policy.default)
        default = ingest.read_mail(box)
        monkeypatch.undo()
        assert len(default.messages) >= 5
        for got in remembered:
            assert got.messages == default.messages
            assert [str(p) for p in got.problems] == [str(p) for p in default.problems]
    assert len(ingest._HeaderCachePolicy._cache) > 0
