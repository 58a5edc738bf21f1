"""Benchmark variant: Theorem 3 with case (c)'s lambda_i* written in an equivalent expanded form.

lambda_i* = sqrt(max(0, sigma1 theta_i / sqrt(beta1) - sigma1^2)) in case (c); the other cases and
every claim are the printed theorem's, so the variant verifies as the printed one does (its printed
W2* with c^2 I is refuted beside its erratum).  Timed in docs/benchmarks.md.
"""
import sympy as sp

from theorems.linear_vae import lam, theta
from theorems.mhvae import beta1, sigma1
from theorems.theorem3_mhvae_fixed_sigma1 import THEOREM as BASE, case_a, case_b, lambda_a

lambda_c_expanded = sp.sqrt(sp.Max(0, sigma1 * theta / sp.sqrt(beta1) - sigma1**2))
lambda_expanded = sp.Piecewise((lambda_a, case_a), (0, case_b), (lambda_c_expanded, True))

THEOREM = BASE.replace_closed_form(lam, lambda_expanded, name="theorem3_case_c")
