"""The two records every proof check is made of.

A :class:`ProofStep` holds the printed statement as *data* (``printed``) apart from
the procedure that checks it (``check``), so a test can swap in a corrupted
statement with ``dataclasses.replace(step, printed=...)`` and expect REFUTED.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from verifier.status import Status

STATUSES = (Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE)   # what a step's check can conclude


@dataclass(frozen=True)
class StepResult:
    status: str            # one of STATUSES (given as a Status or its string; stored as the Status)
    method: str
    evidence: str
    counterexample: dict | None = None
    corrected: str | None = None
    changes_theorem: bool = False

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        object.__setattr__(self, "status", Status(self.status))
        if self.status == Status.REFUTED and self.counterexample is None:
            # the project's rule: no REFUTED without a replayable counterexample
            raise ValueError("a REFUTED result needs a counterexample")


@dataclass(frozen=True)
class ProofStep:
    proof: str             # "C", "D.1", "D.2", "E", "F.1" or "F.2"
    equation: str          # "(13)", "(16)", "after (51)", ...
    claim: str             # what the step asserts, plain text math
    printed: object        # the printed statement as data
    check: Callable[["ProofStep", int], StepResult]
    # For a step whose printed form is refuted: the corrected statement (same kind of
    # data as ``printed``) and its text; ``run`` re-checks it with the same procedure.
    corrected: object = None
    corrected_text: str | None = None
    changes_theorem: bool = False
    note: str = ""         # restorations of lost radicals etc. ("[r]")
    # The smallest latent dimension on which the printed step can fail (a 3-cycle needs 3, a wrong index
    # among the sigma'_i needs 2): a shrunk counterexample has no dimension above min_dim + 1.
    min_dim: int = 1

    def run(self, seed: int) -> StepResult:
        return self.check(self, seed)
