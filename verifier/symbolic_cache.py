"""The symbolic checks of a theorem's closed forms, kept in the evidence cache (``verifier.cache``).

They are deterministic given the spec's content and the seed, so an unchanged spec takes them from the cache;
a changed closed form, an upgrade of a library or an edit of the verifier's source is a miss."""
from __future__ import annotations

import dataclasses

from .cache import DISABLED, EvidenceCache, Unfingerprintable, fingerprint, library_versions, source_digest
from .cache import key as cache_key, short as short_key, warn
from .spec import Theorem
from .status import Status


def symbolic_findings(theorem: Theorem, seed: int, cache: EvidenceCache = DISABLED, compute=None) -> tuple[list, str]:
    """The symbolic checks of ``theorem``'s closed forms (``symbolic.check_closed_forms``), taken from ``cache``
    where it holds them, and a line saying where they came from.  They are deterministic given the spec's
    content and the seed, so the key is those, the versions of the libraries and the verifier's source.
    ``compute(theorem, seed)``: how they are computed on a miss (default: in this process; on a cluster, on a
    worker: verifier.distributed)."""
    from .symbolic import SymbolicFinding
    compute = compute or _check_here
    if not cache.enabled:
        return compute(theorem, seed), "computed (the evidence cache is off)"
    try:
        entry_key = cache_key(kind="symbolic", theorem=fingerprint(theorem), seed=seed,
                              versions=library_versions(), source=source_digest())
    except Unfingerprintable as exc:
        return compute(theorem, seed), f"computed (not cacheable: {exc})"
    stored = cache.get("symbolic", entry_key)
    if stored is not None:
        try:
            return ([SymbolicFinding(**{**f, "status": Status(f["status"]),
                                        "blamed": None if f["blamed"] is None else tuple(f["blamed"])})
                     for f in stored], f"cached (key {short_key(entry_key)})")
        except (TypeError, ValueError, KeyError) as exc:
            warn(f"cached symbolic findings {short_key(entry_key)} do not fit ({exc}); recomputing them")
    from .symbolic.critical_points import faces_kept_in
    with faces_kept_in(cache):          # the faces' critical points too, for a variant of the same objective
        findings = compute(theorem, seed)
    stored = cache.put("symbolic", entry_key, [dataclasses.asdict(f) for f in findings])
    return findings, f"computed (cached as key {short_key(entry_key)})" if stored else "computed (not cached)"


def _check_here(theorem: Theorem, seed: int) -> list:
    from .symbolic import check_closed_forms
    return check_closed_forms(theorem, seed=seed)
