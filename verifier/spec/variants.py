"""The changes a variant makes to a theorem, as the fields of the new theorem (``Theorem`` applies them
with ``dataclasses.replace``, so the new one is validated as any theorem is).  Each function checks its
arguments against the theorem it varies and names what exists when something does not."""
from __future__ import annotations

import dataclasses

import sympy as sp

from .. import spec_validation as v
from ..errors import SpecError
from .claims import (CLAIM_KINDS, Claim, ClosedFormSpectrum, ClosedFormValue, ExpressionRank, Implication, OnData, RankCount,
                     Restricted, check_condition)

# The field that holds a claim kind's per-index predicate: which indices count as active, or the premise.
PREDICATE_FIELDS = {RankCount: "active", ExpressionRank: "active", Implication: "premise", Restricted: "premise"}


def _per_index_symbols(theorem) -> set:
    return {h.symbol for h in theorem.model.hyperparameters} | {s for s, _ in theorem.indexed}


def _uses_only_per_index_symbols(theorem, own: str, argument: str, expr) -> None:
    allowed = _per_index_symbols(theorem)
    stray = sp.sympify(expr).free_symbols - allowed
    if stray:
        raise SpecError(f"{own}: {argument} uses {sorted(map(str, stray))}, which are neither hyperparameters nor "
                        f"per-index quantities of {theorem.name} ({sorted(map(str, allowed))})")


def _with_claim(theorem, own: str, claim_name: str, change) -> tuple:
    """The theorem's claims with the one named ``claim_name`` replaced by ``change(claim)``."""
    v.name(own, "claim_name", claim_name)
    theorem.claim(claim_name)                      # an unknown name: the error lists the claims
    return tuple(change(c) if c.name == claim_name else c for c in theorem.claims)


def closed_form(theorem, symbol, expr) -> dict:
    """``symbol``'s closed form replaced by ``expr``; every claim that compares ``symbol`` (also inside a
    Restricted or OnData claim) states the new form, and that it is a variant, instead of the old text."""
    own = f"{theorem.name}.replace_closed_form"
    v.known(own, "symbol", symbol, dict(theorem.closed_forms),
            f"{theorem.name} has no closed form for {symbol}; it has closed forms for")
    v.expression("a sympy expression (the new closed form)")(own, "expr", expr)
    forms = tuple((s, expr if s == symbol else e) for s, e in theorem.closed_forms)

    def restate(claim: Claim) -> Claim:
        if isinstance(claim, (Restricted, OnData)):
            inner = restate(claim.inner)
            return claim if inner is claim.inner else dataclasses.replace(claim, inner=inner)
        if isinstance(claim, (ClosedFormSpectrum, ClosedFormValue)) and claim.quantity == symbol:
            return dataclasses.replace(claim, statement=f"{symbol}_i* = {sp.sstr(expr)} (a variant of "
                                                        f"{theorem.name}, whose claim read: {claim.statement})")
        return claim
    return {"closed_forms": forms, "claims": tuple(restate(c) for c in theorem.claims)}


def claim(theorem, claim_name: str, new_claim) -> dict:
    """The claim ``claim_name`` replaced by ``new_claim`` (at its place; it may carry another name)."""
    own = f"{theorem.name}.replace_claim"
    v.kind(CLAIM_KINDS, "build the new claim with a claim kind of verifier.spec, e.g. RankCount(...)")(
        own, "new_claim", new_claim)
    return {"claims": _with_claim(theorem, own, claim_name, lambda _: new_claim)}


def predicate(theorem, claim_name: str, new_predicate) -> dict:
    """The per-index predicate of ``claim_name`` (``PREDICATE_FIELDS``: a rank claim's ``active``, an
    implication's or a restriction's ``premise``) replaced by ``new_predicate``."""
    own = f"{theorem.name}.replace_predicate"
    kind = type(theorem.claim(claim_name))
    field = next((f for k, f in PREDICATE_FIELDS.items() if kind is k), None)
    if field is None:
        raise SpecError(f"{own}: claim {claim_name!r} is a {kind.__name__}, which has no per-index predicate; "
                        f"the kinds that have one are {sorted(k.__name__ for k in PREDICATE_FIELDS)} -- replace "
                        f"the whole claim with replace_claim")
    check_condition(own, "predicate", new_predicate)
    _uses_only_per_index_symbols(theorem, own, "predicate", new_predicate)
    return {"claims": _with_claim(theorem, own, claim_name, lambda c: dataclasses.replace(c, **{field: new_predicate}))}


def statement(theorem, claim_name: str, text: str) -> dict:
    """The statement text of ``claim_name`` replaced by ``text``."""
    own = f"{theorem.name}.replace_statement"
    v.text(own, "text", text)
    return {"claims": _with_claim(theorem, own, claim_name, lambda c: dataclasses.replace(c, statement=text))}


def thresholds(theorem, new_thresholds: tuple) -> dict:
    """The thresholds that aim the instances (the first: where theta_i is drawn below, at and above)."""
    own = f"{theorem.name}.replace_thresholds"
    v.tuple_of(v.expression(), "(sp.sqrt(beta) * eta_dec,)")(own, "thresholds", new_thresholds)
    if not new_thresholds:
        raise SpecError(f"{own}: no threshold given; give at least one, e.g. (sp.sqrt(beta) * eta_dec,)")
    for i, expr in enumerate(new_thresholds):
        _uses_only_per_index_symbols(theorem, own, f"thresholds[{i}]", expr)
    return {"thresholds": tuple(new_thresholds)}
