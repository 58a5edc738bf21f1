"""Run everything ``verifier report`` shows and gather the results, which ``verifier.report`` renders.

``run_all`` checks every registered theorem (claim by claim, timing each), every proof in
``proofs_check``, and every section in ``SECTION_PROVIDERS``; it classifies refutations
(``report/status.py``), lists the errata and returns :class:`~verifier.report.results.Results`.
Progress goes to ``progress`` (stderr in the CLI).  With ``jobs`` > 1 the theorems, proofs and sections
are shared out to that many worker processes: every check is deterministic given the seed and none
depends on what ran before it in its process, so the results are those of a serial run, only sooner.
"""
from __future__ import annotations

import functools
import multiprocessing
import platform
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata

from . import cached_results as cached
from . import kernels
from .allocator import keep_freed_memory
from .cache import DISABLED, EvidenceCache
from .distributed import WorkerPool
from .numeric import MinimiserSettings
from .pipeline import Pipeline, PipelineSettings
from .report import status as st
from .report.errata import claim_errata, step_errata
from .report.profiles import profile as profile_of
from .report.results import SCHEMA_VERSION, Results
from .report.sections import LONG_RUNNING, SECTION_PROVIDERS, ReportSettings
from .section_runs import cached_section, compute_section, jsonable, run_sections, section_class, store_section

_PACKAGES = ("vae-theorem-verifier", "torch", "sympy", "numpy", "hypothesis", "matplotlib", "jsonschema")


def environment(settings: ReportSettings, command: str) -> dict:
    import torch
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    device_name = torch.cuda.get_device_name(0) if settings.device == "cuda" else platform.processor() or "cpu"
    return {"command": command, "profile": settings.profile, "seed": settings.seed, "device": settings.device,
            "device_name": device_name, "python": platform.python_version(), "platform": platform.platform(),
            "packages": versions, "torch_threads": torch.get_num_threads(), "kernels": kernels.mode()}


# ---------------------------------------------------------------- theorems

def _claim_evidence(cv: dict) -> dict:
    """The summary columns of one claim: instances tried, worst error, loss gap, tolerance."""
    worst = cv.get("worst") or {}
    error = next((worst[k] for k in ("max_error", "residual") if k in worst), None)
    tol = next((worst[k] for k in ("tolerance", "loss_tol") if k in worst), None)
    return {"instances_tried": sum(cv["counts"].values()), "worst_error": error,
            "loss_gap": worst.get("loss_gap"), "tolerance": tol}


def _load(name: str):
    """A registered theorem; a module that cannot be imported is a spec error that names it."""
    from .errors import SpecError
    from .loader import load_spec
    try:
        return load_spec(name)
    except ImportError as exc:
        raise SpecError(f"registered theorem {name!r} cannot be imported: {exc}") from exc


def _pipeline_settings(prof, settings: ReportSettings) -> PipelineSettings:
    return PipelineSettings(minimiser=MinimiserSettings(restarts=prof.restarts, seed=settings.seed,
                                                        device=settings.device), device=settings.device)


def check_theorems(names, prof, settings: ReportSettings, progress, cache: EvidenceCache = DISABLED) -> list[dict]:
    keys = _theorem_keys(names, prof, settings, cache)
    entries = []
    for name in names:
        entry = cached.lookup(cache, "theorem", keys[name], f"theorem {name}", progress)
        if entry is None:
            entry = check_theorem_entry(name, prof, settings, progress, cache)
            cached.store(cache, "theorem", keys[name], entry, crashed="error" in entry)
        entries.append(entry)
    return entries


def _theorem_keys(names, prof, settings: ReportSettings, cache: EvidenceCache) -> dict:
    """Each theorem's cache key (None: not cached, the cache off or a spec that cannot be loaded or keyed)."""
    keys = dict.fromkeys(names)
    for name in names if cache.enabled else ():
        try:
            keys[name] = cached.theorem_key(_load(name), prof, settings)
        except Exception:                             # noqa: BLE001 - reported by the check, which fails the same way
            pass
    return keys


def check_theorem_entry(name, prof, settings: ReportSettings, progress, cache: EvidenceCache = DISABLED) -> dict:
    """One theorem's JSON entry; a theorem that cannot be checked becomes an ERROR entry naming why.
    ``cache``: where its symbolic findings may come from (the entry as a whole is cached by the caller)."""
    start = time.perf_counter()
    try:
        return _check_one(name, prof, settings, _pipeline_settings(prof, settings), progress, cache)
    except Exception as exc:                      # noqa: BLE001 - the report shows it and goes on
        from .errors import VerifierError
        cls = st.SPEC_ERROR if isinstance(exc, VerifierError) else st.INTERNAL_ERROR   # a crash is no verdict
        progress(f"theorem {name}: {type(exc).__name__}: {str(exc)[:300]}")
        return {"theorem": name, "title": "(could not be checked)", "source": "", "status": "ERROR",
                "error": f"{type(exc).__name__}: {exc}", "error_class": cls, "seed": settings.seed,
                "instances_evaluated": 0, "elapsed_s": round(time.perf_counter() - start, 3),
                "tolerances": {}, "tolerances_text": "", "device": settings.device, "claims": [],
                "errata": [], "counts": _counts([cls]), "exit_code": st.exit_status([cls])}


def _check_one(name, prof, settings: ReportSettings, pipeline, progress, cache: EvidenceCache) -> dict:
    from .symbolic_cache import symbolic_findings
    from .verdicts import check_theorem
    theorem = _load(name)
    marks = []                  # (claim name, start time): check_theorem reports each claim as it starts

    def tick(msg, _marks=marks, _name=name):
        _marks.append((msg.split(": ", 1)[-1], time.perf_counter()))
        progress(f"theorem {msg}")

    progress(f"theorem {name}: symbolic checks of the closed forms")
    symbolic_start = time.perf_counter()
    findings, symbolic_source = symbolic_findings(theorem, settings.seed, cache)
    symbolic_s = time.perf_counter() - symbolic_start
    verdict = check_theorem(theorem, instances=prof.examples, batch_size=prof.batch, max_dim=prof.max_dim,
                            seed=settings.seed, progress=tick, findings=findings,
                            pipeline=Pipeline(theorem, pipeline, evidence_cache=cache))
    verdict.elapsed += symbolic_s               # the theorem's time includes its symbolic checks
    ends = [t for _, t in marks[1:]] + [time.perf_counter()]
    vj = jsonable(verdict.to_json())
    for cj, (_, start), end in zip(vj["claims"], marks, ends):
        cj["elapsed_s"] = round(end - start, 3)
        cj.update(_claim_evidence(cj))
    for cj, cls in zip(vj["claims"], st.classify_claims(vj["claims"])):
        cj["class"] = cls
    vj["tolerances_text"] = verdict.settings.tolerances.describe()
    vj["symbolic_evidence"] = symbolic_source
    vj["symbolic_elapsed_s"] = round(symbolic_s, 3)
    vj["errata"] = claim_errata(theorem, vj["claims"])
    vj["counts"] = _counts(c["class"] for c in vj["claims"])
    vj["exit_code"] = st.exit_status(c["class"] for c in vj["claims"])
    return vj


# ---------------------------------------------------------------- proofs

def check_proofs(names, settings: ReportSettings, progress, cache: EvidenceCache = DISABLED) -> list[dict]:
    keys = {name: cached.proof_key(name, settings) if cache.enabled else None for name in names}
    return [cached.lookup(cache, "proof", keys[name], f"proof {name}", progress)
            or cached.store(cache, "proof", keys[name], check_proof_entry(name, settings, progress)) for name in names]


def check_proof_entry(name, settings: ReportSettings, progress) -> dict:
    import proofs_check
    progress(f"proof {name}")
    start = time.perf_counter()
    steps = []
    for step, res in proofs_check.run_proof(name, seed=settings.seed):
        sj = jsonable({"equation": step.equation, "claim": step.claim, "note": step.note, **res.__dict__})
        sj["class"] = st.classify_step(sj)
        steps.append(sj)
    return {"proof": name, "elapsed_s": round(time.perf_counter() - start, 3), "steps": steps,
            "counts": _counts(s["class"] for s in steps),
            "exit_code": st.exit_status(s["class"] for s in steps),
            "errata": step_errata(name, steps, settings.seed)}


# ---------------------------------------------------------------- in worker processes

@dataclass(frozen=True)
class StderrProgress:
    """Progress lines on stderr, timed from ``started_at`` (wall clock, not perf_counter, so that worker
    processes given this object time their lines from the same start)."""
    started_at: float

    def __call__(self, msg: str) -> None:
        print(f"  [{time.time() - self.started_at:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _silent(msg: str) -> None:
    pass


def _in_workers(jobs, theorem_names, proof_names, prof, settings, provider_paths, progress, cache, cluster=None):
    """Theorems, proofs and sections shared out to ``jobs`` worker processes (or the ``cluster``'s workers),
    the longest first (``_start_order``); what the cache holds is taken from it here and only the rest is
    computed. No worker is started when nothing is left, nor (without a cluster) for a single piece of work,
    which runs here."""
    keys = {("theorem", name): key for name, key in _theorem_keys(theorem_names, prof, settings, cache).items()}
    keys.update({("proof", name): cached.proof_key(name, settings) if cache.enabled else None for name in proof_names})
    keys.update({("section", path): cached.section_key(path, settings) if cache.enabled else None
                 for path in provider_paths})
    done = {part: (cached_section(cache, entry_key, part[1], progress) if part[0] == "section"
                   else cached.lookup(cache, part[0], entry_key, f"{part[0]} {part[1]}", progress))
            for part, entry_key in keys.items()}
    todo = _start_order([part for part, result in done.items() if result is None], provider_paths)
    # Workers report through the caller's progress when it can travel to them (a StderrProgress); a cluster's
    # workers print elsewhere, and the cluster counts their tasks here instead.
    remote = progress if isinstance(progress, StderrProgress) and cluster is None else _silent
    if len(todo) == 1 and cluster is None:
        part = todo[0]
        done[part] = _keep(cache, part[0], keys[part], _work(*part, prof, settings, progress, cache)())
    elif todo:
        # spawn, not fork: a forked child would inherit torch's and OpenMP's thread pools mid-state
        pool = (WorkerPool(cluster) if cluster is not None
                else ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                                         initializer=keep_freed_memory))
        kept = {part: threading.Event() for part in todo}
        with pool:
            futures = {part: pool.submit(_work(*part, prof, settings, remote, cache)) for part in todo}
            for part, future in futures.items():     # kept as each finishes: an interrupted run keeps those
                future.add_done_callback(functools.partial(_keep_finished, cache, part[0], keys[part], kept[part]))
            done.update((part, future.result()) for part, future in futures.items())
        for event in kept.values():       # a Dask future runs its callbacks in a thread of its own, after result()
            event.wait()
    return ([done[("theorem", name)] for name in theorem_names], [done[("proof", name)] for name in proof_names],
            [cached.section_from_json(done[("section", path)]) for path in provider_paths])


def _work(kind: str, name: str, prof, settings: ReportSettings, progress, cache: EvidenceCache):
    """The computation of one theorem, proof or section, as a picklable call without arguments."""
    if kind == "theorem":
        return functools.partial(check_theorem_entry, name, prof, settings, progress, cache)
    if kind == "proof":
        return functools.partial(check_proof_entry, name, settings, progress)
    return functools.partial(compute_section, name, settings, progress)


def _keep(cache: EvidenceCache, kind: str, entry_key: str | None, result: dict) -> dict:
    if kind == "section":
        return store_section(cache, entry_key, result)
    return cached.store(cache, kind, entry_key, result, crashed="error" in result)


def _keep_finished(cache: EvidenceCache, kind: str, entry_key: str | None, kept: threading.Event, future) -> None:
    try:
        if not future.cancelled() and future.exception() is None:
            _keep(cache, kind, entry_key, future.result())
    finally:
        kept.set()


def _start_order(parts, provider_paths) -> list[tuple[str, str]]:
    """(kind, name) pieces of work in the order to start them, so that the workers finish together: the
    long-running sections (``report.sections.LONG_RUNNING``), the theorems heaviest first, the other
    sections, then the proofs (seconds each)."""
    sections = [("section", path) for path in provider_paths if ("section", path) in parts]
    long = [p for p in sections if p[1] in LONG_RUNNING]
    theorems = [("theorem", name) for name in _heaviest_first([n for kind, n in parts if kind == "theorem"])]
    proofs = [p for p in parts if p[0] == "proof"]
    return long + theorems + [p for p in sections if p not in long] + proofs


def _heaviest_first(names) -> list[str]:
    """Theorems in the order to start them: the symbolic checks dominate and grow with the number of
    hyperparameters (Theorem 5's six take minutes, Theorem 4's three seconds), so most first; the workers
    then finish together. Unloadable specs go last (their error entry comes from the worker)."""
    def weight(name):
        try:
            return -len(_load(name).model.hyperparameters)
        except Exception:                             # noqa: BLE001 - reported by the worker that checks it
            return 0
    return sorted(names, key=lambda name: (weight(name), name))


# ---------------------------------------------------------------- all of it

def _counts(classes) -> dict:
    counts = {k: 0 for k in (st.VERIFIED, st.ERRATUM, st.REFUTED, st.INCONCLUSIVE)}
    for c in classes:
        counts[c] = counts.get(c, 0) + 1
    return counts


def _proof_names(proofs) -> list[str]:
    if proofs is not None:
        return list(proofs)
    import proofs_check
    return list(proofs_check.PROOFS)


def run_all(settings: ReportSettings, *, command: str = "verifier report", theorems=None, proofs=None,
            providers=None, progress=None, jobs: int = 1, cache: EvidenceCache = DISABLED, cluster=None) -> Results:
    """Check everything (or the given subsets: names of theorems and proofs, provider paths), the
    theorems and proofs in ``jobs`` worker processes when ``jobs`` > 1, or on the workers of a Dask
    ``cluster`` (verifier.distributed.Cluster) when one is given; ``cache``: where unchanged results are
    taken from and computed ones kept (``verifier.cached_results``)."""
    from .loader import registry
    progress = progress or (lambda msg: None)
    prof = profile_of(settings.profile)
    start = time.perf_counter()
    theorem_names = sorted(registry()) if theorems is None else list(theorems)
    provider_paths = SECTION_PROVIDERS if providers is None else tuple(providers)

    # The order of the work does not change its results: every search draws with Hypothesis's local-constants
    # pool emptied (hypothesis_pool), so what a process imported before a search does not move its draws.
    if jobs > 1 or cluster is not None:
        theorem_results, proof_results, sections = _in_workers(jobs, theorem_names, _proof_names(proofs), prof,
                                                               settings, provider_paths, progress, cache, cluster)
    else:
        theorem_results = check_theorems(theorem_names, prof, settings, progress, cache)
        proof_results = check_proofs(_proof_names(proofs), settings, progress, cache)
        sections = run_sections(provider_paths, settings, progress, cache)

    classes = ([c["class"] for t in theorem_results for c in t["claims"]]
               + [t["error_class"] for t in theorem_results if "error" in t]
               + [s["class"] for p in proof_results for s in p["steps"]]
               + [section_class(s) for s in sections])
    code = st.exit_status(classes)
    report = {
        "schema_version": SCHEMA_VERSION,
        "generated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "status": {"exit_code": code,
                   "meaning": {0: "every claim verified or an expected, documented erratum",
                               1: "something unexpected was refuted or failed",
                               2: "a registered spec could not be checked (see its entry)",
                               3: "something is inconclusive",
                               4: "a check or a section crashed: an internal error (see its entry)"}[code],
                   "counts": _counts(classes[:len(classes) - len(sections)]),
                   "failed_sections": [s.key for s in sections if not s.ok],
                   "from_cache": sum(str(e.get("evidence_source", "")).startswith("cached")
                                     for e in [*theorem_results, *proof_results, *(s.data for s in sections)]),
                   "elapsed_s": round(time.perf_counter() - start, 3)},
        "environment": {**environment(settings, command),
                        "ran_on": cluster.describe() if cluster is not None
                        else f"this machine, {jobs} worker process{'es' * (jobs != 1)}" if jobs > 1 else "this process"},
        "settings": {"profile": settings.profile, "seed": settings.seed, "device": settings.device,
                     **prof.__dict__},
        "theorems": theorem_results,
        "proofs": proof_results,
        "errata": [e for t in theorem_results for e in t["errata"]] + [e for p in proof_results for e in p["errata"]],
        "sections": {s.key: {"title": s.title, "markdown": s.markdown, "data": s.data, "ok": s.ok,
                             "figures": [{"name": f.name, "caption": f.caption, "file": f"{f.name}.png"}
                                         for f in s.figures]} for s in sections},
    }
    return Results(jsonable(report), sections)
