"""Exit codes a script can trust: an unexpected exception in the verifier is exit 4 (internal error), in one
line that names it and points at --debug, on every command -- never 1, which means REFUTED."""
import json
import textwrap

import pytest

import proofs_check
import theorems
import verifier.run_all
import verifier.solve
import verifier.training.command
import verifier.training.tables
import verifier.verdicts
from verifier.cli import INTERNAL_ERROR, main
from verifier.report import status as st
from verifier.report.profiles import PROFILES
from verifier.report.sections import ReportSettings

INSTANCE = json.dumps({"latent": {"d1": 1}, "hyper": {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0},
                       "vectors": {}, "data": {"spectrum": [2.0], "D0": 1}})


def _explode(*args, **kwargs):
    raise ZeroDivisionError("float division by zero, deep in the engine")


class _ExplodingListing(dict):
    """`verifier list` reads the static listing, whose items() here raises as a bug would."""
    items = staticmethod(_explode)


# command line -> the function it reaches, made to raise as a bug would
COMMANDS = {
    "check": (["check", "theorem4", "--examples", "1"], verifier.verdicts, "check_theorem"),
    "check --instance": (["check", "theorem4", "--instance", INSTANCE], verifier.verdicts, "check_instance"),
    "check all": (["check", "all", "--examples", "1"], verifier.verdicts, "check_theorem"),
    "solve": (["solve", "theorem4", "--instance", INSTANCE], verifier.solve, "solve"),
    "list": (["list"], theorems, "LISTING"),
    "proofs": (["check", "proof:C"], proofs_check, "run_proof"),
    "train": (["train", "--experiment", "vae"], verifier.training.command, "run"),
    "tables": (["tables"], verifier.training.tables, "run"),
    "report": (["report", "--out", "{tmp}/report"], verifier.run_all, "run_all"),
}


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_internal_error_is_exit_4_in_one_line_pointing_at_debug(capsys, monkeypatch, tmp_path, command):
    argv, module, attribute = COMMANDS[command]
    monkeypatch.setattr(module, attribute, _ExplodingListing() if attribute == "LISTING" else _explode)
    code, out, err = _run(capsys, [a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == INTERNAL_ERROR == 4
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("verifier: internal error: ZeroDivisionError: float division by zero, deep in the engine")
    assert "--debug" in err and out == ""


@pytest.mark.parametrize("where", ["before the command", "after it"])
def test_debug_prints_the_traceback(capsys, monkeypatch, where):
    monkeypatch.setattr(verifier.solve, "solve", _explode)
    argv = ["solve", "theorem4", "--instance", INSTANCE]
    argv = ["--debug", *argv] if where == "before the command" else [*argv, "--debug"]
    code, _, err = _run(capsys, argv)
    assert code == 4
    assert "Traceback (most recent call last)" in err and "in _explode" in err
    assert err.rstrip().splitlines()[-1].startswith("verifier: internal error: ZeroDivisionError")


def test_help_documents_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for code, words in (("0", "verified"), ("1", "refuted"), ("2", "usage or spec error"), ("3", "inconclusive"),
                        ("4", "internal error")):
        assert any(line.strip().startswith(f"{code}  ") and words in line for line in text.splitlines()), code


def test_a_theorem_that_crashes_in_the_report_is_an_internal_error_not_a_refutation(monkeypatch):
    monkeypatch.setattr(verifier.run_all, "_check_one", _explode)
    entry = verifier.run_all.check_theorem_entry("theorem4", PROFILES["quick"], ReportSettings(),
                                                        lambda msg: None)
    assert entry["error_class"] == st.INTERNAL_ERROR and entry["exit_code"] == 4
    assert st.exit_status([st.INTERNAL_ERROR, st.REFUTED, st.SPEC_ERROR]) == 4
    assert st.combine([1, 4, 2]) == 4


def test_an_error_raised_by_the_spec_modules_own_code_blames_its_line(capsys, tmp_path):
    """A callable the spec gives (an OnData premise) that raises while the claims are checked is the
    spec's mistake: exit 2 with its file and line, not an internal error."""
    spec = tmp_path / "premise_raises.py"
    spec.write_text(textwrap.dedent("""\
        import dataclasses
        from theorems.theorem4_vae_learnable_sigma import THEOREM as BASE
        from verifier.spec import OnData


        def needs_data(instance):
            return instance.X.shape[0] > 1      # a spectrum instance has no X


        THEOREM = dataclasses.replace(BASE, claims=(OnData(
            "optimum_on_data", "(4)", "on data", inner=BASE.claim("optimum"), applies=needs_data,
            condition="data given"),))
    """))
    code, out, err = _run(capsys, ["check", str(spec), "--instance", INSTANCE])
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"spec module {spec}, line 7," in err and "AttributeError" in err
