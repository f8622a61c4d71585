"""gamlib: the Gated Associative Memory model, fair baselines, data, training, experiments and probes.

The public face, by layer (bottom to top); README.md "Package layout" shows the files behind it.
The figures and the gate explorer (gamlib.analysis.plots, gamlib.widgets) load on first use, with
matplotlib, seaborn and ipywidgets: `import gamlib` imports none of them.
"""
import importlib

from .models.config import (DEFAULT_VARIANTS, GAM_VARIANTS, GAMConfig, LMConfig, MambaConfig, ModelConfig,
                            TransformerConfig)
from .models.context_gam import ContextMemory
from .models.gam import GAM_Model, AssociativeMemory, GAMBlock, GAMModel, GatedFusion, LocalPathway
from .models.generation import GenerationState
from .models.lm import LanguageModel
from .models.mamba import MambaModel, make_mixer, resolve_backend
from .models.pretrained import from_pretrained, save_pretrained
from .models.registry import build_model, make_config
from .models.transformer import TransformerModel
from .runtime import device_name, pick_device
from .data import DATASETS, chunk, encode_rows, load_lm_data, load_rows, train_tokenizer, unigram_loss
from .training.config import RunOptions, TrainConfig
from .training.loop import evaluate, fit, warmup_cosine
from .presets import Preset, get_preset
from .plan import (ABLATION_VARIANTS, MATCHED_ABLATION_VARIANTS, TABLE1_DATASETS, TABLE1_MODELS, Run, context_runs,
                   lr_sweep_runs, planned_runs, planned_seeds, table1_models, table_runs)
from .records import load_records, machine
from .paths import committed_results_dir
from .experiments.lm import load_checkpoint, preset_unigram_loss, run_ablations, run_lm_experiment, run_table1
from .experiments.recall import mqar_points, mqar_records, mqar_table, run_mqar_run, run_recall_experiment
from .experiments.inference import find_benchmark, run_generation_benchmark, run_memory_read_benchmark
from .experiments.throughput import run_training_benchmark
from .experiments.measure import gam_block_flops
from .experiments.context import loss_by_position, run_context_experiment
from .experiments.study_weights import load_study_model
from .experiments.perplexity_gap import loss_without, tokenizer_leak, unk_continuations
from .experiments.scaling import SCALING_SERIES, SCALING_SETTINGS, measure_block, run_scaling, series_label
from .analysis.paper import PAPER, PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3, paper_table2_rows
from .analysis.params import paper_config_params
from .analysis.stats import SPREAD_FACTOR, compare_to_spread, seed_summary, spread_sentence
from .analysis.fits import fit_exponent, scaling_exponents
from .analysis.tables import (context_curves, context_table, display_study_table, display_table, find_runs,
                              lr_sweep_sentences, lr_sweep_table,
                              mean_std_text, scaling_frame, scaling_table, study_runs, study_samples, study_sentences,
                              study_table, table1, table3)
from .analysis.scorecard import (CLAIMS, LINEAR_EXPONENT, SPEED_MARGIN, VERDICTS, committed_records, forest_rows,
                                 scorecard, scorecard_markdown)
from .exercises import check_answer
from .probes.gates import TOKEN_TYPES, gate_summary, gate_values, gates_by_token_type
from .probes.receptive_field import changed_positions, memory_reach, receptive_field
from .probes.recall import (MQAR, RecallTask, StandardMQAR, accuracy_by_competitors, accuracy_by_distance,
                            accuracy_by_position_and_distance, make_recall_data, most_recent_value_answers,
                            recall_accuracy)

# Loaded on first use (PEP 562): the module that defines each name.
_LAZY = {
    **dict.fromkeys(("draw_gam_block", "draw_receptive_field_and_state", "plot_forest", "plot_generation_cost",
                     "plot_loss_by_position", "plot_loss_curves", "plot_lr_sweep", "plot_mqar_sweep", "plot_scaling",
                     "plot_seed_points", "save_figure"), ".analysis.plots"),
    **dict.fromkeys(("VIEWS", "GateExplorer", "gate_figure"), ".widgets"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value  # found here from now on, without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "check_answer", "load_study_model", "mqar_points", "mqar_records", "mqar_table", "run_mqar_run", "loss_without",
    "tokenizer_leak", "unk_continuations",
    # models
    "DEFAULT_VARIANTS", "GAM_VARIANTS", "GAMConfig", "LMConfig", "MambaConfig", "ModelConfig", "TransformerConfig",
    "ContextMemory", "GAM_Model", "AssociativeMemory", "GAMBlock", "GAMModel", "GatedFusion", "LocalPathway",
    "GenerationState", "LanguageModel", "MambaModel", "make_mixer", "resolve_backend", "from_pretrained",
    "save_pretrained", "build_model", "make_config", "TransformerModel",
    # runtime, data, training, presets, records
    "device_name", "pick_device",
    "DATASETS", "chunk", "encode_rows", "load_lm_data", "load_rows", "train_tokenizer", "unigram_loss",
    "RunOptions", "TrainConfig", "evaluate", "fit", "warmup_cosine",
    "Preset", "get_preset",
    "ABLATION_VARIANTS", "MATCHED_ABLATION_VARIANTS", "TABLE1_DATASETS", "TABLE1_MODELS", "Run", "context_runs",
    "lr_sweep_runs", "planned_runs", "planned_seeds", "table1_models", "table_runs",
    "load_records", "machine", "committed_results_dir",
    # experiments
    "load_checkpoint", "preset_unigram_loss", "run_ablations", "run_lm_experiment", "run_table1",
    "run_recall_experiment", "find_benchmark", "run_generation_benchmark", "run_memory_read_benchmark",
    "run_training_benchmark", "gam_block_flops",
    "loss_by_position", "run_context_experiment",
    "SCALING_SERIES", "SCALING_SETTINGS", "measure_block", "run_scaling", "series_label",
    # analysis
    "PAPER", "PAPER_TABLE1", "PAPER_TABLE2", "PAPER_TABLE3", "paper_table2_rows", "paper_config_params",
    "SPREAD_FACTOR", "compare_to_spread", "seed_summary", "spread_sentence", "fit_exponent", "scaling_exponents",
    "context_curves", "context_table", "display_study_table", "display_table", "find_runs", "lr_sweep_sentences",
    "lr_sweep_table", "mean_std_text",
    "scaling_frame", "scaling_table", "study_runs", "study_samples", "study_sentences", "study_table", "table1",
    "table3",
    "CLAIMS", "LINEAR_EXPONENT", "SPEED_MARGIN", "VERDICTS", "committed_records", "forest_rows", "scorecard",
    "scorecard_markdown", "draw_gam_block", "draw_receptive_field_and_state", "plot_forest",
    "plot_generation_cost", "plot_loss_by_position", "plot_loss_curves",
    "plot_lr_sweep", "plot_mqar_sweep", "plot_scaling",
    "plot_seed_points", "save_figure",
    # probes
    "TOKEN_TYPES", "gate_summary", "gate_values", "gates_by_token_type",
    "changed_positions", "memory_reach", "receptive_field",
    "MQAR", "RecallTask", "StandardMQAR", "accuracy_by_competitors", "accuracy_by_distance",
    "accuracy_by_position_and_distance",
    "make_recall_data", "most_recent_value_answers",
    "recall_accuracy",
    # widgets
    "VIEWS", "GateExplorer", "gate_figure",
]
