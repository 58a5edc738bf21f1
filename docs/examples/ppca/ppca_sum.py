"""A wrong variant of ppca.py: s2_ML written as the *sum* of the discarded eigenvalues, (D - q) times their
mean (a closed form that uses the dimensions).  Imports its sibling ppca.py (the loader puts this folder on
the import path)."""
from ppca import D0, THEOREM as BASE, discarded_mean, q, s2_ml

THEOREM = BASE.replace_closed_form(s2_ml, (D0 - q) * discarded_mean, name="ppca_sum")
