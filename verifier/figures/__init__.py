"""The report's own figure sections: the theory made visible and the minimiser's convergence.

Section providers (``verifier.report.sections``), as ``verifier.training.report`` and
``verifier.experiments.variants_section`` are: each computes its figures (closed-form sweeps with the
certified minimiser on top, phase diagrams, Adam against the minimiser) and returns a ``Section``
that the report renders.

* ``theory.py``: ``closed_form_sweeps`` and ``phase_diagrams``, generic over the registered theorems;
* ``convergence.py``: ``convergence_curves``, D_MA of plain Adam (the paper's way) beside the minimiser's;
* ``examples.py``: representative instances to draw (not for verification);
* ``plots.py``: the matplotlib figures (Agg backend).
"""
