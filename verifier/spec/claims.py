"""What a theorem claims: the premises (conditions on the per-index quantities) and the claim kinds, one
frozen dataclass each; every claim is judged by the one checker ``verifier.judge`` registers for its kind."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp
from sympy.matrices.expressions import MatrixExpr, MatrixSymbol

from .. import spec_validation as v
from ..errors import SpecError
from ..spec_validation import Validated
from .sources import SingularValues

check_condition = v.expression("a sympy condition on the per-index quantities")


@dataclass(frozen=True)
class AllDistinct(Validated):
    vector: str
    _checks = {"vector": v.name}
    def describe(self) -> str: return f"all {self.vector}_i distinct"


@dataclass(frozen=True)
class AllEqual(Validated):
    vector: str
    _checks = {"vector": v.name}
    def describe(self) -> str: return f"all {self.vector}_i equal"


@dataclass(frozen=True)
class PartialRank(Validated):
    """0 < rank < full: the claimed optimum is low-rank but not zero."""
    active: sp.Expr
    _checks = {"active": check_condition}
    def describe(self) -> str: return "0 < rank < d1"


@dataclass(frozen=True)
class ForAllIndices(Validated):
    """A per-index inequality that must hold for every index."""
    condition: sp.Expr
    _checks = {"condition": check_condition}
    def describe(self) -> str: return f"for all i: {self.condition}"


CONDITIONS = (AllDistinct, AllEqual, PartialRank, ForAllIndices)
SPECTRA = ("singular_values", "sqrt_eigenvalues")
_SPECTRUM = v.pair(v.choice(*SPECTRA), v.name, '("singular_values", "U")')
_MATRIX_EXPR = v.expression("a sympy matrix expression")
_AXIS = v.choice("rows", "columns")
_SPECTRUM_OF_DATA = v.kind((SingularValues,), 'give the singular values of a statistics matrix, e.g. SingularValues("E")')

# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim(Validated):
    name: str
    equation: str
    statement: str
    when: tuple = ()
    erratum_of: str | None = None       # name of the printed claim this one corrects
    _checks = {"equation": v.text, "statement": v.text,
               "when": v.tuple_of(v.kind(CONDITIONS, 'a premise is a condition, e.g. AllDistinct("sigma")'),
                                  '(AllDistinct("sigma"),)'),
               "erratum_of": v.optional(v.name)}


@dataclass(frozen=True)
class GlobalMinimum(Claim):
    """The assembled optimum is a global minimiser of the matrix objective."""


@dataclass(frozen=True)
class ClosedFormSpectrum(Claim):
    """The per-index closed form ``quantity`` equals the spectrum ``measured`` of the optimum.

    ``measured`` is ``("singular_values", "U")`` or ``("sqrt_eigenvalues", "Sigma")``.
    """
    quantity: sp.Symbol = None
    measured: tuple[str, str] = None
    _checks = {"quantity": v.symbol, "measured": _SPECTRUM}


@dataclass(frozen=True)
class ClosedFormValue(Claim):
    """A claim about one number: the closed form ``quantity`` (one value, the same at every index, e.g. a
    SpectrumReduction) equals the learnable scalar ``measured``, as ``("singular_values", "s2")`` of a 1x1
    variable (``verifier.spec.scalar_variable``).  The symbolic per-index check does not bear on it."""
    quantity: sp.Symbol = None
    measured: tuple[str, str] = None
    _checks = {"quantity": v.symbol, "measured": _SPECTRUM}


@dataclass(frozen=True)
class MatrixRelation(Claim):
    """``residual`` (a matrix expression in the variables and data) vanishes at the optimum."""
    residual: MatrixExpr = None
    _checks = {"residual": _MATRIX_EXPR}


@dataclass(frozen=True)
class RankCount(Claim):
    """rank of each of ``matrices`` = number of indices where ``active`` holds."""
    matrices: tuple[str, ...] = ()
    active: sp.Expr = None
    _checks = {"matrices": v.tuple_of(v.name, '("U", "V")'), "active": check_condition}


@dataclass(frozen=True)
class ZeroLines(Claim):
    """``matrix`` has ``d - rank`` zero rows (``axis='rows'``) or columns; ``matching`` the
    same lines of another matrix (as ('rows', 'V')) are zero too."""
    matrix: str = None
    axis: str = "rows"
    matching: tuple[str, str] | None = None
    _checks = {"matrix": v.name, "axis": _AXIS, "matching": v.optional(v.pair(_AXIS, v.name, '("rows", "V")'))}


@dataclass(frozen=True)
class Implication(Claim):
    """If ``premise`` holds for every index, the optimum has ``matrix`` = 0."""
    premise: sp.Expr = None
    matrix: str = None
    _checks = {"premise": check_condition, "matrix": v.name}


@dataclass(frozen=True)
class AlternativeOptimum(Claim):
    """Replacing a basis (``basis``) by any orthogonal matrix keeps an optimum, and that
    optimum has no zero line of ``matrix`` (e.g. 'no collapse although low-rank')."""
    basis: MatrixSymbol = None
    matrix: str = None
    _checks = {"basis": v.matrix_symbol, "matrix": v.name}


@dataclass(frozen=True)
class MatrixRelationFamily(Claim):
    """Every residual in ``residuals`` vanishes at the optimum: one claim over a family of matrix
    relations, e.g. one relation per sample's encoder variance (Appendix C)."""
    residuals: tuple[MatrixExpr, ...] = ()
    _checks = {"residuals": v.tuple_of(_MATRIX_EXPR, "(residual_1, residual_2)")}

    def __post_init__(self):
        super().__post_init__()
        if not self.residuals:
            raise SpecError(f"MatrixRelationFamily {self.name!r}: give at least one residual")


@dataclass(frozen=True)
class ExpressionRank(Claim):
    """rank of the matrix expression ``expression`` (in the variables and data) at the optimum =
    number of indices where ``active`` holds; for ranks of products such as U2^T V1."""
    expression: MatrixExpr = None
    active: sp.Expr = None
    _checks = {"expression": _MATRIX_EXPR, "active": check_condition}


@dataclass(frozen=True)
class ScaledMatrixRelation(MatrixRelation):
    """A MatrixRelation whose residual also counts as zero below zero_rtol x value_scale**degree
    (value_scale ~ the size of the optimum's entries): where every term of the relation vanishes
    (a collapsed optimum), the terms are float noise and a relative comparison would be noise too.
    ``degree``: how many factors of the optimum's entries the residual's terms carry."""
    degree: int = 1
    _checks = {"degree": v.whole}


@dataclass(frozen=True)
class Restricted(Claim):
    """``inner`` is claimed only where the dimensions satisfy ``dimensions`` (a relation of the
    dimension symbols, e.g. d0 < d1) and ``premise`` holds for every index; elsewhere SKIPPED."""
    inner: Claim = None
    dimensions: sp.Basic = sp.true
    premise: sp.Basic = sp.true
    _checks = {"dimensions": v.expression("a sympy relation of the dimensions (e.g. d0 < d1)"), "premise": check_condition}

    def __post_init__(self):
        super().__post_init__()
        v.require(isinstance(self.inner, Claim) and not isinstance(self.inner, Restricted), f"Restricted {self.name!r}",
                  "inner", self.inner, "a claim other than Restricted", "restrict the claim itself: inner=RankCount(...)")




@dataclass(frozen=True)
class IndexBound(Claim):
    """For every index i: ``lhs``_i <= ``rhs``_i, each side a per-index data source (e.g.
    ``SingularValues("E")``) or a number; a statement about the data, not the optimum."""
    lhs: object = None
    rhs: object = 0.0
    reference: object = None      # a source whose largest value sets the tolerance's scale (for rhs = 0)
    _checks = {"lhs": v.number_or(_SPECTRUM_OF_DATA), "rhs": v.number_or(_SPECTRUM_OF_DATA),
               "reference": v.optional(_SPECTRUM_OF_DATA)}


@dataclass(frozen=True)
class OnData(Claim):
    """``inner`` is claimed only on instances whose data satisfy ``applies(instance)`` (described by
    ``condition``, e.g. 'x = y'); elsewhere SKIPPED."""
    inner: Claim = None
    applies: Callable = None
    condition: str = ""
    _checks = {"condition": v.text}

    def __post_init__(self):
        super().__post_init__()
        v.require(isinstance(self.inner, Claim) and not isinstance(self.inner, OnData), f"OnData {self.name!r}",
                  "inner", self.inner, "a claim other than OnData", "give the claim itself: inner=GlobalMinimum(...)")
        v.a_callable("Instance -> bool")(f"OnData {self.name!r}", "applies", self.applies)


@dataclass(frozen=True)
class VanishingCoordinates(Claim):
    """Where line i of ``matrix`` (``axis`` 'columns' or 'rows') is zero at the optimum, latent
    coordinate i of the encoder mean vanishes on the data: ``second_moment``[i, i] = 0, with
    ``second_moment`` the d x d matrix E[mean mean^T] as an expression of variables and data."""
    matrix: str = None
    axis: str = "columns"
    second_moment: MatrixExpr = None
    _checks = {"matrix": v.name, "axis": _AXIS, "second_moment": _MATRIX_EXPR}


@dataclass(frozen=True)
class DataFormAgreement(Claim):
    """The paper's reduction of the data-form loss to the whitened matrix objective holds: the
    model's ``data_form`` loss, minimised from raw data, reaches the matrix objective's minimum
    (after the form's constant), agrees with it at random points, and its minimiser has the same
    ``compare`` spectra (as ``ClosedFormSpectrum.measured``).  Instances given as a spectrum: SKIPPED."""
    compare: tuple[tuple[str, str], ...] = ()
    _checks = {"compare": v.tuple_of(_SPECTRUM, '(("singular_values", "U"),)')}


@dataclass(frozen=True)
class RelationAtPrecision(MatrixRelation):
    """A MatrixRelation whose tolerance also admits how far the certified minimiser may sit from the
    exact stationary point: the change of the residual under one Newton step.  For relations that are
    first-order conditions and whose terms all vanish together (complete collapse), where the
    minimiser's precision -- not float64 -- limits the residual."""


CLAIM_KINDS = (GlobalMinimum, ClosedFormSpectrum, ClosedFormValue, MatrixRelation, RankCount, ZeroLines, Implication,
               AlternativeOptimum, MatrixRelationFamily, ExpressionRank, Restricted, ScaledMatrixRelation,
               IndexBound, OnData, VanishingCoordinates, DataFormAgreement, RelationAtPrecision)

