"""Writing a variant: the template checks out, and the usual mistakes get errors that say what to fix."""
import json
from pathlib import Path

import pytest

from verifier.cli import main

TEMPLATE = Path(__file__).resolve().parent.parent / "theorems" / "template_variant.py"


def _check(capsys, path, *extra):
    code = main(["check", str(path), "--examples", "4", "--no-symbolic", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _broken(tmp_path, name, old, new):
    text = TEMPLATE.read_text()
    assert old in text, f"the template no longer contains {old!r}: update this test"
    path = tmp_path / f"{name}.py"
    path.write_text(text.replace(old, new))
    return path


def test_template_is_verified(capsys, tmp_path):
    copy = tmp_path / "my_variant.py"                # a user copies the template out of the package
    copy.write_text(TEMPLATE.read_text())
    code, out, _ = _check(capsys, copy, "--json")
    verdict = json.loads(out)
    assert code == 0 and verdict["status"] == "VERIFIED", verdict
    assert verdict["theorem"] == "template_variant"
    assert [c["claim"] for c in verdict["claims"]] == ["optimum", "omega", "rank"]


def test_a_wrong_closed_form_in_the_template_is_refuted(capsys, tmp_path):
    # The typical slip: theta - c sigma' for the threshold of (4), without its sqrt(beta).
    path = _broken(tmp_path, "wrong_form", "sp.Max(0, theta - threshold)", "sp.Max(0, theta - c * sigma_p)")
    code, out, _ = _check(capsys, path, "--claim", "omega", "--examples", "12")
    assert code == 1 and "REFUTED" in out and "replay:" in out


@pytest.mark.parametrize("name, old, new, message", [
    ("misspelt_name", "sp.Max(0, theta - threshold)", "sp.Max(0, thetaa - threshold)",
     ["line 22", "NameError: name 'thetaa' is not defined", "neither defined nor imported"]),
    ("foreign_symbol", "sp.Max(0, theta - threshold)", 'sp.Max(0, sp.Symbol("theta_i") - threshold)',
     ["line 28", "the closed form of omega uses ['theta_i']", "'sigma_p', 'theta'"]),
    ("no_theorem", "THEOREM = (BASE", "VARIANT = (BASE", ["defines no THEOREM", "THEOREM = Theorem(...)"]),
    ("unknown_claim", '"optimum", "omega", "rank"', '"optimum", "omega", "ranks"',
     ["has no claim 'ranks'", "'remark2_corrected'"]),
    ("unknown_closed_form", "replace_closed_form(omega,", "replace_closed_form(sigma_p,",
     ["has no closed form for sigma_p", "closed forms for ['omega', 'lambda']"]),
    ("matrix_the_model_lacks", ".only_claims(", ".only_claims(\"rank_W\", ", None),
    ("syntax_error", "THEOREM = (BASE", "THEOREM = ((BASE", ["SyntaxError", "was never closed"]),
])
def test_typical_mistakes_exit_2_with_a_message_that_says_what_to_fix(capsys, tmp_path, name, old, new, message):
    if name == "matrix_the_model_lacks":
        # a claim about W, but the model's variables are U and V (W* is reached as V = W P_A Phi^{1/2})
        path = _broken(tmp_path, name, ".only_claims(\"optimum\", \"omega\", \"rank\"))",
                       ".only_claims(\"optimum\", \"omega\", \"rank\"))\n"
                       "import dataclasses\nfrom verifier.spec import RankCount\n"
                       "THEOREM = dataclasses.replace(THEOREM, claims=THEOREM.claims + (RankCount(\n"
                       "    \"rank_W\", \"(4)\", \"rank W*\", matrices=(\"W\",), active=theta > threshold),))\n")
        message = ["claim 'rank_W' names the matrix 'W'", "its variables are ['U', 'V']"]
    else:
        path = _broken(tmp_path, name, old, new)
    code, out, err = _check(capsys, path)
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.startswith("verifier: error: ")
    for fragment in message:
        assert fragment in err, (fragment, err)
    assert str(path) in err or "has no claim" in err     # the message points at the user's file


# --------------------------------------------------------------------------- three-latent MHVAE
import numpy as np
import sympy as sp
import torch

from theorems import mhvae3 as m3
from theorems.variant_mhvae3_remark1 import certified_minima, tally, unbounded_path
from verifier.instances import Instance
from verifier.lowering import evaluate


def _mc_gap(objective, seed=0, n=200_000):
    """(objective - Monte Carlo estimate of the beta-weighted negative ELBO, standard error) at a random point."""
    rng = np.random.default_rng(seed)
    D0, d0, d1, d2, d3 = 3, 2, 2, 3, 2
    M = lambda r, c: rng.standard_normal((r, c)) * 0.7
    mats = dict(Z=M(D0, d0), U1=M(D0, d1), V1=M(d1, d0), U2=M(d1, d2), W2=M(d2, d1), U3=M(d2, d3), W3=M(d3, d2),
                **{f"Sigma{k}": np.diag(rng.uniform(0.3, 1.5, d)) for k, d in ((1, d1), (2, d2), (3, d3))})
    h = dict(beta1=0.7, beta2=1.3, beta3=2.0, eta_enc=0.8, eta_dec=1.1)
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in dict(D0=D0, d0=d0, d1=d1, d2=d2, d3=d3).items()}
    env = {k: torch.tensor(v)[None] for k, v in mats.items()} | {k: torch.tensor([v]) for k, v in h.items()}
    value = float(evaluate(objective, env, dims, dtype=torch.float64, device="cpu")[0])
    # Sample the generative story: x = Z x~ (E[x~ x~^T] = I), z_k from the encoders.
    noise = lambda S: rng.standard_normal((n, S.shape[0])) * np.sqrt(np.diag(S))
    xt = rng.standard_normal((n, d0))
    x = xt @ mats["Z"].T
    z1 = xt @ mats["V1"].T + noise(mats["Sigma1"])
    z2 = z1 @ mats["W2"].T + noise(mats["Sigma2"])
    z3 = z2 @ mats["W3"].T + noise(mats["Sigma3"])
    sq = lambda a: (a**2).sum(axis=1)
    sample = ((sq(x - z1 @ mats["U1"].T) + h["beta1"] * sq(z1 - z2 @ mats["U2"].T)
               + h["beta2"] * sq(z2 - z3 @ mats["U3"].T)) / h["eta_dec"]**2 + h["beta3"] * sq(z3) / h["eta_enc"]**2)
    logdets = sum(h[f"beta{k}"] * np.log(np.linalg.det(mats[f"Sigma{k}"])) for k in (1, 2, 3))
    return value - (sample.mean() - logdets), sample.std() / np.sqrt(n)


def test_three_latent_objective_is_the_expected_negative_elbo():
    gap, se = _mc_gap(m3.OBJECTIVE)
    assert abs(gap) < 5 * se, (gap, se)


def test_monte_carlo_check_catches_a_dropped_covariance_term():
    # Mutant: Cov(z2|x) without W2 Sigma1 W2^T (the noise z1 passes on to z2) -- a plausible slip.
    wrong = m3.OBJECTIVE.xreplace({m3.W2 * m3.Sigma1 * m3.W2.T: sp.ZeroMatrix(m3.d2, m3.d2)})
    assert wrong != m3.OBJECTIVE
    gap, se = _mc_gap(wrong)
    assert abs(gap) > 5 * se, (gap, se)


def _instance(b1, b2, b3, theta, sigma1=None):
    vectors = {} if sigma1 is None else {"sigma1": [sigma1]}
    return Instance.from_json({"latent": {"d1": 1, "d2": 1, "d3": 1},
                               "hyper": {"beta1": b1, "beta2": b2, "beta3": b3, "eta_enc": 1.0, "eta_dec": 1.0},
                               "vectors": vectors, "data": {"spectrum": [theta], "D0": 1}})


@pytest.mark.parametrize("b2, b3", [(2.0, 0.5), (0.5, 2.0), (1.0, 1.0)])
def test_objective_is_unbounded_below_exactly_when_beta2_exceeds_beta3(b2, b3):
    inst = _instance(1.0, b2, b3, 1.0, sigma1=1.0)
    eps = np.array([1e-2, 1e-3, 1e-4])
    losses = np.array([unbounded_path(inst, e) for e in eps])
    # derived slope along the path: (beta2 - beta3) d2 per unit of log(eps^2), up to O(eps^2)
    slopes = np.diff(losses) / np.diff(np.log(eps**2))
    assert slopes == pytest.approx((b2 - b3) * 1, abs=1e-3)


def test_collapsed_z1_with_active_z2_is_a_strict_global_minimum():
    # Remark 1's conjecture, one level down, fails here: V1* = 0 (z1 ignores x), yet z2 stays in use.
    m = certified_minima(m3.mhvae3("learnable"), [_instance(0.5, 0.5, 2.0, 0.17087189561177435)])[0]
    assert m.certified
    assert m.norms["V1"] < 1e-6 * m.unit and m.norms["U2"] > 0.1 and m.norms["W2"] > 0.1
    z2_off = {**m.point, "U2": 0 * m.point["U2"], "W2": 0 * m.point["W2"], "Sigma2": np.eye(1)}
    from theorems.variant_mhvae3_remark1 import _loss_at
    assert _loss_at(m, z2_off) > m.loss + 1e-6
    [_, z1_z2, _] = tally([m])
    assert z1_z2.premise_met == 1 and len(z1_z2.counterexamples) == 1
