"""gamlib.experiments.scaling: the Table 2 sweep writes a record, reuses it, and stops a series after OOM."""
import pandas as pd
import pytest

from gamlib.analysis.tables import scaling_frame, scaling_table
from gamlib.experiments import scaling as scaling_experiments
from gamlib.records import load_records


def test_scaling_record_written_reused_and_stops_after_oom(tmp_path, monkeypatch):
    sweep_settings = dict(batch_size=1, n_embd=32, n_head=4, warmup=0, iters=1, seq_lens=(16, 32, 64))
    series = [dict(model="gam", variant="full"), dict(model="transformer", variant="sdpa", dropout=0.1, max_seq_len=32)]
    record = scaling_experiments.run_scaling("quick", "cpu", tmp_path, settings=sweep_settings, series=series)
    assert (tmp_path / "quick" / "scaling" / "table2-cpu.json").exists()
    frame = scaling_frame(record)
    assert list(zip(frame["series"], frame["seq_len"])) == [
        ("gam full", 16), ("gam full", 32), ("gam full", 64),
        ("transformer sdpa, dropout 0.1", 16), ("transformer sdpa, dropout 0.1", 32)]
    assert (frame["status"] == "ok").all() and list(frame["dropout"]) == [0.0] * 3 + [0.1] * 2
    assert (frame["cpu_threads"] == 1).all()
    reused = scaling_experiments.run_scaling("quick", "cpu", tmp_path, settings=sweep_settings, series=series)
    assert (reused["provenance"], reused["wall_s"]) == (record["provenance"], record["wall_s"])
    assert load_records(tmp_path, kind="scaling")["preset"].tolist() == ["quick"]

    def fake_measure(model, variant, seq_len, **settings):
        return dict(model=model, variant=variant, seq_len=seq_len, status="oom" if seq_len >= 32 else "ok",
                    median_ms=1.0, peak_mb=1.0)
    monkeypatch.setattr(scaling_experiments, "measure_block", fake_measure)
    frame = scaling_frame(scaling_experiments.run_scaling("quick", "cpu", tmp_path, settings=sweep_settings,
                                                          series=series[:1], force=True))
    assert frame["status"].tolist() == ["ok", "oom", "skipped"] and frame["reason"].iloc[-1] == "out of memory at 32"
    with pytest.raises(ValueError, match="kind 'scaling'"):
        scaling_frame({"kind": "lm"})
    assert isinstance(scaling_table(frame, "peak_mb"), pd.DataFrame)
