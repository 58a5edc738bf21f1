"""Throughput, accuracy and memory of the verifier's minimiser against the paper's Adam baseline.

    python benchmarks/run.py --quick            # ~3 minutes on 2 CPU cores
    python benchmarks/run.py                    # the full grid, d up to 16
    python benchmarks/run.py --device cuda      # the same on a GPU
    python benchmarks/run.py --theorem theorem4 --d 2 5 16 --batch 1 64 4096   # a grid of one's own

It first times the path a user takes -- ``verifier check theorem2 --examples 256 --no-symbolic --max-dim 5``
(the Hypothesis search, minimisation, every claim, confirmation, shrinking) -- against the reference check
run in the same process (``--check``; ``--no-check`` leaves it out).

For every registered theorem, instance size d and batch size B it runs the whole pipeline
(instantiate -> minimise from random restarts -> check every claim) on B fresh instances
and records certified instances per second, iterations to the gradient tolerance, the
pooled D_MA of the certified points (mean |singular value - closed form| over every
ClosedFormSpectrum claim) and peak memory.  The baseline -- Adam, lr 0.1, 200 steps,
float32, one instance at a time, as the paper verifies -- runs on instances of the same
size.  A table goes to stdout, everything to a JSON file (``--out``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from draw import NotDrawable, draw_batch, parameter_count  # noqa: E402

from theorems import REGISTRY  # noqa: E402
from verifier.baseline import adam_baseline  # noqa: E402
from verifier.distributed import add_scheduler_option, cluster_for, parse_scheduler  # noqa: E402
from verifier.errors import VerifierError  # noqa: E402
from verifier.loader import load_spec  # noqa: E402
from verifier.numeric import MinimiserSettings, minimise  # noqa: E402
from verifier.pipeline import Pipeline, PipelineSettings, resolve_device  # noqa: E402
from verifier.judge import SKIPPED  # noqa: E402
from verifier.spec import ClosedFormSpectrum  # noqa: E402
from verifier.verdicts import check_theorem  # noqa: E402
import verifier.pipeline as pipeline_module  # noqa: E402

PROFILES = {
    # d: batch sizes.  Batches of 1 show the per-call overhead; the largest the throughput.
    "quick": {"grid": {2: (1, 32), 4: (1, 32), 8: (1, 8)}, "baseline_instances": 2},
    "full": {"grid": {2: (1, 8, 32, 128), 4: (1, 8, 32, 128), 8: (1, 8, 32, 128), 16: (1, 8)},
             "baseline_instances": 4},
}


# A cell whose Hessians (instances x restarts x P^2 float64, about 4 copies in flight) would need more than
# --memory-gib is skipped and says so, rather than swapping the machine to a halt.
HESSIAN_COPIES = 4
REFERENCE_INSTANCES = 10       # the reference check's instances for the check-path ratio (as in the issue)


def hessian_gib(parameters: int, batch: int, restarts: int) -> float:
    return HESSIAN_COPIES * batch * restarts * parameters ** 2 * 8 / 2**30


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def peak_memory(device: str) -> dict:
    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}   # process peak so far
    if device == "cuda":
        out["cuda_max_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def pooled_dma(theorem, result) -> float:
    """Mean |measured - closed form| over every index of every spectrum claim (as the baseline's D_MA).

    Instances at a case boundary (spectrum outcome SKIPPED) are left out: their optimum is
    degenerate, fixed by float64 only to ~1e-4, and the verifier does not compare values there.
    """
    errors = []
    for claim in theorem.claims:
        if isinstance(claim, ClosedFormSpectrum):
            outcome = result.outcomes[claim.name]
            metrics = outcome.metrics
            if "claimed" in metrics and outcome.status != SKIPPED:
                errors.extend(abs(m - c) for m, c in zip(metrics["measured"], metrics["claimed"]))
    return float(np.mean(errors)) if errors else math.nan


def bench_verifier(theorem, d: int, size: int, seed: int, device: str, restarts: int) -> dict:
    instances = draw_batch(theorem, d, size, seed=seed)
    settings = PipelineSettings(minimiser=MinimiserSettings(restarts=restarts, seed=seed, device=device),
                                device=device)
    pipeline = Pipeline(theorem, settings)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    minimiser_seconds = []

    def timed_minimise(*args, **kwargs):          # the minimiser's share of the pipeline's CPU time
        start = time.process_time()
        out = minimise(*args, **kwargs)
        if device == "cuda":
            torch.cuda.synchronize()
        minimiser_seconds.append(time.process_time() - start)
        return out

    start, cpu_start = time.perf_counter(), time.process_time()
    pipeline_module.minimise = timed_minimise
    try:
        results = pipeline.run(instances)
    finally:
        pipeline_module.minimise = minimise
    if device == "cuda":
        torch.cuda.synchronize()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    certified = [r for r in results if r.minimiser["certified"]]
    reached = [r.minimiser["tolerance_reached_at"] for r in results if r.minimiser["tolerance_reached_at"] >= 0]
    dma = [pooled_dma(theorem, r) for r in certified]
    dma = [x for x in dma if math.isfinite(x)]
    return {"d": d, "batch": size, "parameters": parameter_count(theorem, instances[0]), "restarts": restarts,
            "instances": len(results), "certified": len(certified), "seconds": seconds,
            "certified_per_s": len(certified) / seconds, "cpu_seconds": cpu_seconds,
            "certified_per_cpu_s": len(certified) / cpu_seconds, "minimiser_cpu_seconds": sum(minimiser_seconds),
            "minimiser_certified_per_cpu_s": len(certified) / sum(minimiser_seconds),
            "iterations_to_tolerance_median": statistics.median(reached) if reached else None,
            "iterations_to_tolerance_max": max(reached) if reached else None,
            "iterations_max": max(r.minimiser["iterations"] for r in results),
            "dma_median": statistics.median(dma) if dma else None, "dma_max": max(dma) if dma else None,
            **peak_memory(device)}


def bench_baseline(theorem, d: int, count: int, seed: int, device: str) -> dict:
    instances = draw_batch(theorem, d, count, seed=seed + 1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)       # the minimiser's own CPU setting: tiny tensors, no intra-op threads
    cpu_start = time.process_time()
    try:
        run = adam_baseline(theorem, instances, steps=200, lr=0.1, dtype=torch.float32, device=device, seed=seed,
                            record_every=10)
    finally:
        torch.set_num_threads(threads)
    cpu_seconds = time.process_time() - cpu_start      # includes instantiation and D_MA records, as the pipeline's
    final = run.dma[-1]
    reached = []
    for j in range(len(instances)):
        below = np.nonzero(run.dma[:, j] <= 1e-5)[0]
        reached.append(run.steps[below[0]] if below.size else None)
    return {"d": d, "instances": len(instances), "seconds": run.seconds,
            "instances_per_s": len(instances) / run.seconds, "cpu_seconds": cpu_seconds,
            "instances_per_cpu_s": len(instances) / cpu_seconds,
            "dma_median": float(np.median(final)), "dma_max": float(np.max(final)),
            "steps_to_dma_1e-5": reached}


def bench_check(name: str, examples: int, max_dim: int, seed: int, device: str, restarts: int,
                cluster=None) -> dict:
    """`verifier check NAME --examples E --no-symbolic --max-dim D` in this process (or with its instances on a
    Dask ``cluster``'s workers, whose CPU time this process does not see: then compare wall seconds), beside the
    reference check (Adam, lr 0.1, 200 steps, float32, one instance at a time) at d = D; rates per CPU-second."""
    theorem = load_spec(name)
    base = bench_baseline(theorem, max_dim, REFERENCE_INSTANCES, seed, device)
    settings = PipelineSettings(minimiser=MinimiserSettings(restarts=restarts, seed=seed, device=device),
                                device=device)
    pipeline = Pipeline(theorem, settings, remote=cluster.runner(theorem, name) if cluster is not None else None)
    start, cpu_start = time.perf_counter(), time.process_time()
    verdict = check_theorem(theorem, instances=examples, max_dim=max_dim, seed=seed, settings=settings,
                            symbolic=False, pipeline=pipeline)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    results = pipeline.results()
    dma = [x for x in (pooled_dma(theorem, r) for r in results if r.minimiser["certified"]) if math.isfinite(x)]
    rate = len(results) / cpu_seconds
    return {"theorem": name, "examples": examples, "max_dim": max_dim, "status": str(verdict.status),
            "instances": len(results), "certified": sum(r.minimiser["certified"] for r in results),
            "seconds": seconds, "cpu_seconds": cpu_seconds, "instances_per_cpu_s": rate,
            "dma_max": max(dma) if dma else None, "reference": base,
            "ran_on": cluster.describe() if cluster is not None else "this process",
            "ratio_vs_reference": rate / base["instances_per_cpu_s"], **peak_memory(device)}


def table(rows: list[list], header: list[str]) -> str:
    cells = [header] + [[c if isinstance(c, str) else (f"{c:.3g}" if isinstance(c, float) else str(c))
                         for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small grid (d <= 8, ~3 minutes on 2 cores)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--restarts", type=int, default=MinimiserSettings().restarts)
    parser.add_argument("--theorem", action="append", help="a registered theorem (default: all)")
    parser.add_argument("--max-d", type=int, default=None, help="leave out instance sizes above this d")
    parser.add_argument("--d", type=int, nargs="+", default=None, help="instance sizes (default: the profile's)")
    parser.add_argument("--batch", type=int, nargs="+", default=None, help="batch sizes (default: the profile's)")
    parser.add_argument("--memory-gib", type=float, default=16.0,
                        help="skip a cell whose Hessians would need more than this (default 16)")
    parser.add_argument("--check", default="theorem2", help="the theorem whose check path is timed (default theorem2)")
    parser.add_argument("--check-examples", type=int, default=256)
    parser.add_argument("--check-max-dim", type=int, default=5)
    parser.add_argument("--no-check", action="store_true", help="leave out the check-path timing")
    add_scheduler_option(parser)
    parser.add_argument("--out", default=None, help="JSON output (default benchmarks/results-<profile>-<device>.json)")
    args = parser.parse_args(argv)
    try:
        device = resolve_device(args.device)
        names = args.theorem or sorted(REGISTRY)
        unknown = [n for n in names if n not in REGISTRY]
        if unknown:
            raise VerifierError(f"unknown theorem(s) {unknown}; registered: {sorted(REGISTRY)}")
        if not args.no_check and args.check not in REGISTRY:
            raise VerifierError(f"--check {args.check}: not a registered theorem; registered: {sorted(REGISTRY)}")
        parse_scheduler(args.scheduler)
        if any(n < 1 for n in (args.d or []) + (args.batch or []) + [args.check_examples, args.check_max_dim]):
            raise VerifierError("--d, --batch, --check-examples and --check-max-dim take integers >= 1")
    except VerifierError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    profile = "quick" if args.quick else "full"
    grid = dict(PROFILES[profile]["grid"])
    if args.d or args.batch:
        grid = {d: tuple(args.batch or grid.get(d, (1, 8))) for d in (args.d or grid)}
    grid = {d: sizes for d, sizes in grid.items() if args.max_d is None or d <= args.max_d}
    out_path = Path(args.out or Path(__file__).resolve().parent / f"results-{profile}-{device}.json")
    report = {"profile": profile, "device": device, "seed": args.seed, "machine": machine(),
              "command": "python " + " ".join([sys.argv[0]] + (sys.argv[1:] if argv is None else list(argv))),
              "theorems": {}}
    report["load_average_at_start"] = os.getloadavg()
    if not args.no_check:
        with cluster_for(args.scheduler) as cluster:      # the check path's instances; the grid runs here
            check = report["check_path"] = bench_check(args.check, args.check_examples, args.check_max_dim,
                                                       args.seed, device, args.restarts, cluster)
        ref = check["reference"]
        print(f"check path: verifier check {args.check} --examples {args.check_examples} --no-symbolic --max-dim "
              f"{args.check_max_dim}: {check['instances']} instances ({check['certified']} certified, D_MA max "
              f"{check['dma_max']}) in {check['cpu_seconds']:.1f} CPU-s = {check['instances_per_cpu_s']:.3g}/CPU-s; "
              f"reference check (Adam, lr 0.1, 200 steps, float32, one at a time, d = {args.check_max_dim}) "
              f"{ref['instances']} in {ref['cpu_seconds']:.1f} CPU-s = {ref['instances_per_cpu_s']:.3g}/CPU-s: "
              f"ratio {check['ratio_vs_reference']:.3g}x", flush=True)
        out_path.write_text(json.dumps(report, indent=1))
    rows = []
    for name in names:
        try:
            theorem = load_spec(name)
        except VerifierError as exc:
            print(f"{name}: skipped, the spec does not load: {exc}", file=sys.stderr)
            report["theorems"][name] = {"error": str(exc)}
            continue
        entry = {"verifier": [], "baseline": []}
        for d, sizes in grid.items():
            try:
                base = bench_baseline(theorem, d, PROFILES[profile]["baseline_instances"], args.seed, device)
            except NotDrawable as exc:
                print(f"{name} d={d}: skipped, {exc}", file=sys.stderr)
                entry.setdefault("skipped", []).append(str(exc))
                continue
            entry["baseline"].append(base)
            for size in sizes:
                need = hessian_gib(parameter_count(theorem, draw_batch(theorem, d, 1, seed=args.seed)[0]), size,
                                   args.restarts)
                if need > args.memory_gib:
                    print(f"{name} d={d} B={size}: skipped, its Hessians need ~{need:.1f} GiB > --memory-gib "
                          f"{args.memory_gib:g}", file=sys.stderr)
                    entry.setdefault("skipped", []).append(f"d={d} B={size}: ~{need:.1f} GiB")
                    continue
                try:
                    v = bench_verifier(theorem, d, size, args.seed, device, args.restarts)
                except NotDrawable as exc:
                    print(f"{name} d={d} B={size}: skipped, {exc}", file=sys.stderr)
                    entry.setdefault("skipped", []).append(f"d={d} B={size}: {exc}")
                    continue
                # Per CPU-second: both run on one thread, and on a shared machine wall time
                # measures the neighbours as much as the code.
                v["speedup_vs_baseline"] = v["certified_per_cpu_s"] / base["instances_per_cpu_s"]
                v["minimiser_speedup_vs_baseline"] = v["minimiser_certified_per_cpu_s"] / base["instances_per_cpu_s"]
                entry["verifier"].append(v)
                rows.append([name, d, v["parameters"], size, f"{v['certified']}/{v['instances']}",
                             v["certified_per_cpu_s"], v["minimiser_certified_per_cpu_s"],
                             v["iterations_to_tolerance_median"], v["dma_max"],
                             base["instances_per_cpu_s"], base["dma_median"], v["speedup_vs_baseline"],
                             v["minimiser_speedup_vs_baseline"], v["peak_rss_mib"]])
                print(f"{name} d={d} B={size}: {v['certified_per_cpu_s']:.3g} certified/cpu-s, "
                      f"{v['speedup_vs_baseline']:.3g}x Adam", file=sys.stderr, flush=True)
                report["theorems"][name] = entry
                out_path.write_text(json.dumps(report, indent=1))    # a partial run still leaves its rows
        report["theorems"][name] = entry
    print(table(rows, ["theorem", "d", "params", "B", "certified", "cert/cpu-s", "minimiser cert/cpu-s",
                       "it_to_tol", "D_MA max", "adam inst/cpu-s", "adam D_MA", "speedup", "minimiser speedup",
                       "RSS MiB"]))
    report["load_average_at_end"] = os.getloadavg()
    out_path.write_text(json.dumps(report, indent=1))
    print(f"\nwritten: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
