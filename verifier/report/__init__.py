"""``verifier report``: every registered theorem, every proof step and every report section,
written as Markdown, self-contained HTML and schema-validated JSON.

The checks are run by ``verifier.run_all`` (the orchestration, above this package), which returns
``results.Results``; this package classifies (status.py, errata.py) and renders them
(labels.py, mathml.py, render_*.py, write.py).  ``sections.py`` is the contract of the sections
other packages contribute (``verifier.figures``, ``verifier.training``, ``verifier.experiments``).
"""
