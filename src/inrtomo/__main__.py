"""``python -m inrtomo`` is the same program as ``inrtomo``."""
from .cli import run

run()
