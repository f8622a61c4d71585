"""The study plan: which runs make up a preset's study, as typed values. The one place a grid is defined.

    Table 1   the preset's Table 1 models on WikiText-2 and TinyStories
    Table 3   the four GAM variants on WikiText-2 (its `full` runs are Table 1's)
    Table 3m  the three ablations parameter-matched to full GAM (FFN widened; not in the paper)
    Table 2   one block's time and memory against the length (gamlib.run_scaling): on CUDA for a GPU preset, on
              the CPU for the CPU study (more lengths than notebook 08's quick sweep: scaling_lengths)
    lr sweep  the first seed of each Table 1 model at other learning rates (kept out of the tables)

The seed rule: every table trains the preset's seeds, except Table 1 where a CPU budget asks for fewer:
`quick` trains one seed (ten runs instead of thirty), a CPU study trains TinyStories with its first seed.
Training, the tables, the scorecard and scripts/study.py all read this module.
"""
from __future__ import annotations

from dataclasses import dataclass

from .checks import check_choice
from .presets import Preset

# The paper's "Transformer" is the naive-attention reference, its "Mamba" the bare-mixer 'paper' form.
TABLE1_MODELS = (("gam", "full"), ("transformer", "naive"), ("transformer", "sdpa"),
                 ("mamba", "paper"), ("mamba", "standard"))
TABLE1_DATASETS = ("wikitext2", "tinystories")
ABLATION_VARIANTS = ("full", "global_only", "sum_fusion", "local_only")
MATCHED_ABLATION_VARIANTS = ("full", "global_only_matched", "sum_fusion_matched", "local_only_matched")
TABLES = ("table1", "table3", "table3_matched")
# A CPU study trains the SDPA Transformer only: naive attention computes the same function (notebook 04 checks
# it), so the study times the two side by side (gamlib.run_training_benchmark) instead of training both.
CPU_STUDY_MODELS = tuple(m for m in TABLE1_MODELS if m != ("transformer", "naive"))


@dataclass(frozen=True)
class Run:
    """One training run of a study: what gamlib.run_lm_experiment trains. lr None: the preset's own."""
    model: str
    variant: str
    dataset: str
    seed: int
    lr: float | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return (self.model, self.variant)

    def describe(self) -> str:
        return f"{self.model} {self.variant} on {self.dataset}, seed {self.seed}" + (
            f", lr {self.lr:g}" if self.lr is not None else "")


def table1_models(preset: Preset) -> tuple[tuple[str, str], ...]:
    """The (model, variant) rows a preset's Table 1 trains."""
    return CPU_STUDY_MODELS if preset.name == "cpu" else TABLE1_MODELS


def table_rows(preset: Preset, table: str) -> tuple[tuple[str, str], ...]:
    """The (model, variant) rows of `table` (one of TABLES)."""
    check_choice("table", table, TABLES)
    if table == "table1":
        return table1_models(preset)
    return tuple(("gam", v) for v in (ABLATION_VARIANTS if table == "table3" else MATCHED_ABLATION_VARIANTS))


def table_datasets(table: str) -> tuple[str, ...]:
    check_choice("table", table, TABLES)
    return TABLE1_DATASETS if table == "table1" else ("wikitext2",)


def planned_seeds(preset: Preset, table: str, dataset: str, first_seed: int | None = None) -> tuple[int, ...]:
    """The seeds `table` trains on `dataset` (the seed rule above). first_seed: the one seed of a
    one-seed cell (default: the preset's first)."""
    check_choice("table", table, TABLES)
    one = (preset.seeds[0] if first_seed is None else first_seed,)
    if table == "table1" and (preset.name == "quick" or (preset.hardware == "cpu" and dataset != "wikitext2")):
        return one
    return tuple(preset.seeds)


def table_runs(preset: Preset, table: str, seeds=None, datasets=None, models=None,
               first_seed: int | None = None) -> list[Run]:
    """The runs of one table, in table order (dataset, row, seed). seeds: instead of the plan's;
    datasets, models: only these datasets and (model, variant) rows."""
    rows = [m for m in table_rows(preset, table) if models is None or m in {tuple(p) for p in models}]
    return [Run(model, variant, dataset, seed)
            for dataset in table_datasets(table) if datasets is None or dataset in datasets
            for model, variant in rows
            for seed in (tuple(seeds) if seeds is not None else planned_seeds(preset, table, dataset, first_seed))]


def planned_runs(preset: Preset, tables=TABLES, seeds=None, datasets=None, models=None) -> list[Run]:
    """The distinct training runs of the chosen tables, cheapest first: WikiText-2 before TinyStories, Mamba
    last, table order within."""
    runs = dict.fromkeys(run for table in tables if table in TABLES
                         for run in table_runs(preset, table, seeds, datasets, models))
    return sorted(runs, key=lambda r: (r.dataset != "wikitext2", r.model == "mamba"))


# Does context pay? Every WikiText-2 model of the CPU study (Table 1's and the two context-free GAMs), retrained
# with its weights kept, then its validation loss at each position of a chunk (gamlib.run_context_experiment).
CONTEXT_MODELS = (("gam", "full"), ("transformer", "sdpa"), ("mamba", "standard"), ("mamba", "paper"),
                  ("gam", "global_only"), ("gam", "local_only"))


def context_runs(preset: Preset, seeds=None) -> list[Run]:
    """The context-length experiment's runs: CONTEXT_MODELS on WikiText-2, the preset's seeds (or `seeds`),
    seed-major so that the first seed of every model comes first, Mamba last within a seed."""
    seeds = preset.seeds if seeds is None else seeds
    return [Run(model, variant, "wikitext2", seed) for seed in seeds
            for model, variant in sorted(CONTEXT_MODELS, key=lambda m: m[0] == "mamba")]


# Recall as the field runs it (gamlib.StandardMQAR): a grid sized for a few CPU hours at the quick preset's depth.
# Two widths; the first seed of every row at every lr (the sweep), then the other seeds at each row's best lr.
MQAR_MODELS = (("gam", "full"), ("transformer", "sdpa"), ("gam", "context"), ("mamba", "standard"))
MQAR_WIDTHS = (64, 128)
MQAR_LRS = (3e-4, 1e-3, 3e-3, 1e-2)
MQAR_SEEDS = (0, 1, 2)
MQAR_GPU_WIDTHS = (64, 128, 256)   # the GPU plan's grid (gamlib.experiments.gpu_session, job 6), a GPU preset's depth


@dataclass(frozen=True)
class RecallRun:
    """One run of the standard-recall grid: what gamlib.run_mqar_run trains."""
    model: str
    variant: str
    width: int
    lr: float
    seed: int

    @property
    def name(self) -> str:
        """The record's file name (without .json): every field of the run, so no two runs share a file."""
        return f"{self.model}-{self.variant}-C{self.width}-lr{self.lr:g}-seed{self.seed}"


def mqar_sweep_runs(models=MQAR_MODELS, widths=MQAR_WIDTHS, lrs=MQAR_LRS) -> list[RecallRun]:
    """The first seed of every (model, width) at every lr: the narrow width first, Mamba last within a width."""
    return [RecallRun(model, variant, width, lr, MQAR_SEEDS[0]) for width in widths
            for model, variant in sorted(models, key=lambda m: m[0] == "mamba") for lr in lrs]


def mqar_seed_runs(best_lr: dict) -> list[RecallRun]:
    """The other seeds of each row at its best lr; best_lr maps (model, variant, width) to that lr."""
    return [RecallRun(model, variant, width, lr, seed) for (model, variant, width), lr in best_lr.items()
            for seed in MQAR_SEEDS[1:]]


def lr_sweep_seed(preset: Preset) -> int:
    """The seed an lr sweep trains: the preset's first."""
    return preset.seeds[0]


def lr_sweep_runs(preset: Preset, lrs, seed: int | None = None, models=None) -> list[Run]:
    """The sweep's seed (or `seed`) of each Table 1 model (or of `models`) on WikiText-2 at each lr of `lrs`
    and at the preset's own (lr None: the Table 1 run itself, reused when it exists), Mamba last."""
    seed = lr_sweep_seed(preset) if seed is None else seed
    rows = [m for m in table1_models(preset) if models is None or m in {tuple(p) for p in models}]
    runs = [Run(model, variant, "wikitext2", seed, None if lr == preset.train.lr else lr)
            for model, variant in rows for lr in sorted({preset.train.lr, *lrs})]
    return sorted(runs, key=lambda r: r.model == "mamba")


def study_models(preset: Preset) -> set[tuple[str, str]]:
    """Every (model, variant) the study of a preset trains (every table of TABLES)."""
    return {row for table in TABLES for row in table_rows(preset, table)}


def times_attention_side_by_side(preset: Preset) -> bool:
    """True when the study trains one attention only and times every Table 1 model side by side instead."""
    return bool(set(TABLE1_MODELS) - set(table1_models(preset)))


# The CPU study's Table 2 lengths: each exponent is fitted from T >= 512 (the scorecard's start on a CPU) over
# 7 lengths (it needs 5); other presets keep their device's default (gamlib.SCALING_SETTINGS).
CPU_STUDY_SCALING_LENGTHS = (128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096)


def scaling_lengths(preset: Preset, device_type: str) -> tuple[int, ...] | None:
    """The lengths of a preset's Table 2 sweep on `device_type` ('cpu', 'cuda'), or None: the device's default."""
    return CPU_STUDY_SCALING_LENGTHS if preset.name == "cpu" and device_type == "cpu" else None


def runs_scaling(preset: Preset) -> bool:
    """Table 2 in the study: a GPU preset measures it on CUDA, the CPU study on its CPU (quick: notebook 08)."""
    return preset.hardware == "gpu" or preset.name == "cpu"


def scaling_device(preset: Preset) -> str:
    """The device type a study measures its Table 2 on."""
    return "cuda" if preset.hardware == "gpu" else "cpu"



# The GPU session's order of value (gamlib.experiments.gpu_session) over a preset's training runs, by the rank of
# issue 24's list: 3, Table 1 on WikiText-2 without the bare Mamba (the fair baselines' seeds decide claims (c)-(e));
# 5, the bare Mamba on WikiText-2, then TinyStories' GAM and Transformers; 8, the rest of the plan, cheapest first.
# Finished runs are skipped by the session, so each rank lists every planned seed.
SESSION_TRAINING_RANKS = (3, 5, 8)


def session_runs(preset: Preset) -> dict[int, list[Run]]:
    """{rank: runs} for the GPU session: every planned training run once, in the order of value above."""
    table1 = table_runs(preset, "table1")
    bare = ("mamba", "paper")
    ranked = {3: [r for r in table1 if r.dataset == "wikitext2" and r.pair != bare],
              5: [r for r in table1 if r.dataset == "wikitext2" and r.pair == bare]
              + [r for r in table1 if r.dataset == "tinystories" and r.model != "mamba"]}
    taken = {run for runs in ranked.values() for run in runs}
    ranked[8] = [run for run in planned_runs(preset) if run not in taken]
    return ranked
