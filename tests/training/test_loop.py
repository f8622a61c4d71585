"""gamlib.training.loop: the learning-rate schedule."""
import math

from gamlib.training.loop import warmup_cosine


def test_schedule_warms_up_then_decays_to_zero():
    assert warmup_cosine(0, 10, 100) == 0 and warmup_cosine(5, 10, 100) == 0.5
    assert warmup_cosine(10, 10, 100) == 1.0
    assert math.isclose(warmup_cosine(100, 10, 100), 0.0, abs_tol=1e-12)
