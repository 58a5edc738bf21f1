"""The symbolic step's CPU-time budget holds wherever it fires (verifier.budget)."""
import gc
import time

import pytest

from verifier.budget import BudgetExceeded, call_with_budget


def _swallowing_spin(seconds):
    """Work that discards every exception it meets, and runs a gc callback that does too:
    a budget raised as an exception (from a signal handler) would be lost here."""
    def callback(phase, info):
        try:
            sum(range(10_000))
        except BaseException:          # noqa: BLE001 - what Hypothesis's gc callback effectively does
            pass
    gc.callbacks.append(callback)
    start = time.process_time()
    while time.process_time() - start < seconds:
        try:
            [object() for _ in range(1000)]   # allocations, so the gc callback runs
        except BaseException:          # noqa: BLE001
            pass
    return "not cut off"


def _raise_value_error():
    raise ValueError("from the worker")


def test_budget_cannot_be_swallowed():
    started = time.monotonic()
    with pytest.raises(BudgetExceeded):
        call_with_budget(1, _swallowing_spin, 60)
    assert time.monotonic() - started < 50      # 60 s of CPU would have run on; 1 s (+ start-up) did


def test_budget_returns_results_and_exceptions_and_recovers_after_a_kill():
    with pytest.raises(ValueError, match="from the worker"):
        call_with_budget(5, _raise_value_error)
    with pytest.raises(BudgetExceeded):
        call_with_budget(1, _swallowing_spin, 60)
    assert call_with_budget(5, sorted, [3, 1, 2]) == [1, 2, 3]   # a fresh worker after the kill
