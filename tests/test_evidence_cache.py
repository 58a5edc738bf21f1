"""The on-disk evidence cache (verifier/cache.py, verifier/cached_results.py): a rerun hits it and gives the
same verdicts; a changed closed form, library version or `--no-cache` recomputes; a corrupt entry is
recomputed with one warning; a cache that cannot be written never breaks a run; the report says what came
from the cache."""
from __future__ import annotations

import json
import shutil
from pathlib import Path


import verifier.cache as cache_mod
from verifier import run_all as run_all_mod
from verifier.cache import DISABLED, EvidenceCache, fingerprint
from verifier.cli import main
from verifier.loader import load_spec
from verifier.report.profiles import Profile
from verifier.report.render_html import render_html
from verifier.report.render_md import escape, render_markdown
from verifier.report.sections import ReportSettings
from verifier.symbolic_cache import symbolic_findings

TEMPLATE = Path(__file__).resolve().parent.parent / "theorems" / "template_variant.py"
TINY = Profile(examples=6, batch=4, max_dim=2, restarts=2, sweep_points=9, sweep_minimised=2, diagram_points=7,
               adam_instances=1)


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


# ------------------------------------------------------------------ the store

def test_an_entry_round_trips_and_leaves_no_temporary_file(tmp_path):
    cache = EvidenceCache(tmp_path / "missing" / "cache")       # created on the first write
    assert cache.get("symbolic", "k1") is None
    assert cache.put("symbolic", "k1", [{"a": 1, "b": [1.5, None]}])
    assert cache.get("symbolic", "k1") == [{"a": 1, "b": [1.5, None]}]
    assert [p.name for p in (tmp_path / "missing" / "cache").rglob("*")] == ["symbolic", "k1.json"]


def test_a_corrupt_entry_is_ignored_with_one_warning_line(tmp_path, capsys):
    cache = EvidenceCache(tmp_path)
    cache.put("symbolic", "k1", [1])
    (tmp_path / "symbolic" / "k1.json").write_text('{"format": 1, "kind": "symb')      # cut off mid-write
    assert cache.get("symbolic", "k1") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt" in err and "recomputing" in err
    cache.put("symbolic", "k2", [2])                 # an entry moved to another key's file is not believed
    shutil.copy(tmp_path / "symbolic" / "k2.json", tmp_path / "symbolic" / "k3.json")
    assert cache.get("symbolic", "k3") is None and "another key" in capsys.readouterr().err


def test_a_cache_that_cannot_be_written_warns_once_and_breaks_nothing(tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    cache = EvidenceCache(blocked)
    assert cache.get("symbolic", "k1") is None
    assert not cache.put("symbolic", "k1", [1]) and not cache.put("symbolic", "k2", [2])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be written" in err


def test_the_disabled_cache_neither_reads_nor_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not DISABLED.put("symbolic", "k1", [1]) and DISABLED.get("symbolic", "k1") is None
    assert list(tmp_path.iterdir()) == []
    assert cache_mod.default_cache(enabled=False) is DISABLED
    monkeypatch.setenv(cache_mod.CACHE_DIR_VARIABLE, str(tmp_path / "elsewhere"))
    assert cache_mod.default_cache().directory == tmp_path / "elsewhere"


# ------------------------------------------------------------------ keys

def test_the_key_follows_the_spec_content_not_its_path(tmp_path):
    copy = tmp_path / TEMPLATE.name
    shutil.copy(TEMPLATE, copy)
    assert fingerprint(load_spec(str(TEMPLATE))) == fingerprint(load_spec(str(copy)))
    assert fingerprint(load_spec("theorem4")) == fingerprint(load_spec("theorem4"))
    copy.write_text(copy.read_text() + "\n# a comment: no content (the file defines no function of its own)\n")
    assert fingerprint(load_spec(str(copy))) == fingerprint(load_spec(str(TEMPLATE)))


def _changed_closed_form(theorem):
    symbol, expr = theorem.closed_forms[0]
    return theorem.replace_closed_form(symbol, 2 * expr, name=theorem.name)


def test_a_changed_closed_form_changes_the_fingerprint():
    theorem = load_spec("theorem4")
    assert fingerprint(_changed_closed_form(theorem)) != fingerprint(theorem)


# ------------------------------------------------------------------ symbolic findings (verifier check)

def test_symbolic_findings_are_cached_and_recomputed_when_anything_they_depend_on_changes(tmp_path, monkeypatch,
                                                                                           capsys):
    theorem, cache = load_spec("theorem4"), EvidenceCache(tmp_path)
    first, how = symbolic_findings(theorem, 0, cache)
    assert how.startswith("computed (cached as key")
    again, how = symbolic_findings(theorem, 0, cache)
    assert how.startswith("cached (key") and again == first
    assert symbolic_findings(theorem, 0, DISABLED) == (first, "computed (the evidence cache is off)")
    assert symbolic_findings(theorem, 1, cache)[1].startswith("computed")          # another seed
    assert symbolic_findings(_changed_closed_form(theorem), 0, cache)[1].startswith("computed")

    [entry] = [p for p in _entries(tmp_path) if how.split("key ")[1][:12] in p.name]
    entry.write_text("{not json")
    recomputed, how = symbolic_findings(theorem, 0, cache)
    assert recomputed == first and how.startswith("computed (cached as key")
    assert "corrupt" in capsys.readouterr().err
    assert symbolic_findings(theorem, 0, cache)[1].startswith("cached")           # the entry was written again

    real_version = cache_mod.metadata.version
    monkeypatch.setattr(cache_mod.metadata, "version",
                        lambda name: "0.1.0.post1" if name == "vae-theorem-verifier" else real_version(name))
    upgraded, how = symbolic_findings(theorem, 0, cache)
    assert how.startswith("computed (cached as key") and upgraded == first


def _claims(argv, capsys):
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    return [(c["claim"], c["status"], c["counts"]) for c in out["claims"]], out["symbolic_evidence"]


def test_verifier_check_reruns_from_the_cache_with_the_same_verdicts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache_mod.CACHE_DIR_VARIABLE, str(tmp_path))
    argv = ["check", "theorem4", "--examples", "2", "--max-dim", "2", "--json"]
    cold, how_cold = _claims(argv, capsys)
    warm, how_warm = _claims(argv, capsys)
    fresh, how_fresh = _claims(argv + ["--no-cache"], capsys)
    assert how_cold.startswith("computed (cached") and how_warm.startswith("cached (key")
    assert how_fresh == "computed (the evidence cache is off)"
    assert cold == warm == fresh


# ------------------------------------------------------------------ whole results (verifier report)

def _fake_section(settings):
    import matplotlib.pyplot as plt
    from verifier.report.sections import Figure, Section
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [settings.seed, 1])
    return Section("fake", "A fake section", "Body.", {"seed": settings.seed}, [Figure("fake_plot", fig, "a line")])


def _failing_section(settings):
    raise RuntimeError("provider exploded")


def _collect(cache, jobs=1):
    return run_all_mod.run_all(ReportSettings(), theorems=["theorem4"], proofs=["C"], jobs=jobs, cache=cache,
                               providers=[f"{__name__}:_fake_section", f"{__name__}:_failing_section"])


def _verdicts(report: dict) -> list:
    return ([(t["theorem"], [(c["claim"], c["class"], c["counts"]) for c in t["claims"]]) for t in report["theorems"]]
            + [(p["proof"], [s["class"] for s in p["steps"]]) for p in report["proofs"]]
            + [(k, s["ok"], s["markdown"]) for k, s in report["sections"].items()])


def _sources(report: dict) -> list[str]:
    return ([t["evidence_source"] for t in report["theorems"]] + [p["evidence_source"] for p in report["proofs"]]
            + [s["data"]["evidence_source"] for s in report["sections"].values()])


def test_an_unchanged_report_reruns_from_the_cache_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(run_all_mod, "profile_of", lambda name: TINY)
    cache = EvidenceCache(tmp_path / "cache")
    cold = _collect(cache, jobs=2)                   # worker processes: each result cached as it finishes
    assert [s.split(" (")[0] for s in _sources(cold.report)] == ["computed"] * 4
    assert _sources(cold.report)[-1] == "computed (not cached)"           # a section that crashed is not kept

    def no_workers(*args, **kwargs):
        raise AssertionError("a worker process was started although every check was cached")
    monkeypatch.setattr(run_all_mod, "ProcessPoolExecutor", no_workers)
    warm = _collect(cache, jobs=2)
    sources = _sources(warm.report)
    assert all(s.startswith("cached (key") for s in sources[:3]) and sources[3] == "computed (not cached)"
    assert warm.report["status"]["from_cache"] == 3
    assert _verdicts(warm.report) == _verdicts(cold.report)
    assert warm.sections[0].figures[0].png == cold.sections[0].figures[0].png    # the figure as first drawn

    md, page = render_markdown(warm.report), render_html(warm.report, {"fake_plot.png": b""})
    for phrase in ("3 result(s) were taken from the evidence cache", "Evidence source: result cached (key"):
        assert escape(phrase) in md and phrase in page, phrase
    assert " (cached) |" in md and " (cached)</td>" in page     # the summary's times

    fresh = _collect(DISABLED)
    assert _verdicts(fresh.report) == _verdicts(cold.report)
    assert set(_sources(fresh.report)) == {"computed (the evidence cache is off)"}
