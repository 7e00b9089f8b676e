"""Write the hand-made third example export (not the project's generator): a Microsoft Forms
export in English from an invented town, saved as windows-1252 CSV.

Shape, unlike both embedded samples: Forms' meta columns (ID, Start time, Completion time,
Email, Name) with US-style time stamps; header debris (&nbsp;, a trailing '?', double spaces);
a 1-7 labelled agreement grid whose second part spells some labels with other capitalisation and
stray spaces, with a "Don't know"; one topic of 6 statements (2 negatively worded) and one of 2;
a 1-10 satisfaction slider and no recommendation question; a ';'-joined multi-select with an
"Other" free-text option; an age group below min_cell; empty cells and the code N/A; three
rows that repeat another except their ID; one row that answers nothing; free text with é, ñ, à
and a planted e-mail address and phone number.

Run: .venv/bin/python tests/data/third_survey/make_export.py  (deterministic; seed 7)
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "brookfield_2024_export.csv"

PLANTED_EMAIL = "jonas.petraitis@example.lt"
PLANTED_PHONE = "+370 612 34567"
META_EMAIL = "rita.smith@example.com"
META_NAME = "Rita Smith"

AGREE = ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
         "Somewhat agree", "Agree", "Strongly agree"]
DONT_KNOW = "Don't know"
# the second grid's spellings (as another grid of the same form typed them)
AGREE_2 = ["strongly disagree", "Disagree ", "Somewhat  disagree", "Neither agree  nor disagree",
           "Somewhat agree", "agree", "Strongly Agree"]

TRANSPORT = [  # (header as exported, reversed?)
    ("Buses run on time", False),
    ("Bus stops are close to my home", False),
    ("Tickets are too expensive", True),
    ("Timetables are easy to understand&nbsp;", False),
    ("Buses are often overcrowded", True),
    ("Drivers are helpful and polite?", False),
]
GREEN = [("There are enough parks near  my home", False), ("Parks are clean and safe", False)]

AGE = ["18-34", "35-54", "55 or older"]
AREA = ["North", "South", "Riverside"]
SERVICES = ["Library", "Swimming pool", "Community centre"]
OTHER_SERVICES = ["Allotment garden", "Skate park"]

TEXTS = [
    "More buses in the evening, please.",
    "Fix the potholes on Mill Road.",
    "The new café à la place du marché is lovely, more like it please.",
    "Daugiau suoliuku parke prie upes.",
    "Better lighting in the park, señor Muñoz agrees with me.",
    "Clean the river bank more often.",
    "Cheaper tickets for pensioners.",
    "Nothing, all good.",
    f"Please call me about the bus stop: {PLANTED_PHONE}",
    f"Write to me at {PLANTED_EMAIL} about the playground.",
    "Autobusai vėluoja",  # replaced below: windows-1252 cannot hold Lithuanian letters
]
TEXTS[-1] = "Autobusai veluoja kiekviena ryta."

HEADERS = (["ID", "Start time", "Completion time", "Email", "Name",
            "How old are you?&nbsp;", "Which part of town do you live in?",
            "How satisfied are you with life in Brookfield overall?  (1 = not at all, 10 = completely)"]
           + [h for h, _ in TRANSPORT] + [h for h, _ in GREEN]
           + ["Which town services did you use in the last year?",
              "What should the town improve first?"])


def stamp(t: dt.datetime) -> str:
    """US-style Forms time stamp: 3/14/2024 9:05:33 AM."""
    h = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year} {h}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"


def main() -> None:
    rng = random.Random(7)
    rows: list[list[str]] = []
    n = 90
    for i in range(n):
        start = dt.datetime(2024, 3, 4, 8, 0, 0) + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 20))
        end = start + dt.timedelta(seconds=rng.randint(150, 900))
        email, name = ("anonymous", "")
        if i == 5:
            email, name = META_EMAIL, META_NAME
        age = "Under 18" if i in (11, 40, 77) else rng.choice(AGE)      # tiny group (3 < min_cell)
        area = rng.choice(AREA)
        base = rng.gauss(4.6, 1.2)
        sat = str(min(10, max(1, round(base * 1.4 + rng.gauss(0, 1.2)))))
        if i % 17 == 3:
            sat = "N/A"
        elif i % 23 == 4:
            sat = ""
        grid = []
        for k, (_, rev) in enumerate(TRANSPORT + GREEN):
            score = min(7, max(1, round((8 - base if rev else base) + rng.gauss(0, 1))))
            labels = AGREE_2 if k >= len(TRANSPORT) else AGREE
            cell = labels[score - 1]
            r = rng.random()
            if r < 0.05:
                cell = DONT_KNOW
            elif r < 0.08:
                cell = ""
            elif r < 0.10:
                cell = "N/A"
            grid.append(cell)
        picked = [s for s in SERVICES if rng.random() < 0.45]
        if rng.random() < 0.12:
            picked.append(rng.choice(OTHER_SERVICES))
        multi = "".join(p + ";" for p in picked)
        text = TEXTS[i % len(TEXTS)] if rng.random() < 0.6 or i % len(TEXTS) in (2, 4, 8, 9) else ""
        rows.append([str(i + 1), stamp(start), stamp(end), email, name, age, area, sat]
                    + grid + [multi, text])
    # three rows that repeat row 20 except their ID (a double submission of one person)
    for k in range(3):
        dup = list(rows[19])
        dup[0] = str(n + 1 + k)
        rows.append(dup)
    # one row that answers nothing
    t = dt.datetime(2024, 3, 10, 14, 3, 9)
    rows.append([str(n + 4), stamp(t), stamp(t + dt.timedelta(seconds=31)), "anonymous", ""]
                + [""] * (len(HEADERS) - 5))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    w.writerows(rows)
    OUT.write_bytes(buf.getvalue().encode("windows-1252"))
    print(f"wrote {OUT} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
