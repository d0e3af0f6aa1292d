"""instdet: frame-level musical instrument activity detection on the AAM dataset."""

from instdet.errors import InstdetError

__all__ = ["InstdetError", "__version__"]
__version__ = "0.1.0"
