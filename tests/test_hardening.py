"""Bad input on the command line: exit 2 with one line naming the problem, never a traceback, a hang,
a silent misreading or a verdict outside the range float64 can certify (issue: hardening)."""
import json
import subprocess
import sys

import pytest
from instance_edits import edited

from verifier.cli import main
from verifier.output import stdout_to_stderr, strict_json

README_INSTANCE = {"latent": {"d1": 3}, "hyper": {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0},
                   "vectors": {"sigma": [1.0, 2.0, 0.5]}, "data": {"spectrum": [2.0, 1.0, 0.3], "D0": 4}, "seed": 0}


def instance(**changes):
    """The README's instance with ``section__key=value`` changes, as JSON text."""
    return json.dumps(edited(README_INSTANCE, **changes))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(code, out, err, *fragments):
    assert code == 2, (out, err)
    assert err.startswith("verifier: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "REFUTED" not in out
    for fragment in fragments:
        assert fragment in err, err


# ---------------------------------------------------------------- silent misreadings

@pytest.mark.parametrize("changes, fragments", [
    ({"vectors__sigma": "125"}, ["vectors.sigma must be a JSON array", "a string"]),
    ({"data": {"spectrum": "213", "D0": 4}}, ["data.spectrum must be a JSON array", "a string"]),
    ({"hyper__beta": True}, ["hyper.beta must be a JSON number", "a boolean"]),
    ({"data": {"spectrum": [2.0, 1.0, 0.3], "D0": 4, "extra": 1}}, ["unknown field(s) ['extra'] in data"]),
    ({"data": {"X": [[1.0, 0.0], [0.0, 2.0]], "Y": [[1.0], [2.0]]}}, ["data.Y given", "takes no paired data"]),
])
def test_values_are_never_misread(capsys, changes, fragments):
    assert_usage_error(*run(capsys, "solve", "theorem1", "--instance", instance(**changes)), *fragments)


@pytest.mark.parametrize("changes, name", [
    ({"hyper__beta": 1e-308}, "hyper.beta=1e-308"),
    ({"vectors__sigma": [1e-308, 2.0, 0.5]}, "vectors.sigma[0]=1e-308"),
    ({"hyper__beta": 5e7}, "hyper.beta=5e+07"),                 # was a false refutation of omega
    ({"vectors__sigma": [2e7, 2.0, 0.5]}, "vectors.sigma[0]=2e+07"),   # and of omega and lambda
    ({"hyper__eta_enc": 1e308}, "hyper.eta_enc=1e+308"),
    ({"hyper__eta_dec": 1e-308}, "hyper.eta_dec=1e-308"),
    ({"data": {"spectrum": [1e200, 1.0, 0.3], "D0": 4}}, "data.spectrum[0]=1e+200"),
    ({"data": {"X": [[1e200, 1.0], [0.5, 1e200], [1.0, 2.0]]}}, "max |data.X|=1e+200"),
    ({"data": {"X": [[1e-200, 0.0], [0.0, 1e-200]]}}, "max |data.X|=1e-200"),
])
def test_outside_the_certifiable_range_is_an_error_never_refuted(capsys, changes, name):
    for command in ("check", "solve"):
        code, out, err = run(capsys, command, "theorem1", "--instance", instance(**changes))
        assert_usage_error(code, out, err, name, "outside the certifiable range")
        assert out == ""            # nothing half-written on stdout (solve's JSON, a replay line)


def test_the_certifiable_spread_is_the_loss_tolerance_s():
    from verifier.judge import Tolerances
    from verifier.validation import LARGEST_SPREAD, LOSS_RTOL
    assert LOSS_RTOL == Tolerances().loss_rtol and LARGEST_SPREAD == pytest.approx(LOSS_RTOL ** -0.5)


def test_a_claim_outside_its_premise_is_not_applicable(capsys):
    code, out, _ = run(capsys, "check", "theorem1", "--instance", json.dumps(README_INSTANCE))
    assert code == 0, out                       # was 3: premises not met counted as inconclusive
    assert "NOT APPLICABLE remark2 " in out and "INCONCLUSIVE" not in out and "=> VERIFIED" in out
    code, out, _ = run(capsys, "check", "theorem1", "--json", "--instance", json.dumps(README_INSTANCE))
    claims = {c["claim"]: c for c in json.loads(out)["claims"]}
    assert code == 0 and claims["remark2"]["status"] == claims["remark2"]["class"] == "NOT APPLICABLE"


def test_not_applicable_never_changes_the_exit_status():
    from verifier.report.status import NOT_APPLICABLE, REFUTED, exit_status
    assert exit_status([NOT_APPLICABLE]) == 0 and exit_status([NOT_APPLICABLE, "VERIFIED"]) == 0
    assert exit_status([NOT_APPLICABLE, REFUTED]) == 1


def test_a_premise_no_instance_met_is_not_applicable():
    from collections import Counter

    from theorems.theorem1_vae_fixed_sigma import THEOREM
    from verifier.verdicts import NOT_APPLICABLE, verdict_from
    verdict = verdict_from(THEOREM.claim("remark2"), Counter({"SKIPPED": 5}), {}, None, None)
    assert verdict.status == NOT_APPLICABLE and "no instance met" in verdict.detail


# ---------------------------------------------------------------- spec modules

@pytest.mark.parametrize("body, fragment", [
    ("import sys\nsys.exit(0)\n", "called sys.exit(0) while importing"),
    ("raise KeyboardInterrupt\n", "raised KeyboardInterrupt while importing"),
])
def test_a_spec_that_exits_or_interrupts_at_import_is_an_error(capsys, tmp_path, body, fragment):
    spec = tmp_path / "bad_spec.py"
    spec.write_text(body)
    assert_usage_error(*run(capsys, "check", str(spec)), fragment, "line ")


def test_a_spec_that_hangs_at_import_hits_the_time_limit(tmp_path):
    spec = tmp_path / "hangs.py"
    spec.write_text("while True:\n    try:\n        pass\n    except Exception:\n        pass\n")
    program = ("import sys, verifier.loader as loader; loader.SPEC_IMPORT_SECONDS = 1; "
               "from verifier.cli import main; sys.exit(main(['check', sys.argv[1]]))")
    done = subprocess.run([sys.executable, "-c", program, str(spec)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 2, done.stderr
    assert "did not finish importing within 1 s" in done.stderr and "Traceback" not in done.stderr


def test_a_spec_path_that_is_a_directory(capsys, tmp_path):
    (tmp_path / "x.py").mkdir()
    assert_usage_error(*run(capsys, "check", str(tmp_path / "x.py")), "is a directory")


# ---------------------------------------------------------------- sizes and types

@pytest.mark.parametrize("changes, fragments", [
    ({"data": {"spectrum": [2.0], "D0": "4"}}, ["data.D0 must be a JSON number", "a string"]),
    ({"data": {"spectrum": [2.0], "D0": None}}, ["data.D0 must be a JSON number", "null"]),
    ({"data": {"spectrum": [2.0], "D0": [4]}}, ["data.D0 must be a JSON number", "an array"]),
    ({"data": {"spectrum": [2.0], "D0": 1e308}}, ["data.D0=1e+308 is out of range", "from 1 to 32"]),
    ({"data": {"spectrum": [2.0], "D0": 100000}}, ["data.D0=100000 is out of range", "from 1 to 32"]),
    ({"latent__d1": 10000}, ["latent.d1=10000 is out of range", "from 1 to 32"]),
    ({"hyper__beta": "abc"}, ["hyper.beta must be a JSON number"]),
    ({"latent": [3]}, ["latent must be a JSON object", "an array"]),
    ({"vectors__sigma": 1.0}, ["vectors.sigma must be a JSON array", "a number"]),
])
def test_types_and_sizes_are_checked_before_any_work(capsys, changes, fragments):
    assert_usage_error(*run(capsys, "solve", "theorem1", "--instance", instance(**changes)), *fragments)


def test_nan_tokens_are_not_json(capsys):
    text = instance().replace('"beta": 0.5', '"beta": NaN')
    assert_usage_error(*run(capsys, "solve", "theorem1", "--instance", text), "NaN, which is not JSON")


@pytest.mark.parametrize("make, fragment", [
    (lambda d: d, "is a directory"),
    (lambda d: "/dev/null", "is not a regular file"),
    (lambda d: (d / "bin.json").write_bytes(bytes(range(256)) * 4) and d / "bin.json", "not a text (UTF-8) JSON"),
    (lambda d: _sparse(d / "big.json", 17 * 2**20), "at most 16 MiB"),
])
def test_instance_files_that_are_not_instances(capsys, tmp_path, make, fragment):
    assert_usage_error(*run(capsys, "solve", "theorem1", "--instance", str(make(tmp_path))), fragment)


def _sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def test_examples_are_bounded(capsys):
    assert_usage_error(*run(capsys, "check", "theorem1", "--examples", "1000000000"), "at most 100000")


# ---------------------------------------------------------------- output streams

def test_strict_json_writes_non_finite_values_as_null_with_a_reason():
    text = strict_json({"a": [1.0, float("nan")], "b": {"c": float("inf")}})
    obj = json.loads(text)     # strict: json.loads would accept NaN, so check the tokens too
    assert "NaN" not in text and "Infinity" not in text
    assert obj["a"] == [1.0, None] and obj["b"]["c"] is None
    assert set(obj["non_finite"]) == {"a[1]", "b.c"} and "inf" in obj["non_finite"]["b.c"]


def test_library_output_on_file_descriptor_1_goes_to_stderr(capfd):
    import os
    with stdout_to_stderr():
        os.write(1, b"** On entry to DLASCL parameter number 4 had an illegal value\n")
        print("python noise")
    out, err = capfd.readouterr()
    assert out == "" and "DLASCL" in err and "python noise" in err


def test_solve_prints_strict_json(capsys):
    code, out, _ = run(capsys, "solve", "theorem1", "--instance", json.dumps(README_INSTANCE))
    assert code == 0 and "NaN" not in out and "Infinity" not in out
    json.loads(out, parse_constant=lambda token: pytest.fail(f"non-standard token {token}"))


# ---------------------------------------------------------------- the command itself

def test_version_and_python_dash_m():
    for argv in (["-m", "verifier", "--version"], ["-m", "verifier", "list"]):
        done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr
    assert done.stdout.count("theorem") >= 5
    version = subprocess.run([sys.executable, "-m", "verifier", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("verifier 0.")


# ---------------------------------------------------------------- verifier train

@pytest.mark.parametrize("content, fragment", [
    (bytes(range(256)) * 8, "not a text (UTF-8) .csv"),
    (b"1e200,1,2\n3,4,5\n6,7,9\n", "outside the range"),
    (b"1\n2\n3\n4\n", "1 column(s); the experiments need at least 3"),
    (b"1,2,3\n4,5,7\n", "span 1 direction(s)"),
])
def test_train_data_that_cannot_be_used(capsys, tmp_path, content, fragment):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    assert_usage_error(*run(capsys, "train", "--experiment", "vae", "--data", str(path)), fragment)


def test_train_out_is_checked_before_training(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    code, out, err = run(capsys, "train", "--experiment", "vae", "--epochs", "100000",
                         "--out", str(blocker / "plots"))
    assert_usage_error(code, out, err, "--out", "cannot write there")
