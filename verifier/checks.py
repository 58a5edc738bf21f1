"""Per-instance checks of each kind of claim, in a lookup table beside the engine.

Each checker reads the :class:`Evidence` of one batch (the instantiated claim, the
claimed optimum and the minimiser's certified result) and returns one
:class:`Outcome` per instance.  REFUTED needs a concrete, measured disagreement;
anything the evidence cannot settle is INCONCLUSIVE; an instance outside a
claim's premise is SKIPPED.  Every outcome prints the tolerance it used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp
import torch
from sympy.matrices.expressions import MatAdd

from .batch import Batch, instantiate
from .lowering import evaluate
from .numeric import MinimiserResult
from .spec import (
    AllDistinct, AllEqual, AlternativeOptimum, ClosedFormSpectrum, GlobalMinimum, Implication, MatrixRelation,
    PartialRank, RandomOrthogonalBasis, RankCount, ZeroLines,
)
from .spec import MatrixRelationFamily
from .spec import ExpressionRank, Restricted, ScaledMatrixRelation

from .status import Status, severity

VERIFIED, REFUTED, INCONCLUSIVE, SKIPPED = Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE, Status.SKIPPED
NOT_APPLICABLE = Status.NOT_APPLICABLE   # a claim no instance met the premise of: says nothing, exit status 0


@dataclass(frozen=True)
class Tolerances:
    """Relative tolerances; each is multiplied by the instance's own scale."""
    loss_rtol: float = 1e-9            # |L_min - L*| <= loss_rtol * scale counts as equal
    claimed_grad_rtol: float = 1e-7    # the claimed optimum must be stationary to this
    value_rtol: float = 1e-6           # closed-form values vs the minimiser's spectrum
    relation_rtol: float = 1e-6        # matrix relations at the minimiser
    zero_rtol: float = 1e-6            # a singular value / line norm below this x reference is zero
    nonzero_rtol: float = 1e-3         # ... above this x reference is non-zero; in between is undecided
    boundary_sensitivity: float = 1e-5 # instances whose closed forms move more than this are 'at a boundary'
    precision_limit: float = 1e-4      # a certified point less precise than this x the value scale settles no value

    def describe(self) -> str:
        return ", ".join(f"{k}={v:g}" for k, v in self.__dict__.items())


@dataclass
class Outcome:
    status: str
    detail: str
    metrics: dict = field(default_factory=dict)


@dataclass
class Evidence:
    batch: Batch
    result: MinimiserResult
    group: list
    tol: Tolerances
    claimed_loss: torch.Tensor
    claimed_grad: torch.Tensor
    _alternatives: dict = field(default_factory=dict)

    @property
    def loss_tol(self) -> torch.Tensor:
        return self.tol.loss_rtol * self.batch.scale

    def at_optimum(self, i: int) -> tuple[bool, str]:
        """Whether the minimiser's point may stand for the optimum of instance i (else why not)."""
        r = self.result
        if not bool(r.certified[i]):
            return False, (f"minimiser not certified (|grad|={float(r.grad_norm[i]):.2e}, "
                           f"min Hessian eig={float(r.min_hessian_eig[i]):.2e})")
        if float(self.claimed_loss[i]) < float(r.loss[i]) - float(self.loss_tol[i]):
            return False, (f"the claimed optimum ({float(self.claimed_loss[i]):.12g}) is lower than every "
                           f"restart's certified point ({float(r.loss[i]):.12g})")
        return True, ""

    def value_scale(self, i: int) -> float:
        # A natural unit for singular values: scale^(1/4) (UV ~ Z, and ||Z||^2 ~ scale).
        return float(self.batch.scale[i]) ** 0.25

    def boundary(self, i: int) -> bool:
        return float(self.batch.sensitivity[i]) > self.tol.boundary_sensitivity

    def position_uncertainty(self, i: int) -> float:
        """How far the certified point may lie from the exact minimiser, in parameter space:
        |grad| / (smallest Hessian eigenvalue above the null cutoff), the length of the Newton step that
        would close the gap. The eigenvalues below the cutoff are the objective's symmetries, which the
        gradient is orthogonal to and along which no invariant moves. 0 when no curvature was measured:
        then nothing is claimed beyond float precision."""
        return newton_distance(float(self.result.grad_norm[i]), float(self.result.min_curvature[i]))

    def alternative(self, basis, size):
        key = basis.name
        if key not in self._alternatives:
            alt = instantiate(self.batch.theorem, self.group, basis_override={basis: RandomOrthogonalBasis(size)},
                              dtype=self.batch.scale.dtype, device=self.batch.scale.device)
            loss, gradn = claimed_loss_and_grad(alt)
            self._alternatives[key] = (alt, loss, gradn)
        return self._alternatives[key]


def newton_distance(grad_norm: float, curvature: float) -> float:
    """|grad| / curvature: how far a certified point may lie from its exact minimiser (0 without curvature)."""
    return grad_norm / curvature if curvature > 0 else 0.0


def claimed_loss_and_grad(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and gradient norm (w.r.t. every variable, as a full matrix) at the claimed optimum."""
    point = {k: v.detach().clone().requires_grad_(True) for k, v in batch.claimed.items()}
    loss = evaluate(batch.theorem.model.objective, batch.env(point), batch.dims,
                    dtype=batch.scale.dtype, device=batch.scale.device)
    grads = torch.autograd.grad(loss.sum(), list(point.values()))
    gnorm = torch.sqrt(sum((g ** 2).sum(dim=(-2, -1)) for g in grads))
    return loss.detach(), gnorm


# --------------------------------------------------------------------------- helpers

# At an index exactly on its threshold the optimum is degenerate (the loss grows only to fourth
# order), so float64 pins the optimal point down to ~eps^(1/4) ~ 1e-4 and sqrt(max(0, .)) is not
# Lipschitz there: values and relations are not comparable; the loss comparison still is.
_AT_BOUNDARY = ("an index sits at its case boundary: the optimum is degenerate there, so only the loss "
                "comparison (claim 'optimum') and the symbolic continuity check apply")
AT_BOUNDARY = _AT_BOUNDARY   # public: a skip at a case boundary is undecided, unlike one outside a premise


def _per_index(b: Batch, expr) -> torch.Tensor:
    env = {k: v[:, None] for k, v in b.data.items() if v.dim() == 1}
    env.update({s.name: v for s, v in b.indexed.items()})
    return torch.as_tensor(evaluate(expr, env, b.dims, dtype=b.scale.dtype, device=b.scale.device))


def _conditions_hold(batch: Batch, claim, i: int) -> tuple[bool, str]:
    inst = batch.instances[i]
    for cond in claim.when:
        if isinstance(cond, AllDistinct):
            v = inst.vectors[cond.vector]
            if len(set(v)) != len(v):
                return False, cond.describe()
        elif isinstance(cond, AllEqual):
            if len(set(inst.vectors[cond.vector])) != 1:
                return False, cond.describe()
        elif isinstance(cond, PartialRank):
            k = int(_per_index(batch, cond.active)[i].sum())
            if not 0 < k < batch.indexed[next(iter(batch.indexed))].shape[1]:
                return False, cond.describe()
    return True, ""


def _classify(values: torch.Tensor, ref: float, tol: Tolerances):
    """Split magnitudes into zero / non-zero; None where undecided."""
    zero = values <= tol.zero_rtol * ref
    nonzero = values >= tol.nonzero_rtol * ref
    if bool((~zero & ~nonzero).any()):
        return None
    return zero


def _spectrum(kind: str, m: torch.Tensor) -> torch.Tensor:
    if kind == "singular_values":
        return torch.linalg.svdvals(m)
    if kind == "sqrt_eigenvalues":
        return torch.sqrt(torch.linalg.eigvalsh(m).clamp_min(0)).flip(-1)
    raise ValueError(kind)


def _matrix_norm(expr, env, ev: Evidence, i: int) -> float:
    b = ev.batch
    val = evaluate(expr, env, b.dims, dtype=b.scale.dtype, device=b.scale.device)
    return float(torch.linalg.matrix_norm(val[i]))


# --------------------------------------------------------------------------- checkers


def _optimum_gate(ev, i: int) -> Outcome | None:
    """INCONCLUSIVE when instance i's minimiser is not certified, SKIPPED on a case boundary, else None:
    the claims about the optimum's structure are judged only at a certified, non-degenerate optimum."""
    ok, why = ev.at_optimum(i)
    if not ok:
        return Outcome(INCONCLUSIVE, why)
    if ev.boundary(i):
        return Outcome(SKIPPED, _AT_BOUNDARY)
    return None


def check_global_minimum(claim: GlobalMinimum, ev: Evidence) -> list[Outcome]:
    out = []
    r = ev.result
    for i in range(ev.batch.size):
        Lc, Lm, tol = float(ev.claimed_loss[i]), float(r.loss[i]), float(ev.loss_tol[i])
        gtol = ev.tol.claimed_grad_rtol * float(ev.batch.scale[i])
        metrics = {"claimed_loss": Lc, "minimiser_loss": Lm, "loss_gap": Lc - Lm, "loss_tol": tol,
                   "claimed_grad_norm": float(ev.claimed_grad[i]), "grad_tol": gtol,
                   "minimiser_grad_norm": float(r.grad_norm[i]), "min_hessian_eig": float(r.min_hessian_eig[i])}
        if float(ev.claimed_grad[i]) > gtol:
            out.append(Outcome(REFUTED, f"the claimed optimum is not stationary: |grad L| = "
                                        f"{float(ev.claimed_grad[i]):.3e} > {gtol:.1e}", metrics))
        elif Lm < Lc - tol:
            out.append(Outcome(REFUTED, f"the minimiser found a lower loss: {Lm:.15g} < claimed {Lc:.15g} "
                                        f"(gap {Lc - Lm:.3e} > tol {tol:.1e})", metrics))
        else:
            ok, why = ev.at_optimum(i)
            if ok:
                out.append(Outcome(VERIFIED, f"loss gap {Lc - Lm:.2e} <= {tol:.1e}; claimed point stationary "
                                             f"(|grad| {float(ev.claimed_grad[i]):.1e})", metrics))
            else:
                out.append(Outcome(INCONCLUSIVE, why, metrics))
    return out


def check_spectrum(claim: ClosedFormSpectrum, ev: Evidence) -> list[Outcome]:
    kind, name = claim.measured
    measured = _spectrum(kind, ev.result.point[name])
    claimed = ev.batch.closed[claim.quantity]
    out = []
    for i in range(ev.batch.size):
        m = measured[i].sort(descending=True).values
        c = claimed[i].sort(descending=True).values
        n = max(len(m), len(c))
        m = torch.nn.functional.pad(m, (0, n - len(m)))
        c = torch.nn.functional.pad(c, (0, n - len(c)))
        diff = (m - c).abs()
        ref = max(float(c.abs().max()), float(m.abs().max()), ev.value_scale(i) * 1e-3)
        rtol = ev.tol.value_rtol + float(ev.batch.sensitivity[i])
        # Singular values move by at most the parameters' move (Weyl; sqrt(exp(x)) by at most ref/2
        # per unit of x): where the minimum is shallow the certified point's own uncertainty dominates.
        precision = ev.position_uncertainty(i) * max(1.0, ref)
        tol = rtol * ref + precision
        metrics = {"max_error": float(diff.max()), "D_MA": float(diff.mean()), "tolerance": tol,
                   "position_uncertainty": precision, "claimed": c.tolist(), "measured": m.tolist()}
        if ev.boundary(i):
            out.append(Outcome(SKIPPED, _AT_BOUNDARY, metrics))
            continue
        ok, why = ev.at_optimum(i)
        lower = float(ev.result.loss[i]) < float(ev.claimed_loss[i]) - float(ev.loss_tol[i])
        if not ok and not (lower and bool(ev.result.certified[i])):
            out.append(Outcome(INCONCLUSIVE, why, metrics))
        elif precision > ev.tol.precision_limit * ev.value_scale(i) and float(diff.max()) > rtol * ref:
            out.append(Outcome(INCONCLUSIVE, f"max error {float(diff.max()):.2e}, but the minimum is too shallow to "
                                             f"locate the optimum closer than {precision:.1e}", metrics))
        elif float(diff.max()) <= tol:
            out.append(Outcome(VERIFIED, f"max error {float(diff.max()):.2e} <= {tol:.1e} "
                                         f"(D_MA {float(diff.mean()):.2e}"
                                         + (f"; incl. the certified point's uncertainty {precision:.1e})"
                                            if precision > rtol * ref else ")"), metrics))
        else:
            out.append(Outcome(REFUTED, f"closed form {[round(x, 9) for x in c.tolist()]} vs certified optimum "
                                        f"{[round(x, 9) for x in m.tolist()]}: max error {float(diff.max()):.3e} "
                                        f"> {tol:.1e}", metrics))
    return out


def check_relation(claim: MatrixRelation, ev: Evidence) -> list[Outcome]:
    env = ev.batch.env(ev.result.point)
    b = ev.batch
    residual = evaluate(claim.residual, env, b.dims, dtype=b.scale.dtype, device=b.scale.device)
    terms = MatAdd.make_args(claim.residual)          # (residual,) when it is not a sum
    out = []
    for i in range(b.size):
        res = float(torch.linalg.matrix_norm(residual[i]))
        ref = sum(_matrix_norm(t, env, ev, i) for t in terms)
        # Relative to the size of the relation's terms, with a floor at float64 resolution of the loss
        # scale. Where every term is zero at the zero tolerance (complete collapse: the terms are the
        # minimiser's rounding noise) the relation reads 0 = 0 and holds.
        vanishing = ref <= ev.tol.zero_rtol * ev.value_scale(i)
        tol = (ev.tol.relation_rtol + float(b.sensitivity[i])) * ref + 1e-15 * float(b.scale[i])
        metrics = {"residual": res, "reference": ref, "tolerance": tol}
        ok, why = ev.at_optimum(i)
        if ev.boundary(i):
            out.append(Outcome(SKIPPED, _AT_BOUNDARY, metrics))
        elif not ok:
            out.append(Outcome(INCONCLUSIVE, why, metrics))
        elif res <= tol:
            out.append(Outcome(VERIFIED, f"residual {res:.2e} <= {tol:.1e}", metrics))
        elif vanishing:
            out.append(Outcome(VERIFIED, f"every term is zero at the zero tolerance (their sizes sum to {ref:.1e} "
                                         f"<= {ev.tol.zero_rtol * ev.value_scale(i):.1e}): 0 = 0", metrics))
        else:
            out.append(Outcome(REFUTED, f"at the certified optimum the residual is {res:.3e} > {tol:.1e} "
                                        f"(terms of size {ref:.3g})", metrics))
    return out


def _numerical_rank(m: torch.Tensor, ev: Evidence, i: int):
    sv = torch.linalg.svdvals(m)
    ref = max(float(sv.max()) if sv.numel() else 0.0, ev.value_scale(i))
    zero = _classify(sv, ref, ev.tol)
    return None if zero is None else int((~zero).sum()), sv


def check_rank(claim: RankCount, ev: Evidence) -> list[Outcome]:
    active = _per_index(ev.batch, claim.active)
    out = []
    for i in range(ev.batch.size):
        expected = int(active[i].sum())
        gate = _optimum_gate(ev, i)
        if gate is not None:
            out.append(gate)
            continue
        ranks = {}
        for name in claim.matrices:
            r, sv = _numerical_rank(ev.result.point[name][i], ev, i)
            ranks[name] = r
        metrics = {"expected_rank": expected, **{f"rank_{k}": v for k, v in ranks.items()}}
        if any(v is None for v in ranks.values()):
            out.append(Outcome(INCONCLUSIVE, f"a singular value is neither zero nor non-zero at the tolerances "
                                             f"({ev.tol.zero_rtol:g}, {ev.tol.nonzero_rtol:g})", metrics))
        elif all(v == expected for v in ranks.values()):
            out.append(Outcome(VERIFIED, f"ranks {ranks} = {expected}", metrics))
        else:
            out.append(Outcome(REFUTED, f"ranks at the certified optimum {ranks}, claimed {expected}", metrics))
    return out


def _lines(m: torch.Tensor, axis: str) -> torch.Tensor:
    return m.norm(dim=-1) if axis == "rows" else m.norm(dim=-2)


def check_zero_lines(claim: ZeroLines, ev: Evidence) -> list[Outcome]:
    out = []
    for i in range(ev.batch.size):
        okc, cond = _conditions_hold(ev.batch, claim, i)
        if not okc:
            out.append(Outcome(SKIPPED, f"premise not met: {cond}"))
            continue
        gate = _optimum_gate(ev, i)
        if gate is not None:
            out.append(gate)
            continue
        m = ev.result.point[claim.matrix][i]
        rank, _ = _numerical_rank(m, ev, i)
        norms = _lines(m, claim.axis)
        ref = max(float(norms.max()), ev.value_scale(i))
        zero = _classify(norms, ref, ev.tol)
        if rank is None or zero is None:
            out.append(Outcome(INCONCLUSIVE, "a line norm or singular value is undecided at the tolerances"))
            continue
        n_lines = norms.shape[0]
        metrics = {"zero_lines": int(zero.sum()), "expected": n_lines - rank, "rank": rank}
        problems = []
        if int(zero.sum()) != n_lines - rank:
            problems.append(f"{int(zero.sum())} zero {claim.axis} of {claim.matrix}, expected "
                            f"{n_lines} - rank {rank} = {n_lines - rank}")
        if claim.matching is not None and bool(zero.any()):
            axis, other = claim.matching
            onorms = _lines(ev.result.point[other][i], axis)[zero]
            oref = max(float(_lines(ev.result.point[other][i], axis).max()), ev.value_scale(i))
            if bool((onorms > ev.tol.zero_rtol * oref).any()):
                problems.append(f"the matching {axis} of {other} are not zero (norms {onorms.tolist()})")
        if problems:
            out.append(Outcome(REFUTED, "; ".join(problems), metrics))
        else:
            out.append(Outcome(VERIFIED, f"{int(zero.sum())} zero {claim.axis} = {n_lines} - rank {rank}", metrics))
    return out


def check_implication(claim: Implication, ev: Evidence) -> list[Outcome]:
    premise = _per_index(ev.batch, claim.premise)
    out = []
    for i in range(ev.batch.size):
        if not bool(premise[i].all()):
            out.append(Outcome(SKIPPED, "premise not met"))
            continue
        gate = _optimum_gate(ev, i)
        if gate is not None:
            out.append(gate)
            continue
        norm = float(torch.linalg.matrix_norm(ev.result.point[claim.matrix][i]))
        ref = ev.value_scale(i)
        metrics = {"norm": norm, "reference": ref}
        if norm <= ev.tol.zero_rtol * ref:
            out.append(Outcome(VERIFIED, f"premise holds and ||{claim.matrix}*|| = {norm:.1e}", metrics))
        elif norm >= ev.tol.nonzero_rtol * ref:
            out.append(Outcome(REFUTED, f"premise holds for every index but the certified optimum has "
                                        f"||{claim.matrix}*||_F = {norm:.4g} != 0", metrics))
        else:
            out.append(Outcome(INCONCLUSIVE, f"||{claim.matrix}*|| = {norm:.1e} is undecided", metrics))
    return out


def check_alternative(claim: AlternativeOptimum, ev: Evidence) -> list[Outcome]:
    size = claim.basis.shape[0]
    alt, loss, gradn = None, None, None
    out = []
    for i in range(ev.batch.size):
        okc, cond = _conditions_hold(ev.batch, claim, i)
        if not okc:
            out.append(Outcome(SKIPPED, f"premise not met: {cond}"))
            continue
        if ev.boundary(i):
            out.append(Outcome(SKIPPED, _AT_BOUNDARY))
            continue
        if alt is None:
            alt, loss, gradn = ev.alternative(claim.basis, size)
        best = min(float(ev.claimed_loss[i]), float(ev.result.loss[i]))
        tol = float(ev.loss_tol[i])
        gtol = ev.tol.claimed_grad_rtol * float(ev.batch.scale[i])
        norms = _lines(alt.claimed[claim.matrix][i], "rows")
        ref = max(float(norms.max()), ev.value_scale(i))
        metrics = {"alternative_loss": float(loss[i]), "best_loss": best, "grad_norm": float(gradn[i]),
                   "smallest_line_norm": float(norms.min())}
        if float(gradn[i]) > gtol or float(loss[i]) > best + tol:
            out.append(Outcome(REFUTED, f"with {claim.basis} replaced by a random orthogonal matrix the point is "
                                        f"not optimal (loss {float(loss[i]):.12g} vs {best:.12g}, "
                                        f"|grad| {float(gradn[i]):.2e})", metrics))
        elif float(norms.min()) > ev.tol.zero_rtol * ref:   # the point is built exactly: no noise band
            out.append(Outcome(VERIFIED, f"an optimum with no zero row of {claim.matrix} exists "
                                         f"(smallest row norm {float(norms.min()):.3g})", metrics))
        else:
            out.append(Outcome(INCONCLUSIVE, "the random orthogonal basis happened to leave a (near) zero row",
                               metrics))
    return out


def check_relation_family(claim: MatrixRelationFamily, ev: Evidence) -> list[Outcome]:
    """Each member is checked as a MatrixRelation; an instance gets its worst member's outcome
    (REFUTED > INCONCLUSIVE > SKIPPED > VERIFIED), naming that member."""
    members = [check_relation(MatrixRelation(claim.name, claim.equation, claim.statement, residual=r), ev)
               for r in claim.residuals]
    out = []
    for i in range(ev.batch.size):
        outcomes = [m[i] for m in members]
        ratio = lambda o: o.metrics.get("residual", 0.0) / max(o.metrics.get("tolerance", 1.0), 1e-300)
        k = max(range(len(outcomes)), key=lambda j: (severity(outcomes[j].status), ratio(outcomes[j])))
        worst = outcomes[k]
        metrics = {**worst.metrics, "worst_member": k + 1, "members": len(outcomes)}
        out.append(Outcome(worst.status, f"member {k + 1} of {len(outcomes)} ({claim.residuals[k]} = 0): "
                                         f"{worst.detail}", metrics))
    return out


def check_expression_rank(claim: ExpressionRank, ev: Evidence) -> list[Outcome]:
    """rank of a matrix expression at the certified optimum vs the number of active indices."""
    b = ev.batch
    value = evaluate(claim.expression, b.env(ev.result.point), b.dims, dtype=b.scale.dtype, device=b.scale.device)
    active = _per_index(ev.batch, claim.active)
    out = []
    for i in range(b.size):
        expected = int(active[i].sum())
        gate = _optimum_gate(ev, i)
        if gate is not None:
            out.append(gate)
            continue
        # the product of two factors of size ~value_scale has size ~value_scale^2
        sv = torch.linalg.svdvals(value[i])
        ref = max(float(sv.max()) if sv.numel() else 0.0, ev.value_scale(i) ** 2)
        zero = _classify(sv, ref, ev.tol)
        metrics = {"expected_rank": expected, "singular_values": sv.tolist()}
        if zero is None:
            out.append(Outcome(INCONCLUSIVE, "a singular value is neither zero nor non-zero at the tolerances", metrics))
            continue
        rank = int((~zero).sum())
        metrics["rank"] = rank
        if rank == expected:
            out.append(Outcome(VERIFIED, f"rank {rank} = {expected}", metrics))
        else:
            out.append(Outcome(REFUTED, f"rank of {claim.expression} at the certified optimum is {rank}, "
                                        f"claimed {expected}", metrics))
    return out


def check_scaled_relation(claim: ScaledMatrixRelation, ev: Evidence) -> list[Outcome]:
    """check_relation, with residuals below zero_rtol x value_scale**degree counted as zero."""
    out = []
    for i, o in enumerate(check_relation(claim, ev)):
        floor = ev.tol.zero_rtol * ev.value_scale(i) ** claim.degree
        if o.status == REFUTED and o.metrics["residual"] <= floor:
            o = Outcome(VERIFIED, f"residual {o.metrics['residual']:.2e} <= zero floor {floor:.1e} (every term of the "
                                  f"relation is at float noise, {o.metrics['reference']:.1e})", {**o.metrics, "floor": floor})
        out.append(o)
    return out


def _dimensions_hold(relation, dims: dict) -> bool:
    value = sp.sympify(relation).xreplace({sp.Symbol(str(k), integer=True, positive=True): v for k, v in dims.items()})
    if value not in (sp.true, sp.false):
        raise ValueError(f"the dimension condition {relation} does not decide at {dims}")
    return bool(value)


def check_restricted(claim: Restricted, ev: Evidence) -> list[Outcome]:
    """The inner claim's outcomes where the dimensions and the all-index premise hold, else SKIPPED.
    A batch shares its dimensions, so the dimension condition is decided once per batch."""
    n = ev.batch.size
    if not _dimensions_hold(claim.dimensions, ev.batch.dims):
        return [Outcome(SKIPPED, f"dimensions {dict((str(k), v) for k, v in ev.batch.dims.items())} do not "
                                 f"satisfy {claim.dimensions}")] * n
    premise = _per_index(ev.batch, claim.premise) if claim.premise is not sp.true else None
    inner = CHECKERS[type(claim.inner)](claim.inner, ev)
    out = []
    for i in range(n):
        if premise is not None and not bool(torch.as_tensor(premise)[i].all()):
            out.append(Outcome(SKIPPED, f"premise not met for every index: {claim.premise}"))
        else:
            out.append(inner[i])
    return out


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
        if not _dimensions_hold(claim.dimensions, batch.dims):
            return [False] * n
        if claim.premise is sp.true:
            return [True] * n
    if isinstance(claim, (Implication, Restricted)):
        premise = torch.as_tensor(_per_index(batch, claim.premise))
        return [bool(premise[i].all()) for i in range(n)]
    return [_conditions_hold(batch, claim, i)[0] for i in range(n)]


CHECKERS: dict[type, Callable] = {
    GlobalMinimum: check_global_minimum,
    ClosedFormSpectrum: check_spectrum,
    MatrixRelation: check_relation,
    RankCount: check_rank,
    ZeroLines: check_zero_lines,
    Implication: check_implication,
    AlternativeOptimum: check_alternative,
    MatrixRelationFamily: check_relation_family,
    ExpressionRank: check_expression_rank,
    Restricted: check_restricted,
    ScaledMatrixRelation: check_scaled_relation,
}


# --------------------------------------------------------------------------- data claims, coordinates, data form

from .spec import DataFormAgreement, IndexBound, OnData, VanishingCoordinates   # noqa: E402  (appended kinds)


def _source_values(source, mats) -> torch.Tensor:
    """A per-index data source (SingularValues of a statistics matrix) or a number, as a 1-d tensor."""
    if isinstance(source, (int, float)):
        return torch.tensor([float(source)], dtype=torch.float64)
    matrix = getattr(source, "matrix", None)
    if matrix is None or matrix not in mats:
        raise ValueError(f"IndexBound: the source {source!r} names no statistics matrix; known: {sorted(mats)}")
    return torch.as_tensor(torch.linalg.svdvals(torch.as_tensor(mats[matrix], dtype=torch.float64)))


def check_index_bound(claim: IndexBound, ev: Evidence) -> list[Outcome]:
    """lhs_i <= rhs_i for every index, on the instance's statistics (zero-padded to a common length).
    The tolerance is value_rtol x the largest value on either side, or of ``claim.reference``."""
    out = []
    for i in range(ev.batch.size):
        mats = ev.group[i][1]
        lhs, rhs = _source_values(claim.lhs, mats), _source_values(claim.rhs, mats)
        n = max(len(lhs), len(rhs))
        pad = lambda v: v.expand(n) if len(v) == 1 else torch.nn.functional.pad(v, (0, n - len(v)))
        lhs, rhs = pad(lhs), pad(rhs)
        ref = max(float(lhs.abs().max()), float(rhs.abs().max()))
        if claim.reference is not None:
            ref = max(ref, float(_source_values(claim.reference, mats).abs().max()))
        tol = ev.tol.value_rtol * ref
        excess = float((lhs - rhs).max())
        metrics = {"largest_excess": excess, "tolerance": tol, "lhs": lhs.tolist(), "rhs": rhs.tolist()}
        if excess <= tol:
            out.append(Outcome(VERIFIED, f"max_i (lhs_i - rhs_i) = {excess:.2e} <= {tol:.1e}", metrics))
        else:
            k = int((lhs - rhs).argmax())
            out.append(Outcome(REFUTED, f"index {k + 1}: {float(lhs[k]):.9g} > {float(rhs[k]):.9g} "
                                        f"(excess {excess:.3e} > {tol:.1e})", metrics))
    return out


def check_on_data(claim: OnData, ev: Evidence) -> list[Outcome]:
    """The inner claim's outcomes on the instances whose data satisfy the condition, else SKIPPED."""
    inner = CHECKERS[type(claim.inner)](claim.inner, ev)
    return [inner[i] if claim.applies(inst) else Outcome(SKIPPED, f"data condition not met: {claim.condition}")
            for i, inst in enumerate(ev.batch.instances)]


def check_vanishing_coordinates(claim: VanishingCoordinates, ev: Evidence) -> list[Outcome]:
    b = ev.batch
    env = b.env(ev.result.point)
    moments = evaluate(claim.second_moment, env, b.dims, dtype=b.scale.dtype, device=b.scale.device)
    term_sizes = sum(torch.diagonal(evaluate(t, env, b.dims, dtype=b.scale.dtype, device=b.scale.device),
                                    dim1=-2, dim2=-1).abs() for t in MatAdd.make_args(claim.second_moment))
    rms_of = lambda m: torch.sqrt(torch.diagonal(m, dim1=-2, dim2=-1).clamp_min(0))
    rms_all = rms_of(moments)
    moved_rms = None                    # the rms after one Newton step, computed only if something is in doubt

    def newton_uncertainty(i: int) -> torch.Tensor:
        # As for RelationAtPrecision: NEWTON_STEP_FACTOR x the change under one Newton step bounds how far the
        # certified point's imprecision (|grad| / curvature, large in a shallow valley) moves the rms.
        nonlocal moved_rms
        if moved_rms is None:
            moved_rms = rms_of(_evaluate_after_newton_step(ev, claim.second_moment))
        return NEWTON_STEP_FACTOR * (rms_all[i] - moved_rms[i]).abs()

    out = []
    for i in range(b.size):
        gate = _optimum_gate(ev, i)
        if gate is not None:
            out.append(gate)
            continue
        norms = _lines(ev.result.point[claim.matrix][i], claim.axis)
        zero = _classify(norms, max(float(norms.max()), ev.value_scale(i)), ev.tol)
        if zero is None:
            out.append(Outcome(INCONCLUSIVE, f"a {claim.axis[:-1]} norm of {claim.matrix} is undecided"))
            continue
        # rms of each latent coordinate's mean over the data, against the largest one (or the unit scale)
        rms = rms_all[i]
        ref = max(float(rms.max()), ev.value_scale(i))
        # The moment is a cancelling sum of terms built from the statistics (V1 V1^T + V2 V2^T + cross
        # terms): their rounding rho shifts it by up to rho x (the terms' sizes), which under the square
        # root reaches sqrt(rho) -- 3e-6 of the terms' rms for the 1e-11 of a badly conditioned X.
        rho = float(b.statistics_rtol[i])
        allowed = torch.sqrt((ev.tol.zero_rtol * ref) ** 2 + rho * term_sizes[i])
        metrics = {"zero_lines": int(zero.sum()), "rms_at_zero_lines": rms[zero].tolist(), "reference": ref,
                   "statistics_rtol": rho}
        if bool((zero & (rms > allowed)).any()):
            moved = newton_uncertainty(i)
            allowed = allowed + moved
            metrics["newton_step_uncertainty"] = moved[zero].tolist()
        metrics["rms_allowed_at_zero_lines"] = allowed[zero].tolist()
        bad = [k for k in range(len(rms)) if bool(zero[k]) and float(rms[k]) > float(allowed[k])]
        if bad:
            k = bad[0]
            out.append(Outcome(REFUTED, f"{claim.axis[:-1]} {k + 1} of {claim.matrix} is zero but that latent "
                                        f"coordinate's mean has rms {float(rms[k]):.3e} over the data (> "
                                        f"{float(allowed[k]):.1e}: {ev.tol.zero_rtol:g} x {ref:.3g}, the statistics' "
                                        f"rounding {rho:.1e} on terms of size {float(term_sizes[i][k]):.3g}, and 10 x "
                                        f"its change under one Newton step)", metrics))
        else:
            bound = f" (rms <= {float(allowed[zero].max()):.1e})" if bool(zero.any()) else ""
            out.append(Outcome(VERIFIED, f"{int(zero.sum())} zero {claim.axis} of {claim.matrix}; each matching "
                                         f"latent coordinate vanishes on the data{bound}", metrics))
    return out


def check_data_form_agreement(claim: DataFormAgreement, ev: Evidence) -> list[Outcome]:
    from .data_form import check_data_form     # data_form uses Outcome from here: imported on use
    return check_data_form(claim, ev)


CHECKERS.update({
    IndexBound: check_index_bound,
    OnData: check_on_data,
    VanishingCoordinates: check_vanishing_coordinates,
    DataFormAgreement: check_data_form_agreement,
})


# --------------------------------------------------------------------------- relations at the minimiser's precision

from .spec import RelationAtPrecision   # noqa: E402


# How many times its change under one Newton step a quantity at the certified point may be off.
NEWTON_STEP_FACTOR = 10


def _evaluate_after_newton_step(ev: Evidence, expr) -> torch.Tensor:
    b = ev.batch
    return evaluate(expr, b.env(_newton_step_points(ev)), b.dims, dtype=b.scale.dtype, device=b.scale.device)


def _newton_step_points(ev: Evidence) -> dict[str, torch.Tensor]:
    """The minimiser's point moved by one (pseudo-inverse) Newton step, as model matrices."""
    from .numeric import Derivatives, MinimiserSettings, Parametrisation, pseudo_newton_step
    b = ev.batch
    param = Parametrisation(b.theorem.model, b.dims)
    deriv = Derivatives(b.theorem.model.objective, param, b.dims, b.scale.dtype, b.scale.device,
                        MinimiserSettings().hessian_block)
    return param.matrices(pseudo_newton_step(deriv, param.flatten(ev.result.point), b.data))


def check_relation_at_precision(claim: RelationAtPrecision, ev: Evidence) -> list[Outcome]:
    base = check_relation(claim, ev)
    if not any(o.status == REFUTED for o in base):
        return base
    b = ev.batch
    here = evaluate(claim.residual, b.env(ev.result.point), b.dims, dtype=b.scale.dtype, device=b.scale.device)
    there = _evaluate_after_newton_step(ev, claim.residual)
    out = []
    for i, o in enumerate(base):
        if o.status != REFUTED:
            out.append(o)
            continue
        uncertainty = NEWTON_STEP_FACTOR * float(torch.linalg.matrix_norm(here[i] - there[i]))
        tol = o.metrics["tolerance"] + uncertainty
        metrics = {**o.metrics, "newton_step_uncertainty": uncertainty, "tolerance": tol}
        res = o.metrics["residual"]
        if res <= tol:
            out.append(Outcome(VERIFIED, f"residual {res:.2e} <= {tol:.1e} (incl. 10 x its change under one Newton "
                                         f"step, {uncertainty:.1e})", metrics))
        else:
            out.append(Outcome(REFUTED, o.detail + f"; one Newton step moves it by only {uncertainty / 10:.1e}", metrics))
    return out


CHECKERS[RelationAtPrecision] = check_relation_at_precision
