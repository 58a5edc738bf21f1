"""Seeded searches that draw the same instances whatever the process imported before them.

Recent Hypothesis versions (6.155 and 6.170 seen here) mix literal constants found in every imported *local*
module into about 5% of their draws.  That pool grows as the process imports things, so one seeded
search drew different instances after an unrelated import or test (a CI run in the suite's order
missed Remark 2's counterexample that every other order found).  ``without_local_constants``
empties the pool for the duration of a search; with a Hypothesis that has no such pool it does
nothing.
"""
from __future__ import annotations

from contextlib import contextmanager

try:                                    # internal API: present only where the feature exists
    from hypothesis.internal.conjecture import providers as _providers
    _EMPTY = _providers.Constants()
    _HAS_POOL = hasattr(_providers, "_get_local_constants") and hasattr(_providers, "CONSTANTS_CACHE")
except (ImportError, AttributeError, TypeError):      # pragma: no cover - older or newer Hypothesis
    _HAS_POOL = False


@contextmanager
def without_local_constants():
    if not _HAS_POOL:
        yield
        return
    original = _providers._get_local_constants
    _providers._get_local_constants = lambda: _EMPTY
    _providers.CONSTANTS_CACHE.cache.clear()          # it holds (global, local) pools built earlier
    try:
        yield
    finally:
        _providers._get_local_constants = original
        _providers.CONSTANTS_CACHE.cache.clear()
