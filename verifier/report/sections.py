"""The contract between the report and the code that contributes sections to it.

A *provider* is a callable ``ReportSettings -> Section`` named by its dotted path
``"module:function"`` in :data:`SECTION_PROVIDERS`.  It must honour ``settings.profile``
("quick" takes at most a minute or two on 2 CPU cores) and ``settings.seed``, and give the same section
in any process: ``verifier report --jobs N`` calls it in a worker process, imported by that path.  The
renderers place a section's figures after its Markdown body; ``data`` goes into the JSON.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..errors import SpecError, UsageError

if TYPE_CHECKING:                  # matplotlib is imported by the providers that draw, not here
    import matplotlib.figure

PROFILES = ("quick", "thorough")
_FIGURE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class ReportSettings:
    profile: str = "quick"        # "quick" | "thorough"
    seed: int = 0
    device: str = "cpu"           # resolved device, "cpu" or "cuda"

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise UsageError(f"profile={self.profile!r}; use one of {', '.join(PROFILES)}")
        if self.device not in ("cpu", "cuda"):
            raise UsageError(f"device={self.device!r} must be resolved to 'cpu' or 'cuda'")


@dataclass
class Figure:
    name: str                     # file stem, letters/digits/_ only, e.g. "training_vae_kl"
    figure: "matplotlib.figure.Figure | None"
    caption: str
    png: bytes | None = None      # the figure drawn (a section from the evidence cache has only this)

    def __post_init__(self):
        if not _FIGURE_NAME.match(self.name):
            raise SpecError(f"figure name {self.name!r} may use only letters, digits and '_' (it is a file stem)")


@dataclass
class Section:
    key: str                      # JSON key under report["sections"]
    title: str
    markdown: str                 # body in Markdown; figures are placed after it by the renderer
    data: dict                    # JSON-serialisable evidence
    figures: list[Figure] = field(default_factory=list)
    ok: bool = True               # False when something unexpected failed (counts toward the exit status)


# The report's own sections come first; other modules add theirs here.
SECTION_PROVIDERS: tuple[str, ...] = (
    "verifier.figures.theory:closed_form_sweeps",
    "verifier.figures.theory:phase_diagrams",
    "verifier.figures.convergence:convergence_curves",
    "verifier.training.report:training_section",
    "verifier.training.mnist_report:mnist_section",
    "verifier.experiments.variants_section:variants_section",
)

# Sections that train models on data for minutes at the quick profile (docs/benchmarks.md, "Profile of the main
# job"); with worker processes `verifier report` starts them first, and the shorter work fills in beside them.
LONG_RUNNING: tuple[str, ...] = (
    "verifier.training.mnist_report:mnist_section",
    "verifier.training.report:training_section",
)


def load_provider(path: str) -> Callable[[ReportSettings], Section]:
    """Import ``"module:function"``; a malformed or missing path is a SpecError naming it."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise SpecError(f"section provider {path!r} is not of the form 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"section provider {path!r}: cannot import {module_name!r} ({exc})") from exc
    provider = getattr(module, attr, None)
    if not callable(provider):
        raise SpecError(f"section provider {path!r}: {module_name} has no callable {attr!r}")
    return provider
