"""The report as one self-contained HTML file, written from the report's data (every text from data
escaped): a table of contents, verdicts in words and colour, formulas as MathML (no script, no network),
each printed/corrected pair side by side with the difference highlighted, and every image embedded as a
base64 PNG.  A section's body is Markdown (the section contract), converted by a small converter for
the constructs sections write (headings, paragraphs, lists, pipe tables, fenced code, inline code,
bold, italics, images)."""
from __future__ import annotations

import base64
import html
import re

from . import labels
from .mathml import DIFF_CLASS, highlight_difference
from .render_md import counterexample_text, erratum_links, erratum_title

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
     color:#1b1b1b;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.88em}
th,td{border:1px solid #c8c8c8;padding:0.3em 0.55em;text-align:left;vertical-align:top}
th{background:#f0f0f0} tr:nth-child(even) td{background:#fafafa}
pre{background:#f5f5f5;padding:0.7em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.92em}
img{max-width:100%;height:auto;border:1px solid #e0e0e0}
figure{margin:1.5em 0} figcaption{font-size:0.92em;color:#333;max-width:60em}
h1{border-bottom:2px solid #333} h2{border-bottom:1px solid #bbb;margin-top:2em}
.verdict{display:inline-block;padding:0.05em 0.5em;border-radius:0.8em;color:#fff;font-weight:600;
         font-size:0.9em;white-space:nowrap}
nav ul{columns:2} nav li{margin:0.1em 0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em;margin:0.8em 0}
.pair>div{border:1px solid #d0d0d0;border-radius:4px;padding:0.5em 0.8em;overflow-x:auto}
.pair h4{margin:0 0 0.3em 0;font-size:0.85em;color:#555;text-transform:uppercase;letter-spacing:0.05em}
math{font-size:1.15em} .DIFF{background:#ffe08a;border-radius:2px}
mark{background:#ffe08a}
""".replace("DIFF", DIFF_CLASS)

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]+)\)")
_e = html.escape


# ------------------------------------------------------------------ Markdown of a section body

def _inline(text: str, images: dict[str, bytes]) -> str:
    """Inline Markdown: `code` first (nothing inside it is interpreted), then images, bold, italics."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{_e(part[1:-1])}</code>")
            continue
        s = _e(part, quote=False)
        s = _IMAGE.sub(lambda m: _img(m.group(1), m.group(2), images), s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s.replace("\\|", "|"))
    return "".join(out)


def _img(alt: str, name: str, images: dict[str, bytes]) -> str:
    data = images.get(html.unescape(name))
    if data is None:
        return f"[missing image {_e(name)}]"
    return f'<img alt="{alt}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))] if line.strip() != "|" else []


def markdown_to_html(md: str, images: dict[str, bytes]) -> str:
    lines, out, i = md.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre><code>" + _e("\n".join(lines[i + 1:j])) + "</code></pre>")
            i = j + 1
        elif m := re.match(r"^(#{1,6}) (.*)$", line):
            n = min(len(m.group(1)) + 2, 6)          # inside a section: below the section's own h2
            out.append(f"<h{n}>{_inline(m.group(2), images)}</h{n}>")
            i += 1
        elif line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-| :]+\|$", lines[i + 1]):
            head = "".join(f"<th>{_inline(c, images)}</th>" for c in _cells(line))
            rows, j = [], i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append("<tr>" + "".join(f"<td>{_inline(c, images)}</td>" for c in _cells(lines[j])) + "</tr>")
                j += 1
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
            i = j
        elif line.startswith("- "):
            items, j = [], i
            while j < len(lines) and lines[j].startswith("- "):
                items.append(f"<li>{_inline(lines[j][2:], images)}</li>")
                j += 1
            out.append(f"<ul>{''.join(items)}</ul>")
            i = j
        elif line.strip():
            j = i
            while (j < len(lines) and lines[j].strip() and not lines[j].startswith(("```", "#", "|", "- "))):
                j += 1
            out.append(f"<p>{_inline(' '.join(lines[i:j]), images)}</p>")
            i = max(j, i + 1)
        else:
            i += 1
    return "\n".join(out)


# ------------------------------------------------------------------ the report's own parts

def verdict(status: str, short: bool = False) -> str:
    text = (labels.short_words if short else labels.words)(status)
    return (f'<span class="verdict" style="background:{labels.colour(status)}" title="{_e(str(status))}">'
            f"{_e(text)}</span>")


def _link(text: str, anchor: str) -> str:
    return f'<a href="#{anchor}">{_e(text)}</a>'


def _e_counts(counts: dict) -> str:
    return _e(labels.counts_text(counts))


def _table(head: list[str], rows: list[list[str]]) -> str:
    """Cells are HTML already."""
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</tbody></table>")


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2e}" if isinstance(value, float) else _e(str(value))


def summary(report: dict) -> str:
    st = report["status"]
    head = (f"<h1>Verification report</h1><p>{verdict(labels.overall(st['counts']))} (exit status "
            f"{st['exit_code']}: {_e(st['meaning'])}). Claims and proof steps: {_e_counts(st['counts'])}; "
            f"{len(report['errata'])} errata (listed below); time {st['elapsed_s']:.0f} s; profile "
            f"<code>{_e(report['settings']['profile'])}</code>, seed {_e(str(report['settings']['seed']))}.</p>")
    if st["failed_sections"]:
        head += f"<p><strong>Failed sections:</strong> {_e(', '.join(st['failed_sections']))}</p>"
    if labels.cache_summary(st):
        head += f"<p>{_e(labels.cache_summary(st))}</p>"
    head += ("<p><em>Verified</em> means no counterexample among the instances tried (evidence, not proof); "
             "<em>erratum</em> means the printed form is refuted and the project's correction of it is verified.</p>")
    rows = [[_link(f"{t['theorem']}: {t['title']}", labels.theorem_anchor(t["theorem"])),
             verdict(labels.overall(t["counts"]), short=True), _e_counts(t["counts"]), _e(labels.time_text(t))]
            for t in report["theorems"]]
    rows += [[_link(f"proof {p['proof']}", labels.proof_anchor(p["proof"])), verdict(labels.overall(p["counts"]), True),
              _e_counts(p["counts"]), _e(labels.time_text(p))] for p in report["proofs"]]
    return (head + contents(report) + '<h2 id="summary">Summary</h2>'
            + _table(["theorem / proof", "verdict", "counts", "time (s)"], rows))


def contents(report: dict) -> str:
    def sub(items):
        return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""
    items = [_link("Summary", "summary"),
             _link(f"Errata ({len(report['errata'])})", "errata")
             + sub([_link(erratum_title(k, e), labels.erratum_anchor(k)) for k, e in enumerate(report["errata"], 1)]),
             _link("Claims", "claims") + sub([_link(t["theorem"], labels.theorem_anchor(t["theorem"]))
                                              for t in report["theorems"]]),
             _link("Proof steps", "proofs") + sub([_link(f"proof {p['proof']}", labels.proof_anchor(p["proof"]))
                                                   for p in report["proofs"]])]
    items += [_link(s["title"], labels.section_anchor(key)) for key, s in report["sections"].items()]
    items.append(_link("Environment", "environment"))
    return '<nav><h2 id="contents">Contents</h2><ul>' + "".join(f"<li>{i}</li>" for i in items) + "</ul></nav>"


def _marked(tokens) -> str:
    return "".join(f"<mark>{_e(t)}</mark>" if changed and t.strip() else _e(t) for t, changed in tokens)


def _pair(first_title: str, first: str, second_title: str, second: str) -> str:
    return (f'<div class="pair"><div><h4>{_e(first_title)}</h4>{first}</div>'
            f"<div><h4>{_e(second_title)}</h4>{second}</div></div>")


def erratum(report: dict, number: int, e: dict) -> str:
    printed, corrected = labels.changed_tokens(e["printed"], e["corrected"])
    out = [f'<h3 id="{labels.erratum_anchor(number)}">{_e(erratum_title(number, e))}</h3>',
           f"<p>{verdict('ERRATUM')} Where: {_e(e['location'])}. See: "
           + ", ".join(_link(text, anchor) for text, anchor in erratum_links(report, e)) + ".</p>",
           _pair("printed", f"<p>{_marked(printed)}</p>", "corrected", f"<p>{_marked(corrected)}</p>")]
    if e.get("printed_mathml") and e.get("corrected_mathml"):
        first, second = highlight_difference(e["printed_mathml"], e["corrected_mathml"])
        out.append(_pair("printed", first, "corrected" + (f" ({e['correction']})" if e["correction"] else ""), second))
    out.append(f"<p>Evidence: {_e(e['detail'])}</p>")
    if e["counterexample"] is not None:
        out.append(f"<p>Smallest counterexample:</p><pre><code>{_e(counterexample_text(e['counterexample']))}"
                   "</code></pre>")
    if e["replay"]:
        out.append(f"<p>Replay:</p><pre><code>{_e(e['replay'])}</code></pre>")
    return "\n".join(out)


def errata(report: dict) -> str:
    body = [erratum(report, k, e) for k, e in enumerate(report["errata"], 1)]
    return '<h2 id="errata">Errata</h2>' + ("\n".join(body) or "<p>No printed claim or proof step was refuted.</p>")


def _evidence_source(entry: dict) -> str:
    text = labels.evidence_source_text(entry)
    return f"<p><em>Evidence source: {_e(text)}.</em></p>" if text else ""


def theorems(report: dict) -> str:
    out = ['<h2 id="claims">Claims</h2>']
    for t in report["theorems"]:
        anchor = labels.theorem_anchor(t["theorem"])
        if "error" in t:
            out.append(f'<h3 id="{anchor}">{_e(t["theorem"])}: could not be checked</h3>'
                       f"<p>{verdict(t['error_class'])} <code>{_e(t['error'][:600])}</code></p>")
            continue
        out.append(f'<h3 id="{anchor}">{_e(t["theorem"])}: {_e(t["title"])}</h3><p>{_e(t["source"])}. Instances '
                   f"evaluated: {t['instances_evaluated']}; device {_e(t['device'])}; tolerances: "
                   f"{_e(t['tolerances_text'])}.</p>" + _evidence_source(t))
        rows = [[f'<span id="{labels.claim_anchor(t["theorem"], c["claim"])}">{_e(c["claim"])}</span>',
                 _cell(c["equation"]), verdict(c["class"], short=True), str(c["instances_tried"]),
                 _cell(c["worst_error"]), _cell(c["loss_gap"]), _cell(c["tolerance"]), f"{c['elapsed_s']:.1f}",
                 _cell(c["detail"])] for c in t["claims"]]
        out.append(_table(["claim", "equation", "verdict", "instances", "worst error", "loss gap", "tolerance",
                           "time (s)", "detail"], rows))
    return "\n".join(out)


def proofs(report: dict) -> str:
    out = ['<h2 id="proofs">Proof steps</h2>']
    for p in report["proofs"]:
        out.append(f'<h3 id="{labels.proof_anchor(p["proof"])}">Proof {_e(p["proof"])}</h3>' + _evidence_source(p))
        rows = [[f'<span id="{labels.step_anchor(p["proof"], k)}">{_e(s["equation"])}</span>', _cell(s["claim"]),
                 _cell(s["method"]), verdict(s["class"], short=True), _cell(s.get("evidence"))]
                for k, s in enumerate(p["steps"])]
        out.append(_table(["equation", "step", "method", "verdict", "evidence"], rows))
    return "\n".join(out)


def sections(report: dict, images: dict[str, bytes]) -> str:
    out = []
    for key, s in report["sections"].items():
        out.append(f'<h2 id="{labels.section_anchor(key)}">{_e(s["title"])}</h2>' + _evidence_source(s["data"]))
        out.append(markdown_to_html(s["markdown"], images))
        for f in s["figures"]:
            out.append(f"<figure>{_img(_e(f['caption']), f['file'], images)}<figcaption>{_e(f['caption'])}"
                       "</figcaption></figure>")
    return "\n".join(out)


def environment(report: dict) -> str:
    env = report["environment"]
    rows = [[_e(k), _cell(env[k])] for k in ("profile", "seed", "device", "device_name", "python", "platform",
                                             "torch_threads", "kernels", "ran_on") if k in env]
    rows += [[_e(name), _cell(v)] for name, v in env["packages"].items()]
    sizes = ", ".join(f"{k}={v}" for k, v in report["settings"].items() if k not in ("profile", "seed", "device"))
    return (f'<h2 id="environment">Environment</h2><p>Rerun with:</p><pre><code>{_e(env["command"])}</code></pre>'
            + _table(["setting", "value"], rows)
            + f"<p>Sizes of the <code>{_e(report['settings']['profile'])}</code> profile: {_e(sizes)}</p>")


def render_html(report: dict, images: dict[str, bytes], title: str = "Verification report") -> str:
    body = "\n".join((summary(report), errata(report), theorems(report), proofs(report), sections(report, images),
                      environment(report)))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")
