"""A new theorem on the two-latent MHVAE with both Sigma1 and Sigma2 learnable (left open by the paper).

The model is App. F's objective (theorems/mhvae.py, OBJECTIVE) with Sigma1 and Sigma2 both learnable
diagonal matrices.  Derived here, not printed in the paper:

1. **Bounded below iff beta1 <= beta2.**  For beta1 <= beta2 the loss is recon + beta1 KL(q(z1, z2|x) ||
   p(z1, z2)) + (beta2 - beta1) E KL(q(z2|z1) || p(z2)) (up to constants), a beta1-weighted ELBO plus a
   non-negative term.  For beta1 > beta2 it falls like (beta1 - beta2) min(d1, d2) log eps^2 along
   U2 = I/eps, W2 = eps I (verifier/experiments/mhvae_both_learnable.py: ``unbounded_path``).
2. **For beta1 < beta2, z2 collapses completely and z1 is Theorem 4's VAE with prior N(0, eta_dec^2 I).**
   Eliminating Sigma1, Sigma2 (App. C, (9)) and then W2 (W2* = beta1 (beta1 U2^T U2 + c^2 beta2 I)^{-1} U2^T
   minimises Q := beta1 (U2 W2 - I)^T (U2 W2 - I) + c^2 beta2 W2^T W2 in the Loewner order, to
   Q* = beta1 c^2 beta2 (beta1 U2 U2^T + c^2 beta2 I)^{-1}) leaves, up to constants,

       (1/eta_dec^2)[||U1 V1 - Z||^2 + tr(V1^T Q V1)] + beta1 log|U1^T U1 + Q| - beta2 log|Q|,   0 < Q <= beta1 I.

   With U~ = U1 Q^{-1/2}, V~ = Q^{1/2} V1 this is (1/eta_dec^2)[||U~ V~ - Z||^2 + ||V~||^2]
   + beta1 log|U~^T U~ + I| + (beta1 - beta2) log|Q|: Q separates.  For beta1 < beta2 the last term is
   smallest at Q = beta1 I, i.e. U2 = 0 (then W2* = 0, Sigma2* = eta_enc^2 I), and what is left is
   Theorem 4's objective with beta c^2 -> beta1 and beta -> beta1, i.e. eta_enc -> eta_dec:

       omega_i* = (1/eta_dec) sqrt(max(0, theta_i^2 - beta1 eta_dec^2)),
       lambda_i* = (eta_dec/theta_i) sqrt(max(0, theta_i^2 - beta1 eta_dec^2)),
       sigma1'_i = sqrt(beta1) eta_dec^2 / theta_i if theta_i >= sqrt(beta1) eta_dec, else eta_dec.

   For beta1 = beta2 the loss does not depend on Q: the same minimum value, attained on a continuum
   (z2 may be used or not) -- this spec draws beta2 > beta1 only.  Remark 1's "acts as a standard VAE
   with prior N(0, eta_dec^2 I)" is then exact.  This is a proof sketch checked by the verifier (and
   swept in verifier/experiments/mhvae_both_learnable.py), not a theorem of the paper.
"""
import sympy as sp
from hypothesis import strategies as st
from sympy import Identity, Inverse, MatrixSymbol

from theorems.linear_vae import D0, R, S, Z, z_matrix, c, d0, eta_dec, eta_enc, lam, omega, sigma_p, theta
from theorems.mhvae import OBJECTIVE, Sigma1, Sigma2, U1, U2, V1, W2, beta1, beta2, d1, d2
from verifier.instances import Instance
from verifier.spec import (
    ClosedFormSpectrum, GlobalMinimum, Hyperparameter, IdentityBasis, Implication, LeftSingularVectors,
    MatrixRelation, Model, Optimum, RankCount, Reduction, RightSingularVectors, SingularValues, Theorem, Variable,
    ZeroLines,
)
from verifier.strategies import instance_data   # the engine's data modes (spectrum / X), aimed at thresholds[0]

HYPERPARAMETERS = (
    Hyperparameter(beta1, "weight of the z1 KL term D(q(z1|x) || p(z1|z2))"),
    Hyperparameter(beta2, "weight of the z2 KL term D(q(z2|z1) || p(z2))"),
    Hyperparameter(eta_enc, "prior std: p(z2) = N(0, eta_enc^2 I)"),
    Hyperparameter(eta_dec, "decoder std of x and of z1"),
)

# The theorem's domain beta2 > beta1, made part of the parametrisation: beta2 = beta1 (1 + kappa), kappa > 0.
# (With beta1 and beta2 free, the symbolic check would sample beta1 > beta2 too, where the loss has no minimum.)
kappa = sp.Symbol("kappa", positive=True)
ORDERED_HYPERPARAMETERS = HYPERPARAMETERS[:1] + (
    Hyperparameter(kappa, "beta2 = beta1 (1 + kappa): the z2 KL weight exceeds the z1 one"),) + HYPERPARAMETERS[2:]

# kappa is drawn from here: not so close to 0 that the U2 direction is nearly flat for the minimiser
# (at kappa = 0 the minimum is not unique).
KAPPA_RANGE = (0.1, 3.0)


def _statistics(instance):
    Zm = z_matrix(instance)
    return {"Z": Zm}, {"D0": Zm.shape[0], "d0": Zm.shape[1]}


def _positive(lo: float = 0.3, hi: float = 3.0):
    return st.one_of(st.sampled_from([1.0, 0.5, 2.0]), st.floats(lo, hi))


@st.composite
def _instances(draw, theorem, latent: dict, dims: dict):
    """kappa in KAPPA_RANGE; data from the engine's modes, theta aimed at sqrt(beta1) eta_dec."""
    hyper = {"beta1": draw(_positive(0.2, 4.0)), "kappa": draw(st.floats(*KAPPA_RANGE)),
             "eta_enc": draw(_positive()), "eta_dec": draw(_positive())}
    data = draw(instance_data(theorem, dims, hyper, {}, latent))
    seed = draw(st.integers(0, 2**16))
    if "X" in data:
        return Instance(latent, hyper, {}, X=data["X"], seed=seed)
    return Instance(latent, hyper, {}, spectrum=data["spectrum"], D0=data["D0"], seed=seed)


def mhvae_both_learnable(*, ordered: bool = False) -> Model:
    """The two-latent MHVAE of App. F with Sigma1 and Sigma2 both learnable diagonal (any d0, d1, d2).

    ``ordered``: parametrise beta2 = beta1 (1 + kappa), kappa > 0 (the domain of the theorem below).
    """
    objective = OBJECTIVE.xreplace({beta2: beta1 * (1 + kappa)}) if ordered else OBJECTIVE
    return Model(
        name="two-latent linear MHVAE, learnable diagonal Sigma1 and Sigma2" + (", beta2 > beta1" if ordered else ""),
        description="App. F's objective with both encoder variances learnable",
        objective=objective,
        equation="Section 4.2 / App. F",
        variables=tuple(Variable(m) for m in (U1, V1, U2, W2))
        + (Variable(Sigma1, "positive_diagonal"), Variable(Sigma2, "positive_diagonal")),
        data=(Z,),
        hyperparameters=ORDERED_HYPERPARAMETERS if ordered else HYPERPARAMETERS,
        fixed_vectors=(),
        latent_dims=(d1, d2),
        data_dims=(D0, d0),
        statistics=_statistics,
        instance_strategy=_instances if ordered else None,
    )


threshold = sp.sqrt(beta1) * eta_dec
active = sp.StrictGreaterThan(theta, threshold)

# Theorem 4's (21), (30) with eta_enc -> eta_dec and beta -> beta1 (prior of z1: N(U2 z2, eta_dec^2 I), U2 = 0).
omega_star = sp.sqrt(sp.Max(0, theta**2 - beta1 * eta_dec**2)) / eta_dec
lambda_star = sp.Piecewise((eta_dec / theta * sp.sqrt(theta**2 - beta1 * eta_dec**2), active), (0, True))
sigma_star = sp.Piecewise((sp.sqrt(beta1) * eta_dec**2 / theta, sp.GreaterThan(theta, threshold)), (eta_dec, True))
# The z2 part, per index: u2 = w2 = 0 (and then sigma2 = eta_enc, the prior's std).
u2, w2 = sp.symbols("u2 w2", nonnegative=True)

# An always-true per-index premise (theta_i >= 0, kept unevaluated): the collapse of z2 is unconditional.
ALWAYS = sp.GreaterThan(theta, 0, evaluate=False)

T = MatrixSymbol("T", d1, d1)
Omega, Lambda = MatrixSymbol("Omega", D0, d1), MatrixSymbol("Lambda", d1, d0)
# U2* and W2* as rectangular diagonals of the closed forms u2 = w2 = 0 (built batched like Omega).
Omega2, Omega2_w = MatrixSymbol("Omega2", d1, d2), MatrixSymbol("Omega2_w", d2, d1)
Sigma1_star = beta1 * eta_dec**2 * Inverse(U1.T * U1 + beta1 * Identity(d1))

THEOREM = Theorem(
    name="variant_mhvae_both_learnable",
    title="Two-latent MHVAE with learnable diagonal Sigma1 and Sigma2, beta2 = beta1 (1 + kappa) > beta1 (derived, not in the paper)",
    source="new: App. C's (9) eliminates Sigma1, Sigma2; the Loewner-minimal W2 and U~ = U1 Q^{-1/2} separate Q",
    model=mhvae_both_learnable(ordered=True),
    index_size=d1,
    indexed=((theta, SingularValues("Z")),),
    closed_forms=((omega, omega_star), (lam, lambda_star), (sigma_p, sigma_star), (u2, sp.Integer(0)),
                  (w2, sp.Integer(0))),
    thresholds=(threshold,),
    optimum=Optimum(
        bases=((R, LeftSingularVectors("Z")), (S, RightSingularVectors("Z")), (T, IdentityBasis(d1))),
        diagonals=((Omega, omega), (Lambda, lam), (Omega2, u2), (Omega2_w, w2)),
        construction=((U1, R * Omega * T.T), (V1, T * Lambda * S.T), (Sigma1, Sigma1_star),
                      (U2, Omega2), (W2, Omega2_w), (Sigma2, eta_enc**2 * Identity(d2))),
    ),
    reduction=Reduction(
        # Sigma2 at its optimum given U2 (App. C (9)): its own face sigma2 -> 0 has no finite critical set for
        # sympy to enumerate; Sigma2* = eta_enc^2 I is checked numerically (claim sigma2_prior).
        matrices=(("U1", omega), ("V1", lam), ("Z", theta), ("Sigma1", sigma_p**2), ("U2", u2), ("W2", w2),
                  ("Sigma2", (1 + kappa) * eta_dec**2 / (u2**2 + c**2 * (1 + kappa)))),
        variables=(omega, lam, sigma_p, u2, w2),
        equation="App. F objective, one index, Sigma2 eliminated by (9)",
    ),
    claims=(
        GlobalMinimum("optimum", "derived",
                      "U1* = R Omega, V1* = Lambda S^T, Sigma1* = beta1 eta_dec^2 (U1*^T U1* + beta1 I)^{-1}, U2* = 0, "
                      "W2* = 0, Sigma2* = eta_enc^2 I minimise the App. F objective when beta1 < beta2"),
        ClosedFormSpectrum("omega", "derived (Theorem 4 with eta_enc -> eta_dec, beta -> beta1)",
                           "omega_i* = (1/eta_dec) sqrt(max(0, theta_i^2 - beta1 eta_dec^2))",
                           quantity=omega, measured=("singular_values", "U1")),
        ClosedFormSpectrum("lambda", "derived (Theorem 4 with eta_enc -> eta_dec, beta -> beta1)",
                           "lambda_i* = (eta_dec/theta_i) sqrt(max(0, theta_i^2 - beta1 eta_dec^2))",
                           quantity=lam, measured=("singular_values", "V1")),
        ClosedFormSpectrum("sigma1", "derived ((30) with eta_enc -> eta_dec, beta -> beta1)",
                           "sigma1'_i = sqrt(beta1) eta_dec^2/theta_i if theta_i >= sqrt(beta1) eta_dec, else eta_dec",
                           quantity=sigma_p, measured=("sqrt_eigenvalues", "Sigma1")),
        Implication("z2_collapses_U2", "derived (Remark 1: z2 collapses completely)",
                    "U2* = 0 whatever the data (the premise theta_i >= 0 always holds)",
                    premise=ALWAYS, matrix="U2"),
        Implication("z2_collapses_W2", "derived (Remark 1: z2 collapses completely)",
                    "W2* = 0 whatever the data (the premise theta_i >= 0 always holds)",
                    premise=ALWAYS, matrix="W2"),
        MatrixRelation("sigma2_prior", "derived (App. C (9) with U2 = 0)", "Sigma2* = eta_enc^2 I: q(z2|z1) = p(z2)",
                       residual=Sigma2 - eta_enc**2 * Identity(d2)),
        MatrixRelation("sigma1_star", "App. C (9) with U2 = W2 = 0", "Sigma1* = beta1 eta_dec^2 (U1*^T U1* + beta1 I)^{-1}",
                       residual=Sigma1 - Sigma1_star),
        RankCount("rank", "derived", "rank U1* = rank V1* = #{i : theta_i > sqrt(beta1) eta_dec}",
                  matrices=("U1", "V1"), active=active),
        ZeroLines("collapse_z1", "derived (as Theorem 4)",
                  "U1* has d1 - rank(U1*) zero columns and the matching rows of V1* are zero",
                  matrix="U1", axis="columns", matching=("rows", "V1")),
    ),
    notes="beta2 = beta1 (1 + kappa), kappa > 0: for beta1 > beta2 the objective is unbounded below, for beta1 = beta2 the minimum "
          "is not unique (verifier/experiments/mhvae_both_learnable.py shows both).",
)
