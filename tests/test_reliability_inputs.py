"""Bad input fails clearly ("Nothing stale, nothing lost", input part): one table of every case.

Each row: (case, the bad input as a callable of the `tiny` config fields, the exception type, a regex
the message must match). Config messages have one form, "<Class>.<field> must be ..., got <value>".
"""
import pytest
import torch

from gamlib.models.config import GAMConfig, LMConfig, MambaConfig, TransformerConfig
from gamlib.models.registry import build_model, make_config
from gamlib.training.config import RunOptions, TrainConfig

NAN, INF = float("nan"), float("inf")
INT = "must be an integer >= 1, got"
KNOWN = (r"known fields: \['backend', 'block_size', 'conv_kernel_size', 'd_conv', 'd_state', 'dropout', 'expand', "
         r"'n_embd', 'n_head', 'n_layer', 'num_memory_slots', 'variant', 'vocab_size'\]$")


def _model(tiny, training=True):
    return build_model("gam", "full", **tiny).train(training)


def _generate_restoring_mode(tiny, prompt, **kwargs):
    """generate on a training model; whatever it raises, the model must still be training afterwards."""
    model = _model(tiny)
    try:
        model.generate(prompt, **{"max_new_tokens": 2, **kwargs})
    finally:
        assert all(m.training for m in model.modules()), "generate left the model out of training mode"


PROMPT = torch.zeros(1, 3, dtype=torch.long)

CASES = [
    # 1. every config field: type and range, the field named
    ("LMConfig.vocab_size 0", lambda t: LMConfig(vocab_size=0), ValueError, rf"^LMConfig\.vocab_size {INT} 0$"),
    ("LMConfig.block_size float", lambda t: LMConfig(block_size=32.0), ValueError, rf"^LMConfig\.block_size {INT} 32\.0$"),  # noqa: E501 (one case a row)
    ("LMConfig.n_embd negative", lambda t: LMConfig(n_embd=-8), ValueError, rf"^LMConfig\.n_embd {INT} -8$"),
    ("bool is not an int", lambda t: make_config("gam", **{**t, "n_layer": True}), ValueError,
     rf"^GAMConfig\.n_layer {INT} True$"),
    ("dropout 1", lambda t: make_config("transformer", **{**t, "dropout": 1.0}), ValueError,
     r"^TransformerConfig\.dropout must be a real number in \[0, 1\), got 1\.0$"),
    ("dropout NaN", lambda t: LMConfig(dropout=NAN), ValueError, r"^LMConfig\.dropout must be .*\[0, 1\), got nan$"),
    ("dropout string", lambda t: LMConfig(dropout="0.1"), ValueError, r"^LMConfig\.dropout must be .*got '0\.1'$"),
    ("num_memory_slots 0", lambda t: build_model("gam", **{**t, "num_memory_slots": 0}), ValueError,
     rf"^GAMConfig\.num_memory_slots {INT} 0; .*use variant 'local_only'"),
    ("conv_kernel_size 0", lambda t: GAMConfig(conv_kernel_size=0), ValueError, rf"^GAMConfig\.conv_kernel_size {INT} 0$"),  # noqa: E501 (one case a row)
    ("n_head 0", lambda t: build_model("transformer", **{**t, "n_head": 0}), ValueError,
     rf"^TransformerConfig\.n_head {INT} 0$"),
    ("n_embd not divisible", lambda t: TransformerConfig(n_embd=10, n_head=4), ValueError,
     r"^TransformerConfig\.n_embd 10 is not divisible by n_head 4"),
    ("d_state 0", lambda t: build_model("mamba", **{**t, "d_state": 0}), ValueError, rf"^MambaConfig\.d_state {INT} 0$"),  # noqa: E501 (one case a row)
    ("d_conv 0", lambda t: MambaConfig(d_conv=0), ValueError, rf"^MambaConfig\.d_conv {INT} 0$"),
    ("expand float", lambda t: MambaConfig(expand=2.0), ValueError, rf"^MambaConfig\.expand {INT} 2\.0$"),
    ("Mamba backend", lambda t: MambaConfig(backend="triton"), ValueError, r"^unknown Mamba backend 'triton'"),
    ("GAM variant", lambda t: GAMConfig(variant="gates_only"), ValueError, r"^unknown GAMConfig variant 'gates_only'"),
    ("epochs 0", lambda t: TrainConfig(epochs=0), ValueError, rf"^TrainConfig\.epochs {INT} 0$"),
    ("batch_size bool", lambda t: TrainConfig(batch_size=True), ValueError, rf"^TrainConfig\.batch_size {INT} True$"),
    ("lr 0", lambda t: TrainConfig(lr=0), ValueError, r"^TrainConfig\.lr must be a finite real number > 0, got 0$"),
    ("lr NaN", lambda t: TrainConfig(lr=NAN), ValueError, r"^TrainConfig\.lr must be .* > 0, got nan$"),
    ("beta 1", lambda t: TrainConfig(betas=(0.9, 1.0)), ValueError,
     r"^TrainConfig\.betas\[1\] must be a real number in \[0, 1\), got 1\.0$"),
    ("betas not a pair", lambda t: TrainConfig(betas=0.9), ValueError, r"^TrainConfig\.betas must be a pair "),
    ("weight_decay negative", lambda t: TrainConfig(weight_decay=-0.1), ValueError,
     r"^TrainConfig\.weight_decay must be a finite real number >= 0, got -0\.1$"),
    ("grad_clip 0", lambda t: TrainConfig(grad_clip=0), ValueError, r"^TrainConfig\.grad_clip must be .* > 0, got 0$"),
    ("warmup_steps negative", lambda t: TrainConfig(warmup_steps=-1), ValueError,
     r"^TrainConfig\.warmup_steps must be an integer >= 0, got -1$"),
    ("seed float", lambda t: TrainConfig(seed=0.5), ValueError, r"^TrainConfig\.seed must be an integer .*got 0\.5$"),
    ("eval_batch_size 0", lambda t: TrainConfig(eval_batch_size=0), ValueError,
     r"^TrainConfig\.eval_batch_size must be None or an integer >= 1, got 0$"),
    ("precision", lambda t: TrainConfig(precision="fp8"), ValueError, r"^unknown precision 'fp8'"),
    ("device", lambda t: RunOptions(device="tpu"), ValueError, r"^unknown device 'tpu'"),
    ("save_every_steps negative", lambda t: RunOptions(save_every_steps=-1), ValueError,
     r"^RunOptions\.save_every_steps must be None or an integer >= 0, got -1$"),
    # 2. a field of no model config (a field of another model is ignored: see tests/models/test_registry.py)
    ("unknown field, make_config", lambda t: make_config("gam", nembd=32), ValueError,
     r"^unknown model config field 'nembd' .*did you mean 'n_embd'.*" + KNOWN),
    ("unknown field, build_model", lambda t: build_model("transformer", **{**t, "n_heads": 2}), ValueError,
     r"^unknown model config field 'n_heads' .*" + KNOWN),
    ("unknown keyword, config class", lambda t: GAMConfig(nembd=32), TypeError, "nembd"),
    # 3. forward: shapes, dtypes
    ("empty batch", lambda t: _model(t)(torch.zeros(0, 4, dtype=torch.long)), ValueError,
     r"^idx must hold at least one sequence of at least one token, got shape \(0, 4\)$"),
    ("T = 0", lambda t: _model(t)(torch.zeros(2, 0, dtype=torch.long)), ValueError,
     r"^idx must hold .*at least one token, got shape \(2, 0\)$"),
    ("int8 ids", lambda t: _model(t)(torch.zeros(1, 4, dtype=torch.int8)), TypeError,
     r"^idx must hold integer token ids of dtype torch\.int64 \(torch\.long\) or torch\.int32, "
     r"got dtype torch\.int8; convert with idx\.long\(\)$"),
    # 4. generate: mode restored on every path, temperature, prompt, max_new_tokens
    ("generate NaN temperature, mode restored", lambda t: _generate_restoring_mode(t, PROMPT, temperature=NAN),
     ValueError, r"^temperature must be a finite real number >= 0, got nan$"),
    ("generate inf temperature", lambda t: _generate_restoring_mode(t, PROMPT, temperature=INF),
     ValueError, r"^temperature must be a finite real number >= 0, got inf$"),
    ("generate 1-D prompt", lambda t: _generate_restoring_mode(t, torch.zeros(3, dtype=torch.long)), ValueError,
     r"^idx must have shape \(batch, seq_len\), got shape \(3,\) \(add a batch dimension: idx\.unsqueeze\(0\)\)$"),
    ("generate max_new_tokens negative", lambda t: _generate_restoring_mode(t, PROMPT, max_new_tokens=-1),
     ValueError, r"^max_new_tokens must be an integer >= 0, got -1$"),
    ("generate max_new_tokens float", lambda t: _generate_restoring_mode(t, PROMPT, max_new_tokens=2.5),
     ValueError, r"^max_new_tokens must be an integer >= 0, got 2\.5$"),
]


@pytest.mark.parametrize("case,call,error,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly(case, call, error, message, tiny):
    with pytest.raises(error, match=message):
        call(tiny)


def test_all_ignored_batch_gives_a_finite_loss_and_zero_gradients(tiny):
    """Every target -100: loss 0.0, not NaN, and every gradient zero (so a step changes nothing)."""
    model = _model(tiny)
    _, loss = model(torch.randint(0, tiny["vocab_size"], (2, 5)), torch.full((2, 5), -100))
    assert torch.isfinite(loss) and loss.item() == 0.0
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.count_nonzero(g) == 0 for g in grads)
