"""Where the main job's time goes: a profile of ``verifier report`` from the report it wrote.

    verifier report --out /tmp/r1 --jobs 2 && python benchmarks/main_job_profile.py /tmp/r1/report.json

Every theorem, proof and section records its own wall time in ``report.json`` (a theorem's includes its
symbolic checks, also given apart); this prints them as a Markdown table, the longest first, with
whether each came from the evidence cache (``--jobs`` > 1 shares all of them out to the worker processes).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def rows(report: dict) -> list[tuple[str, float, str, str]]:
    """(what, wall seconds, detail, evidence source) for every theorem, proof and section."""
    out = []
    for t in report["theorems"]:
        symbolic = t.get("symbolic_elapsed_s")
        detail = f"symbolic {symbolic:.0f} s, claims {t['elapsed_s'] - symbolic:.0f} s" if symbolic is not None else ""
        out.append((f"theorem {t['theorem']}", t["elapsed_s"], detail, t.get("evidence_source", "")))
    for p in report["proofs"]:
        out.append((f"proof {p['proof']}", p["elapsed_s"], f"{len(p['steps'])} steps", p.get("evidence_source", "")))
    for key, s in report["sections"].items():
        out.append((f"section {key}", s["data"].get("elapsed_s", 0.0), f"{len(s['figures'])} figures",
                    s["data"].get("evidence_source", "")))
    return sorted(out, key=lambda row: -row[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a report.json written by verifier report")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    table = rows(report)
    print(f"whole run: {report['status']['elapsed_s']:.0f} s wall; theorems and proofs "
          f"{sum(r[1] for r in table if not r[0].startswith('section')):.0f} s, sections "
          f"{sum(r[1] for r in table if r[0].startswith('section')):.0f} s (summed over processes)\n")
    print("| part | wall (s) | detail | evidence |\n|---|---|---|---|")
    for what, seconds, detail, source in table:
        print(f"| {what} | {seconds:.1f} | {detail} | {source.split(' (')[0]} |")


if __name__ == "__main__":
    main()
