"""gamlib.experiments.recall: a recall run writes its record and reuses it."""
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
