"""Does stage 02 find what was planted, and only that?

* On the embedded sample (data/sample, cleaned by stage 01): every effect planted in
  truth.json is found at the run's FDR, in the planted direction; among the planted nulls
  (items with no effect, tested against every grouping) false discoveries stay within the
  nominal rate.
* On generated null surveys (no effect anywhere, drawn directly as frames): the share of
  surveys with any discovery - the FDR under the complete null - stays at the BH level.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analysis import ratings

SIMULATIONS = 600          # null surveys (about 20 s)
SIM_RESPONDENTS = 150
SIM_ITEMS = ["housing_1", "mobility_2", "culture_3", "participation_4"]
SIM_GROUPINGS = ["age_group", "gender", "children"]


@pytest.fixture(scope="module")
def sample(root, codebook):
    from analysis import clean, paths

    params = paths.load_params(root / "params" / "liepaja-2022.yaml")
    truth = json.loads((root / "data" / "sample" / "truth.json").read_text(encoding="utf-8"))
    responses = clean.run_clean(params, write=False).responses
    settings = ratings.settings_from(params["min_cell"], params["fdr"], params["weight_trim_cap"],
                                     params["population"])
    return truth, ratings.build_tables(responses, codebook, settings), params["fdr"]


def _grouping(effect: dict) -> str:
    if effect.get("multi"):
        (code,) = effect["shift"]
        return f"{effect['grouping']}__{code}"
    return effect["grouping"]


def _shift(effect: dict, codebook, group: str) -> float:
    """The planted shift of a (possibly merged) group: the mean over its member codes."""
    if effect.get("multi"):
        return list(effect["shift"].values())[0] if group == "yes" else 0.0
    merge = codebook.variables[effect["grouping"]].merge
    members = merge[group]["codes"] if group in merge else [group]
    return float(np.mean([effect["shift"].get(c, 0.0) for c in members]))


def test_every_planted_effect_is_found_in_its_direction(sample, codebook):
    truth, tables, fdr = sample
    tests = tables["tests"]
    rank = tests[tests.test.isin(["kruskal", "mann_whitney"]) & ~tests.weighted]
    found, missed = [], []
    for effect in truth["effects"]:
        for item in effect["items"]:
            row = rank[(rank.outcome == item) & (rank.grouping == _grouping(effect))].iloc[0]
            ok = row.p_adj < fdr and _shift(effect, codebook, row.highest_group) > _shift(effect, codebook, row.lowest_group)
            (found if ok else missed).append(f"{effect['id']}:{item}")
    print(f"planted effects found: {len(found)}/{len(found) + len(missed)}")
    assert not missed, f"missed or wrong direction: {missed}"


def test_false_discoveries_among_planted_nulls_stay_within_the_nominal_rate(sample):
    truth, tables, fdr = sample
    tests = tables["tests"]
    family = tests[(tests.family == "group_tests") & tests.p.notna()]
    nulls = family[family.outcome.isin(truth["null_items"])]
    false = int((nulls.p_adj < fdr).sum())
    discoveries = int((family.p_adj < fdr).sum())
    fdp = false / max(discoveries, 1)
    # one realisation: allow the Monte-Carlo margin of a proportion around the nominal rate
    margin = 1.96 * math.sqrt(fdr * (1 - fdr) / max(discoveries, 1))
    print(f"null tests {len(nulls)}, false discoveries {false} ({false / len(nulls):.4f} of nulls), "
          f"all discoveries {discoveries}, false discovery proportion {fdp:.4f}")
    assert false / len(nulls) <= fdr
    assert fdp <= fdr + margin


def _null_survey_rejects(codebook, seed: int, fdr: float) -> tuple[int, int]:
    df = ratings.generate_responses(codebook, SIM_RESPONDENTS, seed)
    gv = {g: v for g, v in ratings.grouping_values(df, codebook).items() if g in SIM_GROUPINGS}
    plans = ratings.plan_groupings(df, codebook, 10, gv=gv)
    frame = ratings.item_scores(df, codebook)[SIM_ITEMS]
    tests, _ = ratings.group_tests(frame, {i: "item" for i in SIM_ITEMS}, plans, 10, 4.0)
    tests = ratings.adjust_families(tests, fdr)
    return int((tests.p_adj < fdr).sum()), int(tests.p.notna().sum())


def test_bh_holds_its_level_on_generated_null_surveys(codebook):
    fdr = 0.05
    results = [_null_survey_rejects(codebook, 10_000 + s, fdr) for s in range(SIMULATIONS)]
    any_discovery = np.mean([r > 0 for r, _ in results])
    m = np.mean([k for _, k in results])
    # under the complete null every discovery is false, so FDR = P(any discovery)
    margin = 2.33 * math.sqrt(fdr * (1 - fdr) / SIMULATIONS)       # one-sided 99 % Monte-Carlo margin
    print(f"{SIMULATIONS} null surveys x {m:.0f} tests: observed FDR {any_discovery:.4f} "
          f"(level {fdr}, margin {margin:.4f})")
    assert any_discovery <= fdr + margin
