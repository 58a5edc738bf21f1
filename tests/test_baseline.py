"""The Adam baseline: shapes, progress on an easy instance, clear errors."""
import numpy as np
import pytest
import torch

from theorems.theorem1_vae_fixed_sigma import THEOREM as T1
from theorems.theorem4_vae_learnable_sigma import THEOREM as T4
from verifier.baseline import adam_baseline, spectrum_distance
from verifier.batch import group_by_dims, instantiate
from verifier.errors import UsageError
from verifier.instances import Instance

EASY_T1 = Instance.from_json({"latent": {"d1": 2}, "hyper": {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0},
                              "vectors": {"sigma": [0.5, 1.0]}, "data": {"spectrum": [3.0, 0.2], "D0": 2}})
EASY_T4 = Instance.from_json({"latent": {"d1": 2}, "hyper": {"beta": 0.5, "eta_enc": 1.0, "eta_dec": 1.0},
                              "vectors": {}, "data": {"spectrum": [2.0, 0.3], "D0": 3}, "seed": 4})


def test_shapes_and_recorded_steps():
    run = adam_baseline(T1, [EASY_T1, EASY_T1], steps=20, record_every=8)
    assert run.steps == [0, 8, 16, 20]
    assert run.dma.shape == (4, 2) and run.final_loss.shape == (2,)
    assert np.isfinite(run.dma).all() and np.isfinite(run.final_loss).all()
    assert run.seconds > 0
    assert np.array_equal(run.dma[:, 0], run.dma[:, 1])     # same instance, same seed, same run


@pytest.mark.parametrize("theorem, instance", [(T1, EASY_T1), (T4, EASY_T4)], ids=["theorem1", "theorem4"])
def test_dma_decreases_on_an_easy_instance(theorem, instance):
    run = adam_baseline(theorem, [instance], steps=200, record_every=50)
    dma = run.dma[:, 0]
    assert dma[-1] < 0.05 * dma[0], dma
    assert dma[-1] < 1e-2, dma          # float32 Adam gets close, but not to float64 resolution


def test_spectrum_distance_is_zero_at_the_claimed_optimum_and_not_elsewhere():
    (group,) = group_by_dims(T4, [EASY_T4])
    batch = instantiate(T4, group)
    assert float(spectrum_distance(T4, batch, batch.claimed)[0]) < 1e-12
    moved = {k: 1.1 * v for k, v in batch.claimed.items()}
    assert float(spectrum_distance(T4, batch, moved)[0]) > 1e-3


@pytest.mark.parametrize("kwargs", [{"steps": 0}, {"record_every": 0}, {"lr": -1.0}])
def test_bad_arguments_are_named(kwargs):
    with pytest.raises(UsageError, match=next(iter(kwargs))):
        adam_baseline(T1, [EASY_T1], **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when CUDA is absent")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(UsageError, match="CUDA"):
        adam_baseline(T1, [EASY_T1], device="cuda")
