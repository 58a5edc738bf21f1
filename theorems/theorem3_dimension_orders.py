"""Theorem 3 in the other dimension orders of (d0, d1, d2) (end of App. F.1).

Its own spec rather than claims of Theorem 3: Theorem 3 assumes d0 >= d1 = d2 and its instances are
drawn there; here the instances are drawn in the five other orders, and the closed forms need to
know which indices have a column of U2 (i <= d2).  App. F.1 prints, per order:
  d0 < d1 < d2 and d0 < d2 <= d1: the standard case for i <= d0; for d0 < i <= min(d1, d2)
      lambda_i = 0, omega_i = max(0, sqrt(sigma1^2 - (beta2/beta1) eta_dec^2)/eta_enc) [r]; 0 past;
  d1 <= min(d0, d2): the standard case for i <= d1;
  d2 <= d0 < d1 and d2 < d1 <= d0: the standard case for i <= d2; for d2 < i <= min(d0, d1)
      omega_i = 0, lambda_i = sqrt(max(0, sigma1/sqrt(beta1) (theta_i - sqrt(beta1) sigma1))) [r]; 0 past.
The standard case at theta_i = 0 (i > d0) is exactly the printed d0 < i formula, so one rule covers
all orders: the standard case where U2 has a column (i <= d2), the omega = 0 case (57) past it.
The per-index problem of the i <= d2 indices is Theorem 3's (checked symbolically there and here);
past d2 it is g(lambda, 0), whose minimiser (57) is branch (c) of the same check.
"""
import dataclasses

import sympy as sp

from theorems import theorem3_mhvae_fixed_sigma1 as t3
from theorems.linear_vae import lam, omega, theta
from theorems.mhvae import OTHER_ORDERS, mhvae
from verifier.spec import ClosedFormSpectrum, IndexWithin, Restricted, SingularValues

slot = sp.Symbol("has_U2_column", nonnegative=True)     # 1 where i <= d2, else 0
lam_f1 = sp.Symbol("lambda_F1", nonnegative=True)
omega_f1 = sp.Symbol("omega_F1", nonnegative=True)
has_column = sp.StrictGreaterThan(slot, sp.Rational(1, 2))
lambda_f1_star = sp.Piecewise((t3.lambda_star, has_column), (t3.lambda_c, True))
omega_f1_star = sp.Piecewise((t3.omega_star, has_column), (0, True))


def _per_order_claims():
    claims = []
    for label, relation in OTHER_ORDERS:
        for name, quantity, matrix in (("lambda", lam_f1, "V1"), ("omega", omega_f1, "U2")):
            key = f"{name}[{label}]"
            claims.append(Restricted(
                key, "App. F.1, end of the proof of Theorem 3",
                f"{name}_i* when {label}: the standard case for i <= min(d0, d1, d2) and App. F.1's forms past it",
                inner=ClosedFormSpectrum(key, "App. F.1", "", quantity=quantity, measured=("singular_values", matrix)),
                dimensions=relation))
    return tuple(claims)


_kept = ("optimum", "U1_star", "W2_star", "W2_star_corrected", "shared_basis_P", "z2_collapse")

THEOREM = dataclasses.replace(
    t3.THEOREM,
    name="theorem3_orders",
    title="Two-latent MHVAE (Theorem 3) in the other dimension orders of App. F.1",
    source="App. F.1, end of the proof of Theorem 3",
    model=mhvae("learnable", orders="other"),
    indexed=((theta, SingularValues("Z")), (slot, IndexWithin("d2"))),
    closed_forms=((lam, t3.lambda_star), (omega, t3.omega_star), (lam_f1, lambda_f1_star), (omega_f1, omega_f1_star)),
    optimum=dataclasses.replace(t3.THEOREM.optimum, diagonals=((t3.Lambda, lam_f1), (t3.Omega, omega_f1))),
    claims=tuple(t3.THEOREM.claim(n) for n in _kept) + _per_order_claims(),
    notes="The printed per-order forms are written as one rule (see the module docstring).",
)
