"""Closed-form predictions for a data set, through a theorem spec (nothing is retyped here).

The data set becomes an :class:`~verifier.instances.Instance` (``X``, and ``Y`` for the CVAE);
the engine's own ``instantiate`` stage computes the per-index quantities (theta_i from the
data's statistics), evaluates the spec's sympy closed forms and assembles the claimed optimum.
Because the training loss averages over the same rows, its minimiser is exactly this optimum:
what separates a trained model from it is finite training and the sampling noise of SGD.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import sympy as sp
import torch

from ..batch import Decompositions, group_by_dims, instantiate
from ..instances import Instance
from ..lowering import evaluate
from ..loader import load_spec
from ..spec import Theorem


@dataclass
class Prediction:
    theorem: str
    indexed: dict[str, np.ndarray]        # theta_i, sigma'_i, ...
    closed: dict[str, np.ndarray]         # omega_i*, lambda_i*, ...
    thresholds: list[np.ndarray]          # each printed threshold, per index
    optimum: dict[str, np.ndarray]        # the claimed minimiser, as the model's matrices
    data: dict[str, np.ndarray]           # the data matrices of the objective (Z, Sigma, ...)
    hyper: dict[str, float]
    dims: dict[str, int]
    loss: float                           # the objective at the claimed optimum

    def to_json(self) -> dict:
        return {"theorem": self.theorem, "loss": self.loss,
                "indexed": {k: v.tolist() for k, v in self.indexed.items()},
                "closed_forms": {k: v.tolist() for k, v in self.closed.items()},
                "thresholds": [t.tolist() for t in self.thresholds]}


def available(name: str) -> Theorem | None:
    """The registered spec ``name``, or None when it is not (yet) part of the project."""
    from ..loader import registry
    if name not in registry():
        return None
    try:
        return load_spec(name)
    except ImportError:        # registered while its module is still being written
        return None


def predict(theorem: Theorem, instance: Instance) -> Prediction:
    (group,) = group_by_dims(theorem, [instance])
    return _prediction(theorem, instantiate(theorem, group))


def predict_over(theorem: Theorem, instance: Instance, hyper_name: str, values) -> list[Prediction]:
    """``predict`` at each of ``values`` of the hyperparameter ``hyper_name``, the data's statistics and their
    SVDs computed once: they are a function of the data, the latent dimensions and the fixed vectors, never of a
    hyperparameter (``Model.statistics``). Each prediction is ``predict``'s, bit for bit (tested)."""
    if hyper_name not in instance.hyper:
        raise KeyError(f"{theorem.name} has no hyperparameter {hyper_name!r}; it has {sorted(instance.hyper)}")
    (((_, mats, dims),),) = group_by_dims(theorem, [instance])
    decompositions = Decompositions()
    out = []
    for value in values:        # one at a time: a batched matrix product may round otherwise than predict's
        moved = replace(instance, hyper={**instance.hyper, hyper_name: float(value)}).validate(theorem.model)
        out.append(_prediction(theorem, instantiate(theorem, [(moved, mats, dims)], decompositions=decompositions)))
    return out


def _prediction(theorem: Theorem, batch) -> Prediction:
    """The one instance of an instantiated batch as a Prediction."""
    hyper = {h.symbol.name: batch.data[h.symbol.name][:, None] for h in theorem.model.hyperparameters}
    env = {**hyper, **{s.name: v for s, v in batch.indexed.items()}}
    shape = next(iter(batch.indexed.values())).shape
    thresholds = [torch.broadcast_to(torch.as_tensor(evaluate(t, env, batch.dims), dtype=torch.float64), shape)[0]
                  .numpy() for t in theorem.thresholds]
    loss = evaluate(theorem.model.objective, {**batch.data, **batch.claimed}, batch.dims)
    return Prediction(
        theorem=theorem.name,
        indexed={s.name: v[0].numpy() for s, v in batch.indexed.items()},
        closed={s.name: v[0].numpy() for s, v in batch.closed.items()},
        thresholds=thresholds,
        optimum={k: v[0].numpy() for k, v in batch.claimed.items()},
        data={m.name: batch.data[m.name][0].numpy() for m in theorem.model.data},
        hyper={h.symbol.name: float(batch.data[h.symbol.name][0]) for h in theorem.model.hyperparameters},
        dims={str(k): v for k, v in batch.dims.items()},
        loss=float(loss[0]),
    )


def expression_at(prediction: Prediction, expr: sp.Expr, point: dict[str, np.ndarray]) -> np.ndarray:
    """A sympy (matrix) expression of the model's variables, data and hyperparameters, evaluated at
    ``point`` with the prediction's data and hyperparameters."""
    env = {k: torch.as_tensor(v, dtype=torch.float64)[None] for k, v in {**prediction.data, **point}.items()}
    env.update({k: torch.tensor([v], dtype=torch.float64) for k, v in prediction.hyper.items()})
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in prediction.dims.items()}
    return torch.as_tensor(evaluate(expr, env, dims))[0].numpy()


def objective(theorem: Theorem, prediction: Prediction, point: dict[str, np.ndarray]) -> float:
    """The spec's matrix objective at ``point`` (the model's variables), with the prediction's data
    and hyperparameters: the exact expected loss of a trained model, without sampling noise."""
    return float(expression_at(prediction, theorem.model.objective, point))


def closed_forms_at(theorem: Theorem, prediction: Prediction, hyper_name: str, values) -> dict[str, np.ndarray]:
    """The spec's closed forms with hyperparameter ``hyper_name`` set to each of ``values`` (M,),
    the data and the other hyperparameters as in ``prediction``: name -> (M, n)."""
    values = torch.as_tensor(np.asarray(values, dtype=np.float64))[:, None]
    if hyper_name not in prediction.hyper:
        raise KeyError(f"{theorem.name} has no hyperparameter {hyper_name!r}; it has {sorted(prediction.hyper)}")
    env = {k: (values if k == hyper_name else v) for k, v in prediction.hyper.items()}
    env.update({k: torch.as_tensor(v)[None, :] for k, v in prediction.indexed.items()})
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in prediction.dims.items()}
    shape = (values.shape[0], len(next(iter(prediction.indexed.values()))))
    return {s.name: torch.broadcast_to(torch.as_tensor(evaluate(e, env, dims), dtype=torch.float64), shape).numpy()
            for s, e in theorem.closed_forms}


def collapse_point(theorem: Theorem, prediction: Prediction, hyper_name: str, quantity: str,
                   lo: float, hi: float, *, iterations: int = 60) -> np.ndarray:
    """For each index i, the value h of ``hyper_name`` in [lo, hi] past which the closed form
    ``quantity``_i is 0, by bisection on the spec's closed form (the swept hyperparameter enters
    the closed forms only, not the per-index data).  NaN where index i is already 0 at ``lo``;
    ``hi`` where it is still positive at ``hi``.  Assumes, as the theorems state, that a larger
    h only collapses more."""
    def positive(h: np.ndarray) -> np.ndarray:       # h: (n,) one trial value per index
        return np.diagonal(closed_forms_at(theorem, prediction, hyper_name, h)[quantity]) > 0

    n = len(next(iter(prediction.indexed.values())))
    a, b = np.full(n, float(lo)), np.full(n, float(hi))
    at_lo, at_hi = positive(a), positive(b)
    for _ in range(iterations):
        mid = 0.5 * (a + b)
        on = positive(mid)
        a, b = np.where(on, mid, a), np.where(on, b, mid)
    out = 0.5 * (a + b)
    out[~at_lo] = np.nan
    out[at_hi] = hi
    return out
