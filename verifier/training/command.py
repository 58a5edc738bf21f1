"""``verifier train``: run the training experiments, print their tables (or JSON), save the plots.

Exit codes: 0 every measured count agrees with its prediction, 1 one disagrees, 2 usage or data error.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import UsageError
from .experiments import EXPERIMENTS, PROFILES, SIZES, RunSettings
from .report import run_all


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train the linear VAE / CVAE / MHVAE on real data and compare with the theory")
    p.add_argument("--experiment", choices=EXPERIMENTS + ("all",), default="all")
    p.add_argument("--data", default="digits", help="'digits' (scikit-learn's 8x8 digits), 'mnist' or "
                   "'mnist:key=value,...' (5000 MNIST images; keys scale, centre, quadrant, orientation, images) "
                   "or a .npz / .csv file")
    sizes = "; ".join(f"{profile}: " + ", ".join(f"{name} {e} epochs at batch {b}" for name, (e, b) in per.items())
                      for profile, per in SIZES.items())
    p.add_argument("--profile", choices=PROFILES, default="quick",
                   help=f"default epochs and batch size per experiment ({sizes}; on MNIST its own sizes, and "
                        f"'paper': the paper's latent sizes, d1 = 64)")
    p.add_argument("--epochs", type=int, help="training epochs for every experiment (default: the profile's)")
    p.add_argument("--batch-size", type=int, help="minibatch size for every experiment (default: the profile's)")
    p.add_argument("--lr", type=float, default=RunSettings.lr, help="Adam's initial learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, batches and samples")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--out", help="folder for the plots (PNG) and results.json")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args) -> int:
    from ..pipeline import resolve_device
    settings = RunSettings(data=args.data, profile=args.profile, epochs=args.epochs, seed=args.seed, lr=args.lr,
                           batch_size=args.batch_size, device=str(resolve_device(args.device)))
    names = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    resolved = {n: settings.for_experiment(n) for n in names}
    for r in resolved.values():             # validates epochs, batch size and learning rate before any training
        r.train_settings()
    if args.out:                            # an unusable --out is reported before training, not after
        _check_out_folder(Path(args.out))
    import matplotlib
    matplotlib.use("Agg")
    results = run_all(names, settings)
    payload = {"settings": {**settings.__dict__, "per_experiment": {
                   n: {"epochs": r.epochs, "batch_size": r.batch_size} for n, r in resolved.items()}},
               "experiments": {r.name: {"title": r.title, "ok": r.ok, "data": r.data} for r in results}}
    if args.out:
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {args.out!r}: cannot create the folder ({exc})") from None
        for r in results:
            for stem, fig, _ in r.figures:
                fig.savefig(out / f"{stem}.png", dpi=120)
        (out / "results.json").write_text(json.dumps(payload, indent=2, default=str))
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        for r in results:
            print(f"## {r.title}  [{'agrees' if r.ok else 'DISAGREES'}]\n\n{r.markdown}\n")
        if args.out:
            print(f"plots and results.json written to {args.out}", file=sys.stderr)
    return 0 if all(r.ok for r in results) else 1


def _check_out_folder(out: Path) -> None:
    """--out: create the folder and prove it writable now, so that a run does not end in a late error."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".verifier-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {str(out)!r}: cannot write there ({exc.strerror or exc})") from None
