"""The damped Newton loop evaluates no step it rejects for want of a positive definite factor: where H + mu I is
not positive definite it raises mu at once and factors again.  Every point, count and certificate is the plain
loop's -- the one that evaluates every trial, with its gradient and Hessian, and rejects such a step after
evaluating it -- to the bit."""
import pytest
import torch
from sympy import MatrixSymbol, Trace

from theorems.theorem3_mhvae_fixed_sigma1 import THEOREM as T3
from theorems.theorem4_vae_learnable_sigma import THEOREM as T4
from verifier import numeric
from verifier.batch import group_by_dims, instantiate
from verifier.error_model import LOSS_ROUNDING_ULPS
from verifier.instances import Instance
from verifier.damping import STALL_LIMIT
from verifier.numeric import Derivatives, MinimiserSettings, Parametrisation, damped_newton, diverged
from verifier.pipeline import start_scales
from verifier.spec import Variable

from test_numeric import DIMS, FACTORED, U, model

C = MatrixSymbol("C", 2, 2)
# ||U^T U||^2 - tr(C U^T U) with C = c I: a local maximum at U = 0 (Hessian -2c I), minima at ||U||^2 ~ c.
HILL = model(Trace(U.T * U * U.T * U) - Trace(C * U.T * U), (Variable(U),), data=(C,))


def plain_damped_newton(derivatives, x, env, pscale, settings):
    """The oracle: every iteration factors H + mu I and evaluates the trial point with its gradient and Hessian;
    a factor that is not positive definite makes the trial a rejected step (mu raised tenfold)."""
    N, P = x.shape
    x, eye = x.clone(), torch.eye(P, dtype=x.dtype)
    mu = 1e-3 * pscale
    f, g, H = derivatives(x, env, hessian=True)
    gnorm = g.norm(dim=-1)
    stalls, ran = torch.zeros(N, dtype=torch.long), torch.zeros(N, dtype=torch.long)
    reached = torch.where(gnorm <= settings.grad_rtol * pscale, 0, -1)
    noise_factor = LOSS_ROUNDING_ULPS * torch.finfo(x.dtype).eps
    it = 0
    for it in range(1, settings.max_iterations + 1):
        stationary = gnorm <= settings.grad_rtol * pscale
        finished = ((gnorm <= 1e-4 * settings.grad_rtol * pscale) | (stationary & (stalls >= STALL_LIMIT))
                    | diverged(f, pscale))
        live = (~finished).nonzero().squeeze(-1)
        if live.numel() == 0:
            break
        ran[live] += 1
        Hl, gl, fl, mul = H[live], g[live], f[live], mu[live]
        L, info = torch.linalg.cholesky_ex(Hl + mul[:, None, None] * eye)
        pd = info == 0
        L = torch.where(pd[:, None, None], L, eye.expand_as(L))
        x_new = x[live] - torch.cholesky_solve(gl.unsqueeze(-1), L).squeeze(-1)
        f_new, g_new, H_new = derivatives(x_new, {k: v[live] for k, v in env.items()}, hessian=True)
        gnorm_new = g_new.norm(dim=-1)
        noise = noise_factor * torch.maximum(fl.abs(), pscale[live])
        improves = (f_new < fl) | ((f_new <= fl + noise) & (gnorm_new < gnorm[live]))
        accept = pd & torch.isfinite(f_new) & improves
        progress = accept & ((f_new < fl - noise) | (gnorm_new <= 0.5 * gnorm[live]))
        x[live] = torch.where(accept[:, None], x_new, x[live])
        f[live] = torch.where(accept, f_new, fl)
        g[live] = torch.where(accept[:, None], g_new, gl)
        gnorm[live] = torch.where(accept, gnorm_new, gnorm[live])
        mu[live] = torch.where(accept, mul * 0.3, mul * 10.0).clamp(1e-16 * pscale[live], 1e16 * pscale[live])
        stalls[live] = torch.where(progress, torch.zeros_like(stalls[live]), stalls[live] + 1)
        now_within = (gnorm[live] <= settings.grad_rtol * pscale[live]) & (reached[live] < 0)
        reached[live] = torch.where(now_within, it, reached[live])
        H[live] = torch.where(accept[:, None, None], H_new, Hl)
    return numeric.NewtonRun(x, f, g, H, ran, reached, it)


class Counted(Derivatives):
    """Derivatives that count their calls (a call's cost is mostly fixed in small batches)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.calls = 0

    def __call__(self, x, env, hessian):
        self.calls += 1
        return super().__call__(x, env, hessian)


def assert_same_run(run, oracle):
    exact = dict(rtol=0, atol=0, equal_nan=True)
    for name in ("x", "loss", "grad", "hessian", "ran", "reached"):
        torch.testing.assert_close(getattr(run, name), getattr(oracle, name), **exact, msg=name)
    assert run.iterations == oracle.iterations


def factored_problems(N, seed, start_scale):
    """N problems ||U V - Z||^2 (non-convex: saddles, indefinite Hessians far from the minima)."""
    gen = torch.Generator().manual_seed(seed)
    param = Parametrisation(FACTORED, DIMS)
    Z = torch.randn(N, 3, 3, generator=gen, dtype=torch.float64)
    x = torch.stack([param.initial(gen, start_scale, 0.0, torch.float64, "cpu") for _ in range(N)])
    derivatives = Counted(FACTORED.objective, param, DIMS, torch.float64, "cpu", 64)
    return derivatives, x, {"Z": Z}, (Z ** 2).sum(dim=(-2, -1))


def hill_problems():
    """Problems started by the maximum at U = 0: the shifted Hessian is not positive definite until mu > 2c.
    Started within the gradient tolerance, a problem stops there by stalling -- with c = 1000 within the run of
    rejected factors, with c = 1 after the steps that follow it (~1e-20 lower loss, a larger gradient) --;
    started further off, it leaves the maximum for a minimum."""
    cs, offsets = (1.0, 1000.0, 1.0, 1000.0), (1e-14, 1e-14, 1e-3, 1e-3)
    gen = torch.Generator().manual_seed(4)
    x = torch.cat([offset * torch.randn(1, 6, generator=gen, dtype=torch.float64) for offset in offsets])
    env = {"C": torch.stack([c * torch.eye(2, dtype=torch.float64) for c in cs])}
    param = Parametrisation(HILL, DIMS)
    derivatives = Counted(HILL.objective, param, DIMS, torch.float64, "cpu", 64)
    return derivatives, x, env, torch.ones(len(cs), dtype=torch.float64)


def theorem_problems(theorem, instances, restarts=4):
    (group,) = group_by_dims(theorem, instances)
    batch = instantiate(theorem, group)
    init_scale, log_center = start_scales(batch)
    param = Parametrisation(theorem.model, batch.dims)
    derivatives = Counted(theorem.model.objective, param, batch.dims, torch.float64, "cpu", 64)
    gen = torch.Generator().manual_seed(0)
    x = torch.stack([param.initial(gen, float(init_scale[b]), float(log_center[b]), torch.float64, "cpu")
                     for b in range(len(instances)) for _ in range(restarts)])
    env = {k: v.repeat_interleave(restarts, dim=0) for k, v in batch.data.items()}
    return derivatives, x, env, batch.scale.repeat_interleave(restarts)


def t4_instances():
    return [Instance.from_json({"latent": {"d1": 2}, "hyper": {"beta": 0.5 + k, "eta_enc": 1.0, "eta_dec": 1.0},
                                "vectors": {}, "data": {"spectrum": s, "D0": 4}, "seed": 10 + k})
            for k, s in enumerate(([2.0, 1.0, 0.3], [1.5, 0.2, 0.1], [3.0, 2.5, 0.7]))]


def t3_instances():
    return [Instance.from_json({"latent": {"d1": 2, "d2": 2},
                                "hyper": {"beta1": 0.7 + k, "beta2": 1.3, "eta_enc": 1.0, "eta_dec": 1.0,
                                          "sigma1": 0.8},
                                "data": {"spectrum": [2.5, 1.2, 0.4], "D0": 3}, "seed": 3 + k})
            for k in range(2)]


CASES = {
    "factored, random starts": lambda: factored_problems(12, seed=1, start_scale=1.0),
    "factored, starts by a saddle": lambda: factored_problems(6, seed=2, start_scale=1e-9),
    "started by a maximum": hill_problems,
    # N P^2 above HESSIAN_WITH_TRIAL_ENTRIES: the Hessian taken after the step, for the accepted problems
    "factored, a large batch": lambda: factored_problems(300, seed=3, start_scale=2.0),
    "theorem 4 (learnable Sigma)": lambda: theorem_problems(T4, t4_instances()),
    "theorem 3 (MHVAE)": lambda: theorem_problems(T3, t3_instances()),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("max_iterations", [1000, 3])
def test_the_loop_is_the_plain_loop_to_the_bit(case, max_iterations):
    settings = MinimiserSettings(max_iterations=max_iterations)
    derivatives, x, env, pscale = CASES[case]()
    oracle = plain_damped_newton(derivatives, x, env, pscale, settings)
    assert_same_run(damped_newton(derivatives, x, env, pscale, settings), oracle)


def rejected_factors(derivatives, x, env, pscale, settings, loop):
    """How many times ``loop`` met a shifted Hessian that is not positive definite, and its derivative calls."""
    failures = []
    cholesky = torch.linalg.cholesky_ex

    def recording(A, *args, **kwargs):
        L, info = cholesky(A, *args, **kwargs)
        if A.shape[-1] == x.shape[-1]:         # the loop's factors, not a log-determinant's inside the loss
            failures.append(int((info != 0).sum()))
        return L, info

    derivatives.calls = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.linalg, "cholesky_ex", recording)
        run = loop(derivatives, x, env, pscale, settings)
    return sum(failures), derivatives.calls, run


@pytest.mark.parametrize("case", ["factored, random starts", "started by a maximum", "theorem 3 (MHVAE)"])
def test_a_factor_that_is_not_positive_definite_costs_no_evaluation(case):
    """The cases meet such factors (far from a minimum, and at a maximum, where problems stop by stalling as the
    plain loop stops them); the loop makes fewer derivative calls than the plain loop, which evaluates them."""
    problems = CASES[case]()
    settings = MinimiserSettings()
    failed, plain_calls, _ = rejected_factors(*problems, settings, plain_damped_newton)
    failed_again, calls, _ = rejected_factors(*problems, settings, damped_newton)
    assert failed > 0 and failed_again == failed
    assert calls < plain_calls


def test_at_the_maximum_the_problems_stop_where_the_plain_loop_stops_them():
    derivatives, x, env, pscale = hill_problems()
    run = damped_newton(derivatives, x, env, pscale, MinimiserSettings())
    stalled, escaped = slice(0, 2), slice(2, 4)
    assert bool((run.x[stalled].abs() < 1e-9).all()) and bool((run.ran[stalled] <= 12).all())
    assert run.ran[1] == STALL_LIMIT                   # c = 1000: six factors rejected in a row, no step taken
    assert bool((run.x[escaped].abs().max(dim=-1).values > 0.1).all())
