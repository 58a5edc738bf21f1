"""The linear VAE with one learnable encoder variance per training sample (Appendix C).

With training samples x_1, ..., x_N and q(z|x_n) = N(W x_n, Sigma_n), the negative ELBO of
Appendix C, specialised to the standard VAE of Section 3 (1/2 and constants dropped), is

  (1/N) sum_n ( (1/eta_dec^2)[ ||U W x_n - x_n||^2 + tr(U Sigma_n U^T) + beta c^2 (||W x_n||^2 + tr Sigma_n) ]
                - beta log|Sigma_n| ).

The data terms only see A = (1/N) sum_n x_n x_n^T, so with Z = P_A Phi^{1/2} and V = W P_A Phi^{1/2}
(as in (10)) the objective is

  (1/eta_dec^2)[ ||UV - Z||_F^2 + beta c^2 ||V||_F^2 ]
  + (1/N) sum_n ( (1/eta_dec^2)[ tr(U^T U Sigma_n) + beta c^2 tr(Sigma_n) ] - beta log|Sigma_n| ),

written here once.  With every Sigma_n equal to one Sigma it is (10) term for term.

Design: the engine's variables are a fixed tuple of matrices, so N is fixed per model build
(``samplewise_vae(n_samples)``) rather than read from each instance.  Stacking the N variances into
one matrix variable would let N vary per instance, but the claimed optimum (every Sigma_n equal)
would then be a Kronecker product I_N (x) Sigma*, and the weight 1/N of the log-determinants a
dimension used as a scalar -- neither of which the lowering evaluates.  A data matrix X must have
exactly N rows; a spectrum instance leaves the samples implicit (the Sigma_n terms do not depend on
the values of the x_n, only on their number).  Each Sigma_n is a learnable diagonal covariance, as
in Theorem 4: the shared-variance optimum (21) is diagonal (T = I), so the diagonal problem attains
the unrestricted minimum, and a global minimiser of it satisfies (8) as a full-matrix identity.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import strategies as st
from sympy import Determinant, MatrixSymbol, Trace, log

from theorems.linear_vae import D0, HYPERPARAMETERS, U, V, Z, z_matrix, beta, c, d0, d1, eta_dec
from verifier.errors import InstanceError
from verifier.instances import Instance
from verifier.spec import Model, Variable
from verifier.strategies import positive, spectra, threshold_values

MAX_SAMPLES = 8    # the objective has N matrices; beyond a few the minimiser only grows slower


def sample_variances(n_samples: int) -> tuple[MatrixSymbol, ...]:
    """Sigma_1, ..., Sigma_N: the encoder covariance of each training sample."""
    return tuple(MatrixSymbol(f"Sigma_{n}", d1, d1) for n in range(1, n_samples + 1))


def samplewise_objective(n_samples: int) -> sp.Expr:
    """The per-sample negative ELBO of Appendix C for the linear VAE, as a matrix objective."""
    residual = U * V - Z
    data_terms = (Trace(residual.T * residual) + beta * c**2 * Trace(V.T * V)) / eta_dec**2
    per_sample = sum(((Trace(U.T * U * S) + beta * c**2 * Trace(S)) / eta_dec**2 - beta * log(Determinant(S)))
                     for S in sample_variances(n_samples))
    return data_terms + sp.Rational(1, n_samples) * per_sample


def _check_sample_count(n_samples) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or not 1 <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"n_samples={n_samples!r}: the number of per-sample variances must be an integer "
                         f"from 1 to {MAX_SAMPLES}")
    return n_samples


# --------------------------------------------------------------------------- Hypothesis hooks
# The default strategies draw X with any number of rows; here X has exactly N rows, so the rank
# d0 of the data is at most min(N, D0) (and d0 < D0 gives rank-deficient data).


def _dimensions(n_samples: int):
    @st.composite
    def dimensions(draw, theorem, max_dim: int = 4):
        latent = {"d1": draw(st.integers(1, max_dim))}
        D0_ = draw(st.integers(1, max_dim + 1))
        d0_ = draw(st.integers(1, min(D0_, n_samples)))
        return latent, {"D0": D0_, "d0": d0_}
    return dimensions


def _instances(n_samples: int):
    @st.composite
    def instance(draw, theorem, latent: dict, dims: dict):
        """theta_i placed in a regime of the threshold (all below, at, just above, mixed, ...), given
        as a spectrum or as N samples X with exactly that spectrum; or N random samples."""
        hyper = {h.symbol.name: draw(positive) for h in theorem.model.hyperparameters}
        D0_, d0_ = dims["D0"], dims["d0"]
        mode = draw(st.sampled_from(["spectrum", "X_from_spectrum", "X_random"]))
        rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
        seed = draw(st.integers(0, 2**16))
        if mode == "X_random":
            X = rng.standard_normal((n_samples, d0_)) @ rng.standard_normal((d0_, D0_)) * draw(st.floats(0.1, 3.0))
            return Instance(latent, hyper, {}, X=X, seed=seed)
        thresholds = threshold_values(theorem, hyper, {}, latent["d1"])
        theta = draw(spectra(thresholds, d0_))
        if mode == "spectrum":
            return Instance(latent, hyper, {}, spectrum=theta, D0=D0_, seed=seed)
        # Rows x_n with (1/N) X^T X = P diag(theta^2) P^T: singular values of Z are exactly theta.
        Q = np.linalg.qr(rng.standard_normal((n_samples, d0_)))[0]
        P = np.linalg.qr(rng.standard_normal((D0_, d0_)))[0]
        return Instance(latent, hyper, {}, X=np.sqrt(n_samples) * (Q * np.asarray(theta)) @ P.T, seed=seed)
    return instance


def samplewise_vae(n_samples: int) -> Model:
    """The linear VAE with N = ``n_samples`` learnable diagonal encoder variances Sigma_1..Sigma_N."""
    n_samples = _check_sample_count(n_samples)

    def statistics(instance):
        if instance.X is not None and np.asarray(instance.X).shape[0] != n_samples:
            raise InstanceError(f"data.X has {np.asarray(instance.X).shape[0]} rows, but this model has "
                                f"N={n_samples} per-sample variances: give X with exactly {n_samples} rows "
                                f"(one per sample), or a spectrum")
        Zm = z_matrix(instance)
        return {"Z": Zm}, {"D0": Zm.shape[0], "d0": Zm.shape[1]}

    return Model(
        name=f"linear VAE, one learnable diagonal Sigma_n per sample (N={n_samples})",
        description=__doc__.strip().splitlines()[0],
        objective=samplewise_objective(n_samples),
        equation="Appendix C (VAE case)",
        variables=(Variable(U), Variable(V)) + tuple(Variable(S, "positive_diagonal")
                                                     for S in sample_variances(n_samples)),
        data=(Z,),
        hyperparameters=HYPERPARAMETERS,
        fixed_vectors=(),
        latent_dims=(d1,),
        data_dims=(D0, d0),
        statistics=statistics,
        dimensions_strategy=_dimensions(n_samples),
        instance_strategy=_instances(n_samples),
    )
