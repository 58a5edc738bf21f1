"""``verifier solve``: the claimed closed-form quantities and the minimiser's, for one instance, and each
claim's verdict on it as ``verifier check --instance`` gives it (so that ``solve`` exits as ``check`` would)."""
from __future__ import annotations

import torch

from .pipeline import Pipeline, PipelineSettings
from .report.status import classify_claims
from .verdicts import instance_verdicts


def _spectra(matrices: dict) -> dict:
    out = {}
    for name, m in matrices.items():
        t = torch.tensor(m, dtype=torch.float64)
        out[name] = torch.linalg.svdvals(t).tolist() if t.numel() else []
    return out


def solve(theorem, instance, settings: PipelineSettings | None = None) -> dict:
    pipeline = Pipeline(theorem, settings or PipelineSettings())
    res = pipeline.run([instance])[0]
    verdicts = [v.to_json(theorem.name, pipeline.settings) for v in instance_verdicts(pipeline, res)]
    claimed = dict(res.claimed)
    claimed_mats = claimed.pop("matrices")
    minimiser = dict(res.minimiser)
    min_mats = minimiser.pop("matrices")
    return {
        "theorem": theorem.name,
        "instance": instance.to_json(),
        "claimed": {**claimed, "singular_values": _spectra(claimed_mats), "matrices": claimed_mats},
        "minimiser": {**minimiser, "singular_values": _spectra(min_mats), "matrices": min_mats},
        # status: the claim's verdict on this instance; class: the same with a refuted printed claim whose
        # correction is verified here marked ERRATUM (what the exit status counts, as in `check`)
        "claims": {v["claim"]: {"status": v["status"], "class": cls, "detail": v["detail"]}
                   for v, cls in zip(verdicts, classify_claims(verdicts))},
    }
