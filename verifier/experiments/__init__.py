"""Experiments beyond the paper's theorems: studies whose evidence is numeric (and symbolic where it decides)."""
