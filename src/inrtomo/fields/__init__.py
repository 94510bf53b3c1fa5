"""Coordinate networks (fields) for INR reconstruction: encodings and networks."""
from .encodings import FourierFeatures, HashGrid, PositionalEncoding
from .field import FIELDS, LEARNING_RATES, Field, Siren, make_field

__all__ = ["FIELDS", "LEARNING_RATES", "Field", "Siren", "make_field", "FourierFeatures", "HashGrid", "PositionalEncoding"]
