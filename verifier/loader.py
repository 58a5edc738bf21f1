"""Find and validate a spec: a registered theorem name, or the path of a spec module file."""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import signal
import sys
import threading
from pathlib import Path

from .errors import SpecError, UsageError
from .spec import Theorem


def registry() -> dict[str, str]:
    from theorems import REGISTRY
    return dict(REGISTRY)


def load_spec(name_or_path: str) -> Theorem:
    """Return the ``THEOREM`` of a registered spec (``theorem1``) or of a module file (``my_variant.py``)."""
    reg = registry()
    if name_or_path in reg:
        module = importlib.import_module(reg[name_or_path])
        origin = reg[name_or_path]
    else:
        path = Path(name_or_path)
        if path.suffix != ".py":
            raise UsageError(f"unknown theorem {name_or_path!r}: not a registered name ({', '.join(sorted(reg))}) "
                             f"and not a .py spec module")
        if path.is_dir():
            raise UsageError(f"spec module {name_or_path!r} is a directory, not a .py file")
        if not path.exists():
            raise UsageError(f"spec module {name_or_path!r} does not exist")
        if not path.is_file():
            raise UsageError(f"spec module {name_or_path!r} is not a regular file")
        module = _import_file(path)
        origin = str(path)
    theorem = getattr(module, "THEOREM", None)
    if theorem is None:
        raise SpecError(f"spec module {origin} defines no THEOREM; a spec module must end with "
                        f"THEOREM = Theorem(...) (see the README, 'Adding a theorem')")
    if not isinstance(theorem, Theorem):
        raise SpecError(f"spec module {origin}: THEOREM is a {type(theorem).__name__}, not a verifier.spec.Theorem")
    if name_or_path not in reg and theorem.unnamed_variant:
        # a variant made without name= is named after its file, never after the theorem it varies:
        # its verdicts, replays and report rows then point at this file, not at the registered spec
        theorem = dataclasses.replace(theorem, name=Path(name_or_path).stem)
    return theorem


def spec_file_error(exc: BaseException, spec: str) -> SpecError | None:
    """``exc``, raised while checking the spec module file ``spec``, as a spec error naming the file and
    line, when code of that file raised it (a callable the spec gave, such as an ``OnData`` premise);
    None when the file took no part (a registered name, or the verifier's own code)."""
    path = Path(spec)
    if path.suffix != ".py" or not path.is_file():
        return None
    line = _failing_line(exc, path)
    if not line:
        return None
    return SpecError(f"spec module {path}{line} raised {type(exc).__name__}: {exc} while the verifier ran "
                     f"the code the spec gave it; fix that code (the verifier calls it on every instance)")


# A spec module builds sympy expressions and a Theorem: seconds.  One still importing after this
# long is stuck (a loop, a wait for input), and is reported as a spec error, not waited for.
SPEC_IMPORT_SECONDS = 120


class _ImportTimeLimit(BaseException):
    """Raised in the importing thread when the import time limit passes (BaseException: a spec's
    ``except Exception`` does not hide it)."""


@contextlib.contextmanager
def _import_time_limit(seconds: float):
    """A wall-clock limit on the body, from the main thread of a platform with interval timers."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _ImportTimeLimit()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _folder_on_import_path(folder: Path):
    """``folder`` first on ``sys.path`` while the body runs, so that a spec module imports its siblings
    (``from my_model import MODEL``) as a script would; ``sys.path`` is restored afterwards.  A sibling
    imported meanwhile stays in ``sys.modules`` under its own name, as any imported module does."""
    entry = str(folder.resolve())
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)        # this entry only: the first equal one is the one inserted above


def _import_file(path: Path):
    name = f"_verifier_spec_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _import_time_limit(SPEC_IMPORT_SECONDS), _folder_on_import_path(path.parent):
            spec.loader.exec_module(module)
    except _ImportTimeLimit:
        sys.modules.pop(name, None)
        raise SpecError(f"spec module {path} did not finish importing within {SPEC_IMPORT_SECONDS} s "
                        f"(a spec module only defines THEOREM; does it loop or wait for input?)") from None
    except (SystemExit, KeyboardInterrupt) as exc:   # a spec may not end or interrupt the verifier
        sys.modules.pop(name, None)
        what = (f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit)
                else "raised KeyboardInterrupt")
        raise SpecError(f"spec module {path}{_failing_line(exc, path)} {what} while importing; a spec module "
                        f"only defines THEOREM = Theorem(...)") from None
    except SpecError as exc:   # say which file and line built the malformed spec
        raise SpecError(f"spec module {path}{_failing_line(exc, path).rstrip(',')}: {exc}") from exc
    except Exception as exc:   # a spec module that fails to import is a malformed spec, not a crash
        hint = " (a name the spec uses is neither defined nor imported)" if isinstance(exc, NameError) else ""
        raise SpecError(f"spec module {path}{_failing_line(exc, path)} failed to import: "
                        f"{type(exc).__name__}: {exc}{hint}") from exc
    return module


def _failing_line(exc: BaseException, path: Path) -> str:
    """', line N,' of the spec file where ``exc`` was raised (the user's line, not the engine's): the
    innermost frame of the traceback in that file, '' when none is."""
    import traceback
    target = str(path.resolve())
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if str(Path(f.filename).resolve()) == target]
    return f", line {lines[-1]}," if lines else ""
