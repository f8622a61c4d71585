"""gamlib.tables and gamlib.benchmark on synthetic records written to a temporary folder (no training)."""
import math

import pandas as pd
import pytest

from gamlib import benchmark
from gamlib.results import SCHEMA_VERSION, load_records, save_record
from gamlib.tables import (
    PAPER, PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3, compare_to_spread, display_table, mean_std_text,
    paper_config_params, paper_table2_rows, scaling_exponents, scaling_table, seed_summary, select_runs,
    spread_sentence, table1, table3,
)


def fake_record(model, variant, seed, val_loss, dataset="wikitext2", preset="quick", params=1000,
                seconds=2.0, tokens_per_s=500.0):
    history = {"initial_val_loss": 7.6, "epochs": [
        {"epoch": 1, "train_loss": val_loss + 0.5, "val_loss": val_loss + 0.2},
        {"epoch": 2, "train_loss": val_loss + 0.1, "val_loss": val_loss}]}
    return {"schema": SCHEMA_VERSION, "kind": "lm", "model": model, "variant": variant, "dataset": dataset,
            "preset": preset, "seed": seed, "params": params,
            "mamba_backend": "mambapy" if model == "mamba" else None,
            "metrics": {"val_loss": val_loss, "val_ppl": math.exp(val_loss), "seconds_per_epoch": seconds,
                        "tokens_per_s": tokens_per_s},
            "history": history, "provenance": {"device": "cpu"}}


def write(root, records):
    for r in records:
        save_record(r, root / r["preset"] / r["dataset"] / f"{r['model']}-{r['variant']}-seed{r['seed']}.json")
    return load_records(root)


def ablation_records(losses_by_variant):
    return [fake_record("gam", variant, seed, loss)
            for variant, losses in losses_by_variant.items() for seed, loss in enumerate(losses)]


def test_seed_mean_std_and_paper_columns(tmp_path):
    records = write(tmp_path, [fake_record("gam", "full", s, loss, seconds=sec)
                               for s, (loss, sec) in enumerate([(6.0, 1.0), (6.1, 2.0), (6.2, 3.0)])]
                    + [fake_record("transformer", "sdpa", 0, 6.3, params=2000)]
                    + [fake_record("gam", "full", 0, 9.9, preset="paper")])  # other preset: ignored
    table = table1(records, "quick", seeds=[0, 1, 2], datasets=["wikitext2"], models=[("gam", "full")])
    row = table.iloc[0]
    assert (row["n"], row["seeds"], row["params"]) == (3, (0, 1, 2), 1000)
    assert row["val_loss_mean"] == pytest.approx(6.1) and row["val_loss_std"] == pytest.approx(0.1)
    assert row["val_ppl_mean"] == pytest.approx(sum(math.exp(x) for x in (6.0, 6.1, 6.2)) / 3)
    assert row["seconds_per_epoch_mean"] == pytest.approx(2.0) and row["seconds_per_epoch_std"] == pytest.approx(1.0)
    assert (row["paper_val_ppl"], row["paper_params_m"]) == (882.57, 22.6)

    single = table1(records, "quick", seeds=[0], datasets=["wikitext2"], models=[("transformer", "sdpa")]).iloc[0]
    assert single["n"] == 1 and math.isnan(single["val_loss_std"])
    assert math.isnan(single["paper_val_ppl"])  # the paper ran no SDPA Transformer
    shown = display_table(table1(records, "quick", [0], ["wikitext2"], [("gam", "full"), ("transformer", "sdpa")]),
                          {"val_loss": 3}, extra=["paper_val_ppl"])
    assert list(shown["val_loss"]) == ["6.000", "6.300"] and list(shown["paper_val_ppl"]) == [882.57, "—"]
    assert mean_std_text(6.1, 0.1) == "6.10 ± 0.10" and mean_std_text(float("nan"), 0.1) == "—"


def test_missing_records_name_what_is_missing(tmp_path):
    records = write(tmp_path, [fake_record("gam", "full", 0, 6.0), fake_record("gam", "full", 1, 6.0, preset="paper")])
    with pytest.raises(LookupError, match=r"preset 'quick': gam/full on wikitext2 seed 1; "
                                          r"transformer/naive on wikitext2 seed 0.*run_table1"):
        select_runs(records, "quick", [0, 1], ["wikitext2"], [("gam", "full"), ("transformer", "naive")])
    with pytest.raises(LookupError, match="gam/global_only on wikitext2 seed 0"):
        table3(load_records(tmp_path / "empty"), "quick", seeds=[0])
    save_record({"schema": SCHEMA_VERSION, "kind": "scaling", "preset": "quick"}, tmp_path / "only" / "s.json")
    with pytest.raises(LookupError, match="gam/full on wikitext2 seed 0"):  # no LM columns at all
        table1(load_records(tmp_path / "only"), "quick", seeds=[0])


def test_seeds_that_disagree_on_params_are_an_error(tmp_path):
    records = write(tmp_path, [fake_record("gam", "full", 0, 6.0, params=10),
                               fake_record("gam", "full", 1, 6.0, params=11)])
    with pytest.raises(ValueError, match="seeds disagree on params"):
        seed_summary(select_runs(records, "quick", [0, 1], ["wikitext2"], [("gam", "full")]))


def test_table3_flags_and_spread_rule_both_outcomes(tmp_path):
    records = write(tmp_path, ablation_records({
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


def test_spread_rule_needs_two_seeds(tmp_path):
    one_seed = ablation_records({v: [6.0] for v in ("full", "global_only", "sum_fusion", "local_only")})
    table = table3(write(tmp_path, one_seed), "quick", seeds=[0])
    with pytest.raises(ValueError, match="needs >= 2 seeds"):
        compare_to_spread(table)


def test_paper_tables_are_the_reported_numbers():
    assert len(PAPER_TABLE1) == 5 and PAPER_TABLE1["val_ppl"].tolist() == [918.99, 1017.54, 882.57, 23.55, 23.15]
    assert PAPER_TABLE2["transformer_ms"].isna().sum() == 2 and PAPER_TABLE2["gam_mb"].iloc[-1] == 4707.35
    assert PAPER_TABLE3["params_m"].tolist() == [22.6, 19.4, 19.4, 17.9]
    rows = paper_table2_rows()
    assert (rows["source"] == PAPER).all() and (rows["status"] == "oom").sum() == 2
    exponents = scaling_exponents(rows).set_index("series")
    assert exponents.loc["gam full", "time_exponent"] < 1.0
    assert exponents.loc["transformer naive", "memory_exponent"] > 1.5
    assert scaling_table(rows, "median_ms", 2).loc[4096].tolist() == ["105.03", "OOM"]
    counted = paper_config_params([("gam", "local_only")]).iloc[0]
    assert (counted["params"], counted["params_m"], counted["paper_params_m"]) == (17_874_944, 17.9, 17.9)


def test_experiment_grids_call_run_lm_experiment_with_shared_defaults(monkeypatch):
    calls = []
    monkeypatch.setattr(benchmark, "run_lm_experiment", lambda *args, **kwargs: calls.append((args, kwargs)) or {})
    assert benchmark.table1_seeds("quick") == (0,) and benchmark.table1_seeds("paper") == (0, 1, 2)
    assert benchmark.table1_seeds("quick", [3, 4]) == (3, 4) and benchmark.table1_seeds("quick", quick_seed=5) == (5,)
    benchmark.run_table1("quick", models=[("gam", "full"), ("mamba", "paper")])
    assert [args for args, _ in calls] == [
        ("gam", "full", "wikitext2", "quick", 0), ("mamba", "paper", "wikitext2", "quick", 0),
        ("gam", "full", "tinystories", "quick", 0), ("mamba", "paper", "tinystories", "quick", 0)]
    assert calls[0][1] == dict(results_root=None, data_dir=None, force=False, progress=False)
    calls.clear()
    benchmark.run_ablations("quick", variants=["full", "local_only"])
    assert [(args[1], args[4]) for args, _ in calls] == [
        ("full", 0), ("full", 1), ("full", 2), ("local_only", 0), ("local_only", 1), ("local_only", 2)]


def test_scaling_record_written_reused_and_stops_after_oom(tmp_path, monkeypatch):
    tiny = dict(batch_size=1, n_embd=32, n_head=4, warmup=0, iters=1, seq_lens=(16, 32, 64))
    series = [dict(model="gam", variant="full"), dict(model="transformer", variant="sdpa", dropout=0.1, max_seq_len=32)]
    record = benchmark.run_scaling("quick", "cpu", tmp_path, settings=tiny, series=series)
    assert (tmp_path / "quick" / "scaling" / "table2-cpu.json").exists()
    frame = benchmark.scaling_frame(record)
    assert list(zip(frame["series"], frame["seq_len"])) == [
        ("gam full", 16), ("gam full", 32), ("gam full", 64),
        ("transformer sdpa, dropout 0.1", 16), ("transformer sdpa, dropout 0.1", 32)]
    assert (frame["status"] == "ok").all() and list(frame["dropout"]) == [0.0] * 3 + [0.1] * 2
    assert (frame["cpu_threads"] == 1).all()
    reused = benchmark.run_scaling("quick", "cpu", tmp_path, settings=tiny, series=series)
    assert (reused["provenance"], reused["wall_s"]) == (record["provenance"], record["wall_s"])
    assert load_records(tmp_path, kind="scaling")["preset"].tolist() == ["quick"]

    def fake_measure(model, variant, seq_len, **settings):
        return dict(model=model, variant=variant, seq_len=seq_len, status="oom" if seq_len >= 32 else "ok",
                    median_ms=1.0, peak_mb=1.0)
    monkeypatch.setattr(benchmark, "measure_block", fake_measure)
    frame = benchmark.scaling_frame(benchmark.run_scaling("quick", "cpu", tmp_path, settings=tiny,
                                                          series=series[:1], force=True))
    assert frame["status"].tolist() == ["ok", "oom", "skipped"] and frame["reason"].iloc[-1] == "out of memory at 32"
    with pytest.raises(ValueError, match="kind 'scaling'"):
        benchmark.scaling_frame({"kind": "lm"})
    assert isinstance(scaling_table(frame, "peak_mb"), pd.DataFrame)
