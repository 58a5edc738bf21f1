"""The judges: one checker per claim kind, each judging a whole batch of instances from its Evidence.

``registry.CHECKERS`` maps every claim kind of :mod:`verifier.spec` to its checker (a test keeps the two
in step); the tolerances and the order of the gates are the error model's (:mod:`verifier.error_model`).

Modules: ``evidence`` (Evidence, Outcome, the statuses, the one gate helper, shared measurements),
``optimum`` (GlobalMinimum, AlternativeOptimum), ``spectra`` (ClosedFormSpectrum, IndexBound),
``relations`` (the matrix relations), ``structure`` (ranks, zero lines, implications, vanishing
coordinates), ``data_form_agreement`` (DataFormAgreement), ``registry`` (the table, Restricted, OnData,
premises).
"""
from ..error_model import Tolerance, Tolerances
from .evidence import (
    AT_BOUNDARY, INCONCLUSIVE, NOT_APPLICABLE, REFUTED, SKIPPED, VERIFIED, Evidence, Outcome,
    claimed_loss_and_grad, dimensions_hold, gate, spectrum,
)
from .registry import CHECKERS, has_premise, judge, premise_holds

__all__ = [
    "AT_BOUNDARY", "CHECKERS", "INCONCLUSIVE", "NOT_APPLICABLE", "REFUTED", "SKIPPED", "VERIFIED", "Evidence",
    "Outcome", "Tolerance", "Tolerances", "claimed_loss_and_grad", "dimensions_hold", "gate", "has_premise",
    "judge", "premise_holds", "spectrum",
]
