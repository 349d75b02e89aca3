"""Exact sympy derivations of the objects of theory.md, and numpy functions made from them.

* :class:`SymbolicDensity` -- ``log p_t``, score, Hessian, denoiser and posterior covariance of
  a small configuration with exact or symbolic coordinates;
* :func:`critical_times` -- when a symmetric critical point enters or leaves a ridge;
* :class:`ReducedRidgeDynamics` -- the exact one-dimensional sampler dynamics along a straight
  ridge (collinear points) and the linear normal-moment equations (theory.md section 4);
* :func:`zero_simplify` -- a fast zero test for exponential-polynomial expressions;
* :mod:`ridgetheory.symbolic.moments` -- derivations of the Gaussian ReLU moments that
  :mod:`ridgetheory.gaussian_moments` evaluates.

See ``docs/symbolic.md``.
"""

from __future__ import annotations

from . import moments
from ._common import zero_simplify
from .critical import critical_times
from .density import LambdifiedDensity, SymbolicDensity
from .reduced import ReducedRidgeDynamics

__all__ = [
    "SymbolicDensity",
    "LambdifiedDensity",
    "critical_times",
    "ReducedRidgeDynamics",
    "moments",
    "zero_simplify",
]
