"""Hyperparameter sweeps (Figs. 6, 12, 14 in kind): K models trained side by side at swept values, the
closed forms' predicted collapse points, which values are judged_values, and the tables and figures of a sweep.

The CVAE (``cvae_experiment``) and MHVAE (``mhvae_experiment``) experiments are built from these parts.
"""
from __future__ import annotations

import numpy as np
import torch

from ..instances import Instance
from .predict import available, collapse_point, predict
from .run_settings import RunSettings, as_numpy
from .train import train

SWEEP_EPSILON = 1e-3    # KL below which a swept dimension counts as collapsed (see sweep_markdown)
SWEEP_POINTS = 12


def instance_for(theorem, latent: dict, values: dict, ds) -> Instance:
    """An instance of ``theorem`` on data ``ds``, filling the model's latent dimensions, hyperparameters
    and fixed vectors by name from ``latent`` and ``values`` (a fixed vector ``sigma1`` is the
    isotropic std ``values['sigma1']`` repeated)."""
    m = theorem.model
    lat = {str(d): latent[str(d)] for d in m.latent_dims}
    hyper = {h.symbol.name: float(values[h.symbol.name]) for h in m.hyperparameters}
    vectors = {v.name: (float(values[v.name]),) * lat[str(v.length)] for v in m.fixed_vectors}
    return Instance(lat, hyper, vectors, X=ds.x, Y=ds.y)


def predicted_sweep(name: str, latent: dict, values: dict, swept: str, ds, lo: float, hi: float):
    """Per-dimension collapse points of the closed form ``omega`` in the swept hyperparameter, from
    the spec ``name``; (None, reason) when the spec is not part of the project or does not fit."""
    from ..errors import VerifierError
    theorem = available(name)
    if theorem is None:
        return None, f"the spec {name} is not available (not registered, or its module does not import yet), so no closed-form prediction is made"
    try:
        pred = predict(theorem, instance_for(theorem, latent, values, ds))
        if "omega" not in pred.closed:
            return None, f"{name} has no closed form named omega (it has {sorted(pred.closed)})"
        return collapse_point(theorem, pred, swept, "omega", lo, hi), pred
    except (VerifierError, KeyError) as exc:
        return None, f"{name} could not be evaluated on this data: {exc}"


def sweep_grid(points, lo: float, hi: float) -> np.ndarray:
    """Sweep values: the geometric midpoints between consecutive predicted collapse points (where the
    predicted count is least ambiguous) plus one below and above; a log grid without a prediction."""
    if points is None:
        return np.geomspace(lo, hi, SWEEP_POINTS)
    t = np.sort(points[np.isfinite(points)])
    t = t[(t > lo) & (t < hi)]
    if len(t) == 0:
        return np.geomspace(lo, hi, SWEEP_POINTS)
    inner = np.sqrt(t[1:] * t[:-1])
    return np.unique(np.concatenate([[t[0] / 1.5], inner, [t[-1] * 1.5]]))


# Sweep values closer than this (relatively) to a predicted collapse point are shown but not judged:
# there the collapsing mode's restoring curvature is proportional to the distance to its threshold,
# so a finite run has not converged.  Measured on the digits MHVAE sweep: at 300 epochs a value 3.6%
# from a threshold still disagreed, at 1200 epochs it agreed and one 2.2% away did not.
SWEEP_MARGIN = 0.05


def judged_values(grid, points) -> np.ndarray:
    finite = points[np.isfinite(points)]
    if len(finite) == 0:
        return np.ones(len(grid), dtype=bool)
    return np.min(np.abs(grid[:, None] / finite[None, :] - 1), axis=1) >= SWEEP_MARGIN


def sweep_comparison(grid, measured, points, settled):
    """Measured active dimensions at each grid value against the predicted number of dimensions whose
    collapse point lies above it; agreement is required where the grid value is judged: outside the
    margin and with a measurement that has settled (the same count at 80% of training as at the end).
    ``agrees`` is None (no verdict) when no value could be judged."""
    if points is None:
        return None, None
    finite = np.where(np.isfinite(points), points, -np.inf)
    predicted = (finite[None, :] > grid[:, None]).sum(-1)
    judged = judged_values(grid, points) & settled
    if not judged.any():
        return predicted, None
    return predicted, bool(np.all((measured == predicted)[judged]))


def collapse_intervals(grid, measured, points, judged) -> list[dict]:
    """Measured collapse point of each dimension (sorted by its predicted point, largest first), as the
    interval of judged sweep values it lies in: above the last value where at least j dimensions are
    active, at or below the first larger one where fewer are.  The interval's width is the resolution
    the grid gives; the prediction agrees when it lies inside."""
    g, m = grid[judged], measured[judged]
    rows = []
    for j, point in enumerate(np.sort(points[np.isfinite(points)])[::-1], start=1):
        active_at = g[m >= j]
        lo = float(active_at.max()) if len(active_at) else None
        floor = -np.inf if lo is None else lo
        above = g[(m < j) & (g > floor)]
        hi = float(above.min()) if len(above) else None
        monotone = not np.any((m < j) & (g < floor))
        inside = monotone and (lo is None or lo < point) and (hi is None or point <= hi)
        rows.append({"dimension": j, "predicted": float(point), "measured_above": lo, "measured_at_or_below": hi,
                     "agrees": bool(inside)})
    return rows


def intervals_markdown(rows, name: str) -> str:
    fmt = lambda v, empty: empty if v is None else f"{v:.4g}"
    text = (f"Collapse points, per dimension (sorted by the predicted point): the measured one lies between the "
            f"last judged {name} at which the dimension is active and the next judged {name}, where it is not.\n\n"
            f"| dimension | predicted collapse point | measured: above | measured: at or below | agrees |\n"
            f"|---|---|---|---|---|\n")
    return text + "\n".join(f"| {r['dimension']} | {r['predicted']:.4g} | {fmt(r['measured_above'], '(no judged value)')} | "
                            f"{fmt(r['measured_at_or_below'], '(no judged value)')} | {'yes' if r['agrees'] else '**no**'} |"
                            for r in rows) + "\n"


def sweep_figure(stem, title, xlabel, grid_sets, points, caption, epsilon=SWEEP_EPSILON, predicted_kl=None):
    """KL per dimension (sorted) against the swept value, one panel per (label, grid, KL) set; the
    predicted collapse points as dotted lines and, when given, the predicted KL as dashed ones
    (``predicted_kl``: swept values (M,) and the KL there (M, d))."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(grid_sets), figsize=(5.2 * len(grid_sets), 3.8), squeeze=False)
    for ax, (label, grid, kl_mean) in zip(axes[0], grid_sets):
        sorted_kl = np.sort(kl_mean, axis=-1)[:, ::-1]
        for j in range(sorted_kl.shape[1]):
            ax.plot(grid, np.maximum(sorted_kl[:, j], 1e-7), "o-", ms=3, color=f"C{j}", label=f"dim {j + 1}")
            if predicted_kl is not None:
                ax.plot(predicted_kl[0], np.maximum(predicted_kl[1][:, j], 1e-7), "--", lw=0.9, color=f"C{j}")
        if points is not None:
            for j, t in enumerate(np.sort(points[np.isfinite(points)])[::-1]):
                ax.axvline(t, color=f"C{j}", ls=":", lw=1)
        ax.axhline(epsilon, color="grey", ls="--", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="mean KL per dimension (sorted)",
               title=label, ylim=(1e-7, None))
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return stem, fig, caption


def sweep_markdown(header, grid, measured, predicted, agrees, reason, points, what, settled, kl_error=None):
    near = np.zeros(len(grid), dtype=bool) if points is None else ~judged_values(grid, points)

    def judged(i):
        if near[i]:
            return "no (within margin)"
        return "yes" if settled[i] else "no (still changing: another count at 80% of training)"

    extra = kl_error is not None
    text = header + (f"\n\n| swept value | predicted | measured ({what}) |{' max abs(KL - predicted KL) |' if extra else ''}"
                     f" judged |\n|---|---|---|{'---|' if extra else ''}---|\n")
    text += "\n".join(f"| {g:.4g} | {'-' if predicted is None else predicted[i]} | {measured[i]} | "
                       f"{f'{kl_error[i]:.2g} | ' if extra else ''}{judged(i)} |" for i, g in enumerate(grid)) + "\n\n"
    if predicted is None:
        text += f"No comparison: {reason}.\n"
    else:
        text += (f"The swept values sit midway (geometrically) between consecutive predicted collapse points; "
                 f"values within {SWEEP_MARGIN:.0%} of one are shown but not judged (finite training converges "
                 f"there at a rate proportional to the distance), nor are counts that still changed over the last 20% of the "
                 f"epochs ({int((~settled).sum())} of {len(grid)} here): finite training has not settled them. "
                 f"Counts agree where judged: "
                 f"{'no value could be judged' if agrees is None else 'yes' if agrees else '**no**'}.\n")
    return text


SETTLE_FRACTION = 0.8      # a count is settled when it is the same at this fraction of the epochs as at the end


def mean_kl_per_dim(model, arrays) -> np.ndarray:
    """Mean KL per latent dimension over the data, (K, d)."""
    device = next(model.parameters()).device
    with torch.no_grad():
        tensors = [torch.as_tensor(a, dtype=torch.float64, device=device) for a in arrays]
        return as_numpy(model.kl_per_dim(*tensors)).mean(axis=1)


def train_sweep(model, arrays, settings: RunSettings, count, on_epoch=None):
    """Train the K models; (final mean KL per dimension (K, d), count(model) at SETTLE_FRACTION of the
    epochs, count(model) at the end, training result).  ``count`` maps the model to (K,) integers;
    ``on_epoch(epoch, model)``, when given, also runs after every epoch."""
    check_epoch = max(1, int(SETTLE_FRACTION * settings.epochs))
    early = {}

    def record(epoch, m):
        if epoch == check_epoch:
            early["count"] = count(m)
        if on_epoch is not None:
            on_epoch(epoch, m)

    result = train(model, arrays, settings.train_settings(), on_epoch=record)
    model.cpu()
    final = count(model)
    return mean_kl_per_dim(model, arrays), early.get("count", final), final, result


DMA_CHECKPOINTS = 25     # D_MA is recorded this many times over training (Figs. 12 and 14 in kind)



def dma_figure(traces, judged_sets, stem="training_mhvae_dma", caption=None):
    """Figs. 12 and 14 in kind: per case, the median over the judged beta2 of each matrix's D_MA
    against the epoch, with the range over them shaded."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(traces), figsize=(5.2 * len(traces), 3.6), squeeze=False)
    for ax, (label, trace), judged in zip(axes[0], traces.items(), judged_sets):
        epochs = np.array(trace["epoch"])
        for j, name in enumerate(n for n in trace if n != "epoch"):
            values = np.array(trace[name])[:, judged]            # (checkpoints, judged K)
            ax.plot(epochs, np.median(values, 1), color=f"C{j}", label=name)
            ax.fill_between(epochs, values.min(1), values.max(1), color=f"C{j}", alpha=0.15)
        ax.set(yscale="log", xlabel="epoch", ylabel="D_MA(trained, claimed optimum)", title=label)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return (stem, fig, caption or "Linear MHVAE: D_MA between the singular values of each trained matrix "
            "and the claimed optimum's over training (Figs. 12 and 14 in kind): the median over the judged "
            "values of beta2, and their range shaded.")
