"""gamlib.presets: presets are looked up by name."""
import pytest

from gamlib.presets import get_preset


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        get_preset("huge")
