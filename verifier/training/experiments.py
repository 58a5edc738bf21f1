"""The training experiments: predicted against measured collapse on real data.

Each experiment trains the linear model on a data set (minibatch Adam on the sampled negative
ELBO), measures collapse, and compares with the closed forms the theorem specs give for the same
data.  ``run(name, settings)`` returns an :class:`ExperimentResult` (JSON evidence, Markdown,
figures); ``ok`` is False when a measured count or threshold disagrees with its prediction.

One module per experiment (``vae_experiment``, ``cvae_experiment``, ``mhvae_experiment``), the sweeps
they share (``sweeps``), and their settings and result (``run_settings``, re-exported here).
"""
from __future__ import annotations

import torch

from .cvae_experiment import cvae
from .mhvae_experiment import mhvae
from .run_settings import EXPERIMENTS, PROFILES, SIZES, ExperimentResult, RunSettings, sizes_for
from .vae_experiment import vae

__all__ = ["EXPERIMENTS", "PROFILES", "SIZES", "ExperimentResult", "RunSettings", "run", "sizes_for"]
RUNNERS = {"vae": vae, "cvae": cvae, "mhvae": mhvae}


def run(name: str, settings: RunSettings) -> ExperimentResult:
    settings = settings.for_experiment(name)
    settings.train_settings()                       # validates epochs, batch size and learning rate
    torch.manual_seed(settings.seed)
    return RUNNERS[name](settings)
