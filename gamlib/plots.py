"""Figures from records and probes; every figure is shown inline and saved under figures/."""
from __future__ import annotations

import os
from pathlib import Path

from .data import project_root


def figures_dir() -> Path:
    """$GAMLIB_FIGURES_DIR, else <checkout>/figures, else ./figures."""
    path = Path(os.environ.get("GAMLIB_FIGURES_DIR") or (project_root() or Path.cwd()) / "figures")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, name: str, dpi: int = 110) -> Path:
    """Save `fig` as figures/<name>.png (stable names, so the files diff cleanly) and return the path."""
    path = figures_dir() / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path
