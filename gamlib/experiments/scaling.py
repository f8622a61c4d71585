"""Table 2 as a record: the sweep of one block's time and peak memory over sequence lengths.

    run_scaling(preset)   every series of this device's grid (measure.measure_block per point),
                          written as a record of kind 'scaling'; a series stops at its first OOM
"""
from __future__ import annotations

import math

import torch

from ..paths import results_dir
from ..plan import scaling_lengths
from ..presets import get_preset
from ..records import find_or_measure
from ..runtime import default_device, device_name
from .inference import threads
from .measure import MEASURE_VERSION, PAPER_SEQ_LENS, PAPER_SETTINGS, measure_block

# Per device type: measure_block settings, lengths, and the series (model, variant, own dropout,
# longest length). CUDA: the paper's settings (dropout 0.1 as its config), its lengths and then 16384,
# 32768 and 65536 (8x beyond the paper's 8192); a series stops at its first OOM, so each GPU shows
# how far each model goes in its memory. CPU: small and single-threaded, dropout 0 so SDPA can use its
# fused kernel; one SDPA series keeps dropout 0.1 to show the T x T fallback, up to 1024 only.
SCALING_SETTINGS = {
    "cuda": dict(PAPER_SETTINGS, seq_lens=(*PAPER_SEQ_LENS, 16384, 32768, 65536)),
    "cpu": dict(batch_size=2, n_embd=128, n_head=8, warmup=1, iters=3, precision="fp32", dropout=0.0,
                seq_lens=(128, 256, 512, 1024, 2048)),
}
SCALING_SERIES = {
    "cuda": (dict(model="gam", variant="full"), dict(model="transformer", variant="naive"),
             dict(model="transformer", variant="sdpa"), dict(model="mamba", variant="paper")),
    "cpu": (dict(model="gam", variant="full"), dict(model="transformer", variant="naive"),
            dict(model="transformer", variant="sdpa"),
            dict(model="transformer", variant="sdpa", dropout=0.1, max_seq_len=1024),
            dict(model="mamba", variant="paper")),
}


def series_label(series: dict) -> str:
    """'gam full', 'transformer sdpa, dropout 0.1' (dropout named only when a series sets its own)."""
    label = f"{series['model']} {series['variant']}"
    return f"{label}, dropout {series['dropout']:g}" if "dropout" in series else label


def run_scaling(preset: str = "auto", device: str | None = None, results_root=None, force: bool = False,
                settings: dict | None = None, series=None, lookup_only: bool = False) -> dict | None:
    """The Table 2 sweep -> a record (kind 'scaling') at results/<preset>/scaling/table2-<device>.json.

    device None -> 'cuda' when available, else 'cpu'; settings/series None -> SCALING_SETTINGS /
    SCALING_SERIES for that device, with the study plan's lengths for the preset where it names them
    (gamlib.plan.scaling_lengths; settings given are merged over them). A finished record with the same
    specification is reused unless force=True; lookup_only=True measures nothing (the record or None).
    CPU runs use one thread (exactly repeatable memory, no stalls from other processes); the thread count is
    restored afterwards.
    """
    device = torch.device(device or default_device())
    kind = device.type
    if kind not in SCALING_SETTINGS:
        raise ValueError(f"unknown device {device!r} for the scaling sweep; use 'cpu' or 'cuda'")
    preset = get_preset(preset)
    lengths = scaling_lengths(preset, kind)
    settings = {**SCALING_SETTINGS[kind], **({"seq_lens": lengths} if lengths else {}), **(settings or {})}
    series = [dict(s) for s in (series or SCALING_SERIES[kind])]
    preset_name = preset.name
    spec = {"kind": "scaling", "device": kind, "settings": settings, "series": series, "torch": torch.__version__,
            "measure_version": MEASURE_VERSION}
    path = scaling_path(preset_name, kind, results_root)
    measure_settings = {k: v for k, v in settings.items() if k not in ("seq_lens", "dropout")}

    def measure() -> tuple[dict, str]:
        with threads(1 if kind == "cpu" else None):
            rows = [row for one in series for row in _sweep_series(one, settings, measure_settings, device)]
        return {"kind": "scaling", "preset": preset_name, "device": kind, "settings": settings,
                "series": series, "rows": rows}, device_name(device)

    return find_or_measure(path, spec, measure, force=force, lookup_only=lookup_only)


def scaling_path(preset: str, device: str, results_root=None):
    """Where a Table 2 record lives: results/<preset>/scaling/table2-<device type>.json."""
    return results_dir(results_root) / preset / "scaling" / f"table2-{device}.json"


def _sweep_series(one: dict, settings: dict, measure: dict, device) -> list[dict]:
    """The rows of one series: every length up to its own limit; lengths past an OOM are skipped."""
    rows, failed_at = [], None
    for seq_len in settings["seq_lens"]:
        if seq_len > one.get("max_seq_len", math.inf):
            continue
        if failed_at is not None:  # longer than a length that ran out of memory
            rows.append(dict(series=series_label(one), model=one["model"], variant=one["variant"],
                             seq_len=seq_len, status="skipped", median_ms=None, peak_mb=None,
                             reason=f"out of memory at {failed_at}"))
            continue
        row = measure_block(one["model"], one["variant"], seq_len, device=device,
                            dropout=one.get("dropout", settings.get("dropout")), **measure)
        rows.append({"series": series_label(one), **row})
        if row["status"] == "oom":
            failed_at = seq_len
    return rows
