"""Strict reading of user input: JSON types, known keys, bounded sizes, the certifiable range.

Every function raises InstanceError naming the field (``data.spectrum[2]``), the value and what
would work.  A number is a JSON number (not a string, not ``true``), a vector a JSON array, a
matrix an array of equally long arrays; a key the format does not know is rejected.

Sizes are bounded before any work: the minimiser forms batched Hessians of about
(2 * D0 * d1)^2 entries per restart, so ``MAX_DIMENSION`` keeps one within tens of MiB and a
second, and ``MAX_SAMPLES`` bounds the rows of a data matrix.

The certifiable range.  The verifier certifies a minimiser in float64 by its gradient and
Hessian, which are products of up to eight of the inputs (hyperparameters, sigma_i, theta_i,
data entries) and their reciprocals: each must stay a normal float64, so every magnitude must lie
in [2^-127, 2^127] (2^-1022 and 2^1024, the normal range, to the power 1/8).  And the
certificate decides a minimum by its loss, to within ``error_model.LOSS_RTOL`` = 1e-9 of the loss
scale, while the loss adds terms that pair the inputs' squares (theta^2 omega^2 beside
beta eta_dec^2, sigma^2 lambda^2, ...): a term below loss_rtol of another is invisible to that
test, so no two magnitudes may be more than loss_rtol^-1/2 (about 3.2e4) apart, else a branch of
the case split is decided by rounding (beta = 5e7 beside theta = 2 gave a certified point 4e-7
from the true optimum 0; sigma = 2e7 beside theta = 0.3 a wrong spectrum).  Outside the range a
verdict would be float64's, not the paper's, so an instance read from the user is rejected there
(``Instance.check_certifiable``).
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np

from .error_model import LOSS_RTOL
from .errors import InstanceError

MAX_DIMENSION = 32
MAX_SAMPLES = 100_000
SMALLEST_MAGNITUDE, LARGEST_MAGNITUDE = 2.0 ** -127, 2.0 ** 127
LARGEST_SPREAD = LOSS_RTOL ** -0.5


def fields(name: str, value: Any, required: Iterable[str], optional: Iterable[str] = ()) -> Mapping:
    """A JSON object whose keys are all known and whose required keys are present."""
    if not isinstance(value, Mapping):
        raise InstanceError(f"{name} must be a JSON object, got {_kind(value)} {value!r:.60}")
    required, known = list(required), [*required, *optional]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise InstanceError(f"unknown field(s) {unknown} in {name}; it takes {', '.join(known)}")
    missing = [k for k in required if k not in value]
    if missing:
        raise InstanceError(f"{name} has no {', '.join(repr(k) for k in missing)} field (see the README's instance format)")
    return value


def mapping(name: str, value: Any) -> Mapping:
    """A JSON object whose keys the model decides (``Instance.validate`` checks them against it)."""
    if not isinstance(value, Mapping):
        raise InstanceError(f"{name} must be a JSON object, got {_kind(value)} {value!r:.60}")
    return value


def number(name: str, value: Any) -> float:
    """A JSON number (int or float, not a bool or a string), finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InstanceError(f"{name} must be a JSON number, got {_kind(value)} {value!r:.60}")
    try:
        out = float(value)
    except OverflowError:
        raise InstanceError(f"{name}={value} is too large for float64") from None
    if not math.isfinite(out):
        raise InstanceError(f"{name}={value} must be finite")
    return out


def integer(name: str, value: Any, *, low: int = 1, high: int | None = None) -> int:
    """A JSON integer (an integral float such as 4.0 passes) in [low, high], checked before any work."""
    x = number(name, value)
    if not x.is_integer():
        raise InstanceError(f"{name}={value!r} must be an integer")
    if x < low or (high is not None and x > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise InstanceError(f"{name}={value!r} is out of range: it must be {bound}")
    return int(x)


def vector(name: str, value: Any, *, max_length: int = MAX_DIMENSION) -> tuple[float, ...]:
    """A JSON array of numbers."""
    if not isinstance(value, list):
        raise InstanceError(f"{name} must be a JSON array of numbers, got {_kind(value)} {value!r:.60}")
    if len(value) > max_length:
        raise InstanceError(f"{name} has {len(value)} entries; at most {max_length} are supported")
    return tuple(number(f"{name}[{i}]", x) for i, x in enumerate(value))


def matrix(name: str, value: Any, *, max_rows: int = MAX_SAMPLES, max_columns: int = MAX_DIMENSION) -> np.ndarray:
    """A JSON array of equally long arrays of numbers (one row each), as a float64 array."""
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        raise InstanceError(f"{name} must be a non-empty JSON array of rows (arrays of numbers), got {value!r:.60}")
    if len(value) > max_rows:
        raise InstanceError(f"{name} has {len(value)} rows; at most {max_rows} are supported")
    width = len(value[0])
    if not 1 <= width <= max_columns:
        raise InstanceError(f"{name} has rows of {width} entries; 1 to {max_columns} are supported")
    for i, row in enumerate(value):
        if len(row) != width:
            raise InstanceError(f"{name}[{i}] has {len(row)} entries; row 0 has {width}")
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise InstanceError(f"{name}[{i}][{j}] must be a JSON number, got {_kind(x)} {x!r:.60}")
    try:
        out = np.array(value, dtype=np.float64)
    except OverflowError:
        raise InstanceError(f"{name} has an entry too large for float64") from None
    if not np.all(np.isfinite(out)):
        i, j = np.argwhere(~np.isfinite(out))[0]
        raise InstanceError(f"{name}[{i}][{j}] must be finite")
    return out


def certifiable(magnitudes: Mapping[str, float]) -> None:
    """Every named magnitude (> 0) in [2^-127, 2^127], and all within a factor loss_rtol^-1/2 of each other."""
    for name, x in magnitudes.items():
        if not SMALLEST_MAGNITUDE <= x <= LARGEST_MAGNITUDE:
            raise InstanceError(f"{name}={x:g} is outside the certifiable range [{SMALLEST_MAGNITUDE:.3g}, "
                                f"{LARGEST_MAGNITUDE:.3g}] (float64's normal range to the power 1/8; see the README)")
    if magnitudes:
        (lo_name, lo), (hi_name, hi) = min(magnitudes.items(), key=_value), max(magnitudes.items(), key=_value)
        if hi > lo * LARGEST_SPREAD:
            raise InstanceError(f"{hi_name}={hi:g} and {lo_name}={lo:g} are {hi / lo:.3g} apart: outside the "
                                f"certifiable range, which needs every magnitude within a factor "
                                f"{LARGEST_SPREAD:.3g} of every other (loss_rtol^-1/2; see the README)")


def _value(item):
    return item[1]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "an array", dict: "an object",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)
