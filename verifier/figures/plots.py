"""Matplotlib figures of the report (Agg backend: no display needed)."""
from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402

_GREEK = {"omega": r"\omega", "lambda": r"\lambda", "sigma": r"\sigma", "sigma_p": r"\sigma'", "beta": r"\beta",
          "theta": r"\theta", "eta_dec": r"\eta_{dec}", "eta_enc": r"\eta_{enc}", "beta1": r"\beta_1",
          "beta2": r"\beta_2", "beta3": r"\beta_3", "sigma1": r"\sigma_1", "sigma2": r"\sigma_2"}


def _math(name: str) -> str:
    if name in _GREEK:
        return _GREEK[name]
    stem = name.rstrip("0123456789").rstrip("_")
    if stem != name and stem in _GREEK:
        return f"{_GREEK[stem]}_{{{name[len(stem):]}}}"
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def tex(name: str, index: str = "") -> str:
    """A symbol name as mathtext ("omega1" -> $\\omega_1$), optionally with a second index ("i")."""
    body = _math(name)
    if index:
        body = f"{{{body}}}_{{{index}}}" if "_" not in body else body.replace("_{", "_{" + index + ",", 1)
    return f"${body}$"


@dataclass
class SweepCurve:
    claim: str
    quantity: str
    equation: str
    closed: np.ndarray              # (P, n) descending per row
    measured: np.ndarray            # (Q, n) descending per row, at the coarse points
    thresholds: list = field(default_factory=list)   # (index, hyperparameter value)


PAGE_WIDTH = 11.0        # inches: at the PNG's 110 dpi, the width of the report's page (1200 px)
MAX_COLUMNS = 3
plt.rcParams.update({"font.size": 10, "axes.titlesize": 10.5, "axes.labelsize": 11, "legend.fontsize": 9})


def panel_grid(count: int, height: float = 3.6, columns: int = MAX_COLUMNS):
    """A figure of ``count`` panels laid out for a page: at most ``columns`` per row, rows below."""
    cols = min(count, columns)
    rows = -(-count // cols)
    width = min(PAGE_WIDTH, max(4.0 * cols + 0.8, 7.5))     # wide enough for the figure's title
    fig, axes = plt.subplots(rows, cols, figsize=(width, height * rows + 0.9), squeeze=False)
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    return fig, list(axes.ravel()[:count])


def _same_thresholds(marks) -> list[tuple[float, list[int]]]:
    """(value, indices) with the indices whose thresholds coincide (to 1e-9) under one label."""
    groups: list[tuple[float, list[int]]] = []
    for index, h in sorted(marks, key=lambda m: m[1]):
        if groups and abs(h - groups[-1][0]) <= 1e-9 * h:
            groups[-1][1].append(index)
        else:
            groups.append((h, [index]))
    return groups


def _threshold_label(axis: str, indices: list[int], value: float) -> str:
    return f"{tex(axis)} = {value:.3g} (i = {', '.join(map(str, sorted(indices)))})"


def sweep_figure(theorem: str, title: str, axis: str, grid, coarse, curves: list[SweepCurve], certified) -> plt.Figure:
    fig, axes = panel_grid(len(curves), columns=2)
    colors = plt.get_cmap("tab10")
    ok = np.asarray(certified, bool)
    for ax, c in zip(axes, curves):
        for i in range(c.closed.shape[1]):
            ax.plot(grid, c.closed[:, i], color=colors(i), lw=1.8, label=f"closed form, {i + 1}. largest")
        for i in range(min(c.measured.shape[1], c.closed.shape[1])):
            ax.plot(coarse[ok], c.measured[ok, i], "o", color=colors(i), mec="black", ms=5,
                    label="certified minimiser" if i == 0 else None)
            if (~ok).any():
                ax.plot(coarse[~ok], c.measured[~ok, i], "x", color="red", ms=6,
                        label="minimiser, not certified" if i == 0 else None)
        for h, indices in _same_thresholds(c.thresholds):
            ax.axvline(h, color="0.35", ls=":", lw=1.3)
            ax.text(h, 0.97, " " + _threshold_label(axis, indices, h), transform=ax.get_xaxis_transform(), va="top",
                    ha="left", rotation=90, fontsize=8.5, color="0.2")
        top = max(float(np.nanmax(c.closed)), float(np.nanmax(c.measured)) if c.measured.size else 0.0)
        ax.set_ylim(0, max(1.08 * top, 0.1))          # no offset notation for values that are all ~0
        ax.set_xscale("log")
        ax.set_xlim(grid[0], grid[-1])
        ax.set_xlabel(tex(axis))
        ax.set_ylabel(tex(c.quantity, "i"))
        ax.set_title(f"{c.claim}  {c.equation}")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), frameon=False)
    fig.suptitle(f"{theorem}: {title}", fontsize=11)
    fig.tight_layout(rect=(0, 0.8 / fig.get_figheight(), 1, 1))
    return fig


def phase_figure(theorem: str, title: str, axes_names, grid, panels) -> plt.Figure:
    """One heat map per panel: (quantity names, (len(grid), len(grid)) counts; rows = second axis)."""
    top = max(int(z.max()) for _, z in panels)
    cmap = ListedColormap(plt.get_cmap("viridis")(np.linspace(0, 1, top + 1)))
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
    fig, axes = panel_grid(len(panels), height=3.8, columns=2)
    for ax, (names, counts) in zip(axes, panels):
        mesh = ax.pcolormesh(grid, grid, counts, cmap=cmap, norm=norm, shading="nearest")
        if top > 0:
            ax.contour(grid, grid, counts, levels=np.arange(0.5, top), colors="white", linewidths=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(tex(axes_names[0]))
        ax.set_ylabel(tex(axes_names[1]))
        ax.set_title("collapsed: " + ", ".join(f"{tex(n, 'i')} = 0" for n in names))
        cbar = fig.colorbar(mesh, ax=ax, ticks=range(top + 1))
        cbar.set_label("number of collapsed indices")
    fig.suptitle(f"{theorem}: {title}", fontsize=11)
    fig.tight_layout()
    return fig


def convergence_figure(rows: list[dict]) -> plt.Figure:
    """rows: {theorem, steps, adam (steps, instances), minimiser (instances,), adam_seconds, minimiser_seconds}."""
    fig, axes = panel_grid(len(rows), height=3.3)
    floor = 1e-17          # D_MA = 0 exactly is drawn at the floor of the log axis
    for ax, r in zip(axes, rows):
        adam = np.asarray(r["adam"], dtype=float)
        for j in range(adam.shape[1]):
            ax.plot(r["steps"], np.maximum(adam[:, j], floor), color="tab:blue", alpha=0.35, lw=1)
        ax.plot(r["steps"], np.maximum(np.nanmedian(adam, axis=1), floor), color="tab:blue", lw=2,
                label=f"Adam (median), {r['adam_seconds']:.2f} s")
        best = np.maximum(np.nanmedian(np.asarray(r["minimiser"], float)), floor)
        ax.axhline(best, color="tab:red", lw=2, ls="--", label=f"this minimiser, final, {r['minimiser_seconds']:.2f} s")
        ax.set_yscale("log")
        ax.set_xlabel("Adam step")
        ax.set_ylabel(r"$\mathcal{D}_{MA}$")
        ax.set_title(r["theorem"])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    fig.suptitle("Convergence of the singular values to the closed forms: Adam (lr 0.1, float32) against the "
                 "certified minimiser (float64)", fontsize=11)
    fig.tight_layout()
    return fig
