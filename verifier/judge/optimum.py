"""Claims about the optimum's loss: the closed forms give a global minimum (GlobalMinimum), and another
optimum with the claimed structure exists (AlternativeOptimum)."""
from __future__ import annotations

from ..error_model import Tolerance
from ..spec import AlternativeOptimum, GlobalMinimum
from .evidence import INCONCLUSIVE, REFUTED, VERIFIED, Evidence, Outcome, conditions_hold, gate, lines


def check_global_minimum(claim: GlobalMinimum, ev: Evidence) -> list[Outcome]:
    """The claimed point is stationary and no certified restart lies lower.  The loss comparison holds at a
    case boundary too; the claimed point's own gradient refutes without the minimiser (error model)."""
    out = []
    r = ev.result
    for i in range(ev.batch.size):
        Lc, Lm = float(ev.claimed_loss[i]), float(r.loss[i])
        loss_tol = ev.loss_tolerance(i)
        grad_tol = Tolerance({"claimed_grad_rtol x loss scale": ev.tol.claimed_grad_rtol * float(ev.batch.scale[i])})
        tol, gtol = loss_tol.total, grad_tol.total
        metrics = {"claimed_loss": Lc, "minimiser_loss": Lm, "loss_gap": Lc - Lm, "loss_tol": tol,
                   "claimed_grad_norm": float(ev.claimed_grad[i]), "grad_tol": gtol,
                   "minimiser_grad_norm": float(r.grad_norm[i]), "min_hessian_eig": float(r.min_hessian_eig[i]),
                   **loss_tol.metrics("loss_tol"), **grad_tol.metrics("grad_tol")}
        stopped = gate(ev, i, judged_at_boundary=True, needs_optimum=False, metrics=metrics)
        if stopped is not None:
            out.append(stopped)
        elif not grad_tol.admits(float(ev.claimed_grad[i])):
            out.append(Outcome(REFUTED, f"the claimed optimum is not stationary: |grad L| = "
                                        f"{float(ev.claimed_grad[i]):.3e} > {grad_tol.describe()}", metrics))
        elif not loss_tol.admits(Lc - Lm):
            out.append(Outcome(REFUTED, f"the minimiser found a lower loss: {Lm:.15g} < claimed {Lc:.15g} "
                                        f"(gap {Lc - Lm:.3e} > tol {loss_tol.describe()})", metrics))
        else:
            ok, why = ev.at_optimum(i)
            if ok:
                out.append(Outcome(VERIFIED, f"loss gap {Lc - Lm:.2e} <= {loss_tol.describe()}; claimed point "
                                             f"stationary (|grad| {float(ev.claimed_grad[i]):.1e})", metrics))
            else:
                out.append(Outcome(INCONCLUSIVE, why, metrics))
    return out


def check_alternative(claim: AlternativeOptimum, ev: Evidence) -> list[Outcome]:
    """With the claim's basis replaced by a random orthogonal one, the built point is still optimal and has
    no zero row.  The point is built exactly, so no certificate is needed (and there is no noise band)."""
    size = claim.basis.shape[0]
    alt, loss, gradn = None, None, None
    out = []
    for i in range(ev.batch.size):
        stopped = gate(ev, i, premise=conditions_hold(ev.batch, claim, i), needs_optimum=False)
        if stopped is not None:
            out.append(stopped)
            continue
        if alt is None:
            alt, loss, gradn = ev.alternative(claim.basis, size)
        best = min(float(ev.claimed_loss[i]), float(ev.result.loss[i]))
        loss_tol = ev.loss_tolerance(i)
        grad_tol = Tolerance({"claimed_grad_rtol x loss scale": ev.tol.claimed_grad_rtol * float(ev.batch.scale[i])})
        norms = lines(alt.claimed[claim.matrix][i], "rows")
        ref = max(float(norms.max()), ev.value_scale(i))
        metrics = {"alternative_loss": float(loss[i]), "best_loss": best, "grad_norm": float(gradn[i]),
                   "smallest_line_norm": float(norms.min()), **loss_tol.metrics("loss_tol"),
                   **grad_tol.metrics("grad_tol")}
        if not grad_tol.admits(float(gradn[i])) or not loss_tol.admits(float(loss[i]) - best):
            out.append(Outcome(REFUTED, f"with {claim.basis} replaced by a random orthogonal matrix the point is "
                                        f"not optimal (loss {float(loss[i]):.12g} vs {best:.12g}, "
                                        f"|grad| {float(gradn[i]):.2e}; tolerances {loss_tol.describe()}, "
                                        f"{grad_tol.describe()})", metrics))
        elif float(norms.min()) > ev.tol.zero_rtol * ref:
            out.append(Outcome(VERIFIED, f"an optimum with no zero row of {claim.matrix} exists "
                                         f"(smallest row norm {float(norms.min()):.3g})", metrics))
        else:
            out.append(Outcome(INCONCLUSIVE, "the random orthogonal basis happened to leave a (near) zero row",
                               metrics))
    return out
