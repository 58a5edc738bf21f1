"""The theorem: a model, its per-index quantities and closed forms, the thresholds that aim the
instances, the assembled optimum, the reduction and the claims; variants are new objects made by the
replace-style methods (``verifier.spec.variants``)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions import MatrixSymbol

from .. import spec_validation as v
from ..errors import SpecError, UnknownClaimError
from ..spec_validation import Validated
from .claims import CLAIM_KINDS, Claim, ClosedFormSpectrum, ClosedFormValue, AlternativeOptimum, Implication, RankCount, Restricted, ZeroLines
from .model import Model
from . import variants
from .sources import Optimum, Reduction, check_basis, check_index_source



_SYMBOL_PAIRS = {"indexed": (check_index_source, '(theta, SingularValues("Z"))'),
                 "closed_forms": (v.expression(), "(omega, sp.sqrt(theta))")}


@dataclass(frozen=True)
class Theorem(Validated):
    name: str
    title: str
    source: str
    model: Model
    index_size: sp.Symbol
    indexed: tuple[tuple[sp.Symbol, object], ...]
    closed_forms: tuple[tuple[sp.Symbol, sp.Expr], ...]
    thresholds: tuple[sp.Expr, ...]
    optimum: Optimum
    reduction: Reduction
    claims: tuple[Claim, ...]
    notes: str = ""
    # The name of the theorem this one is a variant of (replace_closed_form & co.), None for an original.
    # A variant that still has that name was given none: verifier.loader names it after its spec file.
    variant_of: str | None = field(default=None, compare=False, repr=False)
    _checks = {"title": v.text, "source": v.text,
               "model": v.kind((Model,), "build it with Model(...) or a model's factory (theorems.linear_vae)"),
               "index_size": v.symbol,
               **{arg: v.tuple_of(v.pair(v.symbol, each, example), f"({example},)")
                  for arg, (each, example) in _SYMBOL_PAIRS.items()},
               "thresholds": v.tuple_of(v.expression(), "(sp.sqrt(beta) * eta_dec,)"),
               "optimum": v.kind((Optimum,), "build it with Optimum(bases=..., diagonals=..., construction=...)"),
               "reduction": v.kind((Reduction,), "build it with Reduction(matrices=..., variables=..., equation=...)"),
               "claims": v.tuple_of(v.kind(CLAIM_KINDS, "use one of the claim kinds of verifier.spec"),
                                    "(GlobalMinimum(...), ClosedFormSpectrum(...))"),
               "notes": v.text, "variant_of": v.optional(v.name)}

    @property
    def unnamed_variant(self) -> bool:
        return self.variant_of is not None and self.name == self.variant_of

    def __post_init__(self):
        super().__post_init__()
        seen = set()
        for claim in self.claims:
            if claim.name in seen:
                raise SpecError(f"Theorem {self.name}: two claims are named {claim.name!r}")
            seen.add(claim.name)
            if claim.erratum_of is not None and claim.erratum_of not in seen:
                raise SpecError(f"Theorem {self.name}: erratum {claim.name!r} corrects {claim.erratum_of!r}, "
                                f"which is not a claim listed before it")
        allowed = ({h.symbol for h in self.model.hyperparameters} | {s for s, _ in self.indexed}
                   | set(self.model.latent_dims) | set(self.model.data_dims))
        for sym, expr in self.closed_forms:
            stray = expr.free_symbols - allowed
            if stray:
                raise SpecError(f"Theorem {self.name}: the closed form of {sym} uses {sorted(map(str, stray))}, "
                                f"which are neither hyperparameters, per-index quantities nor dimensions "
                                f"({sorted(map(str, allowed))})")
        forms = {s for s, _ in self.closed_forms}
        for diag, sym in self.optimum.diagonals:
            if sym not in forms:
                raise SpecError(f"Theorem {self.name}: the diagonal {diag} uses {sym}, which has no closed form")
        for claim in self.claims:
            if isinstance(claim, (ClosedFormSpectrum, ClosedFormValue)) and claim.quantity not in forms:
                raise SpecError(f"Theorem {self.name}: claim {claim.name!r} compares {claim.quantity}, "
                                f"which has no closed form; known: {sorted(map(str, forms))}")
        self._check_claim_matrices()

    def _check_claim_matrices(self) -> None:
        """Every matrix a claim names must be one the minimiser returns: a variable of the model."""
        variables = self.model.variable_names
        inner = tuple(c.inner for c in self.claims if isinstance(c, Restricted))
        forms = {s for s, _ in self.closed_forms}
        for claim in inner:
            if isinstance(claim, (ClosedFormSpectrum, ClosedFormValue)) and claim.quantity not in forms:
                raise SpecError(f"Theorem {self.name}: claim {claim.name!r} compares {claim.quantity}, "
                                f"which has no closed form; known: {sorted(map(str, forms))}")
        for claim in self.claims + inner:
            named = []
            if isinstance(claim, (ClosedFormSpectrum, ClosedFormValue)) and claim.measured is not None:
                named.append(claim.measured[1])
            if isinstance(claim, RankCount):
                named.extend(claim.matrices)
            if isinstance(claim, (ZeroLines, Implication, AlternativeOptimum)) and claim.matrix is not None:
                named.append(claim.matrix)
            if isinstance(claim, ZeroLines) and claim.matching is not None:
                named.append(claim.matching[1])
            for name in named:
                if name not in variables:
                    raise SpecError(f"Theorem {self.name}: claim {claim.name!r} names the matrix {name!r}, which is "
                                    f"not a variable of the model {self.model.name!r}; its variables are "
                                    f"{list(variables)}")

    # -- lookups
    def closed_form(self, symbol: sp.Symbol) -> sp.Expr:
        return dict(self.closed_forms)[symbol]

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise UnknownClaimError(f"{self.name} has no claim {name!r}; its claims are "
                                f"{[c.name for c in self.claims]} -- use one of those names")

    # -- variants (new objects; the original is never edited).  Without name= a variant keeps this
    # theorem's name until it is loaded from a spec file, which names it after the file.
    def _variant(self, method: str, name: str | None, **changes) -> "Theorem":
        v.optional(v.name)(f"{self.name}.{method}", "name", name)
        return dataclasses.replace(self, name=name or self.name, variant_of=self.variant_of or self.name, **changes)

    def replace_closed_form(self, symbol: sp.Symbol, expr: sp.Expr, *, name: str | None = None) -> "Theorem":
        """``symbol``'s closed form is ``expr``; the claims comparing it state the new form (as a variant)."""
        return self._variant("replace_closed_form", name, **variants.closed_form(self, symbol, expr))

    def replace_claim(self, claim_name: str, new_claim: Claim, *, name: str | None = None) -> "Theorem":
        """The claim ``claim_name`` replaced by ``new_claim``, at its place."""
        return self._variant("replace_claim", name, **variants.claim(self, claim_name, new_claim))

    def replace_predicate(self, claim_name: str, predicate, *, name: str | None = None) -> "Theorem":
        """The per-index predicate of ``claim_name`` (a rank claim's active indices, an implication's premise)."""
        return self._variant("replace_predicate", name, **variants.predicate(self, claim_name, predicate))

    def replace_statement(self, claim_name: str, text: str, *, name: str | None = None) -> "Theorem":
        """The statement text of ``claim_name``."""
        return self._variant("replace_statement", name, **variants.statement(self, claim_name, text))

    def replace_thresholds(self, *thresholds: sp.Expr, name: str | None = None) -> "Theorem":
        """The thresholds that aim the instances at the case boundaries (the first one per index)."""
        return self._variant("replace_thresholds", name, **variants.thresholds(self, thresholds))

    def replace_strategies(self, *, name: str | None = None, **parts) -> "Theorem":
        """The model's instance strategy with the named parts replaced (``dimensions``, ``hyperparameters``,
        ``vectors``, ``data`` or ``instance``: see ``verifier.strategies``); the rest stay the defaults."""
        known = ("dimensions", "hyperparameters", "vectors", "data", "instance")
        for part in parts:
            v.known(f"{self.name}.replace_strategies", part, part, known, "no strategy part of that name; the parts are")
        model = dataclasses.replace(self.model, **{f"{part}_strategy": fn for part, fn in parts.items()})
        return self._variant("replace_strategies", name, model=model)

    def replace_indexed(self, symbol: sp.Symbol, source, *, name: str | None = None) -> "Theorem":
        own = f"{self.name}.replace_indexed"
        v.known(own, "symbol", symbol, dict(self.indexed),
                f"{self.name} has no per-index quantity {symbol}; its per-index quantities are")
        check_index_source(own, "source", source)
        indexed = tuple((s, source if s == symbol else src) for s, src in self.indexed)
        return self._variant("replace_indexed", name, indexed=indexed)

    def replace_basis(self, symbol: MatrixSymbol, source, *, name: str | None = None) -> "Theorem":
        own = f"{self.name}.replace_basis"
        v.known(own, "symbol", symbol, dict(self.optimum.bases),
                f"{self.name}'s optimum has no basis {symbol}; its bases are")
        check_basis(own, "source", source)
        bases = tuple((s, source if s == symbol else src) for s, src in self.optimum.bases)
        return self._variant("replace_basis", name, optimum=dataclasses.replace(self.optimum, bases=bases))

    def only_claims(self, *names: str, name: str | None = None) -> "Theorem":
        """The theorem with only the claims ``names``, in that order (a variant: see ``name``)."""
        if not names:
            raise SpecError(f"{self.name}.only_claims: no claim names given; expected at least one of "
                            f"{[c.name for c in self.claims]} -- name the claims to keep")
        for i, claim_name in enumerate(names):
            v.name(f"{self.name}.only_claims", f"names[{i}]", claim_name)
        return self._variant("only_claims", name, claims=tuple(self.claim(n) for n in names))
