"""The report section "Training on real data": every experiment, its tables and its plots."""
from __future__ import annotations

from threadpoolctl import threadpool_limits

from ..numeric import intra_op_threads
from .experiments import EXPERIMENTS, ExperimentResult, RunSettings, run


def run_all(names, settings: RunSettings) -> list[ExperimentResult]:
    # The models are tiny (tens of rows): one CPU thread is faster than several that synchronise
    # after every small matmul, and it leaves the other cores to the rest of the report.
    # numpy's BLAS likewise: the predictions' eigenproblems (784 x 784 on MNIST) took 100x longer with
    # two threads than with one on two busy cores.
    with intra_op_threads(1, "cpu"), threadpool_limits(1):
        return [run(name, settings) for name in names]


def training_section(settings):
    """Report-section provider (``ReportSettings -> Section``): the digits experiments at the
    profile's sizes (``experiments.SIZES``; "quick": about two minutes on two CPU cores)."""
    from ..report.sections import Figure, Section
    run_settings = RunSettings(profile=settings.profile, seed=settings.seed, device=settings.device)
    results = run_all(EXPERIMENTS, run_settings)
    body = [f"Linear models trained as users train VAEs (torch modules, reparameterised sampling, "
            f"minibatch Adam) on scikit-learn's 8x8 digits, against the closed forms computed from the same "
            f"data's statistics. Profile {settings.profile!r}, seed {settings.seed}, device {settings.device}. "
            f"Rerun one with `verifier train --experiment NAME --profile {settings.profile} "
            f"--seed {settings.seed}`."]
    figures = []
    for r in results:
        body.append(f"### {r.title}\n\n{r.markdown}")
        figures.extend(Figure(stem, fig, caption) for stem, fig, caption in r.figures)
    return Section(key="training", title="Training on real data", markdown="\n\n".join(body),
                   data={r.name: {"ok": r.ok, **r.data} for r in results}, figures=figures,
                   ok=all(r.ok for r in results))
