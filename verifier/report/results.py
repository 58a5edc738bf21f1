"""What the report renders: the results of a run (``verifier.run_all``), as the renderers take them.

The JSON document (``report``, validated against ``schema.json`` when written) holds every verdict,
count, erratum, timing and section's data; the sections keep their figures, which are not JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .sections import Section

SCHEMA_VERSION = 1


@dataclass
class Results:
    """Everything the renderers need: the JSON document and the figures (not serialisable)."""
    report: dict
    sections: list[Section] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.report["status"]["exit_code"]
