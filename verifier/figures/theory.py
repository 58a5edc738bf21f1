"""Report sections that make the theory visible, generic over ``theorems.REGISTRY``.

* ``closed_form_sweeps``: each theorem's closed-form spectra (omega_i, lambda_i, sigma_i, ...)
  against a sweep of its first beta-like hyperparameter, the certified minimiser's spectra on
  top, and the predicted collapse thresholds (where an index's closed form turns zero) marked.
* ``phase_diagrams``: the number of collapsed indices over two hyperparameters -- the first two
  beta-like ones (MHVAE: beta1, beta2), else beta and eta_dec (VAE, CVAE).  A spec module
  picks other axes with ``REPORT_PHASE_AXES = ("a", "b")`` or opts out with ``REPORT_PHASE_AXES = None``.
"""
from __future__ import annotations

import importlib

import numpy as np
import torch

from ..batch import closed_form_values, group_by_dims, per_index_inputs
from ..judge import spectrum
from ..loader import load_spec, registry
from ..numeric import MinimiserSettings
from ..pipeline import Pipeline, PipelineSettings
from ..spec import ClosedFormSpectrum
from . import plots
from .examples import drawn_many, representative, with_hyper
from ..report.profiles import profile
from ..report.sections import Figure, ReportSettings, Section

SWEEP_DECADES = (-1.0, 1.0)        # hyperparameters swept over at least [0.1, 10] (log scale), the others held at 1
WIDE_DECADES = (-6.0, 6.0)         # where a sweep's collapse thresholds are looked for, to choose its range
REPRESENTATIVE_DIM = 3            # latent indices of the representative instance (examples.representative's n)
SWEEP_DRAWS = 40                   # drawn instances a sweep may take instead of the representative one
ZERO = 1e-12                       # a closed-form value at most this (x its scale) is zero: the index collapsed


def per_theorem(one, settings: ReportSettings, prof) -> tuple[list[tuple[str, dict, Figure | None]], list[str]]:
    """Run ``one(name, settings, prof)`` for every registered theorem; a theorem whose plot fails is
    recorded with its error (and fails the section) instead of costing the other theorems theirs."""
    done, failed = [], []
    for name in sorted(registry()):
        try:
            data, fig = one(name, settings, prof)
        except Exception as exc:                      # noqa: BLE001 - reported in the section
            data, fig = {"theorem": name, "error": f"{type(exc).__name__}: {exc}"}, None
            failed.append(name)
        done.append((name, data, fig))
    return done, failed


def why_missing(data: dict) -> str:
    """A table cell for a theorem per_theorem has no figure of: why it was skipped, or how it failed."""
    return data.get("skipped") or "failed: " + data["error"]


def spectrum_claims(theorem) -> list[ClosedFormSpectrum]:
    return [c for c in theorem.claims if isinstance(c, ClosedFormSpectrum)]


def sweep_hyperparameter(theorem) -> str:
    names = [h.symbol.name for h in theorem.model.hyperparameters]
    return next((n for n in names if n.startswith("beta")), names[0])


def phase_axes(name: str, theorem) -> tuple[str, str] | None:
    """The two hyperparameters of a theorem's phase diagram (module override first), or None."""
    module = importlib.import_module(registry()[name]) if name in registry() else None
    if module is not None and hasattr(module, "REPORT_PHASE_AXES"):
        return module.REPORT_PHASE_AXES
    names = [h.symbol.name for h in theorem.model.hyperparameters]
    betas = [n for n in names if n.startswith("beta")]
    if len(betas) >= 2:
        return betas[0], betas[1]
    if betas and "eta_dec" in names:
        return betas[0], "eta_dec"
    return None


def closed_forms_over(theorem, inst, hyper: dict[str, np.ndarray]) -> dict:
    """Closed-form values (symbol -> (P, n) array) at P hyperparameter settings of one instance.
    The per-index inputs (theta_i, sigma'_i) do not depend on hyperparameters: computed once."""
    (group,) = group_by_dims(theorem, [inst])
    P = len(next(iter(hyper.values())))
    values = {n: torch.full((P,), float(v), dtype=torch.float64) for n, v in inst.hyper.items()}
    values.update({n: torch.as_tensor(v, dtype=torch.float64) for n, v in hyper.items()})
    indexed = {s: v.expand(P, -1) for s, v in per_index_inputs(theorem, group).items()}
    closed = closed_form_values(theorem, values, indexed, group[0][2], torch.float64, "cpu")
    return {s: v.numpy() for s, v in closed.items()}


def minimiser_spectra(theorem, insts, settings: ReportSettings, restarts: int) -> tuple[dict, np.ndarray]:
    """The certified minimiser's spectra (claim name -> (P, n), descending) and its certificates (P,)."""
    pipe = Pipeline(theorem, PipelineSettings(
        minimiser=MinimiserSettings(restarts=restarts, seed=settings.seed, device=settings.device),
        device=settings.device))
    results = pipe.run(insts)
    out = {}
    for claim in spectrum_claims(theorem):
        kind, name = claim.measured
        m = torch.tensor([r.minimiser["matrices"][name] for r in results], dtype=torch.float64)
        out[claim.name] = spectrum(kind, m).sort(dim=-1, descending=True).values.numpy()
    return out, np.array([r.minimiser["certified"] for r in results])


def collapse_thresholds(grid: np.ndarray, values: np.ndarray) -> list[tuple[int, float]]:
    """(index i from 1, hyperparameter value) where the closed form of index i turns zero or non-zero
    between two grid points (the geometric midpoint of the two)."""
    return [(i + 1, float(np.sqrt(grid[k] * grid[k + 1]))) for i, k in _brackets(values)[0]]


def _brackets(values: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray, float]:
    """(index, grid position k) where index's closed form changes between k and k + 1; which are on; zero."""
    zero = ZERO * max(float(np.abs(values).max()), 1.0)
    on = values > zero
    return [(i, int(k)) for i in range(values.shape[1]) for k in np.nonzero(on[1:, i] != on[:-1, i])[0]], on, zero


def refined_thresholds(theorem, inst, axis: str, quantity, grid: np.ndarray, values: np.ndarray,
                       steps: int = 40) -> list[tuple[int, float]]:
    """The collapse thresholds of ``quantity`` in ``axis``, each bisected (in log) within its grid cell to
    ~1e-12 of its value: the lines drawn are where the closed forms turn zero, not a grid point."""
    brackets, on, zero = _brackets(values)
    if not brackets:
        return []
    index, k = np.array([b[0] for b in brackets]), np.array([b[1] for b in brackets])
    lo, hi, on_lo = np.log(grid[k]), np.log(grid[k + 1]), on[k, index]
    for _ in range(steps):
        mid = (lo + hi) / 2
        at = closed_forms_over(theorem, inst, {axis: np.exp(mid)})[quantity][np.arange(len(mid)), index]
        same = (at > zero) == on_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return [(int(i) + 1, float(np.exp((a + b) / 2))) for i, a, b in zip(index, lo, hi)]


def _all_thresholds(theorem, inst, axis: str) -> list[float]:
    """Every collapse threshold of ``inst``'s singular-value closed forms in ``axis`` over WIDE_DECADES."""
    grid = np.logspace(*WIDE_DECADES, 481)
    closed = closed_forms_over(theorem, inst, {axis: grid})
    return [h for c in spectrum_claims(theorem) if c.measured[0] == "singular_values"
            for _, h in collapse_thresholds(grid, closed[c.quantity])]


def sweep_instance(theorem, axis: str, seed: int):
    """The instance a sweep is drawn on, chosen from the closed forms alone (before minimising): the
    representative one, or where it shows fewer collapse thresholds than REPRESENTATIVE_DIM per
    singular-value claim, the draw of the theorem's own strategy (hyperparameters set to 1) with the most
    distinct thresholds, then the widest gap between neighbouring ones (up to half a decade: readable),
    then the fewest decades spanned."""
    def score(inst):
        marks = np.log10(sorted(set(np.round(_all_thresholds(theorem, inst, axis), 9))))
        gap = float(np.diff(marks).min()) if len(marks) > 1 else 0.5
        return len(marks), min(gap, 0.5), -float(np.ptp(marks)) if len(marks) else 0.0
    best = representative(theorem, seed=seed)
    best_score = score(best)
    wanted = REPRESENTATIVE_DIM * sum(c.measured[0] == "singular_values" for c in spectrum_claims(theorem))
    if best_score[0] < wanted:
        for drawn_instance in drawn_many(theorem, SWEEP_DRAWS, seed=seed):
            candidate = with_hyper(drawn_instance, **{k: 1.0 for k in drawn_instance.hyper})
            if (cs := score(candidate)) > best_score:
                best, best_score = candidate, cs
    return best


def sweep_range(thresholds: list[float]) -> tuple[float, float]:
    """Decades (log10) of the range shown: SWEEP_DECADES widened to whole decades that hold every
    threshold with a factor 2 to spare, so that both sides of each are seen."""
    if not thresholds:
        return SWEEP_DECADES
    lo = min(SWEEP_DECADES[0], np.floor(np.log10(min(thresholds) / 2)))
    hi = max(SWEEP_DECADES[1], np.ceil(np.log10(max(thresholds) * 2)))
    return float(lo), float(hi)


def _sweep_one(name: str, settings: ReportSettings, prof) -> tuple[dict, Figure | None]:
    theorem = load_spec(name)
    claims = spectrum_claims(theorem)
    if not claims:
        return {"theorem": name, "skipped": "no closed-form spectrum claim"}, None
    axis = sweep_hyperparameter(theorem)
    inst = sweep_instance(theorem, axis, settings.seed)
    decades = sweep_range(_all_thresholds(theorem, inst, axis))
    grid = np.logspace(*decades, prof.sweep_points)
    closed = closed_forms_over(theorem, inst, {axis: grid})
    coarse = np.logspace(*decades, prof.sweep_minimised)
    measured, certified = minimiser_spectra(theorem, [with_hyper(inst, **{axis: float(h)}) for h in coarse],
                                            settings, prof.restarts)
    at_coarse = closed_forms_over(theorem, inst, {axis: coarse})
    curves, gaps = [], {}
    for claim in claims:
        claimed = -np.sort(-closed[claim.quantity], axis=1)
        at = -np.sort(-at_coarse[claim.quantity], axis=1)
        n = min(at.shape[1], measured[claim.name].shape[1])
        gaps[claim.name] = float(np.abs(at[:, :n] - measured[claim.name][:, :n]).max())
        marks = (refined_thresholds(theorem, inst, axis, claim.quantity, grid, closed[claim.quantity])
                 if claim.measured[0] == "singular_values" else [])
        curves.append(plots.SweepCurve(claim.name, str(claim.quantity), claim.equation, claimed,
                                       measured[claim.name], marks))
    fig = plots.sweep_figure(theorem.name, theorem.title, axis, grid, coarse, curves, certified)
    marks = sorted({m for c in curves for m in c.thresholds})
    data = {"theorem": name, "hyperparameter": axis, "instance": inst.to_json(),
            "grid": [float(grid[0]), float(grid[-1]), len(grid)],
            "minimised_at": coarse.tolist(), "certified": certified.tolist(),
            "max_abs_difference": gaps, "collapse_thresholds": [{"index": i, axis: h} for i, h in marks]}
    others = ", ".join(f"{k} = {v:.3g}" for k, v in inst.hyper.items() if k != axis)
    caption = (f"{theorem.name}: each closed-form spectrum (lines: its k-th largest value) against {axis}, log axis"
               + (f", {others}" if others else "") + f"; dots: the certified minimiser of the full "
               f"objective at {len(coarse)} values of {axis} (a red x: not certified). Dotted vertical lines: the "
               f"predicted collapse thresholds, where index i's closed form turns zero. Look for each curve "
               f"reaching 0 exactly at its line and the dots on the curves on both sides of it.")
    return data, Figure(f"sweep_{name}", fig, caption)


def closed_form_sweeps(settings: ReportSettings) -> Section:
    done, failed = per_theorem(_sweep_one, settings, profile(settings.profile))
    rows, figures, data = [], [], []
    for name, d, fig in done:
        data.append(d)
        if fig is None:
            rows.append(f"| {name} | - | {why_missing(d)} | - |")
            continue
        figures.append(fig)
        worst = max(d["max_abs_difference"].values())
        crossings = ", ".join(f"i={m['index']}: {d['hyperparameter']}={m[d['hyperparameter']]:.3g}"
                              for m in d["collapse_thresholds"]) or "none in range"
        rows.append(f"| {name} | {d['hyperparameter']} | {crossings} | {worst:.2e} |")
    md = ("Each theorem's closed-form spectra across a hyperparameter sweep, with the certified minimiser of the full "
          "matrix objective on top.  The table lists the predicted collapse thresholds and the largest "
          "|closed form - minimiser| over the minimised points (the verdicts, not this plot, decide the claims).\n\n"
          "| theorem | swept | predicted collapse thresholds | max abs difference |\n|---|---|---|---|\n"
          + "\n".join(rows))
    return Section("closed_form_sweeps", "Closed forms against a hyperparameter sweep", md, {"theorems": data},
                   figures, ok=not failed)


def _phase_one(name: str, settings: ReportSettings, prof) -> tuple[dict, Figure | None]:
    theorem = load_spec(name)
    axes = phase_axes(name, theorem)
    claims = [c for c in spectrum_claims(theorem) if c.measured[0] == "singular_values"]
    if axes is None or not claims:
        return {"theorem": name, "skipped": "opted out" if axes is None else "no singular-value closed form"}, None
    inst = sweep_instance(theorem, axes[0], settings.seed)
    ranges = [sweep_range(_all_thresholds(theorem, inst, a)) for a in axes]
    g = np.logspace(min(r[0] for r in ranges), max(r[1] for r in ranges), prof.diagram_points)
    A, B = np.meshgrid(g, g, indexing="xy")            # A varies along columns (x), B along rows (y)
    closed = closed_forms_over(theorem, inst, {axes[0]: A.ravel(), axes[1]: B.ravel()})
    panels: list[tuple[list[str], np.ndarray]] = []     # identical count grids share one panel
    for claim in claims:
        values = closed[claim.quantity]
        zeros = (values <= ZERO * max(float(np.abs(values).max()), 1.0)).sum(axis=1).reshape(A.shape)
        same = next((p for p in panels if np.array_equal(p[1], zeros)), None)
        if same:
            same[0].append(str(claim.quantity))
        else:
            panels.append(([str(claim.quantity)], zeros))
    fig = plots.phase_figure(theorem.name, theorem.title, axes, g, panels)
    data = {"theorem": name, "axes": list(axes), "instance": inst.to_json(), "grid": [float(g[0]), float(g[-1]), len(g)],
            "panels": [{"quantities": q, "collapsed_counts": sorted({int(v) for v in z.ravel()})} for q, z in panels]}
    others = ", ".join(f"{k} = {v:.3g}" for k, v in inst.hyper.items() if k not in axes)
    caption = (f"{theorem.name}: number of indices i whose closed form is zero (collapsed) over ({axes[0]}, {axes[1]}), "
               f"log axes" + (f", {others}" if others else "") + f", data of the sweep's instance (theta = "
               f"{', '.join(f'{t:.3g}' for t in _theta(theorem, inst))}).  White lines: a collapse threshold, "
               f"where one more index collapses; look for bands of constant count, one index more in each.")
    return data, Figure(f"phase_{name}", fig, caption)


def _theta(theorem, inst) -> list[float]:
    first = next(iter(per_index_inputs(theorem, group_by_dims(theorem, [inst])[0]).values()))
    return first[0].tolist()


def phase_diagrams(settings: ReportSettings) -> Section:
    done, failed = per_theorem(_phase_one, settings, profile(settings.profile))
    rows, figures, data = [], [], []
    for name, d, fig in done:
        data.append(d)
        if fig is None:
            rows.append(f"| {name} | - | {why_missing(d)} |")
            continue
        figures.append(fig)
        rows.append(f"| {name} | {', '.join(d['axes'])} | "
                    + "; ".join(f"{'/'.join(p['quantities'])}: {p['collapsed_counts']}" for p in d["panels"]) + " |")
    md = ("Collapse phase diagrams from the closed forms: how many latent indices collapse (closed form = 0) as two "
          "hyperparameters vary.  Panels whose counts coincide (e.g. omega and lambda) are merged.\n\n"
          "| theorem | axes | collapsed counts seen |\n|---|---|---|\n" + "\n".join(rows))
    return Section("phase_diagrams", "Collapse phase diagrams", md, {"theorems": data}, figures, ok=not failed)
