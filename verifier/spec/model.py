"""A spec's model: the matrix objective, the variables it is minimised over, its data, hyperparameters and
fixed vectors, and the map from an instance's data to its matrices."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from .. import spec_validation as v
from ..errors import SpecError
from ..spec_validation import Validated


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


def scalar_variable(name: str) -> tuple[Variable, sp.Expr]:
    """A learnable positive number: the Variable to declare (a 1x1 positive diagonal matrix, minimised over its
    log) and the scalar expression to write in the objective and closed forms (its one entry).  A claim about
    it is a ClosedFormValue measured as ("singular_values", name)."""
    symbol = MatrixSymbol(name, 1, 1)
    return Variable(symbol, "positive_diagonal"), sp.Trace(symbol)


def cholesky_variable(name: str, size) -> tuple[Variable, sp.Expr]:
    """A learnable full covariance Sigma = L L^T (symmetric positive semidefinite, every entry of L free): the
    Variable to declare (L, named ``name``) and the expression L L^T to write for Sigma.  Claims measure L:
    its singular values are the square roots of Sigma's eigenvalues."""
    factor = MatrixSymbol(name, size, size)
    return Variable(factor), factor * factor.T


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
    # Optional Hypothesis hooks, each replacing one part of the default instance strategy (see
    # verifier/strategies.py, which documents each signature and default):  dimensions(theorem, max_dim)
    # -> strategy of (latent, dims);  hyperparameters(theorem) -> strategy of {name: value};
    # vectors(theorem, latent) -> strategy of {name: tuple};  data(theorem, dims, hyper, vectors, latent)
    # -> strategy of {"spectrum", "D0"} or {"X"};  instance(theorem, latent, dims) -> strategy of Instance,
    # for a model whose instances the parts cannot express (paired (x, y) data, two latents).
    dimensions_strategy: Callable | None = None
    instance_strategy: Callable | None = None
    hyperparameters_strategy: Callable | None = None
    vectors_strategy: Callable | None = None
    data_strategy: Callable | None = None
    # Where the model is valid: a sympy relation of its latent dimensions, D0, the data rank d0 and
    # hyperparameters (e.g. beta < 1, d1 < d0), and why (e.g. "the loss is unbounded below for beta >= 1").  The default
    # strategies draw inside it; an instance outside it that the minimiser cannot certify is reported as
    # UNBOUNDED with this reason, not as an uncertified minimiser.
    domain: sp.Basic = sp.true
    domain_reason: str = ""
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
               "instance_strategy": v.optional(v.a_callable("(theorem, latent, dims) -> strategy")),
               "hyperparameters_strategy": v.optional(v.a_callable("(theorem) -> strategy")),
               "vectors_strategy": v.optional(v.a_callable("(theorem, latent) -> strategy")),
               "data_strategy": v.optional(v.a_callable("(theorem, dims, hyper, vectors, latent) -> strategy")),
               "domain": v.expression("a sympy relation of the dimensions and hyperparameters (e.g. beta < 1)"),
               "domain_reason": v.text}

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

        in_domain = {str(d) for d in self.latent_dims} | {"D0", "d0"} | {h.symbol.name for h in self.hyperparameters}
        stray = {str(s) for s in self.domain.free_symbols} - in_domain
        if stray:
            raise SpecError(f"Model {self.name}: the domain {self.domain} uses {sorted(stray)}; a domain may use the "
                            f"latent dimensions, D0, the data's rank d0 and the hyperparameters ({sorted(in_domain)})")

    def admits(self, instance) -> bool:
        """Whether ``instance`` lies in the model's validity domain (``domain``)."""
        if self.domain is sp.true:
            return True
        if instance.X is None:
            size, rank = instance.D0, sum(1 for t in instance.spectrum if t > 0)
        else:      # numpy's rank rule, as the data's whitening (verifier/rank.py)
            size, rank = len(instance.X[0]), int(np.linalg.matrix_rank(np.asarray(instance.X, dtype=float)))
        values = {**instance.latent, "D0": size, "d0": rank, **instance.hyper}
        decided = self.domain.xreplace({s: values[str(s)] for s in self.domain.free_symbols})
        if decided not in (sp.true, sp.false):
            raise SpecError(f"Model {self.name}: the domain {self.domain} does not decide at {values}")
        return bool(decided)

    def may_admit(self, values: dict) -> bool:
        """False where the domain fails whatever the values it is not given (e.g. drawn dimensions alone)."""
        known = {s: values[str(s)] for s in self.domain.free_symbols if str(s) in values}
        return self.domain.xreplace(known) is not sp.false

    @property
    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.symbol.name for v in self.variables)

    def matrix(self, name: str) -> MatrixSymbol:
        for m in [v.symbol for v in self.variables] + list(self.data):
            if m.name == name:
                return m
        raise SpecError(f"Model {self.name} has no matrix named {name!r}; it has "
                        f"{[v.symbol.name for v in self.variables] + [m.name for m in self.data]}")

