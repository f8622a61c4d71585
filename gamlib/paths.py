"""Where things live on disk: the checkout, caches, run records and figures.

Each folder can be moved with an environment variable; otherwise it sits in the checkout the
package runs from (an editable install), or under the home / working directory for a plain install.
"""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path | None:
    """The checkout this package runs from (editable install), or None for a plain install."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").exists() else None


def cache_dir() -> Path:
    """Tokenizers and encoded ids: $GAMLIB_CACHE_DIR, <checkout>/data/cache, ~/.cache/gamlib."""
    if os.environ.get("GAMLIB_CACHE_DIR"):
        path = Path(os.environ["GAMLIB_CACHE_DIR"])
    elif project_root() is not None:
        path = project_root() / "data" / "cache"
    else:
        path = Path.home() / ".cache" / "gamlib"
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir(path=None) -> Path:
    """Run records: the argument, $GAMLIB_RESULTS_DIR, <checkout>/results or ./results."""
    if path is None:
        path = os.environ.get("GAMLIB_RESULTS_DIR") or (project_root() or Path.cwd()) / "results"
    return Path(path)


def committed_results_dir() -> Path:
    """The run records committed with the project (the studies of README's scorecard): <checkout>/results
    whatever $GAMLIB_RESULTS_DIR says (it may point at a fresh folder, e.g. on Colab); else results_dir()."""
    root = project_root()
    return root / "results" if root is not None else results_dir()


def figures_dir() -> Path:
    """Saved figures: $GAMLIB_FIGURES_DIR, else <checkout>/figures, else ./figures."""
    path = Path(os.environ.get("GAMLIB_FIGURES_DIR") or (project_root() or Path.cwd()) / "figures")
    path.mkdir(parents=True, exist_ok=True)
    return path
