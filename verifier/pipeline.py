"""derive -> instantiate -> minimise -> compare, for a list of instances.

:class:`Pipeline` evaluates every claim of one theorem on a list of instances: it
groups them by dimension, instantiates each group as a tensor batch, minimises the
matrix objective from random restarts, and runs each claim's checker.  Results are
cached by instance, so that the per-claim Hypothesis searches (which replay the same
examples) pay for each minimisation once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .batch import group_by_dims, instantiate
from .judge import CHECKERS, Evidence, Outcome, Tolerances, claimed_loss_and_grad, premise_holds
from .errors import UsageError
from .numeric import MinimiserSettings, intra_op_threads, minimise
from .spec import Theorem


def resolve_device(device: str | None) -> str:
    """'cuda' when available and not overridden, else 'cpu'; asking for cuda without one is an error."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but torch sees no CUDA device; use --device cpu")
    if device not in ("cpu", "cuda"):
        raise UsageError(f"device={device!r}; use 'cpu' or 'cuda'")
    return device


def start_scales(batch) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Where random restarts are drawn, per instance: (entry scale of free matrices, log-variance centre).

    Entries of UV ~ entries of Z, so each factor starts at scale^(1/4) / sqrt(d); a learnable
    variance starts around the prior's, eta_enc^2 (None when the model has no eta_enc).
    """
    dims_max = max(batch.dims.values())
    init_scale = batch.scale.clamp_min(1e-300) ** 0.25 / math.sqrt(dims_max)
    eta_enc = batch.data.get("eta_enc")
    log_center = 2 * torch.log(eta_enc) if eta_enc is not None else None
    return init_scale.cpu(), None if log_center is None else log_center.cpu()


@dataclass(frozen=True)
class PipelineSettings:
    minimiser: MinimiserSettings = MinimiserSettings()
    tolerances: Tolerances = Tolerances()
    device: str = "cpu"


@dataclass
class InstanceResult:
    """Everything measured on one instance: the outcomes per claim and the raw evidence."""
    instance: object
    outcomes: dict[str, Outcome]
    claimed: dict
    minimiser: dict


@dataclass
class Pipeline:
    theorem: Theorem
    settings: PipelineSettings = field(default_factory=PipelineSettings)
    _cache: dict = field(default_factory=dict)
    minimised: int = 0

    def run(self, instances) -> list[InstanceResult]:
        todo = [inst for inst in instances if inst.key() not in self._cache]
        if todo:
            with intra_op_threads(self.settings.minimiser.cpu_threads, self.settings.device):
                for group in group_by_dims(self.theorem, todo):
                    for res in self._run_group(group):
                        self._cache[res.instance.key()] = res
        return [self._cache[inst.key()] for inst in instances]

    def meeting_premise(self, claim, instances) -> list:
        """Those of ``instances`` on which ``claim``'s premise holds away from a case boundary (where the
        structural claims are skipped): decided on the instantiated closed forms, nothing minimised."""
        kept = []
        limit = self.settings.tolerances.boundary_sensitivity
        with intra_op_threads(self.settings.minimiser.cpu_threads, "cpu"):
            for group in group_by_dims(self.theorem, instances):
                batch = instantiate(self.theorem, group)
                kept += [inst for inst, met, sens in zip(batch.instances, premise_holds(claim, batch),
                                                         batch.sensitivity) if met and float(sens) <= limit]
        return kept

    def _run_group(self, group) -> list[InstanceResult]:
        dev = self.settings.device
        batch = instantiate(self.theorem, group, device=dev)
        claimed_loss, claimed_grad = claimed_loss_and_grad(batch)
        init_scale, log_center = start_scales(batch)
        result = minimise(self.theorem.model, batch.dims, batch.data, batch.scale,
                          [inst.seed for inst in batch.instances], self.settings.minimiser,
                          init_scale=init_scale, log_center=log_center)
        self.minimised += batch.size
        ev = Evidence(batch, result, group, self.settings.tolerances, claimed_loss, claimed_grad)
        per_claim = {c.name: CHECKERS[type(c)](c, ev) for c in self.theorem.claims}
        out = []
        for i, inst in enumerate(batch.instances):
            out.append(InstanceResult(
                instance=inst,
                outcomes={name: outs[i] for name, outs in per_claim.items()},
                claimed={"loss": float(claimed_loss[i]), "grad_norm": float(claimed_grad[i]),
                         **{str(s): v[i].tolist() for s, v in batch.indexed.items()},
                         **{str(s): v[i].tolist() for s, v in batch.closed.items()},
                         "matrices": {k: v[i].tolist() for k, v in batch.claimed.items()}},
                minimiser={"loss": float(result.loss[i]), "grad_norm": float(result.grad_norm[i]),
                           "min_hessian_eig": float(result.min_hessian_eig[i]),
                           "min_curvature": float(result.min_curvature[i]),
                           "certified": bool(result.certified[i]),
                           "iterations": int(result.iterations_per_instance[i]),
                           "tolerance_reached_at": int(result.tolerance_reached_at[i]),
                           "restart_losses": result.restart_losses[i].tolist(),
                           "matrices": {k: v[i].tolist() for k, v in result.point.items()}},
            ))
        return out
