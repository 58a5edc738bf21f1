"""Convex certificates of global optimality (cvxpy), independent of the closed forms and the minimiser.

Where a theorem's non-convex matrix problem has an exact convex reformulation, its
optimal value is a number nobody's closed form or random restart went into: a claimed
optimum whose loss exceeds it is not optimal, and one whose loss matches it is globally
optimal (up to the solver's accuracy).  Two reformulations are exact for the linear VAE
with unlearnable Sigma (Theorem 1, objective (10)):

**Isotropic Sigma = sigma^2 I, the whole matrix problem.**  Write M = UV (D0 x d0, rank <= d1).
Then (10) is

    L(U, V) = (1/eta_dec^2) [ ||M - Z||_F^2 + sigma^2 ||U||_F^2 + beta c^2 ||V||_F^2 + beta c^2 d1 sigma^2 ]
              - beta d1 log sigma^2,

and for fixed M the factor terms obey, for a, b > 0,

    min_{UV = M} a ||U||_F^2 + b ||V||_F^2 = 2 sqrt(ab) ||M||_*            (*)

(lower bound: ||UV||_* <= ||U||_F ||V||_F (Hoelder for Schatten norms) and a x^2 + b y^2 >= 2 sqrt(ab) x y;
equality at U = (b/a)^{1/4} P D^{1/2}, V = (a/b)^{1/4} D^{1/2} Q^T for
the SVD M = P D Q^T, padded with zeros to d1 columns when rank M < d1).  With a = sigma^2 and
b = beta c^2, minimising over U, V is minimising over M

    p* = min_M (1/eta_dec^2) [ ||M - Z||_F^2 + 2 sigma sqrt(beta) c ||M||_* ] + const,   rank M <= d1,

a nuclear-norm-regularised least-squares problem.  Without the rank constraint it is convex;
its minimiser is Z with singular values soft-thresholded at sigma sqrt(beta) c, so the
relaxation is exact whenever that minimiser has rank <= d1 (always when d1 >= min(D0, d0));
otherwise p* is only a lower bound and the certificate says so (INCONCLUSIVE, never VERIFIED).

**Any diagonal Sigma, the per-index problem (18).**  g(omega, lambda) = (1/eta_dec^2)[(omega lambda -
theta)^2 + sigma'^2 omega^2 + beta c^2 lambda^2 + beta c^2 sigma'^2] - beta log sigma'^2 is not convex in
(omega, lambda) (the product omega lambda), but by (*) with 1 x 1 matrices it is, over m = omega lambda >= 0,
the convex quadratic (1/eta_dec^2)[(m - theta)^2 + 2 sigma' sqrt(beta) c m + ...]; one convex problem
per index, all solved at once.  (The full problem with distinct sigma_i is not convex in M: the
sigma-weighted factor terms do not reduce to a unitarily invariant norm of M.)

**No certificate** for the learnable-Sigma problems (Theorems 2 and 4: eliminating Sigma leaves
beta log|U^T U + beta c^2 I|, concave in U^T U) nor for the hierarchical ones (Theorems 3 and 5: the
per-index function couples three factors, omega, lambda and the encoder W2); those rest on the
symbolic and numeric evidence alone.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import cvxpy as cp
import numpy as np

from .batch import group_by_dims, instantiate
from .error_model import CERTIFICATE_RANK_RTOL, CERTIFICATE_RTOL
from .errors import UsageError
from .judge import INCONCLUSIVE, REFUTED, VERIFIED, claimed_loss_and_grad

SOLVER_OPTIONS = {"CLARABEL": {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11},
                  "SCS": {"eps": 1e-10, "max_iters": 200_000}}


@dataclass
class Certificate:
    problem: str                    # which convex reformulation
    status: str                     # VERIFIED: claimed loss = convex optimum; REFUTED: claimed loss above it
    detail: str
    convex_optimum: float           # p*: the optimal value of the convex problem (same units as the loss)
    claimed_loss: float             # the loss at the theorem's assembled optimum (or summed per-index g)
    gap: float                      # claimed_loss - convex_optimum (>= 0 up to solver accuracy)
    tolerance: float
    exact: bool                     # the reformulation is exact here (else p* is only a lower bound)
    solver: str                     # the one whose solution this is (another where the first was not optimal)
    solver_status: str
    minimiser_loss: float | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _require_fixed_sigma_linear_vae(theorem) -> None:
    from theorems.linear_vae import OBJECTIVE
    names = {fv.name for fv in theorem.model.fixed_vectors}
    if theorem.model.objective != OBJECTIVE or "sigma" not in names:
        raise UsageError(f"{theorem.name}: no convex certificate is known for model {theorem.model.name!r}; "
                         f"certificates exist for the linear VAE with unlearnable Sigma (Theorem 1 and its "
                         f"variants), see verifier/certificates.py")


def _solve(problem: cp.Problem, solver: str) -> tuple[float, str, str]:
    """(optimal value, status, the solver that reached it), the variables holding that solver's solution.

    The solver asked for goes first. Where it stops short of 'optimal' -- CLARABEL cannot always close a
    1e-11 gap, and its 'optimal_inaccurate' value can then be off by 3e-8 of the loss scale, more than
    CERTIFICATE_RTOL -- the others in SOLVER_OPTIONS are tried in turn; if none is optimal, the first
    inaccurate solution is kept and reported as such (its verdict is never stronger than its gap allows)."""
    if solver not in SOLVER_OPTIONS:
        raise UsageError(f"solver={solver!r}; use one of {sorted(SOLVER_OPTIONS)} (they ship with cvxpy)")
    inaccurate, statuses = None, []
    for name in [solver] + [other for other in SOLVER_OPTIONS if other != solver]:
        with warnings.catch_warnings():        # an inaccurate solve is reported in the certificate instead
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            value = problem.solve(solver=name, **SOLVER_OPTIONS[name])
        statuses.append(f"{name}: {problem.status}")
        if problem.status == cp.OPTIMAL:
            return float(value), problem.status, name
        if problem.status == cp.OPTIMAL_INACCURATE and inaccurate is None:
            inaccurate = (float(value), problem.status, name, [v.value for v in problem.variables()])
    if inaccurate is None:
        raise RuntimeError(f"no solver solved the certificate problem ({'; '.join(statuses)})")
    value, status, name, solution = inaccurate
    for variable, entries in zip(problem.variables(), solution):
        variable.value = entries
    return value, status, name


def _instantiated(theorem, instance):
    group = group_by_dims(theorem, [instance])[0]
    batch = instantiate(theorem, group)
    loss, _ = claimed_loss_and_grad(batch)
    return batch, float(loss[0])


def _verdict(gap: float, tol: float, exact: bool, what: str) -> tuple[str, str]:
    if not exact and gap >= -tol:       # a mere lower bound: above it proves nothing, meeting it nothing either
        return INCONCLUSIVE, (f"the relaxation is not exact here (its minimiser has rank > d1), so the convex "
                              f"optimum is only a lower bound; the claimed {what} is {gap:.3e} above it")
    if gap > tol:
        return REFUTED, (f"the claimed optimum's {what} exceeds the convex optimum by {gap:.3e} > {tol:.1e}: "
                         f"it is not a global minimiser")
    if gap < -tol:      # a valid lower bound cannot be beaten: the solver or the reformulation is wrong
        return INCONCLUSIVE, f"the claimed {what} is below the convex optimum by {-gap:.3e}: solver inaccurate"
    return VERIFIED, f"the claimed {what} equals the convex optimum (gap {gap:.2e} <= {tol:.1e})"


def nuclear_norm_certificate(theorem, instance, *, solver: str = "CLARABEL",
                             minimiser_loss: float | None = None) -> Certificate:
    """Theorem 1 with isotropic Sigma: the claimed optimum's loss against the nuclear-norm problem's optimum."""
    _require_fixed_sigma_linear_vae(theorem)
    sigmas = np.asarray(instance.vectors["sigma"], dtype=np.float64)
    if not np.all(sigmas == sigmas[0]):
        raise UsageError(f"the nuclear-norm certificate needs isotropic Sigma (all sigma_i equal); got "
                         f"sigma={sigmas.tolist()}; use per_index_certificate for distinct sigma_i")
    batch, claimed = _instantiated(theorem, instance)
    Z = batch.data["Z"][0].numpy()
    h = {k: float(instance.hyper[k]) for k in ("beta", "eta_enc", "eta_dec")}
    beta, eta_dec, c = h["beta"], h["eta_dec"], h["eta_dec"] / h["eta_enc"]
    sigma, d1 = float(sigmas[0]), len(sigmas)

    M = cp.Variable(Z.shape)
    constant = beta * c**2 * d1 * sigma**2 / eta_dec**2 - beta * d1 * np.log(sigma**2)
    objective = (cp.sum_squares(M - Z) + 2 * sigma * np.sqrt(beta) * c * cp.normNuc(M)) / eta_dec**2
    p_star, status, solver = _solve(cp.Problem(cp.Minimize(objective)), solver)
    p_star += constant

    scale = float(batch.scale[0])
    tol = CERTIFICATE_RTOL * scale
    sv = np.linalg.svd(M.value, compute_uv=False)
    rank = int((sv > CERTIFICATE_RANK_RTOL * max(1.0, sv.max(initial=0.0))).sum())
    gap = claimed - p_star
    st, detail = _verdict(gap, tol, rank <= d1, "loss")
    return Certificate("isotropic Sigma: nuclear-norm-regularised least squares in M = UV", st, detail,
                       p_star, claimed, gap, tol, rank <= d1, solver, status, minimiser_loss)


def per_index_certificate(theorem, instance, *, solver: str = "CLARABEL") -> Certificate:
    """Theorem 1, any diagonal Sigma: each index's g at the closed forms against its convex optimum in m = omega lambda."""
    _require_fixed_sigma_linear_vae(theorem)
    from theorems.linear_vae import lam, omega, sigma_p, theta
    from .symbolic import reduced_objective
    batch, _ = _instantiated(theorem, instance)
    th = batch.indexed[theta][0].numpy()
    sp_ = batch.indexed[sigma_p][0].numpy()
    om = batch.closed[omega][0].numpy()
    la = batch.closed[lam][0].numpy()
    h = {k: float(instance.hyper[k]) for k in ("beta", "eta_enc", "eta_dec")}
    beta, eta_dec, c = h["beta"], h["eta_dec"], h["eta_dec"] / h["eta_enc"]

    import sympy
    g = reduced_objective(theorem)
    symbols = [omega, lam, theta, sigma_p] + [hp.symbol for hp in theorem.model.hyperparameters]
    g_num = sympy.lambdify(symbols, g, "numpy")
    claimed = np.array([g_num(om[i], la[i], th[i], sp_[i], *(h[str(s)] for s in symbols[4:]))
                        for i in range(len(th))], dtype=np.float64)

    m = cp.Variable(len(th), nonneg=True)
    per_index = (cp.square(m - th) + cp.multiply(2 * sp_ * np.sqrt(beta) * c, m)) / eta_dec**2
    constants = beta * c**2 * sp_**2 / eta_dec**2 - beta * np.log(sp_**2)
    _, status, solver = _solve(cp.Problem(cp.Minimize(cp.sum(per_index))), solver)
    optimum = per_index.value + constants

    gaps = claimed - optimum
    worst = int(np.argmax(np.abs(gaps)))
    tol = CERTIFICATE_RTOL * float(batch.scale[0])
    st, detail = _verdict(float(gaps[worst]), tol, True, f"per-index value g at index {worst + 1}")
    return Certificate("per-index (18): convex quadratic in m = omega lambda", st, detail,
                       float(optimum.sum()), float(claimed.sum()), float(gaps[worst]), tol, True, solver, status)


def certify(theorem, instance, *, solver: str = "CLARABEL", with_minimiser: bool = False) -> list[Certificate]:
    """Every certificate that applies to this instance (the nuclear-norm one only for isotropic Sigma)."""
    minimiser_loss = None
    if with_minimiser:
        from .pipeline import Pipeline
        minimiser_loss = Pipeline(theorem).run([instance])[0].minimiser["loss"]
    out = [per_index_certificate(theorem, instance, solver=solver)]
    if len(set(instance.vectors["sigma"])) == 1:
        out.insert(0, nuclear_norm_certificate(theorem, instance, solver=solver, minimiser_loss=minimiser_loss))
    else:
        out[0].minimiser_loss = minimiser_loss
    return out
