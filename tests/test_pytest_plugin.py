"""The package's pytest plugin (verifier/pytest_plugin.py), run on spec modules in pytest's ``pytester`` folders.

Runs that pass Hypothesis's options (--hypothesis-profile, --hypothesis-seed) or start workers (-n) run
pytest in a subprocess: those options change Hypothesis's process-wide state. The spec modules check
one claim of Theorem 1 with a small user-registered profile, so each run is a few seconds.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from verifier.testing import ClaimRefuted, assert_claim_holds, check_claim

pytest_plugins = ["pytester"]

VARIANT = '''
import sympy as sp
from theorems.linear_vae import beta, c, omega, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as BASE

omega_form = sp.sqrt(sp.sqrt(beta) * c / sigma_p) * sp.sqrt(sp.Max(0, theta - {threshold}))
THEOREM = BASE.replace_closed_form(omega, omega_form, name="{name}").only_claims("rank", "omega")
'''
TRUE_VARIANT = VARIANT.format(threshold="sp.sqrt(beta) * c * sigma_p", name="my_variant")
WRONG_VARIANT = VARIANT.format(threshold="c * sigma_p", name="wrong_variant")     # drops the sqrt(beta)

# A printed implication that is plainly wrong (collapse below 10x the threshold) with its correction, and one
# whose "printed" form is the true one: the strict xfail must then fail the run.
ERRATA = '''
import dataclasses
import sympy as sp
from theorems.linear_vae import c, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as T1

printed = dataclasses.replace(T1.claim("remark2"), name="printed"{printed_premise})
corrected = dataclasses.replace(T1.claim("remark2_corrected"), name="corrected", erratum_of="printed")
THEOREM = dataclasses.replace(T1, name="{name}", claims=(printed, corrected))
'''
TINY_PROFILES = '''
from hypothesis import settings
settings.register_profile("tiny", max_examples=3)
settings.register_profile("thorough", max_examples=7)      # the project's own: the plugin leaves it alone
'''


def outcomes(result) -> dict:
    return {k: v for k, v in result.parseoutcomes().items() if k in ("passed", "failed", "xfailed", "skipped")}


def junit_properties(path) -> dict:
    """(classname, name) -> the test case's properties."""
    cases = ET.parse(path).getroot().iter("testcase")
    return {(case.get("classname"), case.get("name")): {p.get("name"): p.get("value") for p in case.iter("property")}
            for case in cases}


@pytest.fixture
def outside_ci(monkeypatch):
    """Subprocesses see only the variables a pytest run needs: Hypothesis picks its "ci" profile
    wherever it finds one of the many CI systems' variables, which the machine running these tests may set."""
    for name in list(os.environ):
        if name not in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT"):
            monkeypatch.delenv(name)


def test_header_names_the_profiles_registered_by_the_plugin(pytester, outside_ci):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    default = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    default.stdout.fnmatch_lines(["verifier: hypothesis profile 'default' (max_examples=10), seed 0, *"])
    thorough = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hypothesis-profile", "thorough")
    thorough.stdout.fnmatch_lines(["verifier: hypothesis profile 'thorough' (max_examples=200), *"])
    assert default.ret == thorough.ret == 0


def test_on_ci_a_bare_run_is_as_quick_as_on_a_laptop(pytester, outside_ci, monkeypatch):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    monkeypatch.setenv("CI", "true")
    ci = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    ci.stdout.fnmatch_lines(["verifier: hypothesis profile 'ci' (max_examples=10), seed 0, *"])
    pytester.makeconftest('from hypothesis import settings\nsettings.register_profile("ci", max_examples=30)\n')
    own = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    own.stdout.fnmatch_lines(["verifier: hypothesis profile 'ci' (max_examples=30), *"])   # the project's own


def test_a_projects_own_profile_of_that_name_is_kept(pytester, outside_ci):
    pytester.makeconftest(TINY_PROFILES + 'settings.register_profile("default", max_examples=4)\n')
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    default = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    default.stdout.fnmatch_lines(["verifier: hypothesis profile 'default' (max_examples=4), *"])
    thorough = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hypothesis-profile", "thorough")
    thorough.stdout.fnmatch_lines(["verifier: hypothesis profile 'thorough' (max_examples=7), *"])


def test_options_have_one_heading_in_help(pytester):
    lines = pytester.runpytest_subprocess("--help").outlines
    start = lines.index("vae-theorem-verifier (spec and proof modules as tests):")
    section = lines[start + 1:lines.index("", start)]
    options = [line.split("=")[0].strip() for line in section if line.startswith("  --")]
    assert options == ["--verifier-device", "--verifier-examples-scale", "--verifier-restarts",
                       "--verifier-inconclusive", "--verifier-no-symbolic"]


def test_one_item_per_claim_from_the_command_line_and_from_the_ini_folders(pytester):
    pytester.makepyfile(my_variant=TRUE_VARIANT)
    pytester.mkdir("specs")
    (pytester.path / "specs" / "other_variant.py").write_text(WRONG_VARIANT)
    listed = pytester.runpytest_inprocess("--co", "-q", "my_variant.py")
    listed.stdout.fnmatch_lines(["my_variant.py::rank", "my_variant.py::omega"])
    pytester.makeini("[pytest]\ntestpaths = tests\nverifier_specs = specs\n")
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    bare = pytester.runpytest_inprocess("--co", "-q")          # a bare `pytest` collects the spec folders too
    bare.stdout.fnmatch_lines(["tests/test_nothing.py::test_nothing", "specs/other_variant.py::rank",
                               "specs/other_variant.py::omega"])
    assert "my_variant" not in bare.stdout.str()               # outside testpaths and the spec folders
    (pytester.path / "tests" / "test_uses_a_theorem.py").write_text(
        "from theorems.theorem1_vae_fixed_sigma import THEOREM\n\ndef test_claims():\n    assert THEOREM.claims\n")
    test_module = pytester.runpytest_inprocess("--co", "-q", "tests/test_uses_a_theorem.py")
    test_module.stdout.fnmatch_lines(["tests/test_uses_a_theorem.py::test_claims"])   # a test module, not a spec


def test_true_variant_passes_and_wrong_one_fails_with_a_replay_that_works_from_the_folder(pytester):
    pytester.makeconftest(TINY_PROFILES)
    pytester.makepyfile(my_variant=TRUE_VARIANT, wrong_variant=WRONG_VARIANT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hypothesis-profile", "tiny",
                                           "--junitxml", "junit.xml", "my_variant.py", "wrong_variant.py")
    assert outcomes(result) == {"passed": 3, "failed": 1}, result.stdout.str()
    result.stdout.fnmatch_lines(["*REFUTED: wrong_variant::omega (4)", "*counterexample (shrunk): {*",
                                 "*replay: verifier check wrong_variant.py --claim omega --instance '{*}' "
                                 "--seed 0 --restarts 4 --device *"])
    verdicts = {case: props["verdict"] for case, props in junit_properties(pytester.path / "junit.xml").items()}
    assert verdicts == {("my_variant", "rank"): "VERIFIED", ("my_variant", "omega"): "VERIFIED",
                        ("wrong_variant", "rank"): "VERIFIED", ("wrong_variant", "omega"): "REFUTED"}

    replay = next(line.split("replay: ", 1)[1] for line in result.outlines if "replay: " in line)
    argv = shlex.split(replay)
    assert argv[:2] == ["verifier", "check"]
    replayed = subprocess.run([sys.executable, "-m", "verifier.cli", *argv[1:]], cwd=pytester.path,
                              capture_output=True, text=True, timeout=300)
    assert replayed.returncode == 1 and re.search(r"REFUTED\s+omega", replayed.stdout), replayed.stdout + replayed.stderr


def test_profile_examples_scale_seed_and_statistics_reach_the_search(pytester):
    pytester.makeconftest(TINY_PROFILES)
    pytester.makepyfile(my_variant=TRUE_VARIANT)

    def run(*args):
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hypothesis-show-statistics",
                                               "--junitxml", "junit.xml", "my_variant.py::rank", *args)
        assert outcomes(result) == {"passed": 1}, result.stdout.str()
        return result, junit_properties(pytester.path / "junit.xml")[("my_variant", "rank")]

    tiny, props = run("--hypothesis-profile", "tiny", "--hypothesis-seed", "5")
    tiny.stdout.fnmatch_lines(["*Hypothesis Statistics*", "my_variant.py::rank (search 1):",
                               "*- 3 passing examples, 0 failing examples, 0 invalid examples"])
    scaled, _ = run("--hypothesis-profile", "tiny", "--hypothesis-seed", "5", "--verifier-examples-scale", "2")
    scaled.stdout.fnmatch_lines(["*- 6 passing examples, 0 failing examples, 0 invalid examples"])
    other_seed, other_props = run("--hypothesis-profile", "tiny", "--hypothesis-seed", "6")
    other_seed.stdout.fnmatch_lines(["verifier: hypothesis profile 'tiny' (max_examples=3), seed 6, *"])
    # another seed draws other instances (the same seed draws the same: tests/test_theorems.py)
    assert (other_props["worst"], other_props["instances"]) != (props["worst"], props["instances"])


def test_workers_split_the_items(pytester):
    pytester.makeconftest(TINY_PROFILES)
    pytester.makepyfile(my_variant=TRUE_VARIANT, wrong_variant=WRONG_VARIANT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--hypothesis-profile", "tiny",
                                           "--verifier-no-symbolic",
                                           "my_variant.py", "wrong_variant.py")
    result.stdout.fnmatch_lines(["*2 workers [[]4 items[]]*"])
    assert outcomes(result) == {"passed": 3, "failed": 1}, result.stdout.str()
    result.stdout.fnmatch_lines(["*replay: verifier check wrong_variant.py --claim omega *"])


def test_an_erratum_is_a_strict_xfail(pytester):
    pytester.makeconftest(TINY_PROFILES)
    pytester.makepyfile(
        erratum=ERRATA.format(name="erratum", printed_premise=", premise=sp.StrictLessThan(theta, 10 * c * sigma_p)"),
        printed_holds=ERRATA.format(name="printed_holds", printed_premise=", premise=T1.claim('remark2_corrected')"
                                                                          ".premise"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hypothesis-profile", "tiny", "-rxf",
                                           "erratum.py", "printed_holds.py")
    assert outcomes(result) == {"xfailed": 1, "passed": 2, "failed": 1}, result.stdout.str()
    result.stdout.fnmatch_lines(["XFAIL erratum.py::printed - documented erratum: printed is refuted as printed; "
                                 "its correction corrected is verified",
                                 "FAILED printed_holds.py::printed*XPASS(strict)*"])


STATUS_CONFTEST = '''
import importlib

ITEMS = importlib.import_module("verifier.testing.items")
REAL = ITEMS.check_theorem


def spelt_status(theorem, **kwargs):
    """The claim's search replaced: each claim gets the status its name spells (rank -> INCONCLUSIVE, ...)."""
    verdict = REAL(theorem, **{**kwargs, "instances": 1})
    verdict.claims[0].status = {"rank": "INCONCLUSIVE", "left_singular_vectors": "NOT APPLICABLE"}.get(
        kwargs["claims"][0], "ODD")
    return verdict


def pytest_runtest_setup(item):
    importlib.import_module("verifier.testing.items").check_theorem = spelt_status


def pytest_runtest_teardown(item):
    importlib.import_module("verifier.testing.items").check_theorem = REAL
'''


def test_inconclusive_follows_the_option_not_applicable_skips_and_an_unknown_status_fails(pytester):
    pytester.makeconftest(STATUS_CONFTEST)
    pytester.makepyfile(my_variant=TRUE_VARIANT.replace(
        '.only_claims("rank", "omega")', '.only_claims("rank", "left_singular_vectors", "right_singular_vectors")'))
    failing = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rsf", "my_variant.py")
    assert outcomes(failing) == {"failed": 2, "skipped": 1}, failing.stdout.str()
    failing.stdout.fnmatch_lines(["*SKIPPED*NOT APPLICABLE: *", "FAILED my_variant.py::rank - INCONCLUSIVE: *",
                                  "FAILED my_variant.py::right_singular_vectors - unknown verdict 'ODD'*"])
    skipping = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--verifier-inconclusive=skip", "my_variant.py")
    assert outcomes(skipping) == {"failed": 1, "skipped": 2}, skipping.stdout.str()


PROOF_MODULE = '''
from proofs_check.step import ProofStep, StepResult

def compare(step, seed):
    if step.printed == "right":
        return StepResult("VERIFIED", "exact", "both sides agree")
    return StepResult("REFUTED", "exact", "the sides differ at x = 1", counterexample={"values": {"x": 1}})

STEPS = (ProofStep("X", "(1)", "a step that holds", "right", compare),
         ProofStep("X", "(2)", "a step printed wrong", "wrong", compare, corrected="right", corrected_text="fixed"),
         ProofStep("X", "(3)", "a step wrong without a correction", "wrong", compare))
'''


def test_proof_module_one_item_per_step(pytester):
    pytester.makepyfile(my_proof=PROOF_MODULE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rxf", "my_proof.py")
    assert outcomes(result) == {"passed": 1, "xfailed": 1, "failed": 1}, result.stdout.str()
    result.stdout.fnmatch_lines(["XFAIL my_proof.py::step02(2) - documented erratum: (2) is refuted as printed; "
                                 "corrected: fixed", "FAILED my_proof.py::step03(3) - REFUTED: proof X, (3)*"])


INSTANCE = {"latent": {"d1": 2}, "hyper": {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0},
            "vectors": {"sigma": [1.0, 2.0]}, "data": {"spectrum": [2.0, 0.9, 0.3], "D0": 3}, "seed": 0}


def test_helper_checks_one_claim_on_one_instance(tmp_path, verifier_settings):
    path = tmp_path / "wrong_variant.py"
    path.write_text(WRONG_VARIANT)
    assert verifier_settings.minimiser.seed == 0 and verifier_settings.minimiser.restarts == 4
    assert assert_claim_holds("theorem1", "omega", INSTANCE, settings=verifier_settings).status == "VERIFIED"
    assert check_claim(str(path), "omega", INSTANCE).status == "REFUTED"
    with pytest.raises(ClaimRefuted) as refuted:
        assert_claim_holds(str(path), "omega", INSTANCE)
    replay = str(refuted.value).split("replay: ", 1)[1]
    assert replay.startswith(f"verifier check {path} --claim omega --instance ")
    assert json.loads(shlex.split(replay)[6]) == INSTANCE
