"""gamlib.analysis.scorecard: each claim's rule on small synthetic records (supported, not shown, contradicted, not
testable), verdicts that say where settings disagree, Welch's test and the paper's effect beside each comparison,
controls and notes, the Markdown table, and README.md's table == the records'."""
from pathlib import Path

import pytest

from gamlib.analysis.scorecard import (
    CLAIMS,
    CONTRADICTED,
    LINEAR_EXPONENT,
    MIN_FIT_POINTS,
    NOT_SHOWN,
    NOT_TESTABLE,
    QUADRATIC_EXPONENT,
    SCALING_FIT_FROM,
    SPEED_MARGIN,
    SUPPORTED,
    Claim,
    combine,
    forest_rows,
    put_readme_block,
    readme_block,
    readme_table,
    scorecard,
    scorecard_markdown,
    untested_text,
)
from gamlib.analysis.stats import SPREAD_FACTOR, spread_rule_p, welch
from gamlib.records import SCHEMA_VERSION, load_records, save_record

ROOT = Path(__file__).resolve().parents[2]


def runs(fake_record, model, variant, values, metric="val_loss", preset="paper", dataset="wikitext2",
         device="NVIDIA H200", backend=None):
    """One fake record per seed 0, 1, ...: `values` of `metric` (val_loss, or tokens_per_s with loss 6.0)."""
    out = []
    for seed, value in enumerate(values):
        kwargs = {"tokens_per_s": value} if metric == "tokens_per_s" else {}
        record = fake_record(model, variant, seed, value if metric == "val_loss" else 6.0, dataset=dataset,
                             preset=preset, device=device, **kwargs)
        if backend:
            record["mamba_backend"] = backend
        out.append(record)
    return out


def row(card, claim):
    return card.set_index("claim").loc[claim]


def verdicts(card, claim):
    return {f["setting"]: f["verdict"] for f in row(card, claim)["findings"]}


def test_no_records_no_probe_nothing_testable(tmp_path):
    card = scorecard(load_records(tmp_path / "empty"))
    assert list(card["claim"]) == list(CLAIMS) and (card["verdict"] == NOT_TESTABLE).all()
    assert "no scaling record for cpu or paper" in row(card, "a")["reason"]
    assert "cpu/wikitext2: no records yet" in row(card, "d")["reason"]
    assert "no probe result given" in row(card, "g")["reason"]
    assert row(card, "d")["paper_evidence"].startswith(
        "Table 1 validation PPL: wikitext2: GAM 882.57, Transformer 918.99")


def test_loss_rule_supported_contradicted_and_not_testable(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [
        *runs(fake_record, "gam", "full", [6.00, 6.01, 6.02]),
        *runs(fake_record, "transformer", "naive", [6.10, 6.11, 6.12]),     # GAM lower beyond the spread
        *runs(fake_record, "transformer", "sdpa", [5.90, 5.91, 5.92]),      # GAM higher beyond it
        *runs(fake_record, "mamba", "paper", [6.015, 6.005, 6.025]),        # within the spread
        *runs(fake_record, "mamba", "standard", [6.5])])                    # one seed: not testable
    card = scorecard(records, presets=["paper"])
    d = verdicts(card, "d")
    assert d["paper/wikitext2 vs transformer naive"] == SUPPORTED
    assert d["paper/wikitext2 vs transformer sdpa"] == CONTRADICTED
    assert d["paper/tinystories vs transformer naive"] == NOT_TESTABLE
    # the fair baseline (fused attention) is named first
    assert row(card, "d")["verdict"] == ("contradicted at paper/wikitext2 vs transformer sdpa; "
                                         "supported at paper/wikitext2 vs transformer naive")
    naive = next(f for f in row(card, "d")["findings"] if f["setting"] == "paper/wikitext2 vs transformer naive")
    assert naive["delta"] == pytest.approx(-0.10) and naive["threshold"] == pytest.approx(0.02)
    assert "GAM lower beyond the spread" in naive["evidence"] and "n=3" in naive["evidence"]
    test = welch(6.11, 0.01, 3, 6.01, 0.01, 3)   # Welch's test beside the spread rule, and the paper's own Δ
    assert naive["p"] == pytest.approx(test["p"]) and naive["low"] < -0.10 < naive["high"]
    assert f"Welch p = {test['p']:.3f}" in naive["evidence"] and "the paper: Δ -0.0404" in naive["evidence"]
    e = row(card, "e")
    assert verdicts(card, "e")["paper/wikitext2 vs mamba paper"] == NOT_SHOWN and e["verdict"] == NOT_SHOWN
    assert "within the spread" in e["our_evidence"]
    assert "paper/wikitext2: missing mamba standard seeds 1, 2 (so far: Δ -0.4900 nats)" in e["reason"]
    assert e["notes"] == ""   # one seed of Mamba standard points the claim's way: nothing to flag
    assert "paper/tinystories: no records yet" in e["reason"]


def test_presets_that_disagree_are_named(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [
        *runs(fake_record, "gam", "full", [6.00, 6.01, 6.02]),
        *runs(fake_record, "transformer", "sdpa", [6.2, 6.2, 6.21]),
        *runs(fake_record, "gam", "full", [5.00, 5.01, 5.02], preset="cpu", device="cpu"),
        *runs(fake_record, "transformer", "sdpa", [4.90, 4.91, 4.92], preset="cpu", device="cpu")])
    card = scorecard(records, presets=["cpu", "paper"])
    assert row(card, "d")["verdict"] == ("contradicted at cpu/wikitext2 vs transformer sdpa; "
                                         "supported at paper/wikitext2 vs transformer sdpa")


def test_a_setting_not_judged_yet_that_points_the_other_way_is_named(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [
        *runs(fake_record, "gam", "full", [6.00, 6.01, 6.02], preset="cpu", device="cpu"),
        *runs(fake_record, "mamba", "standard", [6.20, 6.21, 6.22], preset="cpu", device="cpu"),
        *runs(fake_record, "gam", "full", [5.80, 5.81, 5.82]),
        *runs(fake_record, "mamba", "standard", [5.70])])   # one paper seed, lower than GAM beyond GAM's spread
    e = row(scorecard(records, presets=["cpu", "paper"]), "e")
    assert e["verdict"] == SUPPORTED
    assert e["notes"].startswith("the other way so far (not judged: too few seeds) at paper/wikitext2 vs mamba "
                                 "standard: Δ +0.1100 nats with n = 3 and 1 seeds")


def test_context_free_gams_are_the_control_of_d(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [
        *runs(fake_record, "gam", "full", [6.00, 6.01, 6.02]),
        *runs(fake_record, "transformer", "sdpa", [6.20, 6.21, 6.22]),
        *runs(fake_record, "gam", "global_only", [6.05, 6.06, 6.07]),     # one token of context, beats it too
        *runs(fake_record, "gam", "local_only", [6.20, 6.22, 6.21])])     # does not
    d = row(scorecard(records, presets=["paper"]), "d")
    assert verdicts(scorecard(records, presets=["paper"]), "d")["paper/wikitext2 vs transformer sdpa"] == SUPPORTED
    controls = {f["setting"]: f["verdict"] for f in d["controls"]}
    assert controls == {"paper/wikitext2: gam global_only vs transformer sdpa": SUPPORTED,
                        "paper/wikitext2: gam local_only vs transformer sdpa": NOT_SHOWN}
    assert "(gam global_only) also beat transformer sdpa at paper/wikitext2" in d["notes"]
    assert "control, paper/wikitext2: gam global_only vs transformer sdpa" in d["our_evidence"]
    rows = forest_rows(scorecard(records, presets=["paper"])).set_index("label")   # the forest plot's rows
    claim_row = rows.loc["paper/wikitext2 vs transformer sdpa"]
    assert claim_row["scale"] == "val loss" and not claim_row["control"]
    assert claim_row["delta"] == pytest.approx(-0.20) and claim_row["low"] < claim_row["delta"] < claim_row["high"]
    assert claim_row["paper"] == pytest.approx(-0.0404, abs=1e-4)   # ln(882.57 / 918.99)
    assert rows.loc["paper/wikitext2: gam local_only vs transformer sdpa", "control"]


def test_ablation_rule_on_the_parameter_matched_ablations(tmp_path, fake_record, write_records):
    base = [*runs(fake_record, "gam", "full", [6.00, 6.01, 6.02]),
            *runs(fake_record, "gam", "global_only_matched", [6.10, 6.11, 6.12]),
            *runs(fake_record, "gam", "sum_fusion_matched", [6.20, 6.21, 6.22])]
    beaten = runs(fake_record, "gam", "local_only_matched", [6.30, 6.31, 6.32])
    close = runs(fake_record, "gam", "local_only_matched", [6.01, 6.02, 6.00])
    better = runs(fake_record, "gam", "local_only_matched", [5.80, 5.81, 5.82])
    unmatched = runs(fake_record, "gam", "local_only", [6.30, 6.31, 6.32])
    card = scorecard(write_records(tmp_path / "a", base + beaten + unmatched), presets=["paper"])
    f = row(card, "f")
    assert f["verdict"] == SUPPORTED and f["findings"][0]["setting"] == "paper/wikitext2"
    assert {k: v["verdict"] for k, v in f["findings"][0]["pairs"].items()} == {
        ("gam", "global_only_matched"): SUPPORTED, ("gam", "sum_fusion_matched"): SUPPORTED,
        ("gam", "local_only_matched"): SUPPORTED}
    assert f["controls"][0]["setting"] == "paper/wikitext2, unmatched" and f["controls"][0]["verdict"] == NOT_TESTABLE
    assert row(scorecard(write_records(tmp_path / "b", base + close), presets=["paper"]), "f")["verdict"] == NOT_SHOWN
    assert row(scorecard(write_records(tmp_path / "e", base + better), presets=["paper"]), "f")["verdict"] == \
        CONTRADICTED
    partial = row(scorecard(write_records(tmp_path / "c", base + beaten[:1]), presets=["paper"]), "f")
    assert partial["verdict"] == NOT_TESTABLE
    assert "paper/wikitext2: missing gam local_only_matched seeds 1, 2" in partial["reason"]
    # an ablation that beats full GAM decides, even while another one is missing
    early = row(scorecard(write_records(tmp_path / "d", base[:3] + better), presets=["paper"]), "f")
    assert early["verdict"] == CONTRADICTED
    assert "missing gam global_only_matched seeds 0, 1, 2" in early["our_evidence"]


def test_speed_rule_same_device_spread_and_mamba_backend(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [
        *runs(fake_record, "gam", "full", [1000, 1010, 990], "tokens_per_s"),
        *runs(fake_record, "transformer", "naive", [900, 905, 895], "tokens_per_s"),      # GAM faster beyond
        *runs(fake_record, "transformer", "sdpa", [1100, 1110, 1090], "tokens_per_s"),    # GAM slower beyond
        *runs(fake_record, "mamba", "paper", [100, 101, 99], "tokens_per_s"),             # mambapy: never judged
        *runs(fake_record, "mamba", "standard", [1200, 1210, 1190], "tokens_per_s", backend="mamba_ssm"),
        *runs(fake_record, "gam", "full", [50, 51, 52], "tokens_per_s", dataset="tinystories", device="cpu"),
        *runs(fake_record, "transformer", "naive", [40, 41, 42], "tokens_per_s", dataset="tinystories")])
    c = verdicts(scorecard(records, presets=["paper"]), "c")
    assert c["paper/wikitext2 vs transformer naive on NVIDIA H200"] == SUPPORTED
    assert c["paper/wikitext2 vs transformer sdpa on NVIDIA H200"] == CONTRADICTED
    assert c["paper/wikitext2 vs mamba paper"] == NOT_TESTABLE
    assert c["paper/wikitext2 vs mamba standard on NVIDIA H200"] == CONTRADICTED
    naive = next(f for f in row(scorecard(records, presets=["paper"]), "c")["findings"]
                 if f["setting"] == "paper/wikitext2 vs transformer naive on NVIDIA H200")
    assert "the paper: x1.125" in naive["evidence"] and naive["paper_relative"] == pytest.approx(131.9 / 117.2 - 1)
    assert c["paper/tinystories vs transformer naive"] == NOT_TESTABLE   # GAM on cpu, the Transformer on the H200
    card = scorecard(records, presets=["paper"])
    assert "paper/wikitext2 vs mamba paper: ran on mambapy, not mamba_ssm" in row(card, "c")["reason"]
    assert "no one device holds >= 3 seeds of both rows (devices: NVIDIA H200, cpu)" in row(card, "c")["reason"]


def test_speed_from_a_training_benchmark_and_no_mamba_speed_on_a_cpu_preset(tmp_path):
    def bench_row(model, variant, tokens_per_s, backend=None):
        return dict(model=model, variant=variant, tokens_per_s=tokens_per_s, backend=backend)

    save_record({"schema": SCHEMA_VERSION, "spec_hash": "b", "kind": "benchmark", "benchmark": "training",
                 "preset": "cpu", "rows": [bench_row("gam", "full", 1000), bench_row("transformer", "naive", 900),
                                           bench_row("transformer", "sdpa", 980), bench_row("transformer", "x", 1100),
                                           bench_row("mamba", "paper", 100, "mambapy")],
                 "provenance": {"device": "cpu"}}, tmp_path / "cpu" / "benchmarks" / "training-cpu.json")
    card = scorecard(load_records(tmp_path), presets=["cpu"])
    c = verdicts(card, "c")
    assert c["cpu benchmark vs transformer naive on cpu"] == SUPPORTED    # x1.11: the preset trains no naive rows,
    assert c["cpu benchmark vs transformer sdpa on cpu"] == NOT_SHOWN  # the benchmark times them; x1.02 <= x1.05
    assert c["cpu benchmark vs transformer x on cpu"] == CONTRADICTED  # x0.91: slower by more than the margin
    assert c["cpu vs mamba standard, mamba paper"] == NOT_TESTABLE and not any("benchmark vs mamba" in k for k in c)
    assert "a CPU runs Mamba on a pure-PyTorch scan" in row(card, "c")["reason"]
    assert row(card, "c")["verdict"] == ("not shown at cpu benchmark vs transformer sdpa on cpu; "
                                         "supported at cpu benchmark vs transformer naive on cpu; "
                                         "contradicted at cpu benchmark vs transformer x on cpu")
    naive = verdicts(scorecard(load_records(tmp_path), presets=["paper"]), "c")  # no paper benchmark: nothing from it
    assert not any("benchmark" in setting for setting in naive)


def scaling_record(preset, gam_power, device="cpu", lengths=(128, 256, 512, 768, 1024, 1536, 2048)):
    rows = []
    for T in lengths:
        rows.append(dict(series="gam full", model="gam", variant="full", seq_len=T, status="ok",
                         median_ms=0.01 * T ** gam_power, peak_mb=0.02 * T ** gam_power))
        rows.append(dict(series="transformer naive", model="transformer", variant="naive", seq_len=T,
                         status="ok" if T < 2048 else "oom", median_ms=1e-4 * T ** 2 if T < 2048 else None,
                         peak_mb=1e-4 * T ** 2 if T < 2048 else None))
    return {"schema": SCHEMA_VERSION, "spec_hash": "s", "kind": "scaling", "preset": preset, "device": device,
            "rows": rows, "provenance": {"device": device, "finished_at": f"{preset}-{gam_power}"}}


def test_scaling_rule(tmp_path):
    empty = load_records(tmp_path / "none")
    linear = scorecard(empty, scaling=scaling_record("quick", 1.0), presets=["paper"])
    for claim in ("a", "b"):
        assert row(linear, claim)["verdict"] == SUPPORTED
        finding = row(linear, claim)["findings"][0]
        assert finding["setting"] == "quick scaling record (cpu)" and finding["exponent"] == pytest.approx(1.0)
        assert "from T = 512..2048 (5 lengths)" in finding["evidence"]
        assert "transformer naive b = 2.00" in finding["evidence"]
    assert "gam full b = 1.00 (0.01 -> 0.01 ms per token, T = 512 -> 2048)" in row(linear, "a")["our_evidence"]
    assert row(scorecard(empty, scaling=[scaling_record("quick", 1.5)]), "a")["verdict"] == NOT_SHOWN
    assert row(scorecard(empty, scaling=[scaling_record("quick", 1.8)]), "a")["verdict"] == CONTRADICTED
    few = row(scorecard(empty, scaling=[scaling_record("quick", 1.0, lengths=(128, 512, 1024, 2048))]), "a")
    assert few["verdict"] == NOT_TESTABLE and f"the fit needs {MIN_FIT_POINTS}" in few["reason"]
    # records of the scorecard's presets are found in the frame; the rest only when passed
    save_record(scaling_record("cpu", 1.0), tmp_path / "r" / "cpu" / "scaling" / "table2-cpu.json")
    save_record(scaling_record("quick", 2.0), tmp_path / "r" / "quick" / "scaling" / "table2-cpu.json")
    card = scorecard(load_records(tmp_path / "r"), presets=["cpu"])
    assert verdicts(card, "a") == {"cpu scaling record (cpu)": SUPPORTED}
    # on CUDA the fit starts at 1024: fewer than two lengths there is not testable
    short = scorecard(empty, scaling=scaling_record("paper", 1.0, "cuda", (256, 512, 1024)))
    assert row(short, "a")["verdict"] == NOT_TESTABLE and "1 usable lengths from T >= 1024" in row(short, "a")["reason"]
    with pytest.raises(ValueError, match="kind 'scaling'"):
        scorecard(empty, scaling={"kind": "lm", "provenance": {}})


def test_reach_rule():
    probe = dict(preset="paper", n_layer=6, conv_kernel_size=3, block_size=256, expected=13, gam=13, transformer=256,
                 memory_read_source=128, memory_read_changes=[128], bank_is_parameter=True)
    empty = load_records(Path("/nonexistent-scorecard-records"))
    card = scorecard(empty, reach=[probe])
    g = row(card, "g")
    assert g["verdict"] == CONTRADICTED
    assert "depend on 13 of 256 positions for GAM" in g["our_evidence"] and "only at position 128" in g["our_evidence"]
    assert row(scorecard(empty, reach={**probe, "gam": 256}), "g")["verdict"] == SUPPORTED
    failed = row(scorecard(empty, reach={**probe, "transformer": 40}), "g")
    assert failed["verdict"] == NOT_TESTABLE and "control failed" in failed["reason"]


def test_combine_and_untested_text():
    found = [dict(setting="A", verdict=SUPPORTED), dict(setting="B", verdict=NOT_SHOWN),
             dict(setting="C", verdict=SUPPORTED), dict(setting="D", verdict=NOT_TESTABLE, evidence="why")]
    assert combine(found) == "supported at A, C; not shown at B"
    assert combine(found[:1] + found[3:]) == SUPPORTED and combine(found[3:]) == NOT_TESTABLE
    grouped = [dict(setting="x", verdict=NOT_TESTABLE, where="p/w", lacking=["a seeds 1, 2"]),
               dict(setting="y", verdict=NOT_TESTABLE, where="p/w", lacking=["a seeds 1, 2", "b seed 2"]),
               dict(setting="z", verdict=NOT_TESTABLE, where="p/t", lacking=["no records yet"]), found[3]]
    assert untested_text(grouped) == "p/w: missing a seeds 1, 2, b seed 2; p/t: no records yet; D: why"


def test_markdown_table(tmp_path, fake_record, write_records):
    records = write_records(tmp_path, [*runs(fake_record, "gam", "full", [6.00, 6.01, 6.02]),
                                       *runs(fake_record, "transformer", "naive", [6.10, 6.11, 6.12])])
    text = scorecard_markdown(scorecard(records, presets=["paper"]))
    lines = text.splitlines()
    assert lines[0] == "| | claim | the paper's evidence | our evidence | verdict |" and len(lines) == 2 + len(CLAIMS)
    assert all(line.count(" | ") == 4 and line.startswith("| (") for line in lines[2:])
    assert "**supported**. Rule:" in lines[2 + list(CLAIMS).index("d")]
    assert "<br>paper/wikitext2 vs transformer naive: GAM full 6.0100 ± 0.0100" in text


def test_claims_are_records_whose_rules_cite_the_constants():
    assert all(isinstance(claim, Claim) and claim.key == key for key, claim in CLAIMS.items())
    assert list(CLAIMS) == list("abcdefg")
    fit_from = f"fitted from T >= {SCALING_FIT_FROM['cpu']} on a CPU, {SCALING_FIT_FROM['cuda']} on CUDA"
    assert fit_from in CLAIMS["a"].rule() and f"over >= {MIN_FIT_POINTS} lengths" in CLAIMS["a"].rule()
    assert f"b < {LINEAR_EXPONENT:g}, contradicted when b >= {QUADRATIC_EXPONENT:g}" in CLAIMS["a"].rule()
    assert f"{SPREAD_FACTOR:g} x the pooled seed std" in CLAIMS["d"].rule()
    assert f"Welch test at p ~ {spread_rule_p(3):.2f}" in CLAIMS["d"].rule()
    assert f"by more than {SPEED_MARGIN:.0%} either way" in CLAIMS["c"].rule()


def test_the_spread_rule_as_a_welch_test():
    """At n seeds per row with equal stds, |Δ| = 2 x pooled std is a Welch t of 2 / sqrt(2 / n), 2n - 2 df."""
    for n in (2, 3, 5):
        at_threshold = welch(0.0, 1.0, n, 2.0, 1.0, n)   # Δ = 2, pooled std 1
        assert at_threshold["p"] == pytest.approx(spread_rule_p(n)) and at_threshold["df"] == pytest.approx(2 * n - 2)
    assert 0.06 < spread_rule_p(3) < 0.08 and 0.17 < spread_rule_p(2) < 0.19
    with pytest.raises(ValueError, match="needs >= 2 seeds"):
        welch(0.0, 1.0, 1, 1.0, 1.0, 3)


def test_readme_block_markers():
    text = "intro\n<!-- scorecard:begin -->\nold\n<!-- scorecard:end -->\nrest\n"
    assert readme_block(text) == "old"
    new = put_readme_block(text, "| new |")
    assert new == "intro\n<!-- scorecard:begin -->\n| new |\n<!-- scorecard:end -->\nrest\n"
    with pytest.raises(ValueError, match="lacks the markers"):
        readme_block("no markers here")


def test_readme_scorecard_is_what_the_records_give():
    """README.md's table is the scorecard of the committed records (gamlib.analysis.scorecard.readme_table):
    after new records land, regenerate it with `python scripts/scorecard.py --readme`."""
    shown = readme_block((ROOT / "README.md").read_text(encoding="utf-8"))
    assert shown == readme_table(), ("README.md's scorecard differs from the records: run "
                                     "`python scripts/scorecard.py --readme`")
