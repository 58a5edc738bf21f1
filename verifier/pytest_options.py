"""The pytest plugin's options (one heading in ``pytest --help``) and how a run's values are read.

Kept apart from the plugin's hooks so that :mod:`verifier.testing` reads them without importing the
plugin, and light: nothing here imports torch, sympy or Hypothesis.
"""
from __future__ import annotations

import zlib

import pytest


def add_options(parser):
    group = parser.getgroup("verifier", "vae-theorem-verifier (spec and proof modules as tests)")
    group.addoption("--verifier-device", choices=("auto", "cpu", "cuda"), default="auto",
                    help="device of the minimiser (default auto: cuda when torch sees one)")
    group.addoption("--verifier-examples-scale", type=float, default=None,
                    help="Hypothesis examples (batches of instances) per claim, as a multiple of the active "
                         "profile's max_examples (default 1; ini verifier_examples_scale)")
    group.addoption("--verifier-restarts", type=int, default=4, help="random restarts of the minimiser per instance")
    group.addoption("--verifier-inconclusive", choices=("fail", "skip"), default="fail",
                    help="what an INCONCLUSIVE claim is (default fail)")
    group.addoption("--verifier-no-symbolic", action="store_true", default=None,
                    help="skip the sympy checks of the closed forms, as `verifier check --no-symbolic` "
                         "(ini verifier_symbolic = false)")
    parser.addini("verifier_specs", type="paths", default=[],
                  help="folders (or files) whose spec and proof modules are collected as tests; "
                       "collected by a bare `pytest` too")
    parser.addini("verifier_examples_scale", default="1",
                  help="default of --verifier-examples-scale")
    parser.addini("verifier_symbolic", type="bool", default=True,
                  help="run the sympy checks of the closed forms (default true; --verifier-no-symbolic)")


def validate(config) -> None:
    scale = examples_scale(config)
    if not scale > 0:
        raise pytest.UsageError(f"--verifier-examples-scale={scale} must be > 0")
    if config.getoption("verifier_restarts") < 1:
        raise pytest.UsageError(f"--verifier-restarts={config.getoption('verifier_restarts')} must be >= 1")


def examples_scale(config) -> float:
    given = config.getoption("verifier_examples_scale")
    if given is not None:
        return given
    text = config.getini("verifier_examples_scale")
    try:
        return float(text)
    except ValueError:
        raise pytest.UsageError(f"ini verifier_examples_scale={text!r} is not a number") from None


def search_seed(config) -> int:
    """--hypothesis-seed as the searches' integer seed (0 when none is given, as `verifier check`)."""
    given = config.getoption("hypothesis_seed", None)
    if given is None:
        return 0
    try:
        return int(given)
    except ValueError:                    # Hypothesis accepts any string; so do we, deterministically
        return zlib.crc32(str(given).encode())


def symbolic(config) -> bool:
    return not config.getoption("verifier_no_symbolic") and config.getini("verifier_symbolic")
