"""The exit status of ``verifier check`` and ``verifier report``, and which refutations are errata.

A refutation is an *expected, documented erratum* when the project already holds the
correction and the correction holds:

* a printed claim is REFUTED and a sibling claim names it in ``erratum_of``
  (``verifier.spec.Claim``) and is VERIFIED;
* a proof step is REFUTED and carries a ``corrected`` form, which ``proofs_check.evaluate``
  attaches only after the corrected step was VERIFIED.

Exit status: 4 when a check or a report section crashed (an internal error of the verifier, never
counted as a refutation), else 2 when a registered spec could not be checked at all (the report still shows
the rest), else 1 when anything else was refuted (or a report section's check failed), else 3 when
something is inconclusive, else 0 (a claim NOT APPLICABLE to every instance tried leaves it 0).  Errata never change the status to 1, so every output
lists them (a 0 exit must not hide them).
"""
from __future__ import annotations

from typing import Iterable

VERIFIED, REFUTED, INCONCLUSIVE = "VERIFIED", "REFUTED", "INCONCLUSIVE"
NOT_APPLICABLE = "NOT APPLICABLE"        # no instance met the claim's premise: says nothing, changes no exit status
ERRATUM = "ERRATUM"                      # REFUTED as printed, correction VERIFIED
SPEC_ERROR = "SPEC_ERROR"                # a registered spec that cannot be checked (malformed, not importable)
INTERNAL_ERROR = "INTERNAL_ERROR"        # a check or section that crashed: a bug of the verifier, not a verdict
EXIT_VERIFIED, EXIT_REFUTED, EXIT_SPEC_ERROR, EXIT_INCONCLUSIVE, EXIT_INTERNAL_ERROR = 0, 1, 2, 3, 4


def classify_claims(claims: list[dict]) -> list[str]:
    """Per claim (``ClaimVerdict.to_json`` dicts of one theorem): VERIFIED, ERRATUM, REFUTED, INCONCLUSIVE
    or NOT APPLICABLE."""
    corrected = {c["erratum_of"] for c in claims if c.get("erratum_of") and c["status"] == VERIFIED}
    return [ERRATUM if c["status"] == REFUTED and c["claim"] in corrected else c["status"] for c in claims]


def classify_step(step: dict) -> str:
    """A proof step (``StepResult`` fields): REFUTED with a verified correction is an ERRATUM."""
    if step["status"] == REFUTED and step.get("corrected"):
        return ERRATUM
    return step["status"]


def exit_status(classes: Iterable[str]) -> int:
    classes = set(classes)
    if INTERNAL_ERROR in classes:
        return EXIT_INTERNAL_ERROR
    if SPEC_ERROR in classes:
        return EXIT_SPEC_ERROR
    if REFUTED in classes:
        return EXIT_REFUTED
    if INCONCLUSIVE in classes:
        return EXIT_INCONCLUSIVE
    return EXIT_VERIFIED


def combine(codes: Iterable[int]) -> int:
    """The status of several runs: a refutation outranks an inconclusive, which outranks success."""
    return exit_status({EXIT_REFUTED: REFUTED, EXIT_INCONCLUSIVE: INCONCLUSIVE,
                        EXIT_SPEC_ERROR: SPEC_ERROR, EXIT_INTERNAL_ERROR: INTERNAL_ERROR}.get(c, VERIFIED) for c in codes)
