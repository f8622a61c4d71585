"""Experiment presets: model size, data budget and training settings, as data.

    quick   a 2-core CPU in minutes: tiny models, data subsets, short training (what CI runs)
    cpu     a 2-core CPU study: 4-layer 128-wide models, one epoch of WikiText-2, where models learn
    colab   one consumer GPU (e.g. a Colab T4): mid-size models, full trimmed data, a few epochs
    paper   exactly docs/paper.md §3 (the paper's configuration and training setup)
    auto    quick on CPU, colab on a GPU

Which runs a study trains from a preset is the study plan's business (gamlib/plan.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from .checks import check_choice
from .runtime import default_device
from .training.config import TrainConfig


@dataclass(frozen=True)
class GAMShape:
    num_memory_slots: int        # S, the rows of the memory bank
    conv_kernel_size: int        # K, the causal convolution's reach


@dataclass(frozen=True)
class TransformerShape:
    n_head: int


@dataclass(frozen=True)
class MambaShape:
    d_state: int                 # N, the state per channel
    d_conv: int                  # the mixer's short causal convolution
    expand: int                  # inner width E x C


@dataclass(frozen=True)
class ModelShape:
    """The models' shape in a preset: what every model shares, then each family's own part."""

    block_size: int              # T, the context (tokens per training chunk)
    n_embd: int                  # C, the width
    n_layer: int                 # L
    dropout: float
    gam: GAMShape
    transformer: TransformerShape
    mamba: MambaShape

    def fields(self) -> dict:
        """Every model config field of the shape as one flat dict (models.make_config takes what a model
        needs and ignores the other families'), e.g. build_model("gam", "full", vocab_size=V, **shape.fields())."""
        shared = {k: v for k, v in asdict(self).items() if k not in ("gam", "transformer", "mamba")}
        return {**shared, **asdict(self.gam), **asdict(self.transformer), **asdict(self.mamba)}

    def with_fields(self, **changes) -> "ModelShape":
        """A copy with some fields changed, named flat as in fields() (e.g. n_embd=256, n_head=4)."""
        families = {name: {k: changes.pop(k) for k in list(changes) if k in asdict(getattr(self, name))}
                    for name in ("gam", "transformer", "mamba")}
        unknown = set(changes) - {"block_size", "n_embd", "n_layer", "dropout"}
        if unknown:
            raise ValueError(f"ModelShape has no field {', '.join(sorted(unknown))}; its fields: "
                             f"{', '.join(self.fields())}")
        return replace(self, **changes, **{name: replace(getattr(self, name), **family)
                                           for name, family in families.items() if family})


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    model: ModelShape                 # the models' shape: model.fields() configures every model
    train: TrainConfig
    vocab_size: int = 10000
    max_train_rows: int | None = 50_000   # the reference's row trimming
    max_val_rows: int | None = 5_000
    max_train_chunks: int | None = None   # further subsets, for CPU presets
    max_val_chunks: int | None = None
    seeds: tuple[int, ...] = (0,)         # seeds an experiment table averages over (gamlib.plan: which use them)
    hardware: str = "gpu"                 # what it is sized for: "cpu" (runs anywhere) or "gpu"
    notes: list[str] = field(default_factory=list)

    def model_fields(self, **changes) -> dict:
        """The flat config fields of every model at this preset, vocabulary included, with `changes` over them."""
        return {**self.model.fields(), "vocab_size": self.vocab_size, **changes}

    def data_kwargs(self) -> dict:
        return dict(block_size=self.model.block_size, vocab_size=self.vocab_size,
                    max_train_rows=self.max_train_rows, max_val_rows=self.max_val_rows,
                    max_train_chunks=self.max_train_chunks, max_val_chunks=self.max_val_chunks)


PAPER_MODEL = ModelShape(block_size=256, n_embd=512, n_layer=6, dropout=0.1,
                         gam=GAMShape(num_memory_slots=512, conv_kernel_size=3), transformer=TransformerShape(n_head=8),
                         mamba=MambaShape(d_state=16, d_conv=4, expand=3))

PRESETS = {
    "quick": Preset(
        name="quick",
        description="2-core CPU, minutes: 2-layer 64-wide models on ~200k training tokens, 2 epochs",
        model=ModelShape(block_size=64, n_embd=64, n_layer=2, dropout=0.1,
                         gam=GAMShape(num_memory_slots=64, conv_kernel_size=3), transformer=TransformerShape(n_head=4),
                         mamba=MambaShape(d_state=16, d_conv=4, expand=2)),
        train=TrainConfig(epochs=2, batch_size=16, lr=3e-3, warmup_steps=20, evals_per_epoch=2),
        vocab_size=2048, max_train_chunks=3072, max_val_chunks=192, seeds=(0, 1, 2), hardware="cpu",
        notes=["vocabulary 2,048, context 64, ~200k training tokens: minutes on a 2-core CPU",
               "lr 3e-3 and 20 warm-up steps instead of 3e-4 and 100: tiny models, few steps",
               "two validation passes per epoch: a loss curve of five validation points",
               "models this small, trained this briefly, sit near the unigram loss: quick checks the "
               "pipeline and the protocol, not the paper's claims"],
    ),
    "cpu": Preset(
        name="cpu",
        description="2-core CPU study: 4-layer 128-wide models, context 128, one epoch of WikiText-2 "
                    "(2.56M tokens), a few minutes per run",
        model=ModelShape(block_size=128, n_embd=128, n_layer=4, dropout=0.0,
                         gam=GAMShape(num_memory_slots=128, conv_kernel_size=3), transformer=TransformerShape(n_head=4),
                         mamba=MambaShape(d_state=16, d_conv=4, expand=2)),
        train=TrainConfig(epochs=1, batch_size=16, lr=2e-3, warmup_steps=100, evals_per_epoch=4),
        vocab_size=4096, max_train_chunks=20_000, max_val_chunks=2_000, seeds=(0, 1, 2), hardware="cpu",
        notes=["sized from a measurement on a 2-core CPU: GAM of this shape (1.27M parameters) reaches about "
               "1.1 nats below the unigram loss after one epoch of WikiText-2; quick stays at the unigram wall",
               "one epoch of all of WikiText-2's training text (about 19,800 chunks of 128 tokens; at most "
               "20,000 chunks of TinyStories, whose local copy holds fewer), validated 4 times along the way",
               "no dropout: in one epoch no chunk is seen twice, so there is nothing to regularise against (the "
               "paper's 0.1 is for 5 epochs)",
               "one lr for every model, 2e-3 with 100 warm-up steps (about 8% of the 1,240 steps), "
               "from the measurement "
               "that sized the preset (GAM and the SDPA Transformer); it is not every model's best: an lr sweep of the "
               "first seed (scripts/study.py --lr-sweep, records in results/cpu/lr-sweep/, notebook 07 section 7a) "
               "finds each model's best lr and compares the models there; Tables 1 and 3 keep the shared lr",
               "Table 1 trains the SDPA Transformer only: naive attention computes the same function (notebook "
               "04 checks it) and the study times the two side by side instead of training both"],
    ),
    "colab": Preset(
        name="colab",
        description="one consumer GPU: 4-layer, 256-wide models on ~2.5M training tokens per dataset, 2 epochs, "
                    "bf16/fp16 autocast",
        model=PAPER_MODEL.with_fields(n_embd=256, n_layer=4, num_memory_slots=256, n_head=4),
        train=TrainConfig(epochs=2, batch_size=32, precision="auto"),
        max_train_chunks=10_000, max_val_chunks=1_100, seeds=(0, 1, 2),
        notes=["sized for a free Colab T4 session: notebook 07 (30 runs) is estimated at about 1.1 h there "
               "(scripts/study.py --estimate-only --preset colab --gpu T4; an estimate, not a measurement)",
               "at most 10,000 training and 1,100 validation chunks per dataset: all of WikiText-2's (9,800 / 1,041), "
               "about a quarter of the 50,000 TinyStories rows'"],
    ),
    "paper": Preset(
        name="paper",
        description="docs/paper.md §3: 6 layers, 512 wide, batch 32, AdamW 3e-4, 5 epochs, fp32",
        model=PAPER_MODEL,
        train=TrainConfig(epochs=5, batch_size=32, lr=3e-4, warmup_steps=100, precision="fp32"),
        seeds=(0, 1, 2),
    ),
}


def get_preset(name: str | Preset = "auto") -> Preset:
    """A preset by name; 'auto' is 'colab' when a CUDA GPU is present and 'quick' otherwise. A Preset is
    returned as it is: entry points resolve a name once and pass the object down."""
    if isinstance(name, Preset):
        return name
    check_choice("preset", name, (*PRESETS, "auto"))
    if name == "auto":
        name = "colab" if default_device().type == "cuda" else "quick"
    return PRESETS[name]

