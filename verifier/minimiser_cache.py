"""Minimisations kept per instance in the evidence cache (``verifier.cache``), so that checking a variant
of a theorem does not minimise again what an earlier check already did.

A certified minimisation depends on the model (its objective, variables and data statistics), the
instance, the instance's loss scale (from which the starting points and the certificate's tolerances
are drawn), the minimiser's settings, the device and the torch thread count, the libraries and the
engine's source -- not on the claims judged at the point, nor on the other instances of its batch
(each problem of a batch is advanced on its own, with kernels that keep its bits whatever the batch --
``verifier.kernels``; tests/test_minimiser_cache.py checks that an instance minimised alone and in a batch
gives the same bits, and nothing is kept where the kernels cannot promise it).  Each instance's result
(every restart's loss, the ladder's rungs, the certificate) is stored under a key of all of these, so a
variant whose closed form changes -- the loop of a theorist who edits a formula and checks again --
re-judges the points it already has.  Where a changed closed form changes an instance's loss scale the
key changes with it and the instance is minimised afresh: nothing is served that a fresh run would not compute.  (The
scale comes from the claimed point's loss, whose last bit can follow the batch's shape -- torch takes
another kernel for fractional powers of longer tensors -- so an instance drawn in another batch may
miss; it never hits wrongly.)

Floats are stored as ``float.hex`` (exact, and NaN where a Hessian was not computed survives JSON).  A
refutation is never taken from here alone: ``verdicts.verdict_from`` replays the shrunk counterexample
in a pipeline without a store before it is reported.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from . import kernels
from .cache import DISABLED, EvidenceCache, Unfingerprintable, engine_parts, fingerprint, key, short, warn
from .numeric import MinimiserResult, MinimiserSettings

_DTYPES = {"float64": torch.float64, "float32": torch.float32, "bool": torch.bool, "int64": torch.int64}


def tensor_json(t: torch.Tensor) -> dict:
    """A tensor as JSON, exactly: floats as ``float.hex``."""
    dtype = str(t.dtype).removeprefix("torch.")
    values = t.detach().flatten().tolist()
    return {"shape": list(t.shape), "dtype": dtype,
            "values": [float(x).hex() for x in values] if t.is_floating_point() else values}


def tensor_from(obj: dict, device) -> torch.Tensor:
    dtype = _DTYPES[obj["dtype"]]
    values = [float.fromhex(x) for x in obj["values"]] if dtype.is_floating_point else obj["values"]
    return torch.tensor(values, dtype=dtype, device=device).reshape([int(n) for n in obj["shape"]])


class RowStore:
    """Per-instance results of one kind of computation (``kind``) in ``cache``, keyed by the instance, its loss
    scale and ``parts`` (what else the computation depends on: the model, the settings, ...)."""

    def __init__(self, cache: EvidenceCache, kind: str, model, settings: MinimiserSettings, device: str,
                 not_kept: str | None = None):
        """``not_kept``: why nothing is kept although ``cache`` may be on (its results are computed elsewhere)."""
        dependence = (kernels.batch_dependence(settings.cpu_threads or torch.get_num_threads(), device)
                      if not_kept is None and cache.enabled else None)
        if dependence:                     # the premise of keeping rows per instance does not hold
            not_kept = f"not cached: a problem's bits may depend on its batch ({dependence})"
        self.cache, self.kind, self.not_kept = (DISABLED, kind, not_kept) if not_kept else (cache, kind, None)
        self._model, self._settings, self._device = model, settings, device

    @functools.cached_property
    def _parts(self) -> dict | None:
        """What every key of this store holds besides the instance (computed when first needed: a pipeline that
        never minimises -- a confirmation's sibling, mostly -- pays nothing for it); None: nothing is kept."""
        if not self.cache.enabled:
            return None
        try:
            model = fingerprint(self._model)
        except Unfingerprintable:          # a model holding something whose content cannot be stated
            return None
        return {"model": model, "settings": fingerprint(self._settings), "device": self._device,
                "torch_threads": self._settings.cpu_threads or torch.get_num_threads(), "kernels": kernels.mode(),
                **engine_parts()}

    @property
    def enabled(self) -> bool:
        return self._parts is not None

    def key_of(self, instance, scale: float) -> str | None:
        if self._parts is None:
            return None
        return key(kind=self.kind, instance=instance.key(), scale=scale.hex(), **self._parts)

    def fetch_or_compute(self, instances, scales, compute, encode, decode, usable=lambda row: True):
        """Each instance's row: the stored one where there is one that ``decode``s and is ``usable``, the others
        from ``compute(indices)`` (rows for those instances, in order), each stored as ``encode(row)``.
        Returns (rows, how many were taken from the store)."""
        keys = [self.key_of(inst, float(s)) for inst, s in zip(instances, scales)]
        rows = [self._decoded(k, decode) for k in keys]
        rows = [row if row is not None and usable(row) else None for row in rows]
        todo = [i for i, row in enumerate(rows) if row is None]
        if todo:
            for i, row in zip(todo, compute(todo)):
                rows[i] = row
                if keys[i] is not None:
                    self.cache.put(self.kind, keys[i], encode(row))
        return rows, len(instances) - len(todo)

    def _decoded(self, entry_key: str | None, decode):
        stored = None if entry_key is None else self.cache.get(self.kind, entry_key)
        if stored is None:
            return None
        try:
            return decode(stored)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            warn(f"cached {self.kind} result {short(entry_key)} does not fit ({type(exc).__name__}: {exc}); "
                 f"computing it again")
            return None

    def describe(self, minimised: int, taken: int) -> str:
        """Where a check's minimisations came from, in words (``minimiser_evidence``): ``minimised`` problems
        minimised here (ladder rungs included), ``taken`` instances' minimisations taken from the cache."""
        if self.not_kept:
            return f"{minimised} minimisations computed ({self.not_kept})"
        if not self.cache.enabled:
            return f"{minimised} minimisations computed (the evidence cache is off)"
        if self._parts is None:
            return f"{minimised} minimisations computed (not cached: the model's content cannot be stated)"
        return f"{minimised} minimisations computed, {taken} instances' taken from the evidence cache"


def no_store(kind: str = "minimised") -> RowStore:
    return RowStore(DISABLED, kind, None, MinimiserSettings(), "cpu")


# ---------------------------------------------------------------- the matrix form's minimisations (Pipeline)

@dataclass
class MinimisedRow:
    """One instance's minimisation, as ``Pipeline`` reports it."""
    point: dict[str, torch.Tensor]      # the model's matrices at the best restart (no batch dimension)
    loss: float
    grad_norm: float
    min_hessian_eig: float
    min_curvature: float
    certified: bool
    restart_losses: list[float]
    iterations: int
    tolerance_reached_at: int
    rungs: list[dict]                   # the ladder's rungs climbed: {"rung", "certified", "loss"}
    climbed: bool                       # False: left uncertified without climbing the ladder

    def to_json(self) -> dict:
        return {"point": {k: tensor_json(v) for k, v in self.point.items()},
                "loss": self.loss.hex(), "grad_norm": self.grad_norm.hex(),
                "min_hessian_eig": self.min_hessian_eig.hex(), "min_curvature": self.min_curvature.hex(),
                "certified": self.certified, "restart_losses": [x.hex() for x in self.restart_losses],
                "iterations": self.iterations, "tolerance_reached_at": self.tolerance_reached_at,
                "rungs": [{**r, "loss": float(r["loss"]).hex()} for r in self.rungs], "climbed": self.climbed}

    @classmethod
    def from_json(cls, obj: dict, device) -> "MinimisedRow":
        """Raises KeyError, TypeError or ValueError where ``obj`` is not one (a corrupt entry)."""
        return cls(point={str(k): tensor_from(v, device) for k, v in obj["point"].items()},
                   loss=float.fromhex(obj["loss"]), grad_norm=float.fromhex(obj["grad_norm"]),
                   min_hessian_eig=float.fromhex(obj["min_hessian_eig"]),
                   min_curvature=float.fromhex(obj["min_curvature"]), certified=bool(obj["certified"]),
                   restart_losses=[float.fromhex(x) for x in obj["restart_losses"]],
                   iterations=int(obj["iterations"]), tolerance_reached_at=int(obj["tolerance_reached_at"]),
                   rungs=[{"rung": str(r["rung"]), "certified": bool(r["certified"]), "loss": float.fromhex(r["loss"])}
                          for r in obj["rungs"]], climbed=bool(obj["climbed"]))


def rows_of(result: MinimiserResult, climbed: dict[int, dict], climb: bool) -> list[MinimisedRow]:
    """The rows of a batch's ``result``; ``climbed``: per row that climbed the ladder, its rungs and the restart
    losses of the rung kept (``Pipeline``); ``climb``: whether uncertified rows were let climb."""
    rows = []
    for i in range(result.loss.shape[0]):
        rungs = climbed.get(i, {})
        certified = bool(result.certified[i])
        rows.append(MinimisedRow(
            point={k: v[i].detach().clone() for k, v in result.point.items()},
            loss=float(result.loss[i]), grad_norm=float(result.grad_norm[i]),
            min_hessian_eig=float(result.min_hessian_eig[i]), min_curvature=float(result.min_curvature[i]),
            certified=certified, restart_losses=rungs.get("restart_losses", result.restart_losses[i].tolist()),
            iterations=int(result.iterations_per_instance[i]), tolerance_reached_at=int(result.tolerance_reached_at[i]),
            rungs=rungs.get("rungs", []), climbed=climb or certified))
    return rows


def stacked(rows: list[MinimisedRow], dtype, device) -> MinimiserResult:
    """The rows as one batch's result, for judging.  Rows whose ladders kept different numbers of restarts
    have their restart losses padded with NaN (the judges do not read them; each row keeps its own)."""
    width = max(len(r.restart_losses) for r in rows)
    t = lambda values: torch.tensor(values, dtype=dtype, device=device)
    return MinimiserResult(
        point={k: torch.stack([r.point[k] for r in rows]) for k in rows[0].point},
        loss=t([r.loss for r in rows]), grad_norm=t([r.grad_norm for r in rows]),
        min_hessian_eig=t([r.min_hessian_eig for r in rows]), min_curvature=t([r.min_curvature for r in rows]),
        certified=torch.tensor([r.certified for r in rows], device=device),
        restart_losses=t([r.restart_losses + [float("nan")] * (width - len(r.restart_losses)) for r in rows]),
        iterations=max(r.iterations for r in rows),
        iterations_per_instance=torch.tensor([r.iterations for r in rows], device=device),
        tolerance_reached_at=torch.tensor([r.tolerance_reached_at for r in rows], device=device))


# ---------------------------------------------------------------- any result of per-instance tensors

def split_rows(result) -> list[dict]:
    """A dataclass of per-instance tensors (leading dim B; a field may be a dict of them) as B rows."""
    fields = vars(result)
    size = next(v for v in fields.values() if isinstance(v, torch.Tensor)).shape[0]
    return [{name: {k: t[i] for k, t in v.items()} if isinstance(v, dict) else v[i] for name, v in fields.items()}
            for i in range(size)]


def stack_rows(cls, rows: list[dict]):
    return cls(**{name: {k: torch.stack([r[name][k] for r in rows]) for k in first} if isinstance(first, dict)
                  else torch.stack([r[name] for r in rows]) for name, first in rows[0].items()})


def row_json(row: dict) -> dict:
    return {name: {"dict": {k: tensor_json(t) for k, t in v.items()}} if isinstance(v, dict) else tensor_json(v)
            for name, v in row.items()}


def row_from_json(obj: dict, device) -> dict:
    return {name: {k: tensor_from(t, device) for k, t in v["dict"].items()} if "dict" in v else tensor_from(v, device)
            for name, v in obj.items()}
