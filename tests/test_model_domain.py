"""A model's validity domain: the default strategies draw inside it, and an instance outside it that cannot
be certified is UNBOUNDED (exit 5) with the model's reason, not INCONCLUSIVE as an uncertified minimiser.

The model is one the project does not ship, written with the public API only: a factorisation Z ~ U V
with the penalty (1 - beta)(||U||^2 + ||V||^2).  For beta < 1 it is the balanced form of the nuclear norm,
and the minimiser shrinks each singular value: omega_i* = lambda_i* = sqrt(max(0, theta_i - (1 - beta)))
(per index (w l - theta)^2 + g (w^2 + l^2), g = 1 - beta: at w = l = x, 4x(x^2 - theta + g) = 0).  For
beta > 1 the penalty is negative and the loss falls without bound along U = t e e^T, V = 0."""
import json
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings

from theorems.linear_vae import (D0, Lambda, Omega, R, S, T, U, V, Z, beta, d0, d1, lam, omega, theta,
                                 z_matrix)
from verifier.spec import (ClosedFormSpectrum, GlobalMinimum, Hyperparameter, IdentityBasis, LeftSingularVectors,
                           Model, Optimum, Reduction, RightSingularVectors, SingularValues, Theorem, Variable)
from verifier.strategies import instances
from verifier.cli import main as cli_main
from verifier.errors import SpecError
from verifier.instances import Instance
from verifier.verdicts import check_instance, check_theorem

gap = 1 - beta
residual = U * V - Z
OBJECTIVE = sp.Trace(residual.T * residual) + gap * (sp.Trace(U.T * U) + sp.Trace(V.T * V))


def statistics(instance):
    Zm = z_matrix(instance)
    return {"Z": Zm}, {"D0": Zm.shape[0], "d0": Zm.shape[1]}


def shrinkage_theorem(domain=sp.true):
    model = Model(name="shrinkage", description="Z ~ U V with the penalty (1 - beta)(||U||^2 + ||V||^2)",
                  objective=OBJECTIVE, equation="(1)", variables=(Variable(U), Variable(V)), data=(Z,),
                  hyperparameters=(Hyperparameter(beta, "one minus the penalty's weight"),), fixed_vectors=(),
                  latent_dims=(d1,), data_dims=(D0, d0), statistics=statistics, domain=domain,
                  domain_reason="the penalty is negative for beta >= 1 and the loss is unbounded below")
    shrunk = sp.sqrt(sp.Max(0, theta - gap))
    return Theorem(
        name="shrinkage", title="Singular-value shrinkage", source="tests/test_model_domain.py", model=model,
        index_size=d1, indexed=((theta, SingularValues("Z")),), closed_forms=((omega, shrunk), (lam, shrunk)),
        thresholds=(gap,),
        optimum=Optimum(bases=((R, LeftSingularVectors("Z")), (S, RightSingularVectors("Z")), (T, IdentityBasis(d1))),
                        diagonals=((Omega, omega), (Lambda, lam)),
                        construction=((U, R * Omega * T.T), (V, T * Lambda * S.T))),
        reduction=Reduction(matrices=(("U", omega), ("V", lam), ("Z", theta)), variables=(omega, lam),
                            equation="per index"),
        claims=(GlobalMinimum("optimum", "(2)", "U*, V* minimise (1)"),
                ClosedFormSpectrum("omega", "(2)", "omega_i* = sqrt(max(0, theta_i - (1 - beta)))", quantity=omega,
                                   measured=("singular_values", "U"))))


BOUNDED = shrinkage_theorem(sp.StrictLessThan(beta, 1))
OUTSIDE = {"latent": {"d1": 2}, "hyper": {"beta": 2.0}, "vectors": {}, "data": {"spectrum": [2.0, 0.5], "D0": 2},
           "seed": 0}


def test_the_default_strategies_draw_inside_the_domain():
    @settings(max_examples=25, deadline=None, database=None)
    @given(instances(BOUNDED))
    def drawn(instance):
        assert instance.hyper["beta"] < 1
    drawn()


def test_inside_its_domain_the_true_statement_is_verified_and_a_wrong_one_refuted():
    assert check_theorem(BOUNDED, instances=8, symbolic=False, seed=0).status == "VERIFIED"
    wrong = BOUNDED.replace_closed_form(omega, sp.sqrt(sp.Max(0, theta - 2 * gap)), name="wrong_shrinkage")
    assert check_theorem(wrong, instances=8, claims=["omega"], symbolic=False, seed=0).status == "REFUTED"


def test_an_instance_outside_the_domain_is_unbounded_with_the_models_reason():
    verdict = check_instance(BOUNDED, Instance.from_json(OUTSIDE).validate(BOUNDED.model))
    for claim in verdict.claims:
        assert claim.status == "UNBOUNDED", claim.detail
        assert claim.detail.startswith("the instance lies outside the model's validity domain (beta < 1)")
        assert "unbounded below" in claim.detail and "not certified" not in claim.detail
    assert verdict.status == "UNBOUNDED"


def test_verifier_check_exits_5_on_an_instance_outside_the_domain(tmp_path, capsys):
    spec = tmp_path / "shrinkage_spec.py"
    spec.write_text(f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                    "from test_model_domain import BOUNDED as THEOREM\n")
    assert cli_main(["check", str(spec), "--instance", json.dumps(OUTSIDE), "--no-cache"]) == 5
    assert "UNBOUNDED" in capsys.readouterr().out


def test_a_domain_names_only_dimensions_and_hyperparameters():
    with pytest.raises(SpecError, match=r"the domain .* uses \['x'\]"):
        shrinkage_theorem(sp.StrictLessThan(sp.Symbol("x"), 1))
