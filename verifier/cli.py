"""The ``verifier`` command: list, check and solve.

Exit codes: 0 every claim verified (or NOT APPLICABLE: no instance met its premise) or refuted only as a
documented erratum (a printed claim whose correction is verified), 1 anything else refuted, 3 inconclusive,
2 usage or spec error, 4 internal error (a bug in the verifier itself; --debug shows its traceback),
5 unbounded (an instance outside the model's validity domain, where the objective has no minimum).
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

from .distributed import ClusterLost, add_scheduler_option, cluster_for, stderr_progress
from .errors import InstanceError, UsageError, VerifierError

# torch and sympy are imported by the commands that need them, not here: `verifier list` and `--help` start in
# a fraction of a second (tests/test_startup.py checks that neither is imported).

USAGE_ERROR = 2
INTERNAL_ERROR = 4                # an unexpected exception in the verifier: never 1, which means REFUTED
MAX_EXAMPLES = 100_000            # instances per claim; a search this large already takes hours
MAX_INSTANCE_BYTES = 16 * 2**20    # an --instance file; bounded like its data (validation.MAX_SAMPLES rows)


# The commands whose options are defined beside their (torch-importing) code: their parser is built only when
# one of them is the command, and otherwise they appear in `verifier --help` by this line alone.
_HEAVY_COMMANDS = {
    "train": ("verifier.training.command", "train the linear VAE / CVAE / MHVAE on real data and compare with "
                                           "the theory"),
    "tables": ("verifier.training.tables", "the paper's printed data tables (App. A.2) recomputed from MNIST"),
}


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; ``command``, the command given, decides which heavy parsers are built."""
    p = argparse.ArgumentParser(prog="verifier", description=__doc__.splitlines()[0], epilog=EXIT_CODES_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument("--debug", action="store_true", help="on an internal error, print its traceback")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the registered theorems")

    check = sub.add_parser("check", help="verify every claim of a theorem")
    check.add_argument("spec", help="a registered theorem name, 'all', a spec module path (.py), "
                                    "'proof:NAME' (C, D.1, D.2, E, F.1, F.2) or 'proofs'")
    check.add_argument("--examples", type=int, default=64, metavar="N", help=(
        "instances to aim at per claim (default 64): drawn as N / ceil(batch / 2) Hypothesis lists of 1..batch "
        "instances, so each claim judges about N, repeats included, and the output prints how many; not exactly "
        "N, because Hypothesis chooses the list sizes so that it can shrink a refuting batch to one instance"))
    check.add_argument("--batch", type=int, default=8, help="largest batch of instances per tensor op")
    check.add_argument("--max-dim", type=int, default=4, help="largest latent / data dimension drawn")
    check.add_argument("--restarts", type=int, default=4, help="random restarts per instance")
    check.add_argument("--seed", type=int, default=0, help="seed of every random choice (printed)")
    check.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    check.add_argument("--claim", action="append", help="check only this claim (repeatable)")
    check.add_argument("--instance", help="check one instance: a JSON file or an inline JSON object")
    check.add_argument("--no-symbolic", action="store_true", help="skip the sympy checks of the closed forms")
    check.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    check.add_argument("--no-cache", action="store_true",
                       help="compute the symbolic evidence and every minimisation afresh, neither reading nor "
                            "writing the evidence cache")
    add_scheduler_option(check)

    solve = sub.add_parser("solve", help="claimed closed form and minimiser for one instance, as JSON")
    solve.add_argument("spec")
    solve.add_argument("--instance", required=True, help="a JSON file or an inline JSON object")
    solve.add_argument("--restarts", type=int, default=4)
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")

    for name, (module, help_line) in _HEAVY_COMMANDS.items():
        if name == command:
            importlib.import_module(module).add_parser(sub)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    from .report.command import add_parser as add_report_parser
    add_report_parser(sub)
    add_scheduler_option(sub.choices["report"])
    for command in sub.choices.values():     # --debug after the command too; SUPPRESS keeps the one given first
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="on an internal error, print its traceback")
        command.epilog = command.epilog or EXIT_CODES_HELP
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return p


EXIT_CODES_HELP = """exit codes:
  0  every claim verified (or NOT APPLICABLE), or refuted only as a documented erratum
  1  a claim refuted (a counterexample, replayed), or a report section's check failed
  2  usage or spec error (one line naming the problem and the fix)
  3  inconclusive (the evidence could not settle a claim)
  4  internal error: a bug in the verifier itself (one line; --debug prints the traceback)
  5  unbounded: an instance lies outside the model's validity domain (no minimum there)"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("vae-theorem-verifier")
    except PackageNotFoundError:     # pragma: no cover - run from a source tree without installing
        return "(not installed)"


def read_instance(arg: str):
    """An instance from a JSON file or an inline JSON object, read strictly (verifier.validation)."""
    from .instances import Instance
    text = arg
    if not arg.lstrip().startswith("{"):
        text = _read_instance_file(Path(arg))
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InstanceError(f"--instance is not valid JSON: {exc}") from None
    except RecursionError:
        raise InstanceError("--instance is nested too deeply to be an instance") from None
    return Instance.from_json(obj)


def user_instance(theorem, arg: str):
    """``--instance``: read strictly, checked against the theorem's model and the certifiable range."""
    return read_instance(arg).validate(theorem.model).check_certifiable()


def _reject_constant(token: str):
    raise InstanceError(f"--instance contains {token}, which is not JSON (every number must be finite)")


def _read_instance_file(path: Path) -> str:
    where = f"--instance {str(path)!r}"
    if not path.exists():
        raise UsageError(f"{where}: no such file (give a JSON file or an inline JSON object)")
    if path.is_dir():
        raise UsageError(f"{where} is a directory, not a JSON file")
    if not path.is_file():
        raise UsageError(f"{where} is not a regular file (a device or a pipe); give a JSON file")
    size = path.stat().st_size
    if size > MAX_INSTANCE_BYTES:
        raise UsageError(f"{where} is {size / 2**20:.1f} MiB; at most {MAX_INSTANCE_BYTES // 2**20} MiB is read")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InstanceError(f"{where} is not a text (UTF-8) JSON file") from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot be read ({exc.strerror})") from None


def _settings(args):
    from .pipeline import PipelineSettings, resolve_device
    if args.restarts < 1:
        raise UsageError(f"--restarts={args.restarts} must be >= 1")
    return PipelineSettings.from_options(seed=args.seed, restarts=args.restarts, device=resolve_device(args.device))


def _print_verdict(verdict, out=None) -> None:
    out = out or sys.stdout
    th = verdict.theorem
    print(f"{th.name}: {th.title}  [{th.source}]", file=out)
    drawn = (f"instances asked per claim={verdict.per_claim} (drawn as {verdict.batches} batches of"
             f" Hypothesis-chosen sizes, repeats included: each claim's counts below are what it judged)  distinct instances "
             f"minimised={verdict.instances} (with the premise-directed searches and shrinking)"
             if verdict.per_claim > 1 else f"instances evaluated={verdict.instances}")
    print(f"  seed={verdict.seed}  {drawn}  device={verdict.settings.device}  time={verdict.elapsed:.1f}s", file=out)
    print(f"  tolerances: {verdict.settings.tolerances.describe()}", file=out)
    for c in verdict.claims:
        counts = ", ".join(f"{k.lower()} {v}" for k, v in sorted(c.counts.items()))
        print(f"  {c.status:<14} {c.claim.name:<28} {c.claim.equation:<28} {counts}", file=out)
        print(f"               {c.detail}", file=out)
        if c.counterexample is not None:
            print(f"               counterexample: {json.dumps(c.counterexample.to_json())}", file=out)
            from .verdicts import replay_command
            replay = replay_command(verdict.spec or th.name, c.claim.name, c.counterexample, verdict.settings)
            print(f"               replay: {replay}", file=out)
    print(f"  => {verdict.status}", file=out)


def _command(argv: list[str]) -> str | None:
    """The command in ``argv``: the first word that is no option (the top-level options take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(_command(argv)).parse_args(argv)
    try:
        return _run(args)
    except (VerifierError, ClusterLost) as exc:
        print(f"verifier: error: {_one_line(str(exc))}", file=sys.stderr)
        return USAGE_ERROR
    except Exception as exc:         # noqa: BLE001 - a bug of ours: say so, never as a verdict's exit code
        from .loader import spec_file_error
        if args.debug:
            traceback.print_exc(file=sys.stderr)
        blamed = spec_file_error(exc, args.spec) if isinstance(getattr(args, "spec", None), str) else None
        if blamed is not None:       # raised by code of the user's spec module while it was checked
            print(f"verifier: error: {_one_line(str(blamed))}", file=sys.stderr)
            return USAGE_ERROR
        where = "" if args.debug else "; run again with --debug for the traceback"
        print(f"verifier: internal error: {type(exc).__name__}: {_one_line(str(exc))} (a bug in the verifier, "
              f"not in your input{where})", file=sys.stderr)
        return INTERNAL_ERROR


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def _run(args) -> int:
    if args.command == "list":                 # from the static listing: no spec module (and no sympy) imported
        from theorems import LISTING
        for name, (title, source, claims) in sorted(LISTING.items()):
            print(f"{name:<12} {title}  [{source}]  {claims} claims")
        return 0
    from .allocator import keep_freed_memory
    from .loader import load_spec, registry
    keep_freed_memory()                        # every command below computes: keep the pages it frees
    if args.command == "train":
        from .training.command import run as run_training
        return run_training(args)
    if args.command == "tables":
        from .training.tables import run as run_tables
        return run_tables(args)
    if args.command == "report":               # run everything, then render it
        from .cache import default_cache
        from .report.command import finish, prepare
        from .run_all import StderrProgress, run_all
        request = prepare(args)
        with cluster_for(args.scheduler) as cluster:
            results = run_all(request.settings, command=request.command, progress=StderrProgress(request.started),
                              jobs=args.jobs, cache=default_cache(not args.no_cache), cluster=cluster)
        return finish(results, request)
    if args.command == "check" and (args.spec == "proofs" or args.spec.startswith("proof:")):
        return _check_proofs(args)
    if args.command == "check" and args.spec == "all":
        from .report.status import combine
        with cluster_for(args.scheduler) as cluster:
            return combine([_check(load_spec(name), args, name, cluster) for name in sorted(registry())])
    theorem = load_spec(args.spec)
    if args.command == "check":
        with cluster_for(args.scheduler if not args.instance else "local") as cluster:
            return _check(theorem, args, args.spec, cluster)
    if args.command == "solve":
        from .output import stdout_to_stderr, strict_json
        from .solve import solve
        instance = user_instance(theorem, args.instance)
        settings = _settings(args)
        with stdout_to_stderr():
            result = solve(theorem, instance, settings)
        print(strict_json(result, indent=2))
        from .report.status import exit_status
        return exit_status([claim["class"] for claim in result["claims"].values()])   # as `check` would exit
    raise UsageError(f"unknown command {args.command}")


def _check_proofs(args) -> int:
    """``check proof:D.1`` (one proof) or ``check proofs`` (all): every step, with its verdict."""
    import proofs_check
    names = list(proofs_check.PROOFS) if args.spec == "proofs" else [args.spec.split(":", 1)[1]]
    try:
        results = [(name, proofs_check.run_proof(name, seed=args.seed)) for name in names]
    except proofs_check.UnknownProofError as exc:
        raise UsageError(str(exc)) from None
    from .report.status import ERRATUM, classify_step, exit_status
    classes = [classify_step(r.__dict__) for _, steps in results for _, r in steps]
    if args.json:
        print(json.dumps([{"proof": s.proof, "equation": s.equation, "claim": s.claim, **r.__dict__}
                          for _, steps in results for s, r in steps], indent=2, default=str))
    else:
        for name, steps in results:
            print(f"proof {name}: {len(steps)} steps")
            for s, r in steps:
                print(f"  {r.status:<12} {s.equation:<22} {s.claim[:90]}")
                if r.status != "VERIFIED":
                    print(f"               {r.evidence[:400]}")
                    if r.corrected:
                        print(f"               corrected: {r.corrected}")
    if ERRATUM in classes and not args.json:
        print(f"{classes.count(ERRATUM)} printed step(s) refuted with a verified correction (expected errata; "
              f"exit status 0 unless something else fails)")
    return exit_status(classes)


def _check(theorem, args, spec_name: str, cluster=None) -> int:
    """``check`` of one theorem (``spec_name``: how it was named); ``cluster``: where its instances are
    minimised and judged (verifier.distributed), None in this process."""
    from .pipeline import Pipeline
    from .verdicts import check_instance, check_theorem
    from .validation import MAX_DIMENSION
    if args.examples < 1 or args.batch < 1 or args.max_dim < 1:
        raise UsageError("--examples, --batch and --max-dim must be >= 1")
    if args.examples > MAX_EXAMPLES or args.batch > MAX_EXAMPLES or args.max_dim > MAX_DIMENSION:
        raise UsageError(f"--examples {args.examples}, --batch {args.batch}, --max-dim {args.max_dim}: at most "
                         f"{MAX_EXAMPLES}, {MAX_EXAMPLES} and {MAX_DIMENSION} are supported")
    settings = _settings(args)
    spec = args.spec if args.spec.endswith(".py") else None      # a spec file is replayed from its path
    if args.instance:
        instance = user_instance(theorem, args.instance)
        verdict = check_instance(theorem, instance, settings=settings, claims=args.claim, spec=spec)
    else:
        progress = None if args.json else stderr_progress
        findings, symbolic_source, symbolic_start = [], None, time.perf_counter()
        remote = cluster.runner(theorem, spec_name) if cluster is not None else None
        from .cache import default_cache
        cache = default_cache(not args.no_cache)
        if not args.no_symbolic:
            from .symbolic_cache import symbolic_findings
            if remote is None:
                findings, symbolic_source = symbolic_findings(theorem, args.seed, cache)
            else:                               # on a worker while the searches run
                pending = remote.symbolic_meanwhile(args.seed, cache)
                findings = lambda: pending()[0]
        symbolic_s = time.perf_counter() - symbolic_start
        verdict = check_theorem(theorem, instances=args.examples, batch_size=args.batch, max_dim=args.max_dim,
                                seed=args.seed, settings=settings, claims=args.claim, symbolic=not args.no_symbolic,
                                progress=progress, spec=spec, findings=findings,
                                pipeline=Pipeline(theorem, settings, remote=remote, evidence_cache=cache))
        verdict.elapsed += symbolic_s           # the time printed includes the symbolic checks
        if callable(findings):
            symbolic_source = pending()[1]
    from .report.status import ERRATUM, classify_claims, exit_status
    from .output import strict_json
    verdict_json = json.loads(strict_json(verdict.to_json()))
    if not args.instance:
        verdict_json["symbolic_evidence"] = symbolic_source
    classes = classify_claims(verdict_json["claims"])
    if args.json:
        for claim, cls in zip(verdict_json["claims"], classes):
            claim["class"] = cls
        print(json.dumps(verdict_json, indent=2, allow_nan=False))
    else:
        _print_verdict(verdict)
        if verdict_json.get("symbolic_evidence"):
            print(f"  symbolic evidence: {verdict_json['symbolic_evidence']}")
        if verdict_json.get("minimiser_evidence"):
            print(f"  minimisations: {verdict_json['minimiser_evidence']}")
        for claim, cls in zip(verdict_json["claims"], classes):
            if cls == ERRATUM:
                fix = next(c["claim"] for c in verdict_json["claims"] if c["erratum_of"] == claim["claim"])
                print(f"  erratum: {claim['claim']} is refuted as printed; its correction {fix} is VERIFIED "
                      f"(expected, documented: exit status 0 unless something else fails)")
    return exit_status(classes)


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
