"""Reconstruction methods."""
from .wbp import wbp

__all__ = ["wbp"]
