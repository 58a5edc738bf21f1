"""The engine's work on a Dask cluster (``--scheduler``); Dask is an optional extra (``.[distributed]``).

``local`` (the default) keeps today's processes: ``verifier check`` runs in its own process and
``verifier report`` in ``--jobs`` worker processes.  ``local:N`` starts a Dask LocalCluster of N
single-threaded worker processes on this machine; an address (``tcp://host:8786``) connects to a scheduler
that is already running, with workers started by hand or by a deployment project (README, "Running on a
cluster").

What runs where.  The client -- the ``verifier`` process -- makes every random choice: Hypothesis draws
the instances, and the searches, the shrinking, the confirmations and the verdicts stay with it.  The
workers only minimise and judge the lists of instances the client sends them (``Pipeline.run``) and, for
``verifier report``, check whole theorems and proofs.  A claim's search knows the lists it will run while no
example fails (``search_lookahead.Lookahead.planned``) and submits them all at once: they run in parallel,
each exactly the list a local run would minimise together (a batch's composition moves the last bits of a
Newton step), so a seed gives byte-identical verdicts, instances and counterexamples on any cluster.

Faults.  Dask reruns the tasks of a worker that dies on another one; every task is deterministic, and its
results enter the client's cache by instance, so nothing is lost or counted twice.  A worker that would run
other code than the client (another version of the project, another spec file) refuses the task: the
project's source digest and the spec's fingerprint must be the client's.  A scheduler that is lost, or not
reached, ends the run with a :class:`ClusterLost` or :class:`ClusterError` (exit 2, one line) before anything
is written.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import threading
import warnings
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError, VerifierError

LOCAL = "local"
ADDRESS_SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "ucx://", "inproc://")
CONNECT_TIMEOUT_S = 30           # to reach a scheduler given by address
INSTALL_HINT = 'pip install -e ".[distributed]" (or pip install "vae-theorem-verifier[distributed]")'


class ClusterError(VerifierError):
    """The cluster cannot do the work: Dask is missing, the scheduler is unreachable, or a worker runs other
    code than this process (exit 2, one line; nothing is written)."""


class ClusterLost(BaseException):
    """The scheduler was lost mid-run (exit 2, one line; nothing is written).  A BaseException, as
    KeyboardInterrupt is: raised inside a Hypothesis search it must end the run, not fail an example that
    Hypothesis would then replay and shrink."""


@dataclass(frozen=True)
class SchedulerChoice:
    """``--scheduler``: ``local``, ``local:N`` (a LocalCluster of N workers) or a scheduler's address."""
    text: str = LOCAL
    workers: int | None = None
    address: str | None = None

    @property
    def is_local(self) -> bool:
        """Today's processes, no Dask."""
        return self.workers is None and self.address is None


def parse_scheduler(text: str) -> SchedulerChoice:
    """The ``--scheduler`` value, checked before anything runs (a UsageError names the fix)."""
    if text == LOCAL:
        return SchedulerChoice()
    if text.startswith(LOCAL + ":"):
        count = text.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--scheduler {text!r}: local:N takes a whole number of workers, 1 or more")
        return SchedulerChoice(text, workers=int(count))
    if text.startswith(ADDRESS_SCHEMES) and len(text.split("://", 1)[1]) > 0:
        return SchedulerChoice(text, address=text)
    raise UsageError(f"--scheduler {text!r}: give 'local', 'local:N' or a Dask scheduler's address "
                     f"such as tcp://127.0.0.1:8786")


def add_scheduler_option(parser) -> None:
    """The ``--scheduler`` option of ``verifier check`` and ``verifier report``."""
    parser.add_argument("--scheduler", default=LOCAL, metavar="local|local:N|ADDRESS", help=(
        "where the work runs: 'local' (default) this machine's processes as without Dask; 'local:N' a Dask "
        "LocalCluster of N worker processes; an address (tcp://host:8786) an existing Dask scheduler, whose "
        f"workers minimise and judge the instances this process draws (needs {INSTALL_HINT})"))


def _dask():
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--scheduler needs Dask distributed, an optional extra: {INSTALL_HINT}") from None
    return distributed


# ---------------------------------------------------------------- the cluster, from the client

class Cluster:
    """A connected Dask client: submits tasks, counts them for the progress line, and turns a lost scheduler
    (or a task that keeps killing its workers) into a ClusterLost."""

    def __init__(self, client, where: str, progress=None):
        self.client, self.where, self.progress = client, where, progress
        self.submitted = self.finished = 0
        self._lock = threading.Lock()

    def describe(self) -> str:
        """Where the work ran, for the report: the scheduler and its workers' count."""
        try:
            workers = len(self.client.scheduler_info(n_workers=-1)["workers"])
        except Exception:                               # noqa: BLE001 - a description, never a failure
            return self.where
        return f"{self.where}, {workers} worker{'s' * (workers != 1)}"

    def submit(self, fn, *args):
        """``fn(*args)`` on a worker, as a future (results are deterministic: no task is ``pure``-merged)."""
        try:
            future = self.client.submit(fn, *args, pure=False)
        except Exception as exc:                        # noqa: BLE001 - the scheduler is gone
            raise self._lost(exc) from None
        with self._lock:
            self.submitted += 1
        future.add_done_callback(self._tick)
        return future

    def result(self, future):
        """The future's result; a worker's own error (a VerifierError included) is raised as it was."""
        try:
            return future.result()
        except (CancelledError, OSError, TimeoutError) as exc:
            raise self._lost(exc) from None
        except Exception as exc:
            # by name: where Dask defines these moved between its versions, and a worker's own error must pass
            if type(exc).__name__ in ("CommClosedError", "FutureCancelledError", "KilledWorker"):
                raise self._lost(exc) from None
            raise

    def _lost(self, exc: BaseException) -> ClusterLost:
        return ClusterLost(f"lost the cluster ({self.where}): {type(exc).__name__}: {exc}; nothing was written -- "
                            f"check the scheduler and workers, then run again")

    def _tick(self, future) -> None:
        if getattr(future, "status", "finished") != "finished":     # cancelled or lost: not done
            return
        with self._lock:
            self.finished += 1
            done, total = self.finished, self.submitted
        if self.progress is not None:
            self.progress(f"{done}/{total} tasks done on {self.where}")

    def runner(self, theorem, spec: str) -> "RemoteRunner":
        """Where a Pipeline of ``theorem`` (loaded from ``spec``, a registered name or a spec file) computes."""
        return RemoteRunner(self, theorem, spec_ref(theorem, spec))


@contextlib.contextmanager
def connect(choice: SchedulerChoice, progress=None):
    """A :class:`Cluster` for a non-local ``choice``, closed (with a LocalCluster it started) at the end."""
    distributed = _dask()
    # Dask's client logs a lost connection with its traceback; the run says so itself, in one line (ClusterLost)
    quiet = contextlib.ExitStack()
    for name in ["distributed", *[n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]]:
        logger = logging.getLogger(name)
        quiet.callback(logger.setLevel, logger.level)
        logger.setLevel(logging.CRITICAL)
    cluster = None
    try:
        if choice.workers is not None:
            cluster = distributed.LocalCluster(n_workers=choice.workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=40)
            client = distributed.Client(cluster)
            where = f"a Dask LocalCluster ({cluster.scheduler_address})"
        else:
            client = distributed.Client(choice.address, timeout=CONNECT_TIMEOUT_S)
            where = f"the Dask scheduler at {choice.address}"
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        quiet.close()
        raise ClusterError(f"--scheduler {choice.text}: no Dask scheduler answered within {CONNECT_TIMEOUT_S} s "
                           f"({exc}); start one with `dask scheduler` (README, 'Running on a cluster')") from None
    try:
        yield Cluster(client, where, progress)
    finally:
        with contextlib.suppress(Exception):            # closing a client whose scheduler is gone may raise
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
        quiet.close()


def stderr_progress(msg: str) -> None:
    print(f"  ... {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- a pipeline's work on the workers

@dataclass(frozen=True)
class SpecRef:
    """What a worker loads a theorem from, and what it must find there: a registered name, or a spec file's
    path with its text (written to a temporary folder where the worker does not see the same file)."""
    name: str
    source: str | None           # a spec file's text; None for a registered name
    fingerprint: str | None      # the theorem's content (cache.fingerprint); None where it has none
    project: str                 # the client's cache.source_digest(): the project's code


def spec_ref(theorem, spec: str) -> SpecRef:
    from .cache import Unfingerprintable, fingerprint, source_digest
    from .loader import registry
    try:
        content = fingerprint(theorem)
    except Unfingerprintable:
        content = None
    if spec in registry():
        return SpecRef(spec, None, content, source_digest())
    path = Path(spec).resolve()
    return SpecRef(str(path), path.read_text(encoding="utf-8"), content, source_digest())


_LOADED: dict[SpecRef, object] = {}       # per worker process: each spec is loaded (and checked) once


def worker_theorem(ref: SpecRef):
    """The theorem ``ref`` names, loaded in this worker and checked to be the client's."""
    if ref in _LOADED:
        return _LOADED[ref]
    from .cache import fingerprint
    from .loader import load_spec
    check_project(ref.project)
    if ref.source is None:
        theorem = load_spec(ref.name)
    else:
        path = Path(ref.name)
        if not (path.is_file() and path.read_text(encoding="utf-8") == ref.source):
            path = Path(tempfile.mkdtemp(prefix="verifier-spec-")) / path.name
            path.write_text(ref.source, encoding="utf-8")
        theorem = load_spec(str(path))
    if ref.fingerprint is not None and fingerprint(theorem) != ref.fingerprint:
        raise ClusterError(f"a worker loaded {ref.name} with other content than the client (its modules differ): "
                           f"install the same version of the project and its models on every worker")
    _LOADED[ref] = theorem
    return theorem


def check_project(digest: str) -> None:
    """Refuse to work with other code than the client's (results would differ silently)."""
    from .cache import source_digest
    if source_digest() != digest:
        raise ClusterError("a worker runs another version of the project than the client (their source files "
                           "differ): install the same version on every worker")


def run_instances(ref: SpecRef, settings, instances: list, climb: bool):
    """On a worker: ``Pipeline.run`` of ``instances`` (results, instances minimised)."""
    from .pipeline import Pipeline
    pipeline = Pipeline(worker_theorem(ref), settings)
    return pipeline.run(instances, climb=climb), pipeline.minimised


def run_symbolic(ref: SpecRef, seed: int) -> list:
    """On a worker: the symbolic checks of the theorem's closed forms (``symbolic.check_closed_forms``)."""
    from .symbolic import check_closed_forms
    return check_closed_forms(worker_theorem(ref), seed=seed)


def run_checked(digest: str, fn, *args):
    """On a worker: ``fn(*args)`` (a theorem's or a proof's whole check) once its code is the client's."""
    check_project(digest)
    # Hypothesis warns when the global `random` state moves during a draw; in a Dask worker the worker's own
    # event-loop thread moves it (heartbeats), not the strategies, and Hypothesis draws from its own generator.
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
    return fn(*args)


class RemoteRunner:
    """A Pipeline's ``remote``: its lists of instances run on the cluster's workers.  ``prefetch`` submits
    lists ahead (the search's lookahead); ``run`` takes a prefetched list's result, or submits it then."""

    def __init__(self, cluster: Cluster, theorem, ref: SpecRef):
        self.cluster, self.theorem, self.ref = cluster, theorem, ref
        self._ahead: dict[tuple, object] = {}

    @staticmethod
    def _key(settings, instances, climb: bool) -> tuple:
        return settings, climb, tuple(inst.key() for inst in instances)

    def prefetch(self, settings, lists: list[list], climb: bool = True) -> None:
        for instances in lists:
            key = self._key(settings, instances, climb)
            if instances and key not in self._ahead:
                self._ahead[key] = self.cluster.submit(run_instances, self.ref, settings, instances, climb)

    def symbolic_meanwhile(self, seed: int, cache):
        """The theorem's symbolic findings, taken from ``cache`` or computed on a worker while this process goes on
        (the searches): a function that waits for them and returns (findings, where they came from)."""
        from concurrent.futures import ThreadPoolExecutor
        from .symbolic_cache import symbolic_findings
        compute = lambda theorem, seed: self.cluster.result(self.cluster.submit(run_symbolic, self.ref, seed))
        waiting = ThreadPoolExecutor(max_workers=1)              # a thread that only waits on the cluster
        pending = waiting.submit(symbolic_findings, self.theorem, seed, cache, compute)
        waiting.shutdown(wait=False)                              # it ends once the findings are in
        return pending.result

    def run(self, settings, instances: list, climb: bool):
        """(results, instances minimised) of ``Pipeline(theorem, settings).run(instances, climb)``."""
        future = self._ahead.pop(self._key(settings, instances, climb), None)
        if future is None:
            future = self.cluster.submit(run_instances, self.ref, settings, instances, climb)
        return self.cluster.result(future)


@contextlib.contextmanager
def cluster_for(text: str, progress=stderr_progress):
    """The :class:`Cluster` of a ``--scheduler`` value, or None for ``local`` (no Dask involved)."""
    choice = parse_scheduler(text)
    if choice.is_local:
        yield None
        return
    with connect(choice, progress) as cluster:
        yield cluster


class WorkerPool:
    """``verifier report``'s theorem and proof jobs on the cluster, as its worker processes take them locally:
    ``submit(fn, *args)`` gives a future with ``result``, ``add_done_callback``, ``cancelled`` and ``exception``."""

    def __init__(self, cluster: Cluster):
        from .cache import source_digest
        self.cluster, self.project = cluster, source_digest()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def submit(self, fn, *args) -> "PoolFuture":
        return PoolFuture(self.cluster, self.cluster.submit(run_checked, self.project, fn, *args))


class PoolFuture:
    """A Dask future whose ``result`` turns a lost scheduler into a ClusterLost (Cluster.result)."""

    def __init__(self, cluster: Cluster, future):
        self.cluster, self.future = cluster, future

    def result(self):
        return self.cluster.result(self.future)

    def add_done_callback(self, fn) -> None:
        self.future.add_done_callback(lambda _: fn(self))

    def cancelled(self) -> bool:
        return self.future.cancelled()

    def exception(self):
        return self.future.exception()
