"""The on-disk evidence cache: results that are deterministic given their inputs, kept between runs.

The symbolic checks of a theorem's closed forms, and in ``verifier report`` whole theorem, proof and
section results, depend only on what they are computed from: the spec's content, the seed and
settings, the versions of the libraries and the verifier's own source.  Each result is stored under
a key that is a SHA-256 digest of all of these (:func:`key`), so an unchanged spec reruns in seconds
while a changed closed form, an upgrade or an edited source file is a miss and is recomputed --
never a stale result.  A spec's content is its :func:`fingerprint`: its sympy expressions as
``srepr``, its functions by the source of their modules, never the path it was loaded from.

Like Hypothesis's example database, the cache is a directory in the working directory,
``.verifier-cache/`` (``VERIFIER_CACHE_DIR`` overrides it), one JSON file per entry (JSON, not pickle:
reading an entry runs no code).  Writes are atomic (a temporary file, then ``os.replace``); an
unreadable or corrupt entry is ignored with one warning line on stderr and recomputed; a missing
directory is created, and one that cannot be written (read-only) leaves the run uncached, with one
warning, never broken.  ``--no-cache`` gives :data:`DISABLED`, which neither reads nor writes.
"""
from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import inspect
import json
import os
import sys
import tempfile
import types
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

CACHE_DIR_VARIABLE = "VERIFIER_CACHE_DIR"
DEFAULT_DIR = ".verifier-cache"
FORMAT = 1                            # of an entry's file; part of every key
# The distributions whose versions a cached result depends on (the engine's numerics and the report's data).
LIBRARIES = ("vae-theorem-verifier", "sympy", "mpmath", "numpy", "scipy", "torch", "hypothesis", "cvxpy",
             "scikit-learn", "mlxtend", "matplotlib")
PROJECT_PACKAGES = ("verifier", "theorems", "proofs_check")
ENGINE_PACKAGES = ("verifier",)       # the engine alone: a result whose spec is keyed by its own content


class Unfingerprintable(TypeError):
    """A spec holds an object whose content cannot be stated (and so cannot be keyed): it is not cached."""


# ---------------------------------------------------------------- keys

def key(**parts) -> str:
    """The cache key of a result computed from ``parts`` (JSON values and :func:`fingerprint` strings)."""
    text = json.dumps({"format": FORMAT, **parts}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def library_versions(names=LIBRARIES) -> dict[str, str | None]:
    """The installed version of each distribution (None where it is not installed), and Python's."""
    versions = {"python": sys.version.split()[0]}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@functools.cache
def source_digest(packages: tuple[str, ...] = PROJECT_PACKAGES) -> str:
    """A digest of every Python source file of the given packages of this project (the code that computes a
    cached result: a changed file changes it).  Read once per process."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(__file__).resolve().parent.parent / package
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def engine_parts() -> dict:
    """The key parts of a result computed by the engine from content keyed apart (a model, a face's function):
    the libraries' versions and the engine's source.  Read once per process."""
    return {"versions": library_versions(), "source": source_digest(ENGINE_PACKAGES)}


def fingerprint(obj) -> str:
    """A canonical text of ``obj``'s content: equal for equal specs in any process, different when any
    expression, number, string or function source in it differs.  Raises :class:`Unfingerprintable`."""
    return json.dumps(_canonical(obj, ()), sort_keys=True, separators=(",", ":"))


def _canonical(obj, stack: tuple[int, ...]):
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return ["float", repr(obj)]
    if id(obj) in stack:                               # a function reaching itself through its closure
        return ["cycle"]
    stack = (*stack, id(obj))
    if isinstance(obj, enum.Enum):
        return ["enum", _named(type(obj)), obj.name]
    if type(obj).__module__.split(".")[0] == "sympy":
        import sympy
        return ["sympy", sympy.srepr(obj)]
    if isinstance(obj, (tuple, list)):
        return [type(obj).__name__, [_canonical(x, stack) for x in obj]]
    if isinstance(obj, (set, frozenset)):
        return ["set", sorted(json.dumps(_canonical(x, stack), sort_keys=True) for x in obj)]
    if isinstance(obj, dict):
        return ["dict", sorted([json.dumps(_canonical(k, stack), sort_keys=True), _canonical(v, stack)]
                               for k, v in obj.items())]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return ["dataclass", _named(type(obj)),
                {f.name: _canonical(getattr(obj, f.name), stack) for f in dataclasses.fields(obj)}]
    if isinstance(obj, functools.partial):
        return ["partial", _canonical(obj.func, stack), _canonical(obj.args, stack),
                _canonical(obj.keywords, stack)]
    if isinstance(obj, types.MethodType):
        return ["method", _canonical(obj.__func__, stack), _canonical(obj.__self__, stack)]
    if isinstance(obj, types.FunctionType):
        cells = [c.cell_contents for c in obj.__closure__ or () if _filled(c)]
        return ["function", _named(obj), _canonical(obj.__defaults__, stack),
                _canonical(obj.__kwdefaults__, stack), _canonical(cells, stack)]
    if isinstance(obj, (type, types.BuiltinFunctionType)):
        return ["named", _named(obj)]
    raise Unfingerprintable(f"{type(obj).__module__}.{type(obj).__qualname__} has no stated content")


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:                                 # a cell not yet assigned
        return False
    return True


def _named(obj) -> list:
    """A function or class by its name and the content of the file that defines it -- not by its module's
    name, which for a spec file loaded from a path is made from the path."""
    return [getattr(obj, "__qualname__", getattr(obj, "__name__", "?")), _module_source(obj)]


@functools.cache
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _module_source(obj) -> str | None:
    """The digest of the source file that defines ``obj``, the whole file, since a function's behaviour also
    depends on the helpers beside it; for a function generated at run time (Hypothesis's ``@composite``
    wrappers, compiled from a string) the digest of its code object (what it wraps is in its closure); None
    for a compiled library's object, whose version is in the key."""
    try:
        path = inspect.getsourcefile(obj)
    except TypeError:                                  # built-in
        return None
    if path is not None and os.path.isfile(path):
        return _file_digest(path)
    code = getattr(obj, "__code__", None)
    if code is None:
        return None
    return hashlib.sha256(code.co_code + repr((code.co_names, code.co_varnames, code.co_consts)).encode()).hexdigest()


# ---------------------------------------------------------------- the store

def warn(message: str) -> None:
    """One warning line on stderr (an entry that cannot be read or used, a cache that cannot be written)."""
    print(f"verifier: warning: {message}", file=sys.stderr)


class EvidenceCache:
    """JSON entries under ``directory/KIND/KEY.json``."""

    def __init__(self, directory: Path | str | None):
        self.directory = None if directory is None else Path(directory)
        self._unwritable = False                       # warned once; later writes are skipped quietly

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _path(self, kind: str, entry_key: str) -> Path:
        return self.directory / kind / f"{entry_key}.json"

    def get(self, kind: str, entry_key: str):
        """The stored value, or None (no entry, the cache disabled, or an entry that cannot be read)."""
        if not self.enabled:
            return None
        path = self._path(kind, entry_key)
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):     # no such entry, or no cache directory at all
            return None
        except (OSError, UnicodeDecodeError) as exc:
            warn(f"cache entry {path} cannot be read ({exc}); recomputing it")
            return None
        try:
            entry = json.loads(text)
            if entry["format"] != FORMAT or entry["key"] != entry_key or entry["kind"] != kind:
                raise ValueError("it belongs to another key")
            return entry["value"]
        except (ValueError, KeyError, TypeError) as exc:
            warn(f"cache entry {path} is corrupt ({type(exc).__name__}: {exc}); recomputing it")
            return None

    def put(self, kind: str, entry_key: str, value) -> bool:
        """Store ``value`` (JSON) atomically; False where it could not be written (warned once)."""
        if not self.enabled or self._unwritable:
            return False
        path = self._path(kind, entry_key)
        try:
            text = json.dumps({"format": FORMAT, "kind": kind, "key": entry_key,
                               "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "value": value}, allow_nan=False)
        except (TypeError, ValueError) as exc:         # not plain JSON (a non-finite number, an object)
            warn(f"a {kind} result is not plain JSON ({exc}); it is not cached")
            return False
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{entry_key[:16]}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
            return True
        except OSError as exc:
            self._unwritable = True
            warn(f"the evidence cache {self.directory} cannot be written ({exc.strerror or exc}); "
                  f"this run's results are not cached")
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return False


DISABLED = EvidenceCache(None)


def default_cache(enabled: bool = True) -> EvidenceCache:
    """The cache of the working directory (``VERIFIER_CACHE_DIR`` where set), or :data:`DISABLED`."""
    if not enabled:
        return DISABLED
    return EvidenceCache(os.environ.get(CACHE_DIR_VARIABLE) or DEFAULT_DIR)


def short(entry_key: str) -> str:
    """A key as the report shows it."""
    return entry_key[:12]
