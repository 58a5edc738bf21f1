"""Formulas for the HTML report as presentation MathML (sympy's printer; Chromium and Firefox render it
natively, with no script and no network), and the highlighting of where two formulas differ.

sympy 1.14's presentation printer writes a matrix product's scalar coefficient factor by factor
("(-1) 1/beta1 beta2 eta^2 I"), writes ``<`` and ``>`` of a relation unescaped and a zero matrix as a
malformed entity; the printer below writes the coefficient as one fraction with its sign in front,
escapes the relations and writes a zero matrix as 0.
"""
from __future__ import annotations

import difflib
import html.entities
import re
import xml.etree.ElementTree as ET

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE

DIFF_CLASS = "diff"                 # the CSS class of a subtree that differs from its counterpart
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


class _Printer(MathMLPresentationPrinter):
    def _print_MatMul(self, expr):
        scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
        matrices = [a for a in expr.args if getattr(a, "is_Matrix", False)]
        coeff = sp.Mul(*scalars)
        row = self.dom.createElement("mrow")
        if coeff.could_extract_minus_sign():
            row.appendChild(self._operator("-"))
            coeff = -coeff
        factors = ([coeff] if coeff != 1 else []) + matrices
        for k, factor in enumerate(factors):
            if k:
                row.appendChild(self._operator("&InvisibleTimes;"))
            row.appendChild(self.parenthesize(factor, PRECEDENCE["Mul"], True))
        return row

    def _print_Relational(self, e):
        row = self.dom.createElement("mrow")
        row.appendChild(self._print(e.lhs))
        tag = self.mathml_tag(e)
        row.appendChild(self._operator({"<": "&lt;", ">": "&gt;"}.get(tag, tag)))
        row.appendChild(self._print(e.rhs))
        return row

    def _print_ZeroMatrix(self, expr):          # sympy writes "&#x1D7D8" (no ";"); the paper writes 0
        mn = self.dom.createElement("mn")
        mn.appendChild(self.dom.createTextNode("0"))
        return mn

    def _operator(self, text: str):
        mo = self.dom.createElement("mo")
        mo.appendChild(self.dom.createTextNode(text))
        return mo


def _numeric_entities(text: str) -> str:
    """Named entities (&InvisibleTimes;) as numeric ones, which any XML parser reads."""
    def one(m):
        char = html.entities.html5.get(m.group(1) + ";")
        return f"&#x{ord(char):X};" if char and len(char) == 1 else m.group(0)
    return _NAMED_ENTITY.sub(one, text)


def to_mathml(expr) -> str | None:
    """``<math display="block">…</math>`` for a sympy expression; None where the printer has a gap."""
    if expr is None:
        return None
    try:
        body = _numeric_entities(_Printer().doprint(expr))
        ET.fromstring(f"<math>{body}</math>")             # well-formed, or not used
    except Exception:                                       # noqa: BLE001 - the plain statement stays
        return None
    return f'<math display="block">{body}</math>'


def _mark(node: ET.Element) -> None:
    node.set("class", DIFF_CLASS)


def _diff(a: ET.Element, b: ET.Element) -> None:
    """Mark in place the smallest subtrees of ``a`` and ``b`` that differ (children aligned by difflib)."""
    if a.tag != b.tag or (a.text or "").strip() != (b.text or "").strip():
        _mark(a), _mark(b)
        return
    ka, kb = list(a), list(b)
    keys = difflib.SequenceMatcher(None, [ET.tostring(x) for x in ka], [ET.tostring(x) for x in kb],
                                   autojunk=False)
    for op, i1, i2, j1, j2 in keys.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for x, y in zip(ka[i1:i2], kb[j1:j2]):
                _diff(x, y)
            continue
        for x in ka[i1:i2] + kb[j1:j2]:            # inserted or deleted children: marked where they are
            _mark(x)


def highlight_difference(first: str, second: str) -> tuple[str, str]:
    """The two ``<math>`` strings with ``class="diff"`` on the parts where they differ."""
    a, b = ET.fromstring(first), ET.fromstring(second)
    _diff(a, b)
    return (ET.tostring(a, encoding="unicode", short_empty_elements=False),
            ET.tostring(b, encoding="unicode", short_empty_elements=False))
