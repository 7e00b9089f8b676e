"""The population margin file (params/population/*.yaml): read and checked.

Kept apart from analysis.ratings (which re-exports it) so that the input check, which runs
before any stage, reads it without loading scipy."""
from __future__ import annotations

from pathlib import Path
from typing import Any


class RatingsInputError(ValueError):
    """The responses frame or the population file is not what this stage expects."""


_NOT_OFFICIAL = ("synthetic", "sintētisk", "sintetisk", "синтет", "generated", "made-up", "made up",
                 "not official", "nav oficiāl", "неофициал", "fictitious", "simulated")


def load_population(path: str | Path | None) -> dict | None:
    """Read a margin file: {margins: {variable: {level: total}}, source, official}; None if no path."""
    import yaml

    from . import paths

    if not path:
        return None
    p = paths.resolve(path)
    if not p.exists():
        raise RatingsInputError(f"population file not found: {p}; give an existing margin file "
                                f"(params/population/) or an empty `population` to run unweighted")
    raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    margins = raw.get("margins")
    if not isinstance(margins, dict) or not margins:
        raise RatingsInputError(f"{p}: expected `margins: {{variable: {{level: population total}}}}`")
    official = raw.get("official", False)
    source = str(raw.get("source", "") or "").strip()
    _check_official(p, official, source)
    return {"path": paths.as_given(Path(path)), "margins": {str(k): {str(lv): float(t) for lv, t in v.items()}
                                                for k, v in margins.items()},
            "source": source, "official": bool(official),
            "not_in_population": {str(k): [str(c) for c in (v or [])]
                                  for k, v in (raw.get("not_in_population") or {}).items()}}


def _check_official(p: Path, official: Any, source: str) -> None:
    """`official: true` needs a source, and one that does not itself say the figures are
    synthetic or not official; bad input stops the run (exit 2) naming file and key."""
    from .ingest import InputError

    if not isinstance(official, bool):
        raise InputError(f"key `official` is {official!r}", file=str(p), column="official",
                         expected="true or false")
    if not official:
        return
    if not source:
        raise InputError("key `official` is true but the file has no `source`", file=str(p), column="source",
                         expected="the statistical office, table and reference date of the margins")
    low = source.lower()
    hit = next((w for w in _NOT_OFFICIAL if w in low), None)
    if hit:
        raise InputError(f"key `official` is true but its `source` says {hit!r} ({source[:120]!r})",
                         file=str(p), column="official",
                         expected="official: false for synthetic or unofficial margins, or a source naming "
                                  "the official statistics")
