"""Synthetic LM result records written to a temporary folder, for the analysis tests (no training)."""
import math

import pytest

from gamlib.records import SCHEMA_VERSION, load_records, save_record


def _fake_record(model, variant, seed, val_loss, dataset="wikitext2", preset="quick", params=1000,
                 seconds=2.0, tokens_per_s=500.0, unigram=None, curves=False, device="cpu"):
    """curves: add the step-level train_curve / val_curve of fit's history (2 epochs of 4 steps of 1,000
    tokens, logged every 2 steps, evaluated once per epoch); unigram: metrics.unigram_loss."""
    history = {"initial_val_loss": 7.6, "epochs": [
        {"epoch": 1, "train_loss": val_loss + 0.5, "val_loss": val_loss + 0.2},
        {"epoch": 2, "train_loss": val_loss + 0.1, "val_loss": val_loss}]}
    if curves:
        history["train_curve"] = [{"step": s, "tokens": 1000 * s, "train_loss": val_loss + 1.0 / s, "lr": 1e-3}
                                  for s in (2, 4, 6, 8)]
        history["val_curve"] = [{"step": 0, "tokens": 0, "val_loss": 7.6},
                                {"step": 4, "tokens": 4000, "val_loss": val_loss + 0.2},
                                {"step": 8, "tokens": 8000, "val_loss": val_loss}]
    metrics = {"val_loss": val_loss, "val_ppl": math.exp(val_loss), "seconds_per_epoch": seconds,
               "tokens_per_s": tokens_per_s}
    if unigram is not None:
        metrics["unigram_loss"] = unigram
    return {"schema": SCHEMA_VERSION, "spec_hash": f"fake-{model}-{variant}-{seed}", "kind": "lm", "model": model,
            "variant": variant, "dataset": dataset, "preset": preset, "seed": seed, "params": params,
            "mamba_backend": "mambapy" if model == "mamba" else None,
            "metrics": metrics, "history": history, "provenance": {"device": device}}


def _write_records(root, records):
    for r in records:
        save_record(r, root / r["preset"] / r["dataset"] / f"{r['model']}-{r['variant']}-seed{r['seed']}.json")
    return load_records(root)


def _ablation_records(losses_by_variant):
    return [_fake_record("gam", variant, seed, loss)
            for variant, losses in losses_by_variant.items() for seed, loss in enumerate(losses)]


@pytest.fixture
def fake_record():
    """fake_record(model, variant, seed, val_loss, ...) -> one 'lm' record as run_lm_experiment writes it."""
    return _fake_record


@pytest.fixture
def write_records():
    """write_records(root, records) saves each record where run_lm_experiment would, and loads them back."""
    return _write_records


@pytest.fixture
def ablation_records():
    """ablation_records({variant: [val_loss per seed]}) -> GAM records, seeds numbered from 0."""
    return _ablation_records
