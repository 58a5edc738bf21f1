"""The report as one self-contained HTML file: the Markdown report converted by a small converter
for exactly the constructs ``render_md`` writes (headings, paragraphs, lists, pipe tables, fenced
code, inline code, bold, italics, images), with every image embedded as a base64 PNG."""
from __future__ import annotations

import base64
import html
import re

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
     color:#1b1b1b;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.88em}
th,td{border:1px solid #c8c8c8;padding:0.3em 0.55em;text-align:left;vertical-align:top}
th{background:#f0f0f0} tr:nth-child(even) td{background:#fafafa}
pre{background:#f5f5f5;padding:0.7em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.92em}
img{max-width:100%;height:auto;border:1px solid #e0e0e0}
strong{color:#a00000} h1{border-bottom:2px solid #333} h2{border-bottom:1px solid #bbb;margin-top:2em}
"""

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]+)\)")


def _inline(text: str, images: dict[str, bytes]) -> str:
    """Inline Markdown: `code` first (nothing inside it is interpreted), then images, bold, italics."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        s = html.escape(part, quote=False)
        s = _IMAGE.sub(lambda m: _img(m.group(1), m.group(2), images), s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s.replace("\\|", "|"))
    return "".join(out)


def _img(alt: str, name: str, images: dict[str, bytes]) -> str:
    data = images.get(html.unescape(name))
    if data is None:
        return f"[missing image {name}]"
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
            out.append("<pre><code>" + html.escape("\n".join(lines[i + 1:j])) + "</code></pre>")
            i = j + 1
        elif m := re.match(r"^(#{1,6}) (.*)$", line):
            n = len(m.group(1))
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


def render_html(markdown: str, images: dict[str, bytes], title: str = "Verification report") -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{_STYLE}</style></head>"
            f"<body>\n{markdown_to_html(markdown, images)}\n</body></html>\n")
