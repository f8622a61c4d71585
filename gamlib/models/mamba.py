"""The Mamba baseline, with a choice of kernel backend and of block form.

Backends compute the same selective-scan mixer (same parameters, same names, same initialisation):
  mamba_ssm: the official CUDA kernels (`pip install -e .[cuda]`, CUDA only);
  mambapy:   mambapy's pure-PyTorch MambaBlock, whose parallel scan materialises (B, T, E C, N) tensors:
             fast on a GPU, memory-bound on a CPU;
  recurrent: the same MambaBlock with its selective scan as a loop over time (RecurrentSelectiveScan) whose
             per-step tensors stay in cache, with a hand-written backward: several times faster on a CPU.
'auto' picks mamba_ssm when usable, else mambapy on a machine with CUDA, else recurrent (resolve_backend).
Block forms:
  paper:    x = mixer(x), six bare mixers, no residual, no norm, as the reference benchmark;
  standard: x = x + mixer(RMSNorm(x)), the residual block Mamba is normally used with.

Generation: Mamba is a recurrent model. Each layer carries the scan's hidden state (B, E C, N) and the
last d_conv-1 inputs of its convolution (a constant state), through the backend's own one-token step:
mambapy's MambaBlock.step(x, (h, inputs)) (recurrent too: it is a MambaBlock); mamba_ssm's
Mamba.step(x, conv_state, ssm_state), which updates its state in place (CUDA only, untested here without a
GPU). Past block_size the absolute positions shift, so the state would be rebuilt over the whole window at
each token (models/generation.py).
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn as nn
from mambapy.mamba import MambaBlock
from mambapy.mamba import MambaConfig as MambapyConfig
from torch.autograd.function import once_differentiable

from .config import MambaConfig
from .lm import LanguageModel

LOG2E = math.log2(math.e)  # exp(z) = 2^(z log2 e): PyTorch's CPU exp2 is ~2.5x faster than its exp


def _scan_chunk(dt, dx, A2, B, h0, a, h):
    """Steps t0..t0+n-1 of the scan: a <- exp(delta A) and h <- the states, starting from h0.

    dt, dx (n, B, E): delta and delta * x; A2 (N, E): A transposed, times log2(e); B (n, B, N);
    h0 (B, N, E): the state before the chunk; a, h (n, B, N, E): outputs. States are laid out (N, E).
    """
    torch.mul(dt[:, :, None, :], A2, out=a).exp2_()          # exp(delta_t A)
    torch.mul(B[..., None], dx[:, :, None, :], out=h)        # (delta_t x_t) B_t
    prev = h0
    for a_t, h_t in zip(a.unbind(0), h.unbind(0)):           # h_t = exp(delta_t A) h_{t-1} + (delta_t x_t) B_t
        h_t.addcmul_(a_t, prev)
        prev = h_t


class RecurrentSelectiveScan(torch.autograd.Function):
    """mambapy's selective scan, y = scan(x, delta, A, B, C) + D x, as a loop over time (CPU-friendly).

        h_t = exp(delta_t A) * h_{t-1} + (delta_t x_t) B_t     (B, E, N), h_{-1} = 0
        y_t = h_t C_t + D x_t                                  (B, E)

    x, delta (B, L, E); A (E, N); B, C (B, L, N); D (E,) -> y (B, L, E). Time runs in chunks of CHUNK steps
    whose tensors (CHUNK, B, N, E) stay in cache; neither deltaA nor BX (B, L, E, N) is ever built. Forward
    keeps only the state before each chunk (L / CHUNK states); backward recomputes a chunk's states from it and
    runs the adjoint recurrence dh_t = gy_t C_t + exp(delta_{t+1} A) dh_{t+1} backwards in time.
    States are laid out (N, E), so that every contraction is a (1, k) @ (k, m) batched matmul, fast on CPU.
    """

    CHUNK = 8  # steps per chunk: 4 to 16 run alike on a CPU (fewer Python calls vs. more cache)

    @staticmethod
    def forward(ctx, x, delta, A, B, C, D):
        dtype = functools.reduce(torch.promote_types, (t.dtype for t in (x, delta, A, B, C, D)))
        x, delta, A, B, C, D = (t.to(dtype) for t in (x, delta, A, B, C, D))
        batch, L, E = x.shape
        N = A.shape[1]
        T = ctx.chunk = min(RecurrentSelectiveScan.CHUNK, L)
        xt = x.transpose(0, 1).contiguous()                        # (L, B, E): time first, each step contiguous
        dt = delta.transpose(0, 1).contiguous()                    # (L, B, E)
        dx = dt * xt                                               # (L, B, E)
        Bt, Ct = B.transpose(0, 1).contiguous(), C.transpose(0, 1).contiguous()  # (L, B, N)
        A2 = (A * LOG2E).t().contiguous()                          # (N, E)
        chunks = range(0, L, T)
        h0 = x.new_zeros(len(chunks), batch, N, E)                 # the state before each chunk
        a, h = x.new_empty(T, batch, N, E), x.new_empty(T, batch, N, E)
        yc = x.new_empty(T, batch, E)
        y = x.new_empty(batch, L, E)
        for c, t0 in enumerate(chunks):
            t1 = min(t0 + T, L)
            n, K = t1 - t0, (t1 - t0) * batch
            _scan_chunk(dt[t0:t1], dx[t0:t1], A2, Bt[t0:t1], h0[c], a[:n], h[:n])
            if c + 1 < len(chunks):
                h0[c + 1].copy_(h[n - 1])
            # y_t = C_t h_t + D x_t: (K, 1, N) @ (K, N, E)
            torch.bmm(Ct[t0:t1].view(K, 1, N), h[:n].view(K, N, E), out=yc[:n].view(K, 1, E))
            torch.addcmul(yc[:n], D, xt[t0:t1], out=y[:, t0:t1].transpose(0, 1))
        ctx.save_for_backward(xt, dt, dx, A, Bt, Ct, D, h0)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        xt, dt, dx, A, Bt, Ct, D, h0 = ctx.saved_tensors
        L, batch, E = xt.shape
        N, T = A.shape[1], ctx.chunk
        gy = gy.to(xt.dtype).transpose(0, 1).contiguous()          # (L, B, E)
        A2, AT = (A * LOG2E).t().contiguous(), A.t().contiguous()  # (N, E)
        a, h, dh = (xt.new_empty(T, batch, N, E) for _ in range(3))
        gA = xt.new_zeros(T, batch, N, E)                          # dL/d(delta A) * delta, summed over chunks
        carry = xt.new_zeros(batch, N, E)                          # exp(delta_{t+1} A) dh_{t+1}, from the later chunk
        gdx, gdA = xt.new_empty(L, batch, E), xt.new_empty(L, batch, E)
        gB, gC = xt.new_empty(L, batch, N), xt.new_empty(L, batch, N)
        for c in reversed(range(h0.shape[0])):
            t0 = c * T
            t1 = min(t0 + T, L)
            n, K = t1 - t0, (t1 - t0) * batch
            ac, hc, dc = a[:n], h[:n], dh[:n]
            _scan_chunk(dt[t0:t1], dx[t0:t1], A2, Bt[t0:t1], h0[c], ac, hc)
            # gC_t = gy_t h_t^T: (K, 1, E) @ (K, E, N)
            torch.bmm(gy[t0:t1].view(K, 1, E), hc.view(K, N, E).transpose(1, 2), out=gC[t0:t1].view(K, 1, N))
            # dh_t = dL/dh_t = C_t gy_t + exp(delta_{t+1} A) dh_{t+1}, backwards in time
            torch.mul(Ct[t0:t1, :, :, None], gy[t0:t1, :, None, :], out=dc)
            dhs, As = dc.unbind(0), ac.unbind(0)
            dhs[-1].add_(carry)
            for i in range(n - 2, -1, -1):
                dhs[i].addcmul_(As[i + 1], dhs[i + 1])
            # through u_t = (delta_t x_t) B_t: gdx_t = B_t dh_t, gB_t = dx_t dh_t^T
            torch.bmm(Bt[t0:t1].view(K, 1, N), dc.view(K, N, E), out=gdx[t0:t1].view(K, 1, E))
            torch.bmm(dx[t0:t1].view(K, 1, E), dc.view(K, N, E).transpose(1, 2), out=gB[t0:t1].view(K, 1, N))
            # through exp(delta_t A): dL/d(delta_t A) = dh_t * exp(delta_t A) * h_{t-1}
            dc.mul_(ac)
            carry.copy_(dc[0])
            dc[0].mul_(h0[c])
            dc[1:].mul_(hc[:n - 1])
            gA[:n].addcmul_(dc, dt[t0:t1, :, None, :])
            torch.sum(dc.mul_(AT), 2, out=gdA[t0:t1])
        gD = (gy * xt).sum((0, 1))
        gdelta = gdA.addcmul_(gdx, xt)                             # (L, B, E)
        gx = gdx.mul_(dt).addcmul_(gy, D)
        return (gx.transpose(0, 1), gdelta.transpose(0, 1), gA.sum((0, 1)).t(), gB.transpose(0, 1),
                gC.transpose(0, 1), gD)


class RecurrentMambaBlock(MambaBlock):
    """mambapy's MambaBlock (same parameters, projections, convolution, initialisation and step) whose
    selective scan is RecurrentSelectiveScan instead of the parallel scan."""

    def selective_scan(self, x, delta, A, B, C, D):
        return RecurrentSelectiveScan.apply(x, delta, A, B, C, D)


def mamba_ssm_available() -> bool:
    """True when the official CUDA kernels import and a CUDA device is present.

    Both the package and its compiled scan must import: some source installs of mamba-ssm import
    fine but lack `selective_scan_cuda`, and would fail only at the first forward pass.
    """
    if not torch.cuda.is_available():
        return False
    try:
        import mamba_ssm  # noqa: F401
        import selective_scan_cuda  # noqa: F401
    except Exception:  # a broken CUDA build raises more than ImportError
        return False
    return True


def resolve_backend(requested: str) -> str:
    """'auto' -> 'mamba_ssm' when usable, else 'mambapy' on a machine with CUDA (its parallel scan suits
    GPUs), else 'recurrent' (CPU only: its loop over time is the fast one there); an explicit choice is
    honoured, and 'mamba_ssm' checked.

    The choice is made when a model is built, before it is moved to a device: on a CUDA machine, a model
    meant for its CPU should ask for 'recurrent' explicitly.
    """
    if requested == "auto":
        if mamba_ssm_available():
            return "mamba_ssm"
        return "mambapy" if torch.cuda.is_available() else "recurrent"
    if requested == "mamba_ssm" and not mamba_ssm_available():
        raise RuntimeError(
            "Mamba backend 'mamba_ssm' needs a CUDA GPU and the CUDA extra "
            "(pip install -e '.[cuda]'); use backend='mambapy' or 'recurrent' (pure PyTorch) instead"
        )
    return requested


def make_mixer(config: MambaConfig, backend: str) -> nn.Module:
    """One Mamba mixer (B, T, C) -> (B, T, C) from the chosen backend."""
    if backend == "mamba_ssm":
        from mamba_ssm import Mamba  # optional, CUDA only: imported only when chosen

        return Mamba(d_model=config.n_embd, d_state=config.d_state, d_conv=config.d_conv, expand=config.expand)
    block = RecurrentMambaBlock if backend == "recurrent" else MambaBlock
    return block(MambapyConfig(d_model=config.n_embd, n_layers=1, d_state=config.d_state,
                               d_conv=config.d_conv, expand_factor=config.expand))


class MambaLayer(nn.Module):
    """One layer of the baseline: a bare mixer ('paper') or a pre-norm residual block ('standard')."""

    def __init__(self, config: MambaConfig, backend: str):
        super().__init__()
        self.mixer = make_mixer(config, backend)
        self.norm = nn.RMSNorm(config.n_embd, eps=1e-5) if config.variant == "standard" else None
        self.backend = backend

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm is None:
            return self.mixer(x)  # (B, T, C), no residual: the reference's handicapped form
        return x + self.mixer(self.norm(x))

    # ---- generation: the state is (scan state, last conv inputs), in the backend's own layout --------
    def initial_state(self, batch_size: int, device, dtype) -> tuple:
        """mambapy, recurrent: (h (B, E C, N), conv inputs (B, E C, d_conv-1));
        mamba_ssm: (conv state (B, E C, d_conv), ssm state (B, E C, N))."""
        if self.backend == "mamba_ssm":
            return self.mixer.allocate_inference_cache(batch_size, 1, dtype=dtype)
        config = self.mixer.config
        return (torch.zeros(batch_size, config.d_inner, config.d_state, device=device, dtype=dtype),
                torch.zeros(batch_size, config.d_inner, config.d_conv - 1, device=device, dtype=dtype))

    def mix_step(self, u: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """The mixer at one position: u (B, 1, C) -> (B, 1, C), new state."""
        if self.backend == "mamba_ssm":
            out, conv_state, ssm_state = self.mixer.step(u, *state)  # updates the states in place
            return out, (conv_state, ssm_state)
        out, state = self.mixer.step(u[:, 0], state)  # mambapy, recurrent: (B, C), (h, inputs)
        return out[:, None], state

    def step(self, x: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """One position x (B, 1, C) -> (output (B, 1, C), new state)."""
        if self.norm is None:
            return self.mix_step(x, state)
        out, state = self.mix_step(self.norm(x), state)
        return x + out, state

    def state_after(self, x: torch.Tensor) -> tuple:
        """The state after reading x (B, T, C), by stepping through it (the scans keep no state)."""
        state = self.initial_state(x.shape[0], x.device, x.dtype)
        for t in range(x.shape[1]):
            _, state = self.step(x[:, t:t + 1], state)
        return state


class MambaModel(LanguageModel):
    def __init__(self, config: MambaConfig):
        backend = resolve_backend(config.backend)
        super().__init__(config, [MambaLayer(config, backend) for _ in range(config.n_layer)])
        self.backend = backend  # reported in every result record
