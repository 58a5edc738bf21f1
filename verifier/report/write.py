"""Write a report's results atomically: everything goes into a temporary directory beside the
target, which is swapped into place only when every file is written.  An interrupted run (an
exception in a renderer, a kill) leaves the previous report untouched and no half-written file
in it; at worst a hidden ``.NAME.tmp-*`` directory beside it, never read."""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import UsageError
from .results import Results

FORMATS = ("md", "html", "json")
FILES = {"md": "report.md", "html": "report.html", "json": "report.json"}
PNG_DPI = 110


def parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"--format {text!r}: unknown format(s) {unknown or ['(none)']}; "
                         f"give a comma-separated list of {', '.join(FORMATS)}")
    return formats


def check_writable(out: Path) -> None:
    """Fail before the (long) collection if the report could not be written to ``out``."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file; give a directory (it is replaced as a whole)")
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent)
        os.rmdir(probe)
    except OSError as exc:
        raise UsageError(f"--out {str(out)!r} is not writable: {exc.strerror or exc}") from None


def figure_png(figure) -> bytes:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=PNG_DPI)
    plt.close(figure)
    return buf.getvalue()


def write_report(results: Results, out: Path, formats=FORMATS) -> dict[str, Path]:
    """Write the formats into ``out`` (replacing a previous report there); returns the paths written."""
    from .render_html import render_html          # here, not above: the HTML's MathML imports sympy, which
    from .render_md import render_markdown        # `verifier --help` (importing this module's parse_formats) need not
    out = Path(out)
    check_writable(out)
    parent = out.absolute().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        images = {f"{f.name}.png": f.png if f.png is not None else figure_png(f.figure)
                  for s in results.sections for f in s.figures}
        if "md" in formats:
            for name, data in images.items():
                (tmp / name).write_bytes(data)
            (tmp / FILES["md"]).write_text(render_markdown(results.report), encoding="utf-8")
        if "html" in formats:
            (tmp / FILES["html"]).write_text(render_html(results.report, images), encoding="utf-8")
        if "json" in formats:
            (tmp / FILES["json"]).write_text(json.dumps(results.report, indent=1, allow_nan=False,
                                                        default=str), encoding="utf-8")
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {f: out / FILES[f] for f in formats}


def _swap(new: Path, out: Path) -> None:
    """Move ``new`` to ``out``; a previous ``out`` is moved aside first and removed after."""
    if not out.exists():
        os.replace(new, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=new.parent))
    os.rmdir(old)
    os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        os.replace(old, out)          # put the previous report back
        raise
    shutil.rmtree(old, ignore_errors=True)
