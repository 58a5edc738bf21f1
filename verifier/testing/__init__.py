"""Checking claims from pytest: the helper for hand-written tests, and what a verdict means to pytest.

For a property the spec format does not express, check one claim on one instance::

    from verifier.testing import assert_claim_holds

    def test_omega_on_my_instance(verifier_settings):
        assert_claim_holds("specs/my_variant.py", "omega", {"latent": {"d1": 2}, ...},
                           settings=verifier_settings)

``spec`` is a registered name, a spec module's path or a ``Theorem``; ``instance`` an
``Instance`` or its JSON form (README, "Instance format").  The spec and proof modules
themselves are collected by the plugin (:mod:`verifier.pytest_plugin`, items in
:mod:`verifier.testing.items`).
"""
from __future__ import annotations

import json

from ..instances import Instance
from ..numeric import MinimiserSettings
from ..pipeline import PipelineSettings, resolve_device
from ..pytest_options import search_seed
from ..spec import Theorem
from ..status import Status
from ..verdicts import ClaimVerdict, TheoremVerdict, check_instance, replay_command


class ClaimFailure(AssertionError):
    """A claim that did not verify; its message is the evidence (pytest prints it without a traceback)."""


class ClaimRefuted(ClaimFailure):
    """REFUTED: a certified, replayed counterexample."""


class ErratumRefuted(ClaimRefuted):
    """A printed claim REFUTED while its documented correction is VERIFIED: the expected failure."""


class ClaimInconclusive(ClaimFailure):
    """INCONCLUSIVE: the evidence could not settle the claim."""


def settings_from(config) -> PipelineSettings:
    """The minimiser settings a pytest run's command line asks for (the plugin's options)."""
    device = resolve_device(config.getoption("verifier_device"))
    return PipelineSettings(minimiser=MinimiserSettings(restarts=config.getoption("verifier_restarts"),
                                                        seed=search_seed(config), device=device),
                            device=device)


def describe(verdict: ClaimVerdict, theorem_verdict: TheoremVerdict, spec: str) -> str:
    """The evidence of one claim's verdict: status, detail, counts, the shrunk instance and its replay."""
    claim = verdict.claim
    counts = ", ".join(f"{k.lower()} {v}" for k, v in sorted(verdict.counts.items()))
    lines = [f"{verdict.status}: {theorem_verdict.theorem.name}::{claim.name} {claim.equation}",
             f"  claim: {claim.statement}", f"  evidence: {verdict.detail}", f"  instances: {counts}"]
    if verdict.counterexample is not None:
        lines += [f"  counterexample (shrunk): {json.dumps(verdict.counterexample.to_json())}",
                  f"  replay: {replay_command(spec, claim.name, verdict.counterexample, theorem_verdict.settings)}"]
    elif verdict.counterexample_detail:
        lines.append(f"  symbolic counterexample: {verdict.counterexample_detail}")
    return "\n".join(lines)


def _theorem(spec) -> tuple[Theorem, str]:
    if isinstance(spec, Theorem):
        return spec, spec.name
    from ..loader import load_spec
    return load_spec(str(spec)), str(spec)


def _check_one(spec, claim: str, instance, settings) -> tuple[TheoremVerdict, str]:
    theorem, ref = _theorem(spec)
    if not isinstance(instance, Instance):
        instance = Instance.from_json(instance)
    return check_instance(theorem, instance, settings=settings, claims=[claim], spec=ref), ref


def check_claim(spec, claim: str, instance, *, settings: PipelineSettings | None = None) -> ClaimVerdict:
    """The verdict of ``claim`` of ``spec`` on one ``instance`` (an Instance or its JSON dict)."""
    return _check_one(spec, claim, instance, settings)[0].claims[0]


def assert_claim_holds(spec, claim: str, instance, *, settings: PipelineSettings | None = None) -> ClaimVerdict:
    """Fail unless ``claim`` is VERIFIED on ``instance``: ClaimRefuted, ClaimInconclusive, or ClaimFailure for
    any other status (an instance outside the claim's premise, say)."""
    result, ref = _check_one(spec, claim, instance, settings)
    (verdict,) = result.claims
    if verdict.status != Status.VERIFIED:
        error = {Status.REFUTED: ClaimRefuted, Status.INCONCLUSIVE: ClaimInconclusive}.get(verdict.status, ClaimFailure)
        raise error(describe(verdict, result, ref))      # the message starts with the status
    return verdict


__all__ = ["assert_claim_holds", "check_claim", "settings_from", "describe", "ClaimFailure", "ClaimRefuted",
           "ErratumRefuted", "ClaimInconclusive"]
