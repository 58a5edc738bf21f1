"""Start-up: `verifier list`, `verifier --help` and `verifier check --help` import neither torch nor sympy
(what the modules imported say, not a timer), and the static listing is the loaded specs'."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from theorems import LISTING, REGISTRY
from verifier.loader import load_spec

HEAVY = ("torch", "sympy")
# Runs the command in a fresh interpreter, then prints which heavy top-level packages it imported.
PROBE = ("import contextlib, io, json, sys\n"
         "from verifier.cli import main\n"
         "with contextlib.redirect_stdout(io.StringIO()):\n"
         "    try:\n"
         "        code = main(sys.argv[1:])\n"
         "    except SystemExit as exit:\n"
         "        code = exit.code\n"
         f"print(json.dumps([code, sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))]))\n")


@pytest.mark.parametrize("argv", [["list"], ["--help"], ["check", "--help"], ["report", "--help"]])
def test_light_commands_import_neither_torch_nor_sympy(argv):
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    code, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0
    assert heavy == []


def test_a_heavy_command_still_gets_its_own_options():
    done = subprocess.run([sys.executable, "-m", "verifier", "train", "--help"], capture_output=True, text=True,
                          check=True)
    assert "--experiment" in done.stdout and "--batch-size" in done.stdout


def test_the_listing_is_that_of_the_loaded_specs():
    assert set(LISTING) == set(REGISTRY)
    for name, (title, source, claims) in LISTING.items():
        theorem = load_spec(name)
        assert (title, source, claims) == (theorem.title, theorem.source, len(theorem.claims)), name
