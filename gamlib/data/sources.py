"""Where the text comes from: a local folder laid out like `shared/data`, else the Hugging Face hub.

    wikitext2    local: wikitext-2-v1/{train,validation,test}.txt   (one row per line)
                 hub:   Salesforce/wikitext, config wikitext-2-raw-v1, at a pinned revision
    tinystories  local: tinystories/{train,validation}.txt           (stories split at <|endoftext|>)
                 hub:   roneneldan/TinyStories, at a pinned revision

From the hub a split is streamed and only the rows asked for are read (`take(max_rows)`): 50k of TinyStories'
2.1M rows never download or convert the rest. A pinned revision (a commit of the dataset's repository) means
the same rows whenever they are read.

A folder given explicitly, as the argument `data_dir` or
else the environment variable GAMLIB_DATA_DIR, is the only place looked at, and an error names the
file it lacks; only when neither is given are <checkout>/data and then the hub tried.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..checks import check_choice
from ..paths import project_root

STORY_SEPARATOR = "<|endoftext|>"


@dataclass(frozen=True)
class DatasetSource:
    local_folder: str            # folder under the data dir
    local_format: str            # "lines" (a row per line) or "stories" (rows split at separator lines)
    hub_path: str
    hub_name: str | None
    hub_revision: str            # the dataset repository's commit: the rows read never change under us
    title: str


DATASETS = {
    "wikitext2": DatasetSource("wikitext-2-v1", "lines", "Salesforce/wikitext", "wikitext-2-raw-v1",
                               "b08601e04326c79dfdd32d625aee71d232d685c3", "WikiText-2"),
    "tinystories": DatasetSource("tinystories", "stories", "roneneldan/TinyStories", None,
                                 "f54c09fd23315a6f9c86f9dc80f725de7d8f9c64", "TinyStories"),
}
SPLITS = ("train", "validation", "test")


def candidate_data_dirs(data_dir: str | os.PathLike | None) -> list[Path]:
    """The folders load_rows reads local copies from: the argument alone when given, else
    $GAMLIB_DATA_DIR alone when set, else <checkout>/data (then load_rows tries the hub)."""
    if data_dir is not None and str(data_dir) != "":
        return [Path(data_dir)]
    if os.environ.get("GAMLIB_DATA_DIR"):
        return [Path(os.environ["GAMLIB_DATA_DIR"])]
    return [project_root() / "data"] if project_root() is not None else []


def read_local_rows(path: Path, fmt: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {error.start}: {error.reason}), so it cannot be read as a "
            f"dataset split. Fix: replace it with the UTF-8 text file (see data/README.md for how to "
            f"build the folder, and SHA256SUMS beside the shared copy to check it)."
        ) from error
    if fmt == "lines":
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    stories, current = [], []
    for line in text.split("\n"):
        if line == STORY_SEPARATOR:
            stories.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if any(current):
        stories.append("\n".join(current))
    return stories


def _missing_split_error(source: DatasetSource, split: str, folder: Path, given_as: str) -> FileNotFoundError:
    """The error for an explicitly given data folder that does not hold the split: what is missing, and the fix."""
    path = folder / source.local_folder / f"{split}.txt"
    if not folder.is_dir():
        lacks = "that folder does not exist"
    elif not (folder / source.local_folder).is_dir():
        lacks = f"that folder has no {source.local_folder}/ folder"
    else:
        lacks = f"{folder / source.local_folder} has no {split}.txt"
    where = f"{path}" + ("" if path.is_absolute() else f" (absolute: {path.absolute()})")
    return FileNotFoundError(
        f"No {source.title} {split} data in the data folder given by {given_as}: expected the file {where}, "
        f"but {lacks}. Fix: put {source.local_folder}/{split}.txt in {folder} (see data/README.md), or point "
        f"{given_as.split('=')[0]} at the folder that holds it (e.g. ../shared/data); leave both data_dir and "
        f"GAMLIB_DATA_DIR unset to read <checkout>/data or download from the Hugging Face hub instead."
    )


def load_rows(dataset: str, split: str, data_dir=None, max_rows: int | None = None) -> tuple[list[str], str]:
    """The text rows of a split (trimmed to max_rows) and a description of where they came from.

    An explicit folder (data_dir, else $GAMLIB_DATA_DIR) is the only place looked at: when it lacks
    <folder>/<dataset folder>/<split>.txt, a FileNotFoundError names that path. With neither given,
    <checkout>/data is tried, then the Hugging Face hub.
    """
    check_choice("dataset", dataset, DATASETS)
    check_choice("split", split, SPLITS)
    source = DATASETS[dataset]
    folders = candidate_data_dirs(data_dir)
    if data_dir is not None and str(data_dir) != "":
        given_as = f"data_dir={str(data_dir)!r}"
    elif os.environ.get("GAMLIB_DATA_DIR"):
        given_as = f"GAMLIB_DATA_DIR={os.environ['GAMLIB_DATA_DIR']}"
    else:
        given_as = None
    for folder in folders:
        path = folder / source.local_folder / f"{split}.txt"
        if path.is_file():
            rows = read_local_rows(path, source.local_format)
            return rows[:max_rows] if max_rows else rows, f"local:{path}"
    if given_as is not None:
        raise _missing_split_error(source, split, folders[0], given_as)
    looked = [str(folder / source.local_folder / f"{split}.txt") for folder in folders]
    try:
        rows = load_hub_rows(source, split, max_rows)
    except Exception as error:  # no internet, HF_HUB_OFFLINE, missing package, unknown split
        raise FileNotFoundError(
            f"No {source.title} {split} data found. Looked for: {', '.join(looked) or '(no local folder given)'}; "
            f"then the Hugging Face hub download of {source.hub_path!r} failed ({type(error).__name__}: "
            f"{str(error)[:200]}). Fix: point GAMLIB_DATA_DIR (or data_dir=) at a folder holding "
            f"{source.local_folder}/{split}.txt (e.g. export GAMLIB_DATA_DIR=../shared/data), "
            f"or run where the hub is reachable (unset HF_HUB_OFFLINE)."
        ) from error
    return rows, f"hub:{source.hub_path}/{source.hub_name or 'default'}@{source.hub_revision[:7]}"


def load_hub_rows(source: DatasetSource, split: str, max_rows: int | None) -> list[str]:
    """The first max_rows rows (all when None) of a split, streamed from the hub at the pinned revision."""
    from datasets import load_dataset  # slow to import, and only needed without local copies

    rows = load_dataset(source.hub_path, source.hub_name, split=split, revision=source.hub_revision, streaming=True)
    return [row["text"] for row in (rows.take(max_rows) if max_rows else rows)]
