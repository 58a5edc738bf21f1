"""Matrix operations that work on sympy Matrices, numpy arrays and torch tensors,
and the entry-wise symbolic gradient check.

sympy 1.14 pitfall: differentiating a *sum* of traces w.r.t. a MatrixSymbol, or
log(det S) w.r.t. S, silently returns 0.  So nothing here uses MatrixSymbol
calculus: matrices are explicit grids of scalar symbols and every derivative is
taken entry by entry, then cross-checked against torch autograd at other shapes.
"""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
import torch

from .step import StepResult
from ._numeric import jsonable, rand_scalars

torch.set_default_dtype(torch.float64)


# ----------------------------------------------------------------- generic matrix ops
def _is_sym(x):
    return isinstance(x, sp.MatrixBase)


def _is_torch(x):
    return isinstance(x, torch.Tensor)


def inv(x):
    if _is_sym(x):
        return _symbolic_inverse(x)
    if _is_torch(x):
        return torch.linalg.inv(x)
    return np.linalg.inv(x)


def _symbolic_inverse(m):
    """``m.inv(method="LU")``, the same expression, with invertibility shown by a nonzero determinant at one
    rational point (exact: so the determinant is not identically 0) instead of sympy's symbolic determinant,
    which cost more than the inverse.  Where that point shows nothing, sympy decides as before."""
    if m.is_square and m.free_symbols:
        point = {v: sp.Rational(2 * k + 3, k + 2) for k, v in enumerate(sorted(m.free_symbols, key=str))}
        at_point = m.xreplace(point)
        if all(entry.is_Rational for entry in at_point) and at_point.det() != 0:
            return m.LUsolve(sp.eye(m.rows))
    return m.inv(method="LU")


def eye(n, like):
    if _is_sym(like):
        return sp.eye(n)
    if _is_torch(like):
        return torch.eye(n, dtype=like.dtype)
    return np.eye(n)


def zeros(r, c, like):
    if _is_sym(like):
        return sp.zeros(r, c)
    if _is_torch(like):
        return torch.zeros(r, c, dtype=like.dtype)
    return np.zeros((r, c))


def tr(x):
    if _is_sym(x):
        return x.trace()
    if _is_torch(x):
        return torch.trace(x)
    return np.trace(x)


def fro2(x):
    if _is_sym(x):
        return sum(e**2 for e in x)
    if _is_torch(x):
        return (x * x).sum()
    return float(np.sum(x * x))


def logdet(x):
    if _is_sym(x):
        return sp.log(x.det())
    if _is_torch(x):
        return torch.logdet(x)
    return np.linalg.slogdet(x)[1]


def log(x):
    if isinstance(x, sp.Basic):
        return sp.log(x)
    if _is_torch(x):
        return torch.log(x)
    return np.log(x)


# ----------------------------------------------------------------- matrix factories
def sym_matrix(name, r, c):
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


SCALAR_NAMES = ("beta", "beta1", "beta2", "ed", "ee", "sigma1", "sigma2")


def sym_scalars():
    s = {k: sp.Symbol(k, positive=True) for k in SCALAR_NAMES}
    s["c"] = s["ed"] / s["ee"]
    return s


def build(spec, kind, rng=None, scalars=None):
    """Matrices from ``spec`` = {name: (rows, cols) | ("iso", n, scalar) | ("sym", n)}.

    kind "sym": explicit symbol grids; "np": random numpy matrices from ``rng``.
    ``("iso", n, "sigma1")`` is sigma1^2 I (an unlearnable isotropic covariance).
    """
    out = {}
    for name, shp in spec.items():
        if shp[0] == "iso":
            n, sname = shp[1], shp[2]
            if kind == "sym":
                out[name] = scalars[sname] ** 2 * sp.eye(n)
            else:
                out[name] = scalars[sname] ** 2 * np.eye(n)
        elif shp[0] == "spd":
            n = shp[1]
            if kind == "sym":
                out[name] = sym_matrix(name, n, n)       # general; symmetrised after diff
            else:
                a = rng.standard_normal((n, n))
                out[name] = a @ a.T / n + 0.5 * np.eye(n)
        else:
            r, c = shp
            out[name] = sym_matrix(name, r, c) if kind == "sym" else rng.standard_normal((r, c))
    return out


# A float whose exact value has a denominator up to 2^10 (0.5, 0.25, 1.5) is taken to mean that fraction.
SHORT_BINARY_DENOMINATOR = 2 ** 10


def _zero(expr):
    """Whether ``expr`` is identically 0.  A rational function of its symbols is decided exactly in the
    field QQ(symbols), whose sparse polynomial arithmetic cancels as it goes (10-60x faster than expanding
    the nested inverses); a float that is a short binary fraction (the generic ops' 0.5) counts as that
    fraction.  Anything else (a root, a logarithm, a float such as 0.1 that only approximates a number) is
    decided by expanding the numerator, in sympy's arithmetic."""
    fractions = {f: sp.Rational(f) for f in expr.atoms(sp.Float)}
    if all(q.q <= SHORT_BINARY_DENOMINATOR for q in fractions.values()):
        exact = expr.xreplace(fractions)
        try:
            rational_functions, *_ = sp.field(sorted(exact.free_symbols, key=str), sp.QQ)
            return rational_functions.from_expr(exact) == 0
        except ValueError:      # not a rational function of its symbols
            pass
    e = sp.together(sp.expand(expr))
    num, _ = sp.fraction(e)
    return sp.expand(num) == 0


# ----------------------------------------------------------------- gradient check
def gradient_check(loss, wrt, factor, sym_shapes, num_shapes, n_numeric=5, rtol=1e-8):
    """Check ``factor * d loss / d wrt == printed(M, s)`` entry by entry.

    ``loss(M, s)`` is the objective (a scalar), written once with the generic ops;
    ``step.printed(M, s)`` is the printed gradient.  sympy decides on explicit
    symbolic matrices of ``sym_shapes``; torch autograd cross-checks at the
    (different, non-square) ``num_shapes`` on random instances.
    Matrices of shape ("spd", n) are symmetric: the derivative is taken over a
    general matrix and both sides are then evaluated at a symmetric point.
    """
    def check(step, seed):
        rng = np.random.default_rng(seed)
        s = sym_scalars()
        M = build(sym_shapes, "sym", scalars=s)
        sym_names = [k for k, v in sym_shapes.items() if v[0] == "spd"]
        try:
            L = loss(M, s)
            G = step.printed(M, s)
            W = M[wrt]
            if G.shape != W.shape:
                raise ValueError(f"printed gradient has shape {G.shape}, variable {W.shape}")
        except (ValueError, sp.ShapeError, TypeError) as e:
            return StepResult("REFUTED", "sympy (exact)", f"printed expression is ill-typed: {e}",
                              counterexample={"shapes": {k: list(v) for k, v in sym_shapes.items()}})
        symsub = {}
        for name in sym_names:
            S = M[name]
            for i in range(S.rows):
                for j in range(i):
                    symsub[S[i, j]] = S[j, i]
        bad = None
        for i, j in itertools.product(range(W.rows), range(W.cols)):
            d = factor(s) * sp.diff(L, W[i, j]) - G[i, j]
            if symsub:
                d = d.subs(symsub)
            if not _zero(d):
                bad = (i, j, d)
                break
        if bad is not None:
            # turn the non-zero symbolic difference into a concrete counterexample
            i, j, d = bad
            for _ in range(20):
                vals = {sym: sp.Rational(int(rng.integers(-9, 10)), int(rng.integers(1, 5)))
                        for sym in sorted(d.free_symbols, key=str)}
                for k in SCALAR_NAMES:
                    if s[k] in vals:
                        vals[s[k]] = sp.Rational(int(rng.integers(1, 9)), int(rng.integers(1, 5)))
                try:
                    v = d.subs(vals)
                except ZeroDivisionError:
                    continue
                if v.is_number and v != 0 and v.is_finite:
                    return StepResult(
                        "REFUTED", "sympy (exact), entry-wise on explicit matrices",
                        f"entry ({i},{j}) of factor*dL/d{wrt} minus printed is {v} at a rational point",
                        counterexample={"seed": seed, "entry": [i, j], "difference": str(v),
                                        "point": {str(k): str(x) for k, x in vals.items()}})
            return StepResult("INCONCLUSIVE", "sympy (exact)",
                              f"entry ({i},{j}) did not simplify to 0 and no rational witness found")
        # numeric cross-check with torch autograd on other (non-square) shapes
        worst = 0.0
        for k in range(n_numeric):
            sc = rand_scalars(rng)
            Mn = build(num_shapes, "np", rng=rng, scalars=sc)
            Mt = {a: torch.tensor(b, requires_grad=(a == wrt)) for a, b in Mn.items()}
            try:
                Lt = loss(Mt, sc)
                g, = torch.autograd.grad(Lt, Mt[wrt])
                Gp = step.printed({a: b.detach() for a, b in Mt.items()}, sc)
            except (RuntimeError, ValueError) as e:
                return StepResult("REFUTED", "torch autograd", f"printed expression is ill-typed: {e}",
                                  counterexample={"shapes": {a: list(v) for a, v in num_shapes.items()}})
            if any(v[0] == "spd" for a, v in num_shapes.items() if a == wrt):
                g = 0.5 * (g + g.T)     # gradient on the symmetric manifold
            lhs = factor(sc) * g
            res = float(torch.linalg.norm(lhs - Gp) / max(float(torch.linalg.norm(lhs)), 1e-300))
            worst = max(worst, res)
            if res > rtol:
                return StepResult("REFUTED", "torch autograd cross-check",
                                  f"relative residual {res:.2e} > {rtol:g}",
                                  counterexample={"seed": seed, "scalars": sc, "matrices": jsonable(Mn)})
        return StepResult(
            "VERIFIED",
            f"sympy (exact), entry-wise on explicit {'x'.join(map(str, sym_shapes[wrt][-2:]))} matrices; "
            f"torch autograd cross-check on {n_numeric} random instances, rtol {rtol:g}",
            f"all {W.rows * W.cols} entries of {wrt}-gradient minus printed simplify to 0; "
            f"autograd worst relative residual {worst:.1e}")
    return check


def sym_identity_check(n_symbols_hint=""):
    """``step.printed(s)`` returns a list of (lhs, rhs) sympy scalar expressions; decide lhs == rhs."""
    def check(step, seed):
        rng = np.random.default_rng(seed)
        pairs = step.printed(sym_scalars())
        for k, (lhs, rhs) in enumerate(pairs):
            d = sp.simplify(lhs - rhs)
            if d != 0:
                free = sorted(d.free_symbols, key=str)
                for _ in range(50):
                    vals = {x: sp.Rational(int(rng.integers(1, 30)), int(rng.integers(1, 7))) for x in free}
                    v = sp.N(d.subs(vals), 30)
                    if v.is_number and abs(v) > 1e-20:
                        return StepResult("REFUTED", "sympy (exact)",
                                          f"part {k}: lhs - rhs = {float(v):.6g} at a rational point",
                                          counterexample={"seed": seed, "part": k,
                                                          "point": {str(a): str(b) for a, b in vals.items()},
                                                          "difference": float(v)})
                return StepResult("INCONCLUSIVE", "sympy", f"part {k} did not simplify to 0")
        return StepResult("VERIFIED", "sympy (exact), positive symbols",
                          f"{len(pairs)} identit{'y' if len(pairs) == 1 else 'ies'}: lhs - rhs simplifies to 0")
    return check
