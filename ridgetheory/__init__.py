"""ridgetheory: the ridge-manifold theory of diffusion-model generalization, executable.

The public API is listed here explicitly; see ``docs/`` for one page per concept.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import grids
from ._checks import RidgeTheoryError
from .backend import BackendUnavailable, backend_status
from .densities import GaussianMixture, SmoothedEmpirical
from .processes import OU, VE, AbstractProcess, VPCosine, VPLinear
from .protocol import AbstractDensity, AbstractScoreModel

# --- ridge engine (issue 3) ---
from .ridge import Ridge, RidgeCurve, RidgeFrames, RidgeProjection, RidgeSet
# --- random-feature model (issue 5) ---
from .error_profile import ErrorProfile, error_profile
from .random_features import RandomFeatureFit, RandomFeatureModel, RandomFeatureScore
# --- integrators (issue 6) ---
from .simulate import Trajectories, compare_backends, sample_pt, simulate
# --- predictions (issue 7) ---
from . import measure, predict
from .injected import InjectedError

try:
    __version__ = version("ridgetheory")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "grids",
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
    # --- ridge engine (issue 3) ---
    "Ridge",
    "RidgeFrames",
    "RidgeProjection",
    "RidgeSet",
    "RidgeCurve",
    # --- random-feature model (issue 5) ---
    "RandomFeatureModel",
    "RandomFeatureFit",
    "RandomFeatureScore",
    "error_profile",
    "ErrorProfile",
    # --- integrators (issue 6) ---
    "simulate",
    "Trajectories",
    "sample_pt",
    "compare_backends",
    # --- predictions (issue 7) ---
    "predict",
    "measure",
    "InjectedError",
]
