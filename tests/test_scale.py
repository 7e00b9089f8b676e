"""Stage 01's paths for big exports (issue 15): the chunked background redaction with the main
process taking chunks too, the ratings table built by index, Arrow-native time columns.
Each is checked against the plain path it replaces."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis import clean, ingest

TEXTS = [f"Zvaniet Jānim Bērziņam {i}, tālr. 2912{i:04d}, vai rakstiet janis{i}@example.lv" for i in range(45)]


@pytest.fixture(scope="module")
def privacy():
    from analysis import privacy as p
    return p


@pytest.fixture(scope="module")
def expected(privacy):
    return [privacy.redact(t) for t in TEXTS]


def _redactor(privacy, **kw):
    r = clean.Redactor(privacy, **kw)
    r.PARALLEL_FROM, r.CHUNK = 10, 7             # 45 texts: 7 chunks, the last one short
    return r


def test_children_alone_give_what_redacting_here_gives(privacy, expected):
    r = _redactor(privacy, workers=2, steal=False)
    r.start(TEXTS)
    job = r._jobs[0]
    assert len(job.queue) + len(job.out) <= 7
    got = [r.redact(t) for t in TEXTS]
    assert got == expected
    assert len(job.out) == 7 and not job.queue          # every chunk done by a child
    assert "janis3@example.lv" not in " ".join(got) and "2912" not in " ".join(got)


def test_main_process_taking_chunks_gives_the_same(privacy, expected):
    r = _redactor(privacy, workers=1, steal=True)
    r.start(TEXTS)
    assert [r.redact(t) for t in TEXTS] == expected
    assert not r._jobs and not r._pending


def test_a_failing_child_never_lets_a_text_through_unredacted(privacy, expected, monkeypatch):
    monkeypatch.setattr(clean, "_REDACT_WORKER", "import sys\nsys.exit(3)\n")
    for steal in (True, False):
        r = _redactor(privacy, workers=2, steal=steal)
        r.start(TEXTS)
        assert [r.redact(t) for t in TEXTS] == expected, steal


def test_a_child_answering_wrongly_is_not_believed(privacy, expected, monkeypatch):
    # a child that echoes one text too few: its chunk is given back and redacted here
    monkeypatch.setattr(clean, "_REDACT_WORKER",
                        "import json, sys\nfor line in sys.stdin.buffer:\n"
                        "    sys.stdout.buffer.write(json.dumps(json.loads(line)[1:]).encode() + b'\\n')\n"
                        "    sys.stdout.buffer.flush()\n")
    r = _redactor(privacy, workers=1, steal=False)
    r.start(TEXTS)
    assert [r.redact(t) for t in TEXTS] == expected


def test_close_leaves_no_child_process(privacy):
    psutil = pytest.importorskip("psutil")
    r = _redactor(privacy, workers=2, steal=False)
    r.start(TEXTS * 3 + [t + "!" for t in TEXTS])
    r.close()
    assert not r._jobs and not psutil.Process().children(recursive=True)


def test_ratings_by_index_equal_the_cell_by_cell_table():
    from analysis import codebook as codebook_mod
    from analysis import paths

    cb = codebook_mod.load(paths.ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    items = cb.likert_items
    rng = np.random.default_rng(5)
    n = 23
    responses = pd.DataFrame({"respondent_id": pd.array([f"R-{i:08d}" for i in range(n)], dtype="string")})
    for i in items:
        s = rng.integers(1, 6, n).astype(object)
        s[rng.random(n) < 0.3] = None
        responses[i] = pd.array(s, dtype="Int64")
        responses[f"{i}_dk"] = rng.random(n) < 0.1
    got = clean._ratings(responses, cb)
    assert len(got) == n * len(items)
    old_ids = pd.array(np.tile(responses["respondent_id"].to_numpy(dtype=object), len(items)), dtype="string")
    assert got["respondent_id"].dtype == old_ids.dtype
    assert got["respondent_id"].tolist() == old_ids.tolist()
    assert got["respondent_id"].iloc[n] == "R-00000000" and got["item"].iloc[n] == items[1]
    empty = clean._ratings(responses.iloc[:0], cb)
    assert len(empty) == 0 and empty["respondent_id"].dtype == old_ids.dtype


def test_parquet_written_in_parts_equals_one_write(tmp_path, monkeypatch):
    """Streamed parquet (issue 15): a table longer than one row group is made Arrow a row group
    at a time; the file is byte for byte what pyarrow's write_table gives with that row group
    size, even when the first part alone would type a column otherwise (all missing there)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from analysis import schemas

    n = 23
    df = pd.DataFrame({
        "respondent_id": pd.array([f"R-{i:08d}" for i in range(n)], dtype="string"),
        "source_file": pd.array(["a.xlsx"] * n, dtype="string"),
        "source_row": pd.array(range(2, n + 2), dtype="Int64"),
        "form_language": pd.Categorical([None] * 9 + ["lv", "ru"] * 7, categories=["lv", "ru"]),
        "reasons": pd.array(["empty"] * n, dtype="string"),
        "details": pd.array([f"d{i}" for i in range(n)], dtype="string"),
    })
    monkeypatch.setattr(schemas, "ROW_GROUP_ROWS", 7)
    got = schemas.write_parquet(df, tmp_path / "parts.parquet", "quarantine")
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata)
    meta[schemas.METADATA_KEY] = b"quarantine/v1"
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "one.parquet", row_group_size=7)
    assert pq.ParquetFile(got).metadata.num_row_groups == 4
    assert got.read_bytes() == (tmp_path / "one.parquet").read_bytes()
    back = schemas.read_parquet(got, "quarantine")
    pd.testing.assert_frame_equal(back, df)


def test_recoding_distinct_values_equals_recoding_each_cell_alone():
    """The column-wise recode (each distinct label looked up once, mapped back by index) gives
    every cell what recoding that cell alone gives: odd labels (stray spaces, capitals, control
    characters, numbers as floats, unknown labels, empty and missing cells) included."""
    from pathlib import Path

    from analysis import codebook as codebook_mod
    from analysis import paths

    cb = codebook_mod.load(paths.ROOT / "params" / "codebooks" / "liepaja-2022.yaml")
    single = next(v for v in cb.variables.values() if v.type == "single")
    multi = next(v for v in cb.variables.values() if v.type == "multi" and v.layout == "joined")
    item = cb.likert_items[0]
    labels = list(cb.label_map(single.name, "lv"))
    mlabels = list(cb.label_map(multi.name, "lv"))
    scale = cb.scales[cb.variables[item].scale]
    points = list(scale.scores["lv"])
    odd = lambda xs: [xs[0], f"  {xs[0]} ", xs[0].upper(), xs[-1].lower(), f"{xs[1]}\x07", "nekas tāds",  # noqa: E731
                      None, "", "   ", 3.0, 3, xs[1]]
    cells = {
        single.name: odd(labels),
        multi.name: [f"{mlabels[0]};{mlabels[1]}", f" {mlabels[1]} ;{mlabels[0].upper()}", f"{mlabels[0]};nav",
                     None, "", ";", mlabels[2], f"{mlabels[2]};", 1.0, mlabels[0], mlabels[0], mlabels[1]],
        item: odd(points)[:-1] + [scale.dont_know["lv"].lower()],
    }
    n = len(cells[single.name])
    rng = np.random.default_rng(3)
    order = rng.permutation(np.repeat(np.arange(n), 3))        # each cell three times, shuffled

    def export(rows):
        data = {v: np.full(len(rows), None, dtype=object) for v in cb.variables}
        for name, col in cells.items():
            data[name] = np.array([col[i] for i in rows] + [None], dtype=object)[:-1]
        frame = pd.DataFrame(data, dtype=object)
        return ingest.FormsExport(path=Path("x.xlsx"), source_file="x.xlsx", language="lv", frame=frame,
                                  source_row=np.arange(2, 2 + len(rows)), headers={})

    whole = clean.recode(export(order), cb)
    for pos, i in enumerate(order):
        alone = clean.recode(export([i]), cb)
        for name, col in alone.coded.items():
            a, b = whole.coded[name][pos], col[0]
            assert (pd.isna(a) and pd.isna(b)) or a == b, (name, cells.get(name.split("__")[0], [None] * n)[i], a, b)
        for u in alone.unknown:
            match = next(w for w in whole.unknown if w.variable == u.variable and w.reason == u.reason)
            k = list(match.rows).index(pos)
            assert match.labels[k] == u.labels[0]
        assert sum(pos in w.rows for w in whole.unknown) == sum(len(u.rows) for u in alone.unknown)
        loose_whole = {c.variable for c in whole.notes if pos in c.rows}
        assert loose_whole == {c.variable for c in alone.notes}
        assert whole.answered_any[pos] == alone.answered_any[0]
    assert any(w.variable == single.name for w in whole.unknown)
    assert any(c.action == "label_matched_ignoring_case_and_spaces" for c in whole.notes)
