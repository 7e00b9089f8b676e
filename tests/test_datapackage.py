"""tables/datapackage.json: a Frictionless Tabular Data Package describing every CSV of a run.

Validated here against the Data Package / Table Schema rules themselves (no extra dependency):
names, relative paths, one field per CSV column in order, known types, every value castable to
its field's type, every table and column described.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from analysis import datapackage

TYPES = {"string", "number", "integer", "boolean", "object", "array", "date", "time", "datetime",
         "year", "yearmonth", "duration", "geopoint", "geojson", "any"}
NAME = re.compile(r"^[a-z0-9._-]+$")


def _castable(value: str, field: dict) -> bool:
    kind = field["type"]
    if kind == "integer":
        return re.fullmatch(r"[+-]?\d+", value) is not None
    if kind == "number":
        if value in ("NaN", "INF", "-INF"):
            return True
        try:
            float(value)
        except ValueError:
            return False
        return True
    if kind == "boolean":
        return value in field.get("trueValues", ["true", "True", "TRUE", "1"]) + \
            field.get("falseValues", ["false", "False", "FALSE", "0"])
    if kind == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if kind == "datetime":
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return kind in ("string", "any")


def validate(package_path: Path) -> list[str]:
    """Every violation of the Data Package and Table Schema rules, as readable strings."""
    errors = []
    package = json.loads(package_path.read_text(encoding="utf-8"))
    if not NAME.match(package.get("name", "")):
        errors.append(f"package name {package.get('name')!r}")
    resources = package.get("resources")
    if not isinstance(resources, list) or not resources:
        return errors + ["no resources"]
    names = [r.get("name") for r in resources]
    if len(set(names)) != len(names):
        errors.append("resource names are not unique")
    for r in resources:
        where = r.get("path", "?")
        if not NAME.match(r.get("name", "")):
            errors.append(f"{where}: resource name {r.get('name')!r}")
        path = Path(r.get("path", ""))
        if path.is_absolute() or ".." in path.parts or not (package_path.parent / path).is_file():
            errors.append(f"{where}: path must be relative and exist")
            continue
        fields = r.get("schema", {}).get("fields", [])
        missing_values = r.get("schema", {}).get("missingValues", [""])
        with open(package_path.parent / path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if [f.get("name") for f in fields] != rows[0]:
            errors.append(f"{where}: fields {[f.get('name') for f in fields]} != header {rows[0]}")
            continue
        for i, f in enumerate(fields):
            if f.get("type") not in TYPES:
                errors.append(f"{where}:{f['name']}: type {f.get('type')!r}")
                continue
            for n, row in enumerate(rows[1:], start=2):
                value = row[i] if i < len(row) else ""
                if value not in missing_values and not _castable(value, f):
                    errors.append(f"{where}:{f['name']} row {n}: {value[:40]!r} is not {f['type']}")
                    break
    return errors


def test_types_are_inferred_from_the_csv_text():
    assert datapackage.infer_type(["1", "-2", ""]) == "integer"
    assert datapackage.infer_type(["1", "2.5", "1e-05", "NaN"]) == "number"
    assert datapackage.infer_type(["true", "False", ""]) == "boolean"
    assert datapackage.infer_type(["2022-05-01", "2022-06-30"]) == "date"
    assert datapackage.infer_type(["2022-05-01T10:00:00+03:00"]) == "datetime"
    assert datapackage.infer_type(["1", "x"]) == "string"
    assert datapackage.infer_type(["", ""]) == "string"


def test_package_of_small_tables_is_valid_and_described(tmp_path):
    (tmp_path / "flow.csv").write_text("source_file,rows_read,balanced\nforms_lv.xlsx,996,True\n", encoding="utf-8")
    (tmp_path / "Odd Name.csv").write_text("mystery,p\nx,0.5\n,\n", encoding="utf-8")
    path = datapackage.write(tmp_path, title="toy-survey")
    assert validate(path) == []
    package = json.loads(path.read_text(encoding="utf-8"))
    flow = next(r for r in package["resources"] if r["path"] == "flow.csv")
    assert [f["type"] for f in flow["schema"]["fields"]] == ["string", "integer", "boolean"]
    assert flow["description"] != datapackage.NO_DESCRIPTION
    assert datapackage.undescribed(package) == ["Odd Name.csv", "Odd Name.csv:mystery"]
    assert next(r for r in package["resources"] if r["path"] == "Odd Name.csv")["name"] == "odd-name"
    # a broken package is caught by the validator (it can fail)
    package["resources"][0]["schema"]["fields"][0]["type"] = "integer"
    path.write_text(json.dumps(package), encoding="utf-8")
    assert validate(path)


@pytest.mark.slow
def test_every_table_of_a_sample_run_is_in_a_valid_described_datapackage(sample_run):
    path = sample_run / "tables" / "datapackage.json"
    assert validate(path) == []
    package = json.loads(path.read_text(encoding="utf-8"))
    assert sorted(r["path"] for r in package["resources"]) == sorted(
        p.name for p in (sample_run / "tables").glob("*.csv"))
    assert datapackage.undescribed(package) == [], "describe these in src/analysis/resources/datapackage.yaml"
    manifest = json.loads((sample_run / "manifest.json").read_text(encoding="utf-8"))
    assert "tables/datapackage.json" in manifest["outputs"]
