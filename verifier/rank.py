"""The rank rule: which directions of a data matrix are real, decided once, before whitening.

Whitening divides each direction of the data by its standard deviation, so a direction that is
only rounding (a singular value of 4e-15 beside 16.9, in data of rank 1) comes back at unit size:
the whitened statistics then describe data that do not exist, and a canonical correlation can round
to 1 + 5e-12, which makes the CVAE's objective indefinite.  The rule: a singular value of X (N x D)
below ``RANK_CUTOFF_FACTOR * max(N, D) * eps * s_max`` is zero -- numpy.linalg.matrix_rank's default
(the backward error of the SVD is about eps * s_max per entry, and max(N, D) bounds how that error
accumulates into one singular value), so a direction counts only when it stands above what the SVD
itself cannot resolve.

The directions are taken from the SVD of X, not from the eigenvalues of X^T X / N: squaring puts
rounding of eps * s_max^2 on every eigenvalue, i.e. ~sqrt(eps) * s_max on every singular value, which
would hide the rule's cutoff under the computation's own noise.
"""
from __future__ import annotations

import numpy as np

from .error_model import RANK_CUTOFF_FACTOR



def rank_cutoff(singular_values: np.ndarray, shape: tuple[int, int]) -> float:
    """The singular value below which a direction of a matrix of ``shape`` is rounding, not data."""
    s_max = float(np.max(singular_values, initial=0.0))
    return RANK_CUTOFF_FACTOR * max(shape) * np.finfo(np.float64).eps * s_max


def principal_directions(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' second moment A = E[x x^T] = P_A Phi P_A^T over its numerical rank (the rule above).

    Returns (P_A (D x r), Phi (r,), the whitened samples X P_A Phi^{-1/2} (N x r)); the whitened
    samples come from the SVD's left vectors, so their second moment is I to rounding."""
    X = np.asarray(X, dtype=np.float64)
    N = X.shape[0]
    left, s, right_t = np.linalg.svd(X, full_matrices=False)
    keep = s > rank_cutoff(s, X.shape)
    return right_t[keep].T, s[keep] ** 2 / N, left[:, keep] * np.sqrt(N)
