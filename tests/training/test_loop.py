"""gamlib.training.loop: the learning-rate schedule, the loss curves, and a killed run that resumes exactly."""
import ast
import math
import signal
import subprocess
import sys
import time

import pytest
import torch

from gamlib.data import TokenChunks
from gamlib.models.registry import build_model
from gamlib.training.config import RunOptions, TrainConfig
from gamlib.training.loop import fit, warmup_cosine


def test_schedule_warms_up_then_decays_to_zero():
    assert warmup_cosine(0, 10, 100) == 0 and warmup_cosine(5, 10, 100) == 0.5
    assert warmup_cosine(10, 10, 100) == 1.0
    assert math.isclose(warmup_cosine(100, 10, 100), 0.0, abs_tol=1e-12)


# One training problem, run in this process and in child processes (python -c): a tiny GAM with
# dropout (so the random state matters) on random chunks, 3 epochs of 12 steps.
PROBLEM = """
import sys, torch
from gamlib.data import TokenChunks
from gamlib.models.registry import build_model
from gamlib.training.config import RunOptions, TrainConfig
from gamlib.training.loop import fit

ids = torch.randint(0, 61, (120, 17), generator=torch.Generator().manual_seed(1))
train, validation = TokenChunks(ids[:96, :-1], ids[:96, 1:]), TokenChunks(ids[96:, :-1], ids[96:, 1:])
torch.manual_seed(0)
model = build_model("gam", "full", vocab_size=61, block_size=16, n_embd=32, n_layer=2, dropout=0.1,
                    num_memory_slots=16)
config = TrainConfig(epochs=3, batch_size=8, lr=3e-3, warmup_steps=4, seed=0, log_every=5, evals_per_epoch=3)

def train_once(state_path=None, save_every_steps=None):
    # the final validation loss and both curves (they hold no wall-clock times)
    options = RunOptions(progress=False, state_path=state_path, save_every_steps=save_every_steps)
    history = fit(model, train, validation, config, options)
    return history["epochs"][-1]["val_loss"], history["train_curve"], history["val_curve"]
"""


def run_child(state_path):
    code = PROBLEM + f"\nprint(repr(train_once({str(state_path)!r}, save_every_steps=1)))\n"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_a_killed_run_resumes_to_exactly_the_same_loss(tmp_path):
    """SIGKILL a training run after its first saved state; running it again ends on the same validation
    loss, to the last bit, as a run never interrupted."""
    namespace = {}
    exec(PROBLEM, namespace)
    uninterrupted = namespace["train_once"]()

    state_path = tmp_path / "run.train.pt"
    child = run_child(state_path)
    while not state_path.exists() and child.poll() is None:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL  # killed mid-run, not finished
    killed_at = torch.load(state_path, weights_only=True)
    assert (killed_at["epoch"], killed_at["step"]) < (4, 0)  # 3 epochs: the run had not ended

    resumed = run_child(state_path)
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0
    assert ast.literal_eval(output.strip()) == uninterrupted  # the loss and every point of both curves


def test_the_curves_log_every_few_steps_and_evaluate_within_epochs():
    namespace = {}
    exec(PROBLEM, namespace)
    final, train_curve, val_curve = namespace["train_once"]()
    # 12 steps per epoch, logged every 5 and at each epoch's end: steps 5, 10, 12, 17, 22, 24, ...
    assert [p["step"] for p in train_curve] == [5, 10, 12, 17, 22, 24, 29, 34, 36]
    assert [p["tokens"] for p in train_curve[:3]] == [5 * 8 * 16, 10 * 8 * 16, 12 * 8 * 16]
    # the initial evaluation, then 3 per epoch (after steps 4, 8 and 12 of each), the last one the epoch's own
    assert [p["step"] for p in val_curve] == [0, 4, 8, 12, 16, 20, 24, 28, 32, 36]
    assert val_curve[-1]["val_loss"] == final
    assert all(math.isfinite(p["train_loss"]) and p["lr"] >= 0 for p in train_curve)


def test_an_unreadable_training_state_is_named_and_ignored(tmp_path):
    state_path = tmp_path / "run.train.pt"
    state_path.write_bytes(b"not a torch file")
    namespace = {}
    exec(PROBLEM, namespace)
    with pytest.warns(UserWarning, match=f"training state {state_path} is unreadable"):
        resumed = namespace["train_once"](state_path)
    namespace = {}
    exec(PROBLEM, namespace)
    assert resumed == namespace["train_once"]()  # a fresh start, as if no state had been there


def compile_problem(vocab_size=61):
    """A tiny GAM without dropout (a compiled dropout draws other random numbers): 12 steps of batch 8,
    every batch full, so compilation happens once."""
    ids = torch.randint(0, 61, (120, 17), generator=torch.Generator().manual_seed(1))
    train, validation = TokenChunks(ids[:96, :-1], ids[:96, 1:]), TokenChunks(ids[96:, :-1], ids[96:, 1:])
    torch.manual_seed(0)
    model = build_model("gam", "full", vocab_size=vocab_size, block_size=16, n_embd=32, n_layer=2, dropout=0.0,
                        num_memory_slots=16)
    config = TrainConfig(epochs=1, batch_size=8, lr=3e-3, warmup_steps=4, seed=0, log_every=4)
    return model, train, validation, config


def test_a_compiled_run_trains_the_same_model():
    """fit with RunOptions(compile=True): the losses of an eager run to rounding, the model's own parameter
    names (the compiled wrapper is not what is saved), and the history says so."""
    model, train, validation, config = compile_problem()
    eager = fit(model, train, validation, config, RunOptions(progress=False))
    model, train, validation, config = compile_problem()
    compiled = fit(model, train, validation, config, RunOptions(progress=False, compile=True))
    assert (eager["compiled"], compiled["compiled"]) == (False, True)
    for a, b in zip(eager["train_curve"], compiled["train_curve"], strict=True):
        assert a["step"] == b["step"] and math.isclose(a["train_loss"], b["train_loss"], rel_tol=1e-4)
    assert math.isclose(eager["epochs"][-1]["val_loss"], compiled["epochs"][-1]["val_loss"], rel_tol=1e-4)
    assert not any(name.startswith("_orig_mod") for name in model.state_dict())


def test_a_compiled_run_checks_every_token_id_before_compiling():
    model, train, validation, config = compile_problem(vocab_size=50)  # the data hold ids up to 60
    with pytest.raises(ValueError, match="outside vocabulary of 50"):  # not an IndexError from inside the graph
        fit(model, train, validation, config, RunOptions(progress=False, compile=True))
