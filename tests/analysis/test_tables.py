"""gamlib.analysis.tables: Table 1 from seed records, display formatting, and what is missing named."""
import math

import pytest

from gamlib.analysis.tables import display_table, mean_std_text, select_runs, table1, table3
from gamlib.records import SCHEMA_VERSION, load_records, save_record


def test_seed_mean_std_and_paper_columns(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [fake_record("gam", "full", s, loss, seconds=sec)
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


def test_missing_records_name_what_is_missing(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [fake_record("gam", "full", 0, 6.0),
                                       fake_record("gam", "full", 1, 6.0, preset="paper")])
    with pytest.raises(LookupError, match=r"preset 'quick': gam/full on wikitext2 seed 1; "
                                          r"transformer/naive on wikitext2 seed 0.*run_table1"):
        select_runs(records, "quick", [0, 1], ["wikitext2"], [("gam", "full"), ("transformer", "naive")])
    with pytest.raises(LookupError, match="gam/global_only on wikitext2 seed 0"):
        table3(load_records(tmp_path / "empty"), "quick", seeds=[0])
    save_record({"schema": SCHEMA_VERSION, "spec_hash": "s", "kind": "scaling", "preset": "quick", "rows": [],
                 "provenance": {"device": "cpu"}}, tmp_path / "only" / "s.json")
    with pytest.raises(LookupError, match="gam/full on wikitext2 seed 0"):  # no LM columns at all
        table1(load_records(tmp_path / "only"), "quick", seeds=[0])


def test_a_missing_run_names_the_records_that_could_not_be_read(tmp_path, fake_record, write_records):
    write_records(tmp_path, [fake_record("gam", "full", 0, 6.0)])
    broken = tmp_path / "quick" / "wikitext2" / "gam-full-seed1.json"
    broken.write_text("[]")  # the seed-1 record, damaged
    with pytest.warns(UserWarning, match="1 record file"):
        records = load_records(tmp_path)
    with pytest.raises(LookupError, match=rf"gam/full on wikitext2 seed 1.*Unreadable record files: run record {broken}"):
        table1(records, "quick", seeds=[0, 1], datasets=["wikitext2"], models=[("gam", "full")])
