"""One problem instance: dimensions, hyperparameters, fixed vectors and data.

An instance is plain data that prints (and serialises to JSON) as exactly what
is needed to replay it.  The data is either a matrix ``X`` (N x D0, one sample a
row, from which the model computes its statistics) or a ``spectrum`` (the
singular values theta_i of Z, with the ambient dimension ``D0``), which lets
edge cases such as a theta_i exactly at a threshold be stated exactly.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import InstanceError
from .validation import MAX_DIMENSION, certifiable, fields, integer, mapping, matrix, number, vector


@dataclass(frozen=True)
class Instance:
    latent: Mapping[str, int]
    hyper: Mapping[str, float]
    vectors: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    X: np.ndarray | None = None
    Y: np.ndarray | None = None          # paired targets (N x D2) for conditional models
    spectrum: tuple[float, ...] | None = None
    D0: int | None = None
    seed: int = 0

    # ---------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any]
        if self.X is not None:
            data = {"X": np.asarray(self.X).tolist()}
            if self.Y is not None:
                data["Y"] = np.asarray(self.Y).tolist()
        else:
            data = {"spectrum": list(self.spectrum), "D0": self.D0}
        return {"latent": dict(self.latent), "hyper": dict(self.hyper),
                "vectors": {k: list(v) for k, v in self.vectors.items()}, "data": data, "seed": self.seed}

    def key(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    def __repr__(self) -> str:
        return f"Instance.from_json({json.dumps(self.to_json(), sort_keys=True)})"

    @classmethod
    def from_json(cls, obj: Any) -> "Instance":
        """Read an instance strictly (verifier.validation): JSON types, known keys, bounded sizes."""
        obj = fields("the instance", obj, ("latent", "hyper", "data"), ("vectors", "seed", "spec"))
        latent = {str(k): integer(f"latent.{k}", v, high=MAX_DIMENSION)
                  for k, v in mapping("latent", obj["latent"]).items()}
        hyper = {str(k): number(f"hyper.{k}", v) for k, v in mapping("hyper", obj["hyper"]).items()}
        vectors = {str(k): vector(f"vectors.{k}", v) for k, v in mapping("vectors", obj.get("vectors", {})).items()}
        seed = integer("seed", obj.get("seed", 0), low=0, high=2**63 - 1)
        data = mapping("data", obj["data"])
        if ("X" in data) == ("spectrum" in data):
            raise InstanceError("data must be an object with exactly one of 'X' (a data matrix, N x D0, and 'Y' "
                                "for a conditional model) or 'spectrum' (with 'D0')")
        if "X" in data:
            data = fields("data", data, ("X",), ("Y",))
            Y = matrix("data.Y", data["Y"]) if "Y" in data else None
            return cls(latent, hyper, vectors, X=matrix("data.X", data["X"]), Y=Y, seed=seed)
        data = fields("data", data, ("spectrum", "D0"))
        return cls(latent, hyper, vectors, spectrum=vector("data.spectrum", data["spectrum"]),
                   D0=integer("data.D0", data["D0"], high=MAX_DIMENSION), seed=seed)

    # ---------------------------------------------------------------- validation
    def validate(self, model) -> "Instance":
        """Check the instance against a model; raise InstanceError naming the first problem."""
        expected_latent = {str(d) for d in model.latent_dims}
        if set(self.latent) != expected_latent:
            raise InstanceError(f"latent dimensions {sorted(self.latent)} given; model {model.name} needs "
                                f"exactly {sorted(expected_latent)}")
        for k, v in self.latent.items():
            if v < 1:
                raise InstanceError(f"latent dimension {k}={v} must be a positive integer")
        expected_hyper = {h.symbol.name for h in model.hyperparameters}
        if set(self.hyper) != expected_hyper:
            missing, extra = expected_hyper - set(self.hyper), set(self.hyper) - expected_hyper
            raise InstanceError(f"hyperparameters: missing {sorted(missing)}, unexpected {sorted(extra)} "
                                f"(model {model.name} takes {sorted(expected_hyper)})")
        for k, v in self.hyper.items():
            if not math.isfinite(v) or v <= 0:
                raise InstanceError(f"hyperparameter {k}={v} must be finite and > 0")
        expected_vec = {fv.name: fv for fv in model.fixed_vectors}
        if set(self.vectors) != set(expected_vec):
            raise InstanceError(f"vectors {sorted(self.vectors)} given; model {model.name} needs "
                                f"{sorted(expected_vec) or 'none'}")
        for name, fv in expected_vec.items():
            vec = self.vectors[name]
            n = self.latent.get(str(fv.length))
            if len(vec) != n:
                raise InstanceError(f"vector {name} has length {len(vec)}; it needs {fv.length}={n} entries")
            bad = [x for x in vec if not math.isfinite(x) or x <= 0]
            if bad:
                raise InstanceError(f"vector {name} must be finite and > 0; got {name}={list(vec)}")
        if self.X is not None:
            X = self.X
            if X.ndim != 2:
                raise InstanceError(f"data.X must be a matrix (N x D0); got shape {X.shape}")
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise InstanceError(f"data.X is empty (shape {X.shape}); it needs N >= 1 rows and D0 >= 1 columns")
            if not np.all(np.isfinite(X)):
                where = np.argwhere(~np.isfinite(X))[0]
                raise InstanceError(f"data.X has a NaN or infinite entry at row {where[0]}, column {where[1]}")
            if not np.any(X):
                raise InstanceError("data.X is all zeros: E[x x^T] has no positive eigenvalue")
            if self.Y is not None and model.data_kind != "xy":
                raise InstanceError(f"data.Y given, but model {model.name} takes no paired data (only data.X)")
            if self.Y is not None:
                Y = self.Y
                if Y.ndim != 2 or Y.shape[0] != X.shape[0] or Y.shape[1] == 0:
                    raise InstanceError(f"data.Y must be a matrix with one row per row of X (N={X.shape[0]}) "
                                        f"and at least one column; got shape {Y.shape}")
                if not np.all(np.isfinite(Y)):
                    where = np.argwhere(~np.isfinite(Y))[0]
                    raise InstanceError(f"data.Y has a NaN or infinite entry at row {where[0]}, column {where[1]}")
        else:
            spec = self.spectrum
            if self.D0 is None or self.D0 < 1:
                raise InstanceError(f"data.D0={self.D0} must be a positive integer")
            if len(spec) == 0 or len(spec) > self.D0:
                raise InstanceError(f"data.spectrum has {len(spec)} values; it needs 1 to D0={self.D0}")
            if any(not math.isfinite(t) or t < 0 for t in spec):
                raise InstanceError(f"data.spectrum must be finite and >= 0; got {list(spec)}")
            if not any(t > 0 for t in spec):
                raise InstanceError("data.spectrum is all zeros: Z has no positive singular value")
        return self

    def check_certifiable(self) -> "Instance":
        """Raise InstanceError when a magnitude lies outside the range float64 can certify (verifier.validation);
        applied to instances a user gives, where a verdict outside it would be rounding's, not the paper's."""
        certifiable(self._magnitudes())
        return self

    def _magnitudes(self) -> dict[str, float]:
        """The positive scales the certifiable range bounds (verifier.validation): every hyperparameter
        and fixed vector entry, the nonzero theta_i, and the largest data entries."""
        out = {f"hyper.{k}": v for k, v in self.hyper.items()}
        out.update({f"vectors.{k}[{i}]": x for k, vec in self.vectors.items() for i, x in enumerate(vec)})
        if self.X is not None:
            out["max |data.X|"] = float(np.max(np.abs(self.X)))
            if self.Y is not None and np.any(self.Y):
                out["max |data.Y|"] = float(np.max(np.abs(self.Y)))
        else:
            out.update({f"data.spectrum[{i}]": t for i, t in enumerate(self.spectrum) if t > 0})
        return out


def whitened_second_moment(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A := E[x x^T] = P_A Phi P_A^T over the rows of X; returns (P_A, Phi) for its positive eigenvalues.

    Eigenvalues below ``max * D0 * eps * 16`` count as zero: X is then rank-deficient.
    """
    N = X.shape[0]
    A = X.T @ X / N
    evals, evecs = np.linalg.eigh(A)
    order = np.argsort(evals)[::-1]
    evals, evecs = evals[order], evecs[:, order]
    tol = max(evals[0], 0.0) * max(A.shape) * np.finfo(np.float64).eps * 16
    keep = evals > tol
    return evecs[:, keep], evals[keep]
