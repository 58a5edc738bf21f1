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
from .ladder import diagnose, ladder, replace_rows
from .numeric import MinimiserSettings, diverged, intra_op_threads, minimise
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
    """Every setting a run uses.  A replay line (``verdicts.replay_command``) carries the ones the command
    line sets (``from_options``); a run with any other setting says that its replay is not exact."""
    minimiser: MinimiserSettings = MinimiserSettings()
    tolerances: Tolerances = Tolerances()
    device: str = "cpu"
    # The data-form minimiser's settings (DataFormAgreement); None: the matrix minimiser's, so that the
    # run's --seed and --restarts reach it too.
    data_form_minimiser: MinimiserSettings | None = None

    @property
    def data_form(self) -> MinimiserSettings:
        return self.data_form_minimiser or self.minimiser

    @classmethod
    def from_options(cls, *, seed: int, restarts: int, device: str) -> "PipelineSettings":
        """The settings of ``verifier check --seed S --restarts R --device D`` (device resolved)."""
        return cls(minimiser=MinimiserSettings(restarts=restarts, seed=seed, device=device), device=device)


@dataclass
class InstanceResult:
    """Everything measured on one instance: the outcomes per claim and the raw evidence."""
    instance: object
    outcomes: dict[str, Outcome]
    claimed: dict
    minimiser: dict
    climbed: bool = True     # False: left uncertified without climbing the ladder (Pipeline.run's climb=False)


@dataclass
class Pipeline:
    theorem: Theorem
    settings: PipelineSettings = field(default_factory=PipelineSettings)
    _cache: dict = field(default_factory=dict)
    minimised: int = 0
    drawn: dict = field(default_factory=dict)     # what the searches will draw, per strategy (verdicts)
    # Where the lists of instances are computed: None here; else an object whose ``run(settings, instances,
    # climb)`` returns (results, instances minimised) of this computation done elsewhere -- the same list, so
    # the same results (verifier.distributed.RemoteRunner, for this theorem).
    remote: object | None = None

    def sibling(self, settings: PipelineSettings) -> "Pipeline":
        """A fresh pipeline of the same theorem with ``settings``, computing where this one does."""
        return Pipeline(self.theorem, settings, remote=self.remote)

    def run(self, instances, climb: bool = True) -> list[InstanceResult]:
        """Every claim's outcome on each of ``instances`` (cached). ``climb``: whether an uncertified minimiser
        climbs the ladder first; a search shrinking a confirmed refutation passes False (its candidates need
        the search's own minimiser only), and an instance cached that way climbs when it is asked for again."""
        todo = list({inst.key(): inst for inst in instances if not self._done(inst, climb)}.values())
        if todo and self.remote is not None:
            results, minimised = self.remote.run(self.settings, todo, climb)
            self.minimised += minimised
            self._cache.update((res.instance.key(), res) for res in results)
        elif todo:
            with intra_op_threads(self.settings.minimiser.cpu_threads, self.settings.device):
                for group in group_by_dims(self.theorem, todo):
                    for res in self._run_group(group, climb):
                        self._cache[res.instance.key()] = res
        return [self._cache[inst.key()] for inst in instances]

    def results(self) -> list[InstanceResult]:
        """Every instance result computed so far (the cache's), in the order computed."""
        return list(self._cache.values())

    def _done(self, inst, climb: bool) -> bool:
        cached = self._cache.get(inst.key())
        return cached is not None and (cached.climbed or not climb)

    def has(self, instances, climb: bool = True) -> bool:
        """Whether every one of ``instances`` is cached (as ``run`` with ``climb`` would need it)."""
        return all(self._done(inst, climb) for inst in instances)

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

    def _run_group(self, group, climb: bool) -> list[InstanceResult]:
        dev = self.settings.device
        batch = instantiate(self.theorem, group, device=dev)
        claimed_loss, claimed_grad = claimed_loss_and_grad(batch)
        init_scale, log_center = start_scales(batch)
        seeds = [inst.seed for inst in batch.instances]
        result = minimise(self.theorem.model, batch.dims, batch.data, batch.scale, seeds, self.settings.minimiser,
                          init_scale=init_scale, log_center=log_center)
        self.minimised += batch.size
        climbed = self._climb_ladder(batch, result, seeds, init_scale, log_center) if climb else {}
        ev = Evidence(batch, result, group, self.settings.tolerances, claimed_loss, claimed_grad,
                      data_form_settings=self.settings.data_form)
        per_claim = {c.name: CHECKERS[type(c)](c, ev) for c in self.theorem.claims}
        out = []
        for i, inst in enumerate(batch.instances):
            rungs = climbed.get(i, {})
            restart_losses = rungs.get("restart_losses", result.restart_losses[i].tolist())
            out.append(InstanceResult(
                instance=inst, climbed=climb or bool(result.certified[i]),
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
                           "restart_losses": restart_losses,
                           "ladder": rungs.get("rungs", []),
                           "diagnosis": "" if bool(result.certified[i]) else diagnose(
                               float(result.grad_norm[i]), float(result.min_hessian_eig[i]),
                               float(result.min_curvature[i]), restart_losses, float(batch.scale[i]),
                               int(result.iterations_per_instance[i]), self.settings.minimiser),
                           "matrices": {k: v[i].tolist() for k, v in result.point.items()}},
            ))
        return out

    def _climb_ladder(self, batch, result, seeds, init_scale, log_center) -> dict[int, dict]:
        """Re-minimise the instances whose minimiser is not certified, rung by rung (numeric.ladder), until
        each is certified or the ladder ends; a certified rung's point replaces the first one in ``result``.
        Returns, per instance that climbed, the rungs tried and the restart losses of the one kept."""
        climbed: dict[int, dict] = {}
        for rung in ladder(self.settings.minimiser):
            # an objective running off to -infinity is unbounded below there: no stronger minimisation changes that
            rows = (~result.certified & ~diverged(result.loss, batch.scale)).nonzero().flatten()
            if rows.numel() == 0:
                break
            index = rows.tolist()
            better = minimise(self.theorem.model, batch.dims, {k: v[rows] for k, v in batch.data.items()},
                              batch.scale[rows], [seeds[i] for i in index], rung.settings,
                              init_scale=init_scale[rows.cpu()] * rung.start_factor,
                              log_center=None if log_center is None else log_center[rows.cpu()])
            self.minimised += len(index)
            replace_rows(result, rows, better, better.certified)
            for j, i in enumerate(index):
                entry = climbed.setdefault(i, {"rungs": [], "restart_losses": result.restart_losses[i].tolist()})
                ok = bool(better.certified[j])
                entry["rungs"].append({"rung": rung.name, "certified": ok, "loss": float(better.loss[j])})
                if ok:
                    entry["restart_losses"] = better.restart_losses[j].tolist()
        return climbed
