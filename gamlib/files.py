"""Crash-safe files: a write is all or nothing, and a reader never sees half a file.

`atomic_write` (and `atomic_write_to`, for a writer that takes a file name) writes to a uniquely named
temporary file beside the target, flushes and fsyncs it, then renames it over the target (an atomic step on
POSIX and Windows file systems), so two processes writing the same path never collide and an interrupted
write leaves the old file or none.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_write_to(path, write: Callable[[Path], None]) -> Path:
    """Call write(temporary_path) for a file beside `path` (e.g. a library's save(model, filename)), fsync it,
    then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write(path, write: Callable[[object], None], mode: str = "w") -> Path:
    """Call write(handle) on a temporary file opened with `mode` ('w' text, 'wb' binary), then rename."""
    def write_file(tmp: Path) -> None:
        with open(tmp, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as handle:
            write(handle)

    return atomic_write_to(path, write_file)


def atomic_write_text(path, text: str) -> Path:
    return atomic_write(path, lambda handle: handle.write(text))


def sha256_file(path, chunk_bytes: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()
