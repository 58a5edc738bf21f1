"""Collapse measures of Appendix A, and the distance between spectra of Figs. 7-14.

* (epsilon, delta)-collapse (Lucas et al., 2019, as in Section 5.1): latent dimension i is
  collapsed if P_x[KL(q(z_i|x) || p(z_i)) < epsilon] >= 1 - delta.
* Active units (Burda et al., 2015; Appendix A, Table 2): dimension i is active if
  Cov_x(E_q[z_i|x]) > epsilon_AU, with epsilon_AU = 0.01.
* D_MA({u_i}, {v_i}) = (1/D) sum_i |u_i - v_i|, the shorter list padded with zeros (Appendix A).
"""
from __future__ import annotations

import numpy as np

DELTA = 0.05            # Fig. 2 and Fig. 10 use delta = 0.05
AU_EPSILON = 0.01       # Appendix A, Table 2


def collapsed(kl: np.ndarray, epsilon: float, delta: float = DELTA) -> np.ndarray:
    """(epsilon, delta)-collapse per dimension; ``kl`` is (..., N, d), the result (..., d) booleans."""
    return (np.asarray(kl) < epsilon).mean(axis=-2) >= 1 - delta


def active_units(posterior_mean: np.ndarray, threshold: float = AU_EPSILON) -> np.ndarray:
    """Active dimensions: the variance over x of the posterior mean exceeds ``threshold``; (..., N, d) -> (..., d)."""
    return np.asarray(posterior_mean).var(axis=-2) > threshold


def d_ma(u, v) -> float:
    """Mean absolute difference of two lists, each sorted non-increasingly, the shorter padded with zeros."""
    u = np.sort(np.asarray(u, dtype=np.float64).ravel())[::-1]
    v = np.sort(np.asarray(v, dtype=np.float64).ravel())[::-1]
    D = max(len(u), len(v))
    u, v = np.pad(u, (0, D - len(u))), np.pad(v, (0, D - len(v)))
    return float(np.abs(u - v).mean()) if D else 0.0


def singular_values(M: np.ndarray) -> np.ndarray:
    return np.linalg.svd(np.asarray(M, dtype=np.float64), compute_uv=False)
