"""Run records: one JSON file per finished run, with what was run, what came out and where.

Tables and figures are built from records (`load_records` -> pandas DataFrame), never typed in.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from .data import project_root

SCHEMA_VERSION = 1


def results_dir(path=None) -> Path:
    """Where records live: the argument, $GAMLIB_RESULTS_DIR, <checkout>/results or ./results."""
    if path is None:
        path = os.environ.get("GAMLIB_RESULTS_DIR") or (project_root() or Path.cwd()) / "results"
    return Path(path)


def git_commit() -> str | None:
    root = project_root()
    if root is None:
        return None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}{'+dirty' if dirty else ''}" if commit else None


def provenance(device_name: str) -> dict:
    """Where and with what a run happened."""
    from . import __version__

    return {
        "device": device_name,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "gamlib": __version__,
        "git_commit": git_commit(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def spec_hash(spec: dict) -> str:
    """A short hash of everything that determines a run, to tell a stale record from a reusable one."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:12]


def save_record(record: dict, path: Path) -> Path:
    """Write atomically, so an interrupted run never leaves a half record that looks finished."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, default=str))
    tmp.replace(path)
    return path


def read_record(path: Path) -> dict | None:
    """A finished record, or None if the file is absent or not a record of this schema."""
    try:
        record = json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return record if record.get("schema") == SCHEMA_VERSION else None


def load_records(root=None, kind: str | None = None, **where):
    """All records under `root` as a DataFrame, one row per record, metrics flattened into columns.

    `kind` and keyword filters select rows, e.g. load_records(kind="lm", preset="quick").
    The full record stays available in the 'record' column.
    """
    import pandas as pd

    rows = []
    for path in sorted(results_dir(root).rglob("*.json")):
        record = read_record(path)
        if record is None or (kind and record.get("kind") != kind):
            continue
        if any(record.get(key) != value for key, value in where.items()):
            continue
        flat = {k: v for k, v in record.items() if not isinstance(v, (dict, list))}
        flat.update(record.get("metrics", {}))
        flat["path"], flat["record"] = str(path), record
        rows.append(flat)
    return pd.DataFrame(rows)
