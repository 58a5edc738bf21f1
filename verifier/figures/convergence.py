"""Convergence of D_MA: plain Adam (the paper's way, Figs. 7, 11, 13) beside this project's minimiser.

The paper's synthetic setting (App. A): dimension 5, data entries drawn from N(0, 0.1^2),
every hyperparameter 1, Adam with learning rate 0.1 for 200 steps.  D_MA is the mean
|singular value - closed form| over the theorem's closed-form spectrum claims
(``verifier.baseline``).  The minimiser exposes no per-iteration hook, so its *final*
D_MA is drawn as a line.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ..baseline import adam_baseline, spectrum_distance
from ..batch import group_by_dims, instantiate
from ..loader import load_spec
from ..numeric import MinimiserSettings
from ..pipeline import Pipeline, PipelineSettings
from . import plots
from .examples import representative
from ..report.profiles import profile
from ..report.sections import Figure, ReportSettings, Section
from .theory import per_theorem, spectrum_claims, why_missing

PAPER_DIM, PAPER_STD, PAPER_SAMPLES = 5, 0.1, 100      # App. A; the number of samples is not printed: ours
ADAM_STEPS, ADAM_LR = 200, 0.1


def paper_instances(theorem, count: int, seed: int):
    """``count`` instances of the paper's synthetic setting (or the model's own draw where it needs other data)."""
    out = []
    for k in range(count):
        rng = np.random.default_rng([seed, k])
        X = rng.normal(0.0, PAPER_STD, (PAPER_SAMPLES, PAPER_DIM))
        out.append(representative(theorem, n=PAPER_DIM, seed=seed * 1000 + k, X=X))
    return out


def minimiser_dma(theorem, insts, settings: ReportSettings, restarts: int) -> tuple[np.ndarray, float]:
    """Final D_MA of the certified minimiser per instance, and the wall time of minimise + certify + check."""
    pipe = Pipeline(theorem, PipelineSettings(
        minimiser=MinimiserSettings(restarts=restarts, seed=settings.seed, device=settings.device),
        device=settings.device))
    start = time.perf_counter()
    results = pipe.run(insts)
    seconds = time.perf_counter() - start
    dma = []
    for inst, res in zip(insts, results):
        batch = instantiate(theorem, group_by_dims(theorem, [inst])[0])
        point = {k: torch.tensor([v], dtype=torch.float64) for k, v in res.minimiser["matrices"].items()}
        dma.append(float(spectrum_distance(theorem, batch, point)[0]))
    return np.array(dma), seconds


def convergence_curves(settings: ReportSettings) -> Section:
    done, failed = per_theorem(_converge_one, settings, profile(settings.profile))
    rows, data, table = [], [], []
    for name, d, row in done:
        data.append(d)
        if row is None:
            table.append(f"| {name} | {why_missing(d)} | - | - | - | - |")
            continue
        rows.append(row)
        run, mine, seconds, insts, paper_setting = (row["run"], row["minimiser"], row["minimiser_seconds"],
                                                    row["instances"], d["paper_setting"])
        table.append(f"| {name} | {len(insts)}{'' if paper_setting else ' (own draw)'} | "
                     f"{np.nanmedian(run.dma[-1]):.2e} | {run.seconds:.2f} | {np.median(mine):.2e} | {seconds:.2f} |")
    figures = [Figure("convergence_dma", plots.convergence_figure(rows),
                      "D_MA against Adam steps (thin: each instance; thick: median) and the certified minimiser's "
                      "final D_MA (dashed); log scale, zero drawn at 1e-17. Times: Adam's optimisation alone; the "
                      "minimiser's includes certification and every claim check.")] if rows else []
    md = (f"The paper's synthetic setting (App. A: dimension {PAPER_DIM}, data N(0, {PAPER_STD}^2), "
          f"{PAPER_SAMPLES} samples, hyperparameters 1), Adam (lr {ADAM_LR}, {ADAM_STEPS} steps, float32, one "
          f"instance at a time) against this project's batched damped-Newton minimiser (float64).  The minimiser "
          f"has no per-iteration hook yet, so only its final D_MA is shown.\n\n"
          "| theorem | instances | Adam final D_MA (median) | Adam s | minimiser D_MA (median) | minimiser s |\n"
          "|---|---|---|---|---|---|\n" + "\n".join(table))
    return Section("convergence", "Convergence: Adam against the certified minimiser", md, {"theorems": data},
                   figures, ok=not failed)


def _converge_one(name: str, settings: ReportSettings, prof) -> tuple[dict, dict | None]:
    theorem = load_spec(name)
    if not spectrum_claims(theorem):
        return {"theorem": name, "skipped": "no closed-form spectrum claim"}, None
    insts = paper_instances(theorem, prof.adam_instances, settings.seed)
    run = adam_baseline(theorem, insts, steps=ADAM_STEPS, lr=ADAM_LR, device=settings.device, seed=settings.seed)
    mine, seconds = minimiser_dma(theorem, insts, settings, prof.restarts)
    paper_setting = all(i.X is not None and i.X.shape == (PAPER_SAMPLES, PAPER_DIM) for i in insts)
    row = {"theorem": name, "steps": run.steps, "adam": run.dma, "minimiser": mine, "adam_seconds": run.seconds,
           "minimiser_seconds": seconds, "run": run, "instances": insts}
    data = {"theorem": name, "paper_setting": paper_setting, "instances": len(insts),
            "adam_final_dma": run.dma[-1].tolist(), "adam_seconds": run.seconds,
            "minimiser_final_dma": mine.tolist(), "minimiser_seconds": seconds}
    return data, row
