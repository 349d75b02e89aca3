"""ridgetheory: the ridge-manifold theory of diffusion-model generalization, executable.

The public API is listed here explicitly; see ``docs/`` for one page per concept. The
submodules ``symbolic`` (sympy), ``plotting`` (matplotlib), ``nn`` and ``datasets`` (torch,
MNIST) are imported on demand: ``import ridgetheory.symbolic``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import conventions, grids, injected, measure, predict
from ._checks import PredictionWarning, RidgeTheoryError, RidgeWarning
from ._warmup import warmup
from .backend import BackendUnavailable, backend_status
from .densities import GaussianMixture, SmoothedEmpirical
from .error_profile import ErrorProfile, error_profile
from .injected import InjectedError
from .processes import OU, VE, AbstractProcess, VPCosine, VPLinear
from .protocol import AbstractDensity, AbstractScoreModel
from .random_features import RandomFeatureFit, RandomFeatureModel, RandomFeatureScore
from .ridge import Ridge, RidgeCurve, RidgeFrames, RidgeProjection, RidgeSet, RidgeTrace
from .simulate import Trajectories, compare_backends, sample_pt, simulate
from .sweeps import load_sweep, sweep

try:
    __version__ = version("ridgetheory")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    # foundation
    "grids",
    "conventions",
    "RidgeTheoryError",
    "BackendUnavailable",
    "backend_status",
    "AbstractProcess",
    "OU",
    "VPLinear",
    "VPCosine",
    "VE",
    "AbstractScoreModel",
    "AbstractDensity",
    "SmoothedEmpirical",
    "GaussianMixture",
    # ridge engine
    "Ridge",
    "RidgeFrames",
    "RidgeProjection",
    "RidgeSet",
    "RidgeCurve",
    "RidgeTrace",
    "RidgeWarning",
    # random-feature model and error profiles
    "RandomFeatureModel",
    "RandomFeatureFit",
    "RandomFeatureScore",
    "error_profile",
    "ErrorProfile",
    # integrators
    "simulate",
    "Trajectories",
    "sample_pt",
    "compare_backends",
    # predictions and measurements
    "predict",
    "measure",
    "InjectedError",
    "injected",
    "PredictionWarning",
    # parameter sweeps (Dask, extra "sweep")
    "sweep",
    "load_sweep",
    # numba kernels compiled ahead of first use (CLI: ridgetheory warmup)
    "warmup",
]
