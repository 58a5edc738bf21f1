"""The data a theorem spec is made of.

A spec module in ``theorems/`` builds one frozen :class:`Theorem`: the model (the
matrix objective, written once in sympy, and how data become its matrices), the
per-index quantities and closed forms the theorem prints, how the claimed
optimum is assembled from them, and every printed claim as its own item.  A spec
says *what* is claimed, never how to check it: checking is ``verifier.pipeline``.
Everything here is validated on construction and then only read; a variant or
mutant is a new object made with :meth:`Theorem.replace_closed_form` and friends.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import sympy as sp
from sympy.matrices.expressions import MatrixExpr, MatrixSymbol

from . import spec_validation as v
from .errors import SpecError, UnknownClaimError
from .spec_validation import Validated

# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Hyperparameter(Validated):
    """A positive scalar the user sets (beta, eta_enc, ...)."""
    symbol: sp.Symbol
    meaning: str
    _checks = {"symbol": v.symbol, "meaning": v.text}


@dataclass(frozen=True)
class FixedVector(Validated):
    """A per-latent-dimension vector the user sets, e.g. the unlearnable encoder std sigma_i."""
    name: str
    length: sp.Symbol
    meaning: str
    _checks = {"length": v.symbol, "meaning": v.text}


@dataclass(frozen=True)
class Variable(Validated):
    """A matrix the training minimises over.

    ``kind`` is ``"free"`` (every entry) or ``"positive_diagonal"`` (a diagonal
    covariance, parametrised by the logs of its entries so it stays positive).
    """
    symbol: MatrixSymbol
    kind: str = "free"
    _checks = {"symbol": v.matrix_symbol}

    def __post_init__(self):
        super().__post_init__()
        if self.kind not in ("free", "positive_diagonal"):
            raise SpecError(f"Variable {self.symbol}: kind={self.kind!r} is not one of 'free', 'positive_diagonal'")


@dataclass(frozen=True)
class Model(Validated):
    """A matrix objective and the map from an instance's data to its matrices.

    ``statistics(instance)`` returns the data matrices (by symbol name) and the
    data-determined dimensions (by dimension-symbol name), as numpy arrays/ints.  The matrices
    may include the float ``"statistics_rtol"`` (``verifier.batch.STATISTICS_RTOL``): the relative
    rounding the statistics carry, measured (e.g. how far the whitened samples' second moment is
    from I); a claim that tests a cancellation among the statistics allows for it.  Absent: eps.
    """
    name: str
    description: str
    objective: sp.Expr
    equation: str
    variables: tuple[Variable, ...]
    data: tuple[MatrixSymbol, ...]
    hyperparameters: tuple[Hyperparameter, ...]
    fixed_vectors: tuple[FixedVector, ...]
    latent_dims: tuple[sp.Symbol, ...]
    data_dims: tuple[sp.Symbol, ...]
    statistics: Callable
    data_kind: str = "x"
    # Optional Hypothesis hooks for models whose data the default strategies cannot draw
    # (paired (x, y), two latents):  dimensions(theorem, max_dim) -> strategy of (latent, dims);
    # instance(theorem, latent, dims) -> strategy of Instance.  See verifier/strategies.py.
    dimensions_strategy: Callable | None = None
    instance_strategy: Callable | None = None
    # Optional data form of the loss (the negative ELBO computed from raw data, before whitening):
    # a verifier.data_form.DataForm, used by the DataFormAgreement claim.
    data_form: object | None = None
    _checks = {"description": v.text, "objective": v.expression("a sympy expression of the matrices"),
               "equation": v.text,
               "variables": v.tuple_of(v.kind((Variable,), 'declare it as Variable(MatrixSymbol("U", d1, D0))'),
                                       "(Variable(U), Variable(V))"),
               "data": v.tuple_of(v.matrix_symbol, "(Z,)"),
               "hyperparameters": v.tuple_of(v.kind((Hyperparameter,), 'declare it as Hyperparameter(beta, "...")'),
                                             '(Hyperparameter(beta, "..."),)'),
               "fixed_vectors": v.tuple_of(v.kind((FixedVector,), 'declare it as FixedVector("sigma", d1, "...")'),
                                           '(FixedVector("sigma", d1, "..."),)'),
               "latent_dims": v.tuple_of(v.symbol, "(d1,)"), "data_dims": v.tuple_of(v.symbol, "(D0,)"),
               # None only for a model that is minimised on given matrices, never instantiated from instances
               "statistics": v.optional(v.a_callable("Instance -> (matrices, dimensions)")), "data_kind": v.text,
               "dimensions_strategy": v.optional(v.a_callable("(theorem, max_dim) -> strategy")),
               "instance_strategy": v.optional(v.a_callable("(theorem, latent, dims) -> strategy"))}

    def __post_init__(self):
        super().__post_init__()
        names = [v.symbol.name for v in self.variables] + [m.name for m in self.data]
        if len(set(names)) != len(names):
            raise SpecError(f"Model {self.name}: a matrix is declared twice among {names}")
        known = set(names) | {h.symbol.name for h in self.hyperparameters}
        used = {s.name for s in self.objective.free_symbols if hasattr(s, "name")}
        dims = {str(d) for d in self.latent_dims + self.data_dims}
        unknown = used - known - dims
        if unknown:
            raise SpecError(f"Model {self.name}: the objective uses {sorted(unknown)}, which are neither "
                            f"variables, data nor hyperparameters ({sorted(known)})")

    @property
    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.symbol.name for v in self.variables)

    def matrix(self, name: str) -> MatrixSymbol:
        for m in [v.symbol for v in self.variables] + list(self.data):
            if m.name == name:
                return m
        raise SpecError(f"Model {self.name} has no matrix named {name!r}; it has "
                        f"{[v.symbol.name for v in self.variables] + [m.name for m in self.data]}")


# --------------------------------------------------------------------------- per-index data


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


INDEX_SOURCES = (SingularValues, SortedVector, IndexWithin)        # what a per-index quantity is computed from
BASES = (LeftSingularVectors, RightSingularVectors, SortingBasis, IdentityBasis, RandomOrthogonalBasis)
_INDEX_SOURCE = v.kind(INDEX_SOURCES, 'give where the quantity comes from, e.g. SortedVector("sigma")')
_BASIS = v.kind(BASES, 'give how the basis is computed, e.g. RandomOrthogonalBasis(d1)')


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
    _checks = {"bases": v.tuple_of(v.pair(v.matrix_symbol, _BASIS, '(R, LeftSingularVectors("Z"))'),
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


# --------------------------------------------------------------------------- conditions

_CONDITION = v.expression("a sympy condition on the per-index quantities")


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
    _checks = {"active": _CONDITION}
    def describe(self) -> str: return "0 < rank < d1"


@dataclass(frozen=True)
class ForAllIndices(Validated):
    """A per-index inequality that must hold for every index."""
    condition: sp.Expr
    _checks = {"condition": _CONDITION}
    def describe(self) -> str: return f"for all i: {self.condition}"


CONDITIONS = (AllDistinct, AllEqual, PartialRank, ForAllIndices)
SPECTRA = ("singular_values", "sqrt_eigenvalues")
_SPECTRUM = v.pair(v.choice(*SPECTRA), v.name, '("singular_values", "U")')
_MATRIX_EXPR = v.expression("a sympy matrix expression")
_AXIS = v.choice("rows", "columns")

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
class MatrixRelation(Claim):
    """``residual`` (a matrix expression in the variables and data) vanishes at the optimum."""
    residual: MatrixExpr = None
    _checks = {"residual": _MATRIX_EXPR}


@dataclass(frozen=True)
class RankCount(Claim):
    """rank of each of ``matrices`` = number of indices where ``active`` holds."""
    matrices: tuple[str, ...] = ()
    active: sp.Expr = None
    _checks = {"matrices": v.tuple_of(v.name, '("U", "V")'), "active": _CONDITION}


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
    _checks = {"premise": _CONDITION, "matrix": v.name}


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
    _checks = {"expression": _MATRIX_EXPR, "active": _CONDITION}


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
    _checks = {"dimensions": v.expression("a sympy relation of the dimensions (e.g. d0 < d1)"), "premise": _CONDITION}

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
    _checks = {"lhs": v.number_or(_INDEX_SOURCE), "rhs": v.number_or(_INDEX_SOURCE), "reference": v.optional(_INDEX_SOURCE)}


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


CLAIM_KINDS = (GlobalMinimum, ClosedFormSpectrum, MatrixRelation, RankCount, ZeroLines, Implication,
               AlternativeOptimum, MatrixRelationFamily, ExpressionRank, Restricted, ScaledMatrixRelation,
               IndexBound, OnData, VanishingCoordinates, DataFormAgreement, RelationAtPrecision)


# --------------------------------------------------------------------------- theorem


_SYMBOL_PAIRS = {"indexed": (_INDEX_SOURCE, '(theta, SingularValues("Z"))'),
                 "closed_forms": (v.expression(), "(omega, sp.sqrt(theta))")}


@dataclass(frozen=True)
class Theorem(Validated):
    name: str
    title: str
    source: str
    model: Model
    index_size: sp.Symbol
    indexed: tuple[tuple[sp.Symbol, object], ...]
    closed_forms: tuple[tuple[sp.Symbol, sp.Expr], ...]
    thresholds: tuple[sp.Expr, ...]
    optimum: Optimum
    reduction: Reduction
    claims: tuple[Claim, ...]
    notes: str = ""
    # The name of the theorem this one is a variant of (replace_closed_form & co.), None for an original.
    # A variant that still has that name was given none: verifier.loader names it after its spec file.
    variant_of: str | None = field(default=None, compare=False, repr=False)
    _checks = {"title": v.text, "source": v.text,
               "model": v.kind((Model,), "build it with Model(...) or a model's factory (theorems.linear_vae)"),
               "index_size": v.symbol,
               **{arg: v.tuple_of(v.pair(v.symbol, each, example), f"({example},)")
                  for arg, (each, example) in _SYMBOL_PAIRS.items()},
               "thresholds": v.tuple_of(v.expression(), "(sp.sqrt(beta) * eta_dec,)"),
               "optimum": v.kind((Optimum,), "build it with Optimum(bases=..., diagonals=..., construction=...)"),
               "reduction": v.kind((Reduction,), "build it with Reduction(matrices=..., variables=..., equation=...)"),
               "claims": v.tuple_of(v.kind(CLAIM_KINDS, "use one of the claim kinds of verifier.spec"),
                                    "(GlobalMinimum(...), ClosedFormSpectrum(...))"),
               "notes": v.text, "variant_of": v.optional(v.name)}

    @property
    def unnamed_variant(self) -> bool:
        return self.variant_of is not None and self.name == self.variant_of

    def __post_init__(self):
        super().__post_init__()
        seen = set()
        for claim in self.claims:
            if claim.name in seen:
                raise SpecError(f"Theorem {self.name}: two claims are named {claim.name!r}")
            seen.add(claim.name)
            if claim.erratum_of is not None and claim.erratum_of not in seen:
                raise SpecError(f"Theorem {self.name}: erratum {claim.name!r} corrects {claim.erratum_of!r}, "
                                f"which is not a claim listed before it")
        allowed = {h.symbol for h in self.model.hyperparameters} | {s for s, _ in self.indexed}
        for sym, expr in self.closed_forms:
            stray = expr.free_symbols - allowed
            if stray:
                raise SpecError(f"Theorem {self.name}: the closed form of {sym} uses {sorted(map(str, stray))}, "
                                f"which are neither hyperparameters nor per-index quantities "
                                f"({sorted(map(str, allowed))})")
        forms = {s for s, _ in self.closed_forms}
        for diag, sym in self.optimum.diagonals:
            if sym not in forms:
                raise SpecError(f"Theorem {self.name}: the diagonal {diag} uses {sym}, which has no closed form")
        for claim in self.claims:
            if isinstance(claim, ClosedFormSpectrum) and claim.quantity not in forms:
                raise SpecError(f"Theorem {self.name}: claim {claim.name!r} compares {claim.quantity}, "
                                f"which has no closed form; known: {sorted(map(str, forms))}")
        self._check_claim_matrices()

    def _check_claim_matrices(self) -> None:
        """Every matrix a claim names must be one the minimiser returns: a variable of the model."""
        variables = self.model.variable_names
        inner = tuple(c.inner for c in self.claims if isinstance(c, Restricted))
        forms = {s for s, _ in self.closed_forms}
        for claim in inner:
            if isinstance(claim, ClosedFormSpectrum) and claim.quantity not in forms:
                raise SpecError(f"Theorem {self.name}: claim {claim.name!r} compares {claim.quantity}, "
                                f"which has no closed form; known: {sorted(map(str, forms))}")
        for claim in self.claims + inner:
            named = []
            if isinstance(claim, ClosedFormSpectrum) and claim.measured is not None:
                named.append(claim.measured[1])
            if isinstance(claim, RankCount):
                named.extend(claim.matrices)
            if isinstance(claim, (ZeroLines, Implication, AlternativeOptimum)) and claim.matrix is not None:
                named.append(claim.matrix)
            if isinstance(claim, ZeroLines) and claim.matching is not None:
                named.append(claim.matching[1])
            for name in named:
                if name not in variables:
                    raise SpecError(f"Theorem {self.name}: claim {claim.name!r} names the matrix {name!r}, which is "
                                    f"not a variable of the model {self.model.name!r}; its variables are "
                                    f"{list(variables)}")

    # -- lookups
    def closed_form(self, symbol: sp.Symbol) -> sp.Expr:
        return dict(self.closed_forms)[symbol]

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise UnknownClaimError(f"{self.name} has no claim {name!r}; its claims are "
                                f"{[c.name for c in self.claims]} -- use one of those names")

    # -- variants (new objects; the original is never edited).  Without name= a variant keeps this
    # theorem's name until it is loaded from a spec file, which names it after the file.
    def _variant(self, method: str, name: str | None, **changes) -> "Theorem":
        v.optional(v.name)(f"{self.name}.{method}", "name", name)
        return dataclasses.replace(self, name=name or self.name, variant_of=self.variant_of or self.name, **changes)

    def replace_closed_form(self, symbol: sp.Symbol, expr: sp.Expr, *, name: str | None = None) -> "Theorem":
        own = f"{self.name}.replace_closed_form"
        v.known(own, "symbol", symbol, dict(self.closed_forms),
                f"{self.name} has no closed form for {symbol}; it has closed forms for")
        v.expression("a sympy expression (the new closed form)")(own, "expr", expr)
        forms = tuple((s, expr if s == symbol else e) for s, e in self.closed_forms)
        return self._variant("replace_closed_form", name, closed_forms=forms)

    def replace_indexed(self, symbol: sp.Symbol, source, *, name: str | None = None) -> "Theorem":
        own = f"{self.name}.replace_indexed"
        v.known(own, "symbol", symbol, dict(self.indexed),
                f"{self.name} has no per-index quantity {symbol}; its per-index quantities are")
        _INDEX_SOURCE(own, "source", source)
        indexed = tuple((s, source if s == symbol else src) for s, src in self.indexed)
        return self._variant("replace_indexed", name, indexed=indexed)

    def replace_basis(self, symbol: MatrixSymbol, source, *, name: str | None = None) -> "Theorem":
        own = f"{self.name}.replace_basis"
        v.known(own, "symbol", symbol, dict(self.optimum.bases),
                f"{self.name}'s optimum has no basis {symbol}; its bases are")
        _BASIS(own, "source", source)
        bases = tuple((s, source if s == symbol else src) for s, src in self.optimum.bases)
        return self._variant("replace_basis", name, optimum=dataclasses.replace(self.optimum, bases=bases))

    def only_claims(self, *names: str, name: str | None = None) -> "Theorem":
        """The theorem with only the claims ``names``, in that order (a variant: see ``name``)."""
        if not names:
            raise SpecError(f"{self.name}.only_claims: no claim names given; expected at least one of "
                            f"{[c.name for c in self.claims]} -- name the claims to keep")
        for i, claim_name in enumerate(names):
            v.name(f"{self.name}.only_claims", f"names[{i}]", claim_name)
        return self._variant("only_claims", name, claims=tuple(self.claim(n) for n in names))
