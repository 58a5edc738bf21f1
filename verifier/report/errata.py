"""The errata list: every refuted printed claim or proof step whose correction is verified,
with where it is printed, printed and corrected forms (LaTeX where the claim has an
expression, and presentation MathML for the HTML), the smallest counterexample, and the command that
replays it."""
from __future__ import annotations

import sympy as sp

from ..spec import (
    ClosedFormSpectrum, ExpressionRank, Implication, MatrixRelation, MatrixRelationFamily, RankCount, Restricted,
)
from .mathml import to_mathml
from .status import ERRATUM


def claim_expression(theorem, claim) -> sp.Basic | None:
    """The sympy expression a claim prints, where it has one (None for structural claims)."""
    if isinstance(claim, Restricted):
        inner = claim_expression(theorem, claim.inner)
        return inner if claim.premise == sp.true else sp.Implies(claim.premise, inner or sp.true)
    if isinstance(claim, Implication):
        return claim.premise
    if isinstance(claim, ClosedFormSpectrum):
        return sp.Eq(claim.quantity, theorem.closed_form(claim.quantity))
    if isinstance(claim, MatrixRelation):
        return sp.Eq(claim.residual, sp.ZeroMatrix(*claim.residual.shape))
    if isinstance(claim, (RankCount, ExpressionRank)):
        return claim.active
    if isinstance(claim, MatrixRelationFamily):
        return claim.residuals[0]
    return None


def latex(expr) -> str | None:
    if expr is None:
        return None
    try:
        return sp.latex(expr)
    except Exception:       # a printer gap must not cost the report; the plain statement stays
        return None


def claim_errata(theorem, claims_json: list[dict]) -> list[dict]:
    """Errata among one theorem's claims (``claims_json`` carry their ``class``)."""
    by_name = {c.name: c for c in theorem.claims}
    out = []
    for cj in claims_json:
        if cj["class"] != ERRATUM:
            continue
        printed = by_name[cj["claim"]]
        fix = next(c for c in theorem.claims if c.erratum_of == printed.name)
        cex = cj.get("counterexample") or {}
        printed_expr, corrected_expr = claim_expression(theorem, printed), claim_expression(theorem, fix)
        out.append({
            "kind": "claim", "source": theorem.name, "name": printed.name,
            "location": f"{theorem.source}; {printed.equation}",
            "printed": printed.statement, "corrected": fix.statement, "correction": fix.name,
            "printed_latex": latex(printed_expr), "corrected_latex": latex(corrected_expr),
            "printed_mathml": to_mathml(printed_expr), "corrected_mathml": to_mathml(corrected_expr),
            "counterexample": cex.get("instance"), "detail": cj["detail"],
            "replay": cex.get("replay"),
        })
    return out


def step_errata(proof: str, steps_json: list[dict], seed: int) -> list[dict]:
    """Errata among one proof's steps.  A step is replayed by re-running its proof with the same
    seed (each step's check is seeded, so the same counterexample comes back)."""
    return [{
        "kind": "proof_step", "source": f"proof {proof}", "name": s["equation"], "step": k,
        "location": f"Appendix {proof}, {s['equation']}",
        "printed": s["claim"], "corrected": s["corrected"], "correction": None,
        "printed_latex": None, "corrected_latex": None, "printed_mathml": None, "corrected_mathml": None,
        "counterexample": s.get("counterexample"), "detail": s["evidence"],
        "replay": f"verifier check proof:{proof} --seed {seed}",
    } for k, s in enumerate(steps_json) if s["class"] == ERRATUM]
