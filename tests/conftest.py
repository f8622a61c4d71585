import os
from pathlib import Path

import pytest
import torch

# The hub is unreachable in CI: fail at once instead of retrying for ~20 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "GAMLIB_DATA_DIR" not in os.environ and SHARED_DATA.exists():
    os.environ["GAMLIB_DATA_DIR"] = str(SHARED_DATA)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def has_local_data(folder: str) -> bool:
    root = os.environ.get("GAMLIB_DATA_DIR")
    return bool(root) and (Path(root) / folder / "train.txt").exists()


needs_wikitext = pytest.mark.skipif(not has_local_data("wikitext-2-v1"),
                                    reason="set GAMLIB_DATA_DIR to a folder holding wikitext-2-v1/")
