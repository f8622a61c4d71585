"""Run records: one JSON file per finished run, with what was run, what came out and where.

`find_or_run` is the one cache every kind of run goes through (language model, recall, scaling):
a record whose specification hash matches is reused, anything else is run and written.
`find_or_measure` is the experiments' skeleton around it: it times the run and adds where it ran.
Tables and figures are built from records (`load_records` -> pandas DataFrame), never typed in.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

import pandas as pd
import torch

from .files import atomic_write_text
from .models.pretrained import WEIGHTS_FILE
from .paths import project_root, results_dir

SCHEMA_VERSION = 1


def git_commit() -> str | None:
    """$GAMLIB_GIT_COMMIT when set (a copy of the code on a remote machine names the commit it was copied
    from: its own .git, if any, may not match), else HEAD with '+dirty' when tracked files changed, else None."""
    root = project_root()
    if os.environ.get("GAMLIB_GIT_COMMIT") or root is None or not (root / ".git").exists():
        return os.environ.get("GAMLIB_GIT_COMMIT")
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}{'+dirty' if dirty else ''}" if commit else None


def gamlib_version() -> str | None:
    try:
        return version("gamlib")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return None


def processor() -> str:
    """The CPU's model name (with family and model where Linux gives them) and how many CPUs this process sees."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:  # not Linux
        pass
    name = fields.get("model name") or platform.processor() or platform.machine() or "unknown CPU"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return f"{name}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} CPUs"


def machine(provenance: dict) -> str:
    """A record's provenance in words: 'cpu (AMD EPYC (family 25, model 17), 2 CPUs)', 'NVIDIA H200 (...)'."""
    return f"{provenance['device']} ({provenance.get('processor', 'processor not recorded')})"


def provenance(device_name: str) -> dict:
    """Where and with what a run happened."""
    return {
        "device": device_name,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": processor(),
        "gamlib": gamlib_version(),
        "git_commit": git_commit(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def spec_hash(spec: dict) -> str:
    """A short hash of everything that determines a run, to tell a stale record from a reusable one."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:12]


REQUIRED_KEYS = {"lm": ("metrics", "provenance"),
                 "recall": ("metrics", "accuracy", "accuracy_by_position", "accuracy_by_competitors", "provenance"),
                 "scaling": ("rows", "provenance"), "benchmark": ("benchmark", "rows", "provenance"),
                 "context": ("loss_by_position", "provenance")}


class UnreadableRecord(ValueError):
    """A file where a record should be that cannot be used: not JSON, not a record, or incomplete."""


def save_record(record: dict, path: Path) -> Path:
    """Write atomically (unique temporary file, fsync, rename): a reader never sees half a record."""
    return atomic_write_text(path, json.dumps(record, indent=1, default=str))


def check_record(record) -> dict:
    """`record` if it is a complete record of this schema, else UnreadableRecord saying what is wrong."""
    if not isinstance(record, dict):
        raise UnreadableRecord(f"holds a JSON {type(record).__name__}, not a record (a JSON object)")
    if record.get("schema") != SCHEMA_VERSION:
        raise UnreadableRecord(f"has schema {record.get('schema')!r}, expected {SCHEMA_VERSION}")
    kind = record.get("kind")
    missing = [key for key in ("spec_hash", "kind", *REQUIRED_KEYS.get(kind, ())) if key not in record]
    if kind not in REQUIRED_KEYS:
        missing.append(f"a known kind (got {kind!r}; known: {sorted(REQUIRED_KEYS)})")
    if missing:
        raise UnreadableRecord(f"lacks {', '.join(missing)}")
    return record


def read_record(path) -> dict | None:
    """The record at `path`; None if there is no file; UnreadableRecord (naming the path) if it is unusable."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return check_record(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, UnreadableRecord) as error:
        raise UnreadableRecord(f"run record {path} is unreadable: {error}") from error


def finished_record(path, spec: dict, reusable: Callable[[dict], bool] = lambda record: True) -> dict | None:
    """The record at `path` when its spec hash matches `spec` and `reusable(record)`, else None (what find_or_run
    reuses). An unreadable file there is reported (a warning naming it) and counts as none."""
    try:
        existing = read_record(path)
    except UnreadableRecord as error:
        warnings.warn(f"{error}; running again", stacklevel=3)
        return None
    return existing if existing and existing["spec_hash"] == spec_hash(spec) and reusable(existing) else None


def find_or_run(path: Path, spec: dict, run: Callable[[], dict], force: bool = False,
                reusable: Callable[[dict], bool] = lambda record: True, progress: bool = False,
                lookup_only: bool = False) -> dict | None:
    """The record at `path` if its spec hash matches `spec` and `reusable(record)`; else run() and save.

    run() returns the record's content; find_or_run adds the schema and spec hash, writes it and
    returns it read back from disk, so a fresh record and a reused one are the same JSON object.
    An unreadable file at `path` is reported (a warning naming it) and replaced by a fresh run.
    lookup_only=True runs nothing: the finished record, or None (what a dry run asks).
    """
    path = Path(path)
    existing = None if force else finished_record(path, spec, reusable)
    if lookup_only:
        return existing
    if existing:
        if progress:
            print(f"reusing finished run {path}")
        return existing
    record = {"schema": SCHEMA_VERSION, "spec_hash": spec_hash(spec), **run()}
    save_record(record, path)
    return read_record(path)


def find_or_measure(path: Path, spec: dict, measure: Callable[[], tuple[dict, str]], force: bool = False,
                    reusable: Callable[[dict], bool] = lambda record: True, progress: bool = False,
                    lookup_only: bool = False) -> dict | None:
    """An experiment's record: find_or_run(path, spec, ...) where a run is `measure()`, which returns the
    record's content and the name of the device it ran on; `wall_s` (its seconds) and `provenance` are added."""
    def run() -> dict:
        started = time.perf_counter()
        content, device = measure()
        return {**content, "wall_s": time.perf_counter() - started, "provenance": provenance(device)}

    return find_or_run(path, spec, run, force=force, reusable=reusable, progress=progress, lookup_only=lookup_only)


def record_paths(root=None) -> list[Path]:
    """Every record file under `root`, sorted. The JSON files of weights folders (those holding a
    model.safetensors: config.json, study.json, models/pretrained.py) are not records and are left out."""
    return [path for path in sorted(results_dir(root).rglob("*.json")) if not (path.parent / WEIGHTS_FILE).exists()]


def load_records(root=None, kind: str | None = None, **where):
    """All records under `root` as a DataFrame, one row per record, metrics flattened into columns.

    `kind` and keyword filters select rows, e.g. load_records(kind="lm", preset="quick").
    The full record stays available in the 'record' column; the JSON files of weights folders (those holding a
    model.safetensors: config.json, study.json) are not records and are passed over. Files that cannot be read
    are never dropped silently: a warning names each, and the frame lists them in .attrs["unreadable"].
    """
    rows, unreadable = [], []
    for path in record_paths(root):
        try:
            record = read_record(path)
        except UnreadableRecord as error:
            unreadable.append(str(error))
            continue
        if record is None or (kind and record.get("kind") != kind):
            continue
        if any(record.get(key) != value for key, value in where.items()):
            continue
        flat = {k: v for k, v in record.items() if not isinstance(v, (dict, list))}
        flat.update(record.get("metrics", {}))
        flat["path"], flat["record"] = str(path), record
        rows.append(flat)
    if unreadable:
        warnings.warn(f"{len(unreadable)} record file(s) could not be read and are not in the table: "
                      + "; ".join(unreadable), stacklevel=2)
    frame = pd.DataFrame(rows)
    frame.attrs["unreadable"] = unreadable
    return frame
