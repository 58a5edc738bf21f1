"""Work on a Dask cluster (verifier.distributed, ``--scheduler``): the client draws, the workers minimise and
judge exactly the lists a local run would, so a seed gives byte-identical verdicts; a dead worker's tasks are
rerun elsewhere; a lost or absent scheduler is one clear error, with nothing written.

The Dask tests start a scheduler and workers on the loopback inside the test; each stops by itself (the
scheduler after an idle minute, the workers when it is gone) and every wait is bounded."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from theorems import theorem4_vae_learnable_sigma as t4
from verifier import distributed, search_lookahead
from verifier.cache import fingerprint
from verifier.errors import UsageError
from verifier.pipeline import Pipeline
from verifier.strategies import instance_batches
from verifier.verdicts import check_theorem

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- without Dask

@pytest.mark.parametrize("text, workers, address", [
    ("local", None, None), ("local:3", 3, None), ("tcp://127.0.0.1:8786", None, "tcp://127.0.0.1:8786"),
    ("tls://scheduler.example:8786", None, "tls://scheduler.example:8786"),
])
def test_scheduler_values(text, workers, address):
    choice = distributed.parse_scheduler(text)
    assert (choice.workers, choice.address, choice.is_local) == (workers, address, workers is None and address is None)


@pytest.mark.parametrize("text", ["", "local:0", "local:x", "local:", "127.0.0.1:8786", "tcp://", "dask"])
def test_a_bad_scheduler_value_names_the_forms_that_work(text):
    with pytest.raises(UsageError, match="local:N"):
        distributed.parse_scheduler(text)


def test_without_dask_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)        # import distributed -> ImportError
    with pytest.raises(distributed.ClusterError, match=r'pip install -e "\.\[distributed\]"'):
        with distributed.connect(distributed.parse_scheduler("local:1")):
            pass


class _WorkerLikeRemote:
    """A RemoteRunner's contract without Dask: each list is computed by a fresh pipeline, as a worker does;
    records whether the search's own calls found their list prefetched."""

    def __init__(self, theorem):
        self.theorem, self.prefetched, self.calls = theorem, set(), []

    def prefetch(self, settings, lists, climb=True):
        self.prefetched.update((settings, climb, tuple(i.key() for i in lst)) for lst in lists)

    def run(self, settings, instances, climb):
        self.calls.append((settings, climb, tuple(i.key() for i in instances)) in self.prefetched)
        worker = Pipeline(self.theorem, settings)
        return worker.run(instances, climb=climb), worker.minimised


def _verdict_json(verdict) -> str:
    out = verdict.to_json()
    out.pop("elapsed_s")
    return json.dumps(out, sort_keys=True)


def test_remote_lists_are_the_local_batches_so_the_verdicts_are_byte_identical():
    """The lookahead's plan is what the search then asks for (every call of the searches was prefetched),
    and computing each list apart gives the verdicts of the local run bit for bit."""
    options = dict(instances=96, batch_size=8, max_dim=3, seed=2, symbolic=False)
    local = check_theorem(t4.THEOREM, **options)
    remote = _WorkerLikeRemote(t4.THEOREM)
    pipeline = Pipeline(t4.THEOREM, remote=remote)
    elsewhere = check_theorem(t4.THEOREM, pipeline=pipeline, **options)
    assert _verdict_json(elsewhere) == _verdict_json(local)
    assert len(remote.calls) >= 2 and all(remote.calls)


def test_the_plan_leaves_out_what_the_pipeline_holds():
    lists = search_lookahead.drawn_lists(instance_batches(t4.THEOREM, 4, 2), 12, 1)
    pipeline = Pipeline(t4.THEOREM)
    pipeline.run(lists[0])
    plan = search_lookahead.Lookahead.__new__(search_lookahead.Lookahead)
    plan.pipeline, plan.lists = pipeline, lists
    planned = plan.planned()
    keys = [i.key() for lst in planned for i in lst]
    assert len(keys) == len(set(keys))                                   # each instance once
    assert not set(keys) & {i.key() for i in lists[0]}                   # none that is cached
    assert set(keys) == {i.key() for lst in lists[1:] for i in lst} - {i.key() for i in lists[0]}


# ---------------------------------------------------------------- a cluster on the loopback

def _dask_cli(*args, **popen):
    pytest.importorskip("distributed")
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen)


@pytest.fixture
def scheduler(tmp_path):
    """A scheduler on a free loopback port, and a way to start workers for it; everything is stopped at the end
    (and would stop by itself: the scheduler when idle for a minute, the workers when it is gone)."""
    file = tmp_path / "scheduler.json"
    procs = [_dask_cli("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                       "--scheduler-file", str(file), "--idle-timeout", "60s")]
    deadline = time.monotonic() + 60
    while not file.exists() or not file.read_text().strip():
        assert time.monotonic() < deadline and procs[0].poll() is None, "the scheduler did not start"
        time.sleep(0.2)
    address = json.loads(file.read_text())["address"]

    def start_workers(n: int) -> list[subprocess.Popen]:
        started = [_dask_cli("worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                             "--no-nanny", "--death-timeout", "20s", "--lifetime", "600s", cwd=str(ROOT))
                   for _ in range(n)]
        procs.extend(started)
        from distributed import Client
        with Client(address, timeout=30) as client:
            client.wait_for_workers(n, timeout=60)
        return started

    yield address, start_workers, procs[0]
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=30)


CHECK = ["check", "theorem4", "--examples", "192", "--seed", "2", "--max-dim", "3", "--no-symbolic", "--json",
         "--no-cache"]


def _verifier(*args, **popen):
    return subprocess.Popen([sys.executable, "-m", "verifier", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT), **popen)


def _without_timings(text: str) -> dict:
    out = json.loads(text)
    out.pop("elapsed_s")
    return out


@pytest.mark.slow
def test_a_cluster_gives_the_local_verdicts_and_keeps_them_when_a_worker_dies(scheduler):
    address, start_workers, _ = scheduler
    local = _verifier(*CHECK)
    workers = start_workers(2)
    remote = _verifier(*CHECK, "--scheduler", address)
    # kill one worker as soon as the first task is done: its other tasks are rerun on the one left
    killed = False
    for line in remote.stderr:
        if "tasks done" in line and not killed:
            workers[0].send_signal(signal.SIGKILL)
            killed = True
    out, _ = remote.communicate(timeout=600)
    expected, _ = local.communicate(timeout=600)
    assert killed, "no task finished: the run never used the cluster"
    assert remote.returncode == local.returncode == 0
    assert _without_timings(out) == _without_timings(expected)


@pytest.mark.slow
def test_a_lost_scheduler_ends_the_run_with_one_line_and_no_verdicts(scheduler):
    address, start_workers, scheduler_proc = scheduler
    start_workers(1)
    run = _verifier(*CHECK, "--scheduler", address)
    for line in run.stderr:
        if "tasks done" in line:
            scheduler_proc.send_signal(signal.SIGKILL)
            break
    out, err = run.communicate(timeout=300)
    assert run.returncode == 2, err
    assert out == ""
    assert "lost the cluster" in err and "Traceback" not in err


def test_an_unreachable_scheduler_is_a_usage_error(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT_S", 3)
    with pytest.raises(distributed.ClusterError, match="no Dask scheduler answered"):
        with distributed.connect(distributed.parse_scheduler("tcp://127.0.0.1:9")):
            pass


@pytest.mark.slow
def test_the_report_runs_its_theorems_on_a_local_cluster_and_says_so():
    pytest.importorskip("distributed")
    from verifier.report.sections import ReportSettings
    from verifier.run_all import run_all
    settings = ReportSettings(profile="quick", seed=0, device="cpu")
    subset = dict(theorems=["theorem4"], proofs=["C"], providers=())
    here = run_all(settings, jobs=1, **subset).report
    with distributed.cluster_for("local:2", progress=None) as cluster:
        there = run_all(settings, cluster=cluster, **subset).report
    assert "Dask LocalCluster" in there["environment"]["ran_on"] and "2 workers" in there["environment"]["ran_on"]
    strip = lambda report: json.dumps([[{k: v for k, v in c.items() if k != "elapsed_s"} for c in t["claims"]]
                                       for t in report["theorems"]] + [p["steps"] for p in report["proofs"]],
                                      sort_keys=True)
    assert strip(there) == strip(here)


def _process_section(settings):
    """A section that says which process computed it."""
    from verifier.report.sections import Section
    return Section("process", "Where it ran", f"Seed {settings.seed}.", {"seed": settings.seed, "pid": os.getpid()})


def test_the_report_computes_its_sections_on_the_cluster_too():
    pytest.importorskip("distributed")
    from verifier.report.sections import ReportSettings
    from verifier.run_all import run_all
    settings = ReportSettings(profile="quick", seed=4, device="cpu")
    subset = dict(theorems=[], proofs=[], providers=(f"{__name__}:_process_section",))
    here = run_all(settings, jobs=1, **subset).report["sections"]["process"]
    with distributed.cluster_for("local:2", progress=None) as cluster:
        there = run_all(settings, cluster=cluster, **subset).report["sections"]["process"]
    assert here["data"]["pid"] == os.getpid() != there["data"]["pid"]           # computed on a worker
    assert (there["markdown"], there["data"]["seed"], there["ok"]) == ("Seed 4.", 4, True)


class _LateCallbacksPool:
    """A pool whose futures are done at once and run their done-callbacks later, in a thread of their own, as a
    Dask future does: what the report reads must not race them."""

    def __init__(self, cluster):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def submit(self, call):
        return _LateFuture(call())


class _LateFuture:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def cancelled(self):
        return False

    def exception(self):
        return None

    def add_done_callback(self, fn):
        import threading
        threading.Timer(0.3, fn, args=(self,)).start()


def test_results_are_read_after_the_clusters_callbacks_have_kept_them(tmp_path, monkeypatch):
    from types import SimpleNamespace
    from verifier import run_all as run_all_mod
    from verifier.cache import EvidenceCache
    from verifier.report.sections import ReportSettings
    monkeypatch.setattr(run_all_mod, "WorkerPool", _LateCallbacksPool)
    cluster = SimpleNamespace(describe=lambda: "a pool with late callbacks")
    report = run_all_mod.run_all(ReportSettings(), theorems=[], proofs=["C"], providers=[f"{__name__}:_process_section"],
                                 cluster=cluster, cache=EvidenceCache(tmp_path / "cache")).report
    sources = [report["proofs"][0].get("evidence_source"), report["sections"]["process"]["data"].get("evidence_source")]
    assert all(str(s).startswith("computed (cached as key") for s in sources), sources


def test_a_worker_with_other_code_refuses_the_task():
    with pytest.raises(distributed.ClusterError, match="another version of the project"):
        distributed.check_project("0" * 64)


def test_a_worker_loads_a_spec_file_it_does_not_see_from_the_clients_text(tmp_path):
    spec = tmp_path / "my_variant.py"
    spec.write_text((ROOT / "theorems" / "template_variant.py").read_text())
    from verifier.loader import load_spec
    theorem = load_spec(str(spec))
    ref = distributed.spec_ref(theorem, str(spec))
    spec.unlink()                                      # the worker's machine has no such file
    loaded = distributed.worker_theorem(ref)
    assert loaded.name == theorem.name and fingerprint(loaded) == ref.fingerprint
    other = distributed.SpecRef(ref.name, ref.source, "not the client's content", ref.project)
    with pytest.raises(distributed.ClusterError, match="other content than the client"):
        distributed.worker_theorem(other)
