"""gamlib.models.gam: the block is the paper's equations, the bank read is attention, the receptive field as stated."""
import pytest
import torch
import torch.nn.functional as F

from gamlib import GAM_Model, ModelConfig, build_model
from gamlib.models.config import GAMConfig
from gamlib.models.gam import AssociativeMemory, GAMBlock


def block_by_the_equations(block: GAMBlock, x):
    """docs/paper.md §1 written out with plain tensor ops and the block's own weights."""
    C = x.shape[-1]
    h = F.layer_norm(x, (C,), block.ln1.weight, block.ln1.bias)
    w = block.local.conv.weight[:, 0, :]  # (C, K)
    K = w.shape[1]
    padded = torch.cat([torch.zeros_like(h[:, : K - 1]), h], dim=1)  # K-1 zeros before position 0
    local = sum(padded[:, k: k + h.shape[1]] * w[:, k] for k in range(K)) + block.local.conv.bias
    M = block.memory.memory_bank
    global_ = torch.softmax(h @ M.T, dim=-1) @ M
    g = h @ block.fusion.gate.weight.T + block.fusion.gate.bias
    g_l, g_g = g[..., :C], g[..., C:]
    x = x + torch.sigmoid(g_l) * local + torch.sigmoid(g_g) * global_
    f = block.ffn
    hidden = F.gelu(F.layer_norm(x, (C,), block.ln2.weight, block.ln2.bias) @ f[0].weight.T + f[0].bias)
    return x + hidden @ f[2].weight.T + f[2].bias


def test_gam_block_equals_the_equations(tiny):
    block = GAMBlock(GAMConfig(**{k: v for k, v in tiny.items() if k in GAMConfig.__dataclass_fields__})).eval()
    x = torch.randn(2, 11, tiny["n_embd"])
    torch.testing.assert_close(block(x), block_by_the_equations(block, x), rtol=0, atol=1e-5)


def test_global_pathway_is_attention_over_the_bank():
    memory = AssociativeMemory(16, 8)
    h = torch.randn(2, 5, 16)
    bank = memory.memory_bank.expand(2, 8, 16)
    expected = F.scaled_dot_product_attention(h, bank, bank, scale=1.0)
    torch.testing.assert_close(memory(h)[0], expected, rtol=1e-5, atol=1e-6)


def measured_receptive_field(model, T=32, target=31):
    """How many positions s <= target change the logits at `target` when token s is changed."""
    idx = torch.randint(0, model.config.vocab_size, (1, T))
    with torch.no_grad():
        base = model(idx)[0][0, target]
        seen = 0
        for s in range(target + 1):
            changed = idx.clone()
            changed[0, s] = (changed[0, s] + 1) % model.config.vocab_size
            seen += not torch.allclose(model(changed)[0][0, target], base, rtol=0, atol=0)
    return seen


@pytest.mark.parametrize("n_layer,kernel", [(1, 3), (3, 3), (6, 3), (2, 5)])
def test_gam_receptive_field_is_layers_times_k_minus_1_plus_1(n_layer, kernel, tiny):
    model = build_model("gam", "full", **{**tiny, "block_size": 32, "n_layer": n_layer,
                                          "conv_kernel_size": kernel}).eval()
    assert measured_receptive_field(model) == n_layer * (kernel - 1) + 1 == model.config.receptive_field


def test_global_only_sees_one_token_and_transformer_sees_all(tiny):
    tiny = {**tiny, "block_size": 32}  # measured over 32 positions
    assert measured_receptive_field(build_model("gam", "global_only", **tiny).eval()) == 1
    assert measured_receptive_field(build_model("transformer", "sdpa", **tiny).eval()) == 32


def test_reference_api_example_runs_unchanged():
    """The reference README's usage example, with only its import line changed to gamlib."""
    config = ModelConfig(VOCAB_SIZE=10000, BLOCK_SIZE=256, N_EMBED=512, N_LAYER=6, NUM_MEMORY_SLOTS=512,
                         CONV_KERNEL_SIZE=3)
    model = GAM_Model(config)
    assert sum(p.numel() for p in model.parameters()) == 22_599_680
    dummy_input = torch.randint(0, config.VOCAB_SIZE, (8, 128))
    logits, loss = model(dummy_input, targets=dummy_input)
    assert logits.shape == (8, 128, 10000)
    assert loss.ndim == 0 and torch.isfinite(loss)
