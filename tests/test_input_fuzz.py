"""Fuzzing the command line with malformed instances: wrong types, missing and extra keys, extreme
magnitudes.  Every one must end in exit 2 with one line on stderr, or in a verdict -- never a
traceback, a hang, non-standard JSON, or a REFUTED outside the certifiable range."""
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from theorems.theorem1_vae_fixed_sigma import THEOREM
from verifier.cli import main
from verifier.errors import InstanceError
from verifier.instances import Instance

VALID = {"latent": {"d1": 2}, "hyper": {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0},
         "vectors": {"sigma": [1.0, 2.0]}, "data": {"spectrum": [2.0, 0.3], "D0": 3}, "seed": 0}
PATHS = [("latent", "d1"), ("hyper", "beta"), ("hyper", "eta_enc"), ("hyper", "eta_dec"), ("vectors", "sigma"),
         ("data", "spectrum"), ("data", "D0"), ("seed",), ("latent",), ("hyper",), ("data",), ("vectors",)]

extreme = st.sampled_from([0.0, -1.0, 5e-324, 1e-308, 1e-200, 1e-38, 1e-9, 1e9, 1e38, 1e200, 1e308,
                           3, 100_000, 10**30, 2**63])
wrong_type = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.just([]), st.just({}),
                       st.lists(st.integers(-3, 300), max_size=3), st.just({"x": 1}))
data_matrix = st.lists(st.lists(st.one_of(extreme, st.floats(-3, 3)), min_size=1, max_size=3), min_size=1, max_size=4)


@st.composite
def malformed_instances(draw):
    obj = json.loads(json.dumps(VALID))

    def fresh(strategy):          # a copy: st.just's objects are shared between draws
        return json.loads(json.dumps(draw(strategy)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        action = draw(st.sampled_from(["type", "magnitude", "missing", "extra", "vector", "X"]))
        parent = obj
        for key in path[:-1]:
            parent = parent.setdefault(key, {}) if isinstance(parent, dict) else {}
        if not isinstance(parent, dict):
            continue
        if action == "missing":
            parent.pop(path[-1], None)
        elif action == "extra":
            target = parent.get(path[-1]) if isinstance(parent.get(path[-1]), dict) else parent
            target[draw(st.sampled_from(["Y", "extra", "sigma", "d2", "X"]))] = fresh(st.one_of(extreme, wrong_type))
        elif action == "type":
            parent[path[-1]] = fresh(wrong_type)
        elif action == "magnitude":
            parent[path[-1]] = draw(extreme)
        elif action == "vector":
            parent[path[-1]] = draw(st.lists(extreme, min_size=1, max_size=3))
        else:
            obj["data"] = {"X": fresh(data_matrix)}
    return obj


def _certifiable(obj) -> bool:
    try:
        Instance.from_json(obj).validate(THEOREM.model).check_certifiable()
        return True
    except InstanceError:
        return False


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])   # capsys is read out per example
@given(malformed_instances(), st.sampled_from(["check", "solve"]))
def test_malformed_instances_get_a_clear_error_or_a_verdict(capsys, obj, command):
    text = json.dumps(obj)
    code = main([command, "theorem1", "--instance", text])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    if code == 2:
        assert err.startswith("verifier: error: ") and err.count("\n") == 1, err
        assert out == ""
        return
    assert code in (0, 1, 3), (code, out, err)
    if command == "solve":
        json.loads(out, parse_constant=lambda token: (_ for _ in ()).throw(AssertionError(token)))
    if code == 1 or "REFUTED" in out.replace("refuted as printed", ""):
        assert _certifiable(obj), f"REFUTED outside the certifiable range: {text}"
