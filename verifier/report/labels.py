"""What both renderers say the same way: a verdict in words and its colour, a theorem's overall verdict,
and the anchors that link the summary, the errata, the claims and the proof steps.

A verdict is any status string the report carries (``status.py``'s classes, and whatever a check
adds later): a known one has its words and colour here, an unknown one is shown in its own words,
neutral.
"""
from __future__ import annotations

import difflib
import re

from ..status import most_severe
from . import status as st

# status -> (words, colour); colours are distinguishable for the common colour-vision deficiencies.
_KNOWN = {
    st.VERIFIED: ("verified", "#1a7f37"),
    st.ERRATUM: ("erratum: printed form refuted, correction verified", "#b35900"),
    st.REFUTED: ("refuted", "#c62828"),
    st.INCONCLUSIVE: ("inconclusive", "#6f42c1"),
    st.UNBOUNDED: ("unbounded: outside the model's validity domain, no minimum to judge", "#6e7781"),
    st.SPEC_ERROR: ("spec error: could not be checked", "#c62828"),
    st.INTERNAL_ERROR: ("internal error: the check crashed", "#c62828"),
    st.NOT_APPLICABLE: ("not applicable: no instance met its premise", "#6e7781"),
}
NEUTRAL = "#6e7781"
# The registered theorem each proof of ``proofs_check`` proves (Appendix C derives ``appendix_c``'s identities).
THEOREM_OF_PROOF = {"C": "appendix_c", "D.1": "theorem1", "D.2": "theorem4", "E": "theorem2", "F.1": "theorem3",
                    "F.2": "theorem5"}
# A Markdown reader on a code host sees no CSS: a coloured mark stands for the colour.
_MARKDOWN_MARK = {"#1a7f37": "🟢", "#b35900": "🟠", "#c62828": "🔴", "#6f42c1": "🟣", NEUTRAL: "⚪"}


def words(status: str) -> str:
    """``"VERIFIED"`` -> ``"verified"``; an unknown status in its own words (``"NEW_KIND"`` -> ``"new kind"``)."""
    known = _KNOWN.get(status)
    return known[0] if known else str(status).replace("_", " ").lower()


def short_words(status: str) -> str:
    """The verdict's first words, for a table cell (``"erratum"``, ``"not applicable"``)."""
    return words(status).split(":")[0]


def counts_text(counts: dict) -> str:
    """``{"VERIFIED": 3, "ERRATUM": 1}`` -> ``"3 verified, 1 erratum"``."""
    return ", ".join(f"{v} {short_words(k)}" for k, v in counts.items() if v) or "none"


def colour(status: str) -> str:
    known = _KNOWN.get(status)
    return known[1] if known else NEUTRAL


def markdown_mark(status: str) -> str:
    return _MARKDOWN_MARK.get(colour(status), "⚪")


def overall(counts: dict) -> str:
    """The verdict of a theorem or proof from its counts per status: the most severe one present
    (``verifier.status``'s order; an unknown status ranks after INCONCLUSIVE)."""
    return most_severe((s for s, n in counts.items() if n), default=st.NOT_APPLICABLE)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def theorem_anchor(theorem: str) -> str:
    return f"theorem-{_slug(theorem)}"


def claim_anchor(theorem: str, claim: str) -> str:
    return f"claim-{_slug(theorem)}-{_slug(claim)}"


def proof_anchor(proof: str) -> str:
    return f"proof-{_slug(proof)}"


def step_anchor(proof: str, index: int) -> str:
    """A proof step by its position (several steps may share an equation label)."""
    return f"step-{_slug(proof)}-{index}"


def erratum_anchor(number: int) -> str:
    return f"erratum-{number}"


def section_anchor(key: str) -> str:
    return f"section-{_slug(key)}"


def changed_tokens(first: str, second: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Two statements as (token, changed) lists: words and symbols aligned by difflib, so that a reader
    sees where the corrected statement differs from the printed one."""
    a, b = _TOKEN.findall(first), _TOKEN.findall(second)
    marks_a, marks_b = [True] * len(a), [True] * len(b)
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            marks_a[block.a + k] = marks_b[block.b + k] = False
    return list(zip(a, marks_a)), list(zip(b, marks_b))


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def related_steps(report: dict, erratum: dict) -> list[tuple[str, int, str]]:
    """The proof steps an erratum is about, as (proof, step index, equation): a proof step's erratum its
    own step; a claim's erratum the steps of its theorem's proof whose equation label the claim's
    location or corrected statement names ("Remark 2", "(47)")."""
    if erratum["kind"] == "proof_step":
        proof = erratum["source"].removeprefix("proof ")
        return [(proof, erratum["step"], erratum["name"])] if "step" in erratum else []
    text = f"{erratum['location']} {erratum['corrected']}"
    out = []
    for p in report["proofs"]:
        if THEOREM_OF_PROOF.get(p["proof"]) != erratum["source"]:
            continue
        for k, s in enumerate(p["steps"]):
            if re.search(rf"(?<![\w(]){re.escape(s['equation'])}(?![\w)])", text):
                out.append((p["proof"], k, s["equation"]))
    return out


# ---------------------------------------------------------------- where a result came from (the evidence cache)

def from_cache(entry: dict) -> bool:
    """Whether a theorem's, proof's or section's result (a section: its data) was taken from the evidence cache."""
    return str(entry.get("evidence_source", "")).startswith("cached")


def evidence_source_text(entry: dict) -> str | None:
    """``"result cached (key ..., computed ...); symbolic evidence computed (...)"``, or None for a result that
    says nothing of it."""
    parts = [f"{what} {entry[field]}" for what, field in (("result", "evidence_source"),
                                                          ("symbolic evidence", "symbolic_evidence"),
                                                          ("minimisations", "minimiser_evidence"))
             if entry.get(field)]
    return "; ".join(parts) or None


def time_text(entry: dict) -> str:
    """A result's time in the summary; a cached one's is that of the run that computed it, and says so."""
    return f"{entry['elapsed_s']:.1f}" + (" (cached)" if from_cache(entry) else "")


def cache_summary(status: dict) -> str | None:
    """The summary's sentence on the evidence cache, where any result came from it."""
    n = status.get("from_cache", 0)
    if not n:
        return None
    return (f"{n} result(s) were taken from the evidence cache, unchanged since they were computed (each says so "
            f"below); verifier report --no-cache computes everything afresh.")
