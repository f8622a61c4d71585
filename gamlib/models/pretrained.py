"""Shareable weights: a model saved as a folder the Hugging Face ecosystem reads, and loaded back from one.

    folder/config.json          {"format", "format_version", "model", "variant", "config": model.config.to_dict()}
    folder/model.safetensors    the weights (safetensors: plain tensors, no code; the tied embedding/head once)

`from_pretrained` takes such a folder or the id of a Hub repository holding one ('owner/name'), downloaded
with huggingface_hub.snapshot_download (imported only then).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model

from ..files import atomic_write_text, atomic_write_to
from .lm import LanguageModel
from .registry import MODEL_CLASSES, build_model

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
FORMAT, FORMAT_VERSION = "gamlib", 1
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")  # 'owner/name', as the Hub spells repository ids


def save_pretrained(model: LanguageModel, folder) -> Path:
    """Write `model` to `folder` (created if needed) as config.json and model.safetensors; returns the folder.

    Each file is written atomically. The weights keep the model's dtype; the same model gives the same bytes.
    """
    family = next((name for name, cls in MODEL_CLASSES.items() if isinstance(model, cls)), None)
    if family is None:
        raise TypeError(f"save_pretrained saves the series' language models "
                        f"({', '.join(cls.__name__ for cls in MODEL_CLASSES.values())}), "
                        f"got {type(model).__name__}")
    folder = Path(folder)
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": family,
              "variant": model.config.variant, "config": model.config.to_dict()}
    # no metadata of our own: safetensors writes it in a random order, and the same model should give the same bytes
    atomic_write_to(folder / WEIGHTS_FILE, lambda path: save_model(model, str(path)))
    atomic_write_text(folder / CONFIG_FILE, json.dumps(config, indent=1) + "\n")
    return folder


def from_pretrained(folder_or_repo_id, device="cpu") -> LanguageModel:
    """The model saved by save_pretrained in a local folder or a Hub repository ('owner/name'), in eval mode.

    A str that names no existing path and looks like 'owner/name' is a Hub repository id; a Path is
    always a local folder. Loading draws no random numbers (the global generator is left as it was).
    """
    folder = resolve_folder(folder_or_repo_id)
    family, variant, fields = read_config(folder)
    try:
        with torch.random.fork_rng(devices=[]):  # its fresh weights are overwritten: keep the caller's random stream
            model = build_model(family, variant, **fields)
    except ValueError as error:  # a field unknown to this gamlib, or a value its config refuses
        raise ValueError(f"{folder / CONFIG_FILE}: {error}") from error
    try:
        load_model(model, str(folder / WEIGHTS_FILE), strict=True)
    except SafetensorError as error:
        raise ValueError(f"{folder / WEIGHTS_FILE} is not a safetensors file ({error}); write the folder "
                         f"again with save_pretrained") from error
    except RuntimeError as error:  # missing or unexpected tensors, or tensors of other shapes: one line each
        problems = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise ValueError(f"{folder / CONFIG_FILE} does not match the weights in {WEIGHTS_FILE} ({shown}); "
                         f"write both together with save_pretrained") from error
    return model.to(device).eval()


def resolve_folder(folder_or_repo_id) -> Path:
    """The local folder holding config.json and model.safetensors (a Hub repository downloaded first)."""
    name = folder_or_repo_id
    if isinstance(name, str) and not Path(name).exists() and REPO_ID.fullmatch(name):
        folder = download(name)
    else:
        folder = Path(name)
        if not folder.exists():
            raise FileNotFoundError(f"no folder {folder}: give a folder written by save_pretrained, or the id "
                                    f"of a Hugging Face Hub repository ('owner/name')")
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is a file: give the folder that holds {CONFIG_FILE} and "
                                     f"{WEIGHTS_FILE} (written by save_pretrained)")
    missing = [file for file in (CONFIG_FILE, WEIGHTS_FILE) if not (folder / file).is_file()]
    if missing:
        raise FileNotFoundError(f"{name} has no {' and no '.join(missing)}: a saved model is a folder with "
                                f"{CONFIG_FILE} and {WEIGHTS_FILE}; write it with save_pretrained")
    return folder


def download(repo_id: str) -> Path:
    """The local copy of Hub repository `repo_id` (only its config.json and model.safetensors)."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    try:
        return Path(snapshot_download(repo_id, allow_patterns=[CONFIG_FILE, WEIGHTS_FILE]))
    except (OSError, ValueError, HfHubHTTPError) as error:
        if constants.HF_HUB_OFFLINE:
            fix = ("HF_HUB_OFFLINE is set, so only a copy already in the Hub cache is used: unset it to download, "
                   "or download the repository where there is a network and pass its folder")
        else:
            fix = ("check the id and the network connection, log in (hf auth login) for a private repository, "
                   "or pass a local folder written by save_pretrained")
        raise FileNotFoundError(f"'{repo_id}' is not a local folder, and downloading it from the Hugging Face Hub "
                                f"failed ({type(error).__name__}: {error}); {fix}") from error


def read_config(folder: Path) -> tuple[str, str, dict]:
    """(model family, variant, config fields) from folder/config.json, each checked."""
    path = folder / CONFIG_FILE
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not JSON ({error}); write the folder again with save_pretrained") from error
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gamlib model config (no \"format\": \"{FORMAT}\"); "
                         f"write the folder with gamlib's save_pretrained")
    if saved.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path} has format_version {saved.get('format_version')!r}, this gamlib reads "
                         f"{FORMAT_VERSION}; load it with the gamlib version that wrote it")
    family, variant, fields = saved.get("model"), saved.get("variant"), saved.get("config")
    if family not in MODEL_CLASSES:
        raise ValueError(f"{path} names an unknown model family {family!r}; known: {sorted(MODEL_CLASSES)} "
                         f"(written by another gamlib version?)")
    if not isinstance(variant, str) or not isinstance(fields, dict) or fields.get("variant", variant) != variant:
        raise ValueError(f"{path} must hold \"variant\" (a name) and \"config\" (the model config's fields, with "
                         f"the same variant), got variant {variant!r}; write the folder again with save_pretrained")
    return family, variant, {key: value for key, value in fields.items() if key != "variant"}
