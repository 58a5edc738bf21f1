"""``verifier report``: every registered theorem, every proof step and every report section,
collected once and written as Markdown, self-contained HTML and schema-validated JSON.

collect.py (run the checks) -> status.py (exit status, errata) -> plots/sections -> render_*.py -> write.py
"""
