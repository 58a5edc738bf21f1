"""The lowering of a sympy objective to torch: a repeated subexpression is computed once per evaluation."""
import sympy as sp
import torch
from sympy import MatrixSymbol, Trace, log
from torch.overrides import TorchFunctionMode

from verifier.lowering import evaluate

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
    # products by -1: B and B.T once each.  Computed where they occur: 8 sums and 3 products.
    assert (ops.calls["add"], ops.calls["mul"]) == (6, 2)
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
