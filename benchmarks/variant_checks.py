"""What a variant check costs: ``verifier check VARIANT.py --examples 32`` as a user runs it, cold.

    python benchmarks/variant_checks.py                       # every registered theorem's variant + the shipped ones
    python benchmarks/variant_checks.py my_variant.py ...     # these spec files instead
    python benchmarks/variant_checks.py --out results.json

For every registered theorem it writes a variant -- the theorem's first closed form restated in an equivalent
expanded form (``sp.expand``), so that nothing about it is cached -- and times it beside the shipped variants
(``theorems/template_variant.py``, ``theorems/variant_*.py``, ``benchmarks/variants/*.py``).  Each check runs in
a fresh process with ``--no-cache`` (start-up, the symbolic checks and every claim's search), and its CPU time
is the process's and its children's (the Groebner worker's) user + system time.  The issue's target: within 10
CPU-seconds each.
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


def shipped_variants() -> list[Path]:
    """The variant spec modules that ship (a module that defines no THEOREM, such as an experiment's, is left out)."""
    files = [ROOT / "theorems" / "template_variant.py", *(ROOT / "theorems").glob("variant_*.py"),
             *(ROOT / "benchmarks" / "variants").glob("*.py")]
    return sorted(f for f in files if re.search(r"^THEOREM\s*=", f.read_text(), flags=re.MULTILINE))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_check(spec: Path, examples: int) -> dict:
    """One cold ``verifier check`` in a fresh process: CPU-s (its own and its children's), wall-s, verdict."""
    command = [sys.executable, "-m", "verifier.cli", "check", str(spec), "--examples", str(examples), "--json",
               "--no-cache"]
    cpu0, wall0 = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    cpu, wall = children_cpu() - cpu0, time.perf_counter() - wall0
    try:
        verdict = json.loads(done.stdout)
        status = verdict["status"]
        symbolic = verdict.get("symbolic_evidence")
    except (json.JSONDecodeError, KeyError, TypeError):
        status, symbolic = f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}", None
    return {"spec": str(spec.relative_to(ROOT)) if spec.is_relative_to(ROOT) else spec.name, "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2), "exit": done.returncode, "status": status, "symbolic_evidence": symbolic,
            "within_target": cpu <= TARGET_CPU_S}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path, help="spec files (default: every registered theorem's "
                                                               "generated variant and the shipped variants)")
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-variant-checks-cpu.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        specs = [p.resolve() for p in args.specs] or generated_variants(Path(folder)) + shipped_variants()
        rows = []
        for spec in specs:
            row = time_check(spec, args.examples)
            rows.append(row)
            print(f"{row['spec']:55s} {row['cpu_s']:8.1f} CPU-s {row['wall_s']:8.1f} s wall  exit {row['exit']}  "
                  f"{row['status']}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = {"command": " ".join(["python", "benchmarks/variant_checks.py", *map(str, args.specs)]),
              "examples": args.examples, "target_cpu_s": TARGET_CPU_S, "python": platform.python_version(),
              "nproc": os.cpu_count(), "load_average_at_end": load, "checks": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    met = sum(r["within_target"] for r in rows)
    print(f"{met} of {len(rows)} within {TARGET_CPU_S:g} CPU-s; figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
