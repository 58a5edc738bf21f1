"""Real data for the training experiments: scikit-learn's 8x8 digits, or a user's .npz / .csv file.

Standardisation follows the paper: its linear models carry no bias "since the effect of bias
term is equivalent to centering both input and output data to zero mean" (Section 3), so every
column is centred; pixels are first scaled to [0, 1] (digits come as 0..16), the range of the
MNIST images of Appendix A.  The closed forms then use the second moments of exactly these
arrays, so the training objective and the predictions see the same data.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InstanceError, UsageError
from ..validation import LARGEST_MAGNITUDE

# The smallest data the experiments can use: the VAE's d1 = min(5, D - 1) latent dimensions with at
# least one collapsed and one active need D >= 3 columns and, after centring, two directions of variance.
MIN_COLUMNS, MIN_RANK = 3, 2

DIGITS_MAX_PIXEL = 16.0
IMAGE_SIDE = 8


@dataclass(frozen=True)
class Dataset:
    """Samples as rows: ``x`` (N x D0) and, for the conditional task, ``y`` (N x D2)."""
    name: str
    x: np.ndarray
    y: np.ndarray | None = None
    description: str = ""

    @property
    def n(self) -> int:
        return self.x.shape[0]


def centre(a: np.ndarray) -> np.ndarray:
    """Zero-mean columns: the bias-free linear model is then equivalent to one with biases."""
    return a - a.mean(axis=0, keepdims=True)


def digit_images() -> np.ndarray:
    """The 1797 8x8 digit images of scikit-learn (shipped with the package), scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:    # pragma: no cover - scikit-learn is a dependency
        raise UsageError("--data digits needs scikit-learn (pip install scikit-learn)") from None
    return load_digits().images.astype(np.float64) / DIGITS_MAX_PIXEL


def quadrant_split(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Section 5.2's task: the bottom-left quadrant is x, the other three quadrants are y."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1] != images.shape[2] or images.shape[1] % 2:
        raise InstanceError(f"the quadrant task needs square images with an even side, N x s x s; "
                            f"got shape {images.shape}")
    h = images.shape[1] // 2
    mask = np.zeros(images.shape[1:], dtype=bool)
    mask[h:, :h] = True                    # rows h.. are the bottom half, columns ..h the left half
    flat = images.reshape(images.shape[0], -1)
    return flat[:, mask.ravel()], flat[:, ~mask.ravel()]


def digits(task: str = "vae") -> Dataset:
    """The digits as x (``task='vae'``, 64 pixels) or as (x, y) quadrants (``task='cvae'``), centred."""
    images = digit_images()
    if task == "vae":
        return Dataset("digits", centre(images.reshape(len(images), -1)),
                       description="sklearn 8x8 digits, pixels/16, centred")
    if task == "cvae":
        x, y = quadrant_split(images)
        return Dataset("digits-quadrants", centre(x), centre(y),
                       description="sklearn 8x8 digits, pixels/16, centred; x = bottom-left 4x4 quadrant, "
                                   "y = the other three")
    raise UsageError(f"task={task!r}; use 'vae' or 'cvae'")


def _checked(name: str, a, what: str) -> np.ndarray:
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise InstanceError(f"{name}: {what} is not numeric") from None
    if a.ndim == 3:                        # images: flatten each sample
        a = a.reshape(a.shape[0], -1)
    if a.ndim != 2:
        raise InstanceError(f"{name}: {what} must be a matrix with one sample per row (N x D) or images "
                            f"(N x h x w); got shape {a.shape}")
    if a.shape[0] < 2 or a.shape[1] < 1:
        raise InstanceError(f"{name}: {what} is empty or has a single sample (shape {a.shape}); "
                            f"training needs N >= 2 rows and D >= 1 columns")
    if not np.all(np.isfinite(a)):
        row, col = np.argwhere(~np.isfinite(a))[0]
        raise InstanceError(f"{name}: {what} has a NaN or infinite entry at row {row}, column {col}")
    if np.max(np.abs(a)) > LARGEST_MAGNITUDE:
        row, col = np.unravel_index(np.argmax(np.abs(a)), a.shape)
        raise InstanceError(f"{name}: {what} has the entry {a[row, col]:g} at row {row}, column {col}, outside the "
                            f"range [-{LARGEST_MAGNITUDE:.3g}, {LARGEST_MAGNITUDE:.3g}] in which its second moments "
                            f"stay finite in float64 (see verifier.validation)")
    return a


def _usable(name: str, x: np.ndarray) -> np.ndarray:
    """Samples the experiments can train on: enough columns and directions of variance (MIN_COLUMNS, MIN_RANK)."""
    if x.shape[1] < MIN_COLUMNS:
        raise InstanceError(f"{name}: the samples have {x.shape[1]} column(s); the experiments need at least "
                            f"{MIN_COLUMNS} (a latent dimension that collapses and one that does not, below D)")
    rank = int(np.linalg.matrix_rank(centre(x)))
    if rank < MIN_RANK:
        raise InstanceError(f"{name}: after centring, the {x.shape[0]} samples span {rank} direction(s); the "
                            f"experiments need at least {MIN_RANK} (more samples, not all on one line)")
    return x


def load_npz(path: Path) -> Dataset:
    """An .npz with an array ``x`` (N x D0 or N x h x w) and, optionally, ``y`` (N x D2)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as exc:              # object arrays, or not an npz at all
        raise InstanceError(f"{path}: not a readable .npz of numeric arrays ({exc})") from None
    except OSError as exc:
        raise InstanceError(f"{path}: cannot be read as .npz ({exc})") from None
    if "x" not in arrays:
        raise InstanceError(f"{path}: no array named 'x' (found {sorted(arrays) or 'none'}); "
                            f"save the samples with np.savez(path, x=X) or np.savez(path, x=X, y=Y)")
    x = _checked(str(path), arrays["x"], "array 'x'")
    y = None
    if "y" in arrays:
        y = _checked(str(path), arrays["y"], "array 'y'")
        if y.shape[0] != x.shape[0]:
            raise InstanceError(f"{path}: 'y' has {y.shape[0]} rows but 'x' has {x.shape[0]}; "
                                f"one row per sample in both")
    return Dataset(path.stem, centre(x), None if y is None else centre(y), description=f"{path.name}, centred")


def load_csv(path: Path) -> Dataset:
    """A .csv of numbers, one sample a row (an optional header line of column names is skipped)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InstanceError(f"{path}: not a text (UTF-8) .csv file") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise InstanceError(f"{path}: the file is empty")
    first = lines[0].split(",")
    if not _all_numbers(first):
        lines = lines[1:]                  # a header
    if len(lines) < 2:
        raise InstanceError(f"{path}: it has {len(lines)} data row(s); training needs at least 2")
    rows = [ln.split(",") for ln in lines]
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise InstanceError(f"{path}: data row {i + 1} has {len(r)} columns, the first has {width}")
        if not _all_numbers(r):
            bad = next(v for v in r if not _is_number(v))
            raise InstanceError(f"{path}: data row {i + 1} has the non-numeric entry {bad.strip()!r}")
    x = _checked(str(path), [[float(v) for v in r] for r in rows], "the table")
    return Dataset(path.stem, centre(x), description=f"{path.name}, centred")


def _is_number(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _all_numbers(values) -> bool:
    return all(_is_number(v) for v in values)


def load(source: str, task: str = "vae") -> Dataset:
    """``digits`` or a file path (.npz / .csv).  For ``task='cvae'`` a file must provide y as well,
    or hold square images (split into quadrants)."""
    if source == "digits":
        return digits(task)
    path = Path(source)
    if path.suffix not in (".npz", ".csv"):
        raise UsageError(f"--data {source!r}: use 'digits' or a .npz / .csv file")
    if path.is_dir():
        raise UsageError(f"--data {source!r} is a directory, not a .npz / .csv file")
    if not path.is_file():
        raise UsageError(f"--data {source!r}: no such file")
    ds = load_npz(path) if path.suffix == ".npz" else load_csv(path)
    if task == "cvae" and ds.y is None:
        side = int(round(np.sqrt(ds.x.shape[1])))
        if side * side != ds.x.shape[1] or side % 2:
            raise InstanceError(f"{path}: the CVAE needs pairs (x, y): save an array 'y' too, or give square "
                                f"images with an even side to split into quadrants (D={ds.x.shape[1]})")
        # Quadrants are cut from the raw images, then each part is centred.
        raw = ds.x.reshape(-1, side, side)
        x, y = quadrant_split(raw)
        ds = Dataset(ds.name, centre(x), centre(y), description=ds.description + "; quadrant split")
    _usable(str(path), ds.x)
    return ds
