"""Claims about the optimum's structure: ranks (RankCount, ExpressionRank), zero rows or columns
(ZeroLines, Implication) and collapsed latent coordinates that vanish on the data (VanishingCoordinates).
A magnitude is zero below zero_rtol x its reference, non-zero above nonzero_rtol x it, undecided between."""
from __future__ import annotations

import torch
from sympy.matrices.expressions import MatAdd

from ..error_model import NEWTON_STEP_CHANGE, Tolerance
from ..spec import ExpressionRank, Implication, RankCount, VanishingCoordinates, ZeroLines
from .evidence import (
    INCONCLUSIVE, REFUTED, VERIFIED, Evidence, Outcome, classify, conditions_hold, gate, judge_each, lines,
    per_index,
)


def _bands(ev: Evidence, ref: float) -> dict:
    """The zero / non-zero thresholds at reference ``ref``, as metrics."""
    return {"zero_below": ev.tol.zero_rtol * ref, "nonzero_above": ev.tol.nonzero_rtol * ref}


def _numerical_rank(m: torch.Tensor, ev: Evidence, i: int, unit: float):
    sv = torch.linalg.svdvals(m)
    ref = max(float(sv.max()) if sv.numel() else 0.0, unit)
    zero = classify(sv, ref, ev.tol)
    return None if zero is None else int((~zero).sum()), sv, ref


def check_rank(claim: RankCount, ev: Evidence) -> list[Outcome]:
    active = per_index(ev.batch, claim.active)

    def judge_one(i: int) -> Outcome:
        expected = int(active[i].sum())
        measured = {name: _numerical_rank(ev.result.point[name][i], ev, i, ev.value_scale(i))
                    for name in claim.matrices}
        ranks = {name: rank for name, (rank, _, _) in measured.items()}
        metrics = {"expected_rank": expected, **{f"rank_{k}": v for k, v in ranks.items()}}
        for name, (_, _, ref) in measured.items():
            metrics.update({f"{k}_{name}": v for k, v in _bands(ev, ref).items()})
        if any(v is None for v in ranks.values()):
            return Outcome(INCONCLUSIVE, f"a singular value is neither zero nor non-zero at the tolerances "
                                         f"({ev.tol.zero_rtol:g}, {ev.tol.nonzero_rtol:g})", metrics)
        if all(v == expected for v in ranks.values()):
            return Outcome(VERIFIED, f"ranks {ranks} = {expected}", metrics)
        return Outcome(REFUTED, f"ranks at the certified optimum {ranks}, claimed {expected}", metrics)
    return judge_each(ev, judge_one)


def check_expression_rank(claim: ExpressionRank, ev: Evidence) -> list[Outcome]:
    """rank of a matrix expression at the certified optimum vs the number of active indices."""
    value = ev.evaluate(claim.expression)
    active = per_index(ev.batch, claim.active)

    def judge_one(i: int) -> Outcome:
        expected = int(active[i].sum())
        # the product of two factors of size ~value_scale has size ~value_scale^2
        rank, sv, ref = _numerical_rank(value[i], ev, i, ev.value_scale(i) ** 2)
        metrics = {"expected_rank": expected, "singular_values": sv.tolist(), **_bands(ev, ref)}
        if rank is None:
            return Outcome(INCONCLUSIVE, "a singular value is neither zero nor non-zero at the tolerances", metrics)
        metrics["rank"] = rank
        if rank == expected:
            return Outcome(VERIFIED, f"rank {rank} = {expected}", metrics)
        return Outcome(REFUTED, f"rank of {claim.expression} at the certified optimum is {rank}, claimed {expected}",
                       metrics)
    return judge_each(ev, judge_one)


def check_zero_lines(claim: ZeroLines, ev: Evidence) -> list[Outcome]:
    def judge_one(i: int) -> Outcome:
        m = ev.result.point[claim.matrix][i]
        rank = _numerical_rank(m, ev, i, ev.value_scale(i))[0]
        norms = lines(m, claim.axis)
        ref = max(float(norms.max()), ev.value_scale(i))
        zero = classify(norms, ref, ev.tol)
        if rank is None or zero is None:
            return Outcome(INCONCLUSIVE, "a line norm or singular value is undecided at the tolerances", _bands(ev, ref))
        n_lines = norms.shape[0]
        metrics = {"zero_lines": int(zero.sum()), "expected": n_lines - rank, "rank": rank, **_bands(ev, ref)}
        problems = []
        if int(zero.sum()) != n_lines - rank:
            problems.append(f"{int(zero.sum())} zero {claim.axis} of {claim.matrix}, expected "
                            f"{n_lines} - rank {rank} = {n_lines - rank}")
        if claim.matching is not None and bool(zero.any()):
            axis, other = claim.matching
            onorms = lines(ev.result.point[other][i], axis)[zero]
            oref = max(float(lines(ev.result.point[other][i], axis).max()), ev.value_scale(i))
            if bool((onorms > ev.tol.zero_rtol * oref).any()):
                problems.append(f"the matching {axis} of {other} are not zero (norms {onorms.tolist()})")
        if problems:
            return Outcome(REFUTED, "; ".join(problems), metrics)
        return Outcome(VERIFIED, f"{int(zero.sum())} zero {claim.axis} = {n_lines} - rank {rank}", metrics)
    return judge_each(ev, judge_one, premise=lambda i: conditions_hold(ev.batch, claim, i))


def check_implication(claim: Implication, ev: Evidence) -> list[Outcome]:
    premise = per_index(ev.batch, claim.premise)

    def judge_one(i: int) -> Outcome:
        norm = float(torch.linalg.matrix_norm(ev.result.point[claim.matrix][i]))
        ref = ev.value_scale(i)
        metrics = {"norm": norm, "reference": ref, **_bands(ev, ref)}
        if norm <= ev.tol.zero_rtol * ref:
            return Outcome(VERIFIED, f"premise holds and ||{claim.matrix}*|| = {norm:.1e}", metrics)
        if norm >= ev.tol.nonzero_rtol * ref:
            return Outcome(REFUTED, f"premise holds for every index but the certified optimum has "
                                    f"||{claim.matrix}*||_F = {norm:.4g} != 0", metrics)
        return Outcome(INCONCLUSIVE, f"||{claim.matrix}*|| = {norm:.1e} is undecided", metrics)
    return judge_each(ev, judge_one, premise=lambda i: (bool(premise[i].all()), ""))


def _coordinate_tolerance(ev: Evidence, zero_floor: float, rho: float, term_size: float, moved: float) -> Tolerance:
    """One collapsed coordinate's allowance: the zero floor and the statistics' rounding rho on the moment's
    terms (in quadrature: the moment is a cancelling sum of terms built from the statistics, V1 V1^T +
    V2 V2^T + cross terms, whose rounding shifts it by up to rho x their sizes -- sqrt(rho) under the square
    root, 3e-6 of the terms' rms for the 1e-11 of a badly conditioned X), and newton_step_factor x the rms's
    change under one Newton step (the certified point's imprecision, large in a shallow valley)."""
    return Tolerance({"zero floor and statistics rounding": (zero_floor ** 2 + rho * term_size) ** 0.5,
                      NEWTON_STEP_CHANGE: ev.tol.newton_step_factor * moved})


def check_vanishing_coordinates(claim: VanishingCoordinates, ev: Evidence) -> list[Outcome]:
    b = ev.batch
    term_sizes = sum(torch.diagonal(ev.evaluate(t), dim1=-2, dim2=-1).abs()
                     for t in MatAdd.make_args(claim.second_moment))
    rms_of = lambda m: torch.sqrt(torch.diagonal(m, dim1=-2, dim2=-1).clamp_min(0))
    rms_all = rms_of(ev.evaluate(claim.second_moment))
    moved_rms = []                      # the rms after one Newton step, computed once, for the judged instances
    out = []
    for i in range(b.size):
        stopped = gate(ev, i)
        if stopped is not None:
            out.append(stopped)
            continue
        norms = lines(ev.result.point[claim.matrix][i], claim.axis)
        zero = classify(norms, max(float(norms.max()), ev.value_scale(i)), ev.tol)
        if zero is None:
            out.append(Outcome(INCONCLUSIVE, f"a {claim.axis[:-1]} norm of {claim.matrix} is undecided"))
            continue
        if not moved_rms:
            moved_rms.append(rms_of(ev.evaluate(claim.second_moment, ev.after_newton_step())))
        # rms of each latent coordinate's mean over the data, against the largest one (or the unit scale)
        rms = rms_all[i]
        ref = max(float(rms.max()), ev.value_scale(i))
        rho = float(b.statistics_rtol[i])
        moved = (rms - moved_rms[0][i]).abs()
        tols = {k: _coordinate_tolerance(ev, ev.tol.zero_rtol * ref, rho, float(term_sizes[i][k]), float(moved[k]))
                for k in range(len(rms)) if bool(zero[k])}
        metrics = {"zero_lines": int(zero.sum()), "rms_at_zero_lines": rms[zero].tolist(), "reference": ref,
                   "statistics_rtol": rho, "newton_step_uncertainty": [t.parts[NEWTON_STEP_CHANGE]
                                                                   for t in tols.values()],
                   "rms_allowed_at_zero_lines": [t.total for t in tols.values()]}
        bad = [k for k, t in tols.items() if not t.admits(float(rms[k]))]
        if bad:
            k = bad[0]
            metrics.update(tols[k].metrics())
            out.append(Outcome(REFUTED, f"{claim.axis[:-1]} {k + 1} of {claim.matrix} is zero but that latent "
                                        f"coordinate's mean has rms {float(rms[k]):.3e} over the data (> "
                                        f"{tols[k].describe()}: zero_rtol {ev.tol.zero_rtol:g} x {ref:.3g}, the "
                                        f"statistics' rounding {rho:.1e} on terms of size "
                                        f"{float(term_sizes[i][k]):.3g})", metrics))
        else:
            if tols:
                metrics.update(max(tols.values(), key=lambda t: t.total).metrics())
            bound = f" (rms <= {max(t.total for t in tols.values()):.1e})" if tols else ""
            out.append(Outcome(VERIFIED, f"{int(zero.sum())} zero {claim.axis} of {claim.matrix}; each matching "
                                         f"latent coordinate vanishes on the data{bound}", metrics))
    return out
