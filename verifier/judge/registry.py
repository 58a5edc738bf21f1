"""The one table from claim kind to checker (``CHECKERS``), the checkers that wrap another claim's
(Restricted, OnData: they dispatch through the table), and what a search asks of a claim's premise."""
from __future__ import annotations

from typing import Callable

import sympy as sp
import torch

from ..batch import Batch
from ..spec import (
    AlternativeOptimum, ClosedFormSpectrum, ClosedFormValue, DataFormAgreement, ExpressionRank, GlobalMinimum, Implication,
    IndexBound, MatrixRelation, MatrixRelationFamily, OnData, RankCount, RelationAtPrecision, Restricted,
    ScaledMatrixRelation, VanishingCoordinates, ZeroLines,
)
from .data_form_agreement import check_data_form
from .evidence import SKIPPED, Evidence, Outcome, conditions_hold, dimensions_hold, gate, per_index
from .optimum import check_alternative, check_global_minimum
from .relations import check_relation, check_relation_at_precision, check_relation_family, check_scaled_relation
from .spectra import check_index_bound, check_spectrum, check_value
from .structure import (
    check_expression_rank, check_implication, check_rank, check_vanishing_coordinates, check_zero_lines,
)


def judge(claim, ev: Evidence) -> list[Outcome]:
    """One Outcome per instance of the evidence's batch, from the claim kind's checker."""
    return CHECKERS[type(claim)](claim, ev)


def check_restricted(claim: Restricted, ev: Evidence) -> list[Outcome]:
    """The inner claim's outcomes where the dimensions and the all-index premise hold, else SKIPPED.
    A batch shares its dimensions, so the dimension condition is decided once per batch."""
    n = ev.batch.size
    if not dimensions_hold(claim.dimensions, ev.batch.dims):
        return [Outcome(SKIPPED, f"dimensions {dict((str(k), v) for k, v in ev.batch.dims.items())} do not "
                                 f"satisfy {claim.dimensions}")] * n
    premise = per_index(ev.batch, claim.premise) if claim.premise is not sp.true else None
    inner = judge(claim.inner, ev)
    out = []
    for i in range(n):
        holds = premise is None or bool(torch.as_tensor(premise)[i].all())
        stopped = gate(ev, i, premise=(holds, f"{claim.premise} for every index"), judged_at_boundary=True,
                       needs_optimum=False)
        out.append(inner[i] if stopped is None else stopped)
    return out


def check_on_data(claim: OnData, ev: Evidence) -> list[Outcome]:
    """The inner claim's outcomes on the instances whose data satisfy the condition, else SKIPPED."""
    inner = judge(claim.inner, ev)
    out = []
    for i, inst in enumerate(ev.batch.instances):
        stopped = gate(ev, i, applies=(claim.applies(inst), f"data condition not met: {claim.condition}"),
                       judged_at_boundary=True, needs_optimum=False)
        out.append(inner[i] if stopped is None else stopped)
    return out


CHECKERS: dict[type, Callable[..., list[Outcome]]] = {
    GlobalMinimum: check_global_minimum,
    AlternativeOptimum: check_alternative,
    ClosedFormSpectrum: check_spectrum,
    ClosedFormValue: check_value,
    IndexBound: check_index_bound,
    MatrixRelation: check_relation,
    MatrixRelationFamily: check_relation_family,
    ScaledMatrixRelation: check_scaled_relation,
    RelationAtPrecision: check_relation_at_precision,
    RankCount: check_rank,
    ExpressionRank: check_expression_rank,
    ZeroLines: check_zero_lines,
    Implication: check_implication,
    VanishingCoordinates: check_vanishing_coordinates,
    DataFormAgreement: check_data_form,
    Restricted: check_restricted,
    OnData: check_on_data,
}


def has_premise(claim) -> bool:
    """Whether ``claim`` speaks only of some instances (its others are SKIPPED as 'premise not met')."""
    if isinstance(claim, Restricted):
        return claim.premise is not sp.true or claim.dimensions is not sp.true
    return bool(claim.when) or isinstance(claim, Implication)


def premise_holds(claim, batch: Batch) -> list[bool]:
    """Per instance of ``batch``, whether ``claim``'s premise holds there: its ``when`` conditions, an
    Implication's or Restricted's all-index premise, a Restricted's dimensions.  It needs the instantiated
    batch only, no minimisation, so a search can direct itself to the instances a claim is about."""
    n = batch.size
    if isinstance(claim, Restricted):
        if not dimensions_hold(claim.dimensions, batch.dims):
            return [False] * n
        if claim.premise is sp.true:
            return [True] * n
    if isinstance(claim, (Implication, Restricted)):
        premise = torch.as_tensor(per_index(batch, claim.premise))
        return [bool(premise[i].all()) for i in range(n)]
    return [conditions_hold(batch, claim, i)[0] for i in range(n)]
