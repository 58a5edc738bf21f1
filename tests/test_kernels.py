"""A problem's bits do not depend on its batch (verifier/kernels.py): MKL's reproducible kernels, requested when
the package is imported, and a lone problem's derivatives computed as a pair, laid out as any batch is.
tests/test_minimiser_cache.py checks the consequence through the whole pipeline."""
import os
import subprocess
import sys

import pytest
import sympy as sp
import torch
from sympy import MatrixSymbol, Trace

from verifier import kernels
from verifier.cache import EvidenceCache
from verifier.minimiser_cache import RowStore
from verifier.numeric import Derivatives, MinimiserSettings, Parametrisation, intra_op_threads, pseudo_newton_step
from verifier.spec import Variable

from test_numeric import model

needs_mkl = pytest.mark.skipif(not torch.backends.mkl.is_available(), reason="torch is built without MKL")

r = sp.Symbol("r", integer=True, positive=True)
W = MatrixSymbol("W", r, r)
v = MatrixSymbol("v", r, 1)
Y = MatrixSymbol("Y", r, 1)
Z = MatrixSymbol("Z", r, r)
# A matrix times a column, in the objective and (through its derivatives) in the gradient and Hessian.
MATVEC = model(Trace((W * W.T * v - Y).T * (W * W.T * v - Y)) + Trace(v.T * v) ** 2,
               (Variable(W), Variable(v)), data=(Y,))
GRAM = model(Trace((W * W.T - Z).T * (W * W.T - Z)), (Variable(W),), data=(Z,))


def _alone_and_together(fn, *batched):
    """``fn`` on the whole batch and on each problem alone: (together, [alone, ...])."""
    return fn(*batched), [fn(*(t[i:i + 1] for t in batched)) for i in range(batched[0].shape[0])]


def _same_bits(together, alone) -> bool:
    parts = lambda out: out if isinstance(out, tuple) else (out,)
    return all(torch.equal(t[i:i + 1], a) for i, one in enumerate(alone) for t, a in zip(parts(together), parts(one)))


@pytest.mark.parametrize("objective, size", [("MATVEC", 3), ("GRAM", 8), ("MATVEC", 24)])
def test_a_problems_derivatives_have_the_same_bits_alone_and_in_a_batch(objective, size):
    """Alone, torch lays a problem's tensors out otherwise and multiplies them by other kernels (a transposed
    8 x 8 factor in the Hessian of ||W W^T - Z||^2; from 20 x 20 up a product by a column); the derivatives
    compute a lone problem as a pair, and its loss, gradient, Hessian and pseudo-Newton step are then those
    of any batch (on one thread, as the minimiser runs)."""
    model_, dims = {"MATVEC": MATVEC, "GRAM": GRAM}[objective], {r: size}
    param = Parametrisation(model_, dims)
    derivatives = Derivatives(model_.objective, param, dims, torch.float64, "cpu", block=64)
    g = torch.Generator().manual_seed(size)
    x = torch.randn(5, param.size, generator=g, dtype=torch.float64)
    data = torch.randn(5, size, 1 if objective == "MATVEC" else size, generator=g, dtype=torch.float64)
    name = model_.data[0].name
    with intra_op_threads(1, "cpu"):
        assert _same_bits(*_alone_and_together(lambda x, d: derivatives(x, {name: d}, hessian=True), x, data))
        assert _same_bits(*_alone_and_together(lambda x, d: pseudo_newton_step(derivatives, x, {name: d}), x, data))


def test_a_pair_is_the_problem_twice_as_copies():
    x, y, c = torch.randn(1, 5, dtype=torch.float64), torch.randn(1, 3, 2, dtype=torch.float64), 0.5
    shared = torch.randn(3, 3, dtype=torch.float64)
    px, penv = kernels.paired(x, {"Y": y, "c": c, "t": torch.tensor(2.0), "S": shared})
    assert torch.equal(px, torch.cat([x, x])) and px.is_contiguous() and px.stride(0) == 5
    assert torch.equal(penv["Y"], torch.cat([y, y])) and penv["c"] == c and penv["t"].dim() == 0
    assert penv["S"] is shared                    # not a problem's own: shared by every problem


@needs_mkl
def test_mkl_gives_a_problem_the_same_bits_in_any_batch():
    """Measured on an AMD EPYC (Zen 5): without MKL_CBWR the second 39 x 39 problem of a batch is inverted,
    solved and multiplied with other bits than alone (its memory is aligned otherwise)."""
    assert kernels.batch_dependence(1) is None, kernels.mode()
    g = torch.Generator().manual_seed(0)
    A = torch.randn(6, 39, 39, generator=g, dtype=torch.float64)
    spd = A @ A.mT + torch.eye(39, dtype=torch.float64)
    small = torch.randn(32, 5, 5, generator=g, dtype=torch.float64)
    with intra_op_threads(1, "cpu"):
        for fn in (torch.linalg.inv, lambda m: m @ m, lambda m: torch.linalg.slogdet(m).logabsdet,
                   lambda m: torch.cholesky_solve(m[..., :1], torch.linalg.cholesky(m))):
            assert _same_bits(*_alone_and_together(fn, spd))
        assert _same_bits(*_alone_and_together(torch.linalg.eigvalsh, small @ small.mT))


def test_minimisations_run_on_several_threads_are_not_kept(tmp_path):
    """Several threads split a lone problem's work otherwise than a batch's (every kernel from 20 x 20 up)."""
    describe = lambda threads: RowStore(EvidenceCache(tmp_path), "minimised", None,
                                        MinimiserSettings(cpu_threads=threads), "cpu").describe(3, 0)
    assert describe(1) == "3 minimisations computed, 0 instances' taken from the evidence cache"
    assert describe(2) == ("3 minimisations computed (not cached: a problem's bits may depend on its batch "
                           "(2 threads split a lone problem's work otherwise than a batch's))")


def test_minimisations_on_a_gpu_are_not_kept(tmp_path):
    """The premise is measured on the CPU only; on a GPU the libraries choose kernels by batch size."""
    store = RowStore(EvidenceCache(tmp_path), "minimised", None, MinimiserSettings(), "cuda")
    assert store.describe(3, 0) == ("3 minimisations computed (not cached: a problem's bits may depend on its batch "
                                    "(on cuda the libraries pick their kernels by batch size, and no measurement "
                                    "shows a problem's bits independent of its batch there))")


def _in_a_fresh_process(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != kernels.REPRODUCIBLE[0]}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@needs_mkl
def test_importing_the_package_asks_for_reproducible_kernels_and_a_late_import_turns_the_cache_off():
    """MKL settles its kernels at its first call: the package asks before torch computes anything; a process
    whose linear algebra ran first keeps batch-dependent kernels, and then keeps no minimisation."""
    assert _in_a_fresh_process("import verifier.kernels as k, torch; torch.linalg.inv(torch.eye(3)[None]); "
                               "print(k.mode())").startswith("MKL, reproducible")
    late = _in_a_fresh_process(
        "import torch; torch.linalg.inv(torch.eye(3)[None])\n"
        "from verifier import kernels\n"
        "from verifier.cache import EvidenceCache\n"
        "from verifier.minimiser_cache import RowStore\n"
        "from verifier.numeric import MinimiserSettings\n"
        "import tempfile\n"
        "store = RowStore(EvidenceCache(tempfile.mkdtemp()), 'minimised', None, MinimiserSettings(), 'cpu')\n"
        "print(kernels.mode(), '|', store.describe(3, 0))")
    mode, described = late.split(" | ")
    assert mode == "MKL, not reproducible"
    assert described == ("3 minimisations computed (not cached: a problem's bits may depend on its batch (MKL, "
                         "not reproducible: torch's linear algebra ran before the verifier was imported; set "
                         "MKL_CBWR=AUTO))")


@needs_mkl
def test_where_mkls_setting_cannot_be_read_the_environment_decides(monkeypatch):
    """An MKL linked otherwise than into torch's library: its setting is not read back, and MKL_CBWR is all there
    is to go by (set, as the package sets it, the premise stands; unset, nothing is kept)."""
    monkeypatch.setattr(kernels, "_mkl_branch", lambda library_dir: None)
    kernels._kernels.cache_clear()
    try:
        monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
        assert kernels.mode() == "MKL, MKL_CBWR=COMPATIBLE" and kernels.batch_dependence(1) is None
        kernels._kernels.cache_clear()
        monkeypatch.delenv("MKL_CBWR")
        assert kernels.mode() == "MKL, MKL_CBWR=" and kernels.batch_dependence(1).startswith("MKL, MKL_CBWR=: ")
    finally:
        monkeypatch.undo()
        kernels._kernels.cache_clear()
    assert kernels.mode().startswith("MKL, reproducible")
