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
from verifier.training import (
    cvae_experiment, data, experiments, measures, mhvae_experiment, predict, sweeps, vae_experiment,
)
from verifier.training.models import LinearCVAE, LinearMHVAE, LinearVAE
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


def _cvae_setup():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 3)) @ np.diag([1.0, 0.6, 0.3])
    Y = X @ rng.normal(size=(3, 4)) * 0.5 + rng.normal(size=(40, 4)) @ np.diag([0.9, 0.7, 0.4, 0.2])
    hyper = {"beta": 0.6, "eta_enc": 1.2, "eta_dec": 0.7}
    model = LinearCVAE(3, 4, 2, **hyper, seed=3, init_scale=1.0)
    with torch.no_grad():
        model.std.log_std.copy_(torch.tensor([[-0.4, 0.2]]))
    theorem = load_spec("theorem2")
    pred = predict.predict(theorem, Instance({"d1": 2}, hyper, {}, X=X, Y=Y))
    from theorems.cvae import whitening
    w = whitening(X, Y)
    f = lambda t: t[0].detach().numpy()
    point = {"U1": f(model.U1), "V1": f(model.W1) @ w["PAh"], "V2": f(model.W2) @ w["PBh"],
             "T2": f(model.U2) @ w["PAh"], "Sigma": np.diag(f(model.std()) ** 2)}
    # 2 E[-ELBO] = L_CVAE + D2 log(2 pi eta_dec^2) + beta d1 (log eta_enc^2 - 1): as the VAE, with y for x.
    const = 4 * np.log(2 * np.pi * 0.49) + 0.6 * 2 * (np.log(1.44) - 1)
    return model, (torch.as_tensor(X), torch.as_tensor(Y)), theorem, pred, point, const


def test_cvae_sampled_elbo_matches_the_spec_objective():
    model, xy, theorem, pred, point, const = _cvae_setup()
    mean, se = _mc(lambda g: model.loss(*xy, generator=g))
    expected = predict.objective(theorem, pred, point) + const
    assert abs(mean - expected) <= Z_SCORE * se, (mean, expected, se)
    # Mutant: the objective without its x-y cross term 2 tr((U1 V2 - D)^T (U1 V1 + T2) Z) must be rejected.
    U1, V1, V2, T2 = point["U1"], point["V1"], point["V2"], point["T2"]
    cross = 2 * np.trace((U1 @ V2 - pred.data["D"]).T @ (U1 @ V1 + T2) @ pred.data["Z"]) / 0.49
    assert abs(mean - (expected - cross)) > Z_SCORE * se


# --------------------------------------------------------------------------- predictions and measures

def test_cvae_predicted_kl_is_the_trained_models_kl_at_the_optimum():
    """cvae_predicted_kl (from the spec's optimum) against the torch model's own KL with the optimum's
    weights mapped back to data coordinates, and against Theorem 2 worked by hand: with
    sigma'^2 = beta eta_enc^2 eta_dec^2 / theta and lambda2^2 = eta_enc^2 (1 - beta eta_dec^2 / theta),
    KL_i = log(theta_i / (beta eta_dec^2)) / 2 where positive, else 0."""
    from theorems.cvae import whitening
    ds = data.digits("cvae")
    theorem = load_spec("theorem2")
    values = {"beta": 1.0, "eta_enc": 1.3, "eta_dec": 0.8}
    grid = np.array([0.15, 0.3, 0.6])
    kl = cvae_experiment.cvae_predicted_kl(theorem, ds, 4, values, grid)
    w = whitening(ds.x, ds.y)
    for b, row in zip(grid, kl):
        pred = predict.predict(theorem, Instance({"d1": 4}, {**values, "beta": float(b)}, {}, X=ds.x, Y=ds.y))
        theta = pred.indexed["theta"]
        by_hand = np.sort(np.maximum(0.5 * np.log(theta / (b * 0.64)), 0))[::-1]
        assert np.allclose(row, by_hand, atol=1e-10)
        model = LinearCVAE(16, 48, 4, beta=float(b), eta_enc=1.3, eta_dec=0.8)
        o = pred.optimum
        with torch.no_grad():
            model.W1.copy_(torch.as_tensor(o["V1"] @ np.linalg.pinv(w["PAh"]))[None])
            model.W2.copy_(torch.as_tensor(o["V2"] @ np.linalg.pinv(w["PBh"]))[None])
            model.std.log_std.copy_(torch.as_tensor(0.5 * np.log(np.diag(o["Sigma"])))[None])
            measured = model.kl_per_dim(torch.as_tensor(ds.x), torch.as_tensor(ds.y))[0].mean(0).numpy()
        assert np.allclose(np.sort(measured)[::-1], row, atol=1e-8)
        assert (row > 0).sum() == (theta > b * 0.64).sum() > 0


@pytest.mark.parametrize("name, task, latent, values, swept", [
    ("theorem2", "cvae", {"d1": 4}, {"beta": 1.0, "eta_enc": 1.3, "eta_dec": 0.8}, "beta"),
    ("theorem3", "vae", {"d1": 4, "d2": 3},
     {"beta1": 1.0, "beta2": 1.0, "eta_enc": 0.5, "eta_dec": 0.5, "sigma1": 0.5, "sigma2": 0.5}, "beta2"),
])
def test_predictions_over_a_sweep_are_each_prediction_bit_for_bit(name, task, latent, values, swept, monkeypatch):
    """predict_over computes the data's statistics once and each SVD once, and gives what predict gives at
    every swept value, to the bit."""
    from verifier import batch as batch_mod
    ds = data.digits(task)
    theorem = load_spec(name)
    grid = [0.05, 0.4, 3.0]
    one_by_one = [predict.predict(theorem, sweeps.instance_for(theorem, latent, {**values, swept: b}, ds)) for b in grid]
    calls = {"statistics": 0, "svd": 0}
    statistics, svd = batch_mod.statistics_of, np.linalg.svd
    monkeypatch.setattr(batch_mod, "statistics_of", lambda *a: calls.__setitem__("statistics", calls["statistics"] + 1)
                        or statistics(*a))
    monkeypatch.setattr(np.linalg, "svd", lambda *a, **k: calls.__setitem__("svd", calls["svd"] + 1) or svd(*a, **k))
    base = sweeps.instance_for(theorem, latent, values, ds)
    predict.predict_over(theorem, base, swept, grid[:1])
    one_value = dict(calls)
    swept_over = predict.predict_over(theorem, base, swept, grid)
    assert calls == {k: 2 * v for k, v in one_value.items()} and one_value["statistics"] == 1     # none per value
    for alone, swept_one in zip(one_by_one, swept_over):
        assert alone.loss == swept_one.loss and alone.hyper == swept_one.hyper
        for field in ("indexed", "closed", "optimum", "data"):
            for key, value in getattr(alone, field).items():
                assert np.array_equal(value, getattr(swept_one, field)[key], equal_nan=True), (field, key)
    with pytest.raises(KeyError, match="no hyperparameter 'gamma'"):
        predict.predict_over(theorem, base, "gamma", grid)


def test_cvae_epsilon_and_collapse_intervals():
    predicted_kl = np.array([[0.5, 0.2, 0.03], [0.4, 0.01, 0.0], [0.2, 0.0, 0.0]])
    assert cvae_experiment.cvae_epsilon(predicted_kl, np.array([True, True, True])) == pytest.approx(0.005)
    assert cvae_experiment.cvae_epsilon(predicted_kl, np.array([True, False, True])) == pytest.approx(0.015)
    points = np.array([1.0, 2.0, 4.0])
    grid = np.array([0.7, 1.4, 2.8, 5.6])                    # between the points: 3, 2, 1, 0 active
    judged = np.ones(4, dtype=bool)
    rows = sweeps.collapse_intervals(grid, np.array([3, 2, 1, 0]), points, judged)
    assert [(r["measured_above"], r["measured_at_or_below"]) for r in rows] == [(2.8, 5.6), (1.4, 2.8), (0.7, 1.4)]
    assert all(r["agrees"] for r in rows)
    # One dimension collapsing late (measured 2 active at 2.8, where 1 is predicted): dimension 2's interval
    # is (2.8, 5.6], which misses its predicted point 2.0.
    rows = sweeps.collapse_intervals(grid, np.array([3, 2, 2, 0]), points, judged)
    assert [r["agrees"] for r in rows] == [True, False, True]
    # Non-monotone counts (active again after collapsing) never agree.
    rows = sweeps.collapse_intervals(grid, np.array([3, 1, 2, 0]), points, judged)
    assert not rows[1]["agrees"]
    # Only judged values count: dropping 1.4 widens dimension 3's interval to (0.7, 2.8].
    rows = sweeps.collapse_intervals(grid, np.array([3, 2, 1, 0]), points, np.array([True, False, True, True]))
    assert (rows[2]["measured_above"], rows[2]["measured_at_or_below"]) == (0.7, 2.8)
    assert sweeps.sweep_comparison(grid, np.array([3, 2, 1, 0]), points, np.zeros(4, dtype=bool))[1] is None


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
    return vae_experiment.vae(experiments.RunSettings())             # the quick profile's size


def test_short_vae_run_agrees_with_theorems_1_and_4(vae_run):
    learnable, fixed = vae_run.data["learnable"], vae_run.data["fixed"]
    assert learnable["measured_collapsed"] == learnable["predicted_collapsed"][0] == vae_experiment.VAE_COLLAPSED
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


@pytest.fixture(scope="module")
def cvae_short_run():
    """A short CVAE run at the sweep values at least 15% from every collapse point Theorem 2 predicts
    on the quadrant task (where a few hundred epochs suffice), and the KL threshold of the experiment."""
    ds = data.digits("cvae")
    points, pred = sweeps.predicted_sweep("theorem2", {"d1": 8}, cvae_experiment.CVAE_VALUES, "beta", ds,
                                                *cvae_experiment.CVAE_RANGE)
    grid = sweeps.sweep_grid(points, *cvae_experiment.CVAE_RANGE)
    grid = grid[np.min(np.abs(grid[:, None] / points[None, :] - 1), axis=1) >= 0.15]
    predicted_kl = cvae_experiment.cvae_predicted_kl(load_spec("theorem2"), ds, 8, cvae_experiment.CVAE_VALUES, grid)
    epsilon = cvae_experiment.cvae_epsilon(predicted_kl, np.ones(len(grid), dtype=bool))
    model = LinearCVAE(16, 48, 8, beta=grid, K=len(grid), seed=0)
    train(model, (ds.x, ds.y), TrainSettings(epochs=300, batch_size=512, lr=5e-3, seed=0))
    kl = sweeps.mean_kl_per_dim(model, (ds.x, ds.y))
    return ds, grid, points, epsilon, kl


def test_short_cvae_run_agrees_with_theorem2(cvae_short_run):
    ds, grid, points, epsilon, kl = cvae_short_run
    assert len(grid) >= 3
    predicted = (points[None, :] > grid[:, None]).sum(-1)
    assert ((kl > epsilon).sum(-1) == predicted).all()


def test_short_cvae_run_catches_a_wrong_threshold(cvae_short_run):
    """Mutant: Theorem 2 with theta_i^2 for theta_i in omega (collapse at beta = theta_i^2 / eta_dec^2)."""
    ds, grid, points, epsilon, kl = cvae_short_run
    theorem = load_spec("theorem2")
    mutant = theorem.replace_closed_form(
        omega, sp.sqrt(sp.Max(0, theta**2 - beta * eta_dec**2)) / eta_enc, name="theorem2_mutant")
    pred = predict.predict(mutant, Instance({"d1": 8}, cvae_experiment.CVAE_VALUES, {}, X=ds.x, Y=ds.y))
    wrong = predict.collapse_point(mutant, pred, "beta", "omega", *cvae_experiment.CVAE_RANGE)
    wrong_counts = (np.nan_to_num(wrong, nan=-np.inf)[None, :] > grid[:, None]).sum(-1)
    assert not ((kl > epsilon).sum(-1) == wrong_counts).all()


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "epochs=0"),
    (["--experiment", "cvae", "--batch-size", "-1"], "batch_size=-1"),
    (["--lr", "nan"], "lr=nan"),
])
def test_cli_train_rejects_bad_sizes_before_training(args, message, capsys):
    assert main(["train", *args]) == 2
    assert message in capsys.readouterr().err


def test_mhvae_dma_tracker_is_zero_at_the_claimed_optimum_only():
    """The D_MA of Figs. 12/14: a model set to theorem3's claimed optimum scores 0 for every matrix;
    the same model with U2 scaled by 1.1 does not (the trace would show any such error)."""
    theorem = load_spec("theorem3")
    rng = np.random.default_rng(8)
    ds = data.Dataset("synthetic", rng.normal(size=(50, 4)) @ np.diag([1.5, 1.0, 0.7, 0.4]), None, description="")
    latent, grid = {"d1": 2, "d2": 2}, np.array([0.3, 0.8])
    settings = experiments.RunSettings(epochs=1, batch_size=50)
    record, trace = mhvae_experiment.dma_tracker(theorem, ds, latent, grid, settings)
    values = mhvae_experiment.MHVAE_VALUES
    model = LinearMHVAE(4, 2, 2, beta1=values["beta1"], beta2=grid, eta_enc=values["eta_enc"], eta_dec=values["eta_dec"],
                        sigma1=values["sigma1"], K=2)
    for k, b in enumerate(grid):
        o = predict.predict(theorem, sweeps.instance_for(theorem, latent, {**values, "beta2": b}, ds))
        with torch.no_grad():
            model.W1[k] = torch.as_tensor(o.optimum["V1"] @ np.linalg.pinv(o.data["Z"]))
            for name in ("U1", "U2", "W2"):
                getattr(model, name)[k] = torch.as_tensor(o.optimum[name])
            model.std2.log_std[k] = torch.as_tensor(0.5 * np.log(np.diag(o.optimum["Sigma2"])))
    record(1, model)
    assert set(trace) == {"epoch", "U1", "V1", "U2", "W2", "Sigma2"}
    assert max(max(v[-1]) for n, v in trace.items() if n != "epoch") < 1e-10
    with torch.no_grad():
        model.U2 *= 1.1
    record(1, model)
    assert min(trace["U2"][-1]) > 1e-3 and max(trace["U1"][-1]) < 1e-10
