"""Linear VAE, CVAE and two-latent MHVAE as torch modules, trained on their sampled negative ELBO.

Every module holds K independent models side by side (a leading dimension K on every weight and
hyperparameter), so a sweep over beta trains in one tensor op.  The loss is the sum of the K
models' losses; Adam is elementwise, so each model gets exactly the updates it would get alone.

``loss(batch)`` is what users minimise: the negative ELBO in nats, its reconstruction part from one
reparameterised sample z = mu + sigma * eps, each KL in closed form (Gaussians).  Twice its
expectation is the paper's objective plus a constant (``test_training.py`` checks this against
the spec's objective by Monte Carlo):
  VAE (3)/(10):  2 E[loss] = L_VAE + D0 log(2 pi eta_dec^2) + beta d1 (log eta_enc^2 - 1).

Every reconstruction's squared error is summed over the batch through the batch's second moments
(:func:`residual_sum_of_squares`), never as the (K, B, D) residual: the same sum up to rounding, its
products of the size of the weights rather than of batch x output per model (MNIST's CVAE, 196 pixels
to 588 at batch 500: a step in half the time).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import UsageError


def _hyper(values, K: int, name: str) -> torch.Tensor:
    t = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if t.numel() == 1:
        t = t.expand(K).clone()
    if t.numel() != K:
        raise UsageError(f"{name} has {t.numel()} values for K={K} models")
    if not torch.all(torch.isfinite(t) & (t > 0)):
        raise UsageError(f"{name}={t.tolist()} must be finite and > 0")
    return t


class DiagonalStd(nn.Module):
    """Standard deviations of a data-independent diagonal covariance: learnable (through its log,
    so it stays positive) or fixed."""

    def __init__(self, K: int, d: int, fixed=None):
        super().__init__()
        self.learnable = fixed is None
        if self.learnable:
            self.log_std = nn.Parameter(torch.zeros(K, d, dtype=torch.float64))
        else:
            std = torch.as_tensor(fixed, dtype=torch.float64)
            if std.ndim == 0:
                std = std.expand(K, d)
            elif std.ndim == 1:
                std = std.expand(K, d) if std.numel() == d else std[:, None].expand(K, d)
            if std.shape != (K, d) or not torch.all(std > 0):
                raise UsageError(f"a fixed encoder std needs {K} x {d} positive values; got shape {tuple(std.shape)}")
            self.register_buffer("fixed_std", std.clone())

    def forward(self) -> torch.Tensor:          # (K, d)
        return self.log_std.exp() if self.learnable else self.fixed_std


def _weight(K: int, rows: int, cols: int, generator: torch.Generator, scale: float) -> nn.Parameter:
    return nn.Parameter(scale * torch.randn(K, rows, cols, dtype=torch.float64, generator=generator) / math.sqrt(cols))


def _apply(M: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """M (K, m, n) applied to the rows of v: (B, n) or (K, B, n) -> (K, B, m)."""
    if v.ndim == 2:
        return torch.einsum("kmn,bn->kbm", M, v)
    return torch.einsum("kmn,kbn->kbm", M, v)


def gaussian_kl(mean: torch.Tensor, std: torch.Tensor, prior_std: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, std^2) || N(0, prior_std^2)) per coordinate: mean (K, B, d), std (K, d), prior_std (K,)."""
    var_ratio = (std / prior_std[:, None]) ** 2                 # (K, d)
    return 0.5 * (var_ratio[:, None, :] + (mean / prior_std[:, None, None]) ** 2 - 1 - torch.log(var_ratio)[:, None, :])


def residual_sum_of_squares(target: torch.Tensor, terms) -> torch.Tensor:
    """sum_b ||target_b - sum_j A_j v_jb||^2 for each of the K models: (K,).

    ``target`` (B, D) or (K, B, D); ``terms`` pairs of a weight A (K, D, n) and its inputs v, (B, n) data
    shared by the models or (K, B, n) latents.  Expanded through the batch's second moments,
    ||T||^2 - 2 sum_j <A_j, T^T V_j> + sum_j <A_j V_j^T V_j, A_j> + 2 sum_{j<l} <A_j V_j^T V_l, A_l>, so no
    (K, B, D) tensor is formed: each product costs D n_j n_l or B n_j n_l per model instead of B D n_j, and a
    moment of data alone (x^T x, y^T x) is taken once for all K.  The expansion is exact in exact arithmetic;
    in float64 it loses about log10(||T||^2 / ||residual||^2) digits to cancellation, a few at most for a
    decoder of fixed variance on data it does not reproduce exactly (the trained runs' every reported number
    agrees with the per-sample sum's to 3e-11 relative)."""
    weights, inputs = zip(*terms)
    total = (target * target).sum((-2, -1))
    for j, (A, v) in enumerate(terms):
        total = total - 2 * (A * (target.mT @ v)).sum((-2, -1))
        for l in range(j, len(terms)):
            if l == j and not v.requires_grad:
                cross = data_quadratic_form(A, v.mT @ v)
            else:
                # <A_j (V_j^T V_l), A_l> rather than <A_j^T A_l, V_j^T V_l>: the same products, and its gradient
                # takes one more (D x n_j x n_l) product where the other grouping's takes two.
                cross = ((A @ (v.mT @ inputs[l])) * weights[l]).sum((-2, -1))
            total = total + (cross if l == j else 2 * cross)
    return total


def data_quadratic_form(A: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
    """<A C, A> = tr(A C A^T) for each model: A (K, D, n), C (n, n) or (K, n, n) a Gram matrix of data, symmetric
    and without gradient; (K,).  Its gradient in A, 2 A C, is the product the value already took, where autograd
    would take A C^T again: on MNIST's CVAE a 588 x 196 x 196 product a model, a sixth of a step.  (A latent's
    Gram matrix, which has a gradient, keeps autograd's route: at its small sizes that is the cheaper one.)"""
    if C.requires_grad:
        raise ValueError("data_quadratic_form gives no gradient in C; pass a Gram matrix of data")
    return _DataQuadraticForm.apply(A, C)


class _DataQuadraticForm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, A, C):
        AC = A @ C
        ctx.save_for_backward(AC)
        return (AC * A).sum((-2, -1))

    @staticmethod
    def backward(ctx, grad):
        (AC,) = ctx.saved_tensors
        return 2 * grad[..., None, None] * AC, None          # A (C + C^T), C symmetric


def mean_gaussian_nll(target: torch.Tensor, terms, std: torch.Tensor) -> torch.Tensor:
    """-log N(target_b; sum_j A_j v_jb, std^2 I) summed over coordinates, mean over the batch: (K,).
    ``target`` and ``terms`` as in :func:`residual_sum_of_squares`; ``std`` (K,)."""
    B, D = target.shape[-2:]
    return (residual_sum_of_squares(target, terms) / (2 * B * std ** 2)
            + 0.5 * D * torch.log(2 * math.pi * std ** 2))


class LinearVAE(nn.Module):
    """q(z|x) = N(Wx, Sigma), p(x|z) = N(Uz, eta_dec^2 I), p(z) = N(0, eta_enc^2 I); beta before the KL (3)."""

    def __init__(self, D0: int, d1: int, *, beta, eta_enc=1.0, eta_dec=1.0, sigma=None, K: int = 1,
                 seed: int = 0, init_scale: float = 0.1):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.K, self.D0, self.d1 = K, D0, d1
        for name, v in (("beta", beta), ("eta_enc", eta_enc), ("eta_dec", eta_dec)):
            self.register_buffer(name, _hyper(v, K, name))
        self.W = _weight(K, d1, D0, g, init_scale)
        self.U = _weight(K, D0, d1, g, init_scale)
        self.std = DiagonalStd(K, d1, sigma)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _apply(self.W, x), self.std()

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sampled negative ELBO, mean over the batch: (K,)."""
        mean, std = self.encode(x)
        z = mean + std[:, None, :] * torch.randn(mean.shape, dtype=mean.dtype, generator=generator, device=mean.device)
        reconstruction = mean_gaussian_nll(x, [(self.U, z)], self.eta_dec)
        kl = gaussian_kl(mean, std, self.eta_enc).sum(-1).mean(-1)
        return reconstruction + self.beta * kl

    def kl_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """KL(q(z_i|x) || p(z_i)) for every sample and latent dimension: (K, N, d1)."""
        mean, std = self.encode(x)
        return gaussian_kl(mean, std, self.eta_enc)

    def posterior_mean(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[0]


class LinearCVAE(nn.Module):
    """q(z|x,y) = N(W1 x + W2 y, Sigma), p(y|z,x) = N(U1 z + U2 x, eta_dec^2 I), p(z) = N(0, eta_enc^2 I) (5)."""

    def __init__(self, D0: int, D2: int, d1: int, *, beta, eta_enc=1.0, eta_dec=1.0, sigma=None, K: int = 1,
                 seed: int = 0, init_scale: float = 0.1):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.K, self.D0, self.D2, self.d1 = K, D0, D2, d1
        for name, v in (("beta", beta), ("eta_enc", eta_enc), ("eta_dec", eta_dec)):
            self.register_buffer(name, _hyper(v, K, name))
        self.W1 = _weight(K, d1, D0, g, init_scale)
        self.W2 = _weight(K, d1, D2, g, init_scale)
        self.U1 = _weight(K, D2, d1, g, init_scale)
        self.U2 = _weight(K, D2, D0, g, init_scale)
        self.std = DiagonalStd(K, d1, sigma)

    def encode(self, x, y):
        return _apply(self.W1, x) + _apply(self.W2, y), self.std()

    def loss(self, x, y, generator: torch.Generator | None = None) -> torch.Tensor:
        mean, std = self.encode(x, y)
        z = mean + std[:, None, :] * torch.randn(mean.shape, dtype=mean.dtype, generator=generator, device=mean.device)
        reconstruction = mean_gaussian_nll(y, [(self.U1, z), (self.U2, x)], self.eta_dec)
        kl = gaussian_kl(mean, std, self.eta_enc).sum(-1).mean(-1)
        return reconstruction + self.beta * kl

    def kl_per_dim(self, x, y):
        mean, std = self.encode(x, y)
        return gaussian_kl(mean, std, self.eta_enc)

    def posterior_mean(self, x, y):
        return self.encode(x, y)[0]


class LinearMHVAE(nn.Module):
    """Two-latent Markovian hierarchical VAE of Section 4.2: q(z1|x) = N(W1 x, Sigma1),
    q(z2|z1) = N(W2 z1, Sigma2), p(z1|z2) = N(U2 z2, eta_dec^2 I), p(x|z1) = N(U1 z1, eta_dec^2 I),
    p(z2) = N(0, eta_enc^2 I); beta1 before the z1 term, beta2 before the KL of z2.

    Per sample (z1, z2 drawn by reparameterisation, the entropy of q(z1|x) and the KL of z2 in
    closed form): -log p(x|z1) + beta1 [-log p(z1|z2) - H(q(z1|x))] + beta2 KL(q(z2|z1) || p(z2)).
    """

    def __init__(self, D0: int, d1: int, d2: int, *, beta1, beta2, eta_enc=1.0, eta_dec=1.0, sigma1=1.0,
                 sigma2=None, K: int = 1, seed: int = 0, init_scale: float = 0.1):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.K, self.D0, self.d1, self.d2 = K, D0, d1, d2
        for name, v in (("beta1", beta1), ("beta2", beta2), ("eta_enc", eta_enc), ("eta_dec", eta_dec)):
            self.register_buffer(name, _hyper(v, K, name))
        self.W1 = _weight(K, d1, D0, g, init_scale)
        self.W2 = _weight(K, d2, d1, g, init_scale)
        self.U1 = _weight(K, D0, d1, g, init_scale)
        self.U2 = _weight(K, d1, d2, g, init_scale)
        self.std1 = DiagonalStd(K, d1, sigma1)
        self.std2 = DiagonalStd(K, d2, sigma2)

    def loss(self, x, generator: torch.Generator | None = None) -> torch.Tensor:
        std1, std2 = self.std1(), self.std2()
        mean1 = _apply(self.W1, x)
        z1 = mean1 + std1[:, None, :] * torch.randn(mean1.shape, dtype=x.dtype, generator=generator, device=x.device)
        mean2 = _apply(self.W2, z1)
        z2 = mean2 + std2[:, None, :] * torch.randn(mean2.shape, dtype=x.dtype, generator=generator, device=x.device)
        reconstruction = mean_gaussian_nll(x, [(self.U1, z1)], self.eta_dec)
        # -log p(z1|z2) - H(q(z1|x)); H of N(., diag(std1^2)) is sum(log std1) + d1/2 log(2 pi e).
        entropy1 = torch.log(std1).sum(-1) + 0.5 * self.d1 * math.log(2 * math.pi * math.e)
        consistency = mean_gaussian_nll(z1, [(self.U2, z2)], self.eta_dec) - entropy1
        kl2 = gaussian_kl(mean2, std2, self.eta_enc).sum(-1).mean(-1)
        return reconstruction + self.beta1 * consistency + self.beta2 * kl2

    def z2_marginal(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z2|x) = N(W2 W1 x, W2 Sigma1 W2^T + Sigma2): its mean (K, N, d2) and per-coordinate std (K, d2)."""
        std1, std2 = self.std1(), self.std2()
        mean = _apply(self.W2, _apply(self.W1, x))
        var = torch.einsum("kij,kj->ki", self.W2 ** 2, std1 ** 2) + std2 ** 2
        return mean, var.sqrt()

    def kl_per_dim(self, x) -> torch.Tensor:
        """KL(q(z2_i|x) || p(z2_i)) per sample and dimension of z2 (the latent whose collapse Fig. 6b shows)."""
        mean, std = self.z2_marginal(x)
        return gaussian_kl(mean, std, self.eta_enc)

    def posterior_mean(self, x) -> torch.Tensor:
        return self.z2_marginal(x)[0]
