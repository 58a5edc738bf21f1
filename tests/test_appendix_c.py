"""Appendix C (one encoder variance per sample, VAE case): the model, the printed claims, mutants.

The per-sample objective is checked against the printed per-sample ELBO computed sample by sample,
and against (10) when every Sigma_n is equal; the printed claims (8), 'all Sigma_n equal' and the
shared-variance optimum go through the same search as Theorems 1 and 4; the VAE case of (9) is
refuted exactly when eta_enc != eta_dec; and wrong variants of (8) and of Theorem 4's roots are
REFUTED by the same machinery that verifies the printed forms.
"""
import dataclasses

import numpy as np
import pytest
import sympy as sp
import torch
from sympy import Identity, Inverse

from theorems.appendix_c_samplewise_variance import THEOREM, sample_stds, samplewise_theorem
from theorems.linear_vae import D0, OBJECTIVE as OBJECTIVE_10, U, V, Z, beta, c, d0, d1, eta_dec, eta_enc, omega, theta
from theorems.samplewise_vae import sample_variances, samplewise_objective, samplewise_vae
from theorems.theorem4_vae_learnable_sigma import threshold
from verifier.judge import REFUTED, VERIFIED
from verifier.cli import main
from verifier.errors import InstanceError
from verifier.instances import Instance, whitened_second_moment
from verifier.lowering import evaluate
from verifier.spec import MatrixRelationFamily
from verifier.symbolic import check_closed_forms, matrix_gradients, reduced_objective
from verifier.verdicts import check_instance, check_theorem

PRINTED_TRUE = ["optimum", "all_equal", "sigma_8", "omega", "lambda", "sigma"]


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T + 0.5 * np.eye(n)


def _hyper(rng):
    return {"beta": float(np.exp(rng.uniform(-1, 1))), "eta_enc": float(np.exp(rng.uniform(-1, 1))),
            "eta_dec": float(np.exp(rng.uniform(-1, 1)))}


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize("n_samples", [1, 2, 3])
def test_objective_is_the_printed_per_sample_negative_elbo(n_samples):
    """(1/N) sum_n [(1/eta_dec^2)(||UWx_n - x_n||^2 + tr(U Sigma_n U^T) + beta c^2(||Wx_n||^2 + tr Sigma_n))
    - beta log|Sigma_n|], computed row by row from X, equals the matrix objective with V = W P_A Phi^{1/2}."""
    rng = np.random.default_rng(n_samples)
    for _ in range(4):
        D0_, d1_ = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        X = rng.standard_normal((n_samples, D0_))
        W, Um = rng.standard_normal((d1_, D0_)), rng.standard_normal((D0_, d1_))
        sigmas = [np.diag(np.exp(rng.uniform(-1, 1, d1_))) for _ in range(n_samples)]
        h = _hyper(rng)
        bc2 = h["beta"] * (h["eta_dec"] / h["eta_enc"]) ** 2
        printed = np.mean([(np.sum((Um @ W @ x - x) ** 2) + np.trace(Um @ S @ Um.T)
                            + bc2 * (np.sum((W @ x) ** 2) + np.trace(S))) / h["eta_dec"] ** 2
                           - h["beta"] * np.linalg.slogdet(S)[1] for x, S in zip(X, sigmas)])
        P_A, Phi = whitened_second_moment(X)
        Zm = P_A * np.sqrt(Phi)
        env = {"U": Um, "V": W @ Zm, "Z": Zm, **{f"Sigma_{n + 1}": S for n, S in enumerate(sigmas)}}
        env = {k: torch.tensor(v, dtype=torch.float64) for k, v in env.items()}
        dims = {D0: D0_, d0: Zm.shape[1], d1: d1_}
        value = float(evaluate(samplewise_objective(n_samples), {**env, **h}, dims))
        assert value == pytest.approx(printed, rel=1e-10, abs=1e-10)


def test_equal_variances_give_the_shared_objective_10():
    """With Sigma_1 = ... = Sigma_N = Sigma (any SPD matrix) the objective is (10) at Sigma: the basis of
    comparing minimum values with Theorem 4."""
    rng = np.random.default_rng(3)
    for n_samples in (2, 3, 4):
        dims = {D0: int(rng.integers(1, 5)), d0: int(rng.integers(1, 4)), d1: int(rng.integers(1, 4))}
        shape = lambda m: tuple(int(sp.sympify(s).subs(dims)) for s in m.shape)
        env = {m.name: torch.tensor(rng.standard_normal(shape(m))) for m in (U, V, Z)}
        Sigma = torch.tensor(_spd(rng, dims[d1]))
        env.update({S.name: Sigma for S in sample_variances(n_samples)}, Sigma=Sigma, **_hyper(rng))
        assert float(evaluate(samplewise_objective(n_samples), env, dims)) == pytest.approx(
            float(evaluate(OBJECTIVE_10, env, dims)), rel=1e-12)


def test_matrix_gradients_match_autograd():
    model = samplewise_vae(3)
    gradients = matrix_gradients(model)
    rng = np.random.default_rng(11)
    for _ in range(4):
        dims = {D0: int(rng.integers(1, 5)), d0: int(rng.integers(1, 4)), d1: int(rng.integers(1, 4))}
        env = {}
        for m in [v.symbol for v in model.variables] + list(model.data):
            rows, cols = (int(sp.sympify(s).subs(dims)) for s in m.shape)
            value = _spd(rng, rows) if m.name.startswith("Sigma") else rng.standard_normal((rows, cols))
            env[m.name] = torch.tensor(value)
        env.update(_hyper(rng))
        leaves = {n: env[n].clone().requires_grad_(True) for n in model.variable_names}
        loss = evaluate(model.objective, {**env, **leaves}, dims)
        for n, expected in zip(model.variable_names, torch.autograd.grad(loss, list(leaves.values()))):
            assert torch.allclose(evaluate(gradients[n], env, dims), expected, rtol=1e-9, atol=1e-9), n


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="n_samples=0"):
        samplewise_vae(0)
    wrong_rows = Instance({"d1": 2}, {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0}, {}, X=np.ones((5, 2)))
    with pytest.raises(InstanceError, match="5 rows.*N=3"):
        THEOREM.model.statistics(wrong_rows.validate(THEOREM.model))


def test_cli_rejects_a_data_matrix_with_the_wrong_number_of_samples(capsys):
    instance = '{"latent":{"d1":1},"hyper":{"beta":1,"eta_enc":1,"eta_dec":1},"data":{"X":[[1.0],[2.0]]}}'
    assert main(["solve", "appendix_c", "--instance", instance]) == 2
    assert "2 rows" in capsys.readouterr().err


# --------------------------------------------------------------------------- symbolic


def test_reduction_keeps_one_variance_per_sample_and_is_verified():
    """g has a separate sigma_n per sample (the equality is not assumed); every symbolic check passes."""
    g = reduced_objective(THEOREM)
    assert all(g.has(s) for s in sample_stds(3))
    findings = check_closed_forms(THEOREM)
    assert findings and all(f.status == VERIFIED for f in findings), [str(f) for f in findings
                                                                      if f.status != VERIFIED]


def test_symbolic_check_refutes_a_missing_root_in_the_per_sample_std():
    """(30) with the root over beta dropped, for one sample only: the reduced problem catches it."""
    s2 = sample_stds(2)[1]
    wrong = sp.Piecewise((beta * eta_enc * eta_dec / theta, sp.GreaterThan(theta, threshold)), (eta_enc, True))
    mutant = samplewise_theorem(2).replace_closed_form(s2, wrong, name="missing_root_in_sigma_2")
    assert any(f.status == REFUTED for f in check_closed_forms(mutant))


# --------------------------------------------------------------------------- the printed claims


def test_printed_claims_are_verified(budget):
    verdict = check_theorem(THEOREM, instances=2 * budget, claims=PRINTED_TRUE, symbolic=False)
    for claim in verdict.claims:
        assert claim.status == VERIFIED, f"{claim.claim.name}: {claim.detail}"
        assert claim.counts[VERIFIED] >= budget, (claim.claim.name, claim.counts)


def test_vae_case_of_9_is_refuted_exactly_when_eta_enc_differs_from_eta_dec():
    """(9) with U2 = W2 = 0 has the z1-prior variance eta_dec^2: it is (8) only when c = 1."""
    theorem = samplewise_theorem(2).only_claims("sigma_9_vae_case", "sigma_9_vae_case_corrected")
    printed, corrected = check_theorem(theorem, instances=8, symbolic=False).claims
    assert printed.status == REFUTED and printed.counterexample is not None
    hyper = printed.counterexample.hyper
    assert hyper["eta_enc"] != hyper["eta_dec"]
    assert corrected.status == VERIFIED, corrected.detail
    same_c = Instance.from_json({**printed.counterexample.to_json(),
                                 "hyper": {**hyper, "eta_enc": hyper["eta_dec"]}})
    assert check_instance(theorem, same_c).claims[0].status == VERIFIED


# --------------------------------------------------------------------------- mutants


def _family_mutant():
    """'Sigma_2* = 2 Sigma_1*' in place of 'all equal': the family checker must see member 2 fail."""
    S1, S2 = sample_variances(2)
    wrong = MatrixRelationFamily("all_equal", "mutant", "Sigma_2 = Sigma_1 and Sigma_2 = 2 Sigma_1",
                                 residuals=(S2 - S1, S2 - 2 * S1))
    return dataclasses.replace(samplewise_theorem(2), claims=(wrong,), name="twice_the_variance")


MUTANTS = {   # name -> (theorem, claims that must be REFUTED)
    "dropped_beta_in_8": (samplewise_theorem(
        2, claimed_variance=eta_dec**2 * Inverse(U.T * U + beta * c**2 * Identity(d1)), name="dropped_beta_in_8"),
        ("optimum", "sigma_8")),
    "missing_root_in_omega": (samplewise_theorem(2).replace_closed_form(
        omega, sp.Max(0, theta**2 - beta * eta_dec**2) / eta_enc, name="missing_root_in_omega"), ("optimum",)),
    "missing_root_in_sigma": (samplewise_theorem(2).replace_closed_form(
        sample_stds(2)[0], sp.Piecewise((beta * eta_enc * eta_dec / theta, sp.GreaterThan(theta, threshold)),
                                        (eta_enc, True)), name="missing_root_in_sigma"), ("sigma",)),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_refuted(name):
    theorem, claims = MUTANTS[name]
    for claim in check_theorem(theorem, instances=8, claims=list(claims), symbolic=False).claims:
        assert claim.status == REFUTED, f"{name}: {claim.claim.name} was not refuted: {claim.detail}"
        assert claim.counterexample is not None


def test_relation_family_refutes_one_wrong_member():
    instance = Instance({"d1": 2}, {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0}, {}, spectrum=(2.0, 0.3), D0=3)
    (claim,) = check_instance(_family_mutant(), instance).claims
    assert claim.status == REFUTED and "member 2 of 2" in claim.detail
    (printed,) = check_instance(samplewise_theorem(2).only_claims("all_equal"), instance).claims
    assert printed.status == VERIFIED, printed.detail
