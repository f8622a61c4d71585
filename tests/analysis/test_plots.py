"""gamlib.analysis.plots: the block diagram names exactly the modules a GAM block has; loss curves against
tokens seen with bands over seeds and each run's unigram line; seed points with axes in words."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from gamlib.analysis.plots import (  # noqa: E402
    draw_gam_block,
    plot_forest,
    plot_loss_curves,
    plot_lr_sweep,
    plot_seed_points,
)
from gamlib.models.config import GAMConfig  # noqa: E402
from gamlib.models.gam import GAMBlock  # noqa: E402


def test_the_block_diagram_draws_every_module_of_a_gam_block_once():
    fig, drawn = draw_gam_block()
    modules = [name for name, _ in GAMBlock(GAMConfig(n_embd=16, num_memory_slots=4)).named_children()]
    assert sorted(drawn) == sorted(modules) and len(drawn) == len(set(drawn))
    plt.close(fig)


def test_the_block_diagram_greys_the_parts_not_built_yet_and_names_an_unknown_one():
    from matplotlib.colors import to_hex

    from gamlib.analysis.plots import BLOCK_COLORS
    fig, _ = draw_gam_block(built={"local"})
    faces = [to_hex(patch.get_facecolor()) for patch in fig.axes[0].patches if patch.get_width() > 1]
    assert faces.count(BLOCK_COLORS["local"]) == 1 and faces.count(BLOCK_COLORS["todo"]) == 5
    plt.close(fig)
    with pytest.raises(ValueError, match=r"no module \['conv'\].*'local'"):
        draw_gam_block(built={"conv"})


def _lines(ax, prefix):
    return [line for line in ax.get_lines() if line.get_label().startswith(prefix)]


def test_loss_curves_against_tokens_with_a_band_over_seeds_and_each_preset_unigram(tmp_path, fake_record,
                                                                                   write_records):
    runs = write_records(tmp_path, [fake_record("gam", "full", s, 6.0 + s / 100, preset="cpu", curves=True,
                                                unigram=6.5) for s in range(3)]
                         + [fake_record("transformer", "sdpa", 0, 6.2, preset="cpu", curves=True, unigram=6.5),
                            fake_record("gam", "full", 0, 5.8, preset="paper", curves=True, unigram=6.6,
                                        device="NVIDIA H200")])
    fig = plot_loss_curves(runs, reference={"wikitext2": 9.9})  # records' own unigram loss comes first
    cpu, paper = fig.axes
    assert cpu.get_title() == "wikitext2, cpu preset (cpu)" and "paper preset (NVIDIA H200)" in paper.get_title()
    assert cpu.get_xlabel() == "training tokens seen (millions)" and cpu.get_ylabel() == "loss (nats per token)"
    assert [list(line.get_ydata()) for line in _lines(cpu, "unigram")] == [[6.5, 6.5]]
    assert [list(line.get_ydata()) for line in _lines(paper, "unigram")] == [[6.6, 6.6]]
    legend = [t.get_text() for t in cpu.get_legend().get_texts()]
    assert legend[:2] == ["gam full (n=3)", "transformer sdpa (n=1)"] and "validation loss" in legend
    # the mean over seeds at each point, on a token axis in millions
    mean_val = [line for line in cpu.get_lines() if line.get_marker() == "o" and len(line.get_xdata()) == 3][0]
    assert list(mean_val.get_xdata()) == pytest.approx([0, 0.004, 0.008])
    assert list(mean_val.get_ydata()) == pytest.approx([7.6, 6.21, 6.01])
    assert len(cpu.collections) >= 2  # the min-max bands of GAM's three seeds (training and validation)
    plt.close(fig)


def test_loss_curves_of_records_without_curves_fall_back_to_epochs(tmp_path, fake_record, write_records):
    runs = write_records(tmp_path, [fake_record("gam", "full", 0, 6.0, curves=True),
                                    fake_record("gam", "full", 1, 6.1)])  # an older record: epochs only
    fig = plot_loss_curves(runs, reference={"wikitext2": 6.4})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch (0 = before training)"
    assert [list(line.get_ydata()) for line in _lines(ax, "unigram")] == [[6.4, 6.4]]  # no record has its own
    val = [line for line in ax.get_lines() if line.get_marker() == "o" and len(line.get_xdata()) == 3][0]
    assert list(val.get_xdata()) == [0, 1, 2] and list(val.get_ydata()) == pytest.approx([7.6, 6.25, 6.05])
    plt.close(fig)
    no_reference = plot_loss_curves(runs)
    assert not _lines(no_reference.axes[0], "unigram")
    plt.close(no_reference)
    with pytest.raises(ValueError, match="no runs"):
        plot_loss_curves(runs.iloc[:0])


def test_seed_points_label_axes_in_words_and_start_rates_at_zero(tmp_path, fake_record, write_records):
    runs = write_records(tmp_path, [fake_record("gam", v, s, 6.0 + s / 100, tokens_per_s=900 + s, unigram=u)
                                    for v, u in (("full", 6.02), ("local_only", 6.02)) for s in range(3)])
    fig = plot_seed_points(runs, "tokens_per_s", label="variant")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "training throughput (tokens/s)" and ax.get_ylim()[0] == 0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["full", "local_only"]
    plt.close(fig)
    fig = plot_seed_points(runs, "val_loss", label="variant")  # the unigram line, close to the points
    assert fig.axes[0].get_ylabel() == "validation loss (nats per token)" and _lines(fig.axes[0], "unigram")
    plt.close(fig)
    far = runs.assign(unigram_loss=9.0)  # far above: named in words instead of squashing the points
    fig = plot_seed_points(far, "val_loss", label="variant")
    assert not _lines(fig.axes[0], "unigram")
    assert any("unigram loss (no context) 9.000" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


def test_lr_sweep_plots_loss_against_lr_with_the_preset_lr_and_each_seed(tmp_path, fake_record, write_records):
    sweep = pd.DataFrame(dict(model=["gam"] * 4, variant=["full"] * 4, seed=[0] * 4, lr=[1e-3, 2e-3, 4e-3, 8e-3],
                              preset_lr=[False, True, False, False], val_loss=[5.4, 5.3, 5.35, float("nan")],
                              unigram_loss=[6.4] * 4, below_unigram=[1.0, 1.1, 1.05, float("nan")],
                              best=[False, True, False, False], path=[""] * 4))
    seeds = write_records(tmp_path, [fake_record("gam", "full", s, 5.3 + s / 100, preset="cpu") for s in range(3)])
    seeds["record"] = [{**r, "train_config": {"lr": 2e-3}} for r in seeds["record"]]
    fig = plot_lr_sweep(sweep, seeds)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.001", "0.002", "0.004", "0.008"]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "validation loss (nats per token)"
    assert _lines(ax, "the preset's lr") and _lines(ax, "diverged")
    assert any(line.get_label() == "gam full" and list(line.get_ydata())[:3] == [5.4, 5.3, 5.35] for line in ax.lines)
    plt.close(fig)
    with pytest.raises(ValueError, match="no lr sweep"):
        plot_lr_sweep(sweep.iloc[:0])


def test_forest_plot_draws_each_comparison_with_its_interval_and_the_papers_effect():
    rows = pd.DataFrame([dict(claim="d", label="cpu vs t", scale="val loss", delta=-0.1, low=-0.2, high=0.0,
                              paper=-0.04, verdict="supported", control=False),
                         dict(claim="c", label="bench", scale="speed", delta=0.05, low=0.05, high=0.05,
                              paper=float("nan"), verdict="not shown", control=False)])
    fig = plot_forest(rows)
    loss, speed = fig.axes
    assert [t.get_text() for t in loss.get_yticklabels()] == ["(d) cpu vs t"]
    assert "nats" in loss.get_xlabel() and "tokens/s" in speed.get_xlabel()
    xs = sorted(x for line in loss.get_lines() for x in line.get_xdata())
    assert xs[:2] == [-0.2, -0.1] and -0.04 in xs   # the interval, the point and the paper's x


@pytest.mark.parametrize("n_layer, kernel_size", [(2, 3), (6, 3), (3, 5)])
def test_the_state_figure_colours_the_receptive_field_and_the_state_it_claims(n_layer, kernel_size):
    from matplotlib.colors import to_hex

    from gamlib.analysis.plots import FIELD_COLOR, STATE_COLOR, draw_receptive_field_and_state
    fig = draw_receptive_field_and_state(n_layer, kernel_size)
    cells = [(round(p.get_y()), to_hex(p.get_facecolor())) for p in fig.axes[0].patches if p.get_fill()]
    tokens = [color for level, color in cells if level == 0]
    assert tokens.count(FIELD_COLOR) + tokens.count(STATE_COLOR) == n_layer * (kernel_size - 1) + 1
    assert [color for _, color in cells].count(STATE_COLOR) == n_layer * (kernel_size - 1)
    plt.close(fig)
