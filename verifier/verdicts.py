"""Search for counterexamples claim by claim, and turn the evidence into honest verdicts.

For each claim a Hypothesis search draws batches of instances; a REFUTED outcome is
first confirmed (verifier.confirmation: at 50 digits, or by an independent minimisation)
-- one that does not survive counts as the confirmation's outcome -- and the first
confirmed one fails the search, which Hypothesis shrinks towards its smallest instance within a
fixed budget of candidate batches (verifier.shrink_budget: a count, so a seed gives one answer).  That
instance is then replayed alone and confirmed again before it is reported (where it does
not hold up, the confirmed instance found first is reported, unshrunk); a refutation
that does not reproduce is reported as INCONCLUSIVE ("flaky"), never as REFUTED.  An
INCONCLUSIVE verdict shows its first uncertified instance and why it stayed so.  A claim is VERIFIED only when every instance that met its premise was
verified -- which says "no counterexample among N instances", not "proved".

A claim with a premise (a ``when`` condition, an Implication, a Restricted claim) says
nothing on the instances outside it: on an instance outside it the claim is NOT APPLICABLE
(not inconclusive, and no change to the exit status), and so it is when no instance met it.  When fewer than a quarter of the instances asked
for met the premise, a second search of as many batches keeps only the drawn instances
that meet it away from a case boundary (decided from the closed forms before anything
is minimised), so that a rare premise is tested rather than reported as never met.
"""
from __future__ import annotations

import dataclasses
import json
import shlex
import time
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import given, seed as hypothesis_seed
from hypothesis.reporting import with_reporter

from .confirmation import Confirmer
from .judge import AT_BOUNDARY, Outcome, has_premise
from .hypothesis_pool import without_local_constants
from .pipeline import Pipeline, PipelineSettings
from .search_lookahead import lookahead_for, search_settings, to_stderr
from .shrink_budget import ShrinkBudget, ShrinkBudgetSpent
from .spec import Claim, Restricted, Theorem
from .status import Status, most_severe
from .symbolic_cache import symbolic_findings
from .strategies import instance_batches

VERIFIED, REFUTED, INCONCLUSIVE, SKIPPED = Status.VERIFIED, Status.REFUTED, Status.INCONCLUSIVE, Status.SKIPPED
NOT_APPLICABLE, UNBOUNDED = Status.NOT_APPLICABLE, Status.UNBOUNDED


@dataclass
class ClaimVerdict:
    claim: Claim
    status: str
    counts: Counter
    detail: str
    worst: dict = field(default_factory=dict)
    counterexample: object = None        # the shrunk Instance
    counterexample_detail: str = ""
    symbolic: list = field(default_factory=list)
    directed: int = 0                    # instances drawn by the premise-directed search

    def to_json(self, theorem_name: str, settings: PipelineSettings | None = None) -> dict:
        out = {"claim": self.claim.name, "kind": type(self.claim).__name__, "equation": self.claim.equation,
               "statement": self.claim.statement, "erratum_of": self.claim.erratum_of, "status": self.status,
               "counts": dict(self.counts), "premise_directed_instances": self.directed, "detail": self.detail, "worst": self.worst,
               "symbolic": [s.__dict__ if hasattr(s, "__dict__") else s for s in self.symbolic]}
        if self.counterexample is not None:
            out["counterexample"] = {"instance": self.counterexample.to_json(), "detail": self.counterexample_detail,
                                     "replay": replay_command(theorem_name, self.claim.name, self.counterexample,
                                                             settings)}
        return out


@dataclass
class TheoremVerdict:
    theorem: Theorem
    claims: list[ClaimVerdict]
    seed: int
    instances: int
    elapsed: float
    settings: PipelineSettings
    spec: str | None = None              # what `verifier check` loads it from: a spec file's path (else the name)
    # the instances asked for per claim (`--examples`), drawn as `batches` Hypothesis lists of 1..batch_size
    # (repeats included): each claim's counts say what it judged; `instances` above counts every distinct
    # instance minimised, which the premise-directed searches and the shrinking of a counterexample add to
    per_claim: int = 1
    batches: int = 1
    minimiser_evidence: str = ""        # how many minimisations were computed and taken from the evidence cache

    @property
    def status(self) -> str:
        return most_severe((c.status for c in self.claims), default=VERIFIED)

    def to_json(self) -> dict:
        return {"theorem": self.theorem.name, "title": self.theorem.title, "source": self.theorem.source,
                "status": self.status, "seed": self.seed, "instances_evaluated": self.instances,
                "instances_per_claim": self.per_claim, "batches_per_claim": self.batches,
                "elapsed_s": round(self.elapsed, 3), "tolerances": self.settings.tolerances.__dict__,
                "minimiser": self.settings.minimiser.__dict__, "device": self.settings.device,
                "minimiser_evidence": self.minimiser_evidence,
                "claims": [c.to_json(self.spec or self.theorem.name, self.settings) for c in self.claims]}


def replay_command(spec: str, claim_name: str, instance, settings: PipelineSettings | None = None) -> str:
    """The command that checks ``claim_name`` on ``instance`` again, as the run did.  ``spec``: a registered
    name or the spec file's path as the run was given it; ``settings``: the run's (None: the defaults).
    The line carries the seed, the restarts and the device, which with the instance's own seed (in its
    JSON) make the same computation; a run whose other settings the command line cannot set says so."""
    settings = settings or PipelineSettings()
    payload = json.dumps(instance.to_json(), separators=(",", ":"))
    mini = settings.minimiser
    command = (f"verifier check {shlex.quote(spec)} --claim {shlex.quote(claim_name)} --instance {shlex.quote(payload)}"
               f" --seed {mini.seed} --restarts {mini.restarts} --device {settings.device}")
    expressed = PipelineSettings.from_options(seed=mini.seed, restarts=mini.restarts, device=settings.device)
    if settings != expressed:
        different = [f.name for f in dataclasses.fields(settings) if getattr(settings, f.name) != getattr(expressed, f.name)]
        command += f"  # not exact: the run's {', '.join(different)} settings are not command-line options"
    return command


class _Refuted(Exception):
    """The search's failure: ``instance`` refutes the claim (``outcome``). ``first``: the (instance, outcome)
    the search confirmed before Hypothesis shrank it (verifier.confirmation), reported when the shrunk one
    does not confirm; ``confirmer``: the search's, whose independent minimisations are cached."""

    def __init__(self, instance, outcome, first=None, confirmer=None):
        super().__init__(outcome.detail)
        self.instance, self.outcome, self.first, self.confirmer = instance, outcome, first, confirmer


def _uncertified_detail(res, outcome, model) -> str:
    """An INCONCLUSIVE outcome's detail with why its minimiser stayed uncertified (after the ladder); outside
    the model's validity domain, that the objective is unbounded there (the model says so)."""
    why = res.minimiser.get("diagnosis", "")
    if not model.admits(res.instance):
        reason = f": {model.domain_reason}" if model.domain_reason else ""
        return (f"the instance lies outside the model's validity domain ({model.domain}){reason}; "
                f"there is no minimiser to certify" + (f" (the minimiser: {why})" if why else ""))
    rungs = res.minimiser.get("ladder", [])
    if why and why not in outcome.detail:
        climbed = f" (after climbing the ladder: {', '.join(r['rung'] for r in rungs)})" if rungs else ""
        return f"{outcome.detail}: {why}{climbed}"
    return outcome.detail


def _worse(metrics: dict, worst: dict) -> dict:
    """Keep the largest value of each numeric metric (worst error, largest gap, ...)."""
    for k, v in metrics.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if k not in worst or abs(v) > abs(worst[k]):
                worst[k] = v
    return worst


def search_claim(pipeline: Pipeline, claim: Claim, *, batches: int, batch_size: int, max_dim: int, seed: int,
                 directed: bool = False):
    """Run the Hypothesis search for one claim on ``batches`` drawn batches; return (counts, worst metrics,
    refutation or None, the first instance that stayed INCONCLUSIVE and why, or None).
    ``directed``: draw only instances on which the claim's premise holds (see the module docstring).
    The search inherits the active Hypothesis profile's other settings (verbosity, ...); the number of
    batches, the seed, the phases and no example database are its own, so a seed draws the same instances."""
    counts: Counter = Counter()
    worst: dict = {}
    confirmer = Confirmer(pipeline)
    found = {"first": None, "uncertified": None}    # the first confirmed refutation; the first uncertified instance
    shrink = ShrinkBudget()
    dimensions = claim.dimensions if isinstance(claim, Restricted) else None
    drawn = instance_batches(pipeline.theorem, batch_size, max_dim, dimensions=dimensions)
    key = (str(dimensions), batch_size, max_dim, batches, seed)
    if directed:       # the premise is decided on the client as the lists are drawn (nothing is minimised)
        drawn = drawn.map(lambda batch: pipeline.meeting_premise(claim, batch)).filter(bool)
        key += ("meeting the premise of", claim.name)
    ahead = lookahead_for(pipeline, drawn, key, batches, seed)
    tallied = _tally_unless_refuted(pipeline, claim, ahead)
    if tallied is not None:
        return tallied[0], tallied[1], None, tallied[2]

    @search_settings(batches)
    @hypothesis_seed(seed)
    @given(drawn)
    def search(instances):
        if found["first"] is None:
            failure = first_refutation(instances)
        else:                                       # Hypothesis is shrinking: within a fixed budget
            failure = shrink.known_failure(instances)
            if failure is None:
                if shrink.spent:
                    raise ShrinkBudgetSpent
                shrink.used += 1
                failure = first_refutation(instances)
        if failure is not None:
            raise _Refuted(*failure, found["first"], confirmer)     # one raise site: one bug to Hypothesis

    def first_refutation(instances):
        """(instance, outcome) of the batch's first refuted instance, or None; counts the rest."""
        climb = found["first"] is None
        if climb:
            ahead.run_ahead(instances)
        for res in pipeline.run(instances, climb=climb):
            outcome = res.outcomes[claim.name]
            # Confirmed once, before Hypothesis shrinks it; the shrink's candidates are not (the shrunk one is,
            # before it is reported: verdict_from).
            if outcome.status == REFUTED and found["first"] is None:
                outcome = confirmer.confirm(claim, res)
                if outcome.status == REFUTED:
                    found["first"] = (res.instance, outcome)
            if outcome.status == REFUTED:
                shrink.record(res.instance, outcome)
                return res.instance, outcome
            if found["first"] is None:
                found["uncertified"] = _count(res, outcome, counts, worst, found["uncertified"], pipeline)
        return None

    try:
        with without_local_constants(), with_reporter(to_stderr):
            search()
    except _Refuted as ref:
        return counts, worst, ref, found["uncertified"]
    except ShrinkBudgetSpent:
        return counts, worst, _Refuted(*shrink.smallest(), found["first"], confirmer), found["uncertified"]
    return counts, worst, None, found["uncertified"]


def _tally_unless_refuted(pipeline: Pipeline, claim: Claim, ahead):
    """(counts, worst metrics, first uncertified) of a search that no example fails, without running it: it is
    given exactly the lists the lookahead drew, in that order (search_lookahead.drawn_lists), and counts each
    instance as ``first_refutation`` does; the lists are computed as the search computes them (run_ahead).
    None at the first REFUTED outcome: the search itself then runs, to confirm and shrink, from the cache.
    (Hypothesis's own run of a search that finds nothing would only draw the lists again: a tenth of a second
    each, more than their judging where every instance is cached.)"""
    counts: Counter = Counter()
    worst: dict = {}
    uncertified = None
    for instances in ahead.lists:
        ahead.run_ahead(instances)
        for res in pipeline.run(instances):
            outcome = res.outcomes[claim.name]
            if outcome.status == REFUTED:
                return None
            uncertified = _count(res, outcome, counts, worst, uncertified, pipeline)
    return counts, worst, uncertified


def _count(res, outcome: Outcome, counts: Counter, worst: dict, uncertified, pipeline: Pipeline):
    """Count one instance's outcome that refutes nothing, as every search counts it (its status; a verified
    one's metrics into ``worst``); returns the first uncertified instance and why, this one if it is the first."""
    counts[outcome.status] += 1
    if outcome.status == VERIFIED:
        _worse(outcome.metrics, worst)
    elif outcome.status == INCONCLUSIVE and uncertified is None:
        return res.instance, _uncertified_detail(res, outcome, pipeline.theorem.model)
    return uncertified


def verdict_from(claim: Claim, counts: Counter, worst: dict, refutation, pipeline: Pipeline,
                 uncertified: tuple | None = None) -> ClaimVerdict:
    """``uncertified``: (instance, why) of the first instance that stayed INCONCLUSIVE, shown with the verdict.
    (No search instance is UNBOUNDED: the strategies draw only inside the model's validity domain.)"""
    if refutation is not None:
        # Replay the shrunk counterexample alone, in a fresh pipeline, and confirm it, before reporting it.
        fresh = pipeline.sibling(pipeline.settings, stored=False)     # recomputed, never read from a store
        replayed = fresh.run([refutation.instance])[0]
        replay = replayed.outcomes[claim.name]
        refuted = counts + Counter({REFUTED: 1})     # the search stops at its first confirmed counterexample
        if replay.status == REFUTED:
            replay = (refutation.confirmer or Confirmer(pipeline)).confirm(claim, replayed)
            if replay.status == REFUTED:
                return ClaimVerdict(claim, REFUTED, refuted, replay.detail, worst, refutation.instance, replay.detail)
        if refutation.first is not None:      # the shrunk one did not hold up: report the confirmed one found first
            instance, confirmed = refutation.first
            return ClaimVerdict(claim, REFUTED, refuted, f"{confirmed.detail} (not shrunk: the shrunk instance gave "
                                f"{replay.status}: {replay.detail})", worst, instance, confirmed.detail)
        return ClaimVerdict(claim, INCONCLUSIVE, counts,
                            f"flaky: refuted during the search ({refutation.outcome.detail}) but not on replay "
                            f"({replay.status}: {replay.detail})", worst, refutation.instance, replay.detail)
    if counts[INCONCLUSIVE]:
        instance, why = uncertified or (None, "")
        return ClaimVerdict(claim, INCONCLUSIVE, counts,
                            f"{counts[INCONCLUSIVE]} instance(s) could not be certified"
                            + (f"; the first: {why}" if why else ""), worst, instance, why)
    if counts[VERIFIED] == 0:
        return ClaimVerdict(claim, NOT_APPLICABLE, counts,
                            f"no instance met the claim's premise ({counts[SKIPPED]} skipped)", worst)
    return ClaimVerdict(claim, VERIFIED, counts,
                        f"no counterexample among {counts[VERIFIED]} instances"
                        + (f" ({counts[SKIPPED]} skipped: outside the premise or at a case boundary)"
                           if counts[SKIPPED] else ""), worst)


def check_theorem(theorem: Theorem, *, instances: int = 64, batch_size: int = 8, max_dim: int = 4, seed: int = 0,
                  settings: PipelineSettings | None = None, claims: list[str] | None = None,
                  symbolic: bool = True, progress=None, spec: str | None = None, pipeline: Pipeline | None = None,
                  findings=None) -> TheoremVerdict:
    """Verify every claim of ``theorem`` on about ``instances`` Hypothesis-drawn instances each (and, for a
    claim whose premise few of them met, about as many again that meet it): ``instances / ceil(batch_size / 2)``
    batches of 1..batch_size, so the number judged varies around ``instances`` (each claim's counts say it).
    A caller checking the claims one at a time passes its ``pipeline`` (whose cache the searches share)
    and the symbolic ``findings`` it computed once (``symbolic.check_closed_forms``) -- or a function that gives
    them, called once every claim is searched (they may be computed elsewhere meanwhile: verifier.distributed)."""
    start = time.perf_counter()
    pipeline = pipeline or Pipeline(theorem, settings or PipelineSettings())
    batches = max(1, -(-instances // max(1, (batch_size + 1) // 2)))   # lists average ~batch_size/2
    selected = [theorem.claim(n) for n in claims] if claims else list(theorem.claims)
    if findings is None:
        findings = _symbolic_findings(theorem, seed) if symbolic else []
    verdicts = []
    for claim in selected:
        if progress:
            progress(f"{theorem.name}: {claim.name}")
        counts, worst, ref, uncertified = search_claim(pipeline, claim, batches=batches, batch_size=batch_size,
                                                       max_dim=max_dim, seed=seed)
        met, directed = counts[VERIFIED] + counts[INCONCLUSIVE], 0
        if ref is None and has_premise(claim) and met < max(1, instances // 4):
            more, worst_more, ref, uncertified_more = search_claim(pipeline, claim, batches=batches,
                                                                   batch_size=batch_size, max_dim=max_dim,
                                                                   seed=seed + 1, directed=True)
            directed = sum(more.values())
            counts += more
            uncertified = uncertified or uncertified_more
            for k, v in worst_more.items():
                _worse({k: v}, worst)
        verdict = verdict_from(claim, counts, worst, ref, pipeline, uncertified)
        if directed:
            verdict.directed = directed
            verdict.detail += (f"; the premise held on {met} of the first search's instances, so a second search "
                               f"drew {directed} that meet it")
        verdicts.append(verdict)
    findings = findings() if callable(findings) else findings
    for verdict in verdicts:
        _attach_symbolic(verdict, findings, theorem)
    return TheoremVerdict(theorem, verdicts, seed, len(pipeline._cache), time.perf_counter() - start,
                          pipeline.settings, spec, per_claim=instances, batches=batches,
                          minimiser_evidence=pipeline.store.describe(pipeline.minimised, pipeline.reused))


def check_instance(theorem: Theorem, instance, *, settings: PipelineSettings | None = None,
                   claims: list[str] | None = None, spec: str | None = None) -> TheoremVerdict:
    """Check claims on one given instance (the replay of a counterexample)."""
    start = time.perf_counter()
    pipeline = Pipeline(theorem, settings or PipelineSettings())
    res = pipeline.run([instance])[0]
    verdicts = instance_verdicts(pipeline, res, claims)
    return TheoremVerdict(theorem, verdicts, instance.seed, 1, time.perf_counter() - start, pipeline.settings, spec)


def instance_verdicts(pipeline: Pipeline, res, claims: list[str] | None = None) -> list[ClaimVerdict]:
    """The verdict of each claim (all, or those named) on one instance's pipeline result ``res``, as
    ``verifier check --instance`` reports it: a refutation only once confirmed, a claim outside its
    premise NOT APPLICABLE, at a case boundary INCONCLUSIVE."""
    theorem = pipeline.theorem
    selected = [theorem.claim(n) for n in claims] if claims else list(theorem.claims)
    confirmer = Confirmer(pipeline)
    verdicts = []
    for claim in selected:
        o = res.outcomes[claim.name]
        if o.status == REFUTED:            # reported only once confirmed, as in the search
            o = confirmer.confirm(claim, res)
        if o.status == INCONCLUSIVE:
            # outside the model's validity domain there is no minimum to judge: UNBOUNDED, not INCONCLUSIVE
            unbounded = not theorem.model.admits(res.instance)
            o = Outcome(UNBOUNDED if unbounded else INCONCLUSIVE, _uncertified_detail(res, o, theorem.model), o.metrics)
        status = o.status
        if o.status == SKIPPED:   # outside the claim's premise it says nothing; at a case boundary it is undecided
            status = INCONCLUSIVE if o.detail == AT_BOUNDARY else NOT_APPLICABLE
        verdicts.append(ClaimVerdict(claim, status, Counter({o.status: 1}), o.detail, dict(o.metrics),
                                     res.instance if o.status == REFUTED else None, o.detail))
    return verdicts


def _symbolic_findings(theorem: Theorem, seed: int):
    return symbolic_findings(theorem, seed)[0]


def _attach_symbolic(verdict: ClaimVerdict, findings, theorem: Theorem) -> None:
    """The per-index symbolic checks bear on the closed forms and on the optimum they assemble.

    The optimum is refuted by any refuted finding; a closed form's claim only by a finding that blames
    that closed form (it is no coordinate of the exact minimiser at the counterexample), so that a wrong
    omega* does not refute lambda's claim.  Where a finding could not decide which closed form is wrong,
    a claim it may bear on is no longer VERIFIED but INCONCLUSIVE."""
    from .spec import ClosedFormSpectrum, GlobalMinimum
    if not isinstance(verdict.claim, (ClosedFormSpectrum, GlobalMinimum)) or not findings:
        return
    verdict.symbolic = list(findings)
    refuted = [f for f in findings if f.status == REFUTED]
    if isinstance(verdict.claim, ClosedFormSpectrum):
        quantity = str(verdict.claim.quantity)
        against = [f for f in refuted if f.blamed is not None and quantity in f.blamed]
        undecided = [f for f in refuted if f.blamed is None]
    else:
        against, undecided = refuted, []
    if against and verdict.status != REFUTED:
        f = against[0]
        verdict.status = REFUTED
        verdict.detail = f"symbolic {f.check} fails in branch {f.branch}: {f.evidence}"
        verdict.counterexample_detail = json.dumps(f.counterexample)
    elif undecided and verdict.status == VERIFIED:
        f = undecided[0]
        verdict.status = INCONCLUSIVE
        verdict.detail = (f"symbolic {f.check} fails in branch {f.branch}, and whether {quantity}* is to blame is "
                          f"undecided: {f.evidence}")
        verdict.counterexample_detail = json.dumps(f.counterexample)
