"""Shared set-up for every test: offline hub, local data, a fixed seed, and the fixtures several folders use."""
import os
from pathlib import Path

import pytest
import torch

# The hub is unreachable in CI: fail at once instead of retrying for ~20 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "GAMLIB_DATA_DIR" not in os.environ and SHARED_DATA.exists():
    os.environ["GAMLIB_DATA_DIR"] = str(SHARED_DATA)

TEXT = ["The cat sat on the mat , and the dog ate 42 bones .", "A <unk> walked to the sea in 1999 .",
        "Homarus gammarus is a lobster ."] * 3


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def tiny():
    """Config fields of a tiny model, valid for every architecture (build_model ignores the fields a model lacks).

    A fresh dict per test: override what a test depends on, e.g. {**tiny, "n_layer": 1}.
    Dropout stays on so that a probe or generate that forgot eval mode shows up as noise.
    """
    return dict(vocab_size=97, block_size=32, n_embd=16, n_layer=3, dropout=0.1, num_memory_slots=8,
                conv_kernel_size=3, n_head=4, d_state=4, d_conv=4, expand=2)


@pytest.fixture(scope="session")
def tokenizer():
    """A BPE tokenizer (vocabulary 97) trained on a few short sentences with words, numbers and <unk>."""
    from gamlib.data import train_tokenizer  # gamlib is imported after the environment above is set

    return train_tokenizer(TEXT, 97)


@pytest.fixture
def recall_task():
    """A small associative-recall task: 4 key-value facts and 8 queries in 32 tokens, at five distances."""
    from gamlib.probes.recall import RecallTask

    return RecallTask(seq_len=32, num_keys=6, num_values=5, pairs=4, queries=8, distances=(1, 2, 5, 9, 20))


@pytest.fixture
def wikitext_dir():
    """The local WikiText-2 folder under GAMLIB_DATA_DIR; the test is skipped when it is absent."""
    root = os.environ.get("GAMLIB_DATA_DIR")
    folder = Path(root) / "wikitext-2-v1" if root else None
    if folder is None or not (folder / "train.txt").exists():
        pytest.skip("set GAMLIB_DATA_DIR to a folder holding wikitext-2-v1/")
    return folder
