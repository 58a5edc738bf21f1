"""Table 1 for the CVAE (Theorem 2, learnable Sigma) as properties of the certified minimiser.

Collapsed latent dimensions: the zero columns of U1*; by (6) they are the indices with
theta_i <= beta eta_dec^2, theta_i the eigenvalues of E, which do not depend on beta or eta_dec.
Table 1: more collapse as beta or eta_dec grows.  Each count is taken on the minimiser and on
the closed form, and the two must agree.
"""
import sympy as sp
from hypothesis import given, strategies as st

from table1_support import collapsed, monotone
from theorems import theorem2_cvae_learnable_sigma as t2
from theorems.linear_vae import omega
from verifier.instances import Instance
from verifier.pipeline import Pipeline
from verifier.strategies import instances

T2 = t2.THEOREM
PIPELINE = Pipeline(T2)
CVAE_INSTANCES = instances(T2, max_dim=3)


def _slots(instance) -> int:
    return instance.latent["d1"]


@given(data=st.data())
def test_collapse_does_not_decrease_as_beta_grows(data):
    monotone(T2, PIPELINE, data, CVAE_INSTANCES, "beta", more_collapse_when_larger=True, matrix="U1",
             quantity=omega, slots=_slots)


@given(data=st.data())
def test_collapse_does_not_decrease_as_eta_dec_grows(data):
    monotone(T2, PIPELINE, data, CVAE_INSTANCES, "eta_dec", more_collapse_when_larger=True, matrix="U1",
             quantity=omega, slots=_slots)


def test_a_wrong_threshold_breaks_the_property():
    """Mutant: the threshold of (6) at beta eta_enc^2 instead of beta eta_dec^2.  On an instance with
    eta_enc != eta_dec whose theta lies between the two, the closed-form count disagrees with the
    minimiser's, which the property requires to agree."""
    wrong = sp.sqrt(sp.Max(0, t2.theta - t2.beta * t2.eta_enc**2)) / t2.eta_enc
    mutant = T2.replace_closed_form(omega, wrong, name="threshold_with_eta_enc")
    # x and y independent in the sample, so E = D D^T: theta = 1.0 sits between beta eta_dec^2 = 0.25
    # (active) and beta eta_enc^2 = 4 (collapsed by the mutant).
    inst = Instance.from_json({"latent": {"d1": 1}, "hyper": {"beta": 1.0, "eta_enc": 2.0, "eta_dec": 0.5},
                               "data": {"X": [[1.0], [-1.0], [1.0], [-1.0]], "Y": [[1.0], [1.0], [-1.0], [-1.0]]},
                               "seed": 0})
    measured, closed = collapsed(Pipeline(mutant), inst, "U1", omega, 1, strict=True)
    assert measured != closed
    assert collapsed(PIPELINE, inst, "U1", omega, 1, strict=True) == (0, 0)
