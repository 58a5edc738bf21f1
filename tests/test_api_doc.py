"""docs/api.md lists every public name of verifier.spec, of verifier.strategies and every method of Theorem."""
import inspect
from pathlib import Path

import verifier.spec as spec
import verifier.strategies as strategies

API = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()


def test_every_public_name_of_the_spec_and_the_strategies_is_listed():
    names = list(spec.__all__) + [n for n, obj in vars(strategies).items()
                                  if not n.startswith("_") and getattr(obj, "__module__", None) == strategies.__name__]
    names += [f"Theorem.{n}" for n, _ in inspect.getmembers(spec.Theorem, inspect.isfunction)
              if not n.startswith("_")]
    missing = [n for n in names if f"`{n}" not in API]
    assert not missing, missing
