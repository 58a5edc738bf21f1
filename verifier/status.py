"""The statuses a check, a claim, a proof step, a theorem or a whole run can have, defined once:
what each means, their order of severity and the exit status each gives.

A :class:`Status` is a ``str`` (a ``StrEnum``): ``Status.VERIFIED == "VERIFIED"``, it is written to
JSON and formatted as its value, and a status read back from JSON is equal to (and hashes as) its
member.  This module imports nothing of the project, so that every layer -- the engine, the proof
checks, the pytest plugin and the report -- can use it.

Severity: the status of anything made of parts (an instance checked against several members, a
claim over its instances, a theorem over its claims, a report over everything) is the most severe
status among its parts.  The exit status of a run is that of its most severe status: 4 when a check
crashed (an internal error, never counted as a refutation), else 2 when a spec could not be checked at
all, else 1 when something was refuted, else 3 when something is inconclusive, else 5 when an instance lay
outside the model's validity domain (UNBOUNDED: the objective has no minimum there, so the claims say
nothing of it -- only a given instance can lie there: every search draws inside the domain), else 0.  An erratum (refuted as printed, its documented correction verified) and a
claim no instance met the premise of leave it 0.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Iterable


class Status(StrEnum):
    """Most severe first (the order of definition is the order of severity)."""

    INTERNAL_ERROR = "INTERNAL_ERROR"   # a check or a report section that crashed: a bug of the verifier, no verdict
    SPEC_ERROR = "SPEC_ERROR"           # a spec that cannot be checked at all (malformed, not importable)
    REFUTED = "REFUTED"                 # a concrete, certified and replayed counterexample
    INCONCLUSIVE = "INCONCLUSIVE"       # the evidence could not settle it: never counted as verified
    UNBOUNDED = "UNBOUNDED"             # the instance lies outside the model's validity domain: no minimum to judge
    SKIPPED = "SKIPPED"                 # one instance outside a claim's premise, or at a case boundary
    ERRATUM = "ERRATUM"                 # REFUTED as printed, its documented correction VERIFIED
    VERIFIED = "VERIFIED"               # no counterexample among the certified instances (evidence, not proof)
    NOT_APPLICABLE = "NOT APPLICABLE"   # no instance met the claim's premise: it says nothing

    @property
    def severity(self) -> int:
        """Larger is more severe: NOT APPLICABLE is 0, INTERNAL_ERROR the largest."""
        return len(_ORDER) - 1 - _ORDER.index(self)

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES.get(self, 0)


_ORDER = tuple(Status)
_EXIT_CODES = {Status.INTERNAL_ERROR: 4, Status.SPEC_ERROR: 2, Status.REFUTED: 1, Status.INCONCLUSIVE: 3,
               Status.UNBOUNDED: 5}
# An unknown status (one a later check adds before it is defined here) ranks just after INCONCLUSIVE:
# it settled nothing, but nothing says it failed.
_UNKNOWN_SEVERITY = Status.SKIPPED.severity


def severity(status: str) -> int:
    """The severity of a status or of its string (``"REFUTED"``); an unknown string ranks as SKIPPED."""
    try:
        return Status(status).severity
    except ValueError:
        return _UNKNOWN_SEVERITY


def most_severe(statuses: Iterable[str], default: str | None = None) -> str | None:
    """The most severe of ``statuses`` (the first of equals), or ``default`` when there are none."""
    return max(statuses, key=severity, default=default)


def exit_code(statuses: Iterable[str]) -> int:
    """The exit status of a run whose parts have these statuses (0 when there are none)."""
    worst = most_severe(statuses)
    return Status(worst).exit_code if worst in _ORDER else 0


def combine_exit_codes(codes: Iterable[int]) -> int:
    """The exit status of several runs: that of the most severe status behind any of their codes (a
    spec error outranks a refutation, which outranks an inconclusive, which outranks success).  A code
    no status gives (a crash's, say) outranks them all: it is not known to be harmless."""
    def rank(code: int) -> int:
        behind = [s.severity for s in _ORDER if s.exit_code == code]
        return max(behind) if behind else len(_ORDER)
    return max(codes, key=rank, default=0)
