"""Wall time of one seeded `verifier check` run locally and on Dask clusters of 1, 2 and 4 worker processes.

    python benchmarks/distributed_scaling.py                         # theorem4, --examples 256, --seed 2
    python benchmarks/distributed_scaling.py --workers 1 2 4 8 --scheduler tcp://host:8786

Each run is the command a user types (a fresh process: start-up, the symbolic checks, the search), with
``--no-cache`` so that nothing comes from the evidence cache; ``--scheduler local:N`` starts a LocalCluster of
N single-threaded workers on this machine (its start-up is part of the time), an address uses a cluster of
one's own.  Every run's verdict JSON is compared with the local run's (timings aside): a difference is a
failure, exit 1.  Times and speed-ups go to stdout and to a JSON file (``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path


def timed_check(args: argparse.Namespace, scheduler: str) -> tuple[float, dict, int]:
    command = [sys.executable, "-m", "verifier", "check", args.theorem, "--examples", str(args.examples),
               "--seed", str(args.seed), "--json", "--no-cache", "--scheduler", scheduler]
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode not in (0, 1, 3, 5):
        sys.exit(f"{' '.join(command)} failed (exit {run.returncode}): {run.stderr.strip()[-2000:]}")
    verdicts = json.loads(run.stdout)
    verdicts.pop("elapsed_s")
    return seconds, verdicts, run.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theorem", default="theorem4")
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="LocalCluster sizes")
    parser.add_argument("--scheduler", action="append", default=[], help="also time this scheduler address")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results-distributed-cpu.json"))
    args = parser.parse_args(argv)
    schedulers = ["local"] + [f"local:{n}" for n in args.workers] + args.scheduler
    rows, reference, identical = [], None, True
    for scheduler in schedulers:
        seconds, verdicts, code = timed_check(args, scheduler)
        reference = reference or (seconds, verdicts)
        same = verdicts == reference[1]
        identical &= same
        rows.append({"scheduler": scheduler, "seconds": round(seconds, 2), "exit": code,
                     "speedup_vs_local": round(reference[0] / seconds, 3), "verdicts_identical": same})
        print(f"{scheduler:>24}: {seconds:7.1f} s  {reference[0] / seconds:5.2f}x  exit {code}  "
              f"verdicts {'identical' if same else 'DIFFERENT'}", flush=True)
    result = {"command": f"verifier check {args.theorem} --examples {args.examples} --seed {args.seed} --json "
                         f"--no-cache --scheduler S", "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(),
              "processor": platform.processor() or platform.machine(), "runs": rows}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"written: {args.out}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
