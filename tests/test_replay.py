"""Exact replays: a refutation's replay line reproduces the same computation -- the spec (a file by its
path), the instance, the seed, the restarts, the device -- and so the same verdict and counterexample."""
import dataclasses
import json
import shlex

import pytest

from verifier.cli import main
from verifier.instances import Instance
from verifier.numeric import MinimiserSettings
from verifier.pipeline import PipelineSettings
from verifier.run_all import check_theorem_entry
from verifier.report.profiles import PROFILES
from verifier.report.sections import ReportSettings
from verifier.verdicts import replay_command

INSTANCE = Instance({"d1": 1}, {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0}, {"sigma": (1.0,)}, spectrum=(0.9,),
                    D0=1, seed=5)


def _replay(capsys, line: str) -> tuple[int, dict]:
    """Run a replay line in-process (its trailing comment, if any, dropped), with --json."""
    argv = shlex.split(line, comments=True)
    assert argv[:2] == ["verifier", "check"], line
    code = main(argv[1:] + ["--json"])
    return code, json.loads(capsys.readouterr().out)


def test_every_refutation_of_the_reports_theorem1_job_replays_to_the_same_counterexample(capsys):
    """Theorem 1 as the report checks it (its quick profile: 3 restarts of its own, not the CLI's 4): each
    refuted claim's replay line gives the same verdict, the same instance and the same evidence."""
    entry = check_theorem_entry("theorem1", PROFILES["quick"], ReportSettings(profile="quick", seed=0, device="cpu"),
                                lambda msg: None)
    refuted = [c for c in entry["claims"] if c["status"] == "REFUTED" and c.get("counterexample")]
    assert [c["claim"] for c in refuted] == ["remark2"]          # Remark 2's dropped sqrt(beta): an erratum
    for claim in refuted:
        line = claim["counterexample"]["replay"]
        assert f"--restarts {PROFILES['quick'].restarts}" in line and "--seed 0" in line and "# not exact" not in line
        code, verdict = _replay(capsys, line)
        (replayed,) = verdict["claims"]
        assert code == 1 and replayed["claim"] == claim["claim"] and replayed["status"] == "REFUTED"
        assert replayed["counterexample"]["instance"] == claim["counterexample"]["instance"]
        assert replayed["detail"] == claim["counterexample"]["detail"]


def test_a_variant_files_refutation_replays_from_its_path_with_the_runs_settings(capsys, tmp_path, monkeypatch):
    """A wrong closed form in a variant file without name= (omega's threshold without its sqrt(beta), wrong at
    beta = 0.5 where theta lies between the two thresholds): its verdict is named after the file, and the
    replay line -- the file's path, --seed 3 --restarts 2 as the run used -- reproduces the counterexample."""
    spec = tmp_path / "omega_without_sqrt_beta.py"
    spec.write_text("import sympy as sp\n"
                    "from theorems.linear_vae import c, omega, sigma_p, theta\n"
                    "from theorems.theorem1_vae_fixed_sigma import THEOREM as BASE\n"
                    "THEOREM = BASE.replace_closed_form(omega, sp.sqrt(sp.Max(0, c / sigma_p * (theta - c * sigma_p))))"
                    ".only_claims('optimum', 'omega')\n")
    monkeypatch.chdir(tmp_path)
    code = main(["check", spec.name, "--claim", "omega", "--instance", json.dumps(INSTANCE.to_json()),
                 "--seed", "3", "--restarts", "2", "--device", "cpu", "--json"])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 1 and verdict["theorem"] == "omega_without_sqrt_beta"
    (claim,) = verdict["claims"]
    line = claim["counterexample"]["replay"]
    assert line.startswith(f"verifier check {spec.name} --claim omega --instance ")
    assert line.endswith("--seed 3 --restarts 2 --device cpu")
    code, replayed = _replay(capsys, line)
    assert code == 1 and replayed["theorem"] == "omega_without_sqrt_beta"
    assert replayed["claims"][0]["counterexample"]["instance"] == claim["counterexample"]["instance"]
    assert replayed["claims"][0]["detail"] == claim["counterexample"]["detail"]


# ------------------------------------------------------------ the line itself

def test_the_line_carries_every_setting_the_command_line_sets():
    settings = PipelineSettings.from_options(seed=7, restarts=5, device="cpu")
    line = replay_command("my variant.py", "omega", INSTANCE, settings)
    argv = shlex.split(line)
    assert argv[:5] == ["verifier", "check", "my variant.py", "--claim", "omega"]
    assert Instance.from_json(json.loads(argv[6])) == INSTANCE            # with the instance's own seed, 5
    assert argv[7:] == ["--seed", "7", "--restarts", "5", "--device", "cpu"]
    assert replay_command("theorem1", "omega", INSTANCE) == replay_command(
        "theorem1", "omega", INSTANCE, PipelineSettings.from_options(seed=0, restarts=4, device="cpu"))


def _loosened(tolerances):
    """The tolerances with their first factor ten times larger."""
    first = dataclasses.fields(tolerances)[0].name
    return dataclasses.replace(tolerances, **{first: getattr(tolerances, first) * 10})


@pytest.mark.parametrize("changed, field", [
    (PipelineSettings(tolerances=_loosened(PipelineSettings().tolerances)), "tolerances"),
    (PipelineSettings(minimiser=MinimiserSettings(max_iterations=10)), "minimiser"),
    (PipelineSettings(data_form_minimiser=MinimiserSettings(restarts=9)), "data_form_minimiser"),
])
def test_a_run_the_command_line_cannot_repeat_says_its_replay_is_not_exact(changed, field):
    line = replay_command("theorem1", "omega", INSTANCE, changed)
    assert line.endswith(f"  # not exact: the run's {field} settings are not command-line options")


def test_the_data_form_minimiser_takes_the_runs_settings_unless_given_its_own():
    run = PipelineSettings.from_options(seed=3, restarts=2, device="cpu")
    assert run.data_form == run.minimiser and run.data_form.seed == 3 and run.data_form.restarts == 2
    own = MinimiserSettings(restarts=6)
    assert dataclasses.replace(run, data_form_minimiser=own).data_form == own
