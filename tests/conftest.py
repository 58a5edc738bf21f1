"""Shared fixtures.

The Hypothesis profiles come from the package's pytest plugin (verifier/pytest_plugin.py): ``default``
keeps the whole suite within ~10 minutes on 2 CPU cores (with the two worker processes pyproject's
addopts start there); ``thorough`` runs 20x more examples with no deadline:
``pytest --hypothesis-profile thorough``. The ``budget`` fixture scales the instance counts of the
verifier's own searches with the active profile. Every test's draws are independent of what the
worker imported before it.
"""
import os

import pytest
from hypothesis import settings
from threadpoolctl import threadpool_limits

from verifier.hypothesis_pool import without_local_constants
from verifier.numeric import intra_op_threads


@pytest.fixture(autouse=True, scope="session")
def _one_thread_in_each_worker_process():
    """In pytest-xdist's workers (one per CPU) torch and BLAS run one thread each, as the commands, the report
    and the minimiser do: a second thread in every worker only oversubscribes the cores (tests/test_training.py
    took 37-41 CPU-s with torch's default two threads against 22 with one, alone on two cores). A run in one
    process (``pytest -n 0``) keeps the libraries' own settings."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    with intra_op_threads(1, "cpu"), threadpool_limits(1):
        yield


@pytest.fixture(autouse=True, scope="session")
def _evidence_cache_outside_the_working_directory(tmp_path_factory):
    """The suite's `verifier check` and `verifier report` runs keep their evidence cache (verifier/cache.py) in
    a directory of their own, not in the working directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VERIFIER_CACHE_DIR", str(tmp_path_factory.mktemp("verifier-cache")))
        yield


@pytest.fixture(autouse=True)
def _draws_independent_of_imports(request):
    """Every test draws as if nothing else had been imported (verifier/hypothesis_pool.py): Hypothesis mixes
    the literal constants of every imported local module into its draws, and which modules a worker holds
    depends on the tests pytest-xdist happened to give it before. A test marked ``local_constants`` keeps
    Hypothesis's pool (the tests of the verifier's own emptying need it)."""
    if request.node.get_closest_marker("local_constants"):
        yield
        return
    with without_local_constants():
        yield


@pytest.fixture
def budget() -> int:
    """Examples per property, from the active Hypothesis profile (10 by default, 200 thorough)."""
    return settings().max_examples
