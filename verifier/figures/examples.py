"""Representative instances of any registered theorem, for plots (not for verification:
the verdicts come from the Hypothesis search).

``representative`` builds a readable instance generically from the model: every latent
dimension n, every hyperparameter 1, distinct fixed vectors, and data X whose Z has a
chosen spectrum -- by default placed above the theorem's first threshold by different
factors, so that a sweep of beta crosses every index's collapse threshold.  A model
whose data this cannot describe (paired data, per-sample models) gets a seeded
Hypothesis draw from its own strategy instead.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings as hsettings

from ..batch import statistics_of
from ..errors import VerifierError
from ..hypothesis_pool import without_local_constants
from ..instances import Instance
from ..strategies import instances, threshold_values

# theta_i / threshold_i at the default hyperparameters: beta in [0.1, 10] moves sqrt(beta) over [0.32, 3.2].
ABOVE_THRESHOLD = (2.4, 1.5, 1.1, 0.8, 0.6)


def synthetic_X(theta, D0: int, N: int, rng: np.random.Generator) -> np.ndarray:
    """N samples in R^D0 whose Z = P_A Phi^(1/2) has singular values ``theta``."""
    Q = np.linalg.qr(rng.standard_normal((N, len(theta))))[0]
    P = np.linalg.qr(rng.standard_normal((D0, len(theta))))[0]
    return np.sqrt(N) * (Q * np.asarray(theta)) @ P.T


def _factors(n: int) -> list[float]:
    return [ABOVE_THRESHOLD[i % len(ABOVE_THRESHOLD)] for i in range(n)]


def _usable(theorem, inst) -> bool:
    try:
        statistics_of(theorem, inst)
        return True
    except (VerifierError, KeyError, ValueError, TypeError, IndexError):
        return False


def representative(theorem, *, n: int = 3, seed: int = 0, X: np.ndarray | None = None) -> Instance:
    """An instance with every latent dimension ``n`` (see the module docstring)."""
    model = theorem.model
    latent = {str(d): n for d in model.latent_dims}
    hyper = {h.symbol.name: 1.0 for h in model.hyperparameters}
    vectors = {fv.name: tuple(np.linspace(0.7, 1.3, latent.get(str(fv.length), n))) for fv in model.fixed_vectors}
    rng = np.random.default_rng(seed)
    chosen = X is None
    if chosen:
        try:
            thresholds = threshold_values(theorem, hyper, vectors, n)
        except Exception:                 # noqa: BLE001 - a threshold this generic code cannot evaluate
            thresholds = np.ones(n)
        theta = sorted((t * f for t, f in zip(np.maximum(thresholds, 1e-3), _factors(n))), reverse=True)
        X = synthetic_X(theta, n, 4 * n, rng)
    inst = Instance(latent, hyper, vectors, X=X, seed=seed)
    if _usable(theorem, inst):
        return inst
    if chosen:                            # a model that fixes its sample count may take the spectrum itself
        inst = Instance(latent, hyper, vectors, spectrum=tuple(theta), D0=n, seed=seed)
        if _usable(theorem, inst):
            return inst
    return _with_readable_data(theorem, drawn(theorem, seed), rng, X is None)


def _with_readable_data(theorem, inst: Instance, rng, replace_data: bool) -> Instance:
    """A drawn instance's shape (dimensions, sample count) with unit hyperparameters and, where we
    choose the data, a spectrum above the thresholds -- kept only if the model accepts it."""
    if inst.X is None or not replace_data:
        return inst
    N, D0 = inst.X.shape
    n = max(int(v) for v in inst.latent.values())
    hyper = {k: 1.0 for k in inst.hyper}
    try:
        thresholds = threshold_values(theorem, hyper, inst.vectors, n)
    except Exception:                     # noqa: BLE001
        thresholds = np.ones(n)
    k = min(N, D0, n)
    theta = sorted((t * f for t, f in zip(np.maximum(thresholds, 1e-3), _factors(n))), reverse=True)[:k]
    candidate = Instance(inst.latent, hyper, inst.vectors, X=synthetic_X(theta, D0, N, rng), Y=inst.Y, seed=inst.seed)
    return candidate if _usable(theorem, candidate) else inst


def drawn(theorem, seed: int = 0, max_dim: int = 3) -> Instance:
    """The first instance of the theorem's own Hypothesis strategy under ``seed`` (whatever was imported)."""
    return drawn_many(theorem, 1, seed, max_dim)[0]


def drawn_many(theorem, count: int, seed: int = 0, max_dim: int = 3) -> list[Instance]:
    """The first ``count`` instances of the theorem's own Hypothesis strategy under ``seed`` (the first is
    the strategy's simplest; the others vary dimensions and data)."""
    box = []

    @hsettings(max_examples=count, database=None, deadline=None, phases=(Phase.generate,),
               suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(instances(theorem, max_dim))
    def draw(inst):
        box.append(inst)

    with without_local_constants():
        draw()
    return box[:count]


def with_hyper(inst: Instance, **hyper: float) -> Instance:
    """The same instance with some hyperparameters changed."""
    return Instance(inst.latent, {**inst.hyper, **hyper}, inst.vectors, X=inst.X, Y=inst.Y,
                    spectrum=inst.spectrum, D0=inst.D0, seed=inst.seed)
