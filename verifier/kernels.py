"""Linear-algebra kernels that give a problem the same bits whatever batch it is computed in.

The minimiser advances every problem of a batch on its own, and the evidence cache keeps each instance's
minimisation on the premise that it does not depend on its batch (tests/test_minimiser_cache.py).  Two things
in torch's CPU build break that premise unless asked not to:

* **Intel MKL** (torch's BLAS and LAPACK) picks its code path by the processor and by each array's memory
  alignment, so a problem's inverse, solve, log-determinant or product can differ in its last bits with its
  place in a batch.  Measured on an AMD EPYC (Zen 5), torch 2.13.0: ``inv``, ``cholesky_solve``, ``slogdet``,
  ``eigvalsh`` and batched products of 39 x 39 and 5 x 5 problems; not on the Intel Xeons measured before.
  Conditional Numerical Reproducibility (``MKL_CBWR=AUTO``) keeps the processor's fastest path and makes the
  result independent of alignment.  MKL reads it once, at its first call, so :func:`request_reproducible`
  runs when the package is imported (the CLI, the pytest plugin and the worker processes import it before
  torch computes anything); a user's own ``MKL_CBWR`` is kept.
* **A batch of one**: torch lays a lone problem's tensors out otherwise (a dimension of size 1 lets a
  broadcast product be a view where larger batches copy, and a matrix times a column goes to a
  matrix-vector kernel), and MKL multiplies the transposed layout by another kernel: a Hessian of
  ||W W^T - Z||^2 with 8 x 8 matrices, and from 20 x 20 up any product by a column, differ in their last bits
  alone and in a batch.  :func:`paired` computes a lone problem as a batch of two (itself twice), laid out
  as every larger batch is.

:func:`mode` says which kernels this process has (a part of every cache key: results computed under other
kernels may differ in their last bits), and :func:`batch_dependence` why the premise may not hold.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

REPRODUCIBLE = ("MKL_CBWR", "AUTO")

# mkl_service.h: the branch MKL reports when no reproducibility was asked for (MKL_CBWR_BRANCH_OFF), and
# the argument that asks for every setting (MKL_CBWR_ALL).
_MKL_CBWR_BRANCH_OFF = 1
_MKL_CBWR_ALL = -1


def request_reproducible() -> None:
    """Ask MKL for alignment-independent kernels, unless the environment already chose (read at MKL's first
    call: a process that used torch's linear algebra before importing the verifier keeps what it had)."""
    os.environ.setdefault(*REPRODUCIBLE)


def mode() -> str:
    """The CPU kernels of this process, in words: ``"MKL, reproducible (branch N)"``, ``"MKL, not
    reproducible"``, ``"no MKL"``, or ``"MKL, MKL_CBWR=..."`` where MKL's own setting could not be read (an
    MKL linked otherwise than into torch's library) and the environment's is all there is to go by."""
    return _kernels()[0]


def batch_dependence(threads: int, device: str = "cpu") -> str | None:
    """Why a problem's results may depend on its batch when computed on ``device`` (with ``threads`` intra-op
    threads on the CPU), or None where they do not: on the CPU, one thread and MKL's reproducible kernels, or a
    build without MKL (whose BLAS is not known to choose by alignment).  With more threads a batch is shared out
    problem by problem while a lone problem's own work is split, in another order (measured from 20 x 20 up,
    whatever ``MKL_CBWR`` says).  On any other device: not shown to hold (cuBLAS and cuSOLVER pick their
    kernels by batch size as well as by shape, and no GPU has measured the premise), so it is not assumed."""
    if device != "cpu":
        return (f"on {device} the libraries pick their kernels by batch size, and no measurement shows a "
                f"problem's bits independent of its batch there")
    if threads > 1:
        return f"{threads} threads split a lone problem's work otherwise than a batch's"
    words, reproducible = _kernels()
    if reproducible:
        return None
    return f"{words}: torch's linear algebra ran before the verifier was imported; set MKL_CBWR=AUTO"


@functools.cache
def _kernels() -> tuple[str, bool]:
    """(:func:`mode`, whether a problem's bits are independent of its place in a batch).  Where MKL's setting
    cannot be read, MKL_CBWR set means reproducible: every value MKL takes is a reproducible mode."""
    import torch
    if not torch.backends.mkl.is_available():
        return "no MKL", True
    branch = _mkl_branch(Path(torch.__file__).parent / "lib")
    if branch is None:
        requested = os.environ.get(REPRODUCIBLE[0], "")
        return f"MKL, {REPRODUCIBLE[0]}={requested}", bool(requested)
    if branch == _MKL_CBWR_BRANCH_OFF:
        return "MKL, not reproducible", False
    return f"MKL, reproducible (branch {branch})", True


def _mkl_branch(library_dir: Path) -> int | None:
    """MKL's reproducibility setting, from the copy linked into torch (``mkl_serv_cbwr_get``); None where it
    cannot be read."""
    import ctypes
    for path in sorted(library_dir.glob("*torch_cpu*")) + sorted(library_dir.glob("*mkl*")):
        try:
            get = ctypes.CDLL(str(path)).mkl_serv_cbwr_get
        except (OSError, AttributeError):
            continue
        get.restype, get.argtypes = ctypes.c_int, [ctypes.c_int]
        return int(get(_MKL_CBWR_ALL))
    return None


def paired(x, env: dict):
    """A batch of one problem (``x`` (1, P); ``env``'s per-problem tensors, leading dimension 1) as a batch of two:
    the problem twice.  Take the first row of what is computed from them.  Numbers and tensors without that
    leading dimension (shared by every problem) are left as they are."""
    import torch
    twice = lambda t: torch.cat([t, t])          # a copy, laid out as any batch is (not a stride-0 view)
    return twice(x), {k: twice(v) if _one_problem(v) else v for k, v in env.items()}


def _one_problem(value) -> bool:
    shape = getattr(value, "shape", ())
    return len(shape) >= 1 and shape[0] == 1
