"""How much work each ``--profile`` does.  "quick" keeps the whole report to a few minutes on
2 CPU cores; "thorough" draws more instances and denser sweeps."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Profile:
    examples: int          # Hypothesis-drawn instances per claim search (as `verifier check --examples`)
    batch: int             # largest batch per tensor op
    max_dim: int           # largest latent / data dimension drawn
    restarts: int          # minimiser restarts per instance
    sweep_points: int      # closed-form curve resolution of a hyperparameter sweep
    sweep_minimised: int   # sweep points at which the minimiser is run on top
    diagram_points: int    # grid points per axis of a phase diagram
    adam_instances: int    # instances of the paper's synthetic setting trained with Adam


PROFILES = {
    "quick": Profile(examples=24, batch=8, max_dim=3, restarts=3, sweep_points=121, sweep_minimised=7,
                     diagram_points=61, adam_instances=3),
    "thorough": Profile(examples=64, batch=8, max_dim=4, restarts=4, sweep_points=301, sweep_minimised=17,
                        diagram_points=101, adam_instances=10),
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"--profile {name!r}; use one of {', '.join(PROFILES)}") from None
