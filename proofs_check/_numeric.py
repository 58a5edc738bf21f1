"""Random instances that satisfy a step's hypotheses, and the numeric checks.

Every random choice comes from ``numpy.random.default_rng(seed)``; a refutation
records the seed, the instance index and the instance itself (JSON), so
:func:`proofs_check.replay` can re-evaluate the printed statement on it.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from ._shrink import shrunk
from .step import StepResult


# ----------------------------------------------------------------- instances
def rand_orth(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def rand_scalars(rng):
    """Positive hyper-parameters, spread so that no accidental equality (beta1 == beta2,
    eta_dec == eta_enc, ...) hides a missing factor."""
    s = {k: float(rng.uniform(0.4, 2.5)) for k in ("beta", "beta1", "beta2", "ed", "ee", "sigma1", "sigma2")}
    s["c"] = s["ed"] / s["ee"]
    return s


def diag_rect(vals, r, c):
    m = np.zeros((r, c))
    k = min(r, c, len(vals))
    m[np.arange(k), np.arange(k)] = np.asarray(vals)[:k]
    return m


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, (int, float, str, bool)) or x is None:
        return x
    return repr(x)


def from_jsonable(x):
    """Inverse of :func:`jsonable` for instances: nested lists become arrays."""
    if isinstance(x, dict):
        return {k: from_jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        try:
            a = np.asarray(x, dtype=float)
            return a
        except (ValueError, TypeError):
            return [from_jsonable(v) for v in x]
    return x


def _norm(x):
    return float(np.linalg.norm(np.atleast_1d(np.asarray(x, dtype=float))))


def _pairs(out):
    """printed(...) returns (lhs, rhs[, scale]) or a list of such."""
    if isinstance(out, list):
        return out
    return [out]


def residual(pair):
    lhs, rhs = pair[0], pair[1]
    lhs = np.asarray(lhs, dtype=float)
    rhs = np.asarray(rhs, dtype=float)
    if lhs.shape != rhs.shape and lhs.size != 1 and rhs.size != 1:
        return np.inf
    scale = pair[2] if len(pair) > 2 else max(_norm(lhs), _norm(rhs))
    d = _norm(lhs - rhs)
    if not np.isfinite(d):
        return np.inf
    return d / scale if scale > 0 else d


# ----------------------------------------------------------------- checks
def identity_check(sampler, n=60, rtol=1e-9, what="identity", relate=None):
    """Numeric check that printed(inst) holds (each lhs == rhs) on ``n`` random
    instances drawn by ``sampler(rng)`` (which builds instances satisfying the
    step's hypotheses).  Relative residual |lhs - rhs| / scale, scale = the larger
    norm of the two sides unless the printed statement supplies the scale of its terms.
    A failing instance is shrunk (``_shrink``) before it is reported."""
    def evaluate(inst, statement):
        pairs = _pairs(relate(statement, inst) if relate else statement(inst))
        return pairs, [residual(p) for p in pairs]

    def fails(statement, inst):
        return not max(evaluate(inst, statement)[1]) <= rtol

    def undefined_or_fails(statement, inst):
        try:
            return fails(statement, inst)
        except (ValueError, np.linalg.LinAlgError):
            return True

    def check(step, seed):
        rng = np.random.default_rng(seed)
        worst = 0.0
        for k in range(n):
            inst = sampler(rng)
            try:
                pairs, res = evaluate(inst, step.printed)
            except (ValueError, np.linalg.LinAlgError) as e:
                inst, how = shrunk(step, sampler, undefined_or_fails, seed, inst)
                return StepResult("REFUTED", "numeric", f"printed expression is ill-typed/undefined: {e}",
                                  counterexample={"seed": seed, "instance": k, "shrunk": how,
                                                  "values": jsonable(inst)})
            r = max(res)
            if not r <= rtol:
                inst, how = shrunk(step, sampler, fails, seed, inst)
                pairs, res = evaluate(inst, step.printed)
                r, part = max(res), int(np.argmax(res))
                return StepResult(
                    "REFUTED", f"numeric: random instances satisfying the hypotheses, rtol {rtol:g}",
                    f"instance {k} fails; on the smallest failing instance ({how}) the relative residual is "
                    f"{r:.3g} > {rtol:g} (part {part} of the {what})",
                    counterexample={"seed": seed, "instance": k, "shrunk": how, "part": part, "residual": r,
                                    "lhs": jsonable(np.asarray(pairs[part][0], dtype=float)),
                                    "rhs": jsonable(np.asarray(pairs[part][1], dtype=float)),
                                    "values": jsonable(inst)})
            worst = max(worst, r)
        return StepResult("VERIFIED", f"numeric: {n} random instances satisfying the hypotheses, rtol {rtol:g}",
                          f"no counterexample in {n} instances; worst relative residual {worst:.1e}")
    check.relate = relate
    check.judge = undefined_or_fails          # judge(statement, instance): does the statement fail on it?
    return check


def inequality_check(sampler, n=200, rtol=1e-9, equality_sampler=None, n_eq=40):
    """printed(inst) returns (lo, hi): the claim lo <= hi.  With ``equality_sampler``
    the instances it draws (the stated equality case) must give lo == hi."""
    def violated(statement, inst):
        lo, hi = (float(v) for v in statement(inst))
        return not (lo - hi) <= rtol * max(abs(lo), abs(hi), 1e-300)

    def check(step, seed):
        rng = np.random.default_rng(seed)
        min_gap = np.inf

        for k in range(n):
            inst = sampler(rng)
            lo, hi = (float(v) for v in step.printed(inst))
            scale = max(abs(lo), abs(hi), 1e-300)
            if not (lo - hi) <= rtol * scale:
                inst, how = shrunk(step, sampler, violated, seed, inst)
                lo, hi = (float(v) for v in step.printed(inst))
                return StepResult("REFUTED", f"numeric: random instances, rtol {rtol:g}",
                                  f"instance {k} fails; on the smallest failing instance ({how}) the claimed "
                                  f"lo <= hi has lo = {lo:.10g} > hi = {hi:.10g}",
                                  counterexample={"seed": seed, "instance": k, "shrunk": how, "lo": lo, "hi": hi,
                                                  "values": jsonable(inst)})
            min_gap = min(min_gap, (hi - lo) / scale)
        worst_eq = 0.0
        if equality_sampler is not None:
            for k in range(n_eq):
                inst = equality_sampler(rng)
                lo, hi = (float(v) for v in step.printed(inst))
                scale = max(abs(lo), abs(hi), 1e-300)
                r = abs(lo - hi) / scale
                worst_eq = max(worst_eq, r)
                if r > rtol * 10:
                    return StepResult("REFUTED", "numeric: equality case",
                                      f"equality-case instance {k}: lo = {lo:.10g}, hi = {hi:.10g} differ",
                                      counterexample={"seed": seed, "equality_instance": k, "lo": lo, "hi": hi,
                                                      "values": jsonable(inst)})
        ev = f"no violation in {n} random instances (smallest relative slack {min_gap:.1e})"
        if equality_sampler is not None:
            ev += f"; equality attained in {n_eq} instances built by the stated equality condition (worst {worst_eq:.1e})"
        return StepResult("VERIFIED", f"numeric: {n} random instances, rtol {rtol:g}", ev)
    check.judge = violated
    return check


def scalar_min_1d(f, lo, hi, grid=4000):
    """Global minimum of a scalar function on [lo, hi] (hi finite): dense grid + bounded refinement."""
    xs = np.linspace(lo, hi, grid)
    fx = f(xs)
    i = int(np.nanargmin(fx))
    a, b = xs[max(i - 1, 0)], xs[min(i + 1, grid - 1)]
    r = minimize_scalar(f, bounds=(a, b), method="bounded", options={"xatol": 1e-12})
    cands = [(float(fx[i]), float(xs[i])), (float(r.fun), float(r.x)), (float(f(np.array([lo]))[0]), lo)]
    return min(cands)


def minimizer_check(sampler, n=60, rtol=1e-7, what="minimiser"):
    """printed(inst) returns (f, lo, hi, x_claimed): the claim that x_claimed minimises the
    vectorised scalar function f on [lo, hi].  Compared with a dense grid + bounded search."""
    def judge(inst, statement):
        with np.errstate(invalid="ignore"):
            f, lo, hi, xc = statement(inst)
        xc = float(xc)
        fmin, xmin = scalar_min_1d(f, lo, hi)
        fc = float(f(np.array([xc]))[0]) if np.isfinite(xc) and lo - 1e-12 <= xc <= hi else np.nan
        return xc, fc, fmin, xmin, not np.isfinite(fc) or fc - fmin > rtol * max(abs(fmin), 1.0)

    def check(step, seed):
        rng = np.random.default_rng(seed)
        worst = 0.0

        for k in range(n):
            inst = sampler(rng)
            xc, fc, fmin, xmin, bad = judge(inst, step.printed)
            scale = max(abs(fmin), 1.0)
            if bad:
                # the shrunk instance must fail the same way: a finite claimed value beaten, or none at all
                inst, how = shrunk(step, sampler, lambda stmt, i: (j := judge(i, stmt))[-1]
                                   and (stmt is not step.printed or np.isfinite(j[1]) == np.isfinite(fc)), seed, inst)
                xc, fc, fmin, xmin, _ = judge(inst, step.printed)
                return StepResult("REFUTED", f"numeric: grid of 4000 + bounded search on {n} instances",
                                  f"instance {k} fails; on the smallest failing instance ({how}) the claimed {what} "
                                  f"{xc:.6g} gives f = {fc:.10g} but f({xmin:.6g}) = {fmin:.10g}",
                                  counterexample={"seed": seed, "instance": k, "shrunk": how, "claimed": xc,
                                                  "found": xmin,
                                                  "f_claimed": fc, "f_found": fmin, "values": jsonable(inst)})
            worst = max(worst, (fc - fmin) / scale)
        return StepResult("VERIFIED", f"numeric: global search (grid 4000 + bounded refinement) on {n} random instances, rtol {rtol:g}",
                          f"claimed {what} never beaten in {n} instances (largest f(claimed)-f(min) relative {worst:.1e})")
    check.judge = lambda statement, inst: judge(inst, statement)[-1]
    return check
