"""Training the linear models on real data: loading, the models' ELBO, a short run against the theory."""
from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
import torch

from theorems.linear_vae import beta, eta_dec, eta_enc, omega, theta
from verifier.cli import main
from verifier.errors import InstanceError, UsageError
from verifier.instances import Instance
from verifier.loader import load_spec
from verifier.lowering import evaluate
from verifier.training import data, experiments, measures, predict
from verifier.training.models import LinearMHVAE, LinearVAE
from verifier.training.train import TrainSettings, train


# --------------------------------------------------------------------------- data

def test_digits_are_scaled_and_centred():
    ds = data.digits("vae")
    assert ds.x.shape == (1797, 64)
    assert np.allclose(ds.x.mean(0), 0)
    assert ds.x.max() <= 1 and ds.x.min() >= -1          # pixels/16 in [0, 1], then centred


def test_quadrant_split_takes_the_bottom_left_quadrant():
    img = np.arange(64, dtype=float).reshape(1, 8, 8)      # entry = 8 * row + column
    x, y = data.quadrant_split(img)
    assert x.shape == (1, 16) and y.shape == (1, 48)
    assert sorted(x[0]) == sorted(8 * r + c for r in range(4, 8) for c in range(4))
    assert set(x[0]).isdisjoint(y[0])
    ds = data.digits("cvae")
    assert ds.x.shape == (1797, 16) and ds.y.shape == (1797, 48)


def test_user_files_load(tmp_path):
    X = np.random.default_rng(0).normal(size=(10, 3))
    np.savez(tmp_path / "d.npz", x=X, y=X[:, :2])
    ds = data.load(str(tmp_path / "d.npz"))
    assert ds.x.shape == (10, 3) and ds.y.shape == (10, 2) and np.allclose(ds.x, X - X.mean(0))
    (tmp_path / "d.csv").write_text("a,b,c\n" + "\n".join(",".join(map(str, r)) for r in X))
    assert np.allclose(data.load(str(tmp_path / "d.csv")).x, X - X.mean(0))


@pytest.mark.parametrize("name, content, message", [
    ("nokey.npz", {"z": np.ones((3, 2))}, "no array named 'x'"),
    ("vector.npz", {"x": np.ones(5)}, "one sample per row"),
    ("nan.npz", {"x": np.array([[1.0, np.nan], [0.0, 1.0]])}, "NaN or infinite entry at row 0, column 1"),
    ("empty.npz", {"x": np.zeros((0, 4))}, "empty"),
    ("text.npz", {"x": np.array([["a", "b"], ["c", "d"]])}, "not numeric"),
    ("rows.npz", {"x": np.ones((4, 2)), "y": np.ones((3, 2))}, "'y' has 3 rows"),
])
def test_malformed_npz_is_named(tmp_path, name, content, message):
    np.savez(tmp_path / name, **content)
    with pytest.raises(InstanceError, match=message):
        data.load(str(tmp_path / name))


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("1,2\n3,x\n", "non-numeric entry 'x'"),
    ("1,2\n3\n", "row 2 has 1 columns"),
    ("1,2\nnan,3\n", "NaN"),
    ("a,b\n1,2\n", "at least 2"),
])
def test_malformed_csv_is_named(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(InstanceError, match=message):
        data.load(str(tmp_path / "bad.csv"))


def test_bad_data_argument(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        data.load(str(tmp_path / "missing.npz"))
    with pytest.raises(UsageError, match="digits"):
        data.load("mnist.parquet")
    np.savez(tmp_path / "odd.npz", x=np.ones((5, 3)))
    with pytest.raises(InstanceError, match="pairs"):
        data.load(str(tmp_path / "odd.npz"), task="cvae")


def test_cli_reports_a_malformed_file_with_exit_code_2(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", x=np.array([[1.0, np.inf], [0.0, 1.0]]))
    assert main(["train", "--experiment", "vae", "--data", str(tmp_path / "bad.npz")]) == 2
    assert "infinite entry at row 0, column 1" in capsys.readouterr().err


# --------------------------------------------------------------------------- the models' ELBO

MC_REPEATS = 4000
Z_SCORE = 5.0     # |estimate - expectation| <= 5 standard errors: a false alarm has probability < 1e-6


def _mc(loss_fn, repeats=MC_REPEATS):
    """Mean and standard error of 2 * (sampled loss), over independent reparameterised draws."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        draws = torch.stack([2 * loss_fn(g) for _ in range(repeats)]).numpy()[:, 0]
    return draws.mean(), draws.std(ddof=1) / np.sqrt(repeats)


def _vae_setup():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 4)) @ np.diag([1.0, 0.7, 0.4, 0.2])
    hyper = {"beta": 0.7, "eta_enc": 1.3, "eta_dec": 0.8}
    model = LinearVAE(4, 3, **hyper, seed=2, init_scale=1.0)
    with torch.no_grad():
        model.std.log_std.copy_(torch.tensor([[-0.3, 0.1, 0.4]]))
    theorem = load_spec("theorem4")
    pred = predict.predict(theorem, Instance({"d1": 3}, hyper, {}, X=X))
    point = {"U": model.U[0].detach().numpy(), "V": model.W[0].detach().numpy() @ pred.data["Z"],
             "Sigma": np.diag(model.std()[0].detach().numpy() ** 2)}
    # (3) drops these constants: 2 E[-ELBO] = L_VAE + D0 log(2 pi eta_dec^2) + beta d1 (log eta_enc^2 - 1)
    const = 4 * np.log(2 * np.pi * hyper["eta_dec"] ** 2) + hyper["beta"] * 3 * (np.log(hyper["eta_enc"] ** 2) - 1)
    return model, torch.as_tensor(X), theorem, pred, point, const


def test_vae_sampled_elbo_matches_the_spec_objective():
    model, x, theorem, pred, point, const = _vae_setup()
    mean, se = _mc(lambda g: model.loss(x, generator=g))
    expected = predict.objective(theorem, pred, point) + const
    assert abs(mean - expected) <= Z_SCORE * se, (mean, expected, se)


def test_vae_elbo_check_catches_a_wrong_objective():
    """Mutant: the objective without tr(U^T U Sigma) (the decoder noise term) must be rejected."""
    model, x, theorem, pred, point, const = _vae_setup()
    mean, se = _mc(lambda g: model.loss(x, generator=g))
    U, S = point["U"], point["Sigma"]
    dropped = np.trace(U.T @ U @ S) / pred.hyper["eta_dec"] ** 2
    mutant = predict.objective(theorem, pred, point) - dropped + const
    assert abs(mean - mutant) > Z_SCORE * se


def test_mhvae_sampled_elbo_matches_the_spec_objective():
    theorem = predict.available("theorem3")
    if theorem is None:
        pytest.skip("theorem3 spec not available")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 4)) @ np.diag([1.0, 0.6, 0.5, 0.3])
    hyper = {"beta1": 0.8, "beta2": 1.4, "eta_enc": 1.2, "eta_dec": 0.9, "sigma1": 0.7}
    model = LinearMHVAE(4, 2, 2, beta1=0.8, beta2=1.4, eta_enc=1.2, eta_dec=0.9, sigma1=0.7, seed=5, init_scale=1.0)
    with torch.no_grad():
        model.std2.log_std.copy_(torch.tensor([[-0.2, 0.3]]))
    pred = predict.predict(theorem, Instance({"d1": 2, "d2": 2}, hyper, {}, X=X))
    f = lambda t: t[0].detach().numpy()
    point = {"U1": f(model.U1), "V1": f(model.W1) @ pred.data["Z"], "U2": f(model.U2), "W2": f(model.W2),
             "Sigma2": np.diag(f(model.std2()) ** 2)}
    point = {k: v for k, v in point.items() if k in theorem.model.variable_names}
    mean, se = _mc(lambda g: model.loss(torch.as_tensor(X), generator=g))
    # Constants the spec drops: D0 log(2 pi eta_dec^2) from -log p(x|z1); beta1 d1 (log eta_dec^2 - 1) from
    # -log p(z1|z2) - H(q(z1|x)); beta2 d2 (log eta_enc^2 - 1) from the KL of z2 (d1 = d2 = 2).
    const = 4 * np.log(2 * np.pi * 0.81) + 0.8 * 2 * (np.log(0.81) - 1) + 1.4 * 2 * (np.log(1.44) - 1)
    expected = predict.objective(theorem, pred, point) + const
    assert abs(mean - expected) <= Z_SCORE * se, (mean, expected, se)
    # Mutant: the consistency term without beta1 tr(U2^T U2 Sigma2) must be rejected.
    dropped = 0.8 * np.trace(point["U2"].T @ point["U2"] @ point["Sigma2"]) / 0.81
    assert abs(mean - (expected - dropped)) > Z_SCORE * se


# --------------------------------------------------------------------------- predictions and measures

def test_collapse_point_is_where_the_closed_form_vanishes():
    ds = data.digits("vae")
    theorem = load_spec("theorem4")
    pred = predict.predict(theorem, Instance({"d1": 4}, {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0}, {}, X=ds.x))
    points = predict.collapse_point(theorem, pred, "beta", "omega", 1e-3, 10.0)
    # Theorem 4: omega_i* > 0 iff theta_i^2 > beta eta_dec^2, so dimension i collapses at beta = theta_i^2.
    assert np.allclose(points, pred.indexed["theta"] ** 2, rtol=1e-8)
    for b in points:          # just below: active, just above: collapsed
        omega_i = predict.closed_forms_at(theorem, pred, "beta", [b * 0.999, b * 1.001])["omega"]
        assert ((omega_i > 0).sum(1) == [np.sum(points > b * 0.999), np.sum(points > b * 1.001)]).all()


def test_measures():
    assert measures.d_ma([3, 1], [1, 3, 2]) == pytest.approx((0 + 1 + 1) / 3)   # [3, 1, 0] against [3, 2, 1]
    kl = np.array([[1e-5, 1.0], [2e-5, 1e-6], [1e-5, 2.0]])     # 3 samples, 2 dimensions
    assert measures.collapsed(kl, 1e-4, delta=0.05).tolist() == [True, False]
    assert measures.collapsed(kl, 1e-4, delta=0.5).tolist() == [True, False]
    assert measures.collapsed(kl, 10.0).tolist() == [True, True]
    assert measures.active_units(np.array([[0.0, 1.0], [0.0, -1.0]])).tolist() == [False, True]


def test_training_is_seeded():
    x = data.digits("vae").x[:200]
    runs = []
    for _ in range(2):
        m = LinearVAE(64, 3, beta=0.5, seed=7)
        r = train(m, (x,), TrainSettings(epochs=2, batch_size=64, seed=7))
        runs.append((r.epoch_loss, m.W.detach().numpy().copy()))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


# --------------------------------------------------------------------------- a short run against the theory

@pytest.fixture(scope="module")
def vae_run():
    return experiments.vae(experiments.RunSettings(epochs=experiments.EPOCHS["quick"]))


def test_short_vae_run_agrees_with_theorems_1_and_4(vae_run):
    learnable, fixed = vae_run.data["learnable"], vae_run.data["fixed"]
    assert learnable["measured_collapsed"] == learnable["predicted_collapsed"][0] == experiments.VAE_COLLAPSED
    assert fixed["measured_collapsed"] == 0                 # isotropic Sigma: rank drops, no dimension collapses
    assert learnable["measured_rank_V"] == fixed["measured_rank_V"] == learnable["predicted_active"]
    for run in (learnable, fixed):
        assert run["excess_loss"] >= 0                      # the claimed optimum is the global minimum
        assert run["excess_loss"] < 1e-2 * abs(run["loss_claimed_optimum"])
    assert vae_run.ok


def test_short_vae_run_catches_a_wrong_threshold(vae_run):
    """Mutant: Theorem 4's omega with theta in place of theta^2 (threshold beta eta_dec^2 instead of
    sqrt(beta) eta_dec) predicts a different number of collapsed dimensions than training measures."""
    mutant = load_spec("theorem4").replace_closed_form(
        omega, sp.sqrt(sp.Max(0, theta - beta * eta_dec**2)) / eta_enc, name="theorem4_mutant")
    d1 = vae_run.data["d1"]
    pred = predict.predict(mutant, Instance({"d1": d1}, {"beta": vae_run.data["beta"], "eta_enc": 1.0,
                                                        "eta_dec": 1.0}, {}, X=data.digits("vae").x))
    predicted_collapsed = d1 - int((pred.closed["omega"] > 0).sum())
    assert predicted_collapsed != vae_run.data["learnable"]["measured_collapsed"]


def test_cli_train_json(capsys):
    code = main(["train", "--experiment", "vae", "--epochs", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"settings", "experiments"}
    vae = out["experiments"]["vae"]
    assert code == (0 if vae["ok"] else 1)
    assert vae["data"]["learnable"]["theorem"] == "theorem4"
