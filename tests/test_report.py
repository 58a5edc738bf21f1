"""``verifier report``: structure of md/html/json, the JSON schema, atomic writes, the exit-status
rule shared with ``verifier check``, bad input, the plots' ability to see a wrong closed form, and
the HTML rendered in headless Chromium."""
from __future__ import annotations

import json
import subprocess
import sys
import types
from importlib import resources

import numpy as np
import pytest

from verifier.cli import main
from verifier.errors import UsageError
from verifier import run_all as run_all_mod
from verifier.report import status as st
from verifier.report import render_html as render_html_mod
from verifier.report.profiles import Profile
from verifier.report.sections import Figure, ReportSettings, Section
from verifier.report.write import parse_formats, write_report
from verifier.run_all import run_all

from chromium_page import RAW_TEX, Page, chromium_binary, visible_text

jsonschema = pytest.importorskip("jsonschema")

TINY = Profile(examples=6, batch=4, max_dim=2, restarts=2, sweep_points=9, sweep_minimised=2, diagram_points=7,
               adam_instances=1)


# ------------------------------------------------------------------ a fake section provider

def _fake_section(settings: ReportSettings) -> Section:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [settings.seed, 1])
    return Section("fake", "A fake section", "Body with a | pipe and `code`.", {"seed": settings.seed},
                   [Figure("fake_plot", fig, "a line")])


def _failing_section(settings: ReportSettings) -> Section:
    raise RuntimeError("provider exploded")


@pytest.fixture(scope="module")
def fake_providers():
    module = types.ModuleType("_report_test_providers")
    module.fake, module.failing = _fake_section, _failing_section
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


@pytest.fixture(scope="module")
def collected(fake_providers):
    """A small real collection: theorem1 (printed Remark 2 and its correction), proof C, a fake section."""
    run_all_mod.profile_of = lambda name: TINY              # tiny sizes; restored below
    try:
        return run_all(ReportSettings(), theorems=["theorem1"], proofs=["C"], providers=[f"{fake_providers}:fake"])
    finally:
        run_all_mod.profile_of = __import__("verifier.report.profiles", fromlist=["profile"]).profile


def _schema():
    return json.loads(resources.files("verifier.report").joinpath("schema.json").read_text())


# ------------------------------------------------------------------ structure

def test_report_has_every_format_theorem_claim_and_validates(collected, tmp_path):
    paths = write_report(collected, tmp_path / "rep")
    assert {p.name for p in paths.values()} == {"report.md", "report.html", "report.json"}
    report = json.loads(paths["json"].read_text())
    jsonschema.validate(report, _schema())
    from verifier.loader import load_spec
    claims = {c.name for c in load_spec("theorem1").claims}
    assert {c["claim"] for c in report["theorems"][0]["claims"]} == claims
    md, page = paths["md"].read_text(), paths["html"].read_text()
    from verifier.report.render_md import escape
    for name in claims:
        assert f"</a>{escape(name)} |" in md and f">{name}</span></td>" in page
    assert (tmp_path / "rep" / "fake_plot.png").read_bytes().startswith(b"\x89PNG")
    assert "](fake_plot.png)" in md
    assert "data:image/png;base64," in page and "fake_plot.png" not in page.split("<body>")[1].split("alt=")[0]
    assert report["environment"]["seed"] == 0 and report["environment"]["packages"]["torch"]


def test_errata_listed_with_location_forms_and_replay(collected):
    report = collected.report
    assert report["errata"], "proof C prints a derivative without its factor N: an erratum"
    for e in report["errata"]:
        assert e["location"] and e["printed"] and e["corrected"] and e["replay"]
    steps = [s for s in report["proofs"][0]["steps"] if s["class"] == st.ERRATUM]
    assert len(steps) == len([e for e in report["errata"] if e["kind"] == "proof_step"])


def test_schema_rejects_a_broken_report(collected):
    broken = json.loads(json.dumps(collected.report))
    broken["theorems"][0]["claims"][0]["status"] = "PROVED"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, _schema())


# ------------------------------------------------------------------ worker processes

_SERIAL = """
import json, sys
from verifier import run_all as run_all_mod
from verifier.report.profiles import Profile
from verifier.report.sections import ReportSettings
run_all_mod.profile_of = lambda name: Profile(**json.loads(sys.argv[1]))
report = run_all_mod.run_all(ReportSettings(), theorems=["theorem4", "appendix_c"], proofs=["C", "D.1"], providers=[])
print(json.dumps(report.report))
"""


def _without_timings(obj):
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items()
                if not k.endswith("elapsed_s") and k not in ("generated_utc", "environment")}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


def test_worker_processes_give_the_serial_report(monkeypatch):
    """--jobs 2 checks theorems and proofs in two spawned processes: the same verdicts, instances, errata and
    counterexamples as one process (run in a clean interpreter, as `verifier report --jobs 1` would be)."""
    serial = subprocess.run([sys.executable, "-c", _SERIAL, json.dumps(TINY.__dict__)], capture_output=True,
                            text=True, check=True)
    monkeypatch.setattr(run_all_mod, "profile_of", lambda name: TINY)
    parallel = run_all(ReportSettings(), theorems=["theorem4", "appendix_c"], proofs=["C", "D.1"], providers=[],
                       jobs=2).report
    assert _without_timings(parallel) == _without_timings(json.loads(serial.stdout))
    assert [t["theorem"] for t in parallel["theorems"]] == ["theorem4", "appendix_c"]


def test_sections_in_worker_processes_give_the_serial_sections():
    """With --jobs 2 the sections are computed in the workers too: the same text, data and figure bytes as in
    this process, and a provider that raises is a failed section there as here."""
    providers = [f"{__name__}:_fake_section", f"{__name__}:_failing_section"]
    settings = ReportSettings(seed=5)
    serial = run_all(settings, theorems=[], proofs=[], providers=providers, jobs=1)
    parallel = run_all(settings, theorems=[], proofs=[], providers=providers, jobs=2)
    assert _without_timings(parallel.report["sections"]) == _without_timings(serial.report["sections"])
    assert [[f.png for f in s.figures] for s in parallel.sections] == [[f.png for f in s.figures] for s in serial.sections]
    assert parallel.sections[0].figures[0].png.startswith(b"\x89PNG")
    assert [s.ok for s in parallel.sections] == [True, False] and parallel.report["status"]["exit_code"] == 4


def test_the_long_sections_start_first_and_the_proofs_last():
    from verifier.report.sections import LONG_RUNNING, SECTION_PROVIDERS
    parts = ([("proof", "C")] + [("section", p) for p in SECTION_PROVIDERS]
             + [("theorem", "theorem4"), ("theorem", "theorem5")])
    order = run_all_mod._start_order(parts, SECTION_PROVIDERS)
    assert sorted(order) == sorted(parts)
    assert [name for _, name in order[:len(LONG_RUNNING)]] == [p for p in SECTION_PROVIDERS if p in LONG_RUNNING]
    assert order[len(LONG_RUNNING):len(LONG_RUNNING) + 2] == [("theorem", "theorem5"), ("theorem", "theorem4")]
    assert order[-1] == ("proof", "C")


# ------------------------------------------------------------------ the exit-status rule

def _claim(name, status, erratum_of=None):
    return {"claim": name, "status": status, "erratum_of": erratum_of}


@pytest.mark.parametrize("claims, expected", [
    ([_claim("a", "VERIFIED")], 0),
    ([_claim("p", "REFUTED"), _claim("p_fixed", "VERIFIED", "p")], 0),              # documented erratum
    ([_claim("p", "REFUTED"), _claim("p_fixed", "INCONCLUSIVE", "p")], 1),          # correction not verified
    ([_claim("p", "REFUTED"), _claim("q_fixed", "VERIFIED", "q")], 1),              # correction of another claim
    ([_claim("p", "REFUTED")], 1),
    ([_claim("a", "INCONCLUSIVE"), _claim("p", "REFUTED"), _claim("p_fixed", "VERIFIED", "p")], 3),
    ([_claim("a", "INCONCLUSIVE"), _claim("b", "REFUTED")], 1),
])
def test_exit_status_of_claims(claims, expected):
    assert st.exit_status(st.classify_claims(claims)) == expected


def test_exit_status_of_proof_steps():
    assert st.classify_step({"status": "REFUTED", "corrected": "x = 2y"}) == st.ERRATUM
    assert st.classify_step({"status": "REFUTED", "corrected": None}) == st.REFUTED
    assert st.exit_status([st.ERRATUM, st.VERIFIED]) == 0
    assert st.combine([0, 3, 1]) == 1 and st.combine([0, 3]) == 3 and st.combine([1, 2]) == 2


def test_failed_section_counts_as_unexpected(fake_providers):
    report = run_all(ReportSettings(), theorems=[], proofs=[], providers=[f"{fake_providers}:failing"]).report
    assert report["status"]["exit_code"] == 4          # a provider that raised crashed: an internal error, not 1
    (section,) = report["sections"].values()
    assert section["ok"] is False and "provider exploded" in section["markdown"]


def test_check_exits_0_on_a_documented_erratum(capsys):
    """Remark 2 as printed is refuted at beta = 0.25; its correction holds on instances that meet it."""
    code = main(["check", "theorem1", "--claim", "remark2", "--claim", "remark2_corrected", "--examples", "48",
                 "--no-symbolic", "--restarts", "2", "--json"])
    verdict = json.loads(capsys.readouterr().out)
    classes = {c["claim"]: (c["status"], c["class"]) for c in verdict["claims"]}
    assert classes["remark2"] == ("REFUTED", "ERRATUM") and classes["remark2_corrected"][0] == "VERIFIED"
    assert code == 0


# ------------------------------------------------------------------ atomic writes

def test_interrupted_write_leaves_previous_report(collected, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    write_report(collected, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def explode(*args, **kwargs):
        raise RuntimeError("renderer crashed")
    monkeypatch.setattr(render_html_mod, "render_html", explode)     # write_report imports it when it writes
    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_report(collected, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]          # no temporary directory left behind


def test_killed_run_leaves_previous_report(tmp_path):
    """A real process killed while it writes (SIGKILL: no clean-up runs) leaves the old report as it was."""
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.md").write_text("previous report\n")
    script = f"""
import os, signal
from pathlib import Path
from verifier.report import render_html as r, write as w
from verifier.report.results import Results
def kill_midway(*a, **k):
    os.kill(os.getpid(), signal.SIGKILL)      # dies after report.md is written into the temporary directory
r.render_html = kill_midway
w.write_report(Results({json.dumps(_minimal_report())}, []), Path({str(out)!r}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert [p.name for p in out.iterdir()] == ["report.md"]
    assert (out / "report.md").read_text() == "previous report\n"


def _minimal_report() -> dict:
    return {"schema_version": 1, "generated_utc": "", "errata": [], "theorems": [], "proofs": [], "sections": {},
            "status": {"exit_code": 0, "meaning": "ok", "counts": {}, "failed_sections": [], "elapsed_s": 0.0},
            "settings": {"profile": "quick", "seed": 0, "device": "cpu"},
            "environment": {"command": "verifier report", "profile": "quick", "seed": 0, "device": "cpu",
                            "device_name": "cpu", "python": "", "platform": "", "packages": {}, "torch_threads": 1,
                            "ran_on": "this process"}}


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("argv, message", [
    (["report", "--format", "md,pdf"], "unknown format(s) ['pdf']"),
    (["report", "--format", ","], "unknown format(s)"),
])
def test_bad_format_exits_2(capsys, tmp_path, argv, message):
    code = main(argv + ["--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_bad_jobs_exits_2(capsys, tmp_path, jobs):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--jobs", jobs, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--jobs" in err and "whole number" in err and "Traceback" not in err


def test_unwritable_out_exits_2(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    code = main(["report", "--out", str(blocker / "rep")])
    err = capsys.readouterr().err
    assert code == 2 and "not writable" in err
    code = main(["report", "--out", str(blocker)])
    assert code == 2 and "is a file" in capsys.readouterr().err


def test_parse_formats():
    assert parse_formats("json, md") == ("json", "md")
    with pytest.raises(UsageError):
        parse_formats("docx")


# ------------------------------------------------------------------ plots see a wrong closed form

def test_sweep_sees_a_mutant_closed_form():
    """The sweep's |closed form - minimiser| is tiny for Theorem 1 and large when omega drops its sqrt."""
    from theorems.linear_vae import omega
    from verifier.loader import load_spec
    from verifier.figures import theory
    theorem = load_spec("theorem1")
    inst = theory.representative(theorem)
    coarse = np.array([0.3, 1.0])
    insts = [theory.with_hyper(inst, beta=float(b)) for b in coarse]
    measured, certified = theory.minimiser_spectra(theorem, insts, ReportSettings(), restarts=2)
    assert certified.all()
    for spec, small in ((theorem, True), (theorem.replace_closed_form(omega, theorem.closed_form(omega) ** 2), False)):
        closed = theory.closed_forms_over(spec, inst, {"beta": coarse})[omega]
        gap = np.abs(-np.sort(-closed, axis=1) - measured["omega"]).max()
        assert (gap < 1e-6) == small, gap


@pytest.mark.parametrize("name", ["theorem1", "theorem2", "theorem3"])
def test_closed_forms_over_a_sweep_are_instantiates_at_each_value(name):
    """The sweeps and phase diagrams evaluate the closed forms from the per-index inputs alone
    (batch.per_index_inputs): the values instantiate gives at each swept value, with the rest of its work."""
    from verifier.batch import group_by_dims, instantiate
    from verifier.loader import load_spec
    from verifier.figures import theory
    theorem = load_spec(name)
    inst = theory.representative(theorem)
    axis = theory.sweep_hyperparameter(theorem)
    grid = np.array([1e-3, 0.2, 4.0])
    over = theory.closed_forms_over(theorem, inst, {axis: grid})
    for k, value in enumerate(grid):
        batch = instantiate(theorem, group_by_dims(theorem, [theory.with_hyper(inst, **{axis: float(value)})])[0])
        for symbol, values in batch.closed.items():
            assert np.allclose(over[symbol][k], values[0].numpy(), rtol=1e-12, atol=0, equal_nan=True), (symbol, value)
    assert any(not np.array_equal(v[0], v[-1], equal_nan=True) for v in over.values())     # the sweep moves them


def test_collapse_thresholds_where_closed_forms_turn_zero():
    from verifier.figures.theory import collapse_thresholds
    grid = np.array([0.1, 1.0, 10.0])
    values = np.array([[2.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    assert collapse_thresholds(grid, values) == [(1, pytest.approx(np.sqrt(10.0))), (2, pytest.approx(np.sqrt(0.1)))]


def test_phase_axes_follow_the_hyperparameter_names():
    from verifier.loader import load_spec
    from verifier.figures.theory import phase_axes
    assert phase_axes("theorem1", load_spec("theorem1")) == ("beta", "eta_dec")


# ------------------------------------------------------------------ end to end, and the HTML in a browser

def test_cli_end_to_end(capsys, tmp_path, monkeypatch, fake_providers):
    monkeypatch.setattr(run_all_mod, "profile_of", lambda name: TINY)
    monkeypatch.setattr(run_all_mod, "SECTION_PROVIDERS", (f"{fake_providers}:fake",))
    monkeypatch.setattr("verifier.loader.registry", lambda: {"theorem4": "theorems.theorem4_vae_learnable_sigma"})
    monkeypatch.setattr("proofs_check.PROOFS", {"C": __import__("proofs_check").PROOFS["C"]})
    # --jobs 1: the monkeypatched profile and registry live in this process (workers: see the test above)
    code = main(["report", "--out", str(tmp_path / "rep"), "--format", "json,md", "--seed", "3", "--jobs", "1"])
    out, err = capsys.readouterr()
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert code == report["status"]["exit_code"]
    assert [t["theorem"] for t in report["theorems"]] == ["theorem4"]
    assert report["environment"]["seed"] == 3 and "--seed 3" in report["environment"]["command"]
    assert not (tmp_path / "rep" / "report.html").exists()
    assert "theorem4: optimum" in err and "report.json" in out          # progress on stderr, paths on stdout
    jsonschema.validate(report, _schema())


# ------------------------------------------------------------------ what a reader sees

def test_verdicts_in_words_for_any_status():
    from verifier.report import labels
    assert labels.words("VERIFIED") == "verified" and labels.short_words(st.ERRATUM) == "erratum"
    assert labels.colour("NOT APPLICABLE") == labels.NEUTRAL == labels.colour("SOMETHING_NEW")
    assert labels.words("SOMETHING_NEW") == "something new"
    assert labels.overall({"VERIFIED": 3, "ERRATUM": 1, "REFUTED": 0}) == st.ERRATUM
    assert labels.overall({"VERIFIED": 3, "SOMETHING_NEW": 1, "ERRATUM": 1}) == "SOMETHING_NEW"


def test_markdown_escapes_data_text():
    from verifier.report.render_md import escape
    evidence = "member 1 of 3 ((-beta*eta_dec**2)*(beta*I + U.T*U)**(-1) + Sigma_1 = 0) | $x$"
    escaped = escape(evidence)
    assert "**" not in escaped.replace("\\*", "") and "\\|" in escaped and "\\$" in escaped
    assert escaped.replace("\\", "") == evidence


def test_mathml_of_every_claim_erratum_is_well_formed_and_marks_the_difference():
    import xml.etree.ElementTree as ET
    from verifier.loader import load_spec
    from verifier.report.errata import claim_expression
    from verifier.report.mathml import DIFF_CLASS, highlight_difference, to_mathml
    for name in ("theorem1", "theorem3", "appendix_c"):
        theorem = load_spec(name)
        for fix in (c for c in theorem.claims if c.erratum_of):
            printed = next(c for c in theorem.claims if c.name == fix.erratum_of)
            first, second = (to_mathml(claim_expression(theorem, c)) for c in (printed, fix))
            assert first and second, (name, fix.name)
            a, b = highlight_difference(first, second)
            ET.fromstring(a), ET.fromstring(b)
            assert f'class="{DIFF_CLASS}"' in a + b and "(-1)" not in a + b


def test_sweep_range_holds_every_collapse_threshold_of_its_instance():
    """Theorem 2's representative instance collapsed everywhere on [0.1, 10]; the chosen instance has
    thresholds, the range holds them all, and the bisected ones sit where the spec's threshold puts them."""
    from verifier.loader import load_spec
    from verifier.figures import theory
    theorem = load_spec("theorem2")
    inst = theory.sweep_instance(theorem, "beta", seed=0)
    marks = theory._all_thresholds(theorem, inst, "beta")
    lo, hi = theory.sweep_range(marks)
    assert len(marks) >= 2 and all(10 ** lo < m < 10 ** hi for m in marks)
    theorem1 = load_spec("theorem1")
    inst1 = theory.sweep_instance(theorem1, "beta", seed=0)
    grid = np.logspace(*theory.sweep_range(theory._all_thresholds(theorem1, inst1, "beta")), 41)
    from theorems.linear_vae import omega
    closed = theory.closed_forms_over(theorem1, inst1, {"beta": grid})[omega]
    for index, beta in theory.refined_thresholds(theorem1, inst1, "beta", omega, grid, closed):
        below, above = (theory.closed_forms_over(theorem1, inst1, {"beta": np.array([beta * f])})[omega][0, index - 1]
                        for f in (1 - 1e-9, 1 + 1e-9))
        assert below > 0 and above <= theory.ZERO * max(1.0, float(np.abs(closed).max()))


def _reader_report(collected) -> dict:
    """The collected report plus, for the page, a claim erratum (typeset formulas) and evidence with Markdown
    specials: the verdicts are tested above; here what matters is how the page shows them."""
    from verifier.loader import load_spec
    from verifier.report.errata import claim_errata
    report = json.loads(json.dumps(collected.report))
    claims = [dict(c, **{"class": st.ERRATUM if c["claim"] == "remark2" else c["class"]})
              for c in report["theorems"][0]["claims"]]
    report["errata"] = claim_errata(load_spec("theorem1"), claims) + report["errata"]
    report["theorems"][0]["claims"][0]["detail"] = EVIDENCE
    return report


EVIDENCE = "member 1 of 3 ((-beta*eta_dec**2)*(beta*I + U.T*U)**(-1) + Sigma_1 = 0)"


@pytest.mark.skipif(chromium_binary() is None, reason="no chromium binary on PATH (apt-get install chromium)")
def test_html_as_a_reader_sees_it_in_headless_chromium(collected, tmp_path):
    """Formulas typeset (MathML with a layout size), no raw TeX visible, every image loaded, every link
    lands, data text shown literally; screenshots kept under tmp_path/screenshots."""
    pytest.importorskip("websocket")
    from verifier.report.render_html import render_html
    images = {f"{f.name}.png": f.png for s in collected.sections for f in s.figures}     # drawn where computed
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(_reader_report(collected), images), encoding="utf-8")
    with Page(chromium_binary()) as page:
        page.open(page_file.as_uri())
        sizes = page.evaluate("Array.from(document.querySelectorAll('math')).map(m => {"
                              "const r = m.getBoundingClientRect(); return [r.width, r.height]; })")
        inner = page.evaluate("Array.from(document.querySelectorAll('math mfrac, math msqrt'))"
                              ".map(m => m.getBoundingClientRect().width)")
        images_loaded = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        dangling = page.evaluate("Array.from(document.querySelectorAll('a[href^=\"#\"]')).filter(a => "
                                 "!document.getElementById(a.getAttribute('href').slice(1))).length")
        text = visible_text(page)
        shots = page.screenshots(tmp_path / "screenshots", "report")
    print(f"screenshots: {tmp_path / 'screenshots'}")
    assert len(sizes) >= 2 and all(w > 0 and h > 0 for w, h in sizes), sizes
    assert inner and all(w > 0 for w in inner)                 # fractions and roots laid out, not raw text
    assert not RAW_TEX.search(text), RAW_TEX.search(text)
    assert images_loaded and all(images_loaded)
    assert dangling == 0
    assert EVIDENCE in text and "verified" in text and "erratum" in text
    assert shots and all(p.read_bytes().startswith(b"\x89PNG") for p in shots)
