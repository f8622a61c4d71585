"""The budgeted GPU session on a CPU: the budget logic with fake jobs and a fake clock, the dry run of the real
queue, the archive of new records, and the pieces of the jobs that need no GPU (estimates, the kernels' build)."""
from __future__ import annotations

import importlib
import subprocess
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from gamlib import get_preset, planned_runs
from gamlib.experiments import gpu_session
from gamlib.experiments.cost import GPU_CHECK_FIXED_S, GPU_CLASSES, chunks, gpu_check_seconds, gpu_class_of
from gamlib.experiments.gpu_check import run_gpu_check
from gamlib.experiments.gpu_session import (
    Estimate,
    Job,
    Session,
    earlier_estimate,
    new_records,
    pack_records,
    run_session,
    snapshot,
    summary_lines,
)
from gamlib.experiments.mamba_kernels import KERNEL_PACKAGES, build_kernels, one_architecture, release_file
from gamlib.experiments.throughput import run_compile_benchmark
from gamlib.plan import session_runs
from gamlib.records import save_record


class Clock:
    """A fake clock that only the fake jobs move."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fake_job(name, estimate, takes, clock, ran, done=False, rank=3, fails=False):
    def run():
        clock.now += takes
        ran.append(name)
        if fails:
            raise RuntimeError("out of luck")

    def estimated():
        assert not done, "a finished job must not be estimated"
        return Estimate(estimate, "fake")

    return Job(rank, name, lambda: done, estimated, run)


def statuses(outcomes):
    return {o.job.name: o.status.split(":")[0] for o in outcomes}


def test_a_job_that_does_not_fit_is_skipped_and_a_cheaper_one_after_it_still_runs():
    clock, ran = Clock(), []
    jobs = [fake_job("big", 100, 100, clock, ran), fake_job("small", 20, 25, clock, ran)]
    outcomes = run_session(jobs, budget_s=60, margin=1.0, clock=clock, log=lambda line: None)
    assert ran == ["small"]
    assert statuses(outcomes) == {"big": "skipped", "small": "ran"}
    assert outcomes[1].seconds == 25 and outcomes[1].estimate.seconds == 20  # measured beside estimated


def test_a_finished_record_skips_a_job_without_estimating_or_running_it():
    clock, ran = Clock(), []
    jobs = [fake_job("finished", 10, 10, clock, ran, done=True), fake_job("missing", 10, 10, clock, ran)]
    outcomes = run_session(jobs, budget_s=60, clock=clock, log=lambda line: None)
    assert ran == ["missing"] and statuses(outcomes) == {"finished": "done", "missing": "ran"}


@pytest.mark.parametrize("margin, runs", [(1.2, True), (1.3, False)])
def test_the_margin_multiplies_the_estimate(margin, runs):
    clock, ran = Clock(), []
    outcomes = run_session([fake_job("job", 40, 40, clock, ran)], budget_s=50, margin=margin, clock=clock,
                           log=lambda line: None)
    assert (ran == ["job"]) is runs
    assert outcomes[0].status.startswith("ran" if runs else "skipped")


def test_the_budget_left_counts_the_measured_time_not_the_estimate():
    clock, ran = Clock(), []
    jobs = [fake_job("slow", 10, 40, clock, ran), fake_job("next", 15, 15, clock, ran)]
    outcomes = run_session(jobs, budget_s=50, margin=1.0, clock=clock, log=lambda line: None)
    assert ran == ["slow"] and statuses(outcomes)["next"] == "skipped"  # 50 - 40 = 10 left < 15
    lines = summary_lines(outcomes, 50, 1.0, clock(), dry_run=False)
    assert any("0.7 min measured against 0.2 min estimated" in line for line in lines), lines


def test_a_failed_job_is_reported_and_the_session_goes_on():
    clock, ran = Clock(), []
    jobs = [fake_job("broken", 5, 5, clock, ran, fails=True), fake_job("fine", 5, 5, clock, ran)]
    outcomes = run_session(jobs, budget_s=60, clock=clock, log=lambda line: None)
    assert ran == ["broken", "fine"]
    assert outcomes[0].status == "failed: RuntimeError: out of luck" and outcomes[1].status == "ran"


def test_a_dry_run_runs_nothing_and_spends_the_estimates():
    clock, ran = Clock(), []
    jobs = [fake_job(name, 20, 20, clock, ran) for name in ("a", "b", "c")]
    outcomes = run_session(jobs, budget_s=45, margin=1.0, dry_run=True, clock=clock, log=lambda line: None)
    assert ran == [] and statuses(outcomes) == {"a": "would run", "b": "would run", "c": "skipped"}


def test_session_ranks_hold_every_planned_run_once_in_the_order_of_value():
    paper = get_preset("paper")
    ranked = session_runs(paper)
    every = [run for rank in sorted(ranked) for run in ranked[rank]]
    assert sorted(map(repr, every)) == sorted(map(repr, planned_runs(paper))) and len(set(every)) == len(every)
    assert all(r.dataset == "wikitext2" and r.pair != ("mamba", "paper") for r in ranked[3])
    assert ranked[5][0].pair == ("mamba", "paper") and {r.dataset for r in ranked[5]} == {"wikitext2", "tinystories"}
    assert not any(r.model == "mamba" and r.dataset == "tinystories" for r in ranked[5])


def test_the_dry_run_prints_the_queue_on_this_cpu(tmp_path, capsys):
    code = gpu_session.main(["--dry-run", "--gpu", "H200", "--budget", "540", "--results", str(tmp_path / "results"),
                             "--data-dir", str(tmp_path / "no-data")])  # no local copy: nothing is loaded
    out = capsys.readouterr().out
    assert code == 0, out
    assert "estimates for H200 (cost-model class H100)" in out and "versions: python" in out
    for job in ("gpu-check", "Table 2 on CUDA", "transformer sdpa on wikitext2, seed 1", "compiled (torch.compile)",
                "mamba paper on wikitext2, seed 0", "standard recall gam-full-C64-lr0.0003-seed0",
                "standard recall gam-full-C64 seed 1 at its sweep's best lr",
                "official Mamba kernels"):
        assert job in out, job
    assert "would run" in out and "skipped: needs" in out and "estimate from cost model" in out
    assert "skipped: waits for its row's lr sweep" in out
    assert not list(tmp_path.rglob("*.json")), "a dry run wrote a record"


def test_without_a_gpu_a_run_refuses_and_a_dry_run_asks_which_gpu(tmp_path, capsys):
    assert gpu_session.main(["--budget", "60", "--gpu", "T4", "--results", str(tmp_path)]) == 2
    assert "no CUDA GPU is visible, so nothing was run" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        gpu_session.main(["--dry-run", "--budget", "60"])
    assert "--gpu H200" in capsys.readouterr().err


def write(path, device="NVIDIA H200", wall_s=100.0):
    record = {"schema": 1, "spec_hash": "x", "kind": "lm", "metrics": {}, "wall_s": wall_s,
              "provenance": {"device": device}}
    save_record(record, path)  # creates the folders
    return path


def test_out_packs_exactly_the_records_this_session_wrote(tmp_path, monkeypatch, capsys):
    results, out = tmp_path / "results", tmp_path / "out"
    write(results / "paper" / "wikitext2" / "old.json")
    monkeypatch.setattr(gpu_session.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(gpu_session, "environment_lines", lambda session: ["(a fake GPU)"])

    def jobs(session):
        return [Job(1, f"writes {name}", lambda: False, lambda: Estimate(1, "fake"),
                    lambda name=name: write(results / "paper" / name)) for name in ("a.json", "scaling/b.json")]

    monkeypatch.setattr(gpu_session, "session_jobs", jobs)
    code = gpu_session.main(["--budget", "60", "--gpu", "H200", "--results", str(results), "--out", str(out)])
    assert code == 0, capsys.readouterr().out
    [archive] = out.glob("gpu-session-paper-*.tar.gz")
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["results/paper/a.json", "results/paper/scaling/b.json"]


def test_new_records_are_the_new_and_the_changed_files(tmp_path):
    kept, changed = write(tmp_path / "p" / "kept.json"), write(tmp_path / "p" / "changed.json")
    before = snapshot(tmp_path)
    write(changed, wall_s=2.0)
    fresh = write(tmp_path / "p" / "x" / "fresh.json")
    assert new_records(tmp_path, before) == sorted([changed, fresh]) and kept.exists()
    archive = pack_records([fresh], tmp_path, tmp_path / "out", "t")
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["results/p/x/fresh.json"]


def test_an_earlier_record_estimates_only_on_the_same_gpu_class(tmp_path):
    session = Session(get_preset("paper"), "H200", GPU_CLASSES["H100"], tmp_path)
    h200 = [write(tmp_path / f"h{i}.json", "NVIDIA H200", wall_s) for i, wall_s in enumerate((60.0, 66.0))]
    t4 = write(tmp_path / "t4.json", "Tesla T4", 900.0)
    estimate = earlier_estimate([*h200, t4, tmp_path / "absent.json"], session)
    assert estimate.seconds == 63.0 and "2 earlier run(s) on NVIDIA H200" in estimate.source
    assert earlier_estimate([t4], session) is None


def test_a_local_copy_smaller_than_the_split_scales_the_modelled_estimate(tmp_path):
    paper, run = get_preset("paper"), planned_runs(get_preset("paper"), ("table1",), datasets=("tinystories",))[0]
    full = gpu_session.run_estimate(run, Session(paper, "H200", GPU_CLASSES["H100"], tmp_path, str(tmp_path)))
    (tmp_path / "tinystories").mkdir()
    (tmp_path / "tinystories" / "train.txt").write_text("a story\n")
    modelled = chunks(paper, "tinystories", "train")
    local = Session(paper, "H200", GPU_CLASSES["H100"], tmp_path, str(tmp_path),
                    data_cache={"tinystories": SimpleNamespace(train=range(modelled // 4))})
    scaled = gpu_session.run_estimate(run, local)
    assert scaled.seconds == pytest.approx(full.seconds * (modelled // 4) / modelled)
    assert f"local copy's {modelled // 4:,} of {modelled:,} train chunks" in scaled.source


def test_gpu_names_fall_in_the_cost_model_classes():
    assert gpu_class_of("NVIDIA H200") == "H100" and gpu_class_of("Tesla T4") == "T4"
    assert gpu_class_of("NVIDIA A100-SXM4-40GB") == "A100" and gpu_class_of("AMD Radeon") is None


def test_the_gpu_check_estimate_adds_training_steps_to_its_stated_fixed_part():
    models = (("gam", "full"), ("gam", "context"), ("mamba", "paper"))
    short, long = (gpu_check_seconds(GPU_CLASSES["T4"], models, steps) for steps in (2, 8))
    assert GPU_CHECK_FIXED_S < short < long


def test_lookups_of_gpu_jobs_measure_nothing_on_a_cpu(tmp_path):
    assert run_gpu_check("paper", results_root=tmp_path, lookup_only=True) is None
    assert run_compile_benchmark("paper", results_root=tmp_path, lookup_only=True) is None
    assert not list(tmp_path.rglob("*"))


SETUP_PY = """import os
cc_flag = []
if os.environ.get("HIP"):
    cc_flag.append("-DHIP")
else:
    cc_flag.append("-gencode")
    cc_flag.append("arch=compute_75,code=sm_75")
    cc_flag.append("-gencode")
    cc_flag.append("arch=compute_80,code=sm_80")
    if True:
        cc_flag.append("-gencode")
        cc_flag.append("arch=compute_90,code=sm_90")
FLAGS = cc_flag
"""


def test_setup_py_is_rewritten_to_compile_this_gpus_architecture_only():
    namespace = {}
    exec(compile(one_architecture(SETUP_PY, (9, 0)), "setup.py", "exec"), namespace)
    assert namespace["FLAGS"] == ["-gencode", "arch=compute_90,code=sm_90"]
    with pytest.raises(ValueError, match="layout changed"):
        one_architecture("cc_flag = []\n", (9, 0))


def fake_release(folder, package):
    """A source release holding only SETUP_PY, named as the real one."""
    source = folder / "src" / release_file(package).removesuffix(".tar.gz")
    source.mkdir(parents=True)
    (source / "setup.py").write_text(SETUP_PY)
    with tarfile.open(folder / release_file(package), "w:gz") as tar:
        tar.add(source, arcname=source.name)


def test_a_kernel_build_compiles_the_unpacked_release_and_stops_at_a_failure(tmp_path):
    for package in KERNEL_PACKAGES:
        fake_release(tmp_path, package)
    calls = []

    def pip(command, env, **kwargs):
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 1, stdout="", stderr="nvcc fatal")

    rows = build_kernels((9, 0), sources=tmp_path, run=pip, workdir=tmp_path / "work")
    [(command, env)] = calls  # causal-conv1d failed: mamba-ssm was not tried
    assert command[-4:] == ["--no-build-isolation", "--no-deps", "--no-cache-dir", command[-1]]
    built = tmp_path / "work" / release_file("causal-conv1d").removesuffix(".tar.gz")
    assert command[-1] == str(built) and "compute_80" not in (built / "setup.py").read_text()
    assert env["TORCH_CUDA_ARCH_LIST"] == "9.0" and env["CAUSAL_CONV1D_FORCE_BUILD"] == "TRUE"
    assert len(rows) == 1 and rows[0]["status"] == "pip exit 1" and rows[0]["output_tail"] == ["nvcc fatal"]


def test_a_missing_release_is_a_failed_build_that_names_it(tmp_path):
    rows = build_kernels((9, 0), sources=tmp_path, run=None, workdir=tmp_path / "work")
    assert len(rows) == 1 and release_file("causal-conv1d") in rows[0]["status"]


def test_colab_results_point_the_session_at_that_folder(tmp_path, monkeypatch, capsys):
    for name in ("GAMLIB_RESULTS_DIR", "GAMLIB_FIGURES_DIR"):  # gamlib.colab sets them: restored after the test
        monkeypatch.setenv(name, str(tmp_path / "before"))
    kept = tmp_path / "kept"  # on Colab, "drive" is MyDrive/gam-notebooks (mounted first); a folder works alike
    code = gpu_session.main(["--dry-run", "--preset", "colab", "--gpu", "T4", "--budget", "3000", "--colab-results",
                             str(kept), "--data-dir", str(tmp_path / "no-data")])
    out = capsys.readouterr().out
    assert code == 0 and f"results: {kept / 'results'}, preset 'colab'" in out
    assert "gam full on wikitext2, seed 0" in out and "estimates for T4" in out


def test_a_check_that_did_not_pass_fails_its_job():
    assert gpu_session.passed({"passed": True}, "passed") == {"passed": True}
    with pytest.raises(RuntimeError, match="parity_passed: false"):
        gpu_session.passed({"benchmark": "mamba-kernels", "built": True, "parity_passed": False}, "built",
                           "parity_passed")


def test_the_console_entry_point_is_the_session_command():
    tomllib = pytest.importorskip("tomllib")
    scripts = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["gam-gpu-session"].partition(":")
    assert getattr(importlib.import_module(module), name) is gpu_session.main


def test_the_gpu_recall_grid_runs_its_sweep_then_the_seeds_at_the_best_lr(tmp_path, monkeypatch):
    from gamlib.experiments.recall import mqar_best_lr, mqar_records
    from gamlib.probes.recall import StandardMQAR

    task = StandardMQAR(vocab_size=32, seq_len=32, pairs=4)
    monkeypatch.setattr(gpu_session, "MQAR_GPU_TASK", task)
    monkeypatch.setattr(gpu_session, "MQAR_GPU_TRAINING", {"train_sequences": 32, "eval_sequences": 16, "epochs": 1,
                                                           "batch_size": 16})
    monkeypatch.setattr(gpu_session, "MQAR_GPU_WIDTHS", (16,))
    monkeypatch.setattr(gpu_session, "MQAR_MODELS", (("gam", "full"),))
    monkeypatch.setattr(gpu_session, "MQAR_LRS", (1e-3, 1e-2))
    session = Session(get_preset("colab"), "H200", GPU_CLASSES["H100"], tmp_path)
    jobs = gpu_session.recall_grid_jobs(session)
    assert [job.name for job in jobs] == [
        "standard recall gam-full-C16-lr0.001-seed0", "standard recall gam-full-C16-lr0.01-seed0",
        "standard recall gam-full-C16 seed 1 at its sweep's best lr",
        "standard recall gam-full-C16 seed 2 at its sweep's best lr"]
    assert [job.waits_for() for job in jobs] == [None, None] + ["waits for its row's lr sweep"] * 2
    jobs[0].run()
    assert jobs[0].done() and not jobs[1].done() and jobs[2].waits_for()   # half a sweep decides nothing
    outcomes = run_session(jobs, budget_s=1e9, log=lambda line: None)
    assert [o.status for o in outcomes] == ["done", "ran", "ran", "ran"]
    records = mqar_records("colab", tmp_path, task)
    best = mqar_best_lr(records)[("gam", "full", 16)]
    assert sorted((r["seed"], r["train_config"]["lr"]) for r in records["record"]) == sorted(
        [(0, 1e-3), (0, 1e-2), (1, best), (2, best)])
    assert all(job.done() for job in jobs)
