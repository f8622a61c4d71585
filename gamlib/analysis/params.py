"""Exact parameter counts at the paper's configuration, beside the paper's reported millions."""
from __future__ import annotations

import math

import pandas as pd

from ..models.registry import build_model
from ..presets import get_preset
from .paper import PAPER_TABLE1, PAPER_TABLE3


def paper_config_params(models) -> pd.DataFrame:
    """Exact parameter counts of (model, variant) pairs at the paper's configuration (vocab 10,000,
    docs/paper.md §3), built without training, beside the paper's reported millions."""
    settings = get_preset("paper")
    reported = {**{(r.model, r.variant): r.params_m for r in PAPER_TABLE1.itertuples()},
                **{("gam", r.variant): r.params_m for r in PAPER_TABLE3.itertuples()}}
    rows = []
    for model, variant in models:
        params = build_model(model, variant, **settings.model_fields()).num_params()
        rows.append(dict(model=model, variant=variant, params=params, params_m=round(params / 1e6, 1),
                         paper_params_m=reported.get((model, variant), math.nan)))
    return pd.DataFrame(rows)
