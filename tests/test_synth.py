"""The synthetic survey: exact Forms format, planted truth that agrees with the files, determinism."""
from __future__ import annotations

import datetime as dt
import email
import json
import mailbox
import re
from email import policy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import synth
from analysis.codebook import UnknownLabel

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
N, SEED, N_EMAIL = 200, 7, 24
QUESTION_TYPES = ("single", "multi", "likert", "rating", "nps", "text")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    truth = synth.synth(N, SEED, out, n_email=N_EMAIL)
    return out, truth


def read_export(path: Path) -> pd.DataFrame:
    """Question columns as text: pandas would otherwise turn a contact such as "+37126106602" into a float."""
    headers = pd.read_excel(path, engine="calamine", nrows=0).columns
    text = {h: str for h in headers[6:]}
    df = pd.read_excel(path, engine="calamine", dtype=text)
    return df


def read_mbox(path: Path) -> list[email.message.EmailMessage]:
    box = mailbox.mbox(str(path), factory=lambda f: email.message_from_binary_file(f, policy=policy.default),
                       create=False)
    try:
        return list(box)
    finally:
        box.close()


def frames(out: Path, codebook) -> dict[str, tuple[pd.DataFrame, dict, str]]:
    res = {}
    for name in synth.FORM_FILES.values():
        df = read_export(out / name)
        m = codebook.match_headers(list(df.columns))
        res[name] = (df, m, m["language"])
    return res


def by_id(df: pd.DataFrame, form_id: int) -> pd.Series:
    got = df[df["ID"] == form_id]
    assert len(got) == 1, form_id
    return got.iloc[0]


def column_of(m: dict, variable: str) -> str:
    (h,) = [h for h, v in m["mapping"].items() if v == variable]
    return h


def question_columns(m: dict, codebook) -> list[str]:
    return [h for h, v in m["mapping"].items() if codebook.variables[v].type in QUESTION_TYPES]


# --- format ------------------------------------------------------------------------------------

def test_headers_match_the_codebook(small, codebook):
    out, truth = small
    for name, (df, m, lang) in frames(out, codebook).items():
        assert lang == truth["files"][name]["language"] == {"forms_lv.xlsx": "lv", "forms_ru.xlsx": "ru"}[name]
        assert m["missing"] == [] and m["missing_optional"] == [] and m["unexpected"] == []
        assert m["duplicates"] == {} and m["score"] == 1.0
        assert list(df.columns[:6]) == synth.META_HEADERS
        assert [[h, v] for h, v in m["mapping"].items()] == truth["files"][name]["columns"]


def test_likert_columns_shuffled_in_exactly_one_file(small, codebook):
    out, truth = small
    form_order = codebook.likert_items
    shuffled = {}
    for name, (df, m, _) in frames(out, codebook).items():
        order = [v for v in m["mapping"].values() if codebook.variables[v].type == "likert"]
        shuffled[name] = order != form_order
        assert sorted(order) == sorted(form_order)
        assert truth["files"][name]["likert_shuffled"] == shuffled[name]
    assert sorted(shuffled.values()) == [False, True]


def test_every_cell_is_a_known_label_except_planted_ones(small, codebook):
    out, truth = small
    planted = {(u["file"], u["form_id"], u["variable"]): u["label"] for u in truth["quality"]["unknown_label"]}
    other = {(o["file"], o["form_id"], o["variable"]): o["text"] for o in truth["other_texts"]}
    seen_unknown, seen_other = set(), set()
    for name, (df, m, lang) in frames(out, codebook).items():
        for h, var in m["mapping"].items():
            v = codebook.variables[var]
            for fid, x in zip(df["ID"], df[h]):
                if pd.isna(x):
                    continue
                key = (name, int(fid), var)
                if v.type in ("single", "likert"):
                    if v.type == "likert" and x == codebook.scale_of(var).dont_know[lang]:
                        continue
                    try:
                        codebook.code_of(var, x, lang)
                    except UnknownLabel:
                        if key in planted:
                            assert planted[key] == x
                            seen_unknown.add(key)
                        else:
                            assert other.get(key) == x and v.other_text, (key, x)
                            seen_other.add(key)
                elif v.type == "multi":
                    assert isinstance(x, str) and x.endswith(";"), (key, x)
                    for lab in x[:-1].split(";"):
                        try:
                            codebook.code_of(var, lab, lang)
                        except UnknownLabel:
                            assert other.get(key) == lab and v.other_text, (key, lab)
                            seen_other.add(key)
                elif v.type in ("rating", "nps"):
                    assert float(x).is_integer() and v.range[0] <= float(x) <= v.range[1]
    assert seen_unknown == set(planted)
    assert seen_other == set(other)


def test_dates_are_excel_datetimes_and_ids_sequential(small, codebook):
    out, truth = small
    import openpyxl

    for name, (df, m, _) in frames(out, codebook).items():
        for col in ("Start time", "Completion time", "Last modified time"):
            assert pd.api.types.is_datetime64_any_dtype(df[col]), (name, col)
        assert (df["Start time"] < df["Completion time"]).all()
        assert df["Completion time"].is_monotonic_increasing
        assert list(df["ID"]) == list(range(1, len(df) + 1))
        rows = truth["files"][name]["rows"]
        assert [(r["form_id"], r["row"]) for r in rows] == [(i, i + 1) for i in range(1, len(df) + 1)]
        ws = openpyxl.load_workbook(out / name, read_only=True).active
        first = next(ws.iter_rows(min_row=2, max_row=2))
        assert first[1].is_date and first[2].is_date and first[5].is_date
        assert isinstance(first[1].value, dt.datetime)
    assert truth["counts"]["rows"] == N


def test_email_and_name_are_anonymous_except_planted(small, codebook):
    out, truth = small
    planted = {(p["file"], p["form_id"]): p for p in truth["pii_meta"]}
    assert len(planted) >= 2
    for name, (df, m, _) in frames(out, codebook).items():
        for _, row in df.iterrows():
            p = planted.get((name, int(row["ID"])))
            if p:
                assert row["Email"] == p["email"] and "@" in p["email"] and row["Name"] == p["name"]
            else:
                assert row["Email"] == "anonymous" and pd.isna(row["Name"])


# --- planted problems --------------------------------------------------------------------------

def test_planted_duplicates_are_identical_answer_sets(small, codebook):
    out, truth = small
    fr = frames(out, codebook)
    assert truth["quality"]["duplicate"]
    for d in truth["quality"]["duplicate"]:
        df, m, _ = fr[d["file"]]
        cols = question_columns(m, codebook)
        a, b = by_id(df, d["form_id"])[cols], by_id(df, d["duplicate_of_id"])[cols]
        assert a.isna().equals(b.isna()) and (a.dropna() == b.dropna()).all()
        assert a.notna().sum() > 5                            # a real answer set, not an empty one
        assert d["duplicate_of_id"] < d["form_id"] and d["row"] == d["form_id"] + 1
    # no unplanted pair of non-empty rows is identical
    for name, (df, m, _) in fr.items():
        cols = question_columns(m, codebook)
        nonempty = df[df[cols].notna().any(axis=1)]
        dup = nonempty[nonempty.duplicated(subset=cols, keep="first")]
        planted = {d["form_id"] for d in truth["quality"]["duplicate"] if d["file"] == name}
        assert set(dup["ID"]) == planted


def test_planted_speeders_are_fast_and_nobody_else_is(small, codebook):
    out, truth = small
    fr = frames(out, codebook)
    alld = pd.concat([(df["Completion time"] - df["Start time"]).dt.total_seconds() for df, _, _ in fr.values()])
    median = alld.median()
    assert 420 < median < 720                                 # ~9 minutes
    assert truth["quality"]["median_duration_s"]["all"] == pytest.approx(median)
    for name, (df, m, _) in fr.items():
        secs = (df["Completion time"] - df["Start time"]).dt.total_seconds()
        planted = {s["form_id"]: s["duration_s"] for s in truth["quality"]["speeder"] if s["file"] == name}
        fast = set(df.loc[secs < 0.33 * median, "ID"])
        assert fast == set(planted)
        for fid, d in planted.items():
            assert secs[df["ID"] == fid].item() == d < 0.25 * median


def test_planted_straightliners(small, codebook):
    out, truth = small
    fr = frames(out, codebook)
    assert truth["quality"]["straightliner"]
    for s in truth["quality"]["straightliner"]:
        df, m, lang = fr[s["file"]]
        cols = [h for h, v in m["mapping"].items() if codebook.variables[v].type == "likert"]
        vals = by_id(df, s["form_id"])[cols]
        assert vals.nunique() == 1 and vals.notna().all()
        assert codebook.code_of(codebook.likert_items[0], vals.iloc[0], lang) == s["score"]
    for name, (df, m, _) in fr.items():                      # the params' rule finds exactly the planted rows
        cols = [h for h, v in m["mapping"].items() if codebook.variables[v].type == "likert"]
        found = set()
        for _, row in df.iterrows():
            got = row[cols].dropna()
            if len(got) >= 16 and got.value_counts().iloc[0] / len(got) >= 0.95:
                found.add(int(row["ID"]))
        assert found == {s["form_id"] for s in truth["quality"]["straightliner"] if s["file"] == name}


def test_planted_late_answers_and_the_boundary(small, codebook):
    out, truth = small
    deadline = pd.Timestamp(truth["consultation_window"]["end"])
    assert deadline == pd.Timestamp("2022-02-27 23:59:59")
    for name, (df, m, _) in frames(out, codebook).items():
        late = set(df.loc[df["Completion time"] > deadline, "ID"])
        planted = {x["form_id"] for x in truth["quality"]["late"] if x["file"] == name}
        assert late == planted and planted
        assert (df["Start time"] >= pd.Timestamp(truth["consultation_window"]["start"])).all()
    (b,) = truth["quality"]["boundary_not_late"]
    df = frames(out, codebook)[b["file"]][0]
    t = by_id(df, b["form_id"])["Completion time"]
    assert t <= deadline and (deadline - t).total_seconds() < 60


def test_planted_empty_submissions(small, codebook):
    out, truth = small
    for name, (df, m, _) in frames(out, codebook).items():
        cols = question_columns(m, codebook)
        empty = set(df.loc[df[cols].isna().all(axis=1), "ID"])
        assert empty == {e["form_id"] for e in truth["quality"]["empty"] if e["file"] == name}
        assert empty


def test_planted_unknown_and_alias_labels(small, codebook):
    out, truth = small
    fr = frames(out, codebook)
    assert truth["quality"]["unknown_label"] and truth["quality"]["alias_label"]
    for u in truth["quality"]["unknown_label"]:
        df, m, lang = fr[u["file"]]
        assert column_of(m, u["variable"]) == u["column"]
        cell = by_id(df, u["form_id"])[u["column"]]
        assert cell == u["label"]
        with pytest.raises(UnknownLabel):
            codebook.code_of(u["variable"], cell, lang)
    for a in truth["quality"]["alias_label"]:
        df, m, lang = fr[a["file"]]
        cell = by_id(df, a["form_id"])[column_of(m, a["variable"])]
        assert cell == a["label"] and "-" in cell and "\u2013" not in cell
        assert codebook.code_of(a["variable"], cell, lang) == a["code"]   # an alias: NOT an error


def test_problem_rows_are_recorded_by_row(small):
    out, truth = small
    for kind, items in truth["quality"].items():
        if kind in ("median_duration_s", "notes", "boundary_not_late"):
            continue
        for x in items:
            rows = {r["form_id"]: r for r in truth["files"][x["file"]]["rows"]}
            assert rows[x["form_id"]]["row"] == x["row"]
            assert kind in rows[x["form_id"]]["problems"]
        assert len(items) == truth["counts"]["problems"][kind] >= 2


# --- texts, personal data, hostile strings ---------------------------------------------------

def test_texts_sit_in_the_stated_cells(small, codebook):
    out, truth = small
    fr = frames(out, codebook)
    stated = {(t["source"], t["form_id"], t["variable"]): t for t in truth["texts"] if t["source"] != synth.MBOX_FILE}
    got = {}
    for name, (df, m, _) in fr.items():
        for h, var in m["mapping"].items():
            if codebook.variables[var].type == "text" and var != "contact":
                for fid, x in zip(df["ID"], df[h]):
                    if not pd.isna(x):
                        got[(name, int(fid), var)] = x
    assert set(got) == set(stated)
    for key, t in stated.items():
        assert got[key] == t["text"]
        assert set(t["themes"]) <= set(synth.THEME_CODES)
        assert fr[key[0]][1]["mapping"][t["column"]] == t["variable"]
    # open questions are answered by a minority
    for var in synth.TEXT_RATE:
        share = sum(1 for k in stated if k[2] == var) / N
        assert 0.05 < share < 0.5, (var, share)


def test_planted_pii_occurs_where_stated(small, codebook):
    out, truth = small
    texts = {t["id"]: t["text"] for t in truth["texts"]}
    fr = frames(out, codebook)
    kinds = set()
    for p in truth["pii"]:
        kinds.add(p["type"])
        if "text_id" in p:
            assert p["value"] in texts[p["text_id"]], p
        if p.get("variable") in ("contact", "email", "respondent_name"):
            df, m, _ = fr[p["file"]]
            assert p["value"] in str(by_id(df, p["form_id"])[column_of(m, p["variable"])])
    assert {"name", "email", "phone", "personal_code", "iban"} <= kinds
    msgs = read_mbox(out / synth.MBOX_FILE)
    for p in truth["pii"]:
        if p.get("file") == synth.MBOX_FILE:
            msg = msgs[p["message"]]
            if p["where"] == "header:From":
                a = msg["From"].addresses[0]
                assert p["value"] in (a.display_name, a.addr_spec)
            else:
                assert p["value"] in msg.get_body(("plain", "html")).get_content()
    for p in truth["pii"]:
        if p["type"] == "personal_code":
            assert re.fullmatch(r"(\d{6}-[012]\d{4}|32\d{4}-\d{5})", p["value"])
        if p["type"] == "iban":
            s = p["value"].replace(" ", "")
            assert re.fullmatch(r"LV\d\d[A-Z]{4}\d{13}", s)
            assert int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 == 1


def test_hostile_strings_occur_and_stay_text(small, codebook):
    out, truth = small
    texts = {t["id"]: t["text"] for t in truth["texts"]}
    values = {h["value"] for h in truth["hostile"]}
    assert {h["value"] for h in synth.HOSTILE} <= values
    fr = frames(out, codebook)
    for h in truth["hostile"]:
        text = texts[h["text_id"]]
        assert h["value"] in text
        if h["at_start"]:
            assert text.startswith(h["value"]) and text[0] in "=+-@"
        if h["file"] != synth.MBOX_FILE:
            df, m, _ = fr[h["file"]]
            assert by_id(df, h["form_id"])[column_of(m, h["variable"])] == text   # read back as text, not a formula


def test_texts_vary_and_some_lack_diacritics():
    rng = np.random.default_rng(0)
    for lang in ("lv", "ru"):
        for theme in synth.THEME_CODES:
            bank = synth.PHRASES[lang][theme]
            assert len(bank) >= 6, (lang, theme)
            variants = {synth.compose_text(rng, lang, [theme], sentences=1) for _ in range(150)}
            assert len(variants) >= 20, (lang, theme, len(variants))
    for theme in synth.THEME_CODES:
        assert synth.PHRASES["en"][theme]
    assert synth.strip_diacritics("mājokļu pieejamība") == "majoklu pieejamiba"


def test_themes_cover_every_sector(codebook):
    codes = [t["code"] for t in synth.THEMES]
    assert len(codes) == len(set(codes))
    for s in codebook.sectors:
        assert sum(1 for t in synth.THEMES if t["sector"] == s) >= 2, s
    assert {t["sector"] for t in synth.THEMES} == set(codebook.sectors) | {"cross-cutting"}
    assert all(t["lv"] and t["en"] for t in synth.THEMES)


# --- e-mail ------------------------------------------------------------------------------------

def test_mbox_parses_with_claimed_charsets_and_encodings(small):
    out, truth = small
    msgs = read_mbox(out / synth.MBOX_FILE)
    meta = truth["emails"]["messages"]
    assert len(msgs) == len(meta) == truth["emails"]["n_messages"] == N_EMAIL
    charsets, ctes = set(), set()
    for msg, t in zip(msgs, meta):
        assert msg["Message-ID"] == t["message_id"]
        assert msg["From"].addresses[0].addr_spec == t["from_address"]
        assert msg["From"].addresses[0].display_name == t["from_name"]
        assert str(msg["Subject"]) == t["subject"]
        when = email.utils.parsedate_to_datetime(msg["Date"])
        assert dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc) < when < dt.datetime(2022, 3, 1, tzinfo=dt.timezone.utc)
        assert t["late"] == (dt.datetime.fromisoformat(t["date_riga"]) > dt.datetime(2022, 2, 27, 23, 59, 59))
        leaves = [p for p in msg.walk() if not p.is_multipart() and p.get_content_maintype() == "text"]
        assert [(p.get_content_type(), p.get_content_charset(), p["Content-Transfer-Encoding"]) for p in leaves] == \
            [(q["content_type"], q["charset"], q["cte"]) for q in t["parts"]]
        charsets |= {q["charset"] for q in t["parts"]}
        ctes |= {q["cte"] for q in t["parts"]}
        atts = [p for p in msg.iter_attachments()]
        assert [(a.get_filename(), a.get_content_type(), len(a.get_content())) for a in atts] == \
            [(a["filename"], a["content_type"], a["size"]) for a in t["attachments"]]
        body = msg.get_body(("plain", "html"))
        text = body.get_content()
        for para in t["paragraphs"]:
            if body.get_content_type() == "text/html":
                import html
                para = html.escape(para).replace("\n", "<br>")
            assert para in text
        assert t["greeting"] in text and t["signature"]["name"] in text
        if t["quoted"]:
            assert t["quote_header"] in text or __import__("html").escape(t["quote_header"]) in text
    assert {"utf-8", "windows-1257"} <= charsets
    assert {"quoted-printable", "base64"} <= ctes


def test_sample_mbox_has_the_promised_variety():
    truth = json.loads((SAMPLE / synth.TRUTH_FILE).read_text(encoding="utf-8"))
    meta = truth["emails"]["messages"]
    assert 50 <= len(meta) <= 70
    assert {m["lang"] for m in meta} == {"lv", "ru", "en"}
    assert any(m["structure"] == "alternative" for m in meta) and any(m["structure"] == "html" for m in meta)
    assert any(m["attachments"] for m in meta) and any(m["quoted"] for m in meta)
    assert any("rakstīja:" in (m["quote_header"] or "") for m in meta)
    assert any("wrote:" in (m["quote_header"] or "") for m in meta)
    assert any(not m["diacritics"] for m in meta)
    greetings = {m["greeting"] for m in meta}
    assert greetings & set(synth.GREETINGS["lv"]) and greetings & set(synth.GREETINGS["ru"])
    assert any(q["charset"] == "windows-1257" and q["cte"] == "quoted-printable" for m in meta for q in m["parts"])
    assert any(m["late"] for m in meta) and not all(m["late"] for m in meta)


# --- determinism and the committed sample --------------------------------------------------

def parsed_mbox(path: Path) -> list[tuple]:
    out = []
    for msg in read_mbox(path):
        parts = [(p.get_content_type(), p.get_content_charset(), p["Content-Transfer-Encoding"], p.get_content())
                 for p in msg.walk() if not p.is_multipart()]
        out.append((tuple((k, str(v)) for k, v in msg.items()), tuple(parts)))
    return out


def assert_same_content(a: Path, b: Path, *, as_bytes: bool = True) -> None:
    for name in synth.FORM_FILES.values():
        pd.testing.assert_frame_equal(read_export(a / name), read_export(b / name))
    assert parsed_mbox(a / synth.MBOX_FILE) == parsed_mbox(b / synth.MBOX_FILE)
    assert json.loads((a / synth.TRUTH_FILE).read_text(encoding="utf-8")) == \
        json.loads((b / synth.TRUTH_FILE).read_text(encoding="utf-8"))
    if as_bytes:
        assert (a / synth.MBOX_FILE).read_bytes() == (b / synth.MBOX_FILE).read_bytes()
        assert (a / synth.TRUTH_FILE).read_bytes() == (b / synth.TRUTH_FILE).read_bytes()


def test_same_seed_same_content_other_seed_differs(small, tmp_path):
    out, _ = small
    synth.synth(N, SEED, tmp_path / "again", n_email=N_EMAIL)
    assert_same_content(out, tmp_path / "again")
    for name in synth.FORM_FILES.values():                      # even the workbook bytes
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    synth.synth(N, SEED + 1, tmp_path / "other", n_email=N_EMAIL)
    assert (out / synth.TRUTH_FILE).read_bytes() != (tmp_path / "other" / synth.TRUTH_FILE).read_bytes()
    assert not read_export(out / "forms_lv.xlsx").equals(read_export(tmp_path / "other" / "forms_lv.xlsx"))
    assert (out / synth.MBOX_FILE).read_bytes() != (tmp_path / "other" / synth.MBOX_FILE).read_bytes()


def test_committed_sample_regenerates_from_its_seed(tmp_path):
    truth = json.loads((SAMPLE / synth.TRUTH_FILE).read_text(encoding="utf-8"))
    g = truth["generator"]
    assert g["module"] == "analysis.synth" and g["synthetic"] is True
    synth.synth(g["n"], g["seed"], tmp_path, n_email=g["n_email"])
    assert_same_content(SAMPLE, tmp_path, as_bytes=False)     # parsed: robust to zlib or header folding


# --- the streamed workbook writer (national scale) ------------------------------------------------

def _awkward_table() -> tuple[list[str], list[list]]:
    headers = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time", "Jautājums", "Teksts"]
    t0 = dt.datetime(2022, 1, 9, 0, 4, 10)
    rows = []
    odd = ["=SUM(A1:A2)", "=", "+37126106602", " leading", "trailing ", "  ", "", "a & b < c > d",
           "rinda\nnākamā", "#N/A", "Что лучше?", "x" * 40000, '"quoted" \'single\'', "_x0041_"]
    for i, text in enumerate(odd):
        t = t0 + dt.timedelta(seconds=997 * i, microseconds=0)
        rows.append([i + 1, t, t + dt.timedelta(seconds=400), "anonymous", None if i % 2 else "Anna Bērziņa",
                     t + dt.timedelta(seconds=400), i if i % 3 else None, text])
    return headers, rows


def test_streamed_writer_is_openpyxls_workbook_byte_for_byte(tmp_path):
    headers, rows = _awkward_table()
    synth.write_forms_xlsx_openpyxl(tmp_path / "old.xlsx", headers, rows)
    synth.write_forms_xlsx(tmp_path / "new.xlsx", headers, iter(rows), len(rows))
    assert (tmp_path / "new.xlsx").read_bytes() == (tmp_path / "old.xlsx").read_bytes()


def test_streamed_zip64_workbook_reads_to_the_same_cells(tmp_path, monkeypatch):
    import openpyxl

    headers, rows = _awkward_table()
    synth.write_forms_xlsx_openpyxl(tmp_path / "old.xlsx", headers, rows)
    monkeypatch.setattr(synth, "STREAM_ROWS", 3)                # forced through the large-export path
    synth.write_forms_xlsx(tmp_path / "big.xlsx", headers, rows)
    assert (tmp_path / "big.xlsx").read_bytes() != (tmp_path / "old.xlsx").read_bytes()   # ZIP64 member

    def cells(path):
        wb = openpyxl.load_workbook(path)
        return [[c.value for c in row] for row in wb["Sheet1"].iter_rows()]

    got = cells(tmp_path / "big.xlsx")
    assert got == cells(tmp_path / "old.xlsx")
    assert got[1][1] == rows[0][1] and got[1 + 10][7] == "Что лучше?" and got[1 + 3][7] == " leading"
    assert len(got[1 + 11][7]) == 32767                         # truncated as openpyxl truncates
    plain = [r for r in rows if r[7] != "#N/A"]                 # xlsx_stream leaves error cells to calamine
    synth.write_forms_xlsx_openpyxl(tmp_path / "old2.xlsx", headers, plain)
    synth.write_forms_xlsx(tmp_path / "big2.xlsx", headers, plain)
    assert stream_cells(tmp_path / "big2.xlsx") == stream_cells(tmp_path / "old2.xlsx")    # our reader too
    with pytest.raises(ValueError):                             # a control character: refused, as openpyxl does
        synth.write_forms_xlsx(tmp_path / "bad.xlsx", headers, [rows[0], rows[1][:7] + ["bell\x07"]])


def stream_cells(path: Path) -> tuple[dict, list]:
    from analysis import xlsx_stream

    header, batches, _ = xlsx_stream.read_sheet(path)
    return header, [(start, [a.to_pylist() for a in arrays]) for start, arrays in batches]


def test_committed_sample_shape():
    truth = json.loads((SAMPLE / synth.TRUTH_FILE).read_text(encoding="utf-8"))
    assert truth["generator"]["seed"] == 2022 and truth["counts"]["rows"] == 1200
    assert 900 <= truth["counts"]["forms_lv.xlsx"] <= 1050
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 5_000_000
    for kind, k in truth["counts"]["problems"].items():
        assert 8 <= k <= 15, kind
    obs = truth["observed"]
    c = obs["group_counts"]
    assert 0.62 < c["gender"]["female"] / sum(c["gender"].values()) < 0.78
    assert c["target_group"]["resident"] / sum(c["target_group"].values()) > 0.7
    age = c["age_group"]
    assert (age["25_34"] + age["35_44"] + age["45_54"]) / sum(age.values()) > 0.55
    assert age["lt18"] < 40 and age["75plus"] < 40
    for s, a in obs["cronbach_alpha"].items():
        assert 0.65 <= a <= 0.85, (s, a)
    means = obs["sector_mean_score"]
    assert max(means, key=means.get) in ("housing", "urban") and min(means, key=means.get) == "participation"
    assert all(0.03 <= x <= 0.25 for x in obs["dont_know_share"].values())
    lv_texts = [t for t in truth["texts"] if t["lang"] == "lv"]
    share = sum(not t["diacritics"] for t in lv_texts) / len(lv_texts)
    assert 0.08 < share < 0.25
    assert len(truth["null_items"]) >= 8
    assert all(it.startswith("participation_") is False for it in truth["effect_items"])
    for e in truth["effects"]:
        assert e["size_sd"] >= 0.5


def test_sample_effects_point_the_planted_way(codebook):
    """Mean Likert score of the most shifted group beats the unshifted groups (clean rows)."""
    truth = json.loads((SAMPLE / synth.TRUTH_FILE).read_text(encoding="utf-8"))
    bad = {(q["file"], q["form_id"]) for k in synth.EXCLUDING for q in truth["quality"][k]}
    rows = []
    for name, (df, m, lang) in frames(SAMPLE, codebook).items():
        keep = [(name, int(i)) not in bad for i in df["ID"]]
        sub = df[keep]
        rec = pd.DataFrame(index=sub.index)
        for h, var in m["mapping"].items():
            t = codebook.variables[var].type

            def code(x, var=var):
                if pd.isna(x):
                    return None
                try:
                    return codebook.code_of(var, x, lang)
                except UnknownLabel:
                    return None
            if t in ("single", "likert"):
                rec[var] = sub[h].map(code)
            elif var == "info_language":
                ru = codebook.label_of("info_language", "ru", lang) + ";"
                rec[var] = sub[h].map(lambda x: None if pd.isna(x) else ("ru" if ru in x else "not_ru"))
        rows.append(rec)
    data = pd.concat(rows)
    for e in truth["effects"]:
        top = max(e["shift"], key=e["shift"].get)
        for it in e["items"]:
            scores = pd.to_numeric(data[it], errors="coerce")
            grp = data[e["grouping"]]
            hi = scores[grp == top].mean()
            zero = [lev for lev, s in e["shift"].items() if s == 0] or None
            lo = scores[grp.isin(zero)].mean() if zero else scores[grp != top].mean()
            assert hi - lo > 0.2, (e["id"], it, hi, lo)


# --- population and command line ---------------------------------------------------------------

def test_population_file_is_the_generators(codebook):
    pop = yaml.safe_load((ROOT / "params" / "population" / "liepaja-synthetic.yaml").read_text(encoding="utf-8"))
    assert pop["official"] is False and "synthetic" in pop["source"]
    assert pop["margins"] == synth.POPULATION
    for var, levels in pop["margins"].items():
        assert set(levels) <= set(codebook.variables[var].codes), var
        assert 60_000 <= sum(levels.values()) <= 70_000
        assert sum(levels.values()) == pop["total"]


def test_main_exit_codes(tmp_path, capsys):
    assert synth.main(["--n", "20", "--out", str(tmp_path / "x")]) == 2
    assert "at least 100" in capsys.readouterr().err
    assert synth.main(["--n", "abc"]) == 2
    assert synth.main(["synth", "--n", "120", "--seed", "3", "--out", str(tmp_path / "y"), "--emails", "6"]) == 0
    assert (tmp_path / "y" / "truth.json").exists() and (tmp_path / "y" / "forms_ru.xlsx").exists()


# --- the embedded sample's shape is data, not code ----------------------------------------------

def test_the_sample_generator_reads_its_survey_from_data_files():
    src = (ROOT / "src" / "analysis" / "synth.py").read_text(encoding="utf-8")
    assert "Liepāj" not in src and "liepaja" not in src.lower()
    gen = ROOT / "data" / "sample" / "generator"
    texts = yaml.safe_load((gen / "texts.yaml").read_text(encoding="utf-8"))
    ratings = yaml.safe_load((gen / "ratings.yaml").read_text(encoding="utf-8"))
    assert synth.PHRASES == texts["phrases"] and synth.THEMES == texts["themes"]
    assert synth.EFFECTS == ratings["effects"] and synth.SECTOR_MEAN == ratings["sector_mean"]
    assert synth.SD_ITEM ** 2 == pytest.approx(ratings["var_item"])


# --- any codebook ----------------------------------------------------------------------------------

SECOND = ROOT / "params" / "codebooks" / "naidislinn-2024.yaml"
SECOND_DATA = ROOT / "data" / "naidislinn-2024"


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    from analysis import codebook as cbmod

    out = tmp_path_factory.mktemp("second")
    truth = synth.synth_codebook(SECOND, n=150, seed=5, out_dir=out, spec_path=SECOND_DATA / "generator.yaml")
    return out, truth, cbmod.load(SECOND)


def test_any_codebook_export_has_its_headers_missing_codes_and_ticks(second):
    import csv

    out, truth, cb = second
    (name,) = truth["files"]
    assert name.endswith(".csv")
    rows = list(csv.reader((out / name).read_text(encoding="utf-8").splitlines()))
    header, body = rows[0], rows[1:]
    m = cb.match_headers(header)
    assert m["language"] == "et" and m["missing"] == [] and m["unexpected"] == [] and m["score"] == 1.0
    assert len(body) == truth["counts"][name] == 150 + truth["counts"]["problems"]["duplicate"]
    assert "Start time" not in header and "Email" not in header        # the codebook has neither
    col = {h: i for i, h in enumerate(header)}
    seen = set()
    for h, column in m["mapping"].items():
        var, option = cb.column_owner(column)
        v = cb.variables[var]
        for r in body:
            x = r[col[h]]
            if v.type == "multi":
                assert x in ("", "1"), (h, x)                          # one column per option: ticked or empty
            elif v.type == "likert":
                assert x == "-1" or 0 <= int(x) <= 10, (h, x)          # 0-10, no labels; skipped = -1
                seen.add(x == "-1")
            elif v.type == "single":
                assert x == "NA" or cb.code_of(var, x, "et"), (h, x)   # a known label or the code NA
    assert seen == {True, False}
    assert any(r[col["Teie vanus"]] == "NA" for r in body)


def test_any_codebook_reversed_items_run_against_their_topic(second):
    out, truth, cb = second
    planted = {(r["file"], r["form_id"]) for k in truth["quality"].values() for r in k}
    import csv

    (name,) = truth["files"]
    rows = list(csv.DictReader((out / name).read_text(encoding="utf-8").splitlines()))
    assert truth["reversed_items"] == ["transport_3", "green_3", "safety_3", "community_3"]

    def scores(var):
        h = cb.variables[var].headers["et"]
        return [int(r[h]) if r[h] not in ("-1", "") else np.nan for r in rows
                if (name, int(r["ID"])) not in planted]
    for topic in ("transport", "green", "safety", "community"):
        a, rev = np.array(scores(f"{topic}_1")), np.array(scores(f"{topic}_3"))
        ok = ~np.isnan(a) & ~np.isnan(rev)
        assert np.corrcoef(a[ok], rev[ok])[0, 1] < -0.2, topic          # as worded: opposite directions
        assert np.corrcoef(a[ok], 10 - rev[ok])[0, 1] > 0.2, topic      # reversed (min + max - x): together


def test_any_codebook_planted_problems_are_where_truth_says(second):
    import csv

    out, truth, cb = second
    (name,) = truth["files"]
    rows = list(csv.reader((out / name).read_text(encoding="utf-8").splitlines()))[1:]
    by_id = {int(r[0]): r for r in rows}
    for d in truth["quality"]["duplicate"]:
        assert by_id[d["form_id"]][1:] == by_id[d["duplicate_of_id"]][1:]
        assert d["row"] == d["form_id"] + 1
    items = [cb.variables[i].headers["et"] for i in cb.likert_items]
    header = list(csv.reader((out / name).read_text(encoding="utf-8").splitlines()))[0]
    idx = [header.index(h) for h in items]
    for s in truth["quality"]["straightliner"]:
        assert {by_id[s["form_id"]][i] for i in idx} == {str(s["score"])}
    for e in truth["quality"]["empty"]:
        assert set(by_id[e["form_id"]][1:]) <= {"", "NA", "-1"}
    assert all(len(v) >= 1 for v in truth["quality"].values())


def test_any_codebook_labelled_scales_times_and_joined_multis(tmp_path, codebook):
    """The generic path on a codebook with labelled Likert points, don't-know, time columns,
    ';'-joined multi-selects and two forms: every cell is a label the codebook knows."""
    truth = synth.synth_codebook(codebook, n=120, seed=3, out_dir=tmp_path, n_email=4)
    assert set(truth["files"]) == {"forms_lv.xlsx", "forms_ru.xlsx"}
    start = pd.Timestamp(codebook.window["start"])
    end = pd.Timestamp(codebook.window["end"])
    dk = 0
    for name, f in truth["files"].items():
        df = read_export(tmp_path / name)
        m = codebook.match_headers(list(df.columns))
        assert m["language"] == f["language"] and m["missing"] == [] and m["unexpected"] == []
        assert df["Completion time"].between(start, end).all()
        assert (df["Start time"] < df["Completion time"]).all()
        for h, var in m["mapping"].items():
            v = codebook.variables[var]
            for x in df[h].dropna():
                if v.type == "likert":
                    if x == codebook.scale_of(var).dont_know[f["language"]]:
                        dk += 1
                        continue
                    assert codebook.code_of(var, x, f["language"]) in (1, 2, 3, 4, 5)
                elif v.type == "single" and not v.other_text:
                    codebook.code_of(var, x, f["language"])
                elif v.type == "multi" and not v.other_text:
                    assert x.endswith(";")
                    for lab in x[:-1].split(";"):
                        codebook.code_of(var, lab, f["language"])
                elif v.type in ("rating", "nps"):
                    assert v.range[0] <= float(x) <= v.range[1]
    assert dk > 0
    assert len(read_mbox(tmp_path / synth.MBOX_FILE)) == truth["counts"]["messages"] == 4


def test_any_codebook_refuses_a_missing_code_the_codebook_does_not_declare(tmp_path):
    with pytest.raises(ValueError, match="missing_codes.single"):
        synth.synth_codebook(SECOND, n=50, seed=1, out_dir=tmp_path, spec={"missing_codes": {"single": "n/a"}})


def test_second_survey_export_regenerates_from_its_params(tmp_path):
    truth = json.loads((SECOND_DATA / synth.TRUTH_FILE).read_text(encoding="utf-8"))
    g = truth["generator"]
    assert g["codebook"] == "params/codebooks/naidislinn-2024.yaml" and g["synthetic"] is True
    assert synth.main(["--params", str(ROOT / "params" / "naidislinn-2024.yaml"), "--n", str(g["n"]),
                       "--seed", str(g["seed"]), "--out", str(tmp_path)]) == 0
    for f in list(truth["files"]) + [synth.TRUTH_FILE]:
        assert (tmp_path / f).read_bytes() == (SECOND_DATA / f).read_bytes(), f
