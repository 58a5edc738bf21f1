"""Instantiate a theorem on a batch of instances: data matrices, per-index values, claimed optimum.

This is the ``instantiate`` stage: it reads a :class:`~verifier.spec.Theorem` and a list
of instances of equal dimensions and returns a :class:`Batch` of tensors; the spec is
never modified.
"""
from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp
import torch

# How sensitive the closed forms are is measured under BOUNDARY_PERTURBATION; beside a case split (more
# than EXTENDED_PRECISION_SENSITIVITY) they are evaluated with EXTENDED_DIGITS digits (the error model's).
from .error_model import (
    BOUNDARY_PERTURBATION, EXTENDED_DIGITS, EXTENDED_PRECISION_SENSITIVITY, KINK_FLOOR, KINK_PROBE_RATIO,
    KINK_SHRINK_LIMIT, TINY,
)
from .errors import InstanceError
from .lowering import evaluate
from .spec import (
    Constant, IdentityBasis, IndexWithin, LeftSingularVectors, RandomOrthogonalBasis, RightSingularVectors, SingularValues,
    SortedVector, SortingBasis, SpectrumReduction, Theorem,
)

# The optional entry of a model's statistics that reports their measured relative rounding (Model).
STATISTICS_RTOL = "statistics_rtol"


@dataclass
class Batch:
    theorem: Theorem
    instances: list
    dims: dict                      # dimension symbol -> int
    data: dict[str, torch.Tensor]   # data matrices and hyperparameters, leading dim B
    indexed: dict[sp.Symbol, torch.Tensor]   # (B, n) per-index quantities (theta_i, sigma'_i)
    closed: dict[sp.Symbol, torch.Tensor]    # (B, n) closed-form values
    claimed: dict[str, torch.Tensor]         # the claimed optimum, as the model's variables
    scale: torch.Tensor             # (B,) loss scale for relative tolerances
    sensitivity: torch.Tensor       # (B,) relative change of the closed forms under BOUNDARY_PERTURBATION
    statistics_rtol: torch.Tensor   # (B,) relative rounding of the data statistics (at least eps)

    @property
    def size(self) -> int:
        return len(self.instances)

    def env(self, point: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {**self.data, **point}


def statistics_of(theorem: Theorem, instance):
    """Validate an instance and return (data matrices, dims) as numpy arrays and ints."""
    instance.validate(theorem.model)
    mats, data_dims = theorem.model.statistics(instance)
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in instance.latent.items()}
    dims.update({sp.Symbol(k, integer=True, positive=True): v for k, v in data_dims.items()})
    return mats, dims


def group_by_dims(theorem: Theorem, instances):
    """Split instances into groups that share every dimension (one tensor batch each)."""
    groups: dict[tuple, list] = {}
    for inst in instances:
        mats, dims = statistics_of(theorem, inst)
        key = tuple(sorted((str(k), v) for k, v in dims.items()))
        groups.setdefault(key, []).append((inst, mats, dims))
    return list(groups.values())


class Decompositions:
    """The SVDs of statistics matrices, each computed once: a matrix's left and right singular vectors share
    one, and so do the instances that share one statistics object (a sweep of a hyperparameter passes one
    Decompositions to each ``instantiate``). Keyed by the matrix's identity, and holding the matrix, so that
    the key cannot be reused meanwhile; statistics matrices are never modified in place."""

    def __init__(self):
        self._done = {}

    def svd(self, matrix: np.ndarray, *, vectors: bool):
        key = (id(matrix), vectors)
        if key not in self._done:
            result = (np.linalg.svd(matrix, full_matrices=True) if vectors
                      else np.linalg.svd(matrix, compute_uv=False))
            self._done[key] = (matrix, result)
        return self._done[key][1]


def _indexed_values(source, inst, mats, n: int, decompositions: Decompositions) -> np.ndarray:
    if isinstance(source, SingularValues):
        s = decompositions.svd(mats[source.matrix], vectors=False)
        out = np.zeros(n)
        out[:min(n, len(s))] = s[:n]
        return out
    if isinstance(source, SortedVector):
        v = np.sort(np.asarray(inst.vectors[source.vector], dtype=np.float64))
        return v if source.ascending else v[::-1]
    if isinstance(source, IndexWithin):
        return (np.arange(1, n + 1) <= _dimension(source.dimension, inst, mats)).astype(np.float64)
    if isinstance(source, Constant):
        return np.full(n, float(source.value))
    if isinstance(source, SpectrumReduction):
        return np.full(n, _spectrum_reduction(source, inst, mats, decompositions))
    raise InstanceError(f"unknown per-index source {source!r}")


def _spectrum_reduction(source, inst, mats, decompositions: Decompositions) -> float:
    values = decompositions.svd(mats[source.of], vectors=False) ** source.power
    if source.after is not None:
        values = values[_dimension(source.after, inst, mats):]
    elif source.within is not None:
        values = values[:_dimension(source.within, inst, mats)]
    if source.reduce == "count":
        return float(len(values))
    if source.reduce == "sum":
        return float(values.sum())
    return float(values.mean()) if len(values) else float("nan")


def _sensitivities(theorem, hyper, indexed, closed, dims, perturbations: tuple[float, ...], dtype,
                   device) -> list[torch.Tensor]:
    """For each relative perturbation, (B,) the largest relative change of the closed forms when one per-index
    input, or one hyperparameter, moves by it (one at a time: moving all of them together can cancel).
    Every moved copy of the inputs is stacked along the batch and the closed forms evaluated once: the
    evaluation costs mostly its per-call overhead on the small batches the searches and shrinks draw."""
    # ... the hyperparameters too: a case split may switch on them alone (sigma1^2 vs (beta2/beta1)
    # eta_dec^2 in Theorem 3), and exactly there the optimum is as degenerate as at a theta-threshold.
    inputs = {**indexed, **hyper}
    moves = [(name, 1 + sign * perturbation) for perturbation in perturbations for name in inputs
             for sign in (-1.0, 1.0)]
    stacked = {name: torch.cat([value * factor if name == moved else value for moved, factor in moves])
               for name, value in inputs.items()}
    moved_forms = closed_form_values(theorem, {name: stacked[name] for name in hyper},
                                     {name: stacked[name] for name in indexed}, dims, dtype, device)
    size = next(iter(indexed.values())).shape[0]
    sens = torch.zeros(len(perturbations), size, dtype=dtype, device=device)
    for sym, here in closed.items():            # each move's change, (moves, B) -> the largest per perturbation
        change = _relative_change(here, moved_forms[sym].reshape(len(moves), size, -1))
        sens = torch.maximum(sens, change.reshape(len(perturbations), -1, size).amax(dim=1))
    return list(sens)


def _relative_change(here: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
    """Per instance, the largest change of a (B, n) closed form under a perturbation (``moved``: (..., B, n),
    one or more perturbations), relative to its largest value: (..., B).  A value undefined here (nan: a
    radicand rounded below 0) but defined next to it sits on the boundary where its branch begins: infinite
    sensitivity.  Undefined on both sides is left to the claims (a wrong closed form)."""
    ref = here.abs().nan_to_num(0.0).amax(dim=-1).clamp_min(TINY)
    change = ((moved - here).abs().nan_to_num(0.0).amax(dim=-1) / ref)
    undefined_here = (here.isnan() & moved.isfinite()).any(dim=-1)
    return torch.where(undefined_here, torch.full_like(change, float("inf")), change)


def _dimension(name: str, inst, mats) -> int:
    """A latent dimension of the instance, or a data dimension (D0, d0) from its Z."""
    if name in inst.latent:
        return int(inst.latent[name])
    if name in ("D0", "d0") and "Z" in mats:
        return int(mats["Z"].shape[0 if name == "D0" else 1])
    raise InstanceError(f"the per-index source IndexWithin({name!r}) names no dimension of the instance "
                        f"(latent: {sorted(inst.latent)})")


def _basis(source, inst, mats, dims, decompositions: Decompositions) -> np.ndarray:
    if isinstance(source, LeftSingularVectors):
        return decompositions.svd(mats[source.matrix], vectors=True)[0]
    if isinstance(source, RightSingularVectors):
        return decompositions.svd(mats[source.matrix], vectors=True)[2].T
    size = int(sp.sympify(source.size).subs(dims))
    if isinstance(source, SortingBasis):
        v = np.asarray(inst.vectors[source.vector])
        perm = np.argsort(v if source.ascending else -v, kind="stable")
        return np.eye(size)[:, perm]
    if isinstance(source, IdentityBasis):
        return np.eye(size)
    if isinstance(source, RandomOrthogonalBasis):
        rng = np.random.default_rng(zlib.crc32(f"orthogonal:{inst.seed}".encode()))
        q, r = np.linalg.qr(rng.standard_normal((size, size)))
        return q * np.sign(np.diag(r))
    raise InstanceError(f"unknown basis {source!r}")


def build_optimum(theorem: Theorem, batch_data, bases: dict[str, torch.Tensor], closed, dims, dtype, device):
    """Assemble the claimed optimum from bases and closed-form diagonals (the construction of the spec)."""
    B = next(iter(closed.values())).shape[0]
    env = dict(batch_data)
    env.update(bases)
    for diag, sym in theorem.optimum.diagonals:
        rows, cols = (int(sp.sympify(s).subs(dims)) for s in diag.shape)
        k = min(rows, cols)
        m = torch.zeros(B, rows, cols, dtype=dtype, device=device)
        idx = torch.arange(k, device=device)
        m[:, idx, idx] = closed[sym][:, :k]
        env[diag.name] = m
    point = {}
    for var, expr in theorem.optimum.construction:
        point[var.name] = evaluate(expr, env, dims, dtype=dtype, device=device)
        env[var.name] = point[var.name]
    return point


def closed_form_values(theorem: Theorem, hyper: dict, indexed: dict, dims, dtype, device) -> dict:
    env = {k: v[:, None] for k, v in hyper.items()}
    env.update({s.name: v for s, v in indexed.items()})
    shape = next(iter(indexed.values())).shape       # (B, n)
    out = {}
    for sym, expr in theorem.closed_forms:
        val = torch.as_tensor(evaluate(expr, env, dims, dtype=dtype, device=device), dtype=dtype, device=device)
        out[sym] = torch.broadcast_to(val, shape)       # a form constant in i (or in the batch) still fills (B, n)
    return out


def extended_precision_closed_form_values(theorem: Theorem, hyper: dict, indexed: dict, dims, closed: dict,
                                           rows) -> dict:
    """``closed`` with the given instances' rows evaluated with EXTENDED_DIGITS significant digits (mpmath):
    every input, a float, is taken as the exact binary number it is, so each case split is decided on the
    inputs as given and every form lands on the same side of it (a tie within 10^-EXTENDED_DIGITS can still
    go either way, moving a value by ~10^-(EXTENDED_DIGITS/2): far below float64). The values are then
    rounded once. Undefined (non-real) values are nan, as in float evaluation."""
    by_name = {str(k): int(v) for k, v in dims.items()}
    forms = _mpmath_forms(tuple(theorem.closed_forms))
    out = {sym: v.clone() for sym, v in closed.items()}
    n = next(iter(indexed.values())).shape[1]
    with mpmath.workdps(EXTENDED_DIGITS):
        for b in rows:
            scalars = {**by_name, **{name: mpmath.mpf(float(v[b])) for name, v in hyper.items()}}
            for i in range(n):
                values = {**scalars, **{s.name: mpmath.mpf(float(v[b, i])) for s, v in indexed.items()}}
                for sym, names, form in forms:
                    out[sym][b, i] = _real_or_nan(form, [values[name] for name in names])
    return out


@functools.lru_cache(maxsize=None)
def _mpmath_forms(closed_forms: tuple) -> list:
    forms = []
    for sym, expr in closed_forms:
        args = sorted(sp.sympify(expr).free_symbols, key=lambda a: a.name)
        forms.append((sym, [a.name for a in args], sp.lambdify(args, expr, modules="mpmath")))
    return forms


def _real_or_nan(form, args) -> float:
    try:
        value = mpmath.mpmathify(form(*args))
    except (ZeroDivisionError, ValueError, TypeError):     # a pole, or not a number
        return float("nan")
    if isinstance(value, mpmath.mpc):
        return float(value.real) if value.imag == 0 else float("nan")
    return float(value)


def per_index_inputs(theorem: Theorem, group, *, dtype=torch.float64, device="cpu",
                     decompositions: Decompositions | None = None) -> dict[sp.Symbol, torch.Tensor]:
    """The per-index inputs of the closed forms (theta_i, sigma'_i: symbol -> (B, n)) for one group of
    (instance, statistics, dims) of equal dimensions: ``instantiate``'s, without the rest of its work (for what
    needs only the closed forms' values, such as a sweep of a hyperparameter, which they do not depend on)."""
    dims = group[0][2]
    n = int(sp.sympify(theorem.index_size).subs(dims))
    decompositions = decompositions or Decompositions()
    return {s: torch.as_tensor(np.asarray([_indexed_values(src, g[0], g[1], n, decompositions) for g in group]),
                               dtype=dtype, device=device)
            for s, src in theorem.indexed}


def instantiate(theorem: Theorem, group, *, dtype=torch.float64, device="cpu",
                basis_override: dict | None = None, decompositions: Decompositions | None = None) -> Batch:
    """Build a :class:`Batch` from one group of (instance, statistics, dims) of equal dimensions;
    ``decompositions``: SVDs already computed of these statistics (by default each is computed here)."""
    instances = [g[0] for g in group]
    dims = group[0][2]
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype, device=device)
    data = {m.name: t([g[1][m.name] for g in group]) for m in theorem.model.data}
    hyper = {h.symbol.name: t([inst.hyper[h.symbol.name] for inst in instances])
             for h in theorem.model.hyperparameters}
    data.update(hyper)
    decompositions = decompositions or Decompositions()
    indexed = per_index_inputs(theorem, group, dtype=dtype, device=device, decompositions=decompositions)
    closed = closed_form_values(theorem, hyper, indexed, dims, dtype, device)
    bases_src = dict(theorem.optimum.bases)
    if basis_override:
        bases_src.update(basis_override)
    bases = {b.name: t([_basis(src, g[0], g[1], dims, decompositions) for g in group])
             for b, src in bases_src.items()}
    sens, fine = _sensitivities(theorem, hyper, indexed, closed, dims,
                                (BOUNDARY_PERTURBATION, BOUNDARY_PERTURBATION / KINK_PROBE_RATIO), dtype, device)
    kink = (sens > KINK_FLOOR) & (fine * KINK_SHRINK_LIMIT > sens)       # not Lipschitz: on a threshold
    sens = torch.where(kink, torch.full_like(sens, float("inf")), sens)
    # Near a case split float64 can round one closed form onto the far side of it and not another
    # (max(0, theta^2 - beta eta^2) > 0 while theta > sqrt(beta) eta is False): a claimed point made of
    # two branches, not stationary by ~sqrt(eps). There the forms are evaluated in extended precision.
    near_split = (sens > EXTENDED_PRECISION_SENSITIVITY).nonzero().flatten().tolist()
    if near_split:
        closed = extended_precision_closed_form_values(theorem, hyper, indexed, dims, closed, near_split)
    claimed = build_optimum(theorem, data, bases, closed, dims, dtype, device)

    # Loss scale: the size of the data term, ||Z||_F^2 / eta_dec^2 and the like, plus |L*|.
    L_claimed = evaluate(theorem.model.objective, {**data, **claimed}, dims, dtype=dtype, device=device)
    data_norm = sum((data[m.name] ** 2).sum(dim=(-2, -1)) for m in theorem.model.data if m.name != "Sigma")
    eta = hyper.get("eta_dec", torch.ones_like(L_claimed))
    # A closed form that is undefined on an instance (nan) is the claims' business, not the scale's:
    # the minimiser must still start from, and be judged against, the data's own size.
    scale = L_claimed.abs().nan_to_num(0.0, posinf=0.0) + data_norm / eta**2

    eps = torch.finfo(dtype).eps
    stats_rtol = t([max(float(g[1].get(STATISTICS_RTOL, 0.0)), eps) for g in group])
    return Batch(theorem, instances, dims, data, indexed, closed, claimed, scale, sens, stats_rtol)
