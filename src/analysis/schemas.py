"""The shape of every file stage 01 writes, checked when written and again when read.

A hand-written check (no pandera): each table is a `Schema` of `Column`s with a kind
(string, category, int, float, bool, boolean, datetime), nullability, allowed values or a
range, and uniqueness. The response table's columns follow the codebook (one indicator per
multi-choice option, one score and one don't-know flag per Likert item), so its schema is
built from the codebook. Parquet files carry the schema's name and version in their metadata;
a stage that reads a file of another shape stops with a `SchemaError` naming the file, the
column, what was expected and what was found.

Contract (other stages rely on these names):

- responses.parquet  one row per analysed response: respondent_id, source_file, source_row,
  form_language, start_time, completion_time (the codebook's time zone; empty when the export
  has no such column), duration_s; each single-choice
  variable as its code (categorical); <var>_other texts (redacted); <var>__<code> indicators
  (nullable boolean: NA when the question was skipped); ratings/NPS as Int64; each Likert item
  as Int64 in its scale's range (NA for don't know or skipped) with <item>_dk; has_contact;
  flag_<rule>; weight.
- ratings.parquet    long: respondent_id, item, sector, score (Int64), dont_know.
- proposals.parquet  one row per non-empty open answer or e-mail (text redacted).
- quarantine.parquet every excluded row with all its reasons.
- cleaning_log.csv   rules with parameters and counts, per-cell decisions (no personal data).
- tables/flow.csv    per source file: rows_read = rows_analysed + rows_quarantined.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import pandas as pd

from .codebook import DEFAULT_TIMEZONE

TIMEZONE = DEFAULT_TIMEZONE          # of tables whose schema does not follow a codebook
METADATA_KEY = b"analysis.schema"
LANGUAGE = r"[a-z]{2,3}"             # a form language: any ISO 639 code
REASONS = ("unparseable_date", "invalid_duration", "missing_id", "oversized_text", "unknown_label",
           "out_of_range", "broken_message", "empty", "duplicate", "speeder", "straightliner",
           "outside_window")


class SchemaError(ValueError):
    """A table does not have the agreed shape; says which file, column, expected and found."""

    def __init__(self, where: str, column: str | None, expected: str, found: str):
        self.where, self.column, self.expected, self.found = where, column, expected, found
        col = f", column {column!r}" if column else ""
        advice = ("This is a bug in stage 01: the table was not written." if "being written" in where else
                  "The file was probably written by another version of stage 01: run `01_clean` again.")
        super().__init__(f"{where}{col}: expected {expected}; found {found}. {advice}")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str                         # string|category|int|float|bool|boolean|datetime
    nullable: bool = True
    values: tuple | None = None       # allowed values (string/category)
    range: tuple[float, float] | None = None
    unique: bool = False
    pattern: str | None = None        # regex every non-null string value must match
    doc: str = ""
    optional: bool = False            # may be absent (e.g. flag_<rule> only for rules that flag)
    tz: str | None = None             # datetime: the time zone (default TIMEZONE)


@dataclass(frozen=True)
class Schema:
    name: str
    version: int
    columns: tuple[Column, ...]
    doc: str = ""
    strict: bool = True               # no columns beyond those listed

    @property
    def tag(self) -> str:
        return f"{self.name}/v{self.version}"

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def validate(self, df: pd.DataFrame, where: str = "") -> pd.DataFrame:
        """Raise SchemaError at the first difference from the agreed shape; return df unchanged."""
        where = where or self.name
        missing = [c.name for c in self.columns if c.name not in df.columns and not c.optional]
        if missing:
            raise SchemaError(where, missing[0], f"the columns {', '.join(self.names)}",
                              f"no column {missing[0]!r} (missing: {', '.join(missing[:8])})")
        if self.strict:
            extra = [c for c in df.columns if c not in self.names]
            if extra:
                raise SchemaError(where, extra[0], "only the agreed columns (no personal data, nothing else)",
                                  f"extra column(s) {', '.join(map(str, extra[:8]))}")
        if len(set(df.columns)) != len(df.columns):
            raise SchemaError(where, None, "unique column names", "duplicate column names")
        for col in self.columns:
            if col.name in df.columns:
                _check_column(df[col.name], col, where)
        return df


def _check_column(s: pd.Series, col: Column, where: str) -> None:
    kind, dtype = col.kind, s.dtype
    ok = {
        "string": lambda: isinstance(dtype, pd.StringDtype) or (dtype == object and _all_str(s)),
        "category": lambda: isinstance(dtype, pd.CategoricalDtype) or isinstance(dtype, pd.StringDtype),
        "int": lambda: pd.api.types.is_integer_dtype(dtype),
        "float": lambda: pd.api.types.is_float_dtype(dtype),
        "bool": lambda: pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype),
        "boolean": lambda: pd.api.types.is_bool_dtype(dtype),
        "datetime": lambda: isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == (col.tz or TIMEZONE),
    }[kind]()
    if not ok:
        expected = {"datetime": f"tz-aware date-times in {col.tz or TIMEZONE}", "int": "integers (Int64)",
                    "bool": "True/False without missing values", "boolean": "True/False/NA",
                    "category": "codes (categorical or string)"}.get(kind, kind)
        raise SchemaError(where, col.name, expected, f"dtype {dtype}")
    na = s.isna()
    if not col.nullable and na.any():
        raise SchemaError(where, col.name, "no missing values", f"{int(na.sum())} missing")
    present = s[~na]
    if col.values is not None and len(present):
        allowed = set(col.values)
        bad = pd.unique(present[~present.astype(object).isin(allowed)].astype(object))
        if len(bad):
            raise SchemaError(where, col.name, f"one of {sorted(allowed)[:12]}",
                              f"{len(bad)} other value(s), e.g. {str(bad[0])[:40]!r}")
    if col.range is not None and len(present):
        lo, hi = col.range
        vals = present.astype("float64")
        if (vals < lo).any() or (vals > hi).any():
            raise SchemaError(where, col.name, f"values in [{lo}, {hi}]",
                              f"values from {vals.min()} to {vals.max()}")
    if col.pattern is not None and len(present):
        bad = ~present.astype(str).str.fullmatch(col.pattern)
        if bad.any():
            raise SchemaError(where, col.name, f"values matching {col.pattern}",
                              f"{int(bad.sum())} that do not")
    if col.unique and present.duplicated().any():
        raise SchemaError(where, col.name, "unique values",
                          f"{int(present.duplicated().sum())} repeated value(s)")


def _all_str(s: pd.Series) -> bool:
    present = s.dropna()
    return bool(present.map(type).eq(str).all()) if len(present) else True


# --- the tables -------------------------------------------------------------------------

PSEUDONYM = r"[A-Z][0-9A-Za-z_-]{6,40}"


def _common_row_columns() -> tuple[Column, ...]:
    return (
        Column("respondent_id", "string", nullable=False, pattern=PSEUDONYM, doc="salted pseudonym of the response id"),
        Column("source_file", "string", nullable=False, doc="file name the row came from"),
        Column("source_row", "int", nullable=False, range=(1, 10**9), doc="Excel row number (header = 1) or message number"),
    )


def responses_schema(cb) -> Schema:
    """One row per analysed response; columns follow the codebook."""
    cols = list(_common_row_columns())
    cols[0] = Column("respondent_id", "string", nullable=False, unique=True, pattern=PSEUDONYM,
                     doc="salted pseudonym of the response id")
    def timed(role: str) -> bool:      # a required time column: never empty
        name = cb.meta_var(role)
        return bool(name and cb.variables[name].required)

    tz = cb.timezone
    cols += [
        Column("form_language", "category", nullable=False, values=tuple(cb.languages)),
        Column("start_time", "datetime", nullable=not timed("start_time"), tz=tz,
               doc="empty when the export has no start time"),
        Column("completion_time", "datetime", nullable=not timed("completion_time"), tz=tz,
               doc="empty when the export has no completion time"),
        Column("duration_s", "float", nullable=not (timed("start_time") and timed("completion_time")),
               range=(0, 10**9)),
    ]
    for v in cb.variables.values():
        if v.type == "single":
            cols.append(Column(v.name, "category", values=tuple(v.codes), doc=f"code of {v.name}"))
            if v.other_text:
                cols.append(Column(f"{v.name}_other", "string", doc="free 'other' text, redacted"))
    for v in cb.variables.values():
        if v.type == "multi":
            for code in v.codes:
                cols.append(Column(f"{v.name}__{code}", "boolean", doc=f"chose {code} (NA: question skipped)"))
            if v.other_text:
                cols.append(Column(f"{v.name}_other", "string", doc="free 'other' text, redacted"))
    for v in cb.variables.values():
        if v.type in ("rating", "nps"):
            cols.append(Column(v.name, "int", range=tuple(v.range)))
    for v in cb.variables.values():
        if v.type == "likert":
            scale = cb.scales[v.scale]
            cols.append(Column(v.name, "int", range=(scale.min, scale.max),
                               doc="score as answered (not reversed); NA for don't know or skipped"))
            cols.append(Column(f"{v.name}_dk", "bool", nullable=False, doc="answered don't know"))
    cols.append(Column("has_contact", "bool", nullable=False, doc="left contact details (the details are not kept)"))
    for rule in QUALITY_RULES:
        cols.append(Column(f"flag_{rule}", "bool", nullable=False, optional=True,
                           doc=f"flagged by the {rule} rule (present when the rule only flags)"))
    cols.append(Column("weight", "float", nullable=False, range=(0, 10**6), doc="placeholder 1.0; stage 02 rakes"))
    return Schema("responses", 1, tuple(cols))


QUALITY_RULES = ("duplicate", "speeder", "straightliner", "outside_window", "empty")


def ratings_schema(cb) -> Schema:
    return Schema("ratings", 1, (
        Column("respondent_id", "string", nullable=False, pattern=PSEUDONYM),
        Column("item", "category", nullable=False, values=tuple(cb.likert_items)),
        Column("sector", "category", nullable=False, values=tuple(cb.sectors)),
        Column("score", "int", range=cb.score_range),
        Column("dont_know", "bool", nullable=False),
    ), doc="one row per response x Likert item")


def proposals_schema(cb) -> Schema:
    texts = tuple(v.name for v in cb.of_type("text") if not v.pii)
    group = {name: tuple(cb.variables[name].codes) for name in cb.group_columns()}
    return Schema("proposals", 1, (
        Column("proposal_id", "string", nullable=False, unique=True),
        Column("respondent_id", "string", nullable=False, pattern=PSEUDONYM),
        Column("source", "category", nullable=False, values=("survey", "email")),
        Column("source_file", "string", nullable=False),
        Column("question", "category", nullable=False, values=texts + ("email",)),
        Column("sector", "category", values=tuple(cb.sectors)),
        Column("form_language", "category", values=tuple(cb.languages)),
        Column("text", "string", nullable=False, doc="redacted with analysis.privacy.redact"),
        Column("n_chars", "int", nullable=False, range=(1, 10**7)),
        *(Column(name, "category", values=codes) for name, codes in group.items()),
        Column("received_at", "datetime", tz=cb.timezone),
        Column("attachments", "string", doc="attachment names, '; '-joined (redacted)"),
    ))


QUARANTINE = Schema("quarantine", 1, (
    *_common_row_columns(),
    Column("form_language", "category", pattern=LANGUAGE),
    Column("reasons", "string", nullable=False, pattern=r"[a-z_]+(;[a-z_]+)*"),
    Column("details", "string", nullable=False),
))

CLEANING_LOG = Schema("cleaning_log", 1, (
    Column("entry", "category", nullable=False, values=("rule", "cell", "file", "message")),
    Column("rule", "string"),
    Column("action", "string"),
    Column("parameters", "string"),
    Column("rows_hit", "int"),
    Column("rows_excluded", "int"),
    Column("rows_flagged", "int"),
    Column("source_file", "string"),
    Column("respondent_id", "string"),
    Column("variable", "string"),
    Column("label", "string", doc="the unknown label, redacted and shortened"),
    Column("detail", "string"),
))

FLOW = Schema("flow", 1, (
    Column("source_file", "string", nullable=False, unique=True),
    Column("source", "category", nullable=False, values=("forms", "email")),
    Column("form_language", "category", pattern=LANGUAGE),
    Column("rows_read", "int", nullable=False, range=(0, 10**9)),
    Column("rows_analysed", "int", nullable=False, range=(0, 10**9)),
    Column("rows_quarantined", "int", nullable=False, range=(0, 10**9)),
    Column("balanced", "bool", nullable=False, values=(True,)),
))


def schema_for(name: str, cb=None) -> Schema:
    builders = {"responses": responses_schema, "ratings": ratings_schema, "proposals": proposals_schema}
    if name in builders:
        if cb is None:
            raise ValueError(f"the {name} schema follows the codebook: pass cb")
        return builders[name](cb)
    return {"quarantine": QUARANTINE, "cleaning_log": CLEANING_LOG, "flow": FLOW}[name]


# --- writing and reading ----------------------------------------------------------------

def _validate(name: str, df: pd.DataFrame, cb, where: str) -> None:
    schema_for(name, cb).validate(df, where)


def write_parquet(df: pd.DataFrame, path: str | Path, name: str, cb=None) -> Path:
    """Check `df` against schema `name`, then write it with the schema tag in the metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    _validate(name, df, cb, f"{path.name} (being written)")
    version = schema_for(name, cb).version
    # streamed: one row group's worth of rows made Arrow at a time (pyarrow's default row group
    # size, so the file has the row groups write_table would give it; a table of up to that many
    # rows is written exactly as write_table writes it), never the whole table twice in memory
    rows = ROW_GROUP_ROWS
    first = pa.Table.from_pandas(df.iloc[:rows], preserve_index=False)
    if len(df) > rows:
        schema = pa.Schema.from_pandas(df, preserve_index=False)     # types from every row, not the first part's
        first = pa.Table.from_pandas(df.iloc[:rows], schema=schema, preserve_index=False)
    meta = dict(first.schema.metadata or {})
    meta[METADATA_KEY] = f"{name}/v{version}".encode()
    schema = first.schema.with_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with pq.ParquetWriter(tmp, schema) as writer:
        writer.write_table(first.replace_schema_metadata(meta))
        del first
        for start in range(rows, len(df), rows):
            part = pa.Table.from_pandas(df.iloc[start:start + rows], schema=schema, preserve_index=False)
            writer.write_table(part.replace_schema_metadata(meta))
    tmp.replace(path)
    return path


ROW_GROUP_ROWS = 1024 * 1024      # pyarrow's default maximum rows in a row group


def read_parquet(path: str | Path, name: str, cb=None) -> pd.DataFrame:
    """Read a stage-01 parquet file and check it is the agreed shape (SchemaError if not)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run stage 01_clean first")
    table = pq.read_table(path)
    tag = (table.schema.metadata or {}).get(METADATA_KEY, b"").decode()
    expected = f"{name}/v{schema_for(name, cb).version}"
    if tag != expected:
        raise SchemaError(str(path), None, f"a {expected} table", f"{tag or 'no schema tag'}")
    df = table.to_pandas()
    _validate(name, df, cb, str(path))
    return df


def write_csv(df: pd.DataFrame, path: str | Path, name: str, cb=None) -> Path:
    path = Path(path)
    _validate(name, df, cb, f"{path.name} (being written)")
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


CSV_DTYPES = {"string": "string", "category": "string", "int": "Int64", "float": "float64",
              "bool": "bool", "boolean": "boolean"}


def read_csv(path: str | Path, name: str, cb=None) -> pd.DataFrame:
    path = Path(path)
    schema = schema_for(name, cb)
    header = pd.read_csv(path, nrows=0).columns.tolist()
    if header != schema.names:
        raise SchemaError(str(path), None, f"the columns {', '.join(schema.names)}", f"{', '.join(header)}")
    df = pd.read_csv(path, dtype={c.name: CSV_DTYPES[c.kind] for c in schema.columns}, keep_default_na=True)
    schema.validate(df, str(path))
    return df


def empty_frame(schema: Schema) -> pd.DataFrame:
    """A zero-row frame with the schema's dtypes (a run with no e-mails still writes the file)."""
    dtypes = {"string": "string", "category": "string", "int": "Int64", "float": "float64",
              "bool": "bool", "boolean": "boolean"}
    return pd.DataFrame({c.name: pd.Series([], dtype=dtypes.get(c.kind) or f"datetime64[us, {c.tz or TIMEZONE}]")
                         for c in schema.columns})


def describe(schema: Schema) -> pd.DataFrame:
    """The schema as a table (for the data dictionary and the README)."""
    return pd.DataFrame([{"column": c.name, "kind": c.kind, "nullable": c.nullable,
                          "values": ", ".join(map(str, c.values)) if c.values else "",
                          "range": f"{c.range[0]}–{c.range[1]}" if c.range else "", "doc": c.doc}
                         for c in schema.columns])

