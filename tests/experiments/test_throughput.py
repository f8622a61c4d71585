"""gamlib.experiments.throughput: the side-by-side training benchmark is a reusable record."""
from gamlib.experiments.throughput import run_training_benchmark


def test_training_benchmark_times_each_model_and_reuses_its_record(tmp_path):
    models = [("gam", "full"), ("transformer", "naive"), ("transformer", "sdpa")]
    record = run_training_benchmark("quick", models, steps=2, warmup=1, device="cpu", results_root=tmp_path)
    assert record["kind"] == "benchmark" and record["benchmark"] == "training"
    assert (tmp_path / "quick" / "benchmarks" / "training-cpu.json").exists()
    rows = {(r["model"], r["variant"]): r for r in record["rows"]}
    assert list(rows) == models and rows["gam", "full"]["vs_gam"] == 1.0
    assert all(len(r["times_ms"]) == 2 and r["tokens_per_s"] > 0 and r["params"] > 0 for r in rows.values())
    # naive and SDPA attention are the same network: the same parameter count
    assert rows["transformer", "naive"]["params"] == rows["transformer", "sdpa"]["params"]
    again = run_training_benchmark("quick", models, steps=2, warmup=1, device="cpu", results_root=tmp_path)
    assert again["provenance"] == record["provenance"]  # reused, not measured again
    other = run_training_benchmark("quick", models[:1], steps=2, warmup=1, device="cpu", results_root=tmp_path)
    assert [(r["model"], r["variant"]) for r in other["rows"]] == models[:1]  # another spec: measured again
