"""The report's sections computed: each provider (``report.sections.SECTION_PROVIDERS``) called in this
process or in a worker, its result made JSON there with its figures drawn as PNG.

A section therefore reaches the report the same way, byte for byte, whether it was computed here, in a worker
process, on a cluster's worker or taken from the evidence cache (``cached_results``).
"""
from __future__ import annotations

import json
import math
import time
import traceback

from . import cached_results as cached
from .cache import DISABLED, EvidenceCache, warn
from .report import status as st
from .report.sections import ReportSettings, Section, load_provider


def jsonable(obj):
    """Plain JSON values: numpy scalars, sympy objects and the like via str, non-finite numbers as null."""
    return _finite(json.loads(json.dumps(obj, default=str)))


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def compute_section(path: str, settings: ReportSettings, progress) -> dict:
    """The section the provider ``path`` gives under ``settings``, as ``cached_results.section_to_json`` writes
    it; a provider that raises, or returns something else than a Section, gives a failed section (ok False)
    holding its error."""
    progress(f"section {path}")
    start = time.perf_counter()
    try:
        section = load_provider(path)(settings)
        if not isinstance(section, Section):
            raise TypeError(f"returned {type(section).__name__}, not a verifier.report.sections.Section")
    except Exception as exc:                         # noqa: BLE001 - reported, and counted as a failure
        key = path.replace(":", "_").replace(".", "_")
        section = Section(key=key, title=f"{path} (failed)",
                          markdown=f"The section provider `{path}` failed:\n\n```\n"
                                   f"{''.join(traceback.format_exception_only(type(exc), exc)).strip()}\n```",
                          data={"error": f"{type(exc).__name__}: {exc}"}, figures=[], ok=False)
    section.data = jsonable(section.data)
    section.data.setdefault("elapsed_s", round(time.perf_counter() - start, 3))
    return cached.section_to_json(section)


def section_class(section: Section) -> str:
    """A section whose provider raised crashed; one that reports ok=False found a failure."""
    if section.ok:
        return st.VERIFIED
    return st.INTERNAL_ERROR if section.title.endswith("(failed)") and "error" in section.data else st.REFUTED


def store_section(cache: EvidenceCache, entry_key: str | None, value: dict) -> dict:
    """Cache a computed section (``compute_section``'s JSON) unless it crashed; mark where it came from
    (``data['evidence_source']``) and return it."""
    crashed = section_class(cached.section_from_json(value)) == st.INTERNAL_ERROR
    cached.store(cache, "section", entry_key, value["data"], crashed=crashed, value={"section": value})
    return value


def cached_section(cache: EvidenceCache, entry_key: str | None, path: str, progress) -> dict | None:
    """The section ``path`` from the cache, as JSON marked cached; None when it is not there or does not fit."""
    hit = cached.lookup(cache, "section", entry_key, f"section {path}", progress)
    if hit is None:
        return None
    try:
        value = hit["section"]
        cached.section_from_json(value)
    except (KeyError, TypeError, ValueError) as exc:
        warn(f"cached section {path} does not fit ({exc}); recomputing it")
        return None
    value["data"]["evidence_source"] = hit["evidence_source"]
    return value


def run_sections(providers, settings: ReportSettings, progress, cache: EvidenceCache = DISABLED) -> list[Section]:
    """Each provider in turn, in this process (from the cache where it holds the section)."""
    sections = []
    for path in providers:
        entry_key = cached.section_key(path, settings) if cache.enabled else None
        value = cached_section(cache, entry_key, path, progress)
        if value is None:
            value = store_section(cache, entry_key, compute_section(path, settings, progress))
        sections.append(cached.section_from_json(value))
    return sections
