"""gamlib.analysis.plots: the block diagram names exactly the modules a GAM block has."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gamlib.analysis.plots import draw_gam_block  # noqa: E402
from gamlib.models.config import GAMConfig  # noqa: E402
from gamlib.models.gam import GAMBlock  # noqa: E402


def test_the_block_diagram_draws_every_module_of_a_gam_block_once():
    fig, drawn = draw_gam_block()
    modules = [name for name, _ in GAMBlock(GAMConfig(n_embd=16, num_memory_slots=4)).named_children()]
    assert sorted(drawn) == sorted(modules) and len(drawn) == len(set(drawn))
    plt.close(fig)
