"""Bad input gets a clear error naming the problem."""
import math

import numpy as np
import pytest
from instance_edits import edited

from theorems.theorem1_vae_fixed_sigma import THEOREM as T1
from theorems.theorem4_vae_learnable_sigma import THEOREM as T4
from verifier.errors import InstanceError
from verifier.instances import Instance

GOOD = {"latent": {"d1": 2}, "hyper": {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0},
        "vectors": {"sigma": [1.0, 2.0]}, "data": {"spectrum": [2.0, 1.0], "D0": 3}}


def with_(**changes):
    return edited(GOOD, **changes)


def test_good_instance_round_trips():
    inst = Instance.from_json(GOOD).validate(T1.model)
    assert Instance.from_json(inst.to_json()).key() == inst.key()


@pytest.mark.parametrize("obj, message", [
    (with_(hyper__beta=0.0), "beta=0.0 must be finite and > 0"),
    (with_(hyper__eta_dec=-1.0), "eta_dec=-1.0"),
    (with_(hyper__eta_enc=math.nan), "eta_enc=nan"),
    (with_(vectors__sigma=[1.0]), "vector sigma has length 1"),
    (with_(vectors__sigma=[1.0, -2.0]), "vector sigma must be finite and > 0"),
    (with_(latent__d1=0), "latent.d1=0 is out of range"),
    (with_(data={"X": [[1.0, math.nan], [0.0, 1.0]]}), "data.X[0][1] must be finite"),
    (with_(data={"X": [[1.0, math.inf]]}), "data.X[0][1] must be finite"),
    (with_(data={"X": []}), "data.X"),
    (with_(data={"X": [[0.0, 0.0], [0.0, 0.0]]}), "all zeros"),
    (with_(data={"X": [1.0, 2.0]}), "data.X must be a non-empty JSON array of rows"),
    (with_(data={"spectrum": [1.0, 2.0, 3.0, 4.0], "D0": 3}), "it needs 1 to D0=3"),
    (with_(data={"spectrum": [1.0, -1.0], "D0": 3}), "finite and >= 0"),
    (with_(data={"spectrum": [1.0]}), "data has no 'D0' field"),
    (with_(data={"X": [[1.0]], "spectrum": [1.0], "D0": 1}), "exactly one of"),
    (with_(hyper={"beta": 1.0, "eta_enc": 1.0}), "missing ['eta_dec']"),
])
def test_bad_instances_are_named(obj, message):
    with pytest.raises(InstanceError, match=None) as err:
        Instance.from_json(obj).validate(T1.model)
    assert message in str(err.value)


def test_learnable_sigma_takes_no_sigma_vector():
    with pytest.raises(InstanceError, match="vectors"):
        Instance.from_json(GOOD).validate(T4.model)


def test_data_matrix_statistics_match_spectrum():
    """Z computed from X = sqrt(N) Q diag(theta) P^T has singular values theta."""
    rng = np.random.default_rng(0)
    theta = np.array([3.0, 1.5, 0.5])
    Q = np.linalg.qr(rng.standard_normal((10, 3)))[0]
    P = np.linalg.qr(rng.standard_normal((5, 3)))[0]
    X = np.sqrt(10) * (Q * theta) @ P.T
    inst = Instance.from_json(with_(data={"X": X.tolist()}, latent__d1=2))
    mats, dims = T1.model.statistics(inst.validate(T1.model))
    assert dims == {"D0": 5, "d0": 3}
    np.testing.assert_allclose(np.linalg.svd(mats["Z"], compute_uv=False), theta, rtol=1e-12)
