"""The paper's own way of checking a closed form: train with Adam and look at the spectrum.

One instance at a time, plain ``torch.optim.Adam`` (lr 0.1, 200 steps, float32 by
default) on the same matrix objective the verifier minimises -- the spec's objective
lowered by :mod:`verifier.lowering`, over the same parametrisation (log-variances for a
learnable diagonal covariance) and from the verifier's first random restart.  Progress
is measured as D_MA: the mean |measured singular value - closed form| over every
index of every ``ClosedFormSpectrum`` claim of the theorem, pooled.

This is a baseline to compare the batched, certified minimiser with (``benchmarks/``);
it certifies nothing.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from .batch import group_by_dims, instantiate
from .judge import spectrum
from .errors import UsageError
from .lowering import evaluate
from .numeric import Parametrisation
from .pipeline import resolve_device, start_scales
from .spec import ClosedFormSpectrum, Theorem


@dataclass
class AdamRun:
    steps: list[int]          # the steps at which D_MA was recorded (0 = the starting point)
    dma: np.ndarray           # (len(steps), len(instances)); NaN when the theorem has no spectrum claim
    final_loss: np.ndarray    # (len(instances),) loss after the last step, in the run's dtype
    seconds: float            # wall time of the optimisation alone (D_MA measurement excluded)


def spectrum_distance(theorem: Theorem, batch, point: dict[str, torch.Tensor]) -> torch.Tensor:
    """D_MA per instance of ``batch`` at ``point``: mean |measured - closed form| over all spectrum claims."""
    errors = []
    for claim in theorem.claims:
        if not isinstance(claim, ClosedFormSpectrum):
            continue
        kind, name = claim.measured
        measured = spectrum(kind, point[name].to(torch.float64)).sort(dim=-1, descending=True).values
        claimed = batch.closed[claim.quantity].sort(dim=-1, descending=True).values
        n = max(measured.shape[-1], claimed.shape[-1])   # pad the shorter with zeros, as the checker does
        measured = torch.nn.functional.pad(measured, (0, n - measured.shape[-1]))
        claimed = torch.nn.functional.pad(claimed, (0, n - claimed.shape[-1]))
        errors.append((measured - claimed).abs())
    if not errors:
        return torch.full((batch.size,), float("nan"), dtype=torch.float64)
    return torch.cat(errors, dim=-1).mean(dim=-1)


def adam_baseline(theorem: Theorem, instances, *, steps: int = 200, lr: float = 0.1, dtype=torch.float32,
                  device: str = "cpu", seed: int = 0, record_every: int = 1) -> AdamRun:
    """Minimise the theorem's objective with Adam, one instance at a time; record D_MA along the way."""
    if steps < 1 or record_every < 1:
        raise UsageError(f"steps={steps} and record_every={record_every} must both be >= 1")
    if not lr > 0:
        raise UsageError(f"lr={lr} must be > 0")
    device = resolve_device(device)
    recorded = sorted(set(range(0, steps, record_every)) | {steps})
    dma = np.full((len(recorded), len(instances)), np.nan)
    final_loss = np.full(len(instances), np.nan)
    seconds = 0.0
    model = theorem.model
    for j, inst in enumerate(instances):
        (group,) = group_by_dims(theorem, [inst])
        batch = instantiate(theorem, group, device=device)          # float64: the closed forms, the reference
        param = Parametrisation(model, batch.dims)
        env = {k: v.to(dtype) for k, v in batch.data.items()}
        init_scale, log_center = start_scales(batch)
        gen = torch.Generator().manual_seed(zlib.crc32(f"{seed}:{inst.seed}".encode()))
        x0 = param.initial(gen, float(init_scale[0]), 0.0 if log_center is None else float(log_center[0]),
                           dtype, device)
        x = x0[None].clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=lr)

        def loss():
            return evaluate(model.objective, {**env, **param.matrices(x)}, batch.dims, dtype=dtype, device=device)

        def record(step):
            with torch.no_grad():
                dma[recorded.index(step), j] = float(spectrum_distance(theorem, batch, param.matrices(x))[0])

        record(0)
        for step in range(1, steps + 1):
            start = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            value = loss().sum()
            value.backward()
            opt.step()
            if device == "cuda":
                torch.cuda.synchronize()       # the timing must include the queued kernels
            seconds += time.perf_counter() - start
            if step in recorded:
                record(step)
        with torch.no_grad():
            final_loss[j] = float(loss().sum())
    return AdamRun(steps=recorded, dma=dma, final_loss=final_loss, seconds=seconds)
