"""Where a spec's numbers come from: the per-index quantities (theta_i, sigma'_i, ...), the bases of the
claimed SVD structure, how the claimed optimum is assembled, and the per-index problem of the proof."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions import MatrixExpr, MatrixSymbol

from .. import spec_validation as v
from ..spec_validation import Validated


@dataclass(frozen=True)
class SingularValues(Validated):
    """theta_i: singular values of a data matrix, non-increasing, zero past the ones that exist."""
    matrix: str
    _checks = {"matrix": v.name}


@dataclass(frozen=True)
class IndexWithin(Validated):
    """1 for the indices i <= ``dimension`` (i counted from 1), 0 past it: which indices have a
    slot in a smaller factor, e.g. the d2 columns of U2 when d2 < d1 (App. F.1)."""
    dimension: str
    _checks = {"dimension": v.name}


@dataclass(frozen=True)
class SortedVector(Validated):
    """sigma'_i: a fixed vector of the instance, sorted."""
    vector: str
    ascending: bool = True
    _checks = {"vector": v.name, "ascending": v.flag}


@dataclass(frozen=True)
class Constant(Validated):
    """One value at every index: a per-index quantity the theorem holds fixed (e.g. a shared variance, or 1
    where a factor has a slot at every index), a finite number."""
    value: float

    def __post_init__(self):
        super().__post_init__()
        number = isinstance(self.value, (int, float)) and not isinstance(self.value, bool)
        v.require(number and math.isfinite(self.value), "Constant", "value", self.value, "a finite number",
                  "write the number itself, e.g. Constant(1.0)")


REDUCTIONS = ("sum", "mean", "count")


@dataclass(frozen=True)
class SpectrumReduction(Validated):
    """One value at every index, reduced over a data matrix's whole spectrum (not cut at the index size):
    the ``reduce`` ("sum", "mean" or "count") of its singular values, each to the ``power``, over the indices
    past the dimension ``after`` (e.g. the discarded ones past q), within the dimension ``within``, or all of
    them.  E.g. the mean of the discarded eigenvalues of a covariance C: SpectrumReduction("C", "mean",
    after="q").  The mean over no index is nan (the claims then say the closed form is undefined)."""
    of: str
    reduce: str = "mean"
    after: str | None = None
    within: str | None = None
    power: int = 1
    _checks = {"of": v.name, "reduce": v.choice(*REDUCTIONS), "after": v.optional(v.name),
               "within": v.optional(v.name), "power": v.whole}

    def __post_init__(self):
        super().__post_init__()
        v.require(self.after is None or self.within is None, "SpectrumReduction", "within", self.within,
                  "no 'within' beside 'after'", "give one of after= (the indices past a dimension) or within=")


# Bases of the claimed SVD structure.
_SIZE = {"size": v.expression("a dimension symbol (e.g. d1)")}


@dataclass(frozen=True)
class LeftSingularVectors(Validated):
    matrix: str
    _checks = {"matrix": v.name}


@dataclass(frozen=True)
class RightSingularVectors(Validated):
    matrix: str
    _checks = {"matrix": v.name}


@dataclass(frozen=True)
class SortingBasis(Validated):
    """The permutation T with diag(v**2) = T diag(sorted v**2) T^T."""
    vector: str
    size: sp.Symbol
    ascending: bool = True
    _checks = {"vector": v.name, **_SIZE, "ascending": v.flag}


@dataclass(frozen=True)
class IdentityBasis(Validated):
    size: sp.Symbol
    _checks = _SIZE


@dataclass(frozen=True)
class RandomOrthogonalBasis(Validated):
    """Any orthogonal matrix (drawn from the instance's seed): for 'T can be any orthogonal matrix'."""
    size: sp.Symbol
    _checks = _SIZE


INDEX_SOURCES = (SingularValues, SortedVector, IndexWithin, Constant, SpectrumReduction)        # what a per-index quantity is computed from
BASES = (LeftSingularVectors, RightSingularVectors, SortingBasis, IdentityBasis, RandomOrthogonalBasis)
check_index_source = v.kind(INDEX_SOURCES, 'give where the quantity comes from, e.g. SortedVector("sigma")')
check_basis = v.kind(BASES, 'give how the basis is computed, e.g. RandomOrthogonalBasis(d1)')


@dataclass(frozen=True)
class Optimum(Validated):
    """How the claimed optimum is assembled.

    ``bases``: basis symbol -> how it is computed from the instance.
    ``diagonals``: rectangular-diagonal symbol -> the per-index closed form on its diagonal.
    ``construction``: (variable, expression) in order; later ones may use earlier ones.
    """
    bases: tuple[tuple[MatrixSymbol, object], ...]
    diagonals: tuple[tuple[MatrixSymbol, sp.Symbol], ...]
    construction: tuple[tuple[MatrixSymbol, MatrixExpr], ...]
    _checks = {"bases": v.tuple_of(v.pair(v.matrix_symbol, check_basis, '(R, LeftSingularVectors("Z"))'),
                                   '((R, LeftSingularVectors("Z")),)'),
               "diagonals": v.tuple_of(v.pair(v.matrix_symbol, v.symbol, "(Omega, omega)"), "((Omega, omega),)"),
               "construction": v.tuple_of(v.pair(v.matrix_symbol, v.expression("a sympy matrix expression"),
                                                 "(U, R * Omega * T.T)"), "((U, R * Omega * T.T),)")}


@dataclass(frozen=True)
class Reduction(Validated):
    """The per-index scalar problem the proof arrives at.

    Substituting 1x1 matrices (``matrices``: matrix name -> scalar expression) into the
    model's objective gives the reduced objective.  ``variables`` are minimised over
    (each >= 0: singular values and standard deviations); the theorem's closed forms
    for them are the claimed minimiser.
    """
    matrices: tuple[tuple[str, sp.Expr], ...]
    variables: tuple[sp.Symbol, ...]
    equation: str
    _checks = {"matrices": v.tuple_of(v.pair(v.name, v.number_or(v.expression("a sympy expression or a number")),
                                             '("U", omega)'), '(("U", omega), ("Z", theta))'),
               "variables": v.tuple_of(v.symbol, "(omega, lam)"), "equation": v.text}

