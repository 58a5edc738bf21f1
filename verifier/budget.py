"""Run a function under a CPU-time budget that nothing in Python can swallow.

The call runs in a long-lived worker process (one per calling process, started on first use)
which, before each call, lowers its own ``RLIMIT_CPU`` to the CPU time it has used plus the
budget.  Past the limit the kernel ends the worker (SIGXCPU, default action): unlike an
exception raised from a signal handler, this cannot land in a garbage-collector callback or a
``try/except`` inside the library and be discarded.  The worker is restarted on the next call.

The budget counts the worker's CPU time, not wall-clock time, so a loaded machine decides as
an idle one.  A wall-clock guard (``WALL_FACTOR`` times the budget) ends a worker that stopped
using CPU without answering, so a caller never waits for ever.

Platforms without ``resource`` (or ``RLIMIT_CPU``) call the function directly, with no budget.
"""
from __future__ import annotations

import atexit
import math
import os
import pickle
import select
import struct
import subprocess
import sys
import threading

try:
    import resource
except ImportError:              # pragma: no cover - not POSIX
    resource = None

WALL_FACTOR = 30                 # wall-clock guard: a worker this far past its budget is stuck, not busy
_HEADER = struct.Struct("!Q")


class BudgetExceeded(Exception):
    """The call used more than its CPU-time budget (or stopped answering) and was ended."""


def supported() -> bool:
    return resource is not None and hasattr(resource, "RLIMIT_CPU")


def call_with_budget(cpu_seconds: float, fn, *args):
    """``fn(*args)`` (a picklable, module-level function) with at most ``cpu_seconds`` of CPU time.

    Returns its result or re-raises its exception; raises BudgetExceeded when the budget ran out.
    """
    if not supported():
        return fn(*args)
    with _LOCK:
        worker = _WORKER.get("process")
        if worker is None or worker.poll() is not None:
            worker = _WORKER["process"] = _start_worker()
        try:
            _send(worker.stdin, (cpu_seconds, fn, args))
            ok, value = _receive(worker.stdout, timeout=max(60.0, WALL_FACTOR * cpu_seconds))
        except (BudgetExceeded, OSError, EOFError, pickle.UnpicklingError):
            _stop(worker)
            _WORKER.pop("process", None)
            raise BudgetExceeded(f"more than {cpu_seconds} s of CPU time") from None
    if ok:
        return value
    raise value


_LOCK = threading.Lock()
_WORKER: dict = {}


def _start_worker() -> subprocess.Popen:
    # the caller's sys.path, so that a pickled function's module is found as the caller found it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen([sys.executable, "-m", "verifier.budget"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=None, close_fds=True, env=env)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
    worker.wait()
    for stream in (worker.stdin, worker.stdout):
        try:
            stream.close()
        except OSError:
            pass


@atexit.register
def _stop_at_exit() -> None:
    worker = _WORKER.pop("process", None)
    if worker is not None:
        _stop(worker)


def _send(stream, obj) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exactly(stream, n: int, timeout: float | None) -> bytes:
    fd, chunks, left = stream.fileno(), [], n
    while left:
        if timeout is not None and not select.select([fd], [], [], timeout)[0]:
            raise BudgetExceeded("no answer within the wall-clock guard")
        chunk = os.read(fd, left)
        if not chunk:
            raise EOFError("the worker ended")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(stream, timeout: float | None = None):
    (size,) = _HEADER.unpack(_read_exactly(stream, _HEADER.size, timeout))
    return pickle.loads(_read_exactly(stream, size, timeout))


def _serve() -> None:
    """The worker: read (budget, fn, args), answer (True, result) or (False, exception), until EOF."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))      # a budget's end is not a crash worth a core file
    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr                                 # whatever fn prints must not corrupt the channel
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            cpu_seconds, fn, args = _receive(inbox)
        except EOFError:
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        limit = math.ceil(usage.ru_utime + usage.ru_stime + cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
        try:
            answer = (True, fn(*args))
        except Exception as exc:                            # noqa: BLE001 - handed back to the caller
            answer = (False, exc)
        try:
            _send(outbox, answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            _send(outbox, (False, RuntimeError(f"unpicklable result: {type(exc).__name__}: {exc}")))


if __name__ == "__main__":
    _serve()
