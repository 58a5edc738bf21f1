"""The linear two-latent Markovian hierarchical VAE (Section 4.2, Appendix F): objective and data.

Encoders q(z1|x) = N(W1 x, Sigma1), q(z2|z1) = N(W2 z1, Sigma2); decoders p(x|z1) = N(U1 z1, eta_dec^2 I),
p(z1|z2) = N(U2 z2, eta_dec^2 I); prior p(z2) = N(0, eta_enc^2 I); beta1 before the z1 KL term, beta2
before the z2 one.  With Z = E[x x~^T] = P_A Phi^{1/2} and V1 := W1 P_A Phi^{1/2}, the negative ELBO
is the whitened matrix objective of Section 4.2 / App. F (written once below; the constants
-beta1 d1 - beta2 d2 are dropped):

  L = (1/eta_dec^2)[ ||U1 V1 - Z||^2 + tr(U1^T U1 Sigma1) + beta1 ||(U2 W2 - I) V1||^2 + beta1 tr(U2^T U2 Sigma2)
       + beta1 tr((U2 W2 - I)^T (U2 W2 - I) Sigma1) + c^2 beta2 (||W2 V1||^2 + tr(W2^T W2 Sigma1) + tr Sigma2) ]
      - beta1 log|Sigma1| - beta2 log|Sigma2|

Theorems 3 and 5 fix Sigma1 = sigma1^2 I (sigma1 a hyperparameter); Theorem 3 learns a diagonal
Sigma2, Theorem 5 fixes Sigma2 = sigma2^2 I.  The model brings its own Hypothesis strategies
(``dimensions_strategy`` / ``instance_strategy``): the dimension orders of App. F.1 and the
hyperparameter regimes of each theorem's case split, with beta1 != beta2 drawn on purpose.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools

import numpy as np
import sympy as sp
from hypothesis import strategies as st
from sympy import Determinant, Identity, MatrixSymbol, Trace, log

from theorems.linear_vae import D0, Z, z_matrix, c, d0, eta_dec, eta_enc
from verifier.instances import Instance
from verifier.spec import Hyperparameter, Model, Variable

d1, d2 = sp.symbols("d1 d2", integer=True, positive=True)
beta1, beta2 = sp.symbols("beta1 beta2", positive=True)
sigma1, sigma2 = sp.symbols("sigma1 sigma2", positive=True)

U1, V1 = MatrixSymbol("U1", D0, d1), MatrixSymbol("V1", d1, d0)
U2, W2 = MatrixSymbol("U2", d1, d2), MatrixSymbol("W2", d2, d1)
Sigma1, Sigma2 = MatrixSymbol("Sigma1", d1, d1), MatrixSymbol("Sigma2", d2, d2)


def _sq(M):
    """||M||_F^2 as a trace."""
    return Trace(M.T * M)


_E2 = U2 * W2 - Identity(d1)      # z1 - U2 z2 = -(U2 W2 - I) z1 - U2 xi2
# Section 4.2 / App. F, for general Sigma1 and Sigma2.
OBJECTIVE = ((_sq(U1 * V1 - Z) + Trace(U1.T * U1 * Sigma1) + beta1 * _sq(_E2 * V1) + beta1 * Trace(U2.T * U2 * Sigma2)
              + beta1 * Trace(_E2.T * _E2 * Sigma1)
              + c**2 * beta2 * (_sq(W2 * V1) + Trace(W2.T * W2 * Sigma1) + Trace(Sigma2))) / eta_dec**2
             - beta1 * log(Determinant(Sigma1)) - beta2 * log(Determinant(Sigma2)))

_COMMON = (
    Hyperparameter(beta1, "weight of the z1 KL term D(q(z1|x) || p(z1|z2))"),
    Hyperparameter(beta2, "weight of the z2 KL term D(q(z2|z1) || p(z2))"),
    Hyperparameter(eta_enc, "prior std: p(z2) = N(0, eta_enc^2 I)"),
    Hyperparameter(eta_dec, "decoder std of x and of z1"),
    Hyperparameter(sigma1, "encoder std of z1: Sigma1 = sigma1^2 I (unlearnable)"),
)

# Where the case splits of Theorems 3 and 5 switch on the hyperparameters alone (no theta):
# Theorem 3 on sigma1^2 vs (beta2/beta1) eta_dec^2, Theorem 5 on sqrt(beta1) sigma1 vs sqrt(beta2) c sigma2.
SIGMA1_SPLIT_THEOREM3 = sp.sqrt(beta2 / beta1) * eta_dec
SIGMA1_SPLIT_THEOREM5 = sp.sqrt(beta2 / beta1) * c * sigma2

STANDARD_ORDER = "d0 >= d1 = d2"
# The five other orders of (d0, d1, d2) that App. F.1 treats, as (label, sympy relation).
OTHER_ORDERS = (
    ("d0 < d1 < d2", sp.And(d0 < d1, d1 < d2)),
    ("d0 < d2 <= d1", sp.And(d0 < d2, d2 <= d1)),
    ("d1 <= min(d0, d2), d1 < d2", sp.And(d1 <= d0, d1 < d2)),
    ("d2 <= d0 < d1", sp.And(d2 <= d0, d0 < d1)),
    ("d2 < d1 <= d0", sp.And(d2 < d1, d1 <= d0)),
)


def mhvae(sigma2_kind: str, *, orders: str = "standard") -> Model:
    """The two-latent MHVAE with Sigma1 = sigma1^2 I and Sigma2 'learnable' (diagonal) or 'isotropic' (sigma2^2 I).

    ``orders``: 'standard' draws d0 >= d1 = d2 (the theorems' assumption), 'other' the five other
    orders of App. F.1.
    """
    fixed = {Sigma1: sigma1**2 * Identity(d1)}
    if sigma2_kind == "learnable":
        variables = tuple(Variable(m) for m in (U1, V1, U2, W2)) + (Variable(Sigma2, "positive_diagonal"),)
        hyper, split = _COMMON, SIGMA1_SPLIT_THEOREM3
    elif sigma2_kind == "isotropic":
        fixed[Sigma2] = sigma2**2 * Identity(d2)
        variables = tuple(Variable(m) for m in (U1, V1, U2, W2))
        hyper = _COMMON + (Hyperparameter(sigma2, "encoder std of z2: Sigma2 = sigma2^2 I (unlearnable)"),)
        split = SIGMA1_SPLIT_THEOREM5
    else:
        raise ValueError(f"sigma2_kind={sigma2_kind!r}; use 'learnable' or 'isotropic'")
    if orders not in ("standard", "other"):
        raise ValueError(f"orders={orders!r}; use 'standard' or 'other'")

    def statistics(instance):
        Zm = z_matrix(instance)
        return {"Z": Zm}, {"D0": Zm.shape[0], "d0": Zm.shape[1]}

    return Model(
        name=f"two-latent linear MHVAE, Sigma1 = sigma1^2 I, {sigma2_kind} Sigma2",
        description=__doc__.strip().splitlines()[0],
        objective=OBJECTIVE.xreplace(fixed),
        equation="Section 4.2 / App. F",
        variables=variables,
        data=(Z,),
        hyperparameters=hyper,
        fixed_vectors=(),
        latent_dims=(d1, d2),
        data_dims=(D0, d0),
        statistics=statistics,
        dimensions_strategy=_standard_dimensions if orders == "standard" else _other_dimensions,
        instance_strategy=_instance_strategy(split, sigma2_kind),
    )


# --------------------------------------------------------------------------- strategies


@st.composite
def _standard_dimensions(draw, theorem, max_dim: int = 4):
    """d0 >= d1 = d2, with D0 >= d0 (D0 > d0: rank-deficient data)."""
    d = draw(st.integers(1, max(1, min(max_dim, 3))))
    dd0 = draw(st.integers(d, max(d, max_dim)))
    DD0 = draw(st.integers(dd0, dd0 + 1))
    return {"d1": d, "d2": d}, {"D0": DD0, "d0": dd0}


def _triples(relation, top: int) -> list[tuple[int, int, int]]:
    """Every (d0, d1, d2) in [1, top]^3 that satisfies ``relation``."""
    return [t for t in itertools.product(range(1, top + 1), repeat=3)
            if bool(relation.xreplace({d0: t[0], d1: t[1], d2: t[2]}))]


@st.composite
def _other_dimensions(draw, theorem, max_dim: int = 4):
    """One of the five other orders of (d0, d1, d2) of App. F.1, chosen first so that each is reached."""
    label, relation = draw(st.sampled_from(OTHER_ORDERS))
    dd0, dd1, dd2 = draw(st.sampled_from(_triples(relation, max(3, max_dim))))
    return {"d1": dd1, "d2": dd2}, {"D0": dd0 + draw(st.integers(0, 1)), "d0": dd0}


@functools.lru_cache(maxsize=None)
def _positive(lo: float = 0.3, hi: float = 3.0):
    # one strategy object per range: Hypothesis validates each new one when it is first drawn from
    return st.one_of(st.sampled_from([1.0, 0.5, 2.0]), st.floats(lo, hi))


def _instance_strategy(split: sp.Expr, sigma2_kind: str):
    """Instances whose hyperparameters sit in a chosen regime of ``split`` (the theta-free switch of the
    case split) and whose theta_i sit below / at / above each of the theorem's theta-thresholds."""
    split_fn = sp.lambdify([beta1, beta2, eta_enc, eta_dec, sigma2], split)

    @st.composite
    def draw_instance(draw, theorem, latent: dict, dims: dict):
        hyper = {"eta_enc": draw(_positive()), "eta_dec": draw(_positive())}
        b1 = draw(_positive(0.2, 4.0))
        # beta1 != beta2 on purpose (several printed forms hold only at beta1 = beta2), equal now and then
        b2 = draw(st.one_of(st.just(b1), _positive(0.2, 4.0).filter(lambda b: abs(b - b1) > 1e-3)))
        hyper.update(beta1=b1, beta2=b2)
        if sigma2_kind == "isotropic":
            hyper["sigma2"] = draw(_positive())
        at = float(split_fn(b1, b2, hyper["eta_enc"], hyper["eta_dec"], hyper.get("sigma2", 1.0)))
        regime = draw(st.sampled_from(["above", "below", "at"]))
        hyper["sigma1"] = at * {"above": draw(st.floats(1.05, 3.0)), "below": draw(st.floats(0.3, 0.95)),
                                "at": 1.0}[regime]
        thresholds = _threshold_values(tuple(theorem.thresholds), tuple(sorted(hyper.items())))
        theta = draw(_spectrum(thresholds, dims["d0"]))
        seed = draw(st.integers(0, 2**16))
        mode = draw(st.sampled_from(["spectrum", "spectrum", "X"]))
        if mode == "spectrum":
            return Instance(latent, hyper, {}, spectrum=theta, D0=dims["D0"], seed=seed)
        rng = np.random.default_rng(seed)
        N = draw(st.integers(dims["d0"], 3 * dims["D0"] + 2))
        Q = np.linalg.qr(rng.standard_normal((N, dims["d0"])))[0]
        P = np.linalg.qr(rng.standard_normal((dims["D0"], dims["d0"])))[0]
        return Instance(latent, hyper, {}, X=np.sqrt(N) * (Q * np.asarray(theta)) @ P.T, seed=seed)

    return draw_instance


@functools.lru_cache(maxsize=4096)
def _threshold_values(thresholds: tuple, hyper: tuple) -> tuple[float, ...]:
    """The theta-thresholds at these hyperparameters, ascending.  Memoised: Hypothesis draws the same
    hyperparameters again and again while it shrinks, and sympy's ``subs`` was a tenth of a search's drawing.
    ``xreplace`` gives ``subs``'s values to the bit on the registered thresholds (4500 draws of Theorems 3, 3's
    orders and 5 compared), 4-6x faster: one pass over the tree instead of one per symbol."""
    values = {sp.Symbol(k, positive=True): v for k, v in hyper}
    return tuple(sorted(float(t.xreplace(values)) for t in thresholds))


@st.composite
def _spectrum(draw, thresholds: tuple[float, ...], d0: int):
    """theta_1 >= ... >= theta_d0 > 0, each below, exactly at, or above one of the thresholds."""
    regime = draw(st.sampled_from(["all_below", "all_above", "mixed", "at", "repeated"]))
    lo, hi = thresholds[0], thresholds[-1]
    if regime == "all_below":
        theta = [lo * draw(st.floats(0.05, 0.95)) for _ in range(d0)]
    elif regime == "all_above":
        theta = [hi * draw(st.floats(1.05, 3.0)) for _ in range(d0)]
    elif regime == "repeated":
        theta = [draw(st.sampled_from(thresholds)) * draw(st.floats(0.3, 3.0))] * d0
    else:
        theta = []
        for _ in range(d0):
            t = draw(st.sampled_from(thresholds))
            theta.append(t if regime == "at" and draw(st.booleans()) else t * draw(st.floats(0.2, 2.5)))
    return tuple(sorted((max(x, 1e-3 * hi) for x in theta), reverse=True))


def with_orders(model: Model, orders: str) -> Model:
    """The same model drawing other dimension orders (see :func:`mhvae`)."""
    return dataclasses.replace(model, dimensions_strategy=_standard_dimensions if orders == "standard"
                               else _other_dimensions)
