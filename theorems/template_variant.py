"""Template for a theorem variant -- copy this file, edit it, run ``verifier check my_variant.py``.

A variant reuses a model and a theorem spec and changes one thing: a closed form, an
assumption (where a per-index quantity or a basis comes from), or the set of claims.
The original spec is never edited; ``Theorem.replace_closed_form`` & co. return new objects.

This template restates Theorem 1 (eq. (4)) with omega_i* written in an equivalent factored
form, sqrt(sqrt(beta) c / sigma'_i) * sqrt(max(0, theta_i - sqrt(beta) c sigma'_i)), and keeps
the claims that involve omega.  As shipped it is VERIFIED; change the expression to test your own.
It is deliberately not registered in ``theorems.REGISTRY`` (register a variant to give it a name).
"""
import sympy as sp

# 1. The base theorem and the symbols its closed forms may use (hyperparameters and the
#    per-index quantities theta = theta_i, sigma_p = sigma'_i).  A symbol that is neither is
#    rejected with a message listing the allowed ones.
from theorems.linear_vae import beta, c, omega, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as BASE

# 2. The changed claim, as a sympy expression in those symbols.
threshold = sp.sqrt(beta) * c * sigma_p
omega_factored = sp.sqrt(sp.sqrt(beta) * c / sigma_p) * sp.sqrt(sp.Max(0, theta - threshold))

# 3. The variant: a new Theorem with the closed form replaced, keeping only the claims to check
#    (claim names: [c.name for c in BASE.claims]).  Other edits:
#      BASE.replace_indexed(sigma_p, SortedVector("sigma", ascending=False))   # another assumption
#      BASE.replace_basis(T, RandomOrthogonalBasis(d1))                        # another optimum
THEOREM = (BASE.replace_closed_form(omega, omega_factored, name="template_variant")
           .only_claims("optimum", "omega", "rank"))
