"""The report as Markdown for a code host: figures as relative links to PNG files beside it."""
from __future__ import annotations

import json

from .status import ERRATUM

MAX_INLINE = 600      # characters of a counterexample shown in the Markdown/HTML
_MARK = {"VERIFIED": "VERIFIED", ERRATUM: "ERRATUM (printed form refuted, correction verified)",
         "REFUTED": "**REFUTED**", "INCONCLUSIVE": "*INCONCLUSIVE*",
         "NOT APPLICABLE": "not applicable", "SPEC_ERROR": "**SPEC ERROR**"}


def _short(text, limit: int = 240):
    """Evidence in a table cell: the first ``limit`` characters (the JSON keeps all of it)."""
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _cell(text) -> str:
    """A value safe inside a Markdown table cell."""
    if text is None:
        return "-"
    if isinstance(text, float):
        return f"{text:.2e}"
    return str(text).replace("|", "\\|").replace("\n", " ")


def _counts(counts: dict) -> str:
    return ", ".join(f"{v} {k.lower()}" for k, v in counts.items() if v) or "none"


def summary(report: dict) -> list[str]:
    st = report["status"]
    out = ["# Verification report", "",
           f"**Exit status {st['exit_code']}**: {st['meaning']}.  Claims and proof steps: {_counts(st['counts'])}; "
           f"{len(report['errata'])} errata (listed below); time {st['elapsed_s']:.0f} s; "
           f"profile `{report['settings']['profile']}`, seed {report['settings']['seed']}.", ""]
    if st["failed_sections"]:
        out += [f"**Failed sections:** {', '.join(st['failed_sections'])}", ""]
    out += ["VERIFIED means no counterexample among the instances tried (evidence, not proof); ERRATUM means the "
            "printed form is refuted and the project's correction of it is verified.", "",
            "## Summary", "", "| theorem / proof | status | counts | time (s) |", "|---|---|---|---|"]
    for t in report["theorems"]:
        out.append(f"| {t['theorem']}: {_cell(t['title'])} | {t['exit_code']} | {_counts(t['counts'])} | "
                   f"{t['elapsed_s']:.1f} |")
    for p in report["proofs"]:
        out.append(f"| proof {p['proof']} | {p['exit_code']} | {_counts(p['counts'])} | {p['elapsed_s']:.1f} |")
    return out + [""]


def errata(report: dict) -> list[str]:
    out = ["## Errata", ""]
    if not report["errata"]:
        return out + ["No printed claim or proof step was refuted.", ""]
    for k, e in enumerate(report["errata"], 1):
        out += [f"### {k}. {e['source']}: {e['name']} ({e['location']})", "",
                f"- printed: {e['printed']}", f"- corrected: {e['corrected']}"
                + (f" (claim `{e['correction']}`)" if e["correction"] else "")]
        if e["printed_latex"]:
            out += ["", "$$" + e["printed_latex"] + "$$ (printed)", "",
                    "$$" + (e["corrected_latex"] or "") + "$$ (corrected)"]
        out += ["", f"Evidence: {e['detail']}", ""]
        if e["counterexample"] is not None:
            text = json.dumps(e["counterexample"], default=str)
            if len(text) > MAX_INLINE:        # big matrices: the JSON report has it whole, the replay rebuilds it
                text = text[:MAX_INLINE] + f" ... ({len(text)} characters; whole in report.json)"
            out += ["Smallest counterexample:", "", "```json", text, "```", ""]
        if e["replay"]:
            out += ["Replay:", "", "```bash", e["replay"], "```", ""]
    return out


def theorems(report: dict) -> list[str]:
    out = ["## Claims", ""]
    for t in report["theorems"]:
        if "error" in t:
            out += [f"### {t['theorem']}: could not be checked", "", f"**{_MARK[t['error_class']]}**: "
                    f"`{t['error'][:600]}`", ""]
            continue
        out += [f"### {t['theorem']}: {t['title']}", "", f"{t['source']}.  Instances evaluated: "
                f"{t['instances_evaluated']}; device {t['device']}; tolerances: {t['tolerances_text']}.", "",
                "| claim | equation | verdict | instances | worst error | loss gap | tolerance | time (s) | detail |",
                "|---|---|---|---|---|---|---|---|---|"]
        for c in t["claims"]:
            out.append(f"| {c['claim']} | {_cell(c['equation'])} | {_MARK[c['class']]} | {c['instances_tried']} | "
                       f"{_cell(c['worst_error'])} | {_cell(c['loss_gap'])} | {_cell(c['tolerance'])} | "
                       f"{c['elapsed_s']:.1f} | {_cell(c['detail'])} |")
        out.append("")
    return out


def proofs(report: dict) -> list[str]:
    out = ["## Proof steps", ""]
    for p in report["proofs"]:
        out += [f"### Proof {p['proof']}", "", "| equation | step | method | verdict | evidence |",
                "|---|---|---|---|---|"]
        out += [f"| {_cell(s['equation'])} | {_cell(s['claim'])} | {_cell(s['method'])} | {_MARK[s['class']]} | "
                f"{_cell(_short(s.get('evidence')))} |" for s in p["steps"]]
        out.append("")
    return out


def sections(report: dict) -> list[str]:
    out = []
    for key, s in report["sections"].items():
        out += [f"## {s['title']}", "", s["markdown"], ""]
        for f in s["figures"]:
            out += [f"![{f['caption']}]({f['file']})", "", f"*{f['caption']}*", ""]
    return out


def environment(report: dict) -> list[str]:
    env = report["environment"]
    out = ["## Environment", "", "Rerun with:", "", "```bash", env["command"], "```", "",
           "| setting | value |", "|---|---|"]
    for k in ("profile", "seed", "device", "device_name", "python", "platform", "torch_threads"):
        out.append(f"| {k} | {_cell(env[k])} |")
    out += [f"| {name} | {_cell(v)} |" for name, v in env["packages"].items()]
    out += ["", f"Sizes of the `{report['settings']['profile']}` profile: "
            + ", ".join(f"{k}={v}" for k, v in report["settings"].items() if k not in ("profile", "seed", "device")),
            ""]
    return out


def render_markdown(report: dict) -> str:
    parts = summary(report) + errata(report) + theorems(report) + proofs(report) + sections(report) + environment(report)
    return "\n".join(parts) + "\n"
