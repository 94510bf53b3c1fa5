"""Coordinate networks (fields) for INR reconstruction: encodings and networks."""
from .encodings import FourierFeatures, HashGrid, PositionalEncoding
from .field import FIELDS, LEARNING_RATES, Field, Siren, make_field
from .spacetime import DYNAMIC_MODELS, Decomposed, SpaceTime, make_spacetime_field

__all__ = ["DYNAMIC_MODELS", "Decomposed", "SpaceTime", "make_spacetime_field", "FIELDS", "LEARNING_RATES", "Field", "Siren", "make_field", "FourierFeatures", "HashGrid", "PositionalEncoding"]
