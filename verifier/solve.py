"""``verifier solve``: the claimed closed-form quantities and the minimiser's, for one instance."""
from __future__ import annotations

import torch

from .pipeline import Pipeline, PipelineSettings


def _spectra(matrices: dict) -> dict:
    out = {}
    for name, m in matrices.items():
        t = torch.tensor(m, dtype=torch.float64)
        out[name] = torch.linalg.svdvals(t).tolist() if t.numel() else []
    return out


def solve(theorem, instance, settings: PipelineSettings | None = None) -> dict:
    res = Pipeline(theorem, settings or PipelineSettings()).run([instance])[0]
    claimed = dict(res.claimed)
    claimed_mats = claimed.pop("matrices")
    minimiser = dict(res.minimiser)
    min_mats = minimiser.pop("matrices")
    return {
        "theorem": theorem.name,
        "instance": instance.to_json(),
        "claimed": {**claimed, "singular_values": _spectra(claimed_mats), "matrices": claimed_mats},
        "minimiser": {**minimiser, "singular_values": _spectra(min_mats), "matrices": min_mats},
        "claims": {name: {"status": o.status, "detail": o.detail} for name, o in res.outcomes.items()},
    }
