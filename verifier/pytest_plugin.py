"""The pytest plugin (entry point ``pytest11``): spec and proof modules as tests, and the Hypothesis profiles.

Loaded wherever the package is installed.  It registers the Hypothesis profiles ``default``
(deterministic: 10 examples, derandomised, no example database, no deadline) and ``thorough``
(20x the examples) unless the project has registered its own of that name, gives Hypothesis's ``ci``
profile (loaded where a CI variable is set) the quick profile's examples, and says in pytest's
header which profile and settings the verifier's searches run under.

A ``.py`` file that assigns ``THEOREM`` at module level (a spec module) or ``STEPS`` (a proof
module) is collected as one test per claim (``my_variant.py::omega``) or per proof step, when it
is named on the command line or lies in a folder of the ``verifier_specs`` ini option.  The items
themselves live in :mod:`verifier.testing.items`, imported only when such a file is collected, so
that a project that has the package installed but checks no spec does not pay for torch and sympy.
"""
from __future__ import annotations

import ast
import fnmatch
import os
from pathlib import Path

import pytest

from .pytest_options import add_options, examples_scale, search_seed, validate

PROFILE_ENV = "HYPOTHESIS_PROFILE"       # `HYPOTHESIS_PROFILE=thorough pytest` works like --hypothesis-profile


def pytest_addoption(parser):
    add_options(parser)


@pytest.hookimpl(tryfirst=True)          # before Hypothesis's own plugin loads --hypothesis-profile
def pytest_configure(config):
    config.addinivalue_line("markers", "verifier_claim: a claim of a spec module, checked by the verifier")
    validate(config)
    from hypothesis import HealthCheck, settings
    if settings.get_profile("default").show_changed() == "":          # nobody has replaced Hypothesis's own
        settings.register_profile("default", max_examples=10, deadline=None, derandomize=True, database=None,
                                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        # Hypothesis loads its "ci" profile wherever a CI variable is set, with Hypothesis's 100 examples;
        # a bare `pytest` runs the same quick search on CI as on a laptop (a ci profile that sets its own
        # max_examples is the project's choice, and kept).
        ci = settings.get_profile("ci")
        if "max_examples" not in ci.show_changed():
            quick = settings.get_profile("default")
            settings.register_profile("ci", parent=ci, max_examples=quick.max_examples, suppress_health_check=sorted(
                set(ci.suppress_health_check) | set(quick.suppress_health_check), key=lambda check: check.value))
        if settings.get_current_profile_name() in ("default", "ci"):
            settings.load_profile(settings.get_current_profile_name())
    if not _is_registered(settings, "thorough"):
        settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=200)
    wanted = os.environ.get(PROFILE_ENV)
    if wanted and not config.getoption("hypothesis_profile", None):
        settings.load_profile(wanted)
    _collect_spec_folders(config)


def _is_registered(settings, name: str) -> bool:
    from hypothesis.errors import InvalidArgument
    try:
        settings.get_profile(name)
    except InvalidArgument:
        return False
    return True


def _collect_spec_folders(config) -> None:
    """A bare `pytest` (collecting the ini's testpaths) collects the spec folders too."""
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    given = [Path(a).resolve() for a in config.args]
    for folder in config.getini("verifier_specs"):
        if folder.exists() and not any(folder == g or g in folder.parents for g in given):
            config.args.append(str(folder))


def pytest_report_header(config):
    from hypothesis import settings
    return (f"verifier: hypothesis profile {settings.get_current_profile_name()!r} "
            f"(max_examples={settings().max_examples}), seed {search_seed(config)}, "
            f"examples scale {examples_scale(config):g}, restarts {config.getoption('verifier_restarts')}, "
            f"device {config.getoption('verifier_device')}")


def spec_kind(path: Path) -> str | None:
    """'theorem' for a module that defines (assigns or imports) THEOREM at its top level, 'proof' for STEPS,
    None for anything else and for a module that defines tests. Read from the source, without importing it."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None                       # pytest's own collection reports what is wrong with it
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test") \
                or isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            return None                   # a test module that uses a THEOREM is pytest's to collect
        if isinstance(node, (ast.Import, ast.ImportFrom)):                  # from base import THEOREM
            names |= {alias.asname or alias.name for alias in node.names}
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return "theorem" if "THEOREM" in names else "proof" if "STEPS" in names else None


def _in_spec_folder(path: Path, config) -> bool:
    return any(path == f or f in path.parents for f in config.getini("verifier_specs"))


def _spec_collector(path: Path, parent):
    if path.suffix != ".py" or path.name == "conftest.py":
        return None
    if not (parent.session.isinitpath(path) or _in_spec_folder(path, parent.config)):
        return None
    kind = spec_kind(path)
    if kind is None:
        return None
    from .testing.items import ProofFile, SpecFile
    return (SpecFile if kind == "theorem" else ProofFile).from_parent(parent, path=path)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    """A spec module pytest's Python plugin would collect (named on the command line, or test_*.py)."""
    return _spec_collector(module_path, parent)


def pytest_collect_file(file_path, parent):
    """A spec module in a ``verifier_specs`` folder that pytest's Python plugin would not collect."""
    if parent.session.isinitpath(file_path):
        return None                            # pytest_pycollect_makemodule has it
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in parent.config.getini("python_files")):
        return None                            # likewise
    return _spec_collector(file_path, parent)


@pytest.fixture
def verifier_settings(request):
    """The command line's minimiser settings (--verifier-device, --verifier-restarts, --hypothesis-seed),
    for hand-written tests: ``assert_claim_holds(spec, claim, instance, settings=verifier_settings)``."""
    from .testing import settings_from
    return settings_from(request.config)
