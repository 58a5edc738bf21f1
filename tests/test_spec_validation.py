"""Spec constructors validate their arguments: a mistake in a spec module is exit 2 with ONE line that names
the spec file, the line of the bad call, the argument, what was expected and the fix."""
import dataclasses

import pytest
import sympy as sp

from theorems.linear_vae import T, d1, omega, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as THEOREM1
from verifier.cli import main
from verifier.errors import SpecError, UnknownClaimError
from verifier.loader import load_spec
from verifier.spec import (AllDistinct, ClosedFormSpectrum, RandomOrthogonalBasis, RankCount, SingularValues,
                           SortedVector, ZeroLines)

HEADER = """\
import dataclasses
import sympy as sp
from theorems.linear_vae import T, U, Z, beta, c, d1, omega, sigma_p, theta
from theorems.theorem1_vae_fixed_sigma import THEOREM as BASE
from verifier.spec import AllDistinct, ClosedFormSpectrum, RankCount, SortedVector, ZeroLines
"""

# name -> (the bad statement, fragments of the one-line message besides the file and line)
MISTAKES = {
    "function_for_a_source": (
        'THEOREM = BASE.replace_indexed(sigma_p, lambda inst: sorted(inst.vectors["sigma"]), name="v")',
        ["replace_indexed: source=", "(a function)", "expected SingularValues | SortedVector | IndexWithin",
         "a Python function cannot be one", 'SortedVector("sigma")']),
    "closed_form_as_a_string": (
        'THEOREM = BASE.replace_closed_form(omega, "sqrt(theta)", name="v")',
        ["replace_closed_form: expr='sqrt(theta)' (a str)", "not as a string", "sp.sqrt(theta)"]),
    "closed_form_as_a_function": (
        "THEOREM = BASE.replace_closed_form(omega, lambda theta: theta ** 0.5)",
        ["expr=", "(a function)", "not as a Python function"]),
    "unknown_claim": (
        'THEOREM = BASE.only_claims("optimum", "omgea")',
        ["theorem1 has no claim 'omgea'", "'omega'", "use one of those names"]),
    "no_claims_kept": (
        "THEOREM = BASE.only_claims()",
        ["only_claims: no claim names given", "'remark2'", "name the claims to keep"]),
    "unknown_per_index_quantity": (
        'THEOREM = BASE.replace_indexed(omega, SortedVector("sigma"), name="v")',
        ["replace_indexed: symbol=omega", "has no per-index quantity omega", "['theta', 'sigma_p']"]),
    "a_new_symbol_in_place_of_the_specs": (
        'THEOREM = BASE.replace_indexed(sp.Symbol("theta"), SortedVector("sigma"), name="v")',
        ["symbol=theta (a Symbol) is not the spec's own theta", "other assumptions (none; the spec's: nonnegative",
         "import the symbol from the spec's model module"]),
    "unknown_basis": (
        'THEOREM = BASE.replace_basis(U, SortedVector("sigma"))',
        ["replace_basis: symbol=U", "has no basis U", "['R', 'S', 'T']"]),
    "name_not_a_string": (
        "THEOREM = BASE.replace_closed_form(omega, sp.sqrt(theta), name=42)",
        ["name=42 (a int)", "a non-empty string"]),
    "one_matrix_not_a_tuple": (
        'THEOREM = dataclasses.replace(BASE, claims=BASE.claims + (RankCount("r", "(4)", "rank", matrices="U", '
        "active=theta > c),))",
        ["RankCount 'r': matrices='U' (a str)", "a tuple with a trailing comma: ('U',)"]),
    "unknown_spectrum": (
        'THEOREM = dataclasses.replace(BASE, claims=(ClosedFormSpectrum("w", "(4)", "w", quantity=omega, '
        'measured=("singular_value", "U")),))',
        ["ClosedFormSpectrum 'w': measured[0]='singular_value'", "'singular_values', 'sqrt_eigenvalues'"]),
    "axis_misspelt": (
        'THEOREM = dataclasses.replace(BASE, claims=(ZeroLines("z", "(4)", "zero rows", matrix="U", axis="row"),))',
        ["ZeroLines 'z': axis='row' (a str)", "pick one of 'rows', 'columns'"]),
    "flag_as_a_string": (
        'THEOREM = BASE.replace_indexed(sigma_p, SortedVector("sigma", ascending="no"), name="v")',
        ["SortedVector: ascending='no' (a str)", "True or False"]),
    "premise_not_in_a_tuple": (
        'THEOREM = dataclasses.replace(BASE, claims=(dataclasses.replace(BASE.claims[0], when=AllDistinct("sigma")),))',
        ["GlobalMinimum 'optimum': when=AllDistinct(vector='sigma')", "expected a tuple",
         '(AllDistinct("sigma"),)']),
    "claims_as_a_list": (
        "THEOREM = dataclasses.replace(BASE, claims=list(BASE.claims))",
        ["Theorem 'theorem1': claims=[", "(a list); expected a tuple", "write it in parentheses"]),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_broken_spec_module_exits_2_with_one_line_naming_file_line_and_fix(capsys, tmp_path, name):
    statement, fragments = MISTAKES[name]
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + "\n\n" + statement + "\n")
    line = HEADER.count("\n") + 3
    code = main(["check", str(path), "--examples", "1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"verifier: error: spec module {path}, line {line}: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_the_line_is_the_spec_files_even_when_the_bad_call_spans_lines(capsys, tmp_path):
    path = tmp_path / "chained.py"
    path.write_text(HEADER + '\nTHEOREM = (BASE.replace_closed_form(omega, sp.sqrt(theta), name="v")\n'
                             '           .only_claims("optimum", "ranks"))\n')
    assert main(["check", str(path), "--examples", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{path}, line {HEADER.count(chr(10)) + 2}" in err or f"{path}, line {HEADER.count(chr(10)) + 3}" in err
    assert "v has no claim 'ranks'" in err


# ------------------------------------------------------------ the constructors themselves

@pytest.mark.parametrize("build, fragment", [
    (lambda: SingularValues(3), "SingularValues: matrix=3 (a int); expected a non-empty string"),
    (lambda: SortedVector(""), "SortedVector: vector='' (a str)"),
    (lambda: RandomOrthogonalBasis("d1"), "RandomOrthogonalBasis: size='d1' (a str); expected a dimension symbol"),
    (lambda: RankCount("r", "(4)", "rank", matrices=("U",), active=None),
     "RankCount 'r': active=None (a NoneType); expected a sympy condition"),
    (lambda: ClosedFormSpectrum("w", "(4)", "w", quantity="omega", measured=("singular_values", "U")),
     "ClosedFormSpectrum 'w': quantity='omega' (a str); expected a sympy Symbol"),
    (lambda: ZeroLines(None, "(4)", "zero rows", matrix="U"), "ZeroLines: name=None"),
    (lambda: THEOREM1.replace_closed_form(omega, 0.5), "wrap a number in sympy: sp.Rational('0.5') (exact) or sp.Float(0.5)"),
    (lambda: THEOREM1.replace_closed_form(omega, 2), "replace_closed_form: expr=2 (a int); expected a sympy expression"),
    (lambda: THEOREM1.replace_basis(T, SortedVector("sigma")),
     "replace_basis: source=SortedVector(vector='sigma', ascending=True) (a SortedVector); expected "
     "LeftSingularVectors | RightSingularVectors | SortingBasis | IdentityBasis | RandomOrthogonalBasis"),
    (lambda: dataclasses.replace(THEOREM1, thresholds=(1.5,)), "Theorem 'theorem1': thresholds[0]=1.5 (a float)"),
    (lambda: dataclasses.replace(THEOREM1.claims[0], when=(AllDistinct("sigma"), "sigma distinct")),
     "when[1]='sigma distinct' (a str); expected AllDistinct | AllEqual | PartialRank | ForAllIndices"),
])
def test_a_constructor_names_the_argument_what_was_expected_and_the_fix(build, fragment):
    with pytest.raises(SpecError) as raised:
        build()
    assert fragment in str(raised.value) and "\n" not in str(raised.value)


def test_every_registered_and_shipped_spec_still_validates():
    from theorems import REGISTRY
    for name in REGISTRY:
        assert load_spec(name).name == name
    assert load_spec("theorems/template_variant.py").name == "template_variant"


def test_an_unknown_claim_is_a_spec_error_and_still_a_key_error():
    with pytest.raises(UnknownClaimError) as raised:
        THEOREM1.claim("nosuch")
    assert isinstance(raised.value, SpecError) and isinstance(raised.value, KeyError)
    assert str(raised.value).startswith("theorem1 has no claim 'nosuch'; its claims are ['optimum', ")


# ------------------------------------------------------------ a variant's name

@pytest.mark.parametrize("statement", [
    "THEOREM = BASE.only_claims(\"optimum\", \"omega\")",
    "THEOREM = BASE.replace_closed_form(omega, sp.sqrt(theta))",
    "THEOREM = BASE.replace_indexed(sigma_p, SortedVector(\"sigma\", ascending=False)).only_claims(\"omega\")",
])
def test_a_variant_without_a_name_is_named_after_its_file(tmp_path, statement):
    path = tmp_path / "my_variant.py"
    path.write_text(HEADER + statement + "\n")
    assert load_spec(str(path)).name == "my_variant"


def test_a_variant_keeps_the_name_it_was_given_through_a_chain(tmp_path):
    path = tmp_path / "my_variant.py"
    path.write_text(HEADER + 'THEOREM = BASE.replace_closed_form(omega, sp.sqrt(theta), name="given")'
                             '.only_claims("omega")\n')
    assert load_spec(str(path)).name == "given"
    assert THEOREM1.only_claims("omega").name == "theorem1"          # in code, until a file names it
    assert THEOREM1.only_claims("omega", name="just_omega").name == "just_omega"
    reexported = tmp_path / "same.py"                                  # the registered theorem itself, re-exported
    reexported.write_text("from theorems.theorem1_vae_fixed_sigma import THEOREM\n")
    assert load_spec(str(reexported)).name == "theorem1"
    assert sp.sqrt(theta) == load_spec(str(path)).closed_form(omega) and d1 is not None
