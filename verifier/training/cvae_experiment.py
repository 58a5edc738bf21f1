"""The linear CVAE on real data (Fig. 6a, Fig. 8 in kind): the quadrant task, beta swept, the KL per
latent dimension against Theorem 2's optimum and the collapse points it computes from the data."""
from __future__ import annotations

import numpy as np

from . import cvae_dma, mnist
from . import sources as data_mod
from .models import LinearCVAE
from .predict import available, closed_forms_at, expression_at, predict_over
from .run_settings import ExperimentResult, RunSettings
from .sweeps import (
    DMA_CHECKPOINTS, SWEEP_EPSILON, collapse_intervals, dma_figure, instance_for, intervals_markdown, judged_values,
    mean_kl_per_dim, predicted_sweep, sweep_comparison, sweep_figure, sweep_grid, sweep_markdown, train_sweep,
)

CVAE_LATENT = 8
CVAE_CURVE_POINTS = 40     # the predicted KL curve drawn through the sweep (one prediction per point)
CVAE_RANGE = (0.02, 20.0)
CVAE_VALUES = {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0}


def cvae_predicted_kl(theorem, ds, d1: int, values: dict, grid) -> np.ndarray:
    """Mean KL(q(z_i|x,y) || p(z_i)) per latent dimension at the claimed optimum, for each beta of
    ``grid``: (K, d1), sorted non-increasingly.  The Gaussian KL with the optimum's variance
    Sigma*_ii and the encoder mean's second moment E[mu mu^T]_ii, both evaluated from the spec
    (``theorems.cvae.MEAN_SECOND_MOMENT`` at its V1*, V2*); nothing about Theorem 2 is retyped."""
    from theorems.cvae import MEAN_SECOND_MOMENT
    out = []
    base = instance_for(theorem, {"d1": d1}, values, ds)
    for pred in predict_over(theorem, base, "beta", np.asarray(grid, dtype=np.float64)):
        second = np.diag(expression_at(pred, MEAN_SECOND_MOMENT, pred.optimum))
        ratio = np.diag(pred.optimum["Sigma"]) / pred.hyper["eta_enc"] ** 2
        kl = 0.5 * (ratio + second / pred.hyper["eta_enc"] ** 2 - 1 - np.log(ratio))
        out.append(np.sort(np.maximum(kl, 0.0))[::-1])          # rounding can leave -1e-17 at a collapsed index
    return np.array(out)


def cvae_epsilon(predicted_kl: np.ndarray, judged: np.ndarray) -> float:
    """The KL below which a dimension counts as collapsed: half the smallest KL an active dimension
    keeps at the optimum, over the judged betas (as the VAE experiment's epsilon).  A collapsed
    dimension's KL tends to 0 and an active one's to its prediction, so epsilon splits the two with
    equal room for the finite-training error on each side; the margin keeps it away from 0 (within
    5% of its collapse point a dimension keeps KL of about log(1.05)/2 = 0.024 in Theorem 2)."""
    active = [k[k > 0].min() for k, j in zip(predicted_kl, judged) if j and (k > 0).any()]
    return 0.5 * float(min(active)) if active else SWEEP_EPSILON


def cvae(settings: RunSettings) -> ExperimentResult:
    """Fig. 6a in kind: a linear CVAE (learnable Sigma) on the quadrant task, beta swept; Theorem 2
    says latent dimension i carries KL exactly while beta < theta_i(E) / eta_dec^2."""
    settings = settings.for_experiment("cvae")
    ds = data_mod.load(settings.data, "cvae")
    on_mnist = mnist.is_mnist(settings.data)
    values = mnist.PAPER_CVAE_VALUES if on_mnist else CVAE_VALUES
    d1 = min(mnist.LATENT[settings.profile]["cvae"] if on_mnist else CVAE_LATENT, ds.y.shape[1])
    points, info = predicted_sweep("theorem2", {"d1": d1}, values, "beta", ds, *CVAE_RANGE)
    grid = sweep_grid(points, *CVAE_RANGE)
    predicted_kl, epsilon, tracker, dma = None, SWEEP_EPSILON, None, None
    if points is not None:
        predicted_kl = cvae_predicted_kl(available("theorem2"), ds, d1, values, grid)
        epsilon = cvae_epsilon(predicted_kl, judged_values(grid, points))
        tracker, dma = cvae_dma.tracker(closed_forms_at(available("theorem2"), info, "beta", grid), d1,
                                        settings.epochs, DMA_CHECKPOINTS)
    model = LinearCVAE(ds.x.shape[1], ds.y.shape[1], d1, beta=grid, K=len(grid), seed=settings.seed)
    arrays = (ds.x, ds.y)
    kl_mean, early, measured, result = train_sweep(
        model, arrays, settings, lambda m: (mean_kl_per_dim(m, arrays) > epsilon).sum(-1), on_epoch=tracker)
    settled = early == measured
    predicted, agrees = sweep_comparison(grid, measured, points, settled)
    kl_error = None if predicted_kl is None else np.abs(np.sort(kl_mean, -1)[:, ::-1] - predicted_kl).max(-1)
    intervals = [] if points is None else collapse_intervals(grid, measured, points, judged_values(grid, points) & settled)
    if agrees is not None and intervals:
        agrees = agrees and all(r["agrees"] for r in intervals)
    reason = info if points is None else ""
    header = (f"Data: {ds.description} (N = {ds.n}, D0 = {ds.x.shape[1]}, D2 = {ds.y.shape[1]}); d1 = {d1}, "
              f"eta_enc = eta_dec = 1, learnable Sigma; {len(grid)} values of beta trained side by side, "
              f"{settings.epochs} epochs of Adam (lr {settings.lr}, cosine decay, batch {settings.batch_size}), "
              f"seed {settings.seed}. A dimension counts as active when its mean KL exceeds epsilon = {epsilon:.3g}"
              + ("" if predicted_kl is None else
                 ", half the smallest KL an active dimension keeps at the optimum over the judged values of beta "
                 "(the predicted KL per dimension is Theorem 2's optimum's: the Gaussian KL with Sigma*_ii and "
                 "the encoder mean's second moment at V1*, V2*)") + ".")
    curve = None
    if predicted_kl is not None:            # the prediction on a finer grid, through every collapse point
        beta_curve = np.unique(np.concatenate([np.geomspace(grid[0], grid[-1], CVAE_CURVE_POINTS),
                                               points[(points > grid[0]) & (points < grid[-1])]]))
        curve = (beta_curve, cvae_predicted_kl(available("theorem2"), ds, d1, values, beta_curve))
    fig = sweep_figure("training_cvae_kl_beta", "Linear CVAE, quadrant task", "beta",
                        [("learnable Sigma", grid, kl_mean)], points,
                        "Linear CVAE: measured KL per latent dimension against beta (Fig. 6a in kind; dots) and "
                        "Theorem 2's optimum's (dashed); dotted lines: the collapse points Theorem 2 computes "
                        "from the data; grey: epsilon.", epsilon=epsilon, predicted_kl=curve)
    data = {"d1": d1, "grid": grid.tolist(), "kl_per_dim": kl_mean.tolist(), "measured_active": measured.tolist(),
            "predicted_collapse_points": None if points is None else points.tolist(),
            "predicted_active": None if predicted is None else predicted.tolist(),
            "predicted_kl_per_dim": None if predicted_kl is None else predicted_kl.tolist(),
            "max_kl_error": None if kl_error is None else kl_error.tolist(),
            "collapse_intervals": intervals, "agrees": agrees, "settled": settled.tolist(),
            "missing_prediction": reason or None, "train_seconds": result.seconds, "epsilon": epsilon,
            "epochs": settings.epochs, "batch_size": settings.batch_size, "dma_trace": dma, **values}
    markdown = sweep_markdown(header, grid, measured, predicted, agrees, reason, points,
                               f"dimensions with mean KL > {epsilon:.3g}", settled, kl_error)
    if intervals:
        markdown += "\n" + intervals_markdown(intervals, "beta")
    figures = [fig]
    if dma is not None:
        judged = judged_values(grid, points)
        figures.append(dma_figure({"linear CVAE (Theorem 2)": dma}, [judged], stem="training_cvae_dma",
                                   caption="Linear CVAE: D_MA between the trained omega (singular values of U1) and "
                                           "sigma (encoder std) and Theorem 2's omega*, sigma' over training (Fig. 8 "
                                           "in kind): the median over the judged values of beta, their range shaded."))
        markdown += "\n" + cvae_dma.markdown(dma, grid, judged)
    return ExperimentResult("cvae", "Linear CVAE on real data: KL against beta", markdown, data, figures,
                            agrees is not False)
