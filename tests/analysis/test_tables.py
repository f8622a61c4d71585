"""gamlib.analysis.tables: Table 1 from seed records, display formatting, and what is missing named;
the committed studies side by side (study_table) from whatever records a preset has."""
import math
import warnings

import pytest

from gamlib.analysis.tables import (
    display_study_table,
    display_table,
    find_runs,
    lr_sweep_sentences,
    lr_sweep_table,
    matches_preset,
    mean_std_text,
    study_runs,
    study_sentences,
    study_table,
    table1,
    table3,
)
from gamlib.plan import Run
from gamlib.presets import get_preset
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
        find_runs(records, "quick", [Run(m, v, "wikitext2", s) for m, v in [("gam", "full"), ("transformer", "naive")]
                                     for s in (0, 1)])
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
    missing = rf"gam/full on wikitext2 seed 1.*Unreadable record files: run record {broken}"
    with pytest.raises(LookupError, match=missing):
        table1(records, "quick", seeds=[0, 1], datasets=["wikitext2"], models=[("gam", "full")])


def _cpu_study(fake_record):
    """A partly run `cpu` study: GAM full and the SDPA Transformer with all 3 seeds, standard Mamba with
    one, the paper Mamba not yet; nothing on TinyStories; a stray seed 7 (not a study seed)."""
    return ([fake_record("gam", "full", s, loss, preset="cpu", unigram=6.5)
             for s, loss in enumerate([6.00, 6.01, 6.02])]
            + [fake_record("transformer", "sdpa", s, loss, preset="cpu", unigram=6.5)
               for s, loss in enumerate([6.10, 6.11, 6.12])]
            + [fake_record("mamba", "standard", 0, 6.3, preset="cpu", unigram=6.5),
               fake_record("gam", "full", 7, 1.0, preset="cpu", unigram=6.5)])


def test_study_table_shows_a_partly_run_preset_with_the_seed_spread_and_the_paper(tmp_path, fake_record,
                                                                                   write_records):
    records = write_records(tmp_path, _cpu_study(fake_record))
    table = study_table(records, "table1", presets=("cpu", "paper"))
    rows = table.set_index(["preset", "dataset", "model", "variant"])
    # the cpu grid (4 models) and the paper grid (5) on both datasets, whether run or not
    assert len(table) == 2 * 4 + 2 * 5 and list(table["preset"].unique()) == ["cpu", "paper"]
    gam, sdpa = rows.loc[("cpu", "wikitext2", "gam", "full")], rows.loc[("cpu", "wikitext2", "transformer", "sdpa")]
    assert (gam["n"], gam["seeds"], gam["status"], gam["spread"]) == (3, (0, 1, 2), "3 of 3 seeds", "reference")
    assert gam["val_loss_mean"] == pytest.approx(6.01) and gam["val_loss_std"] == pytest.approx(0.01)  # seed 7 ignored
    assert gam["unigram_loss"] == 6.5 and gam["below_unigram"] == pytest.approx(0.49)
    assert sdpa["delta"] == pytest.approx(0.10) and sdpa["threshold"] == pytest.approx(2 * 0.01)
    assert sdpa["beyond_spread"] is True and sdpa["spread"] == "beyond" and sdpa["device"] == "cpu"
    one = rows.loc[("cpu", "wikitext2", "mamba", "standard")]
    assert (one["n"], one["status"], one["beyond_spread"], one["spread"]) == (1, "1 of 3 seeds: spread n/a", None,
                                                                              "n/a (n=1)")
    assert one["delta"] == pytest.approx(0.29) and math.isnan(one["val_loss_std"]) and math.isnan(one["threshold"])
    missing = rows.loc[("cpu", "wikitext2", "mamba", "paper")]
    assert (missing["n"], missing["status"], missing["complete"]) == (0, "not run yet", False)
    assert math.isnan(missing["val_loss_mean"]) and missing["paper_val_ppl"] == 1017.54  # reported, beside it
    assert missing["paper_delta"] == pytest.approx(math.log(1017.54 / 882.57))
    assert (table.loc[table["dataset"] == "tinystories", "n"] == 0).all()
    assert (table.loc[table["preset"] == "paper", "status"] == "not run yet").all()  # no records: no error
    assert rows.loc[("paper", "tinystories", "transformer", "naive"), "paper_val_loss"] == 3.1591

    shown = display_study_table(table)
    assert list(shown.loc[:1, "val loss (nats)"]) == ["6.0100 ± 0.0100", "6.1100 ± 0.0100"]
    assert list(shown.loc[:3, "|Δ| > 2 × pooled std"]) == ["reference", "beyond", "—", "n/a (n=1)"]
    text = "\n".join(study_sentences(table))
    assert ("cpu on wikitext2 (cpu): 3 of 4 planned rows have records, 2 with all 3 seeds; partial: mamba standard "
            "(n=1); not run yet: mamba paper.") in text
    assert "transformer sdpa Δ +0.1000 (beyond 2 × pooled std = 0.0200)" in text
    assert "mamba standard Δ +0.2900 (spread n/a (n=1))" in text and "paper on wikitext2: no records yet" in text


def test_study_table_ablations_within_the_spread_and_without_any_record(tmp_path, fake_record, write_records):
    losses = {"full": [6.00, 6.01, 6.02], "global_only": [6.015, 6.025, 6.005], "local_only": [6.5, 6.6]}
    records = write_records(tmp_path, [fake_record("gam", v, s, loss, preset="cpu")
                                       for v, seeds in losses.items() for s, loss in enumerate(seeds)])
    table = study_table(records, "table3", presets=("cpu",)).set_index("variant")
    assert list(table.index) == ["full", "global_only", "sum_fusion", "local_only"]
    assert table.loc["global_only", "beyond_spread"] is False and table.loc["global_only", "spread"] == "within"
    assert table.loc["local_only", "status"] == "2 of 3 seeds" and table.loc["local_only", "beyond_spread"] is True
    assert table.loc["sum_fusion", "status"] == "not run yet"
    assert math.isnan(table.loc["full", "unigram_loss"])  # older records without the yardstick: NaN, no error
    assert table.loc["global_only", "paper_delta"] == pytest.approx(math.log(905.45 / 900.84))  # Table 3's own full
    empty = study_table(load_records(tmp_path / "nothing"), "table3", presets=("cpu", "paper"))
    assert len(empty) == 8 and (empty["n"] == 0).all() and (empty["spread"] == "—").all()
    # GAM full not run yet: the other rows have a mean but no Δ
    partial = study_table(write_records(tmp_path / "b", [fake_record("gam", "local_only", 0, 6.4, preset="cpu")]),
                          "table3", presets=("cpu",)).set_index("variant")
    assert partial.loc["local_only", "spread"] == "n/a (gam full not run yet)"
    assert math.isnan(partial.loc["local_only", "delta"])
    assert study_runs(records, "table3", presets=("cpu",))["variant"].tolist()[:3] == ["full"] * 3
    with pytest.raises(ValueError, match="table"):
        study_table(records, "table2")


def test_a_record_trained_under_older_preset_settings_is_left_out_and_named(tmp_path, fake_record, write_records):
    current = fake_record("gam", "full", 0, 5.3, preset="cpu", unigram=6.4)
    stale = fake_record("gam", "full", 1, 5.5, preset="cpu", unigram=6.4)
    settings = get_preset("cpu")
    for record, dropout in ((current, settings.model.dropout), (stale, 0.1)):
        record["model_config"] = settings.model_fields(dropout=dropout)
        record["train_config"] = {**settings.train.to_dict(), "seed": record["seed"], "betas": [0.9, 0.95]}
    records = write_records(tmp_path, [current, stale])
    assert matches_preset(current) and not matches_preset(stale)
    cut = {"vocab_size": settings.vocab_size, "block_size": settings.model.block_size,
           "train_chunks": settings.max_train_chunks, "val_chunks": settings.max_val_chunks}
    assert matches_preset({**current, "data": cut})
    more = settings.max_train_chunks + 1
    assert not matches_preset({**current, "data": {**cut, "train_chunks": more}})  # the cap was higher
    assert not matches_preset({**current, "data": {**cut, "vocab_size": 2048}})  # another tokenizer
    with pytest.warns(UserWarning, match=r"left out 1 record\(s\) trained with settings their preset no longer has"):
        runs = study_runs(records, "table1", presets=("cpu",))
    assert list(runs["seed"]) == [0] and runs.attrs["stale"][0].endswith("gam-full-seed1.json")


def _sweep_record(fake_record, model, variant, seed, loss, lr=None):
    """A cpu-preset record with the preset's settings; lr: an lr sweep's run (marked lr_sweep)."""
    settings = get_preset("cpu")
    record = fake_record(model, variant, seed, loss, preset="cpu", unigram=6.4)
    record["model_config"] = settings.model_fields()
    record["train_config"] = {**settings.train.to_dict(), "seed": seed, "lr": lr or settings.train.lr}
    record["lr_sweep"] = lr is not None
    return record


def test_an_lr_sweep_is_kept_out_of_the_study_and_read_on_its_own(tmp_path, fake_record):
    table1 = [_sweep_record(fake_record, "gam", "full", s, loss) for s, loss in enumerate([5.30, 5.32, 5.34])]
    table1 += [_sweep_record(fake_record, "mamba", "paper", s, loss) for s, loss in enumerate([5.8, 5.6, 6.0])]
    sweep = [_sweep_record(fake_record, "gam", "full", 0, 5.40, lr=1e-3), _sweep_record(fake_record, "gam", "full", 0,
                                                                                        5.35, lr=4e-3),
             _sweep_record(fake_record, "mamba", "paper", 0, 5.50, lr=1e-3),
             _sweep_record(fake_record, "mamba", "paper", 0, float("nan"), lr=4e-3)]
    for r in table1:
        save_record(r, tmp_path / "cpu" / "wikitext2" / f"{r['model']}-{r['variant']}-seed{r['seed']}.json")
    for r in sweep:
        save_record(r, tmp_path / "cpu" / "lr-sweep" / "wikitext2"
                    / f"{r['model']}-{r['variant']}-lr{r['train_config']['lr']:g}-seed0.json")
    records = load_records(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sweep's records are not stale ones: no warning
        runs = study_runs(records, "table1", presets=("cpu",))
    assert len(runs) == 6 and not runs["record"].map(lambda r: r["lr_sweep"]).any()
    table = lr_sweep_table(records, "cpu")
    assert list(zip(table["model"], table["lr"])) == [("gam", 1e-3), ("gam", 2e-3), ("gam", 4e-3),
                                                      ("mamba", 1e-3), ("mamba", 2e-3), ("mamba", 4e-3)]
    assert list(table["preset_lr"]) == [False, True, False] * 2
    assert table.loc[table["best"], "lr"].tolist() == [2e-3, 1e-3]
    assert table["below_unigram"].tolist()[0] == pytest.approx(6.4 - 5.40)
    study = study_table(records, "table1", presets=("cpu",))
    text = lr_sweep_sentences(table, study)
    assert text[0] == ("gam full: lr 0.001 5.4000, lr 0.002 5.3000, lr 0.004 5.3500; below the unigram loss by "
                       "1.10 nats at its best lr, 0.002 (the preset's lr).")
    assert text[1].startswith("mamba paper: lr 0.001 5.5000, lr 0.002 5.8000, lr 0.004 diverged (loss NaN);")
    assert text[1].endswith("0.3000 nats lower than at the preset's lr, within 2 × its seed std there (0.4000).")
    assert text[2] == ("at each model's best lr, one run each: gam full 5.3000 (lr 0.002); "
                       "mamba paper 5.5000 (lr 0.001). Table 1 at the preset's lr, mean over seeds: "
                       "gam full 5.3200; mamba paper 5.8000. The same order.")
    assert lr_sweep_table(load_records(tmp_path / "cpu" / "wikitext2"), "cpu").empty  # Table 1 alone: no sweep
