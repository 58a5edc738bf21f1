"""Tests of verifier.symbolic: gradients against autograd, the reduction, the closed-form checks.

Run with ``pytest -s`` to see every finding printed.
"""
import dataclasses
import time

import numpy as np
import pytest
import sympy as sp
import torch

from theorems.linear_vae import D0, beta, c, d0, d1, eta_dec, eta_enc, lam, omega, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as THEOREM1
from theorems.theorem4_vae_learnable_sigma import THEOREM as THEOREM4
from verifier.errors import SpecError
from verifier.lowering import evaluate
from verifier.symbolic import (
    REFUTED, VERIFIED, SymbolicFinding, check_closed_forms, matrix_gradients, reduced_objective,
)

THEOREMS = {"theorem1": THEOREM1, "theorem4": THEOREM4}


# --------------------------------------------------------------------------- random instances


def _random_spd(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.standard_normal((n, n))
    return a @ a.T + 0.5 * np.eye(n)


def _random_environment(model, rng: np.random.Generator):
    """Random dims, matrices (Sigma symmetric positive definite) and hyperparameters for ``model``."""
    dims = {D0: int(rng.integers(1, 5)), d0: int(rng.integers(1, 5)), d1: int(rng.integers(1, 5))}
    env = {}
    for m in [v.symbol for v in model.variables] + list(model.data):
        rows, cols = (int(sp.sympify(s).subs(dims)) for s in m.shape)
        value = _random_spd(rng, rows) if m.name == "Sigma" else rng.standard_normal((rows, cols))
        env[m.name] = torch.tensor(value, dtype=torch.float64)
    for h in model.hyperparameters:
        env[h.symbol.name] = float(np.exp(rng.uniform(-1, 1)))
    return env, dims


# --------------------------------------------------------------------------- matrix gradients


@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_matrix_gradients_match_autograd(name):
    model = THEOREMS[name].model
    gradients = matrix_gradients(model)
    assert set(gradients) == set(model.variable_names)
    rng = np.random.default_rng(1234)
    for _ in range(6):
        env, dims = _random_environment(model, rng)
        leaves = {n: env[n].clone().requires_grad_(True) for n in model.variable_names}
        loss = evaluate(model.objective, {**env, **leaves}, dims)
        autograd = torch.autograd.grad(loss, [leaves[n] for n in model.variable_names])
        for n, expected in zip(model.variable_names, autograd):
            derived = evaluate(gradients[n], env, dims)
            assert derived.shape == expected.shape, (n, dims)
            assert torch.allclose(derived, expected, rtol=1e-9, atol=1e-9), (
                f"{name}: d objective / d{n} = {gradients[n]} disagrees with autograd at dims {dims}:\n"
                f"{derived}\nvs\n{expected}")


def test_log_det_gradient_is_inverse_transpose():
    # sympy 1.14 returns 0 for d log|Sigma| / dSigma; the module must use Sigma^{-T} instead
    Sigma = THEOREM4.model.matrix("Sigma")
    gradient = matrix_gradients(THEOREM4.model)["Sigma"]
    inverses = [node for node in sp.preorder_traversal(gradient) if isinstance(node, sp.Inverse)]
    assert inverses and all(node.arg in (Sigma, Sigma.T) for node in inverses)


def test_sympy_objective_equals_torch_evaluation():
    """The objective evaluated by sympy on explicit rational matrices equals the torch lowering."""
    model = THEOREM4.model
    rng = np.random.default_rng(7)
    dims = {D0: 3, d0: 2, d1: 2}
    values = {}
    for m in [v.symbol for v in model.variables] + list(model.data):
        rows, cols = (int(sp.sympify(s).subs(dims)) for s in m.shape)
        if m.name == "Sigma":
            entries = sp.Matrix(rows, rows, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), 7))
            entries = entries * entries.T + sp.eye(rows)
        else:
            entries = sp.Matrix(rows, cols, lambda i, j: sp.Rational(int(rng.integers(-9, 10)), 5))
        values[m.name] = sp.ImmutableMatrix(entries)
    hyper = {beta: sp.Rational(3, 2), eta_enc: sp.Rational(4, 5), eta_dec: sp.Rational(6, 5)}
    sized = model.objective.xreplace(dims)
    replacements = {sp.MatrixSymbol(n, *v.shape): v for n, v in values.items()}
    by_sympy = sized.subs(replacements).subs(hyper).doit()
    env = {n: torch.tensor(np.array(v.tolist(), dtype=float), dtype=torch.float64) for n, v in values.items()}
    env.update({s.name: float(v) for s, v in hyper.items()})
    by_torch = evaluate(model.objective, env, dims)
    assert float(sp.N(by_sympy, 30)) == pytest.approx(float(by_torch), rel=1e-12)


# --------------------------------------------------------------------------- reduced objective


def _paper_g(sigma):
    # (18)/(27): (1/eta_dec^2)[(omega lambda - theta)^2 + sigma^2 omega^2 + beta c^2 lambda^2 + beta c^2 sigma^2] - beta log sigma^2
    return ((omega * lam - theta) ** 2 + sigma**2 * omega**2 + beta * c**2 * lam**2 + beta * c**2 * sigma**2) \
        / eta_dec**2 - beta * sp.log(sigma**2)


@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_reduced_objective_is_the_per_index_problem(name):
    g = reduced_objective(THEOREMS[name])
    assert sp.simplify(sp.expand_log(g - _paper_g(sigma_p), force=True)) == 0


def test_reduction_missing_a_matrix_is_a_spec_error():
    broken = dataclasses.replace(
        THEOREM1, reduction=dataclasses.replace(THEOREM1.reduction, matrices=THEOREM1.reduction.matrices[:-1]))
    with pytest.raises(SpecError, match="Sigma"):
        reduced_objective(broken)


def test_variable_without_closed_form_is_a_spec_error():
    # sigma'_i is data in Theorem 1: declaring it a reduction variable leaves it without a closed form
    broken = dataclasses.replace(
        THEOREM1, reduction=dataclasses.replace(THEOREM1.reduction, variables=(omega, lam, sigma_p)))
    with pytest.raises(SpecError, match="no closed form"):
        check_closed_forms(broken)


# --------------------------------------------------------------------------- closed forms


def _show(title, findings, seconds):
    print(f"\n{title} ({seconds:.1f} s):")
    for f in findings:
        print(f"  {f}")


@pytest.mark.parametrize("name", sorted(THEOREMS))
def test_closed_forms_are_verified(name):
    start = time.perf_counter()
    findings = check_closed_forms(THEOREMS[name], seed=0)
    _show(name, findings, time.perf_counter() - start)
    assert all(isinstance(f, SymbolicFinding) for f in findings)
    assert {f.check for f in findings} == {"stationarity", "global_minimum", "continuity"}
    assert [f for f in findings if f.status != VERIFIED] == []
    # both sides of the threshold and the threshold itself are covered
    assert sum(f.check == "stationarity" for f in findings) == 2
    assert any(f.check == "global_minimum" and "=" in f.branch for f in findings)
    # the exact route succeeds on the true theorems; sampled evidence is never worded as proof
    assert all("exact" in f.method for f in findings if f.check != "global_minimum")
    assert all("not proved" in f.evidence for f in findings if f.check == "global_minimum")


def test_findings_are_deterministic_given_seed():
    assert check_closed_forms(THEOREM4, seed=3) == check_closed_forms(THEOREM4, seed=3)


def _threshold1(scale):
    return scale * sigma_p * c


def _omega1(threshold, root=True):
    inner = sp.Max(0, sp.sqrt(beta) * eta_dec / (eta_enc * sigma_p) * (theta - threshold))
    return sp.sqrt(inner) if root else inner


def _lambda1(threshold):
    return sp.sqrt(sp.Max(0, eta_enc * sigma_p / (sp.sqrt(beta) * eta_dec) * (theta - threshold)))


# each mutant, and the closed forms its refutations must blame (those it changed)
MUTANTS = {
    "theorem1: omega without its square root":
        (lambda: THEOREM1.replace_closed_form(omega, _omega1(_threshold1(sp.sqrt(beta)), root=False)), {"omega"}),
    "theorem4: theta**2 written for theta in omega":
        (lambda: THEOREM4.replace_closed_form(omega, sp.sqrt(sp.Max(0, theta**4 - beta * eta_dec**2)) / eta_enc),
         {"omega"}),
    "theorem1: threshold sigma_p*c without sqrt(beta)":
        (lambda: THEOREM1.replace_closed_form(omega, _omega1(_threshold1(1)))
                         .replace_closed_form(lam, _lambda1(_threshold1(1))), {"omega", "lambda"}),
    "theorem4: eta_enc and theta swapped in lambda":
        (lambda: THEOREM4.replace_closed_form(lam, sp.Piecewise(
            (theta / eta_enc * sp.sqrt(theta**2 - beta * eta_dec**2), sp.StrictGreaterThan(theta, sp.sqrt(beta) * eta_dec)),
            (0, True))), {"lambda"}),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mutated_closed_form_is_refuted(mutant):
    start = time.perf_counter()
    build, changed = MUTANTS[mutant]
    findings = check_closed_forms(build(), seed=0)
    _show(mutant, findings, time.perf_counter() - start)
    refuted = [f for f in findings if f.status == REFUTED]
    assert refuted, f"{mutant}: no REFUTED finding"
    assert all(f.counterexample for f in refuted)
    # a wrong closed form is never called a stationary point
    assert any(f.check == "stationarity" for f in refuted)
    # each refutation is blamed on changed closed forms only, and every changed one is blamed somewhere
    assert all(f.blamed and set(f.blamed) <= changed for f in refuted), [(f.check, f.blamed) for f in refuted]
    assert set().union(*(f.blamed for f in refuted)) == changed


def test_jump_across_the_threshold_is_refuted():
    from theorems.theorem4_vae_learnable_sigma import threshold
    jumping = THEOREM4.replace_closed_form(sigma_p, sp.Piecewise(
        (sp.sqrt(beta) * eta_enc * eta_dec / theta, sp.GreaterThan(theta, threshold)), (2 * eta_enc, True)))
    findings = check_closed_forms(jumping, seed=0)
    continuity = [f for f in findings if f.check == "continuity"]
    assert [f.status for f in continuity] == [REFUTED]
    assert "sigma_p below" in continuity[0].counterexample
    assert {f.blamed for f in findings if f.status == REFUTED} == {("sigma_p",)}


def test_printed_lambda_is_undefined_at_theta_zero():
    # (eta_enc/theta) sqrt(max(0, theta^2 - beta eta_dec^2)) is 0/0 at theta = 0 (indices past d0);
    # the spec writes it piecewise for that reason, and the printed form must be caught
    printed = THEOREM4.replace_closed_form(lam, eta_enc / theta * sp.sqrt(sp.Max(0, theta**2 - beta * eta_dec**2)))
    findings = check_closed_forms(printed, seed=0)
    refuted = [f for f in findings if f.status == REFUTED]
    assert [f.branch for f in refuted] == ["theta = 0 (edge of the domain)"]
    assert "nan" in refuted[0].evidence
    assert refuted[0].blamed == ("lambda",)


def test_groebner_budget_counts_cpu_time_not_waiting():
    """A face's budget is CPU time: a wait (a loaded machine's, here a sleep) spends none of it,
    work spends it and is cut off."""
    from verifier.budget import BudgetExceeded, call_with_budget
    assert call_with_budget(1, time.sleep, 2.5) is None
    with pytest.raises(BudgetExceeded):          # uncut, the spin would return "not cut off"
        call_with_budget(1, _spin_cpu, 30)


def _spin_cpu(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return "not cut off"
