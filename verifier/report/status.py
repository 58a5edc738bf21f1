"""The exit status of ``verifier check`` and ``verifier report``, and which refutations are errata.

A refutation is an *expected, documented erratum* when the project already holds the
correction and the correction holds:

* a printed claim is REFUTED and a sibling claim names it in ``erratum_of``
  (``verifier.spec.Claim``) and is VERIFIED;
* a proof step is REFUTED and carries a ``corrected`` form, which ``proofs_check.evaluate``
  attaches only after the corrected step was VERIFIED.

The statuses, their order and their exit codes are ``verifier.status``'s (which imports nothing of the
engine): 4 when a check or a report section crashed (an internal error of the verifier, never counted as
a refutation), else 2 when a registered spec could not be checked at all (the report still shows the
rest), else 1 when anything else was refuted (or a report section's check failed), else 3 when something
is inconclusive, else 5 when an instance lay outside its model's validity domain (UNBOUNDED), else 0 (a claim NOT APPLICABLE to every instance tried leaves it 0).  Errata never change
the status to 1, so every output lists them (a 0 exit must not hide them).
"""
from __future__ import annotations

from ..status import Status, combine_exit_codes, exit_code

VERIFIED, REFUTED, INCONCLUSIVE, UNBOUNDED = Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE, Status.UNBOUNDED
NOT_APPLICABLE, ERRATUM, SPEC_ERROR = Status.NOT_APPLICABLE, Status.ERRATUM, Status.SPEC_ERROR
INTERNAL_ERROR = Status.INTERNAL_ERROR


def classify_claims(claims: list[dict]) -> list[str]:
    """Per claim (``ClaimVerdict.to_json`` dicts of one theorem): VERIFIED, ERRATUM, REFUTED, INCONCLUSIVE,
    UNBOUNDED or NOT APPLICABLE."""
    corrected = {c["erratum_of"] for c in claims if c.get("erratum_of") and c["status"] == VERIFIED}
    return [ERRATUM if c["status"] == REFUTED and c["claim"] in corrected else c["status"] for c in claims]


def classify_step(step: dict) -> str:
    """A proof step (``StepResult`` fields): REFUTED with a verified correction is an ERRATUM."""
    if step["status"] == REFUTED and step.get("corrected"):
        return ERRATUM
    return step["status"]


# The report's names for the run's exit status (``verifier check`` uses them too).
exit_status = exit_code
combine = combine_exit_codes
