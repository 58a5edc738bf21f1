"""Table 1 as properties: collapsed latent dimensions at the certified minimiser, counted twice.

"Collapsed" at an optimum: a column of the decoder factor (U1 for the CVAE, U2 for the MHVAE's z2)
that is zero (norm <= zero_rtol x the instance's value scale), counted on the minimiser and, as a
second check, on the theorem's closed form (indices whose singular value is 0).  A monotonicity
property scales one hyperparameter of a drawn instance and compares the two counts.
"""
import dataclasses

import torch
from hypothesis import assume, strategies as st

from verifier.batch import group_by_dims, instantiate
from verifier.judge import Tolerances
from verifier.instances import Instance

TOL = Tolerances()


def _require(condition: bool, why: str, strict: bool) -> None:
    """Inside a property an instance the count cannot use is discarded (``assume``); on a fixed
    instance (``strict``, as the mutant tests use) it is a failure, never a silent pass."""
    if strict:
        assert condition, why
    else:
        assume(condition)


def collapsed(pipeline, instance: Instance, matrix: str, quantity, slots: int, *,
              strict: bool = False) -> tuple[int, int]:
    """(zero columns of ``matrix`` at the certified minimiser, zero closed-form values of ``quantity``
    among the first ``slots`` indices)."""
    res = pipeline.run([instance])[0]
    _require(res.minimiser["certified"], "the minimiser did not certify this instance", strict)
    batch = instantiate(pipeline.theorem, group_by_dims(pipeline.theorem, [instance])[0])
    unit = float(batch.scale[0]) ** 0.25          # the checks' value scale: UV ~ Z, ||Z||^2 ~ scale
    norms = torch.tensor(res.minimiser["matrices"][matrix], dtype=torch.float64).norm(dim=0)
    zero = norms <= TOL.zero_rtol * unit
    nonzero = norms >= TOL.nonzero_rtol * unit
    _require(bool((zero | nonzero).all()), f"a column of {matrix} lies in the undecided band", strict)
    closed = res.claimed[str(quantity)][:slots]
    return int(zero.sum()), sum(1 for x in closed if x == 0.0)


def scaled(instance: Instance, name: str, factor: float) -> Instance:
    return dataclasses.replace(instance, hyper={**instance.hyper, name: instance.hyper[name] * factor})


def away_from_boundaries(theorem, instance: Instance) -> bool:
    batch = instantiate(theorem, group_by_dims(theorem, [instance])[0])
    return float(batch.sensitivity[0]) <= TOL.boundary_sensitivity


def monotone(theorem, pipeline, data, strategy, name: str, *, more_collapse_when_larger: bool, matrix: str,
             quantity, slots) -> None:
    base = data.draw(strategy, label="instance")
    factor = data.draw(st.floats(1.2, 4.0), label=f"factor on {name}")
    bigger = scaled(base, name, factor)
    assume(away_from_boundaries(theorem, base) and away_from_boundaries(theorem, bigger))
    n = slots(base)
    (m_small, c_small) = collapsed(pipeline, base, matrix, quantity, n)
    (m_big, c_big) = collapsed(pipeline, bigger, matrix, quantity, n)
    assert m_small == c_small and m_big == c_big, (base, m_small, c_small, m_big, c_big)
    if more_collapse_when_larger:
        assert m_big >= m_small, f"collapsed dimensions fell from {m_small} to {m_big} when {name} grew x{factor}: {base}"
    else:
        assert m_big <= m_small, f"collapsed dimensions rose from {m_small} to {m_big} when {name} grew x{factor}: {base}"
