"""gamlib.experiments.recall: a recall run writes its record and reuses it."""
import pytest

from gamlib.experiments.recall import run_recall_experiment
from gamlib.records import load_records


def test_recall_run_writes_and_reuses_a_record(tmp_path, recall_task):
    kwargs = dict(preset="quick", task=recall_task, train_sequences=32, eval_sequences=16, results_root=tmp_path,
                  epochs=1)
    record = run_recall_experiment("gam", "full", **kwargs)
    assert record["kind"] == "recall" and record["receptive_field"] == 5 and record["provenance"]["torch"]
    assert (tmp_path / "quick" / "recall" / recall_task.name / "gam-full-seed0.json").exists()
    by_position = record["accuracy_by_position"]
    assert sum(row["queries"] for row in by_position) == sum(row["queries"] for row in record["accuracy"]) == 16 * 8
    assert sum(row["queries"] for row in record["accuracy_by_competitors"]) == 16 * 8
    assert run_recall_experiment("gam", "full", **kwargs)["provenance"] == record["provenance"]  # reused
    table = load_records(tmp_path, kind="recall")
    assert len(table) == 1 and table.loc[0, "record"]["accuracy"] == record["accuracy"]


def test_a_standard_mqar_run_is_a_record_without_the_competitors_split(tmp_path):
    from gamlib import StandardMQAR
    task = StandardMQAR(vocab_size=32, seq_len=32, pairs=4)
    record = run_recall_experiment("gam", "full", preset="quick", task=task, train_sequences=32, eval_sequences=16,
                                   results_root=tmp_path, epochs=1)
    assert record["task"]["name"] == "mqar-standard" and record["accuracy_by_competitors"] is None
    assert sum(row["queries"] for row in record["accuracy"]) == 16 * 4


def test_the_standard_recall_grid_keeps_one_record_per_run_and_reads_the_best_lr_from_them(tmp_path):
    from gamlib.analysis.plots import plot_mqar_sweep
    from gamlib.experiments.recall import mqar_best_lr, mqar_points, mqar_table, pooled_accuracy, run_mqar_run
    from gamlib.plan import RecallRun, mqar_seed_runs, mqar_sweep_runs
    from gamlib.probes.recall import StandardMQAR
    from gamlib.records import load_records

    task = StandardMQAR(vocab_size=32, seq_len=32, pairs=4)
    training = {"train_sequences": 32, "eval_sequences": 16, "epochs": 1, "batch_size": 16}
    sweep = mqar_sweep_runs(models=(("gam", "full"),), widths=(16,), lrs=(1e-3, 1e-2))
    assert [run.name for run in sweep] == ["gam-full-C16-lr0.001-seed0", "gam-full-C16-lr0.01-seed0"]
    made = [run_mqar_run(run, results_root=tmp_path, task=task, training=training) for run in sweep]
    assert [r["model_config"]["n_embd"] for r in made] == [16, 16]
    assert [r["train_config"]["lr"] for r in made] == [1e-3, 1e-2]           # two files, neither overwritten
    records = load_records(tmp_path, kind="recall")
    assert len(records) == 2
    best = mqar_best_lr(records)
    scores = {r["train_config"]["lr"]: (pooled_accuracy(r["accuracy"]), -r["metrics"]["val_loss"]) for r in made}
    assert best == {("gam", "full", 16): max(scores, key=scores.get)}
    assert mqar_seed_runs(best) == [RecallRun("gam", "full", 16, best["gam", "full", 16], seed) for seed in (1, 2)]
    table = mqar_table(records, task).iloc[0]
    assert table["seeds"] == (0,) and table["chance"] == task.chance and 0 <= table["shortcut accuracy"] < 0.5
    points = mqar_points(records).sort_values("lr")
    assert list(points["lr"]) == [1e-3, 1e-2] and list(points["width"]) == [16, 16]
    assert list(points["accuracy"]) == [pooled_accuracy(r["accuracy"]) for r in made]
    fig = plot_mqar_sweep(points, table["shortcut accuracy"], task.chance)
    [ax] = fig.axes
    assert ax.get_title() == "width 16" and len(ax.get_lines()[0].get_xdata()) == 2
    with pytest.raises(ValueError, match="no standard-recall records"):
        plot_mqar_sweep(points.iloc[:0], 0.5, 0.1)
