"""Step-by-step checks of the proofs in Appendices C-F of Dang et al. (ICLR 2024),
"Beyond Vanilla Variational Autoencoders: Detecting Posterior Collapse in
Conditional and Hierarchical VAEs".

``PROOFS[name]`` lists the steps of one proof in paper order; ``run_proof(name)``
checks them.  A printed step that is refuted is re-checked with its corrected
form in place; the result carries the correction only if that check passes.
"""
from __future__ import annotations

import dataclasses

from verifier.status import Status

from .step import ProofStep, StepResult
from . import appendix_c, d1_theorem1, d2_theorem4, e_theorem2, f1_theorem3, f2_theorem5

PROOFS: dict[str, tuple[ProofStep, ...]] = {
    "C": appendix_c.STEPS,
    "D.1": d1_theorem1.STEPS,
    "D.2": d2_theorem4.STEPS,
    "E": e_theorem2.STEPS,
    "F.1": f1_theorem3.STEPS,
    "F.2": f2_theorem5.STEPS,
}


def evaluate(step: ProofStep, seed: int = 0) -> StepResult:
    """Run a step; if refuted and it carries a corrected statement, verify that in its place."""
    res = step.run(seed)
    if res.status != Status.REFUTED or step.corrected is None:
        return res
    fixed = dataclasses.replace(step, printed=step.corrected, corrected=None).run(seed)
    if fixed.status == Status.VERIFIED:
        return dataclasses.replace(
            res, corrected=step.corrected_text, changes_theorem=step.changes_theorem,
            evidence=res.evidence + f" | corrected step VERIFIED: {fixed.evidence}")
    return dataclasses.replace(res, evidence=res.evidence + f" | proposed correction {fixed.status}: {fixed.evidence}")


class UnknownProofError(KeyError, ValueError):
    """Raised for a proof name not in PROOFS (a KeyError and a ValueError)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def run_proof(name: str, seed: int = 0) -> list[tuple[ProofStep, StepResult]]:
    try:
        steps = PROOFS[name]
    except (KeyError, TypeError):
        raise UnknownProofError(f"unknown proof {name!r}; valid names: {', '.join(PROOFS)}") from None
    return [(s, evaluate(s, seed)) for s in steps]


def replay(step: ProofStep, counterexample: dict):
    """Re-evaluate the step's printed statement on a recorded numeric counterexample
    (``values`` = the instance); returns what ``printed`` returns there."""
    from ._numeric import from_jsonable
    inst = from_jsonable(counterexample["values"])
    relate = getattr(step.check, "relate", None)
    return relate(step.printed, inst) if relate else step.printed(inst)


def table(results) -> str:
    """The per-step table (markdown): equation, claim, method, status, evidence."""
    rows = ["| proof | equation | claim | method | status | evidence |", "|---|---|---|---|---|---|"]
    for s, r in results:
        ev = r.evidence + (f" Corrected: {r.corrected}" if r.corrected else "")
        rows.append(f"| {s.proof} | {s.equation} | {s.claim} | {r.method} | {r.status} | {ev} |".replace("\n", " "))
    return "\n".join(rows)


__all__ = ["UnknownProofError", "PROOFS", "ProofStep", "StepResult", "run_proof", "evaluate", "replay", "table"]
