"""Reverse-time integrators at scale: ``simulate`` and its parts.

* :func:`simulate` -- the entry point (``api.py``; its arguments are checked into a
  ``RunPlan`` by ``plan.py``);
* :class:`Trajectories` -- its result;
* :func:`sample_pt` -- exact samples of ``p_t`` for tests;
* ``schemes`` -- one file per scheme and the registry ``SCHEMES``;
* ``noise`` -- counter-based normals shared by all backends;
* ``runner`` -- one runner per backend (``runner_numpy``, ``runner_numba``, ``runner_cupy``),
  registered in ``RUNNERS``;
* ``spec`` -- which fused kernel runs a score (its ``fused_kernel``) and the named inputs
  of each kernel;
* ``kernels_numba`` / ``kernels_cupy`` -- thin fused kernels mirroring the numpy reference.

See docs/integrators.md.
"""

from .api import compare_backends, simulate
from .sampling import sample_pt
from .schemes import (
    SCHEMES,
    AbstractScheme,
    EulerMaruyama,
    EulerODE,
    ExponentialIntegrator,
    HeunODE,
    register_scheme,
)
from .trajectories import Trajectories

__all__ = [
    "simulate",
    "compare_backends",
    "Trajectories",
    "sample_pt",
    "SCHEMES",
    "AbstractScheme",
    "register_scheme",
    "EulerMaruyama",
    "ExponentialIntegrator",
    "EulerODE",
    "HeunODE",
]
