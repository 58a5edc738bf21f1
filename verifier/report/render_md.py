"""The report as Markdown for a code host: a table of contents, verdicts in words with a coloured mark,
formulas as ``$$…$$`` (code hosts typeset them), figures as relative links to PNG files beside it.
Every text that comes from data is escaped, so that ``**`` in a formula stays ``**``."""
from __future__ import annotations

import json
import re

from . import labels

MAX_INLINE = 600      # characters of a counterexample shown in the Markdown/HTML
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")


def escape(text) -> str:
    """Data as Markdown text: every character Markdown (and a code host's math) interprets is escaped."""
    if text is None:
        return "-"
    if isinstance(text, float):
        return f"{text:.2e}"
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _short(text, limit: int = 240):
    """Evidence in a table cell: the first ``limit`` characters (the JSON keeps all of it)."""
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def verdict(status: str, short: bool = False) -> str:
    return f"{labels.markdown_mark(status)} **{(labels.short_words if short else labels.words)(status)}**"


def _anchor(name: str) -> str:
    return f'<a id="{name}"></a>'


def _link(text: str, anchor: str) -> str:
    return f"[{escape(text)}](#{anchor})"


def summary(report: dict) -> list[str]:
    st = report["status"]
    overall = labels.overall(st["counts"])
    out = ["# Verification report", "",
           f"{verdict(overall)} (exit status {st['exit_code']}: {escape(st['meaning'])}).  Claims and proof steps: "
           f"{labels.counts_text(st['counts'])}; {len(report['errata'])} errata (listed below); time {st['elapsed_s']:.0f} s; "
           f"profile `{report['settings']['profile']}`, seed {report['settings']['seed']}.", ""]
    if st["failed_sections"]:
        out += [f"**Failed sections:** {escape(', '.join(st['failed_sections']))}", ""]
    if labels.cache_summary(st):
        out += [escape(labels.cache_summary(st)), ""]
    out += ["*Verified* means no counterexample among the instances tried (evidence, not proof); *erratum* means "
            "the printed form is refuted and the project's correction of it is verified.", ""]
    out += contents(report)
    out += [_anchor("summary"), "## Summary", "", "| theorem / proof | verdict | counts | time (s) |", "|---|---|---|---|"]
    for t in report["theorems"]:
        out.append(f"| {_link(t['theorem'] + ': ' + t['title'], labels.theorem_anchor(t['theorem']))} | "
                   f"{verdict(labels.overall(t['counts']), short=True)} | {labels.counts_text(t['counts'])} | {labels.time_text(t)} |")
    for p in report["proofs"]:
        out.append(f"| {_link('proof ' + p['proof'], labels.proof_anchor(p['proof']))} | "
                   f"{verdict(labels.overall(p['counts']), short=True)} | {labels.counts_text(p['counts'])} | {labels.time_text(p)} |")
    return out + [""]


def contents(report: dict) -> list[str]:
    out = ["## Contents", "", "- [Summary](#summary)", f"- [Errata](#errata) ({len(report['errata'])})"]
    out += [f"  - {_link(erratum_title(k, e), labels.erratum_anchor(k))}"
            for k, e in enumerate(report["errata"], 1)]
    out += ["- [Claims](#claims)"] + [f"  - {_link(t['theorem'], labels.theorem_anchor(t['theorem']))}"
                                      for t in report["theorems"]]
    out += ["- [Proof steps](#proofs)"] + [f"  - {_link('proof ' + p['proof'], labels.proof_anchor(p['proof']))}"
                                           for p in report["proofs"]]
    out += [f"- {_link(s['title'], labels.section_anchor(key))}" for key, s in report["sections"].items()]
    return out + ["- [Environment](#environment)", ""]


def erratum_title(number: int, e: dict) -> str:
    return f"{number}. {e['source']}: {e['name']}"


def erratum_links(report: dict, e: dict) -> list[tuple[str, str]]:
    """(text, anchor) of the claim(s) and proof step(s) an erratum is about."""
    links = []
    if e["kind"] == "claim":
        links.append((f"claim {e['source']} / {e['name']}", labels.claim_anchor(e["source"], e["name"])))
        if e["correction"]:
            links.append((f"correction {e['correction']}", labels.claim_anchor(e["source"], e["correction"])))
    else:
        proof = e["source"].removeprefix("proof ")
        theorem = labels.THEOREM_OF_PROOF.get(proof)
        if theorem and any(t["theorem"] == theorem for t in report["theorems"]):
            links.append((f"claims of {theorem}", labels.theorem_anchor(theorem)))
    links += [(f"proof {proof}, step {eq}", labels.step_anchor(proof, k))
              for proof, k, eq in labels.related_steps(report, e)]
    return links


def counterexample_text(cex) -> str:
    text = json.dumps(cex, default=str)
    if len(text) > MAX_INLINE:        # big matrices: the JSON report has it whole, the replay rebuilds it
        text = text[:MAX_INLINE] + f" ... ({len(text)} characters; whole in report.json)"
    return text


def _marked(tokens) -> str:
    return "".join(f"**{escape(t)}**" if changed and t.strip() else escape(t) for t, changed in tokens)


def errata(report: dict) -> list[str]:
    out = [_anchor("errata"), "## Errata", ""]
    if not report["errata"]:
        return out + ["No printed claim or proof step was refuted.", ""]
    for k, e in enumerate(report["errata"], 1):
        printed, corrected = labels.changed_tokens(e["printed"], e["corrected"])
        out += [_anchor(labels.erratum_anchor(k)), f"### {escape(erratum_title(k, e))}", "",
                f"{verdict('ERRATUM')}.  Where: {escape(e['location'])}.  See: "
                + ", ".join(_link(text, anchor) for text, anchor in erratum_links(report, e)) + ".", "",
                "| printed | corrected |", "|---|---|", f"| {_marked(printed)} | {_marked(corrected)} |", ""]
        if e["printed_latex"]:
            out += ["Printed:", "", "$$" + e["printed_latex"] + "$$", "",
                    "Corrected" + (f" (claim `{e['correction']}`)" if e["correction"] else "") + ":", "",
                    "$$" + (e["corrected_latex"] or "") + "$$", ""]
        out += [f"Evidence: {escape(e['detail'])}", ""]
        if e["counterexample"] is not None:
            out += ["Smallest counterexample:", "", "```json", counterexample_text(e["counterexample"]), "```", ""]
        if e["replay"]:
            out += ["Replay:", "", "```bash", e["replay"], "```", ""]
    return out


def _evidence_source(entry: dict) -> list[str]:
    text = labels.evidence_source_text(entry)
    return [f"*Evidence source: {escape(text)}.*", ""] if text else []


def theorems(report: dict) -> list[str]:
    out = [_anchor("claims"), "## Claims", ""]
    for t in report["theorems"]:
        out.append(_anchor(labels.theorem_anchor(t["theorem"])))
        if "error" in t:
            out += [f"### {escape(t['theorem'])}: could not be checked", "", f"{verdict(t['error_class'])}: "
                    f"`{t['error'][:600].replace('`', chr(39))}`", ""]
            continue
        out += [f"### {escape(t['theorem'])}: {escape(t['title'])}", "", f"{escape(t['source'])}.  Instances "
                f"evaluated: {t['instances_evaluated']}; device {t['device']}; tolerances: "
                f"{escape(t['tolerances_text'])}.", "", *_evidence_source(t),
                "| claim | equation | verdict | instances | worst error | loss gap | tolerance | time (s) | detail |",
                "|---|---|---|---|---|---|---|---|---|"]
        for c in t["claims"]:
            out.append(f"| {_anchor(labels.claim_anchor(t['theorem'], c['claim']))}{escape(c['claim'])} | "
                       f"{escape(c['equation'])} | {verdict(c['class'], short=True)} | {c['instances_tried']} | "
                       f"{escape(c['worst_error'])} | {escape(c['loss_gap'])} | {escape(c['tolerance'])} | "
                       f"{c['elapsed_s']:.1f} | {escape(c['detail'])} |")
        out.append("")
    return out


def proofs(report: dict) -> list[str]:
    out = [_anchor("proofs"), "## Proof steps", ""]
    for p in report["proofs"]:
        out += [_anchor(labels.proof_anchor(p["proof"])), f"### Proof {escape(p['proof'])}", "", *_evidence_source(p),
                "| equation | step | method | verdict | evidence |", "|---|---|---|---|---|"]
        out += [f"| {_anchor(labels.step_anchor(p['proof'], k))}{escape(s['equation'])} | {escape(s['claim'])} | "
                f"{escape(s['method'])} | {verdict(s['class'], short=True)} | {escape(_short(s.get('evidence')))} |"
                for k, s in enumerate(p["steps"])]
        out.append("")
    return out


def sections(report: dict) -> list[str]:
    out = []
    for key, s in report["sections"].items():
        out += [_anchor(labels.section_anchor(key)), f"## {escape(s['title'])}", "", *_evidence_source(s["data"]),
                s["markdown"], ""]
        for f in s["figures"]:
            out += [f"![{escape(f['caption'])}]({f['file']})", "", f"*{escape(f['caption'])}*", ""]
    return out


def environment(report: dict) -> list[str]:
    env = report["environment"]
    out = [_anchor("environment"), "## Environment", "", "Rerun with:", "", "```bash", env["command"], "```", "",
           "| setting | value |", "|---|---|"]
    for k in ("profile", "seed", "device", "device_name", "python", "platform", "torch_threads", "kernels",
              "ran_on"):
        if k not in env:          # reports written before the field was added
            continue
        out.append(f"| {k} | {escape(env[k])} |")
    out += [f"| {escape(name)} | {escape(v)} |" for name, v in env["packages"].items()]
    out += ["", f"Sizes of the `{report['settings']['profile']}` profile: "
            + ", ".join(f"{k}={v}" for k, v in report["settings"].items() if k not in ("profile", "seed", "device")),
            ""]
    return out


def render_markdown(report: dict) -> str:
    parts = summary(report) + errata(report) + theorems(report) + proofs(report) + sections(report) + environment(report)
    return "\n".join(parts) + "\n"
