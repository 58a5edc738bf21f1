"""A symbolic and numeric verifier for claimed global minimisers of matrix objectives."""
__version__ = "0.1.0"

from .kernels import request_reproducible

# Before torch computes anything: MKL chooses its kernels at its first call (verifier/kernels.py).
request_reproducible()
