"""pytest items: one per claim of a spec module, one per step of a proof module.

A claim's item runs that claim's Hypothesis search (``verifier.verdicts.check_theorem``) under
the active profile: ``max_examples`` x the examples scale batches of instances, seeded by
``--hypothesis-seed`` (0 when none is given, as ``verifier check``).  The items of one file share
a pipeline, whose cache of minimised instances the claims' searches share (each pytest-xdist
worker holds its own), and the symbolic checks of the closed forms, computed once.

Verdicts become outcomes: VERIFIED passes; REFUTED fails with the evidence, the shrunk instance
and the replay command; a printed claim with a documented erratum (a sibling claim with
``erratum_of``) is an xfail(strict) whose expected failure is "refuted while the correction is
verified" -- any other outcome of it, verifying included, fails the run; INCONCLUSIVE fails or
skips (``--verifier-inconclusive``); NOT APPLICABLE (no instance met the premise) skips.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from ..errors import VerifierError
from ..pipeline import Pipeline
from ..pytest_options import examples_scale, symbolic
from ..spec import ClosedFormSpectrum, GlobalMinimum
from ..status import Status
from ..verdicts import TheoremVerdict, check_theorem
from . import ClaimFailure, ClaimInconclusive, ClaimRefuted, ErratumRefuted, describe, settings_from

BATCH_SIZE, MAX_DIM = 8, 4              # `verifier check`'s defaults
SYMBOLIC_KINDS = (ClosedFormSpectrum, GlobalMinimum)    # the claims the symbolic checks bear on


def _statistics_collector(item):
    """A context that notes the Hypothesis statistics of the searches run inside it on ``item``, where
    Hypothesis's pytest plugin prints them (``--hypothesis-show-statistics``)."""
    from contextlib import nullcontext
    if not item.config.getoption("hypothesis_show_statistics", False):
        return nullcontext()
    try:
        from hypothesis.statistics import collector, describe_statistics
    except ImportError:                # pragma: no cover - a Hypothesis without it
        return nullcontext()
    notes = []

    def note(stats):
        stats["nodeid"] = f"{item.nodeid} (search {len(notes) + 1})"
        notes.append(describe_statistics(stats))
        item.hypothesis_statistics = "\n\n".join(notes)
    return collector.with_value(note)


class VerdictItem(pytest.Item):
    """What claim and step items share: the outcome of a verdict, and its record in JUnit XML."""

    def outcome(self, status: str, message: str, expected: bool = False) -> None:
        self.user_properties.append(("verdict", str(status)))    # plain str: pytest-xdist sends it between processes
        if status == Status.VERIFIED:
            return
        if status == Status.REFUTED:
            raise (ErratumRefuted if expected else ClaimRefuted)(message)
        if status == Status.INCONCLUSIVE:
            if self.config.getoption("verifier_inconclusive") == "skip":
                pytest.skip(f"INCONCLUSIVE: {message}")
            raise ClaimInconclusive(message)
        if status == Status.NOT_APPLICABLE:
            pytest.skip(f"NOT APPLICABLE: {message}")
        if status == Status.UNBOUNDED:   # outside the model's validity domain the claim says nothing
            pytest.skip(f"UNBOUNDED: {message}")
        raise ClaimFailure(f"unknown verdict {status!r} (not VERIFIED, REFUTED, INCONCLUSIVE, UNBOUNDED or "
                           f"NOT APPLICABLE): "
                           f"{message}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ClaimFailure):
            return str(excinfo.value)         # the evidence; a traceback into the engine says nothing more
        return super().repr_failure(excinfo, style)


class SpecFile(pytest.File):
    """A spec module: one ClaimItem per claim of its THEOREM."""

    def collect(self):
        from ..loader import load_spec
        try:
            self.theorem = load_spec(str(self.path))
        except VerifierError as exc:
            raise self.CollectError(str(exc)) from None
        self.pipeline, self.findings, self.verdicts = None, None, {}
        for claim in self.theorem.claims:
            item = ClaimItem.from_parent(self, name=claim.name, claim=claim)
            errata = [c for c in self.theorem.claims if c.erratum_of == claim.name]
            if errata:
                item.add_marker(pytest.mark.xfail(
                    strict=True, raises=ErratumRefuted,
                    reason=f"documented erratum: {claim.name} is refuted as printed; its correction "
                           f"{', '.join(c.name for c in errata)} is verified"))
            yield item

    @property
    def spec_ref(self) -> str:
        """The file as `verifier check` is given it in the replay line: relative to where pytest was run."""
        start = Path(self.config.invocation_params.dir)
        try:
            return str(self.path.relative_to(start))
        except ValueError:
            return str(self.path)

    def verdict(self, name: str, item) -> TheoremVerdict:
        """The one-claim verdict of claim ``name``, searched once per process."""
        if name not in self.verdicts:
            settings = settings_from(self.config)
            if self.pipeline is None:
                self.pipeline = Pipeline(self.theorem, settings)
            seed = settings.minimiser.seed
            symbolic_applies = isinstance(self.theorem.claim(name), SYMBOLIC_KINDS) and symbolic(self.config)
            if symbolic_applies and self.findings is None:
                from ..symbolic import check_closed_forms
                self.findings = check_closed_forms(self.theorem, seed=seed)
            from hypothesis import settings as hypothesis_settings
            batches = max(1, round(hypothesis_settings().max_examples * examples_scale(self.config)))
            with _statistics_collector(item):
                self.verdicts[name] = check_theorem(
                    self.theorem, instances=batches * ((BATCH_SIZE + 1) // 2), batch_size=BATCH_SIZE,
                    max_dim=MAX_DIM, seed=seed, settings=settings, claims=[name], pipeline=self.pipeline,
                    findings=self.findings if symbolic_applies else [], spec=self.spec_ref)
        return self.verdicts[name]


class ClaimItem(VerdictItem):
    def __init__(self, *, claim, **kwargs):
        super().__init__(**kwargs)
        self.claim = claim
        self.add_marker("verifier_claim")

    def runtest(self):
        spec: SpecFile = self.parent
        result = spec.verdict(self.claim.name, self)
        (verdict,) = result.claims
        message = describe(verdict, result, spec.spec_ref)
        self.user_properties += [("claim", f"{spec.theorem.name}::{self.claim.name}"),
                                 ("equation", self.claim.equation), ("evidence", verdict.detail),
                                 ("instances", json.dumps(dict(verdict.counts))),
                                 ("worst", json.dumps(verdict.worst, default=str))]
        errata = [c.name for c in spec.theorem.claims if c.erratum_of == self.claim.name]
        corrected = []
        if errata and verdict.status == Status.REFUTED:
            corrected = [c for c in errata if spec.verdict(c, self).claims[0].status == Status.VERIFIED]
            message += ("\n  its correction " + ", ".join(errata) + (" is VERIFIED: the documented erratum"
                        if corrected else " is not VERIFIED: not the documented erratum"))
        self.outcome(verdict.status, message, expected=bool(corrected))

    def reportinfo(self):
        return self.path, None, f"{self.parent.theorem.name}::{self.claim.name} {self.claim.equation}"


def _import_proof_module(path: Path):
    """A proof module inside a package is imported by its dotted name (it imports its siblings
    relatively); a lone file by its path."""
    package_root, parts = path.parent, [path.stem]
    while (package_root / "__init__.py").is_file():
        parts.insert(0, package_root.name)
        package_root = package_root.parent
    if len(parts) > 1:
        if str(package_root) not in sys.path:
            sys.path.insert(0, str(package_root))
        return importlib.import_module(".".join(parts))
    spec = importlib.util.spec_from_file_location(f"_verifier_proof_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ProofFile(pytest.File):
    """A proof module: one StepItem per entry of its STEPS."""

    def collect(self):
        try:
            steps = _import_proof_module(self.path).STEPS
        except Exception as exc:        # a proof module that fails to import is malformed, not a crash
            raise self.CollectError(f"proof module {self.path} failed to import: {type(exc).__name__}: {exc}") \
                from None
        for index, step in enumerate(steps, start=1):
            name = f"step{index:02d}{step.equation.replace(' ', '_')}"
            item = StepItem.from_parent(self, name=name, step=step)
            if step.corrected is not None:
                item.add_marker(pytest.mark.xfail(
                    strict=True, raises=ErratumRefuted,
                    reason=f"documented erratum: {step.equation} is refuted as printed; corrected: "
                           f"{step.corrected_text}"))
            yield item


class StepItem(VerdictItem):
    def __init__(self, *, step, **kwargs):
        super().__init__(**kwargs)
        self.step = step

    def runtest(self):
        from proofs_check import evaluate
        seed = settings_from(self.config).minimiser.seed
        result = evaluate(self.step, seed)
        self.user_properties += [("step", f"{self.step.proof} {self.step.equation}"), ("evidence", result.evidence)]
        message = (f"{result.status}: proof {self.step.proof}, {self.step.equation}: {self.step.claim}\n"
                   f"  method: {result.method}\n  evidence: {result.evidence}")
        if result.counterexample is not None:
            message += f"\n  counterexample: {result.counterexample}"
        if result.corrected:
            message += f"\n  corrected (VERIFIED): {result.corrected}"
        self.outcome(result.status, message, expected=bool(result.corrected))

    def reportinfo(self):
        return self.path, None, f"proof {self.step.proof} {self.step.equation}"
