"""Simulated tilt series with exact projections (no inverse crime)."""
from .acquire import Acquisition, Simulation, simulate
from .phantoms import CONTAMINATION, PHANTOMS, Phantom, contaminate, make_phantom
from .shapes import Shape, box, cylinder, ellipsoid, faceted

__all__ = [
    "Acquisition", "Simulation", "simulate", "CONTAMINATION", "PHANTOMS", "Phantom", "contaminate", "make_phantom",
    "Shape", "box", "cylinder", "ellipsoid", "faceted",
]
