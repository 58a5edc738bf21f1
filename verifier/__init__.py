"""A symbolic and numeric verifier for claimed global minimisers of matrix objectives."""
__version__ = "0.1.0"
