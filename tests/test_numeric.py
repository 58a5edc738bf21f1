"""The batched damped-Newton minimiser: certificates, honesty when capped, batch = single, float64."""
import sympy as sp
import torch
from sympy import Determinant, MatrixSymbol, Trace, log
from torch.func import hessian

from theorems.theorem4_vae_learnable_sigma import THEOREM as T4
from verifier.batch import group_by_dims, instantiate
from verifier.judge import INCONCLUSIVE
from verifier import numeric
from verifier.matrix_functions import log_det_spd
from verifier.instances import Instance
from verifier.numeric import (Derivatives, MinimiserSettings, Parametrisation, intra_op_threads, minimise,
                              smallest_curvature)
from verifier.pipeline import Pipeline, PipelineSettings, start_scales
from verifier.spec import Model, Variable

n, m = sp.symbols("n m", integer=True, positive=True)
U = MatrixSymbol("U", n, m)
V = MatrixSymbol("V", m, n)
S = MatrixSymbol("S", m, m)
Z = MatrixSymbol("Z", n, n)
DIMS = {n: 3, m: 2}


def model(objective, variables, data=(Z,)):
    return Model(name="test", description="", objective=objective, equation="", variables=variables, data=data,
                 hyperparameters=(), fixed_vectors=(), latent_dims=(m,), data_dims=(n,), statistics=None)


# Strictly convex: ||U - Z[:, :m]||^2 + ||U||^2 is minimised by U = Z[:, :m] / 2, and
# tr(S) - log|S| over positive diagonal S (log-parametrised: e^s - s) by S = I.
ZM = MatrixSymbol("ZM", n, m)
CONVEX = model(Trace((U - ZM).T * (U - ZM)) + Trace(U.T * U) + Trace(S) - log(Determinant(S)),
               (Variable(U), Variable(S, "positive_diagonal")), data=(ZM,))
# Non-convex: U = V = 0 is a stationary saddle of ||UV - Z||^2 whenever Z != 0.
FACTORED = model(Trace((U * V - Z).T * (U * V - Z)), (Variable(U), Variable(V)))


def convex_data(B, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"ZM": torch.randn(B, 3, 2, generator=g, dtype=torch.float64)}


def test_certifies_the_minimum_of_a_convex_objective():
    data = convex_data(5)
    scale = torch.ones(5, dtype=torch.float64)
    res = minimise(CONVEX, DIMS, data, scale, list(range(5)))
    assert bool(res.certified.all())
    assert torch.allclose(res.point["U"], data["ZM"] / 2, atol=1e-10)
    assert torch.allclose(res.point["S"], torch.eye(2, dtype=torch.float64).expand(5, 2, 2), atol=1e-10)
    expected = (data["ZM"] ** 2).sum(dim=(-2, -1)) / 2 + 2.0          # ||Z||^2/2 + (1 - log 1) per diagonal entry
    assert torch.allclose(res.loss, expected, atol=1e-12)
    assert bool((res.min_hessian_eig > 0).all())
    assert bool((res.tolerance_reached_at >= 0).all())


def test_a_stationary_saddle_is_not_certified():
    """The gradient alone would certify U = V = 0; the smallest Hessian eigenvalue must not."""
    Zd = torch.diag(torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64))[None]
    res = minimise(FACTORED, DIMS, {"Z": Zd}, torch.ones(1, dtype=torch.float64), [0],
                   MinimiserSettings(restarts=1), init_scale=torch.zeros(1, dtype=torch.float64))
    assert float(res.grad_norm[0]) == 0.0
    assert float(res.min_hessian_eig[0]) < -1.0
    assert not bool(res.certified[0])
    # The mutant without the eigenvalue check certifies the saddle: the check above has teeth.
    gradient_only = minimise(FACTORED, DIMS, {"Z": Zd}, torch.ones(1, dtype=torch.float64), [0],
                             MinimiserSettings(restarts=1, hessian_max_params=0),
                             init_scale=torch.zeros(1, dtype=torch.float64))
    assert bool(gradient_only.certified[0])


def test_reports_not_certified_when_capped_and_the_claims_say_inconclusive():
    inst = Instance.from_json({"latent": {"d1": 3}, "hyper": {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0},
                               "vectors": {}, "data": {"spectrum": [2.0, 1.0, 0.3], "D0": 4}, "seed": 1})
    capped = PipelineSettings(minimiser=MinimiserSettings(max_iterations=1))
    res = Pipeline(T4, capped).run([inst])[0]
    assert not res.minimiser["certified"]
    assert res.outcomes["optimum"].status == INCONCLUSIVE
    assert res.outcomes["omega"].status == INCONCLUSIVE
    assert Pipeline(T4).run([inst])[0].minimiser["certified"]      # the same instance, uncapped


def _t4_instances():
    spectra = ([2.0, 1.0, 0.3], [1.5, 0.2, 0.1], [3.0, 2.5, 0.7])
    return [Instance.from_json({"latent": {"d1": 2}, "hyper": {"beta": 0.5 + k, "eta_enc": 1.0, "eta_dec": 1.0},
                                "vectors": {}, "data": {"spectrum": s, "D0": 4}, "seed": 10 + k})
            for k, s in enumerate(spectra)]


def _minimise_t4(instances):
    (group,) = group_by_dims(T4, instances)
    batch = instantiate(T4, group)
    init_scale, log_center = start_scales(batch)
    return minimise(T4.model, batch.dims, batch.data, batch.scale, [i.seed for i in instances],
                    init_scale=init_scale, log_center=log_center)


def test_batch_results_equal_single_instance_results():
    instances = _t4_instances()
    together = _minimise_t4(instances)
    for k, inst in enumerate(instances):
        alone = _minimise_t4([inst])
        assert bool(alone.certified[0]) == bool(together.certified[k])
        assert abs(float(alone.loss[0]) - float(together.loss[k])) <= 1e-12 * max(1.0, abs(float(alone.loss[0])))
        assert torch.allclose(alone.restart_losses[0], together.restart_losses[k], rtol=0, atol=1e-11)



def test_a_hessian_taken_with_the_trial_point_or_after_the_step_gives_the_same_bits(monkeypatch):
    """Small batches take a trial point's Hessian with its gradient and keep it where the step is accepted; large
    ones take it after the step, for the accepted problems alone (HESSIAN_WITH_TRIAL_ENTRIES).  Both ways run
    here, on the same problems, and give every result to the bit."""
    instances = _t4_instances()
    hessian_flags = []
    derivatives = Derivatives.__call__

    def recording(self, x, env, hessian):
        hessian_flags.append(hessian)
        return derivatives(self, x, env, hessian)

    monkeypatch.setattr(Derivatives, "__call__", recording)
    runs = {}
    for entries in (0, 10 ** 12):      # never with the trial point; with it wherever most steps are accepted
        monkeypatch.setattr(numeric, "HESSIAN_WITH_TRIAL_ENTRIES", entries)
        hessian_flags.clear()
        runs[entries] = _minimise_t4(instances), hessian_flags.count(False)
    (after, every_trial), (with_trial, trials_without_hessian) = runs[0], runs[10 ** 12]
    assert trials_without_hessian < every_trial / 2       # most trials took their Hessian with them
    exact = dict(rtol=0, atol=0, equal_nan=True)
    for name in ("loss", "grad_norm", "min_hessian_eig", "min_curvature", "restart_losses", "iterations_per_instance",
                 "tolerance_reached_at", "certified"):
        torch.testing.assert_close(getattr(with_trial, name), getattr(after, name), **exact, msg=name)
    for name, matrix in after.point.items():
        torch.testing.assert_close(with_trial.point[name], matrix, **exact, msg=name)

def test_float64_throughout():
    res = _minimise_t4(_t4_instances())
    for t in [res.loss, res.grad_norm, res.min_hessian_eig, res.restart_losses, *res.point.values()]:
        assert t.dtype == torch.float64


def test_batched_hessian_equals_per_problem_autograd_hessian():
    (group,) = group_by_dims(T4, _t4_instances())
    batch = instantiate(T4, group)
    param = Parametrisation(T4.model, batch.dims)
    x = torch.randn(3, param.size, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.5
    for block in (1, 7, 1000):      # any block of directions gives the same Hessian
        f, g, H = Derivatives(T4.model.objective, param, batch.dims, torch.float64, "cpu", block)(
            x, batch.data, hessian=True)
        for k in range(3):
            env = {name: v[k] for name, v in batch.data.items()}
            single = lambda y: Derivatives(T4.model.objective, param, batch.dims, torch.float64, "cpu", 1).loss(y, env)
            assert torch.allclose(H[k], hessian(single)(x[k]), atol=1e-10)


def _cholesky_log_det(S):
    """log|S| by autograd through the Cholesky factor: the route log_det_spd's hand-written derivative replaces."""
    chol, _ = torch.linalg.cholesky_ex(S)
    return 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)


def _full_covariance(a):
    """A symmetric positive definite (not diagonal) 3x3 matrix from 6 numbers: S = L L^T + I."""
    rows, cols = torch.tril_indices(3, 3)
    placement = torch.zeros(6, 9, dtype=a.dtype)
    placement[torch.arange(6), 3 * rows + cols] = 1.0          # a's entries into L's lower triangle
    L = (a @ placement).reshape(*a.shape[:-1], 3, 3)
    return L @ L.mT + torch.eye(3, dtype=a.dtype)


def test_log_det_spd_keeps_the_cholesky_value_and_its_derivatives():
    a = torch.randn(5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    S = _full_covariance(a)
    assert torch.equal(log_det_spd(S), _cholesky_log_det(S))          # the same operations: the same bits
    # gradient (reverse and forward mode) and Hessian (forward over reverse) against the Cholesky route's
    for k in range(5):
        ours = hessian(lambda v: log_det_spd(_full_covariance(v)))(a[k])
        theirs = hessian(lambda v: _cholesky_log_det(_full_covariance(v)))(a[k])
        assert torch.allclose(ours, theirs, rtol=0, atol=1e-12)
        g_ours = torch.func.grad(lambda v: log_det_spd(_full_covariance(v)))(a[k])
        g_theirs = torch.func.grad(lambda v: _cholesky_log_det(_full_covariance(v)))(a[k])
        assert torch.allclose(g_ours, g_theirs, rtol=0, atol=1e-13)
        forward = torch.func.jacfwd(lambda v: log_det_spd(_full_covariance(v)))(a[k])    # its jvp
        assert torch.allclose(forward, g_theirs, rtol=0, atol=1e-13)


def test_log_det_spd_is_nan_where_the_matrix_is_not_positive_definite():
    S = torch.stack([torch.eye(2, dtype=torch.float64), -torch.eye(2, dtype=torch.float64)])
    assert log_det_spd(S)[0] == 0 and torch.isnan(log_det_spd(S)[1])


def test_batched_hessian_through_a_full_covariance_equals_per_problem_hessian():
    """The minimiser's batched Hessian (batched backward through log_det_spd's own derivative) against
    torch.func's, on an objective whose log-determinant is of a full (not diagonal) matrix: U U^T + I."""
    Uf = MatrixSymbol("U", n, n)
    objective = Trace(Uf * Uf.T * Z) - log(Determinant(Uf * Uf.T + sp.Identity(n)))
    full = model(objective, (Variable(Uf),))
    param = Parametrisation(full, DIMS)
    gen = torch.Generator().manual_seed(1)
    data = {"Z": torch.randn(4, 3, 3, dtype=torch.float64, generator=gen)}
    x = torch.randn(4, param.size, dtype=torch.float64, generator=gen)
    _, _, H = Derivatives(full.objective, param, DIMS, torch.float64, "cpu", 4)(x, data, hessian=True)
    for k in range(4):
        env = {"Z": data["Z"][k]}
        single = lambda y: Derivatives(full.objective, param, DIMS, torch.float64, "cpu", 1).loss(y, env)
        assert torch.allclose(H[k], hessian(single)(x[k]), rtol=0, atol=1e-10)


def test_minimiser_restores_the_thread_setting():
    before = torch.get_num_threads()
    minimise(CONVEX, DIMS, convex_data(2), torch.ones(2, dtype=torch.float64), [0, 1],
             MinimiserSettings(cpu_threads=1))
    assert torch.get_num_threads() == before


def test_intra_op_threads_sets_and_restores_the_cpu_thread_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with intra_op_threads(1, "cpu"):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with intra_op_threads(None, "cpu"):          # None leaves torch's setting alone
            assert torch.get_num_threads() == 2
        try:
            with intra_op_threads(1, "cpu"):
                raise RuntimeError("inside")
        except RuntimeError:
            pass
        assert torch.get_num_threads() == 2          # restored on an exception too
    finally:
        torch.set_num_threads(before)


def test_curvature_ignores_the_null_directions_of_a_symmetry():
    """The factored objective ||Z - UV||^2 is invariant under U -> UQ, V -> Q^T V: its Hessian at a minimum
    has a zero eigenvalue per generator of those rotations. The curvature that bounds how far the point may
    lie from the minimiser is the smallest eigenvalue above them, not the zero (which would bound nothing)."""
    Zd = torch.diag(torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64))[None]
    res = minimise(FACTORED, DIMS, {"Z": Zd}, torch.ones(1, dtype=torch.float64), [0])
    assert bool(res.certified[0])
    assert abs(float(res.min_hessian_eig[0])) < 1e-8                 # the rotation's null direction
    assert float(res.min_curvature[0]) > 1e-3


def test_smallest_curvature_skips_eigenvalues_at_or_below_the_cutoff():
    eigenvalues = torch.tensor([[-1e-13, 2e-9, 1e-5, 3.0], [-1e-13, 0.0, 1e-12, 1e-10]], dtype=torch.float64)
    curvature = smallest_curvature(eigenvalues, torch.tensor([1e-8, 1e-8], dtype=torch.float64))
    assert float(curvature[0]) == 1e-5
    assert torch.isnan(curvature[1])
