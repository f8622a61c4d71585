"""Build any model of the series from its name, variant and config fields."""
from __future__ import annotations

from ..checks import check_choice, check_known
from .config import MODEL_CONFIGS, MODEL_FIELDS, LMConfig
from .gam import GAMModel
from .lm import LanguageModel
from .mamba import MambaModel
from .transformer import TransformerModel

MODEL_CLASSES = {"gam": GAMModel, "transformer": TransformerModel, "mamba": MambaModel}


def make_config(name: str, variant: str | None = None, **fields) -> LMConfig:
    """The config of model `name` ('gam' | 'transformer' | 'mamba') with `fields` overriding defaults.

    Fields that belong to other architectures (e.g. n_head for GAM) are ignored, so one preset
    dict can configure every model; a field that belongs to no model config (e.g. a misspelt
    'nembd') is a ValueError naming it and listing the known fields. The values themselves are
    checked by the config class (see models/config.py).
    """
    check_choice("model", name, MODEL_CONFIGS)
    check_known("model config field", fields, MODEL_FIELDS)
    cls = MODEL_CONFIGS[name]
    known = set(cls.__dataclass_fields__)
    values = {k: v for k, v in fields.items() if k in known}
    if variant is not None:
        values["variant"] = variant
    return cls(**values)


def build_model(name: str, variant: str | None = None, **fields) -> LanguageModel:
    """E.g. build_model('transformer', 'sdpa', n_embd=128, n_layer=2); variant None -> the first listed."""
    config = make_config(name, variant, **fields)
    return MODEL_CLASSES[name](config)
