"""The log-density ridge of ``p_t``: frames, residuals, projection, ridge sets and curves.

See ``docs/ridge.md`` and theory.md section 2.
"""

from __future__ import annotations

from .core import Ridge
from .frames import RidgeFrames
from .projection import RidgeProjection
from .sets import RidgeCurve, RidgeSet, RidgeTrace

__all__ = ["Ridge", "RidgeFrames", "RidgeProjection", "RidgeSet", "RidgeCurve",
           "RidgeTrace"]
