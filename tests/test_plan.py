"""gamlib.plan: the one definition of which runs make up a preset's study."""
import pytest

from gamlib.plan import (
    ABLATION_VARIANTS,
    MATCHED_ABLATION_VARIANTS,
    TABLE1_MODELS,
    Run,
    lr_sweep_runs,
    planned_runs,
    planned_seeds,
    table1_models,
    table_runs,
)
from gamlib.presets import get_preset

CPU, PAPER, QUICK = get_preset("cpu"), get_preset("paper"), get_preset("quick")


def test_the_seed_rule_per_dataset_and_hardware():
    assert planned_seeds(PAPER, "table1", "tinystories") == (0, 1, 2)
    assert planned_seeds(CPU, "table1", "wikitext2") == (0, 1, 2)
    assert planned_seeds(CPU, "table1", "tinystories") == (0,)       # a CPU study trains TinyStories once
    assert planned_seeds(QUICK, "table1", "wikitext2") == (0,)       # quick: one seed, ten runs
    assert planned_seeds(QUICK, "table1", "wikitext2", first_seed=5) == (5,)
    assert planned_seeds(QUICK, "table3", "wikitext2") == (0, 1, 2)  # ablations keep the seeds
    with pytest.raises(ValueError, match="table"):
        planned_seeds(PAPER, "table2", "wikitext2")


def test_tables_as_runs():
    assert table1_models(PAPER) == TABLE1_MODELS and ("transformer", "naive") not in table1_models(CPU)
    runs = table_runs(CPU, "table1")
    assert len(runs) == 4 * 3 + 4 * 1 and runs[0] == Run("gam", "full", "wikitext2", 0)
    assert {r.seed for r in runs if r.dataset == "tinystories"} == {0}
    table3 = table_runs(PAPER, "table3", seeds=[7], models=[("gam", "local_only")])
    assert table3 == [Run("gam", "local_only", "wikitext2", 7)]


def test_a_study_is_distinct_runs_cheapest_first():
    runs = planned_runs(PAPER)
    ablations = len(ABLATION_VARIANTS) - 1 + len(MATCHED_ABLATION_VARIANTS) - 1  # Table 3's full is Table 1's
    assert len(runs) == len(set(runs)) == 5 * 2 * 3 + ablations * 3
    datasets = [r.dataset for r in runs]
    assert datasets == sorted(datasets, key=lambda d: d != "wikitext2")
    first_story = datasets.index("tinystories")
    assert all(r.model != "mamba" for r in runs[:first_story] if runs.index(r) < first_story - 6)
    assert runs[first_story - 1].model == "mamba" and runs[-1].model == "mamba"


def test_lr_sweep_runs():
    runs = lr_sweep_runs(CPU, (1e-3, 4e-3))
    assert len(runs) == 4 * 3 and all(r.seed == 0 and r.dataset == "wikitext2" for r in runs)
    assert Run("gam", "full", "wikitext2", 0, None) in runs and Run("gam", "full", "wikitext2", 0, 1e-3) in runs
    assert [r.model for r in runs][-6:] == ["mamba"] * 6
    assert lr_sweep_runs(CPU, (2e-3,), models=[("gam", "full")]) == [Run("gam", "full", "wikitext2", 0)]


def test_matched_ablations_have_full_gams_parameters():
    """Table 3m's rows are within 1% of full GAM's parameters, at every preset's shape (the unmatched are not)."""
    from gamlib.models.registry import build_model

    for preset in (QUICK, CPU, PAPER):
        count = {v: build_model("gam", v, **preset.model_fields()).num_params()
                 for v in (*ABLATION_VARIANTS, *MATCHED_ABLATION_VARIANTS)}
        for plain, matched in zip(ABLATION_VARIANTS[1:], MATCHED_ABLATION_VARIANTS[1:]):
            assert abs(count[matched] / count["full"] - 1) < 0.01, (preset.name, matched, count)
            assert count[plain] < 0.99 * count["full"]
