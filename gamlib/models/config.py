"""Model configurations (one dataclass per architecture) and the reference-named GAM config.

Every model config shares the language-model fields of `LMConfig` and adds its own.
`variant` selects a named form of the architecture (Table 3 ablations for GAM, the
attention implementation for the Transformer, the block form for Mamba).

Every field is checked on construction, type and range, and a bad one is a ValueError that
names it: "<Class>.<field> must be ..., got <value>" (see gamlib/checks.py). A bool is not
an integer here. Integer fields are stored as int and real ones as float.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..checks import check_choice, check_count, check_real


@dataclass
class LMConfig:
    """What every language model in the series shares: vocabulary, context, width, depth."""

    vocab_size: int = 10000
    block_size: int = 256  # the longest sequence the model accepts (position embeddings)
    n_embd: int = 512
    n_layer: int = 6
    dropout: float = 0.1
    variant: str = ""

    VARIANTS = ("",)

    def __post_init__(self):
        if not self.variant:
            self.variant = self.VARIANTS[0]
        check_choice(f"{type(self).__name__} variant", self.variant, self.VARIANTS)
        for name in ("vocab_size", "block_size", "n_embd", "n_layer"):
            self._count(name)
        self.dropout = check_real(self._name("dropout"), self.dropout, 0, 1, high_open=True)

    def _name(self, field: str) -> str:
        """How messages name a field: '<Class>.<field>'."""
        return f"{type(self).__name__}.{field}"

    def _count(self, field: str, minimum: int = 1, hint: str = "") -> None:
        """Check that `field` is an integer >= minimum (a ValueError naming it) and store it as int."""
        setattr(self, field, check_count(self._name(field), getattr(self, field), minimum, hint=hint))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GAMVariant:
    """Which pathways a GAM block has and how it fuses them."""

    local: bool            # the causal convolution
    memory: str | None     # "bank": the paper's learned slots; "context": a read of the sequence; None
    gated: bool            # sigmoid gates (True) or a plain sum of the pathways
    matched: bool = False  # FFN widened so the block has as many parameters as the full block


GAM_VARIANTS = {
    "full":        GAMVariant(local=True,  memory="bank",    gated=True),   # the paper's GAM
    "global_only": GAMVariant(local=False, memory="bank",    gated=False),  # Table 3 ablations
    "sum_fusion":  GAMVariant(local=True,  memory="bank",    gated=False),
    "local_only":  GAMVariant(local=True,  memory=None,      gated=False),
    "context":     GAMVariant(local=True,  memory="context", gated=True),   # notebook 11: not in the paper
    # the ablations with the parameters they drop given back to the FFN (not in the paper: a fair Table 3)
    "global_only_matched": GAMVariant(local=False, memory="bank", gated=False, matched=True),
    "sum_fusion_matched":  GAMVariant(local=True,  memory="bank", gated=False, matched=True),
    "local_only_matched":  GAMVariant(local=True,  memory=None,   gated=False, matched=True),
}


@dataclass
class GAMConfig(LMConfig):
    """Gated Associative Memory. `variant` is one of GAM_VARIANTS (the paper's, its Table 3 ablations, context)."""

    num_memory_slots: int = 512
    conv_kernel_size: int = 3
    VARIANTS = tuple(GAM_VARIANTS)

    def __post_init__(self):
        super().__post_init__()
        # 0 slots would build a memory pathway that adds zeros: a GAM without memory is a variant
        self._count("num_memory_slots", hint="; for a GAM without a memory pathway use variant 'local_only' "
                                              "(which ignores num_memory_slots)")
        self._count("conv_kernel_size")

    @property
    def use_local(self) -> bool:
        return GAM_VARIANTS[self.variant].local

    @property
    def use_global(self) -> bool:
        return GAM_VARIANTS[self.variant].memory is not None

    @property
    def memory(self) -> str | None:
        return GAM_VARIANTS[self.variant].memory

    @property
    def gated(self) -> bool:
        return GAM_VARIANTS[self.variant].gated

    def pathway_params(self, variant: str) -> int:
        """Parameters of one block's mixing pathways (conv, bank, gate) in `variant`, at this shape."""
        form, C = GAM_VARIANTS[variant], self.n_embd
        conv = C * self.conv_kernel_size + C if form.local else 0
        bank = self.num_memory_slots * C if form.memory == "bank" else 0
        gate = C * 2 * C + 2 * C if form.gated else 0
        return conv + bank + gate

    @property
    def ffn_width(self) -> int:
        """The FFN's hidden width: 4C, plus in a matched variant the pathway parameters it lacks against
        the full block, divided by what one hidden unit costs (2C + 1: a row in, a bias, a column out)."""
        missing = self.pathway_params("full") - self.pathway_params(self.variant)
        return 4 * self.n_embd + (round(missing / (2 * self.n_embd + 1)) if GAM_VARIANTS[self.variant].matched else 0)

    @property
    def receptive_field(self) -> int:
        """Tokens that position t can see: the causal convs stack and the bank read mixes no positions;
        a memory that reads the context sees all of it."""
        if self.memory == "context":
            return self.block_size
        return self.n_layer * (self.conv_kernel_size - 1) + 1 if self.use_local else 1


@dataclass
class TransformerConfig(LMConfig):
    """Pre-norm GPT-style Transformer. `variant` is the attention implementation."""

    n_head: int = 8
    VARIANTS = ("naive", "sdpa")  # naive: materialised T x T scores (as the reference); sdpa: fused

    def __post_init__(self):
        super().__post_init__()
        self._count("n_head")
        if self.n_embd % self.n_head:
            raise ValueError(f"{self._name('n_embd')} {self.n_embd} is not divisible by n_head {self.n_head}; "
                             f"each head gets n_embd // n_head channels")


@dataclass
class MambaConfig(LMConfig):
    """Mamba baseline. `variant`: 'paper' (bare stacked mixers) or 'standard' (pre-norm residual)."""

    d_state: int = 16
    d_conv: int = 4
    expand: int = 3
    # "auto" | "mamba_ssm" (CUDA kernels) | "mambapy" (pure PyTorch, parallel scan) | "recurrent" (pure
    # PyTorch, loop over time: the fast one on CPU); see models/mamba.py
    backend: str = "auto"
    VARIANTS = ("paper", "standard")
    BACKENDS = ("auto", "mamba_ssm", "mambapy", "recurrent")

    def __post_init__(self):
        super().__post_init__()
        for name in ("d_state", "d_conv", "expand"):
            self._count(name)  # d_state 0 would build a scan that adds zeros
        check_choice("Mamba backend", self.backend, self.BACKENDS)


@dataclass
class ModelConfig:
    """The reference repository's GAM config, field for field, so its usage example runs unchanged."""

    VOCAB_SIZE: int = 10000
    BLOCK_SIZE: int = 256
    N_EMBED: int = 512
    N_LAYER: int = 6
    DROPOUT: float = 0.1
    NUM_MEMORY_SLOTS: int = 512
    CONV_KERNEL_SIZE: int = 3

    def to_gam_config(self) -> GAMConfig:
        return GAMConfig(
            vocab_size=self.VOCAB_SIZE, block_size=self.BLOCK_SIZE, n_embd=self.N_EMBED,
            n_layer=self.N_LAYER, dropout=self.DROPOUT, num_memory_slots=self.NUM_MEMORY_SLOTS,
            conv_kernel_size=self.CONV_KERNEL_SIZE, variant="full",
        )


MODEL_CONFIGS = {"gam": GAMConfig, "transformer": TransformerConfig, "mamba": MambaConfig}
# Every field some model config has: one preset dict may hold all of them (see registry.make_config)
MODEL_FIELDS = frozenset(name for cls in MODEL_CONFIGS.values() for name in cls.__dataclass_fields__)
DEFAULT_VARIANTS = {name: cls.VARIANTS[0] for name, cls in MODEL_CONFIGS.items()}  # gam full, naive, paper
