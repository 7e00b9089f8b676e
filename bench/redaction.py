"""Recall of analysis.privacy.redact on the personal data planted in the synthetic sample, and
the ordinary words it redacts by mistake.

    .venv/bin/python bench/redaction.py [--sample data/sample] [--json out.json] [--examples 10]

Reads ``truth.json`` (written by ``python -m analysis synth``): every planted item of personal
data with its type and where it was put. Texts measured:

- ``forms``: the free-text answers of the Forms exports (``truth["texts"]``) and the raw cells of
  the contact question (read from the .xlsx files), redacted as they are;
- ``mail body (raw)``: each e-mail's decoded body *with* greeting, signature and contact lines
  (what ``redact`` alone must handle);
- ``mail body (pipeline)``: the body after ``ingest.clean_mail_text`` removed quotes and the
  signature, then redacted (what the clean stage writes);
- ``mail From header``: ``Name <address>`` as text (the pipeline pseudonymises the sender; this
  only shows the redactor would also catch it).

An item counts as found when no occurrence of its value (or of the value without diacritics)
is left in the redacted text; "typed" when the finding covering it has the planted type.
Items whose value does not occur in the measured text (e.g. a signature the pipeline already
removed) are counted apart. Ordinary words wrongly redacted: words inside name findings that do
not overlap any planted value; unplanted e-mail addresses and numbers that were redacted (such
as the department's own address in quoted replies) are listed separately.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import json
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis import ingest, privacy  # noqa: E402
from analysis.codebook import load as load_codebook  # noqa: E402

TYPES = ["email", "phone", "personal_code", "iban", "name"]
_STRIP = str.maketrans("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ", "acegiklnsuzACEGIKLNSUZ")


def occurrences(text: str, value: str) -> list[tuple[int, int]]:
    spans = []
    for v in {value, value.translate(_STRIP), unicodedata.normalize("NFC", value)}:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(v), text)]
    return sorted(set(spans))


class Tally:
    def __init__(self) -> None:
        self.found: Counter = Counter()
        self.typed: Counter = Counter()
        self.total: Counter = Counter()
        self.absent: Counter = Counter()
        self.missed: list[tuple[str, str, str]] = []
        self.words = 0
        self.false_words = 0
        self.unplanted: Counter = Counter()
        self.false_examples: list[tuple[str, str, str]] = []

    def measure(self, text: str, planted: list[dict], where: str) -> None:
        findings = privacy.find_personal_data(text)
        redacted = privacy.redact(text)
        planted_spans = []
        for p in planted:
            spans = occurrences(text, p["value"])
            planted_spans += spans
            if not spans:
                self.absent[p["type"]] += 1
                continue
            self.total[p["type"]] += 1
            left = any(o for o in occurrences(redacted, p["value"]))
            if not left:
                self.found[p["type"]] += 1
            else:
                self.missed.append((where, p["type"], p["value"]))
            covering = [f for f in findings for s, e in spans if f.start <= s and f.end >= e]
            if covering and all(f.type == p["type"] for f in covering):
                self.typed[p["type"]] += 1
        self.words += len(re.findall(r"\w+", text))
        for f in findings:
            if not any(f.start < e and f.end > s for s, e in planted_spans):
                self.unplanted[f.type] += 1
                if f.type != "name":
                    continue        # a real address or number nobody planted (e.g. the city's own)
                self.false_words += len(re.findall(r"\w+", f.value))
                ctx = text[max(0, f.start - 30):f.end + 30].replace("\n", " / ")
                self.false_examples.append((f.type, f.value, ctx))


def form_texts(truth: dict, sample: Path) -> list[tuple[str, str, list[dict]]]:
    """(where, text, planted items) for free-text answers and contact cells."""
    by_text: dict[str, list[dict]] = defaultdict(list)
    contact: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for p in truth["pii"]:
        if p.get("text_id"):
            by_text[p["text_id"]].append(p)
        elif p.get("variable") == "contact":
            contact[(p["file"], p["form_id"])].append(p)
    out = [(t["id"], t["text"], by_text.get(t["id"], [])) for t in truth["texts"]
           if not t["id"].startswith(truth["emails"]["file"])]
    out += [(f"{t['file']}#{t['form_id']}:{t['variable']}", t["text"], [])
            for t in truth.get("other_texts", [])]
    import pandas as pd
    cb = load_codebook(ROOT / truth["generator"]["codebook"])
    for form, name in (("lv", "forms_lv.xlsx"), ("ru", "forms_ru.xlsx")):
        path = sample / name
        if not path.exists():
            continue
        df = pd.read_excel(path, engine="calamine", dtype=object)
        header = cb.variables["contact"].headers[form]
        if header not in df.columns:
            continue
        for form_id, cell in zip(df["ID"], df[header]):
            if isinstance(cell, str) and cell.strip():
                out.append((f"{name}#{form_id}:contact", cell, contact.get((name, int(form_id)), [])))
    return out


def mail_texts(truth: dict, sample: Path) -> tuple[list, list, list]:
    planted: dict[int, list[dict]] = defaultdict(list)
    for p in truth["pii"]:
        if p.get("file") == truth["emails"]["file"]:
            planted[p["message"]].append(p)
    raw_bodies, pipeline, headers = [], [], []
    data = (sample / truth["emails"]["file"]).read_bytes()
    for index, (_from_line, raw) in enumerate(ingest.split_mbox(data)):
        items = planted.get(index, [])
        body_items = [p for p in items if not p["where"].startswith("header")]
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body, _attachments, _notes = ingest._body_text(msg)
        body = unicodedata.normalize("NFC", body.replace("\r\n", "\n"))
        raw_bodies.append((f"mbox#{index}", body, body_items))
        pipeline.append((f"mbox#{index}", ingest.clean_mail_text(body), body_items))
        sender = str(msg.get("From") or "")
        headers.append((f"mbox#{index}:From", sender, [p for p in items if p["where"] == "header:From"]))
    return raw_bodies, pipeline, headers


def report(name: str, tally: Tally, examples: int) -> dict:
    print(f"\n== {name}")
    print(f"{'type':<15}{'planted':>8}{'removed':>9}{'recall':>9}{'typed':>7}{'absent':>8}")
    row = {}
    for t in TYPES:
        n = tally.total[t]
        if not n and not tally.absent[t]:
            continue
        recall = tally.found[t] / n if n else float("nan")
        print(f"{t:<15}{n:>8}{tally.found[t]:>9}{recall:>9.3f}{tally.typed[t]:>7}{tally.absent[t]:>8}")
        row[t] = {"planted": n, "removed": tally.found[t], "recall": recall, "typed": tally.typed[t],
                  "absent_from_text": tally.absent[t]}
    n_all, f_all = sum(tally.total.values()), sum(tally.found.values())
    if n_all:
        print(f"{'all':<15}{n_all:>8}{f_all:>9}{f_all / n_all:>9.3f}")
    rate = tally.false_words / tally.words if tally.words else 0.0
    print(f"ordinary words wrongly redacted (unplanted names): {tally.false_words} of {tally.words} "
          f"words ({rate:.4%})")
    others = {t: n for t, n in tally.unplanted.items() if t != "name"}
    if others:
        print(f"unplanted e-mails/numbers redacted (real data nobody planted): {others}")
    for where, t, v in tally.missed[:examples]:
        print(f"  missed {t}: {v!r} ({where})")
    for t, v, ctx in tally.false_examples[:examples]:
        print(f"  extra {t}: {v!r} in …{ctx}…")
    return {"by_type": row, "planted": n_all, "removed": f_all,
            "false_words": tally.false_words, "words": tally.words, "unplanted": dict(tally.unplanted),
            "missed": tally.missed, "extra": tally.false_examples}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", default=str(ROOT / "data" / "sample"))
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--examples", type=int, default=10, help="missed/extra examples to print")
    args = ap.parse_args(argv)
    sample = Path(args.sample)
    truth_path = sample / "truth.json"
    if not truth_path.exists():
        print(f"{truth_path} not found: run `python -m analysis synth --out {sample}` first", file=sys.stderr)
        return 2
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    privacy.redact("Jānis Bērziņš, Ольга")          # load the name lists before timing
    start = time.perf_counter()
    groups = {"forms": form_texts(truth, sample)}
    groups["mail body (raw)"], groups["mail body (pipeline)"], groups["mail From header"] = \
        mail_texts(truth, sample)
    results, n_texts = {}, 0
    for name, texts in groups.items():
        tally = Tally()
        for where, text, planted in texts:
            tally.measure(text, planted, where)
        n_texts += len(texts)
        results[name] = report(name, tally, args.examples)
    elapsed = time.perf_counter() - start
    print(f"\n{n_texts} texts measured in {elapsed:.2f} s (find + redact + bookkeeping)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
