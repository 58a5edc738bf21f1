"""What a symbolic check reports: its statuses and its findings."""
from __future__ import annotations

from dataclasses import dataclass

from ..status import Status

VERIFIED, REFUTED, INCONCLUSIVE = Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE


@dataclass(frozen=True)
class SymbolicFinding:
    check: str            # "stationarity", "global_minimum", "continuity"
    branch: str           # human-readable branch condition
    status: str           # "VERIFIED" | "REFUTED" | "INCONCLUSIVE"
    method: str
    evidence: str
    counterexample: dict | None = None   # parameter values (strings of rationals/floats) where it fails
    # For a REFUTED finding, the closed forms (variable names) that are wrong at the counterexample;
    # () when each is right on its own and only their combination fails; None when it could not be decided.
    blamed: tuple[str, ...] | None = None

    def __str__(self) -> str:
        text = f"[{self.status}] {self.check} | {self.branch} | {self.method} | {self.evidence}"
        if self.counterexample:
            text += f" | counterexample: {self.counterexample}"
        return text


@dataclass
class Result:
    """One check at one or more points, before it becomes a finding."""
    status: str
    evidence: str
    counterexample: dict | None = None
    blamed: tuple[str, ...] | None = None
