"""Reconstruction methods."""
from .sirt import SirtResult, sirt
from .wbp import WINDOWS, wbp

__all__ = ["SirtResult", "sirt", "WINDOWS", "wbp"]
