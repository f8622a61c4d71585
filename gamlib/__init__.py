"""gamlib: the Gated Associative Memory model, fair baselines, data, training and probes.

Public API (see README.md):
    GAM_Model, ModelConfig           the reference repository's names (rishiraj/gam)
    GAMModel, GAMConfig              the same model with a lowercase config
    TransformerModel, MambaModel     baselines; every model: logits, loss = model(idx, targets)
    build_model, make_config         any model from its name, variant and config fields
"""
from .config import GAMConfig, LMConfig, MambaConfig, ModelConfig, TransformerConfig
from .gam import GAM_Model, GAMBlock, GAMModel
from .lm import LanguageModel
from .mamba import MambaModel
from .models import build_model, make_config
from .transformer import TransformerModel

__version__ = "0.1.0"

__all__ = [
    "GAM_Model", "ModelConfig", "GAMModel", "GAMConfig", "GAMBlock", "TransformerModel",
    "TransformerConfig", "MambaModel", "MambaConfig", "LanguageModel", "LMConfig",
    "build_model", "make_config",
]
