"""Hypothesis strategies for instances of a theorem.

Composable values, as Hypothesis intends: ``instances(theorem)`` draws one instance,
``instance_batches(theorem)`` a list of instances that share their dimensions (one
tensor batch; Hypothesis shrinks a failing batch down to its single smallest
instance).  Edge cases are drawn on purpose: d1 > D0, rank-deficient data, repeated
and isotropic sigma_i, repeated theta_i, theta_i exactly at its threshold, all
indices below or above their thresholds, beta < 1 and > 1.

The parts are public values.  A model (``spec.Model``'s ``*_strategy`` hooks) or a theorem
(``Theorem.replace_strategies(data=...)``) replaces one part and keeps the others:

* ``dimensions(theorem, max_dim)`` -- (latent, data) dimension dicts (hook ``dimensions_strategy``);
* ``hyperparameters(theorem)`` -- every hyperparameter, each by ``positive`` (hook ``hyperparameters_strategy``);
* ``fixed_vectors(theorem, latent)`` -- the model's fixed vectors (sigma_i), distinct, isotropic or repeated
  (hook ``vectors_strategy``);
* ``instance_data(theorem, dims, hyper, vectors, latent)`` -- ``{"spectrum", "D0"}`` or ``{"X"}``, aimed at
  the theorem's first threshold (hook ``data_strategy``);
* ``instance_from_parts(theorem, latent, dims)`` -- the instance assembled from the four (hook
  ``instance_strategy`` replaces it whole, for data the parts cannot express: paired (x, y), two latents);
* ``spectra(thresholds, d0)`` -- theta_1 >= ... >= theta_d0 in a regime relative to given thresholds;
* ``threshold_values(theorem, hyper, vectors, n)`` -- the first threshold per index (a plain function);
* ``positive`` -- a hyperparameter value; ``model_strategies(theorem)`` -- the model's own (or default)
  dimension and instance strategies.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from .errors import SpecError
from .instances import Instance
from .spec import Constant, SortedVector, Theorem

positive = st.one_of(st.sampled_from([1.0, 0.5, 2.0]), st.floats(0.2, 5.0))


def threshold_values(theorem: Theorem, hyper: dict, vectors: dict, n: int) -> np.ndarray:
    """The theorem's first threshold (``theorem.thresholds[0]``) per index 0..n-1 at these hyperparameters,
    with the per-index quantities other than theta (a sorted fixed vector, a constant) filled in.  A theorem
    without thresholds (no case split to aim at) has its spectra drawn round the data's unit, 1."""
    if not theorem.thresholds:
        return np.ones(n)
    subs = {h.symbol: hyper[h.symbol.name] for h in theorem.model.hyperparameters}
    per_index = {}
    for sym, src in theorem.indexed:
        if isinstance(src, SortedVector):
            v = np.sort(np.asarray(vectors[src.vector]))
            per_index[sym] = v if src.ascending else v[::-1]
        elif isinstance(src, Constant):
            per_index[sym] = np.full(n, float(src.value))
    out = np.zeros(n)
    expr = theorem.thresholds[0]
    unknown = expr.free_symbols - set(subs) - set(per_index)
    if unknown:
        raise SpecError(f"{theorem.name}: the first threshold {expr} uses {sorted(map(str, unknown))}, whose values "
                        f"exist only once the data are drawn; write it in the hyperparameters and fixed vectors "
                        f"(a threshold the data define, as a mean of discarded eigenvalues: thresholds=(sp.Integer(1),), "
                        f"the data's unit, or thresholds=()), or give the model its own data_strategy")
    at_hyper = expr.subs(subs)          # the same for every index: substituted once
    for i in range(n):
        out[i] = float(at_hyper.subs({s: float(v[i]) for s, v in per_index.items()}))
    return out


@st.composite
def fixed_vectors(draw, theorem: Theorem, latent: dict):
    """A dict of the model's fixed vectors (name -> tuple of the latent dimension's length), each in one
    shape: distinct, isotropic (all equal) or repeated values."""
    vectors = {}
    for fv in theorem.model.fixed_vectors:
        n = latent[str(fv.length)]
        shape = draw(st.sampled_from(["distinct", "isotropic", "repeated"]))
        if shape == "isotropic":
            vectors[fv.name] = (draw(positive),) * n
        elif shape == "repeated" and n > 1:
            pool = draw(st.lists(positive, min_size=1, max_size=n - 1))
            vectors[fv.name] = tuple(draw(st.sampled_from(pool)) for _ in range(n))
        else:
            vectors[fv.name] = tuple(draw(st.lists(st.floats(0.2, 3.0), min_size=n, max_size=n, unique=True)))
    return vectors


@st.composite
def spectra(draw, thresholds: np.ndarray, d0: int):
    """A tuple theta_1 >= ... >= theta_d0 placed relative to ``thresholds`` (one per index), in a chosen
    regime: all below, just above, above, mixed, repeated, or exactly at one threshold."""
    t = thresholds[:d0] if len(thresholds) >= d0 else np.concatenate([thresholds, np.full(d0 - len(thresholds), thresholds[-1])])
    lo, hi = float(t.min()), float(t.max())
    regime = draw(st.sampled_from(["below", "just_above", "above", "mixed", "at_threshold", "repeated"]))
    u = lambda a, b: draw(st.floats(a, b))
    if regime == "below":
        theta = [lo * u(0.05, 0.95) for _ in range(d0)]
    elif regime == "just_above":     # active, but within a factor 1.5 of the threshold
        theta = [float(t[i]) * u(1.0, 1.5) for i in range(d0)]
    elif regime == "above":
        theta = [hi * u(1.05, 4.0) for _ in range(d0)]
    elif regime == "mixed":
        theta = [float(t[i]) * u(0.1, 3.0) for i in range(d0)]
    elif regime == "repeated":
        value = float(t[0]) * u(0.3, 3.0)
        theta = [value] * d0
    else:
        k = draw(st.integers(0, d0 - 1))
        theta = [float(t[k])] * d0
        for i in range(k):
            theta[i] = float(t[k]) * u(1.0, 3.0)
        for i in range(k + 1, d0):
            theta[i] = float(t[k]) * u(0.0, 1.0)
    theta = sorted(theta, reverse=True)
    if regime == "at_threshold":
        return tuple(theta)
    return tuple(max(x, 1e-3 * max(hi, 1e-12)) for x in theta)


@st.composite
def instance_data(draw, theorem: Theorem, dims: dict, hyper: dict, vectors: dict, latent: dict):
    """An instance's data: ``{"spectrum": theta, "D0": D0}``, or ``{"X": X}`` (N x D0, rank d0) whose Z has
    the spectrum theta, or a random rank-d0 X; theta is drawn by ``spectra`` against ``threshold_values``."""
    D0, d0 = dims["D0"], dims["d0"]
    n = latent[str(theorem.index_size)]
    mode = draw(st.sampled_from(["spectrum", "spectrum", "X_from_spectrum", "X_random"]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    if mode == "X_random":
        N = draw(st.integers(d0, 3 * D0 + 2))
        X = rng.standard_normal((N, d0)) @ rng.standard_normal((d0, D0)) * draw(st.floats(0.1, 3.0))
        return {"X": X}
    thresholds = threshold_values(theorem, hyper, vectors, n)
    theta = draw(spectra(thresholds, d0))
    if mode == "spectrum":
        return {"spectrum": theta, "D0": D0}
    N = draw(st.integers(d0, 3 * D0 + 2))
    Q = np.linalg.qr(rng.standard_normal((N, d0)))[0]
    P = np.linalg.qr(rng.standard_normal((D0, d0)))[0]
    return {"X": np.sqrt(N) * (Q * np.asarray(theta)) @ P.T}


@st.composite
def dimensions(draw, theorem: Theorem, max_dim: int = 4):
    latent = {str(d): draw(st.integers(1, max_dim)) for d in theorem.model.latent_dims}
    D0 = draw(st.integers(1, max_dim + 1))
    d0 = draw(st.integers(1, D0))
    return latent, {"D0": D0, "d0": d0}


def _each_hyperparameter(draw, theorem: Theorem) -> dict:
    return {h.symbol.name: draw(positive) for h in theorem.model.hyperparameters}


@st.composite
def hyperparameters(draw, theorem: Theorem):
    """Every hyperparameter of the model, each drawn by ``positive``."""
    return _each_hyperparameter(draw, theorem)


@st.composite
def instance_from_parts(draw, theorem: Theorem, latent: dict, dims: dict):
    """An instance of the given dimensions, from its parts: the model's own ``hyperparameters_strategy``,
    ``vectors_strategy`` and ``data_strategy`` where it has them (``spec.Model``), else ``hyperparameters``,
    ``fixed_vectors`` and ``instance_data``; then the seed of the minimiser's restarts."""
    model = theorem.model
    # the default drawn inline: a strategy of its own would change what a seed draws for the shipped models
    hyper = (draw(model.hyperparameters_strategy(theorem)) if model.hyperparameters_strategy
             else _each_hyperparameter(draw, theorem))
    vectors = draw((model.vectors_strategy or fixed_vectors)(theorem, latent))
    data = draw((model.data_strategy or instance_data)(theorem, dims, hyper, vectors, latent))
    seed = draw(st.integers(0, 2**16))
    if "X" in data:
        return Instance(latent, hyper, vectors, X=data["X"], seed=seed)
    return Instance(latent, hyper, vectors, spectrum=data["spectrum"], D0=data["D0"], seed=seed)


def model_strategies(theorem: Theorem):
    """(dimension strategy, instance strategy): the model's own where it has them, else ``dimensions`` and
    ``instance_from_parts`` (which takes the model's own parts where it has them); either way only instances
    inside the model's validity domain (``Model.domain``)."""
    model = theorem.model
    dims = model.dimensions_strategy or dimensions
    inst = model.instance_strategy or instance_from_parts
    if model.domain is sp.true:
        return dims, inst
    inside = lambda theorem, max_dim: dims(theorem, max_dim).filter(lambda ld: model.may_admit({**ld[0], **ld[1]}))
    return inside, lambda theorem, latent, data_dims: inst(theorem, latent, data_dims).filter(model.admits)


def instances(theorem: Theorem, max_dim: int = 4) -> st.SearchStrategy[Instance]:
    """One instance of ``theorem`` with dimensions up to ``max_dim``."""
    dims, inst = model_strategies(theorem)
    return dims(theorem, max_dim).flatmap(lambda ld: inst(theorem, *ld))


def instance_batches(theorem: Theorem, max_batch: int = 8, max_dim: int = 4,
                     dimensions=None) -> st.SearchStrategy[list[Instance]]:
    """Lists of 1..max_batch instances sharing their dimensions; with ``dimensions`` (a sympy relation
    of the dimension symbols, as in ``Restricted``) only dimensions that satisfy it, so that a claim
    made for one order of the dimensions is searched there rather than skipped."""
    dims, inst = model_strategies(theorem)
    drawn = dims(theorem, max_dim)
    if dimensions is not None and dimensions is not sp.true:
        from .judge import dimensions_hold
        drawn = drawn.filter(lambda ld: dimensions_hold(dimensions, {**ld[0], **ld[1]}))
    return drawn.flatmap(lambda ld: st.lists(inst(theorem, *ld), min_size=1, max_size=max_batch))
