"""The report renders results; it does not compute them: ``verifier.report`` imports none of the engine
(instantiation, minimiser, checks, search, symbolic checks, studies), so every check it shows was run by
``verifier.run_all``, above it."""
import ast
from importlib import resources

# What the report may take from the rest of the project: the statuses, the errors, the spec's claim kinds
# (the errata print a claim's expression), and the one device resolution every command shares.
ALLOWED = {"verifier.status": None, "verifier.errors": None, "verifier.spec": None,
           "verifier.pipeline": {"resolve_device"}}


def _project_imports(source: str, package: str):
    """(module, names) for each import of a verifier module outside ``package`` (at any depth of the code)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [module]).rstrip(".")
            names = {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            yield from ((a.name, set()) for a in node.names if a.name.startswith("verifier."))
            continue
        else:
            continue
        if module.startswith("verifier") and not module.startswith(package):
            yield module, names


def test_the_report_package_imports_no_engine_module():
    files = [f for f in resources.files("verifier.report").iterdir() if f.name.endswith(".py")]
    assert len(files) > 5
    found = {}
    for f in files:
        for module, names in _project_imports(f.read_text(), "verifier.report"):
            allowed = ALLOWED.get(module, set())
            if module not in ALLOWED or (allowed is not None and not names <= allowed):
                found.setdefault(f.name, []).append(f"{module}: {sorted(names)}")
    assert not found, f"verifier.report imports engine modules: {found}"


def test_the_check_sees_an_engine_import():
    assert list(_project_imports("from ..pipeline import Pipeline\n", "verifier.report")) == \
        [("verifier.pipeline", {"Pipeline"})]
    assert list(_project_imports("def f():\n    from ..verdicts import check_theorem\n", "verifier.report")) == \
        [("verifier.verdicts", {"check_theorem"})]
    assert list(_project_imports("from .labels import words\n", "verifier.report")) == []
