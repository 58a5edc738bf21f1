"""Fig. 8 in kind: D_MA of a trained linear CVAE's omega (singular values of U1) and sigma (encoder
std) against Theorem 2's omega*, sigma' over training, for every model of a beta sweep."""
from __future__ import annotations

import numpy as np

from .measures import d_ma


def tracker(closed: dict, d1: int, epochs: int, checkpoints: int):
    """(on_epoch callback, trace): D_MA of each of the K trained CVAEs' omega (singular values of U1)
    and sigma (encoder std) against Theorem 2's omega*, sigma' at its beta (``closed``: name -> (K, n),
    its first d1 indices are the latents'), recorded ``checkpoints`` times over ``epochs``."""
    every = max(1, epochs // checkpoints)
    trace = {"epoch": [], "omega": [], "sigma": []}
    targets = {"omega": closed["omega"][:, :d1], "sigma": closed["sigma_p"][:, :d1]}

    def record(epoch, m):
        if epoch % every and epoch != epochs:
            return
        trained = {"omega": np.linalg.svd(m.U1.detach().cpu().numpy(), compute_uv=False),
                   "sigma": m.std().detach().cpu().numpy()}
        trace["epoch"].append(epoch)
        for name, target in targets.items():
            trace[name].append([d_ma(trained[name][k], target[k]) for k in range(len(target))])
    return record, trace


def markdown(trace, grid, judged) -> str:
    near_one = int(np.argmin(np.abs(np.log(grid))))
    cells = {n: np.array(trace[n][-1]) for n in ("omega", "sigma")}
    return ("D_MA after training between the trained spectra and Theorem 2's (Fig. 8 in kind; the paper reports "
            "both below 0.08 after 100 epochs on MNIST at beta = 1): "
            + "; ".join(f"{n}: median over the judged beta {np.median(v[judged]):.2g} (max {v.max():.2g}), at beta = "
                        f"{grid[near_one]:.3g} (the swept value nearest 1) {v[near_one]:.2g}" for n, v in cells.items())
            + ".\n")
