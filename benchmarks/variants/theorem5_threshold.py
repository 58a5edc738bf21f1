"""Benchmark variant: Theorem 5 with the threshold m of case 1 compared in theta^2 rather than theta.

theta >= max(m1, m2) is written theta^2 >= max(m1^2, m2^2) (theta, m1, m2 > 0), the same split;
every claim is the printed theorem's.  Timed in docs/benchmarks.md.
"""
import sympy as sp

from theorems.linear_vae import lam, omega, theta
from theorems.theorem5_mhvae_fixed_isotropic import (
    THEOREM as BASE, case_2, lambda_1, omega_1, omega_2, theta_m1, theta_m2,
)
from theorems.theorem3_mhvae_fixed_sigma1 import lambda_c

case_1_squared = sp.GreaterThan(theta**2, sp.Max(theta_m1**2, theta_m2**2))
lambda_squared = sp.Piecewise((lambda_1, case_1_squared), (0, case_2), (lambda_c, True))
omega_squared = sp.Piecewise((omega_1, case_1_squared), (omega_2, case_2), (0, True))

THEOREM = (BASE.replace_closed_form(lam, lambda_squared, name="theorem5_threshold")
           .replace_closed_form(omega, omega_squared, name="theorem5_threshold"))
