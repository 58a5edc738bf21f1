"""``verifier report``'s command line: its options, the request they make (checked before anything
runs), and, once ``verifier.run_all`` has run everything, the report written as Markdown, HTML and JSON
into one directory.

Progress goes to stderr, one line per theorem / claim / proof / section; stdout gets only the
paths written and the exit status.  The exit status follows ``verifier check`` (status.py).
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .results import Results
from .sections import ReportSettings
from .write import FORMATS, check_writable, parse_formats, write_report

DEFAULT_OUT = "report"


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="check every theorem, proof and report section; write md/html/json",
                       description=__doc__.splitlines()[0])
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output directory, replaced as a whole (default {DEFAULT_OUT}/)")
    p.add_argument("--format", default=",".join(FORMATS), help="comma-separated subset of md,html,json (default all)")
    p.add_argument("--profile", choices=("quick", "thorough"), default="quick",
                   help="quick: a few minutes on 2 CPU cores; thorough: more instances, denser sweeps")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--no-cache", action="store_true",
                   help="compute every result afresh, neither reading nor writing the evidence cache "
                        "(.verifier-cache/, or $VERIFIER_CACHE_DIR)")
    jobs = default_jobs()
    p.add_argument("--jobs", type=_jobs, default=jobs,
                   help="worker processes for the theorems and proofs (default: the CPUs this process may use, "
                        f"here {jobs}); 1 runs everything in this process")


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"--jobs {text!r}: give a whole number of processes, 1 or more")
    return n


def rerun_command(args) -> str:
    """The command line that reruns this report, every option spelled out."""
    return "verifier " + shlex.join(["report", "--out", args.out, "--format", args.format, "--profile", args.profile,
                                     "--seed", str(args.seed), "--device", args.device])


@dataclass(frozen=True)
class ReportRequest:
    """A ``verifier report`` command line, checked before anything runs."""
    out: Path
    formats: tuple[str, ...]
    settings: ReportSettings
    command: str                  # the command line that reruns it
    started: float                # wall clock (time.time()) at the start


def prepare(args) -> ReportRequest:
    """The request of the parsed arguments: a bad --format or an unwritable --out is a UsageError now,
    not after the (long) run."""
    from ..pipeline import resolve_device
    formats = parse_formats(args.format)
    out = Path(args.out)
    check_writable(out)
    settings = ReportSettings(profile=args.profile, seed=args.seed, device=resolve_device(args.device))
    return ReportRequest(out, formats, settings, rerun_command(args), time.time())


def finish(results: Results, request: ReportRequest) -> int:
    """Write the results in the requested formats, print the paths, the exit status and the errata;
    returns the exit status."""
    paths = write_report(results, request.out, request.formats)
    status = results.report["status"]
    for fmt, path in paths.items():
        print(f"{fmt}: {path}")
    errata = results.report["errata"]
    print(f"exit status {status['exit_code']}: {status['meaning']}; {len(errata)} errata "
          f"({time.time() - request.started:.0f} s)")
    for e in errata:
        print(f"  erratum: {e['source']}: {e['name']} ({e['location']})")
    if status["failed_sections"]:
        print(f"  failed sections: {', '.join(status['failed_sections'])}", file=sys.stderr)
    return status["exit_code"]
