"""Spec files as a user writes them: a variant imports its sibling module, `solve` exits as `check` would on
the instance's claims, and `--examples N` judges N distinct instances per claim."""
import json
import sys
import textwrap

import pytest

from verifier.cli import main
from verifier.loader import load_spec
from verifier.verdicts import check_theorem

INSTANCE = {"latent": {"d1": 2}, "hyper": {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0},
            "vectors": {}, "data": {"spectrum": [3.0, 0.5], "D0": 3}, "seed": 0}

# omega* of Theorem 4 without the square root over theta^2 - beta eta_dec^2: wrong wherever theta is active
WRONG_OMEGA = textwrap.dedent("""\
    import sympy as sp
    from theorems.linear_vae import beta, eta_dec, eta_enc, omega, theta
    from theorems.theorem4_vae_learnable_sigma import THEOREM as BASE
    THEOREM = BASE.replace_closed_form(omega, sp.Max(0, theta**2 - beta * eta_dec**2) / eta_enc,
                                       name="wrong_omega").only_claims("optimum", "omega")
    """)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_variant_imports_its_sibling_model_module_and_the_import_path_is_restored(tmp_path):
    (tmp_path / "my_base_22.py").write_text(
        "from theorems.theorem4_vae_learnable_sigma import THEOREM as BASE\nNAME = 'from_the_sibling'\n")
    (tmp_path / "my_variant.py").write_text(
        "from my_base_22 import BASE, NAME\nTHEOREM = BASE.only_claims('optimum', name=NAME)\n")
    before = list(sys.path)
    try:
        theorem = load_spec(str(tmp_path / "my_variant.py"))
    finally:
        sys.modules.pop("my_base_22", None)
    assert theorem.name == "from_the_sibling" and [c.name for c in theorem.claims] == ["optimum"]
    assert sys.path == before


def test_solve_exits_1_when_a_claim_on_its_instance_is_refuted(capsys, tmp_path):
    spec = tmp_path / "wrong_omega.py"
    spec.write_text(WRONG_OMEGA)
    code, out, _ = run(capsys, "solve", str(spec), "--instance", json.dumps(INSTANCE), "--device", "cpu")
    result = json.loads(out)
    assert code == 1, result["claims"]
    assert result["claims"]["omega"]["status"] == "REFUTED" and result["claims"]["omega"]["class"] == "REFUTED"
    check_code, _, _ = run(capsys, "check", str(spec), "--instance", json.dumps(INSTANCE), "--device", "cpu")
    assert check_code == code


@pytest.mark.parametrize("name, instance", [
    ("theorem4", INSTANCE),
    # beta1 != beta2: Theorem 3's printed W2* (c^2 I) is refuted, its documented correction verified: exit 0
    ("theorem3", {"latent": {"d1": 2, "d2": 2},
                  "hyper": {"beta1": 1.0, "beta2": 0.5, "eta_enc": 1.0, "eta_dec": 1.0, "sigma1": 0.8},
                  "data": {"spectrum": [2.0, 1.0], "D0": 2}, "seed": 0}),
])
def test_solve_exits_as_check_does_on_the_same_instance(capsys, name, instance):
    code, out, _ = run(capsys, "solve", name, "--instance", json.dumps(instance), "--device", "cpu")
    classes = {c["class"] for c in json.loads(out)["claims"].values()}
    check_code, _, _ = run(capsys, "check", name, "--instance", json.dumps(instance), "--device", "cpu")
    assert code == check_code, classes


def test_examples_n_reports_what_was_asked_and_what_was_judged(capsys):
    # --examples N draws N/4 batches of Hypothesis-sized lists (1..8 instances, repeats included), so the
    # number judged varies around N: the output says so, with each claim's counts and the distinct total
    theorem = load_spec("theorem4")
    verdict = check_theorem(theorem, instances=8, claims=["optimum", "omega"], symbolic=False, seed=0)
    assert verdict.per_claim == 8 and verdict.batches == 2
    assert verdict.to_json()["instances_per_claim"] == 8 and verdict.to_json()["batches_per_claim"] == 2
    judged = {sum(claim.counts.values()) for claim in verdict.claims}
    assert len(judged) == 1 and verdict.instances <= judged.pop()    # the same draws; repeats count once
    code, out, _ = run(capsys, "check", "theorem4", "--examples", "8", "--claim", "optimum", "--no-symbolic",
                       "--device", "cpu")
    assert code == 0 and "instances asked per claim=8 (drawn as 2 batches" in out and "distinct instances minimised=" in out
