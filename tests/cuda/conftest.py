"""CUDA tests: every test marked `cuda` (each module here sets pytestmark) is skipped, with the reason
shown by -ra, where PyTorch sees no CUDA GPU. `make gpu-check` runs them on a GPU machine."""
import pytest
import torch

NO_GPU = (f"needs a CUDA GPU: torch.cuda.is_available() is False (torch {torch.__version__}, "
          f"built for CUDA {torch.version.cuda}); run `make gpu-check` on a machine with an NVIDIA GPU")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason=NO_GPU)
    for item in items:
        if item.get_closest_marker("cuda"):
            item.add_marker(skip)


@pytest.fixture
def cuda():
    """The CUDA device, with the peak-memory statistics reset and the cache emptied afterwards."""
    device = torch.device("cuda")
    torch.cuda.reset_peak_memory_stats(device)
    yield device
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
