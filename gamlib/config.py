"""Model configurations (one dataclass per architecture) and the reference-named GAM config.

Every model config shares the language-model fields of `LMConfig` and adds its own.
`variant` selects a named form of the architecture (Table 3 ablations for GAM, the
attention implementation for the Transformer, the block form for Mamba).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


def check_choice(kind: str, value: str, choices) -> None:
    """Raise a ValueError naming `kind` and the allowed values if `value` is not one of them."""
    if value not in choices:
        raise ValueError(f"unknown {kind} {value!r}; choose one of {sorted(choices)}")


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
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "LMConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


# Table 3: which pathways a GAM variant has and how they are fused.
GAM_VARIANTS = {
    #  variant        (local, global, fusion)
    "full":        (True,  True,  "gate"),
    "global_only": (False, True,  "sum"),
    "sum_fusion":  (True,  True,  "sum"),
    "local_only":  (True,  False, "sum"),
}


@dataclass
class GAMConfig(LMConfig):
    """Gated Associative Memory. `variant` is one of the Table 3 forms (see GAM_VARIANTS)."""

    num_memory_slots: int = 512
    conv_kernel_size: int = 3
    VARIANTS = tuple(GAM_VARIANTS)

    @property
    def use_local(self) -> bool:
        return GAM_VARIANTS[self.variant][0]

    @property
    def use_global(self) -> bool:
        return GAM_VARIANTS[self.variant][1]

    @property
    def gated(self) -> bool:
        return GAM_VARIANTS[self.variant][2] == "gate"

    @property
    def receptive_field(self) -> int:
        """Tokens that position t can see: the causal convs stack, nothing else mixes positions."""
        return self.n_layer * (self.conv_kernel_size - 1) + 1 if self.use_local else 1


@dataclass
class TransformerConfig(LMConfig):
    """Pre-norm GPT-style Transformer. `variant` is the attention implementation."""

    n_head: int = 8
    VARIANTS = ("naive", "sdpa")  # naive: materialised T x T scores (as the reference); sdpa: fused

    def __post_init__(self):
        super().__post_init__()
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not divisible by n_head {self.n_head}")


@dataclass
class MambaConfig(LMConfig):
    """Mamba baseline. `variant`: 'paper' (bare stacked mixers) or 'standard' (pre-norm residual)."""

    d_state: int = 16
    d_conv: int = 4
    expand: int = 3
    backend: str = "auto"  # "auto" | "mamba_ssm" (CUDA kernels) | "mambapy" (pure PyTorch)
    VARIANTS = ("paper", "standard")
    BACKENDS = ("auto", "mamba_ssm", "mambapy")

    def __post_init__(self):
        super().__post_init__()
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
