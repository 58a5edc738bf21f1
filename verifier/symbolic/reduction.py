"""The reduced per-index objective: the theorem's 1x1 reduction substituted into the matrix objective."""
from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import Determinant, MatrixExpr, MatrixSymbol

from ..errors import SpecError


def reduced_objective(theorem) -> sp.Expr:
    """The scalar per-index objective g: the theorem's 1x1 reduction substituted into the model."""
    model = theorem.model
    reduction = dict(theorem.reduction.matrices)
    matrices = [v.symbol for v in model.variables] + list(model.data)
    missing = [m.name for m in matrices if m.name not in reduction]
    if missing:
        raise SpecError(f"{theorem.name}: the reduction gives no scalar for the matrices {missing}; "
                        f"it gives {sorted(reduction)}")
    ones = {d: 1 for d in model.latent_dims + model.data_dims}
    objective = model.objective.xreplace(ones)
    # a 1x1 identity (the two-latent objectives use U2 W2 - I) is the scalar 1
    objective = objective.replace(lambda e: isinstance(e, sp.Identity), lambda e: sp.ImmutableMatrix([[1]]))
    scalars = {MatrixSymbol(m.name, 1, 1): sp.ImmutableMatrix([[sp.sympify(reduction[m.name])]]) for m in matrices}
    g = objective.xreplace(scalars).doit()
    if isinstance(g, sp.MatrixBase):
        g = g[0, 0]
    g = sp.sympify(g)
    g = g.replace(lambda e: isinstance(e, Determinant) and isinstance(e.arg, sp.MatrixBase), lambda e: e.arg.det())
    leftover = [a for a in sp.preorder_traversal(g) if isinstance(a, (MatrixExpr, sp.MatrixBase))]
    if leftover:
        raise SpecError(f"{theorem.name}: the 1x1 reduction leaves matrix expressions {leftover[:3]} in g = {g}")
    return g
