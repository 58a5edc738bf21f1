"""Table 1 for the MHVAE as properties of the certified minimiser of Theorem 3's objective.

"Collapsed z2 dimensions" at an optimum: the columns of U2* that are zero (norm <= zero_rtol x the
instance's value scale).  With the learnable diagonal Sigma2 of Theorem 3 these are exactly the rows
of W2* that are zero, so q(z2_i | z1) = N(0, eta_enc^2) = p(z2_i): that dimension carries no
information.  Table 1 says: fewer of them for smaller beta2 or eta_dec, and for larger beta1.  Each
property is checked on the minimiser and, as a second check, on Theorem 3's closed form (the number
of indices i <= d2 with omega_i* = 0).
"""
import sympy as sp
from hypothesis import given, strategies as st

from table1_support import collapsed, monotone

from theorems import theorem3_mhvae_fixed_sigma1 as t3
from theorems.linear_vae import omega
from verifier.instances import Instance
from verifier.pipeline import Pipeline
from verifier.strategies import instances

T3 = t3.THEOREM
PIPELINE = Pipeline(T3)


def collapsed_z2(theorem, pipeline, instance, *, strict: bool = False) -> tuple[int, int]:
    """(collapsed z2 dimensions at the certified minimiser, ... by the closed form)."""
    return collapsed(pipeline, instance, "U2", omega, instance.latent["d2"], strict=strict)


spectrum_instances = instances(T3, max_dim=3).filter(lambda inst: inst.spectrum is not None)


def _monotone(theorem, pipeline, data, name: str, more_collapse_when_larger: bool):
    monotone(theorem, pipeline, data, spectrum_instances, name, more_collapse_when_larger=more_collapse_when_larger,
             matrix="U2", quantity=omega, slots=lambda inst: inst.latent["d2"])


@given(data=st.data())
def test_collapse_does_not_decrease_as_beta2_grows(data):
    _monotone(T3, PIPELINE, data, "beta2", more_collapse_when_larger=True)


@given(data=st.data())
def test_collapse_does_not_decrease_as_eta_dec_grows(data):
    _monotone(T3, PIPELINE, data, "eta_dec", more_collapse_when_larger=True)


@given(data=st.data())
def test_collapse_does_not_increase_as_beta1_grows(data):
    _monotone(T3, PIPELINE, data, "beta1", more_collapse_when_larger=False)


def test_a_wrong_closed_form_breaks_the_property():
    """Mutant: omega_i* > 0 iff theta_i exceeds beta1 eta_dec^2/(sqrt(beta2) sigma1) (beta1, beta2 swapped in
    case (c)'s switch).  The minimiser disagrees with it, so the properties above, which require the two
    counts to agree, reject it: shown on an instance where the switch matters (theta^2 = 9 passes the
    true switch, 0.78, but not the swapped one, 50, so the mutant predicts a collapse that does not happen)."""
    b1, b2, s1 = t3.beta1, t3.beta2, t3.sigma1
    swapped = sp.GreaterThan(t3.theta**2, b1 * t3.eta_dec**2 / s1**2 * sp.Max(s1**2, b1 / b2 * t3.eta_dec**2))
    mutant = T3.replace_closed_form(omega, sp.Piecewise((t3.omega_a, swapped), (t3.omega_b, t3.case_b), (0, True)),
                                    name="omega_switch_swapped")
    inst = Instance.from_json({"latent": {"d1": 1, "d2": 1},
                               "hyper": {"beta1": 2.0, "beta2": 0.5, "eta_enc": 1.0, "eta_dec": 1.0, "sigma1": 0.4},
                               "data": {"spectrum": [3.0], "D0": 1}, "seed": 0})
    measured, closed = collapsed_z2(mutant, Pipeline(mutant), inst, strict=True)
    assert measured != closed
    assert collapsed_z2(T3, PIPELINE, inst, strict=True)[0] == collapsed_z2(T3, PIPELINE, inst, strict=True)[1]
