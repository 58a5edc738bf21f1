"""The models' sampled losses, summed through the batch's second moments (``models.residual_sum_of_squares``),
equal the per-sample negative ELBO written out directly, value and gradient, with the same draws."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from verifier.training.models import LinearCVAE, LinearMHVAE, LinearVAE, data_quadratic_form, residual_sum_of_squares

RTOL = 1e-11     # float64 rounding of sums of a few hundred terms, far below any change of the formula


def _nll(target, mean, std):
    """-log N(target; mean, std^2 I) per sample, coordinate by coordinate: (K, B)."""
    D = target.shape[-1]
    return ((target - mean) ** 2).sum(-1) / (2 * std[:, None] ** 2) + 0.5 * D * torch.log(2 * math.pi * std[:, None] ** 2)


def _kl(mean, std, prior):
    """KL(N(mean, std^2) || N(0, prior^2)) summed over the latent coordinates, per sample: (K, B)."""
    r = (std / prior[:, None]) ** 2
    return 0.5 * (r[:, None, :] + (mean / prior[:, None, None]) ** 2 - 1 - torch.log(r)[:, None, :]).sum(-1)


def _vae_per_sample(m, x, g):
    mean, std = torch.einsum("kmn,bn->kbm", m.W, x), m.std()
    z = mean + std[:, None, :] * torch.randn(mean.shape, dtype=x.dtype, generator=g)
    return (_nll(x.expand(m.K, *x.shape), torch.einsum("kmn,kbn->kbm", m.U, z), m.eta_dec)
            + m.beta[:, None] * _kl(mean, std, m.eta_enc)).mean(-1)


def _cvae_per_sample(m, x, y, g):
    mean = torch.einsum("kmn,bn->kbm", m.W1, x) + torch.einsum("kmn,bn->kbm", m.W2, y)
    std = m.std()
    z = mean + std[:, None, :] * torch.randn(mean.shape, dtype=x.dtype, generator=g)
    prediction = torch.einsum("kmn,kbn->kbm", m.U1, z) + torch.einsum("kmn,bn->kbm", m.U2, x)
    return (_nll(y.expand(m.K, *y.shape), prediction, m.eta_dec) + m.beta[:, None] * _kl(mean, std, m.eta_enc)).mean(-1)


def _mhvae_per_sample(m, x, g):
    std1, std2 = m.std1(), m.std2()
    mean1 = torch.einsum("kmn,bn->kbm", m.W1, x)
    z1 = mean1 + std1[:, None, :] * torch.randn(mean1.shape, dtype=x.dtype, generator=g)
    mean2 = torch.einsum("kmn,kbn->kbm", m.W2, z1)
    z2 = mean2 + std2[:, None, :] * torch.randn(mean2.shape, dtype=x.dtype, generator=g)
    entropy1 = torch.log(std1).sum(-1) + 0.5 * m.d1 * math.log(2 * math.pi * math.e)
    consistency = _nll(z1, torch.einsum("kmn,kbn->kbm", m.U2, z2), m.eta_dec) - entropy1[:, None]
    return (_nll(x.expand(m.K, *x.shape), torch.einsum("kmn,kbn->kbm", m.U1, z1), m.eta_dec)
            + m.beta1[:, None] * consistency + m.beta2[:, None] * _kl(mean2, std2, m.eta_enc)).mean(-1)


def _models(D0: int, D2: int, rng):
    K = 3
    hyper = lambda: rng.uniform(0.3, 2.5, K)
    return [
        ("vae learnable", LinearVAE(D0, 3, beta=hyper(), eta_enc=hyper(), eta_dec=hyper(), K=K, init_scale=1.0),
         _vae_per_sample, 1),
        ("vae fixed", LinearVAE(D0, 3, beta=hyper(), eta_dec=hyper(), sigma=0.7, K=K, init_scale=1.0), _vae_per_sample, 1),
        ("cvae", LinearCVAE(D0, D2, 2, beta=hyper(), eta_enc=hyper(), eta_dec=hyper(), K=K, init_scale=1.0),
         _cvae_per_sample, 2),
        ("mhvae", LinearMHVAE(D0, 3, 2, beta1=hyper(), beta2=hyper(), eta_enc=hyper(), eta_dec=hyper(), sigma1=0.8,
                              K=K, init_scale=1.0), _mhvae_per_sample, 1),
    ]


@pytest.mark.parametrize("B, D0, D2", [(40, 3, 4), (5, 7, 9), (1, 4, 2)], ids=["batch>dims", "batch<dims", "one sample"])
def test_each_models_loss_is_its_per_sample_elbo_in_value_and_gradient(B, D0, D2):
    rng = np.random.default_rng(B * 100 + D0)
    x = torch.as_tensor(rng.normal(size=(B, D0)) @ np.diag(np.linspace(1.5, 0.2, D0)) + 0.3)
    y = torch.as_tensor(x.numpy() @ rng.normal(size=(D0, D2)) + rng.normal(size=(B, D2)))
    for name, model, reference, arity in _models(D0, D2, rng):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1 * torch.as_tensor(rng.normal(size=tuple(p.shape))))
        data = (x, y)[:arity]
        values, grads = [], []
        for loss in (model.loss, lambda *a, generator: reference(model, *a, generator)):
            model.zero_grad()
            value = loss(*data, generator=torch.Generator().manual_seed(7))
            value.sum().backward()
            values.append(value.detach())
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
        assert torch.allclose(values[0], values[1], rtol=RTOL, atol=0), (name, values)
        scale = grads[1].abs().max()
        assert ((grads[0] - grads[1]).abs().max() <= RTOL * scale), (name, (grads[0] - grads[1]).abs().max(), scale)


def test_residual_sum_of_squares_with_shared_and_per_model_targets_and_inputs():
    rng = np.random.default_rng(11)
    K, B, D = 2, 6, 5
    t = lambda *s: torch.as_tensor(rng.normal(size=s))
    for target in (t(B, D), t(K, B, D)):
        terms = [(t(K, D, 3), t(K, B, 3)), (t(K, D, 4), t(B, 4)), (t(K, D, 2), t(K, B, 2))]
        residual = target - sum((A @ v.mT).mT for A, v in terms)       # (K, B, D)
        expected = (residual ** 2).sum((-2, -1))
        assert torch.allclose(residual_sum_of_squares(target, terms), expected, rtol=RTOL, atol=0)


def test_an_exact_fit_loses_only_the_targets_rounding():
    """The expansion subtracts terms of the target's size: where the model reproduces the target exactly, what is
    left is rounding of ||target||^2, not the residual's relative accuracy (the decoder's fixed variance keeps a
    trained model's residual far from that)."""
    rng = np.random.default_rng(12)
    A, v = torch.as_tensor(rng.normal(size=(1, 6, 3))), torch.as_tensor(rng.normal(size=(30, 3)))
    target = (A @ v.mT).mT[0]
    value = residual_sum_of_squares(target, [(A, v)])
    assert value.abs().item() <= 1e-13 * (target ** 2).sum().item()


@pytest.mark.parametrize("shared", [True, False], ids=["one C for every model", "a C per model"])
def test_the_data_quadratic_forms_gradient_is_its_derivative(shared):
    """Its hand-written backward (2 A C) against finite differences; a C with a gradient is refused, not ignored."""
    rng = np.random.default_rng(13)
    A = torch.as_tensor(rng.normal(size=(3, 5, 4))).requires_grad_(True)
    V = torch.as_tensor(rng.normal(size=(6, 4) if shared else (3, 6, 4)))
    C = V.mT @ V
    assert torch.autograd.gradcheck(lambda a: data_quadratic_form(a, C), (A,))
    assert torch.allclose(data_quadratic_form(A, C), ((A @ C) * A).sum((-2, -1)), rtol=RTOL, atol=0)
    with pytest.raises(ValueError, match="no gradient in C"):
        data_quadratic_form(A, C.clone().requires_grad_(True))
