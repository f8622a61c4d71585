"""gamlib: the Gated Associative Memory model, fair baselines, data, training, experiments and probes.

The public face, by layer (bottom to top); README.md "Package layout" shows the files behind it.
"""
from .models.config import (DEFAULT_VARIANTS, GAM_VARIANTS, GAMConfig, LMConfig, MambaConfig, ModelConfig,
                            TransformerConfig)
from .models.context_gam import ContextMemory
from .models.gam import GAM_Model, AssociativeMemory, GAMBlock, GAMModel, GatedFusion, LocalPathway
from .models.generation import GenerationState
from .models.lm import LanguageModel
from .models.mamba import MambaModel, make_mixer, resolve_backend
from .models.registry import build_model, make_config
from .models.transformer import TransformerModel
from .runtime import device_name, pick_device
from .data import DATASETS, chunk, encode_rows, load_lm_data, load_rows, train_tokenizer, unigram_loss
from .training.config import RunOptions, TrainConfig
from .training.loop import evaluate, fit, warmup_cosine
from .presets import Preset, get_preset
from .plan import (ABLATION_VARIANTS, TABLE1_DATASETS, TABLE1_MODELS, Run, lr_sweep_runs, planned_seeds, planned_runs,
                   table1_models, table_runs)
from .records import load_records, machine
from .paths import committed_results_dir
from .experiments.lm import load_checkpoint, preset_unigram_loss, run_ablations, run_lm_experiment, run_table1
from .experiments.recall import run_recall_experiment
from .experiments.inference import find_benchmark, run_generation_benchmark, run_memory_read_benchmark
from .experiments.throughput import run_training_benchmark
from .experiments.measure import gam_block_flops
from .experiments.scaling import SCALING_SERIES, SCALING_SETTINGS, measure_block, run_scaling, series_label
from .analysis.paper import PAPER, PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3, paper_table2_rows
from .analysis.params import paper_config_params
from .analysis.stats import SPREAD_FACTOR, compare_to_spread, seed_summary, spread_sentence
from .analysis.fits import fit_exponent, scaling_exponents
from .analysis.tables import (display_study_table, display_table, find_runs, lr_sweep_sentences, lr_sweep_table, mean_std_text,
                              scaling_frame, scaling_table, study_runs, study_samples, study_sentences,
                              study_table, table1, table3)
from .analysis.scorecard import (CLAIMS, LINEAR_EXPONENT, SPEED_MARGIN, VERDICTS, committed_records, scorecard,
                                 scorecard_markdown)
from .analysis.plots import (draw_gam_block, plot_loss_curves, plot_lr_sweep, plot_scaling, plot_seed_points,
                             save_figure)
from .probes.gates import TOKEN_TYPES, gate_summary, gate_values, gates_by_token_type
from .probes.receptive_field import changed_positions, memory_reach, receptive_field
from .probes.recall import (MQAR, RecallTask, accuracy_by_competitors, accuracy_by_position_and_distance,
                            make_recall_data, recall_accuracy)
from .widgets import VIEWS, GateExplorer, gate_figure
