"""What every checker reads and returns: the batch's :class:`Evidence`, an :class:`Outcome` per instance,
the one :func:`gate` every checker applies (in the error model's one order), and the
measurements several checkers share (spectra, line norms, the point after one Newton step)."""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
import torch

from .. import error_model
from ..batch import Batch, instantiate
from ..error_model import Tolerance, Tolerances
from ..errors import SpecError
from ..lowering import evaluate
from ..minimiser_cache import RowStore, no_store
from ..numeric import Derivatives, MinimiserResult, MinimiserSettings, Parametrisation, pseudo_newton_step
from ..status import Status
from ..spec import AllDistinct, AllEqual, PartialRank, RandomOrthogonalBasis

VERIFIED, REFUTED, INCONCLUSIVE, SKIPPED = Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE, Status.SKIPPED
NOT_APPLICABLE = Status.NOT_APPLICABLE   # a claim no instance met the premise of: says nothing, exit status 0

# At an index exactly on its threshold the optimum is degenerate (the loss grows only to fourth
# order), so float64 pins the optimal point down to ~eps^(1/4) ~ 1e-4 and sqrt(max(0, .)) is not
# Lipschitz there: values and relations are not comparable; the loss comparison still is.
AT_BOUNDARY = ("an index sits at its case boundary: the optimum is degenerate there, so only the loss "
               "comparison (claim 'optimum') and the symbolic continuity check apply")


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
    data_form_settings: MinimiserSettings = MinimiserSettings()    # the run's, so a replay is the same search
    # where the data form's minimisations are kept between runs (verifier.minimiser_cache); by default nowhere
    data_form_store: RowStore = field(default_factory=lambda: no_store("data_form"))
    _alternatives: dict = field(default_factory=dict)
    _after_newton_step: dict | None = None

    @property
    def loss_tol(self) -> torch.Tensor:
        return self.tol.loss_rtol * self.batch.scale

    def loss_tolerance(self, i: int) -> Tolerance:
        return Tolerance({"loss_rtol x loss scale": float(self.loss_tol[i])})

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
        return error_model.newton_distance(float(self.result.grad_norm[i]), float(self.result.min_curvature[i]))

    def alternative(self, basis, size):
        key = basis.name
        if key not in self._alternatives:
            alt = instantiate(self.batch.theorem, self.group, basis_override={basis: RandomOrthogonalBasis(size)},
                              dtype=self.batch.scale.dtype, device=self.batch.scale.device)
            loss, gradn = claimed_loss_and_grad(alt)
            self._alternatives[key] = (alt, loss, gradn)
        return self._alternatives[key]

    def evaluate(self, expr, point: dict | None = None) -> torch.Tensor:
        """A (matrix) expression on the batch at ``point`` (default: the certified point)."""
        b = self.batch
        point = self.result.point if point is None else point
        return evaluate(expr, b.env(point), b.dims, dtype=b.scale.dtype, device=b.scale.device)

    def after_newton_step(self) -> dict[str, torch.Tensor]:
        """The certified points moved by one (pseudo-inverse) Newton step, as model matrices (computed once;
        an uncertified point, which no claim judges, is left where it is)."""
        if self._after_newton_step is None:
            b = self.batch
            param = Parametrisation(b.theorem.model, b.dims)
            deriv = Derivatives(b.theorem.model.objective, param, b.dims, b.scale.dtype, b.scale.device,
                                MinimiserSettings().hessian_block)
            x = param.flatten(self.result.point)
            judged = self.result.certified.nonzero().flatten()
            if judged.numel():
                x = x.clone()
                x[judged] = pseudo_newton_step(deriv, x[judged], {k: v[judged] for k, v in b.data.items()})
            self._after_newton_step = param.matrices(x)
        return self._after_newton_step


def gate(ev: Evidence, i: int, *, premise: tuple[bool, str] = (True, ""), applies: tuple[bool, str] = (True, ""),
         judged_at_boundary: bool = False, needs_optimum: bool = True, metrics: dict | None = None) -> Outcome | None:
    """The gates of the error model, in its one order (premise -> at the boundary -> uncertified), for
    instance i: the first that stops it as an Outcome, else None (judge it).  ``premise`` is (holds, why
    not); ``applies`` (applies, why not) is the same gate for an instance the claim cannot speak of at all
    (a spectrum where the claim needs data); a claim about the loss alone is ``judged_at_boundary``; one
    that reads only exactly built points does not ``need_optimum``."""
    metrics = {} if metrics is None else metrics
    applicable, why = applies
    if not applicable:
        return Outcome(SKIPPED, why, metrics)
    holds, why = premise
    if not holds:
        return Outcome(SKIPPED, f"premise not met{': ' + why if why else ''}", metrics)
    if not judged_at_boundary and ev.boundary(i):
        return Outcome(SKIPPED, AT_BOUNDARY, metrics)
    if needs_optimum:
        ok, why = ev.at_optimum(i)
        if not ok:
            return Outcome(INCONCLUSIVE, why, metrics)
    return None


def judge_each(ev: Evidence, judge_one, *, premise=None, **gate_options) -> list[Outcome]:
    """One Outcome per instance: the gate's where it stops the instance, else ``judge_one(i)``.
    ``premise(i)`` is (holds, why not); ``gate_options`` are :func:`gate`'s."""
    out = []
    for i in range(ev.batch.size):
        stopped = gate(ev, i, premise=premise(i) if premise else (True, ""), **gate_options)
        out.append(judge_one(i) if stopped is None else stopped)
    return out


def verdict(error: float, tol: Tolerance, verified: str, refuted: str, metrics: dict) -> Outcome:
    """VERIFIED when ``tol`` admits ``error``, else REFUTED; the text ends with the tolerance and its parts."""
    if tol.admits(error):
        return Outcome(VERIFIED, f"{verified} <= {tol.describe()}", metrics)
    return Outcome(REFUTED, f"{refuted} > {tol.describe()}", metrics)


def claimed_loss_and_grad(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss and gradient norm (w.r.t. every variable, as a full matrix) at the claimed optimum."""
    point = {k: v.detach().clone().requires_grad_(True) for k, v in batch.claimed.items()}
    loss = evaluate(batch.theorem.model.objective, batch.env(point), batch.dims,
                    dtype=batch.scale.dtype, device=batch.scale.device)
    grads = torch.autograd.grad(loss.sum(), list(point.values()))
    gnorm = torch.sqrt(sum((g ** 2).sum(dim=(-2, -1)) for g in grads))
    return loss.detach(), gnorm


# --------------------------------------------------------------------------- shared measurements


def per_index(b: Batch, expr) -> torch.Tensor:
    """A per-index expression (a premise, an activity indicator) on the batch, (B, n)."""
    env = {k: v[:, None] for k, v in b.data.items() if v.dim() == 1}
    env.update({s.name: v for s, v in b.indexed.items()})
    return torch.as_tensor(evaluate(expr, env, b.dims, dtype=b.scale.dtype, device=b.scale.device))


def conditions_hold(batch: Batch, claim, i: int) -> tuple[bool, str]:
    """Whether instance i meets the claim's ``when`` conditions (else the first that fails)."""
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
            k = int(per_index(batch, cond.active)[i].sum())
            if not 0 < k < batch.indexed[next(iter(batch.indexed))].shape[1]:
                return False, cond.describe()
    return True, ""


def dimensions_hold(relation, dims: dict) -> bool:
    """Whether a condition on the dimensions (d1 < D0, ...) holds at ``dims``; it must decide."""
    value = sp.sympify(relation).xreplace({sp.Symbol(str(k), integer=True, positive=True): v for k, v in dims.items()})
    if value not in (sp.true, sp.false):
        raise ValueError(f"the dimension condition {relation} does not decide at {dims}")
    return bool(value)


def classify(values: torch.Tensor, ref: float, tol: Tolerances):
    """Split magnitudes into zero / non-zero; None where undecided."""
    zero = values <= tol.zero_rtol * ref
    nonzero = values >= tol.nonzero_rtol * ref
    if bool((~zero & ~nonzero).any()):
        return None
    return zero


def spectrum(kind: str, m: torch.Tensor, symmetrise: bool = False) -> torch.Tensor:
    """Singular values of m, or the square roots of its (clamped) eigenvalues, descending; ``symmetrise``
    reads a matrix that is symmetric only to rounding (a whitened product) as its symmetric part."""
    if kind == "singular_values":
        return torch.linalg.svdvals(m)
    if kind == "sqrt_eigenvalues":
        return torch.sqrt(torch.linalg.eigvalsh(0.5 * (m + m.mT) if symmetrise else m).clamp_min(0)).flip(-1)
    raise SpecError(f"spectrum kind {kind!r} is not 'singular_values' or 'sqrt_eigenvalues'")


def lines(m: torch.Tensor, axis: str) -> torch.Tensor:
    """Norms of the rows or the columns of m."""
    return m.norm(dim=-1) if axis == "rows" else m.norm(dim=-2)
