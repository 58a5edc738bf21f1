"""Where ``--data`` is resolved: ``mnist[:options]`` (``mnist.py``), else ``digits`` or a user's file
(``data.py``)."""
from __future__ import annotations

from . import data, mnist
from .data import Dataset


def load(source: str, task: str = "vae") -> Dataset:
    if mnist.is_mnist(source):
        return mnist.load(source, task)
    return data.load(source, task)
