"""A new theorem on the CVAE model: the linear conditional VAE with an unlearnable diagonal Sigma.

Section 4.1 and Table 1 say that an unlearnable encoder variance prevents collapse in the CVAE, but
the paper states no theorem for it.  This spec states one, derived here (not printed), and checks it.

Derivation.  Fix Sigma = diag(sigma_1^2, ..., sigma_d1^2) in the whitened objective of App. E (see
theorems/cvae.py).  As in App. E, (34)-(36), Sigma plays no part in eliminating T2 and V1: the minimum over
T2 is at T2 = -U1 V1 - (U1 V2 - D) Z^T (the x-part absorbs what x explains of y) and over V1 at V1 = -V2 Z^T,
so T2* = D Z^T.
What is left, with K = I - Z^T Z, V := V2 K^{1/2} and G := D K^{1/2} (so G G^T = E), is

    (1/eta_dec^2)[ ||U1 V - G||_F^2 + tr(U1^T U1 Sigma) + beta c^2 ||V||_F^2 + beta c^2 tr Sigma ] - beta log|Sigma|,

which is the linear VAE's objective (10) with Z replaced by G.  The singular values of G are the
square roots of the eigenvalues theta_i of E, so Theorem 1 applies with theta_i -> sqrt(theta_i):

    U1* = P Omega T^T, (V2* K^{1/2}) = T Lambda Q^T, T sorting sigma non-decreasingly, and per index
    omega_i* = sqrt(max(0, sqrt(beta) c / sigma'_i (sqrt(theta_i) - sqrt(beta) c sigma'_i)))
    lambda_i* = sqrt(max(0, sigma'_i / (sqrt(beta) c) (sqrt(theta_i) - sqrt(beta) c sigma'_i)))

paired as Theorem 1 pairs them: the largest theta_i with the smallest sigma'_i (the other pairing
is a mutant the tests refute).  Index i is active iff theta_i > beta c^2 sigma'_i^2; the learnable-Sigma
CVAE (Theorem 2) has it active iff theta_i > beta eta_dec^2.  So with every sigma_i <= eta_enc the
fixed-Sigma CVAE collapses no more latent dimensions than the learnable one on the same data; with
sigma_i > eta_enc it may collapse more (verifier/experiments/cvae_fixed_vs_learnable.py measures both).
"""
import dataclasses

import numpy as np
import sympy as sp
from hypothesis import strategies as st
from sympy import Identity, Inverse, MatrixSymbol

from theorems import cvae
from theorems.cvae import D, E_EXPR, MEAN_SECOND_MOMENT, Sigma, T2, U1, V1, V2, Z, d1, d2
from theorems.linear_vae import beta, c, omega, sigma_p, theta
from theorems.theorem2_cvae_learnable_sigma import lambda2
from verifier.data_form import DataForm
from verifier.instances import Instance
from verifier.spec import (
    AllDistinct, AllEqual, AlternativeOptimum, ClosedFormSpectrum, DataFormAgreement, FixedVector,
    GlobalMinimum, Implication, LeftSingularVectors, MatrixRelation, OnData, Optimum, PartialRank,
    RankCount, Reduction, RelationAtPrecision, SingularValues, SortedVector,
    SortingBasis, Theorem, VanishingCoordinates, Variable, ZeroLines,
)
from verifier.strategies import fixed_vectors   # the engine's sigma shapes: distinct/isotropic/repeated

# --------------------------------------------------------------------------- the model with Sigma fixed

SIGMA_VECTOR = FixedVector("sigma", d1, "encoder std sigma_i: Sigma = diag(sigma_1^2, ..., sigma_d1^2)")


def _statistics(instance):
    mats, dims = cvae.statistics(instance)
    mats["Sigma"] = np.diag(np.asarray(instance.vectors["sigma"], dtype=np.float64) ** 2)
    return mats, dims


def _raw(instance):
    raw = cvae.DATA_FORM.raw(instance)
    if raw is not None:
        raw["Sigma"] = np.diag(np.asarray(instance.vectors["sigma"], dtype=np.float64) ** 2)
    return raw


def _fixed_data_loss(data, p):
    """(5) with Sigma the instance's diag(sigma^2) rather than a parameter."""
    return cvae.data_loss(data, {**p, "Sigma": data["Sigma"]})


def _fixed_whiten(data, p):
    return {k: v for k, v in cvae.DATA_FORM.whiten(data, {**p, "Sigma": data["Sigma"]}).items() if k != "Sigma"}


_W1, _W2, _U2 = cvae.W1d, cvae.W2d, cvae.U2d
DATA_FORM = DataForm(equation="(5)", parameters=tuple(Variable(m) for m in (U1, _W1, _W2, _U2)),
                     raw=_raw, loss=_fixed_data_loss, whiten=_fixed_whiten,
                     constant=cvae.DATA_FORM.constant)


@st.composite
def _instances(draw, theorem, latent: dict, dims: dict):
    """CVAE pairs whose theta_i sit below / at / above their own thresholds beta c^2 sigma'_i^2 (as in
    cvae.instances_with, which aims at Theorem 2's single threshold), or any of cvae's other data modes."""
    vectors = draw(fixed_vectors(theorem, latent))
    mode = draw(st.sampled_from(["threshold", "threshold", "threshold", "other"]))
    if mode == "other":
        base = draw(cvae.instances_with(theorem, latent, dims))
        return dataclasses.replace(base, vectors=vectors)
    hyper = {h.symbol.name: draw(cvae.positive) for h in theorem.model.hyperparameters}
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    d2_ = dims["d2"]
    sig = np.sort(np.asarray(vectors["sigma"]))
    thr = [hyper["beta"] * (hyper["eta_dec"] / hyper["eta_enc"]) ** 2 * sig[min(i, len(sig) - 1)] ** 2
           for i in range(d2_)]
    regime = draw(st.sampled_from(["below", "at", "above", "mixed"]))
    if regime == "at":      # theta_k exactly at its threshold, the larger ones above theirs, the rest below
        k = draw(st.integers(0, min(d2_, len(sig)) - 1))
        theta_ = [thr[k] * draw(st.floats(1.2, 3.0)) for _ in range(k)] + [thr[k]]
        theta_ += [thr[k] * draw(st.floats(0.1, 0.9)) for _ in range(d2_ - k - 1)]
    else:
        lo, hi = {"below": (0.05, 0.95), "above": (1.05, 4.0), "mixed": (0.1, 3.0)}[regime]
        theta_ = [t * draw(st.floats(lo, hi)) for t in thr]
    theta_ = sorted(theta_, reverse=True)
    rho = cvae.correlations(draw, min(dims["d0"], d2_))
    psi = [t / (1 - rho[k] ** 2) if k < len(rho) else t for k, t in enumerate(theta_)]
    phi = [draw(st.floats(0.1, 4.0)) for _ in range(dims["d0"])]
    N = draw(st.integers(dims["d0"] + d2_, dims["d0"] + d2_ + 3))
    X, Y = cvae.canonical_pair(rng, N, phi, psi, rho, dims["D0"], dims["D2"])
    return Instance(dict(latent), hyper, vectors, X=X, Y=Y, seed=draw(st.integers(0, 2**16)))


def conditional_vae_fixed_sigma():
    """The CVAE of theorems/cvae.py with Sigma = diag(sigma_i^2) a datum rather than a variable."""
    base = cvae.conditional_vae()
    return dataclasses.replace(
        base, name="linear conditional VAE, unlearnable diagonal Sigma",
        variables=tuple(v for v in base.variables if v.symbol != Sigma), data=base.data + (Sigma,),
        fixed_vectors=(SIGMA_VECTOR,), statistics=_statistics, instance_strategy=_instances, data_form=DATA_FORM)


# --------------------------------------------------------------------------- the theorem

# Theorem 1's threshold with theta -> sqrt(theta_i): index i is active iff sqrt(theta_i) > sqrt(beta) c sigma'_i.
threshold = beta * c**2 * sigma_p**2                 # on theta_i itself (the thresholds aim instances here)
root_gap = sp.sqrt(theta) - sp.sqrt(beta) * c * sigma_p
active = sp.StrictGreaterThan(theta, threshold)

omega_star = sp.sqrt(sp.Max(0, sp.sqrt(beta) * c / sigma_p * root_gap))
lambda2_star = sp.sqrt(sp.Max(0, sigma_p / (sp.sqrt(beta) * c) * root_gap))

M_inv = Inverse(U1.T * U1 + beta * c**2 * Identity(d1))
K2 = Identity(d2) - Z.T * Z
P = MatrixSymbol("P", D.shape[0], D.shape[0])           # eigenvectors of E
T = MatrixSymbol("T", d1, d1)                            # sorts sigma non-decreasingly
Omega = MatrixSymbol("Omega", D.shape[0], d1)


def _x_equals_y(instance) -> bool:
    return instance.Y is not None and np.shape(instance.X) == np.shape(instance.Y) and np.array_equal(instance.X, instance.Y)


THEOREM = Theorem(
    name="variant_cvae_fixed_sigma",
    title="Linear conditional VAE with unlearnable diagonal encoder variance (derived, not in the paper)",
    source="new: App. E's reduction (34)-(36) with Sigma fixed, then Theorem 1 with theta_i -> sqrt(theta_i)",
    model=conditional_vae_fixed_sigma(),
    index_size=d1,
    indexed=((theta, SingularValues("E")), (sigma_p, SortedVector("sigma", ascending=True))),
    closed_forms=((omega, omega_star), (lambda2, lambda2_star)),
    thresholds=(threshold,),
    optimum=Optimum(
        bases=((P, LeftSingularVectors("E")), (T, SortingBasis("sigma", d1, ascending=True))),
        diagonals=((Omega, omega),),
        construction=((U1, P * Omega * T.T), (V2, M_inv * U1.T * D), (V1, -V2 * Z.T), (T2, D * Z.T)),
    ),
    # Per index (Z = 0, D = sqrt(theta)): (omega lambda2 - sqrt(theta))^2 + sigma'^2 omega^2 + beta c^2 lambda2^2 + ...
    reduction=Reduction(
        matrices=(("U1", omega), ("V1", 0), ("V2", lambda2), ("T2", 0), ("Z", 0), ("D", sp.sqrt(theta)),
                  ("Sigma", sigma_p**2)),
        variables=(omega, lambda2),
        equation="App. E (32) with Sigma fixed, one index",
    ),
    claims=(
        GlobalMinimum("optimum", "derived",
                      "U1* = P Omega T^T, V2* = (U1*^T U1* + beta c^2 I)^{-1} U1*^T P_B Psi^{1/2}, V1* = -V2* Z^T, "
                      "U2* P_A Phi^{1/2} = P_B Psi^{1/2} Z^T minimise L_CVAE with Sigma = diag(sigma_i^2) fixed"),
        ClosedFormSpectrum("omega", "derived (Theorem 1's (4) with theta -> sqrt(theta))",
                           "omega_i* = sqrt(max(0, sqrt(beta) c/sigma'_i (sqrt(theta_i) - sqrt(beta) c sigma'_i))), "
                           "sigma' sorted non-decreasingly, theta_i (eigenvalues of E) non-increasingly",
                           quantity=omega, measured=("singular_values", "U1")),
        RelationAtPrecision("U2_relation", "(7)", "U2* P_A Phi^{1/2} = P_B Psi^{1/2} Z^T, as with learnable Sigma",
                            residual=T2 - D * Z.T),
        RelationAtPrecision("W2_relation", "(7)",
                            "W2* P_B Psi^{1/2} (I - Z^T Z) = (U1*^T U1* + beta c^2 I)^{-1} U1*^T P_B Psi^{1/2} (I - Z^T Z)",
                            residual=V2 * K2 - M_inv * U1.T * D * K2),
        RelationAtPrecision("W1_relation", "(7)", "W1* P_A Phi^{1/2} = -W2* P_B Psi^{1/2} Z^T", residual=V1 + V2 * Z.T),
        RelationAtPrecision("left_singular_vectors", "derived",
                            "U1* = P Omega T^T with P the eigenvectors of E: U1* U1*^T commutes with E",
                            residual=U1 * U1.T * E_EXPR - E_EXPR * U1 * U1.T),
        MatrixRelation("T_diagonalises_U1tU1", "derived", "T sorts Sigma and diagonalises U1*^T U1*: they commute",
                       residual=U1.T * U1 * Sigma - Sigma * U1.T * U1),
        RankCount("rank", "derived", "rank U1* = #{i : theta_i > beta c^2 sigma'_i^2}", matrices=("U1",), active=active),
        ZeroLines("collapse_distinct_sigma", "derived (as Theorem 1's discussion)",
                  "if all sigma_i are distinct, U1* has d1 - rank(U1*) zero columns", when=(AllDistinct("sigma"),),
                  matrix="U1", axis="columns"),
        VanishingCoordinates("collapsed_coordinates", "derived (as Remark 3)",
                             "for each zero column i of U1*, w_i1^T x + w_i2^T y = 0 on the data",
                             when=(AllDistinct("sigma"),), matrix="U1", axis="columns",
                             second_moment=MEAN_SECOND_MOMENT),
        AlternativeOptimum("no_collapse_isotropic", "derived (as Theorem 1's discussion)",
                           "if Sigma is isotropic, T can be any orthogonal matrix: an optimum with no zero column "
                           "of U1* although it is low-rank", when=(AllEqual("sigma"), PartialRank(active)),
                           basis=T, matrix="U1"),
        Implication("complete_collapse", "derived",
                    "if theta_i <= beta c^2 sigma'_i^2 for every i, then U1* = 0", premise=sp.LessThan(theta, threshold),
                    matrix="U1"),
        OnData("x_equals_y_U1_zero", "discussion after Theorem 2, for fixed Sigma",
               "if x = y, then E = 0 and U1* = 0 (complete collapse, whatever sigma)",
               inner=Implication("x_equals_y_U1_zero", "", "", premise=sp.LessThan(theta, threshold), matrix="U1"),
               applies=_x_equals_y, condition="x = y"),
        DataFormAgreement("data_form", "(5) and App. E after (30)",
                          "minimising (5) over (W1, W2, U1, U2) with Sigma fixed reaches the whitened objective's "
                          "minimum + (-beta d1), and the minimisers share the spectrum of U1",
                          compare=(("singular_values", "U1"),)),
    ),
    notes="Not a theorem of the paper: derived here from App. E's reduction and Theorem 1.  lambda2 is the "
          "i-th singular value of V2* (I - Z^T Z)^{1/2}; it is checked in the reduced problem only.",
)
