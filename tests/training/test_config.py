"""gamlib.training.config: TrainConfig names a bad setting."""
import pytest

from gamlib.training.config import TrainConfig


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        TrainConfig(precision="fp8")
