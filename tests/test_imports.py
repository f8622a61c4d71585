"""gamlib/__init__.py, the public face: `import gamlib` loads no plotting or widget package, and `__all__`
names every public name, each of which resolves (the figures and the gate explorer on first use)."""
from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import gamlib

ROOT = Path(__file__).resolve().parents[1]
LOADED_ON_USE = ("matplotlib", "seaborn", "ipywidgets", "scipy")  # scipy: the scorecard's statistics


def test_import_gamlib_loads_no_plotting_widget_or_statistics_package():
    code = "import sys, gamlib; print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "gamlib" in loaded and "torch" in loaded
    assert not loaded & set(LOADED_ON_USE), f"`import gamlib` imported {sorted(loaded & set(LOADED_ON_USE))}"


def test_all_names_every_public_name_once():
    assert len(gamlib.__all__) == len(set(gamlib.__all__)), "a name is listed twice in __all__"
    public = {name for name in dir(gamlib)
              if not name.startswith("_") and not isinstance(getattr(gamlib, name), types.ModuleType)}
    assert public == set(gamlib.__all__), f"missing from __all__: {sorted(public - set(gamlib.__all__))}"


def test_every_name_resolves_and_dir_lists_the_lazy_ones():
    lazy = {"draw_gam_block", "plot_loss_curves", "plot_lr_sweep", "plot_scaling", "plot_seed_points", "save_figure",
            "VIEWS", "GateExplorer", "gate_figure"}
    assert lazy <= set(dir(gamlib)) and lazy <= set(gamlib.__all__)
    for name in gamlib.__all__:
        assert getattr(gamlib, name) is not None, name
    from gamlib import widgets
    from gamlib.analysis import plots
    assert gamlib.plot_loss_curves is plots.plot_loss_curves and gamlib.save_figure is plots.save_figure
    assert gamlib.GateExplorer is widgets.GateExplorer and gamlib.VIEWS is widgets.VIEWS


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="plot_nothing"):
        gamlib.plot_nothing
