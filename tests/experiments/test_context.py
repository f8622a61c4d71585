"""gamlib.experiments.context: loss by position (does context pay?) from a retrained run's weights."""
import pytest
import torch

from gamlib.data import TokenChunks
from gamlib.experiments import context
from gamlib.experiments.context import loss_by_position, run_context_experiment
from gamlib.models.registry import build_model
from gamlib.plan import CONTEXT_MODELS, Run, context_runs
from gamlib.presets import get_preset


def test_loss_by_position_averages_to_the_whole_loss_and_sees_what_the_model_sees():
    torch.manual_seed(0)
    net = build_model("gam", "full", vocab_size=50, block_size=16, n_embd=16, n_layer=2, num_memory_slots=4,
                      dropout=0.0).eval()
    x = torch.randint(0, 50, (5, 16))
    y = torch.randint(0, 50, (5, 16))
    curve = loss_by_position(net, TokenChunks(x, y), batch_size=2)
    _, whole = net(x, y)
    assert len(curve) == 16 and abs(sum(curve) / 16 - whole.item()) < 1e-5
    # changing a token far behind position 15 (beyond GAM's receptive field of 5) leaves that position's loss
    far = x.clone()
    far[:, 2] = (far[:, 2] + 1) % 50
    assert loss_by_position(net, TokenChunks(far, y))[15] == curve[15]


def test_the_plan_lists_every_model_seed_major_mamba_last():
    runs = context_runs(get_preset("cpu"))
    assert len(runs) == len(CONTEXT_MODELS) * 3 and [r.seed for r in runs[:len(CONTEXT_MODELS)]] == [0] * 6
    assert runs[0] == Run("gam", "full", "wikitext2", 0) and runs[len(CONTEXT_MODELS) - 1].model == "mamba"


def test_a_context_record_from_a_quick_run(tmp_path, monkeypatch):
    quick = get_preset("quick")
    run = Run("gam", "full", "wikitext2", 0)
    record = run_context_experiment(run, quick, results_root=tmp_path / "results", scratch_root=tmp_path / "scratch")
    T = quick.model.block_size
    assert record["kind"] == "context" and len(record["loss_by_position"]) == T
    assert abs(record["val_loss"] - record["retrained_val_loss"]) < 1e-4   # the mean over positions is the loss
    assert record["study_val_loss"] is None and record["receptive_field"] == 5
    assert list(record["loss_at"]) == ["1", "2", "4", "8", "16", "32", "64"]
    assert (tmp_path / "results" / "quick" / "context" / "gam-full-seed0.json").exists()
    again = run_context_experiment(run, quick, results_root=tmp_path / "results", scratch_root=tmp_path / "scratch")
    assert again["provenance"] == record["provenance"]   # reused, not measured again
    monkeypatch.setattr(context, "loss_by_position", lambda net, chunks: [float("nan")] * T)  # a diverged retrain
    with pytest.raises(ValueError, match="diverged when retrained .* no context record is written"):
        run_context_experiment(run, quick, results_root=tmp_path / "other", scratch_root=tmp_path / "scratch")
    assert not list((tmp_path / "other").rglob("*.json"))


def test_context_curves_and_table_from_records(tmp_path):
    import pandas as pd

    from gamlib.analysis.tables import context_curves, context_table
    from gamlib.records import SCHEMA_VERSION, load_records, save_record

    for seed, shift in ((0, 0.0), (1, 0.2)):
        for model, variant, R, curve in (("gam", "full", 2, [5.0, 4.0, 4.0, 4.0]),
                                         ("transformer", "sdpa", 4, [5.0, 4.5, 4.0, 3.5])):
            save_record({"schema": SCHEMA_VERSION, "spec_hash": "c", "kind": "context", "preset": "cpu",
                         "model": model, "variant": variant, "seed": seed, "receptive_field": R,
                         "loss_by_position": [v + shift for v in curve], "provenance": {"device": "cpu"}},
                        tmp_path / "cpu" / "context" / f"{model}-{variant}-seed{seed}.json")
    curves = context_curves(load_records(tmp_path))
    assert len(curves) == 2 * 2 * 4 and set(curves["tokens_read"]) == {1, 2, 3, 4}
    table = context_table(curves).set_index("model")
    assert list(table.columns) == ["n", "receptive field R", "1 read", "2-3 read", "4 read", "gain past R"]
    assert table.loc["gam full", "n"] == 2 and table.loc["gam full", "4 read"] == "4.100 ± 0.141"
    assert table.loc["gam full", "gain past R"] == "0.000 ± 0.000"           # flat past its receptive field
    assert table.loc["transformer sdpa", "2-3 read"] == "4.350 ± 0.141"
    assert table.loc["transformer sdpa", "gain past R"] == "— (sees the whole chunk)"
    assert context_curves(pd.DataFrame()).empty
