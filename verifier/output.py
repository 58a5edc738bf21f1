"""Clean output streams: strict JSON on stdout, and library noise kept off it.

Python's ``json`` writes NaN and Infinity, which are not JSON; ``strict_json`` writes them as
null and lists where they were and what they were under ``"non_finite"``.  Numerical libraries
(LAPACK's argument checks, for one) print from C straight to file descriptor 1, past
``sys.stdout``; ``stdout_to_stderr`` points that descriptor at stderr while they run.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from typing import Any

import numpy as np


def strict_json(obj: Any, **dumps_options) -> str:
    """``obj`` as strict JSON: non-finite floats become null, each recorded in ``non_finite`` (path: value)."""
    non_finite: dict[str, str] = {}
    clean = _finite(obj, "", non_finite)
    if non_finite and isinstance(clean, dict):
        clean["non_finite"] = {path: f"{value} (not representable in JSON; written as null)"
                               for path, value in non_finite.items()}
    return json.dumps(clean, allow_nan=False, default=str, **dumps_options)


def _finite(obj: Any, path: str, non_finite: dict) -> Any:
    if isinstance(obj, (float, np.floating)):
        if math.isfinite(obj):
            return float(obj)
        non_finite[path or "."] = str(float(obj))
        return None
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, dict):
        return {k: _finite(v, f"{path}.{k}" if path else str(k), non_finite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v, f"{path}[{i}]", non_finite) for i, v in enumerate(obj)]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


@contextlib.contextmanager
def stdout_to_stderr():
    """While the body runs, whatever is written to stdout (Python's or C's, fd 1) goes to stderr."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:                        # no file descriptor 1 (an embedded interpreter): Python's only
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)
