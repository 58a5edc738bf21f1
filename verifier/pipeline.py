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
from .cache import DISABLED, EvidenceCache
from .minimiser_cache import MinimisedRow, RowStore, rows_of, stacked
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
    _premise_met: dict = field(default_factory=dict)     # (claim name, instance key) -> meeting_premise's decision
    minimised: int = 0
    reused: int = 0              # instances whose minimisation was taken from ``store``
    drawn: dict = field(default_factory=dict)     # what the searches will draw, per strategy (verdicts)
    # Where the lists of instances are computed: None here; else an object whose ``run(settings, instances,
    # climb)`` returns (results, instances minimised) of this computation done elsewhere -- the same list, so
    # the same results (verifier.distributed.RemoteRunner, for this theorem).
    remote: object | None = None
    # Where minimisations are kept between runs (verifier.minimiser_cache): an instance found there is judged at
    # the stored point, not minimised again.  DISABLED (the default) keeps nothing; neither does a remote pipeline.
    evidence_cache: EvidenceCache = DISABLED
    store: RowStore = field(init=False)              # the matrix form's minimisations
    data_form_store: RowStore = field(init=False)    # the data form's (judge.data_form_agreement)

    def __post_init__(self):
        remote = self.remote is not None and self.evidence_cache.enabled
        not_kept = "on the cluster's workers: not cached" if remote else None
        cache, model, device = self.evidence_cache, self.theorem.model, self.settings.device
        self.store = RowStore(cache, "minimised", model, self.settings.minimiser, device, not_kept)
        self.data_form_store = RowStore(cache, "data_form", model, self.settings.data_form, device, not_kept)

    def sibling(self, settings: PipelineSettings, stored: bool = True) -> "Pipeline":
        """A fresh pipeline of the same theorem with ``settings``, computing where this one does, and keeping its
        minimisations where this one does (``stored``) or nowhere."""
        return Pipeline(self.theorem, settings, remote=self.remote,
                        evidence_cache=self.evidence_cache if stored else DISABLED)

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
        structural claims are skipped): decided on the instantiated closed forms, nothing minimised. Each
        instance is decided once (a directed search's shrinker asks again of every list it tries, most of
        whose instances it has seen)."""
        decided = self._premise_met
        keys = [(claim.name, inst.key()) for inst in instances]
        todo = {k: inst for k, inst in zip(keys, instances) if k not in decided}
        if todo:
            limit = self.settings.tolerances.boundary_sensitivity
            key_of = {id(inst): k for k, inst in todo.items()}      # a batch holds the very instances it was given
            with intra_op_threads(self.settings.minimiser.cpu_threads, "cpu"):
                for group in group_by_dims(self.theorem, list(todo.values())):
                    batch = instantiate(self.theorem, group)
                    for inst, met, sens in zip(batch.instances, premise_holds(claim, batch), batch.sensitivity):
                        decided[key_of[id(inst)]] = bool(met) and float(sens) <= limit
        return [inst for k, inst in zip(keys, instances) if decided[k]]

    def _run_group(self, group, climb: bool) -> list[InstanceResult]:
        dev = self.settings.device
        batch = instantiate(self.theorem, group, device=dev)
        claimed_loss, claimed_grad = claimed_loss_and_grad(batch)
        rows = self._minimised_rows(batch, climb)
        ev = Evidence(batch, stacked(rows, batch.scale.dtype, dev), group, self.settings.tolerances, claimed_loss,
                      claimed_grad, data_form_settings=self.settings.data_form, data_form_store=self.data_form_store)
        per_claim = {c.name: CHECKERS[type(c)](c, ev) for c in self.theorem.claims}
        out = []
        for i, (inst, row) in enumerate(zip(batch.instances, rows)):
            out.append(InstanceResult(
                instance=inst, climbed=row.climbed,
                outcomes={name: outs[i] for name, outs in per_claim.items()},
                claimed={"loss": float(claimed_loss[i]), "grad_norm": float(claimed_grad[i]),
                         **{str(s): v[i].tolist() for s, v in batch.indexed.items()},
                         **{str(s): v[i].tolist() for s, v in batch.closed.items()},
                         "matrices": {k: v[i].tolist() for k, v in batch.claimed.items()}},
                minimiser={"loss": row.loss, "grad_norm": row.grad_norm,
                           "min_hessian_eig": row.min_hessian_eig, "min_curvature": row.min_curvature,
                           "certified": row.certified, "iterations": row.iterations,
                           "tolerance_reached_at": row.tolerance_reached_at,
                           "restart_losses": row.restart_losses, "ladder": row.rungs,
                           "diagnosis": "" if row.certified else diagnose(
                               row.grad_norm, row.min_hessian_eig, row.min_curvature, row.restart_losses,
                               float(batch.scale[i]), row.iterations, self.settings.minimiser),
                           "matrices": {k: v.tolist() for k, v in row.point.items()}},
            ))
        return out

    def _minimised_rows(self, batch, climb: bool) -> list[MinimisedRow]:
        """Each instance of ``batch`` minimised (and, where ``climb`` and uncertified, up the ladder): taken from
        the store where it holds the instance, the rest minimised together and stored."""
        init_scale, log_center = start_scales(batch)
        seeds = [inst.seed for inst in batch.instances]
        dev = self.settings.device

        def compute(todo: list[int]) -> list[MinimisedRow]:
            if len(todo) < batch.size:      # each problem is advanced on its own: a sub-batch gives the same bits
                index = torch.tensor(todo, device=dev)
                data, scale = {k: v[index] for k, v in batch.data.items()}, batch.scale[index]
                starts = init_scale[index.cpu()], None if log_center is None else log_center[index.cpu()]
                todo_seeds = [seeds[i] for i in todo]
            else:
                data, scale, starts, todo_seeds = batch.data, batch.scale, (init_scale, log_center), seeds
            result = minimise(self.theorem.model, batch.dims, data, scale, todo_seeds, self.settings.minimiser,
                              init_scale=starts[0], log_center=starts[1])
            self.minimised += len(todo)
            climbed = self._climb_ladder(batch.dims, data, scale, result, todo_seeds, *starts) if climb else {}
            return rows_of(result, climbed, climb)

        rows, taken = self.store.fetch_or_compute(
            batch.instances, batch.scale.tolist(), compute, MinimisedRow.to_json,
            lambda obj: MinimisedRow.from_json(obj, dev), usable=lambda row: row.climbed or not climb)
        self.reused += taken
        return rows

    def _climb_ladder(self, dims, data, scale, result, seeds, init_scale, log_center) -> dict[int, dict]:
        """Re-minimise the instances whose minimiser is not certified, rung by rung (numeric.ladder), until
        each is certified or the ladder ends; a certified rung's point replaces the first one in ``result``.
        Returns, per instance that climbed, the rungs tried and the restart losses of the one kept."""
        climbed: dict[int, dict] = {}
        for rung in ladder(self.settings.minimiser):
            # an objective running off to -infinity is unbounded below there: no stronger minimisation changes that
            rows = (~result.certified & ~diverged(result.loss, scale)).nonzero().flatten()
            if rows.numel() == 0:
                break
            index = rows.tolist()
            better = minimise(self.theorem.model, dims, {k: v[rows] for k, v in data.items()},
                              scale[rows], [seeds[i] for i in index], rung.settings,
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
