"""The data dictionary of a run's tables: a Frictionless `datapackage.json` in tables/.

One resource per CSV: its path, format, encoding, a description and a Table Schema (every
column's name, type and description). Types are inferred from the CSV text itself, so the
schema says exactly what a reader will find (integer, number, boolean, date, datetime,
string); an empty cell is a missing value. Descriptions come from
`resources/datapackage.yaml`: by table, by column name shared across tables, or by a
table's default for columns named after codes (theme columns of the coding sample).
"""
from __future__ import annotations

import csv
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DICTIONARY = Path(__file__).parent / "resources" / "datapackage.yaml"
PROFILE = "tabular-data-package"
NO_DESCRIPTION = "not described yet"
_INT = re.compile(r"[+-]?\d+\Z")
_NUM = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z|NaN\Z|INF\Z|-INF\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z")
TRUE_VALUES = ["true", "True", "TRUE"]
FALSE_VALUES = ["false", "False", "FALSE"]


@lru_cache(maxsize=1)
def dictionary() -> dict[str, Any]:
    return yaml.safe_load(DICTIONARY.read_text(encoding="utf-8")) or {}


def infer_type(values: list[str]) -> str:
    """The narrowest Table Schema type every non-empty value of a column fits."""
    present = [v for v in values if v != ""]
    if not present:
        return "string"
    if all(v in TRUE_VALUES or v in FALSE_VALUES for v in present):
        return "boolean"
    if all(_INT.match(v) for v in present):
        return "integer"
    if all(_NUM.match(v) for v in present):
        return "number"
    if all(_DATE.match(v) for v in present):
        return "date"
    if all(_DATETIME.match(v) for v in present):
        return "datetime"
    return "string"


def describe_column(table: str, column: str) -> str:
    d = dictionary()
    spec = (d.get("tables") or {}).get(table) or {}
    text = (spec.get("columns") or {}).get(column) or (d.get("columns") or {}).get(column)
    if not text and spec.get("other_columns"):
        text = str(spec["other_columns"]).format(column=column)
    return str(text or NO_DESCRIPTION)


def describe_table(table: str) -> str:
    spec = ((dictionary().get("tables") or {}).get(table) or {})
    return str(spec.get("description") or NO_DESCRIPTION)


def resource_name(stem: str) -> str:
    """Data Package names: lower-case letters, digits, '-', '_', '.'."""
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-") or "table"


def resource(csv_path: Path) -> dict[str, Any]:
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0] if rows else []
    body = rows[1:]
    fields = []
    for i, name in enumerate(header):
        values = [r[i] if i < len(r) else "" for r in body]
        ftype = infer_type(values)
        f: dict[str, Any] = {"name": name, "type": ftype, "description": describe_column(csv_path.stem, name)}
        if ftype == "boolean":
            f["trueValues"], f["falseValues"] = TRUE_VALUES, FALSE_VALUES
        fields.append(f)
    return {
        "name": resource_name(csv_path.stem), "path": csv_path.name, "profile": "tabular-data-resource",
        "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "description": describe_table(csv_path.stem), "rows": len(body),
        "schema": {"fields": fields, "missingValues": [""]},
    }


def describe(tables_dir: str | Path, title: str = "") -> dict[str, Any]:
    tables_dir = Path(tables_dir)
    resources = [resource(p) for p in sorted(tables_dir.glob("*.csv"))]
    return {
        "profile": PROFILE, "name": resource_name(title or tables_dir.parent.name),
        "title": title or tables_dir.parent.name,
        "description": str(dictionary().get("description", "")),
        "resources": resources,
    }


def write(tables_dir: str | Path, title: str = "") -> Path:
    """Write tables/datapackage.json (sorted, stable: same tables give the same bytes)."""
    tables_dir = Path(tables_dir)
    out = tables_dir / "datapackage.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(describe(tables_dir, title), ensure_ascii=False, indent=2) + "\n",
                   encoding="utf-8")
    tmp.replace(out)
    return out


def undescribed(package: dict[str, Any]) -> list[str]:
    """`table.column` for every column the dictionary does not describe yet."""
    out = [f"{r['path']}" for r in package["resources"] if r["description"] == NO_DESCRIPTION]
    out += [f"{r['path']}:{f['name']}" for r in package["resources"] for f in r["schema"]["fields"]
            if f["description"] == NO_DESCRIPTION]
    return out
