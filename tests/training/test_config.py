"""gamlib.training.config: TrainConfig and RunOptions name a bad setting."""
import re
from dataclasses import replace

import numpy as np
import pytest

from gamlib.training.config import RunOptions, TrainConfig

NAN, INF = float("nan"), float("inf")


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        TrainConfig(precision="fp8")


def test_unknown_device_is_named():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        RunOptions(device="tpu:0")
    with pytest.raises(ValueError, match=r"^RunOptions\.device must be a string .*got 0$"):
        RunOptions(device=0)


@pytest.mark.parametrize("field,value,allowed", [
    ("progress", 1, "True or False"), ("compile", None, "True or False"),
    ("wandb_project", 3, "None or a string"), ("save_every_steps", 1.5, "None or an integer >= 0"),
])
def test_every_run_option_is_checked_and_named(field, value, allowed):
    with pytest.raises(ValueError, match=rf"^RunOptions\.{field} must be {allowed}, got {re.escape(repr(value))}$"):
        RunOptions(**{field: value})


def test_the_experiment_is_the_train_config_and_not_how_it_is_run():
    """A record's specification holds TrainConfig.to_dict(): nothing of how the run is carried out."""
    assert set(TrainConfig().to_dict()).isdisjoint(vars(RunOptions()))
    assert RunOptions(save_every_steps=0).save_every_steps == 0  # never within an epoch


@pytest.mark.parametrize("field,value,allowed", [
    *[("epochs", v, "an integer >= 1") for v in (0, -1, 2.0, True, "5", None)],
    *[("batch_size", v, "an integer >= 1") for v in (0, 16.0, False)],
    *[("warmup_steps", v, "an integer >= 0") for v in (-1, 10.0, True)],
    *[("eval_batch_size", v, "None or an integer >= 1") for v in (0, 8.0, True)],
    *[("seed", v, r"an integer in \[-9223372036854775808, 18446744073709551615\]") for v in (1.5, True, "0", 2**64)],
    *[("lr", v, "a finite real number > 0") for v in (0, 0.0, -1e-3, NAN, INF, "3e-4", True, None)],
    *[("weight_decay", v, "a finite real number >= 0") for v in (-0.1, NAN, INF, True)],
    *[("grad_clip", v, "a finite real number > 0") for v in (0, -1.0, NAN, INF, False)],
])
def test_every_field_is_checked_and_named(field, value, allowed):
    with pytest.raises(ValueError, match=rf"^TrainConfig\.{field} must be {allowed}, got {re.escape(repr(value))}$"):
        TrainConfig(**{field: value})


@pytest.mark.parametrize("betas,message", [
    ((0.9, 1.0), r"^TrainConfig\.betas\[1\] must be a real number in \[0, 1\), got 1\.0$"),
    ((-0.1, 0.95), r"^TrainConfig\.betas\[0\] must be a real number in \[0, 1\), got -0\.1$"),
    ((0.9, NAN), r"^TrainConfig\.betas\[1\] must be a real number in \[0, 1\), got nan$"),
    ((True, 0.9), r"^TrainConfig\.betas\[0\] must be a real number in \[0, 1\), got True$"),
    (0.9, r"^TrainConfig\.betas must be a pair of real numbers in \[0, 1\), got 0\.9$"),
    ((0.9,), r"^TrainConfig\.betas must be a pair .*got \(0\.9,\)$"),
    ((0.9, 0.95, 0.99), r"^TrainConfig\.betas must be a pair "),
    ("ab", r"^TrainConfig\.betas must be a pair "),
])
def test_betas_are_a_pair_in_unit_interval(betas, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(betas=betas)


def test_boundaries_and_normalisation():
    config = TrainConfig(epochs=np.int64(1), batch_size=1, lr=1, betas=[0, 0.999], weight_decay=0, grad_clip=1e-9,
                         warmup_steps=0, seed=-1, eval_batch_size=np.int32(1))
    assert config.betas == (0.0, 0.999) and isinstance(config.betas, tuple)
    assert type(config.epochs) is int and type(config.eval_batch_size) is int and type(config.lr) is float
    assert TrainConfig(eval_batch_size=None).eval_batch_size is None


def test_replace_is_checked():
    """dataclasses.replace (how experiments override a preset) runs the same checks."""
    with pytest.raises(ValueError, match=r"^TrainConfig\.lr must be a finite real number > 0, got 0$"):
        replace(TrainConfig(), lr=0)
