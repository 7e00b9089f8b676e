"""The survey's shape comes from the codebook: no module, template, text table or notebook names
the sample's town (issue 9). The place may appear in params/, data/ and documentation only, and
in word lists that are data (place and name lists for redaction, the hunspell dictionary)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

# "Liepāja", "Liepājas", "Liepājā", "Vecliepāja" typed with or without diacritics, any case
# but the lower-case slug of the sample's params ("liepaja-2022" names a file, not a place)
PLACE = re.compile(r"Liep[āa]j|LIEP[ĀA]J|liepāj")

# data, not code: word lists read by analysis.privacy / analysis.text, with their licences
ALLOWED = {
    "src/analysis/resources/names/lv_places.txt",          # Latvian place names (redaction)
    "src/analysis/resources/names/local_places.txt",       # the sample town's neighbourhoods (redaction)
    "src/analysis/resources/names/extra_first_names.txt",  # header comment of a name list
    "src/analysis/resources/names/README.md",              # documentation of the lists
    "src/analysis/resources/hunspell/lv_LV.dic",           # the Latvian dictionary
}
FOLDERS = ("src/analysis", "notebooks")
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def _files(root: Path):
    for folder in FOLDERS:
        for p in sorted((root / folder).rglob("*")):
            if p.is_file() and not SKIP_PARTS & set(p.parts) and p.suffix not in (".pyc",):
                yield p


def test_the_pattern_finds_the_place_in_every_spelling():
    for text in ("Liepāja", "Liepājas", "Liepaja", "LIEPĀJA", "Vecliepāja", "в Liepaja"):
        assert PLACE.search(text), text
    for text in ("liepaja-2022", "params/codebooks/liepaja-2022.yaml", "Lielupe", "Liepa"):
        assert not PLACE.search(text), text


def test_no_module_template_text_table_or_notebook_names_the_place(root):
    hits = []
    checked = 0
    for p in _files(root):
        rel = p.relative_to(root).as_posix()
        if rel in ALLOWED:
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue                                   # images, fonts: no words to check
        checked += 1
        for n, line in enumerate(text.splitlines(), start=1):
            if PLACE.search(line):
                hits.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert checked > 40                                 # the walk reached the modules and notebooks
    assert not hits, "the sample's town named outside params/, data/ and docs:\n" + "\n".join(hits)


@pytest.mark.parametrize("rel", sorted(ALLOWED))
def test_every_allowed_file_exists(root, rel):
    # an allowance for a file that is gone would hide a new file of the same name later
    assert (root / rel).is_file(), rel
