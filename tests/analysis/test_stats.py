"""gamlib.analysis.stats: seed summaries and the spread rule for telling variants apart."""
import math

import pytest

from gamlib.analysis.paper import PAPER_TABLE3
from gamlib.analysis.stats import compare_to_spread, seed_summary, spread_sentence
from gamlib.analysis.tables import find_runs, table3
from gamlib.plan import Run


def test_seeds_that_disagree_on_params_are_an_error(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [fake_record("gam", "full", 0, 6.0, params=10),
                                       fake_record("gam", "full", 1, 6.0, params=11)])
    with pytest.raises(ValueError, match="seeds disagree on params"):
        seed_summary(find_runs(records, "quick", [Run("gam", "full", "wikitext2", s) for s in (0, 1)]))


def test_table3_flags_and_spread_rule_both_outcomes(tmp_path, write_records, ablation_records):
    records = write_records(tmp_path, ablation_records({
        "full": [6.00, 6.01, 6.02], "global_only": [6.015, 6.025, 6.005],   # within the spread
        "sum_fusion": [6.10, 6.11, 6.12], "local_only": [6.20, 6.22, 6.24]}))  # beyond it
    table = table3(records, "quick", seeds=[0, 1, 2])
    assert list(table["variant"]) == ["full", "global_only", "sum_fusion", "local_only"]
    assert list(table["gate"]) == [True, False, False, False] and list(table["global"]) == [True, True, True, False]
    assert list(table["paper_val_ppl"]) == list(PAPER_TABLE3["val_ppl"])

    pairs = compare_to_spread(table).set_index(["a", "b"])
    assert len(pairs) == 6
    close, far = pairs.loc[("full", "global_only")], pairs.loc[("full", "sum_fusion")]
    assert close["delta"] == pytest.approx(0.005) and close["pooled_std"] == pytest.approx(0.01)
    assert not close["exceeds"] and far["exceeds"]
    pooled = pairs.loc[("full", "local_only"), "pooled_std"]
    assert pooled == pytest.approx(math.sqrt((0.01 ** 2 + 0.02 ** 2) / 2))
    sentence = spread_sentence(compare_to_spread(table))
    assert sentence.startswith("By the rule |Δ mean val_loss| > 2 × pooled seed std, 5 of 6 differences exceed")
    assert "Within the spread (not shown to differ): global_only vs full (Δ +0.0050" in sentence


def test_spread_rule_needs_two_seeds(tmp_path, write_records, ablation_records):
    one_seed = ablation_records({v: [6.0] for v in ("full", "global_only", "sum_fusion", "local_only")})
    table = table3(write_records(tmp_path, one_seed), "quick", seeds=[0])
    with pytest.raises(ValueError, match="needs >= 2 seeds"):
        compare_to_spread(table)
