"""The lowering of a sympy objective to torch: a repeated subexpression is computed once per evaluation."""
import warnings

import pytest
import sympy as sp
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as fixed_seed
from sympy import MatrixSymbol, Trace, log
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from theorems import REGISTRY
from verifier.batch import group_by_dims, instantiate
from verifier.data_form import data_form_derivatives, data_form_inputs
from verifier.loader import load_spec
from verifier.lowering import evaluate
from verifier.numeric import Derivatives, Parametrisation
from verifier.strategies import instance_batches

n = sp.Symbol("n", integer=True, positive=True)
A, B, C = (MatrixSymbol(name, n, n) for name in "ABC")
DIMS = {n: 3}
# A + B and A - B each occur twice (sympy keeps them as nodes; it writes (A - B).T as A.T - B.T)
OBJECTIVE = Trace((A + B) * C * (A + B)) + Trace(C * (A - B) * C * (A - B).T * (A - B)) + log(Trace(A * B) ** 2 + 1)


class CountedOps(TorchFunctionMode):
    """How many times each torch function runs inside the block."""

    def __init__(self):
        super().__init__()
        self.calls: dict[str, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", str(func))
        self.calls[name] = self.calls.get(name, 0) + 1
        return func(*args, **(kwargs or {}))


class AtenNames(TorchDispatchMode):
    """The aten operations run inside the block, by name, in order (what autograd records and differentiates)."""

    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def _env(seed: int, batch: int = 4) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {name: torch.randn(batch, 3, 3, dtype=torch.float64, generator=g) for name in "ABC"}


def _by_hand(env: dict) -> torch.Tensor:
    """The objective written out in torch, each repeated subexpression computed where it occurs."""
    a, b, c = env["A"], env["B"], env["C"]
    trace = lambda m: torch.diagonal(m, dim1=-2, dim2=-1).sum(-1)
    return (trace((a + b) @ c @ (a + b)) + trace(c @ (a - b) @ c @ (a - b).mT @ (a - b))
            + torch.log(trace(a @ b) ** 2 + 1))


def test_a_repeated_subexpression_is_computed_once_per_evaluation():
    env = _env(0)
    with CountedOps() as ops:
        evaluate(OBJECTIVE, env, DIMS)
    # sums: A + B, A + (-1)B and A.T + (-1)B.T once each, the objective's three terms (2), Trace(AB)^2 + 1 (1);
    # products by -1: B and B.T once each, and each trace's elementwise product (3).  Computed where they occur:
    # 8 sums and 6 products.
    assert (ops.calls["add"], ops.calls["mul"]) == (6, 5)
    other = _env(1)
    with CountedOps() as again:          # a second evaluation computes them again: nothing is kept between calls
        evaluate(OBJECTIVE, other, DIMS)
    assert again.calls == ops.calls


def test_shared_values_are_the_values_of_the_written_out_objective():
    for seed in range(5):
        env = _env(seed)
        assert torch.allclose(evaluate(OBJECTIVE, env, DIMS), _by_hand(env), rtol=1e-14, atol=0)


def test_the_gradient_through_shared_values_is_the_written_out_objective_s():
    env = _env(7)
    leaves = {k: v.clone().requires_grad_(True) for k, v in env.items()}
    ours = torch.autograd.grad(evaluate(OBJECTIVE, leaves, DIMS).sum(), list(leaves.values()))
    leaves2 = {k: v.clone().requires_grad_(True) for k, v in env.items()}
    theirs = torch.autograd.grad(_by_hand(leaves2).sum(), list(leaves2.values()))
    for g, h in zip(ours, theirs):
        assert torch.allclose(g, h, rtol=1e-13, atol=1e-13)


def test_an_inverse_is_nan_where_singular_and_differentiates_as_the_plain_inverse():
    """NaN where a matrix is singular (a step the minimiser rejects); elsewhere the value is torch's inverse to
    the bit, its gradient torch's to the bit, and its Hessian, taken as the minimiser takes it (one batched
    backward pass over every direction), is the plain inverse's -- with as many tensor operations for 9
    directions as for 4: neither a selection nor a product that the batched pass runs once per direction."""
    from torch.func import hessian

    objective = Trace(sp.Inverse(A) * C) + Trace(sp.Inverse(A) * sp.Inverse(A))

    def lowered(x, c, k):
        return evaluate(objective, {"A": x.reshape(*x.shape[:-1], k, k), "C": c}, {n: k})

    def plain(x, c, k):
        inverse = torch.linalg.inv(x.reshape(k, k))
        return torch.trace(inverse @ c) + torch.trace(inverse @ inverse)

    where_calls, all_calls = [], []
    for k in (2, 3):
        g = torch.Generator().manual_seed(k)
        x = (torch.randn(4, k * k, generator=g, dtype=torch.float64)
             + 3 * torch.eye(k, dtype=torch.float64).reshape(1, -1))
        c = torch.randn(4, k, k, generator=g, dtype=torch.float64)
        x[0] = 0.0                                                # singular
        with torch.no_grad():
            value = lowered(x, c, k)
        assert torch.isnan(value[0])
        inverse = torch.linalg.inv(x[1:].reshape(-1, k, k))
        # tr(A^-1 C) as a trace of a product is lowered (elementwise); tr(A^-2) as the diagonal of a power
        expected = ((inverse * c[1:].mT).sum((-2, -1))
                    + torch.diagonal(inverse @ inverse, dim1=-2, dim2=-1).sum(-1))
        torch.testing.assert_close(value[1:], expected, rtol=0, atol=0)
        x = x[1:].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(lowered(x, c[1:], k).sum(), x, create_graph=True)
        m = x.detach().reshape(-1, k, k).requires_grad_(True)
        upstream = torch.randn(m.shape, generator=g, dtype=torch.float64)
        ours = torch.autograd.grad(evaluate(sp.Inverse(A), {"A": m}, {n: k}), m, upstream)[0]
        assert torch.equal(ours, torch.autograd.grad(torch.linalg.inv(m), m, upstream)[0])   # torch's derivative
        directions = torch.eye(k * k, dtype=torch.float64)[:, None, :].expand(-1, 3, k * k)
        with AtenNames() as calls:
            (rows,) = torch.autograd.grad(grad, x, grad_outputs=directions, is_grads_batched=True)
        where_calls.append(calls.names.count("where"))
        all_calls.append(len(calls.names))
        for b in range(3):
            torch.testing.assert_close(rows[:, b], hessian(plain)(x[b].detach(), c[1 + b], k), rtol=1e-10, atol=1e-12)
    assert where_calls[0] == where_calls[1]        # 4 and 9 directions: no selection repeated per direction
    assert all_calls[0] == all_calls[1]            # nor anything else (torch's own derivative loops: matmul)
    negative = -torch.diag(torch.tensor([2.0, 3.0, 5.0], dtype=torch.float64))[None]
    inverse = evaluate(sp.Inverse(A), {"A": negative}, DIMS)
    assert torch.equal(torch.signbit(inverse), torch.signbit(torch.linalg.inv(negative)))   # -0.0 stays -0.0


def test_a_product_of_two_batches_of_matrices_is_one_bmm_with_matmul_s_bits():
    """A batch times a batch of one size is ``bmm`` alone -- no expand or view around it for autograd to record
    and differentiate -- with ``matmul``'s value and gradient to the bit; two batch dimensions give ``matmul``'s
    bits too, and a matrix without a batch still multiplies as ``matmul`` broadcasts."""
    env = {name: value.requires_grad_(True) for name, value in _env(3).items()}
    env["B"] = env["B"].mT                                  # a transposed view, as W.T is
    with AtenNames() as calls:
        value = evaluate(A * B * C, env, DIMS)
    assert calls.names == ["bmm", "bmm"]
    expected = env["A"] @ env["B"] @ env["C"]
    assert torch.equal(value, expected)
    upstream = torch.randn(value.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    for ours, theirs in zip(torch.autograd.grad(value, list(env.values()), upstream),
                            torch.autograd.grad(expected, list(env.values()), upstream)):
        assert torch.equal(ours, theirs)
    deeper = {name: torch.randn(2, 4, 3, 3, dtype=torch.float64) for name in "AB"}
    assert torch.equal(evaluate(A * B, deeper, DIMS), deeper["A"] @ deeper["B"])
    lone = {"A": torch.randn(4, 3, 3, dtype=torch.float64), "B": torch.randn(3, 3, dtype=torch.float64)}
    assert torch.equal(evaluate(A * B, lone, DIMS), lone["A"] @ lone["B"])


def test_a_trace_of_a_product_leaves_its_last_factor_unmultiplied():
    """tr(c X L) as c times the sum of X * L^T: one ``bmm`` for A B C's first product, none for its last; the value
    and the gradient are the multiplied-out trace's up to rounding.  A trace of anything else is its diagonal's sum."""
    env = {name: value.requires_grad_(True) for name, value in _env(5).items()}
    with AtenNames() as calls:
        value = evaluate(Trace(2 * A * B * C), env, DIMS)
    assert calls.names.count("bmm") == 1 and "diagonal" not in calls.names
    expected = 2 * torch.diagonal(env["A"] @ env["B"] @ env["C"], dim1=-2, dim2=-1).sum(-1)
    torch.testing.assert_close(value, expected, rtol=1e-14, atol=1e-14)
    for ours, theirs in zip(torch.autograd.grad(value.sum(), list(env.values())),
                            torch.autograd.grad(expected.sum(), list(env.values()))):
        torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=1e-13)
    with AtenNames() as calls:
        evaluate(Trace(A + B), env, DIMS)
    assert "diagonal" in calls.names


@pytest.mark.parametrize("name", REGISTRY)
def test_no_registered_objectives_hessian_loops_over_its_directions(name):
    """The minimiser's Hessian is one batched backward pass over every direction (``is_grads_batched``, torch's
    legacy vmap); an operation without a batching rule there runs once per direction instead, silently (a
    selection's derivative, torch's inverse's ``matmul``s: a third of Theorem 3's tensor operations).  None is
    met by any registered theorem's matrix objective or data form."""
    theorem = load_spec(name)
    batch = _one_batch(theorem)
    dims, data = batch.dims, batch.data
    forms = [(theorem.model.objective, Parametrisation(theorem.model, dims), None)]
    raw = _raw_data(theorem, batch)
    if raw is not None:
        param, derivatives = data_form_derivatives(theorem.model.data_form, dims, torch.float64, "cpu")
        forms.append((None, param, derivatives))
    torch._C._debug_only_display_vmap_fallback_warnings(True)
    try:
        for objective, param, derivatives in forms:
            derivatives = derivatives or Derivatives(objective, param, dims, torch.float64, "cpu", block=64)
            env = data if objective is not None else raw
            rows = next(iter(env.values())).shape[0]
            x = 0.3 * torch.randn(rows, param.size, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                derivatives(x, env, hessian=True)
            loops = {str(w.message).split("batching rule for ")[1].split(".")[0]
                     for w in caught if "batching rule for" in str(w.message)}
            assert not loops, f"{name}: the batched Hessian loops over its directions in {sorted(loops)}"
    finally:
        torch._C._debug_only_display_vmap_fallback_warnings(False)


def _one_batch(theorem):
    """A batch of the theorem's instances as its searches draw them (a fixed seed): of the shapes drawn, the one
    with the most latent dimensions."""
    drawn = []

    @settings(max_examples=8, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @fixed_seed(5)
    @given(instance_batches(theorem, 4, 3))
    def draw(instances):
        drawn.extend(instances)

    draw()
    group = max(group_by_dims(theorem, drawn), key=lambda g: (sum(g[0][2].values()), len(g)))
    return instantiate(theorem, group)


def _raw_data(theorem, batch) -> dict | None:
    """The data form's inputs for the batch's first group of instances that give data (None: no data form, or
    no instance gives data)."""
    if theorem.model.data_form is None:
        return None
    groups, _ = data_form_inputs(theorem.model, batch)
    return groups[0][1] if groups else None
