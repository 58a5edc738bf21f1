"""What a variant check costs: ``verifier check VARIANT.py --examples 32`` as a user runs it.

    python benchmarks/variant_checks.py                       # cold: every registered theorem's variant + the shipped ones
    python benchmarks/variant_checks.py my_variant.py ...     # these spec files instead
    python benchmarks/variant_checks.py --edit-loop           # a formula edited and checked again (the cache warm)
    python benchmarks/variant_checks.py --out results.json

Cold (the default): for every registered theorem it writes a variant -- the theorem's first closed form restated
in an equivalent expanded form (``sp.expand``) -- and times it beside the shipped variants
(``theorems/template_variant.py``, ``theorems/variant_*.py``, ``benchmarks/variants/*.py``), each with
``--no-cache``: start-up, the symbolic checks and every claim's search, nothing reused.

``--edit-loop``: the loop of a theorist who checks a spec, edits a formula and checks again.  For every registered
theorem and shipped variant S, ``verifier check S`` runs first with an empty evidence cache (its own timed row,
``first check``), then the edited S -- its first closed form expanded, under another name, so that its own
symbolic findings are not in the cache -- is timed with that cache: its minimisations and the faces' critical
points are reused where they are unchanged (verifier/minimiser_cache.py), everything else is computed.  Beside
those, every shipped variant that derives from a registered theorem (``from theorems.X import THEOREM as
BASE``: an edit that changes the verdicts) is timed after its base was checked.

Each check runs in a fresh process, and its CPU time is the process's and its children's (the Groebner
worker's) user + system time.  The issue's target: within 10 CPU-seconds each.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from theorems import REGISTRY  # noqa: E402

TARGET_CPU_S = 10.0
VARIANT_TEMPLATE = '''"""{name} with its first closed form ({symbol}*) restated in an equivalent expanded form."""
import sympy as sp

from {module} import THEOREM as BASE

_symbol, _form = BASE.closed_forms[0]
THEOREM = BASE.replace_closed_form(_symbol, sp.expand(_form), name="{name}_expanded")
'''


EDITED_TEMPLATE = '''"""{name} with its first closed form restated in an equivalent expanded form (an edit)."""
import sympy as sp

from verifier.loader import load_spec

BASE = load_spec({path!r})
_symbol, _form = BASE.closed_forms[0]
THEOREM = BASE.replace_closed_form(_symbol, sp.expand(_form), name="{name}_expanded")
'''


def generated_variants(folder: Path) -> list[Path]:
    """One spec file per registered theorem, its first closed form expanded."""
    from verifier.loader import load_spec
    paths = []
    for name, module in REGISTRY.items():
        symbol = load_spec(name).closed_forms[0][0]
        path = folder / f"{name}_expanded.py"
        path.write_text(VARIANT_TEMPLATE.format(name=name, module=module, symbol=symbol))
        paths.append(path)
    return paths


def edited(spec: Path, folder: Path) -> Path:
    """A shipped variant's file with its first closed form expanded (an equivalent edit), in ``folder``."""
    path = folder / f"{spec.stem}_expanded.py"
    path.write_text(EDITED_TEMPLATE.format(name=spec.stem, path=str(spec)))
    return path


def base_of(spec: Path) -> str | None:
    """The registered theorem a variant file derives from (``from theorems.X import THEOREM as BASE``), or None."""
    match = re.search(r"^from (theorems\.\w+) import \(?\s*THEOREM as BASE", spec.read_text(), flags=re.MULTILINE)
    modules = {module: name for name, module in REGISTRY.items()}
    return modules.get(match.group(1)) if match else None


def edit_loop_pairs(folder: Path) -> list[tuple[str, str, str]]:
    """(what, the spec checked first, the spec then timed) of the edit loop."""
    pairs = [("expanded", name, str(path)) for name, path in zip(REGISTRY, generated_variants(folder))]
    pairs += [("expanded", str(spec), str(edited(spec, folder))) for spec in shipped_variants()]
    pairs += [("variant of its base", base, str(spec)) for spec in shipped_variants() if (base := base_of(spec))]
    return pairs


def shipped_variants() -> list[Path]:
    """The variant spec modules that ship (a module that defines no THEOREM, such as an experiment's, is left out)."""
    files = [ROOT / "theorems" / "template_variant.py", *(ROOT / "theorems").glob("variant_*.py"),
             *(ROOT / "benchmarks" / "variants").glob("*.py")]
    return sorted(f for f in files if re.search(r"^THEOREM\s*=", f.read_text(), flags=re.MULTILINE))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _shown(spec) -> str:
    path = Path(spec)
    if not path.suffix:
        return str(spec)                                # a registered name
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def time_check(spec, examples: int, cache_dir: Path | None = None) -> dict:
    """One ``verifier check`` in a fresh process, with ``--no-cache`` or the evidence cache in ``cache_dir``:
    CPU-s (its own and its children's), wall-s, verdict, and where its evidence came from."""
    command = [sys.executable, "-m", "verifier.cli", "check", str(spec), "--examples", str(examples), "--json"]
    env = dict(os.environ)
    if cache_dir is None:
        command.append("--no-cache")
    else:
        env["VERIFIER_CACHE_DIR"] = str(cache_dir)
    cpu0, wall0 = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    cpu, wall = children_cpu() - cpu0, time.perf_counter() - wall0
    try:
        verdict = json.loads(done.stdout)
        status, symbolic, minimised = verdict["status"], verdict.get("symbolic_evidence"), verdict.get(
            "minimiser_evidence")
    except (json.JSONDecodeError, KeyError, TypeError):
        status, symbolic, minimised = f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}", None, None
    return {"spec": _shown(spec), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "exit": done.returncode,
            "status": status, "symbolic_evidence": symbolic, "minimiser_evidence": minimised,
            "within_target": cpu <= TARGET_CPU_S}


def _print(row: dict, label: str = "") -> None:
    print(f"{label + row['spec']:62s} {row['cpu_s']:8.1f} CPU-s {row['wall_s']:8.1f} s wall  exit {row['exit']}  "
          f"{row['status']}", flush=True)


def run_edit_loop(folder: Path, examples: int) -> list[dict]:
    rows = []
    for what, first, then in edit_loop_pairs(folder):
        with tempfile.TemporaryDirectory() as cache_dir:
            before = time_check(first, examples, Path(cache_dir))
            _print(before, "first check: ")
            row = time_check(then, examples, Path(cache_dir))
            _print(row, "  then:      ")
        rows.append({**row, "edit": what, "checked_first": before})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path, help="spec files (default: every registered theorem's "
                                                               "generated variant and the shipped variants)")
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--edit-loop", action="store_true",
                        help="time each edited spec after its original was checked (the evidence cache warm)")
    parser.add_argument("--out", type=Path, default=None, help="where the figures go (default: "
                        "benchmarks/results-variant-checks-cpu.json, -edit-loop-cpu.json with --edit-loop)")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / ("results-variant-checks-edit-loop-cpu.json" if args.edit_loop
                                             else "results-variant-checks-cpu.json")
    with tempfile.TemporaryDirectory() as folder:
        if args.edit_loop:
            rows = run_edit_loop(Path(folder), args.examples)
        else:
            specs = [p.resolve() for p in args.specs] or generated_variants(Path(folder)) + shipped_variants()
            rows = []
            for spec in specs:
                rows.append(time_check(spec, args.examples))
                _print(rows[-1])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    command = ["python", "benchmarks/variant_checks.py", *(["--edit-loop"] if args.edit_loop else []),
               *map(str, args.specs)]
    result = {"command": " ".join(command),
              "examples": args.examples, "target_cpu_s": TARGET_CPU_S, "python": platform.python_version(),
              "nproc": os.cpu_count(), "load_average_at_end": load, "checks": rows}
    out.write_text(json.dumps(result, indent=1) + "\n")
    met = sum(r["within_target"] for r in rows)
    print(f"{met} of {len(rows)} within {TARGET_CPU_S:g} CPU-s; figures in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
