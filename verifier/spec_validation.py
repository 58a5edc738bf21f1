"""Argument checks for the spec constructors (``verifier.spec``): a mistake in a spec module is caught
where it is made, as a :class:`SpecError` that names the argument, what was expected and the fix.

A check is a function ``(owner, argument, value)`` that returns nothing or raises with one line,
``Owner: argument=value (a T); expected E -- fix``, so that the loader can put the spec module's file
and line in front of it and the command line can print it as it is (exit 2).  A spec class lists the
check of each of its fields (``Validated._checks``); :func:`check_fields` runs them on construction.
"""
from __future__ import annotations

from typing import Callable

import sympy as sp

from .errors import SpecError

Check = Callable[[str, str, object], None]
_REPR_LIMIT = 80


def shown(value) -> str:
    """``value`` as a message shows it: its repr, cut short, and its type."""
    text = repr(value)
    if len(text) > _REPR_LIMIT:
        text = text[:_REPR_LIMIT - 3] + "..."
    return f"{text} (a {type(value).__name__})"


def fail(owner: str, argument: str, value, expected: str, fix: str) -> SpecError:
    return SpecError(f"{owner}: {argument}={shown(value)}; expected {expected} -- {fix}")


def require(ok: bool, owner: str, argument: str, value, expected: str, fix: str) -> None:
    if not ok:
        raise fail(owner, argument, value, expected, fix)


def name(owner: str, argument: str, value) -> None:
    """A non-empty string: the name of a claim, a theorem, a matrix, a vector or a dimension."""
    require(isinstance(value, str) and value.strip() != "", owner, argument, value, "a non-empty string",
            f'write the name in quotes, e.g. {argument}="U"')


def text(owner: str, argument: str, value) -> None:
    require(isinstance(value, str), owner, argument, value, "a string", "write it in quotes")


def flag(owner: str, argument: str, value) -> None:
    require(isinstance(value, bool), owner, argument, value, "True or False", f"pass {argument}=True or False")


def whole(owner: str, argument: str, value) -> None:
    require(isinstance(value, int) and not isinstance(value, bool) and value >= 0, owner, argument, value,
            "a whole number >= 0", f"pass {argument}=1, 2, ...")


def symbol(owner: str, argument: str, value) -> None:
    require(isinstance(value, sp.Symbol), owner, argument, value, "a sympy Symbol",
            'make it with sympy.Symbol("name", positive=True), or take it from the base spec')


def matrix_symbol(owner: str, argument: str, value) -> None:
    require(isinstance(value, sp.MatrixSymbol), owner, argument, value, "a sympy MatrixSymbol",
            'make it with sympy.MatrixSymbol("U", rows, cols), or take it from the model')


def expression(what: str = "a sympy expression") -> Check:
    """A sympy expression (scalar, matrix or condition).  A Python number is not taken silently where a
    formula belongs, nor a string (sympify would evaluate it), nor a Python function."""
    def check(owner: str, argument: str, value) -> None:
        if isinstance(value, sp.Basic):
            return
        if callable(value) and not isinstance(value, type):
            fix = "write the formula in sympy (sp.sqrt, sp.Max, sp.Piecewise, ...), not as a Python function"
        elif isinstance(value, str):
            fix = "write the formula with sympy objects (e.g. sp.sqrt(theta)), not as a string"
        elif isinstance(value, int) and not isinstance(value, bool):
            fix = f"wrap a number in sympy: sp.Integer({value!r})"
        elif isinstance(value, float):
            fix = f"wrap a number in sympy: sp.Rational({str(value)!r}) (exact) or sp.Float({value!r})"
        else:
            fix = "build it from the spec's sympy symbols"
        raise fail(owner, argument, value, what, fix)
    return check


def kind(kinds: tuple[type, ...], fix: str) -> Check:
    """One of the spec's own types (a per-index source, a basis, a claim, ...)."""
    names = " | ".join(k.__name__ for k in kinds)

    def check(owner: str, argument: str, value) -> None:
        if isinstance(value, kinds):
            return
        how = f"a Python function cannot be one: {fix}" if callable(value) and not isinstance(value, type) else fix
        raise fail(owner, argument, value, names, how)
    return check


def a_callable(signature: str) -> Check:
    return lambda owner, argument, value: require(
        callable(value), owner, argument, value, f"a callable {signature}",
        f"pass the function itself (without calling it): {argument}=my_function")


def optional(inner: Check) -> Check:
    """``inner``, or None."""
    return lambda owner, argument, value: None if value is None else inner(owner, argument, value)


def number_or(inner: Check) -> Check:
    """A Python number, or what ``inner`` accepts."""
    def check(owner: str, argument: str, value) -> None:
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            inner(owner, argument, value)
    return check


def choice(*choices: str) -> Check:
    listed = ", ".join(map(repr, choices))
    return lambda owner, argument, value: require(value in choices, owner, argument, value, f"one of {listed}",
                                                  f"pick one of {listed}")


def tuple_of(each: Check, example: str) -> Check:
    """A tuple whose every item ``each`` accepts (a spec is frozen data: a list is a mistake too)."""
    def check(owner: str, argument: str, value) -> None:
        if isinstance(value, str):
            raise fail(owner, argument, value, "a tuple",
                       f"a single item is a tuple with a trailing comma: ({value!r},)")
        require(isinstance(value, tuple), owner, argument, value, "a tuple", f"write it in parentheses: {example}")
        for i, item in enumerate(value):
            each(owner, f"{argument}[{i}]", item)
    return check


def pair(first: Check, second: Check, example: str) -> Check:
    def check(owner: str, argument: str, value) -> None:
        require(isinstance(value, tuple) and len(value) == 2, owner, argument, value, "a pair (a 2-tuple)",
                f"write it as {example}")
        first(owner, f"{argument}[0]", value[0])
        second(owner, f"{argument}[1]", value[1])
    return check


def known(owner: str, argument: str, value, names, missing: str) -> None:
    """``value`` is one of ``names`` (names or symbols of the theorem); ``missing`` says what it lacks,
    e.g. "theorem1 has no closed form for sigma_p; it has closed forms for", and the list follows."""
    if value in names:
        return
    namesake = [n for n in names if str(n) == str(value)]
    if namesake and isinstance(value, sp.Basic):
        # sympy symbols are equal only with equal assumptions: Symbol("theta") is not the spec's theta
        raise SpecError(f"{owner}: {argument}={shown(value)} is not the spec's own {value}: a sympy symbol of that "
                        f"name with other assumptions ({_assumptions(value)}; the spec's: "
                        f"{_assumptions(namesake[0])}) -- import the symbol from the spec's model module "
                        f"(docs/variants.md: from theorems.<the model's module> import {value}) instead of making a new one")
    raise SpecError(f"{owner}: {argument}={shown(value)}: {missing} {[str(n) for n in names]} -- use one of "
                    f"those (from the base spec), or add it to the spec first")


def _assumptions(symbol) -> str:
    held = [k for k in ("integer", "positive", "nonnegative", "real") if getattr(symbol, f"is_{k}", None)]
    return ", ".join(held) or "none"


def check_fields(obj) -> None:
    """Run the checks every class of ``obj``'s type lists in ``_checks`` (field -> check) on its fields;
    the owner named in a message is the class, with ``obj.name`` where it has one."""
    label = type(obj).__name__
    own_name = getattr(obj, "name", None)
    if "name" in obj.__dataclass_fields__:
        name(label, "name", own_name)
        label = f"{label} {own_name!r}"
    for cls in reversed(type(obj).__mro__):
        for field_name, check in vars(cls).get("_checks", {}).items():
            check(label, field_name, getattr(obj, field_name))


class Validated:
    """A spec dataclass whose fields are checked on construction (and so on ``dataclasses.replace``)."""
    _checks: dict = {}

    def __post_init__(self):
        check_fields(self)
