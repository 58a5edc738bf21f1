"""Claims that a matrix relation holds at the certified optimum: MatrixRelation, its family (every member),
its scaled form (a zero floor of the relation's degree) and RelationAtPrecision (the point's imprecision
measured by one Newton step).  Each allowance is a named part of the tolerance, computed before judging."""
from __future__ import annotations

import torch
from sympy.matrices.expressions import MatAdd

from ..error_model import FLOAT_RESOLUTION, NEWTON_STEP_CHANGE, TINY, Tolerance
from ..status import severity
from ..spec import MatrixRelation, MatrixRelationFamily, RelationAtPrecision, ScaledMatrixRelation
from .evidence import Evidence, Outcome, gate, verdict

ZERO_TERMS = "every term at the zero tolerance (0 = 0)"


def _relation_tolerance(ev: Evidence, i: int, ref: float) -> Tolerance:
    """Relative to the size of the relation's terms, with a floor at float64 resolution of the loss scale.
    Where every term is zero at the zero tolerance (complete collapse: the terms are the minimiser's
    rounding noise) the relation reads 0 = 0 and holds: the residual is at most the terms' sizes."""
    b = ev.batch
    zero_terms = ev.tol.zero_rtol * ev.value_scale(i)
    return Tolerance({"relation_rtol x terms": ev.tol.relation_rtol * ref,
                      "boundary sensitivity x terms": float(b.sensitivity[i]) * ref,
                      "float64 resolution x loss scale": FLOAT_RESOLUTION * float(b.scale[i])},
                     floors={ZERO_TERMS: zero_terms if ref <= zero_terms else 0.0})


def _judge_relations(claim, ev: Evidence, extra_parts=None, extra_floors=None) -> list[Outcome]:
    """The relation checker; ``extra_parts(i)`` and ``extra_floors(i)`` add named allowances per instance
    (called only for instances that pass the gates)."""
    b = ev.batch
    residual = ev.evaluate(claim.residual)
    terms = MatAdd.make_args(claim.residual)          # (residual,) when it is not a sum
    term_norms = [torch.linalg.matrix_norm(ev.evaluate(t)) for t in terms]
    out = []
    for i in range(b.size):
        res = float(torch.linalg.matrix_norm(residual[i]))
        ref = sum(float(t[i]) for t in term_norms)
        tol = _relation_tolerance(ev, i, ref)
        stopped = gate(ev, i, metrics={"residual": res, "reference": ref, "tolerance": tol.total})
        if stopped is not None:
            out.append(stopped)
            continue
        if extra_parts is not None or extra_floors is not None:
            tol = Tolerance({**tol.parts, **(extra_parts(i) if extra_parts else {})},
                            {**tol.floors, **(extra_floors(i) if extra_floors else {})})
        out.append(verdict(res, tol, f"residual {res:.2e}", f"at the certified optimum (terms of size {ref:.3g}) "
                                                                f"the residual is {res:.3e}",
                           {"residual": res, "reference": ref, **tol.metrics()}))
    return out


def check_relation(claim: MatrixRelation, ev: Evidence) -> list[Outcome]:
    return _judge_relations(claim, ev)


def check_scaled_relation(claim: ScaledMatrixRelation, ev: Evidence) -> list[Outcome]:
    """check_relation, with residuals below zero_rtol x value_scale**degree counted as zero (every term of
    a relation of that degree is then at float noise)."""
    return _judge_relations(claim, ev, extra_floors=lambda i: {
        f"zero_rtol x value scale^{claim.degree}": ev.tol.zero_rtol * ev.value_scale(i) ** claim.degree})


def check_relation_at_precision(claim: RelationAtPrecision, ev: Evidence) -> list[Outcome]:
    """check_relation, admitting newton_step_factor x the residual's change under one Newton step: where the
    minimum is shallow that bounds how far the certified point's imprecision moves the residual."""
    step = {}

    def newton_part(i: int) -> dict:
        if "change" not in step:
            step["change"] = torch.linalg.matrix_norm(ev.evaluate(claim.residual)
                                                      - ev.evaluate(claim.residual, ev.after_newton_step()))
        return {NEWTON_STEP_CHANGE: ev.tol.newton_step_factor * float(step["change"][i])}
    return _judge_relations(claim, ev, extra_parts=newton_part)




def check_relation_family(claim: MatrixRelationFamily, ev: Evidence) -> list[Outcome]:
    """Each member is checked as a MatrixRelation; an instance gets its worst member's outcome
    (REFUTED > INCONCLUSIVE > SKIPPED > VERIFIED), naming that member."""
    members = [check_relation(MatrixRelation(claim.name, claim.equation, claim.statement, residual=r), ev)
               for r in claim.residuals]
    out = []
    for i in range(ev.batch.size):
        outcomes = [m[i] for m in members]
        ratio = lambda o: o.metrics.get("residual", 0.0) / max(o.metrics.get("tolerance", 1.0), TINY)
        k = max(range(len(outcomes)), key=lambda j: (severity(outcomes[j].status), ratio(outcomes[j])))
        worst = outcomes[k]
        metrics = {**worst.metrics, "worst_member": k + 1, "members": len(outcomes)}
        out.append(Outcome(worst.status, f"member {k + 1} of {len(outcomes)} ({claim.residuals[k]} = 0): "
                                         f"{worst.detail}", metrics))
    return out
