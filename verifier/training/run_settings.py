"""What every training experiment shares: its name, its size per profile, its settings and its result.

``RunSettings`` says what to train on and how long (each experiment's default epochs and batch size per
profile come from ``SIZES``, or ``mnist.SIZES`` on MNIST); ``ExperimentResult`` is what an experiment
returns (JSON evidence, Markdown, figures, and ``ok`` False when a measurement disagrees).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ..errors import UsageError
from . import mnist
from .train import TrainSettings

EXPERIMENTS = ("vae", "cvae", "mhvae")

# (epochs, batch size) per profile and experiment; "quick" keeps the report section within a few
# minutes on two CPU cores.  The CVAE sweep needs more steps and larger batches: on the digits its
# collapse points lie only 4-13% apart, a dimension that close to its threshold relaxes at a rate
# proportional to the distance, and minibatch noise keeps two such dimensions mixed.  Measured at
# seed 0 with the sweep's epsilon (cvae_epsilon): 1500 epochs at batch 128 and 1000 at batch 512 still
# disagree at beta = 0.172 (dimension 4, predicted KL 0.031, measured < 0.016); 2000 at batch 512 agree.
SIZES = {
    "quick": {"vae": (300, 128), "cvae": (2000, 512), "mhvae": (300, 128)},
    "thorough": {"vae": (1500, 128), "cvae": (6000, 512), "mhvae": (1500, 128)},
}
PROFILES = tuple(dict.fromkeys((*SIZES, *mnist.SIZES)))      # "paper": MNIST at the paper's latent sizes


def sizes_for(data: str) -> dict:
    return mnist.SIZES if mnist.is_mnist(data) else SIZES


@dataclass(frozen=True)
class RunSettings:
    data: str = "digits"
    profile: str = "quick"
    epochs: int | None = None            # None: the experiment's default for the profile (SIZES)
    seed: int = 0
    device: str = "cpu"
    lr: float = 5e-3
    batch_size: int | None = None        # None: as epochs

    def for_experiment(self, name: str) -> "RunSettings":
        """These settings with the experiment's default epochs and batch size filled in."""
        sizes = sizes_for(self.data)
        if self.profile not in sizes:
            raise UsageError(f"training profile {self.profile!r} is not one for --data {self.data!r}; "
                             f"choose from {', '.join(sizes)}")
        if name not in sizes[self.profile]:
            raise UsageError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)} or all")
        epochs, batch_size = sizes[self.profile][name]
        return replace(self, epochs=epochs if self.epochs is None else self.epochs,
                       batch_size=batch_size if self.batch_size is None else self.batch_size)

    def train_settings(self) -> TrainSettings:
        if self.epochs is None or self.batch_size is None:
            raise ValueError("RunSettings.for_experiment(name) fills in epochs and batch size first")
        return TrainSettings(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.seed,
                             device=self.device)


@dataclass
class ExperimentResult:
    name: str
    title: str
    markdown: str
    data: dict
    figures: list = field(default_factory=list)      # (stem, matplotlib Figure, caption)
    ok: bool = True


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()
